//! The OpenAPI document against the router: every route the server serves is documented,
//! and every documented operation is served.

mod common;

use mashangban_domain::Action;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::collections::BTreeSet;

#[test]
fn every_route_is_documented_and_every_documented_route_exists() {
    let doc = mashangban_web::openapi::document();
    let mut documented = BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            // Each action has its own documented path; the router serves them on one.
            let action = path
                .strip_prefix("/api/v1/tickets/{id}/")
                .and_then(Action::parse);
            let served = if action.is_some() {
                "/api/v1/tickets/{id}/{action}".to_string()
            } else {
                path.clone()
            };
            documented.insert((method.to_uppercase(), served));
        }
    }
    let served: BTreeSet<(String, String)> = mashangban_web::API_ROUTES
        .iter()
        .map(|(m, p)| (m.to_uppercase(), p.to_string()))
        .collect();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let missing: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty() && missing.is_empty(),
        "served but not documented: {undocumented:?}\ndocumented but not served: {missing:?}"
    );
    // And every action is documented.
    for a in Action::ALL {
        assert!(
            doc["paths"][format!("/api/v1/tickets/{{id}}/{}", a.as_str())]["post"].is_object(),
            "{a:?}"
        );
    }
}

/// The schema of a ticket is the ticket's own: every field the API sends is described
/// (the hand-written one lacked `supervision`, `alerts`, `bad_callbacks`,
/// `suggested_category_code`, `created_by`, …).
#[test]
fn the_ticket_schema_has_every_field_a_ticket_has() {
    let doc = mashangban_web::openapi::document();
    let schema = &doc["components"]["schemas"]["Ticket"]["properties"];
    for field in [
        "id",
        "number",
        "tracking_code",
        "state",
        "citizen",
        "supervision",
        "alerts",
        "bad_callbacks",
        "suggested_category_code",
        "created_by",
        "extensions_approved",
        "version",
    ] {
        assert!(schema[field].is_object(), "Ticket.{field} is not described");
    }
    let event = &doc["components"]["schemas"]["Event"];
    assert!(event.is_object());
    assert!(doc["components"]["schemas"]["Error"].is_object());
}

/// The check every API test's answers go through refuses a body its schema does not
/// describe, and a status the operation does not list.
#[test]
#[should_panic(expected = "a body the document does not describe")]
fn answers_are_checked_against_the_document() {
    common::contract::check(
        &Method::GET,
        "/api/v1/me",
        StatusCode::OK,
        Some(&json!({"id": "not a number", "username": 7})),
    );
}

#[test]
#[should_panic(expected = "which the document does not list")]
fn undocumented_statuses_are_refused() {
    common::contract::check(&Method::GET, "/api/v1/me", StatusCode::IM_A_TEAPOT, None);
}

#[test]
fn a_described_answer_passes() {
    common::contract::check(
        &Method::GET,
        "/api/v1/tickets/7/events",
        StatusCode::NOT_FOUND,
        Some(&json!({"error": {"code": "not_found", "message": "ticket 7 not found"}})),
    );
}
