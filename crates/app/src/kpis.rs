//! Evaluation (考评点评) as a use case: the figures of a period for the city or per unit,
//! place, category or channel, ranked with their zones and compared with the period before,
//! from the aggregates the events keep.

use crate::{App, AppError, require};
use chrono::{Datelike, Duration, NaiveDate, Utc};
use mashangban_domain::Channel;
use mashangban_domain::aggregates::{Dim, business_day};
use mashangban_domain::kpi::{KpiPolicy, Kpis, Tally, Zone, kpis, rank, trend_words};
use mashangban_domain::{Actor, Permission};
pub use mashangban_store::{GroupTally, RebuildReport};
use serde::Serialize;
use std::collections::HashMap;

/// The setting that holds the evaluation policy (JSON).
pub const KPI_POLICY_SETTING: &str = "kpi_policy";

/// The longest period one request may cover, in days.
pub const MAX_PERIOD_DAYS: i64 = 3 * 366;

/// The groupings of the figures: `unit`, `district`, `street`, `category_l1`,
/// `category_l2`, `category` (the recorded category), `channel` and `line` (merged hotlines).
pub fn parse_group_by(s: &str) -> Result<Dim, AppError> {
    match Dim::parse(s) {
        Some(Dim::City) | None => Err(AppError::invalid(
            "group_by",
            format!(
                "`{s}` is not a grouping; use one of unit, district, street, category, category_l1, category_l2, channel, line"
            ),
        )),
        Some(d) => Ok(d),
    }
}

/// A period of business days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    /// Checks a period: `from` not after `to`, at most [`MAX_PERIOD_DAYS`] long.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Period, AppError> {
        if from > to {
            return Err(AppError::invalid(
                "from",
                format!("{from} is after to ({to})"),
            ));
        }
        if (to - from).num_days() + 1 > MAX_PERIOD_DAYS {
            return Err(AppError::invalid(
                "to",
                format!("a period may cover at most {MAX_PERIOD_DAYS} days"),
            ));
        }
        Ok(Period { from, to })
    }

    /// The month to date (Asia/Shanghai).
    pub fn month_to_date() -> Period {
        let today = business_day(Utc::now());
        Period {
            from: today.with_day(1).unwrap_or(today),
            to: today,
        }
    }

    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// The period of the same length just before this one; a whole calendar month's is the
    /// whole month before.
    pub fn previous(&self) -> Period {
        let whole_month = self.from.day() == 1
            && self.to.succ_opt().is_some_and(|n| n.day() == 1)
            && self.from.month() == self.to.month();
        if whole_month {
            let to = self.from.pred_opt().unwrap_or(self.from);
            return Period {
                from: to.with_day(1).unwrap_or(to),
                to,
            };
        }
        let to = self.from - Duration::days(1);
        Period {
            from: to - Duration::days(self.days() - 1),
            to,
        }
    }
}

/// One group's figures.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KpiRow {
    /// The group's key: a unit id, a division or category code, a channel; none for the city.
    pub group: Option<String>,
    pub name: String,
    #[serde(flatten)]
    pub kpis: Kpis,
    /// Place in the ranking by score (ties share it), and its zone; none without a score.
    pub rank: Option<u32>,
    pub zone: Option<Zone>,
    /// The score of the period before, and the change of the callback rates in words.
    pub previous_score: Option<f64>,
    pub trend: Option<String>,
    /// The counts behind the figures.
    pub counts: Tally,
}

/// The figures of a period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KpiTable {
    pub period: Period,
    pub previous: Period,
    /// The grouping; none for the city as a whole.
    pub group_by: Option<Dim>,
    /// Units by territory (属地): each unit's row counts its own requests and those of every
    /// unit below it.
    #[serde(default)]
    pub territory: bool,
    /// The callbacks counted: the citizens' own ratings (一事一评), the agents', or (none)
    /// both.
    #[serde(default)]
    pub source: Option<mashangban_domain::RatingSource>,
    pub policy: KpiPolicy,
    /// Best first by score; groups without a score last, by name.
    pub rows: Vec<KpiRow>,
}

