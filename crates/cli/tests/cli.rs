//! The command line: seed, users, tokens and the demo, as an administrator runs them.

use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_mashangban");

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args(args)
        .env("MASHANGBAN_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn ok(args: &[&str], stdin: Option<&str>) -> String {
    let out = run(args, stdin);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fails(args: &[&str], stdin: Option<&str>) -> String {
    let out = run(args, stdin);
    assert!(!out.status.success(), "{args:?} should fail");
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn seed_users_and_tokens() {
    let db = mashangban_store::testing::sqlite_url();
    let first = ok(&["--database", &db, "seed", "xining"], None);
    assert!(first.contains("1188 divisions"), "{first}");
    assert!(first.contains("1209 new units"), "{first}");
    let again = ok(&["--database", &db, "seed", "xining"], None);
    assert!(
        again.contains("0 new units"),
        "seeding twice duplicates nothing: {again}"
    );

    ok(
        &[
            "--database",
            &db,
            "user",
            "add",
            "--username",
            "zhang",
            "--role",
            "unit_handler",
            "--unit",
            "GOV-630102001",
            "--password-stdin",
        ],
        Some("a-long-password\n"),
    );
    let token = ok(
        &["--database", &db, "token", "issue", "--username", "zhang"],
        None,
    );
    assert!(token.trim().starts_with("mb_"));
    let tokens = ok(
        &["--database", &db, "token", "list", "--username", "zhang"],
        None,
    );
    assert!(tokens.contains("zhang\tcli"), "{tokens}");
    assert!(tokens.trim_end().ends_with("active"), "{tokens}");
    let id = tokens.split('\t').next().unwrap().trim().to_string();
    assert!(ok(&["--database", &db, "token", "revoke", "--id", &id], None).contains("revoked"));
    assert!(
        ok(&["--database", &db, "token", "list"], None)
            .trim_end()
            .ends_with("revoked")
    );
    assert!(
        fails(&["--database", &db, "token", "revoke", "--id", &id], None)
            .contains("no active token")
    );
    let list = ok(&["--database", &db, "user", "list"], None);
    assert!(list.contains("zhang\tunit_handler"), "{list}");

    assert!(
        fails(
            &[
                "--database",
                &db,
                "user",
                "add",
                "--username",
                "x1",
                "--role",
                "boss"
            ],
            None
        )
        .contains("--role")
    );
    assert!(
        fails(
            &[
                "--database",
                &db,
                "user",
                "add",
                "--username",
                "x2",
                "--role",
                "unit_handler"
            ],
            None
        )
        .contains("unit")
    );
    assert!(
        fails(
            &[
                "--database",
                &db,
                "user",
                "add",
                "--username",
                "x3",
                "--role",
                "operator",
                "--password-stdin"
            ],
            Some("short\n")
        )
        .contains("password")
    );
    assert!(
        fails(
            &[
                "--database",
                &db,
                "user",
                "add",
                "--username",
                "zhang",
                "--role",
                "operator"
            ],
            None
        )
        .contains("already exists")
    );
    assert!(
        fails(
            &["--database", &db, "token", "issue", "--username", "nobody"],
            None
        )
        .contains("not found")
    );
    assert!(
        fails(&["--database", "mysql://x", "migrate"], None).contains("unsupported database URL")
    );
}

#[test]
fn demo_prepares_every_state() {
    let dir = std::env::temp_dir().join(format!("mashangban-demo-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = ok(
        &[
            "demo",
            "--data-dir",
            dir.to_str().unwrap(),
            "--tickets",
            "150",
            "--history-months",
            "3",
            "--no-serve",
        ],
        None,
    );
    for state in [
        "received",
        "resolved_directly",
        "dispatched",
        "in_progress",
        "return_requested",
        "in_consultation",
        "replied",
        "awaiting_callback",
        "rating_review",
        "closed",
        "merged",
        "not_accepted",
    ] {
        assert!(
            out.contains(&format!("  {state} ")),
            "demo has a ticket {state}:\n{out}"
        );
    }
    for user in [
        "operator",
        "dispatcher",
        "handler",
        "callback",
        "supervisor",
        "leader",
        "admin",
    ] {
        assert!(
            out.contains(&format!("  {user} ")),
            "demo user {user}:\n{out}"
        );
    }
    // Three months of past requests came before the month of tickets.
    assert!(out.contains(" past requests over 3 months in "), "{out}");
    // Deadlines count in office hours, not through the night.
    assert!(
        out.contains("deadline policy: working hours 08:30-12:00,14:30-18:00"),
        "{out}"
    );
    // The tickets came in in time order (the seed's stories and the stopped tickets too):
    // the list, newest first by number, reads newest first by time.
    let db = format!("sqlite://{}/demo.db", dir.to_str().unwrap());
    let tickets = tokio::runtime::Runtime::new().unwrap().block_on(async {
        use mashangban_store::TicketStore;
        let store = mashangban_store::SqlStore::connect(&db).await.unwrap();
        store
            .list_tickets(&mashangban_store::TicketFilter {
                limit: 500,
                ..Default::default()
            })
            .await
            .unwrap()
    });
    assert!(tickets.len() >= 150, "{}", tickets.len());
    let late = tickets
        .windows(2)
        .filter(|w| w[0].created_at < w[1].created_at)
        .map(|w| format!("{} before {}", w[0].number, w[1].number))
        .collect::<Vec<_>>();
    assert!(late.is_empty(), "out of time order: {late:?}");
    // A second run reuses the database.
    let again = ok(
        &["demo", "--data-dir", dir.to_str().unwrap(), "--no-serve"],
        None,
    );
    assert!(!again.contains("generated"), "{again}");
    assert!(!again.contains("imported"), "{again}");
    assert!(!again.contains("deadline policy"), "{again}");
    // The evaluation aggregates rebuild from the demo's events.
    let rebuilt = ok(&["aggregates", "rebuild", "--database", &db], None);
    assert!(
        rebuilt.starts_with("evaluation aggregates rebuilt: ") && !rebuilt.contains(" 0 events"),
        "{rebuilt}"
    );
    // The daily report of any day, and the monthly report, from the command line.
    let daily = ok(
        &["report", "daily", "--date", "2026-01-13", "--database", &db],
        None,
    );
    assert!(
        daily.starts_with("12345政务服务便民热线工作日报\n2026-01-13\n"),
        "{daily}"
    );
    assert!(
        daily.contains("1月13日，12345政务服务便民热线接听群众来电诉求"),
        "{daily}"
    );
    let html = dir.join("monthly.html");
    ok(
        &[
            "report",
            "monthly",
            "--month",
            "2026-01",
            "--database",
            &db,
            "--output",
            html.to_str().unwrap(),
        ],
        None,
    );
    let doc = std::fs::read_to_string(&html).unwrap();
    assert!(
        doc.contains("2026年1月12345政务服务便民热线考评通报"),
        "{doc}"
    );
    assert!(
        fails(
            &["report", "monthly", "--month", "2026/01", "--database", &db],
            None
        )
        .contains("YYYY-MM")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn calendar_due_explains_and_flags_unknown_years() {
    let db = mashangban_store::testing::sqlite_url();
    let seeded = ok(&["--database", &db, "seed", "xining"], None);
    assert!(seeded.contains("254 calendar days"), "{seeded}");
    let again = ok(&["--database", &db, "seed", "xining"], None);
    assert!(again.contains("0 calendar days"), "{again}");
    let due = |args: &[&str]| {
        let mut all = vec!["--database", db.as_str(), "calendar", "due"];
        all.extend_from_slice(args);
        run(&all, None)
    };
    // National Day 2026: Wednesday 16:00 + 3 working days is the make-up Saturday 10-10.
    let out = due(&["--from", "2026-09-30T16:00:00+08:00", "--working-days", "3"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().next(), Some("2026-10-10T16:00:00+08:00"));
    assert!(
        text.contains("holiday (国庆节), skipped")
            && text.contains("make-up workday (国庆节), counted")
    );
    // Office hours, in hours.
    let out = due(&[
        "--from",
        "2026-11-27T17:00:00+08:00",
        "--working-hours",
        "2",
        "--hours",
        "08:30-12:00,14:30-18:00",
    ]);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().lines().next(),
        Some("2026-11-30T09:30:00+08:00")
    );
    // 2027 has no data: the time is printed, flagged, and the command fails saying why.
    let out = due(&["--from", "2026-12-30T16:00:00+08:00", "--working-days", "3"]);
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("no data for 2027"), "{err}");
    // Published by the administrator: no longer flagged.
    ok(
        &[
            "--database",
            &db,
            "calendar",
            "set",
            "--date",
            "2027-01-01",
            "--kind",
            "holiday",
            "--name",
            "元旦",
        ],
        None,
    );
    let out = due(&["--from", "2026-12-30T16:00:00+08:00", "--working-days", "3"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().lines().next(),
        Some("2027-01-05T16:00:00+08:00")
    );
    let shown = ok(
        &["--database", &db, "calendar", "show", "--year", "2027"],
        None,
    );
    assert!(shown.contains("schedule known") && shown.contains("2027-01-01 holiday"));
    // Bad input says what is wrong.
    let err = fails(
        &[
            "--database",
            &db,
            "calendar",
            "due",
            "--from",
            "yesterday",
            "--working-days",
            "1",
        ],
        None,
    );
    assert!(err.contains("not an RFC 3339 time"), "{err}");
    let err = fails(
        &[
            "--database",
            &db,
            "calendar",
            "set",
            "--date",
            "2027-02-30",
            "--kind",
            "holiday",
        ],
        None,
    );
    assert!(err.contains("not a date"), "{err}");
    let err = fails(
        &[
            "--database",
            &db,
            "calendar",
            "due",
            "--from",
            "2026-09-30T16:00:00+08:00",
        ],
        None,
    );
    assert!(err.contains("--working-days"), "{err}");
}

/// A fixture written for the project (three categories of hotline requests).
fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn classifier_eval_on_a_held_out_file_and_by_cross_validation() {
    let out = ok(
        &[
            "classifier",
            "eval",
            "--train",
            &fixture("requests_train.jsonl"),
            "--test",
            &fixture("requests_test.jsonl"),
        ],
        None,
    );
    assert!(out.contains("precision"), "{out}");
    assert!(out.contains("confusion matrix"), "{out}");
    assert!(out.contains("top-3 accuracy 1.0000"), "{out}");
    assert!(out.contains("reliability"), "{out}");
    let last = out.lines().last().unwrap();
    assert_eq!(last, "accuracy=1.0000 macro_f1=1.0000", "{out}");
    let out = ok(
        &[
            "classifier",
            "eval",
            "--train",
            &fixture("requests_train.jsonl"),
            "--folds",
            "3",
        ],
        None,
    );
    let last = out.lines().last().unwrap();
    let f1: f64 = last
        .split("macro_f1=")
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("last line: {last}"));
    assert!(f1 > 0.7, "{out}");
}

#[test]
fn classifier_eval_names_a_bad_line() {
    let dir = std::env::temp_dir().join(format!("mb-cls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"title\":\"a\",\"body\":\"b\",\"label\":\"x\"}\n{\"title\":\"c\"}\n",
    )
    .unwrap();
    let err = fails(
        &["classifier", "eval", "--train", bad.to_str().unwrap()],
        None,
    );
    assert!(err.contains("line 2: no label"), "{err}");
    std::fs::write(&bad, "not json\n").unwrap();
    let err = fails(
        &["classifier", "eval", "--train", bad.to_str().unwrap()],
        None,
    );
    assert!(err.contains("line 1"), "{err}");
    let train = fixture("requests_train.jsonl");
    let err = fails(
        &["classifier", "eval", "--train", &train, "--hold-out"],
        None,
    );
    assert!(
        err.contains("line 1: --hold-out needs a whole-number `id`"),
        "{err}"
    );
    let err = fails(
        &["classifier", "eval", "--train", &train, "--labels", "5"],
        None,
    );
    assert!(err.contains("--labels needs --test or --hold-out"), "{err}");
    let err = fails(
        &[
            "classifier",
            "eval",
            "--train",
            &train,
            "--test",
            &train,
            "--labels",
            "0",
        ],
        None,
    );
    assert!(err.contains("give --taxonomy"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

/// The shared competition data (never in the repository): on the held-out split (ids
/// that are multiples of 3, never used to choose anything) the classifier must reach the
/// issue's macro-F1 of 0.85. Skips, saying so, where the data is absent.
#[test]
fn classifier_reaches_the_target_on_the_shared_messages() {
    let data =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/tipdm2020");
    if !data.join("labelled.jsonl").exists() {
        eprintln!(
            "SKIPPED: {} is absent (the shared data is not part of a clone)",
            data.display()
        );
        return;
    }
    let p = |f: &str| data.join(f).to_string_lossy().into_owned();
    let out = ok(
        &[
            "classifier",
            "eval",
            "--train",
            &p("labelled.jsonl"),
            "--taxonomy",
            &p("taxonomy.csv"),
            "--unlabelled",
            &p("messages_with_votes.jsonl"),
            "--unlabelled",
            &p("messages_with_replies.jsonl"),
            "--hold-out",
        ],
        None,
    );
    assert!(out.contains("299 held-out texts"), "{out}");
    assert!(out.contains("over 622 development texts"), "{out}");
    let last = out.lines().last().unwrap();
    let f1: f64 = last.split("macro_f1=").nth(1).unwrap().parse().unwrap();
    assert!(f1 >= 0.85, "{out}");
    // The calibration is measured: a reliability table and its error.
    assert!(out.contains("expected calibration error"), "{out}");
}

/// Reply inspection on the real replies labelled in the repository (`eval/replies/`, by
/// id; the texts are the shared data's): the figures of the part never looked at while
/// writing the rules stay where the README reports them. Skips, saying so, where the data
/// is absent.
#[test]
fn reply_inspection_finds_what_the_labels_say() {
    let data =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/tipdm2020");
    let messages = data.join("messages_with_replies.jsonl");
    if !messages.exists() {
        eprintln!(
            "SKIPPED: {} is absent (the shared data is not part of a clone)",
            messages.display()
        );
        return;
    }
    let labels = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../eval/replies/labels.jsonl")
        .to_string_lossy()
        .into_owned();
    let out = ok(
        &[
            "replies",
            "eval",
            "--labels",
            &labels,
            "--messages",
            &messages.to_string_lossy(),
        ],
        None,
    );
    assert!(out.starts_with("200 replies"), "{out}");
    let figure = |name: &str| last_figure(&out, name);
    // The clear-cut findings are mostly right when made.
    assert!(figure("no_action_precision") >= 0.7, "{out}");
    assert!(figure("buck_passing_precision") >= 0.75, "{out}");
    assert!(figure("empty_promise_precision") >= 0.5, "{out}");
    // The semantic one is a hint: about half right, and about half found.
    assert!(figure("unaddressed_point_precision") >= 0.4, "{out}");
    assert!(figure("unaddressed_point_recall") >= 0.4, "{out}");
}

/// A `name=value` figure of an evaluation's last line.
fn last_figure(out: &str, name: &str) -> f64 {
    let last = out.lines().last().unwrap_or("");
    last.split(&format!("{name}="))
        .nth(1)
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} on the last line: {out}"))
}

/// The knowledge answers offered with the suggestions, on the labelled set in the
/// repository (`eval/knowledge/`): on the lines never used to set the thresholds, at least
/// 9 offers in 10 are about what was asked.
#[test]
fn knowledge_offers_are_about_what_was_asked() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../eval/knowledge");
    let p = |f: &str| root.join(f).to_string_lossy().into_owned();
    let out = ok(
        &[
            "knowledge",
            "eval",
            "--articles",
            &p("articles.jsonl"),
            "--requests",
            &p("requests.jsonl"),
        ],
        None,
    );
    assert!(out.contains("26 articles"), "{out}");
    assert!(out.contains("all: 204 requests"), "{out}");
    let figure = |name: &str| last_figure(&out, name);
    assert!(figure("precision") >= 0.9, "{out}");
    assert!(figure("recall") >= 0.5, "{out}");
}

/// Form filling from free text on the labelled set in the repository
/// (`eval/extraction/`): on the lines never looked at while writing the rules, phone
/// numbers and addresses at F1 ≥ 0.9.
#[test]
fn extraction_reaches_the_target_on_phones_and_addresses() {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../eval/extraction/texts.jsonl")
        .to_string_lossy()
        .into_owned();
    let out = ok(&["extract", "eval", "--file", &file], None);
    assert!(out.starts_with("202 texts"), "{out}");
    let figure = |name: &str| last_figure(&out, name);
    assert!(figure("phone_f1") >= 0.9, "{out}");
    assert!(figure("address_f1") >= 0.9, "{out}");
}

#[test]
fn hotspots_of_a_file_of_messages() {
    let out = ok(
        &[
            "hotspots",
            "--file",
            &fixture("hot_messages.jsonl"),
            "--top",
            "2",
            "--details",
        ],
        None,
    );
    let first = out
        .lines()
        .find(|l| l.starts_with("1\t"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(first.contains("2026/03/01 至 2026/03/03"), "{first}");
    assert!(first.contains("丽发新城"), "{first}");
    assert!(first.contains("\t100.0\t"), "{first}");
    assert!(out.contains("5 messages"), "{out}");
    // The details list the first problem's three messages.
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with("1\t") && l.contains("2026/03/0"))
            .count(),
        4,
        "{out}"
    );
    let bad = fails(&["hotspots", "--file", "/nonexistent.jsonl"], None);
    assert!(bad.contains("/nonexistent.jsonl"), "{bad}");
}

/// The settings file of an installed server: its lines count as environment variables not
/// already set; a bad line or format stops the binary, naming it.
#[test]
fn a_settings_file_is_read_and_the_environment_overrides_it() {
    let dir = tempfile::tempdir().unwrap();
    let from_file = dir.path().join("from-file.db");
    let from_env = dir.path().join("from-env.db");
    let conf = dir.path().join("mashangban.conf");
    std::fs::write(
        &conf,
        format!(
            "# settings\nMASHANGBAN_DATABASE_URL=sqlite://{}\nMASHANGBAN_LOG_FORMAT=json\n",
            from_file.display()
        ),
    )
    .unwrap();
    let with = |env: &[(&str, &str)], args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .env("MASHANGBAN_CONFIG", &conf)
            .env_remove("MASHANGBAN_DATABASE_URL")
            .envs(env.iter().copied())
            .output()
            .unwrap()
    };
    let out = with(&[], &["migrate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(from_file.exists());
    // Its log lines are JSON, as the file says.
    let log = String::from_utf8_lossy(&out.stderr);
    let first = log.lines().next().expect("migrations are logged");
    let line: serde_json::Value = serde_json::from_str(first).unwrap();
    assert_eq!(line["level"], "INFO", "{first}");
    let url = format!("sqlite://{}", from_env.display());
    let out = with(&[("MASHANGBAN_DATABASE_URL", &url)], &["migrate"]);
    assert!(out.status.success());
    assert!(from_env.exists(), "the environment wins over the file");

    std::fs::write(&conf, "MASHANGBAN_ADDR=127.0.0.1:1\nPATH=/tmp\n").unwrap();
    let out = with(&[], &["migrate"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 2: `PATH` is not a setting of Mashangban"),
        "{err}"
    );
    std::fs::write(&conf, "MASHANGBAN_LOG_FORMAT=xml\n").unwrap();
    let err = String::from_utf8_lossy(&with(&[], &["migrate"]).stderr).to_string();
    assert!(
        err.contains("MASHANGBAN_LOG_FORMAT must be `json` or `text`, not `xml`"),
        "{err}"
    );
    let out = Command::new(BIN)
        .args(["migrate"])
        .env("MASHANGBAN_CONFIG", dir.path().join("none.conf"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("which is not a file"));
}

/// `mashangban doctor` on a demo database and on none.
#[test]
fn doctor_says_what_is_set_and_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/d.db", dir.path().display());
    ok(
        &[
            "--database",
            &db,
            "demo",
            "--no-serve",
            "--tickets",
            "0",
            "--history-months",
            "0",
        ],
        None,
    );
    let out = run(&["--database", &db, "doctor"], None);
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{said}");
    for line in [
        "ok    schema is current (39 migrations)",
        "WARN  SMS are only written to the log",
        "ok    files folder",
    ] {
        assert!(said.lines().any(|l| l.starts_with(line)), "{line}\n{said}");
    }
    assert!(said.contains("administrator(s)"), "{said}");
    // The shipped calendar ends with 2026: what is said of a year depends on today.
    assert!(said.contains("official calendar of "), "{said}");
    let missing = format!("sqlite://{}/none.db", dir.path().display());
    let out = run(&["--database", &missing, "doctor"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("FAIL  database"));
    assert!(!dir.path().join("none.db").exists(), "doctor makes nothing");
}
