//! Exchange with other platforms as use cases (see [`mashangban_domain::exchange`]): the
//! platforms an administrator configures, each with its key; the requests they hand over
//! (signed with that key, taken once per external id); what goes back to them through the
//! outbox (channel [`EXCHANGE`]): every change of what the citizen would see of a request
//! they handed over, and the requests handed to them (转出), signed with their key.

use crate::{App, AppError, Reference, require};
use chrono::{DateTime, Utc};
use mashangban_domain::exchange::{
    EMERGENCY_LINES, InboundBody, Platform, PlatformInput, check_platform, inbound_ticket,
};
use mashangban_domain::public::PublicState;
use mashangban_domain::{EventKind, Permission, Ticket};
use mashangban_store::NewNotice;
use rand::Rng;
use serde::Serialize;

/// The outbox channel of posts to other platforms (recipient: the platform's code).
pub const EXCHANGE: &str = "exchange";

/// What a platform is answered when it hands a request over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct InboundReceipt {
    /// The request's number here.
    pub number: String,
    /// The same request handed over before (the same external id): nothing new was taken.
    pub replay: bool,
}

impl App {
    /// The platforms, their keys included (administrators).
    pub async fn platforms(
        &self,
        actor: &mashangban_domain::Actor,
    ) -> Result<Vec<Platform>, AppError> {
        require(actor, Permission::ManageReference)?;
        Ok(self.reference().await?.platforms.clone())
    }

    /// Adds or changes a platform (a new one is given its key); whether it is new. Its
    /// channel must be one of the channels kept.
    pub async fn put_platform(
        &self,
        actor: &mashangban_domain::Actor,
        code: &str,
        body: serde_json::Value,
    ) -> Result<(Platform, bool), AppError> {
        require(actor, Permission::ManageReference)?;
        let input: PlatformInput = crate::from_body(body)?;
        let r = self.reference().await?;
        if r.channel(&input.channel).is_none() {
            return Err(AppError::invalid(
                "channel",
                format!("`{}` is not a channel", input.channel),
            ));
        }
        let secret = r
            .platforms
            .iter()
            .find(|p| p.code == code)
            .map(|p| p.secret.clone())
            .unwrap_or_else(|| hex::encode(rand::rng().random::<[u8; 24]>()));
        let platform = check_platform(code, input, secret)?;
        let new = self.store.put_platform(&platform).await?;
        self.invalidate_reference();
        Ok((platform, new))
    }

    /// A request another platform hands over: signed with its key (the headers of the
    /// webhooks: `X-Mashangban-Timestamp`, `X-Mashangban-Signature`), taken on its channel
    /// with its external id and deadline; the same external id again returns the request
    /// taken the first time.
    pub async fn exchange_inbound_at(
        &self,
        platform: Option<&str>,
        timestamp: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<InboundReceipt, AppError> {
        let r = self.reference().await?;
        let Some(p) =
            platform.and_then(|code| r.platforms.iter().find(|p| p.code == code && p.active))
        else {
            return Err(AppError::Unauthenticated(
                "X-Mashangban-Platform does not name a platform in use".into(),
            ));
        };
        crate::public::check_signature(&p.secret, timestamp, signature, body, now)?;
        let value: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| AppError::invalid("body", format!("is not JSON: {e}")))?;
        let hash = crate::tickets::request_hash(&value);
        let inbound: InboundBody = mashangban_domain::lifecycle::from_json(value)?;
        let new = inbound_ticket(p, inbound)?;
        let external_id = new
            .exchange
            .as_ref()
            .map(|o| o.external_id.clone())
            .unwrap_or_default();
        let key = format!("exchange:{}:{external_id}", p.code);
        let created = self
            .receive(&crate::public::PORTAL, new, Some((key, hash)), now)
            .await
            .map_err(|e| match e {
                // The key is the platform's id: its reuse is said in its words.
                AppError::Invalid { field, .. } if field == "Idempotency-Key" => {
                    AppError::Conflict {
                        code: "external_id_reused",
                        message: format!(
                            "external_id `{external_id}` was handed over before with a different request"
                        ),
                    }
                }
                other => other,
            })?;
        Ok(InboundReceipt {
            number: created.ticket.number,
            replay: !created.created,
        })
    }

    /// Whether a request may be handed to `to`: an emergency line, or a platform in use.
    pub(crate) fn check_transfer_target(r: &Reference, to: &str) -> Result<(), AppError> {
        let known = EMERGENCY_LINES.iter().any(|(code, _)| *code == to)
            || r.platforms.iter().any(|p| p.code == to && p.active);
        if !known {
            return Err(AppError::invalid(
                "to",
                format!(
                    "`{to}` is neither an emergency line (110, 119, 120, 122) nor a platform in use"
                ),
            ));
        }
        Ok(())
    }
}

/// The posts to other platforms an event calls for: to the platform a request came from,
/// each time what its citizen would see changes (with the answer once approved); to the
/// platform a request is handed to, the request itself.
pub(crate) fn notices(
    r: &Reference,
    before: &Ticket,
    after: &Ticket,
    kind: &EventKind,
    seq: i64,
    at: DateTime<Utc>,
) -> Vec<NewNotice> {
    let mut out = Vec::new();
    let posted = |code: &str| {
        r.platforms
            .iter()
            .find(|p| p.code == code && p.active && p.webhook_url.is_some())
    };
    if let Some(origin) = &after.exchange
        && posted(&origin.platform).is_some()
    {
        let state = PublicState::of(after.state);
        if state != PublicState::of(before.state) {
            out.push(NewNotice {
                event_seq: seq,
                channel: EXCHANGE.into(),
                recipient: origin.platform.clone(),
                payload: serde_json::json!({
                    "type": "status",
                    "external_id": origin.external_id,
                    "number": after.number,
                    "state": state,
                    "state_label": state.label_zh(),
                    "event": kind.type_name(),
                    "answer": after.reply.as_ref().filter(|_| state == PublicState::Answered
                        || state == PublicState::Closed).or(after.answer.as_ref()),
                    "at": at,
                })
                .to_string(),
                not_before: at,
            });
        }
    }
    if let EventKind::TransferredOut { to, reason, .. } = kind
        && posted(to).is_some()
    {
        // The receiving platform handles the citizen: it gets who they are, unless they
        // asked for confidentiality.
        let citizen = if after.confidential {
            serde_json::Value::Null
        } else {
            serde_json::json!({"name": after.citizen.name, "phone": after.citizen.phone})
        };
        out.push(NewNotice {
            event_seq: seq,
            channel: EXCHANGE.into(),
            recipient: to.clone(),
            payload: serde_json::json!({
                "type": "transfer",
                "number": after.number,
                "reason": reason,
                "title": after.title,
                "content": after.content,
                "address": after.address,
                "division_code": after.division_code,
                "category_code": after.category_code,
                "citizen": citizen,
                "received_at": after.created_at,
                "at": at,
            })
            .to_string(),
            not_before: at,
        });
    }
    out
}

/// The platform a post goes to: its address and key.
pub(crate) fn destination<'a>(r: &'a Reference, code: &str) -> Result<(&'a str, &'a str), String> {
    let p = r
        .platforms
        .iter()
        .find(|p| p.code == code && p.active)
        .ok_or_else(|| format!("platform `{code}` is no longer in use"))?;
    let url = p
        .webhook_url
        .as_deref()
        .ok_or_else(|| format!("platform `{code}` has no webhook_url any more"))?;
    Ok((url, &p.secret))
}
