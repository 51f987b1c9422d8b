//! Retention on both backends: the server's task takes the citizen's contacts (and later the
//! personal data of the texts) out of finished tickets, their events and the search index,
//! each ticket once however many instances run it, and the figures stay exactly as they
//! were; an administrator erases one citizen's data at their request, with the reason.

mod common;

use chrono::{Duration, Utc};
use common::{TestApp, enc};
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both!(personal_data_go_when_their_time_has_passed_and_the_figures_stay);

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
