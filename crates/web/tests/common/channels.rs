//! Fakes of the outside ends of the channels, for tests that drive them: WeChat's API,
//! a platform's webhook receiver, and an SMS gateway that keeps what it sends.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use mashangban_app::wechat::WechatConfig;
use mashangban_app::wechat::crypto::Cipher;
use mashangban_app::wechat::crypto::signature;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub const TOKEN: &str = "mbtesttoken";
pub const APP_ID: &str = "wx0123456789abcdef";
/// 43 characters of Base64: a key of no real account.
pub const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
pub const ACCOUNT: &str = "gh_0123456789ab";

/// The test account's settings, its API at `base`.
pub fn wechat_config(base: String) -> WechatConfig {
    WechatConfig {
        token: TOKEN.into(),
        app_id: APP_ID.into(),
        cipher: Some(Cipher::new(AES_KEY, APP_ID).unwrap()),
        app_secret: Some("test-app-secret".into()),
        api_base: Some(base),
        template_id: Some("TEMPLATE-PROGRESS".into()),
    }
}

/// What the fake WeChat API was asked: template messages sent, media fetched, tokens.
#[derive(Default)]
pub struct Seen {
    pub templates: Vec<Value>,
    pub media: Vec<String>,
    pub tokens: usize,
}

/// A fake of WeChat's API: a token, template messages, and one photo for any media id.
pub async fn fake_wechat() -> (String, Arc<Mutex<Seen>>) {
    type S = Arc<Mutex<Seen>>;
    let seen: S = Arc::default();
    let photo = {
        let picture = image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8, y as u8, 9]));
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 80)
            .encode_image(&picture)
            .unwrap();
        jpeg
    };
    let router = axum::Router::new()
        .route(
            "/cgi-bin/token",
            get(
                |State(s): State<S>, Query(q): Query<HashMap<String, String>>| async move {
                    assert_eq!(q["appid"], APP_ID);
                    assert_eq!(q["secret"], "test-app-secret");
                    s.lock().unwrap().tokens += 1;
                    Json(json!({"access_token": "fake-token", "expires_in": 7200}))
                },
            ),
        )
        .route(
            "/cgi-bin/message/template/send",
            post(
                |State(s): State<S>,
                 Query(q): Query<HashMap<String, String>>,
                 Json(body): Json<Value>| async move {
                    assert_eq!(q["access_token"], "fake-token");
                    s.lock().unwrap().templates.push(body);
                    Json(json!({"errcode": 0, "errmsg": "ok", "msgid": 1}))
                },
            ),
        )
        .route(
            "/cgi-bin/media/get",
            get(
                move |State(s): State<S>, Query(q): Query<HashMap<String, String>>| async move {
                    s.lock().unwrap().media.push(q["media_id"].clone());
                    ([("content-type", "image/jpeg")], photo.clone())
                },
            ),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (base, seen)
}

/// The time now as WeChat writes it (Unix seconds).
pub fn now() -> String {
    chrono::Utc::now().timestamp().to_string()
}

/// A message as WeChat posts it in plain mode.
pub fn message(openid: &str, msg_id: &str, kind: &str, inner: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>\
         <CreateTime>{}</CreateTime><MsgType><![CDATA[{kind}]]></MsgType>{inner}<MsgId>{msg_id}</MsgId></xml>",
        now()
    )
}

pub fn text(openid: &str, msg_id: &str, content: &str) -> String {
    message(
        openid,
        msg_id,
        "text",
        &format!("<Content><![CDATA[{content}]]></Content>"),
    )
}

/// Posts a message signed in plain mode: the status and the body.
pub async fn plain(t: &super::TestApp, xml: &str) -> (StatusCode, String) {
    let (ts, nonce) = (now(), "20261206");
    let sig = signature(&[TOKEN, &ts, nonce]);
    post_raw(
        t,
        &format!("signature={sig}&timestamp={ts}&nonce={nonce}&openid=x"),
        xml,
    )
    .await
}

pub async fn post_raw(t: &super::TestApp, query: &str, body: &str) -> (StatusCode, String) {
    let r = t
        .client
        .post(format!("{}/channels/wechat?{query}", t.base))
        .header("content-type", "text/xml")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

/// The text of a passive reply.
pub fn content(reply: &str) -> String {
    let f = mashangban_app::wechat::xml::fields(reply).unwrap();
    assert_eq!(f["MsgType"], "text");
    assert_eq!(f["FromUserName"], ACCOUNT);
    f["Content"].clone()
}

/// A platform's (or any webhook's) receiving end: every post, with its headers.
pub type Posts = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A receiver on loopback keeping every post; its URL.
pub async fn receiver() -> (Posts, String) {
    let seen: Posts = Arc::default();
    let state = seen.clone();
    let router = axum::Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| {
            let seen = state.clone();
            async move {
                seen.lock().unwrap().push((headers, body));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (seen, format!("http://{addr}/hook"))
}

/// The posts a receiver got, their signatures checked with `secret`.
pub fn signed_posts(seen: &Posts, secret: &str) -> Vec<Value> {
    seen.lock()
        .unwrap()
        .iter()
        .map(|(h, body)| {
            let ts: i64 = h["x-mashangban-timestamp"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(
                h["x-mashangban-signature"].to_str().unwrap(),
                format!(
                    "sha256={}",
                    mashangban_app::notify::signature(secret, ts, body)
                ),
                "signed with the key"
            );
            serde_json::from_str(body).unwrap()
        })
        .collect()
}

/// An SMS gateway that keeps what it sends: (phone, text).
#[derive(Default)]
pub struct RecordingSms(pub Mutex<Vec<(String, String)>>);

#[async_trait::async_trait]
impl mashangban_app::notify::SmsGateway for RecordingSms {
    async fn send(&self, phone: &str, text: &str, _id: i64) -> Result<(), String> {
        self.0
            .lock()
            .unwrap()
            .push((phone.to_string(), text.to_string()));
        Ok(())
    }
}
