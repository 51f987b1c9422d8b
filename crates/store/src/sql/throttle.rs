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

    async fn mark_handled(&self, message_key: &str, at: DateTime<Utc>) -> Result<bool> {
        let mut w = self.writer().await?;
        let done = sqlx::query(
            "INSERT INTO handled_messages (message_key, at) VALUES ($1, $2) \
             ON CONFLICT (message_key) DO NOTHING",
        )
        .bind(message_key.to_string())
        .bind(ts(at))
        .execute(&mut *w)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn was_handled(&self, message_key: &str) -> Result<bool> {
        Ok(
            sqlx::query("SELECT 1 AS one FROM handled_messages WHERE message_key = $1")
                .bind(message_key.to_string())
                .fetch_optional(&self.pool)
                .await?
                .is_some(),
        )
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

#[async_trait]
impl CitizenStore for SqlStore {
    async fn issue_code(
        &self,
        phone: &str,
        code_digest: &str,
        expires_at: DateTime<Utc>,
        sms: (i64, NewNotice),
        at: DateTime<Utc>,
    ) -> Result<()> {
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        sqlx::query("DELETE FROM citizen_codes WHERE phone = $1 OR expires_at < $2")
            .bind(phone.to_string())
            .bind(ts(at))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO citizen_codes (phone, code_digest, expires_at, tries) VALUES ($1, $2, $3, 0)",
        )
        .bind(phone.to_string())
        .bind(code_digest.to_string())
        .bind(ts(expires_at))
        .execute(&mut *tx)
        .await?;
        insert_notices(&mut tx, &[(Some(sms.0), sms.1)], at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn check_code(
        &self,
        phone: &str,
        code_digest: &str,
        max_tries: i64,
        now: DateTime<Utc>,
    ) -> Result<CodeCheck> {
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        // The try is counted first, in the same transaction as the check: two guesses at
        // once cannot both be the fifth.
        let row = sqlx::query(
            "UPDATE citizen_codes SET tries = tries + 1 \
             WHERE phone = $1 AND expires_at >= $2 AND tries < $3 \
             RETURNING code_digest",
        )
        .bind(phone.to_string())
        .bind(ts(now))
        .bind(max_tries)
        .fetch_optional(&mut *tx)
        .await?;
        let check = match row {
            None => CodeCheck::Dead,
            Some(r) => {
                let kept: String = r.try_get("code_digest")?;
                if kept == code_digest {
                    sqlx::query("DELETE FROM citizen_codes WHERE phone = $1")
                        .bind(phone.to_string())
                        .execute(&mut *tx)
                        .await?;
                    CodeCheck::Right
                } else {
                    CodeCheck::Wrong
                }
            }
        };
        tx.commit().await?;
        Ok(check)
    }

    async fn open_citizen_session(
        &self,
        token_digest: &str,
        phone: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        sqlx::query("DELETE FROM citizen_sessions WHERE expires_at < $1")
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO citizen_sessions (token_digest, phone, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(token_digest.to_string())
        .bind(phone.to_string())
        .bind(ts(expires_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn citizen_session(
        &self,
        token_digest: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>> {
        let row = sqlx::query(
            "SELECT phone FROM citizen_sessions WHERE token_digest = $1 AND expires_at >= $2",
        )
        .bind(token_digest.to_string())
        .bind(ts(now))
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(r) => Some(r.try_get("phone")?),
            None => None,
        })
    }

    async fn dialogue(&self, key: &str) -> Result<Option<(String, DateTime<Utc>)>> {
        let row = sqlx::query("SELECT body, updated_at FROM dialogues WHERE key = $1")
            .bind(key.to_string())
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some((r.try_get("body")?, from_ts(r.try_get("updated_at")?))),
            None => None,
        })
    }

    async fn put_dialogue(&self, key: &str, body: Option<&str>, at: DateTime<Utc>) -> Result<()> {
        let mut w = self.writer().await?;
        sqlx::query("DELETE FROM dialogues WHERE updated_at < $1")
            .bind(ts(at - chrono::Duration::days(1)))
            .execute(&mut *w)
            .await?;
        match body {
            Some(body) => {
                sqlx::query(
                    "INSERT INTO dialogues (key, body, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (key) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
                )
                .bind(key.to_string())
                .bind(body.to_string())
                .bind(ts(at))
                .execute(&mut *w)
                .await?
            }
            None => {
                sqlx::query("DELETE FROM dialogues WHERE key = $1")
                    .bind(key.to_string())
                    .execute(&mut *w)
                    .await?
            }
        };
        Ok(())
    }
}
