//! Authentication: argon2 password hashes, bearer tokens (stored as SHA-256 hashes).

use crate::{App, AppError, require};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::Utc;
use mashangban_domain::org::{validate_password, validate_role_unit, validate_username};
use mashangban_domain::{Actor, Permission, Role, User};
use mashangban_store::NewUser;
use rand::Rng;
use sha2::{Digest, Sha256};

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, AppError> {
    let salt_bytes: [u8; 16] = rand::rng().random();
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| AppError::Internal(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("hashing a password: {e}")))
}

/// Checks a password against a PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// The longest a token issued from the command line is valid, in days (ten years).
pub const MAX_TOKEN_DAYS: u32 = 3650;
/// How long a token issued from the command line is valid unless told otherwise, in days.
pub const DEFAULT_TOKEN_DAYS: u32 = 90;

/// A new random bearer token: `mb_` and 43 URL-safe characters (256 bits).
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    format!("mb_{}", hex::encode(bytes))
}

/// What the database keeps of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// An unguessable citizen tracking code: 16 characters of Crockford base32 (80 bits).
pub fn new_tracking_code() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut rng = rand::rng();
    (0..16)
        .map(|_| ALPHABET[rng.random_range(0..32)] as char)
        .collect()
}

/// A real argon2 hash of nothing in particular, for timing-safe refusals of unknown names.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not a password of anyone").unwrap_or_default())
}

fn locked(until: chrono::DateTime<Utc>) -> AppError {
    let local = until.with_timezone(&mashangban_domain::intake::china_offset());
    AppError::Locked(format!(
        "too many wrong passwords: password login for this account is locked until {} (Beijing time)",
        local.format("%H:%M")
    ))
}

/// The actor a user acts as.
pub fn actor_of(user: &User) -> Actor {
    Actor {
        user_id: user.id,
        role: user.role,
        unit_id: user.unit_id,
    }
}

/// A user to create, before validation.
#[derive(Debug, Clone)]
pub struct UserInput {
    pub username: String,
    pub display_name: Option<String>,
    pub role: Role,
    pub unit_id: Option<i64>,
    pub password: Option<String>,
}

impl App {
    /// Creates a user after checking the name, the password, and the unit binding.
    pub async fn add_user(&self, actor: &Actor, input: UserInput) -> Result<User, AppError> {
        require(actor, Permission::ManageUsers)?;
        validate_username(&input.username)?;
        let unit = match input.unit_id {
            Some(id) => self.store.get_unit(id).await?,
            None => None,
        };
        validate_role_unit(input.role, input.unit_id, unit.as_ref())?;
        let password_hash = match &input.password {
            Some(p) => {
                validate_password(p)?;
                Some(hash_password(p)?)
            }
            None => None,
        };
        let user = NewUser {
            display_name: input.display_name.unwrap_or_else(|| input.username.clone()),
            username: input.username,
            role: input.role,
            unit_id: input.unit_id,
            password_hash,
        };
        Ok(self.store.insert_user(&user, Utc::now()).await?)
    }

    /// Issues a token for a user, valid for `days` days (1 to [`MAX_TOKEN_DAYS`]); returns
    /// the token, which is shown only once.
    pub async fn issue_token(
        &self,
        actor: &Actor,
        username: &str,
        name: &str,
        days: u32,
    ) -> Result<String, AppError> {
        require(actor, Permission::ManageUsers)?;
        if !(1..=MAX_TOKEN_DAYS).contains(&days) {
            return Err(AppError::invalid(
                "days",
                format!("a token is valid for 1 to {MAX_TOKEN_DAYS} days"),
            ));
        }
        let (user, _) = self
            .store
            .get_credentials(username)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("user `{username}` not found")))?;
        if !user.active {
            return Err(AppError::Forbidden(format!(
                "user `{username}` is disabled"
            )));
        }
        let token = new_token();
        let now = Utc::now();
        let expires = now + chrono::Duration::days(i64::from(days));
        self.store
            .insert_token(user.id, &token_hash(&token), name, now, Some(expires))
            .await?;
        Ok(token)
    }

    /// Checks a username and password; on success issues a login token that expires.
    pub async fn login(&self, username: &str, password: &str) -> Result<(User, String), AppError> {
        let bad = || AppError::Unauthenticated("wrong username or password".into());
        let now = Utc::now();
        let Some((user, Some(hash))) = self.store.get_credentials(username).await? else {
            // Spend the time of a real check, so that names cannot be probed by timing.
            let password = password.to_string();
            let _ =
                tokio::task::spawn_blocking(move || verify_password(&password, dummy_hash())).await;
            return Err(bad());
        };
        if let Some(until) = user.locked_until.filter(|u| *u > now) {
            return Err(locked(until));
        }
        let ok = tokio::task::spawn_blocking({
            let password = password.to_string();
            move || verify_password(&password, &hash)
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
        let lock_for = chrono::Duration::minutes(self.config.lockout_minutes);
        if !ok {
            let max = i64::from(self.config.max_login_failures);
            if let Some(until) = self
                .store
                .record_login(user.id, false, now, max, lock_for)
                .await?
            {
                return Err(locked(until));
            }
            return Err(bad());
        }
        if !user.active {
            return Err(bad());
        }
        self.store
            .record_login(user.id, true, now, 0, lock_for)
            .await?;
        let token = new_token();
        let expires = Utc::now() + chrono::Duration::hours(self.config.login_token_hours);
        self.store
            .insert_token(
                user.id,
                &token_hash(&token),
                "login",
                Utc::now(),
                Some(expires),
            )
            .await?;
        Ok((user, token))
    }

    /// The user a bearer token belongs to, asked of the database on every request: a
    /// revoked or expired token, or a disabled user, stops working at once on every
    /// instance.
    pub async fn authenticate(&self, token: &str) -> Result<User, AppError> {
        let user = self
            .store
            .user_by_token(&token_hash(token), Utc::now())
            .await?
            .ok_or_else(|| {
                AppError::Unauthenticated(
                    "the token is not valid (unknown, revoked, expired, or its user is disabled)"
                        .into(),
                )
            })?;
        // The request's log line says who asked (its id only: never a name or a token).
        tracing::Span::current().record("user_id", user.id);
        Ok(user)
    }

    /// Revokes a token by id (administrators, `mashangban token revoke`).
    pub async fn revoke_token(&self, actor: &Actor, id: i64) -> Result<(), AppError> {
        require(actor, Permission::ManageUsers)?;
        if !self.store.revoke_token(Some(id), None).await? {
            return Err(AppError::NotFound(format!("no active token with id {id}")));
        }
        Ok(())
    }

    /// A user's tokens, or everyone's (administrators, `mashangban token list`).
    pub async fn tokens(
        &self,
        actor: &Actor,
        user_id: Option<i64>,
    ) -> Result<Vec<mashangban_store::TokenInfo>, AppError> {
        require(actor, Permission::ManageUsers)?;
        Ok(self.store.list_tokens(user_id).await?)
    }

    /// Ends the session of a bearer token (log out).
    pub async fn logout(&self, token: &str) -> Result<(), AppError> {
        self.store
            .revoke_token(None, Some(&token_hash(token)))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn tokens_and_tracking_codes_are_random() {
        assert_ne!(new_token(), new_token());
        assert_eq!(new_token().len(), 67);
        assert_eq!(token_hash("a"), token_hash("a"));
        let c = new_tracking_code();
        assert_eq!(c.len(), 16);
        assert_ne!(c, new_tracking_code());
    }
}
