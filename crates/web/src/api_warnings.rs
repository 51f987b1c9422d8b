//! `/api/v1/warnings`, `/api/v1/hot-issues`, `/api/v1/forecast`: early warnings (预警) and
//! their handling, the hot issues of recent tickets (热点), the volume forecast (预测).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use mashangban_app::warnings::Warning;
use mashangban_app::warnings::{LiveHotIssue, VolumeForecast};
use mashangban_app::{App, AppError};
use mashangban_domain::Actor;
use mashangban_domain::forecast::ForecastRules;
use mashangban_domain::warning::WarningStatus;
use std::collections::HashMap;

use crate::api::{Authed, json_body};
use crate::error::ApiError;

fn parse_id(raw: &str) -> Result<i64, AppError> {
    raw.parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| AppError::NotFound(format!("warning {raw} not found")))
}

fn number<T>(
    q: &HashMap<String, String>,
    name: &str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, AppError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    match q.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => match v.parse::<T>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(AppError::invalid(
                name,
                format!(
                    "`{v}` must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            )),
        },
    }
}

pub(crate) fn status_param(q: &HashMap<String, String>) -> Result<Option<WarningStatus>, AppError> {
    match q.get("status").map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None | Some("all") => Ok(None),
        Some(s) => WarningStatus::parse(s).map(Some).ok_or_else(|| {
            AppError::invalid(
                "status",
                format!("`{s}` is not a status; use open, acknowledged, dismissed or all"),
            )
        }),
    }
}

/// `GET /api/v1/warnings?status=open|acknowledged|dismissed|all&limit=100`: warnings, the
/// most recently found first.
pub async fn list(
    State(app): State<App>,
    a: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let status = status_param(&q)?;
    let limit = number(&q, "limit", 100u32, 1..=1000)?;
    let items = app.warnings(&a.actor, status, limit).await?;
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}

/// `GET /api/v1/warnings.xlsx?status=...`: the same as an Excel workbook.
pub async fn list_xlsx(
    State(app): State<App>,
    a: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let status = status_param(&q)?;
    let items = app.warnings(&a.actor, status, 1000).await?;
    Ok(warnings_xlsx(&items)?)
}

/// The warnings as an Excel download.
pub(crate) fn warnings_xlsx(items: &[Warning]) -> Result<Response, AppError> {
    let header = [
        "编号",
        "类型",
        "级别",
        "内容",
        "状态",
        "首次发现",
        "最近发现",
        "处置人",
        "处置说明",
    ];
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|w| {
            vec![
                w.id.to_string(),
                w.kind.label_zh().to_string(),
                w.level.label_zh().to_string(),
                w.title.clone(),
                w.status.label_zh().to_string(),
                crate::console::local_time(w.first_at),
                crate::console::local_time(w.last_at),
                w.handled_by.map(|u| u.to_string()).unwrap_or_default(),
                w.note.clone().unwrap_or_default(),
            ]
        })
        .collect();
    xlsx("预警", &header, &rows, "warnings")
}

pub(crate) fn xlsx(
    sheet: &str,
    header: &[&str],
    rows: &[Vec<String>],
    name: &str,
) -> Result<Response, AppError> {
    let bytes = crate::xlsx::workbook(sheet, header, rows, &[(3, 48.0)]).map_err(|e| {
        tracing::error!(error = %e, "workbook");
        AppError::Internal(e)
    })?;
    Ok(crate::api_kpi::attachment(
        bytes,
        crate::api_kpi::XLSX,
        &format!("{name}.xlsx"),
    ))
}

/// `GET /api/v1/warnings/{id}`.
pub async fn get(
    State(app): State<App>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    Ok(Json(app.warning(&a.actor, id).await?).into_response())
}

/// `POST /api/v1/warnings/{id}/handle` `{"status": "acknowledged|dismissed|open", "note": "..."}`.
pub async fn handle(
    State(app): State<App>,
    a: Authed,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let body = json_body(body)?;
    let status = match body.get("status").and_then(|s| s.as_str()) {
        Some(s) => WarningStatus::parse(s).ok_or_else(|| {
            AppError::invalid(
                "status",
                format!("`{s}` is not a status; use acknowledged, dismissed or open"),
            )
        })?,
        None => return Err(AppError::invalid("status", "required").into()),
    };
    let note = match body.get("note") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(AppError::invalid("note", "must be a string").into()),
    };
    Ok(Json(app.handle_warning(&a.actor, id, status, note).await?).into_response())
}

