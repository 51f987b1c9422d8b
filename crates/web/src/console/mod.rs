//! The web console: server-rendered pages in Simplified Chinese (English selectable), with
//! the project's own stylesheet and no scripts yet. Sessions are login tokens kept in an
//! HttpOnly, SameSite cookie; every form carries a CSRF token and cross-site posts are refused.

mod actions;
mod admin;
mod analysis;
mod board;
mod bulk;
mod cases;
mod catalogue;
mod channels;
mod charts;
mod desk;
mod files;
mod flash;
mod gazetteer;
mod i18n;
mod intake;
mod knowledge;
mod kpis;
pub(crate) mod list;
mod patrol;
mod print;
mod retention;
mod sms;
pub(crate) mod topics;

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use i18n::{Lang, t};
use mashangban_app::auth::actor_of;
use mashangban_app::{App, AppError};
use mashangban_domain::intake::china_offset;
use mashangban_domain::{
    Actor, Event, EventKind, Permission, RatingSource, Ticket, TicketState, User,
};
use maud::{DOCTYPE, Markup, html};
use rand::Rng;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

const SESSION_COOKIE: &str = "mb_session";
const PRE_CSRF_COOKIE: &str = "mb_csrf";
const LANG_COOKIE: &str = "mb_lang";

/// The console's routes.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/", get(desk::home))
        .route("/callback", get(desk::callback_desk))
        .route("/board", get(board::board_page))
        .route("/kpis", get(kpis::kpis_page))
        .route("/kpis/export.xlsx", get(kpis::export_xlsx))
        .route("/reports/daily", get(kpis::report))
        .route("/reports/monthly", get(kpis::report))
        .route("/knowledge", get(knowledge::knowledge_page))
        .route("/cases", get(cases::list_page))
        .route("/cases/{id}", get(cases::case_page))
        .route("/cases/{id}/revise", post(cases::revise))
        .route("/cases/{id}/step", post(cases::take_step))
        .route("/tickets/{id}/case", post(cases::propose))
        .route("/topics", get(topics::list_page).post(topics::propose))
        .route("/topics/{id}", get(topics::topic_page))
        .route("/topics/{id}/step", post(topics::take_step))
        .route("/notices", get(board::notices_page))
        .route("/notices/unseen", get(board::unseen_count))
        .route("/notices/read-all", post(board::read_all))
        .route("/notices/{id}/open", get(board::open_notice))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
        .route("/tickets", get(list::tickets_page))
        .route("/tickets/export.xlsx", get(list::export_xlsx))
        .route("/tickets/export.csv", get(list::export_csv))
        .route(
            "/intake",
            get(intake::intake_page).post(intake::intake_submit),
        )
        .route(
            "/patrol",
            get(patrol::patrol_page).post(patrol::patrol_submit),
        )
        .route("/intake/lookup", post(intake::intake_lookup))
        .route("/intake/extract", post(intake::intake_extract))
        .route("/intake/history", get(intake::intake_history))
        .route("/intake/suggest", get(intake::intake_suggest))
        .route("/tickets/bulk", post(bulk::bulk_submit))
        .route("/tickets/filters", post(list::save_filter))
        .route("/tickets/filters/{id}/delete", post(list::delete_filter))
        .route("/tickets/bulk/export.xlsx", post(bulk::export_selected))
        .route("/tickets/{id}", get(ticket_page))
        .route("/tickets/{id}/print", get(print::print_ticket))
        .route("/tickets/{id}/act/{action}", post(act_submit))
        .route("/lang/{lang}", get(set_lang))
        .merge(admin::routes())
        .merge(retention::routes())
        .merge(sms::routes())
        .merge(channels::routes())
        .merge(files::routes())
        .merge(analysis::routes())
        .merge(catalogue::routes())
        .merge(gazetteer::routes())
        .route("/static/app.css", get(stylesheet))
        .route("/static/app.js", get(script))
        .layer(axum::middleware::from_fn(flash::scope))
}

pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn lang_of(headers: &HeaderMap) -> Lang {
    Lang::from_cookie(cookie(headers, LANG_COOKIE))
}

/// The CSRF token of a session: derived from its secret, which never leaves the cookie.
fn session_csrf(token: &str) -> String {
    hex::encode(Sha256::digest(format!("csrf:{token}").as_bytes()))
}

/// Refuses a form posted from another site (checked before anything else).
pub(crate) fn cross_site(headers: &HeaderMap) -> bool {
    let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if matches!(site, Some("cross-site") | Some("same-site")) {
        return true;
    }
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), Some(host)) => origin == "null" || !origin.ends_with(&format!("://{host}")),
        _ => false,
    }
}

pub(crate) struct Session {
    user: User,
    token: String,
    lang: Lang,
    /// Console notices not seen yet (at most 100 counted).
    unseen: i64,
}

async fn session(app: &App, headers: &HeaderMap) -> Option<Session> {
    let token = cookie(headers, SESSION_COOKIE)?.to_string();
    let user = app.authenticate(&token).await.ok()?;
    let unseen = app.unread_notices(&user).await.unwrap_or_else(|e| {
        tracing::error!(error = %e, "unseen notices");
        0
    });
    Some(Session {
        user,
        token,
        lang: lang_of(headers),
        unseen,
    })
}

impl Session {
    /// The user as the application knows them.
    fn actor(&self) -> Actor {
        actor_of(&self.user)
    }

    /// Whether the user has a permission: the console's one question to the application
    /// before it shows a page, a link or a button (the use case asks again).
    fn may(&self, permission: Permission) -> bool {
        mashangban_app::may(&self.actor(), permission)
    }
}

/// The session of a user with `permission` (none: any signed-in user), posting a same-site
/// form with its CSRF token; or the response that refuses the post.
async fn form_session(
    app: &App,
    headers: &HeaderMap,
    form: &[(String, String)],
    permission: impl Into<Option<Permission>>,
) -> Result<Session, Response> {
    let Some(s) = session(app, headers).await else {
        return Err(to_login());
    };
    let csrf = session_csrf(&s.token);
    let allowed = permission.into().is_none_or(|p| s.may(p));
    if !allowed || cross_site(headers) || !form.iter().any(|(k, v)| k == "_csrf" && *v == csrf) {
        return Err(forbidden_page(s.lang));
    }
    Ok(s)
}

/// Where a form asks to go back to (`_back`), if it is a path of this site: never another
/// site (`//host`, `\\host`), so that a form cannot be made to send the user away.
fn back_to(form: &[(String, String)]) -> Option<String> {
    form.iter()
        .find(|(k, _)| k == "_back")
        .map(|(_, v)| v.clone())
        .filter(|v| v.starts_with('/') && !v.starts_with("//") && !v.contains('\\'))
}

/// A page that only says why a request could not be answered.
fn error_page(s: &Session, status: StatusCode, current: &str, text: &str) -> Response {
    html_response(
        status,
        page(
            s.lang,
            Some(s),
            current,
            html! { p.error role="alert" { (text) } },
        ),
    )
}

