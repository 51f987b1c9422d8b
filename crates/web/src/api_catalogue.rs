//! `/api/v1/catalogue`: the dispatch catalogue (派单目录) — read by everyone on the staff,
//! kept by administrators, imported and exported as CSV, asked who owns a matter.

use crate::bodies::*;
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
use std::collections::HashMap;

use crate::api::{Authed, flag_param, id_param, json_body, limit_param};
use crate::error::ApiError;

/// An entry with the names a reader needs beside the codes.
pub fn entry_view(r: &Reference, e: &CatalogueEntry) -> EntryView {
    let unit = r.units.get(&e.unit_id);
    EntryView {
        id: e.id,
        version: e.version,
        category_code: e.category_code.clone(),
        category_name: r.category_path(&e.category_code),
        division_code: e.division_code.clone(),
        division_name: e.division_code.as_deref().and_then(|d| r.division_path(d)),
        unit_id: e.unit_id,
        unit_code: unit.map(|u| u.code.clone()),
        unit_name: unit.map(|u| u.name.clone()),
        ownership: e.ownership,
        tier: e.tier,
        valid_from: e.valid_from,
        valid_to: e.valid_to,
        note: e.note.clone(),
    }
}

/// Catalogue entries, ended ones included (`in_force=true`: those valid today)
#[utoipa::path(
    get, path = "/api/v1/catalogue", tag = "catalogue", security(("bearer" = [])),
    params(("in_force" = Option<bool>, Query)),
    responses((status = 200, description = "The entries", body = Items<EntryView>))
)]
pub async fn list(
    State(app): State<App>,
    a: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let r = app.names(&a.actor).await?;
    let today = mashangban_app::catalogue::today();
    let in_force = flag_param(&q, "in_force")?;
    let items: Vec<EntryView> = app
        .catalogue(&a.actor)
        .await?
        .iter()
        .filter(|e| !in_force || e.valid_on(today))
        .map(|e| entry_view(&r, e))
        .collect();
    Ok(Json(Items::of(items)).into_response())
}

/// Add an entry (administrators); refused with the rule that forbids it
#[utoipa::path(
    post, path = "/api/v1/catalogue", tag = "catalogue", security(("bearer" = [])), request_body = EntryInput,
    responses((status = 201, description = "Added", body = EntryView), (status = 409, description = "The catalogue changed meanwhile, or such an entry exists", body = ErrorBody))
)]
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

/// Edit an entry at the version read (administrators)
#[utoipa::path(
    put, path = "/api/v1/catalogue/{id}", tag = "catalogue", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = EntryInput,
    responses((status = 200, description = "Saved", body = EntryView), (status = 409, description = "The entry changed since it was read", body = ErrorBody))
)]
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

/// Delete an entry at the version read (administrators); its history stays
#[utoipa::path(
    delete, path = "/api/v1/catalogue/{id}", tag = "catalogue", security(("bearer" = [])),
    params(("id" = i64, Path), ("version" = i64, Query, description = "The version read")),
    responses((status = 204, description = "Deleted"), (status = 409, description = "The entry changed since it was read", body = ErrorBody))
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
    app.delete_catalogue_entry(&a.actor, id, version).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Changes to the catalogue, newest first: action (created, updated, deleted), before, after, user, time
#[utoipa::path(
    get, path = "/api/v1/catalogue/history", tag = "catalogue", security(("bearer" = [])),
    params(("entry_id" = Option<i64>, Query), ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "default 100")),
    responses((status = 200, description = "The changes", body = Items<mashangban_app::catalogue::CatalogueChange>))
)]
pub async fn history(
    State(app): State<App>,
    a: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let entry_id = id_param(&q, "entry_id")?;
    let limit = limit_param(&q, 100, 1000)?;
    let items = app.catalogue_history(&a.actor, entry_id, limit).await?;
    Ok(Json(Items::of(items)).into_response())
}

/// The catalogue as CSV (UTF-8 with BOM)
/// Columns: category_code, division_code, unit_code, ownership, tier, valid_from, valid_to, note, id, then version and names.
#[utoipa::path(
    get, path = "/api/v1/catalogue/export.csv", tag = "catalogue", security(("bearer" = [])),
    responses((status = 200, description = "The CSV file", body = String, content_type = "text/csv"))
)]
pub async fn export(State(app): State<App>, a: Authed) -> Result<Response, ApiError> {
    Ok(csv_file(&app, &a.actor).await?)
}

/// The catalogue as an Excel workbook (.xlsx), in the CSV export's columns, every cell text
#[utoipa::path(
    get, path = "/api/v1/catalogue/export.xlsx", tag = "catalogue", security(("bearer" = [])),
    responses((status = 200, description = "The workbook", body = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
)]
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

/// Import entries from CSV or an Excel workbook's first sheet (administrators)
/// With a header row (the export's columns; a row with an id edits that entry; dates as dates or YYYY-MM-DD). All rows or none; errors name the line.
#[utoipa::path(
    post, path = "/api/v1/catalogue/import", tag = "catalogue", security(("bearer" = [])),
    request_body(content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
    responses((status = 200, description = "Imported", body = Imported))
)]
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
    Ok(Json(Imported {
        imported: saved.len(),
        items: saved.iter().map(|e| entry_view(&r, e)).collect(),
    })
    .into_response())
}

/// Who owns a matter of this category at this place on this day
/// The unit, the entry and the rule that decided (most specific category, then smallest place, then latest start), the tier, and the entries it outranked; null when none applies.
#[utoipa::path(
    get, path = "/api/v1/catalogue/owner", tag = "catalogue", security(("bearer" = [])),
    params(("category_code" = String, Query), ("division_code" = Option<String>, Query),
        ("date" = Option<NaiveDate>, Query, description = "default: today (Asia/Shanghai)")),
    responses((status = 200, description = "The owner, or null", body = Option<Owner>))
)]
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
    let tier = mashangban_app::catalogue::tier_for(&r, found.as_ref(), category);
    Ok(Json(found.map(|m| Owner {
        unit: OwnerUnit {
            id: m.entry.unit_id,
            name: r.unit_name(m.entry.unit_id).map(str::to_string),
            rule: m.rule,
        },
        entry: entry_view(&r, &m.entry),
        tier,
        outranked: m.outranked,
    }))
    .into_response())
}
