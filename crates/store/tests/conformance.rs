//! The storage conformance suite: every test runs on SQLite and on PostgreSQL
//! (the latter when TEST_DATABASE_URL is set; otherwise it says it skipped).

use chrono::{Duration, TimeZone, Utc};
use mashangban_domain::*;
use mashangban_store::*;
use serde_json::json;

async fn sqlite() -> SqlStore {
    let s = SqlStore::connect(&testing::sqlite_url()).await.unwrap();
    s.migrate().await.unwrap();
    s
}

async fn pg(name: &str) -> Option<SqlStore> {
    let url = testing::postgres_url(name).await?;
    let s = SqlStore::connect(&url).await.unwrap();
    s.migrate().await.unwrap();
    Some(s)
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { let s = super::sqlite().await; super::$name(&s).await; } )*
        }
        mod on_postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() {
                let Some(s) = super::pg(stringify!($name)).await else { return };
                super::$name(&s).await;
            } )*
        }
    };
}

conformance!(
    migrations_are_idempotent,
    a_database_of_the_first_schema_is_upgraded,
    the_outbox_keeps_its_notices_when_it_takes_notices_about_no_ticket,
    tickets_keep_their_rows_and_ids_without_the_tracking_code_index,
    repeated_wrong_passwords_lock_the_account,
    divisions_and_population,
    units_categories_users_and_tokens,
    create_numbers_and_events,
    idempotency_keys,
    commit_is_atomic_and_versioned,
    listing_filters_and_cursor,
    concurrent_creates_get_distinct_numbers,
    creates_written_together_are_each_whole,
    a_failing_write_among_concurrent_ones_fails_alone,
    calendar_and_settings,
    next_deadlines,
    alerts_and_supervision_on_the_board,
    catalogue_is_versioned_and_all_or_nothing,
    gazetteer_names_map_to_divisions,
    knowledge_is_versioned_and_all_or_nothing,
    aggregates_follow_the_events_and_rebuild_the_same,
    deltas_fold_concurrently_with_writes_and_reads,
    warnings_are_raised_once_and_again_when_worse,
    saved_filters_are_each_users_own,
    oldest_first_pages_forward,
    attempts_are_counted_per_key_and_forgotten,
    channels_and_lines_are_kept,
);

fn at(h: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, h, 0, 0).unwrap()
}

fn op() -> Actor {
    Actor {
        user_id: 1,
        role: Role::Operator,
        unit_id: None,
    }
}

fn new_ticket(content: &str) -> NewTicket {
    NewTicket::parse(json!({"channel": "phone", "kind": "complaint", "content": content,
        "citizen": {"name": "张三", "phone": "13812345678"}, "category_code": "0101", "division_code": "630102001"}))
    .unwrap()
}

async fn create(
    s: &SqlStore,
    content: &str,
    when: chrono::DateTime<Utc>,
    key: Option<&str>,
) -> Created {
    s.create_ticket(CreateTicket {
        new: new_ticket(content),
        actor: op(),
        at: when,
        number_prefix: "XN".into(),
        tracking_code: format!("TC{}", rand_suffix()),
        idempotency: key.map(|k| (k.to_string(), format!("hash-{content}"))),
        notices: None,
    })
    .await
    .unwrap()
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

async fn migrations_are_idempotent(s: &SqlStore) {
    s.migrate().await.unwrap();
    s.migrate().await.unwrap();
    s.ping().await.unwrap();
    s.analyze().await.unwrap();
    assert_eq!(s.count_tickets().await.unwrap(), 0);
}

async fn divisions_and_population(s: &SqlStore) {
    let d = |code: &str, name: &str, level, parent: Option<&str>| Division {
        code: code.into(),
        name: name.into(),
        level,
        parent_code: parent.map(Into::into),
        population: None,
    };
    s.upsert_divisions(&[
        d("630100", "西宁市", DivisionLevel::City, None),
        d("630102", "城东区", DivisionLevel::District, Some("630100")),
        d("630103", "城中区", DivisionLevel::District, Some("630100")),
    ])
    .await
    .unwrap();
    let districts = s.list_divisions(Some("630100"), None).await.unwrap();
    assert_eq!(districts.len(), 2);
    assert_eq!(
        s.list_divisions(None, Some(DivisionLevel::City))
            .await
            .unwrap()
            .len(),
        1
    );
    s.set_population("630102", Some(420_000)).await.unwrap();
    // Re-seeding keeps the population an administrator entered.
    s.upsert_divisions(&[d(
        "630102",
        "城东区",
        DivisionLevel::District,
        Some("630100"),
    )])
    .await
    .unwrap();
    assert_eq!(
        s.get_division("630102").await.unwrap().unwrap().population,
        Some(420_000)
    );
    assert!(matches!(
        s.set_population("999999", Some(1)).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn units_categories_users_and_tokens(s: &SqlStore) {
    let centre = s
        .insert_unit(&NewUnit {
            code: "HOTLINE".into(),
            name: "12345热线中心".into(),
            kind: UnitKind::HotlineCentre,
            parent_id: None,
            division_code: None,
        })
        .await
        .unwrap();
    let dept = s
        .insert_unit(&NewUnit {
            code: "CITY-ZJ".into(),
            name: "市住房和城乡建设局".into(),
            kind: UnitKind::CityDepartment,
            parent_id: Some(centre.id),
            division_code: None,
        })
        .await
        .unwrap();
    assert_eq!(
        s.get_unit(dept.id).await.unwrap().unwrap().parent_id,
        Some(centre.id)
    );
    assert_eq!(
        s.get_unit_by_code("CITY-ZJ").await.unwrap().unwrap().id,
        dept.id
    );
    let again = s
        .insert_unit(&NewUnit {
            code: "CITY-ZJ".into(),
            name: "x".into(),
            kind: UnitKind::CityDepartment,
            parent_id: None,
            division_code: None,
        })
        .await;
    assert!(
        matches!(again, Err(StoreError::Duplicate { .. })),
        "{again:?}"
    );
    assert_eq!(s.list_units().await.unwrap().len(), 2);

    s.upsert_categories(&[
        Category {
            code: "01".into(),
            name: "城乡建设".into(),
            parent_code: None,
            level: 1,
            default_tier: None,
            active: true,
            description: String::new(),
            keywords: Vec::new(),
        },
        Category {
            code: "0101".into(),
            name: "市政设施".into(),
            parent_code: Some("01".into()),
            level: 2,
            default_tier: Some(7),
            active: true,
            description: "道路、井盖、路灯、排水".into(),
            keywords: vec!["路灯".into(), "井盖".into()],
        },
    ])
    .await
    .unwrap();
    // The description and keywords come back as written.
    let got = s.get_category("0101").await.unwrap().unwrap();
    assert_eq!(got.description, "道路、井盖、路灯、排水");
    assert_eq!(got.keywords, vec!["路灯", "井盖"]);
    assert!(
        s.get_category("01")
            .await
            .unwrap()
            .unwrap()
            .keywords
            .is_empty()
    );
    assert_eq!(
        s.get_category("0101").await.unwrap().unwrap().default_tier,
        Some(7)
    );
    assert_eq!(s.list_categories().await.unwrap().len(), 2);

    let u = s
        .insert_user(
            &NewUser {
                username: "handler1".into(),
                display_name: "承办一".into(),
                role: Role::UnitHandler,
                unit_id: Some(dept.id),
                password_hash: Some("h".into()),
            },
            at(1),
        )
        .await
        .unwrap();
    assert_eq!(u.role, Role::UnitHandler);
    let dup = s
        .insert_user(
            &NewUser {
                username: "handler1".into(),
                display_name: "x".into(),
                role: Role::Operator,
                unit_id: None,
                password_hash: None,
            },
            at(1),
        )
        .await;
    assert!(matches!(dup, Err(StoreError::Duplicate { .. })));
    let (got, hash) = s.get_credentials("handler1").await.unwrap().unwrap();
    assert_eq!((got.id, hash.as_deref()), (u.id, Some("h")));
    s.insert_token(u.id, "tokhash", "ci", at(1), None)
        .await
        .unwrap();
    s.insert_token(u.id, "shortlived", "login", at(1), Some(at(2)))
        .await
        .unwrap();
    assert!(
        s.user_by_token("shortlived", at(1))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        s.user_by_token("shortlived", at(3))
            .await
            .unwrap()
            .is_none(),
        "expired tokens stop working"
    );
    assert_eq!(
        s.user_by_token("tokhash", at(2)).await.unwrap().unwrap().id,
        u.id
    );
    assert!(s.user_by_token("other", at(2)).await.unwrap().is_none());
    let off = UserUpdate {
        active: Some(false),
        ..Default::default()
    };
    s.update_user(u.id, &off).await.unwrap();
    assert!(
        s.user_by_token("tokhash", at(2)).await.unwrap().is_none(),
        "disabled users' tokens stop working"
    );
    let password = UserUpdate {
        password_hash: Some("h2".into()),
        ..Default::default()
    };
    s.update_user(u.id, &password).await.unwrap();
    assert_eq!(
        s.get_credentials("handler1")
            .await
            .unwrap()
            .unwrap()
            .1
            .as_deref(),
        Some("h2")
    );
    assert_eq!(s.list_users().await.unwrap().len(), 1);
    // A user can be given another role (and unit).
    let to_dispatcher = UserUpdate {
        role: Some((Role::Dispatcher, None)),
        ..Default::default()
    };
    s.update_user(u.id, &to_dispatcher).await.unwrap();
    let changed = s.get_user(u.id).await.unwrap().unwrap();
    assert_eq!((changed.role, changed.unit_id), (Role::Dispatcher, None));
    let back = UserUpdate {
        role: Some((u.role, u.unit_id)),
        ..Default::default()
    };
    s.update_user(u.id, &back).await.unwrap();
    assert_eq!(s.get_user(u.id).await.unwrap().unwrap().unit_id, u.unit_id);
    assert!(matches!(
        s.update_user(999_999, &back).await,
        Err(StoreError::NotFound { .. })
    ));
    // Tokens are listed without their secret and can be revoked by id or by secret hash.
    let on = UserUpdate {
        active: Some(true),
        ..Default::default()
    };
    s.update_user(u.id, &on).await.unwrap();
    // The last active administrator can be neither disabled nor demoted, not even within
    // a change that also sets a password: the whole change is refused.
    let admin = |name: &str| NewUser {
        username: name.into(),
        display_name: name.into(),
        role: Role::Admin,
        unit_id: None,
        password_hash: Some("a".into()),
    };
    let a1 = s.insert_user(&admin("admin1"), at(1)).await.unwrap();
    let a2 = s.insert_user(&admin("admin2"), at(1)).await.unwrap();
    s.update_user(a1.id, &off).await.unwrap();
    let off_with_password = UserUpdate {
        active: Some(false),
        password_hash: Some("changed".into()),
        ..Default::default()
    };
    assert!(matches!(
        s.update_user(a2.id, &off_with_password).await,
        Err(StoreError::LastAdmin)
    ));
    assert!(matches!(
        s.update_user(a2.id, &to_dispatcher).await,
        Err(StoreError::LastAdmin)
    ));
    let (kept, hash) = s.get_credentials("admin2").await.unwrap().unwrap();
    assert_eq!(
        (kept.role, kept.active, hash.as_deref()),
        (Role::Admin, true, Some("a"))
    );
    // Another administrator again: now either may go.
    s.update_user(a1.id, &on).await.unwrap();
    s.update_user(a2.id, &to_dispatcher).await.unwrap();
    assert!(s.user_by_token("tokhash", at(1)).await.unwrap().is_some());
    let tokens = s.list_tokens(Some(u.id)).await.unwrap();
    assert_eq!(
        tokens.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["login", "ci"]
    );
    assert_eq!(tokens[1].username, "handler1");
    assert!(s.revoke_token(Some(tokens[1].id), None).await.unwrap());
    assert!(
        !s.revoke_token(Some(tokens[1].id), None).await.unwrap(),
        "already revoked"
    );
    assert!(
        s.user_by_token("tokhash", at(1)).await.unwrap().is_none(),
        "revoked tokens stop working"
    );
    assert!(s.revoke_token(None, Some("shortlived")).await.unwrap());
    assert!(s.list_tokens(None).await.unwrap().iter().all(|t| t.revoked));
}

async fn create_numbers_and_events(s: &SqlStore) {
    let a = create(s, "路灯不亮", at(1), None).await;
    let b = create(s, "井盖缺失", at(2), None).await;
    assert!(a.created && b.created);
    assert_eq!(a.ticket.number, "XN20261128000001");
    assert_eq!(b.ticket.number, "XN20261128000002");
    // A new business day (Asia/Shanghai) starts a new sequence: 16:00 UTC is midnight in Xining.
    let c = create(s, "噪音扰民", at(16), None).await;
    assert_eq!(c.ticket.number, "XN20261129000001");
    let got = s.get_ticket(a.ticket.id).await.unwrap().unwrap();
    assert_eq!(got, a.ticket);
    assert_eq!(got.state, TicketState::Received);
    let events = s.ticket_events(a.ticket.id).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].seq, 1);
    assert_eq!(events[0].kind.type_name(), "received");
    assert_eq!(events[0].actor, op());
    assert!(s.get_ticket(999_999).await.unwrap().is_none());
    assert_eq!(
        s.get_tickets(&[b.ticket.id, a.ticket.id])
            .await
            .unwrap()
            .len(),
        2
    );
}

async fn idempotency_keys(s: &SqlStore) {
    let first = create(s, "重复提交", at(1), Some("key-1")).await;
    let second = create(s, "重复提交", at(1), Some("key-1")).await;
    assert!(first.created);
    assert!(!second.created);
    assert_eq!(first.ticket.id, second.ticket.id);
    assert_eq!(s.count_tickets().await.unwrap(), 1);
    let other = s
        .create_ticket(CreateTicket {
            new: new_ticket("另一件事"),
            actor: op(),
            at: at(1),
            number_prefix: "XN".into(),
            tracking_code: "TCX".into(),
            idempotency: Some(("key-1".into(), "different".into())),
            notices: None,
        })
        .await;
    assert!(
        matches!(other, Err(StoreError::IdempotencyMismatch)),
        "{other:?}"
    );
    assert_eq!(s.count_tickets().await.unwrap(), 1);
}

async fn commit_is_atomic_and_versioned(s: &SqlStore) {
    let t = create(s, "小区垃圾未清运", at(1), None).await.ticket;
    let disp = Actor {
        user_id: 2,
        role: Role::Dispatcher,
        unit_id: None,
    };
    let dispatch = EventKind::Dispatched {
        lead_unit_id: 5,
        co_unit_ids: vec![6],
        tier: Some(3),
        note: None,
    };
    let after = s
        .commit(
            vec![Change {
                before: t.clone(),
                events: vec![dispatch.clone()],
                next_deadline: None,
                notices: Vec::new(),
            }],
            disp,
            at(2),
        )
        .await
        .unwrap();
    assert_eq!(after[0].ticket.state, TicketState::Dispatched);
    let appended: Vec<_> = after[0]
        .events
        .iter()
        .map(|e| (e.seq, e.kind.type_name()))
        .collect();
    assert_eq!(
        appended,
        vec![(2, "dispatched")],
        "commit returns the events it appended"
    );
    assert_eq!(after[0].ticket.version, 2);
    assert_eq!(s.get_ticket(t.id).await.unwrap().unwrap(), after[0].ticket);
    // Writing from the stale view is refused and writes nothing.
    let stale = s
        .commit(
            vec![Change {
                before: t.clone(),
                events: vec![dispatch],
                next_deadline: None,
                notices: Vec::new(),
            }],
            disp,
            at(3),
        )
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict)));
    assert_eq!(s.ticket_events(t.id).await.unwrap().len(), 2);
    // Two tickets in one commit: a conflict on the second rolls back the first.
    let other = create(s, "同一问题", at(1), None).await.ticket;
    let merge_child = Change {
        before: other.clone(),
        events: vec![EventKind::Merged { parent_id: t.id }],
        next_deadline: None,
        notices: Vec::new(),
    };
    let stale_parent = Change {
        before: t.clone(),
        events: vec![EventKind::ChildMerged { child_id: other.id }],
        next_deadline: None,
        notices: Vec::new(),
    };
    let r = s
        .commit(vec![merge_child.clone(), stale_parent], disp, at(4))
        .await;
    assert!(matches!(r, Err(StoreError::Conflict)));
    assert_eq!(
        s.get_ticket(other.id).await.unwrap().unwrap().state,
        TicketState::Received
    );
    assert_eq!(s.ticket_events(other.id).await.unwrap().len(), 1);
    let parent = s.get_ticket(t.id).await.unwrap().unwrap();
    let done = s
        .commit(
            vec![
                merge_child,
                Change {
                    before: parent,
                    events: vec![EventKind::ChildMerged { child_id: other.id }],
                    next_deadline: None,
                    notices: Vec::new(),
                },
            ],
            disp,
            at(4),
        )
        .await
        .unwrap();
    assert_eq!(done[0].ticket.state, TicketState::Merged);
    assert_eq!(done[1].ticket.child_ids, vec![other.id]);
}

