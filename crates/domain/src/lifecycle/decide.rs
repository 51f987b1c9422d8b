//! Deciding a command: who may, in which state, and the events it produces.

use crate::deadlines::{Clock, DeadlinePolicy, extension_refusal};
use crate::error::DomainError;
use crate::ticket::{Actor, Assignment, Ticket};
use crate::types::{Role, SupervisionLevel, TicketState};
use chrono::{DateTime, Utc};

use super::*;

/// The handling tier used when neither the catalogue, the category nor the ticket gives one.
pub const DEFAULT_TIER: u8 = 3;

/// What deciding a command needs to know besides the ticket and the command. The
/// application looks these facts up; the rules that use them are here.
#[derive(Debug, Clone, Copy)]
pub struct Situation<'a> {
    /// When the command is taken.
    pub now: DateTime<Utc>,
    /// The deadline policy in force (the extension rules).
    pub policy: &'a DeadlinePolicy,
    /// The ticket's clocks at `now`.
    pub clocks: &'a [Clock],
    /// Of the units the command names, those that exist and are active.
    pub active_units: &'a [i64],
    /// The dispatch catalogue's answer for the ticket's matter (category and place): the
    /// owning unit, and the tier its entry sets.
    pub catalogue_owner: Option<(i64, Option<u8>)>,
    /// The ticket's category's default tier.
    pub category_tier: Option<u8>,
    /// The active units below the one doing the work in the organisation (its street
    /// offices, communities, departments, sub-units at any depth): where it may forward.
    pub units_below: &'a [i64],
    /// The active units the holder of the ticket may call to the spot (吹哨): see
    /// [`crate::org::summonable`].
    pub summonable: &'a [i64],
    /// When a level forwarded now must sign: the policy's sign allowance in working hours
    /// on the official calendar ([`crate::deadlines::sign_by`]); none: no sign limit.
    pub level_sign_by: Option<DateTime<Utc>>,
    /// What the reply inspection found in the reply under review, recorded with its
    /// approval (advice only: it never refuses the approval).
    pub reply_findings: Option<&'a [crate::reply_check::ReplyFinding]>,
}

/// The tier a matter takes when it goes to `unit`: the catalogue entry's when that entry
/// decides the owner and names `unit`, else the category's (none when neither says).
pub fn matter_tier(
    unit: i64,
    catalogue_owner: Option<(i64, Option<u8>)>,
    category_tier: Option<u8>,
) -> Option<u8> {
    catalogue_owner
        .filter(|(owner, _)| *owner == unit)
        .and_then(|(_, tier)| tier)
        .or(category_tier)
}

/// The tier a dispatch to `lead_unit_id` takes unless the dispatcher gives another (with a
/// reason): the matter's ([`matter_tier`]), else the tier the ticket already has, else
/// [`DEFAULT_TIER`].
pub fn default_tier(ticket: &Ticket, lead_unit_id: i64, s: &Situation) -> u8 {
    matter_tier(lead_unit_id, s.catalogue_owner, s.category_tier)
        .or(ticket.tier)
        .unwrap_or(DEFAULT_TIER)
}

/// The tier a dispatch or a consultation's decision records: the one given, if it is the
/// default or comes with a reason; the default when none is given.
fn dispatch_tier(
    ticket: &Ticket,
    lead_unit_id: i64,
    given: Option<u8>,
    note: &Option<String>,
    s: &Situation,
) -> Result<u8, DomainError> {
    let default = default_tier(ticket, lead_unit_id, s);
    match given {
        Some(t) if t != default && note.is_none() => Err(DomainError::invalid(
            "note",
            format!(
                "the handling tier for this matter is {default} days; give the reason for {t} days in the note"
            ),
        )),
        Some(t) => Ok(t),
        None => Ok(default),
    }
}

/// Whether a role may take an action at all (on some ticket, in some state): the
/// transition table's roles.
pub fn role_may_take(role: Role, action: Action) -> bool {
    action.rule_for(role).is_some()
}

