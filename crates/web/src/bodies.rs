//! The API's own request and response bodies: the shapes the handlers read and send that
//! are not the application's types themselves. Each derives its schema, so the OpenAPI
//! document says what the code sends.

use chrono::{DateTime, NaiveDate, Utc};
use mashangban_domain::Role;
use mashangban_domain::calendar::DayKind;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A list: `{"items": [...]}`.
#[derive(Serialize, ToSchema)]
pub struct Items<T> {
    pub items: Vec<T>,
}

impl<T> Items<T> {
    pub fn of(items: Vec<T>) -> Items<T> {
        Items { items }
    }
}

/// Every API error: `{"error": {"code", "message", "field"?}}`.
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable and machine-readable: `invalid`, `not_found`, `forbidden`, `illegal_transition` …
    pub code: String,
    pub message: String,
    /// The field or parameter at fault, for `invalid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every bad field of every row of a refused file (`bad_rows`), by line.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<mashangban_domain::import::RowError>,
}

/// `GET /healthz`.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `unavailable`.
    pub status: &'static str,
    /// `ok` or `unreachable`.
    pub database: &'static str,
}

/// A username and password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub username: String,
    pub password: String,
}

/// A bearer token that expires, and whose it is.
#[derive(Serialize, ToSchema)]
pub struct LoggedIn {
    pub token: String,
    pub expires_in_hours: i64,
    pub user: mashangban_domain::User,
}

/// A user to create (administrators).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    pub display_name: Option<String>,
    pub role: Role,
    /// Required for a unit handler, refused otherwise.
    pub unit_id: Option<i64>,
    /// At least 8 characters; without one the user signs in with a token only.
    #[schema(min_length = 8)]
    pub password: Option<String>,
}

/// What an action did: the ticket after it and the events it recorded.
#[derive(Serialize, ToSchema)]
pub struct Acted {
    pub ticket: mashangban_domain::Ticket,
    pub events: Vec<mashangban_domain::Event>,
}

/// One action on several tickets (批量办理).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkAction {
    /// `sign`, `dispatch` or `add-note` (the others are taken one ticket at a time)
    pub action: mashangban_domain::Action,
    /// The tickets, at most 50; a repeated id is acted on once
    #[schema(min_items = 1, max_items = 50)]
    pub ticket_ids: Vec<i64>,
    /// The action's body, as for one ticket (`{"lead_unit_id": …}` to dispatch, `{"note": …}` to
    /// add a note), the same for every ticket
    #[serde(default)]
    #[schema(value_type = Object)]
    pub body: Option<serde_json::Value>,
}

/// A division's resident population (used by 万人诉求比); null removes it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PopulationChange {
    #[schema(minimum = 0)]
    pub population: Option<i64>,
}

/// A holiday or a make-up workday.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarDayChange {
    pub kind: DayKind,
    #[serde(default)]
    #[schema(max_length = 20)]
    pub name: String,
}

/// A date made a holiday or a workday.
#[derive(Serialize, ToSchema)]
pub struct CalendarDaySet {
    pub date: NaiveDate,
    pub kind: DayKind,
    pub name: String,
}

/// Whether a year's schedule is published.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarYearChange {
    pub known: bool,
}

/// A year marked known or not.
#[derive(Serialize, ToSchema)]
pub struct CalendarYearSet {
    pub year: i32,
    pub known: bool,
}

/// A webhook as shown back: everything but the secret.
#[derive(Serialize, ToSchema)]
pub struct WebhookView {
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    pub active: bool,
    /// Whether a signing secret is set (it is never shown).
    pub secret_set: bool,
}

impl From<&mashangban_app::notify::Webhook> for WebhookView {
    fn from(h: &mashangban_app::notify::Webhook) -> Self {
        WebhookView {
            name: h.name.clone(),
            url: h.url.clone(),
            events: h.events.clone(),
            active: h.active,
            secret_set: !h.secret.is_empty(),
        }
    }
}

/// One of my console notices.
#[derive(Serialize, ToSchema)]
pub struct NoticeView {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// The ticket it is about; null for a notice about none (a monthly topic's task, a
    /// surge of requests).
    pub ticket_id: Option<i64>,
    /// Where the console opens it: the ticket, or the page it is about.
    pub link: Option<String>,
    /// The event told of; null for a notice about no single event (an early warning).
    pub event: Option<String>,
    pub text: String,
    /// Whether I have read it (opened it, or read all).
    pub read: bool,
}

