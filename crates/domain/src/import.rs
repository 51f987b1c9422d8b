//! Historical import (历史工单导入) for a city moving onto the system: a row of a past ticket
//! — its number, times, channel, category, place, units, answer and callback — checked
//! field by field (every bad field of every row named with its line), and turned into the
//! events that would have recorded it, at their own times. Pure: reading the file and
//! writing the tickets are the application's and the store's.

use crate::calendar::Calendar;
use crate::channel::Channel;
use crate::deadlines::{ClockKind, ClockState, DeadlinePolicy, clocks};
use crate::lifecycle::{CloseOutcome, Event, EventKind, apply};
use crate::ticket::{Actor, Citizen};
use crate::types::{Kind, Resolution, Role, Satisfaction};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use std::collections::{HashMap, HashSet};

/// The columns of an import file, by their header names (any order; others are refused).
pub const COLUMNS: [&str; 23] = [
    "number",
    "received_at",
    "channel",
    "line",
    "kind",
    "title",
    "content",
    "citizen_name",
    "citizen_phone",
    "address",
    "category_code",
    "division_code",
    "lead_unit",
    "co_units",
    "tier",
    "dispatched_at",
    "signed_at",
    "replied_at",
    "reply",
    "closed_at",
    "contacted",
    "resolution",
    "satisfaction",
];

/// The most rows one import takes.
pub const MAX_ROWS: usize = 200_000;

/// One bad field of one row: its line in the file (the header is line 1), the column, why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RowError {
    pub line: usize,
    pub field: String,
    pub message: String,
}

/// What the rows may name: the units by code, the categories and divisions by code, the
/// channels and merged lines.
pub struct Names<'a> {
    pub units: &'a HashMap<String, i64>,
    pub categories: &'a HashSet<String>,
    pub divisions: &'a HashSet<String>,
    pub channels: &'a HashSet<String>,
    pub lines: &'a HashSet<String>,
}

/// A past ticket, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct PastTicket {
    pub line: usize,
    pub number: String,
    pub received_at: DateTime<Utc>,
    pub channel: Channel,
    pub line_number: Option<String>,
    pub kind: Kind,
    pub title: Option<String>,
    pub content: String,
    pub citizen: Citizen,
    pub address: Option<String>,
    pub category_code: Option<String>,
    pub division_code: Option<String>,
    /// The lead unit, the co-units, the tier and when it was dispatched.
    pub dispatch: Option<(i64, Vec<i64>, u8, DateTime<Utc>)>,
    pub signed_at: Option<DateTime<Utc>>,
    /// The answer and when it was given.
    pub reply: Option<(String, DateTime<Utc>)>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The callback's answers (given with `closed_at`).
    pub callback: Option<(Option<bool>, Option<Resolution>, Satisfaction)>,
}

/// A time as written in a file: RFC 3339, or `YYYY-MM-DD HH:MM[:SS]` in Beijing time.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y/%m/%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    .and_then(|n| {
        crate::intake::china_offset()
            .from_local_datetime(&n)
            .single()
    })
    .map(|t| t.with_timezone(&Utc))
}

fn yes_no(s: &str) -> Option<bool> {
    match s {
        "yes" | "true" | "1" | "是" => Some(true),
        "no" | "false" | "0" | "否" => Some(false),
        _ => None,
    }
}