/// Whether the unit is in the scope a rule names on this ticket.
fn in_scope(ticket: &Ticket, scope: UnitScope, unit: i64) -> bool {
    match scope {
        UnitScope::Lead => ticket.lead_unit_id == Some(unit),
        UnitScope::LeadOrCo => ticket.involves_unit(unit),
        UnitScope::Holder => ticket.holder_unit() == Some(unit),
        UnitScope::Reviewer => ticket.reviewer_unit() == Some(unit),
        UnitScope::Involved => {
            ticket.involves_unit(unit)
                || ticket.assignment_of(unit).is_some()
                || ticket.reported_by_unit_id == Some(unit)
        }
        UnitScope::Summoned => ticket.open_summons(unit).is_some(),
        UnitScope::Reporter => ticket.reported_by_unit_id == Some(unit),
    }
}

/// Checks the actor's right to take the action on this ticket: role first (403), then
/// the unit the handler belongs to (403), then the ticket's state (409), then where the
/// actor's level of the chain stands ([`chain_guard`], 409).
pub fn authorize(ticket: &Ticket, actor: &Actor, action: Action) -> Result<(), DomainError> {
    let Some(rule) = action.rule_for(actor.role) else {
        return Err(DomainError::Forbidden {
            role: actor.role,
            action: action.as_str().to_string(),
        });
    };
    if actor.role.bound_to_unit()
        && !actor
            .unit_id
            .is_some_and(|u| in_scope(ticket, rule.unit_scope, u))
    {
        let whose = rule.unit_scope.whose();
        return Err(DomainError::NotYourTicket {
            message: format!("only a handler of {whose} may {}", action.as_str()),
        });
    }
    if !rule.from.contains(&ticket.state) {
        return Err(illegal(action, ticket.state, ""));
    }
    chain_guard(ticket, actor, action)
}

/// The lowest level of the chain when the actor's unit holds it.
fn own_assignment<'t>(ticket: &'t Ticket, actor: &Actor) -> Option<&'t Assignment> {
    ticket
        .lowest_assignment()
        .filter(|a| actor.role == Role::UnitHandler && Some(a.unit_id) == actor.unit_id)
}

