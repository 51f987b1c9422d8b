//! The knowledge base (知识库) and its history.

use super::*;

fn article_from(r: &sqlx::any::AnyRow) -> Result<Article> {
    let body: String = r.try_get("body")?;
    let mut a: Article = serde_json::from_str(&body).map_err(corrupt)?;
    a.id = r.try_get("id")?;
    a.version = r.try_get("version")?;
    Ok(a)
}

impl Versioned for Article {
    const TABLE: &'static str = "knowledge_articles";
    const HISTORY: &'static str = "knowledge_changes";
    const SUBJECT_COLUMN: &'static str = "article_id";
    const NOUN: &'static str = "knowledge article";
    const COLUMNS: &'static str = "id, body, version";
    const WRITTEN: &'static [&'static str] = &["body", "version"];

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
            P::S(Some(serde_json::to_string(self).map_err(corrupt)?)),
            P::I(Some(self.version)),
        ])
    }
    fn from_row(row: &AnyRow) -> Result<Self> {
        article_from(row)
    }
}

#[async_trait]
impl KnowledgeStore for SqlStore {
    async fn knowledge(&self) -> Result<Vec<Article>> {
        versioned::load_all(&self.pool).await
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
            saved.extend(versioned::write(&mut tx, write, user_id, at).await?);
        }
        tx.commit().await?;
        Ok(saved)
    }

    async fn knowledge_history(
        &self,
        article_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<KnowledgeChange>> {
        let rows = versioned::history(&self.pool, article_id, limit).await?;
        Ok(rows
            .into_iter()
            .map(|r| KnowledgeChange {
                id: r.id,
                article_id: r.subject_id,
                version: r.version,
                action: r.action,
                before: r.before,
                after: r.after,
                user_id: r.user_id,
                at: r.at,
            })
            .collect())
    }

    async fn knowledge_stamp(&self) -> Result<i64> {
        versioned::stamp::<Article>(&mut *self.pool.acquire().await?).await
    }
}
