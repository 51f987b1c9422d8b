//! 知识库: the knowledge base for everyone on the staff — search in Chinese (best answers
//! first), or every article in force; each with its source, category, validity, and a mark
//! on demo content. Articles are written through the API (`/api/v1/knowledge`).

use super::i18n::{Lang, t};
use super::{html_response, page, reference, session, to_login};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use mashangban_app::App;
use mashangban_app::knowledge::KnowledgeQuery;
use maud::html;

#[derive(serde::Deserialize, Default)]
pub struct KnowledgeParams {
    q: Option<String>,
    /// Ended articles too.
    all: Option<String>,
}

/// One article as the page shows it.
struct Shown {
    id: i64,
    question: String,
    answer: String,
    category_code: Option<String>,
    source: String,
    demo: bool,
    score: Option<f32>,
}

pub async fn knowledge_page(
    State(app): State<App>,
    headers: HeaderMap,
    Query(p): Query<KnowledgeParams>,
) -> Response {
    let Some(s) = session(&app, &headers).await else {
        return to_login();
    };
    let lang = s.lang;
    let zh = lang == Lang::Zh;
    let r = reference(&app, &s.actor()).await;
    let text: String =
        p.q.as_deref()
            .unwrap_or("")
            .trim()
            .chars()
            .take(500)
            .collect();
    let any_day = p.all.as_deref() == Some("1");
    let today = mashangban_app::catalogue::today();
    let shown: Vec<Shown> = if text.is_empty() {
        match app.knowledge(&s.actor()).await {
            Ok(all) => all
                .into_iter()
                .filter(|a| any_day || a.in_force(today))
                .map(|a| Shown {
                    id: a.id,
                    question: a.question,
                    answer: a.answer,
                    category_code: a.category_code,
                    source: a.source,
                    demo: a.demo,
                    score: None,
                })
                .collect(),
            Err(e) => {
                tracing::error!(error = %e, "knowledge list");
                Vec::new()
            }
        }
    } else {
        let q = KnowledgeQuery {
            any_day,
            ..KnowledgeQuery::new(&text, today, 50)
        };
        match app.search_knowledge(&s.actor(), q).await {
            Ok(hits) => hits
                .into_iter()
                .map(|h| Shown {
                    id: h.id,
                    question: h.question,
                    answer: h.answer,
                    category_code: h.category_code,
                    source: h.source,
                    demo: h.demo,
                    score: Some(h.score),
                })
                .collect(),
            Err(e) => {
                tracing::error!(error = %e, "knowledge search");
                Vec::new()
            }
        }
    };
    let body = html! {
        h1 { (t(lang, "knowledge")) " " span.count { (shown.len()) } }
        form.filters method="get" action="/knowledge" {
            input type="search" name="q" value=(text) autofocus
                placeholder=(if zh { "输入来电人说的话，如：茶叶渣扔哪个桶" } else { "What the caller says, e.g. 茶叶渣扔哪个桶" });
            label { input type="checkbox" name="all" value="1" checked[any_day]; (if zh { " 含已失效" } else { " include ended" }) }
            button.primary type="submit" { (if zh { "搜索" } else { "Search" }) }
        }
        @if shown.is_empty() {
            p.muted { (if zh { "没有找到相关知识。" } else { "Nothing found." }) }
        } @else {
            ol.knowledge {
                @for a in &shown {
                    li id=(format!("article-{}", a.id)) {
                        h3 { (a.question) @if a.demo { " " span.tag.demo { (if zh { "演示内容" } else { "demo content" }) } } }
                        p.answer { (a.answer) }
                        p.muted {
                            (if zh { "来源：" } else { "Source: " }) (a.source)
                            @if let Some(c) = &a.category_code { " · " (r.category_path(c).unwrap_or_else(|| c.clone())) }
                            @if let Some(score) = a.score { " · " (if zh { "相关度 " } else { "relevance " }) (format!("{score:.1}")) }
                        }
                    }
                }
            }
        }
    };
    html_response(StatusCode::OK, page(lang, Some(&s), "/knowledge", body))
}
