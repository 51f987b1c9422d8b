//! `/api/v1/public`: the citizen's side, open to anyone (no token). What it shows of a
//! request is decided by the domain's public view; the use case guards itself against
//! enumeration and guessing.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mashangban_app::App;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::OnceLock;

use crate::bodies::ErrorBody;
use crate::error::ApiError;

/// Look up a request by its number and tracking code (群众查询)
///
/// The state in plain words, the unit handling it (name only), when it was received, when a
/// reply is expected, the approved answer and what the citizen may do now; never internal
/// notes, staff or anyone's contact details. A wrong code and a number that does not exist
/// answer the same 404; after 10 wrong codes for a number within an hour, the number is
/// locked for an hour (429).
#[utoipa::path(
    get, path = "/api/v1/public/requests/{number}", tag = "public",
    params(("number" = String, Path, max_length = 40, description = "The request's number (`XN20261206000001`)"),
        ("code" = String, Query, max_length = 64, description = "The tracking code given with the number")),
    responses((status = 200, description = "The request as its citizen sees it", body = mashangban_domain::public::PublicTicket),
        (status = 404, description = "No request has this number and code (the same answer for both)", body = ErrorBody),
        (status = 429, description = "Too many wrong codes for this number: locked for an hour", body = ErrorBody))
)]
pub async fn track(
    State(app): State<App>,
    Path(number): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let code = q.get("code").map(String::as_str).unwrap_or("");
    let view = app.track_public(&number, code).await?;
    Ok(Json(view).into_response())
}

/// The address a request came from, for the limits on public submissions: the peer, or,
/// when the peer is a proxy named in `MASHANGBAN_TRUSTED_PROXIES` (addresses separated by
/// commas), the last address that proxy added to `X-Forwarded-For`.
pub struct ClientAddr(pub Option<IpAddr>);

fn trusted_proxies() -> &'static Vec<IpAddr> {
    static PROXIES: OnceLock<Vec<IpAddr>> = OnceLock::new();
    PROXIES.get_or_init(|| {
        std::env::var("MASHANGBAN_TRUSTED_PROXIES")
            .unwrap_or_default()
            .split(',')
            .filter_map(|a| a.trim().parse().ok())
            .collect()
    })
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let forwarded = || {
            parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|a| a.trim().parse::<IpAddr>().ok())
                .next_back()
        };
        Ok(ClientAddr(match peer {
            Some(p) if trusted_proxies().contains(&p) => forwarded().or(Some(p)),
            other => other,
        }))
    }
}

/// Submit a request as a citizen (群众自助提交), channel `web`
///
/// No account: the phone number is required, for the receipt and the answer. At most 5
/// requests an hour and 20 a day from one phone number or one client address (429 beyond,
/// with a message in Chinese). A retry with the same `Idempotency-Key` (and body) returns
/// the first receipt with 200.
#[utoipa::path(
    post, path = "/api/v1/public/requests", tag = "public",
    params(("Idempotency-Key" = Option<String>, Header, max_length = 200,
        description = "A retried submission with the same key (and body) returns the first receipt with 200")),
    request_body = mashangban_domain::public::PublicBody,
    responses((status = 201, description = "Received: the number and tracking code to follow it, and when a reply may be expected", body = mashangban_domain::public::PublicReceipt),
        (status = 200, description = "Idempotent replay: the receipt of the first submission with this key", body = mashangban_domain::public::PublicReceipt),
        (status = 409, description = "The key was used with another body", body = ErrorBody),
        (status = 429, description = "Too many submissions from this phone number or address", body = ErrorBody))
)]
pub async fn submit(
    State(app): State<App>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = crate::api::json_body(body)?;
    let key = crate::api::idempotency_key(&headers)?;
    let (receipt, created) = app.submit_public(body, client, key).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(receipt)).into_response())
}

/// Rate the answer to a request (一事一评), with its tracking code
///
/// Once the hotline has approved the unit's answer, its citizen says whether the problem is
/// solved and whether they are satisfied (the first optional). A good rating closes the
/// request; a bad one (unresolved or dissatisfied) goes to the hotline's review (差评待审)
/// rather than reopening it blindly. Counted as a callback with `source: citizen`. The code
/// is checked as a look-up's is (a wrong code answers as a missing number; 10 wrong codes
/// lock the number for an hour).
#[utoipa::path(
    post, path = "/api/v1/public/requests/{number}/rating", tag = "public",
    params(("number" = String, Path, max_length = 40, description = "The request's number")),
    request_body = mashangban_domain::public::RatingBody,
    responses((status = 200, description = "Rated: the request as its citizen now sees it", body = mashangban_domain::public::PublicTicket),
        (status = 404, description = "No request has this number and code (the same answer for both)", body = ErrorBody),
        (status = 409, description = "Not awaiting a rating: not answered yet, or rated already", body = ErrorBody),
        (status = 422, description = "A field is missing or wrong", body = ErrorBody),
        (status = 429, description = "Too many wrong codes for this number: locked for an hour", body = ErrorBody))
)]
pub async fn rate(
    State(app): State<App>,
    Path(number): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = crate::api::json_body(body)?;
    let view = app
        .rate_public_at(&number, body, chrono::Utc::now())
        .await?;
    Ok(Json(view).into_response())
}

