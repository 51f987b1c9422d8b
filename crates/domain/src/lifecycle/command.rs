//! Commands: an action with its validated payload.

use crate::error::DomainError;
use crate::ticket::CallbackAnswers;
use crate::types::{RatingSource, SupervisionLevel, TIERS};

use super::*;

/// The answers of a callback, or that the citizen could not be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackInput {
    Answered {
        answers: CallbackAnswers,
        note: Option<String>,
    },
    Unreachable {
        note: Option<String>,
    },
}

/// A command: an action with its validated payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    ResolveDirectly {
        answer: String,
    },
    Dispatch {
        lead_unit_id: i64,
        co_unit_ids: Vec<i64>,
        tier: Option<u8>,
        note: Option<String>,
    },
    Sign {
        note: Option<String>,
    },
    RequestReturn {
        reason: String,
    },
    ApproveReturn {
        note: Option<String>,
    },
    RejectReturn {
        note: Option<String>,
    },
    OpenConsultation {
        note: Option<String>,
    },
    DecideConsultation {
        lead_unit_id: i64,
        co_unit_ids: Vec<i64>,
        tier: Option<u8>,
        note: Option<String>,
    },
    RequestExtension {
        days: u32,
        reason: String,
    },
    ApproveExtension {
        note: Option<String>,
    },
    RejectExtension {
        note: Option<String>,
    },
    RecordContact {
        note: Option<String>,
    },
    AddNote {
        note: String,
    },
    Reply {
        content: String,
    },
    ApproveReply {
        note: Option<String>,
        /// The reply as the reviewing level passes it up (a level of the chain only);
        /// none: as the level below wrote it.
        content: Option<String>,
    },
    RejectReply {
        reason: String,
    },
    RecordCallback(CallbackInput),
    Close {
        note: Option<String>,
    },
    Reopen {
        reason: Option<String>,
    },
    Merge {
        parent_id: i64,
    },
    NotAccept {
        reason: String,
        redirect_to: Option<String>,
    },
    RevealContact,
    /// Raises the supervision by hand: to `level`, or to the next level when none is given.
    Supervise {
        level: Option<SupervisionLevel>,
        note: String,
    },
    AnswerSupervision {
        answer: String,
    },
    /// Calls a department to the spot (吹哨): it must report in by `by` (by default within
    /// the policy's hours).
    Summon {
        unit_id: i64,
        reason: String,
        by: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// A department called to the spot reports in (报到) with what it did.
    ReportIn {
        note: String,
    },
    /// The community that reported the matter resolves it itself (就地办结).
    ResolveOnSpot {
        action_taken: String,
    },
    /// Records a residents' meeting (近邻议事会) held on the matter.
    RecordMeeting {
        held_on: chrono::NaiveDate,
        participants: String,
        decision: String,
        who_pays: String,
    },
    /// Corrects the matter's category (a leaf of the taxonomy).
    Recategorise {
        category_code: String,
        reason: String,
    },
    /// Corrects the place: the division the matter is in.
    Relocate {
        division_code: String,
        reason: String,
    },
    /// Judges a citizen's bad rating (差评待审): reasonable sends the matter back to the lead
    /// unit; unreasonable needs the reason and excludes the rating from the figures.
    ReviewRating {
        reasonable: bool,
        reason: Option<String>,
    },
    /// Hands the request to another platform or an emergency line (转出).
    TransferOut {
        to: String,
        reason: String,
        agreement: Option<String>,
    },
    /// Passes the ticket to a unit below the one doing the work (分级转办).
    Forward {
        unit_id: i64,
        note: Option<String>,
        due_at: Option<chrono::DateTime<chrono::Utc>>,
    },
}

