//! Counted attempts for limits shared by every instance (a wrong tracking code, a public
//! submission): one row an attempt, forgotten once no window looks back that far.

use super::*;

#[async_trait]
impl ThrottleStore for SqlStore {
    async fn record_attempt(
        &self,
        key: &str,
        at: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<()> {
        let mut w = self.writer().await?;
        sqlx::query("DELETE FROM attempts WHERE at < $1")
            .bind(ts(forget_before))
            .execute(&mut *w)
            .await?;
        sqlx::query("INSERT INTO attempts (key, at) VALUES ($1, $2)")
            .bind(key.to_string())
            .bind(ts(at))
            .execute(&mut *w)
            .await?;
        Ok(())
    }

    async fn count_attempts(&self, key: &str, since: DateTime<Utc>) -> Result<i64> {
        Ok(
            sqlx::query("SELECT COUNT(*) AS n FROM attempts WHERE key = $1 AND at >= $2")
                .bind(key.to_string())
                .bind(ts(since))
                .fetch_one(&self.pool)
                .await?
                .try_get("n")?,
        )
    }
}