fn to_login() -> Response {
    Redirect::to("/login").into_response()
}

pub(crate) fn html_response(status: StatusCode, markup: Markup) -> Response {
    let mut r = (status, markup.into_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.headers_mut()
        .insert("x-frame-options", HeaderValue::from_static("DENY"));
    r.headers_mut().insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'self'; form-action 'self'; frame-ancestors 'none'"),
    );
    r
}

/// A request a page cannot answer, as a console page: bad input names its field (422), a
/// step out of turn or a stale form says why (409); anything else is logged and said
/// plainly (500). `current` and `title` name the page.
fn refused_page(s: &Session, e: &AppError, current: &str, title: &'static str) -> Response {
    let zh = s.lang == Lang::Zh;
    let (status, text) = match e {
        AppError::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        AppError::Forbidden(_) => (StatusCode::FORBIDDEN, e.to_string()),
        AppError::NotFound(_) => (StatusCode::NOT_FOUND, e.to_string()),
        AppError::Conflict { .. } | AppError::IllegalTransition(_) => {
            (StatusCode::CONFLICT, e.to_string())
        }
        _ => {
            tracing::error!(error = %e, page = current, "console");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                if zh {
                    "暂时无法生成，请稍后再试。"
                } else {
                    "Could not produce it; try again later."
                }
                .to_string(),
            )
        }
    };
    let body = html! {
        h1 { (t(s.lang, title)) }
        p.error role="alert" { (text) }
        p { a href=(current) { (if zh { "返回" } else { "Back" }) } }
    };
    html_response(status, page(s.lang, Some(s), current, body))
}

fn forbidden_page(lang: Lang) -> Response {
    html_response(
        StatusCode::FORBIDDEN,
        page(lang, None, "", html! { p.error { (t(lang, "csrf")) } }),
    )
}

pub(crate) fn local_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&china_offset())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn state_label(s: TicketState, lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => s.label_zh(),
        Lang::En => s.as_str(),
    }
}

/// The navigation a role may use.
fn nav(user: &User) -> Vec<(&'static str, &'static str)> {
    let may = |p| mashangban_app::may(&actor_of(user), p);
    let mut items = Vec::new();
    // The callback desk is the callback agent's home.
    if !may(Permission::CallBackDesk) || may(Permission::ReadFigures) {
        items.push(("/", "home"));
    }
    if may(Permission::ReceiveRequests) {
        items.push(("/intake", "intake"));
    }
    if may(Permission::ReportOnPatrol) {
        items.push(("/patrol", "patrol"));
    }
    if may(Permission::CallBackDesk) {
        items.push(("/callback", "callback_desk"));
    }
    items.push(("/tickets", "tickets"));
    items.push(("/knowledge", "knowledge"));
    if may(Permission::EditCases) || may(Permission::ApproveCases) {
        items.push(("/cases", "cases"));
    }
    if mashangban_domain::permission::may_read_some_topic(user.role) {
        items.push(("/topics", "topics"));
    }
    if may(Permission::ReadFigures) {
        items.push(("/board", "board"));
        items.push(("/dashboard", "dashboard"));
    }
    if may(Permission::ReadWarnings) {
        items.push(("/warnings", "warnings"));
    }
    if may(Permission::ReadFigures) {
        items.push(("/kpis", "kpis"));
    }
    if may(Permission::ManageReference) {
        items.push(("/admin", "admin"));
    }
    items
}

/// The notices badge: how many are new (99+ from a hundred).
pub(crate) fn unseen_badge(n: i64) -> String {
    if n >= 100 {
        "99+".to_string()
    } else {
        n.to_string()
    }
}

fn page(lang: Lang, s: Option<&Session>, current: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (t(lang, "app")) }
                link rel="stylesheet" href="/static/app.css";
                script src="/static/app.js" defer {}
            }
            body {
                header.top {
                    span.app { (t(lang, "app")) }
                    a href=(if lang == Lang::Zh { "/lang/en" } else { "/lang/zh" }) { (t(lang, "language")) }
                    @if let Some(s) = s {
                        // The page's script asks /notices/unseen now and then and keeps the
                        // badge current without a reload.
                        a.notices #notices-link href="/notices" title=(t(lang, "notices")) {
                            (t(lang, "notices"))
                            " " span.badge #notices-badge hidden[s.unseen == 0] { (unseen_badge(s.unseen)) }
                        }
                        span { (s.user.display_name) " · " (if lang == Lang::Zh { s.user.role.label_zh() } else { s.user.role.as_str() }) }
                        form method="post" action="/logout" {
                            input type="hidden" name="_csrf" value=(session_csrf(&s.token));
                            button type="submit" { (t(lang, "logout")) }
                        }
                    }
                }
                @if let Some(s) = s {
                    nav.main {
                        @for (href, key) in nav(&s.user) {
                            a href=(href) class=[(href == current).then_some("on")] { (t(lang, key)) }
                        }
                    }
                }
                main { (flash::banner(lang)) (body) }
            }
        }
    }
}

#[derive(serde::Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    _csrf: String,
}

fn login_form(lang: Lang, csrf: &str, username: &str, errors: &HashMap<&str, &str>) -> Markup {
    html! {
        div.login.card {
            h1 { (t(lang, "login")) }
            @if let Some(e) = errors.get("form") { p.error role="alert" { (e) } }
            form method="post" action="/login" {
                input type="hidden" name="_csrf" value=(csrf);
                div.field {
                    label for="username" { (t(lang, "username")) }
                    input #username name="username" value=(username) autocomplete="username" autofocus required;
                    @if let Some(e) = errors.get("username") { span.error { (e) } }
                }
                div.field {
                    label for="password" { (t(lang, "password")) }
                    input #password name="password" type="password" autocomplete="current-password" required;
                    @if let Some(e) = errors.get("password") { span.error { (e) } }
                }
                button.primary type="submit" { (t(lang, "login")) }
            }
        }
    }
}

