//! What each event adds to the evaluation aggregates (考评 · 数据分析).
//!
//! The aggregates hold a [`Tally`] per day × unit × category × channel × division, kept by
//! the transaction that writes the events and rebuilt from the events by replaying them
//! through [`facts`]. Both ways use this one function, so they agree by construction.
//!
//! Which day and which attributes a fact is counted under:
//! - flows are counted on the day of the event (Asia/Shanghai), under the ticket's attributes
//!   as of the event: a request on the day it was received; a dispatch (派单) for the unit it
//!   went to; a return (退单) for the unit that returned it; a callback (回访), a supervision
//!   (督办) and a unit's finished handling (its reply approved, on time or not) for the lead
//!   unit at the time;
//! - a request's end (办结: closed, answered at intake, merged into another, not accepted) is
//!   counted on the day the request was received, so that 办结率 is the share of a period's
//!   requests that are finished; reopening a finished request takes its end back.
//!
//! Category, place and channel are fixed when a request is received; only the unit changes
//! along the way.

use crate::channel::Channel;
use crate::deadlines::{AlertLevel, ClockKind};
use crate::intake::china_offset;
use crate::kpi::Tally;
use crate::lifecycle::{Event, EventKind};
use crate::ticket::{CallbackAnswers, Ticket};
use crate::types::{RatingSource, Resolution, Satisfaction, TicketState};
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The first day of a day's calendar month.
pub fn month_of(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// How a period is read from the roll-ups: its whole calendar months from the month rows,
/// the days before and after them from the day rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cover {
    /// Day ranges (inclusive) outside whole months: none, one or two.
    pub days: Vec<(NaiveDate, NaiveDate)>,
    /// The first days of the first and the last whole month, if the period holds one.
    pub months: Option<(NaiveDate, NaiveDate)>,
}

/// Splits the days `from..=to` into whole months and the days left over.
pub fn cover(from: NaiveDate, to: NaiveDate) -> Cover {
    if from > to {
        return Cover {
            days: Vec::new(),
            months: None,
        };
    }
    let next_month = |m: NaiveDate| {
        m.checked_add_months(Months::new(1))
            .unwrap_or(NaiveDate::MAX)
    };
    // The first whole month starts on `from` or on the next month's first day.
    let first = if from.day() == 1 {
        from
    } else {
        next_month(month_of(from))
    };
    // The last whole month is `to`'s own if `to` is its last day, else the one before.
    let to_month = month_of(to);
    let last = if to.succ_opt().is_none_or(|d| d.day() == 1) {
        Some(to_month)
    } else {
        to_month.checked_sub_months(Months::new(1))
    };
    match last {
        Some(last) if first <= last => {
            let mut days = Vec::new();
            if from < first {
                days.push((from, first.pred_opt().unwrap_or(first)));
            }
            let after = next_month(last);
            if after <= to {
                days.push((after, to));
            }
            Cover {
                days,
                months: Some((first, last)),
            }
        }
        _ => Cover {
            days: vec![(from, to)],
            months: None,
        },
    }
}

/// Where a fact is counted.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
pub struct FactKey {
    /// The business day (Asia/Shanghai).
    pub day: NaiveDate,
    pub unit_id: Option<i64>,
    pub category_code: Option<String>,
    pub channel: Channel,
    pub division_code: Option<String>,
    /// The merged hotline a request came in on (channel `merged_line`): kept in the roll-ups
    /// by line only, not in the fine rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
}

/// A change to the aggregates: a tally added (`sign` 1) or taken back (`sign` -1) under a
/// key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub key: FactKey,
    pub sign: i64,
    pub tally: Tally,
}

impl Fact {
    /// The signed counts in the order of [`Tally::FIELDS`].
    pub fn signed_values(&self) -> [i64; Tally::LEN] {
        self.tally.values().map(|v| self.sign * v as i64)
    }

    /// Whether the fact goes to the [`ISSUE_ROLLUPS`]: only requests, direct answers and
    /// dispatches are read from them, so the facts of the other steps (signing, callbacks,
    /// supervisions ...) are left out, and each write touches fewer rows.
    pub fn feeds_issue_rollups(&self) -> bool {
        self.tally.requests != 0 || self.tally.direct != 0 || self.tally.dispatches != 0
    }
}

/// The business day of a moment.
pub fn business_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&china_offset()).date_naive()
}

