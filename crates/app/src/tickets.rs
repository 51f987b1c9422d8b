//! Ticket use cases: receive, read, list, and every lifecycle action.

use crate::auth::new_tracking_code;
use crate::{App, AppError, may, require};
use chrono::{DateTime, Utc};
use mashangban_domain::{
    Action, Actor, Channel, Command, Event, NewTicket, PatrolReport, Permission, Situation, Ticket,
    TicketReach, TicketState, check_merge_parent, decide, ticket_reach,
};
pub use mashangban_store::SavedFilter;
use mashangban_store::{Change, CreateTicket, StoreError, TicketFilter};
use sha2::{Digest, Sha256};

/// How often a lifecycle action is retried when another change won the race.
pub(crate) const CONFLICT_RETRIES: usize = 5;

/// A page of tickets, newest first, and the cursor of the next page.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TicketPage {
    pub items: Vec<Ticket>,
    pub next_cursor: Option<String>,
}

/// Filters of `GET /tickets`, as given by a client.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub states: Vec<TicketState>,
    pub unit_id: Option<i64>,
    pub channel: Option<Channel>,
    pub category: Option<String>,
    pub division: Option<String>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    pub phone: Option<String>,
    /// Tickets with (true) or without (false) an extension request awaiting a decision.
    pub extension_pending: Option<bool>,
    /// Open tickets with an alert at least this high (1 warning, 2 overdue).
    pub alert: Option<u8>,
    /// Open tickets under supervision at least this high (1..3).
    pub supervision: Option<u8>,
    /// Open supervised tickets whose unit has not answered (true) or has (false).
    pub awaiting_answer: Option<bool>,
    /// What the tickets wait for from the unit (`unit`, or a unit handler's own): to sign,
    /// in hand, with a level below, a reply to review.
    pub queue: Option<mashangban_domain::UnitQueue>,
    /// Oldest first (`order=oldest`) instead of newest first (`order=newest`, the default).
    pub oldest_first: bool,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// Most saved filters one user keeps.
pub const SAVED_FILTERS_MAX: usize = 20;

/// The filters a list accepts, by name (the API's query parameters and the console's form).
pub const LIST_FILTERS: &str = "state, unit, channel, category, division, created_from, created_to, phone, extension_pending, alert, supervision, awaiting_answer, queue, order, cursor, limit";

/// `true`/`1` or `false`/`0`.
fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

impl ListQuery {
    /// Reads filters from name/value pairs (a query string); empty values are ignored.
    /// Dates are `YYYY-MM-DD` business days in Asia/Shanghai (`created_to` inclusive) or
    /// RFC 3339 times.
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Result<ListQuery, AppError> {
        let mut q = ListQuery::default();
        for (k, v) in pairs {
            let v = v.trim().to_string();
            if v.is_empty() {
                continue;
            }
            let bad = |e: String| AppError::invalid(k.clone(), e);
            match k.as_str() {
                "state" => {
                    for s in v.split(',').filter(|s| !s.is_empty()) {
                        q.states
                            .push(s.parse().map_err(|e: mashangban_domain::UnknownValue| {
                                bad(e.to_string())
                            })?);
                    }
                }
                "unit" | "unit_id" => {
                    q.unit_id = Some(
                        v.parse()
                            .map_err(|_| bad(format!("`{v}` is not a unit id")))?,
                    )
                }
                "channel" => {
                    q.channel = Some(v.parse().map_err(
                        |e: mashangban_domain::channel::BadChannelCode| bad(e.to_string()),
                    )?)
                }
                "category" | "category_code" => q.category = Some(v),
                "division" | "division_code" => q.division = Some(v),
                "created_from" => q.created_from = Some(parse_time(&k, &v, false)?),
                "created_to" => q.created_to = Some(parse_time(&k, &v, true)?),
                // The number in the one form it is kept in, however it was typed.
                "phone" => {
                    q.phone = Some(mashangban_domain::intake::canonical_phone(&v).unwrap_or(v))
                }
                "extension_pending" | "awaiting_answer" => {
                    let b =
                        parse_bool(&v).ok_or_else(|| bad(format!("`{v}` is not true or false")))?;
                    if k == "awaiting_answer" {
                        q.awaiting_answer = Some(b);
                    } else {
                        q.extension_pending = Some(b);
                    }
                }
                "alert" => {
                    q.alert = Some(match v.as_str() {
                        "any" | "warning" => 1,
                        "overdue" => 2,
                        _ => return Err(bad(format!("`{v}` is not one of any, warning, overdue"))),
                    })
                }
                "supervision" => {
                    q.supervision = Some(match v.as_str() {
                        "any" | "l1" => 1,
                        "l2" => 2,
                        "l3" => 3,
                        _ => return Err(bad(format!("`{v}` is not one of any, l1, l2, l3"))),
                    })
                }
                "queue" => {
                    q.queue = Some(mashangban_domain::UnitQueue::parse(&v).ok_or_else(|| {
                        bad(format!(
                            "`{v}` is not one of to_sign, in_hand, below, to_review, none"
                        ))
                    })?)
                }
                "order" => {
                    q.oldest_first = match v.as_str() {
                        "oldest" => true,
                        "newest" => false,
                        _ => return Err(bad(format!("`{v}` is not an order: newest or oldest"))),
                    }
                }
                "cursor" => q.cursor = Some(v),
                "limit" => {
                    q.limit = Some(
                        v.parse()
                            .map_err(|_| bad(format!("`{v}` is not a number")))?,
                    )
                }
                _ => {
                    return Err(AppError::invalid(
                        k.clone(),
                        format!("unknown filter; filters are {LIST_FILTERS}"),
                    ));
                }
            }
        }
        Ok(q)
    }
}