impl Command {
    pub fn action(&self) -> Action {
        match self {
            Command::ResolveDirectly { .. } => Action::ResolveDirectly,
            Command::Dispatch { .. } => Action::Dispatch,
            Command::Sign { .. } => Action::Sign,
            Command::RequestReturn { .. } => Action::RequestReturn,
            Command::ApproveReturn { .. } => Action::ApproveReturn,
            Command::RejectReturn { .. } => Action::RejectReturn,
            Command::OpenConsultation { .. } => Action::OpenConsultation,
            Command::DecideConsultation { .. } => Action::DecideConsultation,
            Command::RequestExtension { .. } => Action::RequestExtension,
            Command::ApproveExtension { .. } => Action::ApproveExtension,
            Command::RejectExtension { .. } => Action::RejectExtension,
            Command::RecordContact { .. } => Action::RecordContact,
            Command::AddNote { .. } => Action::AddNote,
            Command::Reply { .. } => Action::Reply,
            Command::ApproveReply { .. } => Action::ApproveReply,
            Command::RejectReply { .. } => Action::RejectReply,
            Command::RecordCallback(_) => Action::RecordCallback,
            Command::Close { .. } => Action::Close,
            Command::Reopen { .. } => Action::Reopen,
            Command::Merge { .. } => Action::Merge,
            Command::NotAccept { .. } => Action::NotAccept,
            Command::TransferOut { .. } => Action::TransferOut,
            Command::RevealContact => Action::RevealContact,
            Command::Supervise { .. } => Action::Supervise,
            Command::AnswerSupervision { .. } => Action::AnswerSupervision,
            Command::Forward { .. } => Action::Forward,
            Command::Summon { .. } => Action::Summon,
            Command::ReportIn { .. } => Action::ReportIn,
            Command::ResolveOnSpot { .. } => Action::ResolveOnSpot,
            Command::RecordMeeting { .. } => Action::RecordMeeting,
            Command::Recategorise { .. } => Action::Recategorise,
            Command::Relocate { .. } => Action::Relocate,
            Command::ReviewRating { .. } => Action::ReviewRating,
        }
    }

    /// Units a command names, which must exist (checked by the application against the store).
    pub fn named_units(&self) -> Vec<(&'static str, i64)> {
        match self {
            Command::Dispatch {
                lead_unit_id,
                co_unit_ids,
                ..
            }
            | Command::DecideConsultation {
                lead_unit_id,
                co_unit_ids,
                ..
            } => {
                let mut v = vec![("lead_unit_id", *lead_unit_id)];
                v.extend(co_unit_ids.iter().map(|u| ("co_unit_ids", *u)));
                v
            }
            Command::Forward { unit_id, .. } | Command::Summon { unit_id, .. } => {
                vec![("unit_id", *unit_id)]
            }
            _ => Vec::new(),
        }
    }

