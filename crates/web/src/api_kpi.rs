//! `/api/v1/kpis`: the evaluation figures (考评点评) of a period, for the city or per unit,
//! place, category or channel, ranked; the evaluation policy; rebuilding the aggregates.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::Datelike;
use mashangban_app::kpis::{KpiTable, Period, parse_group_by};
use mashangban_app::{App, AppError};
use mashangban_domain::Actor;
use mashangban_domain::kpi::Zone;
use std::collections::HashMap;

use crate::api::{Authed, json_body};
use crate::error::ApiError;

/// A date parameter (YYYY-MM-DD), if given.
fn date_param(
    q: &HashMap<String, String>,
    name: &str,
) -> Result<Option<chrono::NaiveDate>, AppError> {
    match q.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        Some(v) => chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| AppError::invalid(name, format!("`{v}` is not a date (YYYY-MM-DD)"))),
        None => Ok(None),
    }
}

/// The period and grouping of a request: `from`, `to` (default: the month to date) and
/// `group_by` (default: the whole city).
/// The period `?from=&to=` names: by default the month to date; one end alone runs to
/// today or from the 1st of its month.
pub(crate) fn period_of(q: &HashMap<String, String>) -> Result<Period, AppError> {
    let default = Period::month_to_date();
    let from = date_param(q, "from")?;
    let to = date_param(q, "to")?;
    match (from, to) {
        (None, None) => Ok(default),
        (Some(f), None) => Period::new(f, default.to.max(f)),
        (None, Some(t)) => Period::new(t.with_day(1).unwrap_or(t), t),
        (Some(f), Some(t)) => Period::new(f, t),
    }
}

pub(crate) async fn table_of(
    app: &App,
    actor: &Actor,
    q: &HashMap<String, String>,
) -> Result<KpiTable, AppError> {
    let period = period_of(q)?;
    let group_by = q
        .get("group_by")
        .map(|g| g.trim())
        .filter(|g| !g.is_empty());
    let parent = crate::api::id_param(q, "parent")?;
    let source = match q.get("source").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None | Some("all") => None,
        Some(s) => Some(s.parse::<mashangban_domain::RatingSource>().map_err(|_| {
            AppError::invalid(
                "source",
                format!("`{s}` is not one of all, agent (回访员), citizen (市民自评)"),
            )
        })?),
    };
    if group_by == Some("territory") {
        return app.kpi_territory_table(actor, period, parent, source).await;
    }
    if parent.is_some() {
        return Err(AppError::invalid(
            "parent",
            "lists the units below a unit by territory: use it with group_by=territory",
        ));
    }
    let group_by = group_by.map(parse_group_by).transpose()?;
    app.kpi_table_of(actor, period, group_by, source).await
}

/// The evaluation figures of a period, ranked (万人诉求比, 响应率, 解决率, 满意率 …)
#[utoipa::path(
    get, path = "/api/v1/kpis", tag = "evaluation", security(("bearer" = [])), params(("from" = Option<NaiveDate>, Query, description = "first day (default: the 1st of this month)"),
        ("to" = Option<NaiveDate>, Query, description = "last day, included (default: today)"),
        ("group_by" = Option<String>, Query, description = "`unit`, `district`, `street`, `category`, `category_l1`, `category_l2`, `channel` or `line` (the merged hotlines); `territory`: units by territory (属地), each counting its own requests and those of every unit below it (the district governments, or with `parent` the units directly below that unit, ranked among themselves); absent: one row for the whole city"),
        ("source" = Option<String>, Query, description = "The callbacks counted in 响应率, 解决率 and 满意率: `citizen` (the citizens' own ratings, 一事一评), `agent` (callback agents'), or `all` (default)"),
        ("parent" = Option<i64>, Query, description = "With group_by=territory: the unit whose units directly below are listed (the streets of a district, the communities of a street)")),
    responses((status = 200, description = "The table", body = mashangban_app::kpis::KpiTable))
)]
pub async fn kpis(
    State(app): State<App>,
    a: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    Ok(Json(table_of(&app, &a.actor, &q).await?).into_response())
}

