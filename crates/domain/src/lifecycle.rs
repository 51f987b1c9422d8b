//! The ticket lifecycle as a pure state machine: a command, checked against the
//! transition table, becomes events; events, applied in order, make the ticket's view.

use crate::error::DomainError;
use crate::ticket::{
    Actor, CallbackAnswers, Citizen, NotAcceptance, PendingExtension, Supervision, Ticket,
};
use crate::types::{
    Channel, Kind, Resolution, Role, Satisfaction, SupervisionLevel, TIERS, TicketState,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use TicketState as S;

/// Callback attempts after which an unreachable citizen's ticket is closed anyway.
pub const MAX_CALLBACK_ATTEMPTS: u32 = 3;
/// Longest extension one request may ask for, in working days.
pub const MAX_EXTENSION_DAYS: u32 = 30;
/// Longest note, reason or reply, in characters.
pub const MAX_TEXT_CHARS: usize = 5_000;

/// One action of the lifecycle; its wire name is the last segment of
/// `POST /api/v1/tickets/{id}/{action}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    ResolveDirectly,
    Dispatch,
    Sign,
    RequestReturn,
    ApproveReturn,
    RejectReturn,
    OpenConsultation,
    DecideConsultation,
    RequestExtension,
    ApproveExtension,
    RejectExtension,
    RecordContact,
    AddNote,
    Reply,
    ApproveReply,
    RejectReply,
    RecordCallback,
    Close,
    Reopen,
    Merge,
    NotAccept,
    RevealContact,
    Supervise,
    AnswerSupervision,
}

impl Action {
    pub const ALL: [Action; 24] = [
        Action::ResolveDirectly,
        Action::Dispatch,
        Action::Sign,
        Action::RequestReturn,
        Action::ApproveReturn,
        Action::RejectReturn,
        Action::OpenConsultation,
        Action::DecideConsultation,
        Action::RequestExtension,
        Action::ApproveExtension,
        Action::RejectExtension,
        Action::RecordContact,
        Action::AddNote,
        Action::Reply,
        Action::ApproveReply,
        Action::RejectReply,
        Action::RecordCallback,
        Action::Close,
        Action::Reopen,
        Action::Merge,
        Action::NotAccept,
        Action::RevealContact,
        Action::Supervise,
        Action::AnswerSupervision,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::ResolveDirectly => "resolve-directly",
            Action::Dispatch => "dispatch",
            Action::Sign => "sign",
            Action::RequestReturn => "request-return",
            Action::ApproveReturn => "approve-return",
            Action::RejectReturn => "reject-return",
            Action::OpenConsultation => "open-consultation",
            Action::DecideConsultation => "decide-consultation",
            Action::RequestExtension => "request-extension",
            Action::ApproveExtension => "approve-extension",
            Action::RejectExtension => "reject-extension",
            Action::RecordContact => "record-contact",
            Action::AddNote => "add-note",
            Action::Reply => "reply",
            Action::ApproveReply => "approve-reply",
            Action::RejectReply => "reject-reply",
            Action::RecordCallback => "record-callback",
            Action::Close => "close",
            Action::Reopen => "reopen",
            Action::Merge => "merge",
            Action::NotAccept => "not-accept",
            Action::RevealContact => "reveal-contact",
            Action::Supervise => "supervise",
            Action::AnswerSupervision => "answer-supervision",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// The Chinese name shown to people.
    pub fn label_zh(self) -> &'static str {
        match self {
            Action::ResolveDirectly => "直接办结",
            Action::Dispatch => "派单",
            Action::Sign => "签收",
            Action::RequestReturn => "申请退单",
            Action::ApproveReturn => "同意退单",
            Action::RejectReturn => "驳回退单",
            Action::OpenConsultation => "发起会商",
            Action::DecideConsultation => "会商定责",
            Action::RequestExtension => "申请延期",
            Action::ApproveExtension => "同意延期",
            Action::RejectExtension => "驳回延期",
            Action::RecordContact => "联系市民",
            Action::AddNote => "添加备注",
            Action::Reply => "答复",
            Action::ApproveReply => "审核通过",
            Action::RejectReply => "退回重办",
            Action::RecordCallback => "回访",
            Action::Close => "办结",
            Action::Reopen => "重办",
            Action::Merge => "并单",
            Action::NotAccept => "不予受理",
            Action::RevealContact => "查看联系方式",
            Action::Supervise => "督办",
            Action::AnswerSupervision => "督办反馈",
        }
    }

