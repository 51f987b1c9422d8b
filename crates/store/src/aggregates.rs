//! The evaluation aggregates in SQL: written with the events that make them, read by the
//! reports, rebuilt from the events (see `mashangban_domain::aggregates`).

use super::{P, Result, corrupt, event_from, is_sqlite, many, value_rows};
use crate::{GroupTally, RebuildReport};
use chrono::NaiveDate;
use mashangban_domain::aggregates::{Dim, Fact, FactKey, facts};
use mashangban_domain::kpi::Tally;
use mashangban_domain::report::IssueCounts;
use mashangban_domain::{Channel, Event, Ticket, apply};
use sqlx::{AnyConnection, Row};
use std::collections::BTreeMap;

/// On PostgreSQL, the roll-up rows of groupings with few groups (which nearly every write
/// touches) are spread over this many shards, by ticket, so that concurrent writers seldom
/// wait for one another on the same row; the other groupings, and everything on SQLite (one
/// writer), keep one row a group and a day, which keeps month-long reads short.
pub(super) const SHARDS: i64 = 8;

fn shard_of(dim: Dim, ticket_id: i64, sharded: bool) -> i64 {
    let hot = matches!(
        dim,
        Dim::City | Dim::Channel | Dim::District | Dim::CategoryL1
    );
    if sharded && hot {
        ticket_id.rem_euclid(SHARDS)
    } else {
        0
    }
}

const MEASURES: usize = 15;

type Counts = [i64; MEASURES];

/// The facts of a transaction, summed per row before they are written: one statement per
/// table, rows in key order (so that concurrent PostgreSQL writers lock shared rows in the
/// same order and cannot deadlock on them).
pub(super) struct Pending {
    fine: BTreeMap<(String, i64, String, String, String), Counts>,
    rollup: BTreeMap<(&'static str, String, String, i64), Counts>,
    /// Whether hot roll-up rows are sharded (PostgreSQL).
    sharded: bool,
}

fn add(into: &mut Counts, v: &Counts) {
    for (a, b) in into.iter_mut().zip(v) {
        *a += b;
    }
}

impl Pending {
    /// Sums for a connection's database.
    pub(super) fn for_conn(conn: &AnyConnection) -> Pending {
        Pending {
            fine: BTreeMap::new(),
            rollup: BTreeMap::new(),
            sharded: !is_sqlite(conn),
        }
    }

    /// Adds the facts of one event of ticket `ticket_id`.
    pub(super) fn add(&mut self, ticket_id: i64, facts: &[Fact]) {
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
            for dim in Dim::ALL {
                if let Some(group) = dim.group_of(k) {
                    add(
                        self.rollup
                            .entry((
                                dim.as_str(),
                                day.clone(),
                                group,
                                shard_of(dim, ticket_id, self.sharded),
                            ))
                            .or_default(),
                        &v,
                    );
                }
            }
        }
    }

    /// Replays one event: the facts it adds, from the ticket before and after it.
    pub(super) fn event(&mut self, before: Option<&Ticket>, event: &Event, after: &Ticket) {
        let f = facts(before, event, after);
        if !f.is_empty() {
            self.add(event.ticket_id, &f);
        }
    }

    pub(super) fn len(&self) -> usize {
        self.fine.len() + self.rollup.len()
    }

    /// Adds the pending sums to the tables (creating rows as needed) and empties itself.
    pub(super) async fn write(&mut self, conn: &mut AnyConnection) -> Result<()> {
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
    let mut pending = Pending::for_conn(conn);
    let mut from = 0i64;
    while from < max {
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

/// Sums per group of `dim` (and per day with `by_day`) over the days `from..=to`.
pub(super) async fn tallies(
    conn: &mut AnyConnection,
    dim: Dim,
    from: NaiveDate,
    to: NaiveDate,
    by_day: bool,
) -> Result<Vec<GroupTally>> {
    let (select, group) = if by_day {
        (
            "day, dim_key",
            "GROUP BY day, dim_key ORDER BY day, dim_key",
        )
    } else {
        ("'' AS day, dim_key", "GROUP BY dim_key ORDER BY dim_key")
    };
    let sql = format!(
        "SELECT {select}, {} FROM kpi_rollup WHERE dim = $1 AND day >= $2 AND day <= $3 {group}",
        sums()
    );
    let rows = many(
        is_sqlite(conn),
        sql,
        vec![
            P::S(Some(dim.as_str().to_string())),
            P::S(Some(from.to_string())),
            P::S(Some(to.to_string())),
        ],
    )
    .fetch_all(&mut *conn)
    .await?;
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
    groups: Option<&[String]>,
) -> Result<Vec<(FactKey, Tally)>> {
    let mut params = vec![P::S(Some(from.to_string())), P::S(Some(to.to_string()))];
    let filter = match groups {
        None => String::new(),
        Some([]) => return Ok(Vec::new()),
        Some(groups) => {
            let marks: Vec<String> = groups
                .iter()
                .map(|g| {
                    params.push(P::S(Some(g.clone())));
                    format!("${}", params.len())
                })
                .collect();
            format!(" AND substr(category_code, 1, 4) IN ({})", marks.join(", "))
        }
    };
    let sql = format!(
        "SELECT day, unit_id, category_code, channel, division_code, {} FROM kpi_facts \
         WHERE day >= $1 AND day <= $2{filter} ORDER BY day, unit_id, category_code, channel, division_code",
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
                },
                Tally::from_values(counts(r, 5)?),
            ))
        })
        .collect()
}

