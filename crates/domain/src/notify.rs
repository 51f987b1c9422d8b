//! Who is told of what: the notifications an event calls for. Pure; the application turns
//! them into outbox rows (SMS to a unit's liaison, in-console notices) written in the same
//! transaction as the event, and webhooks follow their own subscriptions.

use crate::calendar::{Calendar, WorkingHours, add_working_minutes};
use crate::deadlines::ClockKind;
use crate::lifecycle::EventKind;
use crate::ticket::Ticket;
use crate::types::{RatingSource, Role, SupervisionLevel, TicketState};
use chrono::{DateTime, Utc};

/// Who a notice is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audience {
    /// The people of a unit (an SMS goes to its liaison).
    Unit(i64),
    /// Everyone with a role at the hotline centre.
    Role(Role),
}

impl Audience {
    /// `unit:5`, `role:supervisor`: how the outbox names a console recipient.
    pub fn key(self) -> String {
        match self {
            Audience::Unit(u) => format!("unit:{u}"),
            Audience::Role(r) => format!("role:{}", r.as_str()),
        }
    }
}

/// One notice an event calls for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub audience: Audience,
    /// Also by SMS to the unit's liaison (only for units).
    pub sms: bool,
    /// An alert (deadline or supervision): held outside working hours unless the policy
    /// says otherwise. Other notices go at once.
    pub alert: bool,
    /// The text, in Chinese (it is read by civil servants and sent by SMS).
    pub text: String,
}

fn unit_clock(c: ClockKind) -> bool {
    matches!(
        c,
        ClockKind::Sign | ClockKind::Contact | ClockKind::Handling
    )
}

/// The unit that forwarded a level of the chain (the one it replies to).
fn level_above(ticket: &Ticket, unit_id: i64) -> Option<i64> {
    ticket
        .chain
        .iter()
        .rev()
        .find(|a| a.unit_id == unit_id)
        .map(|a| a.from_unit_id)
}

