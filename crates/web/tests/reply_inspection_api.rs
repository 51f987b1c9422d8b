//! Reply inspection (答复质检) over HTTP, on both backends: the findings on the reply awaiting
//! review, written out by hand; an approval never refused for them and recording them; what
//! the record contradicts; a level's reply inspected at its level; the rate per unit in the
//! evaluation.

mod common;

use common::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both!(
    findings_are_shown_recorded_and_counted,
    the_record_is_read,
    a_level_reply_is_inspected_at_its_level,
    nothing_awaiting_review_has_no_findings
);

fn kinds(inspection: &Value) -> Vec<String> {
    inspection["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings in {inspection}"))
        .iter()
        .map(|f| f["kind"].as_str().unwrap().to_string())
        .collect()
}

async fn inspection(t: &TestApp, id: i64, who: &str) -> Value {
    let r = t
        .get(&format!("/api/v1/tickets/{id}/reply-inspection"), who)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

/// A ticket signed by the lead unit, whose request asks two things.
async fn asked_twice(t: &TestApp) -> i64 {
    let id = t
        .create("1、请问我们小区的公租房申请需要哪些材料？2、申请以后多久能分到房子？")
        .await;
    t.bring_to(id, "in_progress").await
}

async fn approved_findings(t: &TestApp, id: i64) -> Value {
    let events = t
        .get(&format!("/api/v1/tickets/{id}/events"), "dispatcher")
        .await
        .body;
    events["items"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|e| e["type"] == "reply_approved")
        .unwrap_or_else(|| panic!("no approval in {events}"))["findings"]
        .clone()
}

async fn findings_are_shown_recorded_and_counted(t: &TestApp) {
    // A reply that answers one question, not the other, and promises vaguely.
    let id = asked_twice(t).await;
    t.act(
        id,
        "reply",
        "lead",
        json!({"content": "您好！申请公租房需要提供户口本、身份证、收入证明和无房证明，到街道民政窗口提交。我们将尽快研究，争取早日解决。"}),
    )
    .await;
    let seen = inspection(t, id, "dispatcher").await;
    assert_eq!(seen["unit_id"], t.lead_unit);
    assert_eq!(kinds(&seen), ["unaddressed_point", "empty_promise"]);
    assert_eq!(
        seen["findings"][0]["evidence"],
        json!(["申请以后多久能分到房子"])
    );
    // Everyone who reads the ticket reads the findings; the unit too.
    assert_eq!(kinds(&inspection(t, id, "lead").await), kinds(&seen));
    // Advice only: the approval goes through, and the findings go with it.
    t.act(id, "approve-reply", "dispatcher", json!({})).await;
    let recorded = approved_findings(t, id).await;
    assert_eq!(
        recorded
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["kind"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["unaddressed_point", "empty_promise"]
    );

    // A reply that did the work: nothing found, and that is recorded too.
    let clean = asked_twice(t).await;
    t.act(
        clean,
        "reply",
        "lead",
        json!({"content": "您好！申请公租房需提供户口本、身份证、收入证明和无房证明，到街道民政窗口提交；经审核公示后，一般在3个月内分到房子。5月8日已电话告知您办理流程。"}),
    )
    .await;
    assert_eq!(
        kinds(&inspection(t, clean, "dispatcher").await),
        Vec::<String>::new()
    );
    t.act(clean, "approve-reply", "dispatcher", json!({})).await;
    assert_eq!(approved_findings(t, clean).await, json!([]));

    // The evaluation: of the lead unit's two approved replies, one had findings.
    let kpis = t.get("/api/v1/kpis?group_by=unit", "analyst").await.body;
    let row = kpis["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["group"].as_str() == Some(t.lead_unit.to_string().as_str()))
        .cloned()
        .unwrap_or_else(|| panic!("no row for the lead unit in {kpis}"));
    assert_eq!(row["counts"]["replies_inspected"], 2, "{row}");
    assert_eq!(row["counts"]["replies_flagged"], 1, "{row}");
    assert_eq!(row["reply_flag_rate"], 0.5, "{row}");
    // A rebuild from the events gives the same counts.
    let r = t
        .post("/api/v1/aggregates/rebuild", "admin", json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let again = t.get("/api/v1/kpis?group_by=unit", "analyst").await.body;
    let row_again = again["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["group"] == row["group"])
        .cloned()
        .unwrap();
    assert_eq!(row_again["reply_flag_rate"], 0.5);
}

async fn the_record_is_read(t: &TestApp) {
    // The unit asks for more time, then replies that all is solved.
    let id = t
        .create("城中区南大街12号院的污水井堵了，污水倒灌进地下室。")
        .await;
    t.bring_to(id, "in_progress").await;
    t.act(
        id,
        "request-extension",
        "lead",
        json!({"days": 3, "reason": "需更换管道"}),
    )
    .await;
    t.act(
        id,
        "reply",
        "lead",
        json!({"content": "您好！5月8日市政管理所已疏通南大街12号院污水井，清理了地下室积水，问题已解决。"}),
    )
    .await;
    let seen = inspection(t, id, "dispatcher").await;
    assert_eq!(kinds(&seen), ["contradicts_record"]);
    let why = seen["findings"][0]["why"].as_str().unwrap();
    assert!(why.contains("延期申请尚待审批"), "{why}");
    // Another person's mobile number in a reply: masked in the finding.
    let other = t.create("南大街路灯不亮。").await;
    t.bring_to(other, "in_progress").await;
    t.act(
        other,
        "reply",
        "lead",
        json!({"content": "您好！5月8日已更换路灯灯泡，如再有问题可联系维修师傅王某13912345678。"}),
    )
    .await;
    let seen = inspection(t, other, "dispatcher").await;
    assert_eq!(kinds(&seen), ["personal_data"]);
    assert_eq!(seen["findings"][0]["evidence"], json!(["139****5678"]));
    assert!(!seen["findings"].to_string().contains("13912345678"));
}

async fn a_level_reply_is_inspected_at_its_level(t: &TestApp) {
    let id = t.forwarded_ticket("signed").await;
    t.act(
        id,
        "reply",
        "below",
        json!({"content": "留言已收悉，感谢您的支持。"}),
    )
    .await;
    let seen = inspection(t, id, "lead").await;
    assert_eq!(seen["unit_id"], t.below_unit);
    assert_eq!(kinds(&seen), ["unaddressed_point", "no_action"]);
    // The street office approves it as it is: the findings are recorded with its approval.
    t.act(id, "approve-reply", "lead", json!({})).await;
    let events = t
        .get(&format!("/api/v1/tickets/{id}/events"), "dispatcher")
        .await
        .body;
    let approval = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "level_reply_approved")
        .cloned()
        .unwrap();
    assert_eq!(
        approval["findings"].as_array().unwrap().len(),
        2,
        "{approval}"
    );
}

async fn nothing_awaiting_review_has_no_findings(t: &TestApp) {
    let id = t.ticket_in("in_progress").await;
    let seen = inspection(t, id, "dispatcher").await;
    assert_eq!(
        seen,
        json!({"unit_id": null, "reply": null, "findings": []})
    );
    // A ticket the unit may not read is not found, as it is everywhere.
    let r = t
        .get("/api/v1/tickets/999999/reply-inspection", "dispatcher")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
