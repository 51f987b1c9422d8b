//! Early warnings, hot issues and the forecast over HTTP, on both backends: a quiet issue
//! series that surges today, a cluster at one community, a repeat caller — found once,
//! told to supervisors, not told again until worse; handled; thresholds checked by name.

mod common;

use chrono::{Duration, Utc};
use common::TestApp;
use mashangban_domain::Actor;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both!(
    warnings_are_found_told_and_handled,
    clusters_beyond_the_newest_tickets_come_from_the_rollups,
    forecast_and_hot_issues
);

async fn operator(t: &TestApp) -> Actor {
    let (u, _) = t
        .app
        .store()
        .get_credentials("operator")
        .await
        .unwrap()
        .unwrap();
    Actor {
        user_id: u.id,
        role: u.role,
        unit_id: u.unit_id,
    }
}

fn request(content: &str, category: &str, division: &str, phone: &str) -> Value {
    json!({"channel": "web", "kind": "complaint", "content": content,
        "citizen": {"name": "市民", "phone": phone},
        "category_code": category, "division_code": division})
}

/// One request a day of 0101 (市政设施 › …) in a community of 城东区, from 56 to 4 days ago.
async fn quiet_history(t: &TestApp) {
    let op = operator(t).await;
    let now = Utc::now();
    for back in 4..=56 {
        t.app
            .create_ticket_at(
                &op,
                request(
                    "路灯不亮",
                    "0101",
                    "630102001001",
                    &format!("1370000{back:04}"),
                ),
                None,
                now - Duration::days(back),
            )
            .await
            .unwrap();
    }
}

async fn today(t: &TestApp, n: usize, from: usize) {
    let op = operator(t).await;
    let now = Utc::now();
    for i in from..from + n {
        t.app
            .create_ticket_at(
                &op,
                request(
                    "小区门口井盖破损",
                    "0101",
                    "630102001005",
                    &format!("1380000{i:04}"),
                ),
                None,
                now - Duration::seconds(30 - i as i64),
            )
            .await
            .unwrap();
    }
}

