//! The seasonal early view (民情月历): the requests each issue group (second-level category)
//! is expected to bring in the coming month, against the same month of previous years,
//! read from the evaluation aggregates month by month; the model and its back-test are the
//! domain's (`mashangban_domain::seasonal`).

use chrono::{Datelike, Duration, NaiveDate};
use mashangban_domain::Actor;
use mashangban_domain::aggregates::Dim;
use mashangban_domain::permission::Permission;
use mashangban_domain::seasonal::{SeasonalBacktest, SeasonalRules, outlook};
use serde::Serialize;
use std::collections::BTreeMap;

use crate::{App, AppError, require};

/// Months of history read, at most (the model uses three previous years and the months
/// before them).
pub const HISTORY_MONTHS: usize = 60;

/// One year's count of the month.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SameMonth {
    pub year: i32,
    pub requests: u64,
}

/// One issue group's outlook for the month.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OutlookRow {
    pub category_code: String,
    pub category_name: String,
    pub expected: f64,
    /// The 80 % interval (none before enough back-tested months).
    pub low: Option<f64>,
    pub high: Option<f64>,
    /// The same month in previous years, newest first.
    pub same_month: Vec<SameMonth>,
    /// The expectation against last year's same month, as a fraction (0.2 = a fifth more).
    pub change_on_last_year: Option<f64>,
    /// This group's back-tested error (weighted absolute percentage error).
    pub wape: Option<f64>,
}

/// The coming month's outlook.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SeasonalOutlook {
    /// The day it is read as of, and the month it forecasts (`YYYY-MM`): the month after.
    pub as_of: NaiveDate,
    pub month: String,
    /// The complete months it is made from (`YYYY-MM`); none without history.
    pub history_from: Option<String>,
    pub history_to: String,
    pub rules: SeasonalRules,
    pub rows: Vec<OutlookRow>,
    pub backtest: SeasonalBacktest,
    /// The interval's coverage on the back-tested months it was not fitted on.
    pub coverage: Option<f64>,
}

/// The first day of the month `n` months after `day`'s (negative: before).
fn month_start(day: NaiveDate, n: i32) -> NaiveDate {
    let index = day.year() * 12 + day.month0() as i32 + n;
    NaiveDate::from_ymd_opt(index.div_euclid(12), index.rem_euclid(12) as u32 + 1, 1)
        .expect("a month")
}

fn label(month: NaiveDate) -> String {
    format!("{}-{:02}", month.year(), month.month())
}

impl App {
    /// The outlook of the month after `as_of`'s, from the complete months before `as_of`'s.
    pub async fn seasonal_outlook(
        &self,
        actor: &Actor,
        as_of: NaiveDate,
    ) -> Result<SeasonalOutlook, AppError> {
        require(actor, Permission::ReadFigures)?;
        let rules = SeasonalRules::default();
        let r = self.reference().await?;
        let target = month_start(as_of, 1);
        let last = month_start(as_of, -1);
        // Month by month, oldest first; the series start at the first month with requests.
        let mut months: Vec<(NaiveDate, BTreeMap<String, u64>)> = Vec::new();
        for back in (0..HISTORY_MONTHS as i32).rev() {
            let start = month_start(last, -back);
            let end = month_start(start, 1) - Duration::days(1);
            let rows = self
                .store
                .kpi_tallies(Dim::CategoryL2, start, end, false)
                .await?;
            let counts: BTreeMap<String, u64> = rows
                .into_iter()
                .filter(|g| !g.group.is_empty() && g.tally.requests > 0)
                .map(|g| (g.group, g.tally.requests))
                .collect();
            if months.is_empty() && counts.is_empty() {
                continue;
            }
            months.push((start, counts));
        }
        let keys: std::collections::BTreeSet<String> =
            months.iter().flat_map(|(_, c)| c.keys().cloned()).collect();
        let series: Vec<(String, Vec<u64>)> = keys
            .into_iter()
            .map(|k| {
                let s = months
                    .iter()
                    .map(|(_, c)| c.get(&k).copied().unwrap_or(0))
                    .collect();
                (k, s)
            })
            .collect();
        // The target's index: the months read, then the current one (not complete), then it.
        let o = outlook(&series, months.len() + 1, &rules);
        let rows = o
            .categories
            .into_iter()
            // A group new since (nothing in the same month before, nothing expected) says
            // nothing about the month.
            .filter(|c| c.expected > 0.0 || c.same_month.iter().any(|n| *n > 0))
            .map(|c| {
                let same_month: Vec<SameMonth> = c
                    .same_month
                    .iter()
                    .enumerate()
                    .map(|(k, n)| SameMonth {
                        year: target.year() - k as i32 - 1,
                        requests: *n,
                    })
                    .collect();
                let change_on_last_year = same_month
                    .first()
                    .filter(|m| m.requests > 0)
                    .map(|m| c.expected / m.requests as f64 - 1.0);
                OutlookRow {
                    category_name: r
                        .categories
                        .get(&c.key)
                        .map(|x| x.name.clone())
                        .unwrap_or_else(|| c.key.clone()),
                    category_code: c.key,
                    expected: c.expected,
                    low: c.low,
                    high: c.high,
                    same_month,
                    change_on_last_year,
                    wape: c.wape,
                }
            })
            .collect();
        Ok(SeasonalOutlook {
            as_of,
            month: label(target),
            history_from: months.first().map(|(m, _)| label(*m)),
            history_to: label(last),
            rules,
            rows,
            coverage: o.backtest.coverage(),
            backtest: o.backtest,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_count_across_years() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        assert_eq!(
            month_start(d, 1),
            NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()
        );
        assert_eq!(
            month_start(d, -1),
            NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()
        );
        assert_eq!(
            month_start(d, -24),
            NaiveDate::from_ymd_opt(2024, 12, 1).unwrap()
        );
        assert_eq!(label(month_start(d, -12)), "2025-12");
    }
}
