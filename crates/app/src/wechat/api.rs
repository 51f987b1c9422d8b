//! WeChat's API as this server calls it: an access token (kept until shortly before it
//! expires), template messages that push a request's progress to its follower, and the
//! photos a follower sent, fetched by media id. Both go through the outbox (channels
//! [`PUSH`] and [`PHOTO`]), so that a failed call is tried again with back-off.

use super::WechatConfig;
use crate::{App, AppError};
use chrono::{DateTime, Utc};
use mashangban_domain::public::tracking_link;
use mashangban_domain::wechat::Push;
use mashangban_domain::{EventKind, Ticket};
use mashangban_store::{NewNotice, Notice};
use std::time::{Duration, Instant};

/// The outbox channel of progress pushed to a follower (recipient: their openid).
pub const PUSH: &str = "wechat";
/// The outbox channel of a follower's photo to fetch (recipient: its media id).
pub const PHOTO: &str = "wechat_photo";

/// An access token and when to stop using it.
pub type CachedToken = Option<(String, Instant)>;

/// The photos of a new request, to fetch once it is taken.
pub(crate) fn photo_notices(media_ids: &[String], at: DateTime<Utc>) -> Vec<NewNotice> {
    media_ids
        .iter()
        .map(|id| NewNotice {
            event_seq: 1,
            channel: PHOTO.into(),
            recipient: id.clone(),
            payload: "{}".into(),
            not_before: at,
        })
        .collect()
}

/// The push an event of a follower's request calls for, as an outbox row.
pub(crate) fn push_notice(
    public_url: &str,
    t: &Ticket,
    seq: i64,
    kind: &EventKind,
    unit: Option<&str>,
    at: DateTime<Utc>,
) -> Option<NewNotice> {
    let push = mashangban_domain::wechat::push_for(t, kind, unit)?;
    Some(NewNotice {
        event_seq: seq,
        channel: PUSH.into(),
        recipient: t.citizen.wechat_openid.clone()?,
        payload: serde_json::json!({
            "push": push,
            "link": tracking_link(public_url, t),
            "ticket_id": t.id,
        })
        .to_string(),
        not_before: at,
    })
}

/// WeChat's answer to a call that failed (`errcode` not 0).
fn api_error(v: &serde_json::Value) -> Option<String> {
    let code = v.get("errcode")?.as_i64()?;
    (code != 0).then(|| {
        format!(
            "WeChat error {code}: {}",
            v.get("errmsg").and_then(|m| m.as_str()).unwrap_or("")
        )
    })
}

/// Whether WeChat says the token is no longer good (invalid, expired).
fn token_refused(v: &serde_json::Value) -> bool {
    matches!(
        v.get("errcode").and_then(|c| c.as_i64()),
        Some(40001 | 40014 | 42001)
    )
}

impl App {
    fn wechat_api(&self) -> Result<(&WechatConfig, &str), String> {
        let w = self
            .config
            .wechat
            .as_ref()
            .ok_or("the WeChat channel is no longer configured")?;
        let base = w
            .api_base
            .as_deref()
            .ok_or("MASHANGBAN_WECHAT_API_BASE is no longer set")?;
        Ok((w, base))
    }

    /// An access token: the one kept, or a new one from WeChat.
    async fn wechat_token(&self, http: &reqwest::Client) -> Result<String, String> {
        let (w, base) = self.wechat_api()?;
        let mut kept = self.wechat_token.lock().await;
        if let Some((token, until)) = kept.as_ref()
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let secret = w.app_secret.as_deref().unwrap_or_default();
        let v: serde_json::Value = http
            .get(format!("{base}/cgi-bin/token"))
            .query(&[
                ("grant_type", "client_credential"),
                ("appid", w.app_id.as_str()),
                ("secret", secret),
            ])
            .send()
            .await
            .map_err(|e| format!("WeChat token: {}", e.without_url()))?
            .json()
            .await
            .map_err(|e| format!("WeChat token: {}", e.without_url()))?;
        if let Some(e) = api_error(&v) {
            return Err(e);
        }
        let token = v["access_token"]
            .as_str()
            .filter(|t| !t.is_empty())
            .ok_or("WeChat token: no access_token in the answer")?
            .to_string();
        // Renewed five minutes early, as WeChat advises.
        let life = v["expires_in"].as_u64().unwrap_or(7200).saturating_sub(300);
        *kept = Some((token.clone(), Instant::now() + Duration::from_secs(life)));
        Ok(token)
    }

