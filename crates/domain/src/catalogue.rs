//! The dispatch catalogue (派单目录): which unit owns a matter, by category and place, at
//! the finest granularity known (最小颗粒度).
//!
//! An entry maps (category, division scope) → owning unit, valid from one date to another.
//! For a ticket, the entries whose category is the ticket's or one of its ancestors, whose
//! scope is the ticket's division or one of its ancestors (or the whole city), and that are
//! valid on the day, compete; the most specific wins:
//! 1. the more specific category (a level-3 matter before its level-2 group),
//! 2. then the smaller place (community before street before district before city),
//! 3. then the entry that took effect later, then the newer entry.
//!
//! The 2025 national guidance on 12345 hotlines forbids pushing a functional department's
//! duty down to streets and communities (职能部门职责事项不得派给街道社区): an entry for a
//! matter a functional department owns (`Ownership::Functional`) may not name a street
//! office or a community, and no entry may hand such a unit a matter that a wider entry
//! in force at the same time gives to a functional department.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::types::UnitKind;

/// Whose duty a matter is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Ownership {
    /// 职能部门职责: a department's statutory duty (licensing, law enforcement, a utility).
    Functional,
    /// 属地管理: the place's government handles it (a district, street office, community).
    Territorial,
}

impl Ownership {
    pub fn as_str(self) -> &'static str {
        match self {
            Ownership::Functional => "functional",
            Ownership::Territorial => "territorial",
        }
    }

    pub fn parse(s: &str) -> Option<Ownership> {
        match s.trim() {
            "functional" | "职能" | "职能部门" => Some(Ownership::Functional),
            "territorial" | "属地" | "属地管理" => Some(Ownership::Territorial),
            _ => None,
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Ownership::Functional => "职能部门事项",
            Ownership::Territorial => "属地事项",
        }
    }

    /// What an entry for a unit of this kind is, unless said otherwise.
    pub fn default_for(kind: UnitKind) -> Ownership {
        match kind {
            UnitKind::CityDepartment | UnitKind::Enterprise => Ownership::Functional,
            _ => Ownership::Territorial,
        }
    }
}

/// One catalogue entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CatalogueEntry {
    pub id: i64,
    /// A category at any level; the entry covers its sub-categories too.
    pub category_code: String,
    /// The place it covers (with everything inside); `None` for the whole city.
    pub division_code: Option<String>,
    pub unit_id: i64,
    pub ownership: Ownership,
    /// The handling tier for matters dispatched by this entry, if not the category's.
    pub tier: Option<u8>,
    pub valid_from: NaiveDate,
    /// The last day it applies; `None` while in force.
    pub valid_to: Option<NaiveDate>,
    pub note: String,
    /// Changes so far (1 when created).
    pub version: i64,
}

impl CatalogueEntry {
    /// Does it apply on this day?
    pub fn valid_on(&self, day: NaiveDate) -> bool {
        self.valid_from <= day && self.valid_to.is_none_or(|to| day <= to)
    }

    /// Do the two entries apply on some day in common?
    pub fn overlaps(&self, other: &CatalogueEntry) -> bool {
        let starts_before_other_ends = other.valid_to.is_none_or(|to| self.valid_from <= to);
        let other_starts_before_end = self.valid_to.is_none_or(|to| other.valid_from <= to);
        starts_before_other_ends && other_starts_before_end
    }
}

/// Where a ticket is, for matching: its category with its ancestors, its division with its
/// ancestors, each most specific first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Subject {
    /// e.g. `["030201", "0302", "03"]`.
    pub categories: Vec<String>,
    /// e.g. `["630104001003", "630104001", "630104", "630100"]`; empty if unknown.
    pub divisions: Vec<String>,
}

/// The entry that decides, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CatalogueMatch {
    pub entry: CatalogueEntry,
    /// How it beat the others, for the dispatcher (`分类 030201 · 范围 城西区 ...`).
    pub rule: String,
    /// Entries that also applied and lost, by id.
    pub outranked: Vec<i64>,
}

/// How specific an entry is for a subject, or `None` if it does not apply: (category
/// depth, place depth) where larger is more specific.
fn specificity(entry: &CatalogueEntry, subject: &Subject) -> Option<(usize, usize)> {
    let c = subject
        .categories
        .iter()
        .position(|c| *c == entry.category_code)?;
    let d = match &entry.division_code {
        None => 0,
        Some(code) => {
            let i = subject.divisions.iter().position(|d| d == code)?;
            subject.divisions.len() - i
        }
    };
    Some((subject.categories.len() - c, d))
}

