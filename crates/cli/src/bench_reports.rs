//! `mashangban bench-reports`: how fast the daily report and the monthly ranking of all units
//! render over the aggregates of a large city's year.
//!
//! The reports read only the evaluation aggregates, so the benchmark fills those with what the
//! events of `--tickets` synthetic requests over `--days` days would add (received, answered at
//! intake or dispatched, returned, supervised, replied on time or late, called back, finished),
//! through the same aggregate writer the events' transactions use — without writing the
//! tickets and events themselves, which would take hours at 10 million and change nothing the
//! reports read. A filled database is reused by later runs.

use anyhow::{Context, Result};
use chrono::{Datelike, Duration, NaiveDate};
use mashangban_app::kpis::Period;
use mashangban_app::{App, Config};
use mashangban_domain::aggregates::{Dim, Fact, FactKey};
use mashangban_domain::kpi::Tally;
use mashangban_domain::{Channel, DivisionLevel};
use mashangban_store::SqlStore;
use mashangban_store::traits::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Arc;
use std::time::Instant;

#[derive(clap::Args)]
pub struct BenchReportsArgs {
    /// Requests over the whole period.
    #[arg(long, default_value_t = 10_000_000)]
    tickets: u64,
    /// Days the requests span, ending on --last-day.
    #[arg(long, default_value_t = 365)]
    days: i64,
    #[arg(long, default_value = "2026-10-31")]
    last_day: NaiveDate,
    /// Timed renders of each report.
    #[arg(long, default_value_t = 20)]
    runs: usize,
    /// The database to fill and read (default: a SQLite file in the temporary folder).
    #[arg(long = "bench-database")]
    database: Option<String>,
}

const CHANNELS: &[(Channel, u32)] = &[
    (Channel::PHONE, 600),
    (Channel::WECHAT, 150),
    (Channel::WEB, 90),
    (Channel::APP, 50),
    (Channel::MERGED_LINE, 50),
    (Channel::GRID, 30),
    (Channel::MAILBOX, 20),
    (Channel::SMS, 10),
];

fn pick_channel(rng: &mut StdRng) -> Channel {
    let total: u32 = CHANNELS.iter().map(|c| c.1).sum();
    let mut n = rng.random_range(0..total);
    for (c, w) in CHANNELS {
        if n < *w {
            return c.clone();
        }
        n -= w;
    }
    Channel::PHONE
}

fn stats(mut ms: Vec<f64>) -> String {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    format!(
        "p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        at(0.5),
        at(0.95),
        at(1.0)
    )
}

