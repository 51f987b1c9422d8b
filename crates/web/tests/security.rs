//! Holes found by trying the API as an attacker and as each role would, each pinned on
//! both backends: the phone filter as an oracle, an administrator locking everyone out,
//! control characters, revocation that waited, tokens that never expired, loose JSON.

mod common;

use common::{Db, TestApp};
use mashangban_app::{App, Config};
use mashangban_store::SqlStore;
use mashangban_store::traits::*;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::sync::Arc;

async fn user_id(t: &TestApp, name: &str) -> i64 {
    let users = t.get("/api/v1/users", "admin").await;
    users.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == name)
        .unwrap_or_else(|| panic!("user {name}"))["id"]
        .as_i64()
        .unwrap()
}

/// A unit saw `139****5678` and tried the 10,000 middles through `?phone=`; an analyst
/// could confirm a confidential caller's number the same way. Only those who see phone
/// numbers may look tickets up by one.
async fn the_phone_filter_is_no_oracle(t: &TestApp) {
    let id = t.ticket_in("in_progress").await;
    let ticket = t.get(&format!("/api/v1/tickets/{id}"), "lead").await;
    assert_eq!(ticket.body["citizen"]["phone"], "138****5678");
    for who in ["lead", "analyst"] {
        let r = t.get("/api/v1/tickets?phone=13812345678", who).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{who}: {:?}", r.body);
        assert_eq!(r.body["error"]["code"], "forbidden");
        let wrong = t.get("/api/v1/tickets?phone=13800000000", who).await;
        assert_eq!(
            wrong.status,
            StatusCode::FORBIDDEN,
            "the same answer for any guess"
        );
    }
    // Those who call citizens back still find a caller's tickets.
    let r = t.get("/api/v1/tickets?phone=13812345678", "callback").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.body["items"].as_array().unwrap().is_empty());
}

