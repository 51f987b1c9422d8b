//! Photos and files of requests (附件). A file is taken only when its bytes say JPEG, PNG,
//! WebP or PDF (its name says nothing), at most 10 MB, at most six to a request. A photo's
//! metadata — EXIF (where the GPS position is), XMP, IPTC, comments, text chunks — is taken
//! out before it is kept, and a small JPEG made to show it. The bytes are kept on disk by
//! their SHA-256 (the same photo twice is kept once) in `MASHANGBAN_FILES_DIR`, so that
//! several instances may share one folder; what each file is, and whose, is in the
//! database. A file is given out only to someone who may see its request: a staff member
//! the ticket is visible to, or the citizen with the request's tracking code.

use crate::{App, AppError, require};
use chrono::{DateTime, Duration, Utc};
use mashangban_domain::Permission;
use mashangban_domain::attachment::{
    Attachment, FileKind, MAX_BYTES, MAX_PER_TICKET, clean_name, sniff,
};
use mashangban_domain::{Actor, Ticket};
use rand::Rng;
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Files one client address may upload to the portal within an hour.
pub const PUBLIC_UPLOADS_PER_HOUR: i64 = 30;
/// The longest side of a thumbnail, in pixels.
const THUMBNAIL_SIDE: u32 = 320;
/// The largest picture decoded for a thumbnail (a small file may claim a huge picture).
const MAX_PIXELS_SIDE: u32 = 12_000;

/// What is refused when a file is not one of the kinds taken.
const NOT_A_KIND: &str = "must be a photo (JPEG, PNG or WebP) or a PDF document";

/// A file's bytes without the metadata that could say where or by whom it was taken.
pub fn strip_metadata(kind: FileKind, bytes: Vec<u8>) -> Result<Vec<u8>, AppError> {
    use img_parts::{ImageEXIF, ImageICC};
    let damaged = |_| AppError::invalid("file", "is damaged: it is not a readable image");
    let out = match kind {
        FileKind::Jpeg => {
            use img_parts::jpeg::{Jpeg, markers};
            let mut j = Jpeg::from_bytes(bytes.into()).map_err(damaged)?;
            j.set_exif(None);
            // APP1 holds EXIF and XMP, APP13 IPTC (Photoshop), COM free comments.
            j.segments_mut()
                .retain(|s| !matches!(s.marker(), markers::APP1 | markers::APP13 | markers::COM));
            j.encoder().bytes().to_vec()
        }
        FileKind::Png => {
            use img_parts::png::Png;
            let mut p = Png::from_bytes(bytes.into()).map_err(damaged)?;
            p.set_exif(None);
            p.chunks_mut()
                .retain(|c| !matches!(&c.kind(), b"eXIf" | b"tEXt" | b"iTXt" | b"zTXt" | b"tIME"));
            p.encoder().bytes().to_vec()
        }
        FileKind::Webp => {
            use img_parts::webp::{CHUNK_XMP, WebP};
            let mut w = WebP::from_bytes(bytes.into()).map_err(damaged)?;
            w.set_exif(None);
            w.remove_chunks_by_id(CHUNK_XMP);
            // Keep the colour profile: it is about the picture, not the person.
            let icc = w.icc_profile();
            w.set_icc_profile(icc);
            w.encoder().bytes().to_vec()
        }
        FileKind::Pdf => bytes,
    };
    Ok(out)
}

/// A small JPEG of a photo (none when it cannot be decoded within the limits).
pub fn thumbnail(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .ok()?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_PIXELS_SIDE);
    limits.max_image_height = Some(MAX_PIXELS_SIDE);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let picture = reader.decode().ok()?;
    let small = picture.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE).to_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
        .encode_image(&small)
        .ok()?;
    Some(out)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Where a file of this SHA-256 lives: `ab/cd/abcd…`.
fn path_of(dir: &Path, sha: &str) -> PathBuf {
    dir.join(&sha[0..2]).join(&sha[2..4]).join(sha)
}

