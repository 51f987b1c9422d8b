//! The citizen's side (群众端): looking up a request by its number and tracking code. Open to
//! anyone, so it guards itself: a wrong code and a number that does not exist answer alike
//! (nothing to enumerate), and a number asked with wrong codes too often is locked for a
//! while, across every instance (the attempts are counted in the database).

use crate::{App, AppError};
use chrono::{DateTime, Duration, Utc};
use mashangban_domain::deadlines::{ClockKind, ClockState};
use mashangban_domain::public::{PublicTicket, merged_view, public_view};
use mashangban_domain::{Ticket, TicketState};
use sha2::{Digest, Sha256};

/// Wrong tracking codes for one number within [`TRACK_WINDOW`] before it is locked.
pub const TRACK_MAX_WRONG: i64 = 10;
/// The window the wrong codes are counted in, and how long a lock lasts.
pub const TRACK_WINDOW: Duration = Duration::hours(1);
/// The longest window any attempt is counted in (older attempts are forgotten).
const LONGEST_WINDOW: Duration = Duration::days(1);

/// The answer to a wrong code and to a number that does not exist: the same, word for word.
const NOT_FOUND: &str = "no request has this number and tracking code";

impl App {
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
