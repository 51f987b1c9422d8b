//! `mashangban calendar`: due-time arithmetic on the official calendar, and its upkeep.

use anyhow::{Context, Result, bail};
use chrono::{DateTime, NaiveDate, Utc};
use mashangban_app::App;
use mashangban_domain::calendar::{
    Calendar, DayKind, DayType, Due, WorkingHours, add_calendar_days, add_working_days,
    add_working_minutes,
};
use mashangban_domain::intake::china_offset;

#[derive(clap::Subcommand)]
pub enum CalendarCmd {
    /// When a deadline falls: the due time (RFC 3339, +08:00) and how it was computed.
    Due {
        /// The start, RFC 3339 (e.g. 2026-09-30T16:00:00+08:00).
        #[arg(long)]
        from: String,
        /// Working days to add.
        #[arg(long, conflicts_with_all = ["working_hours", "calendar_days"])]
        working_days: Option<u32>,
        /// Working hours to add.
        #[arg(long, conflicts_with = "calendar_days")]
        working_hours: Option<u32>,
        /// Calendar days to add.
        #[arg(long)]
        calendar_days: Option<u32>,
        /// Working hours of a day, e.g. 08:30-12:00,14:30-18:00 (default: the policy's).
        #[arg(long)]
        hours: Option<String>,
    },
    /// The exceptions of a year and whether its schedule is known.
    Show {
        #[arg(long)]
        year: i32,
    },
    /// Make a date a holiday or a make-up workday.
    Set {
        #[arg(long)]
        date: String,
        /// holiday or workday.
        #[arg(long)]
        kind: String,
        /// The festival, e.g. 春节.
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Remove an exception: the date follows the weekend rule again.
    Delete {
        #[arg(long)]
        date: String,
    },
    /// Mark a year's schedule as published (known) or not.
    Year {
        #[arg(long)]
        year: i32,
        /// true or false.
        #[arg(long, action = clap::ArgAction::Set)]
        known: bool,
    },
}

fn parse_date(v: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .with_context(|| format!("`{v}` is not a date (YYYY-MM-DD)"))
}

fn describe(day: &DayType) -> String {
    match day {
        DayType::Working => "working day".into(),
        DayType::Weekend => "weekend, skipped".into(),
        DayType::Holiday { name } => format!("holiday ({name}), skipped"),
        DayType::MakeUpWorkday { name } => format!("make-up workday ({name}), counted"),
    }
}

/// Prints a due time and its explanation.
fn print_due(due: &Due) {
    println!("{}", due.at.with_timezone(&china_offset()).to_rfc3339());
    for d in &due.days {
        println!(
            "  {} {:<9} {:>5} min  {}{}",
            d.date,
            d.date.format("%A"),
            d.counted_minutes,
            describe(&d.day),
            if d.assumed {
                " (no calendar data for this year: weekend rule assumed)"
            } else {
                ""
            }
        );
    }
}

pub async fn run(app: &App, cmd: CalendarCmd) -> Result<()> {
    let r = app
        .names(&mashangban_app::SERVER)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    match cmd {
        CalendarCmd::Due {
            from,
            working_days,
            working_hours,
            calendar_days,
            hours,
        } => {
            let start: DateTime<Utc> = DateTime::parse_from_rfc3339(&from)
                .with_context(|| {
                    format!("`{from}` is not an RFC 3339 time like 2026-09-30T16:00:00+08:00")
                })?
                .with_timezone(&Utc);
            let hours = match hours {
                Some(h) => WorkingHours::parse(&h).map_err(|e| anyhow::anyhow!("--hours: {e}"))?,
                None => r.policy.working_hours.clone(),
            };
            // A database that was never seeded has no calendar: use the shipped one.
            let shipped;
            let cal: &Calendar = if r.calendar.years().next().is_none() {
                eprintln!(
                    "note: this database has no calendar yet (run `mashangban seed xining`); using the shipped 2020–2026 schedule"
                );
                shipped = Calendar::official();
                &shipped
            } else {
                &r.calendar
            };
            let due = match (working_days, working_hours, calendar_days) {
                (Some(d), None, None) => add_working_days(cal, &hours, start, d),
                (None, Some(h), None) => add_working_minutes(cal, &hours, start, i64::from(h) * 60),
                (None, None, Some(d)) => add_calendar_days(cal, start, d),
                _ => bail!("give one of --working-days, --working-hours or --calendar-days"),
            };
            print_due(&due);
            if due.is_flagged() {
                let years: Vec<String> = due.unknown_years.iter().map(|y| y.to_string()).collect();
                bail!(
                    "the calendar has no data for {}: the due time above assumes plain weekends; publish the year's schedule with `mashangban calendar set` and `calendar year --known`",
                    years.join(", ")
                );
            }
            Ok(())
        }
        CalendarCmd::Show { year } => {
            println!(
                "{year}: {}",
                if r.calendar.knows_year(year) {
                    "schedule known"
                } else {
                    "no schedule (weekend rule assumed)"
                }
            );
            for d in r.calendar.days_of(year) {
                println!("  {} {:<8} {}", d.date, d.kind.as_str(), d.name);
            }
            Ok(())
        }
        CalendarCmd::Set { date, kind, name } => {
            let kind = match kind.as_str() {
                "holiday" => DayKind::Holiday,
                "workday" => DayKind::Workday,
                other => bail!("--kind: `{other}` is not holiday or workday"),
            };
            let date = parse_date(&date)?;
            app.set_calendar_day(&mashangban_app::SERVER, date, kind, &name)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{date} is now a {}", kind.as_str());
            Ok(())
        }
        CalendarCmd::Delete { date } => {
            let date = parse_date(&date)?;
            app.delete_calendar_day(&mashangban_app::SERVER, date)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{date} follows the weekend rule again");
            Ok(())
        }
        CalendarCmd::Year { year, known } => {
            app.set_calendar_year(&mashangban_app::SERVER, year, known)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "{year}: {}",
                if known {
                    "schedule known"
                } else {
                    "schedule unknown"
                }
            );
            Ok(())
        }
    }
}
