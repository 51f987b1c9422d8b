//! `mashangban anonymise eval`: how much of the personal data marked by hand in
//! `eval/anonymise/texts.txt` the anonymiser takes out (recall, by kind), and how much of
//! what it takes out was marked (precision, in characters).

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use mashangban_text::anonymise::PersonalKind;
use mashangban_text::anonymise::evaluation::{Score, evaluate, parse_file};

#[derive(clap::Args)]
pub struct AnonymiseEval {
    /// Marked texts, one a line: `[[kind:original]]` with kind one of name, phone, id,
    /// plate, house, email, card. Lines at odd positions are the part the rules were
    /// adjusted on; the others were never looked at.
    #[arg(long)]
    file: PathBuf,
    /// Also print what was left in and what was taken out besides (of the odd lines only:
    /// the others stay unread).
    #[arg(long)]
    details: bool,
}

fn print_part(label: &str, part: &Score) {
    println!(
        "\n{label}: {} texts, {} personal data marked",
        part.texts,
        part.marked()
    );
    println!("kind        marked  taken out  recall");
    for kind in PersonalKind::ALL {
        if let Some((marked, found)) = part.by_kind.get(&kind) {
            println!(
                "{:<10}  {marked:>6}  {found:>9}  {:.4}",
                kind.as_str(),
                *found as f64 / (*marked).max(1) as f64
            );
        }
    }
    println!(
        "all         {:>6}  {:>9}  {:.4}",
        part.marked(),
        part.found(),
        part.recall()
    );
    println!(
        "characters taken out {}, of them marked {} (precision {:.4}); removals of nothing marked: {}",
        part.removed_chars,
        part.removed_marked_chars,
        part.precision(),
        part.extra.len()
    );
}

pub fn run(cmd: AnonymiseEval) -> Result<()> {
    let content = std::fs::read_to_string(&cmd.file)
        .with_context(|| format!("reading {}", cmd.file.display()))?;
    let set = parse_file(&content).map_err(|e| anyhow!("{}: {e}", cmd.file.display()))?;
    let started = std::time::Instant::now();
    let [tuned, untouched] = evaluate(&set);
    let per_text = started.elapsed().as_secs_f64() * 1000.0 / set.len().max(1) as f64;
    println!("{} texts; {per_text:.3} ms a text", set.len());
    if cmd.details {
        for (i, kind, original) in &tuned.missed {
            println!("line {}: left in {} {original:?}", i + 1, kind.as_str());
        }
        for (i, kind, original) in &tuned.extra {
            println!("line {}: took out {} {original:?}", i + 1, kind.as_str());
        }
    }
    print_part("texts 1, 3, 5, … (the rules adjusted on them)", &tuned);
    print_part("texts 2, 4, 6, … (never looked at)", &untouched);
    println!(
        "recall={:.4} precision={:.4}",
        untouched.recall(),
        untouched.precision()
    );
    Ok(())
}
