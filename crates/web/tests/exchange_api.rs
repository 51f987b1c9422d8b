//! Exchange with other platforms from the outside: platforms configured with their keys,
//! requests handed over (signed, once per external id, refusals writing nothing), status
//! changes posted back signed, requests handed out (转出) and the first-receiver rule.

mod common;

use common::TestApp;
use common::channels::{receiver, signed_posts};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Posts a request handed over, signed with `secret` at `ts` (now if none).
async fn hand_over(
    t: &TestApp,
    platform: &str,
    secret: &str,
    body: &Value,
    ts: Option<i64>,
) -> (StatusCode, Value) {
    let body = body.to_string();
    let ts = ts.unwrap_or_else(|| chrono::Utc::now().timestamp());
    let sig = mashangban_app::notify::signature(secret, ts, &body);
    let r = t
        .client
        .post(format!("{}/api/v1/exchange/inbound", t.base))
        .header("content-type", "application/json")
        .header("x-mashangban-platform", platform)
        .header("x-mashangban-timestamp", ts.to_string())
        .header("x-mashangban-signature", format!("sha256={sig}"))
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn count(t: &TestApp, channel: &str) -> usize {
    t.get(
        &format!("/api/v1/tickets?channel={channel}&limit=100"),
        "operator",
    )
    .await
    .body["items"]
        .as_array()
        .unwrap()
        .len()
}

async fn send(t: &TestApp) {
    let delivery = mashangban_app::notify::Delivery::logging(None);
    t.app
        .send_notices_at(&delivery, chrono::Utc::now(), 100)
        .await
        .unwrap();
}

async fn platforms_hand_over_and_hear_back(t: &TestApp) {
    let (seen, url) = receiver().await;
    // Platforms are the administrators'.
    let body = json!({"name": "青海省12345平台", "channel": "province", "webhook_url": url});
    assert_eq!(
        t.put(
            "/api/v1/exchange/platforms/province",
            "dispatcher",
            body.clone()
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let bad = t
        .put(
            "/api/v1/exchange/platforms/province",
            "admin",
            json!({"name": "省平台", "channel": "nowhere"}),
        )
        .await;
    assert_eq!(
        (bad.status, bad.body["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("channel"))
    );
    let made = t
        .put("/api/v1/exchange/platforms/province", "admin", body.clone())
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let secret = made.body["secret"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 48);
    let again = t
        .put("/api/v1/exchange/platforms/province", "admin", body)
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["secret"], secret.as_str(), "the key stays");
    let listed = t.get("/api/v1/exchange/platforms", "admin").await;
    assert_eq!(listed.body["items"][0]["code"], "province");

    // A request handed over, once however often it is sent.
    let request = json!({
        "external_id": "QH-2026-000123",
        "due_at": "2026-12-20T02:00:00Z",
        "content": "省平台转办：城东区某小区冬季供暖温度不达标，多次反映未解决。",
        "address": "西宁市城东区东关大街",
        "citizen": {"name": "王某", "phone": "13907001234"},
    });
    let (s, first) = hand_over(t, "province", &secret, &request, None).await;
    assert_eq!(s, StatusCode::CREATED, "{first}");
    assert_eq!(first["replay"], false);
    let (s, replay) = hand_over(t, "province", &secret, &request, None).await;
    assert_eq!((s, &replay["number"]), (StatusCode::OK, &first["number"]));
    assert_eq!(replay["replay"], true);
    assert_eq!(count(t, "province").await, 1);
    let items = t
        .get("/api/v1/tickets?channel=province", "operator")
        .await
        .body;
    let id = items["items"][0]["id"].as_i64().unwrap();
    let ticket = t
        .get(&format!("/api/v1/tickets/{id}"), "operator")
        .await
        .body;
    assert_eq!(ticket["channel_detail"], "province:QH-2026-000123");
    assert_eq!(
        ticket["exchange"],
        json!({"platform": "province", "external_id": "QH-2026-000123", "due_at": "2026-12-20T02:00:00Z"})
    );

    // Refusals write nothing: another body under the same id, a wrong key, an unknown
    // platform, an old signature, a bad field.
    let mut changed = request.clone();
    changed["content"] = json!("另一件事：路灯不亮已经很久了。");
    let (s, e) = hand_over(t, "province", &secret, &changed, None).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    let (s, _) = hand_over(t, "province", "not-the-key", &request, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = hand_over(t, "national", &secret, &request, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let old = chrono::Utc::now().timestamp() - 3600;
    let (s, _) = hand_over(t, "province", &secret, &request, Some(old)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, e) = hand_over(
        t,
        "province",
        &secret,
        &json!({"external_id": "with space", "content": "内容足够长的诉求"}),
        None,
    )
    .await;
    assert_eq!(
        (s, e["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("external_id"))
    );
    let (s, e) = hand_over(
        t,
        "province",
        &secret,
        &json!({"external_id": "QH-9", "content": "内容\u{7}含控制字符"}),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(count(t, "province").await, 1);

    // The first receiver keeps it: handing it back without the platform's agreement is
    // refused and it stays.
    let back = t
        .raw(
            reqwest::Method::POST,
            &format!("/api/v1/tickets/{id}/transfer-out"),
            Some("dispatcher"),
            Some(json!({"to": "province", "reason": "非本市职责"}).to_string()),
            &[],
        )
        .await;
    assert_eq!(
        (back.status, back.body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("first_receiver")),
        "{}",
        back.body
    );
    assert_eq!(t.state(id).await, "received");

    // Dispatched, answered: each change of what the citizen sees goes back, signed.
    t.bring_to(id, "awaiting_callback").await;
    send(t).await;
    let got = signed_posts(&seen, &secret);
    let states: Vec<&str> = got.iter().map(|p| p["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["transferred", "handling", "answered"], "{got:?}");
    for p in &got {
        assert_eq!(p["type"], "status");
        assert_eq!(p["platform"], "province");
        assert_eq!(p["external_id"], "QH-2026-000123");
        assert_eq!(p["number"], first["number"]);
    }
    assert_eq!(got[2]["answer"], "已处理");
    assert_eq!(got[2]["state_label"], "已答复");
}

async fn requests_are_handed_out_and_counted_apart(t: &TestApp) {
    let (seen, url) = receiver().await;
    let made = t
        .put(
            "/api/v1/exchange/platforms/110",
            "admin",
            json!({"name": "西宁市公安局110指挥中心", "channel": "police_110", "webhook_url": url}),
        )
        .await;
    let secret = made.body["secret"].as_str().unwrap().to_string();
    let fight = t.create("小区门口有人打架，已经有人受伤了").await;
    let unknown = t
        .raw(
            reqwest::Method::POST,
            &format!("/api/v1/tickets/{fight}/transfer-out"),
            Some("operator"),
            Some(json!({"to": "999", "reason": "治安事件"}).to_string()),
            &[],
        )
        .await;
    assert_eq!(
        (unknown.status, unknown.body["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("to"))
    );
    let out = t
        .act(
            fight,
            "transfer-out",
            "operator",
            json!({"to": "110", "reason": "治安事件，属公安110职责"}),
        )
        .await;
    assert_eq!(out["state"], "transferred");
    assert_eq!(out["transfer"]["to"], "110");
    // The fire line is not connected: the transfer is recorded (the operator hands it over by phone).
    let fire = t.create("楼道里堆放杂物起火冒烟").await;
    t.act(
        fire,
        "transfer-out",
        "operator",
        json!({"to": "119", "reason": "火情，已三方转接119"}),
    )
    .await;
    assert_eq!(t.state(fire).await, "transferred");
    // A request handed out is not handed out again, nor dispatched.
    let again = t
        .raw(
            reqwest::Method::POST,
            &format!("/api/v1/tickets/{fight}/dispatch"),
            Some("dispatcher"),
            Some(json!({"lead_unit_id": t.lead_unit, "tier": 3}).to_string()),
            &[],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);

    send(t).await;
    let got = signed_posts(&seen, &secret);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["type"], "transfer");
    assert_eq!(got[0]["content"], "小区门口有人打架，已经有人受伤了");
    assert_eq!(got[0]["reason"], "治安事件，属公安110职责");

    // The citizen reads where it went; the figures count it apart.
    let kpis = t.get("/api/v1/kpis", "analyst").await.body;
    assert_eq!(kpis["rows"][0]["transferred_out"], 2, "{kpis}");
    // The console's table and the workbook say it too.
    use mashangban_app::auth::UserInput;
    t.app
        .add_user(
            &mashangban_app::SERVER,
            UserInput {
                username: "analyst-web".into(),
                display_name: None,
                role: mashangban_domain::Role::Analyst,
                unit_id: None,
                password: Some("a-long-password".into()),
            },
        )
        .await
        .unwrap();
    let analyst = common::console::Browser::open(t, "analyst-web").await;
    let (_, html) = analyst.page("/kpis").await;
    assert!(html.contains("（转出2）"), "the console's table counts it");
}

on_both!(
    platforms_hand_over_and_hear_back,
    requests_are_handed_out_and_counted_apart
);
