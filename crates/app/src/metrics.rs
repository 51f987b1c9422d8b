//! What an instance tells a monitoring system (Prometheus' text format at `/metrics`): HTTP
//! requests by route template and status with their latency; each background worker's
//! last pass, errors and lag; the database pool; open tickets by state, the overdue, the
//! outbox and the search feed. Counters and histograms are kept as things happen; the
//! figures of the database are read when the metrics are asked for (from indexes only).
//!
//! Who may read them is decided here: a listener of its own (`MASHANGBAN_METRICS_ADDR`,
//! for an address only the monitoring network reaches) or the bearer token
//! `MASHANGBAN_METRICS_TOKEN` on the main address. With neither, the metrics are off.

use crate::{App, AppError};
use chrono::{DateTime, Utc};
use prometheus::{
    Gauge, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry,
};
use sha2::Digest;
use std::time::Duration;

/// The upper bounds of the request latency buckets, in seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The route of requests that matched none (kept as one series, whatever the path said).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// How the metrics are being asked for.
pub enum MetricsAccess<'a> {
    /// On the metrics listener of its own (`MASHANGBAN_METRICS_ADDR`).
    Listener,
    /// On the main address, with this bearer token (if any was sent).
    Bearer(Option<&'a str>),
}

/// The instance's metrics (one registry per [`App`], so that several in one process, as in
/// tests, keep their own).
pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_seconds: HistogramVec,
    worker_runs: IntCounterVec,
    worker_errors: IntCounterVec,
    worker_last_run: GaugeVec,
    worker_last_seconds: GaugeVec,
    worker_lag: GaugeVec,
    pool: IntGaugeVec,
    pool_max: IntGauge,
    tickets_open: IntGaugeVec,
    tickets_alert: IntGaugeVec,
    tickets_supervised: IntGauge,
    watch_due: IntGauge,
    outbox_pending: IntGaugeVec,
    outbox_due: IntGaugeVec,
    outbox_failed: IntGaugeVec,
    search_lag: IntGauge,
    deltas_waiting: IntGauge,
    checkpoints: IntGaugeVec,
    last_checkpoint: Gauge,
}

/// Registers a collector made by `make`; the names are this file's own, so a clash is a
/// mistake in it.
fn register<C: prometheus::core::Collector + Clone + 'static>(
    r: &Registry,
    made: prometheus::Result<C>,
) -> C {
    let c = made.expect("a well-formed metric");
    r.register(Box::new(c.clone()))
        .expect("each metric registered once");
    c
}

