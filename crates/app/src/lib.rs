//! Use cases of Mashangban: load, decide, append. Transport-agnostic: the HTTP layer and
//! the CLI call these and map [`AppError`] to their own form.

pub mod admin;
pub mod auth;
pub mod cases;
pub mod catalogue;
pub mod channels;
pub mod deadlines;
pub mod demo;
pub mod exchange;
pub mod files;
pub mod import;
pub mod knowledge;
pub mod kpis;
pub mod metrics;
pub mod my_requests;
pub mod notify;
pub mod open311;
pub mod open_data;
pub use mashangban_store::ApiKey;
pub mod public;
pub mod reply_check;
pub mod reports;
pub mod retention;
pub mod search;
pub mod seasonal;
pub mod seed;
pub mod text;
pub mod tickets;
pub mod topics;
pub mod warnings;
pub mod wechat;
pub mod workers;

use mashangban_domain::{Actor, DomainError, Permission, Role};
use mashangban_store::{Store, StoreError};
use std::sync::Arc;

/// The server itself, when it runs a use case on its own: the command line (seeding, the
/// demo, tokens, maintenance; whoever runs it holds the database) and the background
/// workers. It acts as an administrator, as user id 0.
pub const SERVER: Actor = Actor {
    user_id: 0,
    role: Role::Admin,
    unit_id: None,
};

/// Whether the actor has a permission of the one table
/// ([`mashangban_domain::permission::PERMISSIONS`]): what the console asks before it shows
/// a page, a link or a button. The use cases check the same table themselves.
pub fn may(actor: &Actor, permission: Permission) -> bool {
    mashangban_domain::permits(actor.role, permission)
}

/// Whether the actor's role may take a lifecycle action at all (the transition table's
/// roles): what the console asks to lay out a desk; the use case checks the ticket too.
pub fn may_take(actor: &Actor, action: mashangban_domain::Action) -> bool {
    mashangban_domain::role_may_take(actor.role, action)
}

/// Whether the actor's role may take a lifecycle action on tickets in a state (the row of
/// the transition table for the role): a desk's queue of such tickets.
pub fn may_take_in(
    actor: &Actor,
    action: mashangban_domain::Action,
    state: mashangban_domain::TicketState,
) -> bool {
    action
        .rule_for(actor.role)
        .is_some_and(|r| r.from.contains(&state))
}

/// The actor's permission, or the 403 that names it.
pub(crate) fn require(actor: &Actor, permission: Permission) -> Result<(), AppError> {
    mashangban_domain::permission::require(actor, permission).map_err(AppError::from)
}

/// Settings of a deployment.
#[derive(Debug, Clone)]
pub struct Config {
    /// Prefix of human ticket numbers, e.g. `XN` → `XN20261128000123`.
    pub number_prefix: String,
    /// Lifetime of a login token, in hours.
    pub login_token_hours: i64,
    /// Wrong passwords in a row that lock an account's password login.
    pub max_login_failures: u32,
    /// How long such a lock lasts, in minutes.
    pub lockout_minutes: i64,
    /// The folder of this instance's ticket search index (none: kept in memory and built
    /// from the events at start).
    pub search_dir: Option<std::path::PathBuf>,
    /// The newest tickets the live hot issues and the early-warning clusters read (a
    /// bound on their memory and time); clusters at a community or street with more
    /// requests in their window than this come from the roll-ups instead.
    pub recent_tickets: usize,
    /// Where citizens reach the portal (`MASHANGBAN_PUBLIC_URL`): the base of the links
    /// sent to them by SMS.
    pub public_url: String,
    /// The key inbound SMS are signed with by the SMS platform (`MASHANGBAN_SMS_SECRET`);
    /// none: inbound SMS are refused.
    pub sms_secret: Option<String>,
    /// The jurisdiction the Open311 endpoint serves (`MASHANGBAN_OPEN311_JURISDICTION`;
    /// default `xining.gov.cn`).
    pub open311_jurisdiction: Option<String>,
    /// Where photos and files are kept (`MASHANGBAN_FILES_DIR`; beside a SQLite database,
    /// `DB.files`). Several instances share one folder.
    pub files_dir: Option<std::path::PathBuf>,
    /// The WeChat official account (`MASHANGBAN_WECHAT_*`); none: the channel is off.
    pub wechat: Option<wechat::WechatConfig>,
    /// The bearer token that reads `/metrics` on the main address
    /// (`MASHANGBAN_METRICS_TOKEN`, at least 16 characters); none: not there.
    pub metrics_token: Option<String>,
    /// Whether cookies are `Secure` (`MASHANGBAN_SECURE_COOKIES`, `on` or `off`); none: when
    /// the public address is https.
    pub secure_cookies: Option<bool>,
}

