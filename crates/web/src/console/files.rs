//! A ticket's photos and files on its page: thumbnails that open the file, and the form to
//! add one (for those who may). Served through the same use cases as the API's, so a file
//! reaches only those who may see its ticket.

use super::i18n::Lang;
use super::{back_to, form_session, session, to_login};
use axum::Router;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use mashangban_app::{App, AppError};
use mashangban_domain::Ticket;
use mashangban_domain::attachment::{Attachment, MAX_PER_TICKET};
use maud::{Markup, html};
use std::collections::HashMap;

pub fn routes() -> Router<App> {
    Router::new().route("/files/{id}", get(file)).route(
        "/tickets/{id}/files",
        post(upload).layer(axum::extract::DefaultBodyLimit::max(
            crate::api_files::UPLOAD_BODY_BYTES,
        )),
    )
}

/// The card of a ticket's files.
pub fn card(lang: Lang, csrf: &str, t: &Ticket, files: &[Attachment], may_add: bool) -> Markup {
    let zh = lang == Lang::Zh;
    html! {
        @if !files.is_empty() || may_add {
            div.card #files {
                h2 { (if zh { "照片和材料" } else { "Photos and files" }) " " span.muted { (files.len()) "/" (MAX_PER_TICKET) } }
                @if !files.is_empty() {
                    ul.files {
                        @for f in files {
                            li {
                                @if f.thumbnail_sha256.is_some() {
                                    a href=(format!("/files/{}", f.id)) target="_blank" rel="noopener" {
                                        img src=(format!("/files/{}?thumb=1", f.id)) alt=(f.name) loading="lazy";
                                    }
                                } @else {
                                    a href=(format!("/files/{}", f.id)) target="_blank" rel="noopener" { "📄 " (f.name) }
                                }
                            }
                        }
                    }
                }
                @if may_add && files.len() < MAX_PER_TICKET {
                    form.inline method="post" action=(format!("/tickets/{}/files", t.id)) enctype="multipart/form-data" {
                        input type="hidden" name="_csrf" value=(csrf);
                        input type="hidden" name="_back" value=(format!("/tickets/{}", t.id));
                        label for="file" { (if zh { "添加照片或PDF（每个不超过10MB）" } else { "Add a photo or PDF (10 MB at most)" }) }
                        " "
                        input #file type="file" name="file" accept="image/jpeg,image/png,image/webp,application/pdf" required;
                        " "
                        button type="submit" { (if zh { "上传" } else { "Upload" }) }
                    }
                }
            }
        }
    }
}

/// `GET /files/{id}`: a file of a ticket the user may see (`?thumb=1`: its thumbnail).
async fn file(
    State(app): State<App>,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(s) = session(&app, &headers).await else {
        return to_login();
    };
    let thumb = q.contains_key("thumb");
    match app.ticket_file(&s.actor(), &id, thumb).await {
        Ok((a, bytes)) => crate::api_files::file_response(&a, bytes, thumb),
        Err(_) => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// `POST /tickets/{id}/files`: the form's file through the same use case as the API's,
/// then back to the ticket (saying what went wrong, if anything).
async fn upload(
    State(app): State<App>,
    headers: axum::http::HeaderMap,
    Path(id): Path<i64>,
    m: Multipart,
) -> Response {
    // Nobody signed out gets as far as writing a file to disk.
    if session(&app, &headers).await.is_none() {
        return to_login();
    }
    let (form, files) = match crate::uploads::read_parts(&app, m).await {
        Ok(p) => (p.fields, p.files),
        Err(e) => {
            if let crate::uploads::PartsError::Failed(e) = &e {
                tracing::error!(error = %e, "console upload");
            }
            let status = match &e {
                crate::uploads::PartsError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
                crate::uploads::PartsError::Failed(_) => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::BAD_REQUEST,
            };
            return (status, e.zh()).into_response();
        }
    };
    let s = match form_session(&app, &headers, &form, None).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let back = back_to(&form).unwrap_or_else(|| format!("/tickets/{id}"));
    for file in files {
        if let Err(e) = app
            .upload_to_ticket_at(&s.actor(), id, file, chrono::Utc::now())
            .await
        {
            let zh = s.lang == Lang::Zh;
            let text = match &e {
                AppError::Invalid { .. } => if zh {
                    "只能上传照片（JPEG、PNG、WebP）或PDF文件，且不超过10MB"
                } else {
                    "Only photos (JPEG, PNG, WebP) or PDF files of 10 MB at most"
                }
                .to_string(),
                other => super::i18n::message(s.lang, &other.to_string()),
            };
            return super::error_page(&s, super::admin::status_of(&e), "/tickets", &text);
        }
    }
    Redirect::to(&format!("{back}#files")).into_response()
}
