//! Historical import from the outside: past tickets from CSV and Excel through the API, all
//! rows or none (every bad field named by line), the same file again changing nothing, and
//! the figures of the imported month equal to those worked out by hand from the file.

mod common;

use common::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Three tickets of March 2025. Worked out by hand: 3 requests; 2 callbacks (both say the
/// unit made contact; one resolved and satisfied, one partly and basically satisfied); 1
/// answered at intake; 3 finished; 2 answered by a unit, of which the first late (3 working
/// days from Monday 03-03 09:30 end Thursday 03-06 09:30; answered Friday 03-07 10:00) and
/// the second in time (7 days).
const MARCH: &str = "\
number,received_at,channel,line,kind,content,citizen_phone,category_code,division_code,lead_unit,tier,dispatched_at,replied_at,reply,closed_at,contacted,resolution,satisfaction
XN20250303000001,2025-03-03 09:00,phone,,complaint,北关社区门口的路灯不亮,13907001234,010103,630102001001,GOV-630102001,3,2025-03-03 09:30,2025-03-07 10:00,路灯已修复,2025-03-10 15:00,是,resolved,satisfied
XN20250303000002,2025-03-03 10:00,merged_line,12369,complaint,河边工厂偷排污水,13907001235,,,DEPT-CG,7,2025-03-03 10:30,2025-03-05 10:00,已查处,2025-03-06 15:00,是,partly,basically
XN20250304000003,2025-03-04 10:00,web,,consultation,咨询公积金提取,,,,,,,2025-03-04 10:05,已告知,,,,
";

async fn import(t: &TestApp, who: &str, body: Vec<u8>, query: &str) -> (StatusCode, Value) {
    let r = t
        .client
        .post(format!("{}/api/v1/import/tickets{query}", t.base))
        .bearer_auth(&t.tokens[who])
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn total(t: &TestApp) -> usize {
    t.app
        .store()
        .list_tickets(&mashangban_store::TicketFilter {
            limit: 100_000,
            ..Default::default()
        })
        .await
        .map(|v| v.len())
        .unwrap()
}

async fn past_tickets_come_in_with_their_history(t: &TestApp) {
    let (s, _) = import(t, "dispatcher", MARCH.into(), "").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, dry) = import(t, "admin", MARCH.into(), "?dry_run=true").await;
    assert_eq!(s, StatusCode::OK, "{dry}");
    assert_eq!(
        dry,
        json!({"rows": 3, "imported": 0, "already_here": 0, "dry_run": true, "errors": []})
    );
    assert_eq!(total(t).await, 0, "a dry run writes nothing");
    let (s, done) = import(t, "admin", MARCH.into(), "").await;
    assert_eq!(s, StatusCode::OK, "{done}");
    assert_eq!(done["imported"], 3);
    let (_, again) = import(t, "admin", MARCH.into(), "").await;
    assert_eq!(
        (&again["imported"], &again["already_here"]),
        (&json!(0), &json!(3))
    );
    assert_eq!(total(t).await, 3, "the same file again changes nothing");

    // A ticket with its events at their own times, found by its number.
    let id = t
        .get("/api/v1/tickets/search?q=XN20250303000001", "dispatcher")
        .await
        .body["items"][0]["id"]
        .as_i64()
        .expect("found by its number");
    let events = t
        .get(&format!("/api/v1/tickets/{id}/events"), "dispatcher")
        .await
        .body;
    let events = events["items"]
        .as_array()
        .or(events.as_array())
        .unwrap()
        .clone();
    let seen: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_string(),
                e["at"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("received", "2025-03-03T01:00:00Z"),
            ("dispatched", "2025-03-03T01:30:00Z"),
            ("signed", "2025-03-07T02:00:00Z"),
            ("deadline_breached", "2025-03-06T01:30:00Z"),
            ("replied", "2025-03-07T02:00:00Z"),
            ("reply_approved", "2025-03-07T02:00:00Z"),
            ("callback_recorded", "2025-03-10T07:00:00Z"),
            ("closed", "2025-03-10T07:00:00Z"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );

    // The figures of March 2025, as worked out from the file.
    let kpis = t
        .get("/api/v1/kpis?from=2025-03-01&to=2025-03-31", "analyst")
        .await
        .body;
    let c = &kpis["rows"][0]["counts"];
    let got: Vec<u64> = [
        "requests",
        "callbacks",
        "contacted",
        "resolved",
        "partly_resolved",
        "satisfied",
        "basically_satisfied",
        "direct",
        "finished",
        "finished_with_deadline",
        "finished_on_time",
        "dispatches",
    ]
    .iter()
    .map(|k| c[*k].as_u64().unwrap_or(u64::MAX))
    .collect();
    assert_eq!(got, [3, 2, 2, 1, 1, 1, 1, 1, 3, 2, 1, 2], "{c}");
}

async fn a_file_with_bad_rows_writes_nothing(t: &TestApp) {
    let bad = "\
number,received_at,channel,content,lead_unit,tier,colour
XN1,2025-03-03 09:00,phone,路灯不亮,GOV-630102001,3,red
XN2,yesterday,fax,,NOPE,5,
XN1,2025-03-03 09:00,phone,重复的编号,,,
";
    let (s, e) = import(t, "admin", bad.into(), "").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["code"], "bad_rows");
    let rows: Vec<(u64, String)> = e["error"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().unwrap(),
                r["field"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (1, "colour"),
            (2, "dispatched_at"),
            (3, "received_at"),
            (3, "channel"),
            (3, "content"),
            (3, "lead_unit"),
            (3, "tier"),
            (4, "number"),
        ]
        .map(|(l, f)| (l, f.to_string()))
    );
    assert_eq!(total(t).await, 0);
}

async fn a_workbook_and_a_large_file_come_in_whole(t: &TestApp) {
    // An Excel workbook, its times as text cells.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    for (r, line) in MARCH.lines().enumerate() {
        for (c, cell) in line.split(',').enumerate() {
            sheet.write_string(r as u32, c as u16, cell).unwrap();
        }
    }
    let bytes = wb.save_to_buffer().unwrap();
    let r = t
        .client
        .post(format!("{}/api/v1/import/tickets", t.base))
        .bearer_auth(&t.tokens["admin"])
        .header(
            "content-type",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["imported"], 3);
    // 7,000 rows (past the API's 1 MB for JSON) in one go.
    let mut big = String::from(MARCH.lines().next().unwrap());
    big.push('\n');
    for i in 0..7000 {
        big.push_str(&format!(
            "XN20240101{i:06},2024-01-0{} 09:00,phone,,help,第{i}号：小区楼道灯不亮，已经坏了好几天，晚上出入很不方便，请尽快维修,,,,,,,,,,,,\n",
            1 + i % 5
        ));
    }
    assert!(big.len() > 1024 * 1024);
    let (s, r) = import(t, "admin", big.clone().into_bytes(), "").await;
    assert_eq!((s, &r["imported"]), (StatusCode::OK, &json!(7000)), "{r}");
    let (_, again) = import(t, "admin", big.into_bytes(), "?dry_run=true").await;
    assert_eq!(again["already_here"], 7000);
}

on_both!(
    past_tickets_come_in_with_their_history,
    a_file_with_bad_rows_writes_nothing,
    a_workbook_and_a_large_file_come_in_whole
);
