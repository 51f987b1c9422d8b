//! 系统管理 → 地名库: the gazetteer — roads, residential compounds and landmarks the
//! deployment maps to divisions, so that addresses naming only them still resolve. Names are
//! added (or re-pointed) one at a time or pasted many at once, and removed; a tester shows
//! what an address resolves to now.

use super::admin::{Typed, admin_page, admin_session, status_of};
use super::i18n::Lang;
use super::{Session, form_session, session_csrf};
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use mashangban_app::text::{GazetteerInput, SuggestInput};
use mashangban_app::{App, AppError};
use mashangban_domain::Permission;
use maud::html;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/admin/gazetteer", get(page).post(save))
        .route("/admin/gazetteer/delete", post(delete))
}

#[derive(serde::Deserialize, Default)]
struct GazetteerQuery {
    saved: Option<String>,
    /// An address to resolve with the names as they stand.
    test: Option<String>,
}

const KINDS: [(&str, &str, &str); 3] = [
    ("compound", "小区", "Compound"),
    ("road", "道路", "Road"),
    ("landmark", "地标", "Landmark"),
];

async fn render(
    app: &App,
    s: &Session,
    q: &GazetteerQuery,
    typed: &Typed,
    status: StatusCode,
) -> Response {
    let zh = s.lang == Lang::Zh;
    let tr = |a: &'static str, b: &'static str| if zh { a } else { b };
    let rows = app.gazetteer(&s.actor()).await.unwrap_or_default();
    let r = super::reference(app, &s.actor()).await;
    let test = q.test.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let resolved = match test {
        Some(address) => app
            .suggest(
                &mashangban_app::auth::actor_of(&s.user),
                SuggestInput {
                    address: address.to_string(),
                    ..Default::default()
                },
            )
            .await
            .ok(),
        None => None,
    };
    let body = html! {
        h1 { (tr("地名库", "Gazetteer")) " " span.count { (rows.len()) } }
        p.hint { (tr(
            "把小区、道路、地标对应到社区或街道，市民只说这些名称时也能识别所属区划；保存后立即生效。",
            "Map compounds, roads and landmarks to a community or street, so that addresses naming only them resolve; takes effect at once."
        )) }
        @if let Some(what) = &q.saved { p.notice role="status" { (tr("已保存：", "Saved: ")) (what) } }
        div.card {
            h2 { (tr("新增或修改名称", "Add or re-point a name")) }
            (typed.form_error())
            form.admin method="post" action="/admin/gazetteer" {
                input type="hidden" name="_csrf" value=(session_csrf(&s.token));
                div.field { label for="name" { (tr("名称", "Name")) } input #name name="name" value=(typed.v("name")) size="16"; (typed.err("[0].name")) }
                div.field { label for="kind" { (tr("类型", "Kind")) }
                    select #kind name="kind" { @for (k, z, e) in KINDS { option value=(k) selected[typed.v("kind") == k] { (if zh { z } else { e }) } } }
                    (typed.err("[0].kind"))
                }
                div.field { label for="division_code" { (tr("所属区划编码", "Division code")) } input #division_code name="division_code" value=(typed.v("division_code")) size="14" list="gazetteer-divisions"; (typed.err("[0].division_code")) }
                datalist #gazetteer-divisions {
                    @for (code, _) in r.divisions.iter().filter(|(c, _)| c.len() >= 9) { option value=(code) { (r.division_path(code).unwrap_or_default()) } }
                }
                button.primary type="submit" { (tr("保存", "Save")) }
            }
        }
        div.card {
            h2 { (tr("地址识别测试", "Try an address")) }
            form method="get" action="/admin/gazetteer" {
                input name="test" value=(test.unwrap_or("")) size="40" placeholder=(tr("如：城东区青发小区7号楼", "e.g. 城东区青发小区7号楼"));
                " " button type="submit" { (tr("识别", "Resolve")) }
            }
            @if let Some(sg) = &resolved {
                @if let Some(d) = &sg.division {
                    p #resolved { (d.path) " · " (format!("{:.0}%", d.confidence * 100.0)) " · " (tr("依据：", "matched: ")) (d.matched.join("、")) }
                } @else if !sg.division_candidates.is_empty() {
                    p #resolved { (tr("多处可能：", "Several places: ")) @for (i, d) in sg.division_candidates.iter().enumerate() { @if i > 0 { "；" } (d.path) } }
                } @else {
                    p #resolved.muted { (tr("未能识别", "Not recognised")) }
                }
            }
        }
        @if rows.is_empty() {
            p.muted { (tr("地名库还是空的。", "The gazetteer is empty.")) }
        } @else {
            table.list {
                thead { tr { th { (tr("名称", "Name")) } th { (tr("类型", "Kind")) } th { (tr("所属区划", "Division")) } th {} } }
                tbody {
                    @for g in &rows {
                        tr {
                            td { (g.name) }
                            td { (KINDS.iter().find(|k| k.0 == g.kind).map(|k| if zh { k.1 } else { k.2 }).unwrap_or(g.kind.as_str())) }
                            td { (r.division_path(&g.division_code).unwrap_or_else(|| g.division_code.clone())) " " span.muted { (g.division_code) } }
                            td {
                                form.inline method="post" action="/admin/gazetteer/delete" {
                                    input type="hidden" name="_csrf" value=(session_csrf(&s.token));
                                    input type="hidden" name="id" value=(g.id);
                                    button type="submit" { (tr("删除", "Delete")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    admin_page(s, "/admin/gazetteer", status, body)
}

/// The page again with the refusal beside its field, and what was typed.
async fn refused(app: &App, s: &Session, typed: Typed, e: AppError) -> Response {
    let status = status_of(&e);
    let typed = typed.refuse(s.lang, e);
    render(app, s, &GazetteerQuery::default(), &typed, status).await
}

async fn page(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<GazetteerQuery>,
) -> Response {
    match admin_session(&app, &headers, Permission::ManageReference).await {
        Ok(s) => render(&app, &s, &q, &Typed::default(), StatusCode::OK).await,
        Err(r) => r,
    }
}

async fn save(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match form_session(&app, &headers, &form, Permission::ManageReference).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let typed = Typed::of(&form);
    let input = GazetteerInput {
        name: typed.v("name").to_string(),
        kind: typed.v("kind").to_string(),
        division_code: typed.v("division_code").to_string(),
    };
    match app.set_gazetteer(&s.actor(), vec![input]).await {
        Ok(_) => Redirect::to(&format!(
            "/admin/gazetteer?saved={}",
            query_value(typed.v("name").trim())
        ))
        .into_response(),
        Err(e) => refused(&app, &s, typed, e).await,
    }
}

async fn delete(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match form_session(&app, &headers, &form, Permission::ManageReference).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let typed = Typed::of(&form);
    let result = match typed.v("id").parse::<i64>() {
        Ok(id) => app.delete_gazetteer(&s.actor(), id).await,
        Err(_) => Err(AppError::invalid("form", "the name to delete is needed")),
    };
    match result {
        Ok(()) => Redirect::to("/admin/gazetteer").into_response(),
        Err(e) => refused(&app, &s, Typed::default(), e).await,
    }
}

/// Percent-encodes a query value (the name saved, shown back on the page).
fn query_value(s: &str) -> String {
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
