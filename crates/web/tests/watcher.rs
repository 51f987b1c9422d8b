//! The deadline watcher with a controllable clock: warnings and breaches recorded exactly
//! once per clock and due point, with two watcher instances (each its own connection pool,
//! as two servers would be) running at the same time, on SQLite and on PostgreSQL.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::TestApp;
use mashangban_app::auth::actor_of;
use mashangban_app::{App, Config};
use mashangban_domain::deadlines::{AlertLevel, ClockKind};
use mashangban_domain::{Action, EventKind, SupervisionLevel};
use mashangban_store::SqlStore;
use serde_json::json;
use std::sync::Arc;

on_both!(
    warnings_and_breaches_are_recorded_once,
    supervision_climbs_each_level_once,
    one_ticket_is_watched_at_a_given_time,
    a_merged_request_answered_with_its_parent_is_called_back_in_time
);

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

async fn actor(t: &TestApp, name: &str) -> mashangban_domain::Actor {
    actor_of(
        &t.app
            .store()
            .get_credentials(name)
            .await
            .unwrap()
            .unwrap()
            .0,
    )
}

/// Two watchers at the same moment; returns what they recorded together.
async fn both_watch(a: &App, b: &App, now: DateTime<Utc>) -> (usize, usize) {
    let (x, y) = tokio::join!(
        a.watch_deadlines_at(now, 1000),
        b.watch_deadlines_at(now, 1000)
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    (x.warned + y.warned, x.breached + y.breached)
}

async fn count(t: &TestApp, id: i64, clock: ClockKind, breach: bool) -> usize {
    t.app
        .store()
        .ticket_events(id)
        .await
        .unwrap()
        .iter()
        .filter(|e| match &e.kind {
            EventKind::DeadlineWarned { clock: c, .. } => !breach && *c == clock,
            EventKind::DeadlineBreached { clock: c, .. } => breach && *c == clock,
            _ => false,
        })
        .count()
}

async fn warnings_and_breaches_are_recorded_once(t: &TestApp) {
    // A second instance over the same database, with its own pool.
    let store = SqlStore::connect(&t.url).await.unwrap();
    let other = App::new(Arc::new(store), Config::default());
    let disp = actor(t, "dispatcher").await;
    let lead = actor(t, "lead").await;
    // Monday 2026-11-23 09:00: ten tickets dispatched with a 1-working-day tier.
    let t0 = at("2026-11-23T09:00:00+08:00");
    let mut ids = Vec::new();
    for i in 0..10 {
        let id = t.create(&format!("第{i}件：小区路灯不亮")).await;
        t.app
            .act_at(
                &disp,
                id,
                Action::Dispatch,
                json!({"lead_unit_id": t.lead_unit, "tier": 1, "note": "紧急，缩短时限"}),
                t0,
            )
            .await
            .unwrap();
        ids.push(id);
    }
    // Nothing is due before the sign clock's warning point (75 % of 2 working hours).
    assert!(
        t.app
            .store()
            .due_tickets(t0 + Duration::minutes(89), 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        both_watch(&t.app, &other, t0 + Duration::minutes(60)).await,
        (0, 0)
    );
    assert_eq!(
        t.app
            .store()
            .due_tickets(t0 + Duration::minutes(90), 100)
            .await
            .unwrap()
            .len(),
        10
    );

    // Past the warning point: each ticket warned once, though two watchers ran.
    assert_eq!(
        both_watch(&t.app, &other, t0 + Duration::minutes(100)).await,
        (10, 0)
    );
    for id in &ids {
        assert_eq!(count(t, *id, ClockKind::Sign, false).await, 1);
    }
    assert_eq!(
        both_watch(&t.app, &other, t0 + Duration::minutes(110)).await,
        (0, 0),
        "not again"
    );
    let tk = t.app.store().get_ticket(ids[0]).await.unwrap().unwrap();
    assert_eq!(tk.alert_level(), Some(AlertLevel::Warning));

    // Past the due point: each breached once.
    assert_eq!(
        both_watch(&t.app, &other, t0 + Duration::minutes(125)).await,
        (0, 10)
    );
    for id in &ids {
        assert_eq!(count(t, *id, ClockKind::Sign, true).await, 1);
    }
    assert_eq!(
        t.app
            .store()
            .get_ticket(ids[0])
            .await
            .unwrap()
            .unwrap()
            .alert_level(),
        Some(AlertLevel::Overdue)
    );

    // Signed late: the sign alert ends; the handling clock runs on (due Tuesday 09:00).
    for id in &ids[..5] {
        t.app
            .act_at(&lead, *id, Action::Sign, json!({}), t0 + Duration::hours(3))
            .await
            .unwrap();
        t.app
            .act_at(
                &lead,
                *id,
                Action::RecordContact,
                json!({"note": "已联系"}),
                t0 + Duration::hours(3),
            )
            .await
            .unwrap();
    }
    assert_eq!(
        t.app
            .store()
            .get_ticket(ids[0])
            .await
            .unwrap()
            .unwrap()
            .alert_level(),
        None
    );
    // Tuesday 03:00 (75 % of 24 h): the handling warnings; at 09:00 the breaches, for all ten.
    let (w, b) = both_watch(&t.app, &other, at("2026-11-24T03:00:00+08:00")).await;
    assert_eq!((w, b), (10, 0));
    let (w, b) = both_watch(&t.app, &other, at("2026-11-24T09:00:00+08:00")).await;
    assert_eq!((w, b), (0, 10));
    for id in &ids {
        assert_eq!(count(t, *id, ClockKind::Handling, false).await, 1);
        assert_eq!(count(t, *id, ClockKind::Handling, true).await, 1);
    }
    // An approved extension moves the due point: the original points pass unnoticed and
    // the new ones are watched afresh.
    let id = t.create("施工占道，需协调").await;
    let tue = at("2026-11-24T09:00:00+08:00");
    t.app
        .act_at(
            &disp,
            id,
            Action::Dispatch,
            json!({"lead_unit_id": t.lead_unit, "tier": 1, "note": "紧急，缩短时限"}),
            tue,
        )
        .await
        .unwrap();
    t.app
        .act_at(
            &lead,
            id,
            Action::Sign,
            json!({}),
            tue + Duration::minutes(30),
        )
        .await
        .unwrap();
    t.app
        .act_at(
            &lead,
            id,
            Action::RecordContact,
            json!({"note": "已联系"}),
            tue + Duration::minutes(40),
        )
        .await
        .unwrap();
    t.app
        .act_at(
            &lead,
            id,
            Action::RequestExtension,
            json!({"days": 2, "reason": "需协调施工单位"}),
            tue + Duration::hours(1),
        )
        .await
        .unwrap();
    t.app
        .act_at(
            &disp,
            id,
            Action::ApproveExtension,
            json!({}),
            tue + Duration::minutes(90),
        )
        .await
        .unwrap();
    // Without the extension it would warn on Wednesday 03:00; now 3 working days end Friday 09:00.
    assert_eq!(
        both_watch(&t.app, &other, at("2026-11-25T03:30:00+08:00")).await,
        (0, 0)
    );
    assert_eq!(
        both_watch(&t.app, &other, at("2026-11-26T15:30:00+08:00")).await,
        (1, 0)
    );
    assert_eq!(
        both_watch(&t.app, &other, at("2026-11-27T09:00:00+08:00")).await,
        (0, 1)
    );
    assert_eq!(count(t, id, ClockKind::Handling, true).await, 1);
    // A request after the deadline is refused with the reason.
    let late = t
        .app
        .act_at(
            &lead,
            id,
            Action::RequestExtension,
            json!({"days": 1, "reason": "再延"}),
            at("2026-11-27T10:00:00+08:00"),
        )
        .await
        .unwrap_err();
    assert!(late.to_string().contains("deadline has passed"), "{late}");
}

/// Two watchers at the same moment; returns the supervisions they raised together.
async fn both_supervise(a: &App, b: &App, now: DateTime<Utc>) -> usize {
    let (x, y) = tokio::join!(
        a.watch_deadlines_at(now, 1000),
        b.watch_deadlines_at(now, 1000)
    );
    x.unwrap().supervised + y.unwrap().supervised
}

/// The supervision levels recorded on a ticket, in order.
async fn levels(t: &TestApp, id: i64) -> Vec<SupervisionLevel> {
    t.app
        .store()
        .ticket_events(id)
        .await
        .unwrap()
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Supervised { level, .. } => Some(*level),
            _ => None,
        })
        .collect()
}

