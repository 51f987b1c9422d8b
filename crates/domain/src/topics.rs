//! Monthly topics (每月一题): a problem many citizens raise, taken on as a governance topic.
//!
//! An analyst or supervisor proposes a topic — a scope (a category, at any level, and
//! optionally a place) and a problem statement, often from a hot issue. A leader (`adopt_topics`)
//! adopts it for a campaign period with a lead unit, co-units, tasks with due dates and the
//! policies to be issued, or declines it. Each task is watched like a ticket: its deadline
//! status (open, due soon, overdue, done, done late) and up to three levels of supervision
//! (催办, 书面督办, 挂牌督办) a supervisor presses with a note; the task's unit reports what it
//! did, and a policy's unit records it issued (document number and date). The leader closes the
//! topic with a summary. The volume of the scope's requests before, during and after the
//! period is read from the evaluation aggregates ([`phases`] says which days are which).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// Where a topic stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TopicState {
    /// Proposed, waiting for a leader.
    Proposed,
    /// Adopted: its tasks are under way.
    Adopted,
    /// Closed by a leader with a summary.
    Closed,
    /// Not taken on (with the reason).
    Declined,
}

impl TopicState {
    pub const ALL: [TopicState; 4] = [
        TopicState::Proposed,
        TopicState::Adopted,
        TopicState::Closed,
        TopicState::Declined,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Proposed => "proposed",
            Self::Adopted => "adopted",
            Self::Closed => "closed",
            Self::Declined => "declined",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// In Chinese, for the console.
    pub fn zh(self) -> &'static str {
        match self {
            Self::Proposed => "待立项",
            Self::Adopted => "推进中",
            Self::Closed => "已结题",
            Self::Declined => "未立项",
        }
    }
}

/// The requests a topic is about: a category (any level: its requests and those below it)
/// and, optionally, a division (district, street or community, and below).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TopicScope {
    pub category_code: String,
    pub division_code: Option<String>,
}

/// A topic's proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TopicProposal {
    /// A short name (`老旧小区供暖不热`).
    pub title: String,
    /// What the problem is and why it is worth a topic.
    pub problem: String,
    #[serde(flatten)]
    pub scope: TopicScope,
    /// The hot issue it came from, in words, if it did.
    #[serde(default)]
    pub source: Option<String>,
}

pub const TITLE_MAX: usize = 100;
pub const TEXT_MAX: usize = 5_000;
/// Most tasks and policies a topic holds.
pub const ITEMS_MAX: usize = 50;
/// Most co-units.
pub const CO_UNITS_MAX: usize = 20;
/// Longest campaign, in days.
pub const PERIOD_MAX_DAYS: i64 = 366;
/// A period may have begun this many days before its adoption at most (a campaign already
/// under way when the topic is recorded).
pub const PERIOD_BACK_DAYS: i64 = 366;
/// A task is due soon this many days before its due date.
pub const DUE_SOON_DAYS: i64 = 3;

fn text(field: &str, s: &str, max: usize) -> Result<String, DomainError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    if t.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            format!("at most {max} characters"),
        ));
    }
    if t.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(DomainError::invalid(field, "control characters"));
    }
    Ok(t.to_string())
}

