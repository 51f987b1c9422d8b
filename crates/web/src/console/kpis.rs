//! The evaluation page (考评排名): the figures of a period for the city or per unit, place,
//! category or channel, ranked with their zones, each group linking to its tickets; Excel
//! export; the daily and monthly reports as documents.

use super::i18n::{Lang, t};
use super::{forbidden_page, html_response, page, session, to_login};
use crate::api_kpi::{percent, table_of, xlsx_response, zone_zh};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use mashangban_app::App;
use mashangban_app::kpis::{KpiRow, KpiTable};
use mashangban_domain::Permission;
use mashangban_domain::aggregates::Dim;
use mashangban_domain::kpi::Zone;
use maud::{Markup, html};
use std::collections::HashMap;

const GROUPINGS: &[(&str, &str, &str)] = &[
    ("", "全市", "City"),
    ("unit", "承办单位", "Units"),
    (
        "territory",
        "按属地（含下级）",
        "By territory (with the units below)",
    ),
    ("district", "区县", "Districts"),
    ("street", "街道乡镇", "Streets"),
    ("category_l1", "诉求大类", "Categories (top level)"),
    ("category", "诉求小类", "Categories"),
    ("channel", "渠道", "Channels"),
    ("line", "整合热线", "Merged hotlines"),
];

/// The signed-in reader of the evaluation and analysis pages, or the page to answer with
/// instead.
pub(super) async fn reader(
    app: &App,
    headers: &HeaderMap,
    permission: Permission,
) -> Result<super::Session, Response> {
    let Some(s) = session(app, headers).await else {
        return Err(to_login());
    };
    if !s.may(permission) {
        return Err(forbidden_page(s.lang));
    }
    Ok(s)
}

/// The tickets behind a row: received in the period, of the group.
fn tickets_link(table: &KpiTable, row: &KpiRow) -> String {
    let mut q = format!(
        "/tickets?created_from={}&created_to={}",
        table.period.from, table.period.to
    );
    if let Some(g) = &row.group {
        // A territory's tickets are its own and its units' below: the next level's
        // figures say which.
        if table.territory {
            return format!(
                "/kpis?group_by=territory&parent={g}&from={}&to={}",
                table.period.from, table.period.to
            );
        }
        let name = match table.group_by {
            Some(Dim::Unit) => "unit",
            Some(Dim::District | Dim::Street) => "division",
            Some(Dim::CategoryL1 | Dim::CategoryL2 | Dim::Category) => "category",
            Some(Dim::Channel) => "channel",
            _ => return q,
        };
        q.push_str(&format!("&{name}={g}"));
    }
    q
}

fn zone_class(z: Option<Zone>) -> Option<&'static str> {
    z.map(|z| match z {
        Zone::Blue => "zone blue",
        Zone::Yellow => "zone yellow",
        Zone::Red => "zone red",
    })
}

