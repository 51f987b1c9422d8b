//! Typical cases (典型案例, 以宣促建): a closed ticket's handling written up without personal
//! data and published on the portal.
//!
//! An editor (a user with `edit_cases`: the hotline's supervisors, who also do its publicity)
//! marks a closed ticket; the system drafts the case (anonymised, places to the street); the
//! editor revises it and submits it; a leader (`approve_cases`: the analyst role, 领导)
//! approves it, which publishes it, or returns it with a note. A published case can be taken
//! down (with the reason) by either; revising it makes it a draft again. Every step is kept
//! in the case's history.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// Being written; not public.
    Draft,
    /// Waiting for a leader's approval.
    Submitted,
    /// On the portal.
    Published,
    /// Taken down; its history stays.
    Unpublished,
}

impl CaseState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Submitted => "submitted",
            Self::Published => "published",
            Self::Unpublished => "unpublished",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Draft,
            Self::Submitted,
            Self::Published,
            Self::Unpublished,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }

    /// In Chinese, for the console.
    pub fn zh(self) -> &'static str {
        match self {
            Self::Draft => "草稿",
            Self::Submitted => "待审核",
            Self::Published => "已发布",
            Self::Unpublished => "已撤下",
        }
    }
}

/// One personal datum the drafting took out, shown to the editor (never published).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CaseRemoval {
    /// Which text it was in: `request`, `handling` or `result`.
    pub field: String,
    /// `name`, `phone`, `id_card`, `plate`, `house`, `email`, `account` or `place`.
    pub kind: String,
    pub original: String,
    pub replacement: String,
}

/// The texts of a case an editor writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CaseText {
    /// A headline for the portal.
    pub title: String,
    /// What the citizen asked, without personal data.
    pub request: String,
    /// What the unit did.
    pub handling: String,
    /// How it ended, and what the citizen said when called back.
    pub result: String,
}

/// Longest text of each part, in characters.
pub const TITLE_MAX: usize = 100;
pub const PART_MAX: usize = 5_000;

impl CaseText {
    /// Checks the lengths, and that a case to submit says something in each part.
    pub fn check(&self, complete: bool) -> Result<(), DomainError> {
        for (field, text, max) in [
            ("title", &self.title, TITLE_MAX),
            ("request", &self.request, PART_MAX),
            ("handling", &self.handling, PART_MAX),
            ("result", &self.result, PART_MAX),
        ] {
            let n = text.chars().count();
            if n > max {
                return Err(DomainError::invalid(
                    field,
                    format!("at most {max} characters"),
                ));
            }
            if complete && text.trim().is_empty() {
                return Err(DomainError::invalid(
                    field,
                    "a case is submitted with every part written",
                ));
            }
        }
        Ok(())
    }
}

/// A typical case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TypicalCase {
    pub id: i64,
    pub version: i64,
    pub ticket_id: i64,
    pub state: CaseState,
    #[serde(flatten)]
    pub text: CaseText,
    /// The category and the street (or district) it is filed under on the portal.
    pub category_code: Option<String>,
    pub division_code: Option<String>,
    /// The unit that handled it (the ticket's lead unit): told when it is published.
    pub unit_id: Option<i64>,
    /// What the drafting took out, for the editor.
    pub removed: Vec<CaseRemoval>,
    /// The last step's note: why it was returned or taken down.
    pub note: Option<String>,
    pub drafted_by: i64,
    pub drafted_at: DateTime<Utc>,
    /// Who submitted it last, and who approved it.
    pub submitted_by: Option<i64>,
    pub approved_by: Option<i64>,
    pub published_at: Option<DateTime<Utc>>,
}

/// A step of a case's life after it is drafted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseStep {
    /// An editor rewrites it (a published or taken-down case becomes a draft again).
    Revise(CaseText),
    /// An editor asks for approval.
    Submit,
    /// A leader sends it back with a note.
    Return { note: String },
    /// A leader approves it: it is published.
    Approve,
    /// An editor or a leader takes it down, with the reason.
    Unpublish { reason: String },
}

impl CaseStep {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Revise(_) => "revise",
            Self::Submit => "submit",
            Self::Return { .. } => "return",
            Self::Approve => "approve",
            Self::Unpublish { .. } => "unpublish",
        }
    }

    /// Whether the step is an editor's (`edit_cases`) or a leader's (`approve_cases`);
    /// taking a case down is either's.
    pub fn by_editor(&self) -> bool {
        matches!(
            self,
            Self::Revise(_) | Self::Submit | Self::Unpublish { .. }
        )
    }

    pub fn by_leader(&self) -> bool {
        matches!(
            self,
            Self::Return { .. } | Self::Approve | Self::Unpublish { .. }
        )
    }
}

fn note(field: &str, text: &str) -> Result<String, DomainError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(DomainError::invalid(field, "say why"));
    }
    if t.chars().count() > 1_000 {
        return Err(DomainError::invalid(field, "at most 1000 characters"));
    }
    Ok(t.to_string())
}

