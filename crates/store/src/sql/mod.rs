//! [`SqlStore`]: the [`Store`] on SQLite or PostgreSQL through sqlx's `Any` driver.

mod aggregates;
mod commit;
mod warnings;

use crate::schema::MIGRATIONS;
use crate::*;
use async_trait::async_trait;
use chrono::{DateTime, Datelike, TimeZone, Utc};
use mashangban_domain::calendar::DayKind;
use mashangban_domain::catalogue::Ownership;
use mashangban_domain::intake::{format_number, number_day_key};
use mashangban_domain::knowledge::Article;
use mashangban_domain::{CategoryCode, DivisionCode, UnitKind, apply};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyConnection, AnyPool, AssertSqlSafe, Executor, Row};
use std::sync::Arc;
use tokio::sync::Mutex;

use commit::*;

mod attachments;
mod cases;
mod catalogue;
mod channels;
mod gazetteer;
mod knowledge;
mod maintenance;
mod open_data;
mod outbox;
mod reference;
mod retention;
mod throttle;
mod tickets;
mod topics;
mod users;
mod versioned;

use versioned::Versioned;

/// The store on one database, SQLite or PostgreSQL.
#[derive(Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    /// SQLite has one writer at a time: every write goes through this one connection (its
    /// page cache stays warm), queueing here instead of failing as busy.
    writer: Option<Arc<Mutex<AnyConnection>>>,
    /// Ticket writes waiting for SQLite's writer; whoever holds it next runs them all in
    /// one transaction (group commit; see [`commit::run_group`]).
    queue: Arc<std::sync::Mutex<Vec<Job>>>,
    /// SQLite: when the writer last committed, for the background checkpointer.
    wal: Arc<WalActivity>,
    /// Writes since the evaluation deltas were last folded, and whether a fold is under way.
    folds: Arc<FoldActivity>,
}

#[derive(Default)]
struct FoldActivity {
    writes: std::sync::atomic::AtomicU64,
    running: std::sync::atomic::AtomicBool,
}

/// A background fold of the evaluation deltas starts after this many writes: on SQLite a
/// few dozen group commits' deltas, on PostgreSQL one delta a write; the sums each fold
/// adds to a row are then written once for all of them.
const FOLD_EVERY_WRITES: u64 = 500;

/// What the SQLite checkpointer needs to know of the writer: whether it wrote since the
/// last checkpoint, and when it last did.
#[derive(Default)]
struct WalActivity {
    dirty: std::sync::atomic::AtomicBool,
    /// Milliseconds since the store was opened.
    last_write_ms: std::sync::atomic::AtomicU64,
    opened: std::sync::OnceLock<std::time::Instant>,
    /// Checkpoints run and failed, and when the last one ended (Unix milliseconds; 0: none).
    checkpoints: std::sync::atomic::AtomicU64,
    checkpoint_failures: std::sync::atomic::AtomicU64,
    last_checkpoint_unix_ms: std::sync::atomic::AtomicI64,
    /// Transactions the writer committed (or ended), for the bench's bytes per commit.
    commits: std::sync::atomic::AtomicU64,
}

impl WalActivity {
    fn now_ms(&self) -> u64 {
        self.opened
            .get_or_init(std::time::Instant::now)
            .elapsed()
            .as_millis() as u64
    }

    fn wrote(&self) {
        use std::sync::atomic::Ordering::Relaxed;
        self.last_write_ms.store(self.now_ms(), Relaxed);
        self.dirty.store(true, Relaxed);
        self.commits.fetch_add(1, Relaxed);
    }
}

/// The checkpointer waits for the writer to be quiet this long...
const CHECKPOINT_QUIET_MS: u64 = 100;
/// ...but no longer than this after a write, under a steady load.
const CHECKPOINT_LATEST_MS: u64 = 2_000;

/// What a queued write returns, type-erased.
type JobOutput = Box<dyn std::any::Any + Send>;
type JobFuture<'c> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<JobOutput>> + Send + 'c>>;
/// A write to run inside a transaction on the writer's connection. The evaluation sums it
/// makes go to the [`aggregates::Pending`] it is given, which the runner writes before the
/// commit: once for a whole group of writes, so that writes sharing a roll-up row (the
/// city's day, a channel's day...) update it once.
///
/// A write can be run more than once (hence `Fn`): SQLite runs a group's writes together
/// first, and only if one fails again each in a savepoint of its own.
type JobFn = Box<
    dyn for<'c> Fn(&'c mut AnyConnection, &'c mut aggregates::Pending) -> JobFuture<'c>
        + Send
        + Sync,