impl Config {
    /// The settings read from the environment: `MASHANGBAN_PUBLIC_URL`,
    /// `MASHANGBAN_FILES_DIR`, `MASHANGBAN_SMS_SECRET` and `MASHANGBAN_OPEN311_JURISDICTION`,
    /// over `self`'s. A bad value is refused.
    pub fn with_env(mut self) -> Result<Config, String> {
        if let Ok(url) = std::env::var("MASHANGBAN_PUBLIC_URL")
            && !url.trim().is_empty()
        {
            let url = url.trim().trim_end_matches('/').to_string();
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(format!(
                    "MASHANGBAN_PUBLIC_URL must be an http:// or https:// address, not `{url}`"
                ));
            }
            self.public_url = url;
        }
        if let Ok(dir) = std::env::var("MASHANGBAN_FILES_DIR")
            && !dir.trim().is_empty()
        {
            self.files_dir = Some(dir.trim().into());
        }
        if let Ok(secret) = std::env::var("MASHANGBAN_SMS_SECRET")
            && !secret.is_empty()
        {
            if secret.chars().count() < 16 {
                return Err("MASHANGBAN_SMS_SECRET must be at least 16 characters".into());
            }
            self.sms_secret = Some(secret);
        }
        if let Ok(j) = std::env::var("MASHANGBAN_OPEN311_JURISDICTION")
            && !j.trim().is_empty()
        {
            self.open311_jurisdiction = Some(j.trim().to_string());
        }
        if let Ok(token) = std::env::var("MASHANGBAN_METRICS_TOKEN")
            && !token.is_empty()
        {
            if token.chars().count() < 16 {
                return Err("MASHANGBAN_METRICS_TOKEN must be at least 16 characters".into());
            }
            self.metrics_token = Some(token);
        }
        if let Ok(v) = std::env::var("MASHANGBAN_SECURE_COOKIES")
            && !v.trim().is_empty()
        {
            self.secure_cookies = Some(match v.trim() {
                "on" | "true" | "1" => true,
                "off" | "false" | "0" => false,
                other => {
                    return Err(format!(
                        "MASHANGBAN_SECURE_COOKIES must be `on` or `off`, not `{other}`"
                    ));
                }
            });
        }
        if let Some(w) = wechat::WechatConfig::from_env()? {
            self.wechat = Some(w);
        }
        Ok(self)
    }
}

impl Config {
    /// Whether the cookies the server sets are `Secure`: as set, else when citizens reach
    /// it over https.
    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies
            .unwrap_or_else(|| self.public_url.starts_with("https://"))
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            number_prefix: "XN".into(),
            login_token_hours: 12,
            max_login_failures: 5,
            lockout_minutes: 15,
            search_dir: None,
            recent_tickets: crate::warnings::MAX_RECENT_TICKETS,
            public_url: "http://127.0.0.1:8080".into(),
            sms_secret: None,
            open311_jurisdiction: None,
            files_dir: None,
            wechat: None,
            metrics_token: None,
            secure_cookies: None,
        }
    }
}

