//! Search and lists (工单查询): filters by state, unit, channel, category, district and
//! date, paging, and the current list exported to Excel (.xlsx) or CSV.

use super::i18n::{Lang, t};
use super::{
    html_response, local_time, page, reference, session, state_label, ticket_table, to_login,
};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mashangban_app::auth::actor_of;
use mashangban_app::tickets::ListQuery;
use mashangban_app::{App, AppError, Reference};
use mashangban_domain::{Permission, Ticket, TicketState, UnitKind};
use maud::{Markup, html};

/// Most rows one export holds; narrow the filters for more.
pub const EXPORT_MAX_ROWS: usize = 20_000;

/// Filter names the list page keeps in its links, its exports and its saved filters
/// (everything but the cursor).
const KEPT: [&str; 14] = [
    "order",
    "state",
    "unit",
    "channel",
    "category",
    "division",
    "created_from",
    "created_to",
    "phone",
    "extension_pending",
    "alert",
    "supervision",
    "awaiting_answer",
    "queue",
];

fn value<'a>(pairs: &'a [(String, String)], k: &str) -> &'a str {
    pairs
        .iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// The query string of the current filters (without the cursor).
fn kept_query(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .filter(|(k, v)| KEPT.contains(&k.as_str()) && !v.trim().is_empty())
        .map(|(k, v)| format!("{}={}", k, encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes a query value.
fn encode(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b',' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn filters_form(
    lang: Lang,
    s: &super::Session,
    pairs: &[(String, String)],
    r: &Reference,
) -> Markup {
    // A unit sees its own tickets only; only those who see phone numbers look them up.
    let any_unit =
        mashangban_domain::ticket_reach(&s.actor()) == mashangban_domain::TicketReach::All;
    let by_phone = s.may(Permission::SeeContacts);
    let zh = lang == Lang::Zh;
    let v = |k: &str| value(pairs, k).to_string();
    let chosen_states: Vec<&str> = value(pairs, "state").split(',').collect();
    let mut categories: Vec<_> = r.categories.values().filter(|c| c.level <= 2).collect();
    categories.sort_by(|a, b| a.code.cmp(&b.code));
    let mut counties: Vec<(&String, &String)> = r
        .divisions
        .iter()
        .filter(|(c, _)| mashangban_domain::DivisionCode::new(c).is_district())
        .collect();
    counties.sort();
    html! {
        form.filters method="get" action="/tickets" {
            div.search {
                label for="f-q" { (if zh { "全文搜索" } else { "Search" }) }
                input #f-q type="search" name="q" value=(v("q")) size="24" placeholder=(if zh { "标题、内容、地址、答复或工单编号" } else { "title, content, address, reply or number" });
            }
            div {
                label for="f-state" { (t(lang, "state")) }
                select #f-state name="state" {
                    option value="" { (t(lang, "all")) }
                    @if chosen_states.len() > 1 { option value=(v("state")) selected { (v("state")) } }
                    @for st in TicketState::ALL {
                        option value=(st.as_str()) selected[chosen_states.len() == 1 && chosen_states[0] == st.as_str()] { (state_label(*st, lang)) }
                    }
                }
            }
            @if any_unit {
                div {
                    label for="f-unit" { (t(lang, "unit")) }
                    (super::actions::unit_search(lang, "f-unit"))
                    select #f-unit name="unit" {
                        option value="" { (t(lang, "all")) }
                        @for kind in [UnitKind::CityDepartment, UnitKind::Enterprise, UnitKind::DistrictGovernment, UnitKind::StreetOffice] {
                            optgroup label=(if zh { kind.label_zh() } else { kind.as_str() }) {
                                @for u in r.units.values().filter(|u| u.kind == kind) {
                                    option value=(u.id) data-py=(super::actions::initials(&u.name)) selected[v("unit") == u.id.to_string()] { (u.name) }
                                }
                            }
                        }
                    }
                }
            }
            div {
                label for="f-channel" { (t(lang, "channel")) }
                select #f-channel name="channel" {
                    option value="" { (t(lang, "all")) }
                    @for c in &r.channels { option value=(c.code.as_str()) selected[v("channel") == c.code.as_str()] { (if zh { &c.name } else { &c.name_en }) } }
                }
            }
            div {
                label for="f-category" { (t(lang, "category")) }
                select #f-category name="category" {
                    option value="" { (t(lang, "all")) }
                    @for c in &categories {
                        option value=(c.code) selected[v("category") == c.code] { @if c.level == 2 { "\u{3000}" } (c.name) }
                    }
                }
            }
            div {
                label for="f-division" { (t(lang, "district")) }
                select #f-division name="division" {
                    option value="" { (t(lang, "all")) }
                    @for (code, name) in &counties { option value=(code) selected[v("division") == **code] { (name) } }
                    @if !v("division").is_empty() && !counties.iter().any(|(c, _)| **c == v("division")) {
                        option value=(v("division")) selected { (r.division_path(&v("division")).unwrap_or_else(|| v("division"))) }
                    }
                }
            }
            div {
                label for="f-from" { (t(lang, "created_from")) }
                input #f-from type="date" name="created_from" value=(v("created_from"));
            }
            div {
                label for="f-to" { (t(lang, "created_to")) }
                input #f-to type="date" name="created_to" value=(v("created_to"));
            }
            @if by_phone {
                div {
                    label for="f-phone" { (t(lang, "phone")) }
                    input #f-phone name="phone" value=(v("phone")) size="12" inputmode="tel";
                }
            }
            div {
                label for="f-alert" { (if zh { "时限" } else { "Deadline" }) }
                select #f-alert name="alert" {
                    option value="" { (t(lang, "all")) }
                    @for (val, zh_l, en_l) in [("any", "预警或超期", "at risk or overdue"), ("overdue", "超期", "overdue")] {
                        option value=(val) selected[v("alert") == val] { (if zh { zh_l } else { en_l }) }
                    }
                }
            }
            div {
                label for="f-supervision" { (if zh { "督办" } else { "Supervision" }) }
                select #f-supervision name="supervision" {
                    option value="" { (t(lang, "all")) }
                    @for (val, zh_l, en_l) in [("any", "督办中", "any level"), ("l2", "书面督办及以上", "L2 or higher"), ("l3", "挂牌督办", "L3")] {
                        option value=(val) selected[v("supervision") == val] { (if zh { zh_l } else { en_l }) }
                    }
                }
            }
            @if !v("order").is_empty() { input type="hidden" name="order" value=(v("order")); }
            @if !v("extension_pending").is_empty() { input type="hidden" name="extension_pending" value=(v("extension_pending")); }
            @if !v("awaiting_answer").is_empty() { input type="hidden" name="awaiting_answer" value=(v("awaiting_answer")); }
            @if !v("queue").is_empty() { input type="hidden" name="queue" value=(v("queue")); }
            button.primary type="submit" { (t(lang, "filter")) }
            a href="/tickets" { (t(lang, "reset")) }
        }
    }
}

