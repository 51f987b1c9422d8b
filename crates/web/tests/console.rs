//! The web console over HTTP: login with sessions, CSRF protection, role pages, visibility.
//! (Browser tests in Chromium come with the rest of the console.)

mod common;

use common::console::*;
use common::{Db, TestApp};
use mashangban_app::auth::UserInput;
use mashangban_domain::Role;
use reqwest::{StatusCode, header};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_sessions_csrf_and_pages() {
    let t = TestApp::start(Db::Sqlite, "console").await.unwrap();
    for (name, role, unit) in [
        ("op-web", Role::Operator, None),
        ("unit-web", Role::UnitHandler, Some(t.lead_unit)),
        ("other-web", Role::UnitHandler, Some(t.other_unit)),
    ] {
        t.app
            .add_user(
                &mashangban_app::SERVER,
                UserInput {
                    username: name.into(),
                    display_name: Some(format!("{name} 显示名")),
                    role,
                    unit_id: unit,
                    password: Some("a-long-password".into()),
                },
            )
            .await
            .unwrap();
    }
    // Without a session every page sends you to the login page.
    let (status, _, headers) = get_page(&t, "/", None, "").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/login");

    // The login page is Chinese first and sets a CSRF cookie for its form.
    let c = client();
    let page = c.get(format!("{}/login", t.base)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let csrf = cookie_value(&set_cookie(&page, "mb_csrf").unwrap());
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<html lang=\"zh-CN\">") && html.contains("登录"),
        "{html}"
    );
    assert!(html.contains(&format!("value=\"{csrf}\"")));

    let post = |fields: Vec<(&'static str, String)>,
                cookie: String,
                extra: Option<(&'static str, &'static str)>| {
        let mut req = client()
            .post(format!("{}/login", t.base))
            .header(header::COOKIE, cookie)
            .form(&fields);
        if let Some((k, v)) = extra {
            req = req.header(k, v);
        }
        req.send()
    };
    // A form without the token, with another token, or posted from another site is refused.
    let no_token = post(
        vec![
            ("username", "op-web".into()),
            ("password", "a-long-password".into()),
        ],
        format!("mb_csrf={csrf}"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
    let forged = post(
        vec![
            ("username", "op-web".into()),
            ("password", "a-long-password".into()),
            ("_csrf", "0".repeat(32)),
        ],
        format!("mb_csrf={csrf}"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let cross = post(
        vec![
            ("username", "op-web".into()),
            ("password", "a-long-password".into()),
            ("_csrf", csrf.clone()),
        ],
        format!("mb_csrf={csrf}"),
        Some(("sec-fetch-site", "cross-site")),
    )
    .await
    .unwrap();
    assert_eq!(
        cross.status(),
        StatusCode::FORBIDDEN,
        "a cross-site form post is refused"
    );
    let evil_origin = post(
        vec![
            ("username", "op-web".into()),
            ("password", "a-long-password".into()),
            ("_csrf", csrf.clone()),
        ],
        format!("mb_csrf={csrf}"),
        Some(("origin", "http://evil.example")),
    )
    .await
    .unwrap();
    assert_eq!(evil_origin.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&cross, "mb_session").is_none());

    // A wrong password: the message, and the name kept in the form.
    let wrong = post(
        vec![
            ("username", "op-web".into()),
            ("password", "nope-nope".into()),
            ("_csrf", csrf.clone()),
        ],
        format!("mb_csrf={csrf}"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = wrong.text().await.unwrap();
    assert!(
        html.contains("用户名或密码错误") && html.contains("value=\"op-web\""),
        "{html}"
    );
    let empty = post(
        vec![
            ("username", "".into()),
            ("password", "".into()),
            ("_csrf", csrf.clone()),
        ],
        format!("mb_csrf={csrf}"),
        None,
    )
    .await
    .unwrap();
    assert!(
        empty.text().await.unwrap().matches("必填").count() == 2,
        "each empty field says so"
    );

    // Logged in: an HttpOnly, SameSite cookie; the home page shows the role's queue.
    let ok = post(
        vec![
            ("username", "op-web".into()),
            ("password", "a-long-password".into()),
            ("_csrf", csrf.clone()),
        ],
        format!("mb_csrf={csrf}"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let cookie = set_cookie(&ok, "mb_session").unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let session = cookie_value(&cookie);
    let id = t.create("楼道灯坏了，请尽快维修").await;
    let (status, html, headers) = get_page(&t, "/", Some(&session), "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        html.contains("op-web 显示名") && html.contains("我的待办") && html.contains("楼道灯坏了"),
        "{html}"
    );
    let (_, html, _) = get_page(&t, &format!("/tickets/{id}"), Some(&session), "").await;
    assert!(html.contains("13812345678"), "the hotline sees the caller");
    assert!(html.contains("受理"), "the timeline names the steps");

    // A unit handler sees their unit's ticket with the identity masked; another unit gets 404.
    t.act(
        id,
        "dispatch",
        "dispatcher",
        json!({"lead_unit_id": t.lead_unit}),
    )
    .await;
    let unit = login(&t, "unit-web", "a-long-password").await;
    let (status, html, _) = get_page(&t, &format!("/tickets/{id}"), Some(&unit), "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("138****5678") && !html.contains("13812345678"),
        "{html}"
    );
    assert!(html.contains("派单"));
    let other = login(&t, "other-web", "a-long-password").await;
    let (status, _, _) = get_page(&t, &format!("/tickets/{id}"), Some(&other), "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, html, _) = get_page(&t, "/tickets", Some(&other), "").await;
    assert!(
        !html.contains("楼道灯坏了"),
        "lists show only the unit's tickets"
    );

    // English on request.
    let (_, html, _) = get_page(&t, "/tickets", Some(&session), "mb_lang=en").await;
    assert!(
        html.contains("<html lang=\"en\">") && html.contains("Tickets"),
        "{html}"
    );

    // Logging out needs the session's CSRF token; afterwards the session is gone.
    let out = client()
        .post(format!("{}/logout", t.base))
        .header(header::COOKIE, format!("mb_session={session}"))
        .form(&[("_csrf", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::FORBIDDEN);
    let (_, html, _) = get_page(&t, "/", Some(&session), "").await;
    let token = html
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let out = client()
        .post(format!("{}/logout", t.base))
        .header(header::COOKIE, format!("mb_session={session}"))
        .form(&[("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let (status, _, headers) = get_page(&t, "/", Some(&session), "").await;
    assert_eq!(
        (status, headers[header::LOCATION].to_str().unwrap()),
        (StatusCode::SEE_OTHER, "/login")
    );
    // The stylesheet is the project's own, served locally.
    let css = client()
        .get(format!("{}/static/app.css", t.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        css.headers()[header::CONTENT_TYPE],
        "text/css; charset=utf-8"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_goes_round_through_the_console_forms() {
    let t = TestApp::start(Db::Sqlite, "console_lifecycle")
        .await
        .unwrap();
    for (name, role, unit) in [
        ("disp-web", Role::Dispatcher, None),
        ("unit-web", Role::UnitHandler, Some(t.lead_unit)),
        ("cb-web", Role::CallbackAgent, None),
    ] {
        t.app
            .add_user(
                &mashangban_app::SERVER,
                UserInput {
                    username: name.into(),
                    display_name: None,
                    role,
                    unit_id: unit,
                    password: Some("a-long-password".into()),
                },
            )
            .await
            .unwrap();
    }
    let disp = Browser::open(&t, "disp-web").await;
    let unit = Browser::open(&t, "unit-web").await;
    let cb = Browser::open(&t, "cb-web").await;
    let id = t.create("小区垃圾三天没人清运").await;

    // The dispatcher sees only what a dispatcher may do now.
    let (_, html) = disp.page(&format!("/tickets/{id}")).await;
    assert!(has_action(&html, id, "dispatch") && has_action(&html, id, "not-accept"));
    // Handing a request out (转出): the emergency lines are offered; the form's refusal
    // names the field, and a good form ends the request as handed out.
    assert!(has_action(&html, id, "transfer-out"));
    assert!(html.contains(r#"<option value="110">公安110 (110)</option>"#));
    let fight = t.create("楼下有人持刀打架").await;
    let (_, _, refused) = disp
        .post(
            &format!("/tickets/{fight}/act/transfer-out"),
            &[("to", "110"), ("reason", "")],
        )
        .await;
    assert!(refused.contains("reason"), "the refusal names the field");
    assert_eq!(t.state(fight).await, "received");
    disp.post(
        &format!("/tickets/{fight}/act/transfer-out"),
        &[("to", "110"), ("reason", "治安事件，已转公安110")],
    )
    .await;
    assert_eq!(t.state(fight).await, "transferred");
    // The dispatch form preselects the unit the catalogue sends the matter to, with its rule.
    let entry = t
        .post(
            "/api/v1/catalogue",
            "admin",
            serde_json::json!({"category_code": "0104", "division_code": "630102001",
                               "unit_id": t.lead_unit, "ownership": "territorial"}),
        )
        .await;
    assert_eq!(entry.status, reqwest::StatusCode::CREATED, "{}", entry.body);
    let (_, html) = disp.page(&format!("/tickets/{id}")).await;
    let owner = t
        .get(
            "/api/v1/catalogue/owner?category_code=010403&division_code=630102001001",
            "dispatcher",
        )
        .await
        .body;
    let owner_id = owner["unit"]["id"].as_i64().expect("an owner");
    assert_eq!(owner_id, t.lead_unit);
    let form = &html[html.find("id=\"dispatch-lead_unit_id\"").unwrap()..];
    let form = &form[..form.find("</select>").unwrap()];
    let option = &form[form.find(&format!("<option value=\"{owner_id}\"")).unwrap()..];
    let option = &option[..option.find('>').unwrap()];
    assert!(option.ends_with(" selected"), "{option}");
    assert!(html.contains("按派单目录"), "the rule is shown");
    assert!(!has_action(&html, id, "sign") && !has_action(&html, id, "record-callback"));
    // A bad unit id comes back beside the field, with the form open.
    let (status, html) = disp
        .act(
            id,
            "dispatch",
            &[("lead_unit_id", "abc"), ("note", "请尽快处理")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("不是数字") && html.contains("value=\"请尽快处理\""),
        "{html}"
    );
    let lead = t.lead_unit.to_string();
    let (status, html) = disp
        .act(id, "dispatch", &[("lead_unit_id", &lead), ("tier", "3")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    assert!(html.contains("已派单"));

    // The unit signs, tries an empty reply (refused beside the field), then replies.
    let (_, html) = unit.page(&format!("/tickets/{id}")).await;
    assert!(has_action(&html, id, "sign") && !has_action(&html, id, "dispatch"));
    unit.act(id, "sign", &[]).await;
    let (status, html) = unit.act(id, "reply", &[("content", "   ")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("必填"), "{html}");
    let (status, _) = unit
        .act(id, "reply", &[("content", "已安排环卫车辆清运完毕")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // An action that no longer applies is refused with the reason, and nothing changes.
    let (status, html) = unit.act(id, "sign", &[]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("cannot sign"), "{html}");

    disp.act(id, "approve-reply", &[]).await;
    // A dissatisfied callback reopens the ticket to the unit.
    let (_, html) = cb
        .act(
            id,
            "record-callback",
            &[
                ("contacted", "true"),
                ("resolution", "unresolved"),
                ("satisfaction", "dissatisfied"),
            ],
        )
        .await;
    assert!(html.contains("重办"), "{html}");
    unit.act(id, "sign", &[]).await;
    unit.act(id, "reply", &[("content", "再次清运并增加清运频次")])
        .await;
    disp.act(id, "approve-reply", &[]).await;
    let (_, html) = cb
        .act(
            id,
            "record-callback",
            &[
                ("contacted", "true"),
                ("resolution", "resolved"),
                ("satisfaction", "satisfied"),
            ],
        )
        .await;
    assert!(html.contains("state closed"), "{html}");
    // The timeline shows what the citizen answered, both times.
    assert!(html.contains("回访：及时联系，未解决，不满意"), "{html}");
    assert!(html.contains("回访：及时联系，已解决，满意"), "{html}");
    // A forged form (no CSRF token) changes nothing.
    let r = client()
        .post(format!("{}/tickets/{id}/act/reopen", t.base))
        .header(header::COOKIE, format!("mb_session={}", disp.session))
        .form(&[("reason", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(t.state(id).await, "closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intake_takes_a_call_with_history_and_direct_answers() {
    let t = TestApp::start(Db::Sqlite, "console_intake").await.unwrap();
    for (name, role, unit) in [
        ("op-in", Role::Operator, None),
        ("unit-in", Role::UnitHandler, Some(t.lead_unit)),
    ] {
        t.app
            .add_user(
                &mashangban_app::SERVER,
                UserInput {
                    username: name.into(),
                    display_name: None,
                    role,
                    unit_id: unit,
                    password: Some("a-long-password".into()),
                },
            )
            .await
            .unwrap();
    }
    let op = Browser::open(&t, "op-in").await;
    let (status, html) = op.page("/intake").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.len() < 100_000,
        "the intake page weighs {} bytes",
        html.len()
    );
    assert!(html.contains("受理登记") && html.contains("autofocus"));
    let earlier = t.create("上周反映过的路灯问题").await; // from 13812345678
    let post = |path: &'static str, fields: Vec<(&'static str, &'static str)>| {
        let mut form = vec![("_csrf", op.csrf.as_str())];
        form.extend(fields);
        client()
            .post(format!("{}{}", t.base, path))
            .header(header::COOKIE, format!("mb_session={}", op.session))
            .form(&form)
            .send()
    };
    // The caller's history, as soon as the number is looked up.
    let r = post("/intake/lookup", vec![("phone", "13812345678")])
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&format!("/tickets/{earlier}")) && html.contains("上周反映过的路灯问题"),
        "{html}"
    );
    // Bad input: the message beside the field, and what was typed kept.
    let r = post(
        "/intake",
        vec![
            ("phone", "13812345678"),
            ("name", "张三"),
            ("channel", "phone"),
            ("kind", "complaint"),
            ("content", ""),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("必填")
            && html.contains("value=\"张三\"")
            && html.contains("value=\"13812345678\""),
        "{html}"
    );
    let r = post(
        "/intake",
        vec![
            ("phone", "13812345678"),
            ("channel", "phone"),
            ("kind", "complaint"),
            ("content", "x"),
            ("category_code", "999"),
        ],
    )
    .await
    .unwrap();
    assert!(r.text().await.unwrap().contains("不是有效的诉求分类编码"));
    // Saved: the new number is shown.
    let r = post(
        "/intake",
        vec![
            ("phone", "13812345678"),
            ("name", "张三"),
            ("channel", "phone"),
            ("kind", "complaint"),
            ("title", "餐馆油烟扰民"),
            ("content", "楼下餐馆油烟很大"),
            ("category_code", "030101"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()[header::LOCATION].to_str().unwrap().to_string();
    let (_, html) = op.page(&location).await;
    assert!(
        html.contains("已受理，工单编号") && html.contains("created-number"),
        "{html}"
    );
    // The title typed is the ticket's.
    let id: i64 = location
        .split("created=")
        .nth(1)
        .and_then(|v| v.split('&').next())
        .and_then(|v| v.parse().ok())
        .expect("the new ticket's id in the redirect");
    assert_eq!(
        t.app.store().get_ticket(id).await.unwrap().unwrap().title,
        "餐馆油烟扰民"
    );
    // Answered at once: received and resolved directly in one step.
    let r = post(
        "/intake",
        vec![
            ("phone", "13900000000"),
            ("channel", "phone"),
            ("kind", "consultation"),
            ("content", "公积金怎么提取"),
            ("answer", "已告知提取条件和所需材料"),
        ],
    )
    .await
    .unwrap();
    let id: i64 = r.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .rsplit('=')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(t.state(id).await, "resolved_directly");
    // An answer too long to resolve with is refused beside its field; nothing is written.
    let before = t.app.store().count_tickets().await.unwrap();
    let long = "答".repeat(5_001);
    let mut form = vec![
        ("_csrf", op.csrf.as_str()),
        ("phone", "13900000001"),
        ("channel", "phone"),
        ("kind", "consultation"),
        ("content", "医保怎么报销"),
    ];
    form.push(("answer", &long));
    let r = client()
        .post(format!("{}/intake", t.base))
        .header(header::COOKIE, format!("mb_session={}", op.session))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("内容过长，最多5000个字符") && html.contains("医保怎么报销"));
    assert_eq!(t.app.store().count_tickets().await.unwrap(), before);
    // Units do not take calls.
    let unit = Browser::open(&t, "unit-in").await;
    assert_eq!(unit.page("/intake").await.0, StatusCode::FORBIDDEN);
    let (_, home) = unit.page("/").await;
    assert!(
        !home.contains("href=\"/intake\""),
        "the navigation shows only what the role may use"
    );
}
