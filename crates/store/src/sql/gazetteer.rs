//! The gazetteer: roads, compounds and landmarks mapped to divisions.

use super::*;

#[async_trait]
impl GazetteerStore for SqlStore {
    async fn gazetteer(&self) -> Result<Vec<GazetteerRow>> {
        let rows = sqlx::query("SELECT id, name, kind, division_code FROM gazetteer ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(GazetteerRow {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    kind: r.try_get("kind")?,
                    division_code: r.try_get("division_code")?,
                })
            })
            .collect()
    }

    async fn upsert_gazetteer(&self, rows: &[GazetteerRow]) -> Result<usize> {
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        for g in rows {
            sqlx::query(
                "INSERT INTO gazetteer (name, kind, division_code) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, division_code = excluded.division_code",
            )
            .bind(g.name.clone())
            .bind(g.kind.clone())
            .bind(g.division_code.clone())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(rows.len())
    }

    async fn delete_gazetteer(&self, id: i64) -> Result<bool> {
        let mut w = self.writer().await?;
        let r = sqlx::query("DELETE FROM gazetteer WHERE id = $1")
            .bind(id)
            .execute(&mut *w)
            .await?;
        Ok(r.rows_affected() > 0)
    }
}
