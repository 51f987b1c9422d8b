//! Handlers of the JSON API.

use crate::bodies::*;
use crate::error::ApiError;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mashangban_app::App;
use mashangban_app::auth::{UserInput, actor_of};
use mashangban_app::tickets::ListQuery;
use mashangban_domain::intake::china_offset;
use mashangban_domain::{Action, Actor, User};
use serde_json::Value;

/// The authenticated caller, from `Authorization: Bearer TOKEN`.
pub struct Authed {
    pub user: User,
    pub actor: Actor,
    /// The bearer token itself (for logging out).
    pub token: String,
}

impl FromRequestParts<App> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        if !parts
            .headers
            .contains_key(axum::http::header::AUTHORIZATION)
        {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "send Authorization: Bearer TOKEN",
            ));
        }
        let token = crate::input::bearer_token(&parts.headers).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "the Authorization header must be `Bearer TOKEN`",
            )
        })?;
        let user = app.authenticate(token).await?;
        Ok(Authed {
            actor: actor_of(&user),
            user,
            token: token.to_string(),
        })
    }
}

/// Parses a JSON body; an empty body counts as `null` (actions whose fields are optional).
pub(crate) fn json_body(body: Result<Bytes, BytesRejection>) -> Result<Value, ApiError> {
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!(
                    "the request body is larger than {} bytes",
                    crate::MAX_BODY_BYTES
                ),
            )
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, "bad_body", e.body_text())
        }
    })?;
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(Value::Null);
    }
    let value: Value = crate::input::parse_json(&bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    crate::input::check_json(&value)?;
    Ok(value)
}

fn parse_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| ApiError::not_found(format!("ticket {raw} not found")))
}

/// Liveness and database reachability
#[utoipa::path(
    get, path = "/healthz", tag = "service",
    responses((status = 200, description = "Healthy", body = Health), (status = 503, description = "Database unreachable", body = Health))
)]
pub async fn healthz(State(app): State<App>) -> Response {
    match app.health().await {
        Ok(()) => Json(Health {
            status: "ok",
            database: "ok",
        })
        .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "unavailable",
                    database: "unreachable",
                }),
            )
                .into_response()
        }
    }
}

/// This document (OpenAPI 3.1)
#[utoipa::path(
    get, path = "/api/v1/openapi.json", tag = "service",
    responses((status = 200, description = "The OpenAPI document", body = Object))
)]
pub async fn openapi() -> Json<Value> {
    static DOCUMENT: std::sync::LazyLock<Value> =
        std::sync::LazyLock::new(crate::openapi::document);
    Json(DOCUMENT.clone())
}

/// Log in with a username and password; returns a bearer token that expires
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth", request_body = Login,
    responses((status = 200, description = "Logged in", body = LoggedIn), (status = 401, description = "Wrong username or password", body = ErrorBody),
        (status = 429, description = "Too many wrong passwords: the account's password login is locked for a while", body = ErrorBody))
)]
pub async fn login(
    State(app): State<App>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<LoggedIn>, ApiError> {
    let b: Login = mashangban_domain::lifecycle::from_json(json_body(body)?)
        .map_err(mashangban_app::AppError::from)?;
    let (user, token) = app.login(&b.username, &b.password).await?;
    Ok(Json(LoggedIn {
        token,
        expires_in_hours: app.config.login_token_hours,
        user,
    }))
}

/// Revoke the bearer token of this request (log out)
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Logged out"))
)]
pub async fn logout(State(app): State<App>, a: Authed) -> Result<StatusCode, ApiError> {
    app.logout(&a.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The authenticated user
#[utoipa::path(
    get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, description = "The user", body = mashangban_domain::User))
)]
pub async fn me(a: Authed) -> Json<User> {
    Json(a.user)
}

/// Receive a request (受理) from any channel
#[utoipa::path(
    post, path = "/api/v1/tickets", tag = "tickets", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, max_length = 200,
        description = "A retried create with the same key (and the same body) returns the first ticket with 200 instead of creating another")),
    request_body = mashangban_domain::intake::CreateBody,
    responses((status = 201, description = "Received", body = mashangban_domain::Ticket),
        (status = 200, description = "Idempotent replay: the ticket created by the first request with this key", body = mashangban_domain::Ticket),
        (status = 409, description = "The key was used with another body, or the ticket to merge into is closed", body = ErrorBody))
)]
pub async fn create_ticket(
    State(app): State<App>,
    a: Authed,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = json_body(body)?;
    let (ticket, created) = app
        .create_ticket(&a.actor, body, idempotency_key(&headers)?)
        .await?;
    Ok(created_response(ticket, created))
}

