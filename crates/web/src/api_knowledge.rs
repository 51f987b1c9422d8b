//! `/api/v1/knowledge`: the knowledge base (知识库) — searched by everyone on the staff,
//! kept by administrators (and by units for their own articles), versioned.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mashangban_app::knowledge::ArticleInput;
use mashangban_app::knowledge::KnowledgeQuery;
use mashangban_app::{App, AppError};
use std::collections::HashMap;

use crate::api::{Authed, flag_param, id_param, json_body, limit_param};
use crate::bodies::*;
use crate::error::ApiError;

/// Knowledge articles
/// With q: those matching the text in Chinese (full-text, jieba words; question weighs most, then keywords, then answer), best first, each with its score; without: every article. In force on date (default today) unless any_day=true; category_code keeps that category and those under it.
#[utoipa::path(
    get, path = "/api/v1/knowledge", tag = "knowledge", security(("bearer" = [])),
    params(("q" = Option<String>, Query, max_length = 500), ("category_code" = Option<String>, Query),
        ("date" = Option<NaiveDate>, Query), ("any_day" = Option<bool>, Query), ("limit" = Option<u32>, Query, minimum = 1, maximum = 200, description = "default 20")),
    responses((status = 200, description = "The articles", body = KnowledgeItems))
)]
pub async fn list(
    State(app): State<App>,
    a: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let limit = limit_param(&q, 20, 200)? as usize;
    let any_day = flag_param(&q, "any_day")?;
    let day = match q.get("date").filter(|d| !d.is_empty()) {
        Some(d) => d
            .parse()
            .map_err(|_| AppError::invalid("date", format!("`{d}` is not a date (YYYY-MM-DD)")))?,
        None => mashangban_app::catalogue::today(),
    };
    let category = q
        .get("category_code")
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    match q.get("q").map(|t| t.trim()).filter(|t| !t.is_empty()) {
        Some(text) => {
            if text.chars().count() > 500 {
                return Err(AppError::invalid("q", "at most 500 characters").into());
            }
            let items = app
                .search_knowledge(
                    &a.actor,
                    KnowledgeQuery {
                        any_day,
                        category,
                        ..KnowledgeQuery::new(text, day, limit)
                    },
                )
                .await?;
            Ok(Json(KnowledgeItems::Matches(Items::of(items))).into_response())
        }
        None => {
            let items: Vec<_> = app
                .knowledge(&a.actor)
                .await?
                .into_iter()
                .filter(|a| any_day || a.in_force(day))
                .filter(|a| {
                    category.as_deref().is_none_or(|c| {
                        a.category_code
                            .as_deref()
                            .is_some_and(|ac| ac.starts_with(c))
                    })
                })
                .collect();
            Ok(Json(KnowledgeItems::Articles(Items::of(items))).into_response())
        }
    }
}

/// One article
#[utoipa::path(
    get, path = "/api/v1/knowledge/{id}", tag = "knowledge", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, description = "The article", body = mashangban_domain::knowledge::Article))
)]
pub async fn get_one(
    State(app): State<App>,
    a: Authed,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    Ok(Json(app.article(&a.actor, id).await?).into_response())
}

/// Add an article (administrators; a unit handler for an article their unit owns)
#[utoipa::path(
    post, path = "/api/v1/knowledge", tag = "knowledge", security(("bearer" = [])), request_body = ArticleInput,
    responses((status = 201, description = "Added", body = mashangban_domain::knowledge::Article))
)]
pub async fn create(
    State(app): State<App>,
    a: Authed,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let mut input: ArticleInput =
        mashangban_domain::lifecycle::from_json(json_body(body)?).map_err(AppError::from)?;
    input.version = None;
    let saved = app.save_article(&a.actor, None, input).await?;
    Ok((StatusCode::CREATED, Json(saved)).into_response())
}

/// Edit an article at the version read (administrators; the owning unit's handlers)
#[utoipa::path(
    put, path = "/api/v1/knowledge/{id}", tag = "knowledge", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = ArticleInput,
    responses((status = 200, description = "Saved", body = mashangban_domain::knowledge::Article), (status = 409, description = "The article changed since it was read", body = ErrorBody))
)]
pub async fn update(
    State(app): State<App>,
    a: Authed,
    Path(id): Path<i64>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let input: ArticleInput =
        mashangban_domain::lifecycle::from_json(json_body(body)?).map_err(AppError::from)?;
    let saved = app.save_article(&a.actor, Some(id), input).await?;
    Ok(Json(saved).into_response())
}

/// Delete an article at the version read; its history stays
#[utoipa::path(
    delete, path = "/api/v1/knowledge/{id}", tag = "knowledge", security(("bearer" = [])),
    params(("id" = i64, Path), ("version" = i64, Query, description = "The version read")),
    responses((status = 204, description = "Deleted"), (status = 409, description = "The article changed since it was read", body = ErrorBody))
)]
pub async fn delete(
    State(app): State<App>,
    a: Authed,
    Path(id): Path<i64>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let version = q
        .get("version")
        .and_then(|v| v.parse::<i64>().ok())
        .ok_or_else(|| AppError::invalid("version", "the version read is required (?version=N)"))?;
    app.delete_article(&a.actor, id, version).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Changes to the knowledge base, newest first: action (created, updated, deleted), before, after, user, time
#[utoipa::path(
    get, path = "/api/v1/knowledge/history", tag = "knowledge", security(("bearer" = [])),
    params(("article_id" = Option<i64>, Query), ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "default 100")),
    responses((status = 200, description = "The changes", body = Items<mashangban_app::knowledge::KnowledgeChange>))
)]
pub async fn history(
    State(app): State<App>,
    a: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let article_id = id_param(&q, "article_id")?;
    let limit = limit_param(&q, 100, 1000)?;
    let items = app.knowledge_history(&a.actor, article_id, limit).await?;
    Ok(Json(Items::of(items)).into_response())
}
