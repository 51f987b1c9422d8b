//! Monthly topics (每月一题): proposing a topic from the hot issues, a leader's adoption with
//! units, tasks and policies, the tasks watched and supervised, and the volume of the
//! topic's requests before, during and after its campaign read from the aggregates. The
//! rules of the steps are the domain's (`mashangban_domain::topics`); who may take them is
//! the permission table's.

use chrono::{Duration, NaiveDate, Utc};
use mashangban_domain::Actor;
use mashangban_domain::aggregates::business_day;
use mashangban_domain::permission::{
    Permission, may_read_some_topic, may_read_topic, may_work_on_topic, permits,
};
use mashangban_domain::topics::{
    Adoption, NewPolicy, NewTask, Phase, TaskStatus, Topic, TopicProposal, TopicState, TopicStep,
    phases, step,
};
use mashangban_store::TopicChange;
use serde::{Deserialize, Serialize};

use crate::{App, AppError, require};

/// Which topics to list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TopicQuery {
    /// `proposed`, `adopted`, `closed` or `declined`; all when left out.
    pub state: Option<String>,
}

/// The steps a topic is given, by name (the last part of its path).
pub const TOPIC_STEPS: [&str; 6] = ["adopt", "decline", "report", "supervise", "issue", "close"];

/// A step asked for: the version the topic was read at and the step's own fields
/// (`adopt`: `lead_unit_id`, `co_unit_ids`, `starts`, `ends`, `tasks`, `policies`;
/// `decline`: `reason`; `report`: `task`, `text`, `done`; `supervise`: `task`, `note`;
/// `issue`: `policy`, `reference`, `issued_on`; `close`: `summary`).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopicStepInput {
    pub version: i64,
    pub lead_unit_id: Option<i64>,
    pub co_unit_ids: Option<Vec<i64>>,
    pub starts: Option<NaiveDate>,
    pub ends: Option<NaiveDate>,
    pub tasks: Option<Vec<NewTask>>,
    pub policies: Option<Vec<NewPolicy>>,
    pub task: Option<u32>,
    pub text: Option<String>,
    pub done: Option<bool>,
    pub note: Option<String>,
    pub reason: Option<String>,
    pub policy: Option<u32>,
    pub reference: Option<String>,
    pub issued_on: Option<NaiveDate>,
    pub summary: Option<String>,
}

/// A task with its status on the day it is read.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TaskView {
    pub no: u32,
    pub status: TaskStatus,
    /// The highest supervision level pressed (0 none, 1 催办, 2 书面督办, 3 挂牌督办).
    pub supervision_level: u8,
}

/// The requests of a topic's scope over one phase.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PhaseVolume {
    pub phase: Phase,
    /// Business days, both included.
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub days: i64,
    pub requests: u64,
    /// Requests a day (the phases may differ in length while the campaign runs).
    pub per_day: f64,
}

/// One day's requests of the scope.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DayVolume {
    pub day: NaiveDate,
    pub phase: Phase,
    pub requests: u64,
}

/// The volume of a topic's scope before, during and after its campaign, from the
/// evaluation aggregates (the requests counted on the business day they came in).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TopicVolume {
    pub today: NaiveDate,
    pub phases: Vec<PhaseVolume>,
    pub days: Vec<DayVolume>,
    /// The change of requests a day from before to after (or to during, before the campaign
    /// ends), as a fraction (-0.25 = a quarter fewer); none without requests before.
    pub change: Option<f64>,
}

/// A topic with what the console and the API show of it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TopicDetail {
    pub topic: Topic,
    pub tasks: Vec<TaskView>,
    pub volume: TopicVolume,
    pub history: Vec<TopicChange>,
}

/// A topic in a list: the topic and its tasks' statuses.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TopicSummary {
    pub topic: Topic,
    pub tasks: Vec<TaskView>,
}

/// A task of an adopted topic not done yet, for a unit's desk and the supervision board.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OpenTask {
    pub topic_id: i64,
    pub topic_title: String,
    pub no: u32,
    pub title: String,
    pub unit_id: i64,
    pub due: NaiveDate,
    pub status: TaskStatus,
    pub supervision_level: u8,
}

