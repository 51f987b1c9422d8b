//! The WeChat official account (微信公众号) as a channel, `/channels/wechat`: WeChat's
//! check of the server's address, the followers' messages in plain or safe mode turned
//! into requests by a short dialogue ([`mashangban_domain::wechat`]), and the progress of
//! their requests pushed back through WeChat's API ([`api`]).
//!
//! Every message is signed by WeChat with the account's token; one that is not, or is more
//! than five minutes old, is refused with 403 and nothing written. A message WeChat sends
//! again (the same `MsgId`) is answered `success` and changes nothing.

pub mod api;
pub mod crypto;
pub mod xml;

use crate::public::PORTAL;
use crate::{App, AppError};
use chrono::{DateTime, Utc};
use mashangban_domain::public::{PublicState, tracking_link};
use mashangban_domain::wechat::{Dialogue, Envelope, Turn, new_ticket, turn};
use mashangban_domain::{Ticket, TicketState};
use mashangban_store::TicketFilter;
use rand::Rng;

/// How far a message's timestamp may be from now.
pub const MAX_SKEW_SECONDS: i64 = 300;
/// The largest body taken (WeChat's messages are a few KiB).
pub const MAX_BODY: usize = 64 * 1024;
/// What WeChat is answered when there is nothing to say.
pub const NO_REPLY: &str = "success";

/// The account's settings (`MASHANGBAN_WECHAT_*`). Without a token the channel is off.
#[derive(Debug, Clone, Default)]
pub struct WechatConfig {
    /// The token set in the account's server settings: every message is signed with it.
    pub token: String,
    /// The account's AppID (safe mode checks it in every message).
    pub app_id: String,
    /// The safe mode's cipher, when an EncodingAESKey is set.
    pub cipher: Option<crypto::Cipher>,
    /// The AppSecret, to call WeChat's API.
    pub app_secret: Option<String>,
    /// Where WeChat's API is (`https://api.weixin.qq.com`); none: nothing is pushed or
    /// fetched.
    pub api_base: Option<String>,
    /// The template message progress is pushed with; none: nothing is pushed.
    pub template_id: Option<String>,
}

impl WechatConfig {
    /// The settings from the environment: `MASHANGBAN_WECHAT_TOKEN` (on when set),
    /// `…_APP_ID`, `…_AES_KEY` (safe mode), `…_APP_SECRET`, `…_API_BASE`,
    /// `…_TEMPLATE_ID`.
    pub fn from_env() -> Result<Option<WechatConfig>, String> {
        let var = |name: &str| {
            std::env::var(format!("MASHANGBAN_WECHAT_{name}"))
                .ok()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let Some(token) = var("TOKEN") else {
            return Ok(None);
        };
        if !(3..=32).contains(&token.len()) || !token.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(
                "MASHANGBAN_WECHAT_TOKEN must be 3 to 32 letters or digits, as WeChat requires"
                    .into(),
            );
        }
        let app_id = var("APP_ID").ok_or("MASHANGBAN_WECHAT_APP_ID must be set with the token")?;
        let cipher = var("AES_KEY")
            .map(|k| crypto::Cipher::new(&k, &app_id))
            .transpose()
            .map_err(|e| format!("MASHANGBAN_WECHAT_AES_KEY: {e}"))?;
        let api_base = var("API_BASE").map(|b| b.trim_end_matches('/').to_string());
        if let Some(b) = &api_base
            && !(b.starts_with("http://") || b.starts_with("https://"))
        {
            return Err(format!(
                "MASHANGBAN_WECHAT_API_BASE must be an http(s):// address, not `{b}`"
            ));
        }
        let app_secret = var("APP_SECRET");
        if api_base.is_some() && app_secret.is_none() {
            return Err("MASHANGBAN_WECHAT_API_BASE needs MASHANGBAN_WECHAT_APP_SECRET".into());
        }
        Ok(Some(WechatConfig {
            token,
            app_id,
            cipher,
            app_secret,
            api_base,
            template_id: var("TEMPLATE_ID"),
        }))
    }

    /// Whether progress is pushed (the API and a template are set).
    pub fn pushes(&self) -> bool {
        self.api_base.is_some() && self.template_id.is_some()
    }
}

/// The query WeChat signs its calls with.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct WechatQuery {
    pub signature: Option<String>,
    pub timestamp: Option<String>,
    pub nonce: Option<String>,
    pub echostr: Option<String>,
    pub encrypt_type: Option<String>,
    pub msg_signature: Option<String>,
    pub openid: Option<String>,
}

/// A refusal, as WeChat's callers get it: a status and a line of text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct WechatError {
    pub status: u16,
    pub message: String,
}

impl WechatError {
    fn new(status: u16, message: impl Into<String>) -> WechatError {
        WechatError {
            status,
            message: message.into(),
        }
    }
}

impl From<AppError> for WechatError {
    fn from(e: AppError) -> WechatError {
        match e {
            AppError::Invalid { .. } => WechatError::new(400, e.to_string()),
            other => {
                tracing::error!(error = %other, "a WeChat message failed");
                WechatError::new(500, "internal error")
            }
        }
    }
}