/// The notices one event calls for, given the ticket as it is after the event.
pub fn notices_for(ticket: &Ticket, kind: &EventKind) -> Vec<Notice> {
    let no = &ticket.number;
    let title = &ticket.title;
    let lead = ticket.lead_unit_id;
    let mut out = Vec::new();
    let mut to_lead = |sms: bool, alert: bool, text: String| {
        if let Some(u) = lead {
            out.push(Notice {
                audience: Audience::Unit(u),
                sms,
                alert,
                text,
            });
        }
    };
    match kind {
        EventKind::Dispatched { co_unit_ids, .. }
        | EventKind::ConsultationDecided { co_unit_ids, .. } => {
            to_lead(
                true,
                false,
                format!("【12345】新派工单{no}：{title}，请及时签收办理。"),
            );
            for u in co_unit_ids {
                out.push(Notice {
                    audience: Audience::Unit(*u),
                    sms: false,
                    alert: false,
                    text: format!("工单{no}（{title}）请贵单位协办。"),
                });
            }
        }
        EventKind::Reopened { reason } if lead.is_some() => to_lead(
            true,
            false,
            format!(
                "【12345】工单{no}重办：{}",
                reason.as_deref().unwrap_or("请重新办理")
            ),
        ),
        EventKind::ReplyRejected { reason } => {
            to_lead(false, false, format!("工单{no}答复被退回：{reason}"))
        }
        // The unit hears what the citizen said of its work.
        EventKind::CallbackRecorded { source, .. } => {
            let said = kind
                .callback_answers()
                .map(|a| a.said_zh())
                .unwrap_or_default();
            let what = if *source == RatingSource::Citizen {
                "市民评价"
            } else {
                "回访结果"
            };
            to_lead(false, false, format!("工单{no}{what}：{said}"));
            // A citizen's bad rating waits on the dispatchers' desk (差评待审).
            if ticket.state == TicketState::RatingReview {
                out.push(Notice {
                    audience: Audience::Role(Role::Dispatcher),
                    sms: false,
                    alert: false,
                    text: format!("工单{no}（{title}）市民评价不满意，请审核（差评待审）。"),
                });
            }
        }
        EventKind::RatingReviewed {
            reasonable: false,
            reason,
        } => to_lead(
            false,
            false,
            format!(
                "工单{no}市民差评经审核不予采纳：{}",
                reason.as_deref().unwrap_or("")
            ),
        ),
        EventKind::ReturnRejected { .. } => to_lead(
            false,
            false,
            format!("工单{no}退单申请未获同意，请继续办理。"),
        ),
        EventKind::ExtensionApproved { days, .. } => {
            to_lead(false, false, format!("工单{no}延期{days}个工作日已同意。"))
        }
        EventKind::ExtensionRejected { .. } => {
            to_lead(false, false, format!("工单{no}延期申请未获同意。"))
        }
        EventKind::ReturnRequested { reason } => out.push(Notice {
            audience: Audience::Role(Role::Dispatcher),
            sms: false,
            alert: false,
            text: format!("工单{no}申请退单：{reason}"),
        }),
        EventKind::ExtensionRequested { days, reason } => out.push(Notice {
            audience: Audience::Role(Role::Dispatcher),
            sms: false,
            alert: false,
            text: format!("工单{no}申请延期{days}个工作日：{reason}"),
        }),
        EventKind::DeadlineWarned { clock, .. } if unit_clock(*clock) => to_lead(
            true,
            true,
            format!(
                "【12345预警】工单{no}{}即将到期，请抓紧办理。",
                clock.label_zh()
            ),
        ),
        EventKind::DeadlineBreached { clock, .. } if unit_clock(*clock) => {
            to_lead(
                true,
                true,
                format!(
                    "【12345超期】工单{no}{}已超期，请立即办理。",
                    clock.label_zh()
                ),
            );
            out.push(Notice {
                audience: Audience::Role(Role::Supervisor),
                sms: false,
                alert: true,
                text: format!("工单{no}（{title}）{}已超期。", clock.label_zh()),
            });
        }
        EventKind::DeadlineWarned { clock, .. } | EventKind::DeadlineBreached { clock, .. } => {
            // The callback clock is the hotline centre's own.
            let what = if matches!(kind, EventKind::DeadlineBreached { .. }) {
                "已超期"
            } else {
                "即将到期"
            };
            out.push(Notice {
                audience: Audience::Role(Role::CallbackAgent),
                sms: false,
                alert: true,
                text: format!("工单{no}{}{what}。", clock.label_zh()),
            });
        }
        EventKind::Supervised { level, reason, .. } => {
            to_lead(
                true,
                true,
                format!(
                    "【12345{}】工单{no}（{title}）：{reason}。请于1个工作日内反馈。",
                    level.label_zh()
                ),
            );
            // 催办 is the hotline centre's routine (supervisors see it on the board); a
            // supervisor hears of 书面督办, and leaders of 挂牌督办.
            let watchers: &[Role] = match level {
                SupervisionLevel::L1 => &[],
                SupervisionLevel::L2 => &[Role::Supervisor],
                SupervisionLevel::L3 => &[Role::Supervisor, Role::Analyst],
            };
            for r in watchers {
                out.push(Notice {
                    audience: Audience::Role(*r),
                    sms: false,
                    alert: true,
                    text: format!("工单{no}（{title}）{}：{reason}", level.label_zh()),
                });
            }
        }
        // 分级转办: the level forwarded to, and the level above when a reply or a request
        // to give the ticket back comes up to it.
        EventKind::Forwarded { unit_id, .. } => out.push(Notice {
            audience: Audience::Unit(*unit_id),
            sms: true,
            alert: false,
            text: format!("【12345】转办工单{no}：{title}，请及时签收办理并按期上报。"),
        }),
        EventKind::LevelReplied { unit_id, .. }
        | EventKind::LevelReturnRequested { unit_id, .. } => {
            if let Some(above) = level_above(ticket, *unit_id) {
                let what = if matches!(kind, EventKind::LevelReplied { .. }) {
                    "下级已答复，请审核"
                } else {
                    "下级申请退回，请决定"
                };
                out.push(Notice {
                    audience: Audience::Unit(above),
                    sms: false,
                    alert: false,
                    text: format!("工单{no}（{title}）{what}。"),
                });
            }
        }
        EventKind::LevelReplyRejected { unit_id, reason } => out.push(Notice {
            audience: Audience::Unit(*unit_id),
            sms: false,
            alert: false,
            text: format!("工单{no}答复被上级退回：{reason}"),
        }),
        EventKind::LevelReturnRejected { unit_id, .. } => out.push(Notice {
            audience: Audience::Unit(*unit_id),
            sms: false,
            alert: false,
            text: format!("工单{no}退回申请未获同意，请继续办理。"),
        }),
        EventKind::Summoned {
            unit_id, reason, ..
        } => out.push(Notice {
            audience: Audience::Unit(*unit_id),
            sms: true,
            alert: false,
            text: format!("【12345吹哨】工单{no}（{title}）请贵单位到场报到：{reason}"),
        }),
        EventKind::ReportedIn { unit_id, .. } => {
            if let Some(by) = ticket
                .summons
                .iter()
                .rev()
                .find(|c| c.unit_id == *unit_id)
                .map(|c| c.by_unit_id)
            {
                out.push(Notice {
                    audience: Audience::Unit(by),
                    sms: false,
                    alert: false,
                    text: format!("工单{no}（{title}）被呼叫单位已报到。"),
                });
            }
        }
        EventKind::LevelSignOverdue { unit_id, .. } => {
            out.push(Notice {
                audience: Audience::Unit(*unit_id),
                sms: true,
                alert: true,
                text: format!("【12345超时】转办工单{no}已超过签收时限，请立即签收。"),
            });
            if let Some(above) = level_above(ticket, *unit_id) {
                out.push(Notice {
                    audience: Audience::Unit(above),
                    sms: false,
                    alert: true,
                    text: format!("工单{no}（{title}）转办下级超时未签收。"),
                });
            }
        }
        EventKind::SummonsOverdue { unit_id, .. } => {
            out.push(Notice {
                audience: Audience::Unit(*unit_id),
                sms: true,
                alert: true,
                text: format!("【12345吹哨】工单{no}呼叫你单位到场，已超过报到时限，请立即报到。"),
            });
            if let Some(by) = ticket
                .summons
                .iter()
                .find(|c| c.unit_id == *unit_id)
                .map(|c| c.by_unit_id)
            {
                out.push(Notice {
                    audience: Audience::Unit(by),
                    sms: false,
                    alert: true,
                    text: format!("工单{no}（{title}）被呼叫单位超时未报到。"),
                });
            }
        }
        EventKind::LevelOverdue { unit_id, .. } => {
            out.push(Notice {
                audience: Audience::Unit(*unit_id),
                sms: true,
                alert: true,
                text: format!("【12345超期】转办工单{no}已超过上级要求的答复时间，请立即办理。"),
            });
            if let Some(above) = level_above(ticket, *unit_id) {
                out.push(Notice {
                    audience: Audience::Unit(above),
                    sms: false,
                    alert: true,
                    text: format!("工单{no}（{title}）转办下级已超期未答复。"),
                });
            }
        }
        EventKind::SupervisionAnswered { level, answer } => out.push(Notice {
            audience: Audience::Role(Role::Supervisor),
            sms: false,
            alert: false,
            text: format!("工单{no}{}反馈：{answer}", level.label_zh()),
        }),
        _ => {}
    }
    out
}

