//! What a bench phase cost the machine, per request: the bytes written towards the disk and
//! the CPU time spent, read from the kernel's counters of this process (server and bench
//! clients together: they share it) and, on a PostgreSQL server on this machine, of the
//! server's processes, with the write-ahead log the server wrote.
//!
//! Linux only (`/proc`); elsewhere the figures are left out. A PostgreSQL server's
//! processes are found by their name; their I/O counters are readable by root or by the
//! user the server runs as, their CPU times by anyone. A connection that ends within a
//! phase takes its counters with it (the bench's pool keeps its connections open).

use mashangban_store::SqlStore;
use sqlx::Row;
use std::time::Instant;

/// The kernel's clock ticks per second in `/proc/*/stat` (`USER_HZ`: 100 on every Linux
/// architecture the project builds for, whatever the kernel's own tick rate).
const USER_HZ: f64 = 100.0;

/// Counters at one moment.
#[derive(Clone, Copy, Default)]
struct Counters {
    /// Bytes this process handed to `write(2)` and its kind (`wchar`).
    handed: u64,
    /// Bytes this process sent towards the storage (`write_bytes` less
    /// `cancelled_write_bytes`: pages of a file truncated before they reached the disk).
    disk: i64,
    /// User and system CPU seconds of this process.
    cpu: f64,
    /// The PostgreSQL server's processes on this machine: CPU seconds, bytes towards the disk.
    server_cpu: Option<f64>,
    server_disk: Option<i64>,
    /// SQLite: the writer's commits so far.
    commits: Option<u64>,
}

/// Measures phases of the bench on one store.
pub(crate) struct Meter {
    store: SqlStore,
    postgres: bool,
    start: Counters,
    /// PostgreSQL: the log's position at the phase's start.
    wal_start: Option<String>,
    at: Instant,
}

impl Meter {
    pub(crate) async fn start(store: &SqlStore, url: &str) -> Meter {
        let postgres = url.starts_with("postgres");
        let mut m = Meter {
            store: store.clone(),
            postgres,
            start: Counters::default(),
            wal_start: None,
            at: Instant::now(),
        };
        m.restart().await;
        m
    }

    /// Starts a new phase.
    pub(crate) async fn restart(&mut self) {
        self.wal_start = if self.postgres {
            self.wal_position().await
        } else {
            None
        };
        self.start = self.read();
        self.at = Instant::now();
    }

    fn read(&self) -> Counters {
        let own = std::fs::read_to_string("/proc/self/io").ok();
        let (server_cpu, server_disk) = if self.postgres {
            postgres_processes()
        } else {
            (None, None)
        };
        Counters {
            handed: own.as_deref().and_then(|s| field(s, "wchar")).unwrap_or(0),
            disk: own.as_deref().map(disk_bytes).unwrap_or(0),
            cpu: cpu_seconds("/proc/self/stat").unwrap_or(0.0),
            server_cpu,
            server_disk,
            commits: self.store.writer_commits(),
        }
    }

    async fn wal_position(&self) -> Option<String> {
        sqlx::query("SELECT CAST(pg_current_wal_lsn() AS TEXT) AS lsn")
            .fetch_one(self.store.pool())
            .await
            .ok()?
            .try_get("lsn")
            .ok()
    }