/// The same table as an Excel workbook
#[utoipa::path(
    get, path = "/api/v1/kpis.xlsx", tag = "evaluation", security(("bearer" = [])), params(("from" = Option<NaiveDate>, Query, description = "first day (default: the 1st of this month)"),
        ("to" = Option<NaiveDate>, Query, description = "last day, included (default: today)"),
        ("group_by" = Option<String>, Query, description = "`unit`, `district`, `street`, `category`, `category_l1`, `category_l2`, `channel` or `line` (the merged hotlines); `territory`: units by territory (属地), each counting its own requests and those of every unit below it (the district governments, or with `parent` the units directly below that unit, ranked among themselves); absent: one row for the whole city"),
        ("source" = Option<String>, Query, description = "The callbacks counted in 响应率, 解决率 and 满意率: `citizen` (the citizens' own ratings, 一事一评), `agent` (callback agents'), or `all` (default)"),
        ("parent" = Option<i64>, Query, description = "With group_by=territory: the unit whose units directly below are listed (the streets of a district, the communities of a street)")),
    responses((status = 200, description = "The workbook", body = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
)]
pub async fn kpis_xlsx(
    State(app): State<App>,
    a: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let table = table_of(&app, &a.actor, &q).await?;
    Ok(xlsx_response(&table)?)
}

/// What each unit did down the levels (分级转办 · 吹哨报到) in a period
/// Forwarded to it, signed in time or late, replied up within the time given or late,
/// replies sent back, overdue; called to the spot and answered (报到率); a community's
/// patrol reports resolved on the spot (就地办结) and residents' meetings. With `parent`,
/// every unit directly below it (a district's streets, a street's communities); without,
/// every unit with some. With `rank_by`, ranked on that figure (ties share a place).
#[utoipa::path(
    get, path = "/api/v1/kpis/levels", tag = "evaluation", security(("bearer" = [])),
    params(("from" = Option<NaiveDate>, Query, description = "first day (default: the 1st of this month)"),
        ("to" = Option<NaiveDate>, Query, description = "last day, included (default: today)"),
        ("parent" = Option<i64>, Query, description = "the unit whose units directly below are listed"),
        ("rank_by" = Option<mashangban_app::kpis::LevelRank>, Query, description = "rank the rows on this figure, best first (units without it last, unranked); by default by name")),
    responses((status = 200, description = "The units' work", body = mashangban_app::kpis::LevelWorkTable))
)]
pub async fn levels(
    State(app): State<App>,
    a: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let period = period_of(&q)?;
    let parent = crate::api::id_param(&q, "parent")?;
    let rank_by = rank_by_param(&q)?;
    Ok(Json(
        app.level_work_table(&a.actor, period, parent, rank_by)
            .await?,
    )
    .into_response())
}

/// The `rank_by` query parameter of the level table.
pub(crate) fn rank_by_param(
    q: &HashMap<String, String>,
) -> Result<Option<mashangban_app::kpis::LevelRank>, ApiError> {
    match q.get("rank_by").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(v) => mashangban_app::kpis::LevelRank::parse(v)
            .map(Some)
            .ok_or_else(|| {
                ApiError::invalid(
                    "rank_by",
                    format!(
                        "`{v}` is not a figure to rank on; expected one of {}",
                        mashangban_app::kpis::LevelRank::NAMES.join(", ")
                    ),
                )
            }),
    }
}

pub(crate) fn xlsx_response(table: &KpiTable) -> Result<Response, AppError> {
    let (header, rows) = sheet(table);
    let bytes = crate::xlsx::workbook("考评", &header, &rows, &[(2, 28.0)]).map_err(|e| {
        tracing::error!(error = %e, "kpi workbook");
        AppError::Internal(e)
    })?;
    let name = format!("kpis-{}-{}.xlsx", table.period.from, table.period.to);
    Ok(attachment(bytes, XLSX, &name))
}

