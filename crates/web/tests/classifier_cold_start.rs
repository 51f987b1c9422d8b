//! A new city's first day: no ticket closed yet, the classifier learns only what the city
//! has — the categories' names, descriptions and keywords and the knowledge base — and
//! its proposals must already be useful: a dozen realistic requests written for this test,
//! each with the category a dispatcher would choose, by hand. Confidences are calibrated
//! (an unclear text is "uncertain", not a guess) and no function word is given as evidence.

mod common;

use common::TestApp;
use reqwest::StatusCode;
use serde_json::json;

on_both!(the_first_day_proposes_the_right_categories);

/// (request, the category a dispatcher would choose)
const REQUESTS: &[(&str, &str)] = &[
    ("污水井堵了，污水倒灌进地下室", "010104"),
    ("我家暖气片一直不热，室温才十四度", "010202"),
    ("楼下烧烤店油烟太大，窗户都不敢开", "030101"),
    ("包工头拖欠我们三个月工资不给", "050101"),
    ("小区门口每天晚上都有车乱停，堵住消防通道", "020101"),
    ("隔壁工地半夜还在打桩施工，吵得睡不着", "030201"),
    ("健身房突然关门了，办的年卡没法退钱", "040201"),
    ("家里从早上开始就没水了，也没有通知", "010201"),
    ("孩子今年该上小学了，想问划片入学怎么报名", "060201"),
    ("路口的红绿灯坏了好几天，车辆乱成一团", "020102"),
    ("想咨询一下异地就医怎么备案报销", "050202"),
    ("楼前有人私搭彩钢房，占了绿地", "010402"),
    ("人行道上的井盖丢了，晚上很危险", "010102"),
];

/// Words that must never be shown as why a category was proposed.
const NEVER_EVIDENCE: &[&str] = &[
    "三天",
    "已经",
    "很大",
    "不",
    "尽快",
    "的",
    "了",
    "我们",
    "每天晚上",
    "好几天",
    "今年",
    "一下",
];

async fn the_first_day_proposes_the_right_categories(t: &TestApp) {
    let r = t.post("/api/v1/classifier/train", "admin", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["tickets"], 0, "{:?}", r.body);
    let mut right = 0;
    let mut wrong = Vec::new();
    for (text, want) in REQUESTS {
        let r = t
            .post("/api/v1/suggest", "operator", json!({"content": text}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        let b = &r.body;
        let top = &b["categories"][0];
        let confidence = top["confidence"].as_f64().unwrap();
        assert_eq!(
            b["categories_uncertain"],
            confidence < 0.5,
            "uncertain exactly below one half: {b}"
        );
        for w in top["because"].as_array().unwrap() {
            assert!(
                !NEVER_EVIDENCE.contains(&w.as_str().unwrap()),
                "{text}: `{w}` given as evidence"
            );
        }
        if top["code"] == *want {
            right += 1;
        } else {
            wrong.push(format!("{text} → {} ({confidence})", top["name"]));
        }
        // An uncertain proposal routes nowhere by itself.
        if b["categories_uncertain"] == true {
            assert!(b["unit"].is_null(), "{b}");
        }
    }
    assert!(
        right >= 11,
        "{right} of {} right: {wrong:?}",
        REQUESTS.len()
    );
    // The sewage backflow in particular: its own category, first and sure of it, with
    // its own words as the evidence.
    let r = t
        .post(
            "/api/v1/suggest",
            "operator",
            json!({"content": "污水井堵了，污水倒灌进地下室"}),
        )
        .await;
    let top = &r.body["categories"][0];
    assert_eq!(top["code"], "010104", "{:?}", r.body);
    assert!(top["confidence"].as_f64().unwrap() >= 0.5, "{:?}", r.body);
    let because: Vec<&str> = top["because"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        because.contains(&"倒灌") || because.contains(&"地下室"),
        "{because:?}"
    );
    // Gibberish is uncertain rather than a guess.
    let r = t
        .post(
            "/api/v1/suggest",
            "operator",
            json!({"content": "嗯嗯好的"}),
        )
        .await;
    assert_eq!(r.body["categories_uncertain"], true, "{:?}", r.body);
    assert!(r.body["unit"].is_null(), "{:?}", r.body);
}
