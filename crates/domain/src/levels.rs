//! What each unit did down the levels (分级转办 · 吹哨报到), from the events: the tickets
//! forwarded to it, signed, replied up (in the time the level above gave, or late), replies
//! the level above sent back, levels overdue, calls to the spot and answers to them. The
//! evaluation of a district's streets and communities, and of the departments' 报到率.

use crate::lifecycle::{Event, EventKind};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// One unit's work down the levels in a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LevelWork {
    /// Tickets forwarded to it.
    pub forwarded: u64,
    pub signed: u64,
    /// Of its signatures, those by the sign-by time its forwarding gave.
    pub signed_on_time: u64,
    /// Replies it sent up, and of those within the time the level above gave.
    pub replies: u64,
    pub replies_on_time: u64,
    /// Its replies the level above sent back.
    pub replies_rejected: u64,
    /// Times it passed its due time without replying (the watcher's record).
    pub overdue: u64,
    /// Times it was called to the spot (吹哨), answers (报到), and answers in time.
    pub summoned: u64,
    pub reported_in: u64,
    pub reported_in_on_time: u64,
    /// Matters its grid workers reported on patrol that it resolved itself (就地办结),
    /// counted apart from the hotline's direct answers.
    pub resolved_on_spot: u64,
    /// Residents' meetings (近邻议事会) it recorded.
    pub meetings: u64,
}

impl LevelWork {
    /// Share of its signatures made in time (none without signatures).
    pub fn on_time_sign_rate(&self) -> Option<f64> {
        ratio(self.signed_on_time, self.signed)
    }

    /// Share of its replies sent within the time given (none without replies).
    pub fn on_time_reply_rate(&self) -> Option<f64> {
        ratio(self.replies_on_time, self.replies)
    }

    /// Share of its replies the level above sent back.
    pub fn rejection_rate(&self) -> Option<f64> {
        ratio(self.replies_rejected, self.replies)
    }

    /// 报到率: share of the calls it answered; and of those in time.
    pub fn report_in_rate(&self) -> Option<f64> {
        ratio(self.reported_in, self.summoned)
    }