impl App {
    /// The evaluation policy in force (the default until an administrator sets one).
    pub async fn kpi_policy(&self, _actor: &Actor) -> Result<KpiPolicy, AppError> {
        self.stored_setting(KPI_POLICY_SETTING).await
    }

    /// Replaces the evaluation policy (checked first).
    pub async fn set_kpi_policy(
        &self,
        actor: &Actor,
        body: serde_json::Value,
    ) -> Result<KpiPolicy, AppError> {
        require(actor, Permission::ManagePolicies)?;
        let p: KpiPolicy = crate::from_body(body)?;
        crate::checked(p.check())?;
        self.store_setting(KPI_POLICY_SETTING, &p).await?;
        Ok(p)
    }

    /// The figures of a period, for the city (`group_by` none) or per group.
    pub async fn kpi_table(
        &self,
        actor: &Actor,
        period: Period,
        group_by: Option<Dim>,
    ) -> Result<KpiTable, AppError> {
        self.kpi_table_of(actor, period, group_by, None).await
    }

    /// [`App::kpi_table`] with the callbacks of one source only: the citizens' own ratings
    /// or the agents' callbacks (`None`: both, as every figure counts them).
    pub async fn kpi_table_of(
        &self,
        actor: &Actor,
        period: Period,
        group_by: Option<Dim>,
        source: Option<mashangban_domain::RatingSource>,
    ) -> Result<KpiTable, AppError> {
        require(actor, Permission::ReadFigures)?;
        let policy = self.kpi_policy(actor).await?;
        let dim = group_by.unwrap_or(Dim::City);
        let previous = period.previous();
        let now = of_source(self.group_tallies(dim, period).await?, source);
        let before = of_source(self.group_tallies(dim, previous).await?, source);
        let reference = self.reference().await?;
        let mut table = ranked(&reference, policy, period, group_by, now, before);
        table.source = source;
        Ok(table)
    }

    /// The figures of units by territory (属地负责): each unit's row counts the requests it
    /// led and those every unit below it led (a district's include its streets' and
    /// communities'). With `parent`, the units directly below it (the street offices of a
    /// district, the communities of a street), ranked among themselves; without, the
    /// district governments.
    pub async fn kpi_territory_table(
        &self,
        actor: &Actor,
        period: Period,
        parent: Option<i64>,
        source: Option<mashangban_domain::RatingSource>,
    ) -> Result<KpiTable, AppError> {
        require(actor, Permission::ReadFigures)?;
        let policy = self.kpi_policy(actor).await?;
        let reference = self.reference().await?;
        if let Some(p) = parent
            && !reference.units.contains_key(&p)
        {
            return Err(AppError::invalid(
                "parent",
                format!("unit {p} does not exist"),
            ));
        }
        let rows: Vec<i64> = reference
            .units
            .values()
            .filter(|u| match parent {
                Some(p) => u.parent_id == Some(p),
                None => u.kind == mashangban_domain::UnitKind::DistrictGovernment,
            })
            .map(|u| u.id)
            .collect();
        let previous = period.previous();
        let roll_up = |own: HashMap<String, Tally>| -> HashMap<String, Tally> {
            rows.iter()
                .map(|u| {
                    let mut sum = Tally::default();
                    let territory = std::iter::once(*u).chain(mashangban_domain::org::units_under(
                        reference.units.values(),
                        *u,
                    ));
                    for unit in territory {
                        if let Some(t) = own.get(&unit.to_string()) {
                            sum += *t;
                        }
                    }
                    (u.to_string(), sum)
                })
                .collect()
        };
        let now = of_source(
            roll_up(self.group_tallies(Dim::Unit, period).await?),
            source,
        );
        let before = of_source(
            roll_up(self.group_tallies(Dim::Unit, previous).await?),
            source,
        );
        let mut table = ranked(&reference, policy, period, Some(Dim::Unit), now, before);
        table.territory = true;
        table.source = source;
        Ok(table)
    }

