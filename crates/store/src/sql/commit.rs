//! The versioned write: a ticket received, or changed by events appended at its version and
//! its view written in the same transaction with its notices and aggregate sums; on SQLite
//! several such writes share one group commit (creates side by side written together), and
//! a savepoint each only if one of them fails.

use super::*;

/// The indexed columns of a ticket, written beside its JSON body.
pub(super) fn ticket_columns(t: &Ticket) -> Result<Vec<P>> {
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

/// Writes new tickets, each with its `received` event, its place under watch, its units'
/// rows, its notices and its idempotency key, in a few multi-row statements for them all:
/// the creates of a SQLite group commit share them (each statement is a round trip to the
/// connection's worker thread, and four a create were most of the writer's time), one
/// create on PostgreSQL writes them alone. `pre_seqs` are the day numbers already taken
/// (PostgreSQL takes them outside the transaction); without them each day's counter moves
/// once, by as many tickets as that day has here.
pub(super) async fn insert_tickets(
    conn: &mut AnyConnection,
    sums: &mut aggregates::Pending,
    reqs: &[&CreateTicket],
    pre_seqs: Option<&[i64]>,
) -> Result<Vec<Ticket>> {
    let seqs = match pre_seqs {
        Some(s) => s.to_vec(),
        None => take_day_numbers(conn, reqs).await?,
    };
    let mut events = Vec::with_capacity(reqs.len());
    let mut views = Vec::with_capacity(reqs.len());
    for (req, seq) in reqs.iter().zip(seqs) {
        let number = format_number(&req.number_prefix, req.at, seq);
        let event = Event {
            ticket_id: 0,
            seq: 1,
            at: req.at,
            actor: req.actor,
            kind: req
                .new
                .clone()
                .into_event(number, req.tracking_code.clone()),
        };
        let view = apply(None, &event).ok_or_else(|| corrupt("received event made no ticket"))?;
        events.push(event);
        views.push(view);
    }
    let ids = insert_ticket_rows(conn, &views).await?;
    for ((event, view), id) in events.iter_mut().zip(views.iter_mut()).zip(&ids) {
        event.ticket_id = *id;
        sums.event(None, event, view);
        view.id = *id;
    }
    insert_events(conn, &events).await?;
    insert_watch(conn, &views).await?;
    let mut notices: Vec<(i64, NewNotice, DateTime<Utc>)> = Vec::new();
    for (req, view) in reqs.iter().zip(&views) {
        // A patrol report is its community's from the start.
        insert_ticket_units(conn, view.id, view).await?;
        if let Some(plan) = &req.notices {
            notices.extend((plan.0)(view).into_iter().map(|n| (view.id, n, req.at)));
        }
    }
    let rows: Vec<NoticeRow<'_>> = notices
        .iter()
        .map(|(t, n, at)| (Some(*t), n, *at))
        .collect();
    write_notices(conn, &rows).await?;
    insert_idempotency_keys(conn, reqs, &ids).await?;
    Ok(views)
}

/// Each ticket's number of the day: every day's counter (usually one) advanced once by as
/// many tickets as that day has among `reqs`, the numbers given out in order.
async fn take_day_numbers(conn: &mut AnyConnection, reqs: &[&CreateTicket]) -> Result<Vec<i64>> {
    let days: Vec<String> = reqs.iter().map(|r| number_day_key(r.at)).collect();
    let mut next: std::collections::BTreeMap<&str, i64> = std::collections::BTreeMap::new();
    for day in &days {
        *next.entry(day.as_str()).or_default() += 1;
    }
    for (day, n) in next.iter_mut() {
        let last: i64 = sqlx::query(TAKE_SEQS)
            .bind(number_counter(day))
            .bind(*n)
            .fetch_one(&mut *conn)
            .await?
            .try_get("value")?;
        *n = last - *n + 1; // the first number of the day given out here
    }
    Ok(days
        .iter()
        .map(|day| {
            let n = next.get_mut(day.as_str()).expect("every day was counted");
            *n += 1;
            *n - 1
        })
        .collect())
}

/// The counter of a business day's ticket numbers (`day` as [`number_day_key`] gives it).
pub(super) fn number_counter(day: &str) -> String {
    format!("ticket_number:{day}")
}

/// The tickets' rows (their views and the columns they are found by); their ids, in order.
async fn insert_ticket_rows(conn: &mut AnyConnection, views: &[Ticket]) -> Result<Vec<i64>> {
    let mut ids: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
    for chunk in in_shapes(views) {
        let mut params = Vec::with_capacity(chunk.len() * TICKET_ROW_WIDTH);
        for view in chunk {
            params.extend(ticket_columns(view)?);
            params.extend([
                P::S(Some(view.number.clone())),
                P::S(Some(view.tracking_code.clone())),
                P::S(Some(view.channel.as_str().to_string())),
                P::S(Some(view.kind.as_str().to_string())),
                P::S(view.citizen.phone.clone()),
                P::I(Some(ts(view.created_at))),
                P::S(view.citizen.wechat_openid.clone()),
            ]);
        }
        let sql = format!(
            "INSERT INTO tickets (state, category_code, division_code, lead_unit_id, parent_id, updated_at, version, body, \
             extension_pending, category_l1, category_l2, division_county, division_street, \
             number, tracking_code, channel, kind, citizen_phone, created_at, citizen_wechat) \
             VALUES {} RETURNING id, number",
            value_rows(chunk.len(), TICKET_ROW_WIDTH)
        );
        // The rows come back in no promised order: each is matched by its number.
        let rows = many(is_sqlite(conn), sql, params)
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| dup(e, ticket_numbers(chunk)))?;
        for r in rows {
            ids.insert(r.try_get("number")?, r.try_get("id")?);
        }
    }
    views
        .iter()
        .map(|v| {
            ids.get(&v.number)
                .copied()
                .ok_or_else(|| corrupt(format!("ticket {} was not given an id", v.number)))
        })
        .collect()
}

