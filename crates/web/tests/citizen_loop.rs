//! The citizen's loop closed, over HTTP on both backends: the SMS a citizen is sent (receipt
//! from any channel, the approved answer, the request to rate it), their rating on the
//! portal or by answering the SMS (一事一评), the hotline's review of a bad one (差评待审), and
//! the figures counting ratings by source. Inbound SMS are signed; replays change nothing.

mod common;

use common::{SMS_SECRET, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both!(
    the_citizen_is_texted_the_receipt_the_answer_and_the_rating_request,
    a_rating_on_the_portal_closes_or_goes_to_review,
    a_bad_rating_is_reviewed_and_counted_by_source,
    inbound_sms_are_signed_rate_and_become_requests,
    administrators_edit_the_texts,
    a_citizen_sees_their_own_requests_by_phone,
    the_portal_rates_without_a_script,
    merged_requests_hear_back_with_their_parent
);

/// The citizen's SMS in the outbox: (text) of those sent to `phone`, oldest first.
async fn texts_to(t: &TestApp, phone: &str) -> Vec<String> {
    let r = t
        .get("/api/v1/outbox?channel=sms&limit=1000", "admin")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mut v: Vec<(i64, String)> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["recipient"] == phone)
        .map(|n| {
            let payload: Value = serde_json::from_str(n["payload"].as_str().unwrap()).unwrap();
            (
                n["id"].as_i64().unwrap(),
                payload["text"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v.into_iter().map(|(_, t)| t).collect()
}

async fn number_and_code(t: &TestApp, id: i64) -> (String, String) {
    let b = t
        .get(&format!("/api/v1/tickets/{id}"), "operator")
        .await
        .body;
    (
        b["number"].as_str().unwrap().to_string(),
        b["tracking_code"].as_str().unwrap().to_string(),
    )
}

/// An operator's phone intake for a citizen.
async fn phoned_in(t: &TestApp, phone: &str, extra: Value) -> i64 {
    let mut body = json!({"channel": "phone", "kind": "complaint", "content": "小区路灯不亮",
        "citizen": {"name": "王五", "phone": phone}});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let r = t.post("/api/v1/tickets", "operator", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_i64().unwrap()
}

async fn the_citizen_is_texted_the_receipt_the_answer_and_the_rating_request(t: &TestApp) {
    let phone = "13907711111";
    let id = phoned_in(t, phone, json!({})).await;
    let (number, code) = number_and_code(t, id).await;
    let link = format!("https://12345.example.gov.cn/public/track?number={number}&code={code}");
    assert_eq!(
        texts_to(t, phone).await,
        [format!(
            "【12345】您的诉求已受理，编号{number}，查询码{code}。查询办理进度：{link}"
        )]
    );
    // Nothing more while the units work; the answer and the rating request once approved.
    t.bring_to(id, "replied").await;
    assert_eq!(texts_to(t, phone).await.len(), 1);
    t.act(id, "approve-reply", "dispatcher", json!({})).await;
    let texts = texts_to(t, phone).await;
    assert_eq!(
        texts[1..],
        [
            format!("【12345】您的诉求{number}已有答复：已处理 详情：{link}"),
            format!(
                "【12345】请评价诉求{number}的办理结果，回复数字：1满意，2基本满意，3不满意。也可在此评价：{link}"
            ),
        ]
    );
    // A long answer is shortened to 60 characters in the SMS.
    let long = "已联系供电公司更换灯具".repeat(8);
    let id2 = phoned_in(t, "13907711112", json!({})).await;
    t.bring_to(id2, "in_progress").await;
    t.act(id2, "reply", "lead", json!({"content": long})).await;
    t.act(id2, "approve-reply", "dispatcher", json!({})).await;
    let reply = &texts_to(t, "13907711112").await[1];
    let shown: String = long.chars().take(60).collect();
    assert!(reply.contains(&format!("{shown}… 详情")), "{reply}");

    // A confidential request, or a citizen who asked not to be texted: nothing sent.
    for (phone, extra) in [
        ("13907711113", json!({"confidential": true})),
        (
            "13907711114",
            json!({"citizen": {"name": "赵六", "phone": "13907711114", "no_sms": true}}),
        ),
    ] {
        let id = phoned_in(t, phone, extra).await;
        t.bring_to(id, "awaiting_callback").await;
        assert_eq!(texts_to(t, phone).await, Vec::<String>::new(), "{phone}");
    }
    // The portal's requests get the same receipt.
    let r = t
        .post_anonymous(
            "/api/v1/public/requests",
            json!({"content": "公园健身器材损坏", "citizen": {"phone": "13907711115"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let texts = texts_to(t, "13907711115").await;
    assert_eq!(texts.len(), 1);
    assert!(
        texts[0].contains(r.body["number"].as_str().unwrap())
            && texts[0].contains(r.body["tracking_code"].as_str().unwrap()),
        "{texts:?}"
    );
}

async fn rate(t: &TestApp, number: &str, body: Value) -> common::Resp {
    t.post_anonymous(&format!("/api/v1/public/requests/{number}/rating"), body)
        .await
}

async fn a_rating_on_the_portal_closes_or_goes_to_review(t: &TestApp) {
    let id = t.ticket_in("in_progress").await;
    let (number, code) = number_and_code(t, id).await;
    // Not answered yet: nothing to rate.
    let r = rate(
        t,
        &number,
        json!({"code": code, "satisfaction": "satisfied"}),
    )
    .await;
    assert_eq!(
        (r.status, r.body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_awaiting_rating")),
        "{}",
        r.body
    );
    t.act(id, "reply", "lead", json!({"content": "已处理"}))
        .await;
    t.act(id, "approve-reply", "dispatcher", json!({})).await;
    // A wrong code answers as a missing number; a bad body names its field.
    let wrong = rate(
        t,
        &number,
        json!({"code": "WRONG1", "satisfaction": "satisfied"}),
    )
    .await;
    let missing = rate(
        t,
        "XN20990101999999",
        json!({"code": code, "satisfaction": "satisfied"}),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    assert_eq!(wrong.body, missing.body);
    let r = rate(t, &number, json!({"code": code, "satisfaction": "very"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = rate(
        t,
        &number,
        json!({"code": code, "satisfaction": "satisfied", "comment": "好".repeat(501)}),
    )
    .await;
    assert_eq!(r.body["error"]["field"], "comment", "{}", r.body);
    // Resolved and satisfied: closed, as a citizen's callback.
    let r = rate(
        t,
        &number,
        json!({"code": code, "resolution": "resolved", "satisfaction": "satisfied",
               "contacted": true, "comment": "师傅很快就来修好了"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (r.body["state_label"].as_str(), r.body["may_rate"].as_bool()),
        (Some("已办结"), Some(false))
    );
    let ticket = t
        .get(&format!("/api/v1/tickets/{id}"), "callback")
        .await
        .body;
    assert_eq!(ticket["state"], "closed");
    assert_eq!(
        ticket["callback"],
        json!({"contacted": true, "resolution": "resolved", "satisfaction": "satisfied", "source": "citizen"})
    );
    // Rated once.
    let again = rate(
        t,
        &number,
        json!({"code": code, "satisfaction": "dissatisfied"}),
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(
        again.body["error"]["message"],
        "this request has been rated already"
    );
    // The timeline says whose answers they were.
    let events = t
        .get(&format!("/api/v1/tickets/{id}/events"), "dispatcher")
        .await
        .body;
    let rated = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "callback_recorded")
        .unwrap()
        .clone();
    assert_eq!(rated["source"], "citizen");
    assert_eq!(rated["note"], "师傅很快就来修好了");

    // Dissatisfied: not reopened, but waiting for the hotline's review; an agent no longer
    // calls it back.
    let id = t.ticket_in("awaiting_callback").await;
    let (number, code) = number_and_code(t, id).await;
    let r = rate(
        t,
        &number,
        json!({"code": code, "satisfaction": "dissatisfied"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["state_label"], "评价核实中");
    assert_eq!(t.state(id).await, "rating_review");
    let r = t
        .post(
            &format!("/api/v1/tickets/{id}/record-callback"),
            "callback",
            json!({"contacted": true, "resolution": "resolved", "satisfaction": "satisfied"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    // The dispatchers are told.
    let notices = t.get("/api/v1/notices", "dispatcher").await.body;
    assert!(
        notices["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["text"]
                .as_str()
                .unwrap()
                .contains("市民评价不满意，请审核（差评待审）")),
        "{notices}"
    );
}

async fn a_bad_rating_is_reviewed_and_counted_by_source(t: &TestApp) {
    let kpis = |source: &'static str| async move {
        let r = t
            .get(&format!("/api/v1/kpis?source={source}"), "analyst")
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let row = r.body["rows"][0].clone();
        (
            row["callbacks"].as_u64().unwrap_or(0),
            row["citizen_ratings"].as_u64().unwrap_or(0),
            row["excluded_ratings"].as_u64().unwrap_or(0),
            row["satisfaction_rate"].as_f64(),
        )
    };
    // One agent's callback (satisfied), one citizen's rating (basically satisfied).
    t.ticket_in("closed").await;
    let id = t.ticket_in("awaiting_callback").await;
    let (number, code) = number_and_code(t, id).await;
    rate(
        t,
        &number,
        json!({"code": code, "satisfaction": "basically"}),
    )
    .await;
    assert_eq!(kpis("all").await, (2, 1, 0, Some(0.8)));
    assert_eq!(kpis("citizen").await, (1, 1, 0, Some(0.6)));
    assert_eq!(kpis("agent").await, (1, 0, 0, Some(1.0)));
    let r = t.get("/api/v1/kpis?source=robot", "analyst").await;
    assert_eq!(r.body["error"]["field"], "source", "{}", r.body);

    // Two bad ratings: not counted until reviewed.
    let unfair = t.ticket_in("rating_review").await;
    let fair = t.ticket_in("rating_review").await;
    assert_eq!(kpis("citizen").await, (1, 1, 0, Some(0.6)));
    let queue = t
        .get("/api/v1/tickets?state=rating_review", "dispatcher")
        .await
        .body;
    assert_eq!(queue["items"].as_array().unwrap().len(), 2, "{queue}");
    // A unit may not judge its own rating; the reason is required to exclude one.
    let r = t
        .post(
            &format!("/api/v1/tickets/{unfair}/review-rating"),
            "lead",
            json!({"reasonable": false, "reason": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = t
        .post(
            &format!("/api/v1/tickets/{unfair}/review-rating"),
            "dispatcher",
            json!({"reasonable": false}),
        )
        .await;
    assert_eq!(r.body["error"]["field"], "reason", "{}", r.body);
    t.act(
        unfair,
        "review-rating",
        "dispatcher",
        json!({"reasonable": false, "reason": "诉求超出政策范围，已依法答复"}),
    )
    .await;
    assert_eq!(t.state(unfair).await, "closed");
    t.act(
        fair,
        "review-rating",
        "supervisor",
        json!({"reasonable": true}),
    )
    .await;
    assert_eq!(t.state(fair).await, "dispatched");
    // The reasonable one counts as the bad callback it is; the other apart.
    assert_eq!(kpis("citizen").await, (2, 2, 1, Some(0.3)));
    assert_eq!(kpis("all").await.0, 3);
    // The rebuild from the events agrees.
    let r = t
        .post("/api/v1/aggregates/rebuild", "admin", json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(kpis("citizen").await, (2, 2, 1, Some(0.3)));
    // The workbook says the same, in columns of their own.
    let r = t
        .client
        .get(format!("{}/api/v1/kpis.xlsx?source=citizen", t.base))
        .bearer_auth(&t.tokens["analyst"])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let rows = xlsx_rows(&r.bytes().await.unwrap());
    let column = |name: &str| rows[0].iter().position(|h| h == name).unwrap();
    assert_eq!(rows[1][column("回访量")], "2");
    assert_eq!(rows[1][column("其中市民自评")], "2");
    assert_eq!(rows[1][column("剔除市民差评")], "1");
    assert_eq!(rows[1][column("满意率")], "30.00%");
}

/// The cells of a workbook's first sheet, row by row, each at its column (every cell is a
/// shared string; an empty one is not written).
fn xlsx_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut read = |name: &str| {
        let mut s = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
        s
    };
    let (strings, sheet) = (
        read("xl/sharedStrings.xml"),
        read("xl/worksheets/sheet1.xml"),
    );
    let text_of = |xml: &str| -> String {
        let t = &xml[xml.find("<t").unwrap()..];
        let t = &t[t.find('>').unwrap() + 1..];
        t[..t.find("</t>").unwrap()].to_string()
    };
    let shared: Vec<String> = strings.split("<si>").skip(1).map(text_of).collect();
    sheet
        .split("<row ")
        .skip(1)
        .map(|row| {
            let mut cells = Vec::new();
            for cell in row.split("<c ").skip(1) {
                // r="AB2": the column from its letters.
                let r = &cell[cell.find("r=\"").unwrap() + 3..];
                let column = r
                    .chars()
                    .take_while(char::is_ascii_uppercase)
                    .fold(0, |n, c| n * 26 + (c as usize - 'A' as usize + 1))
                    - 1;
                let v = &cell[cell.find("<v>").unwrap() + 3..];
                cells.resize(column + 1, String::new());
                cells[column] =
                    shared[v[..v.find("</v>").unwrap()].parse::<usize>().unwrap()].clone();
            }
            cells
        })
        .collect()
}

/// Posts an inbound SMS signed with `secret` at `ts`.
async fn inbound(t: &TestApp, body: &Value, secret: &str, ts: i64) -> common::Resp {
    let text = body.to_string();
    let sig = format!(
        "sha256={}",
        mashangban_app::notify::signature(secret, ts, &text)
    );
    let ts = ts.to_string();
    t.raw(
        Method::POST,
        "/api/v1/channels/sms/inbound",
        None,
        Some(text),
        &[
            ("x-mashangban-timestamp", ts.as_str()),
            ("x-mashangban-signature", sig.as_str()),
        ],
    )
    .await
}

async fn inbound_sms_are_signed_rate_and_become_requests(t: &TestApp) {
    let now = chrono::Utc::now().timestamp();
    let phone = "13907712222";
    let id = phoned_in(t, phone, json!({})).await;
    t.bring_to(id, "awaiting_callback").await;
    let (number, _) = number_and_code(t, id).await;
    let sms = json!({"message_id": "gw-0001", "from": phone, "text": "3"});
    // A wrong secret, an old timestamp, no signature: 401, nothing recorded.
    for r in [
        inbound(t, &sms, "not-the-secret-at-all", now).await,
        inbound(t, &sms, SMS_SECRET, now - 301).await,
        t.raw(
            Method::POST,
            "/api/v1/channels/sms/inbound",
            None,
            Some(sms.to_string()),
            &[],
        )
        .await,
    ] {
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
        assert_eq!(r.body["error"]["code"], "unauthenticated");
    }
    assert_eq!(t.state(id).await, "awaiting_callback");
    // A control character in a correctly signed message is refused like anywhere in the API.
    let bell = json!({"message_id": "gw-0000", "from": phone, "text": "路灯\u{7}坏了很久了"});
    let r = inbound(t, &bell, SMS_SECRET, now).await;
    assert_eq!(
        (r.status, r.body["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("text")),
        "{}",
        r.body
    );
    // "3": the newest answer of the number awaiting a rating is rated dissatisfied.
    let r = inbound(t, &sms, SMS_SECRET, now).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body, json!({"outcome": "rated", "number": number}));
    assert_eq!(t.state(id).await, "rating_review");
    let cb = t
        .get(&format!("/api/v1/tickets/{id}"), "callback")
        .await
        .body["callback"]
        .clone();
    assert_eq!(
        cb,
        json!({"contacted": null, "resolution": null, "satisfaction": "dissatisfied", "source": "citizen"})
    );
    // The same message again: nothing changes.
    let r = inbound(t, &sms, SMS_SECRET, now).await;
    assert_eq!(r.body, json!({"outcome": "replay", "number": null}));
    // A digit with nothing to rate records nothing.
    let r = inbound(
        t,
        &json!({"message_id": "gw-0002", "from": phone, "text": "1"}),
        SMS_SECRET,
        now,
    )
    .await;
    assert_eq!(
        r.body,
        json!({"outcome": "nothing_to_rate", "number": null})
    );
    // Words: a new request on channel sms, and its receipt texted back.
    let r = inbound(
        t,
        &json!({"message_id": "gw-0003", "from": "139 0771 3333", "text": "我家楼下的下水道堵了好几天了"}),
        SMS_SECRET,
        now,
    )
    .await;
    assert_eq!(r.body["outcome"], "received", "{}", r.body);
    let new_number = r.body["number"].as_str().unwrap().to_string();
    let found = t
        .get(
            &format!("/api/v1/tickets/search?q={new_number}"),
            "dispatcher",
        )
        .await
        .body;
    assert_eq!(found["items"][0]["channel"], "sms", "{found}");
    assert_eq!(found["items"][0]["citizen"]["phone"], "13907713333");
    let texts = texts_to(t, "13907713333").await;
    assert!(
        texts.len() == 1 && texts[0].contains(&new_number),
        "{texts:?}"
    );
    // A bad sender is named.
    let r = inbound(
        t,
        &json!({"message_id": "gw-0004", "from": "abc", "text": "你好"}),
        SMS_SECRET,
        now,
    )
    .await;
    assert_eq!(
        (r.status, r.body["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("from")),
        "{}",
        r.body
    );
}

async fn administrators_edit_the_texts(t: &TestApp) {
    let r = t.get("/api/v1/citizen-texts", "dispatcher").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mut texts = t.get("/api/v1/citizen-texts", "admin").await.body;
    for (bad, field) in [
        ("您的诉求已受理", "receipt"),
        ("编号{number}，{phone}", "receipt"),
        ("", "receipt"),
    ] {
        let mut b = texts.clone();
        b["receipt"] = json!(bad);
        let r = t
            .raw(
                Method::PUT,
                "/api/v1/citizen-texts",
                Some("admin"),
                Some(b.to_string()),
                &[],
            )
            .await;
        assert_eq!(
            (r.status, r.body["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{bad}: {}",
            r.body
        );
    }
    texts["receipt"] = json!("【西宁12345】已收到您的诉求，编号{number}，查询码{code}");
    let r = t
        .raw(
            Method::PUT,
            "/api/v1/citizen-texts",
            Some("admin"),
            Some(texts.to_string()),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let id = phoned_in(t, "13907714444", json!({})).await;
    let (number, code) = number_and_code(t, id).await;
    assert_eq!(
        texts_to(t, "13907714444").await,
        [format!(
            "【西宁12345】已收到您的诉求，编号{number}，查询码{code}"
        )]
    );
}

/// The code in the newest SMS to a phone.
async fn code_sent_to(t: &TestApp, phone: &str) -> Option<String> {
    let last = texts_to(t, phone).await.pop()?;
    let at = last.find("验证码为")? + "验证码为".len();
    Some(last[at..at + 6].to_string())
}

/// Opens a session; the cookie's `name=value`, or the answer's status.
async fn session(t: &TestApp, phone: &str, code: &str) -> Result<String, StatusCode> {
    let r = t
        .client
        .post(format!("{}/api/v1/public/session", t.base))
        .header("content-type", "application/json")
        .body(json!({"phone": phone, "code": code}).to_string())
        .send()
        .await
        .unwrap();
    if r.status() != StatusCode::OK {
        return Err(r.status());
    }
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    // (The test server's public address is https.)
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Secure"),
        "{cookie}"
    );
    Ok(cookie.split(';').next().unwrap().to_string())
}

async fn mine(t: &TestApp, cookie: &str) -> common::Resp {
    t.raw(
        Method::GET,
        "/api/v1/public/my-requests",
        None,
        None,
        &[("cookie", cookie)],
    )
    .await
}

async fn a_citizen_sees_their_own_requests_by_phone(t: &TestApp) {
    let phone = "13907716666";
    // Two requests taken by phone, one on the portal; another citizen's.
    let by_phone = [
        phoned_in(t, phone, json!({})).await,
        phoned_in(t, phone, json!({"confidential": true})).await,
    ];
    let r = t
        .post_anonymous(
            "/api/v1/public/requests",
            json!({"content": "垃圾桶满了没人清运", "citizen": {"phone": "139 0771 6666"}}),
        )
        .await;
    let online = r.body["number"].as_str().unwrap().to_string();
    let someone_else = phoned_in(t, "13907717777", json!({})).await;

    // A code for a number with requests, and for one without: the same answer.
    let sent = t
        .post_anonymous("/api/v1/public/otp", json!({"phone": phone}))
        .await;
    let nobody = t
        .post_anonymous("/api/v1/public/otp", json!({"phone": "13907718888"}))
        .await;
    assert_eq!(sent.status, StatusCode::ACCEPTED);
    assert_eq!((nobody.status, &nobody.body), (sent.status, &sent.body));
    assert_eq!(sent.body, json!({"expires_in_seconds": 300}));
    assert_eq!(texts_to(t, "13907718888").await, Vec::<String>::new());
    let code = code_sent_to(t, phone).await.expect("a code texted");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    // Five tries at most, then the code is dead, even the right one.
    for _ in 0..5 {
        assert_eq!(
            session(t, phone, wrong).await,
            Err(StatusCode::UNAUTHORIZED)
        );
    }
    assert_eq!(
        session(t, phone, &code).await,
        Err(StatusCode::UNAUTHORIZED)
    );
    // A new code; used once.
    let sent = t
        .post_anonymous("/api/v1/public/otp", json!({"phone": phone}))
        .await;
    assert_eq!(sent.status, StatusCode::ACCEPTED);
    let code = code_sent_to(t, phone).await.unwrap();
    let cookie = session(t, "139-0771-6666", &code).await.expect("signed in");
    assert_eq!(
        session(t, phone, &code).await,
        Err(StatusCode::UNAUTHORIZED)
    );

    let r = mine(t, &cookie).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let items = r.body.as_array().unwrap();
    let numbers: Vec<&str> = items
        .iter()
        .map(|i| i["number"].as_str().unwrap())
        .collect();
    let (first, _) = number_and_code(t, by_phone[0]).await;
    let (second, second_code) = number_and_code(t, by_phone[1]).await;
    assert_eq!(numbers, [online.as_str(), second.as_str(), first.as_str()]);
    assert_eq!(items[1]["tracking_code"], second_code.as_str());
    assert_eq!(items[1]["request"]["state_label"], "已受理");
    let (other_number, _) = number_and_code(t, someone_else).await;
    assert!(!r.body.to_string().contains(&other_number));
    // Never the phone, a name or a note.
    for secret in ["13907716666", "王五", "139****6666"] {
        assert!(!r.body.to_string().contains(secret), "{secret}");
    }
    // No session, or a made-up one: 401.
    for c in ["", "mb_citizen=", "mb_citizen=0123456789abcdef"] {
        let r = mine(t, c).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{c}: {}", r.body);
    }
    // At most five codes an hour for a number (two asked above).
    for _ in 0..3 {
        let r = t
            .post_anonymous("/api/v1/public/otp", json!({"phone": phone}))
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED);
    }
    let r = t
        .post_anonymous("/api/v1/public/otp", json!({"phone": phone}))
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    let r = t
        .post_anonymous("/api/v1/public/otp", json!({"phone": "12"}))
        .await;
    assert_eq!(r.body["error"]["field"], "phone", "{}", r.body);
}

/// The portal's rating form, posted as a browser without scripts posts it: refused from
/// another site, a missing answer said in Chinese, then rated.
async fn the_portal_rates_without_a_script(t: &TestApp) {
    use common::console::{client, cookie_value, set_cookie};
    let id = t.ticket_in("awaiting_callback").await;
    let (number, code) = number_and_code(t, id).await;
    let c = client();
    let page = c
        .get(format!(
            "{}/public/track?number={number}&code={code}",
            t.base
        ))
        .send()
        .await
        .unwrap();
    let token = cookie_value(&set_cookie(&page, "mb_pform").unwrap());
    let html = page.text().await.unwrap();
    assert!(html.contains("action=\"/public/rate\""), "{html}");
    let post = |fields: Vec<(&'static str, String)>, with_cookie: bool| {
        let mut req = c.post(format!("{}/public/rate", t.base)).form(&fields);
        if with_cookie {
            req = req.header(reqwest::header::COOKIE, format!("mb_pform={token}"));
        }
        async move {
            let r = req.send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let mut fields = vec![
        ("_form", token.clone()),
        ("number", number.clone()),
        ("code", code.clone()),
        ("resolution", "resolved".to_string()),
    ];
    let (status, _) = post(fields.clone(), false).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, html) = post(fields.clone(), true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("请选择您是否满意"), "{html}");
    assert_eq!(t.state(id).await, "awaiting_callback");
    fields.push(("satisfaction", "satisfied".to_string()));
    fields.push(("comment", "很及时，谢谢".to_string()));
    let (status, html) = post(fields.clone(), true).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains("感谢您的评价") && html.contains("已办结"),
        "{html}"
    );
    assert!(!html.contains("action=\"/public/rate\""));
    assert_eq!(t.state(id).await, "closed");
    let (status, html) = post(fields, true).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("该诉求已评价"), "{html}");
}

/// Requests merged into one (并单): when the parent's answer is approved, every citizen
/// behind them is texted it and may rate it; each rating is its own callback.
async fn merged_requests_hear_back_with_their_parent(t: &TestApp) {
    let parent = phoned_in(t, "13907719991", json!({})).await;
    let child = phoned_in(t, "13907719992", json!({})).await;
    let quiet = phoned_in(t, "13907719993", json!({"confidential": true})).await;
    for c in [child, quiet] {
        t.act(c, "merge", "dispatcher", json!({"parent_id": parent}))
            .await;
    }
    let (child_number, child_code) = number_and_code(t, child).await;
    // While the parent is handled, the child reads it as merged.
    t.bring_to(parent, "replied").await;
    let r = t
        .get_anonymous(&format!(
            "/api/v1/public/requests/{child_number}?code={child_code}"
        ))
        .await;
    assert_eq!(r.body["state_label"], "已并入同一诉求办理", "{}", r.body);
    t.act(parent, "approve-reply", "dispatcher", json!({}))
        .await;
    // Each merged request now has the answer and awaits its own rating.
    for c in [child, quiet] {
        assert_eq!(t.state(c).await, "awaiting_callback");
    }
    let r = t
        .get_anonymous(&format!(
            "/api/v1/public/requests/{child_number}?code={child_code}"
        ))
        .await;
    assert_eq!(
        (
            r.body["state_label"].as_str(),
            r.body["answer"].as_str(),
            r.body["may_rate"].as_bool()
        ),
        (Some("已答复"), Some("已处理"), Some(true)),
        "{}",
        r.body
    );
    let texts = texts_to(t, "13907719992").await;
    assert!(
        texts
            .iter()
            .any(|x| x.contains(&format!("您的诉求{child_number}已有答复：已处理"))),
        "{texts:?}"
    );
    assert!(texts.iter().any(|x| x.contains("回复数字")), "{texts:?}");
    // The confidential one is not texted.
    assert_eq!(texts_to(t, "13907719993").await.len(), 0);
    // The child's citizen rates by SMS: their own callback; the parent's citizen on the portal.
    let now = chrono::Utc::now().timestamp();
    let r = inbound(
        t,
        &json!({"message_id": "merged-1", "from": "13907719992", "text": "2"}),
        SMS_SECRET,
        now,
    )
    .await;
    assert_eq!(r.body["number"], child_number.as_str(), "{}", r.body);
    assert_eq!(t.state(child).await, "closed");
    let (number, code) = number_and_code(t, parent).await;
    rate(
        t,
        &number,
        json!({"code": code, "satisfaction": "satisfied"}),
    )
    .await;
    assert_eq!(t.state(parent).await, "closed");
    let k = t.get("/api/v1/kpis?source=citizen", "analyst").await.body;
    assert_eq!(k["rows"][0]["callbacks"], 2, "{k}");
    // Under the unit that answered.
    let k = t
        .get("/api/v1/kpis?source=citizen&group_by=unit", "analyst")
        .await
        .body;
    let lead = k["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["group"].as_str() == Some(t.lead_unit.to_string().as_str()))
        .cloned()
        .unwrap();
    assert_eq!(lead["callbacks"], 2, "{lead}");
}
