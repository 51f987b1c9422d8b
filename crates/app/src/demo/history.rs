//! The demo's history: three years (by default) of past requests of the demo's kinds, with
//! the seasons a hotline sees — heating complaints from October to March, water and cooking
//! fumes in summer, roads at the thaw, fewer calls at the Spring Festival — and a slow growth,
//! imported through the historical import's use case as the city's old system would hand
//! them over. The seasonal early view (民情月历) and the topics' before-and-after read them.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{Owner, TEMPLATES};
use crate::import::ImportFormat;
use crate::{App, AppError};
use mashangban_domain::DivisionLevel;

/// Requests a day of one kind of matter, before its season and growth: about the demo
/// month's own rate by the end, so that the seasons, not a jump, are what the history shows.
const BASE_PER_DAY: f64 = 1.3;
/// The yearly growth of requests.
const GROWTH: f64 = 0.08;

/// A kind of matter's factor for a month (January first).
fn season(category: &str, month0: usize) -> f64 {
    const FLAT: [f64; 12] = [1.0; 12];
    let factors: [f64; 12] = match category {
        // 供暖不热: the heating season runs from mid-October to mid-April.
        "010202" => [
            3.0, 2.5, 1.8, 0.7, 0.1, 0.05, 0.05, 0.05, 0.2, 1.6, 3.0, 3.2,
        ],
        // 燃气: more in the cold.
        "010203" => [1.4, 1.3, 1.1, 0.9, 0.8, 0.7, 0.7, 0.7, 0.8, 1.0, 1.3, 1.5],
        // 停水, 排水: summer use and summer rain.
        "010201" | "010104" => [0.7, 0.7, 0.8, 0.9, 1.1, 1.4, 1.7, 1.6, 1.1, 0.9, 0.8, 0.7],
        // 油烟, 噪音, 垃圾, 园林: the warm months.
        "030101" | "030201" | "010403" | "010404" | "010401" => {
            [0.6, 0.6, 0.8, 1.0, 1.2, 1.4, 1.5, 1.4, 1.1, 0.9, 0.7, 0.6]
        }
        // 道路破损: the thaw.
        "010101" | "010102" => [0.9, 1.0, 1.6, 1.7, 1.2, 1.0, 1.0, 1.1, 1.0, 0.9, 0.9, 0.9],
        _ => FLAT,
    };
    // The Spring Festival (January–February) quietens the line, except for the heating.
    let festival = if category != "010202" && month0 <= 1 {
        0.8
    } else {
        1.0
    };
    factors[month0] * festival
}

/// A count drawn from a Poisson distribution of mean `lambda` (Knuth's method; the means
/// here are small).
fn poisson(rng: &mut StdRng, lambda: f64) -> usize {
    let limit = (-lambda).exp();
    let mut k = 0;
    let mut p = 1.0;
    loop {
        p *= rng.random::<f64>();
        if p <= limit {
            return k;
        }
        k += 1;
    }
}

