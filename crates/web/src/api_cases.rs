//! `/api/v1/cases`: typical cases (典型案例) — drafted from closed tickets by editors,
//! approved by leaders, published on the portal (`/api/v1/public/cases`); and the
//! anonymiser editors use, `POST /api/v1/anonymise`.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mashangban_app::cases::{
    AnonymiseInput, Anonymised, CaseDetail, CasePage, CaseQuery, CaseRevision, CaseStepInput,
    PublicCase,
};
use mashangban_app::{App, AppError};
use mashangban_domain::cases::TypicalCase;
use serde::Deserialize;

use crate::api::{Authed, json_body};
use crate::bodies::ErrorBody;
use crate::error::ApiError;

fn parse<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    Ok(mashangban_domain::lifecycle::from_json(json_body(body)?).map_err(AppError::from)?)
}

/// The list's query: `state`, `category`, `q`, `page`; anything else is refused by name.
pub fn case_query(q: &HashMap<String, String>) -> Result<CaseQuery, AppError> {
    if let Some(k) = q
        .keys()
        .find(|k| !matches!(k.as_str(), "state" | "category" | "q" | "page"))
    {
        return Err(AppError::invalid(k.clone(), "not a parameter of this list"));
    }
    let text = |k: &str| {
        q.get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let page = match text("page") {
        Some(p) => Some(
            p.parse::<u32>()
                .ok()
                .filter(|p| *p >= 1)
                .ok_or_else(|| AppError::invalid("page", "a page number, 1 and up"))?,
        ),
        None => None,
    };
    Ok(CaseQuery {
        state: text("state"),
        category: text("category"),
        q: text("q"),
        page,
    })
}

/// Take the personal data out of a text
/// Names, phone numbers, ID-card, plate and account numbers, e-mail addresses, house and room numbers (and, with generalise_places, the names of compounds, communities and villages); each removal with what it replaced and where (in characters). Nothing is stored.
#[utoipa::path(
    post, path = "/api/v1/anonymise", tag = "cases", security(("bearer" = [])), request_body = AnonymiseInput,
    responses((status = 200, description = "The text without its personal data", body = Anonymised))
)]
pub async fn anonymise(
    State(app): State<App>,
    a: Authed,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let input: AnonymiseInput = parse(body)?;
    Ok(Json(app.anonymise(&a.actor, input).await?).into_response())
}

/// The ticket a case is made of.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCase {
    pub ticket_id: i64,
}

/// Mark a closed ticket as a typical case
/// The system drafts it: the ticket's request, the unit's reply and the callback, without personal data and with places to the street; every removal is listed for the editor.
#[utoipa::path(
    post, path = "/api/v1/cases", tag = "cases", security(("bearer" = [])), request_body = NewCase,
    responses((status = 201, description = "The draft", body = TypicalCase),
        (status = 409, description = "The ticket is not closed, is confidential, or is already a case", body = ErrorBody))
)]
pub async fn create(
    State(app): State<App>,
    a: Authed,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let input: NewCase = parse(body)?;
    let case = app.propose_case(&a.actor, input.ticket_id).await?;
    Ok((StatusCode::CREATED, Json(case)).into_response())
}

/// Typical cases, every state
#[utoipa::path(
    get, path = "/api/v1/cases", tag = "cases", security(("bearer" = [])),
    params(("state" = Option<String>, Query, description = "draft, submitted, published or unpublished"),
        ("category" = Option<String>, Query, description = "A category code: cases under it"),
        ("q" = Option<String>, Query, max_length = 100), ("page" = Option<u32>, Query, minimum = 1)),
    responses((status = 200, description = "A page of cases, newest first", body = CasePage<TypicalCase>))
)]
pub async fn list(
    State(app): State<App>,
    a: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    Ok(Json(app.cases(&a.actor, &case_query(&q)?).await?).into_response())
}

/// One typical case, with its history
#[utoipa::path(
    get, path = "/api/v1/cases/{id}", tag = "cases", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, description = "The case", body = CaseDetail))
)]
pub async fn get_one(
    State(app): State<App>,
    a: Authed,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    Ok(Json(app.case(&a.actor, id).await?).into_response())
}

