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
    PublicReceipt, PublicTicket, merged_view, parse_submission, public_view,
};
use mashangban_domain::{Actor, Role, Ticket, TicketState};
use sha2::{Digest, Sha256};
use std::net::IpAddr;

/// Wrong tracking codes for one number within [`TRACK_WINDOW`] before it is locked.
pub const TRACK_MAX_WRONG: i64 = 10;
/// The window the wrong codes are counted in, and how long a lock lasts.
pub const TRACK_WINDOW: Duration = Duration::hours(1);
/// The longest window any attempt is counted in (older attempts are forgotten).
const LONGEST_WINDOW: Duration = Duration::days(1);

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
        let new = parse_submission(body)?;
        let mut keys = Vec::new();
        if let Some(phone) = &new.citizen.phone {
            keys.push(format!("submit-phone:{phone}"));
        }
        if let Some(ip) = client {
            keys.push(format!("submit-addr:{ip}"));
        }
        for key in &keys {
            for (window, max) in SUBMIT_LIMITS {
                if self.store.count_attempts(key, now - window).await? >= max {
                    return Err(AppError::Locked(format!(
                        "提交过于频繁：同一号码或同一网络每小时最多{}件、每天最多{}件，请稍后再试，或拨打12345。",
                        SUBMIT_LIMITS[0].1, SUBMIT_LIMITS[1].1
                    )));
                }
            }
        }
        let category = new.category_code.clone();
        let created = self.receive(&PORTAL, new, idempotency, now).await?;
        if created.created {
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
        let ticket = match ticket {
            Some(t) if same(&t.tracking_code, &code) => t,
            _ => {
                self.store
                    .record_attempt(&key, now, now - LONGEST_WINDOW)
                    .await?;
                return Err(AppError::NotFound(NOT_FOUND.into()));
            }
        };
        // A merged request follows the matter it joined.
        if let (TicketState::Merged, Some(parent)) = (ticket.state, ticket.parent_id)
            && let Some(parent) = self.store.get_ticket(parent).await?
        {
            let parent_view = self.public_view_of(&parent, now).await?;
            return Ok(merged_view(&ticket, parent_view));
        }
        self.public_view_of(&ticket, now).await
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

/// Whether two codes are the same, compared by their digests (the time taken says nothing
/// about how much of a guess was right).
fn same(a: &str, b: &str) -> bool {
    Sha256::digest(a.as_bytes()) == Sha256::digest(b.as_bytes())
}
