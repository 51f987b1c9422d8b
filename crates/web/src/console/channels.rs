//! `/admin/channels` (administrators): the channels requests come in by (渠道) — renamed,
//! regrouped, opened or closed, new ones added — and the hotlines merged into 12345
//! (整合热线) with the category and unit each defaults to, and the platforms requests are
//! exchanged with (110, 省平台 …) with their keys. Every change goes through the same use
//! cases as the API's.

use super::admin::{Typed, admin_page, admin_session, status_of};
use super::i18n::Lang;
use super::{Session, form_session, session_csrf};
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use mashangban_app::{App, AppError};
use mashangban_domain::channel::{ChannelInput, LineInput};
use mashangban_domain::{ChannelKind, Permission, UnitKind};
use maud::html;
use std::collections::HashMap;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/admin/channels", get(page).post(save_channel))
        .route("/admin/channels/lines", post(save_line))
        .route("/admin/channels/platforms", post(save_platform))
}

async fn page(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    match admin_session(&app, &headers, Permission::ManageReference).await {
        Ok(s) => {
            let saved = q.contains_key("saved").then_some(if s.lang == Lang::Zh {
                "已保存"
            } else {
                "Saved"
            });
            render(&app, &s, &Typed::default(), saved, StatusCode::OK).await
        }
        Err(r) => r,
    }
}

async fn save_channel(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match form_session(&app, &headers, &form, Permission::ManageReference).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let typed = Typed::of(&form);
    let saved = async {
        let kind = typed
            .v("kind")
            .parse::<ChannelKind>()
            .map_err(|e| AppError::invalid("kind", e.to_string()))?;
        let input = ChannelInput {
            name: typed.v("name").to_string(),
            name_en: typed.v("name_en").to_string(),
            kind,
            active: !typed.v("active").is_empty(),
        };
        app.put_channel(&s.actor(), typed.v("code").trim(), input)
            .await
    }
    .await;
    saved_or_refused(&app, &s, typed, saved, "/admin/channels?saved=1").await
}

async fn save_line(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match form_session(&app, &headers, &form, Permission::ManageReference).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let typed = Typed::of(&form);
    let saved = async {
        let unit_id = typed
            .opt("unit_id")
            .map(|u| u.parse::<i64>())
            .transpose()
            .map_err(|_| AppError::invalid("unit_id", "is not a unit id"))?;
        let input = LineInput {
            name: typed.v("name").to_string(),
            category_code: typed.opt("category_code"),
            unit_id,
            active: !typed.v("active").is_empty(),
        };
        app.put_line(&s.actor(), typed.v("number").trim(), input)
            .await
    }
    .await;
    saved_or_refused(&app, &s, typed, saved, "/admin/channels?saved=1#lines").await
}

async fn save_platform(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match form_session(&app, &headers, &form, Permission::ManageReference).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let typed = Typed::of(&form);
    let body = serde_json::json!({
        "name": typed.v("name"),
        "channel": typed.v("channel"),
        "webhook_url": typed.opt("webhook_url"),
        "active": !typed.v("active").is_empty(),
    });
    let saved = app
        .put_platform(&s.actor(), typed.v("code").trim(), body)
        .await;
    saved_or_refused(&app, &s, typed, saved, "/admin/channels?saved=1#platforms").await
}

/// Back to the page once saved; the page again, with what was wrong said, otherwise.
async fn saved_or_refused<T>(
    app: &App,
    s: &Session,
    typed: Typed,
    saved: Result<T, AppError>,
    to: &str,
) -> Response {
    match saved {
        Ok(_) => Redirect::to(to).into_response(),
        Err(e) => {
            let status = status_of(&e);
            render(app, s, &typed.refuse(s.lang, e), None, status).await
        }
    }
}

