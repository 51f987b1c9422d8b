//! `/api/v1/suggest` (what the intake form proposes while the operator types) and
//! `/api/v1/classifier/train` (retrain from the closed tickets).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mashangban_app::text::{GazetteerInput, SuggestInput, TRAIN_LIMIT};
use mashangban_app::{App, AppError};

use crate::api::{Authed, json_body};
use crate::error::ApiError;

/// `POST /api/v1/suggest {title, content, address, phone}`.
pub async fn suggest(
    State(app): State<App>,
    a: Authed,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let input: SuggestInput =
        mashangban_domain::lifecycle::from_json(json_body(body)?).map_err(AppError::from)?;
    let s = app.suggest(&a.actor, input).await?;
    Ok(Json(s).into_response())
}

/// `POST /api/v1/classifier/train` (administrators): retrains on the newest closed tickets.
pub async fn train(State(app): State<App>, a: Authed) -> Result<Response, ApiError> {
    let report = app.train_classifier(&a.actor, TRAIN_LIMIT).await?;
    Ok(Json(report).into_response())
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedbackQuery {
    from: Option<String>,
    to: Option<String>,
}

/// `GET /api/v1/classifier/feedback?from=&to=` (administrators, supervisors, analysts): the
/// category proposed at intake against the category the tickets have now.
pub async fn feedback(
    State(app): State<App>,
    a: Authed,
    query: Result<axum::extract::Query<FeedbackQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let axum::extract::Query(q) = query.map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("{}; the parameters are from and to", e.body_text()),
        )
    })?;
    let report = app
        .classifier_feedback(&a.actor, q.from.as_deref(), q.to.as_deref())
        .await?;
    Ok(Json(report).into_response())
}

/// `GET /api/v1/gazetteer`: roads, compounds and landmarks mapped to divisions.
pub async fn gazetteer(State(app): State<App>, a: Authed) -> Result<Response, ApiError> {
    Ok(Json(serde_json::json!({ "items": app.gazetteer(&a.actor).await? })).into_response())
}

/// `PUT /api/v1/gazetteer [{name, kind, division_code}]` (administrators): adds names or
/// changes what they map to, all or none.
pub async fn put_gazetteer(
    State(app): State<App>,
    a: Authed,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let value = json_body(body)?;
    let input: Vec<GazetteerInput> = serde_path_to_error::deserialize(value).map_err(|e| {
        let field = e.path().to_string();
        AppError::invalid(
            if field == "." { "body".into() } else { field },
            e.into_inner().to_string(),
        )
    })?;
    let n = app.set_gazetteer(&a.actor, input).await?;
    Ok(
        Json(serde_json::json!({ "saved": n, "items": app.gazetteer(&a.actor).await? }))
            .into_response(),
    )
}

/// `DELETE /api/v1/gazetteer/{id}` (administrators).
pub async fn delete_gazetteer(
    State(app): State<App>,
    a: Authed,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    app.delete_gazetteer(&a.actor, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
