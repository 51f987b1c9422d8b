//! 系统管理 → 派单目录: the dispatch catalogue for administrators — the entries with their
//! scope, owner and validity; a form to add or change one (refusals shown beside the
//! field, the no-push-down rule among them); ending and deleting; import of a CSV (pasted) or
//! of an uploaded Excel/CSV file, and export as either; a "who owns it" check showing the
//! rule that decides; the latest changes.

use super::actions::{unit_options, unit_search};
use super::admin::{Typed, admin_page, admin_session, status_of};
use super::i18n::Lang;
use super::{Session, form_session, local_time, reference, session_csrf};
use axum::Router;
use axum::extract::{Form, Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use mashangban_app::catalogue::EntryInput;
use mashangban_app::{App, AppError};
use mashangban_domain::Permission;
use mashangban_domain::TIERS;
use mashangban_domain::catalogue::Ownership;
use maud::html;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/admin/catalogue", get(page).post(save))
        .route("/admin/catalogue/delete", post(delete))
        .route("/admin/catalogue/import", post(import))
        .route("/admin/catalogue/upload", post(upload))
        .route("/admin/catalogue/export.csv", get(export_csv))
        .route("/admin/catalogue/export.xlsx", get(export_xlsx))
}

/// `/admin/catalogue/export.csv` and `.xlsx`: the catalogue as files, for the signed-in
/// administrator (the API's exports want a token).
async fn export_csv(State(app): State<App>, headers: HeaderMap) -> Response {
    export(&app, &headers, false).await
}

async fn export_xlsx(State(app): State<App>, headers: HeaderMap) -> Response {
    export(&app, &headers, true).await
}

async fn export(app: &App, headers: &HeaderMap, xlsx: bool) -> Response {
    let s = match admin_session(app, headers, Permission::ManageReference).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let file = if xlsx {
        crate::api_catalogue::xlsx_file(app, &s.actor()).await
    } else {
        crate::api_catalogue::csv_file(app, &s.actor()).await
    };
    match file {
        Ok(r) => r,
        Err(e) => refused(app, &s, e, None, None).await,
    }
}

#[derive(serde::Deserialize, Default)]
struct CatalogueQuery {
    /// The entry being changed.
    id: Option<i64>,
    saved: Option<String>,
    /// "Who owns it" check.
    check_category: Option<String>,
    check_division: Option<String>,
    /// Only entries whose category or place starts with this.
    q: Option<String>,
}

