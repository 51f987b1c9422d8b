//! The database itself: its backend, schema and health.

use super::*;

/// The migration that made the settings table (where a pending rebuild is marked).
const SETTINGS_MIGRATION: i64 = 5;
/// The setting that says the aggregates must be filled again from the events.
const REBUILD_PENDING: &str = "aggregates_rebuild_pending";

/// Marks (or clears) that the aggregates must be rebuilt, inside the caller's transaction.
async fn mark_rebuild_pending(conn: &mut AnyConnection, pending: bool) -> Result<()> {
    sqlx::query("DELETE FROM settings WHERE name = $1")
        .bind(REBUILD_PENDING)
        .execute(&mut *conn)
        .await?;
    if pending {
        sqlx::query("INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3)")
            .bind(REBUILD_PENDING)
            .bind("1")
            .bind(ts(Utc::now()))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// How often a long migration says it is still running.
const STILL_RUNNING_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Logs, every [`STILL_RUNNING_EVERY`] until stopped, that migration `version` is at work.
fn still_running(
    version: i64,
    name: &'static str,
    started: std::time::Instant,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(STILL_RUNNING_EVERY);
        every.tick().await;
        loop {
            every.tick().await;
            tracing::info!(
                version,
                name,
                seconds = started.elapsed().as_secs(),
                "migration still running (it commits as a whole: stopped now, it runs again from the start)"
            );
        }
    })
}

/// Whether a rebuild was marked and not done (none before the settings table exists).
async fn rebuild_pending(conn: &mut AnyConnection) -> Result<bool> {
    Ok(sqlx::query("SELECT value FROM settings WHERE name = $1")
        .bind(REBUILD_PENDING)
        .fetch_optional(&mut *conn)
        .await
        .ok()
        .flatten()
        .is_some())
}

impl SqlStore {
    /// The tickets of a SQLite file (a backup's copy), on one read-only connection: no pool,
    /// no checkpointer, nothing written.
    pub async fn count_tickets_in_file(path: &std::path::Path) -> Result<i64> {
        use sqlx::Connection;
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(path)
            .read_only(true);
        let mut conn = sqlx::sqlite::SqliteConnection::connect_with(&options).await?;
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tickets")
            .fetch_one(&mut conn)
            .await?;
        conn.close().await?;
        Ok(n)
    }