/// Report what a grid worker found on patrol (网格上报), resolved on the spot or for dispatch
#[utoipa::path(
    post, path = "/api/v1/patrol-reports", tag = "tickets", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, max_length = 200,
        description = "A retried report with the same key (and the same body) returns the first ticket with 200 instead of creating another")),
    request_body = mashangban_domain::intake::PatrolBody,
    responses((status = 201, description = "Received from the `grid` channel; resolved (state `resolved_directly`) when `resolved_on_spot` was given", body = mashangban_domain::Ticket),
        (status = 200, description = "Idempotent replay: the ticket created by the first request with this key", body = mashangban_domain::Ticket),
        (status = 409, description = "The key was used with another body", body = ErrorBody))
)]
pub async fn report_on_patrol(
    State(app): State<App>,
    a: Authed,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = json_body(body)?;
    let (ticket, created) = app
        .report_on_patrol(&a.actor, body, idempotency_key(&headers)?)
        .await?;
    Ok(created_response(ticket, created))
}

/// The `Idempotency-Key` header, if sent.
pub(crate) fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str()
                .map(str::to_string)
                .map_err(|_| ApiError::invalid("Idempotency-Key", "must be visible ASCII"))
        })
        .transpose()
}

/// 201 with the new ticket, or 200 marked as a replay when an idempotency key found the
/// ticket of a first request.
fn created_response(ticket: mashangban_domain::Ticket, created: bool) -> Response {
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut resp = (status, Json(ticket)).into_response();
    if !created {
        resp.headers_mut().insert(
            "idempotent-replay",
            axum::http::HeaderValue::from_static("true"),
        );
    }
    resp
}

/// One ticket (citizen identity masked for roles that may not see it)
#[utoipa::path(
    get, path = "/api/v1/tickets/{id}", tag = "tickets", security(("bearer" = [])), params(("id" = i64, Path, description = "The ticket's id")),
    responses((status = 200, description = "The ticket", body = mashangban_domain::Ticket))
)]
pub async fn get_ticket(
    State(app): State<App>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let t = app.get_ticket(&a.actor, parse_id(&id)?).await?;
    Ok(Json(t).into_response())
}

/// The ticket's events, oldest first: the audit trail
#[utoipa::path(
    get, path = "/api/v1/tickets/{id}/events", tag = "tickets", security(("bearer" = [])), params(("id" = i64, Path, description = "The ticket's id")),
    responses((status = 200, description = "The events", body = Items<mashangban_domain::Event>))
)]
pub async fn ticket_events(
    State(app): State<App>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let events = app.ticket_events(&a.actor, parse_id(&id)?).await?;
    Ok(Json(Items::of(events)).into_response())
}

/// One action on several tickets at once: `sign`, `dispatch` (the same unit) or `add-note`
///
/// Each ticket is acted on alone, in its own transaction and by the same rules as
/// `POST /api/v1/tickets/{id}/{action}`: a ticket is changed wholly or not at all, and a
/// ticket refused (wrong state, not the actor's, not found) is named with the code and
/// message its own request would have answered, without undoing the others. The action,
/// the actor's right to it, the list (1 to 50 ids) and the body are checked first: a
/// failure there changes nothing and answers 403 or 422.
#[utoipa::path(
    post, path = "/api/v1/tickets/bulk", tag = "actions", security(("bearer" = [])),
    request_body = crate::bodies::BulkAction,
    responses((status = 200, description = "The tickets acted on and those refused", body = mashangban_app::tickets::BulkOutcome),
        (status = 422, description = "An action not taken in bulk, no ticket or more than 50, or a body the action refuses", body = ErrorBody))
)]
pub async fn act_on_many(
    State(app): State<App>,
    a: Authed,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let b: crate::bodies::BulkAction = parse_body(body)?;
    let body = b.body.unwrap_or_else(|| serde_json::json!({}));
    let outcome = app
        .act_on_many(&a.actor, b.action, &b.ticket_ids, body)
        .await?;
    Ok(Json(outcome).into_response())
}

