//! `/api/v1/topics`: monthly topics (每月一题) — proposed from the hot issues, adopted by a
//! leader with units, tasks and policies, the tasks reported on by their units and pressed
//! by supervisors, and the volume of the topic's requests before, during and after.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mashangban_app::topics::{TopicDetail, TopicQuery, TopicStepInput, TopicSummary};
use mashangban_app::{App, AppError};
use mashangban_domain::topics::{Topic, TopicProposal};

use crate::api::{Authed, json_body};
use crate::bodies::ErrorBody;
use crate::error::ApiError;

/// The list's query: `state`; anything else is refused by name.
fn topic_query(q: &HashMap<String, String>) -> Result<TopicQuery, AppError> {
    if let Some(k) = q.keys().find(|k| k.as_str() != "state") {
        return Err(AppError::invalid(k.clone(), "not a parameter of this list"));
    }
    Ok(TopicQuery {
        state: q.get("state").cloned(),
    })
}

/// Monthly topics the user may read, newest first
/// A unit's handlers see the topics their unit has a part in.
#[utoipa::path(
    get, path = "/api/v1/topics", tag = "topics", security(("bearer" = [])),
    params(("state" = Option<String>, Query, description = "proposed, adopted, closed or declined")),
    responses((status = 200, description = "The topics with their tasks' statuses", body = Vec<TopicSummary>))
)]
pub async fn list(
    State(app): State<App>,
    a: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    Ok(Json(app.topics(&a.actor, &topic_query(&q)?).await?).into_response())
}

/// Propose a monthly topic (analysts, supervisors)
/// A scope (a category at any level and, optionally, a division) and the problem, often from a hot issue.
#[utoipa::path(
    post, path = "/api/v1/topics", tag = "topics", security(("bearer" = [])), request_body = TopicProposal,
    responses((status = 201, description = "Proposed", body = Topic),
        (status = 422, description = "A field breaks a rule, or names no known category or division", body = ErrorBody))
)]
pub async fn propose(
    State(app): State<App>,
    a: Authed,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let topic = app.propose_topic(&a.actor, json_body(body)?).await?;
    Ok((StatusCode::CREATED, Json(topic)).into_response())
}

/// One topic: its tasks' statuses, its volume before, during and after, its history
#[utoipa::path(
    get, path = "/api/v1/topics/{id}", tag = "topics", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, description = "The topic", body = TopicDetail),
        (status = 404, description = "No such topic, or none the user's unit has a part in", body = ErrorBody))
)]
pub async fn get_one(
    State(app): State<App>,
    a: Authed,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    Ok(Json(app.topic_detail(&a.actor, id).await?).into_response())
}

/// Take a step on a topic at the version read
/// `adopt` (leaders: lead_unit_id, co_unit_ids, starts, ends, tasks, policies), `decline` (leaders: reason), `close` (leaders: summary), `supervise` (supervisors: task, note — one level higher each time), `report` (the task's unit: task, text, done), `issue` (the policy's unit or a leader: policy, reference, issued_on). A field of another step is refused.
#[utoipa::path(
    post, path = "/api/v1/topics/{id}/{step}", tag = "topics", security(("bearer" = [])),
    params(("id" = i64, Path),
        ("step" = String, Path, description = "adopt, decline, report, supervise, issue or close")),
    request_body = TopicStepInput,
    responses((status = 200, description = "The topic after the step", body = Topic),
        (status = 404, description = "No such topic or step", body = ErrorBody),
        (status = 409, description = "Not in a state for the step, or changed since it was read", body = ErrorBody))
)]
pub async fn take_step(
    State(app): State<App>,
    a: Authed,
    Path((id, step)): Path<(i64, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let topic = app
        .topic_step(&a.actor, id, &step, json_body(body)?)
        .await?;
    Ok(Json(topic).into_response())
}
