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
    assert_eq!(
        rows.len(),
        Action::ALL.len(),
        "one row per action in the document"
    );
    for row in &rows {
        let action = Action::parse(&row[0]).unwrap_or_else(|| panic!("unknown action {}", row[0]));
        let roles = list(&row[1]);
        let states: Vec<&str> = if row[2] == "all" {
            TicketState::ALL.iter().map(|s| s.as_str()).collect()
        } else {
            list(&row[2])
        };
        let co_too = match row[3].as_str() {
            "lead" => false,
            "lead or co" => true,
            other => panic!("unit column `{other}`"),
        };
        for role in Role::ALL {
            for state in TicketState::ALL {
                let t = ticket(*state);
                let expected = roles.contains(&role.as_str()) && states.contains(&state.as_str());
                // A unit handler of the lead unit, of a co-unit, of an unrelated unit.
                let units: &[(Option<i64>, bool)] = if *role == Role::UnitHandler {
                    &[(Some(1), true), (Some(2), co_too), (Some(3), false)]
                } else {
                    &[(None, true)]
                };
                for (unit, unit_ok) in units {
                    let got = authorize(&t, &actor(*role, *unit), action).is_ok();
                    assert_eq!(
                        got,
                        expected && *unit_ok,
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

#[test]
fn every_permission_and_role_is_as_the_document_says() {
    let rows = table("Permissions");
    assert_eq!(rows.len(), Permission::ALL.len(), "one row per permission");
    let header = [
        Role::Operator,
        Role::Dispatcher,
        Role::UnitHandler,
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