    /// Parses and validates the JSON body of `POST /tickets/{id}/{action}`. Unknown fields,
    /// wrong types, missing or over-long text are refused with the field named.
    pub fn parse(action: Action, body: serde_json::Value) -> Result<Command, DomainError> {
        let body = if body.is_null() {
            serde_json::Value::Object(Default::default())
        } else {
            body
        };
        Ok(match action {
            Action::ResolveDirectly => {
                let b: payload::Answer = from_json(body)?;
                Command::ResolveDirectly {
                    answer: required_text("answer", b.answer)?,
                }
            }
            Action::Dispatch | Action::DecideConsultation => {
                let b: payload::Dispatch = from_json(body)?;
                let tier = match b.tier {
                    None => None,
                    Some(t) if TIERS.contains(&t) => Some(t),
                    Some(t) => {
                        return Err(DomainError::invalid(
                            "tier",
                            format!("{t} is not a handling tier; expected one of 1, 3, 7, 11"),
                        ));
                    }
                };
                let mut co = Vec::new();
                for u in b.co_unit_ids.unwrap_or_default() {
                    if u == b.lead_unit_id {
                        return Err(DomainError::invalid(
                            "co_unit_ids",
                            "the lead unit cannot also be a co-unit",
                        ));
                    }
                    if co.contains(&u) {
                        return Err(DomainError::invalid(
                            "co_unit_ids",
                            format!("unit {u} is listed twice"),
                        ));
                    }
                    co.push(u);
                }
                if co.len() > 20 {
                    return Err(DomainError::invalid("co_unit_ids", "at most 20 co-units"));
                }
                let note = optional_text("note", b.note)?;
                if action == Action::Dispatch {
                    Command::Dispatch {
                        lead_unit_id: b.lead_unit_id,
                        co_unit_ids: co,
                        tier,
                        note,
                    }
                } else {
                    Command::DecideConsultation {
                        lead_unit_id: b.lead_unit_id,
                        co_unit_ids: co,
                        tier,
                        note,
                    }
                }
            }
            Action::RequestReturn => {
                let b: payload::Reason = from_json(body)?;
                Command::RequestReturn {
                    reason: required_text("reason", b.reason)?,
                }
            }
            Action::RequestExtension => {
                let b: payload::Extension = from_json(body)?;
                if b.days == 0 || b.days > MAX_EXTENSION_DAYS {
                    return Err(DomainError::invalid(
                        "days",
                        format!("must be between 1 and {MAX_EXTENSION_DAYS} working days"),
                    ));
                }
                Command::RequestExtension {
                    days: b.days,
                    reason: required_text("reason", b.reason)?,
                }
            }
            Action::AddNote => {
                let b: payload::RequiredNote = from_json(body)?;
                Command::AddNote {
                    note: required_text("note", b.note)?,
                }
            }
            Action::Reply => {
                let b: payload::Reply = from_json(body)?;
                Command::Reply {
                    content: required_text("content", b.content)?,
                }
            }
            Action::RejectReply => {
                let b: payload::Reason = from_json(body)?;
                Command::RejectReply {
                    reason: required_text("reason", b.reason)?,
                }
            }
            Action::RecordCallback => {
                let b: payload::Callback = from_json(body)?;
                let note = optional_text("note", b.note)?;
                if b.unreachable == Some(true) {
                    if b.contacted.is_some() || b.resolution.is_some() || b.satisfaction.is_some() {
                        return Err(DomainError::invalid(
                            "unreachable",
                            "an unreachable callback carries no answers",
                        ));
                    }
                    Command::RecordCallback(CallbackInput::Unreachable { note })
                } else {
                    let answers = CallbackAnswers {
                        source: RatingSource::Agent,
                        contacted: Some(b.contacted.ok_or_else(|| {
                            DomainError::invalid(
                                "contacted",
                                "is required (true or false), or send {\"unreachable\": true}",
                            )
                        })?),
                        resolution: Some(b.resolution.ok_or_else(|| {
                            DomainError::invalid(
                                "resolution",
                                "is required: resolved, partly or unresolved",
                            )
                        })?),
                        satisfaction: b.satisfaction.ok_or_else(|| {
                            DomainError::invalid(
                                "satisfaction",
                                "is required: satisfied, basically or dissatisfied",
                            )
                        })?,
                    };
                    Command::RecordCallback(CallbackInput::Answered { answers, note })
                }
            }
            Action::ReviewRating => {
                let b: payload::ReviewRating = from_json(body)?;
                let reasonable = b.reasonable.ok_or_else(|| {
                    DomainError::invalid(
                        "reasonable",
                        "is required: true (重办 by the lead unit) or false (excluded, with the reason)",
                    )
                })?;
                let reason = optional_text("reason", b.reason)?;
                if !reasonable && reason.is_none() {
                    return Err(DomainError::invalid(
                        "reason",
                        "is required when the rating is judged unreasonable",
                    ));
                }
                Command::ReviewRating { reasonable, reason }
            }
            Action::Reopen => {
                let b: payload::OptionalReason = from_json(body)?;
                Command::Reopen {
                    reason: optional_text("reason", b.reason.or(b.note))?,
                }
            }
            Action::Merge => {
                let b: payload::Merge = from_json(body)?;
                Command::Merge {
                    parent_id: b.parent_id,
                }
            }
            Action::NotAccept => {
                let b: payload::NotAccept = from_json(body)?;
                let redirect_to = optional_text("redirect_to", b.redirect_to)?;
                if redirect_to
                    .as_ref()
                    .is_some_and(|r| r.chars().count() > 100)
                {
                    return Err(DomainError::invalid(
                        "redirect_to",
                        "at most 100 characters",
                    ));
                }
                Command::NotAccept {
                    reason: required_text("reason", b.reason)?,
                    redirect_to,
                }
            }
            Action::TransferOut => {
                let b: payload::TransferOut = from_json(body)?;
                let to = crate::exchange::check_code(b.to.trim())
                    .map_err(|_| DomainError::invalid("to", "is not a platform's code"))?;
                let agreement = optional_text("agreement", b.agreement)?;
                if agreement.as_ref().is_some_and(|a| a.chars().count() > 100) {
                    return Err(DomainError::invalid("agreement", "at most 100 characters"));
                }
                Command::TransferOut {
                    to,
                    reason: required_text("reason", b.reason)?,
                    agreement,
                }
            }
            Action::RevealContact => {
                let _: payload::Empty = from_json(body)?;
                Command::RevealContact
            }
            Action::Supervise => {
                let b: payload::Supervise = from_json(body)?;
                Command::Supervise {
                    level: b.level,
                    note: required_text("note", b.note)?,
                }
            }
            Action::AnswerSupervision => {
                let b: payload::Answer = from_json(body)?;
                Command::AnswerSupervision {
                    answer: required_text("answer", b.answer)?,
                }
            }
            Action::Forward => {
                let b: payload::Forward = from_json(body)?;
                Command::Forward {
                    unit_id: b.unit_id,
                    note: optional_text("note", b.note)?,
                    due_at: b.due_at,
                }
            }
            Action::Summon => {
                let b: payload::Summon = from_json(body)?;
                Command::Summon {
                    unit_id: b.unit_id,
                    reason: required_text("reason", b.reason)?,
                    by: b.by,
                }
            }
            Action::ReportIn => {
                let b: payload::RequiredNote = from_json(body)?;
                Command::ReportIn {
                    note: required_text("note", b.note)?,
                }
            }
            Action::ResolveOnSpot => {
                let b: payload::OnSpot = from_json(body)?;
                Command::ResolveOnSpot {
                    action_taken: required_text("action_taken", b.action_taken)?,
                }
            }
            Action::RecordMeeting => {
                let b: payload::Meeting = from_json(body)?;
                Command::RecordMeeting {
                    held_on: b.held_on,
                    participants: required_text("participants", b.participants)?,
                    decision: required_text("decision", b.decision)?,
                    who_pays: required_text("who_pays", b.who_pays)?,
                }
            }
            Action::Recategorise => {
                let b: payload::Recategorise = from_json(body)?;
                Command::Recategorise {
                    category_code: required_text("category_code", b.category_code)?,
                    reason: required_text("reason", b.reason)?,
                }
            }
            Action::Relocate => {
                let b: payload::Relocate = from_json(body)?;
                Command::Relocate {
                    division_code: required_text("division_code", b.division_code)?,
                    reason: required_text("reason", b.reason)?,
                }
            }
            Action::ApproveReply => {
                let b: payload::ApproveReply = from_json(body)?;
                Command::ApproveReply {
                    note: optional_text("note", b.note)?,
                    content: optional_text("content", b.content)?,
                }
            }
            Action::Sign
            | Action::ApproveReturn
            | Action::RejectReturn
            | Action::OpenConsultation
            | Action::ApproveExtension
            | Action::RejectExtension
            | Action::RecordContact
            | Action::Close => {
                let b: payload::Note = from_json(body)?;
                let note = optional_text("note", b.note)?;
                match action {
                    Action::Sign => Command::Sign { note },
                    Action::ApproveReturn => Command::ApproveReturn { note },
                    Action::RejectReturn => Command::RejectReturn { note },
                    Action::OpenConsultation => Command::OpenConsultation { note },
                    Action::ApproveExtension => Command::ApproveExtension { note },
                    Action::RejectExtension => Command::RejectExtension { note },
                    Action::RecordContact => Command::RecordContact { note },
                    _ => Command::Close { note },
                }
            }
        })
    }
}

