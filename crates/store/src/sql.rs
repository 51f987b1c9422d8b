//! [`SqlStore`]: the [`Store`] on SQLite or PostgreSQL through sqlx's `Any` driver.

#[path = "aggregates.rs"]
mod aggregates;
#[path = "warnings.rs"]
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

/// The store on one database, SQLite or PostgreSQL.
#[derive(Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    /// SQLite has one writer at a time: every write goes through this one connection (its
    /// page cache stays warm), queueing here instead of failing as busy.
    writer: Option<Arc<Mutex<AnyConnection>>>,
    /// Ticket writes waiting for SQLite's writer; whoever holds it next runs them all in
    /// one transaction (group commit), each in its own savepoint.
    queue: Arc<std::sync::Mutex<Vec<Job>>>,
    /// SQLite: when the writer last committed, for the background checkpointer.
    wal: Arc<WalActivity>,
}

/// What the SQLite checkpointer needs to know of the writer: whether it wrote since the
/// last checkpoint, and when it last did.
#[derive(Default)]
struct WalActivity {
    dirty: std::sync::atomic::AtomicBool,
    /// Milliseconds since the store was opened.
    last_write_ms: std::sync::atomic::AtomicU64,
    opened: std::sync::OnceLock<std::time::Instant>,
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
type JobFn = Box<
    dyn for<'c> FnOnce(&'c mut AnyConnection, &'c mut aggregates::Pending) -> JobFuture<'c> + Send,
>;

struct Job {
    run: JobFn,
    reply: tokio::sync::oneshot::Sender<Result<JobOutput>>,
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
            }
        }
    }
}

/// Settings of every SQLite connection: the write-ahead log is checkpointed by
/// [`checkpoints`]; a connection copies it itself only past 100,000 pages (about 400 MB,
/// should the checkpointer fall behind), and the log file shrinks back to 64 MB after.
/// Reads go through a memory map of up to 1 GB of the file (no copy into each connection's
/// cache).
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
    PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA cache_size = -32000; \
    PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 100000; \
    PRAGMA journal_size_limit = 67108864; PRAGMA mmap_size = 1073741824;";

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

fn division_from(row: &AnyRow) -> Result<Division> {
    Ok(Division {
        code: row.try_get("code")?,
        name: row.try_get("name")?,
        level: row
            .try_get::<String, _>("level")?
            .parse()
            .map_err(corrupt)?,
        parent_code: row.try_get("parent_code")?,
        population: row.try_get("population")?,
    })
}

fn unit_from(row: &AnyRow) -> Result<Unit> {
    Ok(Unit {
        id: row.try_get("id")?,
        code: row.try_get("code")?,
        name: row.try_get("name")?,
        kind: row
            .try_get::<String, _>("kind")?
            .parse::<UnitKind>()
            .map_err(corrupt)?,
        parent_id: row.try_get("parent_id")?,
        division_code: row.try_get("division_code")?,
        active: row.try_get::<i64, _>("active")? != 0,
    })
}

fn category_from(row: &AnyRow) -> Result<Category> {
    Ok(Category {
        code: row.try_get("code")?,
        name: row.try_get("name")?,
        parent_code: row.try_get("parent_code")?,
        level: row.try_get::<i64, _>("level")? as u8,
        default_tier: row
            .try_get::<Option<i64>, _>("default_tier")?
            .map(|t| t as u8),
        active: row.try_get::<i64, _>("active")? != 0,
    })
}

const UNIT_COLS: &str = "id, code, name, kind, parent_id, division_code, active";
const CATEGORY_COLS: &str = "code, name, parent_code, level, default_tier, active";
const DIVISION_COLS: &str = "code, name, level, parent_code, population";
const USER_COLS: &str =
    "id, username, display_name, role, unit_id, active, created_at, locked_until";