    /// Each group's counts over a period. For a unit, its requests are the tickets
    /// dispatched to it as lead unit (派件量).
    pub(crate) async fn group_tallies(
        &self,
        dim: Dim,
        period: Period,
    ) -> Result<HashMap<String, Tally>, AppError> {
        let rows = self
            .store
            .kpi_tallies(dim, period.from, period.to, false)
            .await?;
        Ok(rows
            .into_iter()
            .map(|g| {
                let mut t = g.tally;
                if dim == Dim::Unit {
                    t.requests = t.dispatches;
                }
                (g.group, t)
            })
            .collect())
    }
}

/// The rows of a period's groups, with their figures, ranks and zones and the period
/// before's score.
/// Each group's tally with its callbacks narrowed to one source ([`Tally::of_source`]).
fn of_source(
    tallies: HashMap<String, Tally>,
    source: Option<mashangban_domain::RatingSource>,
) -> HashMap<String, Tally> {
    if source.is_none() {
        return tallies;
    }
    tallies
        .into_iter()
        .map(|(g, t)| (g, t.of_source(source)))
        .collect()
}

fn ranked(
    reference: &crate::Reference,
    policy: KpiPolicy,
    period: Period,
    group_by: Option<Dim>,
    now: HashMap<String, Tally>,
    before: HashMap<String, Tally>,
) -> KpiTable {
    let dim = group_by.unwrap_or(Dim::City);
    let previous = period.previous();
    let mut rows: Vec<KpiRow> = now
        .into_iter()
        .map(|(group, tally)| {
            let population = match dim {
                Dim::City => reference.city_population(),
                Dim::District | Dim::Street => reference
                    .populations
                    .get(&group)
                    .and_then(|p| u64::try_from(*p).ok()),
                _ => None,
            };
            let k = kpis(&tally, population, &policy);
            let prior = before.get(&group).map(|t| kpis(t, population, &policy));
            KpiRow {
                name: group_name(reference, dim, &group),
                group: (dim != Dim::City).then_some(group),
                kpis: k,
                rank: None,
                zone: None,
                previous_score: prior.and_then(|p| p.score),
                trend: prior.as_ref().and_then(|p| trend_words(&k, p)),
                counts: tally,
            }
        })
        .collect();
    if rows.is_empty() && dim == Dim::City {
        let k = kpis(&Tally::default(), reference.city_population(), &policy);
        rows.push(KpiRow {
            group: None,
            name: city_name(reference),
            kpis: k,
            rank: None,
            zone: None,
            previous_score: None,
            trend: None,
            counts: Tally::default(),
        });
    }
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    let scores: Vec<Option<f64>> = rows
        .iter()
        .map(|r| mashangban_domain::kpi::ranking_score(&r.kpis, &r.counts))
        .collect();
    let order = rank(&scores, &policy);
    let mut ranked = Vec::with_capacity(rows.len());
    let mut slots: Vec<Option<KpiRow>> = rows.into_iter().map(Some).collect();
    for (i, place, zone) in order {
        if let Some(mut row) = slots[i].take() {
            if dim != Dim::City {
                row.rank = place;
                row.zone = zone;
            }
            ranked.push(row);
        }
    }
    KpiTable {
        period,
        previous,
        group_by,
        policy,
        rows: ranked,
        territory: false,
        source: None,
    }
}

fn city_name(r: &crate::Reference) -> String {
    r.city_code()
        .and_then(|c| r.divisions.get(&c).cloned())
        .unwrap_or_else(|| "全市".to_string())
}

/// The name a group is shown by.
pub fn group_name(r: &crate::Reference, dim: Dim, group: &str) -> String {
    let known = match dim {
        Dim::City => Some(city_name(r)),
        Dim::Unit => group
            .parse::<i64>()
            .ok()
            .and_then(|id| r.unit_name(id))
            .map(str::to_string),
        Dim::District | Dim::Street => r.divisions.get(group).cloned(),
        Dim::CategoryL1 | Dim::CategoryL2 | Dim::Category => {
            r.categories.get(group).map(|c| c.name.clone())
        }
        Dim::Channel => group
            .parse::<Channel>()
            .ok()
            .map(|c| r.channel_name(&c, false)),
        Dim::Line => r.line(group).map(|l| format!("{} {}", l.number, l.name)),
    };
    known.unwrap_or_else(|| group.to_string())
}

