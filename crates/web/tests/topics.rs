//! Monthly topics (每月一题) over HTTP on both backends: an analyst proposes a topic with a
//! category and place scope; a leader adopts it with units, tasks and a policy; a supervisor
//! presses an overdue task, the task's unit reports it done, the policy's unit records it
//! issued; the topic's volume before, during and after its campaign equals the requests
//! behind it (literal figures, and the ticket list's drill-down); the monthly report names
//! it; a unit with no part in it does not see it.

mod common;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use common::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both!(a_topic_is_proposed_adopted_worked_and_measured);

/// Noon (Beijing) of the business day `back` days before today.
fn noon(today: NaiveDate, back: i64) -> DateTime<Utc> {
    let day = today - Duration::days(back);
    Utc.from_utc_datetime(&day.and_hms_opt(4, 0, 0).unwrap())
}

async fn create_at(t: &TestApp, content: &str, category: &str, division: &str, at: DateTime<Utc>) {
    let op = t.actor("operator").await;
    t.app
        .create_ticket_at(
            &op,
            json!({"channel": "phone", "kind": "complaint", "content": content,
                "category_code": category, "division_code": division}),
            None,
            at,
        )
        .await
        .unwrap();
}

async fn a_topic_is_proposed_adopted_worked_and_measured(t: &TestApp) {
    let today = mashangban_domain::aggregates::business_day(Utc::now());
    // The campaign: 20..11 days ago (10 days). Before it 30..21 days ago, after it 10..1.
    let (starts, ends) = (today - Duration::days(20), today - Duration::days(11));
    let in_scope = [30, 28, 25, 24, 22, 21, 18, 12, 5];
    for back in in_scope {
        create_at(
            t,
            "小区垃圾清运不及时",
            "010403",
            "630102001001",
            noon(today, back),
        )
        .await;
    }
    // Outside the scope: another category, another district, and a day before the
    // comparison.
    create_at(t, "噪音扰民", "0201", "630102001001", noon(today, 15)).await;
    create_at(
        t,
        "垃圾清运不及时",
        "010403",
        "630103001003",
        noon(today, 15),
    )
    .await;
    create_at(
        t,
        "垃圾清运不及时",
        "010403",
        "630102001001",
        noon(today, 31),
    )
    .await;

    // Proposing: analysts and supervisors; the scope must be known.
    let proposal = json!({"title": "东关片区垃圾清运不及时", "problem": "近一个月来居民反复反映垃圾清运不及时。",
        "category_code": "0104", "division_code": "630102", "source": "环境卫生与垃圾清运 9 件"});
    let r = t.post("/api/v1/topics", "operator", proposal.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    for (field, value, message) in [
        ("category_code", json!("9999"), "no such category"),
        ("division_code", json!("639999"), "no such division"),
        ("category_code", json!("01a"), "a code of 2, 4, 6 digits"),
        ("title", json!(" "), "must not be empty"),
    ] {
        let mut p = proposal.clone();
        p[field] = value;
        let r = t.post("/api/v1/topics", "analyst", p).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(r.body["error"]["field"], field, "{}", r.body);
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(message),
            "{}",
            r.body
        );
    }
    let r = t
        .post("/api/v1/topics", "supervisor", proposal.clone())
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(r.body["state"], "proposed");
    let path = format!("/api/v1/topics/{id}");

    // Adopting: the leader's; units must exist; at the version read.
    let adoption = json!({"version": 1, "lead_unit_id": t.lead_unit, "co_unit_ids": [t.co_unit],
        "starts": starts, "ends": ends,
        "tasks": [
            {"title": "排查片区垃圾收集点", "unit_id": t.lead_unit, "due": starts + Duration::days(5)},
            {"title": "调整清运班次", "unit_id": t.co_unit, "due": today + Duration::days(10)}
        ],
        "policies": [{"title": "东关片区垃圾清运管理办法", "unit_id": t.lead_unit}]});
    let r = t
        .post(&format!("{path}/adopt"), "supervisor", adoption.clone())
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let mut bad = adoption.clone();
    bad["tasks"][1]["unit_id"] = json!(999_999);
    let r = t.post(&format!("{path}/adopt"), "analyst", bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["error"]["field"], "tasks[1].unit_id");
    let mut bad = adoption.clone();
    bad["summary"] = json!("x");
    let r = t.post(&format!("{path}/adopt"), "analyst", bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(
        r.body["error"]["message"],
        "summary: not a field of `adopt`"
    );
    let mut stale = adoption.clone();
    stale["version"] = json!(0);
    let r = t.post(&format!("{path}/adopt"), "analyst", stale).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = t
        .post(&format!("{path}/adopt"), "analyst", adoption.clone())
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["state"], "adopted");
    assert_eq!(r.body["version"], 2);
    // The leaders heard of the proposal, each unit of its part; the notices are about no
    // ticket and open the topic.
    let heard = |who: &'static str| async move {
        t.get("/api/v1/notices", who).await.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["text"].as_str().unwrap().contains("每月一题"))
            .map(|n| {
                assert_eq!(n["ticket_id"], Value::Null, "{n}");
                (
                    n["text"].as_str().unwrap().to_string(),
                    n["link"].as_str().unwrap().to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    let campaign = format!(
        "（{}月{}日至{}月{}日）",
        starts.month(),
        starts.day(),
        ends.month(),
        ends.day()
    );
    let first_due = starts + Duration::days(5);
    let co_due = today + Duration::days(10);
    let topic_page = format!("/topics/{id}");
    assert_eq!(
        heard("analyst").await,
        vec![(
            "新的每月一题提议「东关片区垃圾清运不及时」，请研究是否确定。".to_string(),
            "/topics".to_string()
        )]
    );
    assert_eq!(
        heard("lead").await,
        vec![(
            format!(
                "每月一题「东关片区垃圾清运不及时」已确定{campaign}，本单位牵头，任务1项（最早{}月{}日到期）、出台政策1项。",
                first_due.month(),
                first_due.day()
            ),
            topic_page.clone()
        )]
    );
    assert_eq!(
        heard("co").await,
        vec![(
            format!(
                "每月一题「东关片区垃圾清运不及时」已确定{campaign}，本单位配合，任务1项（最早{}月{}日到期）。",
                co_due.month(),
                co_due.day()
            ),
            topic_page.clone()
        )]
    );
    assert!(heard("other").await.is_empty());
    let r = t
        .post(&format!("{path}/vote"), "analyst", json!({"version": 2}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    // The volume: 6 requests in the 10 days before, 2 during, 1 after (literal, counted by
    // hand from the days above), and the change of a day's average from before to after.
    let d = t.get(&path, "analyst").await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.body);
    let phases: Vec<(String, String, String, i64, u64)> = d.body["volume"]["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["phase"].as_str().unwrap().to_string(),
                p["from"].as_str().unwrap().to_string(),
                p["to"].as_str().unwrap().to_string(),
                p["days"].as_i64().unwrap(),
                p["requests"].as_u64().unwrap(),
            )
        })
        .collect();
    let day = |back: i64| (today - Duration::days(back)).to_string();
    assert_eq!(
        phases,
        vec![
            ("before".into(), day(30), day(21), 10, 6),
            ("during".into(), day(20), day(11), 10, 2),
            ("after".into(), day(10), day(1), 10, 1),
        ]
    );
    let change = d.body["volume"]["change"].as_f64().unwrap();
    assert!((change - (0.1 / 0.6 - 1.0)).abs() < 1e-9, "{change}");
    // The tickets behind each figure: the list filtered by the scope and the days.
    for (phase, from, to, _, requests) in &phases {
        let list = t
            .get(
                &format!(
                    "/api/v1/tickets?category=0104&division=630102&created_from={from}&created_to={to}&limit=100"
                ),
                "analyst",
            )
            .await;
        assert_eq!(
            list.body["items"].as_array().unwrap().len() as u64,
            *requests,
            "{phase}"
        );
    }

    // The tasks: the first overdue since before today, the second open.
    let statuses: Vec<&str> = d.body["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, vec!["overdue", "open"]);

    // Who sees it: the units with a part (lead, co) and the city's roles; not another unit.
    assert_eq!(t.get(&path, "lead").await.status, StatusCode::OK);
    assert_eq!(t.get(&path, "co").await.status, StatusCode::OK);
    assert_eq!(t.get(&path, "other").await.status, StatusCode::NOT_FOUND);
    assert_eq!(t.get(&path, "operator").await.status, StatusCode::FORBIDDEN);
    let other = t.get("/api/v1/topics", "other").await;
    assert_eq!(other.body, json!([]));
    let lead = t.get("/api/v1/topics", "lead").await;
    assert_eq!(lead.body.as_array().unwrap().len(), 1);

    // Supervision: one level each time.
    for (version, level) in [(2, 1), (3, 2)] {
        let r = t
            .post(
                &format!("{path}/supervise"),
                "supervisor",
                json!({"version": version, "task": 1, "note": "请抓紧排查"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(
            r.body["tasks"][0]["supervisions"][level - 1]["level"],
            level
        );
    }
    let pressed = heard("lead").await;
    assert_eq!(pressed.len(), 3, "{pressed:?}");
    assert!(
        pressed[0].0.ends_with("被书面督办：请抓紧排查")
            && pressed[1].0.ends_with("被催办：请抓紧排查"),
        "{pressed:?}"
    );
    // Reports: the task's own unit only.
    let report = json!({"version": 4, "task": 1, "text": "已排查收集点 23 处并整改", "done": true});
    let r = t
        .post(&format!("{path}/report"), "co", report.clone())
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = t
        .post(&format!("{path}/report"), "lead", report.clone())
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // The policy: its unit records it issued; not twice.
    let issue =
        json!({"version": 5, "policy": 1, "reference": "城东政办〔2026〕8号", "issued_on": today});
    let r = t
        .post(&format!("{path}/issue"), "lead", issue.clone())
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mut again = issue.clone();
    again["version"] = json!(6);
    let r = t.post(&format!("{path}/issue"), "analyst", again).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.body["error"]["message"], "policy 1 is already issued");
    let d = t.get(&path, "supervisor").await;
    let statuses: Vec<(&str, u64)> = d.body["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["status"].as_str().unwrap(),
                t["supervision_level"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(statuses, vec![("done_late", 2), ("open", 0)]);

    // The watch (on the monitor's beat): task 2, due in 10 days, has its unit reminded once
    // within 3 days of it, and once late is pressed once (催办) by the server; both told.
    let later = |days: i64| Utc::now() + Duration::days(days);
    for (days, changed) in [(6, 0), (8, 1), (9, 0), (11, 1), (12, 0)] {
        assert_eq!(
            t.app.watch_topics_at(later(days)).await.unwrap(),
            changed,
            "{days} days on"
        );
    }
    let co_heard = heard("co").await;
    assert_eq!(
        co_heard
            .iter()
            .take(2)
            .map(|(text, _)| text.as_str())
            .collect::<Vec<_>>(),
        vec![
            format!(
                "每月一题「东关片区垃圾清运不及时」任务2「调整清运班次」（{}月{}日到期）被催办：逾期未完成，系统自动催办",
                co_due.month(),
                co_due.day()
            ),
            format!(
                "每月一题「东关片区垃圾清运不及时」任务2「调整清运班次」将于{}月{}日到期，请抓紧办理。",
                co_due.month(),
                co_due.day()
            ),
        ]
    );
    let d = t.get(&path, "supervisor").await;
    assert_eq!(d.body["topic"]["tasks"][1]["supervisions"][0]["by"], 0);
    assert_eq!(d.body["tasks"][1]["status"], "open", "not late yet today");

    // The monthly report of the month the campaign ended in names the topic, its lead unit
    // and its progress as of that month's end (or today).
    let month = ends.format("%Y-%m").to_string();
    let r = t
        .get(&format!("/api/v1/reports/monthly?month={month}"), "analyst")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let line = r.body["topics"][0]["text"].as_str().unwrap().to_string();
    assert!(
        line.starts_with(
            "“东关片区垃圾清运不及时”（牵头单位：东关大街街道办事处）：推进中，任务2项，"
        ),
        "{line}"
    );
    assert!(line.contains("；拟出台政策1项，"), "{line}");
    assert!(line.contains("开展前日均0.6件。"), "{line}");
    let r = t
        .raw(
            reqwest::Method::GET,
            &format!("/api/v1/reports/monthly?month={month}&format=html"),
            Some("analyst"),
            None,
            &[],
        )
        .await;
    assert!(r.body.to_string().contains("四、每月一题推进情况"));

    // Closing: the leader's, with a summary; nothing after it.
    let r = t
        .post(
            &format!("{path}/close"),
            "analyst",
            json!({"version": 8, "summary": "清运班次已调整，诉求明显下降。"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["state"], "closed");
    let r = t
        .post(
            &format!("{path}/supervise"),
            "supervisor",
            json!({"version": 9, "task": 2, "note": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let d = t.get(&path, "analyst").await;
    assert_eq!(d.body["history"].as_array().unwrap().len(), 9);
}
