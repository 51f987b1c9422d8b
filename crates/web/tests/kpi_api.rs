//! The evaluation figures over HTTP, on both backends: a known month of tickets (the demo's
//! generator, plus returns, supervisions, a late reply and a reopened request), with every
//! figure checked against counts computed here from the events, independently of the
//! aggregates; rankings and zones; a rebuild from the events giving identical figures.

mod common;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use common::TestApp;
use mashangban_domain::deadlines::ClockKind;
use mashangban_domain::{Action, Actor, Event, EventKind, Resolution, Satisfaction, Ticket};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;

on_both!(a_known_month_adds_up, requests_are_checked);

/// Beijing time on a day of March 2026.
fn bj(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0).unwrap() - Duration::hours(8)
}

fn bj_day(at: DateTime<Utc>) -> NaiveDate {
    (at + Duration::hours(8)).date_naive()
}

async fn actor(t: &TestApp, name: &str) -> Actor {
    let (u, _) = t.app.store().get_credentials(name).await.unwrap().unwrap();
    Actor {
        user_id: u.id,
        role: u.role,
        unit_id: u.unit_id,
    }
}

/// What one callback's answers add, written out apart from the product's aggregates.
fn callback(
    c: &mut Counts,
    (contacted, resolution, satisfaction): (Option<bool>, Option<Resolution>, Satisfaction),
) {
    c.callbacks += 1;
    c.contacted += u64::from(contacted == Some(true));
    c.resolved += u64::from(resolution == Some(Resolution::Resolved));
    c.partly += u64::from(resolution == Some(Resolution::Partly));
    c.satisfied += u64::from(satisfaction == Satisfaction::Satisfied);
    c.basically += u64::from(satisfaction == Satisfaction::Basically);
    // A rating by SMS says only how satisfied.
    c.contact_unasked += u64::from(contacted.is_none());
    c.resolution_unasked += u64::from(resolution.is_none());
}

/// Counts of one group, computed from the events.
#[derive(Debug, Default, Clone, PartialEq)]
struct Counts {
    requests: u64,
    callbacks: u64,
    contacted: u64,
    resolved: u64,
    partly: u64,
    satisfied: u64,
    basically: u64,
    finished: u64,
    with_deadline: u64,
    on_time: u64,
    dispatches: u64,
    returns: u64,
    direct: u64,
    handling_seconds: u64,
    supervisions: u64,
    contact_unasked: u64,
    resolution_unasked: u64,
}

impl Counts {
    fn of_api(c: &Value) -> Counts {
        let n = |k: &str| c[k].as_u64().unwrap_or_else(|| panic!("{k} in {c}"));
        Counts {
            requests: n("requests"),
            callbacks: n("callbacks"),
            contacted: n("contacted"),
            resolved: n("resolved"),
            partly: n("partly_resolved"),
            satisfied: n("satisfied"),
            basically: n("basically_satisfied"),
            finished: n("finished"),
            with_deadline: n("finished_with_deadline"),
            on_time: n("finished_on_time"),
            dispatches: n("dispatches"),
            returns: n("returns"),
            direct: n("direct"),
            handling_seconds: n("handling_seconds"),
            supervisions: n("supervisions"),
            contact_unasked: n("contact_unasked"),
            resolution_unasked: n("resolution_unasked"),
        }
    }
}

/// What to group by, as the API names it.
#[derive(Clone, Copy, PartialEq)]
enum By {
    City,
    Unit,
    District,
    Channel,
    Category,
}