async fn render(
    app: &App,
    s: &Session,
    q: &CatalogueQuery,
    typed: &Typed,
    import_typed: &Typed,
    status: StatusCode,
) -> Response {
    let zh = s.lang == Lang::Zh;
    let tr = |a: &'static str, b: &'static str| if zh { a } else { b };
    let r = reference(app, &s.actor()).await;
    let entries = app.catalogue(&s.actor()).await.unwrap_or_default();
    let history = app
        .catalogue_history(&s.actor(), None, 10)
        .await
        .unwrap_or_default();
    let today = mashangban_app::catalogue::today();
    let editing = q.id.and_then(|id| entries.iter().find(|e| e.id == id));
    let v = |k: &str| -> String {
        if !typed.values.is_empty() {
            return typed.v(k).to_string();
        }
        let Some(e) = editing else {
            return match k {
                "valid_from" => today.to_string(),
                _ => String::new(),
            };
        };
        match k {
            "id" => e.id.to_string(),
            "version" => e.version.to_string(),
            "category_code" => e.category_code.clone(),
            "division_code" => e.division_code.clone().unwrap_or_default(),
            "unit_id" => e.unit_id.to_string(),
            "ownership" => e.ownership.as_str().to_string(),
            "tier" => e.tier.map(|t| t.to_string()).unwrap_or_default(),
            "valid_from" => e.valid_from.to_string(),
            "valid_to" => e.valid_to.map(|d| d.to_string()).unwrap_or_default(),
            "note" => e.note.clone(),
            _ => String::new(),
        }
    };
    let filter = q.q.as_deref().map(str::trim).unwrap_or("");
    let shown: Vec<_> = entries
        .iter()
        .filter(|e| {
            filter.is_empty()
                || e.category_code.starts_with(filter)
                || e.division_code
                    .as_deref()
                    .is_some_and(|d| d.starts_with(filter))
                || r.unit_name(e.unit_id).is_some_and(|n| n.contains(filter))
        })
        .collect();
    let units: Vec<_> = r.units.values().cloned().collect();
    let unit_selected = v("unit_id");
    let check = match q
        .check_category
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(c) => {
            let d = q
                .check_division
                .as_deref()
                .map(str::trim)
                .filter(|d| !d.is_empty());
            Some(app.catalogue_owner(&s.actor(), c, d, today).await)
        }
        None => None,
    };
    let body = html! {
        h1 { (tr("派单目录", "Dispatch catalogue")) " " span.count { (entries.len()) } }
        p.hint { (tr(
            "按“事项分类 × 区划范围”确定承办单位：分类更细者优先，其次范围更小者（社区、街道、区县、全市），再次生效日期较晚者。职能部门事项不得派给街道、社区。",
            "Owner by category × place: the more specific category wins, then the smaller place (community, street, district, city), then the later start. A functional department's matter may not be given to a street or community."
        )) }
        @if let Some(what) = &q.saved { p.notice role="status" { (tr("已保存：", "Saved: ")) (what) } }
        div.card {
            h2 { (if editing.is_some() { tr("修改目录条目", "Change an entry") } else { tr("新增目录条目", "Add an entry") }) }
            (typed.form_error())
            form.admin method="post" action="/admin/catalogue" {
                input type="hidden" name="_csrf" value=(session_csrf(&s.token));
                input type="hidden" name="id" value=(v("id"));
                input type="hidden" name="version" value=(v("version"));
                div.field { label for="category_code" { (tr("事项分类编码", "Category code")) } input #category_code name="category_code" value=(v("category_code")) size="8" list="catalogue-categories"; (typed.err("category_code")) }
                datalist #catalogue-categories {
                    @for c in r.categories.values() { option value=(c.code) { (r.category_path(&c.code).unwrap_or_default()) } }
                }
                div.field { label for="division_code" { (tr("区划范围编码（空为全市）", "Place code (empty: the whole city)")) } input #division_code name="division_code" value=(v("division_code")) size="14"; (typed.err("division_code")) }
                div.field {
                    label for="unit_id" { (tr("承办单位", "Owning unit")) }
                    (unit_search(s.lang, "unit_id"))
                    select #unit_id name="unit_id" {
                        option value="" { "—" }
                        (unit_options(&units, &[unit_selected.as_str()]))
                    }
                    (typed.err("unit_id")) (typed.err("unit_code"))
                }
                div.field {
                    label for="ownership" { (tr("事项性质", "Ownership")) }
                    select #ownership name="ownership" {
                        option value="" { (tr("按单位类型（市级部门为职能，其余为属地）", "By unit kind (departments functional, governments territorial)")) }
                        @for o in [Ownership::Functional, Ownership::Territorial] {
                            option value=(o.as_str()) selected[v("ownership") == o.as_str()] { (if zh { o.label_zh() } else { o.as_str() }) }
                        }
                    }
                    (typed.err("ownership"))
                }
                div.field {
                    label for="tier" { (tr("处置时限", "Tier")) }
                    select #tier name="tier" {
                        option value="" { (tr("按分类默认", "The category's")) }
                        @for d in TIERS { option value=(d) selected[v("tier") == d.to_string()] { (d) (tr("天", " days")) } }
                    }
                    (typed.err("tier"))
                }
                div.field { label for="valid_from" { (tr("生效日期", "Valid from")) } input #valid_from type="date" name="valid_from" value=(v("valid_from")); (typed.err("valid_from")) }
                div.field { label for="valid_to" { (tr("截止日期（含）", "Valid to (inclusive)")) } input #valid_to type="date" name="valid_to" value=(v("valid_to")); (typed.err("valid_to")) }
                div.field { label for="note" { (tr("说明", "Note")) } input #note name="note" value=(v("note")) size="40"; (typed.err("note")) }
                button.primary type="submit" { (tr("保存", "Save")) }
                @if editing.is_some() { " " a href="/admin/catalogue" { (tr("取消", "Cancel")) } }
            }
        }
        div.card {
            h2 { (tr("查询承办单位", "Who owns it")) }
            form method="get" action="/admin/catalogue" {
                label for="check_category" { (tr("分类", "Category")) } " "
                input #check_category name="check_category" value=(q.check_category.clone().unwrap_or_default()) size="8" list="catalogue-categories";
                " " label for="check_division" { (tr("区划", "Place")) } " "
                input #check_division name="check_division" value=(q.check_division.clone().unwrap_or_default()) size="14";
                " " button type="submit" { (tr("查询", "Check")) }
            }
            @match &check {
                Some(Ok(Some(m))) => p.owner role="status" {
                    strong { (r.unit_name(m.entry.unit_id).unwrap_or("?")) } " — " (m.rule)
                    @if !m.outranked.is_empty() { " · " (tr("优先于条目 ", "outranks entries ")) (m.outranked.iter().map(|i| format!("#{i}")).collect::<Vec<_>>().join(", ")) }
                },
                Some(Ok(None)) => p.owner role="status" { (tr("目录中没有适用的条目。", "No entry applies.")) },
                Some(Err(e)) => p.error role="alert" { (super::i18n::message(s.lang, &e.to_string())) },
                None => {},
            }
        }
        form method="get" action="/admin/catalogue" {
            label for="q" { (tr("筛选（分类或区划编码开头、单位名称）", "Filter (category or place code prefix, unit name)")) } " "
            input #q type="search" name="q" value=(filter);
            " " button type="submit" { (tr("筛选", "Filter")) }
            " " a href="/admin/catalogue/export.csv" download="catalogue.csv" { (tr("导出 CSV（Excel 可打开）", "Export CSV (opens in Excel)")) }
            " " a href="/admin/catalogue/export.xlsx" download="catalogue.xlsx" { (tr("导出 Excel", "Export Excel")) }
        }
        table.list {
            thead { tr {
                th { "#" } th { (tr("事项分类", "Category")) } th { (tr("范围", "Place")) } th { (tr("承办单位", "Owner")) }
                th { (tr("性质", "Ownership")) } th { (tr("时限", "Tier")) } th { (tr("有效期", "Valid")) } th { (tr("版本", "Version")) } th {}
            } }
            tbody {
                @for e in &shown {
                    tr class=[(!e.valid_on(today)).then_some("inactive")] {
                        td { (e.id) }
                        td { (e.category_code) " " span.hint { (r.category_path(&e.category_code).unwrap_or_default()) } }
                        td { @match &e.division_code { Some(d) => { (d) " " span.hint { (r.division_path(d).unwrap_or_default()) } }, None => { (tr("全市", "Whole city")) } } }
                        td { (r.unit_name(e.unit_id).unwrap_or("?")) }
                        td { (if zh { e.ownership.label_zh() } else { e.ownership.as_str() }) }
                        td { @if let Some(t) = e.tier { (t) (tr("天", " days")) } }
                        td { (e.valid_from) " – " @if let Some(to) = e.valid_to { (to) } @if !e.valid_on(today) { " " span.tag { (tr("不在有效期", "not in force")) } } }
                        td { (e.version) }
                        td {
                            a href=(format!("/admin/catalogue?id={}", e.id)) { (tr("修改", "Change")) }
                            form.inline method="post" action="/admin/catalogue/delete" {
                                input type="hidden" name="_csrf" value=(session_csrf(&s.token));
                                input type="hidden" name="id" value=(e.id);
                                input type="hidden" name="version" value=(e.version);
                                button type="submit" { (tr("删除", "Delete")) }
                            }
                        }
                    }
                }
            }
        }
        div.card {
            h2 { (tr("导入 Excel 或 CSV", "Import Excel or CSV")) }
            p.hint { (tr(
                "第一行为列名：category_code, division_code, unit_code, ownership, tier, valid_from, valid_to, note（有 id 列的行修改该条目）。全部通过才导入，出错时指明行号。",
                "A header row: category_code, division_code, unit_code, ownership, tier, valid_from, valid_to, note (a row with an id edits that entry). All rows or none; errors name the line."
            )) }
            (import_typed.err("file")) (import_typed.form_error())
            form.admin method="post" action="/admin/catalogue/import" {
                input type="hidden" name="_csrf" value=(session_csrf(&s.token));
                textarea name="csv" rows="6" cols="90" aria-label=(tr("CSV 内容", "CSV text")) { (import_typed.v("csv")) }
                button.primary type="submit" { (tr("导入", "Import")) }
            }
            form.admin method="post" action="/admin/catalogue/upload" enctype="multipart/form-data" {
                input type="hidden" name="_csrf" value=(session_csrf(&s.token));
                label {
                    (tr("或上传文件（.xlsx 取第一个工作表，或 .csv）", "Or upload a file (.xlsx: its first sheet; or .csv)"))
                    input type="file" name="file" accept=".xlsx,.csv,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" required;
                }
                button.primary type="submit" { (tr("上传并导入", "Upload and import")) }
            }
        }
        h2 { (tr("最近变更", "Latest changes")) }
        table.list {
            thead { tr { th { (tr("时间", "When")) } th { (tr("条目", "Entry")) } th { (tr("操作", "Change")) } th { (tr("用户", "User")) } } }
            tbody {
                @for c in &history {
                    tr {
                        td { (local_time(c.at)) }
                        td { "#" (c.entry_id) " v" (c.version) }
                        td { (match (c.action.as_str(), zh) { ("created", true) => "新增", ("updated", true) => "修改", ("deleted", true) => "删除", (other, _) => other }) }
                        td { (c.user_id) }
                    }
                }
            }
        }
    };
    admin_page(s, "/admin/catalogue", status, body)
}