pub async fn act(
    State(app): State<App>,
    a: Authed,
    Path((id, action)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let Some(action) = Action::parse(&action) else {
        let names: Vec<_> = Action::ALL.iter().map(|a| a.as_str()).collect();
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_action",
            format!(
                "unknown action `{action}`; actions are: {}",
                names.join(", ")
            ),
        ));
    };
    let id = parse_id(&id)?;
    let body = json_body(body)?;
    let outcome = app.act(&a.actor, id, action, body).await?;
    Ok(Json(Acted {
        ticket: outcome.ticket,
        events: outcome.events,
    })
    .into_response())
}

/// List tickets, newest first (a unit handler sees only their unit's)
#[utoipa::path(
    get, path = "/api/v1/tickets", tag = "tickets", security(("bearer" = [])),
    params(
        ("state" = Option<String>, Query, description = "One state or several separated by commas"),
        ("unit" = Option<i64>, Query, description = "Lead or co-unit id"),
        ("channel" = Option<mashangban_domain::Channel>, Query),
        ("category" = Option<String>, Query, description = "Category code, or an ancestor's code"),
        ("division" = Option<String>, Query, description = "Division code, or an ancestor's code"),
        ("created_from" = Option<String>, Query, description = "RFC 3339 time or YYYY-MM-DD (Asia/Shanghai), inclusive"),
        ("created_to" = Option<String>, Query, description = "RFC 3339 time (exclusive) or YYYY-MM-DD (inclusive)"),
        ("phone" = Option<String>, Query, description = "Citizen's phone number (caller history); only for roles that see contacts"),
        ("extension_pending" = Option<bool>, Query, description = "With (true) or without (false) an extension request awaiting a decision"),
        ("alert" = Option<String>, Query, description = "Open tickets at risk (`any`, `warning`) or `overdue`"),
        ("supervision" = Option<String>, Query, description = "Open tickets under supervision at least this level: `any`, `l1`, `l2`, `l3`"),
        ("awaiting_answer" = Option<bool>, Query, description = "Supervised tickets whose unit has (false) or has not (true) answered"),
        ("queue" = Option<mashangban_domain::UnitQueue>, Query, description = "What the tickets wait for from the unit (`unit`, or a unit handler's own): `to_sign`, `in_hand`, `below` (a level below holds it), `to_review` (a reply or return from below to decide), `none`"),
        ("order" = Option<String>, Query, description = "`newest` first (the default) or `oldest` first, by when they came in"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 500, description = "default 50"),
    ),
    responses((status = 200, description = "A page of tickets", body = mashangban_app::tickets::TicketPage))
)]
pub async fn list_tickets(
    State(app): State<App>,
    a: Authed,
    query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let q = ListQuery::from_pairs(query_pairs(query)?)?;
    let page = app.list_tickets(&a.actor, q).await?;
    Ok(Json(page).into_response())
}

/// A query string as name/value pairs, or the 400 that says why it could not be read.
fn query_pairs(
    query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Result<Vec<(String, String)>, ApiError> {
    query
        .map(|Query(p)| p)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_query", e.body_text()))
}

/// Full-text search over every ticket the caller may see, best first
/// Title, content, address, answer, reply, or a ticket number; words in Chinese are matched whatever the segmentation of the ticket. Every word is required if some ticket has them all, else tickets with some are listed (`all_words` false). Units find only the tickets they lead or help with.
#[utoipa::path(
    get, path = "/api/v1/tickets/search", tag = "tickets", security(("bearer" = [])),
    params(
        ("q" = String, Query, min_length = 1, max_length = 200),
        ("state" = Option<String>, Query, description = "states, comma-separated"),
        ("unit" = Option<i64>, Query, description = "lead or co-unit (ignored for unit handlers: their own)"),
        ("channel" = Option<String>, Query),
        ("category" = Option<String>, Query, description = "a category at any level"),
        ("division" = Option<String>, Query, description = "a division at any level"),
        ("created_from" = Option<String>, Query, description = "YYYY-MM-DD (Asia/Shanghai) or RFC 3339"),
        ("created_to" = Option<String>, Query, description = "YYYY-MM-DD inclusive, or RFC 3339"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "default 20"),
        ("offset" = Option<u32>, Query, minimum = 0, maximum = 10000, description = "default 0"),
    ),
    responses((status = 200, description = "The matches", body = mashangban_app::search::SearchPage))
)]
pub async fn search_tickets(
    State(app): State<App>,
    a: Authed,
    query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let page = app.search_tickets(&a.actor, query_pairs(query)?).await?;
    Ok(Json(page).into_response())
}

