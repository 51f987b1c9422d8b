//! The background workers of a server and the one supervisor that starts and stops them:
//! the deadline watcher (一盯到底), the notification sender, the early-warning monitor (预警)
//! and the search index's feed. Each is a loop that calls one use case of this crate at its
//! interval; several servers may run them over one PostgreSQL database, since each claims
//! its work in the database (see ARCHITECTURE.md). SQLite's checkpoints run inside the
//! store, with it.

use crate::metrics::worker;
use crate::notify::{Delivery, HttpSmsGateway, http_client};
use crate::{App, SERVER};
use std::future::Future;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How often each worker runs; zero turns a worker off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerConfig {
    /// The deadline watcher (`MASHANGBAN_WATCH_SECONDS`, 30).
    pub watch: Duration,
    /// The notification sender (`MASHANGBAN_SEND_SECONDS`, 5).
    pub send: Duration,
    /// The early-warning monitor, which also watches the monthly topics' tasks
    /// (`MASHANGBAN_WARN_SECONDS`, 600).
    pub warn: Duration,
    /// The search index's feed (`MASHANGBAN_SEARCH_SECONDS`, 2).
    pub search: Duration,
    /// The open-data publisher (`MASHANGBAN_OPEN_DATA_SECONDS`, 3600): releases the month
    /// just ended once it has none.
    pub open_data: Duration,
    /// The retention task (`MASHANGBAN_RETENTION_SECONDS`, 3600): takes out the personal
    /// data whose time has passed.
    pub retention: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            watch: Duration::from_secs(30),
            send: Duration::from_secs(5),
            warn: Duration::from_secs(600),
            search: Duration::from_secs(2),
            open_data: Duration::from_secs(3600),
            retention: Duration::from_secs(3600),
        }
    }
}

impl WorkerConfig {
    /// The intervals from the environment (`MASHANGBAN_*_SECONDS`); a value that is not a
    /// whole number of seconds is refused, naming the variable.
    pub fn from_env() -> Result<WorkerConfig, String> {
        let d = WorkerConfig::default();
        let secs =
            |name: &str, default: Duration| -> Result<Duration, String> {
                match std::env::var(name) {
                Err(_) => Ok(default),
                Ok(v) => v.trim().parse::<u64>().map(Duration::from_secs).map_err(|_| {
                    format!("{name} must be a whole number of seconds (0 turns it off), not `{v}`")
                }),
            }
            };
        Ok(WorkerConfig {
            watch: secs("MASHANGBAN_WATCH_SECONDS", d.watch)?,
            send: secs("MASHANGBAN_SEND_SECONDS", d.send)?,
            warn: secs("MASHANGBAN_WARN_SECONDS", d.warn)?,
            search: secs("MASHANGBAN_SEARCH_SECONDS", d.search)?,
            open_data: secs("MASHANGBAN_OPEN_DATA_SECONDS", d.open_data)?,
            retention: secs("MASHANGBAN_RETENTION_SECONDS", d.retention)?,
        })
    }
}

/// How notices leave, from the environment: `MASHANGBAN_SMS_GATEWAY` is `log` (the
/// default: SMS are logged, and appended as JSON lines to `MASHANGBAN_SMS_LOG` if set) or the
/// URL of an SMS platform's HTTP interface (posts signed with `MASHANGBAN_SMS_SECRET`).
pub fn delivery_from_env() -> Result<Delivery, String> {
    delivery_from_env_or(None)
}

/// [`delivery_from_env`], with the SMS log file to write when the environment names none
/// (the demo keeps one beside its database).
pub fn delivery_from_env_or(default_log: Option<std::path::PathBuf>) -> Result<Delivery, String> {
    let gateway = std::env::var("MASHANGBAN_SMS_GATEWAY").unwrap_or_else(|_| "log".into());
    let log = std::env::var_os("MASHANGBAN_SMS_LOG")
        .map(std::path::PathBuf::from)
        .or(default_log);
    if gateway == "log" {
        return Ok(Delivery::logging(log));
    }
    if !(gateway.starts_with("http://") || gateway.starts_with("https://")) {
        return Err(format!(
            "MASHANGBAN_SMS_GATEWAY must be `log` or an http(s):// URL, not `{gateway}`"
        ));
    }
    let secret = std::env::var("MASHANGBAN_SMS_SECRET").unwrap_or_default();
    if secret.chars().count() < 16 {
        return Err(
            "MASHANGBAN_SMS_SECRET must be set (at least 16 characters) with an HTTP SMS gateway"
                .into(),
        );
    }
    Ok(Delivery {
        sms: std::sync::Arc::new(HttpSmsGateway {
            url: gateway,
            secret,
            client: http_client(),
        }),
        http: http_client(),
    })
}

