//! `/api/v1/catalogue`: the dispatch catalogue (派单目录) — read by everyone on the staff,
//! kept by administrators, imported and exported as CSV, asked who owns a matter.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use mashangban_app::catalogue::EntryInput;
use mashangban_app::{App, AppError, Reference};
use mashangban_domain::Actor;
use mashangban_domain::catalogue::CatalogueEntry;
use serde_json::{Value, json};
use std::collections::HashMap;

use crate::api::{Authed, flag_param, id_param, json_body, limit_param};
use crate::error::ApiError;

/// An entry with the names a reader needs beside the codes.
pub fn entry_view(r: &Reference, e: &CatalogueEntry) -> Value {
    let unit = r.units.get(&e.unit_id);
    json!({
        "id": e.id,
        "version": e.version,
        "category_code": e.category_code,
        "category_name": r.category_path(&e.category_code),
        "division_code": e.division_code,
        "division_name": e.division_code.as_deref().and_then(|d| r.division_path(d)),
        "unit_id": e.unit_id,
        "unit_code": unit.map(|u| u.code.clone()),
        "unit_name": unit.map(|u| u.name.clone()),
        "ownership": e.ownership.as_str(),
        "tier": e.tier,
        "valid_from": e.valid_from,
        "valid_to": e.valid_to,
        "note": e.note,
    })
}

/// `GET /api/v1/catalogue`: every entry (`?in_force=true`: those valid today).
pub async fn list(
    State(app): State<App>,
    a: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let r = app.names(&a.actor).await?;
    let today = mashangban_app::catalogue::today();
    let in_force = flag_param(&q, "in_force")?;
    let items: Vec<Value> = app
        .catalogue(&a.actor)
        .await?
        .iter()
        .filter(|e| !in_force || e.valid_on(today))
        .map(|e| entry_view(&r, e))
        .collect();
    Ok(Json(json!({ "items": items })).into_response())
}

/// `POST /api/v1/catalogue`: adds an entry (administrators).
pub async fn create(
    State(app): State<App>,
    a: Authed,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let mut input: EntryInput =
        mashangban_domain::lifecycle::from_json(json_body(body)?).map_err(AppError::from)?;
    if input.id.is_some() {
        return Err(AppError::invalid(
            "id",
            "a new entry has no id; PUT /api/v1/catalogue/{id} edits one",
        )
        .into());
    }
    input.version = None;
    let saved = app.save_catalogue_entry(&a.actor, input).await?;
    let r = app.names(&a.actor).await?;
    Ok((StatusCode::CREATED, Json(entry_view(&r, &saved))).into_response())
}

/// `PUT /api/v1/catalogue/{id}`: edits an entry at the `version` read (administrators).
pub async fn update(
    State(app): State<App>,
    a: Authed,
    Path(id): Path<i64>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let mut input: EntryInput =
        mashangban_domain::lifecycle::from_json(json_body(body)?).map_err(AppError::from)?;
    if input.id.is_some_and(|i| i != id) {
        return Err(AppError::invalid("id", "differs from the entry in the path").into());
    }
    input.id = Some(id);
    let saved = app.save_catalogue_entry(&a.actor, input).await?;
    let r = app.names(&a.actor).await?;
    Ok(Json(entry_view(&r, &saved)).into_response())
}

/// `DELETE /api/v1/catalogue/{id}?version=N` (administrators).
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
    app.delete_catalogue_entry(&a.actor, id, version).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/v1/catalogue/history?entry_id=N&limit=100`: changes, newest first.
pub async fn history(
    State(app): State<App>,
    a: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let entry_id = id_param(&q, "entry_id")?;
    let limit = limit_param(&q, 100, 1000)?;
    let items = app.catalogue_history(&a.actor, entry_id, limit).await?;
    Ok(Json(json!({ "items": items })).into_response())
}

/// `GET /api/v1/catalogue/export.csv`: the catalogue as CSV (opens in Excel).
pub async fn export(State(app): State<App>, a: Authed) -> Result<Response, ApiError> {
    Ok(csv_file(&app, &a.actor).await?)
}

/// `GET /api/v1/catalogue/export.xlsx`: the catalogue as an Excel workbook, in the columns
/// the import reads.
pub async fn export_xlsx(State(app): State<App>, a: Authed) -> Result<Response, ApiError> {
    Ok(xlsx_file(&app, &a.actor).await?)
}

/// The catalogue as a CSV download (for the API and the console).
pub(crate) async fn csv_file(app: &App, actor: &Actor) -> Result<Response, AppError> {
    let csv = app.export_catalogue_csv(actor).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"catalogue.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}

/// The catalogue as an Excel download (for the API and the console).
pub(crate) async fn xlsx_file(app: &App, actor: &Actor) -> Result<Response, AppError> {
    let (header, rows) = app.export_catalogue_rows(actor).await?;
    let bytes = crate::xlsx::workbook("派单目录", &header, &rows, &[]).map_err(|e| {
        tracing::error!(error = %e, "catalogue workbook");
        AppError::Internal(e)
    })?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"catalogue.xlsx\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

/// `POST /api/v1/catalogue/import` with a CSV or an Excel (.xlsx) body: all rows or none
/// (administrators).
pub async fn import(
    State(app): State<App>,
    a: Authed,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let bytes =
        body.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_body", e.body_text()))?;
    // A workbook is a zip archive.
    let saved = if bytes.starts_with(b"PK\x03\x04") {
        app.import_catalogue_xlsx(&a.actor, &bytes).await?
    } else {
        let text = std::str::from_utf8(&bytes).map_err(|_| {
            AppError::invalid(
                "file",
                "neither an Excel workbook (.xlsx) nor UTF-8 text (save the sheet as .xlsx or CSV UTF-8)",
            )
        })?;
        app.import_catalogue_csv(&a.actor, text).await?
    };
    let r = app.names(&a.actor).await?;
    Ok(Json(json!({
        "imported": saved.len(),
        "items": saved.iter().map(|e| entry_view(&r, e)).collect::<Vec<_>>(),
    }))
    .into_response())
}

/// `GET /api/v1/catalogue/owner?category_code=C&division_code=D&date=YYYY-MM-DD`: the unit
/// that owns such a matter there, and the entry that decided (`null` when none applies).
pub async fn owner(
    State(app): State<App>,
    a: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let category = q
        .get("category_code")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| AppError::invalid("category_code", "is required"))?;
    let r = app.names(&a.actor).await?;
    if !r.categories.contains_key(category) {
        return Err(
            AppError::invalid("category_code", format!("`{category}` is not a category")).into(),
        );
    }
    let division = q
        .get("division_code")
        .map(String::as_str)
        .filter(|d| !d.is_empty());
    if let Some(d) = division
        && !r.divisions.contains_key(d)
    {
        return Err(AppError::invalid("division_code", format!("`{d}` is not a division")).into());
    }
    let day = match q.get("date").filter(|d| !d.is_empty()) {
        Some(d) => d
            .parse()
            .map_err(|_| AppError::invalid("date", format!("`{d}` is not a date (YYYY-MM-DD)")))?,
        None => mashangban_app::catalogue::today(),
    };
    let found = app
        .catalogue_owner(&a.actor, category, division, day)
        .await?;
    Ok(Json(match found {
        Some(m) => json!({
            "unit": {
                "id": m.entry.unit_id,
                "name": r.unit_name(m.entry.unit_id),
                "rule": m.rule,
            },
            "entry": entry_view(&r, &m.entry),
            "tier": mashangban_app::catalogue::tier_for(&r, Some(&m), category),
            "outranked": m.outranked,
        }),
        None => Value::Null,
    })
    .into_response())
}