/// The first moment of a business day (midnight in Asia/Shanghai).
pub fn day_start(day: NaiveDate) -> DateTime<Utc> {
    use chrono::TimeZone;
    china_offset()
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn key(t: &Ticket, day: NaiveDate, unit_id: Option<i64>) -> FactKey {
    FactKey {
        day,
        unit_id,
        category_code: t.category_code.clone(),
        channel: t.channel.clone(),
        division_code: t.division_code.clone(),
        line: t
            .channel_detail
            .clone()
            .filter(|_| t.channel == Channel::MERGED_LINE),
    }
}

/// States in which a request has ended.
fn finished_state(s: TicketState) -> bool {
    s.is_terminal()
}

/// The end of a finished request, counted on the day it was received under the lead unit it
/// ended with (if any).
fn end_of(t: &Ticket) -> Option<Fact> {
    let closed = t.closed_at?;
    let seconds = (closed - t.created_at).num_seconds().max(0) as u64;
    Some(Fact {
        key: key(t, business_day(t.created_at), t.lead_unit_id),
        sign: 1,
        tally: Tally {
            finished: 1,
            // The hotline's own answers; a community's on-the-spot resolutions (就地办结) are
            // counted apart (see `crate::levels`).
            direct: u64::from(
                t.state == TicketState::ResolvedDirectly && t.resolved_on_spot_by.is_none(),
            ),
            handling_seconds: seconds,
            transferred_out: u64::from(t.state == TicketState::Transferred),
            ..Default::default()
        },
    })
}

/// What one callback's answers add: to all callbacks, and to the citizens' own when it is
/// a rating.
fn callback_tally(a: &CallbackAnswers) -> Tally {
    let contacted = u64::from(a.contacted == Some(true));
    let resolved = u64::from(a.resolution == Some(Resolution::Resolved));
    let partly = u64::from(a.resolution == Some(Resolution::Partly));
    let satisfied = u64::from(a.satisfaction == Satisfaction::Satisfied);
    let basically = u64::from(a.satisfaction == Satisfaction::Basically);
    let citizen = u64::from(a.source == RatingSource::Citizen);
    Tally {
        callbacks: 1,
        contacted,
        resolved,
        partly_resolved: partly,
        satisfied,
        basically_satisfied: basically,
        citizen_callbacks: citizen,
        citizen_contacted: citizen * contacted,
        citizen_resolved: citizen * resolved,
        citizen_partly_resolved: citizen * partly,
        citizen_satisfied: citizen * satisfied,
        citizen_basically_satisfied: citizen * basically,
        contact_unasked: u64::from(a.contacted.is_none()),
        resolution_unasked: u64::from(a.resolution.is_none()),
        ..Default::default()
    }
}

/// Whether an event can add anything to the aggregates (alerts, notes, contacts, signing and
/// the like never do), so that writers need not keep the ticket as it was before the others.
pub fn may_count(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::Received { .. }
            | EventKind::Dispatched { .. }
            | EventKind::ConsultationDecided { .. }
            | EventKind::ReturnApproved { .. }
            | EventKind::ReplyApproved { .. }
            | EventKind::CallbackRecorded { .. }
            | EventKind::RatingReviewed { .. }
            | EventKind::ParentAnswered { .. }
            | EventKind::Supervised { .. }
            | EventKind::ResolvedDirectly { .. }
            | EventKind::ResolvedOnSpot { .. }
            | EventKind::Recategorised { .. }
            | EventKind::Relocated { .. }
            | EventKind::Closed { .. }
            | EventKind::Merged { .. }
            | EventKind::NotAccepted { .. }
            | EventKind::TransferredOut { .. }
            | EventKind::Reopened { .. }
    )
}

