//! `mashangban extract eval`: how well form filling from free text (智能填单) does on a
//! labelled set of call transcripts and messages (`eval/extraction/texts.jsonl`), field by
//! field.

use std::path::PathBuf;

use anyhow::Result;
use mashangban_text::extract::{Extraction, extract};

use crate::scores::Counts;

#[derive(clap::Args)]
pub struct ExtractEval {
    /// JSON lines `{text, name, phones, address, time, title}` (`null` where the text does
    /// not say). Lines at odd positions (1st, 3rd, …) are the part the rules were adjusted
    /// on; the others were never looked at while writing them.
    #[arg(long)]
    file: PathBuf,
    /// Also print every field got wrong (of the odd lines only: the others stay unread).
    #[arg(long)]
    details: bool,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Labelled {
    text: String,
    name: Option<String>,
    phones: Vec<String>,
    address: Option<String>,
    time: Option<String>,
    title: String,
}

/// Figures of one part of the set.
#[derive(Default)]
struct Part {
    texts: usize,
    name: Counts,
    phones: Counts,
    address: Counts,
    time: Counts,
    title_f1: f64,
}

/// Characters in common, as an F1 (titles are worded freely: an overlap, not equality).
fn char_f1(a: &str, b: &str) -> f64 {
    let mut bag: std::collections::HashMap<char, i32> = std::collections::HashMap::new();
    for c in b.chars() {
        *bag.entry(c).or_default() += 1;
    }
    let mut common = 0;
    for c in a.chars() {
        if let Some(n) = bag.get_mut(&c)
            && *n > 0
        {
            *n -= 1;
            common += 1;
        }
    }
    let (la, lb) = (a.chars().count(), b.chars().count());
    if common == 0 || la == 0 || lb == 0 {
        return 0.0;
    }
    let p = common as f64 / la as f64;
    let r = common as f64 / lb as f64;
    2.0 * p * r / (p + r)
}

pub fn run(cmd: ExtractEval) -> Result<()> {
    let set: Vec<Labelled> = crate::jsonl::read(&cmd.file, "not a labelled text")?;
    let mut parts = [Part::default(), Part::default()];
    let started = std::time::Instant::now();
    let got: Vec<Extraction> = set.iter().map(|l| extract(&l.text)).collect();
    let per_text = started.elapsed().as_secs_f64() * 1000.0 / set.len().max(1) as f64;
    for (i, (l, g)) in set.iter().zip(&got).enumerate() {
        let part = &mut parts[i % 2];
        part.texts += 1;
        let mut wrong = Vec::new();
        if !part.name.single(&g.name, &l.name) {
            wrong.push(format!("name {:?} ≠ {:?}", g.name, l.name));
        }
        if !part.address.single(&g.address, &l.address) {
            wrong.push(format!("address {:?} ≠ {:?}", g.address, l.address));
        }
        if !part.time.single(&g.time, &l.time) {
            wrong.push(format!("time {:?} ≠ {:?}", g.time, l.time));
        }
        let tp = g.phones.iter().filter(|p| l.phones.contains(p)).count();
        part.phones.tp += tp;
        part.phones.fp += g.phones.len() - tp;
        part.phones.fn_ += l.phones.iter().filter(|p| !g.phones.contains(p)).count();
        if g.phones != l.phones {
            wrong.push(format!("phones {:?} ≠ {:?}", g.phones, l.phones));
        }
        part.title_f1 += char_f1(&g.title, &l.title);
        if cmd.details && i % 2 == 0 && !wrong.is_empty() {
            println!("line {}: {} — {}", i + 1, l.text, wrong.join("; "));
        }
    }
    println!(
        "{} texts; extraction took {per_text:.3} ms a text",
        set.len()
    );
    let mut last = String::new();
    for (k, (label, part)) in [
        ("lines 1, 3, 5, … (the rules adjusted on them)", &parts[0]),
        ("lines 2, 4, 6, … (never looked at)", &parts[1]),
    ]
    .into_iter()
    .enumerate()
    {
        println!("\n{label}: {} texts", part.texts);
        println!("field     precision  recall      f1");
        for (name, c) in [
            ("name", part.name),
            ("phones", part.phones),
            ("address", part.address),
            ("time", part.time),
        ] {
            let (p, r, f) = c.figures();
            println!("{name:<8}  {p:>9.4}  {r:>6.4}  {f:>6.4}");
        }
        println!(
            "title     character overlap (F1) {:.4}",
            part.title_f1 / part.texts.max(1) as f64
        );
        if k == 1 {
            last = format!(
                "phone_f1={:.4} address_f1={:.4} name_f1={:.4} time_f1={:.4}",
                part.phones.figures().2,
                part.address.figures().2,
                part.name.figures().2,
                part.time.figures().2
            );
        }
    }
    println!("{last}");
    Ok(())
}