/// Writes bytes under their SHA-256, once: written to a temporary name and renamed, so that
/// a reader never sees half a file and two instances writing the same file agree.
async fn keep(dir: &Path, bytes: &[u8]) -> Result<String, AppError> {
    let sha = sha256_hex(bytes);
    let path = path_of(dir, &sha);
    if tokio::fs::try_exists(&path).await.unwrap_or(false) {
        return Ok(sha);
    }
    let io = |e: std::io::Error| AppError::Internal(format!("files folder: {e}"));
    if let Some(parent) = path.parent() {
        tokio::fs::create_dir_all(parent).await.map_err(io)?;
    }
    let tmp = path.with_extension(format!("tmp{}", rand::rng().random::<u32>()));
    tokio::fs::write(&tmp, bytes).await.map_err(io)?;
    tokio::fs::rename(&tmp, &path).await.map_err(io)?;
    Ok(sha)
}

impl App {
    fn files_dir(&self) -> Result<&Path, AppError> {
        self.config.files_dir.as_deref().ok_or_else(|| {
            AppError::Internal(
                "no folder for files: set MASHANGBAN_FILES_DIR (beside a SQLite database it defaults to DB.files)"
                    .into(),
            )
        })
    }

    /// Checks a file, takes its metadata out, and keeps it (with a thumbnail of a photo).
    async fn keep_file(
        &self,
        name: &str,
        bytes: Vec<u8>,
        ticket_id: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Attachment, AppError> {
        if bytes.len() as u64 > MAX_BYTES {
            return Err(AppError::invalid(
                "file",
                format!("is larger than {} MB", MAX_BYTES / 1024 / 1024),
            ));
        }
        let kind = sniff(&bytes).ok_or_else(|| AppError::invalid("file", NOT_A_KIND))?;
        let (clean, thumb) = tokio::task::spawn_blocking(move || {
            let clean = strip_metadata(kind, bytes)?;
            let thumb = if kind.is_image() {
                thumbnail(&clean)
            } else {
                None
            };
            Ok::<_, AppError>((clean, thumb))
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??;
        if kind.is_image() && thumb.is_none() {
            return Err(AppError::invalid(
                "file",
                "is damaged: it is not a readable image",
            ));
        }
        let dir = self.files_dir()?;
        let sha256 = keep(dir, &clean).await?;
        let thumbnail_sha256 = match &thumb {
            Some(t) => Some(keep(dir, t).await?),
            None => None,
        };
        let a = Attachment {
            id: hex::encode(rand::rng().random::<[u8; 16]>()),
            ticket_id,
            kind,
            bytes: clean.len() as u64,
            sha256,
            name: clean_name(name),
            thumbnail_sha256,
            uploaded_at: now,
        };
        self.store.add_attachment(&a).await?;
        Ok(a)
    }

    /// A file a citizen uploads from the portal before submitting their request (it joins
    /// the request named in `attachment_ids`). At most [`PUBLIC_UPLOADS_PER_HOUR`] a client
    /// address.
    pub async fn upload_public_at(
        &self,
        name: &str,
        bytes: Vec<u8>,
        client: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<Attachment, AppError> {
        if let Some(ip) = client {
            let key = format!("upload-addr:{ip}");
            if self
                .store
                .count_attempts(&key, now - Duration::hours(1))
                .await?
                >= PUBLIC_UPLOADS_PER_HOUR
            {
                return Err(AppError::Locked(format!(
                    "上传过于频繁：每小时最多{PUBLIC_UPLOADS_PER_HOUR}个文件，请稍后再试。"
                )));
            }
            self.store
                .record_attempt(&key, now, now - Duration::days(1))
                .await?;
        }
        self.keep_file(name, bytes, None, now).await
    }

    /// Gives a request the files a citizen uploaded for it (at most [`MAX_PER_TICKET`]);
    /// files already on another request are left alone.
    pub(crate) async fn attach_uploads(
        &self,
        ticket_id: i64,
        ids: &[String],
    ) -> Result<(), AppError> {
        if !ids.is_empty() {
            self.store.attach(ids, ticket_id, MAX_PER_TICKET).await?;
        }
        Ok(())
    }

    /// A file a staff member adds to a ticket they may see (a unit's photo of the work done,
    /// an operator's of what a citizen sent).
    pub async fn upload_to_ticket_at(
        &self,
        actor: &Actor,
        ticket_id: i64,
        name: &str,
        bytes: Vec<u8>,
        now: DateTime<Utc>,
    ) -> Result<Attachment, AppError> {
        self.may_upload_to(actor, ticket_id).await?;
        self.keep_file(name, bytes, Some(ticket_id), now).await
    }

    /// Whether the actor may add a file to the ticket now (checked before a file is read):
    /// the permission, the ticket in sight, room for one more.
    pub async fn may_upload_to(&self, actor: &Actor, ticket_id: i64) -> Result<(), AppError> {
        require(actor, Permission::AttachFiles)?;
        let ticket = self.visible_ticket(actor, ticket_id).await?;
        if self.store.ticket_attachments(ticket.id).await?.len() >= MAX_PER_TICKET {
            return Err(AppError::Conflict {
                code: "too_many_files",
                message: format!("a request carries at most {MAX_PER_TICKET} files"),
            });
        }
        Ok(())
    }

    /// The files of a ticket the actor may see.
    pub async fn ticket_files(
        &self,
        actor: &Actor,
        ticket_id: i64,
    ) -> Result<Vec<Attachment>, AppError> {
        let ticket = self.visible_ticket(actor, ticket_id).await?;
        Ok(self.store.ticket_attachments(ticket.id).await?)
    }

    /// A file (or its thumbnail) of a ticket the actor may see; any other is not found.
    pub async fn ticket_file(
        &self,
        actor: &Actor,
        id: &str,
        thumbnail: bool,
    ) -> Result<(Attachment, Vec<u8>), AppError> {
        let not_found = || AppError::NotFound(format!("file {id} not found"));
        let a = self.store.attachment(id).await?.ok_or_else(not_found)?;
        let ticket_id = a.ticket_id.ok_or_else(not_found)?;
        // A ticket out of the actor's sight answers as a file that does not exist.
        self.visible_ticket(actor, ticket_id)
            .await
            .map_err(|_| not_found())?;
        self.read_file(a, thumbnail).await
    }

    /// The files of a request, for its citizen (with its tracking code).
    pub async fn public_files(
        &self,
        number: &str,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Attachment>, AppError> {
        let t = self.ticket_by_code(number, code, now).await?;
        Ok(self.store.ticket_attachments(t.id).await?)
    }

    /// A file of a request, for its citizen (with its tracking code).
    pub async fn public_file(
        &self,
        number: &str,
        code: &str,
        id: &str,
        thumbnail: bool,
        now: DateTime<Utc>,
    ) -> Result<(Attachment, Vec<u8>), AppError> {
        let t: Ticket = self.ticket_by_code(number, code, now).await?;
        let a = self
            .store
            .attachment(id)
            .await?
            .filter(|a| a.ticket_id == Some(t.id))
            .ok_or_else(|| AppError::NotFound(format!("file {id} not found")))?;
        self.read_file(a, thumbnail).await
    }

    async fn read_file(
        &self,
        a: Attachment,
        thumbnail: bool,
    ) -> Result<(Attachment, Vec<u8>), AppError> {
        let sha = if thumbnail {
            a.thumbnail_sha256
                .clone()
                .ok_or_else(|| AppError::NotFound(format!("file {} has no thumbnail", a.id)))?
        } else {
            a.sha256.clone()
        };
        let bytes = tokio::fs::read(path_of(self.files_dir()?, &sha))
            .await
            .map_err(|e| AppError::Internal(format!("file {} on disk: {e}", a.id)))?;
        Ok((a, bytes))
    }
}