async fn listing_filters_and_cursor(s: &SqlStore) {
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(
            create(s, &format!("事项{i}"), at(1) + Duration::minutes(i), None)
                .await
                .ticket
                .id,
        );
    }
    let disp = Actor {
        user_id: 2,
        role: Role::Dispatcher,
        unit_id: None,
    };
    let t = s.get_ticket(ids[2]).await.unwrap().unwrap();
    s.commit(
        vec![Change {
            before: t,
            events: vec![EventKind::Dispatched {
                lead_unit_id: 5,
                co_unit_ids: vec![6],
                tier: None,
                note: None,
            }],
            next_deadline: None,
            notices: Vec::new(),
        }],
        disp,
        at(2),
    )
    .await
    .unwrap();
    let all = s
        .list_tickets(&TicketFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 7);
    assert!(all.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    let page1 = s
        .list_tickets(&TicketFilter {
            limit: 3,
            ..Default::default()
        })
        .await
        .unwrap();
    let page2 = s
        .list_tickets(&TicketFilter {
            limit: 3,
            before_id: Some(page1[2].id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page2[0].id, page1[2].id - 1);
    let by_state = s
        .list_tickets(&TicketFilter {
            states: vec![TicketState::Dispatched],
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        by_state.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![ids[2]]
    );
    for unit in [5, 6] {
        let by_unit = s
            .list_tickets(&TicketFilter {
                unit_id: Some(unit),
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(
            by_unit.len(),
            1,
            "unit {unit} sees its ticket as lead or co-unit"
        );
    }
    let f = |cat: Option<&str>, div: Option<&str>| TicketFilter {
        category_prefix: cat.map(Into::into),
        division_prefix: div.map(Into::into),
        limit: 100,
        ..Default::default()
    };
    assert_eq!(s.list_tickets(&f(Some("01"), None)).await.unwrap().len(), 7);
    assert_eq!(s.list_tickets(&f(Some("02"), None)).await.unwrap().len(), 0);
    assert_eq!(
        s.list_tickets(&f(None, Some("630102")))
            .await
            .unwrap()
            .len(),
        7
    );
    assert_eq!(
        s.list_tickets(&f(None, Some("630103")))
            .await
            .unwrap()
            .len(),
        0
    );
    // Every level of the codes, indexed or not, narrows the same way.
    for (cat, div, n) in [
        (Some("0101"), None, 7),
        (Some("010"), None, 7),
        (Some("010101"), None, 0),
        (None, Some("630102001"), 7),
        (None, Some("6301"), 7),
        (None, Some("630102001001"), 0),
        (Some("01"), Some("630102001"), 7),
    ] {
        assert_eq!(
            s.list_tickets(&f(cat, div)).await.unwrap().len(),
            n,
            "category {cat:?}, division {div:?}"
        );
    }
    let ranged = s
        .list_tickets(&TicketFilter {
            created_from: Some(at(1) + Duration::minutes(2)),
            created_to: Some(at(1) + Duration::minutes(4)),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(ranged.len(), 2);
    let by_channel = s
        .list_tickets(&TicketFilter {
            channel: Some(Channel::WEB),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(by_channel.is_empty());
    let by_phone = s
        .list_tickets(&TicketFilter {
            citizen_phone: Some("13812345678".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_phone.len(), 7);

    // Extension requests awaiting a decision are found by their own column.
    let pending = |v: bool| TicketFilter {
        extension_pending: Some(v),
        limit: 100,
        ..Default::default()
    };
    assert!(s.list_tickets(&pending(true)).await.unwrap().is_empty());
    let lead = Actor {
        user_id: 3,
        role: Role::UnitHandler,
        unit_id: Some(5),
    };
    let t = s.get_ticket(ids[2]).await.unwrap().unwrap();
    s.commit(
        vec![Change {
            before: t,
            events: vec![
                EventKind::Signed { note: None },
                EventKind::ExtensionRequested {
                    days: 3,
                    reason: "需协调施工单位".into(),
                },
            ],
            next_deadline: None,
            notices: Vec::new(),
        }],
        lead,
        at(3),
    )
    .await
    .unwrap();
    let asked = s.list_tickets(&pending(true)).await.unwrap();
    assert_eq!(asked.iter().map(|t| t.id).collect::<Vec<_>>(), vec![ids[2]]);
    assert!(asked[0].pending_extension.is_some());
    assert_eq!(s.list_tickets(&pending(false)).await.unwrap().len(), 6);
    let t = s.get_ticket(ids[2]).await.unwrap().unwrap();
    s.commit(
        vec![Change {
            before: t,
            events: vec![EventKind::ExtensionApproved {
                days: 3,
                note: None,
            }],
            next_deadline: None,
            notices: Vec::new(),
        }],
        disp,
        at(4),
    )
    .await
    .unwrap();
    assert!(s.list_tickets(&pending(true)).await.unwrap().is_empty());
}

async fn concurrent_creates_get_distinct_numbers(s: &SqlStore) {
    let mut handles = Vec::new();
    for i in 0..40 {
        let s = s.clone();
        handles.push(tokio::spawn(async move {
            create(&s, &format!("并发{i}"), at(3), Some(&format!("k{i}"))).await
        }));
    }
    let mut numbers = std::collections::BTreeSet::new();
    for h in handles {
        numbers.insert(h.await.unwrap().ticket.number);
    }
    assert_eq!(numbers.len(), 40);
    assert_eq!(s.count_tickets().await.unwrap(), 40);
}

async fn creates_written_together_are_each_whole(s: &SqlStore) {
    // Concurrent creates (written together by one SQLite group commit, a few statements for
    // them all): two business days among them, each with its receipt notice, some keyed
    // twice with the same key.
    let receipt = |t: &Ticket| {
        vec![NewNotice {
            event_seq: 1,
            channel: "sms".into(),
            recipient: "13800000000".into(),
            payload: json!({"number": t.number, "ticket_id": t.id}).to_string(),
            not_before: t.created_at,
        }]
    };
    let plan = NoticePlan(std::sync::Arc::new(receipt));
    let mut handles = Vec::new();
    for i in 0..30 {
        let (s, plan) = (s.clone(), plan.clone());
        // 15:00 UTC is 23:00 in Xining, 16:00 the next day's midnight.
        let when = at(if i % 2 == 0 { 15 } else { 16 });
        let key = (i % 3 == 0).then(|| format!("together-{}", i % 6));
        handles.push(tokio::spawn(async move {
            let content = format!("同时{}", key.clone().unwrap_or_else(|| i.to_string()));
            s.create_ticket(CreateTicket {
                new: new_ticket(&content),
                actor: op(),
                at: when,
                number_prefix: "XN".into(),
                tracking_code: format!("TG{i}"),
                idempotency: key.map(|k| (k, format!("hash-{content}"))),
                notices: Some(plan),
            })
            .await
            .unwrap()
        }));
    }
    let mut made = Vec::new();
    for h in handles {
        made.push(h.await.unwrap());
    }
    // Keys together-0 (i = 0, 6, 12, 18, 24) and together-3 (i = 3, 9, ... 27): one ticket each.
    let created: Vec<&Ticket> = made
        .iter()
        .filter(|c| c.created)
        .map(|c| &c.ticket)
        .collect();
    assert_eq!(created.len(), 22, "20 unkeyed and one per key");
    for key in [0, 3] {
        let same: Vec<&Created> = (0..30)
            .filter(|i| i % 3 == 0 && i % 6 == key)
            .map(|i| &made[i])
            .collect();
        assert!(
            same.iter().all(|c| c.ticket.id == same[0].ticket.id),
            "key {key}"
        );
        assert_eq!(same.iter().filter(|c| c.created).count(), 1, "key {key}");
    }
    assert_eq!(s.count_tickets().await.unwrap(), 22);
    for t in &created {
        let stored = s.get_ticket(t.id).await.unwrap().unwrap();
        assert_eq!(&&stored, t);
        let events = s.ticket_events(t.id).await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].at, t.created_at);
    }
    let mut numbers: Vec<&str> = created.iter().map(|t| t.number.as_str()).collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 22);
    // Each day's numbers start at 1; the day of every ticket is its own.
    for t in &created {
        let day = if t.created_at == at(15) {
            "20261128"
        } else {
            "20261129"
        };
        assert!(t.number.starts_with(&format!("XN{day}")), "{}", t.number);
    }
    // 15 requests a day: no number past 15 (PostgreSQL may skip one a request that lost
    // the race for its key took; SQLite skips none).
    assert!(
        numbers
            .iter()
            .all(|n| n[10..].parse::<u32>().unwrap() <= 15),
        "{numbers:?}"
    );
    // One receipt per ticket, about that ticket, made at its own time.
    let notices = s.list_notices(Some("sms"), 100).await.unwrap();
    assert_eq!(notices.len(), 22);
    for n in &notices {
        let t = created
            .iter()
            .find(|t| Some(t.id) == n.ticket_id)
            .expect("a receipt about a ticket created here");
        let payload: serde_json::Value = serde_json::from_str(&n.payload).unwrap();
        assert_eq!(payload["number"], t.number.as_str());
        assert_eq!(payload["ticket_id"], t.id);
        assert_eq!(n.created_at, t.created_at);
    }
    // The evaluation sums count each request once.
    let before = aggregate_snapshot(s).await;
    s.rebuild_aggregates().await.unwrap();
    assert_eq!(aggregate_snapshot(s).await, before);
}

async fn a_failing_write_among_concurrent_ones_fails_alone(s: &SqlStore) {
    // Writes that run together (a group commit on SQLite) succeed or fail one by one, and
    // so do the evaluation sums they add (written once for the whole group).
    let disp = Actor {
        user_id: 2,
        role: Role::Dispatcher,
        unit_id: None,
    };
    let mut tickets = Vec::new();
    for i in 0..20 {
        tickets.push(create(s, &format!("分组{i}"), at(5), None).await.ticket);
    }
    let (mut handles, mut creates) = (Vec::new(), Vec::new());
    let store = s.clone();
    for (i, t) in tickets.iter().enumerate() {
        let (s, mut before) = (s.clone(), t.clone());
        if i % 2 == 1 {
            before.version += 7; // stale: must fail with Conflict and write nothing
        }
        handles.push(tokio::spawn(async move {
            s.commit(
                vec![Change {
                    before,
                    events: vec![
                        EventKind::NoteAdded {
                            note: format!("n{i}"),
                        },
                        EventKind::ResolvedDirectly {
                            answer: format!("a{i}"),
                        },
                    ],
                    next_deadline: None,
                    notices: Vec::new(),
                }],
                disp,
                at(6),
            )
            .await
        }));
        // Creates in the same groups.
        let store = store.clone();
        creates.push(tokio::spawn(async move {
            create(&store, &format!("同组{i}"), at(6), None).await;
        }));
    }
    for c in creates {
        c.await.unwrap();
    }
    for (i, h) in handles.into_iter().enumerate() {
        let r = h.await.unwrap();
        if i % 2 == 1 {
            assert!(matches!(r, Err(StoreError::Conflict)), "{i}: {r:?}");
        } else {
            assert_eq!(r.unwrap()[0].ticket.version, 3);
        }
    }
    for (i, t) in tickets.iter().enumerate() {
        let expected = if i % 2 == 1 { 1 } else { 3 };
        assert_eq!(
            s.ticket_events(t.id).await.unwrap().len(),
            expected,
            "ticket {i}"
        );
    }
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
    let city = s
        .kpi_tallies(mashangban_domain::aggregates::Dim::City, day, day, false)
        .await
        .unwrap();
    assert_eq!(
        (city[0].tally.requests, city[0].tally.direct),
        (40, 10),
        "every request counted once, only the committed answers counted"
    );
    let before = aggregate_snapshot(s).await;
    s.rebuild_aggregates().await.unwrap();
    assert_eq!(aggregate_snapshot(s).await, before);
}

async fn repeated_wrong_passwords_lock_the_account(s: &SqlStore) {
    let u = s
        .insert_user(
            &NewUser {
                username: "lockme".into(),
                display_name: "x".into(),
                role: Role::Operator,
                unit_id: None,
                password_hash: Some("h".into()),
            },
            at(1),
        )
        .await
        .unwrap();
    let lock = chrono::Duration::minutes(15);
    for _ in 0..4 {
        assert_eq!(
            s.record_login(u.id, false, at(2), 5, lock).await.unwrap(),
            None
        );
    }
    // A success in between starts the count again.
    s.record_login(u.id, true, at(2), 5, lock).await.unwrap();
    for _ in 0..4 {
        assert_eq!(
            s.record_login(u.id, false, at(2), 5, lock).await.unwrap(),
            None
        );
    }
    let locked = s.record_login(u.id, false, at(2), 5, lock).await.unwrap();
    assert_eq!(locked, Some(at(2) + lock));
    assert_eq!(
        s.get_credentials("lockme")
            .await
            .unwrap()
            .unwrap()
            .0
            .locked_until,
        Some(at(2) + lock)
    );
    s.record_login(u.id, true, at(3), 5, lock).await.unwrap();
    assert_eq!(s.get_user(u.id).await.unwrap().unwrap().locked_until, None);
    assert!(matches!(
        s.record_login(9_999_999, false, at(2), 5, lock).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn calendar_and_settings(s: &SqlStore) {
    use mashangban_domain::calendar::{CalendarDay, DayKind, official_days};
    assert_eq!(s.calendar().await.unwrap(), (vec![], vec![]));
    let official = official_days();
    assert_eq!(s.upsert_calendar_days(&official).await.unwrap(), 254);
    // Upserting again changes nothing.
    s.upsert_calendar_days(&official).await.unwrap();
    let (days, years) = s.calendar().await.unwrap();
    assert_eq!(days, official);
    assert_eq!(years, (2020..=2026).collect::<Vec<_>>());
    // 2027 published by an administrator, one day changed, one removed.
    let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    s.upsert_calendar_days(&[
        CalendarDay {
            date: d("2027-01-01"),
            kind: DayKind::Holiday,
            name: "元旦".into(),
        },
        CalendarDay {
            date: d("2026-10-10"),
            kind: DayKind::Holiday,
            name: "调整".into(),
        },
    ])
    .await
    .unwrap();
    assert!(s.delete_calendar_day(d("2026-10-01")).await.unwrap());
    assert!(!s.delete_calendar_day(d("2026-10-01")).await.unwrap());
    let (days, years) = s.calendar().await.unwrap();
    assert_eq!(years.last(), Some(&2027));
    assert!(
        days.iter()
            .any(|x| x.date == d("2026-10-10") && x.kind == DayKind::Holiday)
    );
    assert!(!days.iter().any(|x| x.date == d("2026-10-01")));
    s.set_calendar_year(2028, true).await.unwrap();
    s.set_calendar_year(2027, false).await.unwrap();
    assert_eq!(s.calendar().await.unwrap().1.last(), Some(&2028));
    // Settings.
    assert_eq!(s.setting("deadline_policy").await.unwrap(), None);
    s.set_setting("deadline_policy", "{\"a\":1}", at(1))
        .await
        .unwrap();
    s.set_setting("deadline_policy", "{\"a\":2}", at(2))
        .await
        .unwrap();
    assert_eq!(
        s.setting("deadline_policy").await.unwrap().as_deref(),
        Some("{\"a\":2}")
    );
}

async fn next_deadlines(s: &SqlStore) {
    let a = create(s, "甲", at(1), None).await.ticket;
    let b = create(s, "乙", at(1), None).await.ticket;
    assert!(
        s.due_tickets(at(23), 10).await.unwrap().is_empty(),
        "new tickets have none"
    );
    let disp = Actor {
        user_id: 2,
        role: Role::Dispatcher,
        unit_id: None,
    };
    for (t, next) in [(&a, at(5)), (&b, at(3))] {
        s.commit(
            vec![Change {
                before: t.clone(),
                events: vec![EventKind::NoteAdded {
                    note: "备注".into(),
                }],
                next_deadline: Some(Some(next)),
                notices: Vec::new(),
            }],
            disp,
            at(2),
        )
        .await
        .unwrap();
    }
    assert!(s.due_tickets(at(2), 10).await.unwrap().is_empty());
    assert_eq!(s.due_tickets(at(4), 10).await.unwrap(), vec![b.id]);
    assert_eq!(
        s.due_tickets(at(6), 10).await.unwrap(),
        vec![b.id, a.id],
        "earliest first"
    );
    assert_eq!(s.due_tickets(at(6), 1).await.unwrap(), vec![b.id]);
    // A change that leaves it (None) keeps it.
    let b2 = s.get_ticket(b.id).await.unwrap().unwrap();
    s.commit(
        vec![Change {
            before: b2.clone(),
            events: vec![EventKind::NoteAdded {
                note: "再备注".into(),
            }],
            next_deadline: None,
            notices: Vec::new(),
        }],
        disp,
        at(2),
    )
    .await
    .unwrap();
    assert_eq!(s.due_tickets(at(4), 10).await.unwrap(), vec![b.id]);
    // Moved only at the version read.
    assert!(
        !s.set_next_deadline(b.id, b2.version, Some(at(9)))
            .await
            .unwrap()
    );
    assert!(
        s.set_next_deadline(b.id, b2.version + 1, None)
            .await
            .unwrap()
    );
    assert_eq!(s.due_tickets(at(23), 10).await.unwrap(), vec![a.id]);
    // In batches: the stale version is reported and left alone.
    let a2 = s.get_ticket(a.id).await.unwrap().unwrap();
    let stale = s
        .set_next_deadlines(&[(a.id, a2.version, Some(at(7))), (b.id, 1, Some(at(7)))])
        .await
        .unwrap();
    assert_eq!(stale, vec![b.id]);
    assert_eq!(s.due_tickets(at(8), 10).await.unwrap(), vec![a.id]);
    // Events of several tickets, by ticket and in order.
    let events = s.ticket_events_many(&[b.id, a.id]).await.unwrap();
    let keys: Vec<(i64, i64)> = events.iter().map(|e| (e.ticket_id, e.seq)).collect();
    assert_eq!(
        keys,
        vec![(a.id, 1), (a.id, 2), (b.id, 1), (b.id, 2), (b.id, 3)]
    );
    assert!(s.ticket_events_many(&[]).await.unwrap().is_empty());
    // Every event's ticket in the order written, from a point on.
    let feed = s.events_after(0, 100).await.unwrap();
    let tickets: Vec<i64> = feed.iter().map(|(_, t)| *t).collect();
    assert_eq!(tickets, vec![a.id, b.id, a.id, b.id, b.id], "{feed:?}");
    assert!(feed.windows(2).all(|w| w[0].0 < w[1].0), "{feed:?}");
    let rest = s.events_after(feed[2].0, 2).await.unwrap();
    assert_eq!(rest, feed[3..5].to_vec());
    assert!(s.events_after(feed[4].0, 10).await.unwrap().is_empty());
    // The tickets with events of some types in a period, each once, by id.
    let mut both = vec![a.id, b.id];
    both.sort_unstable();
    assert_eq!(
        s.tickets_with_events(&["note_added", "level_replied"], at(2), at(3), 10)
            .await
            .unwrap(),
        both
    );
    assert_eq!(
        s.tickets_with_events(&["note_added"], at(2), at(3), 1)
            .await
            .unwrap(),
        both[..1].to_vec()
    );
    assert!(
        s.tickets_with_events(&["note_added"], at(3), at(9), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.tickets_with_events(&["forwarded"], at(0), at(9), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn alerts_and_supervision_on_the_board(s: &SqlStore) {
    use mashangban_domain::SupervisionLevel;
    use mashangban_domain::deadlines::ClockKind;
    let disp = Actor {
        user_id: 2,
        role: Role::Dispatcher,
        unit_id: None,
    };
    let mut tickets = Vec::new();
    for (title, unit) in [("甲", 5), ("乙", 5), ("丙", 6), ("丁", 6)] {
        let t = create(s, title, at(1), None).await.ticket;
        let done = s
            .commit(
                vec![Change {
                    before: t,
                    events: vec![EventKind::Dispatched {
                        lead_unit_id: unit,
                        co_unit_ids: vec![],
                        tier: Some(1),
                        note: None,
                    }],
                    next_deadline: Some(Some(at(3))),
                    notices: Vec::new(),
                }],
                disp,
                at(2),
            )
            .await
            .unwrap();
        tickets.push(done[0].ticket.clone());
    }
    assert!(s.watch_board().await.unwrap().is_empty(), "nothing flagged");
    let warned = EventKind::DeadlineWarned {
        clock: ClockKind::Handling,
        due_at: at(9),
    };
    let breached = EventKind::DeadlineBreached {
        clock: ClockKind::Handling,
        due_at: at(9),
    };
    let supervised = EventKind::Supervised {
        level: SupervisionLevel::L2,
        reason: "书面督办".into(),
        automatic: false,
    };
    let changes = vec![
        Change {
            before: tickets[0].clone(),
            events: vec![warned],
            next_deadline: Some(Some(at(9))),
            notices: Vec::new(),
        },
        Change {
            before: tickets[1].clone(),
            events: vec![breached.clone(), supervised.clone()],
            next_deadline: Some(None),
            notices: Vec::new(),
        },
        Change {
            before: tickets[2].clone(),
            events: vec![breached],
            next_deadline: None,
            notices: Vec::new(),
        },
    ];
    let done = s.commit(changes, disp, at(4)).await.unwrap();
    let mut board = s.watch_board().await.unwrap();
    board.sort_by_key(|b| (b.lead_unit_id, b.alert_level));
    let rows: Vec<_> = board
        .iter()
        .map(|b| {
            (
                b.lead_unit_id,
                b.alert_level,
                b.supervision_level,
                b.awaiting_answer,
                b.count,
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (Some(5), 1, 0, false, 1),
            (Some(5), 2, 2, true, 1),
            (Some(6), 2, 0, false, 1)
        ]
    );
    // The watch row follows the ticket: next deadlines as set or kept.
    let due = s.due_tickets(at(23), 10).await.unwrap();
    assert_eq!(due.len(), 3);
    assert_eq!(due[2], tickets[0].id, "moved to at(9), last");
    assert!(due.contains(&tickets[2].id) && due.contains(&tickets[3].id));
    let list = |f: TicketFilter| async move {
        let mut ids: Vec<i64> = s
            .list_tickets(&TicketFilter { limit: 50, ..f })
            .await
            .unwrap()
            .iter()
            .map(|t| t.id)
            .collect();
        ids.sort();
        ids
    };
    let id = |i: usize| tickets[i].id;
    assert_eq!(
        list(TicketFilter {
            alert_at_least: Some(1),
            ..Default::default()
        })
        .await,
        vec![id(0), id(1), id(2)]
    );
    assert_eq!(
        list(TicketFilter {
            alert_at_least: Some(2),
            unit_id: Some(6),
            ..Default::default()
        })
        .await,
        vec![id(2)]
    );
    assert_eq!(
        list(TicketFilter {
            supervision_at_least: Some(1),
            awaiting_answer: Some(true),
            ..Default::default()
        })
        .await,
        vec![id(1)]
    );
    // Answered, then closed: off the board.
    let answered = s
        .commit(
            vec![Change {
                before: done[1].ticket.clone(),
                events: vec![EventKind::SupervisionAnswered {
                    level: SupervisionLevel::L2,
                    answer: "已整改".into(),
                }],
                next_deadline: None,
                notices: Vec::new(),
            }],
            disp,
            at(5),
        )
        .await
        .unwrap();
    assert!(
        list(TicketFilter {
            awaiting_answer: Some(true),
            ..Default::default()
        })
        .await
        .is_empty()
    );
    s.commit(
        vec![Change {
            before: answered[0].ticket.clone(),
            events: vec![EventKind::Closed {
                outcome: mashangban_domain::CloseOutcome::Manual,
                note: None,
            }],
            next_deadline: Some(None),
            notices: Vec::new(),
        }],
        disp,
        at(6),
    )
    .await
    .unwrap();
    let board = s.watch_board().await.unwrap();
    assert!(board.iter().all(|b| b.supervision_level == 0), "{board:?}");
    assert_eq!(board.iter().map(|b| b.count).sum::<i64>(), 2);
}

async fn catalogue_is_versioned_and_all_or_nothing(s: &SqlStore) {
    use mashangban_domain::catalogue::{CatalogueEntry, Ownership};
    let dept = s
        .insert_unit(&NewUnit {
            code: "CITY-CG".into(),
            name: "市城市管理局".into(),
            kind: UnitKind::CityDepartment,
            parent_id: None,
            division_code: None,
        })
        .await
        .unwrap();
    s.upsert_categories(&[Category {
        code: "05".into(),
        name: "市容环境".into(),
        parent_code: None,
        level: 1,
        default_tier: Some(3),
        active: true,
        description: String::new(),
        keywords: Vec::new(),
    }])
    .await
    .unwrap();
    let entry = CatalogueEntry {
        id: 0,
        category_code: "05".into(),
        division_code: None,
        unit_id: dept.id,
        ownership: Ownership::Functional,
        tier: Some(3),
        valid_from: "2026-01-01".parse().unwrap(),
        valid_to: None,
        note: "全市".into(),
        version: 0,
    };
    let saved = s
        .write_catalogue(vec![CatalogueWrite::Save(entry.clone())], 7, at(1))
        .await
        .unwrap();
    assert_eq!(saved.len(), 1);
    let first = saved[0].clone();
    assert!(first.id > 0);
    assert_eq!(first.version, 1);
    assert_eq!(s.catalogue().await.unwrap(), vec![first.clone()]);

    // An edit of the stored version moves it on; a stale one is refused.
    let mut edit = first.clone();
    edit.valid_to = Some("2026-12-31".parse().unwrap());
    let edited = s
        .write_catalogue(vec![CatalogueWrite::Save(edit.clone())], 7, at(2))
        .await
        .unwrap();
    assert_eq!(edited[0].version, 2);
    let stale = s
        .write_catalogue(vec![CatalogueWrite::Save(edit)], 7, at(3))
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict)), "{stale:?}");

    // A write checked against the catalogue at a stamp is refused once the catalogue has
    // changed since, and nothing of it is written; at the current stamp it lands.
    let (stamp, read) = s.catalogue_seen().await.unwrap();
    assert!(stamp > 0);
    assert_eq!(read.len(), 1);
    let mut other = entry.clone();
    other.valid_from = "2027-01-01".parse().unwrap();
    let late = s
        .write_catalogue_seen(
            vec![CatalogueWrite::Save(other.clone())],
            7,
            at(3),
            Some(stamp - 1),
        )
        .await;
    assert!(matches!(late, Err(StoreError::Conflict)), "{late:?}");
    assert_eq!(s.catalogue_seen().await.unwrap(), (stamp, read));
    let landed = s
        .write_catalogue_seen(vec![CatalogueWrite::Save(other)], 7, at(3), Some(stamp))
        .await
        .unwrap();
    assert!(s.catalogue_seen().await.unwrap().0 > stamp);
    s.write_catalogue(
        vec![CatalogueWrite::Delete {
            id: landed[0].id,
            version: 1,
        }],
        7,
        at(3),
    )
    .await
    .unwrap();

    // All or nothing: a good write with a bad one leaves the catalogue as it was.
    let mut bad = entry.clone();
    bad.category_code = "99".into();
    let r = s
        .write_catalogue(
            vec![
                CatalogueWrite::Save(entry.clone()),
                CatalogueWrite::Save(bad),
            ],
            7,
            at(4),
        )
        .await;
    assert!(r.is_err());
    assert_eq!(s.catalogue().await.unwrap().len(), 1);
    let missing = s
        .write_catalogue(
            vec![CatalogueWrite::Delete {
                id: 999_999,
                version: 1,
            }],
            7,
            at(4),
        )
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { .. })),
        "{missing:?}"
    );

    // Deleting records the last version; the history tells every change, newest first.
    s.write_catalogue(
        vec![CatalogueWrite::Delete {
            id: first.id,
            version: 2,
        }],
        8,
        at(5),
    )
    .await
    .unwrap();
    assert!(s.catalogue().await.unwrap().is_empty());
    let history = s.catalogue_history(Some(first.id), 10).await.unwrap();
    let actions: Vec<&str> = history.iter().map(|c| c.action.as_str()).collect();
    assert_eq!(actions, vec!["deleted", "updated", "created"]);
    assert_eq!(history[0].user_id, 8);
    assert_eq!(history[0].before.as_ref().unwrap().version, 2);
    assert!(history[0].after.is_none());
    assert_eq!(history[1].before.as_ref().unwrap().valid_to, None);
    assert_eq!(
        history[1].after.as_ref().unwrap().valid_to,
        Some("2026-12-31".parse().unwrap())
    );
    assert_eq!(history[2].at, at(1));
    assert_eq!(s.catalogue_history(None, 2).await.unwrap().len(), 2);
}

async fn gazetteer_names_map_to_divisions(s: &SqlStore) {
    s.upsert_divisions(&[Division {
        code: "630102".into(),
        name: "城东区".into(),
        level: DivisionLevel::District,
        parent_code: None,
        population: None,
    }])
    .await
    .unwrap();
    let row = |name: &str, kind: &str, code: &str| GazetteerRow {
        id: 0,
        name: name.into(),
        kind: kind.into(),
        division_code: code.into(),
    };
    s.upsert_gazetteer(&[
        row("青发小区", "compound", "630102"),
        row("八一中路", "road", "630102"),
    ])
    .await
    .unwrap();
    // The same name again changes it; an unknown division refuses the whole write.
    s.upsert_gazetteer(&[row("青发小区", "landmark", "630102")])
        .await
        .unwrap();
    assert!(
        s.upsert_gazetteer(&[row("新名字", "road", "630102"), row("坏的", "road", "999")])
            .await
            .is_err()
    );
    let all = s.gazetteer().await.unwrap();
    let names: Vec<(&str, &str)> = all
        .iter()
        .map(|g| (g.name.as_str(), g.kind.as_str()))
        .collect();
    assert_eq!(names, vec![("八一中路", "road"), ("青发小区", "landmark")]);
    assert!(s.delete_gazetteer(all[0].id).await.unwrap());
    assert!(!s.delete_gazetteer(all[0].id).await.unwrap());
    assert_eq!(s.gazetteer().await.unwrap().len(), 1);
}

async fn knowledge_is_versioned_and_all_or_nothing(s: &SqlStore) {
    use mashangban_domain::knowledge::Article;
    assert_eq!(s.knowledge_stamp().await.unwrap(), 0);
    let article = Article {
        id: 0,
        question: "茶叶渣是什么垃圾？".into(),
        answer: "厨余垃圾（演示）。".into(),
        category_code: None,
        source: "演示内容".into(),
        keywords: vec!["茶渣".into()],
        owner_unit_id: None,
        valid_from: Some("2026-01-01".parse().unwrap()),
        valid_to: None,
        demo: true,
        version: 0,
    };
    let saved = s
        .write_knowledge(
            vec![
                KnowledgeWrite::Save(article.clone()),
                KnowledgeWrite::Save(Article {
                    question: "大骨头是什么垃圾？".into(),
                    ..article.clone()
                }),
            ],
            7,
            at(1),
        )
        .await
        .unwrap();
    assert_eq!(saved.len(), 2);
    let first = saved[0].clone();
    assert!(first.id > 0 && saved[1].id > first.id);
    assert_eq!(first.version, 1);
    assert_eq!(s.knowledge().await.unwrap(), saved);
    let stamp = s.knowledge_stamp().await.unwrap();
    assert!(stamp > 0);

    // An edit of the stored version moves it on; a stale one is refused and changes nothing.
    let edit = Article {
        answer: "厨余垃圾，放入绿色桶（演示）。".into(),
        ..first.clone()
    };
    let edited = s
        .write_knowledge(vec![KnowledgeWrite::Save(edit.clone())], 7, at(2))
        .await
        .unwrap();
    assert_eq!(edited[0].version, 2);
    assert!(s.knowledge_stamp().await.unwrap() > stamp);
    let stale = s
        .write_knowledge(vec![KnowledgeWrite::Save(edit)], 7, at(3))
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict)), "{stale:?}");

    // All or nothing: a new article and an unknown deletion leave the base as it was.
    let r = s
        .write_knowledge(
            vec![
                KnowledgeWrite::Save(article.clone()),
                KnowledgeWrite::Delete {
                    id: 999_999,
                    version: 1,
                },
            ],
            7,
            at(4),
        )
        .await;
    assert!(matches!(r, Err(StoreError::NotFound { .. })), "{r:?}");
    assert_eq!(s.knowledge().await.unwrap().len(), 2);

    s.write_knowledge(
        vec![KnowledgeWrite::Delete {
            id: first.id,
            version: 2,
        }],
        8,
        at(5),
    )
    .await
    .unwrap();
    let left = s.knowledge().await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].question, "大骨头是什么垃圾？");
    let history = s.knowledge_history(Some(first.id), 10).await.unwrap();
    let actions: Vec<&str> = history.iter().map(|c| c.action.as_str()).collect();
    assert_eq!(actions, vec!["deleted", "updated", "created"]);
    assert_eq!(history[0].user_id, 8);
    assert!(history[0].after.is_none());
    assert_eq!(history[0].before.as_ref().unwrap().version, 2);
    assert_eq!(
        history[1].before.as_ref().unwrap().answer,
        "厨余垃圾（演示）。"
    );
    assert_eq!(history[2].at, at(1));
    assert_eq!(s.knowledge_history(None, 3).await.unwrap().len(), 3);
}

/// SQLite only: what the writer commits reaches the database file by the background
/// checkpointer once the writer is quiet (the writer itself no longer copies the log
/// inside a commit), and reads see it meanwhile from the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_log_is_checkpointed_in_the_background() {
    let url = testing::sqlite_url();
    let path = std::path::PathBuf::from(url.trim_start_matches("sqlite://"));
    let s = SqlStore::connect(&url).await.unwrap();
    s.migrate().await.unwrap();
    let size = || std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let settled = |before: u64| async move {
        for _ in 0..100 {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            if size() > before {
                return true;
            }
        }
        false
    };
    // The migrations themselves land in the file once the writer is quiet.
    assert!(settled(0).await, "migrations never checkpointed");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let before = size();
    for i in 0..300 {
        create(
            &s,
            &format!("第 {i} 件：很长的诉求内容，{}", "路灯不亮".repeat(50)),
            at(9),
            None,
        )
        .await;
    }
    assert_eq!(s.count_tickets().await.unwrap(), 300);
    assert!(
        settled(before).await,
        "the writes never reached the database file"
    );
}

/// Every grouping's sums per day, and the finest rows: what must not change on a rebuild.
async fn aggregate_snapshot(s: &SqlStore) -> Vec<(String, Vec<GroupTally>)> {
    use mashangban_domain::aggregates::Dim;
    let (from, to) = (
        chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
        chrono::NaiveDate::from_ymd_opt(2100, 1, 1).unwrap(),
    );
    let mut out = Vec::new();
    for dim in Dim::ALL {
        out.push((
            dim.as_str().to_string(),
            s.kpi_tallies(dim, from, to, true).await.unwrap(),
        ));
        // The whole months between, from the month rows (where the grouping keeps them).
        out.push((
            format!("{} (whole)", dim.as_str()),
            s.kpi_tallies(dim, from, to, false).await.unwrap(),
        ));
    }
    // The daily report's issue roll-ups of the days the test writes on.
    for day in 27..=30 {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, day).unwrap();
        let groups = s.kpi_issue_groups(day).await.unwrap();
        let names: Vec<String> = groups.iter().map(|g| g.group.clone()).collect();
        let counts = s.kpi_issue_counts(day, &names, 1).await.unwrap();
        out.push((format!("issues {day} {counts:?}"), groups));
    }
    let fine = s.kpi_facts(from, to).await.unwrap();
    out.push((
        "fine".into(),
        fine.into_iter()
            .map(|(k, t)| GroupTally {
                day: Some(k.day),
                group: format!("{k:?}"),
                tally: t,
            })
            .collect(),
    ));
    out
}

/// The evaluation facts go as deltas, folded by background folds, explicit folds and
/// every read, all at once with the writes: each read sees whole transactions (the count of
/// requests never goes back, never passes what was written), and at the end the
/// aggregates are exactly what a rebuild from the events makes.
async fn deltas_fold_concurrently_with_writes_and_reads(s: &SqlStore) {
    use mashangban_domain::aggregates::Dim;
    use sqlx::Row;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
    let (writers, each) = (6u64, 25u64);
    let created = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let city_requests = move |s: SqlStore| async move {
        s.kpi_tallies(Dim::City, day, day, false)
            .await
            .unwrap()
            .first()
            .map_or(0, |g| g.tally.requests)
    };
    let mut readers = Vec::new();
    for _ in 0..2 {
        let (s, created, done) = (s.clone(), created.clone(), done.clone());
        readers.push(tokio::spawn(async move {
            let (mut last, mut reads) = (0u64, 0u32);
            while !done.load(Ordering::SeqCst) || reads < 3 {
                let seen = city_requests(s.clone()).await;
                assert!(seen >= last, "a read went back from {last} to {seen}");
                assert!(seen <= created.load(Ordering::SeqCst) + writers);
                last = seen;
                reads += 1;
            }
            reads
        }));
    }
    let folder = {
        let (s, done) = (s.clone(), done.clone());
        tokio::spawn(async move {
            let mut folded = 0;
            while !done.load(Ordering::SeqCst) {
                folded += s.fold_deltas().await.unwrap();
                tokio::task::yield_now().await;
            }
            folded
        })
    };
    let disp = Actor {
        user_id: 2,
        role: Role::Dispatcher,
        unit_id: None,
    };
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (s, created) = (s.clone(), created.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..each {
                let t = create(&s, &format!("并发 {w}-{i}"), at(2), None)
                    .await
                    .ticket;
                created.fetch_add(1, Ordering::SeqCst);
                if i % 2 == 0 {
                    s.commit(
                        vec![Change::new(
                            t,
                            vec![EventKind::Dispatched {
                                lead_unit_id: 5 + (i as i64 % 3),
                                co_unit_ids: vec![],
                                tier: Some(3),
                                note: None,
                            }],
                            None,
                        )],
                        disp,
                        at(3),
                    )
                    .await
                    .unwrap();
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    done.store(true, Ordering::SeqCst);
    for r in readers {
        assert!(r.await.unwrap() >= 3);
    }
    folder.await.unwrap();
    let total = writers * each;
    assert_eq!(city_requests(s.clone()).await, total);
    let city = s.kpi_tallies(Dim::City, day, day, false).await.unwrap();
    assert_eq!(city[0].tally.dispatches, writers * each.div_ceil(2));
    // Every read folded first: nothing is left, and the sums are the events'.
    let left: i64 = sqlx::query("SELECT COUNT(*) AS n FROM kpi_deltas")
        .fetch_one(s.pool())
        .await
        .unwrap()
        .get("n");
    assert_eq!(left, 0);
    let folded = aggregate_snapshot(s).await;
    s.rebuild_aggregates().await.unwrap();
    assert_eq!(aggregate_snapshot(s).await, folded);
}

async fn aggregates_follow_the_events_and_rebuild_the_same(s: &SqlStore) {
    use mashangban_domain::aggregates::Dim;
    use mashangban_domain::lifecycle::CloseOutcome;
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
    let t1 = create(s, "路灯不亮", at(1), None).await.ticket;
    let t2 = create(s, "占道经营", at(1), None).await.ticket;
    let t3 = create(s, "咨询社保", at(1), None).await.ticket;
    let disp = Actor {
        user_id: 2,
        role: Role::Dispatcher,
        unit_id: None,
    };
    let dispatched = |unit: i64| EventKind::Dispatched {
        lead_unit_id: unit,
        co_unit_ids: vec![],
        tier: Some(3),
        note: None,
    };
    let done = s
        .commit(
            vec![
                Change::new(
                    t1.clone(),
                    vec![
                        dispatched(5),
                        EventKind::Signed { note: None },
                        EventKind::Replied {
                            content: "已修复".into(),
                        },
                        EventKind::ReplyApproved {
                            note: None,
                            findings: None,
                        },
                        EventKind::CallbackRecorded {
                            contacted: Some(true),
                            resolution: Some(Resolution::Resolved),
                            satisfaction: Satisfaction::Basically,
                            note: None,
                            source: mashangban_domain::RatingSource::Agent,
                        },
                        EventKind::Closed {
                            outcome: CloseOutcome::Callback,
                            note: None,
                        },
                    ],
                    None,
                ),
                Change::new(
                    t2.clone(),
                    vec![
                        dispatched(5),
                        EventKind::ReturnRequested {
                            reason: "非本单位".into(),
                        },
                        EventKind::ReturnApproved { note: None },
                        dispatched(6),
                    ],
                    None,
                ),
                Change::new(
                    t3.clone(),
                    vec![EventKind::ResolvedDirectly {
                        answer: "已解答".into(),
                    }],
                    None,
                ),
            ],
            disp,
            at(3),
        )
        .await
        .unwrap();
    let city = s.kpi_tallies(Dim::City, day, day, false).await.unwrap();
    assert_eq!(city.len(), 1);
    let c = city[0].tally;
    assert_eq!(
        (
            c.requests,
            c.dispatches,
            c.returns,
            c.callbacks,
            c.finished,
            c.direct
        ),
        (3, 3, 1, 1, 2, 1)
    );
    assert_eq!((c.contacted, c.resolved, c.basically_satisfied), (1, 1, 1));
    assert_eq!(
        c.handling_seconds,
        2 * 3_600 * 2,
        "both ended two hours after receipt"
    );
    let units = s.kpi_tallies(Dim::Unit, day, day, false).await.unwrap();
    let unit = |id: &str| units.iter().find(|g| g.group == id).unwrap().tally;
    assert_eq!(units.len(), 2);
    assert_eq!(
        (
            unit("5").dispatches,
            unit("5").returns,
            unit("5").callbacks,
            unit("5").finished
        ),
        (2, 1, 1, 1)
    );
    assert_eq!(unit("5").finished_on_time, 1);
    assert_eq!((unit("6").dispatches, unit("6").returns), (1, 0));
    let streets = s.kpi_tallies(Dim::Street, day, day, false).await.unwrap();
    assert_eq!(streets.len(), 1);
    assert_eq!(streets[0].group, "630102001");
    assert_eq!(streets[0].tally.requests, 3);
    // Nothing on other days.
    let next = day.succ_opt().unwrap();
    assert!(
        s.kpi_tallies(Dim::City, next, next, false)
            .await
            .unwrap()
            .is_empty()
    );

    // A refused commit changes no figure.
    let before = aggregate_snapshot(s).await;
    let stale = s
        .commit(
            vec![
                Change::new(
                    s.get_ticket(t2.id).await.unwrap().unwrap(),
                    vec![EventKind::NotAccepted {
                        reason: "x".into(),
                        redirect_to: None,
                    }],
                    None,
                ),
                Change::new(t3.clone(), vec![EventKind::Reopened { reason: None }], None),
            ],
            disp,
            at(4),
        )
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict)));
    assert_eq!(aggregate_snapshot(s).await, before);

    // Rebuilding from the events gives the same figures, row for row.
    let report = s.rebuild_aggregates().await.unwrap();
    assert_eq!(
        (report.tickets, report.events),
        (3, (1 + 6) + (1 + 4) + (1 + 1))
    );
    assert!(report.rows > 0);
    assert_eq!(aggregate_snapshot(s).await, before);

    // Reopening a closed request takes its end back; a rebuild agrees.
    let closed = done[0].ticket.clone();
    s.commit(
        vec![Change::new(
            closed,
            vec![EventKind::Reopened { reason: None }],
            None,
        )],
        disp,
        Utc.with_ymd_and_hms(2026, 11, 30, 2, 0, 0).unwrap(),
    )
    .await
    .unwrap();
    let c = s.kpi_tallies(Dim::City, day, day, false).await.unwrap()[0].tally;
    assert_eq!((c.finished, c.direct), (1, 1));
    assert_eq!(c.handling_seconds, 2 * 3_600);
    let after_reopen = aggregate_snapshot(s).await;
    s.rebuild_aggregates().await.unwrap();
    assert_eq!(aggregate_snapshot(s).await, after_reopen);

    // Whole months are read from the month rows: the same sums as the days they hold.
    let d = |m: u32, day: u32| chrono::NaiveDate::from_ymd_opt(2026, m, day).unwrap();
    for dim in [
        Dim::City,
        Dim::Unit,
        Dim::Channel,
        Dim::Category,
        Dim::Street,
    ] {
        for (from, to) in [
            (d(11, 1), d(11, 30)),
            (d(10, 15), d(12, 31)),
            (d(11, 1), d(11, 29)),
            (d(11, 29), d(12, 31)),
        ] {
            let whole = s.kpi_tallies(dim, from, to, false).await.unwrap();
            let mut summed: std::collections::BTreeMap<
                String,
                [u64; mashangban_domain::kpi::Tally::LEN],
            > = Default::default();
            for g in s.kpi_tallies(dim, from, to, true).await.unwrap() {
                let into = summed.entry(g.group).or_default();
                for (a, b) in into.iter_mut().zip(g.tally.values()) {
                    *a += b;
                }
            }
            let whole: std::collections::BTreeMap<
                String,
                [u64; mashangban_domain::kpi::Tally::LEN],
            > = whole
                .into_iter()
                .map(|g| (g.group, g.tally.values()))
                .collect();
            assert_eq!(whole, summed, "{dim:?} {from}..{to}");
            assert!(!whole.is_empty() || from > day, "{dim:?} {from}..{to}");
        }
    }
    let nov = s
        .kpi_tallies(Dim::City, d(11, 1), d(11, 30), false)
        .await
        .unwrap();
    assert_eq!(nov[0].tally.requests, 3);

    // The day's issue groups hold its requests.
    let issues = s.kpi_issue_groups(day).await.unwrap();
    assert_eq!(issues.iter().map(|g| g.tally.requests).sum::<u64>(), 3);
    let c = s
        .kpi_issue_counts(day, &["0101".to_string()], 3)
        .await
        .unwrap();
    assert_eq!(c.len(), 1);
    assert_eq!((c[0].requests, c[0].direct), (3, 1));
    assert_eq!(
        c[0].places,
        [("630102001".to_string(), 3)].into_iter().collect()
    );
    assert_eq!(c[0].units, [(5, 2), (6, 1)].into_iter().collect());
    assert!(
        s.kpi_issue_counts(day, &["0101".to_string()], 4)
            .await
            .unwrap()[0]
            .places
            .is_empty(),
        "no place reaches the minimum"
    );

    // A database from before the month and issue roll-ups gets the same ones on migration
    // (filled by migration 15, then rebuilt after migration 17).
    let full = aggregate_snapshot(s).await;
    for sql in [
        "DELETE FROM kpi_rollup WHERE dim LIKE 'month:%' OR dim LIKE 'issue%'",
        "DELETE FROM schema_migrations WHERE version IN (15, 17)",
    ] {
        sqlx::query(sql).execute(s.pool()).await.unwrap();
    }
    assert_ne!(aggregate_snapshot(s).await, full);
    s.migrate().await.unwrap();
    assert_eq!(aggregate_snapshot(s).await, full);
    // A server stopped after a migration that asks for a rebuild, before the rebuild
    // committed, rebuilds at its next start: the mark was written with the migration.
    for sql in [
        "DELETE FROM kpi_rollup",
        "INSERT INTO settings (name, value, updated_at) VALUES ('aggregates_rebuild_pending', '1', 0)",
    ] {
        sqlx::query(sql).execute(s.pool()).await.unwrap();
    }
    assert_ne!(aggregate_snapshot(s).await, full);
    s.migrate().await.unwrap();
    assert_eq!(aggregate_snapshot(s).await, full);
    use sqlx::Row;
    let left: i64 =
        sqlx::query("SELECT COUNT(*) AS n FROM settings WHERE name = 'aggregates_rebuild_pending'")
            .fetch_one(s.pool())
            .await
            .unwrap()
            .try_get::<i64, _>("n")
            .unwrap();
    assert_eq!(left, 0, "done once");
}

async fn warnings_are_raised_once_and_again_when_worse(s: &SqlStore) {
    use mashangban_domain::warning::{Finding, WarningKind, WarningLevel, WarningStatus};
    let t1 = create(s, "路灯不亮", at(1), None).await.ticket;
    let t2 = create(s, "路灯又不亮", at(2), None).await.ticket;
    let notice = |text: &str| NewNotice {
        event_seq: 0,
        channel: mashangban_store::channel::CONSOLE.into(),
        recipient: "role:supervisor".into(),
        payload: json!({"text": text, "link": "/warnings"}).to_string(),
        not_before: at(3),
    };
    let finding = |level: WarningLevel, n: u64, ticket: Option<i64>| Finding {
        kind: WarningKind::Surge,
        key: "0101|630102|2026-11-28".into(),
        level,
        title: format!("市政设施 {n} 件"),
        detail: json!({"observed": n}),
        ticket_id: ticket,
    };
    let consoles = |s: &SqlStore| {
        let s = s.clone();
        async move {
            s.console_notices(&["role:supervisor".to_string()], None, 100)
                .await
                .unwrap()
                .len()
        }
    };
    let before = consoles(s).await;
    // New: recorded open and told.
    let r = s
        .record_warning(
            finding(WarningLevel::Yellow, 12, Some(t1.id)),
            vec![notice("预警一")],
            at(3),
        )
        .await
        .unwrap();
    assert!(r.told);
    let w = r.warning;
    assert_eq!(
        (w.level, w.status),
        (WarningLevel::Yellow, WarningStatus::Open)
    );
    assert_eq!(w.detail["observed"], 12);
    assert_eq!((w.first_at, w.last_at), (at(3), at(3)));
    assert_eq!(consoles(s).await, before + 1);
    // Acknowledged; found again at the same level: kept current, not told, still acknowledged.
    let h = s
        .handle_warning(
            w.id,
            WarningStatus::Acknowledged,
            7,
            Some("已联系".into()),
            at(4),
        )
        .await
        .unwrap();
    assert_eq!(
        (h.status, h.handled_by, h.handled_at),
        (WarningStatus::Acknowledged, Some(7), Some(at(4)))
    );
    let r = s
        .record_warning(
            finding(WarningLevel::Yellow, 14, Some(t2.id)),
            vec![notice("预警二")],
            at(5),
        )
        .await
        .unwrap();
    assert!(!r.told);
    assert_eq!(r.warning.id, w.id);
    assert_eq!(r.warning.status, WarningStatus::Acknowledged);
    assert_eq!(r.warning.detail["observed"], 14);
    assert_eq!(r.warning.ticket_id, Some(t2.id));
    assert_eq!((r.warning.first_at, r.warning.last_at), (at(3), at(5)));
    assert_eq!(consoles(s).await, before + 1);
    // Milder: the level stays the worst reached.
    let r = s
        .record_warning(finding(WarningLevel::Yellow, 9, Some(t2.id)), vec![], at(6))
        .await
        .unwrap();
    assert_eq!(r.warning.level, WarningLevel::Yellow);
    // Worse: open again and told.
    let r = s
        .record_warning(
            finding(WarningLevel::Red, 60, Some(t2.id)),
            vec![notice("预警三")],
            at(7),
        )
        .await
        .unwrap();
    assert!(r.told);
    assert_eq!(
        (r.warning.level, r.warning.status),
        (WarningLevel::Red, WarningStatus::Open)
    );
    assert_eq!((r.warning.handled_by, r.warning.note.clone()), (None, None));
    assert_eq!(consoles(s).await, before + 2);
    // Another situation; lists by status, newest first.
    let other = Finding {
        kind: WarningKind::RepeatCaller,
        key: "caller-1".into(),
        level: WarningLevel::Yellow,
        title: "重复来电".into(),
        detail: json!({}),
        ticket_id: None,
    };
    assert!(
        s.record_warning(other, vec![notice("无工单")], at(8))
            .await
            .unwrap()
            .told
    );
    assert_eq!(
        consoles(s).await,
        before + 3,
        "a warning about no ticket is told too"
    );
    let all = s.list_warnings(None, None, 10).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].kind, WarningKind::RepeatCaller);
    s.handle_warning(all[0].id, WarningStatus::Dismissed, 7, None, at(9))
        .await
        .unwrap();
    let open = s
        .list_warnings(Some(WarningStatus::Open), None, 10)
        .await
        .unwrap();
    assert_eq!(open.iter().map(|w| w.id).collect::<Vec<_>>(), vec![w.id]);
    assert!(
        s.list_warnings(None, Some(at(10)), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.get_warning(w.id).await.unwrap().unwrap().level,
        WarningLevel::Red
    );
    assert!(s.get_warning(999_999).await.unwrap().is_none());
    assert!(matches!(
        s.handle_warning(999_999, WarningStatus::Open, 7, None, at(9))
            .await,
        Err(StoreError::NotFound { .. })
    ));

    // Repeat callers: the test's tickets share one number.
    let callers = s.repeat_callers(at(0), 2, 10).await.unwrap();
    assert_eq!(callers, vec![("13812345678".to_string(), 2)]);
    assert!(s.repeat_callers(at(0), 3, 10).await.unwrap().is_empty());
    assert!(
        s.repeat_callers(at(2) + Duration::seconds(1), 2, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // The issue roll-ups by day: both requests under 0101, in district 630102.
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
    let area = s.kpi_issue_rollup("issue_area", day, day).await.unwrap();
    assert_eq!(area.len(), 1);
    assert_eq!(
        (area[0].group.as_str(), area[0].tally.requests),
        ("0101|630102", 2)
    );
    assert!(s.kpi_issue_rollup("nonsense", day, day).await.is_err());
    // Console notices are read one by one, or all at once up to a mark.
    let aud = vec!["role:supervisor".to_string()];
    let notes = s.console_notices(&aud, None, 100).await.unwrap();
    assert!(notes.len() >= 2, "{}", notes.len());
    let user = 4242;
    let unread = s.unread_notices(user, &aud).await.unwrap();
    assert_eq!(unread as usize, notes.len());
    s.mark_notice_read(user, notes[1].id, at(4)).await.unwrap();
    s.mark_notice_read(user, notes[1].id, at(5)).await.unwrap();
    assert_eq!(s.unread_notices(user, &aud).await.unwrap(), unread - 1);
    let ids: Vec<i64> = notes.iter().map(|n| n.id).collect();
    assert_eq!(
        s.read_notice_ids(user, &ids).await.unwrap(),
        vec![notes[1].id]
    );
    s.mark_notices_read(user, notes[0].id).await.unwrap();
    assert_eq!(s.unread_notices(user, &aud).await.unwrap(), 0);
    assert_eq!(s.read_notice_ids(user, &ids).await.unwrap(), ids);
}

async fn saved_filters_are_each_users_own(s: &SqlStore) {
    let mut users = Vec::new();
    for name in ["filter-a", "filter-b"] {
        let u = s
            .insert_user(
                &NewUser {
                    username: name.into(),
                    display_name: name.into(),
                    role: Role::Dispatcher,
                    unit_id: None,
                    password_hash: None,
                },
                at(1),
            )
            .await
            .unwrap();
        users.push(u.id);
    }
    let (a, b) = (users[0], users[1]);
    let first = s
        .save_filter(a, "城东区待派", "state=received&division=630102", at(2))
        .await
        .unwrap();
    assert_eq!(first.name, "城东区待派");
    assert_eq!(first.query, "state=received&division=630102");
    assert_eq!(first.saved_at, at(2));
    s.save_filter(a, "超期", "alert=overdue", at(3))
        .await
        .unwrap();
    // The same name again replaces its query and keeps its id.
    let again = s
        .save_filter(a, "城东区待派", "state=received&division=630102001", at(4))
        .await
        .unwrap();
    assert_eq!(again.id, first.id);
    let mine = s.saved_filters(a).await.unwrap();
    let names: Vec<&str> = mine.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"超期") && names.contains(&"城东区待派"));
    assert_eq!(
        mine.iter().find(|f| f.id == first.id).unwrap().query,
        "state=received&division=630102001"
    );
    // Another user sees none of them, and may not delete them.
    assert!(s.saved_filters(b).await.unwrap().is_empty());
    assert!(!s.delete_saved_filter(b, first.id).await.unwrap());
    assert!(s.delete_saved_filter(a, first.id).await.unwrap());
    assert!(!s.delete_saved_filter(a, first.id).await.unwrap());
    assert_eq!(s.saved_filters(a).await.unwrap().len(), 1);
}

async fn oldest_first_pages_forward(s: &SqlStore) {
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            create(s, &format!("先来后到{i}"), at(i), None)
                .await
                .ticket
                .id,
        );
    }
    // A ticket is found by its number too.
    let third = s.get_ticket(ids[2]).await.unwrap().unwrap();
    let found = s.ticket_by_number(&third.number).await.unwrap().unwrap();
    assert_eq!(found.id, ids[2]);
    assert!(
        s.ticket_by_number("XN19990101000001")
            .await
            .unwrap()
            .is_none()
    );
    let page = |before_id: Option<i64>, oldest_first: bool| TicketFilter {
        channel: Some(Channel::PHONE),
        before_id,
        oldest_first,
        limit: 2,
        ..Default::default()
    };
    let got = |v: Vec<Ticket>| {
        v.iter()
            .map(|t| t.id)
            .filter(|id| ids.contains(id))
            .collect::<Vec<_>>()
    };
    // Oldest first, two by two, from where the last page ended.
    let first = got(s.list_tickets(&page(Some(ids[0] - 1), true)).await.unwrap());
    assert_eq!(first, vec![ids[0], ids[1]]);
    let second = got(s.list_tickets(&page(Some(ids[1]), true)).await.unwrap());
    assert_eq!(second, vec![ids[2], ids[3]]);
    // Newest first is the default and pages backwards.
    let newest = got(s
        .list_tickets(&page(Some(ids[4] + 1), false))
        .await
        .unwrap());
    assert_eq!(newest, vec![ids[4], ids[3]]);
}

