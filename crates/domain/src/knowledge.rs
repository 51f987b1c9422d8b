//! The knowledge base (知识库): answers an operator can give at once (直接办结), each with
//! where it comes from, the matter it is about, the unit that keeps it right, and the days
//! it holds for. Articles are versioned: every change is kept by the store.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::DomainError;

/// Longest question, in characters.
pub const MAX_QUESTION: usize = 300;
/// Longest answer, in characters.
pub const MAX_ANSWER: usize = 10_000;
/// Longest source, in characters.
pub const MAX_SOURCE: usize = 300;
/// Most keywords on one article.
pub const MAX_KEYWORDS: usize = 20;

/// One article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Article {
    pub id: i64,
    /// How a citizen would ask it.
    pub question: String,
    /// What the operator tells them.
    pub answer: String,
    /// The matter it is about (any level), if one.
    pub category_code: Option<String>,
    /// Where the answer comes from: a regulation, a unit's notice, a web page.
    pub source: String,
    /// Other ways of saying it (synonyms, local words), searched with the question.
    pub keywords: Vec<String>,
    /// The unit that keeps it right.
    pub owner_unit_id: Option<i64>,
    /// First day the answer holds; `None` since always.
    pub valid_from: Option<NaiveDate>,
    /// Last day it holds; `None` while in force.
    pub valid_to: Option<NaiveDate>,
    /// Written for the demo, not taken from any authority.
    pub demo: bool,
    pub version: i64,
}

impl Article {
    /// Whether the answer holds on `day`.
    pub fn in_force(&self, day: NaiveDate) -> bool {
        self.valid_from.is_none_or(|f| f <= day) && self.valid_to.is_none_or(|t| day <= t)
    }

    /// Trims the text fields and checks every rule, naming the field that breaks one.
    pub fn normalized(mut self) -> Result<Article, DomainError> {
        self.question = self.question.trim().to_string();
        self.answer = self.answer.trim().to_string();
        self.source = self.source.trim().to_string();
        self.category_code = self
            .category_code
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty());
        let mut keywords: Vec<String> = Vec::new();
        for k in self.keywords.iter().map(|k| k.trim()) {
            if !k.is_empty() && !keywords.iter().any(|seen| seen == k) {
                keywords.push(k.to_string());
            }
        }
        self.keywords = keywords;
        check_text("question", &self.question, MAX_QUESTION)?;
        check_text("answer", &self.answer, MAX_ANSWER)?;
        check_text("source", &self.source, MAX_SOURCE)?;
        if self.keywords.len() > MAX_KEYWORDS {
            return Err(DomainError::invalid(
                "keywords",
                format!("at most {MAX_KEYWORDS} keywords"),
            ));
        }
        if let Some(k) = self.keywords.iter().find(|k| k.chars().count() > 50) {
            return Err(DomainError::invalid(
                "keywords",
                format!("`{k}` is longer than 50 characters"),
            ));
        }
        if let (Some(from), Some(to)) = (self.valid_from, self.valid_to)
            && to < from
        {
            return Err(DomainError::invalid(
                "valid_to",
                format!("the last day {to} is before the first day {from}"),
            ));
        }
        Ok(self)
    }
}

fn check_text(field: &str, value: &str, max: usize) -> Result<(), DomainError> {
    if value.is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    let n = value.chars().count();
    if n > max {
        return Err(DomainError::invalid(
            field,
            format!("is {n} characters long; at most {max}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article() -> Article {
        Article {
            id: 0,
            question: " 茶叶渣属于什么垃圾？ ".into(),
            answer: "厨余垃圾。".into(),
            category_code: Some(" ".into()),
            source: "演示".into(),
            keywords: vec!["茶渣".into(), " 茶渣 ".into(), "".into(), "茶叶".into()],
            owner_unit_id: None,
            valid_from: None,
            valid_to: None,
            demo: true,
            version: 0,
        }
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn normalizing_trims_and_drops_blank_and_repeated_keywords() {
        let a = article().normalized().unwrap();
        assert_eq!(a.question, "茶叶渣属于什么垃圾？");
        assert_eq!(a.category_code, None);
        assert_eq!(a.keywords, vec!["茶渣".to_string(), "茶叶".to_string()]);
    }

    #[test]
    fn each_rule_names_its_field() {
        let field = |a: Article| match a.normalized() {
            Err(DomainError::Invalid { field, .. }) => field,
            other => panic!("expected a refusal, got {other:?}"),
        };
        assert_eq!(
            field(Article {
                question: "  ".into(),
                ..article()
            }),
            "question"
        );
        assert_eq!(
            field(Article {
                answer: String::new(),
                ..article()
            }),
            "answer"
        );
        assert_eq!(
            field(Article {
                source: "x".repeat(MAX_SOURCE + 1),
                ..article()
            }),
            "source"
        );
        assert_eq!(
            field(Article {
                answer: "答".repeat(MAX_ANSWER + 1),
                ..article()
            }),
            "answer"
        );
        assert_eq!(
            field(Article {
                keywords: (0..=MAX_KEYWORDS).map(|i| format!("k{i}")).collect(),
                ..article()
            }),
            "keywords"
        );
        assert_eq!(
            field(Article {
                keywords: vec!["长".repeat(51)],
                ..article()
            }),
            "keywords"
        );
        assert_eq!(
            field(Article {
                valid_from: Some(day("2026-05-01")),
                valid_to: Some(day("2026-04-30")),
                ..article()
            }),
            "valid_to"
        );
    }

    #[test]
    fn in_force_includes_both_ends() {
        let a = Article {
            valid_from: Some(day("2026-01-01")),
            valid_to: Some(day("2026-12-31")),
            ..article()
        };
        assert!(!a.in_force(day("2025-12-31")));
        assert!(a.in_force(day("2026-01-01")));
        assert!(a.in_force(day("2026-12-31")));
        assert!(!a.in_force(day("2027-01-01")));
        assert!(article().in_force(day("1999-01-01")));
    }
}