/// The application: a store and its settings.
#[derive(Clone)]
pub struct App {
    store: Arc<dyn Store>,
    pub config: Config,
    reference: Arc<std::sync::RwLock<Option<CachedReference>>>,
    /// The text features, with the model stamp they were built for.
    #[allow(clippy::type_complexity)]
    text:
        Arc<std::sync::RwLock<Option<(std::time::Instant, Option<String>, Arc<text::TextState>)>>>,
    /// The knowledge base's search index, with the base's stamp it was built for.
    knowledge_index: Arc<std::sync::RwLock<knowledge::KnowledgeCache>>,
    /// The ticket search index, opened on first use.
    ticket_search: Arc<tokio::sync::OnceCell<Arc<tokio::sync::Mutex<search::SearchState>>>>,
    /// WeChat's access token, shared by every task of this instance.
    wechat_token: Arc<tokio::sync::Mutex<wechat::api::CachedToken>>,
    /// Set once this instance has started training again a stored classifier it cannot
    /// read (one of an older format, after an upgrade).
    retraining: Arc<std::sync::atomic::AtomicBool>,
    /// What this instance tells a monitoring system.
    metrics: Arc<metrics::Metrics>,
}

/// Reference data and when it was loaded.
type CachedReference = (std::time::Instant, Arc<Reference>);

/// Reference data read on every intake and dispatch, cached for [`REFERENCE_TTL`].
#[derive(Debug, Default)]
pub struct Reference {
    pub categories: std::collections::HashMap<String, mashangban_domain::Category>,
    /// Division names by code.
    pub divisions: std::collections::HashMap<String, String>,
    /// Each division's parent, by code.
    pub division_parents: std::collections::HashMap<String, Option<String>>,
    /// The dispatch catalogue's entries.
    pub catalogue: Vec<mashangban_domain::catalogue::CatalogueEntry>,
    /// Units by id.
    pub units: std::collections::BTreeMap<i64, mashangban_domain::Unit>,
    /// The official calendar in force.
    pub calendar: mashangban_domain::calendar::Calendar,
    /// The deadline policy in force.
    pub policy: mashangban_domain::deadlines::DeadlinePolicy,
    /// Units' liaisons (who receive SMS), by unit id: read through
    /// [`App::unit_contacts`], which checks who asks.
    pub(crate) contacts: std::collections::HashMap<i64, mashangban_store::UnitContact>,
    /// Webhook subscriptions (their secrets among them): read through [`App::webhooks`].
    pub(crate) webhooks: Vec<notify::Webhook>,
    /// The texts citizens are sent by SMS (read through [`App::citizen_texts`]).
    pub(crate) citizen_texts: mashangban_domain::public::CitizenTexts,
    /// Where citizens reach the portal ([`Config::public_url`]).
    pub(crate) public_url: String,
    /// Whether the progress of WeChat followers' requests is pushed to them.
    pub(crate) wechat_push: bool,
    /// Resident populations entered for divisions, by code.
    pub populations: std::collections::HashMap<String, i64>,
    /// The city's division code (the division at city level), if the divisions name one.
    pub city: Option<String>,
    /// The districts' populations summed, if every district has one.
    pub districts_population: Option<i64>,
    /// The channels, active or not, in their order.
    pub channels: Vec<mashangban_domain::channel::ChannelDef>,
    /// The hotlines merged into 12345.
    pub lines: Vec<mashangban_domain::channel::HotlineLine>,
    /// The platforms requests are exchanged with (their keys among them): read through
    /// [`App::platforms`].
    pub(crate) platforms: Vec<mashangban_domain::exchange::Platform>,
}

impl Reference {
    /// A channel as kept (none for a code no channel has).
    pub fn channel(
        &self,
        code: &mashangban_domain::Channel,
    ) -> Option<&mashangban_domain::channel::ChannelDef> {
        self.channels.iter().find(|c| &c.code == code)
    }

