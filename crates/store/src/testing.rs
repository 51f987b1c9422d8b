//! Fresh databases for tests: a temporary SQLite file, or a new PostgreSQL database
//! created from `TEST_DATABASE_URL` (tests that need it skip, loudly, without it — or
//! fail, when `MB_REQUIRE_POSTGRES=1` says the run must cover PostgreSQL, as in CI).

use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}_{}_{}", std::process::id(), nanos % 1_000_000_000, n)
}

/// A URL of a new SQLite database file in the system's temporary folder.
pub fn sqlite_url() -> String {
    let dir = std::env::temp_dir().join("mashangban-tests");
    let _ = std::fs::create_dir_all(&dir);
    format!("sqlite://{}/t{}.db", dir.display(), unique())
}

/// The URL of a new, empty PostgreSQL database, or `None` (with a message on stderr)
/// when `TEST_DATABASE_URL` is not set.
pub async fn postgres_url(test: &str) -> Option<String> {
    let Ok(base) = std::env::var("TEST_DATABASE_URL") else {
        if std::env::var("MB_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
            panic!(
                "MB_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set: the PostgreSQL half of `{test}` cannot run"
            );
        }
        eprintln!(
            "SKIPPED (PostgreSQL half of `{test}`): set TEST_DATABASE_URL=postgres://... to run it"
        );
        return None;
    };
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let name = format!("mb_test_{}", unique());
    let mut conn = sqlx::AnyConnection::connect(&base)
        .await
        .unwrap_or_else(|e| panic!("TEST_DATABASE_URL={base} is set but unreachable: {e}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let _ = conn.close().await;
    let (head, _) = match base.rsplit_once('/') {
        Some((h, db)) if !h.ends_with('/') => (h.to_string(), db),
        _ => panic!("TEST_DATABASE_URL must name a database: postgres://host/db"),
    };
    Some(format!("{head}/{name}"))
}
