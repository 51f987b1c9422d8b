//! `mashangban classifier eval`: how well the ticket classifier does on labelled texts,
//! on a held-out file or by cross-validation.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use mashangban_text::classify::{
    Evaluation, Example, Model, TrainOptions, document, evaluate, stratified_folds, words,
};

#[derive(Subcommand)]
pub enum ClassifierCmd {
    /// Train the classifier the suggestions use on the database's newest closed tickets
    /// (their final categories) and the categories' names, and keep it in the database.
    Train {
        /// At most this many closed tickets.
        #[arg(long, default_value_t = mashangban_app::text::TRAIN_LIMIT)]
        limit: usize,
    },
    /// Train on one JSONL file of `{title, body, label}` and score the predictions on
    /// another (`--test`), or by k-fold cross-validation over the training file alone.
    /// Prints per-class precision and recall, the confusion matrix and, last,
    /// `accuracy=… macro_f1=…`.
    Eval {
        /// Labelled texts to learn from (JSON lines with title, body, label).
        #[arg(long)]
        train: PathBuf,
        /// Labelled texts to score; without it, cross-validation over `--train`.
        #[arg(long)]
        test: Option<PathBuf>,
        /// Unlabelled texts (JSON lines with title and body): they only help weigh words.
        #[arg(long)]
        unlabelled: Vec<PathBuf>,
        /// The category taxonomy as CSV (one path per row, top level first, a header
        /// row): the names below each trained category are learned as short texts of it,
        /// as `classifier train` learns each category's own name path.
        #[arg(long)]
        taxonomy: Option<PathBuf>,
        /// Folds of the cross-validation.
        #[arg(long, default_value_t = 5)]
        folds: usize,
        /// Order of the folds.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The classifier's inverse regularisation.
        #[arg(long, default_value_t = 1.0)]
        c: f64,
    },
}

/// `classifier train`, on the database.
pub async fn train(app: &mashangban_app::App, limit: usize) -> Result<()> {
    let r = app
        .train_classifier(&mashangban_app::SERVER, limit)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "trained on {} closed tickets and {} category names: {} categories, {} words, {:.1}s",
        r.tickets, r.category_names, r.categories, r.words, r.seconds
    );
    Ok(())
}

pub fn run(cmd: ClassifierCmd) -> Result<()> {
    match cmd {
        ClassifierCmd::Train { .. } => bail!("`classifier train` runs on a database"),
        ClassifierCmd::Eval {
            train,
            test,
            unlabelled,
            taxonomy,
            folds,
            seed,
            c,
        } => {
            let opts = TrainOptions {
                c,
                ..TrainOptions::default()
            };
            let train_set = read_labelled(&train)?;
            let mut extra = Vec::new();
            for f in &unlabelled {
                extra.extend(read_texts(f)?);
            }
            let started = std::time::Instant::now();
            let doc = |e: &Example| document(&e.title, &e.body, opts.title_weight);
            let docs: Vec<Vec<String>> = train_set.iter().map(doc).collect();
            let extra_words: Vec<Vec<String>> = extra.iter().map(|t| words(t)).collect();
            let named: Vec<Example> = match &taxonomy {
                Some(path) => taxonomy_examples(path, &train_set)?,
                None => Vec::new(),
            };
            let named_docs: Vec<Vec<String>> = named.iter().map(doc).collect();
            // Trains on some labelled texts and the taxonomy's names.
            let fit = |set: Vec<Example>, mut set_docs: Vec<Vec<String>>| {
                let mut set = set;
                set.extend(named.iter().cloned());
                set_docs.extend(named_docs.iter().cloned());
                Model::train_on_words(&set, &set_docs, &extra_words, &opts)
            };
            let (pairs, how) = match test {
                Some(test) => {
                    let test_set = read_labelled(&test)?;
                    let model = fit(train_set.clone(), docs.clone());
                    let pairs = test_set
                        .iter()
                        .map(|e| {
                            let p = model.predict_words(&doc(e));
                            (
                                e.label.clone(),
                                p.top().map(|t| t.label.clone()).unwrap_or_default(),
                            )
                        })
                        .collect::<Vec<_>>();
                    (
                        pairs,
                        format!(
                            "trained on {} texts of {}, scored on {} of {}",
                            train_set.len(),
                            train.display(),
                            test_set.len(),
                            test.display()
                        ),
                    )
                }
                None => {
                    if train_set.len() < folds.max(2) {
                        bail!(
                            "--train has {} texts: too few for {folds} folds",
                            train_set.len()
                        );
                    }
                    let labels: Vec<String> = train_set.iter().map(|e| e.label.clone()).collect();
                    let parts = stratified_folds(&labels, folds, seed);
                    let mut pairs = Vec::with_capacity(train_set.len());
                    for held in &parts {
                        let is_held = |i: &usize| held.binary_search(i).is_ok();
                        let kept: Vec<usize> =
                            (0..train_set.len()).filter(|i| !is_held(i)).collect();
                        let fit_set: Vec<Example> =
                            kept.iter().map(|&i| train_set[i].clone()).collect();
                        let fit_docs: Vec<Vec<String>> =
                            kept.iter().map(|&i| docs[i].clone()).collect();
                        let model = fit(fit_set, fit_docs);
                        for &i in held {
                            let p = model.predict_words(&docs[i]);
                            pairs.push((
                                train_set[i].label.clone(),
                                p.top().map(|t| t.label.clone()).unwrap_or_default(),
                            ));
                        }
                    }
                    (
                        pairs,
                        format!(
                            "{folds}-fold stratified cross-validation over {} texts of {} (seed {seed})",
                            train_set.len(),
                            train.display()
                        ),
                    )
                }
            };
            println!(
                "{how}; {} taxonomy names learned; {} unlabelled texts weigh the words; C = {c}",
                named.len(),
                extra.len()
            );
            print_evaluation(&evaluate(&pairs));
            eprintln!("({:.1}s)", started.elapsed().as_secs_f64());
            let e = evaluate(&pairs);
            println!("accuracy={:.4} macro_f1={:.4}", e.accuracy, e.macro_f1);
            Ok(())
        }
    }
}