fn digits(field: &str, s: &str, lengths: &[usize]) -> Result<(), DomainError> {
    if !lengths.contains(&s.len()) || !s.chars().all(|c| c.is_ascii_digit()) {
        return Err(DomainError::invalid(
            field,
            format!(
                "a code of {} digits",
                lengths
                    .iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    Ok(())
}

impl TopicProposal {
    /// The proposal with its texts trimmed, or which field breaks which rule.
    pub fn checked(&self) -> Result<TopicProposal, DomainError> {
        digits("category_code", &self.scope.category_code, &[2, 4, 6])?;
        if let Some(d) = &self.scope.division_code {
            digits("division_code", d, &[6, 9, 12])?;
        }
        Ok(TopicProposal {
            title: text("title", &self.title, TITLE_MAX)?,
            problem: text("problem", &self.problem, TEXT_MAX)?,
            scope: self.scope.clone(),
            source: self
                .source
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| text("source", s, TEXT_MAX))
                .transpose()?,
        })
    }
}

/// One supervision of a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TaskSupervision {
    /// 1 催办, 2 书面督办, 3 挂牌督办.
    pub level: u8,
    pub note: String,
    pub by: i64,
    pub at: DateTime<Utc>,
}

/// A task of an adopted topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TopicTask {
    /// 1, 2, … in the order the leader listed them.
    pub no: u32,
    pub title: String,
    pub unit_id: i64,
    /// The business day it is due by (inclusive).
    pub due: NaiveDate,
    /// The unit's reports, newest last.
    pub reports: Vec<TaskReport>,
    /// The business day it was reported done.
    pub done_on: Option<NaiveDate>,
    pub supervisions: Vec<TaskSupervision>,
    /// The business day its unit was reminded that it nears its due day (once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminded_on: Option<NaiveDate>,
}

/// What a unit did on a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TaskReport {
    pub text: String,
    /// Whether this report says the task is done.
    pub done: bool,
    pub by: i64,
    pub at: DateTime<Utc>,
}

/// A policy the topic is to issue (治理政策).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TopicPolicy {
    pub no: u32,
    pub title: String,
    /// The unit that drafts and issues it.
    pub unit_id: i64,
    /// The document number (文号) and the day it was issued, once it is.
    pub reference: Option<String>,
    pub issued_on: Option<NaiveDate>,
}

/// A task as the leader lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTask {
    pub title: String,
    pub unit_id: i64,
    pub due: NaiveDate,
}

/// A policy as the leader lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPolicy {
    pub title: String,
    pub unit_id: i64,
}

/// What a leader decides when adopting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Adoption {
    pub lead_unit_id: i64,
    #[serde(default)]
    pub co_unit_ids: Vec<i64>,
    /// The campaign's first and last business days.
    pub starts: NaiveDate,
    pub ends: NaiveDate,
    pub tasks: Vec<NewTask>,
    #[serde(default)]
    pub policies: Vec<NewPolicy>,
}

/// A monthly topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Topic {
    pub id: i64,
    pub version: i64,
    pub state: TopicState,
    #[serde(flatten)]
    pub proposal: TopicProposal,
    pub proposed_by: i64,
    pub proposed_at: DateTime<Utc>,
    /// Set at adoption.
    pub adoption: Option<Adoption>,
    pub tasks: Vec<TopicTask>,
    pub policies: Vec<TopicPolicy>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The reason it was declined, or the summary it was closed with.
    pub note: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl Topic {
    /// A new proposal.
    pub fn propose(
        proposal: &TopicProposal,
        by: i64,
        at: DateTime<Utc>,
    ) -> Result<Topic, DomainError> {
        Ok(Topic {
            id: 0,
            version: 0,
            state: TopicState::Proposed,
            proposal: proposal.checked()?,
            proposed_by: by,
            proposed_at: at,
            adoption: None,
            tasks: vec![],
            policies: vec![],
            decided_by: None,
            decided_at: None,
            note: None,
            closed_at: None,
        })
    }

    /// Every unit with a part: the lead, the co-units, the tasks' and policies' units.
    pub fn units(&self) -> Vec<i64> {
        let mut out = Vec::new();
        if let Some(a) = &self.adoption {
            out.push(a.lead_unit_id);
            out.extend(&a.co_unit_ids);
        }
        out.extend(self.tasks.iter().map(|t| t.unit_id));
        out.extend(self.policies.iter().map(|p| p.unit_id));
        let mut seen = std::collections::BTreeSet::new();
        out.retain(|u| seen.insert(*u));
        out
    }
}

