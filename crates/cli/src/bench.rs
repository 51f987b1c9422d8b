//! `mashangban bench`: the real HTTP server in-process on a loopback port, driven by
//! concurrent keep-alive clients; prints throughput and latency percentiles.

use anyhow::{Context, Result};
use chrono::{Duration as ChronoDuration, Utc};
use mashangban_app::auth::UserInput;
use mashangban_app::{App, Config};
use mashangban_domain::{Actor, NewTicket, Role};
use mashangban_store::traits::*;
use mashangban_store::{CreateTicket, SqlStore};
use rand::Rng;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Concurrent HTTP clients.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Tickets created through the API in the create phase.
    #[arg(long, default_value_t = 20_000)]
    creates: usize,
    /// Fill the store to this many tickets (directly, spread over a year) before measuring actions.
    #[arg(long, default_value_t = 0)]
    store_size: i64,
    /// Tickets taken through dispatch → sign → reply → approve-reply → record-callback.
    #[arg(long, default_value_t = 1_000)]
    lifecycles: usize,
    /// Database URL (default: a new SQLite file in the temporary folder). Use an empty
    /// database: the bench adds users, units and tickets.
    #[arg(long = "bench-database")]
    database: Option<String>,
    /// Then time the console's pages (server-side render, one client), each this many times.
    #[arg(long, default_value_t = 0)]
    pages: usize,
    /// Then time the deadline watcher: this many tickets are made overdue (dispatched three
    /// days ago with a one-day tier), every other ticket gets a next deadline a month ahead,
    /// and one pass records what is due.
    #[arg(long, default_value_t = 0)]
    watch_due: usize,
    /// What each due ticket has passed when the watcher looks: `worst` (its sign and handling
    /// deadlines both breached and a 催办 due: three events and a notice each) or `one` (its
    /// first point only, the sign clock's warning, as a watcher running every 30 seconds
    /// finds it). The set-up can run again on a filled store, so each is measured in turn.
    #[arg(long, default_value = "worst", value_parser = ["worst", "one"])]
    watch_mix: String,
    /// Then time `POST /api/v1/suggest` this many times (one client; the classifier is
    /// trained first if the store has none).
    #[arg(long, default_value_t = 0)]
    suggest: usize,
    /// Then time `GET /api/v1/tickets/search` this many times (one client), after the
    /// search index has caught up with the store (timed too; the index is kept beside a
    /// SQLite file, so a second run only reads what changed).
    #[arg(long, default_value_t = 0)]
    search: usize,
    /// Then time this many citizens' submissions on the portal's API, and their look-ups
    /// (each from its own address: run with `MASHANGBAN_TRUSTED_PROXIES=127.0.0.1`).
    #[arg(long, default_value_t = 0)]
    public: usize,
    /// Then time this many uploads of a 5 MB photo, with the memory they leave.
    #[arg(long, default_value_t = 0)]
    upload: usize,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx].as_secs_f64() * 1000.0
}

pub(crate) fn report(name: &str, mut lat: Vec<Duration>, wall: Duration) {
    lat.sort();
    println!(
        "{name:<22} {:>8} requests {:>9.0} req/s   p50 {:>7.2} ms   p90 {:>7.2} ms   p99 {:>7.2} ms   max {:>8.2} ms",
        lat.len(),
        lat.len() as f64 / wall.as_secs_f64(),
        percentile(&lat, 0.50),
        percentile(&lat, 0.90),
        percentile(&lat, 0.99),
        lat.last().map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0)
    );
}

