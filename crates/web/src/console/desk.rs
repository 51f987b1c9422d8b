//! Each role's home: the desk of work waiting for it. The dispatcher's desk (派单) holds
//! new tickets, return and extension requests, consultations and replies to approve; the
//! unit's queue (承办) its tickets by state with their handling time; the callback desk
//! (回访) the tickets awaiting a callback, each with the callback form at hand.

use super::i18n::{Lang, t};
use super::{
    html_response, local_time, page, reference, session, session_csrf, ticket_table, to_login,
};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use mashangban_app::App;
use mashangban_app::auth::actor_of;
use mashangban_app::tickets::ListQuery;
use mashangban_domain::{
    Action, Actor, Channel, Permission, Resolution, Satisfaction, Ticket, TicketState as S,
    UnitQueue,
};
use maud::{Markup, html};

/// One part of a desk: a title and the list it shows.
struct Section {
    zh: &'static str,
    en: &'static str,
    states: Vec<S>,
    extension_pending: Option<bool>,
    /// Supervisions the unit has not answered.
    awaiting_answer: Option<bool>,
    /// What the tickets wait for from the user's unit.
    queue: Option<UnitQueue>,
    /// Tickets from this channel only.
    channel: Option<Channel>,
}

fn section(zh: &'static str, en: &'static str, states: Vec<S>) -> Section {
    Section {
        zh,
        en,
        states,
        extension_pending: None,
        awaiting_answer: None,
        queue: None,
        channel: None,
    }
}

/// A unit's queue: the tickets waiting for the unit in that way, whatever their state.
fn queue(zh: &'static str, en: &'static str, q: UnitQueue) -> Section {
    Section {
        queue: Some(q),
        ..section(zh, en, Vec::new())
    }
}

/// The parts of a user's desk, by what their role may do: a section for each kind of
/// decision or step waiting for them; those who take none oversee open tickets.
fn sections(actor: &Actor) -> Vec<Section> {
    let take = |a| mashangban_app::may_take(actor, a);
    let take_in = |a, state| mashangban_app::may_take_in(actor, a, state);
    let mut v = Vec::new();
    if take(Action::Dispatch) {
        v.push(section("待派单", "To dispatch", vec![S::Received]));
    } else if mashangban_app::may(actor, Permission::ReceiveRequests) {
        v.push(section(
            "待派单（已受理）",
            "Received, not yet dispatched",
            vec![S::Received],
        ));
    }
    if take(Action::ReviewRating) {
        v.push(section(
            "差评待审",
            "Bad ratings to review",
            vec![S::RatingReview],
        ));
    }
    if take_in(Action::ApproveReturn, S::ReturnRequested) {
        v.push(section(
            "退单申请",
            "Return requests",
            vec![S::ReturnRequested],
        ));
    }
    if take(Action::ApproveExtension) {
        v.push(Section {
            extension_pending: Some(true),
            ..section("延期申请", "Extension requests", Vec::new())
        });
    }
    if take(Action::DecideConsultation) {
        v.push(section(
            "会商定责",
            "Consultations to decide",
            vec![S::InConsultation],
        ));
    }
    if take_in(Action::ApproveReply, S::Replied) {
        v.push(section(
            "待审核答复",
            "Replies to approve",
            vec![S::Replied],
        ));
    }
    if take(Action::AnswerSupervision) {
        v.push(Section {
            awaiting_answer: Some(true),
            ..section("督办待反馈", "Supervision to answer", Vec::new())
        });
    }
    // A unit's desk: what waits for it, down the levels too (分级转办).
    if take(Action::Sign) {
        v.push(queue("待签收", "To sign", UnitQueue::ToSign));
    }
    if take(Action::Reply) {
        v.push(queue("办理中", "In progress", UnitQueue::InHand));
    }
    if take(Action::Forward) {
        v.push(queue("下级办理中", "With a level below", UnitQueue::Below));
    }
    if take(Action::ReportIn) {
        v.push(queue(
            "吹哨待报到",
            "Called to the spot",
            UnitQueue::ToReportIn,
        ));
    }
    if take_in(Action::ApproveReply, S::InProgress) {
        v.push(queue(
            "下级已答复待审核",
            "Replies from below to review",
            UnitQueue::ToReview,
        ));
    }
    if take(Action::RequestReturn) {
        v.push(section(
            "退单申请中",
            "Return requested",
            vec![S::ReturnRequested],
        ));
    }
    if take(Action::Reply) {
        v.push(section(
            "已答复待审核",
            "Replied, awaiting approval",
            vec![S::Replied],
        ));
    }
    // A grid worker's desk: the community's patrol reports, those it may still resolve
    // itself and those the hotline took on.
    if mashangban_app::may(actor, Permission::ReportOnPatrol) {
        v.push(Section {
            channel: Some(Channel::GRID),
            ..section(
                "网格上报待处置（可就地办结）",
                "Patrol reports to resolve or dispatch",
                vec![S::Received],
            )
        });
        v.push(Section {
            channel: Some(Channel::GRID),
            ..section(
                "网格上报办理中",
                "Patrol reports being handled",
                vec![
                    S::Dispatched,
                    S::InProgress,
                    S::ReturnRequested,
                    S::InConsultation,
                    S::Replied,
                    S::AwaitingCallback,
                ],
            )
        });
    }
    if take(Action::RecordCallback) {
        v.push(section(
            "待回访",
            "Awaiting callback",
            vec![S::AwaitingCallback],
        ));
    }
    if v.is_empty() {
        v.push(section(
            "在办工单",
            "Open tickets",
            vec![S::Dispatched, S::InProgress],
        ));
        v.push(section(
            "待处理申请",
            "Requests to decide",
            vec![S::ReturnRequested, S::InConsultation],
        ));
    }
    v
}

