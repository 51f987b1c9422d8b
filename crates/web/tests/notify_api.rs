//! Notifications end to end: a change puts its notices in the outbox in the same
//! transaction; the sender delivers SMS to the unit's liaison through the gateway and
//! HMAC-signed webhooks, retries a failed delivery with back-off, holds alerts outside
//! working hours; console notices reach the right people. On SQLite and PostgreSQL.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::TestApp;
use mashangban_app::auth::actor_of;
use mashangban_app::notify::{Delivery, SmsGateway, signature};
use mashangban_domain::Action;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

on_both!(
    notices_are_queued_with_events_and_delivered,
    notices_read_newest_first_by_when_they_happened
);

/// History written out of order (an import, the demo's replay): a unit's notices still
/// read newest first by the time of what they tell.
async fn notices_read_newest_first_by_when_they_happened(t: &TestApp) {
    let disp = actor_of(
        &t.app
            .store()
            .get_credentials("dispatcher")
            .await
            .unwrap()
            .unwrap()
            .0,
    );
    let later = t.create("路灯不亮").await;
    let earlier = t.create("井盖缺失").await;
    for (id, when) in [
        (later, "2026-11-23T10:00:00+08:00"),
        (earlier, "2026-11-20T10:00:00+08:00"),
    ] {
        t.app
            .act_at(
                &disp,
                id,
                Action::Dispatch,
                json!({"lead_unit_id": t.lead_unit, "tier": 3}),
                at(when),
            )
            .await
            .unwrap();
    }
    let mine = t.get("/api/v1/notices", "lead").await.body;
    let order: Vec<i64> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["ticket_id"].as_i64().unwrap())
        .collect();
    assert_eq!(order, vec![later, earlier], "{mine}");
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// An SMS gateway that keeps what it was asked to send.
#[derive(Default)]
struct RecordingSms(Mutex<Vec<(String, String, i64)>>);

#[async_trait::async_trait]
impl SmsGateway for RecordingSms {
    async fn send(&self, phone: &str, text: &str, id: i64) -> Result<(), String> {
        self.0
            .lock()
            .unwrap()
            .push((phone.to_string(), text.to_string(), id));
        Ok(())
    }
}

/// A webhook receiver on loopback: refuses the first delivery (HTTP 500), keeps the rest.
#[derive(Default)]
struct Receiver {
    seen: Mutex<Vec<(axum::http::HeaderMap, String)>>,
    refused: Mutex<bool>,
}