/// My console notices, newest first, and how many I have not read.
#[derive(Serialize, ToSchema)]
pub struct Notices {
    /// Notices not read yet (at most 100 counted).
    pub unseen: i64,
    pub items: Vec<NoticeView>,
}

/// A notice marked read, and how many of mine are left unread.
#[derive(Serialize, ToSchema)]
pub struct NoticeRead {
    pub id: i64,
    /// Notices not read yet (at most 100 counted).
    pub unseen: i64,
}

/// A unit's liaison, who receives its SMS; an empty phone removes them.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactChange {
    #[serde(default)]
    #[schema(max_length = 40)]
    pub liaison: String,
    pub phone: String,
}

/// A unit's liaison as set (null: removed).
#[derive(Serialize, ToSchema)]
pub struct ContactSet {
    pub unit_id: i64,
    pub contact: Option<mashangban_app::notify::UnitContact>,
}

/// How a warning was handled.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WarningHandling {
    /// `acknowledged`, `dismissed` or `open` (reopened).
    #[schema(pattern = "^(acknowledged|dismissed|open)$")]
    pub status: String,
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// A catalogue entry with the names a reader needs beside the codes.
#[derive(Serialize, ToSchema)]
pub struct EntryView {
    pub id: i64,
    pub version: i64,
    pub category_code: String,
    pub category_name: Option<String>,
    pub division_code: Option<String>,
    pub division_name: Option<String>,
    pub unit_id: i64,
    pub unit_code: Option<String>,
    pub unit_name: Option<String>,
    pub ownership: mashangban_domain::catalogue::Ownership,
    pub tier: Option<u8>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub note: String,
}

/// What an import saved.
#[derive(Serialize, ToSchema)]
pub struct Imported {
    pub imported: usize,
    pub items: Vec<EntryView>,
}

/// The unit that owns a matter, by the catalogue.
#[derive(Serialize, ToSchema)]
pub struct OwnerUnit {
    pub id: i64,
    pub name: Option<String>,
    /// Why this entry decided: most specific category, then smallest place, then latest start.
    pub rule: String,
}

/// Who owns a matter of a category at a place on a day.
#[derive(Serialize, ToSchema)]
pub struct Owner {
    pub unit: OwnerUnit,
    pub entry: EntryView,
    /// The handling tier such a matter gets.
    pub tier: Option<u8>,
    /// The entries this one outranked.
    pub outranked: Vec<i64>,
}

/// The gazetteer after a change, and how many names were saved.
#[derive(Serialize, ToSchema)]
pub struct GazetteerSaved {
    pub saved: usize,
    pub items: Vec<mashangban_app::text::GazetteerRow>,
}

/// Knowledge articles: with `q`, the matches, best first, each with its score; without,
/// every article.
#[derive(Serialize)]
#[serde(untagged)]
pub enum KnowledgeItems {
    Matches(Items<mashangban_app::knowledge::KnowledgeMatch>),
    Articles(Items<mashangban_domain::knowledge::Article>),
}

impl utoipa::PartialSchema for KnowledgeItems {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AnyOfBuilder, ArrayBuilder, ObjectBuilder};
        let item = AnyOfBuilder::new()
            .item(utoipa::openapi::Ref::from_schema_name("KnowledgeMatch"))
            .item(utoipa::openapi::Ref::from_schema_name("Article"));
        ObjectBuilder::new()
            .property("items", ArrayBuilder::new().items(item))
            .required("items")
            .into()
    }
}

impl utoipa::ToSchema for KnowledgeItems {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        use utoipa::PartialSchema;
        schemas.push((
            "KnowledgeMatch".into(),
            mashangban_app::knowledge::KnowledgeMatch::schema(),
        ));
        schemas.push((
            "Article".into(),
            mashangban_domain::knowledge::Article::schema(),
        ));
        <mashangban_app::knowledge::KnowledgeMatch as utoipa::ToSchema>::schemas(schemas);
        <mashangban_domain::knowledge::Article as utoipa::ToSchema>::schemas(schemas);
    }
}
