//! `/admin/retention` (administrators): how long each kind of personal data is kept after a
//! request is finished, a citizen's erasure (with the reason), and the log of what the task
//! and the erasures took out. The rules are the application's (`retention`); this page reads
//! the form, calls one use case and shows what came back.

use super::admin::{Typed, admin_page, admin_session, status_of};
use super::i18n::Lang;
use super::{Session, form_session, local_time, session_csrf};
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use mashangban_app::retention::{Erased, ErasureInput};
use mashangban_app::{App, AppError};
use mashangban_domain::Permission;
use mashangban_domain::retention::{MIN_DAYS, RetainedKind};
use maud::{Markup, html};
use std::collections::HashMap;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/admin/retention", get(retention_page).post(save_policy))
        .route("/admin/retention/erase", post(erase))
}

/// The form's field of each kind, and what it is called.
fn kind_field(kind: RetainedKind) -> (&'static str, &'static str, &'static str) {
    match kind {
        RetainedKind::Contact => (
            "contact_days",
            "群众姓名、电话、微信（天）",
            "Citizens' names, numbers, WeChat ids (days)",
        ),
        RetainedKind::Content => (
            "content_days",
            "诉求内容中的个人信息（天）",
            "Personal data in the texts (days)",
        ),
        RetainedKind::Attachments => (
            "attachments_days",
            "照片和附件（天）",
            "Photos and files (days)",
        ),
        RetainedKind::Recordings => (
            "recordings_days",
            "通话录音索引（天）",
            "Calls' recording references (days)",
        ),
    }
}

/// What a log line's `what` is called.
fn what_label(zh: bool, what: &str) -> &str {
    match (what, zh) {
        ("contact", true) => "到期删除联系方式",
        ("content", true) => "到期删除内容中的个人信息",
        ("attachments", true) => "到期删除照片和附件",
        ("recordings", true) => "到期删除通话录音索引",
        ("unattached_files", true) => "删除未提交诉求的上传文件",
        ("erasure", true) => "应本人申请删除",
        ("contact", false) => "contacts due",
        ("content", false) => "texts' personal data due",
        ("attachments", false) => "files due",
        ("recordings", false) => "recording references due",
        ("unattached_files", false) => "uploads never sent",
        ("erasure", false) => "erasure at the citizen's request",
        (other, _) => other,
    }
}

async fn retention_page(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    match admin_session(&app, &headers, Permission::ManagePolicies).await {
        Ok(s) => {
            let saved = q.contains_key("saved").then_some(if s.lang == Lang::Zh {
                "保存期限已保存"
            } else {
                "Retention saved"
            });
            let page = Page {
                notice: saved.map(str::to_string),
                ..Page::default()
            };
            render(&app, &s, page, StatusCode::OK).await
        }
        Err(r) => r,
    }
}

/// The policy from the form: a number of days, or empty to keep that kind.
fn policy_json(typed: &Typed) -> Result<serde_json::Value, AppError> {
    let mut body = serde_json::Map::new();
    for kind in RetainedKind::ALL {
        let (field, _, _) = kind_field(kind);
        let value = match typed.opt(field) {
            None => serde_json::Value::Null,
            Some(raw) => raw
                .parse::<u32>()
                .map(serde_json::Value::from)
                .map_err(|_| AppError::invalid(field, format!("`{raw}` is not a number")))?,
        };
        body.insert(field.to_string(), value);
    }
    Ok(serde_json::Value::Object(body))
}

async fn save_policy(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match form_session(&app, &headers, &form, Permission::ManagePolicies).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let mut typed = Typed::of(&form);
    typed.values.entry("_policy".into()).or_default();
    let result = async {
        let body = policy_json(&typed)?;
        app.set_retention_policy(&s.actor(), body).await
    }
    .await;
    match result {
        Ok(_) => Redirect::to("/admin/retention?saved=1").into_response(),
        Err(e) => {
            let status = status_of(&e);
            let page = Page {
                policy: typed.refuse(s.lang, e),
                ..Page::default()
            };
            render(&app, &s, page, status).await
        }
    }
}

async fn erase(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match form_session(&app, &headers, &form, Permission::EraseCitizenData).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let typed = Typed::of(&form);
    let input = ErasureInput {
        phone: typed.v("phone").trim().to_string(),
        reason: typed.v("reason").to_string(),
    };
    match app
        .erase_citizen_at(&s.actor(), input, chrono::Utc::now())
        .await
    {
        Ok(done) => {
            let page = Page {
                erased: Some(done),
                ..Page::default()
            };
            render(&app, &s, page, StatusCode::OK).await
        }
        Err(e) => {
            let status = status_of(&e);
            let page = Page {
                erasure: typed.refuse(s.lang, e),
                ..Page::default()
            };
            render(&app, &s, page, status).await
        }
    }
}

/// What the page shows besides the stored policy and log: what was typed in either form
/// and what was wrong with it, a notice, an erasure's outcome.
#[derive(Default)]
struct Page {
    policy: Typed,
    erasure: Typed,
    notice: Option<String>,
    erased: Option<Erased>,
}

fn erased_notice(zh: bool, e: &Erased) -> String {
    if zh {
        format!(
            "已删除：该号码的{}件诉求中{}件仍有个人信息，共删除{}项。",
            e.tickets, e.scrubbed, e.data
        )
    } else {
        format!(
            "Erased: of that number's {} requests, {} still held personal data; {} data taken out.",
            e.tickets, e.scrubbed, e.data
        )
    }
}