/// What one event adds to the aggregates: `before` is the ticket as the event found it (none
/// for `received`), `after` as the event left it.
pub fn facts(before: Option<&Ticket>, event: &Event, after: &Ticket) -> Vec<Fact> {
    let day = business_day(event.at);
    let flow = |unit_id: Option<i64>, tally: Tally| Fact {
        key: key(after, day, unit_id),
        sign: 1,
        tally,
    };
    let mut out = Vec::new();
    match &event.kind {
        EventKind::Received { .. } => out.push(flow(
            None,
            Tally {
                requests: 1,
                ..Default::default()
            },
        )),
        EventKind::Dispatched { lead_unit_id, .. }
        | EventKind::ConsultationDecided { lead_unit_id, .. } => out.push(flow(
            Some(*lead_unit_id),
            Tally {
                dispatches: 1,
                ..Default::default()
            },
        )),
        EventKind::ReturnApproved { .. } => {
            if let Some(unit) = before.and_then(|b| b.lead_unit_id) {
                out.push(flow(
                    Some(unit),
                    Tally {
                        returns: 1,
                        ..Default::default()
                    },
                ));
            }
        }
        EventKind::ReplyApproved { findings, .. } => {
            if let Some(unit) = after.lead_unit_id {
                let late = before.is_some_and(|b| {
                    b.alerts
                        .iter()
                        .any(|a| a.clock == ClockKind::Handling && a.level == AlertLevel::Overdue)
                });
                out.push(flow(
                    Some(unit),
                    Tally {
                        finished_with_deadline: 1,
                        finished_on_time: u64::from(!late),
                        replies_inspected: u64::from(findings.is_some()),
                        replies_flagged: u64::from(
                            findings.as_ref().is_some_and(|f| !f.is_empty()),
                        ),
                        ..Default::default()
                    },
                ));
            }
        }
        // A citizen's bad rating counts once the hotline has reviewed it (below).
        EventKind::CallbackRecorded { .. } => {
            if let Some(answers) = event.kind.callback_answers()
                && !(answers.is_bad() && answers.source == RatingSource::Citizen)
            {
                out.push(flow(after.lead_unit_id, callback_tally(&answers)));
            }
        }
        // Reasonable: the bad rating counts as the callback it is; unreasonable: apart.
        EventKind::RatingReviewed { reasonable, .. } => {
            if let Some(answers) = before.and_then(|b| b.callback) {
                let tally = if *reasonable {
                    callback_tally(&answers)
                } else {
                    Tally {
                        excluded_ratings: 1,
                        ..Default::default()
                    }
                };
                out.push(flow(after.lead_unit_id, tally));
            }
        }
        EventKind::Supervised { .. } => out.push(flow(
            after.lead_unit_id,
            Tally {
                supervisions: 1,
                ..Default::default()
            },
        )),
        // A corrected category or place moves the request, on the day it was received, to
        // where it belongs: volumes, 万人诉求比 and hot issues count it there. Each other
        // step stays counted under the category and place the ticket had when it was taken.
        EventKind::Recategorised { .. } | EventKind::Relocated { .. } => {
            if let Some(b) = before {
                let day = business_day(after.created_at);
                let request = Tally {
                    requests: 1,
                    ..Default::default()
                };
                out.push(Fact {
                    key: key(b, day, None),
                    sign: -1,
                    tally: request,
                });
                out.push(Fact {
                    key: key(after, day, None),
                    sign: 1,
                    tally: request,
                });
            }
        }
        _ => {}
    }
    // A request's end, and its taking back when a finished request is reopened.
    let was_finished = before.is_some_and(|b| finished_state(b.state));
    let is_finished = finished_state(after.state);
    if was_finished
        && (!is_finished || before.is_some_and(|b| b.closed_at != after.closed_at))
        && let Some(mut f) = before.and_then(end_of)
    {
        f.sign = -1;
        out.push(f);
    }
    if is_finished
        && (!was_finished || before.is_some_and(|b| b.closed_at != after.closed_at))
        && let Some(f) = end_of(after)
    {
        out.push(f);
    }
    out
}

/// The groupings the aggregates are rolled up by, for fast reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Dim {
    /// The whole city: one group.
    City,
    Unit,
    District,
    Street,
    CategoryL1,
    CategoryL2,
    Category,
    Channel,
    /// The hotlines merged into 12345 (requests on channel `merged_line`).
    Line,
}

