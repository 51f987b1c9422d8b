//! Open data (数据开放): the monthly releases over the API (`/api/v1/open-data`) and on the
//! portal (`/public/data`: the archive, each release's tables, its files — the whole release
//! as JSON, each table as CSV, the data dictionary — named in the path).

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use mashangban_app::{App, AppError};
use mashangban_domain::open_data::{CountCell, Release, SMALL_CELL, TABLES};
use maud::{Markup, html};

use crate::api::Authed;
use crate::console::html_response;
use crate::console::list::csv_bytes;
use crate::error::ApiError;
use crate::portal::shell;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/public/data", get(archive))
        .route("/public/data/{month}", get(release_page))
        .route("/public/data/{month}/{file}", get(release_file))
}

fn revision_param(q: &HashMap<String, String>) -> Result<Option<i64>, AppError> {
    match q.get("revision").filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|r| *r >= 1)
            .map(Some)
            .ok_or_else(|| AppError::invalid("revision", "a revision number, 1 and up")),
    }
}

/// Open-data releases (open to anyone)
/// Every month released, newest first, with each revision.
#[utoipa::path(
    get, path = "/api/v1/open-data", tag = "public",
    responses((status = 200, description = "The releases", body = Vec<mashangban_app::open_data::ReleaseSummary>))
)]
pub async fn list(State(app): State<App>) -> Result<Response, ApiError> {
    Ok(Json(app.open_data_releases().await?).into_response())
}

/// A month's open-data release (open to anyone)
/// Requests by channel, category (levels 1 and 2), district and week; each unit's response, resolution and satisfaction rates. Counts from 1 to 4 are withheld (null, suppressed: true), and with them the next smallest when one alone would be given away by the total; a rate over fewer than 5 callbacks is withheld.
#[utoipa::path(
    get, path = "/api/v1/open-data/{month}", tag = "public",
    params(("month" = String, Path, description = "YYYY-MM"), ("revision" = Option<i64>, Query, minimum = 1, description = "default: the newest")),
    responses((status = 200, description = "The release", body = Release),
        (status = 404, description = "That month has no release", body = crate::bodies::ErrorBody))
)]
pub async fn get_one(
    State(app): State<App>,
    Path(month): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let revision = revision_param(&q)?;
    Ok(Json(app.open_data_release(&month, revision).await?).into_response())
}

