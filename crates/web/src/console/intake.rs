//! The operator's intake form (受理): built for speed on the phone, keyboard only. The
//! caller's earlier tickets show as soon as the number is looked up; answering at once
//! ("resolve directly") is the same single step.

use super::i18n::{Lang, t};
use super::{
    Session, forbidden_page, form_session, html_response, local_time, page, session, session_csrf,
    to_login,
};
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use mashangban_app::auth::actor_of;
use mashangban_app::tickets::ListQuery;
use mashangban_app::{App, AppError};
use mashangban_domain::Permission;
use mashangban_domain::{Action, Kind, Ticket};
use maud::{Markup, html};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

#[derive(serde::Deserialize, Default)]
pub struct IntakeQuery {
    phone: Option<String>,
    /// The call's recording id, as the telephone system's screen pop passes it with the
    /// caller's number (`/intake?phone=…&recording=…`).
    recording: Option<String>,
    created: Option<i64>,
    /// Set when the answer given at intake could not resolve the ticket at once.
    unresolved: Option<String>,
}

/// What was typed, by field name.
type Typed = HashMap<String, String>;

fn val<'a>(typed: &'a Typed, k: &str) -> &'a str {
    typed.get(k).map(String::as_str).unwrap_or("")
}

fn intake_form(
    lang: Lang,
    s: &Session,
    typed: &Typed,
    errors: &HashMap<String, String>,
    history: &[Ticket],
    // The ticket just received, whether its answer failed to resolve it, and the number of
    // the ticket it was merged into.
    created: Option<(&Ticket, bool, Option<&str>)>,
    r: &mashangban_app::Reference,
) -> Markup {
    let zh = lang == Lang::Zh;
    let err = |k: &str| errors.get(k).map(|m| super::i18n::message(lang, m));
    html! {
        h1 { (if zh { "受理登记" } else { "Intake" }) }
        @if let Some((tk, unresolved, parent_number)) = created {
            p.notice role="status" {
                (if zh { "已受理，工单编号 " } else { "Received: ticket " }) a href=(format!("/tickets/{}", tk.id)) { strong #created-number { (tk.number) } }
                // What the caller needs to follow it on the portal (群众端查询).
                (if zh { "，查询码 " } else { ", tracking code " }) strong #created-code { (tk.tracking_code) }
                @if let (mashangban_domain::TicketState::Merged, Some(parent)) = (tk.state, tk.parent_id) {
                    (if zh { "，已并入工单 " } else { ", merged into ticket " }) a #merged-into href=(format!("/tickets/{parent}")) { (parent_number.map(str::to_string).unwrap_or_else(|| parent.to_string())) } (if zh { "（同一诉求，不再单独派单）" } else { " (the same matter: not dispatched on its own)" })
                }
            }
            @if tk.state == mashangban_domain::TicketState::Received && unresolved {
                p.error role="alert" { (if zh { "答复未能直接办结该工单，请在工单页面处理。" } else { "The answer could not resolve the ticket at once; handle it on the ticket page." }) }
            }
        }
        @if let Some(e) = err("form") { p.error role="alert" { (e) } }
        @if let Some(found) = typed.get("_extracted") { p.notice #extracted role="status" { (found) } }
        // An emergency the words reveal takes the top of the screen (the script moves the
        // banner of the suggestions here); the suggestions and the caller's history stand
        // beside the form, in view while the operator types.
        div #emergency aria-live="assertive" {}
        div.intake-layout {
        form.intake #intake-form method="post" action="/intake" {
            input type="hidden" name="_csrf" value=(session_csrf(&s.token));
            input #suggested_category_code type="hidden" name="suggested_category_code" value=(val(typed, "suggested_category_code"));
            // 智能填单: a transcript or a long message fills the empty fields, to be checked.
            details.extract open[!val(typed, "transcript").is_empty()] {
                summary { (if zh { "从通话记录或长文本填单" } else { "Fill from a transcript or a long message" }) }
                div.field {
                    label for="transcript" { (if zh { "粘贴通话记录或留言全文" } else { "Paste the transcript or the message" }) }
                    textarea #transcript name="transcript" rows="4" cols="72" maxlength="20000" { (val(typed, "transcript")) }
                    @if let Some(e) = err("text") { span.error { (e) } }
                }
                button #extract-button type="submit" formaction="/intake/extract" formmethod="post" { (if zh { "识别并填入空白项" } else { "Read it and fill the empty fields" }) }
            }
            div.row {
                div.field {
                    label for="phone" { (t(lang, "phone")) }
                    input #phone name="phone" value=(val(typed, "phone")) inputmode="tel" autofocus autocomplete="off";
                    button type="submit" formaction="/intake/lookup" formmethod="post" { (if zh { "来电历史" } else { "Caller history" }) }
                    @if let Some(e) = err("citizen.phone") { span.error { (e) } }
                }
                div.field {
                    label for="name" { (t(lang, "citizen")) }
                    input #name name="name" value=(val(typed, "name"));
                    @if let Some(e) = err("citizen.name") { span.error { (e) } }
                }
                div.field {
                    label for="confidential" { (t(lang, "confidential")) }
                    input #confidential type="checkbox" name="confidential" checked[!val(typed, "confidential").is_empty()];
                }
            }
            div.row {
                div.field {
                    label for="channel" { (t(lang, "channel")) }
                    select #channel name="channel" {
                        @for c in r.channels.iter().filter(|c| c.active) { option value=(c.code.as_str()) selected[val(typed, "channel") == c.code.as_str()] { (if zh { &c.name } else { &c.name_en }) } }
                    }
                }
                div.field {
                    label for="channel_detail" { (if zh { "整合热线号码（整合热线必选）" } else { "Merged hotline (required on one)" }) }
                    select #channel_detail name="channel_detail" {
                        option value="" { (if zh { "（非整合热线）" } else { "(not a merged hotline)" }) }
                        @for l in r.lines.iter().filter(|l| l.active) { option value=(l.number) selected[val(typed, "channel_detail") == l.number] { (l.number) " " (l.name) } }
                    }
                    @if let Some(m) = err("channel_detail") { p.error role="alert" { (m) } }
                }
                // The call's recording comes with the telephone system's screen pop
                // (`/intake?phone=…&recording=…`), not from the operator's hands: carried, shown
                // small, and the desk's height unchanged when there is none.
                @let recording = val(typed, "recording");
                @if !recording.is_empty() || err("recording").is_some() {
                    div.field.recording {
                        input type="hidden" name="recording" value=(recording);
                        span.muted { (if zh { "通话录音：" } else { "Call recording: " }) code { (recording) } }
                        @if let Some(m) = err("recording") { p.error role="alert" { (m) } }
                    }
                }
                div.field {
                    label for="kind" { (t(lang, "kind")) }
                    select #kind name="kind" {
                        @for k in Kind::ALL { option value=(k.as_str()) selected[val(typed, "kind") == k.as_str()] { (if zh { k.label_zh() } else { k.as_str() }) } }
                    }
                }
                div.field {
                    label for="category_code" { (t(lang, "category")) }
                    (category_picker(lang, r, val(typed, "category_code")))
                    @if let Some(e) = err("category_code") { span.error { (e) } }
                }
            }
            div.row {
                div.field {
                    label for="address" { (t(lang, "address")) }
                    input #address name="address" value=(val(typed, "address")) size="40";
                    @if let Some(e) = err("address") { span.error { (e) } }
                }
                div.field {
                    label for="title" { (if zh { "标题（可不填，按内容生成）" } else { "Title (optional; made from the content)" }) }
                    input #title name="title" value=(val(typed, "title")) size="36" maxlength="100";
                    @if let Some(e) = err("title") { span.error { (e) } }
                }
            }
            div.field {
                label for="content" { (t(lang, "content")) }
                textarea #content name="content" rows="5" cols="72" { (val(typed, "content")) }
                @if let Some(e) = err("content") { span.error { (e) } }
            }
            div.field {
                label for="answer" { (if zh { "直接答复（填写即直接办结）" } else { "Answer now (resolves directly)" }) }
                textarea #answer name="answer" rows="2" cols="72" { (val(typed, "answer")) }
                @if let Some(e) = err("answer") { span.error { (e) } }
            }
            button.primary type="submit" accesskey="s" { (if zh { "保存受理 (Alt+S)" } else { "Save (Alt+S)" }) }
        }
        // The caller's history first (short, and what the operator greets the caller
        // with), then what the system proposes.
        aside.intake-side {
            div #history aria-live="polite" {
                @if !val(typed, "phone").is_empty() { (history_list(lang, history)) }
            }
            div #suggest aria-live="polite" {}
        }
        }
    }
}

