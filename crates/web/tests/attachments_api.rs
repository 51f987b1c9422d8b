//! Photos and files (附件) over HTTP on both backends: recognised by their bytes, a photo's
//! GPS position gone from what is kept (read back from the disk), the size and count limits,
//! and who may read them — the units of the ticket and its citizen with the code, nobody
//! else.

mod common;

use common::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both!(
    photos_lose_their_position_and_only_photos_and_pdfs_are_taken,
    files_are_read_only_by_those_who_may_see_the_request,
    a_unit_adds_a_photo_from_the_ticket_page
);

/// A real JPEG (a 64×48 picture) with an EXIF segment that says where it was taken: a TIFF
/// header, IFD0 pointing to a GPS IFD, and GPSLatitudeRef `N` / GPSLongitudeRef `E` with the
/// text "36.6171N 101.7782E" in a user comment for good measure.
pub fn photo_with_gps() -> Vec<u8> {
    let picture =
        image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 3, y as u8 * 5, 90]));
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode_image(&picture)
        .unwrap();
    // TIFF, little-endian: IFD0 at 8 with one entry (0x8825 GPSInfo → 26), then the GPS IFD
    // with two ASCII entries.
    let mut tiff: Vec<u8> = b"II*\0".to_vec();
    tiff.extend(8u32.to_le_bytes());
    tiff.extend(1u16.to_le_bytes());
    tiff.extend(0x8825u16.to_le_bytes());
    tiff.extend(4u16.to_le_bytes());
    tiff.extend(1u32.to_le_bytes());
    tiff.extend(26u32.to_le_bytes());
    tiff.extend(0u32.to_le_bytes());
    tiff.extend(2u16.to_le_bytes());
    for (tag, value) in [(1u16, b'N'), (3u16, b'E')] {
        tiff.extend(tag.to_le_bytes());
        tiff.extend(2u16.to_le_bytes());
        tiff.extend(2u32.to_le_bytes());
        tiff.extend([value, 0, 0, 0]);
    }
    tiff.extend(0u32.to_le_bytes());
    tiff.extend(b"36.6171N 101.7782E");
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend(tiff);
    let mut j = img_parts::jpeg::Jpeg::from_bytes(jpeg.into()).unwrap();
    use img_parts::ImageEXIF;
    j.set_exif(Some(exif.into()));
    let out = j.encoder().bytes().to_vec();
    assert!(find(&out, b"36.6171N").is_some());
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn upload(
    t: &TestApp,
    path: &str,
    token: Option<&str>,
    files: &[(&str, &[u8])],
) -> (StatusCode, Value) {
    t.upload(path, token, files).await
}

async fn download(
    t: &TestApp,
    path: &str,
    who: Option<&str>,
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = t.client.get(format!("{}{path}", t.base));
    if let Some(w) = who {
        req = req.bearer_auth(&t.tokens[w]);
    }
    let r = req.send().await.unwrap();
    let (s, h) = (r.status(), r.headers().clone());
    (s, h, r.bytes().await.unwrap().to_vec())
}

