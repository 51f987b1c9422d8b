//! Open311 GeoReport v2 (channel `open311`) against the real server on both backends: every
//! JSON answer validated against the protocol's JSON Schemas (`shared/data/open311/`, read
//! where the checkout sits beside it; skipped with a message elsewhere, failing under CI),
//! the XML mirroring it, a request posted by a client with its key followed through the
//! hotline to its answer, and bad input refused in the protocol's own shape, writing nothing.

mod common;

use common::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both!(
    the_protocol_answers_as_its_schemas_say,
    bad_input_gets_the_protocols_errors_and_writes_nothing
);

/// The folder of the protocol's schemas, if this machine has it.
fn schemas_dir() -> Option<std::path::PathBuf> {
    let candidates = [
        std::env::var("MB_SHARED_DATA")
            .ok()
            .map(std::path::PathBuf::from),
        Some(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")),
        Some(std::path::PathBuf::from("/work/shared/data")),
    ];
    let found = candidates
        .into_iter()
        .flatten()
        .map(|d| d.join("open311/georeport-v2"))
        .find(|d| d.join("request.json").exists());
    if found.is_none() {
        assert!(
            std::env::var("CI").is_err(),
            "the Open311 JSON Schemas (shared/data/open311/georeport-v2) are missing under CI"
        );
        eprintln!(
            "SKIPPED the schema checks: shared/data/open311/georeport-v2 is not beside this checkout"
        );
    }
    found
}

/// Validates `value` against the schema in `file` (draft 4, formats checked).
fn validate(dir: &Option<std::path::PathBuf>, file: &str, value: &Value) {
    let Some(dir) = dir else { return };
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap();
    let validator = jsonschema::draft4::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{file}: {errors:?}\n{value}");
}

async fn get(t: &TestApp, path: &str) -> (StatusCode, String, String) {
    let r = t
        .client
        .get(format!("{}{path}", t.base))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, r.text().await.unwrap())
}