async fn start_receiver() -> (Arc<Receiver>, String) {
    let rx = Arc::new(Receiver::default());
    let state = rx.clone();
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let rx = state.clone();
            async move {
                let mut refused = rx.refused.lock().unwrap();
                if !*refused {
                    *refused = true;
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                rx.seen.lock().unwrap().push((headers, body));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (rx, format!("http://{addr}/hook"))
}

async fn outbox(t: &TestApp, channel: &str) -> Vec<Value> {
    let r = t
        .get(&format!("/api/v1/outbox?channel={channel}"), "admin")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body.as_array().unwrap().clone()
}

async fn notices_are_queued_with_events_and_delivered(t: &TestApp) {
    const SECRET: &str = "a-shared-secret-of-some-length";
    let (rx, hook_url) = start_receiver().await;
    // The lead unit's liaison, and a webhook for dispatches and supervision.
    let r = t
        .raw(
            reqwest::Method::PUT,
            &format!("/api/v1/units/{}/contact", t.lead_unit),
            Some("admin"),
            Some(json!({"liaison": "王主任", "phone": "13900001111"}).to_string()),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let bad = t
        .raw(
            reqwest::Method::PUT,
            &format!("/api/v1/units/{}/contact", t.lead_unit),
            Some("admin"),
            Some(json!({"phone": "call me"}).to_string()),
            &[],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.body["error"]["field"], "phone");
    let hooks = json!([{"name": "city-brain", "url": hook_url, "secret": SECRET,
                        "events": ["received", "dispatched", "supervised"]}]);
    let r = t
        .raw(
            reqwest::Method::PUT,
            "/api/v1/webhooks",
            Some("admin"),
            Some(hooks.to_string()),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body[0]["secret_set"], true);
    assert!(r.body[0].get("secret").is_none(), "never shown back");
    let r = t
        .raw(
            reqwest::Method::PUT,
            "/api/v1/webhooks",
            Some("admin"),
            Some(json!([{"name": "x", "url": "ftp://x", "secret": SECRET}]).to_string()),
            &[],
        )
        .await;
    assert_eq!(r.body["error"]["field"], "[0].url");
    assert_eq!(
        t.get("/api/v1/webhooks", "dispatcher").await.status,
        StatusCode::FORBIDDEN
    );

    // Dispatch at Monday 2026-11-23 10:00: console notices, an SMS and a webhook are queued
    // with the event.
    let disp = actor_of(
        &t.app
            .store()
            .get_credentials("dispatcher")
            .await
            .unwrap()
            .unwrap()
            .0,
    );
    let t0 = at("2026-11-23T10:00:00+08:00");
    // A citizen who asked not to be texted: the units' SMS alone here (the citizens' own
    // are tested in citizen_loop.rs).
    let r = t
        .post(
            "/api/v1/tickets",
            "operator",
            json!({"channel": "phone", "kind": "complaint", "content": "井盖缺失，夜间危险",
                   "citizen": {"name": "张三", "phone": "13812345678", "no_sms": true},
                   "address": "城东区东关大街1号", "category_code": "010403", "division_code": "630102001001"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_i64().unwrap();
    t.app
        .act_at(
            &disp,
            id,
            Action::Dispatch,
            json!({"lead_unit_id": t.lead_unit, "co_unit_ids": [t.co_unit], "tier": 1, "note": "紧急，缩短时限"}),
            t0,
        )
        .await
        .unwrap();
    let sms = outbox(t, "sms").await;
    assert_eq!(sms.len(), 1);
    assert_eq!(sms[0]["recipient"], "13900001111");
    assert_eq!(sms[0]["sent_at"], Value::Null);
    // The new ticket (received) and its dispatch.
    let hooks_out = outbox(t, "webhook").await;
    assert_eq!(hooks_out.len(), 2);
    assert!(hooks_out.iter().all(|h| h["ticket_id"] == id));
    let console: Vec<String> = outbox(t, "console")
        .await
        .iter()
        .map(|n| n["recipient"].as_str().unwrap().to_string())
        .collect();
    assert!(console.contains(&format!("unit:{}", t.lead_unit)));
    assert!(console.contains(&format!("unit:{}", t.co_unit)));
    // The lead unit sees its notice in the console; another unit does not.
    let mine = t.get("/api/v1/notices", "lead").await.body;
    assert_eq!(mine["unseen"], 1);
    assert_eq!(mine["items"][0]["read"], false);
    assert!(
        mine["items"][0]["text"]
            .as_str()
            .unwrap()
            .contains("井盖缺失")
    );
    // One notice read by itself; another user may not read it for them.
    let notice = mine["items"][0]["id"].as_i64().unwrap();
    let r = t
        .post(
            &format!("/api/v1/notices/{notice}/read"),
            "other",
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(t.get("/api/v1/notices", "lead").await.body["unseen"], 1);
    let r = t
        .post(&format!("/api/v1/notices/{notice}/read"), "lead", json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body, json!({"id": notice, "unseen": 0}));
    assert_eq!(
        t.get("/api/v1/notices", "lead").await.body["items"][0]["read"],
        true
    );
    let all_read = t.get("/api/v1/notices?seen=true", "lead").await.body;
    assert_eq!(all_read["unseen"], 0, "{all_read}");
    assert_eq!(all_read["items"][0]["read"], true);
    assert_eq!(
        t.get("/api/v1/notices", "lead").await.body["unseen"],
        0,
        "marked read"
    );
    assert_eq!(
        t.get("/api/v1/notices", "other").await.body["items"],
        json!([])
    );

    // The sender: the SMS goes; the webhook is refused once and retried after 30 s.
    let gateway = Arc::new(RecordingSms::default());
    let delivery = Delivery {
        sms: gateway.clone(),
        http: mashangban_app::notify::http_client(),
    };
    // (The ticket was received now; its dispatch is dated the 23rd.)
    let n0 = Utc::now();
    let r = t.app.send_notices_at(&delivery, n0, 100).await.unwrap();
    assert_eq!(
        (r.sent, r.retrying),
        (2, 1),
        "SMS and one webhook; the other refused"
    );
    assert_eq!(gateway.0.lock().unwrap().len(), 1);
    assert!(gateway.0.lock().unwrap()[0].1.contains("新派工单"));
    let r = t
        .app
        .send_notices_at(&delivery, n0 + Duration::seconds(10), 100)
        .await
        .unwrap();
    assert_eq!(r.sent + r.retrying, 0, "backing off");
    let r = t
        .app
        .send_notices_at(&delivery, n0 + Duration::seconds(31), 100)
        .await
        .unwrap();
    assert_eq!(r.sent, 1);
    let seen = rx.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    let (headers, body) = seen
        .iter()
        .find(|(_, b)| b.contains("\"dispatched\""))
        .unwrap();
    let ts: i64 = headers["x-mashangban-timestamp"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        headers["x-mashangban-signature"].to_str().unwrap(),
        format!("sha256={}", signature(SECRET, ts, body))
    );
    let v: Value = serde_json::from_str(body).unwrap();
    assert_eq!(v["type"], "dispatched");
    assert_eq!(v["ticket_id"], id);
    assert_eq!(
        headers["x-mashangban-delivery"].to_str().unwrap(),
        v["delivery_id"].to_string()
    );
    let received: Value = seen
        .iter()
        .map(|(_, b)| serde_json::from_str::<Value>(b).unwrap())
        .find(|v| v["type"] == "received")
        .unwrap();
    assert_eq!(
        received["event"]["tracking_code"], "",
        "the citizen's code stays theirs"
    );
    assert_eq!(received["event"]["citizen"]["phone"], "138****5678");
    let hooks_out = outbox(t, "webhook").await;
    assert!(hooks_out.iter().all(|h| h["sent_at"].is_string()));
    assert_eq!(
        hooks_out
            .iter()
            .map(|h| h["attempts"].as_i64().unwrap())
            .sum::<i64>(),
        3,
        "one retry"
    );
    // Nothing is sent twice.
    let r = t
        .app
        .send_notices_at(&delivery, n0 + Duration::hours(1), 100)
        .await
        .unwrap();
    assert_eq!(r.sent, 0);

    // Alerts wait for working hours: with office hours, a breach found at 20:00 is texted
    // at 08:30 the next working day; its console notice is there at once.
    let mut policy = serde_json::to_value(
        t.app
            .names(&mashangban_app::SERVER)
            .await
            .unwrap()
            .policy
            .clone(),
    )
    .unwrap();
    policy["working_hours"] = json!("08:30-12:00,14:30-18:00");
    t.app
        .set_policy(&mashangban_app::SERVER, policy)
        .await
        .unwrap();
    let id2 = t.create("路灯不亮").await;
    t.app
        .act_at(
            &disp,
            id2,
            Action::Dispatch,
            json!({"lead_unit_id": t.lead_unit, "tier": 1, "note": "紧急，缩短时限"}),
            at("2026-11-27T09:00:00+08:00"),
        )
        .await
        .unwrap();
    t.app
        .send_notices_at(&delivery, at("2026-11-27T09:00:01+08:00"), 100)
        .await
        .unwrap();
    // Friday 09:00 + 2 working hours to sign: due 11:00; the watcher runs that evening.
    let evening = at("2026-11-27T20:00:00+08:00");
    let w = t.app.watch_deadlines_at(evening, 100).await.unwrap();
    assert!(w.breached >= 1 && w.supervised >= 1, "{w:?}");
    let held: Vec<Value> = outbox(t, "sms")
        .await
        .into_iter()
        .filter(|n| n["created_at"] == "2026-11-27T12:00:00Z")
        .collect();
    // The handling warning and the 催办 (which tells of the sign breach: one SMS, not two).
    // (The first ticket waits: the policy change set its next check to the real now.)
    let texts: Vec<&str> = held
        .iter()
        .map(|n| n["payload"].as_str().unwrap())
        .collect();
    assert_eq!(held.len(), 2, "{held:?}");
    assert!(
        texts
            .iter()
            .any(|p| p.contains("催办") && p.contains("签收时限已超期"))
    );
    for n in &held {
        assert_eq!(
            n["not_before"].as_str().unwrap(),
            "2026-11-30T00:30:00Z",
            "Monday 08:30 in Xining"
        );
    }
    let before = gateway.0.lock().unwrap().len();
    t.app
        .send_notices_at(&delivery, evening, 100)
        .await
        .unwrap();
    assert_eq!(gateway.0.lock().unwrap().len(), before, "held overnight");
    let r = t
        .app
        .send_notices_at(&delivery, at("2026-11-30T08:30:00+08:00"), 100)
        .await
        .unwrap();
    assert!(r.sent >= held.len());
    assert_eq!(
        gateway.0.lock().unwrap().len(),
        before + held.len(),
        "the held SMS go Monday morning"
    );
    let texts: Vec<String> = gateway
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|g| g.1.clone())
        .collect();
    assert!(texts.iter().any(|t| t.contains("已超期")));
    assert!(texts.iter().any(|t| t.contains("催办")));
    // The unit sees the 催办 in the console at once; supervisors, whose board shows it, are
    // told from 书面督办 up.
    let unit = t.get("/api/v1/notices", "lead").await.body;
    assert!(
        unit["items"][0]["text"].as_str().unwrap().contains("催办"),
        "{unit:?}"
    );
    assert_eq!(
        t.get("/api/v1/notices", "supervisor").await.body["unseen"],
        0
    );
}
