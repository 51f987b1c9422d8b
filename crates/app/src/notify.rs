//! Notifications: what goes in the outbox with each change (in the same transaction), and
//! the sender that delivers it — SMS to units' liaisons through a pluggable gateway,
//! HMAC-signed webhooks to other systems — with retries and back-off. In-console notices are
//! delivered by being written. A notice is sent after its event is committed, never before,
//! and a server that dies between the two sends it when it comes back (each delivery carries
//! its outbox id, so a receiver can tell a repeat after a crash mid-send).

use crate::{App, AppError, Reference, require};
use chrono::{DateTime, Duration, Utc};
use hmac::{KeyInit, Mac};
use mashangban_domain::notify::{Audience, notices_for, send_after};
use mashangban_domain::public::{CitizenTexts, render_text, texts_citizen, tracking_link};
use mashangban_domain::{Actor, EventKind, Permission, Role, Ticket, User, apply};
use mashangban_store::{NewNotice, channel};
pub use mashangban_store::{Notice, UnitContact};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The setting that holds the webhook subscriptions (JSON).
pub const WEBHOOKS_SETTING: &str = "webhooks";
/// The setting that holds the texts citizens are sent by SMS (JSON, [`CitizenTexts`]).
pub const CITIZEN_TEXTS_SETTING: &str = "citizen_texts";
/// Deliveries tried before a notice is given up.
pub const MAX_ATTEMPTS: i64 = 8;
/// How long a sender holds a claimed notice before another may take it.
pub const LEASE_SECONDS: i64 = 60;

/// Another system that is told of events, by an HMAC-signed HTTP POST.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    /// A short name, unique (letters, digits, `-`, `_`).
    pub name: String,
    /// `http://` or `https://` URL.
    pub url: String,
    /// The HMAC-SHA256 key (at least 16 characters); never shown back. Left empty when
    /// replacing the subscriptions, the webhook of that name keeps its secret.
    #[serde(default)]
    pub secret: String,
    /// Event types to send (`dispatched`, `deadline_breached`, ...); empty: all.
    #[serde(default)]
    pub events: Vec<String>,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// The signature of a webhook body: hex HMAC-SHA256 over `{timestamp}.{body}`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Event types a webhook may name.
const EVENT_TYPES: &[&str] = &[
    "received",
    "resolved_directly",
    "dispatched",
    "signed",
    "return_requested",
    "return_approved",
    "return_rejected",
    "consultation_opened",
    "consultation_decided",
    "extension_requested",
    "extension_approved",
    "extension_rejected",
    "contact_recorded",
    "note_added",
    "replied",
    "reply_approved",
    "reply_rejected",
    "callback_recorded",
    "callback_unreachable",
    "reopened",
    "closed",
    "merged",
    "child_merged",
    "deadline_warned",
    "deadline_breached",
    "not_accepted",
    "transferred_out",
    "contact_revealed",
    "supervised",
    "supervision_answered",
    "rating_reviewed",
    "parent_answered",
    // Not a ticket's event: an early warning raised, or raised again at a worse level.
    WARNING_RAISED,
];

/// The webhook event type of an early warning.
pub const WARNING_RAISED: &str = "warning_raised";

/// Checks webhook subscriptions: names, URLs, secrets, event types.
pub fn check_webhooks(hooks: &[Webhook]) -> Result<(), AppError> {
    let mut names = std::collections::BTreeSet::new();
    for (i, h) in hooks.iter().enumerate() {
        let at = |f: &str| format!("[{i}].{f}");
        let ok_name = !h.name.is_empty()
            && h.name.len() <= 40
            && h.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok_name {
            return Err(AppError::invalid(
                at("name"),
                "1 to 40 letters, digits, `-` or `_`",
            ));
        }
        if !names.insert(h.name.clone()) {
            return Err(AppError::invalid(
                at("name"),
                format!("`{}` is used twice", h.name),
            ));
        }
        if !(h.url.starts_with("http://") || h.url.starts_with("https://")) || h.url.len() > 500 {
            return Err(AppError::invalid(
                at("url"),
                "must be an http:// or https:// URL",
            ));
        }
        if h.secret.chars().count() < 16 {
            return Err(AppError::invalid(
                at("secret"),
                "must be at least 16 characters",
            ));
        }
        if let Some(bad) = h.events.iter().find(|e| !EVENT_TYPES.contains(&e.as_str())) {
            return Err(AppError::invalid(
                at("events"),
                format!("`{bad}` is not an event type"),
            ));
        }
    }
    Ok(())
}

