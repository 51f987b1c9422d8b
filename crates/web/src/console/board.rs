//! The supervisor board (督办看板): open tickets at risk, overdue and under supervision,
//! by lead unit, with the overdue ones listed for one-click supervision; and each user's
//! console notices (通知).

use super::i18n::{Lang, t};
use super::{
    forbidden_page, html_response, local_time, page, reference, session, session_csrf,
    supervision_tag, to_login,
};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mashangban_app::App;
use mashangban_app::auth::actor_of;
use mashangban_app::tickets::ListQuery;
use mashangban_domain::{Permission, Ticket};
use maud::{Markup, html};

/// Overdue tickets listed under the table.
const BOARD_ROWS: u32 = 50;

/// Who may raise supervision from the board (the others see it read-only): those the
/// transition table lets supervise.
fn may_supervise(s: &super::Session) -> bool {
    mashangban_app::may_take(&s.actor(), mashangban_domain::Action::Supervise)
}

/// The one-click form: raise the ticket one level, with a standard instruction.
fn supervise_button(lang: Lang, csrf: &str, tk: &Ticket) -> Markup {
    let zh = lang == Lang::Zh;
    let next = match &tk.supervision {
        None => Some(mashangban_domain::SupervisionLevel::L1),
        Some(s) => s.level.next(),
    };
    html! {
        @if let Some(level) = next {
            form.inline method="post" action=(format!("/tickets/{}/act/supervise", tk.id)) {
                input type="hidden" name="_csrf" value=(csrf);
                input type="hidden" name="_back" value="/board";
                input type="hidden" name="level" value=(level.as_str());
                input type="hidden" name="note" value="督办看板：该件已超期，请加快办理并于1个工作日内反馈。";
                button.primary type="submit" data-confirm=(if zh { format!("确定对工单 {} 发起{}？", tk.number, level.label_zh()) } else { format!("Raise ticket {} to {}?", tk.number, level.as_str().to_uppercase()) }) {
                    (if zh { level.label_zh().to_string() } else { format!("Raise to {}", level.as_str().to_uppercase()) })
                }
            }
        } @else {
            span.muted { (if zh { "已最高级" } else { "highest level" }) }
        }
    }
}

pub async fn board_page(State(app): State<App>, headers: HeaderMap) -> Response {
    let Some(s) = session(&app, &headers).await else {
        return to_login();
    };
    let lang = s.lang;
    let zh = lang == Lang::Zh;
    if !s.may(Permission::ReadFigures) {
        return forbidden_page(lang);
    }
    let lines = match app.board(&s.actor()).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "board");
            Vec::new()
        }
    };
    let overdue = match app
        .list_tickets(
            &actor_of(&s.user),
            ListQuery {
                alert: Some(2),
                limit: Some(BOARD_ROWS),
                ..Default::default()
            },
        )
        .await
    {
        Ok(p) => p.items,
        Err(e) => {
            tracing::error!(error = %e, "board overdue list");
            Vec::new()
        }
    };
    let r = reference(&app, &s.actor()).await;
    let csrf = session_csrf(&s.token);
    let can = may_supervise(&s);
    // Monthly topics' tasks not done yet, watched beside the tickets.
    let tasks = app.open_topic_tasks(&s.actor()).await.unwrap_or_else(|e| {
        tracing::error!(error = %e, "board topic tasks");
        Vec::new()
    });
    let link = |unit: Option<i64>, q: &str| match unit {
        Some(u) => format!("/tickets?unit={u}&{q}"),
        None => format!("/tickets?{q}"),
    };
    let cell = |n: i64, href: String, class: &'static str| {
        html! { td.num { @if n > 0 { a class=(class) href=(href) { (n) } } @else { span.muted { "0" } } } }
    };
    let total =
        |f: fn(&mashangban_app::deadlines::BoardLine) -> i64| lines.iter().map(f).sum::<i64>();
    let body = html! {
        h1 { (t(lang, "board")) }
        p.summary {
            (if zh { "预警 " } else { "At risk " }) strong { (total(|l| l.at_risk)) }
            (if zh { " · 超期 " } else { " · overdue " }) strong.error { (total(|l| l.overdue)) }
            (if zh { " · 督办中 " } else { " · supervised " }) strong { (total(|l| l.l1 + l.l2 + l.l3)) }
            (if zh { "（挂牌 " } else { " (L3 " }) (total(|l| l.l3)) (if zh { "）" } else { ")" })
            (if zh { " · 待反馈 " } else { " · awaiting answers " }) strong { (total(|l| l.awaiting_answer)) }
        }
        @if lines.is_empty() {
            p.muted { (if zh { "没有预警、超期或督办中的工单。" } else { "No ticket is at risk, overdue or under supervision." }) }
        } @else {
            table.list.board {
                thead { tr {
                    th { (t(lang, "lead_unit")) }
                    th { (if zh { "预警" } else { "At risk" }) } th { (if zh { "超期" } else { "Overdue" }) }
                    th { (if zh { "催办" } else { "L1" }) } th { (if zh { "书面督办" } else { "L2" }) } th { (if zh { "挂牌督办" } else { "L3" }) }
                    th { (if zh { "待反馈" } else { "Unanswered" }) }
                } }
                tbody {
                    @for l in &lines {
                        tr {
                            td { @if let Some(u) = l.unit_id { a href=(format!("/tickets?unit={u}&alert=any")) { (l.unit_name) } } @else { (l.unit_name) } }
                            (cell(l.at_risk, link(l.unit_id, "alert=any"), "clock warning"))
                            (cell(l.overdue, link(l.unit_id, "alert=overdue"), "clock overdue"))
                            (cell(l.l1, link(l.unit_id, "supervision=l1"), "supervised l1"))
                            (cell(l.l2, link(l.unit_id, "supervision=l2"), "supervised l2"))
                            (cell(l.l3, link(l.unit_id, "supervision=l3"), "supervised l3"))
                            (cell(l.awaiting_answer, link(l.unit_id, "supervision=any&awaiting_answer=true"), ""))
                        }
                    }
                }
            }
        }
        h2 { (if zh { "超期工单" } else { "Overdue tickets" }) " " span.count { (overdue.len()) } }
        @if overdue.is_empty() {
            p.muted { (t(lang, "empty")) }
        } @else {
            table.list {
                thead { tr {
                    th { (t(lang, "number")) } th { (t(lang, "title")) } th { (t(lang, "lead_unit")) }
                    th { (t(lang, "deadline")) } th { (if zh { "督办" } else { "Supervision" }) }
                    @if can { th { } }
                } }
                tbody {
                    @for tk in &overdue {
                        tr {
                            td { a href=(format!("/tickets/{}", tk.id)) { (tk.number) } }
                            td { (tk.title) }
                            td { (tk.lead_unit_id.and_then(|u| r.unit_name(u)).unwrap_or("")) }
                            td { @for a in &tk.alerts { span class=(if a.level == mashangban_domain::deadlines::AlertLevel::Overdue { "clock overdue" } else { "clock warning" }) { (if zh { a.clock.label_zh() } else { a.clock.as_str() }) " " (local_time(a.due_at)) } " " } }
                            td { (supervision_tag(lang, tk)) }
                            @if can { td { (supervise_button(lang, &csrf, tk)) } }
                        }
                    }
                }
            }
        }
        (super::topics::open_tasks_section(lang, &tasks, &r))
    };
    html_response(StatusCode::OK, page(lang, Some(&s), "/board", body))
}

