//! Data analysis in the console (数据分析): the leader dashboard (领导驾驶舱) and the wall
//! screen (大屏) with server-drawn charts that refresh by themselves, the early warnings
//! (预警) and their handling, and the Excel exports of every table shown.

use super::charts::{Series, bars, forecast_chart, stacked_columns, tiles};
use super::i18n::{Lang, t};
use super::kpis::reader;
use super::{Session, form_session, html_response, local_time, page};
use crate::api_kpi::{percent, zone_zh};
use crate::api_warnings::{forecast_sheet, hot_xlsx, status_param, warnings_xlsx, xlsx};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{Datelike, Duration, Utc};
use mashangban_app::kpis::{KpiTable, Period};
use mashangban_app::warnings::Warning;
use mashangban_app::warnings::{LiveHotIssue, VolumeForecast};
use mashangban_app::{App, AppError};
use mashangban_domain::aggregates::{Dim, business_day};
use mashangban_domain::forecast::ForecastRules;
use mashangban_domain::warning::{WarningLevel, WarningStatus};
use mashangban_domain::{Channel, Permission};
use maud::{Markup, html};
use std::collections::{BTreeMap, HashMap};

pub(super) fn routes() -> axum::Router<App> {
    axum::Router::new()
        .route("/dashboard", get(dashboard_page))
        .route("/wall", get(wall_page))
        .route("/dashboard/volume.xlsx", get(volume_xlsx))
        .route("/dashboard/forecast.xlsx", get(forecast_xlsx))
        .route("/dashboard/hot-issues.xlsx", get(hot_issues_xlsx))
        .route("/warnings", get(warnings_page))
        .route("/warnings/export.xlsx", get(warnings_export))
        .route("/warnings/scan", post(scan_submit))
        .route("/warnings/{id}/handle", post(handle_submit))
}

/// Days of volume the dashboards show.
const VOLUME_DAYS: i64 = 30;

/// What the dashboards show, gathered once.
struct Board {
    today: chrono::NaiveDate,
    /// Days and requests by channel.
    days: Vec<chrono::NaiveDate>,
    by_channel: BTreeMap<Channel, Vec<f64>>,
    /// The channels' names (Chinese, English), in the order of `by_channel`.
    channel_names: Vec<(String, String)>,
    forecast: Option<VolumeForecast>,
    /// Top-level categories of the month: (code, name, requests).
    categories: Vec<(String, String, u64)>,
    /// Districts of the month: (code, name, requests, per 10k).
    districts: Vec<(String, String, u64, Option<f64>)>,
    ranking: Option<KpiTable>,
    city: Option<KpiTable>,
    hot: Vec<LiveHotIssue>,
    warnings: Vec<Warning>,
    /// Whether the reader may propose a monthly topic (a link on each hot issue).
    may_propose: bool,
    /// The coming month by issue group against the same month of previous years (民情月历).
    outlook: Option<mashangban_app::seasonal::SeasonalOutlook>,
}