/// What the levels of the chain allow beyond the table: a level signs once, replies or
/// forwards once signed and not while its reply awaits review; the lead unit signs only a
/// dispatched ticket; a reviewer decides on what awaits it (a reply, or a request to give
/// the ticket back).
fn chain_guard(ticket: &Ticket, actor: &Actor, action: Action) -> Result<(), DomainError> {
    use crate::ticket::AssignmentState as A;
    let refuse = |detail: &str| Err(illegal(action, ticket.state, detail));
    if let Some(a) = own_assignment(ticket, actor) {
        return match (action, a.state) {
            (Action::Sign, A::Forwarded) => Ok(()),
            (Action::Sign, _) => refuse(" (this level has signed already)"),
            (Action::Reply | Action::Forward, A::Signed) => Ok(()),
            (Action::Reply | Action::Forward, A::Forwarded) => refuse(" (sign it first)"),
            (Action::RequestReturn, A::Forwarded | A::Signed) => Ok(()),
            (Action::Reply | Action::Forward | Action::RequestReturn, _) => {
                refuse(" (this level's reply or return awaits the level above)")
            }
            _ => Ok(()),
        };
    }
    let holds_as_lead = actor.role == Role::UnitHandler
        && ticket.lowest_assignment().is_none()
        && ticket.lead_unit_id == actor.unit_id;
    if holds_as_lead && action == Action::Sign && ticket.state != TicketState::Dispatched {
        return refuse(" (the lead unit has signed already)");
    }
    if actor.role == Role::UnitHandler && ticket.reviewer_unit() == actor.unit_id {
        let awaiting = ticket.lowest_assignment().map(|a| a.state);
        return match (action, awaiting) {
            (Action::ApproveReply | Action::RejectReply, Some(A::Replied)) => Ok(()),
            (Action::ApproveReturn | Action::RejectReturn, Some(A::ReturnRequested)) => Ok(()),
            (
                Action::ApproveReply
                | Action::RejectReply
                | Action::ApproveReturn
                | Action::RejectReturn,
                _,
            ) => refuse(" (the level below awaits another decision)"),
            _ => Ok(()),
        };
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

/// Decides a command: the events it produces, or why it is refused. Everything about an
/// action is decided here — who, in which state, the units it names, the tier of a
/// dispatch, the extension rules — from the ticket, the actor and the [`Situation`]. The
/// caller has checked that the ticket is visible to the actor.
pub fn decide(
    ticket: &Ticket,
    actor: &Actor,
    cmd: &Command,
    s: &Situation,
) -> Result<Vec<EventKind>, DomainError> {
    let action = cmd.action();
    authorize(ticket, actor, action)?;
    for (field, unit) in cmd.named_units() {
        if !s.active_units.contains(&unit) {
            return Err(DomainError::invalid(
                field,
                format!("unit {unit} does not exist or is disabled"),
            ));
        }
    }
    let events = match cmd.clone() {
        Command::ResolveDirectly { answer } => vec![EventKind::ResolvedDirectly { answer }],
        // A dispatch and a consultation's decision name the units the same way and take
        // their tier by the same rule.
        Command::Dispatch {
            lead_unit_id,
            co_unit_ids,
            tier,
            note,
        }
        | Command::DecideConsultation {
            lead_unit_id,
            co_unit_ids,
            tier,
            note,
        } => {
            let tier = Some(dispatch_tier(ticket, lead_unit_id, tier, &note, s)?);
            vec![if action == Action::Dispatch {
                EventKind::Dispatched {
                    lead_unit_id,
                    co_unit_ids,
                    tier,
                    note,
                }
            } else {
                EventKind::ConsultationDecided {
                    lead_unit_id,
                    co_unit_ids,
                    tier,
                    note,
                }
            }]
        }
        Command::Sign { note } => match own_assignment(ticket, actor) {
            Some(a) => vec![EventKind::AssignmentSigned {
                unit_id: a.unit_id,
                note,
            }],
            None => vec![EventKind::Signed { note }],
        },
        Command::RequestReturn { reason } => match own_assignment(ticket, actor) {
            Some(a) => vec![EventKind::LevelReturnRequested {
                unit_id: a.unit_id,
                reason,
            }],
            None => vec![EventKind::ReturnRequested { reason }],
        },
        Command::ApproveReturn { note } => match reviewed(ticket, actor) {
            Some(below) => vec![EventKind::LevelReturnApproved {
                unit_id: below.unit_id,
                note,
            }],
            None => vec![EventKind::ReturnApproved { note }],
        },
        Command::RejectReturn { note } => match reviewed(ticket, actor) {
            Some(below) => vec![EventKind::LevelReturnRejected {
                unit_id: below.unit_id,
                note,
            }],
            None => vec![EventKind::ReturnRejected { note }],
        },
        Command::OpenConsultation { note } => vec![EventKind::ConsultationOpened { note }],
        Command::RequestExtension { days, reason } => {
            if ticket.pending_extension.is_some() {
                return Err(illegal(
                    action,
                    ticket.state,
                    " (an extension request is already pending)",
                ));
            }
            if let Some(why) =
                extension_refusal(s.policy, s.clocks, ticket.extensions_approved, s.now)
            {
                return Err(DomainError::Refused {
                    code: "extension_refused",
                    message: why,
                });
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
        Command::Reply { content } => match own_assignment(ticket, actor) {
            Some(a) => vec![EventKind::LevelReplied {
                unit_id: a.unit_id,
                content,
            }],
            None => vec![EventKind::Replied { content }],
        },
        Command::ApproveReply { note, content } => match reviewed(ticket, actor) {
            // The level below is done; its reply, as the reviewer passes it, goes one level
            // up: the lead unit's is its reply to the hotline.
            Some(below) => {
                let content = content.or_else(|| below.reply.clone()).unwrap_or_default();
                let passed_up = if ticket.lead_unit_id == actor.unit_id {
                    EventKind::Replied { content }
                } else {
                    EventKind::LevelReplied {
                        unit_id: below.from_unit_id,
                        content,
                    }
                };
                vec![
                    EventKind::LevelReplyApproved {
                        unit_id: below.unit_id,
                        note,
                        findings: s.reply_findings.map(<[_]>::to_vec),
                    },
                    passed_up,
                ]
            }
            None if content.is_some() => {
                return Err(DomainError::invalid(
                    "content",
                    "the hotline approves the lead unit's reply as it is; reject it to have it changed",
                ));
            }
            None => vec![EventKind::ReplyApproved {
                note,
                findings: s.reply_findings.map(<[_]>::to_vec),
            }],
        },
        Command::RejectReply { reason } => match reviewed(ticket, actor) {
            Some(below) => vec![EventKind::LevelReplyRejected {
                unit_id: below.unit_id,
                reason,
            }],
            None => vec![EventKind::ReplyRejected { reason }],
        },
        Command::Forward {
            unit_id,
            note,
            due_at,
        } => vec![forward(ticket, unit_id, note, due_at, s)?],
        Command::Summon {
            unit_id,
            reason,
            by,
        } => {
            if !s.summonable.contains(&unit_id) {
                return Err(DomainError::invalid(
                    "unit_id",
                    format!(
                        "unit {unit_id} cannot be called here: a street office holding the ticket calls city departments, public enterprises and its district's departments"
                    ),
                ));
            }
            if ticket.open_summons(unit_id).is_some() {
                return Err(DomainError::invalid(
                    "unit_id",
                    format!("unit {unit_id} was called already and has not reported in"),
                ));
            }
            let due_at = match by {
                Some(b) if b <= s.now => {
                    return Err(DomainError::invalid("by", "must be in the future"));
                }
                Some(b) => b,
                None => s.now + chrono::Duration::hours(i64::from(s.policy.report_in_hours)),
            };
            vec![EventKind::Summoned {
                unit_id,
                by_unit_id: ticket.holder_unit().unwrap_or_default(),
                reason,
                due_at,
            }]
        }
        Command::ReportIn { note } => vec![EventKind::ReportedIn {
            unit_id: actor.unit_id.unwrap_or_default(),
            note,
        }],
        Command::Recategorise {
            category_code,
            reason,
        } => {
            if ticket.category_code.as_deref() == Some(category_code.as_str()) {
                return Err(DomainError::invalid(
                    "category_code",
                    format!("the ticket is in category {category_code} already"),
                ));
            }
            vec![EventKind::Recategorised {
                from: ticket.category_code.clone(),
                to: category_code,
                reason,
            }]
        }
        Command::Relocate {
            division_code,
            reason,
        } => {
            if ticket.division_code.as_deref() == Some(division_code.as_str()) {
                return Err(DomainError::invalid(
                    "division_code",
                    format!("the ticket is in division {division_code} already"),
                ));
            }
            vec![EventKind::Relocated {
                from: ticket.division_code.clone(),
                to: division_code,
                reason,
            }]
        }
        Command::ResolveOnSpot { action_taken } => vec![EventKind::ResolvedOnSpot {
            unit_id: actor.unit_id.unwrap_or_default(),
            action_taken,
        }],
        Command::RecordMeeting {
            held_on,
            participants,
            decision,
            who_pays,
        } => {
            if held_on > crate::aggregates::business_day(s.now) {
                return Err(DomainError::invalid(
                    "held_on",
                    "a meeting is recorded once held: the day must not be after today",
                ));
            }
            vec![EventKind::MeetingRecorded {
                unit_id: actor.unit_id.unwrap_or_default(),
                held_on,
                participants,
                decision,
                who_pays,
            }]
        }
        Command::RecordCallback(CallbackInput::Answered { answers, note }) => {
            let recorded = EventKind::CallbackRecorded {
                contacted: answers.contacted,
                resolution: answers.resolution,
                satisfaction: answers.satisfaction,
                note,
                source: answers.source,
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
        Command::ReviewRating { reasonable, reason } => {
            let then = if reasonable {
                EventKind::Reopened {
                    reason: Some(match &reason {
                        Some(r) => format!("市民评价不满意，经审核合理，重办：{r}"),
                        None => "市民评价不满意，经审核合理，重办".to_string(),
                    }),
                }
            } else {
                EventKind::Closed {
                    outcome: CloseOutcome::RatingExcluded,
                    note: reason.clone(),
                }
            };
            vec![EventKind::RatingReviewed { reasonable, reason }, then]
        }
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
        Command::TransferOut {
            to,
            reason,
            agreement,
        } => {
            crate::exchange::check_transfer_back(
                ticket.exchange.as_ref(),
                &to,
                agreement.as_deref(),
            )?;
            vec![EventKind::TransferredOut {
                to,
                reason,
                agreement,
            }]
        }
        Command::RevealContact => {
            if actor.role.bound_to_unit() && ticket.confidential {
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

/// The lowest level, when the actor's unit reviews it (forwarded it, and its reply or
/// request to give the ticket back awaits).
fn reviewed<'t>(ticket: &'t Ticket, actor: &Actor) -> Option<&'t Assignment> {
    if actor.role != Role::UnitHandler || ticket.reviewer_unit() != actor.unit_id {
        return None;
    }
    ticket.lowest_assignment()
}

/// Forwarding down the organisation: to an active unit below the one doing the work, not
/// already on the chain, due within the time the level above has (by default its time
/// left less the review share of the policy).
fn forward(
    ticket: &Ticket,
    unit_id: i64,
    note: Option<String>,
    due_at: Option<DateTime<Utc>>,
    s: &Situation,
) -> Result<EventKind, DomainError> {
    let from_unit_id = ticket
        .holder_unit()
        .ok_or_else(|| DomainError::invalid("unit_id", "the ticket is with no unit"))?;
    if !s.units_below.contains(&unit_id) {
        return Err(DomainError::invalid(
            "unit_id",
            format!(
                "unit {unit_id} is not an active unit below the one holding the ticket; a ticket goes down the organisation (a district to its streets and departments, a street to its communities)"
            ),
        ));
    }
    if ticket.assignment_of(unit_id).is_some() {
        return Err(DomainError::invalid(
            "unit_id",
            format!("unit {unit_id} already holds a level of this ticket"),
        ));
    }
    let lowest = ticket.lowest_assignment();
    let level = lowest.map_or(1, |a| a.level + 1);
    // The time the level above has: its own due point, or the lead unit's handling clock.
    let above_due = match lowest {
        Some(a) => a.due_at,
        None => s
            .clocks
            .iter()
            .find(|c| c.kind == crate::deadlines::ClockKind::Handling)
            .and_then(|c| c.due),
    };
    let due_at = match (due_at, above_due) {
        (Some(d), _) if d <= s.now => {
            return Err(DomainError::invalid("due_at", "must be in the future"));
        }
        (Some(d), Some(limit)) if d > limit => {
            return Err(DomainError::invalid(
                "due_at",
                format!("must not be later than the level above's own due time, {limit}"),
            ));
        }
        (Some(d), _) => Some(d),
        (None, Some(limit)) if limit > s.now => {
            let left = limit - s.now;
            let keep = i32::from(s.policy.review_share_percent.min(90));
            Some(s.now + left * (100 - keep) / 100)
        }
        (None, _) => None,
    };
    let sign_by = match (s.level_sign_by, due_at) {
        (Some(by), Some(due)) => Some(by.min(due)),
        (by, _) => by,
    };
    Ok(EventKind::Forwarded {
        unit_id,
        from_unit_id,
        level,
        due_at,
        note,
        sign_by,
    })
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
