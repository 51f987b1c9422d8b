//! `/channels/wechat`: the address an official account's server settings name. GET is
//! WeChat's check of the address (the `echostr` back), POST a follower's message (the
//! reply in the body, XML). Refusals are a status and a line of text, as WeChat's own
//! servers expect; the handlers parse, call one use case and answer.

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use mashangban_app::App;
use mashangban_app::wechat::{MAX_BODY, WechatError, WechatQuery};

pub fn routes() -> Router<App> {
    Router::new().route("/channels/wechat", get(verify).post(message))
}

fn refused(e: WechatError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        e.message,
    )
        .into_response()
}

/// The signed query, or why it is not readable.
fn query(q: Result<Query<WechatQuery>, QueryRejection>) -> Result<WechatQuery, WechatError> {
    q.map(|q| q.0).map_err(|e| WechatError {
        status: 400,
        message: e.body_text(),
    })
}

async fn verify(State(app): State<App>, q: Result<Query<WechatQuery>, QueryRejection>) -> Response {
    let answer = query(q).and_then(|q| app.wechat_verify(&q, chrono::Utc::now()));
    match answer {
        Ok(echo) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], echo).into_response(),
        Err(e) => refused(e),
    }
}

async fn message(
    State(app): State<App>,
    q: Result<Query<WechatQuery>, QueryRejection>,
    body: Body,
) -> Response {
    let q = match query(q) {
        Ok(q) => q,
        Err(e) => return refused(e),
    };
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return refused(WechatError {
            status: 413,
            message: format!("the message is larger than {MAX_BODY} bytes"),
        });
    };
    match app.wechat_message(&q, &bytes, chrono::Utc::now()).await {
        Ok(reply) if reply.xml => (
            [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
            reply.body,
        )
            .into_response(),
        Ok(reply) => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            reply.body,
        )
            .into_response(),
        Err(e) => refused(e),
    }
}
