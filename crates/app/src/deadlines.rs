//! Deadlines (一盯到底) as use cases: the official calendar (seeded, editable by an
//! administrator), the deadline policy (a setting), and each ticket's clocks.

use crate::{App, AppError, require};
use chrono::{DateTime, NaiveDate, Utc};
use mashangban_domain::calendar::{Calendar, CalendarDay, DayKind, official_days};
use mashangban_domain::deadlines::{Clock, DeadlinePolicy, clocks};
use mashangban_domain::supervision::review;
use mashangban_domain::{Actor, Event, EventKind, Permission, Role, Ticket, apply};
use mashangban_store::{Change, StoreError};
use std::collections::BTreeSet;

/// The setting that holds the deadline policy (JSON).
pub const POLICY_SETTING: &str = "deadline_policy";

/// A ticket's clocks, as of a time.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Deadlines {
    pub ticket_id: i64,
    pub now: DateTime<Utc>,
    pub tier: Option<u8>,
    pub clocks: Vec<Clock>,
}

impl App {
    /// Loads the shipped official schedule for the years the database does not know yet;
    /// years an administrator has published or changed are left as they are.
    pub async fn seed_calendar(&self) -> Result<usize, AppError> {
        let (_, years) = self.store.calendar().await?;
        let known: BTreeSet<i32> = years.into_iter().collect();
        let missing: Vec<CalendarDay> = official_days()
            .into_iter()
            .filter(|d| !known.contains(&chrono::Datelike::year(&d.date)))
            .collect();
        let n = if missing.is_empty() {
            0
        } else {
            self.store.upsert_calendar_days(&missing).await?
        };
        self.invalidate_reference();
        Ok(n)
    }

    /// Adds or changes one exception to the weekend rule; its year becomes known.
    pub async fn set_calendar_day(
        &self,
        actor: &Actor,
        date: NaiveDate,
        kind: DayKind,
        name: &str,
    ) -> Result<(), AppError> {
        require(actor, Permission::ManageReference)?;
        let name = name.trim();
        if name.chars().count() > 20 {
            return Err(AppError::invalid("name", "must be at most 20 characters"));
        }
        self.store
            .upsert_calendar_days(&[CalendarDay {
                date,
                kind,
                name: name.to_string(),
            }])
            .await?;
        self.invalidate_reference();
        self.recompute_deadlines().await?;
        Ok(())
    }

    /// Removes an exception: the date follows the weekend rule again.
    pub async fn delete_calendar_day(
        &self,
        actor: &Actor,
        date: NaiveDate,
    ) -> Result<(), AppError> {
        require(actor, Permission::ManageReference)?;
        if !self.store.delete_calendar_day(date).await? {
            return Err(AppError::NotFound(format!(
                "{date} is not an exception in the calendar"
            )));
        }
        self.invalidate_reference();
        self.recompute_deadlines().await?;
        Ok(())
    }

    /// Marks a year's schedule as published (known) or not.
    pub async fn set_calendar_year(
        &self,
        actor: &Actor,
        year: i32,
        known: bool,
    ) -> Result<(), AppError> {
        require(actor, Permission::ManageReference)?;
        if !(2000..=2100).contains(&year) {
            return Err(AppError::invalid("year", "must be between 2000 and 2100"));
        }
        self.store.set_calendar_year(year, known).await?;
        self.invalidate_reference();
        self.recompute_deadlines().await?;
        Ok(())
    }

    /// The official calendar of a year as in force: its exceptions to the weekend rule and
    /// whether its schedule is known (every signed-in user).
    pub async fn calendar_year(&self, _actor: &Actor, year: i32) -> Result<CalendarYear, AppError> {
        let r = self.reference().await?;
        Ok(CalendarYear {
            year,
            known: r.calendar.knows_year(year),
            known_years: r.calendar.years().collect(),
            days: r.calendar.days_of(year),
        })
    }

    /// The deadline policy in force (every signed-in user).
    pub async fn deadline_policy(&self, _actor: &Actor) -> Result<DeadlinePolicy, AppError> {
        Ok(self.reference().await?.policy.clone())
    }

