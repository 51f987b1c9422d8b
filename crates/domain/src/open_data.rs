//! Open data (数据开放): the monthly release of the hotline's figures for anyone to download
//! — requests by channel, category (levels 1 and 2), district and week; the response,
//! resolution and satisfaction rates of each unit — with no figure small enough to point at
//! a person.
//!
//! Small cells: a count from 1 to [`SMALL_CELL`]` - 1` is withheld (`null`, marked
//! `suppressed`); when a table would then have exactly one withheld cell, its total and the
//! others would give it away, so the smallest other non-zero count is withheld too
//! (complementary suppression). A rate is withheld when fewer than [`SMALL_CELL`] callbacks
//! stand behind it. Zero is published: it says nothing about anyone.

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::kpi::{KpiPolicy, Tally, kpis};

/// The smallest count published (counts 1–4 are withheld).
pub const SMALL_CELL: u64 = 5;

/// One published count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CountCell {
    /// The group's code: a channel, a category or division code, a week's Monday.
    pub key: String,
    pub name: String,
    /// Requests received; `null` when withheld.
    pub requests: Option<u64>,
    pub suppressed: bool,
}

/// One unit's published figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UnitFigures {
    pub unit_id: i64,
    pub unit: String,
    /// Requests dispatched to the unit; `null` when withheld.
    pub requests: Option<u64>,
    /// Callbacks about its requests; `null` when withheld.
    pub callbacks: Option<u64>,
    /// 响应率, 解决率, 满意率 (0..1), as the console computes them; `null` when withheld
    /// (fewer than [`SMALL_CELL`] callbacks asked) or when nothing was asked.
    pub response_rate: Option<f64>,
    pub resolution_rate: Option<f64>,
    pub satisfaction_rate: Option<f64>,
    /// Whether any figure of the row was withheld.
    pub suppressed: bool,
}

/// A month's release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Release {
    /// `YYYY-MM`.
    pub month: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// 1 for the first release of the month; a release made again is the next.
    pub revision: i64,
    pub generated_at: chrono::DateTime<chrono::Utc>,
    /// The smallest count published.
    pub threshold: u64,
    /// Requests of the month in all (never withheld: the city is not a person).
    pub requests: u64,
    pub by_channel: Vec<CountCell>,
    pub by_category_l1: Vec<CountCell>,
    pub by_category_l2: Vec<CountCell>,
    pub by_district: Vec<CountCell>,
    /// By week: the week's Monday as its key (the first and last weeks cut to the month).
    pub by_week: Vec<CountCell>,
    pub units: Vec<UnitFigures>,
}

/// The tables of a release, by the name their CSV files take.
pub const TABLES: [&str; 6] = [
    "channel",
    "category_l1",
    "category_l2",
    "district",
    "week",
    "units",
];

/// The month `YYYY-MM` as its first and last days.
pub fn month_period(month: &str) -> Option<(NaiveDate, NaiveDate)> {
    let (y, m) = month.split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    let from = NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1)?;
    let next = if from.month() == 12 {
        NaiveDate::from_ymd_opt(from.year() + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(from.year(), from.month() + 1, 1)?
    };
    Some((from, next - Duration::days(1)))
}

/// The month before the one `day` is in, as `YYYY-MM`.
pub fn previous_month(day: NaiveDate) -> String {
    let first = day.with_day(1).unwrap_or(day);
    let last = first - Duration::days(1);
    format!("{:04}-{:02}", last.year(), last.month())
}