async fn gather(app: &App, actor: &mashangban_domain::Actor) -> Result<Board, AppError> {
    let r = app.names(actor).await?;
    let now = Utc::now();
    let today = business_day(now);
    let from = today - Duration::days(VOLUME_DAYS - 1);
    let days: Vec<chrono::NaiveDate> = (0..VOLUME_DAYS).map(|i| from + Duration::days(i)).collect();
    let mut by_channel: BTreeMap<Channel, Vec<f64>> = BTreeMap::new();
    for g in app.tallies(actor, Dim::Channel, from, today, true).await? {
        let (Some(d), Ok(ch)) = (g.day, g.group.parse::<Channel>()) else {
            continue;
        };
        let i = (d - from).num_days();
        if (0..VOLUME_DAYS).contains(&i) {
            by_channel
                .entry(ch)
                .or_insert_with(|| vec![0.0; VOLUME_DAYS as usize])[i as usize] +=
                g.tally.requests as f64;
        }
    }
    let month = Period::month_to_date();
    let mut categories: Vec<(String, String, u64)> = app
        .tallies(actor, Dim::CategoryL1, month.from, month.to, false)
        .await?
        .into_iter()
        .filter(|g| g.tally.requests > 0)
        .map(|g| {
            let name = r
                .categories
                .get(&g.group)
                .map(|c| c.name.clone())
                .unwrap_or_else(|| g.group.clone());
            (g.group, name, g.tally.requests)
        })
        .collect();
    categories.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    categories.truncate(10);
    let mut districts: Vec<(String, String, u64, Option<f64>)> = app
        .tallies(actor, Dim::District, month.from, month.to, false)
        .await?
        .into_iter()
        .map(|g| {
            let name = r
                .divisions
                .get(&g.group)
                .cloned()
                .unwrap_or_else(|| g.group.clone());
            let per = r
                .populations
                .get(&g.group)
                .filter(|p| **p > 0)
                .map(|p| g.tally.requests as f64 / *p as f64 * 10_000.0);
            (g.group, name, g.tally.requests, per)
        })
        .collect();
    districts.sort_by(|a, b| a.0.cmp(&b.0));
    // The parts that may fail on their own (little data) leave their panel empty.
    let forecast = app
        .volume_forecast(actor, now, ForecastRules::default())
        .await
        .map_err(|e| tracing::error!(error = %e, "dashboard forecast"))
        .ok();
    let ranking = app.kpi_table(actor, month, Some(Dim::Unit)).await.ok();
    let city = app.kpi_table(actor, month, None).await.ok();
    let hot = app
        .live_hot_issues(actor, now, 7, 10)
        .await
        .map_err(|e| tracing::error!(error = %e, "dashboard hot issues"))
        .unwrap_or_default();
    let warnings = app.warnings(actor, Some(WarningStatus::Open), 12).await?;
    let outlook = app
        .seasonal_outlook(actor, today)
        .await
        .map_err(|e| tracing::error!(error = %e, "dashboard outlook"))
        .ok();
    Ok(Board {
        today,
        days,
        channel_names: by_channel
            .keys()
            .map(|c| (r.channel_name(c, false), r.channel_name(c, true)))
            .collect(),
        by_channel,
        forecast,
        categories,
        districts,
        ranking,
        city,
        hot,
        warnings,
        may_propose: mashangban_app::may(actor, Permission::ProposeTopics),
        outlook,
    })
}

fn level_class(l: WarningLevel) -> &'static str {
    match l {
        WarningLevel::Yellow => "wl yellow",
        WarningLevel::Orange => "wl orange",
        WarningLevel::Red => "wl red",
    }
}

fn short(d: chrono::NaiveDate) -> String {
    format!("{:02}-{:02}", d.month(), d.day())
}