    /// The transition table row of this action.
    pub fn rule(self) -> &'static Rule {
        TRANSITIONS
            .iter()
            .find(|r| r.action == self)
            .expect("every action has a rule")
    }
}

/// Which unit handlers may take an action (other roles are not bound to units).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitScope {
    /// Only a handler of the lead unit.
    Lead,
    /// A handler of the lead unit or of a co-unit.
    LeadOrCo,
}

/// One row of the transition table: the action, the states it applies to, the roles that
/// may take it, and (for unit handlers) whose unit they must belong to.
#[derive(Debug)]
pub struct Rule {
    pub action: Action,
    pub from: &'static [TicketState],
    pub roles: &'static [Role],
    pub unit_scope: UnitScope,
}

const OPEN: &[TicketState] = &[
    S::Received,
    S::Dispatched,
    S::InProgress,
    S::ReturnRequested,
    S::InConsultation,
    S::Replied,
    S::AwaitingCallback,
];
const ALL_STATES: &[TicketState] = TicketState::ALL;
/// Open states in which a unit holds the ticket (what supervision is about).
const WITH_UNIT: &[TicketState] = &[
    S::Dispatched,
    S::InProgress,
    S::ReturnRequested,
    S::InConsultation,
    S::Replied,
    S::AwaitingCallback,
];

