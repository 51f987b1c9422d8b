//! Open311 GeoReport v2 as use cases (channel `open311`), and the keys of the client
//! applications that post on it. Anyone may list the services and read the requests taken
//! on this channel (what a citizen may see of them, never who sent them, never a
//! confidential one); posting takes a key an administrator issued to the application.
//! Every answer that refuses is in the protocol's own shape ([`Open311Error`]).

use crate::public::PORTAL;
use crate::{App, AppError, require};
use chrono::{DateTime, Duration, Utc};
use mashangban_domain::channel::Channel;
use mashangban_domain::open311::{
    Created, Open311Error, Post, Service, ServiceDefinition, ServiceRequest, ServiceRequestUpdate,
    TokenAnswer, UpdateTaken, new_ticket, parse_post, parse_update_post, service_request, services,
    updates,
};
use mashangban_domain::{Actor, Permission, Ticket, TicketState};
use mashangban_store::{ApiKey, TicketFilter};
use rand::Rng;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The jurisdiction served when `MASHANGBAN_OPEN311_JURISDICTION` names none.
pub const DEFAULT_JURISDICTION: &str = "xining.gov.cn";
/// The requests listed by default: those of the last 90 days, at most 1,000.
pub const DEFAULT_DAYS: i64 = 90;
pub const MAX_ROWS: u32 = 1000;
/// The furthest page a client may ask for.
pub const MAX_PAGE: u32 = 100;

fn digest(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// An application error in the protocol's shape (ours logged, never detailed).
fn protocol(e: AppError) -> Open311Error {
    match e {
        AppError::Invalid { field, message } => {
            Open311Error::new(400, format!("{field}: {message}"))
        }
        AppError::NotFound(m) => Open311Error::new(404, m),
        AppError::Locked(m) => Open311Error::new(429, m),
        AppError::Unauthenticated(m) | AppError::Forbidden(m) => Open311Error::new(403, m),
        AppError::Internal(m) => {
            tracing::error!(error = %m, "open311");
            Open311Error::new(500, "internal error; it has been logged")
        }
        other => Open311Error::new(400, other.to_string()),
    }
}

fn store_error(e: mashangban_store::StoreError) -> Open311Error {
    protocol(AppError::from(e))
}

/// A datetime parameter (RFC 3339), if given.
fn datetime_param(
    q: &HashMap<String, String>,
    k: &str,
) -> Result<Option<DateTime<Utc>>, Open311Error> {
    q.get(k)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|d| d.with_timezone(&Utc))
                .map_err(|_| {
                    Open311Error::new(400, format!("{k} is not an RFC 3339 datetime: {v}"))
                })
        })
        .transpose()
}

impl App {
    /// Issues a key to a client application (administrators): the key as kept, and the key
    /// itself, shown this once.
    pub async fn issue_api_key(
        &self,
        actor: &Actor,
        client: &str,
        now: DateTime<Utc>,
    ) -> Result<(ApiKey, String), AppError> {
        require(actor, Permission::ManageUsers)?;
        let client = client.trim();
        if !(1..=100).contains(&client.chars().count()) || client.chars().any(char::is_control) {
            return Err(AppError::invalid(
                "client",
                "must be 1 to 100 characters, none of them control",
            ));
        }
        let key = format!("mb311_{}", hex::encode(rand::rng().random::<[u8; 24]>()));
        let kept = self.store.add_api_key(client, &digest(&key), now).await?;
        Ok((kept, key))
    }

    /// Every client application's key, newest first (administrators).
    pub async fn api_keys(&self, actor: &Actor) -> Result<Vec<ApiKey>, AppError> {
        require(actor, Permission::ManageUsers)?;
        Ok(self.store.api_keys().await?)
    }

    /// Revokes a key (administrators); a key not in force is not found.
    pub async fn revoke_api_key(
        &self,
        actor: &Actor,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        require(actor, Permission::ManageUsers)?;
        if self.store.revoke_api_key(id, now).await? {
            Ok(())
        } else {
            Err(AppError::NotFound(format!("no key {id} in force")))
        }
    }