>;

struct Job {
    run: JobFn,
    /// A create, which the leader writes together with the group's other creates
    /// ([`commit::insert_tickets`]); `run` writes it alone.
    create: Option<CreateTicket>,
    reply: tokio::sync::oneshot::Sender<Result<JobOutput>>,
}

/// The thread SQLite's group commits are led from, with a runtime of its own. Each statement
/// of a write is a round trip to the connection's worker thread; led from the
/// server's runtime, the leader waited behind the requests being parsed and rendered at
/// every one of them, and the writer (the one thing that cannot run in parallel) sat idle
/// two thirds of the time while the machine had a core to spare. Shared by every SQLite
/// store of the process; the leader only waits on the database, so they interleave.
fn writer_runtime() -> &'static tokio::runtime::Handle {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Handle> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("the SQLite writer's runtime (a thread and a timer) could not be made");
        let handle = runtime.handle().clone();
        std::thread::Builder::new()
            .name("mashangban-sqlite-writer".into())
            .spawn(move || runtime.block_on(std::future::pending::<()>()))
            .expect("the SQLite writer's thread could not be started");
        handle
    })
}

/// Largest number of writes committed together.
const MAX_GROUP: usize = 64;

/// The connection a write runs on: SQLite's single writer, or any pooled PostgreSQL one.
enum Writer<'a> {
    Single(tokio::sync::MutexGuard<'a, AnyConnection>, &'a WalActivity),
    Pooled(sqlx::pool::PoolConnection<sqlx::Any>),
}

impl Drop for Writer<'_> {
    fn drop(&mut self) {
        if let Writer::Single(_, wal) = self {
            wal.wrote();
        }
    }
}

impl std::ops::Deref for Writer<'_> {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        match self {
            Writer::Single(c, _) => c,
            Writer::Pooled(c) => c,
        }
    }
}

impl std::ops::DerefMut for Writer<'_> {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match self {
            Writer::Single(c, _) => c,
            Writer::Pooled(c) => c,
        }
    }
}

impl Writer<'_> {
    /// Begins a write transaction (`BEGIN IMMEDIATE` on SQLite: take the lock up front).
    async fn begin(&mut self, backend: Backend) -> Result<sqlx::Transaction<'_, sqlx::Any>> {
        Ok(match backend {
            Backend::Sqlite => sqlx::Connection::begin_with(&mut **self, "BEGIN IMMEDIATE").await?,
            Backend::Postgres => sqlx::Connection::begin(&mut **self).await?,
        })
    }
}

/// SQLite's checkpoints, off the writer's path: what the writer commits goes to the
/// write-ahead log, and this task copies the log into the database once the writer has been
/// quiet for a moment (or every couple of seconds under a steady load), on a connection of
/// its own, without blocking readers or the writer (`PASSIVE`). The writer would otherwise
/// copy the log itself inside the commit that crosses SQLite's threshold, holding up every
/// write queued behind it. Ends with the store.
async fn checkpoints(
    mut conn: AnyConnection,
    writer: std::sync::Weak<Mutex<AnyConnection>>,
    wal: Arc<WalActivity>,
) {
    use std::sync::atomic::Ordering::Relaxed;
    let mut dirty_since: Option<u64> = None;
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(CHECKPOINT_QUIET_MS / 2)).await;
        if writer.strong_count() == 0 {
            break;
        }
        let now = wal.now_ms();
        if wal.dirty.load(Relaxed) && dirty_since.is_none() {
            dirty_since = Some(now);
        }
        let Some(since) = dirty_since else { continue };
        let quiet = now.saturating_sub(wal.last_write_ms.load(Relaxed)) >= CHECKPOINT_QUIET_MS;
        if !quiet && now.saturating_sub(since) < CHECKPOINT_LATEST_MS {
            continue;
        }
        wal.dirty.store(false, Relaxed);
        dirty_since = None;
        // (busy, frames in the log, frames copied): a reader still on older frames keeps
        // some back; they are copied on a later round.
        match sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&mut conn)
            .await
            .and_then(|r| Ok((r.try_get::<i64, _>(1)?, r.try_get::<i64, _>(2)?)))
        {
            Ok((log, copied)) if copied < log => wal.dirty.store(true, Relaxed),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "SQLite checkpoint failed; the next one will retry");
                wal.dirty.store(true, Relaxed);
                wal.checkpoint_failures.fetch_add(1, Relaxed);
            }
        }
        wal.checkpoints.fetch_add(1, Relaxed);
        wal.last_checkpoint_unix_ms
            .store(Utc::now().timestamp_millis(), Relaxed);
    }
}