/// `PATCH /api/v1/users/{id}` let an administrator disable or demote themselves (the
/// console refused it): a sole administrator locked administration out.
async fn no_administrator_locks_everyone_out(t: &TestApp) {
    let me = user_id(t, "admin").await;
    for body in [json!({"active": false}), json!({"role": "operator"})] {
        let r = t
            .raw(
                Method::PATCH,
                &format!("/api/v1/users/{me}"),
                Some("admin"),
                Some(body.to_string()),
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("their own account")
        );
    }
    let still = t.get("/api/v1/me", "admin").await;
    assert_eq!(
        (still.body["role"].as_str(), still.body["active"].as_bool()),
        (Some("admin"), Some(true))
    );
    // Two administrators disabling each other at once: one of them stays.
    let second = t
        .post(
            "/api/v1/users",
            "admin",
            json!({"username": "admin2", "role": "admin"}),
        )
        .await;
    assert_eq!(second.status, StatusCode::CREATED);
    let token2 = t
        .app
        .issue_token(&mashangban_app::SERVER, "admin2", "test", 1)
        .await
        .unwrap();
    let (a1, a2) = (me, second.body["id"].as_i64().unwrap());
    let disable = |token: String, whom: i64| {
        let c = t.client.clone();
        let url = format!("{}/api/v1/users/{whom}", t.base);
        async move {
            c.patch(url)
                .bearer_auth(token)
                .json(&json!({"active": false}))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let (s1, s2) = tokio::join!(disable(t.tokens["admin"].clone(), a2), disable(token2, a1));
    assert!(
        !(s1 == StatusCode::OK && s2 == StatusCode::OK),
        "both administrators were disabled: {s1} {s2}"
    );
    let store = SqlStore::connect(&t.url).await.unwrap();
    let active_admins = store
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .filter(|u| u.active && u.role == mashangban_domain::Role::Admin)
        .count();
    assert_eq!(active_admins, 1);
}

/// PostgreSQL answered 500 to a zero byte in a login name, a filter, a suggestion or an
/// administrator's write (SQLite took it). Refused at the input layer on both.
async fn control_characters_are_refused(t: &TestApp) {
    let login = t
        .raw(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "op\u{0}erator", "password": "x"}).to_string()),
            &[],
        )
        .await;
    assert_eq!(
        login.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        login.body
    );
    assert_eq!(login.body["error"]["field"], "username");
    let filter = t.get("/api/v1/tickets?category=01%00", "dispatcher").await;
    assert_eq!(filter.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(filter.body["error"]["field"], "category");
    let suggest = t
        .post(
            "/api/v1/suggest",
            "operator",
            json!({"content": "路灯\u{0}不亮"}),
        )
        .await;
    assert_eq!(suggest.status, StatusCode::UNPROCESSABLE_ENTITY);
    let category = t
        .post(
            "/api/v1/categories",
            "admin",
            json!({"code": "98", "name": "测试\u{1b}[2J"}),
        )
        .await;
    assert_eq!(category.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(category.body["error"]["field"], "name");
    let hooks = t
        .raw(
            Method::PUT,
            "/api/v1/webhooks",
            Some("admin"),
            Some(
                json!([{"name": "x", "url": "http://127.0.0.1:9/\u{0}", "events": []}]).to_string(),
            ),
            &[],
        )
        .await;
    assert_eq!(hooks.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(hooks.body["error"]["field"], "body[0].url");
    // Text keeps its tabs and line breaks.
    let r = t
        .post(
            "/api/v1/tickets",
            "operator",
            json!({"channel": "phone", "kind": "complaint", "content": "第一行\n第二行\t完"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    // Nothing was written by the refused requests.
    let categories = t.get("/api/v1/categories", "admin").await;
    assert!(
        !categories.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["code"] == "98")
    );
}

/// A revoked token and a disabled user kept working for 15 s on another instance.
async fn revocation_takes_effect_at_once_everywhere(t: &TestApp) {
    let store = SqlStore::connect(&t.url).await.unwrap();
    let other = App::new(Arc::new(store), Config::default());
    let token = t.tokens["operator"].clone();
    other.authenticate(&token).await.expect("valid at first");
    let out = t
        .raw(
            Method::POST,
            "/api/v1/auth/logout",
            Some("operator"),
            None,
            &[],
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(
        other.authenticate(&token).await.is_err(),
        "the other instance refuses a revoked token at once"
    );
    let callback = t.tokens["callback"].clone();
    other.authenticate(&callback).await.expect("valid at first");
    let id = user_id(t, "callback").await;
    let r = t
        .raw(
            Method::PATCH,
            &format!("/api/v1/users/{id}"),
            Some("admin"),
            Some(json!({"active": false}).to_string()),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        other.authenticate(&callback).await.is_err(),
        "the other instance refuses a disabled user at once"
    );
}

/// Tokens issued from the command line never expired.
async fn command_line_tokens_expire(t: &TestApp) {
    let tokens = t.app.tokens(&mashangban_app::SERVER, None).await.unwrap();
    assert!(!tokens.is_empty());
    for tk in &tokens {
        let left = tk.expires_at.expect("every token expires") - chrono::Utc::now();
        assert!(left <= chrono::Duration::days(1), "{left}");
    }
    let refused = t
        .app
        .issue_token(&mashangban_app::SERVER, "dispatcher", "too long", 3651)
        .await;
    assert!(refused.is_err());
}

/// Duplicate keys were read as the last one; bodies of any content type were taken.
async fn only_strict_json_is_read(t: &TestApp) {
    let dup = t
        .raw(
            Method::POST,
            "/api/v1/tickets",
            Some("operator"),
            Some(
                r#"{"channel": "phone", "kind": "complaint", "content": "a", "content": "b"}"#
                    .into(),
            ),
            &[],
        )
        .await;
    assert_eq!(dup.status, StatusCode::BAD_REQUEST, "{:?}", dup.body);
    assert_eq!(dup.body["error"]["code"], "malformed_json");
    let r = t
        .client
        .post(format!("{}/api/v1/tickets", t.base))
        .bearer_auth(&t.tokens["operator"])
        .header("content-type", "text/plain")
        .body(json!({"channel": "phone", "kind": "complaint", "content": "a"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unsupported_media_type");
}

/// `PUT /api/v1/policy/deadlines` without `extension_cutoff` was taken, and the policy
/// then broke its own response schema.
async fn a_policy_is_replaced_whole(t: &TestApp) {
    let mut policy = t.get("/api/v1/policy/deadlines", "admin").await.body;
    policy.as_object_mut().unwrap().remove("extension_cutoff");
    let r = t
        .raw(
            Method::PUT,
            "/api/v1/policy/deadlines",
            Some("admin"),
            Some(policy.to_string()),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert_eq!(r.body["error"]["field"], "extension_cutoff");
}

/// Non-numeric ids on `/knowledge/{id}`, `/catalogue/{id}`, `/gazetteer/{id}` answered plain
/// text; an over-long request target got the HTTP server's bare answer.
async fn every_error_has_the_one_shape(t: &TestApp) {
    for (method, path) in [
        (Method::GET, "/api/v1/knowledge/abc"),
        (Method::PUT, "/api/v1/catalogue/abc"),
        (Method::DELETE, "/api/v1/gazetteer/abc"),
        (Method::GET, "/api/v1/knowledge/99999999999999999999"),
    ] {
        let body = (method == Method::PUT).then(|| "{}".to_string());
        let r = t.raw(method.clone(), path, Some("admin"), body, &[]).await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {:?}",
            r.body
        );
        assert_eq!(r.body["error"]["code"], "not_found", "{method} {path}");
        assert!(r.body["error"]["message"].is_string());
    }
    let long = format!("/api/v1/tickets?category={}", "1".repeat(9000));
    let r = t.get(&long, "dispatcher").await;
    assert_eq!(r.status, StatusCode::URI_TOO_LONG);
    assert_eq!(r.body["error"]["code"], "uri_too_long");
    let r = t
        .raw(Method::PATCH, "/api/v1/tickets", Some("admin"), None, &[])
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.body["error"]["code"], "method_not_allowed");
}

async fn all(db: Db, name: &str) {
    let Some(t) = TestApp::start(db, name).await else {
        return;
    };
    the_phone_filter_is_no_oracle(&t).await;
    control_characters_are_refused(&t).await;
    command_line_tokens_expire(&t).await;
    only_strict_json_is_read(&t).await;
    a_policy_is_replaced_whole(&t).await;
    every_error_has_the_one_shape(&t).await;
    revocation_takes_effect_at_once_everywhere(&t).await;
    // Last: one of the administrators ends disabled.
    no_administrator_locks_everyone_out(&t).await;
}

#[tokio::test]
async fn holes_stay_closed_on_sqlite() {
    all(Db::Sqlite, "security_sqlite").await;
}

#[tokio::test]
async fn holes_stay_closed_on_postgres() {
    all(Db::Postgres, "security_postgres").await;
}
