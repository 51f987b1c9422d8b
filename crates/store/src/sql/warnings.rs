//! The early warnings in SQL: recorded once a situation, told again only when worse.

use super::*;

use crate::{NewNotice, RecordedWarning, StoreError, Warning};
use chrono::{DateTime, Utc};
use mashangban_domain::warning::{Finding, WarningKind, WarningLevel, WarningStatus, escalates};
use sqlx::{AnyConnection, Row};

pub(super) const WARNING_COLUMNS: &str = "id, kind, warning_key, level, title, detail, ticket_id, \
     first_at, last_at, status, handled_by, handled_at, note";

pub(super) fn warning_from(r: &sqlx::any::AnyRow) -> Result<Warning> {
    let kind: String = r.try_get("kind")?;
    let level: String = r.try_get("level")?;
    let status: String = r.try_get("status")?;
    let detail: String = r.try_get("detail")?;
    Ok(Warning {
        id: r.try_get("id")?,
        kind: WarningKind::parse(&kind).ok_or_else(|| corrupt(format!("warning kind `{kind}`")))?,
        key: r.try_get("warning_key")?,
        level: WarningLevel::parse(&level)
            .ok_or_else(|| corrupt(format!("warning level `{level}`")))?,
        title: r.try_get("title")?,
        detail: serde_json::from_str(&detail)
            .map_err(|e| corrupt(format!("warning detail: {e}")))?,
        ticket_id: r.try_get("ticket_id")?,
        first_at: from_ts(r.try_get("first_at")?),
        last_at: from_ts(r.try_get("last_at")?),
        status: WarningStatus::parse(&status)
            .ok_or_else(|| corrupt(format!("warning status `{status}`")))?,
        handled_by: r.try_get("handled_by")?,
        handled_at: r.try_get::<Option<i64>, _>("handled_at")?.map(from_ts),
        note: r.try_get("note")?,
    })
}

async fn by_key(conn: &mut AnyConnection, kind: WarningKind, key: &str) -> Result<Option<Warning>> {
    let sql =
        format!("SELECT {WARNING_COLUMNS} FROM warnings WHERE kind = $1 AND warning_key = $2");
    let row = many(
        is_sqlite(conn),
        sql,
        vec![
            P::S(Some(kind.as_str().into())),
            P::S(Some(key.to_string())),
        ],
    )
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(warning_from).transpose()
}

pub(super) async fn by_id(conn: &mut AnyConnection, id: i64) -> Result<Option<Warning>> {
    let sql = format!("SELECT {WARNING_COLUMNS} FROM warnings WHERE id = $1");
    let row = many(is_sqlite(conn), sql, vec![P::I(Some(id))])
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(warning_from).transpose()
}

/// Records a finding in the caller's transaction.
pub(super) async fn record(
    conn: &mut AnyConnection,
    f: Finding,
    notices: Vec<NewNotice>,
    at: DateTime<Utc>,
) -> Result<RecordedWarning> {
    let sqlite = is_sqlite(conn);
    let before = by_key(conn, f.kind, &f.key).await?;
    let told = escalates(before.as_ref().map(|w| w.level), f.level);
    let detail = f.detail.to_string();
    match &before {
        None => {
            many(
                sqlite,
                "INSERT INTO warnings (kind, warning_key, level, title, detail, ticket_id, first_at, last_at, status) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)"
                    .to_string(),
                vec![
                    P::S(Some(f.kind.as_str().into())),
                    P::S(Some(f.key.clone())),
                    P::S(Some(f.level.as_str().into())),
                    P::S(Some(f.title.clone())),
                    P::S(Some(detail)),
                    P::I(f.ticket_id),
                    P::I(Some(ts(at))),
                    P::S(Some(WarningStatus::Open.as_str().into())),
                ],
            )
            .execute(&mut *conn)
            .await?;
        }
        Some(w) if told => {
            // Worse than before: open again, for whoever handled it to look anew.
            many(
                sqlite,
                "UPDATE warnings SET level = $1, title = $2, detail = $3, ticket_id = $4, last_at = $5, \
                 status = $6, handled_by = NULL, handled_at = NULL, note = NULL WHERE id = $7"
                    .to_string(),
                vec![
                    P::S(Some(f.level.as_str().into())),
                    P::S(Some(f.title.clone())),
                    P::S(Some(detail)),
                    P::I(f.ticket_id),
                    P::I(Some(ts(at))),
                    P::S(Some(WarningStatus::Open.as_str().into())),
                    P::I(Some(w.id)),
                ],
            )
            .execute(&mut *conn)
            .await?;
        }
        Some(w) => {
            // The same or milder: the figures kept current, the level and handling as they were.
            many(
                sqlite,
                "UPDATE warnings SET title = $1, detail = $2, ticket_id = $3, last_at = $4 WHERE id = $5"
                    .to_string(),
                vec![
                    P::S(Some(f.title.clone())),
                    P::S(Some(detail)),
                    P::I(f.ticket_id),
                    P::I(Some(ts(at))),
                    P::I(Some(w.id)),
                ],
            )
            .execute(&mut *conn)
            .await?;
        }
    }
    if told {
        // About its ticket (a repeat caller's) or about none (a surge city-wide or in a
        // district): told either way.
        let rows: Vec<(Option<i64>, NewNotice)> =
            notices.into_iter().map(|n| (f.ticket_id, n)).collect();
        insert_notices(conn, &rows, at).await?;
    }
    let warning = by_key(conn, f.kind, &f.key)
        .await?
        .ok_or_else(|| corrupt("a warning just written is missing"))?;
    Ok(RecordedWarning { warning, told })
}