    /// Replaces the deadline policy (checked first; takes effect at once here). Every field
    /// is required (`extension_cutoff` may be `null`: no daily cut-off) but the supervision
    /// rules and the review share, which keep their defaults when left out.
    pub async fn set_policy(
        &self,
        actor: &Actor,
        body: serde_json::Value,
    ) -> Result<DeadlinePolicy, AppError> {
        require(actor, Permission::ManagePolicies)?;
        crate::every_field_given(
            &body,
            &DeadlinePolicy::default(),
            &["supervision", "review_share_percent", "report_in_hours"],
        )?;
        let p: DeadlinePolicy = crate::from_body(body)?;
        if !(1..=100).contains(&p.warn_at_percent) {
            return Err(AppError::invalid(
                "warn_at_percent",
                "must be between 1 and 100",
            ));
        }
        if !(1..=720).contains(&p.report_in_hours) {
            return Err(AppError::invalid(
                "report_in_hours",
                "must be between 1 and 720 hours",
            ));
        }
        if p.review_share_percent > 90 {
            return Err(AppError::invalid(
                "review_share_percent",
                "must be between 0 and 90: the level below needs some of the time",
            ));
        }
        if p.working_hours.minutes_per_day() == 0 {
            return Err(AppError::invalid(
                "working_hours",
                "a working day must have some working time",
            ));
        }
        if p.sign_within_hours == 0 || p.contact_within_days == 0 || p.callback_within_days == 0 {
            return Err(AppError::invalid(
                "body",
                "sign_within_hours, contact_within_days and callback_within_days must be at least 1",
            ));
        }
        let text = serde_json::to_string(&p).map_err(|e| AppError::Internal(e.to_string()))?;
        self.store
            .set_setting(POLICY_SETTING, &text, Utc::now())
            .await?;
        self.invalidate_reference();
        self.recompute_deadlines().await?;
        Ok(p)
    }

    /// After the policy or the calendar changed: every open ticket's deadlines are computed
    /// again by the watcher's next pass (its next check is set to now). Returns how many.
    pub async fn recompute_deadlines(&self) -> Result<u64, AppError> {
        Ok(self.store.recheck_open_tickets(Utc::now()).await?)
    }

    /// A visible ticket's clocks now.
    pub async fn deadlines(&self, actor: &Actor, id: i64) -> Result<Deadlines, AppError> {
        self.deadlines_at(actor, id, Utc::now()).await
    }

    /// A visible ticket's clocks at a given time.
    pub async fn deadlines_at(
        &self,
        actor: &Actor,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<Deadlines, AppError> {
        let ticket = self.visible_ticket(actor, id).await?;
        let events = self.store.ticket_events(id).await?;
        self.deadlines_of(&ticket, &events, now).await
    }

    /// The clocks of a ticket already read with its events.
    pub async fn deadlines_of(
        &self,
        ticket: &Ticket,
        events: &[Event],
        now: DateTime<Utc>,
    ) -> Result<Deadlines, AppError> {
        let r = self.reference().await?;
        Ok(Deadlines {
            ticket_id: ticket.id,
            now,
            tier: ticket.tier,
            clocks: clocks(events, ticket.tier, &r.policy, &r.calendar, now),
        })
    }
}

/// A year of the official calendar.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CalendarYear {
    pub year: i32,
    /// Whether the year's schedule is published (known).
    pub known: bool,
    pub known_years: Vec<i32>,
    /// The year's exceptions to the weekend rule.
    pub days: Vec<CalendarDay>,
}

/// One unit's line on the supervisor board: its open tickets at risk, overdue, and under
/// each level of supervision.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct BoardLine {
    pub unit_id: Option<i64>,
    pub unit_name: String,
    /// Tickets with a warning (at risk) and none overdue.
    pub at_risk: i64,
    pub overdue: i64,
    pub l1: i64,
    pub l2: i64,
    pub l3: i64,
    /// Supervisions the unit has not answered.
    pub awaiting_answer: i64,
}

impl App {
    /// The supervisor board: by lead unit, most overdue first.
    pub async fn board(&self, actor: &Actor) -> Result<Vec<BoardLine>, AppError> {
        require(actor, Permission::ReadFigures)?;
        let counts = self.store.watch_board().await?;
        let r = self.reference().await?;
        let mut lines: std::collections::BTreeMap<Option<i64>, BoardLine> = Default::default();
        for c in counts {
            let l = lines.entry(c.lead_unit_id).or_insert_with(|| BoardLine {
                unit_id: c.lead_unit_id,
                unit_name: c
                    .lead_unit_id
                    .and_then(|u| r.unit_name(u))
                    .unwrap_or("（未派单）")
                    .to_string(),
                ..Default::default()
            });
            match c.alert_level {
                1 => l.at_risk += c.count,
                2 => l.overdue += c.count,
                _ => {}
            }
            match c.supervision_level {
                1 => l.l1 += c.count,
                2 => l.l2 += c.count,
                3 => l.l3 += c.count,
                _ => {}
            }
            if c.awaiting_answer {
                l.awaiting_answer += c.count;
            }
        }
        let mut out: Vec<BoardLine> = lines.into_values().collect();
        out.sort_by(|a, b| {
            (b.l3, b.overdue, b.l2, b.at_risk)
                .cmp(&(a.l3, a.overdue, a.l2, a.at_risk))
                .then(a.unit_name.cmp(&b.unit_name))
        });
        Ok(out)
    }
}

