//! Reply inspection (答复质检) for the reviewer: the reply awaiting review on a ticket, read
//! against the request and the record (`mashangban_text::inspect_reply`), shown beside the
//! approve button and recorded with the approval (see `App::act_at`).

use mashangban_domain::reply_check::{ReplyFinding, ReplyRecord, reply_under_review};
use mashangban_domain::{Actor, Event, Ticket};
use serde::Serialize;

use crate::{App, AppError};

/// What the inspection finds in the reply awaiting review on a ticket.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReplyInspection {
    /// The unit whose reply awaits review: the lead unit's to the hotline, or a level's to
    /// the level above. None when no reply awaits review (then there are no findings).
    pub unit_id: Option<i64>,
    /// The reply inspected.
    pub reply: Option<String>,
    /// What the reply may lack or get wrong, each with why and the words it rests on.
    /// Advice: an approval is never refused for them; they are recorded with it.
    pub findings: Vec<ReplyFinding>,
}

/// The findings in `reply` (the reply of `unit_id`, or its edited version a level passes
/// up) on `ticket`, whose events are `events`.
pub fn inspect(
    ticket: &Ticket,
    events: &[Event],
    unit_id: Option<i64>,
    reply: &str,
) -> Vec<ReplyFinding> {
    let record = ReplyRecord::of(ticket, events, unit_id);
    mashangban_text::inspect_reply(&ticket.content, reply, &record)
}

/// The reply awaiting review on `ticket` and its findings.
pub fn inspection(ticket: &Ticket, events: &[Event]) -> ReplyInspection {
    match reply_under_review(ticket) {
        Some((unit_id, reply)) => ReplyInspection {
            unit_id,
            reply: Some(reply.to_string()),
            findings: inspect(ticket, events, unit_id, reply),
        },
        None => ReplyInspection {
            unit_id: None,
            reply: None,
            findings: Vec::new(),
        },
    }
}

impl App {
    /// The inspection of the reply awaiting review on a ticket the actor may read.
    pub async fn reply_inspection(
        &self,
        actor: &Actor,
        id: i64,
    ) -> Result<ReplyInspection, AppError> {
        let ticket = self.visible_ticket(actor, id).await?;
        let events = self.store.ticket_events(ticket.id).await?;
        Ok(inspection(&ticket, &events))
    }
}