    /// Where a request may be handed out (转出): the emergency lines, then the platforms in
    /// use, as (code, name).
    pub fn transfer_targets(&self) -> Vec<(String, String)> {
        mashangban_domain::exchange::EMERGENCY_LINES
            .iter()
            .filter(|(code, _)| !self.platforms.iter().any(|p| p.code == *code && p.active))
            .map(|(code, name)| (code.to_string(), name.to_string()))
            .chain(
                self.platforms
                    .iter()
                    .filter(|p| p.active)
                    .map(|p| (p.code.clone(), p.name.clone())),
            )
            .collect()
    }

    /// A channel's name for people (its code when no channel has it any more).
    pub fn channel_name(&self, code: &mashangban_domain::Channel, english: bool) -> String {
        match self.channel(code) {
            Some(c) if english => c.name_en.clone(),
            Some(c) => c.name.clone(),
            None => code.to_string(),
        }
    }

    /// An open or closed merged hotline, by number.
    pub fn line(&self, number: &str) -> Option<&mashangban_domain::channel::HotlineLine> {
        self.lines.iter().find(|l| l.number == number)
    }

    /// The kind of each channel, as the reports group them.
    pub fn channel_kinds(&self) -> mashangban_domain::report::ChannelKinds {
        self.channels
            .iter()
            .map(|c| (c.code.clone(), c.kind))
            .collect()
    }

    /// A division's name with its county and street, e.g. `城东区 / 东关大街街道 / 东台社区`.
    pub fn division_path(&self, code: &str) -> Option<String> {
        let names: Vec<&str> = mashangban_domain::DivisionCode::new(code)
            .path()
            .filter_map(|c| self.divisions.get(c).map(String::as_str))
            .collect();
        if self.divisions.contains_key(code) {
            Some(names.join(" / "))
        } else {
            None
        }
    }

    /// A category's name with its ancestors, e.g. `城乡建设 / 市政设施 / 道路破损`.
    pub fn category_path(&self, code: &str) -> Option<String> {
        let mut names = Vec::new();
        let mut at = self.categories.get(code);
        while let Some(c) = at {
            names.push(c.name.as_str());
            if names.len() > 8 {
                break;
            }
            at = c
                .parent_code
                .as_deref()
                .and_then(|p| self.categories.get(p));
        }
        names.reverse();
        (!names.is_empty()).then(|| names.join(" / "))
    }

    /// The city's division code.
    pub fn city_code(&self) -> Option<String> {
        self.city.clone()
    }

    /// The city's resident population: entered for the city, or else its districts' summed.
    pub fn city_population(&self) -> Option<u64> {
        self.city
            .as_ref()
            .and_then(|c| self.populations.get(c).copied())
            .or(self.districts_population)
            .and_then(|p| u64::try_from(p).ok())
    }

    /// A unit's name.
    pub fn unit_name(&self, id: i64) -> Option<&str> {
        self.units.get(&id).map(|u| u.name.as_str())
    }
}

/// How long cached reference data is trusted; edits made through this process clear it at once.
pub const REFERENCE_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// A JSON body read as `T`; a field that does not fit is named by its path (`body` for the
/// whole).
pub(crate) fn from_body<T: serde::de::DeserializeOwned>(
    body: serde_json::Value,
) -> Result<T, AppError> {
    serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        AppError::invalid(
            if path == "." { "body".into() } else { path },
            e.inner().to_string(),
        )
    })
}

/// Refuses a body that leaves out a field of `T` other than those `optional` (every field
/// of a replaced policy must be said, `null` where the field may be empty), naming the first
/// one missing.
pub(crate) fn every_field_given<T: serde::Serialize>(
    body: &serde_json::Value,
    shape: &T,
    optional: &[&str],
) -> Result<(), AppError> {
    let Some(given) = body.as_object() else {
        return Err(AppError::invalid("body", "must be a JSON object"));
    };
    if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(shape) {
        for name in fields.keys() {
            if !given.contains_key(name) && !optional.contains(&name.as_str()) {
                return Err(AppError::invalid(
                    name.clone(),
                    "is required (every field of the policy is given)",
                ));
            }
        }
    }
    Ok(())
}

