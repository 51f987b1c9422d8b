//! The desk's everyday work over HTTP on both backends: a phone number is kept in one form
//! and found however it is typed; saved filters are each user's own; the console's bulk bar
//! acts through the one bulk use case and exports only what the user may see; an action
//! says what it did, once.

mod common;

use common::TestApp;
use common::console::{Browser, client};
use mashangban_app::auth::UserInput;
use mashangban_domain::Role;
use reqwest::{StatusCode, header};
use serde_json::json;
use std::io::Read;

/// A console user of this role (and unit), signed in through the form.
async fn signed_in(t: &TestApp, name: &str, role: Role, unit: Option<i64>) -> Browser {
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
    Browser::open(t, name).await
}

on_both!(
    a_number_is_found_however_it_is_typed,
    saved_filters_are_each_users_own,
    the_bulk_bar_acts_and_exports_as_the_user_may,
    an_action_says_what_it_did_once,
    a_list_is_read_oldest_first_over_every_page
);

/// A queue worked in the order it came in: oldest first over every page, in the API and
/// in the console's list; newest first stays the default; a search keeps its best first.
async fn a_list_is_read_oldest_first_over_every_page(t: &TestApp) {
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(t.create(&format!("先来后到{i}")).await);
    }
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = t
            .get(
                &format!("/api/v1/tickets?order=oldest&limit=2{cursor}"),
                "dispatcher",
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        seen.extend(
            r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_i64().unwrap()),
        );
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    let newest = t.get("/api/v1/tickets?limit=5", "dispatcher").await.body;
    assert_eq!(newest["items"][0]["id"], ids[4]);
    let r = t.get("/api/v1/tickets?order=sideways", "dispatcher").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["error"]["field"], "order");
    let disp = signed_in(t, "c-order", Role::Dispatcher, None).await;
    let (status, page) = disp.page("/tickets?order=oldest").await;
    assert_eq!(status, StatusCode::OK);
    let at = |id: i64| page.find(&format!("value=\"{id}\" form=\"bulk\"")).unwrap();
    assert!(at(ids[0]) < at(ids[4]), "oldest first");
    assert!(page.contains("<strong>最早在前</strong>"));
    // The search box still finds, best first, with the order in the address.
    let (status, _) = disp
        .page(&format!(
            "/tickets?order=oldest&q={}",
            common::enc("先来后到")
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
}

async fn a_number_is_found_however_it_is_typed(t: &TestApp) {
    let r = t
        .post(
            "/api/v1/tickets",
            "operator",
            json!({"channel": "phone", "kind": "complaint", "content": "电梯停运三天",
                   "citizen": {"phone": "+86 139-0000-1111"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(r.body["citizen"]["phone"], "13900001111");
    let landline = t
        .post(
            "/api/v1/tickets",
            "operator",
            json!({"channel": "phone", "kind": "complaint", "content": "路灯不亮",
                   "citizen": {"phone": "(0971) 8123456"}}),
        )
        .await;
    assert_eq!(landline.body["citizen"]["phone"], "0971-8123456");
    for typed in ["13900001111", "139 0000 1111", "+86-139-0000-1111"] {
        let found = t
            .get(
                &format!("/api/v1/tickets?phone={}", common::enc(typed)),
                "dispatcher",
            )
            .await;
        assert_eq!(found.body["items"][0]["id"], id, "{typed}: {}", found.body);
        let searched = t
            .get(
                &format!("/api/v1/tickets/search?q={}", common::enc(typed)),
                "dispatcher",
            )
            .await;
        assert_eq!(
            searched.body["items"][0]["id"], id,
            "{typed}: {}",
            searched.body
        );
    }
    let found = t.get("/api/v1/tickets?phone=09718123456", "operator").await;
    assert_eq!(found.body["items"][0]["id"], landline.body["id"]);
}

async fn saved_filters_are_each_users_own(t: &TestApp) {
    let disp = signed_in(t, "c-disp", Role::Dispatcher, None).await;
    let (status, to, _) = disp
        .post(
            "/tickets/filters",
            &[
                ("name", "城东区待派"),
                ("state", "received"),
                ("division", "630102"),
                ("cursor", "99"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let to = to.unwrap();
    assert_eq!(
        to, "/tickets?state=received&division=630102",
        "no cursor kept"
    );
    let (_, page) = disp.page(&to).await;
    assert!(page.contains("城东区待派"), "the chip");
    assert!(
        page.contains(">/tickets?state=received&amp;division=630102<")
            || page.contains("href=\"/tickets?state=received&amp;division=630102\"")
    );
    // Another user has none of them, and may not delete them.
    let op = signed_in(t, "c-op", Role::Operator, None).await;
    let (_, theirs) = op.page("/tickets").await;
    assert!(!theirs.contains("城东区待派"));
    let id = page
        .split("/tickets/filters/")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap()
        .to_string();
    let (status, _, _) = op.post(&format!("/tickets/filters/{id}/delete"), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Filters the list does not know, a name too long, nothing to save: refused, named.
    for (fields, field) in [
        (vec![("name", "x"), ("colour", "red")], "colour"),
        (
            vec![("name", &*"长".repeat(41)), ("state", "received")],
            "name",
        ),
        (vec![("name", "空")], "query"),
        (
            vec![("name", "坏日期"), ("created_from", "2026-13-01")],
            "created_from",
        ),
    ] {
        let (status, _, body) = disp.post("/tickets/filters", &fields).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        assert!(body.contains(field), "{field}: {body}");
    }
    // A unit handler may not keep a phone look-up.
    let lead = signed_in(t, "c-lead", Role::UnitHandler, Some(t.lead_unit)).await;
    let (status, _, _) = lead
        .post(
            "/tickets/filters",
            &[("name", "某号码"), ("phone", "13812345678")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The owner deletes it.
    let (status, to, _) = disp
        .post(&format!("/tickets/filters/{id}/delete"), &[])
        .await;
    assert_eq!(
        (status, to.as_deref()),
        (StatusCode::SEE_OTHER, Some("/tickets"))
    );
    let (_, page) = disp.page("/tickets").await;
    assert!(!page.contains("城东区待派"));
}

async fn the_bulk_bar_acts_and_exports_as_the_user_may(t: &TestApp) {
    let a = t.create("批量：路灯不亮").await;
    let b = t.create("批量：井盖缺失").await;
    let theirs = t.ticket_in("dispatched").await;
    let disp = signed_in(t, "c-disp", Role::Dispatcher, None).await;
    // An emergency said in the words stands first on its row.
    let fire = t
        .post(
            "/api/v1/tickets",
            "operator",
            json!({"channel": "phone", "kind": "help", "content": "楼道里闻到煤气味，很浓"}),
        )
        .await;
    assert_eq!(fire.body["emergency"], "119");
    let (_, desk) = disp.page("/").await;
    assert!(desk.contains("紧急 119"), "the flag on the desk");
    assert!(desk.contains(&format!("name=\"ticket\" value=\"{a}\" form=\"bulk\"")));
    assert!(desk.contains("action=\"/tickets/bulk\""));
    // Without the form's token: refused.
    let r = client()
        .post(format!("{}/tickets/bulk", t.base))
        .header(header::COOKIE, format!("mb_session={}", disp.session))
        .form(&[("action", "dispatch"), ("ticket", &a.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let unit = t.lead_unit.to_string();
    let (a_s, b_s, theirs_s) = (a.to_string(), b.to_string(), theirs.to_string());
    let (status, _, page) = disp
        .post(
            "/tickets/bulk",
            &[
                ("_back", "/"),
                ("action", "dispatch"),
                ("ticket", &a_s),
                ("ticket", &b_s),
                ("ticket", &theirs_s),
                ("lead_unit_id", &unit),
                ("tier", "3"),
                ("note", "同类事项批量派单"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("已派单 <strong id=\"bulk-done\">2</strong> 件"),
        "{page}"
    );
    assert!(
        page.contains("工单当前状态不能派单"),
        "the refused one, said why"
    );
    assert_eq!(t.state(a).await, "dispatched");
    assert_eq!(t.state(b).await, "dispatched");
    // The operator may not dispatch, in bulk either.
    let op = signed_in(t, "c-op", Role::Operator, None).await;
    let (status, _, _) = op
        .post(
            "/tickets/bulk",
            &[
                ("action", "dispatch"),
                ("ticket", &a_s),
                ("lead_unit_id", &unit),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // None ticked: said so.
    let (status, _, page) = disp
        .post("/tickets/bulk", &[("action", "add-note"), ("note", "x")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("请勾选1到50件工单"), "{page}");
    // Exporting the ticked: the other unit sees none of them; the lead unit both.
    let export = |who: &Browser, ids: Vec<String>| {
        let mut form = vec![("_csrf".to_string(), who.csrf.clone())];
        form.extend(ids.into_iter().map(|i| ("ticket".to_string(), i)));
        let req = client()
            .post(format!("{}/tickets/bulk/export.xlsx", t.base))
            .header(header::COOKIE, format!("mb_session={}", who.session))
            .form(&form);
        async move {
            let r = req.send().await.unwrap();
            let status = r.status();
            let bytes = r.bytes().await.unwrap().to_vec();
            (status, bytes)
        }
    };
    let strings = |bytes: Vec<u8>| {
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut s = String::new();
        zip.by_name("xl/sharedStrings.xml")
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        s
    };
    let lead = signed_in(t, "c-lead", Role::UnitHandler, Some(t.lead_unit)).await;
    let (status, bytes) = export(&lead, vec![a_s.clone(), b_s.clone()]).await;
    assert_eq!(status, StatusCode::OK);
    let sheet = strings(bytes);
    assert!(sheet.contains("批量：路灯不亮") && sheet.contains("批量：井盖缺失"));
    let other = signed_in(t, "c-other", Role::UnitHandler, Some(t.other_unit)).await;
    let (status, bytes) = export(&other, vec![a_s.clone(), b_s.clone()]).await;
    assert_eq!(status, StatusCode::OK);
    let sheet = strings(bytes);
    assert!(!sheet.contains("批量"), "{sheet}");
}

async fn an_action_says_what_it_did_once(t: &TestApp) {
    let id = t.ticket_in("dispatched").await;
    let number = t.get(&format!("/api/v1/tickets/{id}"), "lead").await.body["number"]
        .as_str()
        .unwrap()
        .to_string();
    let lead = signed_in(t, "c-lead", Role::UnitHandler, Some(t.lead_unit)).await;
    let r = client()
        .post(format!("{}/tickets/{id}/act/sign", t.base))
        .header(header::COOKIE, format!("mb_session={}", lead.session))
        .form(&[("_csrf", lead.csrf.as_str()), ("_back", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let flash = common::console::set_cookie(&r, "mb_flash").expect("a message to show");
    let value = common::console::cookie_value(&flash);
    assert_eq!(value, format!("sign.{number}.back"));
    let shown = client()
        .get(format!("{}/", t.base))
        .header(
            header::COOKIE,
            format!("mb_session={}; mb_flash={value}", lead.session),
        )
        .send()
        .await
        .unwrap();
    let cleared = common::console::set_cookie(&shown, "mb_flash").unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let html = shown.text().await.unwrap();
    assert!(html.contains(&format!("已签收：工单 {number}。")), "{html}");
    // A forged message names no action: nothing is shown.
    let (_, page, _) =
        common::console::get_page(t, "/", Some(&lead.session), "mb_flash=fly.<b>x</b>.back").await;
    assert!(!page.contains("<b>x</b>") && !page.contains("id=\"flash\""));
}