/// The user's saved filters above the list, each a link with a delete button, and the
/// form that saves the filters now in force under a name.
fn saved_filters_bar(
    lang: Lang,
    csrf: &str,
    saved: &[mashangban_app::tickets::SavedFilter],
    pairs: &[(String, String)],
) -> Markup {
    let zh = lang == Lang::Zh;
    let current: Vec<&(String, String)> = pairs
        .iter()
        .filter(|(k, v)| (KEPT.contains(&k.as_str()) || k == "q") && !v.trim().is_empty())
        .collect();
    html! {
        div.saved-filters #saved-filters {
            @if !saved.is_empty() {
                span.muted { (if zh { "我的筛选：" } else { "My filters: " }) }
                @for f in saved {
                    span.chip {
                        a href=(format!("/tickets?{}", f.query)) { (f.name) }
                        form.inline method="post" action=(format!("/tickets/filters/{}/delete", f.id)) {
                            input type="hidden" name="_csrf" value=(csrf);
                            button.link type="submit" title=(if zh { "删除此筛选" } else { "Delete this filter" }) aria-label=(if zh { format!("删除筛选 {}", f.name) } else { format!("Delete filter {}", f.name) }) { "×" }
                        }
                    }
                }
            }
            @if !current.is_empty() {
                form.inline.save-filter method="post" action="/tickets/filters" {
                    input type="hidden" name="_csrf" value=(csrf);
                    @for (k, v) in &current { input type="hidden" name=(k) value=(v); }
                    input name="name" size="12" maxlength="40" required placeholder=(if zh { "筛选名称" } else { "Name" }) aria-label=(if zh { "筛选名称" } else { "Filter name" });
                    button type="submit" { (if zh { "保存当前筛选" } else { "Save these filters" }) }
                }
            }
        }
    }
}

