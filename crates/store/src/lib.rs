//! Persistence of Mashangban behind one domain-shaped trait, [`Store`].
//!
//! [`SqlStore`] implements it on the embedded SQLite database (the default) and on
//! PostgreSQL (production), with the same SQL through sqlx's `Any` driver: numbered
//! parameters (`$1`), 64-bit integers, text and JSON text only. Time is stored as UTC
//! microseconds since the Unix epoch.

mod schema;
mod sql;
pub mod testing;

pub use sql::SqlStore;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mashangban_domain::calendar::CalendarDay;
use mashangban_domain::catalogue::CatalogueEntry;
use mashangban_domain::knowledge::Article;
use mashangban_domain::{
    Actor, Category, Channel, Division, DivisionLevel, Event, EventKind, NewTicket, NewUnit, Role,
    Ticket, TicketState, Unit, User,
};

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The ticket changed since it was read (optimistic concurrency); retry.
    #[error("the ticket was changed by someone else; reload and try again")]
    Conflict,
    /// A unique value is taken (a username, a unit code, ...).
    #[error("{what} already exists")]
    Duplicate { what: String },
    /// A referenced row does not exist.
    #[error("{what} not found")]
    NotFound { what: String },
    /// The same idempotency key was used for a different request.
    #[error("this Idempotency-Key was already used for a different request")]
    IdempotencyMismatch,
    /// Another create with the same idempotency key committed first (internal: the store
    /// answers with that ticket).
    #[error("a concurrent request with the same idempotency key won")]
    IdempotencyRace,
    /// A grouped commit failed; the write did not happen.
    #[error("commit failed: {0}")]
    Commit(String),
    /// The database URL is not one this build understands.
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://...")]
    BadUrl(String),
    /// Any other database failure (logged; never shown to API clients).
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// A stored row could not be read back.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// The change would leave no active administrator; nothing was written.
    #[error("the last active administrator cannot be disabled or given another role")]
    LastAdmin,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Changes to a user, each optional; written together or not at all.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    /// A new role and the unit it is bound to.
    pub role: Option<(Role, Option<i64>)>,
    /// A new argon2 PHC string.
    pub password_hash: Option<String>,
    pub active: Option<bool>,
}

/// A user to create. `password_hash` is an argon2 PHC string, or none for token-only users.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub unit_id: Option<i64>,
    pub password_hash: Option<String>,
}

/// Everything the store needs to create a ticket in one transaction.
#[derive(Debug, Clone)]
pub struct CreateTicket {
    pub new: NewTicket,
    pub actor: Actor,
    pub at: DateTime<Utc>,
    /// The number prefix, e.g. `XN`.
    pub number_prefix: String,
    /// An unguessable code the citizen uses to follow the request.
    pub tracking_code: String,
    /// The client's `Idempotency-Key` and a hash of the request it came with.
    pub idempotency: Option<(String, String)>,
    /// The notices the new ticket calls for, computed from it once it has its id and number
    /// and written in the same transaction.
    pub notices: Option<NoticePlan>,
}

/// Computes the notices of a ticket just created (its `received` event is seq 1).
#[derive(Clone)]
pub struct NoticePlan(pub std::sync::Arc<PlanFn>);

/// The function behind a [`NoticePlan`].
/// How an imported ticket's events are made (see [`TicketStore::import_tickets`]).
pub type ImportPlan =
    std::sync::Arc<dyn Fn(&mashangban_domain::import::PastTicket) -> Vec<Event> + Send + Sync>;

pub type PlanFn = dyn Fn(&Ticket) -> Vec<NewNotice> + Send + Sync;

impl std::fmt::Debug for NoticePlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NoticePlan")
    }
}

/// The outcome of a create: the ticket, and whether it is new (false: an idempotent replay).
#[derive(Debug, Clone)]
pub struct Created {
    pub ticket: Ticket,
    pub created: bool,
}

/// One group's sums of the evaluation aggregates (and its day, when read per day).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupTally {
    pub day: Option<chrono::NaiveDate>,
    /// The group's key: a unit id, a division or category code, a channel; "" for the city.
    pub group: String,
    pub tally: mashangban_domain::kpi::Tally,
}

/// An early warning as recorded (see `mashangban_domain::warning`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Warning {
    pub id: i64,
    pub kind: mashangban_domain::warning::WarningKind,
    /// Stays the same while the situation lasts.
    pub key: String,
    /// The worst level it has reached.
    pub level: mashangban_domain::warning::WarningLevel,
    pub title: String,
    pub detail: serde_json::Value,
    /// A ticket that belongs to it (the newest when last found).
    pub ticket_id: Option<i64>,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    pub status: mashangban_domain::warning::WarningStatus,
    pub handled_by: Option<i64>,
    pub handled_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

/// A finding recorded: the warning as it now is, and whether it is new or worse (and so
/// was told).
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct RecordedWarning {
    pub warning: Warning,
    pub told: bool,
}

/// What rebuilding the aggregates went through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RebuildReport {
    pub tickets: u64,
    pub events: u64,
    /// Rows of the finest aggregate (day × unit × category × channel × division).
    pub rows: u64,
}

/// Events decided for one ticket, to be appended atomically with its new view.
#[derive(Debug, Clone)]
pub struct Change {
    /// The ticket as it was read; its version is checked on write.
    pub before: Ticket,
    pub events: Vec<EventKind>,
    /// The next moment the deadline watcher must look at the ticket: `Some(..)` sets it
    /// (`Some(None)`: no clock runs), `None` leaves it as it was.
    pub next_deadline: Option<Option<DateTime<Utc>>>,
    /// Notices the events call for, written to the outbox in the same transaction.
    pub notices: Vec<NewNotice>,
}

