//! The public portal (群众端, `/public`): for citizens, without an account. Server-rendered,
//! mobile-first, working without any script. It calls the same public use cases as
//! `/api/v1/public` and shows what the domain's public view gives, nothing more.

use crate::api_public::ClientAddr;
use crate::console::{cookie, cross_site, html_response, local_time, with_cookie};
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use mashangban_app::files::Incoming;
use mashangban_app::{App, AppError};
use mashangban_domain::Kind;
use mashangban_domain::public::{PublicReceipt, PublicState, PublicTicket};
use maud::{DOCTYPE, Markup, html};
use rand::Rng;
use std::collections::HashMap;

/// The portal's form token (a cookie and the same value in the form): a form posted from
/// another site carries no such pair.
const FORM_COOKIE: &str = "mb_pform";

pub fn routes() -> Router<App> {
    Router::new()
        .route("/public", get(home))
        .route("/public/track", get(track))
        .route("/public/rate", axum::routing::post(rate))
        .route("/public/mine", get(mine))
        .route("/public/mine/code", axum::routing::post(mine_code))
        .route("/public/mine/session", axum::routing::post(mine_session))
        .route(
            "/public/submit",
            get(submit_page)
                .post(submit)
                .layer(axum::extract::DefaultBodyLimit::max(
                    crate::api_files::UPLOAD_BODY_BYTES,
                )),
        )
        .route("/public/files/{number}/{id}", get(public_file))
        .route("/public/propose", get(propose))
        .route("/static/public.js", get(script))
        .route("/static/public.css", get(stylesheet))
}

pub(crate) fn shell(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · 12345政务服务便民热线" }
                link rel="stylesheet" href="/static/public.css";
                script src="/static/public.js" defer {}
            }
            body {
                header.site {
                    a.brand href="/public" { "12345 政务服务便民热线" }
                    nav aria-label="主要栏目" {
                        a href="/public" { "首页" }
                        a href="/public/submit" { "提交诉求" }
                        a href="/public/track" { "查询进度" }
                        a href="/public/mine" { "我的诉求" }
                        a href="/public/cases" { "典型案例" }
                        a href="/public/data" { "数据开放" }
                    }
                }
                main #main { (body) }
                footer.site {
                    p { "服务热线 12345 · 7×24小时人工接听" }
                }
            }
        }
    }
}

/// The emergency numbers: what the hotline is not for.
fn emergencies() -> Markup {
    html! {
        section.emergency aria-labelledby="emergency-title" {
            h2 #emergency-title { "紧急情况请直接拨打" }
            ul {
                li { strong { "110" } " 报警：治安、刑事案件、危及人身财产安全的情况" }
                li { strong { "119" } " 火警：火灾、燃气泄漏、被困等抢险救援" }
                li { strong { "120" } " 急救：突发疾病、受伤" }
                li { strong { "122" } " 交通事故报警" }
            }
        }
    }
}

async fn home() -> Response {
    html_response(
        StatusCode::OK,
        shell(
            "首页",
            html! {
                h1 { "有诉必应 马上办" }
                p.lead {
                    "12345政务服务便民热线受理企业和群众的咨询、求助、投诉、举报和意见建议，"
                    "按“谁主管、谁负责”转交职能部门和属地办理，并按时限答复。"
                }
                (emergencies())
                section aria-labelledby="submit-title" {
                    h2 #submit-title { "网上提交诉求" }
                    p { "不便打电话时，可在网上提交，与12345电话受理一样登记、转办、限时答复。" }
                    p { a.button href="/public/submit" { "提交诉求" } }
                }
                section aria-labelledby="track-title" {
                    h2 #track-title { "查询诉求办理进度" }
                    p { "受理时您会得到工单编号和查询码（网上提交时显示在页面上，电话受理时话务员告知），凭二者可随时查看办理进度和答复。" }
                    p { a.button href="/public/track" { "查询进度" } }
                }
            },
        ),
    )
}

/// The state's steps, in order, for the progress line (said in words, not by colour).
const STEPS: [(PublicState, &str); 4] = [
    (PublicState::Received, "已受理"),
    (PublicState::Transferred, "已转交办理单位"),
    (PublicState::Handling, "办理中"),
    (PublicState::Answered, "已答复"),
];

