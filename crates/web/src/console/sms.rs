//! `/admin/sms` (administrators): the texts citizens are sent (receipt, answer, rating
//! request), edited here, and the SMS log: what the outbox sent or holds, newest first.

use super::admin::{Typed, admin_page, admin_session, status_of};
use super::i18n::Lang;
use super::{Session, form_session, local_time, session_csrf};
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use mashangban_app::App;
use mashangban_domain::Permission;
use maud::html;
use std::collections::HashMap;

pub fn routes() -> Router<App> {
    Router::new().route("/admin/sms", get(sms_page).post(save_texts))
}

/// The SMS shown in the log.
const LOG_LIMIT: u32 = 200;

async fn sms_page(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    match admin_session(&app, &headers, Permission::ManageNotifications).await {
        Ok(s) => {
            let saved = q.contains_key("saved").then_some(if s.lang == Lang::Zh {
                "短信模板已保存"
            } else {
                "Texts saved"
            });
            render(&app, &s, &Typed::default(), saved, StatusCode::OK).await
        }
        Err(r) => r,
    }
}

async fn save_texts(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match form_session(&app, &headers, &form, Permission::ManageNotifications).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let typed = Typed::of(&form);
    let body = serde_json::json!({
        "receipt": typed.v("receipt").trim(),
        "reply": typed.v("reply").trim(),
        "rating": typed.v("rating").trim(),
    });
    match app.set_citizen_texts(&s.actor(), body).await {
        Ok(_) => Redirect::to("/admin/sms?saved=1").into_response(),
        Err(e) => {
            let status = status_of(&e);
            render(&app, &s, &typed.refuse(s.lang, e), None, status).await
        }
    }
}

async fn render(
    app: &App,
    s: &Session,
    typed: &Typed,
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let zh = s.lang == Lang::Zh;
    let texts = app.citizen_texts(&s.actor()).await.unwrap_or_default();
    let log = match app.outbox(&s.actor(), Some("sms"), LOG_LIMIT).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "SMS log");
            Vec::new()
        }
    };
    let value = |k: &str, current: &str| {
        if typed.values.is_empty() {
            current.to_string()
        } else {
            typed.v(k).to_string()
        }
    };
    let fields = [
        (
            "receipt",
            "受理回执（各渠道受理后发送）",
            "Receipt (on intake, from any channel)",
            texts.receipt.as_str(),
        ),
        (
            "reply",
            "答复告知（答复审核通过后发送）",
            "The answer (once approved)",
            texts.reply.as_str(),
        ),
        (
            "rating",
            "评价邀请（随答复发送，回复数字即评价）",
            "Rating request (with the answer; a digit answers it)",
            texts.rating.as_str(),
        ),
    ];
    let body = html! {
        h1 { (if zh { "群众短信" } else { "SMS to citizens" }) }
        @if let Some(n) = notice { p.notice role="status" { (n) } }
        (typed.form_error())
        p.muted {
            (if zh {
                "占位符：{number} 工单编号（必含），{code} 查询码，{link} 查询链接，{reply} 答复（前60字），{unit} 办理单位。保密诉求和选择不接收短信的市民不发送。"
            } else {
                "Placeholders: {number} the request's number (required), {code} its tracking code, {link} the portal's page, {reply} the answer (first 60 characters), {unit} the unit. Confidential requests and citizens who declined get none."
            })
        }
        form.admin.texts method="post" action="/admin/sms" {
            input type="hidden" name="_csrf" value=(session_csrf(&s.token));
            @for (name, zh_l, en_l, current) in fields {
                div.field {
                    label for=(name) { (if zh { zh_l } else { en_l }) }
                    textarea #(name) name=(name) rows="3" maxlength="300" { (value(name, current)) }
                    (typed.err(name))
                }
            }
            button.primary type="submit" { (if zh { "保存模板" } else { "Save the texts" }) }
        }
        h2 { (if zh { "短信记录" } else { "SMS log" }) }
        @if log.is_empty() { p.muted { (if zh { "暂无短信。" } else { "No SMS yet." }) } }
        @else {
            div.table-scroll { table.list #sms-log {
                thead { tr {
                    th { (if zh { "时间" } else { "Time" }) }
                    th { (if zh { "号码" } else { "Number" }) }
                    th { (if zh { "内容" } else { "Text" }) }
                    th { (if zh { "状态" } else { "Status" }) }
                } }
                tbody {
                    @for n in &log {
                        @let text = serde_json::from_str::<serde_json::Value>(&n.payload)
                            .ok()
                            .and_then(|v| v["text"].as_str().map(str::to_string))
                            .unwrap_or_default();
                        tr {
                            td { (local_time(n.created_at)) }
                            td {
                                @if n.recipient.is_empty() {
                                    span.muted { (if zh { "（已按保存期限删除）" } else { "(removed by retention)" }) }
                                } @else { (n.recipient) }
                            }
                            td { (text) }
                            td {
                                @if let Some(at) = n.sent_at { (if zh { "已发送 " } else { "sent " }) (local_time(at)) }
                                @else if n.failed_at.is_some() { (if zh { "发送失败" } else { "failed" }) }
                                @else { (if zh { "待发送" } else { "waiting" }) }
                            }
                        }
                    }
                }
            } }
        }
    };
    admin_page(s, "/admin/sms", status, body)
}
