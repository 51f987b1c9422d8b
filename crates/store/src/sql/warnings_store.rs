//! Early warnings (预警) and what they are found from.

use super::*;

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
