//! `/api/v1/suggest` (what the intake form proposes while the operator types) and
//! `/api/v1/classifier/train` (retrain from the closed tickets).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::response::{IntoResponse, Response};
use mashangban_app::text::{SuggestInput, TRAIN_LIMIT};
use mashangban_app::{App, AppError};
use mashangban_domain::Role;

use crate::api::{Authed, json_body, require};
use crate::error::ApiError;

/// `POST /api/v1/suggest {title, content, address, phone}`.
pub async fn suggest(
    State(app): State<App>,
    a: Authed,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require(
        &a,
        &[
            Role::Operator,
            Role::Dispatcher,
            Role::Supervisor,
            Role::Admin,
        ],
    )?;
    let input: SuggestInput =
        mashangban_domain::lifecycle::from_json(json_body(body)?).map_err(AppError::from)?;
    let s = app.suggest(&a.actor, input).await?;
    Ok(Json(s).into_response())
}

/// `POST /api/v1/classifier/train` (administrators): retrains on the newest closed tickets.
pub async fn train(State(app): State<App>, a: Authed) -> Result<Response, ApiError> {
    require(&a, &[Role::Admin])?;
    let report = app.train_classifier(TRAIN_LIMIT).await?;
    Ok(Json(report).into_response())
}
