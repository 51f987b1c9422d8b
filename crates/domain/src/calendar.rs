//! The official working-day calendar and working-time arithmetic, in Asia/Shanghai business
//! time. Saturdays and Sundays are rest days and weekdays working days, except where the
//! State Council's schedule says otherwise: official holidays (放假) and make-up working days
//! (调休上班). A year the calendar has no data for is computed by the weekend rule and
//! reported, never silently assumed.

use crate::intake::china_offset;
use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
    Weekday,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// An exception to the weekend rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A day off in an official holiday period (weekends inside it included).
    Holiday,
    /// A Saturday or Sunday that is an official working day (调休上班).
    Workday,
}

impl DayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "workday",
        }
    }
}

/// One exception: a date, its kind and the festival it belongs to (e.g. 国庆节).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CalendarDay {
    pub date: NaiveDate,
    pub kind: DayKind,
    pub name: String,
}

/// What a date is, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DayType {
    /// A weekday with no exception.
    Working,
    /// A Saturday or Sunday with no exception.
    Weekend,
    /// An official holiday.
    Holiday { name: String },
    /// A weekend day worked by official schedule.
    MakeUpWorkday { name: String },
}

impl DayType {
    pub fn is_working(&self) -> bool {
        matches!(self, DayType::Working | DayType::MakeUpWorkday { .. })
    }
}

/// The calendar: exceptions by date, and the years whose schedule is known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    days: BTreeMap<NaiveDate, (DayKind, String)>,
    years: BTreeSet<i32>,
}

/// The schedule shipped with Mashangban (2020–2026).
const OFFICIAL: &str = include_str!("../data/cn_official_days.csv");

impl Calendar {
    /// A calendar of these exceptions, with these years known. The years of the days given
    /// are known as well.
    pub fn new(
        days: impl IntoIterator<Item = CalendarDay>,
        years: impl IntoIterator<Item = i32>,
    ) -> Calendar {
        let mut c = Calendar {
            years: years.into_iter().collect(),
            ..Default::default()
        };
        for d in days {
            c.years.insert(d.date.year());
            c.days.insert(d.date, (d.kind, d.name));
        }
        c
    }

    /// The shipped official schedule, 2020–2026.
    pub fn official() -> Calendar {
        Calendar::new(official_days(), [])
    }

    /// Whether the schedule of this year is known.
    pub fn knows_year(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    /// The years whose schedule is known.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.iter().copied()
    }

    /// The exceptions of a year, in date order.
    pub fn days_of(&self, year: i32) -> Vec<CalendarDay> {
        let (from, to) = (
            NaiveDate::from_ymd_opt(year, 1, 1),
            NaiveDate::from_ymd_opt(year, 12, 31),
        );
        let (Some(from), Some(to)) = (from, to) else {
            return Vec::new();
        };
        self.days
            .range(from..=to)
            .map(|(date, (kind, name))| CalendarDay {
                date: *date,
                kind: *kind,
                name: name.clone(),
            })
            .collect()
    }

    /// What a date is.
    pub fn day(&self, date: NaiveDate) -> DayType {
        match self.days.get(&date) {
            Some((DayKind::Holiday, name)) => DayType::Holiday { name: name.clone() },
            Some((DayKind::Workday, name)) => DayType::MakeUpWorkday { name: name.clone() },
            None if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) => DayType::Weekend,
            None => DayType::Working,
        }
    }

    pub fn is_working(&self, date: NaiveDate) -> bool {
        self.day(date).is_working()
    }
}

/// The shipped exceptions.
pub fn official_days() -> Vec<CalendarDay> {
    OFFICIAL
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("date,") && !l.trim().is_empty())
        .filter_map(|l| {
            let mut f = l.split(',');
            let date = NaiveDate::parse_from_str(f.next()?, "%Y-%m-%d").ok()?;
            let kind = match f.next()? {
                "holiday" => DayKind::Holiday,
                "workday" => DayKind::Workday,
                _ => return None,
            };
            Some(CalendarDay {
                date,
                kind,
                name: f.next().unwrap_or("").to_string(),
            })
        })
        .collect()
}

/// The working hours of a working day, as windows of local time; none means the whole day.
/// Written as `08:30-12:00,14:30-18:00` (empty: the whole day).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkingHours(pub Vec<(NaiveTime, NaiveTime)>);