/// Organisation units
#[utoipa::path(
    get, path = "/api/v1/units", tag = "reference", security(("bearer" = [])),
    responses((status = 200, description = "Every unit", body = Items<mashangban_domain::Unit>))
)]
pub async fn list_units(State(app): State<App>, a: Authed) -> Result<Response, ApiError> {
    let units = app.units(&a.actor).await?;
    Ok(Json(Items::of(units)).into_response())
}

/// Administrative divisions
#[utoipa::path(
    get, path = "/api/v1/divisions", tag = "reference", security(("bearer" = [])),
    params(("parent" = Option<String>, Query, description = "The parent's code"),
        ("level" = Option<mashangban_domain::DivisionLevel>, Query)),
    responses((status = 200, description = "The divisions", body = Items<mashangban_domain::Division>))
)]
pub async fn list_divisions(
    State(app): State<App>,
    a: Authed,
    query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) =
        query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_query", e.body_text()))?;
    let mut parent = None;
    let mut level = None;
    for (k, v) in q {
        match k.as_str() {
            "parent" => parent = Some(v),
            "level" => {
                level = Some(v.parse().map_err(|e: mashangban_domain::UnknownValue| {
                    ApiError::invalid("level", e.to_string())
                })?)
            }
            _ => {
                return Err(ApiError::invalid(
                    k,
                    "unknown filter; filters are parent, level",
                ));
            }
        }
    }
    let items = app.divisions(&a.actor, parent.as_deref(), level).await?;
    Ok(Json(Items::of(items)).into_response())
}

/// The category taxonomy
#[utoipa::path(
    get, path = "/api/v1/categories", tag = "reference", security(("bearer" = [])),
    responses((status = 200, description = "Every category", body = Items<mashangban_domain::Category>))
)]
pub async fn list_categories(State(app): State<App>, a: Authed) -> Result<Response, ApiError> {
    let items = app.categories(&a.actor).await?;
    Ok(Json(Items::of(items)).into_response())
}

/// Users (administrators)
#[utoipa::path(
    get, path = "/api/v1/users", tag = "admin", security(("bearer" = [])),
    responses((status = 200, description = "Every user", body = Items<mashangban_domain::User>))
)]
pub async fn list_users(State(app): State<App>, a: Authed) -> Result<Response, ApiError> {
    let items = app.users(&a.actor).await?;
    Ok(Json(Items::of(items)).into_response())
}

/// Create a user (administrators)
#[utoipa::path(
    post, path = "/api/v1/users", tag = "admin", security(("bearer" = [])), request_body = NewUser,
    responses((status = 201, description = "Created", body = mashangban_domain::User), (status = 409, description = "The username is taken", body = ErrorBody))
)]
pub async fn create_user(
    State(app): State<App>,
    a: Authed,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let b: NewUser = mashangban_domain::lifecycle::from_json(json_body(body)?)
        .map_err(mashangban_app::AppError::from)?;
    let user = app
        .add_user(
            &a.actor,
            UserInput {
                username: b.username,
                display_name: b.display_name,
                role: b.role,
                unit_id: b.unit_id,
                password: b.password,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(user)).into_response())
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method; see /api/v1/openapi.json",
    )
}

pub async fn fallback() -> ApiError {
    ApiError::not_found("no such endpoint; see /api/v1/openapi.json")
}

pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "internal error; it has been logged",
    )
    .into_response()
}

/// Refuses a body whose declared length is over the limit before reading any of it.
pub async fn refuse_oversized(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let limit = if crate::api_files::is_upload(req.uri().path()) {
        crate::api_files::UPLOAD_BODY_BYTES
    } else if req.uri().path() == "/api/v1/import/tickets" {
        crate::api_import::IMPORT_BODY_BYTES
    } else {
        crate::MAX_BODY_BYTES
    };
    if declared.is_some_and(|n| n > limit as u64) {
        let mut resp = ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the request body is larger than {limit} bytes"),
        )
        .into_response();
        resp.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
        return resp;
    }
    next.run(req).await
}

