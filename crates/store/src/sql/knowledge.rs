//! The knowledge base (知识库) and its history.

use super::*;

fn article_from(r: &sqlx::any::AnyRow) -> Result<Article> {
    let body: String = r.try_get("body")?;
    let mut a: Article = serde_json::from_str(&body).map_err(corrupt)?;
    a.id = r.try_get("id")?;
    a.version = r.try_get("version")?;
    Ok(a)
}

/// The stored article, or `NotFound`.
async fn article_row(conn: &mut AnyConnection, id: i64) -> Result<Article> {
    let row = sqlx::query("SELECT id, body, version FROM knowledge_articles WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: format!("knowledge article {id}"),
        })?;
    article_from(&row)
}

#[async_trait]
impl KnowledgeStore for SqlStore {
    async fn knowledge(&self) -> Result<Vec<Article>> {
        let rows = sqlx::query("SELECT id, body, version FROM knowledge_articles ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(article_from).collect()
    }

    async fn write_knowledge(
        &self,
        writes: Vec<KnowledgeWrite>,
        user_id: i64,
        at: DateTime<Utc>,
    ) -> Result<Vec<Article>> {
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        let mut saved = Vec::new();
        for write in writes {
            let (article_id, before, after, action) = match write {
                KnowledgeWrite::Save(article) if article.id == 0 => {
                    let mut a = article;
                    a.version = 1;
                    let id: i64 = sqlx::query(
                        "INSERT INTO knowledge_articles (body, version) VALUES ($1, 1) RETURNING id",
                    )
                    .bind(serde_json::to_string(&a).map_err(corrupt)?)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("id")?;
                    // The columns, not the body, say which article and version it is.
                    a.id = id;
                    (id, None, Some(a), "created")
                }
                KnowledgeWrite::Save(article) => {
                    let before = article_row(&mut tx, article.id).await?;
                    if before.version != article.version {
                        return Err(StoreError::Conflict);
                    }
                    let mut a = article;
                    a.version += 1;
                    sqlx::query(
                        "UPDATE knowledge_articles SET body = $1, version = $2 WHERE id = $3",
                    )
                    .bind(serde_json::to_string(&a).map_err(corrupt)?)
                    .bind(a.version)
                    .bind(a.id)
                    .execute(&mut *tx)
                    .await?;
                    (a.id, Some(before), Some(a), "updated")
                }
                KnowledgeWrite::Delete { id, version } => {
                    let before = article_row(&mut tx, id).await?;
                    if before.version != version {
                        return Err(StoreError::Conflict);
                    }
                    sqlx::query("DELETE FROM knowledge_articles WHERE id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    (id, Some(before), None, "deleted")
                }
            };
            let version = after
                .as_ref()
                .or(before.as_ref())
                .map(|a| a.version)
                .unwrap_or(0);
            let change = Recorded {
                table: "knowledge_changes",
                subject_column: "article_id",
                subject_id: article_id,
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

    async fn knowledge_history(
        &self,
        article_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<KnowledgeChange>> {
        let rows = sqlx::query(
            "SELECT id, article_id, version, action, before_json, after_json, user_id, at FROM knowledge_changes \
             WHERE ($1 = 0 OR article_id = $1) ORDER BY id DESC LIMIT $2",
        )
        .bind(article_id.unwrap_or(0))
        .bind(i64::from(limit.clamp(1, 10_000)))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let (before, after) = (
                    before_after(r, "before_json")?,
                    before_after(r, "after_json")?,
                );
                Ok(KnowledgeChange {
                    id: r.try_get("id")?,
                    article_id: r.try_get("article_id")?,
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

    async fn knowledge_stamp(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COALESCE(MAX(id), 0) AS stamp FROM knowledge_changes")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("stamp")?)
    }
}
