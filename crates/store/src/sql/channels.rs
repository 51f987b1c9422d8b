//! Channels and merged hotlines, as an administrator keeps them, and the keys of the client
//! applications that post requests on the open channels, and the platforms requests are
//! exchanged with.

use super::*;
use mashangban_domain::ChannelKind;
use mashangban_domain::channel::{BUILT_IN, Channel, ChannelDef, DEFAULTS, HotlineLine};
use mashangban_domain::exchange::Platform;

/// The migration that makes the channels' table (the defaults are written with it).
pub(super) const MIGRATION: i64 = 25;

/// Writes the channels a new database starts with.
pub(super) async fn write_defaults(conn: &mut AnyConnection) -> Result<()> {
    for (position, (code, name, name_en, kind)) in DEFAULTS.iter().enumerate() {
        sqlx::query(
            "INSERT INTO channels (code, name, name_en, kind, active, position) \
             VALUES ($1, $2, $3, $4, 1, $5) ON CONFLICT (code) DO NOTHING",
        )
        .bind(code.as_str().to_string())
        .bind(name.to_string())
        .bind(name_en.to_string())
        .bind(kind.as_str())
        .bind(position as i64)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

fn channel_of(r: &AnyRow) -> Result<ChannelDef> {
    let code: String = r.try_get("code")?;
    let kind: String = r.try_get("kind")?;
    let code = Channel::new(&code).map_err(|e| corrupt(e.to_string()))?;
    Ok(ChannelDef {
        built_in: BUILT_IN.contains(&code),
        code,
        name: r.try_get("name")?,
        name_en: r.try_get("name_en")?,
        kind: kind
            .parse::<ChannelKind>()
            .map_err(|e| corrupt(e.to_string()))?,
        active: r.try_get::<i64, _>("active")? != 0,
    })
}

fn line_of(r: &AnyRow) -> Result<HotlineLine> {
    Ok(HotlineLine {
        number: r.try_get("number")?,
        name: r.try_get("name")?,
        category_code: r.try_get("category_code")?,
        unit_id: r.try_get("unit_id")?,
        active: r.try_get::<i64, _>("active")? != 0,
    })
}

#[async_trait]
impl ChannelStore for SqlStore {
    async fn channels(&self) -> Result<Vec<ChannelDef>> {
        let rows = sqlx::query(
            "SELECT code, name, name_en, kind, active FROM channels ORDER BY position, code",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(channel_of).collect()
    }

    async fn put_channel(&self, c: &ChannelDef) -> Result<bool> {
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        let updated = sqlx::query(
            "UPDATE channels SET name = $2, name_en = $3, kind = $4, active = $5 WHERE code = $1",
        )
        .bind(c.code.as_str().to_string())
        .bind(c.name.clone())
        .bind(c.name_en.clone())
        .bind(c.kind.as_str())
        .bind(i64::from(c.active))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if !updated {
            sqlx::query(
                "INSERT INTO channels (code, name, name_en, kind, active, position) \
                 SELECT $1, $2, $3, $4, $5, COALESCE(MAX(position), -1) + 1 FROM channels",
            )
            .bind(c.code.as_str().to_string())
            .bind(c.name.clone())
            .bind(c.name_en.clone())
            .bind(c.kind.as_str())
            .bind(i64::from(c.active))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(!updated)
    }

    async fn lines(&self) -> Result<Vec<HotlineLine>> {
        let rows = sqlx::query(
            "SELECT number, name, category_code, unit_id, active FROM hotline_lines ORDER BY number",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(line_of).collect()
    }

    async fn put_line(&self, l: &HotlineLine) -> Result<bool> {
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        let updated = sqlx::query(
            "UPDATE hotline_lines SET name = $2, category_code = $3, unit_id = $4, active = $5 \
             WHERE number = $1",
        )
        .bind(l.number.clone())
        .bind(l.name.clone())
        .bind(l.category_code.clone())
        .bind(l.unit_id)
        .bind(i64::from(l.active))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if !updated {
            sqlx::query(
                "INSERT INTO hotline_lines (number, name, category_code, unit_id, active) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(l.number.clone())
            .bind(l.name.clone())
            .bind(l.category_code.clone())
            .bind(l.unit_id)
            .bind(i64::from(l.active))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(!updated)
    }

    async fn platforms(&self) -> Result<Vec<Platform>> {
        let rows = sqlx::query(
            "SELECT code, name, channel, webhook_url, secret, active FROM exchange_platforms \
             ORDER BY code",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let channel: String = r.try_get("channel")?;
                Ok(Platform {
                    code: r.try_get("code")?,
                    name: r.try_get("name")?,
                    channel: Channel::new(&channel)
                        .map_err(|e| corrupt(format!("platform channel: {e}")))?,
                    webhook_url: r.try_get("webhook_url")?,
                    secret: r.try_get("secret")?,
                    active: r.try_get::<i64, _>("active")? != 0,
                })
            })
            .collect()
    }

    async fn put_platform(&self, p: &Platform) -> Result<bool> {
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        let known = sqlx::query("SELECT 1 AS one FROM exchange_platforms WHERE code = $1")
            .bind(p.code.clone())
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        sqlx::query(
            "INSERT INTO exchange_platforms (code, name, channel, webhook_url, secret, active) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (code) DO UPDATE SET name = excluded.name, \
             channel = excluded.channel, webhook_url = excluded.webhook_url, \
             secret = excluded.secret, active = excluded.active",
        )
        .bind(p.code.clone())
        .bind(p.name.clone())
        .bind(p.channel.as_str().to_string())
        .bind(p.webhook_url.clone())
        .bind(p.secret.clone())
        .bind(i64::from(p.active))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(!known)
    }
}

fn api_key_of(r: &AnyRow) -> Result<ApiKey> {
    Ok(ApiKey {
        id: r.try_get("id")?,
        client: r.try_get("client")?,
        created_at: from_ts(r.try_get("created_at")?),
        revoked_at: r.try_get::<Option<i64>, _>("revoked_at")?.map(from_ts),
    })
}

#[async_trait]
impl ApiKeyStore for SqlStore {
    async fn add_api_key(&self, client: &str, digest: &str, at: DateTime<Utc>) -> Result<ApiKey> {
        let mut w = self.writer().await?;
        let row = sqlx::query(
            "INSERT INTO api_keys (client, key_digest, created_at) VALUES ($1, $2, $3) \
             RETURNING id, client, created_at, revoked_at",
        )
        .bind(client.to_string())
        .bind(digest.to_string())
        .bind(ts(at))
        .fetch_one(&mut *w)
        .await?;
        api_key_of(&row)
    }

    async fn api_keys(&self) -> Result<Vec<ApiKey>> {
        let rows =
            sqlx::query("SELECT id, client, created_at, revoked_at FROM api_keys ORDER BY id DESC")
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(api_key_of).collect()
    }

    async fn revoke_api_key(&self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        let mut w = self.writer().await?;
        let done =
            sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(id)
                .bind(ts(at))
                .execute(&mut *w)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn api_key_by_digest(&self, digest: &str) -> Result<Option<ApiKey>> {
        let row = sqlx::query(
            "SELECT id, client, created_at, revoked_at FROM api_keys \
             WHERE key_digest = $1 AND revoked_at IS NULL",
        )
        .bind(digest.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(api_key_of).transpose()
    }
}
