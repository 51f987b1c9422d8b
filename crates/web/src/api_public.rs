//! `/api/v1/public`: the citizen's side, open to anyone (no token). What it shows of a
//! request is decided by the domain's public view; the use case guards itself against
//! enumeration and guessing.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use mashangban_app::App;
use std::collections::HashMap;

use crate::bodies::ErrorBody;
use crate::error::ApiError;

/// Look up a request by its number and tracking code (群众查询)
///
/// The state in plain words, the unit handling it (name only), when it was received, when a
/// reply is expected, the approved answer and what the citizen may do now; never internal
/// notes, staff or anyone's contact details. A wrong code and a number that does not exist
/// answer the same 404; after 10 wrong codes for a number within an hour, the number is
/// locked for an hour (429).
#[utoipa::path(
    get, path = "/api/v1/public/requests/{number}", tag = "public",
    params(("number" = String, Path, max_length = 40, description = "The request's number (`XN20261206000001`)"),
        ("code" = String, Query, max_length = 64, description = "The tracking code given with the number")),
    responses((status = 200, description = "The request as its citizen sees it", body = mashangban_domain::public::PublicTicket),
        (status = 404, description = "No request has this number and code (the same answer for both)", body = ErrorBody),
        (status = 429, description = "Too many wrong codes for this number: locked for an hour", body = ErrorBody))
)]
pub async fn track(
    State(app): State<App>,
    Path(number): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let code = q.get("code").map(String::as_str).unwrap_or("");
    let view = app.track_public(&number, code).await?;
    Ok(Json(view).into_response())
}