    /// The jurisdiction this instance serves.
    pub fn open311_jurisdiction(&self) -> &str {
        self.config
            .open311_jurisdiction
            .as_deref()
            .unwrap_or(DEFAULT_JURISDICTION)
    }

    /// Refuses a jurisdiction other than this one (none named is this one).
    pub fn open311_check_jurisdiction(&self, j: Option<&str>) -> Result<(), Open311Error> {
        match j.map(str::trim).filter(|j| !j.is_empty()) {
            Some(j) if j != self.open311_jurisdiction() => Err(Open311Error::new(
                404,
                format!("jurisdiction_id `{j}` is not served here"),
            )),
            _ => Ok(()),
        }
    }

    /// The services: the taxonomy's active leaves.
    pub async fn open311_services(&self) -> Result<Vec<Service>, Open311Error> {
        let r = self.reference().await.map_err(protocol)?;
        let all: Vec<_> = r.categories.values().collect();
        Ok(services(&all))
    }

    /// A service's definition (it has no attributes).
    pub async fn open311_service(&self, code: &str) -> Result<ServiceDefinition, Open311Error> {
        let known = self
            .open311_services()
            .await?
            .into_iter()
            .any(|s| s.service_code == code);
        if !known {
            return Err(Open311Error::new(
                404,
                format!("service_code `{code}` not found"),
            ));
        }
        Ok(ServiceDefinition {
            service_code: code.to_string(),
            attributes: Vec::new(),
        })
    }

    /// Takes a request a client application posts: its key in force, a known service, the
    /// citizen's limits as on the portal (by phone), on channel `open311`. The citizen gets
    /// the SMS receipt when a phone is given.
    pub async fn open311_post(
        &self,
        form: &[(String, String)],
        now: DateTime<Utc>,
    ) -> Result<Vec<Created>, Open311Error> {
        let post: Post = parse_post(form)?;
        self.open311_check_jurisdiction(post.jurisdiction_id.as_deref())?;
        let client = self
            .store
            .api_key_by_digest(&digest(&post.api_key))
            .await
            .map_err(store_error)?
            .ok_or_else(|| Open311Error::new(403, "api_key is not valid"))?;
        let r = self.reference().await.map_err(protocol)?;
        let known = r
            .categories
            .get(&post.service_code)
            .is_some_and(|c| c.active && c.level == 3);
        if !known {
            return Err(Open311Error::new(
                404,
                format!("service_code `{}` not found", post.service_code),
            ));
        }
        let new = new_ticket(&post, &client.client).map_err(|e| protocol(AppError::from(e)))?;
        if let Some(phone) = &new.citizen.phone {
            let key = format!("submit-phone:{phone}");
            if self.over_limits(&key, now).await.map_err(protocol)? {
                return Err(Open311Error::new(
                    429,
                    "too many requests from this phone number; try again later",
                ));
            }
            self.store
                .record_attempt(&key, now, now - crate::public::LONGEST_WINDOW)
                .await
                .map_err(store_error)?;
        }
        let created = self
            .receive(&PORTAL, new, None, now)
            .await
            .map_err(protocol)?;
        let number = created.ticket.number;
        Ok(vec![Created {
            service_request_id: number.clone(),
            token: number,
            service_notice: "已受理，将按时限转交办理单位并答复。".into(),
            account_id: None,
        }])
    }