async fn attempts_are_counted_per_key_and_forgotten(s: &SqlStore) {
    for h in [1, 2, 3] {
        s.record_attempt("track:XN1", at(h), at(0)).await.unwrap();
    }
    s.record_attempt("track:XN2", at(3), at(0)).await.unwrap();
    assert_eq!(s.count_attempts("track:XN1", at(0)).await.unwrap(), 3);
    assert_eq!(s.count_attempts("track:XN1", at(2)).await.unwrap(), 2);
    assert_eq!(s.count_attempts("track:XN2", at(0)).await.unwrap(), 1);
    assert_eq!(s.count_attempts("track:XN3", at(0)).await.unwrap(), 0);
    // A new attempt forgets every key's attempts older than the longest window.
    s.record_attempt("other", at(5), at(3)).await.unwrap();
    assert_eq!(s.count_attempts("track:XN1", at(0)).await.unwrap(), 1);
    assert_eq!(s.count_attempts("track:XN2", at(0)).await.unwrap(), 1);
}

async fn channels_and_lines_are_kept(s: &SqlStore) {
    use mashangban_domain::channel::{ChannelDef, HotlineLine};
    // Written with their migration, in the shipped order; migrating again adds nothing.
    s.migrate().await.unwrap();
    let all = s.channels().await.unwrap();
    assert_eq!(all.len(), 16);
    assert_eq!(
        (
            all[0].code.as_str(),
            all[0].name.as_str(),
            all[0].kind,
            all[0].built_in
        ),
        ("phone", "12345热线", ChannelKind::Phone, true)
    );
    assert_eq!(
        (all[12].code.as_str(), all[12].kind, all[12].built_in),
        ("police_110", ChannelKind::Exchange, false)
    );
    let douyin = ChannelDef {
        code: Channel::new("douyin").unwrap(),
        name: "抖音".into(),
        name_en: "Douyin".into(),
        kind: ChannelKind::App,
        active: true,
        built_in: false,
    };
    assert!(s.put_channel(&douyin).await.unwrap(), "new");
    let closed = ChannelDef {
        active: false,
        name: "抖音政务号".into(),
        ..douyin.clone()
    };
    assert!(!s.put_channel(&closed).await.unwrap(), "changed");
    let all = s.channels().await.unwrap();
    assert_eq!(all.len(), 17);
    assert_eq!(all[16], closed, "added last, as changed");
    // Lines by number.
    assert!(s.lines().await.unwrap().is_empty());
    let line = |number: &str, category: Option<&str>| HotlineLine {
        number: number.into(),
        name: format!("热线{number}"),
        category_code: category.map(String::from),
        unit_id: None,
        active: true,
    };
    assert!(s.put_line(&line("12369", Some("03"))).await.unwrap());
    assert!(s.put_line(&line("12315", None)).await.unwrap());
    assert!(!s.put_line(&line("12369", None)).await.unwrap());
    let lines = s.lines().await.unwrap();
    assert_eq!(lines, vec![line("12315", None), line("12369", None)]);
}

