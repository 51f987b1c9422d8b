//! The grid worker's patrol report (网格上报) and what a community does on its own: the
//! report form, with 就地办结 at hand; the community's reports; and on a ticket's page, who
//! reported it, whether it was resolved on the spot, and the residents' meetings (近邻议事会)
//! held on it.

use super::i18n::{Lang, t};
use super::{
    Session, forbidden_page, form_session, html_response, local_time, page, reference, session,
    session_csrf, ticket_table, to_login,
};
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use mashangban_app::tickets::ListQuery;
use mashangban_app::{App, AppError};
use mashangban_domain::{Channel, Kind, Permission, Ticket};
use maud::{Markup, html};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

#[derive(serde::Deserialize, Default)]
pub struct PatrolQuery {
    created: Option<i64>,
}

type Typed = HashMap<String, String>;

fn val<'a>(typed: &'a Typed, k: &str) -> &'a str {
    typed.get(k).map(String::as_str).unwrap_or("")
}

fn label(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    if lang == Lang::Zh { zh } else { en }
}

/// Reports of the community, newest first.
const RECENT: u32 = 20;

async fn patrol_body(
    app: &App,
    s: &Session,
    typed: &Typed,
    errors: &HashMap<String, String>,
    created: Option<&Ticket>,
) -> Markup {
    let lang = s.lang;
    let zh = lang == Lang::Zh;
    let r = reference(app, &s.actor()).await;
    let err = |k: &str| errors.get(k).map(|m| super::i18n::message(lang, m));
    let recent = app
        .list_tickets(
            &s.actor(),
            ListQuery {
                channel: Some(Channel::GRID),
                limit: Some(RECENT),
                ..Default::default()
            },
        )
        .await
        .map(|p| p.items)
        .unwrap_or_default();
    let kind = match val(typed, "kind") {
        "" => Kind::Help.as_str(),
        k => k,
    };
    html! {
        h1 { (label(lang, "网格上报", "Patrol report")) @if let Some(u) = s.user.unit_id.and_then(|u| r.unit_name(u)) { " · " (u) } }
        @if let Some(tk) = created {
            p.notice role="status" #patrol-created {
                (label(lang, "已上报，工单编号 ", "Reported: ticket ")) a href=(format!("/tickets/{}", tk.id)) { strong { (tk.number) } }
                @if tk.resolved_on_spot_by.is_some() { (label(lang, "（已就地办结）", " (resolved on the spot)")) }
                @else { (label(lang, "（待热线派单）", " (awaiting the hotline's dispatch)")) }
            }
        }
        @if let Some(e) = err("form") { p.error role="alert" { (e) } }
        form.intake #patrol-form method="post" action="/patrol" {
            input type="hidden" name="_csrf" value=(session_csrf(&s.token));
            div.row {
                div.field {
                    label for="kind" { (t(lang, "kind")) }
                    select #kind name="kind" {
                        @for k in Kind::ALL { option value=(k.as_str()) selected[kind == k.as_str()] { (if zh { k.label_zh() } else { k.as_str() }) } }
                    }
                }
                div.field {
                    label for="category_code" { (t(lang, "category")) }
                    (super::intake::category_picker(lang, &r, val(typed, "category_code")))
                    @if let Some(e) = err("category_code") { span.error { (e) } }
                }
            }
            div.field {
                label for="address" { (label(lang, "发现地点（必填）", "Where it was found (required)")) }
                input #address name="address" value=(val(typed, "address")) size="60" required;
                @if let Some(e) = err("address") { span.error { (e) } }
            }
            div.field {
                label for="content" { (label(lang, "发现的问题 / 居民反映", "What was found, or what a resident said")) }
                textarea #content name="content" rows="4" cols="80" { (val(typed, "content")) }
                @if let Some(e) = err("content") { span.error { (e) } }
            }
            div.row {
                div.field {
                    label for="name" { (label(lang, "反映居民（可不填）", "Resident (optional)")) }
                    input #name name="name" value=(val(typed, "name"));
                    @if let Some(e) = err("citizen.name") { span.error { (e) } }
                }
                div.field {
                    label for="phone" { (t(lang, "phone")) }
                    input #phone name="phone" value=(val(typed, "phone")) inputmode="tel";
                    @if let Some(e) = err("citizen.phone") { span.error { (e) } }
                }
            }
            div.field {
                label for="resolved_on_spot" { (label(lang, "就地办结：处置情况（填写即办结，不再派单）", "Resolved on the spot: what was done (ends the ticket; nothing is dispatched)")) }
                textarea #resolved_on_spot name="resolved_on_spot" rows="2" cols="80" { (val(typed, "resolved_on_spot")) }
                @if let Some(e) = err("resolved_on_spot") { span.error { (e) } }
            }
            button.primary type="submit" { (label(lang, "上报", "Report")) }
        }
        section.desk #community-reports {
            h2 { (label(lang, "本社区网格上报", "Our community's patrol reports")) }
            div.table-scroll { (ticket_table(lang, &recent, &r, false, false)) }
        }
    }
}

