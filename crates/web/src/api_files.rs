//! Photos and files (附件) over the API: uploads as `multipart/form-data` (a `file` part each,
//! written to disk as it arrives and cut off past 10 MB), and the files served only to those who may see
//! their request, with headers that keep a browser from running them.

use axum::Json;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mashangban_app::files::Incoming;
use mashangban_app::{App, AppError};
use mashangban_domain::attachment::{Attachment, MAX_BYTES, MAX_PER_TICKET};
use std::collections::HashMap;

use crate::api::Authed;
use crate::api_public::ClientAddr;
use crate::bodies::ErrorBody;
use crate::error::ApiError;
use crate::uploads::{PartsError, read_parts};

/// The largest upload request: six files of 10 MB and the form around them.
pub const UPLOAD_BODY_BYTES: usize = MAX_PER_TICKET * MAX_BYTES as usize + 1024 * 1024;

/// The paths that take uploads (a larger body, not JSON).
pub fn is_upload(path: &str) -> bool {
    path == "/api/v1/public/attachments"
        || path == "/public/submit"
        || (path.starts_with("/tickets/") && path.ends_with("/files"))
        || (path.starts_with("/api/v1/tickets/") && path.ends_with("/attachments"))
}

/// The files of an upload (other fields are ignored); at least one.
async fn read_files(app: &App, m: Multipart) -> Result<Vec<Incoming>, AppError> {
    let parts = read_parts(app, m).await.map_err(PartsError::into_app)?;
    if parts.files.is_empty() {
        return Err(AppError::invalid(
            "file",
            "send the file as a `file` part of multipart/form-data",
        ));
    }
    Ok(parts.files)
}

/// A file's bytes as served: its own type, never sniffed by the browser, never run.
pub fn file_response(a: &Attachment, bytes: Vec<u8>, thumbnail: bool) -> Response {
    let mime = if thumbnail {
        "image/jpeg"
    } else {
        a.kind.mime()
    };
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'",
        ),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    let encoded: String = form_urlencoded::byte_serialize(a.name.as_bytes()).collect();
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename*=UTF-8''{encoded}")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// Upload photos or files for a request about to be submitted (群众上传附件)
///
/// `multipart/form-data` with up to 6 `file` parts, each a JPEG, PNG or WebP photo or a PDF
/// (recognised by its bytes, not its name) of at most 10 MB. A photo's metadata (EXIF with
/// its GPS position, XMP, comments) is taken out before it is kept. Name the ids in the
/// request's `attachment_ids`. At most 30 files an hour from one address.
#[utoipa::path(
    post, path = "/api/v1/public/attachments", tag = "public",
    request_body(content_type = "multipart/form-data", description = "`file` parts"),
    responses((status = 201, description = "Kept: their ids", body = Vec<Attachment>),
        (status = 422, description = "Not a photo or a PDF, larger than 10 MB, or more than 6", body = ErrorBody),
        (status = 429, description = "Too many uploads from this address", body = ErrorBody))
)]
pub async fn upload_public(
    State(app): State<App>,
    ClientAddr(client): ClientAddr,
    m: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, ApiError> {
    let m = m.map_err(|e| AppError::invalid("file", e.body_text()))?;
    let mut kept = Vec::new();
    for f in read_files(&app, m).await? {
        kept.push(app.upload_public_at(f, client, chrono::Utc::now()).await?);
    }
    Ok((StatusCode::CREATED, Json(kept)).into_response())
}

/// Add photos or files to a ticket (staff)
///
/// The same kinds and limits as a citizen's; a ticket carries at most 6 files.
#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/attachments", tag = "tickets", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id")),
    request_body(content_type = "multipart/form-data", description = "`file` parts"),
    responses((status = 201, description = "Kept", body = Vec<Attachment>),
        (status = 404, description = "No such ticket, or not visible to this user", body = ErrorBody),
        (status = 409, description = "The ticket has 6 files already", body = ErrorBody),
        (status = 422, description = "Not a photo or a PDF, or larger than 10 MB", body = ErrorBody))
)]
pub async fn upload_to_ticket(
    State(app): State<App>,
    a: Authed,
    Path(id): Path<i64>,
    m: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, ApiError> {
    // Who may, before anything is read.
    app.may_upload_to(&a.actor, id).await?;
    let m = m.map_err(|e| AppError::invalid("file", e.body_text()))?;
    let mut kept = Vec::new();
    for f in read_files(&app, m).await? {
        kept.push(
            app.upload_to_ticket_at(&a.actor, id, f, chrono::Utc::now())
                .await?,
        );
    }
    Ok((StatusCode::CREATED, Json(kept)).into_response())
}

/// The files of a ticket
#[utoipa::path(
    get, path = "/api/v1/tickets/{id}/attachments", tag = "tickets", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, description = "Its files, oldest first", body = Vec<Attachment>),
        (status = 404, description = "No such ticket, or not visible to this user", body = ErrorBody))
)]
pub async fn ticket_files(
    State(app): State<App>,
    a: Authed,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    Ok(Json(app.ticket_files(&a.actor, id).await?).into_response())
}

/// A file of a ticket the user may see (or, with `thumbnail=true`, a small JPEG of a photo)
#[utoipa::path(
    get, path = "/api/v1/attachments/{id}", tag = "tickets", security(("bearer" = [])),
    params(("id" = String, Path, max_length = 32, description = "The file's id"),
        ("thumbnail" = Option<bool>, Query, description = "The small JPEG of a photo")),
    responses((status = 200, description = "The bytes", body = Vec<u8>, content_type = "application/octet-stream"),
        (status = 404, description = "No such file, or its ticket is not visible to this user", body = ErrorBody))
)]
pub async fn file(
    State(app): State<App>,
    a: Authed,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let thumbnail = q.get("thumbnail").is_some_and(|v| v == "true");
    let (f, bytes) = app.ticket_file(&a.actor, &id, thumbnail).await?;
    Ok(file_response(&f, bytes, thumbnail))
}

/// A file of a request, for its citizen (with the tracking code)
#[utoipa::path(
    get, path = "/api/v1/public/requests/{number}/attachments/{id}", tag = "public",
    params(("number" = String, Path, max_length = 40, description = "The request's number"),
        ("id" = String, Path, max_length = 32, description = "The file's id"),
        ("code" = String, Query, max_length = 64, description = "The request's tracking code"),
        ("thumbnail" = Option<bool>, Query, description = "The small JPEG of a photo")),
    responses((status = 200, description = "The bytes", body = Vec<u8>, content_type = "application/octet-stream"),
        (status = 404, description = "No such request, code or file (the same answer)", body = ErrorBody),
        (status = 429, description = "Too many wrong codes for this number", body = ErrorBody))
)]
pub async fn public_file(
    State(app): State<App>,
    Path((number, id)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let code = q.get("code").map(String::as_str).unwrap_or("");
    let thumbnail = q.get("thumbnail").is_some_and(|v| v == "true");
    let (f, bytes) = app
        .public_file(&number, code, &id, thumbnail, chrono::Utc::now())
        .await?;
    Ok(file_response(&f, bytes, thumbnail))
}