/// The entry that owns the subject on this day.
pub fn resolve(
    entries: &[CatalogueEntry],
    subject: &Subject,
    day: NaiveDate,
) -> Option<CatalogueMatch> {
    let mut applying: Vec<(&CatalogueEntry, (usize, usize))> = entries
        .iter()
        .filter(|e| e.valid_on(day))
        .filter_map(|e| specificity(e, subject).map(|s| (e, s)))
        .collect();
    applying.sort_by(|(a, sa), (b, sb)| {
        sb.cmp(sa)
            .then(b.valid_from.cmp(&a.valid_from))
            .then(b.id.cmp(&a.id))
    });
    let (winner, (cat_depth, place_depth)) = applying.first().copied()?;
    let scope = match &winner.division_code {
        None => "全市".to_string(),
        Some(code) => format!("区划 {code}"),
    };
    let rule = format!(
        "目录条目 #{} · 分类 {} (第 {} 级) · 范围 {} (第 {} 级) · {} · 自 {} 起有效",
        winner.id,
        winner.category_code,
        cat_depth,
        scope,
        place_depth,
        winner.ownership.label_zh(),
        winner.valid_from
    );
    Some(CatalogueMatch {
        entry: winner.clone(),
        rule,
        outranked: applying.iter().skip(1).map(|(e, _)| e.id).collect(),
    })
}

/// Why an entry may not be saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A functional department's matter named a street office or a community.
    PushDown { unit_kind: UnitKind },
    /// A wider entry gives the matter to a functional department at the same time.
    PushDownUnder { entry_id: i64 },
    /// `valid_to` before `valid_from`.
    Dates,
    /// The same category and scope already has an entry for an overlapping period.
    Overlap { entry_id: i64 },
}

impl Refusal {
    /// The field it concerns, and a message for the administrator.
    pub fn explain(&self) -> (&'static str, String) {
        match self {
            Refusal::PushDown { unit_kind } => (
                "unit_id",
                format!(
                    "职能部门事项不得派给{}（2025 年热线规范：职能部门职责事项不得下沉街道社区）；\
                     a functional department's matter may not be given to a {}",
                    unit_kind.label_zh(),
                    unit_kind.as_str()
                ),
            ),
            Refusal::PushDownUnder { entry_id } => (
                "unit_id",
                format!(
                    "目录条目 #{entry_id} 把该事项定为职能部门事项，不得在其范围内改派街道或社区；\
                     entry #{entry_id} gives this matter to a functional department: it may not be pushed down to a street or community"
                ),
            ),
            Refusal::Dates => ("valid_to", "must not be before valid_from".to_string()),
            Refusal::Overlap { entry_id } => (
                "category_code",
                format!(
                    "entry #{entry_id} already covers this category and scope for part of this period; \
                     end it (valid_to) or edit it instead"
                ),
            ),
        }
    }
}