/// A topic's line in the monthly report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TopicReportLine {
    pub id: i64,
    pub title: String,
    pub state: TopicState,
    pub lead_unit: Option<String>,
    pub tasks: usize,
    pub tasks_done: usize,
    pub tasks_overdue: usize,
    pub policies: usize,
    pub policies_issued: usize,
    /// The scope's requests in the month (to date) and a day on average, and a day on
    /// average before the campaign.
    pub month_requests: u64,
    pub month_per_day: f64,
    pub before_per_day: Option<f64>,
    /// The line in the report's words.
    pub text: String,
}

fn views(topic: &Topic, today: NaiveDate) -> Vec<TaskView> {
    topic
        .tasks
        .iter()
        .map(|t| TaskView {
            no: t.no,
            status: t.status(today),
            supervision_level: t.supervision_level(),
        })
        .collect()
}

fn required<T>(value: Option<T>, field: &str, step: &str) -> Result<T, AppError> {
    value.ok_or_else(|| AppError::invalid(field, format!("required for `{step}`")))
}

/// The step a request asks for, from its name and fields (fields another step takes are
/// refused, so that a mistaken step changes nothing).
fn step_of(name: &str, i: TopicStepInput) -> Result<TopicStep, AppError> {
    let allowed: &[&str] = match name {
        "adopt" => &[
            "lead_unit_id",
            "co_unit_ids",
            "starts",
            "ends",
            "tasks",
            "policies",
        ],
        "decline" => &["reason"],
        "report" => &["task", "text", "done"],
        "supervise" => &["task", "note"],
        "issue" => &["policy", "reference", "issued_on"],
        "close" => &["summary"],
        _ => return Err(AppError::NotFound(format!("no topic step `{name}`"))),
    };
    let given = [
        ("lead_unit_id", i.lead_unit_id.is_some()),
        ("co_unit_ids", i.co_unit_ids.is_some()),
        ("starts", i.starts.is_some()),
        ("ends", i.ends.is_some()),
        ("tasks", i.tasks.is_some()),
        ("policies", i.policies.is_some()),
        ("task", i.task.is_some()),
        ("text", i.text.is_some()),
        ("done", i.done.is_some()),
        ("note", i.note.is_some()),
        ("reason", i.reason.is_some()),
        ("policy", i.policy.is_some()),
        ("reference", i.reference.is_some()),
        ("issued_on", i.issued_on.is_some()),
        ("summary", i.summary.is_some()),
    ];
    if let Some((field, _)) = given
        .iter()
        .find(|(f, given)| *given && !allowed.contains(f))
    {
        return Err(AppError::invalid(
            *field,
            format!("not a field of `{name}`"),
        ));
    }
    Ok(match name {
        "adopt" => TopicStep::Adopt(Adoption {
            lead_unit_id: required(i.lead_unit_id, "lead_unit_id", name)?,
            co_unit_ids: i.co_unit_ids.unwrap_or_default(),
            starts: required(i.starts, "starts", name)?,
            ends: required(i.ends, "ends", name)?,
            tasks: required(i.tasks, "tasks", name)?,
            policies: i.policies.unwrap_or_default(),
        }),
        "decline" => TopicStep::Decline {
            reason: required(i.reason, "reason", name)?,
        },
        "report" => TopicStep::Report {
            task: required(i.task, "task", name)?,
            text: required(i.text, "text", name)?,
            done: i.done.unwrap_or(false),
        },
        "supervise" => TopicStep::Supervise {
            task: required(i.task, "task", name)?,
            note: required(i.note, "note", name)?,
        },
        "issue" => TopicStep::Issue {
            policy: required(i.policy, "policy", name)?,
            reference: required(i.reference, "reference", name)?,
            issued_on: required(i.issued_on, "issued_on", name)?,
        },
        _ => TopicStep::Close {
            summary: required(i.summary, "summary", name)?,
        },
    })
}

/// Whether the actor may give the step at all, before the body or the topic is read (a 403
/// names the permission): the unit's own steps are checked again against the task's unit.
fn may_ask(actor: &Actor, name: &str) -> Result<(), AppError> {
    match name {
        "adopt" | "decline" | "close" => require(actor, Permission::AdoptTopics),
        "supervise" => require(actor, Permission::SuperviseTopics),
        "report" => require(actor, Permission::WorkTopicTasks),
        "issue" if permits(actor.role, Permission::AdoptTopics) => Ok(()),
        "issue" => require(actor, Permission::WorkTopicTasks),
        _ => Err(AppError::NotFound(format!("no topic step `{name}`"))),
    }
}

