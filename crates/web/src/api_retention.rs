//! Keeping personal data only as long as needed: the retention policy, its log, and a
//! citizen's erasure.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::response::{IntoResponse, Response};
use mashangban_app::retention::{Erased, ErasureInput};
use mashangban_app::{App, AppError};

use crate::api::{Authed, json_body};
use crate::error::ApiError;

/// The retention policy in force
/// Days after a request is finished that the citizen's contacts and the personal data of the texts are kept (null: kept); the server's task takes them out of the ticket, its events and the search index when due. The figures are unchanged.
#[utoipa::path(
    get, path = "/api/v1/policy/retention", tag = "retention", security(("bearer" = [])),
    responses((status = 200, description = "The policy", body = mashangban_domain::retention::RetentionPolicy))
)]
pub async fn policy(State(app): State<App>, a: Authed) -> Result<Response, ApiError> {
    Ok(Json(app.retention_policy(&a.actor).await?).into_response())
}

/// Replace the retention policy (administrators)
#[utoipa::path(
    put, path = "/api/v1/policy/retention", tag = "retention", security(("bearer" = [])), request_body = mashangban_domain::retention::RetentionPolicy,
    responses((status = 200, description = "Saved", body = mashangban_domain::retention::RetentionPolicy))
)]
pub async fn put_policy(
    State(app): State<App>,
    a: Authed,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    Ok(Json(app.set_retention_policy(&a.actor, json_body(body)?).await?).into_response())
}

/// What the retention task and the erasures took out (administrators)
#[utoipa::path(
    get, path = "/api/v1/retention/log", tag = "retention", security(("bearer" = [])),
    responses((status = 200, description = "The log, newest first", body = Vec<mashangban_app::retention::RetentionEntry>))
)]
pub async fn log(State(app): State<App>, a: Authed) -> Result<Response, ApiError> {
    Ok(Json(app.retention_log(&a.actor).await?).into_response())
}

/// Erase a citizen's personal data from all their requests (administrators, with the reason)
#[utoipa::path(
    post, path = "/api/v1/citizens/erase", tag = "retention", security(("bearer" = [])), request_body = ErasureInput,
    responses((status = 200, description = "What was taken out", body = Erased))
)]
pub async fn erase(
    State(app): State<App>,
    a: Authed,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let input: ErasureInput =
        mashangban_domain::lifecycle::from_json(json_body(body)?).map_err(AppError::from)?;
    Ok(Json(
        app.erase_citizen_at(&a.actor, input, chrono::Utc::now())
            .await?,
    )
    .into_response())
}