impl From<mashangban_store::StoreError> for WechatError {
    fn from(e: mashangban_store::StoreError) -> WechatError {
        WechatError::from(AppError::from(e))
    }
}

/// A reply to a message, in the mode it came in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WechatReply {
    /// The XML (or `success`).
    pub body: String,
    /// Whether the body is XML.
    pub xml: bool,
}

fn required<'a>(v: &'a Option<String>, name: &str) -> Result<&'a str, WechatError> {
    v.as_deref()
        .filter(|s| !s.is_empty() && s.len() <= 128)
        .ok_or_else(|| WechatError::new(403, format!("{name} is missing")))
}

impl App {
    fn wechat(&self) -> Result<&WechatConfig, WechatError> {
        self.config
            .wechat
            .as_ref()
            .ok_or_else(|| WechatError::new(404, "the WeChat channel is not configured"))
    }

    /// Checks the signature and age of a call (`signature` over the token, timestamp and
    /// nonce).
    fn wechat_signed(&self, q: &WechatQuery, now: DateTime<Utc>) -> Result<(), WechatError> {
        let w = self.wechat()?;
        let timestamp = required(&q.timestamp, "timestamp")?;
        let nonce = required(&q.nonce, "nonce")?;
        let signature = required(&q.signature, "signature")?;
        check_age(timestamp, now)?;
        if !crypto::same(
            &crypto::signature(&[&w.token, timestamp, nonce]),
            &signature.to_ascii_lowercase(),
        ) {
            return Err(WechatError::new(403, "the signature does not match"));
        }
        Ok(())
    }

    /// WeChat's check of the server's address: the `echostr` back when the call is signed.
    pub fn wechat_verify(
        &self,
        q: &WechatQuery,
        now: DateTime<Utc>,
    ) -> Result<String, WechatError> {
        self.wechat_signed(q, now)?;
        Ok(required(&q.echostr, "echostr")?.to_string())
    }