impl Change {
    /// A change without notices.
    pub fn new(
        before: Ticket,
        events: Vec<EventKind>,
        next_deadline: Option<Option<DateTime<Utc>>>,
    ) -> Change {
        Change {
            before,
            events,
            next_deadline,
            notices: Vec::new(),
        }
    }
}

/// How a notice travels.
pub mod channel {
    pub const SMS: &str = "sms";
    pub const WEBHOOK: &str = "webhook";
    pub const CONSOLE: &str = "console";
}

/// A notice to put in the outbox with the events of a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotice {
    /// The event it is about (the ticket's sequence number after the change).
    pub event_seq: i64,
    /// [`channel::SMS`], [`channel::WEBHOOK`] or [`channel::CONSOLE`].
    pub channel: String,
    /// A phone number, a webhook's name, or a console audience (`unit:5`, `role:supervisor`).
    pub recipient: String,
    /// JSON: what to send.
    pub payload: String,
    /// Not to be sent before (alerts wait for working hours).
    pub not_before: DateTime<Utc>,
}

/// A notice in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Notice {
    pub id: i64,
    /// The ticket it is about; none for a notice about something else (a monthly
    /// topic's task, a surge of requests).
    pub ticket_id: Option<i64>,
    pub event_seq: i64,
    pub channel: String,
    pub recipient: String,
    pub payload: String,
    pub created_at: DateTime<Utc>,
    pub not_before: DateTime<Utc>,
    pub attempts: i64,
    pub sent_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// A unit's liaison, who receives its SMS.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct UnitContact {
    pub unit_id: i64,
    pub liaison: String,
    pub phone: String,
}

/// A client application's key (an Open311 client's `api_key`); the key itself is never
/// stored, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ApiKey {
    pub id: i64,
    /// The application it was issued to.
    pub client: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What is known of an API or login token; the secret itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct TokenInfo {
    pub id: i64,
    pub user_id: i64,
    pub username: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked: bool,
}

/// A user's named filter of the ticket list (保存的筛选).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct SavedFilter {
    pub id: i64,
    pub name: String,
    /// The list's query string (`state=received&division=630102`).
    pub query: String,
    pub saved_at: DateTime<Utc>,
}

/// A change as written: the ticket's new view and the events appended to it.
#[derive(Debug, Clone)]
pub struct Committed {
    pub ticket: Ticket,
    pub events: Vec<Event>,
}

/// Filters for listing tickets; every field narrows the list. Results are newest first
/// unless `oldest_first`.
#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub states: Vec<TicketState>,
    /// Tickets of this unit: it leads, helps, or holds a level of the chain.
    pub unit_id: Option<i64>,
    /// With `unit_id`: only the tickets waiting for that unit in this queue
    /// (`Ticket::queue_of`).
    pub unit_queue: Option<mashangban_domain::UnitQueue>,
    pub channel: Option<Channel>,
    /// A category code or the code of one of its ancestors.
    pub category_prefix: Option<String>,
    /// A division code or the code of one of its ancestors.
    pub division_prefix: Option<String>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    pub citizen_phone: Option<String>,
    /// The requests of one WeChat follower (their openid).
    pub citizen_wechat: Option<String>,
    /// Tickets with (true) or without (false) an extension request awaiting a decision.
    pub extension_pending: Option<bool>,
    /// Open tickets with an alert at least this high (1 warning, 2 overdue).
    pub alert_at_least: Option<u8>,
    /// Open tickets under supervision at least this high (1 催办, 2 书面督办, 3 挂牌督办).
    pub supervision_at_least: Option<u8>,
    /// Open tickets whose supervision the lead unit has (false) or has not (true) answered.
    pub awaiting_answer: Option<bool>,
    /// Only tickets with an id lower than this (the cursor of the previous page), or higher
    /// when the list is oldest first.
    pub before_id: Option<i64>,
    /// Oldest first (a queue worked in the order it came in) instead of newest first.
    pub oldest_first: bool,
    pub limit: u32,
}

/// Open tickets with an alert or under supervision, counted by lead unit and levels.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct BoardCount {
    pub lead_unit_id: Option<i64>,
    /// 0 none, 1 warning, 2 overdue.
    pub alert_level: u8,
    /// 0 none, 1..3 the supervision level.
    pub supervision_level: u8,
    pub awaiting_answer: bool,
    pub count: i64,
}

/// Persistence of divisions, units, categories, users, tokens, tickets and their events.
/// One conformance suite (`tests/conformance.rs`) runs against every backend.
/// One change to the dispatch catalogue.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct CatalogueChange {
    pub id: i64,
    pub entry_id: i64,
    /// The entry's version after the change (the deleted version for a deletion).
    pub version: i64,
    /// `created`, `updated` or `deleted`.
    pub action: String,
    pub before: Option<CatalogueEntry>,
    pub after: Option<CatalogueEntry>,
    pub user_id: i64,
    pub at: DateTime<Utc>,
}

/// A name the deployment maps to a division (a road, a compound, a landmark).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct GazetteerRow {
    pub id: i64,
    pub name: String,
    /// `road`, `compound` or `landmark`.
    pub kind: String,
    pub division_code: String,
}

/// A write to a versioned record (a catalogue entry, a knowledge article): a new record
/// (`id` 0), an edit of the stored `version`, or a deletion of it. A stale version is
/// refused as a conflict; every write is kept in the record's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionedWrite<T> {
    Save(T),
    Delete { id: i64, version: i64 },
}

/// A write to the catalogue.
pub type CatalogueWrite = VersionedWrite<CatalogueEntry>;

/// One change to the knowledge base.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct KnowledgeChange {
    pub id: i64,
    pub article_id: i64,
    /// The article's version after the change (the deleted version for a deletion).
    pub version: i64,
    /// `created`, `updated` or `deleted`.
    pub action: String,
    pub before: Option<Article>,
    pub after: Option<Article>,
    pub user_id: i64,
    pub at: DateTime<Utc>,
}