fn user_from(row: &AnyRow) -> Result<User> {
    Ok(User {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        role: row.try_get::<String, _>("role")?.parse().map_err(corrupt)?,
        unit_id: row.try_get("unit_id")?,
        active: row.try_get::<i64, _>("active")? != 0,
        created_at: from_ts(row.try_get("created_at")?),
        locked_until: row.try_get::<Option<i64>, _>("locked_until")?.map(from_ts),
    })
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

/// The indexed columns of a ticket, written beside its JSON body.
fn ticket_columns(t: &Ticket) -> Result<Vec<P>> {
    let mut body = t.clone();
    body.id = 0; // the id lives in its column
    Ok(vec![
        P::S(Some(t.state.as_str().to_string())),
        P::S(t.category_code.clone()),
        P::S(t.division_code.clone()),
        P::I(t.lead_unit_id),
        P::I(t.parent_id),
        P::I(Some(ts(t.updated_at))),
        P::I(Some(t.version)),
        P::S(Some(serde_json::to_string(&body).map_err(corrupt)?)),
        P::I(Some(i64::from(t.pending_extension.is_some()))),
        P::S(category_at(&t.category_code, 1)),
        P::S(category_at(&t.category_code, 2)),
        P::S(district_of(&t.division_code)),
        P::S(street_of(&t.division_code)),
    ])
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
        })
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
        // `{pg}` starts a line that only PostgreSQL runs (a comment on SQLite).
        let pg = match self.backend {
            Backend::Sqlite => "-- ",
            Backend::Postgres => "",
        };
        // `{clustered}` ends a CREATE TABLE whose rows SQLite keeps in primary-key order.
        let clustered = match self.backend {
            Backend::Sqlite => " WITHOUT ROWID",
            Backend::Postgres => "",
        };
        sql.replace("{id}", id)
            .replace("{big}", big)
            .replace("{pg}", pg)
            .replace("{clustered}", clustered)
    }

    /// Runs a write in a transaction of its own (PostgreSQL) or in a group commit with the
    /// other writes queued meanwhile (SQLite). A failing write rolls back alone.
    async fn run_write<T: Send + 'static>(&self, run: JobFn) -> Result<T> {
        let output = match &self.writer {
            None => {
                let mut conn = self.pool.acquire().await?;
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                let mut sums = aggregates::Pending::for_conn(&tx);
                let out = run(&mut tx, &mut sums).await?;
                sums.write(&mut tx).await?;
                tx.commit().await?;
                out
            }
            Some(writer) => {
                let (reply, done) = tokio::sync::oneshot::channel();
                self.queue
                    .lock()
                    .map_err(|_| corrupt("write queue poisoned"))?
                    .push(Job { run, reply });
                // The leader's work runs in a task of its own, so that a request cancelled
                // midway (a client hanging up) neither delays nor aborts the writes of others.
                let (writer, queue, wal) = (writer.clone(), self.queue.clone(), self.wal.clone());
                tokio::spawn(async move {
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
                done.await
                    .map_err(|_| corrupt("a grouped write was dropped"))??
            }
        };
        output
            .downcast::<T>()
            .map(|b| *b)
            .map_err(|_| corrupt("a grouped write returned the wrong type"))
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

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> Backend {
        self.backend
    }

    async fn migrate(&self) -> Result<()> {
        let mut conn = self.writer().await?;
        if self.backend == Backend::Postgres {
            conn.execute("SELECT pg_advisory_lock(1234512345)").await?;
        }
        let result = async {
            conn.execute(AssertSqlSafe(self.dialect(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version {big} PRIMARY KEY, name TEXT NOT NULL, applied_at {big} NOT NULL)",
            )))
            .await?;
            let mut fill_aggregates = false;
            for m in MIGRATIONS {
                let done = sqlx::query("SELECT version FROM schema_migrations WHERE version = $1")
                    .bind(m.version)
                    .fetch_optional(&mut *conn)
                    .await?;
                if done.is_some() {
                    continue;
                }
                let mut tx = conn.begin(self.backend).await?;
                tx.execute(sqlx::raw_sql(AssertSqlSafe(self.dialect(m.sql)))).await?;
                sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
                    .bind(m.version)
                    .bind(m.name.to_string())
                    .bind(ts(Utc::now()))
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                tracing::info!(version = m.version, name = m.name, "applied migration");
                fill_aggregates |= REBUILD_AFTER.contains(&m.version);
            }
            if fill_aggregates {
                // A database from before the aggregates, or from before a change of what they
                // keep: fill them from its events.
                let mut tx = conn.begin(self.backend).await?;
                let report = aggregates::rebuild(&mut tx).await?;
                tx.commit().await?;
                if report.events > 0 {
                    tracing::info!(
                        tickets = report.tickets,
                        events = report.events,
                        rows = report.rows,
                        "filled the evaluation aggregates from the events"
                    );
                }
            }
            Ok::<_, StoreError>(())
        }
        .await;
        if self.backend == Backend::Postgres {
            conn.execute("SELECT pg_advisory_unlock(1234512345)")
                .await?;
        }
        result
    }

    async fn analyze(&self) -> Result<()> {
        let mut w = self.writer().await?;
        match self.backend {
            // Also clear the dead row versions a bulk update leaves (what autovacuum does
            // in its own time), so that reads after it do not wade through them.
            Backend::Postgres => sqlx::query("VACUUM (ANALYZE)").execute(&mut *w).await?,
            Backend::Sqlite => sqlx::query("ANALYZE").execute(&mut *w).await?,
        };
        if self.backend == Backend::Sqlite {
            // Copy what the write-ahead log holds into the database and empty it, so that
            // the next writes do not pay for the checkpoint of everything before them.
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&mut *w)
                .await?;
        }
        Ok(())
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn upsert_divisions(&self, divisions: &[Division]) -> Result<usize> {
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        for d in divisions {
            sqlx::query(
                "INSERT INTO divisions (code, name, level, parent_code, population) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level, \
                 parent_code = excluded.parent_code, population = COALESCE(excluded.population, divisions.population)",
            )
            .bind(d.code.clone())
            .bind(d.name.clone())
            .bind(d.level.as_str().to_string())
            .bind(d.parent_code.clone())
            .bind(d.population)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(divisions.len())
    }

    async fn list_divisions(
        &self,
        parent: Option<&str>,
        level: Option<DivisionLevel>,
    ) -> Result<Vec<Division>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {DIVISION_COLS} FROM divisions \
             WHERE ($1 IS NULL OR parent_code = $1) AND ($2 IS NULL OR level = $2) ORDER BY code"
        )))
        .bind(parent.map(str::to_string))
        .bind(level.map(|l| l.as_str().to_string()))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(division_from).collect()
    }

    async fn get_division(&self, code: &str) -> Result<Option<Division>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {DIVISION_COLS} FROM divisions WHERE code = $1"
        )))
        .bind(code.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(division_from).transpose()
    }

    async fn set_population(&self, code: &str, population: Option<i64>) -> Result<()> {
        let mut w = self.writer().await?;
        let r = sqlx::query("UPDATE divisions SET population = $1 WHERE code = $2")
            .bind(population)
            .bind(code.to_string())
            .execute(&mut *w)
            .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: format!("division {code}"),
            });
        }
        Ok(())
    }

    async fn insert_unit(&self, u: &NewUnit) -> Result<Unit> {
        let mut w = self.writer().await?;
        let row = sqlx::query(
            "INSERT INTO units (code, name, kind, parent_id, division_code, active) VALUES ($1, $2, $3, $4, $5, 1) \
             RETURNING id, code, name, kind, parent_id, division_code, active",
        )
        .bind(u.code.clone())
        .bind(u.name.clone())
        .bind(u.kind.as_str().to_string())
        .bind(u.parent_id)
        .bind(u.division_code.clone())
        .fetch_one(&mut *w)
        .await
        .map_err(|e| dup(e, format!("unit code {}", u.code)))?;
        unit_from(&row)
    }

    async fn get_unit(&self, id: i64) -> Result<Option<Unit>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {UNIT_COLS} FROM units WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(unit_from).transpose()
    }

    async fn get_unit_by_code(&self, code: &str) -> Result<Option<Unit>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {UNIT_COLS} FROM units WHERE code = $1"
        )))
        .bind(code.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(unit_from).transpose()
    }

    async fn list_units(&self) -> Result<Vec<Unit>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {UNIT_COLS} FROM units ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(unit_from).collect()
    }

    async fn upsert_categories(&self, categories: &[Category]) -> Result<usize> {
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        for c in categories {
            sqlx::query(
                "INSERT INTO categories (code, name, parent_code, level, default_tier, active) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, parent_code = excluded.parent_code, \
                 level = excluded.level, default_tier = excluded.default_tier, active = excluded.active",
            )
            .bind(c.code.clone())
            .bind(c.name.clone())
            .bind(c.parent_code.clone())
            .bind(c.level as i64)
            .bind(c.default_tier.map(i64::from))
            .bind(c.active as i64)
            .execute(&mut *tx)
            .await
            .map_err(|e| dup(e, format!("category {}", c.code)))?;
        }
        tx.commit().await?;
        Ok(categories.len())
    }

    async fn calendar(&self) -> Result<(Vec<CalendarDay>, Vec<i32>)> {
        let rows = sqlx::query("SELECT day, kind, name FROM calendar_days ORDER BY day")
            .fetch_all(&self.pool)
            .await?;
        let mut days = Vec::with_capacity(rows.len());
        for r in &rows {
            let day: String = r.try_get("day")?;
            let kind: String = r.try_get("kind")?;
            days.push(CalendarDay {
                date: chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d")
                    .map_err(|e| corrupt(format!("calendar day {day}: {e}")))?,
                kind: match kind.as_str() {
                    "holiday" => DayKind::Holiday,
                    "workday" => DayKind::Workday,
                    other => return Err(corrupt(format!("calendar kind {other}"))),
                },
                name: r.try_get("name")?,
            });
        }
        let years = sqlx::query("SELECT year FROM calendar_years ORDER BY year")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.try_get::<i64, _>("year").map(|y| y as i32))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((days, years))
    }

    async fn upsert_calendar_days(&self, days: &[CalendarDay]) -> Result<usize> {
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        let mut years = std::collections::BTreeSet::new();
        for d in days {
            sqlx::query(
                "INSERT INTO calendar_days (day, kind, name) VALUES ($1, $2, $3) \
                 ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, name = excluded.name",
            )
            .bind(d.date.format("%Y-%m-%d").to_string())
            .bind(d.kind.as_str())
            .bind(d.name.clone())
            .execute(&mut *tx)
            .await?;
            years.insert(d.date.year());
        }
        for y in years {
            sqlx::query(
                "INSERT INTO calendar_years (year) VALUES ($1) ON CONFLICT (year) DO NOTHING",
            )
            .bind(i64::from(y))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(days.len())
    }

    async fn delete_calendar_day(&self, date: chrono::NaiveDate) -> Result<bool> {
        let mut w = self.writer().await?;
        let r = sqlx::query("DELETE FROM calendar_days WHERE day = $1")
            .bind(date.format("%Y-%m-%d").to_string())
            .execute(&mut *w)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    async fn set_calendar_year(&self, year: i32, known: bool) -> Result<()> {
        let mut w = self.writer().await?;
        let sql = if known {
            "INSERT INTO calendar_years (year) VALUES ($1) ON CONFLICT (year) DO NOTHING"
        } else {
            "DELETE FROM calendar_years WHERE year = $1"
        };
        sqlx::query(sql)
            .bind(i64::from(year))
            .execute(&mut *w)
            .await?;
        Ok(())
    }

    async fn setting(&self, name: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT value FROM settings WHERE name = $1")
            .bind(name.to_string())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("value")).transpose()?)
    }

    async fn set_setting(&self, name: &str, value: &str, at: DateTime<Utc>) -> Result<()> {
        let mut w = self.writer().await?;
        sqlx::query(
            "INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(name.to_string())
        .bind(value.to_string())
        .bind(ts(at))
        .execute(&mut *w)
        .await?;
        Ok(())
    }

    async fn list_categories(&self) -> Result<Vec<Category>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CATEGORY_COLS} FROM categories ORDER BY code"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(category_from).collect()
    }

    async fn get_category(&self, code: &str) -> Result<Option<Category>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CATEGORY_COLS} FROM categories WHERE code = $1"
        )))
        .bind(code.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(category_from).transpose()
    }

    async fn insert_user(&self, u: &NewUser, at: DateTime<Utc>) -> Result<User> {
        let mut w = self.writer().await?;
        let row = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO users (username, display_name, role, unit_id, password_hash, active, created_at) \
             VALUES ($1, $2, $3, $4, $5, 1, $6) RETURNING {USER_COLS}"
        )))
        .bind(u.username.clone())
        .bind(u.display_name.clone())
        .bind(u.role.as_str().to_string())
        .bind(u.unit_id)
        .bind(u.password_hash.clone())
        .bind(ts(at))
        .fetch_one(&mut *w)
        .await
        .map_err(|e| dup(e, format!("user {}", u.username)))?;
        user_from(&row)
    }

    async fn get_user(&self, id: i64) -> Result<Option<User>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLS} FROM users WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from).transpose()
    }

    async fn get_credentials(&self, username: &str) -> Result<Option<(User, Option<String>)>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLS}, password_hash FROM users WHERE username = $1"
        )))
        .bind(username.to_string())
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => Ok(Some((user_from(&r)?, r.try_get("password_hash")?))),
            None => Ok(None),
        }
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLS} FROM users ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(user_from).collect()
    }

    async fn update_user(&self, id: i64, change: &UserUpdate) -> Result<User> {
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        if self.backend == Backend::Postgres {
            // Concurrent changes to administrators queue here, so that two administrators
            // disabling each other cannot both see the other one still active.
            sqlx::query(
                "SELECT id FROM users WHERE role = 'admin' AND active = 1 ORDER BY id FOR UPDATE",
            )
            .fetch_all(&mut *tx)
            .await?;
        }
        let Some(before) = sqlx::query("SELECT role, active FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Err(StoreError::NotFound {
                what: format!("user {id}"),
            });
        };
        let was_admin = before.try_get::<String, _>("role")? == Role::Admin.as_str()
            && before.try_get::<i64, _>("active")? != 0;
        if let Some((role, unit_id)) = change.role {
            sqlx::query("UPDATE users SET role = $1, unit_id = $2 WHERE id = $3")
                .bind(role.as_str())
                .bind(unit_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(hash) = &change.password_hash {
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                .bind(hash.clone())
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(active) = change.active {
            sqlx::query("UPDATE users SET active = $1 WHERE id = $2")
                .bind(active as i64)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLS} FROM users WHERE id = $1"
        )))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let user = user_from(&row)?;
        if was_admin && !(user.role == Role::Admin && user.active) {
            let admins: i64 =
                sqlx::query("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND active = 1")
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("n")?;
            if admins == 0 {
                // Dropping the transaction rolls the whole change back.
                return Err(StoreError::LastAdmin);
            }
        }
        tx.commit().await?;
        Ok(user)
    }

    async fn insert_token(
        &self,
        user_id: i64,
        token_hash: &str,
        name: &str,
        at: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<i64> {
        let mut w = self.writer().await?;
        let row = sqlx::query(
            "INSERT INTO api_tokens (user_id, token_hash, name, created_at, expires_at, revoked) VALUES ($1, $2, $3, $4, $5, 0) RETURNING id",
        )
        .bind(user_id)
        .bind(token_hash.to_string())
        .bind(name.to_string())
        .bind(ts(at))
        .bind(expires_at.map(ts))
        .fetch_one(&mut *w)
        .await
        .map_err(|e| dup(e, "token"))?;
        Ok(row.try_get("id")?)
    }

    async fn user_by_token(&self, token_hash: &str, at: DateTime<Utc>) -> Result<Option<User>> {
        let row = sqlx::query(
            "SELECT u.id, u.username, u.display_name, u.role, u.unit_id, u.active, u.created_at, u.locked_until \
             FROM api_tokens k JOIN users u ON u.id = k.user_id \
             WHERE k.token_hash = $1 AND k.revoked = 0 AND (k.expires_at IS NULL OR k.expires_at > $2) AND u.active = 1",
        )
        .bind(token_hash.to_string())
        .bind(ts(at))
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from).transpose()
    }

    async fn record_login(
        &self,
        user_id: i64,
        ok: bool,
        at: DateTime<Utc>,
        max_failures: i64,
        lock_for: chrono::Duration,
    ) -> Result<Option<DateTime<Utc>>> {
        let mut w = self.writer().await?;
        if ok {
            sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
                .bind(user_id)
                .execute(&mut *w)
                .await?;
            return Ok(None);
        }
        let until = at + lock_for;
        let row = sqlx::query(
            "UPDATE users SET \
               locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3 ELSE locked_until END, \
               failed_logins = CASE WHEN failed_logins + 1 >= $2 THEN 0 ELSE failed_logins + 1 END \
             WHERE id = $1 RETURNING locked_until",
        )
        .bind(user_id)
        .bind(max_failures)
        .bind(ts(until))
        .fetch_optional(&mut *w)
        .await?;
        let locked = match row {
            Some(r) => r.try_get::<Option<i64>, _>("locked_until")?.map(from_ts),
            None => {
                return Err(StoreError::NotFound {
                    what: format!("user {user_id}"),
                });
            }
        };
        Ok(locked.filter(|l| *l > at))
    }

    async fn list_tokens(&self, user_id: Option<i64>) -> Result<Vec<TokenInfo>> {
        let rows = sqlx::query(
            "SELECT k.id, k.user_id, u.username, k.name, k.created_at, k.expires_at, k.revoked \
             FROM api_tokens k JOIN users u ON u.id = k.user_id WHERE ($1 IS NULL OR k.user_id = $1) ORDER BY k.id DESC",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TokenInfo {
                    id: r.try_get("id")?,
                    user_id: r.try_get("user_id")?,
                    username: r.try_get("username")?,
                    name: r.try_get("name")?,
                    created_at: from_ts(r.try_get("created_at")?),
                    expires_at: r.try_get::<Option<i64>, _>("expires_at")?.map(from_ts),
                    revoked: r.try_get::<i64, _>("revoked")? != 0,
                })
            })
            .collect()
    }

    async fn revoke_token(&self, id: Option<i64>, token_hash: Option<&str>) -> Result<bool> {
        let mut w = self.writer().await?;
        let r = sqlx::query(
            "UPDATE api_tokens SET revoked = 1 WHERE (id = $1 OR token_hash = $2) AND revoked = 0",
        )
        .bind(id)
        .bind(token_hash.map(str::to_string))
        .execute(&mut *w)
        .await?;
        Ok(r.rows_affected() > 0)
    }

    async fn create_ticket(&self, req: CreateTicket) -> Result<Created> {
        if let Some((key, hash)) = &req.idempotency
            && let Some(t) = self.idempotent_hit(req.actor.user_id, key, hash).await?
        {
            return Ok(Created {
                ticket: t,
                created: false,
            });
        }
        // The day's sequence: on PostgreSQL it is taken outside the transaction, so that
        // concurrent creates do not queue behind one counter row (a rolled-back create
        // leaves a gap); SQLite has one writer anyway, so there it is inside.
        let counter = format!("ticket_number:{}", number_day_key(req.at));
        let pre_seq: Option<i64> = match self.backend {
            Backend::Postgres => Some(
                sqlx::query(NEXT_SEQ)
                    .bind(counter.clone())
                    .fetch_one(&self.pool)
                    .await?
                    .try_get("value")?,
            ),
            Backend::Sqlite => None,
        };
        let job_req = req.clone();
        let result = self
            .run_write::<Ticket>(Box::new(
                move |conn: &mut AnyConnection, sums: &mut aggregates::Pending| -> JobFuture<'_> {
                    Box::pin(async move {
                        Ok(
                            Box::new(insert_ticket(conn, sums, job_req, pre_seq, counter).await?)
                                as JobOutput,
                        )
                    })
                },
            ))
            .await;
        match (result, &req.idempotency) {
            (Ok(ticket), _) => Ok(Created {
                ticket,
                created: true,
            }),
            (Err(StoreError::IdempotencyRace), Some((key, hash))) => {
                // Another request with this key committed first: answer with its ticket.
                match self.idempotent_hit(req.actor.user_id, key, hash).await? {
                    Some(t) => Ok(Created {
                        ticket: t,
                        created: false,
                    }),
                    None => Err(StoreError::Conflict),
                }
            }
            (Err(e), _) => Err(e),
        }
    }

    async fn get_ticket(&self, id: i64) -> Result<Option<Ticket>> {
        let row = sqlx::query("SELECT id, body FROM tickets WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(ticket_from).transpose()
    }

    async fn get_tickets(&self, ids: &[i64]) -> Result<Vec<Ticket>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT id, body FROM tickets WHERE id IN ({}) ORDER BY id",
            marks.join(", ")
        );
        let q = many(
            self.backend == Backend::Sqlite,
            sql,
            ids.iter().map(|i| P::I(Some(*i))).collect(),
        );
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(ticket_from).collect()
    }

    async fn list_tickets(&self, f: &TicketFilter) -> Result<Vec<Ticket>> {
        let mut params: Vec<P> = Vec::new();
        let next = |params: &mut Vec<P>, p: P| {
            params.push(p);
            format!("${}", params.len())
        };
        // With a unit, walk that unit's index of tickets (newest first) and join the rest.
        let (mut sql, order) = match f.unit_id {
            Some(u) => {
                let m = next(&mut params, P::I(Some(u)));
                (
                    format!(
                        "SELECT t.id, t.body FROM ticket_units tu JOIN tickets t ON t.id = tu.ticket_id \
                         WHERE tu.unit_id = {m}"
                    ),
                    "tu.ticket_id",
                )
            }
            None => (
                String::from("SELECT t.id, t.body FROM tickets t WHERE 1 = 1"),
                "t.id",
            ),
        };
        if !f.states.is_empty() {
            let marks: Vec<String> = f
                .states
                .iter()
                .map(|s| next(&mut params, P::S(Some(s.as_str().to_string()))))
                .collect();
            sql.push_str(&format!(" AND t.state IN ({})", marks.join(", ")));
        }
        if let Some(c) = f.channel {
            let m = next(&mut params, P::S(Some(c.as_str().to_string())));
            sql.push_str(&format!(" AND t.channel = {m}"));
        }
        for (col, prefix) in [
            ("category_code", &f.category_prefix),
            ("division_code", &f.division_prefix),
        ] {
            if let Some(p) = prefix {
                let len = p.chars().count();
                let m = next(&mut params, P::S(Some(p.clone())));
                match level_column(col, len) {
                    // An ancestor's code of a known level: an indexed equality.
                    Some(level) => sql.push_str(&format!(" AND t.{level} = {m}")),
                    // The length is a number we computed, safe to inline (PostgreSQL wants an int4).
                    None => sql.push_str(&format!(" AND substr(t.{col}, 1, {len}) = {m}")),
                }
            }
        }
        if let Some(t) = f.created_from {
            let m = next(&mut params, P::I(Some(ts(t))));
            sql.push_str(&format!(" AND t.created_at >= {m}"));
        }
        if let Some(t) = f.created_to {
            let m = next(&mut params, P::I(Some(ts(t))));
            sql.push_str(&format!(" AND t.created_at < {m}"));
        }
        if let Some(p) = &f.citizen_phone {
            let m = next(&mut params, P::S(Some(p.clone())));
            sql.push_str(&format!(" AND t.citizen_phone = {m}"));
        }
        if let Some(p) = f.extension_pending {
            let m = next(&mut params, P::I(Some(i64::from(p))));
            sql.push_str(&format!(" AND t.extension_pending = {m}"));
        }
        if f.alert_at_least.is_some()
            || f.supervision_at_least.is_some()
            || f.awaiting_answer.is_some()
        {
            // The partial index holds exactly the flagged tickets.
            sql.push_str(
                " AND t.id IN (SELECT w.ticket_id FROM ticket_watch w \
                 WHERE (w.alert_level > 0 OR w.supervision_level > 0)",
            );
            if let Some(a) = f.alert_at_least {
                let m = next(&mut params, P::I(Some(i64::from(a))));
                sql.push_str(&format!(" AND w.alert_level >= {m}"));
            }
            if let Some(l) = f.supervision_at_least {
                let m = next(&mut params, P::I(Some(i64::from(l))));
                sql.push_str(&format!(" AND w.supervision_level >= {m}"));
            }
            if let Some(a) = f.awaiting_answer {
                let m = next(&mut params, P::I(Some(i64::from(a))));
                sql.push_str(&format!(" AND w.awaiting_answer = {m}"));
            }
            sql.push(')');
        }
        if let Some(b) = f.before_id {
            let m = next(&mut params, P::I(Some(b)));
            sql.push_str(&format!(" AND {order} < {m}"));
        }
        let limit = f.limit.clamp(1, 1000) as i64;
        let m = next(&mut params, P::I(Some(limit)));
        sql.push_str(&format!(" ORDER BY {order} DESC LIMIT {m}"));
        let rows = bind_all(sqlx::query(AssertSqlSafe(sql)), params)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(ticket_from).collect()
    }

    async fn claim_notices(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Notice>> {
        // PostgreSQL: rows another sender is claiming are skipped, not waited for. SQLite
        // has one writer at a time, which is claim enough.
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE outbox SET claimed_until = $1, attempts = attempts + 1 WHERE id IN \
             (SELECT id FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL AND not_before <= $2 \
              AND (claimed_until IS NULL OR claimed_until <= $2) ORDER BY not_before, id LIMIT $3{lock}) \
             RETURNING {NOTICE_COLUMNS}"
        );
        let mut w = self.writer().await?;
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(ts(lease_until))
            .bind(ts(now))
            .bind(i64::from(limit.clamp(1, 1000)))
            .fetch_all(&mut *w)
            .await?;
        let mut out: Vec<Notice> = rows.iter().map(notice_from).collect::<Result<_>>()?;
        out.sort_by_key(|n| (n.not_before, n.id));
        Ok(out)
    }

    async fn notice_sent(&self, id: i64, at: DateTime<Utc>) -> Result<()> {
        let mut w = self.writer().await?;
        sqlx::query(
            "UPDATE outbox SET sent_at = $1, claimed_until = NULL, last_error = NULL WHERE id = $2",
        )
        .bind(ts(at))
        .bind(id)
        .execute(&mut *w)
        .await?;
        Ok(())
    }

    async fn notice_failed(
        &self,
        id: i64,
        at: DateTime<Utc>,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let error: String = error.chars().take(500).collect();
        let mut w = self.writer().await?;
        let q = match retry_at {
            Some(r) => sqlx::query(
                "UPDATE outbox SET not_before = $1, claimed_until = NULL, last_error = $2 WHERE id = $3",
            )
            .bind(ts(r)),
            None => sqlx::query(
                "UPDATE outbox SET failed_at = $1, claimed_until = NULL, last_error = $2 WHERE id = $3",
            )
            .bind(ts(at)),
        };
        q.bind(error).bind(id).execute(&mut *w).await?;
        Ok(())
    }

    async fn list_notices(&self, channel: Option<&str>, limit: u32) -> Result<Vec<Notice>> {
        let limit = i64::from(limit.clamp(1, 1000));
        let rows = match channel {
            Some(c) => sqlx::query(AssertSqlSafe(format!(
                "SELECT {NOTICE_COLUMNS} FROM outbox WHERE channel = $1 ORDER BY id DESC LIMIT $2"
            )))
            .bind(c.to_string())
            .bind(limit)
            .fetch_all(&self.pool)
            .await?,
            None => {
                sqlx::query(AssertSqlSafe(format!(
                    "SELECT {NOTICE_COLUMNS} FROM outbox ORDER BY id DESC LIMIT $1"
                )))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(notice_from).collect()
    }

    async fn console_notices(
        &self,
        audiences: &[String],
        before_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Notice>> {
        if audiences.is_empty() {
            return Ok(Vec::new());
        }
        let mut params: Vec<P> = audiences.iter().map(|a| P::S(Some(a.clone()))).collect();
        let marks: Vec<String> = (1..=audiences.len()).map(|i| format!("${i}")).collect();
        params.push(P::I(Some(before_id.unwrap_or(i64::MAX))));
        params.push(P::I(Some(i64::from(limit.clamp(1, 500)))));
        let n = audiences.len();
        let sql = format!(
            "SELECT {NOTICE_COLUMNS} FROM outbox WHERE channel = 'console' AND recipient IN ({}) \
             AND id < ${} ORDER BY id DESC LIMIT ${}",
            marks.join(", "),
            n + 1,
            n + 2
        );
        let rows = bind_all(sqlx::query(AssertSqlSafe(sql)), params)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(notice_from).collect()
    }

    async fn unseen_notices(&self, user_id: i64, audiences: &[String]) -> Result<i64> {
        if audiences.is_empty() {
            return Ok(0);
        }
        let mut params: Vec<P> = audiences.iter().map(|a| P::S(Some(a.clone()))).collect();
        let marks: Vec<String> = (1..=audiences.len()).map(|i| format!("${i}")).collect();
        params.push(P::I(Some(user_id)));
        let sql = format!(
            "SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM outbox WHERE channel = 'console' \
             AND recipient IN ({}) \
             AND id > COALESCE((SELECT seen_id FROM notice_marks WHERE user_id = ${}), 0) LIMIT 100) AS recent",
            marks.join(", "),
            audiences.len() + 1
        );
        Ok(bind_all(sqlx::query(AssertSqlSafe(sql)), params)
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?)
    }

    async fn mark_notices_seen(&self, user_id: i64, seen_id: i64) -> Result<()> {
        let mut w = self.writer().await?;
        sqlx::query(
            "INSERT INTO notice_marks (user_id, seen_id) VALUES ($1, $2) \
             ON CONFLICT (user_id) DO UPDATE SET seen_id = CASE WHEN excluded.seen_id > notice_marks.seen_id \
             THEN excluded.seen_id ELSE notice_marks.seen_id END",
        )
        .bind(user_id)
        .bind(seen_id)
        .execute(&mut *w)
        .await?;
        Ok(())
    }

    async fn unit_contacts(&self) -> Result<Vec<UnitContact>> {
        let rows =
            sqlx::query("SELECT unit_id, liaison, phone FROM unit_contacts ORDER BY unit_id")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                Ok(UnitContact {
                    unit_id: r.try_get("unit_id")?,
                    liaison: r.try_get("liaison")?,
                    phone: r.try_get("phone")?,
                })
            })
            .collect()
    }

    async fn gazetteer(&self) -> Result<Vec<GazetteerRow>> {
        let rows = sqlx::query("SELECT id, name, kind, division_code FROM gazetteer ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(GazetteerRow {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    kind: r.try_get("kind")?,
                    division_code: r.try_get("division_code")?,
                })
            })
            .collect()
    }

    async fn upsert_gazetteer(&self, rows: &[GazetteerRow]) -> Result<usize> {
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        for g in rows {
            sqlx::query(
                "INSERT INTO gazetteer (name, kind, division_code) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, division_code = excluded.division_code",
            )
            .bind(g.name.clone())
            .bind(g.kind.clone())
            .bind(g.division_code.clone())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(rows.len())
    }

    async fn delete_gazetteer(&self, id: i64) -> Result<bool> {
        let mut w = self.writer().await?;
        let r = sqlx::query("DELETE FROM gazetteer WHERE id = $1")
            .bind(id)
            .execute(&mut *w)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    async fn catalogue(&self) -> Result<Vec<CatalogueEntry>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CATALOGUE_COLUMNS} FROM catalogue_entries ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(catalogue_from).collect()
    }

    async fn catalogue_seen(&self) -> Result<(i64, Vec<CatalogueEntry>)> {
        // The stamp first: a change landing between the two reads makes the stamp older
        // than what was read, so that a write checked against it is refused, never let by.
        let stamp = catalogue_stamp(&mut *self.pool.acquire().await?).await?;
        Ok((stamp, self.catalogue().await?))
    }

    async fn write_catalogue_seen(
        &self,
        writes: Vec<CatalogueWrite>,
        user_id: i64,
        at: DateTime<Utc>,
        seen: Option<i64>,
    ) -> Result<Vec<CatalogueEntry>> {
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        if self.backend == Backend::Postgres {
            // Catalogue writers take turns (SQLite's writer is single already).
            sqlx::query("SELECT pg_advisory_xact_lock(1234512346)")
                .execute(&mut *tx)
                .await?;
        }
        if let Some(seen) = seen
            && catalogue_stamp(&mut tx).await? != seen
        {
            return Err(StoreError::Conflict);
        }
        let mut saved = Vec::new();
        for write in writes {
            let (entry_id, before, after, action) = match write {
                CatalogueWrite::Save(entry) if entry.id == 0 => {
                    let mut e = entry;
                    e.version = 1;
                    let id: i64 = bind_all(
                        sqlx::query(
                            "INSERT INTO catalogue_entries (category_code, division_code, unit_id, ownership, tier, \
                             valid_from, valid_to, note, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                        ),
                        catalogue_params(&e),
                    )
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|err| dup(err, "a catalogue entry"))?
                    .try_get("id")?;
                    e.id = id;
                    (id, None, Some(e), "created")
                }
                CatalogueWrite::Save(entry) => {
                    let before = catalogue_row(&mut tx, entry.id).await?;
                    if before.version != entry.version {
                        return Err(StoreError::Conflict);
                    }
                    let mut e = entry;
                    e.version += 1;
                    let mut params = catalogue_params(&e);
                    params.push(P::I(Some(e.id)));
                    bind_all(
                        sqlx::query(
                            "UPDATE catalogue_entries SET category_code = $1, division_code = $2, unit_id = $3, \
                             ownership = $4, tier = $5, valid_from = $6, valid_to = $7, note = $8, version = $9 \
                             WHERE id = $10",
                        ),
                        params,
                    )
                    .execute(&mut *tx)
                    .await?;
                    (e.id, Some(before), Some(e), "updated")
                }
                CatalogueWrite::Delete { id, version } => {
                    let before = catalogue_row(&mut tx, id).await?;
                    if before.version != version {
                        return Err(StoreError::Conflict);
                    }
                    sqlx::query("DELETE FROM catalogue_entries WHERE id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    (id, Some(before), None, "deleted")
                }
            };
            let version = after
                .as_ref()
                .or(before.as_ref())
                .map(|e| e.version)
                .unwrap_or(0);
            let change = Recorded {
                table: "catalogue_changes",
                subject_column: "entry_id",
                subject_id: entry_id,
                version,
                action,
                user_id,
                at,
            };
            record_change(&mut tx, &change, before.as_ref(), after.as_ref()).await?;
            saved.extend(after);
        }
        tx.commit().await?;
        Ok(saved)
    }

    async fn catalogue_history(
        &self,
        entry_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<CatalogueChange>> {
        let rows = sqlx::query(
            "SELECT id, entry_id, version, action, before_json, after_json, user_id, at FROM catalogue_changes \
             WHERE ($1 = 0 OR entry_id = $1) ORDER BY id DESC LIMIT $2",
        )
        .bind(entry_id.unwrap_or(0))
        .bind(i64::from(limit.clamp(1, 10_000)))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let (before, after) = (
                    before_after(r, "before_json")?,
                    before_after(r, "after_json")?,
                );
                Ok(CatalogueChange {
                    id: r.try_get("id")?,
                    entry_id: r.try_get("entry_id")?,
                    version: r.try_get("version")?,
                    action: r.try_get("action")?,
                    before,
                    after,
                    user_id: r.try_get("user_id")?,
                    at: from_ts(r.try_get("at")?),
                })
            })
            .collect()
    }

    async fn knowledge(&self) -> Result<Vec<Article>> {
        let rows = sqlx::query("SELECT id, body, version FROM knowledge_articles ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(article_from).collect()
    }

    async fn write_knowledge(
        &self,
        writes: Vec<KnowledgeWrite>,
        user_id: i64,
        at: DateTime<Utc>,
    ) -> Result<Vec<Article>> {
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        let mut saved = Vec::new();
        for write in writes {
            let (article_id, before, after, action) = match write {
                KnowledgeWrite::Save(article) if article.id == 0 => {
                    let mut a = article;
                    a.version = 1;
                    let id: i64 = sqlx::query(
                        "INSERT INTO knowledge_articles (body, version) VALUES ($1, 1) RETURNING id",
                    )
                    .bind(serde_json::to_string(&a).map_err(corrupt)?)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("id")?;
                    // The columns, not the body, say which article and version it is.
                    a.id = id;
                    (id, None, Some(a), "created")
                }
                KnowledgeWrite::Save(article) => {
                    let before = article_row(&mut tx, article.id).await?;
                    if before.version != article.version {
                        return Err(StoreError::Conflict);
                    }
                    let mut a = article;
                    a.version += 1;
                    sqlx::query(
                        "UPDATE knowledge_articles SET body = $1, version = $2 WHERE id = $3",
                    )
                    .bind(serde_json::to_string(&a).map_err(corrupt)?)
                    .bind(a.version)
                    .bind(a.id)
                    .execute(&mut *tx)
                    .await?;
                    (a.id, Some(before), Some(a), "updated")
                }
                KnowledgeWrite::Delete { id, version } => {
                    let before = article_row(&mut tx, id).await?;
                    if before.version != version {
                        return Err(StoreError::Conflict);
                    }
                    sqlx::query("DELETE FROM knowledge_articles WHERE id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    (id, Some(before), None, "deleted")
                }
            };
            let version = after
                .as_ref()
                .or(before.as_ref())
                .map(|a| a.version)
                .unwrap_or(0);
            let change = Recorded {
                table: "knowledge_changes",
                subject_column: "article_id",
                subject_id: article_id,
                version,
                action,
                user_id,
                at,
            };
            record_change(&mut tx, &change, before.as_ref(), after.as_ref()).await?;
            saved.extend(after);
        }
        tx.commit().await?;
        Ok(saved)
    }

    async fn knowledge_history(
        &self,
        article_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<KnowledgeChange>> {
        let rows = sqlx::query(
            "SELECT id, article_id, version, action, before_json, after_json, user_id, at FROM knowledge_changes \
             WHERE ($1 = 0 OR article_id = $1) ORDER BY id DESC LIMIT $2",
        )
        .bind(article_id.unwrap_or(0))
        .bind(i64::from(limit.clamp(1, 10_000)))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let (before, after) = (
                    before_after(r, "before_json")?,
                    before_after(r, "after_json")?,
                );
                Ok(KnowledgeChange {
                    id: r.try_get("id")?,
                    article_id: r.try_get("article_id")?,
                    version: r.try_get("version")?,
                    action: r.try_get("action")?,
                    before,
                    after,
                    user_id: r.try_get("user_id")?,
                    at: from_ts(r.try_get("at")?),
                })
            })
            .collect()
    }

    async fn knowledge_stamp(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COALESCE(MAX(id), 0) AS stamp FROM knowledge_changes")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("stamp")?)
    }

    async fn set_unit_contact(&self, unit_id: i64, contact: Option<&UnitContact>) -> Result<()> {
        let mut w = self.writer().await?;
        match contact {
            Some(c) => {
                sqlx::query(
                    "INSERT INTO unit_contacts (unit_id, liaison, phone) VALUES ($1, $2, $3) \
                     ON CONFLICT (unit_id) DO UPDATE SET liaison = excluded.liaison, phone = excluded.phone",
                )
                .bind(unit_id)
                .bind(c.liaison.clone())
                .bind(c.phone.clone())
                .execute(&mut *w)
                .await
                .map_err(|e| dup(e, format!("unit {unit_id}")))?;
            }
            None => {
                sqlx::query("DELETE FROM unit_contacts WHERE unit_id = $1")
                    .bind(unit_id)
                    .execute(&mut *w)
                    .await?;
            }
        }
        Ok(())
    }

    async fn watch_board(&self) -> Result<Vec<BoardCount>> {
        let rows = sqlx::query(
            "SELECT t.lead_unit_id AS unit, w.alert_level AS alert, w.supervision_level AS sup, \
             w.awaiting_answer AS awaiting, COUNT(*) AS n \
             FROM ticket_watch w JOIN tickets t ON t.id = w.ticket_id \
             WHERE (w.alert_level > 0 OR w.supervision_level > 0) \
             GROUP BY t.lead_unit_id, w.alert_level, w.supervision_level, w.awaiting_answer",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(BoardCount {
                    lead_unit_id: r.try_get("unit")?,
                    alert_level: r.try_get::<i64, _>("alert")?.clamp(0, 2) as u8,
                    supervision_level: r.try_get::<i64, _>("sup")?.clamp(0, 3) as u8,
                    awaiting_answer: r.try_get::<i64, _>("awaiting")? != 0,
                    count: r.try_get("n")?,
                })
            })
            .collect()
    }

    async fn recheck_open_tickets(&self, now: DateTime<Utc>) -> Result<u64> {
        let mut w = self.writer().await?;
        let r = sqlx::query(
            "UPDATE ticket_watch SET next_at = $1 WHERE ticket_id IN (SELECT id FROM tickets \
             WHERE state NOT IN ('resolved_directly', 'closed', 'merged', 'not_accepted'))",
        )
        .bind(ts(now))
        .execute(&mut *w)
        .await?;
        Ok(r.rows_affected())
    }

    async fn due_tickets(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<i64>> {
        let rows = sqlx::query(
            "SELECT ticket_id AS id FROM ticket_watch WHERE next_at <= $1 ORDER BY next_at LIMIT $2",
        )
        .bind(ts(now))
        .bind(i64::from(limit.clamp(1, 100_000)))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| r.try_get::<i64, _>("id").map_err(Into::into))
            .collect()
    }

    async fn set_next_deadline(
        &self,
        id: i64,
        version: i64,
        next: Option<DateTime<Utc>>,
    ) -> Result<bool> {
        let mut w = self.writer().await?;
        let r = sqlx::query(
            "UPDATE ticket_watch SET next_at = $1 WHERE ticket_id = $2 AND version = $3",
        )
        .bind(next.map(ts))
        .bind(id)
        .bind(version)
        .execute(&mut *w)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn set_next_deadlines(
        &self,
        moves: &[(i64, i64, Option<DateTime<Utc>>)],
    ) -> Result<Vec<i64>> {
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        let mut moved = std::collections::HashSet::new();
        for chunk in moves.chunks(SLIM_ROWS_PER_UPDATE) {
            let rows = value_rows(chunk.len(), 3);
            let sql = format!(
                "UPDATE ticket_watch SET next_at = v.column3 FROM (VALUES {rows}) AS v \
                 WHERE ticket_watch.ticket_id = v.column1 AND ticket_watch.version = v.column2 \
                 RETURNING ticket_watch.ticket_id"
            );
            let mut params = Vec::with_capacity(chunk.len() * 3);
            for (id, version, next) in chunk {
                params.extend([P::I(Some(*id)), P::I(Some(*version)), P::I(next.map(ts))]);
            }
            let rows = many(self.backend == Backend::Sqlite, sql, params)
                .fetch_all(&mut *tx)
                .await?;
            for r in rows {
                moved.insert(r.try_get::<i64, _>(0)?);
            }
        }
        tx.commit().await?;
        Ok(moves
            .iter()
            .map(|(id, _, _)| *id)
            .filter(|id| !moved.contains(id))
            .collect())
    }

    async fn count_tickets(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM tickets")
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?)
    }

    async fn ticket_events(&self, ticket_id: i64) -> Result<Vec<Event>> {
        let rows = sqlx::query(
            "SELECT ticket_id, seq, at, actor_user_id, actor_role, actor_unit_id, data FROM ticket_events \
             WHERE ticket_id = $1 ORDER BY seq",
        )
        .bind(ticket_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from).collect()
    }

    async fn ticket_events_many(&self, ids: &[i64]) -> Result<Vec<Event>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT ticket_id, seq, at, actor_user_id, actor_role, actor_unit_id, data FROM ticket_events \
             WHERE ticket_id IN ({}) ORDER BY ticket_id, seq",
            marks.join(", ")
        );
        let q = many(
            self.backend == Backend::Sqlite,
            sql,
            ids.iter().map(|i| P::I(Some(*i))).collect(),
        );
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(event_from).collect()
    }

    async fn events_after(&self, after: i64, limit: u32) -> Result<Vec<(i64, i64)>> {
        let rows = sqlx::query(
            "SELECT id, ticket_id FROM ticket_events WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit.clamp(1, 100_000)))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<i64, _>(0)?, r.try_get::<i64, _>(1)?)))
            .collect()
    }

    async fn kpi_tallies(
        &self,
        dim: mashangban_domain::aggregates::Dim,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        by_day: bool,
    ) -> Result<Vec<GroupTally>> {
        let mut conn = self.pool.acquire().await?;
        aggregates::tallies(&mut conn, dim, from, to, by_day).await
    }

    async fn kpi_facts(
        &self,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<
        Vec<(
            mashangban_domain::aggregates::FactKey,
            mashangban_domain::kpi::Tally,
        )>,
    > {
        let mut conn = self.pool.acquire().await?;
        aggregates::fine_rows(&mut conn, from, to).await
    }

    async fn kpi_issue_groups(&self, day: chrono::NaiveDate) -> Result<Vec<GroupTally>> {
        let mut conn = self.pool.acquire().await?;
        aggregates::issue_groups(&mut conn, day).await
    }

    async fn kpi_issue_counts(
        &self,
        day: chrono::NaiveDate,
        groups: &[String],
        place_min: u64,
    ) -> Result<Vec<mashangban_domain::report::IssueCounts>> {
        let mut conn = self.pool.acquire().await?;
        aggregates::issue_counts(&mut conn, day, groups, place_min).await
    }

    async fn kpi_issue_rollup(
        &self,
        name: &str,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<GroupTally>> {
        let mut conn = self.pool.acquire().await?;
        aggregates::issue_rollup(&mut conn, name, from, to).await
    }

    async fn repeat_callers(
        &self,
        since: DateTime<Utc>,
        min_requests: u32,
        limit: u32,
    ) -> Result<Vec<(String, i64)>> {
        let mut conn = self.pool.acquire().await?;
        warnings::repeat_callers(&mut conn, since, min_requests, limit).await
    }

    async fn record_warning(
        &self,
        finding: mashangban_domain::warning::Finding,
        notices: Vec<NewNotice>,
        at: DateTime<Utc>,
    ) -> Result<crate::RecordedWarning> {
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        let out = warnings::record(&mut tx, finding, notices, at).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn list_warnings(
        &self,
        status: Option<mashangban_domain::warning::WarningStatus>,
        since: Option<DateTime<Utc>>,
        limit: u32,
    ) -> Result<Vec<crate::Warning>> {
        let mut conn = self.pool.acquire().await?;
        warnings::list(&mut conn, status, since, limit).await
    }

    async fn get_warning(&self, id: i64) -> Result<Option<crate::Warning>> {
        let mut conn = self.pool.acquire().await?;
        warnings::by_id(&mut conn, id).await
    }

    async fn handle_warning(
        &self,
        id: i64,
        status: mashangban_domain::warning::WarningStatus,
        user_id: i64,
        note: Option<String>,
        at: DateTime<Utc>,
    ) -> Result<crate::Warning> {
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        let out = warnings::handle(&mut tx, id, status, user_id, note, at).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn add_aggregate_facts(
        &self,
        facts: Vec<(i64, mashangban_domain::aggregates::Fact)>,
    ) -> Result<()> {
        self.run_write::<()>(Box::new(
            move |_: &mut AnyConnection, sums: &mut aggregates::Pending| -> JobFuture<'_> {
                Box::pin(async move {
                    for (ticket, fact) in &facts {
                        sums.add(*ticket, std::slice::from_ref(fact));
                    }
                    Ok(Box::new(()) as JobOutput)
                })
            },
        ))
        .await
    }

    async fn rebuild_aggregates(&self) -> Result<RebuildReport> {
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        let report = aggregates::rebuild(&mut tx).await?;
        tx.commit().await?;
        Ok(report)
    }

    async fn commit(
        &self,
        changes: Vec<Change>,
        actor: Actor,
        at: DateTime<Utc>,
    ) -> Result<Vec<Committed>> {
        self.run_write::<Vec<Committed>>(Box::new(
            move |conn: &mut AnyConnection, sums: &mut aggregates::Pending| -> JobFuture<'_> {
                Box::pin(async move {
                    Ok(Box::new(apply_changes(conn, sums, changes, actor, at).await?) as JobOutput)
                })
            },
        ))
        .await
    }
}

/// The migrations after which the evaluation aggregates are rebuilt from the events: the
/// one that creates them, and those that change what they keep.
const REBUILD_AFTER: [i64; 2] = [14, 17];

const NEXT_SEQ: &str = "INSERT INTO counters (name, value) VALUES ($1, 1) \
     ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value";

/// Writes a new ticket, its `received` event and its idempotency key.
async fn insert_ticket(
    conn: &mut AnyConnection,
    sums: &mut aggregates::Pending,
    req: CreateTicket,
    pre_seq: Option<i64>,
    counter: String,
) -> Result<Ticket> {
    let seq: i64 = match pre_seq {
        Some(s) => s,
        None => sqlx::query(NEXT_SEQ)
            .bind(counter)
            .fetch_one(&mut *conn)
            .await?
            .try_get("value")?,
    };
    let number = format_number(&req.number_prefix, req.at, seq);
    if let Some((key, hash)) = &req.idempotency {
        let r = sqlx::query(
            "INSERT INTO idempotency_keys (user_id, idem_key, request_hash, ticket_id, created_at) \
             VALUES ($1, $2, $3, NULL, $4) ON CONFLICT (user_id, idem_key) DO NOTHING",
        )
        .bind(req.actor.user_id)
        .bind(key.clone())
        .bind(hash.clone())
        .bind(ts(req.at))
        .execute(&mut *conn)
        .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::IdempotencyRace);
        }
    }
    let mut event = Event {
        ticket_id: 0,
        seq: 1,
        at: req.at,
        actor: req.actor,
        kind: req
            .new
            .clone()
            .into_event(number.clone(), req.tracking_code.clone()),
    };
    let view = apply(None, &event).ok_or_else(|| corrupt("received event made no ticket"))?;
    let mut params = ticket_columns(&view)?;
    params.extend([
        P::S(Some(number.clone())),
        P::S(Some(req.tracking_code.clone())),
        P::S(Some(view.channel.as_str().to_string())),
        P::S(Some(view.kind.as_str().to_string())),
        P::S(view.citizen.phone.clone()),
        P::I(Some(ts(view.created_at))),
    ]);
    let q = sqlx::query(
        "INSERT INTO tickets (state, category_code, division_code, lead_unit_id, parent_id, updated_at, version, body, \
         extension_pending, category_l1, category_l2, division_county, division_street, \
         number, tracking_code, channel, kind, citizen_phone, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING id",
    );
    let id: i64 = bind_all(q, params)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| dup(e, format!("ticket number {number}")))?
        .try_get("id")?;
    event.ticket_id = id;
    insert_event(conn, &event).await?;
    sums.event(None, &event, &view);
    sqlx::query("INSERT INTO ticket_watch (ticket_id, version) VALUES ($1, $2)")
        .bind(id)
        .bind(view.version)
        .execute(&mut *conn)
        .await?;
    if let Some(plan) = &req.notices {
        let mut created = view.clone();
        created.id = id;
        let notices: Vec<(i64, NewNotice)> =
            (plan.0)(&created).into_iter().map(|n| (id, n)).collect();
        insert_notices(conn, &notices, req.at).await?;
    }
    if let Some((key, _)) = &req.idempotency {
        sqlx::query(
            "UPDATE idempotency_keys SET ticket_id = $1 WHERE user_id = $2 AND idem_key = $3",
        )
        .bind(id)
        .bind(req.actor.user_id)
        .bind(key.clone())
        .execute(&mut *conn)
        .await?;
    }
    let mut ticket = view;
    ticket.id = id;
    Ok(ticket)
}

