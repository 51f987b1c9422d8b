//! The seasonal early view (民情月历) over HTTP on both backends: two years of past requests
//! imported through the historical import, then the outlook of January 2027 as of
//! 2026-12-15 — expected counts, the same month of previous years, the back-test — all
//! worked out by hand; and its section in the monthly report.

mod common;

use common::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both!(the_coming_month_against_the_same_month_of_previous_years);

/// 供暖 (010202, group 0102): 2 a month, 5 in December, 6 in January — but 9 in January 2026;
/// 违法停车 (020101, group 0201): 1 a month. From November 2024 to November 2026.
fn history() -> String {
    let mut csv = String::from("number,received_at,channel,content,category_code,division_code\n");
    let mut n = 0;
    for index in (2024 * 12 + 10)..=(2026 * 12 + 10) {
        let (year, month) = (index / 12, index % 12 + 1);
        let heating = match (year, month) {
            (2026, 1) => 9,
            (_, 1) => 6,
            (_, 12) => 5,
            _ => 2,
        };
        for (category, count) in [("010202", heating), ("020101", 1)] {
            for i in 0..count {
                n += 1;
                csv.push_str(&format!(
                    "H{n:05},{year}-{month:02}-{:02} 10:00,phone,历史诉求,{category},630102001001\n",
                    i + 2
                ));
            }
        }
    }
    csv
}

async fn the_coming_month_against_the_same_month_of_previous_years(t: &TestApp) {
    let r = t
        .client
        .post(format!("{}/api/v1/import/tickets", t.base))
        .bearer_auth(&t.tokens["admin"])
        .header("content-type", "text/csv")
        .body(history())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let report: Value = r.json().await.unwrap();
    // 25 months: 0102 has 2 Januaries (6+9), 2 Decembers (5+5) and 21 other months (×2).
    assert_eq!(report["imported"], 15 + 10 + 42 + 25, "{report}");

    let r = t.get("/api/v1/seasonal?as_of=2026-12-15", "analyst").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let o = &r.body;
    assert_eq!(o["month"], "2027-01");
    assert_eq!(o["history_from"], "2024-11");
    assert_eq!(o["history_to"], "2026-11");
    // 0102: the year's growth, Dec 2025..Nov 2026 over Dec 2024..Nov 2025, is
    // (5+9+20+1)/(5+6+20+1) = 35/32; January 2026 (9) × g and January 2025 (6) × g²,
    // averaged.
    let g: f64 = 35.0 / 32.0;
    let rows = o["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["category_code"], "0102");
    assert_eq!(rows[0]["category_name"], "水电气暖");
    let expected = rows[0]["expected"].as_f64().unwrap();
    assert!(
        (expected - (9.0 * g + 6.0 * g * g) / 2.0).abs() < 1e-9,
        "{expected}"
    );
    assert_eq!(
        rows[0]["same_month"],
        json!([{"year": 2026, "requests": 9}, {"year": 2025, "requests": 6}])
    );
    assert_eq!(rows[1]["category_code"], "0201");
    assert_eq!(rows[1]["expected"], 1.0);
    // The back-test: November 2025 to November 2026 (13 months, two groups each); only
    // January 2026 missed (6 forecast from January 2025, 9 came), as the naive forecast
    // did; 49 requests in those months. Too few residuals yet for an interval.
    let b = &o["backtest"];
    assert_eq!(b["origins"], 13);
    assert_eq!(b["forecasts"], 26);
    assert!(
        (b["wape"].as_f64().unwrap() - 3.0 / 49.0).abs() < 1e-12,
        "{b}"
    );
    assert!(
        (b["naive_wape"].as_f64().unwrap() - 3.0 / 49.0).abs() < 1e-12,
        "{b}"
    );
    assert_eq!(b["evaluated"], 0);
    assert_eq!(o["coverage"], Value::Null);
    assert_eq!(rows[0]["low"], Value::Null);

    // Refusals: a unit, a bad day, another parameter.
    let r = t.get("/api/v1/seasonal", "lead").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    for q in ["as_of=2026-13-01", "as_of=tomorrow", "days=3"] {
        let r = t.get(&format!("/api/v1/seasonal?{q}"), "analyst").await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{q}: {}",
            r.body
        );
    }

    // The monthly report of November 2026 forecasts December 2026 from October and before.
    let r = t
        .get("/api/v1/reports/monthly?month=2026-11", "analyst")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["outlook"]["month"], "2026-12");
    assert_eq!(r.body["outlook"]["rows"][0]["same_month"][0]["requests"], 5);
    let html = t
        .raw(
            reqwest::Method::GET,
            "/api/v1/reports/monthly?month=2026-11&format=html",
            Some("analyst"),
            None,
            &[],
        )
        .await
        .body
        .to_string();
    assert!(html.contains("五、下月诉求预测（民情月历）"), "{html}");
    assert!(html.contains("水电气暖：预计12月"), "{html}");

    // The dashboard's panel, as a leader sees it (today's coming month).
    t.app
        .add_user(
            &mashangban_app::SERVER,
            mashangban_app::auth::UserInput {
                username: "leader-web".into(),
                display_name: None,
                role: mashangban_domain::Role::Analyst,
                unit_id: None,
                password: Some("a-long-password".into()),
            },
        )
        .await
        .unwrap();
    let leader = common::console::Browser::open(t, "leader-web").await;
    let (status, page) = leader.page("/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("民情月历："), "{page}");
    assert!(page.contains("水电气暖"), "{page}");
}
