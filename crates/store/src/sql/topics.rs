//! Monthly topics (每月一题) and their history, through the one versioned write.

use super::*;
use mashangban_domain::topics::{Topic, TopicState};

impl Versioned for Topic {
    const TABLE: &'static str = "topics";
    const HISTORY: &'static str = "topic_changes";
    const SUBJECT_COLUMN: &'static str = "topic_id";
    const NOUN: &'static str = "topic";
    const COLUMNS: &'static str = "id, body, version";
    const WRITTEN: &'static [&'static str] =
        &["state", "category_code", "proposed_at", "body", "version"];

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
            P::S(Some(self.state.as_str().to_string())),
            P::S(Some(self.proposal.scope.category_code.clone())),
            P::I(Some(ts(self.proposed_at))),
            P::S(Some(serde_json::to_string(self).map_err(corrupt)?)),
            P::I(Some(self.version)),
        ])
    }
    fn from_row(row: &AnyRow) -> Result<Self> {
        let body: String = row.try_get("body")?;
        let mut t: Topic = serde_json::from_str(&body).map_err(corrupt)?;
        t.id = row.try_get("id")?;
        t.version = row.try_get("version")?;
        Ok(t)
    }
}

#[async_trait]
impl TopicStore for SqlStore {
    async fn write_topic(
        &self,
        topic: Topic,
        user_id: i64,
        at: DateTime<Utc>,
        notices: Vec<NewNotice>,
    ) -> Result<Topic> {
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        let saved = versioned::write(&mut tx, VersionedWrite::Save(topic), user_id, at)
            .await?
            .ok_or_else(|| corrupt("a saved topic came back empty"))?;
        let rows: Vec<(Option<i64>, NewNotice)> = notices.into_iter().map(|n| (None, n)).collect();
        super::commit::insert_notices(&mut tx, &rows, at).await?;
        tx.commit().await?;
        Ok(saved)
    }

    async fn topic(&self, id: i64) -> Result<Option<Topic>> {
        let mut conn = self.pool.acquire().await?;
        match versioned::load::<Topic>(&mut conn, id).await {
            Ok(t) => Ok(Some(t)),
            Err(StoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn topics(&self, state: Option<TopicState>, limit: u32) -> Result<Vec<Topic>> {
        let limit = i64::from(limit.clamp(1, 500));
        let rows = match state {
            Some(s) => sqlx::query(
                "SELECT id, body, version FROM topics WHERE state = $1 ORDER BY id DESC LIMIT $2",
            )
            .bind(s.as_str())
            .bind(limit)
            .fetch_all(&self.pool)
            .await?,
            None => {
                sqlx::query("SELECT id, body, version FROM topics ORDER BY id DESC LIMIT $1")
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(Topic::from_row).collect()
    }

    async fn topic_history(&self, topic_id: i64) -> Result<Vec<TopicChange>> {
        let rows = versioned::history::<Topic>(&self.pool, Some(topic_id), 1_000).await?;
        Ok(rows
            .into_iter()
            .map(|r| TopicChange {
                id: r.id,
                topic_id: r.subject_id,
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
