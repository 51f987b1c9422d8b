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
        // Files and recordings are due only where there are some: most tickets have none,
        // and a pass would otherwise spend its batch claiming them. (The view's JSON names a
        // recording as `"recording":"…`; a quote inside a text is escaped, so no text
        // matches.)
        let has = match kind {
            RetainedKind::Attachments => {
                "AND EXISTS (SELECT 1 FROM attachments a WHERE a.ticket_id = tickets.id) "
            }
            RetainedKind::Recordings => "AND body LIKE '%\"recording\":\"%' ",
            RetainedKind::Contact | RetainedKind::Content => "",
        };
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT id FROM tickets WHERE state IN ({}) AND updated_at < $1 {has}\
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

    async fn scrub_ticket(&self, plan: &ScrubPlan<'_>, marker: Event) -> Result<Option<usize>> {
        let ticket_id = plan.ticket_id;
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        // The claim: a kind already taken out (here or by another instance) is not claimed
        // again; nothing left to claim, nothing to do.
        let mut claimed = 0;
        for kind in plan.kinds {
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
            let n = (plan.record)(&mut data);
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
        taken += (plan.record)(&mut body);
        taken += scrub_outbox(&mut tx, plan).await?;
        if plan.kinds.contains(&RetainedKind::Content) {
            taken += forget_case_originals(&mut tx, plan).await?;
        }
        if plan.kinds.contains(&RetainedKind::Attachments) {
            let rows = sqlx::query(
                "SELECT sha256, thumbnail_sha256 FROM attachments WHERE ticket_id = $1",
            )
            .bind(ticket_id)
            .fetch_all(&mut *tx)
            .await?;
            for r in &rows {
                taken += 1;
                let sha: String = r.try_get("sha256")?;
                let thumbnail: Option<String> = r.try_get("thumbnail_sha256")?;
                for sha in std::iter::once(sha).chain(thumbnail) {
                    release_file(&mut tx, &sha, marker.at).await?;
                }
            }
            sqlx::query("DELETE FROM attachments WHERE ticket_id = $1")
                .bind(ticket_id)
                .execute(&mut *tx)
                .await?;
        }
        if taken == 0 {
            // Nothing personal of these kinds was left: the claim stands, the ticket and
            // its history are as they were.
            tx.commit().await?;
            return Ok(Some(0));
        }
        let next = version + 1;
        body["version"] = serde_json::json!(next);
        let contact = plan.kinds.contains(&RetainedKind::Contact);
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

/// The ticket's notices: their payloads through the plan's scrub (an SMS quotes the answer),
/// and, with the contacts, the citizen's number or WeChat id as their recipient emptied.
async fn scrub_outbox(conn: &mut AnyConnection, plan: &ScrubPlan<'_>) -> Result<usize> {
    let mut n = 0;
    let rows =
        sqlx::query("SELECT id, channel, recipient, payload FROM outbox WHERE ticket_id = $1")
            .bind(plan.ticket_id)
            .fetch_all(&mut *conn)
            .await?;
    let contact = plan.kinds.contains(&RetainedKind::Contact);
    for r in &rows {
        let id: i64 = r.try_get("id")?;
        let channel: String = r.try_get("channel")?;
        let mut recipient: String = r.try_get("recipient")?;
        let raw: String = r.try_get("payload")?;
        let mut changed = 0;
        if contact && plan.citizen_channels.contains(&channel.as_str()) && !recipient.is_empty() {
            recipient.clear();
            changed += 1;
        }
        // A payload that is not JSON (none is written so) is left as it is.
        let mut payload = raw.clone();
        if let Ok(mut value) = serde_json::from_str::<serde_json::Value>(&raw) {
            let taken = (plan.record)(&mut value);
            if taken > 0 {
                payload = serde_json::to_string(&value).map_err(corrupt)?;
                changed += taken;
            }
        }
        if changed > 0 {
            sqlx::query("UPDATE outbox SET recipient = $1, payload = $2 WHERE id = $3")
                .bind(recipient)
                .bind(payload)
                .bind(id)
                .execute(&mut *conn)
                .await?;
            n += changed;
        }
    }
    Ok(n)
}

/// A typical case drafted from the ticket forgets its drafting's originals, in the case and
/// in its history.
async fn forget_case_originals(conn: &mut AnyConnection, plan: &ScrubPlan<'_>) -> Result<usize> {
    let Some(row) = sqlx::query("SELECT id, body FROM typical_cases WHERE ticket_id = $1")
        .bind(plan.ticket_id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(0);
    };
    let case_id: i64 = row.try_get("id")?;
    let mut n = 0;
    let mut body: serde_json::Value =
        serde_json::from_str(&row.try_get::<String, _>("body")?).map_err(corrupt)?;
    let taken = (plan.case)(&mut body);
    if taken > 0 {
        n += taken;
        sqlx::query("UPDATE typical_cases SET body = $1 WHERE id = $2")
            .bind(serde_json::to_string(&body).map_err(corrupt)?)
            .bind(case_id)
            .execute(&mut *conn)
            .await?;
    }
    let changes = sqlx::query(
        "SELECT id, before_json, after_json FROM typical_case_changes WHERE case_id = $1",
    )
    .bind(case_id)
    .fetch_all(&mut *conn)
    .await?;
    for c in &changes {
        let id: i64 = c.try_get("id")?;
        let mut sides = Vec::new();
        let mut taken = 0;
        for column in ["before_json", "after_json"] {
            let side = match c.try_get::<Option<String>, _>(column)? {
                Some(text) => {
                    let mut v: serde_json::Value = serde_json::from_str(&text).map_err(corrupt)?;
                    taken += (plan.case)(&mut v);
                    Some(serde_json::to_string(&v).map_err(corrupt)?)
                }
                None => None,
            };
            sides.push(side);
        }
        if taken > 0 {
            n += taken;
            sqlx::query(
                "UPDATE typical_case_changes SET before_json = $1, after_json = $2 WHERE id = $3",
            )
            .bind(sides[0].clone())
            .bind(sides[1].clone())
            .bind(id)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(n)
}

/// Lists bytes whose record went as released (once: the first release's time stays).
pub(super) async fn release_file(
    conn: &mut AnyConnection,
    sha256: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO file_releases (sha256, released_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(sha256.to_string())
    .bind(ts(at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}
