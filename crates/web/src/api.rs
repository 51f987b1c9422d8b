//! Handlers of the JSON API.

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
use mashangban_domain::{Action, Actor, Role, User};
use serde_json::{Value, json};

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
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "send Authorization: Bearer TOKEN",
                )
            })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
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

pub async fn healthz(State(app): State<App>) -> Response {
    match app.health().await {
        Ok(()) => Json(json!({"status": "ok", "database": "ok"})).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "database": "unreachable"})),
            )
                .into_response()
        }
    }
}

pub async fn openapi() -> Json<Value> {
    Json(crate::openapi::document())
}

pub async fn login(
    State(app): State<App>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Login {
        username: String,
        password: String,
    }
    let b: Login = mashangban_domain::lifecycle::from_json(json_body(body)?)
        .map_err(mashangban_app::AppError::from)?;
    let (user, token) = app.login(&b.username, &b.password).await?;
    Ok(Json(
        json!({"token": token, "expires_in_hours": app.config.login_token_hours, "user": user}),
    ))
}

pub async fn logout(State(app): State<App>, a: Authed) -> Result<StatusCode, ApiError> {
    app.logout(&a.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn me(a: Authed) -> Json<User> {
    Json(a.user)
}

pub async fn create_ticket(
    State(app): State<App>,
    a: Authed,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = json_body(body)?;
    let key = match headers.get("idempotency-key") {
        Some(v) => Some(
            v.to_str()
                .map_err(|_| ApiError::invalid("Idempotency-Key", "must be visible ASCII"))?
                .to_string(),
        ),
        None => None,
    };
    let (ticket, created) = app.create_ticket(&a.actor, body, key).await?;
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
    Ok(resp)
}

pub async fn get_ticket(
    State(app): State<App>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let t = app.get_ticket(&a.actor, parse_id(&id)?).await?;
    Ok(Json(t).into_response())
}

pub async fn ticket_events(
    State(app): State<App>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let events = app.ticket_events(&a.actor, parse_id(&id)?).await?;
    Ok(Json(json!({ "items": events })).into_response())
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
    Ok(Json(json!({"ticket": outcome.ticket, "events": outcome.events})).into_response())
}

/// Parses a time filter: RFC 3339, or a date (a whole business day in Asia/Shanghai;
/// as an upper bound the day is included).
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

/// Full-text search over every ticket the caller may see, with the list's filters.
pub async fn search_tickets(
    State(app): State<App>,
    a: Authed,
    query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let page = app.search_tickets(&a.actor, query_pairs(query)?).await?;
    Ok(Json(page).into_response())
}

pub async fn list_units(State(app): State<App>, a: Authed) -> Result<Response, ApiError> {
    let units = app.units(&a.actor).await?;
    Ok(Json(json!({ "items": units })).into_response())
}

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
    Ok(Json(json!({ "items": items })).into_response())
}

pub async fn list_categories(State(app): State<App>, a: Authed) -> Result<Response, ApiError> {
    let items = app.categories(&a.actor).await?;
    Ok(Json(json!({ "items": items })).into_response())
}

pub async fn list_users(State(app): State<App>, a: Authed) -> Result<Response, ApiError> {
    let items = app.users(&a.actor).await?;
    Ok(Json(json!({ "items": items })).into_response())
}

pub async fn create_user(
    State(app): State<App>,
    a: Authed,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct NewUserBody {
        username: String,
        display_name: Option<String>,
        role: Role,
        unit_id: Option<i64>,
        password: Option<String>,
    }
    let b: NewUserBody = mashangban_domain::lifecycle::from_json(json_body(body)?)
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
    if declared.is_some_and(|n| n > crate::MAX_BODY_BYTES as u64) {
        let mut resp = ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!(
                "the request body is larger than {} bytes",
                crate::MAX_BODY_BYTES
            ),
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

pub async fn save_category(
    State(app): State<App>,
    a: Authed,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let c = app.save_category(&a.actor, parse_body(body)?).await?;
    Ok(Json(c).into_response())
}

pub async fn create_unit(
    State(app): State<App>,
    a: Authed,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let u = app.add_unit(&a.actor, parse_body(body)?).await?;
    Ok((StatusCode::CREATED, Json(u)).into_response())
}

pub async fn patch_division(
    State(app): State<App>,
    a: Authed,
    Path(code): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Change {
        population: Option<i64>,
    }
    let c: Change = parse_body(body)?;
    let d = app.set_population(&a.actor, &code, c.population).await?;
    Ok(Json(d).into_response())
}

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

pub async fn ticket_deadlines(
    State(app): State<App>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let d = app.deadlines(&a.actor, parse_id(&id)?).await?;
    Ok(Json(d).into_response())
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

/// `GET /api/v1/calendar?year=2026`: the year's exceptions and whether it is known.
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

/// `PUT /api/v1/calendar/days/{date}` `{"kind": "holiday"|"workday", "name": "..."}`.
pub async fn put_calendar_day(
    State(app): State<App>,
    a: Authed,
    Path(date): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let date = parse_date(&date)?;
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Day {
        kind: mashangban_domain::calendar::DayKind,
        #[serde(default)]
        name: String,
    }
    let d: Day = parse_body(body)?;
    app.set_calendar_day(&a.actor, date, d.kind, &d.name)
        .await?;
    Ok(Json(json!({"date": date, "kind": d.kind, "name": d.name.trim()})).into_response())
}

/// `DELETE /api/v1/calendar/days/{date}`: the date follows the weekend rule again.
pub async fn delete_calendar_day(
    State(app): State<App>,
    a: Authed,
    Path(date): Path<String>,
) -> Result<Response, ApiError> {
    app.delete_calendar_day(&a.actor, parse_date(&date)?)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PUT /api/v1/calendar/years/{year}` `{"known": true}`: a year's schedule is published.
pub async fn put_calendar_year(
    State(app): State<App>,
    a: Authed,
    Path(year): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let year = parse_year(&year)?;
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Year {
        known: bool,
    }
    let y: Year = parse_body(body)?;
    app.set_calendar_year(&a.actor, year, y.known).await?;
    Ok(Json(json!({"year": year, "known": y.known})).into_response())
}

/// `GET /api/v1/policy/deadlines`: the deadline policy in force.
pub async fn deadline_policy(State(app): State<App>, a: Authed) -> Result<Response, ApiError> {
    Ok(Json(app.deadline_policy(&a.actor).await?).into_response())
}

/// `PUT /api/v1/policy/deadlines`: replaces the deadline policy (every field required).
pub async fn put_deadline_policy(
    State(app): State<App>,
    a: Authed,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let p = app.set_policy(&a.actor, json_body(body)?).await?;
    Ok(Json(p).into_response())
}

/// A webhook as shown back: everything but the secret.
fn webhook_view(h: &mashangban_app::notify::Webhook) -> Value {
    json!({
        "name": h.name,
        "url": h.url,
        "events": h.events,
        "active": h.active,
        "secret_set": !h.secret.is_empty(),
    })
}

/// `GET /api/v1/webhooks`: the webhook subscriptions (secrets never shown).
pub async fn webhooks(State(app): State<App>, a: Authed) -> Result<Response, ApiError> {
    let hooks = app.webhooks(&a.actor).await?;
    Ok(Json(hooks.iter().map(webhook_view).collect::<Vec<_>>()).into_response())
}

/// `PUT /api/v1/webhooks`: replaces the subscriptions; an empty secret keeps the old one.
pub async fn put_webhooks(
    State(app): State<App>,
    a: Authed,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let hooks = app.set_webhooks(&a.actor, json_body(body)?).await?;
    Ok(Json(hooks.iter().map(webhook_view).collect::<Vec<_>>()).into_response())
}

/// `GET /api/v1/outbox?channel=sms&limit=100`: deliveries, newest first (administrators).
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

/// `GET /api/v1/notices?seen=true`: my console notices, newest first, and how many I had
/// not seen; `seen=true` marks them seen.
pub async fn notices(
    State(app): State<App>,
    a: Authed,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let mark = q.get("seen").is_some_and(|v| v == "true" || v == "1");
    let (items, unseen) = app.my_notices(&a.user, 100, mark).await?;
    let items: Vec<Value> = items
        .iter()
        .map(|n| {
            let p: Value = serde_json::from_str(&n.payload).unwrap_or(Value::Null);
            json!({"id": n.id, "at": n.created_at, "ticket_id": n.ticket_id, "event": p["event"], "text": p["text"]})
        })
        .collect();
    Ok(Json(json!({"unseen": unseen, "items": items})).into_response())
}

/// `PUT /api/v1/units/{id}/contact` `{"liaison": "...", "phone": "..."}`: the unit's
/// liaison, who receives its SMS (an empty phone removes it).
pub async fn put_unit_contact(
    State(app): State<App>,
    a: Authed,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let id = id
        .parse::<i64>()
        .map_err(|_| ApiError::not_found(format!("unit {id} not found")))?;
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ContactBody {
        #[serde(default)]
        liaison: String,
        phone: String,
    }
    let b: ContactBody = mashangban_domain::lifecycle::from_json(json_body(body)?)
        .map_err(mashangban_app::AppError::from)?;
    let c = app
        .set_unit_contact(&a.actor, id, &b.liaison, &b.phone)
        .await?;
    Ok(Json(json!({"unit_id": id, "contact": c})).into_response())
}

/// `GET /api/v1/board`: the supervisor board, by lead unit.
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