/// A rule check's message (`"<field> must …"`) as an error naming that field.
pub(crate) fn checked(result: Result<(), String>) -> Result<(), AppError> {
    result.map_err(|m| {
        let field = m.split_whitespace().next().unwrap_or("body").to_string();
        AppError::invalid(field.trim_end_matches(':'), m)
    })
}

impl App {
    /// A policy kept as a setting: the stored one, or the default when none is stored (or,
    /// logged, when the stored one cannot be read).
    pub(crate) async fn stored_setting<T: serde::de::DeserializeOwned + Default>(
        &self,
        name: &str,
    ) -> Result<T, AppError> {
        Ok(match self.store.setting(name).await? {
            Some(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
                tracing::error!(error = %e, setting = name, "stored setting unreadable; defaults in force");
                T::default()
            }),
            None => T::default(),
        })
    }

    /// Stores a policy as a setting.
    pub(crate) async fn store_setting<T: serde::Serialize>(
        &self,
        name: &str,
        value: &T,
    ) -> Result<(), AppError> {
        let text = serde_json::to_string(value).map_err(|e| AppError::Internal(e.to_string()))?;
        self.store
            .set_setting(name, &text, chrono::Utc::now())
            .await?;
        Ok(())
    }
}

impl App {
    pub fn new(store: Arc<dyn Store>, config: Config) -> App {
        App {
            metrics: Arc::new(metrics::Metrics::new(match store.backend() {
                mashangban_store::Backend::Sqlite => "sqlite",
                mashangban_store::Backend::Postgres => "postgresql",
            })),
            store,
            config,
            reference: Arc::default(),
            text: Arc::default(),
            retraining: Arc::default(),
            knowledge_index: Arc::default(),
            ticket_search: Arc::default(),
            wechat_token: Arc::default(),
        }
    }

    /// The reference data every signed-in user reads to render a page or a file: the names
    /// of categories, divisions and units, the calendar, the deadline policy, populations.
    /// What only some roles may read (liaisons' phones, webhook secrets) is not public in
    /// it and has its own use case.
    pub async fn names(&self, _actor: &Actor) -> Result<Arc<Reference>, AppError> {
        self.reference().await
    }

    /// Categories and division codes, from the cache or freshly loaded.
    pub(crate) async fn reference(&self) -> Result<Arc<Reference>, AppError> {
        if let Ok(guard) = self.reference.read()
            && let Some((at, r)) = guard.as_ref()
            && at.elapsed() < REFERENCE_TTL
        {
            return Ok(r.clone());
        }
        let categories = self.store.list_categories().await?;
        let divisions = self.store.list_divisions(None, None).await?;
        let units = self.store.list_units().await?;
        let catalogue = self.store.catalogue().await?;
        let (days, years) = self.store.calendar().await?;
        let policy = deadlines::policy_from(self.store.setting(deadlines::POLICY_SETTING).await?);
        let contacts = self.store.unit_contacts().await?;
        let webhooks: Vec<notify::Webhook> = self.stored_setting(notify::WEBHOOKS_SETTING).await?;
        let citizen_texts = self.stored_setting(notify::CITIZEN_TEXTS_SETTING).await?;
        let channels = self.store.channels().await?;
        let lines = self.store.lines().await?;
        let platforms = self.store.platforms().await?;
        let populations: std::collections::HashMap<String, i64> = divisions
            .iter()
            .filter_map(|d| d.population.map(|p| (d.code.clone(), p)))
            .collect();
        let city = divisions
            .iter()
            .find(|d| d.level == mashangban_domain::DivisionLevel::City)
            .map(|d| d.code.clone());
        // The districts' sum stands for the city only when every district has one.
        let districts: Vec<Option<i64>> = divisions
            .iter()
            .filter(|d| d.level == mashangban_domain::DivisionLevel::District)
            .map(|d| d.population)
            .collect();
        let districts_population = if districts.is_empty() {
            None
        } else {
            districts.iter().copied().sum::<Option<i64>>()
        };
        let r = Arc::new(Reference {
            populations,
            city,
            districts_population,
            categories: categories
                .into_iter()
                .map(|c| (c.code.clone(), c))
                .collect(),
            division_parents: divisions
                .iter()
                .map(|d| (d.code.clone(), d.parent_code.clone()))
                .collect(),
            divisions: divisions.into_iter().map(|d| (d.code, d.name)).collect(),
            catalogue,
            units: units.into_iter().map(|u| (u.id, u)).collect(),
            calendar: deadlines::calendar_from(days, years),
            policy,
            contacts: contacts.into_iter().map(|c| (c.unit_id, c)).collect(),
            webhooks,
            citizen_texts,
            public_url: self.config.public_url.clone(),
            wechat_push: self.config.wechat.as_ref().is_some_and(|w| w.pushes()),
            channels,
            lines,
            platforms,
        });
        if let Ok(mut guard) = self.reference.write() {
            *guard = Some((std::time::Instant::now(), r.clone()));
        }
        Ok(r)
    }

