//! 每月一题: monthly topics in the console — the list with the form that proposes one (filled
//! in from a hot issue of the dashboard), and a topic's page: its scope and problem, the
//! volume of its requests before, during and after its campaign (a chart and a table whose
//! figures open the tickets behind them), the leader's adoption form, the tasks with their
//! deadline status and supervision, the policies, and the history. The rules are the
//! application's (`App::propose_topic`, `App::topic_step`).

use std::collections::HashMap;

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Duration;
use mashangban_app::topics::{OpenTask, TopicDetail, TopicQuery};
use mashangban_app::{App, Reference};
use mashangban_domain::permission::{Permission, may_work_on_topic};
use mashangban_domain::topics::{Phase, TaskStatus, Topic, TopicState};
use maud::{Markup, html};
use serde_json::{Value, json};

use super::actions::unit_options;
use super::charts::{Series, stacked_columns};
use super::i18n::{Lang, t};
use super::{
    Session, forbidden_page, form_session, html_response, local_time, page, reference,
    refused_page, session, to_login,
};

/// Tasks and policies the adoption form offers rows for (empty rows are left out).
const TASK_ROWS: usize = 5;
const POLICY_ROWS: usize = 3;

fn may_open(s: &Session) -> bool {
    mashangban_domain::permission::may_read_some_topic(s.user.role)
}

fn state_label(lang: Lang, state: TopicState) -> &'static str {
    if lang == Lang::Zh {
        state.zh()
    } else {
        state.as_str()
    }
}

fn status_label(lang: Lang, status: TaskStatus) -> &'static str {
    if lang == Lang::Zh {
        status.zh()
    } else {
        status.as_str()
    }
}

fn phase_label(lang: Lang, phase: Phase) -> &'static str {
    if lang == Lang::Zh {
        phase.zh()
    } else {
        phase.as_str()
    }
}

fn supervision_label(lang: Lang, level: u8) -> &'static str {
    match (lang, level) {
        (_, 0) => "",
        (Lang::Zh, 1) => "催办",
        (Lang::Zh, 2) => "书面督办",
        (Lang::Zh, _) => "挂牌督办",
        (Lang::En, 1) => "reminded",
        (Lang::En, 2) => "written notice",
        (Lang::En, _) => "publicly listed",
    }
}

fn category_name(r: &Reference, code: &str) -> String {
    r.categories
        .get(code)
        .map(|c| c.name.clone())
        .unwrap_or_else(|| code.to_string())
}

fn place_name(r: &Reference, code: Option<&str>, zh: bool) -> String {
    match code {
        Some(c) => r.division_path(c).unwrap_or_else(|| c.to_string()),
        None => (if zh { "全市" } else { "the whole city" }).to_string(),
    }
}

fn unit_name(r: &Reference, id: i64) -> String {
    r.unit_name(id)
        .map(str::to_string)
        .unwrap_or_else(|| format!("#{id}"))
}

/// The categories a topic may be scoped to (every level), indented by level.
fn category_options(r: &Reference, selected: &str) -> Markup {
    let mut cats: Vec<_> = r.categories.values().filter(|c| c.active).collect();
    cats.sort_by(|a, b| a.code.cmp(&b.code));
    html! {
        @for c in cats {
            option value=(c.code) selected[c.code == selected] {
                ("\u{3000}".repeat(usize::from(c.level.saturating_sub(1)))) (c.name)
            }
        }
    }
}

/// The districts and streets of the city (a topic's place), grouped by district.
fn division_options(r: &Reference, selected: &str, zh: bool) -> Markup {
    let mut districts: Vec<(&String, &String)> = r
        .divisions
        .iter()
        .filter(|(c, _)| c.len() == 6 && !c.ends_with("00"))
        .collect();
    districts.sort();
    html! {
        option value="" { (if zh { "全市" } else { "the whole city" }) }
        @for (code, name) in districts {
            optgroup label=(name) {
                option value=(code) selected[code == selected] { (name) }
                @for (s, n) in streets_of(r, code) {
                    option value=(s) selected[s == selected] { "\u{3000}" (n) }
                }
            }
        }
    }
}

/// The streets of a district, by code.
fn streets_of<'a>(r: &'a Reference, district: &str) -> Vec<(&'a String, &'a String)> {
    let mut streets: Vec<(&String, &String)> = r
        .divisions
        .iter()
        .filter(|(c, _)| c.len() == 9 && c.starts_with(district))
        .collect();
    streets.sort();
    streets
}