/// What a day holds of some issue groups, summed in the database (a large city's day has
/// tens of thousands of fine rows; this returns a few hundred).
pub(super) async fn issue_counts(
    conn: &mut AnyConnection,
    day: NaiveDate,
    groups: &[String],
    place_min: u64,
) -> Result<Vec<IssueCounts>> {
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    let sqlite = is_sqlite(conn);
    let mut params = vec![P::S(Some(day.to_string()))];
    let marks: Vec<String> = groups
        .iter()
        .map(|g| {
            params.push(P::S(Some(g.clone())));
            format!("${}", params.len())
        })
        .collect();
    let filter = format!(
        "day = $1 AND substr(category_code, 1, 4) IN ({})",
        marks.join(", ")
    );
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
    let n = |r: &sqlx::any::AnyRow, i: usize| -> Result<u64> {
        Ok(u64::try_from(r.try_get::<i64, _>(i)?).unwrap_or(0))
    };
    // Requests and direct answers by category.
    let rows = many(
        sqlite,
        format!(
            "SELECT category_code, CAST(SUM(requests) AS BIGINT), CAST(SUM(direct) AS BIGINT) \
             FROM kpi_facts WHERE {filter} GROUP BY category_code"
        ),
        params.clone(),
    )
    .fetch_all(&mut *conn)
    .await?;
    for r in &rows {
        let code: String = r.try_get(0)?;
        let Some(g) = out.get_mut(mashangban_domain::report::issue_group(&code)) else {
            continue;
        };
        let (requests, direct) = (n(r, 1)?, n(r, 2)?);
        g.requests += requests;
        g.direct += direct;
        if requests > 0 && code.len() >= 6 {
            *g.leaves.entry(code).or_default() += requests;
        }
    }
    // Requests by place, where a place has enough to matter.
    let mut with_min = params.clone();
    with_min.push(P::I(Some(i64::try_from(place_min).unwrap_or(i64::MAX))));
    let min_mark = format!("${}", with_min.len());
    let rows = many(
        sqlite,
        format!(
            "SELECT substr(category_code, 1, 4), division_code, CAST(SUM(requests) AS BIGINT) \
             FROM kpi_facts WHERE {filter} AND division_code <> '' \
             GROUP BY substr(category_code, 1, 4), division_code HAVING SUM(requests) >= {min_mark}"
        ),
        with_min,
    )
    .fetch_all(&mut *conn)
    .await?;
    for r in &rows {
        let group: String = r.try_get(0)?;
        if let Some(g) = out.get_mut(&group) {
            g.places.insert(r.try_get(1)?, n(r, 2)?);
        }
    }
    // Dispatches by unit.
    let rows = many(
        sqlite,
        format!(
            "SELECT substr(category_code, 1, 4), unit_id, CAST(SUM(dispatches) AS BIGINT) \
             FROM kpi_facts WHERE {filter} AND unit_id <> 0 \
             GROUP BY substr(category_code, 1, 4), unit_id HAVING SUM(dispatches) > 0"
        ),
        params,
    )
    .fetch_all(&mut *conn)
    .await?;
    for r in &rows {
        let group: String = r.try_get(0)?;
        if let Some(g) = out.get_mut(&group) {
            g.units.insert(r.try_get(1)?, n(r, 2)?);
        }
    }
    Ok(out.into_values().collect())
}
