//! `/api/v1/api-keys`: the keys of the client applications that post requests over the
//! open protocols (an Open311 client such as FixMyStreet) — issued, listed and revoked by
//! administrators. A key is shown once, when it is issued; only its digest is kept.

use crate::bodies::*;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mashangban_app::{App, AppError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::{Authed, json_body};
use crate::error::ApiError;

/// A key to issue.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyInput {
    /// The application it is for, 1–100 characters (e.g. `FixMyStreet 西宁`).
    pub client: String,
}

/// A key just issued: the key itself, shown this once.
#[derive(Serialize, ToSchema)]
pub struct IssuedKey {
    pub id: i64,
    pub client: String,
    /// The key the application sends as `api_key`; it cannot be read again.
    pub key: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The client applications' keys, newest first (administrators)
#[utoipa::path(
    get, path = "/api/v1/api-keys", tag = "admin", security(("bearer" = [])),
    responses((status = 200, description = "The keys (never the keys themselves)", body = Items<mashangban_app::ApiKey>))
)]
pub async fn list(State(app): State<App>, a: Authed) -> Result<Response, ApiError> {
    Ok(Json(Items::of(app.api_keys(&a.actor).await?)).into_response())
}

/// Issue a key to a client application (administrators)
#[utoipa::path(
    post, path = "/api/v1/api-keys", tag = "admin", security(("bearer" = [])),
    request_body = KeyInput,
    responses((status = 201, description = "Issued: the key, shown once", body = IssuedKey),
        (status = 422, description = "No client named", body = ErrorBody))
)]
pub async fn issue(
    State(app): State<App>,
    a: Authed,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let input: KeyInput =
        mashangban_domain::lifecycle::from_json(json_body(body)?).map_err(AppError::from)?;
    let (kept, key) = app
        .issue_api_key(&a.actor, &input.client, chrono::Utc::now())
        .await?;
    let issued = IssuedKey {
        id: kept.id,
        client: kept.client,
        key,
        created_at: kept.created_at,
    };
    Ok((StatusCode::CREATED, Json(issued)).into_response())
}

/// Revoke a key (administrators): the application can post no more
#[utoipa::path(
    delete, path = "/api/v1/api-keys/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The key's id")),
    responses((status = 204, description = "Revoked"),
        (status = 404, description = "No such key in force", body = ErrorBody))
)]
pub async fn revoke(
    State(app): State<App>,
    a: Authed,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    app.revoke_api_key(&a.actor, id, chrono::Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