/// A new database on `like`'s backend (on PostgreSQL named after `name`), migrated only up to
/// `version`: what a server of that schema left, for the upgrade tests.
async fn store_at_schema(like: &SqlStore, name: &str, version: i64) -> SqlStore {
    let url = match like.backend() {
        Backend::Sqlite => testing::sqlite_url(),
        Backend::Postgres => testing::postgres_url(name).await.unwrap(),
    };
    let s = SqlStore::connect(&url).await.unwrap();
    s.migrate_up_to(version).await.unwrap();
    s
}

/// A database made by the first release (schema 1: the demo of commit 0053134, its rows in
/// `tests/fixtures/schema-1.sql`) is brought to the current schema on this backend: every
/// ticket and event is still read, each ticket is what its events make it, the aggregates the
/// later migrations added are filled from the events and equal a rebuild, and new tickets
/// follow the old ones.
async fn a_database_of_the_first_schema_is_upgraded(migrated: &SqlStore) {
    use sqlx::Row;
    let s = store_at_schema(migrated, "upgrade_from_schema_1", 1).await;
    assert_eq!(s.schema_version().await.unwrap().0, 1);
    let fixture = include_str!("fixtures/schema-1.sql");
    let mut rows = 0;
    for line in fixture.lines().filter(|l| l.starts_with("INSERT INTO ")) {
        sqlx::query(sqlx::AssertSqlSafe(line.to_string()))
            .execute(s.pool())
            .await
            .unwrap_or_else(|e| panic!("{e}: {line}"));
        rows += 1;
    }
    assert!(rows > 1000, "{rows} rows");
    if s.backend() == Backend::Postgres {
        // Rows were written with their ids: the sequences go on after them.
        for table in ["units", "users", "api_tokens", "tickets", "ticket_events"] {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 1))"
            )))
            .fetch_one(s.pool())
            .await
            .unwrap();
        }
    }
    let old: Vec<(i64, String, String)> =
        sqlx::query("SELECT id, number, state FROM tickets ORDER BY id")
            .fetch_all(s.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get("id"), r.get("number"), r.get("state")))
            .collect();
    let old_events: i64 = sqlx::query("SELECT COUNT(*) AS n FROM ticket_events")
        .fetch_one(s.pool())
        .await
        .unwrap()
        .get("n");
    assert!(old.len() >= 50, "{} tickets", old.len());

    s.migrate().await.unwrap();
    let (applied, known) = s.schema_version().await.unwrap();
    assert_eq!(applied, known);

    let mut events = 0;
    let mut states = std::collections::BTreeSet::new();
    for (id, number, state) in &old {
        let t = s.get_ticket(*id).await.unwrap().unwrap();
        assert_eq!(&t.number, number);
        assert_eq!(t.state.as_str(), state, "{number}");
        let history = s.ticket_events(*id).await.unwrap();
        events += history.len() as i64;
        let view = history.iter().fold(None, apply).unwrap();
        assert_eq!(
            (view.state, view.lead_unit_id),
            (t.state, t.lead_unit_id),
            "{number}"
        );
        states.insert(t.state);
    }
    assert_eq!(events, old_events);
    assert!(
        states.len() >= 6,
        "the demo's tickets are in many states: {states:?}"
    );
    let listed = s
        .list_tickets(&TicketFilter {
            limit: 10_000,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), old.len());
    // The aggregates were filled from the old events, as a rebuild fills them.
    let filled = aggregate_snapshot(&s).await;
    assert!(
        filled.iter().any(|(_, groups)| !groups.is_empty()),
        "aggregates filled"
    );
    s.rebuild_aggregates().await.unwrap();
    assert_eq!(aggregate_snapshot(&s).await, filled);
    // The deadline watcher knows every ticket.
    let watched: i64 = sqlx::query("SELECT COUNT(*) AS n FROM ticket_watch")
        .fetch_one(s.pool())
        .await
        .unwrap()
        .get("n");
    assert_eq!(watched as usize, old.len());
    // A new ticket takes the next id and a number of its own.
    let new = create(&s, "升级后的第一件：路灯不亮", Utc::now(), None)
        .await
        .ticket;
    assert!(new.id > old.last().unwrap().0);
    assert!(old.iter().all(|(_, n, _)| *n != new.number));
}

