//! Ticket search: the full-text index over every ticket, fed from the ticket events, and
//! the search itself with the list's filters and the actor's visibility.
//!
//! The index follows the events by their id. On PostgreSQL ids are handed out before the
//! writing transactions commit, so an event with a smaller id can appear after a larger
//! one was read: each pass reads again the last [`REREAD`] ids and indexes the tickets of
//! events it had not seen. Each instance keeps its own index (a folder, or memory), which
//! remembers in its commits how far it has read; `mashangban search rebuild` starts over.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use mashangban_domain::{Actor, Ticket, TicketState};
use mashangban_search::{TicketIndex, TicketQuery};
use serde::Serialize;

use crate::tickets::ListQuery;
use crate::{App, AppError};

/// Event ids read again behind the watermark on every pass.
pub const REREAD: i64 = 2_000;
/// Events read per step of a pass.
const FEED_STEP: u32 = 5_000;
/// Most hits a page shows, and how deep pages go.
pub const SEARCH_MAX_LIMIT: usize = 100;
pub const SEARCH_MAX_OFFSET: usize = 10_000;

/// The index and what its feed has seen.
pub struct SearchState {
    pub index: TicketIndex,
    /// Event ids at or above `watermark - REREAD` already indexed.
    seen: BTreeSet<i64>,
}

/// What one pass of the feed did.
#[derive(Debug, Default, Clone, Serialize, utoipa::ToSchema)]
pub struct FeedReport {
    pub events: usize,
    pub tickets: usize,
    /// Nothing left to read.
    pub caught_up: bool,
    pub watermark: i64,
}

/// One ticket found, as the actor may see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchItem {
    #[serde(flatten)]
    pub ticket: Ticket,
    pub score: f32,
}

/// A page of search results.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchPage {
    pub items: Vec<SearchItem>,
    /// Tickets matching in all (before the actor's visibility, for units already narrowed
    /// to their own).
    pub total: usize,
    /// Every word was found in each ticket listed (else: tickets with some of them).
    pub all_words: bool,
    pub words: Vec<String>,
}

/// The parameters a search accepts besides the list's filters.
pub const SEARCH_PARAMS: &str =
    "q, state, unit, channel, category, division, created_from, created_to, limit, offset";

impl App {
    /// The ticket index, opened on first use.
    pub async fn search_state(&self) -> Result<Arc<tokio::sync::Mutex<SearchState>>, AppError> {
        let dir = self.config.search_dir.clone();
        self.ticket_search
            .get_or_try_init(|| async move {
                let index = tokio::task::spawn_blocking(move || TicketIndex::open(dir.as_deref()))
                    .await
                    .map_err(|e| AppError::Internal(e.to_string()))?
                    .map_err(|e| AppError::Internal(e.to_string()))?;
                Ok::<_, AppError>(Arc::new(tokio::sync::Mutex::new(SearchState {
                    index,
                    seen: BTreeSet::new(),
                })))
            })
            .await
            .cloned()
    }

    /// Brings the index up to the newest events, reading at most about `budget` events.
    pub async fn feed_search(&self, budget: usize) -> Result<FeedReport, AppError> {
        let state = self.search_state().await?;
        let mut st = state.lock().await;
        let mut report = FeedReport::default();
        let internal = |e: mashangban_search::SearchError| AppError::Internal(e.to_string());
        let mut mark = st.index.watermark().map_err(internal)?;
        let mut from = (mark - REREAD).max(0);
        loop {
            let events = self.store.events_after(from, FEED_STEP).await?;
            let fresh: Vec<(i64, i64)> = events
                .iter()
                .copied()
                .filter(|(id, _)| !st.seen.contains(id))
                .collect();
            let last = events.last().map(|(id, _)| *id);
            if !fresh.is_empty() {
                let ids: BTreeSet<i64> = fresh.iter().map(|(_, t)| *t).collect();
                let ids: Vec<i64> = ids.into_iter().collect();
                let tickets = self.store.get_tickets(&ids).await?;
                let new_mark = mark.max(last.unwrap_or(mark));
                let index_tickets = tickets;
                let n = index_tickets.len();
                st.index.put(&index_tickets, new_mark).map_err(internal)?;
                st.seen.extend(fresh.iter().map(|(id, _)| *id));
                report.events += fresh.len();
                report.tickets += n;
                mark = new_mark;
                let keep_from = mark - REREAD;
                st.seen = st.seen.split_off(&keep_from);
            }
            match last {
                Some(l) if events.len() as u32 == FEED_STEP && report.events < budget => {
                    from = l;
                }
                _ => {
                    report.caught_up = events.len() < FEED_STEP as usize;
                    break;
                }
            }
        }
        report.watermark = mark;
        Ok(report)
    }

