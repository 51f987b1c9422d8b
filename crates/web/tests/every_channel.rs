//! Every channel in, every answer back the way it came (多口归一): a call on a merged hotline,
//! an Open311 client's post, a WeChat follower's dialogue, a citizen's SMS and a request the
//! provincial platform hands over each appear in the console with their channel (and line),
//! are dispatched and answered, and the approved answer goes back by the channel's own road —
//! an SMS, the Open311 request's `status_notes`, a WeChat template message, a signed post
//! to the platform.

mod common;

use common::channels::{
    RecordingSms, Seen, content, fake_wechat, plain, receiver, signed_posts, text, wechat_config,
};
use common::console::Browser;
use common::{Db, SMS_SECRET, TestApp};
use mashangban_app::auth::UserInput;
use mashangban_domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

const ANSWER: &str = "已处理";

async fn form(t: &TestApp, path: &str, pairs: &[(&str, &str)]) -> Value {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let r = t
        .client
        .post(format!("{}{path}", t.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn signed(
    t: &TestApp,
    path: &str,
    secret: &str,
    body: Value,
    extra: &[(&str, &str)],
) -> Value {
    let body = body.to_string();
    let ts = chrono::Utc::now().timestamp();
    let sig = format!(
        "sha256={}",
        mashangban_app::notify::signature(secret, ts, &body)
    );
    let ts = ts.to_string();
    let mut headers = vec![
        ("x-mashangban-timestamp", ts.as_str()),
        ("x-mashangban-signature", sig.as_str()),
    ];
    headers.extend_from_slice(extra);
    let r = t
        .raw(reqwest::Method::POST, path, None, Some(body), &headers)
        .await;
    assert!(r.status.is_success(), "{path}: {}", r.body);
    r.body
}

/// The ticket a channel took, by its number.
async fn ticket(t: &TestApp, number: &str) -> Value {
    let id = t
        .get(&format!("/api/v1/tickets/search?q={number}"), "dispatcher")
        .await
        .body["items"][0]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("{number} is found"));
    t.get(&format!("/api/v1/tickets/{id}"), "operator")
        .await
        .body
}

async fn every_channel_answers_the_way_it_came(t: &TestApp, wechat: &Mutex<Seen>) {
    // The provincial platform, and an Open311 client's key.
    let (posts, url) = receiver().await;
    let platform = t
        .put(
            "/api/v1/exchange/platforms/province",
            "admin",
            json!({"name": "青海省12345平台", "channel": "province", "webhook_url": url}),
        )
        .await
        .body;
    let secret = platform["secret"].as_str().unwrap().to_string();
    let key = t
        .post(
            "/api/v1/api-keys",
            "admin",
            json!({"client": "FixMyStreet"}),
        )
        .await
        .body["key"]
        .as_str()
        .unwrap()
        .to_string();

    // 1. A call on the merged environmental line 12369, taken by an operator.
    let call = t
        .post(
            "/api/v1/tickets",
            "operator",
            json!({"channel": "merged_line", "channel_detail": "12369", "kind": "complaint",
                   "content": "湟水河边有工厂夜里偷排污水，气味很大", "citizen": {"phone": "13907001111"}}),
        )
        .await
        .body;
    let call_number = call["number"].as_str().unwrap().to_string();
    // 2. An Open311 client's post.
    let o311 = form(
        t,
        "/open311/v2/requests.json",
        &[
            ("api_key", &key),
            ("service_code", "010103"),
            ("description", "北关社区门口的路灯坏了一个多星期，晚上很黑"),
            ("address_string", "城东区东关大街北关社区"),
        ],
    )
    .await;
    let o311_number = o311[0]["service_request_id"].as_str().unwrap().to_string();
    // 3. A WeChat follower's dialogue.
    let o = "oEveryChannel0001";
    plain(t, &text(o, "5001", "小区门口的下水道堵了，污水漫到路上")).await;
    plain(t, &text(o, "5002", "城中区南关街12号")).await;
    let (_, said) = plain(t, &text(o, "5003", "1")).await;
    let said = content(&said);
    let wechat_number = said
        .split("编号 ")
        .nth(1)
        .and_then(|s| s.split('。').next())
        .unwrap_or_else(|| panic!("{said}"))
        .to_string();
    // 4. A citizen's SMS.
    let sms = signed(
        t,
        "/api/v1/channels/sms/inbound",
        SMS_SECRET,
        json!({"message_id": "gw-e2e-1", "from": "13907002222", "text": "楼下烧烤店油烟太大，晚上十二点还在营业"}),
        &[],
    )
    .await;
    let sms_number = sms["number"].as_str().unwrap().to_string();
    // 5. The provincial platform hands a request over.
    let handed = signed(
        t,
        "/api/v1/exchange/inbound",
        &secret,
        json!({"external_id": "QH-E2E-1", "content": "省平台转办：城北区某小区电梯长期故障无人维修",
               "citizen": {"phone": "13907003333"}}),
        &[("x-mashangban-platform", "province")],
    )
    .await;
    let province_number = handed["number"].as_str().unwrap().to_string();

    // Each in the console with its channel (and line).
    t.app
        .add_user(
            &mashangban_app::SERVER,
            UserInput {
                username: "e2e-op".into(),
                display_name: None,
                role: Role::Operator,
                unit_id: None,
                password: Some("a-long-password".into()),
            },
        )
        .await
        .unwrap();
    let desk = Browser::open(t, "e2e-op").await;
    let cases = [
        (&call_number, "merged_line", "整合热线"),
        (&o311_number, "open311", "Open311接口"),
        (&wechat_number, "wechat", "微信公众号"),
        (&sms_number, "sms", "短信"),
        (&province_number, "province", "省平台转办"),
    ];
    let mut ids = Vec::new();
    for (number, channel, name) in cases {
        let tk = ticket(t, number).await;
        assert_eq!(tk["channel"], channel, "{number}");
        let id = tk["id"].as_i64().unwrap();
        let (status, html) = desk.page(&format!("/tickets/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains(name), "{number}: the page names {name}");
        if channel == "merged_line" {
            assert!(html.contains("12369"), "the merged line shows");
        }
        ids.push(id);
    }

    // Dispatched, answered, approved; the outbox sends what goes out.
    for id in &ids {
        t.bring_to(*id, "awaiting_callback").await;
    }
    let sms_gateway = Arc::new(RecordingSms::default());
    let delivery = mashangban_app::notify::Delivery {
        sms: sms_gateway.clone(),
        http: mashangban_app::notify::http_client(),
    };
    t.app
        .send_notices_at(&delivery, chrono::Utc::now(), 500)
        .await
        .unwrap();

    // The phone call and the SMS: the answer by SMS, to the number that called or wrote.
    let texts = sms_gateway.0.lock().unwrap().clone();
    for (phone, number) in [("13907001111", &call_number), ("13907002222", &sms_number)] {
        assert!(
            texts
                .iter()
                .any(|(p, t)| p == phone && t.contains(number.as_str()) && t.contains(ANSWER)),
            "{phone}: {texts:?}"
        );
    }
    // Open311: the request's status notes are the answer.
    let read: Value = t
        .client
        .get(format!("{}/open311/v2/requests/{o311_number}.json", t.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read[0]["status_notes"], ANSWER, "{read}");
    // WeChat: a template message with the answer, to the follower.
    let pushed = wechat.lock().unwrap().templates.clone();
    assert!(
        pushed.iter().any(|m| m["touser"] == o
            && m["data"]["keyword1"]["value"] == wechat_number.as_str()
            && m["data"]["remark"]["value"]
                .as_str()
                .unwrap()
                .starts_with(ANSWER)),
        "{pushed:?}"
    );
    // The platform: a signed post saying it is answered, with the answer.
    let back = signed_posts(&posts, &secret);
    assert!(
        back.iter().any(|p| p["external_id"] == "QH-E2E-1"
            && p["state"] == "answered"
            && p["answer"] == ANSWER),
        "{back:?}"
    );
}

mod on_sqlite {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_channel_end_to_end() {
        let (base, seen) = fake_wechat().await;
        let t = TestApp::start_configured(Db::Sqlite, "every_channel_end_to_end", |c| {
            c.wechat = Some(wechat_config(base))
        })
        .await
        .unwrap();
        every_channel_answers_the_way_it_came(&t, &seen).await;
    }
}

mod on_postgres {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_channel_end_to_end() {
        let (base, seen) = fake_wechat().await;
        let Some(t) = TestApp::start_configured(Db::Postgres, "every_channel_end_to_end", |c| {
            c.wechat = Some(wechat_config(base))
        })
        .await
        else {
            return;
        };
        every_channel_answers_the_way_it_came(&t, &seen).await;
    }
}