fn progress(t: &PublicTicket) -> Markup {
    let at = match t.state {
        PublicState::Closed => STEPS.len(),
        // The citizen's rating is being looked into: the answer was given.
        PublicState::RatingReview => STEPS.len() - 1,
        s => STEPS.iter().position(|(p, _)| *p == s).unwrap_or(0),
    };
    let linear = !matches!(t.state, PublicState::NotAccepted | PublicState::Merged);
    html! {
        @if linear {
            ol.steps aria-label="办理进度" {
                @for (i, (_, label)) in STEPS.iter().enumerate() {
                    li class=(if i < at { "done" } else if i == at { "now" } else { "todo" }) {
                        (label)
                        @if i < at { span.visually-hidden { "（已完成）" } }
                        @if i == at { span.visually-hidden { "（当前）" } }
                    }
                }
                li class=(if t.state == PublicState::Closed { "now" } else { "todo" }) {
                    "已办结" @if t.state == PublicState::Closed { span.visually-hidden { "（当前）" } }
                }
            }
        }
    }
}

fn result(t: &PublicTicket) -> Markup {
    html! {
        section.result aria-labelledby="result-title" {
            h2 #result-title { "工单 " (t.number) }
            p.state { "当前状态：" strong #state { (t.state_label) } }
            (progress(t))
            dl {
                dt { "诉求" } dd { (t.title) }
                dt { "受理时间" } dd { (local_time(t.received_at)) }
                @if let Some(u) = &t.unit { dt { "办理单位" } dd #unit { (u) } }
                @if let Some(d) = t.expected_reply_by { dt { "预计答复" } dd { (local_time(d)) " 前" } }
                @if let Some(a) = &t.answer {
                    dt { (if t.state == PublicState::NotAccepted { "说明" } else { "答复" }) }
                    dd #answer { (a) }
                }
                @if let Some(r) = &t.redirect_to { dt { "建议咨询" } dd { (r) } }
            }
            p.next { (t.next_step) }
        }
    }
}

fn track_form(number: &str, code: &str) -> Markup {
    html! {
        form.track method="get" action="/public/track" {
            div.field {
                label for="number" { "工单编号" }
                input #number name="number" value=(number) required autocomplete="off" autocapitalize="characters" spellcheck="false" placeholder="例如 XN20261206000001" maxlength="40";
            }
            div.field {
                label for="code" { "查询码" }
                input #code name="code" value=(code) required autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="64";
            }
            button.button type="submit" { "查询" }
        }
    }
}

/// The rating form (一事一评) under an answer awaiting it: solved or not (optional), how
/// satisfied (required), a comment. Posted with the number, the code and the form token.
fn rating_form(number: &str, code: &str, token: &str, error: Option<&str>) -> Markup {
    let choice = |name: &str, value: &str, label: &str, required: bool| {
        let id = format!("{name}-{value}");
        html! {
            span.choice {
                input id=(id) type="radio" name=(name) value=(value) required[required];
                label for=(id) { (label) }
            }
        }
    };
    html! {
        form.rating method="post" action="/public/rate" {
            h2 { "评价本次办理" }
            input type="hidden" name="_form" value=(token);
            input type="hidden" name="number" value=(number);
            input type="hidden" name="code" value=(code);
            fieldset {
                legend { "问题是否解决？（选填）" }
                (choice("resolution", "resolved", "已解决", false))
                (choice("resolution", "partly", "部分解决", false))
                (choice("resolution", "unresolved", "未解决", false))
            }
            fieldset {
                legend { "您是否满意？" }
                (choice("satisfaction", "satisfied", "满意", true))
                (choice("satisfaction", "basically", "基本满意", true))
                (choice("satisfaction", "dissatisfied", "不满意", true))
            }
            div.field {
                label for="comment" { "意见（选填，最多500字）" }
                textarea #comment name="comment" rows="3" maxlength="500" {}
            }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            button.button type="submit" { "提交评价" }
        }
    }
}

/// `POST /public/rate`: the citizen's rating through the one public use case, then the
/// request as it now stands (or the form again, saying what was wrong).
async fn rate(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let token = form_token(&headers);
    let text = |k: &str| form.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let number = text("number").unwrap_or("");
    let code = text("code").unwrap_or("");
    let posted = text("_form").unwrap_or("");
    let page = |status: StatusCode, note: Option<&str>, error: Option<&str>| {
        let number = number.to_string();
        let code = code.to_string();
        let app = app.clone();
        let token = token.clone();
        let note = note.map(str::to_string);
        let error = error.map(str::to_string);
        async move {
            let found = app.track_public(&number, &code).await.ok();
            with_cookie(
                html_response(
                    status,
                    shell(
                        "评价",
                        html! {
                            h1 { "查询诉求办理进度" }
                            @if let Some(n) = &note { p.notice role="status" { (n) } }
                            @if let Some(t) = &found {
                                @if !t.may_rate { @if let Some(e) = &error { p.error role="alert" { (e) } } }
                                (result(t))
                                @if t.may_rate { (rating_form(&number, &code, &token, error.as_deref())) }
                            } @else {
                                @if let Some(e) = &error { p.error role="alert" { (e) } }
                                (track_form(&number, &code))
                            }
                        },
                    ),
                ),
                format!("{FORM_COOKIE}={token}; Path=/public; HttpOnly; SameSite=Strict"),
            )
        }
    };
    if cross_site(&headers) || cookie(&headers, FORM_COOKIE) != Some(posted) || posted.is_empty() {
        return page(
            StatusCode::FORBIDDEN,
            None,
            Some("页面已过期，请重新提交评价。"),
        )
        .await;
    }
    let body = serde_json::json!({
        "code": code,
        "resolution": text("resolution"),
        "satisfaction": text("satisfaction"),
        "comment": text("comment"),
    });
    match app.rate_public_at(number, body, chrono::Utc::now()).await {
        Ok(t) => {
            let thanks = if t.state == PublicState::RatingReview {
                "感谢您的评价。热线将核实您反映的情况，属实的将交办理单位重新办理。"
            } else {
                "感谢您的评价。"
            };
            page(StatusCode::OK, Some(thanks), None).await
        }
        Err(AppError::Invalid { field, .. }) => {
            let zh = match field.as_str() {
                "satisfaction" => "请选择您是否满意。",
                "comment" => "意见最多500字。",
                _ => "请检查填写的内容。",
            };
            page(StatusCode::UNPROCESSABLE_ENTITY, None, Some(zh)).await
        }
        Err(AppError::Conflict { .. }) => {
            page(
                StatusCode::CONFLICT,
                None,
                Some("该诉求已评价，或尚未答复。"),
            )
            .await
        }
        Err(AppError::NotFound(_)) => {
            page(
                StatusCode::NOT_FOUND,
                None,
                Some("没有找到：请核对工单编号和查询码。"),
            )
            .await
        }
        Err(AppError::Locked(_)) => {
            page(
                StatusCode::TOO_MANY_REQUESTS,
                None,
                Some("该编号查询码错误次数过多，请一小时后再试，或拨打12345。"),
            )
            .await
        }
        Err(e) => {
            tracing::error!(error = %e, "public rate");
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                None,
                Some("暂时无法提交，请稍后再试或拨打12345。"),
            )
            .await
        }
    }
}

/// `GET /public/track`: the look-up form, and with a number and a code, the request (and
/// the rating form when its answer awaits one).
async fn track(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let token = form_token(&headers);
    let number = q.get("number").map(|v| v.trim()).unwrap_or("");
    let code = q.get("code").map(|v| v.trim()).unwrap_or("");
    let (status, found, error) = if number.is_empty() && code.is_empty() {
        (StatusCode::OK, None, None)
    } else {
        match app.track_public(number, code).await {
            Ok(t) => (StatusCode::OK, Some(t), None),
            Err(AppError::NotFound(_)) => (
                StatusCode::NOT_FOUND,
                None,
                Some("没有找到：请核对工单编号和查询码。"),
            ),
            Err(AppError::Invalid { .. }) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some("请填写工单编号和查询码。"),
            ),
            Err(AppError::Locked(_)) => (
                StatusCode::TOO_MANY_REQUESTS,
                None,
                Some("该编号查询码错误次数过多，请一小时后再试，或拨打12345查询。"),
            ),
            Err(e) => {
                tracing::error!(error = %e, "public track");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    None,
                    Some("暂时无法查询，请稍后再试或拨打12345。"),
                )
            }
        }
    };
    let files = match &found {
        Some(_) => app
            .public_files(number, code, chrono::Utc::now())
            .await
            .unwrap_or_default(),
        None => Vec::new(),
    };
    with_cookie(
        html_response(
            status,
            shell(
                "查询进度",
                html! {
                    h1 { "查询诉求办理进度" }
                    (track_form(number, code))
                    @if let Some(e) = error { p.error role="alert" { (e) } }
                    @if let Some(t) = &found {
                        (result(t))
                        (files_markup(number, code, &files))
                        @if t.may_rate { (rating_form(number, code, &token, None)) }
                    }
                },
            ),
        ),
        format!("{FORM_COOKIE}={token}; Path=/public; HttpOnly; SameSite=Strict"),
    )
}