impl Dim {
    pub const ALL: [Dim; 9] = [
        Dim::City,
        Dim::Unit,
        Dim::District,
        Dim::Street,
        Dim::CategoryL1,
        Dim::CategoryL2,
        Dim::Category,
        Dim::Channel,
        Dim::Line,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Dim::City => "city",
            Dim::Unit => "unit",
            Dim::District => "district",
            Dim::Street => "street",
            Dim::CategoryL1 => "category_l1",
            Dim::CategoryL2 => "category_l2",
            Dim::Category => "category",
            Dim::Channel => "channel",
            Dim::Line => "line",
        }
    }

    pub fn parse(s: &str) -> Option<Dim> {
        Dim::ALL.into_iter().find(|d| d.as_str() == s)
    }

    /// The name under which this grouping's whole-month roll-ups are kept (one row a group
    /// and a calendar month, dated the month's first day), so that a month-long read sums
    /// one row a group instead of one a group and a day. Only groupings with many groups
    /// keep them: a month of the city, the channels, the districts or the top-level
    /// categories is a few hundred day rows at most, and every write would pay for them.
    pub fn month_str(self) -> Option<&'static str> {
        match self {
            Dim::Unit => Some("month:unit"),
            Dim::Street => Some("month:street"),
            Dim::CategoryL2 => Some("month:category_l2"),
            Dim::Category => Some("month:category"),
            Dim::City | Dim::District | Dim::CategoryL1 | Dim::Channel | Dim::Line => None,
        }
    }

    /// The group a fact's key falls in under this grouping, if any (a fact without a unit
    /// has no unit group; a place named only at city level has no district).
    pub fn group_of(self, k: &FactKey) -> Option<String> {
        use crate::codes::{CategoryCode, DivisionCode};
        let division = k.division_code.as_deref().map(DivisionCode::new);
        let category = k.category_code.as_deref().map(CategoryCode::new);
        let owned = |c: Option<&str>| c.map(str::to_string);
        match self {
            Dim::City => Some(String::new()),
            Dim::Unit => k.unit_id.map(|u| u.to_string()),
            Dim::District => owned(division.and_then(|d| d.district())),
            Dim::Street => owned(division.and_then(|d| d.street())),
            Dim::CategoryL1 => owned(category.and_then(|c| c.at_level(1))),
            Dim::CategoryL2 => owned(category.and_then(|c| c.at_level(2))),
            Dim::Category => k.category_code.clone(),
            Dim::Channel => Some(k.channel.as_str().to_string()),
            Dim::Line => k.line.clone(),
        }
    }
}

/// The day roll-ups the daily report's hot issues and the early warnings are read from (not
/// offered as groupings of the figures; fed only by the facts of requests, direct answers and
/// dispatches, see
/// [`Fact::feeds_issue_rollups`]): requests by issue group (see
/// [`crate::report::issue_group`]), by issue group and place, by issue group and unit, and by
/// issue group and district, keyed `group`, `group|division`, `group|unit` and
/// `group|district`.
pub const ISSUE_ROLLUPS: [&str; 4] = ["issue", "issue_place", "issue_unit", "issue_area"];

