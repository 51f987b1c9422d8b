//! The historical import at a city's scale (`bench-import --rows N`): a file of N past
//! tickets of one month, made up here with its figures counted as it is written, imported
//! into a fresh database through the one use case, timed, with this process's memory; then
//! the month's figures read back and compared with the file's, count by count.

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use mashangban_app::import::ImportFormat;
use mashangban_app::kpis::Period;
use mashangban_app::{App, Config, SERVER};
use mashangban_domain::kpi::Tally;
use mashangban_store::SqlStore;
use mashangban_store::traits::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::fmt::Write;
use std::sync::Arc;
use std::time::Instant;

#[derive(clap::Args)]
pub struct BenchImportArgs {
    /// Rows of past tickets in the file.
    #[arg(long, default_value_t = 100_000)]
    rows: usize,
    /// A database to import into (default: a new SQLite file in the temporary folder). It
    /// must hold no ticket of March 2025.
    #[arg(long = "bench-database")]
    database: Option<String>,
}

/// A month of past tickets as CSV, and its figures counted row by row: every ticket a
/// request; a unit's answered ticket dispatched, and finished when its callback closed it;
/// an answer without a unit finished at intake.
fn file(rows: usize, units: &[String], categories: &[String]) -> (String, Tally) {
    let mut rng = StdRng::seed_from_u64(2025);
    let mut csv = String::from(
        "number,received_at,channel,line,kind,content,citizen_phone,category_code,lead_unit,tier,dispatched_at,replied_at,reply,closed_at,contacted,resolution,satisfaction\n",
    );
    let mut t = Tally::default();
    for i in 0..rows {
        let day = 1 + (i % 28) as u32;
        let minute = rng.random_range(0..600);
        let received = format!("2025-03-{day:02} {:02}:{:02}", 8 + minute / 60, minute % 60);
        let later = |hours: u32| {
            let d = (day + hours / 24).min(31);
            format!("2025-03-{d:02} {:02}:{:02}", 8 + minute / 60, minute % 60)
        };
        let (channel, line) = match i % 5 {
            0 => ("merged_line", "12369"),
            1 => ("web", ""),
            2 => ("wechat", ""),
            _ => ("phone", ""),
        };
        let category = &categories[i % categories.len()];
        let phone = format!("139{:08}", i);
        t.requests += 1;
        let roll = rng.random_range(0..100);
        let mut row = format!(
            "XN202503{day:02}{i:07},{received},{channel},{line},complaint,第{i}号：小区门口的路灯坏了，晚上出行不便，请尽快修复,{phone},{category}"
        );
        if roll < 15 {
            // Answered at intake.
            t.direct += 1;
            t.finished += 1;
            write!(row, ",,,,{},已告知办理渠道,,,,", later(0)).unwrap();
        } else if roll < 25 {
            // Still with the hotline.
            row.push_str(",,,,,,,,,");
        } else {
            let unit = &units[i % units.len()];
            let tier = [1, 3, 7, 11][i % 4];
            t.dispatches += 1;
            let replied = later(rng.random_range(2..12 * 24));
            if roll < 35 {
                // Dispatched, not yet answered.
                write!(row, ",{unit},{tier},{},,,,,,", later(1)).unwrap();
            } else if roll < 45 {
                // Answered, not yet called back.
                write!(row, ",{unit},{tier},{},{replied},已修复,,,,", later(1)).unwrap();
            } else {
                let contacted = rng.random_bool(0.9);
                let resolution = ["resolved", "partly", "unresolved"][rng.random_range(0..3)];
                let satisfaction =
                    ["satisfied", "basically", "dissatisfied"][rng.random_range(0..3)];
                t.callbacks += 1;
                t.finished += 1;
                t.contacted += u64::from(contacted);
                t.resolved += u64::from(resolution == "resolved");
                t.partly_resolved += u64::from(resolution == "partly");
                t.satisfied += u64::from(satisfaction == "satisfied");
                t.basically_satisfied += u64::from(satisfaction == "basically");
                write!(
                    row,
                    ",{unit},{tier},{},{replied},已修复,2025-03-31 20:00,{},{resolution},{satisfaction}",
                    later(1),
                    if contacted { "是" } else { "否" }
                )
                .unwrap();
            }
        }
        csv.push_str(&row);
        csv.push('\n');
    }
    (csv, t)
}

pub async fn run(a: BenchImportArgs) -> Result<()> {
    let url = a.database.clone().unwrap_or_else(|| {
        let p =
            std::env::temp_dir().join(format!("mashangban-bench-import-{}.db", std::process::id()));
        format!("sqlite://{}", p.display())
    });
    let store = SqlStore::connect(&url)
        .await
        .with_context(|| format!("opening {url}"))?;
    store.migrate().await?;
    let app = App::new(Arc::new(store), Config::default());
    if app.store().list_units().await?.is_empty() {
        app.seed_xining()
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let units: Vec<String> = app
        .store()
        .list_units()
        .await?
        .into_iter()
        .filter(|u| u.active && (u.code.starts_with("DEPT-") || u.code.starts_with("GOV-")))
        .map(|u| u.code)
        .collect();
    let categories: Vec<String> = app
        .store()
        .list_categories()
        .await?
        .into_iter()
        .filter(|c| c.active && c.level == 3)
        .map(|c| c.code)
        .collect();
    let (csv, expected) = file(a.rows, &units, &categories);
    println!(
        "import: {} rows, {:.1} MB of CSV, {} units, {} categories",
        a.rows,
        csv.len() as f64 / 1e6,
        units.len(),
        categories.len()
    );
    let bytes = csv.into_bytes();
    let (rss_before, _) = crate::bench_public::memory_mib();
    let started = Instant::now();
    let report = app
        .import_tickets(
            &SERVER,
            &bytes,
            ImportFormat::Csv,
            false,
            chrono::Utc::now(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let took = started.elapsed().as_secs_f64();
    let (rss_after, peak) = crate::bench_public::memory_mib();
    if let Some(e) = report.errors.first() {
        bail!("line {}: {}: {}", e.line, e.field, e.message);
    }
    println!(
        "imported {} tickets in {took:.1}s ({:.0} rows/s); resident {rss_before:.0} MiB before, {rss_after:.0} MiB after, peak {peak:.0} MiB",
        report.imported,
        report.imported as f64 / took
    );
    let march = Period::new(
        NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(),
        NaiveDate::from_ymd_opt(2025, 3, 31).unwrap(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let table = app
        .kpi_table(&SERVER, march, None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let got = table.rows.first().map(|r| r.counts).unwrap_or_default();
    let mut differ = Vec::new();
    for ((name, want), have) in Tally::FIELDS
        .iter()
        .zip(expected.values())
        .zip(got.values())
    {
        // Figures the file does not say (times, deadlines) are not compared.
        if [
            "handling_seconds",
            "finished_with_deadline",
            "finished_on_time",
        ]
        .contains(name)
        {
            continue;
        }
        if want != have {
            differ.push(format!("{name}: the file says {want}, the figures {have}"));
        }
    }
    if !differ.is_empty() {
        bail!(
            "the figures of March 2025 differ from the file's: {}",
            differ.join("; ")
        );
    }
    println!(
        "the figures of March 2025 equal the file's: {} requests, {} dispatched, {} answered at intake, {} callbacks ({} satisfied, {} basically), {} finished",
        got.requests,
        got.dispatches,
        got.direct,
        got.callbacks,
        got.satisfied,
        got.basically_satisfied,
        got.finished
    );
    Ok(())
}
