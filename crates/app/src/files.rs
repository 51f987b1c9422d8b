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

/// What is said of a file that claims to be a photo but cannot be read as one.
const DAMAGED: &str = "is damaged: it is not a readable image";

/// The bytes read first, enough to tell the kind of a file.
const HEAD_BYTES: usize = 16;

fn io(e: std::io::Error) -> AppError {
    AppError::Internal(format!("files folder: {e}"))
}

/// A file being received: written to a temporary file in the files folder as its bytes
/// arrive (hashed on the way), so that a file is never whole in memory while it is read;
/// refused once past [`MAX_BYTES`]. Dropped without being kept, its temporary file goes too.
pub struct Incoming {
    name: String,
    file: tokio::fs::File,
    path: tempfile::TempPath,
    len: u64,
    head: Vec<u8>,
    hasher: Sha256,
}

impl Incoming {
    /// The name it was sent with.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The bytes received so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends the next piece of the file, refusing it (and what follows) past 10 MB.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), AppError> {
        use tokio::io::AsyncWriteExt;
        if self.len + chunk.len() as u64 > MAX_BYTES {
            return Err(AppError::invalid(
                "file",
                format!(
                    "`{}` is larger than {} MB",
                    clean_name(&self.name),
                    MAX_BYTES / 1024 / 1024
                ),
            ));
        }
        let room = HEAD_BYTES.saturating_sub(self.head.len()).min(chunk.len());
        self.head.extend_from_slice(&chunk[..room]);
        self.hasher.update(chunk);
        self.file.write_all(chunk).await.map_err(io)?;
        self.len += chunk.len() as u64;
        Ok(())
    }
}

/// Writes through to a file, hashing and counting what passes.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    len: u64,
}