/// The JSON schema of an action's request body, derived from the very type its body is read
/// into (see [`Command::parse`]); the API document shows it for each action.
pub fn body_schema(action: Action) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::PartialSchema;
    match action {
        Action::ResolveDirectly | Action::AnswerSupervision => payload::Answer::schema(),
        Action::Dispatch | Action::DecideConsultation => payload::Dispatch::schema(),
        Action::RequestReturn | Action::RejectReply => payload::Reason::schema(),
        Action::Reopen => payload::OptionalReason::schema(),
        Action::RequestExtension => payload::Extension::schema(),
        Action::AddNote => payload::RequiredNote::schema(),
        Action::Reply => payload::Reply::schema(),
        Action::RecordCallback => payload::Callback::schema(),
        Action::Merge => payload::Merge::schema(),
        Action::NotAccept => payload::NotAccept::schema(),
        Action::TransferOut => payload::TransferOut::schema(),
        Action::RevealContact => payload::Empty::schema(),
        Action::Supervise => payload::Supervise::schema(),
        Action::Forward => payload::Forward::schema(),
        Action::Summon => payload::Summon::schema(),
        Action::ReportIn => payload::RequiredNote::schema(),
        Action::ApproveReply => payload::ApproveReply::schema(),
        Action::ResolveOnSpot => payload::OnSpot::schema(),
        Action::RecordMeeting => payload::Meeting::schema(),
        Action::Recategorise => payload::Recategorise::schema(),
        Action::Relocate => payload::Relocate::schema(),
        Action::ReviewRating => payload::ReviewRating::schema(),
        Action::Sign
        | Action::ApproveReturn
        | Action::RejectReturn
        | Action::OpenConsultation
        | Action::ApproveExtension
        | Action::RejectExtension
        | Action::RecordContact
        | Action::Close => payload::Note::schema(),
    }
}

