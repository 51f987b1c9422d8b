//! `/api/v1/import`: data from the system a city moves from — past tickets (历史工单).

use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mashangban_app::App;
use mashangban_app::import::{ImportFormat, ImportReport};
use serde::Deserialize;

use crate::api::Authed;
use crate::bodies::ErrorBody;
use crate::error::ApiError;

/// The largest file the API takes (about 200,000 rows of CSV).
pub const IMPORT_BODY_BYTES: usize = 96 * 1024 * 1024;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ImportQuery {
    /// Check every row and say what would be imported, writing nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// Import past tickets from CSV or an Excel workbook's first sheet (administrators)
///
/// A header row names the columns (number, received_at, channel, line, kind, title,
/// content, citizen_name, citizen_phone, address, category_code, division_code, lead_unit,
/// co_units, tier, dispatched_at, signed_at, replied_at, reply, closed_at, contacted,
/// resolution, satisfaction); each row becomes a ticket with its events at their own times
/// and the figures with them. All rows or none: a file with any bad field is refused (422
/// `bad_rows`, every bad field of every row in `rows`, by line). Rows whose number is
/// already here are left as they are: the same file again changes nothing.
#[utoipa::path(
    post, path = "/api/v1/import/tickets", tag = "admin", security(("bearer" = [])),
    params(ImportQuery),
    request_body(content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
    responses((status = 200, description = "Imported, or checked (dry_run)", body = ImportReport),
        (status = 422, description = "Bad rows: nothing imported", body = ErrorBody))
)]
pub async fn import_tickets(
    State(app): State<App>,
    a: Authed,
    q: Query<ImportQuery>,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = axum::body::to_bytes(body, IMPORT_BODY_BYTES)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!(
                    "the file is larger than {} MB",
                    IMPORT_BODY_BYTES / 1024 / 1024
                ),
            )
        })?;
    let report = app
        .import_tickets(
            &a.actor,
            &bytes,
            ImportFormat::sniff(&bytes),
            q.dry_run,
            chrono::Utc::now(),
        )
        .await?;
    if !report.errors.is_empty() {
        let mut e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_rows",
            format!(
                "{} bad fields in {} rows: nothing imported",
                report.errors.len(),
                report.rows
            ),
        );
        e.rows = report.errors;
        return Err(e);
    }
    Ok(Json(report).into_response())
}
