//! The console in a real headless Chromium (Debian's `chromium` and `chromium-driver`),
//! driven over WebDriver: one ticket's whole story, each step by its own user in their own
//! browser session, with screenshots of each main page.
//!
//! Without Chromium the test says it skipped; with `MB_REQUIRE_BROWSER=1` (set by `.ci/run`)
//! a missing browser fails it instead.

mod common;

use common::{Db, TestApp};
use fantoccini::{Client, ClientBuilder, Locator};
use mashangban_app::auth::UserInput;
use mashangban_domain::Role;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const PASSWORD: &str = "a-long-password";

/// A running chromedriver, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts chromedriver, or None (with a message) when the browser is not installed.
#[allow(clippy::zombie_processes)] // `Driver`'s drop kills and waits for it.
async fn driver() -> Option<Driver> {
    let present =
        std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists();
    if !present {
        if std::env::var("MB_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!("MB_REQUIRE_BROWSER=1 but {CHROMIUM} or {CHROMEDRIVER} is missing");
        }
        eprintln!(
            "SKIPPED: browser tests need Debian's chromium and chromium-driver ({CHROMIUM}, {CHROMEDRIVER})"
        );
        return None;
    }
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some(Driver { child, url });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start on port {port}");
}

/// One user's own browser (its own profile, so its own cookies).
struct Browser {
    c: Client,
    base: String,
    who: &'static str,
}