pub async fn run(a: BenchReportsArgs) -> Result<()> {
    let url = a.database.clone().unwrap_or_else(|| {
        let p = std::env::temp_dir().join("mashangban-bench-reports.db");
        format!("sqlite://{}", p.display())
    });
    let store = SqlStore::connect(&url)
        .await
        .with_context(|| format!("opening {url}"))?;
    store.migrate().await?;
    let backend = store.backend();
    let app = App::new(Arc::new(store), Config::default());
    if app.store().list_units().await?.is_empty() {
        app.seed_xining()
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let first_day = a.last_day - Duration::days(a.days - 1);
    let have: u64 = app
        .store()
        .kpi_tallies(Dim::City, first_day, a.last_day, false)
        .await?
        .iter()
        .map(|g| g.tally.requests)
        .sum();
    println!("bench-reports: {backend:?} at {url}");
    if have == 0 {
        fill(&app, &a, first_day).await?;
    } else {
        println!(
            "  reusing the aggregates of {have} requests ({first_day} .. {})",
            a.last_day
        );
    }
    // The daily report of days spread over the year; the monthly ranking of all units and
    // the whole monthly report of the last full months.
    let mut rng = StdRng::seed_from_u64(99);
    let mut daily = Vec::new();
    let mut report = None;
    for _ in 0..a.runs {
        let day = first_day + Duration::days(rng.random_range(0..a.days));
        // Read and rendered as the document the console shows.
        let t = Instant::now();
        let r = app
            .daily_report(&mashangban_app::SERVER, day, None)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let html = mashangban_web::reports::daily_html(&r);
        daily.push(t.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(html.contains(&r.title), "the daily report rendered");
        report = Some(r);
    }
    let mut ranking = Vec::new();
    let mut units = 0;
    let mut monthly = Vec::new();
    for i in 0..a.runs {
        // The month of --last-day and the five before it, in turn.
        let (y, m) = (
            a.last_day.year(),
            a.last_day.month0() as i32 - (i % 6) as i32,
        );
        let (y, m) = if m < 0 { (y - 1, m + 12) } else { (y, m) };
        let from = NaiveDate::from_ymd_opt(y, m as u32 + 1, 1).context("month")?;
        let next = from + Duration::days(32);
        let to = NaiveDate::from_ymd_opt(next.year(), next.month(), 1)
            .context("month")?
            .pred_opt()
            .context("month end")?;
        let t = Instant::now();
        let table = app
            .kpi_table(
                &mashangban_app::SERVER,
                Period::new(from, to).map_err(|e| anyhow::anyhow!("{e}"))?,
                Some(Dim::Unit),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        // Rendered as the API answers it.
        let json = serde_json::to_string(&table)?;
        ranking.push(t.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(json.len() > 2, "the ranking rendered");
        units = units.max(table.rows.len());
        let t = Instant::now();
        let r = app
            .monthly_report(&mashangban_app::SERVER, from.year(), from.month())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let html = mashangban_web::reports::monthly_html(&r);
        monthly.push(t.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(html.contains(&r.title), "the monthly report rendered");
    }
    if let Some(r) = report {
        println!(
            "  a daily report: {} requests, {} hot issues; {}",
            r.requests,
            r.hot_issues.len(),
            r.hot_issues.first().map(|h| h.text.as_str()).unwrap_or("")
        );
    }
    println!(
        "  daily report ({} days, read and rendered as HTML): {}",
        a.runs,
        stats(daily)
    );
    println!(
        "  monthly ranking of all {units} units (read and rendered as JSON): {}",
        stats(ranking)
    );
    println!(
        "  whole monthly report as HTML (city, units, districts, categories, each with the month before): {}",
        stats(monthly)
    );
    Ok(())
}

/// Writes the facts of the synthetic requests, a day at a time.
async fn fill(app: &App, a: &BenchReportsArgs, first_day: NaiveDate) -> Result<()> {
    let leaves: Vec<String> = app
        .store()
        .list_categories()
        .await?
        .into_iter()
        .filter(|c| c.level == 3)
        .map(|c| c.code)
        .collect();
    let places: Vec<String> = app
        .store()
        .list_divisions(None, Some(DivisionLevel::Community))
        .await?
        .into_iter()
        .map(|d| d.code)
        .collect();
    let units: Vec<i64> = app
        .store()
        .list_units()
        .await?
        .into_iter()
        .map(|u| u.id)
        .collect();
    anyhow::ensure!(
        !leaves.is_empty() && !places.is_empty() && !units.is_empty(),
        "the database has no categories, communities or units"
    );
    let mut rng = StdRng::seed_from_u64(7);
    let per_day = a.tickets / a.days as u64;
    let started = Instant::now();
    let mut ticket: i64 = 0;
    for d in 0..a.days {
        let day = first_day + Duration::days(d);
        let n = if d == a.days - 1 {
            a.tickets - per_day * (a.days as u64 - 1)
        } else {
            per_day
        };
        let mut facts: Vec<Fact> = Vec::with_capacity(n as usize * 5);
        for _ in 0..n {
            ticket += 1;
            let leaf = rng.random_range(0..leaves.len());
            // Requests cluster: a few places and categories draw more.
            let place = if rng.random_bool(0.2) {
                rng.random_range(0..places.len().min(40))
            } else {
                rng.random_range(0..places.len())
            };
            let key = |day: NaiveDate, unit: Option<i64>, channel: &Channel| FactKey {
                day,
                unit_id: unit,
                category_code: Some(leaves[leaf].clone()),
                channel: channel.clone(),
                division_code: Some(places[place].clone()),
                line: None,
            };
            let channel = pick_channel(&mut rng);
            let fact = |k: FactKey, t: Tally| Fact {
                key: k,
                sign: 1,
                tally: t,
            };
            facts.push(fact(
                key(day, None, &channel),
                Tally {
                    requests: 1,
                    ..Default::default()
                },
            ));
            if rng.random_bool(0.3) {
                facts.push(fact(
                    key(day, None, &channel),
                    Tally {
                        finished: 1,
                        direct: 1,
                        handling_seconds: rng.random_range(60..900),
                        ..Default::default()
                    },
                ));
                continue;
            }
            // The unit owning the category (mostly), or another.
            let unit = if rng.random_bool(0.9) {
                units[(leaf * 7 + place % 5) % units.len()]
            } else {
                units[rng.random_range(0..units.len())]
            };
            let later =
                |rng: &mut StdRng, max: i64| day + Duration::days(rng.random_range(0..=max));
            facts.push(fact(
                key(day, Some(unit), &channel),
                Tally {
                    dispatches: 1,
                    ..Default::default()
                },
            ));
            if rng.random_bool(0.03) {
                facts.push(fact(
                    key(later(&mut rng, 1), Some(unit), &channel),
                    Tally {
                        returns: 1,
                        ..Default::default()
                    },
                ));
                continue;
            }
            if rng.random_bool(0.02) {
                facts.push(fact(
                    key(later(&mut rng, 5), Some(unit), &channel),
                    Tally {
                        supervisions: 1,
                        ..Default::default()
                    },
                ));
            }
            if day + Duration::days(4) > a.last_day || rng.random_bool(0.1) {
                continue; // still open
            }
            facts.push(fact(
                key(later(&mut rng, 3), Some(unit), &channel),
                Tally {
                    finished_with_deadline: 1,
                    finished_on_time: u64::from(rng.random_bool(0.93)),
                    ..Default::default()
                },
            ));
            let resolution = rng.random_range(0..100);
            let satisfaction = rng.random_range(0..100);
            facts.push(fact(
                key(later(&mut rng, 4), Some(unit), &channel),
                Tally {
                    callbacks: 1,
                    contacted: u64::from(rng.random_bool(0.96)),
                    resolved: u64::from(resolution < 80),
                    partly_resolved: u64::from((80..90).contains(&resolution)),
                    satisfied: u64::from(satisfaction < 88),
                    basically_satisfied: u64::from((88..95).contains(&satisfaction)),
                    ..Default::default()
                },
            ));
            facts.push(fact(
                key(day, Some(unit), &channel),
                Tally {
                    finished: 1,
                    handling_seconds: rng.random_range(3_600..7 * 86_400),
                    ..Default::default()
                },
            ));
        }
        app.store().add_aggregate_facts(facts).await?;
        if (d + 1) % 30 == 0 || d + 1 == a.days {
            println!(
                "  filled {} days, {ticket} requests, {:.0} s",
                d + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    app.store().analyze().await?;
    println!(
        "  aggregates of {ticket} requests written in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