async fn stylesheet() -> Response {
    let mut r = include_str!("../assets/public.css").into_response();
    r.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/css; charset=utf-8"),
    );
    r.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("public, max-age=3600"),
    );
    r
}

/// The submission form, with what was typed and the errors by field.
fn submit_form(
    token: &str,
    typed: &HashMap<String, String>,
    errors: &HashMap<String, String>,
) -> Markup {
    let v = |k: &str| typed.get(k).map(String::as_str).unwrap_or("");
    let err = |k: &str| errors.get(k).cloned();
    html! {
        form.track method="post" action="/public/submit" enctype="multipart/form-data" novalidate {
            input type="hidden" name="_form" value=(token);
            div.field {
                label for="kind" { "诉求类型" }
                select #kind name="kind" {
                    @for k in Kind::ALL {
                        option value=(k.as_str()) selected[v("kind") == k.as_str() || (v("kind").is_empty() && *k == Kind::Help)] { (k.label_zh()) }
                    }
                }
            }
            div.field {
                label for="content" { "诉求内容（必填）" }
                textarea #content name="content" rows="6" required maxlength="20000" aria-describedby="content-hint" { (v("content")) }
                p.hint #content-hint { "请写清楚发生了什么、在哪里、从什么时候开始、希望怎样解决。" }
                @if let Some(e) = err("content") { p.error role="alert" { (e) } }
            }
            div.field {
                label for="address" { "发生地点" }
                input #address name="address" value=(v("address")) maxlength="500" placeholder="例如 城东区东关大街北关社区4号楼";
                @if let Some(e) = err("address") { p.error role="alert" { (e) } }
            }
            // What the citizen's own words point to (the page's script fills it in).
            div #propose aria-live="polite" {}
            div.field {
                label for="name" { "您的称呼" }
                input #name name="name" value=(v("name")) maxlength="50" autocomplete="name";
                @if let Some(e) = err("citizen.name") { p.error role="alert" { (e) } }
            }
            div.field {
                label for="phone" { "手机号码（必填，用于告知受理和答复）" }
                input #phone name="phone" value=(v("phone")) required inputmode="tel" autocomplete="tel" maxlength="32";
                @if let Some(e) = err("citizen.phone") { p.error role="alert" { (e) } }
            }
            div.field.check {
                input #confidential type="checkbox" name="confidential" value="true" checked[!v("confidential").is_empty()];
                label for="confidential" { "保密（办理单位看不到我的姓名和电话；不发送短信）" }
            }
            div.field.check {
                input #no_sms type="checkbox" name="no_sms" value="true" checked[!v("no_sms").is_empty()];
                label for="no_sms" { "不接收短信（受理回执、答复和评价邀请）" }
            }
            div.field {
                label for="photos" { "现场照片或材料（选填，最多6个，每个不超过10MB；照片中的位置等信息会被去除）" }
                input #photos type="file" name="file" multiple accept="image/jpeg,image/png,image/webp,application/pdf";
                @if let Some(e) = err("file") { p.error role="alert" { (e) } }
            }
            // Left empty by people; filled in by robots that fill in everything.
            div.trap aria-hidden="true" {
                label for="website" { "网址（请勿填写）" }
                input #website name="website" tabindex="-1" autocomplete="off";
            }
            @if let Some(e) = err("form") { p.error role="alert" { (e) } }
            button.button type="submit" { "提交" }
        }
    }
}

