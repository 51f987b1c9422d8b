//! Killing the server (SIGKILL) while tickets are being created loses no ticket whose create
//! returned 201 and leaves no half-written ticket; killing it between an event and its
//! notification loses no notification and sends none twice (SQLite, the embedded default).

use mashangban_store::traits::*;
use mashangban_store::{SqlStore, testing};
use serde_json::json;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod common;

use common::{BIN, start_server, start_server_with};

fn cli(db: &str, args: &[&str], stdin: Option<&str>) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new(BIN)
        .arg("--database")
        .arg(db)
        .args(args)
        .env("MASHANGBAN_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_creates_loses_no_acknowledged_ticket() {
    let db = testing::sqlite_url();
    cli(&db, &["migrate"], None);
    cli(
        &db,
        &[
            "user",
            "add",
            "--username",
            "op",
            "--role",
            "operator",
            "--password-stdin",
        ],
        Some("a-long-password\n"),
    );
    let token = cli(&db, &["token", "issue", "--username", "op"], None)
        .trim()
        .to_string();
    assert!(token.starts_with("mb_"));

    for round in 0..2 {
        let (mut server, base) = start_server(&db).await;
        let acknowledged: Arc<Mutex<Vec<(i64, String)>>> = Arc::default();
        let mut clients = Vec::new();
        for c in 0..8 {
            let (base, token, acked) = (base.clone(), token.clone(), acknowledged.clone());
            clients.push(tokio::spawn(async move {
                let http = reqwest::Client::new();
                for i in 0.. {
                    let body = json!({"channel": "phone", "kind": "help", "content": format!("round {round} client {c} request {i}"),
                                      "citizen": {"phone": "13800000000"}});
                    let r = http.post(format!("{base}/api/v1/tickets")).bearer_auth(&token).header("idempotency-key", format!("r{round}c{c}i{i}")).json(&body).send().await;
                    match r {
                        Ok(r) if r.status() == reqwest::StatusCode::CREATED => {
                            let v: serde_json::Value = match r.json().await {
                                Ok(v) => v,
                                Err(_) => break,
                            };
                            acked.lock().unwrap().push((v["id"].as_i64().unwrap(), v["number"].as_str().unwrap().to_string()));
                        }
                        _ => break,
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        server.start_kill().unwrap(); // SIGKILL
        server.wait().await.unwrap();
        for c in clients {
            c.await.unwrap();
        }
        let acked = acknowledged.lock().unwrap().clone();
        assert!(
            acked.len() > 20,
            "the load ran: {} creates acknowledged",
            acked.len()
        );

        // Reopen after the crash and check every acknowledged ticket and every stored one.
        let store = SqlStore::connect(&db).await.unwrap();
        for (id, number) in &acked {
            let t = store
                .get_ticket(*id)
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("acknowledged ticket {id} lost"));
            assert_eq!(&t.number, number);
        }
        use sqlx::Row;
        let pool = store.pool();
        let tickets: i64 = sqlx::query("SELECT COUNT(*) AS n FROM tickets")
            .fetch_one(pool)
            .await
            .unwrap()
            .try_get("n")
            .unwrap();
        let received: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM ticket_events WHERE seq = 1 AND type = 'received'",
        )
        .fetch_one(pool)
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
        let orphans: i64 = sqlx::query("SELECT COUNT(*) AS n FROM ticket_events e WHERE NOT EXISTS (SELECT 1 FROM tickets t WHERE t.id = e.ticket_id)").fetch_one(pool).await.unwrap().try_get("n").unwrap();
        let without_event: i64 = sqlx::query("SELECT COUNT(*) AS n FROM tickets t WHERE NOT EXISTS (SELECT 1 FROM ticket_events e WHERE e.ticket_id = t.id)").fetch_one(pool).await.unwrap().try_get("n").unwrap();
        let dangling_keys: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM idempotency_keys WHERE ticket_id IS NULL")
                .fetch_one(pool)
                .await
                .unwrap()
                .try_get("n")
                .unwrap();
        assert_eq!(tickets, received, "every ticket has its received event");
        assert_eq!(
            (orphans, without_event, dangling_keys),
            (0, 0, 0),
            "no half-written ticket"
        );
        assert!(tickets as usize >= acked.len());
        for t in store
            .list_tickets(&mashangban_store::TicketFilter {
                limit: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
        {
            assert_eq!(
                store.ticket_events(t.id).await.unwrap().len() as i64,
                t.version,
                "view and events agree"
            );
        }
        eprintln!(
            "round {round}: {} acknowledged, {tickets} stored",
            acked.len()
        );
    }
}

/// A webhook receiver on loopback that keeps each delivery's id.
async fn receiver() -> (Arc<Mutex<Vec<String>>>, String) {
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let keep = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let keep = keep.clone();
            async move {
                let id = headers["x-mashangban-delivery"]
                    .to_str()
                    .unwrap()
                    .to_string();
                keep.lock().unwrap().push(id);
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (got, format!("http://{addr}/hook"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_between_events_and_notices_sends_each_once() {
    let db = testing::sqlite_url();
    cli(&db, &["migrate"], None);
    cli(&db, &["seed", "xining"], None);
    for (name, role) in [("disp", "dispatcher"), ("root", "admin")] {
        cli(
            &db,
            &[
                "user",
                "add",
                "--username",
                name,
                "--role",
                role,
                "--password-stdin",
            ],
            Some("a-long-password\n"),
        );
    }
    let token = |u: &str| {
        cli(&db, &["token", "issue", "--username", u], None)
            .trim()
            .to_string()
    };
    let (disp, root) = (token("disp"), token("root"));
    let (hooks, hook_url) = receiver().await;
    let sms_log = std::env::temp_dir().join(format!("mb-sms-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&sms_log);
    let sms_env = sms_log.to_str().unwrap().to_string();

    // A server whose sender never runs: it dies after the events are written and before
    // any notice goes out.
    let (mut server, base) = start_server_with(&db, &[("MASHANGBAN_SEND_SECONDS", "0")]).await;
    let http = reqwest::Client::new();
    let units: serde_json::Value = http
        .get(format!("{base}/api/v1/units"))
        .bearer_auth(&root)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let unit = units["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["code"] == "GOV-630102001")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = http
        .put(format!("{base}/api/v1/units/{unit}/contact"))
        .bearer_auth(&root)
        .json(&json!({"liaison": "王主任", "phone": "13900001111"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let r = http.put(format!("{base}/api/v1/webhooks")).bearer_auth(&root)
        .json(&json!([{"name": "peer", "url": hook_url, "secret": "0123456789abcdef", "events": ["dispatched"]}]))
        .send().await.unwrap();
    assert!(r.status().is_success());
    for i in 0..5 {
        let t: serde_json::Value = http.post(format!("{base}/api/v1/tickets")).bearer_auth(&disp)
            .json(&json!({"channel": "phone", "kind": "help", "content": format!("第{i}件：楼道灯不亮")}))
            .send().await.unwrap().json().await.unwrap();
        let id = t["id"].as_i64().unwrap();
        let r = http
            .post(format!("{base}/api/v1/tickets/{id}/dispatch"))
            .bearer_auth(&disp)
            .json(&json!({"lead_unit_id": unit, "tier": 3}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
    server.start_kill().unwrap(); // SIGKILL
    server.wait().await.unwrap();
    let store = SqlStore::connect(&db).await.unwrap();
    let pending = |store: SqlStore| async move {
        let all = store.list_notices(None, 1000).await.unwrap();
        let out: Vec<_> = all.into_iter().filter(|n| n.channel != "console").collect();
        out
    };
    let queued = pending(store.clone()).await;
    assert_eq!(
        queued.len(),
        10,
        "5 SMS and 5 webhooks written with their events"
    );
    assert!(queued.iter().all(|n| n.sent_at.is_none()));
    assert!(
        !sms_log.exists() && hooks.lock().unwrap().is_empty(),
        "nothing sent yet"
    );

    // After a restart, each goes out once; a second restart sends nothing again.
    for round in 0..2 {
        let (mut server, _) = start_server_with(
            &db,
            &[
                ("MASHANGBAN_SEND_SECONDS", "1"),
                ("MASHANGBAN_SMS_LOG", &sms_env),
            ],
        )
        .await;
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let sent = pending(store.clone())
                .await
                .iter()
                .filter(|n| n.sent_at.is_some())
                .count();
            if sent == 10 || std::time::Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        tokio::time::sleep(Duration::from_millis(2500)).await; // a few more sender passes
        server.start_kill().unwrap();
        server.wait().await.unwrap();
        let sms: Vec<serde_json::Value> = std::fs::read_to_string(&sms_log)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let mut ids: Vec<i64> = sms
            .iter()
            .map(|s| s["delivery_id"].as_i64().unwrap())
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(
            (sms.len(), ids.len()),
            (5, 5),
            "round {round}: each SMS once"
        );
        assert!(sms.iter().all(|s| s["phone"] == "13900001111"));
        let mut got = hooks.lock().unwrap().clone();
        got.sort();
        got.dedup();
        assert_eq!(
            (hooks.lock().unwrap().len(), got.len()),
            (5, 5),
            "round {round}: each webhook once"
        );
        let rows = pending(store.clone()).await;
        assert!(
            rows.iter().all(|n| n.sent_at.is_some() && n.attempts == 1),
            "{rows:?}"
        );
    }
    let _ = std::fs::remove_file(&sms_log);
}
