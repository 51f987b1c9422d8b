//! The evaluation aggregates in SQL: written with the events that make them, read by the
//! reports, rebuilt from the events (see `mashangban_domain::aggregates`).

use super::*;

use crate::{GroupTally, RebuildReport};
use chrono::NaiveDate;
use mashangban_domain::aggregates::{
    Dim, Fact, FactKey, ISSUE_ROLLUPS, cover, facts, issue_groups_of, month_of,
};
use mashangban_domain::kpi::Tally;
use mashangban_domain::report::IssueCounts;
use mashangban_domain::{Channel, Event, Ticket, apply};
use sqlx::{AnyConnection, Row};
use std::collections::BTreeMap;

const MEASURES: usize = Tally::LEN;

type Counts = [i64; MEASURES];

/// The facts of one transaction, kept as they come and appended, when it commits, as one
/// compact row of `kpi_deltas` (the write dirties the table's last page, which the next
/// transactions share) rather than added to the dozen or more aggregate rows they concern
/// (each a page of its own to write, and on PostgreSQL a row every concurrent writer
/// waits for). [`fold`] adds the deltas to the aggregates: a background task after every
/// few hundred, and every read of the aggregates first, so that what is read is exactly
/// what the committed events make. A transaction of many facts (an import, a rebuild)
/// gains nothing from a delta and writes its sums directly.
#[derive(Default)]
pub(super) struct Pending {
    facts: Vec<Fact>,
}

/// Above this many facts a transaction writes its sums directly (a delta of its size
/// would be a large text to parse again for no saving).
const DELTA_MAX_FACTS: usize = 2_000;

impl Pending {
    /// Adds facts.
    pub(super) fn add(&mut self, facts: &[Fact]) {
        self.facts.extend_from_slice(facts);
    }

    /// Replays one event: the facts it adds, from the ticket before and after it.
    pub(super) fn event(&mut self, before: Option<&Ticket>, event: &Event, after: &Ticket) {
        self.facts.extend(facts(before, event, after));
    }

    /// Adds another transaction's facts to these.
    pub(super) fn merge(&mut self, other: Pending) {
        self.facts.extend(other.facts);
    }

