//! The ticket lifecycle as a pure state machine: a command, checked against the
//! transition table, becomes events; events, applied in order, make the ticket's view.
//!
//! - this file: the actions and the transition table (who, from which states);
//! - [`command`]: commands and the validation of their payloads;
//! - [`event`]: the events, the audit trail;
//! - [`decide`](mod@decide): a command on a ticket → its events, or why not;
//! - [`apply`](mod@apply): an event on a ticket's view → the next view.

mod apply;
mod command;
mod decide;
mod event;

pub use apply::apply;
pub use command::*;
pub use decide::*;
pub use event::*;

use crate::types::{Role, TicketState};
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
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
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
    TransferOut,
    RevealContact,
    Supervise,
    AnswerSupervision,
    Forward,
    Summon,
    ReportIn,
    ResolveOnSpot,
    RecordMeeting,
    Recategorise,
    Relocate,
    ReviewRating,
}

impl Action {
    pub const ALL: [Action; 33] = [
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
        Action::TransferOut,
        Action::RevealContact,
        Action::Supervise,
        Action::AnswerSupervision,
        Action::Forward,
        Action::Summon,
        Action::ReportIn,
        Action::ResolveOnSpot,
        Action::RecordMeeting,
        Action::Recategorise,
        Action::Relocate,
        Action::ReviewRating,
    ];

    /// The actions a desk may take on several tickets at once (批量办理): signing a morning's
    /// arrivals, dispatching a run of like requests to one unit, noting the same fact on
    /// each. Each ticket is still acted on alone, by the same rules as one at a time.
    pub const BULK: [Action; 3] = [Action::Sign, Action::Dispatch, Action::AddNote];

    /// Most tickets one bulk request names: a page of a queue, and a bound on the work one
    /// request may ask of the server.
    pub const BULK_MAX: usize = 50;

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
            Action::TransferOut => "transfer-out",
            Action::RevealContact => "reveal-contact",
            Action::Supervise => "supervise",
            Action::AnswerSupervision => "answer-supervision",
            Action::Forward => "forward",
            Action::Summon => "summon",
            Action::ReportIn => "report-in",
            Action::ResolveOnSpot => "resolve-on-spot",
            Action::RecordMeeting => "record-meeting",
            Action::Recategorise => "recategorise",
            Action::Relocate => "relocate",
            Action::ReviewRating => "review-rating",
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
            Action::TransferOut => "转出",
            Action::RevealContact => "查看联系方式",
            Action::Supervise => "督办",
            Action::AnswerSupervision => "督办反馈",
            Action::Forward => "转办下级",
            Action::Summon => "吹哨",
            Action::ReportIn => "报到",
            Action::ResolveOnSpot => "就地办结",
            Action::RecordMeeting => "近邻议事会",
            Action::Recategorise => "更正分类",
            Action::Relocate => "更正区划",
            Action::ReviewRating => "差评审核",
        }
    }

    /// The transition table's rows of this action: one for each set of roles (a reply is
    /// reviewed by the hotline's dispatcher in one state and by the level above in another).
    pub fn rules(self) -> impl Iterator<Item = &'static Rule> {
        TRANSITIONS.iter().filter(move |r| r.action == self)
    }

    /// The row that applies to a role, if the role may take the action at all.
    pub fn rule_for(self, role: Role) -> Option<&'static Rule> {
        self.rules().find(|r| r.roles.contains(&role))
    }

    /// Every role that may take the action, in any of its rows.
    pub fn roles(self) -> Vec<Role> {
        self.rules().flat_map(|r| r.roles.iter().copied()).collect()
    }
}

/// Which unit's users (handlers, grid workers) may take an action; other roles are not
/// bound to units. The chain below the lead unit (分级转办) is one line of levels; see
/// [`Ticket::holder_unit`] and [`Ticket::reviewer_unit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitScope {
    /// Only a handler of the lead unit (responsible to the hotline).
    Lead,
    /// A handler of the lead unit or of a co-unit.
    LeadOrCo,
    /// A handler of the unit doing the work now: the lowest level of the chain still
    /// holding its part, or the lead unit when the ticket went no lower.
    Holder,
    /// A handler of the unit that forwarded the lowest level, when that level's reply or
    /// request to give the ticket back awaits its decision.
    Reviewer,
    /// A handler of the lead unit, a co-unit, a level of the chain still holding its part,
    /// or the community that reported the matter on patrol.
    Involved,
    /// A handler of a unit called to the spot that has not reported in yet.
    Summoned,
    /// A user of the community whose grid worker reported the matter on patrol.
    Reporter,
}

impl UnitScope {
    /// The unit a user must belong to, in words (refusals and the API document say it).
    pub fn whose(self) -> &'static str {
        match self {
            UnitScope::Lead => "the lead unit",
            UnitScope::LeadOrCo => "the lead unit or a co-unit",
            UnitScope::Holder => {
                "the unit holding the ticket now (the lowest level it was forwarded to, else the lead unit)"
            }
            UnitScope::Reviewer => {
                "the unit that forwarded the ticket to the level whose reply or return awaits review"
            }
            UnitScope::Involved => {
                "a unit the ticket is with (the lead unit, a co-unit, a level of the chain, or the community that reported it)"
            }
            UnitScope::Summoned => "a unit called to the spot that has not reported in",
            UnitScope::Reporter => "the community that reported the matter on patrol",
        }
    }
}