/// A step of a topic's life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicStep {
    /// A leader adopts a proposed topic.
    Adopt(Adoption),
    /// A leader declines a proposed topic.
    Decline { reason: String },
    /// The task's unit reports what it did (and whether the task is done).
    Report { task: u32, text: String, done: bool },
    /// A supervisor presses an open task: one level higher each time, three at most.
    Supervise { task: u32, note: String },
    /// The policy's unit (or a leader) records a policy issued.
    Issue {
        policy: u32,
        reference: String,
        issued_on: NaiveDate,
    },
    /// A leader closes an adopted topic with its summary.
    Close { summary: String },
}

impl TopicStep {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Adopt(_) => "adopt",
            Self::Decline { .. } => "decline",
            Self::Report { .. } => "report",
            Self::Supervise { .. } => "supervise",
            Self::Issue { .. } => "issue",
            Self::Close { .. } => "close",
        }
    }
}

/// A task's deadline status on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Open,
    /// Due within [`DUE_SOON_DAYS`].
    DueSoon,
    Overdue,
    Done,
    /// Done after its due day.
    DoneLate,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::DueSoon => "due_soon",
            Self::Overdue => "overdue",
            Self::Done => "done",
            Self::DoneLate => "done_late",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Self::Open => "推进中",
            Self::DueSoon => "即将到期",
            Self::Overdue => "已逾期",
            Self::Done => "按期完成",
            Self::DoneLate => "逾期完成",
        }
    }
}

impl TopicTask {
    /// The task's status on `today` (a business day).
    pub fn status(&self, today: NaiveDate) -> TaskStatus {
        // Done later than `today` is not done yet on `today` (a report as of a past day).
        match self.done_on.filter(|d| *d <= today) {
            Some(d) if d <= self.due => TaskStatus::Done,
            Some(_) => TaskStatus::DoneLate,
            None if today > self.due => TaskStatus::Overdue,
            None if (self.due - today).num_days() <= DUE_SOON_DAYS => TaskStatus::DueSoon,
            None => TaskStatus::Open,
        }
    }

    /// The highest supervision level pressed (0 none).
    pub fn supervision_level(&self) -> u8 {
        self.supervisions.iter().map(|s| s.level).max().unwrap_or(0)
    }
}

/// The note of the supervision the server presses on an overdue task.
pub const OVERDUE_NOTE: &str = "逾期未完成，系统自动催办";

/// What watching an adopted topic on `today` does to it, as the deadline watcher does for
/// tickets: a task due within [`DUE_SOON_DAYS`] has its unit reminded once; an overdue task
/// no one has pressed yet is pressed at the first level (催办) by the server (user 0), once —
/// the higher levels stay a supervisor's. `None` when there is nothing to do.
pub fn watch(topic: &Topic, today: NaiveDate, at: DateTime<Utc>) -> Option<Topic> {
    if topic.state != TopicState::Adopted {
        return None;
    }
    let mut next = topic.clone();
    let mut changed = false;
    for task in &mut next.tasks {
        match task.status(today) {
            TaskStatus::DueSoon if task.reminded_on.is_none() => {
                task.reminded_on = Some(today);
                changed = true;
            }
            TaskStatus::Overdue if task.supervisions.is_empty() => {
                task.supervisions.push(TaskSupervision {
                    level: 1,
                    note: OVERDUE_NOTE.into(),
                    by: 0,
                    at,
                });
                changed = true;
            }
            _ => {}
        }
    }
    changed.then_some(next)
}

