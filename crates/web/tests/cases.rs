//! Typical cases (典型案例) over HTTP on both backends: a closed ticket marked by a
//! supervisor is drafted without personal data, revised, submitted, approved by a leader,
//! published on the portal and in its Atom feed, its unit told; taken down, it is gone from
//! the portal and its history stays. And the anonymiser editors use.

mod common;

use common::{TestApp, enc};
use reqwest::StatusCode;
use serde_json::json;

on_both!(
    a_closed_ticket_becomes_a_published_case_without_personal_data,
    the_anonymiser_answers_what_it_took_out
);

async fn page(t: &TestApp, path: &str) -> (StatusCode, String, String) {
    let r = t
        .client
        .get(format!("{}{path}", t.base))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let kind = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, kind, r.text().await.unwrap())
}

async fn a_closed_ticket_becomes_a_published_case_without_personal_data(t: &TestApp) {
    let id = t
        .create("我叫张三，电话13812345678，东关大街清真巷16号门口的路灯坏了一个月，晚上很黑")
        .await;
    t.bring_to(id, "closed").await;

    // Only editors mark cases; a ticket still open is refused.
    for who in ["operator", "lead", "analyst", "admin"] {
        let r = t.post("/api/v1/cases", who, json!({"ticket_id": id})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{who}: {:?}", r.body);
    }
    let open = t.create("另一盏路灯也坏了").await;
    let r = t
        .post("/api/v1/cases", "supervisor", json!({"ticket_id": open}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);

    let r = t
        .post("/api/v1/cases", "supervisor", json!({"ticket_id": id}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let case = r.body;
    let case_id = case["id"].as_i64().unwrap();
    assert_eq!(case["state"], "draft");
    let request = case["request"].as_str().unwrap();
    assert_eq!(
        request,
        "我叫某某，电话[电话]，东关大街清真巷[门牌号]门口的路灯坏了一个月，晚上很黑"
    );
    let removed: Vec<(String, String)> = case["removed"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["field"] == "request")
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_string(),
                r["original"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        removed,
        vec![
            ("name".to_string(), "张三".to_string()),
            ("phone".to_string(), "13812345678".to_string()),
            ("house".to_string(), "16号".to_string()),
        ]
    );
    // The case is filed under the ticket's street, not its community.
    assert_eq!(case["division_code"], "630102001");
    // One case a ticket.
    let again = t
        .post("/api/v1/cases", "supervisor", json!({"ticket_id": id}))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.body["error"]["code"], "case_exists");

    // Not on the portal before it is approved.
    assert_eq!(
        t.get_anonymous(&format!("/api/v1/public/cases/{case_id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // The editor revises; a stale version is refused.
    let revision = json!({"version": 1, "title": "路灯坏了一个月，三天修好",
        "request": "市民反映东关大街清真巷路灯损坏一个月。",
        "handling": "街道办当天联系城管局更换灯具。", "result": "已修复，市民满意。"});
    let r = t
        .put(
            &format!("/api/v1/cases/{case_id}"),
            "supervisor",
            revision.clone(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["version"], 2);
    let r = t
        .put(&format!("/api/v1/cases/{case_id}"), "supervisor", revision)
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    // Submitted by the editor, approved by the leader (not the other way round).
    let step = |name: &str| format!("/api/v1/cases/{case_id}/{name}");
    let r = t
        .post(&step("approve"), "supervisor", json!({"version": 2}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = t
        .post(&step("submit"), "supervisor", json!({"version": 2}))
        .await;
    assert_eq!(r.body["state"], "submitted", "{:?}", r.body);
    let r = t
        .post(&step("submit"), "analyst", json!({"version": 3}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = t
        .post(&step("approve"), "analyst", json!({"version": 3}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["state"], "published");

    // On the portal: the API, the list, the page and the feed; nothing personal.
    let r = t
        .get_anonymous(&format!("/api/v1/public/cases/{case_id}"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["title"], "路灯坏了一个月，三天修好");
    assert!(r.body.get("removed").is_none() && r.body.get("ticket_id").is_none());
    let r = t.get_anonymous("/api/v1/public/cases").await;
    assert_eq!(r.body["total"], 1);
    let (status, _, html) = page(t, &format!("/public/cases/{case_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("街道办当天联系城管局更换灯具"));
    for personal in ["张三", "13812345678", "16号"] {
        assert!(!html.contains(personal), "{personal} on the portal");
    }
    let (status, kind, feed) = page(t, "/public/cases.atom").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kind, "application/atom+xml; charset=utf-8");
    assert_eq!(feed.matches("<entry>").count(), 1, "{feed}");
    assert!(
        feed.contains(&format!("/public/cases/{case_id}</id>")),
        "{feed}"
    );
    // A search finds the published words, never what the drafting took out.
    let found = |q: &str| format!("/api/v1/public/cases?q={}", enc(q));
    assert_eq!(t.get_anonymous(&found("城管局")).await.body["total"], 1);
    assert_eq!(t.get_anonymous(&found("张三")).await.body["total"], 0);
    assert_eq!(
        t.get_anonymous(&found("13812345678")).await.body["total"],
        0
    );
    // The unit that handled it is told.
    let notices = t.get("/api/v1/notices", "lead").await;
    assert!(
        notices.body.to_string().contains("已作为典型案例发布"),
        "{}",
        notices.body
    );

    // Taken down with a reason: gone from the portal, the history stays.
    let r = t
        .post(&step("unpublish"), "analyst", json!({"version": 4}))
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a reason is needed"
    );
    let r = t
        .post(
            &step("unpublish"),
            "supervisor",
            json!({"version": 4, "note": "当事人要求撤下"}),
        )
        .await;
    assert_eq!(r.body["state"], "unpublished", "{:?}", r.body);
    assert_eq!(
        t.get_anonymous(&format!("/api/v1/public/cases/{case_id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let (status, _, _) = page(t, &format!("/public/cases/{case_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let detail = t.get(&format!("/api/v1/cases/{case_id}"), "analyst").await;
    let states: Vec<&str> = detail.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["after"]["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        vec!["unpublished", "published", "submitted", "draft", "draft"]
    );
    assert_eq!(
        t.get("/api/v1/cases?state=unpublished", "supervisor")
            .await
            .body["total"],
        1
    );
}

async fn the_anonymiser_answers_what_it_took_out(t: &TestApp) {
    let r = t
        .post(
            "/api/v1/anonymise",
            "lead",
            json!({"text": "来电人王芳（身份证630102198506123411）反映青A12345占道"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        r.body,
        json!({"text": "来电人某某（身份证[身份证号]）反映[车牌号]占道",
        "removed": [
            {"kind": "name", "original": "王芳", "replacement": "某某", "at": 3},
            {"kind": "id_card", "original": "630102198506123411", "replacement": "[身份证号]", "at": 9},
            {"kind": "plate", "original": "青A12345", "replacement": "[车牌号]", "at": 30}
        ]})
    );
    let r = t
        .post(
            "/api/v1/anonymise",
            "lead",
            json!({"text": "x".repeat(20_001)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["error"]["field"], "text");
    let r = t
        .post_anonymous("/api/v1/anonymise", json!({"text": "王芳"}))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}
