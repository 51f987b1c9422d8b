//! The place and category the evaluation rests on, over HTTP on both backends: a request
//! whose address names a community is placed there as it is received; one whose address
//! fits two places keeps both as candidates, and the dispatcher relocates it and corrects
//! its category; its request counts under the corrected district and category at once, and
//! a rebuild of the aggregates agrees; who may correct, and what is refused.

mod common;

use common::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both!(
    a_named_community_is_the_place_at_once,
    a_request_counts_where_it_belongs_once_corrected,
    the_classifier_learns_the_corrected_category
);

/// The classifier is trained on the category tickets end with: a dispatcher's correction is
/// what it learns, not what the operator first chose.
async fn the_classifier_learns_the_corrected_category(t: &TestApp) {
    let words = "小区北门的石墩子被货车撞歪挡住人行道";
    for i in 0..3 {
        let r = t
            .post(
                "/api/v1/tickets",
                "operator",
                json!({"channel": "phone", "kind": "complaint", "title": format!("石墩子撞歪{i}"),
                       "content": words, "category_code": "010403"}),
            )
            .await;
        let id = r.body["id"].as_i64().unwrap();
        // Corrected once the unit's reply is in, before the callback closes it.
        t.bring_to(id, "awaiting_callback").await;
        t.act(
            id,
            "recategorise",
            "dispatcher",
            json!({"category_code": "010101", "reason": "实为道路设施损坏"}),
        )
        .await;
        t.act(
            id,
            "record-callback",
            "callback",
            json!({"contacted": true, "resolution": "resolved", "satisfaction": "satisfied"}),
        )
        .await;
    }
    let r = t.post("/api/v1/classifier/train", "admin", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["tickets"], 3, "{}", r.body);
    let s = t
        .post(
            "/api/v1/suggest",
            "operator",
            json!({"title": "石墩子撞歪", "content": words}),
        )
        .await;
    assert_eq!(s.body["categories"][0]["code"], "010101", "{}", s.body);
}