/// Revise a case's texts at the version read
/// A submitted, published or taken-down case becomes a draft again.
#[utoipa::path(
    put, path = "/api/v1/cases/{id}", tag = "cases", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = CaseRevision,
    responses((status = 200, description = "Saved", body = TypicalCase),
        (status = 409, description = "The case changed since it was read", body = ErrorBody))
)]
pub async fn revise(
    State(app): State<App>,
    a: Authed,
    Path(id): Path<i64>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let input: CaseRevision = parse(body)?;
    Ok(Json(app.revise_case(&a.actor, id, input).await?).into_response())
}

async fn take_step(
    app: App,
    a: Authed,
    id: i64,
    step: &str,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let input: CaseStepInput = parse(body)?;
    Ok(Json(app.step_case(&a.actor, id, step, input).await?).into_response())
}

/// Submit a draft for approval (editors)
#[utoipa::path(
    post, path = "/api/v1/cases/{id}/submit", tag = "cases", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = CaseStepInput,
    responses((status = 200, description = "Submitted", body = TypicalCase),
        (status = 409, description = "Not a draft, a part empty, or changed since read", body = ErrorBody))
)]
pub async fn submit(
    State(app): State<App>,
    a: Authed,
    Path(id): Path<i64>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    take_step(app, a, id, "submit", body).await
}

/// Return a submitted case to its editor, with a note (leaders)
#[utoipa::path(
    post, path = "/api/v1/cases/{id}/return", tag = "cases", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = CaseStepInput,
    responses((status = 200, description = "Returned", body = TypicalCase),
        (status = 409, description = "Not submitted, or changed since read", body = ErrorBody))
)]
pub async fn send_back(
    State(app): State<App>,
    a: Authed,
    Path(id): Path<i64>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    take_step(app, a, id, "return", body).await
}

/// Approve a submitted case: it is published and its unit told (leaders)
#[utoipa::path(
    post, path = "/api/v1/cases/{id}/approve", tag = "cases", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = CaseStepInput,
    responses((status = 200, description = "Published", body = TypicalCase),
        (status = 409, description = "Not submitted, or changed since read", body = ErrorBody))
)]
pub async fn approve(
    State(app): State<App>,
    a: Authed,
    Path(id): Path<i64>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    take_step(app, a, id, "approve", body).await
}

/// Take a published case down, with the reason (editors and leaders); its history stays
#[utoipa::path(
    post, path = "/api/v1/cases/{id}/unpublish", tag = "cases", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = CaseStepInput,
    responses((status = 200, description = "Taken down", body = TypicalCase),
        (status = 409, description = "Not published, or changed since read", body = ErrorBody))
)]
pub async fn unpublish(
    State(app): State<App>,
    a: Authed,
    Path(id): Path<i64>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    take_step(app, a, id, "unpublish", body).await
}

/// Published typical cases (open to anyone)
#[utoipa::path(
    get, path = "/api/v1/public/cases", tag = "public",
    params(("category" = Option<String>, Query, description = "A category code: cases under it"),
        ("q" = Option<String>, Query, max_length = 100), ("page" = Option<u32>, Query, minimum = 1)),
    responses((status = 200, description = "A page of published cases, newest first", body = CasePage<PublicCase>))
)]
pub async fn public_list(
    State(app): State<App>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let mut query = case_query(&q)?;
    if query.state.is_some() {
        return Err(AppError::invalid("state", "not a parameter of this list").into());
    }
    query.state = None;
    Ok(Json(app.public_cases(&query).await?).into_response())
}

/// One published typical case (open to anyone)
#[utoipa::path(
    get, path = "/api/v1/public/cases/{id}", tag = "public",
    params(("id" = i64, Path)),
    responses((status = 200, description = "The case", body = PublicCase),
        (status = 404, description = "No published case has this id", body = ErrorBody))
)]
pub async fn public_one(State(app): State<App>, Path(id): Path<i64>) -> Result<Response, ApiError> {
    Ok(Json(app.public_case(id).await?).into_response())
}
