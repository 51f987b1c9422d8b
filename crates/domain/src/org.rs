//! Organisation: administrative divisions, units, the category taxonomy, users.

use crate::types::{DivisionLevel, Role, UnitKind};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An administrative division (行政区划) with its national statistical code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Division {
    pub code: String,
    pub name: String,
    pub level: DivisionLevel,
    pub parent_code: Option<String>,
    /// Resident population, entered by an administrator (for 万人诉求比).
    pub population: Option<i64>,
}

/// An organisation unit (承办单位) in the tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Unit {
    pub id: i64,
    /// A stable code, unique, e.g. `D630102` for 城东区人民政府 or `CITY-ZJ` for 市住建局.
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub parent_id: Option<i64>,
    pub division_code: Option<String>,
    pub active: bool,
}

/// A unit to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUnit {
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub parent_id: Option<i64>,
    pub division_code: Option<String>,
}

/// A node of the 3-level category taxonomy (事项分类). Codes are hierarchical:
/// a child's code starts with its parent's (`03` → `0302` → `030201`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Category {
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    pub level: u8,
    /// The handling tier in days used when the dispatcher does not set one.
    pub default_tier: Option<u8>,
    pub active: bool,
}

/// A person who uses the system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub unit_id: Option<i64>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    /// Set after repeated wrong passwords: no password login until then.
    pub locked_until: Option<DateTime<Utc>>,
}

/// Checks a username: 2–32 characters of letters, digits, `.`, `_`, `-`.
pub fn validate_username(u: &str) -> Result<(), crate::DomainError> {
    let n = u.chars().count();
    if !(2..=32).contains(&n)
        || !u
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(crate::DomainError::invalid(
            "username",
            "must be 2 to 32 characters of letters, digits, '.', '_' or '-'",
        ));
    }
    Ok(())
}

/// Checks a password: at least 8 characters, at most 256.
pub fn validate_password(p: &str) -> Result<(), crate::DomainError> {
    let n = p.chars().count();
    if n < 8 {
        return Err(crate::DomainError::invalid(
            "password",
            "must be at least 8 characters",
        ));
    }
    if n > 256 {
        return Err(crate::DomainError::invalid(
            "password",
            "must be at most 256 characters",
        ));
    }
    Ok(())
}

/// A unit handler must be bound to a unit; no other role may be.
pub fn validate_role_unit(role: Role, unit_id: Option<i64>) -> Result<(), crate::DomainError> {
    match (role, unit_id) {
        (Role::UnitHandler, None) => Err(crate::DomainError::invalid(
            "unit",
            "a unit_handler must be bound to a unit",
        )),
        (r, Some(_)) if r != Role::UnitHandler => Err(crate::DomainError::invalid(
            "unit",
            format!("only a unit_handler is bound to a unit, not a {r}"),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_and_passwords() {
        assert!(validate_username("op.1").is_ok());
        assert!(validate_username("a").is_err());
        assert!(validate_username("张三").is_err());
        assert!(validate_password("short").is_err());
        assert!(validate_password("long enough").is_ok());
    }

    #[test]
    fn only_unit_handlers_have_units() {
        assert!(validate_role_unit(Role::UnitHandler, Some(1)).is_ok());
        assert!(validate_role_unit(Role::UnitHandler, None).is_err());
        assert!(validate_role_unit(Role::Operator, Some(1)).is_err());
        assert!(validate_role_unit(Role::Operator, None).is_ok());
    }
}