    /// Writes the facts (as a delta, or directly when many) and empties itself.
    pub(super) async fn write(&mut self, conn: &mut AnyConnection) -> Result<()> {
        let facts = std::mem::take(&mut self.facts);
        if facts.len() > DELTA_MAX_FACTS {
            let mut sums = Sums::default();
            sums.add(&facts);
            sums.write(conn).await?;
        } else if !facts.is_empty() {
            sqlx::query("INSERT INTO kpi_deltas (facts) VALUES ($1)")
                .bind(encode(&facts)?)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }
}

/// A fact in a delta: `[day, unit, category, channel, division, line, sign, [[measure,
/// count], …]]`, the counts that are not zero by their index in [`Tally::FIELDS`].
type EncodedFact = (
    NaiveDate,
    Option<i64>,
    Option<String>,
    Channel,
    Option<String>,
    Option<String>,
    i64,
    Vec<(usize, u64)>,
);

fn encode(facts: &[Fact]) -> Result<String> {
    let rows: Vec<EncodedFact> = facts
        .iter()
        .map(|f| {
            let k = &f.key;
            (
                k.day,
                k.unit_id,
                k.category_code.clone(),
                k.channel.clone(),
                k.division_code.clone(),
                k.line.clone(),
                f.sign,
                f.tally
                    .values()
                    .into_iter()
                    .enumerate()
                    .filter(|(_, v)| *v != 0)
                    .collect(),
            )
        })
        .collect();
    serde_json::to_string(&rows).map_err(corrupt)
}

fn decode(text: &str) -> Result<Vec<Fact>> {
    let rows: Vec<EncodedFact> =
        serde_json::from_str(text).map_err(|e| corrupt(format!("aggregate delta: {e}")))?;
    rows.into_iter()
        .map(
            |(day, unit_id, category_code, channel, division_code, line, sign, counts)| {
                let mut v = [0i64; MEASURES];
                for (i, n) in counts {
                    let slot = v
                        .get_mut(i)
                        .ok_or_else(|| corrupt(format!("aggregate delta: measure {i}")))?;
                    *slot = i64::try_from(n).map_err(corrupt)?;
                }
                Ok(Fact {
                    key: FactKey {
                        day,
                        unit_id,
                        category_code,
                        channel,
                        division_code,
                        line,
                    },
                    sign,
                    tally: Tally::from_values(v),
                })
            },
        )
        .collect()
}

/// Deltas folded per transaction, each transaction committing the deltas it took away with
/// the sums it added. On SQLite a fold holds the one writer: its transactions are kept
/// short (a few milliseconds), and the writes waiting meanwhile go between them.
pub(super) const FOLD_CHUNK_SQLITE: i64 = 32;
pub(super) const FOLD_CHUNK_POSTGRES: i64 = 2_000;

/// Serializes the folds of every server on a PostgreSQL database (and a rebuild with
/// them): a fold's sums are then added by the time the next fold finds no delta left.
const FOLD_LOCK: i64 = 0x6D62_6B70_6966_6F6C; // "mbkpifol"

/// Adds up to `limit` of the oldest deltas, up to the delta `upto`, to the aggregates and
/// removes them, in one transaction (SQLite: on the writer's connection); how many it
/// folded. Folding in turn until one folds fewer than `limit` adds every delta committed
/// before `upto` was read (see [`newest_delta`]).
pub(super) async fn fold(conn: &mut AnyConnection, upto: i64, limit: i64) -> Result<i64> {
    let sqlite = is_sqlite(conn);
    let mut tx = if sqlite {
        sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE").await?
    } else {
        sqlx::Connection::begin(&mut *conn).await?
    };
    let texts: Vec<String> = if sqlite {
        let rows =
            sqlx::query("SELECT id, facts FROM kpi_deltas WHERE id <= $1 ORDER BY id LIMIT $2")
                .bind(upto)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
        if let Some(last) = rows.last() {
            sqlx::query("DELETE FROM kpi_deltas WHERE id <= $1")
                .bind(last.try_get::<i64, _>("id")?)
                .execute(&mut *tx)
                .await?;
        }
        rows.iter()
            .map(|r| r.try_get("facts"))
            .collect::<std::result::Result<_, _>>()?
    } else {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(FOLD_LOCK)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "DELETE FROM kpi_deltas WHERE id IN \
             (SELECT id FROM kpi_deltas WHERE id <= $1 ORDER BY id LIMIT $2) RETURNING facts",
        )
        .bind(upto)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.try_get("facts"))
        .collect::<std::result::Result<_, _>>()?
    };
    let mut sums = Sums::default();
    for text in &texts {
        sums.add(&decode(text)?);
    }
    sums.write(&mut tx).await?;
    tx.commit().await?;
    Ok(texts.len() as i64)
}

/// The newest delta waiting to be folded, if any. Every delta committed before this is
/// read has an id up to it (on PostgreSQL ids are taken before commit, so a later one may
/// be lower: it is then folded too, or by the next fold).
pub(super) async fn newest_delta(conn: &mut AnyConnection) -> Result<Option<i64>> {
    Ok(sqlx::query("SELECT MAX(id) AS id FROM kpi_deltas")
        .fetch_one(&mut *conn)
        .await?
        .try_get::<Option<i64>, _>("id")?)
}

/// Sums of facts per aggregate row, written in one statement per table, rows in key order
/// (so that concurrent PostgreSQL writers lock shared rows in the same order and cannot
/// deadlock on them). Roll-up rows written before the sums went through deltas were spread
/// over shards on PostgreSQL (so that concurrent writers seldom waited for one another on
/// a row); the reads sum a row's shards, and the sums go to shard 0.
#[derive(Default)]
struct Sums {
    fine: BTreeMap<(String, i64, String, String, String), Counts>,
    rollup: BTreeMap<(&'static str, String, String, i64), Counts>,
}

fn add(into: &mut Counts, v: &Counts) {
    for (a, b) in into.iter_mut().zip(v) {
        *a += b;
    }
}

impl Sums {
    /// Adds facts.
    fn add(&mut self, facts: &[Fact]) {
        for f in facts {
            let v = f.signed_values();
            let k = &f.key;
            let day = k.day.to_string();
            add(
                self.fine
                    .entry((
                        day.clone(),
                        k.unit_id.unwrap_or(0),
                        k.category_code.clone().unwrap_or_default(),
                        k.channel.as_str().to_string(),
                        k.division_code.clone().unwrap_or_default(),
                    ))
                    .or_default(),
                &v,
            );
            let issues = if f.feeds_issue_rollups() {
                issue_groups_of(k)
            } else {
                Vec::new()
            };
            for (name, group) in issues {
                add(
                    self.rollup
                        .entry((name, day.clone(), group, 0))
                        .or_default(),
                    &v,
                );
            }
            let month = month_of(k.day).to_string();
            for dim in Dim::ALL {
                if let Some(group) = dim.group_of(k) {
                    if let Some(name) = dim.month_str() {
                        add(
                            self.rollup
                                .entry((name, month.clone(), group.clone(), 0))
                                .or_default(),
                            &v,
                        );
                    }
                    add(
                        self.rollup
                            .entry((dim.as_str(), day.clone(), group, 0))
                            .or_default(),
                        &v,
                    );
                }
            }
        }
    }

