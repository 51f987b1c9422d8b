//! Administration (系统管理), for administrators only: users (create, disable, reset
//! password, change role and unit), units (list, search, add) and the dispatch catalogue's
//! categories (tree, add, rename, default tier, retire). Bad input comes back beside its
//! field with what was typed.

use super::actions::{unit_options_with_communities as unit_options, unit_search};
use super::i18n::{Lang, t};
use super::{
    Session, forbidden_page, form_session, html_response, local_time, page, reference, session,
    session_csrf, to_login,
};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use mashangban_app::admin::{CategoryInput, UnitInput, UserChange};
use mashangban_app::auth::UserInput;
use mashangban_app::{App, AppError};
use mashangban_domain::{Permission, Role, TIERS, UnitKind};
use maud::{Markup, html};
use std::collections::HashMap;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/admin", get(|| async { Redirect::to("/admin/users") }))
        .route("/admin/users", get(users_page).post(create_user))
        .route("/admin/users/{id}", get(user_page).post(change_user))
        .route("/admin/units", get(units_page).post(create_unit))
        .route(
            "/admin/categories",
            get(categories_page).post(save_category),
        )
        .route("/admin/calendar", get(calendar_page).post(change_calendar))
        .route("/admin/policy", get(policy_page).post(change_policy))
        .route("/admin/units/{id}/contact", post(change_contact))
}

/// What was typed and what was wrong with it, by field.
#[derive(Default)]
pub(super) struct Typed {
    pub(super) values: HashMap<String, String>,
    pub(super) errors: HashMap<String, String>,
}

impl Typed {
    pub(super) fn of(form: &[(String, String)]) -> Typed {
        Typed {
            values: form
                .iter()
                .filter(|(k, _)| !k.starts_with('_'))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            errors: HashMap::new(),
        }
    }
    pub(super) fn v(&self, k: &str) -> &str {
        self.values.get(k).map(String::as_str).unwrap_or("")
    }
    pub(super) fn opt(&self, k: &str) -> Option<String> {
        Some(self.v(k).trim().to_string()).filter(|v| !v.is_empty())
    }
    pub(super) fn err(&self, k: &str) -> Markup {
        html! { @if let Some(e) = self.errors.get(k) { span.error role="alert" { (e) } } }
    }
    /// Records an application error against its field (or the whole form).
    pub(super) fn refuse(mut self, lang: Lang, e: AppError) -> Typed {
        let (field, message) = match e {
            AppError::Invalid { field, message } => (field, message),
            AppError::Internal(m) => {
                tracing::error!(error = %m, "administration");
                ("form".into(), "internal error; it has been logged".into())
            }
            other => ("form".into(), other.to_string()),
        };
        let field = match field.as_str() {
            "unit" => "unit_id".to_string(),
            // Enabling and disabling are buttons, not fields: said above the form.
            "active" => "form".to_string(),
            _ => field,
        };
        self.errors
            .insert(field, super::i18n::message(lang, &message));
        self
    }
    pub(super) fn form_error(&self) -> Markup {
        html! { @if let Some(e) = self.errors.get("form") { p.error role="alert" { (e) } } }
    }
}

fn tabs(lang: Lang, current: &str) -> Markup {
    let zh = lang == Lang::Zh;
    html! {
        nav.tabs {
            @for (href, zh_label, en_label) in [("/admin/users", "用户", "Users"), ("/admin/units", "单位", "Units"), ("/admin/categories", "诉求分类", "Categories"), ("/admin/channels", "渠道", "Channels"), ("/admin/catalogue", "派单目录", "Dispatch catalogue"), ("/admin/gazetteer", "地名库", "Gazetteer"), ("/admin/calendar", "工作日历", "Calendar"), ("/admin/policy", "时限与督办规则", "Deadlines and supervision"), ("/admin/sms", "群众短信", "SMS to citizens"), ("/admin/retention", "个人信息保存", "Keeping personal data")] {
                a href=(href) class=[(href == current).then_some("on")] { (if zh { zh_label } else { en_label }) }
            }
        }
    }
}

fn role_label(lang: Lang, r: Role) -> &'static str {
    if lang == Lang::Zh {
        r.label_zh()
    } else {
        r.as_str()
    }
}

pub(super) fn admin_page(s: &Session, current: &str, status: StatusCode, body: Markup) -> Response {
    let body = html! { (tabs(s.lang, current)) (body) };
    html_response(status, page(s.lang, Some(s), "/admin", body))
}

/// The session of a user with `permission`, or the page to answer with instead.
pub(super) async fn admin_session(
    app: &App,
    headers: &HeaderMap,
    permission: Permission,
) -> Result<Session, Response> {
    let Some(s) = session(app, headers).await else {
        return Err(to_login());
    };
    if !s.may(permission) {
        return Err(forbidden_page(s.lang));
    }
    Ok(s)
}

// ---- users ----

