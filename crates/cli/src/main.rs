//! `mashangban`: the 12345 hotline platform in one binary.

mod anonymise_eval;
mod backup;
mod bench;
mod bench_import;
mod bench_meter;
mod bench_public;
mod bench_reports;
mod calendar;
mod classifier;
mod doctor;
mod extract_eval;
mod hotspots;
mod jsonl;
mod knowledge_eval;
mod replies_eval;
mod scores;
mod settings;
mod synthetic;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use mashangban_app::auth::UserInput;
use mashangban_app::workers::{WorkerConfig, Workers, delivery_from_env_or};
use mashangban_app::{App, Config, SERVER};
use mashangban_domain::Role;
use mashangban_store::SqlStore;
use mashangban_store::traits::*;
use std::io::Read;
use std::sync::Arc;

const DEFAULT_DATABASE: &str = "sqlite://mashangban-data/mashangban.db";

#[derive(Parser)]
#[command(
    name = "mashangban",
    version,
    about = "马上办 — the 12345 government-service hotline platform"
)]
struct Cli {
    /// Database URL: sqlite://PATH (created if missing) or postgres://USER@HOST/DB.
    #[arg(long, global = true, env = "MASHANGBAN_DATABASE_URL")]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080", env = "MASHANGBAN_ADDR")]
        addr: String,
    },
    /// Create or upgrade the database schema.
    Migrate,
    /// Check this installation: settings, database and schema, administrators, calendar,
    /// SMS gateway, disk space, clocks. Exits 1 when something fails.
    Doctor,
    /// Back up the database and the photos and files of requests into one archive, while
    /// the server runs (SQLite: VACUUM INTO; PostgreSQL: pg_dump).
    Backup {
        /// The archive to write (a new file; a plain tar).
        #[arg(long)]
        output: std::path::PathBuf,
    },
    /// Restore an archive made by `backup` into a stopped server's database (a new SQLite
    /// file or an empty PostgreSQL database), then bring it up to this version's schema.
    Restore {
        /// The archive to read.
        #[arg(long)]
        input: std::path::PathBuf,
        /// Replace the database and files that are there.
        #[arg(long)]
        force: bool,
    },
    /// Load reference data.
    Seed {
        #[command(subcommand)]
        what: SeedWhat,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        cmd: UserCmd,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        cmd: TokenCmd,
    },
    /// Run a demo: a local SQLite database with Xining, demo users and a month of tickets.
    Demo {
        /// Folder for the demo database.
        #[arg(long, default_value = "mashangban-demo")]
        data_dir: String,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// Tickets to generate on a new database.
        #[arg(long, default_value_t = 1200)]
        tickets: usize,
        /// Months of past requests to import before them on a new database (the seasons and
        /// the monthly topics' before-and-after read them); 0 for none.
        #[arg(long, default_value_t = 36)]
        history_months: u32,
        /// Prepare the database and exit without serving.
        #[arg(long)]
        no_serve: bool,
    },
    /// Measure the API: concurrent creates and lifecycle actions over HTTP.
    Bench(bench::BenchArgs),
    /// Benchmark the daily report and the monthly ranking over a large city's year of
    /// aggregates.
    BenchReports(bench_reports::BenchReportsArgs),
    /// Benchmark the historical import: a month of N past tickets from one file, timed, its
    /// figures compared with the file's.
    BenchImport(bench_import::BenchImportArgs),
    /// Hot issues (热点问题) of a file of citizen messages: problems by topic and place,
    /// ranked by heat, in the challenge's table form.
    Hotspots(hotspots::HotspotsArgs),
    /// The official working-day calendar: due times and their explanation, and upkeep.
    Calendar {
        #[command(subcommand)]
        cmd: calendar::CalendarCmd,
    },
    /// The ticket search index: rebuild it from the events.
    Search {
        #[command(subcommand)]
        cmd: SearchCmd,
    },
    /// Reports: the daily report (工作日报) of a day, the monthly report (考评通报) of a month.
    Report {
        #[command(subcommand)]
        cmd: ReportCmd,
    },
    /// Early warnings (预警): run the monitor once and list the open warnings.
    Warnings {
        #[command(subcommand)]
        cmd: WarningsCmd,
    },
    /// The volume forecast (预测) of the next days, by channel, with its back-tested error.
    Forecast {
        /// Days ahead (1 to 28).
        #[arg(long, default_value_t = 14)]
        days: usize,
    },
    /// Import data from another system: past tickets (历史工单) from a CSV or Excel file.
    Import {
        #[command(subcommand)]
        cmd: ImportCmd,
    },
    /// The evaluation aggregates (考评): rebuild them from the events.
    Aggregates {
        #[command(subcommand)]
        cmd: AggregatesCmd,
    },
    /// The ticket classifier: train it on the database's closed tickets, or evaluate it on labelled texts.
    Classifier {
        #[command(subcommand)]
        cmd: classifier::ClassifierCmd,
    },
    /// Taking personal data out of texts (typical cases, open data).
    Anonymise {
        #[command(subcommand)]
        cmd: AnonymiseCmd,
    },
    /// Form filling from free text (智能填单).
    Extract {
        #[command(subcommand)]
        cmd: ExtractCmd,
    },
    /// The knowledge base's answers offered with the suggestions.
    Knowledge {
        #[command(subcommand)]
        cmd: KnowledgeCmd,
    },
    /// Reply inspection (答复质检): what a unit's reply lacks or gets wrong.
    Replies {
        #[command(subcommand)]
        cmd: RepliesCmd,
    },
}