async fn page(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<CatalogueQuery>,
) -> Response {
    match admin_session(&app, &headers, Permission::ManageReference).await {
        Ok(s) => {
            render(
                &app,
                &s,
                &q,
                &Typed::default(),
                &Typed::default(),
                StatusCode::OK,
            )
            .await
        }
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
    let result = async {
        let number = |k: &str| -> Result<Option<i64>, AppError> {
            typed
                .opt(k)
                .map(|v| {
                    v.parse()
                        .map_err(|_| AppError::invalid(k, format!("`{v}` is not a number")))
                })
                .transpose()
        };
        let date = |k: &str| -> Result<Option<chrono::NaiveDate>, AppError> {
            typed
                .opt(k)
                .map(|v| {
                    v.parse()
                        .map_err(|_| AppError::invalid(k, format!("`{v}` is not a date")))
                })
                .transpose()
        };
        let input = EntryInput {
            id: number("id")?,
            version: number("version")?,
            category_code: typed.v("category_code").trim().to_string(),
            division_code: typed.opt("division_code"),
            unit_id: number("unit_id")?,
            unit_code: None,
            ownership: typed.opt("ownership"),
            tier: number("tier")?.map(|t| t as u8),
            valid_from: date("valid_from")?,
            valid_to: date("valid_to")?,
            note: typed.opt("note"),
        };
        app.save_catalogue_entry(&s.actor(), input).await
    }
    .await;
    match result {
        Ok(e) => Redirect::to(&format!("/admin/catalogue?saved=%23{}", e.id)).into_response(),
        Err(e) => refused(&app, &s, e, Some(typed), None).await,
    }
}

/// The page again with the refusal beside the form it concerns (the entry form, or the
/// import form), and what was typed there.
async fn refused(
    app: &App,
    s: &Session,
    e: AppError,
    entry: Option<Typed>,
    import: Option<Typed>,
) -> Response {
    let status = status_of(&e);
    let (entry, import) = match (entry, import) {
        (_, Some(typed)) => (Typed::default(), typed.refuse(s.lang, e)),
        (typed, None) => (
            typed.unwrap_or_default().refuse(s.lang, e),
            Typed::default(),
        ),
    };
    render(app, s, &CatalogueQuery::default(), &entry, &import, status).await
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
    let id = typed.v("id").parse::<i64>();
    let version = typed.v("version").parse::<i64>();
    let result = match (id, version) {
        (Ok(id), Ok(version)) => app.delete_catalogue_entry(&s.actor(), id, version).await,
        _ => Err(AppError::invalid(
            "form",
            "the entry and its version are needed",
        )),
    };
    match result {
        Ok(()) => Redirect::to("/admin/catalogue").into_response(),
        Err(e) => refused(&app, &s, e, Some(Typed::default()), None).await,
    }
}

/// An uploaded workbook (.xlsx, told by its zip signature) or CSV file (UTF-8, with or
/// without a byte-order mark), imported as the pasted CSV is: all rows or none.
async fn upload(State(app): State<App>, headers: HeaderMap, mut parts: Multipart) -> Response {
    let mut form: Vec<(String, String)> = Vec::new();
    let mut file: Option<Vec<u8>> = None;
    let mut unreadable: Option<String> = None;
    loop {
        match parts.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_string();
                match field.bytes().await {
                    Ok(bytes) if name == "file" => file = Some(bytes.to_vec()),
                    Ok(bytes) => form.push((name, String::from_utf8_lossy(&bytes).into_owned())),
                    Err(e) => {
                        unreadable = Some(e.body_text());
                        break;
                    }
                }
            }
            Ok(None) => break,
            Err(e) => {
                unreadable = Some(e.body_text());
                break;
            }
        }
    }
    let s = match form_session(&app, &headers, &form, Permission::ManageReference).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let result = match (unreadable, file) {
        (Some(why), _) => Err(AppError::Invalid {
            field: "file".into(),
            message: format!("the upload could not be read: {why}"),
        }),
        (None, Some(bytes)) if !bytes.is_empty() => {
            if bytes.starts_with(b"PK\x03\x04") {
                app.import_catalogue_xlsx(&s.actor(), &bytes).await
            } else {
                match std::str::from_utf8(&bytes) {
                    Ok(text) => app.import_catalogue_csv(&s.actor(), text).await,
                    Err(_) => Err(AppError::Invalid {
                        field: "file".into(),
                        message: "the file is neither an Excel workbook (.xlsx) nor UTF-8 CSV text"
                            .into(),
                    }),
                }
            }
        }
        _ => Err(AppError::Invalid {
            field: "file".into(),
            message: "choose a file to upload".into(),
        }),
    };
    match result {
        Ok(saved) => {
            Redirect::to(&format!("/admin/catalogue?saved={}", saved.len())).into_response()
        }
        Err(e) => refused(&app, &s, e, None, Some(Typed::default())).await,
    }
}

async fn import(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match form_session(&app, &headers, &form, Permission::ManageReference).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let typed = Typed::of(&form);
    match app.import_catalogue_csv(&s.actor(), typed.v("csv")).await {
        Ok(saved) => {
            Redirect::to(&format!("/admin/catalogue?saved={}", saved.len())).into_response()
        }
        Err(e) => refused(&app, &s, e, None, Some(typed)).await,
    }
}
