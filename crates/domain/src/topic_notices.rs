//! Who hears of a step on a monthly topic (每月一题), and what they are told: the same kind of
//! notices tickets give (a console notice to a unit or a role, by SMS to a unit's liaison
//! when it is pressed hard), read from the topic before and after the step.

use crate::notify::{Audience, Notice};
use crate::topics::{Topic, TopicState, TopicTask};
use crate::types::Role;
use chrono::{Datelike, NaiveDate};
use std::collections::BTreeMap;

fn day(d: NaiveDate) -> String {
    format!("{}月{}日", d.month(), d.day())
}

fn level_label(level: u8) -> &'static str {
    match level {
        1 => "催办",
        2 => "书面督办",
        _ => "挂牌督办",
    }
}

fn console(audience: Audience, text: String) -> Notice {
    Notice {
        audience,
        sms: false,
        alert: false,
        text,
    }
}

/// The notices of a topic's step: `before` is none for a new proposal.
///
/// - proposed: the leaders (analysts), who adopt or decline;
/// - adopted: each unit with tasks or policies, with its part and its first due day;
/// - a task nearing its due day (the watch's reminder): its unit;
/// - a task pressed (by a supervisor, or by the watch when it is overdue): its unit (by SMS
///   to its liaison too from 书面督办 up), and the leaders at 挂牌督办;
/// - a task reported done: the lead unit when the task was another unit's, and the
///   supervisors;
/// - closed: every unit that had a part.
pub fn notices_of(before: Option<&Topic>, after: &Topic) -> Vec<Notice> {
    let title = &after.proposal.title;
    let Some(before) = before else {
        return vec![console(
            Audience::Role(Role::Analyst),
            format!("新的每月一题提议「{title}」，请研究是否确定。"),
        )];
    };
    let mut out = Vec::new();
    match (before.state, after.state) {
        (TopicState::Proposed, TopicState::Adopted) => out.extend(adopted(after)),
        (TopicState::Adopted, TopicState::Closed) => {
            for unit in units_with_a_part(after).keys() {
                out.push(console(
                    Audience::Unit(*unit),
                    format!("每月一题「{title}」已结束，感谢参与。"),
                ));
            }
        }
        _ => {}
    }
    let lead = after.adoption.as_ref().map(|a| a.lead_unit_id);
    for (was, now) in before.tasks.iter().zip(&after.tasks) {
        if now.supervisions.len() > was.supervisions.len()
            && let Some(s) = now.supervisions.last()
        {
            out.extend(pressed(title, now, s.level, &s.note));
        }
        if was.reminded_on.is_none() && now.reminded_on.is_some() {
            out.push(console(
                Audience::Unit(now.unit_id),
                format!(
                    "每月一题「{title}」任务{}「{}」将于{}到期，请抓紧办理。",
                    now.no,
                    now.title,
                    day(now.due)
                ),
            ));
        }
        if was.done_on.is_none() && now.done_on.is_some() {
            let text = format!(
                "每月一题「{title}」任务{}「{}」已报告完成。",
                now.no, now.title
            );
            if let Some(lead) = lead
                && lead != now.unit_id
            {
                out.push(console(Audience::Unit(lead), text.clone()));
            }
            out.push(console(Audience::Role(Role::Supervisor), text));
        }
    }
    out
}

/// Each unit with a part in an adopted topic: its tasks and its policies.
fn units_with_a_part(t: &Topic) -> BTreeMap<i64, (Vec<&TopicTask>, usize)> {
    let mut parts: BTreeMap<i64, (Vec<&TopicTask>, usize)> = BTreeMap::new();
    for task in &t.tasks {
        parts.entry(task.unit_id).or_default().0.push(task);
    }
    for p in &t.policies {
        parts.entry(p.unit_id).or_default().1 += 1;
    }
    parts
}

fn adopted(t: &Topic) -> Vec<Notice> {
    let Some(a) = &t.adoption else {
        return Vec::new();
    };
    let title = &t.proposal.title;
    let mut parts = units_with_a_part(t);
    // The lead unit and every co-unit are told even with no task of their own.
    for unit in std::iter::once(a.lead_unit_id).chain(a.co_unit_ids.iter().copied()) {
        parts.entry(unit).or_default();
    }
    parts
        .into_iter()
        .map(|(unit, (tasks, policies))| {
            let role = if unit == a.lead_unit_id {
                "本单位牵头"
            } else {
                "本单位配合"
            };
            let mut part = Vec::new();
            if let Some(first) = tasks.iter().map(|t| t.due).min() {
                part.push(format!("任务{}项（最早{}到期）", tasks.len(), day(first)));
            }
            if policies > 0 {
                part.push(format!("出台政策{policies}项"));
            }
            let part = if part.is_empty() {
                String::new()
            } else {
                format!("，{}", part.join("、"))
            };
            Notice {
                audience: Audience::Unit(unit),
                sms: true,
                alert: false,
                text: format!(
                    "每月一题「{title}」已确定（{}至{}），{role}{part}。",
                    day(a.starts),
                    day(a.ends)
                ),
            }
        })
        .collect()
}