fn parse_body<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    mashangban_domain::lifecycle::from_json(json_body(body)?)
        .map_err(|e| mashangban_app::AppError::from(e).into())
}

/// Create or change a category (administrators); codes nest two digits a level
#[utoipa::path(
    post, path = "/api/v1/categories", tag = "admin", security(("bearer" = [])), request_body = mashangban_app::admin::CategoryInput,
    responses((status = 200, description = "Saved", body = mashangban_domain::Category))
)]
pub async fn save_category(
    State(app): State<App>,
    a: Authed,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let c = app.save_category(&a.actor, parse_body(body)?).await?;
    Ok(Json(c).into_response())
}

/// Create a unit (administrators)
#[utoipa::path(
    post, path = "/api/v1/units", tag = "admin", security(("bearer" = [])), request_body = mashangban_app::admin::UnitInput,
    responses((status = 201, description = "Created", body = mashangban_domain::Unit), (status = 409, description = "The code is taken", body = ErrorBody))
)]
pub async fn create_unit(
    State(app): State<App>,
    a: Authed,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let u = app.add_unit(&a.actor, parse_body(body)?).await?;
    Ok((StatusCode::CREATED, Json(u)).into_response())
}

/// Set a division's resident population (administrators), used by 万人诉求比
#[utoipa::path(
    patch, path = "/api/v1/divisions/{code}", tag = "admin", security(("bearer" = [])),
    params(("code" = String, Path)), request_body = PopulationChange,
    responses((status = 200, description = "Saved", body = mashangban_domain::Division))
)]
pub async fn patch_division(
    State(app): State<App>,
    a: Authed,
    Path(code): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let c: PopulationChange = parse_body(body)?;
    let d = app.set_population(&a.actor, &code, c.population).await?;
    Ok(Json(d).into_response())
}

/// Disable or enable a user, change the role, or reset the password (administrators)
#[utoipa::path(
    patch, path = "/api/v1/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = mashangban_app::admin::UserChange,
    responses((status = 200, description = "Saved", body = mashangban_domain::User),
        (status = 409, description = "The last active administrator cannot be disabled or demoted", body = ErrorBody))
)]
pub async fn patch_user(
    State(app): State<App>,
    a: Authed,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let id = id
        .parse::<i64>()
        .map_err(|_| ApiError::not_found(format!("user {id} not found")))?;
    let u = app.change_user(&a.actor, id, parse_body(body)?).await?;
    Ok(Json(u).into_response())
}

/// A ticket's clocks (sign, contact, handling, callback)
/// Start, warning and due points, state, pauses, extensions, and the days that counted.
#[utoipa::path(
    get, path = "/api/v1/tickets/{id}/deadlines", tag = "deadlines", security(("bearer" = [])), params(("id" = i64, Path, description = "The ticket's id")),
    responses((status = 200, description = "The clocks", body = mashangban_app::deadlines::Deadlines))
)]
pub async fn ticket_deadlines(
    State(app): State<App>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let d = app.deadlines(&a.actor, parse_id(&id)?).await?;
    Ok(Json(d).into_response())
}

/// Inspect the reply awaiting review (答复质检)
/// What the reply a reviewer is about to approve may lack or get wrong: points of the request not addressed, nothing concrete, passing the buck, vague promises, another person's phone or identity number, what the record contradicts. Each finding says why and quotes its words; none refuses an approval, and the findings are recorded with it. No reply awaiting review: `unit_id` and `reply` are null and there are no findings.
#[utoipa::path(
    get, path = "/api/v1/tickets/{id}/reply-inspection", tag = "tickets", security(("bearer" = [])), params(("id" = i64, Path, description = "The ticket's id")),
    responses((status = 200, description = "The findings", body = mashangban_app::reply_check::ReplyInspection))
)]
pub async fn reply_inspection(
    State(app): State<App>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let i = app.reply_inspection(&a.actor, parse_id(&id)?).await?;
    Ok(Json(i).into_response())
}

