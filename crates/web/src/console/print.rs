//! The paper 诉求工单 a unit files: one ticket on a page, as the viewer may see it (the
//! citizen masked as on screen), with its place, category, units, deadlines, timeline and
//! reply; no navigation, no buttons. The browser prints it (A4, the console's own styles).

use super::i18n::{Lang, t};
use super::{
    clocks_card, event_text, html_response, local_time, reference, session, state_label, to_login,
};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Utc;
use mashangban_app::App;
use mashangban_app::auth::actor_of;
use maud::{DOCTYPE, html};
use std::collections::HashMap;

pub async fn print_ticket(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Some(s) = session(&app, &headers).await else {
        return to_login();
    };
    let lang = s.lang;
    let zh = lang == Lang::Zh;
    let actor = actor_of(&s.user);
    let Some((tk, events)) = super::visible_ticket(&app, &actor, &id).await else {
        return html_response(
            StatusCode::NOT_FOUND,
            html! { (DOCTYPE) html lang=(lang.code()) { body { p { (t(lang, "not_found")) } } } },
        );
    };
    let r = reference(&app, &s.actor()).await;
    let deadlines = app.deadlines_of(&tk, &events, Utc::now()).await.ok();
    let names: HashMap<i64, String> = app.user_names(&s.actor()).await.unwrap_or_default();
    let none = t(lang, "none");
    let unit = |u: Option<i64>| u.and_then(|u| r.unit_name(u)).unwrap_or(none).to_string();
    let body = html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                title { (tk.number) }
                link rel="stylesheet" href="/static/app.css";
            }
            body.print {
                header.print-head {
                    p.print-org { (t(lang, "app")) }
                    h1 { (if zh { "诉求工单" } else { "Citizen request" }) }
                    p { (if zh { "工单编号：" } else { "Number: " }) strong #print-number { (tk.number) }
                        "　" (if zh { "状态：" } else { "State: " }) (state_label(tk.state, lang))
                        "　" (if zh { "打印时间：" } else { "Printed: " }) (local_time(Utc::now())) }
                }
                table.print-fields {
                    tr { th { (t(lang, "created")) } td { (local_time(tk.created_at)) } th { (t(lang, "channel")) } td { (r.channel_name(&tk.channel, !zh)) } }
                    tr { th { (t(lang, "citizen")) } td { (tk.citizen.name.as_deref().unwrap_or(none)) } th { (t(lang, "phone")) } td { (tk.citizen.phone.as_deref().unwrap_or(none)) } }
                    tr { th { (t(lang, "kind")) } td { (if zh { tk.kind.label_zh() } else { tk.kind.as_str() }) } th { (t(lang, "category")) } td { (tk.category_code.as_deref().map(|c| r.category_path(c).unwrap_or_else(|| c.to_string())).unwrap_or_else(|| none.to_string())) } }
                    tr { th { (t(lang, "address")) } td { (tk.address.as_deref().unwrap_or(none)) } th { (t(lang, "division")) } td { (tk.division_code.as_deref().map(|c| r.division_path(c).unwrap_or_else(|| c.to_string())).unwrap_or_else(|| none.to_string())) } }
                    tr { th { (t(lang, "lead_unit")) } td { (unit(tk.lead_unit_id)) } th { (t(lang, "co_units")) } td { @for u in &tk.co_unit_ids { (unit(Some(*u))) " " } } }
                    tr { th { (t(lang, "title")) } td colspan="3" { (tk.title) } }
                    tr { th { (t(lang, "content")) } td colspan="3" { (tk.content) } }
                    @if let Some(reply) = &tk.reply { tr { th { (t(lang, "reply")) } td colspan="3" { (reply) } } }
                    @if let Some(answer) = &tk.answer { tr { th { (if zh { "答复" } else { "Answer" }) } td colspan="3" { (answer) } } }
                }
                @if let Some(d) = deadlines.as_ref().filter(|d| !d.clocks.is_empty()) { (clocks_card(lang, d)) }
                h2 { (t(lang, "timeline")) }
                table.print-timeline {
                    @for e in &events {
                        tr {
                            td { (local_time(e.at)) }
                            td { (names.get(&e.actor.user_id).map(String::as_str).unwrap_or(if e.actor.user_id == 0 { if zh { "系统" } else { "system" } } else { "" })) }
                            td { (event_text(e, lang, Some(&r))) }
                        }
                    }
                }
                footer.print-foot {
                    p { (if zh { "承办单位（盖章）：" } else { "Unit (seal): " }) "　　　　　　　　　　" (if zh { "经办人：" } else { "Handled by: " }) "　　　　　　　" (if zh { "日期：" } else { "Date: " }) }
                }
            }
        }
    };
    html_response(StatusCode::OK, body)
}