async fn supervision_climbs_each_level_once(t: &TestApp) {
    use mashangban_domain::SupervisionLevel::{L1, L2, L3};
    let store = SqlStore::connect(&t.url).await.unwrap();
    let other = App::new(Arc::new(store), Config::default());
    let disp = actor(t, "dispatcher").await;
    let lead = actor(t, "lead").await;
    let sup = actor(t, "supervisor").await;
    // Monday 2026-11-23 09:00: six tickets, 1-working-day tier, signed and contacted in time.
    let t0 = at("2026-11-23T09:00:00+08:00");
    let mut ids = Vec::new();
    for i in 0..6 {
        let id = t.create(&format!("第{i}件：供暖不热")).await;
        t.app
            .act_at(
                &disp,
                id,
                Action::Dispatch,
                json!({"lead_unit_id": t.lead_unit, "tier": 1, "note": "紧急，缩短时限"}),
                t0,
            )
            .await
            .unwrap();
        for action in [Action::Sign, Action::RecordContact] {
            t.app
                .act_at(&lead, id, action, json!({}), t0 + Duration::minutes(30))
                .await
                .unwrap();
        }
        ids.push(id);
    }
    // Tuesday 03:00 (75 %) the handling warnings; at 09:00 the breach and L1 催办, once each.
    let tue = at("2026-11-24T09:00:00+08:00");
    assert_eq!(
        both_watch(&t.app, &other, tue - Duration::hours(6)).await,
        (6, 0)
    );
    assert_eq!(both_watch(&t.app, &other, tue).await, (0, 6));
    assert_eq!(
        both_supervise(&t.app, &other, tue).await,
        0,
        "raised with the breach"
    );
    for id in &ids {
        assert_eq!(levels(t, *id).await, vec![L1]);
        assert_eq!(count(t, *id, ClockKind::Handling, true).await, 1);
    }
    assert_eq!(
        both_watch(&t.app, &other, tue + Duration::hours(1)).await,
        (0, 0)
    );
    // The unit answers the 催办 on ticket 0, and replies on ticket 1 (which stops its climb).
    t.app
        .act_at(
            &lead,
            ids[0],
            Action::AnswerSupervision,
            json!({"answer": "已派人现场处理"}),
            tue + Duration::hours(1),
        )
        .await
        .unwrap();
    t.app
        .act_at(
            &lead,
            ids[1],
            Action::Reply,
            json!({"content": "已修复"}),
            tue + Duration::hours(1),
        )
        .await
        .unwrap();
    let tk = t.app.store().get_ticket(ids[0]).await.unwrap().unwrap();
    assert!(!tk.supervision.unwrap().awaits_answer());
    // Thursday 09:00, two working days after L1 and still overdue: L2 书面督办 for five.
    let thu = at("2026-11-26T09:00:00+08:00");
    assert_eq!(
        both_supervise(&t.app, &other, thu - Duration::minutes(1)).await,
        0
    );
    assert_eq!(both_supervise(&t.app, &other, thu).await, 5);
    assert_eq!(both_supervise(&t.app, &other, thu).await, 0, "not again");
    assert_eq!(levels(t, ids[1]).await, vec![L1]);
    let tk = t.app.store().get_ticket(ids[0]).await.unwrap().unwrap();
    assert!(
        tk.supervision.unwrap().awaits_answer(),
        "a new level wants a new answer"
    );
    // A supervisor raises ticket 2 to 挂牌督办 by hand; lowering is refused.
    t.app
        .act_at(
            &sup,
            ids[2],
            Action::Supervise,
            json!({"level": "l3", "note": "市领导批示，挂牌督办"}),
            thu + Duration::hours(1),
        )
        .await
        .unwrap();
    let lower = t
        .app
        .act_at(
            &sup,
            ids[3],
            Action::Supervise,
            json!({"level": "l1", "note": "x"}),
            thu + Duration::hours(1),
        )
        .await
        .unwrap_err();
    assert!(lower.to_string().contains("can only be raised"), "{lower}");
    // Three working days after L2 (Fri, Mon, Tue): L3 for the four still overdue at L2.
    let next_tue = at("2026-12-01T09:00:00+08:00");
    assert_eq!(
        both_supervise(&t.app, &other, next_tue - Duration::minutes(1)).await,
        0
    );
    assert_eq!(both_supervise(&t.app, &other, next_tue).await, 4);
    assert_eq!(
        both_supervise(&t.app, &other, next_tue + Duration::days(5)).await,
        0
    );
    for (i, id) in ids.iter().enumerate() {
        let expected = match i {
            1 => vec![L1],
            2 => vec![L1, L2, L3],
            _ => vec![L1, L2, L3],
        };
        assert_eq!(levels(t, *id).await, expected, "ticket {i}");
    }
    let manual = t.app.store().ticket_events(ids[2]).await.unwrap();
    assert!(manual.iter().any(|e| matches!(
        &e.kind,
        EventKind::Supervised { level: L3, automatic: false, reason } if reason.contains("批示")
    )));
    // The list and the board see the levels.
    let r = t.get("/api/v1/tickets?supervision=l3", "supervisor").await;
    let got: Vec<_> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["id"].clone(),
                i["supervision"]["level"].clone(),
                i["state"].clone(),
            )
        })
        .collect();
    assert_eq!(got.len(), 5, "{got:?} {ids:?}");
    // The unit owes answers on all six (ticket 1's 催办 was never answered).
    let r = t
        .get(
            "/api/v1/tickets?supervision=any&awaiting_answer=true",
            "lead",
        )
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 6);
    assert_eq!(r.body["items"][0]["supervision"]["level"], "l3");
}

