//! The knowledge base's search: articles by question, keywords and answer, in force on the
//! day asked, best first.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use mashangban_domain::knowledge::Article;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, INDEXED, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::{Index, IndexReader, TantivyDocument, Term};

use crate::{ChineseTokenizer, Result, SearchError, TOKENIZER, query_words};

/// How much a word found in each field weighs.
const QUESTION_BOOST: f32 = 3.0;
const KEYWORDS_BOOST: f32 = 2.0;
const ANSWER_BOOST: f32 = 1.0;
/// Proposals below this score are chance matches on a common word.
pub const MIN_SCORE: f32 = 1.5;
/// Hits below this share of the best hit's score are left out.
const RELATIVE_MIN: f32 = 0.35;

/// An article found for a text.
#[derive(Debug, Clone, PartialEq)]
pub struct KnowledgeHit {
    pub article: Article,
    /// BM25 relevance (higher is better; not bounded).
    pub score: f32,
}

/// What is looked for.
#[derive(Debug, Clone)]
pub struct KnowledgeQuery {
    pub text: String,
    /// Only articles in force on this day…
    pub day: NaiveDate,
    /// …unless any day will do.
    pub any_day: bool,
    /// Only articles of this category or one under it.
    pub category: Option<String>,
    pub limit: usize,
    /// Leave out chance matches (a proposal to an operator), rather than list every article
    /// with a word of the text (a search the operator typed).
    pub strict: bool,
}

impl KnowledgeQuery {
    pub fn new(text: &str, day: NaiveDate, limit: usize) -> KnowledgeQuery {
        KnowledgeQuery {
            text: text.to_string(),
            day,
            any_day: false,
            category: None,
            limit,
            strict: false,
        }
    }

    pub fn strict(mut self) -> KnowledgeQuery {
        self.strict = true;
        self
    }
}

/// Every article, searchable.
pub struct KnowledgeIndex {
    reader: IndexReader,
    id: Field,
    question: Field,
    keywords: Field,
    answer: Field,
    articles: HashMap<i64, Article>,
    /// Each article's words (question, keywords, answer).
    words: HashMap<i64, HashSet<String>>,
}

impl KnowledgeIndex {
    /// Indexes the articles (in memory).
    pub fn build(articles: Vec<Article>) -> Result<KnowledgeIndex> {
        let mut sb = Schema::builder();
        let text = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        let id = sb.add_i64_field("id", INDEXED | STORED);
        let question = sb.add_text_field("question", text.clone());
        let keywords = sb.add_text_field("keywords", text.clone());
        let answer = sb.add_text_field("answer", text);
        let index = Index::create_in_ram(sb.build());
        index.tokenizers().register(TOKENIZER, ChineseTokenizer);
        let mut writer = index.writer_with_num_threads::<TantivyDocument>(1, 15_000_000)?;
        for a in &articles {
            let mut doc = TantivyDocument::default();
            doc.add_i64(id, a.id);
            doc.add_text(question, &a.question);
            for k in &a.keywords {
                doc.add_text(keywords, k);
            }
            doc.add_text(answer, &a.answer);
            writer.add_document(doc)?;
        }
        writer.commit()?;
        let reader = index.reader()?;
        let words = articles
            .iter()
            .map(|a| {
                let text = format!("{} {} {}", a.question, a.keywords.join(" "), a.answer);
                (
                    a.id,
                    mashangban_text::classify::search_words(&text)
                        .into_iter()
                        .collect(),
                )
            })
            .collect();
        Ok(KnowledgeIndex {
            words,
            reader,
            id,
            question,
            keywords,
            answer,
            articles: articles.into_iter().map(|a| (a.id, a)).collect(),
        })
    }

    pub fn len(&self) -> usize {
        self.articles.len()
    }

    pub fn is_empty(&self) -> bool {
        self.articles.is_empty()
    }

    /// Every article of the base, in no particular order.
    pub fn articles(&self) -> impl Iterator<Item = &Article> {
        self.articles.values()
    }

