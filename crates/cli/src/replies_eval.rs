//! `mashangban replies eval`: how well reply inspection (答复质检) finds what a reviewer
//! would, on real government replies labelled by a written rubric (`eval/replies/`). The
//! labels name the replies by id; the texts are read from the shared challenge data.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, bail};
use mashangban_domain::reply_check::{ReplyFindingKind, ReplyRecord};
use mashangban_text::inspect_reply;

use crate::scores::Counts;

#[derive(clap::Args)]
pub struct RepliesEval {
    /// The labels: JSON lines `{id, findings, why}`. Lines at odd positions (1st, 3rd, …)
    /// are the part the rules were adjusted on; the others were never looked at while
    /// writing them.
    #[arg(long)]
    labels: PathBuf,
    /// The messages and their replies: `messages_with_replies.jsonl` of the shared data
    /// (`{id, title, body, reply, …}`).
    #[arg(long)]
    messages: PathBuf,
    /// Also print every finding missed or wrongly made (of the odd lines only: the others
    /// stay unread).
    #[arg(long)]
    details: bool,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Label {
    id: i64,
    findings: Vec<String>,
    why: String,
}

#[derive(serde::Deserialize)]
struct Message {
    id: i64,
    body: String,
    reply: String,
}

/// The kinds the sample can show: the record is not in the shared data, and its numbers
/// are anonymised (see the rubric).
const MEASURED: [ReplyFindingKind; 4] = [
    ReplyFindingKind::UnaddressedPoint,
    ReplyFindingKind::NoAction,
    ReplyFindingKind::BuckPassing,
    ReplyFindingKind::EmptyPromise,
];

pub fn run(cmd: RepliesEval) -> Result<()> {
    let labels: Vec<Label> = crate::jsonl::read(&cmd.labels, "not a label")?;
    let messages: HashMap<i64, Message> =
        crate::jsonl::read::<Message>(&cmd.messages, "not a message")?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
    for (i, l) in labels.iter().enumerate() {
        if !messages.contains_key(&l.id) {
            bail!(
                "{} line {}: no message {}",
                cmd.labels.display(),
                i + 1,
                l.id
            );
        }
        if let Some(f) = l
            .findings
            .iter()
            .find(|f| f.parse::<ReplyFindingKind>().is_err())
        {
            bail!("{} line {}: no finding `{f}`", cmd.labels.display(), i + 1);
        }
        if l.why.trim().is_empty() != l.findings.is_empty() {
            bail!(
                "{} line {}: say why for the findings, and only then",
                cmd.labels.display(),
                i + 1
            );
        }
    }
    // The record is unknown: a reply is read as one with nothing pending and a phone number
    // left, so that the record's checks stay quiet.
    let record = ReplyRecord {
        citizen_has_phone: true,
        ..Default::default()
    };
    let mut parts = [
        vec![Counts::default(); MEASURED.len()],
        vec![Counts::default(); MEASURED.len()],
    ];
    let mut unmeasured = 0usize;
    let mut chars = 0usize;
    let started = Instant::now();
    for (i, l) in labels.iter().enumerate() {
        let m = &messages[&l.id];
        // The request as a ticket holds it: its content (the title restates it).
        let request = &m.body;
        chars += m.reply.chars().count();
        let found = inspect_reply(request, &m.reply, &record);
        unmeasured += found.iter().filter(|f| !MEASURED.contains(&f.kind)).count();
        for (k, kind) in MEASURED.iter().enumerate() {
            let want = l.findings.iter().any(|f| f == kind.as_str());
            let got = found.iter().find(|f| f.kind == *kind);
            parts[i % 2][k].answer(got.is_some(), want);
            if cmd.details && i % 2 == 0 && got.is_some() != want {
                println!(
                    "line {} (id {}): {} {}{}",
                    i + 1,
                    l.id,
                    if want { "missed" } else { "wrongly found" },
                    kind.as_str(),
                    match got {
                        Some(f) => format!(" — {}", f.why),
                        None => format!(" — label: {}", l.why),
                    }
                );
            }
        }
    }
    let first = started.elapsed();
    // The patterns are compiled, and the matchers' caches filled, on first use: a second
    // pass over the same replies is what a running server spends on each.
    let again = Instant::now();
    for l in &labels {
        let m = &messages[&l.id];
        std::hint::black_box(inspect_reply(&m.body, &m.reply, &record));
    }
    let n = labels.len().max(1) as f64;
    println!(
        "{} replies ({} characters on average), {:.3} ms a reply ({:.3} ms on the first pass, which compiles the patterns)",
        labels.len(),
        chars / labels.len().max(1),
        again.elapsed().as_secs_f64() * 1000.0 / n,
        first.as_secs_f64() * 1000.0 / n
    );
    if unmeasured > 0 {
        println!(
            "{unmeasured} findings of kinds the sample cannot show (personal data, the record) were made"
        );
    }
    for (part, name) in [
        (0, "lines 1, 3, 5, … (rules adjusted on them)"),
        (1, "lines 2, 4, 6, … (never looked at)"),
    ] {
        println!("{name}:");
        for (k, kind) in MEASURED.iter().enumerate() {
            let c = parts[part][k];
            let (p, r, f) = c.figures();
            println!(
                "  {:<18} labelled {:>3}, found {:>3}, right {:>3}: precision {p:.4} recall {r:.4} F1 {f:.4}",
                kind.as_str(),
                c.tp + c.fn_,
                c.tp + c.fp,
                c.tp
            );
        }
    }
    let last: Vec<String> = MEASURED
        .iter()
        .enumerate()
        .map(|(k, kind)| {
            let (p, r, _) = parts[1][k].figures();
            format!(
                "{}_precision={p:.4} {}_recall={r:.4}",
                kind.as_str(),
                kind.as_str()
            )
        })
        .collect();
    println!("{}", last.join(" "));
    Ok(())
}