impl Metrics {
    /// The metrics of a new instance (version and backend given as labels of
    /// `mashangban_build_info`).
    pub fn new(backend: &str) -> Metrics {
        let r = Registry::new();
        let info = register(
            &r,
            IntGaugeVec::new(
                Opts::new("mashangban_build_info", "The running version, always 1."),
                &["version", "backend"],
            ),
        );
        info.with_label_values(&[env!("CARGO_PKG_VERSION"), backend])
            .set(1);
        let start = register(
            &r,
            Gauge::new(
                "mashangban_start_time_seconds",
                "When this instance started, in Unix seconds.",
            ),
        );
        start.set(Utc::now().timestamp() as f64);
        Metrics {
            http_requests: register(
                &r,
                IntCounterVec::new(
                    Opts::new(
                        "mashangban_http_requests_total",
                        "HTTP requests answered, by method, route template and status.",
                    ),
                    &["method", "route", "status"],
                ),
            ),
            http_seconds: register(
                &r,
                HistogramVec::new(
                    HistogramOpts::new(
                        "mashangban_http_request_duration_seconds",
                        "Time from a request's arrival to its answer, by method and route template.",
                    )
                    .buckets(LATENCY_BUCKETS.to_vec()),
                    &["method", "route"],
                ),
            ),
            worker_runs: register(
                &r,
                IntCounterVec::new(
                    Opts::new(
                        "mashangban_worker_runs_total",
                        "Passes of each background worker.",
                    ),
                    &["worker"],
                ),
            ),
            worker_errors: register(
                &r,
                IntCounterVec::new(
                    Opts::new(
                        "mashangban_worker_errors_total",
                        "Passes of each background worker that ended in an error.",
                    ),
                    &["worker"],
                ),
            ),
            worker_last_run: register(
                &r,
                GaugeVec::new(
                    Opts::new(
                        "mashangban_worker_last_run_timestamp_seconds",
                        "When each background worker last finished a pass, in Unix seconds.",
                    ),
                    &["worker"],
                ),
            ),
            worker_last_seconds: register(
                &r,
                GaugeVec::new(
                    Opts::new(
                        "mashangban_worker_last_run_duration_seconds",
                        "How long each background worker's last pass took.",
                    ),
                    &["worker"],
                ),
            ),
            worker_lag: register(
                &r,
                GaugeVec::new(
                    Opts::new(
                        "mashangban_worker_lag_seconds",
                        "How long the oldest work due to a worker has waited (deadline watcher: tickets due; notification sender: notices due).",
                    ),
                    &["worker"],
                ),
            ),
            pool: register(
                &r,
                IntGaugeVec::new(
                    Opts::new(
                        "mashangban_db_pool_connections",
                        "Connections of the database pool, by state (idle or busy).",
                    ),
                    &["state"],
                ),
            ),
            pool_max: register(
                &r,
                IntGauge::new(
                    "mashangban_db_pool_max_connections",
                    "The most connections the database pool opens.",
                ),
            ),
            tickets_open: register(
                &r,
                IntGaugeVec::new(
                    Opts::new(
                        "mashangban_tickets_open",
                        "Tickets not yet ended, by state.",
                    ),
                    &["state"],
                ),
            ),
            tickets_alert: register(
                &r,
                IntGaugeVec::new(
                    Opts::new(
                        "mashangban_tickets_alert",
                        "Open tickets with a clock past its warning point (warning) or its due point (overdue).",
                    ),
                    &["level"],
                ),
            ),
            tickets_supervised: register(
                &r,
                IntGauge::new(
                    "mashangban_tickets_supervised",
                    "Open tickets under supervision (督办), of any level.",
                ),
            ),
            watch_due: register(
                &r,
                IntGauge::new(
                    "mashangban_watcher_due_tickets",
                    "Tickets the deadline watcher should have looked at by now.",
                ),
            ),
            deltas_waiting: register(
                &r,
                IntGauge::new(
                    "mashangban_kpi_deltas_waiting",
                    "Evaluation deltas committed and not yet folded into the aggregates.",
                ),
            ),
            outbox_pending: register(
                &r,
                IntGaugeVec::new(
                    Opts::new(
                        "mashangban_outbox_pending",
                        "Notices not yet delivered nor given up on, by channel.",
                    ),
                    &["channel"],
                ),
            ),
            outbox_due: register(
                &r,
                IntGaugeVec::new(
                    Opts::new(
                        "mashangban_outbox_due",
                        "Pending notices whose time has come, by channel.",
                    ),
                    &["channel"],
                ),
            ),
            outbox_failed: register(
                &r,
                IntGaugeVec::new(
                    Opts::new(
                        "mashangban_outbox_failed",
                        "Notices given up on after every retry, by channel.",
                    ),
                    &["channel"],
                ),
            ),
            search_lag: register(
                &r,
                IntGauge::new(
                    "mashangban_search_feed_lag_events",
                    "Ticket events not yet read into this instance's search index.",
                ),
            ),
            checkpoints: register(
                &r,
                IntGaugeVec::new(
                    Opts::new(
                        "mashangban_sqlite_checkpoints",
                        "SQLite's background checkpoints since the instance started, by outcome.",
                    ),
                    &["outcome"],
                ),
            ),
            last_checkpoint: register(
                &r,
                Gauge::new(
                    "mashangban_sqlite_last_checkpoint_timestamp_seconds",
                    "When SQLite's last background checkpoint ended, in Unix seconds.",
                ),
            ),
            registry: r,
        }
    }

    /// One HTTP request answered: its method, route template ([`UNMATCHED_ROUTE`] when none
    /// matched), status and time taken.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.http_requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.http_seconds
            .with_label_values(&[method, route])
            .observe(took.as_secs_f64());
    }

    /// One pass of a background worker, ended at `at` after `took`.
    pub fn worker_pass(&self, worker: &str, at: DateTime<Utc>, took: Duration, ok: bool) {
        self.worker_runs.with_label_values(&[worker]).inc();
        // The series is there from the first pass, at 0 until an error.
        let errors = self.worker_errors.with_label_values(&[worker]);
        if !ok {
            errors.inc();
        }
        self.worker_last_run
            .with_label_values(&[worker])
            .set(at.timestamp_millis() as f64 / 1000.0);
        self.worker_last_seconds
            .with_label_values(&[worker])
            .set(took.as_secs_f64());
    }
}

/// The names the workers are known by in the metrics.
pub mod worker {
    pub const WATCHER: &str = "deadline_watcher";
    pub const SENDER: &str = "notification_sender";
    pub const WARNINGS: &str = "warning_monitor";
    pub const SEARCH: &str = "search_feed";
    pub const SWEEPER: &str = "upload_sweeper";
    pub const OPEN_DATA: &str = "open_data_publisher";
    pub const RETENTION: &str = "retention_task";
}