    /// The store itself, for the command line's maintenance and benchmark tools and for
    /// tests. The web crate cannot use it: it does not depend on the store crate, so it can
    /// neither name the store's types nor call its methods; every request goes through a
    /// use case here.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Whether the database answers (the health check).
    pub async fn health(&self) -> Result<(), AppError> {
        Ok(self.store.ping().await?)
    }

    /// Forgets cached reference data (after categories or divisions change).
    pub fn invalidate_reference(&self) {
        if let Ok(mut guard) = self.reference.write() {
            *guard = None;
        }
    }
}

/// Why a use case failed, in terms a client can act on.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Bad input, naming the field.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// No valid credentials.
    #[error("{0}")]
    Unauthenticated(String),
    /// Authenticated, but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// Not there, or not visible to this user.
    #[error("{0}")]
    NotFound(String),
    /// The action does not apply to the ticket's current state; nothing changed.
    #[error("{0}")]
    IllegalTransition(String),
    /// Something else is in the way (a duplicate name, a concurrent change, a reused key).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// Temporarily refused (an account locked after repeated wrong passwords).
    #[error("{0}")]
    Locked(String),
    /// A failure of ours; logged, never shown in detail.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// The stable code clients read (`error.code` of the API's one error shape).
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Invalid { .. } => "invalid",
            AppError::Unauthenticated(_) => "unauthenticated",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::IllegalTransition(_) => "illegal_transition",
            AppError::Conflict { code, .. } => code,
            AppError::Locked(_) => "locked",
            AppError::Internal(_) => "internal",
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> AppError {
        AppError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid { field, message } => AppError::Invalid { field, message },
            DomainError::Forbidden { .. } | DomainError::NotYourTicket { .. } => {
                AppError::Forbidden(e.to_string())
            }
            DomainError::IllegalTransition { .. } => AppError::IllegalTransition(e.to_string()),
            DomainError::Refused { code, message } => AppError::Conflict { code, message },
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => AppError::Conflict {
                code: "conflict",
                message: e.to_string(),
            },
            StoreError::Duplicate { .. } => AppError::Conflict {
                code: "duplicate",
                message: e.to_string(),
            },
            StoreError::NotFound { what } => AppError::NotFound(format!("{what} not found")),
            StoreError::LastAdmin => AppError::Conflict {
                code: "last_admin",
                message: e.to_string(),
            },
            StoreError::IdempotencyMismatch => AppError::Invalid {
                field: "Idempotency-Key".into(),
                message: "this key was already used for a different request".into(),
            },
            other => AppError::Internal(other.to_string()),
        }
    }
}
