//! `mashangban doctor`: what this installation is set to, and what is wrong with it — the
//! database reachable and migrated, an administrator, the official calendar known for this
//! year and the next, the SMS gateway answering, room on the disks of the database and the
//! files, the clocks of the instances sharing a PostgreSQL database agreeing, the settings
//! readable. Changes nothing (the database is not migrated by it).

use chrono::{Datelike, Utc};
use mashangban_store::SqlStore;
use mashangban_store::traits::*;
use std::path::{Path, PathBuf};

/// How one finding stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    Note,
    Warn,
    Fail,
}

impl Level {
    fn tag(self) -> &'static str {
        match self {
            Level::Ok => "ok  ",
            Level::Note => "note",
            Level::Warn => "WARN",
            Level::Fail => "FAIL",
        }
    }
}

/// Below this much free space a disk is a warning, below a tenth of it a failure.
const LOW_DISK: u64 = 2 * 1024 * 1024 * 1024;
/// Clocks further apart than this make deadlines and locks disagree between instances.
const MAX_SKEW_MS: i64 = 2_000;

/// A database URL with its password hidden, fit to print.
pub fn without_password(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((user, host)) => {
                let user = user.split(':').next().unwrap_or(user);
                format!("{scheme}://{user}:***@{host}")
            }
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// The findings, in order.
pub struct Report {
    pub lines: Vec<(Level, String)>,
}

impl Report {
    fn add(&mut self, level: Level, text: impl Into<String>) {
        self.lines.push((level, text.into()));
    }

    /// The worst finding.
    pub fn worst(&self) -> Level {
        self.lines
            .iter()
            .map(|(l, _)| *l)
            .max()
            .unwrap_or(Level::Ok)
    }

    pub fn print(&self) {
        for (level, text) in &self.lines {
            println!("{}  {text}", level.tag());
        }
    }
}

fn megabytes(b: u64) -> String {
    if b >= 10 * 1024 * 1024 * 1024 {
        format!("{} GiB", b / 1024 / 1024 / 1024)
    } else {
        format!("{} MiB", b / 1024 / 1024)
    }
}

/// The first folder of `path` (or above it) that exists.
fn existing(path: &Path) -> Option<PathBuf> {
    let mut p = Some(path);
    while let Some(x) = p {
        if x.exists() {
            return Some(x.to_path_buf());
        }
        p = x.parent().filter(|x| !x.as_os_str().is_empty());
    }
    Some(PathBuf::from("."))
}

fn disk(report: &mut Report, what: &str, path: &Path) {
    let Some(at) = existing(path) else { return };
    match fs4::statvfs(&at) {
        Ok(s) => {
            let free = s.available_space();
            let level = if free < LOW_DISK / 10 {
                Level::Fail
            } else if free < LOW_DISK {
                Level::Warn
            } else {
                Level::Ok
            };
            report.add(
                level,
                format!(
                    "disk of the {what} ({}): {} free of {}",
                    path.display(),
                    megabytes(free),
                    megabytes(s.total_space())
                ),
            );
        }
        Err(e) => report.add(
            Level::Warn,
            format!("disk of the {what} ({}): cannot tell ({e})", path.display()),
        ),
    }
}

/// Whether a folder can be written to (a file made and removed in it); one not made yet,
/// whether the folder it will be made in can be.
fn writable(dir: &Path) -> Result<(), String> {
    let at = existing(dir).unwrap_or_else(|| PathBuf::from("."));
    tempfile::tempfile_in(&at)
        .map(|_| ())
        .map_err(|e| format!("{}: {e}", at.display()))
}

/// Checks this installation.
pub async fn check(
    database: &str,
    config_file: Option<&Path>,
    files_dir: &Path,
    search_dir: Option<&Path>,
) -> Report {
    let mut r = Report { lines: Vec::new() };
    match config_file {
        Some(f) => r.add(Level::Ok, format!("settings file {}", f.display())),
        None => r.add(
            Level::Note,
            "no settings file (/etc/mashangban/mashangban.conf or MASHANGBAN_CONFIG): the environment and defaults only",
        ),
    }
    let settings = mashangban_app::Config::default().with_env();
    let config = match settings {
        Ok(c) => {
            r.add(Level::Ok, "settings of the environment are well formed");
            Some(c)
        }
        Err(e) => {
            r.add(Level::Fail, format!("settings: {e}"));
            None
        }
    };
    if let Err(e) = mashangban_app::workers::WorkerConfig::from_env() {
        r.add(Level::Fail, format!("settings: {e}"));
    }
    if let Some(c) = &config {
        if c.public_url.starts_with("https://") {
            r.add(
                Level::Ok,
                format!(
                    "public address {} (cookies Secure: {})",
                    c.public_url,
                    c.secure_cookies()
                ),
            );
        } else {
            r.add(
                Level::Warn,
                format!(
                    "public address {} is not https: set MASHANGBAN_PUBLIC_URL to the portal's https address (the links texted to citizens; cookies become Secure)",
                    c.public_url
                ),
            );
        }
        match (&c.metrics_token, std::env::var("MASHANGBAN_METRICS_ADDR")) {
            (_, Ok(a)) if !a.trim().is_empty() => r.add(
                Level::Ok,
                format!("metrics on their own address {}", a.trim()),
            ),
            (Some(_), _) => r.add(
                Level::Ok,
                "metrics at /metrics with MASHANGBAN_METRICS_TOKEN",
            ),
            (None, _) => r.add(
                Level::Note,
                "metrics are off: set MASHANGBAN_METRICS_ADDR or MASHANGBAN_METRICS_TOKEN",
            ),
        }
    }
    let proxies = std::env::var("MASHANGBAN_TRUSTED_PROXIES").unwrap_or_default();
    let bad: Vec<&str> = proxies
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty() && a.parse::<std::net::IpAddr>().is_err())
        .collect();
    if !bad.is_empty() {
        r.add(
            Level::Fail,
            format!(
                "MASHANGBAN_TRUSTED_PROXIES: not addresses: {} (one IP address each, separated by commas)",
                bad.join(", ")
            ),
        );
    } else if proxies.trim().is_empty() {
        r.add(
            Level::Note,
            "no trusted proxy: the limits count the peer's address (behind a proxy, name it in MASHANGBAN_TRUSTED_PROXIES)",
        );
    } else {
        r.add(Level::Ok, format!("trusted proxies {}", proxies.trim()));
    }

    // The database.
    let shown = without_password(database);
    if let Some(path) = crate::sqlite_file(database)
        && !path.exists()
    {
        r.add(
            Level::Fail,
            format!("database {shown}: no such file (set MASHANGBAN_DATABASE_URL, or `mashangban migrate` to make it)"),
        );
        return r;
    }
    let store = match SqlStore::connect(database).await {
        Ok(s) => s,
        Err(e) => {
            r.add(
                Level::Fail,
                format!("database {shown}: cannot connect ({e})"),
            );
            return r;
        }
    };
    r.add(Level::Ok, format!("database {shown} answers"));
    let migrated = match store.schema_version().await {
        Ok((applied, known)) if applied == known => {
            r.add(
                Level::Ok,
                format!("schema is current ({applied} migrations)"),
            );
            true
        }
        Ok((applied, known)) if applied < known => {
            r.add(
                Level::Warn,
                format!(
                    "schema has {applied} of {known} migrations: the server applies the rest when it starts (or run `mashangban migrate`; back up first)"
                ),
            );
            applied > 0
        }
        Ok((applied, known)) => {
            r.add(
                Level::Fail,
                format!(
                    "schema has {applied} migrations, this binary knows {known}: a newer version wrote this database"
                ),
            );
            false
        }
        Err(_) => {
            r.add(
                Level::Warn,
                "the database is empty: `mashangban migrate`, then `mashangban seed xining` and an administrator",
            );
            false
        }
    };
    if migrated {
        match store.list_users().await {
            Ok(users) => {
                let admins = users
                    .iter()
                    .filter(|u| u.active && u.role == mashangban_domain::Role::Admin)
                    .count();
                if admins == 0 {
                    r.add(
                        Level::Fail,
                        "no active administrator: `mashangban user add --username NAME --role admin`",
                    );
                } else {
                    r.add(
                        Level::Ok,
                        format!("{admins} active administrator(s), {} users", users.len()),
                    );
                }
            }
            Err(e) => r.add(Level::Fail, format!("users: {e}")),
        }
        match store.calendar().await {
            Ok((_, years)) => {
                let year = Utc::now()
                    .with_timezone(&mashangban_domain::intake::china_offset())
                    .year();
                for y in [year, year + 1] {
                    if years.contains(&y) {
                        r.add(Level::Ok, format!("official calendar of {y} is known"));
                    } else {
                        r.add(
                            if y == year { Level::Fail } else { Level::Warn },
                            format!(
                                "official calendar of {y} is not known: deadlines count weekends only (enter the State Council's holidays: `mashangban calendar`, or 系统管理 → 工作日历)"
                            ),
                        );
                    }
                }
            }
            Err(e) => r.add(Level::Fail, format!("calendar: {e}")),
        }
        match store.figures(Utc::now()).await {
            Ok(f) => {
                let failed: i64 = f.outbox.iter().map(|o| o.failed).sum();
                let due: i64 = f.outbox.iter().map(|o| o.due).sum();
                r.add(
                    if failed > 0 { Level::Warn } else { Level::Ok },
                    format!("outbox: {due} notices due, {failed} given up on"),
                );
                if f.watch_due > 1000 {
                    r.add(
                        Level::Warn,
                        format!(
                            "{} tickets wait for the deadline watcher: is a server running?",
                            f.watch_due
                        ),
                    );
                }
            }
            Err(e) => r.add(Level::Warn, format!("figures: {e}")),
        }
    }
    // Clocks: each instance against the database's (on PostgreSQL, the clock they share).
    if store.backend() == mashangban_store::Backend::Postgres {
        let before = Utc::now();
        match store.clock().await {
            Ok(theirs) => {
                let after = Utc::now();
                let mine = before + (after - before) / 2;
                let skew = (theirs - mine).num_milliseconds();
                r.add(
                    if skew.abs() > MAX_SKEW_MS { Level::Fail } else { Level::Ok },
                    format!(
                        "clock: {skew:+} ms from the database server's (instances must agree within {MAX_SKEW_MS} ms: run NTP/chrony on every machine)"
                    ),
                );
            }
            Err(e) => r.add(
                Level::Warn,
                format!("clock: cannot read the database's ({e})"),
            ),
        }
    }

    // Disks and folders.
    if store.backend() == mashangban_store::Backend::Sqlite
        && let Some(path) = crate::sqlite_file(database)
    {
        disk(&mut r, "database", &path);
    }
    disk(&mut r, "files", files_dir);
    match writable(files_dir) {
        Ok(()) => r.add(
            Level::Ok,
            format!("files folder {} is writable", files_dir.display()),
        ),
        Err(e) => r.add(
            Level::Fail,
            format!(
                "files folder {} cannot be written: {e}",
                files_dir.display()
            ),
        ),
    }
    if store.backend() == mashangban_store::Backend::Postgres
        && std::env::var("MASHANGBAN_FILES_DIR").is_err()
    {
        r.add(
            Level::Warn,
            "with PostgreSQL, set MASHANGBAN_FILES_DIR to a folder every instance shares",
        );
    }
    match search_dir {
        Some(d) => match writable(d) {
            Ok(()) => r.add(
                Level::Ok,
                format!("search index folder {} is writable", d.display()),
            ),
            Err(e) => r.add(
                Level::Fail,
                format!("search index folder {} cannot be written: {e}", d.display()),
            ),
        },
        None => r.add(
            Level::Note,
            "search index in memory: built from the events at each start",
        ),
    }

    // SMS.
    let gateway = std::env::var("MASHANGBAN_SMS_GATEWAY").unwrap_or_else(|_| "log".into());
    if gateway == "log" {
        r.add(
            Level::Warn,
            "SMS are only written to the log (MASHANGBAN_SMS_GATEWAY=log): citizens and units receive none",
        );
    } else {
        match mashangban_app::workers::delivery_from_env() {
            Err(e) => r.add(Level::Fail, format!("SMS: {e}")),
            Ok(_) => {
                let client = reqwest::Client::builder()
                    .timeout(std::time::Duration::from_secs(5))
                    .build()
                    .expect("an HTTP client");
                // Any answer says it is there; no message is sent.
                match client.head(&gateway).send().await {
                    Ok(resp) => r.add(
                        Level::Ok,
                        format!("SMS gateway {gateway} answers ({})", resp.status()),
                    ),
                    Err(e) => r.add(
                        Level::Fail,
                        format!("SMS gateway {gateway} does not answer: {e}"),
                    ),
                }
            }
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_printed() {
        assert_eq!(
            without_password("postgres://mb:s3cret@db.example:5432/mashangban"),
            "postgres://mb:***@db.example:5432/mashangban"
        );
        assert_eq!(
            without_password("postgres://mb@db/mashangban"),
            "postgres://mb:***@db/mashangban"
        );
        assert_eq!(
            without_password("sqlite:///var/lib/mashangban/mashangban.db"),
            "sqlite:///var/lib/mashangban/mashangban.db"
        );
    }
}
