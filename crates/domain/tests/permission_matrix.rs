//! The domain's two permission tables against their reviewed, hand-written copy
//! (`docs/permissions.md`): every action × role × state, and every permission × role.

use mashangban_domain::permission::{Permission, permits};
use mashangban_domain::{
    Action, Actor, Event, EventKind, Role, Ticket, TicketState, apply, authorize,
};

const DOC: &str = include_str!("../../../docs/permissions.md");

/// The rows of the Markdown table under `## {heading}`, as trimmed cells (header and rule
/// rows left out).
fn table(heading: &str) -> Vec<Vec<String>> {
    let start = DOC
        .find(&format!("## {heading}\n"))
        .unwrap_or_else(|| panic!("docs/permissions.md has no section `{heading}`"));
    let section = &DOC[start..];
    let end = section[3..].find("\n## ").map_or(section.len(), |e| e + 3);
    section[..end]
        .lines()
        .filter(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

fn list(cell: &str) -> Vec<&str> {
    cell.split(',').map(str::trim).collect()
}

/// A ticket in `state`, led by unit 1 with unit 2 helping.
fn ticket(state: TicketState) -> Ticket {
    let received: EventKind = serde_json::from_value(serde_json::json!({
        "type": "received", "number": "XN1", "tracking_code": "T", "channel": "phone",
        "channel_detail": null, "kind": "complaint", "title": "t", "content": "c",
        "citizen": {"name": null, "phone": null}, "confidential": false, "address": null,
        "category_code": null, "division_code": null
    }))
    .expect("a received event");
    let event = Event {
        ticket_id: 1,
        seq: 1,
        at: chrono::Utc::now(),
        actor: actor(Role::Operator, None),
        kind: received,
    };
    let mut t = apply(None, &event).expect("a ticket");
    t.state = state;
    t.lead_unit_id = Some(1);
    t.co_unit_ids = vec![2];
    t
}

fn actor(role: Role, unit_id: Option<i64>) -> Actor {
    Actor {
        user_id: 9,
        role,
        unit_id,
    }
}

#[test]
fn every_action_role_and_state_is_as_the_document_says() {
    let rows = table("Ticket actions");
    for a in Action::ALL {
        assert!(
            rows.iter().any(|r| r[0] == a.as_str()),
            "{} has no row in the document",
            a.as_str()
        );
    }
    for action in Action::ALL {
        let mine: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == action.as_str()).collect();
        for role in Role::ALL {
            let row = mine.iter().find(|r| list(&r[1]).contains(&role.as_str()));
            for state in TicketState::ALL {
                // A ticket without a chain: the lead unit holds it and no reply awaits a
                // level's review (the chain has its own section). Community 6's grid worker
                // reported it on patrol.
                let mut t = ticket(*state);
                t.reported_by_unit_id = Some(6);
                let (states, scope) = match row {
                    Some(r) if r[2] == "all" => (
                        TicketState::ALL
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>(),
                        r[3].as_str(),
                    ),
                    Some(r) => (list(&r[2]), r[3].as_str()),
                    None => (Vec::new(), "lead"),
                };
                let in_state = states.contains(&state.as_str());
                // Which of the lead unit (1), a co-unit (2), an unrelated unit (3) and the
                // reporting community (6) are in the scope on such a ticket.
                let (lead_ok, co_ok, reporter_ok) = match scope {
                    "lead" | "holder" => (true, false, false),
                    "lead or co" => (true, true, false),
                    "involved" => (true, true, true),
                    "reporter" => (false, false, true),
                    "reviewer" | "summoned" => (false, false, false),
                    other => panic!("unit column `{other}`"),
                };
                let units: &[(Option<i64>, bool)] = if role.bound_to_unit() {
                    &[
                        (Some(1), lead_ok),
                        (Some(2), co_ok),
                        (Some(3), false),
                        (Some(6), reporter_ok),
                    ]
                } else {
                    &[(None, true)]
                };
                for (unit, unit_ok) in units {
                    let mut expected = row.is_some() && in_state && *unit_ok;
                    // The lead unit signs a dispatched ticket only (in progress, `sign` is a
                    // level below signing).
                    if action == Action::Sign && *state != TicketState::Dispatched {
                        expected = false;
                    }
                    let got = authorize(&t, &actor(*role, *unit), action).is_ok();
                    assert_eq!(
                        got,
                        expected,
                        "{} by {} (unit {unit:?}) in {}",
                        action.as_str(),
                        role.as_str(),
                        state.as_str()
                    );
                }
            }
        }
    }
}

/// The chain section's example: led by unit 1 (2 helping), forwarded by 1 to 4 (signed) and
/// by 4 to 5, whose part stands as `part` says.
fn chained(part: &str) -> Ticket {
    let mut t = ticket(TicketState::InProgress);
    let mut seq = t.version;
    let mut step = |t: Ticket, unit: i64, kind: serde_json::Value| -> Ticket {
        seq += 1;
        let event = Event {
            ticket_id: 1,
            seq,
            at: chrono::Utc::now(),
            actor: actor(Role::UnitHandler, Some(unit)),
            kind: serde_json::from_value(kind).expect("an event"),
        };
        apply(Some(t), &event).expect("applied")
    };
    use serde_json::json;
    t = step(
        t,
        1,
        json!({"type": "forwarded", "unit_id": 4, "from_unit_id": 1, "level": 1, "due_at": null, "note": null}),
    );
    t = step(
        t,
        4,
        json!({"type": "assignment_signed", "unit_id": 4, "note": null}),
    );
    t = step(
        t,
        4,
        json!({"type": "forwarded", "unit_id": 5, "from_unit_id": 4, "level": 2, "due_at": null, "note": null}),
    );
    match part {
        "forwarded" => {}
        "signed" => {
            t = step(
                t,
                5,
                json!({"type": "assignment_signed", "unit_id": 5, "note": null}),
            )
        }
        "replied" => {
            t = step(
                t,
                5,
                json!({"type": "assignment_signed", "unit_id": 5, "note": null}),
            );
            t = step(
                t,
                5,
                json!({"type": "level_replied", "unit_id": 5, "content": "已处理"}),
            );
        }
        "return_requested" => {
            t = step(
                t,
                5,
                json!({"type": "assignment_signed", "unit_id": 5, "note": null}),
            );
            t = step(
                t,
                5,
                json!({"type": "level_return_requested", "unit_id": 5, "reason": "不在本社区"}),
            );
        }
        other => panic!("unit 5's part `{other}`"),
    }
    t
}

#[test]
fn every_level_of_the_chain_is_as_the_document_says() {
    let header: Vec<String> = {
        let start = DOC
            .find("## The chain below the lead unit\n")
            .expect("the chain section");
        DOC[start..]
            .lines()
            .find(|l| l.starts_with("| unit 5"))
            .expect("the chain table")
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().to_string())
            .collect()
    };
    let rows = table("The chain below the lead unit");
    assert_eq!(
        rows.len(),
        4,
        "forwarded, signed, replied, return_requested"
    );
    for row in &rows {
        let t = chained(&row[0]);
        for (i, name) in header.iter().enumerate().skip(1) {
            let action = Action::parse(name).unwrap_or_else(|| panic!("unknown action {name}"));
            let allowed: Vec<i64> = if row[i] == "-" {
                Vec::new()
            } else {
                list(&row[i]).iter().map(|u| u.parse().unwrap()).collect()
            };
            for unit in 1..=5 {
                let got = authorize(&t, &actor(Role::UnitHandler, Some(unit)), action).is_ok();
                assert_eq!(
                    got,
                    allowed.contains(&unit),
                    "{name} by unit {unit} while unit 5's part is {}",
                    row[0]
                );
            }
        }
    }
    // What the ticket waits for from each unit (its desk's queue), written out by hand:
    // units 1 (lead), 2 (co), 3 (unrelated), 4 (level 1), 5 (level 2).
    for (part, queues) in [
        (
            "forwarded",
            ["below", "in_hand", "none", "below", "to_sign"],
        ),
        ("signed", ["below", "in_hand", "none", "below", "in_hand"]),
        ("replied", ["below", "in_hand", "none", "to_review", "none"]),
        (
            "return_requested",
            ["below", "in_hand", "none", "to_review", "none"],
        ),
    ] {
        let t = chained(part);
        for (unit, queue) in (1..=5).zip(queues) {
            assert_eq!(
                t.queue_of(unit).as_str(),
                queue,
                "unit {unit} when 5 is {part}"
            );
        }
    }
    // A co-unit called to the spot owes its answer first; once it reported in, it helps again.
    let mut t = chained("signed");
    t.summons.push(mashangban_domain::Summons {
        unit_id: 2,
        by_unit_id: 5,
        reason: "请到场".into(),
        summoned_at: t.created_at,
        due_at: t.created_at,
        reported_at: None,
        report: None,
        overdue_at: None,
    });
    assert_eq!(t.queue_of(2).as_str(), "to_report_in");
    t.summons[0].reported_at = Some(t.created_at);
    assert_eq!(t.queue_of(2).as_str(), "in_hand");
    // Who sees the ticket: every unit it reached, and no other.
    let t = chained("signed");
    for unit in 1..=5 {
        assert_eq!(
            t.visible_to(&actor(Role::UnitHandler, Some(unit))),
            unit != 3,
            "unit {unit}"
        );
    }
}

#[test]
fn every_permission_and_role_is_as_the_document_says() {
    let rows = table("Permissions");
    assert_eq!(rows.len(), Permission::ALL.len(), "one row per permission");
    let header = [
        Role::Operator,
        Role::Dispatcher,
        Role::UnitHandler,
        Role::GridWorker,
        Role::CallbackAgent,
        Role::Supervisor,
        Role::Analyst,
        Role::Admin,
    ];
    assert_eq!(header.len(), Role::ALL.len());
    for row in &rows {
        let p = Permission::ALL
            .into_iter()
            .find(|p| p.as_str() == row[0])
            .unwrap_or_else(|| panic!("unknown permission {}", row[0]));
        for (i, role) in header.iter().enumerate() {
            let expected = match row[i + 1].as_str() {
                "yes" | "own" => true,
                "-" => false,
                other => panic!("cell `{other}`"),
            };
            assert_eq!(
                permits(*role, p),
                expected,
                "{} for {}",
                p.as_str(),
                role.as_str()
            );
        }
    }
}