#[derive(Subcommand)]
enum RepliesCmd {
    /// Precision and recall of each finding on real replies labelled by a written rubric
    /// (`eval/replies/`). Last line: `<finding>_precision=… <finding>_recall=…` of the
    /// part never looked at.
    Eval(replies_eval::RepliesEval),
}

#[derive(Subcommand)]
enum AnonymiseCmd {
    /// Recall by kind and precision on texts whose personal data are marked by hand
    /// (`eval/anonymise/`). Last line: `recall=… precision=…` of the part never looked at.
    Eval(anonymise_eval::AnonymiseEval),
}

#[derive(Subcommand)]
enum ExtractCmd {
    /// Field by field precision, recall and F1 on labelled texts (`eval/extraction/`).
    /// Last line: the F1 of each field on the part never looked at.
    Eval(extract_eval::ExtractEval),
}

#[derive(Subcommand)]
enum KnowledgeCmd {
    /// How often the answers offered are about what was asked (precision) and how often an
    /// answer there is gets offered (recall), on labelled requests (`eval/knowledge/`).
    /// Last line: `precision=… recall=…` of the part never used to set the thresholds.
    Eval(knowledge_eval::KnowledgeEval),
}

#[derive(Subcommand)]
enum WarningsCmd {
    /// Look for surges, clusters and repeat callers now (as the server does every
    /// `MASHANGBAN_WARN_SECONDS`), record them, and list the open warnings.
    Scan {
        /// The moment to scan at (RFC 3339; default now).
        #[arg(long)]
        at: Option<chrono::DateTime<chrono::Utc>>,
    },
}

#[derive(Subcommand)]
enum SearchCmd {
    /// Empty this instance's index (`MASHANGBAN_SEARCH_DIR`, or beside a SQLite file) and
    /// index every ticket again from the first event.
    Rebuild,
}