/// The dispatch catalogue as a picker: each top category a group, its leaves by name with
/// their middle level, narrowed by typing in the search box (with the page's script).
pub(super) fn category_picker(lang: Lang, r: &mashangban_app::Reference, chosen: &str) -> Markup {
    category_picker_for(lang, r, chosen, "category_code")
}

/// [`category_picker`] with the select's id (the field's name stays `category_code`).
pub(super) fn category_picker_for(
    lang: Lang,
    r: &mashangban_app::Reference,
    chosen: &str,
    id: &str,
) -> Markup {
    let zh = lang == Lang::Zh;
    let mut cats: Vec<_> = r.categories.values().filter(|c| c.active).collect();
    cats.sort_by(|a, b| a.code.cmp(&b.code));
    html! {
        input.unit-search type="search" data-filter-for=(id) placeholder=(if zh { "搜索分类…" } else { "Search categories…" }) aria-label=(if zh { "搜索分类" } else { "Search categories" }) autocomplete="off";
        select id=(id) name="category_code" {
            option value="" { (if zh { "（未分类，由派单员判断）" } else { "(uncategorised: the dispatcher decides)" }) }
            @for top in cats.iter().filter(|c| c.level == 1) {
                optgroup label=(top.name) {
                    @for c in cats.iter().filter(|c| c.level == 3 && c.code.starts_with(&top.code)) {
                        option value=(c.code) selected[chosen == c.code] {
                            (c.parent_code.as_deref().and_then(|p| r.categories.get(p)).map(|p| p.name.as_str()).unwrap_or("")) " / " (c.name)
                        }
                    }
                }
            }
            @if !chosen.is_empty() && !cats.iter().any(|c| c.code == chosen && c.level == 3) {
                option value=(chosen) selected { (r.category_path(chosen).unwrap_or_else(|| chosen.to_string())) }
            }
        }
    }
}

