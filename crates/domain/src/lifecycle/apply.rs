//! Applying events: the ticket's view, one event at a time.

use crate::ticket::{
    Assignment, AssignmentState, NotAcceptance, PendingExtension, Summons, Supervision, Ticket,
};
use crate::types::{RatingSource, TicketState};

use TicketState as S;

use super::*;

/// Applies one event to the ticket's view. `Received` creates the view; every other event
/// needs it. Returns `None` only for an event other than `Received` without a ticket.
pub fn apply(ticket: Option<Ticket>, event: &Event) -> Option<Ticket> {
    let at = event.at;
    if let EventKind::Received {
        number,
        tracking_code,
        channel,
        channel_detail,
        recording,
        kind,
        title,
        content,
        citizen,
        confidential,
        address,
        category_code,
        division_code,
        suggested_category_code,
        reported_by_unit_id,
        place,
        emergency,
        exchange,
    } = &event.kind
    {
        return Some(Ticket {
            id: event.ticket_id,
            number: number.clone(),
            tracking_code: tracking_code.clone(),
            state: S::Received,
            channel: channel.clone(),
            channel_detail: channel_detail.clone(),
            recording: recording.clone(),
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
            exchange: exchange.clone(),
            transfer: None,
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
            chain: Vec::new(),
            summons: Vec::new(),
            reported_by_unit_id: *reported_by_unit_id,
            place: place.clone(),
            emergency: emergency.clone(),
            resolved_on_spot_by: None,
            meetings: Vec::new(),
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
        EventKind::ResolvedOnSpot {
            unit_id,
            action_taken,
        } => {
            t.state = S::ResolvedDirectly;
            t.answer = Some(action_taken.clone());
            t.resolved_on_spot_by = Some(*unit_id);
            t.closed_at = Some(at);
        }
        EventKind::Recategorised { to, .. } => t.category_code = Some(to.clone()),
        EventKind::Relocated { to, .. } => {
            t.division_code = Some(to.clone());
            t.place = Some(crate::intake::PlaceFinding {
                how: crate::intake::PlaceHow::Corrected,
                confidence: None,
                candidates: Vec::new(),
            });
        }
        // The data were taken out of the stored view itself; nothing else changes.
        EventKind::PersonalDataRemoved { .. } => {}
        EventKind::MeetingRecorded {
            unit_id,
            held_on,
            participants,
            decision,
            who_pays,
        } => t.meetings.push(crate::ticket::ResidentsMeeting {
            unit_id: *unit_id,
            held_on: *held_on,
            participants: participants.clone(),
            decision: decision.clone(),
            who_pays: who_pays.clone(),
            recorded_at: at,
            recorded_by: event.actor.user_id,
        }),
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
            // A new handling cycle: the days granted to the last one do not carry over (as
            // the clocks count them).
            t.extension_days_granted = 0;
            withdraw_chain(&mut t, at);
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
            withdraw_chain(&mut t, at);
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
            if let Some(u) = event.actor.unit_id
                && let Some(a) = level_mut(&mut t, u)
                && a.first_contact_at.is_none()
            {
                a.first_contact_at = Some(at);
            }
        }
        EventKind::Forwarded {
            unit_id,
            from_unit_id,
            level,
            due_at,
            note,
            sign_by,
        } => {
            t.chain.push(Assignment {
                unit_id: *unit_id,
                from_unit_id: *from_unit_id,
                level: *level,
                state: AssignmentState::Forwarded,
                forwarded_at: at,
                due_at: *due_at,
                sign_by: *sign_by,
                note: note.clone(),
                signed_at: None,
                first_contact_at: None,
                reply: None,
                replied_at: None,
                return_reason: None,
                rejected_replies: 0,
                overdue_at: None,
                sign_overdue_at: None,
                finished_at: None,
            });
        }
        EventKind::AssignmentSigned { unit_id, .. } => {
            if let Some(a) = level_mut(&mut t, *unit_id) {
                a.state = AssignmentState::Signed;
                a.signed_at = Some(at);
            }
        }
        EventKind::LevelReplied { unit_id, content } => {
            if let Some(a) = level_mut(&mut t, *unit_id) {
                a.state = AssignmentState::Replied;
                a.reply = Some(content.clone());
                a.replied_at = Some(at);
            }
        }
        EventKind::LevelReplyApproved { unit_id, .. } => {
            if let Some(a) = level_mut(&mut t, *unit_id) {
                a.state = AssignmentState::Done;
                a.finished_at = Some(at);
            }
        }
        EventKind::LevelReplyRejected { unit_id, .. } => {
            if let Some(a) = level_mut(&mut t, *unit_id) {
                a.state = AssignmentState::Signed;
                a.rejected_replies += 1;
            }
        }
        EventKind::LevelReturnRequested { unit_id, reason } => {
            if let Some(a) = level_mut(&mut t, *unit_id) {
                a.state = AssignmentState::ReturnRequested;
                a.return_reason = Some(reason.clone());
            }
        }
        EventKind::LevelReturnApproved { unit_id, .. } => {
            if let Some(a) = level_mut(&mut t, *unit_id) {
                a.state = AssignmentState::Returned;
                a.finished_at = Some(at);
            }
        }
        EventKind::Summoned {
            unit_id,
            by_unit_id,
            reason,
            due_at,
        } => t.summons.push(Summons {
            unit_id: *unit_id,
            by_unit_id: *by_unit_id,
            reason: reason.clone(),
            summoned_at: at,
            due_at: *due_at,
            reported_at: None,
            report: None,
            overdue_at: None,
        }),
        EventKind::ReportedIn { unit_id, note } => {
            if let Some(c) = t
                .summons
                .iter_mut()
                .find(|c| c.unit_id == *unit_id && c.reported_at.is_none())
            {
                c.reported_at = Some(at);
                c.report = Some(note.clone());
            }
        }
        EventKind::LevelOverdue { unit_id, .. } => {
            if let Some(a) = level_mut(&mut t, *unit_id) {
                a.overdue_at = Some(at);
            }
        }
        EventKind::LevelSignOverdue { unit_id, .. } => {
            if let Some(a) = level_mut(&mut t, *unit_id) {
                a.sign_overdue_at = Some(at);
            }
        }
        EventKind::SummonsOverdue { unit_id, .. } => {
            if let Some(c) = t
                .summons
                .iter_mut()
                .find(|c| c.unit_id == *unit_id && c.reported_at.is_none())
            {
                c.overdue_at = Some(at);
            }
        }
        EventKind::LevelReturnRejected { unit_id, .. } => {
            if let Some(a) = level_mut(&mut t, *unit_id) {
                a.state = AssignmentState::Signed;
                a.return_reason = None;
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
        EventKind::CallbackRecorded { source, .. } => {
            // A citizen's bad rating waits for the hotline's review (差评待审); it counts
            // as a bad callback once judged reasonable.
            t.callback = event.kind.callback_answers();
            if t.callback.is_some_and(|a| a.is_bad()) {
                if *source == RatingSource::Citizen {
                    t.state = S::RatingReview;
                } else {
                    t.bad_callbacks += 1;
                }
            }
        }
        EventKind::ParentAnswered {
            reply,
            lead_unit_id,
            ..
        } => {
            t.state = S::AwaitingCallback;
            t.reply = Some(reply.clone());
            t.replied_at = Some(at);
            t.closed_at = None;
            if lead_unit_id.is_some() {
                t.lead_unit_id = *lead_unit_id;
            }
        }
        EventKind::RatingReviewed { reasonable, .. } => {
            if *reasonable {
                t.bad_callbacks += 1;
            }
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
            t.resolved_on_spot_by = None;
            t.extension_days_granted = 0;
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
        EventKind::TransferredOut {
            to,
            reason,
            agreement,
        } => {
            t.state = S::Transferred;
            t.transfer = Some(crate::exchange::Transfer {
                to: to.clone(),
                reason: reason.clone(),
                agreement: agreement.clone(),
                at,
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
        | EventKind::ResolvedOnSpot { .. }
        | EventKind::Closed { .. }
        | EventKind::Merged { .. }
        | EventKind::NotAccepted { .. }
        | EventKind::TransferredOut { .. } => &[C::Sign, C::Contact, C::Handling, C::Callback],
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

/// The active level a unit holds, to change.
fn level_mut(t: &mut Ticket, unit_id: i64) -> Option<&mut Assignment> {
    t.chain
        .iter_mut()
        .find(|a| a.unit_id == unit_id && a.state.is_active())
}

/// The ticket left its lead unit (returned to the hotline, or dispatched again): the levels
/// below that still held a part are withdrawn.
fn withdraw_chain(t: &mut Ticket, at: chrono::DateTime<chrono::Utc>) {
    for a in t.chain.iter_mut().filter(|a| a.state.is_active()) {
        a.state = AssignmentState::Returned;
        a.finished_at = Some(at);
    }
}