/// Migration 37 rewrites SQLite's outbox (a notice may be about no ticket): the notices of a
/// database before it are all there after it, with their ids, and the next one follows.
async fn the_outbox_keeps_its_notices_when_it_takes_notices_about_no_ticket(migrated: &SqlStore) {
    use sqlx::Row;
    let s = store_at_schema(migrated, "upgrade_outbox", 36).await;
    // A ticket as the server of that schema wrote it (today's code appends evaluation
    // deltas, a table of a later migration).
    let t_id: i64 = sqlx::query(
        "INSERT INTO tickets (number, tracking_code, state, channel, kind, created_at, updated_at, version, body) \
         VALUES ('XN0001', 'TC0001', 'received', 'phone', 'complaint', 1, 1, 1, '{}') RETURNING id",
    )
    .fetch_one(s.pool())
    .await
    .unwrap()
    .get("id");
    let rows = |s: &SqlStore| {
        let pool = s.pool().clone();
        async move {
            sqlx::query("SELECT id, ticket_id, channel, recipient, payload FROM outbox ORDER BY id")
                .fetch_all(&pool)
                .await
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r.get::<i64, _>("id"),
                        r.get::<Option<i64>, _>("ticket_id"),
                        r.get::<String, _>("channel"),
                        r.get::<String, _>("recipient"),
                        r.get::<String, _>("payload"),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    sqlx::query(
        "INSERT INTO outbox (ticket_id, event_seq, channel, recipient, payload, created_at, not_before) \
         VALUES ($1, 1, 'sms', '13800000000', '{\"text\":\"已受理\"}', 1, 1)",
    )
    .bind(t_id)
    .execute(s.pool())
    .await
    .unwrap();
    let before = rows(&s).await;
    assert!(!before.is_empty());
    assert!(
        sqlx::query(
            "INSERT INTO outbox (ticket_id, event_seq, channel, recipient, payload, created_at, not_before) \
             VALUES (NULL, 0, 'console', 'role:analyst', '{}', 1, 1)",
        )
        .execute(s.pool())
        .await
        .is_err(),
        "before: every notice is about a ticket"
    );
    s.migrate().await.unwrap();
    assert_eq!(rows(&s).await, before);
    sqlx::query(
        "INSERT INTO outbox (ticket_id, event_seq, channel, recipient, payload, created_at, not_before) \
         VALUES (NULL, 0, 'console', 'role:analyst', '{}', 2, 2)",
    )
    .execute(s.pool())
    .await
    .unwrap();
    let after = rows(&s).await;
    assert_eq!(after.len(), before.len() + 1);
    assert_eq!(after.last().unwrap().1, None);
    assert!(after.last().unwrap().0 > before.last().unwrap().0);
    // The console reads it, and the indexes are there again.
    let read = s
        .console_notices(&["role:analyst".to_string()], None, 10)
        .await
        .unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].ticket_id, None);
}