fn table_markup(lang: Lang, table: &KpiTable) -> Markup {
    let zh = lang == Lang::Zh;
    let head: &[(&str, &str)] = &[
        ("排名", "Rank"),
        ("名称", "Name"),
        ("诉求量", "Requests"),
        ("回访量", "Callbacks"),
        ("其中市民自评", "Of which citizens' ratings"),
        ("万人诉求比", "Per 10k"),
        ("响应率", "Response"),
        ("解决率", "Resolution"),
        ("满意率", "Satisfaction"),
        ("办结率", "Completion"),
        ("按期办结率", "On time"),
        ("退单率", "Returns"),
        ("直接办结率", "Direct"),
        ("督办", "Supervisions"),
        ("答复质检问题率", "Replies flagged"),
        ("综合得分", "Score"),
        ("环比", "Trend"),
    ];
    html! {
        div.table-scroll { table.list.kpis {
            thead { tr { @for (z, e) in head { th { (if zh { z } else { e }) } } } }
            tbody {
                @for r in &table.rows {
                    @let k = &r.kpis;
                    tr class=[zone_class(r.zone)] {
                        td.num { @if let Some(n) = r.rank { (n) " " span.tag { (zone_zh(r.zone)) } } }
                        td { a href=(tickets_link(table, r)) { (r.name) } }
                        td.num {
                            a href=(tickets_link(table, r)) { (k.requests) }
                            @if k.transferred_out > 0 {
                                " " span.muted title=(if zh { "转交110、省平台等其他平台办理的诉求，不计入各项比率" } else { "handed to another platform, in no rate" }) {
                                    (if zh { "（转出" } else { " (handed out " }) (k.transferred_out) (if zh { "）" } else { ")" })
                                }
                            }
                        }
                        td.num { (k.callbacks) }
                        td.num {
                            (k.citizen_ratings)
                            @if k.excluded_ratings > 0 {
                                " " span.muted title=(if zh { "经审核不合理、未计入的市民差评" } else { "citizens' bad ratings judged unreasonable, not counted" }) {
                                    (if zh { "（剔除" } else { " (excluded " }) (k.excluded_ratings) (if zh { "）" } else { ")" })
                                }
                            }
                        }
                        td.num { (k.requests_per_10k.map(|v| format!("{v:.2}")).unwrap_or_default()) }
                        td.num { (percent(k.response_rate)) }
                        td.num { (percent(k.resolution_rate)) }
                        td.num { (percent(k.satisfaction_rate)) }
                        td.num { (percent(k.completion_rate)) }
                        td.num { (percent(k.on_time_rate)) }
                        td.num { (percent(k.return_rate)) }
                        td.num { (percent(k.direct_rate)) }
                        td.num {
                            @if k.supervisions > 0 {
                                a href=(format!("{}&supervision=any", tickets_link(table, r))) { (k.supervisions) }
                            } @else { (k.supervisions) }
                        }
                        td.num title=(if zh { "经答复质检、由热线审核通过的答复中，发现问题的比例（仅供参考，不计入得分）" } else { "of the replies approved after inspection, the share with findings (advice; not in the score)" }) { (percent(k.reply_flag_rate)) }
                        td.num { (k.score.map(|s| format!("{s:.2}")).unwrap_or_default()) }
                        td { (r.trend.clone().unwrap_or_default()) }
                    }
                }
            }
        } }
    }
}

/// The units' work down the levels (分级转办 · 吹哨报到): timeliness of each level's replies
/// and the departments' 报到率.
fn levels_markup(lang: Lang, t: &mashangban_app::kpis::LevelWorkTable, query: &str) -> Markup {
    use mashangban_app::kpis::LevelRank as R;
    let zh = lang == Lang::Zh;
    // (Chinese, English, the figure the heading ranks on).
    let cols: [(&str, &str, Option<R>); 14] = [
        ("名次", "Rank", None),
        ("单位", "Unit", None),
        ("转办至本级", "Forwarded to it", None),
        ("签收", "Signed", None),
        ("按时签收率", "Signed in time", Some(R::OnTimeSignRate)),
        ("上报答复", "Replies sent up", None),
        ("按时答复率", "Replied in time", Some(R::OnTimeReplyRate)),
        ("被上级退回率", "Sent back", Some(R::RejectionRate)),
        ("超期", "Overdue", None),
        ("被吹哨", "Called to the spot", None),
        ("报到率", "Reported in", Some(R::ReportInRate)),
        ("按时报到率", "Reported in time", None),
        ("就地办结", "Resolved on the spot", Some(R::ResolvedOnSpot)),
        ("近邻议事会", "Residents' meetings", None),
    ];
    let name = |r: R| {
        serde_json::to_value(r)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    };
    html! {
        h2 #levels { (if zh { "分级办理、吹哨报到与社区自办" } else { "Work down the levels, calls to the spot and the communities' own handling" }) }
        @if t.rows.is_empty() { p.muted { (if zh { "本期没有分级转办、吹哨报到或社区自办。" } else { "Nothing forwarded down, called to the spot or handled by a community in the period." }) } }
        @else {
            p.muted { (if zh { "点击带下划线的列名按该项排名。" } else { "Click an underlined heading to rank on it." }) }
            div.table-scroll { table.list.levels {
                thead { tr { @for (z, e, by) in cols {
                    th aria-sort=[by.filter(|b| Some(*b) == t.rank_by).map(|_| "descending")] {
                        @match by {
                            Some(b) => a href=(format!("/kpis?{query}&rank_by={}#levels", name(b))) { (if zh { z } else { e }) },
                            None => (if zh { z } else { e }),
                        }
                    }
                } } }
                tbody {
                    @for r in &t.rows {
                        tr {
                            td.num { @if let Some(p) = r.rank { (p) } }
                            td { (r.name) }
                            td.num { (r.work.forwarded) }
                            td.num { (r.work.signed) }
                            td.num { (percent(r.on_time_sign_rate)) }
                            td.num { (r.work.replies) }
                            td.num { (percent(r.on_time_reply_rate)) }
                            td.num { (percent(r.rejection_rate)) }
                            td.num { (r.work.overdue) }
                            td.num { (r.work.summoned) }
                            td.num { (percent(r.report_in_rate)) }
                            td.num { (percent(r.on_time_report_in_rate)) }
                            td.num { (r.work.resolved_on_spot) }
                            td.num { (r.work.meetings) }
                        }
                    }
                }
            } }
        }
    }
}