/// The panels, for both the dashboard and the wall screen.
fn panels(lang: Lang, b: &Board, wall: bool) -> Markup {
    let zh = lang == Lang::Zh;
    let labels: Vec<String> = b.days.iter().map(|d| short(*d)).collect();
    let names: Vec<String> = b
        .channel_names
        .iter()
        .map(|(name, en)| if zh { name.clone() } else { en.clone() })
        .collect();
    let series: Vec<Series> = b
        .by_channel
        .iter()
        .zip(&names)
        .map(|((_, v), n)| Series {
            name: n,
            values: v.clone(),
        })
        .collect();
    let totals: Vec<f64> = (0..b.days.len())
        .map(|i| b.by_channel.values().map(|v| v[i]).sum())
        .collect();
    let today_total = totals.last().copied().unwrap_or(0.0);
    let city = b.city.as_ref().and_then(|t| t.rows.first());
    html! {
        div.kpitiles {
            div.kpitile { span.k { (if zh { "今日诉求" } else { "Requests today" }) } span.v { (today_total) } }
            @if let Some(c) = city {
                div.kpitile { span.k { (if zh { "本月诉求" } else { "This month" }) } span.v { (c.kpis.requests) } }
                div.kpitile { span.k { (if zh { "响应率" } else { "Response" }) } span.v { (percent(c.kpis.response_rate)) } }
                div.kpitile { span.k { (if zh { "解决率" } else { "Resolution" }) } span.v { (percent(c.kpis.resolution_rate)) } }
                div.kpitile { span.k { (if zh { "满意率" } else { "Satisfaction" }) } span.v { (percent(c.kpis.satisfaction_rate)) } }
                div.kpitile { span.k { (if zh { "按期办结率" } else { "On time" }) } span.v { (percent(c.kpis.on_time_rate)) } }
            }
            div.kpitile.warn { span.k { (if zh { "待处理预警" } else { "Open warnings" }) } span.v { (b.warnings.len()) } }
        }
        div.grid2 {
            section.panel {
                (stacked_columns(if zh { "近30日诉求量（按渠道）" } else { "Requests, last 30 days, by channel" }, &labels, &series))
                @if !wall { p.export { a href="/dashboard/volume.xlsx" { (if zh { "导出Excel" } else { "Export to Excel" }) } } }
            }
            section.panel {
                @if let Some(f) = &b.forecast {
                    // The fourteen whole days before today, then today onwards forecast.
                    @let whole = labels.len().saturating_sub(1);
                    @let past: Vec<(String, f64)> = labels[..whole].iter().zip(&totals[..whole]).skip(whole.saturating_sub(14)).map(|(l, v)| (l.clone(), *v)).collect();
                    @let ahead: Vec<(String, f64, f64, f64)> = f.total.days.iter().map(|d| (short(d.date), d.expected, d.low, d.high)).collect();
                    (forecast_chart(if zh { "未来14日诉求量预测" } else { "Next 14 days, forecast" }, &past, &ahead))
                    p.muted {
                        (if zh { "回测误差（WAPE）" } else { "Back-tested error (WAPE) " })
                        (f.total.backtest.wape.map(|w| format!("{:.1}%", w * 100.0)).unwrap_or_else(|| "—".into()))
                        (if zh { "，区间覆盖率 " } else { ", interval coverage " })
                        (f.total.backtest.coverage.map(|w| format!("{:.0}%", w * 100.0)).unwrap_or_else(|| "—".into()))
                        @if !wall { " · " a href="/dashboard/forecast.xlsx" { (if zh { "导出Excel" } else { "Export to Excel" }) } }
                    }
                }
            }
            section.panel {
                @let rows: Vec<(String, f64, Option<String>)> = b.categories.iter().map(|c| (c.1.clone(), c.2 as f64, Some(format!("/tickets?category={}&created_from={}", c.0, b.today.with_day(1).unwrap_or(b.today))))).collect();
                (bars(if zh { "本月诉求类别构成" } else { "This month by category" }, &rows))
            }
            section.panel {
                @let cells: Vec<(String, f64, String, Option<String>)> = b.districts.iter().map(|d| {
                    let shade = d.3.unwrap_or(d.2 as f64);
                    let text = match d.3 {
                        Some(p) => format!("{}件 · 万人比{p:.2}", d.2),
                        None => format!("{}件", d.2),
                    };
                    (d.1.clone(), shade, text, Some(format!("/tickets?division={}&created_from={}", d.0, b.today.with_day(1).unwrap_or(b.today))))
                }).collect();
                (tiles(if zh { "本月区县分布" } else { "This month by district" }, &cells))
            }
        }
        div.grid2 {
            section.panel {
                h2 { (if zh { "承办单位考评排名（本月）" } else { "Units ranked (this month)" }) }
                @if let Some(t) = &b.ranking {
                    @let scored: Vec<_> = t.rows.iter().filter(|r| r.rank.is_some()).collect();
                    // The best five and the last five (all, if ten or fewer).
                    @let shown: Vec<_> = if scored.len() <= 10 { scored.clone() } else { scored[..5].iter().chain(&scored[scored.len() - 5..]).copied().collect() };
                    table.list {
                        thead { tr { th { "#" } th { (if zh { "单位" } else { "Unit" }) } th { (if zh { "得分" } else { "Score" }) } th { (if zh { "满意率" } else { "Satisfaction" }) } th { (if zh { "按期办结率" } else { "On time" }) } } }
                        tbody {
                            @for r in &shown {
                                tr class=[r.zone.map(|z| match z { mashangban_domain::kpi::Zone::Blue => "zone blue", mashangban_domain::kpi::Zone::Yellow => "zone yellow", mashangban_domain::kpi::Zone::Red => "zone red" })] {
                                    td { (r.rank.unwrap_or(0)) " " span.tag { (zone_zh(r.zone)) } }
                                    td { (r.name) }
                                    td.num { (r.kpis.score.map(|s| format!("{s:.1}")).unwrap_or_default()) }
                                    td.num { (percent(r.kpis.satisfaction_rate)) }
                                    td.num { (percent(r.kpis.on_time_rate)) }
                                }
                            }
                        }
                    }
                    @if !wall { p.export { a href="/kpis?group_by=unit" { (if zh { "全部排名" } else { "Full ranking" }) } " · " a href="/kpis/export.xlsx?group_by=unit" { (if zh { "导出Excel" } else { "Export to Excel" }) } } }
                }
            }
            section.panel {
                h2 { (if zh { "热点问题（近7日）" } else { "Hot issues (last 7 days)" }) }
                @if b.hot.is_empty() {
                    p.muted { (t(lang, "empty")) }
                } @else {
                    table.list.hot {
                        thead { tr { th { "#" } th { (if zh { "热度" } else { "Heat" }) } th { (if zh { "问题" } else { "Problem" }) } th { (if zh { "地点" } else { "Place" }) } th { (if zh { "件/人" } else { "Req./people" }) } @if b.may_propose && !wall { th {} } } }
                        tbody {
                            @for h in &b.hot {
                                tr {
                                    td { (h.rank) }
                                    td.num { (format!("{:.0}", h.heat)) }
                                    td { @if let Some(id) = h.ticket_ids.last() { a href=(format!("/tickets/{id}")) { (h.description) } } @else { (h.description) } }
                                    td { (h.place.clone().unwrap_or_default()) }
                                    td.num { (h.requests) "/" (h.people) }
                                    @if b.may_propose && !wall {
                                        td { @if let Some(l) = super::topics::from_hot_issue_link(h) { a.propose href=(l) { (if zh { "提为每月一题" } else { "Propose as a topic" }) } } }
                                    }
                                }
                            }
                        }
                    }
                    @if !wall { p.export { a href="/dashboard/hot-issues.xlsx" { (if zh { "导出Excel" } else { "Export to Excel" }) } } }
                }
            }
        }
        @if let Some(o) = &b.outlook { (outlook_panel(lang, o)) }
        section.panel {
            h2 { (if zh { "预警" } else { "Warnings" }) }
            (warning_list(lang, &b.warnings, None))
            @if !wall { p.export { a href="/warnings" { (if zh { "全部预警" } else { "All warnings" }) } } }
        }
    }
}