/// Every figure of every group, from each ticket's events and final view, by the
/// definitions (not by the code that keeps the aggregates).
fn expected(
    all: &[(Ticket, Vec<Event>)],
    from: NaiveDate,
    to: NaiveDate,
    by: By,
) -> HashMap<String, Counts> {
    let mut out: HashMap<String, Counts> = HashMap::new();
    let inside = |at: DateTime<Utc>| (from..=to).contains(&bj_day(at));
    for (ticket, events) in all {
        let group = |unit: Option<i64>| -> Option<String> {
            match by {
                By::City => Some(String::new()),
                By::Unit => unit.map(|u| u.to_string()),
                By::District => ticket.division_code.as_ref().map(|d| d[..6].to_string()),
                By::Channel => Some(ticket.channel.as_str().to_string()),
                By::Category => ticket.category_code.clone(),
            }
        };
        let mut lead: Option<i64> = None;
        let mut late = false;
        let mut pending = None;
        for e in events {
            let mut add = |unit: Option<i64>, f: &dyn Fn(&mut Counts)| {
                if inside(e.at)
                    && let Some(g) = group(unit)
                {
                    f(out.entry(g).or_default());
                }
            };
            match &e.kind {
                EventKind::Received { .. } => add(None, &|c| c.requests += 1),
                EventKind::Dispatched { lead_unit_id, .. }
                | EventKind::ConsultationDecided { lead_unit_id, .. } => {
                    lead = Some(*lead_unit_id);
                    late = false;
                    add(lead, &|c| c.dispatches += 1);
                }
                EventKind::ReturnApproved { .. } => {
                    add(lead, &|c| c.returns += 1);
                    lead = None;
                    late = false;
                }
                EventKind::Reopened { .. } => late = false,
                EventKind::DeadlineBreached {
                    clock: ClockKind::Handling,
                    ..
                } => late = true,
                EventKind::DeadlineWarned {
                    clock: ClockKind::Handling,
                    ..
                } => late = false,
                EventKind::ReplyApproved { .. } => {
                    if lead.is_some() {
                        let on_time = !late;
                        add(lead, &|c| {
                            c.with_deadline += 1;
                            c.on_time += u64::from(on_time);
                        });
                    }
                    late = false;
                }
                // A citizen's bad rating counts once the hotline judges it reasonable.
                EventKind::CallbackRecorded {
                    contacted,
                    resolution,
                    satisfaction,
                    source,
                    ..
                } => {
                    let answers = (*contacted, *resolution, *satisfaction);
                    let bad = *resolution == Some(Resolution::Unresolved)
                        || *satisfaction == Satisfaction::Dissatisfied;
                    if bad && *source == mashangban_domain::RatingSource::Citizen {
                        pending = Some(answers);
                    } else {
                        add(lead, &|c| callback(c, answers));
                    }
                }
                EventKind::RatingReviewed { reasonable, .. } => {
                    if let (true, Some(answers)) = (*reasonable, pending.take()) {
                        add(lead, &|c| callback(c, answers));
                    }
                }
                EventKind::Supervised { .. } => add(lead, &|c| c.supervisions += 1),
                _ => {}
            }
        }
        // A request of the period that has ended, under the unit it ended with.
        if ticket.state.is_terminal()
            && inside(ticket.created_at)
            && let Some(g) = group(ticket.lead_unit_id)
        {
            let c = out.entry(g).or_default();
            c.finished += 1;
            // The hotline's own answers: a community's 就地办结 is counted apart.
            c.direct += u64::from(
                ticket.state == mashangban_domain::TicketState::ResolvedDirectly
                    && ticket.resolved_on_spot_by.is_none(),
            );
            c.handling_seconds +=
                (ticket.closed_at.unwrap() - ticket.created_at).num_seconds() as u64;
        }
    }
    if by == By::Unit {
        for c in out.values_mut() {
            c.requests = c.dispatches;
        }
    }
    out
}

fn ratio(n: f64, d: u64) -> Value {
    if d == 0 {
        Value::Null
    } else {
        json!(n / d as f64)
    }
}

fn close(a: &Value, b: &Value, what: &str) {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => assert!((x - y).abs() < 1e-9, "{what}: {x} vs {y}"),
        _ => assert_eq!(a, b, "{what}"),
    }
}

