//! The knowledge base (知识库) as the hotline keeps it: articles checked against the
//! organisation, saved with their history, searched in Chinese (the search index is rebuilt
//! when the base changes, on every instance), and proposed with the suggestions.

use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use mashangban_domain::Actor;
use mashangban_domain::knowledge::Article;
pub use mashangban_search::KnowledgeQuery;
use mashangban_search::{KnowledgeHit, KnowledgeIndex};
pub use mashangban_store::KnowledgeChange;
use mashangban_store::KnowledgeWrite;
use serde::{Deserialize, Serialize};

use crate::{App, AppError};

/// An article as an editor gives it (new without `version`; an edit names the version it
/// was read at).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleInput {
    #[serde(default)]
    pub version: Option<i64>,
    pub question: String,
    pub answer: String,
    #[serde(default)]
    pub category_code: Option<String>,
    pub source: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub owner_unit_id: Option<i64>,
    #[serde(default)]
    pub valid_from: Option<NaiveDate>,
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
    /// Written for a demonstration, not from any authority.
    #[serde(default)]
    pub demo: bool,
}

/// An article found, with how well it matched.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KnowledgeMatch {
    pub id: i64,
    pub question: String,
    pub answer: String,
    pub category_code: Option<String>,
    pub source: String,
    pub demo: bool,
    /// Relevance (BM25, higher is better).
    pub score: f32,
    /// For an answer offered with the suggestions: how alike the text and the article's
    /// question and keywords are (the classifier's TF-IDF of characters and pairs, 0..1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relevance: Option<f32>,
}

impl From<KnowledgeHit> for KnowledgeMatch {
    fn from(h: KnowledgeHit) -> Self {
        KnowledgeMatch {
            id: h.article.id,
            question: h.article.question,
            answer: h.article.answer,
            category_code: h.article.category_code,
            source: h.article.source,
            demo: h.article.demo,
            score: (h.score * 1000.0).round() / 1000.0,
            relevance: None,
        }
    }
}

/// The knowledge index in force, with the stamp of the base it was built from.
pub(crate) type KnowledgeCache = Option<(std::time::Instant, i64, Arc<KnowledgeIndex>)>;

use mashangban_domain::permission::may_edit_article as may_edit;

impl App {
    /// Every article, ended ones included, by id.
    pub async fn knowledge(&self, _actor: &Actor) -> Result<Vec<Article>, AppError> {
        Ok(self.store.knowledge().await?)
    }

    /// One article.
    pub async fn article(&self, _actor: &Actor, id: i64) -> Result<Article, AppError> {
        self.store
            .knowledge()
            .await?
            .into_iter()
            .find(|a| a.id == id)
            .ok_or_else(|| AppError::NotFound(format!("knowledge article {id} not found")))
    }