#[derive(Subcommand)]
enum ReportCmd {
    /// The daily report of a business day (Asia/Shanghai).
    Daily {
        /// The day, YYYY-MM-DD.
        #[arg(long)]
        date: chrono::NaiveDate,
        /// text (default), html (a document Word opens), json, or docx (with --output).
        #[arg(long, default_value = "text")]
        format: String,
        /// How many hot issues.
        #[arg(long, default_value_t = 5)]
        top: usize,
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
    /// The monthly report of a calendar month.
    Monthly {
        /// The month, YYYY-MM.
        #[arg(long)]
        month: String,
        /// html (default, a document Word opens), json, or docx (with --output).
        #[arg(long, default_value = "html")]
        format: String,
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum ImportCmd {
    /// Past tickets, one a row (columns: number, received_at, channel, line, kind, title,
    /// content, citizen_name, citizen_phone, address, category_code, division_code,
    /// lead_unit, co_units, tier, dispatched_at, signed_at, replied_at, reply, closed_at,
    /// contacted, resolution, satisfaction): all rows or none; numbers already here are
    /// left as they are.
    Tickets {
        /// A `.csv` (UTF-8) or `.xlsx` file.
        #[arg(long)]
        file: std::path::PathBuf,
        /// Check every row and say what would be imported, writing nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum AggregatesCmd {
    /// Empty the evaluation aggregates and count every ticket's events into them again, in
    /// one transaction (writers wait meanwhile).
    Rebuild,
}

#[derive(Subcommand)]
enum SeedWhat {
    /// Xining's 7 districts/counties, 80 streets/townships, 1,100 communities/villages,
    /// their government units, the hotline centre, city departments and the default categories.
    Xining,
}

#[derive(Subcommand)]
enum UserCmd {
    /// Add a user; the password is read from standard input.
    Add {
        #[arg(long)]
        username: String,
        /// operator, dispatcher, unit_handler, grid_worker, callback_agent, supervisor, analyst or admin.
        #[arg(long)]
        role: String,
        /// The unit id (or unit code) a unit_handler or grid_worker (a community) belongs to.
        #[arg(long)]
        unit: Option<String>,
        /// Display name (defaults to the username).
        #[arg(long)]
        name: Option<String>,
        /// Read the password from standard input (first line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List,
}

#[derive(Subcommand)]
enum TokenCmd {
    /// Issue an API token for a user and print it (it is shown only once).
    Issue {
        #[arg(long)]
        username: String,
        /// What the token is for.
        #[arg(long, default_value = "cli")]
        name: String,
        /// Days the token is valid (at most 3650).
        #[arg(long, default_value_t = mashangban_app::auth::DEFAULT_TOKEN_DAYS)]
        days: u32,
    },
    /// List tokens (never their secret), of one user or of all.
    List {
        #[arg(long)]
        username: Option<String>,
    },
    /// Revoke a token by its id (from `token list`).
    Revoke {
        #[arg(long)]
        id: i64,
    },
}

async fn open(url: &str) -> Result<App> {
    let store = SqlStore::connect(url)
        .await
        .with_context(|| format!("opening database {url}"))?;
    store.migrate().await.context("migrating the database")?;
    Ok(App::new(Arc::new(store), instance_config(url)?))
}

/// The settings of an instance on this database: its folders (search index, files) and
/// what the environment says — the one place backup, restore and doctor read them too.
pub(crate) fn instance_config(url: &str) -> Result<Config> {
    Config {
        search_dir: search_dir(url),
        files_dir: Some(files_dir(url)),
        ..Config::default()
    }
    .with_env()
    .map_err(|e| anyhow::anyhow!(e))
}

/// The file a SQLite URL names (`sqlite://path?mode=rwc` → `path`); none for another
/// database or an in-memory one.
pub(crate) fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && !path.contains(":memory:")).then(|| path.into())
}

/// Where this instance keeps its ticket search index: `MASHANGBAN_SEARCH_DIR` (`memory`:
/// none, built from the events at start), else beside a SQLite file (`DB.search`), else
/// in memory.
pub(crate) fn search_dir(url: &str) -> Option<std::path::PathBuf> {
    match std::env::var("MASHANGBAN_SEARCH_DIR") {
        Ok(d) if d == "memory" => None,
        Ok(d) if !d.is_empty() => Some(d.into()),
        _ => sqlite_file(url).map(|p| format!("{}.search", p.display()).into()),
    }
}

/// Where photos and files are kept unless `MASHANGBAN_FILES_DIR` says: beside a SQLite file
/// (`DB.files`), else `mashangban-files` in the working folder (with PostgreSQL, set
/// `MASHANGBAN_FILES_DIR` to a folder every instance shares).
pub(crate) fn files_dir(url: &str) -> std::path::PathBuf {
    sqlite_file(url)
        .map(|p| format!("{}.files", p.display()).into())
        .unwrap_or_else(|| "mashangban-files".into())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

async fn serve(app: App, addr: &str, default_sms_log: Option<std::path::PathBuf>) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr}"))?;
    let local = listener.local_addr()?;
    println!(
        "mashangban serving on http://{local}  (API: http://{local}/api/v1, OpenAPI: http://{local}/api/v1/openapi.json)"
    );
    // A misconfigured SMS gateway or interval stops the server here, not silently later.
    let config = WorkerConfig::from_env().map_err(|e| anyhow::anyhow!(e))?;
    let delivery = delivery_from_env_or(default_sms_log).map_err(|e| anyhow::anyhow!(e))?;
    // The metrics on an address of their own, if one is set (else on the main address with
    // MASHANGBAN_METRICS_TOKEN, or not at all).
    let metrics = match std::env::var("MASHANGBAN_METRICS_ADDR") {
        Ok(maddr) if !maddr.trim().is_empty() => {
            let l = tokio::net::TcpListener::bind(maddr.trim())
                .await
                .with_context(|| {
                    format!("listening for metrics on {maddr} (MASHANGBAN_METRICS_ADDR)")
                })?;
            println!("metrics on http://{}/metrics", l.local_addr()?);
            let app = app.clone();
            Some(tokio::spawn(async move {
                if let Err(e) = mashangban_web::observe::serve_metrics(app, l).await {
                    tracing::error!(error = %e, "metrics listener");
                }
            }))
        }
        _ => None,
    };
    let workers = Workers::start(&app, &config, delivery);
    mashangban_web::serve(app, listener, shutdown_signal()).await?;
    workers.stop();
    if let Some(m) = metrics {
        m.abort();
    }
    Ok(())
}

fn parse_role(s: &str) -> Result<Role> {
    s.parse::<Role>()
        .map_err(|e| anyhow::anyhow!("--role: {e}"))
}

fn main() {
    // The settings file first, while this is the only thread (it sets variables of the
    // environment, which the arguments may come from); then the log, whose format it may set.
    let fail = |e: String| -> ! {
        eprintln!("error: {e}");
        std::process::exit(2);
    };
    let config = settings::load_config_file().unwrap_or_else(|e| fail(e));
    let cli = Cli::parse();
    let filter = match cli.command {
        Command::Bench(_) | Command::BenchReports(_) | Command::BenchImport(_) => {
            settings::BENCH_FILTER
        }
        _ => settings::DEFAULT_FILTER,
    };
    settings::init_logging(filter).unwrap_or_else(|e| fail(e));
    if let Some(path) = &config {
        tracing::debug!(file = %path.display(), "settings read");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts");
    if let Err(e) = runtime.block_on(run(cli, config.as_deref())) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli, config_file: Option<&std::path::Path>) -> Result<()> {
    let database = cli
        .database
        .clone()
        .unwrap_or_else(|| DEFAULT_DATABASE.to_string());
    match cli.command {
        Command::Serve { addr } => serve(open(&database).await?, &addr, None).await,
        Command::Calendar { cmd } => calendar::run(&open(&database).await?, cmd).await,
        Command::Backup { output } => {
            let config = instance_config(&database)?;
            let files = config.files_dir.unwrap_or_else(|| files_dir(&database));
            let m = backup::backup(&database, &files, &output).await?;
            println!(
                "backed up {} tickets and {} files of {} schema {} to {}",
                m.tickets,
                m.files,
                m.backend,
                m.schema_version,
                output.display()
            );
            Ok(())
        }
        Command::Restore { input, force } => {
            let config = instance_config(&database)?;
            let files = config.files_dir.unwrap_or_else(|| files_dir(&database));
            let r = backup::restore(
                &database,
                &files,
                config.search_dir.as_deref(),
                &input,
                force,
            )
            .await?;
            // The current migrations bring an older backup up to date.
            let app = open(&database).await?;
            let (schema, _) = app.store().schema_version().await?;
            let tickets = app.store().count_tickets().await?;
            println!(
                "restored {} tickets and {} files from {} (made {}, schema {} → {schema}); the search index is built again when the server starts",
                tickets,
                r.files,
                input.display(),
                r.manifest.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
                r.manifest.schema_version,
            );
            Ok(())
        }
        Command::Doctor => {
            // A bad setting is the doctor's to report, not a reason to stop before it.
            let config = instance_config(&database).unwrap_or_else(|_| Config {
                search_dir: search_dir(&database),
                files_dir: Some(files_dir(&database)),
                ..Config::default()
            });
            let files = config.files_dir.unwrap_or_else(|| files_dir(&database));
            let report =
                doctor::check(&database, config_file, &files, config.search_dir.as_deref()).await;
            report.print();
            if report.worst() == doctor::Level::Fail {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Migrate => {
            open(&database).await?;
            println!("database {database} is up to date");
            Ok(())
        }
        Command::Seed {
            what: SeedWhat::Xining,
        } => {
            let app = open(&database).await?;
            let r = app.seed_xining().await?;
            println!(
                "seeded Xining: {} divisions, {} new units, {} new categories, {} calendar days, {} merged hotlines",
                r.divisions, r.units_created, r.categories, r.calendar_days, r.lines
            );
            Ok(())
        }
        Command::User {
            cmd:
                UserCmd::Add {
                    username,
                    role,
                    unit,
                    name,
                    password_stdin,
                },
        } => {
            let app = open(&database).await?;
            let role = parse_role(&role)?;
            let unit_id = match unit {
                None => None,
                Some(u) => match u.parse::<i64>() {
                    Ok(id) => Some(id),
                    Err(_) => Some(
                        app.store()
                            .get_unit_by_code(&u)
                            .await?
                            .with_context(|| format!("--unit: no unit with code {u}"))?
                            .id,
                    ),
                },
            };
            let password = if password_stdin {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s)?;
                let line = s.lines().next().unwrap_or("").to_string();
                Some(line)
            } else {
                None
            };
            let user = app
                .add_user(
                    &SERVER,
                    UserInput {
                        username,
                        display_name: name,
                        role,
                        unit_id,
                        password,
                    },
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "added user {} (id {}, role {})",
                user.username, user.id, user.role
            );
            if user.role != Role::Admin && !password_stdin {
                println!(
                    "no password set: the user can use API tokens only (`mashangban token issue --username {}`)",
                    user.username
                );
            }
            Ok(())
        }
        Command::User { cmd: UserCmd::List } => {
            let app = open(&database).await?;
            for u in app
                .users(&SERVER)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
            {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    u.id,
                    u.username,
                    u.role,
                    u.unit_id.map(|x| x.to_string()).unwrap_or_default(),
                    if u.active { "active" } else { "disabled" }
                );
            }
            Ok(())
        }
        Command::Token {
            cmd:
                TokenCmd::Issue {
                    username,
                    name,
                    days,
                },
        } => {
            let app = open(&database).await?;
            let token = app
                .issue_token(&SERVER, &username, &name, days)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{token}");
            Ok(())
        }
        Command::Token {
            cmd: TokenCmd::List { username },
        } => {
            let app = open(&database).await?;
            let user_id = match username {
                Some(u) => Some(
                    app.store()
                        .get_credentials(&u)
                        .await?
                        .with_context(|| format!("--username: no user {u}"))?
                        .0
                        .id,
                ),
                None => None,
            };
            for t in app
                .tokens(&SERVER, user_id)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
            {
                let state = if t.revoked {
                    "revoked"
                } else if t.expires_at.is_some_and(|e| e <= chrono::Utc::now()) {
                    "expired"
                } else {
                    "active"
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.username,
                    t.name,
                    t.created_at.format("%Y-%m-%d %H:%M"),
                    state
                );
            }
            Ok(())
        }
        Command::Token {
            cmd: TokenCmd::Revoke { id },
        } => {
            let app = open(&database).await?;
            app.revoke_token(&SERVER, id)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("revoked token {id}");
            Ok(())
        }
        Command::Demo {
            data_dir,
            addr,
            tickets,
            history_months,
            no_serve,
        } => {
            let url = match cli.database {
                Some(u) => u,
                None => format!("sqlite://{data_dir}/demo.db"),
            };
            let mut app = open(&url).await?;
            // The links texted to citizens point at this demo, unless told otherwise; and
            // an SMS platform may be tried against it with a demo secret.
            if std::env::var_os("MASHANGBAN_PUBLIC_URL").is_none() {
                app.config.public_url = format!("http://{addr}");
            }
            if app.config.sms_secret.is_none() {
                app.config.sms_secret = Some(mashangban_app::demo::DEMO_SMS_SECRET.into());
            }
            if app.store().list_units().await?.is_empty() {
                let r = app.seed_xining().await?;
                println!(
                    "seeded Xining: {} divisions, {} units, {} categories, {} calendar days",
                    r.divisions, r.units_created, r.categories, r.calendar_days
                );
            }
            app.ensure_demo_users().await?;
            if app.ensure_demo_policy().await? {
                println!(
                    "deadline policy: working hours {}",
                    mashangban_app::demo::DEMO_WORKING_HOURS
                );
            }
            let entries = app.ensure_demo_catalogue().await?;
            if entries > 0 {
                println!("dispatch catalogue: {entries} demo entries");
            }
            let articles = app.ensure_demo_knowledge().await?;
            if articles > 0 {
                println!("knowledge base: {articles} demo articles (marked as demo content)");
            }
            // A new database gets the history, then the month of tickets; a second run reuses
            // both.
            let fresh = app.store().count_tickets().await? == 0;
            if fresh && history_months > 0 {
                let started = std::time::Instant::now();
                let window = chrono::Utc::now() - chrono::Duration::days(30);
                let n = app
                    .generate_demo_history(history_months, window, 2024)
                    .await?;
                println!(
                    "imported {n} past requests over {history_months} months in {:.1}s",
                    started.elapsed().as_secs_f64()
                );
            }
            if fresh && tickets > 0 {
                let started = std::time::Instant::now();
                let r = app
                    .generate_demo_tickets(tickets, 30, chrono::Utc::now(), 12345)
                    .await?;
                println!(
                    "generated {} tickets over the last 30 days in {:.1}s:",
                    r.tickets_created,
                    started.elapsed().as_secs_f64()
                );
                for (state, n) in &r.states {
                    println!("  {state:<18} {n}");
                }
            }
            if app
                .store()
                .setting(mashangban_app::text::MODEL_SETTING)
                .await?
                .is_none()
            {
                classifier::train(&app, mashangban_app::text::TRAIN_LIMIT).await?;
            }
            println!("\ndatabase: {url}");
            println!(
                "demo users (password for all: {}):",
                mashangban_app::demo::DEMO_PASSWORD
            );
            for (username, name, role, _) in mashangban_app::demo::DEMO_USERS {
                println!("  {username:<11} {:<15} {name}", role.as_str());
            }
            println!(
                "\nlog in:  curl -s -X POST http://{addr}/api/v1/auth/login -H 'content-type: application/json' -d '{{\"username\":\"operator\",\"password\":\"{}\"}}'",
                mashangban_app::demo::DEMO_PASSWORD
            );
            let sms_log = std::path::PathBuf::from(format!("{data_dir}/sms.log"));
            println!(
                "SMS are written to {} (inbound SMS are signed with MASHANGBAN_SMS_SECRET, here `{}`)",
                sms_log.display(),
                app.config.sms_secret.as_deref().unwrap_or_default()
            );
            if no_serve {
                return Ok(());
            }
            serve(app, &addr, Some(sms_log)).await
        }
        Command::Bench(args) => bench::run(args).await,
        Command::BenchReports(args) => bench_reports::run(args).await,
        Command::BenchImport(args) => bench_import::run(args).await,
        Command::Hotspots(args) => hotspots::run(args),
        Command::Classifier {
            cmd: classifier::ClassifierCmd::Train { limit },
        } => classifier::train(&open(&database).await?, limit).await,
        Command::Classifier { cmd } => classifier::run(cmd),
        Command::Knowledge {
            cmd: KnowledgeCmd::Eval(cmd),
        } => knowledge_eval::run(cmd),
        Command::Anonymise {
            cmd: AnonymiseCmd::Eval(cmd),
        } => anonymise_eval::run(cmd),
        Command::Extract {
            cmd: ExtractCmd::Eval(cmd),
        } => extract_eval::run(cmd),
        Command::Replies {
            cmd: RepliesCmd::Eval(cmd),
        } => replies_eval::run(cmd),
        Command::Report { cmd } => report(&open(&database).await?, cmd).await,
        Command::Warnings {
            cmd: WarningsCmd::Scan { at },
        } => {
            let app = open(&database).await?;
            let r = app
                .scan_warnings_at(&SERVER, at.unwrap_or_else(chrono::Utc::now))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "early warnings: {} surges, {} clusters, {} repeat callers found; {} new or worse",
                r.surges, r.clusters, r.repeat_callers, r.told
            );
            let open = app
                .warnings(
                    &SERVER,
                    Some(mashangban_domain::warning::WarningStatus::Open),
                    100,
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            for w in open {
                println!(
                    "  #{} {} {} {}",
                    w.id,
                    w.level.label_zh(),
                    w.kind.label_zh(),
                    w.title
                );
            }
            Ok(())
        }
        Command::Forecast { days } => {
            anyhow::ensure!((1..=28).contains(&days), "--days must be from 1 to 28");
            let app = open(&database).await?;
            let f = app
                .volume_forecast(
                    &SERVER,
                    chrono::Utc::now(),
                    mashangban_domain::forecast::ForecastRules {
                        horizon: days,
                        ..Default::default()
                    },
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "forecast from the days {} .. {} (fitted on the last {}; back-tested over {} origins)",
                f.history_from, f.history_to, f.rules.history_days, f.rules.backtest_origins
            );
            for c in std::iter::once(&f.total).chain(&f.channels) {
                let pct = |v: Option<f64>| {
                    v.map(|x| format!("{:.1}%", x * 100.0))
                        .unwrap_or_else(|| "-".into())
                };
                println!(
                    "{}: recent {:.1}/day; back-test {} days, WAPE {}, MAE {}, interval coverage {}",
                    c.name,
                    c.recent_average,
                    c.backtest.days,
                    pct(c.backtest.wape),
                    c.backtest
                        .mae
                        .map(|m| format!("{m:.2}"))
                        .unwrap_or_else(|| "-".into()),
                    pct(c.backtest.coverage)
                );
                let days: Vec<String> = c
                    .days
                    .iter()
                    .map(|d| {
                        format!(
                            "{} {:.0} [{:.0}–{:.0}]",
                            d.date.format("%m-%d"),
                            d.expected,
                            d.low,
                            d.high
                        )
                    })
                    .collect();
                println!("  {}", days.join(", "));
            }
            Ok(())
        }
        Command::Import {
            cmd: ImportCmd::Tickets { file, dry_run },
        } => {
            let format = mashangban_app::import::ImportFormat::of(&file.to_string_lossy())
                .ok_or_else(|| {
                    anyhow::anyhow!("{}: a .csv or .xlsx file is needed", file.display())
                })?;
            let bytes =
                std::fs::read(&file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let app = open(&database).await?;
            let started = std::time::Instant::now();
            let r = app
                .import_tickets(&SERVER, &bytes, format, dry_run, chrono::Utc::now())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            for e in &r.errors {
                eprintln!("line {}: {}: {}", e.line, e.field, e.message);
            }
            if !r.errors.is_empty() {
                anyhow::bail!(
                    "{} bad fields in {} rows: nothing imported",
                    r.errors.len(),
                    r.rows
                );
            }
            println!(
                "{} rows: {} {}, {} already here, in {:.1}s",
                r.rows,
                if dry_run {
                    r.rows - r.already_here
                } else {
                    r.imported
                },
                if dry_run {
                    "would be imported"
                } else {
                    "imported"
                },
                r.already_here,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Aggregates {
            cmd: AggregatesCmd::Rebuild,
        } => {
            let app = open(&database).await?;
            let started = std::time::Instant::now();
            let r = app.store().rebuild_aggregates().await?;
            println!(
                "evaluation aggregates rebuilt: {} tickets, {} events, {} rows in {:.1}s",
                r.tickets,
                r.events,
                r.rows,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Search {
            cmd: SearchCmd::Rebuild,
        } => {
            let app = open(&database).await?;
            let started = std::time::Instant::now();
            let r = app
                .rebuild_search()
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "search index rebuilt: {} tickets from {} events in {:.1}s (read up to event {})",
                r.tickets,
                r.events,
                started.elapsed().as_secs_f64(),
                r.watermark
            );
            Ok(())
        }
    }
}

/// `mashangban report daily|monthly`.
async fn report(app: &App, cmd: ReportCmd) -> anyhow::Result<()> {
    let (text, output) = match cmd {
        ReportCmd::Daily {
            date,
            format,
            top,
            output,
        } => {
            if !(1..=20).contains(&top) {
                anyhow::bail!("--top must be between 1 and 20");
            }
            let r = app.daily_report(&SERVER, date, Some(top)).await?;
            let text: Vec<u8> = match format.as_str() {
                "text" => {
                    let mut s = format!("{}\n{}\n\n{}\n\n热点问题：\n", r.title, r.date, r.summary);
                    for h in &r.hot_issues {
                        s.push_str(&h.text);
                        s.push('\n');
                    }
                    s.into_bytes()
                }
                "html" => mashangban_web::reports::daily_html(&r).into_bytes(),
                "json" => serde_json::to_string_pretty(&r)?.into_bytes(),
                "docx" => {
                    anyhow::ensure!(output.is_some(), "--format docx needs --output FILE");
                    mashangban_web::reports::daily_docx(&r).map_err(|e| anyhow::anyhow!(e))?
                }
                other => anyhow::bail!("--format {other}: use text, html, json or docx"),
            };
            (text, output)
        }
        ReportCmd::Monthly {
            month,
            format,
            output,
        } => {
            let bad = || anyhow::anyhow!("--month {month}: use YYYY-MM");
            let (y, m) = month.split_once('-').ok_or_else(bad)?;
            let y: i32 = y.parse().map_err(|_| bad())?;
            let m: u32 = m.parse().map_err(|_| bad())?;
            let r = app.monthly_report(&SERVER, y, m).await?;
            let text: Vec<u8> = match format.as_str() {
                "html" => mashangban_web::reports::monthly_html(&r).into_bytes(),
                "json" => serde_json::to_string_pretty(&r)?.into_bytes(),
                "docx" => {
                    anyhow::ensure!(output.is_some(), "--format docx needs --output FILE");
                    mashangban_web::reports::monthly_docx(&r).map_err(|e| anyhow::anyhow!(e))?
                }
                other => anyhow::bail!("--format {other}: use html, json or docx"),
            };
            (text, output)
        }
    };
    match output {
        Some(path) => {
            std::fs::write(&path, text)?;
            println!("report written to {}", path.display());
        }
        None => {
            use std::io::Write;
            std::io::stdout().write_all(&text)?;
        }
    }
    Ok(())
}