fn receipt(r: &PublicReceipt) -> Markup {
    let link = format!("/public/track?number={}&code={}", r.number, r.tracking_code);
    html! {
        @if let Some(n) = &r.call_now {
            section.emergency role="alert" {
                h2 { "紧急情况请立即拨打 " strong #call-now { (n) } }
                p { "您反映的情况可能危及安全，请立即拨打 " (n) "。您的诉求已同时登记，热线会跟进。" }
            }
        }
        section.result aria-labelledby="receipt-title" {
            h2 #receipt-title { "已受理" }
            dl {
                dt { "工单编号" } dd #receipt-number { (r.number) }
                dt { "查询码" } dd #receipt-code { (r.tracking_code) }
                dt { "预计答复" } dd { (local_time(r.expected_reply_by)) " 前（派给办理单位后以实际时限为准）" }
            }
            p.next { "请记下工单编号和查询码，凭二者查询办理进度和答复。" }
            p { a.button href=(link) { "查看办理进度" } }
        }
    }
}

fn form_token(headers: &HeaderMap) -> String {
    match cookie(headers, FORM_COOKIE) {
        Some(c) if c.len() == 32 && c.bytes().all(|b| b.is_ascii_hexdigit()) => c.to_string(),
        _ => hex::encode(rand::rng().random::<[u8; 16]>()),
    }
}

fn submit_response(status: StatusCode, token: &str, body: Markup) -> Response {
    with_cookie(
        html_response(status, shell("提交诉求", body)),
        format!("{FORM_COOKIE}={token}; Path=/public; HttpOnly; SameSite=Strict"),
    )
}

/// `GET /public/submit`: the form.
async fn submit_page(headers: HeaderMap) -> Response {
    let token = form_token(&headers);
    submit_response(
        StatusCode::OK,
        &token,
        html! {
            h1 { "网上提交诉求" }
            (emergencies())
            (submit_form(&token, &HashMap::new(), &HashMap::new()))
        },
    )
}

/// The fields and files of a portal form: `multipart/form-data` (with photos) or a plain
/// form. A text field with a control character in it is refused as a plain form's would be.
async fn read_form(
    app: &App,
    req: axum::extract::Request,
) -> Result<(HashMap<String, String>, Vec<Incoming>), String> {
    use axum::extract::FromRequest;
    let multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        let Form(form) = Form::<HashMap<String, String>>::from_request(req, &())
            .await
            .map_err(|e| e.body_text())?;
        return Ok((form, Vec::new()));
    }
    let m = axum::extract::Multipart::from_request(req, &())
        .await
        .map_err(|e| e.body_text())?;
    let parts = crate::uploads::read_parts(app, m).await.map_err(|e| {
        if let crate::uploads::PartsError::Failed(e) = &e {
            tracing::error!(error = %e, "public upload");
        }
        e.zh()
    })?;
    Ok((parts.fields.into_iter().collect(), parts.files))
}