impl App {
    /// Sums of the evaluation aggregates over the business days `from..=to`, one row per
    /// group of `dim` (per day and group with `by_day`): what the dashboards draw.
    pub async fn tallies(
        &self,
        actor: &Actor,
        dim: Dim,
        from: NaiveDate,
        to: NaiveDate,
        by_day: bool,
    ) -> Result<Vec<GroupTally>, AppError> {
        require(actor, Permission::ReadFigures)?;
        Ok(self.store.kpi_tallies(dim, from, to, by_day).await?)
    }

    /// Rebuilds the evaluation aggregates from the events (one transaction).
    pub async fn rebuild_aggregates(&self, actor: &Actor) -> Result<RebuildReport, AppError> {
        require(actor, Permission::Maintain)?;
        Ok(self.store.rebuild_aggregates().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn previous_periods() {
        let march = Period::new(d(2026, 3, 1), d(2026, 3, 31)).unwrap();
        assert_eq!(
            march.previous(),
            Period {
                from: d(2026, 2, 1),
                to: d(2026, 2, 28)
            }
        );
        let week = Period::new(d(2026, 3, 9), d(2026, 3, 15)).unwrap();
        assert_eq!(
            week.previous(),
            Period {
                from: d(2026, 3, 2),
                to: d(2026, 3, 8)
            }
        );
        let day = Period::new(d(2026, 1, 1), d(2026, 1, 1)).unwrap();
        assert_eq!(
            day.previous(),
            Period {
                from: d(2025, 12, 31),
                to: d(2025, 12, 31)
            }
        );
        // A month to date is compared with as many days before it.
        let mtd = Period::new(d(2026, 3, 1), d(2026, 3, 10)).unwrap();
        assert_eq!(mtd.previous().days(), 10);
    }

    #[test]
    fn periods_are_checked() {
        let e = Period::new(d(2026, 3, 2), d(2026, 3, 1)).unwrap_err();
        assert!(e.to_string().starts_with("from:"), "{e}");
        let e = Period::new(d(2020, 1, 1), d(2026, 1, 1)).unwrap_err();
        assert!(e.to_string().starts_with("to:"), "{e}");
        assert!(parse_group_by("city").is_err());
        assert!(parse_group_by("unit").is_ok());
        assert!(
            parse_group_by("team")
                .unwrap_err()
                .to_string()
                .contains("group_by")
        );
    }
}

/// A figure of the level table to rank units on (best first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LevelRank {
    /// Share of signatures in time (higher is better).
    OnTimeSignRate,
    /// Share of replies in time (higher is better).
    OnTimeReplyRate,
    /// Share of replies sent back (lower is better).
    RejectionRate,
    /// 报到率 (higher is better).
    ReportInRate,
    /// Patrol reports resolved on the spot (more is better).
    ResolvedOnSpot,
}

impl LevelRank {
    pub const NAMES: [&'static str; 5] = [
        "on_time_sign_rate",
        "on_time_reply_rate",
        "rejection_rate",
        "report_in_rate",
        "resolved_on_spot",
    ];

    pub fn parse(s: &str) -> Option<LevelRank> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
    }

    /// The row's figure, oriented so that higher is better; none when it has none.
    fn score(self, r: &LevelWorkRow) -> Option<f64> {
        match self {
            LevelRank::OnTimeSignRate => r.on_time_sign_rate,
            LevelRank::OnTimeReplyRate => r.on_time_reply_rate,
            LevelRank::RejectionRate => r.rejection_rate.map(|x| -x),
            LevelRank::ReportInRate => r.report_in_rate,
            LevelRank::ResolvedOnSpot => {
                (r.work.resolved_on_spot > 0).then_some(r.work.resolved_on_spot as f64)
            }
        }
    }
}