    /// Changes, newest first, of one article or of all.
    pub async fn knowledge_history(
        &self,
        _actor: &Actor,
        article_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<KnowledgeChange>, AppError> {
        Ok(self.store.knowledge_history(article_id, limit).await?)
    }

    /// The article an input describes, checked against the rules and the organisation.
    async fn article_from(&self, id: i64, input: ArticleInput) -> Result<Article, AppError> {
        let r = self.reference().await?;
        let article = Article {
            id,
            question: input.question,
            answer: input.answer,
            category_code: input.category_code,
            source: input.source,
            keywords: input.keywords,
            owner_unit_id: input.owner_unit_id,
            valid_from: input.valid_from,
            valid_to: input.valid_to,
            demo: input.demo,
            version: input.version.unwrap_or(0),
        }
        .normalized()?;
        if let Some(c) = &article.category_code
            && !r.categories.contains_key(c)
        {
            return Err(AppError::invalid(
                "category_code",
                format!("`{c}` is not a category"),
            ));
        }
        if let Some(u) = article.owner_unit_id
            && !r.units.contains_key(&u)
        {
            return Err(AppError::invalid(
                "owner_unit_id",
                format!("unit {u} does not exist"),
            ));
        }
        Ok(article)
    }

    /// Adds an article (`id` None) or edits one at the version read.
    pub async fn save_article(
        &self,
        actor: &Actor,
        id: Option<i64>,
        input: ArticleInput,
    ) -> Result<Article, AppError> {
        let article = self.article_from(id.unwrap_or(0), input.clone()).await?;
        if let Some(id) = id {
            if input.version.is_none() {
                return Err(AppError::invalid(
                    "version",
                    "an edit names the version it was read at",
                ));
            }
            let stored = self.article(actor, id).await?;
            if !may_edit(actor, stored.owner_unit_id) {
                return Err(AppError::Forbidden(
                    "only administrators, or the owning unit's handlers, may edit this article"
                        .into(),
                ));
            }
        }
        if !may_edit(actor, article.owner_unit_id) {
            return Err(AppError::Forbidden(
                "only administrators, or a unit's handlers for their own unit's articles, may write articles"
                    .into(),
            ));
        }
        let saved = self
            .store
            .write_knowledge(
                vec![KnowledgeWrite::Save(article)],
                actor.user_id,
                Utc::now(),
            )
            .await?;
        self.forget_knowledge();
        saved
            .into_iter()
            .next()
            .ok_or_else(|| AppError::Internal("a saved article came back empty".into()))
    }

    /// Deletes an article at the version read (its history stays; ending it with `valid_to`
    /// keeps it findable for past cases).
    pub async fn delete_article(
        &self,
        actor: &Actor,
        id: i64,
        version: i64,
    ) -> Result<(), AppError> {
        let stored = self.article(actor, id).await?;
        if !may_edit(actor, stored.owner_unit_id) {
            return Err(AppError::Forbidden(
                "only administrators, or the owning unit's handlers, may delete this article"
                    .into(),
            ));
        }
        self.store
            .write_knowledge(
                vec![KnowledgeWrite::Delete { id, version }],
                actor.user_id,
                Utc::now(),
            )
            .await?;
        self.forget_knowledge();
        Ok(())
    }

    /// Adds articles in one go, all or none (the demo's set, an import).
    pub async fn add_articles(
        &self,
        user_id: i64,
        inputs: Vec<ArticleInput>,
    ) -> Result<Vec<Article>, AppError> {
        let mut writes = Vec::with_capacity(inputs.len());
        for (i, input) in inputs.into_iter().enumerate() {
            let a = self.article_from(0, input).await.map_err(|e| match e {
                AppError::Invalid { field, message } => AppError::Invalid {
                    field: format!("[{i}].{field}"),
                    message,
                },
                other => other,
            })?;
            writes.push(KnowledgeWrite::Save(a));
        }
        let saved = self
            .store
            .write_knowledge(writes, user_id, Utc::now())
            .await?;
        self.forget_knowledge();
        Ok(saved)
    }

    fn forget_knowledge(&self) {
        if let Ok(mut guard) = self.knowledge_index.write() {
            *guard = None;
        }
    }

    /// The search index, cached; rebuilt when the base changed (here or on another instance).
    pub async fn knowledge_index(&self) -> Result<Arc<KnowledgeIndex>, AppError> {
        if let Ok(guard) = self.knowledge_index.read()
            && let Some((at, _, idx)) = guard.as_ref()
            && at.elapsed() < crate::REFERENCE_TTL
        {
            return Ok(idx.clone());
        }
        let stamp = self.store.knowledge_stamp().await?;
        if let Ok(mut guard) = self.knowledge_index.write()
            && let Some((at, cached, idx)) = guard.as_mut()
            && *cached == stamp
        {
            *at = std::time::Instant::now();
            return Ok(idx.clone());
        }
        let articles = self.store.knowledge().await?;
        let idx = tokio::task::spawn_blocking(move || KnowledgeIndex::build(articles))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let idx = Arc::new(idx);
        if let Ok(mut guard) = self.knowledge_index.write() {
            *guard = Some((std::time::Instant::now(), stamp, idx.clone()));
        }
        Ok(idx)
    }

    /// Searches the base (every article with a word of the text, best first).
    pub async fn search_knowledge(
        &self,
        _actor: &Actor,
        query: KnowledgeQuery,
    ) -> Result<Vec<KnowledgeMatch>, AppError> {
        let idx = self.knowledge_index().await?;
        Ok(idx
            .search(&query)
            .map_err(|e| AppError::Internal(e.to_string()))?
            .into_iter()
            .map(KnowledgeMatch::from)
            .collect())
    }

    /// The answers to propose for what the caller says ([`offer_answers`]), given the
    /// categories proposed for it with their confidences by the classifier in force.
    pub async fn propose_knowledge(
        &self,
        text: &str,
        proposed: &[(String, f32)],
    ) -> Result<Vec<KnowledgeMatch>, AppError> {
        let Some(model) = self.text().await?.model.clone() else {
            return Ok(Vec::new());
        };
        let index = self.knowledge_index().await?;
        Ok(offer_answers(
            &model,
            index.articles(),
            text,
            proposed,
            crate::catalogue::today(),
        ))
    }
}

/// A proposed category at least this confident makes an article of its matter eligible.
pub const AGREEMENT_MIN: f32 = 0.2;
/// How alike (the classifier's `Model::similarity`, 0..1) the text and an article's
/// question and keywords must be. Set on the odd lines of `eval/knowledge/requests.jsonl`.
pub const RELEVANCE_MIN: f32 = 0.4;
/// An answer much less alike than the best one offered is left out.
pub const RELATIVE_MIN: f32 = 0.7;
/// At most this many answers are offered.
pub const OFFERED: usize = 3;

/// The knowledge answers offered to an operator for a text: articles in force today,
/// about the same matter (the article's category is on the branch of a category proposed
/// for the text with at least [`AGREEMENT_MIN`]: the same, above or below it; an article
/// without a category is never offered, only found by search), alike enough to what was
/// said, most alike first. A wrong answer read to a citizen does more harm than none:
/// precision comes first.
pub fn offer_answers<'a>(
    model: &mashangban_text::classify::Model,
    articles: impl IntoIterator<Item = &'a Article>,
    text: &str,
    proposed: &[(String, f32)],
    today: NaiveDate,
) -> Vec<KnowledgeMatch> {
    let on_branch = |p: &str, code: &str| p.starts_with(code) || code.starts_with(p);
    let mut found: Vec<(f32, &Article)> = Vec::new();
    for a in articles.into_iter().filter(|a| a.in_force(today)) {
        let Some(code) = a.category_code.as_deref() else {
            continue;
        };
        if !proposed
            .iter()
            .any(|(p, c)| *c >= AGREEMENT_MIN && on_branch(p, code))
        {
            continue;
        }
        let relevance = model.similarity(text, &format!("{} {}", a.question, a.keywords.join(" ")));
        if relevance >= RELEVANCE_MIN {
            found.push((relevance, a));
        }
    }
    found.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.id.cmp(&y.1.id)));
    let top = found.first().map(|f| f.0).unwrap_or(0.0);
    found
        .into_iter()
        .filter(|(r, _)| *r >= top * RELATIVE_MIN)
        .take(OFFERED)
        .map(|(r, a)| KnowledgeMatch {
            id: a.id,
            question: a.question.clone(),
            answer: a.answer.clone(),
            category_code: a.category_code.clone(),
            source: a.source.clone(),
            demo: a.demo,
            score: 0.0,
            relevance: Some((r * 1000.0).round() / 1000.0),
        })
        .collect()
}
