//! The one-line answer after an action (“已签收：工单 XN…”): the action's handler sets a
//! short-lived cookie as it redirects, and the page the browser lands on shows the message
//! once. The console's routes run inside [`scope`], which hands the cookie to the page and
//! clears it on the page that showed it, so that a reload does not repeat it.

use super::i18n::Lang;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use mashangban_domain::Action;
use maud::{Markup, html};

const COOKIE: &str = "mb_flash";

tokio::task_local! {
    static FLASH: Option<String>;
}

/// What happened after the action, besides the action itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    /// Back where the user came from.
    Back,
    /// On to the next ticket of the queue.
    Next,
    /// The queue has no other ticket for the action.
    QueueEmpty,
}

impl Then {
    fn as_str(self) -> &'static str {
        match self {
            Then::Back => "back",
            Then::Next => "next",
            Then::QueueEmpty => "empty",
        }
    }
}

/// The `Set-Cookie` value that tells the next page what was done.
pub fn set_cookie(action: Action, number: &str, then: Then) -> String {
    // Ticket numbers are letters, digits and dashes; anything else is left out.
    let number: String = number
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!(
        "{COOKIE}={}.{number}.{}; Path=/; HttpOnly; SameSite=Lax; Max-Age=60",
        action.as_str(),
        then.as_str()
    )
}

/// Things done that are not lifecycle actions, each with its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    FilterSaved,
    FilterDeleted,
}

impl Note {
    const ALL: [Note; 2] = [Note::FilterSaved, Note::FilterDeleted];

    fn key(self) -> &'static str {
        match self {
            Note::FilterSaved => "filter-saved",
            Note::FilterDeleted => "filter-deleted",
        }
    }

    fn text(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Note::FilterSaved, Lang::Zh) => "已保存筛选，可在列表上方一键打开。",
            (Note::FilterSaved, Lang::En) => "Filter saved: open it from above the list.",
            (Note::FilterDeleted, Lang::Zh) => "已删除保存的筛选。",
            (Note::FilterDeleted, Lang::En) => "Saved filter deleted.",
        }
    }
}

/// The `Set-Cookie` value that tells the next page something else was done.
pub fn set_note(note: Note) -> String {
    format!(
        "{COOKIE}=note.{}; Path=/; HttpOnly; SameSite=Lax; Max-Age=60",
        note.key()
    )
}

/// Runs a console request with the message its cookie carries, and clears the cookie on
/// the page that shows it (an HTML answer; a redirect passes it on).
pub async fn scope(req: Request, next: Next) -> Response {
    let value = super::cookie(req.headers(), COOKIE)
        .filter(|v| !v.is_empty())
        .map(str::to_string);
    let had = value.is_some();
    let mut resp = FLASH.scope(value, next.run(req)).await;
    let html = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if had && html {
        resp.headers_mut().append(
            header::SET_COOKIE,
            HeaderValue::from_static("mb_flash=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
        );
    }
    resp
}

/// The message of the current request's cookie, if any.
pub fn message(lang: Lang) -> Option<String> {
    let value = FLASH.try_with(|f| f.clone()).ok().flatten()?;
    if let Some(key) = value.strip_prefix("note.") {
        return Note::ALL
            .into_iter()
            .find(|n| n.key() == key)
            .map(|n| n.text(lang).to_string());
    }
    let mut parts = value.splitn(3, '.');
    let action = Action::parse(parts.next()?)?;
    let number = parts.next()?;
    let then = parts.next().unwrap_or("back");
    let zh = lang == Lang::Zh;
    let done = if zh {
        format!("已{}：工单 {number}", action.label_zh())
    } else {
        format!("Done — {}: ticket {number}", action.as_str())
    };
    Some(match (then, zh) {
        ("next", true) => format!("{done}。已打开下一件。"),
        ("next", false) => format!("{done}. The next one is open."),
        ("empty", true) => format!("{done}。队列中已没有可{}的工单。", action.label_zh()),
        ("empty", false) => format!("{done}. Nothing else waits for {}.", action.as_str()),
        (_, true) => format!("{done}。"),
        (_, false) => format!("{done}."),
    })
}

/// The message as the page shows it, at the top of the content.
pub fn banner(lang: Lang) -> Markup {
    html! {
        @if let Some(m) = message(lang) {
            p.notice.success #flash role="status" { (m) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_cookie_reads_back_as_a_message() {
        let set = set_cookie(Action::Sign, "XN20261206-0001", Then::Next);
        let value = set
            .trim_start_matches("mb_flash=")
            .split(';')
            .next()
            .unwrap()
            .to_string();
        assert_eq!(value, "sign.XN20261206-0001.next");
        let zh = FLASH
            .scope(Some(value.clone()), async { message(Lang::Zh) })
            .await;
        assert_eq!(
            zh.as_deref(),
            Some("已签收：工单 XN20261206-0001。已打开下一件。")
        );
        let bad = FLASH
            .scope(Some("fly.1.back".into()), async { message(Lang::Zh) })
            .await;
        assert_eq!(bad, None);
        let saved = FLASH
            .scope(Some("note.filter-saved".into()), async {
                message(Lang::Zh)
            })
            .await;
        assert_eq!(saved.as_deref(), Some("已保存筛选，可在列表上方一键打开。"));
        assert!(set_note(Note::FilterDeleted).starts_with("mb_flash=note.filter-deleted;"));
        // Outside a console request there is no message.
        assert_eq!(message(Lang::Zh), None);
        // A number with other characters is cut to its safe ones.
        assert!(
            set_cookie(Action::Sign, "a;b=c", Then::Back).starts_with("mb_flash=sign.abc.back;")
        );
    }
}