/// What one pass of the sender did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SendReport {
    pub sent: usize,
    /// Failed this time; to be tried again later.
    pub retrying: usize,
    /// Failed for the last time.
    pub given_up: usize,
}

/// Sends SMS. Implementations must be safe to call from several tasks.
#[async_trait::async_trait]
pub trait SmsGateway: Send + Sync {
    /// Sends one message; `delivery_id` identifies it across retries.
    async fn send(&self, phone: &str, text: &str, delivery_id: i64) -> Result<(), String>;
}

/// Writes SMS to the log (and, if given, appends them as JSON lines to a file) instead of
/// sending them: for the demo, and for centres whose SMS platform reads such a file.
pub struct LogSmsGateway {
    pub file: Option<std::path::PathBuf>,
}

#[async_trait::async_trait]
impl SmsGateway for LogSmsGateway {
    async fn send(&self, phone: &str, text: &str, delivery_id: i64) -> Result<(), String> {
        // The number masked: a log is read by more people than the SMS log file.
        let to = mashangban_domain::ticket::mask_phone(phone);
        tracing::info!(target: "sms", delivery_id, to, text, "SMS");
        if let Some(path) = &self.file {
            use tokio::io::AsyncWriteExt;
            let line = serde_json::json!({"delivery_id": delivery_id, "phone": phone, "text": text})
                .to_string() + "\n";
            let mut f = tokio::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .await
                .map_err(|e| format!("SMS log {}: {e}", path.display()))?;
            f.write_all(line.as_bytes())
                .await
                .map_err(|e| format!("SMS log {}: {e}", path.display()))?;
            f.flush().await.map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// Posts SMS as signed JSON (`{"delivery_id", "phone", "text"}`) to an SMS platform's HTTP
/// interface, signed like webhooks.
pub struct HttpSmsGateway {
    pub url: String,
    pub secret: String,
    pub client: reqwest::Client,
}

#[async_trait::async_trait]
impl SmsGateway for HttpSmsGateway {
    async fn send(&self, phone: &str, text: &str, delivery_id: i64) -> Result<(), String> {
        let body = serde_json::json!({"delivery_id": delivery_id, "phone": phone, "text": text})
            .to_string();
        post_signed(&self.client, &self.url, &self.secret, delivery_id, body).await
    }
}

/// Posts a signed body: `X-Mashangban-Delivery` (the outbox id), `X-Mashangban-Timestamp`
/// (Unix seconds) and `X-Mashangban-Signature: sha256=<hex HMAC of "{timestamp}.{body}">`.
async fn post_signed(
    client: &reqwest::Client,
    url: &str,
    secret: &str,
    delivery_id: i64,
    body: String,
) -> Result<(), String> {
    let timestamp = Utc::now().timestamp();
    let sig = signature(secret, timestamp, &body);
    let r = client
        .post(url)
        .header("content-type", "application/json")
        .header("x-mashangban-delivery", delivery_id.to_string())
        .header("x-mashangban-timestamp", timestamp.to_string())
        .header("x-mashangban-signature", format!("sha256={sig}"))
        .body(body)
        .send()
        .await
        .map_err(|e| format!("POST {url}: {e}"))?;
    if r.status().is_success() {
        Ok(())
    } else {
        Err(format!("POST {url}: HTTP {}", r.status().as_u16()))
    }
}

/// How notices leave the building.
#[derive(Clone)]
pub struct Delivery {
    pub sms: Arc<dyn SmsGateway>,
    pub http: reqwest::Client,
}

impl Delivery {
    /// The logging SMS gateway (optionally into a file) and an HTTP client with a timeout.
    pub fn logging(file: Option<std::path::PathBuf>) -> Delivery {
        Delivery {
            sms: Arc::new(LogSmsGateway { file }),
            http: http_client(),
        }
    }
}

/// An HTTP client for deliveries: 10 s to answer.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap_or_default()
}

/// How long to wait after the `attempts`-th failed delivery: 30 s, doubling, at most 1 h.
pub fn backoff(attempts: i64) -> Duration {
    let n = attempts.clamp(1, 20) - 1;
    Duration::seconds((30i64 << n.min(7)).min(3600))
}

/// The console audiences a user belongs to: their role, and their unit for unit handlers.
pub fn audiences_of(user: &User) -> Vec<String> {
    let mut v = vec![Audience::Role(user.role).key()];
    if user.role == Role::UnitHandler
        && let Some(u) = user.unit_id
    {
        v.push(Audience::Unit(u).key());
    }
    v
}

impl App {
    /// The notices a change calls for: console notices and SMS for the people concerned,
    /// and the webhooks subscribed to its events.
    pub(crate) async fn notices_for_change(
        &self,
        before: &Ticket,
        kinds: &[EventKind],
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<Vec<NewNotice>, AppError> {
        let r = self.reference().await?;
        Ok(plan(&r, before, kinds, actor, at))
    }

    /// One pass of the sender at `now`: claims due notices, delivers each, and records
    /// the outcome (retry with back-off, or give up after [`MAX_ATTEMPTS`]).
    pub async fn send_notices_at(
        &self,
        delivery: &Delivery,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<SendReport, AppError> {
        let claimed = self
            .store
            .claim_notices(now, now + Duration::seconds(LEASE_SECONDS), limit)
            .await?;
        let mut report = SendReport::default();
        if claimed.is_empty() {
            return Ok(report);
        }
        let r = self.reference().await?;
        // One delivery whose outcome cannot be recorded must not hold up the others: it is
        // logged, and its lease runs out so that a later pass tries it again.
        for n in claimed {
            let outcome = match n.channel.as_str() {
                crate::wechat::api::PUSH | crate::wechat::api::PHOTO => {
                    self.deliver_wechat(&delivery.http, &n).await
                }
                _ => deliver(&r, delivery, &n).await,
            };
            match outcome {
                Ok(()) => match self.store.notice_sent(n.id, Utc::now()).await {
                    Ok(()) => report.sent += 1,
                    Err(e) => {
                        tracing::error!(notice = n.id, error = %e, "recording a delivery failed")
                    }
                },
                Err(e) => {
                    let retry = (n.attempts < MAX_ATTEMPTS).then(|| now + backoff(n.attempts));
                    tracing::warn!(notice = n.id, channel = %n.channel, attempts = n.attempts, error = %e, "delivery failed");
                    // The error may quote what was sent (a URL, a gateway's answer): kept
                    // as text a database takes.
                    let why = printable(&e);
                    match self.store.notice_failed(n.id, now, &why, retry).await {
                        Ok(()) if retry.is_some() => report.retrying += 1,
                        Ok(()) => report.given_up += 1,
                        Err(e) => {
                            tracing::error!(notice = n.id, error = %e, "recording a failed delivery failed")
                        }
                    }
                }
            }
        }
        Ok(report)
    }

    /// The webhook subscriptions (secrets included: for the sender and administrators).
    pub async fn webhooks(&self, actor: &Actor) -> Result<Vec<Webhook>, AppError> {
        require(actor, Permission::ManageNotifications)?;
        Ok(self.reference().await?.webhooks.clone())
    }

    /// Units' liaisons (who receive the SMS notices), by unit id.
    pub async fn unit_contacts(
        &self,
        actor: &Actor,
    ) -> Result<std::collections::HashMap<i64, UnitContact>, AppError> {
        require(actor, Permission::ManageReference)?;
        Ok(self.reference().await?.contacts.clone())
    }

    /// Replaces the webhook subscriptions (checked first).
    pub async fn set_webhooks(
        &self,
        actor: &Actor,
        body: serde_json::Value,
    ) -> Result<Vec<Webhook>, AppError> {
        require(actor, Permission::ManageNotifications)?;
        let mut hooks: Vec<Webhook> = crate::from_body(body)?;
        let old = self.webhooks(actor).await?;
        for h in hooks.iter_mut().filter(|h| h.secret.is_empty()) {
            if let Some(o) = old.iter().find(|o| o.name == h.name) {
                h.secret = o.secret.clone();
            }
        }
        check_webhooks(&hooks)?;
        let text = serde_json::to_string(&hooks).map_err(|e| AppError::Internal(e.to_string()))?;
        self.store
            .set_setting(WEBHOOKS_SETTING, &text, Utc::now())
            .await?;
        self.invalidate_reference();
        Ok(hooks)
    }

    /// Sets or clears a unit's liaison (who receives its SMS).
    pub async fn set_unit_contact(
        &self,
        actor: &Actor,
        unit_id: i64,
        liaison: &str,
        phone: &str,
    ) -> Result<Option<UnitContact>, AppError> {
        require(actor, Permission::ManageReference)?;
        if self.store.get_unit(unit_id).await?.is_none() {
            return Err(AppError::NotFound(format!("unit {unit_id} not found")));
        }
        let (liaison, phone) = (liaison.trim(), phone.trim());
        let contact = if phone.is_empty() {
            None
        } else {
            let digits = phone.chars().filter(char::is_ascii_digit).count();
            if !(7..=15).contains(&digits)
                || !phone
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '-' || c == '+' || c == ' ')
            {
                return Err(AppError::invalid(
                    "phone",
                    "is not a phone number (7 to 15 digits)",
                ));
            }
            if liaison.chars().count() > 40 {
                return Err(AppError::invalid(
                    "liaison",
                    "must be at most 40 characters",
                ));
            }
            Some(UnitContact {
                unit_id,
                liaison: liaison.to_string(),
                phone: phone.to_string(),
            })
        };
        self.store
            .set_unit_contact(unit_id, contact.as_ref())
            .await?;
        self.invalidate_reference();
        Ok(contact)
    }

    /// The user's console notices, newest first, each with whether they have read it, and
    /// how many they have not read; with `read_all`, every one of them is read from then on.
    pub async fn my_notices(
        &self,
        user: &User,
        limit: u32,
        read_all: bool,
    ) -> Result<(Vec<(Notice, bool)>, i64), AppError> {
        let audiences = audiences_of(user);
        let items = self.store.console_notices(&audiences, None, limit).await?;
        if read_all && let Some(top) = items.first() {
            self.store.mark_notices_read(user.id, top.id).await?;
        }
        let unread = self.store.unread_notices(user.id, &audiences).await?;
        let ids: Vec<i64> = items.iter().map(|n| n.id).collect();
        let read = self.store.read_notice_ids(user.id, &ids).await?;
        let mut items: Vec<(Notice, bool)> = items
            .into_iter()
            .map(|n| {
                let done = read.contains(&n.id);
                (n, done)
            })
            .collect();
        // Newest first by when it happened (a replay of history, as the demo's, writes a
        // ticket's later steps before the next ticket's first).
        items.sort_by(|a, b| {
            b.0.created_at
                .cmp(&a.0.created_at)
                .then(b.0.id.cmp(&a.0.id))
        });
        Ok((items, unread))
    }

    /// Opens one of the user's console notices: it is read from then on. Returns it, or
    /// not found when it is no notice of theirs.
    pub async fn open_notice(&self, user: &User, id: i64) -> Result<Notice, AppError> {
        let audiences = audiences_of(user);
        let notice = self
            .store
            .console_notices(&audiences, Some(id.saturating_add(1)), 1)
            .await?
            .into_iter()
            .find(|n| n.id == id)
            .ok_or_else(|| AppError::NotFound(format!("notice {id} not found")))?;
        self.store.mark_notice_read(user.id, id, Utc::now()).await?;
        Ok(notice)
    }

    /// How many console notices the user has not read.
    pub async fn unread_notices(&self, user: &User) -> Result<i64, AppError> {
        Ok(self
            .store
            .unread_notices(user.id, &audiences_of(user))
            .await?)
    }
}

/// The outbox rows of a change (pure but for the reference data it reads).
pub(crate) fn plan(
    r: &Reference,
    before: &Ticket,
    kinds: &[EventKind],
    actor: &Actor,
    at: DateTime<Utc>,
) -> Vec<NewNotice> {
    let mut out = Vec::new();
    let mut view = Some(before.clone());
    let hooks: Vec<&Webhook> = r.webhooks.iter().filter(|h| h.active).collect();
    for e in mashangban_domain::appended(before, kinds, *actor, at) {
        let kind = &e.kind;
        let previous = view.clone();
        view = apply(view, &e);
        let Some(t) = view.as_ref() else { break };
        // A breach that raises supervision in the same change is told once, by the
        // supervision (its reason names the clock): one SMS, not two.
        let told_by_supervision = matches!(kind, EventKind::DeadlineBreached { .. })
            && kinds.iter().any(|k| {
                matches!(
                    k,
                    EventKind::Supervised {
                        automatic: true,
                        ..
                    }
                )
            });
        let notices = if told_by_supervision {
            Vec::new()
        } else {
            notices_for(t, kind)
        };
        for n in notices {
            let payload = serde_json::json!({
                "text": n.text,
                "ticket_id": t.id,
                "number": t.number,
                "event": kind.type_name(),
                "seq": e.seq,
            });
            out.extend(notice_rows(r, &n, payload, e.seq, at));
        }
        out.extend(webhook_notices(&hooks, t, e.seq, kind, at));
        if let Some(was) = &previous {
            out.extend(crate::exchange::notices(r, was, t, kind, e.seq, at));
        }
        if r.wechat_push {
            let unit = t.lead_unit_id.and_then(|u| r.unit_name(u));
            out.extend(crate::wechat::api::push_notice(
                &r.public_url,
                t,
                e.seq,
                kind,
                unit,
                at,
            ));
        }
        // The citizen hears the approved answer, and is asked to rate it (一事一评).
        if matches!(
            kind,
            EventKind::ReplyApproved { .. } | EventKind::ParentAnswered { .. }
        ) && t.state == mashangban_domain::TicketState::AwaitingCallback
        {
            let texts = &r.citizen_texts;
            for (what, template) in [("reply", &texts.reply), ("rating", &texts.rating)] {
                out.extend(citizen_sms(r, t, e.seq, what, template, at));
            }
        }
    }
    out
}

/// The outbox rows of one notice: the console notice, and the SMS to the unit's liaison
/// when it asks for one (an alert held outside working hours as the policy says).
pub(crate) fn notice_rows(
    r: &Reference,
    n: &mashangban_domain::notify::Notice,
    payload: serde_json::Value,
    seq: i64,
    at: DateTime<Utc>,
) -> Vec<NewNotice> {
    let payload = payload.to_string();
    let mut out = vec![NewNotice {
        event_seq: seq,
        channel: channel::CONSOLE.into(),
        recipient: n.audience.key(),
        payload: payload.clone(),
        not_before: at,
    }];
    if let (true, Audience::Unit(u)) = (n.sms, n.audience)
        && let Some(c) = r.contacts.get(&u)
    {
        out.push(NewNotice {
            event_seq: seq,
            channel: channel::SMS.into(),
            recipient: c.phone.clone(),
            payload,
            not_before: send_after(
                at,
                n.alert,
                r.policy.alert_outside_working_hours,
                &r.calendar,
                &r.policy.working_hours,
            ),
        });
    }
    out
}

/// The SMS to a request's citizen of one template, if they are texted at all
/// ([`texts_citizen`]). Sent at once: it answers what they asked.
fn citizen_sms(
    r: &Reference,
    t: &Ticket,
    seq: i64,
    what: &str,
    template: &str,
    at: DateTime<Utc>,
) -> Option<NewNotice> {
    if !texts_citizen(t) {
        return None;
    }
    let link = tracking_link(&r.public_url, t);
    let unit = t.lead_unit_id.and_then(|u| r.unit_name(u));
    let text = render_text(template, t, &link, unit);
    Some(NewNotice {
        event_seq: seq,
        channel: channel::SMS.into(),
        recipient: t.citizen.phone.clone()?,
        payload: serde_json::json!({
            "text": text,
            "ticket_id": t.id,
            "number": t.number,
            "citizen": what,
            "seq": seq,
        })
        .to_string(),
        not_before: at,
    })
}

/// The webhook rows of one event (other systems get what an analyst sees: the citizen masked).
fn webhook_notices(
    hooks: &[&Webhook],
    t: &Ticket,
    seq: i64,
    kind: &EventKind,
    at: DateTime<Utc>,
) -> Vec<NewNotice> {
    let ty = kind.type_name();
    hooks
        .iter()
        .filter(|h| h.events.is_empty() || h.events.iter().any(|x| x == ty))
        .map(|h| {
            let body = serde_json::json!({
                "type": ty,
                "ticket_id": t.id,
                "number": t.number,
                "seq": seq,
                "at": at,
                "state": t.state,
                "lead_unit_id": t.lead_unit_id,
                "event": kind.masked(t.confidential),
            });
            NewNotice {
                event_seq: seq,
                channel: channel::WEBHOOK.into(),
                recipient: h.name.clone(),
                payload: body.to_string(),
                not_before: at,
            }
        })
        .collect()
}

/// The webhook rows of an early warning (sent only if it is new or worse), for the
/// webhooks subscribed to `warning_raised` (or to everything). The figures behind it are
/// aggregates; a repeat caller's number is masked in its title and detail already.
pub(crate) fn warning_webhook_notices(
    r: &Reference,
    f: &mashangban_domain::warning::Finding,
    at: DateTime<Utc>,
) -> Vec<NewNotice> {
    r.webhooks
        .iter()
        .filter(|h| {
            h.active && (h.events.is_empty() || h.events.iter().any(|x| x == WARNING_RAISED))
        })
        .map(|h| NewNotice {
            event_seq: 0,
            channel: channel::WEBHOOK.into(),
            recipient: h.name.clone(),
            payload: serde_json::json!({
                "type": WARNING_RAISED,
                "at": at,
                "warning": {
                    "kind": f.kind,
                    "key": f.key,
                    "level": f.level,
                    "title": f.title,
                    "detail": f.detail,
                    "ticket_id": f.ticket_id,
                },
            })
            .to_string(),
            not_before: at,
        })
        .collect()
}

/// The notices of a new ticket (its `received` event): the webhooks subscribed to it, and
/// the citizen's receipt by SMS (number and tracking code) whatever the channel.
pub(crate) fn received_plan(
    r: &Arc<Reference>,
    at: DateTime<Utc>,
    extra: Vec<NewNotice>,
) -> Option<mashangban_store::NoticePlan> {
    let hooks: Vec<Webhook> = r.webhooks.iter().filter(|h| h.active).cloned().collect();
    let r = r.clone();
    Some(mashangban_store::NoticePlan(Arc::new(move |t: &Ticket| {
        let receipt = citizen_sms(&r, t, 1, "receipt", &r.citizen_texts.receipt, at);
        if hooks.is_empty() {
            return receipt.into_iter().chain(extra.iter().cloned()).collect();
        }
        let refs: Vec<&Webhook> = hooks.iter().collect();
        // The received event, rebuilt from the view (the same fields), without the
        // citizen's tracking code: that is the citizen's own.
        let kind = EventKind::Received {
            number: t.number.clone(),
            tracking_code: String::new(),
            channel: t.channel.clone(),
            channel_detail: t.channel_detail.clone(),
            recording: t.recording.clone(),
            kind: t.kind,
            title: t.title.clone(),
            content: t.content.clone(),
            citizen: t.citizen.clone(),
            confidential: t.confidential,
            address: t.address.clone(),
            category_code: t.category_code.clone(),
            division_code: t.division_code.clone(),
            suggested_category_code: t.suggested_category_code.clone(),
            reported_by_unit_id: t.reported_by_unit_id,
            place: t.place.clone(),
            emergency: t.emergency.clone(),
            exchange: t.exchange.clone(),
        };
        let mut out = webhook_notices(&refs, t, 1, &kind, at);
        out.extend(receipt);
        out.extend(extra.iter().cloned());
        out
    })))
}

/// Delivers one notice.
async fn deliver(r: &Reference, d: &Delivery, n: &Notice) -> Result<(), String> {
    match n.channel.as_str() {
        channel::SMS => {
            let v: serde_json::Value =
                serde_json::from_str(&n.payload).map_err(|e| format!("payload: {e}"))?;
            let text = v["text"].as_str().unwrap_or_default();
            d.sms.send(&n.recipient, text, n.id).await
        }
        channel::WEBHOOK => {
            let Some(h) = r.webhooks.iter().find(|h| h.name == n.recipient) else {
                return Err(format!("webhook `{}` is no longer configured", n.recipient));
            };
            // The delivery id goes in the body too, for receivers that log only bodies.
            let mut body: serde_json::Value =
                serde_json::from_str(&n.payload).map_err(|e| format!("payload: {e}"))?;
            body["delivery_id"] = serde_json::json!(n.id);
            post_signed(&d.http, &h.url, &h.secret, n.id, body.to_string()).await
        }
        crate::exchange::EXCHANGE => {
            let (url, secret) = crate::exchange::destination(r, &n.recipient)?;
            let mut body: serde_json::Value =
                serde_json::from_str(&n.payload).map_err(|e| format!("payload: {e}"))?;
            body["delivery_id"] = serde_json::json!(n.id);
            body["platform"] = serde_json::json!(n.recipient);
            post_signed(&d.http, url, secret, n.id, body.to_string()).await
        }
        // Console notices are delivered when written; nothing else is known.
        other => Err(format!("unknown channel `{other}`")),
    }
}

impl App {
    /// The texts citizens are sent by SMS (the defaults until an administrator changes them).
    pub async fn citizen_texts(&self, actor: &Actor) -> Result<CitizenTexts, AppError> {
        require(actor, Permission::ManageNotifications)?;
        Ok(self.reference().await?.citizen_texts.clone())
    }

    /// Replaces the texts citizens are sent by SMS (checked first: [`CitizenTexts::check`]).
    pub async fn set_citizen_texts(
        &self,
        actor: &Actor,
        body: serde_json::Value,
    ) -> Result<CitizenTexts, AppError> {
        require(actor, Permission::ManageNotifications)?;
        let texts: CitizenTexts = crate::from_body(body)?;
        texts.check()?;
        let text = serde_json::to_string(&texts).map_err(|e| AppError::Internal(e.to_string()))?;
        self.store
            .set_setting(CITIZEN_TEXTS_SETTING, &text, Utc::now())
            .await?;
        self.invalidate_reference();
        Ok(texts)
    }

    /// Deliveries of the outbox, newest first, of one channel or all.
    pub async fn outbox(
        &self,
        actor: &Actor,
        channel: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Notice>, AppError> {
        require(actor, Permission::ManageNotifications)?;
        if let Some(c) = channel
            && ![
                "sms",
                "webhook",
                "console",
                crate::wechat::api::PUSH,
                crate::wechat::api::PHOTO,
                crate::exchange::EXCHANGE,
            ]
            .contains(&c)
        {
            return Err(AppError::invalid(
                "channel",
                format!(
                    "`{c}` is not one of sms, webhook, console, wechat, wechat_photo, exchange"
                ),
            ));
        }
        Ok(self.store.list_notices(channel, limit).await?)
    }
}

/// Text without control characters (line breaks kept), at most 500 characters.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .take(500)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_errors_hold_no_control_characters() {
        assert_eq!(
            printable("bad url http://x/\u{0}y\tz"),
            "bad url http://x/ y z"
        );
        assert_eq!(printable(&"长".repeat(600)).chars().count(), 500);
    }

    #[test]
    fn signatures_and_backoff() {
        // RFC 4231 test case 2 ("Jefe"), as a check of the HMAC itself.
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let a = signature("0123456789abcdef", 1_700_000_000, "{}");
        assert_eq!(a.len(), 64);
        assert_ne!(a, signature("0123456789abcdef", 1_700_000_001, "{}"));
        let waits: Vec<i64> = (1..=9).map(|n| backoff(n).num_seconds()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
    }

    #[tokio::test]
    async fn https_deliveries_are_attempted() {
        // Nothing listens on port 9 of loopback: the delivery fails to connect, not because
        // the client cannot speak TLS.
        let err = post_signed(
            &http_client(),
            "https://127.0.0.1:9/hook",
            "0123456789abcdef",
            1,
            "{}".into(),
        )
        .await
        .unwrap_err();
        let chain = format!("{err:?}");
        assert!(!chain.contains("scheme"), "{chain}");
        assert!(err.starts_with("POST https://127.0.0.1:9/hook"), "{err}");
    }

    #[test]
    fn webhook_subscriptions_are_checked() {
        let ok = Webhook {
            name: "city-brain".into(),
            url: "https://example.invalid/hook".into(),
            secret: "0123456789abcdef".into(),
            events: vec!["supervised".into()],
            active: true,
        };
        assert!(check_webhooks(std::slice::from_ref(&ok)).is_ok());
        let field = |hooks: &[Webhook]| match check_webhooks(hooks) {
            Err(AppError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(&[ok.clone(), ok.clone()]), "[1].name");
        let mut bad = ok.clone();
        bad.url = "ftp://x".into();
        assert_eq!(field(&[bad]), "[0].url");
        let mut bad = ok.clone();
        bad.secret = "short".into();
        assert_eq!(field(&[bad]), "[0].secret");
        let mut bad = ok;
        bad.events = vec!["exploded".into()];
        assert_eq!(field(&[bad]), "[0].events");
    }
}