async fn token_for(app: &App, username: &str, role: Role, unit_id: Option<i64>) -> Result<String> {
    if app.store().get_credentials(username).await?.is_none() {
        app.add_user(
            &mashangban_app::SERVER,
            UserInput {
                username: username.into(),
                display_name: None,
                role,
                unit_id,
                password: None,
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    app.issue_token(&mashangban_app::SERVER, username, "bench", 1)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// The line a request on a merged hotline names (one of the seeded lines).
fn merged_line_of(channel: &mashangban_domain::Channel) -> Option<&'static str> {
    (channel == &mashangban_domain::Channel::MERGED_LINE).then_some("12369")
}

pub async fn run(a: BenchArgs) -> Result<()> {
    let url = a.database.clone().unwrap_or_else(|| {
        let p = std::env::temp_dir().join(format!("mashangban-bench-{}.db", std::process::id()));
        format!("sqlite://{}", p.display())
    });
    let store = SqlStore::connect(&url)
        .await
        .with_context(|| format!("opening {url}"))?;
    store.migrate().await?;
    let backend = store.backend();
    let measured = store.clone();
    let app = App::new(
        Arc::new(store),
        Config {
            search_dir: crate::search_dir(&url),
            files_dir: Some(crate::files_dir(&url)),
            ..Config::default()
        },
    );
    if app.store().list_units().await?.is_empty() {
        app.seed_xining()
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let lead = app
        .store()
        .get_unit_by_code("GOV-630102001")
        .await?
        .context("unit GOV-630102001")?
        .id;
    let op = token_for(&app, "bench-op", Role::Operator, None).await?;
    let disp = token_for(&app, "bench-disp", Role::Dispatcher, None).await?;
    let unit = token_for(&app, "bench-unit", Role::UnitHandler, Some(lead)).await?;
    let cb = token_for(&app, "bench-cb", Role::CallbackAgent, None).await?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let served = app.clone();
    tokio::spawn(async move {
        let _ = mashangban_web::serve(served, listener, std::future::pending()).await;
    });
    println!(
        "bench: {backend:?} at {url}, {} clients, server and clients share this machine's {} cores",
        a.clients,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );

    // Varied like real intake: every leaf category, every community, every channel (the
    // evaluation sums of requests about one matter in one place share rows).
    let categories: Vec<String> = mashangban_app::seed::default_categories()
        .into_iter()
        .filter(|c| c.level == 3)
        .map(|c| c.code)
        .collect();
    let communities: Vec<String> = app
        .store()
        .list_divisions(None, Some(mashangban_domain::DivisionLevel::Community))
        .await?
        .into_iter()
        .map(|d| d.code)
        .collect();
    anyhow::ensure!(
        !categories.is_empty() && !communities.is_empty(),
        "the bench needs the seeded categories and communities"
    );
    let (categories, communities) = (Arc::new(categories), Arc::new(communities));

    let mut meter = crate::bench_meter::Meter::start(&measured, &url).await;
    // Phase 1: creates over HTTP.
    let create_body = {
        let (categories, communities) = (categories.clone(), communities.clone());
        move |i: usize| {
            let channels = mashangban_domain::channel::DEFAULTS;
            let channel = &channels[i % channels.len()].0;
            json!({"channel": channel.as_str(), "kind": "complaint",
                   "channel_detail": merged_line_of(channel),
                   "title": "小区门口违法停车",
                   "content": format!("东关大街某小区门口每天晚上都有车辆乱停，占用消防通道。编号 {i}"),
                   "citizen": {"name": "张三", "phone": "13812345678"},
                   "category_code": categories[i % categories.len()],
                   "division_code": communities[(i / 7) % communities.len()]})
        }
    };
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..a.clients {
        let (base, op, create_body) = (base.clone(), op.clone(), create_body.clone());
        let n = a.creates / a.clients + usize::from(c < a.creates % a.clients);
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut lat = Vec::with_capacity(n);
            for i in 0..n {
                let t = Instant::now();
                let r = http
                    .post(format!("{base}/api/v1/tickets"))
                    .bearer_auth(&op)
                    .json(&create_body(c * 1_000_000 + i))
                    .send()
                    .await?;
                anyhow::ensure!(
                    r.status() == reqwest::StatusCode::CREATED,
                    "create: {}",
                    r.status()
                );
                r.bytes().await?;
                lat.push(t.elapsed());
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await??);
    }
    report("create (POST /tickets)", lat, started.elapsed());
    meter.report("create", a.creates).await;

    // Fill the store, directly, to the requested size.
    let have = app.store().count_tickets().await?;
    if a.store_size > have {
        let need = a.store_size - have;
        let started = Instant::now();
        let actor = Actor {
            user_id: 1,
            role: Role::Operator,
            unit_id: None,
        };
        let workers = 4;
        let mut tasks = Vec::new();
        for w in 0..workers {
            let (app, categories, communities) =
                (app.clone(), categories.clone(), communities.clone());
            let n = need / workers + i64::from(w < need % workers);
            tasks.push(tokio::spawn(async move {
                for i in 0..n {
                    let (back, cat, div, ch, phone, (title, content, address)) = {
                        let mut rng = rand::rng();
                        let cat = rng.random_range(0..categories.len().max(1));
                        (
                            rng.random_range(0..365 * 86_400),
                            cat,
                            rng.random_range(0..communities.len().max(1)),
                            rng.random_range(0..mashangban_domain::channel::DEFAULTS.len()),
                            rng.random_range(0..200_000u32),
                            crate::synthetic::request(
                                &mut rng,
                                categories.get(cat).map(String::as_str),
                                (i * workers + w) as u64,
                            ),
                        )
                    };
                    let at = Utc::now() - ChronoDuration::seconds(back);
                    let new = NewTicket::parse(json!({
                        "channel": mashangban_domain::channel::DEFAULTS[ch].0.as_str(),
                        "channel_detail": merged_line_of(&mashangban_domain::channel::DEFAULTS[ch].0),
                        "kind": "complaint",
                        "title": title,
                        "content": content,
                        "address": address,
                        "citizen": {"name": "市民", "phone": format!("139{phone:08}")},
                        "category_code": categories.get(cat),
                        "division_code": communities.get(div),
                    }))
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                    app.store()
                        .create_ticket(CreateTicket {
                            new,
                            actor,
                            at,
                            number_prefix: "XN".into(),
                            tracking_code: mashangban_app::auth::new_tracking_code(),
                            idempotency: None,
                            notices: None,
                        })
                        .await?;
                }
                Ok::<_, anyhow::Error>(())
            }));
        }
        for t in tasks {
            t.await??;
        }
        println!(
            "filled the store with {need} tickets in {:.1}s ({:.0}/s); it now holds {}",
            started.elapsed().as_secs_f64(),
            need as f64 / started.elapsed().as_secs_f64(),
            app.store().count_tickets().await?
        );
        meter.report("fill (no HTTP)", need as usize).await;
    }

    // Phase 2: lifecycle actions over HTTP on fresh tickets.
    let http = reqwest::Client::new();
    let mut ids = Vec::with_capacity(a.lifecycles);
    for i in 0..a.lifecycles {
        let r = http
            .post(format!("{base}/api/v1/tickets"))
            .bearer_auth(&op)
            .json(&create_body(i))
            .send()
            .await?;
        ids.push(
            r.json::<serde_json::Value>().await?["id"]
                .as_i64()
                .context("id")?,
        );
    }
    let steps: Vec<(&str, String, serde_json::Value)> = vec![
        ("dispatch", disp.clone(), json!({"lead_unit_id": lead})),
        ("sign", unit.clone(), json!({})),
        ("reply", unit.clone(), json!({"content": "已处理"})),
        ("approve-reply", disp.clone(), json!({})),
        (
            "record-callback",
            cb.clone(),
            json!({"contacted": true, "resolution": "resolved", "satisfaction": "satisfied"}),
        ),
    ];
    let mut all = Vec::new();
    let total_started = Instant::now();
    meter.restart().await;
    let mut whole = crate::bench_meter::Meter::start(&measured, &url).await;
    for (action, token, body) in &steps {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for chunk in ids.chunks(ids.len().div_ceil(a.clients).max(1)) {
            let (base, token, body, chunk, action) = (
                base.clone(),
                token.clone(),
                body.clone(),
                chunk.to_vec(),
                action.to_string(),
            );
            tasks.push(tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut lat = Vec::with_capacity(chunk.len());
                for id in chunk {
                    let t = Instant::now();
                    let r = http
                        .post(format!("{base}/api/v1/tickets/{id}/{action}"))
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await?;
                    let status = r.status();
                    let answer = r.bytes().await?;
                    anyhow::ensure!(
                        status.is_success(),
                        "{action}: {status} {}",
                        String::from_utf8_lossy(&answer)
                    );
                    lat.push(t.elapsed());
                }
                Ok::<_, anyhow::Error>(lat)
            }));
        }
        let mut lat = Vec::new();
        for t in tasks {
            lat.extend(t.await??);
        }
        all.extend(lat.iter().copied());
        let n = lat.len();
        report(action, lat, started.elapsed());
        meter.report(action, n).await;
    }
    let n = all.len();
    report("all lifecycle actions", all, total_started.elapsed());
    whole.report("all lifecycle actions", n).await;
    println!(
        "store size at the end: {} tickets",
        app.store().count_tickets().await?
    );
    if a.pages > 0 {
        pages(&app, &base, lead, a.pages).await?;
    }
    if a.watch_due > 0 {
        watch(&app, lead, a.watch_due, &a.watch_mix, &mut meter).await?;
    }
    if a.suggest > 0 {
        suggest(&app, &base, &op, a.suggest).await?;
    }
    if a.search > 0 {
        search(&app, &base, &disp, a.search).await?;
    }
    if a.public > 0 {
        crate::bench_public::public(&base, a.public).await?;
    }
    if a.upload > 0 {
        crate::bench_public::upload(&base, a.upload).await?;
    }
    Ok(())
}

/// Times ticket search: the index catching up with the store, then one client searching
/// with words found in almost every ticket, in some, in none, a ticket number, and filters.
async fn search(app: &App, base: &str, disp: &str, n: usize) -> Result<()> {
    let started = Instant::now();
    let mut fed = mashangban_app::search::FeedReport::default();
    loop {
        let r = app
            .feed_search(200_000)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        fed.tickets += r.tickets;
        fed.events += r.events;
        if r.caught_up {
            break;
        }
        println!(
            "  search index: {} tickets so far ({:.0}s)",
            fed.tickets,
            started.elapsed().as_secs_f64()
        );
    }
    println!(
        "\nsearch index caught up: {} tickets from {} events in {:.1}s",
        fed.tickets,
        fed.events,
        started.elapsed().as_secs_f64()
    );
    let sample = app
        .store()
        .get_ticket(app.store().count_tickets().await? / 2)
        .await?
        .context("a ticket in the middle")?;
    let number = sample.number.clone();
    let queries: Vec<String> = vec![
        "q=路灯".into(),
        "q=道路破损 路灯不亮".into(),
        "q=路灯&category=01".into(),
        "q=路灯&division=630102".into(),
        "q=路灯&state=received,dispatched".into(),
        "q=小区门口&created_from=2026-06-01&created_to=2026-06-30".into(),
        "q=违法停车 消防通道".into(),
        "q=火星 探测".into(),
        format!("q={number}"),
        "q=路灯&offset=40&limit=20".into(),
        // Words (nearly) every ticket carries: the largest result sets to score.
        "q=小区".into(),
        "q=小区 尽快".into(),
    ];
    let http = reqwest::Client::new();
    let mut lat = Vec::with_capacity(n);
    let mut by_query: Vec<Vec<Duration>> = vec![Vec::new(); queries.len()];
    let mut totals = vec![0u64; queries.len()];
    let started = Instant::now();
    for i in 0..n {
        let k = i % queries.len();
        let t = Instant::now();
        let r = http
            .get(format!("{base}/api/v1/tickets/search?{}", queries[k]))
            .bearer_auth(disp)
            .send()
            .await?;
        anyhow::ensure!(
            r.status() == reqwest::StatusCode::OK,
            "search {}: {}",
            queries[k],
            r.status()
        );
        let body: serde_json::Value = r.json().await?;
        let took = t.elapsed();
        lat.push(took);
        by_query[k].push(took);
        totals[k] = body["total"].as_u64().unwrap_or(0);
    }
    println!();
    for (k, q) in queries.iter().enumerate() {
        report(
            &format!("  {} hits", totals[k]),
            std::mem::take(&mut by_query[k]),
            started.elapsed(),
        );
        println!("      ↑ {q}");
    }
    report("search", lat, started.elapsed());
    Ok(())
}

/// Times the intake's suggestions: varied texts, addresses and callers, one at a time.
/// Suggestions asked before the timed ones.
const SUGGEST_WARMUP: usize = 50;

async fn suggest(app: &App, base: &str, op: &str, n: usize) -> Result<()> {
    if app
        .store()
        .setting(mashangban_app::text::MODEL_SETTING)
        .await?
        .is_none()
    {
        let r = app
            .train_classifier(&mashangban_app::SERVER, mashangban_app::text::TRAIN_LIMIT)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        println!(
            "\nclassifier trained on {} closed tickets and {} category names in {:.1}s",
            r.tickets, r.category_names, r.seconds
        );
    }
    let texts = [
        (
            "路灯不亮",
            "小区门口的路灯坏了好几天，晚上出行很不方便，希望尽快维修。",
        ),
        (
            "违法停车",
            "东关大街某小区门口每天晚上都有车辆乱停，占用消防通道，存在安全隐患。",
        ),
        (
            "暖气不热",
            "家里暖气片一直不热，室温只有十四度，老人孩子受冻，供热公司电话打不通。",
        ),
        (
            "噪音扰民",
            "楼下饭店每天凌晨还在营业，油烟和噪音严重影响休息。",
        ),
        ("垃圾清运", "小区垃圾已经一周没有清运，气味很大，蚊蝇很多。"),
    ];
    let addresses = [
        "城东区东关大街街道",
        "西关大街街道贾小社区42号楼",
        "湟中区鲁沙尔镇",
        "城北区朝阳街道",
        "",
    ];
    let http = reqwest::Client::new();
    let mut lat = Vec::with_capacity(n);
    let mut started = Instant::now();
    // The first requests open the server's pooled connections and prepare their
    // statements (a one-off per connection): they warm up and are not counted.
    for i in 0..SUGGEST_WARMUP + n {
        if i == SUGGEST_WARMUP {
            lat.clear();
            started = Instant::now();
        }
        let (title, content) = texts[i % texts.len()];
        let body = json!({
            "title": title,
            "content": format!("{content}（第 {i} 次来电）"),
            "address": addresses[(i / texts.len()) % addresses.len()],
            "phone": format!("139{:08}", (i * 7919) % 200_000),
        });
        let t = Instant::now();
        let r = http
            .post(format!("{base}/api/v1/suggest"))
            .bearer_auth(op)
            .json(&body)
            .send()
            .await?;
        anyhow::ensure!(
            r.status() == reqwest::StatusCode::OK,
            "suggest: {}",
            r.status()
        );
        r.bytes().await?;
        lat.push(t.elapsed());
    }
    println!();
    report(
        &format!("suggest (after {SUGGEST_WARMUP} warm-up)"),
        lat,
        started.elapsed(),
    );
    Ok(())
}

/// Times one pass of the deadline watcher over the whole store with `due` tickets due.
async fn watch(
    app: &App,
    lead: i64,
    due: usize,
    mix: &str,
    meter: &mut crate::bench_meter::Meter,
) -> Result<()> {
    use mashangban_domain::EventKind;
    use mashangban_store::Change;
    let total = app.store().count_tickets().await?;
    let now = Utc::now();
    let dispatched_at = now - ChronoDuration::days(3);
    let step = (total as usize / due.max(1)).max(1);
    let disp = Actor {
        user_id: 1,
        role: Role::Dispatcher,
        unit_id: None,
    };
    let started = Instant::now();
    let mut due_ids = Vec::new();
    let mut next_pick = step / 2;
    let ids: Vec<i64> = (1..=total).collect();
    for chunk in ids.chunks(5_000) {
        let tickets = app.store().get_tickets(chunk).await?;
        let mut changes = Vec::new();
        let mut moves = Vec::new();
        for t in tickets {
            // One ticket every `step`: the first still waiting for dispatch at or after
            // each mark (so that the bench can run again on the same store).
            if t.state == mashangban_domain::TicketState::Received
                && t.id as usize >= next_pick
                && due_ids.len() < due
            {
                next_pick += step;
                due_ids.push(t.id);
                changes.push(Change {
                    before: t,
                    events: vec![EventKind::Dispatched {
                        lead_unit_id: lead,
                        co_unit_ids: Vec::new(),
                        tier: Some(1),
                        note: None,
                    }],
                    next_deadline: Some(Some(dispatched_at)),
                    notices: Vec::new(),
                });
            } else {
                moves.push((t.id, t.version, Some(now + ChronoDuration::days(30))));
            }
        }
        for part in changes.chunks(500) {
            app.store()
                .commit(part.to_vec(), disp, dispatched_at)
                .await?;
        }
        app.store().set_next_deadlines(&moves).await?;
    }
    // As autovacuum (PostgreSQL) or `PRAGMA optimize` (SQLite) would have by now.
    app.store().analyze().await?;
    println!(
        "\nwatcher: {} tickets, {} made due, the rest due in a month (set up in {:.1}s)",
        total,
        due_ids.len(),
        started.elapsed().as_secs_f64()
    );
    // The watcher looks at `now` (everything passed) or just after the first point of the
    // due tickets' clocks (they were all dispatched at the same moment).
    let at = match (mix, due_ids.first()) {
        ("one", Some(&id)) => {
            let ticket = app.store().get_ticket(id).await?.context("due ticket")?;
            let events = app.store().ticket_events(id).await?;
            let d = app
                .deadlines_of(&ticket, &events, now)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            d.clocks
                .iter()
                .flat_map(|c| [c.warn_at, c.due])
                .flatten()
                .min()
                .context("the due tickets have no clock point to pass")?
                + ChronoDuration::minutes(1)
        }
        _ => now,
    };
    for pass in 1..=2 {
        meter.restart().await;
        let started = Instant::now();
        let r = app
            .watch_deadlines_at(at, 1_000_000)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        println!(
            "watcher ({mix}) pass {pass}: {:.3}s — visited {}, warned {}, breached {}, supervised {}, conflicts {}",
            started.elapsed().as_secs_f64(),
            r.visited,
            r.warned,
            r.breached,
            r.supervised,
            r.conflicts
        );
        meter
            .report(
                &format!("watcher pass {pass}, per ticket visited"),
                r.visited,
            )
            .await;
    }
    Ok(())
}

/// Puts a few tickets in each state a desk shows, so that the desks have work on them.
async fn stage_desks(app: &App, lead: i64) -> Result<(Option<i64>, Option<i64>)> {
    use mashangban_domain::Action;
    let user = |name: &str| {
        let app = app.clone();
        let name = name.to_string();
        async move {
            let (u, _) = app
                .store()
                .get_credentials(&name)
                .await?
                .context("bench user")?;
            Ok::<_, anyhow::Error>(mashangban_app::auth::actor_of(&u))
        }
    };
    let (op, disp, unit) = (
        user("bench-op").await?,
        user("bench-disp").await?,
        user("bench-unit").await?,
    );
    let fail = |e: mashangban_app::AppError| anyhow::anyhow!("{e}");
    // A ticket waiting for dispatch, and one in the unit's hands.
    let mut shown = (None, None);
    for i in 0..60 {
        let (t, _) = app
            .create_ticket(
                &op,
                json!({"channel": "phone", "kind": "complaint",
                       "content": format!("桌面示例工单 {i}：东关大街人行道地砖破损"),
                       "citizen": {"name": "张三", "phone": "13812345678"},
                       "category_code": "010403", "division_code": "630102001001"}),
                None,
            )
            .await
            .map_err(fail)?;
        let dispatch = (disp, Action::Dispatch, json!({"lead_unit_id": lead}));
        let sign = (unit, Action::Sign, json!({}));
        let reply = (unit, Action::Reply, json!({"content": "已处理"}));
        let steps = match i % 6 {
            0 => vec![],
            1 => vec![dispatch],
            2 => vec![dispatch, sign],
            3 => vec![
                dispatch,
                sign,
                (
                    unit,
                    Action::RequestExtension,
                    json!({"days": 3, "reason": "需协调"}),
                ),
            ],
            4 => vec![dispatch, sign, reply],
            _ => vec![
                dispatch,
                sign,
                reply,
                (disp, Action::ApproveReply, json!({})),
            ],
        };
        for (who, action, body) in steps {
            match app.act(&who, t.id, action, body).await {
                // After the day's cut-off for extension requests the unit simply goes on.
                Err(mashangban_app::AppError::Conflict {
                    code: "extension_refused",
                    ..
                }) => {}
                other => {
                    other.map_err(fail)?;
                }
            }
        }
        match i {
            0 => shown.0 = Some(t.id),
            2 => shown.1 = Some(t.id),
            _ => {}
        }
    }
    Ok(shown)
}

/// Times the console's pages: each fetched `n` times by one client with a session cookie.
async fn pages(app: &App, base: &str, lead: i64, n: usize) -> Result<()> {
    let (received, in_hand) = stage_desks(app, lead).await?;
    let (received, in_hand) = (
        received.context("a staged ticket")?,
        in_hand.context("a staged ticket")?,
    );
    let session = |name: &'static str, role: Role, unit: Option<i64>| {
        let app = app.clone();
        async move { token_for(&app, name, role, unit).await }
    };
    let disp = session("bench-disp", Role::Dispatcher, None).await?;
    let unit = session("bench-unit", Role::UnitHandler, Some(lead)).await?;
    let op = session("bench-op", Role::Operator, None).await?;
    let cb = session("bench-cb", Role::CallbackAgent, None).await?;
    let admin = session("bench-admin", Role::Admin, None).await?;
    let month_ago = (Utc::now() - ChronoDuration::days(30)).format("%Y-%m-%d");
    let week_ago = (Utc::now() - ChronoDuration::days(7)).format("%Y-%m-%d");
    let list: Vec<(String, &String)> = vec![
        ("/login".into(), &disp),
        ("/".into(), &disp),
        ("/".into(), &unit),
        ("/intake".into(), &op),
        ("/callback".into(), &cb),
        (format!("/tickets/{received}"), &disp),
        (format!("/tickets/{in_hand}"), &unit),
        (format!("/tickets/{in_hand}"), &disp),
        ("/tickets".into(), &disp),
        ("/tickets?state=received".into(), &disp),
        (format!("/tickets?unit={lead}"), &disp),
        ("/tickets".into(), &unit),
        ("/tickets?category=01".into(), &disp),
        ("/tickets?category=120101".into(), &disp),
        ("/tickets?division=630102".into(), &disp),
        ("/tickets?division=630123100201".into(), &disp),
        ("/tickets?channel=app".into(), &disp),
        (
            format!("/tickets?created_from={month_ago}&created_to={week_ago}"),
            &disp,
        ),
        (
            "/tickets?state=closed&category=02&channel=web".into(),
            &disp,
        ),
        ("/admin/users".into(), &admin),
        ("/admin/units".into(), &admin),
        ("/admin/categories".into(), &admin),
    ];
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    println!(
        "\nconsole pages ({n} fetches each, one client; times include the loopback round trip)"
    );
    for (path, token) in list {
        let mut lat = Vec::with_capacity(n);
        let mut bytes = 0;
        for _ in 0..n {
            let t = Instant::now();
            let r = http
                .get(format!("{base}{path}"))
                .header("cookie", format!("mb_session={token}"))
                .send()
                .await?;
            let status = r.status();
            let body = r.bytes().await?;
            lat.push(t.elapsed());
            anyhow::ensure!(
                status.is_success() || status.is_redirection(),
                "{path}: {status}"
            );
            bytes = body.len();
        }
        lat.sort();
        println!(
            "{path:<58} {:>7} bytes   p50 {:>6.2} ms   p99 {:>6.2} ms   max {:>6.2} ms",
            bytes,
            percentile(&lat, 0.50),
            percentile(&lat, 0.99),
            lat.last().map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0)
        );
    }
    Ok(())
}
