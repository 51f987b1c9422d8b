//! The HTTP API, end to end: the real server on port 0, on SQLite and on PostgreSQL.

mod common;

use common::TestApp;
use mashangban_domain::{Action, Role, TicketState};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both!(
    complete_lifecycle_with_every_side_path,
    every_state_and_action_over_http,
    role_matrix_and_masking,
    idempotent_creates,
    bad_input_gets_a_4xx_naming_the_problem,
    listing_filters_pagination_and_visibility,
    reference_lists_openapi_and_health,
    administration_of_reference_data_and_users,
);

fn types(resp_events: &Value) -> Vec<String> {
    resp_events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

async fn complete_lifecycle_with_every_side_path(t: &TestApp) {
    // Receive: the number is XN + today's date in Xining + a sequence; tracking code is set.
    let r = t
        .post(
            "/api/v1/tickets",
            "operator",
            json!({"channel": "merged_line", "channel_detail": "12369", "kind": "complaint", "title": "消防通道被锁",
                   "content": "城东区八一中路青发小区7号楼3单元有两个消防通道，其中一个被锁死。",
                   "citizen": {"name": "王五", "phone": "13912345678"}, "address": "城东区八一中路青发小区7号楼",
                   "category_code": "010301", "division_code": "630102"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let id = r.body["id"].as_i64().unwrap();
    let today = chrono::Utc::now()
        .with_timezone(&mashangban_domain::intake::china_offset())
        .format("%Y%m%d")
        .to_string();
    assert!(
        r.body["number"]
            .as_str()
            .unwrap()
            .starts_with(&format!("XN{today}")),
        "{:?}",
        r.body["number"]
    );
    assert_eq!(r.body["tracking_code"].as_str().unwrap().len(), 16);
    for field in [
        "id",
        "number",
        "state",
        "channel",
        "kind",
        "title",
        "content",
        "category_code",
        "division_code",
        "lead_unit_id",
        "co_unit_ids",
        "created_at",
        "updated_at",
    ] {
        assert!(r.body.get(field).is_some(), "ticket JSON carries {field}");
    }
    assert_eq!(r.body["state"], "received");

    // Dispatch without a tier: the category's default tier (物业服务 → 7 days).
    let d = t
        .act(
            id,
            "dispatch",
            "dispatcher",
            json!({"lead_unit_id": t.lead_unit, "co_unit_ids": [t.co_unit], "note": "请核实处理"}),
        )
        .await;
    assert_eq!(
        (d["state"].as_str(), d["tier"].as_i64()),
        (Some("dispatched"), Some(7))
    );
    // The unit asks to give it back; the hotline refuses; then the unit signs.
    t.act(
        id,
        "request-return",
        "lead",
        json!({"reason": "不属于本街道"}),
    )
    .await;
    assert_eq!(
        t.act(
            id,
            "reject-return",
            "dispatcher",
            json!({"note": "属于属地职责"})
        )
        .await["state"],
        "dispatched"
    );
    assert_eq!(
        t.act(id, "sign", "lead", json!({})).await["state"],
        "in_progress"
    );
    // Extensions: one approved, one rejected.
    t.act(
        id,
        "request-extension",
        "lead",
        json!({"days": 3, "reason": "需协调物业"}),
    )
    .await;
    let e = t
        .act(id, "approve-extension", "dispatcher", json!({}))
        .await;
    assert_eq!(e["extension_days_granted"], 3);
    t.act(
        id,
        "request-extension",
        "lead",
        json!({"days": 2, "reason": "再次延期"}),
    )
    .await;
    let e = t
        .act(
            id,
            "reject-extension",
            "dispatcher",
            json!({"note": "不符合延期条件"}),
        )
        .await;
    assert_eq!(
        (
            e["extension_days_granted"].as_i64(),
            e["pending_extension"].is_null()
        ),
        (Some(3), true)
    );
    // Contact, notes from the lead and the co-unit, reply, rejected reply, reply, approval.
    assert!(
        !t.act(id, "record-contact", "lead", json!({"note": "已电话联系"}))
            .await["first_contact_at"]
            .is_null()
    );
    t.act(id, "add-note", "co", json!({"note": "城管已到场配合"}))
        .await;
    t.act(id, "reply", "lead", json!({"content": "已联系物业整改"}))
        .await;
    assert_eq!(
        t.act(
            id,
            "reject-reply",
            "dispatcher",
            json!({"reason": "未说明整改结果"})
        )
        .await["state"],
        "in_progress"
    );
    t.act(
        id,
        "reply",
        "lead",
        json!({"content": "物业已拆除锁具，通道恢复畅通"}),
    )
    .await;
    assert_eq!(
        t.act(id, "approve-reply", "dispatcher", json!({})).await["state"],
        "awaiting_callback"
    );
    // A dissatisfied callback reopens it (重办) to the lead unit.
    let r = t
        .post(
            &format!("/api/v1/tickets/{id}/record-callback"),
            "callback",
            json!({"contacted": true, "resolution": "partly", "satisfaction": "dissatisfied"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(types(&r.body["events"]), ["callback_recorded", "reopened"]);
    assert_eq!(
        (
            r.body["ticket"]["state"].as_str(),
            r.body["ticket"]["reopen_count"].as_i64()
        ),
        (Some("dispatched"), Some(1))
    );
    t.act(id, "sign", "lead", json!({"note": "重办件"})).await;
    t.act(
        id,
        "reply",
        "lead",
        json!({"content": "再次上门，问题已彻底解决"}),
    )
    .await;
    t.act(id, "approve-reply", "dispatcher", json!({})).await;
    // Unreachable twice, then answered: resolved and satisfied closes it.
    for n in 1..=2 {
        let u = t
            .act(
                id,
                "record-callback",
                "callback",
                json!({"unreachable": true}),
            )
            .await;
        assert_eq!(
            (u["state"].as_str(), u["callback_attempts"].as_i64()),
            (Some("awaiting_callback"), Some(n))
        );
    }
    let c = t
        .act(
            id,
            "record-callback",
            "callback",
            json!({"contacted": true, "resolution": "resolved", "satisfaction": "satisfied"}),
        )
        .await;
    assert_eq!(c["state"], "closed");
    // The supervisor reopens a closed ticket; it goes back to the lead unit.
    assert_eq!(
        t.act(
            id,
            "reopen",
            "supervisor",
            json!({"reason": "市民再次来电反映"})
        )
        .await["state"],
        "dispatched"
    );
    t.act(id, "sign", "lead", json!({})).await;
    t.act(id, "reply", "lead", json!({"content": "已复查"}))
        .await;
    t.act(id, "approve-reply", "dispatcher", json!({})).await;
    assert_eq!(
        t.act(id, "close", "callback", json!({"note": "市民不需要回访"}))
            .await["state"],
        "closed"
    );

    // Every step is in the audit trail, in order, with who did it.
    let ev = t
        .get(&format!("/api/v1/tickets/{id}/events"), "dispatcher")
        .await
        .body["items"]
        .clone();
    let ev_types = types(&ev);
    assert_eq!(ev_types.first().map(String::as_str), Some("received"));
    assert_eq!(ev_types.last().map(String::as_str), Some("closed"));
    assert_eq!(ev_types.len(), 29, "{ev_types:?}");
    let seqs: Vec<i64> = ev
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=29).collect::<Vec<_>>());
    assert_eq!(ev[1]["actor"]["role"], "dispatcher");

    // Return approved → back to intake; consultation decides new owners.
    let id2 = t.ticket_in("in_progress").await;
    t.act(
        id2,
        "request-return",
        "lead",
        json!({"reason": "非本单位职责"}),
    )
    .await;
    let back = t.act(id2, "approve-return", "dispatcher", json!({})).await;
    assert_eq!(
        (
            back["state"].as_str(),
            back["lead_unit_id"].is_null(),
            back["return_count"].as_i64()
        ),
        (Some("received"), true, Some(1))
    );
    assert_eq!(
        t.get(&format!("/api/v1/tickets/{id2}"), "lead")
            .await
            .status,
        StatusCode::NOT_FOUND,
        "the returning unit no longer sees it"
    );
    t.act(
        id2,
        "open-consultation",
        "dispatcher",
        json!({"note": "职责争议"}),
    )
    .await;
    let decided = t
        .act(
            id2,
            "decide-consultation",
            "dispatcher",
            json!({"lead_unit_id": t.other_unit, "co_unit_ids": [t.lead_unit], "tier": 11, "note": "涉及多部门，延长时限"}),
        )
        .await;
    assert_eq!(
        (
            decided["state"].as_str(),
            decided["lead_unit_id"].as_i64(),
            decided["tier"].as_i64()
        ),
        (Some("dispatched"), Some(t.other_unit), Some(11))
    );
    assert_eq!(
        t.get(&format!("/api/v1/tickets/{id2}"), "other")
            .await
            .status,
        StatusCode::OK,
        "the new lead unit sees it"
    );

    // Resolve directly, not accept, merge.
    let id3 = t.create("咨询公积金提取条件").await;
    assert_eq!(
        t.act(
            id3,
            "resolve-directly",
            "operator",
            json!({"answer": "已告知提取条件"})
        )
        .await["state"],
        "resolved_directly"
    );
    let id4 = t.create("家里着火了").await;
    let na = t
        .act(
            id4,
            "not-accept",
            "operator",
            json!({"reason": "紧急警情，已转119", "redirect_to": "119"}),
        )
        .await;
    assert_eq!(
        (
            na["state"].as_str(),
            na["not_accepted"]["redirect_to"].as_str()
        ),
        (Some("not_accepted"), Some("119"))
    );
    let parent = t.create("同一小区垃圾问题").await;
    let child = t.create("同一小区垃圾问题（重复来电）").await;
    assert_eq!(
        t.act(child, "merge", "dispatcher", json!({"parent_id": parent}))
            .await["state"],
        "merged"
    );
    let p = t
        .get(&format!("/api/v1/tickets/{parent}"), "dispatcher")
        .await
        .body;
    assert_eq!(p["child_ids"], json!([child]));
    assert_eq!(
        types(
            &t.get(&format!("/api/v1/tickets/{parent}/events"), "dispatcher")
                .await
                .body["items"]
        ),
        ["received", "child_merged"]
    );
    // Merging into a closed ticket, into itself, or into a missing one is refused.
    let other = t.create("另一件").await;
    for (target, field) in [
        (id3, "parent_id"),
        (other, "parent_id"),
        (999_999, "parent_id"),
    ] {
        let r = t
            .post(
                &format!("/api/v1/tickets/{other}/merge"),
                "dispatcher",
                json!({"parent_id": target}),
            )
            .await;
        assert_eq!(
            (r.status, r.body["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{:?}",
            r.body
        );
    }
}

/// The events a legal action writes.
fn expected_events(action: Action) -> Vec<&'static str> {
    match action {
        Action::RecordCallback => vec!["callback_recorded", "closed"],
        Action::ResolveDirectly => vec!["resolved_directly"],
        Action::Dispatch => vec!["dispatched"],
        Action::Sign => vec!["signed"],
        Action::RequestReturn => vec!["return_requested"],
        Action::ApproveReturn => vec!["return_approved"],
        Action::RejectReturn => vec!["return_rejected"],
        Action::OpenConsultation => vec!["consultation_opened"],
        Action::DecideConsultation => vec!["consultation_decided"],
        Action::RequestExtension => vec!["extension_requested"],
        Action::ApproveExtension => vec!["extension_approved"],
        Action::RejectExtension => vec!["extension_rejected"],
        Action::RecordContact => vec!["contact_recorded"],
        Action::AddNote => vec!["note_added"],
        Action::Reply => vec!["replied"],
        Action::ApproveReply => vec!["reply_approved"],
        Action::RejectReply => vec!["reply_rejected"],
        Action::Close => vec!["closed"],
        Action::Reopen => vec!["reopened"],
        Action::Merge => vec!["merged"],
        Action::NotAccept => vec!["not_accepted"],
        Action::TransferOut => vec!["transferred_out"],
        Action::RevealContact => vec!["contact_revealed"],
        Action::Supervise => vec!["supervised"],
        Action::AnswerSupervision => vec!["supervision_answered"],
        Action::Forward => vec!["forwarded"],
        Action::Summon => vec!["summoned"],
        Action::ReportIn => vec!["reported_in"],
        Action::ResolveOnSpot => vec!["resolved_on_spot"],
        Action::RecordMeeting => vec!["meeting_recorded"],
        Action::Recategorise => vec!["recategorised"],
        Action::Relocate => vec!["relocated"],
        Action::ReviewRating => vec!["rating_reviewed", "closed"],
    }
}

fn sample_body(t: &TestApp, action: Action, parent: i64) -> Value {
    match action {
        Action::ResolveDirectly => json!({"answer": "已答复"}),
        Action::Dispatch | Action::DecideConsultation => {
            json!({"lead_unit_id": t.lead_unit, "co_unit_ids": [t.co_unit]})
        }
        Action::RequestReturn | Action::RejectReply => json!({"reason": "理由"}),
        Action::RequestExtension => json!({"days": 2, "reason": "理由"}),
        Action::AddNote => json!({"note": "备注"}),
        Action::Reply => json!({"content": "答复"}),
        Action::RecordCallback => {
            json!({"contacted": true, "resolution": "resolved", "satisfaction": "satisfied"})
        }
        Action::Merge => json!({"parent_id": parent}),
        Action::NotAccept => json!({"reason": "理由"}),
        Action::TransferOut => json!({"to": "110", "reason": "理由"}),
        Action::Supervise => json!({"note": "请加快办理"}),
        Action::AnswerSupervision => json!({"answer": "已安排专人办理"}),
        Action::Forward => json!({"unit_id": t.below_unit, "note": "请社区核实"}),
        Action::Summon => json!({"unit_id": t.other_unit, "reason": "请到场协调"}),
        Action::ReportIn => json!({"note": "已到场"}),
        Action::ResolveOnSpot => json!({"action_taken": "已清理"}),
        // The test tickets are in category 010403 and division 630102001001.
        Action::Recategorise => json!({"category_code": "010101", "reason": "供水问题"}),
        Action::Relocate => json!({"division_code": "630102001004", "reason": "地址在邻近社区"}),
        Action::ReviewRating => json!({"reasonable": false, "reason": "已依法答复"}),
        Action::RecordMeeting => {
            json!({"held_on": "2026-01-05", "participants": "居民代表、网格员",
            "decision": "更换管道", "who_pays": "共同承担"})
        }
        _ => json!({}),
    }
}

/// Who takes the action in the matrix: the first role the table allows (the lead unit's
/// handler for unit actions).
fn actor_for(action: Action) -> &'static str {
    match action.rules().next().unwrap().roles[0] {
        Role::Operator => "operator",
        Role::Dispatcher => "dispatcher",
        Role::UnitHandler => "lead",
        Role::GridWorker => "grid",
        Role::CallbackAgent => "callback",
        Role::Supervisor => "supervisor",
        Role::Analyst => "analyst",
        Role::Admin => "admin",
    }
}

async fn every_state_and_action_over_http(t: &TestApp) {
    let parent = t.create("并单目标").await;
    let (mut legal, mut refused) = (0, 0);
    for state in TicketState::ALL {
        let mut id = t.ticket_in(state.as_str()).await;
        for action in Action::ALL {
            // Only a unit called to the spot reports in, and a community acts on its own
            // patrol reports: the summons and patrol tests take these.
            if matches!(
                action,
                Action::ReportIn | Action::ResolveOnSpot | Action::RecordMeeting
            ) {
                refused += 1;
                continue;
            }
            let before = t.event_count(id).await;
            let who = actor_for(action);
            let r = t
                .post(
                    &format!("/api/v1/tickets/{id}/{}", action.as_str()),
                    who,
                    sample_body(t, action, parent),
                )
                .await;
            let role = if who == "lead" {
                Role::UnitHandler
            } else {
                who.parse().unwrap_or(Role::CallbackAgent)
            };
            let table_says = action.rule_for(role).unwrap().from.contains(state)
                // the lead unit signs a dispatched ticket only
                && (action != Action::Sign || *state == TicketState::Dispatched)
                // no extension pending, no supervision to answer
                && !matches!(
                    action,
                    Action::ApproveExtension | Action::RejectExtension | Action::AnswerSupervision
                );
            let unit_blind = who == "lead"
                && matches!(
                    state,
                    TicketState::Received
                        | TicketState::ResolvedDirectly
                        | TicketState::NotAccepted
                        | TicketState::Merged
                        | TicketState::Transferred
                );
            if table_says && !unit_blind {
                assert_eq!(
                    r.status,
                    StatusCode::OK,
                    "{action:?} in {state:?}: {:?}",
                    r.body
                );
                assert_eq!(
                    types(&r.body["events"]),
                    expected_events(action),
                    "{action:?} in {state:?}"
                );
                assert_eq!(
                    t.event_count(id).await,
                    before + expected_events(action).len(),
                    "exactly its events"
                );
                legal += 1;
                id = t.ticket_in(state.as_str()).await; // the next action starts from the state again
            } else {
                let expected = if unit_blind {
                    StatusCode::NOT_FOUND
                } else {
                    StatusCode::CONFLICT
                };
                assert_eq!(r.status, expected, "{action:?} in {state:?}: {:?}", r.body);
                if expected == StatusCode::CONFLICT {
                    assert_eq!(r.body["error"]["code"], "illegal_transition");
                }
                assert_eq!(
                    t.event_count(id).await,
                    before,
                    "{action:?} in {state:?} wrote nothing"
                );
                assert_eq!(t.state(id).await, state.as_str());
                refused += 1;
            }
        }
    }
    assert_eq!(legal + refused, TicketState::ALL.len() * Action::ALL.len());
    // Extension decisions are legal only while a request is pending.
    let id = t.ticket_in("in_progress").await;
    t.act(
        id,
        "request-extension",
        "lead",
        json!({"days": 2, "reason": "r"}),
    )
    .await;
    let again = t
        .post(
            &format!("/api/v1/tickets/{id}/request-extension"),
            "lead",
            json!({"days": 2, "reason": "r"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    t.act(id, "approve-extension", "dispatcher", json!({}))
        .await;
}

async fn role_matrix_and_masking(t: &TestApp) {
    let parent = t.create("并单目标").await;
    let everyone = [
        "operator",
        "dispatcher",
        "lead",
        "co",
        "other",
        "callback",
        "supervisor",
        "analyst",
        "admin",
    ];
    for action in Action::ALL {
        let rule = action.rules().next().unwrap();
        // A state where the action applies and the ticket has units.
        let state = rule
            .from
            .iter()
            .find(|s| {
                !matches!(
                    s,
                    TicketState::Received
                        | TicketState::ResolvedDirectly
                        | TicketState::NotAccepted
                )
            })
            .unwrap_or(&rule.from[0]);
        let fresh = || async {
            let id = t.ticket_in(state.as_str()).await;
            if matches!(action, Action::ApproveExtension | Action::RejectExtension) {
                t.act(
                    id,
                    "request-extension",
                    "lead",
                    json!({"days": 1, "reason": "r"}),
                )
                .await;
            }
            if action == Action::AnswerSupervision {
                t.act(id, "supervise", "supervisor", json!({"note": "请加快"}))
                    .await;
            }
            id
        };
        let mut id = fresh().await;
        for who in everyone {
            let role = match who {
                "lead" | "co" | "other" => Role::UnitHandler,
                "callback" => Role::CallbackAgent,
                "analyst" => Role::Analyst,
                other => other.parse().unwrap(),
            };
            let has_units = !matches!(
                state,
                TicketState::Received | TicketState::ResolvedDirectly | TicketState::NotAccepted
            );
            // A role that may never take the action is refused before the ticket is
            // looked at; then a ticket the unit cannot see is not found.
            use mashangban_domain::UnitScope as U;
            let expected = match action.rule_for(role) {
                None => StatusCode::FORBIDDEN,
                Some(_) if role == Role::UnitHandler && (who == "other" || !has_units) => {
                    StatusCode::NOT_FOUND
                }
                // A unit outside the scope: a co-unit for a lead-unit action, anyone for
                // the review of a level below (the ticket went down no chain).
                Some(r)
                    if role == Role::UnitHandler
                        && match r.unit_scope {
                            U::Lead | U::Holder => who != "lead",
                            U::LeadOrCo | U::Involved => false,
                            U::Reviewer | U::Summoned | U::Reporter => true,
                        } =>
                {
                    StatusCode::FORBIDDEN
                }
                Some(r) if !r.from.contains(state) => StatusCode::CONFLICT,
                Some(_) => StatusCode::OK,
            };
            let before = t.event_count(id).await;
            let r = t
                .post(
                    &format!("/api/v1/tickets/{id}/{}", action.as_str()),
                    who,
                    sample_body(t, action, parent),
                )
                .await;
            assert_eq!(
                r.status, expected,
                "{action:?} by {who} in {state:?}: {:?}",
                r.body
            );
            if expected == StatusCode::OK {
                id = fresh().await;
            } else {
                assert_eq!(
                    t.event_count(id).await,
                    before,
                    "a refused action writes nothing"
                );
            }
        }
    }
    // Reading: the other unit's handler gets 404 for the ticket and its events.
    let id = t.ticket_in("in_progress").await;
    assert_eq!(
        t.get(&format!("/api/v1/tickets/{id}"), "other")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.get(&format!("/api/v1/tickets/{id}/events"), "other")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Masking: units and analysts see a masked identity; the hotline sees it whole.
    let lead_view = t.get(&format!("/api/v1/tickets/{id}"), "lead").await.body;
    assert_eq!(
        lead_view["citizen"],
        json!({"name": "张*", "phone": "138****5678"})
    );
    assert_eq!(
        t.get(&format!("/api/v1/tickets/{id}"), "analyst")
            .await
            .body["citizen"]["phone"],
        "138****5678"
    );
    assert_eq!(
        t.get(&format!("/api/v1/tickets/{id}"), "operator")
            .await
            .body["citizen"]["phone"],
        "13812345678"
    );
    let ev = t
        .get(&format!("/api/v1/tickets/{id}/events"), "co")
        .await
        .body;
    assert_eq!(
        ev["items"][0]["citizen"]["phone"], "138****5678",
        "the received event is masked too"
    );
    // Reveal: unmasked in the answer, audited as an event naming the handler, still masked after.
    let r = t
        .post(
            &format!("/api/v1/tickets/{id}/reveal-contact"),
            "lead",
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["ticket"]["citizen"]["phone"], "13812345678");
    let audit = t
        .get(&format!("/api/v1/tickets/{id}/events"), "dispatcher")
        .await
        .body["items"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (audit["type"].as_str(), audit["actor"]["unit_id"].as_i64()),
        (Some("contact_revealed"), Some(t.lead_unit))
    );
    assert_eq!(
        t.get(&format!("/api/v1/tickets/{id}"), "lead").await.body["citizen"]["phone"],
        "138****5678"
    );
    assert_eq!(
        t.post(
            &format!("/api/v1/tickets/{id}/reveal-contact"),
            "analyst",
            json!({})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    // A confidential request is never revealed to units.
    let r = t
        .post("/api/v1/tickets", "operator", json!({"channel": "web", "kind": "report", "content": "举报某餐馆使用过期食材", "confidential": true, "citizen": {"name": "李四", "phone": "13700000000"}}))
        .await;
    let cid = r.body["id"].as_i64().unwrap();
    t.act(
        cid,
        "dispatch",
        "dispatcher",
        json!({"lead_unit_id": t.lead_unit}),
    )
    .await;
    let v = t.get(&format!("/api/v1/tickets/{cid}"), "lead").await.body;
    assert_eq!(v["citizen"], json!({"name": "(保密)", "phone": null}));
    let r = t
        .post(
            &format!("/api/v1/tickets/{cid}/reveal-contact"),
            "lead",
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    assert_eq!(
        t.get(&format!("/api/v1/tickets/{cid}"), "dispatcher")
            .await
            .body["citizen"]["phone"],
        "13700000000"
    );
    // Only the hotline receives requests.
    for who in ["lead", "callback", "supervisor", "analyst", "admin"] {
        let r = t
            .post(
                "/api/v1/tickets",
                who,
                json!({"channel": "phone", "kind": "help", "content": "x"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{who}");
    }
}

async fn idempotent_creates(t: &TestApp) {
    let body = json!({"channel": "app", "kind": "help", "content": "路灯不亮"}).to_string();
    let send = |b: String| {
        t.raw(
            Method::POST,
            "/api/v1/tickets",
            Some("operator"),
            Some(b),
            &[("idempotency-key", "retry-42")],
        )
    };
    let first = send(body.clone()).await;
    let second = send(body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(first.body["id"], second.body["id"]);
    assert_eq!(first.body["number"], second.body["number"]);
    let list = t.get("/api/v1/tickets", "operator").await.body;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "one ticket");
    // The same key with another request is refused; another user's key space is separate.
    let other =
        send(json!({"channel": "app", "kind": "help", "content": "井盖丢了"}).to_string()).await;
    assert_eq!(
        (other.status, other.body["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("Idempotency-Key"))
    );
    let by_dispatcher = t
        .raw(
            Method::POST,
            "/api/v1/tickets",
            Some("dispatcher"),
            Some(body),
            &[("idempotency-key", "retry-42")],
        )
        .await;
    assert_eq!(by_dispatcher.status, StatusCode::CREATED);
    // Concurrent retries of one request still make one ticket.
    let body = json!({"channel": "wechat", "kind": "complaint", "content": "并发重试"}).to_string();
    let mut handles = Vec::new();
    for _ in 0..8 {
        let (client, base, token, body) = (
            t.client.clone(),
            t.base.clone(),
            t.tokens["operator"].clone(),
            body.clone(),
        );
        handles.push(tokio::spawn(async move {
            let r = client
                .post(format!("{base}/api/v1/tickets"))
                .bearer_auth(token)
                .header("idempotency-key", "concurrent")
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
        }));
    }
    let mut ids = std::collections::BTreeSet::new();
    for h in handles {
        ids.insert(h.await.unwrap());
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
}

async fn bad_input_gets_a_4xx_naming_the_problem(t: &TestApp) {
    let create = |body: String| {
        t.raw(
            Method::POST,
            "/api/v1/tickets",
            Some("operator"),
            Some(body),
            &[],
        )
    };
    let ok = json!({"channel": "phone", "kind": "help", "content": "正常内容"});
    let with = |k: &str, v: Value| {
        let mut b = ok.clone();
        b[k] = v;
        b.to_string()
    };
    let cases: Vec<(String, StatusCode, &str, Option<&str>)> = vec![
        (
            "{\"channel\": ".into(),
            StatusCode::BAD_REQUEST,
            "malformed_json",
            None,
        ),
        (
            "not json".into(),
            StatusCode::BAD_REQUEST,
            "malformed_json",
            None,
        ),
        (
            with("colour", json!("red")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("colour"),
        ),
        (
            with("content", json!("长".repeat(20_001))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("content"),
        ),
        (
            with("content", json!(42)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("content"),
        ),
        (
            with("channel", json!("fax")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("channel"),
        ),
        (
            with("confidential", json!("yes")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("confidential"),
        ),
        (
            with("category_code", json!("999999")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("category_code"),
        ),
        (
            with("division_code", json!("630999")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("division_code"),
        ),
        (
            with("citizen", json!({"phone": "abc"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("citizen.phone"),
        ),
        (
            json!({"kind": "help", "content": "x"}).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("channel"),
        ),
        (
            "[1,2]".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("body"),
        ),
        (
            "".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("body"),
        ),
    ];
    for (body, status, code, field) in cases {
        let r = create(body.clone()).await;
        let shown: String = body.chars().take(60).collect();
        assert_eq!(r.status, status, "{shown}: {:?}", r.body);
        assert_eq!(r.body["error"]["code"], code, "{shown}: {:?}", r.body);
        assert!(!r.body["error"]["message"].as_str().unwrap().is_empty());
        if let Some(f) = field {
            assert_eq!(r.body["error"]["field"], f, "{shown}: {:?}", r.body);
        }
    }
    assert_eq!(
        t.get("/api/v1/tickets", "operator").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        0,
        "nothing was written"
    );
    // Too large a body.
    // Too large a body is refused from its declared length, before it is read.
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = t.base.trim_start_matches("http://");
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "POST /api/v1/tickets HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            t.tokens["operator"],
            2 * 1024 * 1024
        );
        s.write_all(head.as_bytes()).await.unwrap();
        let mut buf = vec![0u8; 4096];
        let mut got = 0;
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while !String::from_utf8_lossy(&buf[..got]).contains("body_too_large") {
            match tokio::time::timeout_at(deadline, s.read(&mut buf[got..])).await {
                Ok(Ok(n)) if n > 0 => got += n,
                _ => break,
            }
        }
        let text = String::from_utf8_lossy(&buf[..got]);
        assert!(text.starts_with("HTTP/1.1 413"), "{text}");
        assert!(text.contains("body_too_large"), "{text}");
    }
    // Authentication.
    let r = t.raw(Method::GET, "/api/v1/tickets", None, None, &[]).await;
    assert_eq!(
        (r.status, r.body["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
    );
    let r = t
        .raw(
            Method::GET,
            "/api/v1/tickets",
            None,
            None,
            &[("authorization", "Bearer mb_forged")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = t
        .raw(
            Method::GET,
            "/api/v1/tickets",
            None,
            None,
            &[("authorization", "Basic abc")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Actions: unknown action, bad ids, bad bodies, missing units.
    let id = t.create("用于错误测试").await;
    let r = t
        .post(
            &format!("/api/v1/tickets/{id}/explode"),
            "dispatcher",
            json!({}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_action"))
    );
    assert_eq!(
        t.get("/api/v1/tickets/abc", "dispatcher").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.get("/api/v1/tickets/99999999", "dispatcher").await.status,
        StatusCode::NOT_FOUND
    );
    let action_cases = [
        ("dispatch", json!({"lead_unit_id": "x"}), "lead_unit_id"),
        (
            "dispatch",
            json!({"lead_unit_id": 99_999_999}),
            "lead_unit_id",
        ),
        (
            "dispatch",
            json!({"lead_unit_id": t.lead_unit, "co_unit_ids": [99_999_999]}),
            "co_unit_ids",
        ),
        (
            "dispatch",
            json!({"lead_unit_id": t.lead_unit, "tier": 2}),
            "tier",
        ),
        (
            "dispatch",
            json!({"lead_unit_id": t.lead_unit, "urgent": true}),
            "urgent",
        ),
        ("not-accept", json!({}), "reason"),
        (
            "resolve-directly",
            json!({"answer": "x".repeat(5001)}),
            "answer",
        ),
    ];
    for (action, body, field) in action_cases {
        let r = t
            .post(
                &format!("/api/v1/tickets/{id}/{action}"),
                "dispatcher",
                body.clone(),
            )
            .await;
        assert_eq!(
            (r.status, r.body["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{action} {body}: {:?}",
            r.body
        );
    }
    let r = t
        .raw(
            Method::POST,
            &format!("/api/v1/tickets/{id}/dispatch"),
            Some("dispatcher"),
            Some("{oops".into()),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(t.event_count(id).await, 1, "nothing was written");
    assert_eq!(t.state(id).await, "received");
    // List filters.
    for q in [
        "state=lost",
        "channel=fax",
        "created_from=yesterday",
        "limit=0",
        "limit=abc",
        "cursor=xyz",
        "colour=red",
    ] {
        let r = t.get(&format!("/api/v1/tickets?{q}"), "dispatcher").await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{q}: {:?}",
            r.body
        );
        assert!(r.body["error"]["field"].is_string());
    }
    // Users: admin only, validated.
    let r = t
        .post(
            "/api/v1/users",
            "admin",
            json!({"username": "new.op", "role": "operator", "password": "long-enough"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let r = t
        .post(
            "/api/v1/users",
            "admin",
            json!({"username": "new.op", "role": "operator"}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("duplicate"))
    );
    let r = t
        .post(
            "/api/v1/users",
            "admin",
            json!({"username": "h9", "role": "unit_handler"}),
        )
        .await;
    assert_eq!(r.body["error"]["field"], "unit");
    let r = t
        .post(
            "/api/v1/users",
            "admin",
            json!({"username": "weak", "role": "operator", "password": "123"}),
        )
        .await;
    assert_eq!(r.body["error"]["field"], "password");
    assert_eq!(
        t.post(
            "/api/v1/users",
            "dispatcher",
            json!({"username": "x1", "role": "operator"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
}

async fn listing_filters_pagination_and_visibility(t: &TestApp) {
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(t.create(&format!("列表测试{i}")).await);
    }
    let web = t.post("/api/v1/tickets", "operator", json!({"channel": "web", "kind": "suggestion", "content": "建议增设公交站", "category_code": "020203", "division_code": "630104"})).await;
    let web_id = web.body["id"].as_i64().unwrap();
    t.act(
        ids[0],
        "dispatch",
        "dispatcher",
        json!({"lead_unit_id": t.lead_unit, "co_unit_ids": [t.co_unit]}),
    )
    .await;
    t.act(
        ids[1],
        "dispatch",
        "dispatcher",
        json!({"lead_unit_id": t.other_unit}),
    )
    .await;

    let ids_of = |v: &Value| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_i64().unwrap())
            .collect::<Vec<_>>()
    };
    let all = t.get("/api/v1/tickets", "dispatcher").await.body;
    assert_eq!(ids_of(&all).len(), 6);
    assert!(all["next_cursor"].is_null());
    // Pages of two, following the cursor.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/tickets?limit=2&cursor={c}"),
            None => "/api/v1/tickets?limit=2".into(),
        };
        let page = t.get(&path, "dispatcher").await.body;
        seen.extend(ids_of(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, ids_of(&all), "pages cover the list once, in order");
    assert_eq!(
        ids_of(
            &t.get("/api/v1/tickets?state=dispatched", "dispatcher")
                .await
                .body
        )
        .len(),
        2
    );
    assert_eq!(
        ids_of(
            &t.get("/api/v1/tickets?state=received,dispatched", "dispatcher")
                .await
                .body
        )
        .len(),
        6
    );
    assert_eq!(
        ids_of(
            &t.get("/api/v1/tickets?channel=web", "dispatcher")
                .await
                .body
        ),
        vec![web_id]
    );
    assert_eq!(
        ids_of(
            &t.get("/api/v1/tickets?category=02", "dispatcher")
                .await
                .body
        ),
        vec![web_id]
    );
    assert_eq!(
        ids_of(
            &t.get("/api/v1/tickets?division=630102", "dispatcher")
                .await
                .body
        )
        .len(),
        5
    );
    assert_eq!(
        ids_of(
            &t.get(&format!("/api/v1/tickets?unit={}", t.co_unit), "dispatcher")
                .await
                .body
        ),
        vec![ids[0]]
    );
    assert_eq!(
        ids_of(
            &t.get("/api/v1/tickets?phone=13812345678", "dispatcher")
                .await
                .body
        )
        .len(),
        5
    );
    let today = chrono::Utc::now()
        .with_timezone(&mashangban_domain::intake::china_offset())
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(
        ids_of(
            &t.get(
                &format!("/api/v1/tickets?created_from={today}&created_to={today}"),
                "dispatcher"
            )
            .await
            .body
        )
        .len(),
        6
    );
    assert_eq!(
        ids_of(
            &t.get("/api/v1/tickets?created_to=2020-01-01", "dispatcher")
                .await
                .body
        )
        .len(),
        0
    );
    // Unit handlers see only their unit's tickets, whatever they ask for.
    assert_eq!(
        ids_of(&t.get("/api/v1/tickets", "lead").await.body),
        vec![ids[0]]
    );
    assert_eq!(
        ids_of(&t.get("/api/v1/tickets", "co").await.body),
        vec![ids[0]]
    );
    assert_eq!(
        ids_of(&t.get("/api/v1/tickets", "other").await.body),
        vec![ids[1]]
    );
    assert!(
        ids_of(
            &t.get(&format!("/api/v1/tickets?unit={}", t.other_unit), "lead")
                .await
                .body
        )
        .is_empty()
    );
    // Masked in lists too.
    assert_eq!(
        t.get("/api/v1/tickets", "lead").await.body["items"][0]["citizen"]["phone"],
        "138****5678"
    );
}

async fn reference_lists_openapi_and_health(t: &TestApp) {
    let h = t.raw(Method::GET, "/healthz", None, None, &[]).await;
    assert_eq!(
        (h.status, h.body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    let doc = t
        .raw(Method::GET, "/api/v1/openapi.json", None, None, &[])
        .await
        .body;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for a in Action::ALL {
        assert!(doc["paths"][format!("/api/v1/tickets/{{id}}/{}", a.as_str())]["post"].is_object());
    }
    for p in [
        "/api/v1/tickets",
        "/api/v1/tickets/{id}",
        "/api/v1/tickets/{id}/events",
        "/api/v1/units",
        "/api/v1/divisions",
        "/api/v1/categories",
        "/api/v1/users",
    ] {
        assert!(doc["paths"][p].is_object(), "{p}");
    }
    let units = t.get("/api/v1/units", "dispatcher").await.body;
    assert_eq!(
        units["items"].as_array().unwrap().len(),
        1 + 21 + 7 + 80 + 1100
    );
    let districts = t
        .get("/api/v1/divisions?parent=630100", "dispatcher")
        .await
        .body;
    assert_eq!(districts["items"].as_array().unwrap().len(), 7);
    let streets = t
        .get("/api/v1/divisions?level=street", "dispatcher")
        .await
        .body;
    assert_eq!(streets["items"].as_array().unwrap().len(), 80);
    let cats = t.get("/api/v1/categories", "dispatcher").await.body;
    assert!(cats["items"].as_array().unwrap().len() >= 90);
    assert_eq!(
        t.get("/api/v1/users", "admin").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        11
    );
    assert_eq!(
        t.get("/api/v1/users", "operator").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        t.get("/api/v1/me", "lead").await.body["unit_id"],
        t.lead_unit
    );
    assert_eq!(
        t.get("/api/v1/nothing", "lead").await.status,
        StatusCode::NOT_FOUND
    );
    // Password login: a token that works; a wrong password is 401 without saying which part was wrong.
    t.app
        .add_user(
            &mashangban_app::SERVER,
            mashangban_app::auth::UserInput {
                username: "withpw".into(),
                display_name: None,
                role: Role::Operator,
                unit_id: None,
                password: Some("s3cret-pass".into()),
            },
        )
        .await
        .unwrap();
    let login = |u: &str, p: &str| {
        t.raw(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": u, "password": p}).to_string()),
            &[],
        )
    };
    let ok = login("withpw", "s3cret-pass").await;
    assert_eq!(ok.status, StatusCode::OK);
    let token = ok.body["token"].as_str().unwrap().to_string();
    let me = t
        .raw(
            Method::GET,
            "/api/v1/me",
            None,
            None,
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await;
    assert_eq!(me.body["username"], "withpw");
    let auth = format!("Bearer {token}");
    let out = t
        .raw(
            Method::POST,
            "/api/v1/auth/logout",
            None,
            None,
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let after = t
        .raw(
            Method::GET,
            "/api/v1/me",
            None,
            None,
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(
        after.status,
        StatusCode::UNAUTHORIZED,
        "a logged-out token stops working"
    );
    for (u, p) in [("withpw", "wrong-pass"), ("nobody", "s3cret-pass")] {
        let r = login(u, p).await;
        assert_eq!(
            (r.status, r.body["error"]["message"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("wrong username or password"))
        );
    }
    // Five wrong passwords in a row lock password login, even with the right password.
    for _ in 0..3 {
        assert_eq!(
            login("withpw", "wrong-pass").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let locked = login("withpw", "wrong-pass").await;
    assert_eq!(
        (locked.status, locked.body["error"]["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("locked")),
        "{:?}",
        locked.body
    );
    assert_eq!(
        login("withpw", "s3cret-pass").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // An administrator can see the lock.
    let users = t.get("/api/v1/users", "admin").await.body;
    let u = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "withpw")
        .unwrap()
        .clone();
    assert!(u["locked_until"].is_string());
}

async fn administration_of_reference_data_and_users(t: &TestApp) {
    let patch = |path: String, who: &'static str, body: Value| async move {
        t.raw(Method::PATCH, &path, Some(who), Some(body.to_string()), &[])
            .await
    };
    // Categories: editable, nested by code, leaves carry a tier.
    for (code, name, tier) in [
        ("13", "应急管理", None),
        ("1301", "安全生产", None),
        ("130101", "危化品隐患", Some(1)),
    ] {
        let r = t
            .post(
                "/api/v1/categories",
                "admin",
                json!({"code": code, "name": name, "default_tier": tier}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(r.body["level"], (code.len() / 2) as i64);
    }
    let renamed = t
        .post(
            "/api/v1/categories",
            "admin",
            json!({"code": "130101", "name": "危险化学品隐患", "default_tier": 3}),
        )
        .await;
    assert_eq!(
        (
            renamed.body["name"].as_str(),
            renamed.body["default_tier"].as_i64()
        ),
        (Some("危险化学品隐患"), Some(3))
    );
    for (body, field) in [
        (json!({"code": "9901", "name": "x"}), "code"),
        (json!({"code": "1", "name": "x"}), "code"),
        (json!({"code": "13a1", "name": "x"}), "code"),
        (json!({"code": "1302", "name": ""}), "name"),
        (
            json!({"code": "1302", "name": "x", "default_tier": 2}),
            "default_tier",
        ),
        (json!({"code": "1302", "name": "x", "colour": 1}), "colour"),
    ] {
        let r = t.post("/api/v1/categories", "admin", body.clone()).await;
        assert_eq!(
            (r.status, r.body["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{body}"
        );
    }
    assert_eq!(
        t.post(
            "/api/v1/categories",
            "dispatcher",
            json!({"code": "14", "name": "x"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    // The new category is usable at once, and its tier is the dispatch default.
    let r = t.post("/api/v1/tickets", "operator", json!({"channel": "phone", "kind": "report", "content": "某仓库违规存放危化品", "category_code": "130101"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(
        t.act(
            id,
            "dispatch",
            "dispatcher",
            json!({"lead_unit_id": t.other_unit})
        )
        .await["tier"],
        3
    );

    // Units.
    let r = t.post("/api/v1/units", "admin", json!({"code": "DEPT-YJ", "name": "西宁市应急管理局", "kind": "city_department", "division_code": "630100"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let again = t
        .post(
            "/api/v1/units",
            "admin",
            json!({"code": "DEPT-YJ", "name": "重复", "kind": "city_department"}),
        )
        .await;
    assert_eq!(
        (again.status, again.body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("duplicate"))
    );
    for (body, field) in [
        (json!({"code": "X1", "name": "x", "kind": "palace"}), "kind"),
        (
            json!({"code": "X1", "name": "x", "kind": "community", "parent_id": 99_999_999}),
            "parent_id",
        ),
        (
            json!({"code": "X1", "name": "x", "kind": "community", "division_code": "999"}),
            "division_code",
        ),
        (
            json!({"code": "有空格 的", "name": "x", "kind": "community"}),
            "code",
        ),
    ] {
        let r = t.post("/api/v1/units", "admin", body.clone()).await;
        assert_eq!(
            (r.status, r.body["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{body}"
        );
    }

    // Populations for 万人诉求比.
    let r = patch(
        "/api/v1/divisions/630102".into(),
        "admin",
        json!({"population": 420_000}),
    )
    .await;
    assert_eq!(
        (r.status, r.body["population"].as_i64()),
        (StatusCode::OK, Some(420_000))
    );
    assert_eq!(
        patch(
            "/api/v1/divisions/999999".into(),
            "admin",
            json!({"population": 1})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        patch(
            "/api/v1/divisions/630102".into(),
            "admin",
            json!({"population": -5})
        )
        .await
        .body["error"]["field"],
        "population"
    );
    assert_eq!(
        patch(
            "/api/v1/divisions/630102".into(),
            "analyst",
            json!({"population": 5})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );

    // Users: a disabled user's token stops working at once; enabling restores it.
    let co_id = t.get("/api/v1/me", "co").await.body["id"].as_i64().unwrap();
    let r = patch(
        format!("/api/v1/users/{co_id}"),
        "admin",
        json!({"active": false}),
    )
    .await;
    assert_eq!(
        (r.status, r.body["active"].as_bool()),
        (StatusCode::OK, Some(false))
    );
    assert_eq!(
        t.get("/api/v1/me", "co").await.status,
        StatusCode::UNAUTHORIZED
    );
    patch(
        format!("/api/v1/users/{co_id}"),
        "admin",
        json!({"active": true}),
    )
    .await;
    assert_eq!(t.get("/api/v1/me", "co").await.status, StatusCode::OK);
    assert_eq!(
        patch(
            format!("/api/v1/users/{co_id}"),
            "admin",
            json!({"password": "short"})
        )
        .await
        .body["error"]["field"],
        "password"
    );
    assert_eq!(
        patch(
            "/api/v1/users/99999999".into(),
            "admin",
            json!({"active": true})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let r = patch(
        format!("/api/v1/users/{co_id}"),
        "admin",
        json!({"password": "a-new-long-password"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let login = t
        .raw(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "co", "password": "a-new-long-password"}).to_string()),
            &[],
        )
        .await;
    assert_eq!(login.status, StatusCode::OK, "a reset password logs in");
}