/// The transition table. `decide` consults nothing else for roles and states; extra guards
/// (a pending extension, a callback's answers) are documented on the commands.
pub static TRANSITIONS: &[Rule] = &[
    Rule {
        action: Action::ResolveDirectly,
        from: &[S::Received],
        roles: &[Role::Operator, Role::Dispatcher],
        unit_scope: UnitScope::Lead,
    },
    Rule {
        action: Action::Dispatch,
        from: &[S::Received],
        roles: &[Role::Dispatcher],
        unit_scope: UnitScope::Lead,
    },
    Rule {
        action: Action::Sign,
        from: &[S::Dispatched],
        roles: &[Role::UnitHandler],
        unit_scope: UnitScope::Lead,
    },
    Rule {
        action: Action::RequestReturn,
        from: &[S::Dispatched, S::InProgress],
        roles: &[Role::UnitHandler],
        unit_scope: UnitScope::Lead,
    },
    Rule {
        action: Action::ApproveReturn,
        from: &[S::ReturnRequested],
        roles: &[Role::Dispatcher],
        unit_scope: UnitScope::Lead,
    },
    Rule {
        action: Action::RejectReturn,
        from: &[S::ReturnRequested],
        roles: &[Role::Dispatcher],
        unit_scope: UnitScope::Lead,
    },
    Rule {
        action: Action::OpenConsultation,
        from: &[
            S::Received,
            S::Dispatched,
            S::InProgress,
            S::ReturnRequested,
        ],
        roles: &[Role::Dispatcher],
        unit_scope: UnitScope::Lead,
    },
    Rule {
        action: Action::DecideConsultation,
        from: &[S::InConsultation],
        roles: &[Role::Dispatcher],
        unit_scope: UnitScope::Lead,
    },
    Rule {
        action: Action::RequestExtension,
        from: &[S::InProgress],
        roles: &[Role::UnitHandler],
        unit_scope: UnitScope::Lead,
    },
    Rule {
        action: Action::ApproveExtension,
        from: &[S::InProgress],
        roles: &[Role::Dispatcher],
        unit_scope: UnitScope::Lead,
    },
    Rule {
        action: Action::RejectExtension,
        from: &[S::InProgress],
        roles: &[Role::Dispatcher],
        unit_scope: UnitScope::Lead,
    },
    Rule {
        action: Action::RecordContact,
        from: &[S::InProgress],
        roles: &[Role::UnitHandler],
        unit_scope: UnitScope::LeadOrCo,
    },
    Rule {
        action: Action::AddNote,
        from: OPEN,
        roles: &[
            Role::Operator,
            Role::Dispatcher,
            Role::UnitHandler,
            Role::CallbackAgent,
            Role::Supervisor,
        ],
        unit_scope: UnitScope::LeadOrCo,
    },
    Rule {
        action: Action::Reply,
        from: &[S::InProgress],
        roles: &[Role::UnitHandler],
        unit_scope: UnitScope::Lead,
    },
    Rule {
        action: Action::ApproveReply,
        from: &[S::Replied],
        roles: &[Role::Dispatcher],
        unit_scope: UnitScope::Lead,
    },
    Rule {
        action: Action::RejectReply,
        from: &[S::Replied],
        roles: &[Role::Dispatcher],
        unit_scope: UnitScope::Lead,
    },
    Rule {
        action: Action::RecordCallback,
        from: &[S::AwaitingCallback],
        roles: &[Role::CallbackAgent],
        unit_scope: UnitScope::Lead,
    },
    Rule {
        action: Action::Close,
        from: &[S::AwaitingCallback],
        roles: &[Role::CallbackAgent, Role::Dispatcher],
        unit_scope: UnitScope::Lead,
    },
    Rule {
        action: Action::Reopen,
        from: &[S::Closed, S::ResolvedDirectly],
        roles: &[Role::Dispatcher, Role::Supervisor],
        unit_scope: UnitScope::Lead,
    },
    Rule {
        action: Action::Merge,
        from: &[
            S::Received,
            S::Dispatched,
            S::InProgress,
            S::ReturnRequested,
            S::InConsultation,
        ],
        roles: &[Role::Operator, Role::Dispatcher],
        unit_scope: UnitScope::Lead,
    },
    Rule {
        action: Action::NotAccept,
        from: &[S::Received],
        roles: &[Role::Operator, Role::Dispatcher],
        unit_scope: UnitScope::Lead,
    },
    Rule {
        action: Action::RevealContact,
        from: ALL_STATES,
        roles: &[
            Role::UnitHandler,
            Role::Operator,
            Role::Dispatcher,
            Role::CallbackAgent,
            Role::Supervisor,
        ],
        unit_scope: UnitScope::LeadOrCo,
    },
    Rule {
        action: Action::Supervise,
        from: WITH_UNIT,
        roles: &[Role::Supervisor],
        unit_scope: UnitScope::Lead,
    },
    Rule {
        action: Action::AnswerSupervision,
        from: WITH_UNIT,
        roles: &[Role::UnitHandler],
        unit_scope: UnitScope::Lead,
    },
];

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
            Command::RevealContact => Action::RevealContact,
            Command::Supervise { .. } => Action::Supervise,
            Command::AnswerSupervision { .. } => Action::AnswerSupervision,
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
                let b: payload::Note = from_json(body)?;
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
                        contacted: b.contacted.ok_or_else(|| {
                            DomainError::invalid(
                                "contacted",
                                "is required (true or false), or send {\"unreachable\": true}",
                            )
                        })?,
                        resolution: b.resolution.ok_or_else(|| {
                            DomainError::invalid(
                                "resolution",
                                "is required: resolved, partly or unresolved",
                            )
                        })?,
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
            Action::Sign
            | Action::ApproveReturn
            | Action::RejectReturn
            | Action::OpenConsultation
            | Action::ApproveExtension
            | Action::RejectExtension
            | Action::RecordContact
            | Action::ApproveReply
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
                    Action::ApproveReply => Command::ApproveReply { note },
                    _ => Command::Close { note },
                }
            }
        })
    }
}