    /// Replays one event: the facts it adds, from the ticket before and after it.
    fn event(&mut self, before: Option<&Ticket>, event: &Event, after: &Ticket) {
        let f = facts(before, event, after);
        if !f.is_empty() {
            self.add(&f);
        }
    }

    fn len(&self) -> usize {
        self.fine.len() + self.rollup.len()
    }

    /// Adds the sums to the tables (creating rows as needed) and empties itself.
    async fn write(&mut self, conn: &mut AnyConnection) -> Result<()> {
        let sqlite = is_sqlite(conn);
        let set = mashangban_domain::kpi::Tally::FIELDS
            .iter()
            .map(|c| format!("{c} = {{t}}.{c} + excluded.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let columns = Tally::FIELDS.join(", ");
        let fine = std::mem::take(&mut self.fine);
        let fine: Vec<_> = fine.into_iter().collect();
        for chunk in fine.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO kpi_facts (day, unit_id, category_code, channel, division_code, {columns}) VALUES {} \
                 ON CONFLICT (day, unit_id, category_code, channel, division_code) DO UPDATE SET {}",
                value_rows(chunk.len(), 5 + MEASURES),
                set.replace("{t}", "kpi_facts")
            );
            let mut params = Vec::with_capacity(chunk.len() * (5 + MEASURES));
            for ((day, unit, category, channel, division), v) in chunk {
                params.extend([
                    P::S(Some(day.clone())),
                    P::I(Some(*unit)),
                    P::S(Some(category.clone())),
                    P::S(Some(channel.clone())),
                    P::S(Some(division.clone())),
                ]);
                params.extend(v.iter().map(|n| P::I(Some(*n))));
            }
            many(sqlite, sql, params).execute(&mut *conn).await?;
        }
        let rollup = std::mem::take(&mut self.rollup);
        let rollup: Vec<_> = rollup.into_iter().collect();
        for chunk in rollup.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO kpi_rollup (dim, day, dim_key, shard, {columns}) VALUES {} \
                 ON CONFLICT (dim, day, dim_key, shard) DO UPDATE SET {}",
                value_rows(chunk.len(), 4 + MEASURES),
                set.replace("{t}", "kpi_rollup")
            );
            let mut params = Vec::with_capacity(chunk.len() * (4 + MEASURES));
            for ((dim, day, key, shard), v) in chunk {
                params.extend([
                    P::S(Some(dim.to_string())),
                    P::S(Some(day.clone())),
                    P::S(Some(key.clone())),
                    P::I(Some(*shard)),
                ]);
                params.extend(v.iter().map(|n| P::I(Some(*n))));
            }
            many(sqlite, sql, params).execute(&mut *conn).await?;
        }
        Ok(())
    }
}

/// Rows per multi-row statement (20 parameters each).
const ROWS_PER_STATEMENT: usize = 200;

/// Tickets replayed per read while rebuilding.
const REBUILD_TICKETS_PER_READ: i64 = 2_000;

/// Sums written out while rebuilding once this many rows are pending.
const REBUILD_FLUSH_ROWS: usize = 200_000;

