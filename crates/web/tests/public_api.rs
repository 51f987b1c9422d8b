//! The citizen's look-up (群众查询), over HTTP on both backends, the API and the portal page:
//! for every state a ticket can be in, the citizen reads the state in plain words and
//! nothing else of the ticket's inner life — no internal note, no reason for a return, no
//! staff, no contact details; a wrong code answers exactly as a missing number does; a
//! number guessed at too often is locked.

mod common;

use common::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both!(
    every_state_reads_plainly_and_nothing_leaks,
    a_wrong_code_is_a_missing_number_and_guessing_is_locked,
    a_merged_request_follows_the_matter_it_joined,
    a_citizen_submits_and_follows_a_request,
    submissions_are_limited_per_phone_and_address,
    the_portal_form_submits_and_refuses_what_it_must,
    the_portal_proposes_from_the_citizens_own_words_only
);

/// While a citizen types: categories and the place from their words, the emergency number
/// when called for; never another citizen's request, name or number.
async fn the_portal_proposes_from_the_citizens_own_words_only(t: &TestApp) {
    // Another citizen's open request about the same thing, at the same place.
    let other = t.create("楼下下水道返水，污水冒到院子里").await;
    let (other_number, _) = number_and_code(t, other).await;
    let r = t.post("/api/v1/classifier/train", "admin", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (status, html, _) = common::console::get_page(
        t,
        &format!(
            "/public/propose?content={}&address={}",
            common::enc("楼下下水道返水，污水冒到院子里"),
            common::enc("东关大街北关社区4号楼")
        ),
        None,
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("北关社区"), "{html}");
    assert!(html.contains("name=\"category_code\""), "{html}");
    for secret in [
        other_number.as_str(),
        "张三",
        "13812345678",
        "138****5678",
        "东关大街街道办事处",
    ] {
        assert!(!html.contains(secret), "`{secret}` proposed: {html}");
    }
    let (_, html, _) = common::console::get_page(
        t,
        &format!(
            "/public/propose?content={}",
            common::enc("楼道里闻到煤气味")
        ),
        None,
        "",
    )
    .await;
    assert!(html.contains("<strong>119</strong>"), "{html}");
    // A category the citizen picked goes with the request.
    let r = submit(
        t,
        json!({"content": "路灯不亮", "category_code": "010403", "citizen": {"phone": "13909712222"}}),
        None,
    )
    .await;
    let number = r.body["number"].as_str().unwrap().to_string();
    let found = t
        .get(&format!("/api/v1/tickets/search?q={number}"), "dispatcher")
        .await
        .body;
    assert_eq!(found["items"][0]["category_code"], "010403");
}

async fn submit(t: &TestApp, body: Value, key: Option<&str>) -> common::Resp {
    let headers: Vec<(&str, &str)> = key.map(|k| ("idempotency-key", k)).into_iter().collect();
    t.raw(
        reqwest::Method::POST,
        "/api/v1/public/requests",
        None,
        Some(body.to_string()),
        &headers,
    )
    .await
}

/// No account: a request with a phone number is received on the `web` channel, placed from
/// its address, and followed with the number and code it was given.
async fn a_citizen_submits_and_follows_a_request(t: &TestApp) {
    let body = json!({"content": "楼下下水道返水，污水冒到院子里", "address": "东关大街北关社区4号楼",
                      "citizen": {"name": "马女士", "phone": "139 0971 1234"}});
    let r = submit(t, body.clone(), Some("portal-1")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let (number, code) = (
        r.body["number"].as_str().unwrap().to_string(),
        r.body["tracking_code"].as_str().unwrap().to_string(),
    );
    assert!(r.body["expected_reply_by"].is_string());
    assert_eq!(r.body["call_now"], Value::Null);
    // A retry with the same key is the same request.
    let again = submit(t, body, Some("portal-1")).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["number"], number.as_str());
    // The staff see it as any other request, placed from its address.
    let found = t
        .get(&format!("/api/v1/tickets/search?q={number}"), "dispatcher")
        .await
        .body;
    let staff = &found["items"][0];
    assert_eq!(staff["channel"], "web", "{found}");
    assert_eq!(staff["kind"], "help");
    assert_eq!(staff["citizen"]["phone"], "13909711234");
    assert_eq!(staff["division_code"], "630102001001");
    assert_eq!(
        staff["created_by"], 0,
        "received by the system for the portal"
    );
    let view = public(t, &number, &code).await;
    assert_eq!(view.body["state_label"], "已受理", "{}", view.body);
    // Refused and named: no phone, an unknown field, an empty request.
    for (body, field) in [
        (
            json!({"content": "路灯不亮", "citizen": {"name": "李"}}),
            "citizen.phone",
        ),
        (
            json!({"content": "路灯不亮", "citizen": {"phone": "123"}}),
            "citizen.phone",
        ),
        (
            json!({"content": "路灯不亮", "citizen": {"phone": "13900000000"}, "lead_unit_id": 1}),
            "lead_unit_id",
        ),
        (
            json!({"content": "  ", "citizen": {"phone": "13900000000"}}),
            "content",
        ),
    ] {
        let r = submit(t, body, None).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {}",
            r.body
        );
        assert_eq!(r.body["error"]["field"], field, "{}", r.body);
    }
    // An emergency: the number to call now, and the request kept.
    let r = submit(
        t,
        json!({"content": "楼道里闻到煤气味，很浓", "citizen": {"phone": "13909715678"}}),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["call_now"], "119");
    // Flagged on the request for the staff, as every channel's emergencies are.
    let emergency_number = r.body["number"].as_str().unwrap().to_string();
    let found = t
        .get(
            &format!("/api/v1/tickets/search?q={emergency_number}"),
            "dispatcher",
        )
        .await
        .body;
    assert_eq!(found["items"][0]["emergency"], "119", "{found}");
    assert!(
        staff.get("emergency").is_none(),
        "no flag without an emergency"
    );
    let by_phone = t
        .post(
            "/api/v1/tickets",
            "operator",
            json!({"channel": "phone", "kind": "help", "content": "家里着火了，浓烟很大"}),
        )
        .await;
    assert_eq!(by_phone.body["emergency"], "119", "{}", by_phone.body);
}

