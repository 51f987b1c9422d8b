//! The WeChat official account channel from the outside: WeChat's check of the address,
//! the dialogue in plain and safe mode, refusals that write nothing, and progress pushed
//! back through a fake of WeChat's API on a loopback port (with the follower's photo
//! fetched from it). The Python SDK's view of the same is `.ci/wechat_client.py`.

mod common;

use common::channels::{
    APP_ID, Seen, content, fake_wechat, message, now, plain, post_raw, text, wechat_config,
};
use common::{Db, TestApp};
use mashangban_app::wechat::crypto::{Cipher, signature};
use reqwest::StatusCode;
use serde_json::Value;
use std::sync::{Arc, Mutex};

use common::channels::{ACCOUNT, AES_KEY, TOKEN};

async fn start(db: Db, test: &str) -> Option<(TestApp, Arc<Mutex<Seen>>)> {
    let (base, seen) = fake_wechat().await;
    let t = TestApp::start_configured(db, test, |c| c.wechat = Some(wechat_config(base))).await?;
    Some((t, seen))
}

/// Posts a message in safe mode, and opens the reply (checking its signature).
async fn safe(t: &TestApp, xml: &str) -> (StatusCode, String) {
    let cipher = Cipher::new(AES_KEY, APP_ID).unwrap();
    let (ts, nonce) = (now(), "77889900");
    let encrypted = cipher.encrypt(xml, *b"0123456789abcdef");
    let body = format!(
        "<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    );
    let query = format!(
        "signature={}&timestamp={ts}&nonce={nonce}&encrypt_type=aes&msg_signature={}",
        signature(&[TOKEN, &ts, nonce]),
        signature(&[TOKEN, &ts, nonce, &encrypted])
    );
    let (status, reply) = post_raw(t, &query, &body).await;
    if status != StatusCode::OK || reply == "success" {
        return (status, reply);
    }
    let f = mashangban_app::wechat::xml::fields(&reply).unwrap();
    assert_eq!(
        f["MsgSignature"],
        signature(&[TOKEN, &f["TimeStamp"], &f["Nonce"], &f["Encrypt"]]),
        "the reply is signed"
    );
    (status, cipher.decrypt(&f["Encrypt"]).unwrap())
}

async fn tickets_of(t: &TestApp) -> Vec<Value> {
    let r = t.get("/api/v1/tickets?channel=wechat", "operator").await;
    r.body["items"].as_array().unwrap().clone()
}

async fn the_address_check_echoes_only_when_signed(t: &TestApp) {
    let ts = now();
    let sig = signature(&[TOKEN, &ts, "123"]);
    let ok = t
        .client
        .get(format!(
            "{}/channels/wechat?signature={sig}&timestamp={ts}&nonce=123&echostr=5837397520665436492",
            t.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.text().await.unwrap(), "5837397520665436492");
    let bad = t
        .client
        .get(format!(
            "{}/channels/wechat?signature={}&timestamp={ts}&nonce=123&echostr=1",
            t.base,
            signature(&["other-token", &ts, "123"])
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::FORBIDDEN);
    assert_eq!(bad.text().await.unwrap(), "the signature does not match");
}

/// Describe, place, photo, confirm in plain mode: a request on channel `wechat` with the
/// follower's openid; its dispatch and approved answer are pushed; a digit rates it.
async fn a_follower_reports_in_plain_mode_and_hears_back(t: &TestApp, seen: &Mutex<Seen>) {
    let o = "oPlainFollower01";
    let (s, r) = plain(
        t,
        &message(o, "", "event", "<Event><![CDATA[subscribe]]></Event>")
            .replace("<MsgId></MsgId>", ""),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert!(content(&r).starts_with("您好，这里是12345"));
    let (_, r) = plain(t, &text(o, "1001", "小区门口的路灯坏了一个月，晚上很黑")).await;
    assert!(content(&r).starts_with("请告诉我们问题发生的地点"), "{r}");
    let (_, r) = plain(
        t,
        &message(
            o,
            "1002",
            "image",
            "<PicUrl><![CDATA[http://mmbiz.example/1]]></PicUrl><MediaId><![CDATA[media-001]]></MediaId>",
        ),
    )
    .await;
    assert!(content(&r).starts_with("请告诉我们问题发生的地点"));
    let (_, r) = plain(
        t,
        &message(
            o,
            "1003",
            "location",
            "<Location_X>36.6171</Location_X><Location_Y>101.7782</Location_Y><Scale>15</Scale>\
             <Label><![CDATA[西宁市城东区东关大街]]></Label>",
        ),
    )
    .await;
    assert_eq!(
        content(&r),
        "请核对：\n问题：小区门口的路灯坏了一个月，晚上很黑\n地点：西宁市城东区东关大街\n图片：1张\n回复“1”确认提交，回复“0”取消；还可以继续发送图片。"
    );
    assert!(
        tickets_of(t).await.is_empty(),
        "nothing taken before confirming"
    );
    let (_, r) = plain(t, &text(o, "1004", "1")).await;
    let said = content(&r);
    assert!(said.starts_with("已受理，编号 XN"), "{said}");
    let items = tickets_of(t).await;
    assert_eq!(items.len(), 1);
    let id = items[0]["id"].as_i64().unwrap();
    let ticket = t
        .get(&format!("/api/v1/tickets/{id}"), "operator")
        .await
        .body;
    assert_eq!(ticket["channel"], "wechat");
    assert_eq!(ticket["content"], "小区门口的路灯坏了一个月，晚上很黑");
    assert_eq!(ticket["address"], "西宁市城东区东关大街");
    assert_eq!(ticket["citizen"]["wechat_openid"], o);
    assert!(said.contains(ticket["number"].as_str().unwrap()));
    assert!(said.contains("https://12345.example.gov.cn/public/track?number="));

    // The photo is fetched by the sender, its metadata out, kept with the request.
    let delivery = mashangban_app::notify::Delivery::logging(None);
    t.app
        .send_notices_at(&delivery, chrono::Utc::now(), 100)
        .await
        .unwrap();
    assert_eq!(seen.lock().unwrap().media, vec!["media-001".to_string()]);
    let files = t
        .get(&format!("/api/v1/tickets/{id}/attachments"), "operator")
        .await;
    assert_eq!(
        files.body.as_array().map(Vec::len),
        Some(1),
        "{:?}",
        files.body
    );

    // Dispatched, answered: both pushed as template messages with the tracking link.
    t.bring_to(id, "awaiting_callback").await;
    t.app
        .send_notices_at(&delivery, chrono::Utc::now(), 100)
        .await
        .unwrap();
    let templates = seen.lock().unwrap().templates.clone();
    assert_eq!(templates.len(), 2, "{templates:?}");
    for m in &templates {
        assert_eq!(m["touser"], o);
        assert_eq!(m["template_id"], "TEMPLATE-PROGRESS");
        assert_eq!(m["data"]["keyword1"]["value"], ticket["number"]);
        assert!(m["url"].as_str().unwrap().contains("/public/track?number="));
    }
    assert_eq!(
        templates[0]["data"]["first"]["value"],
        "您反映的问题已转交办理"
    );
    assert_eq!(templates[1]["data"]["first"]["value"], "您反映的问题已答复");
    assert_eq!(templates[1]["data"]["keyword2"]["value"], "已答复");
    assert!(
        templates[1]["data"]["remark"]["value"]
            .as_str()
            .unwrap()
            .starts_with("已处理\n请回复数字评价")
    );
    assert_eq!(seen.lock().unwrap().tokens, 1, "one token for every call");

    // The follower rates by replying a digit; asks for progress.
    let (_, r) = plain(t, &text(o, "1005", "1")).await;
    assert_eq!(
        content(&r),
        format!(
            "感谢您的评价！诉求 {} 的评价已记录。",
            ticket["number"].as_str().unwrap()
        )
    );
    assert_eq!(t.state(id).await, "closed");
    let (_, r) = plain(t, &text(o, "1006", "进度")).await;
    assert!(content(&r).contains("已办结"), "{r}");
}

/// The same dialogue in safe mode (a voice message's recognition as the words).
async fn a_follower_reports_in_safe_mode(t: &TestApp) {
    let o = "oSafeFollower002";
    let (s, r) = safe(
        t,
        &message(
            o,
            "2001",
            "voice",
            "<MediaId><![CDATA[v1]]></MediaId><Format><![CDATA[amr]]></Format>\
             <Recognition><![CDATA[楼下餐馆油烟太大了。]]></Recognition>",
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert!(content(&r).starts_with("请告诉我们问题发生的地点"));
    let (_, r) = safe(t, &text(o, "2002", "城西区胜利路12号")).await;
    assert!(content(&r).contains("问题：楼下餐馆油烟太大了"), "{r}");
    let (_, r) = safe(t, &text(o, "2003", "确认")).await;
    assert!(content(&r).starts_with("已受理，编号 XN"));
    let items = tickets_of(t).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["address"], "城西区胜利路12号");
}

/// Bad signatures, stale times, malformed XML, another account's ciphertext, oversized
/// bodies: refused with WeChat's plain answers and nothing written; a replay is `success`.
async fn bad_messages_are_refused_and_replays_change_nothing(t: &TestApp) {
    let o = "oAttacker000003";
    let before = t.app.store().list_notices(None, 1000).await.unwrap().len();
    let tickets = tickets_of(t).await.len();
    let xml = text(o, "3001", "楼上装修噪音太大了，天天到半夜");
    let ts = now();
    for (query, status) in [
        (
            format!(
                "signature={}&timestamp={ts}&nonce=1",
                signature(&["wrong", &ts, "1"])
            ),
            403,
        ),
        ("timestamp=1&nonce=1".to_string(), 403),
        (
            format!(
                "signature={}&timestamp=1700000000&nonce=1",
                signature(&[TOKEN, "1700000000", "1"])
            ),
            403,
        ),
    ] {
        let (s, body) = post_raw(t, &query, &xml).await;
        assert_eq!(s.as_u16(), status, "{query}: {body}");
    }
    for bad in [
        "<xml><ToUserName>",
        "<!DOCTYPE xml [<!ENTITY a \"aaaa\">]><xml><Content>&a;</Content></xml>",
        "<xml><ToUserName>gh</ToUserName><MsgType>text</MsgType></xml>",
    ] {
        let (s, body) = plain(t, bad).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    let (s, _) = plain(t, &"x".repeat(70 * 1024)).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    // Another account's ciphertext, correctly signed with ours.
    let other = Cipher::new(AES_KEY, "wx_other_account").unwrap();
    let encrypted = other.encrypt(&xml, [1; 16]);
    let (ts, nonce) = (now(), "5");
    let (s, _) = post_raw(
        t,
        &format!(
            "timestamp={ts}&nonce={nonce}&encrypt_type=aes&msg_signature={}",
            signature(&[TOKEN, &ts, nonce, &encrypted])
        ),
        &format!("<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(
        t.app
            .store()
            .dialogue(&format!("wechat:{o}"))
            .await
            .unwrap()
            .is_none()
    );

    // A message taken once; the same MsgId again (WeChat's retry, or a replay) is
    // answered `success` and changes nothing.
    let (s, first) = plain(t, &xml).await;
    assert_eq!(s, StatusCode::OK);
    assert!(content(&first).starts_with("请告诉我们问题发生的地点"));
    let kept = t
        .app
        .store()
        .dialogue(&format!("wechat:{o}"))
        .await
        .unwrap();
    assert_eq!(
        plain(t, &xml).await,
        (StatusCode::OK, "success".to_string())
    );
    assert_eq!(
        t.app
            .store()
            .dialogue(&format!("wechat:{o}"))
            .await
            .unwrap(),
        kept
    );
    assert_eq!(tickets_of(t).await.len(), tickets);
    assert_eq!(
        t.app.store().list_notices(None, 1000).await.unwrap().len(),
        before
    );
}

mod on_sqlite {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn wechat_channel() {
        let (t, seen) = start(Db::Sqlite, "wechat_channel").await.unwrap();
        the_address_check_echoes_only_when_signed(&t).await;
        a_follower_reports_in_plain_mode_and_hears_back(&t, &seen).await;
        bad_messages_are_refused_and_replays_change_nothing(&t).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn wechat_safe_mode() {
        let (t, _) = start(Db::Sqlite, "wechat_safe_mode").await.unwrap();
        a_follower_reports_in_safe_mode(&t).await;
    }
}

mod on_postgres {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn wechat_channel() {
        let Some((t, seen)) = start(Db::Postgres, "wechat_channel").await else {
            return;
        };
        the_address_check_echoes_only_when_signed(&t).await;
        a_follower_reports_in_plain_mode_and_hears_back(&t, &seen).await;
        bad_messages_are_refused_and_replays_change_nothing(&t).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn wechat_safe_mode() {
        let Some((t, _)) = start(Db::Postgres, "wechat_safe_mode").await else {
            return;
        };
        a_follower_reports_in_safe_mode(&t).await;
    }
}
