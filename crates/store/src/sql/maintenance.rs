//! The database itself: its backend, schema and health.

use super::*;

#[async_trait]
impl Maintenance for SqlStore {
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
                if m.version == channels::MIGRATION {
                    // The channels a new database starts with, from the domain's one list.
                    channels::write_defaults(&mut tx).await?;
                }
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
}
