//! The HTTP API against the reviewed permission document (`docs/permissions.md`): every
//! endpoint of its table as every role, and every lifecycle action as every role on a
//! ticket in a state where the action applies. A `-` must answer 403 in the one error
//! shape; `yes` and `own` must not answer 401 or 403.

mod common;

use common::{Db, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const DOC: &str = include_str!("../../../docs/permissions.md");

/// The test harness's user of each role, in the document's column order.
const ROLES: [(&str, &str); 8] = [
    ("operator", "operator"),
    ("dispatcher", "dispatcher"),
    ("unit_handler", "lead"),
    ("grid_worker", "grid"),
    ("callback_agent", "callback"),
    ("supervisor", "supervisor"),
    ("analyst", "analyst"),
    ("admin", "admin"),
];

/// The rows of the Markdown table under `## {heading}`.
fn table(heading: &str) -> Vec<Vec<String>> {
    let start = DOC
        .find(&format!("## {heading}\n"))
        .unwrap_or_else(|| panic!("docs/permissions.md has no section `{heading}`"));
    let section = &DOC[start..];
    let end = section[3..].find("\n## ").map_or(section.len(), |e| e + 3);
    section[..end]
        .lines()
        .filter(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

/// What the test sends for each endpoint of the document: a concrete path and a body.
struct Fixtures {
    ticket: i64,
    article: i64,
    operator_id: i64,
    deadline_policy: Value,
    kpi_policy: Value,
    warning_policy: Value,
}

impl Fixtures {
    fn request(&self, t: &TestApp, endpoint: &str) -> (Method, String, Option<Value>) {
        let (method, path) = endpoint.split_once(' ').expect("METHOD /path");
        let method: Method = method.parse().expect("a method");
        let id = self.ticket;
        let concrete = match path {
            "/api/v1/tickets?phone=" => "/api/v1/tickets?phone=13812345678".to_string(),
            "/api/v1/tickets/search" => "/api/v1/tickets/search?q=测试".to_string(),
            "/api/v1/calendar/days/{date}" => "/api/v1/calendar/days/2026-12-31".to_string(),
            "/api/v1/calendar/years/{year}" => "/api/v1/calendar/years/2026".to_string(),
            "/api/v1/warnings/{id}" => "/api/v1/warnings/1".to_string(),
            "/api/v1/warnings/{id}/handle" => "/api/v1/warnings/1/handle".to_string(),
            "/api/v1/divisions/{code}" => "/api/v1/divisions/630102".to_string(),
            "/api/v1/users/{id}" => format!("/api/v1/users/{}", self.operator_id),
            "/api/v1/units/{id}/contact" => format!("/api/v1/units/{}/contact", t.lead_unit),
            "/api/v1/catalogue/{id}" if method == Method::DELETE => {
                "/api/v1/catalogue/999999?version=1".to_string()
            }
            "/api/v1/catalogue/{id}" => "/api/v1/catalogue/999999".to_string(),
            "/api/v1/catalogue/owner" => "/api/v1/catalogue/owner?category_code=010403".to_string(),
            "/api/v1/knowledge/{id}" if method == Method::DELETE => {
                format!("/api/v1/knowledge/{}?version=1", self.article)
            }
            "/api/v1/knowledge/{id}" => format!("/api/v1/knowledge/{}", self.article),
            "/api/v1/gazetteer/{id}" => "/api/v1/gazetteer/999999".to_string(),
            "/api/v1/channels/{code}" => "/api/v1/channels/douyin".to_string(),
            "/api/v1/api-keys/{id}" => "/api/v1/api-keys/999999".to_string(),
            "/api/v1/lines/{number}" => "/api/v1/lines/12388".to_string(),
            "/api/v1/open-data/{month}" => "/api/v1/open-data/2025-01".to_string(),
            "/api/v1/exchange/platforms/{code}" => {
                "/api/v1/exchange/platforms/national".to_string()
            }
            p => p.replace("{id}", &id.to_string()),
        };
        let article = json!({"question": "路灯不亮找谁？", "answer": "由所在街道办事处负责。",
                             "source": "测试", "owner_unit_id": t.lead_unit, "version": 1});
        let body = match (method.as_str(), path) {
            ("POST", "/api/v1/tickets") => Some(json!({"channel": "phone", "kind": "complaint",
                "content": "小区路灯不亮", "citizen": {"phone": "13812345678"}})),
            ("POST", "/api/v1/tickets/bulk") => Some(json!({"action": "add-note",
                "ticket_ids": [id], "body": {"note": "批量备注"}})),
            ("POST", "/api/v1/patrol-reports") => Some(json!({"kind": "help",
                "content": "巡查发现小区路灯不亮", "address": "测试小区"})),
            ("PUT", "/api/v1/calendar/days/{date}") => {
                Some(json!({"kind": "holiday", "name": "测试"}))
            }
            ("PUT", "/api/v1/calendar/years/{year}") => Some(json!({"known": true})),
            ("PUT", "/api/v1/policy/deadlines") => Some(self.deadline_policy.clone()),
            ("PUT", "/api/v1/policy/kpis") => Some(self.kpi_policy.clone()),
            ("PUT", "/api/v1/policy/warnings") => Some(self.warning_policy.clone()),
            ("POST", "/api/v1/warnings/{id}/handle") => Some(json!({"status": "acknowledged"})),
            ("POST", "/api/v1/units") => Some(json!({"code": "TEST-U", "name": "测试单位",
                "kind": "city_department"})),
            ("PATCH", "/api/v1/divisions/{code}") => Some(json!({"population": 410000})),
            ("POST", "/api/v1/categories") => Some(json!({"code": "99", "name": "测试"})),
            ("POST", "/api/v1/users") => Some(json!({"username": "newcomer",
                "role": "operator"})),
            ("PATCH", "/api/v1/users/{id}") => Some(json!({"active": true})),
            ("PUT", "/api/v1/webhooks") => Some(json!([])),
            ("PUT", "/api/v1/units/{id}/contact") => {
                Some(json!({"liaison": "王", "phone": "13800000000"}))
            }
            ("POST", "/api/v1/catalogue") | ("PUT", "/api/v1/catalogue/{id}") => {
                Some(json!({"category_code": "010403", "unit_id": t.lead_unit, "version": 1}))
            }
            ("POST", "/api/v1/knowledge") | ("PUT", "/api/v1/knowledge/{id}") => Some(article),
            ("POST", "/api/v1/suggest") => Some(json!({"content": "小区路灯不亮"})),
            ("POST", "/api/v1/extract") => Some(json!({"text": "我叫王芳，小区路灯不亮"})),
            ("PUT", "/api/v1/policy/retention") => {
                Some(json!({"contact_days": 1095, "content_days": 1825}))
            }
            ("POST", "/api/v1/citizens/erase") => {
                Some(json!({"phone": "13900000000", "reason": "市民来电申请删除"}))
            }
            ("POST", "/api/v1/anonymise") => Some(json!({"text": "我叫王芳，电话13912345678"})),
            ("POST", "/api/v1/cases") => Some(json!({"ticket_id": id})),
            ("POST", "/api/v1/topics") => {
                Some(json!({"title": "路灯不亮", "problem": "多处路灯不亮",
                "category_code": "0104"}))
            }
            ("POST", p) if p.starts_with("/api/v1/topics/{id}/") => Some(json!({"version": 1})),
            ("PUT", "/api/v1/cases/{id}") => Some(json!({"version": 1, "title": "标题",
                "request": "诉求", "handling": "办理", "result": "结果"})),
            ("POST", p) if p.starts_with("/api/v1/cases/{id}/") => {
                Some(json!({"version": 1, "note": "理由"}))
            }
            ("PUT", "/api/v1/gazetteer") => Some(json!([])),
            ("PUT", "/api/v1/channels/{code}") => Some(json!({"name": "抖音", "name_en": "Douyin",
                "kind": "app", "active": true})),
            ("POST", "/api/v1/api-keys") => Some(json!({"client": "FixMyStreet"})),
            ("PUT", "/api/v1/lines/{number}") => Some(json!({"name": "测试热线", "active": true})),
            ("PUT", "/api/v1/exchange/platforms/{code}") => {
                Some(json!({"name": "国家政务服务平台", "channel": "province"}))
            }
            _ => None,
        };
        (method, concrete, body)
    }
}

async fn fixtures(t: &TestApp) -> Fixtures {
    // Reported on patrol by the grid worker's community, led by the unit handler's.
    let ticket = t.patrol_ticket_in("in_progress").await;
    let article = t
        .post(
            "/api/v1/knowledge",
            "admin",
            json!({"question": "路灯不亮找谁？", "answer": "由所在街道办事处负责。",
                   "source": "测试", "owner_unit_id": t.lead_unit}),
        )
        .await;
    assert_eq!(article.status, StatusCode::CREATED, "{:?}", article.body);
    let users = t.get("/api/v1/users", "admin").await;
    let operator_id = users.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "operator")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    Fixtures {
        ticket,
        article: article.body["id"].as_i64().unwrap(),
        operator_id,
        deadline_policy: t.get("/api/v1/policy/deadlines", "admin").await.body,
        kpi_policy: t.get("/api/v1/policy/kpis", "admin").await.body,
        warning_policy: t.get("/api/v1/policy/warnings", "admin").await.body,
    }
}

async fn send(
    t: &TestApp,
    who: &str,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> common::Resp {
    t.raw(method, path, Some(who), body.map(Value::to_string), &[])
        .await
}

#[tokio::test]
async fn every_endpoint_answers_each_role_as_the_document_says() {
    let t = TestApp::start(Db::Sqlite, "permission_matrix")
        .await
        .unwrap();
    let f = fixtures(&t).await;
    let rows = table("API endpoints");
    assert!(rows.len() > 60, "the endpoint table is there");
    let mut wrong = Vec::new();
    for row in &rows {
        let endpoint = &row[0];
        let (method, path, body) = f.request(&t, endpoint);
        // Refusals first, so that a write allowed to one role cannot change what the
        // others are asked.
        let mut order: Vec<usize> = (0..ROLES.len()).collect();
        order.sort_by_key(|i| row[i + 1] != "-");
        for i in order {
            let (role, who) = ROLES[i];
            let expected = row[i + 1].as_str();
            let r = send(&t, who, method.clone(), &path, body.as_ref()).await;
            let ok = match expected {
                "-" => r.status == StatusCode::FORBIDDEN && r.body["error"]["code"] == "forbidden",
                "yes" | "own" => {
                    r.status != StatusCode::FORBIDDEN && r.status != StatusCode::UNAUTHORIZED
                }
                other => panic!("cell `{other}` of {endpoint}"),
            };
            if !ok {
                wrong.push(format!(
                    "{endpoint} as {role}: expected {expected}, got {} {}",
                    r.status, r.body
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A state each action applies to (the document's first state for it), reached through
/// the API.
fn state_for(states: &str) -> &str {
    if states == "all" {
        return "in_progress";
    }
    states.split(',').next().unwrap().trim()
}

#[tokio::test]
async fn every_action_answers_each_role_as_the_document_says() {
    let t = TestApp::start(Db::Sqlite, "permission_matrix_actions")
        .await
        .unwrap();
    let mut wrong = Vec::new();
    let rows = table("Ticket actions");
    for row in &rows {
        let action = &row[0];
        let roles: Vec<&str> = row[1].split(',').map(str::trim).collect();
        // Roles of the action's other rows are checked there.
        let elsewhere: Vec<&str> = rows
            .iter()
            .filter(|r| &r[0] == action && r[1] != row[1])
            .flat_map(|r| r[1].split(',').map(str::trim))
            .collect();
        let state = state_for(&row[2]);
        // The level above reviews what the level below sent up: a ticket forwarded by the
        // lead unit to a community, which replied or asked to give it back.
        let reviewed = row[3] == "reviewer";
        // A unit called to the spot reports in: the `other` unit, called by the lead.
        let summoned = row[3] == "summoned";
        // The community that reported a matter on patrol acts on its report: the `below`
        // community's grid worker and handler.
        let reporter = row[3] == "reporter";
        let part = match action.as_str() {
            "approve-return" | "reject-return" => "return_requested",
            _ => "replied",
        };
        // Refused roles on one ticket; each allowed role on a ticket of its own.
        let shared = t.ticket_in(state).await;
        for (role, who) in ROLES {
            if elsewhere.contains(&role) {
                continue;
            }
            let allowed = roles.contains(&role);
            let id = match (allowed, reviewed, summoned) {
                (true, true, _) => t.forwarded_ticket(part).await,
                (true, _, true) => t.summoned_ticket().await,
                (true, false, false) if reporter || role == "grid_worker" => {
                    t.patrol_ticket_in(state).await
                }
                (true, false, false) => t.ticket_in(state).await,
                _ => shared,
            };
            let who = match (allowed, summoned, reporter) {
                (true, true, _) => "other",
                (true, _, true) if role == "unit_handler" => "below",
                _ => who,
            };
            let r = t
                .post(&format!("/api/v1/tickets/{id}/{action}"), who, json!({}))
                .await;
            let ok = if allowed {
                r.status != StatusCode::FORBIDDEN && r.status != StatusCode::UNAUTHORIZED
            } else {
                r.status == StatusCode::FORBIDDEN && r.body["error"]["code"] == "forbidden"
            };
            if !ok {
                wrong.push(format!(
                    "{action} in {state} as {role}: expected {}, got {} {}",
                    if allowed { "allowed" } else { "403" },
                    r.status,
                    r.body
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn every_console_page_answers_each_role_as_the_document_says() {
    use mashangban_app::auth::UserInput;
    use mashangban_domain::Role;
    let t = TestApp::start(Db::Sqlite, "permission_matrix_console")
        .await
        .unwrap();
    let ticket = t.patrol_ticket_in("in_progress").await;
    let mut sessions = Vec::new();
    for (role, _) in ROLES {
        let role: Role = role.parse().unwrap();
        let name = format!("console-{}", role.as_str());
        t.app
            .add_user(
                &mashangban_app::SERVER,
                UserInput {
                    username: name.clone(),
                    display_name: None,
                    role,
                    unit_id: match role {
                        Role::UnitHandler => Some(t.lead_unit),
                        Role::GridWorker => Some(t.below_unit),
                        _ => None,
                    },
                    password: Some("a-long-password".into()),
                },
            )
            .await
            .unwrap();
        sessions.push(common::console::login(&t, &name, "a-long-password").await);
    }
    let mut wrong = Vec::new();
    for row in table("Console pages") {
        let path = row[0].replace("{id}", &ticket.to_string());
        for (i, (role, _)) in ROLES.iter().enumerate() {
            let expected = match row[i + 1].as_str() {
                "yes" => StatusCode::OK,
                "-" => StatusCode::FORBIDDEN,
                "home" => StatusCode::SEE_OTHER,
                other => panic!("cell `{other}` of {path}"),
            };
            let (status, _, _) = common::console::get_page(&t, &path, Some(&sessions[i]), "").await;
            if status != expected {
                wrong.push(format!(
                    "{path} as {role}: expected {expected}, got {status}"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
