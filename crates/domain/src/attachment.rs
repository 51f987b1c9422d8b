//! Photos and files a request carries (附件): which kinds are taken, recognised by what the
//! bytes are rather than by a file's name, and how many and how large.

use serde::{Deserialize, Serialize};

/// Largest file, in bytes (10 MiB).
pub const MAX_BYTES: u64 = 10 * 1024 * 1024;
/// Most files one request carries.
pub const MAX_PER_TICKET: usize = 6;

/// The kinds of file taken: photos (JPEG, PNG, WebP) and PDF documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Jpeg,
    Png,
    Webp,
    Pdf,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Jpeg => "jpeg",
            FileKind::Png => "png",
            FileKind::Webp => "webp",
            FileKind::Pdf => "pdf",
        }
    }

    pub fn parse(s: &str) -> Option<FileKind> {
        [FileKind::Jpeg, FileKind::Png, FileKind::Webp, FileKind::Pdf]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    /// The media type it is served as.
    pub fn mime(self) -> &'static str {
        match self {
            FileKind::Jpeg => "image/jpeg",
            FileKind::Png => "image/png",
            FileKind::Webp => "image/webp",
            FileKind::Pdf => "application/pdf",
        }
    }

    /// A photo (shown as a thumbnail), not a document.
    pub fn is_image(self) -> bool {
        self != FileKind::Pdf
    }
}

/// What a file is, from its first bytes (its signature); none for anything else, whatever
/// its name says. A script or a page named `photo.jpg` is none.
pub fn sniff(head: &[u8]) -> Option<FileKind> {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(FileKind::Jpeg)
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(FileKind::Png)
    } else if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some(FileKind::Webp)
    } else if head.starts_with(b"%PDF-") {
        Some(FileKind::Pdf)
    } else {
        None
    }
}

/// A file as kept: where its bytes are (their SHA-256, the name on disk), what it is, and
/// the request it belongs to once the request is taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Attachment {
    /// Unguessable (128 random bits, hex): the id a citizen's upload is named by.
    pub id: String,
    pub ticket_id: Option<i64>,
    pub kind: FileKind,
    pub bytes: u64,
    /// Hex SHA-256 of the bytes kept (after the photo's metadata was taken out).
    pub sha256: String,
    /// The name it was sent with, for people (never used to decide anything).
    pub name: String,
    /// A small JPEG of a photo, by its SHA-256; none for a PDF.
    pub thumbnail_sha256: Option<String>,
    pub uploaded_at: chrono::DateTime<chrono::Utc>,
}

/// A file's name as shown: its last path segment, without control characters, at most 100
/// characters; `file` when nothing is left.
pub fn clean_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let kept: String = last.chars().filter(|c| !c.is_control()).take(100).collect();
    let kept = kept.trim().to_string();
    if kept.is_empty() { "file".into() } else { kept }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_known_by_their_bytes_not_their_names() {
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 16]),
            Some(FileKind::Jpeg)
        );
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some(FileKind::Png));
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Some(FileKind::Webp));
        assert_eq!(sniff(b"%PDF-1.7\n"), Some(FileKind::Pdf));
        // Whatever they are called: a script, a page, an executable, a GIF, nothing.
        for bad in [
            &b"#!/bin/sh\nrm -rf /"[..],
            b"<script>alert(1)</script>",
            b"<?xml version=\"1.0\"?><svg/>",
            b"MZ\x90\0",
            b"GIF89a",
            b"RIFF\x24\0\0\0WAVEfmt ",
            b"",
            &[0xFF, 0xD8],
        ] {
            assert_eq!(sniff(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn names_are_cleaned() {
        assert_eq!(clean_name("C:\\Users\\me\\现场照片.jpg"), "现场照片.jpg");
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("a\u{0}b\nc.png"), "abc.png");
        assert_eq!(clean_name("  "), "file");
        assert_eq!(clean_name(&"长".repeat(300)).chars().count(), 100);
    }
}
