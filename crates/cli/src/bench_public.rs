//! The citizen's side under load (`bench --public N --upload M`): the portal's submission and
//! look-up over HTTP, one client after another as citizens come, each from its own address
//! and phone (the server must trust the bench as a proxy: run it with
//! `MASHANGBAN_TRUSTED_PROXIES=127.0.0.1`, or the limits per address answer 429); and 5 MB
//! photo uploads, with the server's resident memory before and after.

use anyhow::{Context, Result};
use serde_json::json;
use std::time::{Duration, Instant};

/// The process's resident memory and its peak, in MiB (Linux; zeros elsewhere).
pub(crate) fn memory_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(0.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// A fake client address for the `i`-th citizen.
fn address(i: usize) -> String {
    format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255)
}

/// Times `n` submissions then `n` look-ups of what they received.
pub async fn public(base: &str, n: usize) -> Result<()> {
    let http = reqwest::Client::new();
    let mut receipts = Vec::with_capacity(n);
    let mut lat = Vec::with_capacity(n);
    let started = Instant::now();
    for i in 0..n {
        let body = json!({
            "content": format!("小区门口路灯不亮，晚上出行不便，请尽快修复。第{i}件"),
            "address": "东关大街北关社区",
            "citizen": {"phone": format!("137{:08}", i % 100_000_000)},
        });
        let t = Instant::now();
        let r = http
            .post(format!("{base}/api/v1/public/requests"))
            .header("x-forwarded-for", address(i))
            .json(&body)
            .send()
            .await?;
        let status = r.status();
        let answer: serde_json::Value = r.json().await?;
        lat.push(t.elapsed());
        anyhow::ensure!(
            status == reqwest::StatusCode::CREATED,
            "public submit: {status} {answer} (run the bench with MASHANGBAN_TRUSTED_PROXIES=127.0.0.1 so that each citizen has its own address)"
        );
        receipts.push((
            answer["number"].as_str().context("number")?.to_string(),
            answer["tracking_code"]
                .as_str()
                .context("code")?
                .to_string(),
        ));
    }
    crate::bench::report("public submit", lat, started.elapsed());
    let mut lat = Vec::with_capacity(n);
    let started = Instant::now();
    for (number, code) in &receipts {
        let t = Instant::now();
        let r = http
            .get(format!(
                "{base}/api/v1/public/requests/{number}?code={code}"
            ))
            .send()
            .await?;
        let status = r.status();
        r.bytes().await?;
        lat.push(t.elapsed());
        anyhow::ensure!(status.is_success(), "public track: {status}");
    }
    crate::bench::report("public track", lat, started.elapsed());
    Ok(())
}

/// A JPEG of about 5 MB: a 2,600 × 2,000 picture of noise (which JPEG cannot make small).
fn five_megabyte_photo() -> Vec<u8> {
    use rand::Rng;
    let mut rng = rand::rng();
    let picture = image::RgbImage::from_fn(2600, 2000, |_, _| {
        image::Rgb([rng.random(), rng.random(), rng.random()])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 72)
        .encode_image(&picture)
        .expect("a JPEG");
    out
}

/// Times `n` uploads of a 5 MB photo, one after another, and the memory they leave.
pub async fn upload(base: &str, n: usize) -> Result<()> {
    let photo = five_megabyte_photo();
    let boundary = "benchboundary0c1f";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"photo.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
    )
    .into_bytes();
    body.extend(&photo);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    let http = reqwest::Client::new();
    // 25 uploads an address (the portal takes 30 an hour from one), and other addresses
    // than an earlier run's on the same store took.
    let uploads_from = 1_000_000 + (std::process::id() as usize % 256) * 4096;
    let (rss_before, _) = memory_mib();
    let mut lat: Vec<Duration> = Vec::with_capacity(n);
    let started = Instant::now();
    for i in 0..n {
        let t = Instant::now();
        let r = http
            .post(format!("{base}/api/v1/public/attachments"))
            .header("x-forwarded-for", address(uploads_from + i / 25))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body.clone())
            .send()
            .await?;
        let status = r.status();
        let answer = r.text().await?;
        lat.push(t.elapsed());
        anyhow::ensure!(
            status == reqwest::StatusCode::CREATED,
            "upload: {status} {answer}"
        );
    }
    let wall = started.elapsed();
    let (rss_after, peak) = memory_mib();
    crate::bench::report("public upload (5 MB)", lat, wall);
    println!(
        "upload: {:.1} MB per photo, {:.1} MB/s; this process (server and client) resident {:.0} MiB before, {:.0} MiB after, peak {:.0} MiB",
        photo.len() as f64 / 1e6,
        photo.len() as f64 * n as f64 / 1e6 / wall.as_secs_f64(),
        rss_before,
        rss_after,
        peak
    );
    Ok(())
}
