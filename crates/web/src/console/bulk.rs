//! Bulk work on lists and queues (批量办理): the tickets ticked in a list are signed,
//! dispatched to one unit, noted or exported together. The page calls the one bulk use case
//! ([`App::act_on_many`]), which acts on each ticket alone, and shows what was done and what
//! was refused, ticket by ticket.

use super::i18n::{Lang, t};
use super::{Session, form_session, html_response, page, reference};
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use mashangban_app::tickets::BulkOutcome;
use mashangban_app::{App, AppError};
use mashangban_domain::Action;
use maud::{Markup, html};

/// The form the list's check boxes belong to.
pub const FORM_ID: &str = "bulk";

fn label(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    if lang == Lang::Zh { zh } else { en }
}

/// The bulk actions this user may take, in the order a desk uses them.
fn offered(s: &Session) -> Vec<Action> {
    let actor = s.actor();
    Action::BULK
        .into_iter()
        .filter(|a| mashangban_app::may_take(&actor, *a))
        .collect()
}

/// The bar under a list: what to do with the ticked tickets. Exporting them is open to
/// everyone who sees the list; the actions to those who may take them.
pub fn bar(
    lang: Lang,
    s: &Session,
    csrf: &str,
    r: &mashangban_app::Reference,
    back: &str,
) -> Markup {
    let actions = offered(s);
    let units: Vec<mashangban_domain::Unit> = if actions.contains(&Action::Dispatch) {
        r.units.values().cloned().collect()
    } else {
        Vec::new()
    };
    html! {
        form.bulk #(FORM_ID) method="post" action="/tickets/bulk" {
            input type="hidden" name="_csrf" value=(csrf);
            input type="hidden" name="_back" value=(back);
            span.bulk-count #bulk-count role="status" data-zh=(lang == Lang::Zh) {
                (label(lang, "勾选工单后可批量办理", "Tick tickets to work on them together"))
            }
            @if !actions.is_empty() {
                label for="bulk-action" { (label(lang, "批量", "Action")) }
                select #bulk-action name="action" {
                    @for a in &actions { option value=(a.as_str()) { (if lang == Lang::Zh { a.label_zh() } else { a.as_str() }) } }
                }
                @if actions.contains(&Action::Dispatch) {
                    span.bulk-dispatch {
                        label for="bulk-unit" { (label(lang, "主办单位", "Lead unit")) }
                        (super::actions::unit_search(lang, "bulk-unit"))
                        select #bulk-unit name="lead_unit_id" { option value="" { "—" } (super::actions::unit_options(&units, &[])) }
                        select #bulk-tier name="tier" aria-label=(label(lang, "处置时限", "Tier")) {
                            option value="" { (label(lang, "按分类默认", "category default")) }
                            @for d in [1, 3, 7, 11] { option value=(d) { (d) (label(lang, "天", " days")) } }
                        }
                    }
                }
                input #bulk-note name="note" size="24" placeholder=(label(lang, "意见或备注", "Note")) aria-label=(label(lang, "意见或备注", "Note"));
                button.primary type="submit" data-confirm=(label(lang, "确定对所选工单批量办理？", "Act on the ticked tickets?")) { (label(lang, "批量办理", "Apply")) }
            }
            button type="submit" formaction="/tickets/bulk/export.xlsx" { (label(lang, "导出所选", "Export ticked")) }
        }
    }
}

/// The ticket ids of a posted form (`ticket` repeated), or the refusal naming the field.
fn ticket_ids(form: &[(String, String)]) -> Result<Vec<i64>, AppError> {
    form.iter()
        .filter(|(k, _)| k == "ticket")
        .map(|(_, v)| {
            v.trim()
                .parse::<i64>()
                .map_err(|_| AppError::invalid("ticket_ids", format!("`{v}` is not an id")))
        })
        .collect()
}

/// Where to go back to: a local path only.
fn back_of(form: &[(String, String)]) -> String {
    super::back_to(form).unwrap_or_else(|| "/tickets".into())
}

/// Why a ticket was refused, in the user's language.
fn reason(lang: Lang, action: Action, code: &str, message: &str) -> String {
    if lang == Lang::En {
        return message.to_string();
    }
    match code {
        "illegal_transition" => format!("工单当前状态不能{}", action.label_zh()),
        "not_found" => "工单不存在或无权查看".into(),
        "forbidden" => "不是本单位承办的工单，不能办理".into(),
        _ => super::i18n::message(lang, message),
    }
}

