//! `mashangban backup` while the server takes requests, then `mashangban restore` into a
//! new database: every ticket whose create was answered before the backup began is in the
//! restored database, and its evaluation aggregates equal a rebuild from its events — on
//! SQLite and on PostgreSQL.

use mashangban_store::traits::*;
use mashangban_store::{SqlStore, testing};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;

use common::{BIN, start_server_with};

fn cli(db: &str, env: &[(&str, &str)], args: &[&str]) -> String {
    let out = std::process::Command::new(BIN)
        .arg("--database")
        .arg(db)
        .args(args)
        .env("MASHANGBAN_LOG", "warn")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Everything the evaluation reads, from the aggregates.
async fn aggregates(s: &SqlStore) -> String {
    use mashangban_domain::aggregates::Dim;
    let (from, to) = (
        chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
        chrono::NaiveDate::from_ymd_opt(2100, 1, 1).unwrap(),
    );
    let mut out = String::new();
    for dim in Dim::ALL {
        for days in [true, false] {
            out.push_str(&format!(
                "{dim:?} {days}: {:?}\n",
                s.kpi_tallies(dim, from, to, days).await.unwrap()
            ));
        }
    }
    out.push_str(&format!("{:?}", s.kpi_facts(from, to).await.unwrap()));
    out
}

/// A kept file as the server keeps them: under its SHA-256.
fn keep_a_file(files: &std::path::Path, bytes: &[u8]) -> std::path::PathBuf {
    use sha2::Digest;
    let sha = hex::encode(sha2::Sha256::digest(bytes));
    let path = files.join(&sha[0..2]).join(&sha[2..4]).join(&sha);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

async fn backup_under_load(source: &str, target: &str) {
    let work = tempfile::tempdir().unwrap();
    let files = work.path().join("files");
    let files_env = files.to_str().unwrap();
    cli(
        source,
        &[],
        &[
            "demo",
            "--no-serve",
            "--tickets",
            "20",
            "--history-months",
            "0",
        ],
    );
    let token = cli(
        source,
        &[],
        &[
            "token",
            "issue",
            "--username",
            "operator",
            "--name",
            "load",
            "--days",
            "1",
        ],
    )
    .trim()
    .to_string();
    let demo = SqlStore::connect(source)
        .await
        .unwrap()
        .count_tickets()
        .await
        .unwrap() as usize;
    let photo = keep_a_file(&files, b"\x89PNG\r\n\x1a\n a photo's bytes");
    let (mut server, base) = start_server_with(
        source,
        &[
            ("MASHANGBAN_SEARCH_DIR", "memory"),
            ("MASHANGBAN_FILES_DIR", files_env),
        ],
    )
    .await;

    // Four clients create tickets without pause; each answered create is noted with when
    // its answer came.
    let stop = Arc::new(AtomicBool::new(false));
    let answered: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let mut clients = Vec::new();
    for c in 0..4 {
        let (stop, answered, base, token) =
            (stop.clone(), answered.clone(), base.clone(), token.clone());
        clients.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let r = http
                    .post(format!("{base}/api/v1/tickets"))
                    .bearer_auth(&token)
                    .json(&json!({"channel": "phone", "kind": "complaint",
                        "content": format!("客户{c}第{i}件：小区路灯不亮"),
                        "citizen": {"phone": "13812345678"},
                        "category_code": "010403", "division_code": "630102001001"}))
                    .send()
                    .await;
                if let Ok(r) = r
                    && r.status() == reqwest::StatusCode::CREATED
                {
                    let number = r.json::<serde_json::Value>().await.unwrap()["number"]
                        .as_str()
                        .unwrap()
                        .to_string();
                    answered.lock().unwrap().push((number, Instant::now()));
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let archive = work.path().join("backup.tar");
    let began = Instant::now();
    let out = tokio::process::Command::new(BIN)
        .args(["--database", source, "backup", "--output"])
        .arg(&archive)
        .env("MASHANGBAN_LOG", "warn")
        .env("MASHANGBAN_FILES_DIR", files_env)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The load goes on a moment after the backup, then stops.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    server.kill().await.unwrap();
    let answered = answered.lock().unwrap().clone();
    let before: Vec<&String> = answered
        .iter()
        .filter(|(_, at)| *at < began)
        .map(|(n, _)| n)
        .collect();
    let during = answered.len() - before.len();
    assert!(
        before.len() >= 20,
        "the load ran before the backup: {}",
        before.len()
    );
    assert!(during > 0, "and while it was taken");
    eprintln!(
        "{source}: {} answered before the backup began, {during} after",
        before.len()
    );

    // Restore into a new database with files of its own.
    let restored_files = work.path().join("restored-files");
    let said = cli(
        target,
        &[("MASHANGBAN_FILES_DIR", restored_files.to_str().unwrap())],
        &["restore", "--input", archive.to_str().unwrap()],
    );
    assert!(said.starts_with("restored "), "{said}");
    let restored = SqlStore::connect(target).await.unwrap();
    for number in &before {
        assert!(
            restored.ticket_by_number(number).await.unwrap().is_some(),
            "{number} was answered before the backup began and is missing"
        );
    }
    let in_backup = restored.count_tickets().await.unwrap() as usize;
    assert!(
        in_backup >= demo + before.len() && in_backup <= demo + answered.len() + 4,
        "{in_backup} tickets: the demo's, those before, and at most those answered or in flight"
    );
    assert_eq!(
        std::fs::read(restored_files.join(photo.strip_prefix(&files).unwrap())).unwrap(),
        b"\x89PNG\r\n\x1a\n a photo's bytes"
    );
    // The aggregates of the copy are those its events give.
    let kept = aggregates(&restored).await;
    restored.rebuild_aggregates().await.unwrap();
    assert_eq!(aggregates(&restored).await, kept);

    // Not over a database that is there, unless asked.
    let out = std::process::Command::new(BIN)
        .args(["--database", target, "restore", "--input"])
        .arg(&archive)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--force"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backup_under_load_on_sqlite() {
    backup_under_load(&testing::sqlite_url(), &testing::sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backup_under_load_on_postgres() {
    let Some(source) = testing::postgres_url("backup_source").await else {
        return;
    };
    let target = testing::postgres_url("backup_target").await.unwrap();
    backup_under_load(&source, &target).await;
}