/// A time filter: an RFC 3339 time, or a business day in Asia/Shanghai (`upper`: the end of
/// that day, so that a `to` date includes the day).
pub(crate) fn parse_time(field: &str, v: &str, upper: bool) -> Result<DateTime<Utc>, AppError> {
    use chrono::{NaiveDate, TimeZone};
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        let d = if upper { d.succ_opt().unwrap_or(d) } else { d };
        if let Some(local) = mashangban_domain::intake::china_offset()
            .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
            .single()
        {
            return Ok(local.with_timezone(&Utc));
        }
    }
    Err(AppError::invalid(
        field,
        format!("`{v}` is not a date (YYYY-MM-DD) or an RFC 3339 time"),
    ))
}

/// What a lifecycle action did.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The ticket after the action, as the actor may see it (unmasked after a reveal).
    pub ticket: Ticket,
    /// The events the action appended.
    pub events: Vec<Event>,
}

/// What a bulk action did: the tickets acted on and those refused, each named.
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub struct BulkOutcome {
    pub done: Vec<BulkDone>,
    pub refused: Vec<BulkRefused>,
}

/// A ticket a bulk action was taken on.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct BulkDone {
    pub id: i64,
    pub number: String,
    /// The ticket's state after the action.
    pub state: TicketState,
}

/// A ticket a bulk action was refused on, and why; nothing of it changed.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct BulkRefused {
    pub id: i64,
    /// The ticket's number, when the actor may see the ticket.
    pub number: Option<String>,
    /// The code the same action on this ticket alone would answer (`illegal_transition`,
    /// `forbidden`, `not_found`, …).
    pub code: String,
    pub message: String,
}

pub(crate) fn request_hash(body: &serde_json::Value) -> String {
    hex::encode(Sha256::digest(body.to_string().as_bytes()))
}

/// A place resolved at least this surely is a request's place without anyone asking: a
/// name with its suffix or in the gazetteer (bare names, which point at most 0.6, and
/// ambiguous ones are left to the dispatcher).
pub(crate) const PLACE_AUTO_CONFIDENCE: f32 = 0.7;

/// A category a ticket may be put in (an active one) and a division of the city: what a
/// request names at intake and what a correction sets.
fn check_codes(
    reference: &crate::Reference,
    category: Option<&str>,
    division: Option<&str>,
) -> Result<(), AppError> {
    if let Some(code) = category
        && reference.categories.get(code).is_none_or(|c| !c.active)
    {
        return Err(AppError::invalid(
            "category_code",
            format!("`{code}` is not a category"),
        ));
    }
    if let Some(code) = division
        && !reference.divisions.contains_key(code)
    {
        return Err(AppError::invalid(
            "division_code",
            format!("`{code}` is not a division"),
        ));
    }
    Ok(())
}

/// An idempotency key with the hash of the body it came with, once the key is checked.
pub(crate) fn idempotency(
    key: Option<String>,
    body: &serde_json::Value,
) -> Result<Option<(String, String)>, AppError> {
    match key {
        Some(k) if k.is_empty() || k.len() > 200 => Err(AppError::invalid(
            "Idempotency-Key",
            "must be 1 to 200 characters",
        )),
        Some(k) => Ok(Some((k, request_hash(body)))),
        None => Ok(None),
    }
}

