//! Bulk work (批量办理) over HTTP on both backends: fifty tickets dispatched to one unit and
//! signed in one request each, every ticket in its own transaction: those that may be acted
//! on are, wholly; those refused are named with the reason and left exactly as they were;
//! the request itself is refused before any ticket is touched when the action, the role,
//! the list or the body is wrong.

mod common;

use common::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both!(
    fifty_tickets_dispatched_and_signed_in_one_request_each,
    a_bad_request_touches_no_ticket
);

fn ids_of(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_i64().unwrap())
        .collect()
}

async fn fifty_tickets_dispatched_and_signed_in_one_request_each(t: &TestApp) {
    let mut received = Vec::new();
    for i in 0..47 {
        received.push(t.create(&format!("批量测试：第{i}件路灯不亮")).await);
    }
    // Two already dispatched elsewhere, and an id that is no ticket at all.
    let dispatched: Vec<i64> = vec![
        t.ticket_in("dispatched").await,
        t.ticket_in("dispatched").await,
    ];
    let before: Vec<usize> = {
        let mut v = Vec::new();
        for id in &dispatched {
            v.push(t.event_count(*id).await);
        }
        v
    };
    let mut ids = received.clone();
    ids.insert(10, dispatched[0]);
    ids.push(dispatched[1]);
    ids.push(999_999);
    assert_eq!(ids.len(), 50);
    let r = t
        .post(
            "/api/v1/tickets/bulk",
            "dispatcher",
            json!({"action": "dispatch", "ticket_ids": ids,
                   "body": {"lead_unit_id": t.lead_unit, "tier": 3}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(ids_of(&r.body["done"]), received, "in the order asked");
    assert!(
        r.body["done"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["state"] == "dispatched" && d["number"].as_str().unwrap().len() > 8)
    );
    let refused = r.body["refused"].as_array().unwrap();
    assert_eq!(
        ids_of(&r.body["refused"]),
        vec![dispatched[0], dispatched[1], 999_999]
    );
    assert_eq!(refused[0]["code"], "illegal_transition", "{}", refused[0]);
    assert!(
        refused[0]["number"].as_str().is_some(),
        "a visible ticket is named by number"
    );
    assert_eq!(refused[2]["code"], "not_found");
    assert_eq!(refused[2]["number"], Value::Null);
    // Each ticket done is wholly done: its state, its lead unit and one event more.
    for id in &received {
        let tk = t
            .get(&format!("/api/v1/tickets/{id}"), "dispatcher")
            .await
            .body;
        assert_eq!(tk["state"], "dispatched");
        assert_eq!(tk["lead_unit_id"], t.lead_unit);
        assert_eq!(tk["tier"], 3);
        assert_eq!(t.event_count(*id).await, 2, "received and dispatched");
    }
    // Each ticket refused is as it was.
    for (id, n) in dispatched.iter().zip(&before) {
        assert_eq!(t.event_count(*id).await, *n);
    }

    // The lead unit signs them all in one request; a repeated id is signed once.
    let mut to_sign = received.clone();
    to_sign.push(received[0]);
    to_sign.truncate(50);
    let r = t
        .post(
            "/api/v1/tickets/bulk",
            "lead",
            json!({"action": "sign", "ticket_ids": to_sign}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(ids_of(&r.body["done"]), received);
    assert!(r.body["refused"].as_array().unwrap().is_empty());
    assert_eq!(t.state(received[46]).await, "in_progress");

    // Another unit's handler may sign, but not these: each refused, none revealed.
    let r = t
        .post(
            "/api/v1/tickets/bulk",
            "other",
            json!({"action": "add-note", "ticket_ids": &received[..3], "body": {"note": "看看"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body["done"].as_array().unwrap().is_empty());
    for x in r.body["refused"].as_array().unwrap() {
        assert_eq!(x["code"], "not_found", "{x}");
        assert_eq!(x["number"], Value::Null);
    }

    // A note on several at once, by the dispatcher.
    let r = t
        .post(
            "/api/v1/tickets/bulk",
            "dispatcher",
            json!({"action": "add-note", "ticket_ids": &received[..5],
                   "body": {"note": "同一小区路灯，已通知供电公司"}}),
        )
        .await;
    assert_eq!(ids_of(&r.body["done"]).len(), 5, "{}", r.body);
    let events = t
        .get(
            &format!("/api/v1/tickets/{}/events", received[4]),
            "dispatcher",
        )
        .await
        .body;
    assert!(events.to_string().contains("同一小区路灯，已通知供电公司"));
}

async fn a_bad_request_touches_no_ticket(t: &TestApp) {
    let a = t.create("批量测试：井盖缺失").await;
    let b = t.create("批量测试：井盖松动").await;
    let refused = |r: &common::Resp, status: StatusCode, field: Option<&str>| {
        assert_eq!(r.status, status, "{}", r.body);
        if let Some(f) = field {
            assert_eq!(r.body["error"]["field"], f, "{}", r.body);
        }
    };
    // More than fifty.
    let many: Vec<i64> = (0..51).map(|i| a + i).collect();
    let r = t
        .post(
            "/api/v1/tickets/bulk",
            "dispatcher",
            json!({"action": "dispatch", "ticket_ids": many, "body": {"lead_unit_id": t.lead_unit}}),
        )
        .await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, Some("ticket_ids"));
    // None.
    let r = t
        .post(
            "/api/v1/tickets/bulk",
            "dispatcher",
            json!({"action": "dispatch", "ticket_ids": [], "body": {"lead_unit_id": t.lead_unit}}),
        )
        .await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, Some("ticket_ids"));
    // An action taken one ticket at a time.
    let r = t
        .post(
            "/api/v1/tickets/bulk",
            "dispatcher",
            json!({"action": "approve-reply", "ticket_ids": [a, b]}),
        )
        .await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, Some("action"));
    let r = t
        .post(
            "/api/v1/tickets/bulk",
            "dispatcher",
            json!({"action": "fly", "ticket_ids": [a, b]}),
        )
        .await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, Some("action"));
    // A body the action refuses: no unit to dispatch to.
    let r = t
        .post(
            "/api/v1/tickets/bulk",
            "dispatcher",
            json!({"action": "dispatch", "ticket_ids": [a, b], "body": {}}),
        )
        .await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, Some("lead_unit_id"));
    // A role that may not take the action at all.
    let r = t
        .post(
            "/api/v1/tickets/bulk",
            "operator",
            json!({"action": "dispatch", "ticket_ids": [a, b], "body": {"lead_unit_id": t.lead_unit}}),
        )
        .await;
    refused(&r, StatusCode::FORBIDDEN, None);
    assert_eq!(r.body["error"]["code"], "forbidden");
    // Unknown fields are named.
    let r = t
        .post(
            "/api/v1/tickets/bulk",
            "dispatcher",
            json!({"action": "sign", "ids": [a]}),
        )
        .await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, None);
    for id in [a, b] {
        assert_eq!(t.state(id).await, "received");
        assert_eq!(t.event_count(id).await, 1);
    }
}