fn shots_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Browser {
    async fn open(d: &Driver, base: &str, who: &'static str) -> Browser {
        Browser::open_with(d, base, who, PASSWORD).await
    }

    async fn open_with(d: &Driver, base: &str, who: &'static str, password: &str) -> Browser {
        let b = Browser::launch(d, base, who).await;
        b.go("/login").await;
        b.fill("#username", who).await;
        b.fill("#password", password).await;
        b.submit("form[action='/login'] button[type=submit]").await;
        b.wait_for("nav.main").await;
        b
    }

    /// A browser of its own, signed in to nothing (a citizen's).
    async fn launch(d: &Driver, base: &str, who: &'static str) -> Browser {
        let profile = tempdir(who);
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                    "--window-size=1366,900", "--lang=zh-CN",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }),
        );
        let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&d.url)
            .await
            .expect("a Chromium session");
        Browser {
            c,
            base: base.to_string(),
            who,
        }
    }

    async fn go(&self, path: &str) {
        self.c
            .goto(&format!("{}{}", self.base, path))
            .await
            .unwrap_or_else(|e| panic!("{}: open {path}: {e}", self.who));
    }

    async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.c
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{}: `{css}` never appeared: {e}", self.who))
    }

    async fn fill(&self, css: &str, text: &str) {
        let el = self.wait_for(css).await;
        el.clear().await.unwrap();
        el.send_keys(text).await.unwrap();
    }

    async fn click(&self, css: &str) {
        self.wait_for(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("{}: click `{css}`: {e}", self.who));
    }

    /// Clicks a button that submits a form and waits until the next page has loaded (the
    /// old document carries a mark that the new one does not).
    async fn submit(&self, css: &str) {
        self.c
            .execute("window.__mbOld = true;", vec![])
            .await
            .unwrap();
        self.click(css).await;
        for _ in 0..200 {
            let loaded = self
                .c
                .execute(
                    "return window.__mbOld === undefined && document.readyState === 'complete';",
                    vec![],
                )
                .await
                .ok()
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            if loaded {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{}: no page after submitting `{css}`", self.who);
    }

    async fn select(&self, css: &str, value: &str) {
        self.wait_for(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("{}: select {value} in `{css}`: {e}", self.who));
    }

    async fn text(&self, css: &str) -> String {
        self.wait_for(css).await.text().await.unwrap()
    }

    async fn main_text(&self) -> String {
        self.text("main").await
    }

    async fn shot(&self, name: &str) {
        let png = self.c.screenshot().await.unwrap();
        std::fs::write(shots_dir().join(format!("{name}.png")), png).unwrap();
    }

    /// Opens an action on the ticket page and returns the CSS of its form.
    async fn open_action(&self, id: i64, action: &str) -> String {
        let form = format!("form[action='/tickets/{id}/act/{action}']");
        // The <summary> of the <details> that holds the form.
        self.c
            .execute(
                "document.querySelector(arguments[0]).closest('details').open = true;",
                vec![serde_json::json!(form)],
            )
            .await
            .unwrap_or_else(|e| panic!("{}: no `{action}` on ticket {id}: {e}", self.who));
        form
    }

    async fn act(&self, id: i64, action: &str, fields: &[(&str, &str)]) {
        self.go(&format!("/tickets/{id}")).await;
        let form = self.open_action(id, action).await;
        for (name, value) in fields {
            let css = format!("{form} [name='{name}']");
            let tag = self.wait_for(&css).await.tag_name().await.unwrap();
            if tag == "select" {
                self.select(&css, value).await;
            } else {
                self.fill(&css, value).await;
            }
        }
        self.submit(&format!("{form} button[type=submit]")).await;
    }

    async fn state(&self, id: i64) -> String {
        self.go(&format!("/tickets/{id}")).await;
        self.text("h1 .state").await
    }
}

fn tempdir(who: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "mb-chromium-{}-{who}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    h.finish()
}

/// The browser tests' administrator, `admin-b`.
async fn add_admin(t: &TestApp) {
    t.app
        .add_user(
            &mashangban_app::SERVER,
            UserInput {
                username: "admin-b".into(),
                display_name: Some("管理员 孙磊".into()),
                role: Role::Admin,
                unit_id: None,
                password: Some(PASSWORD.into()),
            },
        )
        .await
        .unwrap();
}

async fn add_users(t: &TestApp) {
    for (name, role, unit) in [
        ("op-b", Role::Operator, None),
        ("disp-b", Role::Dispatcher, None),
        ("unit-b", Role::UnitHandler, Some(t.lead_unit)),
        ("other-b", Role::UnitHandler, Some(t.other_unit)),
        ("cb-b", Role::CallbackAgent, None),
        ("sup-b", Role::Supervisor, None),
    ] {
        t.app
            .add_user(
                &mashangban_app::SERVER,
                UserInput {
                    username: name.into(),
                    display_name: Some(
                        match name {
                            "op-b" => "话务员 王芳",
                            "disp-b" => "派单员 李强",
                            "unit-b" => "东关大街街道 马明",
                            "other-b" => "市教育局 张丽",
                            "sup-b" => "督办员 周华",
                            _ => "回访员 赵敏",
                        }
                        .into(),
                    ),
                    role,
                    unit_id: unit,
                    password: Some(PASSWORD.into()),
                },
            )
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_goes_round_in_the_browser_by_each_user() {
    let Some(d) = driver().await else { return };
    let t = TestApp::start(Db::Sqlite, "browser_story").await.unwrap();
    add_users(&t).await;
    // The same caller rang before: the operator sees it while typing the number.
    let earlier = t.create("楼道灯坏了很久").await;
    let earlier_number = t
        .get(&format!("/api/v1/tickets/{earlier}"), "operator")
        .await
        .body["number"]
        .as_str()
        .unwrap()
        .to_string();

    // 1. The operator takes the call (受理).
    let op = Browser::open(&d, &t.base, "op-b").await;
    op.go("/intake").await;
    // A request without content comes back with the message beside the field and the
    // number still typed.
    op.fill("#phone", "13812345678").await;
    op.submit("form.intake button.primary").await;
    let err = op.text("#content + .error").await;
    assert_eq!(err, "必填，不能为空");
    assert!(!err.is_empty(), "an error beside the content field");
    let kept = op.wait_for("#phone").await.prop("value").await.unwrap();
    assert_eq!(
        kept.as_deref(),
        Some("13812345678"),
        "what was typed is kept"
    );
    // The caller's history appears as the number is typed (a small script).
    op.go("/intake").await;
    op.fill("#phone", "1381234567").await;
    op.wait_for("#phone").await.send_keys("8").await.unwrap();
    op.c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(&format!(
            "//div[@id='history']//a[contains(., '{earlier_number}')]"
        )))
        .await
        .expect("caller history while typing");
    op.fill("#name", "张三").await;
    op.select("#kind", "complaint").await;
    op.fill("#address", "城东区东关大街12号").await;
    // The category picker narrows as you type; the operator picks a leaf.
    op.fill("input[data-filter-for=category_code]", "道路")
        .await;
    op.select("#category_code", "010101").await;
    op.fill(
        "#content",
        "东关大街12号门前人行道地砖破损多处，老人经过容易摔倒，请尽快修复。",
    )
    .await;
    op.shot("01-intake").await;
    op.submit("form.intake button.primary").await;
    let number = op.text("#created-number").await;
    assert!(
        number.starts_with("XN"),
        "the new ticket's number is shown: {number}"
    );
    let id: i64 = op
        .wait_for("#created-number")
        .await
        .find(Locator::XPath(".."))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();

    // 2. The dispatcher finds it on the desk and dispatches it (派单).
    let disp = Browser::open(&d, &t.base, "disp-b").await;
    let desk = disp.main_text().await;
    assert!(
        desk.contains(&number),
        "the new ticket is on the dispatcher desk"
    );
    disp.shot("02-dispatcher-desk").await;
    disp.go(&format!("/tickets/{id}")).await;
    let form = disp.open_action(id, "dispatch").await;
    // The unit picker narrows as you type.
    disp.fill(&format!("{form} input.unit-search"), "东关大街")
        .await;
    let visible: i64 = disp
        .c
        .execute(
            "return Array.from(document.querySelectorAll(arguments[0] + ' select[name=lead_unit_id] option')).filter(o => o.value && !o.hidden).length;",
            vec![serde_json::json!(form)],
        )
        .await
        .unwrap()
        .as_i64()
        .unwrap();
    assert!(
        (1..=3).contains(&visible),
        "search narrows the unit list, {visible} left"
    );
    disp.select(
        &format!("{form} select[name=lead_unit_id]"),
        &t.lead_unit.to_string(),
    )
    .await;
    disp.select(&format!("{form} select[name=tier]"), "3").await;
    disp.fill(&format!("{form} input[name=note]"), "请街道组织修复")
        .await;
    disp.shot("03-dispatch-form").await;
    disp.submit(&format!("{form} button[type=submit]")).await;
    assert_eq!(disp.text("h1 .state").await, "已派单(待签收)");

    // 3. The unit signs and replies (承办).
    let unit = Browser::open(&d, &t.base, "unit-b").await;
    assert!(
        unit.main_text().await.contains(&number),
        "on the unit's queue"
    );
    unit.shot("04-unit-queue").await;
    unit.act(id, "sign", &[]).await;
    unit.act(
        id,
        "record-contact",
        &[("note", "已电话联系市民，约定明日现场查看")],
    )
    .await;
    unit.act(
        id,
        "reply",
        &[("content", "已安排施工队更换破损地砖12块，现已修复。")],
    )
    .await;
    assert_eq!(unit.state(id).await, "已答复(待审核)");
    unit.shot("05-ticket-replied").await;

    // Another unit's handler cannot open it.
    let other = Browser::open(&d, &t.base, "other-b").await;
    other.go(&format!("/tickets/{id}")).await;
    let seen = other.main_text().await;
    assert!(
        seen.contains("工单不存在或无权查看") && !seen.contains("地砖"),
        "{seen}"
    );

    // 4. The dispatcher approves the reply.
    disp.act(id, "approve-reply", &[]).await;
    assert_eq!(disp.state(id).await, "待回访");

    // 5. The callback agent records a dissatisfied callback: the ticket is reopened.
    let cb = Browser::open(&d, &t.base, "cb-b").await;
    let cb_form = format!("form[action='/tickets/{id}/act/record-callback']");
    cb.wait_for(&cb_form).await;
    cb.shot("06-callback-desk").await;
    cb.select(&format!("{cb_form} select[name=contacted]"), "true")
        .await;
    cb.select(&format!("{cb_form} select[name=resolution]"), "partly")
        .await;
    cb.select(
        &format!("{cb_form} select[name=satisfaction]"),
        "dissatisfied",
    )
    .await;
    cb.fill(
        &format!("{cb_form} input[name=note]"),
        "市民反映仍有两处未修",
    )
    .await;
    cb.submit(&format!("{cb_form} button.primary")).await;
    // Said what was done, and gone from the callback desk.
    let said = cb.text("#flash").await;
    assert!(said.contains(&number) && said.contains("回访"), "{said}");
    assert!(
        cb.c.find(Locator::Css(&cb_form)).await.is_err(),
        "gone from the callback desk"
    );
    assert_eq!(
        cb.state(id).await,
        "已派单(待签收)",
        "a bad callback reopens the ticket"
    );

    // 6. Replied again, approved, called back satisfied: closed.
    unit.act(id, "sign", &[]).await;
    unit.act(
        id,
        "reply",
        &[("content", "剩余两处已于今日修复，并经市民现场确认。")],
    )
    .await;
    disp.act(id, "approve-reply", &[]).await;
    cb.go("/callback").await;
    cb.select(&format!("{cb_form} select[name=contacted]"), "true")
        .await;
    cb.select(&format!("{cb_form} select[name=resolution]"), "resolved")
        .await;
    cb.select(&format!("{cb_form} select[name=satisfaction]"), "satisfied")
        .await;
    cb.submit(&format!("{cb_form} button.primary")).await;
    assert_eq!(cb.state(id).await, "已办结");
    let timeline = cb.text("ol.timeline").await;
    for step in [
        "受理",
        "派单",
        "签收",
        "答复",
        "答复审核通过",
        "回访",
        "重办",
        "办结",
    ] {
        assert!(timeline.contains(step), "timeline shows {step}: {timeline}");
    }
    cb.shot("07-ticket-closed").await;

    // The ticket list with its filters, and the export links.
    disp.go(&format!("/tickets?state=closed&unit={}", t.lead_unit))
        .await;
    assert!(disp.main_text().await.contains(&number));
    disp.shot("08-ticket-list").await;

    // A form posted to the console from another site is refused, and changes nothing.
    let evil = evil_site(&t.base, id).await;
    disp.c.goto(&evil).await.unwrap();
    disp.submit("button").await;
    let refused = disp.main_text().await;
    assert!(
        refused.contains("来自其他网站"),
        "cross-site post refused: {refused}"
    );
    let events = t
        .get(&format!("/api/v1/tickets/{id}/events"), "dispatcher")
        .await;
    assert!(
        !events.body.to_string().contains("forged"),
        "the forged note was not written"
    );

    // 督办: a ticket dispatched two weeks ago and never signed is overdue; the watcher raises
    // 催办, the supervisor raises it to 书面督办 from the board in one click, the unit sees the
    // notice and answers, and the supervisor reads the answer.
    let late = t.create("下水道堵塞，污水外溢").await;
    let (dispatcher, _) = t
        .app
        .store()
        .get_credentials("dispatcher")
        .await
        .unwrap()
        .unwrap();
    t.app
        .act_at(
            &mashangban_app::auth::actor_of(&dispatcher),
            late,
            mashangban_domain::Action::Dispatch,
            serde_json::json!({"lead_unit_id": t.lead_unit, "tier": 3}),
            chrono::Utc::now() - chrono::Duration::days(14),
        )
        .await
        .unwrap();
    let w = t
        .app
        .watch_deadlines_at(chrono::Utc::now(), 100)
        .await
        .unwrap();
    assert_eq!(w.supervised, 1, "{w:?}");
    let sup = Browser::open(&d, &t.base, "sup-b").await;
    sup.go("/board").await;
    let board = sup.main_text().await;
    assert!(
        board.contains("东关大街街道办事处") && board.contains("下水道堵塞"),
        "{board}"
    );
    // One click asks first (the question is answered here as a user would), then says
    // what was done.
    sup.c
        .execute(
            "window.confirm = function (q) { localStorage.setItem('asked', q); return true; };",
            vec![],
        )
        .await
        .unwrap();
    sup.submit(&format!(
        "form[action='/tickets/{late}/act/supervise'] button[type=submit]"
    ))
    .await;
    let asked = sup
        .c
        .execute("return localStorage.getItem('asked');", vec![])
        .await
        .unwrap();
    assert!(
        asked
            .as_str()
            .is_some_and(|q| q.starts_with("确定对工单") && q.contains("书面督办")),
        "{asked}"
    );
    assert!(
        sup.c
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/board")
    );
    assert!(sup.main_text().await.contains("书面督办"));
    let said = sup.text("#flash").await;
    assert!(said.starts_with("已督办：工单 "), "{said}");
    // Shown once: the next page does not repeat it.
    sup.go("/board").await;
    assert!(sup.c.find(Locator::Css("#flash")).await.is_err());
    sup.shot("09-supervision-board").await;
    unit.go("/").await;
    assert!(unit.text("header .badge").await.parse::<i64>().unwrap() >= 2);
    assert!(
        unit.text("#supervision-to-answer")
            .await
            .contains("下水道堵塞")
    );
    unit.go("/notices").await;
    assert!(unit.main_text().await.contains("书面督办"));
    unit.act(
        late,
        "answer-supervision",
        &[("answer", "已安排疏通，明日完成")],
    )
    .await;
    assert!(unit.text(".card.supervision").await.contains("已安排疏通"));
    unit.shot("10-supervision-answered").await;
    sup.go(&format!("/tickets/{late}")).await;
    let page = sup.main_text().await;
    assert!(
        page.contains("已安排疏通") && page.contains("书面督办"),
        "{page}"
    );

    for b in [op, disp, unit, other, cb, sup] {
        b.c.close().await.unwrap();
    }
    eprintln!("screenshots in {}", shots_dir().display());
}

/// 分级转办 in the browser: the street office forwards a ticket to its community (the form
/// offers the units below it), the community signs and replies, the street passes the reply
/// up; each page shows the chain with each level's state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chain_in_the_browser() {
    let Some(d) = driver().await else { return };
    let t = TestApp::start(Db::Sqlite, "browser_chain").await.unwrap();
    add_users(&t).await;
    t.app
        .add_user(
            &mashangban_app::SERVER,
            UserInput {
                username: "community-b".into(),
                display_name: Some("北关社区 刘洋".into()),
                role: Role::UnitHandler,
                unit_id: Some(t.below_unit),
                password: Some(PASSWORD.into()),
            },
        )
        .await
        .unwrap();
    let id = t.ticket_in("in_progress").await;
    let street = Browser::open(&d, &t.base, "unit-b").await;
    // 吹哨报到: the street calls the education bureau to the spot; the bureau reports in.
    street
        .act(
            id,
            "summon",
            &[
                ("unit_id", &t.other_unit.to_string()),
                ("reason", "涉及学校周边，请教育局到场"),
            ],
        )
        .await;
    assert!(street.text(".card.summons").await.contains("待报到"));
    let other = Browser::open(&d, &t.base, "other-b").await;
    other.go("/").await;
    assert!(
        other
            .text("#called-to-the-spot")
            .await
            .contains("吹哨待报到")
    );
    other
        .act(
            id,
            "report-in",
            &[("note", "教育局工作人员已到场，协助处理")],
        )
        .await;
    let summons = other.text(".card.summons").await;
    assert!(summons.contains("教育局工作人员已到场"), "{summons}");
    other.shot("11a-summons-reported").await;
    street
        .act(
            id,
            "forward",
            &[
                ("unit_id", &t.below_unit.to_string()),
                ("note", "请社区上门核实"),
            ],
        )
        .await;
    let chain = street.text(".card.chain").await;
    assert!(
        chain.contains("分级转办") && chain.contains("待签收"),
        "{chain}"
    );
    street.shot("11-chain-forwarded").await;
    let community = Browser::open(&d, &t.base, "community-b").await;
    community.act(id, "sign", &[]).await;
    community
        .act(id, "reply", &[("content", "社区已上门核实并督促物业整改")])
        .await;
    assert!(
        community
            .text(".card.chain")
            .await
            .contains("已答复待上级审核")
    );
    // The street's desk has the reply to review in its own queue.
    street.go("/").await;
    let queue = street.text("#replies-from-below-to-review").await;
    assert!(
        queue.contains("下级已答复待审核") && queue.contains("测试工单"),
        "{queue}"
    );
    street.shot("12a-desk-review-queue").await;
    street.go(&format!("/tickets/{id}")).await;
    street.open_action(id, "approve-reply").await;
    street.shot("12-chain-review").await;
    street
        .act(
            id,
            "approve-reply",
            &[("content", "东关大街街道：经社区核实，物业已整改")],
        )
        .await;
    let chain = street.text(".card.chain").await;
    assert!(chain.contains("已完成"), "{chain}");
    assert_eq!(street.text("h1 .state").await, "已答复(待审核)");
    street.shot("13-chain-done").await;
    // At a phone's width the chain stays readable (the table scrolls inside its card).
    street.c.set_window_size(390, 844).await.unwrap();
    street.go(&format!("/tickets/{id}")).await;
    street.shot("13b-chain-phone").await;
    // The figures by territory: each community's work down the levels.
    let disp = Browser::open(&d, &t.base, "disp-b").await;
    disp.go(&format!("/kpis?group_by=territory&parent={}", t.lead_unit))
        .await;
    assert!(
        disp.main_text()
            .await
            .contains("分级办理、吹哨报到与社区自办")
    );
    disp.shot("14-levels-figures").await;
    disp.c.set_window_size(390, 844).await.unwrap();
    disp.go(&format!("/kpis?group_by=territory&parent={}", t.lead_unit))
        .await;
    disp.shot("14b-levels-phone").await;
    for b in [street, community, other, disp] {
        b.c.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grid_worker_in_the_browser() {
    let Some(d) = driver().await else { return };
    let t = TestApp::start(Db::Sqlite, "browser_patrol").await.unwrap();
    t.app
        .add_user(
            &mashangban_app::SERVER,
            UserInput {
                username: "grid-b".into(),
                display_name: Some("网格员 韩雪".into()),
                role: Role::GridWorker,
                unit_id: Some(t.below_unit),
                password: Some(PASSWORD.into()),
            },
        )
        .await
        .unwrap();
    let grid = Browser::open(&d, &t.base, "grid-b").await;
    assert!(grid.text("h1").await.contains("网格员工作台"));
    grid.go("/patrol").await;
    grid.fill("#address", "贾小小区42号楼6单元").await;
    grid.fill(
        "#content",
        "居民反映化粪池满溢，下水从2楼居民家中返水，屋内污秽不堪。",
    )
    .await;
    grid.fill("#name", "2楼住户").await;
    grid.shot("15-patrol-report").await;
    grid.submit("#patrol-form button[type=submit]").await;
    let created = grid.text("#patrol-created").await;
    assert!(created.contains("待热线派单"), "{created}");
    let id: i64 = grid
        .c
        .execute(
            "return Number(document.querySelector('#patrol-created a').getAttribute('href').split('/').pop());",
            vec![],
        )
        .await
        .unwrap()
        .as_i64()
        .unwrap();
    // The desk lists it among the reports the community may still resolve.
    grid.go("/").await;
    let desk = grid.main_text().await;
    assert!(
        desk.contains("网格上报待处置") && desk.contains("化粪池满溢"),
        "{desk}"
    );
    // The residents' meeting (近邻议事会), then 就地办结.
    grid.go(&format!("/tickets/{id}")).await;
    let form = grid.open_action(id, "record-meeting").await;
    grid.c
        .execute(
            "document.querySelector(arguments[0] + ' [name=held_on]').value = '2026-11-20';",
            vec![serde_json::json!(form)],
        )
        .await
        .unwrap();
    for (name, value) in [
        ("participants", "楼院党支部、网格员、居民代表、物业"),
        ("decision", "整体更换地下室水网"),
        ("who_pays", "社区、物业、居民共同承担"),
    ] {
        grid.fill(&format!("{form} [name='{name}']"), value).await;
    }
    grid.submit(&format!("{form} button[type=submit]")).await;
    let card = grid.text("#community").await;
    assert!(
        card.contains("近邻议事会") && card.contains("社区、物业、居民共同承担"),
        "{card}"
    );
    grid.act(
        id,
        "resolve-on-spot",
        &[("action_taken", "地下室水网已整体更换，返水问题解决")],
    )
    .await;
    assert_eq!(grid.text("h1 .state").await, "就地办结");
    let card = grid.text("#community").await;
    assert!(
        card.contains("就地办结") && card.contains("返水问题解决"),
        "{card}"
    );
    grid.shot("16-resolved-on-spot").await;
    grid.c.set_window_size(390, 844).await.unwrap();
    grid.go(&format!("/tickets/{id}")).await;
    grid.shot("16b-resolved-on-spot-phone").await;
    grid.go("/patrol").await;
    let wide = grid
        .c
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth
                 ? [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                     .slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id + ':' + Math.round(e.getBoundingClientRect().right))
                 : false;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        wide,
        serde_json::json!(false),
        "the form fits a phone's width"
    );
    grid.shot("15b-patrol-phone").await;
    grid.c.close().await.unwrap();
}

/// A request placed from its address as it is received; another whose address fits two
/// places shows both, and the dispatcher picks one and corrects the category from the
/// ticket's page; the timeline says what changed, from what, and why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatcher_corrects_place_and_category() {
    let Some(d) = driver().await else { return };
    let t = TestApp::start(Db::Sqlite, "browser_corrections")
        .await
        .unwrap();
    add_users(&t).await;
    let placed = t
        .post(
            "/api/v1/tickets",
            "operator",
            serde_json::json!({"channel": "phone", "kind": "complaint", "content": "下水道返水",
                               "address": "东关大街北关社区4号楼"}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let disp = Browser::open(&d, &t.base, "disp-b").await;
    disp.go(&format!("/tickets/{placed}")).await;
    let place = disp.text("#place").await;
    assert!(
        place.contains("北关社区") && place.contains("按地址自动识别"),
        "{place}"
    );
    let id = t
        .post(
            "/api/v1/tickets",
            "operator",
            serde_json::json!({"channel": "phone", "kind": "complaint", "content": "化粪池满溢，下水返水",
                               "address": "贾小42号楼", "category_code": "010403"}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    disp.go(&format!("/tickets/{id}")).await;
    let place = disp.text("#place").await;
    assert!(
        place.contains("地点待确认") && place.contains("贾小社区") && place.contains("城中区"),
        "{place}"
    );
    disp.shot("17a-place-to-confirm").await;
    // The unit picker finds a unit by its short name and by its pinyin initials.
    let form = disp.open_action(id, "dispatch").await;
    let search = format!("{form} input[data-filter-for='dispatch-lead_unit_id']");
    for typed in ["城管", "cgj", "城市管理"] {
        disp.fill(&search, typed).await;
        let shown = disp
            .c
            .execute(
                "return [...document.querySelectorAll('#dispatch-lead_unit_id option')]
                     .filter(o => o.value && !o.hidden).map(o => o.textContent);",
                vec![],
            )
            .await
            .unwrap();
        let shown: Vec<&str> = shown
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(shown.contains(&"西宁市城市管理局"), "{typed}: {shown:?}");
        assert!(!shown.contains(&"西宁市教育局"), "{typed}: {shown:?}");
    }
    disp.act(
        id,
        "relocate",
        &[
            ("division_code", "630104001003"),
            ("reason", "市民补充：在城西区西关大街贾小社区"),
        ],
    )
    .await;
    disp.act(
        id,
        "recategorise",
        &[("category_code", "010101"), ("reason", "实为道路破损")],
    )
    .await;
    let page = disp.main_text().await;
    assert!(
        page.contains("城西区 / 西关大街街道 / 贾小社区居民委员会 已更正"),
        "{page}"
    );
    assert!(
        page.contains("更正区划：无 → 城西区 / 西关大街街道 / 贾小社区居民委员会：市民补充"),
        "{page}"
    );
    assert!(
        page.contains("更正分类") && page.contains("道路破损"),
        "{page}"
    );
    disp.shot("17-corrected").await;
    // The paper 诉求工单: the ticket alone, no navigation, the correction in its timeline.
    disp.go(&format!("/tickets/{id}/print")).await;
    let paper = disp.text("body").await;
    assert!(
        paper.contains("诉求工单") && paper.contains("更正区划"),
        "{paper}"
    );
    let nav = disp
        .c
        .find_all(Locator::Css("nav.main, form, button"))
        .await
        .unwrap()
        .len();
    assert_eq!(nav, 0, "no navigation, forms or buttons on paper");
    disp.shot("18-print").await;
    disp.c.close().await.unwrap();
}

/// A unit reveals a citizen's number: shown once, audited, and the address bar is the
/// ticket's again, so a reload shows it masked rather than posting again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revealed_contact_is_shown_once_and_not_reposted() {
    let Some(d) = driver().await else { return };
    let t = TestApp::start(Db::Sqlite, "browser_reveal").await.unwrap();
    add_users(&t).await;
    let id = t.ticket_in("in_progress").await;
    let unit = Browser::open(&d, &t.base, "unit-b").await;
    unit.go(&format!("/tickets/{id}")).await;
    assert!(!unit.main_text().await.contains("13812345678"));
    unit.act(id, "reveal-contact", &[]).await;
    assert!(unit.main_text().await.contains("13812345678"));
    let path = unit
        .c
        .execute("return window.location.pathname;", vec![])
        .await
        .unwrap();
    assert_eq!(path, serde_json::json!(format!("/tickets/{id}")));
    unit.c.refresh().await.unwrap();
    let page = unit.main_text().await;
    assert!(
        !page.contains("13812345678") && page.contains("138****5678"),
        "{page}"
    );
    unit.c.close().await.unwrap();
}

/// Serves, from another origin, a page whose form posts a note to the console.
async fn evil_site(console: &str, id: i64) -> String {
    let page = format!(
        "<!doctype html><meta charset=utf-8><form method=post action='{console}/tickets/{id}/act/add-note'>\
         <input name=note value=forged><input name=_csrf value=guess><button>go</button></form>"
    );
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(move || {
            let page = page.clone();
            async move { axum::response::Html(page) }
        }),
    );
    // Another port of the same host: the browser sends the session cookie (same site),
    // so it is the console's own check that must refuse the post.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://127.0.0.1:{port}/")
}

/// The intake proposes while the operator types: one request per pause, the category taken
/// with Alt+1, a knowledge-base answer with one click, the owning unit with its reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intake_suggestions_while_typing() {
    let Some(d) = driver().await else { return };
    let t = TestApp::start(Db::Sqlite, "browser_suggest").await.unwrap();
    add_users(&t).await;
    t.app.ensure_demo_knowledge().await.unwrap();
    t.app.ensure_demo_catalogue().await.unwrap();
    t.app
        .train_classifier(&mashangban_app::SERVER, 1000)
        .await
        .unwrap();
    let op = Browser::open(&d, &t.base, "op-b").await;
    op.go("/intake").await;
    op.fill("#address", "城东区东关大街街道").await;
    op.fill("#content", "家里暖气不热，请问找谁").await;
    let first = op.wait_for("#suggest button[data-key='1']").await;
    let code = first.attr("data-value").await.unwrap().unwrap();
    assert!(
        op.main_text().await.contains("依据派单目录"),
        "the dispatcher sees why the unit"
    );
    // Alt+1 takes the first category into the picker.
    op.c.execute(
        "document.dispatchEvent(new KeyboardEvent('keydown', {key: '1', altKey: true, bubbles: true}));",
        vec![],
    )
    .await
    .unwrap();
    let picked = op
        .wait_for("#category_code")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(picked.as_deref(), Some(code.as_str()));
    // What was proposed goes with the form, beside what is chosen.
    let kept = op
        .wait_for("#suggested_category_code")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some(code.as_str()));
    // One click puts the knowledge base's answer in the direct-answer box.
    op.click("#suggest button[data-accept='answer']").await;
    let answer = op
        .wait_for("#answer")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(
        answer.contains("暖气") || answer.contains("供热"),
        "{answer}"
    );
    op.shot("11-intake-suggestions").await;
}

/// 系统管理 → 诉求分类: an administrator gives a category the words citizens use, the
/// classifier learns them at once on training, and an unclear text is marked uncertain on
/// the intake form rather than guessed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn category_keywords_and_uncertain_proposals() {
    let Some(d) = driver().await else { return };
    let t = TestApp::start(Db::Sqlite, "browser_keywords")
        .await
        .unwrap();
    add_users(&t).await;
    add_admin(&t).await;
    let admin = Browser::open(&d, &t.base, "admin-b").await;
    admin.go("/admin/categories?code=010104").await;
    let kw = admin
        .wait_for("#keywords")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(kw.contains("化粪池"), "the shipped keywords: {kw}");
    // A local word for a blocked drain: 冒粪水.
    admin.fill("#keywords", &format!("{kw}、冒粪水")).await;
    admin
        .fill("#description", "小区内外排水管道、污水井、化粪池堵塞和返水")
        .await;
    admin
        .submit("form[action='/admin/categories'] button.primary")
        .await;
    assert!(admin.main_text().await.contains("已保存分类 010104"));
    admin.go("/admin/categories?code=010104").await;
    admin.shot("36-admin-category-keywords").await;
    let saved = t.get("/api/v1/categories", "admin").await.body;
    let drain = saved["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "010104")
        .unwrap()
        .clone();
    assert!(
        drain["keywords"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k == "冒粪水"),
        "{drain}"
    );
    assert_eq!(
        drain["description"],
        "小区内外排水管道、污水井、化粪池堵塞和返水"
    );
    t.app
        .train_classifier(&mashangban_app::SERVER, 1000)
        .await
        .unwrap();
    let op = Browser::open(&d, &t.base, "op-b").await;
    op.go("/intake").await;
    // 智能填单: a pasted transcript fills the empty fields.
    op.click("details.extract summary").await;
    op.fill(
        "#transcript",
        "喂，我叫王芳，电话幺三九 一二三四 五六七八，城东区东关大街街道的路灯从昨天晚上开始不亮了",
    )
    .await;
    op.submit("#extract-button").await;
    let phone = op
        .wait_for("#phone")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert_eq!(phone, "13912345678");
    assert!(op.main_text().await.contains("已从文本识别并填入空白项"));
    // The filled form proposes at once: the street lights' category.
    op.wait_for("#suggest button[data-value='010103']").await;
    op.shot("38-intake-extracted").await;
    op.go("/intake").await;
    // A caller who has not said yet what it is about.
    op.fill("#content", "你好，我想反映一个情况").await;
    op.wait_for("#suggest .suggest-block.uncertain").await;
    assert!(op.main_text().await.contains("分类不确定，请人工判断"));
    op.shot("37-intake-uncertain").await;
}

/// 答复质检: the dispatcher about to approve a unit's reply sees what it lacks beside the
/// button, approves it all the same, and the timeline keeps what was found.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_inspection_beside_the_approve_button() {
    let Some(d) = driver().await else { return };
    let t = TestApp::start(Db::Sqlite, "browser_reply_check")
        .await
        .unwrap();
    add_users(&t).await;
    let id = t
        .create("1、请问我们小区的公租房申请需要哪些材料？2、申请以后多久能分到房子？")
        .await;
    t.bring_to(id, "in_progress").await;
    t.act(
        id,
        "reply",
        "lead",
        serde_json::json!({"content": "您好！申请公租房需要提供户口本、身份证、收入证明和无房证明，到街道民政窗口提交。我们将尽快研究，争取早日解决。"}),
    )
    .await;
    let disp = Browser::open(&d, &t.base, "disp-b").await;
    disp.go(&format!("/tickets/{id}#reply-check")).await;
    let check = disp.wait_for("#reply-check").await.text().await.unwrap();
    assert!(check.contains("诉求要点未回应"), "{check}");
    assert!(check.contains("申请以后多久能分到房子"), "{check}");
    assert!(check.contains("空泛承诺"), "{check}");
    assert!(check.contains("不影响审核通过"), "{check}");
    disp.shot("39-reply-inspection").await;
    inner_size(&disp, 360, 740).await;
    disp.go(&format!("/tickets/{id}#reply-check")).await;
    disp.wait_for("#reply-check").await;
    disp.shot("40-reply-inspection-phone").await;
    inner_size(&disp, 1280, 900).await;
    disp.go(&format!("/tickets/{id}")).await;
    disp.submit("form[action$='/act/approve-reply'] button.primary")
        .await;
    assert_eq!(t.state(id).await, "awaiting_callback");
    disp.go(&format!("/tickets/{id}")).await;
    let page = disp.main_text().await;
    assert!(
        page.contains("答复质检提示：诉求要点未回应、空泛承诺"),
        "{page}"
    );
}