/// The content type of Excel workbooks.
pub(crate) const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A file to download: its bytes, type and name.
pub(crate) fn attachment(bytes: Vec<u8>, content_type: &str, filename: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// A rate as a percentage with two decimals, or empty.
pub(crate) fn percent(r: Option<f64>) -> String {
    r.map(|v| format!("{:.2}%", v * 100.0)).unwrap_or_default()
}

/// A zone's name.
pub(crate) fn zone_zh(z: Option<Zone>) -> &'static str {
    match z {
        Some(Zone::Blue) => "蓝",
        Some(Zone::Yellow) => "黄",
        Some(Zone::Red) => "红",
        None => "",
    }
}

/// The header and rows of a table, as shown and exported.
pub(crate) fn sheet(table: &KpiTable) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let header = vec![
        "排名",
        "区域",
        "名称",
        "诉求量",
        "回访量",
        "其中市民自评",
        "剔除市民差评",
        "转出其他平台",
        "万人诉求比",
        "响应率",
        "解决率",
        "满意率",
        "办结率",
        "按期办结率",
        "退单率",
        "直接办结率",
        "平均办理时长(小时)",
        "督办",
        "答复质检问题率",
        "综合得分",
        "上期得分",
        "环比",
    ];
    let rows = table
        .rows
        .iter()
        .map(|r| {
            let k = &r.kpis;
            vec![
                r.rank.map(|n| n.to_string()).unwrap_or_default(),
                zone_zh(r.zone).to_string(),
                r.name.clone(),
                k.requests.to_string(),
                k.callbacks.to_string(),
                k.citizen_ratings.to_string(),
                k.excluded_ratings.to_string(),
                k.transferred_out.to_string(),
                k.requests_per_10k
                    .map(|v| format!("{v:.2}"))
                    .unwrap_or_default(),
                percent(k.response_rate),
                percent(k.resolution_rate),
                percent(k.satisfaction_rate),
                percent(k.completion_rate),
                percent(k.on_time_rate),
                percent(k.return_rate),
                percent(k.direct_rate),
                k.average_handling_seconds
                    .map(|s| format!("{:.1}", s / 3600.0))
                    .unwrap_or_default(),
                k.supervisions.to_string(),
                percent(k.reply_flag_rate),
                k.score.map(|s| format!("{s:.2}")).unwrap_or_default(),
                r.previous_score
                    .map(|s| format!("{s:.2}"))
                    .unwrap_or_default(),
                r.trend.clone().unwrap_or_default(),
            ]
        })
        .collect();
    (header, rows)
}

/// The evaluation policy in force
#[utoipa::path(
    get, path = "/api/v1/policy/kpis", tag = "evaluation", security(("bearer" = [])),
    responses((status = 200, description = "The policy", body = mashangban_domain::kpi::KpiPolicy))
)]
pub async fn policy(State(app): State<App>, a: Authed) -> Result<Response, ApiError> {
    Ok(Json(app.kpi_policy(&a.actor).await?).into_response())
}

/// Replace the evaluation policy (administrators)
#[utoipa::path(
    put, path = "/api/v1/policy/kpis", tag = "evaluation", security(("bearer" = [])), request_body = mashangban_domain::kpi::KpiPolicy,
    responses((status = 200, description = "Saved", body = mashangban_domain::kpi::KpiPolicy))
)]
pub async fn put_policy(
    State(app): State<App>,
    a: Authed,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    Ok(Json(app.set_kpi_policy(&a.actor, json_body(body)?).await?).into_response())
}

/// Rebuild the evaluation aggregates from the events (administrators)
#[utoipa::path(
    post, path = "/api/v1/aggregates/rebuild", tag = "evaluation", security(("bearer" = [])),
    responses((status = 200, description = "What was rebuilt", body = mashangban_app::kpis::RebuildReport))
)]
pub async fn rebuild(State(app): State<App>, a: Authed) -> Result<Response, ApiError> {
    let report = app.rebuild_aggregates(&a.actor).await?;
    Ok(Json(report).into_response())
}