    /// A citizen's update a client posts (FixMyStreet's `POST servicerequestupdates`): added
    /// to the request as a note for the hotline and the unit (the citizen's words, the
    /// client named), while the request is open; a closed one is answered 400 (a new matter
    /// is a new request). A repeat of the client's `update_id` changes nothing.
    pub async fn open311_post_update(
        &self,
        form: &[(String, String)],
        now: DateTime<Utc>,
    ) -> Result<Vec<UpdateTaken>, Open311Error> {
        let post = parse_update_post(form)?;
        self.open311_check_jurisdiction(post.jurisdiction_id.as_deref())?;
        let client = self
            .store
            .api_key_by_digest(&digest(&post.api_key))
            .await
            .map_err(store_error)?
            .ok_or_else(|| Open311Error::new(403, "api_key is not valid"))?;
        let t = self.open311_ticket(&post.service_request_id).await?;
        let replay_key = post
            .update_id
            .as_ref()
            .map(|u| format!("open311-update:{}:{}:{u}", client.id, t.number));
        let note = format!("【{}】市民补充：{}", client.client, post.description);
        if let Some(k) = &replay_key
            && self.store.was_handled(k).await.map_err(store_error)?
        {
            // A repeat: the same answer as the first time, the note it added.
            let events = self.store.ticket_events(t.id).await.map_err(store_error)?;
            let seq = events
                .iter()
                .rev()
                .find(|e| matches!(&e.kind, mashangban_domain::EventKind::NoteAdded { note: n } if *n == note))
                .map(|e| e.seq)
                .unwrap_or_default();
            return Ok(vec![UpdateTaken {
                update_id: format!("{}-{seq}", t.number),
            }]);
        }
        if t.state.is_terminal() {
            return Err(Open311Error::new(
                400,
                "the request is closed and takes no updates: post a new request",
            ));
        }
        let outcome = self
            .act_at(
                &PORTAL,
                t.id,
                mashangban_domain::Action::AddNote,
                serde_json::json!({ "note": note }),
                now,
            )
            .await
            .map_err(protocol)?;
        if let Some(k) = &replay_key {
            self.store.mark_handled(k, now).await.map_err(store_error)?;
        }
        let seq = outcome.events.last().map(|e| e.seq).unwrap_or_default();
        Ok(vec![UpdateTaken {
            update_id: format!("{}-{seq}", t.number),
        }])
    }

