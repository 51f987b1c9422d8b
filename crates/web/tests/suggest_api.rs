//! Suggestions while the operator types: the category from the trained classifier (with
//! the words that decided), the place from the address, the owner by the dispatch
//! catalogue with its rule, the tier, the caller's recent tickets and the emergency flag.
//! On SQLite and PostgreSQL.

mod common;

use common::TestApp;
use reqwest::StatusCode;
use serde_json::json;

on_both!(suggestions_for_an_intake);

async fn suggestions_for_an_intake(t: &TestApp) {
    // Without a model yet: no categories, but the place, the caller and emergencies.
    let r = t
        .post("/api/v1/suggest", "operator", json!({"title": "路灯不亮", "content": "小区门口路灯坏了", "address": "西宁市城东区东关大街街道", "phone": ""}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["categories"], json!([]));
    assert!(r.body["model"].is_null());
    assert_eq!(r.body["division"]["code"], "630102001", "{:?}", r.body);

    // Train (administrators only): no closed tickets yet, so on the categories' names.
    assert_eq!(
        t.post("/api/v1/classifier/train", "operator", json!({}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let r = t.post("/api/v1/classifier/train", "admin", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert!(
        r.body["category_names"].as_u64().unwrap() > 10,
        "{:?}",
        r.body
    );

    // The owner of street lights inside 东关大街街道 by the catalogue.
    let r = t
        .post(
            "/api/v1/catalogue",
            "admin",
            json!({"category_code": "010103", "division_code": "630102001", "unit_id": t.lead_unit, "tier": 3, "valid_from": "2020-01-01"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    t.create("之前反映过的问题").await; // phone 13812345678
    // The same problem reported by a neighbour, still open, in a community of the street.
    let r = t
        .post(
            "/api/v1/tickets",
            "operator",
            json!({"channel": "web", "kind": "complaint", "title": "路灯不亮", "content": "小区门口路灯坏了好几天，晚上很黑",
                   "citizen": {"name": "李四", "phone": "13900000001"}, "division_code": "630102001001"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let neighbour = r.body["id"].as_i64().unwrap();

    let r = t
        .post(
            "/api/v1/suggest",
            "operator",
            json!({"title": "路灯不亮", "content": "我们小区门口的路灯照明坏了好几天，晚上很黑", "address": "城东区东关大街街道", "phone": "13812345678"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let b = &r.body;
    assert_eq!(b["categories"][0]["code"], "010103", "{b}");
    assert!(
        b["categories"][0]["because"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w == "路灯" || w == "照明"),
        "{b}"
    );
    let c0 = b["categories"][0]["confidence"].as_f64().unwrap();
    let c1 = b["categories"][1]["confidence"].as_f64().unwrap();
    assert!(c0 > c1, "{b}");
    assert_eq!(b["division"]["code"], "630102001", "{b}");
    assert_eq!(b["unit"]["id"], t.lead_unit, "{b}");
    assert!(
        b["unit"]["rule"].as_str().unwrap().contains("目录条目"),
        "{b}"
    );
    assert_eq!(b["tier"], 3);
    // The operator chooses another category: the owner and tier follow it (no entry for
    // potholes here, so no owner, and the category's own tier).
    let chosen = t
        .post(
            "/api/v1/suggest",
            "operator",
            json!({"title": "路灯不亮", "content": "我们小区门口的路灯照明坏了好几天，晚上很黑",
                   "address": "城东区东关大街街道", "category_code": "010101"}),
        )
        .await
        .body;
    assert_eq!(
        chosen["categories"][0]["code"], "010103",
        "the proposals stay"
    );
    assert!(chosen["unit"].is_null(), "{chosen}");
    assert_eq!(chosen["tier"], 7, "{chosen}");
    let r = t
        .post(
            "/api/v1/suggest",
            "operator",
            json!({"content": "路灯", "category_code": "zz"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["error"]["field"], "category_code");
    assert_eq!(b["caller_history"].as_array().unwrap().len(), 1, "{b}");
    let dups = b["duplicates"].as_array().unwrap();
    assert_eq!(dups.len(), 1, "{b}");
    assert_eq!(dups[0]["id"], neighbour, "{b}");
    assert!(dups[0]["score"].as_f64().unwrap() >= 0.35, "{b}");
    assert_eq!(b["emergency"]["flag"], false);
    assert!(b["model"].as_str().unwrap().contains("tickets"), "{b}");
    // The caller's earlier ticket is about something else: not the same matter.
    assert_eq!(b["caller_history"][0]["same_matter"], false, "{b}");

    // The neighbour calls again about the lamp: the open ticket is the same matter...
    let r = t
        .post(
            "/api/v1/suggest",
            "operator",
            json!({"content": "小区门口路灯还是坏的，晚上很黑", "address": "", "phone": "13900000001"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["caller_history"][0]["id"], neighbour, "{:?}", r.body);
    assert_eq!(
        r.body["caller_history"][0]["same_matter"], true,
        "{:?}",
        r.body
    );
    // ... so the new request is received and merged into it in one call, not dispatched.
    let repeat = json!({"channel": "phone", "kind": "complaint", "content": "小区门口路灯还是坏的，晚上很黑",
                        "citizen": {"name": "李四", "phone": "13900000001"}});
    let with = |parent: serde_json::Value| {
        let mut b = repeat.clone();
        b["merge_into"] = parent;
        b
    };
    let before = t.get("/api/v1/tickets?limit=200", "dispatcher").await.body["items"]
        .as_array()
        .unwrap()
        .len();
    for (bad, why) in [
        (json!(99_999_999), "not found"),
        (json!("x"), "positive integer"),
    ] {
        let r = t.post("/api/v1/tickets", "operator", with(bad)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
        let m = r.body["error"]["message"].as_str().unwrap();
        assert!(m.contains("merge_into") && m.contains(why), "{m}");
    }
    let after = t.get("/api/v1/tickets?limit=200", "dispatcher").await.body["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after, "a refused merge writes nothing");
    let r = t
        .post("/api/v1/tickets", "operator", with(json!(neighbour)))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["state"], "merged", "{:?}", r.body);
    assert_eq!(r.body["parent_id"], neighbour, "{:?}", r.body);
    let child = r.body["id"].as_i64().unwrap();
    let parent = t
        .get(&format!("/api/v1/tickets/{neighbour}/events"), "dispatcher")
        .await
        .body;
    assert!(
        parent
            .to_string()
            .contains(&format!("\"child_id\":{child}")),
        "{parent}"
    );

    // An ambiguous place comes back as candidates; an emergency is flagged with its number.
    let r = t
        .post(
            "/api/v1/suggest",
            "operator",
            json!({"content": "城关镇楼下着火了，浓烟很大", "address": "城关镇"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert!(r.body["division"].is_null(), "{:?}", r.body);
    assert_eq!(
        r.body["division_candidates"].as_array().unwrap().len(),
        2,
        "{:?}",
        r.body
    );
    assert_eq!(r.body["emergency"]["flag"], true);
    assert_eq!(r.body["emergency"]["transfer_to"], "119");

    // A compound the divisions do not name: unknown until the gazetteer maps it.
    let ask = |address: &'static str| async move {
        t.post(
            "/api/v1/suggest",
            "operator",
            json!({"content": "楼道灯坏了", "address": address}),
        )
        .await
        .body
    };
    assert!(ask("青发小区7号楼3单元").await["division"].is_null());
    let r = t
        .raw(
            reqwest::Method::PUT,
            "/api/v1/gazetteer",
            Some("admin"),
            Some(
                json!([{"name": "青发小区", "kind": "compound", "division_code": "630102001001"}])
                    .to_string(),
            ),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let b = ask("青发小区7号楼3单元").await;
    assert_eq!(b["division"]["code"], "630102001001", "{b}");
    assert_eq!(b["division"]["matched"][0], "青发小区", "{b}");
    let r = t
        .raw(
            reqwest::Method::PUT,
            "/api/v1/gazetteer",
            Some("admin"),
            Some(
                json!([{"name": "某某广场", "kind": "square", "division_code": "630102"}])
                    .to_string(),
            ),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("[0].kind"),
        "{:?}",
        r.body
    );
    let list = t.get("/api/v1/gazetteer", "dispatcher").await.body;
    let id = list["items"][0]["id"].as_i64().unwrap();
    let r = t
        .raw(
            reqwest::Method::DELETE,
            &format!("/api/v1/gazetteer/{id}"),
            Some("admin"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(ask("青发小区7号楼3单元").await["division"].is_null());

    // Bad input is named; units do not take calls.
    let r = t
        .post("/api/v1/suggest", "operator", json!({"titel": "x"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("titel"),
        "{:?}",
        r.body
    );
    let r = t
        .post(
            "/api/v1/suggest",
            "operator",
            json!({"address": "路".repeat(300)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        t.post("/api/v1/suggest", "lead", json!({})).await.status,
        StatusCode::FORBIDDEN
    );

    // The proposal is kept beside the operator's choice, and measured.
    let take = |category: Option<&str>, suggested: &str| {
        let mut body = json!({"channel": "phone", "kind": "complaint", "content": "路灯不亮",
                              "suggested_category_code": suggested});
        if let Some(c) = category {
            body["category_code"] = json!(c);
        }
        async move {
            let r = t.post("/api/v1/tickets", "operator", body).await;
            assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
            r.body
        }
    };
    let tk = take(Some("010103"), "010103").await;
    assert_eq!(tk["suggested_category_code"], "010103", "{tk}");
    take(Some("010103"), "010103").await;
    take(Some("010101"), "010103").await;
    take(None, "010103").await;
    let r = t
        .post(
            "/api/v1/tickets",
            "operator",
            json!({"channel": "phone", "kind": "complaint", "content": "x", "suggested_category_code": "no such!"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("suggested_category_code")
    );
    let r = t.get("/api/v1/classifier/feedback", "analyst").await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let f = &r.body;
    assert_eq!(f["with_suggestion"], 4, "{f}");
    assert_eq!(f["agreed"], 2, "{f}");
    assert_eq!(f["changed"], 1, "{f}");
    assert_eq!(f["uncategorised"], 1, "{f}");
    assert!(
        (f["agreement"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9,
        "{f}"
    );
    assert_eq!(
        f["corrections"][0],
        json!({"suggested": "010103", "chosen": "010101", "count": 1})
    );
    assert!(f["tickets"].as_u64().unwrap() >= 4);
    let r = t
        .get(
            "/api/v1/classifier/feedback?from=2020-01-01&to=2020-01-31",
            "admin",
        )
        .await;
    assert_eq!(r.body["tickets"], 0, "{:?}", r.body);
    assert!(r.body["agreement"].is_null());
    for bad in [
        "from=soon",
        "to=2020-13-01",
        "from=2026-01-02&to=2026-01-01",
        "colour=red",
    ] {
        let r = t
            .get(&format!("/api/v1/classifier/feedback?{bad}"), "admin")
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {:?}",
            r.body
        );
    }
    assert_eq!(
        t.get("/api/v1/classifier/feedback", "operator")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}