/// The running workers; stopping (or dropping) the supervisor stops them all.
pub struct Workers {
    running: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Starts every worker whose interval is not zero.
    pub fn start(app: &App, config: &WorkerConfig, delivery: Delivery) -> Workers {
        let mut running = Vec::new();
        let mut spawn = |name: &'static str, every: Duration, pass: PassFn| {
            if every.is_zero() {
                tracing::info!(worker = name, "off (its interval is 0)");
                return;
            }
            let app = app.clone();
            running.push(tokio::spawn(run_every(name, every, app, pass)));
        };
        spawn(worker::WATCHER, config.watch, Box::new(watch_pass));
        let delivery = std::sync::Arc::new(delivery);
        spawn(
            worker::SENDER,
            config.send,
            Box::new(move |app| {
                let delivery = delivery.clone();
                Box::pin(async move { send_pass(app, &delivery).await })
            }),
        );
        spawn(worker::WARNINGS, config.warn, Box::new(warn_pass));
        spawn(worker::SEARCH, config.search, Box::new(search_pass));
        spawn(
            worker::OPEN_DATA,
            config.open_data,
            Box::new(open_data_pass),
        );
        spawn(
            worker::RETENTION,
            config.retention,
            Box::new(retention_pass),
        );
        spawn(
            worker::SWEEPER,
            crate::files::ABANDONED_AFTER,
            Box::new(sweep_pass),
        );
        Workers { running }
    }

    /// How many workers run.
    pub fn len(&self) -> usize {
        self.running.len()
    }

    /// Whether none runs.
    pub fn is_empty(&self) -> bool {
        self.running.is_empty()
    }

    /// Stops every worker (a pass under way is abandoned: its work is claimed in the
    /// database, and another server or the next start takes it up).
    pub fn stop(self) {
        for w in &self.running {
            w.abort();
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for w in &self.running {
            w.abort();
        }
    }
}

/// One pass of a worker; whether it ended without an error (an error is logged where it
/// happens).
type Pass = std::pin::Pin<Box<dyn Future<Output = bool> + Send>>;
type PassFn = Box<dyn Fn(App) -> Pass + Send + Sync>;

/// Runs `pass` every `every`, a late pass not followed by a burst of catch-up passes; each
/// pass counted in the metrics under the worker's name.
async fn run_every(name: &'static str, every: Duration, app: App, pass: PassFn) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let started = std::time::Instant::now();
        let ok = pass(app.clone()).await;
        app.metrics()
            .worker_pass(name, chrono::Utc::now(), started.elapsed(), ok);
    }
}

/// One pass of the sweeper: removes uploads a crash left half-received.
fn sweep_pass(app: App) -> Pass {
    Box::pin(async move {
        match app.sweep_incoming_files().await {
            Ok(0) => true,
            Ok(n) => {
                tracing::info!(removed = n, "abandoned uploads swept");
                true
            }
            Err(e) => {
                tracing::error!(error = %e, "abandoned uploads sweeper");
                false
            }
        }
    })
}

/// Most tickets the watcher looks at in one step of a pass.
const WATCH_BATCH: u32 = 5_000;
/// Most notices the sender claims in one step of a pass.
const SEND_BATCH: u32 = 200;

/// One pass of the deadline watcher: records the warnings and breaches that have come due,
/// working through a backlog in steps.
fn watch_pass(app: App) -> Pass {
    Box::pin(async move {
        loop {
            match app
                .watch_deadlines_at(chrono::Utc::now(), WATCH_BATCH)
                .await
            {
                Ok(r) => {
                    if r.warned + r.breached + r.supervised > 0 {
                        tracing::info!(
                            visited = r.visited,
                            warned = r.warned,
                            breached = r.breached,
                            supervised = r.supervised,
                            conflicts = r.conflicts,
                            "deadline watcher"
                        );
                    }
                    if r.visited < WATCH_BATCH as usize {
                        break true;
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "deadline watcher");
                    break false;
                }
            }
        }
    })
}

