//! Ticket search: words of the title, content, address and the unit's reply, in Chinese; a
//! ticket number; the list's filters; each caller sees only what it may; a ticket is found
//! as soon as it is written and as it is now. On SQLite and PostgreSQL.

mod common;

use common::{TestApp, enc};
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both!(search_over_tickets);

async fn ids(t: &TestApp, who: &str, query: &str) -> Vec<i64> {
    let r = t.get(&format!("/api/v1/tickets/search?{query}"), who).await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {:?}", r.body);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

async fn create(t: &TestApp, title: &str, content: &str, division: &str, category: &str) -> i64 {
    let r = t
        .post(
            "/api/v1/tickets",
            "operator",
            json!({"channel": "web", "kind": "complaint", "title": title, "content": content,
                   "citizen": {"name": "赵六", "phone": "13900001111"},
                   "division_code": division, "category_code": category}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body["id"].as_i64().unwrap()
}

async fn search_over_tickets(t: &TestApp) {
    let lamp = create(
        t,
        "路灯不亮",
        "东关大街小区门口路灯坏了好几天，晚上很黑",
        "630102001001",
        "010103",
    )
    .await;
    let noise = create(
        t,
        "夜间施工噪音",
        "工地晚上十一点还在施工，电钻声音太吵",
        "630104",
        "010401",
    )
    .await;
    // Found at once, by a word of the title (weighing most) or of the content.
    let q = |s: &str| format!("q={}", enc(s));
    assert_eq!(ids(t, "dispatcher", &q("路灯")).await, vec![lamp]);
    assert_eq!(ids(t, "dispatcher", &q("电钻")).await, vec![noise]);
    // A caller's number finds their tickets, exactly, for staff who may see numbers; for a
    // unit or a leader it is words that find nothing (no oracle of whose number it is).
    let mut both = ids(t, "dispatcher", &q("13900001111")).await;
    both.sort();
    assert_eq!(both, vec![lamp, noise]);
    assert!(ids(t, "analyst", &q("13900001111")).await.is_empty());
    assert!(ids(t, "lead", &q("13900001111")).await.is_empty());
    let r = t
        .get(
            &format!("/api/v1/tickets/search?{}", q("路灯 晚上")),
            "dispatcher",
        )
        .await;
    assert_eq!(r.body["total"], 1, "{:?}", r.body);
    assert_eq!(r.body["all_words"], true);
    assert!(r.body["items"][0]["score"].as_f64().unwrap() > 0.0);
    assert!(r.body["items"][0]["number"].as_str().unwrap().len() > 4);
    // No ticket has both words: those with one of them, said so.
    let r = t
        .get(
            &format!("/api/v1/tickets/search?{}", q("路灯 电钻")),
            "dispatcher",
        )
        .await;
    assert_eq!(r.body["all_words"], false, "{:?}", r.body);
    assert_eq!(r.body["total"], 2);
    assert!(ids(t, "dispatcher", &q("火星")).await.is_empty());
    // A ticket number.
    let number = t
        .get(&format!("/api/v1/tickets/{noise}"), "dispatcher")
        .await
        .body["number"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(ids(t, "dispatcher", &q(&number)).await, vec![noise]);

    // Filters: category and division at any level, state, date.
    let both = q("路灯 电钻");
    assert_eq!(
        ids(t, "dispatcher", &format!("{both}&category=0101")).await,
        vec![lamp]
    );
    assert_eq!(
        ids(t, "dispatcher", &format!("{both}&division=630104")).await,
        vec![noise]
    );
    assert_eq!(
        ids(t, "dispatcher", &format!("{both}&state=dispatched")).await,
        Vec::<i64>::new()
    );
    assert_eq!(
        ids(t, "dispatcher", &format!("{both}&created_to=2020-01-01")).await,
        Vec::<i64>::new()
    );

    // As the ticket is now: dispatched, replied to — the reply is searched, the state follows.
    t.act(
        lamp,
        "dispatch",
        "dispatcher",
        json!({"lead_unit_id": t.lead_unit, "tier": 3}),
    )
    .await;
    t.act(lamp, "sign", "lead", json!({})).await;
    t.act(
        lamp,
        "reply",
        "lead",
        json!({"content": "已更换灯泡，照明恢复正常"}),
    )
    .await;
    assert_eq!(ids(t, "dispatcher", &q("灯泡")).await, vec![lamp]);
    assert_eq!(
        ids(t, "dispatcher", &format!("{both}&state=replied")).await,
        vec![lamp]
    );

    // A unit finds only its own tickets, whatever unit it names; confidential callers stay
    // masked.
    assert_eq!(ids(t, "lead", &both).await, vec![lamp]);
    assert_eq!(ids(t, "other", &both).await, Vec::<i64>::new());
    assert_eq!(
        ids(t, "other", &format!("{both}&unit={}", t.lead_unit)).await,
        Vec::<i64>::new()
    );
    let r = t
        .get(&format!("/api/v1/tickets/search?{}", q("灯泡")), "lead")
        .await;
    assert!(
        r.body["items"][0]["citizen"]["phone"]
            .as_str()
            .unwrap_or("")
            .contains('*')
            || r.body["items"][0]["citizen"]["phone"].is_null(),
        "{:?}",
        r.body
    );

    // Paging.
    let r = t
        .get(
            &format!("/api/v1/tickets/search?{both}&limit=1&offset=1"),
            "dispatcher",
        )
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1, "{:?}", r.body);
    assert_eq!(r.body["total"], 2);

    // Bad input is named.
    for (query, field) in [
        ("q=".to_string(), "q"),
        (format!("q={}", "路".repeat(201)), "q"),
        (format!("{both}&limit=0"), "limit"),
        (format!("{both}&offset=x"), "offset"),
        (format!("{both}&state=lost"), "state"),
        (format!("{both}&phone=139"), "phone"),
        (format!("{both}&colour=red"), "colour"),
        (format!("{both}&created_from=yesterday"), "created_from"),
    ] {
        let r = t
            .get(&format!("/api/v1/tickets/search?{query}"), "dispatcher")
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {:?}",
            r.body
        );
        let m: &Value = &r.body["error"]["message"];
        assert!(m.as_str().unwrap().contains(field), "{query}: {m}");
    }
    assert_eq!(
        t.raw(
            reqwest::Method::GET,
            &format!("/api/v1/tickets/search?{both}"),
            None,
            None,
            &[]
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );
}
