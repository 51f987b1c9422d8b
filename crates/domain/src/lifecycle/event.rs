//! Events: what happened to a ticket, the audit trail.

use crate::channel::Channel;
use crate::ticket::{Actor, Citizen, Ticket};
use crate::types::{Kind, RatingSource, Resolution, Satisfaction, SupervisionLevel};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How a ticket came to be closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CloseOutcome {
    /// Closed by a good callback.
    Callback,
    /// The citizen could not be reached after repeated attempts.
    Unreachable,
    /// Closed by hand without a callback.
    Manual,
    /// The citizen's bad rating was judged unreasonable (excluded from the figures).
    RatingExcluded,
}

/// What happened to a ticket. Stored as JSON with a `type` tag; the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
// `Received` carries the whole request; events are few per ticket and short-lived in
// memory, so boxing it would only add an allocation to every read.
#[allow(clippy::large_enum_variant)]
pub enum EventKind {
    Received {
        number: String,
        tracking_code: String,
        channel: Channel,
        channel_detail: Option<String>,
        /// The call's recording in the telephone system (its id or address there).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recording: Option<String>,
        kind: Kind,
        title: String,
        content: String,
        citizen: Citizen,
        confidential: bool,
        address: Option<String>,
        category_code: Option<String>,
        division_code: Option<String>,
        /// The category the system proposed while the request was taken (the operator's
        /// choice is `category_code`): what the classifier's feedback is measured on.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        suggested_category_code: Option<String>,
        /// The community whose grid worker reported the matter on patrol (网格上报).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reported_by_unit_id: Option<i64>,
        /// How the place was decided.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        place: Option<crate::intake::PlaceFinding>,
        /// The emergency number the request's words call for (110, 119, 120, 122), found
        /// as it was received.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        emergency: Option<String>,
        /// The platform that handed it over, with its id there and deadline.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exchange: Option<crate::exchange::ExchangeOrigin>,
    },
    ResolvedDirectly {
        answer: String,
    },
    /// The community that reported a matter on patrol resolved it itself (就地办结), with
    /// what was done.
    ResolvedOnSpot {
        unit_id: i64,
        action_taken: String,
    },
    /// The hotline corrected the matter's category.
    Recategorised {
        from: Option<String>,
        to: String,
        reason: String,
    },
    /// The hotline corrected the place (the division) of the matter.
    Relocated {
        from: Option<String>,
        to: String,
        reason: String,
    },
    /// Personal data were taken out of the ticket and its events, by the retention policy
    /// (保存期满) or at the citizen's request (`requested`): the kinds taken out. The
    /// figures are unchanged: they never held them.
    PersonalDataRemoved {
        kinds: Vec<crate::retention::RetainedKind>,
        #[serde(default)]
        requested: bool,
    },
    /// A unit recorded a residents' meeting (近邻议事会) held on the matter.
    MeetingRecorded {
        unit_id: i64,
        held_on: chrono::NaiveDate,
        participants: String,
        decision: String,
        who_pays: String,
    },
    Dispatched {
        lead_unit_id: i64,
        co_unit_ids: Vec<i64>,
        tier: Option<u8>,
        note: Option<String>,
    },
    Signed {
        note: Option<String>,
    },
    ReturnRequested {
        reason: String,
    },
    ReturnApproved {
        note: Option<String>,
    },
    ReturnRejected {
        note: Option<String>,
    },
    ConsultationOpened {
        note: Option<String>,
    },
    ConsultationDecided {
        lead_unit_id: i64,
        co_unit_ids: Vec<i64>,
        tier: Option<u8>,
        note: Option<String>,
    },
    ExtensionRequested {
        days: u32,
        reason: String,
    },
    ExtensionApproved {
        days: u32,
        note: Option<String>,
    },
    ExtensionRejected {
        note: Option<String>,
    },
    ContactRecorded {
        note: Option<String>,
    },
    NoteAdded {
        note: String,
    },
    Replied {
        content: String,
    },
    ReplyApproved {
        note: Option<String>,
        /// What the reply inspection (答复质检) found in the approved reply, as the reviewer
        /// saw it; none for approvals made before the inspection existed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        findings: Option<Vec<crate::reply_check::ReplyFinding>>,
    },
    ReplyRejected {
        reason: String,
    },
    /// Forwarded to a unit below the one doing the work (分级转办).
    Forwarded {
        unit_id: i64,
        from_unit_id: i64,
        level: u8,
        due_at: Option<DateTime<Utc>>,
        note: Option<String>,
        /// When the level must sign: the policy's sign allowance in working hours, never
        /// after its due time.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sign_by: Option<DateTime<Utc>>,
    },
    /// A level below the lead unit signed what was forwarded to it.
    AssignmentSigned {
        unit_id: i64,
        note: Option<String>,
    },
    /// A level below the lead unit replied to the level above.
    LevelReplied {
        unit_id: i64,
        content: String,
    },
    /// The level above approved the reply of `unit_id`, which is done.
    LevelReplyApproved {
        unit_id: i64,
        note: Option<String>,
        /// What the reply inspection found in the approved reply (see `ReplyApproved`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        findings: Option<Vec<crate::reply_check::ReplyFinding>>,
    },
    /// The level above sent the reply of `unit_id` back.
    LevelReplyRejected {
        unit_id: i64,
        reason: String,
    },
    /// A level below the lead unit asked the level above to take the ticket back.
    LevelReturnRequested {
        unit_id: i64,
        reason: String,
    },
    /// The level above took the ticket back from `unit_id`.
    LevelReturnApproved {
        unit_id: i64,
        note: Option<String>,
    },
    /// The level above kept `unit_id` on the ticket.
    LevelReturnRejected {
        unit_id: i64,
        note: Option<String>,
    },
    /// A level below the lead unit passed the time the level above gave it without
    /// replying (recorded by the deadline watcher, once).
    LevelOverdue {
        unit_id: i64,
        due_at: DateTime<Utc>,
    },
    /// A level below the lead unit passed its sign-by time without signing (recorded by the
    /// deadline watcher, once).
    LevelSignOverdue {
        unit_id: i64,
        sign_by: DateTime<Utc>,
    },
    /// A department called to the spot passed its time without reporting in (recorded by
    /// the deadline watcher, once).
    SummonsOverdue {
        unit_id: i64,
        due_at: DateTime<Utc>,
    },
    /// The unit holding the ticket called a department to the spot (吹哨).
    Summoned {
        unit_id: i64,
        by_unit_id: i64,
        reason: String,
        due_at: DateTime<Utc>,
    },
    /// A department called to the spot reported in (报到).
    ReportedIn {
        unit_id: i64,
        note: String,
    },
    /// A callback's answers: an agent's (all three), or the citizen's own rating (一事一评),
    /// which may leave `contacted` and `resolution` unsaid. A citizen's bad rating puts the
    /// ticket in review (差评待审) rather than reopening it.
    CallbackRecorded {
        contacted: Option<bool>,
        resolution: Option<Resolution>,
        satisfaction: Satisfaction,
        note: Option<String>,
        #[serde(default)]
        source: RatingSource,
    },
    /// The matter a merged request joined was answered (its reply approved): the merged
    /// request's citizen is given the same answer and may rate it, as its own callback.
    ParentAnswered {
        parent_id: i64,
        reply: String,
        lead_unit_id: Option<i64>,
    },
    /// The hotline judged a citizen's bad rating: reasonable (the matter is redone) or not
    /// (the rating is excluded from the figures, with the reason).
    RatingReviewed {
        reasonable: bool,
        reason: Option<String>,
    },
    CallbackUnreachable {
        attempt: u32,
        note: Option<String>,
    },
    Reopened {
        reason: Option<String>,
    },
    Closed {
        outcome: CloseOutcome,
        note: Option<String>,
    },
    Merged {
        parent_id: i64,
    },
    ChildMerged {
        child_id: i64,
    },
    /// A clock passed its warning point (recorded by the deadline watcher, once per due point).
    DeadlineWarned {
        clock: crate::deadlines::ClockKind,
        due_at: DateTime<Utc>,
    },
    /// A clock passed its due point (recorded by the deadline watcher, once per due point).
    DeadlineBreached {
        clock: crate::deadlines::ClockKind,
        due_at: DateTime<Utc>,
    },
    NotAccepted {
        reason: String,
        redirect_to: Option<String>,
    },
    /// Handed to another platform or an emergency line (转出): it ends here.
    TransferredOut {
        to: String,
        reason: String,
        agreement: Option<String>,
    },
    ContactRevealed {},
    /// Supervision raised (督办): by a rule of the policy (`automatic`, recorded by the
    /// deadline watcher) or by a supervisor with a note.
    Supervised {
        level: SupervisionLevel,
        reason: String,
        automatic: bool,
    },
    /// The lead unit's answer to the current supervision.
    SupervisionAnswered {
        level: SupervisionLevel,
        answer: String,
    },
}

