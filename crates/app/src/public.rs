//! The citizen's side (群众端): submitting a request from the portal, and looking one up by
//! its number and tracking code. Open to anyone, so it guards itself: a phone number or a
//! client address submits a few requests an hour at most; a wrong code and a number that
//! does not exist answer alike (nothing to enumerate), and a number asked with wrong codes
//! too often is locked for a while. The attempts are counted in the database, so that every
//! instance agrees.

use crate::{App, AppError};
use chrono::{DateTime, Duration, Utc};
use mashangban_domain::deadlines::{ClockKind, ClockState};
use mashangban_domain::public::{
    CitizenRating, PublicReceipt, PublicTicket, RatingBody, merged_view, parse_submission,
    public_view, rate,
};
use mashangban_domain::{Actor, Role, Ticket, TicketState};
use mashangban_store::{Change, StoreError};
use sha2::{Digest, Sha256};
use std::net::IpAddr;

/// Wrong tracking codes for one number within [`TRACK_WINDOW`] before it is locked.
pub const TRACK_MAX_WRONG: i64 = 10;
/// The window the wrong codes are counted in, and how long a lock lasts.
pub const TRACK_WINDOW: Duration = Duration::hours(1);
/// The longest window any attempt is counted in (older attempts are forgotten).
pub(crate) const LONGEST_WINDOW: Duration = Duration::days(1);

/// Requests one phone number, or one client address, may submit within an hour and a day.
pub const SUBMIT_LIMITS: [(Duration, i64); 2] = [(Duration::hours(1), 5), (Duration::days(1), 20)];

/// Who receives what the portal takes in: the system (user 0), on the citizen's behalf,
/// through the same intake as an operator's.
pub const PORTAL: Actor = Actor {
    user_id: 0,
    role: Role::Operator,
    unit_id: None,
};

/// What the portal proposes while a citizen types: categories and the place from their own
/// words, and an emergency number when one is said; nothing from anyone else's requests
/// (no duplicates, no history, no unit).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PublicProposal {
    /// Up to three categories, most likely first: (code, name path).
    pub categories: Vec<(String, String)>,
    /// The place the words name, when one is sure enough: (code, names from the district).
    pub place: Option<(String, String)>,
    pub call_now: Option<String>,
}

/// How much of the citizen's words a proposal reads.
const PROPOSAL_CHARS: usize = 2000;

/// The answer to a wrong code and to a number that does not exist: the same, word for word.
const NOT_FOUND: &str = "no request has this number and tracking code";

impl App {
    /// Proposals for a citizen's request being typed ([`PublicProposal`]).
    pub async fn propose_public(
        &self,
        content: &str,
        address: &str,
    ) -> Result<PublicProposal, AppError> {
        let content: String = content.chars().take(PROPOSAL_CHARS).collect();
        let address: String = address.chars().take(200).collect();
        let text = self.text().await?;
        let r = self.reference().await?;
        let categories = match &text.model {
            Some(model) if !content.trim().is_empty() => model
                .predict("", &content)
                .ranked
                .iter()
                .take(3)
                // A citizen is offered only categories the text says clearly.
                .filter(|s| s.confidence >= crate::text::UNCERTAIN_BELOW)
                .filter(|s| r.categories.get(&s.label).is_some_and(|c| c.active))
                .map(|s| {
                    (
                        s.label.clone(),
                        r.category_path(&s.label).unwrap_or_else(|| s.label.clone()),
                    )
                })
                .collect(),
            _ => Vec::new(),
        };
        let resolved = if address.trim().is_empty() {
            text.address.resolve(&content)
        } else {
            text.address.resolve(&address)
        };
        let place = resolved
            .best
            .filter(|b| b.confidence >= crate::tickets::PLACE_AUTO_CONFIDENCE)
            .map(|b| (b.code, b.path));
        let emergency = mashangban_text::detect_emergency(&content);
        Ok(PublicProposal {
            categories,
            place,
            call_now: emergency
                .transfer_to
                .filter(|_| emergency.flag)
                .map(|t| t.number().to_string()),
        })
    }

    /// [`App::submit_public_at`] now.
    pub async fn submit_public(
        &self,
        body: serde_json::Value,
        client: Option<IpAddr>,
        idempotency_key: Option<String>,
    ) -> Result<(PublicReceipt, bool), AppError> {
        self.submit_public_at(body, client, idempotency_key, Utc::now())
            .await
    }