/// The issue roll-ups a fact's key falls in (none without a category).
pub fn issue_groups_of(k: &FactKey) -> Vec<(&'static str, String)> {
    let Some(code) = k.category_code.as_deref().filter(|c| !c.is_empty()) else {
        return Vec::new();
    };
    let group = crate::report::issue_group(code);
    let mut out = vec![(ISSUE_ROLLUPS[0], group.to_string())];
    if let Some(place) = k.division_code.as_deref().filter(|c| !c.is_empty()) {
        out.push((ISSUE_ROLLUPS[1], format!("{group}|{place}")));
    }
    if let Some(unit) = k.unit_id {
        out.push((ISSUE_ROLLUPS[2], format!("{group}|{unit}")));
    }
    if let Some(district) = Dim::District.group_of(k) {
        out.push((ISSUE_ROLLUPS[3], format!("{group}|{district}")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_requests_and_dispatches_feed_the_issue_rollups() {
        let fact = |tally: Tally| Fact {
            key: FactKey {
                day: NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(),
                unit_id: Some(5),
                category_code: Some("010101".into()),
                channel: Channel::PHONE,
                division_code: Some("630102001001".into()),
                line: None,
            },
            sign: 1,
            tally,
        };
        let with = |f: fn(&mut Tally)| {
            let mut t = Tally::default();
            f(&mut t);
            fact(t).feeds_issue_rollups()
        };
        assert!(with(|t| t.requests = 1));
        assert!(with(|t| t.dispatches = 1));
        assert!(with(|t| t.direct = 1));
        assert!(!with(|t| t.supervisions = 1));
        assert!(!with(|t| t.callbacks = 1));
        assert!(!with(|t| t.finished = 1));
        assert!(!with(|_| ()));
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_period_is_covered_by_whole_months_and_the_days_around_them() {
        // One whole month.
        assert_eq!(
            cover(d(2026, 3, 1), d(2026, 3, 31)),
            Cover {
                days: vec![],
                months: Some((d(2026, 3, 1), d(2026, 3, 1)))
            }
        );
        // February of a leap year and of a common one.
        assert_eq!(
            cover(d(2024, 2, 1), d(2024, 2, 29)).months,
            Some((d(2024, 2, 1), d(2024, 2, 1)))
        );
        assert_eq!(
            cover(d(2026, 2, 1), d(2026, 2, 28)).months,
            Some((d(2026, 2, 1), d(2026, 2, 1)))
        );
        assert_eq!(
            cover(d(2024, 2, 1), d(2024, 2, 28)),
            Cover {
                days: vec![(d(2024, 2, 1), d(2024, 2, 28))],
                months: None
            }
        );
        // Days on both sides, across a year's end.
        assert_eq!(
            cover(d(2025, 11, 20), d(2026, 2, 3)),
            Cover {
                days: vec![
                    (d(2025, 11, 20), d(2025, 11, 30)),
                    (d(2026, 2, 1), d(2026, 2, 3))
                ],
                months: Some((d(2025, 12, 1), d(2026, 1, 1)))
            }
        );
        // Inside one month, a single day, and a month to date.
        assert_eq!(
            cover(d(2026, 3, 2), d(2026, 3, 30)),
            Cover {
                days: vec![(d(2026, 3, 2), d(2026, 3, 30))],
                months: None
            }
        );
        assert_eq!(
            cover(d(2026, 3, 31), d(2026, 3, 31)).days,
            vec![(d(2026, 3, 31), d(2026, 3, 31))]
        );
        assert_eq!(
            cover(d(2026, 3, 1), d(2026, 3, 17)).months,
            None,
            "a month to date is read day by day"
        );
        // Part of one month and the whole next.
        assert_eq!(
            cover(d(2026, 3, 15), d(2026, 4, 30)),
            Cover {
                days: vec![(d(2026, 3, 15), d(2026, 3, 31))],
                months: Some((d(2026, 4, 1), d(2026, 4, 1)))
            }
        );
        // Empty and backwards periods cover nothing.
        assert_eq!(cover(d(2026, 3, 2), d(2026, 3, 1)).days, vec![]);
        assert_eq!(cover(d(2026, 3, 2), d(2026, 3, 1)).months, None);
    }

    #[test]
    fn every_day_of_a_period_is_covered_once() {
        let start = d(2023, 12, 25);
        for a in 0..80 {
            for b in a..a + 75 {
                let (from, to) = (
                    start + chrono::Duration::days(a),
                    start + chrono::Duration::days(b),
                );
                let c = cover(from, to);
                let mut days = Vec::new();
                for (x, y) in &c.days {
                    days.extend(x.iter_days().take_while(|z| z <= y));
                }
                if let Some((m0, m1)) = c.months {
                    assert_eq!(m0.day(), 1);
                    assert_eq!(m1.day(), 1);
                    let end = m1.checked_add_months(Months::new(1)).unwrap();
                    days.extend(m0.iter_days().take_while(|z| *z < end));
                }
                days.sort();
                let want: Vec<_> = from.iter_days().take_while(|z| *z <= to).collect();
                assert_eq!(days, want, "{from}..{to}");
            }
        }
    }

    #[test]
    fn issue_rollups_key_by_the_second_level_category() {
        let mut k = FactKey {
            day: d(2026, 3, 1),
            unit_id: Some(12),
            category_code: Some("010203".into()),
            channel: Channel::PHONE,
            division_code: Some("630102001002".into()),
            line: None,
        };
        assert_eq!(
            issue_groups_of(&k),
            vec![
                ("issue", "0102".to_string()),
                ("issue_place", "0102|630102001002".to_string()),
                ("issue_unit", "0102|12".to_string()),
                ("issue_area", "0102|630102".to_string())
            ]
        );
        // A place named only at city level has no district.
        k.division_code = Some("630100".into());
        assert_eq!(issue_groups_of(&k).len(), 3);
        // A category coded only at the first level is its own group.
        k.category_code = Some("07".into());
        k.unit_id = None;
        k.division_code = None;
        assert_eq!(issue_groups_of(&k), vec![("issue", "07".to_string())]);
        k.category_code = None;
        assert_eq!(issue_groups_of(&k), vec![]);
        for name in ISSUE_ROLLUPS {
            assert_eq!(Dim::parse(name), None, "not a grouping of the figures");
        }
    }

    #[test]
    fn month_groupings_have_their_own_names() {
        for dim in Dim::ALL {
            if let Some(name) = dim.month_str() {
                assert_eq!(name, format!("month:{}", dim.as_str()));
                assert_eq!(Dim::parse(name), None);
            }
        }
        assert_eq!(Dim::Unit.month_str(), Some("month:unit"));
        assert_eq!(Dim::City.month_str(), None);
        assert_eq!(month_of(d(2026, 3, 17)), d(2026, 3, 1));
    }
    use crate::lifecycle::{CloseOutcome, apply};
    use crate::ticket::{Actor, Citizen};
    use crate::types::{Kind, Role, SupervisionLevel};
    use chrono::TimeZone;

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0).unwrap()
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
    }

    const OP: Actor = Actor {
        user_id: 1,
        role: Role::Operator,
        unit_id: None,
    };

    /// Plays events on a ticket, returning the facts of each.
    struct Play {
        ticket: Option<Ticket>,
        seq: i64,
    }

    impl Play {
        fn new() -> Play {
            Play {
                ticket: None,
                seq: 0,
            }
        }
        fn step(&mut self, when: DateTime<Utc>, kind: EventKind) -> Vec<Fact> {
            self.seq += 1;
            let e = Event {
                ticket_id: 7,
                seq: self.seq,
                at: when,
                actor: OP,
                kind,
            };
            let before = self.ticket.clone();
            let after = apply(before.clone(), &e).expect("ticket");
            let f = facts(before.as_ref(), &e, &after);
            assert!(may_count(&e.kind) || f.is_empty(), "{:?} counted", e.kind);
            self.ticket = Some(after);
            f
        }
    }

    fn received() -> EventKind {
        EventKind::Received {
            number: "XN1".into(),
            tracking_code: "T".into(),
            channel: Channel::WECHAT,
            channel_detail: None,
            recording: None,
            kind: Kind::Complaint,
            title: String::new(),
            content: "路灯不亮".into(),
            citizen: Citizen::default(),
            confidential: false,
            address: None,
            category_code: Some("010101".into()),
            division_code: Some("630102001001".into()),
            suggested_category_code: None,
            reported_by_unit_id: None,
            place: None,
            emergency: None,
            exchange: None,
        }
    }

    fn dispatched(unit: i64) -> EventKind {
        EventKind::Dispatched {
            lead_unit_id: unit,
            co_unit_ids: vec![],
            tier: Some(3),
            note: None,
        }
    }

    fn only(f: &[Fact]) -> &Fact {
        assert_eq!(f.len(), 1, "{f:?}");
        &f[0]
    }

    #[test]
    fn a_request_through_its_life() {
        let mut p = Play::new();
        // Received at 23:30 UTC on the 1st: the 2nd in Beijing.
        let f = p.step(
            Utc.with_ymd_and_hms(2026, 3, 1, 23, 30, 0).unwrap(),
            received(),
        );
        let f = only(&f);
        assert_eq!(f.key.day, day(2));
        assert_eq!(f.key.unit_id, None);
        assert_eq!(f.key.channel, Channel::WECHAT);
        assert_eq!(f.key.category_code.as_deref(), Some("010101"));
        assert_eq!(f.tally.requests, 1);
        let f = p.step(at(3, 2), dispatched(40));
        assert_eq!(only(&f).key.unit_id, Some(40));
        assert_eq!(only(&f).key.day, day(3));
        assert_eq!(only(&f).tally.dispatches, 1);
        assert!(
            p.step(at(3, 3), EventKind::Signed { note: None })
                .is_empty()
        );
        assert!(
            p.step(
                at(4, 3),
                EventKind::Replied {
                    content: "已修复".into()
                }
            )
            .is_empty()
        );
        let f = p.step(
            at(4, 5),
            EventKind::ReplyApproved {
                note: None,
                findings: None,
            },
        );
        let f = only(&f);
        assert_eq!(f.key.unit_id, Some(40));
        assert_eq!(
            (f.tally.finished_with_deadline, f.tally.finished_on_time),
            (1, 1)
        );
        let f = p.step(
            at(5, 1),
            EventKind::CallbackRecorded {
                contacted: Some(true),
                resolution: Some(Resolution::Partly),
                satisfaction: Satisfaction::Basically,
                note: None,
                source: RatingSource::Agent,
            },
        );
        let f = only(&f);
        assert_eq!(f.key.day, day(5));
        assert_eq!(f.key.unit_id, Some(40));
        let t = f.tally;
        assert_eq!(
            (
                t.callbacks,
                t.contacted,
                t.resolved,
                t.partly_resolved,
                t.satisfied,
                t.basically_satisfied
            ),
            (1, 1, 0, 1, 0, 1)
        );
        // Closed on the 5th: the end counts on the day received (the 2nd in Beijing).
        let f = p.step(
            at(5, 2),
            EventKind::Closed {
                outcome: CloseOutcome::Callback,
                note: None,
            },
        );
        let f = only(&f);
        assert_eq!(f.key.day, day(2));
        assert_eq!(f.key.unit_id, Some(40));
        assert_eq!((f.tally.finished, f.tally.direct), (1, 0));
        assert_eq!(f.tally.handling_seconds, (3 * 24 + 2) * 3600 + 1800);
        // Reopened: the end is taken back, exactly.
        let end = f.clone();
        let f = p.step(at(6, 2), EventKind::Reopened { reason: None });
        let f = only(&f);
        assert_eq!(f.sign, -1);
        assert_eq!(f.key, end.key);
        assert_eq!(f.tally, end.tally);
        assert_eq!(f.signed_values()[7], -1);
    }

    #[test]
    fn late_replies_returns_supervisions_and_direct_answers() {
        let mut p = Play::new();
        p.step(at(1, 2), received());
        p.step(at(1, 3), dispatched(40));
        let f = p.step(
            at(1, 4),
            EventKind::Supervised {
                level: SupervisionLevel::L1,
                reason: "催办".into(),
                automatic: true,
            },
        );
        assert_eq!(only(&f).tally.supervisions, 1);
        assert_eq!(only(&f).key.unit_id, Some(40));
        p.step(
            at(1, 5),
            EventKind::ReturnRequested {
                reason: "非本单位职责".into(),
            },
        );
        let f = p.step(at(1, 6), EventKind::ReturnApproved { note: None });
        assert_eq!(
            only(&f).key.unit_id,
            Some(40),
            "counted for the returning unit"
        );
        assert_eq!(only(&f).tally.returns, 1);
        p.step(at(1, 7), dispatched(41));
        p.step(at(1, 8), EventKind::Signed { note: None });
        // The handling clock broke before the reply: not on time.
        p.step(
            at(5, 8),
            EventKind::DeadlineBreached {
                clock: ClockKind::Handling,
                due_at: at(5, 0),
            },
        );
        p.step(
            at(5, 9),
            EventKind::Replied {
                content: "已处理".into(),
            },
        );
        let f = p.step(
            at(5, 10),
            EventKind::ReplyApproved {
                note: None,
                findings: None,
            },
        );
        assert_eq!(only(&f).key.unit_id, Some(41));
        assert_eq!(
            (
                only(&f).tally.finished_with_deadline,
                only(&f).tally.finished_on_time
            ),
            (1, 0)
        );
        // A warning alone is not late.
        let mut p = Play::new();
        p.step(at(1, 2), received());
        p.step(at(1, 3), dispatched(40));
        p.step(
            at(2, 3),
            EventKind::DeadlineWarned {
                clock: ClockKind::Handling,
                due_at: at(3, 0),
            },
        );
        p.step(
            at(2, 4),
            EventKind::Replied {
                content: "好".into(),
            },
        );
        let f = p.step(
            at(2, 5),
            EventKind::ReplyApproved {
                note: None,
                findings: None,
            },
        );
        assert_eq!(only(&f).tally.finished_on_time, 1);

        // Answered at intake: finished and direct, no unit.
        let mut p = Play::new();
        p.step(at(1, 2), received());
        let f = p.step(
            at(1, 3),
            EventKind::ResolvedDirectly {
                answer: "已解答".into(),
            },
        );
        let f = only(&f);
        assert_eq!((f.tally.finished, f.tally.direct), (1, 1));
        assert_eq!(f.key.unit_id, None);
        assert_eq!(f.tally.handling_seconds, 3600);

        // Resolved by the reporting community on the spot: finished, not the hotline's
        // direct answer.
        let mut p = Play::new();
        p.step(at(1, 2), received());
        let f = p.step(
            at(1, 3),
            EventKind::ResolvedOnSpot {
                unit_id: 5,
                action_taken: "已清理楼道堆物".into(),
            },
        );
        let f = only(&f);
        assert_eq!((f.tally.finished, f.tally.direct), (1, 0));
    }

    #[test]
    fn a_correction_moves_the_request_on_the_day_it_was_received() {
        let mut p = Play::new();
        p.step(at(1, 2), received());
        p.step(at(1, 3), dispatched(5));
        let f = p.step(
            at(4, 9),
            EventKind::Relocated {
                from: Some("630102001001".into()),
                to: "630103001001".into(),
                reason: "地址在城中区".into(),
            },
        );
        assert_eq!(f.len(), 2);
        // Out of the old place, into the new, on day 1 (Beijing time: 1 March, 10:00),
        // under no unit; the dispatch stays where it was counted.
        assert_eq!((f[0].sign, f[0].tally.requests), (-1, 1));
        assert_eq!(f[0].key.division_code.as_deref(), Some("630102001001"));
        assert_eq!((f[1].sign, f[1].tally.requests), (1, 1));
        assert_eq!(f[1].key.division_code.as_deref(), Some("630103001001"));
        for x in &f {
            assert_eq!(x.key.day, day(1));
            assert_eq!(x.key.unit_id, None);
            assert_eq!(x.tally.dispatches, 0);
        }
        let f = p.step(
            at(4, 10),
            EventKind::Recategorised {
                from: Some("010101".into()),
                to: "010403".into(),
                reason: "下水道返水".into(),
            },
        );
        assert_eq!(f[0].key.category_code.as_deref(), Some("010101"));
        assert_eq!(f[1].key.category_code.as_deref(), Some("010403"));
        assert_eq!(f[1].key.division_code.as_deref(), Some("630103001001"));
    }

    #[test]
    fn merged_and_not_accepted_requests_end_and_unit_less_callbacks_count() {
        let mut p = Play::new();
        p.step(at(1, 2), received());
        let f = p.step(at(1, 4), EventKind::Merged { parent_id: 3 });
        assert_eq!(only(&f).tally.finished, 1);
        assert_eq!(only(&f).tally.direct, 0);
        let mut p = Play::new();
        p.step(at(1, 2), received());
        let f = p.step(
            at(1, 4),
            EventKind::NotAccepted {
                reason: "诉讼".into(),
                redirect_to: None,
            },
        );
        assert_eq!(only(&f).tally.finished, 1);
        // Events that change no figure: notes, alerts, contacts.
        let mut p = Play::new();
        p.step(at(1, 2), received());
        assert!(
            p.step(
                at(1, 3),
                EventKind::NoteAdded {
                    note: "备注".into()
                }
            )
            .is_empty()
        );
        assert!(
            p.step(
                at(1, 3),
                EventKind::DeadlineWarned {
                    clock: ClockKind::Sign,
                    due_at: at(1, 5)
                }
            )
            .is_empty()
        );
    }

    #[test]
    fn groups_of_a_key() {
        let k = FactKey {
            day: day(1),
            unit_id: Some(12),
            category_code: Some("010203".into()),
            channel: Channel::PHONE,
            division_code: Some("630102001003".into()),
            line: None,
        };
        let g = |d: Dim| d.group_of(&k);
        assert_eq!(g(Dim::City).as_deref(), Some(""));
        assert_eq!(g(Dim::Unit).as_deref(), Some("12"));
        assert_eq!(g(Dim::District).as_deref(), Some("630102"));
        assert_eq!(g(Dim::Street).as_deref(), Some("630102001"));
        assert_eq!(g(Dim::CategoryL1).as_deref(), Some("01"));
        assert_eq!(g(Dim::CategoryL2).as_deref(), Some("0102"));
        assert_eq!(g(Dim::Category).as_deref(), Some("010203"));
        assert_eq!(g(Dim::Channel).as_deref(), Some("phone"));
        let city_only = FactKey {
            unit_id: None,
            category_code: None,
            division_code: Some("630100".into()),
            ..k
        };
        assert_eq!(Dim::District.group_of(&city_only), None);
        assert_eq!(Dim::Street.group_of(&city_only), None);
        assert_eq!(Dim::Unit.group_of(&city_only), None);
        assert_eq!(Dim::Category.group_of(&city_only), None);
        for d in Dim::ALL {
            assert_eq!(Dim::parse(d.as_str()), Some(d));
        }
        assert_eq!(Dim::parse("nope"), None);
    }
}