fn check_adoption(a: &Adoption, today: NaiveDate) -> Result<Adoption, DomainError> {
    if a.ends < a.starts {
        return Err(DomainError::invalid("ends", "on or after `starts`"));
    }
    if (a.ends - a.starts).num_days() >= PERIOD_MAX_DAYS {
        return Err(DomainError::invalid(
            "ends",
            format!("a campaign lasts at most {PERIOD_MAX_DAYS} days"),
        ));
    }
    if a.starts < today - Duration::days(PERIOD_BACK_DAYS) {
        return Err(DomainError::invalid(
            "starts",
            format!("at most {PERIOD_BACK_DAYS} days before today"),
        ));
    }
    if a.tasks.is_empty() {
        return Err(DomainError::invalid(
            "tasks",
            "a topic is adopted with at least one task",
        ));
    }
    if a.tasks.len() > ITEMS_MAX || a.policies.len() > ITEMS_MAX {
        return Err(DomainError::invalid(
            "tasks",
            format!("at most {ITEMS_MAX} tasks and {ITEMS_MAX} policies"),
        ));
    }
    if a.co_unit_ids.len() > CO_UNITS_MAX {
        return Err(DomainError::invalid(
            "co_unit_ids",
            format!("at most {CO_UNITS_MAX} co-units"),
        ));
    }
    let mut co = Vec::new();
    for u in &a.co_unit_ids {
        if *u == a.lead_unit_id {
            return Err(DomainError::invalid(
                "co_unit_ids",
                "the lead unit is not also a co-unit",
            ));
        }
        if !co.contains(u) {
            co.push(*u);
        }
    }
    let mut tasks = Vec::new();
    for (i, t) in a.tasks.iter().enumerate() {
        if t.due < a.starts {
            return Err(DomainError::invalid(
                format!("tasks[{i}].due"),
                "on or after the campaign's first day",
            ));
        }
        tasks.push(NewTask {
            title: text(&format!("tasks[{i}].title"), &t.title, TITLE_MAX * 2)?,
            ..t.clone()
        });
    }
    let mut policies = Vec::new();
    for (i, p) in a.policies.iter().enumerate() {
        policies.push(NewPolicy {
            title: text(&format!("policies[{i}].title"), &p.title, TITLE_MAX * 2)?,
            ..p.clone()
        });
    }
    Ok(Adoption {
        co_unit_ids: co,
        tasks,
        policies,
        ..a.clone()
    })
}

/// Takes a step on `today` (the business day of `at`); the topic as it then is, or why not
/// (nothing changes). Who may take it is the application's check.
pub fn step(
    topic: &Topic,
    step: TopicStep,
    user_id: i64,
    at: DateTime<Utc>,
    today: NaiveDate,
) -> Result<Topic, DomainError> {
    use TopicState::*;
    let refuse = |why: String| DomainError::Refused {
        code: "topic_state",
        message: why,
    };
    let out_of_turn = || {
        refuse(format!(
            "a topic that is {} cannot be given the step `{}`",
            topic.state.as_str(),
            step.name()
        ))
    };
    let mut next = topic.clone();
    match (topic.state, step.clone()) {
        (Proposed, TopicStep::Adopt(a)) => {
            let a = check_adoption(&a, today)?;
            next.tasks = a
                .tasks
                .iter()
                .enumerate()
                .map(|(i, t)| TopicTask {
                    no: i as u32 + 1,
                    title: t.title.clone(),
                    unit_id: t.unit_id,
                    due: t.due,
                    reports: vec![],
                    done_on: None,
                    supervisions: vec![],
                    reminded_on: None,
                })
                .collect();
            next.policies = a
                .policies
                .iter()
                .enumerate()
                .map(|(i, p)| TopicPolicy {
                    no: i as u32 + 1,
                    title: p.title.clone(),
                    unit_id: p.unit_id,
                    reference: None,
                    issued_on: None,
                })
                .collect();
            next.adoption = Some(a);
            next.state = Adopted;
            next.decided_by = Some(user_id);
            next.decided_at = Some(at);
        }
        (Proposed, TopicStep::Decline { reason }) => {
            next.note = Some(text("reason", &reason, 1_000)?);
            next.state = Declined;
            next.decided_by = Some(user_id);
            next.decided_at = Some(at);
        }
        (
            Adopted,
            TopicStep::Report {
                task,
                text: t,
                done,
            },
        ) => {
            let task = task_of(&mut next, task)?;
            if task.done_on.is_some() {
                return Err(refuse(format!("task {} is already done", task.no)));
            }
            task.reports.push(TaskReport {
                text: text("text", &t, TEXT_MAX)?,
                done,
                by: user_id,
                at,
            });
            if done {
                task.done_on = Some(today);
            }
        }
        (Adopted, TopicStep::Supervise { task, note }) => {
            let task = task_of(&mut next, task)?;
            if task.done_on.is_some() {
                return Err(refuse(format!("task {} is already done", task.no)));
            }
            let level = task.supervision_level();
            if level >= 3 {
                return Err(refuse(format!(
                    "task {} is already at the highest level of supervision",
                    task.no
                )));
            }
            task.supervisions.push(TaskSupervision {
                level: level + 1,
                note: text("note", &note, 1_000)?,
                by: user_id,
                at,
            });
        }
        (
            Adopted,
            TopicStep::Issue {
                policy,
                reference,
                issued_on,
            },
        ) => {
            let p = next
                .policies
                .iter_mut()
                .find(|p| p.no == policy)
                .ok_or_else(|| DomainError::invalid("policy", format!("no policy {policy}")))?;
            if p.issued_on.is_some() {
                return Err(refuse(format!("policy {} is already issued", p.no)));
            }
            if issued_on > today {
                return Err(DomainError::invalid("issued_on", "not after today"));
            }
            p.reference = Some(text("reference", &reference, 100)?);
            p.issued_on = Some(issued_on);
        }
        (Adopted, TopicStep::Close { summary }) => {
            next.note = Some(text("summary", &summary, TEXT_MAX)?);
            next.state = Closed;
            next.closed_at = Some(at);
        }
        _ => return Err(out_of_turn()),
    }
    Ok(next)
}

