//! The console's desks, lists, exports and administration over HTTP.

mod common;

use common::console::*;
use common::{Db, TestApp};
use mashangban_app::auth::UserInput;
use mashangban_domain::Role;
use reqwest::{StatusCode, header};
use serde_json::json;
use std::io::Read;

async fn users(t: &TestApp, people: &[(&str, Role, Option<i64>)]) {
    for (name, role, unit) in people {
        t.app
            .add_user(
                &mashangban_app::SERVER,
                UserInput {
                    username: (*name).into(),
                    display_name: None,
                    role: *role,
                    unit_id: *unit,
                    password: Some("a-long-password".into()),
                },
            )
            .await
            .unwrap();
    }
}

async fn number(t: &TestApp, id: i64) -> String {
    t.get(&format!("/api/v1/tickets/{id}"), "dispatcher")
        .await
        .body["number"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The part of a page from one marker to the next `</section>`.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("section {id} in page"));
    let rest = &html[start..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desks_lists_and_exports() {
    let t = TestApp::start(Db::Sqlite, "console_desks").await.unwrap();
    users(
        &t,
        &[
            ("disp-d", Role::Dispatcher, None),
            ("unit-d", Role::UnitHandler, Some(t.lead_unit)),
            ("cb-d", Role::CallbackAgent, None),
            ("op-d", Role::Operator, None),
        ],
    )
    .await;
    let fresh = t.create("小区门口积水严重").await;
    let asking = t.create("道路施工噪音扰民").await;
    let done = t.create("路灯不亮").await;
    for id in [asking, done] {
        let r = t
            .post(
                &format!("/api/v1/tickets/{id}/dispatch"),
                "dispatcher",
                json!({"lead_unit_id": t.lead_unit, "tier": 3}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        t.post(&format!("/api/v1/tickets/{id}/sign"), "lead", json!({}))
            .await;
    }
    let r = t
        .post(
            &format!("/api/v1/tickets/{asking}/request-extension"),
            "lead",
            json!({"days": 5, "reason": "需协调施工单位夜间停工"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    t.post(
        &format!("/api/v1/tickets/{done}/reply"),
        "lead",
        json!({"content": "已修复"}),
    )
    .await;
    t.post(
        &format!("/api/v1/tickets/{done}/approve-reply"),
        "dispatcher",
        json!({}),
    )
    .await;
    let (n_fresh, n_asking, n_done) = (
        number(&t, fresh).await,
        number(&t, asking).await,
        number(&t, done).await,
    );

    // The dispatcher's desk: new tickets to dispatch, and the extension request.
    let disp = Browser::open(&t, "disp-d").await;
    let (status, desk) = disp.page("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(desk.contains("派单台"));
    // The same desk in English.
    let (_, english, _) = get_page(&t, "/", Some(&disp.session), "mb_lang=en").await;
    assert!(english.contains("Dispatcher desk") && english.contains("Extension requests"));
    assert!(english.contains("lang=\"en\"") && !english.contains("派单台"));
    let to_dispatch = section(&desk, "to-dispatch");
    assert!(to_dispatch.contains(&n_fresh) && !to_dispatch.contains(&n_asking));
    let extensions = section(&desk, "extension-requests");
    assert!(
        extensions.contains(&n_asking) && !extensions.contains(&n_fresh),
        "{extensions}"
    );
    let (_, page) = disp.page(&format!("/tickets/{asking}")).await;
    assert!(
        page.contains("需协调施工单位夜间停工"),
        "the request's reason"
    );
    // The clocks, and how they were computed.
    assert!(
        page.contains("签收时限") && page.contains("首次联系时限") && page.contains("办理时限")
    );
    assert!(page.contains("计算过程") && page.contains("3个工作日"));
    assert!(page.contains(&format!("/tickets/{asking}/act/approve-extension\"")));
    // Names, not codes.
    assert!(page.contains("东关大街街道"), "unit and division names");

    // The unit's queue shows the handling time.
    let unit = Browser::open(&t, "unit-d").await;
    let (_, queue) = unit.page("/").await;
    let in_progress = section(&queue, "in-progress");
    assert!(in_progress.contains(&n_asking) && in_progress.contains("个工作日"));
    assert!(!queue.contains(&n_fresh), "not the unit's ticket");

    // Lists filter by unit, channel, category, district and date; bad filters are explained.
    let (_, list) = disp.page(&format!("/tickets?unit={}", t.lead_unit)).await;
    assert!(list.contains(&n_asking) && list.contains(&n_done) && !list.contains(&n_fresh));
    let (_, list) = disp.page("/tickets?channel=web").await;
    assert!(!list.contains(&n_fresh) && list.contains("没有符合条件的工单"));
    let (_, list) = disp.page("/tickets?category=01&division=630102").await;
    assert!(list.contains(&n_fresh));
    let (_, list) = disp.page("/tickets?division=630103").await;
    assert!(!list.contains(&n_fresh));
    let (_, list) = disp
        .page("/tickets?created_from=2001-01-01&created_to=2001-01-31")
        .await;
    assert!(!list.contains(&n_fresh));
    let (status, list) = disp.page("/tickets?state=nonsense").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(list.contains("state") && list.contains("nonsense"));
    let (status, list) = disp.page("/tickets?created_from=yesterday").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(list.contains("created_from"));
    // The export links carry the filters.
    let (_, list) = disp.page("/tickets?state=received&channel=phone").await;
    assert!(list.contains("/tickets/export.csv?state=received&amp;channel=phone"));

    // CSV: a BOM for Excel, Chinese headers, names, every matching row; contacts as the
    // user may see them.
    let (status, headers, body) = disp.download("/tickets/export.csv?state=received").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains(".csv")
    );
    let text = String::from_utf8(body).unwrap();
    assert!(text.starts_with('\u{feff}'));
    let mut rdr = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    assert_eq!(&rdr.headers().unwrap()[0], "工单编号");
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][0], n_fresh);
    assert_eq!(&rows[0][7], "13812345678", "the dispatcher sees the number");
    let (_, _, body) = unit.download("/tickets/export.csv").await;
    let text = String::from_utf8(body).unwrap();
    assert!(
        text.contains(&n_asking) && !text.contains(&n_fresh),
        "the unit's own only"
    );
    assert!(
        text.contains("138****5678") && !text.contains("13812345678"),
        "masked for the unit"
    );
    assert!(text.contains("东关大街街道"), "unit names, not ids");
    // Excel: a real workbook with the rows in it.
    let (status, headers, body) = disp.download("/tickets/export.xlsx").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(body)).unwrap();
    let mut strings = String::new();
    zip.by_name("xl/sharedStrings.xml")
        .unwrap()
        .read_to_string(&mut strings)
        .unwrap();
    for n in [&n_fresh, &n_asking, &n_done] {
        assert!(strings.contains(n.as_str()), "{n} in the workbook");
    }
    assert!(strings.contains("工单编号") && strings.contains("小区门口积水严重"));
    let (status, _, _) = disp.download("/tickets/export.csv?unit=abc").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // The callback desk: what was asked and answered, the number to call, and the form.
    let cb = Browser::open(&t, "cb-d").await;
    let (status, _, _) = get_page(&t, "/", Some(&cb.session), "").await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "callback staff land on their desk"
    );
    let (status, desk) = cb.page("/callback").await;
    assert_eq!(status, StatusCode::OK);
    assert!(desk.contains(&n_done) && desk.contains("13812345678") && desk.contains("已修复"));
    // Nothing the citizen did not say is preset: each answer starts unchosen, and a form
    // sent as it came is refused, naming the answer missing.
    assert!(
        desk.contains("<option value=\"\">—请选择—</option><option value=\"true\">是</option>")
    );
    assert!(!desk.contains("selected"), "no answer preselected");
    let (status, _, html) = cb
        .post(
            &format!("/tickets/{done}/act/record-callback"),
            &[
                ("_back", "/callback"),
                ("contacted", ""),
                ("resolution", ""),
                ("satisfaction", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("contacted") || html.contains("是否及时联系"),
        "{html}"
    );
    assert!(!desk.contains(&n_fresh));
    let (status, location, _) = cb
        .post(
            &format!("/tickets/{done}/act/record-callback"),
            &[
                ("_back", "/callback"),
                ("unreachable", "on"),
                ("contacted", "true"),
                ("resolution", "resolved"),
                ("satisfaction", "satisfied"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/callback"));
    let (_, desk) = cb.page("/callback").await;
    assert!(desk.contains("已尝试"), "an unreachable attempt is counted");
    // Only a local path is followed back.
    let (_, location, _) = cb
        .post(
            &format!("/tickets/{done}/act/record-callback"),
            &[
                ("_back", "//evil.example/"),
                ("contacted", "true"),
                ("resolution", "resolved"),
                ("satisfaction", "satisfied"),
            ],
        )
        .await;
    assert_eq!(location.unwrap(), format!("/tickets/{done}"));
    let (status, _) = disp.page("/callback").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "not a dispatcher's desk");

    // The unit reveals the caller's number: shown once, audited; masked again on reload.
    let (_, page) = unit.page(&format!("/tickets/{asking}")).await;
    assert!(page.contains("138****5678") && !page.contains("13812345678"));
    let (status, page) = unit.act(asking, "reveal-contact", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("13812345678") && page.contains("已记录审计"));
    let (_, page) = unit.page(&format!("/tickets/{asking}")).await;
    assert!(!page.contains("13812345678") && page.contains("查看联系方式"));

    // A ticket dispatched a week ago and never signed: once the watcher has passed, the
    // queues show it red.
    let late = t.create("井盖缺失，十分危险").await;
    let (d, _) = t
        .app
        .store()
        .get_credentials("dispatcher")
        .await
        .unwrap()
        .unwrap();
    t.app
        .act_at(
            &mashangban_app::auth::actor_of(&d),
            late,
            mashangban_domain::Action::Dispatch,
            json!({"lead_unit_id": t.lead_unit, "tier": 1, "note": "紧急，缩短时限"}),
            chrono::Utc::now() - chrono::Duration::days(7),
        )
        .await
        .unwrap();
    let report = t
        .app
        .watch_deadlines_at(chrono::Utc::now(), 100)
        .await
        .unwrap();
    assert!(report.breached >= 2, "{report:?}");
    let (_, queue) = unit.page("/").await;
    let to_sign = section(&queue, "to-sign");
    assert!(
        to_sign.contains("签收超期") && to_sign.contains("办理超期"),
        "{to_sign}"
    );
    let (_, page) = unit.page(&format!("/tickets/{late}")).await;
    assert!(page.contains("超出时限：签收时限"), "the timeline says so");

    // The caller-history fragment for the intake page's script.
    let op = Browser::open(&t, "op-d").await;
    let (status, frag) = op.page("/intake/history?phone=13812345678").await;
    assert_eq!(status, StatusCode::OK);
    assert!(frag.contains(&n_fresh) && !frag.contains("<html"));
    let (status, _) = unit.page("/intake/history?phone=13812345678").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administration_of_users_units_and_categories() {
    let t = TestApp::start(Db::Sqlite, "console_admin").await.unwrap();
    users(
        &t,
        &[
            ("admin-a", Role::Admin, None),
            ("disp-a", Role::Dispatcher, None),
        ],
    )
    .await;
    let admin = Browser::open(&t, "admin-a").await;
    let disp = Browser::open(&t, "disp-a").await;
    let (status, _) = disp.page("/admin/users").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "administrators only");
    let (_, html) = disp.page("/").await;
    assert!(
        !html.contains("href=\"/admin\""),
        "no admin link for a dispatcher"
    );
    let (status, users_page) = admin.page("/admin/users").await;
    assert_eq!(status, StatusCode::OK);
    assert!(users_page.contains("disp-a") && users_page.contains("新建用户"));

    // Bad input: the message beside the field, what was typed kept.
    let (status, _, html) = admin
        .post(
            "/admin/users",
            &[
                ("username", "x"),
                ("display_name", "新同事"),
                ("role", "dispatcher"),
                ("unit_id", ""),
                ("password", "a-long-password"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("value=\"新同事\"") && html.contains("class=\"error\""));
    let (status, _, html) = admin
        .post(
            "/admin/users",
            &[
                ("username", "handler-new"),
                ("role", "unit_handler"),
                ("unit_id", ""),
                ("password", "a-long-password"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("承办人员和网格员必须绑定所属单位"));
    // Created.
    let lead = t.lead_unit.to_string();
    let (status, location, _) = admin
        .post(
            "/admin/users",
            &[
                ("username", "handler-new"),
                ("display_name", "新承办员"),
                ("role", "unit_handler"),
                ("unit_id", &lead),
                ("password", "a-long-password"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = location.unwrap();
    let (_, html) = admin.page(&location).await;
    assert!(html.contains("用户已创建") && html.contains("东关大街街道"));
    let id = location
        .trim_start_matches("/admin/users/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let path = format!("/admin/users/{id}");
    let newbie = Browser::open(&t, "handler-new").await;

    // Reset the password: too short is refused beside the field; then it works.
    let (status, _, html) = admin
        .post(&path, &[("_do", "password"), ("password", "short")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("class=\"error\""));
    let (status, _, _) = admin
        .post(
            &path,
            &[("_do", "password"), ("password", "another-long-one")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    login_with(&t, "handler-new", "another-long-one").await;

    // Another role: a dispatcher is bound to no unit.
    let (status, _, html) = admin
        .post(
            &path,
            &[("_do", "role"), ("role", "dispatcher"), ("unit_id", &lead)],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("只有承办人员和网格员可以绑定单位"));
    let (status, _, _) = admin
        .post(
            &path,
            &[("_do", "role"), ("role", "callback_agent"), ("unit_id", "")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = admin.page(&path).await;
    assert!(html.contains("回访员"));

    // Disabled: the user's session ends at once.
    let (status, _, _) = admin.post(&path, &[("_do", "disable")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = newbie.page("/tickets").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "sent to the login page");
    // An administrator cannot disable themselves.
    let me = t
        .app
        .store()
        .get_credentials("admin-a")
        .await
        .unwrap()
        .unwrap()
        .0
        .id;
    let (status, _, html) = admin
        .post(&format!("/admin/users/{me}"), &[("_do", "disable")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("their own account"));
    // Without the form's token, nothing happens.
    let r = client()
        .post(format!("{}{path}", t.base))
        .header(header::COOKIE, format!("mb_session={}", admin.session))
        .form(&[("_do", "enable")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Units: search, and add.
    let (_, html) = admin
        .page("/admin/units?kind=city_department&q=城市管理")
        .await;
    let table = &html[..html.find("添加单位").unwrap()];
    assert!(table.contains("城市管理局") && !table.contains("东关大街街道"));
    let (status, _, html) = admin
        .post(
            "/admin/units",
            &[
                ("code", "bad code!"),
                ("name", "测试单位"),
                ("kind", "enterprise"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("value=\"测试单位\"") && html.contains("不是有效的编码"));
    let (status, location, _) = admin
        .post(
            "/admin/units",
            &[
                ("code", "UTIL-HEAT2"),
                ("name", "西宁第二热力公司"),
                ("kind", "enterprise"),
                ("parent_id", ""),
                ("division_code", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = admin.page(&location.unwrap()).await;
    assert!(html.contains("西宁第二热力公司"));
    // At once in the dispatch picker.
    let r = t.get("/api/v1/units", "dispatcher").await.body.to_string();
    assert!(r.contains("西宁第二热力公司"));

    // Categories: the tree, a change, a refusal.
    let (_, html) = admin.page("/admin/categories").await;
    assert!(html.contains("level-3"));
    let (status, _, html) = admin
        .post(
            "/admin/categories",
            &[("code", "7"), ("name", "错误"), ("active", "on")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("must be 2, 4 or 6 digits"));
    let (status, location, _) = admin
        .post(
            "/admin/categories",
            &[
                ("code", "0199"),
                ("name", "其他城建问题"),
                ("default_tier", "7"),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = admin.page(&location.unwrap()).await;
    assert!(html.contains("已保存分类") && html.contains("其他城建问题"));
    let (_, html) = admin.page("/admin/categories?code=0199").await;
    assert!(
        html.contains("value=\"其他城建问题\""),
        "the form is filled for a change"
    );

    // The calendar: the shipped year, 2027 unknown until published, days added and removed.
    let (status, html) = admin.page("/admin/calendar?year=2026").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("2026-10-01")
            && html.contains("国庆节")
            && html.contains("本年度放假安排已录入")
    );
    assert!(
        html.contains("签收时限") && html.contains("75%"),
        "the policy is shown"
    );
    let (_, html) = admin.page("/admin/calendar?year=2027").await;
    assert!(html.contains("本年度放假安排未录入"));
    let (status, _, html) = admin
        .post(
            "/admin/calendar",
            &[
                ("_do", "set"),
                ("date", "2027-02-30"),
                ("kind", "holiday"),
                ("name", "春节"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("不是日期") && html.contains("value=\"春节\""));
    let (status, location, _) = admin
        .post(
            "/admin/calendar",
            &[
                ("_do", "set"),
                ("date", "2027-02-06"),
                ("kind", "holiday"),
                ("name", "春节"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = admin.page(&location.unwrap()).await;
    assert!(html.contains("2027-02-06") && html.contains("本年度放假安排已录入"));
    let r = t.get("/api/v1/calendar?year=2027", "dispatcher").await;
    assert_eq!(r.body["days"][0]["date"], "2027-02-06", "in force at once");
    let (status, _, _) = admin
        .post(
            "/admin/calendar",
            &[("_do", "delete"), ("date", "2027-02-06")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = admin
        .post(
            "/admin/calendar",
            &[("_do", "forget_year"), ("year", "2027")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = admin.page("/admin/calendar?year=2027").await;
    assert!(html.contains("本年度放假安排未录入") && !html.contains("2027-02-06"));
    assert_eq!(disp.page("/admin/calendar").await.0, StatusCode::FORBIDDEN);
}

async fn login_with(t: &TestApp, user: &str, password: &str) {
    let c = client();
    let page = c.get(format!("{}/login", t.base)).send().await.unwrap();
    let csrf = cookie_value(&set_cookie(&page, "mb_csrf").unwrap());
    let r = c
        .post(format!("{}/login", t.base))
        .header(header::COOKIE, format!("mb_csrf={csrf}"))
        .form(&[("username", user), ("password", password), ("_csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{user} logs in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervision_board_notices_and_rules() {
    let t = TestApp::start(Db::Sqlite, "console_board").await.unwrap();
    users(
        &t,
        &[
            ("sup-b", Role::Supervisor, None),
            ("unit-b", Role::UnitHandler, Some(t.lead_unit)),
            ("admin-b", Role::Admin, None),
        ],
    )
    .await;
    let sup = Browser::open(&t, "sup-b").await;
    let unit = Browser::open(&t, "unit-b").await;
    let admin = Browser::open(&t, "admin-b").await;
    // A ticket dispatched three working weeks ago and never touched: overdue, 催办 by rule.
    let (d, _) = t
        .app
        .store()
        .get_credentials("dispatcher")
        .await
        .unwrap()
        .unwrap();
    let late = t.create("下水道堵塞，污水外溢").await;
    t.app
        .act_at(
            &mashangban_app::auth::actor_of(&d),
            late,
            mashangban_domain::Action::Dispatch,
            json!({"lead_unit_id": t.lead_unit, "tier": 3}),
            chrono::Utc::now() - chrono::Duration::days(21),
        )
        .await
        .unwrap();
    let w = t
        .app
        .watch_deadlines_at(chrono::Utc::now(), 100)
        .await
        .unwrap();
    assert_eq!(w.supervised, 1, "{w:?}");
    // The board: the unit's line, and the ticket with its one-click button.
    let (status, board) = sup.page("/board").await;
    assert_eq!(status, StatusCode::OK);
    assert!(board.contains("东关大街街道办事处"), "{board}");
    assert!(board.contains("下水道堵塞"));
    assert!(has_action(&board, late, "supervise"));
    let (status, _) = unit.page("/board").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // One click raises it to 书面督办 and comes back to the board.
    let (status, location, _) = sup
        .post(
            &format!("/tickets/{late}/act/supervise"),
            &[
                ("level", "l2"),
                (
                    "note",
                    "督办看板：该件已超期，请加快办理并于1个工作日内反馈。",
                ),
                ("_back", "/board"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/board"));
    let (_, board) = sup.page("/board").await;
    assert!(board.contains("supervised l2"), "the level shows");
    // The unit: a badge in the header, the notice, the section to answer, the answer form.
    let (_, home) = unit.page("/").await;
    assert!(
        home.contains("class=\"badge\" id=\"notices-badge\">"),
        "unseen notices"
    );
    assert!(section(&home, "supervision-to-answer").contains("下水道堵塞"));
    let (_, notices) = unit.page("/notices").await;
    assert!(
        notices.contains("书面督办") && notices.contains("超期"),
        "{notices}"
    );
    // Reading one marks that one read, not all: the page alone reads none.
    let (_, before) = unit.page("/notices/unseen").await;
    let before: u32 = before.parse().unwrap();
    assert!(before >= 2, "several unread: {before}");
    let first = notices
        .split("href=\"/notices/")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap()
        .to_string();
    let (status, location, _) = unit.get_raw(&format!("/notices/{first}/open")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.unwrap().starts_with("/tickets/"));
    let (_, after) = unit.page("/notices/unseen").await;
    assert_eq!(after, (before - 1).to_string(), "that one read");
    let (_, notices) = unit.page("/notices").await;
    assert!(
        notices.contains(&format!("<li id=\"n{first}\">")),
        "shown read"
    );
    // Someone else's notice is not theirs to read: back to the list.
    let (_, location, _) = sup.get_raw(&format!("/notices/{first}/open")).await;
    assert_eq!(location.as_deref(), Some("/notices"));
    // All at once.
    let (status, _, _) = unit.post("/notices/read-all", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, home) = unit.page("/").await;
    assert!(
        home.contains("class=\"badge\" id=\"notices-badge\" hidden>"),
        "all read now"
    );
    let (_, page) = unit.page(&format!("/tickets/{late}")).await;
    assert!(page.contains("card supervision l2") && page.contains("待反馈"));
    let (status, page) = unit
        .act(
            late,
            "answer-supervision",
            &[("answer", "已安排疏通，明日完成")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(page.contains("已安排疏通") && page.contains("督办反馈"));
    let (_, home) = unit.page("/").await;
    assert!(
        !home.contains("supervision-to-answer"),
        "nothing left to answer"
    );
    // Supervisors hear of the answer: the badge's count is there to poll, and reading all
    // clears it.
    let (status, count) = sup.page("/notices/unseen").await;
    assert_eq!(status, StatusCode::OK);
    assert!(count.parse::<u32>().is_ok_and(|n| n > 0), "{count}");
    let (_, notices) = sup.page("/notices").await;
    assert!(notices.contains("已安排疏通"));
    let (_, still) = sup.page("/notices/unseen").await;
    assert_eq!(still, count, "looking at the list reads nothing");
    sup.post("/notices/read-all", &[]).await;
    let (_, count) = sup.page("/notices/unseen").await;
    assert_eq!(count, "", "all read");

    // The rules page: a bad value comes back beside its field; a good one is saved.
    let (status, page) = admin.page("/admin/policy").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("书面督办"));
    let form = |warn: &'static str| {
        vec![
            ("working_hours", "08:30-12:00,14:30-18:00"),
            ("sign_within_hours", "2"),
            ("contact_within_days", "1"),
            ("handling_days", "working"),
            ("callback_within_days", "2"),
            ("warn_at_percent", warn),
            ("max_extensions", "2"),
            ("extension_cutoff", "17:00"),
            ("pause_in", "return_requested"),
            ("pause_in", "in_consultation"),
            ("supervision.l1_on_breach_of", "handling"),
            ("supervision.l2_after_working_days", "3"),
            ("supervision.l3_after_working_days", ""),
            ("supervision.l2_on_bad_callbacks", "2"),
            ("supervision.l3_on_bad_callbacks", "3"),
        ]
    };
    let (status, _, html) = admin.post("/admin/policy", &form("abc")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("abc"), "what was typed comes back");
    let (status, location, _) = admin.post("/admin/policy", &form("80")).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location:?}");
    let p = t
        .app
        .names(&mashangban_app::SERVER)
        .await
        .unwrap()
        .policy
        .clone();
    assert_eq!(p.warn_at_percent, 80);
    assert_eq!(p.working_hours.to_string(), "08:30-12:00,14:30-18:00");
    assert_eq!(p.supervision.l3_after_working_days, None);
    assert_eq!(
        p.supervision.l1_on_breach_of,
        vec![mashangban_domain::deadlines::ClockKind::Handling]
    );
    // The cut-off shows as it was typed (HH:MM), whole, not the stored 17:00:00 cut short.
    let (_, page) = admin.page("/admin/policy").await;
    assert!(
        page.contains("name=\"extension_cutoff\" value=\"17:00\""),
        "{}",
        &page[page.find("extension_cutoff").unwrap_or(0)..][..200]
    );
    // A unit's SMS liaison.
    let (status, _, _) = admin
        .post(
            &format!("/admin/units/{}/contact", t.lead_unit),
            &[("liaison", "王主任"), ("phone", "13900001111")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, html) = admin
        .post(
            &format!("/admin/units/{}/contact", t.lead_unit),
            &[("liaison", "王主任"), ("phone", "12")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("13900001111") || html.contains("12"));
    let contacts = t.app.unit_contacts(&mashangban_app::SERVER).await.unwrap();
    assert_eq!(contacts[&t.lead_unit].phone, "13900001111");
    // The liaisons' phones are read through a use case that checks who asks.
    let operator = mashangban_domain::Actor {
        user_id: 2,
        role: mashangban_domain::Role::Operator,
        unit_id: None,
    };
    assert!(matches!(
        t.app.unit_contacts(&operator).await,
        Err(mashangban_app::AppError::Forbidden(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispatch_catalogue_page() {
    let t = TestApp::start(Db::Sqlite, "console_catalogue")
        .await
        .unwrap();
    users(
        &t,
        &[
            ("admin-c", Role::Admin, None),
            ("disp-c", Role::Dispatcher, None),
        ],
    )
    .await;
    let admin = Browser::open(&t, "admin-c").await;
    let dept = t
        .app
        .store()
        .get_unit_by_code("DEPT-CG")
        .await
        .unwrap()
        .unwrap()
        .id;
    let street = t.lead_unit; // 东关大街街道办事处
    // Others may not keep it.
    let disp = Browser::open(&t, "disp-c").await;
    assert_eq!(disp.page("/admin/catalogue").await.0, StatusCode::FORBIDDEN);

    let (status, html) = admin.page("/admin/catalogue").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("派单目录"), "{html}");
    // Add: roads city-wide to the city department.
    let (status, location, _) = admin
        .post(
            "/admin/catalogue",
            &[
                ("category_code", "010101"),
                ("division_code", ""),
                ("unit_id", &dept.to_string()),
                ("ownership", ""),
                ("tier", "7"),
                ("valid_from", "2026-01-01"),
                ("note", "全市道路"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = admin.page(location.as_deref().unwrap()).await;
    assert!(html.contains("已保存"), "{html}");
    assert!(html.contains("西宁市城市管理局"), "{html}");
    assert!(html.contains("职能部门事项"), "{html}");
    // Pushing it down to a street office is refused beside the unit, with what was typed.
    let (status, _, html) = admin
        .post(
            "/admin/catalogue",
            &[
                ("category_code", "010101"),
                ("division_code", "630102001"),
                ("unit_id", &street.to_string()),
                ("valid_from", "2026-01-01"),
                ("note", "下沉"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("不得在其范围内改派街道或社区"), "{html}");
    assert!(html.contains("value=\"下沉\""), "{html}");
    // Who owns a road in a community of 东关大街街道: the department, and why.
    let (_, html) = admin
        .page("/admin/catalogue?check_category=010101&check_division=630102001001")
        .await;
    assert!(html.contains("目录条目 #1"), "{html}");
    // Import: a bad line names itself; a good file is taken whole.
    let (status, _, html) = admin
        .post(
            "/admin/catalogue/import",
            &[(
                "csv",
                "category_code,division_code,unit_code,valid_from\n0102,630102,NOPE,2026-01-01\n",
            )],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("line 2"), "{html}");
    let (status, location, _) = admin
        .post(
            "/admin/catalogue/import",
            &[("csv", "category_code,division_code,unit_code,valid_from\n0102,630102,GOV-630102,2026-01-01\n")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location:?}");
    let (_, html) = admin.page("/admin/catalogue").await;
    assert!(html.contains("城东区人民政府"), "{html}");
    // The same as files: the Excel export uploaded back (edits at their versions: each
    // entry is at version 2 after), a CSV
    // file with a bad line named, and something that is neither.
    assert!(html.contains("/admin/catalogue/upload"), "{html}");
    let (status, _, csv) = admin.download("/admin/catalogue/export.csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&csv).contains("GOV-630102"));
    assert_eq!(
        disp.download("/admin/catalogue/export.csv").await.0,
        StatusCode::FORBIDDEN
    );
    let (status, _, workbook) = admin.download("/admin/catalogue/export.xlsx").await;
    assert_eq!(status, StatusCode::OK);
    let (status, location, html) = admin
        .upload("/admin/catalogue/upload", "catalogue.xlsx", &workbook)
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    assert_eq!(location.as_deref(), Some("/admin/catalogue?saved=2"));
    let (status, _, html) = admin
        .upload(
            "/admin/catalogue/upload",
            "catalogue.csv",
            "\u{feff}category_code,division_code,unit_code,valid_from\n0102,630102,NOPE,2026-01-01\n"
                .as_bytes(),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("line 2"), "{html}");
    let (status, _, html) = admin
        .upload(
            "/admin/catalogue/upload",
            "photo.jpg",
            &[0xff, 0xd8, 0xff, 0xe0, 0x80],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("neither an Excel workbook"), "{html}");
    // End the first entry by editing it; then delete the second; the history shows all.
    let (status, _, _) = admin
        .post(
            "/admin/catalogue",
            &[
                ("id", "1"),
                ("version", "2"),
                ("category_code", "010101"),
                ("unit_id", &dept.to_string()),
                ("tier", "7"),
                ("valid_from", "2026-01-01"),
                ("valid_to", "2026-01-31"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = admin
        .post("/admin/catalogue/delete", &[("id", "2"), ("version", "2")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = admin.page("/admin/catalogue").await;
    assert!(html.contains("不在有效期"), "{html}");
    assert!(!html.contains("城东区人民政府</td>"), "{html}");
    for word in ["新增", "修改", "删除"] {
        assert!(html.contains(word), "{word}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn knowledge_page_searches_in_chinese() {
    let t = TestApp::start(Db::Sqlite, "console_knowledge")
        .await
        .unwrap();
    users(&t, &[("op-k", Role::Operator, None)]).await;
    t.app.ensure_demo_knowledge().await.unwrap();
    let op = Browser::open(&t, "op-k").await;
    // In the navigation, every article in force listed, demo content marked.
    let (status, html) = op.page("/knowledge").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("href=\"/knowledge\""), "{html}");
    assert!(
        html.contains("茶叶渣") && html.contains("拖欠工资"),
        "{html}"
    );
    assert!(html.contains("演示内容"), "{html}");
    // A search in the caller's words puts the right answer first.
    let (status, html) = op
        .page("/knowledge?q=%E5%AE%B6%E9%87%8C%E6%9A%96%E6%B0%94%E4%B8%8D%E7%83%AD") // 家里暖气不热
        .await;
    assert_eq!(status, StatusCode::OK);
    let first = html.find("<h3>").expect("a result");
    assert!(html[first..].starts_with("<h3>家里暖气不热找谁"), "{html}");
    assert!(html.contains("相关度"), "{html}");
    let (_, html) = op.page("/knowledge?q=%E7%81%AB%E6%98%9F").await; // 火星
    assert!(html.contains("没有找到相关知识"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intake_suggestions_fragment() {
    let t = TestApp::start(Db::Sqlite, "console_intake_suggest")
        .await
        .unwrap();
    users(
        &t,
        &[
            ("op-s", Role::Operator, None),
            ("unit-s", Role::UnitHandler, Some(t.lead_unit)),
        ],
    )
    .await;
    t.app.ensure_demo_knowledge().await.unwrap();
    t.app.ensure_demo_catalogue().await.unwrap();
    t.app
        .train_classifier(&mashangban_app::SERVER, 1000)
        .await
        .unwrap();
    let op = Browser::open(&t, "op-s").await;
    let (status, html) = op.page("/intake").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"suggest\""), "{html}");
    let enc = common::enc;
    // An emergency comes first, with the number to transfer to.
    let (status, html) = op
        .page(&format!(
            "/intake/suggest?content={}&address=",
            enc("楼道里着火了，浓烟很大，有人被困")
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.starts_with("<div class=\"emergency\""), "{html}");
    assert!(html.contains("119"), "{html}");
    // A question the knowledge base answers, at a known place, with the owning unit and why.
    let (status, html) = op
        .page(&format!(
            "/intake/suggest?content={}&address={}",
            enc("家里暖气不热，请问找谁"),
            enc("城东区东关大街街道")
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("class=\"emergency\""), "{html}");
    assert!(html.contains("data-accept=\"category_code\""), "{html}");
    assert!(html.contains("data-key=\"1\""), "{html}");
    assert!(html.contains("东关大街街道"), "{html}");
    assert!(html.contains("data-accept=\"answer\""), "{html}");
    assert!(html.contains("依据派单目录"), "{html}");
    // The title alone is enough to propose a category.
    let (status, html) = op
        .page(&format!("/intake/suggest?title={}", enc("暖气不热")))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-accept=\"category_code\""), "{html}");
    // A look-alike open ticket at the place: one button saves the call merged into it.
    let r = t
        .post(
            "/api/v1/tickets",
            "operator",
            serde_json::json!({"channel": "phone", "kind": "complaint", "content": "小区里暖气不热，家里很冷",
                   "citizen": {"name": "王五", "phone": "13900000002"}, "division_code": "630102001001"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let open_id = r.body["id"].as_i64().unwrap();
    let (_, html) = op
        .page(&format!(
            "/intake/suggest?content={}&address={}",
            enc("家里暖气不热，很冷"),
            enc("城东区东关大街街道")
        ))
        .await;
    let button = format!("name=\"merge_into\" value=\"{open_id}\"");
    assert!(html.contains(&button), "{html}");
    assert!(html.contains("form=\"intake-form\""), "{html}");
    let call = [
        ("phone", "13900000003"),
        ("channel", "phone"),
        ("kind", "complaint"),
        ("content", "家里暖气不热，很冷"),
        ("address", "城东区东关大街街道"),
    ];
    fn with<'a>(
        call: &[(&'a str, &'a str)],
        extra: &[(&'a str, &'a str)],
    ) -> Vec<(&'a str, &'a str)> {
        [call, extra].concat()
    }
    // With an answer too: refused, nothing saved, the reason beside the answer.
    let id_text = open_id.to_string();
    let id_ref = id_text.as_str();
    let (status, _, html) = op
        .post(
            "/intake",
            &with(&call, &[("merge_into", id_ref), ("answer", "已告知")]),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("不能同时直接答复"), "{html}");
    let (status, location, _) = op
        .post("/intake", &with(&call, &[("merge_into", id_ref)]))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = op.page(&location.unwrap()).await;
    assert!(html.contains("id=\"merged-into\""), "{html}");
    assert!(html.contains("不再单独派单"), "{html}");
    // The ticket it joined is named by its number, not its internal id.
    let open_number = t
        .get(&format!("/api/v1/tickets/{open_id}"), "dispatcher")
        .await
        .body["number"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        html.contains(&format!(">{open_number}</a>（同一诉求")),
        "{html}"
    );
    // The proposal shown is saved beside the operator's choice.
    let (status, location, _) = op
        .post(
            "/intake",
            &with(
                &call,
                &[
                    ("category_code", "010202"),
                    ("suggested_category_code", "010203"),
                ],
            ),
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let id: i64 = location
        .unwrap()
        .split("created=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let tk = t
        .get(&format!("/api/v1/tickets/{id}"), "dispatcher")
        .await
        .body;
    assert_eq!(tk["category_code"], "010202", "{tk}");
    assert_eq!(tk["suggested_category_code"], "010203", "{tk}");
    // A ticket that does not exist is said above the form.
    let (status, _, html) = op
        .post("/intake", &with(&call, &[("merge_into", "99999999")]))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("要并入的工单不存在"), "{html}");
    // Nothing typed: nothing proposed. Units do not receive calls.
    let (status, html) = op.page("/intake/suggest?content=&address=").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.trim().is_empty(), "{html}");
    let unit = Browser::open(&t, "unit-s").await;
    assert_eq!(
        unit.page("/intake/suggest?content=x").await.0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gazetteer_page() {
    let t = TestApp::start(Db::Sqlite, "console_gazetteer")
        .await
        .unwrap();
    users(
        &t,
        &[
            ("admin-g", Role::Admin, None),
            ("op-g", Role::Operator, None),
        ],
    )
    .await;
    let op = Browser::open(&t, "op-g").await;
    assert_eq!(op.page("/admin/gazetteer").await.0, StatusCode::FORBIDDEN);
    let admin = Browser::open(&t, "admin-g").await;
    let (status, html) = admin.page("/admin/gazetteer").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("地名库"), "{html}");
    // A division that does not exist is refused beside its field; nothing is saved.
    let (status, _, html) = admin
        .post(
            "/admin/gazetteer",
            &[
                ("name", "青发小区"),
                ("kind", "compound"),
                ("division_code", "999"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("999"), "{html}");
    assert!(
        t.app
            .gazetteer(&mashangban_app::SERVER)
            .await
            .unwrap()
            .is_empty()
    );
    // Saved, the name resolves at once.
    let (status, location, _) = admin
        .post(
            "/admin/gazetteer",
            &[
                ("name", "青发小区"),
                ("kind", "compound"),
                ("division_code", "630102001001"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location:?}");
    let (_, html) = admin
        .page("/admin/gazetteer?test=%E9%9D%92%E5%8F%91%E5%B0%8F%E5%8C%BA7%E5%8F%B7%E6%A5%BC") // 青发小区7号楼
        .await;
    assert!(html.contains("id=\"resolved\""), "{html}");
    assert!(html.contains("东关大街街道"), "{html}");
    let id = t.app.gazetteer(&mashangban_app::SERVER).await.unwrap()[0].id;
    let (status, _, _) = admin
        .post("/admin/gazetteer/delete", &[("id", &id.to_string())])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        t.app
            .gazetteer(&mashangban_app::SERVER)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticket_search_box() {
    let t = TestApp::start(Db::Sqlite, "console_search").await.unwrap();
    users(&t, &[("disp-q", Role::Dispatcher, None)]).await;
    let lamp = t.create("东关大街小区门口路灯坏了好几天").await;
    let other = t.create("楼上装修电钻声音太吵").await;
    let disp = Browser::open(&t, "disp-q").await;
    let (status, html) = disp.page("/tickets").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("name=\"q\""), "{html}");
    let (status, html) = disp
        .page(&format!("/tickets?q={}", common::enc("路灯")))
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("id=\"search-total\">1<"), "{html}");
    assert!(html.contains(&number(&t, lamp).await), "{html}");
    assert!(!html.contains(&number(&t, other).await), "{html}");
    // Filters apply to a search; a bad one is named.
    let (_, html) = disp
        .page(&format!("/tickets?q={}&state=closed", common::enc("路灯")))
        .await;
    assert!(html.contains("id=\"search-total\">0<"), "{html}");
    let (status, html) = disp
        .page(&format!("/tickets?q={}&state=lost", common::enc("路灯")))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("state"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evaluation_page_and_reports() {
    let t = TestApp::start(Db::Sqlite, "console_kpis").await.unwrap();
    users(
        &t,
        &[
            ("analyst-k", Role::Analyst, None),
            ("unit-k", Role::UnitHandler, Some(t.lead_unit)),
        ],
    )
    .await;
    // Two requests today, one dispatched to the street office and called back.
    let id = t.create("东关大街路灯不亮").await;
    t.create("咨询社保卡办理").await;
    t.act(
        id,
        "dispatch",
        "dispatcher",
        json!({"lead_unit_id": t.lead_unit, "tier": 3}),
    )
    .await;
    let analyst = Browser::open(&t, "analyst-k").await;
    let unit = Browser::open(&t, "unit-k").await;
    let (status, html) = analyst.page("/kpis").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("考评排名"), "{html}");
    assert!(html.contains("西宁市"), "the city's row: {html}");
    let (status, html) = analyst.page("/kpis?group_by=unit").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("东关大街街道办事处"), "{html}");
    // The unit's name and its request count link to its tickets of the period.
    assert!(
        html.matches(&format!("&amp;unit={}\"", t.lead_unit))
            .count()
            >= 2,
        "{html}"
    );
    let (status, html) = analyst.page("/kpis?from=2026-05-02&to=2026-05-01").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("from:"), "{html}");
    let (status, _) = unit.page("/kpis").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Excel export of the table, and the reports as documents.
    let (status, headers, bytes) = analyst.download("/kpis/export.xlsx?group_by=unit").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    assert!(bytes.starts_with(b"PK"));
    let today = mashangban_app::kpis::Period::month_to_date().to;
    let (status, html) = analyst.page(&format!("/reports/daily?date={today}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("12345政务服务便民热线工作日报"), "{html}");
    assert!(html.contains("热点问题"), "{html}");
    // Printed as the paper report: A4, no navigation, no form, no script.
    assert!(html.contains("@page{size:A4"), "{html}");
    for absent in ["<nav", "<form", "<script", "<button"] {
        assert!(!html.contains(absent), "{absent} in the printed report");
    }
    let (status, headers, _) = analyst
        .download(&format!("/reports/daily?date={today}&format=doc"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains(".doc")
    );
    let (status, html) = analyst.page("/reports/monthly").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("考评通报"), "{html}");
    // Bad input to a download or a report answers with a console page naming the field.
    for path in [
        "/kpis/export.xlsx?from=2026-13-01",
        "/reports/daily?date=yesterday",
        "/reports/monthly?month=2026-13",
        "/warnings/export.xlsx?status=bogus",
    ] {
        let (status, html) = analyst.page(path).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert!(html.contains("role=\"alert\""), "{path}: {html}");
        assert!(html.contains("<nav"), "a console page: {path}");
    }
    // The daily report's tables as Excel.
    let (status, _, bytes) = analyst
        .download(&format!("/reports/daily?date={today}&format=xlsx"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(bytes.starts_with(b"PK"));
    // Both reports as Word documents (.docx): the text is in the document part.
    for (path, words) in [
        (
            format!("/reports/daily?date={today}&format=docx"),
            "热点问题",
        ),
        (
            "/reports/monthly?format=docx".to_string(),
            "承办单位考评排名",
        ),
    ] {
        let (status, headers, bytes) = analyst.download(&path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .contains("wordprocessingml"),
            "{path}"
        );
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut xml = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("word/document.xml").unwrap(), &mut xml)
            .unwrap();
        assert!(xml.contains(words), "{path}: {xml}");
    }
}

/// 分级转办 in the console: the lead street office forwards a ticket to its community with
/// the form (which offers only the units below), the community replies, the street passes
/// the reply up edited; the ticket page shows the chain with each level's state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chain_through_the_console_forms() {
    let t = TestApp::start(Db::Sqlite, "console_chain").await.unwrap();
    users(
        &t,
        &[
            ("street-c", Role::UnitHandler, Some(t.lead_unit)),
            ("community-c", Role::UnitHandler, Some(t.below_unit)),
        ],
    )
    .await;
    let id = t.ticket_in("in_progress").await;
    let street = Browser::open(&t, "street-c").await;
    let community = Browser::open(&t, "community-c").await;
    let (_, html) = street.page(&format!("/tickets/{id}")).await;
    assert!(has_action(&html, id, "forward"));
    let form = &html[html.find(&format!("/tickets/{id}/act/forward")).unwrap()..];
    let form = &form[..form.find("</form>").unwrap()];
    // Only units below the street office: its communities, not the city's departments.
    assert!(form.contains(&format!("value=\"{}\"", t.below_unit)));
    assert!(!form.contains(&format!("value=\"{}\"", t.other_unit)));
    // The community does not see the ticket before it is forwarded.
    assert_eq!(
        community.page(&format!("/tickets/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    let below = t.below_unit.to_string();
    let (status, html) = street
        .act(
            id,
            "forward",
            &[("unit_id", &below), ("note", "请社区核实")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    assert!(html.contains("分级转办"));
    assert!(html.contains("待签收"));
    let (_, html) = community.page(&format!("/tickets/{id}")).await;
    assert!(has_action(&html, id, "sign"));
    assert!(!has_action(&html, id, "approve-reply"));
    community.act(id, "sign", &[]).await;
    let (status, _) = community
        .act(id, "reply", &[("content", "社区已联系物业处理")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // The street reviews: the form holds the community's reply, to pass up as edited.
    let (_, html) = street.page(&format!("/tickets/{id}")).await;
    assert!(has_action(&html, id, "approve-reply"));
    assert!(html.contains("社区已联系物业处理"));
    assert!(html.contains("已答复待上级审核"));
    let (status, html) = street
        .act(id, "approve-reply", &[("content", "街道：物业已整改完毕")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    assert!(html.contains("已完成"));
    assert_eq!(
        t.get(&format!("/api/v1/tickets/{id}"), "dispatcher")
            .await
            .body["reply"],
        "街道：物业已整改完毕"
    );
    assert_eq!(t.state(id).await, "replied");
    // The figures by territory show what each community did down the levels.
    users(&t, &[("disp-c", Role::Dispatcher, None)]).await;
    let disp = Browser::open(&t, "disp-c").await;
    let (status, html) = disp
        .page(&format!("/kpis?group_by=territory&parent={}", t.lead_unit))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("分级办理、吹哨报到与社区自办"), "{html}");
    let levels = &html[html.find("分级办理、吹哨报到与社区自办").unwrap()..];
    assert!(
        levels.contains("100.00%"),
        "the community replied in time: {levels}"
    );
}