/// The caller's earlier tickets (来电弹屏), newest first.
fn history_list(lang: Lang, history: &[Ticket]) -> Markup {
    let zh = lang == Lang::Zh;
    html! {
        h2 { (if zh { "来电历史" } else { "Caller history" }) }
        @if history.is_empty() {
            p.muted { (if zh { "该号码没有历史工单" } else { "No earlier tickets from this number" }) }
        } @else {
            ul.history {
                @for h in history {
                    li { a href=(format!("/tickets/{}", h.id)) { (h.number) } " " (h.title) " · " (local_time(h.created_at)) " · " (if zh { h.state.label_zh() } else { h.state.as_str() }) }
                }
            }
        }
    }
}

async fn history(app: &App, s: &Session, phone: &str) -> Vec<Ticket> {
    if phone.trim().is_empty() {
        return Vec::new();
    }
    let q = ListQuery {
        phone: Some(phone.trim().to_string()),
        limit: Some(10),
        ..Default::default()
    };
    app.list_tickets(&actor_of(&s.user), q)
        .await
        .map(|p| p.items)
        .unwrap_or_default()
}

fn may_receive(s: &Session) -> bool {
    s.may(Permission::ReceiveRequests)
}

/// The session of a receiving user posting a same-site form with its CSRF token, or the
/// response that refuses the post.
async fn receiving_post(
    app: &App,
    headers: &HeaderMap,
    form: &[(String, String)],
) -> Result<Session, Response> {
    form_session(app, headers, form, Permission::ReceiveRequests).await
}