/// Settings of every SQLite connection: the write-ahead log is checkpointed by
/// [`checkpoints`]; a connection copies it itself only past 100,000 pages (about 400 MB,
/// should the checkpointer fall behind), and the log file shrinks back to 256 MB after (kept
/// larger than what a steady load writes between two checkpoints, so that the log is
/// rewritten in place: shrunk to 64 MB and grown again after each checkpoint, the file
/// system's extending and zeroing of blocks nearly doubled the writer's time in writing
/// the log, `docs/benchmarks.md`).
/// Reads go through a memory map of up to 1 GB of the file (no copy into each connection's
/// cache).
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
    PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA cache_size = -32000; \
    PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 100000; \
    PRAGMA journal_size_limit = 268435456; PRAGMA mmap_size = 1073741824;";

/// A bound parameter.
#[derive(Debug, Clone)]
enum P {
    I(Option<i64>),
    S(Option<String>),
}

fn ts(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn from_ts(us: i64) -> DateTime<Utc> {
    Utc.timestamp_micros(us).single().unwrap_or_default()
}

fn is_sqlite(conn: &AnyConnection) -> bool {
    conn.backend_name().eq_ignore_ascii_case("sqlite")
}

/// A statement with many parameters, bound in order. On SQLite, `$1 … $n` written in
/// order become anonymous `?`: SQLite finds a named parameter by walking a list, and the
/// driver asks for every parameter's name, so a statement of hundreds of `$N` spent most
/// of its time binding (quadratic in the parameters).
fn many<'q>(
    sqlite: bool,
    sql: String,
    params: Vec<P>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    let sql = if sqlite {
        positional(&sql).unwrap_or(sql)
    } else {
        sql
    };
    bind_all(sqlx::query(AssertSqlSafe(sql)), params)
}

/// `$1 … $n`, each once and in order, replaced by `?`; `None` if the marks are otherwise.
fn positional(sql: &str) -> Option<String> {
    let mut out = String::with_capacity(sql.len());
    let mut expect = 1u32;
    let mut chars = sql.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c == '\'' {
            // Literals are copied as they are ('' inside is two quotes in a row).
            out.push(c);
            for (_, d) in chars.by_ref() {
                out.push(d);
                if d == '\'' {
                    break;
                }
            }
            continue;
        }
        if c != '$' {
            out.push(c);
            continue;
        }
        let mut n = 0u32;
        let mut digits = 0;
        while let Some((_, d)) = chars.peek().copied() {
            let Some(v) = d.to_digit(10) else { break };
            n = n.checked_mul(10)?.checked_add(v)?;
            digits += 1;
            chars.next();
        }
        if digits == 0 || n != expect {
            return None;
        }
        expect += 1;
        out.push('?');
    }
    Some(out)
}

fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    params: Vec<P>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for p in params {
        q = match p {
            P::I(v) => q.bind(v),
            P::S(v) => q.bind(v),
        };
    }
    q
}

fn dup(e: sqlx::Error, what: impl Into<String>) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && db.is_unique_violation()
    {
        return StoreError::Duplicate { what: what.into() };
    }
    if let sqlx::Error::Database(db) = &e
        && db.is_foreign_key_violation()
    {
        return StoreError::NotFound {
            what: "a referenced record".into(),
        };
    }
    StoreError::Db(e)
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn ticket_from(row: &AnyRow) -> Result<Ticket> {
    let body: String = row.try_get("body")?;
    let mut t: Ticket = serde_json::from_str(&body).map_err(corrupt)?;
    t.id = row.try_get("id")?;
    Ok(t)
}