/// Migration 39 drops the tracking code's unique index (on SQLite by copying the tickets into
/// a new table with the foreign keys off): every ticket keeps its row and id, the rows that
/// refer to tickets still do, the other indexes are there under their names, and the next
/// ticket's id is past every id ever given.
async fn tickets_keep_their_rows_and_ids_without_the_tracking_code_index(migrated: &SqlStore) {
    use sqlx::Row;
    let s = store_at_schema(migrated, "upgrade_tracking", 38).await;
    let insert = |number: &'static str, code: &'static str| {
        let pool = s.pool().clone();
        async move {
            sqlx::query(
                "INSERT INTO tickets (number, tracking_code, state, channel, kind, category_code, division_code, \
                 citizen_phone, created_at, updated_at, version, body, category_l1, division_county) \
                 VALUES ($1, $2, 'received', 'phone', 'complaint', '010203', '630102001001', '13800000000', \
                 1, 1, 1, '{}', '01', '630102') RETURNING id",
            )
            .bind(number)
            .bind(code)
            .fetch_one(&pool)
            .await
            .map(|r| r.get::<i64, _>("id"))
        }
    };
    let first = insert("XN0001", "TC0001").await.unwrap();
    let second = insert("XN0002", "TC0002").await.unwrap();
    let gone = insert("XN0003", "TC0003").await.unwrap();
    assert!(
        insert("XN0004", "TC0001").await.is_err(),
        "before: two tickets cannot share a tracking code"
    );
    sqlx::query("DELETE FROM tickets WHERE id = $1")
        .bind(gone)
        .execute(s.pool())
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO ticket_events (ticket_id, seq, type, at, actor_user_id, actor_role, actor_unit_id, data) \
         VALUES ($1, 1, 'received', 1, 1, 'operator', NULL, '{}')",
    )
    .bind(second)
    .execute(s.pool())
    .await
    .unwrap();
    let rows = |s: &SqlStore| {
        let pool = s.pool().clone();
        async move {
            sqlx::query(
                "SELECT id, number, tracking_code, category_l1, division_county, citizen_phone, body \
                 FROM tickets ORDER BY id",
            )
            .fetch_all(&pool)
            .await
            .unwrap()
            .iter()
            .map(|r| {
                format!(
                    "{} {} {} {:?} {:?} {:?} {}",
                    r.get::<i64, _>(0),
                    r.get::<String, _>(1),
                    r.get::<String, _>(2),
                    r.get::<Option<String>, _>(3),
                    r.get::<Option<String>, _>(4),
                    r.get::<Option<String>, _>(5),
                    r.get::<String, _>(6)
                )
            })
            .collect::<Vec<_>>()
        }
    };
    let before = rows(&s).await;
    assert_eq!(
        before,
        vec![
            format!(
                "{first} XN0001 TC0001 Some(\"01\") Some(\"630102\") Some(\"13800000000\") {{}}"
            ),
            format!(
                "{second} XN0002 TC0002 Some(\"01\") Some(\"630102\") Some(\"13800000000\") {{}}"
            ),
        ]
    );
    s.migrate().await.unwrap();
    assert_eq!(rows(&s).await, before);
    let indexes: Vec<String> = sqlx::query(match s.backend() {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tickets' ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT indexname::text FROM pg_indexes WHERE tablename = 'tickets' ORDER BY indexname"
        }
    })
    .fetch_all(s.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| r.get::<String, _>(0))
    .collect();
    let unique_number = match s.backend() {
        Backend::Sqlite => "sqlite_autoindex_tickets_1",
        Backend::Postgres => "tickets_number_key",
    };
    let mut expected = vec![
        unique_number,
        "tickets_category",
        "tickets_category_l1",
        "tickets_category_l2",
        "tickets_channel",
        "tickets_created",
        "tickets_division",
        "tickets_division_county",
        "tickets_division_street",
        "tickets_extension_pending",
        "tickets_lead",
        "tickets_phone",
        "tickets_state",
        "tickets_wechat",
    ];
    if s.backend() == Backend::Postgres {
        expected.push("tickets_pkey");
    }
    expected.sort();
    assert_eq!(indexes, expected);
    // Codes are no longer unique; numbers still are; events still need their ticket.
    insert("XN0005", "TC0001").await.unwrap();
    assert!(insert("XN0001", "TC0009").await.is_err());
    let event = |ticket: i64| {
        sqlx::query(
            "INSERT INTO ticket_events (ticket_id, seq, type, at, actor_user_id, actor_role, actor_unit_id, data) \
             VALUES ($1, 2, 'note_added', 1, 1, 'operator', NULL, '{}')",
        )
        .bind(ticket)
        .execute(s.pool())
    };
    event(first).await.unwrap();
    if s.backend() == Backend::Sqlite {
        // (PostgreSQL's events have had no foreign key since migration 10.)
        assert!(
            event(987654).await.is_err(),
            "an event of no ticket is refused"
        );
    }
    let events: i64 = sqlx::query("SELECT COUNT(*) AS n FROM ticket_events WHERE ticket_id = $1")
        .bind(second)
        .fetch_one(s.pool())
        .await
        .unwrap()
        .get("n");
    assert_eq!(events, 1);
    // The next ticket's id is past the removed one's.
    let new = create(&s, "升级后：路灯不亮", Utc::now(), None)
        .await
        .ticket;
    assert!(new.id > gone, "{} after {gone}", new.id);
}