impl std::fmt::Display for WorkingHours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(a, b)| format!("{}-{}", a.format("%H:%M"), b.format("%H:%M")))
            .collect();
        f.write_str(&parts.join(","))
    }
}

impl Serialize for WorkingHours {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl utoipa::PartialSchema for WorkingHours {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(
                r"^\s*(\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}\s*(,\s*\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}\s*)*)?$",
            ))
            .description(Some(
                "Windows of local time, e.g. `08:30-12:00,14:30-18:00`; empty: the whole day counts",
            ))
            .examples(["08:30-12:00,14:30-18:00"])
            .into()
    }
}

impl utoipa::ToSchema for WorkingHours {}

impl<'de> Deserialize<'de> for WorkingHours {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        WorkingHours::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl WorkingHours {
    /// The whole day counts.
    pub fn whole_day() -> WorkingHours {
        WorkingHours(Vec::new())
    }

    /// Parses `08:30-12:00,14:30-18:00`.
    pub fn parse(s: &str) -> Result<WorkingHours, String> {
        let mut windows = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (a, b) = part
                .split_once('-')
                .ok_or_else(|| format!("`{part}` is not a window like 08:30-12:00"))?;
            let t = |v: &str| {
                NaiveTime::parse_from_str(v.trim(), "%H:%M")
                    .map_err(|_| format!("`{v}` is not a time like 08:30"))
            };
            let (a, b) = (t(a)?, t(b)?);
            if a >= b {
                return Err(format!("`{part}` ends before it starts"));
            }
            if windows.last().is_some_and(|(_, end)| *end > a) {
                return Err(format!(
                    "`{part}` overlaps or precedes the window before it"
                ));
            }
            windows.push((a, b));
        }
        Ok(WorkingHours(windows))
    }

    /// The windows of one working day, as (start, end) minutes after midnight.
    fn windows(&self) -> Vec<(i64, i64)> {
        if self.0.is_empty() {
            return vec![(0, 24 * 60)];
        }
        let m = |t: NaiveTime| i64::from(t.num_seconds_from_midnight_()) / 60;
        self.0.iter().map(|(a, b)| (m(*a), m(*b))).collect()
    }

    /// Minutes of working time in a working day.
    pub fn minutes_per_day(&self) -> i64 {
        self.windows().iter().map(|(a, b)| b - a).sum()
    }
}

trait SecondsFromMidnight {
    fn num_seconds_from_midnight_(&self) -> u32;
}

impl SecondsFromMidnight for NaiveTime {
    fn num_seconds_from_midnight_(&self) -> u32 {
        use chrono::Timelike;
        self.num_seconds_from_midnight()
    }
}

/// One day a computation went through, and what of it counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DayNote {
    pub date: NaiveDate,
    #[serde(flatten)]
    pub day: DayType,
    /// Working minutes of this day that counted.
    pub counted_minutes: i64,
    /// The year's schedule is unknown: the weekend rule was assumed.
    pub assumed: bool,
}

/// A due time and how it was reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Due {
    pub at: DateTime<Utc>,
    /// Each day from the start to the due day.
    pub days: Vec<DayNote>,
    /// Years the calendar had no data for; their weekends were assumed.
    pub unknown_years: Vec<i32>,
}

impl Due {
    /// Whether the due time rests on a year without calendar data.
    pub fn is_flagged(&self) -> bool {
        !self.unknown_years.is_empty()
    }
}

/// Longest span a computation walks, in days (about ten years).
const MAX_DAYS: i64 = 3_660;

fn local(at: DateTime<Utc>) -> NaiveDateTime {
    at.with_timezone(&china_offset()).naive_local()
}

fn to_utc(tz: &FixedOffset, t: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&t).single() {
        Some(v) => v.with_timezone(&Utc),
        None => Utc.from_utc_datetime(&t),
    }
}

