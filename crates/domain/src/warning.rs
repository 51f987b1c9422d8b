//! Early warning (预警): what should make the centre look before it is too late —
//! - a surge (诉求激增): an issue (second-level category) in a district, or in the whole city,
//!   bringing far more requests on a day than its own recent days predict (weekly pattern
//!   and holidays included, see [`crate::forecast::Seasonal`]), judged by a Poisson test;
//! - a cluster (同址聚集): several people raising the same problem at one place within a few
//!   days (the hot-issue grouping of recent requests finds them);
//! - a repeat caller (重复来电): one number raising many requests within a month.
//!
//! Each warning has a level (黄 yellow, 橙 orange, 红 red) and a key that stays the same while
//! the situation lasts, so that it is raised once, and raised again only when it worsens.

use crate::calendar::Calendar;
use crate::forecast::{Seasonal, day_class, poisson_tail};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// What a warning is about.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    Surge,
    Cluster,
    RepeatCaller,
}

impl WarningKind {
    pub const ALL: [WarningKind; 3] = [
        WarningKind::Surge,
        WarningKind::Cluster,
        WarningKind::RepeatCaller,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WarningKind::Surge => "surge",
            WarningKind::Cluster => "cluster",
            WarningKind::RepeatCaller => "repeat_caller",
        }
    }

    pub fn parse(s: &str) -> Option<WarningKind> {
        WarningKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            WarningKind::Surge => "诉求激增",
            WarningKind::Cluster => "同址聚集",
            WarningKind::RepeatCaller => "重复来电",
        }
    }
}

/// How serious, in the order of the colours.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum WarningLevel {
    Yellow,
    Orange,
    Red,
}

impl WarningLevel {
    pub const ALL: [WarningLevel; 3] = [
        WarningLevel::Yellow,
        WarningLevel::Orange,
        WarningLevel::Red,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WarningLevel::Yellow => "yellow",
            WarningLevel::Orange => "orange",
            WarningLevel::Red => "red",
        }
    }

    pub fn parse(s: &str) -> Option<WarningLevel> {
        WarningLevel::ALL.into_iter().find(|l| l.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            WarningLevel::Yellow => "黄色",
            WarningLevel::Orange => "橙色",
            WarningLevel::Red => "红色",
        }
    }
}

/// Where a warning stands with the people who watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WarningStatus {
    /// New or worse since it was last handled.
    Open,
    /// Someone has taken it in hand.
    Acknowledged,
    /// Judged not to need action.
    Dismissed,
}

impl WarningStatus {
    pub const ALL: [WarningStatus; 3] = [
        WarningStatus::Open,
        WarningStatus::Acknowledged,
        WarningStatus::Dismissed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WarningStatus::Open => "open",
            WarningStatus::Acknowledged => "acknowledged",
            WarningStatus::Dismissed => "dismissed",
        }
    }

    pub fn parse(s: &str) -> Option<WarningStatus> {
        WarningStatus::ALL.into_iter().find(|l| l.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            WarningStatus::Open => "待处理",
            WarningStatus::Acknowledged => "已处置",
            WarningStatus::Dismissed => "已排除",
        }
    }
}

/// The thresholds of the warnings (an administrator may change them).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct WarningRules {
    /// Days before the day that make a series' baseline.
    pub history_days: usize,
    /// The EWMA weight of the newest day.
    pub alpha: f64,
    /// A surge has at least this many requests…
    pub surge_min_requests: u64,
    /// …at least this many times the expected…
    pub surge_min_ratio: f64,
    /// …and at most this chance under the baseline (Poisson).
    pub surge_max_p: f64,
    /// Ratios from which a surge is orange and red (red also needs twice the minimum).
    pub surge_orange_ratio: f64,
    pub surge_red_ratio: f64,
    /// A cluster: requests about one problem at one place within `cluster_days`…
    pub cluster_min_requests: usize,
    /// …from at least this many people (distinct numbers)…
    pub cluster_min_people: usize,
    pub cluster_days: i64,
    /// …orange and red from this many requests.
    pub cluster_orange: usize,
    pub cluster_red: usize,
    /// A repeat caller: this many requests from one number within `repeat_days`; orange and
    /// red from the next two thresholds.
    pub repeat_min_requests: usize,
    pub repeat_days: i64,
    pub repeat_orange: usize,
    pub repeat_red: usize,
}

