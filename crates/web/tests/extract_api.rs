//! Form filling from free text (智能填单) over HTTP: a transcript in, the fields and the
//! division out, nothing saved; who may ask; bad input.

mod common;

use common::TestApp;
use reqwest::StatusCode;
use serde_json::json;

on_both!(
    fields_from_a_transcript,
    the_intake_form_fills_its_empty_fields
);

async fn fields_from_a_transcript(t: &TestApp) {
    let before = t.get("/api/v1/tickets", "admin").await.body["items"].clone();
    let r = t
        .post(
            "/api/v1/extract",
            "operator",
            json!({"text": "喂，你好，我叫王芳，电话幺三九 一二三四 五六七八，不对，是幺三九 一二三四 五六七九。我住在城西区，要反映的是城东区东关大街街道那边的路灯，从昨天晚上开始就不亮了"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let b = &r.body;
    assert_eq!(b["name"], "王芳", "{b}");
    assert_eq!(b["phones"], json!(["13912345679"]), "{b}");
    assert_eq!(b["address"], "城东区东关大街街道", "{b}");
    assert_eq!(b["division"]["code"], "630102001", "{b}");
    assert_eq!(b["time"], "从昨天晚上开始", "{b}");
    assert!(b["title"].as_str().unwrap().contains("路灯"), "{b}");
    // Nothing was saved.
    assert_eq!(
        t.get("/api/v1/tickets", "admin").await.body["items"],
        before
    );

    // Operators, dispatchers and administrators; not a unit.
    let r = t
        .post("/api/v1/extract", "lead", json!({"text": "路灯不亮"}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    let r = t
        .post(
            "/api/v1/extract",
            "operator",
            json!({"text": "长".repeat(20_001)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert_eq!(r.body["error"]["field"], "text");
    let r = t
        .post("/api/v1/extract", "operator", json!({"txt": "路灯"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    // A text that says nothing: empty fields, a title from what there is.
    let r = t
        .post("/api/v1/extract", "operator", json!({"text": ""}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["phones"], json!([]));
    assert!(r.body["address"].is_null());
}

/// The console's intake form: the transcript fills the empty fields (what the operator
/// typed stays), a notice says what was found, and the form is then saved as usual.
async fn the_intake_form_fills_its_empty_fields(t: &TestApp) {
    use common::console::Browser;
    let r = t
        .post(
            "/api/v1/users",
            "admin",
            json!({"username": "op-web", "role": "operator", "password": "a-long-password"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let op = Browser::open(t, "op-web").await;
    let (status, html) = op.page("/intake").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("从通话记录或长文本填单"), "{html}");
    let transcript = "喂，我姓李，李先生，电话幺三八 零九七一 二二三三，城东区东关大街街道的路灯从前天开始就不亮了";
    let (status, _, html) = op
        .post(
            "/intake/extract",
            &[
                ("transcript", transcript),
                ("channel", "phone"),
                ("kind", "complaint"),
                ("title", "路灯坏了"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains("value=\"13809712233\""),
        "the phone filled: {html}"
    );
    assert!(html.contains("value=\"李先生\""), "the name filled");
    assert!(
        html.contains("value=\"城东区东关大街街道\""),
        "the address filled"
    );
    assert!(html.contains("value=\"路灯坏了\""), "what was typed stays");
    assert!(html.contains("时间 从前天开始"), "the notice says the time");
    assert!(html.contains("城东区 东关大街街道"), "and the division");
    // Saved as any intake: the ticket has what was filled.
    let (status, _, _) = op
        .post(
            "/intake",
            &[
                ("phone", "13809712233"),
                ("name", "李先生"),
                ("channel", "phone"),
                ("kind", "complaint"),
                ("address", "城东区东关大街街道"),
                ("title", "路灯坏了"),
                ("content", transcript),
                ("transcript", transcript),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let list = t.get("/api/v1/tickets", "admin").await.body;
    assert_eq!(list["items"][0]["title"], "路灯坏了", "{list}");
    assert_eq!(list["items"][0]["division_code"], "630102001", "{list}");
}
