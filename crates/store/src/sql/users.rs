//! Users, their passwords and tokens.

use super::*;

const USER_COLS: &str =
    "id, username, display_name, role, unit_id, active, created_at, locked_until";

fn user_from(row: &AnyRow) -> Result<User> {
    Ok(User {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        role: row.try_get::<String, _>("role")?.parse().map_err(corrupt)?,
        unit_id: row.try_get("unit_id")?,
        active: row.try_get::<i64, _>("active")? != 0,
        created_at: from_ts(row.try_get("created_at")?),
        locked_until: row.try_get::<Option<i64>, _>("locked_until")?.map(from_ts),
    })
}

#[async_trait]
impl UserStore for SqlStore {
    async fn insert_user(&self, u: &NewUser, at: DateTime<Utc>) -> Result<User> {
        let mut w = self.writer().await?;
        let row = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO users (username, display_name, role, unit_id, password_hash, active, created_at) \
             VALUES ($1, $2, $3, $4, $5, 1, $6) RETURNING {USER_COLS}"
        )))
        .bind(u.username.clone())
        .bind(u.display_name.clone())
        .bind(u.role.as_str().to_string())
        .bind(u.unit_id)
        .bind(u.password_hash.clone())
        .bind(ts(at))
        .fetch_one(&mut *w)
        .await
        .map_err(|e| dup(e, format!("user {}", u.username)))?;
        user_from(&row)
    }

    async fn get_user(&self, id: i64) -> Result<Option<User>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLS} FROM users WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from).transpose()
    }

    async fn get_credentials(&self, username: &str) -> Result<Option<(User, Option<String>)>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLS}, password_hash FROM users WHERE username = $1"
        )))
        .bind(username.to_string())
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => Ok(Some((user_from(&r)?, r.try_get("password_hash")?))),
            None => Ok(None),
        }
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLS} FROM users ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(user_from).collect()
    }

    async fn update_user(&self, id: i64, change: &UserUpdate) -> Result<User> {
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        if self.backend == Backend::Postgres {
            // Concurrent changes to administrators queue here, so that two administrators
            // disabling each other cannot both see the other one still active.
            sqlx::query(
                "SELECT id FROM users WHERE role = 'admin' AND active = 1 ORDER BY id FOR UPDATE",
            )
            .fetch_all(&mut *tx)
            .await?;
        }
        let Some(before) = sqlx::query("SELECT role, active FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Err(StoreError::NotFound {
                what: format!("user {id}"),
            });
        };
        let was_admin = before.try_get::<String, _>("role")? == Role::Admin.as_str()
            && before.try_get::<i64, _>("active")? != 0;
        if let Some((role, unit_id)) = change.role {
            sqlx::query("UPDATE users SET role = $1, unit_id = $2 WHERE id = $3")
                .bind(role.as_str())
                .bind(unit_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(hash) = &change.password_hash {
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                .bind(hash.clone())
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(active) = change.active {
            sqlx::query("UPDATE users SET active = $1 WHERE id = $2")
                .bind(active as i64)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLS} FROM users WHERE id = $1"
        )))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let user = user_from(&row)?;
        if was_admin && !(user.role == Role::Admin && user.active) {
            let admins: i64 =
                sqlx::query("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND active = 1")
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("n")?;
            if admins == 0 {
                // Dropping the transaction rolls the whole change back.
                return Err(StoreError::LastAdmin);
            }
        }
        tx.commit().await?;
        Ok(user)
    }

    async fn insert_token(
        &self,
        user_id: i64,
        token_hash: &str,
        name: &str,
        at: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<i64> {
        let mut w = self.writer().await?;
        let row = sqlx::query(
            "INSERT INTO api_tokens (user_id, token_hash, name, created_at, expires_at, revoked) VALUES ($1, $2, $3, $4, $5, 0) RETURNING id",
        )
        .bind(user_id)
        .bind(token_hash.to_string())
        .bind(name.to_string())
        .bind(ts(at))
        .bind(expires_at.map(ts))
        .fetch_one(&mut *w)
        .await
        .map_err(|e| dup(e, "token"))?;
        Ok(row.try_get("id")?)
    }

    async fn user_by_token(&self, token_hash: &str, at: DateTime<Utc>) -> Result<Option<User>> {
        let row = sqlx::query(
            "SELECT u.id, u.username, u.display_name, u.role, u.unit_id, u.active, u.created_at, u.locked_until \
             FROM api_tokens k JOIN users u ON u.id = k.user_id \
             WHERE k.token_hash = $1 AND k.revoked = 0 AND (k.expires_at IS NULL OR k.expires_at > $2) AND u.active = 1",
        )
        .bind(token_hash.to_string())
        .bind(ts(at))
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from).transpose()
    }

    async fn record_login(
        &self,
        user_id: i64,
        ok: bool,
        at: DateTime<Utc>,
        max_failures: i64,
        lock_for: chrono::Duration,
    ) -> Result<Option<DateTime<Utc>>> {
        let mut w = self.writer().await?;
        if ok {
            sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
                .bind(user_id)
                .execute(&mut *w)
                .await?;
            return Ok(None);
        }
        let until = at + lock_for;
        let row = sqlx::query(
            "UPDATE users SET \
               locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3 ELSE locked_until END, \
               failed_logins = CASE WHEN failed_logins + 1 >= $2 THEN 0 ELSE failed_logins + 1 END \
             WHERE id = $1 RETURNING locked_until",
        )
        .bind(user_id)
        .bind(max_failures)
        .bind(ts(until))
        .fetch_optional(&mut *w)
        .await?;
        let locked = match row {
            Some(r) => r.try_get::<Option<i64>, _>("locked_until")?.map(from_ts),
            None => {
                return Err(StoreError::NotFound {
                    what: format!("user {user_id}"),
                });
            }
        };
        Ok(locked.filter(|l| *l > at))
    }

    async fn list_tokens(&self, user_id: Option<i64>) -> Result<Vec<TokenInfo>> {
        let rows = sqlx::query(
            "SELECT k.id, k.user_id, u.username, k.name, k.created_at, k.expires_at, k.revoked \
             FROM api_tokens k JOIN users u ON u.id = k.user_id WHERE ($1 IS NULL OR k.user_id = $1) ORDER BY k.id DESC",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TokenInfo {
                    id: r.try_get("id")?,
                    user_id: r.try_get("user_id")?,
                    username: r.try_get("username")?,
                    name: r.try_get("name")?,
                    created_at: from_ts(r.try_get("created_at")?),
                    expires_at: r.try_get::<Option<i64>, _>("expires_at")?.map(from_ts),
                    revoked: r.try_get::<i64, _>("revoked")? != 0,
                })
            })
            .collect()
    }

    async fn revoke_token(&self, id: Option<i64>, token_hash: Option<&str>) -> Result<bool> {
        let mut w = self.writer().await?;
        let r = sqlx::query(
            "UPDATE api_tokens SET revoked = 1 WHERE (id = $1 OR token_hash = $2) AND revoked = 0",
        )
        .bind(id)
        .bind(token_hash.map(str::to_string))
        .execute(&mut *w)
        .await?;
        Ok(r.rows_affected() > 0)
    }

    async fn save_filter(
        &self,
        user_id: i64,
        name: &str,
        query: &str,
        at: DateTime<Utc>,
    ) -> Result<SavedFilter> {
        let mut w = self.writer().await?;
        let row = sqlx::query(
            "INSERT INTO saved_filters (user_id, name, query, saved_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, name) DO UPDATE SET query = excluded.query, saved_at = excluded.saved_at \
             RETURNING id, name, query, saved_at",
        )
        .bind(user_id)
        .bind(name.to_string())
        .bind(query.to_string())
        .bind(ts(at))
        .fetch_one(&mut *w)
        .await?;
        filter_from(&row)
    }

    async fn saved_filters(&self, user_id: i64) -> Result<Vec<SavedFilter>> {
        sqlx::query(
            "SELECT id, name, query, saved_at FROM saved_filters WHERE user_id = $1 ORDER BY name, id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(filter_from)
        .collect()
    }

    async fn delete_saved_filter(&self, user_id: i64, id: i64) -> Result<bool> {
        let mut w = self.writer().await?;
        let r = sqlx::query("DELETE FROM saved_filters WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(&mut *w)
            .await?;
        Ok(r.rows_affected() > 0)
    }
}

fn filter_from(row: &AnyRow) -> Result<SavedFilter> {
    Ok(SavedFilter {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        query: row.try_get("query")?,
        saved_at: from_ts(row.try_get("saved_at")?),
    })
}
