//! Pure domain rules of Mashangban (马上办): vocabulary, the ticket lifecycle as a state
//! machine (commands → events → view), validation and masking. No I/O, no async.

pub mod aggregates;
pub mod attachment;
pub mod calendar;
pub mod cases;
pub mod catalogue;
pub mod channel;
pub mod codes;
pub mod deadlines;
pub mod error;
pub mod exchange;
pub mod forecast;
pub mod import;
pub mod intake;
pub mod knowledge;
pub mod kpi;
pub mod levels;
pub mod lifecycle;
pub mod notify;
pub mod open311;
pub mod open_data;
pub mod org;
pub mod permission;
pub mod public;
pub mod reply_check;
pub mod report;
pub mod retention;
pub mod seasonal;
pub mod supervision;
pub mod ticket;
pub mod topic_notices;
pub mod topics;
pub mod types;
pub mod warning;
pub mod wechat;

pub use channel::Channel;
pub use codes::{CategoryCode, DivisionCode};
pub use error::{DomainError, UnknownValue};
pub use intake::{NewTicket, PatrolReport, PlaceFinding, PlaceHow};
pub use lifecycle::{
    Action, CallbackInput, CloseOutcome, Command, DEFAULT_TIER, Event, EventKind, Rule, Situation,
    TRANSITIONS, UnitScope, appended, apply, authorize, available_actions, check_merge_parent,
    decide, default_tier, matter_tier, required_text, role_may_take,
};
pub use org::{Category, Division, NewUnit, Unit, User};
pub use permission::{Permission, TicketReach, permits, ticket_reach};
pub use ticket::{
    Actor, Assignment, AssignmentState, CallbackAnswers, Citizen, ResidentsMeeting, Summons,
    Ticket, UnitQueue,
};
pub use types::{
    ChannelKind, DivisionLevel, Kind, RatingSource, Resolution, Role, Satisfaction,
    SupervisionLevel, TIERS, TicketState, UnitKind,
};

#[cfg(test)]
mod lifecycle_tests;