pub(crate) fn with_cookie(mut r: Response, cookie: String) -> Response {
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

async fn login_page(State(app): State<App>, headers: HeaderMap) -> Response {
    if session(&app, &headers).await.is_some() {
        return Redirect::to("/").into_response();
    }
    let lang = lang_of(&headers);
    let csrf = match cookie(&headers, PRE_CSRF_COOKIE) {
        Some(c) if c.len() == 32 => c.to_string(),
        _ => hex::encode(rand::rng().random::<[u8; 16]>()),
    };
    let r = html_response(
        StatusCode::OK,
        page(lang, None, "", login_form(lang, &csrf, "", &HashMap::new())),
    );
    with_cookie(
        r,
        format!("{PRE_CSRF_COOKIE}={csrf}; Path=/; HttpOnly; SameSite=Strict"),
    )
}

async fn login_submit(
    State(app): State<App>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let lang = lang_of(&headers);
    let expected = cookie(&headers, PRE_CSRF_COOKIE).unwrap_or("");
    if cross_site(&headers) || expected.is_empty() || f._csrf != expected {
        return forbidden_page(lang);
    }
    let mut errors = HashMap::new();
    if f.username.trim().is_empty() {
        errors.insert("username", t(lang, "required"));
    }
    if f.password.is_empty() {
        errors.insert("password", t(lang, "required"));
    }
    if errors.is_empty() {
        match app.login(f.username.trim(), &f.password).await {
            Ok((_, token)) => {
                let r = Redirect::to("/").into_response();
                let max_age = app.config.login_token_hours * 3600;
                return with_cookie(
                    r,
                    format!(
                        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}"
                    ),
                );
            }
            Err(AppError::Unauthenticated(_)) => {
                errors.insert("form", t(lang, "wrong_login"));
            }
            Err(AppError::Locked(m)) => {
                let status = StatusCode::TOO_MANY_REQUESTS;
                let body = page(
                    lang,
                    None,
                    "",
                    login_form(
                        lang,
                        expected,
                        &f.username,
                        &HashMap::from([("form", m.as_str())]),
                    ),
                );
                return html_response(status, body);
            }
            Err(e) => {
                tracing::error!(error = %e, "login failed");
                return html_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    page(
                        lang,
                        None,
                        "",
                        html! { p.error { "internal error; it has been logged" } },
                    ),
                );
            }
        }
    }
    html_response(
        StatusCode::UNPROCESSABLE_ENTITY,
        page(
            lang,
            None,
            "",
            login_form(lang, expected, &f.username, &errors),
        ),
    )
}

#[derive(serde::Deserialize)]
struct CsrfForm {
    #[serde(default)]
    _csrf: String,
}

async fn logout(State(app): State<App>, headers: HeaderMap, Form(f): Form<CsrfForm>) -> Response {
    let lang = lang_of(&headers);
    let Some(s) = session(&app, &headers).await else {
        return to_login();
    };
    if cross_site(&headers) || f._csrf != session_csrf(&s.token) {
        return forbidden_page(lang);
    }
    if let Err(e) = app.logout(&s.token).await {
        tracing::error!(error = %e, "logout failed");
    }
    with_cookie(
        Redirect::to("/login").into_response(),
        format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    )
}

async fn set_lang(Path(lang): Path<String>, headers: HeaderMap) -> Response {
    let v = if lang == "en" { "en" } else { "zh" };
    let back = headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| rest.find('/').map(|i| rest[i..].to_string()))
        .filter(|p| p.starts_with('/') && !p.starts_with("//"))
        .unwrap_or_else(|| "/".into());
    with_cookie(
        Redirect::to(&back).into_response(),
        format!("{LANG_COOKIE}={v}; Path=/; SameSite=Lax; Max-Age=31536000"),
    )
}

async fn script() -> Response {
    let mut r = include_str!("../../assets/app.js").into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    r
}

async fn stylesheet() -> Response {
    let mut r = include_str!("../../assets/app.css").into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    r
}

/// Reference data for rendering (names of units, categories, divisions); empty on failure.
async fn reference(
    app: &App,
    actor: &mashangban_domain::Actor,
) -> std::sync::Arc<mashangban_app::Reference> {
    match app.names(actor).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "reference data");
            std::sync::Arc::default()
        }
    }
}

/// The ticket's supervision level as a badge (none when not supervised); a dot marks a
/// supervision the unit has not answered yet.
/// The emergency the request's words called for when it came in (the citizen was told to
/// call that number): shown before anything else.
pub(crate) fn emergency_tag(lang: Lang, tk: &Ticket) -> Markup {
    html! {
        @if let Some(n) = &tk.emergency {
            span.tag.emergency title=(if lang == Lang::Zh { "受理时内容显示为紧急情况，已提示市民拨打该号码" } else { "The words said an emergency when received; the citizen was told to call this number" }) {
                (if lang == Lang::Zh { "紧急 " } else { "Emergency " }) (n)
            }
            " "
        }
    }
}

pub(crate) fn supervision_tag(lang: Lang, tk: &Ticket) -> Markup {
    html! {
        @if let Some(sv) = &tk.supervision {
            span class=(format!("supervised {}", sv.level.as_str()))
                title=(if lang == Lang::Zh { if sv.awaits_answer() { "待承办单位反馈" } else { "已反馈" } } else if sv.awaits_answer() { "awaiting the unit's answer" } else { "answered" }) {
                (if lang == Lang::Zh { sv.level.label_zh().to_string() } else { format!("supervision {}", sv.level.as_str().to_uppercase()) })
                @if sv.awaits_answer() { " •" }
            }
        }
    }
}

/// How urgent a ticket's deadline is, as a key that sorts the most urgent first: overdue,
/// then at risk, then the rest, each by its days.
fn deadline_key(tk: &Ticket) -> String {
    use mashangban_domain::deadlines::AlertLevel;
    let rank = match tk.alert_level() {
        Some(AlertLevel::Overdue) => 0,
        Some(_) => 1,
        None => 2,
    };
    let days = tk
        .tier
        .map(|t| u32::from(t) + tk.extension_days_granted)
        .unwrap_or(999);
    format!("{rank}{days:03}")
}

/// The handling tier and any alert the deadline watcher recorded (预警 yellow, 超期 red).
fn deadline_cell(lang: Lang, tk: &Ticket, r: &mashangban_app::Reference) -> Markup {
    let calendar = r.policy.handling_days == mashangban_domain::deadlines::DayCount::Calendar;
    use mashangban_domain::deadlines::AlertLevel;
    let zh = lang == Lang::Zh;
    let days = tk.tier.map(|t| u32::from(t) + tk.extension_days_granted);
    html! {
        @for a in &tk.alerts {
            span class=(if a.level == AlertLevel::Overdue { "clock overdue" } else { "clock warning" })
                title=(format!("{} {}", if zh { "到期" } else { "due" }, local_time(a.due_at))) {
                @if zh {
                    (a.clock.label_zh().trim_end_matches("时限")) (if a.level == AlertLevel::Overdue { "超期" } else { "预警" })
                } @else {
                    (a.clock.as_str()) " " (if a.level == AlertLevel::Overdue { "overdue" } else { "warning" })
                }
            }
            " "
        }
        @if let Some(d) = days {
            @if tk.lead_unit_id.is_some() && tk.closed_at.is_none() {
                span.deadline {
                    (d) (match (zh, calendar) {
                        (true, false) => "个工作日",
                        (true, true) => "个自然日",
                        (false, false) => " working days",
                        (false, true) => " calendar days",
                    })
                }
            }
        }
    }
}

