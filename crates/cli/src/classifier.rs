//! `mashangban classifier eval`: how well the ticket classifier does on labelled texts,
//! on a held-out file or by cross-validation.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use mashangban_text::classify::{
    Evaluation, Example, Model, TrainOptions, calibration, document, evaluate, grams,
    stratified_folds, top_k_accuracy,
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
    /// Train on one JSONL file of `{id?, title, body, label}` and score the predictions on
    /// another (`--test`), on the fixed held-out split (`--hold-out`), or by k-fold
    /// cross-validation over the training file alone. Prints per-class precision and
    /// recall, the confusion matrix, top-3 accuracy, the reliability table with the
    /// expected calibration error and, last, `accuracy=… macro_f1=…` (of the held-out
    /// texts when there are some).
    Eval {
        /// Labelled texts to learn from (JSON lines with title, body, label; `id` for
        /// `--hold-out`).
        #[arg(long)]
        train: PathBuf,
        /// Labelled texts to score; without it, cross-validation over `--train`.
        #[arg(long, conflicts_with = "hold_out")]
        test: Option<PathBuf>,
        /// The fixed split: the texts of `--train` whose `id` is a multiple of 3 are held
        /// out. Nothing is ever chosen on them: cross-validation runs on the others (the
        /// development texts), then a model trained on all the development texts scores
        /// the held-out ones once.
        #[arg(long)]
        hold_out: bool,
        /// Learn from only this many of the training texts (the same share of each
        /// category, chosen by `--seed`): a point of the learning curve. 0 learns from the
        /// taxonomy's names alone (cold start; needs `--taxonomy`). Needs `--test` or
        /// `--hold-out`.
        #[arg(long)]
        labels: Option<usize>,
        /// Unlabelled texts (JSON lines with title and body): they only help weigh the
        /// features. A text whose `id` is also in `--train` or `--test` is left out.
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
        /// Order of the folds, and which texts `--labels` keeps.
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
        "trained on {} closed tickets, {} category names and {} knowledge questions: {} categories, {} features, {:.1}s",
        r.tickets, r.category_names, r.knowledge_questions, r.categories, r.features, r.seconds
    );
    Ok(())
}

