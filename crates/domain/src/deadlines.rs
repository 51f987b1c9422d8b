//! The clocks of 一盯到底: how long a unit has to sign for a ticket, to contact the citizen,
//! to handle it (the 1/3/7/11-day tier), and how long the callback staff have to call back.
//! Every clock is computed from the ticket's events under a [`DeadlinePolicy`] and the
//! official [`Calendar`]: where it started, where it paused and why, the extensions granted,
//! its warning point and its due point, and the days that counted.

use crate::calendar::{
    Calendar, DayNote, WorkingHours, add_working_minutes, working_minutes_between,
};
use crate::lifecycle::{Event, EventKind, apply};
use crate::types::TicketState;
use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

/// How a handling tier counts its days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DayCount {
    Working,
    Calendar,
}

/// The deadline rules of a hotline centre.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeadlinePolicy {
    /// Working hours of a working day (empty: the whole day counts).
    pub working_hours: WorkingHours,
    /// Working hours a unit has to sign for a dispatched ticket.
    pub sign_within_hours: u32,
    /// Working days a unit has, after signing, to contact the citizen.
    pub contact_within_days: u32,
    /// How the handling tier's days are counted.
    pub handling_days: DayCount,
    /// Working days the callback staff have after a reply is approved.
    pub callback_within_days: u32,
    /// Share of a clock's time after which it warns (yellow), in percent.
    pub warn_at_percent: u8,
    /// States in which the clocks stand still (e.g. while a return or consultation is reviewed).
    pub pause_in: Vec<TicketState>,
    /// Most extensions a ticket may be granted.
    pub max_extensions: u32,
    /// Extension requests after this local time of day are refused (none: at any time).
    pub extension_cutoff: Option<NaiveTime>,
    /// Whether alerts may be sent outside working hours.
    pub alert_outside_working_hours: bool,
    /// When supervision (督办) is raised without anyone asking.
    #[serde(default)]
    pub supervision: crate::supervision::SupervisionRules,
    /// When a unit forwards a ticket down (分级转办), the share of its own time left it keeps
    /// to review the reply, in percent: the level below is due by the rest.
    #[serde(default = "default_review_share")]
    #[schema(maximum = 90)]
    pub review_share_percent: u8,
    /// Hours a department called to the spot (吹哨) has to report in (报到), unless the
    /// caller gives a time.
    #[serde(default = "default_report_in_hours")]
    #[schema(minimum = 1, maximum = 720)]
    pub report_in_hours: u32,
}

fn default_report_in_hours() -> u32 {
    24
}

fn default_review_share() -> u8 {
    20
}

impl Default for DeadlinePolicy {
    fn default() -> Self {
        DeadlinePolicy {
            working_hours: WorkingHours::whole_day(),
            sign_within_hours: 2,
            contact_within_days: 1,
            handling_days: DayCount::Working,
            callback_within_days: 2,
            warn_at_percent: 75,
            pause_in: vec![TicketState::ReturnRequested, TicketState::InConsultation],
            max_extensions: 2,
            extension_cutoff: NaiveTime::from_hms_opt(17, 0, 0),
            alert_outside_working_hours: false,
            supervision: Default::default(),
            review_share_percent: default_review_share(),
            report_in_hours: default_report_in_hours(),
        }
    }
}

/// Which clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// 签收: dispatch → signed.
    Sign,
    /// 首次联系: signed → the citizen contacted.
    Contact,
    /// 办理: dispatch → reply, by the tier.
    Handling,
    /// 回访: reply approved → callback recorded.
    Callback,
}

impl ClockKind {
    pub fn label_zh(self) -> &'static str {
        match self {
            ClockKind::Sign => "签收时限",
            ClockKind::Contact => "首次联系时限",
            ClockKind::Handling => "办理时限",
            ClockKind::Callback => "回访时限",
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ClockKind::Sign => "sign",
            ClockKind::Contact => "contact",
            ClockKind::Handling => "handling",
            ClockKind::Callback => "callback",
        }
    }
}

/// Where a clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    /// Running, before its warning point.
    OnTrack,
    /// Running, past its warning point (yellow).
    Warning,
    /// Running, past its due point (red).
    Overdue,
    /// Standing still (a return or consultation under review).
    Paused,
    /// Stopped in time.
    Met,
    /// Stopped after its due point.
    MetLate,
}

impl ClockState {
    pub fn label_zh(self) -> &'static str {
        match self {
            ClockState::OnTrack => "正常",
            ClockState::Warning => "预警",
            ClockState::Overdue => "超期",
            ClockState::Paused => "暂停计时",
            ClockState::Met => "按时完成",
            ClockState::MetLate => "超期完成",
        }
    }
}