fn seconds_since(then: Option<DateTime<Utc>>, now: DateTime<Utc>) -> f64 {
    then.map_or(0.0, |t| {
        ((now - t).num_milliseconds().max(0) as f64) / 1000.0
    })
}

impl App {
    /// This instance's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The metrics in Prometheus' text format, the database's figures read at `now`.
    /// On the main address only with the configured token (refused as unauthenticated
    /// otherwise); with no token and no listener of their own, the metrics are off.
    pub async fn metrics_text(
        &self,
        access: MetricsAccess<'_>,
        now: DateTime<Utc>,
    ) -> Result<String, AppError> {
        if let MetricsAccess::Bearer(given) = access {
            let Some(token) = self.config.metrics_token.as_deref() else {
                return Err(AppError::NotFound(
                    "metrics are not served here: set MASHANGBAN_METRICS_TOKEN, or MASHANGBAN_METRICS_ADDR for an address of their own".into(),
                ));
            };
            // Compared by digest, so that the time taken says nothing of the token.
            let digest = |t: &str| sha2::Sha256::digest(t.as_bytes());
            let right = given.is_some_and(|g| digest(g) == digest(token));
            if !right {
                return Err(AppError::Unauthenticated(
                    "the metrics need `Authorization: Bearer` with MASHANGBAN_METRICS_TOKEN".into(),
                ));
            }
        }
        self.refresh_metrics(now).await?;
        let mut out = String::new();
        prometheus::TextEncoder::new()
            .encode_utf8(&self.metrics.registry.gather(), &mut out)
            .map_err(|e| AppError::Internal(format!("metrics: {e}")))?;
        Ok(out)
    }

    /// Reads the database's figures into the gauges.
    async fn refresh_metrics(&self, now: DateTime<Utc>) -> Result<(), AppError> {
        let f = self.store.figures(now).await?;
        let m = &self.metrics;
        m.pool
            .with_label_values(&["idle"])
            .set(i64::from(f.pool_idle));
        m.pool
            .with_label_values(&["busy"])
            .set(i64::from(f.pool_size.saturating_sub(f.pool_idle)));
        m.pool_max.set(i64::from(f.pool_max));
        // Every state not ended is listed, with 0 when none is in it (a series that
        // disappears reads as "no data", not as zero).
        for s in mashangban_domain::TicketState::ALL
            .iter()
            .filter(|s| !s.is_terminal())
        {
            let n = f
                .open_by_state
                .iter()
                .find(|(code, _)| code == s.as_str())
                .map_or(0, |(_, n)| *n);
            m.tickets_open.with_label_values(&[s.as_str()]).set(n);
        }
        m.tickets_alert
            .with_label_values(&["warning"])
            .set(f.warning);
        m.tickets_alert
            .with_label_values(&["overdue"])
            .set(f.overdue);
        m.tickets_supervised.set(f.supervised);
        m.watch_due.set(f.watch_due);
        m.deltas_waiting.set(f.deltas_waiting);
        m.worker_lag
            .with_label_values(&[worker::WATCHER])
            .set(seconds_since(f.watch_oldest_due, now));
        let oldest_notice = f.outbox.iter().filter_map(|o| o.oldest_due).min();
        m.worker_lag
            .with_label_values(&[worker::SENDER])
            .set(seconds_since(oldest_notice, now));
        m.outbox_pending.reset();
        m.outbox_due.reset();
        m.outbox_failed.reset();
        for o in &f.outbox {
            m.outbox_pending
                .with_label_values(&[&o.channel])
                .set(o.pending);
            m.outbox_due.with_label_values(&[&o.channel]).set(o.due);
            m.outbox_failed
                .with_label_values(&[&o.channel])
                .set(o.failed);
        }
        // The index's own watermark, if this instance has opened it (and is not feeding
        // it this very moment); else every event is still to be read.
        let mark = match self.ticket_search.get() {
            Some(state) => match state.try_lock() {
                Ok(st) => st.index.watermark().ok(),
                Err(_) => None,
            },
            None => Some(0),
        };
        if let Some(mark) = mark {
            m.search_lag.set((f.newest_event_id - mark).max(0));
        }
        if let Some(c) = &f.checkpoints {
            m.checkpoints
                .with_label_values(&["done"])
                .set(c.runs.saturating_sub(c.failures) as i64);
            m.checkpoints
                .with_label_values(&["failed"])
                .set(c.failures as i64);
            m.last_checkpoint.set(
                c.last_at
                    .map_or(0.0, |t| t.timestamp_millis() as f64 / 1000.0),
            );
        }
        Ok(())
    }
}