impl Default for WarningRules {
    fn default() -> Self {
        WarningRules {
            history_days: 56,
            alpha: 0.2,
            surge_min_requests: 5,
            surge_min_ratio: 2.0,
            surge_max_p: 0.001,
            surge_orange_ratio: 3.0,
            surge_red_ratio: 5.0,
            cluster_min_requests: 3,
            cluster_min_people: 2,
            cluster_days: 3,
            cluster_orange: 5,
            cluster_red: 10,
            repeat_min_requests: 3,
            repeat_days: 30,
            repeat_orange: 5,
            repeat_red: 8,
        }
    }
}

impl WarningRules {
    /// Checks the rules make sense; the message names the field.
    pub fn check(&self) -> Result<(), String> {
        if !(7..=366).contains(&self.history_days) {
            return Err("history_days must be between 7 and 366".into());
        }
        if !(self.alpha > 0.0 && self.alpha <= 1.0) {
            return Err("alpha must be in (0, 1]".into());
        }
        if self.surge_min_requests == 0 {
            return Err("surge_min_requests must be at least 1".into());
        }
        if !(self.surge_min_ratio >= 1.0
            && self.surge_orange_ratio >= self.surge_min_ratio
            && self.surge_red_ratio >= self.surge_orange_ratio)
        {
            return Err(
                "surge ratios must satisfy 1 ≤ surge_min_ratio ≤ surge_orange_ratio ≤ surge_red_ratio"
                    .into(),
            );
        }
        if !(self.surge_max_p > 0.0 && self.surge_max_p < 0.5) {
            return Err("surge_max_p must be in (0, 0.5)".into());
        }
        if self.cluster_min_requests < 2
            || self.cluster_min_people == 0
            || self.cluster_orange < self.cluster_min_requests
            || self.cluster_red < self.cluster_orange
        {
            return Err("cluster thresholds must satisfy 2 ≤ cluster_min_requests ≤ cluster_orange ≤ cluster_red and cluster_min_people ≥ 1".into());
        }
        if !(1..=30).contains(&self.cluster_days) {
            return Err("cluster_days must be between 1 and 30".into());
        }
        if self.repeat_min_requests < 2
            || self.repeat_orange < self.repeat_min_requests
            || self.repeat_red < self.repeat_orange
        {
            return Err("repeat thresholds must satisfy 2 ≤ repeat_min_requests ≤ repeat_orange ≤ repeat_red".into());
        }
        if !(1..=366).contains(&self.repeat_days) {
            return Err("repeat_days must be between 1 and 366".into());
        }
        Ok(())
    }
}

/// A day that brought far more than expected.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Surge {
    pub observed: u64,
    /// What the series' own days before predicted.
    pub expected: f64,
    pub ratio: f64,
    /// The chance of at least `observed` under the baseline.
    pub p_value: f64,
    pub level: WarningLevel,
}

/// The least a baseline is taken to expect: a series that has been quiet still has some
/// chance of a request.
const MIN_EXPECTED: f64 = 0.5;

