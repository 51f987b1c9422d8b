//! How much personal data the anonymiser takes out of texts whose personal data are marked
//! by hand (`eval/anonymise/texts.txt`): recall by kind, and how much else it takes.

use std::collections::BTreeMap;

use super::{Anonymised, Options, PersonalKind, anonymise};

/// A text with its personal data marked `[[kind:original]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marked {
    /// The text without its marks.
    pub text: String,
    /// What is personal: the kind and the span, in characters.
    pub personal: Vec<(PersonalKind, usize, usize)>,
}

/// The kinds as the marks name them.
fn kind_of_mark(name: &str) -> Option<PersonalKind> {
    Some(match name {
        "name" => PersonalKind::Name,
        "phone" => PersonalKind::Phone,
        "id" => PersonalKind::IdCard,
        "plate" => PersonalKind::Plate,
        "house" => PersonalKind::House,
        "email" => PersonalKind::Email,
        "card" => PersonalKind::Account,
        _ => return None,
    })
}

/// Reads one marked line; an unknown kind or an unclosed mark is an error naming it.
pub fn parse_marked(line: &str) -> Result<Marked, String> {
    let mut text = String::new();
    let mut personal = Vec::new();
    let mut rest = line;
    let mut at = 0;
    while let Some(open) = rest.find("[[") {
        let before = &rest[..open];
        text.push_str(before);
        at += before.chars().count();
        let inner = &rest[open + 2..];
        let close = inner
            .find("]]")
            .ok_or_else(|| format!("a mark is not closed: {line}"))?;
        let (kind, original) = inner[..close]
            .split_once(':')
            .ok_or_else(|| format!("a mark has no kind: {}", &inner[..close]))?;
        let kind = kind_of_mark(kind).ok_or_else(|| format!("unknown kind {kind:?}"))?;
        let n = original.chars().count();
        personal.push((kind, at, at + n));
        text.push_str(original);
        at += n;
        rest = &inner[close + 2..];
    }
    text.push_str(rest);
    Ok(Marked { text, personal })
}

/// Reads a file of marked lines (`#` begins a comment).
pub fn parse_file(content: &str) -> Result<Vec<Marked>, String> {
    content
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(n, l)| parse_marked(l).map_err(|e| format!("line {}: {e}", n + 1)))
        .collect()
}

/// Counts of one part of a set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Score {
    pub texts: usize,
    /// Per kind: personal data marked, and of them taken out whole.
    pub by_kind: BTreeMap<PersonalKind, (usize, usize)>,
    /// Characters taken out that were marked, and all characters taken out.
    pub removed_marked_chars: usize,
    pub removed_chars: usize,
    /// The data left in, as (text index, kind, original): to read on the part one may.
    pub missed: Vec<(usize, PersonalKind, String)>,
    /// Removals of nothing marked, as (text index, kind, original).
    pub extra: Vec<(usize, PersonalKind, String)>,
}

impl Score {
    pub fn marked(&self) -> usize {
        self.by_kind.values().map(|v| v.0).sum()
    }

    pub fn found(&self) -> usize {
        self.by_kind.values().map(|v| v.1).sum()
    }

    /// Of the personal data marked, the share taken out whole.
    pub fn recall(&self) -> f64 {
        self.found() as f64 / self.marked().max(1) as f64
    }

    /// Of the characters taken out, the share that were marked personal.
    pub fn precision(&self) -> f64 {
        self.removed_marked_chars as f64 / self.removed_chars.max(1) as f64
    }

    /// Adds one text's outcome.
    pub fn add(&mut self, index: usize, marked: &Marked, got: &Anonymised) {
        self.texts += 1;
        let mut covered = vec![false; marked.text.chars().count()];
        for r in &got.removed {
            let n = r.original.chars().count();
            for c in covered.iter_mut().skip(r.at).take(n) {
                *c = true;
            }
        }
        let mut is_marked = vec![false; covered.len()];
        for (kind, s, e) in &marked.personal {
            let whole = (*s..*e).all(|i| covered[i]);
            let entry = self.by_kind.entry(*kind).or_default();
            entry.0 += 1;
            if whole {
                entry.1 += 1;
            } else {
                let original: String = marked.text.chars().skip(*s).take(e - s).collect();
                self.missed.push((index, *kind, original));
            }
            for m in is_marked.iter_mut().take(*e).skip(*s) {
                *m = true;
            }
        }
        for r in &got.removed {
            let n = r.original.chars().count();
            let inside = (r.at..r.at + n).filter(|i| is_marked[*i]).count();
            self.removed_chars += n;
            self.removed_marked_chars += inside;
            if inside == 0 {
                self.extra.push((index, r.kind, r.original.clone()));
            }
        }
    }
}

/// Scores a set in two parts: the texts at odd positions (1st, 3rd, …: the rules may be
/// adjusted on them) and at even positions (never looked at).
pub fn evaluate(set: &[Marked]) -> [Score; 2] {
    let mut parts = [Score::default(), Score::default()];
    for (i, m) in set.iter().enumerate() {
        let got = anonymise(&m.text, &Options::default());
        parts[i % 2].add(i, m, &got);
    }
    parts
}