pub async fn list_page(
    State(app): State<App>,
    headers: HeaderMap,
    Query(p): Query<HashMap<String, String>>,
) -> Response {
    let Some(s) = session(&app, &headers).await else {
        return to_login();
    };
    if !may_open(&s) {
        return forbidden_page(s.lang);
    }
    let lang = s.lang;
    let zh = lang == Lang::Zh;
    let get = |k: &str| p.get(k).cloned().unwrap_or_default();
    let q = TopicQuery {
        state: p.get("state").cloned().filter(|v| !v.is_empty()),
    };
    let topics = match app.topics(&s.actor(), &q).await {
        Ok(t) => t,
        Err(e) => return refused_page(&s, &e, "/topics", "topics"),
    };
    let r = reference(&app, &s.actor()).await;
    let csrf = super::session_csrf(&s.token);
    let body = html! {
        h1 { (t(lang, "topics")) " " span.count { (topics.len()) } }
        p.muted {
            (if zh { "从热点问题和考评中发现群众反映集中的问题，提出每月一题；领导立项后明确牵头单位、配合单位、任务和时限及拟出台政策，任务像工单一样跟踪督办，并对比开展前后的诉求量。" }
             else { "Take a problem many raise (from the hot issues and the evaluation) as a monthly topic; a leader adopts it with a lead unit, co-units, tasks with due dates and the policies to issue; tasks are watched and supervised like tickets, and the requests before and after compared." })
        }
        form.filters method="get" action="/topics" {
            select name="state" {
                option value="" { (if zh { "全部状态" } else { "every state" }) }
                @for st in TopicState::ALL {
                    option value=(st.as_str()) selected[q.state.as_deref() == Some(st.as_str())] { (state_label(lang, st)) }
                }
            }
            button.primary type="submit" { (if zh { "筛选" } else { "Filter" }) }
        }
        @if topics.is_empty() {
            p.muted { (if zh { "暂无每月一题。" } else { "No topics." }) }
        } @else {
            table.topics {
                thead { tr {
                    th { (if zh { "题目" } else { "Topic" }) }
                    th { (if zh { "范围" } else { "Scope" }) }
                    th { (if zh { "状态" } else { "State" }) }
                    th { (if zh { "开展期间" } else { "Campaign" }) }
                    th { (if zh { "任务" } else { "Tasks" }) }
                } }
                tbody {
                    @for item in &topics {
                        @let tp = &item.topic;
                        @let done = item.tasks.iter().filter(|v| matches!(v.status, TaskStatus::Done | TaskStatus::DoneLate)).count();
                        @let overdue = item.tasks.iter().filter(|v| v.status == TaskStatus::Overdue).count();
                        tr {
                            td { a href=(format!("/topics/{}", tp.id)) { (tp.proposal.title) } }
                            td { (category_name(&r, &tp.proposal.scope.category_code)) " · " (place_name(&r, tp.proposal.scope.division_code.as_deref(), zh)) }
                            td { span.tag { (state_label(lang, tp.state)) } }
                            td { @if let Some(a) = &tp.adoption { (a.starts) " – " (a.ends) } }
                            td {
                                @if !item.tasks.is_empty() {
                                    (done) "/" (item.tasks.len())
                                    @if overdue > 0 { " " span.tag.overdue { (if zh { "逾期 " } else { "overdue " }) (overdue) } }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if s.may(Permission::ProposeTopics) {
            div.card #propose {
                h2 { (if zh { "提出每月一题" } else { "Propose a topic" }) }
                form.topic method="post" action="/topics" {
                    input type="hidden" name="_csrf" value=(csrf);
                    label { (if zh { "题目" } else { "Title" }) input type="text" name="title" value=(get("title")) maxlength="100" required; }
                    label { (if zh { "诉求类别" } else { "Category" })
                        select name="category_code" required { (category_options(&r, &get("category"))) }
                    }
                    label { (if zh { "区域" } else { "Place" })
                        select name="division_code" { (division_options(&r, &get("division"), zh)) }
                    }
                    label { (if zh { "问题描述" } else { "The problem" }) textarea name="problem" rows="4" required { (get("problem")) } }
                    label { (if zh { "来源（热点问题）" } else { "Source (hot issue)" }) input type="text" name="source" value=(get("source")); }
                    button.primary type="submit" { (if zh { "提出" } else { "Propose" }) }
                }
                p.muted { (if zh { "也可在领导驾驶舱的热点问题中点击“提为每月一题”，自动带入类别、区域和来源。" } else { "Or from a hot issue on the dashboard, which fills in the category, the place and the source." }) }
            }
        }
    };
    html_response(StatusCode::OK, page(lang, Some(&s), "/topics", body))
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .unwrap_or("")
}

/// A form's number as JSON: the number, or the text as given (the application names the
/// field that is not one).
fn number(v: &str) -> Value {
    v.parse::<i64>().map_or_else(|_| json!(v), |n| json!(n))
}

fn text_or_null(v: &str) -> Value {
    if v.is_empty() { Value::Null } else { json!(v) }
}

pub async fn propose(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match form_session(&app, &headers, &form, Permission::ProposeTopics).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let body = json!({
        "title": field(&form, "title"),
        "problem": field(&form, "problem"),
        "category_code": field(&form, "category_code"),
        "division_code": text_or_null(field(&form, "division_code")),
        "source": text_or_null(field(&form, "source")),
    });
    match app.propose_topic(&s.actor(), body).await {
        Ok(tp) => Redirect::to(&format!("/topics/{}", tp.id)).into_response(),
        Err(e) => refused_page(&s, &e, "/topics", "topics"),
    }
}

/// The JSON body of a step from the console's form.
fn step_body(step: &str, form: &[(String, String)]) -> Value {
    let version = number(field(form, "version"));
    match step {
        "adopt" => {
            let tasks: Vec<Value> = (1..=TASK_ROWS)
                .filter(|i| !field(form, &format!("task_title_{i}")).is_empty())
                .map(|i| {
                    json!({"title": field(form, &format!("task_title_{i}")),
                        "unit_id": number(field(form, &format!("task_unit_{i}"))),
                        "due": field(form, &format!("task_due_{i}"))})
                })
                .collect();
            let policies: Vec<Value> = (1..=POLICY_ROWS)
                .filter(|i| !field(form, &format!("policy_title_{i}")).is_empty())
                .map(|i| {
                    json!({"title": field(form, &format!("policy_title_{i}")),
                        "unit_id": number(field(form, &format!("policy_unit_{i}")))})
                })
                .collect();
            let co: Vec<Value> = form
                .iter()
                .filter(|(k, v)| k == "co_unit_ids" && !v.is_empty())
                .map(|(_, v)| number(v))
                .collect();
            json!({"version": version, "lead_unit_id": number(field(form, "lead_unit_id")),
                "co_unit_ids": co, "starts": field(form, "starts"), "ends": field(form, "ends"),
                "tasks": tasks, "policies": policies})
        }
        "decline" => json!({"version": version, "reason": field(form, "reason")}),
        "report" => json!({"version": version, "task": number(field(form, "task")),
            "text": field(form, "text"), "done": field(form, "done") == "on"}),
        "supervise" => json!({"version": version, "task": number(field(form, "task")),
            "note": field(form, "note")}),
        "issue" => json!({"version": version, "policy": number(field(form, "policy")),
            "reference": field(form, "reference"), "issued_on": field(form, "issued_on")}),
        _ => json!({"version": version, "summary": field(form, "summary")}),
    }
}

pub async fn take_step(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    // Which permission the step needs is the application's to say.
    let s = match form_session(&app, &headers, &form, None).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let step = field(&form, "step").to_string();
    match app
        .topic_step(&s.actor(), id, &step, step_body(&step, &form))
        .await
    {
        Ok(tp) => Redirect::to(&format!("/topics/{}", tp.id)).into_response(),
        Err(e) => refused_page(&s, &e, &format!("/topics/{id}"), "topics"),
    }
}

pub async fn topic_page(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    let Some(s) = session(&app, &headers).await else {
        return to_login();
    };
    if !may_open(&s) {
        return forbidden_page(s.lang);
    }
    let detail = match app.topic_detail(&s.actor(), id).await {
        Ok(d) => d,
        Err(e) => return refused_page(&s, &e, "/topics", "topics"),
    };
    let r = reference(&app, &s.actor()).await;
    let units = app.units(&s.actor()).await.unwrap_or_default();
    let body = topic_body(&s, &detail, &r, &units);
    html_response(StatusCode::OK, page(s.lang, Some(&s), "/topics", body))
}

fn step_form(
    csrf: &str,
    tp: &Topic,
    step: &str,
    class: &str,
    fields: Markup,
    label: &str,
) -> Markup {
    html! {
        form class=(format!("step step-{step} {class}")) method="post" action=(format!("/topics/{}/step", tp.id)) {
            input type="hidden" name="_csrf" value=(csrf);
            input type="hidden" name="version" value=(tp.version);
            input type="hidden" name="step" value=(step);
            (fields)
            button.primary type="submit" { (label) }
        }
    }
}

fn topic_body(
    s: &Session,
    d: &TopicDetail,
    r: &Reference,
    units: &[mashangban_domain::Unit],
) -> Markup {
    let lang = s.lang;
    let zh = lang == Lang::Zh;
    let tp = &d.topic;
    let csrf = super::session_csrf(&s.token);
    let actor = s.actor();
    let leader = s.may(Permission::AdoptTopics);
    let supervisor = s.may(Permission::SuperviseTopics);
    let adopted = tp.state == TopicState::Adopted;
    let scope = &tp.proposal.scope;
    let today = d.volume.today;
    let tickets_link = |from: chrono::NaiveDate, to: chrono::NaiveDate| {
        let mut l = format!(
            "/tickets?category={}&created_from={from}&created_to={to}",
            scope.category_code
        );
        if let Some(dv) = &scope.division_code {
            l.push_str(&format!("&division={dv}"));
        }
        l
    };
    let labels: Vec<String> = d
        .volume
        .days
        .iter()
        .map(|v| v.day.format("%m-%d").to_string())
        .collect();
    let series: Vec<Series> = [Phase::Before, Phase::During, Phase::After]
        .into_iter()
        .filter(|p| d.volume.phases.iter().any(|v| v.phase == *p))
        .map(|p| Series {
            name: phase_label(lang, p),
            values: d
                .volume
                .days
                .iter()
                .map(|v| if v.phase == p { v.requests as f64 } else { 0.0 })
                .collect(),
        })
        .collect();
    html! {
        h1 { (tp.proposal.title) " " span.tag { (state_label(lang, tp.state)) } }
        p.muted {
            (if zh { "范围：" } else { "Scope: " })
            (category_name(r, &scope.category_code)) " · " (place_name(r, scope.division_code.as_deref(), zh))
            " · " (if zh { "提出于 " } else { "proposed " }) (local_time(tp.proposed_at))
        }
        div.card {
            h2 { (if zh { "问题描述" } else { "The problem" }) }
            p { (tp.proposal.problem) }
            @if let Some(src) = &tp.proposal.source { p.muted { (if zh { "来源：" } else { "Source: " }) (src) } }
            @if let Some(n) = &tp.note { p.notice role="status" { (if tp.state == TopicState::Declined { if zh { "未立项原因：" } else { "Declined: " } } else if zh { "结题总结：" } else { "Summary: " }) (n) } }
            @if let Some(a) = &tp.adoption {
                p {
                    (if zh { "开展期间：" } else { "Campaign: " }) (a.starts) " – " (a.ends)
                    " · " (if zh { "牵头单位：" } else { "Lead: " }) (unit_name(r, a.lead_unit_id))
                    @if !a.co_unit_ids.is_empty() {
                        " · " (if zh { "配合单位：" } else { "With: " })
                        (a.co_unit_ids.iter().map(|u| unit_name(r, *u)).collect::<Vec<_>>().join("、"))
                    }
                }
            }
        }
        section.card.volume {
            h2 { (if zh { "诉求量对比" } else { "Requests before, during and after" }) }
            table.volume {
                thead { tr {
                    th { (if zh { "阶段" } else { "Phase" }) }
                    th { (if zh { "日期" } else { "Days" }) }
                    th { (if zh { "天数" } else { "Days" }) }
                    th { (if zh { "诉求件数" } else { "Requests" }) }
                    th { (if zh { "日均" } else { "A day" }) }
                } }
                tbody {
                    @for v in &d.volume.phases {
                        tr {
                            td { (phase_label(lang, v.phase)) }
                            td { (v.from) " – " (v.to) }
                            td.num { (v.days) }
                            td.num { a href=(tickets_link(v.from, v.to)) { (v.requests) } }
                            td.num { (format!("{:.1}", v.per_day)) }
                        }
                    }
                }
            }
            @if let Some(c) = d.volume.change {
                p.change { (if zh { "日均诉求量变化：" } else { "Change of requests a day: " }) (format!("{:+.0}%", c * 100.0)) }
            }
            p.muted { (if zh { "数据来自考评汇总（按受理日统计）；点击件数查看对应工单。" } else { "From the evaluation aggregates (by the day requests came in); a figure opens its tickets." }) }
            @if !d.volume.days.is_empty() {
                (stacked_columns(if zh { "每日诉求量" } else { "Requests a day" }, &labels, &series))
            }
        }
        @if tp.state == TopicState::Proposed && leader {
            div.card {
                h2 { (if zh { "立项" } else { "Adopt" }) }
                (step_form(&csrf, tp, "adopt", "adopt", html! {
                    label { (if zh { "牵头单位" } else { "Lead unit" }) select name="lead_unit_id" required { (unit_options(units, &[])) } }
                    label { (if zh { "配合单位（可多选）" } else { "Co-units (several)" }) select name="co_unit_ids" multiple size="4" { (unit_options(units, &[])) } }
                    label { (if zh { "开始日期" } else { "Starts" }) input type="date" name="starts" value=(today) required; }
                    label { (if zh { "结束日期" } else { "Ends" }) input type="date" name="ends" value=(today + Duration::days(30)) required; }
                    fieldset {
                        legend { (if zh { "任务（标题、责任单位、完成时限）" } else { "Tasks (title, unit, due)" }) }
                        @for i in 1..=TASK_ROWS {
                            div.row {
                                input type="text" name=(format!("task_title_{i}")) placeholder=(if zh { "任务" } else { "task" }) aria-label=(format!("task {i}"));
                                select name=(format!("task_unit_{i}")) aria-label=(format!("task {i} unit")) { (unit_options(units, &[])) }
                                input type="date" name=(format!("task_due_{i}")) value=(today + Duration::days(14)) aria-label=(format!("task {i} due"));
                            }
                        }
                    }
                    fieldset {
                        legend { (if zh { "拟出台政策（标题、起草单位）" } else { "Policies to issue (title, unit)" }) }
                        @for i in 1..=POLICY_ROWS {
                            div.row {
                                input type="text" name=(format!("policy_title_{i}")) placeholder=(if zh { "政策" } else { "policy" }) aria-label=(format!("policy {i}"));
                                select name=(format!("policy_unit_{i}")) aria-label=(format!("policy {i} unit")) { (unit_options(units, &[])) }
                            }
                        }
                    }
                }, if zh { "立项" } else { "Adopt" }))
                (step_form(&csrf, tp, "decline", "decline", html! {
                    label { (if zh { "不立项原因" } else { "Why not" }) textarea name="reason" rows="2" required {} }
                }, if zh { "不予立项" } else { "Decline" }))
            }
        }
        @if !tp.tasks.is_empty() {
            div.card {
                h2 { (if zh { "任务" } else { "Tasks" }) }
                table.tasks {
                    thead { tr {
                        th { "#" }
                        th { (if zh { "任务" } else { "Task" }) }
                        th { (if zh { "责任单位" } else { "Unit" }) }
                        th { (if zh { "时限" } else { "Due" }) }
                        th { (if zh { "状态" } else { "Status" }) }
                        th { (if zh { "督办" } else { "Supervision" }) }
                        th { (if zh { "进展" } else { "Progress" }) }
                    } }
                    tbody {
                        @for (task, view) in tp.tasks.iter().zip(&d.tasks) {
                            tr class=(format!("task status-{}", view.status.as_str())) {
                                td { (task.no) }
                                td { (task.title) }
                                td { (unit_name(r, task.unit_id)) }
                                td { (task.due) }
                                td { span class=(format!("tag {}", view.status.as_str())) { (status_label(lang, view.status)) } }
                                td { @if view.supervision_level > 0 { span.tag.supervision { (supervision_label(lang, view.supervision_level)) } } }
                                td {
                                    @for rep in &task.reports { p { (local_time(rep.at)) " " (rep.text) @if rep.done { " ✓" } } }
                                    @for sv in &task.supervisions { p.muted { (local_time(sv.at)) " " (supervision_label(lang, sv.level)) "：" (sv.note) } }
                                    @if adopted && task.done_on.is_none() {
                                        @if may_work_on_topic(&actor, task.unit_id) {
                                            (step_form(&csrf, tp, "report", "inline", html! {
                                                input type="hidden" name="task" value=(task.no);
                                                label { (if zh { "进展" } else { "Progress" }) textarea name="text" rows="2" required {} }
                                                label.check { input type="checkbox" name="done"; (if zh { " 已完成" } else { " done" }) }
                                            }, if zh { "报送进展" } else { "Report" }))
                                        }
                                        @if supervisor && view.supervision_level < 3 {
                                            (step_form(&csrf, tp, "supervise", "inline", html! {
                                                input type="hidden" name="task" value=(task.no);
                                                label { (if zh { "督办意见" } else { "Note" }) input type="text" name="note" required; }
                                            }, if zh { "督办" } else { "Supervise" }))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if !tp.policies.is_empty() {
            div.card {
                h2 { (if zh { "政策" } else { "Policies" }) }
                table.policies {
                    thead { tr {
                        th { "#" }
                        th { (if zh { "政策" } else { "Policy" }) }
                        th { (if zh { "起草单位" } else { "Unit" }) }
                        th { (if zh { "文号" } else { "Reference" }) }
                        th { (if zh { "出台日期" } else { "Issued" }) }
                    } }
                    tbody {
                        @for p in &tp.policies {
                            tr {
                                td { (p.no) }
                                td { (p.title) }
                                td { (unit_name(r, p.unit_id)) }
                                td { (p.reference.clone().unwrap_or_default()) }
                                td {
                                    @if let Some(on) = p.issued_on { (on) }
                                    @else if adopted && (leader || may_work_on_topic(&actor, p.unit_id)) {
                                        (step_form(&csrf, tp, "issue", "inline", html! {
                                            input type="hidden" name="policy" value=(p.no);
                                            input type="text" name="reference" placeholder=(if zh { "文号" } else { "reference" }) aria-label="reference" required;
                                            input type="date" name="issued_on" value=(today) aria-label="issued on" required;
                                        }, if zh { "登记出台" } else { "Record issued" }))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if adopted && leader {
            div.card {
                h2 { (if zh { "结题" } else { "Close" }) }
                (step_form(&csrf, tp, "close", "close", html! {
                    label { (if zh { "结题总结" } else { "Summary" }) textarea name="summary" rows="3" required {} }
                }, if zh { "结题" } else { "Close the topic" }))
            }
        }
        div.card {
            h2 { (if zh { "历史" } else { "History" }) }
            ol.history {
                @for h in &d.history {
                    li {
                        (local_time(h.at)) " · "
                        (if zh { "用户 " } else { "user " }) (h.user_id) " · v" (h.version)
                        @if let Some(after) = &h.after { " · " (state_label(lang, after.state)) }
                    }
                }
            }
        }
    }
}

/// The open tasks of monthly topics (a unit's on its desk, every unit's on the board);
/// nothing when there are none.
pub fn open_tasks_section(lang: Lang, tasks: &[OpenTask], r: &Reference) -> Markup {
    let zh = lang == Lang::Zh;
    html! {
        @if !tasks.is_empty() {
            section.desk #topic-tasks {
                h2 { (if zh { "每月一题任务" } else { "Monthly topics' tasks" }) " " span.count { (tasks.len()) } }
                table.list.tasks {
                    thead { tr {
                        th { (if zh { "每月一题" } else { "Topic" }) }
                        th { (if zh { "任务" } else { "Task" }) }
                        th { (if zh { "责任单位" } else { "Unit" }) }
                        th { (if zh { "时限" } else { "Due" }) }
                        th { (if zh { "状态" } else { "Status" }) }
                        th { (if zh { "督办" } else { "Supervision" }) }
                    } }
                    tbody {
                        @for task in tasks {
                            tr {
                                td { a href=(format!("/topics/{}", task.topic_id)) { (task.topic_title) } }
                                td { (task.no) ". " (task.title) }
                                td { (unit_name(r, task.unit_id)) }
                                td { (task.due) }
                                td { span class=(format!("tag {}", task.status.as_str())) { (status_label(lang, task.status)) } }
                                td { @if task.supervision_level > 0 { span.tag.supervision { (supervision_label(lang, task.supervision_level)) } } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The link that proposes a topic from a hot issue (its category group, place and words).
pub fn from_hot_issue_link(h: &mashangban_app::warnings::LiveHotIssue) -> Option<String> {
    let category = h.category_code.as_deref()?;
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let mut l = format!(
        "/topics?category={category}&title={}&source={}",
        enc(&h.description),
        enc(&format!(
            "热点问题：{}（{} 件，{} 人）",
            h.description, h.requests, h.people
        ))
    );
    if let Some(d) = &h.division_code {
        l.push_str(&format!("&division={d}"));
    }
    l.push_str("#propose");
    Some(l)
}