/// How far past its points a running clock is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AlertLevel {
    /// Past its warning point (yellow).
    Warning,
    /// Past its due point (red).
    Overdue,
}

/// A recorded alert on a ticket: which clock, how far, and the due point it was about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeadlineAlert {
    pub clock: ClockKind,
    pub level: AlertLevel,
    pub due_at: DateTime<Utc>,
}

/// How much time a clock allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "unit", content = "amount", rename_all = "snake_case")]
pub enum Allowance {
    WorkingHours(u32),
    WorkingDays(u32),
    CalendarDays(u32),
}

/// An interval in which a clock stood still, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Pause {
    pub from: DateTime<Utc>,
    pub to: Option<DateTime<Utc>>,
    pub state: TicketState,
}

/// One clock, computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Clock {
    pub kind: ClockKind,
    pub state: ClockState,
    pub start: DateTime<Utc>,
    /// The allowance, extensions included.
    pub allowance: Allowance,
    /// Working days added by approved extensions.
    pub extension_days: u32,
    /// When it warns and when it is due (none while paused: the clock stands still).
    pub warn_at: Option<DateTime<Utc>>,
    pub due: Option<DateTime<Utc>>,
    /// When it stopped (the event that ended it).
    pub stopped_at: Option<DateTime<Utc>>,
    /// Minutes of the allowance used so far (working minutes, or minutes for calendar days).
    pub used_minutes: i64,
    pub allowed_minutes: i64,
    pub pauses: Vec<Pause>,
    /// The days from the last resumption to the due point, and what of each counted.
    pub days: Vec<DayNote>,
    /// Years without calendar data the computation had to assume.
    pub unknown_years: Vec<i32>,
}

/// The state of the ticket after each of its events.
fn timeline(events: &[Event]) -> Vec<(DateTime<Utc>, TicketState, &EventKind)> {
    let mut out = Vec::with_capacity(events.len());
    let mut t = None;
    for e in events {
        t = apply(t, e);
        if let Some(tk) = &t {
            out.push((e.at, tk.state, &e.kind));
        }
    }
    out
}

/// An interval in which a clock runs; open while it still does.
type Run = (DateTime<Utc>, Option<DateTime<Utc>>);

/// A clock's running intervals between `start` and `stop`, and its pauses.
fn intervals(
    line: &[(DateTime<Utc>, TicketState, &EventKind)],
    start: DateTime<Utc>,
    stop: Option<DateTime<Utc>>,
    paused: &dyn Fn(TicketState) -> bool,
) -> (Vec<Run>, Vec<Pause>) {
    let mut runs = Vec::new();
    let mut pauses = Vec::new();
    let mut running_since = Some(start);
    for (at, state, _) in line.iter().filter(|(at, _, _)| *at >= start) {
        if stop.is_some_and(|s| *at >= s) {
            break;
        }
        let now_paused = paused(*state);
        match (running_since, now_paused) {
            (Some(since), true) => {
                runs.push((since, Some(*at)));
                running_since = None;
                pauses.push(Pause {
                    from: *at,
                    to: None,
                    state: *state,
                });
            }
            (None, false) => {
                if let Some(p) = pauses.last_mut() {
                    p.to = Some(*at);
                }
                running_since = Some(*at);
            }
            _ => {}
        }
    }
    match running_since {
        Some(since) => runs.push((since, stop)),
        None => {
            if let (Some(p), Some(s)) = (pauses.last_mut(), stop) {
                p.to.get_or_insert(s);
            }
        }
    }
    (runs, pauses)
}

struct Spec {
    kind: ClockKind,
    start: DateTime<Utc>,
    stop: Option<DateTime<Utc>>,
    allowance: Allowance,
    extension_days: u32,
}

/// Minutes a clock allows under the policy.
fn allowed_minutes(p: &DeadlinePolicy, a: Allowance) -> i64 {
    match a {
        Allowance::WorkingHours(h) => i64::from(h) * 60,
        Allowance::WorkingDays(d) => i64::from(d) * p.working_hours.minutes_per_day(),
        Allowance::CalendarDays(d) => i64::from(d) * 24 * 60,
    }
}

