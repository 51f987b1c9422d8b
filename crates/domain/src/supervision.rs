//! Three-level supervision (三级督办): the rules that raise it without anyone asking, and
//! the review the deadline watcher makes of a ticket (alerts and supervision together).
//!
//! - L1 催办 (urged by the hotline centre): one of the unit's clocks is overdue.
//! - L2 书面督办 (written supervision): still overdue some working days after L1, or a
//!   second bad callback.
//! - L3 挂牌督办 (listed, with public notice): still overdue some working days after L2, or a
//!   third bad callback.
//!
//! Supervisors may raise a level by hand (a command); the lead unit answers each one.

use crate::calendar::{Calendar, add_working_days};
use crate::deadlines::{ClockKind, DeadlinePolicy, clocks, watch};
use crate::lifecycle::{Event, EventKind, apply};
use crate::ticket::{Actor, Ticket};
use crate::types::{Role, SupervisionLevel};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// When supervision is raised automatically. `None` (or 0) switches a rule off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SupervisionRules {
    /// Clocks whose breach raises L1 催办 (the unit's own clocks; empty: never).
    pub l1_on_breach_of: Vec<ClockKind>,
    /// Working days after L1 after which a ticket still overdue goes to L2.
    pub l2_after_working_days: Option<u32>,
    /// Working days after L2 after which a ticket still overdue goes to L3.
    pub l3_after_working_days: Option<u32>,
    /// Bad callbacks (unresolved or dissatisfied) on one ticket that raise it to L2.
    pub l2_on_bad_callbacks: Option<u32>,
    /// Bad callbacks on one ticket that raise it to L3.
    pub l3_on_bad_callbacks: Option<u32>,
}

impl Default for SupervisionRules {
    fn default() -> Self {
        SupervisionRules {
            l1_on_breach_of: vec![ClockKind::Sign, ClockKind::Contact, ClockKind::Handling],
            l2_after_working_days: Some(2),
            l3_after_working_days: Some(3),
            l2_on_bad_callbacks: Some(2),
            l3_on_bad_callbacks: Some(3),
        }
    }
}

fn enabled(n: Option<u32>) -> Option<u32> {
    n.filter(|n| *n > 0)
}

/// Whether a clock stands still now (a reply, return or consultation under review).
fn paused_now(c: &crate::deadlines::Clock) -> bool {
    c.pauses.last().is_some_and(|p| p.to.is_none())
}

/// The unit clock that is overdue now (running, not paused, past its due point), if any.
fn overdue_clock(
    rules: &SupervisionRules,
    clocks: &[crate::deadlines::Clock],
    now: DateTime<Utc>,
) -> Option<ClockKind> {
    clocks
        .iter()
        .filter(|c| rules.l1_on_breach_of.contains(&c.kind))
        .filter(|c| c.stopped_at.is_none() && !paused_now(c))
        .find(|c| c.due.is_some_and(|d| now >= d))
        .map(|c| c.kind)
}

