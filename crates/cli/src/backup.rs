//! `mashangban backup` and `mashangban restore`: one archive (a plain tar) holding the
//! database and the photos and files of requests, taken while the server runs.
//!
//! - SQLite: a consistent copy made by SQLite itself (`VACUUM INTO`, one read transaction;
//!   writers go on meanwhile). PostgreSQL: `pg_dump --format=custom` (one snapshot).
//! - Files: every kept file (they are named by their SHA-256 and never change, and each is
//!   on disk before the database names it, so every file the copy names is there).
//! - Not the search index: each instance keeps its own and builds it again from the events.
//!
//! The archive starts with `MANIFEST.json` (what it holds, from which schema). A restore
//! goes into a stopped server's database: a new SQLite file, or an empty PostgreSQL
//! database (`--force` to replace what is there), then the current migrations bring an
//! older backup up to date and the search index is built again.

use anyhow::{Context, Result, bail};
use mashangban_store::SqlStore;
use mashangban_store::traits::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What an archive of this format says of itself.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// 1: this layout.
    pub format: u32,
    /// `sqlite` or `postgresql`.
    pub backend: String,
    /// The highest migration the database had when copied.
    pub schema_version: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The version of the binary that made it.
    pub made_by: String,
    /// The tickets it holds (PostgreSQL: those there when the dump began; it holds at least
    /// these).
    pub tickets: i64,
    pub files: u64,
}

const MANIFEST: &str = "MANIFEST.json";
const SQLITE_DB: &str = "database.sqlite";
const PG_DUMP: &str = "database.pgdump";
const FILES: &str = "files";

/// Whether a database URL is PostgreSQL's.
fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The SQLite file a URL names.
fn sqlite_path(url: &str) -> Result<PathBuf> {
    if !url.starts_with("sqlite:") {
        bail!("`{url}` is neither sqlite:// nor postgres://");
    }
    crate::sqlite_file(url).context("an in-memory database has nothing to back up or restore into")
}