async fn render(
    app: &App,
    s: &Session,
    typed: &Typed,
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let zh = s.lang == Lang::Zh;
    let r = match app.names(&s.actor()).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "channels page");
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
        }
    };
    let csrf = session_csrf(&s.token);
    let kind_name = |k: ChannelKind| if zh { k.label_zh() } else { k.as_str() };
    // Lines belong to departments, public enterprises or districts, not to streets.
    let mut owners: Vec<_> = r
        .units
        .values()
        .filter(|u| !matches!(u.kind, UnitKind::StreetOffice | UnitKind::Community))
        .collect();
    owners.sort_by(|a, b| a.code.cmp(&b.code));
    let mut categories: Vec<_> = r.categories.values().filter(|c| c.active).collect();
    categories.sort_by(|a, b| a.code.cmp(&b.code));
    let errors: Vec<(&String, &String)> = typed.errors.iter().collect();
    let platforms = app.platforms(&s.actor()).await.unwrap_or_default();
    let exchange_channels: Vec<_> = r
        .channels
        .iter()
        .filter(|c| c.kind == ChannelKind::Exchange)
        .collect();
    let body = html! {
        h1 { (if zh { "渠道与整合热线" } else { "Channels and merged hotlines" }) }
        @if let Some(n) = notice { p.notice role="status" { (n) } }
        @for (field, message) in &errors {
            p.error role="alert" { @if field.as_str() != "form" { (field) "：" } (message) }
        }
        p.muted {
            (if zh {
                "渠道按类别计入日报：电话类计“来电”，网络和移动端计“网民留言”，平台转办和现场及其他计“其他渠道”。停用的渠道保留其工单、不再受理新诉求；系统自身提供接口的渠道（电话、整合热线、政府网站、微信公众号、Open311、短信、网格员上报、其他）不能停用。"
            } else {
                "Channels are counted in the daily report by kind: phone as calls, online and app as online messages, exchange and other as other channels. A closed channel keeps its requests and takes no new ones; the channels whose endpoints the product serves cannot be closed."
            })
        }
        h2 #channels { (if zh { "渠道" } else { "Channels" }) }
        div.table-scroll { table.list #channel-list {
            thead { tr {
                th { (if zh { "代码" } else { "Code" }) }
                th { (if zh { "名称" } else { "Name" }) }
                th { (if zh { "英文名称" } else { "English name" }) }
                th { (if zh { "类别" } else { "Kind" }) }
                th { (if zh { "受理" } else { "Open" }) }
                th { span.visually-hidden { (if zh { "操作" } else { "Action" }) } }
            } }
            tbody {
                @for c in &r.channels {
                    @let form_id = format!("channel-{}", c.code);
                    tr {
                        td { code { (c.code) } @if c.built_in { " " span.tag { (if zh { "系统" } else { "built in" }) } } }
                        td { input form=(form_id) name="name" value=(c.name) maxlength="40" required aria-label=(format!("{} {}", c.code, if zh { "名称" } else { "name" })); }
                        td { input form=(form_id) name="name_en" value=(c.name_en) maxlength="60" required aria-label=(format!("{} {}", c.code, if zh { "英文名称" } else { "English name" })); }
                        td {
                            select form=(form_id) name="kind" aria-label=(format!("{} {}", c.code, if zh { "类别" } else { "kind" })) {
                                @for k in ChannelKind::ALL { option value=(k.as_str()) selected[*k == c.kind] { (kind_name(*k)) } }
                            }
                        }
                        td {
                            label {
                                input form=(form_id) type="checkbox" name="active" value="1" checked[c.active] disabled[c.built_in];
                                " " (if c.active { if zh { "受理中" } else { "open" } } else if zh { "已停用" } else { "closed" })
                            }
                            // A box that cannot be unticked sends nothing: say it is open.
                            @if c.built_in { input form=(form_id) type="hidden" name="active" value="1"; }
                        }
                        td {
                            form id=(form_id) method="post" action="/admin/channels" {
                                input type="hidden" name="_csrf" value=(csrf);
                                input type="hidden" name="code" value=(c.code);
                                button type="submit" { (if zh { "保存" } else { "Save" }) }
                            }
                        }
                    }
                }
            }
        } }
        h3 { (if zh { "新增渠道" } else { "Add a channel" }) }
        form.admin.row method="post" action="/admin/channels" {
            input type="hidden" name="_csrf" value=(csrf);
            div.field {
                label for="new-code" { (if zh { "代码（小写字母、数字、下划线）" } else { "Code (lowercase letters, digits, _)" }) }
                input #new-code name="code" required maxlength="32" pattern="[a-z][a-z0-9_]*" value=(typed.v("code"));
            }
            div.field {
                label for="new-name" { (if zh { "名称" } else { "Name" }) }
                input #new-name name="name" required maxlength="40" value=(typed.v("name"));
            }
            div.field {
                label for="new-name-en" { (if zh { "英文名称" } else { "English name" }) }
                input #new-name-en name="name_en" required maxlength="60" value=(typed.v("name_en"));
            }
            div.field {
                label for="new-kind" { (if zh { "类别" } else { "Kind" }) }
                select #new-kind name="kind" {
                    @for k in ChannelKind::ALL { option value=(k.as_str()) selected[typed.v("kind") == k.as_str()] { (kind_name(*k)) } }
                }
            }
            input type="hidden" name="active" value="1";
            button.primary type="submit" { (if zh { "新增" } else { "Add" }) }
        }
        h2 #lines { (if zh { "整合热线" } else { "Merged hotlines" }) }
        p.muted {
            (if zh {
                "受理渠道为“整合热线”时须选择号码；未选分类的诉求按热线的默认分类登记。"
            } else {
                "A request on a merged hotline names its number; one with no category is given the line's."
            })
        }
        div.table-scroll { table.list #line-list {
            thead { tr {
                th { (if zh { "号码" } else { "Number" }) }
                th { (if zh { "名称" } else { "Name" }) }
                th { (if zh { "默认分类" } else { "Default category" }) }
                th { (if zh { "主管单位" } else { "Owner" }) }
                th { (if zh { "受理" } else { "Open" }) }
                th { span.visually-hidden { (if zh { "操作" } else { "Action" }) } }
            } }
            tbody {
                @for l in &r.lines {
                    @let form_id = format!("line-{}", l.number);
                    tr {
                        td { (l.number) }
                        td { input form=(form_id) name="name" value=(l.name) maxlength="40" required aria-label=(format!("{} {}", l.number, if zh { "名称" } else { "name" })); }
                        td {
                            select form=(form_id) name="category_code" aria-label=(format!("{} {}", l.number, if zh { "默认分类" } else { "default category" })) {
                                option value="" { (if zh { "（无）" } else { "(none)" }) }
                                @for c in &categories { option value=(c.code) selected[l.category_code.as_deref() == Some(c.code.as_str())] { (c.code) " " (c.name) } }
                            }
                        }
                        td {
                            select form=(form_id) name="unit_id" aria-label=(format!("{} {}", l.number, if zh { "主管单位" } else { "owner" })) {
                                option value="" { (if zh { "（无）" } else { "(none)" }) }
                                @for u in &owners { option value=(u.id) selected[l.unit_id == Some(u.id)] { (u.name) } }
                            }
                        }
                        td { label { input form=(form_id) type="checkbox" name="active" value="1" checked[l.active]; " " (if l.active { if zh { "受理中" } else { "open" } } else if zh { "已停用" } else { "closed" }) } }
                        td {
                            form id=(form_id) method="post" action="/admin/channels/lines" {
                                input type="hidden" name="_csrf" value=(csrf);
                                input type="hidden" name="number" value=(l.number);
                                button type="submit" { (if zh { "保存" } else { "Save" }) }
                            }
                        }
                    }
                }
            }
        } }
        h3 { (if zh { "新增整合热线" } else { "Add a merged hotline" }) }
        form.admin.row method="post" action="/admin/channels/lines" {
            input type="hidden" name="_csrf" value=(csrf);
            div.field {
                label for="new-number" { (if zh { "号码" } else { "Number" }) }
                input #new-number name="number" required inputmode="numeric" pattern="[0-9]{3,8}" maxlength="8" value=(typed.v("number"));
            }
            div.field {
                label for="new-line-name" { (if zh { "名称" } else { "Name" }) }
                input #new-line-name name="name" required maxlength="40";
            }
            div.field {
                label for="new-line-category" { (if zh { "默认分类" } else { "Default category" }) }
                select #new-line-category name="category_code" {
                    option value="" { (if zh { "（无）" } else { "(none)" }) }
                    @for c in &categories { option value=(c.code) { (c.code) " " (c.name) } }
                }
            }
            div.field {
                label for="new-line-unit" { (if zh { "主管单位" } else { "Owner" }) }
                select #new-line-unit name="unit_id" {
                    option value="" { (if zh { "（无）" } else { "(none)" }) }
                    @for u in &owners { option value=(u.id) { (u.name) } }
                }
            }
            input type="hidden" name="active" value="1";
            button.primary type="submit" { (if zh { "新增" } else { "Add" }) }
        }
        h2 #platforms { (if zh { "对接平台" } else { "Platforms" }) }
        p.muted {
            (if zh {
                "与110、省级和国家12345平台等互转工单。每个平台有自己的密钥：它转来的工单须用密钥签名，本系统回传的办理进展和转出的工单也用它签名。转入工单按平台的渠道登记。"
            } else {
                "Requests are exchanged with 110 and the provincial and national platforms. Each platform has its own key: the requests it hands over are signed with it, and so are the status changes and requests posted to it. Its requests are taken on its channel."
            })
        }
        div.table-scroll { table.list #platform-list {
            thead { tr {
                th { (if zh { "代码" } else { "Code" }) }
                th { (if zh { "名称" } else { "Name" }) }
                th { (if zh { "渠道" } else { "Channel" }) }
                th { (if zh { "回传地址" } else { "Webhook URL" }) }
                th { (if zh { "启用" } else { "In use" }) }
                th { (if zh { "密钥" } else { "Key" }) }
                th { span.visually-hidden { (if zh { "操作" } else { "Action" }) } }
            } }
            tbody {
                @for p in &platforms {
                    @let form_id = format!("platform-{}", p.code);
                    tr {
                        td { code { (p.code) } }
                        td { input form=(form_id) name="name" value=(p.name) maxlength="50" required aria-label=(format!("{} {}", p.code, if zh { "名称" } else { "name" })); }
                        td {
                            select form=(form_id) name="channel" aria-label=(format!("{} {}", p.code, if zh { "渠道" } else { "channel" })) {
                                @for c in &exchange_channels { option value=(c.code) selected[c.code == p.channel] { (c.name) } }
                            }
                        }
                        td { input form=(form_id) name="webhook_url" type="url" value=(p.webhook_url.as_deref().unwrap_or("")) maxlength="500" aria-label=(format!("{} {}", p.code, if zh { "回传地址" } else { "webhook URL" })); }
                        td { label { input form=(form_id) type="checkbox" name="active" value="1" checked[p.active]; " " (if p.active { if zh { "启用" } else { "in use" } } else if zh { "停用" } else { "not in use" }) } }
                        td { details { summary { (if zh { "显示" } else { "Show" }) } code.key { (p.secret) } } }
                        td {
                            form id=(form_id) method="post" action="/admin/channels/platforms" {
                                input type="hidden" name="_csrf" value=(csrf);
                                input type="hidden" name="code" value=(p.code);
                                button type="submit" { (if zh { "保存" } else { "Save" }) }
                            }
                        }
                    }
                }
            }
        } }
        h3 { (if zh { "新增对接平台" } else { "Add a platform" }) }
        form.admin.row method="post" action="/admin/channels/platforms" {
            input type="hidden" name="_csrf" value=(csrf);
            div.field {
                label for="new-platform-code" { (if zh { "代码（如 110、province）" } else { "Code (e.g. 110, province)" }) }
                input #new-platform-code name="code" required maxlength="32" pattern="[A-Za-z0-9_-]{2,32}" value=(typed.v("code"));
            }
            div.field {
                label for="new-platform-name" { (if zh { "名称" } else { "Name" }) }
                input #new-platform-name name="name" required maxlength="50";
            }
            div.field {
                label for="new-platform-channel" { (if zh { "渠道" } else { "Channel" }) }
                select #new-platform-channel name="channel" {
                    @for c in &exchange_channels { option value=(c.code) { (c.name) } }
                }
            }
            div.field {
                label for="new-platform-url" { (if zh { "回传地址（可不填）" } else { "Webhook URL (optional)" }) }
                input #new-platform-url name="webhook_url" type="url" maxlength="500";
            }
            input type="hidden" name="active" value="1";
            button.primary type="submit" { (if zh { "新增" } else { "Add" }) }
        }
    };
    admin_page(s, "/admin/channels", status, body)
}
