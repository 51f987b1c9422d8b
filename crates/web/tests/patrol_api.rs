//! A community's own handling over HTTP, on both backends: the seed's septic tank, reported
//! by 贾小社区's grid worker on patrol (网格上报), decided at a residents' meeting (近邻议事会)
//! and resolved in the community (就地办结); a report left to the hotline; who may do what.

mod common;

use common::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both!(
    the_septic_tank_is_resolved_in_the_community,
    a_report_left_to_the_hotline_is_dispatched_and_followed
);

const JIAXIAO: &str = "COM-630104001003"; // 贾小社区居民委员会
const NANQIXIANG: &str = "COM-630104001002"; // 南气象巷社区, the sibling
const XIGUAN: &str = "GOV-630104001"; // 西关大街街道办事处

async fn report(t: &TestApp, token: &str, body: Value, key: Option<&str>) -> (StatusCode, Value) {
    let headers: Vec<(&str, &str)> = key.map(|k| ("idempotency-key", k)).into_iter().collect();
    let r = t
        .send(
            Method::POST,
            "/api/v1/patrol-reports",
            Some(token),
            Some(body.to_string()),
            &headers,
        )
        .await;
    (r.status, r.body)
}

fn septic_tank() -> Value {
    json!({
        "kind": "help", "title": "化粪池满溢，下水从2楼居民家中返水",
        "content": "居民反映贾小小区42号楼6单元化粪池满溢，导致下水从2楼居民家中返水。",
        "address": "西宁市城西区贾小小区42号楼6单元",
        "division_code": "630104001003",
        "citizen": {"name": "2楼住户", "phone": "13997005678"},
    })
}