/// Whether `observed` requests on `day` are a surge for a series whose previous days (the
/// `history`, oldest first, the last being the day before) brought the counts given.
pub fn surge(
    calendar: &Calendar,
    day: NaiveDate,
    history: &[u64],
    observed: u64,
    rules: &WarningRules,
) -> Option<Surge> {
    if observed < rules.surge_min_requests {
        return None;
    }
    let first = day - chrono::Duration::days(history.len() as i64);
    let counts: Vec<f64> = history.iter().map(|c| *c as f64).collect();
    let model = Seasonal::fit(calendar, first, &counts, rules.alpha);
    let expected = model.expect(day_class(calendar, day)).max(MIN_EXPECTED);
    let ratio = observed as f64 / expected;
    if ratio < rules.surge_min_ratio {
        return None;
    }
    let p_value = poisson_tail(observed, expected);
    if p_value > rules.surge_max_p {
        return None;
    }
    let level = if ratio >= rules.surge_red_ratio && observed >= 2 * rules.surge_min_requests {
        WarningLevel::Red
    } else if ratio >= rules.surge_orange_ratio {
        WarningLevel::Orange
    } else {
        WarningLevel::Yellow
    };
    Some(Surge {
        observed,
        expected,
        ratio,
        p_value,
        level,
    })
}

/// The level of a cluster of `requests` from `people` distinct callers, if it is one.
pub fn cluster_level(requests: usize, people: usize, rules: &WarningRules) -> Option<WarningLevel> {
    if requests < rules.cluster_min_requests || people < rules.cluster_min_people {
        return None;
    }
    Some(if requests >= rules.cluster_red {
        WarningLevel::Red
    } else if requests >= rules.cluster_orange {
        WarningLevel::Orange
    } else {
        WarningLevel::Yellow
    })
}

/// The level of a caller with `requests` within the window, if it is a repeat caller.
pub fn repeat_level(requests: usize, rules: &WarningRules) -> Option<WarningLevel> {
    if requests < rules.repeat_min_requests {
        return None;
    }
    Some(if requests >= rules.repeat_red {
        WarningLevel::Red
    } else if requests >= rules.repeat_orange {
        WarningLevel::Orange
    } else {
        WarningLevel::Yellow
    })
}

pub use crate::ticket::mask_phone;

/// What the monitor found now about one situation, to be recorded.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Finding {
    pub kind: WarningKind,
    /// Stays the same while the situation lasts (e.g. `0102|630102|2026-03-17`).
    pub key: String,
    pub level: WarningLevel,
    /// One line in Chinese.
    pub title: String,
    /// The figures behind it (JSON).
    pub detail: serde_json::Value,
    /// A ticket that belongs to it (the newest), for the notice's link.
    pub ticket_id: Option<i64>,
}