    async fn forget_wechat_token(&self) {
        *self.wechat_token.lock().await = None;
    }

    /// Delivers a WeChat row of the outbox: a push or a photo to fetch.
    pub(crate) async fn deliver_wechat(
        &self,
        http: &reqwest::Client,
        n: &Notice,
    ) -> Result<(), String> {
        match n.channel.as_str() {
            PUSH => self.push_progress(http, n).await,
            PHOTO => self.fetch_photo(http, n).await,
            other => Err(format!("unknown channel `{other}`")),
        }
    }

    /// Sends a template message of progress to a follower.
    async fn push_progress(&self, http: &reqwest::Client, n: &Notice) -> Result<(), String> {
        let (w, base) = self.wechat_api()?;
        let template = w
            .template_id
            .as_deref()
            .ok_or("MASHANGBAN_WECHAT_TEMPLATE_ID is no longer set")?;
        let payload: serde_json::Value =
            serde_json::from_str(&n.payload).map_err(|e| format!("payload: {e}"))?;
        let push: Push =
            serde_json::from_value(payload["push"].clone()).map_err(|e| format!("payload: {e}"))?;
        let body = serde_json::json!({
            "touser": n.recipient,
            "template_id": template,
            "url": payload["link"],
            "data": {
                "first": {"value": push.headline},
                "keyword1": {"value": push.number},
                "keyword2": {"value": push.status},
                "remark": {"value": push.remark},
            },
        });
        let token = self.wechat_token(http).await?;
        let v: serde_json::Value = http
            .post(format!("{base}/cgi-bin/message/template/send"))
            .query(&[("access_token", token.as_str())])
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("WeChat template message: {}", e.without_url()))?
            .json()
            .await
            .map_err(|e| format!("WeChat template message: {}", e.without_url()))?;
        if token_refused(&v) {
            self.forget_wechat_token().await;
        }
        match api_error(&v) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Fetches a follower's photo by its media id and keeps it with their request (its
    /// metadata taken out, like every photo); a request that has its fill of files already
    /// takes no more.
    async fn fetch_photo(&self, http: &reqwest::Client, n: &Notice) -> Result<(), String> {
        let (_, base) = self.wechat_api()?;
        let ticket_id = n
            .ticket_id
            .ok_or_else(|| "a photo's notice names no request".to_string())?;
        let room = self
            .store
            .ticket_attachments(ticket_id)
            .await
            .map_err(|e| e.to_string())?
            .len()
            < mashangban_domain::attachment::MAX_PER_TICKET;
        if !room {
            return Ok(());
        }
        let token = self.wechat_token(http).await?;
        let mut r = http
            .get(format!("{base}/cgi-bin/media/get"))
            .query(&[
                ("access_token", token.as_str()),
                ("media_id", n.recipient.as_str()),
            ])
            .send()
            .await
            .map_err(|e| format!("WeChat media: {}", e.without_url()))?;
        let json = r
            .headers()
            .get("content-type")
            .and_then(|c| c.to_str().ok())
            .is_some_and(|c| c.contains("json") || c.starts_with("text/"));
        if json || !r.status().is_success() {
            let v: serde_json::Value = r.json().await.unwrap_or_default();
            if token_refused(&v) {
                self.forget_wechat_token().await;
            }
            return Err(api_error(&v).unwrap_or_else(|| "WeChat media: not a photo".into()));
        }
        let mut file = self.incoming("wechat.jpg").map_err(|e| e.to_string())?;
        while let Some(chunk) = r
            .chunk()
            .await
            .map_err(|e| format!("WeChat media: {}", e.without_url()))?
        {
            file.write(&chunk).await.map_err(|e| e.to_string())?;
        }
        match self.keep_file(file, Some(ticket_id), Utc::now()).await {
            Ok(_) => Ok(()),
            // Not a photo WeChat should have sent: nothing to try again.
            Err(AppError::Invalid { message, .. }) => {
                tracing::warn!(notice = n.id, %message, "a WeChat photo was refused");
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        }
    }
}
