//! `/api/v1/suggest` (what the intake form proposes while the operator types) and
//! `/api/v1/classifier/train` (retrain from the closed tickets).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mashangban_app::text::{ExtractInput, GazetteerInput, SuggestInput, TRAIN_LIMIT};
use mashangban_app::{App, AppError};

use crate::api::{Authed, json_body};
use crate::bodies::*;
use crate::error::ApiError;

/// Proposals for an intake in progress
/// Top categories with confidence and the words that decided, the place (null when the words fit several: see division_candidates), the owning unit by the catalogue with its rule, the tier, possible duplicates, the caller's recent tickets, knowledge articles, and the emergency flag with the number to transfer to.
#[utoipa::path(
    post, path = "/api/v1/suggest", tag = "intake", security(("bearer" = [])), request_body = SuggestInput,
    responses((status = 200, description = "The proposals", body = mashangban_app::text::Suggestion))
)]
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

/// Fill the intake form from free text (智能填单)
/// From a call transcript or a long message: the caller's name, phone numbers (spoken digits and corrections understood), the address of the problem with its division, when it happens, and a one-line title. Nothing is saved: the operator confirms.
#[utoipa::path(
    post, path = "/api/v1/extract", tag = "intake", security(("bearer" = [])), request_body = ExtractInput,
    responses((status = 200, description = "The fields found", body = mashangban_app::text::Extracted))
)]
pub async fn extract(
    State(app): State<App>,
    a: Authed,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let input: ExtractInput =
        mashangban_domain::lifecycle::from_json(json_body(body)?).map_err(AppError::from)?;
    Ok(Json(app.extract(&a.actor, input).await?).into_response())
}

/// Retrain the classifier on the newest closed tickets and the categories' names (administrators)
#[utoipa::path(
    post, path = "/api/v1/classifier/train", tag = "intake", security(("bearer" = [])),
    responses((status = 200, description = "What it learned from", body = mashangban_app::text::TrainReport))
)]
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

/// The category proposed at intake against the category the tickets have now
/// For tickets received in a period: the operator's choice or a later correction.
#[utoipa::path(
    get, path = "/api/v1/classifier/feedback", tag = "intake", security(("bearer" = [])),
    params(("from" = Option<String>, Query, description = "YYYY-MM-DD (Asia/Shanghai) or RFC 3339; default 30 days before `to`"),
        ("to" = Option<String>, Query, description = "YYYY-MM-DD inclusive or RFC 3339; default now")),
    responses((status = 200, description = "The agreement", body = mashangban_app::text::Feedback))
)]
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

/// The gazetteer: roads, compounds and landmarks mapped to divisions
#[utoipa::path(
    get, path = "/api/v1/gazetteer", tag = "intake", security(("bearer" = [])),
    responses((status = 200, description = "The names", body = Items<mashangban_app::text::GazetteerRow>))
)]
pub async fn gazetteer(State(app): State<App>, a: Authed) -> Result<Response, ApiError> {
    Ok(Json(Items::of(app.gazetteer(&a.actor).await?)).into_response())
}

/// Add names or change what they map to, all or none (administrators)
#[utoipa::path(
    put, path = "/api/v1/gazetteer", tag = "intake", security(("bearer" = [])), request_body = Vec<GazetteerInput>,
    responses((status = 200, description = "Saved", body = GazetteerSaved))
)]
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
    Ok(Json(GazetteerSaved {
        saved: n,
        items: app.gazetteer(&a.actor).await?,
    })
    .into_response())
}

/// Delete a gazetteer name (administrators)
#[utoipa::path(
    delete, path = "/api/v1/gazetteer/{id}", tag = "intake", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204, description = "Deleted"))
)]
pub async fn delete_gazetteer(
    State(app): State<App>,
    a: Authed,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    app.delete_gazetteer(&a.actor, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