    /// A message from a follower: checked, opened (safe mode), taken one turn of the
    /// dialogue further, and answered in its own mode.
    pub async fn wechat_message(
        &self,
        q: &WechatQuery,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<WechatReply, WechatError> {
        let w = self.wechat()?;
        if body.len() > MAX_BODY {
            return Err(WechatError::new(413, "the message is too large"));
        }
        let body = std::str::from_utf8(body)
            .map_err(|_| WechatError::new(400, "the message is not UTF-8"))?;
        let safe = q.encrypt_type.as_deref() == Some("aes");
        let fields = if safe {
            let cipher = w
                .cipher
                .as_ref()
                .ok_or_else(|| WechatError::new(400, "safe mode is not configured"))?;
            let timestamp = required(&q.timestamp, "timestamp")?;
            let nonce = required(&q.nonce, "nonce")?;
            let signature = required(&q.msg_signature, "msg_signature")?;
            check_age(timestamp, now)?;
            let outer = xml::fields(body).map_err(|e| WechatError::new(400, e))?;
            let encrypted = outer
                .get("Encrypt")
                .filter(|e| !e.is_empty())
                .ok_or_else(|| WechatError::new(400, "Encrypt is missing"))?;
            if !crypto::same(
                &crypto::signature(&[&w.token, timestamp, nonce, encrypted]),
                &signature.to_ascii_lowercase(),
            ) {
                return Err(WechatError::new(403, "the signature does not match"));
            }
            let inner = cipher.decrypt(encrypted).map_err(|e| match e {
                crypto::CryptoError::OtherAccount => WechatError::new(403, e.to_string()),
                _ => WechatError::new(400, e.to_string()),
            })?;
            xml::fields(&inner).map_err(|e| WechatError::new(400, e))?
        } else {
            self.wechat_signed(q, now)?;
            xml::fields(body).map_err(|e| WechatError::new(400, e))?
        };
        let envelope =
            Envelope::parse(&fields).map_err(|e| WechatError::new(400, e.to_string()))?;
        let key = envelope.replay_key();
        if self.store.was_handled(&key).await? {
            return Ok(WechatReply {
                body: NO_REPLY.into(),
                xml: false,
            });
        }
        let text = self.wechat_turn(&envelope, &key, now).await?;
        self.store.mark_handled(&key, now).await?;
        let Some(text) = text else {
            return Ok(WechatReply {
                body: NO_REPLY.into(),
                xml: false,
            });
        };
        let reply = xml::text_reply(&envelope.openid, &envelope.account, now.timestamp(), &text);
        let body = match (&w.cipher, safe) {
            (Some(cipher), true) => {
                let encrypted = cipher.encrypt(&reply, rand::rng().random());
                let timestamp = now.timestamp().to_string();
                let nonce = rand::rng()
                    .random_range(100_000_000u64..10_000_000_000)
                    .to_string();
                let signature = crypto::signature(&[&w.token, &timestamp, &nonce, &encrypted]);
                xml::encrypted_reply(&encrypted, &signature, &timestamp, &nonce)
            }
            _ => reply,
        };
        Ok(WechatReply { body, xml: true })
    }

    /// One turn of a follower's dialogue: what to tell them (none: nothing).
    async fn wechat_turn(
        &self,
        e: &Envelope,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, WechatError> {
        let dialogue_key = format!("wechat:{}", e.openid);
        let kept: Option<Dialogue> = self
            .store
            .dialogue(&dialogue_key)
            .await?
            .and_then(|(body, _)| serde_json::from_str(&body).ok());
        let (next, turn) = turn(kept, &e.message, now);
        let text = match turn {
            Turn::Say(text) => Some(text),
            Turn::Nothing => None,
            Turn::Progress => Some(self.wechat_progress(&e.openid).await?),
            Turn::Rate(rating) => Some(self.wechat_rate(&e.openid, rating, now).await?),
            Turn::Submit(d) => Some(self.wechat_submit(&e.openid, &d, key, now).await?),
        };
        let body = next
            .map(|d| serde_json::to_string(&d))
            .transpose()
            .map_err(|e| AppError::Internal(e.to_string()))?;
        self.store
            .put_dialogue(&dialogue_key, body.as_deref(), now)
            .await?;
        Ok(text)
    }

    /// Takes the request a follower confirmed (keyed by the message, so that a retry after
    /// a crash takes it once), and asks WeChat for its photos.
    async fn wechat_submit(
        &self,
        openid: &str,
        d: &Dialogue,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<String, WechatError> {
        let new = new_ticket(openid, d).map_err(AppError::from)?;
        let limit_key = format!("submit-wechat:{openid}");
        if self.over_limits(&limit_key, now).await? {
            return Ok("提交过于频繁，请稍后再试，或拨打12345。".into());
        }
        let photos = if self
            .config
            .wechat
            .as_ref()
            .is_some_and(|w| w.api_base.is_some())
        {
            api::photo_notices(&d.pictures, now)
        } else {
            Vec::new()
        };
        let idempotency = Some((
            key.to_string(),
            crate::tickets::request_hash(&serde_json::json!(d.description)),
        ));
        let created = self
            .receive_with(&PORTAL, new, idempotency, now, photos)
            .await?;
        if created.created {
            self.store
                .record_attempt(&limit_key, now, now - crate::public::LONGEST_WINDOW)
                .await?;
        }
        let t = created.ticket;
        let r = self.reference().await?;
        Ok(format!(
            "已受理，编号 {}。我们将转交办理单位，办理进展会通过本公众号通知您。查看进度：{}",
            t.number,
            tracking_link(&r.public_url, &t)
        ))
    }

    /// The follower's newest requests and where each stands.
    async fn wechat_progress(&self, openid: &str) -> Result<String, WechatError> {
        let mine = self.wechat_requests(openid, Vec::new(), 5).await?;
        if mine.is_empty() {
            return Ok("您还没有通过本公众号提交的诉求。".into());
        }
        let r = self.reference().await?;
        let lines: Vec<String> = mine
            .iter()
            .map(|t| {
                format!(
                    "{} {}：{}\n{}",
                    t.number,
                    PublicState::of(t.state).label_zh(),
                    t.title,
                    tracking_link(&r.public_url, t)
                )
            })
            .collect();
        Ok(format!("您最近的诉求：\n{}", lines.join("\n")))
    }

    /// Rates the follower's newest answered request.
    async fn wechat_rate(
        &self,
        openid: &str,
        rating: mashangban_domain::public::CitizenRating,
        now: DateTime<Utc>,
    ) -> Result<String, WechatError> {
        let waiting = self
            .wechat_requests(openid, vec![TicketState::AwaitingCallback], 1)
            .await?;
        let Some(t) = waiting.into_iter().next() else {
            return Ok(format!(
                "您没有待评价的诉求。{}",
                mashangban_domain::wechat::GREETING
            ));
        };
        let t = self.commit_rating(t.id, rating, now).await?;
        Ok(format!("感谢您的评价！诉求 {} 的评价已记录。", t.number))
    }

    async fn wechat_requests(
        &self,
        openid: &str,
        states: Vec<TicketState>,
        limit: u32,
    ) -> Result<Vec<Ticket>, WechatError> {
        Ok(self
            .store
            .list_tickets(&TicketFilter {
                states,
                citizen_wechat: Some(openid.to_string()),
                limit,
                ..Default::default()
            })
            .await?)
    }
}

fn check_age(timestamp: &str, now: DateTime<Utc>) -> Result<(), WechatError> {
    let t: i64 = timestamp
        .parse()
        .map_err(|_| WechatError::new(403, "timestamp is not a Unix time"))?;
    if (now.timestamp() - t).abs() > MAX_SKEW_SECONDS {
        return Err(WechatError::new(
            403,
            "the timestamp is more than five minutes from now",
        ));
    }
    Ok(())
}