/// The link to the full list behind a section.
fn more_link(sec: &Section) -> String {
    let mut q: Vec<String> = Vec::new();
    if !sec.states.is_empty() {
        let states: Vec<&str> = sec.states.iter().map(|s| s.as_str()).collect();
        q.push(format!("state={}", states.join(",")));
    }
    if let Some(p) = sec.extension_pending {
        q.push(format!("extension_pending={p}"));
    }
    if let Some(a) = sec.awaiting_answer {
        q.push(format!("supervision=any&awaiting_answer={a}"));
    }
    if let Some(u) = sec.queue {
        q.push(format!("queue={}", u.as_str()));
    }
    if let Some(c) = &sec.channel {
        q.push(format!("channel={}", c.as_str()));
    }
    format!("/tickets?{}", q.join("&"))
}

/// Shown per section on the desk; the rest is behind "more".
const DESK_ROWS: u32 = 20;

pub async fn home(State(app): State<App>, headers: HeaderMap) -> Response {
    let Some(s) = session(&app, &headers).await else {
        return to_login();
    };
    let actor = actor_of(&s.user);
    // The callback desk is the home of those who call back and oversee nothing else.
    if s.may(Permission::CallBackDesk) && !s.may(Permission::ReadFigures) {
        return Redirect::to("/callback").into_response();
    }
    let r = reference(&app, &s.actor()).await;
    let take = |a| mashangban_app::may_take(&actor, a);
    // Deadlines matter to those who dispatch, handle or supervise.
    let deadline = take(Action::Dispatch) || take(Action::Sign) || take(Action::Supervise);
    let mut parts = Vec::new();
    for sec in sections(&actor) {
        // A unit with nothing to answer is not shown an empty supervision section.
        let optional = sec.awaiting_answer.is_some();
        let q = ListQuery {
            states: sec.states.clone(),
            extension_pending: sec.extension_pending,
            supervision: sec.awaiting_answer.map(|_| 1),
            awaiting_answer: sec.awaiting_answer,
            queue: sec.queue,
            channel: sec.channel.clone(),
            limit: Some(DESK_ROWS),
            ..Default::default()
        };
        let (items, more) = match app.list_tickets(&actor, q).await {
            Ok(p) => (p.items, p.next_cursor.is_some()),
            Err(e) => {
                tracing::error!(error = %e, "desk section");
                (Vec::new(), false)
            }
        };
        if optional && items.is_empty() {
            continue;
        }
        parts.push((sec, items, more));
    }
    // A unit's tasks of monthly topics (每月一题), watched like its tickets.
    let tasks = if s.may(Permission::WorkTopicTasks) {
        app.open_topic_tasks(&actor).await.unwrap_or_else(|e| {
            tracing::error!(error = %e, "desk topic tasks");
            Vec::new()
        })
    } else {
        Vec::new()
    };
    let lang = s.lang;
    let zh = lang == Lang::Zh;
    let title = if take(Action::Dispatch) {
        t(lang, "dispatch_desk")
    } else if s.may(Permission::ReportOnPatrol) {
        t(lang, "grid_desk")
    } else if take(Action::Sign) {
        t(lang, "unit_queue")
    } else {
        t(lang, "my_queue")
    };
    let body = html! {
        h1 { (title) @if let Some(u) = s.user.unit_id.and_then(|u| r.unit_name(u)) { " · " (u) } }
        @for (sec, items, more) in &parts {
            section.desk id=(sec.en.to_lowercase().replace([' ', ','], "-")) {
                h2 { (if zh { sec.zh } else { sec.en }) " " span.count { (items.len()) @if *more { "+" } } }
                (ticket_table(lang, items, &r, deadline, true))
                @if *more { p.pager { a href=(more_link(sec)) { (t(lang, "more")) } } }
            }
        }
        @if parts.iter().any(|(_, items, _)| !items.is_empty()) {
            (super::bulk::bar(lang, &s, &super::session_csrf(&s.token), &r, "/"))
        }
        (super::topics::open_tasks_section(lang, &tasks, &r))
    };
    html_response(StatusCode::OK, page(lang, Some(&s), "/", body))
}