async fn get_json(t: &TestApp, path: &str) -> (StatusCode, Value) {
    let (status, ct, body) = get(t, path).await;
    assert!(ct.starts_with("application/json"), "{path}: {ct}");
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

async fn post_form(t: &TestApp, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let r = t
        .client
        .post(format!("{}{path}", t.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn issue_key(t: &TestApp, client: &str) -> (i64, String) {
    let r = t
        .post("/api/v1/api-keys", "admin", json!({"client": client}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    (
        r.body["id"].as_i64().unwrap(),
        r.body["key"].as_str().unwrap().to_string(),
    )
}

async fn the_protocol_answers_as_its_schemas_say(t: &TestApp) {
    let schemas = schemas_dir();
    let (_, key) = issue_key(t, "FixMyStreet 西宁").await;
    assert!(key.starts_with("mb311_") && key.len() == 54, "{key}");
    // The key is never listed again.
    let keys = t.get("/api/v1/api-keys", "admin").await.body;
    assert_eq!(keys["items"][0]["client"], "FixMyStreet 西宁");
    assert!(!keys.to_string().contains(&key));

    let (status, d) = get_json(t, "/open311/v2/discovery.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        d["endpoints"][0]["url"],
        format!("{}/open311/v2", t.app.config.public_url)
    );
    // The services: the 61 leaves of the shipped taxonomy, grouped by their top level.
    let (status, services) = get_json(t, "/open311/v2/services.json").await;
    assert_eq!(status, StatusCode::OK);
    let list = services.as_array().unwrap();
    assert_eq!(list.len(), 61);
    for s in list {
        validate(&schemas, "service.json", s);
    }
    let lamp = list.iter().find(|s| s["service_code"] == "010103").unwrap();
    assert_eq!(
        lamp,
        &json!({"service_code": "010103", "service_name": "路灯照明",
                "description": "城乡建设 / 市政设施 / 路灯照明", "metadata": false,
                "type": "realtime", "keywords": "城乡建设,市政设施", "group": "城乡建设"})
    );
    let (status, ct, xml) = get(t, "/open311/v2/services.xml").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("text/xml"), "{ct}");
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?><services><service>"),
        "{xml}"
    );
    // The same fields as the JSON (their order is not significant in the protocol).
    let lamp_xml = xml
        .split("<service>")
        .find(|s| s.contains("<service_code>010103</service_code>"))
        .unwrap();
    for field in [
        "<service_name>路灯照明</service_name>",
        "<group>城乡建设</group>",
        "<metadata>false</metadata>",
        "<type>realtime</type>",
    ] {
        assert!(lamp_xml.contains(field), "{field}: {lamp_xml}");
    }
    assert_eq!(xml.matches("<service>").count(), 61);
    let (status, def) = get_json(t, "/open311/v2/services/010103.json").await;
    assert_eq!(status, StatusCode::OK);
    validate(&schemas, "service-definition.json", &def);
    assert_eq!(def, json!({"service_code": "010103", "attributes": []}));

    // A client posts a request with its key; the citizen is texted the receipt.
    let (status, body) = post_form(
        t,
        "/open311/v2/requests.json",
        &[
            ("api_key", &key),
            ("jurisdiction_id", "xining.gov.cn"),
            ("service_code", "010103"),
            ("description", "北关社区门口的路灯坏了一个多星期，晚上很黑"),
            ("address_string", "城东区东关大街北关社区"),
            ("lat", "36.6171"),
            ("long", "101.7782"),
            ("first_name", "芳"),
            ("last_name", "李"),
            ("phone", "13907716666"),
            ("email", "li@example.cn"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let created: Value = serde_json::from_str(&body).unwrap();
    let number = created[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(created[0]["token"], number.as_str());
    let id = t
        .get(&format!("/api/v1/tickets/search?q={number}"), "dispatcher")
        .await
        .body["items"][0]["id"]
        .as_i64()
        .unwrap();
    let staff = t
        .get(&format!("/api/v1/tickets/{id}"), "dispatcher")
        .await
        .body;
    assert_eq!(
        (
            &staff["channel"],
            &staff["channel_detail"],
            &staff["category_code"]
        ),
        (
            &json!("open311"),
            &json!("FixMyStreet 西宁"),
            &json!("010103")
        )
    );
    assert_eq!(staff["citizen"]["name"], "李芳");

    // Read back: open, in the schema, nothing of the citizen's.
    let (status, one) = get_json(t, &format!("/open311/v2/requests/{number}.json")).await;
    assert_eq!(status, StatusCode::OK);
    validate(&schemas, "request.json", &one[0]);
    assert_eq!(one[0]["status"], "open");
    assert_eq!(one[0]["service_name"], "路灯照明");
    assert_eq!(one[0]["address"], "城东区东关大街北关社区");
    for secret in [
        "13907716666",
        "李芳",
        "li@example.cn",
        staff["tracking_code"].as_str().unwrap(),
    ] {
        assert!(!one.to_string().contains(secret), "{secret} shown: {one}");
    }
    assert!(
        one[0]["requested_datetime"]
            .as_str()
            .unwrap()
            .ends_with("+08:00"),
        "{one}"
    );
    // The citizen adds to it from the app: a note for the hotline and the unit; the same
    // update again changes nothing; a wrong key or an unknown request is refused.
    let update = |update_id: &'static str, k: String| {
        let number = number.clone();
        async move {
            post_form(
                t,
                "/open311/v2/servicerequestupdates.json",
                &[
                    ("api_key", &k),
                    ("service_request_id", &number),
                    ("update_id", update_id),
                    ("status", "OPEN"),
                    ("description", "灯杆底座还有电线裸露，很危险"),
                ],
            )
            .await
        }
    };
    let (status, body) = update("fms-1", key.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let taken: Value = serde_json::from_str(&body).unwrap();
    let again: Value = serde_json::from_str(&update("fms-1", key.clone()).await.1).unwrap();
    assert_eq!(taken, again);
    assert_eq!(taken[0]["update_id"], format!("{number}-2"));
    let events = t
        .get(&format!("/api/v1/tickets/{id}/events"), "dispatcher")
        .await
        .body;
    let notes: Vec<&Value> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "note_added")
        .collect();
    assert_eq!(notes.len(), 1, "{events}");
    assert_eq!(
        notes[0]["note"],
        "【FixMyStreet 西宁】市民补充：灯杆底座还有电线裸露，很危险"
    );
    let (status, _) = update("fms-2", "mb311_wrong".into()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Through the hotline to its answer: the unit, the due time, the approved reply.
    t.bring_to(id, "awaiting_callback").await;
    let (_, one) = get_json(t, &format!("/open311/v2/requests/{number}.json")).await;
    validate(&schemas, "request.json", &one[0]);
    let reply = t
        .get(&format!("/api/v1/tickets/{id}"), "dispatcher")
        .await
        .body["reply"]
        .clone();
    assert_eq!(one[0]["status_notes"], reply, "{one}");
    assert!(one[0]["agency_responsible"].is_string(), "{one}");
    t.act(
        id,
        "record-callback",
        "callback",
        json!({"contacted": true, "resolution": "resolved", "satisfaction": "satisfied"}),
    )
    .await;
    let (_, one) = get_json(t, &format!("/open311/v2/requests/{number}.json")).await;
    validate(&schemas, "request.json", &one[0]);
    assert_eq!(one[0]["status"], "closed");
    let (status, body) = update("fms-3", key.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("closed"), "{body}");
    // FixMyStreet's updates: each change the citizen saw, oldest first, the answer with it.
    let since = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let (status, changes) = get_json(
        t,
        &format!(
            "/open311/v2/servicerequestupdates.json?start_date={}",
            since.replace('+', "%2B")
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changes}");
    let changes = changes.as_array().unwrap();
    let statuses: Vec<&str> = changes
        .iter()
        .map(|u| u["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "open",
            "investigating",
            "in_progress",
            "in_progress",
            "closed"
        ],
        "{changes:?}"
    );
    assert!(
        changes
            .iter()
            .all(|u| u["service_request_id"] == number.as_str())
    );
    assert_eq!(changes[3]["description"], reply, "{changes:?}");
    assert!(
        changes[1]["description"]
            .as_str()
            .unwrap()
            .starts_with("已转交办理单位："),
        "{changes:?}"
    );
    let (_, _, xml) = get(t, "/open311/v2/servicerequestupdates.xml").await;
    assert!(
        xml.contains("<service_request_updates><request_update>"),
        "{xml}"
    );
    let (status, none) = get_json(
        t,
        "/open311/v2/servicerequestupdates.json?start_date=2026-01-01T00:00:00Z&end_date=2026-01-02T00:00:00Z",
    )
    .await;
    assert_eq!((status, none), (StatusCode::OK, json!([])));
    // Lists: this channel's requests only, filtered; the same in XML.
    t.create("另一渠道的诉求：小区垃圾没人清运").await;
    let (status, all) = get_json(t, "/open311/v2/requests.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(all.as_array().unwrap().len(), 1, "{all}");
    for r in all.as_array().unwrap() {
        validate(&schemas, "request.json", r);
    }
    for (query, n) in [
        ("status=closed", 1),
        ("status=open", 0),
        ("service_code=010103", 1),
        ("service_code=010101", 0),
        (&format!("service_request_id={number},XN-NOPE") as &str, 1),
        ("page=2", 0),
        ("page_size=1&page=1", 1),
    ] {
        let (status, list) = get_json(t, &format!("/open311/v2/requests.json?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}: {list}");
        assert_eq!(list.as_array().unwrap().len(), n, "{query}: {list}");
    }
    let (_, _, xml) = get(t, &format!("/open311/v2/requests/{number}.xml")).await;
    assert!(xml.contains("<service_requests><request>"), "{xml}");
    for field in [
        format!("<service_request_id>{number}</service_request_id>"),
        "<status>closed</status>".to_string(),
        "<service_code>010103</service_code>".to_string(),
    ] {
        assert!(xml.contains(&field), "{field}: {xml}");
    }
    let (status, token) = get_json(t, &format!("/open311/v2/tokens/{number}.json")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        token,
        json!([{"service_request_id": number, "token": number}])
    );
}

/// A form as posted, field by field.
type Form = Vec<(String, String)>;

async fn bad_input_gets_the_protocols_errors_and_writes_nothing(t: &TestApp) {
    let (key_id, key) = issue_key(t, "测试客户端").await;
    let count = || async {
        t.get("/api/v1/tickets?limit=200", "dispatcher").await.body["items"]
            .as_array()
            .unwrap()
            .len()
    };
    let before = count().await;
    let good = |k: &str| -> Vec<(String, String)> {
        [
            ("api_key", k),
            ("service_code", "010103"),
            ("description", "路灯不亮"),
            ("address_string", "城东区"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
    };
    let with = |k: &str, change: &[(&str, Option<&str>)]| -> Vec<(String, String)> {
        let mut f = good(k);
        for (field, value) in change {
            f.retain(|(a, _)| a != field);
            if let Some(v) = value {
                f.push((field.to_string(), v.to_string()));
            }
        }
        f
    };
    let cases: Vec<(Form, u16, &str)> = vec![
        (with(&key, &[("api_key", None)]), 403, "api_key"),
        (with("mb311_not-a-key", &[]), 403, "api_key"),
        (
            with(&key, &[("service_code", Some("999999"))]),
            404,
            "service_code",
        ),
        (
            with(&key, &[("service_code", Some("0101"))]),
            404,
            "service_code",
        ),
        (with(&key, &[("address_string", None)]), 400, "location"),
        (with(&key, &[("description", None)]), 400, "description"),
        (
            with(&key, &[("jurisdiction_id", Some("beijing.gov.cn"))]),
            404,
            "jurisdiction",
        ),
        (
            with(&key, &[("lat", Some("north")), ("long", Some("1"))]),
            400,
            "lat",
        ),
    ];
    for (form, code, word) in cases {
        let pairs: Vec<(&str, &str)> = form.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let (status, body) = post_form(t, "/open311/v2/requests.json", &pairs).await;
        assert_eq!(status.as_u16(), code, "{pairs:?}: {body}");
        let e: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{body}"));
        assert_eq!(e[0]["code"], code, "{body}");
        assert!(
            e[0]["description"].as_str().unwrap().contains(word),
            "{word}: {body}"
        );
    }
    // The same in XML.
    let pairs: Vec<(&str, &str)> = vec![("service_code", "010103")];
    let (status, body) = post_form(t, "/open311/v2/requests.xml", &pairs).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body.contains("<errors><error><code>403</code><description>api_key is required</description></error></errors>"),
        "{body}"
    );
    // A revoked key no longer posts.
    let r = t
        .raw(
            reqwest::Method::DELETE,
            &format!("/api/v1/api-keys/{key_id}"),
            Some("admin"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let revoked = good(&key);
    let pairs: Vec<(&str, &str)> = revoked
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let (status, body) = post_form(t, "/open311/v2/requests.json", &pairs).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // The server's own refusals, in the protocol's shape: a control character, a body too
    // large, JSON instead of a form, a format not served, a path or method unknown.
    let (_, key) = issue_key(t, "测试客户端2").await;
    let control = with(&key, &[("description", Some("路灯\u{1}不亮"))]);
    let pairs: Vec<(&str, &str)> = control
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let (status, body) = post_form(t, "/open311/v2/requests.json", &pairs).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let e: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(e[0]["code"], 422, "{body}");
    // Just past the 1 MiB the server reads (120,000 characters of three bytes, each written
    // %XX): small enough to be sent whole before the refusal closes the connection.
    let big = "路".repeat(120_000);
    let huge = with(&key, &[("description", Some(&big))]);
    let r = t
        .client
        .post(format!("{}/open311/v2/requests.xml", t.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(huge.iter())
                .finish(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // The body was not read, so the connection is closed and says so: a client that reused
    // it found it dropped under its next request (the refusal's rewriting into the protocol's
    // shape had lost this header).
    assert_eq!(
        r.headers().get("connection").map(|v| v.to_str().unwrap()),
        Some("close")
    );
    let body = r.text().await.unwrap();
    assert!(
        body.starts_with("<?xml") && body.contains("<code>413</code>"),
        "{body}"
    );
    let r = t
        .client
        .post(format!("{}/open311/v2/requests.json", t.base))
        .header("content-type", "application/json")
        .body(json!({"api_key": key, "service_code": "010103"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e[0]["code"], 400);
    for (path, status) in [
        ("/open311/v2/requests.csv", 400),
        ("/open311/v2/nothing.json", 404),
        ("/open311/v2/a/b/c.json", 404),
        ("/open311/v2/services/999999.json", 404),
        ("/open311/v2/requests/XN-20260101-0001.json", 404),
        ("/open311/v2/requests.json?status=pending", 400),
        ("/open311/v2/requests.json?start_date=yesterday", 400),
        ("/open311/v2/requests.json?page_size=5000", 400),
        ("/open311/v2/services.json?jurisdiction_id=nowhere", 404),
    ] {
        let (got, _, body) = get(t, path).await;
        assert_eq!(got.as_u16(), status, "{path}: {body}");
        let e: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{path}: {body}"));
        assert_eq!(e[0]["code"], status, "{path}: {body}");
    }
    let r = t
        .client
        .delete(format!("{}/open311/v2/services.xml", t.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("<errors><error><code>405</code>")
    );
    // A ticket of another channel is not found, as a number that does not exist.
    let other = t.create("电话受理的诉求").await;
    let number = t
        .get(&format!("/api/v1/tickets/{other}"), "dispatcher")
        .await
        .body["number"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _, _) = get(t, &format!("/open311/v2/requests/{number}.json")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Nothing was written by any refusal.
    assert_eq!(count().await, before + 1);
}