fn ticket_table(
    lang: Lang,
    tickets: &[Ticket],
    r: &mashangban_app::Reference,
    deadline: bool,
    select: bool,
) -> Markup {
    let zh = lang == Lang::Zh;
    let sort_hint = if zh {
        "点击按此列排序（本页）"
    } else {
        "Click to sort this page by the column"
    };
    html! {
        @if tickets.is_empty() {
            p.muted { (t(lang, "empty")) }
        } @else {
            table.list {
                thead { tr {
                    // Ticks belong to the page's bulk form (批量办理), wherever it stands.
                    @if select { th.tick { input type="checkbox" data-tick-all aria-label=(if zh { "全选本表" } else { "Tick all in this table" }); } }
                    // Any column but the title sorts the rows shown (the page's script).
                    th.sortable title=(sort_hint) { (t(lang, "number")) } th { (t(lang, "title")) } th.sortable title=(sort_hint) { (t(lang, "state")) }
                    th.sortable title=(sort_hint) { (t(lang, "channel")) } th.sortable title=(sort_hint) { (t(lang, "lead_unit")) } th.sortable title=(sort_hint) { (t(lang, "created")) }
                    @if deadline { th.sortable title=(sort_hint) { (t(lang, "deadline")) } }
                } }
                tbody {
                    @for tk in tickets {
                        tr {
                            @if select { td.tick { input type="checkbox" name="ticket" value=(tk.id) form=(bulk::FORM_ID) aria-label=(tk.number); } }
                            td { a href=(format!("/tickets/{}", tk.id)) { (tk.number) } }
                            td { (emergency_tag(lang, tk)) (tk.title) @if tk.pending_extension.is_some() { " " span.tag { (t(lang, "extension_pending")) } } " " (supervision_tag(lang, tk)) }
                            td { span class=(format!("state {}", tk.state.as_str())) { (state_label(tk.state, lang)) } }
                            td { (r.channel_name(&tk.channel, lang != Lang::Zh)) }
                            td { (tk.lead_unit_id.and_then(|u| r.unit_name(u)).unwrap_or("")) }
                            td data-key=(tk.created_at.timestamp()) { (local_time(tk.created_at)) }
                            @if deadline { td data-key=(deadline_key(tk)) { (deadline_cell(lang, tk, r)) } }
                        }
                    }
                }
            }
        }
    }
}