/// A write to the knowledge base.
pub type KnowledgeWrite = VersionedWrite<Article>;

/// The database itself: its backend, schema and health.
#[async_trait]
pub trait Maintenance: Send + Sync {
    fn backend(&self) -> Backend;
    /// Creates or upgrades the schema. Safe to run concurrently from several processes.
    async fn migrate(&self) -> Result<()>;
    async fn ping(&self) -> Result<()>;
    /// Refreshes the query planner's statistics and tidies up after a bulk load (PostgreSQL:
    /// vacuums; SQLite: empties the write-ahead log); autovacuum and `PRAGMA optimize` do it
    /// in time on their own.
    async fn analyze(&self) -> Result<()>;
    /// What the database holds and how busy it is at `now`, for the metrics endpoint and
    /// `mashangban doctor`: read from indexes only, so that asking often costs little.
    async fn figures(&self, now: DateTime<Utc>) -> Result<StoreFigures>;
    /// The highest schema migration applied, and the highest this build knows.
    async fn schema_version(&self) -> Result<(i64, i64)>;
    /// The database server's clock (PostgreSQL's `clock_timestamp()`; SQLite's is this
    /// machine's), to find instances whose clocks disagree.
    async fn clock(&self) -> Result<DateTime<Utc>>;
    /// SQLite: writes a consistent copy of the whole database to `path` (a new file) while
    /// it is in use (`VACUUM INTO`: one read transaction, writers not held up). PostgreSQL
    /// has its own tool for this (`pg_dump`): refused.
    async fn copy_to(&self, path: &std::path::Path) -> Result<()>;
}

/// What the store says of itself (see [`Maintenance::figures`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreFigures {
    /// Connections of the pool: open, of which idle, and the most it opens.
    pub pool_size: u32,
    pub pool_idle: u32,
    pub pool_max: u32,
    /// Tickets not yet ended, by state (code), states with none left out.
    pub open_by_state: Vec<(String, i64)>,
    /// Open tickets whose clock passed its warning point, and its due point.
    pub warning: i64,
    pub overdue: i64,
    /// Open tickets under supervision (督办), of any level.
    pub supervised: i64,
    /// Tickets the deadline watcher should have looked at by now, and since when the
    /// oldest of them waits.
    pub watch_due: i64,
    pub watch_oldest_due: Option<DateTime<Utc>>,
    /// The outbox by channel.
    pub outbox: Vec<OutboxFigures>,
    /// The newest ticket event's id (how far the search feed has to read).
    pub newest_event_id: i64,
    /// Evaluation deltas committed and not yet folded into the aggregates (a background
    /// fold runs every few hundred writes and every read of the aggregates folds first: a
    /// number that only grows says the folds fail).
    pub deltas_waiting: i64,
    /// SQLite's background checkpoints (none on PostgreSQL).
    pub checkpoints: Option<CheckpointFigures>,
}

/// The notices of one channel waiting in the outbox, and those given up on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutboxFigures {
    pub channel: String,
    /// Not yet sent nor given up on, whenever due.
    pub pending: i64,
    /// Of those, due by now, and the oldest due time.
    pub due: i64,
    pub oldest_due: Option<DateTime<Utc>>,
    /// Given up on after every retry.
    pub failed: i64,
}

/// What SQLite's checkpointer did since the store was opened.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckpointFigures {
    pub runs: u64,
    pub failures: u64,
    pub last_at: Option<DateTime<Utc>>,
}

/// Reference data: divisions, units and their liaisons, categories, the official calendar,
/// settings.
#[async_trait]
pub trait ReferenceStore: Send + Sync {
    async fn upsert_divisions(&self, divisions: &[Division]) -> Result<usize>;
    async fn list_divisions(
        &self,
        parent: Option<&str>,
        level: Option<DivisionLevel>,
    ) -> Result<Vec<Division>>;
    async fn get_division(&self, code: &str) -> Result<Option<Division>>;
    async fn set_population(&self, code: &str, population: Option<i64>) -> Result<()>;

    async fn insert_unit(&self, unit: &NewUnit) -> Result<Unit>;
    async fn get_unit(&self, id: i64) -> Result<Option<Unit>>;
    async fn get_unit_by_code(&self, code: &str) -> Result<Option<Unit>>;
    async fn list_units(&self) -> Result<Vec<Unit>>;

    async fn upsert_categories(&self, categories: &[Category]) -> Result<usize>;
    async fn list_categories(&self) -> Result<Vec<Category>>;
    async fn get_category(&self, code: &str) -> Result<Option<Category>>;

    async fn calendar(&self) -> Result<(Vec<CalendarDay>, Vec<i32>)>;
    /// Adds or changes exceptions and marks their years known, in one transaction.
    async fn upsert_calendar_days(&self, days: &[CalendarDay]) -> Result<usize>;
    /// Removes an exception (the date follows the weekend rule again); false if there was none.
    async fn delete_calendar_day(&self, date: chrono::NaiveDate) -> Result<bool>;
    /// Marks a year's schedule known (published), or unknown.
    async fn set_calendar_year(&self, year: i32, known: bool) -> Result<()>;
    /// A named setting (JSON text), if set.
    async fn setting(&self, name: &str) -> Result<Option<String>>;
    async fn set_setting(&self, name: &str, value: &str, at: DateTime<Utc>) -> Result<()>;

    async fn unit_contacts(&self) -> Result<Vec<UnitContact>>;
    /// Sets (or, with none, removes) a unit's liaison.
    async fn set_unit_contact(&self, unit_id: i64, contact: Option<&UnitContact>) -> Result<()>;
}