fn pressed(title: &str, task: &TopicTask, level: u8, note: &str) -> Vec<Notice> {
    let text = format!(
        "每月一题「{title}」任务{}「{}」（{}到期）被{}：{note}",
        task.no,
        task.title,
        day(task.due),
        level_label(level)
    );
    let mut out = vec![Notice {
        audience: Audience::Unit(task.unit_id),
        sms: level >= 2,
        alert: true,
        text: text.clone(),
    }];
    if level >= 3 {
        out.push(console(Audience::Role(Role::Analyst), text));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topics::{Adoption, NewPolicy, NewTask, TopicProposal, TopicScope, TopicStep, step};
    use chrono::{DateTime, TimeZone, Utc};

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, 2, 0, 0).unwrap()
    }

    fn proposed() -> Topic {
        let p = TopicProposal {
            title: "老旧小区供暖不热".into(),
            problem: "多个老旧小区反映室温不达标。".into(),
            scope: TopicScope {
                category_code: "0301".into(),
                division_code: None,
            },
            source: None,
        };
        Topic::propose(&p, 7, at()).unwrap()
    }

    fn adopted() -> Topic {
        let a = Adoption {
            lead_unit_id: 3,
            co_unit_ids: vec![4, 5],
            starts: d(11, 1),
            ends: d(11, 30),
            tasks: vec![
                NewTask {
                    title: "排查管网".into(),
                    unit_id: 3,
                    due: d(11, 10),
                },
                NewTask {
                    title: "督促整改".into(),
                    unit_id: 4,
                    due: d(11, 20),
                },
                NewTask {
                    title: "回访住户".into(),
                    unit_id: 4,
                    due: d(11, 25),
                },
            ],
            policies: vec![NewPolicy {
                title: "供热保障办法".into(),
                unit_id: 3,
            }],
        };
        step(&proposed(), TopicStep::Adopt(a), 9, at(), d(11, 2)).unwrap()
    }

    fn said(notices: &[Notice]) -> Vec<(String, bool, bool, &str)> {
        notices
            .iter()
            .map(|n| (n.audience.key(), n.sms, n.alert, n.text.as_str()))
            .collect()
    }

    #[test]
    fn a_proposal_goes_to_the_leaders_and_an_adoption_to_every_unit_with_its_part() {
        assert_eq!(
            said(&notices_of(None, &proposed())),
            vec![(
                "role:analyst".to_string(),
                false,
                false,
                "新的每月一题提议「老旧小区供暖不热」，请研究是否确定。"
            )]
        );
        assert_eq!(
            said(&notices_of(Some(&proposed()), &adopted())),
            vec![
                (
                    "unit:3".to_string(),
                    true,
                    false,
                    "每月一题「老旧小区供暖不热」已确定（11月1日至11月30日），本单位牵头，任务1项（最早11月10日到期）、出台政策1项。"
                ),
                (
                    "unit:4".to_string(),
                    true,
                    false,
                    "每月一题「老旧小区供暖不热」已确定（11月1日至11月30日），本单位配合，任务2项（最早11月20日到期）。"
                ),
                (
                    "unit:5".to_string(),
                    true,
                    false,
                    "每月一题「老旧小区供暖不热」已确定（11月1日至11月30日），本单位配合。"
                ),
            ]
        );
    }

    #[test]
    fn a_pressed_task_reaches_its_unit_and_a_done_one_the_lead_and_the_supervisors() {
        let t = adopted();
        let press = |t: &Topic, note: &str| {
            step(
                t,
                TopicStep::Supervise {
                    task: 2,
                    note: note.into(),
                },
                8,
                at(),
                d(11, 22),
            )
            .unwrap()
        };
        let once = press(&t, "尽快整改");
        assert_eq!(
            said(&notices_of(Some(&t), &once)),
            vec![(
                "unit:4".to_string(),
                false,
                true,
                "每月一题「老旧小区供暖不热」任务2「督促整改」（11月20日到期）被催办：尽快整改"
            )]
        );
        let twice = press(&once, "书面督办");
        assert!(notices_of(Some(&once), &twice)[0].sms);
        let thrice = press(&twice, "挂牌");
        assert_eq!(
            said(&notices_of(Some(&twice), &thrice))
                .into_iter()
                .map(|(a, sms, _, _)| (a, sms))
                .collect::<Vec<_>>(),
            vec![
                ("unit:4".to_string(), true),
                ("role:analyst".to_string(), false)
            ]
        );
        let done = step(
            &thrice,
            TopicStep::Report {
                task: 2,
                text: "已整改".into(),
                done: true,
            },
            6,
            at(),
            d(11, 23),
        )
        .unwrap();
        let text = "每月一题「老旧小区供暖不热」任务2「督促整改」已报告完成。";
        assert_eq!(
            said(&notices_of(Some(&thrice), &done)),
            vec![
                ("unit:3".to_string(), false, false, text),
                ("role:supervisor".to_string(), false, false, text)
            ]
        );
        // A report not done, or the lead's own task done: the lead is not told of its own.
        let own = step(
            &done,
            TopicStep::Report {
                task: 1,
                text: "排查完毕".into(),
                done: true,
            },
            5,
            at(),
            d(11, 23),
        )
        .unwrap();
        assert_eq!(
            said(&notices_of(Some(&done), &own))
                .into_iter()
                .map(|(a, ..)| a)
                .collect::<Vec<_>>(),
            vec!["role:supervisor".to_string()]
        );
    }

    #[test]
    fn the_watch_reminds_and_presses_through_the_same_notices() {
        let t = adopted();
        let reminded = crate::topics::watch(&t, d(11, 7), at()).unwrap();
        assert_eq!(
            said(&notices_of(Some(&t), &reminded)),
            vec![(
                "unit:3".to_string(),
                false,
                false,
                "每月一题「老旧小区供暖不热」任务1「排查管网」将于11月10日到期，请抓紧办理。"
            )]
        );
        let late = crate::topics::watch(&reminded, d(11, 11), at()).unwrap();
        assert_eq!(
            said(&notices_of(Some(&reminded), &late)),
            vec![(
                "unit:3".to_string(),
                false,
                true,
                "每月一题「老旧小区供暖不热」任务1「排查管网」（11月10日到期）被催办：逾期未完成，系统自动催办"
            )]
        );
    }
}
