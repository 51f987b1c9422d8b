//! What the server says of each request: an id (taken from a proxy's `X-Request-Id` when it
//! is a plain token, else made here) given back in the answer's header and carried by every
//! log line written while the request is served; one log line per request with its route
//! template, status, time and user id; and the request counted in the metrics. And the
//! metrics themselves, at `/metrics`.

use crate::error::ApiError;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use mashangban_app::App;
use mashangban_app::metrics::{MetricsAccess, UNMATCHED_ROUTE};
use rand::Rng;
use tracing::Instrument;

/// The header a request's id travels in, both ways.
pub const REQUEST_ID: &str = "x-request-id";

/// The longest request id taken from outside.
const MAX_REQUEST_ID: usize = 64;

/// The id a proxy gave the request, if it is a plain token (letters, digits, `-`, `_`,
/// `.`, at most 64): anything else could forge log lines or carry someone's data.
fn given_id(headers: &HeaderMap) -> Option<String> {
    let id = headers.get(REQUEST_ID)?.to_str().ok()?;
    (!id.is_empty()
        && id.len() <= MAX_REQUEST_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')))
    .then(|| id.to_string())
}

fn new_id() -> String {
    hex::encode(rand::rng().random::<[u8; 12]>())
}

/// Serves a request inside its own span (request id, method, route, and the user id once
/// known), then writes its log line and counts it.
pub async fn observe(State(app): State<App>, req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let id = given_id(req.headers()).unwrap_or_else(new_id);
    let method = req.method().as_str().to_string();
    // The route's template (`/api/v1/tickets/{id}`), never the path itself: a path holds
    // ticket numbers and tracking codes, and would make a series per ticket.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED_ROUTE, |m| m.as_str())
        .to_string();
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %method,
        route = %route,
        user_id = tracing::field::Empty,
    );
    let mut resp = next.run(req).instrument(span.clone()).await;
    let took = started.elapsed();
    let status = resp.status().as_u16();
    app.metrics().observe_request(&method, &route, status, took);
    span.in_scope(|| {
        tracing::info!(
            target: "mashangban::http",
            status,
            latency_ms = took.as_micros() as f64 / 1000.0,
            "request"
        )
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID, v);
    }
    resp
}

/// `GET /metrics` on the main address: with `Authorization: Bearer MASHANGBAN_METRICS_TOKEN`.
pub async fn metrics(State(app): State<App>, headers: HeaderMap) -> Response {
    let token = crate::input::bearer_token(&headers);
    exposition(&app, MetricsAccess::Bearer(token)).await
}

/// `GET /metrics` on the metrics listener of its own.
async fn metrics_on_listener(State(app): State<App>) -> Response {
    exposition(&app, MetricsAccess::Listener).await
}

async fn exposition(app: &App, access: MetricsAccess<'_>) -> Response {
    match app.metrics_text(access, chrono::Utc::now()).await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            )],
            text,
        )
            .into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// The router of the metrics listener (`MASHANGBAN_METRICS_ADDR`): `/metrics` and nothing
/// else, for an address only the monitoring network reaches.
pub fn metrics_router(app: App) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(metrics_on_listener))
        .with_state(app)
}

/// Serves [`metrics_router`] on its own listener until the task is stopped.
pub async fn serve_metrics(app: App, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    axum::serve(listener, metrics_router(app)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxys_request_id_is_taken_only_when_plain() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(REQUEST_ID, HeaderValue::from_str(v).unwrap());
            given_id(&h)
        };
        assert_eq!(with("3f9c2a-01.x_y").as_deref(), Some("3f9c2a-01.x_y"));
        assert_eq!(with(""), None);
        assert_eq!(with("a b"), None);
        assert_eq!(with("id\"}{\"level\":\"ERROR"), None);
        assert_eq!(with(&"a".repeat(65)), None);
        assert_eq!(with(&"a".repeat(64)).map(|s| s.len()), Some(64));
        assert_eq!(given_id(&HeaderMap::new()), None);
        assert_eq!(new_id().len(), 24);
    }
}