/// A document in the format asked for: `html` shown, `doc` downloaded for Word (the same
/// HTML, which Word opens as a document).
fn document(html: String, format: &str, name: &str) -> Response {
    let (kind, disposition) = match format {
        "doc" => (
            "application/msword",
            Some(format!("attachment; filename=\"{name}.doc\"")),
        ),
        _ => ("text/html; charset=utf-8", None),
    };
    let mut r = ([(header::CONTENT_TYPE, kind)], html).into_response();
    if let Some(d) = disposition
        && let Ok(v) = axum::http::HeaderValue::from_str(&d)
    {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// The daily report's tables as one Excel sheet: the figures, the channels, the hot issues.
fn daily_xlsx(r: &mashangban_app::reports::DailyReport) -> Result<Response, AppError> {
    let k = &r.kpis;
    let mut rows: Vec<Vec<String>> = [
        ("受理诉求", r.requests.to_string()),
        ("来电", r.calls.to_string()),
        ("网民留言", r.online.to_string()),
        ("其他渠道", r.other.to_string()),
        ("直接办理", r.direct.to_string()),
        ("转交责任单位办理", r.transferred.to_string()),
        ("回访量", r.callbacks.to_string()),
        ("响应率", percent(k.response_rate)),
        ("解决率", percent(k.resolution_rate)),
        ("满意率", percent(k.satisfaction_rate)),
    ]
    .into_iter()
    .map(|(name, v)| vec!["概况".to_string(), name.to_string(), v, String::new()])
    .collect();
    rows.extend(r.by_channel.iter().map(|c| {
        vec![
            "分渠道".to_string(),
            c.name.clone(),
            c.requests.to_string(),
            String::new(),
        ]
    }));
    rows.extend(r.hot_issues.iter().map(|h| {
        vec![
            format!("热点问题{}", h.rank),
            h.name.clone(),
            h.requests.to_string(),
            h.text.clone(),
        ]
    }));
    let bytes = crate::xlsx::workbook(
        "日报",
        &["栏目", "项目", "件数/比率", "说明"],
        &rows,
        &[(3, 90.0)],
    )
    .map_err(|e| {
        tracing::error!(error = %e, "daily workbook");
        AppError::Internal(e)
    })?;
    Ok(attachment(
        bytes,
        XLSX,
        &format!("daily-report-{}.xlsx", r.date),
    ))
}

/// A Word document as a download.
fn docx_response(doc: Result<Vec<u8>, String>, name: &str) -> Result<Response, AppError> {
    let bytes = doc.map_err(|e| {
        tracing::error!(error = %e, "docx");
        AppError::Internal(e)
    })?;
    Ok(attachment(
        bytes,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        &format!("{name}.docx"),
    ))
}

/// The `format` parameter: json (default), html or doc (and xlsx where offered).
fn format_param(q: &HashMap<String, String>, allowed: &[&str]) -> Result<String, AppError> {
    let f = q
        .get("format")
        .map(|f| f.trim().to_ascii_lowercase())
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| "json".into());
    if allowed.contains(&f.as_str()) {
        Ok(f)
    } else {
        Err(AppError::invalid(
            "format",
            format!("`{f}` is not offered; use one of {}", allowed.join(", ")),
        ))
    }
}

/// The daily report (工作日报) of a business day
/// Calls, online messages by channel, answered directly and transferred, callbacks, hot issues.
#[utoipa::path(
    get, path = "/api/v1/reports/daily", tag = "evaluation", security(("bearer" = [])),
    params(("date" = Option<NaiveDate>, Query, description = "default: yesterday"),
        ("top" = Option<u32>, Query, minimum = 1, maximum = 20, description = "hot issues listed, default 5"), ("format" = Option<String>, Query, description = "`json` (default); `html` a document; `doc` the same for Word, as a download; `docx` a Word document; `xlsx` a workbook")),
    responses((status = 200, description = "The report", content(
            (mashangban_app::reports::DailyReport = "application/json"),
            (String = "text/html"), (String = "application/msword"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))))
)]
pub async fn daily_report(
    State(app): State<App>,
    a: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    Ok(daily_response(&app, &a.actor, &q).await?)
}

