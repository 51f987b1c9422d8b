//! Deadlines (一盯到底) as use cases: the official calendar (seeded, editable by an
//! administrator), the deadline policy (a setting), and each ticket's clocks.

use crate::{App, AppError};
use chrono::{DateTime, NaiveDate, Utc};
use mashangban_domain::calendar::{Calendar, CalendarDay, DayKind, official_days};
use mashangban_domain::deadlines::{Clock, DeadlinePolicy, clocks, extension_refusal};
use mashangban_domain::{Actor, Ticket};
use std::collections::BTreeSet;

/// The setting that holds the deadline policy (JSON).
pub const POLICY_SETTING: &str = "deadline_policy";

/// A ticket's clocks, as of a time.
#[derive(Debug, Clone, serde::Serialize)]
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
        date: NaiveDate,
        kind: DayKind,
        name: &str,
    ) -> Result<(), AppError> {
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
        Ok(())
    }

    /// Removes an exception: the date follows the weekend rule again.
    pub async fn delete_calendar_day(&self, date: NaiveDate) -> Result<(), AppError> {
        if !self.store.delete_calendar_day(date).await? {
            return Err(AppError::NotFound(format!(
                "{date} is not an exception in the calendar"
            )));
        }
        self.invalidate_reference();
        Ok(())
    }

    /// Marks a year's schedule as published (known) or not.
    pub async fn set_calendar_year(&self, year: i32, known: bool) -> Result<(), AppError> {
        if !(2000..=2100).contains(&year) {
            return Err(AppError::invalid("year", "must be between 2000 and 2100"));
        }
        self.store.set_calendar_year(year, known).await?;
        self.invalidate_reference();
        Ok(())
    }

    /// Replaces the deadline policy (checked first; takes effect at once here).
    pub async fn set_policy(&self, body: serde_json::Value) -> Result<DeadlinePolicy, AppError> {
        let p: DeadlinePolicy = serde_path_to_error::deserialize(body).map_err(|e| {
            let path = e.path().to_string();
            AppError::invalid(
                if path == "." { "body".into() } else { path },
                e.inner().to_string(),
            )
        })?;
        if !(1..=100).contains(&p.warn_at_percent) {
            return Err(AppError::invalid(
                "warn_at_percent",
                "must be between 1 and 100",
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
        Ok(p)
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
        let r = self.reference().await?;
        let events = self.store.ticket_events(id).await?;
        Ok(Deadlines {
            ticket_id: id,
            now,
            tier: ticket.tier,
            clocks: clocks(&events, ticket.tier, &r.policy, &r.calendar, now),
        })
    }

    /// Why the lead unit may not ask for an extension now, if it may not.
    pub(crate) async fn extension_refused(
        &self,
        ticket: &Ticket,
        at: DateTime<Utc>,
    ) -> Result<Option<String>, AppError> {
        let r = self.reference().await?;
        let events = self.store.ticket_events(ticket.id).await?;
        let c = clocks(&events, ticket.tier, &r.policy, &r.calendar, at);
        Ok(extension_refusal(
            &r.policy,
            &c,
            ticket.extensions_approved,
            at,
        ))
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