    /// The articles that answer the query's text, best first.
    pub fn search(&self, q: &KnowledgeQuery) -> Result<Vec<KnowledgeHit>> {
        let (day, category, limit) = (q.day, q.category.as_deref(), q.limit);
        let words = query_words(&q.text);
        if words.is_empty() || limit == 0 || self.articles.is_empty() {
            return Ok(Vec::new());
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for w in &words {
            for (field, boost) in [
                (self.question, QUESTION_BOOST),
                (self.keywords, KEYWORDS_BOOST),
                (self.answer, ANSWER_BOOST),
            ] {
                let term = TermQuery::new(
                    Term::from_field_text(field, w),
                    IndexRecordOption::WithFreqs,
                );
                clauses.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(term), boost)),
                ));
            }
        }
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        // Enough of the best to fill `limit` after the day and category are applied.
        let depth = (limit * 10).max(200).min(self.articles.len());
        let top = searcher.search(&query, &TopDocs::with_limit(depth).order_by_score())?;
        let mut hits = Vec::new();
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            let id = doc
                .get_first(self.id)
                .and_then(|v| v.as_i64())
                .ok_or_else(|| SearchError::Other("an article without its id".into()))?;
            let Some(article) = self.articles.get(&id) else {
                continue;
            };
            if !q.any_day && !article.in_force(day) {
                continue;
            }
            if let Some(c) = category
                && !article
                    .category_code
                    .as_deref()
                    .is_some_and(|a| a.starts_with(c))
            {
                continue;
            }
            hits.push(KnowledgeHit {
                article: article.clone(),
                score,
            });
        }
        if q.strict {
            // A proposal shares at least two of the text's words with the article (one when
            // the text has only one), and is not far behind the best.
            let need = words.len().min(2);
            hits.retain(|h| {
                self.words
                    .get(&h.article.id)
                    .is_some_and(|have| words.iter().filter(|w| have.contains(*w)).count() >= need)
            });
            let best = hits.first().map(|h| h.score).unwrap_or(0.0);
            hits.retain(|h| h.score >= MIN_SCORE && h.score >= best * RELATIVE_MIN);
        }
        hits.truncate(limit);
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(id: i64, question: &str, answer: &str, keywords: &[&str]) -> Article {
        Article {
            id,
            question: question.into(),
            answer: answer.into(),
            category_code: None,
            source: "测试".into(),
            keywords: keywords.iter().map(|k| k.to_string()).collect(),
            owner_unit_id: None,
            valid_from: None,
            valid_to: None,
            demo: true,
            version: 1,
        }
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn today() -> NaiveDate {
        day("2026-11-28")
    }

    fn base() -> KnowledgeIndex {
        KnowledgeIndex::build(vec![
            article(
                1,
                "茶叶渣属于什么垃圾？",
                "泡过的茶叶渣属于厨余垃圾，沥干水分后投放。",
                &["茶渣"],
            ),
            article(
                2,
                "废旧电池怎么扔？",
                "废旧充电电池、纽扣电池属于有害垃圾，投入红色有害垃圾桶。",
                &["干电池"],
            ),
            article(
                3,
                "居住证怎么办理？",
                "持身份证和居住登记材料到居住地派出所办理。",
                &[],
            ),
            Article {
                valid_to: Some(day("2025-12-31")),
                ..article(
                    4,
                    "冬季供暖什么时候开始？",
                    "去年的供暖期自10月15日开始。",
                    &["暖气"],
                )
            },
            Article {
                category_code: Some("0501".into()),
                ..article(
                    5,
                    "大件家具怎么丢弃？",
                    "大件垃圾需预约清运，不得随意丢弃在垃圾桶旁。",
                    &["旧沙发"],
                )
            },
        ])
        .unwrap()
    }

    #[test]
    fn the_best_answer_comes_first() {
        let idx = base();
        let hits = idx
            .search(&KnowledgeQuery::new("我想问一下喝完的茶叶渣扔哪个垃圾桶", today(), 3).strict())
            .unwrap();
        assert_eq!(hits.first().map(|h| h.article.id), Some(1), "{hits:?}");
        let hits = idx
            .search(&KnowledgeQuery::new("家里的干电池", today(), 3).strict())
            .unwrap();
        assert_eq!(hits.first().map(|h| h.article.id), Some(2), "{hits:?}");
        assert!(hits.iter().all(|h| h.article.id != 3), "{hits:?}");
    }

    #[test]
    fn keywords_find_what_the_question_does_not_say() {
        let hits = base()
            .search(&KnowledgeQuery::new("旧沙发", today(), 3).strict())
            .unwrap();
        assert_eq!(hits.first().map(|h| h.article.id), Some(5), "{hits:?}");
    }

    #[test]
    fn unrelated_text_finds_nothing() {
        let hits = base()
            .search(&KnowledgeQuery::new("路灯不亮了", today(), 3))
            .unwrap();
        assert!(hits.is_empty(), "{hits:?}");
        assert!(
            base()
                .search(&KnowledgeQuery::new("，。", today(), 3))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn ended_articles_only_when_asked_and_category_filters() {
        let idx = base();
        let q = |text: &str| KnowledgeQuery::new(text, today(), 5);
        assert!(idx.search(&q("暖气什么时候来")).unwrap().is_empty());
        let old = idx
            .search(&KnowledgeQuery {
                any_day: true,
                ..q("暖气什么时候来")
            })
            .unwrap();
        assert_eq!(old.first().map(|h| h.article.id), Some(4));
        let then = idx
            .search(&KnowledgeQuery {
                day: day("2025-11-01"),
                ..q("暖气")
            })
            .unwrap();
        assert_eq!(then.len(), 1);
        let cat = idx
            .search(&KnowledgeQuery {
                category: Some("05".into()),
                ..q("垃圾")
            })
            .unwrap();
        assert_eq!(
            cat.iter().map(|h| h.article.id).collect::<Vec<_>>(),
            vec![5]
        );
    }

    #[test]
    fn a_proposal_needs_more_than_one_shared_word() {
        // `装修` alone (a renovation noise complaint) is no question about bulky waste.
        let idx = KnowledgeIndex::build(vec![article(
            1,
            "旧沙发怎么扔？",
            "大件垃圾需预约清运；装修垃圾袋装后另行预约。",
            &[],
        )])
        .unwrap();
        let noise = KnowledgeQuery::new("楼上装修电钻声音太吵", today(), 3);
        assert!(idx.search(&noise.clone().strict()).unwrap().is_empty());
        assert_eq!(idx.search(&noise).unwrap().len(), 1);
        let asked = KnowledgeQuery::new("旧沙发要扔掉", today(), 3).strict();
        assert_eq!(idx.search(&asked).unwrap().len(), 1);
    }

    #[test]
    fn a_search_lists_every_article_with_the_word_a_proposal_only_good_ones() {
        let idx = base();
        let all = idx
            .search(&KnowledgeQuery::new("垃圾", today(), 10))
            .unwrap();
        assert_eq!(all.len(), 3, "{all:?}");
        let proposed = idx
            .search(&KnowledgeQuery::new("垃圾", today(), 10).strict())
            .unwrap();
        assert!(proposed.len() < all.len(), "{proposed:?}");
    }
}
