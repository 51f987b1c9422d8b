//! The metrics endpoint and what every request leaves behind: `/metrics` in Prometheus'
//! text format behind its token, requests counted by route template (never by path), the
//! database's figures read at the scrape; and each answer's request id.

mod common;

use common::TestApp;
use reqwest::StatusCode;

on_both!(
    metrics_count_requests_by_route_and_read_the_database,
    metrics_are_off_without_a_token_or_a_listener,
    every_answer_has_a_request_id
);

const TOKEN: &str = "metrics-token-0123456789";

/// A server like `t`'s (same backend) whose metrics are read with [`TOKEN`].
async fn with_token(t: &TestApp) -> TestApp {
    let db = if t.url.starts_with("sqlite") {
        common::Db::Sqlite
    } else {
        common::Db::Postgres
    };
    TestApp::start_configured(db, "metrics_with_token", |c| {
        c.metrics_token = Some(TOKEN.into())
    })
    .await
    .unwrap()
}

async fn scrape(t: &TestApp, token: Option<&str>) -> (StatusCode, String, String) {
    let mut req = t.client.get(format!("{}/metrics", t.base));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let kind = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, kind, r.text().await.unwrap())
}

/// The value of one series, named exactly as it is written out.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.parse().unwrap())
}

async fn metrics_count_requests_by_route_and_read_the_database(t: &TestApp) {
    let t = &with_token(t).await;
    let id = t.create("小区路灯不亮，晚上出行不便").await;
    t.create("楼道灯坏了").await;
    let number = t
        .get(&format!("/api/v1/tickets/{id}"), "operator")
        .await
        .body["number"]
        .as_str()
        .unwrap()
        .to_string();
    t.act(
        id,
        "dispatch",
        "dispatcher",
        serde_json::json!({"lead_unit_id": t.lead_unit}),
    )
    .await;
    // A path no route matches, holding a ticket's number.
    let stray = t
        .client
        .get(format!("{}/nowhere/{number}", t.base))
        .send()
        .await
        .unwrap();
    assert_eq!(stray.status(), StatusCode::NOT_FOUND);

    let found = t
        .get("/api/v1/tickets/search?q=%E8%B7%AF%E7%81%AF", "operator")
        .await;
    assert_eq!(found.status, StatusCode::OK, "{:?}", found.body);
    // Without the token, or with another, nothing.
    let (status, _, body) = scrape(t, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("\"unauthenticated\""), "{body}");
    let (status, _, _) = scrape(t, Some("metrics-token-0123456788")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, kind, text) = scrape(t, Some(TOKEN)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kind, "text/plain; version=0.0.4; charset=utf-8");
    let backend = if t.url.starts_with("sqlite") {
        "sqlite"
    } else {
        "postgresql"
    };
    for (series, expected) in [
        (
            r#"mashangban_http_requests_total{method="POST",route="/api/v1/tickets",status="201"}"#,
            2.0,
        ),
        (
            r#"mashangban_http_requests_total{method="GET",route="/api/v1/tickets/{id}",status="200"}"#,
            1.0,
        ),
        (
            r#"mashangban_http_requests_total{method="POST",route="/api/v1/tickets/{id}/{action}",status="200"}"#,
            1.0,
        ),
        (
            r#"mashangban_http_requests_total{method="GET",route="unmatched",status="404"}"#,
            1.0,
        ),
        (
            r#"mashangban_http_requests_total{method="GET",route="/metrics",status="401"}"#,
            2.0,
        ),
        (
            r#"mashangban_http_request_duration_seconds_count{method="POST",route="/api/v1/tickets"}"#,
            2.0,
        ),
        (
            r#"mashangban_http_requests_total{method="GET",route="/api/v1/tickets/search",status="200"}"#,
            1.0,
        ),
        (r#"mashangban_tickets_open{state="received"}"#, 1.0),
        (r#"mashangban_tickets_open{state="dispatched"}"#, 1.0),
        (r#"mashangban_tickets_open{state="in_progress"}"#, 0.0),
        (r#"mashangban_tickets_alert{level="overdue"}"#, 0.0),
        ("mashangban_tickets_supervised", 0.0),
        // Two receipts by SMS to the citizen and the dispatch's SMS to the unit, if it has
        // a liaison: at least the two receipts wait for the sender (no workers run here).
        ("mashangban_watcher_due_tickets", 0.0),
        // Two creates and a dispatch, each its own transaction's delta, none folded yet
        // (nothing read the aggregates, and the background fold waits for 500 writes).
        ("mashangban_kpi_deltas_waiting", 3.0),
    ] {
        assert_eq!(value(&text, series), Some(expected), "{series}\n{text}");
    }
    assert!(value(&text, r#"mashangban_outbox_pending{channel="sms"}"#).unwrap() >= 2.0);
    assert_eq!(
        value(
            &text,
            &format!(
                r#"mashangban_build_info{{backend="{backend}",version="{}"}}"#,
                env!("CARGO_PKG_VERSION")
            )
        ),
        Some(1.0)
    );
    assert!(value(&text, "mashangban_db_pool_max_connections").unwrap() >= 8.0);
    // A search brings the index up to the newest event.
    assert_eq!(value(&text, "mashangban_search_feed_lag_events"), Some(0.0));
    // No number, phone or path of a ticket in any series.
    assert!(!text.contains(&number), "{text}");
    assert!(!text.contains("1381234"), "{text}");
    assert!(!text.contains("/nowhere"), "{text}");
    // Every histogram bucket line is well formed and cumulative.
    let buckets: Vec<f64> = text
        .lines()
        .filter(|l| {
            l.starts_with(r#"mashangban_http_request_duration_seconds_bucket{method="POST",route="/api/v1/tickets","#)
        })
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(buckets.len(), 14, "13 bounds and +Inf");
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(buckets.last(), Some(&2.0));
    // Reading the figures folds the deltas first.
    let kpis = t.get("/api/v1/kpis", "analyst").await;
    assert_eq!(kpis.status, StatusCode::OK, "{:?}", kpis.body);
    let (_, _, text) = scrape(t, Some(TOKEN)).await;
    assert_eq!(
        value(&text, "mashangban_kpi_deltas_waiting"),
        Some(0.0),
        "{text}"
    );
}

async fn metrics_are_off_without_a_token_or_a_listener(t: &TestApp) {
    // The shared test server has no metrics token.
    let (status, _, body) = scrape(t, Some(TOKEN)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body.contains("MASHANGBAN_METRICS_TOKEN"), "{body}");
}

async fn every_answer_has_a_request_id(t: &TestApp) {
    let get = |id: Option<&'static str>| {
        let mut req = t.client.get(format!("{}/healthz", t.base));
        if let Some(id) = id {
            req = req.header("x-request-id", id);
        }
        req.send()
    };
    let r = get(None).await.unwrap();
    let made = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(made.len(), 24);
    assert!(made.bytes().all(|b| b.is_ascii_hexdigit()));
    let r = get(Some("nginx-7f3a.01")).await.unwrap();
    assert_eq!(r.headers()["x-request-id"], "nginx-7f3a.01");
    // One that could forge a log line is replaced.
    let r = get(Some("x\" level=ERROR")).await.unwrap();
    assert_ne!(r.headers()["x-request-id"], "x\" level=ERROR");
    assert_eq!(r.headers()["x-request-id"].len(), 24);
}