async fn render(app: &App, s: &Session, page: Page, status: StatusCode) -> Response {
    let zh = s.lang == Lang::Zh;
    let actor = s.actor();
    let policy = match app.retention_policy(&actor).await {
        Ok(p) => p,
        Err(e) => return super::refused_page(s, &e, "/admin/retention", "admin"),
    };
    let log = match app.retention_log(&actor).await {
        Ok(l) => l,
        Err(e) => return super::refused_page(s, &e, "/admin/retention", "admin"),
    };
    let names: HashMap<i64, String> = app
        .users(&actor)
        .await
        .map(|us| us.into_iter().map(|u| (u.id, u.display_name)).collect())
        .unwrap_or_default();
    let who = |id: i64| -> String {
        match names.get(&id) {
            Some(n) => n.clone(),
            None if id == mashangban_app::SERVER.user_id => (if zh {
                "系统定时任务"
            } else {
                "the server's task"
            })
            .to_string(),
            None => format!("#{id}"),
        }
    };
    let typed = &page.policy;
    let days = |kind: RetainedKind| -> String {
        let (field, _, _) = kind_field(kind);
        if typed.values.is_empty() {
            policy.days(kind).map(|d| d.to_string()).unwrap_or_default()
        } else {
            typed.v(field).to_string()
        }
    };
    let may_erase = s.may(Permission::EraseCitizenData);
    let notice = page
        .notice
        .clone()
        .or_else(|| page.erased.as_ref().map(|e| erased_notice(zh, e)));
    let body = html! {
        h1 { (if zh { "个人信息保存期限" } else { "Keeping personal data" }) }
        @if let Some(n) = &notice { p.notice role="status" { (n) } }
        p.muted {
            (if zh {
                "诉求办结后，超过期限的个人信息由系统定时任务删除（工单、过程记录、检索索引、短信记录、照片附件、通话录音索引和典型案例的原文）；统计数据不受影响。留空表示不删除。"
            } else {
                "Once a request is finished, the server's task takes out the personal data whose time has passed (the ticket, its events, the search index, the SMS log, photos and files, calls' recording references and a typical case's originals); the figures stay. Empty keeps that kind."
            })
        }
        section #retention-policy {
            h2 { (if zh { "保存期限" } else { "How long" }) }
            (typed.form_error())
            form.admin method="post" action="/admin/retention" {
                input type="hidden" name="_csrf" value=(session_csrf(&s.token));
                @for kind in RetainedKind::ALL {
                    @let (field, zh_l, en_l) = kind_field(kind);
                    div.field {
                        label for=(field) { (if zh { zh_l } else { en_l }) }
                        input #(field) name=(field) value=(days(kind)) size="6" inputmode="numeric";
                        (typed.err(field))
                    }
                }
                p.muted { (if zh { format!("每项至少{MIN_DAYS}天。") } else { format!("At least {MIN_DAYS} days each.") }) }
                button.primary type="submit" { (if zh { "保存期限" } else { "Save" }) }
            }
        }
        @if may_erase { (erasure_form(s, &page.erasure)) }
        section #retention-log {
            h2 { (if zh { "删除记录" } else { "Log" }) }
            @if log.is_empty() { p.muted { (if zh { "暂无记录。" } else { "Nothing taken out yet." }) } }
            @else {
                div.table-scroll { table.list {
                    thead { tr {
                        th { (if zh { "时间" } else { "Time" }) }
                        th { (if zh { "事项" } else { "What" }) }
                        th { (if zh { "操作人" } else { "By" }) }
                        th.num { (if zh { "诉求数" } else { "Requests" }) }
                        th.num { (if zh { "删除项数" } else { "Data" }) }
                        th { (if zh { "原因" } else { "Reason" }) }
                    } }
                    tbody {
                        @for e in &log {
                            tr {
                                td { (local_time(e.at)) }
                                td { (what_label(zh, &e.what)) }
                                td { (who(e.user_id)) }
                                td.num { (e.tickets) }
                                td.num { (e.data) }
                                td { (e.reason.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                } }
            }
        }
    };
    admin_page(s, "/admin/retention", status, body)
}

fn erasure_form(s: &Session, typed: &Typed) -> Markup {
    let zh = s.lang == Lang::Zh;
    html! {
        section #erasure {
            h2 { (if zh { "应本人申请删除" } else { "Erase at the citizen's request" }) }
            p.muted {
                (if zh {
                    "该号码的全部诉求（含在办）立即删除联系方式、内容中的个人信息、照片附件和通话录音索引，不可恢复；记录原因。"
                } else {
                    "Every request of that number, open or not, loses its contacts, the personal data of its texts, its files and its call's recording reference at once, for good; the reason is logged."
                })
            }
            (typed.form_error())
            form.admin method="post" action="/admin/retention/erase" {
                input type="hidden" name="_csrf" value=(session_csrf(&s.token));
                div.field {
                    label for="phone" { (if zh { "诉求人电话" } else { "Their phone number" }) }
                    input #phone name="phone" value=(typed.v("phone")) size="14" inputmode="tel" autocomplete="off";
                    (typed.err("phone"))
                }
                div.field {
                    label for="reason" { (if zh { "原因（如何提出申请）" } else { "Reason (how they asked)" }) }
                    input #reason name="reason" value=(typed.v("reason")) size="40" maxlength="500";
                    (typed.err("reason"))
                }
                button.primary type="submit" { (if zh { "删除此人的个人信息" } else { "Erase their data" }) }
            }
        }
    }
}