async fn one_ticket_is_watched_at_a_given_time(t: &TestApp) {
    // What a replay of history (the demo, an import) asks between a ticket's steps: the
    // sign clock's due point passed (its warning point too, which is then not told), once.
    let disp = actor(t, "dispatcher").await;
    let t0 = at("2026-11-23T09:00:00+08:00");
    let id = t.create("小区路灯不亮").await;
    t.app
        .act_at(
            &disp,
            id,
            Action::Dispatch,
            json!({"lead_unit_id": t.lead_unit, "tier": 1, "note": "紧急，缩短时限"}),
            t0,
        )
        .await
        .unwrap();
    let early = t
        .app
        .watch_ticket_at(id, t0 + Duration::minutes(60))
        .await
        .unwrap();
    assert_eq!((early.warned, early.breached), (0, 0));
    let r = t
        .app
        .watch_ticket_at(id, t0 + Duration::minutes(125))
        .await
        .unwrap();
    assert_eq!(
        (r.visited, r.warned, r.breached, r.supervised),
        (1, 0, 1, 1),
        "{r:?}"
    );
    assert_eq!(count(t, id, ClockKind::Sign, false).await, 0);
    assert_eq!(count(t, id, ClockKind::Sign, true).await, 1);
    let again = t
        .app
        .watch_ticket_at(id, t0 + Duration::minutes(130))
        .await
        .unwrap();
    assert_eq!((again.warned, again.breached), (0, 0), "not again");
    assert!(t.app.watch_ticket_at(999_999, t0).await.is_err());
}

