//! `/api/v1/exchange`: the platforms requests are exchanged with (administrators), and the
//! requests they hand over (signed with each platform's key). Handing a request out is the
//! lifecycle action `transfer-out`.

use crate::bodies::*;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mashangban_app::App;
use mashangban_app::exchange::InboundReceipt;
use mashangban_domain::exchange::{InboundBody, Platform, PlatformInput};

use crate::api::{Authed, json_body};
use crate::error::ApiError;

/// The platforms requests are exchanged with, their keys included (administrators)
#[utoipa::path(
    get, path = "/api/v1/exchange/platforms", tag = "admin", security(("bearer" = [])),
    responses((status = 200, description = "The platforms", body = Items<Platform>))
)]
pub async fn platforms(State(app): State<App>, a: Authed) -> Result<Response, ApiError> {
    Ok(Json(Items::of(app.platforms(&a.actor).await?)).into_response())
}

/// Add or change a platform (administrators)
///
/// A new platform is given its key (`secret`): it signs the requests the platform hands over
/// and the posts sent to it (status changes of its requests, requests handed to it), as
/// the webhooks are signed. Its channel is the one its requests are taken on.
#[utoipa::path(
    put, path = "/api/v1/exchange/platforms/{code}", tag = "admin", security(("bearer" = [])),
    params(("code" = String, Path, max_length = 32, pattern = "^[A-Za-z0-9_-]{2,32}$", description = "The platform's code: 110, province, national …")),
    request_body = PlatformInput,
    responses((status = 200, description = "Changed", body = Platform),
        (status = 201, description = "Added, with its key", body = Platform),
        (status = 422, description = "A bad code, name, channel or address", body = ErrorBody))
)]
pub async fn put_platform(
    State(app): State<App>,
    a: Authed,
    Path(code): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let (p, created) = app.put_platform(&a.actor, &code, json_body(body)?).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(p)).into_response())
}

/// A request another platform hands over (省平台转办, 110 非警务警情 …)
///
/// Signed with the platform's key: `X-Mashangban-Platform` (its code),
/// `X-Mashangban-Timestamp` (Unix seconds, within five minutes of now) and
/// `X-Mashangban-Signature: sha256=<hex HMAC-SHA256 of "{timestamp}.{body}">`; 401 otherwise.
/// Taken on the platform's channel with its external id and deadline; the same external id
/// again answers the request taken the first time (200, `replay`), changing nothing.
#[utoipa::path(
    post, path = "/api/v1/exchange/inbound", tag = "public",
    params(("X-Mashangban-Platform" = String, Header, description = "The platform's code"),
        ("X-Mashangban-Timestamp" = String, Header, description = "Unix seconds when the platform signed the body"),
        ("X-Mashangban-Signature" = String, Header, description = "sha256=<hex HMAC-SHA256 of \"{timestamp}.{body}\" with the platform's key>")),
    request_body = InboundBody,
    responses((status = 201, description = "Taken", body = InboundReceipt),
        (status = 200, description = "Handed over before: the request taken then", body = InboundReceipt),
        (status = 401, description = "An unknown platform, a signature that does not match, or a timestamp too far from now", body = ErrorBody),
        (status = 409, description = "The same external id with a different request", body = ErrorBody),
        (status = 422, description = "A field is missing or wrong", body = ErrorBody))
)]
pub async fn inbound(
    State(app): State<App>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = crate::api_public::signed_body(body)?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let receipt = app
        .exchange_inbound_at(
            header("x-mashangban-platform"),
            header("x-mashangban-timestamp"),
            header("x-mashangban-signature"),
            &body,
            chrono::Utc::now(),
        )
        .await?;
    let status = if receipt.replay {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(receipt)).into_response())
}