#[derive(serde::Deserialize)]
pub struct YearQuery {
    year: Option<String>,
}

fn parse_year(v: &str) -> Result<i32, ApiError> {
    v.parse::<i32>()
        .ok()
        .filter(|y| (2000..=2100).contains(y))
        .ok_or_else(|| ApiError::invalid("year", format!("`{v}` is not a year from 2000 to 2100")))
}

fn parse_date(v: &str) -> Result<chrono::NaiveDate, ApiError> {
    chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map_err(|_| ApiError::invalid("date", format!("`{v}` is not a date (YYYY-MM-DD)")))
}

/// The official calendar of a year
/// Its exceptions (holidays, make-up workdays) and whether its schedule is known.
#[utoipa::path(
    get, path = "/api/v1/calendar", tag = "deadlines", security(("bearer" = [])),
    params(("year" = Option<i32>, Query, minimum = 2000, maximum = 2100, description = "default: this year")),
    responses((status = 200, description = "The year", body = mashangban_app::deadlines::CalendarYear))
)]
pub async fn calendar(
    State(app): State<App>,
    a: Authed,
    Query(q): Query<YearQuery>,
) -> Result<Response, ApiError> {
    let year = match q.year.as_deref() {
        Some(v) => parse_year(v)?,
        None => chrono::Datelike::year(&chrono::Utc::now().with_timezone(&china_offset())),
    };
    Ok(Json(app.calendar_year(&a.actor, year).await?).into_response())
}

/// Make a date a holiday or a make-up workday (administrators); its year becomes known
#[utoipa::path(
    put, path = "/api/v1/calendar/days/{date}", tag = "deadlines", security(("bearer" = [])),
    params(("date" = NaiveDate, Path)), request_body = CalendarDayChange,
    responses((status = 200, description = "Saved", body = CalendarDaySet))
)]
pub async fn put_calendar_day(
    State(app): State<App>,
    a: Authed,
    Path(date): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let date = parse_date(&date)?;
    let d: CalendarDayChange = parse_body(body)?;
    app.set_calendar_day(&a.actor, date, d.kind, &d.name)
        .await?;
    Ok(Json(CalendarDaySet {
        date,
        kind: d.kind,
        name: d.name.trim().to_string(),
    })
    .into_response())
}

/// Remove an exception: the date follows the weekend rule again (administrators)
#[utoipa::path(
    delete, path = "/api/v1/calendar/days/{date}", tag = "deadlines", security(("bearer" = [])),
    params(("date" = NaiveDate, Path)),
    responses((status = 204, description = "Removed"))
)]
pub async fn delete_calendar_day(
    State(app): State<App>,
    a: Authed,
    Path(date): Path<String>,
) -> Result<Response, ApiError> {
    app.delete_calendar_day(&a.actor, parse_date(&date)?)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Mark a year's schedule as published (known) or not (administrators)
#[utoipa::path(
    put, path = "/api/v1/calendar/years/{year}", tag = "deadlines", security(("bearer" = [])),
    params(("year" = i32, Path, minimum = 2000, maximum = 2100)), request_body = CalendarYearChange,
    responses((status = 200, description = "Saved", body = CalendarYearSet))
)]
pub async fn put_calendar_year(
    State(app): State<App>,
    a: Authed,
    Path(year): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let year = parse_year(&year)?;
    let y: CalendarYearChange = parse_body(body)?;
    app.set_calendar_year(&a.actor, year, y.known).await?;
    Ok(Json(CalendarYearSet {
        year,
        known: y.known,
    })
    .into_response())
}

/// The deadline policy in force
#[utoipa::path(
    get, path = "/api/v1/policy/deadlines", tag = "deadlines", security(("bearer" = [])),
    responses((status = 200, description = "The policy", body = mashangban_domain::deadlines::DeadlinePolicy))
)]
pub async fn deadline_policy(State(app): State<App>, a: Authed) -> Result<Response, ApiError> {
    Ok(Json(app.deadline_policy(&a.actor).await?).into_response())
}