/// Checks a row's rates against the definitions, from the counts computed here.
fn check_rates(row: &Value, c: &Counts) {
    let name = row["name"].as_str().unwrap_or("?");
    close(&row["requests"], &json!(c.requests), name);
    close(&row["callbacks"], &json!(c.callbacks), name);
    close(
        &row["response_rate"],
        &ratio(c.contacted as f64, c.callbacks - c.contact_unasked),
        name,
    );
    close(
        &row["resolution_rate"],
        &ratio(c.resolved as f64, c.callbacks - c.resolution_unasked),
        name,
    );
    close(
        &row["satisfaction_rate"],
        &ratio(c.satisfied as f64 + 0.6 * c.basically as f64, c.callbacks),
        name,
    );
    close(
        &row["completion_rate"],
        &ratio(c.finished as f64, c.requests),
        name,
    );
    close(
        &row["on_time_rate"],
        &ratio(c.on_time as f64, c.with_deadline),
        name,
    );
    close(
        &row["return_rate"],
        &ratio(c.returns as f64, c.dispatches),
        name,
    );
    close(
        &row["direct_rate"],
        &ratio(c.direct as f64, c.requests),
        name,
    );
    close(
        &row["average_handling_seconds"],
        &ratio(c.handling_seconds as f64, c.finished),
        name,
    );
    close(&row["supervisions"], &json!(c.supervisions), name);
    // The combined score by hand: 0.2 response, 0.3 resolution, 0.3 satisfaction, 0.1 on time,
    // 0.1 completion, over the rates that have data.
    let parts = [
        (0.2, &row["response_rate"]),
        (0.3, &row["resolution_rate"]),
        (0.3, &row["satisfaction_rate"]),
        (0.1, &row["on_time_rate"]),
        (0.1, &row["completion_rate"]),
    ];
    let (sum, weight) = parts
        .iter()
        .filter_map(|(w, r)| r.as_f64().map(|r| (w * r, *w)))
        .fold((0.0, 0.0), |(s, ws), (v, w)| (s + v, ws + w));
    let score = if weight > 0.0 {
        json!(sum / weight * 100.0)
    } else {
        Value::Null
    };
    close(&row["score"], &score, name);
}

/// Every ticket with its events.
async fn everything(t: &TestApp) -> Vec<(Ticket, Vec<Event>)> {
    let n = t.app.store().count_tickets().await.unwrap();
    let ids: Vec<i64> = (1..=n).collect();
    let mut out = Vec::new();
    for chunk in ids.chunks(200) {
        let tickets = t.app.store().get_tickets(chunk).await.unwrap();
        let events = t.app.store().ticket_events_many(chunk).await.unwrap();
        for tk in tickets {
            let mine: Vec<Event> = events
                .iter()
                .filter(|e| e.ticket_id == tk.id)
                .cloned()
                .collect();
            out.push((tk, mine));
        }
    }
    assert_eq!(out.len() as i64, n);
    out
}