/// The unit's own steps: the task's or policy's unit, and nobody else's handlers.
fn may_take_on(actor: &Actor, topic: &Topic, step: &TopicStep) -> Result<(), AppError> {
    let unit = match step {
        TopicStep::Report { task, .. } => topic
            .tasks
            .iter()
            .find(|t| t.no == *task)
            .map(|t| t.unit_id),
        TopicStep::Issue { policy, .. } if !permits(actor.role, Permission::AdoptTopics) => topic
            .policies
            .iter()
            .find(|p| p.no == *policy)
            .map(|p| p.unit_id),
        _ => return Ok(()),
    };
    match unit {
        // No such task or policy: the domain names it.
        None => Ok(()),
        Some(u) if may_work_on_topic(actor, u) => Ok(()),
        Some(_) => Err(AppError::Forbidden(
            "only a handler of the unit it is given to reports on it".into(),
        )),
    }
}

/// Whether the role may read some topic at all (the handlers of a unit: the topics their
/// unit has a part in).
fn may_read_topics(actor: &Actor) -> Result<(), AppError> {
    if may_read_some_topic(actor.role) {
        return Ok(());
    }
    require(actor, Permission::ReadFigures)
}

fn state_of(q: &TopicQuery) -> Result<Option<TopicState>, AppError> {
    q.state
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| {
            TopicState::parse(s).ok_or_else(|| {
                AppError::invalid("state", "one of proposed, adopted, closed, declined")
            })
        })
        .transpose()
}

/// The adopted topics a pass of the watch reads at most.
const TOPICS_WATCHED: u32 = 500;

/// The outbox rows of a topic's step (see `topic_notices::notices_of`): each opens the topic
/// (a new proposal, the list of topics).
fn topic_notice_rows(
    r: &crate::Reference,
    before: Option<&Topic>,
    after: &Topic,
    at: chrono::DateTime<Utc>,
) -> Vec<mashangban_store::NewNotice> {
    let link = match before {
        Some(_) => format!("/topics/{}", after.id),
        None => "/topics".to_string(),
    };
    mashangban_domain::topic_notices::notices_of(before, after)
        .iter()
        .flat_map(|n| {
            let payload = serde_json::json!({
                "text": n.text,
                "topic_id": (after.id > 0).then_some(after.id),
                "link": link,
            });
            crate::notify::notice_rows(r, n, payload, after.version + 1, at)
        })
        .collect()
}

impl App {
    /// Proposes a topic (from a hot issue, or the evaluation): its scope must name a known
    /// category and, if given, a known division.
    pub async fn propose_topic(
        &self,
        actor: &Actor,
        body: serde_json::Value,
    ) -> Result<Topic, AppError> {
        require(actor, Permission::ProposeTopics)?;
        let proposal: TopicProposal = crate::from_body(body)?;
        let topic = Topic::propose(&proposal, actor.user_id, Utc::now())?;
        let r = self.reference().await?;
        if !r
            .categories
            .contains_key(&topic.proposal.scope.category_code)
        {
            return Err(AppError::invalid("category_code", "no such category"));
        }
        if let Some(d) = &topic.proposal.scope.division_code
            && !r.divisions.contains_key(d)
        {
            return Err(AppError::invalid("division_code", "no such division"));
        }
        let at = Utc::now();
        let notices = topic_notice_rows(&r, None, &topic, at);
        Ok(self
            .store
            .write_topic(topic, actor.user_id, at, notices)
            .await?)
    }

    /// Topics the actor may read, newest first (a unit's handlers: those their unit has a
    /// part in).
    pub async fn topics(
        &self,
        actor: &Actor,
        q: &TopicQuery,
    ) -> Result<Vec<TopicSummary>, AppError> {
        may_read_topics(actor)?;
        let state = state_of(q)?;
        let today = business_day(Utc::now());
        Ok(self
            .store
            .topics(state, 500)
            .await?
            .into_iter()
            .filter(|t| may_read_topic(actor, &t.units()))
            .map(|t| TopicSummary {
                tasks: views(&t, today),
                topic: t,
            })
            .collect())
    }