/// 民情月历: the coming month by issue group, against the same month of previous years, with
/// how the model did when tried on the months before.
fn outlook_panel(lang: Lang, o: &mashangban_app::seasonal::SeasonalOutlook) -> Markup {
    let zh = lang == Lang::Zh;
    let pct = |v: f64| format!("{:.1}%", v * 100.0);
    html! {
        section.panel.outlook {
            h2 { (if zh { "民情月历：" } else { "Seasonal outlook: " }) (o.month) (if zh { " 诉求预测" } else { "" }) }
            @if o.rows.is_empty() {
                p.muted { (if zh { "历史数据不足一年，暂无同月对比预测。" } else { "Less than a year of history: no same-month outlook yet." }) }
            } @else {
                table.list.outlook {
                    thead { tr {
                        th { (if zh { "类别" } else { "Issue" }) }
                        th { (if zh { "预计件数" } else { "Expected" }) }
                        th { (if zh { "80%区间" } else { "80% interval" }) }
                        th { (if zh { "往年同月" } else { "Same month before" }) }
                        th { (if zh { "较去年同月" } else { "On last year" }) }
                    } }
                    tbody {
                        @for r in o.rows.iter().take(crate::reports::OUTLOOK_ROWS) {
                            tr {
                                td { (r.category_name) }
                                td.num { (format!("{:.0}", r.expected)) }
                                td.num { @if let (Some(l), Some(h)) = (r.low, r.high) { (format!("{l:.0}–{h:.0}")) } }
                                td { (r.same_month.iter().map(|m| format!("{}: {}", m.year, m.requests)).collect::<Vec<_>>().join(" · ")) }
                                td.num { @if let Some(c) = r.change_on_last_year { (format!("{:+.0}%", c * 100.0)) } }
                            }
                        }
                    }
                }
                p.muted.backtest {
                    (if zh { "回测 " } else { "Back-tested on " }) (o.backtest.origins) (if zh { " 个月：加权误差 " } else { " months: WAPE " })
                    (o.backtest.wape.map(pct).unwrap_or_default())
                    (if zh { "（照搬去年同月 " } else { " (last year's same month: " }) (o.backtest.naive_wape.map(pct).unwrap_or_default()) (if zh { "）" } else { ")" })
                    @if let Some(c) = o.coverage {
                        @if zh {
                            "；80%区间在未参与拟合的 " (o.backtest.evaluated) " 个类别-月份上的覆盖率 " (pct(c))
                        } @else {
                            "; the 80% interval covered " (pct(c)) " of " (o.backtest.evaluated) " held-out category-months"
                        }
                    }
                    (if zh { "。" } else { "." })
                }
            }
        }
    }
}

