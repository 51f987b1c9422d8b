//! Channels and merged hotlines as data (多口归一), on both backends: the shipped defaults,
//! an administrator adding, renaming and closing channels and lines, intake refusing a
//! closed or unknown channel and a merged-hotline call without an open line, a line's
//! category given to a request that names none, and the names in the KPIs, the daily
//! report and the console.

mod common;

use common::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both!(
    the_defaults_are_shipped_and_administrators_keep_them,
    intake_takes_only_open_channels_and_lines,
    a_new_channel_is_counted_by_its_kind_and_named,
    the_console_keeps_channels_and_lines
);

fn codes(body: &Value, key: &str) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c[key].as_str().unwrap().to_string())
        .collect()
}

async fn the_defaults_are_shipped_and_administrators_keep_them(t: &TestApp) {
    // Every staff member reads them; the order is the shipped one.
    let r = t.get("/api/v1/channels", "lead").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        codes(&r.body, "code"),
        [
            "phone",
            "merged_line",
            "web",
            "app",
            "wechat",
            "mini_program",
            "sms",
            "mailbox",
            "people_board",
            "email",
            "open311",
            "grid",
            "police_110",
            "province",
            "visit",
            "other"
        ]
    );
    let first = &r.body["items"][0];
    assert_eq!(
        first,
        &json!({"code": "phone", "name": "12345热线", "name_en": "12345 hotline",
                "kind": "phone", "active": true, "built_in": true})
    );
    let r = t.get("/api/v1/lines", "operator").await;
    assert_eq!(
        codes(&r.body, "number"),
        [
            "12315", "12318", "12319", "12320", "12333", "12369", "12393"
        ]
    );
    let eco = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["number"] == "12369")
        .unwrap()
        .clone();
    assert_eq!(eco["name"], "环保举报热线");
    assert_eq!(eco["category_code"], "03");
    assert_eq!(eco["unit_id"], json!(t.unit_id("DEPT-STHJ").await));

    // An administrator adds a channel (201), renames it (200); others may not.
    let douyin = json!({"name": "抖音", "name_en": "Douyin", "kind": "app", "active": true});
    let r = t
        .put("/api/v1/channels/douyin", "admin", douyin.clone())
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["built_in"], false);
    let r = t
        .put(
            "/api/v1/channels/douyin",
            "admin",
            json!({"name": "抖音政务号", "name_en": "Douyin", "kind": "app", "active": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = t
        .put("/api/v1/channels/kuaishou", "dispatcher", douyin.clone())
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let all = t.get("/api/v1/channels", "admin").await.body;
    assert_eq!(
        codes(&all, "code").last().map(String::as_str),
        Some("douyin")
    );
    assert_eq!(all["items"][16]["name"], "抖音政务号");
    // Refused, naming the field: a bad code, an empty name, an unknown kind, closing a
    // channel the product serves, unknown fields.
    for (path, body, field) in [
        ("/api/v1/channels/Dou-yin", douyin.clone(), "code"),
        (
            "/api/v1/channels/douyin",
            json!({"name": " ", "name_en": "x", "kind": "app", "active": true}),
            "name",
        ),
        (
            "/api/v1/channels/douyin",
            json!({"name": "抖音", "name_en": "x", "kind": "tv", "active": true}),
            "kind",
        ),
        (
            "/api/v1/channels/web",
            json!({"name": "政府网站", "name_en": "Website", "kind": "online", "active": false}),
            "active",
        ),
        (
            "/api/v1/channels/douyin",
            json!({"name": "抖音", "name_en": "x", "kind": "app", "active": true, "colour": "red"}),
            "colour",
        ),
    ] {
        let r = t.put(path, "admin", body).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {}",
            r.body
        );
        assert_eq!(r.body["error"]["field"], field, "{path}: {}", r.body);
    }
    // Lines: added, changed; a category or unit that does not exist is refused.
    let r = t
        .put(
            "/api/v1/lines/12388",
            "admin",
            json!({"name": "纪检监察举报", "active": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["category_code"], Value::Null);
    for (path, body, field) in [
        (
            "/api/v1/lines/12388",
            json!({"name": "x", "category_code": "9999", "active": true}),
            "category_code",
        ),
        (
            "/api/v1/lines/12388",
            json!({"name": "x", "unit_id": 999999, "active": true}),
            "unit_id",
        ),
        (
            "/api/v1/lines/1x",
            json!({"name": "x", "active": true}),
            "number",
        ),
    ] {
        let r = t.put(path, "admin", body).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {}",
            r.body
        );
        assert_eq!(r.body["error"]["field"], field, "{path}: {}", r.body);
    }
    let r = t
        .put(
            "/api/v1/lines/12388",
            "lead",
            json!({"name": "x", "active": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn intake_takes_only_open_channels_and_lines(t: &TestApp) {
    let take = |body: Value| async move { t.post("/api/v1/tickets", "operator", body).await };
    let request = |channel: &str| {
        json!({"channel": channel, "kind": "complaint", "content": "小区门口的垃圾三天没有清运",
               "citizen": {"phone": "13907713333"}})
    };
    // A channel no one made, or not a code at all.
    for channel in ["fax", "Fax!"] {
        let r = take(request(channel)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(r.body["error"]["field"], "channel", "{}", r.body);
    }
    let r = take(request("fax")).await;
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("people_board"),
        "the message lists the channels: {}",
        r.body
    );
    // A channel of the defaults, then closed: new requests refused, old ones kept.
    let r = take(request("people_board")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let kept = r.body["id"].as_i64().unwrap();
    let r = t
        .put(
            "/api/v1/channels/people_board",
            "admin",
            json!({"name": "人民网留言板", "name_en": "People's Daily message board",
                   "kind": "online", "active": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = take(request("people_board")).await;
    assert_eq!(r.body["error"]["field"], "channel", "{}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("closed"),
        "{}",
        r.body
    );
    let r = t.get(&format!("/api/v1/tickets/{kept}"), "operator").await;
    assert_eq!(r.body["channel"], "people_board");
    // Its tickets are still found by it; a channel no one made is refused as a filter.
    let r = t
        .get("/api/v1/tickets?channel=people_board", "dispatcher")
        .await;
    assert_eq!(r.body["items"][0]["id"], kept, "{}", r.body);
    let r = t.get("/api/v1/tickets?channel=fax", "dispatcher").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["error"]["field"], "channel", "{}", r.body);

    // A merged hotline: the line is required and must be open; its category is given
    // when the request names none, and not when it names one.
    let mut call = request("merged_line");
    let r = take(call.clone()).await;
    assert_eq!(r.body["error"]["field"], "channel_detail", "{}", r.body);
    call["channel_detail"] = json!("12399");
    let r = take(call.clone()).await;
    assert_eq!(r.body["error"]["field"], "channel_detail", "{}", r.body);
    call["channel_detail"] = json!(" 12369 ");
    let r = take(call.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        (&r.body["channel_detail"], &r.body["category_code"]),
        (&json!("12369"), &json!("03"))
    );
    call["category_code"] = json!("030201");
    let r = take(call.clone()).await;
    assert_eq!(r.body["category_code"], "030201", "{}", r.body);
    let r = t
        .put(
            "/api/v1/lines/12369",
            "admin",
            json!({"name": "环保举报热线", "category_code": "03", "active": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = take(call).await;
    assert_eq!(r.body["error"]["field"], "channel_detail", "{}", r.body);
}

async fn a_new_channel_is_counted_by_its_kind_and_named(t: &TestApp) {
    let r = t
        .put(
            "/api/v1/channels/hotline_110",
            "admin",
            json!({"name": "110联动", "name_en": "110 link", "kind": "exchange", "active": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    for channel in ["hotline_110", "hotline_110", "phone"] {
        let r = t
            .post(
                "/api/v1/tickets",
                "operator",
                json!({"channel": channel, "kind": "help", "content": "邻居家漏水到我家天花板",
                       "citizen": {"phone": "13907714444"}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    // The daily report: calls 1; the new channel among the other channels, by its name.
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let r = t
        .get(&format!("/api/v1/reports/daily?date={today}"), "analyst")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["calls"], 1, "{}", r.body);
    assert_eq!(r.body["other"], 2, "{}", r.body);
    let summary = r.body["summary"].as_str().unwrap();
    assert!(summary.contains("其他渠道2件（110联动2件）"), "{summary}");
    // The KPI table by channel names it.
    let r = t.get("/api/v1/kpis?group_by=channel", "analyst").await;
    let row = r.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["group"] == "hotline_110")
        .unwrap_or_else(|| panic!("{}", r.body))
        .clone();
    assert_eq!(
        (row["name"].as_str(), row["requests"].as_u64()),
        (Some("110联动"), Some(2))
    );
    // By merged hotline: each line its own row, named (unranked: in the order of their
    // numbers).
    for line in ["12369", "12369", "12315"] {
        let r = t
            .post(
                "/api/v1/tickets",
                "operator",
                json!({"channel": "merged_line", "channel_detail": line, "kind": "complaint",
                       "content": "工地夜间施工噪音很大", "citizen": {"phone": "13907715555"}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let r = t.get("/api/v1/kpis?group_by=line", "analyst").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let rows: Vec<(String, String, u64)> = r.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["group"].as_str().unwrap().to_string(),
                row["name"].as_str().unwrap().to_string(),
                row["requests"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                "12315".to_string(),
                "12315 市场监管投诉举报热线".to_string(),
                1
            ),
            ("12369".to_string(), "12369 环保举报热线".to_string(), 2),
        ]
    );
    // The daily report counts the merged hotlines with the calls.
    let r = t
        .get(&format!("/api/v1/reports/daily?date={today}"), "analyst")
        .await;
    assert_eq!(r.body["calls"], 4, "{}", r.body);
}

/// The console's page, through the same use cases: an administrator adds a channel and a
/// line, closes the channel; the intake form offers the open channels and lines only.
async fn the_console_keeps_channels_and_lines(t: &TestApp) {
    use common::console::Browser;
    let admin = Browser::new_user(t, "admin-web", "admin").await;
    let operator = Browser::new_user(t, "op-web", "operator").await;
    let (status, html) = admin.page("/admin/channels").await;
    assert_eq!(status, StatusCode::OK);
    for text in [
        "人民网留言板",
        "省平台转办",
        "12369",
        "环保举报热线",
        "西宁市生态环境局",
    ] {
        assert!(html.contains(text), "{text} on the page");
    }
    assert_eq!(
        operator.page("/admin/channels").await.0,
        StatusCode::FORBIDDEN
    );
    let (status, location, body) = admin
        .post(
            "/admin/channels",
            &[
                ("code", "douyin"),
                ("name", "抖音"),
                ("name_en", "Douyin"),
                ("kind", "app"),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(location.as_deref(), Some("/admin/channels?saved=1"));
    let (status, _, body) = admin
        .post(
            "/admin/channels/lines",
            &[
                ("number", "12388"),
                ("name", "纪检监察举报"),
                ("category_code", ""),
                ("unit_id", ""),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let (_, html) = operator.page("/intake").await;
    assert!(html.contains("value=\"douyin\""), "the new channel offered");
    assert!(html.contains("12388 纪检监察举报"), "the new line offered");
    // Closed (the box left unticked): no longer offered; a refusal names the field.
    let (status, _, _) = admin
        .post(
            "/admin/channels",
            &[
                ("code", "douyin"),
                ("name", "抖音"),
                ("name_en", "Douyin"),
                ("kind", "app"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = operator.page("/intake").await;
    assert!(
        !html.contains("value=\"douyin\""),
        "a closed channel is not offered"
    );
    let (status, _, body) = admin
        .post(
            "/admin/channels",
            &[
                ("code", "Bad Code"),
                ("name", "x"),
                ("name_en", "x"),
                ("kind", "app"),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("role=\"alert\""), "{body}");
    // A call on 12369 with no category: its dispatch proposes the line's owner.
    let call = t
        .post(
            "/api/v1/tickets",
            "operator",
            json!({"channel": "merged_line", "channel_detail": "12369", "kind": "complaint",
                   "content": "夜里有人往河里倒垃圾"}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let ecology = t.unit_id("DEPT-STHJ").await;
    let dispatcher = Browser::new_user(t, "disp-web", "dispatcher").await;
    let (_, html) = dispatcher.page(&format!("/tickets/{call}")).await;
    // (The first unit list on the page is the dispatch form's lead unit.)
    let option = html
        .split(&format!("<option value=\"{ecology}\""))
        .nth(1)
        .and_then(|o| o.split('>').next())
        .unwrap_or("");
    assert!(
        option.contains("selected"),
        "the line's owner proposed: {option}"
    );
    // A platform to exchange requests with: added with its key, shown to the administrator;
    // a bad address is refused by name.
    let (status, location, body) = admin
        .post(
            "/admin/channels/platforms",
            &[
                ("code", "national"),
                ("name", "国家政务服务平台"),
                ("channel", "province"),
                ("webhook_url", "https://gjzwfw.example.gov.cn/hook"),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(
        location.as_deref(),
        Some("/admin/channels?saved=1#platforms")
    );
    let secret = t.get("/api/v1/exchange/platforms", "admin").await.body["items"][0]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, html) = admin.page("/admin/channels").await;
    assert!(html.contains("国家政务服务平台") && html.contains(&secret));
    let (status, _, body) = admin
        .post(
            "/admin/channels/platforms",
            &[
                ("code", "national"),
                ("name", "国家政务服务平台"),
                ("channel", "province"),
                ("webhook_url", "ftp://nowhere"),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("webhook_url"), "the refusal names the field");
}
