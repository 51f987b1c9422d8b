//! Tickets: created, changed by events in one versioned write, read, listed, watched.

use super::*;

#[async_trait]
impl TicketStore for SqlStore {
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
        // leaves a gap); SQLite has one writer anyway, so there it is inside, taken once
        // for all the creates of a group.
        let pre_seq: Option<i64> = match self.backend {
            Backend::Postgres => Some(
                sqlx::query(TAKE_SEQS)
                    .bind(number_counter(&number_day_key(req.at)))
                    .bind(1i64)
                    .fetch_one(&self.pool)
                    .await?
                    .try_get("value")?,
            ),
            Backend::Sqlite => None,
        };
        let job_req = req.clone();
        let result = self
            .run_job::<Ticket>(
                Box::new(
                    move |conn: &mut AnyConnection,
                          sums: &mut aggregates::Pending|
                          -> JobFuture<'_> {
                        let req = job_req.clone();
                        Box::pin(async move {
                            let pre = pre_seq.map(|s| vec![s]);
                            let made = insert_tickets(conn, sums, &[&req], pre.as_deref())
                                .await?
                                .pop()
                                .ok_or_else(|| corrupt("a create made no ticket"))?;
                            Ok(Box::new(made) as JobOutput)
                        })
                    },
                ),
                Some(req.clone()),
            )
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

    async fn import_tickets(
        &self,
        tickets: Vec<mashangban_domain::import::PastTicket>,
        events_of: ImportPlan,
    ) -> Result<usize> {
        let n = tickets.len();
        let tickets = std::sync::Arc::new(tickets);
        self.run_write::<()>(Box::new(
            move |conn: &mut AnyConnection, sums: &mut aggregates::Pending| -> JobFuture<'_> {
                let (tickets, events_of) = (tickets.clone(), events_of.clone());
                Box::pin(async move {
                    for t in tickets.iter() {
                        insert_past(conn, sums, events_of(t)).await?;
                    }
                    Ok(Box::new(()) as JobOutput)
                })
            },
        ))
        .await?;
        Ok(n)
    }

    async fn get_ticket(&self, id: i64) -> Result<Option<Ticket>> {
        let row = sqlx::query("SELECT id, body FROM tickets WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(ticket_from).transpose()
    }

    async fn ticket_by_number(&self, number: &str) -> Result<Option<Ticket>> {
        let row = sqlx::query("SELECT id, body FROM tickets WHERE number = $1")
            .bind(number.to_string())
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
        if let (Some(_), Some(q)) = (f.unit_id, f.unit_queue) {
            let m = next(&mut params, P::S(Some(q.as_str().to_string())));
            sql.push_str(&format!(" AND tu.queue = {m}"));
        }
        if !f.states.is_empty() {
            let marks: Vec<String> = f
                .states
                .iter()
                .map(|s| next(&mut params, P::S(Some(s.as_str().to_string()))))
                .collect();
            sql.push_str(&format!(" AND t.state IN ({})", marks.join(", ")));
        }
        if let Some(c) = &f.channel {
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
        if let Some(w) = &f.citizen_wechat {
            let m = next(&mut params, P::S(Some(w.clone())));
            sql.push_str(&format!(" AND t.citizen_wechat = {m}"));
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
        let (past, direction) = if f.oldest_first {
            (">", "ASC")
        } else {
            ("<", "DESC")
        };
        if let Some(b) = f.before_id {
            let m = next(&mut params, P::I(Some(b)));
            sql.push_str(&format!(" AND {order} {past} {m}"));
        }
        let limit = f.limit.clamp(1, 1000) as i64;
        let m = next(&mut params, P::I(Some(limit)));
        sql.push_str(&format!(" ORDER BY {order} {direction} LIMIT {m}"));
        let rows = bind_all(sqlx::query(AssertSqlSafe(sql)), params)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(ticket_from).collect()
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
             WHERE state NOT IN ('resolved_directly', 'closed', 'merged', 'not_accepted', 'transferred'))",
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

    async fn tickets_with_events(
        &self,
        types: &[&str],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<i64>> {
        if types.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (4..4 + types.len()).map(|i| format!("${i}")).collect();
        let mut q = sqlx::query(AssertSqlSafe(format!(
            "SELECT DISTINCT ticket_id FROM ticket_events WHERE at >= $1 AND at < $2 \
             AND type IN ({}) ORDER BY ticket_id LIMIT $3",
            marks.join(", ")
        )))
        .bind(ts(from))
        .bind(ts(to))
        .bind(i64::from(limit.clamp(1, 1_000_000)));
        for t in types {
            q = q.bind(*t);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok(r.try_get::<i64, _>(0)?)).collect()
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

    async fn commit(
        &self,
        changes: Vec<Change>,
        actor: Actor,
        at: DateTime<Utc>,
    ) -> Result<Vec<Committed>> {
        self.run_write::<Vec<Committed>>(Box::new(
            move |conn: &mut AnyConnection, sums: &mut aggregates::Pending| -> JobFuture<'_> {
                let changes = changes.clone();
                Box::pin(async move {
                    Ok(Box::new(apply_changes(conn, sums, changes, actor, at).await?) as JobOutput)
                })
            },
        ))
        .await
    }
}