/// Orders rows best first on a figure, numbering their places (equal figures share one,
/// the next place skipping as many); rows without the figure come last, unranked.
fn rank_levels(rows: &mut [LevelWorkRow], by: LevelRank) {
    rows.sort_by(|a, b| match (by.score(a), by.score(b)) {
        (Some(x), Some(y)) => y.total_cmp(&x).then_with(|| a.name.cmp(&b.name)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.name.cmp(&b.name),
    });
    let mut place = 0;
    let mut last: Option<f64> = None;
    for (i, r) in rows.iter_mut().enumerate() {
        let Some(s) = by.score(r) else { break };
        if last != Some(s) {
            place = i as u32 + 1;
            last = Some(s);
        }
        r.rank = Some(place);
    }
}

/// One unit's work down the levels in a period, with its rates.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LevelWorkRow {
    pub unit_id: i64,
    pub name: String,
    /// Its place when the table is ranked (`rank_by`); none when it is not, or the unit
    /// has no such figure.
    pub rank: Option<u32>,
    #[serde(flatten)]
    pub work: mashangban_domain::levels::LevelWork,
    /// Share of its signatures made by the sign-by time (the deadline policy's sign
    /// allowance).
    pub on_time_sign_rate: Option<f64>,
    /// Share of its replies sent up within the time the level above gave.
    pub on_time_reply_rate: Option<f64>,
    /// Share of its replies the level above sent back.
    pub rejection_rate: Option<f64>,
    /// 报到率: share of its calls to the spot it answered; and in time.
    pub report_in_rate: Option<f64>,
    pub on_time_report_in_rate: Option<f64>,
}

/// The units' work down the levels in a period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LevelWorkTable {
    pub period: Period,
    /// The unit whose units directly below are listed, if one was asked for.
    pub parent: Option<i64>,
    /// The figure the rows are ranked on, if any.
    pub rank_by: Option<LevelRank>,
    /// By name, or best first on `rank_by`.
    pub rows: Vec<LevelWorkRow>,
}

/// The most tickets one level-work table reads.
const LEVEL_WORK_TICKETS: u32 = 200_000;

impl App {
    /// What each unit did down the levels (分级转办 · 吹哨报到) in a period: forwarded to it,
    /// signed, replied up in time or late, replies sent back, overdue, called to the spot and
    /// answered (报到率); and a community's own handling: patrol reports it resolved on the
    /// spot (就地办结) and residents' meetings. With `parent`, every unit directly below it (a district's streets,
    /// a street's communities), with or without work; without, every unit with some.
    pub async fn level_work_table(
        &self,
        actor: &Actor,
        period: Period,
        parent: Option<i64>,
        rank_by: Option<LevelRank>,
    ) -> Result<LevelWorkTable, AppError> {
        require(actor, Permission::ReadFigures)?;
        let reference = self.reference().await?;
        if let Some(p) = parent
            && !reference.units.contains_key(&p)
        {
            return Err(AppError::invalid(
                "parent",
                format!("unit {p} does not exist"),
            ));
        }
        let from = mashangban_domain::aggregates::day_start(period.from);
        let to = mashangban_domain::aggregates::day_start(period.to + Duration::days(1));
        let tickets = self
            .store
            .tickets_with_events(
                &mashangban_domain::levels::LEVEL_EVENT_TYPES,
                from,
                to,
                LEVEL_WORK_TICKETS,
            )
            .await?;
        let events = self.store.ticket_events_many(&tickets).await?;
        let work = mashangban_domain::levels::level_work(&events, from, to);
        let units: Vec<i64> = match parent {
            Some(p) => reference
                .units
                .values()
                .filter(|u| u.parent_id == Some(p))
                .map(|u| u.id)
                .collect(),
            None => work.keys().copied().collect(),
        };
        let mut rows: Vec<LevelWorkRow> = units
            .into_iter()
            .map(|u| {
                let w = work.get(&u).copied().unwrap_or_default();
                LevelWorkRow {
                    unit_id: u,
                    name: reference.unit_name(u).unwrap_or("?").to_string(),
                    rank: None,
                    on_time_sign_rate: w.on_time_sign_rate(),
                    on_time_reply_rate: w.on_time_reply_rate(),
                    rejection_rate: w.rejection_rate(),
                    report_in_rate: w.report_in_rate(),
                    on_time_report_in_rate: w.on_time_report_in_rate(),
                    work: w,
                }
            })
            .collect();
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        if let Some(by) = rank_by {
            rank_levels(&mut rows, by);
        }
        Ok(LevelWorkTable {
            period,
            parent,
            rank_by,
            rows,
        })
    }
}