fn print_evaluation(e: &Evaluation) {
    let width = e
        .labels
        .iter()
        .map(|l| display_width(l))
        .max()
        .unwrap_or(5)
        .max(5);
    println!();
    println!(
        "{}  precision  recall      f1  support",
        pad("class", width)
    );
    for c in &e.classes {
        println!(
            "{}  {:>9.4}  {:>6.4}  {:>6.4}  {:>7}",
            pad(&c.label, width),
            c.precision,
            c.recall,
            c.f1,
            c.support
        );
    }
    println!();
    println!("confusion matrix (rows: truth, columns: predicted, in the order above)");
    for (label, row) in e.labels.iter().zip(&e.confusion) {
        let cells: Vec<String> = row.iter().map(|n| format!("{n:>5}")).collect();
        println!("{} {}", pad(label, width), cells.join(""));
    }
    println!();
}

/// Columns a text takes in a terminal (a Chinese character takes two).
fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            if mashangban_text::normalize::is_han(c) {
                2
            } else {
                1
            }
        })
        .sum()
}

fn pad(s: &str, width: usize) -> String {
    format!("{s}{}", " ".repeat(width.saturating_sub(display_width(s))))
}

/// For each taxonomy row under a trained category, a short text of the names below it.
fn taxonomy_examples(path: &Path, train: &[Example]) -> Result<Vec<Example>> {
    let labels: std::collections::HashSet<&str> = train.iter().map(|e| e.label.as_str()).collect();
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let names: Vec<&str> = line
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .collect();
        let Some(at) = names.iter().rposition(|n| labels.contains(n)) else {
            continue;
        };
        if at + 1 < names.len() {
            out.push(Example {
                title: String::new(),
                body: names[at + 1..].join(" "),
                label: names[at].to_string(),
            });
        }
    }
    Ok(out)
}

#[derive(serde::Deserialize)]
struct Line {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    label: Option<String>,
}

fn read_lines(path: &Path) -> Result<Vec<Line>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str::<Line>(l).with_context(|| {
                format!(
                    "{} line {}: not a JSON object with title and body",
                    path.display(),
                    i + 1
                )
            })
        })
        .collect()
}

fn read_labelled(path: &Path) -> Result<Vec<Example>> {
    read_lines(path)?
        .into_iter()
        .enumerate()
        .map(|(i, l)| match l.label {
            Some(label) if !label.trim().is_empty() => Ok(Example {
                title: l.title,
                body: l.body,
                label: label.trim().to_string(),
            }),
            _ => bail!("{} line {}: no label", path.display(), i + 1),
        })
        .collect()
}

fn read_texts(path: &Path) -> Result<Vec<String>> {
    Ok(read_lines(path)?
        .into_iter()
        .map(|l| format!("{}。{}", l.title, l.body))
        .collect())
}
