//! A citizen's own requests by phone (我的诉求): a six-digit code sent by SMS to the number,
//! then a two-hour session that lists every request ever made from it, whatever the channel
//! (those an operator took by phone included), each with its tracking.
//!
//! It guards itself: a code lives five minutes and takes five tries; a number gets five codes
//! an hour, an address twenty. Whether a number has requests is never said: asking for a code
//! answers the same either way (a number without requests is sent nothing). Only digests of
//! the codes and the session tokens are kept.

use crate::{App, AppError};
use chrono::{DateTime, Duration, Utc};
use mashangban_domain::public::PublicTicket;
use mashangban_store::{CodeCheck, NewNotice, TicketFilter, channel};
use rand::Rng;
use sha2::{Digest, Sha256};
use std::net::IpAddr;

/// How long a code may be used.
pub const CODE_TTL: Duration = Duration::minutes(5);
/// Tries of one code.
pub const CODE_TRIES: i64 = 5;
/// Codes a phone number, and an address, may ask for within an hour.
pub const CODES_PER_HOUR: (i64, i64) = (5, 20);
/// How long a session lasts.
pub const SESSION_TTL: Duration = Duration::hours(2);
/// The most requests a list shows (the newest).
pub const MY_REQUESTS_MAX: u32 = 200;

/// The body of `POST /api/v1/public/otp`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    #[schema(max_length = 32)]
    pub phone: String,
}

/// The body of `POST /api/v1/public/session`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    #[schema(max_length = 32)]
    pub phone: String,
    #[schema(max_length = 6, min_length = 6)]
    pub code: String,
}

/// The answer to asking for a code: the same whether or not the number has requests.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CodeSent {
    /// How long the code may be used, in seconds.
    pub expires_in_seconds: i64,
}

/// A session opened with a code.
#[derive(Debug, Clone)]
pub struct CitizenSession {
    /// The token the citizen's browser keeps (shown once; only its digest is stored).
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// One of the citizen's requests: its number and tracking code, and how it stands.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct MyRequest {
    pub number: String,
    pub tracking_code: String,
    pub request: PublicTicket,
}

fn digest(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex::encode(h.finalize())
}

fn phone_of(field: &str, phone: &str) -> Result<String, AppError> {
    mashangban_domain::intake::validate_phone(field, Some(phone.to_string()))?
        .ok_or_else(|| AppError::invalid(field, "is required"))
}

impl App {
    /// Sends a one-time code to a phone number by SMS (in the outbox, with the SMS of its
    /// newest request), when the number has made requests; answers alike when it has not.
    /// Refused with `locked` (429) beyond [`CODES_PER_HOUR`].
    pub async fn send_code_at(
        &self,
        body: serde_json::Value,
        client: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<CodeSent, AppError> {
        let b: CodeRequest = mashangban_domain::lifecycle::from_json(body)?;
        let phone = phone_of("phone", &b.phone)?;
        let mut keys = vec![(format!("code-phone:{phone}"), CODES_PER_HOUR.0)];
        if let Some(ip) = client {
            keys.push((format!("code-addr:{ip}"), CODES_PER_HOUR.1));
        }
        for (key, max) in &keys {
            if self
                .store
                .count_attempts(key, now - Duration::hours(1))
                .await?
                >= *max
            {
                return Err(AppError::Locked(format!(
                    "验证码请求过于频繁：同一号码每小时最多{}次，请稍后再试。",
                    CODES_PER_HOUR.0
                )));
            }
        }
        for (key, _) in &keys {
            self.store
                .record_attempt(key, now, now - Duration::days(1))
                .await?;
        }
        let newest = self
            .store
            .list_tickets(&TicketFilter {
                citizen_phone: Some(phone.clone()),
                limit: 1,
                ..Default::default()
            })
            .await?;
        let sent = CodeSent {
            expires_in_seconds: CODE_TTL.num_seconds(),
        };
        let Some(ticket) = newest.into_iter().next() else {
            return Ok(sent);
        };
        let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
        let text = format!(
            "【12345】您的验证码为{code}，{}分钟内有效，用于查询本号码提交的诉求。请勿告诉他人。",
            CODE_TTL.num_minutes()
        );
        let sms = NewNotice {
            event_seq: 0,
            channel: channel::SMS.into(),
            recipient: phone.clone(),
            payload: serde_json::json!({"text": text, "citizen": "code"}).to_string(),
            not_before: now,
        };
        self.store
            .issue_code(
                &phone,
                &digest(&[&phone, &code]),
                now + CODE_TTL,
                (ticket.id, sms),
                now,
            )
            .await?;
        Ok(sent)
    }

    /// Opens a session with the code sent to the phone; a wrong or dead code is refused
    /// (401) and counts against the code's tries.
    pub async fn open_citizen_session_at(
        &self,
        body: serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<CitizenSession, AppError> {
        let b: SessionRequest = mashangban_domain::lifecycle::from_json(body)?;
        let phone = phone_of("phone", &b.phone)?;
        let code = b.code.trim();
        if code.len() != 6 || !code.bytes().all(|c| c.is_ascii_digit()) {
            return Err(AppError::invalid("code", "is the six digits sent by SMS"));
        }
        match self
            .store
            .check_code(&phone, &digest(&[&phone, code]), CODE_TRIES, now)
            .await?
        {
            CodeCheck::Right => {}
            CodeCheck::Wrong => {
                return Err(AppError::Unauthenticated("the code is wrong".into()));
            }
            CodeCheck::Dead => {
                return Err(AppError::Unauthenticated(
                    "no code is waiting for this number: it expired, was used up, or was never sent; ask for a new one"
                        .into(),
                ));
            }
        }
        let token = hex::encode(rand::rng().random::<[u8; 32]>());
        let expires_at = now + SESSION_TTL;
        self.store
            .open_citizen_session(&digest(&[&token]), &phone, expires_at, now)
            .await?;
        Ok(CitizenSession { token, expires_at })
    }

    /// Every request made from the session's phone number, newest first (at most
    /// [`MY_REQUESTS_MAX`]), each as its citizen sees it; 401 without a live session.
    pub async fn my_requests_at(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<MyRequest>, AppError> {
        let Some(phone) = self
            .store
            .citizen_session(&digest(&[token.trim()]), now)
            .await?
        else {
            return Err(AppError::Unauthenticated(
                "no session: ask for a code by SMS and sign in with it".into(),
            ));
        };
        let tickets = self
            .store
            .list_tickets(&TicketFilter {
                citizen_phone: Some(phone),
                limit: MY_REQUESTS_MAX,
                ..Default::default()
            })
            .await?;
        let mut out = Vec::with_capacity(tickets.len());
        for t in tickets {
            out.push(MyRequest {
                number: t.number.clone(),
                tracking_code: t.tracking_code.clone(),
                request: self.citizen_view(&t, now).await?,
            });
        }
        Ok(out)
    }
}