/// Request bodies as they arrive, before validation.
mod payload {
    use crate::types::{Resolution, Satisfaction};
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Answer {
        pub answer: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Dispatch {
        pub lead_unit_id: i64,
        pub co_unit_ids: Option<Vec<i64>>,
        pub tier: Option<u8>,
        pub note: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Reason {
        pub reason: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct OptionalReason {
        pub reason: Option<String>,
        pub note: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Extension {
        pub days: u32,
        pub reason: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Note {
        pub note: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Reply {
        pub content: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Callback {
        pub contacted: Option<bool>,
        pub resolution: Option<Resolution>,
        pub satisfaction: Option<Satisfaction>,
        pub unreachable: Option<bool>,
        pub note: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Merge {
        pub parent_id: i64,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct NotAccept {
        pub reason: Option<String>,
        pub redirect_to: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Empty {}
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Supervise {
        pub level: Option<crate::types::SupervisionLevel>,
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

/// How a ticket came to be closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseOutcome {
    /// Closed by a good callback.
    Callback,
    /// The citizen could not be reached after repeated attempts.
    Unreachable,
    /// Closed by hand without a callback.
    Manual,
}

/// What happened to a ticket. Stored as JSON with a `type` tag; the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    },
    ResolvedDirectly {
        answer: String,
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
    },
    ReplyRejected {
        reason: String,
    },
    CallbackRecorded {
        contacted: bool,
        resolution: Resolution,
        satisfaction: Satisfaction,
        note: Option<String>,
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
    /// The `type` tag.
    pub fn type_name(&self) -> &'static str {
        match self {
            EventKind::Received { .. } => "received",
            EventKind::ResolvedDirectly { .. } => "resolved_directly",
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
            EventKind::Reopened { .. } => "reopened",
            EventKind::Closed { .. } => "closed",
            EventKind::Merged { .. } => "merged",
            EventKind::ChildMerged { .. } => "child_merged",
            EventKind::DeadlineWarned { .. } => "deadline_warned",
            EventKind::DeadlineBreached { .. } => "deadline_breached",
            EventKind::NotAccepted { .. } => "not_accepted",
            EventKind::ContactRevealed {} => "contact_revealed",
            EventKind::Supervised { .. } => "supervised",
            EventKind::SupervisionAnswered { .. } => "supervision_answered",
        }
    }

    /// The event as a reader without the right to see citizens' identity sees it.
    pub fn masked(&self, confidential: bool) -> EventKind {
        match self {
            EventKind::Received { citizen, .. } => {
                let mut e = self.clone();
                if let EventKind::Received { citizen: c, .. } = &mut e {
                    *c = crate::ticket::mask_citizen(citizen, confidential);
                }
                e
            }
            _ => self.clone(),
        }
    }
}

/// An event as stored: which ticket, its place in the ticket's history, who, when, what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// Whether a role may take an action at all (on some ticket, in some state): the
/// transition table's roles.
pub fn role_may_take(role: Role, action: Action) -> bool {
    action.rule().roles.contains(&role)
}

/// Checks the actor's right to take the action on this ticket: role first (403), then
/// the unit the handler belongs to (403), then the ticket's state (409).
pub fn authorize(ticket: &Ticket, actor: &Actor, action: Action) -> Result<(), DomainError> {
    let rule = action.rule();
    if !rule.roles.contains(&actor.role) {
        return Err(DomainError::Forbidden {
            role: actor.role,
            action: action.as_str().to_string(),
        });
    }
    if actor.role == Role::UnitHandler {
        let unit = actor.unit_id;
        let ok = match rule.unit_scope {
            UnitScope::Lead => unit.is_some() && ticket.lead_unit_id == unit,
            UnitScope::LeadOrCo => unit.is_some_and(|u| ticket.involves_unit(u)),
        };
        if !ok {
            return Err(DomainError::NotYourTicket {
                message: format!("only a handler of the lead unit may {}", action.as_str()),
            });
        }
    }
    if !rule.from.contains(&ticket.state) {
        return Err(illegal(action, ticket.state, ""));
    }
    Ok(())
}

/// The actions the actor may take on the ticket now: what the console offers. Each is
/// allowed by [`authorize`] and by the guard [`decide`] applies before any input is read
/// (a pending extension, an unanswered supervision, a level left to raise); revealing the
/// contact is offered only to those who do not see it already, and never on a
/// confidential request.
pub fn available_actions(ticket: &Ticket, actor: &Actor) -> Vec<Action> {
    Action::ALL
        .into_iter()
        .filter(|a| authorize(ticket, actor, *a).is_ok())
        .filter(|a| match a {
            Action::RequestExtension => ticket.pending_extension.is_none(),
            Action::ApproveExtension | Action::RejectExtension => {
                ticket.pending_extension.is_some()
            }
            Action::RevealContact => {
                !crate::permission::permits(actor.role, crate::permission::Permission::SeeContacts)
                    && !ticket.confidential
            }
            Action::AnswerSupervision => ticket
                .supervision
                .as_ref()
                .is_some_and(|s| s.awaits_answer()),
            Action::Supervise => ticket
                .supervision
                .as_ref()
                .is_none_or(|s| s.level.next().is_some()),
            _ => true,
        })
        .collect()
}

fn illegal(action: Action, state: TicketState, detail: &str) -> DomainError {
    DomainError::IllegalTransition {
        action: action.as_str().to_string(),
        state,
        detail: detail.to_string(),
    }
}

/// Decides a command: the events it produces, or why it is refused. Pure: the caller has
/// checked that the ticket is visible to the actor and that named units exist.
pub fn decide(
    ticket: &Ticket,
    actor: &Actor,
    cmd: &Command,
) -> Result<Vec<EventKind>, DomainError> {
    let action = cmd.action();
    authorize(ticket, actor, action)?;
    let events = match cmd.clone() {
        Command::ResolveDirectly { answer } => vec![EventKind::ResolvedDirectly { answer }],
        Command::Dispatch {
            lead_unit_id,
            co_unit_ids,
            tier,
            note,
        } => {
            vec![EventKind::Dispatched {
                lead_unit_id,
                co_unit_ids,
                tier,
                note,
            }]
        }
        Command::Sign { note } => vec![EventKind::Signed { note }],
        Command::RequestReturn { reason } => vec![EventKind::ReturnRequested { reason }],
        Command::ApproveReturn { note } => vec![EventKind::ReturnApproved { note }],
        Command::RejectReturn { note } => vec![EventKind::ReturnRejected { note }],
        Command::OpenConsultation { note } => vec![EventKind::ConsultationOpened { note }],
        Command::DecideConsultation {
            lead_unit_id,
            co_unit_ids,
            tier,
            note,
        } => {
            vec![EventKind::ConsultationDecided {
                lead_unit_id,
                co_unit_ids,
                tier,
                note,
            }]
        }
        Command::RequestExtension { days, reason } => {
            if ticket.pending_extension.is_some() {
                return Err(illegal(
                    action,
                    ticket.state,
                    " (an extension request is already pending)",
                ));
            }
            vec![EventKind::ExtensionRequested { days, reason }]
        }
        Command::ApproveExtension { note } => match &ticket.pending_extension {
            Some(p) => vec![EventKind::ExtensionApproved { days: p.days, note }],
            None => {
                return Err(illegal(
                    action,
                    ticket.state,
                    " (no extension request is pending)",
                ));
            }
        },
        Command::RejectExtension { note } => {
            if ticket.pending_extension.is_none() {
                return Err(illegal(
                    action,
                    ticket.state,
                    " (no extension request is pending)",
                ));
            }
            vec![EventKind::ExtensionRejected { note }]
        }
        Command::RecordContact { note } => vec![EventKind::ContactRecorded { note }],
        Command::AddNote { note } => vec![EventKind::NoteAdded { note }],
        Command::Reply { content } => vec![EventKind::Replied { content }],
        Command::ApproveReply { note } => vec![EventKind::ReplyApproved { note }],
        Command::RejectReply { reason } => vec![EventKind::ReplyRejected { reason }],
        Command::RecordCallback(CallbackInput::Answered { answers, note }) => {
            let recorded = EventKind::CallbackRecorded {
                contacted: answers.contacted,
                resolution: answers.resolution,
                satisfaction: answers.satisfaction,
                note,
            };
            if answers.is_bad() {
                vec![
                    recorded,
                    EventKind::Reopened {
                        reason: Some("回访不满意或未解决，重办".to_string()),
                    },
                ]
            } else {
                vec![
                    recorded,
                    EventKind::Closed {
                        outcome: CloseOutcome::Callback,
                        note: None,
                    },
                ]
            }
        }
        Command::RecordCallback(CallbackInput::Unreachable { note }) => {
            let attempt = ticket.callback_attempts + 1;
            let mut v = vec![EventKind::CallbackUnreachable { attempt, note }];
            if attempt >= MAX_CALLBACK_ATTEMPTS {
                v.push(EventKind::Closed {
                    outcome: CloseOutcome::Unreachable,
                    note: None,
                });
            }
            v
        }
        Command::Close { note } => vec![EventKind::Closed {
            outcome: CloseOutcome::Manual,
            note,
        }],
        Command::Reopen { reason } => vec![EventKind::Reopened { reason }],
        Command::Merge { parent_id } => {
            if parent_id == ticket.id {
                return Err(DomainError::invalid(
                    "parent_id",
                    "a ticket cannot be merged into itself",
                ));
            }
            vec![EventKind::Merged { parent_id }]
        }
        Command::NotAccept {
            reason,
            redirect_to,
        } => vec![EventKind::NotAccepted {
            reason,
            redirect_to,
        }],
        Command::RevealContact => {
            if actor.role == Role::UnitHandler && ticket.confidential {
                return Err(DomainError::NotYourTicket {
                    message: "the citizen asked for confidentiality: the identity is never revealed to units".to_string(),
                });
            }
            vec![EventKind::ContactRevealed {}]
        }
        Command::Supervise { level, note } => {
            let current = ticket.supervision.as_ref().map(|s| s.level);
            let target = match (level, current) {
                (Some(l), _) => l,
                (None, None) => SupervisionLevel::L1,
                (None, Some(c)) => c.next().ok_or_else(|| {
                    illegal(
                        action,
                        ticket.state,
                        " (the ticket is already under 挂牌督办, the highest level)",
                    )
                })?,
            };
            if current.is_some_and(|c| target <= c) {
                return Err(DomainError::invalid(
                    "level",
                    format!(
                        "the ticket is already under {} ({}); supervision can only be raised",
                        current.map(|c| c.label_zh()).unwrap_or_default(),
                        current.map(|c| c.as_str()).unwrap_or_default()
                    ),
                ));
            }
            vec![EventKind::Supervised {
                level: target,
                reason: note,
                automatic: false,
            }]
        }
        Command::AnswerSupervision { answer } => match &ticket.supervision {
            Some(s) if s.awaits_answer() => vec![EventKind::SupervisionAnswered {
                level: s.level,
                answer,
            }],
            Some(_) => {
                return Err(illegal(
                    action,
                    ticket.state,
                    " (the current supervision is already answered)",
                ));
            }
            None => {
                return Err(illegal(
                    action,
                    ticket.state,
                    " (the ticket is not under supervision)",
                ));
            }
        },
    };
    Ok(events)
}

/// Checks that `parent` can take `child` as a merged duplicate.
pub fn check_merge_parent(child: &Ticket, parent: &Ticket) -> Result<(), DomainError> {
    if parent.id == child.id {
        return Err(DomainError::invalid(
            "parent_id",
            "a ticket cannot be merged into itself",
        ));
    }
    if parent.state.is_terminal() {
        return Err(DomainError::invalid(
            "parent_id",
            format!(
                "ticket {} is `{}`; merge into an open ticket",
                parent.number, parent.state
            ),
        ));
    }
    Ok(())
}

/// Applies one event to the ticket's view. `Received` creates the view; every other event
/// needs it. Returns `None` only for an event other than `Received` without a ticket.
pub fn apply(ticket: Option<Ticket>, event: &Event) -> Option<Ticket> {
    let at = event.at;
    if let EventKind::Received {
        number,
        tracking_code,
        channel,
        channel_detail,
        kind,
        title,
        content,
        citizen,
        confidential,
        address,
        category_code,
        division_code,
        suggested_category_code,
    } = &event.kind
    {
        return Some(Ticket {
            id: event.ticket_id,
            number: number.clone(),
            tracking_code: tracking_code.clone(),
            state: S::Received,
            channel: *channel,
            channel_detail: channel_detail.clone(),
            kind: *kind,
            title: title.clone(),
            content: content.clone(),
            citizen: citizen.clone(),
            confidential: *confidential,
            address: address.clone(),
            category_code: category_code.clone(),
            division_code: division_code.clone(),
            suggested_category_code: suggested_category_code.clone(),
            lead_unit_id: None,
            co_unit_ids: Vec::new(),
            tier: None,
            answer: None,
            reply: None,
            return_from: None,
            pending_extension: None,
            extension_days_granted: 0,
            extensions_approved: 0,
            callback: None,
            callback_attempts: 0,
            reopen_count: 0,
            return_count: 0,
            parent_id: None,
            child_ids: Vec::new(),
            not_accepted: None,
            created_by: event.actor.user_id,
            created_at: at,
            updated_at: at,
            dispatched_at: None,
            signed_at: None,
            first_contact_at: None,
            replied_at: None,
            closed_at: None,
            version: 1,
            alerts: Vec::new(),
            supervision: None,
            bad_callbacks: 0,
        });
    }
    let mut t = ticket?;
    clear_alerts(&mut t, &event.kind);
    t.updated_at = at;
    t.version += 1;
    match &event.kind {
        EventKind::Received { .. } => unreachable!("handled above"),
        EventKind::ResolvedDirectly { answer } => {
            t.state = S::ResolvedDirectly;
            t.answer = Some(answer.clone());
            t.closed_at = Some(at);
        }
        EventKind::Dispatched {
            lead_unit_id,
            co_unit_ids,
            tier,
            ..
        }
        | EventKind::ConsultationDecided {
            lead_unit_id,
            co_unit_ids,
            tier,
            ..
        } => {
            t.state = S::Dispatched;
            t.lead_unit_id = Some(*lead_unit_id);
            t.co_unit_ids = co_unit_ids.clone();
            if tier.is_some() {
                t.tier = *tier;
            }
            t.dispatched_at = Some(at);
            t.signed_at = None;
        }
        EventKind::Signed { .. } => {
            t.state = S::InProgress;
            t.signed_at = Some(at);
        }
        EventKind::ReturnRequested { .. } => {
            t.return_from = Some(t.state);
            t.state = S::ReturnRequested;
        }
        EventKind::ReturnApproved { .. } => {
            t.state = S::Received;
            t.return_from = None;
            t.lead_unit_id = None;
            t.co_unit_ids.clear();
            t.pending_extension = None;
            t.return_count += 1;
        }
        EventKind::ReturnRejected { .. } => {
            t.state = t.return_from.take().unwrap_or(S::Dispatched);
        }
        EventKind::ConsultationOpened { .. } => {
            t.state = S::InConsultation;
            t.return_from = None;
            t.pending_extension = None;
        }
        EventKind::ExtensionRequested { days, reason } => {
            t.pending_extension = Some(PendingExtension {
                days: *days,
                reason: reason.clone(),
                requested_at: at,
            });
        }
        EventKind::ExtensionApproved { days, .. } => {
            t.pending_extension = None;
            t.extension_days_granted += days;
            t.extensions_approved += 1;
        }
        EventKind::ExtensionRejected { .. } => {
            t.pending_extension = None;
        }
        EventKind::ContactRecorded { .. } => {
            if t.first_contact_at.is_none() {
                t.first_contact_at = Some(at);
            }
        }
        EventKind::DeadlineWarned { clock, due_at }
        | EventKind::DeadlineBreached { clock, due_at } => {
            let level = if matches!(event.kind, EventKind::DeadlineBreached { .. }) {
                crate::deadlines::AlertLevel::Overdue
            } else {
                crate::deadlines::AlertLevel::Warning
            };
            t.alerts.retain(|a| a.clock != *clock);
            t.alerts.push(crate::deadlines::DeadlineAlert {
                clock: *clock,
                level,
                due_at: *due_at,
            });
        }
        EventKind::NoteAdded { .. }
        | EventKind::ContactRevealed {}
        | EventKind::ChildMerged { .. } => {
            if let EventKind::ChildMerged { child_id } = &event.kind {
                t.child_ids.push(*child_id);
            }
        }
        EventKind::Replied { content } => {
            t.state = S::Replied;
            t.reply = Some(content.clone());
            t.replied_at = Some(at);
            t.pending_extension = None;
        }
        EventKind::ReplyApproved { .. } => {
            t.state = S::AwaitingCallback;
        }
        EventKind::ReplyRejected { .. } => {
            t.state = S::InProgress;
        }
        EventKind::CallbackRecorded {
            contacted,
            resolution,
            satisfaction,
            ..
        } => {
            let answers = CallbackAnswers {
                contacted: *contacted,
                resolution: *resolution,
                satisfaction: *satisfaction,
            };
            if answers.is_bad() {
                t.bad_callbacks += 1;
            }
            t.callback = Some(answers);
        }
        EventKind::Supervised {
            level,
            reason,
            automatic,
        } => {
            let count = t.supervision.as_ref().map_or(0, |s| s.count) + 1;
            t.supervision = Some(Supervision {
                level: *level,
                raised_at: at,
                automatic: *automatic,
                reason: reason.clone(),
                count,
                answered_at: None,
                answer: None,
            });
        }
        EventKind::SupervisionAnswered { answer, .. } => {
            if let Some(s) = t.supervision.as_mut() {
                s.answered_at = Some(at);
                s.answer = Some(answer.clone());
            }
        }
        EventKind::CallbackUnreachable { attempt, .. } => {
            t.callback_attempts = *attempt;
        }
        EventKind::Reopened { .. } => {
            t.reopen_count += 1;
            t.state = if t.lead_unit_id.is_some() {
                S::Dispatched
            } else {
                S::Received
            };
            t.reply = None;
            t.answer = None;
            t.closed_at = None;
            t.callback_attempts = 0;
            t.signed_at = None;
            t.dispatched_at = if t.lead_unit_id.is_some() {
                Some(at)
            } else {
                None
            };
        }
        EventKind::Closed { .. } => {
            t.state = S::Closed;
            t.closed_at = Some(at);
        }
        EventKind::Merged { parent_id } => {
            t.state = S::Merged;
            t.parent_id = Some(*parent_id);
            t.closed_at = Some(at);
        }
        EventKind::NotAccepted {
            reason,
            redirect_to,
        } => {
            t.state = S::NotAccepted;
            t.not_accepted = Some(NotAcceptance {
                reason: reason.clone(),
                redirect_to: redirect_to.clone(),
            });
            t.closed_at = Some(at);
        }
    }
    Some(t)
}

/// Alerts end with the clock they are about: signing ends the sign clock's, an approved
/// reply the handling clock's, a new cycle or the end of the ticket all of them.
fn clear_alerts(t: &mut Ticket, kind: &EventKind) {
    use crate::deadlines::ClockKind as C;
    let ended: &[C] = match kind {
        EventKind::Dispatched { .. }
        | EventKind::ConsultationDecided { .. }
        | EventKind::Reopened { .. }
        | EventKind::ReturnApproved { .. }
        | EventKind::ResolvedDirectly { .. }
        | EventKind::Closed { .. }
        | EventKind::Merged { .. }
        | EventKind::NotAccepted { .. } => &[C::Sign, C::Contact, C::Handling, C::Callback],
        EventKind::Signed { .. } => &[C::Sign],
        EventKind::ContactRecorded { .. } | EventKind::Replied { .. } => &[C::Contact],
        EventKind::ReplyApproved { .. } => &[C::Sign, C::Contact, C::Handling],
        EventKind::CallbackRecorded { .. } => &[C::Callback],
        _ => &[],
    };
    if !ended.is_empty() {
        t.alerts.retain(|a| !ended.contains(&a.clock));
    }
}