/// Appends each change's events and writes each ticket's new view, checking versions.
async fn apply_changes(
    conn: &mut AnyConnection,
    sums: &mut aggregates::Pending,
    changes: Vec<Change>,
    actor: Actor,
    at: DateTime<Utc>,
) -> Result<Vec<Committed>> {
    let mut out = Vec::with_capacity(changes.len());
    // The events of every change, and the updates that touch no indexed column, written
    // together at the end.
    let mut all_events = Vec::new();
    let mut slim: Vec<SlimUpdate> = Vec::new();
    let mut watch: Vec<WatchUpdate> = Vec::new();
    let mut notices: Vec<(i64, NewNotice)> = Vec::new();
    for change in changes {
        let before = change.before;
        let mut view = Some(before.clone());
        let mut events = Vec::with_capacity(change.events.len());
        for (i, kind) in change.events.into_iter().enumerate() {
            let e = Event {
                ticket_id: before.id,
                seq: before.version + 1 + i as i64,
                at,
                actor,
                kind,
            };
            if mashangban_domain::aggregates::may_count(&e.kind) {
                let prior = view.clone();
                view = apply(view, &e);
                if let Some(after) = &view {
                    sums.event(prior.as_ref(), &e, after);
                }
            } else {
                view = apply(view, &e);
            }
            events.push(e);
        }
        let after = view.ok_or_else(|| corrupt("events made no ticket"))?;
        let mut body = after.clone();
        body.id = 0;
        // Most changes (notes, contacts, alerts, reveals) leave every indexed column as it
        // was: then only the view, its version and the next deadline are written, and no
        // index but the deadline's is touched.
        let indexed_same = after.state == before.state
            && after.category_code == before.category_code
            && after.division_code == before.division_code
            && after.lead_unit_id == before.lead_unit_id
            && after.parent_id == before.parent_id
            && after.pending_extension.is_some() == before.pending_extension.is_some();
        if indexed_same {
            slim.push(SlimUpdate {
                id: before.id,
                version: before.version,
                after_version: after.version,
                updated_at: ts(after.updated_at),
                body: serde_json::to_string(&body).map_err(corrupt)?,
            });
        } else {
            let mut params = ticket_columns(&after)?;
            params.push(P::I(Some(before.id)));
            params.push(P::I(Some(before.version)));
            let r = bind_all(
                sqlx::query(
                    "UPDATE tickets SET state = $1, category_code = $2, division_code = $3, lead_unit_id = $4, \
                     parent_id = $5, updated_at = $6, version = $7, body = $8, extension_pending = $9, \
                     category_l1 = $10, category_l2 = $11, division_county = $12, division_street = $13 \
                     WHERE id = $14 AND version = $15",
                ),
                params,
            )
            .execute(&mut *conn)
            .await?;
            if r.rows_affected() != 1 {
                return Err(StoreError::Conflict);
            }
        }
        watch.push(WatchUpdate::of(&after, change.next_deadline));
        notices.extend(change.notices.into_iter().map(|n| (before.id, n)));
        all_events.extend(events.iter().cloned());
        if after.lead_unit_id != before.lead_unit_id || after.co_unit_ids != before.co_unit_ids {
            sqlx::query("DELETE FROM ticket_units WHERE ticket_id = $1")
                .bind(after.id)
                .execute(&mut *conn)
                .await?;
            let units = after
                .lead_unit_id
                .iter()
                .map(|u| (*u, 1i64))
                .chain(after.co_unit_ids.iter().map(|u| (*u, 0i64)));
            for (unit, is_lead) in units {
                sqlx::query(
                    "INSERT INTO ticket_units (ticket_id, unit_id, is_lead) VALUES ($1, $2, $3)",
                )
                .bind(after.id)
                .bind(unit)
                .bind(is_lead)
                .execute(&mut *conn)
                .await?;
            }
        }
        out.push(Committed {
            ticket: after,
            events,
        });
    }
    update_slim(conn, &slim).await?;
    update_watch(conn, &watch).await?;
    insert_events(conn, &all_events).await?;
    insert_notices(conn, &notices, at).await?;
    Ok(out)
}