/// Whether a finding about an already recorded warning (at `recorded` level) should be told
/// again: only when it is worse.
pub fn escalates(recorded: Option<WarningLevel>, found: WarningLevel) -> bool {
    recorded.is_none_or(|r| found > r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// Eight weeks before Monday 2026-05-25 (1 May holidays inside): 10 on working days,
    /// 4 on rest days.
    fn history(c: &Calendar, day: NaiveDate) -> Vec<u64> {
        (1..=56)
            .rev()
            .map(|back| {
                let x = day - chrono::Duration::days(back);
                if c.is_working(x) { 10 } else { 4 }
            })
            .collect()
    }

    #[test]
    fn a_surge_is_judged_against_the_series_own_weekly_pattern() {
        let c = Calendar::official();
        let r = WarningRules::default();
        let monday = d(2026, 5, 25);
        let h = history(&c, monday);
        // A usual Monday, and a busy one that is within chance: no warning.
        assert_eq!(surge(&c, monday, &h, 10, &r), None);
        assert_eq!(surge(&c, monday, &h, 16, &r), None);
        // Two and a half times a Monday: yellow.
        let s = surge(&c, monday, &h, 25, &r).unwrap();
        assert_eq!(s.level, WarningLevel::Yellow);
        assert!((s.expected - 10.0).abs() < 1.0, "{s:?}");
        assert!(s.p_value < 1e-3);
        // Three and a half times: orange; six times: red.
        assert_eq!(
            surge(&c, monday, &h, 35, &r).unwrap().level,
            WarningLevel::Orange
        );
        assert_eq!(
            surge(&c, monday, &h, 60, &r).unwrap().level,
            WarningLevel::Red
        );
        // The same 14 requests are ordinary on a Monday but a surge on a Sunday.
        let sunday = d(2026, 5, 24);
        let hs = history(&c, sunday);
        assert_eq!(surge(&c, monday, &h, 14, &r), None);
        let s = surge(&c, sunday, &hs, 14, &r).unwrap();
        assert!((s.expected - 4.0).abs() < 1.0, "{s:?}");
    }

    #[test]
    fn a_quiet_series_needs_the_minimum_to_warn() {
        let c = Calendar::official();
        let r = WarningRules::default();
        let day = d(2026, 5, 25);
        let quiet = vec![0u64; 56];
        assert_eq!(surge(&c, day, &quiet, 4, &r), None, "under the minimum");
        let s = surge(&c, day, &quiet, 5, &r).unwrap();
        assert_eq!(s.expected, 0.5);
        assert_eq!(
            s.level,
            WarningLevel::Orange,
            "ten times, but not twice the minimum"
        );
        assert_eq!(
            surge(&c, day, &quiet, 10, &r).unwrap().level,
            WarningLevel::Red
        );
        // No history at all: the same.
        assert!(surge(&c, day, &[], 5, &r).is_some());
    }

    #[test]
    fn clusters_and_repeat_callers_by_count() {
        let r = WarningRules::default();
        assert_eq!(cluster_level(2, 2, &r), None);
        assert_eq!(cluster_level(3, 1, &r), None, "one person calling thrice");
        assert_eq!(cluster_level(3, 2, &r), Some(WarningLevel::Yellow));
        assert_eq!(cluster_level(5, 4, &r), Some(WarningLevel::Orange));
        assert_eq!(cluster_level(10, 9, &r), Some(WarningLevel::Red));
        assert_eq!(repeat_level(2, &r), None);
        assert_eq!(repeat_level(3, &r), Some(WarningLevel::Yellow));
        assert_eq!(repeat_level(5, &r), Some(WarningLevel::Orange));
        assert_eq!(repeat_level(8, &r), Some(WarningLevel::Red));
    }

    #[test]
    fn a_warning_is_told_again_only_when_worse() {
        use WarningLevel::*;
        assert!(escalates(None, Yellow));
        assert!(escalates(Some(Yellow), Orange));
        assert!(!escalates(Some(Orange), Orange));
        assert!(!escalates(Some(Red), Yellow));
        assert!(Yellow < Orange && Orange < Red);
    }

    #[test]
    fn rules_are_checked_by_field() {
        assert_eq!(WarningRules::default().check(), Ok(()));
        let bad = WarningRules {
            surge_max_p: 0.0,
            ..Default::default()
        };
        assert!(bad.check().unwrap_err().contains("surge_max_p"));
        let bad = WarningRules {
            surge_orange_ratio: 1.5,
            ..Default::default()
        };
        assert!(bad.check().unwrap_err().contains("surge_orange_ratio"));
        let bad = WarningRules {
            cluster_min_requests: 1,
            ..Default::default()
        };
        assert!(bad.check().unwrap_err().contains("cluster_min_requests"));
        let bad = WarningRules {
            repeat_days: 0,
            ..Default::default()
        };
        assert!(bad.check().unwrap_err().contains("repeat_days"));
        let bad = WarningRules {
            history_days: 3,
            ..Default::default()
        };
        assert!(bad.check().unwrap_err().contains("history_days"));
        let bad = WarningRules {
            alpha: 0.0,
            ..Default::default()
        };
        assert!(bad.check().unwrap_err().contains("alpha"));
        // Names and levels round-trip.
        for k in WarningKind::ALL {
            assert_eq!(WarningKind::parse(k.as_str()), Some(k));
        }
        for l in WarningLevel::ALL {
            assert_eq!(WarningLevel::parse(l.as_str()), Some(l));
        }
        for st in WarningStatus::ALL {
            assert_eq!(WarningStatus::parse(st.as_str()), Some(st));
        }
    }
}