    /// A request submitted by a citizen (channel `web`), through the one intake every
    /// channel goes through: placed, numbered, given its tracking code. Refused with
    /// `locked` (429) beyond [`SUBMIT_LIMITS`] for its phone number or its client address.
    /// A retry with the same idempotency key returns the first receipt (`false`).
    pub async fn submit_public_at(
        &self,
        body: serde_json::Value,
        client: Option<IpAddr>,
        idempotency_key: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<(PublicReceipt, bool), AppError> {
        let idempotency = crate::tickets::idempotency(idempotency_key, &body)?;
        let (new, files) = parse_submission(body)?;
        let mut keys = Vec::new();
        if let Some(phone) = &new.citizen.phone {
            keys.push(format!("submit-phone:{phone}"));
        }
        if let Some(ip) = client {
            keys.push(format!("submit-addr:{ip}"));
        }
        for key in &keys {
            if self.over_limits(key, now).await? {
                return Err(AppError::Locked(format!(
                    "提交过于频繁：同一号码或同一网络每小时最多{}件、每天最多{}件，请稍后再试，或拨打12345。",
                    SUBMIT_LIMITS[0].1, SUBMIT_LIMITS[1].1
                )));
            }
        }
        let category = new.category_code.clone();
        let created = self.receive(&PORTAL, new, idempotency, now).await?;
        if created.created {
            self.attach_uploads(created.ticket.id, &files).await?;
            for key in &keys {
                self.store
                    .record_attempt(key, now, now - LONGEST_WINDOW)
                    .await?;
            }
        }
        let r = self.reference().await?;
        // What the catalogue usually gives such a matter, else three days: an estimate
        // until the hotline sends it to a unit.
        let tier = category
            .and_then(|c| r.categories.get(&c).and_then(|c| c.default_tier))
            .map(u32::from)
            .unwrap_or(3);
        let t = created.ticket;
        Ok((
            PublicReceipt {
                number: t.number,
                tracking_code: t.tracking_code,
                expected_reply_by: mashangban_domain::deadlines::handling_due(
                    &r.policy,
                    &r.calendar,
                    t.created_at,
                    tier,
                ),
                call_now: t.emergency,
            },
            created.created,
        ))
    }

    /// A request as its citizen sees it, by its number and tracking code
    /// ([`mashangban_domain::public`] decides what is shown).
    pub async fn track_public(&self, number: &str, code: &str) -> Result<PublicTicket, AppError> {
        self.track_public_at(number, code, Utc::now()).await
    }

    /// [`App::track_public`] at a given time.
    pub async fn track_public_at(
        &self,
        number: &str,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<PublicTicket, AppError> {
        let ticket = self.ticket_by_code(number, code, now).await?;
        self.citizen_view(&ticket, now).await
    }

    /// A ticket as its citizen sees it; a merged request follows the matter it joined.
    pub(crate) async fn citizen_view(
        &self,
        ticket: &Ticket,
        now: DateTime<Utc>,
    ) -> Result<PublicTicket, AppError> {
        if let (TicketState::Merged, Some(parent)) = (ticket.state, ticket.parent_id)
            && let Some(parent) = self.store.get_ticket(parent).await?
        {
            let parent_view = self.public_view_of(&parent, now).await?;
            return Ok(merged_view(ticket, parent_view));
        }
        self.public_view_of(ticket, now).await
    }

    /// A citizen rates the approved answer of their request (一事一评) on the portal, with
    /// its tracking code (guarded as a look-up is): a good rating closes the request, a bad
    /// one waits for the hotline's review (差评待审). Returns the request as they now see it.
    pub async fn rate_public_at(
        &self,
        number: &str,
        body: serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<PublicTicket, AppError> {
        let b: RatingBody = mashangban_domain::lifecycle::from_json(body)?;
        let ticket = self.ticket_by_code(number, &b.code, now).await?;
        let rating = CitizenRating::new(b.contacted, b.resolution, b.satisfaction, b.comment)?;
        let ticket = self.commit_rating(ticket.id, rating, now).await?;
        self.public_view_of(&ticket, now).await
    }

    /// Records a citizen's rating on a ticket, decided by the domain's one rule
    /// ([`rate`]); a concurrent change is decided again.
    pub(crate) async fn commit_rating(
        &self,
        id: i64,
        rating: CitizenRating,
        now: DateTime<Utc>,
    ) -> Result<Ticket, AppError> {
        for _ in 0..crate::tickets::CONFLICT_RETRIES {
            let ticket = self
                .store
                .get_ticket(id)
                .await?
                .ok_or_else(|| AppError::NotFound(NOT_FOUND.into()))?;
            let events = rate(&ticket, rating.clone())?;
            let history = self.store.ticket_events(id).await?;
            let next_deadline = self
                .next_deadline_after(&ticket, &history, &events, &PORTAL, now)
                .await?;
            let notices = self
                .notices_for_change(&ticket, &events, &PORTAL, now)
                .await?;
            let change = Change {
                before: ticket,
                events,
                next_deadline: Some(next_deadline),
                notices,
            };
            match self.store.commit(vec![change], PORTAL, now).await {
                Ok(after) => {
                    return Ok(after
                        .into_iter()
                        .next()
                        .expect("one change committed")
                        .ticket);
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Conflict {
            code: "conflict",
            message: "the request keeps changing; try again".into(),
        })
    }

    /// An SMS from a citizen, as the SMS platform forwards it: signed with
    /// `MASHANGBAN_SMS_SECRET` like the webhooks (`X-Mashangban-Timestamp`, within five
    /// minutes of now, and `X-Mashangban-Signature: sha256=<hex HMAC of "{timestamp}.{body}">`).
    /// A digit answering a rating request (1 满意, 2 基本满意, 3 不满意) rates the newest
    /// answer of that number awaiting a rating; any other text is a new request on channel
    /// `sms` (whose receipt goes back by SMS). The same message id again changes nothing.
    pub async fn inbound_sms_at(
        &self,
        timestamp: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<InboundOutcome, AppError> {
        let Some(secret) = self.config.sms_secret.as_deref() else {
            return Err(AppError::Unauthenticated(
                "inbound SMS are not accepted: MASHANGBAN_SMS_SECRET is not set".into(),
            ));
        };
        check_signature(secret, timestamp, signature, body, now)?;
        let value: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| AppError::invalid("body", format!("is not JSON: {e}")))?;
        let sms: InboundSms = mashangban_domain::lifecycle::from_json(value)?;
        let id = sms.message_id.trim();
        if id.is_empty() || id.len() > 100 {
            return Err(AppError::invalid(
                "message_id",
                "must be 1 to 100 characters",
            ));
        }
        let key = format!("sms-in:{id}");
        if self.store.was_handled(&key).await? {
            return Ok(InboundOutcome {
                outcome: InboundResult::Replay,
                number: None,
            });
        }
        let phone = mashangban_domain::intake::validate_phone("from", Some(sms.from.clone()))?
            .ok_or_else(|| AppError::invalid("from", "is required"))?;
        let outcome = match CitizenRating::from_sms(&sms.text) {
            Some(rating) => {
                let waiting = self
                    .store
                    .list_tickets(&mashangban_store::TicketFilter {
                        states: vec![TicketState::AwaitingCallback],
                        citizen_phone: Some(phone.clone()),
                        limit: 1,
                        ..Default::default()
                    })
                    .await?;
                match waiting.into_iter().next() {
                    Some(t) => {
                        let t = self.commit_rating(t.id, rating, now).await?;
                        InboundOutcome {
                            outcome: InboundResult::Rated,
                            number: Some(t.number),
                        }
                    }
                    None => InboundOutcome {
                        outcome: InboundResult::NothingToRate,
                        number: None,
                    },
                }
            }
            None => {
                let new = mashangban_domain::public::parse_sms_request(&phone, &sms.text)?;
                let limit_key = format!("submit-phone:{phone}");
                if self.over_limits(&limit_key, now).await? {
                    InboundOutcome {
                        outcome: InboundResult::Limited,
                        number: None,
                    }
                } else {
                    // The message id keys the intake: a crash between taking the request and
                    // marking the message handled does not take it twice.
                    let idempotency = Some((
                        key.clone(),
                        crate::tickets::request_hash(&serde_json::json!(sms.text)),
                    ));
                    let created = self.receive(&PORTAL, new, idempotency, now).await?;
                    if created.created {
                        self.store
                            .record_attempt(&limit_key, now, now - LONGEST_WINDOW)
                            .await?;
                    }
                    InboundOutcome {
                        outcome: InboundResult::Received,
                        number: Some(created.ticket.number),
                    }
                }
            }
        };
        self.store.mark_handled(&key, now).await?;
        Ok(outcome)
    }

    /// Whether a key (a phone number, a client address) has reached [`SUBMIT_LIMITS`].
    pub(crate) async fn over_limits(
        &self,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, AppError> {
        for (window, max) in SUBMIT_LIMITS {
            if self.store.count_attempts(key, now - window).await? >= max {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The ticket of a number and its tracking code, with the guard against guessing: a
    /// wrong code and a missing number answer alike, and a number asked with too many
    /// wrong codes is locked for a while.
    pub(crate) async fn ticket_by_code(
        &self,
        number: &str,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<Ticket, AppError> {
        let number = number.trim().to_ascii_uppercase();
        let code = code.trim().to_ascii_uppercase();
        if code.is_empty() {
            return Err(AppError::invalid("code", "the tracking code is required"));
        }
        if number.is_empty() || number.len() > 40 || code.len() > 64 {
            return Err(AppError::NotFound(NOT_FOUND.into()));
        }
        let key = format!("track:{number}");
        if self.store.count_attempts(&key, now - TRACK_WINDOW).await? >= TRACK_MAX_WRONG {
            return Err(AppError::Locked(format!(
                "too many wrong tracking codes for this number; try again in {} minutes",
                TRACK_WINDOW.num_minutes()
            )));
        }
        let ticket = self.store.ticket_by_number(&number).await?;
        match ticket {
            Some(t) if same(&t.tracking_code, &code) => Ok(t),
            _ => {
                self.store
                    .record_attempt(&key, now, now - LONGEST_WINDOW)
                    .await?;
                Err(AppError::NotFound(NOT_FOUND.into()))
            }
        }
    }

    /// A ticket's public view, with the handling clock's due time while it runs.
    async fn public_view_of(
        &self,
        ticket: &Ticket,
        now: DateTime<Utc>,
    ) -> Result<PublicTicket, AppError> {
        let events = self.store.ticket_events(ticket.id).await?;
        let due = self
            .deadlines_of(ticket, &events, now)
            .await?
            .clocks
            .iter()
            .find(|c| {
                c.kind == ClockKind::Handling
                    && !matches!(c.state, ClockState::Met | ClockState::MetLate)
            })
            .and_then(|c| c.due);
        let r = self.reference().await?;
        Ok(public_view(
            ticket,
            |u| r.unit_name(u).map(str::to_string),
            due,
        ))
    }
}

/// How far an inbound message's timestamp may be from now, in seconds (a captured message
/// cannot be replayed later with its signature).
pub const INBOUND_SKEW_SECONDS: i64 = 300;

/// Checks an inbound message's signature: `sha256=<hex HMAC-SHA256 of "{timestamp}.{body}">`
/// with the shared secret, and a timestamp within [`INBOUND_SKEW_SECONDS`] of now.
pub(crate) fn check_signature(
    secret: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    use hmac::{KeyInit, Mac};
    let refuse = |why: &str| Err(AppError::Unauthenticated(why.to_string()));
    let Some(ts) = timestamp.and_then(|t| t.trim().parse::<i64>().ok()) else {
        return refuse("X-Mashangban-Timestamp is missing or not Unix seconds");
    };
    if (now.timestamp() - ts).abs() > INBOUND_SKEW_SECONDS {
        return refuse("X-Mashangban-Timestamp is more than 5 minutes from now");
    }
    let Some(given) = signature
        .and_then(|s| s.trim().strip_prefix("sha256="))
        .and_then(|h| hex::decode(h).ok())
    else {
        return refuse("X-Mashangban-Signature is missing or not sha256=<hex>");
    };
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(ts.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    // Compared in constant time.
    if mac.verify_slice(&given).is_err() {
        return refuse("X-Mashangban-Signature does not match the body");
    }
    Ok(())
}

/// An SMS a citizen sent, as the SMS platform forwards it.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboundSms {
    /// The platform's id of the message: the same id again is a replay, ignored.
    #[schema(max_length = 100)]
    pub message_id: String,
    /// The sender's number.
    #[schema(max_length = 30)]
    pub from: String,
    #[schema(max_length = 20000)]
    pub text: String,
}

/// What became of an inbound SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InboundResult {
    /// A digit that rated the newest answer of the number awaiting a rating.
    Rated,
    /// A digit, but no answer of the number awaits a rating: nothing recorded.
    NothingToRate,
    /// A new request on channel `sms`.
    Received,
    /// The number sent too many requests within the hour or the day: not taken.
    Limited,
    /// A message id already handled: nothing changed.
    Replay,
}

/// The answer to the SMS platform.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct InboundOutcome {
    pub outcome: InboundResult,
    /// The request rated or taken.
    pub number: Option<String>,
}

/// Whether two codes are the same, compared by their digests (the time taken says nothing
/// about how much of a guess was right).
fn same(a: &str, b: &str) -> bool {
    Sha256::digest(a.as_bytes()) == Sha256::digest(b.as_bytes())
}