/// Replace the deadline policy (administrators); every field is required
#[utoipa::path(
    put, path = "/api/v1/policy/deadlines", tag = "deadlines", security(("bearer" = [])),
    request_body = mashangban_domain::deadlines::DeadlinePolicy,
    responses((status = 200, description = "Saved", body = mashangban_domain::deadlines::DeadlinePolicy))
)]
pub async fn put_deadline_policy(
    State(app): State<App>,
    a: Authed,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let p = app.set_policy(&a.actor, json_body(body)?).await?;
    Ok(Json(p).into_response())
}

/// Webhook subscriptions (administrators)
/// Each delivery is a POST with X-Mashangban-Delivery (its id, the same on a retry), X-Mashangban-Timestamp and X-Mashangban-Signature: sha256=hex(HMAC-SHA256(secret, timestamp + "." + body)).
#[utoipa::path(
    get, path = "/api/v1/webhooks", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, description = "The subscriptions, without their secrets", body = Vec<WebhookView>))
)]
pub async fn webhooks(State(app): State<App>, a: Authed) -> Result<Response, ApiError> {
    let hooks = app.webhooks(&a.actor).await?;
    Ok(Json(hooks.iter().map(WebhookView::from).collect::<Vec<_>>()).into_response())
}

/// Replace the webhook subscriptions (administrators); an empty secret keeps the current one
#[utoipa::path(
    put, path = "/api/v1/webhooks", tag = "notifications", security(("bearer" = [])),
    request_body = Vec<mashangban_app::notify::Webhook>,
    responses((status = 200, description = "Saved", body = Vec<WebhookView>))
)]
pub async fn put_webhooks(
    State(app): State<App>,
    a: Authed,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let hooks = app.set_webhooks(&a.actor, json_body(body)?).await?;
    Ok(Json(hooks.iter().map(WebhookView::from).collect::<Vec<_>>()).into_response())
}

/// The texts citizens are sent by SMS (administrators)
/// The receipt of a request from any channel, the approved answer, and the request to rate
/// it; placeholders `{number}`, `{code}`, `{link}` (the portal's page of the request, under
/// `MASHANGBAN_PUBLIC_URL`), `{reply}` (the answer, shortened) and `{unit}`.
#[utoipa::path(
    get, path = "/api/v1/citizen-texts", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, description = "The templates in force", body = mashangban_domain::public::CitizenTexts))
)]
pub async fn citizen_texts(State(app): State<App>, a: Authed) -> Result<Response, ApiError> {
    Ok(Json(app.citizen_texts(&a.actor).await?).into_response())
}

/// Replace the texts citizens are sent by SMS (administrators)
/// Each must name the request (`{number}`), hold no placeholder but the five, and be at
/// most 300 characters.
#[utoipa::path(
    put, path = "/api/v1/citizen-texts", tag = "notifications", security(("bearer" = [])),
    request_body = mashangban_domain::public::CitizenTexts,
    responses((status = 200, description = "Saved", body = mashangban_domain::public::CitizenTexts))
)]
pub async fn put_citizen_texts(
    State(app): State<App>,
    a: Authed,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let texts = app.set_citizen_texts(&a.actor, json_body(body)?).await?;
    Ok(Json(texts).into_response())
}

/// The outbox: notices and their deliveries, newest first (administrators)
#[utoipa::path(
    get, path = "/api/v1/outbox", tag = "notifications", security(("bearer" = [])),
    params(("channel" = Option<String>, Query, description = "`sms`, `webhook` or `console`"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "default 100")),
    responses((status = 200, description = "The deliveries", body = Vec<mashangban_app::notify::Notice>))
)]
pub async fn outbox(
    State(app): State<App>,
    a: Authed,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let channel = q
        .get("channel")
        .map(String::as_str)
        .filter(|c| !c.is_empty());
    let limit = limit_param(&q, 100, 1000)?;
    Ok(Json(app.outbox(&a.actor, channel, limit).await?).into_response())
}