/// `POST /public/submit`: the request through the one public use case (its photos first,
/// through the same upload as the API's), then the receipt (or the form again, with what was
/// wrong beside the field).
async fn submit(
    State(app): State<App>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    req: axum::extract::Request,
) -> Response {
    let token = form_token(&headers);
    let (form, files) = match read_form(&app, req).await {
        Ok(f) => f,
        Err(e) => {
            let mut errors = HashMap::new();
            errors.insert("form".to_string(), e);
            return submit_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                &token,
                html! { h1 { "网上提交诉求" } (submit_form(&token, &HashMap::new(), &errors)) },
            );
        }
    };
    let posted = form.get("_form").map(String::as_str).unwrap_or("");
    let mut errors = HashMap::new();
    let form_again = |status: StatusCode, errors: &HashMap<String, String>| {
        submit_response(
            status,
            &token,
            html! {
                h1 { "网上提交诉求" }
                (submit_form(&token, &form, errors))
            },
        )
    };
    if cross_site(&headers) || cookie(&headers, FORM_COOKIE) != Some(posted) || posted.is_empty() {
        errors.insert("form".to_string(), "页面已过期，请重新提交。".to_string());
        return form_again(StatusCode::FORBIDDEN, &errors);
    }
    if form.get("website").is_some_and(|v| !v.is_empty()) {
        errors.insert("form".to_string(), "无法提交，请拨打12345。".to_string());
        return form_again(StatusCode::UNPROCESSABLE_ENTITY, &errors);
    }
    let text = |k: &str| form.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    // The request's own checks first, so that a photo is not kept for a request refused.
    let mut attachment_ids = Vec::new();
    if text("content").is_some() && text("phone").is_some() {
        for f in files {
            let name = mashangban_domain::attachment::clean_name(f.name());
            match app.upload_public_at(f, client, chrono::Utc::now()).await {
                Ok(a) => attachment_ids.push(a.id),
                Err(AppError::Invalid { .. }) => {
                    errors.insert(
                        "file".to_string(),
                        format!(
                            "“{name}”不是照片（JPEG、PNG、WebP）或PDF文件，或已损坏，请重新选择。"
                        ),
                    );
                    return form_again(StatusCode::UNPROCESSABLE_ENTITY, &errors);
                }
                Err(AppError::Locked(m)) => {
                    errors.insert("file".to_string(), m);
                    return form_again(StatusCode::TOO_MANY_REQUESTS, &errors);
                }
                Err(e) => {
                    tracing::error!(error = %e, "public upload");
                    errors.insert("file".to_string(), "暂时无法上传，请稍后再试。".to_string());
                    return form_again(StatusCode::INTERNAL_SERVER_ERROR, &errors);
                }
            }
        }
    }
    let body = serde_json::json!({
        "attachment_ids": attachment_ids,
        "kind": text("kind").unwrap_or("help"),
        "content": form.get("content").map(String::as_str).unwrap_or(""),
        "address": text("address"),
        "category_code": text("category_code"),
        "citizen": {"name": text("name"), "phone": text("phone"), "no_sms": text("no_sms").is_some()},
        "confidential": text("confidential").is_some(),
    });
    match app.submit_public(body, client, None).await {
        Ok((r, _)) => submit_response(
            StatusCode::CREATED,
            &token,
            html! {
                h1 { "诉求已提交" }
                (receipt(&r))
            },
        ),
        Err(AppError::Invalid { field, message }) => {
            let zh = match field.as_str() {
                "content" => "请填写诉求内容（最多20000字）。".to_string(),
                "citizen.phone" => {
                    "请填写正确的手机或固定电话号码，用于告知受理和答复。".to_string()
                }
                "citizen.name" => "称呼最多50个字。".to_string(),
                "address" => "地点最多500个字。".to_string(),
                _ => format!("{field}: {message}"),
            };
            errors.insert(field, zh);
            form_again(StatusCode::UNPROCESSABLE_ENTITY, &errors)
        }
        Err(AppError::Locked(m)) => {
            errors.insert("form".to_string(), m);
            form_again(StatusCode::TOO_MANY_REQUESTS, &errors)
        }
        Err(e) => {
            tracing::error!(error = %e, "public submit");
            errors.insert(
                "form".to_string(),
                "暂时无法提交，请稍后再试或拨打12345。".to_string(),
            );
            form_again(StatusCode::INTERNAL_SERVER_ERROR, &errors)
        }
    }
}

