//! JSON lines files (one object a line; blank lines skipped), as the evaluation commands
//! read them: a bad line is named by its number.

use std::path::Path;

use anyhow::{Context, Result};

/// Every non-blank line of `path` as a `T`; `what` says what a line should be.
pub fn read<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<Vec<T>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .with_context(|| format!("{} line {}: {what}", path.display(), i + 1))
        })
        .collect()
}