/// The gazetteer: roads, compounds and landmarks mapped to divisions.
#[async_trait]
pub trait GazetteerStore: Send + Sync {
    /// The calendar's exceptions, and the years whose schedule is known.
    /// The gazetteer, by name.
    async fn gazetteer(&self) -> Result<Vec<GazetteerRow>>;
    /// Adds names or changes what they map to (by name), in one transaction.
    async fn upsert_gazetteer(&self, rows: &[GazetteerRow]) -> Result<usize>;
    /// Removes a name; false if it was not there.
    async fn delete_gazetteer(&self, id: i64) -> Result<bool>;
}

/// The dispatch catalogue (派单目录) and its history.
#[async_trait]
pub trait CatalogueStore: Send + Sync {
    /// Every catalogue entry, ended ones included, by id.
    async fn catalogue(&self) -> Result<Vec<CatalogueEntry>>;
    /// Applies catalogue writes in one transaction, recording each change; all or none
    /// (a stale version is a `Conflict`, an unknown id `NotFound`). Returns the entries as
    /// saved (none for deletions).
    async fn write_catalogue(
        &self,
        writes: Vec<CatalogueWrite>,
        user_id: i64,
        at: DateTime<Utc>,
    ) -> Result<Vec<CatalogueEntry>> {
        self.write_catalogue_seen(writes, user_id, at, None).await
    }
    /// The catalogue with the stamp of its latest change (0 before any): what checks of new
    /// entries against the others read, to write with [`Store::write_catalogue_seen`].
    async fn catalogue_seen(&self) -> Result<(i64, Vec<CatalogueEntry>)>;
    /// As [`Store::write_catalogue`], but refused as a `Conflict` (nothing written) if the
    /// catalogue has changed since the stamp `seen` was read: the checks made against the
    /// catalogue then still hold when the writes land (writers of the catalogue take turns).
    async fn write_catalogue_seen(
        &self,
        writes: Vec<CatalogueWrite>,
        user_id: i64,
        at: DateTime<Utc>,
        seen: Option<i64>,
    ) -> Result<Vec<CatalogueEntry>>;
    /// Changes to the catalogue, newest first, of one entry or of all.
    async fn catalogue_history(
        &self,
        entry_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<CatalogueChange>>;
}

/// The knowledge base (知识库) and its history.
#[async_trait]
pub trait KnowledgeStore: Send + Sync {
    /// Every knowledge article, by id.
    async fn knowledge(&self) -> Result<Vec<Article>>;
    /// Applies knowledge writes in one transaction, recording each change; all or none
    /// (a stale version is a `Conflict`, an unknown id `NotFound`). Returns the articles as
    /// saved (none for deletions).
    async fn write_knowledge(
        &self,
        writes: Vec<KnowledgeWrite>,
        user_id: i64,
        at: DateTime<Utc>,
    ) -> Result<Vec<Article>>;
    /// Changes to the knowledge base, newest first, of one article or of all.
    async fn knowledge_history(
        &self,
        article_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<KnowledgeChange>>;
    /// A number that grows with every change to the knowledge base (0 before any).
    async fn knowledge_stamp(&self) -> Result<i64>;
}

/// Users, their passwords and tokens.
#[async_trait]
pub trait UserStore: Send + Sync {
    async fn insert_user(&self, user: &NewUser, at: DateTime<Utc>) -> Result<User>;
    async fn get_user(&self, id: i64) -> Result<Option<User>>;
    /// The user and their password hash.
    async fn get_credentials(&self, username: &str) -> Result<Option<(User, Option<String>)>>;
    async fn list_users(&self) -> Result<Vec<User>>;
    /// Changes a user's role and unit, password and activity in one transaction; refused
    /// whole ([`StoreError::LastAdmin`]) if no active administrator would be left.
    async fn update_user(&self, id: i64, change: &UserUpdate) -> Result<User>;
    async fn insert_token(
        &self,
        user_id: i64,
        token_hash: &str,
        name: &str,
        at: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<i64>;
    /// The active user owning an unrevoked token with this hash.
    async fn user_by_token(&self, token_hash: &str, at: DateTime<Utc>) -> Result<Option<User>>;
    /// Records a password login: success clears the failures; the `max_failures`-th failure
    /// in a row locks password logins for `lock_for`. Returns the lock's end, if locked now.
    async fn record_login(
        &self,
        user_id: i64,
        ok: bool,
        at: DateTime<Utc>,
        max_failures: i64,
        lock_for: chrono::Duration,
    ) -> Result<Option<DateTime<Utc>>>;
    /// Tokens (never their secret), of one user or of all, newest first.
    async fn list_tokens(&self, user_id: Option<i64>) -> Result<Vec<TokenInfo>>;
    /// Revokes a token by id, or by the hash of its secret; false if there was none.
    async fn revoke_token(&self, id: Option<i64>, token_hash: Option<&str>) -> Result<bool>;
    /// Saves a named filter of the user's, replacing the query of one of the same name.
    async fn save_filter(
        &self,
        user_id: i64,
        name: &str,
        query: &str,
        at: DateTime<Utc>,
    ) -> Result<SavedFilter>;
    /// The user's saved filters, by name.
    async fn saved_filters(&self, user_id: i64) -> Result<Vec<SavedFilter>>;
    /// Deletes one of the user's saved filters; false if the user had none with this id.
    async fn delete_saved_filter(&self, user_id: i64, id: i64) -> Result<bool>;
}

/// Tickets: created, changed by events in one versioned write, read, listed, watched.
#[async_trait]
pub trait TicketStore: Send + Sync {
    /// Creates a ticket and its `received` event in one transaction; with an idempotency
    /// key already used by the same user, returns that ticket instead.
    async fn create_ticket(&self, req: CreateTicket) -> Result<Created>;
    /// Writes past tickets, each from the events `events_of` makes of it at their own
    /// times (a historical import: [`mashangban_domain::import::events`]), with the
    /// aggregates they add, in one transaction: all or none. The events of one ticket are
    /// made as it is written, so that a large import does not hold them all. A number
    /// already taken refuses the whole import.
    async fn import_tickets(
        &self,
        tickets: Vec<mashangban_domain::import::PastTicket>,
        events_of: ImportPlan,
    ) -> Result<usize>;
    async fn get_ticket(&self, id: i64) -> Result<Option<Ticket>>;
    /// The ticket with this number (`XN20261206000001`), if any.
    async fn ticket_by_number(&self, number: &str) -> Result<Option<Ticket>>;
    async fn get_tickets(&self, ids: &[i64]) -> Result<Vec<Ticket>>;
    async fn list_tickets(&self, filter: &TicketFilter) -> Result<Vec<Ticket>>;
    async fn count_tickets(&self) -> Result<i64>;
    /// The supervisor board: open tickets with an alert or under supervision, counted.
    async fn watch_board(&self) -> Result<Vec<BoardCount>>;
    /// Makes every open ticket due for the watcher at `now` (after the policy or the
    /// calendar changed, its deadlines must be computed again); returns how many.
    async fn recheck_open_tickets(&self, now: DateTime<Utc>) -> Result<u64>;
    /// Tickets whose next deadline is at or before `now`, earliest first.
    async fn due_tickets(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<i64>>;
    /// Sets a ticket's next deadline if it is still at this version; false if it changed.
    async fn set_next_deadline(
        &self,
        id: i64,
        version: i64,
        next: Option<DateTime<Utc>>,
    ) -> Result<bool>;
    /// [`Store::set_next_deadline`] for many tickets in one transaction; returns the ids of
    /// those that had changed (left as they were).
    async fn set_next_deadlines(
        &self,
        moves: &[(i64, i64, Option<DateTime<Utc>>)],
    ) -> Result<Vec<i64>>;
    async fn ticket_events(&self, ticket_id: i64) -> Result<Vec<Event>>;
    /// The events of several tickets, by ticket and then in order.
    async fn ticket_events_many(&self, ids: &[i64]) -> Result<Vec<Event>>;
    /// The tickets with an event of one of `types` at `from..to`, by id, at most `limit`.
    async fn tickets_with_events(
        &self,
        types: &[&str],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<i64>>;
    /// The ticket of each event after event id `after`, oldest first, at most `limit`:
    /// `(event id, ticket id)`, for feeds that follow every change (the search index).
    async fn events_after(&self, after: i64, limit: u32) -> Result<Vec<(i64, i64)>>;
    /// Appends each change's events and writes each ticket's new view, all in one
    /// transaction; fails with [`StoreError::Conflict`] if any ticket changed meanwhile.
    async fn commit(
        &self,
        changes: Vec<Change>,
        actor: Actor,
        at: DateTime<Utc>,
    ) -> Result<Vec<Committed>>;
}

/// The outbox of notifications (SMS, webhooks, console notices).
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Claims up to `limit` notices due at `now` for delivery (a lease until `lease_until`;
    /// an expired lease is claimed again), counting the attempt. Safe with many senders.
    async fn claim_notices(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Notice>>;
    /// Marks a claimed notice delivered.
    async fn notice_sent(&self, id: i64, at: DateTime<Utc>) -> Result<()>;
    /// Records a failed delivery: to be tried again at `retry_at`, or given up (none).
    async fn notice_failed(
        &self,
        id: i64,
        at: DateTime<Utc>,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<()>;
    /// Outbox rows, newest first: of one channel, or all.
    async fn list_notices(&self, channel: Option<&str>, limit: u32) -> Result<Vec<Notice>>;
    /// Console notices for any of these audiences, newest first, below `before_id`.
    async fn console_notices(
        &self,
        audiences: &[String],
        before_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Notice>>;
    /// Console notices for these audiences the user has not read: newer than their mark and
    /// not read one by one (at most 100 counted).
    async fn unread_notices(&self, user_id: i64, audiences: &[String]) -> Result<i64>;
    /// Marks everything up to `read_id` read by the user.
    async fn mark_notices_read(&self, user_id: i64, read_id: i64) -> Result<()>;
    /// Marks one notice read by the user.
    async fn mark_notice_read(&self, user_id: i64, notice_id: i64, at: DateTime<Utc>)
    -> Result<()>;
    /// Of these notices, those the user has read (one by one, or up to their mark).
    async fn read_notice_ids(&self, user_id: i64, notice_ids: &[i64]) -> Result<Vec<i64>>;
}

/// The evaluation aggregates (考评) the events keep.
#[async_trait]
pub trait AggregateStore: Send + Sync {
    /// Sums of the evaluation aggregates over the business days `from..=to`, one row per
    /// group of `dim` (per day and group with `by_day`), ordered.
    async fn kpi_tallies(
        &self,
        dim: mashangban_domain::aggregates::Dim,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        by_day: bool,
    ) -> Result<Vec<GroupTally>>;
    /// The finest aggregate rows (day × unit × category × channel × division) of the
    /// business days `from..=to`, ordered by key.
    async fn kpi_facts(
        &self,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<
        Vec<(
            mashangban_domain::aggregates::FactKey,
            mashangban_domain::kpi::Tally,
        )>,
    >;
    /// A business day's requests by issue group (second-level category, or a first-level
    /// one coded no finer; see `report::issue_group`), ordered by group.
    async fn kpi_issue_groups(&self, day: chrono::NaiveDate) -> Result<Vec<GroupTally>>;
    /// What a business day holds of some issue groups (second-level category codes): each
    /// group's requests and direct answers, requests by category, requests by place (only
    /// places with at least `place_min`), dispatches by unit.
    async fn kpi_issue_counts(
        &self,
        day: chrono::NaiveDate,
        groups: &[String],
        place_min: u64,
    ) -> Result<Vec<mashangban_domain::report::IssueCounts>>;
    /// The day rows of an issue roll-up (`aggregates::ISSUE_ROLLUPS`) over `from..=to`, by
    /// day and key.
    async fn kpi_issue_rollup(
        &self,
        name: &str,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<GroupTally>>;
    /// Adds facts to the aggregates directly, without the events they stand for: for bulk
    /// loads of history kept elsewhere and for benchmarks.
    async fn add_aggregate_facts(
        &self,
        facts: Vec<mashangban_domain::aggregates::Fact>,
    ) -> Result<()>;
    /// Empties the aggregates and rebuilds them from every ticket's events, in one
    /// transaction (writers wait meanwhile).
    async fn rebuild_aggregates(&self) -> Result<RebuildReport>;
    /// Requests a business day over `from..=to` whose category is `category_prefix` or
    /// below it and, if given, whose division is `division_prefix` or below it: the days
    /// with any, in order.
    async fn kpi_scope_requests(
        &self,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        category_prefix: &str,
        division_prefix: Option<&str>,
    ) -> Result<Vec<(chrono::NaiveDate, u64)>>;
}

/// Early warnings (预警) and what they are found from.
#[async_trait]
pub trait WarningStore: Send + Sync {
    /// Numbers that raised at least `min_requests` requests since `since` (praise not
    /// counted), with how many, most first.
    async fn repeat_callers(
        &self,
        since: DateTime<Utc>,
        min_requests: u32,
        limit: u32,
    ) -> Result<Vec<(String, i64)>>;
    /// Records what the early-warning monitor found: a new warning, or the existing one of
    /// the same kind and key brought up to date — reopened if the finding is worse. When it
    /// is new or worse, `notices` go to the outbox in the same transaction (under the
    /// finding's ticket; without one, none are sent).
    async fn record_warning(
        &self,
        finding: mashangban_domain::warning::Finding,
        notices: Vec<NewNotice>,
        at: DateTime<Utc>,
    ) -> Result<RecordedWarning>;
    /// Warnings last found since `since` (all without), of one status or all, newest first.
    async fn list_warnings(
        &self,
        status: Option<mashangban_domain::warning::WarningStatus>,
        since: Option<DateTime<Utc>>,
        limit: u32,
    ) -> Result<Vec<Warning>>;
    async fn get_warning(&self, id: i64) -> Result<Option<Warning>>;
    /// Marks a warning acknowledged, dismissed or open again, by whom and why.
    async fn handle_warning(
        &self,
        id: i64,
        status: mashangban_domain::warning::WarningStatus,
        user_id: i64,
        note: Option<String>,
        at: DateTime<Utc>,
    ) -> Result<Warning>;
}

/// Everything Mashangban keeps, one trait per aggregate; an `Arc<dyn Store>` (what the
/// application holds) answers all their methods. On a concrete `SqlStore`, bring them into
/// scope with `use mashangban_store::traits::*;`.
/// Counted attempts (a wrong tracking code, a public submission) by key, for limits that
/// hold across instances.
#[async_trait]
pub trait ThrottleStore: Send + Sync {
    /// Records one attempt under `key` at `at`, dropping those of every key older than
    /// `forget_before`.
    async fn record_attempt(
        &self,
        key: &str,
        at: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<()>;
    /// The attempts under `key` at or after `since`.
    async fn count_attempts(&self, key: &str, since: DateTime<Utc>) -> Result<i64>;
    /// Records that a message from outside (an inbound SMS, by its gateway's id) was
    /// handled; false when it had been already (a replay).
    async fn mark_handled(&self, message_key: &str, at: DateTime<Utc>) -> Result<bool>;
    /// Whether a message from outside was handled already.
    async fn was_handled(&self, message_key: &str) -> Result<bool>;
}

/// What a citizen checking their own requests by phone holds: a one-time code sent by SMS,
/// then a session. Only digests of codes and session tokens are kept.
#[async_trait]
pub trait CitizenStore: Send + Sync {
    /// Keeps a new code for a phone (replacing any earlier one, its tries back to 0), and
    /// puts the SMS that carries it in the outbox, in one transaction.
    async fn issue_code(
        &self,
        phone: &str,
        code_digest: &str,
        expires_at: DateTime<Utc>,
        sms: (i64, NewNotice),
        at: DateTime<Utc>,
    ) -> Result<()>;
    /// Checks a code for a phone: counts the try, and takes the code when it is right (a
    /// code is used once). `max_tries` tries at most, then the code is dead.
    async fn check_code(
        &self,
        phone: &str,
        code_digest: &str,
        max_tries: i64,
        now: DateTime<Utc>,
    ) -> Result<CodeCheck>;
    /// Opens a session for a phone; old sessions are dropped as new ones come.
    async fn open_citizen_session(
        &self,
        token_digest: &str,
        phone: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()>;
    /// The phone of a session still open at `now`.
    async fn citizen_session(
        &self,
        token_digest: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>>;
    /// The state of a conversation with a citizen on a messaging channel (a WeChat
    /// follower's dialogue), by its key, with when it was last kept.
    async fn dialogue(&self, key: &str) -> Result<Option<(String, DateTime<Utc>)>>;
    /// Keeps a conversation's state in place of the old one; none ends it. Conversations
    /// silent for a day are forgotten.
    async fn put_dialogue(&self, key: &str, body: Option<&str>, at: DateTime<Utc>) -> Result<()>;
}

/// Photos and files of requests (their bytes are kept apart, by SHA-256).
#[async_trait]
pub trait AttachmentStore: Send + Sync {
    async fn add_attachment(&self, a: &mashangban_domain::attachment::Attachment) -> Result<()>;
    async fn attachment(
        &self,
        id: &str,
    ) -> Result<Option<mashangban_domain::attachment::Attachment>>;
    /// Gives the files not yet on any request to a request, at most `max` on it in all;
    /// returns how many it now has. Files of another request are left alone.
    async fn attach(&self, ids: &[String], ticket_id: i64, max: usize) -> Result<usize>;
    async fn ticket_attachments(
        &self,
        ticket_id: i64,
    ) -> Result<Vec<mashangban_domain::attachment::Attachment>>;
    /// Whether any file's record holds these bytes (as the file or as its thumbnail).
    async fn file_in_use(&self, sha256: &str) -> Result<bool>;
    /// Removes the records of files uploaded before `before` and never given to a request
    /// (at most `limit`), listing their bytes as released at `at`; how many.
    async fn remove_unattached(
        &self,
        before: DateTime<Utc>,
        at: DateTime<Utc>,
        limit: u32,
    ) -> Result<usize>;
    /// Bytes whose records were removed, oldest first, at most `limit`.
    async fn released_files(&self, limit: u32) -> Result<Vec<String>>;
    /// Takes bytes off the released list (removed from disk, or held by a record again).
    async fn forget_release(&self, sha256: &str) -> Result<()>;
}

/// Client applications' keys.
#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    /// Keeps a new key's digest; the key as kept.
    async fn add_api_key(&self, client: &str, digest: &str, at: DateTime<Utc>) -> Result<ApiKey>;
    /// Every key, newest first.
    async fn api_keys(&self) -> Result<Vec<ApiKey>>;
    /// Revokes a key; whether it was in force.
    async fn revoke_api_key(&self, id: i64, at: DateTime<Utc>) -> Result<bool>;
    /// The key in force with this digest.
    async fn api_key_by_digest(&self, digest: &str) -> Result<Option<ApiKey>>;
}

/// Which typical cases to list.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub state: Option<mashangban_domain::cases::CaseState>,
    /// Cases filed under this category or below it.
    pub category_prefix: Option<String>,
    /// Words in the title or the texts.
    pub words: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

/// One change to a typical case.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct CaseChange {
    pub id: i64,
    pub case_id: i64,
    pub version: i64,
    /// `created` or `updated` (the step is the state it left the case in).
    pub action: String,
    pub before: Option<mashangban_domain::cases::TypicalCase>,
    pub after: Option<mashangban_domain::cases::TypicalCase>,
    pub user_id: i64,
    pub at: DateTime<Utc>,
}

/// Typical cases (典型案例) and their history.
#[async_trait]
pub trait CaseStore: Send + Sync {
    /// Saves a case (a new one at id 0, an edit at the version it was read: a stale one is
    /// a `Conflict`, a second case of one ticket `Duplicate`), recording the change, and
    /// puts the notices in the outbox, in one transaction.
    async fn write_case(
        &self,
        case: mashangban_domain::cases::TypicalCase,
        notices: Vec<NewNotice>,
        user_id: i64,
        at: DateTime<Utc>,
    ) -> Result<mashangban_domain::cases::TypicalCase>;
    async fn case(&self, id: i64) -> Result<Option<mashangban_domain::cases::TypicalCase>>;
    async fn case_of_ticket(
        &self,
        ticket_id: i64,
    ) -> Result<Option<mashangban_domain::cases::TypicalCase>>;
    /// Cases, the newest published (then the newest written) first, and how many match.
    async fn cases(
        &self,
        filter: &CaseFilter,
    ) -> Result<(Vec<mashangban_domain::cases::TypicalCase>, u64)>;
    /// The categories published cases are filed under.
    async fn published_case_categories(&self) -> Result<Vec<String>>;
    /// A case's changes, newest first.
    async fn case_history(&self, case_id: i64) -> Result<Vec<CaseChange>>;
}

/// One change to a monthly topic.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct TopicChange {
    pub id: i64,
    pub topic_id: i64,
    pub version: i64,
    /// `created` or `updated`.
    pub action: String,
    pub before: Option<mashangban_domain::topics::Topic>,
    pub after: Option<mashangban_domain::topics::Topic>,
    pub user_id: i64,
    pub at: DateTime<Utc>,
}

/// Monthly topics (每月一题) and their history.
#[async_trait]
pub trait TopicStore: Send + Sync {
    /// Saves a topic (a new one at id 0, a step at the version it was read: a stale one is
    /// a `Conflict`), recording the change and putting the notices it calls for in the
    /// outbox (about no ticket), in one transaction.
    async fn write_topic(
        &self,
        topic: mashangban_domain::topics::Topic,
        user_id: i64,
        at: DateTime<Utc>,
        notices: Vec<NewNotice>,
    ) -> Result<mashangban_domain::topics::Topic>;
    async fn topic(&self, id: i64) -> Result<Option<mashangban_domain::topics::Topic>>;
    /// Topics of one state or all, newest first, at most `limit`.
    async fn topics(
        &self,
        state: Option<mashangban_domain::topics::TopicState>,
        limit: u32,
    ) -> Result<Vec<mashangban_domain::topics::Topic>>;
    /// A topic's changes, newest first.
    async fn topic_history(&self, topic_id: i64) -> Result<Vec<TopicChange>>;
}

/// One line of the retention log: a scheduled run that took something out, or a
/// citizen's request to erase.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RetentionEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub user_id: i64,
    /// `contact`, `content`, `attachments` (the policy's kinds), `unattached_files` (uploads
    /// never sent with a request) or `erasure`.
    pub what: String,
    pub tickets: i64,
    /// Personal data taken out.
    pub data: i64,
    /// An erasure's reason.
    pub reason: Option<String>,
}

/// How a stored record is scrubbed (see `mashangban_text::anonymise::scrub_record`).
pub type ScrubFn<'a> = dyn Fn(&mut serde_json::Value) -> usize + Send + Sync + 'a;

/// What a ticket is scrubbed of, and how.
pub struct ScrubPlan<'a> {
    pub ticket_id: i64,
    pub kinds: &'a [mashangban_domain::retention::RetainedKind],
    /// Takes personal data out of a stored record: a ticket's view, an event's data, a
    /// notice's payload.
    pub record: &'a ScrubFn<'a>,
    /// Makes a typical case's record forget what its drafting took out.
    pub case: &'a ScrubFn<'a>,
    /// The outbox's channels whose recipient is the citizen (their number, their WeChat id).
    pub citizen_channels: &'a [&'a str],
}

/// Keeping personal data only as long as needed.
#[async_trait]
pub trait RetentionStore: Send + Sync {
    /// Finished tickets untouched since `before` whose `kind` has not been taken out yet,
    /// by id, at most `limit`.
    async fn retention_due(
        &self,
        kind: mashangban_domain::retention::RetainedKind,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<i64>>;
    /// The tickets of a citizen's phone number.
    async fn tickets_of_phone(&self, phone: &str) -> Result<Vec<i64>>;
    /// In one transaction: claims the plan's kinds for the ticket (none left to claim:
    /// another instance did it, `None`), and takes out what they hold: `contact` empties
    /// the phone and WeChat columns and the citizen's addresses in the outbox; every event,
    /// the view and the outbox's payloads go through `plan.record`; `content` also makes a
    /// typical case of the ticket forget its drafting's originals (`plan.case`);
    /// `attachments` removes the ticket's files' records and lists their bytes as released
    /// (see [`AttachmentStore::released_files`]). `marker` is appended at the next version
    /// (so that every instance's search index takes the ticket again), unless nothing was
    /// taken (the claim alone is kept). Returns the data taken out (a file counts one).
    async fn scrub_ticket(&self, plan: &ScrubPlan<'_>, marker: Event) -> Result<Option<usize>>;
    async fn log_retention(&self, entry: &RetentionEntry) -> Result<()>;
    /// The log, newest first.
    async fn retention_log(&self, limit: u32) -> Result<Vec<RetentionEntry>>;
}

/// A release of open data as listed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ReleaseSummary {
    pub month: String,
    pub revision: i64,
    pub generated_at: DateTime<Utc>,
}

/// The monthly releases of open data (数据开放), kept as published.
#[async_trait]
pub trait OpenDataStore: Send + Sync {
    /// Keeps a release; false if that month already has that revision (another instance
    /// made it first).
    async fn add_release(
        &self,
        release: &mashangban_domain::open_data::Release,
        by: i64,
    ) -> Result<bool>;
    /// Every release, newest month first, newest revision first.
    async fn releases(&self) -> Result<Vec<ReleaseSummary>>;
    /// A month's release: that revision, or (none) its newest.
    async fn release(
        &self,
        month: &str,
        revision: Option<i64>,
    ) -> Result<Option<mashangban_domain::open_data::Release>>;
}

/// The channels requests come in by, and the hotlines merged into 12345.
#[async_trait]
pub trait ChannelStore: Send + Sync {
    /// Every channel, active or not, in their order.
    async fn channels(&self) -> Result<Vec<mashangban_domain::channel::ChannelDef>>;
    /// Writes a channel (a new one goes last); whether it is new.
    async fn put_channel(&self, c: &mashangban_domain::channel::ChannelDef) -> Result<bool>;
    /// Every merged hotline, by number.
    async fn lines(&self) -> Result<Vec<mashangban_domain::channel::HotlineLine>>;
    /// Writes a merged hotline; whether it is new.
    async fn put_line(&self, l: &mashangban_domain::channel::HotlineLine) -> Result<bool>;
    /// Every platform requests are exchanged with, by code (their secrets included).
    async fn platforms(&self) -> Result<Vec<mashangban_domain::exchange::Platform>>;
    /// Writes a platform; whether it is new.
    async fn put_platform(&self, p: &mashangban_domain::exchange::Platform) -> Result<bool>;
}

/// What checking a one-time code found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    Right,
    Wrong,
    /// No code for the phone, or it expired, or too many tries used it up.
    Dead,
}

pub trait Store:
    Maintenance
    + ReferenceStore
    + GazetteerStore
    + CatalogueStore
    + KnowledgeStore
    + UserStore
    + TicketStore
    + OutboxStore
    + AggregateStore
    + WarningStore
    + ThrottleStore
    + CitizenStore
    + AttachmentStore
    + ChannelStore
    + ApiKeyStore
    + CaseStore
    + OpenDataStore
    + RetentionStore
    + TopicStore
{
}

impl<
    T: Maintenance
        + ReferenceStore
        + GazetteerStore
        + CatalogueStore
        + KnowledgeStore
        + UserStore
        + TicketStore
        + OutboxStore
        + AggregateStore
        + WarningStore
        + ThrottleStore
        + CitizenStore
        + AttachmentStore
        + ChannelStore
        + ApiKeyStore
        + CaseStore
        + OpenDataStore
        + RetentionStore
        + TopicStore,
> Store for T
{
}

/// The aggregates' traits, to bring their methods into scope.
pub mod traits {
    pub use super::{
        AggregateStore, ApiKeyStore, AttachmentStore, CaseStore, CatalogueStore, ChannelStore,
        CitizenStore, GazetteerStore, KnowledgeStore, Maintenance, OutboxStore, ReferenceStore,
        Store, ThrottleStore, TicketStore, UserStore, WarningStore,
    };
}
