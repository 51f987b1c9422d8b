//! The portal's typical cases (典型案例, `/public/cases`): the published cases with their
//! categories and a search, each case's page, and the Atom feed (`/public/cases.atom`),
//! written with `atom_syndication`. Only what `App::public_cases` gives: a case not
//! published is not found.

use std::collections::HashMap;

use atom_syndication::{Category, Content, Entry, Feed, Link, Person, Text};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, FixedOffset, Utc};
use mashangban_app::cases::{CaseQuery, PublicCase};
use mashangban_app::{App, AppError};
use maud::html;

use crate::api_cases::case_query;
use crate::console::{html_response, local_time};
use crate::portal::shell;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/public/cases", get(list))
        .route("/public/cases.atom", get(feed))
        .route("/public/cases/{id}", get(one))
}

fn failed(e: &AppError) -> Response {
    let (status, text) = match e {
        AppError::NotFound(_) => (StatusCode::NOT_FOUND, "没有找到这个案例。"),
        AppError::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "查询条件有误。"),
        _ => {
            tracing::error!(error = %e, "public cases");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "暂时无法显示，请稍后再试。",
            )
        }
    };
    html_response(
        status,
        shell(
            "典型案例",
            html! { h1 { "典型案例" } p.error role="alert" { (text) } p { a href="/public/cases" { "返回典型案例" } } },
        ),
    )
}

fn link_with(q: &CaseQuery, page: u32) -> String {
    let mut l = format!("/public/cases?page={page}");
    for (k, v) in [("category", &q.category), ("q", &q.q)] {
        if let Some(v) = v {
            l.push_str(&format!(
                "&{k}={}",
                form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
            ));
        }
    }
    l
}

async fn list(State(app): State<App>, Query(raw): Query<HashMap<String, String>>) -> Response {
    let q = match case_query(&raw) {
        Ok(q) if q.state.is_none() => q,
        Ok(_) => return failed(&AppError::invalid("state", "not a parameter")),
        Err(e) => return failed(&e),
    };
    let found = match app.public_cases(&q).await {
        Ok(f) => f,
        Err(e) => return failed(&e),
    };
    // The categories of the cases published, for the filter.
    let categories = app.public_case_categories().await.unwrap_or_default();
    let page = found.page;
    let pages = found.total.div_ceil(u64::from(found.per_page)).max(1);
    html_response(
        StatusCode::OK,
        shell(
            "典型案例",
            html! {
                h1 { "典型案例" }
                p.lead { "有诉必应、接诉即办：这里发布12345热线办理的典型案例，个人信息均已隐去。" }
                p { a href="/public/cases.atom" { "订阅（Atom）" } }
                form.search method="get" action="/public/cases" {
                    label { "类别 "
                        select name="category" {
                            option value="" { "全部" }
                            @for (code, name) in &categories {
                                option value=(code) selected[q.category.as_deref() == Some(code.as_str())] { (name) }
                            }
                        }
                    }
                    label { "关键词 " input type="search" name="q" value=(q.q.clone().unwrap_or_default()) maxlength="100"; }
                    button type="submit" { "查找" }
                }
                @if found.items.is_empty() {
                    p { "暂无案例。" }
                } @else {
                    ol.cases {
                        @for c in &found.items {
                            li {
                                h2 { a href=(format!("/public/cases/{}", c.id)) { (c.title) } }
                                p.meta {
                                    @if let Some(n) = &c.category_name { (n) " · " }
                                    @if let Some(p) = &c.place_name { (p) " · " }
                                    (local_time(c.published_at))
                                }
                            }
                        }
                    }
                    @if pages > 1 {
                        nav.pager aria-label="分页" {
                            @if page > 1 { a href=(link_with(&q, page - 1)) { "上一页" } }
                            " 第 " (page) " / " (pages) " 页 "
                            @if u64::from(page) < pages { a href=(link_with(&q, page + 1)) { "下一页" } }
                        }
                    }
                }
            },
        ),
    )
}

async fn one(State(app): State<App>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return failed(&AppError::NotFound("no such case".into()));
    };
    let c = match app.public_case(id).await {
        Ok(c) => c,
        Err(e) => return failed(&e),
    };
    html_response(
        StatusCode::OK,
        shell(
            &c.title,
            html! {
                article.case {
                    h1 { (c.title) }
                    p.meta {
                        @if let Some(n) = &c.category_name { (n) " · " }
                        @if let Some(p) = &c.place_name { (p) " · " }
                        "发布于 " (local_time(c.published_at))
                    }
                    h2 { "群众诉求" } p { (c.request) }
                    h2 { "办理过程" }
                    @if let Some(u) = &c.unit_name { p.meta { "承办单位：" (u) } }
                    p { (c.handling) }
                    h2 { "办理结果" } p { (c.result) }
                }
                p { a href="/public/cases" { "返回典型案例" } }
            },
        ),
    )
}

fn in_china(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.with_timezone(&FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
}

/// The feed of an instance: its newest published cases (one page), by the portal's address.
pub fn atom_of(base: &str, items: &[PublicCase]) -> Feed {
    let entries: Vec<Entry> = items
        .iter()
        .map(|c| {
            let url = format!("{base}/public/cases/{}", c.id);
            let mut e = Entry::default();
            e.set_id(url.clone());
            e.set_title(Text::plain(c.title.clone()));
            e.set_updated(in_china(c.published_at));
            e.set_published(Some(in_china(c.published_at)));
            let mut link = Link::default();
            link.set_href(url);
            link.set_rel("alternate");
            e.set_links(vec![link]);
            if let (Some(code), Some(name)) = (&c.category_code, &c.category_name) {
                let mut cat = Category::default();
                cat.set_term(code.clone());
                cat.set_label(Some(name.clone()));
                e.set_categories(vec![cat]);
            }
            e.set_summary(Some(Text::plain(
                c.request.chars().take(200).collect::<String>(),
            )));
            let mut content = Content::default();
            content.set_content_type(Some("text".to_string()));
            content.set_value(Some(format!(
                "群众诉求：{}\n\n办理过程：{}\n\n办理结果：{}",
                c.request, c.handling, c.result
            )));
            e.set_content(Some(content));
            e
        })
        .collect();
    let mut feed = Feed::default();
    feed.set_id(format!("{base}/public/cases"));
    feed.set_title(Text::plain("12345热线典型案例"));
    feed.set_updated(
        items
            .iter()
            .map(|c| in_china(c.published_at))
            .max()
            .unwrap_or_else(|| in_china(DateTime::<Utc>::UNIX_EPOCH)),
    );
    let mut author = Person::default();
    author.set_name("12345政务服务便民热线");
    feed.set_authors(vec![author]);
    let mut me = Link::default();
    me.set_href(format!("{base}/public/cases.atom"));
    me.set_rel("self");
    let mut site = Link::default();
    site.set_href(format!("{base}/public/cases"));
    site.set_rel("alternate");
    feed.set_links(vec![me, site]);
    feed.set_lang(Some("zh-CN".to_string()));
    feed.set_entries(entries);
    feed
}

async fn feed(State(app): State<App>) -> Response {
    let found = match app.public_cases(&CaseQuery::default()).await {
        Ok(f) => f,
        Err(e) => return failed(&e),
    };
    let body = atom_of(&app.portal_url(), &found.items).to_string();
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/atom+xml; charset=utf-8"),
    );
    r
}