/// The time when `minutes` of working time have passed after `start`: only working days
/// count, and of them only the working hours.
pub fn add_working_minutes(
    cal: &Calendar,
    hours: &WorkingHours,
    start: DateTime<Utc>,
    minutes: i64,
) -> Due {
    let tz = china_offset();
    let start_local = local(start);
    // Seconds throughout, so that a start at 16:00:30 ends at hh:mm:30.
    let windows: Vec<(i64, i64)> = hours
        .windows()
        .into_iter()
        .map(|(a, b)| (a * 60, b * 60))
        .collect();
    let mut remaining = minutes.max(0) * 60;
    let mut date = start_local.date();
    let mut notes = Vec::new();
    let mut unknown = BTreeSet::new();
    let start_second = i64::from(start_local.time().num_seconds_from_midnight_());
    for _ in 0..MAX_DAYS {
        let day = cal.day(date);
        let assumed = !cal.knows_year(date.year());
        if assumed {
            unknown.insert(date.year());
        }
        let mut counted = 0;
        if day.is_working() {
            for (a, b) in &windows {
                // On the first day, only what is left after the start.
                let from = if date == start_local.date() {
                    (*a).max(start_second)
                } else {
                    *a
                };
                if from >= *b {
                    continue;
                }
                let avail = b - from;
                if remaining <= avail {
                    counted += remaining;
                    notes.push(DayNote {
                        date,
                        day,
                        counted_minutes: counted / 60,
                        assumed,
                    });
                    let at = date.and_time(NaiveTime::MIN) + Duration::seconds(from + remaining);
                    return Due {
                        at: to_utc(&tz, at),
                        days: notes,
                        unknown_years: unknown.into_iter().collect(),
                    };
                }
                remaining -= avail;
                counted += avail;
            }
        }
        notes.push(DayNote {
            date,
            day,
            counted_minutes: counted / 60,
            assumed,
        });
        date = match date.succ_opt() {
            Some(d) => d,
            None => break,
        };
    }
    // Beyond any real deadline: the last day walked, flagged.
    Due {
        at: to_utc(&tz, date.and_time(NaiveTime::MIN)),
        days: notes,
        unknown_years: unknown.into_iter().collect(),
    }
}

/// The time when `days` working days have passed after `start` (a working day is the
/// working hours of one working day).
pub fn add_working_days(
    cal: &Calendar,
    hours: &WorkingHours,
    start: DateTime<Utc>,
    days: u32,
) -> Due {
    add_working_minutes(cal, hours, start, i64::from(days) * hours.minutes_per_day())
}

/// The time `days` calendar days after `start`, with the days it spans.
pub fn add_calendar_days(cal: &Calendar, start: DateTime<Utc>, days: u32) -> Due {
    let at = start + Duration::days(i64::from(days));
    let (from, to) = (local(start).date(), local(at).date());
    let mut notes = Vec::new();
    let mut unknown = BTreeSet::new();
    let mut d = from;
    while d <= to && notes.len() < MAX_DAYS as usize {
        let assumed = !cal.knows_year(d.year());
        if assumed {
            unknown.insert(d.year());
        }
        notes.push(DayNote {
            date: d,
            day: cal.day(d),
            counted_minutes: 24 * 60,
            assumed,
        });
        d = match d.succ_opt() {
            Some(n) => n,
            None => break,
        };
    }
    Due {
        at,
        days: notes,
        unknown_years: unknown.into_iter().collect(),
    }
}