async fn a_named_community_is_the_place_at_once(t: &TestApp) {
    let r = t
        .post(
            "/api/v1/tickets",
            "operator",
            json!({"channel": "phone", "kind": "complaint", "content": "楼下下水道返水",
                   "address": "东关大街北关社区4号楼"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["division_code"], "630102001001");
    assert_eq!(r.body["place"]["how"], "address");
    assert!(r.body["place"]["confidence"].as_f64().unwrap() >= 0.7);
    // No address: the words of the request.
    let r = t
        .post(
            "/api/v1/tickets",
            "operator",
            json!({"channel": "wechat", "kind": "complaint", "content": "城东区东关大街街道北关社区的路灯坏了"}),
        )
        .await;
    assert_eq!(r.body["division_code"], "630102001001", "{}", r.body);
    assert_eq!(r.body["place"]["how"], "content");
    // Named by the operator: kept as given.
    let r = t
        .post(
            "/api/v1/tickets",
            "operator",
            json!({"channel": "phone", "kind": "complaint", "content": "路灯坏了",
                   "address": "东关大街北关社区4号楼", "division_code": "630102001004"}),
        )
        .await;
    assert_eq!(r.body["division_code"], "630102001004");
    assert_eq!(r.body["place"]["how"], "given");
    // A patrol report is placed the same way (every channel goes through one intake).
    let grid = t
        .signed_in("grid-bg", "grid_worker", Some(t.below_unit))
        .await;
    let r = t
        .send(
            reqwest::Method::POST,
            "/api/v1/patrol-reports",
            Some(&grid),
            Some(
                json!({"kind": "help", "content": "井盖缺失", "address": "东关大街北关社区6号楼"})
                    .to_string(),
            ),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["division_code"], "630102001001");
    // Words that fit two places: the grid worker's own community, where they patrol.
    let community = t.get("/api/v1/units", "admin").await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == t.below_unit)
        .unwrap()["division_code"]
        .clone();
    assert!(community.is_string(), "{community}");
    let r = t
        .send(
            reqwest::Method::POST,
            "/api/v1/patrol-reports",
            Some(&grid),
            Some(
                json!({"kind": "help", "content": "化粪池满溢", "address": "贾小42号楼"})
                    .to_string(),
            ),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["division_code"], community);
    assert_eq!(r.body["place"]["how"], "reporter");
    assert_eq!(r.body["place"]["candidates"].as_array().unwrap().len(), 2);
}

/// The requests of `group` in today's table grouped by `by` (0 without a row).
async fn requests(t: &TestApp, by: &str, group: &str) -> u64 {
    let today = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive();
    let r = t
        .get(
            &format!("/api/v1/kpis?from={today}&to={today}&group_by={by}"),
            "analyst",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["group"] == group)
        .map_or(0, |row| row["counts"]["requests"].as_u64().unwrap())
}

fn events(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

async fn a_request_counts_where_it_belongs_once_corrected(t: &TestApp) {
    // Taken with an address that fits two places, in the wrong category: no place, the
    // candidates kept for the dispatcher.
    let r = t
        .post(
            "/api/v1/tickets",
            "operator",
            json!({"channel": "phone", "kind": "complaint", "content": "化粪池满溢，下水返水",
                   "address": "贾小42号楼", "category_code": "010101"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(r.body["division_code"].is_null(), "{}", r.body);
    assert_eq!(r.body["place"]["how"], "unresolved");
    let candidates: Vec<&str> = r.body["place"]["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(
        candidates.contains(&"630104001003") && candidates.contains(&"630103007204"),
        "{candidates:?}"
    );
    let id = r.body["id"].as_i64().unwrap();
    let chengxi = requests(t, "district", "630104").await;
    let sewer_before = requests(t, "category", "010403").await;
    let road_before = requests(t, "category", "010101").await;

    // Who may correct: the dispatcher and the supervisor, not the operator or a unit.
    let path = |a: &str| format!("/api/v1/tickets/{id}/{a}");
    let body = json!({"division_code": "630104001003", "reason": "市民确认在城西区贾小社区"});
    for who in ["operator", "lead", "analyst", "callback"] {
        assert_eq!(
            t.post(&path("relocate"), who, body.clone()).await.status,
            StatusCode::FORBIDDEN,
            "{who}"
        );
    }
    // What is refused, naming the field, and writes nothing.
    for (bad, field) in [
        (
            json!({"division_code": "999999", "reason": "x"}),
            "division_code",
        ),
        (json!({"division_code": "630104001003"}), "reason"),
        (
            json!({"division_code": "630104001003", "reason": "x", "note": "y"}),
            "note",
        ),
    ] {
        let r = t.post(&path("relocate"), "dispatcher", bad).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(r.body["error"]["field"], field, "{}", r.body);
    }
    // A category is a leaf of the taxonomy that exists.
    for code in ["01", "zz", "999999"] {
        let r = t
            .post(
                &path("recategorise"),
                "dispatcher",
                json!({"category_code": code, "reason": "x"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(r.body["error"]["field"], "category_code");
    }

    let r = t.post(&path("relocate"), "dispatcher", body.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["ticket"]["division_code"], "630104001003");
    assert_eq!(r.body["ticket"]["place"]["how"], "corrected");
    // The same place again is not a correction.
    let r = t.post(&path("relocate"), "dispatcher", body).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = t
        .post(
            &path("recategorise"),
            "supervisor",
            json!({"category_code": "010403", "reason": "市民反映的是下水道返水"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["ticket"]["category_code"], "010403");

    // The request counts in 城西区 and under the sewer category now.
    assert_eq!(requests(t, "district", "630104").await, chengxi + 1);
    assert_eq!(requests(t, "category", "010403").await, sewer_before + 1);
    let road_now = requests(t, "category", "010101").await;
    assert_eq!(road_now + 1, road_before);
    // The timeline has the corrections, with who made them.
    let ev = t
        .get(&format!("/api/v1/tickets/{id}/events"), "dispatcher")
        .await
        .body;
    assert_eq!(
        events(&ev),
        ["received", "relocated", "recategorised"],
        "refusals wrote nothing"
    );
    let last = ev["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["type"], "recategorised");
    assert_eq!(last["from"], "010101");
    assert_eq!(last["to"], "010403");
    assert_eq!(last["actor"]["role"], "supervisor");

    // A rebuild from the events agrees with the figures kept as they came.
    let districts = requests(t, "district", "630104").await;
    let sewer = requests(t, "category", "010403").await;
    let r = t
        .post("/api/v1/aggregates/rebuild", "admin", json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(requests(t, "district", "630104").await, districts);
    assert_eq!(requests(t, "category", "010403").await, sewer);
    assert_eq!(requests(t, "category", "010101").await, road_now);

    // A finished ticket is not corrected.
    let closed = t.ticket_in("closed").await;
    let r = t
        .post(
            &format!("/api/v1/tickets/{closed}/relocate"),
            "dispatcher",
            json!({"division_code": "630102001004", "reason": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
}
