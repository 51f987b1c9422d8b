//! A test harness: the real server on port 0 over a fresh database (SQLite, or PostgreSQL
//! from TEST_DATABASE_URL), seeded with Xining, with a token for each kind of user.
#![allow(dead_code)]

pub mod channels;
pub mod console;
pub mod contract;

use mashangban_app::auth::UserInput;
use mashangban_app::{App, Config};
use mashangban_domain::Role;
use mashangban_store::traits::*;
use mashangban_store::{SqlStore, testing};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

pub struct TestApp {
    pub base: String,
    /// The database, for a second instance over the same data.
    pub url: String,
    pub app: App,
    pub client: reqwest::Client,
    /// Tokens by user name: operator, dispatcher, lead, co, other, callback, supervisor, analyst, admin.
    pub tokens: HashMap<&'static str, String>,
    pub lead_unit: i64,
    pub co_unit: i64,
    pub other_unit: i64,
    /// A community below the lead street office (where it may forward a ticket).
    pub below_unit: i64,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

pub enum Db {
    Sqlite,
    Postgres,
}

/// The key the test server takes inbound SMS signed with.
pub const SMS_SECRET: &str = "test-sms-secret-0123456789";

pub struct Resp {
    pub status: StatusCode,
    pub body: Value,
}

impl TestApp {
    /// Starts the app, or returns None (PostgreSQL without TEST_DATABASE_URL).
    pub async fn start(db: Db, test: &str) -> Option<TestApp> {
        Self::start_configured(db, test, |_| {}).await
    }