/// Newest or oldest first, over every page (the server's order; a column header sorts the
/// page shown).
fn order_links(lang: Lang, pairs: &[(String, String)]) -> Markup {
    let zh = lang == Lang::Zh;
    let oldest = value(pairs, "order") == "oldest";
    let others = kept_query(
        &pairs
            .iter()
            .filter(|(k, _)| k != "order")
            .cloned()
            .collect::<Vec<_>>(),
    );
    let sep = if others.is_empty() { "" } else { "&" };
    html! {
        p.order #order {
            (if zh { "排序：" } else { "Order: " })
            @if oldest {
                a href=(format!("/tickets?{others}")) { (if zh { "最新在前" } else { "newest first" }) }
                " · " strong { (if zh { "最早在前" } else { "oldest first" }) }
            } @else {
                strong { (if zh { "最新在前" } else { "newest first" }) }
                " · " a href=(format!("/tickets?{others}{sep}order=oldest")) { (if zh { "最早在前" } else { "oldest first" }) }
            }
        }
    }
}

/// `POST /tickets/filters`: saves the posted filters under the posted name, then shows them.
pub async fn save_filter(
    State(app): State<App>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    let s = match super::form_session(&app, &headers, &form, None).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let name = value(&form, "name").to_string();
    let pairs: Vec<(String, String)> = form
        .into_iter()
        .filter(|(k, _)| k != "_csrf" && k != "name")
        .collect();
    match app.save_filter(&s.actor(), &name, pairs).await {
        Ok(f) => super::with_cookie(
            axum::response::Redirect::to(&format!("/tickets?{}", f.query)).into_response(),
            super::flash::set_note(super::flash::Note::FilterSaved),
        ),
        Err(e) => super::refused_page(&s, &e, "/tickets", "tickets"),
    }
}

/// `POST /tickets/filters/{id}/delete`: deletes one of the user's saved filters.
pub async fn delete_filter(
    State(app): State<App>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    let s = match super::form_session(&app, &headers, &form, None).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Ok(id) = id.parse::<i64>() else {
        return super::refused_page(
            &s,
            &AppError::NotFound("saved filter not found".into()),
            "/tickets",
            "tickets",
        );
    };
    match app.delete_saved_filter(&s.actor(), id).await {
        Ok(()) => super::with_cookie(
            axum::response::Redirect::to("/tickets").into_response(),
            super::flash::set_note(super::flash::Note::FilterDeleted),
        ),
        Err(e) => super::refused_page(&s, &e, "/tickets", "tickets"),
    }
}

pub async fn tickets_page(
    State(app): State<App>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let Some(s) = session(&app, &headers).await else {
        return to_login();
    };
    let lang = s.lang;
    let r = reference(&app, &s.actor()).await;
    let text = value(&pairs, "q").trim().to_string();
    if !text.is_empty() {
        return search_page(&app, &s, &pairs, &r).await;
    }
    let pairs: Vec<(String, String)> = pairs.into_iter().filter(|(k, _)| k != "q").collect();
    let mut forbidden = false;
    let (items, next, error) = match ListQuery::from_pairs(pairs.clone()) {
        Ok(mut q) => {
            q.limit = Some(50);
            match app.list_tickets(&actor_of(&s.user), q).await {
                Ok(p) => (p.items, p.next_cursor, None),
                Err(AppError::Invalid { field, message }) => (
                    Vec::new(),
                    None,
                    Some(format!("{field}: {}", super::i18n::message(lang, &message))),
                ),
                Err(e @ AppError::Forbidden(_)) => {
                    forbidden = true;
                    (Vec::new(), None, Some(e.to_string()))
                }
                Err(e) => {
                    tracing::error!(error = %e, "ticket list");
                    (
                        Vec::new(),
                        None,
                        Some("internal error; it has been logged".into()),
                    )
                }
            }
        }
        Err(AppError::Invalid { field, message }) => (
            Vec::new(),
            None,
            Some(format!("{field}: {}", super::i18n::message(lang, &message))),
        ),
        Err(e) => (Vec::new(), None, Some(e.to_string())),
    };
    let kept = kept_query(&pairs);
    let sep = if kept.is_empty() { "" } else { "&" };
    let saved = app.saved_filters(&s.actor()).await.unwrap_or_else(|e| {
        tracing::error!(error = %e, "saved filters");
        Vec::new()
    });
    let csrf = super::session_csrf(&s.token);
    let body = html! {
        h1 { (t(lang, "tickets")) }
        (saved_filters_bar(lang, &csrf, &saved, &pairs))
        (filters_form(lang, &s, &pairs, &r))
        @if let Some(e) = &error { p.error role="alert" { (e) } }
        (order_links(lang, &pairs))
        p.export {
            (t(lang, "export")) ": "
            a href=(format!("/tickets/export.xlsx?{kept}")) { "Excel (.xlsx)" } " · "
            a href=(format!("/tickets/export.csv?{kept}")) { "CSV" }
        }
        (ticket_table(lang, &items, &r, true, true))
        (super::bulk::bar(lang, &s, &csrf, &r, &format!("/tickets?{kept}")))
        @if let Some(c) = next {
            p.pager { a href=(format!("/tickets?{kept}{sep}cursor={c}")) { (t(lang, "next_page")) } }
        }
    };
    let status = match (&error, forbidden) {
        (Some(_), true) => StatusCode::FORBIDDEN,
        (Some(_), false) => StatusCode::UNPROCESSABLE_ENTITY,
        (None, _) => StatusCode::OK,
    };
    html_response(status, page(lang, Some(&s), "/tickets", body))
}