/// A ticket's clocks: each one's state, start, warning and due points, pauses and
/// extensions, with the days that counted behind a disclosure.
fn clocks_card(lang: Lang, d: &mashangban_app::deadlines::Deadlines) -> Markup {
    use mashangban_domain::calendar::DayType;
    use mashangban_domain::deadlines::{Allowance, ClockState};
    let zh = lang == Lang::Zh;
    let when = |at: Option<DateTime<Utc>>| at.map(local_time).unwrap_or_else(|| "—".into());
    let allowance = |a: Allowance| match (a, zh) {
        (Allowance::WorkingHours(n), true) => format!("{n}个工作小时"),
        (Allowance::WorkingDays(n), true) => format!("{n}个工作日"),
        (Allowance::CalendarDays(n), true) => format!("{n}个自然日"),
        (Allowance::WorkingHours(n), false) => format!("{n} working hours"),
        (Allowance::WorkingDays(n), false) => format!("{n} working days"),
        (Allowance::CalendarDays(n), false) => format!("{n} calendar days"),
    };
    let class = |s: ClockState| match s {
        ClockState::Warning => "clock warning",
        ClockState::Overdue | ClockState::MetLate => "clock overdue",
        ClockState::Met => "clock met",
        _ => "clock",
    };
    html! {
        div.card.clocks {
            h2 { (if zh { "时限" } else { "Deadlines" }) }
            table.list {
                thead { tr {
                    th { (if zh { "时限" } else { "Clock" }) } th { (t(lang, "state")) } th { (if zh { "起算" } else { "Start" }) }
                    th { (if zh { "时长" } else { "Allowed" }) } th { (if zh { "预警" } else { "Warning" }) } th { (if zh { "到期" } else { "Due" }) }
                    th { (if zh { "完成" } else { "Stopped" }) }
                } }
                tbody {
                    @for c in &d.clocks {
                        tr {
                            td { (if zh { c.kind.label_zh() } else { c.kind.as_str() }) }
                            td { span class=(class(c.state)) { (if zh { c.state.label_zh().to_string() } else { format!("{:?}", c.state) }) } }
                            td { (local_time(c.start)) }
                            td { (allowance(c.allowance)) @if c.extension_days > 0 { " " span.tag { (if zh { "含延期" } else { "incl. extension " }) (c.extension_days) (if zh { "个工作日" } else { " days" }) } } }
                            td { (when(c.warn_at)) }
                            td { (when(c.due)) @if !c.unknown_years.is_empty() { " " span.tag.audited { (if zh { "日历缺少" } else { "no calendar for " }) (c.unknown_years.iter().map(|y| y.to_string()).collect::<Vec<_>>().join(",")) (if zh { "年数据，按双休推算" } else { "; weekends assumed" }) } } }
                            td { (when(c.stopped_at)) }
                        }
                    }
                }
            }
            @for c in d.clocks.iter().filter(|c| !c.days.is_empty() || !c.pauses.is_empty()) {
                details.explain {
                    summary { (if zh { c.kind.label_zh() } else { c.kind.as_str() }) (if zh { "：计算过程" } else { ": how it was computed" }) }
                    @for p in &c.pauses {
                        p.muted { (if zh { "暂停计时 " } else { "Paused " }) (local_time(p.from)) " – " (when(p.to)) " (" (state_label(p.state, lang)) ")" }
                    }
                    ul.days {
                        @for n in &c.days {
                            li class=[(n.counted_minutes == 0).then_some("skipped")] {
                                (n.date.format("%m-%d")) " "
                                @match &n.day {
                                    DayType::Working => { (if zh { "工作日" } else { "working day" }) }
                                    DayType::Weekend => { (if zh { "周末，不计" } else { "weekend, skipped" }) }
                                    DayType::Holiday { name } => { (name) (if zh { "假期，不计" } else { " holiday, skipped" }) }
                                    DayType::MakeUpWorkday { name } => { (name) (if zh { "调休上班，计入" } else { " make-up workday, counted" }) }
                                }
                                @if n.counted_minutes > 0 { " · " (n.counted_minutes / 60) (if zh { "小时" } else { " h" }) @if n.counted_minutes % 60 > 0 { (n.counted_minutes % 60) (if zh { "分" } else { " min" }) } }
                                @if n.assumed { " · " (if zh { "无日历数据" } else { "no calendar data" }) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// What an event says in the timeline.
fn event_text(e: &Event, lang: Lang, units: Option<&mashangban_app::Reference>) -> String {
    let (zh, en) = match e.kind.type_name() {
        "received" => ("受理", "received"),
        "resolved_directly" => ("直接办结", "resolved directly"),
        "dispatched" => ("派单", "dispatched"),
        "signed" => ("签收", "signed"),
        "return_requested" => ("申请退单", "return requested"),
        "return_approved" => ("同意退单", "return approved"),
        "return_rejected" => ("驳回退单", "return rejected"),
        "consultation_opened" => ("发起会商", "consultation opened"),
        "consultation_decided" => ("会商定责", "consultation decided"),
        "extension_requested" => ("申请延期", "extension requested"),
        "extension_approved" => ("同意延期", "extension approved"),
        "extension_rejected" => ("驳回延期", "extension rejected"),
        "contact_recorded" => ("联系市民", "citizen contacted"),
        "note_added" => ("备注", "note"),
        "replied" => ("答复", "replied"),
        "reply_approved" => ("答复审核通过", "reply approved"),
        "reply_rejected" => ("答复退回", "reply rejected"),
        "callback_recorded" => ("回访", "callback"),
        "callback_unreachable" => ("回访未接通", "callback unreachable"),
        "reopened" => ("重办", "reopened"),
        "closed" => ("办结", "closed"),
        "merged" => ("并单", "merged"),
        "child_merged" => ("并入重复件", "duplicate merged in"),
        "deadline_warned" => ("时限预警", "deadline warning"),
        "deadline_breached" => ("超出时限", "deadline passed"),
        "not_accepted" => ("不予受理", "not accepted"),
        "transferred_out" => ("转出其他平台", "handed to another platform"),
        "contact_revealed" => ("查看联系方式", "contact revealed"),
        "supervised" => ("督办", "supervision"),
        "supervision_answered" => ("督办反馈", "supervision answered"),
        "forwarded" => ("转办下级", "forwarded down"),
        "assignment_signed" => ("下级签收", "signed by the level below"),
        "level_replied" => ("下级答复上报", "reply sent up"),
        "level_reply_approved" => ("下级答复审核通过", "reply of the level below approved"),
        "level_reply_rejected" => ("下级答复退回", "reply of the level below rejected"),
        "level_return_requested" => ("下级申请退回", "the level below asked to give it back"),
        "level_return_approved" => ("同意下级退回", "taken back from the level below"),
        "level_return_rejected" => ("驳回下级退回", "the level below keeps it"),
        "level_overdue" => ("下级超期未答复", "a level below is overdue"),
        "summoned" => ("吹哨", "called to the spot"),
        "reported_in" => ("报到", "reported in"),
        "level_sign_overdue" => ("下级超时未签收", "a level below did not sign in time"),
        "summons_overdue" => (
            "被呼叫单位超时未报到",
            "called to the spot, not reported in",
        ),
        "resolved_on_spot" => ("就地办结", "resolved on the spot"),
        "meeting_recorded" => ("近邻议事会", "residents' meeting"),
        "personal_data_removed" => ("个人信息已删除", "personal data removed"),
        "recategorised" => ("更正分类", "category corrected"),
        "relocated" => ("更正区划", "place corrected"),
        other => (other, other),
    };
    let label = if lang == Lang::Zh { zh } else { en };
    if let EventKind::DeadlineWarned { clock, due_at }
    | EventKind::DeadlineBreached { clock, due_at } = &e.kind
    {
        let name = if lang == Lang::Zh {
            clock.label_zh()
        } else {
            clock.as_str()
        };
        return format!(
            "{label}：{name}，{} {}",
            if lang == Lang::Zh { "到期" } else { "due" },
            local_time(*due_at)
        );
    }
    if let EventKind::Supervised {
        level,
        reason,
        automatic,
    } = &e.kind
    {
        return if lang == Lang::Zh {
            let how = if *automatic {
                "按规则自动"
            } else {
                "人工"
            };
            format!("{}（{how}）：{reason}", level.label_zh())
        } else {
            let how = if *automatic { "by rule" } else { "by hand" };
            format!("supervision {} ({how}): {reason}", level.as_str())
        };
    }
    // A callback: the citizen's answers, and who gave them (an agent, or the citizen's own
    // rating).
    if let (EventKind::CallbackRecorded { note, .. }, Some(a)) =
        (&e.kind, e.kind.callback_answers())
    {
        let answers = match (lang, a.source) {
            (Lang::Zh, RatingSource::Citizen) => format!("（市民自评）{}", a.said_zh()),
            (Lang::Zh, _) => a.said_zh(),
            (_, RatingSource::Citizen) => format!("(the citizen's own rating) {}", a.said_en()),
            _ => a.said_en(),
        };
        return match note {
            Some(n) => format!("{label}：{answers}：{n}"),
            None => format!("{label}：{answers}"),
        };
    }
    // A correction: from what to what, and why.
    if let (
        EventKind::Recategorised { from, to, reason } | EventKind::Relocated { from, to, reason },
        Some(r),
    ) = (&e.kind, units)
    {
        let name = |code: &str| {
            if matches!(e.kind, EventKind::Recategorised { .. }) {
                r.category_path(code)
            } else {
                r.division_path(code)
            }
            .unwrap_or_else(|| code.to_string())
        };
        let was = from
            .as_deref()
            .map(name)
            .unwrap_or_else(|| if lang == Lang::Zh { "无" } else { "none" }.to_string());
        return format!("{label}：{was} → {}：{reason}", name(to));
    }
    let v = serde_json::to_value(&e.kind).unwrap_or_default();
    // A level of the chain: which unit.
    let label = match (v.get("unit_id").and_then(serde_json::Value::as_i64), units) {
        (Some(u), Some(r))
            if matches!(e.kind, EventKind::Forwarded { .. })
                || e.kind.type_name().starts_with("level_")
                || matches!(
                    e.kind.type_name(),
                    "assignment_signed"
                        | "summoned"
                        | "reported_in"
                        | "summons_overdue"
                        | "resolved_on_spot"
                        | "meeting_recorded"
                ) =>
        {
            format!("{label}（{}）", r.unit_name(u).unwrap_or("?"))
        }
        _ => label.to_string(),
    };
    match [
        "note",
        "reason",
        "answer",
        "content",
        "action_taken",
        "decision",
    ]
    .iter()
    .find_map(|k| v.get(*k).and_then(|x| x.as_str()))
    {
        Some(detail) => format!("{label}：{detail}{}", inspected(e, lang)),
        None => format!("{label}{}", inspected(e, lang)),
    }
}

/// What the reply inspection had found in an approved reply, as the reviewer saw it.
fn inspected(e: &Event, lang: Lang) -> String {
    let (EventKind::ReplyApproved {
        findings: Some(f), ..
    }
    | EventKind::LevelReplyApproved {
        findings: Some(f), ..
    }) = &e.kind
    else {
        return String::new();
    };
    let zh = lang == Lang::Zh;
    if f.is_empty() {
        return if zh {
            "（答复质检：未发现问题）"
        } else {
            " (inspection: nothing found)"
        }
        .into();
    }
    let kinds: Vec<&str> = f
        .iter()
        .map(|f| {
            if zh {
                f.kind.label_zh()
            } else {
                f.kind.as_str()
            }
        })
        .collect();
    if zh {
        format!("（答复质检提示：{}）", kinds.join("、"))
    } else {
        format!(" (inspection: {})", kinds.join(", "))
    }
}

/// A ticket the user may see, with its events, by the id in a path; none otherwise.
async fn visible_ticket(app: &App, actor: &Actor, id: &str) -> Option<(Ticket, Vec<Event>)> {
    let id = id.parse::<i64>().ok()?;
    let ticket = app.get_ticket(actor, id).await.ok()?;
    let events = app.ticket_events(actor, id).await.ok()?;
    Some((ticket, events))
}

/// How the place was decided, beside it: resolved from the address or the words (how
/// sure), corrected, or the candidates a dispatcher should pick from.
fn place_note(
    lang: Lang,
    p: &mashangban_domain::PlaceFinding,
    r: &mashangban_app::Reference,
) -> Markup {
    use mashangban_domain::PlaceHow as H;
    let zh = lang == Lang::Zh;
    let sure = p
        .confidence
        .map(|c| format!(" {:.0}%", c * 100.0))
        .unwrap_or_default();
    html! {
        @match p.how {
            H::Given => {},
            H::Address => span.tag.place { (if zh { "按地址自动识别" } else { "from the address" }) (sure) },
            H::Content => span.tag.place { (if zh { "按诉求内容识别" } else { "from the request's words" }) (sure) },
            H::Corrected => span.tag.place { (if zh { "已更正" } else { "corrected" }) },
            H::Reporter => span.tag.place { (if zh { "按上报网格（社区）" } else { "the reporting community's" }) },
            H::Unresolved => {
                span.tag.late { (if zh { "地点待确认" } else { "place to confirm" }) }
                @if !p.candidates.is_empty() {
                    " " (if zh { "候选：" } else { "could be: " })
                    @for (i, c) in p.candidates.iter().enumerate() {
                        @if i > 0 { "；" }
                        (r.division_path(c).unwrap_or_else(|| c.clone()))
                    }
                }
            },
        }
    }
}

/// The levels a ticket went down (分级转办), top first, each with where its part stands and
/// its times: who holds it now and who reviews whose reply.
fn chain_card(lang: Lang, tk: &Ticket, r: &mashangban_app::Reference) -> Markup {
    use mashangban_domain::AssignmentState as A;
    let zh = lang == Lang::Zh;
    let state = |s: A| -> &'static str {
        match (s, zh) {
            (A::Forwarded, true) => "待签收",
            (A::Signed, true) => "办理中",
            (A::Replied, true) => "已答复待上级审核",
            (A::ReturnRequested, true) => "申请退回",
            (A::Done, true) => "已完成",
            (A::Returned, true) => "已退回",
            (A::Forwarded, false) => "to sign",
            (A::Signed, false) => "in hand",
            (A::Replied, false) => "replied, awaiting review",
            (A::ReturnRequested, false) => "asked to give it back",
            (A::Done, false) => "done",
            (A::Returned, false) => "given back",
        }
    };
    let when = |t: Option<chrono::DateTime<Utc>>| t.map(local_time).unwrap_or_default();
    let now = Utc::now();
    let lead = tk.lead_unit_id.and_then(|u| r.unit_name(u)).unwrap_or("");
    let mut levels: Vec<&mashangban_domain::Assignment> = tk.chain.iter().collect();
    levels.sort_by_key(|a| (a.forwarded_at, a.level));
    html! {
        div.card.chain {
            h2 { (if zh { "分级转办" } else { "Handling through the levels" }) }
            p.muted { (if zh { "主办单位：" } else { "Lead unit: " }) strong { (lead) } }
            div.table-scroll { table.list {
                thead { tr {
                    th { (if zh { "层级" } else { "Level" }) } th { (if zh { "承办单位" } else { "Unit" }) }
                    th { (if zh { "转办单位" } else { "From" }) } th { (if zh { "状态" } else { "State" }) }
                    th { (if zh { "转办时间" } else { "Forwarded" }) } th { (if zh { "答复期限" } else { "Due" }) }
                    th { (if zh { "签收" } else { "Signed" }) } th { (if zh { "联系市民" } else { "Contacted" }) }
                    th { (if zh { "答复" } else { "Reply" }) }
                } }
                tbody {
                    @for a in &levels {
                        tr class=(format!("level-{} {}", a.level, if a.state.is_active() { "active" } else { "finished" })) {
                            td { (a.level) }
                            td { (r.unit_name(a.unit_id).unwrap_or("?")) }
                            td { (r.unit_name(a.from_unit_id).unwrap_or("?")) }
                            td { (state(a.state)) @if a.rejected_replies > 0 { " " span.tag { (if zh { format!("退回{}次", a.rejected_replies) } else { format!("{} rejected", a.rejected_replies) }) } } }
                            td { (local_time(a.forwarded_at)) }
                            td { (when(a.due_at)) }
                            td {
                                (when(a.signed_at))
                                @if let (None, Some(by)) = (a.signed_at, a.sign_by) { span.muted { (if zh { "限" } else { "by " }) (local_time(by)) } }
                                @if a.signed_late(now) { " " span.tag.late { (if zh { "超时签收" } else { "late" }) } }
                            }
                            td { (when(a.first_contact_at)) }
                            td { @if let Some(reply) = &a.reply { (reply) " · " (when(a.replied_at)) } }
                        }
                    }
                }
            } }
        }
    }
}

/// The departments called to the spot (吹哨报到): who called whom, by when, and whether
/// they reported in, late or not.
fn summons_card(lang: Lang, tk: &Ticket, r: &mashangban_app::Reference) -> Markup {
    let zh = lang == Lang::Zh;
    let now = Utc::now();
    html! {
        div.card.summons {
            h2 { (if zh { "吹哨报到" } else { "Called to the spot" }) }
            div.table-scroll { table.list {
                thead { tr {
                    th { (if zh { "被呼叫单位" } else { "Unit called" }) } th { (if zh { "呼叫单位" } else { "Called by" }) }
                    th { (if zh { "事由" } else { "Reason" }) } th { (if zh { "呼叫时间" } else { "Called" }) }
                    th { (if zh { "报到期限" } else { "Report by" }) } th { (if zh { "报到" } else { "Reported" }) }
                } }
                tbody {
                    @for c in &tk.summons {
                        tr {
                            td { (r.unit_name(c.unit_id).unwrap_or("?")) }
                            td { (r.unit_name(c.by_unit_id).unwrap_or("?")) }
                            td { (c.reason) }
                            td { (local_time(c.summoned_at)) }
                            td { (local_time(c.due_at)) }
                            td {
                                @match (c.reported_at, &c.report) {
                                    (Some(at), Some(note)) => { (local_time(at)) " · " (note) }
                                    _ => { (if zh { "待报到" } else { "awaiting" }) }
                                }
                                @if c.late(now) { " " span.tag.late { (if zh { "超时" } else { "late" }) } }
                            }
                        }
                    }
                }
            } }
        }
    }
}

async fn ticket_page(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Some(s) = session(&app, &headers).await else {
        return to_login();
    };
    render_ticket(&app, &s, &id, None, StatusCode::OK, None).await
}

async fn act_submit(
    State(app): State<App>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let Some(s) = session(&app, &headers).await else {
        return to_login();
    };
    let csrf_ok = form
        .iter()
        .any(|(k, v)| k == "_csrf" && *v == session_csrf(&s.token));
    if cross_site(&headers) || !csrf_ok {
        return forbidden_page(s.lang);
    }
    let (Some(action), Ok(ticket_id)) =
        (mashangban_domain::Action::parse(&action), id.parse::<i64>())
    else {
        return render_ticket(&app, &s, &id, None, StatusCode::NOT_FOUND, None).await;
    };
    // Where a desk wants to go back to after the action (a local path only).
    let back = back_to(&form);
    // "Save and next": on to the next ticket of the queue instead of back.
    let then_next = form.iter().any(|(k, v)| k == "_then" && v == "next");
    let values: Vec<(String, String)> = form
        .into_iter()
        .filter(|(k, _)| k != "_csrf" && k != "_back" && k != "_then")
        .collect();
    let refused = |field: Option<String>, message: String| actions::FormError {
        action,
        field,
        message,
        values: values.clone(),
    };
    let err = match actions::to_body(action, &values) {
        Err((field, message)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            refused(Some(field), message),
        ),
        Ok(body) => match app.act(&actor_of(&s.user), ticket_id, action, body).await {
            // The revealed contact is shown once, on this response; the page reloads masked.
            Ok(done) if action == mashangban_domain::Action::RevealContact => {
                return render_ticket(&app, &s, &id, None, StatusCode::OK, Some(done.ticket)).await;
            }
            Ok(done) => {
                let actor = actor_of(&s.user);
                let (to, then) = if then_next {
                    match app.next_to_act(&actor, action, ticket_id).await {
                        Ok(Some(next)) => (format!("/tickets/{next}"), flash::Then::Next),
                        Ok(None) => (back.unwrap_or_else(|| "/".into()), flash::Then::QueueEmpty),
                        Err(e) => {
                            tracing::error!(error = %e, "next in queue");
                            (format!("/tickets/{ticket_id}"), flash::Then::Back)
                        }
                    }
                } else {
                    (
                        back.unwrap_or_else(|| format!("/tickets/{ticket_id}")),
                        flash::Then::Back,
                    )
                };
                return with_cookie(
                    Redirect::to(&to).into_response(),
                    flash::set_cookie(action, &done.ticket.number, then),
                );
            }
            Err(AppError::Invalid { field, message }) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                refused(Some(field), message),
            ),
            Err(AppError::NotFound(_)) => {
                return render_ticket(&app, &s, &id, None, StatusCode::NOT_FOUND, None).await;
            }
            Err(AppError::Internal(e)) => {
                tracing::error!(error = %e, "console action");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    refused(None, "internal error; it has been logged".into()),
                )
            }
            Err(e @ (AppError::Forbidden(_) | AppError::Unauthenticated(_))) => {
                (StatusCode::FORBIDDEN, refused(None, e.to_string()))
            }
            Err(e) => (StatusCode::CONFLICT, refused(None, e.to_string())),
        },
    };
    // Fields the form does not show (e.g. a parent that does not exist) are shown at the top.
    let (status, mut err) = err;
    if err
        .field
        .as_deref()
        .is_some_and(|f| !values.iter().any(|(k, _)| k == f))
    {
        err.message = format!("{}: {}", err.field.take().unwrap_or_default(), err.message);
    }
    render_ticket(&app, &s, &id, Some(err), status, None).await
}

async fn render_ticket(
    app: &App,
    s: &Session,
    id: &str,
    err: Option<actions::FormError>,
    status: StatusCode,
    revealed: Option<Ticket>,
) -> Response {
    let app = app.clone();
    let lang = s.lang;
    let actor = actor_of(&s.user);
    let Some((tk, events)) = visible_ticket(&app, &actor, id).await else {
        return html_response(
            StatusCode::NOT_FOUND,
            page(
                lang,
                Some(s),
                "/tickets",
                html! { p.error { (t(lang, "not_found")) } },
            ),
        );
    };
    let r = reference(&app, &s.actor()).await;
    let was_revealed = revealed.is_some();
    let tk = revealed.filter(|v| v.id == tk.id).unwrap_or(tk);
    let allowed = actions::in_usual_order(mashangban_domain::available_actions(&tk, &actor));
    let files = app.ticket_files(&actor, tk.id).await.unwrap_or_default();
    let case = if s.may(Permission::EditCases) || s.may(Permission::ApproveCases) {
        app.case_of_ticket(&actor, tk.id).await.unwrap_or_default()
    } else {
        None
    };
    let pickable = if allowed.iter().any(|a| {
        matches!(
            a,
            mashangban_domain::Action::Dispatch
                | mashangban_domain::Action::DecideConsultation
                | mashangban_domain::Action::Forward
                | mashangban_domain::Action::Summon
        )
    }) {
        r.units.values().cloned().collect()
    } else {
        Vec::new()
    };
    // Where the catalogue sends the matter, for the dispatch form to preselect.
    let owner = match (
        &tk.category_code,
        allowed.iter().any(|a| {
            matches!(
                a,
                mashangban_domain::Action::Dispatch | mashangban_domain::Action::DecideConsultation
            )
        }),
    ) {
        (Some(code), true) => app
            .catalogue_owner(
                &actor,
                code,
                tk.division_code.as_deref(),
                mashangban_domain::aggregates::business_day(Utc::now()),
            )
            .await
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "catalogue owner");
                None
            }),
        _ => None,
    };
    // The reply the user may approve, as the inspection reads it (答复质检).
    let inspection = if allowed.contains(&mashangban_domain::Action::ApproveReply) {
        app.reply_inspection(&actor, tk.id)
            .await
            .map_err(|e| tracing::error!(error = %e, "reply inspection"))
            .ok()
    } else {
        None
    };
    let forms = actions::FormContext {
        units: &pickable,
        reference: &r,
        owner: owner.as_ref(),
        inspection: inspection.as_ref(),
    };
    let csrf = session_csrf(&s.token);
    // The ticket and its events are already read: its clocks come from them.
    let deadlines = match app.deadlines_of(&tk, &events, Utc::now()).await {
        Ok(d) => Some(d),
        Err(e) => {
            tracing::error!(error = %e, "ticket clocks");
            None
        }
    };
    let names: HashMap<i64, String> = app.user_names(&s.actor()).await.unwrap_or_default();
    let none = t(lang, "none");
    let body = html! {
        p.print-link { a href=(format!("/tickets/{}/print", tk.id)) target="_blank" { (if lang == Lang::Zh { "打印工单" } else { "Print" }) } }
        h1 { (tk.number) " " span class=(format!("state {}", tk.state.as_str())) {
            @if tk.resolved_on_spot_by.is_some() { (if lang == Lang::Zh { "就地办结" } else { "resolved on the spot" }) }
            @else { (state_label(tk.state, lang)) }
        } " " (supervision_tag(lang, &tk)) " " (emergency_tag(lang, &tk)) }
        @if let Some(sv) = &tk.supervision {
            div class=(format!("card supervision {}", sv.level.as_str())) {
                h2 { (if lang == Lang::Zh { "督办" } else { "Supervision" }) }
                dl.fields {
                    dt { (if lang == Lang::Zh { "级别" } else { "Level" }) } dd { (supervision_tag(lang, &tk)) " " (if lang == Lang::Zh { format!("（第{}次督办）", sv.count) } else { format!("(supervision #{})", sv.count) }) }
                    dt { (if lang == Lang::Zh { "督办时间" } else { "Raised" }) } dd { (local_time(sv.raised_at)) " · " (if sv.automatic { if lang == Lang::Zh { "按规则自动" } else { "by rule" } } else if lang == Lang::Zh { "人工督办" } else { "by a supervisor" }) }
                    dt { (if lang == Lang::Zh { "督办事由" } else { "Reason" }) } dd { (sv.reason) }
                    dt { (if lang == Lang::Zh { "承办单位反馈" } else { "Unit's answer" }) } dd {
                        @match (&sv.answer, sv.answered_at) {
                            (Some(a), Some(at)) => { (a) " · " (local_time(at)) },
                            _ => { strong.error { (if lang == Lang::Zh { "待反馈" } else { "awaiting the unit's answer" }) } },
                        }
                    }
                }
            }
        }
        div.card {
            dl.fields {
                dt { (t(lang, "title")) } dd { (tk.title) }
                dt { (t(lang, "channel")) } dd { (r.channel_name(&tk.channel, lang != Lang::Zh)) @if let Some(d) = &tk.channel_detail { " " (d) @if let Some(l) = r.line(d) { " " (l.name) } } }
                dt { (t(lang, "kind")) } dd { (if lang == Lang::Zh { tk.kind.label_zh() } else { tk.kind.as_str() }) }
                dt { (t(lang, "citizen")) } dd {
                    (tk.citizen.name.as_deref().unwrap_or(none)) " · " (tk.citizen.phone.as_deref().unwrap_or(none))
                    @if tk.confidential { " · " strong { (t(lang, "confidential")) } }
                    @if was_revealed {
                        " " span.tag.audited { (t(lang, "revealed_audited")) }
                        // Shown once, on the answer to the POST: the address bar goes back
                        // to the ticket, so a reload is the masked page, not a repost.
                        span #canonical-path hidden data-path=(format!("/tickets/{}", tk.id)) {}
                    }
                }
                @if let Some(rec) = &tk.recording {
                    // Only the intake's own check lets an address through: https, no spaces.
                    dt { (if lang == Lang::Zh { "通话录音" } else { "Call recording" }) }
                    dd.recording {
                        @if rec.starts_with("https://") { a href=(rec) rel="noopener noreferrer" target="_blank" { (rec) } }
                        @else { code { (rec) } }
                    }
                }
                dt { (t(lang, "address")) } dd { (tk.address.as_deref().unwrap_or(none)) }
                dt { (t(lang, "category")) } dd { (tk.category_code.as_deref().map(|c| r.category_path(c).unwrap_or_else(|| c.to_string())).unwrap_or_else(|| none.to_string())) }
                dt { (t(lang, "division")) } dd #place {
                    (tk.division_code.as_deref().map(|c| r.division_path(c).unwrap_or_else(|| c.to_string())).unwrap_or_else(|| none.to_string()))
                    @if let Some(p) = &tk.place { " " (place_note(lang, p, &r)) }
                }
                dt { (t(lang, "lead_unit")) } dd { (tk.lead_unit_id.and_then(|u| r.unit_name(u)).unwrap_or(none)) }
                dt { (t(lang, "co_units")) } dd {
                    @for u in &tk.co_unit_ids { (r.unit_name(*u).unwrap_or("")) " " }
                }
                @if let Some(p) = &tk.pending_extension {
                    dt { (t(lang, "extension_pending")) } dd { (p.days) " " (t(lang, "working_days")) "：" (p.reason) }
                }
                dt { (t(lang, "tier")) } dd { @if tk.tier.is_some() { (deadline_cell(lang, &tk, &r)) } @else { (none) } }
                dt { (t(lang, "created")) } dd { (local_time(tk.created_at)) }
            }
        }
        @if !tk.chain.is_empty() { (chain_card(lang, &tk, &r)) }
        @if !tk.summons.is_empty() { (summons_card(lang, &tk, &r)) }
        (patrol::community_card(lang, &tk, &r))
        div.card {
            h2 { (t(lang, "content")) }
            p { (tk.content) }
            @if let (Some(a), None) = (&tk.answer, tk.resolved_on_spot_by) { h2 { (if lang == Lang::Zh { "直接答复" } else { "Answer" }) } p { (a) } }
            @if let Some(r) = &tk.reply { h2 { (t(lang, "reply")) } p { (r) } }
        }
        (files::card(lang, &csrf, &tk, &files, s.may(Permission::AttachFiles)))
        (cases::ticket_card(lang, &csrf, &tk, case.as_ref(), s.may(Permission::EditCases)))
        @if let Some(e) = err.as_ref().filter(|e| e.field.is_none() || !allowed.contains(&e.action)) {
            p.error role="alert" { (i18n::message(lang, &e.message)) }
        }
        @if !allowed.is_empty() {
            div.card.actions {
                h2 { (t(lang, "actions")) }
                // The usual action stands open, unless another one's input came back.
                @for (i, a) in allowed.iter().enumerate() { (actions::form(lang, &csrf, &tk, *a, &forms, err.as_ref(), i == 0 && err.is_none())) }
            }
        }
        @if let Some(d) = &deadlines {
            @if !d.clocks.is_empty() { (clocks_card(lang, d)) }
        }
        div.card {
            h2 { (t(lang, "timeline")) }
            ol.timeline {
                @for e in &events {
                    li {
                        div.when { (local_time(e.at)) " · " (names.get(&e.actor.user_id).map(String::as_str).unwrap_or(if e.actor.user_id == 0 { if lang == Lang::Zh { "系统" } else { "system" } } else { "" })) }
                        div { (event_text(e, lang, Some(&r))) }
                    }
                }
            }
        }
    };
    html_response(status, page(lang, Some(s), "/tickets", body))
}

#[cfg(test)]
mod tests {
    use super::back_to;

    #[test]
    fn a_form_goes_back_only_within_the_site() {
        let f = |v: &str| vec![("_back".to_string(), v.to_string())];
        assert_eq!(
            back_to(&f("/tickets?state=received")).as_deref(),
            Some("/tickets?state=received")
        );
        assert_eq!(back_to(&f("/")).as_deref(), Some("/"));
        for away in [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil.example",
            "tickets",
            "",
        ] {
            assert_eq!(back_to(&f(away)), None, "{away}");
        }
        assert_eq!(back_to(&[]), None);
    }
}