    /// [`TestApp::start`], with the settings changed first (a channel's, say).
    pub async fn start_configured(
        db: Db,
        test: &str,
        configure: impl FnOnce(&mut Config),
    ) -> Option<TestApp> {
        let url = match db {
            Db::Sqlite => testing::sqlite_url(),
            Db::Postgres => testing::postgres_url(test).await?,
        };
        let store = SqlStore::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let mut config = Config {
            sms_secret: Some(SMS_SECRET.into()),
            files_dir: Some(
                std::env::temp_dir().join(format!("mb-files-{}-{test}", std::process::id())),
            ),
            public_url: "https://12345.example.gov.cn".into(),
            ..Config::default()
        };
        configure(&mut config);
        let app = App::new(Arc::new(store), config);
        app.seed_xining().await.unwrap();
        // Tests ask for extensions at any hour: no daily cut-off (tested on its own).
        let mut policy =
            serde_json::to_value(mashangban_domain::deadlines::DeadlinePolicy::default()).unwrap();
        policy["extension_cutoff"] = Value::Null;
        app.set_policy(&mashangban_app::SERVER, policy)
            .await
            .unwrap();
        let unit = |code: &'static str| {
            let app = app.clone();
            async move {
                app.store()
                    .get_unit_by_code(code)
                    .await
                    .unwrap()
                    .unwrap()
                    .id
            }
        };
        let lead_unit = unit("GOV-630102001").await; // 东关大街街道办事处
        let co_unit = unit("DEPT-CG").await; // 市城市管理局
        let other_unit = unit("DEPT-JY").await; // 市教育局
        let below_unit = app
            .units(&mashangban_app::SERVER)
            .await
            .unwrap()
            .into_iter()
            .filter(|u| u.parent_id == Some(lead_unit))
            .map(|u| u.id)
            .min()
            .expect("a community below the lead street office");
        let people: [(&'static str, Role, Option<i64>); 11] = [
            ("operator", Role::Operator, None),
            ("dispatcher", Role::Dispatcher, None),
            ("lead", Role::UnitHandler, Some(lead_unit)),
            ("co", Role::UnitHandler, Some(co_unit)),
            ("other", Role::UnitHandler, Some(other_unit)),
            ("below", Role::UnitHandler, Some(below_unit)),
            ("grid", Role::GridWorker, Some(below_unit)),
            ("callback", Role::CallbackAgent, None),
            ("supervisor", Role::Supervisor, None),
            ("analyst", Role::Analyst, None),
            ("admin", Role::Admin, None),
        ];
        let mut tokens = HashMap::new();
        for (name, role, unit_id) in people {
            app.add_user(
                &mashangban_app::SERVER,
                UserInput {
                    username: name.into(),
                    display_name: None,
                    role,
                    unit_id,
                    password: None,
                },
            )
            .await
            .unwrap();
            tokens.insert(
                name,
                app.issue_token(&mashangban_app::SERVER, name, "test", 1)
                    .await
                    .unwrap(),
            );
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let served = app.clone();
        tokio::spawn(async move {
            mashangban_web::serve(served, listener, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        Some(TestApp {
            url: url.clone(),
            base: format!("http://{addr}"),
            app,
            client: reqwest::Client::new(),
            tokens,
            lead_unit,
            co_unit,
            other_unit,
            below_unit,
            _shutdown: tx,
        })
    }

    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        who: Option<&str>,
        body: Option<String>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let token = who.map(|w| self.tokens[w].as_str());
        self.send(method, path, token, body, headers).await
    }

    /// A request with a bearer token (none: without), its answer checked against the
    /// OpenAPI document.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = self
            .client
            .request(method.clone(), format!("{}{}", self.base, path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let json = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let text = r.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        contract::check(&method, path, status, json.then_some(&body));
        Resp { status, body }
    }

    pub async fn get(&self, path: &str, who: &str) -> Resp {
        self.raw(Method::GET, path, Some(who), None, &[]).await
    }

    pub async fn post(&self, path: &str, who: &str, body: Value) -> Resp {
        self.raw(Method::POST, path, Some(who), Some(body.to_string()), &[])
            .await
    }

    pub async fn put(&self, path: &str, who: &str, body: Value) -> Resp {
        self.raw(Method::PUT, path, Some(who), Some(body.to_string()), &[])
            .await
    }

    /// A GET without a token (the citizen's side).
    pub async fn get_anonymous(&self, path: &str) -> Resp {
        self.raw(Method::GET, path, None, None, &[]).await
    }

    /// Uploads `file` parts (name, bytes) as multipart, as `who` or as a citizen; the
    /// status and the JSON answer.
    pub async fn upload(
        &self,
        path: &str,
        who: Option<&str>,
        files: &[(&str, &[u8])],
    ) -> (StatusCode, Value) {
        let boundary = "mbboundary7d93a0e4";
        let mut body = Vec::new();
        for (name, bytes) in files {
            body.extend(format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            ).as_bytes());
            body.extend(*bytes);
            body.extend(b"\r\n");
        }
        body.extend(format!("--{boundary}--\r\n").as_bytes());
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body);
        if let Some(w) = who {
            req = req.bearer_auth(&self.tokens[w]);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// A POST without a token (the citizen's side).
    pub async fn post_anonymous(&self, path: &str, body: Value) -> Resp {
        self.raw(Method::POST, path, None, Some(body.to_string()), &[])
            .await
    }

    /// Creates a ticket as the operator; returns its id.
    pub async fn create(&self, content: &str) -> i64 {
        let r = self
            .post(
                "/api/v1/tickets",
                "operator",
                json!({"channel": "phone", "kind": "complaint", "content": content,
                       "citizen": {"name": "张三", "phone": "13812345678"},
                       "address": "城东区东关大街1号", "category_code": "010403", "division_code": "630102001001"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        r.body["id"].as_i64().unwrap()
    }

    /// Takes an action and asserts success; returns the ticket after it.
    pub async fn act(&self, id: i64, action: &str, who: &str, body: Value) -> Value {
        let r = self
            .post(&format!("/api/v1/tickets/{id}/{action}"), who, body)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{action} by {who}: {:?}", r.body);
        r.body["ticket"].clone()
    }

    pub async fn state(&self, id: i64) -> String {
        self.get(&format!("/api/v1/tickets/{id}"), "dispatcher")
            .await
            .body["state"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn event_count(&self, id: i64) -> usize {
        self.get(&format!("/api/v1/tickets/{id}/events"), "dispatcher")
            .await
            .body["items"]
            .as_array()
            .unwrap()
            .len()
    }

    /// A new ticket brought to `state` through the API, with `lead` as lead unit and `co`
    /// as co-unit wherever it has units.
    pub async fn ticket_in(&self, state: &str) -> i64 {
        let id = self.create(&format!("测试工单，目标状态 {state}")).await;
        self.bring_to(id, state).await
    }

    /// [`TestApp::ticket_in`] for a ticket the `grid` worker of the `below` community
    /// reported on patrol (网格上报).
    pub async fn patrol_ticket_in(&self, state: &str) -> i64 {
        let r = self
            .post(
                "/api/v1/patrol-reports",
                "grid",
                json!({"kind": "help", "content": format!("巡查发现：楼道堆物，目标状态 {state}"),
                       "address": "测试小区3号楼"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let id = r.body["id"].as_i64().unwrap();
        self.bring_to(id, state).await
    }

    /// The citizen rates the ticket's answer on the portal's API with its tracking code.
    pub async fn rate_by_citizen(&self, id: i64, mut rating: Value) -> Resp {
        let t = self.get(&format!("/api/v1/tickets/{id}"), "operator").await;
        let number = t.body["number"].as_str().unwrap().to_string();
        rating["code"] = t.body["tracking_code"].clone();
        let r = self
            .post_anonymous(&format!("/api/v1/public/requests/{number}/rating"), rating)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r
    }

    pub async fn bring_to(&self, id: i64, state: &str) -> i64 {
        let dispatch =
            json!({"lead_unit_id": self.lead_unit, "co_unit_ids": [self.co_unit], "tier": 3});
        match state {
            "received" => {}
            "resolved_directly" => {
                self.act(
                    id,
                    "resolve-directly",
                    "operator",
                    json!({"answer": "已答复"}),
                )
                .await;
            }
            "not_accepted" => {
                self.act(
                    id,
                    "not-accept",
                    "operator",
                    json!({"reason": "属于诉讼事项"}),
                )
                .await;
            }
            "transferred" => {
                self.act(
                    id,
                    "transfer-out",
                    "operator",
                    json!({"to": "110", "reason": "治安事件，属公安110职责"}),
                )
                .await;
            }
            "merged" => {
                let parent = self.create("父工单").await;
                self.act(id, "merge", "operator", json!({"parent_id": parent}))
                    .await;
            }
            _ => {
                self.act(id, "dispatch", "dispatcher", dispatch).await;
                match state {
                    "dispatched" => {}
                    "in_consultation" => {
                        self.act(id, "open-consultation", "dispatcher", json!({}))
                            .await;
                    }
                    _ => {
                        self.act(id, "sign", "lead", json!({})).await;
                        match state {
                            "in_progress" => {}
                            "return_requested" => {
                                self.act(
                                    id,
                                    "request-return",
                                    "lead",
                                    json!({"reason": "非本单位职责"}),
                                )
                                .await;
                            }
                            _ => {
                                self.act(id, "reply", "lead", json!({"content": "已处理"}))
                                    .await;
                                match state {
                                    "replied" => {}
                                    _ => {
                                        self.act(id, "approve-reply", "dispatcher", json!({}))
                                            .await;
                                        match state {
                                            "awaiting_callback" => {}
                                            "rating_review" => {
                                                self.rate_by_citizen(id, json!({"satisfaction": "dissatisfied", "comment": "还是没修好"})).await;
                                            }
                                            "closed" => {
                                                self.act(id, "record-callback", "callback", json!({"contacted": true, "resolution": "resolved", "satisfaction": "satisfied"})).await;
                                            }
                                            other => panic!("no path to {other}"),
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(self.state(id).await, state);
        id
    }
}

/// Users made through the API, acting with their own bearer tokens.
impl TestApp {
    /// A user of `role` (bound to `unit`), created and signed in through the API: their
    /// bearer token.
    pub async fn signed_in(&self, username: &str, role: &str, unit: Option<i64>) -> String {
        let r = self
            .post(
                "/api/v1/users",
                "admin",
                json!({"username": username, "role": role, "unit_id": unit, "password": "correct-horse-1"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        let r = self
            .send(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"username": username, "password": "correct-horse-1"}).to_string()),
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        r.body["token"].as_str().unwrap().to_string()
    }

    /// The user `name` as the application's actor, for calls made straight to `App` (past
    /// times, say).
    pub async fn actor(&self, name: &str) -> mashangban_domain::Actor {
        let (u, _) = self
            .app
            .store()
            .get_credentials(name)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("user {name}"));
        mashangban_domain::Actor {
            user_id: u.id,
            role: u.role,
            unit_id: u.unit_id,
        }
    }

    /// The id of the unit with this code.
    pub async fn unit_id(&self, code: &str) -> i64 {
        let units = self.get("/api/v1/units", "admin").await.body;
        units["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["code"] == code)
            .unwrap_or_else(|| panic!("unit {code}"))["id"]
            .as_i64()
            .unwrap()
    }

    /// An action by the holder of `token`: its answer.
    pub async fn act_as(
        &self,
        token: &str,
        id: i64,
        action: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let r = self
            .send(
                Method::POST,
                &format!("/api/v1/tickets/{id}/{action}"),
                Some(token),
                Some(body.to_string()),
                &[],
            )
            .await;
        (r.status, r.body)
    }

    /// An action that must succeed: the ticket after it.
    pub async fn acted_as(&self, token: &str, id: i64, action: &str, body: Value) -> Value {
        let (status, body) = self.act_as(token, id, action, body).await;
        assert_eq!(status, StatusCode::OK, "{action}: {body}");
        body["ticket"].clone()
    }

    /// A GET by the holder of `token`.
    pub async fn read_as(&self, token: &str, path: &str) -> (StatusCode, Value) {
        let r = self.send(Method::GET, path, Some(token), None, &[]).await;
        (r.status, r.body)
    }
}

impl TestApp {
    /// A ticket in progress whose lead street office called the `other` unit (a city
    /// department) to the spot (吹哨).
    pub async fn summoned_ticket(&self) -> i64 {
        let id = self.ticket_in("in_progress").await;
        self.act(
            id,
            "summon",
            "lead",
            json!({"unit_id": self.other_unit, "reason": "请到场协调处置"}),
        )
        .await;
        id
    }

    /// A ticket in progress that the lead street office forwarded to its community
    /// (`below`), whose part stands as `part` says: `forwarded`, `signed`, `replied` or
    /// `return_requested`.
    pub async fn forwarded_ticket(&self, part: &str) -> i64 {
        let id = self.ticket_in("in_progress").await;
        self.act(id, "forward", "lead", json!({"unit_id": self.below_unit}))
            .await;
        if part != "forwarded" {
            self.act(id, "sign", "below", json!({})).await;
        }
        match part {
            "forwarded" | "signed" => {}
            "replied" => {
                self.act(id, "reply", "below", json!({"content": "社区已处理"}))
                    .await;
            }
            "return_requested" => {
                self.act(
                    id,
                    "request-return",
                    "below",
                    json!({"reason": "不在本社区"}),
                )
                .await;
            }
            other => panic!("no part {other}"),
        }
        id
    }
}

/// Runs each listed async test function on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() {
                let t = $crate::common::TestApp::start($crate::common::Db::Sqlite, stringify!($name)).await.unwrap();
                super::$name(&t).await;
            } )*
        }
        mod on_postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() {
                let Some(t) = $crate::common::TestApp::start($crate::common::Db::Postgres, stringify!($name)).await else { return };
                super::$name(&t).await;
            } )*
        }
    };
}

/// Percent-encodes a query parameter's value (Chinese text included).
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
