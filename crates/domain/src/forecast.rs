//! Volume by day: a seasonal baseline (what a day is expected to bring, from the days before
//! it), the forecast of the next days for staffing, and its error measured by back-testing.
//!
//! The model is a level smoothed exponentially (EWMA) over counts with the day-of-week
//! pattern taken out, times the pattern of the day in question. Official rest days (holidays,
//! weekends) follow the Sunday pattern and make-up workdays the Monday one, so that a Spring
//! Festival week is not expected to be busy like a working week.

use crate::calendar::Calendar;
use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;

/// The day's class for the weekly pattern: 0..=4 Monday..Friday working, 5 Saturday, 6 Sunday
/// or any other rest day; a make-up workday on a weekend counts as a Monday.
pub fn day_class(calendar: &Calendar, day: NaiveDate) -> usize {
    let weekday = day.weekday().num_days_from_monday() as usize;
    match (calendar.is_working(day), weekday) {
        (true, 0..=4) => weekday,
        (true, _) => 0,
        (false, 5) => 5,
        (false, _) => 6,
    }
}

/// How strongly the pattern of a class is pulled towards the flat one (in days of data):
/// a class seen on one day only is not taken at its word.
const PRIOR_DAYS: f64 = 0.25;

/// A series' level and weekly pattern, fitted on its days up to some day.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Seasonal {
    /// Requests a day with the pattern taken out.
    pub level: f64,
    /// Each class's factor (1 = an average day).
    pub factors: [f64; 7],
}

impl Seasonal {
    /// Fits the model on `counts`, one per day from `first` on, with smoothing `alpha`
    /// (0..1: the weight of the newest day).
    pub fn fit(calendar: &Calendar, first: NaiveDate, counts: &[f64], alpha: f64) -> Seasonal {
        let n = counts.len();
        if n == 0 {
            return Seasonal {
                level: 0.0,
                factors: [1.0; 7],
            };
        }
        let classes: Vec<usize> = (0..n)
            .map(|i| day_class(calendar, first + Duration::days(i as i64)))
            .collect();
        let mean = counts.iter().sum::<f64>() / n as f64;
        let mut sum = [0.0f64; 7];
        let mut days = [0.0f64; 7];
        for (c, x) in classes.iter().zip(counts) {
            sum[*c] += x;
            days[*c] += 1.0;
        }
        let mut factors = [1.0f64; 7];
        if mean > 0.0 {
            for c in 0..7 {
                factors[c] = ((sum[c] + PRIOR_DAYS * mean) / (days[c] + PRIOR_DAYS)) / mean;
            }
        }
        let alpha = alpha.clamp(0.01, 1.0);
        let mut level = mean;
        for (c, x) in classes.iter().zip(counts) {
            let f = factors[*c].max(0.05);
            level = alpha * (x / f) + (1.0 - alpha) * level;
        }
        Seasonal { level, factors }
    }

    /// What a day of this class is expected to bring.
    pub fn expect(&self, class: usize) -> f64 {
        self.level * self.factors[class.min(6)]
    }
}

/// The chance of at least `x` events where `lambda` are expected (Poisson upper tail),
/// summed from `x` upwards so that small chances keep their precision.
pub fn poisson_tail(x: u64, lambda: f64) -> f64 {
    if x == 0 {
        return 1.0;
    }
    if lambda <= 0.0 {
        return 0.0;
    }
    if (x as f64) <= lambda {
        // At or below the mean: one minus the lower sum, its terms in logarithms (e^-λ alone
        // underflows for large λ).
        let (ln_lambda, mut ln_term, mut below) = (lambda.ln(), -lambda, 0.0);
        for k in 0..x {
            below += ln_term.exp();
            ln_term += ln_lambda - ((k + 1) as f64).ln();
        }
        return (1.0 - below).clamp(0.0, 1.0);
    }
    let ln_fact: f64 = (2..=x).map(|k| (k as f64).ln()).sum();
    let mut term = (-lambda + x as f64 * lambda.ln() - ln_fact).exp();
    let mut total = 0.0;
    let mut k = x;
    while term > total * 1e-12 && k < x + 100_000 {
        total += term;
        k += 1;
        term *= lambda / k as f64;
    }
    total.clamp(0.0, 1.0)
}

