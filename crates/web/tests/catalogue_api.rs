//! The dispatch catalogue over HTTP: entries kept by administrators with their history,
//! the most specific entry deciding the owner, the no-push-down rule, CSV import (all or
//! nothing) and export, as CSV and as Excel. On SQLite and PostgreSQL.

mod common;

use common::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both!(
    catalogue_decides_owners_and_keeps_its_history,
    the_demo_catalogue_passes_its_own_rules,
    the_catalogue_travels_as_excel,
    concurrent_overlapping_entries_land_once
);

async fn owner(t: &TestApp, category: &str, division: Option<&str>, date: &str) -> Value {
    let mut path = format!("/api/v1/catalogue/owner?category_code={category}&date={date}");
    if let Some(d) = division {
        path.push_str(&format!("&division_code={d}"));
    }
    let r = t.get(&path, "dispatcher").await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body
}

async fn catalogue_decides_owners_and_keeps_its_history(t: &TestApp) {
    let unit = |code: &'static str| {
        let app = t.app.clone();
        async move {
            app.store()
                .get_unit_by_code(code)
                .await
                .unwrap()
                .unwrap()
                .id
        }
    };
    let city_dept = unit("DEPT-CG").await; // 市城市管理局
    let district = unit("GOV-630102").await; // 城东区人民政府
    let street = unit("GOV-630102001").await; // 东关大街街道办事处

    // Road damage (010101) city-wide → the city department, as its functional duty.
    let r = t
        .post(
            "/api/v1/catalogue",
            "admin",
            json!({"category_code": "010101", "unit_code": "DEPT-CG", "valid_from": "2026-01-01", "note": "全市道路"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["ownership"], "functional");
    assert_eq!(r.body["unit_name"], "西宁市城市管理局");
    let roads = r.body["id"].as_i64().unwrap();

    // Street lights (010103): city-wide territorial to the district, then inside 东关大街街道
    // to the street office.
    let r = t
        .post(
            "/api/v1/catalogue",
            "admin",
            json!({"category_code": "0101", "division_code": "630102", "unit_id": district, "valid_from": "2026-01-01"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["ownership"], "territorial");
    let r = t
        .post(
            "/api/v1/catalogue",
            "admin",
            json!({"category_code": "010103", "division_code": "630102001", "unit_id": street, "tier": 3, "valid_from": "2026-01-01"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let lights = r.body.clone();

    // Most specific wins: a light in a community of 东关大街街道 goes to the street office.
    let o = owner(t, "010103", Some("630102001001"), "2026-06-01").await;
    assert_eq!(o["unit"]["id"], street, "{o}");
    assert!(
        o["unit"]["rule"]
            .as_str()
            .unwrap()
            .contains(&format!("#{}", lights["id"])),
        "{o}"
    );
    assert_eq!(o["tier"], 3);
    assert_eq!(o["outranked"].as_array().unwrap().len(), 1);
    // Elsewhere in 城东区, the district; a road anywhere, the city department.
    let o = owner(t, "010104", Some("630102002"), "2026-06-01").await;
    assert_eq!(o["unit"]["id"], district, "{o}");
    let o = owner(t, "010101", Some("630102001001"), "2026-06-01").await;
    assert_eq!(o["unit"]["id"], city_dept, "{o}");
    // Before the entries took effect, nobody; an unknown matter, nobody.
    assert_eq!(
        owner(t, "010103", Some("630102001"), "2025-06-01").await,
        Value::Null
    );

    // No push-down: the road matter is the department's duty, not the street's.
    let r = t
        .post(
            "/api/v1/catalogue",
            "admin",
            json!({"category_code": "010101", "division_code": "630102001", "unit_id": street, "valid_from": "2026-01-01"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("#{roads}")),
        "{:?}",
        r.body
    );
    let r = t
        .post(
            "/api/v1/catalogue",
            "admin",
            json!({"category_code": "010102", "division_code": "630102001", "unit_id": street, "ownership": "functional", "valid_from": "2026-01-01"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("不得"),
        "{:?}",
        r.body
    );
    // Bad fields are named; only administrators write.
    for (body, field) in [
        (
            json!({"category_code": "99", "unit_id": district}),
            "category_code",
        ),
        (
            json!({"category_code": "0101", "unit_code": "NOPE"}),
            "unit_code",
        ),
        (
            json!({"category_code": "0101", "unit_id": district, "tier": 5}),
            "tier",
        ),
        (
            json!({"category_code": "0101", "unit_id": district, "division_code": "1"}),
            "division_code",
        ),
        (
            json!({"category_code": "0101", "unit_id": district, "valid_from": "2026-02-01", "valid_to": "2026-01-01"}),
            "valid_to",
        ),
        (
            json!({"category_code": "0101", "unit_id": district, "colour": "red"}),
            "colour",
        ),
    ] {
        let r = t.post("/api/v1/catalogue", "admin", body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {:?}",
            r.body
        );
        assert!(
            r.body["error"]["message"].as_str().unwrap().contains(field),
            "{body}: {:?}",
            r.body
        );
    }
    let r = t
        .post(
            "/api/v1/catalogue",
            "dispatcher",
            json!({"category_code": "0101", "unit_id": district}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Edit at the version read: the street office's entry ends; a stale edit is refused.
    let mut edit = json!({"version": lights["version"], "category_code": "010103", "division_code": "630102001",
        "unit_id": street, "tier": 3, "valid_from": "2026-01-01", "valid_to": "2026-06-30"});
    let r = t
        .raw(
            Method::PUT,
            &format!("/api/v1/catalogue/{}", lights["id"]),
            Some("admin"),
            Some(edit.to_string()),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["version"], 2);
    let r = t
        .raw(
            Method::PUT,
            &format!("/api/v1/catalogue/{}", lights["id"]),
            Some("admin"),
            Some(edit.to_string()),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    let o = owner(t, "010103", Some("630102001001"), "2026-07-01").await;
    assert_eq!(o["unit"]["id"], district, "{o}");
    edit["version"] = json!(2);

    // Export, then import: a row with a bad unit makes the whole file refused.
    let r = t
        .raw(
            Method::GET,
            "/api/v1/catalogue/export.csv",
            Some("dispatcher"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let csv = r.body.as_str().unwrap().to_string();
    assert!(csv.starts_with('\u{feff}'));
    assert!(
        csv.contains("category_code,division_code,unit_code"),
        "{csv}"
    );
    assert!(csv.contains("市城市管理局"), "{csv}");
    let before = t.get("/api/v1/catalogue", "admin").await.body["items"]
        .as_array()
        .unwrap()
        .len();
    let import = |text: &str| {
        let text = text.to_string();
        async move {
            t.raw(
                Method::POST,
                "/api/v1/catalogue/import",
                Some("admin"),
                Some(text),
                &[("content-type", "text/csv")],
            )
            .await
        }
    };
    let r = import(
        "category_code,division_code,unit_code,ownership,tier,valid_from,valid_to,note\n\
         0102,630102,GOV-630102,属地,,2026-01-01,,水电气暖\n\
         0103,630102,NOPE,,,2026-01-01,,\n",
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line 3"),
        "{:?}",
        r.body
    );
    assert_eq!(
        t.get("/api/v1/catalogue", "admin").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        before
    );
    let r = import(
        "category_code,division_code,unit_code,ownership,tier,valid_from,valid_to,note\n\
         0102,630102,GOV-630102,属地,,2026-01-01,,水电气暖\n\
         0103,,DEPT-CG,functional,7,2026/01/01,,住房\n",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["imported"], 2);
    let all = t.get("/api/v1/catalogue?in_force=true", "operator").await;
    assert_eq!(
        all.body["items"].as_array().unwrap().len(),
        before + 2 - 1,
        "{:?}",
        all.body
    );

    // Delete at the version; the history keeps every change with who made it.
    let r = t
        .raw(
            Method::DELETE,
            &format!("/api/v1/catalogue/{roads}?version=1"),
            Some("admin"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    let h = t
        .get(
            &format!("/api/v1/catalogue/history?entry_id={}", lights["id"]),
            "supervisor",
        )
        .await;
    assert_eq!(h.status, StatusCode::OK);
    let actions: Vec<&str> = h.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["updated", "created"]);
    let h = t.get("/api/v1/catalogue/history", "admin").await;
    assert_eq!(h.body["items"][0]["action"], "deleted");
    assert_eq!(h.body["items"].as_array().unwrap().len(), 7);
    assert_eq!(
        t.get("/api/v1/catalogue/history", "operator").await.status,
        StatusCode::FORBIDDEN
    );
}

async fn the_demo_catalogue_passes_its_own_rules(t: &TestApp) {
    // Every demo entry is saved through the same checks (no push-down among them), once.
    let n = t.app.ensure_demo_catalogue().await.unwrap();
    assert!(n > 20, "{n}");
    assert_eq!(t.app.ensure_demo_catalogue().await.unwrap(), 0);
    let heat = owner(t, "010202", Some("630102001001"), "2026-11-28").await;
    assert_eq!(heat["unit"]["name"], "西宁市供热公司", "{heat}");
    let waste = owner(t, "010403", Some("630102001001"), "2026-11-28").await;
    assert_eq!(waste["entry"]["unit_code"], "GOV-630102", "{waste}");
    assert_eq!(waste["entry"]["ownership"], "territorial", "{waste}");
    let lights = owner(t, "010103", None, "2026-11-28").await;
    assert_eq!(lights["entry"]["unit_code"], "DEPT-CG", "{lights}");
}

/// A workbook of text cells, the tier a number.
fn workbook(rows: &[&[&str]]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if c == 4 && r > 0 && !v.is_empty() {
                sheet
                    .write_number(r as u32, c as u16, v.parse::<f64>().unwrap())
                    .unwrap();
            } else {
                sheet.write_string(r as u32, c as u16, *v).unwrap();
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

async fn post_bytes(t: &TestApp, bytes: Vec<u8>) -> (StatusCode, Value) {
    let r = t
        .client
        .post(format!("{}/api/v1/catalogue/import", t.base))
        .bearer_auth(&t.tokens["admin"])
        .header(
            "content-type",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap())
}

async fn the_catalogue_travels_as_excel(t: &TestApp) {
    const HEADER: &[&str] = &[
        "category_code",
        "division_code",
        "unit_code",
        "ownership",
        "tier",
        "valid_from",
        "valid_to",
        "note",
    ];
    let count = || async {
        t.get("/api/v1/catalogue", "admin").await.body["items"]
            .as_array()
            .unwrap()
            .len()
    };
    // A bad row refuses the whole workbook, naming the line.
    let (status, body) = post_bytes(
        t,
        workbook(&[
            HEADER,
            &[
                "0102",
                "630102",
                "GOV-630102",
                "属地",
                "3",
                "2026-01-01",
                "",
                "水电气暖",
            ],
            &["0103", "630102", "NOPE", "", "", "2026-01-01", "", ""],
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line 3"),
        "{body}"
    );
    assert_eq!(count().await, 0);
    // A good one is taken (the tier typed as a number).
    let (status, body) = post_bytes(
        t,
        workbook(&[
            HEADER,
            &[
                "0102",
                "630102",
                "GOV-630102",
                "属地",
                "3",
                "2026-01-01",
                "",
                "水电气暖",
            ],
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["imported"], 1);
    assert_eq!(body["items"][0]["tier"], 3, "{body}");
    // Exported as a workbook, which imports again as it is (each row edits its entry).
    let r = t
        .client
        .get(format!("{}/api/v1/catalogue/export.xlsx", t.base))
        .bearer_auth(&t.tokens["dispatcher"])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    let bytes = r.bytes().await.unwrap().to_vec();
    assert!(bytes.starts_with(b"PK"));
    let (status, body) = post_bytes(t, bytes).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["imported"], 1);
    assert_eq!(body["items"][0]["version"], 2, "{body}");
    assert_eq!(count().await, 1);
    // Not a workbook at all.
    let (status, body) = post_bytes(t, b"PK\x03\x04 not really".to_vec()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("Excel"),
        "{body}"
    );
}

/// Eight administrators add the same matter for the same place at the same moment: the
/// rules checked against the catalogue still hold when the writes land, so exactly one
/// entry is made and the others are refused as overlapping it.
async fn concurrent_overlapping_entries_land_once(t: &TestApp) {
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (client, base, token) = (t.client.clone(), t.base.clone(), t.tokens["admin"].clone());
        tasks.push(tokio::spawn(async move {
            let r = client
                .post(format!("{base}/api/v1/catalogue"))
                .bearer_auth(token)
                .json(&json!({"category_code": "010101", "unit_code": "DEPT-CG",
                              "valid_from": "2026-01-01", "note": format!("第 {i} 位")}))
                .send()
                .await
                .unwrap();
            let status = r.status();
            (status, r.json::<Value>().await.unwrap())
        }));
    }
    let mut created = 0;
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            StatusCode::CREATED => created += 1,
            StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT => {
                assert!(body["error"]["message"].is_string(), "{body}")
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(created, 1);
    let r = t
        .get("/api/v1/catalogue?category_code=010101", "admin")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(
        items
            .iter()
            .filter(|e| e["category_code"] == "010101" && e["division_code"].is_null())
            .count(),
        1,
        "{items:?}"
    );
}

/// A dispatch to the unit the catalogue names takes the entry's tier (7 days here, where
/// the category's is 3) with no reason asked; before, only the category's tier was taken
/// without one, and a dispatch at the entry's tier was refused.
#[tokio::test]
async fn a_dispatch_takes_the_tier_of_the_entry_that_names_its_unit() {
    let t = TestApp::start(common::Db::Sqlite, "catalogue_tier")
        .await
        .unwrap();
    let street = t.lead_unit; // 东关大街街道办事处
    let r = t
        .post(
            "/api/v1/catalogue",
            "admin",
            json!({"category_code": "010103", "division_code": "630102001", "unit_id": street, "tier": 7, "valid_from": "2020-01-01"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let ticket = |content: &'static str| {
        let t = &t;
        async move {
            let r = t
                .post(
                    "/api/v1/tickets",
                    "operator",
                    json!({"channel": "phone", "kind": "complaint", "content": content,
                           "category_code": "010103", "division_code": "630102001001"}),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
            r.body["id"].as_i64().unwrap()
        }
    };
    let dispatch = |id: i64, body: Value| {
        let t = &t;
        async move {
            t.post(
                &format!("/api/v1/tickets/{id}/dispatch"),
                "dispatcher",
                body,
            )
            .await
        }
    };
    let given = dispatch(
        ticket("路灯不亮").await,
        json!({"lead_unit_id": street, "tier": 7}),
    )
    .await;
    assert_eq!(given.status, StatusCode::OK, "{:?}", given.body);
    assert_eq!(given.body["ticket"]["tier"], 7);
    let default = dispatch(ticket("路灯又坏了").await, json!({"lead_unit_id": street})).await;
    assert_eq!(default.body["ticket"]["tier"], 7);
    // To another unit the category's 3 days apply, and 7 needs a reason.
    let other = dispatch(ticket("路灯闪烁").await, json!({"lead_unit_id": t.co_unit})).await;
    assert_eq!(other.body["ticket"]["tier"], 3);
    let refused = dispatch(
        ticket("路灯倒了").await,
        json!({"lead_unit_id": t.co_unit, "tier": 7}),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.body["error"]["field"], "note");
}
