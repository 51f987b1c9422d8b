//! The monthly releases of open data, kept as published (never rewritten).

use super::*;
use mashangban_domain::open_data::Release;

#[async_trait]
impl OpenDataStore for SqlStore {
    async fn add_release(&self, release: &Release, by: i64) -> Result<bool> {
        let body = serde_json::to_string(release).map_err(corrupt)?;
        let mut w = self.writer().await?;
        let done = sqlx::query(
            "INSERT INTO open_data_releases (month, revision, generated_at, generated_by, body) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(release.month.clone())
        .bind(release.revision)
        .bind(ts(release.generated_at))
        .bind(by)
        .bind(body)
        .execute(&mut *w)
        .await;
        match done {
            Ok(_) => Ok(true),
            Err(e) => match dup(e, "a release") {
                StoreError::Duplicate { .. } => Ok(false),
                e => Err(e),
            },
        }
    }

    async fn releases(&self) -> Result<Vec<ReleaseSummary>> {
        let rows = sqlx::query(
            "SELECT month, revision, generated_at FROM open_data_releases \
             ORDER BY month DESC, revision DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ReleaseSummary {
                    month: r.try_get("month")?,
                    revision: r.try_get("revision")?,
                    generated_at: from_ts(r.try_get("generated_at")?),
                })
            })
            .collect()
    }

    async fn release(&self, month: &str, revision: Option<i64>) -> Result<Option<Release>> {
        let row = sqlx::query(
            "SELECT body FROM open_data_releases WHERE month = $1 AND ($2 = 0 OR revision = $2) \
             ORDER BY revision DESC LIMIT 1",
        )
        .bind(month.to_string())
        .bind(revision.unwrap_or(0))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            let body: String = r.try_get("body")?;
            serde_json::from_str(&body).map_err(corrupt)
        })
        .transpose()
    }
}
