//! Handling through the levels (分级转办) over HTTP, on both backends: the seed's fire-lane
//! story from the hotline to 城东区政府, down to 八一路街道 and its community, the replies
//! up through each level's review, and who sees what on the way.

mod common;

use chrono::{DateTime, Utc};
use common::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both!(
    the_fire_lane_goes_down_three_levels_and_back_up,
    a_street_calls_a_department_to_the_spot
);

async fn handler(t: &TestApp, username: &str, unit: i64) -> String {
    t.signed_in(username, "unit_handler", Some(unit)).await
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .unwrap_or_else(|| panic!("a time, got {v}"))
        .parse()
        .unwrap()
}

async fn the_fire_lane_goes_down_three_levels_and_back_up(t: &TestApp) {
    // The organisation: 城东区政府, its street office 八一路街道 with a community an
    // administrator adds under it, and a sibling street office of the same district.
    let district = t.unit_id("GOV-630102").await;
    let street = t.unit_id("GOV-630102006").await;
    let sibling = t.unit_id("GOV-630102002").await;
    let r = t
        .post(
            "/api/v1/units",
            "admin",
            json!({"code": "COM-TEST-QF", "name": "测试社区居民委员会", "kind": "community",
                   "parent_id": street, "division_code": "630102006"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let community = r.body["id"].as_i64().unwrap();
    let district_h = handler(t, "chengdong", district).await;
    let street_h = handler(t, "bayilu", street).await;
    let community_h = handler(t, "qingfa", community).await;
    let sibling_h = handler(t, "qingzhenxiang", sibling).await;

    // The hotline receives the call and dispatches it to the district government.
    let r = t
        .post(
            "/api/v1/tickets",
            "operator",
            json!({"channel": "phone", "kind": "complaint", "title": "消防通道被锁",
                   "content": "城东区八一中路青发小区的消防通道被物业锁住，存在安全隐患。",
                   "citizen": {"name": "李四", "phone": "13912345678"},
                   "address": "城东区八一中路青发小区", "division_code": "630102006"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let id = r.body["id"].as_i64().unwrap();
    t.act(
        id,
        "dispatch",
        "dispatcher",
        json!({"lead_unit_id": district, "tier": 3}),
    )
    .await;
    let ticket_path = format!("/api/v1/tickets/{id}");
    // Nobody below the district sees it yet.
    for token in [&street_h, &community_h, &sibling_h] {
        assert_eq!(
            t.read_as(token, &ticket_path).await.0,
            StatusCode::NOT_FOUND
        );
    }

    // 城东区政府 signs and forwards to 八一路街道; not to a unit outside its tree.
    t.acted_as(&district_h, id, "sign", json!({})).await;
    let (status, body) = t
        .act_as(
            &district_h,
            id,
            "forward",
            json!({"unit_id": t.unit_id("DEPT-JY").await}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "unit_id");
    let tk = t
        .acted_as(
            &district_h,
            id,
            "forward",
            json!({"unit_id": street, "note": "请八一路街道核实处理"}),
        )
        .await;
    assert_eq!(tk["state"], "in_progress");
    assert_eq!(tk["lead_unit_id"], district, "the lead unit stays");
    assert_eq!(tk["chain"][0]["unit_id"], street);
    assert_eq!(tk["chain"][0]["level"], 1);
    assert_eq!(tk["chain"][0]["state"], "forwarded");
    // Each level is due inside the level above: the street before the district's own
    // handling due point, less the review share.
    let clocks = t
        .get(&format!("/api/v1/tickets/{id}/deadlines"), "dispatcher")
        .await
        .body;
    let handling_due = clocks["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "handling")
        .map(|c| time(&c["due"]))
        .unwrap();
    let street_due = time(&tk["chain"][0]["due_at"]);
    assert!(street_due < handling_due, "{street_due} < {handling_due}");

    // The street sees it now; the sibling street and the community still do not. The
    // district cannot reply while a level below holds it.
    assert_eq!(t.read_as(&street_h, &ticket_path).await.0, StatusCode::OK);
    assert_eq!(
        t.read_as(&sibling_h, &ticket_path).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.read_as(&sibling_h, &format!("{ticket_path}/events"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.read_as(&community_h, &ticket_path).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, _) = t
        .act_as(&district_h, id, "reply", json!({"content": "已处理"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The street must sign before it passes the ticket on.
    let (status, body) = t
        .act_as(&street_h, id, "forward", json!({"unit_id": community}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    t.acted_as(&street_h, id, "sign", json!({"note": "已签收"}))
        .await;
    let (status, _) = t.act_as(&street_h, id, "sign", json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "a level signs once");
    // A due time later than the street's own is refused; the default fits inside.
    let too_late = (street_due + chrono::Duration::hours(1)).to_rfc3339();
    let (status, body) = t
        .act_as(
            &street_h,
            id,
            "forward",
            json!({"unit_id": community, "due_at": too_late}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "due_at");
    let tk = t
        .acted_as(
            &street_h,
            id,
            "forward",
            json!({"unit_id": community, "note": "请社区联系物业"}),
        )
        .await;
    assert_eq!(tk["chain"][1]["level"], 2);
    assert_eq!(tk["chain"][1]["from_unit_id"], street);
    assert!(time(&tk["chain"][1]["due_at"]) < street_due);
    // Its own sign clock: the policy's sign allowance in working hours, within its due time.
    let sign_by = time(&tk["chain"][1]["sign_by"]);
    assert!(sign_by > time(&tk["chain"][1]["forwarded_at"]));
    assert!(sign_by <= time(&tk["chain"][1]["due_at"]));

    // Each unit's desk queue says what the ticket waits for from it.
    let in_queue = |token: String, queue: &'static str| async move {
        let (status, page) = t
            .read_as(&token, &format!("/api/v1/tickets?queue={queue}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|tk| tk["id"] == id)
    };
    assert!(in_queue(community_h.clone(), "to_sign").await);
    assert!(in_queue(street_h.clone(), "below").await);
    assert!(in_queue(district_h.clone(), "below").await);
    assert!(!in_queue(district_h.clone(), "in_hand").await);
    let r = t.get("/api/v1/tickets?queue=below", "dispatcher").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["error"]["field"], "queue");

    // The community signs, calls the citizen back (a unit sees the number masked) and
    // replies to the street.
    let (_, seen) = t.read_as(&community_h, &ticket_path).await;
    assert_eq!(seen["citizen"]["phone"], "139****5678");
    t.acted_as(&community_h, id, "sign", json!({})).await;
    t.acted_as(
        &community_h,
        id,
        "record-contact",
        json!({"note": "09:57 电话联系市民，约物业到场"}),
    )
    .await;
    let tk = t
        .acted_as(
            &community_h,
            id,
            "reply",
            json!({"content": "社区已督促物业打开消防通道并张贴告示。"}),
        )
        .await;
    assert_eq!(tk["state"], "in_progress", "the hotline has no reply yet");
    assert!(in_queue(street_h.clone(), "to_review").await);
    assert!(!in_queue(community_h.clone(), "in_hand").await);
    assert_eq!(tk["chain"][1]["state"], "replied");
    assert!(
        tk["first_contact_at"].is_string(),
        "the citizen was contacted"
    );
    assert!(tk["chain"][1]["first_contact_at"].is_string());
    // Only the street reviews the community's reply.
    for token in [&district_h, &community_h] {
        let (status, _) = t.act_as(token, id, "approve-reply", json!({})).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let (status, _) = t
        .act_as(&community_h, id, "reply", json!({"content": "再答"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "the reply awaits review");
    // The street sends it back once, then approves the second, passing it up edited.
    t.acted_as(
        &street_h,
        id,
        "reject-reply",
        json!({"reason": "请写明物业名称和整改时间"}),
    )
    .await;
    t.acted_as(
        &community_h,
        id,
        "reply",
        json!({"content": "社区已督促青发小区物业于当日11时打开消防通道。"}),
    )
    .await;
    let tk = t.acted_as(&street_h,
        id,
        "approve-reply",
        json!({"content": "八一路街道：经社区核实，物业已于当日打开消防通道，并承诺不再上锁。"}),
    )
    .await;
    assert_eq!(tk["chain"][1]["state"], "done");
    assert_eq!(tk["chain"][1]["rejected_replies"], 1);
    assert_eq!(tk["chain"][0]["state"], "replied");
    assert_eq!(tk["state"], "in_progress");
    // The district approves: the reply stands as its reply to the hotline.
    let tk = t
        .acted_as(&district_h, id, "approve-reply", json!({}))
        .await;
    assert_eq!(tk["state"], "replied");
    assert_eq!(
        tk["reply"],
        "八一路街道：经社区核实，物业已于当日打开消防通道，并承诺不再上锁。"
    );
    assert_eq!(tk["chain"][0]["state"], "done");
    // The hotline cannot edit the lead unit's reply while approving it.
    let (status, body) = t
        .act_as(
            &t.tokens["dispatcher"],
            id,
            "approve-reply",
            json!({"content": "改"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "content");
    t.act(id, "approve-reply", "dispatcher", json!({})).await;
    let tk = t
        .act(
            id,
            "record-callback",
            "callback",
            json!({"contacted": true, "resolution": "resolved", "satisfaction": "satisfied"}),
        )
        .await;
    assert_eq!(tk["state"], "closed");

    // Each level's work is in the audit trail under its own unit.
    let events = t
        .get(&format!("/api/v1/tickets/{id}/events"), "dispatcher")
        .await
        .body;
    let by_type = |ty: &str| -> Vec<Value> {
        events["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == ty)
            .cloned()
            .collect()
    };
    assert_eq!(by_type("forwarded").len(), 2);
    assert_eq!(by_type("assignment_signed").len(), 2);
    assert_eq!(by_type("level_replied").len(), 3);
    assert_eq!(by_type("level_reply_rejected").len(), 1);
    assert_eq!(by_type("level_reply_approved").len(), 2);
    assert_eq!(
        by_type("contact_recorded")[0]["actor"]["unit_id"],
        community
    );

    // Every level finds it in its list afterwards; the sibling street does not.
    for (token, sees) in [
        (&district_h, true),
        (&street_h, true),
        (&community_h, true),
        (&sibling_h, false),
    ] {
        let (status, page) = t.read_as(token, "/api/v1/tickets").await;
        assert_eq!(status, StatusCode::OK);
        let found = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|tk| tk["id"] == id);
        assert_eq!(found, sees);
    }
    // The district's figures count the request, its callback and its satisfaction.
    let kpis = t.get("/api/v1/kpis?group_by=unit", "dispatcher").await.body;
    let row = kpis["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["group"].as_str() == Some(district.to_string().as_str()))
        .cloned()
        .unwrap_or_else(|| panic!("no row for the district in {kpis}"));
    assert_eq!(row["requests"], 1);
    assert_eq!(row["callbacks"], 1);

    // By territory (属地负责): a request the hotline gives the street office directly counts
    // in the district's figures too, and the district's streets rank among themselves.
    let r = t
        .post(
            "/api/v1/tickets",
            "operator",
            json!({"channel": "phone", "kind": "complaint", "content": "八一路街道某小区化粪池满溢。"}),
        )
        .await;
    let second = r.body["id"].as_i64().unwrap();
    t.act(
        second,
        "dispatch",
        "dispatcher",
        json!({"lead_unit_id": street, "tier": 3}),
    )
    .await;
    let row_of = |table: &Value, unit: i64| -> Value {
        table["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["group"].as_str() == Some(unit.to_string().as_str()))
            .cloned()
            .unwrap_or_else(|| panic!("no row for unit {unit} in {table}"))
    };
    let own = t.get("/api/v1/kpis?group_by=unit", "dispatcher").await.body;
    assert_eq!(row_of(&own, district)["requests"], 1);
    let territory = t
        .get("/api/v1/kpis?group_by=territory", "dispatcher")
        .await
        .body;
    assert_eq!(territory["territory"], true);
    assert_eq!(row_of(&territory, district)["requests"], 2);
    let streets = t
        .get(
            &format!("/api/v1/kpis?group_by=territory&parent={district}"),
            "dispatcher",
        )
        .await
        .body;
    assert_eq!(row_of(&streets, street)["requests"], 1);
    assert_eq!(row_of(&streets, sibling)["requests"], 0);
    let units = t.get("/api/v1/units", "admin").await.body;
    let below_district = units["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["parent_id"] == district)
        .count();
    assert_eq!(streets["rows"].as_array().unwrap().len(), below_district);
    let r = t
        .get(
            &format!("/api/v1/kpis?group_by=unit&parent={district}"),
            "dispatcher",
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["error"]["field"], "parent");
    // Each level's own work: the street replied up once, in time; the community twice,
    // one sent back.
    let levels = t
        .get(
            &format!("/api/v1/kpis/levels?parent={district}"),
            "dispatcher",
        )
        .await
        .body;
    let level_row = |table: &Value, unit: i64| -> Value {
        table["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["unit_id"] == unit)
            .cloned()
            .unwrap_or_else(|| panic!("no row for unit {unit} in {table}"))
    };
    let st = level_row(&levels, street);
    assert_eq!(
        (
            st["forwarded"].clone(),
            st["signed"].clone(),
            st["replies"].clone()
        ),
        (json!(1), json!(1), json!(1))
    );
    assert_eq!(st["on_time_reply_rate"], 1.0);
    assert_eq!(st["on_time_sign_rate"], 1.0);
    assert_eq!(level_row(&levels, sibling)["forwarded"], 0);
    let levels = t
        .get(
            &format!("/api/v1/kpis/levels?parent={street}"),
            "dispatcher",
        )
        .await
        .body;
    let co = level_row(&levels, community);
    assert_eq!(
        (co["replies"].clone(), co["replies_rejected"].clone()),
        (json!(2), json!(1))
    );
    assert_eq!(co["rejection_rate"], 0.5);
    // Ranked within the district: the street that replied in time first, the streets
    // with no reply after it, unranked.
    let ranked = t
        .get(
            &format!("/api/v1/kpis/levels?parent={district}&rank_by=on_time_reply_rate"),
            "dispatcher",
        )
        .await
        .body;
    let rows = ranked["rows"].as_array().unwrap();
    assert_eq!(ranked["rank_by"], "on_time_reply_rate");
    assert_eq!(
        (rows[0]["unit_id"].clone(), rows[0]["rank"].clone()),
        (json!(street), json!(1))
    );
    assert!(rows[1..].iter().all(|r| r["rank"].is_null()), "{ranked}");
    let r = t
        .get(
            &format!("/api/v1/kpis/levels?parent={district}&rank_by=speed"),
            "dispatcher",
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["error"]["field"], "rank_by");
    // Units read no figures, their territory's included.
    let (status, _) = t
        .read_as(&district_h, "/api/v1/kpis?group_by=territory")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// 吹哨报到: the street office holding a ticket calls a city department to the spot; the
/// department, which could not see the ticket before, reads it, finds it in its queue and
/// reports in; calling is the street's alone, and only departments are called.
async fn a_street_calls_a_department_to_the_spot(t: &TestApp) {
    let id = t.ticket_in("in_progress").await;
    let path = format!("/api/v1/tickets/{id}");
    assert_eq!(t.get(&path, "other").await.status, StatusCode::NOT_FOUND);
    // Not the community below, not by the co-unit (a department itself), not by the hotline.
    let r = t
        .post(
            &format!("{path}/summon"),
            "lead",
            json!({"unit_id": t.below_unit, "reason": "请到场"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["error"]["field"], "unit_id");
    let r = t
        .post(
            &format!("{path}/summon"),
            "co",
            json!({"unit_id": t.other_unit, "reason": "请到场"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = t
        .post(
            &format!("{path}/summon"),
            "dispatcher",
            json!({"unit_id": t.other_unit, "reason": "请到场"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let tk = t
        .act(
            id,
            "summon",
            "lead",
            json!({"unit_id": t.other_unit, "reason": "占道经营需执法部门到场"}),
        )
        .await;
    let c = &tk["summons"][0];
    assert_eq!(c["unit_id"], t.other_unit);
    assert_eq!(c["by_unit_id"], t.lead_unit);
    assert!(c["reported_at"].is_null());
    // Due within the policy's 24 hours by default.
    let called: DateTime<Utc> = time(&c["summoned_at"]);
    assert_eq!(time(&c["due_at"]) - called, chrono::Duration::hours(24));
    // Called twice before reporting in: refused.
    let r = t
        .post(
            &format!("{path}/summon"),
            "lead",
            json!({"unit_id": t.other_unit, "reason": "再次呼叫"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The department sees the ticket and has it in its queue.
    assert_eq!(t.get(&path, "other").await.status, StatusCode::OK);
    let queue = t
        .get("/api/v1/tickets?queue=to_report_in", "other")
        .await
        .body;
    assert!(
        queue["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == id)
    );
    // Only the department called reports in; then it is out of its queue.
    let r = t
        .post(
            &format!("{path}/report-in"),
            "lead",
            json!({"note": "到了"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let tk = t
        .act(
            id,
            "report-in",
            "other",
            json!({"note": "执法人员已到场，当场劝离占道摊点"}),
        )
        .await;
    assert!(tk["summons"][0]["reported_at"].is_string());
    assert_eq!(
        tk["summons"][0]["report"],
        "执法人员已到场，当场劝离占道摊点"
    );
    let r = t
        .post(
            &format!("{path}/report-in"),
            "other",
            json!({"note": "again"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "reported in once");
    let queue = t
        .get("/api/v1/tickets?queue=to_report_in", "other")
        .await
        .body;
    assert!(
        !queue["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == id)
    );
    // The department's 报到率.
    let levels = t.get("/api/v1/kpis/levels", "supervisor").await.body;
    let row = levels["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unit_id"] == t.other_unit)
        .cloned()
        .unwrap();
    assert_eq!(
        (row["summoned"].clone(), row["reported_in"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(row["report_in_rate"], 1.0);
    assert_eq!(row["on_time_report_in_rate"], 1.0);
    assert_eq!(
        t.get("/api/v1/kpis/levels", "other").await.status,
        StatusCode::FORBIDDEN
    );
    // The street office is told the department came.
    let notices = t.get("/api/v1/notices", "lead").await.body;
    assert!(
        notices["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["text"].as_str().is_some_and(|x| x.contains("已报到"))),
        "{notices}"
    );
}