/// `GET /public/propose`: what the citizen's words point to, as a part of the form: the
/// categories to choose from (or leave to the hotline), the place, an emergency number.
async fn propose(State(app): State<App>, Query(q): Query<HashMap<String, String>>) -> Response {
    let content = q.get("content").map(String::as_str).unwrap_or("");
    let address = q.get("address").map(String::as_str).unwrap_or("");
    let p = match app.propose_public(content, address).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "public proposal");
            return html_response(StatusCode::OK, html! {});
        }
    };
    html_response(
        StatusCode::OK,
        html! {
            @if let Some(n) = &p.call_now {
                p.error role="alert" { "如果情况紧急，请立即拨打 " strong { (n) } "。" }
            }
            @if !p.categories.is_empty() {
                fieldset.propose {
                    legend { "您反映的问题可能属于（可选）" }
                    @for (code, name) in &p.categories {
                        div.check {
                            input type="radio" name="category_code" id=(format!("cat-{code}")) value=(code);
                            label for=(format!("cat-{code}")) { (name) }
                        }
                    }
                    div.check {
                        input type="radio" name="category_code" id="cat-none" value="" checked;
                        label for="cat-none" { "不确定，由热线判断" }
                    }
                }
            }
            @if let Some((_, path)) = &p.place {
                p.place { "识别到的地点：" strong #proposed-place { (path) } }
            }
        },
    )
}

async fn script() -> Response {
    let mut r = include_str!("../assets/public.js").into_response();
    r.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    r.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("public, max-age=3600"),
    );
    r
}