/// Checks an entry against the rules and the other entries (`others` may include the
/// entry's own stored version; it is skipped by id). `unit_kind` gives the kind of a unit
/// by id; `scope_chain` is the entry's division with its ancestors (empty for the whole
/// city); `category_chain` the entry's category with its ancestors.
pub fn check(
    entry: &CatalogueEntry,
    unit_kind: impl Fn(i64) -> Option<UnitKind>,
    category_chain: &[String],
    scope_chain: &[String],
    others: &[CatalogueEntry],
) -> Result<(), Refusal> {
    if entry.valid_to.is_some_and(|to| to < entry.valid_from) {
        return Err(Refusal::Dates);
    }
    let pushed_down =
        |kind: Option<UnitKind>| matches!(kind, Some(UnitKind::StreetOffice | UnitKind::Community));
    let kind = unit_kind(entry.unit_id);
    if entry.ownership == Ownership::Functional && pushed_down(kind) {
        return Err(Refusal::PushDown {
            unit_kind: kind.expect("a kind"),
        });
    }
    for other in others.iter().filter(|o| o.id != entry.id) {
        if other.category_code == entry.category_code
            && other.division_code == entry.division_code
            && other.overlaps(entry)
        {
            return Err(Refusal::Overlap { entry_id: other.id });
        }
    }
    if pushed_down(kind) {
        // A wider functional entry in force at the same time: its category is this one's
        // or an ancestor, its scope this one's or an ancestor's (or the city).
        let wider = others.iter().filter(|o| o.id != entry.id).find(|o| {
            o.ownership == Ownership::Functional
                && o.overlaps(entry)
                && category_chain.contains(&o.category_code)
                && match &o.division_code {
                    None => true,
                    Some(code) => scope_chain.contains(code),
                }
        });
        if let Some(w) = wider {
            return Err(Refusal::PushDownUnder { entry_id: w.id });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn entry(
        id: i64,
        category: &str,
        division: Option<&str>,
        unit: i64,
        ownership: Ownership,
    ) -> CatalogueEntry {
        CatalogueEntry {
            id,
            category_code: category.into(),
            division_code: division.map(str::to_string),
            unit_id: unit,
            ownership,
            tier: None,
            valid_from: day("2025-01-01"),
            valid_to: None,
            note: String::new(),
            version: 1,
        }
    }

    fn subject() -> Subject {
        Subject {
            categories: vec!["030201".into(), "0302".into(), "03".into()],
            divisions: vec![
                "630104001003".into(),
                "630104001".into(),
                "630104".into(),
                "630100".into(),
            ],
        }
    }

    // Units: 1 city department, 2 district government, 3 street office, 4 community.
    fn kind(id: i64) -> Option<UnitKind> {
        Some(match id {
            1 => UnitKind::CityDepartment,
            2 => UnitKind::DistrictGovernment,
            3 => UnitKind::StreetOffice,
            4 => UnitKind::Community,
            _ => return None,
        })
    }

    #[test]
    fn the_smallest_place_wins_for_the_same_category() {
        let entries = vec![
            entry(1, "030201", None, 1, Ownership::Territorial),
            entry(2, "030201", Some("630104"), 2, Ownership::Territorial),
            entry(3, "030201", Some("630104001"), 3, Ownership::Territorial),
        ];
        let m = resolve(&entries, &subject(), day("2026-05-01")).unwrap();
        assert_eq!(m.entry.id, 3);
        assert_eq!(m.outranked, vec![2, 1]);
        assert!(m.rule.contains("#3"), "{}", m.rule);
    }

    #[test]
    fn the_more_specific_category_wins_before_the_place() {
        let entries = vec![
            entry(1, "030201", None, 1, Ownership::Functional),
            entry(2, "03", Some("630104001003"), 4, Ownership::Territorial),
        ];
        assert_eq!(
            resolve(&entries, &subject(), day("2026-05-01"))
                .unwrap()
                .entry
                .id,
            1
        );
    }

    #[test]
    fn entries_elsewhere_or_for_other_matters_do_not_apply() {
        let entries = vec![
            entry(1, "030202", None, 1, Ownership::Functional),
            entry(2, "0302", Some("630102"), 2, Ownership::Territorial),
        ];
        assert!(resolve(&entries, &subject(), day("2026-05-01")).is_none());
        // An unknown place: only city-wide entries apply.
        let entries = vec![
            entry(1, "0302", None, 1, Ownership::Functional),
            entry(2, "030201", Some("630104"), 2, Ownership::Territorial),
        ];
        let nowhere = Subject {
            divisions: Vec::new(),
            ..subject()
        };
        assert_eq!(
            resolve(&entries, &nowhere, day("2026-05-01"))
                .unwrap()
                .entry
                .id,
            1
        );
    }

    #[test]
    fn validity_dates_decide_which_entry_is_in_force() {
        let mut old = entry(1, "030201", Some("630104"), 2, Ownership::Territorial);
        old.valid_to = Some(day("2025-12-31"));
        let mut new = entry(2, "030201", Some("630104"), 1, Ownership::Functional);
        new.valid_from = day("2026-01-01");
        let entries = vec![old, new];
        assert_eq!(
            resolve(&entries, &subject(), day("2025-12-31"))
                .unwrap()
                .entry
                .id,
            1
        );
        assert_eq!(
            resolve(&entries, &subject(), day("2026-01-01"))
                .unwrap()
                .entry
                .id,
            2
        );
        assert!(resolve(&entries, &subject(), day("2024-06-01")).is_none());
    }

    #[test]
    fn a_later_start_then_a_newer_entry_break_ties() {
        let mut a = entry(1, "030201", Some("630104"), 2, Ownership::Territorial);
        a.valid_from = day("2026-03-01");
        let b = entry(2, "030201", Some("630104"), 1, Ownership::Functional);
        assert_eq!(
            resolve(&[a.clone(), b.clone()], &subject(), day("2026-05-01"))
                .unwrap()
                .entry
                .id,
            1
        );
        a.valid_from = b.valid_from;
        assert_eq!(
            resolve(&[a, b], &subject(), day("2026-05-01"))
                .unwrap()
                .entry
                .id,
            2
        );
    }

    #[test]
    fn a_functional_matter_is_not_given_to_a_street_or_community() {
        for unit in [3, 4] {
            let e = entry(10, "030201", Some("630104001"), unit, Ownership::Functional);
            let r = check(
                &e,
                kind,
                &subject().categories,
                &subject().divisions[1..],
                &[],
            );
            assert!(matches!(r, Err(Refusal::PushDown { .. })), "{r:?}");
            let (field, message) = r.unwrap_err().explain();
            assert_eq!(field, "unit_id");
            assert!(message.contains("不得"), "{message}");
        }
        for unit in [1, 2] {
            let e = entry(10, "030201", Some("630104001"), unit, Ownership::Functional);
            assert_eq!(
                check(
                    &e,
                    kind,
                    &subject().categories,
                    &subject().divisions[1..],
                    &[]
                ),
                Ok(())
            );
        }
    }

    #[test]
    fn no_entry_pushes_down_what_a_wider_entry_gives_a_department() {
        let city = entry(1, "0302", None, 1, Ownership::Functional);
        let street = entry(2, "030201", Some("630104001"), 3, Ownership::Territorial);
        let r = check(
            &street,
            kind,
            &subject().categories,
            &subject().divisions[1..],
            std::slice::from_ref(&city),
        );
        assert_eq!(r, Err(Refusal::PushDownUnder { entry_id: 1 }));
        // To the district government, it may be handed (not a street or community).
        let district = entry(3, "030201", Some("630104"), 2, Ownership::Territorial);
        assert_eq!(
            check(
                &district,
                kind,
                &subject().categories,
                &subject().divisions[2..],
                std::slice::from_ref(&city)
            ),
            Ok(())
        );
        // A territorial city-wide entry lets the street have it.
        let mut territorial = city.clone();
        territorial.ownership = Ownership::Territorial;
        assert_eq!(
            check(
                &street,
                kind,
                &subject().categories,
                &subject().divisions[1..],
                &[territorial]
            ),
            Ok(())
        );
        // Nor does a functional entry that has ended, or one elsewhere.
        let mut ended = city.clone();
        ended.valid_to = Some(day("2024-12-31"));
        assert_eq!(
            check(
                &street,
                kind,
                &subject().categories,
                &subject().divisions[1..],
                &[ended]
            ),
            Ok(())
        );
        let elsewhere = entry(4, "0302", Some("630102"), 1, Ownership::Functional);
        assert_eq!(
            check(
                &street,
                kind,
                &subject().categories,
                &subject().divisions[1..],
                &[elsewhere]
            ),
            Ok(())
        );
    }

    #[test]
    fn one_entry_per_category_scope_and_period() {
        let a = entry(1, "030201", Some("630104"), 2, Ownership::Territorial);
        let b = entry(2, "030201", Some("630104"), 1, Ownership::Functional);
        assert_eq!(
            check(
                &b,
                kind,
                &subject().categories,
                &subject().divisions[2..],
                std::slice::from_ref(&a)
            ),
            Err(Refusal::Overlap { entry_id: 1 })
        );
        // Editing an entry does not clash with itself.
        assert_eq!(
            check(
                &a,
                kind,
                &subject().categories,
                &subject().divisions[2..],
                std::slice::from_ref(&a)
            ),
            Ok(())
        );
        // One after the other is fine.
        let mut ended = a.clone();
        ended.valid_to = Some(day("2025-12-31"));
        let mut next = b.clone();
        next.valid_from = day("2026-01-01");
        assert_eq!(
            check(
                &next,
                kind,
                &subject().categories,
                &subject().divisions[2..],
                &[ended]
            ),
            Ok(())
        );
    }

    #[test]
    fn dates_must_run_forward() {
        let mut e = entry(1, "030201", None, 1, Ownership::Functional);
        e.valid_to = Some(day("2024-01-01"));
        assert_eq!(check(&e, kind, &[], &[], &[]), Err(Refusal::Dates));
    }

    #[test]
    fn ownership_reads_both_languages_and_defaults_by_unit_kind() {
        assert_eq!(Ownership::parse("属地"), Some(Ownership::Territorial));
        assert_eq!(Ownership::parse("functional"), Some(Ownership::Functional));
        assert_eq!(Ownership::parse("?"), None);
        assert_eq!(
            Ownership::default_for(UnitKind::CityDepartment),
            Ownership::Functional
        );
        assert_eq!(
            Ownership::default_for(UnitKind::StreetOffice),
            Ownership::Territorial
        );
    }
}