fn beijing(at: DateTime<Utc>) -> String {
    (at + Duration::hours(8))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

impl App {
    /// Imports `months` months of past requests ending the day before `until` (Beijing
    /// time), each dispatched, answered, called back and closed. Deterministic for a seed.
    /// The rows imported.
    pub async fn generate_demo_history(
        &self,
        months: u32,
        until: DateTime<Utc>,
        seed: u64,
    ) -> Result<usize, AppError> {
        if months == 0 {
            return Ok(0);
        }
        let mut rng = StdRng::seed_from_u64(seed);
        let last = mashangban_domain::aggregates::business_day(until) - Duration::days(1);
        let first = {
            let index = last.year() * 12 + last.month0() as i32 - months as i32 + 1;
            NaiveDate::from_ymd_opt(index.div_euclid(12), index.rem_euclid(12) as u32 + 1, 1)
                .ok_or_else(|| AppError::invalid("months", "out of range"))?
        };
        let communities: Vec<(String, String, String)> = self
            .store
            .list_divisions(None, Some(DivisionLevel::Community))
            .await?
            .into_iter()
            .filter(|d| {
                ["630102", "630103", "630104", "630105"]
                    .iter()
                    .any(|p| d.code.starts_with(p))
            })
            .filter_map(|d| {
                let street = d.parent_code.clone()?;
                Some((d.code, d.name, street))
            })
            .collect();
        if communities.is_empty() {
            return Ok(0);
        }
        let header = mashangban_domain::import::COLUMNS;
        let mut imported = 0;
        let mut writer = csv::Writer::from_writer(Vec::new());
        let mut rows_in_file = 0;
        let mut day = first;
        let mut number = 0u32;
        writer
            .write_record(header)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        while day <= last {
            let years = (day - first).num_days() as f64 / 365.0;
            let weekend = matches!(day.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun);
            // The day's rows, written in the order they came in (numbers follow time).
            let mut rows: Vec<(DateTime<Utc>, Vec<String>)> = Vec::new();
            for (category, kind, owner, title, content) in TEMPLATES {
                let lambda = BASE_PER_DAY
                    * season(category, day.month0() as usize)
                    * (1.0 + GROWTH * years)
                    * if weekend { 0.7 } else { 1.0 };
                for _ in 0..poisson(&mut rng, lambda) {
                    let (code, name, street) = &communities[rng.random_range(0..communities.len())];
                    let lead = match owner {
                        Owner::City(c) => c.to_string(),
                        Owner::Street => format!("GOV-{street}"),
                    };
                    let minute = rng.random_range(0..12 * 60);
                    // 08:00 Beijing time plus up to 12 hours, in UTC.
                    let received = Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap())
                        + Duration::minutes(minute);
                    let dispatched = received + Duration::minutes(rng.random_range(20..120));
                    let signed = dispatched + Duration::minutes(rng.random_range(30..240));
                    let replied = signed + Duration::hours(rng.random_range(4..72));
                    let closed = replied + Duration::hours(rng.random_range(2..30));
                    let roll: f64 = rng.random();
                    let (resolution, satisfaction) = if roll < 0.78 {
                        ("resolved", "satisfied")
                    } else if roll < 0.93 {
                        ("partly", "basically")
                    } else {
                        ("unresolved", "dissatisfied")
                    };
                    let channel = ["phone", "phone", "phone", "phone", "wechat", "web"]
                        [rng.random_range(0..6)];
                    let phone = format!("1390971{:04}", rng.random_range(0..10_000));
                    let cells: Vec<String> = header
                        .iter()
                        .map(|h| match *h {
                            "number" => String::new(),
                            "received_at" => beijing(received),
                            "channel" => channel.into(),
                            "kind" => kind.to_string(),
                            "title" => title.to_string(),
                            "content" => content.replace("{p}", name),
                            "citizen_phone" => phone.clone(),
                            "address" => name.clone(),
                            "category_code" => category.to_string(),
                            "division_code" => code.clone(),
                            "lead_unit" => lead.clone(),
                            "tier" => "3".into(),
                            "dispatched_at" => beijing(dispatched),
                            "signed_at" => beijing(signed),
                            "replied_at" => beijing(replied),
                            "reply" => "已与来电人联系，现场核实后处理。".into(),
                            "closed_at" => beijing(closed),
                            "contacted" => "yes".into(),
                            "resolution" => resolution.into(),
                            "satisfaction" => satisfaction.into(),
                            _ => String::new(),
                        })
                        .collect();
                    rows.push((received, cells));
                }
            }
            rows.sort_by_key(|(at, _)| *at);
            for (_, mut cells) in rows {
                number += 1;
                cells[0] = format!("DEMO-H{number:06}");
                writer
                    .write_record(&cells)
                    .map_err(|e| AppError::Internal(e.to_string()))?;
                rows_in_file += 1;
            }
            day += Duration::days(1);
            // One import a quarter or so keeps each file's memory small.
            if rows_in_file >= 5_000 || day > last {
                let bytes = writer
                    .into_inner()
                    .map_err(|e| AppError::Internal(e.to_string()))?;
                if rows_in_file > 0 {
                    let r = self
                        .import_tickets(&crate::SERVER, &bytes, ImportFormat::Csv, false, until)
                        .await?;
                    if let Some(e) = r.errors.first() {
                        return Err(AppError::Internal(format!(
                            "demo history line {}: {}: {}",
                            e.line, e.field, e.message
                        )));
                    }
                    imported += r.imported;
                }
                writer = csv::Writer::from_writer(Vec::new());
                writer
                    .write_record(header)
                    .map_err(|e| AppError::Internal(e.to_string()))?;
                rows_in_file = 0;
            }
        }
        Ok(imported)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heating_is_a_winter_matter_and_the_festival_quietens_the_rest() {
        assert_eq!(season("010202", 0), 3.0);
        assert_eq!(season("010202", 6), 0.05);
        assert_eq!(season("020101", 1), 0.8);
        assert_eq!(season("020101", 5), 1.0);
        let mut rng = StdRng::seed_from_u64(1);
        let n: usize = (0..10_000).map(|_| poisson(&mut rng, 0.3)).sum();
        assert!((2_800..3_200).contains(&n), "{n}");
    }
}