pub async fn patrol_page(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<PatrolQuery>,
) -> Response {
    let Some(s) = session(&app, &headers).await else {
        return to_login();
    };
    if !s.may(Permission::ReportOnPatrol) {
        return forbidden_page(s.lang);
    }
    let created = match q.created {
        Some(id) => app.get_ticket(&s.actor(), id).await.ok(),
        None => None,
    };
    let body = patrol_body(&app, &s, &Typed::new(), &HashMap::new(), created.as_ref()).await;
    html_response(StatusCode::OK, page(s.lang, Some(&s), "/patrol", body))
}

/// The body of `POST /api/v1/patrol-reports` from the form.
fn report_body(typed: &Typed) -> Value {
    let mut body = Map::new();
    for k in [
        "kind",
        "content",
        "address",
        "category_code",
        "resolved_on_spot",
    ] {
        let v = val(typed, k).trim();
        if !v.is_empty() {
            body.insert(k.into(), json!(v));
        }
    }
    for k in ["content", "address"] {
        body.entry(k).or_insert(json!(""));
    }
    let mut citizen = Map::new();
    for k in ["name", "phone"] {
        let v = val(typed, k).trim();
        if !v.is_empty() {
            citizen.insert(k.into(), json!(v));
        }
    }
    if !citizen.is_empty() {
        body.insert("citizen".into(), Value::Object(citizen));
    }
    Value::Object(body)
}

pub async fn patrol_submit(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match form_session(&app, &headers, &form, Permission::ReportOnPatrol).await {
        Ok(s) => s,
        Err(refused) => return refused,
    };
    let typed: Typed = form.into_iter().filter(|(k, _)| k != "_csrf").collect();
    let (field, message) = match app
        .report_on_patrol(&s.actor(), report_body(&typed), None)
        .await
    {
        Ok((tk, _)) => return Redirect::to(&format!("/patrol?created={}", tk.id)).into_response(),
        Err(AppError::Invalid { field, message }) => (field, message),
        Err(e) => {
            tracing::error!(error = %e, "patrol report");
            (
                "form".to_string(),
                "internal error; it has been logged".to_string(),
            )
        }
    };
    let errors = HashMap::from([(field, message)]);
    let body = patrol_body(&app, &s, &typed, &errors, None).await;
    html_response(
        StatusCode::UNPROCESSABLE_ENTITY,
        page(s.lang, Some(&s), "/patrol", body),
    )
}

/// On a ticket's page: the community that reported it on patrol, what it did if it
/// resolved the matter itself, and the residents' meetings held on it. Nothing for a ticket
/// with none of these.
pub fn community_card(lang: Lang, tk: &Ticket, r: &mashangban_app::Reference) -> Markup {
    if tk.reported_by_unit_id.is_none() && tk.meetings.is_empty() {
        return html! {};
    }
    let name = |u: i64| r.unit_name(u).unwrap_or("?");
    html! {
        div.card.community #community {
            h2 { (label(lang, "社区处置", "The community's own handling")) }
            dl.fields {
                @if let Some(u) = tk.reported_by_unit_id {
                    dt { (label(lang, "网格上报", "Reported on patrol by")) } dd { (name(u)) }
                }
                @if let (Some(u), Some(done)) = (tk.resolved_on_spot_by, &tk.answer) {
                    dt { (label(lang, "就地办结", "Resolved on the spot")) }
                    dd { span.tag.on-spot { (name(u)) } " " (tk.closed_at.map(local_time).unwrap_or_default()) " · " (done) }
                }
            }
            @if !tk.meetings.is_empty() {
                h3 { (label(lang, "近邻议事会", "Residents' meetings")) }
                div.table-scroll { table.list.meetings {
                    thead { tr {
                        th { (label(lang, "日期", "Held on")) } th { (label(lang, "召集单位", "Held by")) }
                        th { (label(lang, "参会人员", "Who took part")) } th { (label(lang, "议定事项", "Decided")) }
                        th { (label(lang, "费用承担", "Who pays")) }
                    } }
                    tbody {
                        @for m in &tk.meetings {
                            tr {
                                td { (m.held_on.format("%Y-%m-%d").to_string()) }
                                td { (name(m.unit_id)) }
                                td { (m.participants) }
                                td { (m.decision) }
                                td { (m.who_pays) }
                            }
                        }
                    }
                } }
            }
        }
    }
}