impl EventKind {
    /// A callback's answers, when the event records one.
    pub fn callback_answers(&self) -> Option<crate::ticket::CallbackAnswers> {
        match self {
            EventKind::CallbackRecorded {
                contacted,
                resolution,
                satisfaction,
                source,
                ..
            } => Some(crate::ticket::CallbackAnswers {
                contacted: *contacted,
                resolution: *resolution,
                satisfaction: *satisfaction,
                source: *source,
            }),
            _ => None,
        }
    }

    /// The `type` tag.
    pub fn type_name(&self) -> &'static str {
        match self {
            EventKind::Received { .. } => "received",
            EventKind::ResolvedDirectly { .. } => "resolved_directly",
            EventKind::ResolvedOnSpot { .. } => "resolved_on_spot",
            EventKind::MeetingRecorded { .. } => "meeting_recorded",
            EventKind::PersonalDataRemoved { .. } => "personal_data_removed",
            EventKind::Recategorised { .. } => "recategorised",
            EventKind::Relocated { .. } => "relocated",
            EventKind::Dispatched { .. } => "dispatched",
            EventKind::Signed { .. } => "signed",
            EventKind::ReturnRequested { .. } => "return_requested",
            EventKind::ReturnApproved { .. } => "return_approved",
            EventKind::ReturnRejected { .. } => "return_rejected",
            EventKind::ConsultationOpened { .. } => "consultation_opened",
            EventKind::ConsultationDecided { .. } => "consultation_decided",
            EventKind::ExtensionRequested { .. } => "extension_requested",
            EventKind::ExtensionApproved { .. } => "extension_approved",
            EventKind::ExtensionRejected { .. } => "extension_rejected",
            EventKind::ContactRecorded { .. } => "contact_recorded",
            EventKind::NoteAdded { .. } => "note_added",
            EventKind::Replied { .. } => "replied",
            EventKind::ReplyApproved { .. } => "reply_approved",
            EventKind::ReplyRejected { .. } => "reply_rejected",
            EventKind::CallbackRecorded { .. } => "callback_recorded",
            EventKind::CallbackUnreachable { .. } => "callback_unreachable",
            EventKind::RatingReviewed { .. } => "rating_reviewed",
            EventKind::ParentAnswered { .. } => "parent_answered",
            EventKind::Reopened { .. } => "reopened",
            EventKind::Closed { .. } => "closed",
            EventKind::Merged { .. } => "merged",
            EventKind::ChildMerged { .. } => "child_merged",
            EventKind::DeadlineWarned { .. } => "deadline_warned",
            EventKind::DeadlineBreached { .. } => "deadline_breached",
            EventKind::NotAccepted { .. } => "not_accepted",
            EventKind::TransferredOut { .. } => "transferred_out",
            EventKind::ContactRevealed {} => "contact_revealed",
            EventKind::Supervised { .. } => "supervised",
            EventKind::SupervisionAnswered { .. } => "supervision_answered",
            EventKind::Forwarded { .. } => "forwarded",
            EventKind::AssignmentSigned { .. } => "assignment_signed",
            EventKind::LevelReplied { .. } => "level_replied",
            EventKind::LevelReplyApproved { .. } => "level_reply_approved",
            EventKind::LevelReplyRejected { .. } => "level_reply_rejected",
            EventKind::LevelReturnRequested { .. } => "level_return_requested",
            EventKind::LevelReturnApproved { .. } => "level_return_approved",
            EventKind::LevelReturnRejected { .. } => "level_return_rejected",
            EventKind::LevelOverdue { .. } => "level_overdue",
            EventKind::LevelSignOverdue { .. } => "level_sign_overdue",
            EventKind::SummonsOverdue { .. } => "summons_overdue",
            EventKind::Summoned { .. } => "summoned",
            EventKind::ReportedIn { .. } => "reported_in",
        }
    }

    /// The event as a reader without the right to see citizens' identity sees it.
    pub fn masked(&self, confidential: bool) -> EventKind {
        match self {
            EventKind::Received { citizen, .. } => {
                let mut e = self.clone();
                if let EventKind::Received {
                    citizen: c,
                    recording,
                    ..
                } = &mut e
                {
                    *c = crate::ticket::mask_citizen(citizen, confidential);
                    *recording = None;
                }
                e
            }
            _ => self.clone(),
        }
    }
}

/// An event as stored: which ticket, its place in the ticket's history, who, when, what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Event {
    pub ticket_id: i64,
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// The events a change appends to a ticket at `before`'s version: numbered on from it, at one
/// time, by one actor.
pub fn appended(
    before: &Ticket,
    kinds: &[EventKind],
    actor: Actor,
    at: DateTime<Utc>,
) -> Vec<Event> {
    kinds
        .iter()
        .enumerate()
        .map(|(i, kind)| Event {
            ticket_id: before.id,
            seq: before.version + 1 + i as i64,
            at,
            actor,
            kind: kind.clone(),
        })
        .collect()
}