/// The id of the catalogue's latest recorded change (0 before any).
async fn catalogue_stamp(conn: &mut AnyConnection) -> Result<i64> {
    Ok(
        sqlx::query("SELECT COALESCE(MAX(id), 0) AS n FROM catalogue_changes")
            .fetch_one(&mut *conn)
            .await?
            .try_get("n")?,
    )
}

const CATALOGUE_COLUMNS: &str = "id, category_code, division_code, unit_id, ownership, tier, valid_from, valid_to, note, version";

fn catalogue_from(r: &sqlx::any::AnyRow) -> Result<CatalogueEntry> {
    let date = |s: String| -> Result<chrono::NaiveDate> {
        s.parse()
            .map_err(|_| corrupt(format!("catalogue date `{s}`")))
    };
    let ownership: String = r.try_get("ownership")?;
    Ok(CatalogueEntry {
        id: r.try_get("id")?,
        category_code: r.try_get("category_code")?,
        division_code: r.try_get("division_code")?,
        unit_id: r.try_get("unit_id")?,
        ownership: Ownership::parse(&ownership)
            .ok_or_else(|| corrupt(format!("catalogue ownership `{ownership}`")))?,
        tier: r
            .try_get::<Option<i64>, _>("tier")?
            .map(|t| u8::try_from(t).map_err(|_| corrupt(format!("tier {t}"))))
            .transpose()?,
        valid_from: date(r.try_get("valid_from")?)?,
        valid_to: r
            .try_get::<Option<String>, _>("valid_to")?
            .map(date)
            .transpose()?,
        note: r.try_get("note")?,
        version: r.try_get("version")?,
    })
}