    pub fn on_time_report_in_rate(&self) -> Option<f64> {
        ratio(self.reported_in_on_time, self.summoned)
    }
}

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// Each unit's work in `[from, to)`, from the whole histories of the tickets concerned
/// (events in order, any number of tickets): a reply is on time when it comes by the due
/// time of the forwarding it answers, whenever that was.
pub fn level_work(
    events: &[Event],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> BTreeMap<i64, LevelWork> {
    let mut work: BTreeMap<i64, LevelWork> = BTreeMap::new();
    // The due and sign-by times of each (ticket, unit)'s latest forwarding, and of its call.
    let mut forwarded_due: HashMap<(i64, i64), Option<DateTime<Utc>>> = HashMap::new();
    let mut sign_by: HashMap<(i64, i64), Option<DateTime<Utc>>> = HashMap::new();
    let mut called_due: HashMap<(i64, i64), DateTime<Utc>> = HashMap::new();
    for e in events {
        let within = e.at >= from && e.at < to;
        let mut count = |unit: i64, f: &dyn Fn(&mut LevelWork)| {
            if within {
                f(work.entry(unit).or_default());
            }
        };
        match &e.kind {
            EventKind::Forwarded {
                unit_id,
                due_at,
                sign_by: by,
                ..
            } => {
                forwarded_due.insert((e.ticket_id, *unit_id), *due_at);
                sign_by.insert((e.ticket_id, *unit_id), *by);
                count(*unit_id, &|w| w.forwarded += 1);
            }
            EventKind::AssignmentSigned { unit_id, .. } => {
                let on_time = sign_by
                    .get(&(e.ticket_id, *unit_id))
                    .copied()
                    .flatten()
                    .is_none_or(|by| e.at <= by);
                count(*unit_id, &|w| {
                    w.signed += 1;
                    w.signed_on_time += u64::from(on_time);
                });
            }
            EventKind::LevelReplied { unit_id, .. } => {
                let on_time = forwarded_due
                    .get(&(e.ticket_id, *unit_id))
                    .copied()
                    .flatten()
                    .is_none_or(|due| e.at <= due);
                count(*unit_id, &|w| {
                    w.replies += 1;
                    w.replies_on_time += u64::from(on_time);
                });
            }
            EventKind::LevelReplyRejected { unit_id, .. } => {
                count(*unit_id, &|w| w.replies_rejected += 1)
            }
            EventKind::LevelOverdue { unit_id, .. } => count(*unit_id, &|w| w.overdue += 1),
            EventKind::Summoned {
                unit_id, due_at, ..
            } => {
                called_due.insert((e.ticket_id, *unit_id), *due_at);
                count(*unit_id, &|w| w.summoned += 1);
            }
            EventKind::ReportedIn { unit_id, .. } => {
                let on_time = called_due
                    .get(&(e.ticket_id, *unit_id))
                    .is_none_or(|due| e.at <= *due);
                count(*unit_id, &|w| {
                    w.reported_in += 1;
                    w.reported_in_on_time += u64::from(on_time);
                });
            }
            EventKind::ResolvedOnSpot { unit_id, .. } => {
                count(*unit_id, &|w| w.resolved_on_spot += 1)
            }
            EventKind::MeetingRecorded { unit_id, .. } => count(*unit_id, &|w| w.meetings += 1),
            _ => {}
        }
    }
    work
}

/// The event types [`level_work`] counts (what a store looks the tickets up by).
pub const LEVEL_EVENT_TYPES: [&str; 9] = [
    "forwarded",
    "assignment_signed",
    "level_replied",
    "level_reply_rejected",
    "level_overdue",
    "summoned",
    "reported_in",
    "resolved_on_spot",
    "meeting_recorded",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ticket::Actor;
    use crate::types::Role;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn ev(ticket: i64, when: &str, kind: EventKind) -> Event {
        Event {
            ticket_id: ticket,
            seq: 1,
            at: at(when),
            actor: Actor {
                user_id: 1,
                role: Role::UnitHandler,
                unit_id: None,
            },
            kind,
        }
    }

    fn forwarded(unit: i64, due: &str) -> EventKind {
        EventKind::Forwarded {
            unit_id: unit,
            from_unit_id: 1,
            level: 1,
            due_at: Some(at(due)),
            note: None,
            sign_by: Some(at("2026-11-03T10:00:00+08:00")),
        }
    }

    fn replied(unit: i64) -> EventKind {
        EventKind::LevelReplied {
            unit_id: unit,
            content: "r".into(),
        }
    }

    #[test]
    fn replies_and_answers_are_on_time_by_what_was_given() {
        let events = vec![
            // Ticket 1: unit 8 replies late once (rejected), then again.
            ev(
                1,
                "2026-10-31T09:00:00+08:00",
                forwarded(8, "2026-11-02T12:00:00+08:00"),
            ),
            ev(
                1,
                "2026-11-01T09:00:00+08:00",
                EventKind::AssignmentSigned {
                    unit_id: 8,
                    note: None,
                },
            ),
            ev(1, "2026-11-02T11:00:00+08:00", replied(8)),
            ev(
                1,
                "2026-11-02T11:30:00+08:00",
                EventKind::LevelReplyRejected {
                    unit_id: 8,
                    reason: "x".into(),
                },
            ),
            ev(1, "2026-11-02T15:00:00+08:00", replied(8)),
            // Ticket 2: unit 9 forwarded, overdue; department 20 called, answers late.
            ev(
                2,
                "2026-11-03T09:00:00+08:00",
                forwarded(9, "2026-11-03T12:00:00+08:00"),
            ),
            ev(
                2,
                "2026-11-03T12:01:00+08:00",
                EventKind::LevelOverdue {
                    unit_id: 9,
                    due_at: at("2026-11-03T12:00:00+08:00"),
                },
            ),
            ev(
                2,
                "2026-11-03T13:00:00+08:00",
                EventKind::Summoned {
                    unit_id: 20,
                    by_unit_id: 9,
                    reason: "r".into(),
                    due_at: at("2026-11-03T14:00:00+08:00"),
                },
            ),
            ev(
                2,
                "2026-11-03T15:00:00+08:00",
                EventKind::ReportedIn {
                    unit_id: 20,
                    note: "n".into(),
                },
            ),
            // Ticket 4: unit 8 again, signing after its sign-by time.
            ev(
                4,
                "2026-11-03T09:00:00+08:00",
                forwarded(8, "2026-11-09T12:00:00+08:00"),
            ),
            ev(
                4,
                "2026-11-03T10:30:00+08:00",
                EventKind::AssignmentSigned {
                    unit_id: 8,
                    note: None,
                },
            ),
            // Ticket 3: community 30 holds a residents' meeting and resolves its own
            // patrol report.
            ev(
                3,
                "2026-11-04T15:00:00+08:00",
                EventKind::MeetingRecorded {
                    unit_id: 30,
                    held_on: chrono::NaiveDate::from_ymd_opt(2026, 11, 4).unwrap(),
                    participants: "居民代表".into(),
                    decision: "更换管道".into(),
                    who_pays: "共同承担".into(),
                },
            ),
            ev(
                3,
                "2026-11-06T17:00:00+08:00",
                EventKind::ResolvedOnSpot {
                    unit_id: 30,
                    action_taken: "已更换".into(),
                },
            ),
            // Outside the period: not counted.
            ev(2, "2026-12-01T09:00:00+08:00", replied(9)),
        ];
        let work = level_work(
            &events,
            at("2026-11-01T00:00:00+08:00"),
            at("2026-12-01T00:00:00+08:00"),
        );
        // The forwarding of ticket 1 was before the period: its replies still know their due
        // time. Ticket 4's forwarding asked for a signature by 10:00; it came at 10:30.
        assert_eq!(
            work[&8],
            LevelWork {
                forwarded: 1,
                signed: 2,
                signed_on_time: 1,
                replies: 2,
                replies_on_time: 1,
                replies_rejected: 1,
                ..Default::default()
            }
        );
        assert_eq!(work[&8].on_time_reply_rate(), Some(0.5));
        assert_eq!(work[&8].on_time_sign_rate(), Some(0.5));
        assert_eq!(work[&8].rejection_rate(), Some(0.5));
        assert_eq!(
            work[&9],
            LevelWork {
                forwarded: 1,
                overdue: 1,
                ..Default::default()
            }
        );
        assert_eq!(
            work[&20],
            LevelWork {
                summoned: 1,
                reported_in: 1,
                reported_in_on_time: 0,
                ..Default::default()
            }
        );
        assert_eq!(work[&20].report_in_rate(), Some(1.0));
        assert_eq!(work[&20].on_time_report_in_rate(), Some(0.0));
        assert_eq!(
            work[&30],
            LevelWork {
                resolved_on_spot: 1,
                meetings: 1,
                ..Default::default()
            }
        );
        assert_eq!(work.len(), 4);
    }
}