fn task_of(topic: &mut Topic, no: u32) -> Result<&mut TopicTask, DomainError> {
    topic
        .tasks
        .iter_mut()
        .find(|t| t.no == no)
        .ok_or_else(|| DomainError::invalid("task", format!("no task {no}")))
}

/// A stretch of days a topic's volume is read over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Before,
    During,
    After,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Before => "before",
            Self::During => "during",
            Self::After => "after",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Self::Before => "开展前",
            Self::During => "开展中",
            Self::After => "开展后",
        }
    }
}

/// The days a topic's volume is compared over: the campaign (`starts..=ends`), as many days
/// right before it, and as many right after it — each cut at `today`, and left out when it
/// has not begun. A proposed topic (no period yet) reads the 30 days to `today` as "before".
pub fn phases(
    period: Option<(NaiveDate, NaiveDate)>,
    today: NaiveDate,
) -> Vec<(Phase, NaiveDate, NaiveDate)> {
    let Some((starts, ends)) = period else {
        return vec![(Phase::Before, today - Duration::days(29), today)];
    };
    let len = (ends - starts).num_days() + 1;
    let mut out = vec![(
        Phase::Before,
        starts - Duration::days(len),
        (starts - Duration::days(1)).min(today),
    )];
    if starts <= today {
        out.push((Phase::During, starts, ends.min(today)));
    }
    let after = ends + Duration::days(1);
    if after <= today {
        out.push((Phase::After, after, (ends + Duration::days(len)).min(today)));
    }
    out.retain(|(_, from, to)| from <= to);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, 2, 0, 0).unwrap()
    }

    fn proposal() -> TopicProposal {
        TopicProposal {
            title: " 老旧小区供暖不热 ".into(),
            problem: "供暖季以来，多个老旧小区反映室温不达标。".into(),
            scope: TopicScope {
                category_code: "0301".into(),
                division_code: Some("630102".into()),
            },
            source: Some("供暖 37 件".into()),
        }
    }

    fn adoption() -> Adoption {
        Adoption {
            lead_unit_id: 3,
            co_unit_ids: vec![4, 4, 5],
            starts: d(11, 1),
            ends: d(11, 30),
            tasks: vec![
                NewTask {
                    title: "排查全部老旧小区管网".into(),
                    unit_id: 3,
                    due: d(11, 10),
                },
                NewTask {
                    title: "督促供热企业整改".into(),
                    unit_id: 4,
                    due: d(11, 20),
                },
            ],
            policies: vec![NewPolicy {
                title: "老旧小区供热保障办法".into(),
                unit_id: 3,
            }],
        }
    }

    fn adopted() -> Topic {
        let t = Topic::propose(&proposal(), 7, at()).unwrap();
        step(&t, TopicStep::Adopt(adoption()), 9, at(), d(11, 2)).unwrap()
    }

    #[test]
    fn a_proposal_is_checked_and_trimmed() {
        let t = Topic::propose(&proposal(), 7, at()).unwrap();
        assert_eq!(t.state, TopicState::Proposed);
        assert_eq!(t.proposal.title, "老旧小区供暖不热");
        let mut p = proposal();
        p.scope.category_code = "03a".into();
        assert_eq!(
            Topic::propose(&p, 7, at()).unwrap_err().to_string(),
            "category_code: a code of 2, 4, 6 digits"
        );
        let mut p = proposal();
        p.scope.division_code = Some("6301".into());
        assert_eq!(
            Topic::propose(&p, 7, at()).unwrap_err().to_string(),
            "division_code: a code of 6, 9, 12 digits"
        );
        let mut p = proposal();
        p.problem = "  ".into();
        assert_eq!(
            Topic::propose(&p, 7, at()).unwrap_err().to_string(),
            "problem: must not be empty"
        );
        let mut p = proposal();
        p.title = "a\u{0}b".into();
        assert_eq!(
            Topic::propose(&p, 7, at()).unwrap_err().to_string(),
            "title: control characters"
        );
    }

    #[test]
    fn adoption_numbers_the_tasks_and_policies() {
        let t = adopted();
        assert_eq!(t.state, TopicState::Adopted);
        assert_eq!(t.decided_by, Some(9));
        assert_eq!(t.adoption.as_ref().unwrap().co_unit_ids, vec![4, 5]);
        assert_eq!(
            t.tasks
                .iter()
                .map(|t| (t.no, t.unit_id))
                .collect::<Vec<_>>(),
            vec![(1, 3), (2, 4)]
        );
        assert_eq!(t.policies[0].no, 1);
        assert_eq!(t.units(), vec![3, 4, 5]);
    }

    #[test]
    fn adoption_rules() {
        let t = Topic::propose(&proposal(), 7, at()).unwrap();
        type Change = Box<dyn Fn(&mut Adoption)>;
        let cases: Vec<(Change, &str)> = vec![
            (
                Box::new(|a| a.ends = d(10, 1)),
                "ends: on or after `starts`",
            ),
            (
                Box::new(|a| a.tasks.clear()),
                "tasks: a topic is adopted with at least one task",
            ),
            (
                Box::new(|a| a.co_unit_ids = vec![3]),
                "co_unit_ids: the lead unit is not also a co-unit",
            ),
            (
                Box::new(|a| a.tasks[1].due = d(10, 31)),
                "tasks[1].due: on or after the campaign's first day",
            ),
            (
                Box::new(|a| {
                    a.starts = NaiveDate::from_ymd_opt(2025, 10, 1).unwrap();
                    a.ends = a.starts;
                    a.tasks.iter_mut().for_each(|t| t.due = a.starts);
                }),
                "starts: at most 366 days before today",
            ),
            (
                Box::new(|a| a.ends = NaiveDate::from_ymd_opt(2027, 12, 1).unwrap()),
                "ends: a campaign lasts at most 366 days",
            ),
            (
                Box::new(|a| a.policies[0].title = "".into()),
                "policies[0].title: must not be empty",
            ),
        ];
        for (change, message) in cases {
            let mut a = adoption();
            change(&mut a);
            let err = step(&t, TopicStep::Adopt(a), 9, at(), d(11, 2)).unwrap_err();
            assert_eq!(err.to_string(), message);
        }
    }

    #[test]
    fn tasks_are_watched_like_tickets() {
        let t = adopted();
        let task = &t.tasks[0];
        assert_eq!(task.status(d(11, 2)), TaskStatus::Open);
        assert_eq!(task.status(d(11, 7)), TaskStatus::DueSoon);
        assert_eq!(task.status(d(11, 10)), TaskStatus::DueSoon);
        assert_eq!(task.status(d(11, 11)), TaskStatus::Overdue);
        // Supervision rises one level each time, three at most.
        let mut t2 = t.clone();
        for level in 1..=3u8 {
            t2 = step(
                &t2,
                TopicStep::Supervise {
                    task: 1,
                    note: "请加快排查".into(),
                },
                5,
                at(),
                d(11, 12),
            )
            .unwrap();
            assert_eq!(t2.tasks[0].supervision_level(), level);
        }
        let err = step(
            &t2,
            TopicStep::Supervise {
                task: 1,
                note: "x".into(),
            },
            5,
            at(),
            d(11, 12),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "task 1 is already at the highest level of supervision"
        );
        // A report that is not done keeps it open; a done one on time or late.
        let t3 = step(
            &t,
            TopicStep::Report {
                task: 1,
                text: "已排查 12 个小区".into(),
                done: false,
            },
            8,
            at(),
            d(11, 5),
        )
        .unwrap();
        assert_eq!(t3.tasks[0].status(d(11, 5)), TaskStatus::Open);
        let t4 = step(
            &t3,
            TopicStep::Report {
                task: 1,
                text: "全部排查完毕".into(),
                done: true,
            },
            8,
            at(),
            d(11, 9),
        )
        .unwrap();
        assert_eq!(t4.tasks[0].status(d(11, 20)), TaskStatus::Done);
        assert_eq!(t4.tasks[0].reports.len(), 2);
        let late = step(
            &t3,
            TopicStep::Report {
                task: 1,
                text: "全部排查完毕".into(),
                done: true,
            },
            8,
            at(),
            d(11, 12),
        )
        .unwrap();
        assert_eq!(late.tasks[0].status(d(11, 20)), TaskStatus::DoneLate);
        // As of a day before it was done, it was overdue.
        assert_eq!(late.tasks[0].status(d(11, 11)), TaskStatus::Overdue);
        assert_eq!(
            step(
                &t4,
                TopicStep::Report {
                    task: 1,
                    text: "再报".into(),
                    done: true
                },
                8,
                at(),
                d(11, 12)
            )
            .unwrap_err()
            .to_string(),
            "task 1 is already done"
        );
        assert_eq!(
            step(
                &t,
                TopicStep::Report {
                    task: 9,
                    text: "x".into(),
                    done: true
                },
                8,
                at(),
                d(11, 12)
            )
            .unwrap_err()
            .to_string(),
            "task: no task 9"
        );
    }

    #[test]
    fn policies_are_issued_once_and_topics_closed_once() {
        let t = adopted();
        let issue = |t: &Topic, on: NaiveDate| {
            step(
                t,
                TopicStep::Issue {
                    policy: 1,
                    reference: "宁政办〔2026〕12号".into(),
                    issued_on: on,
                },
                9,
                at(),
                d(11, 20),
            )
        };
        assert_eq!(
            issue(&t, d(11, 21)).unwrap_err().to_string(),
            "issued_on: not after today"
        );
        let t = issue(&t, d(11, 19)).unwrap();
        assert_eq!(
            t.policies[0].reference.as_deref(),
            Some("宁政办〔2026〕12号")
        );
        assert_eq!(
            issue(&t, d(11, 19)).unwrap_err().to_string(),
            "policy 1 is already issued"
        );
        let t = step(
            &t,
            TopicStep::Close {
                summary: "整改完成".into(),
            },
            9,
            at(),
            d(12, 1),
        )
        .unwrap();
        assert_eq!(t.state, TopicState::Closed);
        assert_eq!(t.closed_at, Some(at()));
        for s in [
            TopicStep::Close {
                summary: "again".into(),
            },
            TopicStep::Adopt(adoption()),
            TopicStep::Supervise {
                task: 2,
                note: "x".into(),
            },
        ] {
            let err = step(&t, s, 9, at(), d(12, 1)).unwrap_err();
            assert!(
                matches!(
                    err,
                    DomainError::Refused {
                        code: "topic_state",
                        ..
                    }
                ),
                "{err:?}"
            );
        }
        let proposed = Topic::propose(&proposal(), 7, at()).unwrap();
        let declined = step(
            &proposed,
            TopicStep::Decline {
                reason: "已有专项行动".into(),
            },
            9,
            at(),
            d(11, 2),
        )
        .unwrap();
        assert_eq!(declined.state, TopicState::Declined);
        assert_eq!(declined.note.as_deref(), Some("已有专项行动"));
    }

    #[test]
    fn phases_compare_equal_stretches_cut_at_today() {
        let p = Some((d(11, 1), d(11, 10)));
        assert_eq!(
            phases(p, d(11, 25)),
            vec![
                (Phase::Before, d(10, 22), d(10, 31)),
                (Phase::During, d(11, 1), d(11, 10)),
                (Phase::After, d(11, 11), d(11, 20)),
            ]
        );
        assert_eq!(
            phases(p, d(11, 14)),
            vec![
                (Phase::Before, d(10, 22), d(10, 31)),
                (Phase::During, d(11, 1), d(11, 10)),
                (Phase::After, d(11, 11), d(11, 14)),
            ]
        );
        assert_eq!(
            phases(p, d(11, 4)),
            vec![
                (Phase::Before, d(10, 22), d(10, 31)),
                (Phase::During, d(11, 1), d(11, 4)),
            ]
        );
        // Not begun: only the days before, up to today.
        assert_eq!(
            phases(p, d(10, 25)),
            vec![(Phase::Before, d(10, 22), d(10, 25))]
        );
        assert_eq!(
            phases(None, d(11, 30)),
            vec![(Phase::Before, d(11, 1), d(11, 30))]
        );
    }

    #[test]
    fn the_watch_reminds_a_task_near_its_day_once_and_presses_an_overdue_one_once() {
        let t = adopted();
        // Task 1 is due 11-10, task 2 11-20 (DUE_SOON_DAYS = 3).
        assert_eq!(watch(&t, d(11, 6), at()), None);
        let w = watch(&t, d(11, 7), at()).unwrap();
        assert_eq!(w.tasks[0].reminded_on, Some(d(11, 7)));
        assert_eq!(w.tasks[1].reminded_on, None);
        assert_eq!(watch(&w, d(11, 9), at()), None, "reminded once");
        let late = watch(&w, d(11, 11), at()).unwrap();
        assert_eq!(
            late.tasks[0].supervisions,
            vec![TaskSupervision {
                level: 1,
                note: "逾期未完成，系统自动催办".into(),
                by: 0,
                at: at(),
            }]
        );
        assert_eq!(watch(&late, d(11, 12), at()), None, "pressed once");
        // A task a supervisor pressed before it was late is not pressed again by the watch;
        // a done task, a closed topic: nothing.
        let pressed = step(
            &t,
            TopicStep::Supervise {
                task: 2,
                note: "抓紧".into(),
            },
            8,
            at(),
            d(11, 2),
        )
        .unwrap();
        let w = watch(&pressed, d(11, 21), at()).unwrap();
        assert_eq!(w.tasks[1].supervisions.len(), 1);
        assert_eq!(w.tasks[0].supervisions.len(), 1, "task 1 is late too");
        let done = step(
            &t,
            TopicStep::Report {
                task: 1,
                text: "完成".into(),
                done: true,
            },
            5,
            at(),
            d(11, 5),
        )
        .unwrap();
        assert_eq!(watch(&done, d(11, 8), at()), None);
    }
}