pub(super) async fn list(
    conn: &mut AnyConnection,
    status: Option<WarningStatus>,
    since: Option<DateTime<Utc>>,
    limit: u32,
) -> Result<Vec<Warning>> {
    let sql = format!(
        "SELECT {WARNING_COLUMNS} FROM warnings WHERE ($1 IS NULL OR status = $1) AND last_at >= $2 \
         ORDER BY last_at DESC, id DESC LIMIT $3"
    );
    let rows = many(
        is_sqlite(conn),
        sql,
        vec![
            P::S(status.map(|s| s.as_str().to_string())),
            P::I(Some(since.map(ts).unwrap_or(i64::MIN))),
            P::I(Some(i64::from(limit.clamp(1, 1000)))),
        ],
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(warning_from).collect()
}

pub(super) async fn handle(
    conn: &mut AnyConnection,
    id: i64,
    status: WarningStatus,
    user_id: i64,
    note: Option<String>,
    at: DateTime<Utc>,
) -> Result<Warning> {
    let open = status == WarningStatus::Open;
    let done = many(
        is_sqlite(conn),
        "UPDATE warnings SET status = $1, handled_by = $2, handled_at = $3, note = $4 WHERE id = $5"
            .to_string(),
        vec![
            P::S(Some(status.as_str().into())),
            P::I((!open).then_some(user_id)),
            P::I((!open).then(|| ts(at))),
            P::S(note),
            P::I(Some(id)),
        ],
    )
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound {
            what: format!("warning {id}"),
        });
    }
    by_id(conn, id)
        .await?
        .ok_or_else(|| corrupt("a warning just written is missing"))
}

pub(super) async fn repeat_callers(
    conn: &mut AnyConnection,
    since: DateTime<Utc>,
    min_requests: u32,
    limit: u32,
) -> Result<Vec<(String, i64)>> {
    let rows = many(
        is_sqlite(conn),
        "SELECT citizen_phone, COUNT(*) AS n FROM tickets WHERE created_at >= $1 \
         AND citizen_phone IS NOT NULL AND citizen_phone <> '' AND kind <> 'praise' \
         GROUP BY citizen_phone HAVING COUNT(*) >= $2 ORDER BY COUNT(*) DESC, citizen_phone LIMIT $3"
            .to_string(),
        vec![
            P::I(Some(ts(since))),
            P::I(Some(i64::from(min_requests))),
            P::I(Some(i64::from(limit.clamp(1, 10_000)))),
        ],
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?)))
        .collect()
}

#[async_trait]
impl WarningStore for SqlStore {
    async fn repeat_callers(
        &self,
        since: DateTime<Utc>,
        min_requests: u32,
        limit: u32,
    ) -> Result<Vec<(String, i64)>> {
        let mut conn = self.pool.acquire().await?;
        warnings::repeat_callers(&mut conn, since, min_requests, limit).await
    }

    async fn record_warning(
        &self,
        finding: mashangban_domain::warning::Finding,
        notices: Vec<NewNotice>,
        at: DateTime<Utc>,
    ) -> Result<crate::RecordedWarning> {
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        let out = warnings::record(&mut tx, finding, notices, at).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn list_warnings(
        &self,
        status: Option<mashangban_domain::warning::WarningStatus>,
        since: Option<DateTime<Utc>>,
        limit: u32,
    ) -> Result<Vec<crate::Warning>> {
        let mut conn = self.pool.acquire().await?;
        warnings::list(&mut conn, status, since, limit).await
    }

    async fn get_warning(&self, id: i64) -> Result<Option<crate::Warning>> {
        let mut conn = self.pool.acquire().await?;
        warnings::by_id(&mut conn, id).await
    }

    async fn handle_warning(
        &self,
        id: i64,
        status: mashangban_domain::warning::WarningStatus,
        user_id: i64,
        note: Option<String>,
        at: DateTime<Utc>,
    ) -> Result<crate::Warning> {
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        let out = warnings::handle(&mut tx, id, status, user_id, note, at).await?;
        tx.commit().await?;
        Ok(out)
    }
}
