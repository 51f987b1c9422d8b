//! The one versioned write: records an administrator edits while others may be editing too
//! (dispatch-catalogue entries, knowledge articles). A new record starts at version 1; an
//! edit or a deletion names the version it was made from and is refused as a conflict if
//! the stored one moved on; every write is kept, before and after, in the record's history
//! table. Each kind of record says only where it lives and how it maps to its columns.

use super::*;

/// A record kept under optimistic versioning with a history of changes.
pub(super) trait Versioned: serde::Serialize + Sized + Send + Sync {
    /// Its table, and its history table with the column naming the record there.
    const TABLE: &'static str;
    const HISTORY: &'static str;
    const SUBJECT_COLUMN: &'static str;
    /// What a "not found" or "already exists" message calls it.
    const NOUN: &'static str;
    /// The columns read back (`id` and `version` among them).
    const COLUMNS: &'static str;
    /// The columns written, in the order of [`Versioned::values`] (`version` last).
    const WRITTEN: &'static [&'static str];

    fn id(&self) -> i64;
    fn version(&self) -> i64;
    /// Sets the id and version the database gave it.
    fn stamp(&mut self, id: i64, version: i64);
    /// The values of [`Versioned::WRITTEN`].
    fn values(&self) -> Result<Vec<P>>;
    fn from_row(row: &AnyRow) -> Result<Self>;
}

/// The stored record, or `NotFound`.
pub(super) async fn load<T: Versioned>(conn: &mut AnyConnection, id: i64) -> Result<T> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {} FROM {} WHERE id = $1",
        T::COLUMNS,
        T::TABLE
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::NotFound {
        what: format!("{} {id}", T::NOUN),
    })?;
    T::from_row(&row)
}

/// Every stored record, by id.
pub(super) async fn load_all<T: Versioned>(pool: &AnyPool) -> Result<Vec<T>> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {} FROM {} ORDER BY id",
        T::COLUMNS,
        T::TABLE
    )))
    .fetch_all(pool)
    .await?;
    rows.iter().map(T::from_row).collect()
}

/// Applies one write inside the caller's transaction and records it in the history;
/// returns the record as saved (`None` for a deletion).
pub(super) async fn write<T: Versioned>(
    conn: &mut AnyConnection,
    write: VersionedWrite<T>,
    user_id: i64,
    at: DateTime<Utc>,
) -> Result<Option<T>> {
    let (id, before, after, action) = match write {
        VersionedWrite::Save(mut record) if record.id() == 0 => {
            record.stamp(0, 1);
            let marks: Vec<String> = (1..=T::WRITTEN.len()).map(|i| format!("${i}")).collect();
            let id: i64 = bind_all(
                sqlx::query(AssertSqlSafe(format!(
                    "INSERT INTO {} ({}) VALUES ({}) RETURNING id",
                    T::TABLE,
                    T::WRITTEN.join(", "),
                    marks.join(", ")
                ))),
                record.values()?,
            )
            .fetch_one(&mut *conn)
            .await
            .map_err(|err| dup(err, format!("a {}", T::NOUN)))?
            .try_get("id")?;
            // The columns, not a stored body, say which record and version it is.
            record.stamp(id, 1);
            (id, None, Some(record), "created")
        }
        VersionedWrite::Save(mut record) => {
            let before: T = load(conn, record.id()).await?;
            if before.version() != record.version() {
                return Err(StoreError::Conflict);
            }
            let id = record.id();
            record.stamp(id, before.version() + 1);
            let sets: Vec<String> = T::WRITTEN
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{c} = ${}", i + 1))
                .collect();
            let mut values = record.values()?;
            values.push(P::I(Some(id)));
            bind_all(
                sqlx::query(AssertSqlSafe(format!(
                    "UPDATE {} SET {} WHERE id = ${}",
                    T::TABLE,
                    sets.join(", "),
                    T::WRITTEN.len() + 1
                ))),
                values,
            )
            .execute(&mut *conn)
            .await
            .map_err(|err| dup(err, format!("a {}", T::NOUN)))?;
            (id, Some(before), Some(record), "updated")
        }
        VersionedWrite::Delete { id, version } => {
            let before: T = load(conn, id).await?;
            if before.version() != version {
                return Err(StoreError::Conflict);
            }
            sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM {} WHERE id = $1",
                T::TABLE
            )))
            .bind(id)
            .execute(&mut *conn)
            .await?;
            (id, Some(before), None, "deleted")
        }
    };
    let version = after
        .as_ref()
        .or(before.as_ref())
        .map(T::version)
        .unwrap_or(0);
    let json = |v: Option<&T>| -> Result<Option<String>> {
        v.map(|v| serde_json::to_string(v).map_err(corrupt))
            .transpose()
    };
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO {} ({}, version, action, before_json, after_json, user_id, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        T::HISTORY,
        T::SUBJECT_COLUMN
    )))
    .bind(id)
    .bind(version)
    .bind(action)
    .bind(json(before.as_ref())?)
    .bind(json(after.as_ref())?)
    .bind(user_id)
    .bind(ts(at))
    .execute(&mut *conn)
    .await?;
    Ok(after)
}

/// One row of a history table.
pub(super) struct HistoryRow<T> {
    pub id: i64,
    pub subject_id: i64,
    pub version: i64,
    pub action: String,
    pub before: Option<T>,
    pub after: Option<T>,
    pub user_id: i64,
    pub at: DateTime<Utc>,
}

/// The newest `limit` changes, of one record or (`None`) of all.
pub(super) async fn history<T: Versioned + serde::de::DeserializeOwned>(
    pool: &AnyPool,
    subject_id: Option<i64>,
    limit: u32,
) -> Result<Vec<HistoryRow<T>>> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT id, {s} AS subject_id, version, action, before_json, after_json, user_id, at \
         FROM {h} WHERE ($1 = 0 OR {s} = $1) ORDER BY id DESC LIMIT $2",
        s = T::SUBJECT_COLUMN,
        h = T::HISTORY
    )))
    .bind(subject_id.unwrap_or(0))
    .bind(i64::from(limit.clamp(1, 10_000)))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(HistoryRow {
                id: r.try_get("id")?,
                subject_id: r.try_get("subject_id")?,
                version: r.try_get("version")?,
                action: r.try_get("action")?,
                before: before_after(r, "before_json")?,
                after: before_after(r, "after_json")?,
                user_id: r.try_get("user_id")?,
                at: from_ts(r.try_get("at")?),
            })
        })
        .collect()
}

/// The id of the latest recorded change of this kind of record (0 before any): a stamp a
/// reader keeps to refuse a later write made from a stale view.
pub(super) async fn stamp<T: Versioned>(conn: &mut AnyConnection) -> Result<i64> {
    Ok(sqlx::query(AssertSqlSafe(format!(
        "SELECT COALESCE(MAX(id), 0) AS n FROM {}",
        T::HISTORY
    )))
    .fetch_one(&mut *conn)
    .await?
    .try_get("n")?)
}
