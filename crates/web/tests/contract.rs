//! The OpenAPI document against the router: every route the server serves is documented,
//! and every documented operation is served.

mod common;

use mashangban_domain::Action;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// Routes and their documentation are declared together (each handler's `#[utoipa::path]`,
/// served by `routes!`), so the router cannot serve an undocumented route; this proves the
/// other half from outside: every documented operation is answered by the real server on
/// its path and method (never the fallback's "no such endpoint", never 405), and every
/// action of the domain's table has its path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_operation_is_served() {
    let t = common::TestApp::start(common::Db::Sqlite, "contract_routes")
        .await
        .unwrap();
    let doc = mashangban_web::openapi::document();
    let mut operations = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        // Placeholders filled with values of the right shape.
        let concrete = path
            .replace("{id}", "1")
            .replace("{code}", "63")
            .replace("{date}", "2026-10-01")
            .replace("{year}", "2026")
            .replace("{number}", "XN20261206000001")
            .replace("{month}", "2025-01")
            .replace("{step}", "close");
        assert!(
            !concrete.contains('{'),
            "{path}: a parameter the test cannot fill"
        );
        for method in ops.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            // No token: the router must still take the request to a handler.
            let r = t.raw(method.clone(), &concrete, None, None, &[]).await;
            assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(
                !r.body.to_string().contains("no such endpoint"),
                "{method} {path} is documented but not served: {}",
                r.body
            );
            operations += 1;
        }
    }
    // 125 operations besides the actions, and the 33 actions one path each.
    assert_eq!(Action::ALL.len(), 33);
    assert_eq!(operations, 125 + 33);
    for a in Action::ALL {
        assert!(
            doc["paths"][format!("/api/v1/tickets/{{id}}/{}", a.as_str())]["post"].is_object(),
            "{a:?}"
        );
    }
    assert_eq!(
        mashangban_web::ACTION_ROUTE,
        "/api/v1/tickets/{id}/{action}"
    );
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