async fn photos_lose_their_position_and_only_photos_and_pdfs_are_taken(t: &TestApp) {
    let photo = photo_with_gps();
    let (status, body) = upload(
        t,
        "/api/v1/public/attachments",
        None,
        &[("现场.jpg", &photo)],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let kept = &body[0];
    assert_eq!(
        (kept["kind"].as_str(), kept["name"].as_str()),
        (Some("jpeg"), Some("现场.jpg"))
    );
    // Read back from the disk: the bytes the record names, without the EXIF segment.
    let sha = kept["sha256"].as_str().unwrap();
    let dir = t.app.config.files_dir.clone().unwrap();
    let stored = std::fs::read(dir.join(&sha[0..2]).join(&sha[2..4]).join(sha)).unwrap();
    assert_eq!(kept["bytes"].as_u64(), Some(stored.len() as u64));
    assert!(find(&stored, b"Exif\0\0").is_none(), "EXIF kept");
    assert!(find(&stored, b"36.6171N").is_none(), "GPS kept");
    assert!(find(&stored, &0x8825u16.to_le_bytes()).is_none() || stored.len() < photo.len());
    use img_parts::ImageEXIF;
    assert!(
        img_parts::jpeg::Jpeg::from_bytes(stored.clone().into())
            .unwrap()
            .exif()
            .is_none()
    );
    // Still the same picture.
    let back = image::load_from_memory(&stored).unwrap();
    assert_eq!((back.width(), back.height()), (64, 48));
    // A script named .jpg, a page, a GIF: refused by what they are.
    for (name, bytes) in [
        ("photo.jpg", &b"#!/bin/sh\necho owned\n"[..]),
        ("page.png", b"<html><script>alert(1)</script></html>"),
        ("anim.webp", b"GIF89a\x01\x00\x01\x00"),
    ] {
        let (status, body) = upload(t, "/api/v1/public/attachments", None, &[(name, bytes)]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {body}");
        assert_eq!(body["error"]["field"], "file", "{body}");
    }
    // A JPEG header on a broken body: refused as damaged.
    let (status, body) = upload(
        t,
        "/api/v1/public/attachments",
        None,
        &[("x.jpg", &[0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3])],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // A PDF is kept as it is.
    let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
    let (status, body) = upload(t, "/api/v1/public/attachments", None, &[("证明.pdf", pdf)]).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body[0]["thumbnail_sha256"], Value::Null);
    // Over 10 MB: refused, and not kept.
    let mut big = vec![0u8; 10 * 1024 * 1024 + 1];
    big[..3].copy_from_slice(&[0xFF, 0xD8, 0xFF]);
    let (status, body) = upload(t, "/api/v1/public/attachments", None, &[("big.jpg", &big)]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("10 MB"),
        "{body}"
    );
    // Seven at once: refused.
    let seven: Vec<(&str, &[u8])> = (0..7).map(|_| ("p.pdf", &pdf[..])).collect();
    let (status, _) = upload(t, "/api/v1/public/attachments", None, &seven).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Files are written to disk as they arrive; none of those kept or refused is left
    // behind where they were received.
    // (A refusal is answered while the request's last pieces may still be in flight: the
    // file being received then goes when the request is dropped, a moment later.)
    let incoming = dir.join("incoming");
    assert!(incoming.is_dir());
    let mut left: Vec<_> = Vec::new();
    for _ in 0..40 {
        left = std::fs::read_dir(&incoming)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(left.is_empty(), "left behind: {left:?}");
}

async fn files_are_read_only_by_those_who_may_see_the_request(t: &TestApp) {
    let photo = photo_with_gps();
    let (_, up) = upload(
        t,
        "/api/v1/public/attachments",
        None,
        &[("现场.jpg", &photo)],
    )
    .await;
    let file = up[0]["id"].as_str().unwrap().to_string();
    let (_, loose) = upload(
        t,
        "/api/v1/public/attachments",
        None,
        &[("另一张.jpg", &photo)],
    )
    .await;
    let loose = loose[0]["id"].as_str().unwrap().to_string();
    // More than six ids, or one that is no id: refused.
    let r = t
        .post_anonymous(
            "/api/v1/public/requests",
            json!({"content": "路面塌陷", "citizen": {"phone": "13907719000"}, "attachment_ids": ["x"]}),
        )
        .await;
    assert_eq!(r.body["error"]["field"], "attachment_ids", "{}", r.body);
    let r = t
        .post_anonymous(
            "/api/v1/public/requests",
            json!({"content": "东关大街北关社区门口路面塌陷，有一个大坑", "citizen": {"phone": "13907719000"},
                   "attachment_ids": [file]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let number = r.body["number"].as_str().unwrap().to_string();
    let code = r.body["tracking_code"].as_str().unwrap().to_string();
    let id = t
        .get(&format!("/api/v1/tickets/search?q={number}"), "dispatcher")
        .await
        .body["items"][0]["id"]
        .as_i64()
        .unwrap();
    // Before dispatch: the hotline sees it; the unit does not yet.
    let r = t
        .get(&format!("/api/v1/tickets/{id}/attachments"), "dispatcher")
        .await;
    assert_eq!(r.body.as_array().unwrap().len(), 1, "{}", r.body);
    let (status, h, bytes) = download(
        t,
        &format!("/api/v1/attachments/{file}"),
        Some("dispatcher"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h["content-type"], "image/jpeg");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("sandbox")
    );
    assert!(find(&bytes, b"36.6171N").is_none());
    let (status, _, _) = download(t, &format!("/api/v1/attachments/{file}"), Some("lead")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    t.act(
        id,
        "dispatch",
        "dispatcher",
        json!({"lead_unit_id": t.lead_unit, "tier": 3}),
    )
    .await;
    // The lead unit now; another unit never; nobody without a token.
    let (status, _, _) = download(t, &format!("/api/v1/attachments/{file}"), Some("lead")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, h, thumb) = download(
        t,
        &format!("/api/v1/attachments/{file}?thumbnail=true"),
        Some("lead"),
    )
    .await;
    assert_eq!(
        (status, h["content-type"].to_str().unwrap()),
        (StatusCode::OK, "image/jpeg")
    );
    let small = image::load_from_memory(&thumb).unwrap();
    assert!(small.width() <= 320 && small.height() <= 320);
    for who in [Some("other"), None] {
        let (status, _, _) = download(t, &format!("/api/v1/attachments/{file}"), who).await;
        assert!(
            matches!(status, StatusCode::NOT_FOUND | StatusCode::UNAUTHORIZED),
            "{who:?}: {status}"
        );
        let r = t
            .raw(
                Method::GET,
                &format!("/api/v1/tickets/{id}/attachments"),
                who,
                None,
                &[],
            )
            .await;
        assert!(
            matches!(r.status, StatusCode::NOT_FOUND | StatusCode::UNAUTHORIZED),
            "{who:?}"
        );
    }
    // A file on no request is served to nobody.
    let (status, _, _) = download(t, &format!("/api/v1/attachments/{loose}"), Some("admin")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The citizen, with the code; a wrong code as a missing file.
    let (status, _, _) = download(
        t,
        &format!("/api/v1/public/requests/{number}/attachments/{file}?code={code}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = download(
        t,
        &format!("/api/v1/public/requests/{number}/attachments/{file}?code=WRONG"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = download(
        t,
        &format!("/api/v1/public/requests/{number}/attachments/{loose}?code={code}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The unit adds its photos; six at most on a ticket; an analyst adds none.
    let (status, body) = upload(
        t,
        &format!("/api/v1/tickets/{id}/attachments"),
        Some("analyst"),
        &[("a.jpg", &photo)],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = upload(
        t,
        &format!("/api/v1/tickets/{id}/attachments"),
        Some("other"),
        &[("a.jpg", &photo)],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    for n in 0..5 {
        let (status, body) = upload(
            t,
            &format!("/api/v1/tickets/{id}/attachments"),
            Some("lead"),
            &[("修复后.jpg", &photo)],
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{n}: {body}");
    }
    let (status, body) = upload(
        t,
        &format!("/api/v1/tickets/{id}/attachments"),
        Some("lead"),
        &[("第七张.jpg", &photo)],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let r = t
        .get(&format!("/api/v1/tickets/{id}/attachments"), "lead")
        .await;
    assert_eq!(r.body.as_array().unwrap().len(), 6);
    // The same photo is kept once on disk.
    let shas: std::collections::BTreeSet<&str> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["sha256"].as_str().unwrap())
        .collect();
    assert_eq!(shas.len(), 1);
}

/// The console's upload form, through the same reading and the same use case: the lead
/// unit's photo of the work done is kept and shown; one past 10 MB is refused with a
/// message; nobody signed out, and no unit that cannot see the ticket, gets a file in.
async fn a_unit_adds_a_photo_from_the_ticket_page(t: &TestApp) {
    use common::console::Browser;
    let id = t.ticket_in("in_progress").await;
    for (name, unit) in [("lead-web", t.lead_unit), ("other-web", t.other_unit)] {
        let r = t
            .post(
                "/api/v1/users",
                "admin",
                json!({"username": name, "role": "unit_handler", "unit_id": unit, "password": "a-long-password"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let lead = Browser::open(t, "lead-web").await;
    let photo = photo_with_gps();
    let (status, location, body) = lead
        .upload(&format!("/tickets/{id}/files"), "完工.jpg", &photo)
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(location, Some(format!("/tickets/{id}#files")));
    let (_, html) = lead.page(&format!("/tickets/{id}")).await;
    assert!(html.contains("完工.jpg"), "{html}");
    let files = t
        .get(&format!("/api/v1/tickets/{id}/attachments"), "dispatcher")
        .await
        .body;
    assert_eq!(files.as_array().unwrap().len(), 1, "{files}");
    let sha = files[0]["sha256"].as_str().unwrap();
    let dir = t.app.config.files_dir.clone().unwrap();
    let stored = std::fs::read(dir.join(&sha[0..2]).join(&sha[2..4]).join(sha)).unwrap();
    assert!(find(&stored, b"36.6171N").is_none(), "GPS kept");
    // Past 10 MB: refused while it is read, saying so.
    let mut big = vec![0u8; 10 * 1024 * 1024 + 1];
    big[..3].copy_from_slice(&[0xFF, 0xD8, 0xFF]);
    let (status, _, body) = lead
        .upload(&format!("/tickets/{id}/files"), "big.jpg", &big)
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body.contains("单个文件不能超过10MB"), "{body}");
    // Another unit: refused, nothing kept.
    let other = Browser::open(t, "other-web").await;
    let (status, _, _) = other
        .upload(&format!("/tickets/{id}/files"), "x.jpg", &photo)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Signed out: sent to sign in before anything is read.
    let signed_out = Browser {
        session: "not-a-session".into(),
        ..other
    };
    let (status, location, _) = signed_out
        .upload(&format!("/tickets/{id}/files"), "x.jpg", &photo)
        .await;
    assert_eq!(
        (status, location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/login"))
    );
    let files = t
        .get(&format!("/api/v1/tickets/{id}/attachments"), "dispatcher")
        .await
        .body;
    assert_eq!(files.as_array().unwrap().len(), 1, "{files}");
}