/// `POST /api/v1/warnings/scan`: runs the early-warning monitor now (it also runs by itself
/// in the server); answers with what it found.
pub async fn scan(State(app): State<App>, a: Authed) -> Result<Response, ApiError> {
    Ok(Json(app.scan_warnings_at(&a.actor, chrono::Utc::now()).await?).into_response())
}

/// `GET /api/v1/policy/warnings`: the thresholds in force.
pub async fn policy(State(app): State<App>, a: Authed) -> Result<Response, ApiError> {
    Ok(Json(app.warning_rules(&a.actor).await?).into_response())
}

/// `PUT /api/v1/policy/warnings`: replaces the thresholds (administrators).
pub async fn put_policy(
    State(app): State<App>,
    a: Authed,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    Ok(Json(app.set_warning_rules(&a.actor, json_body(body)?).await?).into_response())
}

pub(crate) async fn hot_issues_of(
    app: &App,
    actor: &Actor,
    q: &HashMap<String, String>,
) -> Result<Vec<LiveHotIssue>, AppError> {
    let days = number(q, "days", 7i64, 1..=90)?;
    let top = number(q, "top", 10usize, 1..=100)?;
    app.live_hot_issues(actor, chrono::Utc::now(), days, top)
        .await
}

/// `GET /api/v1/hot-issues?days=7&top=10`: the problems most raised in the last days, with
/// their heat (0..100), place, time range and tickets.
pub async fn hot_issues(
    State(app): State<App>,
    a: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let items = hot_issues_of(&app, &a.actor, &q).await?;
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}

/// `GET /api/v1/hot-issues.xlsx?days=7&top=10`.
pub async fn hot_issues_xlsx(
    State(app): State<App>,
    a: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let items = hot_issues_of(&app, &a.actor, &q).await?;
    Ok(hot_xlsx(&items)?)
}

pub(crate) fn hot_xlsx(items: &[LiveHotIssue]) -> Result<Response, AppError> {
    let header = [
        "排名",
        "热度",
        "问题描述",
        "地点",
        "类别",
        "诉求件数",
        "人数",
        "督办",
        "时间范围",
        "工单",
    ];
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|h| {
            vec![
                h.rank.to_string(),
                format!("{:.1}", h.heat),
                h.description.clone(),
                h.place.clone().unwrap_or_default(),
                h.category_name.clone().unwrap_or_default(),
                h.requests.to_string(),
                h.people.to_string(),
                h.supervised.to_string(),
                format!(
                    "{} 至 {}",
                    crate::console::local_time(h.first_at),
                    crate::console::local_time(h.last_at)
                ),
                h.ticket_ids
                    .iter()
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(" "),
            ]
        })
        .collect();
    xlsx("热点", &header, &rows, "hot-issues")
}

pub(crate) async fn forecast_of(
    app: &App,
    actor: &Actor,
    q: &HashMap<String, String>,
) -> Result<VolumeForecast, AppError> {
    let days = number(q, "days", 14usize, 1..=28)?;
    app.volume_forecast(
        actor,
        chrono::Utc::now(),
        ForecastRules {
            horizon: days,
            ..Default::default()
        },
    )
    .await
}

/// `GET /api/v1/forecast?days=14`: the next days' requests, in all and by channel, each
/// day with an interval (10th–90th percentile of the back-tested errors), and the
/// back-tested error (WAPE, MAE, interval coverage) over the last 28 forecast origins.
pub async fn forecast(
    State(app): State<App>,
    a: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    Ok(Json(forecast_of(&app, &a.actor, &q).await?).into_response())
}

/// `GET /api/v1/forecast.xlsx?days=14`.
pub async fn forecast_xlsx(
    State(app): State<App>,
    a: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let f = forecast_of(&app, &a.actor, &q).await?;
    Ok(forecast_sheet(&f)?)
}

pub(crate) fn forecast_sheet(f: &VolumeForecast) -> Result<Response, AppError> {
    let header = ["渠道", "日期", "预测", "下限", "上限", "回测WAPE"];
    let mut rows = Vec::new();
    for c in std::iter::once(&f.total).chain(&f.channels) {
        for d in &c.days {
            rows.push(vec![
                c.name.clone(),
                d.date.to_string(),
                format!("{:.1}", d.expected),
                format!("{:.1}", d.low),
                format!("{:.1}", d.high),
                c.backtest
                    .wape
                    .map(|w| format!("{:.1}%", w * 100.0))
                    .unwrap_or_default(),
            ]);
        }
    }
    xlsx("预测", &header, &rows, "forecast")
}
