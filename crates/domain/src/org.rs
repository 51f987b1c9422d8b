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
    /// What the category covers, in a sentence (administrators write it; the classifier
    /// learns from it, so that a new city's suggestions work from its first request).
    #[serde(default)]
    pub description: String,
    /// The words citizens use for this matter (`下水道`, `返水`, `化粪池`): learned like the
    /// description.
    #[serde(default)]
    pub keywords: Vec<String>,
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

/// A unit handler or a grid worker must be bound to a unit, a grid worker to a community
/// (`unit` is the unit named, when it exists); no other role may be bound to one.
pub fn validate_role_unit(
    role: Role,
    unit_id: Option<i64>,
    unit: Option<&Unit>,
) -> Result<(), crate::DomainError> {
    match (role, unit_id) {
        (r, None) if r.bound_to_unit() => Err(crate::DomainError::invalid(
            "unit",
            format!("a {r} must be bound to a unit"),
        )),
        (r, Some(_)) if !r.bound_to_unit() => Err(crate::DomainError::invalid(
            "unit",
            format!("only a unit_handler or a grid_worker is bound to a unit, not a {r}"),
        )),
        (_, Some(id)) if unit.is_none() => Err(crate::DomainError::invalid(
            "unit",
            format!("unit {id} does not exist"),
        )),
        (Role::GridWorker, Some(_)) if unit.is_some_and(|u| u.kind != UnitKind::Community) => {
            Err(crate::DomainError::invalid(
                "unit",
                "a grid_worker works in a community (居委会/村委会): bind them to a unit of kind community",
            ))
        }
        _ => Ok(()),
    }
}

/// Every unit below `unit_id` in the organisation, at any depth, active or not (a cycle in
/// bad data ends the walk): a unit's territory (属地), whose work counts in its figures.
pub fn units_under<'u>(units: impl IntoIterator<Item = &'u Unit>, unit_id: i64) -> Vec<i64> {
    let units: Vec<&Unit> = units.into_iter().collect();
    let mut under = Vec::new();
    let mut frontier = vec![unit_id];
    while let Some(parent) = frontier.pop() {
        for u in units.iter().filter(|u| u.parent_id == Some(parent)) {
            if u.id != unit_id && !under.contains(&u.id) {
                under.push(u.id);
                frontier.push(u.id);
            }
        }
    }
    under.sort_unstable();
    under
}

/// The active units a unit holding a ticket may call to the spot (吹哨报到): a street
/// office calls the city's departments and public enterprises and the departments of its
/// district (the district government's units that are not street offices); other units
/// call none.
pub fn summonable<'u>(units: impl IntoIterator<Item = &'u Unit>, holder: i64) -> Vec<i64> {
    let units: Vec<&Unit> = units.into_iter().collect();
    let Some(street) = units
        .iter()
        .find(|u| u.id == holder && u.kind == UnitKind::StreetOffice)
    else {
        return Vec::new();
    };
    let mut called: Vec<i64> = units
        .iter()
        .filter(|u| u.active && u.id != holder)
        .filter(|u| {
            matches!(u.kind, UnitKind::CityDepartment | UnitKind::Enterprise)
                || (street.parent_id.is_some()
                    && u.parent_id == street.parent_id
                    && !matches!(u.kind, UnitKind::StreetOffice | UnitKind::Community))
        })
        .map(|u| u.id)
        .collect();
    called.sort_unstable();
    called
}

/// The active units below `unit_id` in the organisation, at any depth: a district
/// government's street offices (and their communities) and departments, a department's
/// sub-units. Where a unit may forward a ticket (分级转办). An inactive unit's active units
/// are still below.
pub fn units_below<'u>(units: impl IntoIterator<Item = &'u Unit>, unit_id: i64) -> Vec<i64> {
    let units: Vec<&Unit> = units.into_iter().collect();
    units_under(units.iter().copied(), unit_id)
        .into_iter()
        .filter(|id| units.iter().any(|u| u.id == *id && u.active))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(id: i64, parent_id: Option<i64>, active: bool) -> Unit {
        Unit {
            id,
            code: format!("U{id}"),
            name: format!("unit {id}"),
            kind: UnitKind::StreetOffice,
            parent_id,
            division_code: None,
            active,
        }
    }

    #[test]
    fn units_below_take_every_depth_and_only_active_units() {
        // 1 district → 2, 3 streets → 4, 5 communities of 2 (5 inactive) → 6 under 5;
        // 7 another district; 8 ↔ 9 a cycle.
        let units = [
            unit(1, None, true),
            unit(2, Some(1), true),
            unit(3, Some(1), true),
            unit(4, Some(2), true),
            unit(5, Some(2), false),
            unit(6, Some(5), true),
            unit(7, None, true),
            unit(8, Some(9), true),
            unit(9, Some(8), true),
        ];
        assert_eq!(units_below(&units, 1), vec![2, 3, 4, 6]);
        assert_eq!(units_below(&units, 2), vec![4, 6]);
        assert_eq!(units_below(&units, 4), Vec::<i64>::new());
        assert_eq!(units_below(&units, 7), Vec::<i64>::new());
        assert_eq!(units_below(&units, 8), vec![9]);
        // A territory keeps its inactive units: their past work still counts.
        assert_eq!(units_under(&units, 2), vec![4, 5, 6]);
    }

    #[test]
    fn a_street_office_calls_departments_and_nobody_else_calls() {
        let mut units = vec![
            unit(1, None, true),    // a district government
            unit(2, Some(1), true), // its street office
            unit(3, Some(2), true), // a community
            unit(4, None, true),    // a city department
            unit(5, Some(1), true), // a district department
            unit(6, None, false),   // an inactive city department
            unit(7, None, true),    // a public enterprise
        ];
        units[0].kind = UnitKind::DistrictGovernment;
        units[2].kind = UnitKind::Community;
        units[3].kind = UnitKind::CityDepartment;
        units[4].kind = UnitKind::CityDepartment;
        units[5].kind = UnitKind::CityDepartment;
        units[6].kind = UnitKind::Enterprise;
        assert_eq!(summonable(&units, 2), vec![4, 5, 7]);
        assert_eq!(summonable(&units, 1), Vec::<i64>::new());
        assert_eq!(summonable(&units, 3), Vec::<i64>::new());
    }

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
        let street = Unit {
            id: 1,
            code: "S1".into(),
            name: "八一路街道".into(),
            kind: UnitKind::StreetOffice,
            parent_id: None,
            division_code: None,
            active: true,
        };
        let community = Unit {
            id: 2,
            kind: UnitKind::Community,
            ..street.clone()
        };
        assert!(validate_role_unit(Role::UnitHandler, Some(1), Some(&street)).is_ok());
        assert!(validate_role_unit(Role::UnitHandler, None, None).is_err());
        assert!(validate_role_unit(Role::UnitHandler, Some(5), None).is_err());
        assert!(validate_role_unit(Role::Operator, Some(1), Some(&street)).is_err());
        assert!(validate_role_unit(Role::Operator, None, None).is_ok());
        assert!(validate_role_unit(Role::GridWorker, None, None).is_err());
        assert!(validate_role_unit(Role::GridWorker, Some(2), Some(&community)).is_ok());
        let e = validate_role_unit(Role::GridWorker, Some(1), Some(&street)).unwrap_err();
        assert!(e.to_string().contains("community"), "{e}");
    }
}