/// Tickets found by full-text search, best first, under the same filters, 50 to a page.
async fn search_page(
    app: &App,
    s: &super::Session,
    pairs: &[(String, String)],
    r: &Reference,
) -> Response {
    let lang = s.lang;
    let zh = lang == Lang::Zh;
    let offset: usize = value(pairs, "offset").parse().unwrap_or(0);
    // Best first: the list's order does not apply to a search.
    let mut asked: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, v)| k != "cursor" && k != "limit" && k != "order" && !v.trim().is_empty())
        .cloned()
        .collect();
    asked.push(("limit".into(), "50".into()));
    let (found, error) = match app.search_tickets(&actor_of(&s.user), asked).await {
        Ok(p) => (Some(p), None),
        Err(AppError::Invalid { field, message }) => (
            None,
            Some(format!("{field}: {}", super::i18n::message(lang, &message))),
        ),
        Err(e) => {
            tracing::error!(error = %e, "ticket search");
            (None, Some("internal error; it has been logged".to_string()))
        }
    };
    let kept: String = kept_query(
        &pairs
            .iter()
            .filter(|(k, _)| k != "offset")
            .cloned()
            .collect::<Vec<_>>(),
    );
    let saved = app.saved_filters(&s.actor()).await.unwrap_or_else(|e| {
        tracing::error!(error = %e, "saved filters");
        Vec::new()
    });
    let csrf = super::session_csrf(&s.token);
    let body = html! {
        h1 { (t(lang, "tickets")) }
        (saved_filters_bar(lang, &csrf, &saved, pairs))
        (filters_form(lang, s, pairs, r))
        @if let Some(e) = &error { p.error role="alert" { (e) } }
        @if let Some(p) = &found {
            p.search-summary role="status" {
                @if zh {
                    "找到 " strong #search-total { (p.total) } " 件"
                    @if !p.all_words && p.total > 0 { "（没有同时包含全部词语的工单，以下为包含部分词语的结果）" }
                    " · 检索词：" (p.words.join("、"))
                } @else {
                    "Found " strong #search-total { (p.total) }
                    @if !p.all_words && p.total > 0 { " (none has every word; these have some)" }
                    " · words: " (p.words.join(", "))
                }
            }
            @let items: Vec<Ticket> = p.items.iter().map(|i| i.ticket.clone()).collect();
            (ticket_table(lang, &items, r, true, true))
            (super::bulk::bar(lang, s, &csrf, r, &format!("/tickets?{kept}")))
            p.pager {
                @if offset > 0 {
                    a href=(format!("/tickets?{kept}&offset={}", offset.saturating_sub(50))) { (if zh { "上一页" } else { "Previous page" }) } " "
                }
                @if offset + 50 < p.total.min(crate::console::list::SEARCH_DEPTH) {
                    a href=(format!("/tickets?{kept}&offset={}", offset + 50)) { (t(lang, "next_page")) }
                }
            }
        }
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    html_response(status, page(lang, Some(s), "/tickets", body))
}