/// Splits `merge_into` (the open ticket a repeat request joins) from a create body.
fn take_merge_into(
    mut body: serde_json::Value,
) -> Result<(serde_json::Value, Option<i64>), AppError> {
    let Some(v) = body.as_object_mut().and_then(|o| o.remove("merge_into")) else {
        return Ok((body, None));
    };
    match v {
        serde_json::Value::Null => Ok((body, None)),
        v => match v.as_i64().filter(|id| *id > 0) {
            Some(id) => Ok((body, Some(id))),
            None => Err(AppError::invalid(
                "merge_into",
                "must be the id of an open ticket (a positive integer)",
            )),
        },
    }
}

impl App {
    /// Receives a request from any channel. With `merge_into` (an open ticket's id) the
    /// request is the same matter as that ticket: it is received and merged into it in one
    /// step, and is not dispatched on its own. With an idempotency key, a retried create
    /// returns the ticket of the first (the boolean is false then).
    pub async fn create_ticket(
        &self,
        actor: &Actor,
        body: serde_json::Value,
        idempotency_key: Option<String>,
    ) -> Result<(Ticket, bool), AppError> {
        self.create_ticket_at(actor, body, idempotency_key, Utc::now())
            .await
    }

    /// [`App::create_ticket`] at a given time: for imports of historical requests and the demo.
    pub async fn create_ticket_at(
        &self,
        actor: &Actor,
        body: serde_json::Value,
        idempotency_key: Option<String>,
        at: DateTime<Utc>,
    ) -> Result<(Ticket, bool), AppError> {
        require(actor, Permission::ReceiveRequests)?;
        let idempotency = idempotency(idempotency_key, &body)?;
        let (body, merge_into) = take_merge_into(body)?;
        if let Some(parent_id) = merge_into {
            // Checked before anything is written: a request that cannot join its parent is
            // refused whole.
            let parent = match self.store.get_ticket(parent_id).await? {
                Some(p) if p.visible_to(actor) => p,
                _ => {
                    return Err(AppError::invalid(
                        "merge_into",
                        format!("ticket {parent_id} not found"),
                    ));
                }
            };
            if parent.state.is_terminal() {
                return Err(AppError::invalid(
                    "merge_into",
                    format!(
                        "ticket {} is `{}`; a repeat request joins an open ticket",
                        parent.number, parent.state
                    ),
                ));
            }
        }
        let new = NewTicket::parse(body)?;
        let created = self.receive(actor, new, idempotency, at).await?;
        if let Some(parent_id) = merge_into
            && created.created
        {
            // The same matter as an open ticket: linked to it as a merged duplicate, never
            // dispatched on its own. Should the parent have closed in between, the request
            // stays received (it is never lost) and the answer shows it unmerged.
            match self
                .act_at(
                    actor,
                    created.ticket.id,
                    Action::Merge,
                    serde_json::json!({ "parent_id": parent_id }),
                    at,
                )
                .await
            {
                Ok(out) => return Ok((out.ticket, true)),
                Err(e) => {
                    tracing::warn!(ticket = created.ticket.id, parent = parent_id, error = %e,
                        "received, but could not merge into the parent");
                }
            }
        }
        Ok((created.ticket.masked_for(actor), created.created))
    }

    /// [`App::report_on_patrol_at`] now.
    pub async fn report_on_patrol(
        &self,
        actor: &Actor,
        body: serde_json::Value,
        idempotency_key: Option<String>,
    ) -> Result<(Ticket, bool), AppError> {
        self.report_on_patrol_at(actor, body, idempotency_key, Utc::now())
            .await
    }

    /// A grid worker's report of what they found on patrol (网格上报): a ticket from the
    /// `grid` channel, reported by their community, with the place it was found. With
    /// `resolved_on_spot` (what was done) the community resolved it itself (就地办结) and
    /// the ticket ends at once; otherwise it waits for the hotline's dispatch like any
    /// request, and the community may still resolve it while it waits.
    pub async fn report_on_patrol_at(
        &self,
        actor: &Actor,
        body: serde_json::Value,
        idempotency_key: Option<String>,
        at: DateTime<Utc>,
    ) -> Result<(Ticket, bool), AppError> {
        require(actor, Permission::ReportOnPatrol)?;
        let Some(unit) = actor.unit_id else {
            return Err(AppError::invalid(
                "unit",
                "a grid worker must be bound to a community",
            ));
        };
        let idempotency = idempotency(idempotency_key, &body)?;
        let report = PatrolReport::parse(body, unit)?;
        let mut request = report.request;
        self.find_place(&mut request).await?;
        // Not sure from the words: the grid worker's own community, where they patrol.
        if request.division_code.is_none()
            && let Some(code) = self
                .store
                .get_unit(unit)
                .await?
                .and_then(|u| u.division_code)
        {
            let candidates = request
                .place
                .take()
                .map(|p| p.candidates)
                .unwrap_or_default();
            request.division_code = Some(code);
            request.place = Some(mashangban_domain::PlaceFinding {
                how: mashangban_domain::PlaceHow::Reporter,
                confidence: None,
                candidates,
            });
        }
        let created = self.receive(actor, request, idempotency, at).await?;
        if let Some(action_taken) = report.resolved_on_spot
            && created.created
        {
            let out = self
                .act_at(
                    actor,
                    created.ticket.id,
                    Action::ResolveOnSpot,
                    serde_json::json!({ "action_taken": action_taken }),
                    at,
                )
                .await?;
            return Ok((out.ticket, true));
        }
        Ok((created.ticket.masked_for(actor), created.created))
    }