async fn warnings_are_found_told_and_handled(t: &TestApp) {
    quiet_history(t).await;
    today(t, 9, 0).await;
    // A repeat caller: three requests on different matters and places.
    let op = operator(t).await;
    for (content, category, division) in [
        ("噪音扰民", "0301", "630103001003"),
        ("咨询社保", "0502", "630104001002"),
        ("物业不作为", "0103", "630105001001"),
    ] {
        t.app
            .create_ticket_at(
                &op,
                request(content, category, division, "13911112222"),
                None,
                Utc::now() - Duration::minutes(5),
            )
            .await
            .unwrap();
    }

    // Another system subscribed to warnings (loopback; nothing is sent in this test).
    let hooks = json!([{"name": "leaders-chat", "url": "http://127.0.0.1:9/hook",
                        "secret": "a-shared-secret-of-some-length", "events": ["warning_raised"]}]);
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

    let r = t
        .post("/api/v1/warnings/scan", "supervisor", json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // 0101 surges in the city and in 城东区; one cluster; one repeat caller.
    assert_eq!(r.body["surges"], 2, "{}", r.body);
    assert_eq!(r.body["clusters"], 1, "{}", r.body);
    assert_eq!(r.body["repeat_callers"], 1, "{}", r.body);
    assert_eq!(r.body["told"], 4, "{}", r.body);

    let r = t.get("/api/v1/warnings?status=open", "analyst").await;
    assert_eq!(r.status, StatusCode::OK);
    let items = r.body["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 4);
    let of = |kind: &str| -> Vec<Value> {
        items
            .iter()
            .filter(|w| w["kind"] == kind)
            .cloned()
            .collect()
    };
    let surges = of("surge");
    assert_eq!(surges.len(), 2);
    for s in &surges {
        assert_eq!(s["detail"]["observed"], 9, "{s}");
        assert!(s["detail"]["expected"].as_f64().unwrap() < 2.0, "{s}");
        assert_eq!(
            s["level"], "orange",
            "nine times the baseline, under twice the minimum"
        );
        assert!(
            s["detail"]["link"]
                .as_str()
                .unwrap()
                .contains("category=0101")
        );
        assert!(s["ticket_id"].is_i64());
    }
    assert!(
        surges
            .iter()
            .any(|s| s["detail"]["division_code"] == "630102"
                && s["title"].as_str().unwrap().contains("城东区"))
    );
    let cluster = &of("cluster")[0];
    assert_eq!(cluster["level"], "orange");
    assert_eq!(cluster["detail"]["requests"], 9);
    assert_eq!(cluster["detail"]["people"], 9);
    assert_eq!(cluster["detail"]["place"], "630102001005");
    assert_eq!(cluster["detail"]["ticket_ids"].as_array().unwrap().len(), 9);
    // Each ticket named by its number too, as people read them.
    let numbers = cluster["detail"]["ticket_numbers"].as_array().unwrap();
    assert_eq!(numbers.len(), 9);
    let first_id = cluster["detail"]["ticket_ids"][0].as_i64().unwrap();
    let first = t
        .get(&format!("/api/v1/tickets/{first_id}"), "dispatcher")
        .await
        .body;
    assert_eq!(numbers[0], first["number"]);
    let caller = &of("repeat_caller")[0];
    assert_eq!(caller["level"], "yellow");
    assert_eq!(caller["detail"]["phone"], "139****2222");
    assert!(
        !caller.to_string().contains("13911112222"),
        "the number is never shown whole: {caller}"
    );

    // Told to supervisors and analysts in the console, once each.
    let notices = t
        .app
        .store()
        .console_notices(&["role:supervisor".to_string()], None, 100)
        .await
        .unwrap();
    let warned: Vec<_> = notices
        .iter()
        .filter(|n| n.payload.contains("/warnings"))
        .collect();
    assert_eq!(warned.len(), 4, "{warned:?}");
    assert!(warned.iter().any(|n| n.payload.contains("橙色预警")));

    // And to the subscribed webhook, one delivery each, the number masked.
    let webhook_rows = |body: &Value| -> Vec<Value> {
        body.as_array()
            .unwrap()
            .iter()
            .filter(|n| n["recipient"] == "leaders-chat")
            .cloned()
            .collect()
    };
    let r = t.get("/api/v1/outbox?channel=webhook", "admin").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let sent = webhook_rows(&r.body);
    assert_eq!(sent.len(), 4, "{sent:?}");
    let text = serde_json::to_string(&sent).unwrap();
    assert!(
        text.contains("warning_raised") && text.contains("repeat_caller"),
        "{text}"
    );
    assert!(!text.contains("13911112222"), "{text}");

    // Found again unchanged: nothing new.
    let r = t
        .post("/api/v1/warnings/scan", "supervisor", json!({}))
        .await;
    assert_eq!(r.body["told"], 0, "{}", r.body);
    let r = t.get("/api/v1/outbox?channel=webhook", "admin").await;
    assert_eq!(webhook_rows(&r.body).len(), 4, "nothing sent twice");

    // Handled: acknowledged with a note.
    let id = cluster["id"].as_i64().unwrap();
    let r = t
        .post(
            &format!("/api/v1/warnings/{id}/handle"),
            "supervisor",
            json!({"status": "acknowledged", "note": "已联系社区核实"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "acknowledged");
    assert_eq!(r.body["note"], "已联系社区核实");
    let r = t.get(&format!("/api/v1/warnings/{id}"), "dispatcher").await;
    assert_eq!(r.body["status"], "acknowledged");

    // Worse: two more today make the surges and the cluster red, told again, open again.
    today(t, 2, 9).await;
    let r = t
        .post("/api/v1/warnings/scan", "supervisor", json!({}))
        .await;
    assert_eq!(r.body["told"], 3, "{}", r.body);
    let r = t.get(&format!("/api/v1/warnings/{id}"), "supervisor").await;
    assert_eq!(r.body["level"], "red");
    assert_eq!(r.body["status"], "open");

    // Refusals: by name, by role, not found.
    let r = t
        .post(
            &format!("/api/v1/warnings/{id}/handle"),
            "supervisor",
            json!({"status": "closed"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["error"]["field"], "status");
    let r = t
        .post(
            &format!("/api/v1/warnings/{id}/handle"),
            "dispatcher",
            json!({"status": "dismissed"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = t
        .post(
            "/api/v1/warnings/999999/handle",
            "supervisor",
            json!({"status": "dismissed"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("warning")
    );
    let r = t.get("/api/v1/warnings?status=bogus", "supervisor").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["error"]["field"], "status");
    let r = t.get("/api/v1/warnings", "operator").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = t.get("/api/v1/warnings/abc", "supervisor").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // The thresholds: read by watchers, set by administrators, checked by name.
    let r = t.get("/api/v1/policy/warnings", "supervisor").await;
    assert_eq!(r.body["surge_min_requests"], 5);
    let put = |who: &'static str, body: Value| {
        t.raw(
            reqwest::Method::PUT,
            "/api/v1/policy/warnings",
            Some(who),
            Some(body.to_string()),
            &[],
        )
    };
    let r = put("admin", json!({"surge_max_p": 0})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["error"]["field"], "surge_max_p");
    let r = put("admin", json!({"repeat_days": "many"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["error"]["field"], "repeat_days");
    let r = put("admin", json!({"unknown": 1})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = put("supervisor", json!({"repeat_min_requests": 4})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = put(
        "admin",
        json!({"repeat_min_requests": 4, "repeat_orange": 6}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["repeat_min_requests"], 4);
    assert_eq!(
        r.body["surge_min_requests"], 5,
        "others keep their defaults"
    );

    // The list as Excel.
    let r = t
        .client
        .get(format!("{}/api/v1/warnings.xlsx?status=all", t.base))
        .bearer_auth(&t.tokens["supervisor"])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    assert_eq!(&r.bytes().await.unwrap()[..2], b"PK");
}

async fn clusters_beyond_the_newest_tickets_come_from_the_rollups(t: &TestApp) {
    // Nine requests at one community, then six newer ones elsewhere: with only the newest
    // five read, the cluster is found from the roll-ups and its tickets read on their own.
    today(t, 9, 0).await;
    let op = operator(t).await;
    for i in 0..6 {
        t.app
            .create_ticket_at(
                &op,
                request(
                    "咨询社保",
                    "0502",
                    "630104001002",
                    &format!("1360000{i:04}"),
                ),
                None,
                Utc::now() - Duration::seconds(5 - i),
            )
            .await
            .unwrap();
    }
    // Praise from four people at one community, one of them four times: no problem to warn of.
    for i in 0..7 {
        let mut body = request(
            "表扬社区工作人员",
            "1201",
            "630103001003",
            &format!("1350000{:04}", i.min(3)),
        );
        body["kind"] = json!("praise");
        t.app
            .create_ticket_at(&op, body, None, Utc::now() - Duration::minutes(10))
            .await
            .unwrap();
    }
    let mut app = t.app.clone();
    app.config.recent_tickets = 5;
    let report = app
        .scan_warnings_at(&mashangban_app::SERVER, Utc::now())
        .await
        .unwrap();
    assert_eq!(report.clusters, 2, "{report:?}");
    assert_eq!(report.repeat_callers, 0, "{report:?}");
    let r = t.get("/api/v1/warnings?status=open", "analyst").await;
    let items = r.body["items"].as_array().unwrap();
    let at = |place: &str| {
        items
            .iter()
            .find(|w| w["kind"] == "cluster" && w["detail"]["place"] == place)
            .unwrap_or_else(|| panic!("no cluster at {place}: {items:?}"))
            .clone()
    };
    let c = at("630102001005");
    assert_eq!(
        (
            c["detail"]["requests"].as_i64(),
            c["detail"]["people"].as_i64()
        ),
        (Some(9), Some(9))
    );
    assert_eq!(c["detail"]["ticket_ids"].as_array().unwrap().len(), 9);
    assert_eq!(at("630104001002")["detail"]["requests"], 6);
}

async fn forecast_and_hot_issues(t: &TestApp) {
    quiet_history(t).await;
    today(t, 6, 0).await;
    let r = t.get("/api/v1/forecast", "analyst").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let total = &r.body["total"];
    let days = total["days"].as_array().unwrap();
    assert_eq!(days.len(), 14);
    let today_bj = (Utc::now() + Duration::hours(8)).date_naive();
    assert_eq!(days[0]["date"], today_bj.to_string(), "from today on");
    for d in days {
        let (e, lo, hi) = (
            d["expected"].as_f64().unwrap(),
            d["low"].as_f64().unwrap(),
            d["high"].as_f64().unwrap(),
        );
        assert!(lo <= e && e <= hi && lo >= 0.0, "{d}");
        assert!((0.3..3.0).contains(&e), "about one a day: {d}");
    }
    assert!(total["backtest"]["days"].as_u64().unwrap() > 0);
    assert!(total["backtest"]["wape"].is_number());
    let channels = r.body["channels"].as_array().unwrap();
    assert_eq!(channels.len(), 1);
    assert_eq!(channels[0]["channel"], "web");
    let r = t.get("/api/v1/forecast?days=40", "analyst").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["error"]["field"], "days");

    // Today's six alike requests at one place are the hottest issue of the week.
    let r = t.get("/api/v1/hot-issues?days=7&top=5", "supervisor").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let top = &r.body["items"][0];
    assert_eq!(top["rank"], 1);
    assert_eq!(top["requests"], 6, "{top}");
    assert_eq!(top["people"], 6);
    assert_eq!(top["category_code"], "0101");
    assert_eq!(top["ticket_ids"].as_array().unwrap().len(), 6);
    let r = t.get("/api/v1/hot-issues?days=0", "supervisor").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["error"]["field"], "days");
    for path in ["/api/v1/hot-issues.xlsx", "/api/v1/forecast.xlsx"] {
        let r = t
            .client
            .get(format!("{}{path}", t.base))
            .bearer_auth(&t.tokens["analyst"])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(&r.bytes().await.unwrap()[..2], b"PK");
    }
}