/// The columns of a ticket's row.
const TICKET_ROW_WIDTH: usize = 20;

/// "ticket number X", or the first few of several (a multi-row statement does not say
/// which row clashed).
fn ticket_numbers(views: &[Ticket]) -> String {
    let first: Vec<&str> = views.iter().take(5).map(|v| v.number.as_str()).collect();
    match views.len() {
        1 => format!("ticket number {}", first[0]),
        n => format!(
            "one of the ticket numbers {}{}",
            first.join(", "),
            if n > 5 { ", ..." } else { "" }
        ),
    }
}

/// New tickets' places under watch.
async fn insert_watch(conn: &mut AnyConnection, tickets: &[Ticket]) -> Result<()> {
    for chunk in in_shapes(tickets) {
        let sql = format!(
            "INSERT INTO ticket_watch (ticket_id, version) VALUES {}",
            value_rows(chunk.len(), 2)
        );
        let params = chunk
            .iter()
            .flat_map(|t| [P::I(Some(t.id)), P::I(Some(t.version))])
            .collect();
        many(is_sqlite(conn), sql, params)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The idempotency keys of new tickets (those that came with one). A key another request
/// holds already fails the whole write with [`StoreError::IdempotencyRace`] (that request
/// committed first; the caller answers with its ticket).
async fn insert_idempotency_keys(
    conn: &mut AnyConnection,
    reqs: &[&CreateTicket],
    ids: &[i64],
) -> Result<()> {
    let keyed: Vec<(&CreateTicket, i64)> = reqs
        .iter()
        .copied()
        .zip(ids.iter().copied())
        .filter(|(r, _)| r.idempotency.is_some())
        .collect();
    for chunk in in_shapes(&keyed) {
        let sql = format!(
            "INSERT INTO idempotency_keys (user_id, idem_key, request_hash, ticket_id, created_at) \
             VALUES {} ON CONFLICT (user_id, idem_key) DO NOTHING",
            value_rows(chunk.len(), 5)
        );
        let mut params = Vec::with_capacity(chunk.len() * 5);
        for (req, id) in chunk {
            let (key, hash) = req.idempotency.clone().expect("only keyed requests");
            params.extend([
                P::I(Some(req.actor.user_id)),
                P::S(Some(key)),
                P::S(Some(hash)),
                P::I(Some(*id)),
                P::I(Some(ts(req.at))),
            ]);
        }
        let r = many(is_sqlite(conn), sql, params)
            .execute(&mut *conn)
            .await?;
        if r.rows_affected() != chunk.len() as u64 {
            return Err(StoreError::IdempotencyRace);
        }
    }
    Ok(())
}

/// The longest run of rows one multi-row statement writes.
const MAX_ROWS_PER_INSERT: usize = 64;

/// `items` cut into runs of 64, 32, 16, 8, 4, 2 and 1 rows: a multi-row statement has a
/// text of its own for every number of rows, and the connection keeps only so many
/// prepared; seven shapes a table stay prepared, one per group size would not.
pub(super) fn in_shapes<T>(items: &[T]) -> Vec<&[T]> {
    let mut out = Vec::new();
    let mut rest = items;
    while !rest.is_empty() {
        let n = if rest.len() >= MAX_ROWS_PER_INSERT {
            MAX_ROWS_PER_INSERT
        } else {
            1 << (usize::BITS - 1 - rest.len().leading_zeros())
        };
        let (head, tail) = rest.split_at(n);
        out.push(head);
        rest = tail;
    }
    out
}

/// Writes a past ticket from its events (their times its own): the view they make, every
/// event, the aggregates each adds, its units' rows and its place under watch.
pub(super) async fn insert_past(
    conn: &mut AnyConnection,
    sums: &mut aggregates::Pending,
    mut events: Vec<Event>,
) -> Result<()> {
    let view = events
        .iter()
        .fold(None, apply)
        .ok_or_else(|| corrupt("an imported ticket's events made no ticket"))?;
    let id = insert_ticket_rows(conn, std::slice::from_ref(&view)).await?[0];
    for e in &mut events {
        e.ticket_id = id;
    }
    insert_events(conn, &events).await?;
    let mut before: Option<Ticket> = None;
    for e in &events {
        let Some(mut after) = apply(before.clone(), e) else {
            return Err(corrupt("an imported ticket's event applies to no ticket"));
        };
        after.id = id;
        sums.event(before.as_ref(), e, &after);
        before = Some(after);
    }
    let mut placed = view;
    placed.id = id;
    insert_watch(conn, std::slice::from_ref(&placed)).await?;
    insert_ticket_units(conn, id, &placed).await?;
    Ok(())
}

/// The rows that let each unit the ticket is with find it, with what it waits for from the
/// unit (the ticket's old rows deleted first, if it had any).
async fn insert_ticket_units(conn: &mut AnyConnection, id: i64, t: &Ticket) -> Result<()> {
    for unit in t.units() {
        sqlx::query(
            "INSERT INTO ticket_units (ticket_id, unit_id, is_lead, queue) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(unit)
        .bind(i64::from(t.lead_unit_id == Some(unit)))
        .bind(t.queue_of(unit).as_str())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Appends each change's events and writes each ticket's new view, checking versions.
pub(super) async fn apply_changes(
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
    let mut notices: Vec<(Option<i64>, NewNotice)> = Vec::new();
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
        notices.extend(change.notices.into_iter().map(|n| (Some(before.id), n)));
        all_events.extend(events.iter().cloned());
        // The units whose handlers find the ticket (the lead unit, the co-units, every
        // level of the chain), each with what the ticket waits for from it.
        let queues = |t: &Ticket| -> Vec<(i64, &'static str)> {
            t.units()
                .into_iter()
                .map(|u| (u, t.queue_of(u).as_str()))
                .collect()
        };
        let units = queues(&after);
        if units != queues(&before) || after.lead_unit_id != before.lead_unit_id {
            sqlx::query("DELETE FROM ticket_units WHERE ticket_id = $1")
                .bind(after.id)
                .execute(&mut *conn)
                .await?;
            insert_ticket_units(conn, after.id, &after).await?;
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

/// Puts notices in the outbox, each about its ticket or none (console notices are
/// delivered by this very write).
pub(super) async fn insert_notices(
    conn: &mut AnyConnection,
    notices: &[(Option<i64>, NewNotice)],
    at: DateTime<Utc>,
) -> Result<()> {
    let rows: Vec<NoticeRow<'_>> = notices.iter().map(|(t, n)| (*t, n, at)).collect();
    write_notices(conn, &rows).await
}

/// A notice for the outbox: about which ticket, what, and when it was made.
type NoticeRow<'a> = (Option<i64>, &'a NewNotice, DateTime<Utc>);

/// Puts notices made at different times in the outbox.
async fn write_notices(conn: &mut AnyConnection, notices: &[NoticeRow<'_>]) -> Result<()> {
    for chunk in in_shapes(notices) {
        let rows = value_rows(chunk.len(), 8);
        let sql = format!(
            "INSERT INTO outbox (ticket_id, event_seq, channel, recipient, payload, created_at, not_before, sent_at) VALUES {rows}"
        );
        let mut params = Vec::with_capacity(chunk.len() * 8);
        for (ticket_id, n, at) in chunk {
            params.extend([
                P::I(*ticket_id),
                P::I(Some(n.event_seq)),
                P::S(Some(n.channel.clone())),
                P::S(Some(n.recipient.clone())),
                P::S(Some(n.payload.clone())),
                P::I(Some(ts(*at))),
                P::I(Some(ts(n.not_before))),
                P::I((n.channel == channel::CONSOLE).then(|| ts(*at))),
            ]);
        }
        many(is_sqlite(conn), sql, params)
            .execute(&mut *conn)
            .await
            .map_err(|e| dup(e, "a notice"))?;
    }
    Ok(())
}

/// A ticket's row in `ticket_watch` after a change.
pub(super) struct WatchUpdate {
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
pub(super) async fn update_watch(conn: &mut AnyConnection, updates: &[WatchUpdate]) -> Result<()> {
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
pub(super) struct SlimUpdate {
    id: i64,
    version: i64,
    after_version: i64,
    updated_at: i64,
    body: String,
}

/// Rows written by one multi-row update statement.
pub(super) const SLIM_ROWS_PER_UPDATE: usize = 100;

/// Writes slim updates many rows to a statement (`UPDATE ... FROM (VALUES ...)`, on both
/// backends); fails with a conflict if any ticket is no longer at the version read.
pub(super) async fn update_slim(conn: &mut AnyConnection, updates: &[SlimUpdate]) -> Result<()> {
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

/// Runs writes in one SQLite transaction and answers each after the commit (or with the
/// failure of that write or of the commit). The writes run one after another with nothing
/// between them, their evaluation sums written once at the end: a savepoint each would cost
/// two more round trips to the connection's thread per write (a third of a create's). Only
/// if one of them fails is the transaction rolled back and the group run again, each write
/// in a savepoint of its own, so that the failing one (a stale version, an idempotency key
/// taken meanwhile) rolls back alone and counts nothing.
pub(super) async fn run_group(conn: &mut AnyConnection, mut jobs: Vec<Job>) {
    if jobs.len() == 1 {
        // Alone: the transaction is the job's own.
        let job = jobs.pop().expect("one job");
        let outcome = async {
            let mut tx = sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE").await?;
            let mut sums = aggregates::Pending::default();
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
    match run_together(conn, &jobs).await {
        Together::Committed(outputs) => {
            for (job, out) in jobs.into_iter().zip(outputs) {
                let _ = job.reply.send(Ok(out));
            }
        }
        Together::Failed(msg) => {
            for job in jobs {
                let _ = job.reply.send(Err(StoreError::Commit(msg.clone())));
            }
        }
        Together::OneRefused => run_each_in_savepoint(conn, jobs).await,
    }
}

/// How a group's writes run together ended.
enum Together {
    /// Every write succeeded and the transaction committed: their outputs, in order.
    Committed(Vec<JobOutput>),
    /// The transaction could not begin, be written or commit: nothing was written.
    Failed(String),
    /// A write failed and the transaction was rolled back: nothing was written.
    OneRefused,
}

async fn run_together(conn: &mut AnyConnection, jobs: &[Job]) -> Together {
    let mut tx = match sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE").await {
        Ok(tx) => tx,
        Err(e) => return Together::Failed(e.to_string()),
    };
    let mut sums = aggregates::Pending::default();
    let mut outputs = Vec::with_capacity(jobs.len());
    while outputs.len() < jobs.len() {
        let rest = &jobs[outputs.len()..];
        // Creates next to each other are written together: a few statements for them all.
        let creates: Vec<&CreateTicket> = rest.iter().map_while(|j| j.create.as_ref()).collect();
        let written = if creates.len() > 1 {
            insert_tickets(&mut tx, &mut sums, &creates, None)
                .await
                .map(|made| made.into_iter().map(|t| Box::new(t) as JobOutput).collect())
        } else {
            (rest[0].run)(&mut tx, &mut sums).await.map(|v| vec![v])
        };
        match written {
            Ok(v) => outputs.extend(v),
            Err(_) => {
                return match tx.rollback().await {
                    Ok(()) => Together::OneRefused,
                    Err(e) => Together::Failed(e.to_string()),
                };
            }
        }
    }
    if let Err(e) = sums.write(&mut tx).await {
        tracing::error!(error = %e, "could not write a group's evaluation sums");
        let _ = tx.rollback().await;
        return Together::Failed(e.to_string());
    }
    match tx.commit().await {
        Ok(()) => Together::Committed(outputs),
        Err(e) => Together::Failed(e.to_string()),
    }
}

/// Runs writes in one SQLite transaction, each in a savepoint, writes the evaluation sums
/// of those that succeeded in one go, and answers each after the commit.
async fn run_each_in_savepoint(conn: &mut AnyConnection, jobs: Vec<Job>) {
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
    let mut group_sums = aggregates::Pending::default();
    for job in jobs {
        // A job's sums join the group's only once its savepoint is released: a refused
        // write counts nothing.
        let mut sums = aggregates::Pending::default();
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

/// Writes events, many rows to a statement.
pub(super) async fn insert_events(conn: &mut AnyConnection, events: &[Event]) -> Result<()> {
    for chunk in in_shapes(events) {
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

pub(super) async fn insert_event(conn: &mut AnyConnection, e: &Event) -> Result<()> {
    insert_events(conn, std::slice::from_ref(e)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A write that adds `value` to table `t`, then fails with a conflict if `refuse`.
    fn job(value: i64, refuse: bool) -> (Job, tokio::sync::oneshot::Receiver<Result<JobOutput>>) {
        let (reply, done) = tokio::sync::oneshot::channel();
        let run: JobFn = Box::new(
            move |conn: &mut AnyConnection, _: &mut aggregates::Pending| -> JobFuture<'_> {
                Box::pin(async move {
                    sqlx::query("INSERT INTO t (v) VALUES ($1)")
                        .bind(value)
                        .execute(&mut *conn)
                        .await?;
                    if refuse {
                        return Err(StoreError::Conflict);
                    }
                    Ok(Box::new(value) as JobOutput)
                })
            },
        );
        (
            Job {
                run,
                create: None,
                reply,
            },
            done,
        )
    }

    async fn group(values: &[(i64, bool)]) -> (Vec<std::result::Result<i64, String>>, Vec<i64>) {
        sqlx::any::install_default_drivers();
        let mut conn = <AnyConnection as sqlx::Connection>::connect("sqlite::memory:")
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (v INTEGER NOT NULL)")
            .execute(&mut conn)
            .await
            .unwrap();
        let (jobs, replies): (Vec<_>, Vec<_>) = values.iter().map(|&(v, r)| job(v, r)).unzip();
        run_group(&mut conn, jobs).await;
        let mut answers = Vec::new();
        for r in replies {
            answers.push(match r.await.unwrap() {
                Ok(out) => Ok(*out.downcast::<i64>().unwrap()),
                Err(e) => Err(e.to_string()),
            });
        }
        let kept: Vec<i64> = sqlx::query("SELECT v FROM t ORDER BY v")
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<i64, _>(0))
            .collect();
        (answers, kept)
    }

    #[test]
    fn rows_are_cut_into_seven_shapes() {
        let sizes = |n: usize| -> Vec<usize> {
            let items = vec![0u8; n];
            in_shapes(&items).iter().map(|c| c.len()).collect()
        };
        assert_eq!(sizes(0), Vec::<usize>::new());
        assert_eq!(sizes(1), vec![1]);
        assert_eq!(sizes(7), vec![4, 2, 1]);
        assert_eq!(sizes(64), vec![64]);
        assert_eq!(sizes(100), vec![64, 32, 4]);
        assert_eq!(sizes(130), vec![64, 64, 2]);
    }

    #[tokio::test]
    async fn a_group_that_succeeds_commits_every_write() {
        let (answers, kept) = group(&[(1, false), (2, false), (3, false)]).await;
        assert_eq!(answers, vec![Ok(1), Ok(2), Ok(3)]);
        assert_eq!(kept, vec![1, 2, 3]);
    }

    #[tokio::test]
    async fn a_refused_write_in_a_group_rolls_back_alone() {
        // The second and the fourth write their row and then fail: run together first, the
        // group is rolled back and run again, each in a savepoint.
        let (answers, kept) =
            group(&[(1, false), (2, true), (3, false), (4, true), (5, false)]).await;
        let conflict = StoreError::Conflict.to_string();
        assert_eq!(
            answers,
            vec![Ok(1), Err(conflict.clone()), Ok(3), Err(conflict), Ok(5)]
        );
        assert_eq!(kept, vec![1, 3, 5]);
    }
}