    /// Prints what the phase since the last start cost per request (nothing for a phase of
    /// no request), and starts the next. CPU times are counted in the kernel's ticks of
    /// 10 ms: a phase of a few requests says little.
    pub(crate) async fn report(&mut self, name: &str, requests: usize) {
        if requests == 0 {
            self.restart().await;
            return;
        }
        let wal = match &self.wal_start {
            Some(from) => sqlx::query(
                "SELECT CAST(pg_wal_lsn_diff(pg_current_wal_lsn(), CAST($1 AS pg_lsn)) AS BIGINT) AS n",
            )
            .bind(from.clone())
            .fetch_one(self.store.pool())
            .await
            .ok()
            .and_then(|r| r.try_get::<i64, _>("n").ok()),
            None => None,
        };
        let end = self.read();
        let wall = self.at.elapsed().as_secs_f64();
        let n = requests.max(1) as f64;
        let s = &self.start;
        let kb = |bytes: f64| bytes / n / 1024.0;
        let mut line = format!(
            "  ↳ {name}: written {:.1} KB/request (handed to write: {:.1} KB), CPU {:.2} ms/request, process at {:.0} % of a core",
            kb((end.disk - s.disk) as f64),
            kb(end.handed.saturating_sub(s.handed) as f64),
            (end.cpu - s.cpu) * 1000.0 / n,
            (end.cpu - s.cpu) * 100.0 / wall.max(1e-9),
        );
        if let (Some(a), Some(b)) = (s.commits, end.commits) {
            let commits = b.saturating_sub(a);
            line.push_str(&format!(
                "; {commits} commits, {:.1} requests and {:.1} KB written each",
                n / commits.max(1) as f64,
                (end.disk - s.disk) as f64 / commits.max(1) as f64 / 1024.0
            ));
        }
        if let Some(w) = wal {
            line.push_str(&format!("; PostgreSQL: log {:.1} KB/request", kb(w as f64)));
        }
        if let (Some(a), Some(b)) = (s.server_disk, end.server_disk) {
            line.push_str(&format!(", written {:.1} KB/request", kb((b - a) as f64)));
        }
        if let (Some(a), Some(b)) = (s.server_cpu, end.server_cpu) {
            line.push_str(&format!(
                ", CPU {:.2} ms/request, at {:.0} % of a core",
                (b - a) * 1000.0 / n,
                (b - a) * 100.0 / wall.max(1e-9)
            ));
        }
        println!("{line}");
        self.restart().await;
    }
}

/// A `name: value` line of `/proc/*/io`.
fn field(io: &str, name: &str) -> Option<u64> {
    io.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|v| v.trim().parse().ok())
}

fn disk_bytes(io: &str) -> i64 {
    field(io, "write_bytes").unwrap_or(0) as i64
        - field(io, "cancelled_write_bytes").unwrap_or(0) as i64
}

/// User plus system CPU seconds from a `/proc/*/stat` file (all the process's threads).
fn cpu_seconds(path: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(path).ok()?;
    cpu_of_stat(&stat)
}

fn cpu_of_stat(stat: &str) -> Option<f64> {
    // The name in parentheses may hold spaces; the fields after it start with the state
    // (field 3), so utime and stime (fields 14 and 15) are the 12th and 13th after it.
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let mut f = rest.split_whitespace().skip(11);
    let user: f64 = f.next()?.parse().ok()?;
    let system: f64 = f.next()?.parse().ok()?;
    Some((user + system) / USER_HZ)
}

/// The CPU seconds and bytes written of every process named `postgres` on this machine;
/// the bytes only if every one of them could be read.
fn postgres_processes() -> (Option<f64>, Option<i64>) {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return (None, None);
    };
    let (mut cpu, mut disk, mut found, mut readable) = (0.0, 0i64, false, true);
    for entry in dir.flatten() {
        let path = entry.path();
        let is_pid = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()));
        if !is_pid
            || !std::fs::read_to_string(path.join("comm")).is_ok_and(|c| c.trim() == "postgres")
        {
            continue;
        }
        found = true;
        cpu += cpu_seconds(&path.join("stat").to_string_lossy()).unwrap_or(0.0);
        match std::fs::read_to_string(path.join("io")) {
            Ok(io) => disk += disk_bytes(&io),
            Err(_) => readable = false,
        }
    }
    (found.then_some(cpu), (found && readable).then_some(disk))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_kernels_counters() {
        let io = "rchar: 10\nwchar: 2048\nsyscr: 1\nsyscw: 2\nread_bytes: 0\nwrite_bytes: 8192\ncancelled_write_bytes: 4096\n";
        assert_eq!(field(io, "wchar"), Some(2048));
        assert_eq!(field(io, "write_bytes"), Some(8192));
        assert_eq!(disk_bytes(io), 4096);
        // A name with a space and a parenthesis; utime 250 and stime 50 ticks.
        let stat = "42 (tokio (rt) w) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 77 1 2";
        assert_eq!(cpu_of_stat(stat), Some(3.0));
    }
}