fn compute(
    spec: Spec,
    line: &[(DateTime<Utc>, TicketState, &EventKind)],
    p: &DeadlinePolicy,
    cal: &Calendar,
    now: DateTime<Utc>,
) -> Clock {
    let calendar = matches!(spec.allowance, Allowance::CalendarDays(_));
    let allowed = allowed_minutes(p, spec.allowance);
    let warn_minutes = allowed * i64::from(p.warn_at_percent.min(100)) / 100;
    let paused = |s: TicketState| p.pause_in.contains(&s);
    let (runs, pauses) = intervals(line, spec.start, spec.stop, &paused);
    let span = |a: DateTime<Utc>, b: DateTime<Utc>| {
        if calendar {
            (b - a).num_minutes().max(0)
        } else {
            working_minutes_between(cal, &p.working_hours, a, b)
        }
    };
    let add = |a: DateTime<Utc>, minutes: i64| {
        if calendar {
            (a + Duration::minutes(minutes), Vec::new(), Vec::new())
        } else {
            let d = add_working_minutes(cal, &p.working_hours, a, minutes);
            (d.at, d.days, d.unknown_years)
        }
    };
    // Walk the running intervals, consuming the allowance. A point reached inside a closed
    // interval is fixed there; the open (last) interval runs on, so its points follow from
    // its start; a stopped clock shows where its points would have been.
    let mut used = 0;
    let mut points: [Option<DateTime<Utc>>; 2] = [None, None];
    let targets = [warn_minutes, allowed];
    let mut days = Vec::new();
    let mut unknown = Vec::new();
    let mut reach = |from: DateTime<Utc>,
                     used: i64,
                     points: &mut [Option<DateTime<Utc>>; 2],
                     only_if_within: Option<i64>| {
        for (i, target) in targets.iter().enumerate() {
            if points[i].is_some() || only_if_within.is_some_and(|len| used + len < *target) {
                continue;
            }
            let (at, d, u) = add(from, (target - used).max(0));
            points[i] = Some(at);
            if i == 1 {
                days = d;
                unknown = u;
            }
        }
    };
    for (s, e) in &runs {
        match e {
            Some(e) => {
                let len = span(*s, *e);
                reach(*s, used, &mut points, Some(len));
                used += len;
            }
            None => {
                reach(*s, used, &mut points, None);
                used += span(*s, now.max(*s));
            }
        }
    }
    if let Some(stop) = spec.stop {
        reach(stop, used, &mut points, None);
    }
    let currently_paused = spec.stop.is_none() && runs.last().is_some_and(|(_, e)| e.is_some());
    let [warn_at, due] = points;
    let state = match spec.stop {
        Some(stop) => {
            if due.is_some_and(|d| stop > d) {
                ClockState::MetLate
            } else {
                ClockState::Met
            }
        }
        None if due.is_some_and(|d| now >= d) => ClockState::Overdue,
        None if currently_paused => ClockState::Paused,
        None if warn_at.is_some_and(|w| now >= w) => ClockState::Warning,
        None => ClockState::OnTrack,
    };
    Clock {
        kind: spec.kind,
        state,
        start: spec.start,
        allowance: spec.allowance,
        extension_days: spec.extension_days,
        warn_at,
        due,
        stopped_at: spec.stop,
        used_minutes: used,
        allowed_minutes: allowed,
        pauses,
        days,
        unknown_years: unknown,
    }
}