/// An SMS from a citizen, forwarded by the SMS platform (signed)
///
/// Signed with `MASHANGBAN_SMS_SECRET` as the webhooks are: `X-Mashangban-Timestamp` (Unix
/// seconds, within five minutes of now) and `X-Mashangban-Signature: sha256=<hex
/// HMAC-SHA256 of "{timestamp}.{body}">`; a wrong or missing signature is 401. A digit (1
/// 满意, 2 基本满意, 3 不满意) rates the newest answer of that number awaiting a rating;
/// any other text becomes a new request on channel `sms`, and its receipt goes back by SMS.
/// A message id seen before changes nothing (`replay`).
#[utoipa::path(
    post, path = "/api/v1/channels/sms/inbound", tag = "public",
    params(("X-Mashangban-Timestamp" = String, Header, description = "Unix seconds when the platform signed the body"),
        ("X-Mashangban-Signature" = String, Header, description = "sha256=<hex HMAC-SHA256 of \"{timestamp}.{body}\" with MASHANGBAN_SMS_SECRET>")),
    request_body = mashangban_app::public::InboundSms,
    responses((status = 200, description = "What became of the message", body = mashangban_app::public::InboundOutcome),
        (status = 401, description = "The signature is missing or wrong, the timestamp too far from now, or inbound SMS are not configured", body = ErrorBody),
        (status = 422, description = "A field is missing or wrong", body = ErrorBody))
)]
pub async fn sms_inbound(
    State(app): State<App>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = signed_body(body)?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let outcome = app
        .inbound_sms_at(
            header("x-mashangban-timestamp"),
            header("x-mashangban-signature"),
            &body,
            chrono::Utc::now(),
        )
        .await?;
    Ok(Json(outcome).into_response())
}

/// A body another system signed (the SMS platform, an exchange platform): its bytes as
/// sent, for the signature is over them, but held to the API's rule on control characters
/// all the same.
pub(crate) fn signed_body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    let body = body.map_err(|e| mashangban_app::AppError::invalid("body", e.body_text()))?;
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) {
        crate::input::check_json(&v)?;
    }
    Ok(body)
}

/// The cookie that holds a citizen's session (我的诉求).
pub const CITIZEN_COOKIE: &str = "mb_citizen";

/// Ask for a code by SMS to see one's own requests (我的诉求)
///
/// A six-digit code, valid 5 minutes and 5 tries, is texted to the number if it has made
/// requests; the answer is the same either way. At most 5 codes an hour for a number, 20
/// for a client address (429 beyond).
#[utoipa::path(
    post, path = "/api/v1/public/otp", tag = "public",
    request_body = mashangban_app::my_requests::CodeRequest,
    responses((status = 202, description = "A code is on its way if the number has requests", body = mashangban_app::my_requests::CodeSent),
        (status = 422, description = "Not a phone number", body = ErrorBody),
        (status = 429, description = "Too many codes asked for this number or from this address", body = ErrorBody))
)]
pub async fn send_code(
    State(app): State<App>,
    ClientAddr(client): ClientAddr,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = crate::api::json_body(body)?;
    let sent = app.send_code_at(body, client, chrono::Utc::now()).await?;
    Ok((StatusCode::ACCEPTED, Json(sent)).into_response())
}

/// When a citizen's session ends.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SessionOpened {
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// Sign in with the code sent by SMS: a session for 2 hours (我的诉求)
///
/// The session is the `mb_citizen` cookie (HttpOnly, SameSite=Strict). A wrong code is 401
/// and uses one of the code's 5 tries.
#[utoipa::path(
    post, path = "/api/v1/public/session", tag = "public",
    request_body = mashangban_app::my_requests::SessionRequest,
    responses((status = 200, description = "Signed in: the session cookie is set", body = SessionOpened),
        (status = 401, description = "The code is wrong, expired or used up", body = ErrorBody),
        (status = 422, description = "Not a phone number, or not six digits", body = ErrorBody))
)]
pub async fn open_session(
    State(app): State<App>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = crate::api::json_body(body)?;
    let s = app
        .open_citizen_session_at(body, chrono::Utc::now())
        .await?;
    Ok(crate::console::with_cookie(
        Json(SessionOpened {
            expires_at: s.expires_at,
        })
        .into_response(),
        citizen_cookie(
            &s.token,
            mashangban_app::my_requests::SESSION_TTL.num_seconds(),
        ),
    ))
}

/// The `Set-Cookie` value of a citizen's session (made `Secure` with every other cookie,
/// see `cookies.rs`).
pub fn citizen_cookie(token: &str, max_age: i64) -> String {
    format!("{CITIZEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}")
}

/// My requests: every request made from the signed-in phone number (我的诉求)
///
/// Newest first, at most 200, whatever the channel (those an operator took by phone
/// included), each with its number, tracking code and how it stands, as the look-up shows it.
#[utoipa::path(
    get, path = "/api/v1/public/my-requests", tag = "public",
    params(("mb_citizen" = String, Cookie, description = "The session from `POST /api/v1/public/session`")),
    responses((status = 200, description = "The requests", body = Vec<mashangban_app::my_requests::MyRequest>),
        (status = 401, description = "No session, or it ended", body = ErrorBody))
)]
pub async fn my_requests(State(app): State<App>, headers: HeaderMap) -> Result<Response, ApiError> {
    let token = crate::console::cookie(&headers, CITIZEN_COOKIE).unwrap_or("");
    let list = app.my_requests_at(token, chrono::Utc::now()).await?;
    Ok(Json(list).into_response())
}
