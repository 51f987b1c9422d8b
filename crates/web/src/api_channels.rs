//! `/api/v1/channels` and `/api/v1/lines`: the channels requests come in by (渠道) and the
//! hotlines merged into 12345 (整合热线) — read by everyone on the staff, kept by
//! administrators.

use crate::bodies::*;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mashangban_app::{App, AppError};
use mashangban_domain::channel::{ChannelDef, ChannelInput, HotlineLine, LineInput};

use crate::api::{Authed, json_body};
use crate::error::ApiError;

/// The channels, open and closed, in their order
#[utoipa::path(
    get, path = "/api/v1/channels", tag = "reference", security(("bearer" = [])),
    responses((status = 200, description = "The channels", body = Items<ChannelDef>))
)]
pub async fn channels(State(app): State<App>, a: Authed) -> Result<Response, ApiError> {
    Ok(Json(Items::of(app.channels(&a.actor).await?)).into_response())
}

/// Add or change a channel (administrators)
///
/// A new code adds a channel (listed last); an existing one is renamed, regrouped, opened or
/// closed. A closed channel keeps its requests and takes no new ones; the channels the
/// product serves (phone, merged_line, web, wechat, open311, sms, grid, other) cannot be
/// closed.
#[utoipa::path(
    put, path = "/api/v1/channels/{code}", tag = "reference", security(("bearer" = [])),
    params(("code" = String, Path, max_length = 32, pattern = "^[a-z][a-z0-9_]{0,31}$", description = "The channel's code")),
    request_body = ChannelInput,
    responses((status = 200, description = "Changed", body = ChannelDef),
        (status = 201, description = "Added", body = ChannelDef),
        (status = 422, description = "A bad code, name or kind, or closing a channel the product serves", body = ErrorBody))
)]
pub async fn put_channel(
    State(app): State<App>,
    a: Authed,
    Path(code): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let input: ChannelInput =
        mashangban_domain::lifecycle::from_json(json_body(body)?).map_err(AppError::from)?;
    let (c, created) = app.put_channel(&a.actor, &code, input).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(c)).into_response())
}

/// The hotlines merged into 12345, by number
#[utoipa::path(
    get, path = "/api/v1/lines", tag = "reference", security(("bearer" = [])),
    responses((status = 200, description = "The lines", body = Items<HotlineLine>))
)]
pub async fn lines(State(app): State<App>, a: Authed) -> Result<Response, ApiError> {
    Ok(Json(Items::of(app.lines(&a.actor).await?)).into_response())
}

/// Add or change a merged hotline (administrators)
///
/// A request on channel `merged_line` names an open line in `channel_detail`, and is given
/// the line's category when it names none.
#[utoipa::path(
    put, path = "/api/v1/lines/{number}", tag = "reference", security(("bearer" = [])),
    params(("number" = String, Path, max_length = 8, pattern = "^[0-9]{3,8}$", description = "The line's number, e.g. 12369")),
    request_body = LineInput,
    responses((status = 200, description = "Changed", body = HotlineLine),
        (status = 201, description = "Added", body = HotlineLine),
        (status = 422, description = "A bad number or name, or a category or unit that does not exist", body = ErrorBody))
)]
pub async fn put_line(
    State(app): State<App>,
    a: Authed,
    Path(number): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let input: LineInput =
        mashangban_domain::lifecycle::from_json(json_body(body)?).map_err(AppError::from)?;
    let (l, created) = app.put_line(&a.actor, &number, input).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(l)).into_response())
}