    /// Empties the index and indexes every ticket again from the first event.
    pub async fn rebuild_search(&self) -> Result<FeedReport, AppError> {
        let state = self.search_state().await?;
        {
            let mut st = state.lock().await;
            st.index
                .clear()
                .map_err(|e| AppError::Internal(e.to_string()))?;
            st.seen.clear();
        }
        let mut total = FeedReport::default();
        loop {
            let r = self.feed_search(200_000).await?;
            total.events += r.events;
            total.tickets += r.tickets;
            total.watermark = r.watermark;
            if r.caught_up {
                total.caught_up = true;
                return Ok(total);
            }
        }
    }

    /// Tickets matching `q` (words of the title, content, address, answer or reply, or a
    /// ticket number) under the list's filters, best first, as the actor may see them. The
    /// index is brought up to date first, so a ticket is found as soon as it is written.
    pub async fn search_tickets(
        &self,
        actor: &Actor,
        pairs: Vec<(String, String)>,
    ) -> Result<SearchPage, AppError> {
        let mut text = String::new();
        let mut offset = 0usize;
        let mut rest = Vec::new();
        for (k, v) in pairs {
            match k.as_str() {
                "q" => text = v.trim().to_string(),
                "offset" if !v.trim().is_empty() => {
                    offset = v
                        .trim()
                        .parse()
                        .ok()
                        .filter(|o| *o <= SEARCH_MAX_OFFSET)
                        .ok_or_else(|| {
                            AppError::invalid(
                                "offset",
                                format!("must be a number from 0 to {SEARCH_MAX_OFFSET}"),
                            )
                        })?;
                }
                "offset" => {}
                "phone" | "extension_pending" | "alert" | "supervision" | "awaiting_answer"
                | "order" | "cursor" => {
                    return Err(AppError::invalid(
                        k.clone(),
                        format!("not a search filter; a search takes {SEARCH_PARAMS}"),
                    ));
                }
                _ => rest.push((k, v)),
            }
        }
        let n = text.chars().count();
        if n == 0 || n > 200 {
            return Err(AppError::invalid(
                "q",
                "is required: 1 to 200 characters of words or a ticket number",
            ));
        }
        let f = ListQuery::from_pairs(rest)?;
        let limit = match f.limit {
            None => 20,
            Some(l) if (1..=SEARCH_MAX_LIMIT as u32).contains(&l) => l as usize,
            Some(_) => {
                return Err(AppError::invalid(
                    "limit",
                    format!("must be from 1 to {SEARCH_MAX_LIMIT}"),
                ));
            }
        };
        // A phone number finds the caller's tickets, exactly, for those allowed to see
        // numbers; for everyone else it is words like any others (the index holds no
        // numbers, so a search is never a way to learn whose number it is).
        if crate::may(actor, mashangban_domain::Permission::SeeContacts)
            && mashangban_domain::intake::validate_phone("q", Some(text.clone())).is_ok()
        {
            let page = self
                .list_tickets(
                    actor,
                    ListQuery {
                        phone: Some(text.clone()),
                        limit: Some(limit as u32),
                        cursor: None,
                        ..f
                    },
                )
                .await?;
            return Ok(SearchPage {
                total: page.items.len(),
                items: page
                    .items
                    .into_iter()
                    .map(|ticket| SearchItem { ticket, score: 1.0 })
                    .collect(),
                all_words: true,
                words: vec![text],
            });
        }
        let units = match mashangban_domain::ticket_reach(actor) {
            mashangban_domain::TicketReach::All => f.unit_id.into_iter().collect(),
            // A unit sees the tickets it leads or helps with; whatever unit it names.
            mashangban_domain::TicketReach::Unit(own) => vec![own],
            mashangban_domain::TicketReach::Nothing => {
                return Err(AppError::Forbidden("this handler has no unit".into()));
            }
        };
        let query = TicketQuery {
            text,
            states: f
                .states
                .iter()
                .map(|s: &TicketState| s.as_str().to_string())
                .collect(),
            category: f.category.clone(),
            division: f.division.clone(),
            units,
            channel: f.channel.map(|c| c.as_str().to_string()),
            from: f.created_from.map(|t| t.timestamp()),
            to: f.created_to.map(|t| t.timestamp()),
            limit,
            offset,
        };
        // New writes first (a bounded step: the background feed does the bulk).
        self.feed_search(FEED_STEP as usize).await?;
        let state = self.search_state().await?;
        let found = {
            let st = state.lock().await;
            st.index
                .search(&query)
                .map_err(|e| AppError::Internal(e.to_string()))?
        };
        let ids: Vec<i64> = found.hits.iter().map(|h| h.id).collect();
        let mut by_id: HashMap<i64, Ticket> = self
            .store
            .get_tickets(&ids)
            .await?
            .into_iter()
            .map(|t| (t.id, t))
            .collect();
        let items = found
            .hits
            .iter()
            .filter_map(|h| {
                let t = by_id.remove(&h.id)?;
                t.visible_to(actor).then(|| SearchItem {
                    ticket: t.masked_for(actor),
                    score: (h.score * 1000.0).round() / 1000.0,
                })
            })
            .collect();
        Ok(SearchPage {
            items,
            total: found.total,
            all_words: found.all_words,
            words: found.words,
        })
    }
}
