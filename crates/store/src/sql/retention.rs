//! Keeping personal data only as long as needed: which tickets are due, the one
//! transaction that scrubs a ticket's events and view, and the log.

use super::*;
use mashangban_domain::TicketState;
use mashangban_domain::retention::RetainedKind;

#[async_trait]
impl RetentionStore for SqlStore {
    async fn retention_due(
        &self,
        kind: RetainedKind,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<i64>> {
        let finished: Vec<String> = TicketState::ALL
            .iter()
            .filter(|s| s.is_terminal())
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT id FROM tickets WHERE state IN ({}) AND updated_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM ticket_retention r WHERE r.ticket_id = tickets.id AND r.kind = $2) \
             ORDER BY id LIMIT $3",
            finished.join(", ")
        )))
        .bind(ts(before))
        .bind(kind.as_str())
        .bind(i64::from(limit.clamp(1, 10_000)))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
    }

    async fn tickets_of_phone(&self, phone: &str) -> Result<Vec<i64>> {
        let rows = sqlx::query("SELECT id FROM tickets WHERE citizen_phone = $1 ORDER BY id")
            .bind(phone.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
    }

    async fn scrub_ticket(
        &self,
        ticket_id: i64,
        kinds: &[RetainedKind],
        scrub: &ScrubFn<'_>,
        marker: Event,
    ) -> Result<Option<usize>> {
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        // The claim: a kind already taken out (here or by another instance) is not claimed
        // again; nothing left to claim, nothing to do.
        let mut claimed = 0;
        for kind in kinds {
            claimed += sqlx::query(
                "INSERT INTO ticket_retention (ticket_id, kind, done_at) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(ticket_id)
            .bind(kind.as_str())
            .bind(ts(marker.at))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        if claimed == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        let lock = if self.backend == Backend::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        let Some(row) = sqlx::query(AssertSqlSafe(format!(
            "SELECT version, body FROM tickets WHERE id = $1{lock}"
        )))
        .bind(ticket_id)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Err(StoreError::NotFound {
                what: format!("ticket {ticket_id}"),
            });
        };
        let version: i64 = row.try_get("version")?;
        let mut body: serde_json::Value =
            serde_json::from_str(&row.try_get::<String, _>("body")?).map_err(corrupt)?;
        let mut taken = 0;
        let events =
            sqlx::query("SELECT seq, data FROM ticket_events WHERE ticket_id = $1 ORDER BY seq")
                .bind(ticket_id)
                .fetch_all(&mut *tx)
                .await?;
        for e in &events {
            let seq: i64 = e.try_get("seq")?;
            let mut data: serde_json::Value =
                serde_json::from_str(&e.try_get::<String, _>("data")?).map_err(corrupt)?;
            let n = scrub(&mut data);
            if n > 0 {
                taken += n;
                sqlx::query("UPDATE ticket_events SET data = $1 WHERE ticket_id = $2 AND seq = $3")
                    .bind(serde_json::to_string(&data).map_err(corrupt)?)
                    .bind(ticket_id)
                    .bind(seq)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        taken += scrub(&mut body);
        let next = version + 1;
        body["version"] = serde_json::json!(next);
        let contact = kinds.contains(&RetainedKind::Contact);
        sqlx::query(
            "UPDATE tickets SET body = $1, version = $2, \
             citizen_phone = CASE WHEN $3 = 1 THEN NULL ELSE citizen_phone END, \
             citizen_wechat = CASE WHEN $3 = 1 THEN NULL ELSE citizen_wechat END \
             WHERE id = $4",
        )
        .bind(serde_json::to_string(&body).map_err(corrupt)?)
        .bind(next)
        .bind(i64::from(contact))
        .bind(ticket_id)
        .execute(&mut *tx)
        .await?;
        let marker = Event {
            ticket_id,
            seq: next,
            ..marker
        };
        insert_event(&mut tx, &marker).await?;
        tx.commit().await?;
        Ok(Some(taken))
    }

    async fn log_retention(&self, entry: &RetentionEntry) -> Result<()> {
        let mut w = self.writer().await?;
        sqlx::query(
            "INSERT INTO retention_log (at, user_id, what, tickets, data, reason) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(ts(entry.at))
        .bind(entry.user_id)
        .bind(entry.what.clone())
        .bind(entry.tickets)
        .bind(entry.data)
        .bind(entry.reason.clone())
        .execute(&mut *w)
        .await?;
        Ok(())
    }

    async fn retention_log(&self, limit: u32) -> Result<Vec<RetentionEntry>> {
        let rows = sqlx::query(
            "SELECT id, at, user_id, what, tickets, data, reason FROM retention_log \
             ORDER BY id DESC LIMIT $1",
        )
        .bind(i64::from(limit.clamp(1, 1_000)))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RetentionEntry {
                    id: r.try_get("id")?,
                    at: from_ts(r.try_get("at")?),
                    user_id: r.try_get("user_id")?,
                    what: r.try_get("what")?,
                    tickets: r.try_get("tickets")?,
                    data: r.try_get("data")?,
                    reason: r.try_get("reason")?,
                })
            })
            .collect()
    }
}