/// Request bodies as they arrive, before validation. Their schema attributes say what the
/// validation in [`Command::parse`] requires (free text: at most 5,000 characters, not
/// blank where required).
mod payload {
    use crate::types::{Resolution, Satisfaction};
    use serde::Deserialize;
    use utoipa::ToSchema;

    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Answer {
        #[schema(required = true, max_length = 5000)]
        pub answer: Option<String>,
    }
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Dispatch {
        /// The unit responsible to the hotline (主办).
        pub lead_unit_id: i64,
        /// Units that help (协办), at most 20, not the lead unit.
        #[schema(max_items = 20)]
        pub co_unit_ids: Option<Vec<i64>>,
        /// The handling tier in days (1, 3, 7 or 11); by default the catalogue entry's tier
        /// when it decides the owner, else the category's.
        #[schema(minimum = 1, maximum = 11)]
        pub tier: Option<u8>,
        #[schema(max_length = 5000)]
        pub note: Option<String>,
    }
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Reason {
        #[schema(required = true, max_length = 5000)]
        pub reason: Option<String>,
    }
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct OptionalReason {
        #[schema(max_length = 5000)]
        pub reason: Option<String>,
        /// Taken as the reason when no reason is given.
        #[schema(max_length = 5000)]
        pub note: Option<String>,
    }
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Extension {
        /// Working days more.
        #[schema(minimum = 1, maximum = 30)]
        pub days: u32,
        #[schema(required = true, max_length = 5000)]
        pub reason: Option<String>,
    }
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Note {
        #[schema(max_length = 5000)]
        pub note: Option<String>,
    }
    /// A note that must be given (the body of `add_note`).
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct RequiredNote {
        #[schema(required = true, max_length = 5000)]
        pub note: Option<String>,
    }
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Reply {
        #[schema(required = true, max_length = 5000)]
        pub content: Option<String>,
    }
    /// A callback's answers (`contacted`, `resolution` and `satisfaction` all required), or
    /// `{"unreachable": true}` when the citizen could not be reached.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Callback {
        pub contacted: Option<bool>,
        pub resolution: Option<Resolution>,
        pub satisfaction: Option<Satisfaction>,
        pub unreachable: Option<bool>,
        #[schema(max_length = 5000)]
        pub note: Option<String>,
    }
    /// The review of a citizen's bad rating: `reasonable`, and the reason (required when
    /// not reasonable).
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct ReviewRating {
        #[schema(required = true)]
        pub reasonable: Option<bool>,
        #[schema(max_length = 5000)]
        pub reason: Option<String>,
    }
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Merge {
        /// The open ticket this one joins.
        pub parent_id: i64,
    }
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct NotAccept {
        #[schema(required = true, max_length = 5000)]
        pub reason: Option<String>,
        /// Where the citizen should turn instead.
        #[schema(max_length = 100)]
        pub redirect_to: Option<String>,
    }
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct TransferOut {
        /// `110`, `119`, `120`, `122`, or a configured platform's code.
        #[schema(max_length = 32)]
        pub to: String,
        #[schema(required = true, max_length = 5000)]
        pub reason: Option<String>,
        /// Who at the originating platform agreed to take back a request it handed over
        /// (首接负责: required to hand a request back where it came from).
        #[schema(max_length = 100)]
        pub agreement: Option<String>,
    }
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Empty {}
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Forward {
        /// A unit below the one doing the work: a district government's street offices and
        /// departments, a street office's communities, a department's sub-units.
        pub unit_id: i64,
        #[schema(max_length = 5000)]
        pub note: Option<String>,
        /// When the level above wants the reply; by default its own time left less the
        /// review share of the deadline policy. Never later than the level above's.
        pub due_at: Option<chrono::DateTime<chrono::Utc>>,
    }
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Summon {
        /// A city department or public enterprise, or a department of the street's district.
        pub unit_id: i64,
        #[schema(required = true, max_length = 5000)]
        pub reason: Option<String>,
        /// When it must report in; by default within the deadline policy's
        /// `report_in_hours`.
        pub by: Option<chrono::DateTime<chrono::Utc>>,
    }
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Recategorise {
        /// An active category of the taxonomy, not the ticket's present one.
        #[schema(required = true, max_length = 32)]
        pub category_code: Option<String>,
        /// Why (kept in the timeline).
        #[schema(required = true, max_length = 5000)]
        pub reason: Option<String>,
    }
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Relocate {
        /// A division of the city (district, street or community), not the present one.
        #[schema(required = true, max_length = 32)]
        pub division_code: Option<String>,
        /// Why (kept in the timeline).
        #[schema(required = true, max_length = 5000)]
        pub reason: Option<String>,
    }
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct OnSpot {
        /// What the community did (就地办结): it stands as the answer to the citizen.
        #[schema(required = true, max_length = 5000)]
        pub action_taken: Option<String>,
    }
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Meeting {
        /// The day it was held (business time), not after today.
        pub held_on: chrono::NaiveDate,
        /// Who took part: residents' representatives, the building's party branch, the grid
        /// worker, the property company ...
        #[schema(required = true, max_length = 5000)]
        pub participants: Option<String>,
        #[schema(required = true, max_length = 5000)]
        pub decision: Option<String>,
        /// Who bears the cost (e.g. 社区、物业、居民共同承担).
        #[schema(required = true, max_length = 5000)]
        pub who_pays: Option<String>,
    }
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct ApproveReply {
        #[schema(max_length = 5000)]
        pub note: Option<String>,
        /// A level of the chain may pass the reply up edited; the hotline approves the lead
        /// unit's reply as it is.
        #[schema(max_length = 5000)]
        pub content: Option<String>,
    }
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Supervise {
        /// l1 催办, l2 书面督办, l3 挂牌督办; by default one level up. Supervision is only raised.
        pub level: Option<crate::types::SupervisionLevel>,
        #[schema(required = true, max_length = 5000)]
        pub note: Option<String>,
    }
}

