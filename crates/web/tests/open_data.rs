//! Open data (数据开放) on both backends: the month's release made by the server's own task
//! exactly once however many instances ask, its figures equal to the console's for the same
//! month, small cells withheld, the files on the portal; a release made again is the next
//! revision, the first kept.

mod common;

use chrono::{Datelike, TimeZone, Utc};
use common::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both!(the_monthly_release_equals_the_console_and_hides_small_cells);

async fn file(t: &TestApp, path: &str) -> (StatusCode, String, String) {
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

async fn the_monthly_release_equals_the_console_and_hides_small_cells(t: &TestApp) {
    // Twelve requests by phone (six of them called back), three on the web.
    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(t.create(&format!("小区路灯不亮 {i}")).await);
    }
    for _ in 0..3 {
        let r = t
            .post(
                "/api/v1/tickets",
                "operator",
                json!({"channel": "web", "kind": "help", "content": "网上反映噪音扰民",
                       "citizen": {"phone": "13812345678"}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    }
    for id in &ids[..6] {
        t.bring_to(*id, "closed").await;
    }

    // The month just ended, as the server's task sees it on the 1st of the next: two
    // instances asking at once make one release.
    let today = mashangban_domain::aggregates::business_day(Utc::now());
    let month = format!("{:04}-{:02}", today.year(), today.month());
    let (ny, nm) = if today.month() == 12 {
        (today.year() + 1, 1)
    } else {
        (today.year(), today.month() + 1)
    };
    let next = Utc.with_ymd_and_hms(ny, nm, 1, 2, 0, 0).unwrap();
    let (a, b) = tokio::join!(
        t.app.publish_due_release_at(next),
        t.app.publish_due_release_at(next)
    );
    let made = [a.unwrap(), b.unwrap()];
    assert_eq!(made.iter().filter(|r| r.is_some()).count(), 1, "{made:?}");
    assert!(t.app.publish_due_release_at(next).await.unwrap().is_none());

    let r = t.get_anonymous(&format!("/api/v1/open-data/{month}")).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let release = r.body;
    assert_eq!(release["revision"], 1);
    assert_eq!(release["requests"], 15);
    assert_eq!(release["threshold"], 5);
    // 3 on the web is withheld; alone, it would be 15 − 12: nothing else is small, so the
    // phone's 12 is withheld with it.
    assert_eq!(
        release["by_channel"],
        json!([
            {"key": "phone", "name": "12345热线", "requests": null, "suppressed": true},
            {"key": "web", "name": "政府网站", "requests": null, "suppressed": true}
        ])
    );

    // The console's figures for the same month.
    let (from, to) = (
        release["from"].as_str().unwrap().to_string(),
        release["to"].as_str().unwrap().to_string(),
    );
    let console = |group: &str| format!("/api/v1/kpis?from={from}&to={to}&group_by={group}");
    let city = t
        .get(&format!("/api/v1/kpis?from={from}&to={to}"), "analyst")
        .await;
    assert_eq!(city.status, StatusCode::OK, "{:?}", city.body);
    assert_eq!(
        city.body["rows"][0]["counts"]["requests"],
        release["requests"]
    );
    for (table, group) in [
        ("by_category_l1", "category_l1"),
        ("by_category_l2", "category_l2"),
        ("by_district", "district"),
    ] {
        let rows = t.get(&console(group), "analyst").await.body["rows"].clone();
        for cell in release[table].as_array().unwrap() {
            let row = rows
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["group"] == cell["key"])
                .unwrap_or_else(|| panic!("{table} {cell}"));
            if cell["suppressed"] == false {
                assert_eq!(
                    cell["requests"], row["counts"]["requests"],
                    "{table} {cell}"
                );
            } else {
                let n = row["counts"]["requests"].as_u64().unwrap();
                assert!(cell["requests"].is_null() && n > 0, "{table} {cell}");
            }
        }
    }
    let units = t.get(&console("unit"), "analyst").await.body["rows"].clone();
    let mut compared = 0;
    for u in release["units"].as_array().unwrap() {
        let row = units
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["group"] == json!(u["unit_id"].to_string()))
            .unwrap_or_else(|| panic!("unit {u}"));
        for rate in ["response_rate", "resolution_rate", "satisfaction_rate"] {
            if !u[rate].is_null() {
                assert_eq!(u[rate], row[rate], "{rate} of {u}");
                compared += 1;
            } else {
                assert!(
                    row[rate].is_null() || row["callbacks"].as_u64().unwrap() < 5,
                    "{rate} of {u} withheld: {row}"
                );
            }
        }
    }
    assert!(compared >= 3, "the lead unit's three rates are published");

    // The portal: the archive, the month's page, its files.
    let (status, _, page) = file(t, "/public/data").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&format!("/public/data/{month}?revision=1")));
    let (status, _, page) = file(t, &format!("/public/data/{month}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("当月受理 15 件"), "{page}");
    let (status, kind, csv) = file(t, &format!("/public/data/{month}/channel.csv")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kind, "text/csv; charset=utf-8");
    assert_eq!(
        csv.trim_start_matches('\u{feff}'),
        "key,name,requests,suppressed\nphone,12345热线,,true\nweb,政府网站,,true\n"
    );
    let (_, kind, json_file) = file(t, &format!("/public/data/{month}/release.json")).await;
    assert_eq!(kind, "application/json");
    let parsed: Value = serde_json::from_str(&json_file).unwrap();
    assert_eq!(parsed, release);
    let (status, _, dict) = file(t, &format!("/public/data/{month}/dictionary.csv")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(dict.contains("satisfaction_rate"));
    for missing in [
        "/public/data/2001-01",
        &format!("/public/data/{month}/secret.csv"),
        "/public/data/x/units.csv",
    ] {
        assert_eq!(file(t, missing).await.0, StatusCode::NOT_FOUND, "{missing}");
    }

    // Made again on demand: the current month is refused (not over); a past month gets the
    // next revision, the first one kept.
    let r = t
        .post(&format!("/api/v1/open-data/{month}"), "analyst", json!({}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    let r = t
        .post("/api/v1/open-data/2001-01", "supervisor", json!({}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    for expected in [1, 2] {
        let r = t
            .post("/api/v1/open-data/2001-01", "admin", json!({}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        assert_eq!(r.body["revision"], expected);
        assert_eq!(r.body["requests"], 0);
    }
    let list = t.get_anonymous("/api/v1/open-data").await.body;
    let listed: Vec<(String, i64)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["month"].as_str().unwrap().to_string(),
                r["revision"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        vec![
            (month.clone(), 1),
            ("2001-01".into(), 2),
            ("2001-01".into(), 1)
        ]
    );
    assert_eq!(
        t.get_anonymous("/api/v1/open-data/2001-01?revision=1")
            .await
            .body["revision"],
        1
    );
}
