//! Administration of reference data: categories, units, division populations, users.

use crate::auth::hash_password;
use crate::{App, AppError, require};
use mashangban_domain::org::validate_password;
use mashangban_domain::org::validate_role_unit;
use mashangban_domain::{
    Actor, Category, Division, NewUnit, Permission, Role, TIERS, Unit, UnitKind, User,
};
use mashangban_store::UserUpdate;

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
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    /// Two digits a level: `01`, `0101`, `010101`.
    #[schema(pattern = "^([0-9]{2}){1,3}$")]
    pub code: String,
    #[schema(max_length = 50)]
    pub name: String,
    /// The handling tier in days (1, 3, 7 or 11), for leaves.
    #[schema(minimum = 1, maximum = 11)]
    pub default_tier: Option<u8>,
    pub active: Option<bool>,
    /// What the category covers (at most 300 characters); absent: kept as it is.
    #[schema(max_length = 300)]
    pub description: Option<String>,
    /// The words citizens use for the matter (each 1 to 20 characters, no spaces; at most
    /// 60); absent: kept as they are.
    pub keywords: Option<Vec<String>>,
}

/// At most this many keywords a category.
pub const MAX_KEYWORDS: usize = 60;

/// Keywords as given: trimmed, each 1 to 20 characters without spaces or control
/// characters, repeats dropped, at most [`MAX_KEYWORDS`].
pub fn check_keywords(field: &str, given: &[String]) -> Result<Vec<String>, AppError> {
    let mut out: Vec<String> = Vec::new();
    for k in given {
        let k = k.trim();
        if k.is_empty() {
            continue;
        }
        if k.chars().count() > 20 || k.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(AppError::invalid(
                field,
                format!(
                    "`{}`: a keyword is 1 to 20 characters without spaces",
                    k.chars()
                        .filter(|c| !c.is_control())
                        .take(20)
                        .collect::<String>()
                ),
            ));
        }
        if !out.iter().any(|o| o == k) {
            out.push(k.to_string());
        }
    }
    if out.len() > MAX_KEYWORDS {
        return Err(AppError::invalid(
            field,
            format!("at most {MAX_KEYWORDS} keywords"),
        ));
    }
    Ok(out)
}

/// A unit to create.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitInput {
    #[schema(max_length = 32)]
    pub code: String,
    #[schema(max_length = 100)]
    pub name: String,
    pub kind: UnitKind,
    pub parent_id: Option<i64>,
    pub division_code: Option<String>,
}

/// Changes to a user.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    pub active: Option<bool>,
    /// A new password (at least 8 characters).
    #[schema(min_length = 8)]
    pub password: Option<String>,
    /// A new role; `unit_id` then says the unit (required for unit handlers and grid
    /// workers, who must be in a community, and only for them).
    pub role: Option<Role>,
    pub unit_id: Option<i64>,
}

impl App {
    /// Creates or changes a category. Codes nest two digits a level (`01` → `0101` →
    /// `010101`); a child needs its parent; leaves (level 3) carry the default tier.
    pub async fn save_category(
        &self,
        actor: &Actor,
        input: CategoryInput,
    ) -> Result<Category, AppError> {
        require(actor, Permission::ManageReference)?;
        let code = input.code.trim().to_string();
        let c = mashangban_domain::CategoryCode::new(&code);
        if !c.is_valid() {
            return Err(AppError::invalid(
                "code",
                "must be 2, 4 or 6 digits: two for each level",
            ));
        }
        let level = c.level();
        let parent_code = c.parent().map(str::to_string);
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
        let before = self.store.get_category(&code).await?;
        let description = match &input.description {
            Some(d) => {
                let d = d.trim();
                if d.chars().count() > 300 || d.chars().any(|c| c.is_control() && c != '\n') {
                    return Err(AppError::invalid(
                        "description",
                        "at most 300 characters, no control characters",
                    ));
                }
                d.to_string()
            }
            None => before
                .as_ref()
                .map(|b| b.description.clone())
                .unwrap_or_default(),
        };
        let keywords = match &input.keywords {
            Some(k) => check_keywords("keywords", k)?,
            None => before.map(|b| b.keywords).unwrap_or_default(),
        };
        let category = Category {
            name: check_name("name", &input.name, 50)?,
            code,
            parent_code,
            level,
            default_tier: input.default_tier,
            active: input.active.unwrap_or(true),
            description,
            keywords,
        };
        self.store
            .upsert_categories(std::slice::from_ref(&category))
            .await?;
        self.invalidate_reference();
        Ok(category)
    }