/// A clock due by `ceiling` at the latest (the deadline of the platform that handed the
/// request over), its warning no later, its state judged again against the earlier due.
/// A paused clock (no due point) is left as it is.
fn capped(mut c: Clock, ceiling: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Clock {
    let (Some(ceiling), Some(due)) = (ceiling, c.due) else {
        return c;
    };
    if due <= ceiling {
        return c;
    }
    c.due = Some(ceiling);
    c.warn_at = c.warn_at.map(|w| w.min(ceiling));
    c.state = match c.stopped_at {
        Some(stop) if stop > ceiling => ClockState::MetLate,
        Some(_) => ClockState::Met,
        None if now >= ceiling => ClockState::Overdue,
        None if c.warn_at.is_some_and(|w| now >= w) => ClockState::Warning,
        None => ClockState::OnTrack,
    };
    c
}

/// Whether an event starts a handling cycle (the ticket reaches a unit).
fn starts_cycle(kind: &EventKind, state: TicketState) -> bool {
    state == TicketState::Dispatched
        && matches!(
            kind,
            EventKind::Dispatched { .. }
                | EventKind::ConsultationDecided { .. }
                | EventKind::Reopened { .. }
        )
}

/// When something given to a unit at `at` must be signed: the policy's sign allowance in
/// working hours on the calendar (a level of the chain forwarded at `at`).
pub fn sign_by(p: &DeadlinePolicy, cal: &Calendar, at: DateTime<Utc>) -> DateTime<Utc> {
    let minutes = allowed_minutes(p, Allowance::WorkingHours(p.sign_within_hours));
    add_working_minutes(cal, &p.working_hours, at, minutes).at
}

/// When the reply to a matter of `tier` days given to a unit at `start` is due: the
/// handling clock's due point, before any pause or extension (what a citizen is told to
/// expect when submitting).
pub fn handling_due(
    p: &DeadlinePolicy,
    cal: &Calendar,
    start: DateTime<Utc>,
    tier: u32,
) -> DateTime<Utc> {
    match p.handling_days {
        DayCount::Working => {
            let minutes = allowed_minutes(p, Allowance::WorkingDays(tier));
            add_working_minutes(cal, &p.working_hours, start, minutes).at
        }
        DayCount::Calendar => start + Duration::days(i64::from(tier)),
    }
}

/// The ticket's clocks now, from its events (in order), under the policy and calendar.
/// Only the current handling cycle counts: a reopened ticket starts its clocks again.
pub fn clocks(
    events: &[Event],
    tier_days: Option<u8>,
    p: &DeadlinePolicy,
    cal: &Calendar,
    now: DateTime<Utc>,
) -> Vec<Clock> {
    let line = timeline(events);
    let Some(cycle) = line
        .iter()
        .rposition(|(_, state, kind)| starts_cycle(kind, *state))
    else {
        return parent_answer_clock(&line, p, cal, now)
            .into_iter()
            .collect();
    };
    let cycle_line = &line[cycle..];
    let start = cycle_line[0].0;
    let first = |f: &dyn Fn(&EventKind, TicketState) -> bool| {
        cycle_line
            .iter()
            .skip(1)
            .find(|(_, s, k)| f(k, *s))
            .map(|(at, _, _)| *at)
    };
    let signed = first(&|k, _| matches!(k, EventKind::Signed { .. }));
    let contacted = first(&|k, _| {
        matches!(
            k,
            EventKind::ContactRecorded { .. } | EventKind::Replied { .. }
        )
    });
    // A cycle ends for the unit when it replies and the reply is approved, or when the ticket
    // leaves the unit (a return approved, merged, closed by other means).
    let approved = first(&|k, _| matches!(k, EventKind::ReplyApproved { .. }));
    let last_reply_before = |until: DateTime<Utc>| {
        cycle_line
            .iter()
            .filter(|(at, _, k)| *at <= until && matches!(k, EventKind::Replied { .. }))
            .map(|(at, _, _)| *at)
            .next_back()
    };
    // ... or when the ticket ends (closed by hand or after unreachable callbacks included).
    let left_unit = first(&|_, s| s == TicketState::Received || s.is_terminal());
    let extension_days: u32 = cycle_line
        .iter()
        .filter_map(|(_, _, k)| match k {
            EventKind::ExtensionApproved { days, .. } => Some(*days),
            _ => None,
        })
        .sum();
    let mut out = Vec::new();
    let sign_stop = signed.or(left_unit);
    out.push(compute(
        Spec {
            kind: ClockKind::Sign,
            start,
            stop: sign_stop,
            allowance: Allowance::WorkingHours(p.sign_within_hours),
            extension_days: 0,
        },
        cycle_line,
        p,
        cal,
        now,
    ));
    if let Some(signed_at) = signed {
        out.push(compute(
            Spec {
                kind: ClockKind::Contact,
                start: signed_at,
                stop: contacted.or(left_unit),
                allowance: Allowance::WorkingDays(p.contact_within_days),
                extension_days: 0,
            },
            cycle_line,
            p,
            cal,
            now,
        ));
    }
    let tier = u32::from(tier_days.unwrap_or(3)) + extension_days;
    let handling_stop = approved.and_then(last_reply_before).or(left_unit);
    // While a reply is under review the handling clock stands still; a rejected reply
    // resumes it.
    let mut handling_policy = p.clone();
    handling_policy.pause_in.push(TicketState::Replied);
    // A request another platform handed over is due there by that platform's deadline.
    let ceiling = events.first().and_then(|e| match &e.kind {
        EventKind::Received {
            exchange: Some(o), ..
        } => o.due_at,
        _ => None,
    });
    let handling = compute(
        Spec {
            kind: ClockKind::Handling,
            start,
            stop: handling_stop,
            allowance: match p.handling_days {
                DayCount::Working => Allowance::WorkingDays(tier),
                DayCount::Calendar => Allowance::CalendarDays(tier),
            },
            extension_days,
        },
        cycle_line,
        &handling_policy,
        cal,
        now,
    );
    out.push(capped(handling, ceiling, now));
    if let Some(approved_at) = approved {
        let called = first(&|k, _| matches!(k, EventKind::CallbackRecorded { .. }));
        out.push(compute(
            Spec {
                kind: ClockKind::Callback,
                start: approved_at,
                stop: called.or(left_unit),
                allowance: Allowance::WorkingDays(p.callback_within_days),
                extension_days: 0,
            },
            cycle_line,
            p,
            cal,
            now,
        ));
    }
    out.extend(parent_answer_clock(cycle_line, p, cal, now));
    out
}

/// The callback clock of a request merged into another (并单) once the parent's answer
/// reaches it (`parent_answered`): its citizen is owed a callback like any answered
/// request, from that moment, though no unit handled the request itself.
fn parent_answer_clock(
    line: &[(DateTime<Utc>, TicketState, &EventKind)],
    p: &DeadlinePolicy,
    cal: &Calendar,
    now: DateTime<Utc>,
) -> Option<Clock> {
    let from = line
        .iter()
        .rposition(|(_, _, k)| matches!(k, EventKind::ParentAnswered { .. }))?;
    let answered = &line[from..];
    let called = answered
        .iter()
        .skip(1)
        .find(|(_, s, k)| matches!(k, EventKind::CallbackRecorded { .. }) || s.is_terminal())
        .map(|(at, _, _)| *at);
    Some(compute(
        Spec {
            kind: ClockKind::Callback,
            start: answered[0].0,
            stop: called,
            allowance: Allowance::WorkingDays(p.callback_within_days),
            extension_days: 0,
        },
        answered,
        p,
        cal,
        now,
    ))
}

/// What the deadline watcher finds on a ticket at `now`: the alerts to record (a clock past
/// its warning or due point that the events have not recorded for that due point), and the
/// next moment it must look again (none while no clock runs).
pub fn watch(
    events: &[Event],
    clocks: &[Clock],
    now: DateTime<Utc>,
) -> (Vec<EventKind>, Option<DateTime<Utc>>) {
    let recorded = |clock: ClockKind, due: DateTime<Utc>, breach: bool| {
        events.iter().any(|e| match &e.kind {
            EventKind::DeadlineBreached { clock: c, due_at } => *c == clock && *due_at == due,
            EventKind::DeadlineWarned { clock: c, due_at } => {
                !breach && *c == clock && *due_at == due
            }
            _ => false,
        })
    };
    let mut record = Vec::new();
    let mut next: Option<DateTime<Utc>> = None;
    let mut consider = |at: DateTime<Utc>| {
        next = Some(next.map_or(at, |n| n.min(at)));
    };
    for c in clocks.iter().filter(|c| c.stopped_at.is_none()) {
        let Some(due) = c.due else { continue };
        if recorded(c.kind, due, true) {
            continue;
        }
        if now >= due {
            record.push(EventKind::DeadlineBreached {
                clock: c.kind,
                due_at: due,
            });
            continue;
        }
        consider(due);
        if let Some(w) = c.warn_at
            && !recorded(c.kind, due, false)
        {
            if now >= w {
                record.push(EventKind::DeadlineWarned {
                    clock: c.kind,
                    due_at: due,
                });
            } else {
                consider(w);
            }
        }
    }
    (record, next)
}

/// Why an extension request must be refused now, if it must.
pub fn extension_refusal(
    p: &DeadlinePolicy,
    clocks: &[Clock],
    extensions_approved: u32,
    now: DateTime<Utc>,
) -> Option<String> {
    let local = now.with_timezone(&crate::intake::china_offset()).time();
    if extensions_approved >= p.max_extensions {
        return Some(format!(
            "this ticket has had {extensions_approved} extensions; at most {} are allowed",
            p.max_extensions
        ));
    }
    if let Some(cutoff) = p.extension_cutoff
        && local > cutoff
    {
        return Some(format!(
            "extension requests close at {} each day; ask tomorrow before then",
            cutoff.format("%H:%M")
        ));
    }
    if let Some(h) = clocks.iter().find(|c| c.kind == ClockKind::Handling)
        && let Some(due) = h.due
        && now >= due
    {
        return Some(
            "the handling deadline has passed; an extension must be asked before it".into(),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::Channel;
    use crate::intake::china_offset;
    use crate::ticket::Actor;
    use crate::types::{Kind, Role};

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn local(d: DateTime<Utc>) -> String {
        d.with_timezone(&china_offset()).to_rfc3339()
    }

    struct Story(Vec<Event>);

    impl Story {
        fn new(when: &str) -> Story {
            let mut s = Story(Vec::new());
            s.push(
                when,
                EventKind::Received {
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
            let seq = self.0.len() as i64 + 1;
            self.0.push(Event {
                ticket_id: 1,
                seq,
                at: at(when),
                actor: Actor {
                    user_id: 1,
                    role: Role::Dispatcher,
                    unit_id: None,
                },
                kind,
            });
            self
        }
        fn dispatch(&mut self, when: &str) -> &mut Story {
            self.push(
                when,
                EventKind::Dispatched {
                    lead_unit_id: 5,
                    co_unit_ids: vec![],
                    tier: Some(3),
                    note: None,
                },
            )
        }
    }

    fn clock(c: &[Clock], k: ClockKind) -> &Clock {
        c.iter().find(|c| c.kind == k).unwrap()
    }

    #[test]
    fn a_platforms_deadline_caps_the_handling_clock() {
        // The provincial platform wants the answer by Monday 10-12 12:00; three working
        // days from Friday 10-09 09:00 (Saturday 10-10 a make-up workday, Sunday off) end
        // on Tuesday 10-13 09:00.
        let mut s = Story::new("2026-10-09T08:00:00+08:00");
        if let EventKind::Received { exchange, .. } = &mut s.0[0].kind {
            *exchange = Some(crate::exchange::ExchangeOrigin {
                platform: "province".into(),
                external_id: "QH-1".into(),
                due_at: Some(at("2026-10-12T12:00:00+08:00")),
            });
        }
        s.dispatch("2026-10-09T09:00:00+08:00");
        let p = DeadlinePolicy::default();
        let cal = Calendar::official();
        let h = |events: &[Event], now: &str| {
            clock(
                &clocks(events, Some(3), &p, &cal, at(now)),
                ClockKind::Handling,
            )
            .clone()
        };
        let before = h(&s.0, "2026-10-09T10:00:00+08:00");
        assert_eq!(local(before.due.unwrap()), "2026-10-12T12:00:00+08:00");
        // Its own warning (54 of the 72 hours: Monday 15:00) comes after the cap: the
        // warning is at the capped due.
        assert_eq!(local(before.warn_at.unwrap()), "2026-10-12T12:00:00+08:00");
        assert_eq!(before.state, ClockState::OnTrack);
        assert_eq!(
            h(&s.0, "2026-10-12T11:59:00+08:00").state,
            ClockState::OnTrack
        );
        assert_eq!(
            h(&s.0, "2026-10-12T12:00:00+08:00").state,
            ClockState::Overdue
        );
        // A later deadline than the tier's changes nothing.
        if let EventKind::Received { exchange, .. } = &mut s.0[0].kind {
            exchange.as_mut().unwrap().due_at = Some(at("2026-10-30T12:00:00+08:00"));
        }
        assert_eq!(
            local(h(&s.0, "2026-10-09T10:00:00+08:00").due.unwrap()),
            "2026-10-13T09:00:00+08:00"
        );
    }

    #[test]
    fn national_day_handling_deadline() {
        let mut s = Story::new("2026-09-30T15:00:00+08:00");
        s.dispatch("2026-09-30T16:00:00+08:00");
        let p = DeadlinePolicy::default();
        let cal = Calendar::official();
        let c = clocks(&s.0, Some(3), &p, &cal, at("2026-10-02T10:00:00+08:00"));
        let h = clock(&c, ClockKind::Handling);
        assert_eq!(local(h.due.unwrap()), "2026-10-10T16:00:00+08:00");
        assert_eq!(h.state, ClockState::OnTrack);
        // 75 % of 72 hours is 54: Wednesday 8 h, Thursday 10-08 24 h, Friday 10-09 22:00.
        assert_eq!(local(h.warn_at.unwrap()), "2026-10-09T22:00:00+08:00");
        // The sign clock: 2 working hours from 16:00 on Wednesday.
        let sign = clock(&c, ClockKind::Sign);
        assert_eq!(local(sign.due.unwrap()), "2026-09-30T18:00:00+08:00");
        assert_eq!(sign.state, ClockState::Overdue);
        // The watcher records the sign clock's breach (not its warning too) and looks again
        // at the handling clock's warning point.
        let (record, next) = watch(&s.0, &c, at("2026-10-02T10:00:00+08:00"));
        assert_eq!(
            record,
            vec![EventKind::DeadlineBreached {
                clock: ClockKind::Sign,
                due_at: sign.due.unwrap()
            }]
        );
        assert_eq!(next, h.warn_at);
        // Once recorded, not again.
        s.push("2026-10-02T10:00:00+08:00", record[0].clone());
        let c = clocks(&s.0, Some(3), &p, &cal, at("2026-10-02T10:01:00+08:00"));
        let (again, _) = watch(&s.0, &c, at("2026-10-02T10:01:00+08:00"));
        assert!(again.is_empty());
        // Past the handling clock's warning point: one warning.
        let later = at("2026-10-09T23:00:00+08:00");
        let c = clocks(&s.0, Some(3), &p, &cal, later);
        let (record, next) = watch(&s.0, &c, later);
        assert_eq!(
            record,
            vec![EventKind::DeadlineWarned {
                clock: ClockKind::Handling,
                due_at: at("2026-10-10T16:00:00+08:00")
            }]
        );
        assert_eq!(next, Some(at("2026-10-10T16:00:00+08:00")));
    }

    #[test]
    fn a_return_under_review_pauses_the_clocks() {
        let mut s = Story::new("2026-11-23T08:00:00+08:00");
        s.dispatch("2026-11-23T09:00:00+08:00"); // Monday
        s.push(
            "2026-11-23T10:00:00+08:00",
            EventKind::Signed { note: None },
        );
        s.push(
            "2026-11-23T12:00:00+08:00",
            EventKind::ReturnRequested {
                reason: "不归我们".into(),
            },
        );
        let p = DeadlinePolicy::default();
        let cal = Calendar::official();
        let now = at("2026-11-24T12:00:00+08:00");
        let c = clocks(&s.0, Some(1), &p, &cal, now);
        let h = clock(&c, ClockKind::Handling);
        assert_eq!(h.state, ClockState::Paused);
        assert_eq!(h.due, None, "a paused clock has no due point");
        assert_eq!(h.used_minutes, 180);
        assert_eq!(h.pauses.len(), 1);
        // Rejected a day later: the clock resumes with 21 hours left.
        s.push(
            "2026-11-24T12:00:00+08:00",
            EventKind::ReturnRejected { note: None },
        );
        let c = clocks(&s.0, Some(1), &p, &cal, at("2026-11-24T13:00:00+08:00"));
        let h = clock(&c, ClockKind::Handling);
        assert_eq!(local(h.due.unwrap()), "2026-11-25T09:00:00+08:00");
        assert_eq!(h.pauses[0].to, Some(at("2026-11-24T12:00:00+08:00")));
        assert_eq!(h.state, ClockState::OnTrack, "4 of 24 hours used");
        assert_eq!(h.used_minutes, 240);
    }

    #[test]
    fn extensions_move_the_handling_deadline() {
        let mut s = Story::new("2026-11-23T08:00:00+08:00");
        s.dispatch("2026-11-23T09:00:00+08:00");
        s.push(
            "2026-11-23T10:00:00+08:00",
            EventKind::Signed { note: None },
        );
        s.push(
            "2026-11-24T10:00:00+08:00",
            EventKind::ExtensionRequested {
                days: 2,
                reason: "r".into(),
            },
        );
        s.push(
            "2026-11-24T11:00:00+08:00",
            EventKind::ExtensionApproved {
                days: 2,
                note: None,
            },
        );
        let p = DeadlinePolicy::default();
        let cal = Calendar::official();
        let c = clocks(&s.0, Some(3), &p, &cal, at("2026-11-24T12:00:00+08:00"));
        let h = clock(&c, ClockKind::Handling);
        assert_eq!(h.extension_days, 2);
        assert_eq!(h.allowance, Allowance::WorkingDays(5));
        // Monday 09:00 + 5 working days: the next Monday 09:00.
        assert_eq!(local(h.due.unwrap()), "2026-11-30T09:00:00+08:00");
    }

    #[test]
    fn the_clocks_stop_and_say_whether_in_time() {
        let mut s = Story::new("2026-11-23T08:00:00+08:00");
        s.dispatch("2026-11-23T09:00:00+08:00");
        s.push(
            "2026-11-23T12:00:00+08:00",
            EventKind::Signed { note: None },
        ); // 3 h: late
        s.push(
            "2026-11-23T13:00:00+08:00",
            EventKind::ContactRecorded {
                note: Some("已联系".into()),
            },
        );
        s.push(
            "2026-11-24T09:00:00+08:00",
            EventKind::Replied {
                content: "已处理".into(),
            },
        );
        s.push(
            "2026-11-24T10:00:00+08:00",
            EventKind::ReplyApproved {
                note: None,
                findings: None,
            },
        );
        let p = DeadlinePolicy::default();
        let cal = Calendar::official();
        let c = clocks(&s.0, Some(3), &p, &cal, at("2026-11-30T10:00:00+08:00"));
        assert_eq!(clock(&c, ClockKind::Sign).state, ClockState::MetLate);
        assert_eq!(clock(&c, ClockKind::Contact).state, ClockState::Met);
        let h = clock(&c, ClockKind::Handling);
        assert_eq!(
            (h.state, h.stopped_at),
            (ClockState::Met, Some(at("2026-11-24T09:00:00+08:00")))
        );
        let cb = clock(&c, ClockKind::Callback);
        assert_eq!(
            cb.state,
            ClockState::Overdue,
            "no callback in 2 working days"
        );
        let (record, next) = watch(&s.0, &c, at("2026-11-30T10:00:00+08:00"));
        assert_eq!(
            record.len(),
            1,
            "only the running callback clock: {record:?}"
        );
        assert_eq!(next, None);
    }

    #[test]
    fn a_merged_request_answered_with_its_parent_is_owed_a_callback() {
        // Merged before any dispatch: no handling cycle of its own.
        let mut s = Story::new("2026-11-23T08:00:00+08:00");
        s.push(
            "2026-11-23T08:30:00+08:00",
            EventKind::Merged { parent_id: 9 },
        );
        let p = DeadlinePolicy::default();
        let cal = Calendar::official();
        assert!(clocks(&s.0, None, &p, &cal, at("2026-11-24T10:00:00+08:00")).is_empty());
        s.push(
            "2026-11-24T10:00:00+08:00",
            EventKind::ParentAnswered {
                parent_id: 9,
                reply: "已修复".into(),
                lead_unit_id: Some(5),
            },
        );
        // Tuesday 10:00 + 2 working days: Thursday 10:00.
        let c = clocks(&s.0, None, &p, &cal, at("2026-11-30T10:00:00+08:00"));
        assert_eq!(c.len(), 1, "{c:?}");
        let cb = clock(&c, ClockKind::Callback);
        assert_eq!(local(cb.due.unwrap()), "2026-11-26T10:00:00+08:00");
        assert_eq!(cb.state, ClockState::Overdue);
        let (record, _) = watch(&s.0, &c, at("2026-11-30T10:00:00+08:00"));
        assert_eq!(record.len(), 1, "{record:?}");
        // The citizen's own rating stops it.
        s.push(
            "2026-11-25T09:00:00+08:00",
            EventKind::CallbackRecorded {
                contacted: None,
                resolution: None,
                satisfaction: crate::Satisfaction::Satisfied,
                note: None,
                source: crate::RatingSource::Citizen,
            },
        );
        let c = clocks(&s.0, None, &p, &cal, at("2026-11-30T10:00:00+08:00"));
        assert_eq!(clock(&c, ClockKind::Callback).state, ClockState::Met);

        // Dispatched, then merged: the earlier cycle's clocks stop, the callback one runs.
        let mut s = Story::new("2026-11-23T08:00:00+08:00");
        s.dispatch("2026-11-23T09:00:00+08:00");
        s.push(
            "2026-11-23T09:30:00+08:00",
            EventKind::Merged { parent_id: 9 },
        );
        s.push(
            "2026-11-24T10:00:00+08:00",
            EventKind::ParentAnswered {
                parent_id: 9,
                reply: "已修复".into(),
                lead_unit_id: Some(5),
            },
        );
        let c = clocks(&s.0, Some(3), &p, &cal, at("2026-11-25T10:00:00+08:00"));
        assert_eq!(clock(&c, ClockKind::Callback).state, ClockState::OnTrack);
        assert_eq!(clock(&c, ClockKind::Handling).state, ClockState::Met);
    }

    #[test]
    fn a_reopened_ticket_starts_again() {
        let mut s = Story::new("2026-11-23T08:00:00+08:00");
        s.dispatch("2026-11-23T09:00:00+08:00");
        s.push(
            "2026-11-23T10:00:00+08:00",
            EventKind::Signed { note: None },
        );
        s.push(
            "2026-11-23T11:00:00+08:00",
            EventKind::Replied {
                content: "x".into(),
            },
        );
        s.push(
            "2026-11-23T12:00:00+08:00",
            EventKind::ReplyApproved {
                note: None,
                findings: None,
            },
        );
        s.push(
            "2026-11-24T12:00:00+08:00",
            EventKind::Reopened {
                reason: Some("不满意".into()),
            },
        );
        let c = clocks(
            &s.0,
            Some(3),
            &DeadlinePolicy::default(),
            &Calendar::official(),
            at("2026-11-24T13:00:00+08:00"),
        );
        let h = clock(&c, ClockKind::Handling);
        assert_eq!(h.start, at("2026-11-24T12:00:00+08:00"));
        assert_eq!(h.state, ClockState::OnTrack);
        assert_eq!(c.len(), 2, "sign and handling only, until signed again");
    }

    #[test]
    fn extension_requests_are_refused_by_rule() {
        let p = DeadlinePolicy::default();
        assert!(
            extension_refusal(&p, &[], 2, at("2026-11-24T10:00:00+08:00"))
                .unwrap()
                .contains("at most 2")
        );
        assert!(
            extension_refusal(&p, &[], 0, at("2026-11-24T17:30:00+08:00"))
                .unwrap()
                .contains("17:00")
        );
        assert_eq!(
            extension_refusal(&p, &[], 0, at("2026-11-24T16:59:00+08:00")),
            None
        );
    }
}