/// Checks one row (its cells by column name); every bad field is named.
pub fn check_row(
    line: usize,
    cells: &HashMap<&str, &str>,
    names: &Names,
) -> Result<PastTicket, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut bad = |field: &str, message: String| {
        errors.push(RowError {
            line,
            field: field.to_string(),
            message,
        })
    };
    let cell = |name: &str| cells.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let text = |name: &str, max: usize, bad: &mut dyn FnMut(&str, String)| -> Option<String> {
        let v = cell(name)?;
        if v.chars().count() > max {
            bad(name, format!("is longer than {max} characters"));
            return None;
        }
        if let Some(c) = v
            .chars()
            .find(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
        {
            bad(
                name,
                format!("contains the control character U+{:04X}", c as u32),
            );
            return None;
        }
        Some(v.to_string())
    };
    let time = |name: &str, bad: &mut dyn FnMut(&str, String)| -> Option<DateTime<Utc>> {
        let v = cell(name)?;
        let t = parse_time(v);
        if t.is_none() {
            bad(
                name,
                format!("`{v}` is not a time (2024-03-05 09:30 or RFC 3339)"),
            );
        }
        t
    };

    let number = text("number", 32, &mut bad);
    match &number {
        None if cell("number").is_none() => bad("number", "is required".into()),
        Some(n) if !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') => {
            bad("number", "must be letters, digits and `-`".into())
        }
        _ => {}
    }
    let received_at = time("received_at", &mut bad);
    if cell("received_at").is_none() {
        bad("received_at", "is required".into());
    }
    let channel = match cell("channel") {
        None => {
            bad("channel", "is required".into());
            None
        }
        Some(c) if names.channels.contains(c) => Channel::new(c).ok(),
        Some(c) => {
            bad("channel", format!("`{c}` is not a channel"));
            None
        }
    };
    let line_number = cell("line").map(str::to_string);
    if let Some(l) = &line_number
        && !names.lines.contains(l)
    {
        bad("line", format!("`{l}` is not a merged hotline"));
    }
    if channel.as_ref() == Some(&Channel::MERGED_LINE) && line_number.is_none() {
        bad("line", "is required on channel merged_line".into());
    }
    let kind = match cell("kind") {
        None => Kind::Help,
        Some(k) => k.parse().unwrap_or_else(|e: crate::error::UnknownValue| {
            bad("kind", e.to_string());
            Kind::Help
        }),
    };
    let title = text("title", 200, &mut bad);
    let content = text("content", 20_000, &mut bad);
    if cell("content").is_none() {
        bad("content", "is required".into());
    }
    let name = text("citizen_name", 50, &mut bad);
    let phone = match cell("citizen_phone") {
        None => None,
        Some(p) => match crate::intake::canonical_phone(p) {
            Some(p) => Some(p),
            None => {
                bad("citizen_phone", format!("`{p}` is not a phone number"));
                None
            }
        },
    };
    let address = text("address", 500, &mut bad);
    let category_code = cell("category_code").map(str::to_string);
    if let Some(c) = &category_code
        && !names.categories.contains(c)
    {
        bad("category_code", format!("`{c}` is not a category"));
    }
    let division_code = cell("division_code").map(str::to_string);
    if let Some(d) = &division_code
        && !names.divisions.contains(d)
    {
        bad("division_code", format!("`{d}` is not a division"));
    }
    let unit = |code: &str, field: &str, bad: &mut dyn FnMut(&str, String)| {
        let id = names.units.get(code).copied();
        if id.is_none() {
            bad(field, format!("`{code}` is not a unit's code"));
        }
        id
    };
    let lead = cell("lead_unit").and_then(|c| unit(c, "lead_unit", &mut bad));
    let co: Vec<i64> = cell("co_units")
        .map(|v| {
            v.split([';', ',', '；', '，'])
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .filter_map(|c| unit(c, "co_units", &mut bad))
                .collect()
        })
        .unwrap_or_default();
    let tier = match cell("tier") {
        None => 3,
        Some(t) => match t.parse::<u8>() {
            Ok(d @ (1 | 3 | 7 | 11)) => d,
            _ => {
                bad("tier", format!("`{t}` is not 1, 3, 7 or 11 days"));
                3
            }
        },
    };
    let dispatched_at = time("dispatched_at", &mut bad);
    let signed_at = time("signed_at", &mut bad);
    let replied_at = time("replied_at", &mut bad);
    let reply = text("reply", 20_000, &mut bad);
    let closed_at = time("closed_at", &mut bad);
    let contacted = cell("contacted").and_then(|v| {
        let b = yes_no(v);
        if b.is_none() {
            bad("contacted", format!("`{v}` is not yes or no"));
        }
        b
    });
    let resolution = cell("resolution").and_then(|v| {
        let r = v.parse::<Resolution>().ok();
        if r.is_none() {
            bad(
                "resolution",
                format!("`{v}` is not resolved, partly or unresolved"),
            );
        }
        r
    });
    let satisfaction = cell("satisfaction").and_then(|v| {
        let s = v.parse::<Satisfaction>().ok();
        if s.is_none() {
            bad(
                "satisfaction",
                format!("`{v}` is not satisfied, basically or dissatisfied"),
            );
        }
        s
    });

    // The steps must come in order, each after the one before.
    let mut order = |field: &str, t: Option<DateTime<Utc>>, after: Option<DateTime<Utc>>| {
        if let (Some(t), Some(a)) = (t, after)
            && t < a
        {
            bad(field, "is earlier than the step before it".into());
        }
    };
    order("dispatched_at", dispatched_at, received_at);
    order("signed_at", signed_at, dispatched_at);
    order(
        "replied_at",
        replied_at,
        signed_at.or(dispatched_at).or(received_at),
    );
    order("closed_at", closed_at, replied_at);
    if lead.is_some() && cell("dispatched_at").is_none() {
        bad("dispatched_at", "is required with lead_unit".into());
    }
    if lead.is_none() && cell("lead_unit").is_none() && cell("dispatched_at").is_some() {
        bad("lead_unit", "is required with dispatched_at".into());
    }
    if cell("replied_at").is_some() != cell("reply").is_some() {
        bad("reply", "and replied_at come together".into());
    }
    if cell("closed_at").is_some() && cell("reply").is_none() {
        bad("reply", "is required of a closed ticket".into());
    }
    if satisfaction.is_some() && cell("closed_at").is_none() {
        bad(
            "closed_at",
            "is required with the callback's answers".into(),
        );
    }
    if (contacted.is_some() || resolution.is_some()) && cell("satisfaction").is_none() {
        bad(
            "satisfaction",
            "is required with the callback's other answers".into(),
        );
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    let (Some(number), Some(received_at), Some(channel), Some(content)) =
        (number, received_at, channel, content)
    else {
        unreachable!("a missing required field is an error above")
    };
    Ok(PastTicket {
        line,
        number,
        received_at,
        channel,
        line_number,
        kind,
        title,
        content,
        citizen: Citizen {
            name,
            phone,
            no_sms: false,
            wechat_openid: None,
        },
        address,
        category_code,
        division_code,
        dispatch: lead.zip(dispatched_at).map(|(l, at)| (l, co, tier, at)),
        signed_at,
        reply: reply.zip(replied_at),
        closed_at,
        callback: satisfaction.map(|s| (contacted, resolution, s)),
    })
}

