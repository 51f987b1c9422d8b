//! Administration of reference data: categories, units, division populations, users.

use crate::auth::hash_password;
use crate::{App, AppError};
use mashangban_domain::org::validate_password;
use mashangban_domain::org::validate_role_unit;
use mashangban_domain::{Category, NewUnit, Role, TIERS, Unit, UnitKind, User};

fn check_code(field: &str, code: &str) -> Result<(), AppError> {
    if code.is_empty()
        || code.len() > 32
        || !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(AppError::invalid(
            field,
            format!("`{code}` is not a code (1 to 32 letters, digits, '-' or '_')"),
        ));
    }
    Ok(())
}

fn check_name(field: &str, name: &str, max: usize) -> Result<String, AppError> {
    let name = name.trim();
    let n = name.chars().count();
    if n == 0 || n > max {
        return Err(AppError::invalid(
            field,
            format!("must be 1 to {max} characters"),
        ));
    }
    Ok(name.to_string())
}

/// A category to create or change.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    pub code: String,
    pub name: String,
    pub default_tier: Option<u8>,
    pub active: Option<bool>,
}

/// A unit to create.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitInput {
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub parent_id: Option<i64>,
    pub division_code: Option<String>,
}

/// Changes to a user.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    pub active: Option<bool>,
    pub password: Option<String>,
    /// A new role; `unit_id` then says the unit (required for unit handlers only).
    pub role: Option<Role>,
    pub unit_id: Option<i64>,
}

impl App {
    /// Creates or changes a category. Codes nest two digits a level (`01` → `0101` →
    /// `010101`); a child needs its parent; leaves (level 3) carry the default tier.
    pub async fn save_category(&self, input: CategoryInput) -> Result<Category, AppError> {
        let code = input.code.trim().to_string();
        if code.is_empty()
            || !code.len().is_multiple_of(2)
            || code.len() > 6
            || !code.chars().all(|c| c.is_ascii_digit())
        {
            return Err(AppError::invalid(
                "code",
                "must be 2, 4 or 6 digits: two for each level",
            ));
        }
        let level = (code.len() / 2) as u8;
        let parent_code = (level > 1).then(|| code[..code.len() - 2].to_string());
        if let Some(p) = &parent_code
            && self.store.get_category(p).await?.is_none()
        {
            return Err(AppError::invalid(
                "code",
                format!("its parent category {p} does not exist"),
            ));
        }
        if let Some(t) = input.default_tier
            && !TIERS.contains(&t)
        {
            return Err(AppError::invalid(
                "default_tier",
                format!("{t} is not a tier; expected 1, 3, 7 or 11"),
            ));
        }
        let category = Category {
            name: check_name("name", &input.name, 50)?,
            code,
            parent_code,
            level,
            default_tier: input.default_tier,
            active: input.active.unwrap_or(true),
        };
        self.store
            .upsert_categories(std::slice::from_ref(&category))
            .await?;
        self.invalidate_reference();
        Ok(category)
    }

    /// Creates a unit under an existing parent, in an existing division.
    pub async fn add_unit(&self, input: UnitInput) -> Result<Unit, AppError> {
        check_code("code", &input.code)?;
        let name = check_name("name", &input.name, 100)?;
        if let Some(p) = input.parent_id
            && self.store.get_unit(p).await?.is_none()
        {
            return Err(AppError::invalid(
                "parent_id",
                format!("unit {p} does not exist"),
            ));
        }
        if let Some(d) = &input.division_code
            && self.store.get_division(d).await?.is_none()
        {
            return Err(AppError::invalid(
                "division_code",
                format!("`{d}` is not a division"),
            ));
        }
        let unit = self
            .store
            .insert_unit(&NewUnit {
                code: input.code,
                name,
                kind: input.kind,
                parent_id: input.parent_id,
                division_code: input.division_code,
            })
            .await?;
        self.invalidate_reference();
        Ok(unit)
    }

    /// Sets (or clears) a division's resident population, used by 万人诉求比.
    pub async fn set_population(
        &self,
        code: &str,
        population: Option<i64>,
    ) -> Result<(), AppError> {
        if population.is_some_and(|p| !(0..=100_000_000).contains(&p)) {
            return Err(AppError::invalid(
                "population",
                "must be between 0 and 100,000,000",
            ));
        }
        self.store
            .set_population(code, population)
            .await
            .map_err(|e| match e {
                mashangban_store::StoreError::NotFound { .. } => {
                    AppError::NotFound(format!("division {code} not found"))
                }
                other => other.into(),
            })?;
        self.invalidate_reference();
        Ok(())
    }

    /// Disables or enables a user, resets their password, or changes their role and unit.
    /// Everything is checked before anything is written. Takes effect at once here.
    pub async fn change_user(&self, id: i64, change: UserChange) -> Result<User, AppError> {
        if self.store.get_user(id).await?.is_none() {
            return Err(AppError::NotFound(format!("user {id} not found")));
        }
        if change.unit_id.is_some() && change.role.is_none() {
            return Err(AppError::invalid(
                "unit_id",
                "a unit is changed together with the role",
            ));
        }
        if let Some(role) = change.role {
            validate_role_unit(role, change.unit_id).map_err(|e| match AppError::from(e) {
                AppError::Invalid { message, .. } => AppError::invalid("unit_id", message),
                other => other,
            })?;
            if let Some(unit) = change.unit_id
                && self.store.get_unit(unit).await?.is_none()
            {
                return Err(AppError::invalid(
                    "unit_id",
                    format!("unit {unit} does not exist"),
                ));
            }
        }
        if let Some(p) = &change.password {
            validate_password(p)?;
        }
        if let Some(role) = change.role {
            self.store.set_user_role(id, role, change.unit_id).await?;
        }
        if let Some(p) = &change.password {
            self.store.set_password_hash(id, &hash_password(p)?).await?;
        }
        if let Some(active) = change.active {
            self.store.set_user_active(id, active).await?;
        }
        self.forget_sessions();
        self.store
            .get_user(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("user {id} not found")))
    }
}