/// Takes a step; the case as it then is, or why not (nothing changes).
pub fn step(
    case: &TypicalCase,
    step: CaseStep,
    user_id: i64,
    at: DateTime<Utc>,
) -> Result<TypicalCase, DomainError> {
    use CaseState::*;
    let refuse = || DomainError::Refused {
        code: "case_state",
        message: format!(
            "a case that is {} cannot be given the step `{}`",
            case.state.as_str(),
            step.name()
        ),
    };
    let mut next = case.clone();
    match (case.state, step.clone()) {
        (Draft | Submitted | Published | Unpublished, CaseStep::Revise(text)) => {
            text.check(false)?;
            next.text = text;
            next.state = Draft;
            if case.state == Published {
                next.published_at = None;
            }
        }
        (Draft, CaseStep::Submit) => {
            case.text.check(true)?;
            next.state = Submitted;
            next.submitted_by = Some(user_id);
            next.note = None;
        }
        (Submitted, CaseStep::Return { note: n }) => {
            next.note = Some(note("note", &n)?);
            next.state = Draft;
        }
        (Submitted, CaseStep::Approve) => {
            case.text.check(true)?;
            next.state = Published;
            next.approved_by = Some(user_id);
            next.published_at = Some(at);
            next.note = None;
        }
        (Published, CaseStep::Unpublish { reason }) => {
            next.note = Some(note("reason", &reason)?);
            next.state = Unpublished;
        }
        _ => return Err(refuse()),
    }
    Ok(next)
}

/// The division a case is filed under: the ticket's, cut to its street (9 digits) or
/// coarser — a published case names no community.
pub fn street_level(division_code: Option<&str>) -> Option<String> {
    let code = crate::DivisionCode::new(division_code?);
    Some(code.street().unwrap_or(code.as_str()).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn case(state: CaseState) -> TypicalCase {
        TypicalCase {
            id: 1,
            version: 1,
            ticket_id: 7,
            state,
            text: CaseText {
                title: "路灯修好了".into(),
                request: "某小区门口路灯不亮".into(),
                handling: "当天更换灯具".into(),
                result: "已解决，满意".into(),
            },
            category_code: Some("0104".into()),
            division_code: Some("630102002".into()),
            unit_id: Some(3),
            removed: vec![],
            note: None,
            drafted_by: 5,
            drafted_at: Utc.with_ymd_and_hms(2026, 3, 1, 2, 0, 0).unwrap(),
            submitted_by: None,
            approved_by: None,
            published_at: None,
        }
    }

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 2, 0, 0).unwrap()
    }

    #[test]
    fn a_draft_is_submitted_approved_and_taken_down() {
        let c = step(&case(CaseState::Draft), CaseStep::Submit, 5, at()).unwrap();
        assert_eq!(c.state, CaseState::Submitted);
        assert_eq!(c.submitted_by, Some(5));
        let c = step(&c, CaseStep::Approve, 9, at()).unwrap();
        assert_eq!(c.state, CaseState::Published);
        assert_eq!(c.approved_by, Some(9));
        assert_eq!(c.published_at, Some(at()));
        let c = step(
            &c,
            CaseStep::Unpublish {
                reason: " 当事人要求 ".into(),
            },
            9,
            at(),
        )
        .unwrap();
        assert_eq!(c.state, CaseState::Unpublished);
        assert_eq!(c.note.as_deref(), Some("当事人要求"));
    }

    #[test]
    fn a_returned_case_is_a_draft_with_the_note() {
        let c = step(
            &case(CaseState::Submitted),
            CaseStep::Return {
                note: "结果写具体些".into(),
            },
            9,
            at(),
        )
        .unwrap();
        assert_eq!(c.state, CaseState::Draft);
        assert_eq!(c.note.as_deref(), Some("结果写具体些"));
        assert!(
            step(
                &case(CaseState::Submitted),
                CaseStep::Return { note: " ".into() },
                9,
                at()
            )
            .is_err()
        );
    }

    #[test]
    fn steps_out_of_turn_are_refused() {
        for (state, s) in [
            (CaseState::Draft, CaseStep::Approve),
            (CaseState::Published, CaseStep::Approve),
            (CaseState::Published, CaseStep::Submit),
            (CaseState::Draft, CaseStep::Unpublish { reason: "x".into() }),
            (CaseState::Unpublished, CaseStep::Submit),
        ] {
            let err = step(&case(state), s, 1, at()).unwrap_err();
            assert!(
                matches!(
                    err,
                    DomainError::Refused {
                        code: "case_state",
                        ..
                    }
                ),
                "{err:?}"
            );
        }
    }

    #[test]
    fn an_empty_part_is_not_submitted() {
        let mut c = case(CaseState::Draft);
        c.text.result = "  ".into();
        let err = step(&c, CaseStep::Submit, 5, at()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "result: a case is submitted with every part written"
        );
    }

    #[test]
    fn revising_a_published_case_takes_it_off_the_portal() {
        let mut c = case(CaseState::Published);
        c.published_at = Some(at());
        let text = CaseText {
            title: "新标题".into(),
            ..c.text.clone()
        };
        let c = step(&c, CaseStep::Revise(text), 5, at()).unwrap();
        assert_eq!(c.state, CaseState::Draft);
        assert_eq!(c.published_at, None);
        assert_eq!(c.text.title, "新标题");
    }

    #[test]
    fn a_case_names_its_street_not_its_community() {
        assert_eq!(
            street_level(Some("630102002003")).as_deref(),
            Some("630102002")
        );
        assert_eq!(street_level(Some("630102")).as_deref(), Some("630102"));
        assert_eq!(street_level(None), None);
    }
}
