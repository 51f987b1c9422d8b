//! Open data (数据开放): the monthly release, made by the server itself for the month just
//! ended (exactly once across instances: the store keeps one revision 1 a month) and again on
//! demand by a leader or an administrator (the next revision); read by anyone. The figures
//! are the console's, from the same aggregates and the same formulas; what is withheld is
//! decided by `mashangban_domain::open_data`.

use chrono::{DateTime, Utc};
use mashangban_domain::Actor;
use mashangban_domain::aggregates::{Dim, business_day};
use mashangban_domain::open_data::{
    Release, count_cells, month_period, previous_month, unit_figures, week_cells,
};
use mashangban_domain::permission::Permission;
pub use mashangban_store::ReleaseSummary;

use crate::kpis::{Period, group_name};
use crate::{App, AppError, SERVER, require};

fn month_of(month: &str) -> Result<Period, AppError> {
    let (from, to) = month_period(month)
        .ok_or_else(|| AppError::invalid("month", format!("`{month}` is not a month (YYYY-MM)")))?;
    Ok(Period { from, to })
}

impl App {
    /// A month's figures as a release, computed now.
    async fn compute_release(
        &self,
        month: &str,
        revision: i64,
        at: DateTime<Utc>,
    ) -> Result<Release, AppError> {
        let period = month_of(month)?;
        let r = self.reference().await?;
        let policy = self.kpi_policy(&SERVER).await?;
        let cells = |dim: Dim, tallies: std::collections::HashMap<String, mashangban_domain::kpi::Tally>| {
            count_cells(
                tallies
                    .into_iter()
                    .filter(|(g, _)| !g.is_empty())
                    .map(|(g, t)| (g.clone(), group_name(&r, dim, &g), t.requests))
                    .collect(),
            )
        };
        let city = self.group_tallies(Dim::City, period).await?;
        let requests = city.values().map(|t| t.requests).sum();
        let by_channel = cells(
            Dim::Channel,
            self.group_tallies(Dim::Channel, period).await?,
        );
        let by_category_l1 = cells(
            Dim::CategoryL1,
            self.group_tallies(Dim::CategoryL1, period).await?,
        );
        let by_category_l2 = cells(
            Dim::CategoryL2,
            self.group_tallies(Dim::CategoryL2, period).await?,
        );
        let by_district = cells(
            Dim::District,
            self.group_tallies(Dim::District, period).await?,
        );
        let days: Vec<(chrono::NaiveDate, u64)> = self
            .store
            .kpi_tallies(Dim::City, period.from, period.to, true)
            .await?
            .into_iter()
            .filter_map(|g| g.day.map(|d| (d, g.tally.requests)))
            .collect();
        let by_week = week_cells(&days);
        let mut units: Vec<_> = self
            .group_tallies(Dim::Unit, period)
            .await?
            .into_iter()
            .filter_map(|(g, t)| {
                let id = g.parse::<i64>().ok()?;
                Some(unit_figures(id, group_name(&r, Dim::Unit, &g), &t, &policy))
            })
            .collect();
        units.sort_by_key(|u| u.unit_id);
        Ok(Release {
            month: month.to_string(),
            from: period.from,
            to: period.to,
            revision,
            generated_at: at,
            threshold: mashangban_domain::open_data::SMALL_CELL,
            requests,
            by_channel,
            by_category_l1,
            by_category_l2,
            by_district,
            by_week,
            units,
        })
    }

    /// Makes a month's release again (a leader's or an administrator's): the next revision.
    /// A month not yet ended is refused: its figures are still moving.
    pub async fn release_open_data_at(
        &self,
        actor: &Actor,
        month: &str,
        at: DateTime<Utc>,
    ) -> Result<Release, AppError> {
        require(actor, Permission::PublishData)?;
        let period = month_of(month)?;
        if period.to >= business_day(at) {
            return Err(AppError::invalid(
                "month",
                format!("{month} has not ended: a month is released once it is over"),
            ));
        }
        for _ in 0..3 {
            let revision = self
                .store
                .release(month, None)
                .await?
                .map_or(1, |r| r.revision + 1);
            let release = self.compute_release(month, revision, at).await?;
            if self.store.add_release(&release, actor.user_id).await? {
                return Ok(release);
            }
        }
        Err(AppError::Conflict {
            code: "busy",
            message: format!("{month} is being released by someone else; try again"),
        })
    }

    /// The scheduled release: the month just ended, if it has none yet (any instance may
    /// run it; one release is kept). Returns it when this call made it.
    pub async fn publish_due_release_at(
        &self,
        at: DateTime<Utc>,
    ) -> Result<Option<Release>, AppError> {
        let month = previous_month(business_day(at));
        if self.store.release(&month, None).await?.is_some() {
            return Ok(None);
        }
        let release = self.compute_release(&month, 1, at).await?;
        Ok(self
            .store
            .add_release(&release, SERVER.user_id)
            .await?
            .then_some(release))
    }

    /// Every release (open to anyone).
    pub async fn open_data_releases(&self) -> Result<Vec<ReleaseSummary>, AppError> {
        Ok(self.store.releases().await?)
    }

    /// A month's release, that revision or the newest (open to anyone).
    pub async fn open_data_release(
        &self,
        month: &str,
        revision: Option<i64>,
    ) -> Result<Release, AppError> {
        month_of(month)?;
        self.store
            .release(month, revision)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no release of {month}")))
    }
}