#[derive(serde::Deserialize)]
pub struct HistoryQuery {
    #[serde(default)]
    phone: String,
}

/// The caller-history fragment the intake page's script fetches while the number is typed.
pub async fn intake_history(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<HistoryQuery>,
) -> Response {
    let Some(s) = session(&app, &headers).await else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    if !may_receive(&s) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let hist = history(&app, &s, &q.phone).await;
    html_response(StatusCode::OK, history_list(s.lang, &hist))
}

pub async fn intake_page(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<IntakeQuery>,
) -> Response {
    let Some(s) = session(&app, &headers).await else {
        return to_login();
    };
    if !may_receive(&s) {
        return forbidden_page(s.lang);
    }
    let mut typed = Typed::new();
    typed.insert("channel".into(), "phone".into());
    typed.insert("kind".into(), "complaint".into());
    if let Some(p) = q.phone {
        typed.insert("phone".into(), p);
    }
    if let Some(rec) = q.recording {
        typed.insert("recording".into(), rec);
    }
    let created = match q.created {
        Some(id) => app.get_ticket(&actor_of(&s.user), id).await.ok(),
        None => None,
    };
    // A request merged into an open ticket names that ticket by its number.
    let parent_number = match created.as_ref().and_then(|tk| tk.parent_id) {
        Some(parent) => app
            .get_ticket(&actor_of(&s.user), parent)
            .await
            .ok()
            .map(|p| p.number),
        None => None,
    };
    let hist = history(&app, &s, val(&typed, "phone")).await;
    html_response(
        StatusCode::OK,
        page(
            s.lang,
            Some(&s),
            "/intake",
            intake_form(
                s.lang,
                &s,
                &typed,
                &HashMap::new(),
                &hist,
                created
                    .as_ref()
                    .map(|tk| (tk, q.unresolved.is_some(), parent_number.as_deref())),
                &*super::reference(&app, &s.actor()).await,
            ),
        ),
    )
}

