//! The public portal (群众端, `/public`): for citizens, without an account. Server-rendered,
//! mobile-first, working without any script. It calls the same public use cases as
//! `/api/v1/public` and shows what the domain's public view gives, nothing more.

use crate::console::{html_response, local_time};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use mashangban_app::{App, AppError};
use mashangban_domain::public::{PublicState, PublicTicket};
use maud::{DOCTYPE, Markup, html};
use std::collections::HashMap;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/public", get(home))
        .route("/public/track", get(track))
        .route("/static/public.css", get(stylesheet))
}

fn shell(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · 12345政务服务便民热线" }
                link rel="stylesheet" href="/static/public.css";
            }
            body {
                header.site {
                    a.brand href="/public" { "12345 政务服务便民热线" }
                    nav aria-label="主要栏目" {
                        a href="/public" { "首页" }
                        a href="/public/track" { "查询进度" }
                    }
                }
                main #main { (body) }
                footer.site {
                    p { "服务热线 12345 · 7×24小时人工接听" }
                }
            }
        }
    }
}

/// The emergency numbers: what the hotline is not for.
fn emergencies() -> Markup {
    html! {
        section.emergency aria-labelledby="emergency-title" {
            h2 #emergency-title { "紧急情况请直接拨打" }
            ul {
                li { strong { "110" } " 报警：治安、刑事案件、危及人身财产安全的情况" }
                li { strong { "119" } " 火警：火灾、燃气泄漏、被困等抢险救援" }
                li { strong { "120" } " 急救：突发疾病、受伤" }
                li { strong { "122" } " 交通事故报警" }
            }
        }
    }
}

async fn home() -> Response {
    html_response(
        StatusCode::OK,
        shell(
            "首页",
            html! {
                h1 { "有诉必应 马上办" }
                p.lead {
                    "12345政务服务便民热线受理企业和群众的咨询、求助、投诉、举报和意见建议，"
                    "按“谁主管、谁负责”转交职能部门和属地办理，并按时限答复。"
                }
                (emergencies())
                section aria-labelledby="track-title" {
                    h2 #track-title { "查询诉求办理进度" }
                    p { "受理时话务员会告诉您工单编号和查询码，凭二者可随时查看办理进度和答复。" }
                    p { a.button href="/public/track" { "查询进度" } }
                }
            },
        ),
    )
}

/// The state's steps, in order, for the progress line (said in words, not by colour).
const STEPS: [(PublicState, &str); 4] = [
    (PublicState::Received, "已受理"),
    (PublicState::Transferred, "已转交办理单位"),
    (PublicState::Handling, "办理中"),
    (PublicState::Answered, "已答复"),
];

fn progress(t: &PublicTicket) -> Markup {
    let at = match t.state {
        PublicState::Closed => STEPS.len(),
        s => STEPS.iter().position(|(p, _)| *p == s).unwrap_or(0),
    };
    let linear = !matches!(t.state, PublicState::NotAccepted | PublicState::Merged);
    html! {
        @if linear {
            ol.steps aria-label="办理进度" {
                @for (i, (_, label)) in STEPS.iter().enumerate() {
                    li class=(if i < at { "done" } else if i == at { "now" } else { "todo" }) {
                        (label)
                        @if i < at { span.visually-hidden { "（已完成）" } }
                        @if i == at { span.visually-hidden { "（当前）" } }
                    }
                }
                li class=(if t.state == PublicState::Closed { "now" } else { "todo" }) {
                    "已办结" @if t.state == PublicState::Closed { span.visually-hidden { "（当前）" } }
                }
            }
        }
    }
}

fn result(t: &PublicTicket) -> Markup {
    html! {
        section.result aria-labelledby="result-title" {
            h2 #result-title { "工单 " (t.number) }
            p.state { "当前状态：" strong #state { (t.state_label) } }
            (progress(t))
            dl {
                dt { "诉求" } dd { (t.title) }
                dt { "受理时间" } dd { (local_time(t.received_at)) }
                @if let Some(u) = &t.unit { dt { "办理单位" } dd #unit { (u) } }
                @if let Some(d) = t.expected_reply_by { dt { "预计答复" } dd { (local_time(d)) " 前" } }
                @if let Some(a) = &t.answer {
                    dt { (if t.state == PublicState::NotAccepted { "说明" } else { "答复" }) }
                    dd #answer { (a) }
                }
                @if let Some(r) = &t.redirect_to { dt { "建议咨询" } dd { (r) } }
            }
            p.next { (t.next_step) }
        }
    }
}

fn track_form(number: &str, code: &str) -> Markup {
    html! {
        form.track method="get" action="/public/track" {
            div.field {
                label for="number" { "工单编号" }
                input #number name="number" value=(number) required autocomplete="off" autocapitalize="characters" spellcheck="false" placeholder="例如 XN20261206000001" maxlength="40";
            }
            div.field {
                label for="code" { "查询码" }
                input #code name="code" value=(code) required autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="64";
            }
            button.button type="submit" { "查询" }
        }
    }
}

/// `GET /public/track`: the look-up form, and with a number and a code, the request.
async fn track(State(app): State<App>, Query(q): Query<HashMap<String, String>>) -> Response {
    let number = q.get("number").map(|v| v.trim()).unwrap_or("");
    let code = q.get("code").map(|v| v.trim()).unwrap_or("");
    let (status, found, error) = if number.is_empty() && code.is_empty() {
        (StatusCode::OK, None, None)
    } else {
        match app.track_public(number, code).await {
            Ok(t) => (StatusCode::OK, Some(t), None),
            Err(AppError::NotFound(_)) => (
                StatusCode::NOT_FOUND,
                None,
                Some("没有找到：请核对工单编号和查询码。"),
            ),
            Err(AppError::Invalid { .. }) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some("请填写工单编号和查询码。"),
            ),
            Err(AppError::Locked(_)) => (
                StatusCode::TOO_MANY_REQUESTS,
                None,
                Some("该编号查询码错误次数过多，请一小时后再试，或拨打12345查询。"),
            ),
            Err(e) => {
                tracing::error!(error = %e, "public track");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    None,
                    Some("暂时无法查询，请稍后再试或拨打12345。"),
                )
            }
        }
    };
    html_response(
        status,
        shell(
            "查询进度",
            html! {
                h1 { "查询诉求办理进度" }
                (track_form(number, code))
                @if let Some(e) = error { p.error role="alert" { (e) } }
                @if let Some(t) = &found { (result(t)) }
            },
        ),
    )
}

async fn stylesheet() -> Response {
    let mut r = include_str!("../assets/public.css").into_response();
    r.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/css; charset=utf-8"),
    );
    r.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("public, max-age=3600"),
    );
    r
}
