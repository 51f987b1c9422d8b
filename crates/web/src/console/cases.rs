//! 典型案例: typical cases in the console — the list, a case with what its drafting took
//! out, the editor's form and the steps (submit, return, approve, take down), its history;
//! and the ticket page's card that marks a closed ticket as a case. The rules are the
//! application's (`App::propose_case`, `App::revise_case`, `App::step_case`).

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use mashangban_app::cases::{CaseQuery, CaseRevision, CaseStepInput};
use mashangban_app::{App, AppError};
use mashangban_domain::cases::{CaseState, TypicalCase};
use mashangban_domain::permission::Permission;
use mashangban_domain::{Ticket, TicketState};
use maud::{Markup, html};

use super::i18n::{Lang, t};
use super::{
    Session, forbidden_page, form_session, html_response, local_time, page, session, to_login,
};

#[derive(serde::Deserialize, Default)]
pub struct ListParams {
    state: Option<String>,
    q: Option<String>,
    page: Option<u32>,
}

fn may_read(s: &Session) -> bool {
    s.may(Permission::EditCases) || s.may(Permission::ApproveCases)
}

/// An application error as this page's answer: 409 for a step out of turn or a stale form.
fn error_response(s: &Session, e: &AppError) -> Response {
    let zh = s.lang == Lang::Zh;
    let status = match e {
        AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Conflict { .. } | AppError::IllegalTransition(_) => StatusCode::CONFLICT,
        _ => {
            tracing::error!(error = %e, "cases");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    let text = if status == StatusCode::INTERNAL_SERVER_ERROR {
        if zh {
            "暂时无法完成，请稍后再试。"
        } else {
            "Could not do it; try again later."
        }
        .to_string()
    } else {
        e.to_string()
    };
    let body = html! {
        h1 { (t(s.lang, "cases")) }
        p.error role="alert" { (text) }
        p { a href="/cases" { (if zh { "返回典型案例" } else { "Back to the cases" }) } }
    };
    html_response(status, page(s.lang, Some(s), "/cases", body))
}

fn state_label(lang: Lang, state: CaseState) -> &'static str {
    if lang == Lang::Zh {
        state.zh()
    } else {
        match state {
            CaseState::Draft => "draft",
            CaseState::Submitted => "awaiting approval",
            CaseState::Published => "published",
            CaseState::Unpublished => "taken down",
        }
    }
}

pub async fn list_page(
    State(app): State<App>,
    headers: HeaderMap,
    Query(p): Query<ListParams>,
) -> Response {
    let Some(s) = session(&app, &headers).await else {
        return to_login();
    };
    if !may_read(&s) {
        return forbidden_page(s.lang);
    }
    let lang = s.lang;
    let zh = lang == Lang::Zh;
    let q = CaseQuery {
        state: p.state.clone().filter(|v| !v.is_empty()),
        category: None,
        q: p.q.clone().filter(|v| !v.trim().is_empty()),
        page: p.page,
    };
    let found = match app.cases(&s.actor(), &q).await {
        Ok(f) => f,
        Err(e) => return error_response(&s, &e),
    };
    let states = [
        CaseState::Draft,
        CaseState::Submitted,
        CaseState::Published,
        CaseState::Unpublished,
    ];
    let body = html! {
        h1 { (t(lang, "cases")) " " span.count { (found.total) } }
        p.muted {
            (if zh { "在已办结工单页点击“推荐为典型案例”，系统自动起草去除个人信息的案例；督办员修改后提交，领导审核通过即在门户发布。" }
             else { "Mark a closed ticket on its page; the system drafts the case without personal data; a supervisor revises and submits it; a leader's approval publishes it on the portal." })
        }
        form.filters method="get" action="/cases" {
            select name="state" {
                option value="" { (if zh { "全部状态" } else { "every state" }) }
                @for st in states {
                    option value=(st.as_str()) selected[q.state.as_deref() == Some(st.as_str())] { (state_label(lang, st)) }
                }
            }
            input type="search" name="q" value=(q.q.clone().unwrap_or_default()) placeholder=(if zh { "标题或内容" } else { "title or text" });
            button.primary type="submit" { (if zh { "筛选" } else { "Filter" }) }
        }
        @if found.items.is_empty() {
            p.muted { (if zh { "没有案例。" } else { "No cases." }) }
        } @else {
            table {
                thead { tr {
                    th { (if zh { "标题" } else { "Title" }) }
                    th { (if zh { "状态" } else { "State" }) }
                    th { (if zh { "起草时间" } else { "Drafted" }) }
                    th { (if zh { "发布时间" } else { "Published" }) }
                } }
                tbody {
                    @for c in &found.items {
                        tr {
                            td { a href=(format!("/cases/{}", c.id)) { (c.text.title) } }
                            td { span.tag { (state_label(lang, c.state)) } }
                            td { (local_time(c.drafted_at)) }
                            td { @if let Some(p) = c.published_at { (local_time(p)) } }
                        }
                    }
                }
            }
            (pager(&q, found.total, found.per_page))
        }
    };
    html_response(StatusCode::OK, page(lang, Some(&s), "/cases", body))
}

fn pager(q: &CaseQuery, total: u64, per_page: u32) -> Markup {
    let page = q.page.unwrap_or(1);
    let pages = total.div_ceil(u64::from(per_page)).max(1);
    let link = |n: u32| {
        let mut l = format!("/cases?page={n}");
        if let Some(s) = &q.state {
            l.push_str(&format!("&state={s}"));
        }
        if let Some(w) = &q.q {
            l.push_str(&format!(
                "&q={}",
                form_urlencoded::byte_serialize(w.as_bytes()).collect::<String>()
            ));
        }
        l
    };
    html! {
        @if pages > 1 {
            nav.pager {
                @if page > 1 { a href=(link(page - 1)) { "‹" } }
                " " (page) " / " (pages) " "
                @if u64::from(page) < pages { a href=(link(page + 1)) { "›" } }
            }
        }
    }
}

pub async fn case_page(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    let Some(s) = session(&app, &headers).await else {
        return to_login();
    };
    if !may_read(&s) {
        return forbidden_page(s.lang);
    }
    let detail = match app.case(&s.actor(), id).await {
        Ok(d) => d,
        Err(e) => return error_response(&s, &e),
    };
    let lang = s.lang;
    let zh = lang == Lang::Zh;
    let c = &detail.case;
    let csrf = super::session_csrf(&s.token);
    let editor = s.may(Permission::EditCases);
    let leader = s.may(Permission::ApproveCases);
    let step_form = |step: &str, label: &str, note: Option<&str>| {
        html! {
            form class=(format!("step step-{step}")) method="post" action=(format!("/cases/{}/step", c.id)) {
                input type="hidden" name="_csrf" value=(csrf);
                input type="hidden" name="version" value=(c.version);
                input type="hidden" name="step" value=(step);
                @if let Some(n) = note {
                    label { (n) textarea name="note" required rows="2" {} }
                }
                button.primary type="submit" { (label) }
            }
        }
    };
    let body = html! {
        h1 { (c.text.title) " " span.tag { (state_label(lang, c.state)) } }
        p.muted {
            (if zh { "工单 " } else { "Ticket " })
            a href=(format!("/tickets/{}", c.ticket_id)) { (detail.ticket_number) }
            @if let Some(p) = c.published_at {
                " · " (if zh { "发布于 " } else { "published " }) (local_time(p))
                " · " a href=(format!("/public/cases/{}", c.id)) { (if zh { "门户页面" } else { "on the portal" }) }
            }
        }
        @if let Some(n) = &c.note {
            p.notice role="status" { (if zh { "说明：" } else { "Note: " }) (n) }
        }
        @if editor {
            form.case method="post" action=(format!("/cases/{}/revise", c.id)) {
                input type="hidden" name="_csrf" value=(csrf);
                input type="hidden" name="version" value=(c.version);
                label { (if zh { "标题" } else { "Title" }) input type="text" name="title" value=(c.text.title) maxlength="100" required; }
                label { (if zh { "诉求内容" } else { "The request" }) textarea name="request" rows="5" { (c.text.request) } }
                label { (if zh { "办理过程" } else { "What the unit did" }) textarea name="handling" rows="5" { (c.text.handling) } }
                label { (if zh { "办理结果与回访" } else { "Result and callback" }) textarea name="result" rows="3" { (c.text.result) } }
                button type="submit" { (if zh { "保存修改" } else { "Save" }) }
            }
        } @else {
            div.card {
                h2 { (if zh { "诉求内容" } else { "The request" }) } p { (c.text.request) }
                h2 { (if zh { "办理过程" } else { "What the unit did" }) } p { (c.text.handling) }
                h2 { (if zh { "办理结果与回访" } else { "Result and callback" }) } p { (c.text.result) }
            }
        }
        div.card.actions {
            @if editor && c.state == CaseState::Draft {
                (step_form("submit", if zh { "提交审核" } else { "Submit for approval" }, None))
            }
            @if leader && c.state == CaseState::Submitted {
                (step_form("approve", if zh { "审核通过并发布" } else { "Approve and publish" }, None))
                (step_form("return", if zh { "退回修改" } else { "Return" }, Some(if zh { "退回意见" } else { "Why" })))
            }
            @if (editor || leader) && c.state == CaseState::Published {
                (step_form("unpublish", if zh { "撤下" } else { "Take down" }, Some(if zh { "撤下原因" } else { "Reason" })))
            }
        }
        @if !c.removed.is_empty() {
            div.card {
                h2 { (if zh { "起草时去除的个人信息" } else { "Personal data the drafting took out" }) }
                p.muted { (if zh { "仅编辑可见，不会发布。请核对是否有遗漏。" } else { "Seen by editors only, never published. Check nothing was missed." }) }
                table.removed {
                    thead { tr {
                        th { (if zh { "位置" } else { "Where" }) }
                        th { (if zh { "类型" } else { "Kind" }) }
                        th { (if zh { "原文" } else { "Original" }) }
                        th { (if zh { "替换为" } else { "Replaced by" }) }
                    } }
                    tbody {
                        @for r in &c.removed {
                            tr { td { (r.field) } td { (r.kind) } td { (r.original) } td { (r.replacement) } }
                        }
                    }
                }
            }
        }
        div.card {
            h2 { (if zh { "历史" } else { "History" }) }
            ol.history {
                @for h in &detail.history {
                    li {
                        (local_time(h.at)) " · "
                        (if zh { "用户 " } else { "user " }) (h.user_id) " · v" (h.version) " · "
                        @if let Some(after) = &h.after { (state_label(lang, after.state)) }
                        @if let Some(n) = h.after.as_ref().and_then(|a| a.note.as_ref()) { " · " (n) }
                    }
                }
            }
        }
    };
    html_response(StatusCode::OK, page(lang, Some(&s), "/cases", body))
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

fn version_of(form: &[(String, String)]) -> Result<i64, AppError> {
    field(form, "version")
        .parse()
        .map_err(|_| AppError::invalid("version", "the version the case was read at"))
}

pub async fn revise(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match form_session(&app, &headers, &form, Permission::EditCases).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let result = match version_of(&form) {
        Ok(version) => {
            app.revise_case(
                &s.actor(),
                id,
                CaseRevision {
                    version,
                    title: field(&form, "title").to_string(),
                    request: field(&form, "request").to_string(),
                    handling: field(&form, "handling").to_string(),
                    result: field(&form, "result").to_string(),
                },
            )
            .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(c) => Redirect::to(&format!("/cases/{}", c.id)).into_response(),
        Err(e) => error_response(&s, &e),
    }
}

pub async fn take_step(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    // Which permission the step needs is the application's to say: any signed-in form
    // here, refused there.
    let s = match form_session(&app, &headers, &form, None).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let result = match version_of(&form) {
        Ok(version) => {
            let note = Some(field(&form, "note").to_string()).filter(|n| !n.is_empty());
            app.step_case(
                &s.actor(),
                id,
                field(&form, "step"),
                CaseStepInput { version, note },
            )
            .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(c) => Redirect::to(&format!("/cases/{}", c.id)).into_response(),
        Err(e) => error_response(&s, &e),
    }
}

/// Marks the ticket as a case and opens its draft.
pub async fn propose(
    State(app): State<App>,
    headers: HeaderMap,
    Path(ticket_id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match form_session(&app, &headers, &form, Permission::EditCases).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match app.propose_case(&s.actor(), ticket_id).await {
        Ok(c) => Redirect::to(&format!("/cases/{}", c.id)).into_response(),
        Err(e) => error_response(&s, &e),
    }
}

/// The ticket page's card: the case made of this ticket, or the button that makes one.
pub fn ticket_card(
    lang: Lang,
    csrf: &str,
    t: &Ticket,
    case: Option<&TypicalCase>,
    may_edit: bool,
) -> Markup {
    let zh = lang == Lang::Zh;
    let closed = matches!(t.state, TicketState::Closed | TicketState::ResolvedDirectly);
    html! {
        @if let Some(c) = case {
            div.card {
                h2 { (t_cases(lang)) }
                p { a href=(format!("/cases/{}", c.id)) { (c.text.title) } " " span.tag { (state_label(lang, c.state)) } }
            }
        } @else if may_edit && closed && !t.confidential {
            div.card {
                h2 { (t_cases(lang)) }
                form method="post" action=(format!("/tickets/{}/case", t.id)) {
                    input type="hidden" name="_csrf" value=(csrf);
                    button type="submit" { (if zh { "推荐为典型案例" } else { "Mark as a typical case" }) }
                }
            }
        }
    }
}

fn t_cases(lang: Lang) -> &'static str {
    t(lang, "cases")
}