impl<W: std::io::Write> std::io::Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes a photo without the metadata that could say where or by whom it was taken.
/// The parts of the picture are slices of `bytes`, written out one by one: the photo is in
/// memory once.
pub fn strip_metadata_to(
    kind: FileKind,
    bytes: img_parts::Bytes,
    out: impl std::io::Write,
) -> Result<(), AppError> {
    use img_parts::{ImageEXIF, ImageICC};
    let damaged = |_| AppError::invalid("file", DAMAGED);
    let written = match kind {
        FileKind::Jpeg => {
            use img_parts::jpeg::{Jpeg, markers};
            let mut j = Jpeg::from_bytes(bytes).map_err(damaged)?;
            j.set_exif(None);
            // APP1 holds EXIF and XMP, APP13 IPTC (Photoshop), COM free comments.
            j.segments_mut()
                .retain(|s| !matches!(s.marker(), markers::APP1 | markers::APP13 | markers::COM));
            j.encoder().write_to(out)
        }
        FileKind::Png => {
            use img_parts::png::Png;
            let mut p = Png::from_bytes(bytes).map_err(damaged)?;
            p.set_exif(None);
            p.chunks_mut()
                .retain(|c| !matches!(&c.kind(), b"eXIf" | b"tEXt" | b"iTXt" | b"zTXt" | b"tIME"));
            p.encoder().write_to(out)
        }
        FileKind::Webp => {
            use img_parts::webp::{CHUNK_XMP, WebP};
            let mut w = WebP::from_bytes(bytes).map_err(damaged)?;
            w.set_exif(None);
            w.remove_chunks_by_id(CHUNK_XMP);
            // Keep the colour profile: it is about the picture, not the person.
            let icc = w.icc_profile();
            w.set_icc_profile(icc);
            w.encoder().write_to(out)
        }
        FileKind::Pdf => {
            let mut out = out;
            out.write_all(&bytes)
                .and_then(|()| out.flush())
                .map(|()| bytes.len() as u64)
        }
    };
    written.map(|_| ()).map_err(io)
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

/// Where a file of this SHA-256 lives: `ab/cd/abcd…`.
fn path_of(dir: &Path, sha: &str) -> PathBuf {
    dir.join(&sha[0..2]).join(&sha[2..4]).join(sha)
}

/// Where files being received are written before they are checked.
fn incoming_dir(dir: &Path) -> PathBuf {
    dir.join("incoming")
}

/// How long a file may sit half-received before it is taken for abandoned (an upload cut
/// off by a crash; one cut off otherwise removes its own).
pub const ABANDONED_AFTER: std::time::Duration = std::time::Duration::from_secs(3600);

/// Removes the files in `incoming/` untouched for [`ABANDONED_AFTER`]; how many.
pub fn sweep_incoming(dir: &Path, now: std::time::SystemTime) -> std::io::Result<usize> {
    let entries = match std::fs::read_dir(incoming_dir(dir)) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|m| now.duration_since(m).unwrap_or_default() > ABANDONED_AFTER);
        if old && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

/// A new temporary file among those being received.
fn temporary(dir: &Path) -> Result<tempfile::NamedTempFile, AppError> {
    let incoming = incoming_dir(dir);
    std::fs::create_dir_all(&incoming).map_err(io)?;
    tempfile::Builder::new()
        .prefix("upload-")
        .tempfile_in(incoming)
        .map_err(io)
}

/// Puts a finished temporary file under its SHA-256, once: renamed into place (on the same
/// disk), so that a reader never sees half a file and two instances writing the same file
/// agree; when it is there already, the temporary file is simply removed.
fn place(dir: &Path, tmp: tempfile::TempPath, sha: &str) -> Result<(), AppError> {
    let path = path_of(dir, sha);
    if path.exists() {
        // Touched: retention does not remove bytes placed within [`RELEASE_GRACE`], so the
        // record about to be written for them finds them there.
        touch(&path);
        if path.exists() {
            return Ok(());
        }
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    tmp.persist(&path).map_err(|e| io(e.error))
}

/// Keeps small bytes (a thumbnail) under their SHA-256.
fn keep_bytes(dir: &Path, bytes: &[u8]) -> Result<String, AppError> {
    let sha = hex::encode(Sha256::digest(bytes));
    let path = path_of(dir, &sha);
    if path.exists() {
        touch(&path);
    }
    if !path.exists() {
        let mut tmp = temporary(dir)?;
        std::io::Write::write_all(&mut tmp, bytes).map_err(io)?;
        place(dir, tmp.into_temp_path(), &sha)?;
    }
    Ok(sha)
}

/// Marks kept bytes as just placed (see [`RELEASE_GRACE`]); a failure only loses the mark.
fn touch(path: &Path) {
    if let Ok(f) = std::fs::File::options().append(true).open(path) {
        let _ = f.set_modified(std::time::SystemTime::now());
    }
}

/// How long bytes just placed are kept even when no record holds them yet: an upload of
/// the same file places (or touches) them before it writes its record, and retention,
/// which removes bytes no record holds, must not take them in between.
pub const RELEASE_GRACE: std::time::Duration = std::time::Duration::from_secs(600);

/// What became of released bytes.
enum Unheld {
    Removed,
    /// Not there (removed by another instance's pass).
    Absent,
    /// Placed within [`RELEASE_GRACE`]: an upload of the same file may be writing its record.
    Recent,
}

/// Removes the bytes of `sha`, unless they were placed within [`RELEASE_GRACE`] of `now`.
fn remove_unheld(dir: &Path, sha: &str, now: std::time::SystemTime) -> Unheld {
    let path = path_of(dir, sha);
    let Ok(modified) = std::fs::metadata(&path).and_then(|m| m.modified()) else {
        return Unheld::Absent;
    };
    if now.duration_since(modified).unwrap_or_default() <= RELEASE_GRACE {
        return Unheld::Recent;
    }
    match std::fs::remove_file(&path) {
        Ok(()) => Unheld::Removed,
        Err(_) => Unheld::Absent,
    }
}

/// What a checked file became on disk: the SHA-256 and size of what is kept, and of its
/// thumbnail if it is a photo.
struct Kept {
    sha256: String,
    bytes: u64,
    thumbnail_sha256: Option<String>,
}

/// Checks a received file and keeps it: a PDF as it came (it was hashed on the way in);
/// a photo read once, made a thumbnail of, and written again without its metadata.
fn check_and_keep(
    dir: &Path,
    kind: FileKind,
    path: tempfile::TempPath,
    len: u64,
    sha: String,
) -> Result<Kept, AppError> {
    if !kind.is_image() {
        place(dir, path, &sha)?;
        return Ok(Kept {
            sha256: sha,
            bytes: len,
            thumbnail_sha256: None,
        });
    }
    let photo: img_parts::Bytes = std::fs::read(&path).map_err(io)?.into();
    drop(path);
    let small = thumbnail(&photo).ok_or_else(|| AppError::invalid("file", DAMAGED))?;
    let (file, tmp) = temporary(dir)?.into_parts();
    let mut out = Hashing {
        inner: std::io::BufWriter::new(file),
        hasher: Sha256::new(),
        len: 0,
    };
    strip_metadata_to(kind, photo, &mut out)?;
    std::io::Write::flush(&mut out).map_err(io)?;
    let Hashing { inner, hasher, len } = out;
    drop(inner);
    let (sha256, bytes) = (hex::encode(hasher.finalize()), len);
    place(dir, tmp, &sha256)?;
    Ok(Kept {
        sha256,
        bytes,
        thumbnail_sha256: Some(keep_bytes(dir, &small)?),
    })
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

    /// Removes uploads abandoned half-received (see [`sweep_incoming`]); how many.
    pub async fn sweep_incoming_files(&self) -> Result<usize, AppError> {
        let Some(dir) = self.config.files_dir.clone() else {
            return Ok(0);
        };
        tokio::task::spawn_blocking(move || sweep_incoming(&dir, std::time::SystemTime::now()))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .map_err(io)
    }

    /// A file about to be received, written to disk as it arrives.
    pub fn incoming(&self, name: &str) -> Result<Incoming, AppError> {
        let (file, path) = temporary(self.files_dir()?)?.into_parts();
        Ok(Incoming {
            name: name.to_string(),
            file: tokio::fs::File::from_std(file),
            path,
            len: 0,
            head: Vec::with_capacity(HEAD_BYTES),
            hasher: Sha256::new(),
        })
    }

    /// Removes from disk the bytes whose records were removed (listed as released by the
    /// same transaction) that no record holds any more: the same photo sent with two
    /// requests is kept for the other. Bytes placed within [`RELEASE_GRACE`] of `at` wait
    /// for a later pass. How many went.
    pub(crate) async fn remove_released_files(&self, at: DateTime<Utc>) -> Result<usize, AppError> {
        let released = self
            .store
            .released_files(crate::retention::RETENTION_BATCH * 4)
            .await?;
        let Some(dir) = self.config.files_dir.clone() else {
            return Ok(0);
        };
        let now = std::time::SystemTime::from(at);
        let mut removed = 0;
        for sha in released {
            if self.store.file_in_use(&sha).await? {
                // Held again (the same bytes uploaded since): released when that record goes.
                self.store.forget_release(&sha).await?;
                continue;
            }
            let (d, s) = (dir.clone(), sha.clone());
            let outcome = tokio::task::spawn_blocking(move || remove_unheld(&d, &s, now))
                .await
                .map_err(|e| AppError::Internal(e.to_string()))?;
            match outcome {
                Unheld::Removed => {
                    removed += 1;
                    self.store.forget_release(&sha).await?;
                }
                Unheld::Absent => self.store.forget_release(&sha).await?,
                Unheld::Recent => {}
            }
        }
        Ok(removed)
    }

    /// Removes the records of files uploaded from the portal more than a day before `at`
    /// that never joined a request (the citizen did not send it); how many.
    pub(crate) async fn remove_unattached_at(&self, at: DateTime<Utc>) -> Result<usize, AppError> {
        let before = at - Duration::hours(mashangban_domain::retention::UNATTACHED_HOURS);
        Ok(self
            .store
            .remove_unattached(before, at, crate::retention::RETENTION_BATCH)
            .await?)
    }

    /// Checks a received file, takes its metadata out, and keeps it (with a thumbnail of a
    /// photo).
    pub(crate) async fn keep_file(
        &self,
        incoming: Incoming,
        ticket_id: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Attachment, AppError> {
        use tokio::io::AsyncWriteExt;
        let Incoming {
            name,
            mut file,
            path,
            len,
            head,
            hasher,
        } = incoming;
        // A write of a tokio file may still be under way until it is flushed.
        file.flush().await.map_err(io)?;
        drop(file);
        let kind = sniff(&head).ok_or_else(|| AppError::invalid("file", NOT_A_KIND))?;
        let dir = self.files_dir()?.to_path_buf();
        let sha = hex::encode(hasher.finalize());
        let kept = tokio::task::spawn_blocking(move || check_and_keep(&dir, kind, path, len, sha))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))??;
        let a = Attachment {
            id: hex::encode(rand::rng().random::<[u8; 16]>()),
            ticket_id,
            kind,
            bytes: kept.bytes,
            sha256: kept.sha256,
            name: clean_name(&name),
            thumbnail_sha256: kept.thumbnail_sha256,
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
        file: Incoming,
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
        self.keep_file(file, None, now).await
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
        file: Incoming,
        now: DateTime<Utc>,
    ) -> Result<Attachment, AppError> {
        self.may_upload_to(actor, ticket_id).await?;
        self.keep_file(file, Some(ticket_id), now).await
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abandoned_uploads_are_swept_and_fresh_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            sweep_incoming(dir.path(), std::time::SystemTime::now()).unwrap(),
            0
        );
        let old = temporary(dir.path())
            .unwrap()
            .into_temp_path()
            .keep()
            .unwrap();
        let fresh = temporary(dir.path())
            .unwrap()
            .into_temp_path()
            .keep()
            .unwrap();
        let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
        std::fs::File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(two_hours_ago)
            .unwrap();
        assert_eq!(
            sweep_incoming(dir.path(), std::time::SystemTime::now()).unwrap(),
            1
        );
        assert!(!old.exists());
        assert!(fresh.exists());
    }

    #[test]
    fn a_photo_is_written_without_its_metadata() {
        let picture =
            image::RgbImage::from_fn(8, 8, |x, y| image::Rgb([x as u8 * 30, y as u8 * 30, 9]));
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new(&mut jpeg)
            .encode_image(&picture)
            .unwrap();
        // An APP1 segment saying Exif, and a comment, after SOI.
        let mut with = jpeg[..2].to_vec();
        with.extend([0xFF, 0xE1, 0x00, 0x10]);
        with.extend(b"Exif\0\0II*\0GPSX");
        with.extend([0xFF, 0xFE, 0x00, 0x07]);
        with.extend(b"where");
        with.extend(&jpeg[2..]);
        let mut out = Vec::new();
        strip_metadata_to(FileKind::Jpeg, with.into(), &mut out).unwrap();
        assert_eq!(out, jpeg, "the picture as encoded, nothing else");
        let mut out = Vec::new();
        let refused = strip_metadata_to(FileKind::Png, b"not a png".to_vec().into(), &mut out);
        assert!(matches!(refused, Err(AppError::Invalid { .. })));
    }
}