fn catalogue_params(e: &CatalogueEntry) -> Vec<P> {
    vec![
        P::S(Some(e.category_code.clone())),
        P::S(e.division_code.clone()),
        P::I(Some(e.unit_id)),
        P::S(Some(e.ownership.as_str().to_string())),
        P::I(e.tier.map(i64::from)),
        P::S(Some(e.valid_from.to_string())),
        P::S(e.valid_to.map(|d| d.to_string())),
        P::S(Some(e.note.clone())),
        P::I(Some(e.version)),
    ]
}

/// The stored entry, or `NotFound`.
async fn catalogue_row(conn: &mut AnyConnection, id: i64) -> Result<CatalogueEntry> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {CATALOGUE_COLUMNS} FROM catalogue_entries WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::NotFound {
        what: format!("catalogue entry {id}"),
    })?;
    catalogue_from(&row)
}

/// One change to a versioned record (a catalogue entry, a knowledge article), for its
/// history table.
struct Recorded {
    table: &'static str,
    subject_column: &'static str,
    subject_id: i64,
    version: i64,
    action: &'static str,
    user_id: i64,
    at: DateTime<Utc>,
}

/// Writes a change with the record before and after it (as JSON) to its history table.
async fn record_change<T: serde::Serialize>(
    conn: &mut AnyConnection,
    change: &Recorded,
    before: Option<&T>,
    after: Option<&T>,
) -> Result<()> {
    let json = |v: Option<&T>| -> Result<Option<String>> {
        v.map(|v| serde_json::to_string(v).map_err(corrupt))
            .transpose()
    };
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO {} ({}, version, action, before_json, after_json, user_id, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        change.table, change.subject_column
    )))
    .bind(change.subject_id)
    .bind(change.version)
    .bind(change.action)
    .bind(json(before)?)
    .bind(json(after)?)
    .bind(change.user_id)
    .bind(ts(change.at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A record as a history row kept it (`before_json` or `after_json`).
fn before_after<T: serde::de::DeserializeOwned>(r: &AnyRow, column: &str) -> Result<Option<T>> {
    r.try_get::<Option<String>, _>(column)?
        .map(|t| serde_json::from_str(&t).map_err(corrupt))
        .transpose()
}

fn article_from(r: &sqlx::any::AnyRow) -> Result<Article> {
    let body: String = r.try_get("body")?;
    let mut a: Article = serde_json::from_str(&body).map_err(corrupt)?;
    a.id = r.try_get("id")?;
    a.version = r.try_get("version")?;
    Ok(a)
}

/// The stored article, or `NotFound`.
async fn article_row(conn: &mut AnyConnection, id: i64) -> Result<Article> {
    let row = sqlx::query("SELECT id, body, version FROM knowledge_articles WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: format!("knowledge article {id}"),
        })?;
    article_from(&row)
}

/// Puts notices in the outbox (console notices are delivered by this very write).
async fn insert_notices(
    conn: &mut AnyConnection,
    notices: &[(i64, NewNotice)],
    at: DateTime<Utc>,
) -> Result<()> {
    for chunk in notices.chunks(EVENT_ROWS_PER_INSERT) {
        let rows = value_rows(chunk.len(), 8);
        let sql = format!(
            "INSERT INTO outbox (ticket_id, event_seq, channel, recipient, payload, created_at, not_before, sent_at) VALUES {rows}"
        );
        let mut params = Vec::with_capacity(chunk.len() * 8);
        for (ticket_id, n) in chunk {
            params.extend([
                P::I(Some(*ticket_id)),
                P::I(Some(n.event_seq)),
                P::S(Some(n.channel.clone())),
                P::S(Some(n.recipient.clone())),
                P::S(Some(n.payload.clone())),
                P::I(Some(ts(at))),
                P::I(Some(ts(n.not_before))),
                P::I((n.channel == channel::CONSOLE).then(|| ts(at))),
            ]);
        }
        many(is_sqlite(conn), sql, params)
            .execute(&mut *conn)
            .await
            .map_err(|e| dup(e, "a notice"))?;
    }
    Ok(())
}

const NOTICE_COLUMNS: &str = "id, ticket_id, event_seq, channel, recipient, payload, created_at, \
     not_before, attempts, sent_at, failed_at, last_error";

fn notice_from(r: &sqlx::any::AnyRow) -> Result<Notice> {
    Ok(Notice {
        id: r.try_get("id")?,
        ticket_id: r.try_get("ticket_id")?,
        event_seq: r.try_get("event_seq")?,
        channel: r.try_get("channel")?,
        recipient: r.try_get("recipient")?,
        payload: r.try_get("payload")?,
        created_at: from_ts(r.try_get("created_at")?),
        not_before: from_ts(r.try_get("not_before")?),
        attempts: r.try_get("attempts")?,
        sent_at: r.try_get::<Option<i64>, _>("sent_at")?.map(from_ts),
        failed_at: r.try_get::<Option<i64>, _>("failed_at")?.map(from_ts),
        last_error: r.try_get("last_error")?,
    })
}

/// A ticket's row in `ticket_watch` after a change.
struct WatchUpdate {
    id: i64,
    version: i64,
    /// `Some(..)` sets the next deadline; `None` leaves it as it was.
    next: Option<Option<DateTime<Utc>>>,
    alert_level: i64,
    supervision_level: i64,
    awaiting_answer: bool,
}

impl WatchUpdate {
    fn of(t: &Ticket, next: Option<Option<DateTime<Utc>>>) -> WatchUpdate {
        let open = !t.state.is_terminal();
        let alert_level = match t.alert_level() {
            Some(mashangban_domain::deadlines::AlertLevel::Overdue) => 2,
            Some(_) => 1,
            None => 0,
        };
        let sup = t.supervision.as_ref().filter(|_| open);
        WatchUpdate {
            id: t.id,
            version: t.version,
            next,
            alert_level: if open { alert_level } else { 0 },
            supervision_level: sup.map_or(0, |s| i64::from(s.level.number())),
            awaiting_answer: sup.is_some_and(|s| s.awaits_answer()),
        }
    }
}

/// Writes the watch rows of changed tickets, many rows to a statement.
async fn update_watch(conn: &mut AnyConnection, updates: &[WatchUpdate]) -> Result<()> {
    for chunk in updates.chunks(SLIM_ROWS_PER_UPDATE) {
        let rows = value_rows(chunk.len(), 7);
        let sql = format!(
            "UPDATE ticket_watch SET version = v.column2, \
             next_at = CASE WHEN v.column3 = 1 THEN v.column4 ELSE ticket_watch.next_at END, \
             alert_level = v.column5, supervision_level = v.column6, awaiting_answer = v.column7 \
             FROM (VALUES {rows}) AS v WHERE ticket_watch.ticket_id = v.column1"
        );
        let mut params = Vec::with_capacity(chunk.len() * 7);
        for u in chunk {
            params.extend([
                P::I(Some(u.id)),
                P::I(Some(u.version)),
                P::I(Some(i64::from(u.next.is_some()))),
                P::I(u.next.flatten().map(ts)),
                P::I(Some(u.alert_level)),
                P::I(Some(u.supervision_level)),
                P::I(Some(i64::from(u.awaiting_answer))),
            ]);
        }
        many(is_sqlite(conn), sql, params)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// A ticket update that leaves every indexed column as it was.
struct SlimUpdate {
    id: i64,
    version: i64,
    after_version: i64,
    updated_at: i64,
    body: String,
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

/// Rows written by one multi-row update statement.
const SLIM_ROWS_PER_UPDATE: usize = 100;

/// Writes slim updates many rows to a statement (`UPDATE ... FROM (VALUES ...)`, on both
/// backends); fails with a conflict if any ticket is no longer at the version read.
async fn update_slim(conn: &mut AnyConnection, updates: &[SlimUpdate]) -> Result<()> {
    for chunk in updates.chunks(SLIM_ROWS_PER_UPDATE) {
        let rows = value_rows(chunk.len(), 5);
        let sql = format!(
            "UPDATE tickets SET updated_at = v.column4, version = v.column3, body = v.column5 \
             FROM (VALUES {rows}) AS v WHERE tickets.id = v.column1 AND tickets.version = v.column2"
        );
        let mut params = Vec::with_capacity(chunk.len() * 5);
        for u in chunk {
            params.extend([
                P::I(Some(u.id)),
                P::I(Some(u.version)),
                P::I(Some(u.after_version)),
                P::I(Some(u.updated_at)),
                P::S(Some(u.body.clone())),
            ]);
        }
        let r = many(is_sqlite(conn), sql, params)
            .execute(&mut *conn)
            .await?;
        if r.rows_affected() != chunk.len() as u64 {
            return Err(StoreError::Conflict);
        }
    }
    Ok(())
}

/// Runs writes in one SQLite transaction, each in a savepoint, writes the evaluation sums
/// of those that succeeded in one go, and answers each after the commit (or with the
/// failure of that last write or of the commit).
async fn run_group(conn: &mut AnyConnection, mut jobs: Vec<Job>) {
    if jobs.len() == 1 {
        // Alone: no savepoint needed, the transaction is the job's own.
        let job = jobs.pop().expect("one job");
        let outcome = async {
            let mut tx = sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE").await?;
            let mut sums = aggregates::Pending::for_conn(&tx);
            let done = match (job.run)(&mut tx, &mut sums).await {
                Ok(v) => sums.write(&mut tx).await.map(|()| v),
                Err(e) => Err(e),
            };
            match done {
                Ok(v) => {
                    tx.commit().await?;
                    Ok(v)
                }
                Err(e) => {
                    tx.rollback().await?;
                    Err(e)
                }
            }
        }
        .await;
        let _ = job.reply.send(outcome);
        return;
    }
    let mut results: Vec<(
        tokio::sync::oneshot::Sender<Result<JobOutput>>,
        Result<JobOutput>,
    )> = Vec::with_capacity(jobs.len());
    let mut tx = match sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE").await {
        Ok(tx) => tx,
        Err(e) => {
            let msg = e.to_string();
            for j in jobs {
                let _ = j.reply.send(Err(StoreError::Commit(msg.clone())));
            }
            return;
        }
    };
    let mut group_sums = aggregates::Pending::for_conn(&tx);
    for job in jobs {
        // A job's sums join the group's only once its savepoint is released: a refused
        // write counts nothing.
        let mut sums = aggregates::Pending::for_conn(&tx);
        let outcome = match sqlx::Connection::begin(&mut *tx).await {
            Ok(mut sp) => match (job.run)(&mut sp, &mut sums).await {
                Ok(v) => match sp.commit().await {
                    Ok(()) => {
                        group_sums.merge(sums);
                        Ok(v)
                    }
                    Err(e) => Err(StoreError::Db(e)),
                },
                Err(e) => {
                    let _ = sp.rollback().await;
                    Err(e)
                }
            },
            Err(e) => Err(StoreError::Db(e)),
        };
        results.push((job.reply, outcome));
    }
    let finished = match group_sums.write(&mut tx).await {
        Ok(()) => tx.commit().await.map_err(|e| e.to_string()),
        Err(e) => {
            tracing::error!(error = %e, "could not write a group's evaluation sums");
            let _ = tx.rollback().await;
            Err(e.to_string())
        }
    };
    match finished {
        Ok(()) => {
            for (reply, r) in results {
                let _ = reply.send(r);
            }
        }
        Err(msg) => {
            for (reply, r) in results {
                let _ = reply.send(match r {
                    Ok(_) => Err(StoreError::Commit(msg.clone())),
                    Err(e) => Err(e),
                });
            }
        }
    }
}

/// Rows of events written by one statement (8 parameters each).
const EVENT_ROWS_PER_INSERT: usize = 100;

/// Writes events, many rows to a statement.
async fn insert_events(conn: &mut AnyConnection, events: &[Event]) -> Result<()> {
    for chunk in events.chunks(EVENT_ROWS_PER_INSERT) {
        let rows = value_rows(chunk.len(), 8);
        let sql = format!(
            "INSERT INTO ticket_events (ticket_id, seq, type, at, actor_user_id, actor_role, actor_unit_id, data) VALUES {rows}"
        );
        let mut params = Vec::with_capacity(chunk.len() * 8);
        for e in chunk {
            params.extend([
                P::I(Some(e.ticket_id)),
                P::I(Some(e.seq)),
                P::S(Some(e.kind.type_name().to_string())),
                P::I(Some(ts(e.at))),
                P::I(Some(e.actor.user_id)),
                P::S(Some(e.actor.role.as_str().to_string())),
                P::I(e.actor.unit_id),
                P::S(Some(serde_json::to_string(&e.kind).map_err(corrupt)?)),
            ]);
        }
        many(is_sqlite(conn), sql, params)
            .execute(&mut *conn)
            .await
            .map_err(|err| {
                // A multi-row statement does not say which row clashed: name the first few.
                let which: Vec<String> = chunk
                    .iter()
                    .take(5)
                    .map(|e| format!("{}#{}", e.ticket_id, e.seq))
                    .collect();
                dup(
                    err,
                    format!(
                        "one of the events {}{} (ticket#seq)",
                        which.join(", "),
                        if chunk.len() > 5 { ", ..." } else { "" }
                    ),
                )
            })?;
    }
    Ok(())
}

async fn insert_event(conn: &mut AnyConnection, e: &Event) -> Result<()> {
    insert_events(conn, std::slice::from_ref(e)).await
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
