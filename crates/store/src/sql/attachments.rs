//! Photos and files of requests: their records (the bytes are on disk, by SHA-256).

use super::*;
use mashangban_domain::attachment::{Attachment, FileKind};

fn attachment_of(r: &AnyRow) -> Result<Attachment> {
    let kind: String = r.try_get("kind")?;
    Ok(Attachment {
        id: r.try_get("id")?,
        ticket_id: r.try_get("ticket_id")?,
        kind: FileKind::parse(&kind).ok_or_else(|| corrupt(format!("file kind `{kind}`")))?,
        bytes: r.try_get::<i64, _>("bytes")?.max(0) as u64,
        sha256: r.try_get("sha256")?,
        name: r.try_get("name")?,
        thumbnail_sha256: r.try_get("thumbnail_sha256")?,
        uploaded_at: from_ts(r.try_get("uploaded_at")?),
    })
}

const COLUMNS: &str = "id, ticket_id, kind, bytes, sha256, name, thumbnail_sha256, uploaded_at";

#[async_trait]
impl AttachmentStore for SqlStore {
    async fn add_attachment(&self, a: &Attachment) -> Result<()> {
        let mut w = self.writer().await?;
        sqlx::query(
            "INSERT INTO attachments (id, ticket_id, kind, bytes, sha256, name, thumbnail_sha256, uploaded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(a.id.clone())
        .bind(a.ticket_id)
        .bind(a.kind.as_str())
        .bind(a.bytes as i64)
        .bind(a.sha256.clone())
        .bind(a.name.clone())
        .bind(a.thumbnail_sha256.clone())
        .bind(ts(a.uploaded_at))
        .execute(&mut *w)
        .await?;
        Ok(())
    }

    async fn attachment(&self, id: &str) -> Result<Option<Attachment>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM attachments WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(attachment_of).transpose()
    }

    async fn attach(&self, ids: &[String], ticket_id: i64, max: usize) -> Result<usize> {
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        let count = |n: i64| n.max(0) as usize;
        let mut have = count(
            sqlx::query("SELECT COUNT(*) AS n FROM attachments WHERE ticket_id = $1")
                .bind(ticket_id)
                .fetch_one(&mut *tx)
                .await?
                .try_get("n")?,
        );
        for id in ids {
            if have >= max {
                break;
            }
            let done = sqlx::query(
                "UPDATE attachments SET ticket_id = $1 WHERE id = $2 AND ticket_id IS NULL",
            )
            .bind(ticket_id)
            .bind(id.clone())
            .execute(&mut *tx)
            .await?;
            have += done.rows_affected() as usize;
        }
        tx.commit().await?;
        Ok(have)
    }

    async fn ticket_attachments(&self, ticket_id: i64) -> Result<Vec<Attachment>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM attachments WHERE ticket_id = $1 ORDER BY uploaded_at, id"
        )))
        .bind(ticket_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(attachment_of).collect()
    }

    async fn file_in_use(&self, sha256: &str) -> Result<bool> {
        let row = sqlx::query(
            "SELECT 1 AS x FROM attachments WHERE sha256 = $1 OR thumbnail_sha256 = $1 LIMIT 1",
        )
        .bind(sha256.to_string())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    async fn remove_unattached(
        &self,
        before: DateTime<Utc>,
        at: DateTime<Utc>,
        limit: u32,
    ) -> Result<usize> {
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM attachments WHERE ticket_id IS NULL AND uploaded_at < $1 \
             ORDER BY uploaded_at, id LIMIT $2"
        )))
        .bind(ts(before))
        .bind(i64::from(limit.clamp(1, 10_000)))
        .fetch_all(&mut *tx)
        .await?;
        let mut removed = 0;
        for r in &rows {
            let a = attachment_of(r)?;
            // Given to a request since it was read: it stays.
            let done = sqlx::query("DELETE FROM attachments WHERE id = $1 AND ticket_id IS NULL")
                .bind(a.id.clone())
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 1 {
                removed += 1;
                for sha in std::iter::once(a.sha256).chain(a.thumbnail_sha256) {
                    super::retention::release_file(&mut tx, &sha, at).await?;
                }
            }
        }
        tx.commit().await?;
        Ok(removed)
    }

    async fn released_files(&self, limit: u32) -> Result<Vec<String>> {
        let rows =
            sqlx::query("SELECT sha256 FROM file_releases ORDER BY released_at, sha256 LIMIT $1")
                .bind(i64::from(limit.clamp(1, 10_000)))
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(|r| Ok(r.try_get("sha256")?)).collect()
    }

    async fn forget_release(&self, sha256: &str) -> Result<()> {
        let mut w = self.writer().await?;
        sqlx::query("DELETE FROM file_releases WHERE sha256 = $1")
            .bind(sha256.to_string())
            .execute(&mut *w)
            .await?;
        Ok(())
    }
}
