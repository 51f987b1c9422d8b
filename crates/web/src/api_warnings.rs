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
use crate::bodies::*;
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

/// Early warnings (预警), the most recently found first
#[utoipa::path(
    get, path = "/api/v1/warnings", tag = "analysis", security(("bearer" = [])),
    params(("status" = Option<String>, Query, description = "`open`, `acknowledged`, `dismissed` or `all` (default)"), ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "default 100")),
    responses((status = 200, description = "The warnings", body = Items<mashangban_app::warnings::Warning>))
)]
pub async fn list(
    State(app): State<App>,
    a: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let status = status_param(&q)?;
    let limit = number(&q, "limit", 100u32, 1..=1000)?;
    let items = app.warnings(&a.actor, status, limit).await?;
    Ok(Json(Items::of(items)).into_response())
}

/// The warnings as an Excel workbook
#[utoipa::path(
    get, path = "/api/v1/warnings.xlsx", tag = "analysis", security(("bearer" = [])),
    params(("status" = Option<String>, Query, description = "`open`, `acknowledged`, `dismissed` or `all` (default)")),
    responses((status = 200, description = "The workbook", body = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
)]
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

/// One warning
#[utoipa::path(
    get, path = "/api/v1/warnings/{id}", tag = "analysis", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, description = "The warning", body = mashangban_app::warnings::Warning))
)]
pub async fn get(
    State(app): State<App>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    Ok(Json(app.warning(&a.actor, id).await?).into_response())
}

/// Acknowledge, dismiss or reopen a warning
#[utoipa::path(
    post, path = "/api/v1/warnings/{id}/handle", tag = "analysis", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = WarningHandling,
    responses((status = 200, description = "The warning", body = mashangban_app::warnings::Warning))
)]
pub async fn handle(
    State(app): State<App>,
    a: Authed,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let body: WarningHandling =
        mashangban_domain::lifecycle::from_json(json_body(body)?).map_err(AppError::from)?;
    let status = WarningStatus::parse(&body.status).ok_or_else(|| {
        AppError::invalid(
            "status",
            format!(
                "`{}` is not a status; use acknowledged, dismissed or open",
                body.status
            ),
        )
    })?;
    Ok(Json(app.handle_warning(&a.actor, id, status, body.note).await?).into_response())
}

/// Run the early-warning monitor now (it also runs in the server every MASHANGBAN_WARN_SECONDS)
#[utoipa::path(
    post, path = "/api/v1/warnings/scan", tag = "analysis", security(("bearer" = [])),
    responses((status = 200, description = "What it found", body = mashangban_app::warnings::ScanReport))
)]
pub async fn scan(State(app): State<App>, a: Authed) -> Result<Response, ApiError> {
    Ok(Json(app.scan_warnings_at(&a.actor, chrono::Utc::now()).await?).into_response())
}

/// The warning thresholds in force
#[utoipa::path(
    get, path = "/api/v1/policy/warnings", tag = "analysis", security(("bearer" = [])),
    responses((status = 200, description = "The thresholds", body = mashangban_domain::warning::WarningRules))
)]
pub async fn policy(State(app): State<App>, a: Authed) -> Result<Response, ApiError> {
    Ok(Json(app.warning_rules(&a.actor).await?).into_response())
}

/// Replace the warning thresholds (administrators; fields left out take their defaults)
#[utoipa::path(
    put, path = "/api/v1/policy/warnings", tag = "analysis", security(("bearer" = [])), request_body = mashangban_domain::warning::WarningRules,
    responses((status = 200, description = "Saved", body = mashangban_domain::warning::WarningRules))
)]
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

/// Hot issues (热点) of the last days' tickets: problems by topic and place with their heat
#[utoipa::path(
    get, path = "/api/v1/hot-issues", tag = "analysis", security(("bearer" = [])), params(("days" = Option<u32>, Query, minimum = 1, maximum = 90, description = "default 7"), ("top" = Option<u32>, Query, minimum = 1, maximum = 100, description = "default 10")),
    responses((status = 200, description = "The hot issues", body = Items<LiveHotIssue>))
)]
pub async fn hot_issues(
    State(app): State<App>,
    a: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let items = hot_issues_of(&app, &a.actor, &q).await?;
    Ok(Json(Items::of(items)).into_response())
}

/// The hot issues as an Excel workbook
#[utoipa::path(
    get, path = "/api/v1/hot-issues.xlsx", tag = "analysis", security(("bearer" = [])), params(("days" = Option<u32>, Query, minimum = 1, maximum = 90, description = "default 7"), ("top" = Option<u32>, Query, minimum = 1, maximum = 100, description = "default 10")),
    responses((status = 200, description = "The workbook", body = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
)]
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

/// The next days' requests in all and by channel
/// Each day with an interval (10th–90th percentile of back-tested errors), and the back-tested error.
#[utoipa::path(
    get, path = "/api/v1/forecast", tag = "analysis", security(("bearer" = [])), params(("days" = Option<u32>, Query, minimum = 1, maximum = 28, description = "default 14")),
    responses((status = 200, description = "The forecast", body = VolumeForecast))
)]
pub async fn forecast(
    State(app): State<App>,
    a: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    Ok(Json(forecast_of(&app, &a.actor, &q).await?).into_response())
}

/// The coming month's requests by issue group (民情月历)
/// Against the same month of previous years, with the 80 % interval, the back-tested error (WAPE, and the WAPE of "as many as last year's same month") and the interval's coverage on the months it was not fitted on. The month forecast is the one after `as_of`'s (default today, Asia/Shanghai), from the complete months before `as_of`'s.
#[utoipa::path(
    get, path = "/api/v1/seasonal", tag = "analysis", security(("bearer" = [])),
    params(("as_of" = Option<String>, Query, description = "YYYY-MM-DD (default today)")),
    responses((status = 200, description = "The outlook", body = mashangban_app::seasonal::SeasonalOutlook))
)]
pub async fn seasonal(
    State(app): State<App>,
    a: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    if let Some(k) = q.keys().find(|k| k.as_str() != "as_of") {
        return Err(AppError::invalid(k.clone(), "not a parameter of this report").into());
    }
    let as_of = match q.get("as_of").map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => mashangban_domain::aggregates::business_day(chrono::Utc::now()),
        Some(v) => v
            .parse::<chrono::NaiveDate>()
            .ok()
            .filter(|d| (2000..=2100).contains(&chrono::Datelike::year(d)))
            .ok_or_else(|| AppError::invalid("as_of", "a day, YYYY-MM-DD"))?,
    };
    Ok(Json(app.seasonal_outlook(&a.actor, as_of).await?).into_response())
}

/// The forecast as an Excel workbook
#[utoipa::path(
    get, path = "/api/v1/forecast.xlsx", tag = "analysis", security(("bearer" = [])), params(("days" = Option<u32>, Query, minimum = 1, maximum = 28, description = "default 14")),
    responses((status = 200, description = "The workbook", body = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
)]
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