/// Five an hour from one phone number or one address; the sixth is refused in Chinese.
async fn submissions_are_limited_per_phone_and_address(t: &TestApp) {
    for i in 0..5 {
        let r = submit(
            t,
            json!({"content": format!("第{i}件：路灯不亮"), "citizen": {"phone": "13900001234"}}),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{i}: {}", r.body);
    }
    let sixth = submit(
        t,
        json!({"content": "第六件：路灯不亮", "citizen": {"phone": "13900001234"}}),
        None,
    )
    .await;
    assert_eq!(
        sixth.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        sixth.body
    );
    assert_eq!(sixth.body["error"]["code"], "locked");
    assert!(
        sixth.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("每小时最多5件")
    );
    // Another number from the same address: the address's limit.
    let other = submit(
        t,
        json!({"content": "井盖缺失", "citizen": {"phone": "13900005678"}}),
        None,
    )
    .await;
    assert_eq!(other.status, StatusCode::TOO_MANY_REQUESTS);
    // Refused requests wrote nothing.
    let list = t
        .get("/api/v1/tickets?channel=web", "dispatcher")
        .await
        .body;
    assert_eq!(list["items"].as_array().unwrap().len(), 5);
}

/// The portal's form: a token pair against posts from elsewhere, a trap for robots, errors
/// beside the field, and the receipt.
async fn the_portal_form_submits_and_refuses_what_it_must(t: &TestApp) {
    use common::console::{client, cookie_value, set_cookie};
    let c = client();
    let page = c
        .get(format!("{}/public/submit", t.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let token = cookie_value(&set_cookie(&page, "mb_pform").unwrap());
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!("name=\"_form\" value=\"{token}\"")));
    for secret in ["来电历史", "duplicates", "13812345678"] {
        assert!(!html.contains(secret));
    }
    let post = |fields: Vec<(&'static str, String)>, with_cookie: bool| {
        let mut req = c.post(format!("{}/public/submit", t.base)).form(&fields);
        if with_cookie {
            req = req.header(reqwest::header::COOKIE, format!("mb_pform={token}"));
        }
        async move {
            let r = req.send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let ok = vec![
        ("_form", token.clone()),
        ("kind", "complaint".to_string()),
        ("content", "小区门口路灯不亮一周了".to_string()),
        ("address", "东关大街北关社区".to_string()),
        ("phone", "13900002222".to_string()),
    ];
    // Without the cookie (a form posted from another site): refused, nothing written.
    let (status, _) = post(ok.clone(), false).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The trap filled in: refused.
    let mut trapped = ok.clone();
    trapped.push(("website", "http://spam.example".to_string()));
    let (status, _) = post(trapped, true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // No phone: said beside the field, what was typed kept.
    let no_phone: Vec<_> = ok.iter().filter(|(k, _)| *k != "phone").cloned().collect();
    let (status, html) = post(no_phone, true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("请填写正确的手机或固定电话号码"), "{html}");
    assert!(html.contains("小区门口路灯不亮一周了"));
    assert_eq!(
        t.get("/api/v1/tickets?channel=web", "dispatcher")
            .await
            .body["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // Submitted: the receipt with the number and the code, and the way to follow it.
    let (status, html) = post(ok, true).await;
    assert_eq!(status, StatusCode::CREATED, "{html}");
    let number = html
        .split("id=\"receipt-number\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap()
        .to_string();
    let code = html
        .split("id=\"receipt-code\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap()
        .to_string();
    assert!(html.contains(&format!("/public/track?number={number}&amp;code={code}")));
    let view = public(t, &number, &code).await;
    assert_eq!(view.status, StatusCode::OK);
    assert_eq!(view.body["title"], "小区门口路灯不亮一周了");
}

/// 并单: the citizen of a request merged into the same matter sees their own number and the
/// matter's progress and approved answer.
async fn a_merged_request_follows_the_matter_it_joined(t: &TestApp) {
    let parent = t.create("小区门口路灯不亮").await;
    let child = t.create("门口的路灯坏了好几天").await;
    t.act(child, "merge", "operator", json!({"parent_id": parent}))
        .await;
    let (number, code) = number_and_code(t, child).await;
    let before = public(t, &number, &code).await.body;
    assert_eq!(before["state_label"], "已并入同一诉求办理");
    assert_eq!(before["number"], number.as_str());
    assert_eq!(before["answer"], Value::Null);
    t.bring_to(parent, "replied").await;
    let during = public(t, &number, &code).await.body;
    assert_eq!(during["state_label"], "已并入同一诉求办理");
    assert_eq!(during["answer"], Value::Null, "not before it is approved");
    // Once the matter's answer is approved, the merged request has it too, to rate.
    t.act(parent, "approve-reply", "dispatcher", json!({}))
        .await;
    let after = public(t, &number, &code).await.body;
    assert_eq!(after["state_label"], "已答复");
    assert_eq!(after["may_rate"], true);
    assert_eq!(
        after["title"], "门口的路灯坏了好几天",
        "the child's own request"
    );
    assert_eq!(
        after["answer"], "已处理",
        "the matter's approved answer: {after}"
    );
    assert!(after["unit"].is_string());
}

/// (state, what the citizen reads), written out by hand.
const STATES: [(&str, &str); 12] = [
    ("received", "已受理"),
    ("resolved_directly", "已办结"),
    ("dispatched", "已转交办理单位"),
    ("in_consultation", "已转交办理单位"),
    ("return_requested", "已转交办理单位"),
    ("in_progress", "办理中"),
    ("replied", "办理中"),
    ("awaiting_callback", "已答复"),
    ("rating_review", "评价核实中"),
    ("closed", "已办结"),
    ("merged", "已并入同一诉求办理"),
    ("not_accepted", "不予受理"),
];

/// What must never reach a citizen's screen.
const SECRET: [&str; 9] = [
    "张三",         // the citizen's name (theirs, but not shown back to anyone asking)
    "13812345678",  // the phone
    "138****5678",  // even masked
    "内部备注：",   // an internal note
    "非本单位职责", // a unit's reason to give the ticket back
    "dispatcher",   // staff
    "operator",
    "协办",          // other units' part
    "tracking_code", // the code itself is never echoed
];

/// A ticket's number and tracking code, as the operator reads them out.
async fn number_and_code(t: &TestApp, id: i64) -> (String, String) {
    let staff = t
        .get(&format!("/api/v1/tickets/{id}"), "dispatcher")
        .await
        .body;
    (
        staff["number"].as_str().unwrap().to_string(),
        staff["tracking_code"].as_str().unwrap().to_string(),
    )
}

async fn public(t: &TestApp, number: &str, code: &str) -> common::Resp {
    t.raw(
        reqwest::Method::GET,
        &format!(
            "/api/v1/public/requests/{}?code={}",
            common::enc(number),
            common::enc(code)
        ),
        None,
        None,
        &[],
    )
    .await
}

async fn page(t: &TestApp, number: &str, code: &str) -> (StatusCode, String) {
    let (status, html, _) = common::console::get_page(
        t,
        &format!(
            "/public/track?number={}&code={}",
            common::enc(number),
            common::enc(code)
        ),
        None,
        "",
    )
    .await;
    (status, html)
}

async fn every_state_reads_plainly_and_nothing_leaks(t: &TestApp) {
    let lead_name = t.get("/api/v1/units", "admin").await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == t.lead_unit)
        .unwrap()["name"]
        .as_str()
        .unwrap()
        .to_string();
    for (state, label) in STATES {
        let id = t.create(&format!("楼道灯坏了（{state}）")).await;
        // An internal note on every ticket that may take one.
        let _ = t
            .post(
                &format!("/api/v1/tickets/{id}/add-note"),
                "dispatcher",
                json!({"note": "内部备注：市民情绪激动，注意沟通"}),
            )
            .await;
        let id = t.bring_to(id, state).await;
        let (number, code) = number_and_code(t, id).await;
        let r = public(t, &number, &code.to_lowercase()).await;
        assert_eq!(r.status, StatusCode::OK, "{state}: {}", r.body);
        let b = &r.body;
        let mut keys: Vec<&str> = b.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            vec![
                "answer",
                "expected_reply_by",
                "may_rate",
                "next_step",
                "number",
                "received_at",
                "redirect_to",
                "state",
                "state_label",
                "title",
                "unit"
            ],
            "{state}"
        );
        assert_eq!(b["state_label"], label, "{state}");
        assert_eq!(b["may_rate"], state == "awaiting_callback", "{state}");
        assert_eq!(b["number"], number.as_str());
        let text = b.to_string();
        let (status, html) = page(t, &number, &code).await;
        assert_eq!(status, StatusCode::OK, "{state}");
        assert!(html.contains(label), "{state}: {html}");
        for secret in SECRET {
            assert!(!text.contains(secret), "{state}: `{secret}` in {text}");
            assert!(!html.contains(secret), "{state}: `{secret}` on the page");
        }
        match state {
            "dispatched" | "in_progress" => {
                assert_eq!(b["unit"], lead_name.as_str(), "{state}");
                assert!(b["expected_reply_by"].is_string(), "{state}: {b}");
                assert_eq!(b["answer"], Value::Null);
            }
            "replied" => {
                // The unit's reply is under the hotline's review: not shown yet.
                assert_eq!(b["unit"], lead_name.as_str(), "{state}");
                assert_eq!(b["answer"], Value::Null, "no answer before it is approved");
            }
            "awaiting_callback" | "rating_review" | "closed" => {
                assert_eq!(b["answer"], "已处理", "{state}: the approved reply");
                assert_eq!(b["expected_reply_by"], Value::Null);
            }
            "received" => assert_eq!(b["unit"], Value::Null),
            "not_accepted" => assert_eq!(b["answer"], "属于诉讼事项"),
            _ => {}
        }
    }
}

async fn a_wrong_code_is_a_missing_number_and_guessing_is_locked(t: &TestApp) {
    let id = t.ticket_in("dispatched").await;
    let (number, code) = number_and_code(t, id).await;
    let wrong = public(t, &number, "WRONGCODE0000000").await;
    let missing = public(t, "XN19990101000001", &code).await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    assert_eq!(wrong.status, missing.status);
    assert_eq!(wrong.body, missing.body, "word for word");
    let (s1, p1) = page(t, &number, "WRONGCODE0000000").await;
    let (s2, p2) = page(t, "XN19990101000001", &code).await;
    assert_eq!((s1, s2), (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND));
    // The pages differ only in what was typed back into the form.
    let typed = |p: &str, n: &str, c: &str| {
        p.replace(&format!("value=\"{n}\""), "value=\"N\"")
            .replace(&format!("value=\"{c}\""), "value=\"C\"")
    };
    assert_eq!(
        typed(&p1, &number, "WRONGCODE0000000"),
        typed(&p2, "XN19990101000001", &code)
    );
    // No code at all: said so, naming the field.
    let r = public(t, &number, "").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["error"]["field"], "code");
    // Eight more wrong codes make ten (one through the API above, one through the page):
    // the eleventh try is refused even with the right code; the number is locked, not the
    // others.
    for _ in 0..8 {
        assert_eq!(
            public(t, &number, "WRONGCODE0000000").await.status,
            StatusCode::NOT_FOUND
        );
    }
    let locked = public(t, &number, &code).await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        locked.body
    );
    assert_eq!(locked.body["error"]["code"], "locked");
    let (status, html) = page(t, &number, &code).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(html.contains("一小时后再试"));
    let other = t.ticket_in("received").await;
    let (other_number, other_code) = number_and_code(t, other).await;
    let r = public(t, &other_number, &other_code).await;
    assert_eq!(r.status, StatusCode::OK);
}