pub fn run(cmd: ClassifierCmd) -> Result<()> {
    let ClassifierCmd::Eval {
        train,
        test,
        hold_out,
        labels,
        unlabelled,
        taxonomy,
        folds,
        seed,
        c,
    } = cmd
    else {
        bail!("`classifier train` runs on a database");
    };
    if labels.is_some() && test.is_none() && !hold_out {
        bail!("--labels needs --test or --hold-out (cross-validation learns from every text)");
    }
    if labels == Some(0) && taxonomy.is_none() {
        bail!("--labels 0 learns from the taxonomy's names alone: give --taxonomy");
    }
    let opts = TrainOptions {
        c,
        ..TrainOptions::default()
    };
    let started = std::time::Instant::now();
    let all = read_labelled(&train)?;
    let (dev, held): (Vec<Labelled>, Vec<Labelled>) = if hold_out {
        let mut dev = Vec::new();
        let mut held = Vec::new();
        for (i, l) in all.iter().enumerate() {
            let Some(id) = l.id.as_ref().and_then(id_number) else {
                bail!(
                    "{} line {}: --hold-out needs a whole-number `id`",
                    train.display(),
                    i + 1
                );
            };
            if id % 3 == 0 {
                held.push(l.clone());
            } else {
                dev.push(l.clone());
            }
        }
        (dev, held)
    } else {
        let held = match &test {
            Some(t) => read_labelled(t)?,
            None => Vec::new(),
        };
        (all.clone(), held)
    };
    let mut known_ids: std::collections::HashSet<String> = std::collections::HashSet::new();
    for l in all.iter().chain(&held) {
        if let Some(id) = &l.id {
            known_ids.insert(id.to_string());
        }
    }
    let mut extra = Vec::new();
    let mut dropped = 0;
    for f in &unlabelled {
        for l in read_lines(f)? {
            if l.id
                .as_ref()
                .is_some_and(|id| known_ids.contains(&id.to_string()))
            {
                dropped += 1;
                continue;
            }
            extra.push(format!("{}。{}", l.title, l.body));
        }
    }
    let extra_features: Vec<Vec<String>> = extra.iter().map(|t| grams(t)).collect();
    let feature = |e: &Example| document(&e.title, &e.body, opts.title_weight);
    let dev_examples: Vec<Example> = dev.iter().map(|l| l.example.clone()).collect();
    let named: Vec<Example> = match &taxonomy {
        Some(path) => taxonomy_examples(path, &dev_examples)?,
        None => Vec::new(),
    };
    let named_docs: Vec<Vec<String>> = named.iter().map(feature).collect();
    // Trains on some labelled texts and the taxonomy's names.
    let fit = |set: &[Example], set_docs: &[Vec<String>]| {
        let mut set = set.to_vec();
        let mut set_docs = set_docs.to_vec();
        set.extend(named.iter().cloned());
        set_docs.extend(named_docs.iter().cloned());
        Model::train_on_features(&set, &set_docs, &extra_features, &opts)
    };
    println!(
        "{} taxonomy names learned; {} unlabelled texts weigh the features ({dropped} left out: also labelled); C = {c}",
        named.len(),
        extra.len(),
    );
    if named.is_empty() && (dev_examples.is_empty() || labels == Some(0)) {
        bail!("nothing to learn from: no labelled texts and no taxonomy names under their labels");
    }
    let dev_docs: Vec<Vec<String>> = dev_examples.iter().map(feature).collect();
    let mut last = None;
    if labels.is_none() {
        // Cross-validation over the development texts (all of --train without --hold-out).
        if test.is_none() {
            if dev_examples.len() < folds.max(2) {
                bail!(
                    "--train has {} texts: too few for {folds} folds",
                    dev_examples.len()
                );
            }
            let truth: Vec<String> = dev_examples.iter().map(|e| e.label.clone()).collect();
            let parts = stratified_folds(&truth, folds, seed);
            let mut scored = Scored::default();
            for held_part in &parts {
                let is_held = |i: &usize| held_part.binary_search(i).is_ok();
                let kept: Vec<usize> = (0..dev_examples.len()).filter(|i| !is_held(i)).collect();
                let set: Vec<Example> = kept.iter().map(|&i| dev_examples[i].clone()).collect();
                let set_docs: Vec<Vec<String>> =
                    kept.iter().map(|&i| dev_docs[i].clone()).collect();
                let model = fit(&set, &set_docs);
                for &i in held_part {
                    scored.add(&truth[i], model.rank_features(&dev_docs[i]));
                }
            }
            println!(
                "\n{folds}-fold stratified cross-validation over {} {}texts of {} (seed {seed})",
                dev_examples.len(),
                if hold_out { "development " } else { "" },
                train.display()
            );
            last = Some(scored.print(!hold_out));
        }
    }
    if !held.is_empty() {
        let (set, set_docs): (Vec<Example>, Vec<Vec<String>>) = match labels {
            Some(n) if n < dev_examples.len() => {
                let truth: Vec<String> = dev_examples.iter().map(|e| e.label.clone()).collect();
                let keep = subset(&truth, n, seed);
                (
                    keep.iter().map(|&i| dev_examples[i].clone()).collect(),
                    keep.iter().map(|&i| dev_docs[i].clone()).collect(),
                )
            }
            _ => (dev_examples.clone(), dev_docs.clone()),
        };
        let model = fit(&set, &set_docs);
        let mut scored = Scored::default();
        for l in &held {
            scored.add(&l.example.label, model.rank_features(&feature(&l.example)));
        }
        println!(
            "\ntrained on {} labelled texts{} and {} taxonomy names (temperature {:.2}{}), scored on {} {}",
            set.len(),
            if labels.is_some() {
                format!(" (--labels {}, seed {seed})", labels.unwrap_or(0))
            } else {
                String::new()
            },
            named.len(),
            model.temperature,
            if model.calibrated {
                ", fitted"
            } else {
                ", default"
            },
            held.len(),
            match &test {
                Some(t) => format!("texts of {}", t.display()),
                None => format!("held-out texts of {} (ids multiples of 3)", train.display()),
            }
        );
        last = Some(scored.print(true));
    }
    eprintln!("({:.1}s)", started.elapsed().as_secs_f64());
    if let Some((accuracy, macro_f1)) = last {
        println!("accuracy={accuracy:.4} macro_f1={macro_f1:.4}");
    }
    Ok(())
}