/// Empties the aggregates and replays every ticket's events into them, in the caller's
/// transaction.
pub(super) async fn rebuild(conn: &mut AnyConnection) -> Result<RebuildReport> {
    if !is_sqlite(conn) {
        // Writers of events wait until the rebuild commits: none is missed or counted twice.
        sqlx::query("LOCK TABLE ticket_events IN SHARE MODE")
            .execute(&mut *conn)
            .await?;
    }
    if !is_sqlite(conn) {
        // No fold adds sums while the aggregates are emptied and filled again.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(FOLD_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    // The deltas' facts are the events' too: the replay counts them. (A database being
    // migrated may be rebuilt at a version before the deltas' table.)
    let deltas_table = if is_sqlite(conn) {
        "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'kpi_deltas'"
    } else {
        "SELECT COUNT(*) AS n FROM pg_tables WHERE tablename = 'kpi_deltas' AND schemaname = current_schema()"
    };
    if sqlx::query(deltas_table)
        .fetch_one(&mut *conn)
        .await?
        .try_get::<i64, _>("n")?
        > 0
    {
        sqlx::query("DELETE FROM kpi_deltas")
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("DELETE FROM kpi_facts")
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM kpi_rollup")
        .execute(&mut *conn)
        .await?;
    let max: i64 = sqlx::query("SELECT COALESCE(MAX(ticket_id), 0) AS n FROM ticket_events")
        .fetch_one(&mut *conn)
        .await?
        .try_get("n")?;
    let mut report = RebuildReport::default();
    let mut pending = Sums::default();
    let mut from = 0i64;
    let started = std::time::Instant::now();
    let mut told = std::time::Instant::now();
    while from < max {
        // A long rebuild (an upgrade of a large database) says how far it has come.
        if told.elapsed() >= std::time::Duration::from_secs(10) {
            told = std::time::Instant::now();
            tracing::info!(
                tickets = report.tickets,
                of_ticket_ids = max,
                done_percent = (from * 100 / max.max(1)),
                seconds = started.elapsed().as_secs(),
                "filling the evaluation aggregates from the events"
            );
        }
        let to = from + REBUILD_TICKETS_PER_READ;
        let rows = sqlx::query(
            "SELECT ticket_id, seq, at, actor_user_id, actor_role, actor_unit_id, data FROM ticket_events \
             WHERE ticket_id > $1 AND ticket_id <= $2 ORDER BY ticket_id, seq",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&mut *conn)
        .await?;
        let mut view: Option<Ticket> = None;
        let mut current = 0i64;
        for row in &rows {
            let e = event_from(row)?;
            if e.ticket_id != current {
                current = e.ticket_id;
                view = None;
                report.tickets += 1;
            }
            let before = view.take();
            let after = apply(before.clone(), &e)
                .ok_or_else(|| corrupt(format!("ticket {} has no received event", e.ticket_id)))?;
            pending.event(before.as_ref(), &e, &after);
            view = Some(after);
            report.events += 1;
        }
        if pending.len() >= REBUILD_FLUSH_ROWS {
            pending.write(conn).await?;
        }
        from = to;
    }
    pending.write(conn).await?;
    report.rows = sqlx::query("SELECT COUNT(*) AS n FROM kpi_facts")
        .fetch_one(&mut *conn)
        .await?
        .try_get::<i64, _>("n")? as u64;
    Ok(report)
}

fn counts(row: &sqlx::any::AnyRow, first: usize) -> Result<Counts> {
    let mut v = [0i64; MEASURES];
    for (i, slot) in v.iter_mut().enumerate() {
        *slot = row.try_get::<i64, _>(first + i)?;
    }
    Ok(v)
}

fn sums() -> String {
    Tally::FIELDS
        .iter()
        .map(|c| format!("CAST(SUM({c}) AS BIGINT)"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn day_of(s: &str) -> Result<NaiveDate> {
    s.parse()
        .map_err(|_| corrupt(format!("aggregate day `{s}`")))
}

/// Sums per group of `dim` (and per day with `by_day`) over the days `from..=to`: a period's
/// whole months from the month rows, the days around them (and every day, by day) from the
/// day rows.
pub(super) async fn tallies(
    conn: &mut AnyConnection,
    dim: Dim,
    from: NaiveDate,
    to: NaiveDate,
    by_day: bool,
) -> Result<Vec<GroupTally>> {
    let columns = Tally::FIELDS.join(", ");
    let mut params = Vec::new();
    let part = |params: &mut Vec<P>, name: &str, from: NaiveDate, to: NaiveDate| {
        params.extend([
            P::S(Some(name.to_string())),
            P::S(Some(from.to_string())),
            P::S(Some(to.to_string())),
        ]);
        let n = params.len();
        format!(
            "SELECT day, dim_key, {columns} FROM kpi_rollup WHERE dim = ${} AND day >= ${} AND day <= ${}",
            n - 2,
            n - 1,
            n
        )
    };
    let parts: Vec<String> = match dim.month_str() {
        Some(month) if !by_day => {
            let c = cover(from, to);
            let mut parts: Vec<String> = c
                .days
                .iter()
                .map(|(a, b)| part(&mut params, dim.as_str(), *a, *b))
                .collect();
            if let Some((a, b)) = c.months {
                parts.push(part(&mut params, month, a, b));
            }
            parts
        }
        _ if from <= to => vec![part(&mut params, dim.as_str(), from, to)],
        _ => Vec::new(),
    };
    if parts.is_empty() {
        return Ok(Vec::new());
    }
    let (select, group) = if by_day {
        (
            "day, dim_key",
            "GROUP BY day, dim_key ORDER BY day, dim_key",
        )
    } else {
        ("'' AS day, dim_key", "GROUP BY dim_key ORDER BY dim_key")
    };
    let sql = format!(
        "SELECT {select}, {} FROM ({}) AS parts {group}",
        sums(),
        parts.join(" UNION ALL ")
    );
    let rows = many(is_sqlite(conn), sql, params)
        .fetch_all(&mut *conn)
        .await?;
    group_tallies(&rows, by_day)
}

/// Rows of `day, dim_key, measures…` as group sums (with their day when `by_day`).
fn group_tallies(rows: &[sqlx::any::AnyRow], by_day: bool) -> Result<Vec<GroupTally>> {
    rows.iter()
        .map(|r| {
            let day: String = r.try_get(0)?;
            Ok(GroupTally {
                day: if by_day { Some(day_of(&day)?) } else { None },
                group: r.try_get(1)?,
                tally: Tally::from_values(counts(r, 2)?),
            })
        })
        .collect()
}

/// The fine rows of the days `from..=to`.
pub(super) async fn fine_rows(
    conn: &mut AnyConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(FactKey, Tally)>> {
    let params = vec![P::S(Some(from.to_string())), P::S(Some(to.to_string()))];
    let sql = format!(
        "SELECT day, unit_id, category_code, channel, division_code, {} FROM kpi_facts \
         WHERE day >= $1 AND day <= $2 ORDER BY day, unit_id, category_code, channel, division_code",
        Tally::FIELDS.join(", ")
    );
    let rows = many(is_sqlite(conn), sql, params)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            let day: String = r.try_get(0)?;
            let unit: i64 = r.try_get(1)?;
            let category: String = r.try_get(2)?;
            let channel: String = r.try_get(3)?;
            let division: String = r.try_get(4)?;
            Ok((
                FactKey {
                    day: day_of(&day)?,
                    unit_id: (unit != 0).then_some(unit),
                    category_code: (!category.is_empty()).then_some(category),
                    channel: channel.parse::<Channel>().map_err(corrupt)?,
                    division_code: (!division.is_empty()).then_some(division),
                    line: None,
                },
                Tally::from_values(counts(r, 5)?),
            ))
        })
        .collect()
}

/// A day's requests (and the rest) by issue group.
pub(super) async fn issue_groups(
    conn: &mut AnyConnection,
    day: NaiveDate,
) -> Result<Vec<GroupTally>> {
    issue_rollup(conn, ISSUE_ROLLUPS[0], day, day).await
}

/// The day rows of the issue roll-up `name` over `from..=to`.
pub(super) async fn issue_rollup(
    conn: &mut AnyConnection,
    name: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<GroupTally>> {
    if !ISSUE_ROLLUPS.contains(&name) {
        return Err(crate::StoreError::NotFound {
            what: format!("issue roll-up `{name}`"),
        });
    }
    let sql = format!(
        "SELECT day, dim_key, {} FROM kpi_rollup WHERE dim = $1 AND day >= $2 AND day <= $3 \
         GROUP BY day, dim_key ORDER BY day, dim_key",
        sums()
    );
    let rows = many(
        is_sqlite(conn),
        sql,
        vec![
            P::S(Some(name.to_string())),
            P::S(Some(from.to_string())),
            P::S(Some(to.to_string())),
        ],
    )
    .fetch_all(&mut *conn)
    .await?;
    group_tallies(&rows, true)
}

/// One measure of a day's issue roll-up `name` (keyed `group|x`) for some groups, summed
/// per key, only keys with at least `min`: `(group, x, sum)`. Each group's keys are one run
/// of the table's key order, read on their own.
async fn issue_sums(
    conn: &mut AnyConnection,
    name: &str,
    measure: &str,
    day: NaiveDate,
    groups: &[String],
    min: i64,
) -> Result<Vec<(String, String, u64)>> {
    let mut params = vec![
        P::S(Some(name.to_string())),
        P::S(Some(day.to_string())),
        P::I(Some(min)),
    ];
    let parts: Vec<String> = groups
        .iter()
        .map(|g| {
            // `|` sorts before `}`: the keys `g|…` lie between them.
            params.push(P::S(Some(format!("{g}|"))));
            params.push(P::S(Some(format!("{g}}}"))));
            let n = params.len();
            format!(
                "SELECT dim_key, {measure} AS m FROM kpi_rollup WHERE dim = $1 AND day = $2 AND dim_key > ${} AND dim_key < ${}",
                n - 1,
                n
            )
        })
        .collect();
    let sql = format!(
        "SELECT dim_key, CAST(SUM(m) AS BIGINT) FROM ({}) AS parts GROUP BY dim_key HAVING SUM(m) >= $3",
        parts.join(" UNION ALL ")
    );
    let rows = many(is_sqlite(conn), sql, params)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            let key: String = r.try_get(0)?;
            let (group, x) = key
                .split_once('|')
                .ok_or_else(|| corrupt(format!("issue roll-up key `{key}`")))?;
            let n = u64::try_from(r.try_get::<i64, _>(1)?).unwrap_or(0);
            Ok((group.to_string(), x.to_string(), n))
        })
        .collect()
}

/// What a day holds of some issue groups, from the day's issue roll-ups (a large city's day
/// has tens of thousands of fine rows; this reads those of the named groups only).
pub(super) async fn issue_counts(
    conn: &mut AnyConnection,
    day: NaiveDate,
    groups: &[String],
    place_min: u64,
) -> Result<Vec<IssueCounts>> {
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    let mut out: BTreeMap<String, IssueCounts> = groups
        .iter()
        .map(|g| {
            (
                g.clone(),
                IssueCounts {
                    group: g.clone(),
                    ..Default::default()
                },
            )
        })
        .collect();
    // Each group's requests and direct answers.
    for g in issue_groups(conn, day).await? {
        if let Some(o) = out.get_mut(&g.group) {
            o.requests = g.tally.requests;
            o.direct = g.tally.direct;
        }
    }
    // Requests by third-level category: the day's category roll-up (a row a category).
    for g in tallies(conn, Dim::Category, day, day, false).await? {
        let Some(o) = out.get_mut(mashangban_domain::report::issue_group(&g.group)) else {
            continue;
        };
        if g.tally.requests > 0 && g.group.len() >= 6 {
            *o.leaves.entry(g.group).or_default() += g.tally.requests;
        }
    }
    // Requests by place, where a place has enough to matter.
    let place_min = i64::try_from(place_min).unwrap_or(i64::MAX);
    for (group, place, n) in
        issue_sums(conn, ISSUE_ROLLUPS[1], "requests", day, groups, place_min).await?
    {
        if let Some(o) = out.get_mut(&group) {
            o.places.insert(place, n);
        }
    }
    // Dispatches by unit.
    for (group, unit, n) in issue_sums(conn, ISSUE_ROLLUPS[2], "dispatches", day, groups, 1).await?
    {
        let unit: i64 = unit
            .parse()
            .map_err(|_| corrupt(format!("issue roll-up unit `{unit}`")))?;
        if let Some(o) = out.get_mut(&group) {
            o.units.insert(unit, n);
        }
    }
    Ok(out.into_values().collect())
}

#[async_trait]
impl AggregateStore for SqlStore {
    async fn kpi_tallies(
        &self,
        dim: mashangban_domain::aggregates::Dim,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        by_day: bool,
    ) -> Result<Vec<GroupTally>> {
        self.fold_deltas().await?;
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
        self.fold_deltas().await?;
        let mut conn = self.pool.acquire().await?;
        aggregates::fine_rows(&mut conn, from, to).await
    }

    async fn kpi_issue_groups(&self, day: chrono::NaiveDate) -> Result<Vec<GroupTally>> {
        self.fold_deltas().await?;
        let mut conn = self.pool.acquire().await?;
        aggregates::issue_groups(&mut conn, day).await
    }

    async fn kpi_issue_counts(
        &self,
        day: chrono::NaiveDate,
        groups: &[String],
        place_min: u64,
    ) -> Result<Vec<mashangban_domain::report::IssueCounts>> {
        self.fold_deltas().await?;
        let mut conn = self.pool.acquire().await?;
        aggregates::issue_counts(&mut conn, day, groups, place_min).await
    }

    async fn kpi_issue_rollup(
        &self,
        name: &str,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<GroupTally>> {
        self.fold_deltas().await?;
        let mut conn = self.pool.acquire().await?;
        aggregates::issue_rollup(&mut conn, name, from, to).await
    }

    async fn add_aggregate_facts(
        &self,
        facts: Vec<mashangban_domain::aggregates::Fact>,
    ) -> Result<()> {
        let facts = std::sync::Arc::new(facts);
        self.run_write::<()>(Box::new(
            move |_: &mut AnyConnection, sums: &mut aggregates::Pending| -> JobFuture<'_> {
                let facts = facts.clone();
                Box::pin(async move {
                    sums.add(&facts);
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

    async fn kpi_scope_requests(
        &self,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        category_prefix: &str,
        division_prefix: Option<&str>,
    ) -> Result<Vec<(chrono::NaiveDate, u64)>> {
        // Codes are digits (checked by the callers); a prefix is matched as the code's start.
        let code = |c: &str| -> Result<String> {
            if c.is_empty() || !c.chars().all(|c| c.is_ascii_digit()) {
                return Err(corrupt(format!("`{c}` is not a code")));
            }
            Ok(format!("{c}%"))
        };
        let mut params = vec![
            P::S(Some(from.to_string())),
            P::S(Some(to.to_string())),
            P::S(Some(code(category_prefix)?)),
        ];
        let mut sql = "SELECT day, CAST(SUM(requests) AS BIGINT) AS n FROM kpi_facts \
                       WHERE day >= $1 AND day <= $2 AND category_code LIKE $3"
            .to_string();
        if let Some(d) = division_prefix {
            params.push(P::S(Some(code(d)?)));
            sql.push_str(" AND division_code LIKE $4");
        }
        sql.push_str(" GROUP BY day HAVING SUM(requests) > 0 ORDER BY day");
        self.fold_deltas().await?;
        let mut conn = self.pool.acquire().await?;
        let rows = many(is_sqlite(&conn), sql, params)
            .fetch_all(&mut *conn)
            .await?;
        rows.iter()
            .map(|r| {
                let day: String = r.try_get(0)?;
                let n: i64 = r.try_get(1)?;
                Ok((day_of(&day)?, n.max(0) as u64))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delta_is_the_facts_keys_and_counts_that_are_not_zero() {
        let fact = |unit: Option<i64>, sign: i64, tally: Tally| Fact {
            key: FactKey {
                day: NaiveDate::from_ymd_opt(2026, 12, 7).unwrap(),
                unit_id: unit,
                category_code: Some("0101".into()),
                channel: "phone".parse().unwrap(),
                division_code: Some("630102001".into()),
                line: None,
            },
            sign,
            tally,
        };
        let facts = vec![
            fact(
                Some(5),
                1,
                Tally {
                    requests: 1,
                    dispatches: 1,
                    ..Default::default()
                },
            ),
            fact(
                None,
                -1,
                Tally {
                    handling_seconds: 7_200,
                    ..Default::default()
                },
            ),
        ];
        let text = encode(&facts).unwrap();
        assert_eq!(
            text,
            r#"[["2026-12-07",5,"0101","phone","630102001",null,1,[[0,1],[10,1]]],["2026-12-07",null,"0101","phone","630102001",null,-1,[[13,7200]]]]"#
        );
        assert_eq!(decode(&text).unwrap(), facts);
        // A measure the build does not know is refused, not dropped.
        assert!(decode(r#"[["2026-12-07",null,null,"phone",null,null,1,[[99,1]]]]"#).is_err());
    }
}
