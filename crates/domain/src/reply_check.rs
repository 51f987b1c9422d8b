//! Reply inspection (答复质检): what a unit's reply may lack or get wrong, as the reviewer
//! sees it beside the approve button. The findings are advice: they never block an approval
//! by themselves, are recorded with it (`EventKind::ReplyApproved`), and their rate per unit
//! is part of the evaluation (`Tally::replies_flagged`).
//!
//! The text is read by `mashangban_text::inspect_reply`; this module holds the vocabulary
//! and what the ticket's record says ([`ReplyRecord`]), which a reply must not contradict.

use crate::lifecycle::{Event, EventKind};
use crate::ticket::{AssignmentState, Ticket};
use serde::{Deserialize, Serialize};

crate::types::wire_enum!(
    /// What a finding is about. The labelling rubric (`eval/replies/RUBRIC.md`) defines each.
    ReplyFindingKind {
        UnaddressedPoint => "unaddressed_point", "诉求要点未回应";
        NoAction => "no_action", "无具体措施或时限";
        BuckPassing => "buck_passing", "推诿";
        EmptyPromise => "empty_promise", "空泛承诺";
        PersonalData => "personal_data", "含他人个人信息";
        ContradictsRecord => "contradicts_record", "与办理记录矛盾";
    }
);

impl ReplyFindingKind {
    /// The label for a reader of English.
    pub fn label_en(self) -> &'static str {
        match self {
            ReplyFindingKind::UnaddressedPoint => "A point of the request is not addressed",
            ReplyFindingKind::NoAction => "No concrete action, answer or date",
            ReplyFindingKind::BuckPassing => "Passes the buck",
            ReplyFindingKind::EmptyPromise => "Vague promise",
            ReplyFindingKind::PersonalData => "Another person's personal data",
            ReplyFindingKind::ContradictsRecord => "Contradicts the record",
        }
    }
}

/// One finding: what it is, why (a sentence for the reviewer), and the words that show it,
/// quoted from the request or the reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReplyFinding {
    pub kind: ReplyFindingKind,
    /// Why, in Simplified Chinese (the reviewer's language).
    #[schema(max_length = 1000)]
    pub why: String,
    /// The words of the request or the reply the finding rests on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
}

/// What the ticket's record says that a reply must agree with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplyRecord {
    /// An extension request awaited the hotline's decision when the reply came (a reply
    /// lets the request lapse): the unit itself had just said it was not done.
    pub extension_pending: bool,
    /// Units below the replying one still holding their part (their ids).
    pub levels_open: Vec<i64>,
    /// A contact with the citizen was recorded (联系群众).
    pub contact_recorded: bool,
    /// The request left a phone number.
    pub citizen_has_phone: bool,
    /// The citizen's own numbers (digits only), which a reply may name.
    pub citizen_phones: Vec<String>,
}

impl ReplyRecord {
    /// The record as it stands for the reply of `unit_id` (the lead unit's reply to the
    /// hotline, or a level's reply to the level above): the levels below that unit still
    /// open, the contacts recorded, and from the ticket's events whether an extension
    /// request was pending when the reply came.
    pub fn of(ticket: &Ticket, events: &[Event], unit_id: Option<i64>) -> ReplyRecord {
        let below: Vec<i64> = match unit_id {
            Some(u) if Some(u) != ticket.lead_unit_id => ticket
                .chain
                .iter()
                .filter(|a| a.from_unit_id == u && a.state.is_active())
                .map(|a| a.unit_id)
                .collect(),
            _ => ticket
                .chain
                .iter()
                .filter(|a| a.state.is_active())
                .map(|a| a.unit_id)
                .collect(),
        };
        let digits = |p: &str| p.chars().filter(char::is_ascii_digit).collect::<String>();
        ReplyRecord {
            extension_pending: ticket.pending_extension.is_some()
                || extension_pending_at_reply(events),
            levels_open: below,
            contact_recorded: ticket.first_contact_at.is_some()
                || ticket.chain.iter().any(|a| a.first_contact_at.is_some()),
            citizen_has_phone: ticket
                .citizen
                .phone
                .as_deref()
                .is_some_and(|p| !p.trim().is_empty()),
            citizen_phones: ticket
                .citizen
                .phone
                .as_deref()
                .map(digits)
                .into_iter()
                .collect(),
        }
    }
}

/// Whether an extension request was pending when the last reply came: asked for and not
/// decided before it.
fn extension_pending_at_reply(events: &[Event]) -> bool {
    let mut pending = false;
    let mut at_reply = false;
    for e in events {
        match e.kind {
            EventKind::ExtensionRequested { .. } => pending = true,
            EventKind::ExtensionApproved { .. } | EventKind::ExtensionRejected { .. } => {
                pending = false
            }
            EventKind::Replied { .. } => {
                at_reply = pending;
                pending = false;
            }
            _ => {}
        }
    }
    at_reply
}

/// The reply awaiting review on a ticket, with the record it is checked against: the lead
/// unit's reply to the hotline (state `replied`), else the reply of the lowest level that
/// awaits the level above. None when no reply awaits review.
pub fn reply_under_review(ticket: &Ticket) -> Option<(Option<i64>, &str)> {
    if ticket.state == crate::types::TicketState::Replied {
        return ticket.reply.as_deref().map(|r| (ticket.lead_unit_id, r));
    }
    ticket
        .chain
        .iter()
        .filter(|a| a.state == AssignmentState::Replied)
        .max_by_key(|a| a.level)
        .and_then(|a| a.reply.as_deref().map(|r| (Some(a.unit_id), r)))
}