fn event_from(row: &AnyRow) -> Result<Event> {
    let data: String = row.try_get("data")?;
    Ok(Event {
        ticket_id: row.try_get("ticket_id")?,
        seq: row.try_get("seq")?,
        at: from_ts(row.try_get("at")?),
        actor: Actor {
            user_id: row.try_get("actor_user_id")?,
            role: row
                .try_get::<String, _>("actor_role")?
                .parse()
                .map_err(corrupt)?,
            unit_id: row.try_get("actor_unit_id")?,
        },
        kind: serde_json::from_str(&data).map_err(corrupt)?,
    })
}

/// The ticket's category at `level`, kept in its own indexed column.
fn category_at(code: &Option<String>, level: u8) -> Option<String> {
    code.as_deref()
        .and_then(|c| CategoryCode::new(c).at_level(level))
        .map(str::to_string)
}

/// The code prefix a county's column keeps. (The column keeps the first six digits even
/// for a place named only at city level, as it always has; filters name a district.)
fn district_of(code: &Option<String>) -> Option<String> {
    code.as_deref()
        .and_then(|c| c.get(..DivisionCode::DISTRICT))
        .map(str::to_string)
}

/// The ticket's street, kept in its own indexed column.
fn street_of(code: &Option<String>) -> Option<String> {
    code.as_deref()
        .and_then(|c| DivisionCode::new(c).street())
        .map(str::to_string)
}

/// The indexed column that holds a code prefix of this length, if there is one.
fn level_column(col: &str, len: usize) -> Option<&'static str> {
    let category = |level: u8| level as usize * CategoryCode::DIGITS_PER_LEVEL;
    match col {
        "category_code" if len == category(1) => Some("category_l1"),
        "category_code" if len == category(2) => Some("category_l2"),
        "category_code" if len == category(CategoryCode::LEAF_LEVEL) => Some("category_code"),
        "division_code" if len == DivisionCode::DISTRICT => Some("division_county"),
        "division_code" if len == DivisionCode::STREET => Some("division_street"),
        "division_code" if len == DivisionCode::COMMUNITY => Some("division_code"),
        _ => None,
    }
}

