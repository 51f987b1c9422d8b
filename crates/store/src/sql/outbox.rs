//! The outbox of notifications (SMS, webhooks, console notices).

use super::*;

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

#[async_trait]
impl OutboxStore for SqlStore {
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

    async fn unread_notices(&self, user_id: i64, audiences: &[String]) -> Result<i64> {
        if audiences.is_empty() {
            return Ok(0);
        }
        let mut params: Vec<P> = audiences.iter().map(|a| P::S(Some(a.clone()))).collect();
        let marks: Vec<String> = (1..=audiences.len()).map(|i| format!("${i}")).collect();
        params.push(P::I(Some(user_id)));
        let sql = format!(
            "SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM outbox o WHERE o.channel = 'console' \
             AND o.recipient IN ({}) \
             AND o.id > COALESCE((SELECT seen_id FROM notice_marks WHERE user_id = ${u}), 0) \
             AND NOT EXISTS (SELECT 1 FROM notice_reads r WHERE r.user_id = ${u} AND r.notice_id = o.id) \
             LIMIT 100) AS recent",
            marks.join(", "),
            u = audiences.len() + 1
        );
        Ok(bind_all(sqlx::query(AssertSqlSafe(sql)), params)
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?)
    }

    async fn mark_notice_read(
        &self,
        user_id: i64,
        notice_id: i64,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let mut w = self.writer().await?;
        sqlx::query(
            "INSERT INTO notice_reads (user_id, notice_id, read_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, notice_id) DO NOTHING",
        )
        .bind(user_id)
        .bind(notice_id)
        .bind(ts(at))
        .execute(&mut *w)
        .await?;
        Ok(())
    }

    async fn read_notice_ids(&self, user_id: i64, notice_ids: &[i64]) -> Result<Vec<i64>> {
        if notice_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mark: i64 = sqlx::query(
            "SELECT COALESCE(MAX(seen_id), 0) AS m FROM notice_marks WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_one(&self.pool)
        .await?
        .try_get("m")?;
        let mut params: Vec<P> = vec![P::I(Some(user_id))];
        params.extend(notice_ids.iter().map(|i| P::I(Some(*i))));
        let marks: Vec<String> = (2..=notice_ids.len() + 1)
            .map(|i| format!("${i}"))
            .collect();
        let sql = format!(
            "SELECT notice_id FROM notice_reads WHERE user_id = $1 AND notice_id IN ({})",
            marks.join(", ")
        );
        let one_by_one: Vec<i64> = bind_all(sqlx::query(AssertSqlSafe(sql)), params)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.try_get::<i64, _>("notice_id"))
            .collect::<std::result::Result<_, _>>()?;
        Ok(notice_ids
            .iter()
            .copied()
            .filter(|id| *id <= mark || one_by_one.contains(id))
            .collect())
    }

    async fn mark_notices_read(&self, user_id: i64, seen_id: i64) -> Result<()> {
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
}