/// What the rules say of a ticket at `now`: the supervision to raise now, if any, and
/// otherwise the next moment a rule could raise it by time (none if no rule is pending).
pub fn escalation(
    ticket: &Ticket,
    clocks: &[crate::deadlines::Clock],
    p: &DeadlinePolicy,
    cal: &Calendar,
    now: DateTime<Utc>,
) -> (Option<EventKind>, Option<DateTime<Utc>>) {
    if ticket.state.is_terminal() || ticket.lead_unit_id.is_none() {
        return (None, None);
    }
    let rules = &p.supervision;
    let current = ticket.supervision.as_ref().map(|s| s.level);
    let raise = |level: SupervisionLevel, reason: String| EventKind::Supervised {
        level,
        reason,
        automatic: true,
    };
    // Bad callbacks jump straight to their level.
    for (level, n) in [
        (SupervisionLevel::L3, rules.l3_on_bad_callbacks),
        (SupervisionLevel::L2, rules.l2_on_bad_callbacks),
    ] {
        if let Some(n) = enabled(n)
            && ticket.bad_callbacks >= n
            && current.is_none_or(|c| c < level)
        {
            let reason = format!("第{}次回访未解决或不满意", ticket.bad_callbacks);
            return (Some(raise(level, reason)), None);
        }
    }
    let overdue = overdue_clock(rules, clocks, now);
    let Some(s) = ticket.supervision.as_ref() else {
        return match overdue {
            Some(k) => (
                Some(raise(
                    SupervisionLevel::L1,
                    format!("{}已超期", k.label_zh()),
                )),
                None,
            ),
            None => (None, None),
        };
    };
    let Some(next_level) = s.level.next() else {
        return (None, None);
    };
    let after = match s.level {
        SupervisionLevel::L1 => enabled(rules.l2_after_working_days),
        _ => enabled(rules.l3_after_working_days),
    };
    let Some(days) = after else {
        return (None, None);
    };
    let point = add_working_days(cal, &p.working_hours, s.raised_at, days).at;
    if now < point {
        // Only worth a look then if one of the unit's clocks still runs.
        let running = clocks
            .iter()
            .any(|c| rules.l1_on_breach_of.contains(&c.kind) && c.stopped_at.is_none());
        return (None, running.then_some(point));
    }
    match overdue {
        Some(k) => (
            Some(raise(
                next_level,
                format!(
                    "{}后{}个工作日仍超期（{}）",
                    s.level.label_zh(),
                    days,
                    k.label_zh()
                ),
            )),
            None,
        ),
        // Not overdue now: a later breach is a due point the watcher looks at anyway.
        None => (None, None),
    }
}

/// What the levels of the chain (分级转办) and the departments called to the spot let pass:
/// a level's sign-by time before it signed, the time the level above gave it to reply, a
/// department's time to report in. Each recorded once; and the next such time to look at.
fn levels_overdue(ticket: &Ticket, now: DateTime<Utc>) -> (Vec<EventKind>, Option<DateTime<Utc>>) {
    use crate::ticket::AssignmentState as A;
    let mut late = Vec::new();
    let mut next = None;
    if ticket.state != crate::types::TicketState::InProgress {
        return (late, next);
    }
    let mut passed = |at: DateTime<Utc>, event: EventKind| {
        if at <= now {
            late.push(event);
        } else {
            next = earliest(next, Some(at));
        }
    };
    for a in ticket.active_chain() {
        if let (Some(by), None, A::Forwarded) = (a.sign_by, a.sign_overdue_at, a.state) {
            passed(
                by,
                EventKind::LevelSignOverdue {
                    unit_id: a.unit_id,
                    sign_by: by,
                },
            );
        }
        if let (Some(due), None, A::Forwarded | A::Signed) = (a.due_at, a.overdue_at, a.state) {
            passed(
                due,
                EventKind::LevelOverdue {
                    unit_id: a.unit_id,
                    due_at: due,
                },
            );
        }
    }
    for c in ticket
        .summons
        .iter()
        .filter(|c| c.reported_at.is_none() && c.overdue_at.is_none())
    {
        passed(
            c.due_at,
            EventKind::SummonsOverdue {
                unit_id: c.unit_id,
                due_at: c.due_at,
            },
        );
    }
    (late, next)
}

/// What the deadline watcher finds on a ticket at `now`.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    /// Events to record now: warnings, breaches, and the supervision they raise.
    pub record: Vec<EventKind>,
    /// The next moment to look again, once these are recorded (none: no clock or rule waits).
    pub next: Option<DateTime<Utc>>,
}

fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Reviews a ticket (its view and its events, in order) at `now`: the alerts its clocks
/// call for, the supervision the rules raise, and when to look again.
pub fn review(
    ticket: &Ticket,
    events: &[Event],
    p: &DeadlinePolicy,
    cal: &Calendar,
    now: DateTime<Utc>,
) -> Review {
    let c = clocks(events, ticket.tier, p, cal, now);
    let (mut record, watch_next) = watch(events, &c, now);
    let (raise, rule_next) = escalation(ticket, &c, p, cal, now);
    record.extend(raise);
    let (late, level_next) = levels_overdue(ticket, now);
    record.extend(late);
    let watch_next = earliest(watch_next, level_next);
    if record.is_empty() {
        return Review {
            record,
            next: earliest(watch_next, rule_next),
        };
    }
    // Where things stand once these are recorded (the clocks do not change with them).
    let mut events = events.to_vec();
    let mut view = Some(ticket.clone());
    let system = Actor {
        user_id: 0,
        role: Role::Supervisor,
        unit_id: None,
    };
    for e in crate::lifecycle::appended(ticket, &record, system, now) {
        view = apply(view, &e);
        events.push(e);
    }
    let Some(view) = view else {
        return Review { record, next: None };
    };
    let (more, watch_next) = watch(&events, &c, now);
    let (raise, rule_next) = escalation(&view, &c, p, cal, now);
    let watch_next = earliest(watch_next, levels_overdue(&view, now).1);
    let next = if more.is_empty() && raise.is_none() {
        earliest(watch_next, rule_next)
    } else {
        // Another step is due at once (e.g. a bad callback after L1): the next pass takes it.
        Some(now)
    };
    Review { record, next }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::Channel;
    use crate::lifecycle::EventKind as K;
    use crate::types::{Kind, Resolution, Satisfaction};

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// A ticket's story: events in order, and its view.
    struct Story {
        events: Vec<Event>,
        view: Option<Ticket>,
    }

    impl Story {
        fn new(when: &str) -> Story {
            let mut s = Story {
                events: Vec::new(),
                view: None,
            };
            s.push(
                when,
                K::Received {
                    number: "XN1".into(),
                    tracking_code: "T".into(),
                    channel: Channel::PHONE,
                    channel_detail: None,
                    recording: None,
                    kind: Kind::Complaint,
                    title: "t".into(),
                    content: "c".into(),
                    citizen: Default::default(),
                    confidential: false,
                    address: None,
                    category_code: None,
                    division_code: None,
                    suggested_category_code: None,
                    reported_by_unit_id: None,
                    place: None,
                    emergency: None,
                    exchange: None,
                },
            );
            s
        }
        fn push(&mut self, when: &str, kind: EventKind) -> &mut Story {
            let e = Event {
                ticket_id: 1,
                seq: self.events.len() as i64 + 1,
                at: at(when),
                actor: Actor {
                    user_id: 1,
                    role: Role::Dispatcher,
                    unit_id: None,
                },
                kind,
            };
            self.view = apply(self.view.take(), &e);
            self.events.push(e);
            self
        }
        fn dispatched(when: &str) -> Story {
            let mut s = Story::new(when);
            s.push(
                when,
                K::Dispatched {
                    lead_unit_id: 5,
                    co_unit_ids: vec![],
                    tier: Some(1),
                    note: None,
                },
            );
            s
        }
        fn view(&self) -> &Ticket {
            self.view.as_ref().unwrap()
        }
        /// Reviews at `when` and records what the review found, as the watcher would.
        fn watch_at(&mut self, when: &str) -> Review {
            let r = review(
                self.view(),
                &self.events,
                &DeadlinePolicy::default(),
                &Calendar::official(),
                at(when),
            );
            for k in r.record.clone() {
                self.push(when, k);
            }
            r
        }
    }

    fn levels(r: &Review) -> Vec<SupervisionLevel> {
        r.record
            .iter()
            .filter_map(|k| match k {
                K::Supervised { level, .. } => Some(*level),
                _ => None,
            })
            .collect()
    }

    fn types(r: &Review) -> Vec<&'static str> {
        r.record.iter().map(|k| k.type_name()).collect()
    }

    #[test]
    fn a_level_below_past_its_due_time_is_recorded_once_and_told_to_the_level_above() {
        let mut s = Story::dispatched("2026-11-02T09:00:00+08:00");
        s.push("2026-11-02T10:00:00+08:00", K::Signed { note: None });
        s.push(
            "2026-11-02T10:30:00+08:00",
            K::Forwarded {
                unit_id: 8,
                from_unit_id: 5,
                level: 1,
                due_at: Some(at("2026-11-02T15:00:00+08:00")),
                note: None,
                sign_by: None,
            },
        );
        // Before its due time: nothing, and the watcher comes back then at the latest.
        let r = s.watch_at("2026-11-02T11:00:00+08:00");
        assert!(!r.record.iter().any(|k| k.type_name() == "level_overdue"));
        assert!(r.next.is_some_and(|n| n <= at("2026-11-02T15:00:00+08:00")));
        let r = s.watch_at("2026-11-02T15:01:00+08:00");
        let late: Vec<_> = r
            .record
            .iter()
            .filter(|k| k.type_name() == "level_overdue")
            .collect();
        assert_eq!(
            late,
            [&K::LevelOverdue {
                unit_id: 8,
                due_at: at("2026-11-02T15:00:00+08:00")
            }]
        );
        assert!(s.view().chain[0].overdue_at.is_some());
        // Told to the level below (by SMS) and the level above.
        let told = crate::notify::notices_for(s.view(), late[0]);
        let who: Vec<_> = told.iter().map(|n| (n.audience.key(), n.sms)).collect();
        assert_eq!(
            who,
            [("unit:8".to_string(), true), ("unit:5".to_string(), false)]
        );
        // Once.
        let r = s.watch_at("2026-11-02T16:00:00+08:00");
        assert!(!r.record.iter().any(|k| k.type_name() == "level_overdue"));
        // A level that replied in time is not late.
        let mut s = Story::dispatched("2026-11-02T09:00:00+08:00");
        s.push("2026-11-02T10:00:00+08:00", K::Signed { note: None });
        s.push(
            "2026-11-02T10:30:00+08:00",
            K::Forwarded {
                unit_id: 8,
                from_unit_id: 5,
                level: 1,
                due_at: Some(at("2026-11-02T15:00:00+08:00")),
                note: None,
                sign_by: None,
            },
        );
        s.push(
            "2026-11-02T11:00:00+08:00",
            K::AssignmentSigned {
                unit_id: 8,
                note: None,
            },
        );
        s.push(
            "2026-11-02T12:00:00+08:00",
            K::LevelReplied {
                unit_id: 8,
                content: "已处理".into(),
            },
        );
        let r = s.watch_at("2026-11-02T16:00:00+08:00");
        assert!(!r.record.iter().any(|k| k.type_name() == "level_overdue"));
    }

    #[test]
    fn a_level_not_signed_in_time_and_a_department_not_reporting_in_are_recorded_once() {
        let mut s = Story::dispatched("2026-11-02T09:00:00+08:00");
        s.push("2026-11-02T10:00:00+08:00", K::Signed { note: None });
        s.push(
            "2026-11-02T10:30:00+08:00",
            K::Forwarded {
                unit_id: 8,
                from_unit_id: 5,
                level: 1,
                due_at: Some(at("2026-11-02T17:00:00+08:00")),
                note: None,
                sign_by: Some(at("2026-11-02T12:30:00+08:00")),
            },
        );
        s.push(
            "2026-11-02T10:40:00+08:00",
            K::Summoned {
                unit_id: 20,
                by_unit_id: 5,
                reason: "请到场".into(),
                due_at: at("2026-11-02T14:00:00+08:00"),
            },
        );
        let late = |r: &Review| -> Vec<&'static str> {
            types(r)
                .into_iter()
                .filter(|t| *t == "level_sign_overdue" || *t == "summons_overdue")
                .collect()
        };
        // Before either time: nothing; the watcher comes back by the sign-by time.
        let r = s.watch_at("2026-11-02T12:00:00+08:00");
        assert!(late(&r).is_empty());
        assert!(r.next.is_some_and(|n| n <= at("2026-11-02T12:30:00+08:00")));
        let r = s.watch_at("2026-11-02T12:31:00+08:00");
        assert_eq!(late(&r), ["level_sign_overdue"]);
        assert!(s.view().chain[0].sign_overdue_at.is_some());
        assert!(s.view().chain[0].signed_late(at("2026-11-02T12:31:00+08:00")));
        let sign = r
            .record
            .iter()
            .find(|k| k.type_name() == "level_sign_overdue")
            .unwrap();
        let who: Vec<_> = crate::notify::notices_for(s.view(), sign)
            .iter()
            .map(|n| (n.audience.key(), n.sms))
            .collect();
        assert_eq!(
            who,
            [("unit:8".to_string(), true), ("unit:5".to_string(), false)]
        );
        let r = s.watch_at("2026-11-02T14:05:00+08:00");
        assert_eq!(late(&r), ["summons_overdue"]);
        let called = r
            .record
            .iter()
            .find(|k| k.type_name() == "summons_overdue")
            .unwrap();
        let who: Vec<_> = crate::notify::notices_for(s.view(), called)
            .iter()
            .map(|n| (n.audience.key(), n.sms))
            .collect();
        assert_eq!(
            who,
            [("unit:20".to_string(), true), ("unit:5".to_string(), false)]
        );
        // Once each.
        let r = s.watch_at("2026-11-02T15:00:00+08:00");
        assert!(late(&r).is_empty());
    }

    #[test]
    fn an_overdue_ticket_climbs_the_three_levels() {
        // Dispatched Monday 2026-11-02 09:00 (+08:00), 1-day tier, whole-day working time.
        let mut s = Story::dispatched("2026-11-02T09:00:00+08:00");
        // Signed in time; nothing else happens.
        s.push("2026-11-02T10:00:00+08:00", K::Signed { note: None });
        // The sign clock is met; the contact and handling clocks are due 11-03 10:00 / 09:00.
        let r = s.watch_at("2026-11-02T12:00:00+08:00");
        assert!(r.record.is_empty(), "{:?}", r.record);
        // Handling: 1 working day = 24 h of whole-day working time → due 11-03 09:00.
        let r = s.watch_at("2026-11-03T09:00:00+08:00");
        assert_eq!(
            types(&r),
            ["deadline_warned", "deadline_breached", "supervised"]
        );
        assert_eq!(levels(&r), [SupervisionLevel::L1]);
        let sup = s.view().supervision.clone().unwrap();
        assert!(sup.automatic && sup.reason.contains("办理时限"));
        // L2 is due 2 working days after L1 (Thursday 11-05 09:00) if still overdue.
        let next = r.next.unwrap();
        assert!(next <= at("2026-11-05T09:00:00+08:00"), "{next}");
        // Nothing is recorded twice.
        let r = s.watch_at("2026-11-04T09:00:00+08:00");
        assert_eq!(types(&r), ["deadline_breached"], "contact clock only");
        assert_eq!(r.next, Some(at("2026-11-05T09:00:00+08:00")));
        let r = s.watch_at("2026-11-05T09:00:00+08:00");
        assert_eq!(levels(&r), [SupervisionLevel::L2]);
        // L3 three working days later: Friday 11-06, (weekend skipped) Monday 11-09, 11-10.
        assert_eq!(r.next, Some(at("2026-11-10T09:00:00+08:00")));
        assert!(s.watch_at("2026-11-09T09:00:00+08:00").record.is_empty());
        let r = s.watch_at("2026-11-10T09:00:00+08:00");
        assert_eq!(levels(&r), [SupervisionLevel::L3]);
        assert_eq!(r.next, None, "nothing higher than L3");
        assert!(s.watch_at("2026-11-20T09:00:00+08:00").record.is_empty());
        let sup = s.view().supervision.clone().unwrap();
        assert_eq!((sup.level, sup.count), (SupervisionLevel::L3, 3));
    }

    #[test]
    fn a_reply_stops_the_climb() {
        let mut s = Story::dispatched("2026-11-02T09:00:00+08:00");
        s.push("2026-11-02T10:00:00+08:00", K::Signed { note: None });
        s.push(
            "2026-11-02T11:00:00+08:00",
            K::ContactRecorded { note: None },
        );
        assert_eq!(
            levels(&s.watch_at("2026-11-03T10:00:00+08:00")),
            [SupervisionLevel::L1]
        );
        s.push(
            "2026-11-04T10:00:00+08:00",
            K::Replied {
                content: "done".into(),
            },
        );
        // The handling clock stands still while the reply is reviewed: no L2.
        let r = s.watch_at("2026-11-06T10:00:00+08:00");
        assert!(r.record.is_empty(), "{:?}", r.record);
        s.push(
            "2026-11-06T11:00:00+08:00",
            K::ReplyApproved {
                note: None,
                findings: None,
            },
        );
        // Only the callback staff's clock is late now; that is not the unit's to answer for.
        let r = s.watch_at("2026-11-20T10:00:00+08:00");
        assert_eq!(types(&r), ["deadline_breached"]);
        assert!(levels(&r).is_empty());
    }

    #[test]
    fn bad_callbacks_raise_l2_then_l3() {
        let mut s = Story::dispatched("2026-11-02T09:00:00+08:00");
        let bad = || K::CallbackRecorded {
            contacted: Some(true),
            resolution: Some(Resolution::Unresolved),
            satisfaction: Satisfaction::Dissatisfied,
            note: None,
            source: crate::types::RatingSource::Agent,
        };
        let cycle = |s: &mut Story, day: u32| {
            let t = |h: u32| format!("2026-11-{day:02}T{h:02}:00:00+08:00");
            s.push(&t(9), K::Signed { note: None });
            s.push(
                &t(10),
                K::Replied {
                    content: "r".into(),
                },
            );
            s.push(
                &t(11),
                K::ReplyApproved {
                    note: None,
                    findings: None,
                },
            );
            s.push(&t(12), bad());
            s.push(&t(12), K::Reopened { reason: None });
        };
        cycle(&mut s, 2);
        assert!(s.watch_at("2026-11-02T13:00:00+08:00").record.is_empty());
        cycle(&mut s, 3);
        let r = s.watch_at("2026-11-03T13:00:00+08:00");
        assert_eq!(levels(&r), [SupervisionLevel::L2], "second bad callback");
        assert!(
            s.view()
                .supervision
                .as_ref()
                .unwrap()
                .reason
                .contains("第2次")
        );
        cycle(&mut s, 4);
        assert_eq!(
            levels(&s.watch_at("2026-11-04T13:00:00+08:00")),
            [SupervisionLevel::L3]
        );
    }

    #[test]
    fn rules_can_be_switched_off() {
        let p = DeadlinePolicy {
            supervision: SupervisionRules {
                l1_on_breach_of: vec![],
                l2_after_working_days: None,
                l3_after_working_days: Some(0),
                l2_on_bad_callbacks: None,
                l3_on_bad_callbacks: None,
            },
            ..Default::default()
        };
        let s = Story::dispatched("2026-11-02T09:00:00+08:00");
        let now = at("2026-11-20T09:00:00+08:00");
        let r = review(s.view(), &s.events, &p, &Calendar::official(), now);
        assert!(levels(&r).is_empty());
        assert!(types(&r).contains(&"deadline_breached"));
    }

    #[test]
    fn a_manual_raise_starts_the_timer_and_ends_with_the_ticket() {
        let mut s = Story::dispatched("2026-11-02T09:00:00+08:00");
        s.push(
            "2026-11-02T09:30:00+08:00",
            K::Supervised {
                level: SupervisionLevel::L2,
                reason: "领导批示".into(),
                automatic: false,
            },
        );
        // Already at L2: the sign clock's breach does not lower it to L1.
        let r = s.watch_at("2026-11-02T11:00:00+08:00");
        assert_eq!(
            types(&r),
            ["deadline_breached"],
            "the sign clock, at its due point"
        );
        // Three working days after the raise, still overdue: L3.
        let r = s.watch_at("2026-11-05T09:30:00+08:00");
        assert_eq!(levels(&r), [SupervisionLevel::L3]);
        // A closed ticket is not reviewed for supervision.
        let mut closed = Story::dispatched("2026-11-02T09:00:00+08:00");
        closed.push(
            "2026-11-02T09:10:00+08:00",
            K::Closed {
                outcome: crate::lifecycle::CloseOutcome::Manual,
                note: None,
            },
        );
        let r = closed.watch_at("2026-11-20T09:00:00+08:00");
        assert_eq!((r.record.len(), r.next), (0, None));
    }
}
