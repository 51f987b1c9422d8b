//! The ticket's current view: what the events add up to.

use crate::types::{Channel, Kind, Resolution, Role, Satisfaction, TicketState};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Who performs a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Actor {
    pub user_id: i64,
    pub role: Role,
    /// The unit a `unit_handler` is bound to.
    pub unit_id: Option<i64>,
}

/// The citizen behind a request. Both fields are optional: many callers stay anonymous.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Citizen {
    pub name: Option<String>,
    pub phone: Option<String>,
}

/// An extension asked for by the lead unit and not yet decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PendingExtension {
    pub days: u32,
    pub reason: String,
    pub requested_at: DateTime<Utc>,
}

/// The three answers of a callback (回访).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CallbackAnswers {
    /// Did the unit contact the citizen in time (响应)?
    pub contacted: bool,
    pub resolution: Resolution,
    pub satisfaction: Satisfaction,
}

impl CallbackAnswers {
    /// A bad callback (unresolved or dissatisfied) reopens the ticket (重办).
    pub fn is_bad(&self) -> bool {
        self.resolution == Resolution::Unresolved || self.satisfaction == Satisfaction::Dissatisfied
    }
}

/// Why a ticket was not accepted (不予受理).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NotAcceptance {
    pub reason: String,
    pub redirect_to: Option<String>,
}

/// The current view of one ticket. It is derived from the ticket's events by [`crate::apply`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Ticket {
    pub id: i64,
    pub number: String,
    pub tracking_code: String,
    pub state: TicketState,
    pub channel: Channel,
    /// For `merged_line`, the merged hotline's number (e.g. 12369); free detail otherwise.
    pub channel_detail: Option<String>,
    pub kind: Kind,
    pub title: String,
    pub content: String,
    pub citizen: Citizen,
    pub confidential: bool,
    pub address: Option<String>,
    pub category_code: Option<String>,
    pub division_code: Option<String>,
    /// The category proposed at intake, if a proposal was shown (see `Received`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggested_category_code: Option<String>,
    pub lead_unit_id: Option<i64>,
    pub co_unit_ids: Vec<i64>,
    /// Handling tier in days (1, 3, 7 or 11), set at dispatch.
    pub tier: Option<u8>,
    /// The answer given at intake when resolved directly.
    pub answer: Option<String>,
    /// The lead unit's latest reply.
    pub reply: Option<String>,
    /// The state to go back to if a pending return is rejected.
    pub return_from: Option<TicketState>,
    pub pending_extension: Option<PendingExtension>,
    pub extension_days_granted: u32,
    pub extensions_approved: u32,
    pub callback: Option<CallbackAnswers>,
    pub callback_attempts: u32,
    pub reopen_count: u32,
    pub return_count: u32,
    pub parent_id: Option<i64>,
    pub child_ids: Vec<i64>,
    pub not_accepted: Option<NotAcceptance>,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub signed_at: Option<DateTime<Utc>>,
    pub first_contact_at: Option<DateTime<Utc>>,
    pub replied_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Number of events applied; the optimistic-concurrency version.
    pub version: i64,
    /// Clocks of the current cycle that passed their warning or due point and still run.
    #[serde(default)]
    pub alerts: Vec<crate::deadlines::DeadlineAlert>,
    /// The supervision (督办) the ticket is under, if any: the highest level raised so far.
    #[serde(default)]
    pub supervision: Option<Supervision>,
    /// Callbacks that found the request unresolved or the citizen dissatisfied.
    #[serde(default)]
    pub bad_callbacks: u32,
}

/// Where a ticket's supervision stands: its level, when and how it was last raised, and
/// whether the lead unit has answered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Supervision {
    pub level: crate::types::SupervisionLevel,
    pub raised_at: DateTime<Utc>,
    /// Raised by a rule of the policy (true) or by a supervisor (false).
    pub automatic: bool,
    pub reason: String,
    /// Supervisions raised on this ticket so far.
    pub count: u32,
    pub answered_at: Option<DateTime<Utc>>,
    pub answer: Option<String>,
}

impl Supervision {
    /// Whether the lead unit still owes an answer to the latest supervision.
    pub fn awaits_answer(&self) -> bool {
        self.answered_at.is_none()
    }
}

impl Ticket {
    /// The worst alert: overdue before warning.
    pub fn alert_level(&self) -> Option<crate::deadlines::AlertLevel> {
        self.alerts.iter().map(|a| a.level).max()
    }
}

impl Ticket {
    /// Whether the unit is the lead unit or a co-unit.
    pub fn involves_unit(&self, unit_id: i64) -> bool {
        self.lead_unit_id == Some(unit_id) || self.co_unit_ids.contains(&unit_id)
    }

    /// Whether the actor may see this ticket at all. A unit handler sees only the tickets
    /// of their own unit (lead or co-unit); every other role sees every ticket.
    pub fn visible_to(&self, actor: &Actor) -> bool {
        match crate::permission::ticket_reach(actor) {
            crate::permission::TicketReach::All => true,
            crate::permission::TicketReach::Unit(u) => self.involves_unit(u),
            crate::permission::TicketReach::Nothing => false,
        }
    }

    /// The ticket as the actor may see it: citizens' identity masked for roles that do not
    /// need it, and hidden entirely from units when the request is confidential.
    pub fn masked_for(&self, actor: &Actor) -> Ticket {
        let mut t = self.clone();
        if !crate::permission::permits(actor.role, crate::permission::Permission::SeeContacts) {
            t.citizen = mask_citizen(&self.citizen, self.confidential);
        }
        t
    }
}

/// Masks a citizen: `张三` → `张*`, `13812345678` → `138****5678`. Confidential → nothing.
pub fn mask_citizen(c: &Citizen, confidential: bool) -> Citizen {
    if confidential {
        return Citizen {
            name: c.name.as_ref().map(|_| "(保密)".to_string()),
            phone: None,
        };
    }
    Citizen {
        name: c.name.as_deref().map(mask_name),
        phone: c.phone.as_deref().map(mask_phone),
    }
}

fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => {
            let rest = chars.count().max(1);
            format!("{first}{}", "*".repeat(rest))
        }
        None => String::new(),
    }
}

/// A phone number with its middle hidden.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 4 {
        return "*".repeat(chars.len());
    }
    let keep_head = if chars.len() >= 11 { 3 } else { 1 };
    let keep_tail = 4.min(chars.len() - keep_head);
    let masked = chars.len() - keep_head - keep_tail;
    let head: String = chars[..keep_head].iter().collect();
    let tail: String = chars[chars.len() - keep_tail..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(masked))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_names_and_phones() {
        let c = Citizen {
            name: Some("张三丰".into()),
            phone: Some("13812345678".into()),
        };
        let m = mask_citizen(&c, false);
        assert_eq!(m.name.as_deref(), Some("张**"));
        assert_eq!(m.phone.as_deref(), Some("138****5678"));
        let one = mask_citizen(
            &Citizen {
                name: Some("王".into()),
                phone: Some("8123".into()),
            },
            false,
        );
        assert_eq!(one.name.as_deref(), Some("王*"));
        assert_eq!(one.phone.as_deref(), Some("****"));
        assert_eq!(mask_phone("0971-8123456"), "097*****3456");
    }

    #[test]
    fn confidential_hides_identity() {
        let c = Citizen {
            name: Some("李四".into()),
            phone: Some("13912345678".into()),
        };
        let m = mask_citizen(&c, true);
        assert_eq!(m.name.as_deref(), Some("(保密)"));
        assert_eq!(m.phone, None);
    }
}