fn warning_list(lang: Lang, items: &[Warning], csrf: Option<&str>) -> Markup {
    let zh = lang == Lang::Zh;
    html! {
        @if items.is_empty() {
            p.muted { (if zh { "暂无预警" } else { "No warnings" }) }
        } @else {
            ol.warnings {
                @for w in items {
                    li class=(level_class(w.level)) id=(format!("w{}", w.id)) {
                        span.badge2 { (if zh { w.level.label_zh() } else { w.level.as_str() }) } " "
                        span.kind { (if zh { w.kind.label_zh() } else { w.kind.as_str() }) } " "
                        @match w.detail.get("link").and_then(|l| l.as_str()) {
                            Some(l) => a href=(l) { (w.title) },
                            None => @match w.ticket_id { Some(id) => a href=(format!("/tickets/{id}")) { (w.title) }, None => span { (w.title) } },
                        }
                        " " span.muted { (local_time(w.last_at)) " · " (if zh { w.status.label_zh() } else { w.status.as_str() }) }
                        @if let Some(ids) = w.detail.get("ticket_ids").and_then(|v| v.as_array()) {
                            // Each ticket by its number (warnings written before numbers were
                            // kept show the id).
                            @let numbers = w.detail.get("ticket_numbers").and_then(|v| v.as_array());
                            div.ids { (if zh { "工单：" } else { "Tickets: " })
                                @for (i, id) in ids.iter().filter_map(|v| v.as_i64()).take(20).enumerate() {
                                    a href=(format!("/tickets/{id}")) { (numbers.and_then(|n| n.get(i)).and_then(|n| n.as_str()).map(str::to_string).unwrap_or_else(|| id.to_string())) } " "
                                }
                            }
                        }
                        @if let Some(n) = &w.note { div.muted { (if zh { "处置说明：" } else { "Note: " }) (n) } }
                        @if let Some(csrf) = csrf {
                            form.inline method="post" action=(format!("/warnings/{}/handle", w.id)) {
                                input type="hidden" name="_csrf" value=(csrf);
                                input type="text" name="note" placeholder=(if zh { "处置说明" } else { "Note" }) maxlength="500";
                                @if w.status != WarningStatus::Acknowledged { button type="submit" name="status" value="acknowledged" { (if zh { "已处置" } else { "Acknowledge" }) } }
                                @if w.status != WarningStatus::Dismissed { button type="submit" name="status" value="dismissed" { (if zh { "排除" } else { "Dismiss" }) } }
                                @if w.status != WarningStatus::Open { button type="submit" name="status" value="open" { (if zh { "重新打开" } else { "Reopen" }) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn unavailable(lang: Lang, e: &AppError) -> Markup {
    tracing::error!(error = %e, "dashboard");
    html! { p.error role="alert" { (if lang == Lang::Zh { "暂时无法取得数据，请稍后再试。" } else { "The figures are not available; try again later." }) } }
}

/// `GET /dashboard`: the leader dashboard, refreshing every five minutes.
async fn dashboard_page(State(app): State<App>, headers: HeaderMap) -> Response {
    let s = match reader(&app, &headers, Permission::ReadFigures).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let lang = s.lang;
    let zh = lang == Lang::Zh;
    let content = match gather(&app, &s.actor()).await {
        Ok(b) => panels(lang, &b, false),
        Err(e) => unavailable(lang, &e),
    };
    let body = html! {
        meta http-equiv="refresh" content="300";
        h1 { (t(lang, "dashboard")) " " span.muted { (local_time(Utc::now())) } }
        p.muted { (if zh { "每5分钟自动刷新。" } else { "Refreshes every five minutes." }) " " a href="/wall" { (if zh { "大屏模式" } else { "Wall screen" }) } }
        (content)
    };
    html_response(StatusCode::OK, page(lang, Some(&s), "/dashboard", body))
}

/// `GET /wall`: the wall screen (大屏): the same panels, dark, large, no navigation,
/// refreshing every minute.
async fn wall_page(State(app): State<App>, headers: HeaderMap) -> Response {
    let s = match reader(&app, &headers, Permission::ReadFigures).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let lang = s.lang;
    let zh = lang == Lang::Zh;
    let content = match gather(&app, &s.actor()).await {
        Ok(b) => panels(lang, &b, true),
        Err(e) => unavailable(lang, &e),
    };
    let markup = html! {
        (maud::DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta http-equiv="refresh" content="60";
                title { (if zh { "12345热线数据大屏" } else { "12345 hotline wall screen" }) }
                link rel="stylesheet" href="/static/app.css";
            }
            body.wall {
                header.wall {
                    h1 { (if zh { "12345政务服务便民热线 · 有诉必应马上办" } else { "12345 hotline · answered at once" }) }
                    span.clock { (local_time(Utc::now())) }
                }
                main.wall { (content) }
            }
        }
    };
    html_response(StatusCode::OK, markup)
}

async fn volume_xlsx(State(app): State<App>, headers: HeaderMap) -> Response {
    let s = match reader(&app, &headers, Permission::ReadFigures).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let result = async {
        let b = gather(&app, &s.actor()).await?;
        let mut header: Vec<String> = vec!["日期".into()];
        header.extend(b.channel_names.iter().map(|(name, _)| name.clone()));
        header.push("合计".into());
        let rows: Vec<Vec<String>> = b
            .days
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let mut row = vec![d.to_string()];
                let mut total = 0.0;
                for v in b.by_channel.values() {
                    row.push(format!("{}", v[i]));
                    total += v[i];
                }
                row.push(format!("{total}"));
                row
            })
            .collect();
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        xlsx("诉求量", &header, &rows, "volume")
    }
    .await;
    export(&s, result, "/dashboard", "dashboard")
}

fn export(
    s: &Session,
    result: Result<Response, AppError>,
    current: &str,
    title: &'static str,
) -> Response {
    match result {
        Ok(r) => r,
        Err(e) => super::refused_page(s, &e, current, title),
    }
}

async fn forecast_xlsx(State(app): State<App>, headers: HeaderMap) -> Response {
    let s = match reader(&app, &headers, Permission::ReadFigures).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let result = async {
        let f = app
            .volume_forecast(&s.actor(), Utc::now(), ForecastRules::default())
            .await?;
        forecast_sheet(&f)
    }
    .await;
    export(&s, result, "/dashboard", "dashboard")
}

async fn hot_issues_xlsx(State(app): State<App>, headers: HeaderMap) -> Response {
    let s = match reader(&app, &headers, Permission::ReadFigures).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let result = async {
        let h = app.live_hot_issues(&s.actor(), Utc::now(), 7, 50).await?;
        hot_xlsx(&h)
    }
    .await;
    export(&s, result, "/dashboard", "dashboard")
}

/// `GET /warnings?status=open|acknowledged|dismissed|all`.
async fn warnings_page(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let s = match reader(&app, &headers, Permission::ReadWarnings).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    render_warnings(&app, &s, &q, None).await
}

async fn render_warnings(
    app: &App,
    s: &Session,
    q: &HashMap<String, String>,
    message: Option<String>,
) -> Response {
    let lang = s.lang;
    let zh = lang == Lang::Zh;
    let (status, items, error) = match status_param(q) {
        Ok(st) => match app.warnings(&s.actor(), st, 200).await {
            Ok(items) => (StatusCode::OK, items, None),
            Err(e) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                Vec::new(),
                Some(unavailable(lang, &e)),
            ),
        },
        Err(e) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Vec::new(),
            Some(html! { p.error role="alert" { (e.to_string()) } }),
        ),
    };
    let current = q.get("status").cloned().unwrap_or_default();
    let csrf = super::session_csrf(&s.token);
    let handler = s.may(Permission::HandleWarnings);
    let filters: &[(&str, &str, &str)] = &[
        ("", "全部", "All"),
        ("open", "待处理", "Open"),
        ("acknowledged", "已处置", "Acknowledged"),
        ("dismissed", "已排除", "Dismissed"),
    ];
    let body = html! {
        h1 { (t(lang, "warnings")) }
        @if let Some(m) = &message { p.notice role="status" { (m) } }
        @if let Some(e) = error { (e) }
        form.filters method="get" action="/warnings" {
            label for="w-status" { (if zh { "状态" } else { "Status" }) }
            select #w-status name="status" {
                @for (k, z, e) in filters { option value=(k) selected[current == *k] { (if zh { z } else { e }) } }
            }
            button.primary type="submit" { (if zh { "查询" } else { "Show" }) }
            a href=(format!("/warnings/export.xlsx?status={current}")) { (if zh { "导出Excel" } else { "Export to Excel" }) }
        }
        @if handler {
            form.filters method="post" action="/warnings/scan" {
                input type="hidden" name="_csrf" value=(csrf);
                button type="submit" { (if zh { "立即扫描" } else { "Scan now" }) }
                span.muted { (if zh { "系统每10分钟自动扫描：诉求激增（对比各类别、各区县自身按星期与节假日的基线，泊松检验）、同址聚集、重复来电。" } else { "The monitor also runs every 10 minutes: surges against each category and district's own weekly baseline (Poisson test), clusters at one place, repeat callers." }) }
            }
        }
        (warning_list(lang, &items, handler.then_some(csrf.as_str())))
    };
    html_response(status, page(lang, Some(s), "/warnings", body))
}

async fn warnings_export(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let s = match reader(&app, &headers, Permission::ReadWarnings).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let result = async {
        let st = status_param(&q)?;
        let items = app.warnings(&s.actor(), st, 1000).await?;
        warnings_xlsx(&items)
    }
    .await;
    export(&s, result, "/warnings", "warnings")
}

async fn scan_submit(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match form_session(&app, &headers, &form, Permission::HandleWarnings).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let zh = s.lang == Lang::Zh;
    let message = match app.scan_warnings_at(&s.actor(), Utc::now()).await {
        Ok(r) => {
            if zh {
                format!(
                    "扫描完成：诉求激增{}项，同址聚集{}项，重复来电{}项；新增或升级{}项。",
                    r.surges, r.clusters, r.repeat_callers, r.told
                )
            } else {
                format!(
                    "Scanned: {} surges, {} clusters, {} repeat callers; {} new or worse.",
                    r.surges, r.clusters, r.repeat_callers, r.told
                )
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "warning scan");
            return html_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                page(s.lang, Some(&s), "/warnings", unavailable(s.lang, &e)),
            );
        }
    };
    render_warnings(&app, &s, &HashMap::new(), Some(message)).await
}

async fn handle_submit(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match form_session(&app, &headers, &form, Permission::HandleWarnings).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let status = field("status").and_then(|v| WarningStatus::parse(&v));
    let (Ok(id), Some(status)) = (id.parse::<i64>(), status) else {
        let mut q = HashMap::new();
        q.insert("status".to_string(), String::new());
        return render_warnings(
            &app,
            &s,
            &q,
            Some(if s.lang == Lang::Zh {
                "无效的预警或状态".into()
            } else {
                "Unknown warning or status".into()
            }),
        )
        .await;
    };
    match app
        .handle_warning(&s.actor(), id, status, field("note"))
        .await
    {
        Ok(_) => Redirect::to(&format!("/warnings#w{id}")).into_response(),
        Err(e @ (AppError::Invalid { .. } | AppError::NotFound(_))) => {
            render_warnings(&app, &s, &HashMap::new(), Some(e.to_string())).await
        }
        Err(e) => html_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            page(s.lang, Some(&s), "/warnings", unavailable(s.lang, &e)),
        ),
    }
}
