//! Errors of the domain rules. Each names the field or the rule that was broken.

use crate::types::{Role, TicketState};
use std::fmt;

/// A string that is not one of an enum's wire names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
    pub expected: &'static [&'static str],
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown {} `{}`; expected one of: {}",
            self.kind,
            self.value,
            self.expected.join(", ")
        )
    }
}

impl std::error::Error for UnknownValue {}

/// Why a command was refused. Nothing changes when a command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// Input that breaks a rule about one field.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// The actor's role may not take this action at all.
    #[error("role `{role}` may not {action}")]
    Forbidden { role: Role, action: String },
    /// The actor's role may take this action, but not on this ticket (e.g. a co-unit replying).
    #[error("{message}")]
    NotYourTicket { message: String },
    /// A rule of the policy refuses the action now (an extension after the daily cut-off,
    /// after the deadline, or one too many); `code` names the rule.
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    /// The action does not apply to the ticket in its current state.
    #[error("cannot {action} a ticket in state `{state}`{detail}")]
    IllegalTransition {
        action: String,
        state: TicketState,
        detail: String,
    },
}

impl DomainError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}