/// The Monday of the week a day is in.
pub fn week_of(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// Counts as cells, largest first (then by key), with small cells withheld.
pub fn count_cells(mut groups: Vec<(String, String, u64)>) -> Vec<CountCell> {
    groups.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    let mut cells: Vec<CountCell> = groups
        .into_iter()
        .map(|(key, name, n)| {
            let small = n > 0 && n < SMALL_CELL;
            CountCell {
                key,
                name,
                requests: (!small).then_some(n),
                suppressed: small,
            }
        })
        .collect();
    complement(&mut cells);
    cells
}

/// One withheld cell alone would be given away by the total: withhold the smallest other
/// non-zero count too.
fn complement(cells: &mut [CountCell]) {
    if cells.iter().filter(|c| c.suppressed).count() != 1 {
        return;
    }
    if let Some(c) = cells
        .iter_mut()
        .filter(|c| !c.suppressed && c.requests.is_some_and(|n| n > 0))
        .min_by_key(|c| c.requests)
    {
        c.requests = None;
        c.suppressed = true;
    }
}

/// Counts in weeks (by their Monday), in order, cells of the month only.
pub fn week_cells(days: &[(NaiveDate, u64)]) -> Vec<CountCell> {
    let mut weeks: Vec<(NaiveDate, u64)> = Vec::new();
    for (day, n) in days {
        let w = week_of(*day);
        match weeks.iter_mut().find(|(k, _)| *k == w) {
            Some((_, total)) => *total += n,
            None => weeks.push((w, *n)),
        }
    }
    weeks.sort_by_key(|(w, _)| *w);
    let mut cells: Vec<CountCell> = weeks
        .into_iter()
        .map(|(w, n)| {
            let small = n > 0 && n < SMALL_CELL;
            CountCell {
                key: w.to_string(),
                name: format!("{w} 起一周"),
                requests: (!small).then_some(n),
                suppressed: small,
            }
        })
        .collect();
    complement(&mut cells);
    cells
}

/// A unit's published figures from its tally (`requests` there being what was dispatched
/// to it): counts below the threshold withheld, each rate only over enough callbacks.
pub fn unit_figures(unit_id: i64, unit: String, t: &Tally, policy: &KpiPolicy) -> UnitFigures {
    let k = kpis(t, None, policy);
    let count = |n: u64| (n == 0 || n >= SMALL_CELL).then_some(n);
    let rate = |r: Option<f64>, asked: u64| r.filter(|_| asked >= SMALL_CELL);
    let response_asked = t.callbacks.saturating_sub(t.contact_unasked);
    let resolution_asked = t.callbacks.saturating_sub(t.resolution_unasked);
    let figures = UnitFigures {
        unit_id,
        unit,
        requests: count(t.requests),
        callbacks: count(t.callbacks),
        response_rate: rate(k.response_rate, response_asked),
        resolution_rate: rate(k.resolution_rate, resolution_asked),
        satisfaction_rate: rate(k.satisfaction_rate, t.callbacks),
        suppressed: false,
    };
    let suppressed = figures.requests.is_none()
        || figures.callbacks.is_none()
        || (k.response_rate.is_some() && figures.response_rate.is_none())
        || (k.resolution_rate.is_some() && figures.resolution_rate.is_none())
        || (k.satisfaction_rate.is_some() && figures.satisfaction_rate.is_none());
    UnitFigures {
        suppressed,
        ..figures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(v: &[(&str, u64)]) -> Vec<CountCell> {
        count_cells(
            v.iter()
                .map(|(k, n)| (k.to_string(), k.to_string(), *n))
                .collect(),
        )
    }

    fn shown(c: &[CountCell]) -> Vec<(&str, Option<u64>)> {
        c.iter().map(|c| (c.key.as_str(), c.requests)).collect()
    }

    #[test]
    fn small_counts_are_withheld_and_zero_is_not() {
        let c = cells(&[
            ("phone", 120),
            ("web", 3),
            ("sms", 0),
            ("wechat", 2),
            ("app", 7),
        ]);
        assert_eq!(
            shown(&c),
            vec![
                ("phone", Some(120)),
                ("app", Some(7)),
                ("web", None),
                ("wechat", None),
                ("sms", Some(0)),
            ]
        );
        assert!(c[2].suppressed && c[3].suppressed && !c[4].suppressed);
    }

    #[test]
    fn a_lone_withheld_cell_takes_the_next_smallest_with_it() {
        let c = cells(&[("phone", 120), ("web", 3), ("app", 7), ("wechat", 40)]);
        assert_eq!(
            shown(&c),
            vec![
                ("phone", Some(120)),
                ("wechat", Some(40)),
                ("app", None),
                ("web", None),
            ]
        );
    }

    #[test]
    fn weeks_run_monday_to_sunday_within_the_month() {
        let d = |day| NaiveDate::from_ymd_opt(2026, 11, day).unwrap();
        // 2026-11-01 is a Sunday: its week began on 26 October.
        let days: Vec<(NaiveDate, u64)> = (1..=30).map(|n| (d(n), 10)).collect();
        let w = week_cells(&days);
        assert_eq!(
            shown(&w),
            vec![
                ("2026-10-26", Some(10)),
                ("2026-11-02", Some(70)),
                ("2026-11-09", Some(70)),
                ("2026-11-16", Some(70)),
                ("2026-11-23", Some(70)),
                ("2026-11-30", Some(10)),
            ]
        );
    }

    #[test]
    fn months_and_their_days() {
        assert_eq!(
            month_period("2026-02"),
            Some((
                NaiveDate::from_ymd_opt(2026, 2, 1).unwrap(),
                NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()
            ))
        );
        assert_eq!(
            month_period("2026-12").unwrap().1,
            NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
        );
        for bad in ["2026-13", "2026-1", "26-01", "x", "2026-00"] {
            assert_eq!(month_period(bad), None, "{bad}");
        }
        assert_eq!(
            previous_month(NaiveDate::from_ymd_opt(2027, 1, 15).unwrap()),
            "2026-12"
        );
    }

    #[test]
    fn a_unit_rate_over_few_callbacks_is_withheld() {
        let policy = KpiPolicy::default();
        let t = Tally {
            requests: 30,
            callbacks: 4,
            contacted: 4,
            resolved: 3,
            satisfied: 4,
            ..Tally::default()
        };
        let f = unit_figures(7, "城管局".into(), &t, &policy);
        assert_eq!(f.requests, Some(30));
        assert_eq!(f.callbacks, None);
        assert_eq!(f.satisfaction_rate, None);
        assert!(f.suppressed);
        let t = Tally {
            requests: 30,
            callbacks: 10,
            contacted: 9,
            resolved: 8,
            satisfied: 7,
            basically_satisfied: 1,
            ..Tally::default()
        };
        let f = unit_figures(7, "城管局".into(), &t, &policy);
        assert_eq!(f.callbacks, Some(10));
        assert_eq!(f.response_rate, Some(0.9));
        assert_eq!(f.resolution_rate, Some(0.8));
        assert_eq!(f.satisfaction_rate, Some((7.0 + 0.6) / 10.0));
        assert!(!f.suppressed);
    }
}