fn callback_form(lang: Lang, csrf: &str, tk: &Ticket) -> Markup {
    let zh = lang == Lang::Zh;
    let choose = if zh {
        "—请选择—"
    } else {
        "— choose —"
    };
    let id = tk.id;
    html! {
        form.callback method="post" action=(format!("/tickets/{id}/act/record-callback")) {
            input type="hidden" name="_csrf" value=(csrf);
            input type="hidden" name="_back" value="/callback";
            // What the citizen said, and nothing preset: an answer left unchosen is refused.
            label { (if zh { "是否及时联系" } else { "Contacted in time" })
                select name="contacted" { option value="" { (choose) } option value="true" { (if zh { "是" } else { "yes" }) } option value="false" { (if zh { "否" } else { "no" }) } }
            }
            label { (if zh { "解决情况" } else { "Resolution" })
                select name="resolution" { option value="" { (choose) } @for r in Resolution::ALL { option value=(r.as_str()) { (if zh { r.label_zh() } else { r.as_str() }) } } }
            }
            label { (if zh { "满意度" } else { "Satisfaction" })
                select name="satisfaction" { option value="" { (choose) } @for v in Satisfaction::ALL { option value=(v.as_str()) { (if zh { v.label_zh() } else { v.as_str() }) } } }
            }
            label { (if zh { "备注" } else { "Note" }) input name="note" size="30"; }
            button.primary type="submit" { (if zh { "保存回访" } else { "Save callback" }) }
            button type="submit" name="unreachable" value="on" { (if zh { "未接通" } else { "Unreachable" }) }
        }
    }
}