/// Working minutes between two times (zero if `to` is not after `from`).
pub fn working_minutes_between(
    cal: &Calendar,
    hours: &WorkingHours,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> i64 {
    if to <= from {
        return 0;
    }
    let (a, b) = (local(from), local(to));
    let windows = hours.windows();
    let mut total = 0;
    let mut date = a.date();
    let minute_of = |t: NaiveDateTime| i64::from(t.time().num_seconds_from_midnight_()) / 60;
    for _ in 0..MAX_DAYS {
        if date > b.date() {
            break;
        }
        if cal.is_working(date) {
            for (ws, we) in &windows {
                let lo = if date == a.date() {
                    (*ws).max(minute_of(a))
                } else {
                    *ws
                };
                let hi = if date == b.date() {
                    (*we).min(minute_of(b))
                } else {
                    *we
                };
                if hi > lo {
                    total += hi - lo;
                }
            }
        }
        date = match date.succ_opt() {
            Some(d) => d,
            None => break,
        };
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn shanghai(d: DateTime<Utc>) -> String {
        d.with_timezone(&china_offset()).to_rfc3339()
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_shipped_schedule_reads() {
        let c = Calendar::official();
        assert!((2020..=2026).all(|y| c.knows_year(y)));
        assert!(!c.knows_year(2027));
        assert_eq!(official_days().len(), 254);
        assert_eq!(
            c.day(date("2026-10-01")),
            DayType::Holiday {
                name: "国庆节".into()
            }
        );
        assert_eq!(
            c.day(date("2026-10-10")),
            DayType::MakeUpWorkday {
                name: "国庆节".into()
            }
        );
        assert_eq!(c.day(date("2026-10-11")), DayType::Weekend);
        assert_eq!(c.day(date("2026-10-12")), DayType::Working);
    }

    #[test]
    fn national_day_2026_three_working_days() {
        // Dispatched Wednesday 2026-09-30 16:00; 10-01..07 off; 10-08, 10-09 and the
        // make-up Saturday 10-10 count: due Saturday 2026-10-10 at 16:00.
        let c = Calendar::official();
        let due = add_working_days(
            &c,
            &WorkingHours::whole_day(),
            at("2026-09-30T16:00:00+08:00"),
            3,
        );
        assert_eq!(shanghai(due.at), "2026-10-10T16:00:00+08:00");
        assert!(!due.is_flagged());
        let skipped: Vec<_> = due
            .days
            .iter()
            .filter(|d| d.counted_minutes == 0)
            .map(|d| d.date.to_string())
            .collect();
        assert_eq!(
            skipped.len(),
            7,
            "the seven days of the holiday: {skipped:?}"
        );
        assert_eq!(
            due.days.last().unwrap().day,
            DayType::MakeUpWorkday {
                name: "国庆节".into()
            }
        );
        // The same with office hours: the clock stops at night too, and still lands at 16:00.
        let office = WorkingHours::parse("08:30-12:00,14:30-18:00").unwrap();
        assert_eq!(office.minutes_per_day(), 420);
        let due = add_working_days(&c, &office, at("2026-09-30T16:00:00+08:00"), 3);
        assert_eq!(shanghai(due.at), "2026-10-10T16:00:00+08:00");
    }

    #[test]
    fn spring_festival_2026() {
        let c = Calendar::official();
        // 02-14 (Saturday) is worked; 02-15..23 are off; 02-28 (Saturday) is worked.
        assert!(c.is_working(date("2026-02-14")));
        assert!((15..=23).all(|d| !c.is_working(NaiveDate::from_ymd_opt(2026, 2, d).unwrap())));
        assert!(c.is_working(date("2026-02-28")));
        // Friday 02-13 10:00 + 2 working days: 02-14 (make-up) counts, then 02-24.
        let due = add_working_days(
            &c,
            &WorkingHours::whole_day(),
            at("2026-02-13T10:00:00+08:00"),
            2,
        );
        assert_eq!(shanghai(due.at), "2026-02-24T10:00:00+08:00");
        // Friday 02-27 09:00 + 1 working day: the make-up Saturday 02-28.
        let due = add_working_days(
            &c,
            &WorkingHours::whole_day(),
            at("2026-02-27T09:00:00+08:00"),
            1,
        );
        assert_eq!(shanghai(due.at), "2026-02-28T09:00:00+08:00");
    }

    #[test]
    fn a_year_without_data_is_flagged() {
        let c = Calendar::official();
        let due = add_working_days(
            &c,
            &WorkingHours::whole_day(),
            at("2026-12-30T10:00:00+08:00"),
            3,
        );
        assert_eq!(due.unknown_years, vec![2027]);
        assert!(due.days.iter().any(|d| d.assumed));
        // Once 2027 is published, it is not.
        let mut days = official_days();
        days.push(CalendarDay {
            date: date("2027-01-01"),
            kind: DayKind::Holiday,
            name: "元旦".into(),
        });
        let c = Calendar::new(days, []);
        let due = add_working_days(
            &c,
            &WorkingHours::whole_day(),
            at("2026-12-30T10:00:00+08:00"),
            3,
        );
        assert!(!due.is_flagged());
        assert_eq!(shanghai(due.at), "2027-01-05T10:00:00+08:00");
    }

    #[test]
    fn starting_on_a_rest_day_counts_from_the_next_working_day() {
        let c = Calendar::official();
        // Saturday 2026-11-28 10:00 + 1 working day: all of Monday 11-30.
        let due = add_working_days(
            &c,
            &WorkingHours::whole_day(),
            at("2026-11-28T10:00:00+08:00"),
            1,
        );
        assert_eq!(shanghai(due.at), "2026-12-01T00:00:00+08:00");
        // Two working hours from Friday 17:00 with office hours: Friday 17:00-18:00, Monday 08:30-09:30.
        let office = WorkingHours::parse("08:30-12:00,14:30-18:00").unwrap();
        let due = add_working_minutes(&c, &office, at("2026-11-27T17:00:00+08:00"), 120);
        assert_eq!(shanghai(due.at), "2026-11-30T09:30:00+08:00");
        // Lunch does not count.
        let due = add_working_minutes(&c, &office, at("2026-11-30T11:00:00+08:00"), 120);
        assert_eq!(shanghai(due.at), "2026-11-30T15:30:00+08:00");
    }

    #[test]
    fn calendar_days_ignore_the_calendar() {
        let c = Calendar::official();
        let due = add_calendar_days(&c, at("2026-09-30T16:00:00+08:00"), 3);
        assert_eq!(shanghai(due.at), "2026-10-03T16:00:00+08:00");
    }

    #[test]
    fn working_minutes_between_counts_only_working_time() {
        let c = Calendar::official();
        let whole = WorkingHours::whole_day();
        assert_eq!(
            working_minutes_between(
                &c,
                &whole,
                at("2026-09-30T16:00:00+08:00"),
                at("2026-10-08T16:00:00+08:00")
            ),
            24 * 60
        );
        let office = WorkingHours::parse("08:30-12:00,14:30-18:00").unwrap();
        assert_eq!(
            working_minutes_between(
                &c,
                &office,
                at("2026-11-30T11:00:00+08:00"),
                at("2026-11-30T15:30:00+08:00")
            ),
            120
        );
        assert_eq!(
            working_minutes_between(
                &c,
                &office,
                at("2026-11-30T15:30:00+08:00"),
                at("2026-11-30T11:00:00+08:00")
            ),
            0
        );
    }

    #[test]
    fn working_hours_are_checked() {
        assert!(WorkingHours::parse("08:30-12:00,14:30-18:00").is_ok());
        assert!(WorkingHours::parse("12:00-08:30").is_err());
        assert!(WorkingHours::parse("08:30-12:00,11:00-18:00").is_err());
        assert!(WorkingHours::parse("8h").is_err());
        assert_eq!(WorkingHours::parse("").unwrap(), WorkingHours::whole_day());
        let office = WorkingHours::parse("08:30-12:00,14:30-18:00").unwrap();
        assert_eq!(
            serde_json::to_string(&office).unwrap(),
            "\"08:30-12:00,14:30-18:00\""
        );
        assert_eq!(
            serde_json::from_str::<WorkingHours>("\"08:30-12:00,14:30-18:00\"").unwrap(),
            office
        );
        assert!(serde_json::from_str::<WorkingHours>("\"25:00-26:00\"").is_err());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn start(minutes: i64) -> DateTime<Utc> {
            // Anywhere from 2020 to the end of 2026, to the minute.
            at("2020-01-01T00:00:00+08:00") + Duration::minutes(minutes)
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(400))]

            #[test]
            fn adding_working_days_is_monotonic(m in 0i64..(7 * 365 * 24 * 60), n in 0u32..15, office in any::<bool>()) {
                let c = Calendar::official();
                let hours = if office { WorkingHours::parse("08:30-12:00,14:30-18:00").unwrap() } else { WorkingHours::whole_day() };
                let a = add_working_days(&c, &hours, start(m), n).at;
                let b = add_working_days(&c, &hours, start(m), n + 1).at;
                prop_assert!(a <= b);
                // A later start is never due earlier.
                let later = add_working_days(&c, &hours, start(m + 17), n).at;
                prop_assert!(a <= later);
            }

            #[test]
            fn a_due_time_never_lands_on_a_rest_day(m in 0i64..(7 * 365 * 24 * 60), n in 1u32..15, office in any::<bool>()) {
                let c = Calendar::official();
                let hours = if office { WorkingHours::parse("08:30-12:00,14:30-18:00").unwrap() } else { WorkingHours::whole_day() };
                let due = add_working_days(&c, &hours, start(m), n).at;
                // The last second counted is working time on a working day.
                let last = local(due - Duration::seconds(1)).date();
                prop_assert!(c.is_working(last), "due {} counts {} as the last day", due, last);
                // And exactly n working days of time lie between.
                let counted = working_minutes_between(&c, &hours, start(m), due);
                let m_start = start(m);
                prop_assert_eq!(counted, i64::from(n) * hours.minutes_per_day(), "from {}", m_start);
            }
        }
    }
}