fn typed_of(form: &[(String, String)]) -> Typed {
    form.iter()
        .filter(|(k, _)| !k.starts_with('_'))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The caller-history button: the same form, with what was typed and the history.
pub async fn intake_lookup(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match receiving_post(&app, &headers, &form).await {
        Ok(s) => s,
        Err(refused) => return refused,
    };
    form_again(&app, &s, &typed_of(&form), &HashMap::new(), StatusCode::OK).await
}

/// The form again with what was typed (and errors beside their fields), the caller's
/// history looked up for the phone now in it.
async fn form_again(
    app: &App,
    s: &Session,
    typed: &Typed,
    errors: &HashMap<String, String>,
    status: StatusCode,
) -> Response {
    let hist = history(app, s, val(typed, "phone")).await;
    html_response(
        status,
        page(
            s.lang,
            Some(s),
            "/intake",
            intake_form(
                s.lang,
                s,
                typed,
                errors,
                &hist,
                None,
                &*super::reference(app, &s.actor()).await,
            ),
        ),
    )
}

/// 智能填单: the form again, its empty fields filled from the transcript (name, phone,
/// address, title; the transcript as the content when there is none) and a notice of what
/// was found, for the operator to check.
pub async fn intake_extract(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match receiving_post(&app, &headers, &form).await {
        Ok(s) => s,
        Err(refused) => return refused,
    };
    let mut typed = typed_of(&form);
    let zh = s.lang == Lang::Zh;
    let transcript = val(&typed, "transcript").to_string();
    let mut errors = HashMap::new();
    match app
        .extract(
            &actor_of(&s.user),
            mashangban_app::text::ExtractInput {
                text: transcript.clone(),
            },
        )
        .await
    {
        Ok(found) => {
            let f = &found.fields;
            let mut fill = |k: &str, v: Option<&str>| {
                if let Some(v) = v.filter(|v| !v.is_empty())
                    && val(&typed, k).trim().is_empty()
                {
                    typed.insert(k.into(), v.to_string());
                }
            };
            fill("name", f.name.as_deref());
            fill("phone", f.phones.first().map(String::as_str));
            fill("address", f.address.as_deref());
            fill("title", Some(f.title.as_str()));
            fill("content", Some(transcript.trim()));
            let none = if zh { "未识别" } else { "not found" };
            let or_none = |v: Option<&str>| v.map(str::to_string).unwrap_or_else(|| none.into());
            let phones = if f.phones.is_empty() {
                none.to_string()
            } else {
                f.phones.join(if zh { "、" } else { ", " })
            };
            let place = match &found.division {
                Some(d) => format!("{}（{}）", or_none(f.address.as_deref()), d.path),
                None => or_none(f.address.as_deref()),
            };
            let notice = if zh {
                format!(
                    "已从文本识别并填入空白项，请与来电人核对：姓名 {}；电话 {}；地址 {}；时间 {}。",
                    or_none(f.name.as_deref()),
                    phones,
                    place,
                    or_none(f.time.as_deref())
                )
            } else {
                format!(
                    "Read from the text and put in the empty fields; check them with the caller: name {}; phone {}; address {}; time {}.",
                    or_none(f.name.as_deref()),
                    phones,
                    place,
                    or_none(f.time.as_deref())
                )
            };
            typed.insert("_extracted".into(), notice);
        }
        Err(e) => {
            let (field, message) = match &e {
                AppError::Invalid { field, message } => (field.clone(), message.clone()),
                other => ("form".to_string(), other.to_string()),
            };
            errors.insert(field, message);
        }
    }
    form_again(&app, &s, &typed, &errors, StatusCode::OK).await
}

/// The form again, with what was typed and the error beside its field (422).
async fn refused(
    app: &App,
    s: &Session,
    typed: &Typed,
    field: String,
    message: String,
) -> Response {
    let errors = HashMap::from([(field, message)]);
    form_again(app, s, typed, &errors, StatusCode::UNPROCESSABLE_ENTITY).await
}

pub async fn intake_submit(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match receiving_post(&app, &headers, &form).await {
        Ok(s) => s,
        Err(refused) => return refused,
    };
    let typed = typed_of(&form);
    let mut body = Map::new();
    for k in [
        "channel",
        "channel_detail",
        "recording",
        "kind",
        "title",
        "content",
        "address",
        "category_code",
        "suggested_category_code",
    ] {
        let v = val(&typed, k).trim();
        if !v.is_empty() {
            body.insert(k.into(), json!(v));
        }
    }
    if !body.contains_key("content") {
        body.insert("content".into(), json!(""));
    }
    let mut citizen = Map::new();
    for (k, f) in [("name", "name"), ("phone", "phone")] {
        let v = val(&typed, f).trim();
        if !v.is_empty() {
            citizen.insert(k.into(), json!(v));
        }
    }
    body.insert("citizen".into(), Value::Object(citizen));
    body.insert(
        "confidential".into(),
        json!(!val(&typed, "confidential").is_empty()),
    );
    let actor = actor_of(&s.user);
    let answer = val(&typed, "answer").trim().to_string();
    let merge_into = val(&typed, "merge_into").trim().to_string();
    if !merge_into.is_empty() {
        if !answer.is_empty() {
            return refused(
                &app,
                &s,
                &typed,
                "answer".into(),
                "a request merged into an open ticket follows that ticket; clear the answer or save it as a new request".into(),
            )
            .await;
        }
        match merge_into.parse::<i64>() {
            Ok(id) => {
                body.insert("merge_into".into(), json!(id));
            }
            Err(_) => {
                return refused(
                    &app,
                    &s,
                    &typed,
                    "form".into(),
                    "merge_into: must be the id of an open ticket (a positive integer)".into(),
                )
                .await;
            }
        }
    }
    // An answer that could not resolve the ticket is refused before anything is written.
    if !answer.is_empty()
        && let Err(mashangban_domain::DomainError::Invalid { message, .. }) =
            mashangban_domain::Command::parse(
                Action::ResolveDirectly,
                json!({ "answer": answer.clone() }),
            )
    {
        return refused(&app, &s, &typed, "answer".into(), message).await;
    }
    let ticket = match app.create_ticket(&actor, Value::Object(body), None).await {
        Ok((tk, _)) => tk,
        Err(AppError::Invalid { field, message }) => {
            // The ticket to merge into is named by a button, not a field: said above the form.
            let (field, message) = if field == "merge_into" {
                ("form".to_string(), format!("merge_into: {message}"))
            } else {
                (field, message)
            };
            return refused(&app, &s, &typed, field, message).await;
        }
        Err(e) => {
            tracing::error!(error = %e, "intake");
            return refused(
                &app,
                &s,
                &typed,
                "form".into(),
                "internal error; it has been logged".into(),
            )
            .await;
        }
    };
    if !answer.is_empty()
        && let Err(e) = app
            .act(
                &actor,
                ticket.id,
                Action::ResolveDirectly,
                json!({"answer": answer}),
            )
            .await
    {
        // The request is received either way; the page says it was not resolved at once.
        tracing::warn!(error = %e, "resolve directly at intake");
        return Redirect::to(&format!("/intake?created={}&unresolved=1", ticket.id))
            .into_response();
    }
    Redirect::to(&format!("/intake?created={}", ticket.id)).into_response()
}

#[derive(serde::Deserialize)]
pub struct SuggestQuery {
    #[serde(default)]
    title: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    category_code: String,
}

/// What the system proposes for the intake so far: the emergency banner first, then the
/// categories (each accepted with one click, the first with Alt+1), the place, the owning
/// unit with the rule that decided, the tier, look-alike open tickets and knowledge-base
/// answers (Alt+2 puts the first in the answer box).
fn suggestions_panel(lang: Lang, sg: &mashangban_app::text::Suggestion) -> Markup {
    let zh = lang == Lang::Zh;
    let pct = |c: f32| format!("{:.0}%", c * 100.0);
    let e = &sg.emergency;
    html! {
        @if e["flag"] == true {
            div.emergency role="alert" {
                strong { (if zh { "紧急情况：请立即转接 " } else { "Emergency: transfer now to " }) (e["transfer_to"].as_str().unwrap_or("110")) }
                @if let Some(also) = e["also"].as_array() { @for a in also { " · " (a.as_str().unwrap_or("")) } }
                @if let Some(signals) = e["signals"].as_array() {
                    span.muted { (if zh { "（依据：" } else { " (signals: " }) @for (i, s) in signals.iter().enumerate() { @if i > 0 { "、" } (s.as_str().unwrap_or("")) } (if zh { "）" } else { ")" }) }
                }
            }
        }
        @if !sg.categories.is_empty() {
            div.suggest-block.uncertain[sg.categories_uncertain] {
                @if sg.categories_uncertain {
                    strong { (if zh { "分类不确定，请人工判断 " } else { "Category uncertain, please decide " }) }
                    span.muted { (if zh { "可能是：" } else { "perhaps: " }) }
                } @else {
                    strong { (if zh { "建议分类 " } else { "Category " }) }
                }
                @for (i, c) in sg.categories.iter().enumerate() {
                    button.accept type="button" data-accept="category_code" data-value=(c.code) data-key=[(i == 0).then_some("1")] {
                        (c.name) " " (pct(c.confidence)) @if i == 0 { span.muted { " Alt+1" } }
                    }
                    " "
                }
                @if let Some(first) = sg.categories.first() && !first.because.is_empty() {
                    span.muted { (if zh { "依据词：" } else { "because of: " }) (first.because.join("、")) }
                }
            }
        }
        div.suggest-block {
            strong { (if zh { "地点 " } else { "Place " }) }
            @if let Some(d) = &sg.division {
                (d.path) " " span.muted { (pct(d.confidence)) }
            } @else if !sg.division_candidates.is_empty() {
                (if zh { "有多处同名，请与来电人确认：" } else { "Several places fit; ask the caller: " })
                @for (i, d) in sg.division_candidates.iter().enumerate() { @if i > 0 { "；" } (d.path) }
            } @else {
                span.muted { (if zh { "未能从地址识别" } else { "not recognised from the address" }) }
            }
        }
        @if let Some(u) = &sg.unit {
            div.suggest-block {
                strong { (if zh { "承办单位 " } else { "Owning unit " }) }
                (u["name"].as_str().unwrap_or(""))
                @if let Some(t) = sg.tier { " · " (if zh { format!("{t}个工作日") } else { format!("{t}-day tier") }) }
                br;
                span.muted.rule { (if zh { "依据派单目录：" } else { "by the catalogue: " }) (u["rule"].as_str().unwrap_or("")) }
            }
        }
        @if !sg.duplicates.is_empty() {
            div.suggest-block {
                strong { (if zh { "疑似重复（同地点未办结）" } else { "Possible duplicates (open, same place)" }) }
                ul { @for d in &sg.duplicates { li {
                    a href=(format!("/tickets/{}", d.id)) { (d.number) } " " (d.title) " " span.muted { (pct(d.score)) } " "
                    (merge_button(lang, d.id))
                } } }
            }
        }
        @let repeats: Vec<_> = sg.caller_history.iter().filter(|c| c.same_matter && !sg.duplicates.iter().any(|d| d.id == c.id)).collect();
        @if !repeats.is_empty() {
            div.suggest-block {
                strong { (if zh { "来电人再次反映同一诉求（未办结）" } else { "The caller again, about an open matter" }) }
                ul { @for c in repeats { li {
                    a href=(format!("/tickets/{}", c.id)) { (c.number) } " " (c.title) " · " (if zh { c.state.label_zh() } else { c.state.as_str() }) " " span.muted { (pct(c.similarity)) } " "
                    (merge_button(lang, c.id))
                } } }
            }
        }
        @if !sg.knowledge.is_empty() {
            div.suggest-block {
                strong { (if zh { "知识库答复" } else { "Knowledge base" }) }
                ul {
                    @for (i, k) in sg.knowledge.iter().enumerate() {
                        li {
                            (k.question) @if k.demo { " " span.tag.demo { (if zh { "演示内容" } else { "demo" }) } }
                            br;
                            span.muted { (k.answer) }
                            " "
                            button.accept type="button" data-accept="answer" data-value=(k.answer) data-key=[(i == 0).then_some("2")] {
                                (if zh { "用作直接答复" } else { "Use as the answer" }) @if i == 0 { span.muted { " Alt+2" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Saves the intake as the same matter as open ticket `id`: received and merged into it at
/// once (the button submits the intake form, which it names, from outside it).
fn merge_button(lang: Lang, id: i64) -> Markup {
    html! {
        button.merge type="submit" form="intake-form" name="merge_into" value=(id) {
            (if lang == Lang::Zh { "并入此单" } else { "Merge into this" })
        }
    }
}

/// The suggestions fragment the intake page's script fetches when the operator pauses.
pub async fn intake_suggest(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<SuggestQuery>,
) -> Response {
    let Some(s) = session(&app, &headers).await else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    if !may_receive(&s) {
        return StatusCode::FORBIDDEN.into_response();
    }
    if q.title.trim().is_empty() && q.content.trim().is_empty() && q.address.trim().is_empty() {
        return html_response(StatusCode::OK, html! {});
    }
    let input = mashangban_app::text::SuggestInput {
        title: q.title,
        content: q.content,
        address: q.address,
        phone: q.phone,
        category_code: q.category_code,
    };
    match app.suggest(&actor_of(&s.user), input).await {
        Ok(sg) => html_response(StatusCode::OK, suggestions_panel(s.lang, &sg)),
        Err(mashangban_app::AppError::Invalid { message, .. }) => html_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            html! { p.error { (super::i18n::message(s.lang, &message)) } },
        ),
        Err(e) => {
            tracing::error!(error = %e, "intake suggestions");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