/// The events that record a past ticket, at their own times: received; dispatched, signed,
/// answered and the answer approved; the handling deadline's breach where the answer came
/// after it (as the watcher would have recorded it); the callback and the close. A ticket
/// answered without a unit was answered at intake (直接办结).
pub fn events(
    t: &PastTicket,
    tracking_code: String,
    policy: &DeadlinePolicy,
    calendar: &Calendar,
) -> Vec<Event> {
    let system = |role: Role, unit_id: Option<i64>| Actor {
        user_id: 0,
        role,
        unit_id,
    };
    let mut out: Vec<Event> = Vec::new();
    let push = |out: &mut Vec<Event>, at: DateTime<Utc>, actor: Actor, kind: EventKind| {
        let seq = out.len() as i64 + 1;
        out.push(Event {
            ticket_id: 0,
            seq,
            at,
            actor,
            kind,
        });
    };
    push(
        &mut out,
        t.received_at,
        system(Role::Operator, None),
        EventKind::Received {
            number: t.number.clone(),
            tracking_code,
            channel: t.channel.clone(),
            channel_detail: t.line_number.clone(),
            recording: None,
            kind: t.kind,
            title: t
                .title
                .clone()
                .unwrap_or_else(|| crate::intake::derive_title(&t.content)),
            content: t.content.clone(),
            citizen: t.citizen.clone(),
            confidential: false,
            address: t.address.clone(),
            category_code: t.category_code.clone(),
            division_code: t.division_code.clone(),
            suggested_category_code: None,
            reported_by_unit_id: None,
            place: None,
            emergency: None,
            exchange: None,
        },
    );
    match (&t.dispatch, &t.reply) {
        (None, Some((answer, at))) => push(
            &mut out,
            *at,
            system(Role::Operator, None),
            EventKind::ResolvedDirectly {
                answer: answer.clone(),
            },
        ),
        (None, None) => {}
        (Some((lead, co, tier, dispatched_at)), reply) => {
            let unit = system(Role::UnitHandler, Some(*lead));
            let dispatcher = system(Role::Dispatcher, None);
            push(
                &mut out,
                *dispatched_at,
                dispatcher,
                EventKind::Dispatched {
                    lead_unit_id: *lead,
                    co_unit_ids: co.clone(),
                    tier: Some(*tier),
                    note: None,
                },
            );
            let signed_at = t.signed_at.or(reply.as_ref().map(|(_, at)| *at));
            if let Some(at) = signed_at {
                push(&mut out, at, unit, EventKind::Signed { note: None });
            }
            if let Some((content, at)) = reply {
                let handling = clocks(&out, Some(*tier), policy, calendar, *at)
                    .into_iter()
                    .find(|c| c.kind == ClockKind::Handling);
                if let Some(c) = handling
                    && c.state == ClockState::Overdue
                    && let Some(due) = c.due
                {
                    push(
                        &mut out,
                        due,
                        system(Role::Admin, None),
                        EventKind::DeadlineBreached {
                            clock: ClockKind::Handling,
                            due_at: due,
                        },
                    );
                }
                push(
                    &mut out,
                    *at,
                    unit,
                    EventKind::Replied {
                        content: content.clone(),
                    },
                );
                push(
                    &mut out,
                    *at,
                    dispatcher,
                    EventKind::ReplyApproved {
                        note: None,
                        findings: None,
                    },
                );
            }
        }
    }
    if let (Some(at), Some(_)) = (t.closed_at, &t.reply)
        && t.dispatch.is_some()
    {
        if let Some((contacted, resolution, satisfaction)) = t.callback {
            push(
                &mut out,
                at,
                system(Role::CallbackAgent, None),
                EventKind::CallbackRecorded {
                    contacted,
                    resolution,
                    satisfaction,
                    note: None,
                    source: crate::types::RatingSource::Agent,
                },
            );
        }
        push(
            &mut out,
            at,
            system(Role::CallbackAgent, None),
            EventKind::Closed {
                outcome: if t.callback.is_some() {
                    CloseOutcome::Callback
                } else {
                    CloseOutcome::Manual
                },
                note: Some("历史工单导入".into()),
            },
        );
    }
    out
}