/// `POST /tickets/bulk`: the action on every ticked ticket, then what happened to each.
pub async fn bulk_submit(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match form_session(&app, &headers, &form, None).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let lang = s.lang;
    let back = back_of(&form);
    let action = form
        .iter()
        .find(|(k, _)| k == "action")
        .and_then(|(_, v)| Action::parse(v));
    let values: Vec<(String, String)> = form
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "_csrf" | "_back" | "action" | "ticket"))
        .cloned()
        .collect();
    let result = match action {
        None => Err(AppError::invalid("action", "choose what to do")),
        Some(action) => match (ticket_ids(&form), super::actions::to_body(action, &values)) {
            (Err(e), _) => Err(e),
            (_, Err((field, message))) => Err(AppError::Invalid { field, message }),
            (Ok(ids), Ok(body)) => app
                .act_on_many(&s.actor(), action, &ids, body)
                .await
                .map(|o| (action, o)),
        },
    };
    let title = label(lang, "批量办理", "Bulk action");
    match result {
        Ok((action, outcome)) => html_response(
            StatusCode::OK,
            page(
                lang,
                Some(&s),
                "/tickets",
                outcome_body(lang, action, &outcome, &back),
            ),
        ),
        Err(e) => {
            let status = match &e {
                AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                AppError::Forbidden(_) => StatusCode::FORBIDDEN,
                AppError::Internal(detail) => {
                    tracing::error!(%detail, "bulk action");
                    StatusCode::INTERNAL_SERVER_ERROR
                }
                _ => StatusCode::CONFLICT,
            };
            let text = match &e {
                AppError::Invalid { field, .. } if field == "ticket_ids" && lang == Lang::Zh => {
                    format!("请勾选1到{}件工单", Action::BULK_MAX)
                }
                AppError::Invalid { field, .. } if field == "action" && lang == Lang::Zh => {
                    "请选择批量办理的操作（签收、派单或备注）".to_string()
                }
                AppError::Invalid { field, message } => {
                    format!("{field}: {}", super::i18n::message(lang, message))
                }
                AppError::Internal(_) => "internal error; it has been logged".into(),
                other => other.to_string(),
            };
            html_response(
                status,
                page(
                    lang,
                    Some(&s),
                    "/tickets",
                    html! {
                        h1 { (title) }
                        p.error role="alert" { (text) }
                        p { a href=(back) { (label(lang, "返回列表", "Back to the list")) } }
                    },
                ),
            )
        }
    }
}

fn outcome_body(lang: Lang, action: Action, o: &BulkOutcome, back: &str) -> Markup {
    let zh = lang == Lang::Zh;
    let name = if zh {
        action.label_zh()
    } else {
        action.as_str()
    };
    html! {
        h1 { (label(lang, "批量办理", "Bulk action")) " · " (name) }
        p.notice.success role="status" #bulk-summary {
            @if zh {
                "已" (name) " " strong #bulk-done { (o.done.len()) } " 件"
                @if !o.refused.is_empty() { "，未办理 " strong #bulk-refused { (o.refused.len()) } " 件（见下表，其余不受影响）" }
                "。"
            } @else {
                (name) ": " strong #bulk-done { (o.done.len()) } " done"
                @if !o.refused.is_empty() { ", " strong #bulk-refused { (o.refused.len()) } " refused (below; the others are unaffected)" }
                "."
            }
        }
        @if !o.refused.is_empty() {
            h2 { (label(lang, "未办理的工单", "Refused")) }
            table.list #refused {
                thead { tr { th { (t(lang, "number")) } th { (label(lang, "原因", "Why")) } } }
                tbody {
                    @for x in &o.refused {
                        tr {
                            td { @match &x.number { Some(n) => a href=(format!("/tickets/{}", x.id)) { (n) }, None => { "#" (x.id) } } }
                            td { (reason(lang, action, &x.code, &x.message)) }
                        }
                    }
                }
            }
        }
        @if !o.done.is_empty() {
            h2 { (label(lang, "已办理的工单", "Done")) }
            p #done {
                @for d in &o.done { a href=(format!("/tickets/{}", d.id)) { (d.number) } " " }
            }
        }
        p { a.button href=(back) { (label(lang, "返回列表", "Back to the list")) } }
    }
}

/// `POST /tickets/bulk/export.xlsx`: the ticked tickets as a spreadsheet, as the user may
/// see them (masked where masked); one the user may not see is left out.
pub async fn export_selected(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match form_session(&app, &headers, &form, None).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let lang = s.lang;
    let fail = |status: StatusCode, text: String| super::error_page(&s, status, "/tickets", &text);
    let ids = match ticket_ids(&form) {
        Ok(ids) if !ids.is_empty() && ids.len() <= super::list::EXPORT_MAX_ROWS => ids,
        Ok(_) => {
            return fail(
                StatusCode::UNPROCESSABLE_ENTITY,
                label(
                    lang,
                    "请先勾选要导出的工单",
                    "Tick the tickets to export first",
                )
                .into(),
            );
        }
        Err(e) => return fail(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    };
    let r = reference(&app, &s.actor()).await;
    let mut rows = Vec::new();
    for id in ids {
        match app.get_ticket(&s.actor(), id).await {
            Ok(tk) => rows.push(super::list::row(lang, &tk, &r)),
            Err(AppError::NotFound(_) | AppError::Forbidden(_)) => {}
            Err(e) => {
                tracing::error!(error = %e, "export ticked");
                return fail(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error; it has been logged".into(),
                );
            }
        }
    }
    super::list::tickets_file(lang, &rows, true).unwrap_or_else(|e| {
        tracing::error!(error = %e, "export ticked");
        fail(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error; it has been logged".into(),
        )
    })
}