/// The callback desk: each ticket awaiting a callback, with what was asked, what the unit
/// answered, the number to call and the form for the three answers.
pub async fn callback_desk(State(app): State<App>, headers: HeaderMap) -> Response {
    let Some(s) = session(&app, &headers).await else {
        return to_login();
    };
    let lang = s.lang;
    if !s.may(Permission::CallBackDesk) {
        return super::forbidden_page(lang);
    }
    let actor = actor_of(&s.user);
    let q = ListQuery {
        states: vec![S::AwaitingCallback],
        limit: Some(DESK_ROWS),
        ..Default::default()
    };
    let (items, more) = match app.list_tickets(&actor, q).await {
        Ok(p) => (p.items, p.next_cursor.is_some()),
        Err(e) => {
            tracing::error!(error = %e, "callback desk");
            (Vec::new(), false)
        }
    };
    let r = reference(&app, &s.actor()).await;
    let csrf = session_csrf(&s.token);
    let zh = lang == Lang::Zh;
    let body = html! {
        h1 { (t(lang, "callback_desk")) " " span.count { (items.len()) @if more { "+" } } }
        @if items.is_empty() { p.muted { (t(lang, "empty")) } }
        @for tk in &items {
            article.card.callback-item {
                h2 {
                    a href=(format!("/tickets/{}", tk.id)) { (tk.number) } " " (tk.title)
                    @if tk.callback_attempts > 0 { " " span.tag { (if zh { "已尝试" } else { "attempts: " }) (tk.callback_attempts) (if zh { "次" } else { "" }) } }
                }
                dl.fields {
                    dt { (t(lang, "citizen")) } dd { (tk.citizen.name.as_deref().unwrap_or("")) " " strong { (tk.citizen.phone.as_deref().unwrap_or(t(lang, "none"))) } }
                    dt { (t(lang, "lead_unit")) } dd { (tk.lead_unit_id.and_then(|u| r.unit_name(u)).unwrap_or("")) }
                    dt { (t(lang, "content")) } dd { (excerpt(&tk.content, 200)) }
                    dt { (t(lang, "reply")) } dd { (tk.reply.as_deref().unwrap_or("")) }
                    dt { (t(lang, "replied_at")) } dd { (tk.replied_at.map(local_time).unwrap_or_default()) }
                }
                (callback_form(lang, &csrf, tk))
            }
        }
        @if more { p.pager { a href="/tickets?state=awaiting_callback" { (t(lang, "more")) } } }
    };
    html_response(StatusCode::OK, page(lang, Some(&s), "/callback", body))
}

/// The first `n` characters of a text, with an ellipsis if there was more.
pub fn excerpt(text: &str, n: usize) -> String {
    let mut out: String = text.chars().take(n).collect();
    if text.chars().nth(n).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mashangban_domain::Role;

    #[test]
    fn every_role_has_a_desk_and_links_to_its_lists() {
        for role in Role::ALL {
            let unit_id = (*role == Role::UnitHandler).then_some(1);
            let secs = sections(&Actor {
                user_id: 1,
                role: *role,
                unit_id,
            });
            assert!(!secs.is_empty(), "{role:?}");
            for s in &secs {
                assert!(
                    !s.states.is_empty()
                        || s.extension_pending.is_some()
                        || s.awaiting_answer.is_some()
                        || s.queue.is_some()
                );
                assert!(more_link(s).starts_with("/tickets?"));
            }
        }
        let d = sections(&Actor {
            user_id: 1,
            role: Role::Dispatcher,
            unit_id: None,
        });
        let titles: Vec<&str> = d.iter().map(|s| s.zh).collect();
        assert_eq!(
            titles,
            [
                "待派单",
                "差评待审",
                "退单申请",
                "延期申请",
                "会商定责",
                "待审核答复"
            ]
        );
        assert_eq!(more_link(&d[1]), "/tickets?state=rating_review");
        assert_eq!(more_link(&d[3]), "/tickets?extension_pending=true");
        assert_eq!(more_link(&d[0]), "/tickets?state=received");
        let unit = sections(&Actor {
            user_id: 1,
            role: Role::UnitHandler,
            unit_id: Some(1),
        });
        let titles: Vec<&str> = unit.iter().map(|s| s.zh).collect();
        assert_eq!(
            titles,
            [
                "督办待反馈",
                "待签收",
                "办理中",
                "下级办理中",
                "吹哨待报到",
                "下级已答复待审核",
                "退单申请中",
                "已答复待审核"
            ]
        );
    }

    #[test]
    fn excerpts_cut_on_characters() {
        assert_eq!(excerpt("市民反映路灯不亮", 4), "市民反映…");
        assert_eq!(excerpt("短", 4), "短");
    }
}