/// A few paths the demo does not take: a return approved and dispatched again, a reply
/// after the handling deadline broke, a manual supervision, a closed request reopened.
async fn special_paths(t: &TestApp) {
    let op = actor(t, "operator").await;
    let disp = actor(t, "dispatcher").await;
    let lead = actor(t, "lead").await;
    let other = actor(t, "other").await;
    let sup = actor(t, "supervisor").await;
    let cb = actor(t, "callback").await;
    let new = |content: &str| {
        json!({"channel": "web", "kind": "complaint", "content": content,
            "category_code": "0101", "division_code": "630102001001"})
    };
    let app = &t.app;
    // Returned by one unit, dispatched to another, late, supervised, called back, closed,
    // then reopened.
    let (a, _) = app
        .create_ticket_at(&op, new("小区路灯损坏多日无人维修"), None, bj(2, 9))
        .await
        .unwrap();
    let act = |who: Actor, id: i64, action: Action, body: Value, at: DateTime<Utc>| async move {
        app.act_at(&who, id, action, body, at).await.unwrap();
    };
    let steps: [(Actor, Action, Value, DateTime<Utc>); 5] = [
        (
            disp,
            Action::Dispatch,
            json!({"lead_unit_id": t.other_unit, "tier": 3}),
            bj(2, 10),
        ),
        (
            other,
            Action::RequestReturn,
            json!({"reason": "不属于本单位职责"}),
            bj(2, 11),
        ),
        (disp, Action::ApproveReturn, json!({}), bj(2, 12)),
        (
            disp,
            Action::Dispatch,
            json!({"lead_unit_id": t.lead_unit, "tier": 1, "note": "路灯安全隐患，限一日办结"}),
            bj(2, 13),
        ),
        (lead, Action::Sign, json!({}), bj(2, 14)),
    ];
    for (who, action, body, at) in steps {
        act(who, a.id, action, body, at).await;
    }
    // The watcher finds the 1-day deadline broken.
    app.watch_deadlines_at(bj(6, 12), 1000).await.unwrap();
    let steps: [(Actor, Action, Value, DateTime<Utc>); 4] = [
        (
            sup,
            Action::Supervise,
            json!({"level": "l2", "note": "逾期未办结"}),
            bj(6, 13),
        ),
        (lead, Action::Reply, json!({"content": "已维修"}), bj(7, 9)),
        (disp, Action::ApproveReply, json!({}), bj(7, 10)),
        (
            cb,
            Action::RecordCallback,
            json!({"contacted": true, "resolution": "resolved", "satisfaction": "satisfied"}),
            bj(8, 10),
        ),
    ];
    for (who, action, body, at) in steps {
        act(who, a.id, action, body, at).await;
    }
    let state = app.store().get_ticket(a.id).await.unwrap().unwrap().state;
    if state.as_str() != "closed" {
        act(cb, a.id, Action::Close, json!({}), bj(8, 11)).await;
    }
    act(
        disp,
        a.id,
        Action::Reopen,
        json!({"reason": "市民反映再次损坏"}),
        bj(9, 9),
    )
    .await;
    // Answered at intake, then reopened and answered again.
    let (b, _) = app
        .create_ticket_at(&op, new("咨询路灯报修电话"), None, bj(3, 9))
        .await
        .unwrap();
    act(
        op,
        b.id,
        Action::ResolveDirectly,
        json!({"answer": "已告知"}),
        bj(3, 9),
    )
    .await;
    act(sup, b.id, Action::Reopen, json!({}), bj(4, 9)).await;
    act(
        op,
        b.id,
        Action::ResolveDirectly,
        json!({"answer": "已再次告知"}),
        bj(4, 10),
    )
    .await;
    let history = app.store().ticket_events(a.id).await.unwrap();
    assert!(
        history.iter().any(|e| matches!(
            e.kind,
            EventKind::DeadlineBreached {
                clock: ClockKind::Handling,
                ..
            }
        )),
        "the scenario has a late reply"
    );
}

async fn table(t: &TestApp, query: &str) -> Value {
    let r = t.get(&format!("/api/v1/kpis?{query}"), "analyst").await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.body);
    r.body
}