/// One pass of the notification sender: delivers the outbox's due notices, retrying
/// failures with back-off.
async fn send_pass(app: App, delivery: &Delivery) -> bool {
    loop {
        match app
            .send_notices_at(delivery, chrono::Utc::now(), SEND_BATCH)
            .await
        {
            Ok(r) => {
                let done = r.sent + r.retrying + r.given_up;
                if done > 0 {
                    tracing::info!(
                        sent = r.sent,
                        retrying = r.retrying,
                        given_up = r.given_up,
                        "notification sender"
                    );
                }
                if done < SEND_BATCH as usize {
                    break true;
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "notification sender");
                break false;
            }
        }
    }
}

/// One pass of the early-warning monitor: surges, clusters at one place, repeat callers,
/// recorded and told to supervisors and analysts when new or worse; and the monthly topics'
/// tasks watched.
fn warn_pass(app: App) -> Pass {
    Box::pin(async move {
        // The monthly topics' tasks are watched on the same beat: reminders near the due day,
        // the first press when late.
        let topics = match app.watch_topics_at(chrono::Utc::now()).await {
            Ok(n) => {
                if n > 0 {
                    tracing::info!(topics = n, "monthly topics' tasks reminded or pressed");
                }
                true
            }
            Err(e) => {
                tracing::error!(error = %e, "monthly topics' watch");
                false
            }
        };
        let warnings = match app.scan_warnings_at(&SERVER, chrono::Utc::now()).await {
            Ok(r) => {
                if r.told > 0 {
                    tracing::info!(
                        surges = r.surges,
                        clusters = r.clusters,
                        repeat_callers = r.repeat_callers,
                        told = r.told,
                        "early warnings"
                    );
                }
                true
            }
            Err(e) => {
                tracing::error!(error = %e, "early-warning monitor");
                false
            }
        };
        topics && warnings
    })
}

/// One pass of the open-data publisher: the month just ended is released if it has not
/// been (by this instance or another).
fn open_data_pass(app: App) -> Pass {
    Box::pin(async move {
        match app.publish_due_release_at(chrono::Utc::now()).await {
            Ok(Some(r)) => {
                tracing::info!(month = %r.month, requests = r.requests, "open data released");
                true
            }
            Ok(None) => true,
            Err(e) => {
                tracing::error!(error = %e, "open-data publisher");
                false
            }
        }
    })
}

/// One pass of the retention task: the personal data whose time has passed are taken out
/// (each ticket by one instance).
fn retention_pass(app: App) -> Pass {
    Box::pin(async move {
        match app.apply_retention_at(chrono::Utc::now()).await {
            Ok(r) => {
                if r.data + r.files_removed > 0 {
                    tracing::info!(
                        contact = r.contact,
                        content = r.content,
                        attachments = r.attachments,
                        unattached = r.unattached,
                        files_removed = r.files_removed,
                        data = r.data,
                        "personal data taken out"
                    );
                }
                true
            }
            Err(e) => {
                tracing::error!(error = %e, "retention task");
                false
            }
        }
    })
}

/// One pass of the search feed: indexes the tickets changed since the last pass (a search
/// also brings the index up to date itself).
fn search_pass(app: App) -> Pass {
    Box::pin(async move {
        match app.feed_search(50_000).await {
            Ok(r) => {
                if r.tickets > 1_000 {
                    tracing::info!(
                        tickets = r.tickets,
                        events = r.events,
                        caught_up = r.caught_up,
                        "search index fed"
                    );
                }
                true
            }
            Err(e) => {
                tracing::error!(error = %e, "search feed");
                false
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_default_and_refuse_what_is_not_a_number() {
        let d = WorkerConfig::default();
        assert_eq!(d.watch, Duration::from_secs(30));
        assert_eq!(d.send, Duration::from_secs(5));
        assert_eq!(d.warn, Duration::from_secs(600));
        assert_eq!(d.search, Duration::from_secs(2));
        assert_eq!(d.open_data, Duration::from_secs(3600));
        assert_eq!(d.retention, Duration::from_secs(3600));
    }
}