/// The daily report in the format a request asks for (for the API and the console).
pub(crate) async fn daily_response(
    app: &App,
    actor: &Actor,
    q: &HashMap<String, String>,
) -> Result<Response, AppError> {
    let format = format_param(q, &["json", "html", "doc", "docx", "xlsx"])?;
    let date = match date_param(q, "date")? {
        Some(d) => d,
        None => Period::month_to_date().to.pred_opt().unwrap_or_default(),
    };
    let top = match q.get("top").filter(|t| !t.is_empty()) {
        Some(t) => Some(
            t.parse::<usize>()
                .ok()
                .filter(|n| (1..=20).contains(n))
                .ok_or_else(|| AppError::invalid("top", "must be between 1 and 20"))?,
        ),
        None => None,
    };
    let report = app.daily_report(actor, date, top).await?;
    Ok(match format.as_str() {
        "json" => Json(report).into_response(),
        "docx" => docx_response(
            crate::reports::daily_docx(&report),
            &format!("daily-report-{date}"),
        )?,
        "xlsx" => daily_xlsx(&report)?,
        f => document(
            crate::reports::daily_html(&report),
            f,
            &format!("daily-report-{date}"),
        ),
    })
}

/// The monthly report (考评通报): the city's figures and the rankings of units, districts and categories
#[utoipa::path(
    get, path = "/api/v1/reports/monthly", tag = "evaluation", security(("bearer" = [])),
    params(("month" = Option<String>, Query, pattern = "^[0-9]{4}-[0-9]{2}$", description = "default: this month"), ("format" = Option<String>, Query, description = "`json` (default); `html` a document; `doc` the same for Word, as a download; `docx` a Word document; `xlsx` a workbook")),
    responses((status = 200, description = "The report", content(
            (mashangban_app::reports::MonthlyReport = "application/json"),
            (String = "text/html"), (String = "application/msword"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))))
)]
pub async fn monthly_report(
    State(app): State<App>,
    a: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    Ok(monthly_response(&app, &a.actor, &q).await?)
}

/// The monthly report in the format a request asks for (for the API and the console).
pub(crate) async fn monthly_response(
    app: &App,
    actor: &Actor,
    q: &HashMap<String, String>,
) -> Result<Response, AppError> {
    let format = format_param(q, &["json", "html", "doc", "docx", "xlsx"])?;
    let (year, month) = match q.get("month").map(|m| m.trim()).filter(|m| !m.is_empty()) {
        Some(m) => {
            let bad = || AppError::invalid("month", format!("`{m}` is not a month (YYYY-MM)"));
            let (y, mo) = m.split_once('-').ok_or_else(bad)?;
            let y: i32 = y.parse().map_err(|_| bad())?;
            let mo: u32 = mo.parse().map_err(|_| bad())?;
            if !(2000..=2100).contains(&y) || !(1..=12).contains(&mo) {
                return Err(bad());
            }
            (y, mo)
        }
        None => {
            let today = Period::month_to_date().to;
            (today.year(), today.month())
        }
    };
    let report = app.monthly_report(actor, year, month).await?;
    Ok(match format.as_str() {
        "json" => Json(report).into_response(),
        "xlsx" => xlsx_response(&report.units)?,
        "docx" => docx_response(
            crate::reports::monthly_docx(&report),
            &format!("monthly-report-{year}-{month:02}"),
        )?,
        f => document(
            crate::reports::monthly_html(&report),
            f,
            &format!("monthly-report-{year}-{month:02}"),
        ),
    })
}