async fn a_known_month_adds_up(t: &TestApp) {
    special_paths(t).await;
    let report = t
        .app
        .generate_demo_tickets(240, 31, bj(31, 23) + Duration::hours(1), 7)
        .await
        .unwrap();
    assert!(report.tickets_created >= 200);
    t.app
        .set_population(&mashangban_app::SERVER, "630102", Some(410_000))
        .await
        .unwrap();
    let all = everything(t).await;
    let march = (
        NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
        NaiveDate::from_ymd_opt(2026, 3, 31).unwrap(),
    );
    let period = "from=2026-03-01&to=2026-03-31";
    let mut tables = Vec::new();
    for (by, param) in [
        (By::City, ""),
        (By::Unit, "&group_by=unit"),
        (By::District, "&group_by=district"),
        (By::Channel, "&group_by=channel"),
        (By::Category, "&group_by=category"),
    ] {
        let body = table(t, &format!("{period}{param}")).await;
        let want = expected(&all, march.0, march.1, by);
        let rows = body["rows"].as_array().unwrap();
        assert!(!rows.is_empty(), "{param}");
        for row in rows {
            let group = row["group"].as_str().unwrap_or("").to_string();
            let have = Counts::of_api(&row["counts"]);
            let mut have_requests = have.clone();
            if by == By::Unit {
                have_requests.requests = have.dispatches;
            }
            let want_row = want.get(&group).cloned().unwrap_or_default();
            assert_eq!(have_requests, want_row, "{param} group {group}");
            check_rates(row, &want_row);
        }
        for (g, c) in &want {
            if *c != Counts::default() {
                assert!(
                    rows.iter().any(|r| r["group"].as_str().unwrap_or("") == g),
                    "{param}: group {g} missing"
                );
            }
        }
        // Rankings: best first, ties share a place, 20 % blue at the top and 20 % red at
        // the bottom of the scored groups.
        if by != By::City {
            let scored: Vec<&Value> = rows.iter().filter(|r| !r["score"].is_null()).collect();
            let n = scored.len();
            let blue = (n as f64 * 0.2).round() as usize;
            let red = (n as f64 * 0.2).round() as usize;
            for (i, r) in scored.iter().enumerate() {
                let s = r["score"].as_f64().unwrap();
                let better = scored
                    .iter()
                    .filter(|o| o["score"].as_f64().unwrap() > s)
                    .count();
                assert_eq!(r["rank"], json!(better + 1), "{param} row {i}");
                let zone = if better < blue {
                    "blue"
                } else if better >= n - red {
                    "red"
                } else {
                    "yellow"
                };
                assert_eq!(r["zone"], zone, "{param} row {i}");
            }
            assert!(
                rows.iter()
                    .filter(|r| r["score"].is_null())
                    .all(|r| r["rank"].is_null() && r["zone"].is_null())
            );
        }
        tables.push((param, body));
    }
    // The city: one row, with its requests per 10,000 residents unknown (no population).
    let city = &tables[0].1["rows"];
    assert_eq!(city.as_array().unwrap().len(), 1);
    assert!(city[0]["requests_per_10k"].is_null());
    assert!(city[0]["counts"]["supervisions"].as_u64().unwrap() >= 1);
    assert!(city[0]["counts"]["returns"].as_u64().unwrap() >= 1);
    let on_time = city[0]["on_time_rate"].as_f64().unwrap();
    assert!(on_time < 1.0, "the late reply counts: {on_time}");
    // 城东区 has a population: its requests per 10,000 residents.
    let districts = tables[2].1["rows"].as_array().unwrap();
    let chengdong = districts.iter().find(|r| r["group"] == "630102").unwrap();
    assert_eq!(chengdong["name"], "城东区");
    close(
        &chengdong["requests_per_10k"],
        &json!(chengdong["requests"].as_f64().unwrap() / 41.0),
        "requests per 10k",
    );
    assert!(
        districts
            .iter()
            .filter(|r| r["group"] != "630102")
            .all(|r| r["requests_per_10k"].is_null())
    );
    // Units are named.
    let units = tables[1].1["rows"].as_array().unwrap();
    assert!(units.iter().any(|r| r["name"] == "东关大街街道办事处"));
    // Nothing outside the month: February is empty, and the city row says so.
    let feb = table(t, "from=2026-02-01&to=2026-02-28").await;
    assert_eq!(feb["rows"][0]["requests"], 0);
    assert!(feb["rows"][0]["score"].is_null());
    // March is compared with February.
    assert_eq!(tables[0].1["previous"]["from"], "2026-02-01");
    assert_eq!(tables[0].1["previous"]["to"], "2026-02-28");

    // Rebuilding the aggregates from the events changes no figure.
    let r = t
        .post("/api/v1/aggregates/rebuild", "analyst", json!({}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = t
        .post("/api/v1/aggregates/rebuild", "admin", json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["tickets"], json!(all.len()));
    for (param, before) in &tables {
        let after = table(t, &format!("{period}{param}")).await;
        assert_eq!(&after, before, "{param} after the rebuild");
    }
    daily_report_adds_up(t, &all).await;
    // The monthly report holds the same rankings.
    let r = t
        .get("/api/v1/reports/monthly?month=2026-03", "analyst")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["units"]["rows"], tables[1].1["rows"]);
    assert_eq!(r.body["city"]["rows"], tables[0].1["rows"]);
    let r = t
        .raw(
            reqwest::Method::GET,
            "/api/v1/reports/monthly?month=2026-03&format=html",
            Some("analyst"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // The same table as Excel.
    let r = t
        .raw(
            reqwest::Method::GET,
            &format!("/api/v1/kpis.xlsx?{period}&group_by=unit"),
            Some("analyst"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

async fn requests_are_checked(t: &TestApp) {
    let bad = |query: &'static str, field: &'static str| async move {
        let r = t.get(&format!("/api/v1/kpis?{query}"), "analyst").await;
        assert!(r.status.is_client_error(), "{query}: {}", r.status);
        assert_eq!(r.body["error"]["field"], field, "{query}: {}", r.body);
    };
    bad("from=2026-13-01", "from").await;
    bad("from=2026-03-02&to=2026-03-01", "from").await;
    bad("from=2020-01-01&to=2026-03-01", "to").await;
    bad("group_by=team", "group_by").await;
    bad("group_by=city", "group_by").await;
    // Defaults: the month to date, the city.
    let r = t.get("/api/v1/kpis", "analyst").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["rows"].as_array().unwrap().len(), 1);
    assert!(r.body["group_by"].is_null());
    let r = t
        .raw(reqwest::Method::GET, "/api/v1/kpis", None, None, &[])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // The policy: read by all, set by administrators, checked by name.
    let r = t.get("/api/v1/policy/kpis", "analyst").await;
    assert_eq!(r.body["basically_satisfied_weight"], 0.6);
    let put = |who: &'static str, body: Value| {
        t.raw(
            reqwest::Method::PUT,
            "/api/v1/policy/kpis",
            Some(who),
            Some(body.to_string()),
            &[],
        )
    };
    assert_eq!(
        put("analyst", json!({})).await.status,
        StatusCode::FORBIDDEN
    );
    let r = put("admin", json!({"basically_satisfied_weight": 2})).await;
    assert!(r.status.is_client_error());
    assert_eq!(r.body["error"]["field"], "basically_satisfied_weight");
    let r = put("admin", json!({"score_weights": {"speed": 1}})).await;
    assert!(r.status.is_client_error());
    assert!(
        r.body["error"]["field"]
            .as_str()
            .unwrap()
            .starts_with("score_weights"),
        "{}",
        r.body
    );
    let r = put("admin", json!({"basically_satisfied_weight": 0.5})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = t.get("/api/v1/kpis", "analyst").await;
    assert_eq!(r.body["policy"]["basically_satisfied_weight"], 0.5);
}

/// The daily report of March's busiest day, against counts computed from the events.
async fn daily_report_adds_up(t: &TestApp, all: &[(Ticket, Vec<Event>)]) {
    let mut per_day: HashMap<NaiveDate, u64> = HashMap::new();
    for (tk, _) in all {
        *per_day.entry(bj_day(tk.created_at)).or_default() += 1;
    }
    let (&day, _) = per_day
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .unwrap();
    let on_day = |at: DateTime<Utc>| bj_day(at) == day;
    let todays: Vec<&Ticket> = all
        .iter()
        .map(|(tk, _)| tk)
        .filter(|tk| on_day(tk.created_at))
        .collect();
    let mut by_channel: HashMap<String, u64> = HashMap::new();
    for tk in &todays {
        *by_channel
            .entry(tk.channel.as_str().to_string())
            .or_default() += 1;
    }
    let calls = by_channel.get("phone").copied().unwrap_or(0)
        + by_channel.get("merged_line").copied().unwrap_or(0);
    let direct = todays
        .iter()
        .filter(|tk| {
            tk.state == mashangban_domain::TicketState::ResolvedDirectly
                && tk.resolved_on_spot_by.is_none()
        })
        .count() as u64;
    let events_today = |f: &dyn Fn(&EventKind) -> bool| -> u64 {
        all.iter()
            .flat_map(|(_, es)| es.iter())
            .filter(|e| on_day(e.at) && f(&e.kind))
            .count() as u64
    };
    let transferred = events_today(&|k| {
        matches!(
            k,
            EventKind::Dispatched { .. } | EventKind::ConsultationDecided { .. }
        )
    });
    let callbacks = events_today(&|k| matches!(k, EventKind::CallbackRecorded { .. }));
    let r = t
        .get(
            &format!("/api/v1/reports/daily?date={day}&top=3"),
            "analyst",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let b = &r.body;
    assert_eq!(b["requests"], json!(todays.len()));
    assert_eq!(b["calls"], json!(calls));
    assert_eq!(b["direct"], json!(direct));
    assert_eq!(b["transferred"], json!(transferred));
    assert_eq!(b["callbacks"], json!(callbacks));
    for c in b["by_channel"].as_array().unwrap() {
        assert_eq!(
            c["requests"].as_u64(),
            by_channel.get(c["channel"].as_str().unwrap()).copied(),
            "{c}"
        );
    }
    let summary = b["summary"].as_str().unwrap();
    assert!(
        summary.contains(&format!("接听群众来电诉求{calls}件次")),
        "{summary}"
    );
    assert!(
        summary.contains(&format!("回访量{callbacks}件")),
        "{summary}"
    );
    // Hot issues: the busiest second-level categories of the day's requests.
    let mut groups: HashMap<String, Vec<&Ticket>> = HashMap::new();
    for tk in &todays {
        if let Some(c) = &tk.category_code {
            groups.entry(c[..4].to_string()).or_default().push(tk);
        }
    }
    let mut ranked: Vec<(String, u64)> = groups
        .iter()
        .map(|(c, v)| (c.clone(), v.len() as u64))
        .collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.truncate(3);
    let hot = b["hot_issues"].as_array().unwrap();
    let got: Vec<(String, u64)> = hot
        .iter()
        .map(|h| {
            (
                h["category_code"].as_str().unwrap().to_string(),
                h["requests"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, ranked);
    for h in hot {
        let code = h["category_code"].as_str().unwrap();
        let members = &groups[code];
        let n = members.len() as f64;
        let top_of = |key: &dyn Fn(&Ticket) -> Option<String>| -> Option<(String, u64)> {
            let mut m: HashMap<String, u64> = HashMap::new();
            for tk in members {
                if let Some(k) = key(tk) {
                    *m.entry(k).or_default() += 1;
                }
            }
            m.into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        };
        let main = top_of(&|tk| tk.category_code.clone().filter(|c| c.len() >= 6))
            .filter(|(_, c)| *c as f64 / n >= 0.4)
            .map(|(k, _)| k);
        assert_eq!(
            h["main_category_code"].as_str().map(str::to_string),
            main,
            "{h}"
        );
        let place =
            top_of(&|tk| tk.division_code.clone()).filter(|(_, c)| *c >= 3 && *c as f64 / n >= 0.4);
        assert_eq!(
            h["place_code"].as_str().map(str::to_string),
            place.as_ref().map(|p| p.0.clone()),
            "{h}"
        );
        let text = h["text"].as_str().unwrap();
        assert!(
            text.contains(if place.is_some() {
                "集中反映"
            } else {
                "无集中反映地址"
            }),
            "{text}"
        );
        // The unit most of the day's dispatches of the issue went to, if it took half.
        let mut units: HashMap<i64, u64> = HashMap::new();
        for (tk, es) in all {
            if tk
                .category_code
                .as_deref()
                .is_some_and(|c| c.starts_with(code))
            {
                for e in es.iter().filter(|e| on_day(e.at)) {
                    if let EventKind::Dispatched { lead_unit_id, .. }
                    | EventKind::ConsultationDecided { lead_unit_id, .. } = &e.kind
                    {
                        *units.entry(*lead_unit_id).or_default() += 1;
                    }
                }
            }
        }
        let total: u64 = units.values().sum();
        let top_unit = units
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .filter(|(_, c)| **c as f64 / total as f64 >= 0.5);
        if let Some((u, _)) = top_unit {
            assert_eq!(h["handling"]["kind"], "unit", "{h}");
            assert_eq!(h["handling"]["unit_id"], json!(u), "{h}");
            assert!(text.contains("已及时联系"), "{text}");
        } else {
            assert_ne!(h["handling"]["kind"], "unit", "{h}");
        }
    }
    // As a document, and as one for Word.
    let r = t
        .raw(
            reqwest::Method::GET,
            &format!("/api/v1/reports/daily?date={day}&format=html"),
            Some("analyst"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = t
        .get(
            &format!("/api/v1/reports/daily?date={day}&format=pdf"),
            "analyst",
        )
        .await;
    assert_eq!(r.body["error"]["field"], "format");
}
