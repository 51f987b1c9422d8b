//! The dispatch catalogue (派单目录) and its history.

use super::*;

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

impl Versioned for CatalogueEntry {
    const TABLE: &'static str = "catalogue_entries";
    const HISTORY: &'static str = "catalogue_changes";
    const SUBJECT_COLUMN: &'static str = "entry_id";
    const NOUN: &'static str = "catalogue entry";
    const COLUMNS: &'static str = CATALOGUE_COLUMNS;
    const WRITTEN: &'static [&'static str] = &[
        "category_code",
        "division_code",
        "unit_id",
        "ownership",
        "tier",
        "valid_from",
        "valid_to",
        "note",
        "version",
    ];

    fn id(&self) -> i64 {
        self.id
    }
    fn version(&self) -> i64 {
        self.version
    }
    fn stamp(&mut self, id: i64, version: i64) {
        (self.id, self.version) = (id, version);
    }
    fn values(&self) -> Result<Vec<P>> {
        Ok(vec![
            P::S(Some(self.category_code.clone())),
            P::S(self.division_code.clone()),
            P::I(Some(self.unit_id)),
            P::S(Some(self.ownership.as_str().to_string())),
            P::I(self.tier.map(i64::from)),
            P::S(Some(self.valid_from.to_string())),
            P::S(self.valid_to.map(|d| d.to_string())),
            P::S(Some(self.note.clone())),
            P::I(Some(self.version)),
        ])
    }
    fn from_row(row: &AnyRow) -> Result<Self> {
        catalogue_from(row)
    }
}

#[async_trait]
impl CatalogueStore for SqlStore {
    async fn catalogue(&self) -> Result<Vec<CatalogueEntry>> {
        versioned::load_all(&self.pool).await
    }

    async fn catalogue_seen(&self) -> Result<(i64, Vec<CatalogueEntry>)> {
        // The stamp first: a change landing between the two reads makes the stamp older
        // than what was read, so that a write checked against it is refused, never let by.
        let stamp = versioned::stamp::<CatalogueEntry>(&mut *self.pool.acquire().await?).await?;
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
            && versioned::stamp::<CatalogueEntry>(&mut tx).await? != seen
        {
            return Err(StoreError::Conflict);
        }
        let mut saved = Vec::new();
        for write in writes {
            saved.extend(versioned::write(&mut tx, write, user_id, at).await?);
        }
        tx.commit().await?;
        Ok(saved)
    }

    async fn catalogue_history(
        &self,
        entry_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<CatalogueChange>> {
        let rows = versioned::history(&self.pool, entry_id, limit).await?;
        Ok(rows
            .into_iter()
            .map(|r| CatalogueChange {
                id: r.id,
                entry_id: r.subject_id,
                version: r.version,
                action: r.action,
                before: r.before,
                after: r.after,
                user_id: r.user_id,
                at: r.at,
            })
            .collect())
    }
}