impl SqlStore {
    /// Connects to `sqlite://PATH` (created if missing) or `postgres://...`.
    pub async fn connect(url: &str) -> Result<SqlStore> {
        sqlx::any::install_default_drivers();
        let (backend, url) = normalize_url(url)?;
        let sqlite = backend == Backend::Sqlite;
        let pool = AnyPoolOptions::new()
            .max_connections(if sqlite { 8 } else { 16 })
            .min_connections(1)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if sqlite {
                        conn.execute(sqlx::raw_sql(SQLITE_PRAGMAS)).await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        let wal = Arc::new(WalActivity::default());
        let writer = if sqlite {
            let mut conn = <AnyConnection as sqlx::Connection>::connect(&url).await?;
            conn.execute(sqlx::raw_sql(SQLITE_PRAGMAS)).await?;
            let writer = Arc::new(Mutex::new(conn));
            let mut checkpointer = <AnyConnection as sqlx::Connection>::connect(&url).await?;
            checkpointer.execute(sqlx::raw_sql(SQLITE_PRAGMAS)).await?;
            tokio::spawn(checkpoints(
                checkpointer,
                Arc::downgrade(&writer),
                wal.clone(),
            ));
            Some(writer)
        } else {
            None
        };
        Ok(SqlStore {
            pool,
            backend,
            writer,
            queue: Arc::default(),
            wal,
            folds: Arc::default(),
        })
    }

    /// SQLite: the transactions its single writer has ended since the store was opened
    /// (a group commit counts once); `None` on PostgreSQL.
    pub fn writer_commits(&self) -> Option<u64> {
        self.writer
            .as_ref()
            .map(|_| self.wal.commits.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// The connection pool, for tests and tools that need raw access.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    async fn writer(&self) -> Result<Writer<'_>> {
        Ok(match &self.writer {
            Some(c) => Writer::Single(c.lock().await, &self.wal),
            None => Writer::Pooled(self.pool.acquire().await?),
        })
    }

    fn dialect(&self, sql: &str) -> String {
        let (id, big) = match self.backend {
            Backend::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER"),
            Backend::Postgres => (
                "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
                "BIGINT",
            ),
        };
        // `{pg}` starts a line that only PostgreSQL runs (a comment on SQLite), `{sqlite}`
        // one that only SQLite runs.
        let (pg, sqlite) = match self.backend {
            Backend::Sqlite => ("-- ", ""),
            Backend::Postgres => ("", "-- "),
        };
        // `{clustered}` ends a CREATE TABLE whose rows SQLite keeps in primary-key order.
        let clustered = match self.backend {
            Backend::Sqlite => " WITHOUT ROWID",
            Backend::Postgres => "",
        };
        sql.replace("{id}", id)
            .replace("{big}", big)
            .replace("{pg}", pg)
            .replace("{sqlite}", sqlite)
            .replace("{clustered}", clustered)
    }

    /// Runs a write in a transaction of its own (PostgreSQL) or in a group commit with the
    /// other writes queued meanwhile (SQLite). A failing write rolls back alone.
    async fn run_write<T: Send + 'static>(&self, run: JobFn) -> Result<T> {
        self.run_job(run, None).await
    }

    /// [`Self::run_write`], for a write that may be a create the leader can write together
    /// with others.
    async fn run_job<T: Send + 'static>(
        &self,
        run: JobFn,
        create: Option<CreateTicket>,
    ) -> Result<T> {
        let output = match &self.writer {
            None => {
                let mut conn = self.pool.acquire().await?;
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                let mut sums = aggregates::Pending::default();
                let out = run(&mut tx, &mut sums).await?;
                sums.write(&mut tx).await?;
                tx.commit().await?;
                self.wrote_facts();
                out
            }
            Some(writer) => {
                let (reply, done) = tokio::sync::oneshot::channel();
                self.queue
                    .lock()
                    .map_err(|_| corrupt("write queue poisoned"))?
                    .push(Job { run, create, reply });
                // The leader's work runs in a task of its own, so that a request cancelled
                // midway (a client hanging up) neither delays nor aborts the writes of others.
                let (writer, queue, wal) = (writer.clone(), self.queue.clone(), self.wal.clone());
                writer_runtime().spawn(async move {
                    let mut conn = writer.lock_owned().await;
                    // Let requests that are about to write join this group: one commit's
                    // page writes then serve them all.
                    tokio::task::yield_now().await;
                    // Whoever holds the writer leads: it runs every queued write, its own
                    // among them unless an earlier leader already did (then none are left).
                    let mut batch: Vec<Job> = match queue.lock() {
                        Ok(mut q) => std::mem::take(&mut *q),
                        Err(_) => return,
                    };
                    while !batch.is_empty() {
                        let rest = if batch.len() > MAX_GROUP {
                            batch.split_off(MAX_GROUP)
                        } else {
                            Vec::new()
                        };
                        tracing::trace!(writes = batch.len(), "group commit");
                        run_group(&mut conn, batch).await;
                        wal.wrote();
                        batch = rest;
                    }
                });
                let out = done
                    .await
                    .map_err(|_| corrupt("a grouped write was dropped"))??;
                self.wrote_facts();
                out
            }
        };
        output
            .downcast::<T>()
            .map(|b| *b)
            .map_err(|_| corrupt("a grouped write returned the wrong type"))
    }

    /// Counts a write; every [`FOLD_EVERY_WRITES`] starts a fold of the evaluation deltas
    /// in the background (one at a time in this process).
    fn wrote_facts(&self) {
        use std::sync::atomic::Ordering::Relaxed;
        let n = self.folds.writes.fetch_add(1, Relaxed) + 1;
        if n < FOLD_EVERY_WRITES || self.folds.running.swap(true, Relaxed) {
            return;
        }
        self.folds.writes.store(0, Relaxed);
        let store = self.clone();
        let fold = async move {
            if let Err(e) = store.fold_deltas().await {
                tracing::warn!(error = %e, "folding the evaluation deltas failed; the next fold or read will retry");
            }
            store.folds.running.store(false, Relaxed);
        };
        if self.writer.is_some() {
            writer_runtime().spawn(fold);
        } else {
            tokio::spawn(fold);
        }
    }