/// Runs a PostgreSQL client tool, saying what it printed when it fails.
fn run_tool(program: &str, args: &[&str]) -> Result<()> {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .with_context(|| {
            format!("running {program} (install PostgreSQL's client tools, the same major version as the server or newer)")
        })?;
    if !out.status.success() {
        bail!(
            "{program} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// The kept files under `dir` (`ab/cd/abcd…`), not those being received.
fn kept_files(dir: &Path) -> Result<Vec<(PathBuf, String)>> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    let mut stack = vec![(dir.to_path_buf(), String::new(), 0)];
    while let Some((path, rel, depth)) = stack.pop() {
        for entry in
            std::fs::read_dir(&path).with_context(|| format!("reading {}", path.display()))?
        {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().to_string();
            let rel_name = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let kind = entry.file_type()?;
            if kind.is_dir() && depth < 2 && name.len() == 2 && is_hex(&name) {
                stack.push((entry.path(), rel_name, depth + 1));
            } else if kind.is_file() && depth == 2 && name.len() == 64 && is_hex(&name) {
                out.push((entry.path(), rel_name));
            }
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

fn is_hex(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Writes the archive of the database at `url` and the files under `files_dir` to
/// `output`; what it holds.
pub async fn backup(url: &str, files_dir: &Path, output: &Path) -> Result<Manifest> {
    if output.exists() {
        bail!("{} exists already: name a new file", output.display());
    }
    let store = SqlStore::connect(url)
        .await
        .with_context(|| format!("opening database {url}"))?;
    let (schema_version, _) = store.schema_version().await?;
    let work = tempfile::Builder::new()
        .prefix(".mashangban-backup-")
        .tempdir_in(
            output
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new(".")),
        )
        .context("making a working folder beside the output")?;
    let before_dump = store.count_tickets().await?;
    let (db_file, db_name) = if is_postgres(url) {
        let dump = work.path().join(PG_DUMP);
        let dump_arg = format!("--file={}", dump.display());
        let db_arg = format!("--dbname={url}");
        tokio::task::spawn_blocking(move || {
            run_tool(
                "pg_dump",
                &[
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    &dump_arg,
                    &db_arg,
                ],
            )
        })
        .await??;
        (dump, PG_DUMP)
    } else {
        let copy = work.path().join(SQLITE_DB);
        store
            .copy_to(&copy)
            .await
            .context("copying the SQLite database (VACUUM INTO)")?;
        (copy, SQLITE_DB)
    };
    // The tickets of the copy, not of the live database (which has gone on); of a dump,
    // those there as it began (it holds at least these).
    let tickets = if is_postgres(url) {
        before_dump
    } else {
        SqlStore::count_tickets_in_file(&db_file).await?
    };
    let files = kept_files(files_dir)?;
    let manifest = Manifest {
        format: 1,
        backend: if is_postgres(url) {
            "postgresql"
        } else {
            "sqlite"
        }
        .into(),
        schema_version,
        created_at: chrono::Utc::now(),
        made_by: env!("CARGO_PKG_VERSION").into(),
        tickets,
        files: files.len() as u64,
    };
    let text = serde_json::to_vec_pretty(&manifest)?;
    let partial = output.with_extension("partial");
    let out = partial.clone();
    tokio::task::spawn_blocking(move || -> Result<()> {
        let file =
            std::fs::File::create(&out).with_context(|| format!("creating {}", out.display()))?;
        let mut tar = tar::Builder::new(std::io::BufWriter::new(file));
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(chrono::Utc::now().timestamp() as u64);
        header.set_cksum();
        tar.append_data(&mut header, MANIFEST, text.as_slice())?;
        tar.append_path_with_name(&db_file, db_name)?;
        for (path, rel) in &files {
            tar.append_path_with_name(path, format!("{FILES}/{rel}"))?;
        }
        let w = tar.into_inner()?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        Ok(())
    })
    .await??;
    std::fs::rename(&partial, output)?;
    Ok(manifest)
}

/// What a restore did.
pub struct Restored {
    pub manifest: Manifest,
    pub files: u64,
}

/// Restores the archive `input` into the database at `url` (a stopped server's) and its
/// files under `files_dir`; removes the search index at `search_dir` so that it is built
/// again from the restored events.
pub async fn restore(
    url: &str,
    files_dir: &Path,
    search_dir: Option<&Path>,
    input: &Path,
    force: bool,
) -> Result<Restored> {
    let file =
        std::fs::File::open(input).with_context(|| format!("opening {}", input.display()))?;
    let mut archive = tar::Archive::new(std::io::BufReader::new(file));
    let mut entries = archive.entries()?;
    let manifest: Manifest = {
        let mut first = entries.next().context("the archive is empty")??;
        if first.path()?.to_str() != Some(MANIFEST) {
            bail!(
                "{} is not a Mashangban backup (no {MANIFEST} first)",
                input.display()
            );
        }
        let mut text = String::new();
        std::io::Read::read_to_string(&mut first, &mut text)?;
        serde_json::from_str(&text).context("reading the manifest")?
    };
    if manifest.format != 1 {
        bail!(
            "this backup's format ({}) is newer than this binary knows",
            manifest.format
        );
    }
    let into_postgres = is_postgres(url);
    if (manifest.backend == "postgresql") != into_postgres {
        bail!(
            "this backup is of a {} database; restore it into one of the same kind",
            manifest.backend
        );
    }
    let work = tempfile::Builder::new()
        .prefix(".mashangban-restore-")
        .tempdir_in(
            files_dir
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new(".")),
        )
        .or_else(|_| tempfile::tempdir())?;
    let mut files = 0u64;
    let mut database: Option<PathBuf> = None;
    for entry in entries {
        let mut entry = entry?;
        let name = entry.path()?.to_string_lossy().to_string();
        if name == SQLITE_DB || name == PG_DUMP {
            let to = work.path().join(&name);
            entry.unpack(&to)?;
            database = Some(to);
        } else if let Some(rel) = name.strip_prefix(&format!("{FILES}/")) {
            // Only `ab/cd/<sha-256>`: nothing in an archive writes outside the folder.
            let parts: Vec<&str> = rel.split('/').collect();
            let plain = parts.len() == 3
                && parts[0].len() == 2
                && parts[1].len() == 2
                && parts[2].len() == 64
                && parts.iter().all(|p| is_hex(p))
                && parts[2].starts_with(&format!("{}{}", parts[0], parts[1]));
            if !plain {
                bail!("the archive names a file `{name}` that is not one of ours");
            }
            let to = files_dir.join(rel);
            if !to.exists() {
                std::fs::create_dir_all(to.parent().expect("ab/cd"))?;
                let tmp = to.with_extension("restoring");
                entry.unpack(&tmp)?;
                std::fs::rename(&tmp, &to)?;
            }
            files += 1;
        } else {
            bail!("the archive holds `{name}`, which is not one of ours");
        }
    }
    let database = database.context("the archive holds no database")?;
    if into_postgres {
        let store = SqlStore::connect(url).await?;
        // A database with our schema in it (else the query fails: a new, empty one).
        let ours = store.schema_version().await.is_ok();
        if ours && !force {
            bail!(
                "the database at {url} is not empty: restore into a new database, or add --force to replace what it holds"
            );
        }
        drop(store);
        let dump = database.display().to_string();
        let db_arg = format!("--dbname={url}");
        tokio::task::spawn_blocking(move || {
            run_tool(
                "pg_restore",
                &[
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--no-privileges",
                    "--single-transaction",
                    "--exit-on-error",
                    &db_arg,
                    &dump,
                ],
            )
        })
        .await??;
    } else {
        let path = sqlite_path(url)?;
        if path.exists() && !force {
            bail!(
                "{} exists: restore into a new file, or add --force to replace it (stop the server first)",
                path.display()
            );
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        // The old log would be replayed over the restored file.
        for suffix in ["-wal", "-shm"] {
            let side = PathBuf::from(format!("{}{suffix}", path.display()));
            if side.exists() {
                std::fs::remove_file(&side)?;
            }
        }
        let staged = PathBuf::from(format!("{}.restoring", path.display()));
        std::fs::copy(&database, &staged)?;
        std::fs::File::open(&staged)?.sync_all()?;
        std::fs::rename(&staged, &path)?;
    }
    if let Some(dir) = search_dir
        && dir.exists()
    {
        std::fs::remove_dir_all(dir)
            .with_context(|| format!("removing the old search index {}", dir.display()))?;
    }
    Ok(Restored { manifest, files })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_kept_files_are_backed_up() {
        let dir = tempfile::tempdir().unwrap();
        let sha = "ab".to_string() + "cd" + &"0".repeat(60);
        std::fs::create_dir_all(dir.path().join("ab/cd")).unwrap();
        std::fs::write(dir.path().join("ab/cd").join(&sha), b"x").unwrap();
        std::fs::create_dir_all(dir.path().join("incoming")).unwrap();
        std::fs::write(dir.path().join("incoming/upload-1"), b"half").unwrap();
        std::fs::write(dir.path().join("ab/cd/notes.txt"), b"?").unwrap();
        let found = kept_files(dir.path()).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1, format!("ab/cd/{sha}"));
        assert!(kept_files(&dir.path().join("none")).unwrap().is_empty());
    }
}