/// The view the events make (what the store keeps beside them).
pub fn view(events: &[Event]) -> Option<crate::Ticket> {
    events.iter().fold(None, apply)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct World {
        units: HashMap<String, i64>,
        categories: HashSet<String>,
        divisions: HashSet<String>,
        channels: HashSet<String>,
        lines: HashSet<String>,
    }

    fn world() -> World {
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<HashSet<_>>();
        World {
            units: [("GOV-630102001".to_string(), 5), ("DEPT-CG".to_string(), 7)].into(),
            categories: set(&["010103"]),
            divisions: set(&["630102001001"]),
            channels: set(&["phone", "merged_line", "web"]),
            lines: set(&["12369"]),
        }
    }

    fn check(w: &World, row: &[(&str, &str)]) -> Result<PastTicket, Vec<RowError>> {
        let names = Names {
            units: &w.units,
            categories: &w.categories,
            divisions: &w.divisions,
            channels: &w.channels,
            lines: &w.lines,
        };
        check_row(7, &row.iter().copied().collect(), &names)
    }

    fn local(t: DateTime<Utc>) -> String {
        t.with_timezone(&crate::intake::china_offset()).to_rfc3339()
    }

    #[test]
    fn a_late_answer_rated_by_callback_becomes_its_events() {
        let w = world();
        let t = check(
            &w,
            &[
                ("number", "XN20260302000007"),
                ("received_at", "2026-03-02 09:00"),
                ("channel", "phone"),
                ("kind", "complaint"),
                ("content", "北关社区门口的路灯不亮"),
                ("citizen_phone", "139 0700 1234"),
                ("category_code", "010103"),
                ("division_code", "630102001001"),
                ("lead_unit", "GOV-630102001"),
                ("co_units", "DEPT-CG"),
                ("tier", "3"),
                ("dispatched_at", "2026-03-02 09:30"),
                ("replied_at", "2026-03-06 10:00"),
                ("reply", "路灯已修复"),
                ("closed_at", "2026-03-09 15:00"),
                ("contacted", "是"),
                ("resolution", "resolved"),
                ("satisfaction", "basically"),
            ],
        )
        .unwrap();
        assert_eq!(t.citizen.phone.as_deref(), Some("13907001234"));
        let ev = events(
            &t,
            "CODE".into(),
            &DeadlinePolicy::default(),
            &Calendar::official(),
        );
        let kinds: Vec<&str> = ev.iter().map(|e| e.kind.type_name()).collect();
        assert_eq!(
            kinds,
            [
                "received",
                "dispatched",
                "signed",
                "deadline_breached",
                "replied",
                "reply_approved",
                "callback_recorded",
                "closed"
            ]
        );
        // Three working days from Monday 09:30 (no holiday that week): Thursday 09:30.
        assert_eq!(local(ev[3].at), "2026-03-05T09:30:00+08:00");
        assert_eq!(
            local(ev[2].at),
            "2026-03-06T10:00:00+08:00",
            "signed when answered"
        );
        let v = view(&ev).unwrap();
        assert_eq!(v.state, crate::TicketState::Closed);
        assert_eq!(v.number, "XN20260302000007");
        assert_eq!(v.lead_unit_id, Some(5));
        assert_eq!(v.co_unit_ids, vec![7]);
        assert_eq!(v.reply.as_deref(), Some("路灯已修复"));
        assert_eq!(
            v.callback
                .map(|c| (c.contacted, c.resolution, c.satisfaction)),
            Some((
                Some(true),
                Some(Resolution::Resolved),
                Satisfaction::Basically
            ))
        );
    }

    #[test]
    fn an_answer_without_a_unit_was_given_at_intake() {
        let w = world();
        let t = check(
            &w,
            &[
                ("number", "XN1"),
                ("received_at", "2026-03-02T01:00:00Z"),
                ("channel", "merged_line"),
                ("line", "12369"),
                ("content", "咨询环保举报的办理时限"),
                ("replied_at", "2026-03-02T01:05:00Z"),
                ("reply", "已告知办理时限"),
            ],
        )
        .unwrap();
        let ev = events(
            &t,
            "C".into(),
            &DeadlinePolicy::default(),
            &Calendar::official(),
        );
        let v = view(&ev).unwrap();
        assert_eq!(v.state, crate::TicketState::ResolvedDirectly);
        assert_eq!(v.channel_detail.as_deref(), Some("12369"));
        assert_eq!(ev.len(), 2);
    }

    #[test]
    fn every_bad_field_of_a_row_is_named_with_its_line() {
        let w = world();
        let errors = check(
            &w,
            &[
                ("number", "XN 1"),
                ("received_at", "yesterday"),
                ("channel", "fax"),
                ("kind", "rumour"),
                ("citizen_phone", "12"),
                ("category_code", "99"),
                ("lead_unit", "NOPE"),
                ("tier", "5"),
                ("satisfaction", "happy"),
            ],
        )
        .unwrap_err();
        let fields: Vec<(usize, &str)> =
            errors.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(
            fields,
            [
                (7, "number"),
                (7, "received_at"),
                (7, "channel"),
                (7, "kind"),
                (7, "content"),
                (7, "citizen_phone"),
                (7, "category_code"),
                (7, "lead_unit"),
                (7, "tier"),
                (7, "satisfaction"),
            ]
        );
        // Steps out of order, and steps without what they need.
        let errors = check(
            &w,
            &[
                ("number", "XN2"),
                ("received_at", "2026-03-02 09:00"),
                ("channel", "phone"),
                ("content", "内容"),
                ("lead_unit", "GOV-630102001"),
                ("dispatched_at", "2026-03-01 09:00"),
                ("closed_at", "2026-03-03 09:00"),
                ("resolution", "resolved"),
            ],
        )
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["dispatched_at", "reply", "satisfaction"]);
    }
}