    /// Adds the evaluation deltas committed so far to the aggregates (see
    /// [`aggregates::fold`]); the reads of the aggregates call it first. How many it folded.
    pub async fn fold_deltas(&self) -> Result<u64> {
        let mut conn = self.pool.acquire().await?;
        let Some(upto) = aggregates::newest_delta(&mut conn).await? else {
            return Ok(0);
        };
        let mut folded = 0;
        loop {
            // SQLite: the writer is taken for one short transaction at a time.
            let (n, limit) = match self.writer {
                Some(_) => {
                    let limit = aggregates::FOLD_CHUNK_SQLITE;
                    let mut w = self.writer().await?;
                    (aggregates::fold(&mut w, upto, limit).await?, limit)
                }
                None => {
                    let limit = aggregates::FOLD_CHUNK_POSTGRES;
                    (aggregates::fold(&mut conn, upto, limit).await?, limit)
                }
            };
            folded += n as u64;
            if n < limit {
                return Ok(folded);
            }
        }
    }

    async fn idempotent_hit(&self, user_id: i64, key: &str, hash: &str) -> Result<Option<Ticket>> {
        let row = sqlx::query("SELECT ticket_id, request_hash FROM idempotency_keys WHERE user_id = $1 AND idem_key = $2")
            .bind(user_id)
            .bind(key.to_string())
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let stored: String = row.try_get("request_hash")?;
        if stored != hash {
            return Err(StoreError::IdempotencyMismatch);
        }
        let Some(id) = row.try_get::<Option<i64>, _>("ticket_id")? else {
            return Ok(None);
        };
        self.get_ticket(id).await
    }
}

/// Splits a database URL into its backend and the URL sqlx should open.
fn normalize_url(url: &str) -> Result<(Backend, String)> {
    if let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let path = rest.split('?').next().unwrap_or(rest);
        if path.is_empty() {
            return Err(StoreError::BadUrl(url.to_string()));
        }
        if path != ":memory:"
            && let Some(parent) = std::path::Path::new(path).parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Corrupt(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        let mut u = format!("sqlite://{rest}");
        if !rest.contains("mode=") {
            u.push_str(if rest.contains('?') {
                "&mode=rwc"
            } else {
                "?mode=rwc"
            });
        }
        Ok((Backend::Sqlite, u))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok((Backend::Postgres, url.to_string()))
    } else {
        Err(StoreError::BadUrl(url.to_string()))
    }
}

/// The migrations after which the evaluation aggregates are rebuilt from the events: the
/// one that creates them, and those that change what they keep.
const REBUILD_AFTER: [i64; 4] = [14, 17, 22, 25];

/// Advances a counter by `$2`; its new value (the last of the numbers taken).
const TAKE_SEQS: &str = "INSERT INTO counters (name, value) VALUES ($1, $2) \
     ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value RETURNING value";

/// A record as a history row kept it (`before_json` or `after_json`).
fn before_after<T: serde::de::DeserializeOwned>(r: &AnyRow, column: &str) -> Result<Option<T>> {
    r.try_get::<Option<String>, _>(column)?
        .map(|t| serde_json::from_str(&t).map_err(corrupt))
        .transpose()
}

/// `($1, $2, ...), ($n+1, ...)`: the placeholders of `rows` rows of `width` values.
fn value_rows(rows: usize, width: usize) -> String {
    (0..rows)
        .map(|r| {
            let marks: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", marks.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(value_rows(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(
            positional("SELECT '$9', x FROM t WHERE a IN ($1, $2) AND b = $3").as_deref(),
            Some("SELECT '$9', x FROM t WHERE a IN (?, ?) AND b = ?")
        );
        assert_eq!(positional("SELECT $2, $1"), None);
        assert_eq!(positional("SELECT $1, $1"), None);
        assert_eq!(positional("SELECT 1").as_deref(), Some("SELECT 1"));
        assert_eq!(
            normalize_url("sqlite://data/x.db").unwrap(),
            (Backend::Sqlite, "sqlite://data/x.db?mode=rwc".into())
        );
        assert_eq!(
            normalize_url("sqlite:x.db?mode=ro").unwrap().1,
            "sqlite://x.db?mode=ro"
        );
        assert_eq!(
            normalize_url("postgres://u@h/db").unwrap().0,
            Backend::Postgres
        );
        assert!(matches!(
            normalize_url("mysql://x"),
            Err(StoreError::BadUrl(_))
        ));
        assert!(matches!(
            normalize_url("sqlite://"),
            Err(StoreError::BadUrl(_))
        ));
    }
}