    /// Creates a unit under an existing parent, in an existing division.
    pub async fn add_unit(&self, actor: &Actor, input: UnitInput) -> Result<Unit, AppError> {
        require(actor, Permission::ManageReference)?;
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
        actor: &Actor,
        code: &str,
        population: Option<i64>,
    ) -> Result<Division, AppError> {
        require(actor, Permission::ManageReference)?;
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
        self.store
            .get_division(code)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("division {code} not found")))
    }

    /// Disables or enables a user, resets their password, or changes their role and unit.
    /// Everything is checked before anything is written, and written in one transaction.
    /// Administrators cannot disable or demote themselves, and the last active
    /// administrator cannot be disabled or demoted at all. Takes effect at once on every
    /// instance (tokens are checked against the users on every request).
    pub async fn change_user(
        &self,
        actor: &Actor,
        id: i64,
        change: UserChange,
    ) -> Result<User, AppError> {
        require(actor, Permission::ManageUsers)?;
        if self.store.get_user(id).await?.is_none() {
            return Err(AppError::NotFound(format!("user {id} not found")));
        }
        if id == actor.user_id && (change.role.is_some() || change.active == Some(false)) {
            return Err(AppError::invalid(
                if change.role.is_some() {
                    "role"
                } else {
                    "active"
                },
                "administrators cannot disable or change the role of their own account",
            ));
        }
        if change.unit_id.is_some() && change.role.is_none() {
            return Err(AppError::invalid(
                "unit_id",
                "a unit is changed together with the role",
            ));
        }
        if let Some(role) = change.role {
            let unit = match change.unit_id {
                Some(id) => self.store.get_unit(id).await?,
                None => None,
            };
            validate_role_unit(role, change.unit_id, unit.as_ref()).map_err(|e| {
                match AppError::from(e) {
                    AppError::Invalid { message, .. } => AppError::invalid("unit_id", message),
                    other => other,
                }
            })?;
        }
        let password_hash = match &change.password {
            Some(p) => {
                validate_password(p)?;
                Some(hash_password(p)?)
            }
            None => None,
        };
        let update = UserUpdate {
            role: change.role.map(|r| (r, change.unit_id)),
            password_hash,
            active: change.active,
        };
        Ok(self.store.update_user(id, &update).await?)
    }

    /// Every user (administrators).
    pub async fn users(&self, actor: &Actor) -> Result<Vec<User>, AppError> {
        require(actor, Permission::ManageUsers)?;
        Ok(self.store.list_users().await?)
    }

    /// One user (administrators).
    pub async fn user(&self, actor: &Actor, id: i64) -> Result<User, AppError> {
        require(actor, Permission::ManageUsers)?;
        self.store
            .get_user(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("user {id} not found")))
    }

    /// Users' display names by id, for showing who did what (every staff member).
    pub async fn user_names(
        &self,
        _actor: &Actor,
    ) -> Result<std::collections::HashMap<i64, String>, AppError> {
        Ok(self
            .store
            .list_users()
            .await?
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect())
    }

    /// The organisation's units (every staff member).
    pub async fn units(&self, _actor: &Actor) -> Result<Vec<Unit>, AppError> {
        Ok(self.store.list_units().await?)
    }

    /// Divisions under a parent and/or at a level (every staff member).
    pub async fn divisions(
        &self,
        _actor: &Actor,
        parent: Option<&str>,
        level: Option<mashangban_domain::DivisionLevel>,
    ) -> Result<Vec<Division>, AppError> {
        Ok(self.store.list_divisions(parent, level).await?)
    }

    /// The category taxonomy (every staff member).
    pub async fn categories(&self, _actor: &Actor) -> Result<Vec<Category>, AppError> {
        Ok(self.store.list_categories().await?)
    }
}
