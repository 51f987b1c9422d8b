//! `mashangban hotspots --file MESSAGES.jsonl`: the hot issues (热点问题) of a file of citizen
//! messages, in the form of the challenge's hot-issue table (rank, problem id, heat index,
//! time range, place or people, description), with each problem's messages on request.
//!
//! Lines are JSON objects `{id, user, title, time, body, likes}` (the shape of
//! `shared/data/tipdm2020/messages_with_votes.jsonl`); `time` is local time,
//! `YYYY-MM-DDTHH:MM:SS` or with a space.

use anyhow::{Context, Result};
use mashangban_text::hotspots::{HotspotRules, Message, hotspots};
use serde::Deserialize;

#[derive(clap::Args)]
pub struct HotspotsArgs {
    /// The messages, one JSON object a line.
    #[arg(long)]
    file: std::path::PathBuf,
    /// How many problems to list.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Also list each problem's messages.
    #[arg(long)]
    details: bool,
}

#[derive(Deserialize)]
struct Line {
    id: serde_json::Value,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    title: String,
    time: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    likes: Option<i64>,
}

fn parse_time(s: &str) -> Option<chrono::NaiveDateTime> {
    let s = s.trim().replace('/', "-");
    ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(&s, f).ok())
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
}

fn day(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .map(|t| t.format("%Y/%m/%d").to_string())
        .unwrap_or_default()
}

pub fn run(a: HotspotsArgs) -> Result<()> {
    let text = std::fs::read_to_string(&a.file)
        .with_context(|| format!("reading {}", a.file.display()))?;
    let mut messages = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let l: Line = serde_json::from_str(line)
            .with_context(|| format!("{} line {}: not a message", a.file.display(), n + 1))?;
        let at = parse_time(&l.time).with_context(|| {
            format!(
                "{} line {}: time `{}` is not a date and time",
                a.file.display(),
                n + 1,
                l.time
            )
        })?;
        messages.push(Message {
            id: match &l.id {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            },
            user: l.user,
            at: at.and_utc().timestamp(),
            title: l.title,
            body: l.body,
            votes: l.likes.unwrap_or(0).max(0) as u64,
            supervised: false,
        });
    }
    let started = std::time::Instant::now();
    let hot = hotspots(&messages, &HotspotRules::default());
    println!(
        "{} messages, {} problems ({:.1}s)\n",
        messages.len(),
        hot.len(),
        started.elapsed().as_secs_f64()
    );
    println!("热度排名\t问题ID\t热度指数\t时间范围\t地点/人群\t问题描述\t留言数\t人数\t点赞");
    for (i, h) in hot.iter().take(a.top).enumerate() {
        println!(
            "{}\t{}\t{:.1}\t{} 至 {}\t{}\t{}\t{}\t{}\t{}",
            i + 1,
            i + 1,
            h.heat,
            day(h.first_at),
            day(h.last_at),
            h.place.as_deref().unwrap_or("—"),
            h.description,
            h.messages,
            h.people,
            h.votes
        );
    }
    if a.details {
        println!("\n问题ID\t留言编号\t留言时间\t留言主题\t点赞数");
        let by_id: std::collections::HashMap<&str, &Message> =
            messages.iter().map(|m| (m.id.as_str(), m)).collect();
        for (i, h) in hot.iter().take(a.top).enumerate() {
            for id in &h.ids {
                if let Some(m) = by_id.get(id.as_str()) {
                    println!("{}\t{}\t{}\t{}\t{}", i + 1, id, day(m.at), m.title, m.votes);
                }
            }
        }
    }
    Ok(())
}