    /// Applies the migrations up to `version` (all of them: [`Maintenance::migrate`]), each
    /// in its own transaction, so that an upgrade stopped half-way goes on from the first
    /// migration not applied. Older schemas are made with it in the upgrade tests.
    pub async fn migrate_up_to(&self, version: i64) -> Result<()> {
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
            for m in MIGRATIONS.iter().filter(|m| m.version <= version) {
                let done = sqlx::query("SELECT version FROM schema_migrations WHERE version = $1")
                    .bind(m.version)
                    .fetch_optional(&mut *conn)
                    .await?;
                if done.is_some() {
                    continue;
                }
                tracing::debug!(version = m.version, name = m.name, "applying migration");
                let started = std::time::Instant::now();
                // One statement rewriting a large table says nothing until it ends: the log
                // says every ten seconds that it is still at work, and on what.
                let still = still_running(m.version, m.name, started);
                // Outside any transaction, where SQLite allows it.
                let keys_off = self.backend == Backend::Sqlite
                    && crate::schema::SQLITE_FOREIGN_KEYS_OFF.contains(&m.version);
                if keys_off {
                    conn.execute("PRAGMA foreign_keys = OFF").await?;
                }
                let applied = self.apply_migration(&mut conn, m, keys_off).await;
                still.abort();
                if keys_off {
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                }
                applied?;
                tracing::info!(
                    version = m.version,
                    name = m.name,
                    seconds = started.elapsed().as_secs_f64(),
                    "applied migration"
                );
                fill_aggregates |= REBUILD_AFTER.contains(&m.version);
            }
            fill_aggregates |= rebuild_pending(&mut conn).await?;
            if fill_aggregates {
                // A database from before the aggregates, or from before a change of what they
                // keep: fill them from its events.
                let mut tx = conn.begin(self.backend).await?;
                let report = aggregates::rebuild(&mut tx).await?;
                mark_rebuild_pending(&mut tx, false).await?;
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

    /// Runs a migration and records it, in one transaction; with the foreign keys off,
    /// checks them all before the commit.
    async fn apply_migration(
        &self,
        conn: &mut Writer<'_>,
        m: &crate::schema::Migration,
        keys_off: bool,
    ) -> Result<()> {
        let mut tx = conn.begin(self.backend).await?;
        tx.execute(sqlx::raw_sql(AssertSqlSafe(self.dialect(m.sql))))
            .await?;
        if keys_off {
            let broken = sqlx::query("PRAGMA foreign_key_check")
                .fetch_all(&mut *tx)
                .await?;
            if let Some(row) = broken.first() {
                let table: String = row.try_get(0)?;
                return Err(corrupt(format!(
                    "migration {} ({}) left {} rows whose foreign key names nothing, the first in {table}",
                    m.version,
                    m.name,
                    broken.len()
                )));
            }
        }
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(m.version)
        .bind(m.name.to_string())
        .bind(ts(Utc::now()))
        .execute(&mut *tx)
        .await?;
        if m.version == channels::MIGRATION {
            // The channels a new database starts with, from the domain's one list.
            channels::write_defaults(&mut tx).await?;
        }
        if REBUILD_AFTER.contains(&m.version) && m.version >= SETTINGS_MIGRATION {
            // Marked in the migration's own transaction, cleared in the rebuild's: a server
            // stopped between the two rebuilds at its next start.
            mark_rebuild_pending(&mut tx, true).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

#[async_trait]
impl Maintenance for SqlStore {
    fn backend(&self) -> Backend {
        self.backend
    }

    async fn migrate(&self) -> Result<()> {
        self.migrate_up_to(i64::MAX).await
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

    async fn figures(&self, now: DateTime<Utc>) -> Result<StoreFigures> {
        use std::sync::atomic::Ordering::Relaxed;
        // Named one by one, so that each is a short range of the state index.
        let open: Vec<String> = mashangban_domain::TicketState::ALL
            .iter()
            .filter(|s| !s.is_terminal())
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        let open_by_state = sqlx::query(AssertSqlSafe(format!(
            "SELECT state, COUNT(*) AS n FROM tickets WHERE state IN ({}) GROUP BY state",
            open.join(", ")
        )))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get::<String, _>("state")?, r.try_get::<i64, _>("n")?)))
        .collect::<Result<Vec<_>>>()?;
        let (mut warning, mut overdue, mut supervised) = (0, 0, 0);
        for r in sqlx::query(
            "SELECT alert_level AS alert, supervision_level AS sup, COUNT(*) AS n FROM ticket_watch \
             WHERE (alert_level > 0 OR supervision_level > 0) GROUP BY alert_level, supervision_level",
        )
        .fetch_all(&self.pool)
        .await?
        {
            let n: i64 = r.try_get("n")?;
            match r.try_get::<i64, _>("alert")? {
                1 => warning += n,
                a if a >= 2 => overdue += n,
                _ => {}
            }
            if r.try_get::<i64, _>("sup")? > 0 {
                supervised += n;
            }
        }
        let due = sqlx::query(
            "SELECT COUNT(*) AS n, MIN(next_at) AS oldest FROM ticket_watch WHERE next_at <= $1",
        )
        .bind(ts(now))
        .fetch_one(&self.pool)
        .await?;
        let mut outbox: Vec<OutboxFigures> = Vec::new();
        for r in sqlx::query(
            "SELECT channel, COUNT(*) AS n, SUM(CASE WHEN not_before <= $1 THEN 1 ELSE 0 END) AS due, \
             MIN(CASE WHEN not_before <= $1 THEN not_before END) AS oldest FROM outbox \
             WHERE sent_at IS NULL AND failed_at IS NULL GROUP BY channel",
        )
        .bind(ts(now))
        .fetch_all(&self.pool)
        .await?
        {
            outbox.push(OutboxFigures {
                channel: r.try_get("channel")?,
                pending: r.try_get("n")?,
                due: r.try_get::<Option<i64>, _>("due")?.unwrap_or(0),
                oldest_due: r.try_get::<Option<i64>, _>("oldest")?.map(from_ts),
                failed: 0,
            });
        }
        for r in sqlx::query(
            "SELECT channel, COUNT(*) AS n FROM outbox WHERE failed_at IS NOT NULL GROUP BY channel",
        )
        .fetch_all(&self.pool)
        .await?
        {
            let channel: String = r.try_get("channel")?;
            let n: i64 = r.try_get("n")?;
            match outbox.iter_mut().find(|o| o.channel == channel) {
                Some(o) => o.failed = n,
                None => outbox.push(OutboxFigures {
                    channel,
                    failed: n,
                    ..Default::default()
                }),
            }
        }
        outbox.sort_by(|a, b| a.channel.cmp(&b.channel));
        let newest_event_id: Option<i64> = sqlx::query("SELECT MAX(id) AS id FROM ticket_events")
            .fetch_one(&self.pool)
            .await?
            .try_get("id")?;
        let deltas_waiting: i64 = sqlx::query("SELECT COUNT(*) AS n FROM kpi_deltas")
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        let checkpoints = (self.backend == Backend::Sqlite).then(|| {
            let last = self.wal.last_checkpoint_unix_ms.load(Relaxed);
            CheckpointFigures {
                runs: self.wal.checkpoints.load(Relaxed),
                failures: self.wal.checkpoint_failures.load(Relaxed),
                last_at: (last > 0)
                    .then(|| DateTime::from_timestamp_millis(last))
                    .flatten(),
            }
        });
        Ok(StoreFigures {
            pool_size: self.pool.size(),
            pool_idle: self.pool.num_idle() as u32,
            pool_max: self.pool.options().get_max_connections(),
            open_by_state,
            warning,
            overdue,
            supervised,
            watch_due: due.try_get("n")?,
            watch_oldest_due: due.try_get::<Option<i64>, _>("oldest")?.map(from_ts),
            outbox,
            newest_event_id: newest_event_id.unwrap_or(0),
            deltas_waiting,
            checkpoints,
        })
    }

    async fn schema_version(&self) -> Result<(i64, i64)> {
        let known = MIGRATIONS.last().map_or(0, |m| m.version);
        let applied: Option<i64> = sqlx::query("SELECT MAX(version) AS v FROM schema_migrations")
            .fetch_one(&self.pool)
            .await?
            .try_get("v")?;
        Ok((applied.unwrap_or(0), known))
    }

    async fn clock(&self) -> Result<DateTime<Utc>> {
        let sql = match self.backend {
            Backend::Postgres => {
                "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT) AS us"
            }
            Backend::Sqlite => {
                "SELECT CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER) AS us"
            }
        };
        let us: i64 = sqlx::query(sql)
            .fetch_one(&self.pool)
            .await?
            .try_get("us")?;
        Ok(from_ts(us))
    }

    async fn copy_to(&self, path: &std::path::Path) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Corrupt(
                "a PostgreSQL database is copied with pg_dump".into(),
            ));
        }
        let target = path
            .to_str()
            .ok_or_else(|| StoreError::Corrupt(format!("{} is not UTF-8", path.display())))?;
        sqlx::query("VACUUM INTO $1")
            .bind(target.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
