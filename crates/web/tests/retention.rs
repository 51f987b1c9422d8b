//! Retention on both backends: the server's task takes the citizen's contacts (and later the
//! personal data of the texts) out of finished tickets, their events and the search index,
//! each ticket once however many instances run it, and the figures stay exactly as they
//! were; an administrator erases one citizen's data at their request, with the reason.

mod common;

use chrono::{Duration, Utc};
use common::console::Browser;
use common::{TestApp, enc};
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both!(
    personal_data_go_when_their_time_has_passed_and_the_figures_stay,
    files_notices_and_cases_lose_what_was_personal_and_shared_bytes_stay,
    an_administrator_sets_the_times_and_erases_from_the_console,
    the_screen_pop_brings_the_calls_recording_to_the_ticket
);

const CONTENT: &str = "我叫张三，电话13812345678，东关大街清真巷16号门口路灯不亮";

async fn searched(t: &TestApp, q: &str) -> u64 {
    t.app.feed_search(1_000_000).await.unwrap();
    let r = t
        .get(
            &format!("/api/v1/tickets/search?q={}", enc(q)),
            "dispatcher",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["items"].as_array().unwrap().len() as u64
}

async fn figures(t: &TestApp) -> Vec<Value> {
    let today = mashangban_domain::aggregates::business_day(Utc::now());
    let mut out = Vec::new();
    for group in [
        "",
        "&group_by=unit",
        "&group_by=channel",
        "&group_by=category",
    ] {
        let r = t
            .get(
                &format!("/api/v1/kpis?from={today}&to={today}{group}"),
                "analyst",
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        out.push(r.body["rows"].clone());
    }
    out
}

async fn personal_data_go_when_their_time_has_passed_and_the_figures_stay(t: &TestApp) {
    // Two of 张三's requests finished, one still open; another citizen's finished.
    let closed = [t.create(CONTENT).await, t.create(CONTENT).await];
    for id in closed {
        t.bring_to(id, "closed").await;
    }
    let open = t.create(CONTENT).await;
    let r = t
        .post(
            "/api/v1/tickets",
            "operator",
            json!({"channel": "phone", "kind": "help", "content": "李四反映小区停水",
                   "citizen": {"name": "李四", "phone": "13900001111"}}),
        )
        .await;
    let other = r.body["id"].as_i64().unwrap();
    t.act(
        other,
        "resolve-directly",
        "operator",
        json!({"answer": "已告知停水时间"}),
    )
    .await;
    assert_eq!(searched(t, "张三").await, 3);
    let before = figures(t).await;

    // Four years on: contacts are due (three years), the texts not yet (five). Two
    // instances run the task at once: each ticket is taken by one of them.
    let later = Utc::now() + Duration::days(4 * 365);
    let (a, b) = tokio::join!(
        t.app.apply_retention_at(later),
        t.app.apply_retention_at(later)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.contact + b.contact, 3, "{a:?} {b:?}");
    assert_eq!(a.content + b.content, 0);
    let again = t.app.apply_retention_at(later).await.unwrap();
    assert_eq!(again.contact, 0);

    for id in [closed[0], closed[1], other] {
        let tk = t.get(&format!("/api/v1/tickets/{id}"), "admin").await.body;
        assert_eq!(tk["citizen"]["name"], Value::Null, "{tk}");
        assert_eq!(tk["citizen"]["phone"], Value::Null, "{tk}");
        let events = t
            .get(&format!("/api/v1/tickets/{id}/events"), "admin")
            .await
            .body;
        let text = events.to_string();
        for personal in ["张三", "李四", "13812345678", "13900001111"] {
            assert!(!text.contains(personal), "{personal} in {text}");
        }
        assert!(text.contains("personal_data_removed"), "{text}");
    }
    let tk = t
        .get(&format!("/api/v1/tickets/{}", closed[0]), "admin")
        .await
        .body;
    assert_eq!(
        tk["content"],
        "我叫某某，电话[电话]，东关大街清真巷16号门口路灯不亮"
    );
    // The open request keeps its citizen; nobody finds the others by name or number.
    let tk = t
        .get(&format!("/api/v1/tickets/{open}"), "admin")
        .await
        .body;
    assert_eq!(tk["citizen"]["phone"], "13812345678");
    assert_eq!(searched(t, "张三").await, 1);
    assert_eq!(searched(t, "李四").await, 0);
    let by_phone = t
        .get("/api/v1/tickets?phone=13812345678", "dispatcher")
        .await;
    assert_eq!(by_phone.body["items"].as_array().unwrap().len(), 1);

    // The figures are the same, and a rebuild from the scrubbed events agrees.
    assert_eq!(figures(t).await, before);
    let r = t
        .post("/api/v1/aggregates/rebuild", "admin", json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(figures(t).await, before);

    // 张三 asks for the rest to be erased: only an administrator, with a reason.
    let erase = |reason: &str| json!({"phone": "13812345678", "reason": reason});
    let r = t
        .post("/api/v1/citizens/erase", "supervisor", erase("申请删除"))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = t.post("/api/v1/citizens/erase", "admin", erase(" ")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["error"]["field"], "reason");
    let r = t
        .post(
            "/api/v1/citizens/erase",
            "admin",
            erase("本人来电申请删除个人信息"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["tickets"], 1);
    assert_eq!(r.body["scrubbed"], 1);
    let tk = t
        .get(&format!("/api/v1/tickets/{open}"), "admin")
        .await
        .body;
    assert_eq!(tk["citizen"]["phone"], Value::Null);
    assert_eq!(
        tk["content"],
        "我叫某某，电话[电话]，东关大街清真巷[门牌号]门口路灯不亮"
    );
    assert_eq!(searched(t, "张三").await, 0);

    // Six years on, the texts of the finished ones go too.
    let much_later = Utc::now() + Duration::days(6 * 365);
    let r = t.app.apply_retention_at(much_later).await.unwrap();
    assert_eq!(r.content, 3, "{r:?}");
    let tk = t
        .get(&format!("/api/v1/tickets/{}", closed[1]), "admin")
        .await
        .body;
    assert_eq!(
        tk["content"],
        "我叫某某，电话[电话]，东关大街清真巷[门牌号]门口路灯不亮"
    );
    assert_eq!(figures(t).await, before);

    let log = t.get("/api/v1/retention/log", "admin").await.body;
    let what: Vec<(&str, i64)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["what"].as_str().unwrap(), e["tickets"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        what.iter()
            .filter(|(w, _)| *w == "contact")
            .map(|(_, n)| n)
            .sum::<i64>(),
        3
    );
    assert!(what.contains(&("erasure", 1)), "{what:?}");
    assert!(what.contains(&("content", 3)), "{what:?}");
    assert_eq!(log[0]["what"], "content");
}

/// A small JPEG of its own (`shade` makes it differ from another).
fn photo(shade: u8) -> Vec<u8> {
    let picture =
        image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8 * 4, y as u8 * 6, shade]));
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode_image(&picture)
        .unwrap();
    jpeg
}

/// Whether the bytes of this SHA-256 are on disk.
fn on_disk(t: &TestApp, sha: &str) -> bool {
    let dir = t.app.config.files_dir.clone().unwrap();
    dir.join(&sha[0..2]).join(&sha[2..4]).join(sha).exists()
}

/// (file, thumbnail) SHA-256 of an upload's answer.
fn shas(up: &Value) -> (String, String) {
    (
        up[0]["sha256"].as_str().unwrap().to_string(),
        up[0]["thumbnail_sha256"].as_str().unwrap().to_string(),
    )
}

async fn files_notices_and_cases_lose_what_was_personal_and_shared_bytes_stay(t: &TestApp) {
    // One request finished with two photos, one of them also sent with a request still
    // open; a citizen's upload never sent with a request.
    let r = t
        .post(
            "/api/v1/tickets",
            "operator",
            json!({"channel": "phone", "kind": "complaint", "content": CONTENT,
                   "recording": "CTI-20261207-0042",
                   "citizen": {"name": "张三", "phone": "13812345678"},
                   "category_code": "010403", "division_code": "630102001001"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let finished = r.body["id"].as_i64().unwrap();
    // Those who may not see the citizen's number do not see the recording either.
    let seen = |who: &'static str| async move {
        t.get(&format!("/api/v1/tickets/{finished}"), who)
            .await
            .body["recording"]
            .clone()
    };
    assert_eq!(seen("dispatcher").await, "CTI-20261207-0042");
    assert_eq!(seen("analyst").await, Value::Null);
    let open = t.create("东关大街路灯不亮").await;
    let (shared, only) = (photo(10), photo(200));
    let up = |id: i64, name: &'static str, bytes: Vec<u8>| async move {
        let path = format!("/api/v1/tickets/{id}/attachments");
        let (status, body) = t.upload(&path, Some("operator"), &[(name, &bytes)]).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        shas(&body)
    };
    let (shared_sha, shared_thumb) = up(finished, "现场.jpg", shared.clone()).await;
    let (only_sha, only_thumb) = up(finished, "门牌.jpg", only).await;
    assert_eq!(up(open, "现场.jpg", shared).await.0, shared_sha);
    let (status, loose) = t
        .upload(
            "/api/v1/public/attachments",
            None,
            &[("车牌.jpg", &photo(90))],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{loose}");
    let (loose_sha, _) = shas(&loose);
    t.bring_to(finished, "closed").await;
    // Its typical case keeps what its drafting removed, for the editor; its SMS went to
    // the citizen's number.
    let r = t
        .post(
            "/api/v1/cases",
            "supervisor",
            json!({"ticket_id": finished}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let case_id = r.body["id"].as_i64().unwrap();
    let case = || async move {
        t.get(&format!("/api/v1/cases/{case_id}"), "supervisor")
            .await
            .body
            .to_string()
    };
    assert!(case().await.contains("13812345678"));
    let texted = || async move {
        let r = t
            .get("/api/v1/outbox?channel=sms&limit=1000", "admin")
            .await;
        r.body
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| {
                serde_json::from_str::<Value>(n["payload"].as_str().unwrap()).unwrap()["ticket_id"]
                    == finished
            })
            .map(|n| n["recipient"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let before = texted().await;
    assert!(
        !before.is_empty() && before.iter().all(|r| r == "13812345678"),
        "{before:?}"
    );
    let figures_before = figures(t).await;

    // Four years on: contacts and files are due (three years), texts not yet. The finished
    // request's files go; the bytes the open one also holds stay, the others go from disk;
    // the upload never sent goes too.
    let later = Utc::now() + Duration::days(4 * 365);
    let r = t.app.apply_retention_at(later).await.unwrap();
    assert_eq!(
        (
            r.contact,
            r.content,
            r.attachments,
            r.recordings,
            r.unattached,
            r.files_removed
        ),
        (1, 0, 1, 1, 1, 4),
        "{r:?}"
    );
    assert_eq!(seen("admin").await, Value::Null);
    let files = |id: i64| async move {
        t.get(&format!("/api/v1/tickets/{id}/attachments"), "admin")
            .await
            .body
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!((files(finished).await, files(open).await), (0, 1));
    assert!(on_disk(t, &shared_sha) && on_disk(t, &shared_thumb));
    assert!(!on_disk(t, &only_sha) && !on_disk(t, &only_thumb));
    assert!(!on_disk(t, &loose_sha));
    let after = texted().await;
    assert_eq!(after.len(), before.len());
    assert!(after.iter().all(String::is_empty), "{after:?}");
    let events = t
        .get(&format!("/api/v1/tickets/{finished}/events"), "admin")
        .await
        .body;
    let kinds: Vec<Value> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "personal_data_removed")
        .map(|e| e["kinds"].clone())
        .collect();
    assert_eq!(
        kinds,
        vec![
            json!(["contact"]),
            json!(["attachments"]),
            json!(["recordings"])
        ],
        "{events}"
    );
    assert!(
        !events.to_string().contains("CTI-20261207-0042"),
        "{events}"
    );
    // Nothing more to do the next time.
    let again = t.app.apply_retention_at(later).await.unwrap();
    assert_eq!((again.data, again.files_removed), (0, 0), "{again:?}");

    // Six years on, the texts: the case forgets its drafting's originals, in its history too.
    let r = t
        .app
        .apply_retention_at(Utc::now() + Duration::days(6 * 365))
        .await
        .unwrap();
    assert_eq!(r.content, 1, "{r:?}");
    let text = case().await;
    for personal in ["张三", "13812345678", "16号"] {
        assert!(!text.contains(personal), "{personal} in {text}");
    }
    assert!(text.contains("[门牌号]"), "{text}");
    assert_eq!(figures(t).await, figures_before);

    // The open request's citizen asks for erasure: its photo goes with the rest; bytes
    // placed moments ago wait (an upload of the same photo may be writing its record),
    // and the task's next pass takes them.
    let r = t
        .post(
            "/api/v1/citizens/erase",
            "admin",
            json!({"phone": "13812345678", "reason": "本人来电申请删除个人信息"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(files(open).await, 0);
    assert!(on_disk(t, &shared_sha));
    let r = t
        .app
        .apply_retention_at(Utc::now() + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(r.files_removed, 2, "{r:?}");
    assert!(!on_disk(t, &shared_sha) && !on_disk(t, &shared_thumb));
    let log = t.get("/api/v1/retention/log", "admin").await.body;
    let what: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["what"].as_str().unwrap())
        .collect();
    assert_eq!(
        what,
        vec![
            "erasure",
            "content",
            "unattached_files",
            "recordings",
            "attachments",
            "contact"
        ]
    );
}

async fn an_administrator_sets_the_times_and_erases_from_the_console(t: &TestApp) {
    let admin = Browser::new_user(t, "admin-web", "admin").await;
    let (status, html) = admin.page("/admin/retention").await;
    assert_eq!(status, StatusCode::OK);
    for shown in [
        "name=\"contact_days\" value=\"1095\"",
        "name=\"content_days\" value=\"1825\"",
        "name=\"attachments_days\" value=\"1095\"",
        "name=\"recordings_days\" value=\"1095\"",
        "暂无记录",
    ] {
        assert!(html.contains(shown), "{shown}");
    }
    // Too short a time comes back beside its field, with what was typed.
    let (status, _, html) = admin
        .post(
            "/admin/retention",
            &[
                ("contact_days", "30"),
                ("content_days", "1825"),
                ("attachments_days", ""),
                ("recordings_days", "365"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("name=\"contact_days\" value=\"30\""),
        "{html}"
    );
    assert!(html.contains("at least 90 days"), "{html}");
    // Saved: files kept (empty), the others as typed.
    let (status, location, _) = admin
        .post(
            "/admin/retention",
            &[
                ("contact_days", "400"),
                ("content_days", "1825"),
                ("attachments_days", ""),
                ("recordings_days", "365"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/admin/retention?saved=1"));
    let p = t.get("/api/v1/policy/retention", "admin").await.body;
    assert_eq!(
        p,
        json!({"contact_days": 400, "content_days": 1825, "attachments_days": null, "recordings_days": 365})
    );
    let (_, html) = admin.page("/admin/retention?saved=1").await;
    assert!(html.contains("保存期限已保存"));
    assert!(
        html.contains("name=\"attachments_days\" value=\"\""),
        "{html}"
    );

    // An erasure without a reason is refused by name; with one it is done and logged.
    let id = t.create(CONTENT).await;
    let (status, _, html) = admin
        .post(
            "/admin/retention/erase",
            &[("phone", "13812345678"), ("reason", " ")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("at most 500 characters"), "{html}");
    let (status, _, html) = admin
        .post(
            "/admin/retention/erase",
            &[("phone", "13812345678"), ("reason", "本人来电申请删除")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("已删除：该号码的1件诉求中1件仍有个人信息"),
        "{html}"
    );
    assert!(html.contains("应本人申请删除") && html.contains("本人来电申请删除"));
    let tk = t.get(&format!("/api/v1/tickets/{id}"), "admin").await.body;
    assert_eq!(tk["citizen"]["phone"], Value::Null);
    // Nobody else has the page.
    let sup = Browser::new_user(t, "sup-web", "supervisor").await;
    assert_eq!(sup.page("/admin/retention").await.0, StatusCode::FORBIDDEN);
    let (status, _, _) = sup
        .post(
            "/admin/retention/erase",
            &[("phone", "13812345678"), ("reason", "x")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn the_screen_pop_brings_the_calls_recording_to_the_ticket(t: &TestApp) {
    let op = Browser::new_user(t, "op-web", "operator").await;
    let (status, html) = op
        .page("/intake?phone=13900000003&recording=CTI-20261207-0042")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("value=\"CTI-20261207-0042\""), "{html}");
    let call = [
        ("phone", "13900000003"),
        ("channel", "phone"),
        ("kind", "complaint"),
        ("content", "家里暖气不热，很冷"),
        ("address", "城东区东关大街街道"),
    ];
    // Something that is no recording's id comes back beside its field.
    let (status, _, html) = op
        .post(
            "/intake",
            &[&call[..], &[("recording", "javascript:alert(1)")]].concat(),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("https:// address"), "{html}");
    let (status, location, _) = op
        .post(
            "/intake",
            &[&call[..], &[("recording", "CTI-20261207-0042")]].concat(),
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location:?}");
    let found = t
        .get("/api/v1/tickets?phone=13900000003", "dispatcher")
        .await
        .body;
    let id = found["items"][0]["id"].as_i64().unwrap();
    let (_, page) = op.page(&format!("/tickets/{id}")).await;
    assert!(page.contains("<code>CTI-20261207-0042</code>"), "{page}");
    // Not to those who do not see the citizen's number.
    let analyst = Browser::new_user(t, "analyst-web", "analyst").await;
    let (status, page) = analyst.page(&format!("/tickets/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("CTI-20261207-0042"));
}