/// A page of 我的诉求, with the form token cookie renewed.
fn mine_response(status: StatusCode, token: &str, body: Markup) -> Response {
    with_cookie(
        html_response(status, shell("我的诉求", body)),
        format!("{FORM_COOKIE}={token}; Path=/public; HttpOnly; SameSite=Strict"),
    )
}

/// The first step: the phone number to text a code to.
fn phone_form(token: &str, phone: &str, error: Option<&str>) -> Markup {
    html! {
        form.track method="post" action="/public/mine/code" {
            input type="hidden" name="_form" value=(token);
            div.field {
                label for="phone" { "手机号码" }
                input #phone name="phone" value=(phone) required inputmode="tel" autocomplete="tel" maxlength="32";
            }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            button.button type="submit" { "获取验证码" }
        }
    }
}

/// The second step: the code texted to the number.
fn code_form(token: &str, phone: &str, error: Option<&str>) -> Markup {
    html! {
        p { "如该号码提交过诉求，验证码已发送至 " strong { (phone) } "，5分钟内有效。" }
        form.track method="post" action="/public/mine/session" {
            input type="hidden" name="_form" value=(token);
            input type="hidden" name="phone" value=(phone);
            div.field {
                label for="code" { "短信验证码" }
                input #code name="code" required inputmode="numeric" autocomplete="one-time-code" maxlength="6" pattern="[0-9]{6}";
            }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            button.button type="submit" { "查看我的诉求" }
        }
        p { a href="/public/mine" { "换一个号码或重新获取" } }
    }
}

/// `GET /public/mine`: the citizen's own requests when signed in with a code, else the form
/// to get one.
async fn mine(State(app): State<App>, headers: HeaderMap) -> Response {
    let token = form_token(&headers);
    let session = cookie(&headers, crate::api_public::CITIZEN_COOKIE).unwrap_or("");
    let list = if session.is_empty() {
        None
    } else {
        match app.my_requests_at(session, chrono::Utc::now()).await {
            Ok(l) => Some(l),
            Err(AppError::Unauthenticated(_)) => None,
            Err(e) => {
                tracing::error!(error = %e, "my requests");
                return mine_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &token,
                    html! { h1 { "我的诉求" } p.error role="alert" { "暂时无法查询，请稍后再试或拨打12345。" } },
                );
            }
        }
    };
    let body = match list {
        None => html! {
            h1 { "我的诉求" }
            p { "用提交诉求时留下的手机号码查看本号码的全部诉求（含电话、短信等渠道受理的），以及每件的办理进度。" }
            (phone_form(&token, "", None))
        },
        Some(list) => html! {
            h1 { "我的诉求" }
            @if list.is_empty() { p { "该号码暂无诉求。" } }
            @else {
                p { "共 " (list.len()) " 件，最新的在前。" }
                ul.mine {
                    @for r in &list {
                        li {
                            a href=(format!("/public/track?number={}&code={}", r.number, r.tracking_code)) {
                                strong { (r.number) }
                            }
                            " " span.state { (r.request.state_label) }
                            br;
                            (r.request.title)
                            br;
                            span.muted { "受理时间 " (local_time(r.request.received_at)) }
                            @if r.request.may_rate { " · " strong { "待您评价" } }
                        }
                    }
                }
            }
        },
    };
    mine_response(StatusCode::OK, &token, body)
}

/// Whether a portal form carries the token its cookie holds (a form from another site
/// does not).
fn same_form(headers: &HeaderMap, form: &HashMap<String, String>) -> bool {
    let posted = form.get("_form").map(String::as_str).unwrap_or("");
    !cross_site(headers) && !posted.is_empty() && cookie(headers, FORM_COOKIE) == Some(posted)
}