/// Predictions gathered for a report.
#[derive(Default)]
struct Scored {
    truth: Vec<String>,
    ranked: Vec<Vec<mashangban_text::classify::Scored>>,
}

impl Scored {
    fn add(&mut self, truth: &str, ranked: Vec<mashangban_text::classify::Scored>) {
        self.truth.push(truth.to_string());
        self.ranked.push(ranked);
    }

    /// Prints the figures (every table when `full`), returns accuracy and macro-F1.
    fn print(&self, full: bool) -> (f64, f64) {
        let pairs: Vec<(String, String)> = self
            .truth
            .iter()
            .zip(&self.ranked)
            .map(|(t, r)| {
                (
                    t.clone(),
                    r.first().map(|s| s.label.clone()).unwrap_or_default(),
                )
            })
            .collect();
        let e = evaluate(&pairs);
        let labels: Vec<Vec<String>> = self
            .ranked
            .iter()
            .map(|r| r.iter().map(|s| s.label.clone()).collect())
            .collect();
        let top3 = top_k_accuracy(&self.truth, &labels, 3);
        let cal = calibration(
            &self
                .truth
                .iter()
                .zip(&self.ranked)
                .filter_map(|(t, r)| r.first().map(|s| (f64::from(s.confidence), &s.label == t)))
                .collect::<Vec<_>>(),
        );
        if full {
            print_evaluation(&e);
            println!("reliability (confidence of the first proposal → how often it was right)");
            println!("band        texts  confidence  accuracy");
            for b in cal.bins.iter().filter(|b| b.count > 0) {
                println!(
                    "{:.1}–{:.1}  {:>9}  {:>10.3}  {:>8.3}",
                    b.from, b.to, b.count, b.confidence, b.accuracy
                );
            }
            println!();
        }
        println!(
            "macro-F1 {:.4}, accuracy {:.4}, top-3 accuracy {:.4}, expected calibration error {:.4}",
            e.macro_f1, e.accuracy, top3, cal.ece
        );
        (e.accuracy, e.macro_f1)
    }
}

/// `n` indexes, each label keeping its share (at least one of each), in an order fixed by
/// `seed`.
fn subset(labels: &[String], n: usize, seed: u64) -> Vec<usize> {
    // Each label's texts in an order fixed by the seed (the stratified folds, one text a
    // fold, deal each label's shuffled texts out in turn)...
    let shuffled = stratified_folds(labels, labels.len().clamp(2, 1000), seed);
    let mut by_label: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    for &i in shuffled.iter().flatten() {
        by_label.entry(labels[i].as_str()).or_default().push(i);
    }
    // ...then interleaved by share: a label's j-th text comes at (j + 0.5) / its count, so
    // that the first n keep each label's share.
    let mut keyed: Vec<(f64, usize)> = Vec::new();
    for idx in by_label.values() {
        for (j, &i) in idx.iter().enumerate() {
            keyed.push(((j as f64 + 0.5) / idx.len() as f64, i));
        }
    }
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut kept: Vec<usize> = keyed.into_iter().take(n).map(|(_, i)| i).collect();
    kept.sort_unstable();
    kept
}

fn id_number(id: &serde_json::Value) -> Option<u64> {
    match id {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
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
    id: Option<serde_json::Value>,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    label: Option<String>,
}

/// A labelled text and its id, if the file gives one.
#[derive(Clone)]
struct Labelled {
    id: Option<serde_json::Value>,
    example: Example,
}

fn read_lines(path: &Path) -> Result<Vec<Line>> {
    crate::jsonl::read(path, "not a JSON object with title and body")
}

fn read_labelled(path: &Path) -> Result<Vec<Labelled>> {
    read_lines(path)?
        .into_iter()
        .enumerate()
        .map(|(i, l)| match l.label {
            Some(label) if !label.trim().is_empty() => Ok(Labelled {
                id: l.id,
                example: Example {
                    title: l.title,
                    body: l.body,
                    label: label.trim().to_string(),
                },
            }),
            _ => bail!("{} line {}: no label", path.display(), i + 1),
        })
        .collect()
}