/// When an alert may go out: at once inside working hours, otherwise at the start of the
/// next working period (unless alerts may be sent at any time).
pub fn send_after(
    at: DateTime<Utc>,
    alert: bool,
    any_time: bool,
    cal: &Calendar,
    hours: &WorkingHours,
) -> DateTime<Utc> {
    if !alert || any_time {
        return at;
    }
    add_working_minutes(cal, hours, at, 0).at
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::Channel;
    use crate::lifecycle::{Event, apply};
    use crate::ticket::Actor;
    use crate::types::Kind;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn dispatched() -> Ticket {
        let mut t = None;
        for (seq, kind) in [
            EventKind::Received {
                number: "XN1".into(),
                tracking_code: "T".into(),
                channel: Channel::PHONE,
                channel_detail: None,
                recording: None,
                kind: Kind::Complaint,
                title: "路灯不亮".into(),
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
            EventKind::Dispatched {
                lead_unit_id: 5,
                co_unit_ids: vec![6],
                tier: Some(3),
                note: None,
            },
        ]
        .into_iter()
        .enumerate()
        {
            t = apply(
                t,
                &Event {
                    ticket_id: 1,
                    seq: seq as i64 + 1,
                    at: at("2026-11-23T09:00:00+08:00"),
                    actor: Actor {
                        user_id: 1,
                        role: Role::Dispatcher,
                        unit_id: None,
                    },
                    kind,
                },
            );
        }
        t.unwrap()
    }

    #[test]
    fn who_hears_of_what() {
        let t = dispatched();
        let n = notices_for(
            &t,
            &EventKind::Dispatched {
                lead_unit_id: 5,
                co_unit_ids: vec![6],
                tier: None,
                note: None,
            },
        );
        assert_eq!(
            n.iter()
                .map(|n| (n.audience.key(), n.sms, n.alert))
                .collect::<Vec<_>>(),
            vec![
                ("unit:5".to_string(), true, false),
                ("unit:6".to_string(), false, false)
            ]
        );
        assert!(n[0].text.contains("XN1") && n[0].text.contains("路灯不亮"));
        let breach = notices_for(
            &t,
            &EventKind::DeadlineBreached {
                clock: ClockKind::Handling,
                due_at: t.created_at,
            },
        );
        assert_eq!(
            breach.iter().map(|n| n.audience.key()).collect::<Vec<_>>(),
            ["unit:5", "role:supervisor"]
        );
        assert!(breach.iter().all(|n| n.alert));
        let callback = notices_for(
            &t,
            &EventKind::DeadlineWarned {
                clock: ClockKind::Callback,
                due_at: t.created_at,
            },
        );
        assert_eq!(callback[0].audience, Audience::Role(Role::CallbackAgent));
        assert!(!callback[0].sms);
        let l3 = notices_for(
            &t,
            &EventKind::Supervised {
                level: SupervisionLevel::L3,
                reason: "挂牌".into(),
                automatic: false,
            },
        );
        assert_eq!(
            l3.iter().map(|n| n.audience.key()).collect::<Vec<_>>(),
            ["unit:5", "role:supervisor", "role:analyst"]
        );
        assert!(l3[0].sms && l3[0].text.contains("挂牌督办"));
        assert!(notices_for(&t, &EventKind::NoteAdded { note: "n".into() }).is_empty());
        // The lead unit hears the callback's three answers.
        let told = notices_for(
            &t,
            &EventKind::CallbackRecorded {
                contacted: Some(false),
                resolution: Some(crate::types::Resolution::Partly),
                satisfaction: crate::types::Satisfaction::Dissatisfied,
                note: None,
                source: RatingSource::Agent,
            },
        );
        assert_eq!(told.len(), 1);
        assert_eq!(
            told[0].text,
            format!("工单{}回访结果：未及时联系，部分解决，不满意", t.number)
        );
    }

    #[test]
    fn alerts_wait_for_working_hours() {
        let cal = Calendar::official();
        let hours = WorkingHours::parse("08:30-12:00,14:30-18:00").unwrap();
        // Friday evening → Monday 08:30; lunch break → 14:30; inside hours → at once.
        let fri = at("2026-11-27T20:00:00+08:00");
        assert_eq!(
            send_after(fri, true, false, &cal, &hours),
            at("2026-11-30T08:30:00+08:00")
        );
        assert_eq!(
            send_after(at("2026-11-30T12:30:00+08:00"), true, false, &cal, &hours),
            at("2026-11-30T14:30:00+08:00")
        );
        let inside = at("2026-11-30T10:00:00+08:00");
        assert_eq!(send_after(inside, true, false, &cal, &hours), inside);
        // National Day: held until the first working day after the holiday.
        assert_eq!(
            send_after(at("2026-10-01T10:00:00+08:00"), true, false, &cal, &hours),
            at("2026-10-08T08:30:00+08:00")
        );
        // Not an alert, or the policy allows any time: at once.
        assert_eq!(send_after(fri, false, false, &cal, &hours), fri);
        assert_eq!(send_after(fri, true, true, &cal, &hours), fri);
    }
}