    async fn readable_topic(&self, actor: &Actor, id: i64) -> Result<Topic, AppError> {
        may_read_topics(actor)?;
        let topic = self
            .store
            .topic(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("topic {id} not found")))?;
        if !may_read_topic(actor, &topic.units()) {
            // A unit with no part in it does not learn that it exists.
            return Err(AppError::NotFound(format!("topic {id} not found")));
        }
        Ok(topic)
    }

    /// A topic with its tasks' statuses, its volume and its history.
    pub async fn topic_detail(&self, actor: &Actor, id: i64) -> Result<TopicDetail, AppError> {
        let topic = self.readable_topic(actor, id).await?;
        let today = business_day(Utc::now());
        Ok(TopicDetail {
            tasks: views(&topic, today),
            volume: self.topic_volume(&topic, today).await?,
            history: self.store.topic_history(id).await?,
            topic,
        })
    }

    /// The volume of a topic's scope over its phases on `today`, from the aggregates.
    pub async fn topic_volume(
        &self,
        topic: &Topic,
        today: NaiveDate,
    ) -> Result<TopicVolume, AppError> {
        let period = topic.adoption.as_ref().map(|a| (a.starts, a.ends));
        let stretches = phases(period, today);
        let (Some(first), Some(last)) = (
            stretches.iter().map(|s| s.1).min(),
            stretches.iter().map(|s| s.2).max(),
        ) else {
            return Ok(TopicVolume {
                today,
                phases: vec![],
                days: vec![],
                change: None,
            });
        };
        let scope = &topic.proposal.scope;
        let counts = self
            .store
            .kpi_scope_requests(
                first,
                last,
                &scope.category_code,
                scope.division_code.as_deref(),
            )
            .await?;
        Ok(volume_of(&stretches, &counts, today))
    }

    /// Watches the adopted topics' tasks on `now`'s business day (`topics::watch`): a task
    /// near its due day has its unit reminded, an overdue one no one pressed is pressed
    /// (催办), each once and told as a step is. A topic another instance changed meanwhile
    /// is left to the next pass. Returns the topics changed.
    pub async fn watch_topics_at(&self, now: chrono::DateTime<Utc>) -> Result<usize, AppError> {
        let today = business_day(now);
        let r = self.reference().await?;
        let mut changed = 0;
        for topic in self
            .store
            .topics(Some(TopicState::Adopted), TOPICS_WATCHED)
            .await?
        {
            let Some(next) = mashangban_domain::topics::watch(&topic, today, now) else {
                continue;
            };
            let notices = topic_notice_rows(&r, Some(&topic), &next, now);
            match self
                .store
                .write_topic(next, crate::SERVER.user_id, now, notices)
                .await
            {
                Ok(_) => changed += 1,
                Err(mashangban_store::StoreError::Conflict) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(changed)
    }

    /// Takes a step on a topic at the version it was read.
    pub async fn topic_step(
        &self,
        actor: &Actor,
        id: i64,
        name: &str,
        body: serde_json::Value,
    ) -> Result<Topic, AppError> {
        may_ask(actor, name)?;
        let input: TopicStepInput = crate::from_body(body)?;
        let version = input.version;
        let wanted = step_of(name, input)?;
        let topic = self.readable_topic(actor, id).await?;
        if topic.version != version {
            return Err(AppError::Conflict {
                code: "conflict",
                message: format!(
                    "topic {id} changed since it was read (version {} now)",
                    topic.version
                ),
            });
        }
        may_take_on(actor, &topic, &wanted)?;
        if let TopicStep::Adopt(a) = &wanted {
            self.check_units(a).await?;
        }
        let at = Utc::now();
        let next = step(&topic, wanted, actor.user_id, at, business_day(at))?;
        let notices = topic_notice_rows(&*self.reference().await?, Some(&topic), &next, at);
        Ok(self
            .store
            .write_topic(next, actor.user_id, at, notices)
            .await?)
    }

    /// The tasks of adopted topics not done yet, the most urgent first: a unit's handlers
    /// their own unit's, whoever reads the city's figures or supervises every unit's.
    pub async fn open_topic_tasks(&self, actor: &Actor) -> Result<Vec<OpenTask>, AppError> {
        may_read_topics(actor)?;
        let whole_city = permits(actor.role, Permission::ReadFigures)
            || permits(actor.role, Permission::ProposeTopics);
        let today = business_day(Utc::now());
        let mut out: Vec<OpenTask> = self
            .store
            .topics(Some(TopicState::Adopted), 500)
            .await?
            .iter()
            .flat_map(|tp| tp.tasks.iter().map(move |t| (tp, t)))
            .filter(|(_, t)| t.done_on.is_none())
            .filter(|(_, t)| whole_city || may_work_on_topic(actor, t.unit_id))
            .map(|(tp, t)| OpenTask {
                topic_id: tp.id,
                topic_title: tp.proposal.title.clone(),
                no: t.no,
                title: t.title.clone(),
                unit_id: t.unit_id,
                due: t.due,
                status: t.status(today),
                supervision_level: t.supervision_level(),
            })
            .collect();
        out.sort_by_key(|t| (t.due, t.topic_id, t.no));
        Ok(out)
    }

    /// Every unit an adoption names exists and is active.
    async fn check_units(&self, a: &Adoption) -> Result<(), AppError> {
        let r = self.reference().await?;
        let known = |field: String, id: i64| -> Result<(), AppError> {
            match r.units.get(&id) {
                Some(u) if u.active => Ok(()),
                _ => Err(AppError::invalid(field, format!("no active unit {id}"))),
            }
        };
        known("lead_unit_id".into(), a.lead_unit_id)?;
        for (i, u) in a.co_unit_ids.iter().enumerate() {
            known(format!("co_unit_ids[{i}]"), *u)?;
        }
        for (i, t) in a.tasks.iter().enumerate() {
            known(format!("tasks[{i}].unit_id"), t.unit_id)?;
        }
        for (i, p) in a.policies.iter().enumerate() {
            known(format!("policies[{i}].unit_id"), p.unit_id)?;
        }
        Ok(())
    }

    /// The topics of the monthly report: those adopted whose campaign overlaps the month
    /// `from..=to`, or closed within it.
    pub async fn topics_of_month(
        &self,
        actor: &Actor,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<TopicReportLine>, AppError> {
        require(actor, Permission::ReadFigures)?;
        let r = self.reference().await?;
        let today = business_day(Utc::now());
        let mut lines = Vec::new();
        for topic in self.store.topics(None, 500).await? {
            let Some(a) = topic.adoption.clone() else {
                continue;
            };
            let closed_in = topic
                .closed_at
                .map(business_day)
                .is_some_and(|d| d >= from && d <= to);
            let overlaps = a.starts <= to && a.ends >= from;
            if !overlaps && !closed_in {
                continue;
            }
            let scope = &topic.proposal.scope;
            let month: u64 = self
                .store
                .kpi_scope_requests(
                    from,
                    to,
                    &scope.category_code,
                    scope.division_code.as_deref(),
                )
                .await?
                .iter()
                .map(|(_, n)| n)
                .sum();
            let volume = self.topic_volume(&topic, today).await?;
            let before = volume
                .phases
                .iter()
                .find(|p| p.phase == Phase::Before)
                .map(|p| p.per_day);
            let month_days = (to - from).num_days() + 1;
            let on = to.min(today);
            let views = views(&topic, on);
            let done = views
                .iter()
                .filter(|v| matches!(v.status, TaskStatus::Done | TaskStatus::DoneLate))
                .count();
            let overdue = views
                .iter()
                .filter(|v| v.status == TaskStatus::Overdue)
                .count();
            let issued = topic
                .policies
                .iter()
                .filter(|p| p.issued_on.is_some_and(|d| d <= to))
                .count();
            let lead = r.unit_name(a.lead_unit_id).map(str::to_string);
            let mut line = TopicReportLine {
                id: topic.id,
                title: topic.proposal.title.clone(),
                state: topic.state,
                lead_unit: lead,
                tasks: views.len(),
                tasks_done: done,
                tasks_overdue: overdue,
                policies: topic.policies.len(),
                policies_issued: issued,
                month_requests: month,
                month_per_day: month as f64 / month_days as f64,
                before_per_day: before,
                text: String::new(),
            };
            line.text = report_text(&line);
            lines.push(line);
        }
        lines.sort_by_key(|l| l.id);
        Ok(lines)
    }
}

/// The volume from a scope's day counts (days without requests left out) over the phases.
pub fn volume_of(
    stretches: &[(Phase, NaiveDate, NaiveDate)],
    counts: &[(NaiveDate, u64)],
    today: NaiveDate,
) -> TopicVolume {
    let mut phases_out = Vec::new();
    let mut days = Vec::new();
    for (phase, from, to) in stretches {
        let mut requests = 0;
        let mut day = *from;
        while day <= *to {
            let n = counts
                .iter()
                .find(|(d, _)| *d == day)
                .map_or(0, |(_, n)| *n);
            requests += n;
            days.push(DayVolume {
                day,
                phase: *phase,
                requests: n,
            });
            day += Duration::days(1);
        }
        let n_days = (*to - *from).num_days() + 1;
        phases_out.push(PhaseVolume {
            phase: *phase,
            from: *from,
            to: *to,
            days: n_days,
            requests,
            per_day: requests as f64 / n_days as f64,
        });
    }
    let rate = |p: Phase| phases_out.iter().find(|v| v.phase == p).map(|v| v.per_day);
    let change = match (
        rate(Phase::Before),
        rate(Phase::After).or(rate(Phase::During)),
    ) {
        (Some(b), Some(a)) if b > 0.0 => Some(a / b - 1.0),
        _ => None,
    };
    TopicVolume {
        today,
        phases: phases_out,
        days,
        change,
    }
}

fn report_text(l: &TopicReportLine) -> String {
    let mut s = format!("“{}”", l.title);
    if let Some(u) = &l.lead_unit {
        s.push_str(&format!("（牵头单位：{u}）"));
    }
    s.push_str(&format!(
        "：{}，任务{}项，已完成{}项",
        l.state.zh(),
        l.tasks,
        l.tasks_done
    ));
    if l.tasks_overdue > 0 {
        s.push_str(&format!("，逾期未完成{}项", l.tasks_overdue));
    }
    if l.policies > 0 {
        s.push_str(&format!(
            "；拟出台政策{}项，已出台{}项",
            l.policies, l.policies_issued
        ));
    }
    s.push_str(&format!(
        "。本月相关诉求{}件，日均{:.1}件",
        l.month_requests, l.month_per_day
    ));
    if let Some(b) = l.before_per_day {
        s.push_str(&format!("，开展前日均{b:.1}件"));
    }
    s.push('。');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    #[test]
    fn volume_sums_each_phase_and_compares_a_day_on_average() {
        let stretches = phases(Some((d(11, 1), d(11, 10))), d(11, 25));
        let counts = vec![
            (d(10, 22), 4),
            (d(10, 31), 6),
            (d(11, 3), 3),
            (d(11, 12), 1),
            (d(11, 20), 1),
            (d(11, 21), 9),
        ];
        let v = volume_of(&stretches, &counts, d(11, 25));
        let figures: Vec<(Phase, i64, u64)> = v
            .phases
            .iter()
            .map(|p| (p.phase, p.days, p.requests))
            .collect();
        assert_eq!(
            figures,
            vec![
                (Phase::Before, 10, 10),
                (Phase::During, 10, 3),
                (Phase::After, 10, 2)
            ]
        );
        assert_eq!(v.days.len(), 30);
        assert_eq!(v.change, Some(-0.8));
    }

    #[test]
    fn a_step_takes_only_its_own_fields() {
        let i = TopicStepInput {
            version: 1,
            summary: Some("x".into()),
            ..Default::default()
        };
        assert_eq!(
            step_of("decline", i.clone()).unwrap_err().to_string(),
            "summary: not a field of `decline`"
        );
        assert!(matches!(
            step_of("close", i.clone()),
            Ok(TopicStep::Close { .. })
        ));
        assert!(matches!(step_of("vote", i), Err(AppError::NotFound(_))));
        let e = step_of(
            "report",
            TopicStepInput {
                version: 1,
                task: Some(1),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "text: required for `report`");
    }
}