async fn the_septic_tank_is_resolved_in_the_community(t: &TestApp) {
    let jiaxiao = t.unit_id(JIAXIAO).await;
    let street = t.unit_id(XIGUAN).await;
    // A grid worker works in a community: not at a street office.
    let r = t
        .post(
            "/api/v1/users",
            "admin",
            json!({"username": "grid-street", "role": "grid_worker", "unit_id": street}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["error"]["field"], "unit");
    let grid = t.signed_in("hanxue", "grid_worker", Some(jiaxiao)).await;
    let sibling = t
        .signed_in("nanqi", "grid_worker", Some(t.unit_id(NANQIXIANG).await))
        .await;

    // The report names where it was found, and comes from the grid on its own.
    let mut no_place = septic_tank();
    no_place.as_object_mut().unwrap().remove("address");
    let (status, body) = report(t, &grid, no_place, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "address");
    let mut with_channel = septic_tank();
    with_channel["channel"] = json!("phone");
    let (status, body) = report(t, &grid, with_channel, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "channel");
    // Only grid workers report on patrol.
    let r = t
        .post("/api/v1/patrol-reports", "operator", septic_tank())
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    let (status, tk) = report(t, &grid, septic_tank(), Some("patrol-1")).await;
    assert_eq!(status, StatusCode::CREATED, "{tk}");
    assert_eq!(tk["channel"], "grid");
    assert_eq!(tk["state"], "received");
    assert_eq!(tk["reported_by_unit_id"], jiaxiao);
    // The grid worker sees the resident's contact masked, as every unit does.
    assert_eq!(tk["citizen"]["phone"], "139****5678");
    let id = tk["id"].as_i64().unwrap();
    // A retried report is the same ticket.
    let (status, again) = report(t, &grid, septic_tank(), Some("patrol-1")).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["id"], id);

    // The sibling community's grid worker sees nothing of it.
    let (status, _) = t.read_as(&sibling, &format!("/api/v1/tickets/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = t
        .act_as(
            &sibling,
            id,
            "resolve-on-spot",
            json!({"action_taken": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The same day: the grid worker's note; the next day, the residents' meeting.
    t.acted_as(
        &grid,
        id,
        "add-note",
        json!({"note": "入户向楼上10户解释，暂时关闭单元自来水，与物业维修人员现场商讨方案。"}),
    )
    .await;
    let (status, body) = t
        .act_as(
            &grid,
            id,
            "record-meeting",
            json!({"held_on": "2999-01-01", "participants": "楼院党支部、网格员、居民代表",
                   "decision": "整体更换地下室水网", "who_pays": "社区、物业、居民共同承担"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "held_on");
    let tk = t
        .acted_as(
            &grid,
            id,
            "record-meeting",
            json!({"held_on": "2026-11-20", "participants": "楼院党支部、网格员、居民代表",
                   "decision": "整体更换地下室水网", "who_pays": "社区、物业、居民共同承担"}),
        )
        .await;
    assert_eq!(tk["meetings"][0]["unit_id"], jiaxiao);
    assert_eq!(tk["meetings"][0]["held_on"], "2026-11-20");
    assert_eq!(tk["meetings"][0]["who_pays"], "社区、物业、居民共同承担");

    // The hotline's operator may not resolve it for the community.
    let r = t
        .post(
            &format!("/api/v1/tickets/{id}/resolve-on-spot"),
            "operator",
            json!({"action_taken": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let tk = t
        .acted_as(
            &grid,
            id,
            "resolve-on-spot",
            json!({"action_taken": "地下室水网已整体更换，返水问题解决。"}),
        )
        .await;
    assert_eq!(tk["state"], "resolved_directly");
    assert_eq!(tk["resolved_on_spot_by"], jiaxiao);
    assert_eq!(tk["answer"], "地下室水网已整体更换，返水问题解决。");
    let events = t
        .get(&format!("/api/v1/tickets/{id}/events"), "dispatcher")
        .await
        .body;
    let types: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "received",
            "note_added",
            "meeting_recorded",
            "resolved_on_spot"
        ]
    );

    // Resolved on the spot at once, from the report itself.
    let mut at_once = septic_tank();
    at_once["content"] = json!("楼道堆放杂物堵塞通道。");
    at_once["resolved_on_spot"] = json!("已联系住户当场清理。");
    let (status, quick) = report(t, &grid, at_once, None).await;
    assert_eq!(status, StatusCode::CREATED, "{quick}");
    assert_eq!(quick["state"], "resolved_directly");
    assert_eq!(quick["resolved_on_spot_by"], jiaxiao);

    // Counted apart, in the community's row under its street.
    let today = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive();
    let levels = t
        .get(
            &format!("/api/v1/kpis/levels?from={today}&to={today}&parent={street}"),
            "dispatcher",
        )
        .await
        .body;
    let row = levels["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unit_id"] == jiaxiao)
        .unwrap_or_else(|| panic!("贾小社区 in {levels}"))
        .clone();
    assert_eq!(row["resolved_on_spot"], 2);
    assert_eq!(row["meetings"], 1);
}

async fn a_report_left_to_the_hotline_is_dispatched_and_followed(t: &TestApp) {
    let jiaxiao = t.unit_id(JIAXIAO).await;
    let street = t.unit_id(XIGUAN).await;
    let grid = t.signed_in("hanxue2", "grid_worker", Some(jiaxiao)).await;
    let mut body = septic_tank();
    body["content"] = json!("巡查发现小区东门路灯不亮，夜间出行不便。");
    body["kind"] = json!("report");
    let (status, tk) = report(t, &grid, body, None).await;
    assert_eq!(status, StatusCode::CREATED, "{tk}");
    let id = tk["id"].as_i64().unwrap();
    // The dispatcher finds it among the grid channel's received requests.
    let list = t
        .get("/api/v1/tickets?state=received&channel=grid", "dispatcher")
        .await
        .body;
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == id),
        "{list}"
    );
    t.act(
        id,
        "dispatch",
        "dispatcher",
        json!({"lead_unit_id": street, "tier": 3}),
    )
    .await;
    // The community keeps reading what it reported and may note what it sees, but no
    // longer resolves it on its own.
    let (status, seen) = t.read_as(&grid, &format!("/api/v1/tickets/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seen["lead_unit_id"], street);
    let (status, body) = t
        .act_as(&grid, id, "resolve-on-spot", json!({"action_taken": "x"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    t.acted_as(&grid, id, "add-note", json!({"note": "路灯仍未亮。"}))
        .await;
    // Nor may a grid worker take a unit handler's steps.
    let (status, _) = t.act_as(&grid, id, "sign", json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