/// `POST /public/mine/code`: a code texted to the number, then the form to type it in.
async fn mine_code(
    State(app): State<App>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let token = form_token(&headers);
    let phone = form.get("phone").map(|v| v.trim()).unwrap_or("");
    let again = |status: StatusCode, e: &str| {
        mine_response(
            status,
            &token,
            html! { h1 { "我的诉求" } (phone_form(&token, phone, Some(e))) },
        )
    };
    if !same_form(&headers, &form) {
        return again(StatusCode::FORBIDDEN, "页面已过期，请重新提交。");
    }
    match app
        .send_code_at(
            serde_json::json!({"phone": phone}),
            client,
            chrono::Utc::now(),
        )
        .await
    {
        Ok(_) => {
            let canonical = mashangban_domain::intake::canonical_phone(phone)
                .unwrap_or_else(|| phone.to_string());
            mine_response(
                StatusCode::OK,
                &token,
                html! { h1 { "我的诉求" } (code_form(&token, &canonical, None)) },
            )
        }
        Err(AppError::Invalid { .. }) => {
            again(StatusCode::UNPROCESSABLE_ENTITY, "请填写正确的手机号码。")
        }
        Err(AppError::Locked(m)) => again(StatusCode::TOO_MANY_REQUESTS, &m),
        Err(e) => {
            tracing::error!(error = %e, "citizen code");
            again(
                StatusCode::INTERNAL_SERVER_ERROR,
                "暂时无法发送，请稍后再试或拨打12345。",
            )
        }
    }
}

/// `POST /public/mine/session`: signed in with the code, on to the list.
async fn mine_session(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let token = form_token(&headers);
    let phone = form.get("phone").map(|v| v.trim()).unwrap_or("");
    let code = form.get("code").map(|v| v.trim()).unwrap_or("");
    let again = |status: StatusCode, e: &str| {
        mine_response(
            status,
            &token,
            html! { h1 { "我的诉求" } (code_form(&token, phone, Some(e))) },
        )
    };
    if !same_form(&headers, &form) {
        return again(StatusCode::FORBIDDEN, "页面已过期，请重新提交。");
    }
    match app
        .open_citizen_session_at(
            serde_json::json!({"phone": phone, "code": code}),
            chrono::Utc::now(),
        )
        .await
    {
        Ok(s) => with_cookie(
            axum::response::Redirect::to("/public/mine").into_response(),
            crate::api_public::citizen_cookie(
                &s.token,
                mashangban_app::my_requests::SESSION_TTL.num_seconds(),
            ),
        ),
        Err(AppError::Invalid { .. }) => again(
            StatusCode::UNPROCESSABLE_ENTITY,
            "请输入短信中的6位数字验证码。",
        ),
        Err(AppError::Unauthenticated(_)) => again(
            StatusCode::UNAUTHORIZED,
            "验证码不正确或已失效（5分钟内有效，最多试5次），请重新获取。",
        ),
        Err(e) => {
            tracing::error!(error = %e, "citizen session");
            again(
                StatusCode::INTERNAL_SERVER_ERROR,
                "暂时无法登录，请稍后再试或拨打12345。",
            )
        }
    }
}

/// The request's photos (thumbnails, each opening the photo) and documents.
fn files_markup(
    number: &str,
    code: &str,
    files: &[mashangban_domain::attachment::Attachment],
) -> Markup {
    let href = |id: &str, thumb: bool| {
        format!(
            "/public/files/{number}/{id}?code={}{}",
            form_urlencoded::byte_serialize(code.as_bytes()).collect::<String>(),
            if thumb { "&thumb=1" } else { "" }
        )
    };
    html! {
        @if !files.is_empty() {
            section.files aria-labelledby="files-title" {
                h2 #files-title { "照片和材料" }
                ul.files {
                    @for f in files {
                        li {
                            @if f.thumbnail_sha256.is_some() {
                                a href=(href(&f.id, false)) {
                                    img src=(href(&f.id, true)) alt=(format!("照片：{}", f.name)) loading="lazy";
                                }
                            } @else {
                                a href=(href(&f.id, false)) { "📄 " (f.name) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /public/files/{number}/{id}?code=`: a file of the request, for its citizen.
async fn public_file(
    State(app): State<App>,
    axum::extract::Path((number, id)): axum::extract::Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let code = q.get("code").map(String::as_str).unwrap_or("");
    let thumb = q.contains_key("thumb");
    match app
        .public_file(&number, code, &id, thumb, chrono::Utc::now())
        .await
    {
        Ok((a, bytes)) => crate::api_files::file_response(&a, bytes, thumb),
        Err(AppError::Locked(_)) => {
            (StatusCode::TOO_MANY_REQUESTS, "请一小时后再试").into_response()
        }
        Err(_) => (StatusCode::NOT_FOUND, "没有找到该文件").into_response(),
    }
}