/// Deserializes a body, naming the offending field in the error.
pub fn from_json<T: serde::de::DeserializeOwned>(
    body: serde_json::Value,
) -> Result<T, DomainError> {
    if !body.is_object() {
        return Err(DomainError::invalid("body", "must be a JSON object"));
    }
    serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let field = if path == "." || path.is_empty() {
            unknown_field_name(&inner).unwrap_or_else(|| "body".to_string())
        } else {
            path
        };
        DomainError::invalid(field, inner)
    })
}

fn unknown_field_name(msg: &str) -> Option<String> {
    let rest = msg
        .strip_prefix("unknown field `")
        .or_else(|| msg.strip_prefix("missing field `"))?;
    Some(rest.split('`').next()?.to_string())
}

/// A required free text: trimmed, not empty, at most [`MAX_TEXT_CHARS`].
pub fn required_text(field: &str, value: Option<String>) -> Result<String, DomainError> {
    match optional_text(field, value)? {
        Some(v) => Ok(v),
        None => Err(DomainError::invalid(
            field,
            "is required and must not be empty",
        )),
    }
}

/// An optional free text: trimmed, empty becomes none, at most [`MAX_TEXT_CHARS`].
pub fn optional_text(field: &str, value: Option<String>) -> Result<Option<String>, DomainError> {
    let Some(v) = value else { return Ok(None) };
    let v = v.trim().to_string();
    if v.is_empty() {
        return Ok(None);
    }
    let n = v.chars().count();
    if n > MAX_TEXT_CHARS {
        return Err(DomainError::invalid(
            field,
            format!("is {n} characters long; at most {MAX_TEXT_CHARS} are allowed"),
        ));
    }
    Ok(Some(v))
}
