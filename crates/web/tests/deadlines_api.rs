//! The calendar, the deadline policy and a ticket's clocks over HTTP, on both backends.

mod common;

use common::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both!(calendar_is_shipped_and_editable, policy_and_clocks);

async fn calendar_is_shipped_and_editable(t: &TestApp) {
    let r = t.get("/api/v1/calendar?year=2026", "dispatcher").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["known"], true);
    let days = r.body["days"].as_array().unwrap();
    assert!(
        days.iter()
            .any(|d| d["date"] == "2026-10-01" && d["kind"] == "holiday" && d["name"] == "国庆节")
    );
    assert!(
        days.iter()
            .any(|d| d["date"] == "2026-10-10" && d["kind"] == "workday")
    );
    let r = t.get("/api/v1/calendar?year=2027", "dispatcher").await;
    assert_eq!(
        (r.body["known"].clone(), r.body["days"].clone()),
        (json!(false), json!([]))
    );
    let r = t.get("/api/v1/calendar?year=abc", "dispatcher").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["error"]["field"], "year");

    // Only administrators change it; bad dates and kinds are named.
    let put = |path: &'static str, who: &'static str, body: serde_json::Value| {
        t.raw(Method::PUT, path, Some(who), Some(body.to_string()), &[])
    };
    let r = put(
        "/api/v1/calendar/days/2027-01-01",
        "dispatcher",
        json!({"kind": "holiday", "name": "元旦"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = put(
        "/api/v1/calendar/days/2027-13-01",
        "admin",
        json!({"kind": "holiday"}),
    )
    .await;
    assert_eq!(
        (r.status, r.body["error"]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("date"))
    );
    let r = put(
        "/api/v1/calendar/days/2027-01-01",
        "admin",
        json!({"kind": "party"}),
    )
    .await;
    assert_eq!(
        (r.status, r.body["error"]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("kind"))
    );
    let r = put(
        "/api/v1/calendar/days/2027-01-01",
        "admin",
        json!({"kind": "holiday", "name": "元旦"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = t.get("/api/v1/calendar?year=2027", "dispatcher").await;
    assert_eq!(r.body["known"], true, "publishing a day publishes its year");
    assert_eq!(r.body["days"][0]["date"], "2027-01-01");
    // Removed: the weekend rule again; a second removal finds nothing.
    let del = |path: &'static str| t.raw(Method::DELETE, path, Some("admin"), None, &[]);
    assert_eq!(
        del("/api/v1/calendar/days/2027-01-01").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        del("/api/v1/calendar/days/2027-01-01").await.status,
        StatusCode::NOT_FOUND
    );
    // A year can be marked unknown again (its deadlines are then flagged).
    let r = put(
        "/api/v1/calendar/years/2027",
        "admin",
        json!({"known": false}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        t.get("/api/v1/calendar?year=2027", "admin").await.body["known"],
        false
    );
    let r = put(
        "/api/v1/calendar/years/1999",
        "admin",
        json!({"known": true}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn policy_and_clocks(t: &TestApp) {
    let r = t.get("/api/v1/policy/deadlines", "dispatcher").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["warn_at_percent"], 75);
    assert_eq!(r.body["working_hours"], "");
    let mut policy = r.body.clone();

    // Another tier than the category's needs a reason.
    let id = t.create("路灯不亮").await;
    let r = t
        .post(
            &format!("/api/v1/tickets/{id}/dispatch"),
            "dispatcher",
            json!({"lead_unit_id": t.lead_unit, "tier": 7}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["error"]["field"], "note");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("3 days")
    );
    // A ticket dispatched now has a sign clock and a handling clock.
    let r = t
        .post(
            &format!("/api/v1/tickets/{id}/dispatch"),
            "dispatcher",
            json!({"lead_unit_id": t.lead_unit, "tier": 3}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = t
        .get(&format!("/api/v1/tickets/{id}/deadlines"), "lead")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let clocks = r.body["clocks"].as_array().unwrap();
    let kinds: Vec<_> = clocks.iter().map(|c| c["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["sign", "handling"]);
    let handling = &clocks[1];
    assert_eq!(handling["state"], "on_track");
    assert_eq!(
        handling["allowance"],
        json!({"unit": "working_days", "amount": 3})
    );
    assert!(handling["due"].is_string() && handling["warn_at"].is_string());
    assert!(
        !handling["days"].as_array().unwrap().is_empty(),
        "the days that counted"
    );
    // Another unit cannot see them.
    assert_eq!(
        t.get(&format!("/api/v1/tickets/{id}/deadlines"), "other")
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // The policy: checked, then in force.
    let put = |body: serde_json::Value, who: &'static str| {
        t.raw(
            Method::PUT,
            "/api/v1/policy/deadlines",
            Some(who),
            Some(body.to_string()),
            &[],
        )
    };
    assert_eq!(
        put(policy.clone(), "dispatcher").await.status,
        StatusCode::FORBIDDEN
    );
    let mut bad = policy.clone();
    bad["warn_at_percent"] = json!(0);
    let r = put(bad, "admin").await;
    assert_eq!(
        (r.status, r.body["error"]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("warn_at_percent"))
    );
    let mut bad = policy.clone();
    bad["working_hours"] = json!("18:00-08:00");
    let r = put(bad, "admin").await;
    assert_eq!(
        (r.status, r.body["error"]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("working_hours"))
    );
    let mut bad = policy.clone();
    bad.as_object_mut().unwrap().remove("max_extensions");
    assert_eq!(
        put(bad, "admin").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    policy["working_hours"] = json!("08:30-12:00,14:30-18:00");
    policy["max_extensions"] = json!(0);
    let r = put(policy.clone(), "admin").await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        t.get("/api/v1/policy/deadlines", "lead").await.body["working_hours"],
        "08:30-12:00,14:30-18:00"
    );

    // No extensions allowed now: the request is refused with the reason, and nothing is written.
    t.post(&format!("/api/v1/tickets/{id}/sign"), "lead", json!({}))
        .await;
    let before = t
        .get(&format!("/api/v1/tickets/{id}/events"), "lead")
        .await
        .body["items"]
        .as_array()
        .unwrap()
        .len();
    let r = t
        .post(
            &format!("/api/v1/tickets/{id}/request-extension"),
            "lead",
            json!({"days": 2, "reason": "需协调"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert_eq!(r.body["error"]["code"], "extension_refused");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at most 0")
    );
    let after = t
        .get(&format!("/api/v1/tickets/{id}/events"), "lead")
        .await
        .body["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after);
    // With office hours, the contact clock (signed → 1 working day) now exists too.
    let r = t
        .get(&format!("/api/v1/tickets/{id}/deadlines"), "lead")
        .await;
    let kinds: Vec<_> = r.body["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["sign", "contact", "handling"]);
    assert_eq!(r.body["clocks"][2]["allowed_minutes"], 3 * 420);
}
