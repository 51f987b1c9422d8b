//! [`SqlStore`]: the [`Store`] on SQLite or PostgreSQL through sqlx's `Any` driver.

mod aggregates;
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

mod catalogue;
mod figures;
mod gazetteer;
mod knowledge;
mod maintenance;
mod outbox;
mod reference;
mod tickets;
mod users;
mod warnings_store;

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