/// My console notices, newest first, and how many I have not read
#[utoipa::path(
    get, path = "/api/v1/notices", tag = "notifications", security(("bearer" = [])),
    params(("seen" = Option<bool>, Query, description = "true: mark them all read")),
    responses((status = 200, description = "My notices", body = Notices))
)]
pub async fn notices(
    State(app): State<App>,
    a: Authed,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let mark = q.get("seen").is_some_and(|v| v == "true" || v == "1");
    let (items, unseen) = app.my_notices(&a.user, 100, mark).await?;
    let items = items
        .iter()
        .map(|(n, read)| {
            let p: Value = serde_json::from_str(&n.payload).unwrap_or(Value::Null);
            NoticeView {
                id: n.id,
                at: n.created_at,
                ticket_id: n.ticket_id,
                link: notice_link(n),
                event: p["event"].as_str().map(str::to_string),
                text: p["text"].as_str().unwrap_or_default().to_string(),
                read: *read,
            }
        })
        .collect();
    Ok(Json(Notices { unseen, items }).into_response())
}

/// Where a console notice leads: a local link it carries, else its ticket's page.
pub(crate) fn notice_link(n: &mashangban_app::notify::Notice) -> Option<String> {
    let p: Value = serde_json::from_str(&n.payload).unwrap_or(Value::Null);
    p["link"]
        .as_str()
        .filter(|l| l.starts_with('/') && !l.starts_with("//") && !l.contains('\\'))
        .map(str::to_string)
        .or_else(|| n.ticket_id.map(|id| format!("/tickets/{id}")))
}

/// Mark one of my console notices read (the others stay as they are)
#[utoipa::path(
    post, path = "/api/v1/notices/{id}/read", tag = "notifications", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The notice's id")),
    responses((status = 200, description = "Read; how many of mine are left unread", body = NoticeRead),
        (status = 404, description = "No notice of mine has this id", body = ErrorBody))
)]
pub async fn read_notice(
    State(app): State<App>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let notice = app.open_notice(&a.user, parse_id(&id)?).await?;
    let unseen = app.unread_notices(&a.user).await?;
    Ok(Json(NoticeRead {
        id: notice.id,
        unseen,
    })
    .into_response())
}

/// Set a unit's SMS liaison (administrators); an empty phone removes it
#[utoipa::path(
    put, path = "/api/v1/units/{id}/contact", tag = "notifications", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = ContactChange,
    responses((status = 200, description = "Saved", body = ContactSet))
)]
pub async fn put_unit_contact(
    State(app): State<App>,
    a: Authed,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let id = id
        .parse::<i64>()
        .map_err(|_| ApiError::not_found(format!("unit {id} not found")))?;
    let b: ContactChange = mashangban_domain::lifecycle::from_json(json_body(body)?)
        .map_err(mashangban_app::AppError::from)?;
    let c = app
        .set_unit_contact(&a.actor, id, &b.liaison, &b.phone)
        .await?;
    Ok(Json(ContactSet {
        unit_id: id,
        contact: c,
    })
    .into_response())
}

/// The supervisor board: open tickets at risk, overdue and under each supervision level, by lead unit
#[utoipa::path(
    get, path = "/api/v1/board", tag = "deadlines", security(("bearer" = [])),
    responses((status = 200, description = "One line a lead unit", body = Vec<mashangban_app::deadlines::BoardLine>))
)]
pub async fn board(State(app): State<App>, a: Authed) -> Result<Response, ApiError> {
    Ok(Json(app.board(&a.actor).await?).into_response())
}

/// `?limit=N` between 1 and `max`; `default` when absent or empty.
pub fn limit_param(
    q: &std::collections::HashMap<String, String>,
    default: u32,
    max: u32,
) -> Result<u32, mashangban_app::AppError> {
    match q.get("limit").filter(|l| !l.is_empty()) {
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=max).contains(l))
            .ok_or_else(|| {
                mashangban_app::AppError::invalid("limit", format!("must be between 1 and {max}"))
            }),
        None => Ok(default),
    }
}

/// `?name=true|false`; false when absent or empty.
pub fn flag_param(
    q: &std::collections::HashMap<String, String>,
    name: &str,
) -> Result<bool, mashangban_app::AppError> {
    match q.get(name).map(String::as_str) {
        None | Some("") | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(mashangban_app::AppError::invalid(
            name,
            format!("`{other}`: expected true or false"),
        )),
    }
}

/// `?name=ID`, if given.
pub fn id_param(
    q: &std::collections::HashMap<String, String>,
    name: &str,
) -> Result<Option<i64>, mashangban_app::AppError> {
    q.get(name)
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| mashangban_app::AppError::invalid(name, format!("`{v}` is not an id")))
        })
        .transpose()
}