/// Release a month's open data again (leaders and administrators)
/// The next revision, computed now; the month must be over. The first release of each month is made by the server itself.
#[utoipa::path(
    post, path = "/api/v1/open-data/{month}", tag = "public", security(("bearer" = [])),
    params(("month" = String, Path, description = "YYYY-MM")),
    responses((status = 201, description = "Released", body = Release))
)]
pub async fn release(
    State(app): State<App>,
    a: Authed,
    Path(month): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    // No body is read: any sent is ignored, as a form's would be.
    drop(body);
    let r = app
        .release_open_data_at(&a.actor, &month, chrono::Utc::now())
        .await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

/// The data dictionary: every file's columns, what they mean.
const DICTIONARY: &[(&str, &str, &str)] = &[
    (
        "channel, category_l1, category_l2, district, week",
        "key",
        "分组代码：渠道代码、分类代码（一级两位、二级四位）、区县行政区划代码、周一日期（YYYY-MM-DD）",
    ),
    (
        "channel, category_l1, category_l2, district, week",
        "name",
        "分组名称",
    ),
    (
        "channel, category_l1, category_l2, district, week",
        "requests",
        "当月受理诉求件数；1至4件不公布（空），若仅一格不公布则同表次小的一格一并不公布",
    ),
    (
        "channel, category_l1, category_l2, district, week",
        "suppressed",
        "该格是否因小数保护不公布（true/false）",
    ),
    ("units", "unit_id", "承办单位编号"),
    ("units", "unit", "承办单位名称"),
    (
        "units",
        "requests",
        "当月派给该单位的诉求件数（1至4件不公布）",
    ),
    (
        "units",
        "callbacks",
        "当月对该单位所办诉求的回访数（含群众自评；1至4不公布）",
    ),
    (
        "units",
        "response_rate",
        "响应率＝回访中群众确认及时联系的件数÷问及此项的回访数（0至1；问及不足5件不公布）",
    ),
    (
        "units",
        "resolution_rate",
        "解决率＝（已解决＋权重×部分解决）÷问及此项的回访数（0至1；不足5件不公布）",
    ),
    (
        "units",
        "satisfaction_rate",
        "满意率＝（满意＋权重×基本满意）÷回访数（0至1；不足5件不公布）",
    ),
    ("units", "suppressed", "该行是否有数值因小数保护不公布"),
];

fn count_rows(cells: &[CountCell]) -> Vec<Vec<String>> {
    cells
        .iter()
        .map(|c| {
            vec![
                c.key.clone(),
                c.name.clone(),
                c.requests.map(|n| n.to_string()).unwrap_or_default(),
                c.suppressed.to_string(),
            ]
        })
        .collect()
}

fn rate(r: Option<f64>) -> String {
    r.map(|v| format!("{v:.4}")).unwrap_or_default()
}

/// A table of a release as CSV (`None`: no such table).
pub fn table_csv(r: &Release, table: &str) -> Option<Result<Vec<u8>, String>> {
    let counts = |cells: &[CountCell]| {
        csv_bytes(
            &["key", "name", "requests", "suppressed"],
            &count_rows(cells),
        )
    };
    Some(match table {
        "channel" => counts(&r.by_channel),
        "category_l1" => counts(&r.by_category_l1),
        "category_l2" => counts(&r.by_category_l2),
        "district" => counts(&r.by_district),
        "week" => counts(&r.by_week),
        "units" => csv_bytes(
            &[
                "unit_id",
                "unit",
                "requests",
                "callbacks",
                "response_rate",
                "resolution_rate",
                "satisfaction_rate",
                "suppressed",
            ],
            &r.units
                .iter()
                .map(|u| {
                    vec![
                        u.unit_id.to_string(),
                        u.unit.clone(),
                        u.requests.map(|n| n.to_string()).unwrap_or_default(),
                        u.callbacks.map(|n| n.to_string()).unwrap_or_default(),
                        rate(u.response_rate),
                        rate(u.resolution_rate),
                        rate(u.satisfaction_rate),
                        u.suppressed.to_string(),
                    ]
                })
                .collect::<Vec<_>>(),
        ),
        "dictionary" => csv_bytes(
            &["files", "column", "meaning"],
            &DICTIONARY
                .iter()
                .map(|(f, c, m)| vec![f.to_string(), c.to_string(), m.to_string()])
                .collect::<Vec<_>>(),
        ),
        _ => return None,
    })
}

fn failed(e: &AppError) -> Response {
    let (status, text) = match e {
        AppError::NotFound(_) => (StatusCode::NOT_FOUND, "没有这个月的数据。"),
        AppError::Invalid { .. } => (StatusCode::NOT_FOUND, "没有这个月的数据。"),
        _ => {
            tracing::error!(error = %e, "open data");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "暂时无法显示，请稍后再试。",
            )
        }
    };
    html_response(
        status,
        shell(
            "数据开放",
            html! { h1 { "数据开放" } p.error role="alert" { (text) } p { a href="/public/data" { "返回数据开放" } } },
        ),
    )
}

fn dictionary() -> Markup {
    html! {
        section aria-labelledby="dictionary-title" {
            h2 #dictionary-title { "数据说明" }
            p { "每月1日自动发布上月数据；如有更正，另发新版本，旧版本保留。受理件数按受理日计入；回访和评价按回访日计入。为保护个人信息，1至" (SMALL_CELL - 1) "件的数不公布。" }
            table {
                thead { tr { th { "文件" } th { "列" } th { "含义" } } }
                tbody { @for (f, c, m) in DICTIONARY { tr { td { (f) } td { code { (c) } } td { (m) } } } }
            }
        }
    }
}