/// A request merged into another (并单) is given the parent's answer and awaits its own
/// callback: the watcher holds the callback staff to the same two working days for it.
async fn a_merged_request_answered_with_its_parent_is_called_back_in_time(t: &TestApp) {
    let parent = t.create("小区门口路灯不亮，晚上很黑").await;
    let child = t.create("我们小区门口的路灯坏了好几天").await;
    t.act(child, "merge", "dispatcher", json!({"parent_id": parent}))
        .await;
    t.bring_to(parent, "awaiting_callback").await;
    assert_eq!(t.state(child).await, "awaiting_callback");
    let now = Utc::now();
    t.app.watch_deadlines_at(now, 1000).await.unwrap();
    assert_eq!(count(t, child, ClockKind::Callback, true).await, 0);
    // Ten calendar days on, at least two working days have passed on any calendar.
    let later = now + Duration::days(10);
    t.app.watch_deadlines_at(later, 1000).await.unwrap();
    assert_eq!(count(t, child, ClockKind::Callback, true).await, 1);
    assert_eq!(count(t, parent, ClockKind::Callback, true).await, 1);
    t.app
        .watch_deadlines_at(later + Duration::hours(1), 1000)
        .await
        .unwrap();
    assert_eq!(count(t, child, ClockKind::Callback, true).await, 1, "once");
}