/// `GET /notices/unseen`: how many notices the user has not seen, as the badge shows it
/// (empty for none), for the page's script to poll.
pub async fn unseen_count(State(app): State<App>, headers: HeaderMap) -> Response {
    let Some(s) = session(&app, &headers).await else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let badge = if s.unseen > 0 {
        super::unseen_badge(s.unseen)
    } else {
        String::new()
    };
    let mut r = (StatusCode::OK, badge).into_response();
    r.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    r
}

/// The user's console notices, newest first, those not read yet marked: opening one
/// (through `/notices/{id}/open`) reads that one; a button reads them all.
pub async fn notices_page(State(app): State<App>, headers: HeaderMap) -> Response {
    let Some(s) = session(&app, &headers).await else {
        return to_login();
    };
    let lang = s.lang;
    let zh = lang == Lang::Zh;
    let (items, unread) = match app.my_notices(&s.user, 100, false).await {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(error = %e, "notices");
            (Vec::new(), 0)
        }
    };
    let body = html! {
        h1 { (t(lang, "notices")) @if unread > 0 { " " span.count { (if zh { format!("{unread}条未读") } else { format!("{unread} unread") }) } } }
        @if unread > 0 {
            form.inline method="post" action="/notices/read-all" {
                input type="hidden" name="_csrf" value=(super::session_csrf(&s.token));
                button type="submit" { (if zh { "全部标为已读" } else { "Mark all read" }) }
            }
        }
        @if items.is_empty() {
            p.muted { (t(lang, "empty")) }
        } @else {
            ol.notices {
                @for (n, read) in &items {
                    @let p: serde_json::Value = serde_json::from_str(&n.payload).unwrap_or_default();
                    li class=[(!read).then_some("new")] id=(format!("n{}", n.id)) {
                        span.when { (local_time(n.created_at)) }
                        " "
                        a href=(format!("/notices/{}/open", n.id)) { (p["text"].as_str().unwrap_or("")) }
                    }
                }
            }
        }
    };
    html_response(StatusCode::OK, page(lang, Some(&s), "/notices", body))
}

/// `GET /notices/{id}/open`: reads one notice and goes where it points (its ticket, or a
/// local link it carries).
pub async fn open_notice(
    State(app): State<App>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    let Some(s) = session(&app, &headers).await else {
        return to_login();
    };
    let Ok(id) = id.parse::<i64>() else {
        return axum::response::Redirect::to("/notices").into_response();
    };
    match app.open_notice(&s.user, id).await {
        Ok(n) => {
            let to = crate::api::notice_link(&n).unwrap_or_else(|| "/notices".into());
            axum::response::Redirect::to(&to).into_response()
        }
        Err(e) => {
            tracing::debug!(error = %e, "open notice");
            axum::response::Redirect::to("/notices").into_response()
        }
    }
}

/// `POST /notices/read-all`: every notice shown so far is read.
pub async fn read_all(
    State(app): State<App>,
    headers: HeaderMap,
    axum::extract::Form(form): axum::extract::Form<Vec<(String, String)>>,
) -> Response {
    let s = match super::form_session(&app, &headers, &form, None).await {
        Ok(s) => s,
        Err(refused) => return refused,
    };
    if let Err(e) = app.my_notices(&s.user, 100, true).await {
        tracing::error!(error = %e, "read all notices");
    }
    axum::response::Redirect::to("/notices").into_response()
}