    /// Stores a received request once its category and division are checked: the one
    /// write behind every channel's intake.
    pub(crate) async fn receive(
        &self,
        actor: &Actor,
        new: NewTicket,
        idempotency: Option<(String, String)>,
        at: DateTime<Utc>,
    ) -> Result<mashangban_store::Created, AppError> {
        self.receive_with(actor, new, idempotency, at, Vec::new())
            .await
    }

    /// [`App::receive`], with more notices to write with the new ticket (a WeChat
    /// follower's photos to fetch).
    pub(crate) async fn receive_with(
        &self,
        actor: &Actor,
        mut new: NewTicket,
        idempotency: Option<(String, String)>,
        at: DateTime<Utc>,
        notices: Vec<mashangban_store::NewNotice>,
    ) -> Result<mashangban_store::Created, AppError> {
        self.find_place(&mut new).await?;
        // Words that say an emergency is under way are flagged as the request comes in,
        // whatever the channel: the desk shows the number first.
        let emergency =
            mashangban_text::detect_emergency(&format!("{}。{}", new.title, new.content));
        new.emergency = emergency
            .transfer_to
            .filter(|_| emergency.flag)
            .map(|t| t.number().to_string());
        let reference = self.reference().await?;
        crate::channels::check_intake_channel(&reference, &mut new)?;
        check_codes(
            &reference,
            new.category_code.as_deref(),
            new.division_code.as_deref(),
        )?;
        Ok(self
            .store
            .create_ticket(CreateTicket {
                new,
                actor: *actor,
                at,
                number_prefix: self.config.number_prefix.clone(),
                tracking_code: new_tracking_code(),
                idempotency,
                notices: crate::notify::received_plan(&reference, at, notices),
            })
            .await?)
    }

    /// Places a request that names no division: from its address, else from its words,
    /// when the gazetteer and the divisions make one place sure enough; otherwise it keeps
    /// the places it could be in for the dispatcher. Records how either way.
    async fn find_place(&self, new: &mut NewTicket) -> Result<(), AppError> {
        use mashangban_domain::{PlaceFinding, PlaceHow};
        if new.place.is_some() {
            // Placed already (a patrol report, by its community).
            return Ok(());
        }
        if new.division_code.is_some() {
            new.place = Some(PlaceFinding {
                how: PlaceHow::Given,
                confidence: None,
                candidates: Vec::new(),
            });
            return Ok(());
        }
        let text = self.text().await?;
        let by_address = new
            .address
            .as_deref()
            .filter(|a| !a.trim().is_empty())
            .map(|a| text.address.resolve(a))
            .filter(|r| r.best.is_some() || !r.candidates.is_empty());
        let (how, found) = match by_address {
            Some(r) => (PlaceHow::Address, r),
            None => (
                PlaceHow::Content,
                text.address
                    .resolve(&format!("{}。{}", new.title, new.content)),
            ),
        };
        match found.best.clone() {
            Some(best) if best.confidence >= PLACE_AUTO_CONFIDENCE => {
                new.division_code = Some(best.code);
                new.place = Some(PlaceFinding {
                    how,
                    confidence: Some((best.confidence * 1000.0).round() / 1000.0),
                    candidates: Vec::new(),
                });
            }
            best => {
                let mut candidates: Vec<String> = Vec::new();
                for c in best.into_iter().chain(found.candidates) {
                    if !candidates.contains(&c.code) && candidates.len() < 5 {
                        candidates.push(c.code);
                    }
                }
                new.place = Some(PlaceFinding {
                    how: PlaceHow::Unresolved,
                    confidence: None,
                    candidates,
                });
            }
        }
        Ok(())
    }