    /// A request taken on this channel, by its number (as a list of one, as the protocol
    /// answers).
    pub async fn open311_request(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<ServiceRequest>, Open311Error> {
        let t = self.open311_ticket(id).await?;
        Ok(vec![self.open311_view(&t, now).await?])
    }

    /// Resolves a token (the number the POST answered with).
    pub async fn open311_token(&self, token: &str) -> Result<Vec<TokenAnswer>, Open311Error> {
        let t = self.open311_ticket(token).await?;
        Ok(vec![TokenAnswer {
            service_request_id: t.number.clone(),
            token: t.number,
        }])
    }

    /// The requests taken on this channel, newest first: by `service_request_id` (a comma
    /// list, which overrides the rest), else by `service_code`, `status` (open, closed),
    /// `start_date` and `end_date` (RFC 3339; by default the last 90 days), `page` and
    /// `page_size` (at most 1,000).
    pub async fn open311_requests(
        &self,
        q: &HashMap<String, String>,
        now: DateTime<Utc>,
    ) -> Result<Vec<ServiceRequest>, Open311Error> {
        let get = |k: &str| q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let bad = |m: String| Open311Error::new(400, m);
        if let Some(ids) = get("service_request_id") {
            let ids: Vec<&str> = ids
                .split(',')
                .map(str::trim)
                .filter(|i| !i.is_empty())
                .collect();
            if ids.len() > 100 {
                return Err(bad("at most 100 service_request_id at once".into()));
            }
            let mut out = Vec::new();
            for id in ids {
                if let Ok(t) = self.open311_ticket(id).await {
                    out.push(self.open311_view(&t, now).await?);
                }
            }
            return Ok(out);
        }
        let end = datetime_param(q, "end_date")?.unwrap_or(now);
        let start = datetime_param(q, "start_date")?.unwrap_or(end - Duration::days(DEFAULT_DAYS));
        if start > end {
            return Err(bad("start_date is after end_date".into()));
        }
        let number = |k: &str, default: u32, max: u32| -> Result<u32, Open311Error> {
            match get(k) {
                None => Ok(default),
                Some(v) => v
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(|| bad(format!("{k} must be a number from 1 to {max}"))),
            }
        };
        let page_size = number("page_size", MAX_ROWS, MAX_ROWS)?;
        let page = number("page", 1, MAX_PAGE)?;
        let states: Vec<TicketState> = match get("status") {
            None => Vec::new(),
            Some("open") => TicketState::ALL
                .iter()
                .copied()
                .filter(|s| !s.is_terminal())
                .collect(),
            Some("closed") => TicketState::ALL
                .iter()
                .copied()
                .filter(|s| s.is_terminal())
                .collect(),
            Some(s) => return Err(bad(format!("status must be open or closed, not {s}"))),
        };
        let service = get("service_code").map(str::to_string);
        let mut filter = TicketFilter {
            states,
            channel: Some(Channel::OPEN311),
            category_prefix: service.clone(),
            created_from: Some(start),
            created_to: Some(end),
            limit: page_size,
            ..Default::default()
        };
        let mut tickets = Vec::new();
        for at in 1..=page {
            tickets = self
                .store
                .list_tickets(&filter)
                .await
                .map_err(store_error)?;
            if at < page {
                match tickets.last() {
                    Some(last) if tickets.len() == page_size as usize => {
                        filter.before_id = Some(last.id);
                    }
                    // There is no such page.
                    _ => return Ok(Vec::new()),
                }
            }
        }
        let mut out = Vec::new();
        for t in tickets.iter().filter(|t| !t.confidential) {
            out.push(self.open311_view(t, now).await?);
        }
        Ok(out)
    }

    /// What changed in this channel's requests (FixMyStreet's `servicerequestupdates`):
    /// every change of what a citizen sees at `start_date..=end_date` (RFC 3339; by default
    /// the last day), of the requests of the 90 days before the end, oldest first, at most
    /// 1,000 requests looked at.
    pub async fn open311_updates(
        &self,
        q: &HashMap<String, String>,
        now: DateTime<Utc>,
    ) -> Result<Vec<ServiceRequestUpdate>, Open311Error> {
        let end = datetime_param(q, "end_date")?.unwrap_or(now);
        let start = datetime_param(q, "start_date")?.unwrap_or(end - Duration::days(1));
        if start > end {
            return Err(Open311Error::new(400, "start_date is after end_date"));
        }
        let tickets = self
            .store
            .list_tickets(&TicketFilter {
                channel: Some(Channel::OPEN311),
                created_from: Some(end - Duration::days(DEFAULT_DAYS)),
                created_to: Some(end),
                limit: MAX_ROWS,
                ..Default::default()
            })
            .await
            .map_err(store_error)?;
        let ids: Vec<i64> = tickets
            .iter()
            .filter(|t| !t.confidential && t.updated_at >= start)
            .map(|t| t.id)
            .collect();
        let events = self
            .store
            .ticket_events_many(&ids)
            .await
            .map_err(store_error)?;
        let r = self.reference().await.map_err(protocol)?;
        let mut out = Vec::new();
        for id in ids {
            let mine: Vec<_> = events
                .iter()
                .filter(|e| e.ticket_id == id)
                .cloned()
                .collect();
            out.extend(updates(
                &mine,
                |u| r.unit_name(u).map(str::to_string),
                start,
                end,
            ));
        }
        out.sort_by(|a, b| {
            a.updated_datetime
                .cmp(&b.updated_datetime)
                .then(a.update_id.cmp(&b.update_id))
        });
        Ok(out)
    }

    /// A ticket of this channel by number (another channel's, or a confidential one, is not
    /// found: the protocol shows only what was posted on it).
    async fn open311_ticket(&self, id: &str) -> Result<Ticket, Open311Error> {
        let not_found = || Open311Error::new(404, format!("service_request_id `{id}` not found"));
        let number = id.trim().to_ascii_uppercase();
        if number.is_empty() || number.len() > 40 {
            return Err(not_found());
        }
        match self
            .store
            .ticket_by_number(&number)
            .await
            .map_err(store_error)?
        {
            Some(t) if t.channel == Channel::OPEN311 && !t.confidential => Ok(t),
            _ => Err(not_found()),
        }
    }

    async fn open311_view(
        &self,
        t: &Ticket,
        now: DateTime<Utc>,
    ) -> Result<ServiceRequest, Open311Error> {
        let view = self.citizen_view(t, now).await.map_err(protocol)?;
        let r = self.reference().await.map_err(protocol)?;
        let category = t.category_code.as_deref().and_then(|c| r.categories.get(c));
        Ok(service_request(
            &view,
            category,
            &t.content,
            t.address.as_deref(),
            t.updated_at,
        ))
    }
}