/// How forecasts are made and judged.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ForecastRules {
    /// Days ahead.
    pub horizon: usize,
    /// Days of history the model is fitted on.
    pub history_days: usize,
    /// The EWMA weight of the newest day.
    pub alpha: f64,
    /// Forecast origins of the back-test (each the day before a forecast starts).
    pub backtest_origins: usize,
    /// The interval's coverage (0.8: the 10th to the 90th percentile).
    pub coverage: f64,
}

impl Default for ForecastRules {
    fn default() -> Self {
        ForecastRules {
            horizon: 14,
            history_days: 56,
            alpha: 0.2,
            backtest_origins: 28,
            coverage: 0.8,
        }
    }
}

/// One forecast day.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ForecastDay {
    pub date: NaiveDate,
    pub expected: f64,
    pub low: f64,
    pub high: f64,
}

/// The error of past forecasts made the same way.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Backtest {
    /// Forecast days compared with what came.
    pub days: usize,
    /// Weighted absolute percentage error: Σ|actual − forecast| ÷ Σ actual.
    pub wape: Option<f64>,
    /// Mean absolute error, requests a day.
    pub mae: Option<f64>,
    /// Share of actual days inside their interval.
    pub coverage: Option<f64>,
}

/// A forecast and its back-tested error.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Forecast {
    pub days: Vec<ForecastDay>,
    pub backtest: Backtest,
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = (sorted.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Forecasts of `rules.horizon` days made at `origin` (the index of the last known day in
/// `counts`), from the `history_days` before it.
fn point_forecast(
    calendar: &Calendar,
    first: NaiveDate,
    counts: &[f64],
    origin: usize,
    rules: &ForecastRules,
) -> Vec<(NaiveDate, f64)> {
    let start = (origin + 1).saturating_sub(rules.history_days);
    let model = Seasonal::fit(
        calendar,
        first + Duration::days(start as i64),
        &counts[start..=origin],
        rules.alpha,
    );
    (1..=rules.horizon)
        .map(|h| {
            let day = first + Duration::days((origin + h) as i64);
            (day, model.expect(day_class(calendar, day)))
        })
        .collect()
}

/// Forecasts the `rules.horizon` days after the last of `counts` (one per day from `first`),
/// with an interval from the errors the same forecasts made over the last
/// `rules.backtest_origins` origins, and those errors.
pub fn forecast(
    calendar: &Calendar,
    first: NaiveDate,
    counts: &[u64],
    rules: &ForecastRules,
) -> Forecast {
    // Days before the series' first request are before it existed (a new channel, a new
    // deployment), not quiet days: neither fitted on nor back-tested.
    let lead = counts.iter().position(|c| *c > 0).unwrap_or(counts.len());
    let first = first + Duration::days(lead as i64);
    let x: Vec<f64> = counts[lead..].iter().map(|c| *c as f64).collect();
    let n = x.len();
    // Relative errors by horizon, from origins whose whole horizon is known.
    let mut errors: Vec<Vec<f64>> = vec![Vec::new(); rules.horizon];
    let mut pairs: Vec<(f64, f64, usize)> = Vec::new();
    let min_history = 14.min(rules.history_days).max(1);
    let last_origin = n.checked_sub(rules.horizon + 1);
    if let Some(last_origin) = last_origin {
        let first_origin = last_origin
            .saturating_sub(rules.backtest_origins.saturating_sub(1))
            .max(min_history - 1);
        for origin in first_origin..=last_origin {
            for (h, (_, f)) in point_forecast(calendar, first, &x, origin, rules)
                .into_iter()
                .enumerate()
            {
                let actual = x[origin + 1 + h];
                errors[h].push((actual - f) / f.max(1.0));
                pairs.push((actual, f, h));
            }
        }
    }
    let mut pooled: Vec<f64> = errors.iter().flatten().copied().collect();
    pooled.sort_by(f64::total_cmp);
    for e in &mut errors {
        e.sort_by(f64::total_cmp);
    }
    let tail = (1.0 - rules.coverage.clamp(0.0, 1.0)) / 2.0;
    // The interval of each horizon from its own errors; with few, from those of all
    // horizons; with fewer still, a Poisson-like one.
    let band = |h: usize, f: f64| -> (f64, f64) {
        let e = if errors[h].len() >= 7 {
            &errors[h]
        } else {
            &pooled
        };
        if e.len() >= 7 {
            (
                (f + f.max(1.0) * quantile(e, tail)).max(0.0),
                (f + f.max(1.0) * quantile(e, 1.0 - tail)).max(0.0),
            )
        } else {
            let s = 1.2816 * f.max(1.0).sqrt();
            ((f - s).max(0.0), f + s)
        }
    };
    let days = if n == 0 {
        // Nothing yet: nothing expected.
        let start = first + Duration::days(counts.len() as i64 - lead as i64);
        (0..rules.horizon)
            .map(|h| ForecastDay {
                date: start + Duration::days(h as i64),
                expected: 0.0,
                low: 0.0,
                high: 0.0,
            })
            .collect()
    } else {
        point_forecast(calendar, first, &x, n - 1, rules)
            .into_iter()
            .enumerate()
            .map(|(h, (date, f))| {
                let (low, high) = band(h, f);
                ForecastDay {
                    date,
                    expected: f,
                    low,
                    high,
                }
            })
            .collect()
    };
    let actual_sum: f64 = pairs.iter().map(|p| p.0).sum();
    let abs_sum: f64 = pairs.iter().map(|p| (p.0 - p.1).abs()).sum();
    let inside = pairs
        .iter()
        .filter(|(a, f, h)| {
            let (lo, hi) = band(*h, *f);
            *a >= lo && *a <= hi
        })
        .count();
    let k = pairs.len();
    Forecast {
        days,
        backtest: Backtest {
            days: k,
            wape: (actual_sum > 0.0).then(|| abs_sum / actual_sum),
            mae: (k > 0).then(|| abs_sum / k as f64),
            coverage: (k > 0).then(|| inside as f64 / k as f64),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn rest_days_follow_sunday_and_make_up_days_monday() {
        let c = Calendar::official();
        assert_eq!(day_class(&c, d(2026, 3, 2)), 0, "a Monday");
        assert_eq!(day_class(&c, d(2026, 3, 6)), 4, "a Friday");
        assert_eq!(day_class(&c, d(2026, 3, 7)), 5, "a Saturday");
        assert_eq!(day_class(&c, d(2026, 3, 8)), 6, "a Sunday");
        assert_eq!(
            day_class(&c, d(2025, 10, 1)),
            6,
            "National Day, a Wednesday"
        );
        assert_eq!(
            day_class(&c, d(2025, 9, 28)),
            0,
            "a make-up workday, a Sunday"
        );
    }

    #[test]
    fn a_steady_weekly_pattern_is_learnt() {
        let c = Calendar::official();
        // Four weeks of March 2026 (no holidays): 100 on working days, 40 on weekends.
        let first = d(2026, 3, 2);
        let counts: Vec<f64> = (0..28)
            .map(|i| if i % 7 >= 5 { 40.0 } else { 100.0 })
            .collect();
        let m = Seasonal::fit(&c, first, &counts, 0.2);
        let monday = m.expect(0);
        let sunday = m.expect(6);
        assert!((monday - 100.0).abs() < 6.0, "{monday}");
        assert!((sunday - 40.0).abs() < 6.0, "{sunday}");
        // A flat series is expected flat; an empty one at zero.
        let flat = Seasonal::fit(&c, first, &[10.0; 28], 0.3);
        for class in 0..7 {
            assert!((flat.expect(class) - 10.0).abs() < 1e-9);
        }
        assert_eq!(Seasonal::fit(&c, first, &[], 0.3).expect(0), 0.0);
    }

    #[test]
    fn the_level_follows_a_shift() {
        let c = Calendar::official();
        let mut counts = vec![50.0; 28];
        counts.extend(vec![100.0; 14]);
        let m = Seasonal::fit(&c, d(2026, 3, 2), &counts, 0.3);
        assert!(m.level > 95.0, "{}", m.level);
    }

    #[test]
    fn poisson_tails_by_hand() {
        // P(X >= 1 | 1) = 1 - e^-1.
        assert!((poisson_tail(1, 1.0) - (1.0 - (-1.0f64).exp())).abs() < 1e-12);
        // P(X >= 3 | 1) = 1 - e^-1 (1 + 1 + 1/2).
        let want = 1.0 - (-1.0f64).exp() * 2.5;
        assert!((poisson_tail(3, 1.0) - want).abs() < 1e-12);
        // P(X >= 10 | 2) = 4.6498e-5 (tables).
        assert!((poisson_tail(10, 2.0) - 4.6498e-5).abs() < 1e-8);
        assert_eq!(poisson_tail(0, 5.0), 1.0);
        assert_eq!(poisson_tail(3, 0.0), 0.0);
        // Far in the tail the chance stays positive and tiny, without overflow.
        let p = poisson_tail(2_000, 1_000.0);
        assert!(p > 0.0 && p < 1e-100, "{p}");
        // Near the mean, about a half.
        let p = poisson_tail(1_000, 1_000.0);
        assert!((p - 0.5).abs() < 0.02, "{p}");
    }

    #[test]
    fn forecasts_keep_the_weekly_pattern_and_are_back_tested() {
        let c = Calendar::official();
        // Ten weeks from 2026-03-02, Qingming and the May Day holidays (with their make-up
        // workdays) inside: 100 on working days, 40 on rest days, with some noise.
        let first = d(2026, 3, 2);
        let noise = [3i64, -2, 0, 4, -3, 1, -1];
        let counts: Vec<u64> = (0..70)
            .map(|i| {
                let day = first + Duration::days(i);
                let base = if c.is_working(day) { 100 } else { 40 };
                (base + noise[(i * 3 % 7) as usize]) as u64
            })
            .collect();
        let rules = ForecastRules::default();
        let f = forecast(&c, first, &counts, &rules);
        assert_eq!(f.days.len(), 14);
        assert_eq!(f.days[0].date, d(2026, 5, 11));
        // Monday 11 May, a working day; Sunday 17 May, a rest day.
        assert!((f.days[0].expected - 100.0).abs() < 8.0, "{:?}", f.days[0]);
        assert!((f.days[6].expected - 40.0).abs() < 8.0, "{:?}", f.days[6]);
        for day in &f.days {
            assert!(
                day.low <= day.expected && day.expected <= day.high,
                "{day:?}"
            );
            assert!(day.low >= 0.0);
        }
        assert_eq!(f.backtest.days, 28 * 14);
        let wape = f.backtest.wape.unwrap();
        assert!(wape < 0.1, "{wape}");
        let coverage = f.backtest.coverage.unwrap();
        assert!(coverage > 0.6, "{coverage}");
    }

    #[test]
    fn short_series_forecast_without_a_back_test() {
        let c = Calendar::official();
        let f = forecast(&c, d(2026, 3, 2), &[5, 6, 4], &ForecastRules::default());
        assert_eq!(f.days.len(), 14);
        assert_eq!(f.backtest.days, 0);
        assert_eq!(f.backtest.wape, None);
        assert!(f.days.iter().all(|d| d.high > d.expected));
        // A series that has not started forecasts nothing, on the right days.
        let none = forecast(&c, d(2026, 3, 2), &[0, 0, 0], &ForecastRules::default());
        assert_eq!(none.days.len(), 14);
        assert_eq!(none.days[0].date, d(2026, 3, 5));
        assert!(none.days.iter().all(|d| d.high == 0.0));
        // Leading empty days are left out of the back-test.
        let mut late = vec![0u64; 60];
        late.extend([5u64; 40]);
        let f = forecast(&c, d(2026, 1, 5), &late, &ForecastRules::default());
        assert_eq!(f.days[0].date, d(2026, 1, 5) + Duration::days(100));
        assert!(f.backtest.wape.unwrap() < 0.5, "{:?}", f.backtest);
    }
}