    /// The ticket, unmasked, if the actor may see it; otherwise not found.
    pub(crate) async fn visible_ticket(&self, actor: &Actor, id: i64) -> Result<Ticket, AppError> {
        match self.store.get_ticket(id).await? {
            Some(t) if t.visible_to(actor) => Ok(t),
            _ => Err(AppError::NotFound(format!("ticket {id} not found"))),
        }
    }

    /// One ticket as the actor may see it.
    pub async fn get_ticket(&self, actor: &Actor, id: i64) -> Result<Ticket, AppError> {
        Ok(self.visible_ticket(actor, id).await?.masked_for(actor))
    }

    /// The ticket's events, oldest first, masked as the ticket is.
    pub async fn ticket_events(&self, actor: &Actor, id: i64) -> Result<Vec<Event>, AppError> {
        let t = self.visible_ticket(actor, id).await?;
        let mut events = self.store.ticket_events(id).await?;
        if !may(actor, Permission::SeeContacts) {
            for e in &mut events {
                e.kind = e.kind.masked(t.confidential);
            }
        }
        Ok(events)
    }

    /// Tickets matching the query, newest first. A unit handler sees only their unit's.
    /// Only those who see phone numbers may look tickets up by one: to anyone else a
    /// phone filter would tell a masked number, or a confidential caller, by trying.
    pub async fn list_tickets(&self, actor: &Actor, q: ListQuery) -> Result<TicketPage, AppError> {
        if q.phone.is_some() && !may(actor, Permission::SeeContacts) {
            return Err(AppError::Forbidden(format!(
                "role `{}` does not see phone numbers and may not search by one",
                actor.role
            )));
        }
        let limit = q.limit.unwrap_or(50);
        if !(1..=500).contains(&limit) {
            return Err(AppError::invalid("limit", "must be between 1 and 500"));
        }
        if let Some(c) = &q.channel {
            crate::channels::check_known_channel(&*self.reference().await?, c)?;
        }
        let before_id = match &q.cursor {
            Some(c) => Some(c.parse::<i64>().ok().filter(|v| *v > 0).ok_or_else(|| {
                AppError::invalid("cursor", "is not a cursor from a previous page")
            })?),
            None => None,
        };
        let unit_id = match ticket_reach(actor) {
            TicketReach::All => q.unit_id,
            TicketReach::Unit(own) if q.unit_id.is_none_or(|u| u == own) => Some(own),
            TicketReach::Unit(_) => {
                return Ok(TicketPage {
                    items: Vec::new(),
                    next_cursor: None,
                });
            }
            TicketReach::Nothing => {
                return Err(AppError::Forbidden("this handler has no unit".into()));
            }
        };
        if q.queue.is_some() && unit_id.is_none() {
            return Err(AppError::invalid(
                "queue",
                "a queue is a unit's: give the unit too (unit handlers have their own)",
            ));
        }
        let filter = TicketFilter {
            states: q.states,
            unit_id,
            unit_queue: q.queue,
            channel: q.channel,
            category_prefix: q.category,
            division_prefix: q.division,
            created_from: q.created_from,
            created_to: q.created_to,
            // The number in the one form it is kept in, however it was typed.
            citizen_phone: q
                .phone
                .map(|p| mashangban_domain::intake::canonical_phone(&p).unwrap_or(p)),
            citizen_wechat: None,
            extension_pending: q.extension_pending,
            alert_at_least: q.alert,
            supervision_at_least: q.supervision,
            awaiting_answer: q.awaiting_answer,
            before_id,
            oldest_first: q.oldest_first,
            limit: limit + 1,
        };
        let mut items = self.store.list_tickets(&filter).await?;
        let next_cursor = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|t| t.id.to_string())
        } else {
            None
        };
        Ok(TicketPage {
            items: items.iter().map(|t| t.masked_for(actor)).collect(),
            next_cursor,
        })
    }

    /// Takes one lifecycle action on a ticket: parse, check visibility, role and state,
    /// check the units and tickets it names, then append its events atomically.
    pub async fn act(
        &self,
        actor: &Actor,
        id: i64,
        action: Action,
        body: serde_json::Value,
    ) -> Result<Outcome, AppError> {
        self.act_at(actor, id, action, body, Utc::now()).await
    }

    /// One action on several tickets (批量办理): each ticket in its own transaction, by the
    /// same rules as [`App::act`], so that a ticket is acted on wholly or not at all and
    /// one refusal does not undo the others. The action, the actor's right to it, the list
    /// and the body are checked once before any ticket is touched; each ticket refused is
    /// named with the reason. A ticket the actor may not see is reported as not found,
    /// without its number, like a single request for it.
    pub async fn act_on_many(
        &self,
        actor: &Actor,
        action: Action,
        ticket_ids: &[i64],
        body: serde_json::Value,
    ) -> Result<BulkOutcome, AppError> {
        if !Action::BULK.contains(&action) {
            let names: Vec<_> = Action::BULK.iter().map(|a| a.as_str()).collect();
            return Err(AppError::invalid(
                "action",
                format!(
                    "`{}` is taken one ticket at a time; several at once: {}",
                    action.as_str(),
                    names.join(", ")
                ),
            ));
        }
        if !crate::may_take(actor, action) {
            return Err(mashangban_domain::DomainError::Forbidden {
                role: actor.role,
                action: action.as_str().to_string(),
            }
            .into());
        }
        if ticket_ids.is_empty() {
            return Err(AppError::invalid(
                "ticket_ids",
                "choose at least one ticket",
            ));
        }
        if ticket_ids.len() > Action::BULK_MAX {
            return Err(AppError::invalid(
                "ticket_ids",
                format!(
                    "{} tickets named; at most {} at once",
                    ticket_ids.len(),
                    Action::BULK_MAX
                ),
            ));
        }
        // The body is the same for every ticket: a bad one is one answer, not fifty.
        Command::parse(action, body.clone())?;
        let mut seen = std::collections::HashSet::new();
        let mut out = BulkOutcome::default();
        for &id in ticket_ids {
            if !seen.insert(id) {
                continue;
            }
            match self.act(actor, id, action, body.clone()).await {
                Ok(done) => out.done.push(BulkDone {
                    id,
                    number: done.ticket.number,
                    state: done.ticket.state,
                }),
                Err(AppError::Internal(detail)) => {
                    tracing::error!(%detail, ticket = id, "bulk action");
                    out.refused.push(BulkRefused {
                        id,
                        number: None,
                        code: "internal".into(),
                        message: "internal error; it has been logged".into(),
                    });
                }
                Err(e) => {
                    let number = match &e {
                        AppError::NotFound(_) => None,
                        _ => self.visible_ticket(actor, id).await.ok().map(|t| t.number),
                    };
                    out.refused.push(BulkRefused {
                        id,
                        number,
                        code: e.code().to_string(),
                        message: e.to_string(),
                    });
                }
            }
        }
        Ok(out)
    }

    /// Saves a named filter of the ticket list for the user (保存的筛选); the same name again
    /// replaces it. The filters are checked as the list would read them (a phone number only
    /// for those who may look one up), the cursor and paging left out; at most
    /// [`SAVED_FILTERS_MAX`] names a user.
    pub async fn save_filter(
        &self,
        actor: &Actor,
        name: &str,
        pairs: Vec<(String, String)>,
    ) -> Result<SavedFilter, AppError> {
        let name = name.trim();
        let chars = name.chars().count();
        if chars == 0 || chars > 40 || name.chars().any(char::is_control) {
            return Err(AppError::invalid("name", "must be 1 to 40 characters"));
        }
        let kept: Vec<(String, String)> = pairs
            .into_iter()
            .map(|(k, v)| (k, v.trim().to_string()))
            .filter(|(k, v)| {
                !v.is_empty() && !matches!(k.as_str(), "cursor" | "limit" | "offset" | "name")
            })
            .collect();
        for (k, _) in &kept {
            if k != "q" && !LIST_FILTERS.split(", ").any(|f| f == k) {
                return Err(AppError::invalid(
                    k.clone(),
                    format!("is not a filter of the list; filters are: q, {LIST_FILTERS}"),
                ));
            }
        }
        if kept.is_empty() {
            return Err(AppError::invalid(
                "query",
                "choose some filters to save first",
            ));
        }
        let q = ListQuery::from_pairs(kept.iter().filter(|(k, _)| k != "q").cloned().collect())?;
        if q.phone.is_some() && !may(actor, Permission::SeeContacts) {
            return Err(AppError::Forbidden(format!(
                "role `{}` does not see phone numbers and may not search by one",
                actor.role
            )));
        }
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(kept.iter())
            .finish();
        let existing = self.store.saved_filters(actor.user_id).await?;
        if existing.len() >= SAVED_FILTERS_MAX && !existing.iter().any(|f| f.name == name) {
            return Err(AppError::invalid(
                "name",
                format!("at most {SAVED_FILTERS_MAX} saved filters; delete one first"),
            ));
        }
        Ok(self
            .store
            .save_filter(actor.user_id, name, &query, Utc::now())
            .await?)
    }

    /// The user's saved filters of the ticket list, by name.
    pub async fn saved_filters(&self, actor: &Actor) -> Result<Vec<SavedFilter>, AppError> {
        Ok(self.store.saved_filters(actor.user_id).await?)
    }

    /// Deletes one of the user's saved filters (another user's is not found).
    pub async fn delete_saved_filter(&self, actor: &Actor, id: i64) -> Result<(), AppError> {
        if self.store.delete_saved_filter(actor.user_id, id).await? {
            Ok(())
        } else {
            Err(AppError::NotFound("saved filter not found".into()))
        }
    }

    /// The ticket a desk goes on to after acting on `after` ("save and next"): the next one
    /// down the actor's list (newest first, as the desk shows it) on which the actor may
    /// take `action` now, wrapping round to the top once; `None` when the queue is empty.
    /// Only the states the action applies in are read, a few pages at most.
    pub async fn next_to_act(
        &self,
        actor: &Actor,
        action: Action,
        after: i64,
    ) -> Result<Option<i64>, AppError> {
        let Some(rule) = action.rule_for(actor.role) else {
            return Ok(None);
        };
        for start in [Some(after), None] {
            let mut cursor = start.map(|id| id.to_string());
            for _ in 0..4 {
                let page = self
                    .list_tickets(
                        actor,
                        ListQuery {
                            states: rule.from.to_vec(),
                            cursor: cursor.take(),
                            limit: Some(100),
                            ..Default::default()
                        },
                    )
                    .await?;
                if let Some(tk) = page.items.iter().find(|t| {
                    t.id != after
                        && mashangban_domain::available_actions(t, actor).contains(&action)
                }) {
                    return Ok(Some(tk.id));
                }
                match page.next_cursor {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
        }
        Ok(None)
    }

    /// [`App::act`] at a given time: for imports of historical requests and the demo.
    pub async fn act_at(
        &self,
        actor: &Actor,
        id: i64,
        action: Action,
        body: serde_json::Value,
        at: DateTime<Utc>,
    ) -> Result<Outcome, AppError> {
        // The role first: a role that may never take the action is told so before its
        // input is read.
        if !crate::may_take(actor, action) {
            return Err(mashangban_domain::DomainError::Forbidden {
                role: actor.role,
                action: action.as_str().to_string(),
            }
            .into());
        }
        let cmd = Command::parse(action, body)?;
        for attempt in 0..CONFLICT_RETRIES {
            let ticket = self.visible_ticket(actor, id).await?;
            // The ticket's events so far, read once for its clocks.
            let history = self.store.ticket_events(ticket.id).await?;
            let reference = self.reference().await?;
            let clocks = mashangban_domain::deadlines::clocks(
                &history,
                ticket.tier,
                &reference.policy,
                &reference.calendar,
                at,
            );
            // A correction names a category or a division that exists.
            match &cmd {
                Command::Recategorise { category_code, .. } => {
                    check_codes(&reference, Some(category_code), None)?;
                    if reference
                        .categories
                        .get(category_code)
                        .is_some_and(|c| c.level != 3)
                    {
                        return Err(AppError::invalid(
                            "category_code",
                            format!(
                                "`{category_code}` is a group of categories; choose one of its third-level categories"
                            ),
                        ));
                    }
                }
                Command::Relocate { division_code, .. } => {
                    check_codes(&reference, None, Some(division_code))?
                }
                Command::TransferOut { to, .. } => App::check_transfer_target(&reference, to)?,
                _ => {}
            }
            // The named units as they are now (not as cached): a unit disabled a moment ago
            // is not dispatched to.
            let mut active_units = Vec::new();
            for (_, unit) in cmd.named_units() {
                if self.store.get_unit(unit).await?.is_some_and(|u| u.active) {
                    active_units.push(unit);
                }
            }
            let category = ticket.category_code.as_deref();
            let catalogue_owner = match (&cmd, category) {
                (Command::Dispatch { .. } | Command::DecideConsultation { .. }, Some(code)) => self
                    .catalogue_owner(
                        actor,
                        code,
                        ticket.division_code.as_deref(),
                        mashangban_domain::aggregates::business_day(at),
                    )
                    .await?
                    .map(|m| (m.entry.unit_id, m.entry.tier)),
                _ => None,
            };
            // Where the unit holding the ticket may forward it: the units below it now.
            let units_below = match (&cmd, ticket.holder_unit()) {
                (Command::Forward { .. }, Some(holder)) => {
                    mashangban_domain::org::units_below(reference.units.values(), holder)
                        .into_iter()
                        .filter(|u| active_units.contains(u))
                        .collect()
                }
                _ => Vec::new(),
            };
            // Whom the holder may call to the spot: departments, if it is a street office.
            let summonable = match (&cmd, ticket.holder_unit()) {
                (Command::Summon { .. }, Some(holder)) => {
                    mashangban_domain::org::summonable(reference.units.values(), holder)
                        .into_iter()
                        .filter(|u| active_units.contains(u))
                        .collect()
                }
                _ => Vec::new(),
            };
            // The reply approved is inspected (答复质检): as it awaits review, or as the
            // reviewing level passes it up edited. The findings go with the approval.
            let reply_findings = match &cmd {
                Command::ApproveReply { content, .. } => {
                    mashangban_domain::reply_check::reply_under_review(&ticket).map(
                        |(unit_id, reply)| {
                            crate::reply_check::inspect(
                                &ticket,
                                &history,
                                unit_id,
                                content.as_deref().unwrap_or(reply),
                            )
                        },
                    )
                }
                _ => None,
            };
            let level_sign_by = matches!(cmd, Command::Forward { .. }).then(|| {
                mashangban_domain::deadlines::sign_by(&reference.policy, &reference.calendar, at)
            });
            let situation = Situation {
                units_below: &units_below,
                summonable: &summonable,
                level_sign_by,
                reply_findings: reply_findings.as_deref(),
                now: at,
                policy: &reference.policy,
                clocks: &clocks,
                active_units: &active_units,
                catalogue_owner,
                category_tier: category
                    .and_then(|c| reference.categories.get(c))
                    .and_then(|c| c.default_tier),
            };
            let events = decide(&ticket, actor, &cmd, &situation)?;
            let next_deadline = self
                .next_deadline_after(&ticket, &history, &events, actor, at)
                .await?;
            let notices = self.notices_for_change(&ticket, &events, actor, at).await?;
            let mut changes = vec![Change {
                before: ticket.clone(),
                events: events.clone(),
                next_deadline: Some(next_deadline),
                notices,
            }];
            // An approved answer reaches the requests merged into this one (并单): each is
            // given it, in the same transaction, and its citizen may rate it.
            if events
                .iter()
                .any(|e| matches!(e, mashangban_domain::EventKind::ReplyApproved { .. }))
                && !ticket.child_ids.is_empty()
            {
                let mut after = Some(ticket.clone());
                for e in mashangban_domain::appended(&ticket, &events, *actor, at) {
                    after = mashangban_domain::apply(after, &e);
                }
                if let Some(parent) = after {
                    for child_id in &parent.child_ids {
                        let Some(child) = self.store.get_ticket(*child_id).await? else {
                            continue;
                        };
                        if let Some(answered) =
                            mashangban_domain::public::answer_merged(&child, &parent)
                        {
                            let events = vec![answered];
                            let history = self.store.ticket_events(child.id).await?;
                            let next_deadline = self
                                .next_deadline_after(&child, &history, &events, actor, at)
                                .await?;
                            let notices =
                                self.notices_for_change(&child, &events, actor, at).await?;
                            changes.push(Change {
                                before: child,
                                events,
                                next_deadline: Some(next_deadline),
                                notices,
                            });
                        }
                    }
                }
            }
            if let Command::Merge { parent_id } = &cmd {
                let parent = match self.store.get_ticket(*parent_id).await? {
                    Some(p) if p.visible_to(actor) => p,
                    _ => {
                        return Err(AppError::invalid(
                            "parent_id",
                            format!("ticket {parent_id} not found"),
                        ));
                    }
                };
                check_merge_parent(&ticket, &parent)?;
                let events = vec![mashangban_domain::EventKind::ChildMerged {
                    child_id: ticket.id,
                }];
                let notices = self.notices_for_change(&parent, &events, actor, at).await?;
                changes.push(Change {
                    before: parent,
                    events,
                    next_deadline: None,
                    notices,
                });
            }
            match self.store.commit(changes, *actor, at).await {
                Ok(after) => {
                    let first = after.into_iter().next().expect("one change at least");
                    let (after_ticket, events) = (first.ticket, first.events);
                    let shown = if action == Action::RevealContact {
                        after_ticket
                    } else {
                        after_ticket.masked_for(actor)
                    };
                    return Ok(Outcome {
                        ticket: shown,
                        events,
                    });
                }
                Err(StoreError::Conflict) if attempt + 1 < CONFLICT_RETRIES => {
                    tracing::debug!(ticket = id, attempt, "concurrent change; deciding again");
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Conflict {
            code: "conflict",
            message: "the ticket keeps changing; try again".into(),
        })
    }
}