/// How deep search pages go.
pub(crate) const SEARCH_DEPTH: usize = mashangban_app::search::SEARCH_MAX_OFFSET;

/// The columns of an export: header (zh, en) and the cell of a ticket.
fn columns(lang: Lang) -> Vec<&'static str> {
    [
        "number",
        "state",
        "channel",
        "kind",
        "title",
        "content",
        "citizen",
        "phone",
        "address",
        "category",
        "division",
        "lead_unit",
        "co_units",
        "tier",
        "alert",
        "supervision",
        "created",
        "dispatched_at",
        "replied_at",
        "closed_at",
        "reply",
    ]
    .into_iter()
    .map(|k| t(lang, k))
    .collect()
}

pub(crate) fn row(lang: Lang, tk: &Ticket, r: &Reference) -> Vec<String> {
    let zh = lang == Lang::Zh;
    let time = |at: Option<chrono::DateTime<chrono::Utc>>| at.map(local_time).unwrap_or_default();
    let code_or_path = |code: &Option<String>, path: Option<String>| {
        path.or_else(|| code.clone()).unwrap_or_default()
    };
    vec![
        tk.number.clone(),
        state_label(tk.state, lang).to_string(),
        r.channel_name(&tk.channel, !zh),
        (if zh {
            tk.kind.label_zh()
        } else {
            tk.kind.as_str()
        })
        .to_string(),
        tk.title.clone(),
        tk.content.clone(),
        tk.citizen.name.clone().unwrap_or_default(),
        tk.citizen.phone.clone().unwrap_or_default(),
        tk.address.clone().unwrap_or_default(),
        code_or_path(
            &tk.category_code,
            tk.category_code.as_deref().and_then(|c| r.category_path(c)),
        ),
        code_or_path(
            &tk.division_code,
            tk.division_code.as_deref().and_then(|c| r.division_path(c)),
        ),
        tk.lead_unit_id
            .and_then(|u| r.unit_name(u))
            .unwrap_or("")
            .to_string(),
        tk.co_unit_ids
            .iter()
            .filter_map(|u| r.unit_name(*u))
            .collect::<Vec<_>>()
            .join("、"),
        tk.tier.map(|d| d.to_string()).unwrap_or_default(),
        match tk.alert_level() {
            Some(mashangban_domain::deadlines::AlertLevel::Overdue) => {
                (if zh { "超期" } else { "overdue" }).to_string()
            }
            Some(_) => (if zh { "预警" } else { "warning" }).to_string(),
            None => String::new(),
        },
        tk.supervision
            .as_ref()
            .map(|s| {
                if zh {
                    s.level.label_zh().to_string()
                } else {
                    s.level.as_str().to_string()
                }
            })
            .unwrap_or_default(),
        local_time(tk.created_at),
        time(tk.dispatched_at),
        time(tk.replied_at),
        time(tk.closed_at),
        tk.reply.clone().unwrap_or_default(),
    ]
}

/// A spreadsheet cell must not start like a formula (CSV/Excel injection).
fn safe_cell(v: &str) -> String {
    match v.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{v}"),
        _ => v.to_string(),
    }
}