/// `GET /kpis?from&to&group_by`.
pub async fn kpis_page(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let s = match reader(&app, &headers, Permission::ReadFigures).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let lang = s.lang;
    let zh = lang == Lang::Zh;
    let v = |k: &str| q.get(k).cloned().unwrap_or_default();
    let (status, table, error) = match table_of(&app, &s.actor(), &q).await {
        Ok(t) => (StatusCode::OK, Some(t), None),
        Err(mashangban_app::AppError::Invalid { field, message }) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(format!("{field}: {message}")),
        ),
        Err(e) => {
            tracing::error!(error = %e, "kpi page");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                None,
                Some(
                    if zh {
                        "暂时无法计算，请稍后再试。"
                    } else {
                        "Could not compute the figures; try again later."
                    }
                    .to_string(),
                ),
            )
        }
    };
    // By territory below a unit: which unit, and the way back up a level.
    let parent = match v("parent").parse::<i64>() {
        Ok(p) if v("group_by") == "territory" => {
            let r = super::reference(&app, &s.actor()).await;
            r.units.get(&p).map(|u| (u.name.clone(), u.parent_id))
        }
        _ => None,
    };
    // By territory, what each unit did down the levels too.
    let levels = match (&table, v("group_by").as_str()) {
        (Some(t), "territory") => {
            let parent = v("parent").parse::<i64>().ok();
            let rank_by = mashangban_app::kpis::LevelRank::parse(&v("rank_by"));
            match app
                .level_work_table(&s.actor(), t.period, parent, rank_by)
                .await
            {
                Ok(l) => Some(l),
                Err(e) => {
                    tracing::error!(error = %e, "level work");
                    None
                }
            }
        }
        _ => None,
    };
    let query: String = ["from", "to", "group_by", "parent", "source"]
        .iter()
        .filter(|k| !v(k).is_empty())
        .map(|k| format!("{k}={}", v(k)))
        .collect::<Vec<_>>()
        .join("&");
    let body = html! {
        h1 { (t(lang, "kpis")) }
        form.filters method="get" action="/kpis" {
            label for="k-from" { (if zh { "起" } else { "From" }) }
            input #k-from type="date" name="from" value=(table.as_ref().map(|t| t.period.from.to_string()).unwrap_or_else(|| v("from")));
            label for="k-to" { (if zh { "止" } else { "To" }) }
            input #k-to type="date" name="to" value=(table.as_ref().map(|t| t.period.to.to_string()).unwrap_or_else(|| v("to")));
            label for="k-group" { (if zh { "维度" } else { "By" }) }
            select #k-group name="group_by" {
                @for (key, z, e) in GROUPINGS {
                    option value=(key) selected[v("group_by") == *key] { (if zh { z } else { e }) }
                }
            }
            label for="k-source" { (if zh { "回访来源" } else { "Callbacks" }) }
            select #k-source name="source" {
                @for (key, z, e) in [("", "全部", "All"), ("agent", "回访员回访", "Agents' callbacks"), ("citizen", "市民自评", "Citizens' own ratings")] {
                    option value=(key) selected[v("source") == key] { (if zh { z } else { e }) }
                }
            }
            @if v("group_by") == "territory" && !v("parent").is_empty() {
                input type="hidden" name="parent" value=(v("parent"));
            }
            button.primary type="submit" { (if zh { "查询" } else { "Show" }) }
            a href=(format!("/kpis/export.xlsx?{query}")) { (if zh { "导出Excel" } else { "Export to Excel" }) }
        }
        @if let Some(e) = &error { p.error role="alert" { (e) } }
        @if let Some(table) = &table {
            p.muted {
                (if zh { "统计期 " } else { "Period " }) (table.period.from) " — " (table.period.to)
                (if zh { "，对比上期 " } else { ", compared with " }) (table.previous.from) " — " (table.previous.to)
                (if zh { "。满意率 = (满意 + " } else { ". Satisfaction = (satisfied + " })
                (table.policy.basically_satisfied_weight)
                (if zh { "×基本满意) ÷ 回访量。" } else { " × basically satisfied) ÷ callbacks." })
            }
            @if let Some((name, up)) = &parent {
                p {
                    strong { (name) } (if zh { " 的下级单位（各含其下级）" } else { ": the units below it, each with its own below" })
                    " · "
                    a href=(match up {
                        Some(u) => format!("/kpis?group_by=territory&parent={u}&from={}&to={}", table.period.from, table.period.to),
                        None => format!("/kpis?group_by=territory&from={}&to={}", table.period.from, table.period.to),
                    }) { (if zh { "返回上一级" } else { "one level up" }) }
                }
            }
            (table_markup(lang, table))
        }
        @if let Some(l) = &levels { (levels_markup(lang, l, &query)) }
        h2 { (if zh { "报告" } else { "Reports" }) }
        form.filters method="get" action="/reports/daily" {
            label for="r-date" { (if zh { "工作日报" } else { "Daily report" }) }
            input #r-date type="date" name="date" value=(table.as_ref().map(|t| t.period.to.to_string()).unwrap_or_default());
            button type="submit" name="format" value="html" { (if zh { "查看" } else { "View" }) }
            button type="submit" name="format" value="docx" { (if zh { "下载Word" } else { "Word" }) }
            button type="submit" name="format" value="doc" { (if zh { "网页版Word" } else { "Word (HTML)" }) }
            button type="submit" name="format" value="xlsx" { (if zh { "导出Excel" } else { "Excel" }) }
        }
        form.filters method="get" action="/reports/monthly" {
            label for="r-month" { (if zh { "月度考评通报" } else { "Monthly report" }) }
            input #r-month type="month" name="month" value=(table.as_ref().map(|t| t.period.from.format("%Y-%m").to_string()).unwrap_or_default());
            button type="submit" name="format" value="html" { (if zh { "查看" } else { "View" }) }
            button type="submit" name="format" value="docx" { (if zh { "下载Word" } else { "Word" }) }
            button type="submit" name="format" value="xlsx" { (if zh { "排名Excel" } else { "Ranking (Excel)" }) }
        }
    };
    html_response(status, page(lang, Some(&s), "/kpis", body))
}

/// `GET /kpis/export.xlsx?...`: the page's table as Excel.
pub async fn export_xlsx(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let s = match reader(&app, &headers, Permission::ReadFigures).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match table_of(&app, &s.actor(), &q)
        .await
        .and_then(|t| xlsx_response(&t))
    {
        Ok(r) => r,
        Err(e) => super::refused_page(&s, &e, "/kpis", "kpis"),
    }
}

/// `GET /reports/daily` and `/reports/monthly` for the signed-in reader: the API's
/// documents (html shown, doc downloaded, xlsx for the monthly ranking).
pub async fn report(
    State(app): State<App>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Query(mut q): Query<HashMap<String, String>>,
) -> Response {
    let s = match reader(&app, &headers, Permission::ReadFigures).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    q.entry("format".into()).or_insert_with(|| "html".into());
    let answer = if uri.path().ends_with("/monthly") {
        crate::api_kpi::monthly_response(&app, &s.actor(), &q).await
    } else {
        crate::api_kpi::daily_response(&app, &s.actor(), &q).await
    };
    match answer {
        Ok(mut r) => {
            r.headers_mut().insert(
                header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            r
        }
        Err(e) => super::refused_page(&s, &e, "/kpis", "kpis"),
    }
}