/// Sizes the browser so that the page itself (not the window) is `w`×`h`.
async fn inner_size(b: &Browser, w: u32, h: u32) {
    b.c.set_window_size(w, h).await.unwrap();
    let inner =
        b.c.execute("return [window.innerWidth, window.innerHeight];", vec![])
            .await
            .unwrap();
    let (iw, ih) = (
        inner[0].as_u64().unwrap() as u32,
        inner[1].as_u64().unwrap() as u32,
    );
    b.c.set_window_size(w + (w - iw), h + (h - ih))
        .await
        .unwrap();
}

/// Whether each element is wholly inside the viewport (no scrolling needed to see it).
async fn in_view(b: &Browser, css: &[&str]) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for c in css {
        let v =
            b.c.execute(
                "const e = document.querySelector(arguments[0]); if (!e) return null;
                 const r = e.getBoundingClientRect();
                 return r.width > 0 && r.top >= 0 && r.left >= 0
                     && r.bottom <= window.innerHeight && r.right <= window.innerWidth
                     && window.scrollY === 0;",
                vec![serde_json::json!(c)],
            )
            .await
            .unwrap();
        out.push((c.to_string(), v.as_bool() == Some(true)));
    }
    out
}

/// The desk that thinks ahead, as its users meet it in Chromium: at 1366×768 the operator
/// sees the emergency banner across the top and the suggestions beside the form without
/// scrolling; a call whose address names a community is placed there as it is saved; the
/// dispatcher finds the catalogue's owner preselected and the usual action open, corrects
/// the place and the category, and the district figures count the ticket where it now
/// belongs; "save and next" says what was done and opens the next one; tickets ticked on
/// the desk are dispatched together, and the unit signs its queue in one go.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desk_that_thinks_ahead() {
    let Some(d) = driver().await else { return };
    let t = TestApp::start(Db::Sqlite, "browser_desk").await.unwrap();
    add_users(&t).await;
    t.app.ensure_demo_catalogue().await.unwrap();
    let op = Browser::open(&d, &t.base, "op-b").await;
    inner_size(&op, 1366, 768).await;
    op.go("/intake").await;
    op.fill("#phone", "13907001234").await;
    op.fill("#address", "东关大街北关社区4号楼").await;
    op.fill("#content", "楼道里闻到煤气味，很浓").await;
    let alarm = op.text("#emergency .emergency").await;
    assert!(
        alarm.contains("119") || alarm.contains("消防") || alarm.contains("燃气"),
        "{alarm}"
    );
    op.wait_for("#suggest .suggest-block").await;
    let seen = in_view(
        &op,
        &[
            "#emergency .emergency",
            ".intake-side",
            "#suggest .suggest-block",
            "#intake-form button.primary",
        ],
    )
    .await;
    assert!(seen.iter().all(|(_, v)| *v), "{seen:?}");
    // The page itself does not scroll: the side column scrolls by itself if it must.
    let still =
        op.c.execute(
            "return document.scrollingElement.scrollHeight <= window.innerHeight;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(still.as_bool(), Some(true));
    // Beside the form, not under it.
    let beside =
        op.c.execute(
            "return document.querySelector('#suggest').getBoundingClientRect().left >
                    document.querySelector('#content').getBoundingClientRect().right;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(beside.as_bool(), Some(true));
    op.shot("19-intake-emergency-1366x768").await;
    // Not an emergency after all: the banner goes, the place stays suggested.
    op.fill("#content", "楼下下水道返水，污水冒到院子里").await;
    op.c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath("//div[@id='emergency' and not(*)]"))
        .await
        .unwrap();
    let place = op.text("#suggest").await;
    assert!(place.contains("北关社区"), "{place}");
    op.select("#category_code", "010403").await;
    op.submit("#intake-form button.primary").await;
    let number = op.text("#created-number").await;
    let tracking = op.text("#created-code").await;
    let href =
        op.c.execute(
            "return document.querySelector('#created-number').closest('a').getAttribute('href');",
            vec![],
        )
        .await
        .unwrap();
    let id: i64 = href
        .as_str()
        .and_then(|h| h.strip_prefix("/tickets/"))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{href}"));
    let saved = t
        .get(&format!("/api/v1/tickets/{id}"), "dispatcher")
        .await
        .body;
    assert_eq!(saved["division_code"], "630102001001", "{saved}");
    assert_eq!(saved["place"]["how"], "address");

    // The dispatcher: the usual action stands open, with the catalogue's owner chosen.
    let owner = t
        .get(
            "/api/v1/catalogue/owner?category_code=010403&division_code=630102001001",
            "dispatcher",
        )
        .await
        .body;
    let owner_id = owner["entry"]["unit_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("{owner}"));
    let disp = Browser::open(&d, &t.base, "disp-b").await;
    disp.go(&format!("/tickets/{id}")).await;
    let open = disp
        .c
        .execute(
            "return document.querySelector(arguments[0]).closest('details').open;",
            vec![serde_json::json!(format!(
                "form[action='/tickets/{id}/act/dispatch']"
            ))],
        )
        .await
        .unwrap();
    assert_eq!(
        open.as_bool(),
        Some(true),
        "dispatch is the usual action, open"
    );
    let chosen = disp
        .wait_for("#dispatch-lead_unit_id")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(chosen, Some(owner_id.to_string()));
    assert!(disp.text(".owner-hint").await.contains("按派单目录"));
    // The caller meant the other 北关: place and category corrected.
    disp.act(
        id,
        "relocate",
        &[
            ("division_code", "630104001"),
            ("reason", "市民补充：在城西区西关大街"),
        ],
    )
    .await;
    assert!(disp.text("#flash").await.starts_with("已更正区划：工单 "));
    disp.act(
        id,
        "recategorise",
        &[("category_code", "010101"), ("reason", "实为道路破损")],
    )
    .await;
    // The district figures of today: the request counts under 城西区, not 城东区.
    disp.go("/kpis?group_by=district").await;
    let cell = |code: &'static str| {
        let disp = &disp;
        async move {
            disp.c
                .execute(
                    "const a = [...document.querySelectorAll('table.kpis a')].filter(a => a.getAttribute('href').endsWith('division=' + arguments[0]));
                     return a.length > 1 ? a[1].textContent.trim() : '0';",
                    vec![serde_json::json!(code)],
                )
                .await
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    assert_eq!(cell("630104").await, "1");
    assert_eq!(cell("630102").await, "0");
    disp.shot("19-district-after-correction").await;

    // "Save and next": dispatched, said so, and the next received ticket is open.
    let next = t.create("另一件：路灯不亮").await;
    disp.go(&format!("/tickets/{id}")).await;
    let form = format!("form[action='/tickets/{id}/act/dispatch']");
    disp.select(
        &format!("{form} [name='lead_unit_id']"),
        &t.lead_unit.to_string(),
    )
    .await;
    disp.submit(&format!("{form} button[name='_then']")).await;
    assert!(
        disp.c
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with(&format!("/tickets/{next}")),
        "{}",
        disp.c.current_url().await.unwrap()
    );
    let said = disp.text("#flash").await;
    assert!(
        said.starts_with(&format!("已派单：工单 {number}")) && said.contains("下一件"),
        "{said}"
    );

    // Bulk: three ticked on the desk, dispatched to one unit in one request.
    let mut ticked = vec![next];
    for i in 0..2 {
        ticked.push(t.create(&format!("批量：井盖缺失{i}")).await);
    }
    disp.go("/").await;
    for id in &ticked {
        disp.click(&format!("input[name='ticket'][value='{id}']"))
            .await;
    }
    assert_eq!(disp.text("#bulk-count").await, "已选 3 件");
    disp.select("#bulk-action", "dispatch").await;
    disp.select("#bulk-unit", &t.lead_unit.to_string()).await;
    disp.shot("19-desk-ticked").await;
    disp.c
        .execute("window.confirm = function () { return true; };", vec![])
        .await
        .unwrap();
    disp.submit("form.bulk button.primary").await;
    assert_eq!(disp.text("#bulk-done").await, "3");
    disp.shot("19-bulk-dispatched").await;
    // The unit signs its whole queue: tick all, sign.
    let unit = Browser::open(&d, &t.base, "unit-b").await;
    unit.go("/").await;
    unit.click("table input[data-tick-all]").await;
    unit.select("#bulk-action", "sign").await;
    unit.c
        .execute("window.confirm = function () { return true; };", vec![])
        .await
        .unwrap();
    unit.submit("form.bulk button.primary").await;
    let done: usize = unit.text("#bulk-done").await.parse().unwrap();
    assert!(done >= 4, "the three and the first: {done}");
    for id in ticked.iter().chain([id].iter()) {
        assert_eq!(t.state(*id).await, "in_progress");
    }
    unit.shot("19-bulk-signed").await;

    // The caller follows it on the public portal, on a phone: no login, plain words.
    inner_size(&op, 360, 740).await;
    op.go("/public").await;
    assert!(op.main_text().await.contains("119"));
    op.shot("20-public-home-360").await;
    op.go("/public/track").await;
    op.fill("#number", &number).await;
    op.fill("#code", &tracking.to_lowercase()).await;
    op.submit("form.track button").await;
    assert_eq!(op.text("#state").await, "办理中");
    assert_eq!(op.text("#unit").await, "东关大街街道办事处");
    let fits =
        op.c.execute(
            "return document.scrollingElement.scrollWidth <= window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        fits.as_bool(),
        Some(true),
        "no sideways scrolling at 360 px"
    );
    op.shot("20-public-track-360").await;
    // And submits another one there, without an account.
    op.go("/public/submit").await;
    op.fill("#content", "小区门口的路灯不亮一周了，晚上很黑")
        .await;
    op.fill("#address", "东关大街北关社区").await;
    op.fill("#phone", "13909710000").await;
    // The place the words name is proposed as the citizen types.
    assert!(op.text("#proposed-place").await.contains("北关社区"));
    op.shot("20-public-submit-360").await;
    op.submit("form.track button").await;
    let receipt = op.text("#receipt-number").await;
    assert!(receipt.starts_with("XN"), "{receipt}");
    assert!(!op.text("#receipt-code").await.is_empty());
    op.shot("20-public-receipt-360").await;
    for b in [op, disp, unit] {
        b.c.close().await.unwrap();
    }
}

/// The leader dashboard and the wall screen draw their charts on the server (SVG, no
/// script) and refresh by themselves; a warning found by the monitor is handled from the
/// warnings page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboards_and_warnings_in_the_browser() {
    let Some(d) = driver().await else { return };
    let t = TestApp::start(Db::Sqlite, "browser_dashboard")
        .await
        .unwrap();
    add_users(&t).await;
    t.app
        .generate_demo_tickets(300, 30, chrono::Utc::now(), 11)
        .await
        .unwrap();
    // Six neighbours report the same broken manhole cover today: a cluster.
    let (op, _) = t
        .app
        .store()
        .get_credentials("operator")
        .await
        .unwrap()
        .unwrap();
    let op = mashangban_domain::Actor {
        user_id: op.id,
        role: op.role,
        unit_id: op.unit_id,
    };
    for i in 0..6 {
        t.app
            .create_ticket_at(
                &op,
                serde_json::json!({"channel": "phone", "kind": "complaint",
                    "content": "小区门口井盖破损，行人容易摔倒",
                    "citizen": {"phone": format!("1388800{i:04}")},
                    "category_code": "010104", "division_code": "630102001005"}),
                None,
                chrono::Utc::now() - chrono::Duration::minutes(10 - i),
            )
            .await
            .unwrap();
    }
    // Two years of past requests before the demo's month (heating in winter, fumes in
    // summer, parking all year), for the seasonal outlook.
    let today = mashangban_domain::aggregates::business_day(chrono::Utc::now());
    let mut csv = String::from("number,received_at,channel,content,category_code,division_code\n");
    let mut n = 0;
    for back in 2..=26 {
        use chrono::Datelike;
        let index = today.year() * 12 + today.month0() as i32 - back;
        let (year, month) = (index / 12, index % 12 + 1);
        let winter = matches!(month, 11 | 12 | 1 | 2 | 3);
        for (category, count) in [
            ("010202", if winter { 9 } else { 1 }),
            ("030101", if winter { 1 } else { 6 }),
            ("020101", 4),
        ] {
            for i in 0..count {
                n += 1;
                csv.push_str(&format!(
                    "H{n:05},{year}-{month:02}-{:02} 10:00,phone,历史诉求,{category},630102001001\n",
                    i + 1
                ));
            }
        }
    }
    let r = t
        .client
        .post(format!("{}/api/v1/import/tickets", t.base))
        .bearer_auth(&t.tokens["admin"])
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    let sup = Browser::open(&d, &t.base, "sup-b").await;
    sup.go("/dashboard").await;
    sup.wait_for("figure.chart svg").await;
    let charts = sup
        .c
        .find_all(Locator::Css("figure.chart svg"))
        .await
        .unwrap()
        .len();
    assert!(
        charts >= 4,
        "volume, forecast, categories, districts: {charts}"
    );
    // The ranking's zone tags wear their zone's colour: blue and red, not both orange.
    let colours = sup
        .c
        .execute(
            "const bg = z => [...document.querySelectorAll('tr.zone.' + z + ' .tag')]
                 .map(e => getComputedStyle(e).backgroundColor);
             return { blue: bg('blue'), red: bg('red') };",
            vec![],
        )
        .await
        .unwrap();
    let of = |z: &str| -> Vec<String> {
        colours[z]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect()
    };
    // Which zones the month's ranking has depends on the day the data were made; each
    // present wears its colour, and there is a ranking to see.
    assert!(!of("blue").is_empty(), "{colours}");
    assert!(
        of("blue").iter().all(|c| c == "rgb(225, 236, 251)"),
        "{colours}"
    );
    assert!(
        of("red").iter().all(|c| c == "rgb(253, 226, 226)"),
        "{colours}"
    );
    let refresh = sup
        .c
        .execute(
            "return document.querySelector('meta[http-equiv=refresh]').content;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(refresh, "300");
    let text = sup.main_text().await;
    for words in [
        "近30日诉求量",
        "未来14日诉求量预测",
        "本月诉求类别构成",
        "本月区县分布",
        "承办单位考评排名",
        "热点问题",
    ] {
        assert!(text.contains(words), "{words}: {text}");
    }
    // The columns are drawn with their numbers in their titles.
    let bars = sup
        .c
        .find_all(Locator::Css("figure.chart svg rect"))
        .await
        .unwrap()
        .len();
    assert!(bars > 30, "{bars}");
    sup.shot("20-dashboard").await;
    let outlook = sup.text("section.outlook").await;
    assert!(
        outlook.contains("民情月历") && outlook.contains("回测"),
        "{outlook}"
    );
    sup.c
        .execute(
            "document.querySelector('section.outlook').scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
    sup.shot("21-dashboard-outlook").await;

    // The monitor, run from the warnings page, finds the cluster; the supervisor handles it.
    sup.go("/warnings").await;
    sup.submit("form[action='/warnings/scan'] button[type=submit]")
        .await;
    assert!(sup.main_text().await.contains("扫描完成"));
    let item = sup.wait_for("ol.warnings li.orange").await;
    let item_text = item.text().await.unwrap();
    assert!(item_text.contains("同址聚集"), "{item_text}");
    assert!(item_text.contains("五一社区"), "{item_text}");
    let id = item.attr("id").await.unwrap().unwrap();
    let form = format!("#{id} form");
    sup.fill(&format!("{form} input[name=note]"), "已通知市政部门修复")
        .await;
    sup.submit(&format!("{form} button[value=acknowledged]"))
        .await;
    let text = sup.text(&format!("#{id}")).await;
    assert!(text.contains("已处置"), "{text}");
    assert!(text.contains("已通知市政部门修复"), "{text}");
    sup.shot("21-warnings").await;
    // The notice reached the supervisor's notices; opening it reads it and leads to the
    // warnings.
    sup.go("/notices").await;
    let link = sup.wait_for("ol.notices li.new a").await;
    assert!(link.text().await.unwrap().contains("橙色预警"));
    link.click().await.unwrap();
    sup.wait_for("ol.warnings").await;
    let path = sup
        .c
        .execute("return window.location.pathname;", vec![])
        .await
        .unwrap();
    assert_eq!(path, serde_json::json!("/warnings"));

    // The wall screen: no navigation, dark, refreshing every minute, the same charts.
    sup.go("/wall").await;
    sup.wait_for("body.wall figure.chart svg").await;
    assert!(sup.c.find(Locator::Css("nav.main")).await.is_err());
    let refresh = sup
        .c
        .execute(
            "return document.querySelector('meta[http-equiv=refresh]').content;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(refresh, "60");
    // On the wall's own screen (a 1920×1080 viewport: the window is made that much larger
    // than the browser's own bars) everything shows at once: nothing to scroll.
    sup.c.set_window_size(1920, 1080).await.unwrap();
    let inner = sup
        .c
        .execute("return window.innerHeight;", vec![])
        .await
        .unwrap()
        .as_u64()
        .unwrap() as u32;
    sup.c
        .set_window_size(1920, 1080 + (1080 - inner))
        .await
        .unwrap();
    sup.go("/wall").await;
    sup.wait_for("body.wall figure.chart svg").await;
    let fits = sup
        .c
        .execute(
            "return [document.documentElement.scrollHeight, window.innerHeight,
                     document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await
        .unwrap();
    let n = |i: usize| fits[i].as_i64().unwrap();
    assert!(n(0) <= n(1) && n(2) <= n(3), "the wall scrolls: {fits}");
    sup.shot("22-wall-screen").await;
    // The dashboard's 民情月历 at a phone's width: its table scrolls inside the panel.
    sup.c.set_window_size(390, 844).await.unwrap();
    sup.go("/dashboard").await;
    sup.wait_for("section.outlook").await;
    let wide = sup
        .c
        .execute(
            "document.querySelector('section.outlook').scrollIntoView();
             return document.documentElement.scrollWidth - window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    let culprits = sup
        .c
        .execute(
            "return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-scroll') && !e.closest('nav'))
                 .slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id + ':' + Math.round(e.getBoundingClientRect().right));",
            vec![],
        )
        .await
        .unwrap();
    sup.shot("21b-dashboard-outlook-phone").await;
    assert!(
        wide.as_i64().unwrap_or(0) <= 0,
        "{wide} px too wide: {culprits}"
    );
    sup.c.close().await.unwrap();
}

/// The README's pictures, over the demo data: `cargo test -p mashangban-web --test browser
/// -- --ignored` writes `docs/screenshots/*.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes the README's screenshots; run by hand"]
async fn readme_screenshots() {
    let Some(d) = driver().await else { return };
    let t = TestApp::start(Db::Sqlite, "readme_screenshots")
        .await
        .unwrap();
    t.app.ensure_demo_users().await.unwrap();
    // The harness made `operator` and `dispatcher` without passwords; give them the demo's.
    for name in ["operator", "dispatcher"] {
        let (u, _) = t.app.store().get_credentials(name).await.unwrap().unwrap();
        t.app
            .change_user(
                &mashangban_app::SERVER,
                u.id,
                mashangban_app::admin::UserChange {
                    password: Some(mashangban_app::demo::DEMO_PASSWORD.into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    t.app
        .generate_demo_tickets(400, 30, chrono::Utc::now(), 7)
        .await
        .unwrap();
    // What the intake proposes: the catalogue, the knowledge base and a trained classifier.
    t.app.ensure_demo_knowledge().await.unwrap();
    t.app.ensure_demo_catalogue().await.unwrap();
    t.app
        .train_classifier(&mashangban_app::SERVER, 1000)
        .await
        .unwrap();
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
    std::fs::create_dir_all(&out).unwrap();
    let password = mashangban_app::demo::DEMO_PASSWORD;
    let caller =
        t.get("/api/v1/tickets?limit=1", "operator").await.body["items"][0]["citizen"]["phone"]
            .as_str()
            .unwrap_or("13897001234")
            .to_string();

    let op = Browser::open_with(&d, &t.base, "operator", password).await;
    // The operator's screen: 1366×768, with an emergency in the words.
    inner_size(&op, 1366, 768).await;
    op.go("/intake").await;
    op.fill("#phone", &caller).await;
    op.c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#history li"))
        .await
        .unwrap();
    op.fill("#name", "马先生").await;
    op.fill("#address", "城东区东关大街78号").await;
    op.fill("input[data-filter-for=category_code]", "供暖")
        .await;
    op.select("#category_code", "010202").await;
    op.fill(
        "#content",
        "东关大街78号院3号楼从本周一开始暖气一直不热，家里有老人，楼道里还闻到煤气味，请尽快上门检查。",
    )
    .await;
    op.wait_for("#emergency .emergency").await;
    op.wait_for("#suggest .suggest-block").await;
    std::fs::write(out.join("intake.png"), op.c.screenshot().await.unwrap()).unwrap();

    let disp = Browser::open_with(&d, &t.base, "dispatcher", password).await;
    inner_size(&disp, 1366, 768).await;
    disp.go("/").await;
    std::fs::write(
        out.join("dispatcher-desk.png"),
        disp.c.screenshot().await.unwrap(),
    )
    .unwrap();
    op.c.close().await.unwrap();
    disp.c.close().await.unwrap();
    eprintln!("README screenshots in {}", out.display());
}

/// The citizen's loop in Chromium: a citizen submits on a phone-sized window without an
/// account, the receipt (number and tracking code) is in the SMS log, the units answer, the
/// citizen reads the answer on the portal and rates it 3 by answering the SMS, the
/// dispatcher finds it under 差评待审 and judges it reasonable (重办), and the figures count
/// it as a citizen's rating.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_citizens_loop_in_the_browser() {
    let Some(d) = driver().await else { return };
    let t = TestApp::start(Db::Sqlite, "browser_citizen").await.unwrap();
    add_users(&t).await;
    t.app
        .add_user(
            &mashangban_app::SERVER,
            UserInput {
                username: "admin-b".into(),
                display_name: Some("系统管理员".into()),
                role: Role::Admin,
                unit_id: None,
                password: Some(PASSWORD.into()),
            },
        )
        .await
        .unwrap();
    t.app
        .add_user(
            &mashangban_app::SERVER,
            UserInput {
                username: "lead-b".into(),
                display_name: Some("分管领导 刘洋".into()),
                role: Role::Analyst,
                unit_id: None,
                password: Some(PASSWORD.into()),
            },
        )
        .await
        .unwrap();

    // 1. The citizen, on a phone, submits a request.
    let citizen = Browser::launch(&d, &t.base, "citizen").await;
    inner_size(&citizen, 360, 740).await;
    citizen.go("/public/submit").await;
    citizen
        .fill("#content", "小区门口的路灯坏了一个多星期，晚上很黑")
        .await;
    citizen.fill("#address", "东关大街北关社区").await;
    citizen.fill("#phone", "13907005678").await;
    // A photo of the place, from the phone's gallery.
    let photo = std::env::temp_dir().join(format!("mb-photo-{}.jpg", std::process::id()));
    let picture = image::RgbImage::from_fn(640, 480, |x, y| {
        image::Rgb([(x / 3) as u8, (y / 2) as u8, 120])
    });
    picture.save(&photo).unwrap();
    citizen
        .wait_for("#photos")
        .await
        .send_keys(photo.to_str().unwrap())
        .await
        .unwrap();
    citizen.shot("21-citizen-submit-360").await;
    citizen.submit("form.track button[type=submit]").await;
    let receipt = citizen.main_text().await;
    let number = t.get("/api/v1/tickets?limit=1", "operator").await.body["items"][0]["number"]
        .as_str()
        .unwrap()
        .to_string();
    let id = t.get("/api/v1/tickets?limit=1", "operator").await.body["items"][0]["id"]
        .as_i64()
        .unwrap();
    let code = t
        .get(&format!("/api/v1/tickets/{id}"), "operator")
        .await
        .body["tracking_code"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        receipt.contains(&number) && receipt.contains(&code),
        "{receipt}"
    );
    citizen.shot("21-citizen-receipt-360").await;

    // The photo went with it: on the citizen's page, and on the hotline's.
    citizen
        .go(&format!("/public/track?number={number}&code={code}"))
        .await;
    citizen.wait_for("ul.files img").await;
    // The thumbnail is fetched after the page: given up to five seconds to arrive.
    let mut loaded = None;
    for _ in 0..50 {
        loaded = citizen
            .c
            .execute(
                "const i = document.querySelector('ul.files img'); return i.complete && i.naturalWidth > 0;",
                vec![],
            )
            .await
            .unwrap()
            .as_bool();
        if loaded == Some(true) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(loaded, Some(true), "the thumbnail shows");
    citizen.shot("21-citizen-track-with-photo-360").await;

    // The citizen's own requests, by the phone number and a code texted to it.
    citizen.go("/public/mine").await;
    citizen.fill("#phone", "13907005678").await;
    citizen.submit("form.track button[type=submit]").await;
    let texts = t.get("/api/v1/outbox?channel=sms", "admin").await.body;
    let code_text = texts
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["payload"].as_str().unwrap().to_string())
        .find(|p| p.contains("验证码为"))
        .expect("a code texted");
    let at = code_text.find("验证码为").unwrap() + "验证码为".len();
    citizen.fill("#code", &code_text[at..at + 6]).await;
    citizen.submit("form.track button[type=submit]").await;
    let mine = citizen.main_text().await;
    assert!(mine.contains(&number) && mine.contains("已受理"), "{mine}");
    citizen.shot("21-citizen-my-requests-360").await;

    // 2. The receipt is in the SMS log, with the number and the tracking code.
    let admin = Browser::open(&d, &t.base, "admin-b").await;
    admin.go("/admin/sms").await;
    let log = admin.text("#sms-log").await;
    assert!(
        log.contains("13907005678") && log.contains(&format!("编号{number}，查询码{code}")),
        "{log}"
    );
    admin.shot("21-admin-sms-log").await;

    // The hotline sees the photo on the ticket's page.
    let disp_early = Browser::open(&d, &t.base, "disp-b").await;
    disp_early.go(&format!("/tickets/{id}")).await;
    disp_early.wait_for("#files img").await;
    disp_early.shot("21-ticket-with-photo").await;

    // 3. The hotline dispatches, the unit answers, the hotline approves.
    t.act(
        id,
        "dispatch",
        "dispatcher",
        serde_json::json!({"lead_unit_id": t.lead_unit, "tier": 3}),
    )
    .await;
    citizen
        .go(&format!("/public/track?number={number}&code={code}"))
        .await;
    assert_eq!(citizen.text("#state").await, "已转交办理单位");
    t.act(id, "sign", "lead", serde_json::json!({})).await;
    t.act(
        id,
        "reply",
        "lead",
        serde_json::json!({"content": "已更换路灯灯具，恢复照明。"}),
    )
    .await;
    t.act(id, "approve-reply", "dispatcher", serde_json::json!({}))
        .await;
    let log = t
        .get("/api/v1/outbox?channel=sms", "admin")
        .await
        .body
        .to_string();
    assert!(log.contains("回复数字：1满意，2基本满意，3不满意"), "{log}");
    // The citizen reads the answer and may rate it on the page.
    citizen
        .go(&format!("/public/track?number={number}&code={code}"))
        .await;
    assert_eq!(citizen.text("#state").await, "已答复");
    assert!(citizen.text("#answer").await.contains("已更换路灯灯具"));
    citizen.wait_for("form.rating").await;
    citizen.shot("21-citizen-answer-360").await;
    citizen
        .c
        .execute(
            "document.querySelector('form.rating').scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
    citizen.shot("21-citizen-rating-form-360").await;

    // 4. The citizen answers the SMS with "3" (the SMS platform forwards it, signed).
    let body = serde_json::json!({"message_id": "browser-1", "from": "13907005678", "text": "3"})
        .to_string();
    let ts = chrono::Utc::now().timestamp();
    let sig = format!(
        "sha256={}",
        mashangban_app::notify::signature(common::SMS_SECRET, ts, &body)
    );
    let r = t
        .raw(
            reqwest::Method::POST,
            "/api/v1/channels/sms/inbound",
            None,
            Some(body),
            &[
                ("x-mashangban-timestamp", ts.to_string().as_str()),
                ("x-mashangban-signature", sig.as_str()),
            ],
        )
        .await;
    assert_eq!(r.body["outcome"], "rated", "{}", r.body);
    citizen
        .go(&format!("/public/track?number={number}&code={code}"))
        .await;
    assert_eq!(citizen.text("#state").await, "评价核实中");
    citizen.shot("21-citizen-rating-under-review-360").await;

    // 5. The dispatcher finds it under 差评待审 and judges it reasonable: redone.
    let disp = Browser::open(&d, &t.base, "disp-b").await;
    disp.go("/").await;
    let desk = disp.main_text().await;
    assert!(
        desk.contains("差评待审") && desk.contains(&number),
        "{desk}"
    );
    disp.shot("21-dispatcher-bad-ratings").await;
    disp.act(
        id,
        "review-rating",
        &[
            ("reasonable", "true"),
            ("reason", "路灯仍不亮，市民反映属实"),
        ],
    )
    .await;
    assert_eq!(disp.state(id).await, "已派单(待签收)");

    // 6. The figures count it as a citizen's rating.
    let lead = Browser::open(&d, &t.base, "lead-b").await;
    lead.go("/kpis?source=citizen").await;
    let row = lead.text("table.kpis tbody tr").await;
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert!(cells.contains(&"1"), "{row}");
    assert!(
        row.contains("0.00%") || row.contains("0.0%") || row.contains("0%"),
        "{row}"
    );
    lead.shot("21-kpis-citizen-ratings").await;
    let figures = t.get("/api/v1/kpis?source=citizen", "analyst").await.body;
    assert_eq!(figures["rows"][0]["callbacks"], 1, "{figures}");
    assert_eq!(figures["rows"][0]["citizen_ratings"], 1, "{figures}");
}

/// 系统管理 → 渠道 in the browser: an administrator adds a channel, closes another and sets
/// a merged hotline's category; the operator's intake form then offers the open channels
/// and the lines only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_are_kept_in_the_browser() {
    let Some(d) = driver().await else { return };
    let t = TestApp::start(Db::Sqlite, "browser_channels")
        .await
        .unwrap();
    add_users(&t).await;
    add_admin(&t).await;
    let admin = Browser::open(&d, &t.base, "admin-b").await;
    admin.go("/admin/channels").await;
    admin.shot("31-admin-channels").await;
    let page = admin.main_text().await;
    // (The names are in the fields, to be edited in place.)
    for text in ["people_board", "police_110", "12369", "西宁市生态环境局"] {
        assert!(page.contains(text), "{text}: {page}");
    }
    // A new channel.
    admin.fill("#new-code", "douyin").await;
    admin.fill("#new-name", "抖音").await;
    admin.fill("#new-name-en", "Douyin").await;
    admin.select("#new-kind", "app").await;
    admin
        .submit("form[action='/admin/channels'].row button[type=submit]")
        .await;
    assert!(admin.main_text().await.contains("已保存"));
    // 人民网留言板 closed: its box unticked, its row saved.
    admin
        .click("input[form='channel-people_board'][name='active']")
        .await;
    admin
        .submit("#channel-people_board button[type=submit]")
        .await;
    let row = admin.text("#channel-list tbody tr:nth-child(9)").await;
    assert!(row.contains("已停用"), "{row}");
    admin.shot("32-admin-channels-saved").await;
    // The operator's intake form.
    let op = Browser::open(&d, &t.base, "op-b").await;
    op.go("/intake").await;
    let channels = op.text("#channel").await;
    assert!(
        channels.contains("抖音") && !channels.contains("人民网留言板"),
        "{channels}"
    );
    let lines = op.text("#channel_detail").await;
    assert!(lines.contains("12369 环保举报热线"), "{lines}");
    op.select("#channel", "merged_line").await;
    op.select("#channel_detail", "12369").await;
    op.shot("33-intake-merged-line").await;
    // A platform to exchange requests with, added on the same page; its key is shown.
    admin.go("/admin/channels").await;
    admin.fill("#new-platform-code", "province").await;
    admin.fill("#new-platform-name", "青海省12345平台").await;
    admin.select("#new-platform-channel", "province").await;
    admin
        .fill(
            "#new-platform-url",
            "https://12345.qinghai.example.gov.cn/hook",
        )
        .await;
    admin
        .submit("form[action='/admin/channels/platforms'].row button[type=submit]")
        .await;
    let platforms = admin.text("#platform-list").await;
    assert!(platforms.contains("province"), "{platforms}");
    admin.go("/admin/channels#platforms").await;
    admin.shot("34-admin-platforms").await;
    // At a phone's width the tables scroll within the page.
    admin.c.set_window_size(390, 844).await.unwrap();
    admin.go("/admin/channels").await;
    admin.shot("35-admin-channels-phone").await;
    // The retention page (保存期限, erasure, log) at the same width.
    admin.go("/admin/retention").await;
    admin.wait_for("#retention-policy").await;
    let wide = admin
        .c
        .execute(
            "return document.documentElement.scrollWidth - window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert!(wide.as_i64().unwrap_or(0) <= 0, "{wide} px too wide");
    admin.shot("36-admin-retention-phone").await;
    admin.c.close().await.unwrap();
    op.c.close().await.unwrap();
}

/// 以宣促建 in the browser: a supervisor marks a closed ticket as a typical case, checks
/// what the drafting took out, revises and submits it; a leader approves it; a citizen reads
/// it on the portal without a name, a phone or a house number. The month's open data is
/// released by the server's task and read on the portal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cases_topics_and_open_data_in_the_browser() {
    use chrono::{Datelike, TimeZone, Utc};
    let Some(d) = driver().await else { return };
    let t = TestApp::start(Db::Sqlite, "browser_cases").await.unwrap();
    add_users(&t).await;
    t.app
        .add_user(
            &mashangban_app::SERVER,
            UserInput {
                username: "leader-b".into(),
                display_name: Some("分管领导 刘洋".into()),
                role: Role::Analyst,
                unit_id: None,
                password: Some(PASSWORD.into()),
            },
        )
        .await
        .unwrap();
    let id = t
        .create("我叫张三，电话13812345678，东关大街清真巷16号门口的路灯坏了一个月，晚上很黑")
        .await;
    t.bring_to(id, "closed").await;

    let sup = Browser::open(&d, &t.base, "sup-b").await;
    sup.go(&format!("/tickets/{id}")).await;
    sup.submit(&format!("form[action='/tickets/{id}/case'] button"))
        .await;
    let page = sup.main_text().await;
    for text in [
        "起草时去除的个人信息",
        "张三",
        "13812345678",
        "16号",
        "[门牌号]",
    ] {
        assert!(page.contains(text), "{text}: {page}");
    }
    sup.shot("40-case-draft").await;
    sup.fill("input[name=title]", "路灯坏了一个月，三天修好")
        .await;
    sup.submit("form.case button[type=submit]").await;
    sup.submit("form.step-submit button").await;
    assert!(sup.main_text().await.contains("待审核"));

    let leader = Browser::open(&d, &t.base, "leader-b").await;
    leader.go("/cases?state=submitted").await;
    leader.shot("41-cases-awaiting-approval").await;
    leader.click("table tbody a").await;
    leader.wait_for("form.step-approve").await;
    leader.submit("form.step-approve button").await;
    assert!(leader.main_text().await.contains("已发布"));

    let citizen = Browser::launch(&d, &t.base, "citizen-cases").await;
    citizen.go("/public/cases").await;
    citizen.wait_for("ol.cases").await;
    citizen.shot("42-portal-cases").await;
    citizen.click("ol.cases a").await;
    citizen.wait_for("article.case").await;
    let case = citizen.main_text().await;
    assert!(case.contains("路灯坏了一个月，三天修好"), "{case}");
    for personal in ["张三", "13812345678", "16号"] {
        assert!(!case.contains(personal), "{personal}: {case}");
    }
    citizen.shot("43-portal-case").await;
    let case_page = citizen.c.current_url().await.unwrap().path().to_string();

    // A monthly topic from a hot issue. History of its scope (垃圾清运 in 东关大街): 8
    // requests 29..20 days ago, 2 in 19..10, 1 five days ago; and today four people raise
    // the same problem — a hot issue on the dashboard.
    let today = mashangban_domain::aggregates::business_day(Utc::now());
    let op = t.actor("op-b").await;
    let noon = |back: i64| {
        Utc.from_utc_datetime(
            &(today - chrono::Duration::days(back))
                .and_hms_opt(4, 0, 0)
                .unwrap(),
        )
    };
    let mut past: Vec<(String, chrono::DateTime<Utc>)> =
        [29, 28, 27, 25, 23, 22, 21, 20, 18, 13, 5]
            .into_iter()
            .enumerate()
            .map(|(i, back)| (format!("1390000{:04}", i), noon(back)))
            .collect();
    for i in 0..4 {
        past.push((
            format!("1370000{:04}", i),
            Utc::now() - chrono::Duration::minutes(5 - i),
        ));
    }
    for (phone, at) in past {
        t.app
            .create_ticket_at(
                &op,
                serde_json::json!({"channel": "phone", "kind": "complaint",
                    "content": "东关大街清真巷小区垃圾清运不及时，垃圾桶满了好几天没人收，气味很大",
                    "category_code": "010403", "division_code": "630102001001",
                    "citizen": {"phone": phone}}),
                None,
                at,
            )
            .await
            .unwrap();
    }
    leader.go("/dashboard").await;
    leader.wait_for("table.hot").await;
    let propose: String = leader
        .c
        .execute(
            "return [...document.querySelectorAll('table.hot tr')].find(r => r.textContent.includes('垃圾') && r.querySelector('a.propose')).querySelector('a.propose').getAttribute('href');",
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        propose.starts_with("/topics?category=0104&") && propose.contains("division=630102001"),
        "{propose}"
    );
    leader.go(&propose).await;
    leader.wait_for("form.topic").await;
    leader
        .fill(
            "textarea[name=problem]",
            "清真巷一带垃圾清运不及时，近期反复被投诉。",
        )
        .await;
    leader.shot("46-topic-proposed-from-a-hot-issue").await;
    leader.submit("form.topic button[type=submit]").await;
    assert!(leader.main_text().await.contains("待立项"));
    // Adopted for a campaign that ran 19..10 days ago: before and after are both there.
    let set =
        |css: &str, value: String| format!("document.querySelector('{css}').value = '{value}';");
    let script = [
        set(
            "input[name=starts]",
            (today - chrono::Duration::days(19)).to_string(),
        ),
        set(
            "input[name=ends]",
            (today - chrono::Duration::days(10)).to_string(),
        ),
        set(
            "input[name=task_due_1]",
            (today - chrono::Duration::days(14)).to_string(),
        ),
    ]
    .join("");
    leader.c.execute(&script, vec![]).await.unwrap();
    leader
        .select("select[name=lead_unit_id]", &t.lead_unit.to_string())
        .await;
    leader
        .fill("input[name=task_title_1]", "排查清真巷片区垃圾收集点")
        .await;
    leader
        .select("select[name=task_unit_1]", &t.lead_unit.to_string())
        .await;
    leader
        .fill("input[name=policy_title_1]", "东关片区生活垃圾清运管理办法")
        .await;
    leader
        .select("select[name=policy_unit_1]", &t.lead_unit.to_string())
        .await;
    leader.submit("form.step-adopt button[type=submit]").await;
    let topic = leader.main_text().await;
    assert!(topic.contains("推进中"), "{topic}");
    let cell = |row: usize, col: usize| {
        format!("table.volume tbody tr:nth-child({row}) td:nth-child({col})")
    };
    // Literal: 8 before, 2 during; after, the one of five days ago, the four of today and
    // the case's ticket.
    for (row, phase, n) in [(1, "开展前", "8"), (2, "开展中", "2"), (3, "开展后", "6")] {
        assert_eq!(leader.text(&cell(row, 1)).await, phase);
        assert_eq!(leader.text(&cell(row, 4)).await, n, "{phase}: {topic}");
    }
    assert!(topic.contains("日均诉求量变化：-25%"), "{topic}");
    assert!(topic.contains("已逾期"), "{topic}");
    leader.shot("47-topic-adopted-volume").await;
    let topic_page = leader.c.current_url().await.unwrap().path().to_string();
    // The task is on its unit's desk, overdue, beside the unit's tickets.
    let unit = Browser::open(&d, &t.base, "unit-b").await;
    unit.wait_for("#topic-tasks").await;
    let desk = unit.text("#topic-tasks").await;
    assert!(
        desk.contains("排查清真巷片区垃圾收集点") && desk.contains("已逾期"),
        "{desk}"
    );
    // The figure opens the tickets behind it.
    leader.click(&format!("{} a", cell(1, 4))).await;
    leader.wait_for("table.list").await;
    let rows = leader
        .c
        .execute(
            "return document.querySelectorAll('table.list tbody tr').length;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(rows.as_u64(), Some(8));

    // The month's open data, as the server's task releases it on the 1st of the next.
    let (ny, nm) = if today.month() == 12 {
        (today.year() + 1, 1)
    } else {
        (today.year(), today.month() + 1)
    };
    let month = format!("{:04}-{:02}", today.year(), today.month());
    t.app
        .publish_due_release_at(Utc.with_ymd_and_hms(ny, nm, 1, 2, 0, 0).unwrap())
        .await
        .unwrap()
        .expect("released");
    citizen.go("/public/data").await;
    citizen.shot("44-portal-data").await;
    citizen
        .click(&format!("a[href='/public/data/{month}?revision=1']"))
        .await;
    citizen.wait_for("table.units").await;
    citizen.shot("45-portal-data-month").await;
    // Downloaded as the public gets it, and the same figure as the console's evaluation
    // page for the month: the requests of the top-level category of this month's tickets.
    let csv = citizen
        .c
        .execute_async(
            &format!(
                "const done = arguments[0]; fetch('/public/data/{month}/category_l1.csv').then(r => r.text()).then(done);"
            ),
            vec![],
        )
        .await
        .unwrap();
    let csv = csv
        .as_str()
        .unwrap()
        .trim_start_matches('\u{feff}')
        .to_string();
    let row: Vec<String> = csv
        .lines()
        .find(|l| l.starts_with("01,"))
        .unwrap_or_else(|| panic!("{csv}"))
        .split(',')
        .map(str::to_string)
        .collect();
    assert_eq!(row[3], "false", "not suppressed: {csv}");
    leader
        .go(&format!(
            "/kpis?group_by=category_l1&from={}&to={today}",
            today.with_day(1).unwrap()
        ))
        .await;
    let console: String = leader
        .c
        .execute(
            &format!(
                "return [...document.querySelectorAll('table.kpis tbody tr')].find(r => r.cells[1].textContent.trim() === '{}').cells[2].querySelector('a').textContent.trim();",
                row[1]
            ),
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(console, row[2], "{csv}");

    // At a phone's width the new pages fit the screen: a wide table scrolls inside its
    // card, the page itself does not scroll sideways.
    leader.c.set_window_size(390, 844).await.unwrap();
    citizen.c.set_window_size(390, 844).await.unwrap();
    let data_page = format!("/public/data/{month}?revision=1");
    for (b, path, name) in [
        (&leader, topic_page.as_str(), "47b-topic-phone"),
        (&leader, "/topics", "46b-topics-phone"),
        (&citizen, case_page.as_str(), "43b-portal-case-phone"),
        (&citizen, "/public/cases", "42b-portal-cases-phone"),
        (&citizen, data_page.as_str(), "45b-portal-data-month-phone"),
    ] {
        b.go(path).await;
        let wide =
            b.c.execute(
                "return document.documentElement.scrollWidth - window.innerWidth;",
                vec![],
            )
            .await
            .unwrap();
        assert!(
            wide.as_i64().unwrap_or(0) <= 0,
            "{path} is {wide} px wider than a phone"
        );
        b.shot(name).await;
    }
}