pub(crate) fn csv_bytes(header: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>, String> {
    // A byte-order mark, so that Excel opens the UTF-8 file with its Chinese intact.
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record(header).map_err(|e| e.to_string())?;
    for r in rows {
        w.write_record(r.iter().map(|c| safe_cell(c)))
            .map_err(|e| e.to_string())?;
    }
    w.into_inner().map_err(|e| e.to_string())
}

fn xlsx_bytes(header: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>, String> {
    crate::xlsx::workbook(
        "工单",
        header,
        rows,
        &[(0, 18.0), (4, 30.0), (5, 60.0), (18, 60.0)],
    )
}

/// `/tickets/export.xlsx` and `/tickets/export.csv`: the list the filters describe, every
/// page of it (up to [`EXPORT_MAX_ROWS`]), as the user may see it (masked where masked).
pub async fn export_xlsx(
    State(app): State<App>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    export(app, headers, pairs, true).await
}

pub async fn export_csv(
    State(app): State<App>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    export(app, headers, pairs, false).await
}

async fn export(
    app: App,
    headers: HeaderMap,
    pairs: Vec<(String, String)>,
    xlsx: bool,
) -> Response {
    let Some(s) = session(&app, &headers).await else {
        return to_login();
    };
    let lang = s.lang;
    let fail = |status: StatusCode, msg: String| super::error_page(&s, status, "/tickets", &msg);
    let pairs: Vec<(String, String)> = pairs.into_iter().filter(|(k, _)| k != "cursor").collect();
    let base = match ListQuery::from_pairs(pairs) {
        Ok(q) => q,
        Err(e) => return fail(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    };
    let actor = actor_of(&s.user);
    let r = reference(&app, &s.actor()).await;
    let mut rows = Vec::new();
    let mut cursor = None;
    loop {
        let q = ListQuery {
            cursor: cursor.take(),
            limit: Some(500),
            ..base.clone()
        };
        match app.list_tickets(&actor, q).await {
            Ok(p) => {
                rows.extend(p.items.iter().map(|tk| row(lang, tk, &r)));
                match p.next_cursor {
                    Some(c) if rows.len() < EXPORT_MAX_ROWS => cursor = Some(c),
                    _ => break,
                }
            }
            Err(e @ AppError::Forbidden(_)) => {
                return fail(StatusCode::FORBIDDEN, e.to_string());
            }
            Err(e @ AppError::Invalid { .. }) => {
                return fail(StatusCode::UNPROCESSABLE_ENTITY, e.to_string());
            }
            Err(e) => {
                tracing::error!(error = %e, "export");
                return fail(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error; it has been logged".into(),
                );
            }
        }
    }
    rows.truncate(EXPORT_MAX_ROWS);
    tickets_file(lang, &rows, xlsx).unwrap_or_else(|e| {
        tracing::error!(error = %e, "export file");
        fail(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error; it has been logged".into(),
        )
    })
}

/// Tickets as a download: one row each ([`row`]), as .xlsx or CSV, named by the time.
pub(crate) fn tickets_file(
    lang: Lang,
    rows: &[Vec<String>],
    xlsx: bool,
) -> Result<Response, String> {
    let header = columns(lang);
    let stamp = chrono::Utc::now()
        .with_timezone(&mashangban_domain::intake::china_offset())
        .format("%Y%m%d-%H%M");
    let (bytes, mime, ext) = if xlsx {
        (
            xlsx_bytes(&header, rows)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        )
    } else {
        (csv_bytes(&header, rows)?, "text/csv; charset=utf-8", "csv")
    };
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"tickets-{stamp}.{ext}\""))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if rows.len() >= EXPORT_MAX_ROWS
        && let Ok(v) = HeaderValue::from_str(&EXPORT_MAX_ROWS.to_string())
    {
        h.insert("x-export-truncated-at", v);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_filters_leave_out_the_cursor_and_encode() {
        let pairs = vec![
            ("state".to_string(), "received,replied".to_string()),
            ("cursor".to_string(), "99".to_string()),
            ("phone".to_string(), "".to_string()),
            ("category".to_string(), "01 02&x".to_string()),
        ];
        assert_eq!(
            kept_query(&pairs),
            "state=received,replied&category=01%2002%26x"
        );
        // The deadline, supervision and queue filters go to the next page and the export
        // too (they were dropped: page 2 of 超期 listed every ticket).
        let pairs = vec![
            ("alert".to_string(), "overdue".to_string()),
            ("supervision".to_string(), "l2".to_string()),
            ("awaiting_answer".to_string(), "true".to_string()),
            ("queue".to_string(), "to_sign".to_string()),
        ];
        assert_eq!(
            kept_query(&pairs),
            "alert=overdue&supervision=l2&awaiting_answer=true&queue=to_sign"
        );
    }

    #[test]
    fn cells_never_become_formulas() {
        assert_eq!(safe_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(safe_cell("-1"), "'-1");
        assert_eq!(safe_cell("路灯不亮"), "路灯不亮");
    }

    #[test]
    fn csv_starts_with_a_bom_and_quotes() {
        let b = csv_bytes(&["编号", "内容"], &[vec!["XN1".into(), "a,b".into()]]).unwrap();
        let text = String::from_utf8(b).unwrap();
        assert!(text.starts_with('\u{feff}'));
        assert!(text.contains("\"a,b\""));
    }

    #[test]
    fn xlsx_is_a_zip() {
        let b = xlsx_bytes(&["编号"], &[vec!["XN1".into()]]).unwrap();
        assert_eq!(&b[..2], b"PK");
    }
}