async fn render_users(app: &App, s: &Session, typed: &Typed, status: StatusCode) -> Response {
    let lang = s.lang;
    let zh = lang == Lang::Zh;
    let users = match app.users(&s.actor()).await {
        Ok(u) => u,
        Err(e) => {
            tracing::error!(error = %e, "list users");
            Vec::new()
        }
    };
    let r = reference(app, &s.actor()).await;
    let units: Vec<_> = r.units.values().cloned().collect();
    let now = chrono::Utc::now();
    let body = html! {
        h1 { (if zh { "用户管理" } else { "Users" }) }
        table.list.admin {
            thead { tr {
                th { (t(lang, "username")) } th { (if zh { "姓名" } else { "Name" }) } th { (t(lang, "role")) }
                th { (t(lang, "unit")) } th { (t(lang, "state")) } th {}
            } }
            tbody {
                @for u in &users {
                    tr {
                        td { (u.username) } td { (u.display_name) } td { (role_label(lang, u.role)) }
                        td { (u.unit_id.and_then(|id| r.unit_name(id)).unwrap_or("")) }
                        td {
                            @if !u.active { span.tag { (if zh { "已停用" } else { "disabled" }) } }
                            @else if u.locked_until.is_some_and(|l| l > now) { span.tag { (if zh { "锁定至 " } else { "locked until " }) (local_time(u.locked_until.unwrap_or(now))) } }
                            @else { (if zh { "启用" } else { "active" }) }
                        }
                        td { a href=(format!("/admin/users/{}", u.id)) { (if zh { "编辑" } else { "Edit" }) } }
                    }
                }
            }
        }
        div.card {
            h2 { (if zh { "新建用户" } else { "New user" }) }
            (typed.form_error())
            form.admin method="post" action="/admin/users" {
                input type="hidden" name="_csrf" value=(session_csrf(&s.token));
                div.field { label for="username" { (t(lang, "username")) } input #username name="username" value=(typed.v("username")) autocomplete="off"; (typed.err("username")) }
                div.field { label for="display_name" { (if zh { "姓名" } else { "Name" }) } input #display_name name="display_name" value=(typed.v("display_name")); (typed.err("display_name")) }
                div.field {
                    label for="role" { (t(lang, "role")) }
                    select #role name="role" { @for r in Role::ALL { option value=(r.as_str()) selected[typed.v("role") == r.as_str()] { (role_label(lang, *r)) } } }
                    (typed.err("role"))
                }
                div.field {
                    label for="unit_id" { (if zh { "所属单位（仅承办人员；网格员选所在社区）" } else { "Unit (unit handlers; a grid worker's community)" }) }
                    (unit_search(lang, "unit_id"))
                    select #unit_id name="unit_id" { option value="" { "—" } (unit_options(&units, &[typed.v("unit_id")])) }
                    (typed.err("unit_id"))
                }
                div.field { label for="password" { (t(lang, "password")) } input #password name="password" type="password" autocomplete="new-password"; (typed.err("password")) }
                button.primary type="submit" { (if zh { "创建" } else { "Create" }) }
            }
        }
    };
    admin_page(s, "/admin/users", status, body)
}

async fn users_page(State(app): State<App>, headers: HeaderMap) -> Response {
    match admin_session(&app, &headers, Permission::ManageUsers).await {
        Ok(s) => render_users(&app, &s, &Typed::default(), StatusCode::OK).await,
        Err(r) => r,
    }
}

fn parse_id(typed: &Typed, field: &str) -> Result<Option<i64>, AppError> {
    match typed.opt(field) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| AppError::invalid(field, format!("`{v}` is not an id"))),
    }
}

async fn create_user(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match form_session(&app, &headers, &form, Permission::ManageUsers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let typed = Typed::of(&form);
    let result = async {
        let input = (|| {
            Ok::<_, AppError>(UserInput {
                username: typed.v("username").trim().to_string(),
                display_name: typed.opt("display_name"),
                role: typed
                    .v("role")
                    .parse()
                    .map_err(|e: mashangban_domain::UnknownValue| {
                        AppError::invalid("role", e.to_string())
                    })?,
                unit_id: parse_id(&typed, "unit_id")?,
                password: Some(typed.v("password").to_string()),
            })
        })()?;
        app.add_user(&s.actor(), input).await
    }
    .await;
    match result {
        Ok(u) => Redirect::to(&format!("/admin/users/{}?created=1", u.id)).into_response(),
        Err(e) => {
            let status = status_of(&e);
            render_users(&app, &s, &typed.refuse(s.lang, e), status).await
        }
    }
}

pub(super) fn status_of(e: &AppError) -> StatusCode {
    match e {
        AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Conflict { .. } => StatusCode::CONFLICT,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[derive(serde::Deserialize, Default)]
struct Notice {
    created: Option<String>,
    done: Option<String>,
}

async fn render_user(
    app: &App,
    s: &Session,
    id: &str,
    typed: &Typed,
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let lang = s.lang;
    let zh = lang == Lang::Zh;
    let user = match id.parse::<i64>() {
        Ok(id) => app.user(&s.actor(), id).await.ok(),
        Err(_) => None,
    };
    let Some(u) = user else {
        return admin_page(
            s,
            "/admin/users",
            StatusCode::NOT_FOUND,
            html! { p.error { (if zh { "用户不存在" } else { "No such user" }) } },
        );
    };
    let r = reference(app, &s.actor()).await;
    let units: Vec<_> = r.units.values().cloned().collect();
    let csrf = session_csrf(&s.token);
    let action = format!("/admin/users/{}", u.id);
    let myself = u.id == s.user.id;
    let role_now = typed
        .opt("role")
        .unwrap_or_else(|| u.role.as_str().to_string());
    let unit_now = typed
        .opt("unit_id")
        .or_else(|| u.unit_id.map(|x| x.to_string()))
        .unwrap_or_default();
    let body = html! {
        h1 { (u.display_name) " (" (u.username) ")" }
        @if let Some(n) = notice { p.notice role="status" { (n) } }
        (typed.form_error())
        div.card {
            dl.fields {
                dt { (t(lang, "role")) } dd { (role_label(lang, u.role)) }
                dt { (t(lang, "unit")) } dd { (u.unit_id.and_then(|id| r.unit_name(id)).unwrap_or(t(lang, "none"))) }
                dt { (t(lang, "state")) } dd { (if u.active { if zh { "启用" } else { "active" } } else if zh { "已停用" } else { "disabled" }) }
                dt { (t(lang, "created")) } dd { (local_time(u.created_at)) }
            }
        }
        div.card {
            h2 { (if zh { "角色与单位" } else { "Role and unit" }) }
            form.admin method="post" action=(action) {
                input type="hidden" name="_csrf" value=(csrf);
                input type="hidden" name="_do" value="role";
                div.field {
                    label for="role" { (t(lang, "role")) }
                    select #role name="role" { @for r in Role::ALL { option value=(r.as_str()) selected[role_now == r.as_str()] { (role_label(lang, *r)) } } }
                    (typed.err("role"))
                }
                div.field {
                    label for="unit_id" { (if zh { "所属单位（仅承办人员；网格员选所在社区）" } else { "Unit (unit handlers; a grid worker's community)" }) }
                    (unit_search(lang, "unit_id"))
                    select #unit_id name="unit_id" { option value="" { "—" } (unit_options(&units, &[unit_now.as_str()])) }
                    (typed.err("unit_id"))
                }
                button.primary type="submit" disabled[myself] { (if zh { "保存角色" } else { "Save role" }) }
                @if myself { span.muted { " " (if zh { "不能修改自己的角色" } else { "You cannot change your own role" }) } }
            }
        }
        div.card {
            h2 { (if zh { "重置密码" } else { "Reset password" }) }
            form.admin method="post" action=(action) {
                input type="hidden" name="_csrf" value=(csrf);
                input type="hidden" name="_do" value="password";
                div.field { label for="password" { (if zh { "新密码（至少8位）" } else { "New password (8 or more)" }) } input #password name="password" type="password" autocomplete="new-password"; (typed.err("password")) }
                button.primary type="submit" { (if zh { "重置密码" } else { "Reset password" }) }
            }
        }
        div.card {
            h2 { (if zh { "启用 / 停用" } else { "Enable / disable" }) }
            form.admin method="post" action=(action) {
                input type="hidden" name="_csrf" value=(csrf);
                input type="hidden" name="_do" value=(if u.active { "disable" } else { "enable" });
                @if u.active {
                    button type="submit" disabled[myself] { (if zh { "停用该用户（立即退出所有会话）" } else { "Disable (ends all sessions at once)" }) }
                } @else {
                    button type="submit" { (if zh { "重新启用" } else { "Enable" }) }
                }
            }
        }
        p { a href="/admin/users" { (if zh { "← 返回用户列表" } else { "← All users" }) } }
    };
    admin_page(s, "/admin/users", status, body)
}

async fn user_page(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(n): Query<Notice>,
) -> Response {
    let s = match admin_session(&app, &headers, Permission::ManageUsers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let zh = s.lang == Lang::Zh;
    let notice = match (n.created.is_some(), n.done.as_deref()) {
        (true, _) => Some(if zh {
            "用户已创建"
        } else {
            "User created"
        }),
        (_, Some(_)) => Some(if zh { "已保存" } else { "Saved" }),
        _ => None,
    };
    render_user(&app, &s, &id, &Typed::default(), notice, StatusCode::OK).await
}

async fn change_user(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match form_session(&app, &headers, &form, Permission::ManageUsers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let typed = Typed::of(&form);
    let Ok(user_id) = id.parse::<i64>() else {
        return render_user(&app, &s, &id, &typed, None, StatusCode::NOT_FOUND).await;
    };
    let todo = form
        .iter()
        .find(|(k, _)| k == "_do")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let result = async {
        let change = (|| {
            let change = match todo {
                "disable" => UserChange {
                    active: Some(false),
                    ..Default::default()
                },
                "enable" => UserChange {
                    active: Some(true),
                    ..Default::default()
                },
                "password" => UserChange {
                    password: Some(typed.v("password").to_string()),
                    ..Default::default()
                },
                "role" => UserChange {
                    role: Some(typed.v("role").parse().map_err(
                        |e: mashangban_domain::UnknownValue| {
                            AppError::invalid("role", e.to_string())
                        },
                    )?),
                    unit_id: parse_id(&typed, "unit_id")?,
                    ..Default::default()
                },
                other => {
                    return Err(AppError::invalid(
                        "form",
                        format!("unknown change `{other}`"),
                    ));
                }
            };
            Ok(change)
        })()?;
        app.change_user(&s.actor(), user_id, change).await
    }
    .await;
    match result {
        Ok(_) => Redirect::to(&format!("/admin/users/{user_id}?done={todo}")).into_response(),
        Err(e) => {
            let status = status_of(&e);
            render_user(&app, &s, &id, &typed.refuse(s.lang, e), None, status).await
        }
    }
}

// ---- units ----

#[derive(serde::Deserialize, Default)]
struct UnitFilter {
    kind: Option<String>,
    q: Option<String>,
    created: Option<String>,
}

const UNIT_ROWS: usize = 300;

async fn render_units(
    app: &App,
    s: &Session,
    f: &UnitFilter,
    typed: &Typed,
    status: StatusCode,
) -> Response {
    let lang = s.lang;
    let zh = lang == Lang::Zh;
    let r = reference(app, &s.actor()).await;
    let contacts = app.unit_contacts(&s.actor()).await.unwrap_or_else(|e| {
        tracing::error!(error = %e, "unit contacts");
        Default::default()
    });
    let kind: Option<UnitKind> = f.kind.as_deref().and_then(|k| k.parse().ok());
    let q = f.q.as_deref().unwrap_or("").trim().to_string();
    let matching: Vec<_> = r
        .units
        .values()
        .filter(|u| kind.is_none_or(|k| u.kind == k))
        .filter(|u| q.is_empty() || u.name.contains(&q) || u.code.contains(&q))
        .collect();
    let kind_label = |k: UnitKind| if zh { k.label_zh() } else { k.as_str() };
    let body = html! {
        h1 { (if zh { "单位管理" } else { "Units" }) " " span.count { (matching.len()) } }
        @if let Some(c) = &f.created { p.notice role="status" { (if zh { "已添加单位 " } else { "Unit added: " }) (c) } }
        form.filters method="get" action="/admin/units" {
            div {
                label for="kind" { (if zh { "类型" } else { "Kind" }) }
                select #kind name="kind" {
                    option value="" { (t(lang, "all")) }
                    @for k in UnitKind::ALL { option value=(k.as_str()) selected[kind == Some(*k)] { (kind_label(*k)) } }
                }
            }
            div { label for="q" { (if zh { "名称或编码" } else { "Name or code" }) } input #q name="q" value=(q); }
            button.primary type="submit" { (t(lang, "filter")) }
        }
        table.list {
            thead { tr { th { (if zh { "编码" } else { "Code" }) } th { (if zh { "名称" } else { "Name" }) } th { (if zh { "类型" } else { "Kind" }) } th { (if zh { "上级单位" } else { "Parent" }) } th { (t(lang, "division")) } th { (if zh { "短信联络人" } else { "SMS liaison" }) } } }
            tbody {
                @for u in matching.iter().take(UNIT_ROWS) {
                    tr {
                        td { (u.code) } td { (u.name) @if !u.active { " " span.tag { (if zh { "已停用" } else { "inactive" }) } } }
                        td { (kind_label(u.kind)) }
                        td { (u.parent_id.and_then(|p| r.unit_name(p)).unwrap_or("")) }
                        td { (u.division_code.as_deref().and_then(|d| r.division_path(d)).unwrap_or_default()) }
                        td {
                            @let c = contacts.get(&u.id);
                            form.inline.contact method="post" action=(format!("/admin/units/{}/contact", u.id)) {
                                input type="hidden" name="_csrf" value=(session_csrf(&s.token));
                                input name="liaison" size="6" placeholder=(if zh { "姓名" } else { "name" }) aria-label=(if zh { "联络人" } else { "Liaison" }) value=(c.map(|c| c.liaison.as_str()).unwrap_or(""));
                                input name="phone" size="12" inputmode="tel" placeholder=(if zh { "手机号" } else { "mobile" }) aria-label=(if zh { "手机号" } else { "Mobile" }) value=(c.map(|c| c.phone.as_str()).unwrap_or(""));
                                button type="submit" { (if zh { "保存" } else { "Save" }) }
                            }
                            @if typed.v("contact_unit") == u.id.to_string() { (typed.err("phone")) (typed.err("liaison")) }
                        }
                    }
                }
            }
        }
        @if matching.len() > UNIT_ROWS { p.muted { (if zh { "仅显示前300个，请缩小条件" } else { "First 300 shown; narrow the filter" }) } }
        div.card {
            h2 { (if zh { "添加单位" } else { "Add a unit" }) }
            (typed.form_error())
            form.admin method="post" action="/admin/units" {
                input type="hidden" name="_csrf" value=(session_csrf(&s.token));
                div.field { label for="code" { (if zh { "编码" } else { "Code" }) } input #code name="code" value=(typed.v("code")) size="16"; (typed.err("code")) }
                div.field { label for="name" { (if zh { "名称" } else { "Name" }) } input #name name="name" value=(typed.v("name")) size="40"; (typed.err("name")) }
                div.field {
                    label for="unit-kind" { (if zh { "类型" } else { "Kind" }) }
                    select #unit-kind name="kind" { @for k in UnitKind::ALL { option value=(k.as_str()) selected[typed.v("kind") == k.as_str()] { (kind_label(*k)) } } }
                    (typed.err("kind"))
                }
                div.field {
                    label for="parent_id" { (if zh { "上级单位（可选）" } else { "Parent unit (optional)" }) }
                    (unit_search(lang, "parent_id"))
                    select #parent_id name="parent_id" { option value="" { "—" } (unit_options(&r.units.values().cloned().collect::<Vec<_>>(), &[typed.v("parent_id")])) }
                    (typed.err("parent_id"))
                }
                div.field { label for="division_code" { (if zh { "行政区划代码（可选）" } else { "Division code (optional)" }) } input #division_code name="division_code" value=(typed.v("division_code")) size="14"; (typed.err("division_code")) }
                button.primary type="submit" { (if zh { "添加" } else { "Add" }) }
            }
        }
    };
    admin_page(s, "/admin/units", status, body)
}

async fn units_page(
    State(app): State<App>,
    headers: HeaderMap,
    Query(f): Query<UnitFilter>,
) -> Response {
    match admin_session(&app, &headers, Permission::ManageReference).await {
        Ok(s) => render_units(&app, &s, &f, &Typed::default(), StatusCode::OK).await,
        Err(r) => r,
    }
}

async fn create_unit(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match form_session(&app, &headers, &form, Permission::ManageReference).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let typed = Typed::of(&form);
    let result = async {
        let input = (|| {
            Ok::<_, AppError>(UnitInput {
                code: typed.v("code").trim().to_string(),
                name: typed.v("name").to_string(),
                kind: typed
                    .v("kind")
                    .parse()
                    .map_err(|e: mashangban_domain::UnknownValue| {
                        AppError::invalid("kind", e.to_string())
                    })?,
                parent_id: parse_id(&typed, "parent_id")?,
                division_code: typed.opt("division_code"),
            })
        })()?;
        app.add_unit(&s.actor(), input).await
    }
    .await;
    match result {
        Ok(u) => {
            Redirect::to(&format!("/admin/units?q={}&created={}", u.code, u.code)).into_response()
        }
        Err(e) => {
            let status = status_of(&e);
            render_units(
                &app,
                &s,
                &UnitFilter::default(),
                &typed.refuse(s.lang, e),
                status,
            )
            .await
        }
    }
}

// ---- categories ----

#[derive(serde::Deserialize, Default)]
struct CategoryQuery {
    code: Option<String>,
    saved: Option<String>,
}

async fn render_categories(
    app: &App,
    s: &Session,
    q: &CategoryQuery,
    typed: &Typed,
    status: StatusCode,
) -> Response {
    let lang = s.lang;
    let zh = lang == Lang::Zh;
    let r = reference(app, &s.actor()).await;
    let mut cats: Vec<_> = r.categories.values().collect();
    cats.sort_by(|a, b| a.code.cmp(&b.code));
    // The form starts from what was typed, else the category being edited.
    let editing = q.code.as_deref().and_then(|c| r.categories.get(c));
    let v = |k: &str| -> String {
        if !typed.values.is_empty() {
            return typed.v(k).to_string();
        }
        match (k, editing) {
            ("code", Some(c)) => c.code.clone(),
            ("name", Some(c)) => c.name.clone(),
            ("default_tier", Some(c)) => c.default_tier.map(|d| d.to_string()).unwrap_or_default(),
            ("active", Some(c)) => {
                if c.active {
                    "on".into()
                } else {
                    String::new()
                }
            }
            ("active", None) => "on".into(),
            ("description", Some(c)) => c.description.clone(),
            ("keywords", Some(c)) => c.keywords.join(" "),
            _ => String::new(),
        }
    };
    let body = html! {
        h1 { (if zh { "诉求分类（派单目录）" } else { "Categories (dispatch catalogue)" }) " " span.count { (cats.len()) } }
        @if let Some(c) = &q.saved { p.notice role="status" { (if zh { "已保存分类 " } else { "Saved category " }) (c) } }
        div.card {
            h2 { (if editing.is_some() { if zh { "修改分类" } else { "Change a category" } } else if zh { "新增或修改分类" } else { "Add or change a category" }) }
            (typed.form_error())
            form.admin method="post" action="/admin/categories" {
                input type="hidden" name="_csrf" value=(session_csrf(&s.token));
                div.field { label for="code" { (if zh { "编码（每级两位，如 01、0104、010403）" } else { "Code (two digits a level: 01, 0104, 010403)" }) } input #code name="code" value=(v("code")) size="8"; (typed.err("code")) }
                div.field { label for="name" { (if zh { "名称" } else { "Name" }) } input #name name="name" value=(v("name")) size="30"; (typed.err("name")) }
                div.field {
                    label for="default_tier" { (if zh { "默认处置时限" } else { "Default tier" }) }
                    select #default_tier name="default_tier" {
                        option value="" { "—" }
                        @for d in TIERS { option value=(d) selected[v("default_tier") == d.to_string()] { (d) (if zh { "天" } else { " days" }) } }
                    }
                    (typed.err("default_tier"))
                }
                div.field { label for="description" { (if zh { "说明（这类诉求包括什么）" } else { "Description (what the category covers)" }) } textarea #description name="description" rows="2" cols="50" maxlength="300" { (v("description")) } (typed.err("description")) }
                div.field { label for="keywords" { (if zh { "关键词（群众常用说法，空格或顿号分隔；智能分类据此学习）" } else { "Keywords (words citizens use, separated by spaces; the classifier learns them)" }) } input #keywords name="keywords" value=(v("keywords")) size="60"; (typed.err("keywords")) }
                div.field { label for="active" { (if zh { "启用" } else { "Active" }) } input #active type="checkbox" name="active" checked[!v("active").is_empty()]; }
                button.primary type="submit" { (if zh { "保存" } else { "Save" }) }
            }
        }
        table.list {
            thead { tr { th { (if zh { "编码" } else { "Code" }) } th { (if zh { "名称" } else { "Name" }) } th { (if zh { "默认时限" } else { "Default tier" }) } th { (if zh { "关键词" } else { "Keywords" }) } th {} } }
            tbody {
                @for c in &cats {
                    tr class=[(!c.active).then_some("inactive")] {
                        td { (c.code) }
                        td { span class=(format!("level-{}", c.level)) { (c.name) } @if !c.active { " " span.tag { (if zh { "已停用" } else { "inactive" }) } } }
                        td { @if let Some(d) = c.default_tier { (d) (if zh { "天" } else { " days" }) } }
                        td.muted { (c.keywords.join(" ")) }
                        td { a href=(format!("/admin/categories?code={}", c.code)) { (if zh { "修改" } else { "Change" }) } }
                    }
                }
            }
        }
    };
    admin_page(s, "/admin/categories", status, body)
}

async fn categories_page(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<CategoryQuery>,
) -> Response {
    match admin_session(&app, &headers, Permission::ManageReference).await {
        Ok(s) => render_categories(&app, &s, &q, &Typed::default(), StatusCode::OK).await,
        Err(r) => r,
    }
}

async fn save_category(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match form_session(&app, &headers, &form, Permission::ManageReference).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let typed = Typed::of(&form);
    let result = async {
        let input = (|| {
            Ok::<_, AppError>(CategoryInput {
                code: typed.v("code").trim().to_string(),
                name: typed.v("name").to_string(),
                default_tier: match typed.opt("default_tier") {
                    None => None,
                    Some(v) => Some(v.parse().map_err(|_| {
                        AppError::invalid("default_tier", format!("`{v}` is not a number"))
                    })?),
                },
                active: Some(!typed.v("active").is_empty()),
                description: Some(typed.v("description").to_string()),
                keywords: Some(
                    typed
                        .v("keywords")
                        .split(|c: char| {
                            c.is_whitespace() || matches!(c, '、' | '，' | ',' | '；' | ';')
                        })
                        .map(str::to_string)
                        .collect(),
                ),
            })
        })()?;
        app.save_category(&s.actor(), input).await
    }
    .await;
    match result {
        Ok(c) => Redirect::to(&format!("/admin/categories?saved={}", c.code)).into_response(),
        Err(e) => {
            let status = status_of(&e);
            render_categories(
                &app,
                &s,
                &CategoryQuery::default(),
                &typed.refuse(s.lang, e),
                status,
            )
            .await
        }
    }
}

// ---- calendar ----

#[derive(serde::Deserialize, Default)]
struct CalendarQuery {
    year: Option<i32>,
    saved: Option<String>,
}

async fn render_calendar(
    app: &App,
    s: &Session,
    year: i32,
    typed: &Typed,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    use mashangban_domain::calendar::DayKind;
    let lang = s.lang;
    let zh = lang == Lang::Zh;
    let r = reference(app, &s.actor()).await;
    let known = r.calendar.knows_year(year);
    let days = r.calendar.days_of(year);
    let csrf = session_csrf(&s.token);
    let p = &r.policy;
    let body = html! {
        h1 { (if zh { "工作日历" } else { "Working-day calendar" }) " " (year) }
        @if let Some(n) = &notice { p.notice role="status" { (n) } }
        (typed.form_error())
        p.year-nav {
            a href=(format!("/admin/calendar?year={}", year - 1)) { "← " (year - 1) } " · "
            @if known {
                strong { (if zh { "本年度放假安排已录入" } else { "This year's schedule is known" }) }
            } @else {
                strong.error { (if zh { "本年度放假安排未录入：时限按双休日推算并标注" } else { "No schedule for this year: deadlines assume plain weekends and are flagged" }) }
            }
            " · " a href=(format!("/admin/calendar?year={}", year + 1)) { (year + 1) " →" }
        }
        div.card {
            h2 { (if zh { "新增或修改一天" } else { "Add or change a day" }) }
            form.admin method="post" action="/admin/calendar" {
                input type="hidden" name="_csrf" value=(csrf);
                input type="hidden" name="_do" value="set";
                div.field { label for="date" { (if zh { "日期" } else { "Date" }) } input #date type="date" name="date" value=(typed.v("date")); (typed.err("date")) }
                div.field {
                    label for="kind" { (if zh { "类型" } else { "Kind" }) }
                    select #kind name="kind" {
                        option value="holiday" selected[typed.v("kind") == "holiday"] { (if zh { "放假" } else { "holiday" }) }
                        option value="workday" selected[typed.v("kind") == "workday"] { (if zh { "调休上班" } else { "make-up workday" }) }
                    }
                }
                div.field { label for="name" { (if zh { "节日" } else { "Festival" }) } input #name name="name" value=(typed.v("name")) size="12"; (typed.err("name")) }
                button.primary type="submit" { (if zh { "保存" } else { "Save" }) }
            }
            form.admin method="post" action="/admin/calendar" {
                input type="hidden" name="_csrf" value=(csrf);
                input type="hidden" name="_do" value=(if known { "forget_year" } else { "know_year" });
                input type="hidden" name="year" value=(year);
                button type="submit" { (if known { if zh { "标记本年度安排为未发布" } else { "Mark this year unpublished" } } else if zh { "标记本年度安排已完整录入" } else { "Mark this year's schedule complete" }) }
            }
        }
        table.list {
            thead { tr { th { (if zh { "日期" } else { "Date" }) } th { (if zh { "星期" } else { "Weekday" }) } th { (if zh { "类型" } else { "Kind" }) } th { (if zh { "节日" } else { "Festival" }) } th {} } }
            tbody {
                @for d in &days {
                    tr {
                        td { (d.date) } td { (d.date.format("%a")) }
                        td { (match (d.kind, zh) { (DayKind::Holiday, true) => "放假", (DayKind::Workday, true) => "调休上班", (DayKind::Holiday, false) => "holiday", (DayKind::Workday, false) => "make-up workday" }) }
                        td { (d.name) }
                        td {
                            form method="post" action="/admin/calendar" {
                                input type="hidden" name="_csrf" value=(csrf);
                                input type="hidden" name="_do" value="delete";
                                input type="hidden" name="date" value=(d.date);
                                button type="submit" { (if zh { "删除" } else { "Remove" }) }
                            }
                        }
                    }
                }
            }
        }
        @if days.is_empty() { p.muted { (if zh { "本年度没有例外日期" } else { "No exceptions this year" }) } }
        div.card {
            h2 { (if zh { "时限规则" } else { "Deadline policy" }) }
            dl.fields {
                dt { (if zh { "工作时间" } else { "Working hours" }) } dd { @if p.working_hours.0.is_empty() { (if zh { "全天" } else { "the whole day" }) } @else { (p.working_hours.to_string()) } }
                dt { (if zh { "签收时限" } else { "Sign within" }) } dd { (p.sign_within_hours) (if zh { "个工作小时" } else { " working hours" }) }
                dt { (if zh { "首次联系" } else { "First contact within" }) } dd { (p.contact_within_days) (if zh { "个工作日" } else { " working days" }) }
                dt { (if zh { "办理时限计法" } else { "Handling days" }) } dd { (match (p.handling_days, zh) { (mashangban_domain::deadlines::DayCount::Working, true) => "工作日", (mashangban_domain::deadlines::DayCount::Calendar, true) => "自然日", (mashangban_domain::deadlines::DayCount::Working, false) => "working days", (mashangban_domain::deadlines::DayCount::Calendar, false) => "calendar days" }) }
                dt { (if zh { "回访时限" } else { "Callback within" }) } dd { (p.callback_within_days) (if zh { "个工作日" } else { " working days" }) }
                dt { (if zh { "预警点" } else { "Warning at" }) } dd { (p.warn_at_percent) "%" }
                dt { (if zh { "延期上限" } else { "Most extensions" }) } dd { (p.max_extensions) }
                dt { (if zh { "延期申请截止" } else { "Extension requests until" }) } dd { (p.extension_cutoff.map(|c| c.format("%H:%M").to_string()).unwrap_or_else(|| if zh { "不限".into() } else { "any time".into() })) }
            }
            p { a href="/admin/policy" { (if zh { "修改时限与督办规则" } else { "Change the deadline and supervision rules" }) } }
        }
    };
    admin_page(s, "/admin/calendar", status, body)
}

fn this_year() -> i32 {
    chrono::Datelike::year(
        &chrono::Utc::now().with_timezone(&mashangban_domain::intake::china_offset()),
    )
}

async fn calendar_page(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<CalendarQuery>,
) -> Response {
    let s = match admin_session(&app, &headers, Permission::ManageReference).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let year = q
        .year
        .filter(|y| (2000..=2100).contains(y))
        .unwrap_or_else(this_year);
    let notice = q.saved.map(|d| {
        if s.lang == Lang::Zh {
            format!("已保存：{d}")
        } else {
            format!("Saved: {d}")
        }
    });
    render_calendar(&app, &s, year, &Typed::default(), notice, StatusCode::OK).await
}

async fn change_calendar(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    use mashangban_domain::calendar::DayKind;
    let s = match form_session(&app, &headers, &form, Permission::ManageReference).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let typed = Typed::of(&form);
    let todo = form
        .iter()
        .find(|(k, _)| k == "_do")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let date = || {
        chrono::NaiveDate::parse_from_str(typed.v("date").trim(), "%Y-%m-%d").map_err(|_| {
            AppError::invalid(
                "date",
                format!("`{}` is not a date (YYYY-MM-DD)", typed.v("date")),
            )
        })
    };
    let year_field = || {
        typed
            .v("year")
            .parse::<i32>()
            .map_err(|_| AppError::invalid("year", "is not a year"))
    };
    let result: Result<(i32, String), AppError> = async {
        match todo {
            "set" => {
                let d = date()?;
                let kind = match typed.v("kind") {
                    "workday" => DayKind::Workday,
                    _ => DayKind::Holiday,
                };
                app.set_calendar_day(&s.actor(), d, kind, typed.v("name"))
                    .await?;
                Ok((chrono::Datelike::year(&d), d.to_string()))
            }
            "delete" => {
                let d = date()?;
                app.delete_calendar_day(&s.actor(), d).await?;
                Ok((chrono::Datelike::year(&d), d.to_string()))
            }
            "know_year" | "forget_year" => {
                let y = year_field()?;
                app.set_calendar_year(&s.actor(), y, todo == "know_year")
                    .await?;
                Ok((y, y.to_string()))
            }
            other => Err(AppError::invalid(
                "form",
                format!("unknown change `{other}`"),
            )),
        }
    }
    .await;
    match result {
        Ok((year, what)) => {
            Redirect::to(&format!("/admin/calendar?year={year}&saved={what}")).into_response()
        }
        Err(e) => {
            let status = status_of(&e);
            let year = date()
                .map(|d| chrono::Datelike::year(&d))
                .or_else(|_| year_field())
                .unwrap_or_else(|_| this_year());
            render_calendar(&app, &s, year, &typed.refuse(s.lang, e), None, status).await
        }
    }
}

// ---- unit liaisons ----

async fn change_contact(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match form_session(&app, &headers, &form, Permission::ManageReference).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let mut typed = Typed::of(&form);
    typed.values.insert("contact_unit".into(), id.to_string());
    let code = reference(&app, &s.actor())
        .await
        .units
        .get(&id)
        .map(|u| u.code.clone())
        .unwrap_or_default();
    match app
        .set_unit_contact(&s.actor(), id, typed.v("liaison"), typed.v("phone"))
        .await
    {
        Ok(_) => Redirect::to(&format!("/admin/units?q={code}")).into_response(),
        Err(e) => {
            let status = status_of(&e);
            let f = UnitFilter {
                q: Some(code),
                ..Default::default()
            };
            render_units(&app, &s, &f, &typed.refuse(s.lang, e), status).await
        }
    }
}

// ---- deadline and supervision policy ----

/// The policy form's fields, by JSON path: (path, Chinese label, English label, kind).
const POLICY_FIELDS: &[(&str, &str, &str, &str)] = &[
    (
        "working_hours",
        "工作时间（留空为全天）",
        "Working hours (empty: whole day)",
        "text",
    ),
    (
        "sign_within_hours",
        "签收时限（工作小时）",
        "Sign within (working hours)",
        "number",
    ),
    (
        "contact_within_days",
        "首次联系时限（工作日）",
        "First contact within (working days)",
        "number",
    ),
    (
        "handling_days",
        "办理时限计法",
        "Handling days are",
        "daycount",
    ),
    (
        "callback_within_days",
        "回访时限（工作日）",
        "Callback within (working days)",
        "number",
    ),
    ("warn_at_percent", "预警点（%）", "Warning at (%)", "number"),
    (
        "max_extensions",
        "延期次数上限",
        "Most extensions",
        "number",
    ),
    (
        "extension_cutoff",
        "延期申请每日截止（HH:MM，留空不限）",
        "Extension requests until (HH:MM, empty: any time)",
        "time",
    ),
    (
        "alert_outside_working_hours",
        "非工作时间也发送预警短信",
        "Send alerts outside working hours",
        "bool",
    ),
    ("pause_in", "暂停计时的状态", "Clocks pause in", "states"),
    (
        "supervision.l1_on_breach_of",
        "超期即催办（L1）的时限",
        "Clocks whose breach raises L1",
        "clocks",
    ),
    (
        "supervision.l2_after_working_days",
        "催办后仍超期转书面督办（工作日，留空不启用）",
        "Still overdue after L1 → L2 (working days; empty: off)",
        "optnumber",
    ),
    (
        "supervision.l3_after_working_days",
        "书面督办后仍超期转挂牌督办（工作日，留空不启用）",
        "Still overdue after L2 → L3 (working days; empty: off)",
        "optnumber",
    ),
    (
        "supervision.l2_on_bad_callbacks",
        "第几次回访不满意转书面督办（留空不启用）",
        "Bad callbacks that raise L2 (empty: off)",
        "optnumber",
    ),
    (
        "supervision.l3_on_bad_callbacks",
        "第几次回访不满意转挂牌督办（留空不启用）",
        "Bad callbacks that raise L3 (empty: off)",
        "optnumber",
    ),
];

/// The policy's current values as form values.
fn policy_values(p: &mashangban_domain::deadlines::DeadlinePolicy) -> HashMap<String, String> {
    let v = serde_json::to_value(p).unwrap_or_default();
    let mut out = HashMap::new();
    for (path, _, _, kind) in POLICY_FIELDS {
        let x = path.split('.').fold(&v, |v, k| &v[k]);
        let text = match (*kind, x) {
            ("states" | "clocks", serde_json::Value::Array(a)) => a
                .iter()
                .filter_map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(","),
            // Shown as it is typed (HH:MM), not as stored (HH:MM:SS).
            ("time", serde_json::Value::String(s)) => s.chars().take(5).collect(),
            (_, serde_json::Value::String(s)) => s.clone(),
            (_, serde_json::Value::Null) => String::new(),
            (_, other) => other.to_string(),
        };
        out.insert(path.to_string(), text);
    }
    out
}

/// The policy JSON from the form (checkbox groups arrive as repeated names).
fn policy_json(form: &[(String, String)]) -> Result<serde_json::Value, AppError> {
    let all = |k: &str| -> Vec<String> {
        form.iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect()
    };
    let one = |k: &str| all(k).into_iter().next().unwrap_or_default();
    let mut root = serde_json::json!({"supervision": {}});
    for (path, _, _, kind) in POLICY_FIELDS {
        let raw = one(path);
        let number = |raw: &str| {
            raw.parse::<u64>()
                .map(serde_json::Value::from)
                .map_err(|_| AppError::invalid(*path, format!("`{raw}` is not a number")))
        };
        let value = match *kind {
            "number" => number(&raw)?,
            "optnumber" if raw.is_empty() => serde_json::Value::Null,
            "optnumber" => number(&raw)?,
            "time" if raw.is_empty() => serde_json::Value::Null,
            "time" => {
                let t = chrono::NaiveTime::parse_from_str(&raw, "%H:%M").map_err(|_| {
                    AppError::invalid(*path, format!("`{raw}` is not a time like 17:00"))
                })?;
                serde_json::Value::from(t.format("%H:%M:%S").to_string())
            }
            "bool" => serde_json::Value::from(!raw.is_empty()),
            "states" | "clocks" => serde_json::Value::from(all(path)),
            _ => serde_json::Value::from(raw),
        };
        match path.split_once('.') {
            Some((outer, inner)) => root[outer][inner] = value,
            None => root[*path] = value,
        }
    }
    Ok(root)
}

async fn render_policy(
    app: &App,
    s: &Session,
    typed: &Typed,
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    use mashangban_domain::deadlines::ClockKind;
    let lang = s.lang;
    let zh = lang == Lang::Zh;
    let r = reference(app, &s.actor()).await;
    let current = policy_values(&r.policy);
    let v = |k: &str| -> String {
        if typed.values.is_empty() {
            current.get(k).cloned().unwrap_or_default()
        } else {
            typed.v(k).to_string()
        }
    };
    let chosen = |k: &str, x: &str| -> bool {
        if typed.values.is_empty() {
            current.get(k).is_some_and(|c| c.split(',').any(|c| c == x))
        } else {
            typed
                .values
                .get(k)
                .is_some_and(|c| c.split(',').any(|c| c == x))
        }
    };
    let body = html! {
        h1 { (if zh { "时限与督办规则" } else { "Deadline and supervision rules" }) }
        @if let Some(n) = notice { p.notice role="status" { (n) } }
        (typed.form_error())
        p.muted { (if zh { "保存后立即生效；在办工单的下一检查时间随之重算。" } else { "Takes effect at once; open tickets' next checks are recomputed." }) }
        form.admin.policy method="post" action="/admin/policy" {
            input type="hidden" name="_csrf" value=(session_csrf(&s.token));
            @for (path, zh_l, en_l, kind) in POLICY_FIELDS {
                @let id = path.replace('.', "-");
                div.field {
                    label for=(id) { (if zh { *zh_l } else { *en_l }) }
                    @match *kind {
                        "daycount" => select #(id) name=(path) {
                            option value="working" selected[v(path) == "working"] { (if zh { "工作日" } else { "working days" }) }
                            option value="calendar" selected[v(path) == "calendar"] { (if zh { "自然日" } else { "calendar days" }) }
                        },
                        "bool" => input #(id) type="checkbox" name=(path) value="true" checked[v(path) == "true"];,
                        "states" => span #(id) {
                            @for st in [mashangban_domain::TicketState::ReturnRequested, mashangban_domain::TicketState::InConsultation] {
                                label.check { input type="checkbox" name=(path) value=(st.as_str()) checked[chosen(path, st.as_str())]; (super::state_label(st, lang)) }
                            }
                        },
                        "clocks" => span #(id) {
                            @for c in [ClockKind::Sign, ClockKind::Contact, ClockKind::Handling] {
                                label.check { input type="checkbox" name=(path) value=(c.as_str()) checked[chosen(path, c.as_str())]; (if zh { c.label_zh() } else { c.as_str() }) }
                            }
                        },
                        _ => input #(id) name=(path) value=(v(path)) size=(if *kind == "text" { "28" } else { "6" });,
                    }
                    (typed.err(path))
                }
            }
            button.primary type="submit" { (if zh { "保存规则" } else { "Save the rules" }) }
        }
    };
    admin_page(s, "/admin/policy", status, body)
}

async fn policy_page(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    match admin_session(&app, &headers, Permission::ManagePolicies).await {
        Ok(s) => {
            let saved = q.contains_key("saved").then_some(if s.lang == Lang::Zh {
                "规则已保存"
            } else {
                "Rules saved"
            });
            render_policy(&app, &s, &Typed::default(), saved, StatusCode::OK).await
        }
        Err(r) => r,
    }
}

async fn change_policy(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match form_session(&app, &headers, &form, Permission::ManagePolicies).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    // Checkbox groups are kept as comma lists for redisplay.
    let mut typed = Typed::of(&form);
    for (path, _, _, kind) in POLICY_FIELDS {
        if matches!(*kind, "states" | "clocks") {
            let joined: Vec<&str> = form
                .iter()
                .filter(|(k, _)| k == path)
                .map(|(_, v)| v.as_str())
                .collect();
            typed.values.insert(path.to_string(), joined.join(","));
        }
    }
    typed.values.entry("_submitted".into()).or_default();
    let result = async {
        let body = policy_json(&form)?;
        app.set_policy(&s.actor(), body).await.map(|_| ())
    }
    .await;
    match result {
        Ok(_) => Redirect::to("/admin/policy?saved=1").into_response(),
        Err(e) => {
            let status = status_of(&e);
            render_policy(&app, &s, &typed.refuse(s.lang, e), None, status).await
        }
    }
}