async fn archive(State(app): State<App>) -> Response {
    let releases = match app.open_data_releases().await {
        Ok(r) => r,
        Err(e) => return failed(&e),
    };
    html_response(
        StatusCode::OK,
        shell(
            "数据开放",
            html! {
                h1 { "数据开放" }
                p.lead { "12345热线每月受理情况：按渠道、分类、区县和周统计的诉求量，各承办单位的响应率、解决率和满意率。可下载CSV和JSON。" }
                @if releases.is_empty() {
                    p { "暂无发布的数据。" }
                } @else {
                    table.releases {
                        thead { tr { th { "月份" } th { "版本" } th { "发布时间" } } }
                        tbody {
                            @for r in &releases {
                                tr {
                                    td { a href=(format!("/public/data/{}?revision={}", r.month, r.revision)) { (r.month) } }
                                    td { (r.revision) }
                                    td { (crate::console::local_time(r.generated_at)) }
                                }
                            }
                        }
                    }
                }
                (dictionary())
            },
        ),
    )
}

fn cells_table(title: &str, cells: &[CountCell]) -> Markup {
    html! {
        h2 { (title) }
        table {
            thead { tr { th { "分组" } th { "件数" } } }
            tbody {
                @for c in cells {
                    tr { td { (c.name) } td { @if let Some(n) = c.requests { (n) } @else { span.muted title="小数保护" { "—" } } } }
                }
            }
        }
    }
}

async fn release_page(
    State(app): State<App>,
    Path(month): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let revision = match revision_param(&q) {
        Ok(r) => r,
        Err(e) => return failed(&e),
    };
    let r = match app.open_data_release(&month, revision).await {
        Ok(r) => r,
        Err(e) => return failed(&e),
    };
    let file = |name: &str| format!("/public/data/{}/{name}?revision={}", r.month, r.revision);
    let pct = |v: Option<f64>| {
        v.map(|v| format!("{:.1}%", v * 100.0))
            .unwrap_or_else(|| "—".into())
    };
    html_response(
        StatusCode::OK,
        shell(
            &format!("{} 数据", r.month),
            html! {
                h1 { (r.month) " 受理情况" }
                p.meta { "第 " (r.revision) " 版 · 发布于 " (crate::console::local_time(r.generated_at)) " · 当月受理 " (r.requests) " 件" }
                p {
                    "下载："
                    a href=(file("release.json")) { "JSON" }
                    @for t in TABLES { " · " a href=(file(&format!("{t}.csv"))) { (t) ".csv" } }
                    " · " a href=(file("dictionary.csv")) { "数据说明.csv" }
                }
                (cells_table("按渠道", &r.by_channel))
                (cells_table("按一级分类", &r.by_category_l1))
                (cells_table("按区县", &r.by_district))
                (cells_table("按周", &r.by_week))
                h2 { "承办单位" }
                table.units {
                    thead { tr { th { "单位" } th { "件数" } th { "响应率" } th { "解决率" } th { "满意率" } } }
                    tbody {
                        @for u in &r.units {
                            tr {
                                td { (u.unit) }
                                td { @if let Some(n) = u.requests { (n) } @else { "—" } }
                                td { (pct(u.response_rate)) } td { (pct(u.resolution_rate)) } td { (pct(u.satisfaction_rate)) }
                            }
                        }
                    }
                }
                p.muted { "“—”：为保护个人信息不公布，或无回访。" }
                p { a href="/public/data" { "全部月份" } }
            },
        ),
    )
}

async fn release_file(
    State(app): State<App>,
    Path((month, file)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let revision = match revision_param(&q) {
        Ok(r) => r,
        Err(e) => return failed(&e),
    };
    let r = match app.open_data_release(&month, revision).await {
        Ok(r) => r,
        Err(e) => return failed(&e),
    };
    let (bytes, kind) = if file == "release.json" {
        match serde_json::to_vec_pretty(&r) {
            Ok(b) => (b, "application/json"),
            Err(e) => return failed(&AppError::Internal(e.to_string())),
        }
    } else {
        let Some(table) = file.strip_suffix(".csv") else {
            return failed(&AppError::NotFound(file));
        };
        match table_csv(&r, table) {
            Some(Ok(b)) => (b, "text/csv; charset=utf-8"),
            Some(Err(e)) => return failed(&AppError::Internal(e)),
            None => return failed(&AppError::NotFound(file)),
        }
    };
    let mut resp = (StatusCode::OK, bytes).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"12345-{}-r{}-{file}\"",
        r.month, r.revision
    )) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}
