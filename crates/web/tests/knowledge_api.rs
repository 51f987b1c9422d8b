//! The knowledge base over HTTP: articles written by administrators (and by a unit for its
//! own), versioned, searched in Chinese, in force by date, proposed with the suggestions.
//! On SQLite and PostgreSQL.

mod common;

use common::{TestApp, enc};
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both!(knowledge_base);

async fn knowledge_base(t: &TestApp) {
    // The demo set goes in once, every article marked as demo content.
    let n = t.app.ensure_demo_knowledge().await.unwrap();
    assert!(n >= 10, "{n}");
    assert_eq!(t.app.ensure_demo_knowledge().await.unwrap(), 0);
    let all = t.get("/api/v1/knowledge", "operator").await;
    assert_eq!(all.status, StatusCode::OK, "{:?}", all.body);
    let items = all.body["items"].as_array().unwrap();
    assert_eq!(items.len(), n);
    assert!(items.iter().all(|a| a["demo"] == true), "{items:?}");

    // Search in Chinese: the caller's words, not the article's.
    let r = t
        .get(
            &format!("/api/v1/knowledge?q={}", enc("喝完的茶叶渣扔哪个桶")),
            "operator",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert!(
        r.body["items"][0]["question"]
            .as_str()
            .unwrap()
            .contains("茶叶渣"),
        "{:?}",
        r.body
    );
    assert!(r.body["items"][0]["score"].as_f64().unwrap() > 0.0);

    // Writing: administrators; a unit handler only for an article their unit owns.
    let article = json!({"question": "路灯不亮找哪个部门？", "answer": "城区道路路灯由城市管理部门维护，可转派处理。",
        "source": "市城市管理局公告", "keywords": ["路灯坏了"], "category_code": "010103"});
    assert_eq!(
        t.post("/api/v1/knowledge", "operator", article.clone())
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        t.post("/api/v1/knowledge", "lead", article.clone())
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let mut own = article.clone();
    own["owner_unit_id"] = json!(t.lead_unit);
    let r = t.post("/api/v1/knowledge", "lead", own).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(r.body["version"], 1);

    // Bad input names the field; nothing is written.
    for (body, field) in [
        (
            json!({"question": "", "answer": "a", "source": "s"}),
            "question",
        ),
        (
            json!({"question": "q", "answer": "a", "source": "s", "category_code": "99"}),
            "category_code",
        ),
        (
            json!({"question": "q", "answer": "a", "source": "s", "valid_from": "2026-05-01", "valid_to": "2026-04-01"}),
            "valid_to",
        ),
        (
            json!({"question": "q", "answer": "a", "source": "s", "owner_unit_id": 999999}),
            "owner_unit_id",
        ),
        (json!({"question": "q", "answer": "a"}), "source"),
        (
            json!({"question": "q", "answer": "a", "source": "s", "colour": "red"}),
            "colour",
        ),
    ] {
        let r = t.post("/api/v1/knowledge", "admin", body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body} {:?}",
            r.body
        );
        assert!(
            r.body["error"]["message"].as_str().unwrap().contains(field),
            "{body} {:?}",
            r.body
        );
    }
    assert_eq!(
        t.get("/api/v1/knowledge", "operator").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        n + 1
    );

    // An edit at the version read; a stale one is a conflict; the history keeps both.
    let mut edit = article.clone();
    edit["version"] = json!(1);
    edit["owner_unit_id"] = json!(t.lead_unit);
    edit["answer"] = json!("城区道路路灯由城市管理部门维护，一般3个工作日内修复。");
    let path = format!("/api/v1/knowledge/{id}");
    let put = |body: serde_json::Value| {
        t.raw(
            Method::PUT,
            &path,
            Some("lead"),
            Some(body.to_string()),
            &[],
        )
    };
    let r = put(edit.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["version"], 2);
    assert_eq!(put(edit).await.status, StatusCode::CONFLICT);
    let h = t
        .get(
            &format!("/api/v1/knowledge/history?article_id={id}"),
            "analyst",
        )
        .await;
    let actions: Vec<&str> = h.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["updated", "created"]);

    // Found at once (this instance dropped its index), and proposed with the suggestions
    // (once the classifier knows the categories: an answer is offered only for the matter
    // the text is about).
    let r = t.post("/api/v1/classifier/train", "admin", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = t
        .get(
            &format!("/api/v1/knowledge?q={}", enc("路灯坏了")),
            "operator",
        )
        .await;
    assert_eq!(r.body["items"][0]["id"], id, "{:?}", r.body);
    let s = t
        .post(
            "/api/v1/suggest",
            "operator",
            json!({"title": "", "content": "请问茶叶渣属于什么垃圾，应该扔哪个桶", "address": "", "phone": ""}),
        )
        .await;
    assert_eq!(s.status, StatusCode::OK, "{:?}", s.body);
    let k = s.body["knowledge"].as_array().unwrap();
    assert!(!k.is_empty() && k.len() <= 3, "{k:?}");
    assert!(
        k[0]["question"].as_str().unwrap().contains("茶叶渣"),
        "{k:?}"
    );
    assert_eq!(k[0]["demo"], true);
    assert!(k[0]["relevance"].as_f64().unwrap() >= 0.4, "{k:?}");
    // The sewage backflow is not about heating: no heating answer for it, though both
    // speak of a home and of water.
    let s = t
        .post(
            "/api/v1/suggest",
            "operator",
            json!({"content": "污水井堵了，污水倒灌进地下室"}),
        )
        .await;
    for k in s.body["knowledge"].as_array().unwrap() {
        assert!(
            !k["question"].as_str().unwrap().contains("暖气"),
            "{:?}",
            s.body
        );
    }
    // Heating is answered with the heating article.
    let s = t
        .post(
            "/api/v1/suggest",
            "operator",
            json!({"content": "我家暖气片一直不热，室温才十四度"}),
        )
        .await;
    assert!(
        s.body["knowledge"][0]["question"]
            .as_str()
            .unwrap()
            .contains("暖气"),
        "{:?}",
        s.body
    );
    let s = t
        .post(
            "/api/v1/suggest",
            "operator",
            json!({"title": "噪音", "content": "楼上装修电钻声音太吵", "address": "", "phone": ""}),
        )
        .await;
    assert_eq!(s.body["knowledge"], json!([]), "{:?}", s.body);

    // Ended articles drop out of today's answers but stay findable for past cases.
    let mut ended = article.clone();
    ended["version"] = json!(2);
    ended["owner_unit_id"] = json!(t.lead_unit);
    ended["valid_from"] = json!("2020-01-01");
    ended["valid_to"] = json!("2021-12-31");
    assert_eq!(put(ended).await.status, StatusCode::OK);
    let q = enc("路灯坏了");
    let today = t.get(&format!("/api/v1/knowledge?q={q}"), "operator").await;
    assert!(
        today.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["id"] != id),
        "{:?}",
        today.body
    );
    let then = t
        .get(
            &format!("/api/v1/knowledge?q={q}&date=2021-06-01"),
            "operator",
        )
        .await;
    assert_eq!(then.body["items"][0]["id"], id, "{:?}", then.body);
    let any = t
        .get(&format!("/api/v1/knowledge?q={q}&any_day=true"), "operator")
        .await;
    assert_eq!(any.body["items"][0]["id"], id);
    assert_eq!(
        t.get("/api/v1/knowledge?limit=0", "operator").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // Another unit may not delete it; its own unit may, at the version read.
    for (who, v, status) in [
        ("other", 3, StatusCode::FORBIDDEN),
        ("lead", 2, StatusCode::CONFLICT),
        ("lead", 3, StatusCode::NO_CONTENT),
    ] {
        let path = format!("/api/v1/knowledge/{id}?version={v}");
        let r = t.raw(Method::DELETE, &path, Some(who), None, &[]).await;
        assert_eq!(r.status, status, "{who} {v} {:?}", r.body);
    }
    assert_eq!(
        t.get(&format!("/api/v1/knowledge/{id}"), "operator")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
