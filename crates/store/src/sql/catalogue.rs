//! The dispatch catalogue (派单目录) and its history.

use super::*;

/// The id of the catalogue's latest recorded change (0 before any).
async fn catalogue_stamp(conn: &mut AnyConnection) -> Result<i64> {
    Ok(
        sqlx::query("SELECT COALESCE(MAX(id), 0) AS n FROM catalogue_changes")
            .fetch_one(&mut *conn)
            .await?
            .try_get("n")?,
    )
}

const CATALOGUE_COLUMNS: &str = "id, category_code, division_code, unit_id, ownership, tier, valid_from, valid_to, note, version";

fn catalogue_from(r: &sqlx::any::AnyRow) -> Result<CatalogueEntry> {
    let date = |s: String| -> Result<chrono::NaiveDate> {
        s.parse()
            .map_err(|_| corrupt(format!("catalogue date `{s}`")))
    };
    let ownership: String = r.try_get("ownership")?;
    Ok(CatalogueEntry {
        id: r.try_get("id")?,
        category_code: r.try_get("category_code")?,
        division_code: r.try_get("division_code")?,
        unit_id: r.try_get("unit_id")?,
        ownership: Ownership::parse(&ownership)
            .ok_or_else(|| corrupt(format!("catalogue ownership `{ownership}`")))?,
        tier: r
            .try_get::<Option<i64>, _>("tier")?
            .map(|t| u8::try_from(t).map_err(|_| corrupt(format!("tier {t}"))))
            .transpose()?,
        valid_from: date(r.try_get("valid_from")?)?,
        valid_to: r
            .try_get::<Option<String>, _>("valid_to")?
            .map(date)
            .transpose()?,
        note: r.try_get("note")?,
        version: r.try_get("version")?,
    })
}

fn catalogue_params(e: &CatalogueEntry) -> Vec<P> {
    vec![
        P::S(Some(e.category_code.clone())),
        P::S(e.division_code.clone()),
        P::I(Some(e.unit_id)),
        P::S(Some(e.ownership.as_str().to_string())),
        P::I(e.tier.map(i64::from)),
        P::S(Some(e.valid_from.to_string())),
        P::S(e.valid_to.map(|d| d.to_string())),
        P::S(Some(e.note.clone())),
        P::I(Some(e.version)),
    ]
}

/// The stored entry, or `NotFound`.
async fn catalogue_row(conn: &mut AnyConnection, id: i64) -> Result<CatalogueEntry> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {CATALOGUE_COLUMNS} FROM catalogue_entries WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::NotFound {
        what: format!("catalogue entry {id}"),
    })?;
    catalogue_from(&row)
}

#[async_trait]
impl CatalogueStore for SqlStore {
    async fn catalogue(&self) -> Result<Vec<CatalogueEntry>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CATALOGUE_COLUMNS} FROM catalogue_entries ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(catalogue_from).collect()
    }

    async fn catalogue_seen(&self) -> Result<(i64, Vec<CatalogueEntry>)> {
        // The stamp first: a change landing between the two reads makes the stamp older
        // than what was read, so that a write checked against it is refused, never let by.
        let stamp = catalogue_stamp(&mut *self.pool.acquire().await?).await?;
        Ok((stamp, self.catalogue().await?))
    }

    async fn write_catalogue_seen(
        &self,
        writes: Vec<CatalogueWrite>,
        user_id: i64,
        at: DateTime<Utc>,
        seen: Option<i64>,
    ) -> Result<Vec<CatalogueEntry>> {
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        if self.backend == Backend::Postgres {
            // Catalogue writers take turns (SQLite's writer is single already).
            sqlx::query("SELECT pg_advisory_xact_lock(1234512346)")
                .execute(&mut *tx)
                .await?;
        }
        if let Some(seen) = seen
            && catalogue_stamp(&mut tx).await? != seen
        {
            return Err(StoreError::Conflict);
        }
        let mut saved = Vec::new();
        for write in writes {
            let (entry_id, before, after, action) = match write {
                CatalogueWrite::Save(entry) if entry.id == 0 => {
                    let mut e = entry;
                    e.version = 1;
                    let id: i64 = bind_all(
                        sqlx::query(
                            "INSERT INTO catalogue_entries (category_code, division_code, unit_id, ownership, tier, \
                             valid_from, valid_to, note, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                        ),
                        catalogue_params(&e),
                    )
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|err| dup(err, "a catalogue entry"))?
                    .try_get("id")?;
                    e.id = id;
                    (id, None, Some(e), "created")
                }
                CatalogueWrite::Save(entry) => {
                    let before = catalogue_row(&mut tx, entry.id).await?;
                    if before.version != entry.version {
                        return Err(StoreError::Conflict);
                    }
                    let mut e = entry;
                    e.version += 1;
                    let mut params = catalogue_params(&e);
                    params.push(P::I(Some(e.id)));
                    bind_all(
                        sqlx::query(
                            "UPDATE catalogue_entries SET category_code = $1, division_code = $2, unit_id = $3, \
                             ownership = $4, tier = $5, valid_from = $6, valid_to = $7, note = $8, version = $9 \
                             WHERE id = $10",
                        ),
                        params,
                    )
                    .execute(&mut *tx)
                    .await?;
                    (e.id, Some(before), Some(e), "updated")
                }
                CatalogueWrite::Delete { id, version } => {
                    let before = catalogue_row(&mut tx, id).await?;
                    if before.version != version {
                        return Err(StoreError::Conflict);
                    }
                    sqlx::query("DELETE FROM catalogue_entries WHERE id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    (id, Some(before), None, "deleted")
                }
            };
            let version = after
                .as_ref()
                .or(before.as_ref())
                .map(|e| e.version)
                .unwrap_or(0);
            let change = Recorded {
                table: "catalogue_changes",
                subject_column: "entry_id",
                subject_id: entry_id,
                version,
                action,
                user_id,
                at,
            };
            record_change(&mut tx, &change, before.as_ref(), after.as_ref()).await?;
            saved.extend(after);
        }
        tx.commit().await?;
        Ok(saved)
    }

    async fn catalogue_history(
        &self,
        entry_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<CatalogueChange>> {
        let rows = sqlx::query(
            "SELECT id, entry_id, version, action, before_json, after_json, user_id, at FROM catalogue_changes \
             WHERE ($1 = 0 OR entry_id = $1) ORDER BY id DESC LIMIT $2",
        )
        .bind(entry_id.unwrap_or(0))
        .bind(i64::from(limit.clamp(1, 10_000)))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let (before, after) = (
                    before_after(r, "before_json")?,
                    before_after(r, "after_json")?,
                );
                Ok(CatalogueChange {
                    id: r.try_get("id")?,
                    entry_id: r.try_get("entry_id")?,
                    version: r.try_get("version")?,
                    action: r.try_get("action")?,
                    before,
                    after,
                    user_id: r.try_get("user_id")?,
                    at: from_ts(r.try_get("at")?),
                })
            })
            .collect()
    }
}