/// One row of the transition table: the action, the states it applies to, the roles that
/// may take it, and (for unit handlers) whose unit they must belong to. An action may have
/// several rows for different roles; a role appears in at most one row of an action.
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
    S::RatingReview,
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
    // The lead unit signs a dispatched ticket; a level below signs what was forwarded to it
    // (the ticket is in progress then).
    Rule {
        action: Action::Sign,
        from: &[S::Dispatched, S::InProgress],
        roles: &[Role::UnitHandler],
        unit_scope: UnitScope::Holder,
    },
    Rule {
        action: Action::RequestReturn,
        from: &[S::Dispatched, S::InProgress],
        roles: &[Role::UnitHandler],
        unit_scope: UnitScope::Holder,
    },
    Rule {
        action: Action::ApproveReturn,
        from: &[S::ReturnRequested],
        roles: &[Role::Dispatcher],
        unit_scope: UnitScope::Lead,
    },
    Rule {
        action: Action::ApproveReturn,
        from: &[S::InProgress],
        roles: &[Role::UnitHandler],
        unit_scope: UnitScope::Reviewer,
    },
    Rule {
        action: Action::RejectReturn,
        from: &[S::ReturnRequested],
        roles: &[Role::Dispatcher],
        unit_scope: UnitScope::Lead,
    },
    Rule {
        action: Action::RejectReturn,
        from: &[S::InProgress],
        roles: &[Role::UnitHandler],
        unit_scope: UnitScope::Reviewer,
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
        unit_scope: UnitScope::Involved,
    },
    Rule {
        action: Action::AddNote,
        from: OPEN,
        roles: &[
            Role::Operator,
            Role::Dispatcher,
            Role::UnitHandler,
            Role::GridWorker,
            Role::CallbackAgent,
            Role::Supervisor,
        ],
        unit_scope: UnitScope::Involved,
    },
    // The lowest level replies: to the level above, or (the lead unit) to the hotline.
    Rule {
        action: Action::Reply,
        from: &[S::InProgress],
        roles: &[Role::UnitHandler],
        unit_scope: UnitScope::Holder,
    },
    // The hotline reviews the lead unit's reply; each level reviews the one below.
    Rule {
        action: Action::ApproveReply,
        from: &[S::Replied],
        roles: &[Role::Dispatcher],
        unit_scope: UnitScope::Lead,
    },
    Rule {
        action: Action::ApproveReply,
        from: &[S::InProgress],
        roles: &[Role::UnitHandler],
        unit_scope: UnitScope::Reviewer,
    },
    Rule {
        action: Action::RejectReply,
        from: &[S::Replied],
        roles: &[Role::Dispatcher],
        unit_scope: UnitScope::Lead,
    },
    Rule {
        action: Action::RejectReply,
        from: &[S::InProgress],
        roles: &[Role::UnitHandler],
        unit_scope: UnitScope::Reviewer,
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
        action: Action::TransferOut,
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
        unit_scope: UnitScope::Involved,
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
    // The unit doing the work passes it to a unit below it in the organisation (分级转办).
    Rule {
        action: Action::Forward,
        from: &[S::InProgress],
        roles: &[Role::UnitHandler],
        unit_scope: UnitScope::Holder,
    },
    // A street office holding the ticket calls a department to the spot (吹哨); the
    // department reports in (报到).
    Rule {
        action: Action::Summon,
        from: &[S::InProgress],
        roles: &[Role::UnitHandler],
        unit_scope: UnitScope::Holder,
    },
    Rule {
        action: Action::ReportIn,
        from: &[S::InProgress],
        roles: &[Role::UnitHandler],
        unit_scope: UnitScope::Summoned,
    },
    // The community that reported a matter on patrol may resolve it itself (就地办结) while
    // the hotline has not dispatched it.
    Rule {
        action: Action::ResolveOnSpot,
        from: &[S::Received],
        roles: &[Role::GridWorker, Role::UnitHandler],
        unit_scope: UnitScope::Reporter,
    },
    // The hotline corrects what the evaluation rests on: the matter's category and its
    // place, while the ticket is open.
    Rule {
        action: Action::Recategorise,
        from: OPEN,
        roles: &[Role::Dispatcher, Role::Supervisor],
        unit_scope: UnitScope::Lead,
    },
    Rule {
        action: Action::Relocate,
        from: OPEN,
        roles: &[Role::Dispatcher, Role::Supervisor],
        unit_scope: UnitScope::Lead,
    },
    // A citizen's bad rating (差评) is reviewed at the hotline: reasonable, the matter goes
    // back to the lead unit (重办); unreasonable, it is recorded with the reason and counted
    // apart, and the ticket closes.
    Rule {
        action: Action::ReviewRating,
        from: &[S::RatingReview],
        roles: &[Role::Dispatcher, Role::Supervisor],
        unit_scope: UnitScope::Lead,
    },
    // A unit working on the matter, or the community that reported it, records a
    // residents' meeting (近邻议事会).
    Rule {
        action: Action::RecordMeeting,
        from: &[S::Received, S::InProgress],
        roles: &[Role::GridWorker, Role::UnitHandler],
        unit_scope: UnitScope::Involved,
    },
];
