//! `mashangban knowledge eval`: how often the knowledge answers offered with the
//! suggestions are about what was asked, on a labelled set of requests and articles
//! (`eval/knowledge/`), in a new city's conditions: the default categories with their
//! keywords and the articles' questions are all the classifier knows (no ticket closed).

use std::path::PathBuf;

use anyhow::{Result, bail};
use mashangban_domain::knowledge::Article;
use mashangban_text::classify::{Model, TrainOptions};

#[derive(clap::Args)]
pub struct KnowledgeEval {
    /// The articles: JSON lines `{id, question, answer, category_code, keywords}`.
    #[arg(long)]
    articles: PathBuf,
    /// The requests: JSON lines `{text, answers}` (`answers`: the ids of the articles
    /// that answer it, `[]` for none). Lines at odd positions (1st, 3rd, …) are the part
    /// the thresholds were set on; the others are never used to set anything.
    #[arg(long)]
    requests: PathBuf,
    /// Also print every wrong offer and every missed answer.
    #[arg(long)]
    details: bool,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ArticleLine {
    id: i64,
    question: String,
    answer: String,
    category_code: Option<String>,
    #[serde(default)]
    keywords: Vec<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestLine {
    text: String,
    answers: Vec<i64>,
}

/// Offers and hits of one part of the requests.
#[derive(Default)]
struct Tally {
    requests: usize,
    offered: usize,
    right: usize,
    with_answer: usize,
    answered: usize,
}

impl Tally {
    fn line(&self, name: &str) -> String {
        let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
        format!(
            "{name}: {} requests; {} answers offered, {} about what was asked: precision {:.4}; {} requests have an answer, {} were offered it: recall {:.4}",
            self.requests,
            self.offered,
            self.right,
            ratio(self.right, self.offered),
            self.with_answer,
            self.answered,
            ratio(self.answered, self.with_answer)
        )
    }
}

pub fn run(cmd: KnowledgeEval) -> Result<()> {
    let articles: Vec<Article> =
        crate::jsonl::read::<ArticleLine>(&cmd.articles, "not an article")?
            .into_iter()
            .map(|a| Article {
                id: a.id,
                question: a.question,
                answer: a.answer,
                category_code: a.category_code,
                source: "评测".into(),
                keywords: a.keywords,
                owner_unit_id: None,
                valid_from: None,
                valid_to: None,
                demo: true,
                version: 1,
            })
            .collect();
    let requests: Vec<RequestLine> = crate::jsonl::read(&cmd.requests, "not a request")?;
    for (i, r) in requests.iter().enumerate() {
        if let Some(id) = r
            .answers
            .iter()
            .find(|id| !articles.iter().any(|a| a.id == **id))
        {
            bail!("{} line {}: no article {id}", cmd.requests.display(), i + 1);
        }
    }
    let mut reference = mashangban_app::Reference::default();
    reference.categories = mashangban_app::seed::default_categories()
        .into_iter()
        .map(|c| (c.code.clone(), c))
        .collect();
    let today = chrono::Utc::now().date_naive();
    let (examples, _, _) = mashangban_app::text::day_one_examples(&reference, &articles, today);
    let model = Model::train(&examples, &[], &TrainOptions::default());
    let mut parts = [Tally::default(), Tally::default()];
    for (i, r) in requests.iter().enumerate() {
        let p = model.predict("", &r.text);
        let proposed: Vec<(String, f32)> = p
            .ranked
            .iter()
            .take(3)
            .map(|s| (s.label.clone(), s.confidence))
            .collect();
        let offered =
            mashangban_app::knowledge::offer_answers(&model, &articles, &r.text, &proposed, today);
        let t = &mut parts[i % 2];
        t.requests += 1;
        t.offered += offered.len();
        let right = offered.iter().filter(|o| r.answers.contains(&o.id)).count();
        t.right += right;
        if !r.answers.is_empty() {
            t.with_answer += 1;
            if right > 0 {
                t.answered += 1;
            }
        }
        if cmd.details {
            for o in &offered {
                println!(
                    "line {}: {} #{} {} for {} (relevance {:?})",
                    i + 1,
                    if r.answers.contains(&o.id) {
                        "right"
                    } else {
                        "wrong"
                    },
                    o.id,
                    o.question,
                    r.text,
                    o.relevance
                );
            }
            if !r.answers.is_empty() && right == 0 {
                println!(
                    "line {}: missed {:?} for {} (proposed {:?})",
                    i + 1,
                    r.answers,
                    r.text,
                    &proposed[..1]
                );
            }
        }
    }
    let mut all = Tally::default();
    for t in &parts {
        all.requests += t.requests;
        all.offered += t.offered;
        all.right += t.right;
        all.with_answer += t.with_answer;
        all.answered += t.answered;
    }
    println!(
        "{} articles; the classifier learned the default categories' names and keywords and the articles' questions (no ticket)",
        articles.len()
    );
    println!(
        "{}",
        parts[0].line("lines 1, 3, 5, … (thresholds set on them)")
    );
    println!(
        "{}",
        parts[1].line("lines 2, 4, 6, … (never used to set anything)")
    );
    println!("{}", all.line("all"));
    let u = &parts[1];
    let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    println!(
        "precision={:.4} recall={:.4}",
        ratio(u.right, u.offered),
        ratio(u.answered, u.with_answer)
    );
    Ok(())
}