/// Who records what the deadline watcher finds (user id 0: the system itself).
pub const SYSTEM_ACTOR: Actor = Actor {
    user_id: 0,
    role: Role::Supervisor,
    unit_id: None,
};

/// What one pass of the deadline watcher did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct WatchReport {
    /// Tickets whose next deadline had come.
    pub visited: usize,
    pub warned: usize,
    pub breached: usize,
    /// Supervisions raised by the policy's rules.
    pub supervised: usize,
    /// Tickets changed meanwhile by someone else (another watcher, a user): left to them.
    pub conflicts: usize,
}

impl WatchReport {
    fn add(&mut self, other: WatchReport) {
        self.warned += other.warned;
        self.breached += other.breached;
        self.supervised += other.supervised;
        self.conflicts += other.conflicts;
    }
}

/// Tickets the watcher reads and writes together.
const WATCH_BATCH: usize = 1000;
/// Batches the watcher writes at the same time.
const WRITES_IN_FLIGHT: usize = 3;

impl App {
    /// The next moment the watcher must look at a ticket (whose events so far are given)
    /// once these new events are written (now, if something is already due).
    pub(crate) async fn next_deadline_after(
        &self,
        ticket: &Ticket,
        history: &[Event],
        new: &[EventKind],
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, AppError> {
        let r = self.reference().await?;
        let mut events = history.to_vec();
        let mut view = Some(ticket.clone());
        for e in mashangban_domain::appended(ticket, new, *actor, at) {
            view = apply(view, &e);
            events.push(e);
        }
        let Some(view) = view else { return Ok(None) };
        let found = review(&view, &events, &r.policy, &r.calendar, at);
        Ok(if found.record.is_empty() {
            found.next
        } else {
            Some(at)
        })
    }

    /// One pass of the deadline watcher at `now`: every ticket whose next deadline has come
    /// gets its warnings and breaches recorded (once per clock and due point, whatever the
    /// number of watchers: a ticket changed meanwhile is left to whoever changed it) and its
    /// next deadline moved on. Tickets are read and written in batches.
    pub async fn watch_deadlines_at(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<WatchReport, AppError> {
        let started = std::time::Instant::now();
        let (mut reading, mut computing) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
        let ids = self.store.due_tickets(now, limit).await?;
        let found_due = started.elapsed();
        let mut report = WatchReport {
            visited: ids.len(),
            ..Default::default()
        };
        let r = self.reference().await?;
        // Batches are written while the next ones are read and computed, a few at a time
        // (PostgreSQL writes them on connections of their own; SQLite commits them together).
        let mut writing: std::collections::VecDeque<
            tokio::task::JoinHandle<Result<WatchReport, AppError>>,
        > = Default::default();
        // Each batch's tickets and events are read (together) while the batch before is
        // computed.
        let read = |batch: Vec<i64>| {
            let store = self.store.clone();
            tokio::spawn(async move {
                tokio::try_join!(store.get_tickets(&batch), store.ticket_events_many(&batch))
            })
        };
        let batches: Vec<Vec<i64>> = ids.chunks(WATCH_BATCH).map(<[i64]>::to_vec).collect();
        let mut next_read = batches.first().cloned().map(read);
        for i in 0..batches.len() {
            let read_started = std::time::Instant::now();
            let Some(pending) = next_read.take() else {
                break;
            };
            let (tickets, all_events) = pending
                .await
                .map_err(|e| AppError::Internal(e.to_string()))??;
            next_read = batches.get(i + 1).cloned().map(read);
            reading += read_started.elapsed();
            let compute_started = std::time::Instant::now();
            let mut by_ticket: std::collections::HashMap<i64, Vec<Event>> =
                std::collections::HashMap::new();
            for e in all_events {
                by_ticket.entry(e.ticket_id).or_default().push(e);
            }
            let mut changes = Vec::new();
            let mut moves = Vec::new();
            for ticket in tickets {
                let events = by_ticket.remove(&ticket.id).unwrap_or_default();
                if events.last().map(|e| e.seq) != Some(ticket.version) {
                    // Read between two writes: leave it to the next pass.
                    report.conflicts += 1;
                    continue;
                }
                match look(&r, ticket, &events, now) {
                    Look::Change(c) => changes.push(*c),
                    Look::Move(m) => moves.push(m),
                }
            }
            computing += compute_started.elapsed();
            if writing.len() >= WRITES_IN_FLIGHT
                && let Some(previous) = writing.pop_front()
            {
                report.add(
                    previous
                        .await
                        .map_err(|e| AppError::Internal(e.to_string()))??,
                );
            }
            let app = self.clone();
            writing.push_back(tokio::spawn(async move {
                app.write_watched(changes, moves, now).await
            }));
        }
        while let Some(previous) = writing.pop_front() {
            report.add(
                previous
                    .await
                    .map_err(|e| AppError::Internal(e.to_string()))??,
            );
        }
        if !ids.is_empty() {
            tracing::debug!(
                due_ms = found_due.as_millis() as u64,
                read_ms = reading.as_millis() as u64,
                compute_ms = computing.as_millis() as u64,
                total_ms = started.elapsed().as_millis() as u64,
                "watcher pass"
            );
        }
        Ok(report)
    }

    /// The watcher's look at one ticket at `now`, whatever its next deadline says: for
    /// imports of historical requests and the demo, which replay a ticket's life step by
    /// step and must see its deadlines pass between the steps as a running watcher would.
    pub async fn watch_ticket_at(
        &self,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<WatchReport, AppError> {
        let r = self.reference().await?;
        let Some(ticket) = self.store.get_ticket(id).await? else {
            return Err(AppError::NotFound(format!("ticket {id} not found")));
        };
        let events = self.store.ticket_events(id).await?;
        let mut report = match look(&r, ticket, &events, now) {
            Look::Change(c) => self.write_watched(vec![*c], Vec::new(), now).await?,
            Look::Move(m) => self.write_watched(Vec::new(), vec![m], now).await?,
        };
        report.visited = 1;
        Ok(report)
    }

    /// Writes what one batch of the watcher found: the moved deadlines, then the alerts (all
    /// in one transaction; if another writer got to one of them first, each on its own).
    async fn write_watched(
        &self,
        changes: Vec<Change>,
        moves: Vec<(i64, i64, Option<DateTime<Utc>>)>,
        now: DateTime<Utc>,
    ) -> Result<WatchReport, AppError> {
        let mut report = WatchReport::default();
        let started = std::time::Instant::now();
        if !moves.is_empty() {
            report.conflicts += self.store.set_next_deadlines(&moves).await?.len();
        }
        let moved = started.elapsed();
        if changes.is_empty() {
            return Ok(report);
        }
        let count = |changes: &[Change]| {
            let mut r = WatchReport::default();
            for k in changes.iter().flat_map(|c| &c.events) {
                match k {
                    EventKind::DeadlineWarned { .. } => r.warned += 1,
                    EventKind::DeadlineBreached { .. } => r.breached += 1,
                    EventKind::Supervised { .. } => r.supervised += 1,
                    _ => {}
                }
            }
            r
        };
        let committing = std::time::Instant::now();
        let result = self.store.commit(changes.clone(), SYSTEM_ACTOR, now).await;
        tracing::debug!(
            moves = moves.len(),
            move_ms = moved.as_millis() as u64,
            changes = changes.len(),
            commit_ms = committing.elapsed().as_millis() as u64,
            "watcher batch written"
        );
        match result {
            Ok(_) => report.add(count(&changes)),
            Err(StoreError::Conflict) => {
                for change in changes {
                    let found = count(std::slice::from_ref(&change));
                    match self.store.commit(vec![change], SYSTEM_ACTOR, now).await {
                        Ok(_) => report.add(found),
                        Err(StoreError::Conflict) => report.conflicts += 1,
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            Err(e) => return Err(e.into()),
        }
        Ok(report)
    }
}

/// The policy in a setting's text, or the default (a bad stored value is logged).
pub(crate) fn policy_from(text: Option<String>) -> DeadlinePolicy {
    match text.map(|t| serde_json::from_str::<DeadlinePolicy>(&t)) {
        Some(Ok(p)) => p,
        Some(Err(e)) => {
            tracing::error!(error = %e, "stored deadline policy unreadable; using the default");
            DeadlinePolicy::default()
        }
        None => DeadlinePolicy::default(),
    }
}

/// The calendar from stored rows.
pub(crate) fn calendar_from(days: Vec<CalendarDay>, years: Vec<i32>) -> Calendar {
    Calendar::new(days, years)
}

/// What the watcher does with one ticket at `now`.
enum Look {
    /// Record these alerts (with their notices) and move the next deadline.
    Change(Box<Change>),
    /// Nothing to record: only move the next deadline (`id, version, next`).
    Move((i64, i64, Option<DateTime<Utc>>)),
}

fn look(r: &crate::Reference, ticket: Ticket, events: &[Event], now: DateTime<Utc>) -> Look {
    let found = review(&ticket, events, &r.policy, &r.calendar, now);
    if found.record.is_empty() {
        return Look::Move((ticket.id, ticket.version, found.next));
    }
    let notices = crate::notify::plan(r, &ticket, &found.record, &SYSTEM_ACTOR, now);
    Look::Change(Box::new(Change {
        before: ticket,
        events: found.record,
        next_deadline: Some(found.next),
        notices,
    }))
}
