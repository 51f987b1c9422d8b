//! The Chinese text features at work: the address index over the deployment's divisions,
//! the ticket classifier trained from its own closed tickets (and its categories' names),
//! and the suggestions shown to the operator while the call goes on.

use std::sync::Arc;

use chrono::Utc;
use mashangban_domain::{Actor, Permission, Ticket, TicketState};
pub use mashangban_store::GazetteerRow;
use mashangban_store::TicketFilter;
use mashangban_text::classify::{Example, Model, TrainOptions};
use mashangban_text::{AddressIndex, Emergency, EntryKind, GazetteerEntry, Level, Place, Resolved};
use serde::{Deserialize, Serialize};

use crate::{App, AppError, require};

/// Where the trained classifier is kept (JSON), and a short stamp of it.
pub const MODEL_SETTING: &str = "classifier_model";
pub const MODEL_STAMP_SETTING: &str = "classifier_model_stamp";
/// Most closed tickets a training reads (the newest).
pub const TRAIN_LIMIT: usize = 200_000;

/// The text features in force.
pub struct TextState {
    pub address: AddressIndex,
    pub model: Option<Arc<Model>>,
    /// When and on what the model was trained (`2026-11-28T10:00:00Z · 1,234 tickets`).
    pub model_stamp: Option<String>,
}

/// What a training did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TrainReport {
    pub tickets: usize,
    pub category_names: usize,
    /// Knowledge-base questions of a leaf category learned as texts of it.
    pub knowledge_questions: usize,
    pub categories: usize,
    /// The character features the model reads.
    pub features: usize,
    pub seconds: f64,
}

/// What the operator has typed so far.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuggestInput {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub content: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub phone: String,
    /// The category the operator chose, if one: the owning unit and the tier follow it
    /// rather than the top proposal.
    #[serde(default)]
    #[schema(max_length = 32)]
    pub category_code: String,
}

/// A category proposed for the text.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CategorySuggestion {
    pub code: String,
    pub name: String,
    pub confidence: f32,
    /// The words that weighed most for it (the first proposal only).
    pub because: Vec<String>,
}

/// A recent ticket of the same caller.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CallerTicket {
    pub id: i64,
    pub number: String,
    pub title: String,
    pub state: TicketState,
    pub created_at: chrono::DateTime<Utc>,
    pub category_code: Option<String>,
    /// Text similarity to what is being taken now, 0..1.
    pub similarity: f32,
    /// Still open and alike: the caller is calling again about the same matter, which is
    /// merged into this ticket (`merge_into` at intake) rather than dispatched again.
    pub same_matter: bool,
}

/// An open ticket that looks like the same problem at the same place.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Duplicate {
    pub id: i64,
    pub number: String,
    pub title: String,
    pub state: TicketState,
    pub division_code: Option<String>,
    /// Text similarity, 0..1.
    pub score: f32,
}

/// A text to fill the intake form from.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtractInput {
    /// A call transcript or a long message (at most 20,000 characters).
    #[schema(max_length = 20000)]
    pub text: String,
}

/// What the text says, for the operator to confirm: the fields found and the division the
/// address resolves to.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Extracted {
    #[serde(flatten)]
    pub fields: mashangban_text::extract::Extraction,
    /// The division of the address, when the words fit one place.
    pub division: Option<Resolved>,
}

/// A first proposal less confident than this is no proposal but a question to the
/// operator: with calibrated confidences, below one half it is more likely wrong than right.
pub const UNCERTAIN_BELOW: f32 = 0.5;

/// How far back open tickets are compared for duplicates, in days.
pub const DUPLICATE_DAYS: i64 = 30;
/// Open tickets at the place compared at most (the newest).
const DUPLICATE_CANDIDATES: u32 = 60;
/// Texts at least this alike are proposed as the same problem.
const DUPLICATE_SCORE: f32 = 0.35;

/// Everything proposed for one intake.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Suggestion {
    pub categories: Vec<CategorySuggestion>,
    /// The first proposal's confidence is below [`UNCERTAIN_BELOW`]: the text does not say
    /// clearly enough which category it is, the operator or dispatcher decides (no unit is
    /// proposed from a guess).
    pub categories_uncertain: bool,
    pub division: Option<Resolved>,
    pub division_candidates: Vec<Resolved>,
    pub unit: Option<serde_json::Value>,
    pub tier: Option<u8>,
    /// Up to 5 of the newest 60 open tickets of the last 30 days at the same community (or
    /// street, when only that is known) whose text is alike, most alike first.
    pub duplicates: Vec<Duplicate>,
    pub caller_history: Vec<CallerTicket>,
    /// Up to 3 knowledge-base answers in force today that match the text (direct resolution).
    pub knowledge: Vec<crate::knowledge::KnowledgeMatch>,
    pub emergency: serde_json::Value,
    /// No model yet (train one: `mashangban classifier train`).
    pub model: Option<String>,
}

/// A gazetteer name as an administrator gives it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GazetteerInput {
    pub name: String,
    /// `road`, `compound` or `landmark`.
    pub kind: String,
    pub division_code: String,
}

/// What a city has on day one, as texts the classifier learns: each active leaf
/// category's name path, its description and each of its keywords (a short text of its
/// own: the machines must tell it apart by itself, so its characters weigh for the
/// category even where the tickets learned never used the word), and the questions of the
/// knowledge articles in force filed under it. Returns the texts, how many categories and
/// how many questions.
pub fn day_one_examples(
    r: &crate::Reference,
    articles: &[mashangban_domain::knowledge::Article],
    today: chrono::NaiveDate,
) -> (Vec<Example>, usize, usize) {
    let has_children: std::collections::HashSet<&str> = r
        .categories
        .values()
        .filter_map(|c| c.parent_code.as_deref())
        .collect();
    let is_leaf = |code: &str| {
        r.categories.get(code).is_some_and(|c| c.active) && !has_children.contains(code)
    };
    let mut out = Vec::new();
    let mut leaves: Vec<&mashangban_domain::Category> =
        r.categories.values().filter(|c| is_leaf(&c.code)).collect();
    leaves.sort_by(|a, b| a.code.cmp(&b.code));
    for c in &leaves {
        out.push(Example {
            title: c.name.clone(),
            body: r
                .category_path(&c.code)
                .unwrap_or_default()
                .replace(" / ", " "),
            label: c.code.clone(),
        });
        for text in std::iter::once(&c.description).chain(&c.keywords) {
            if !text.trim().is_empty() {
                out.push(Example {
                    title: String::new(),
                    body: text.clone(),
                    label: c.code.clone(),
                });
            }
        }
    }
    let mut questions = 0;
    for a in articles {
        if let Some(code) = &a.category_code
            && is_leaf(code)
            && a.in_force(today)
        {
            out.push(Example {
                title: a.question.clone(),
                body: a.keywords.join(" "),
                label: code.clone(),
            });
            questions += 1;
        }
    }
    (out, leaves.len(), questions)
}

impl App {
    /// The gazetteer: roads, compounds and landmarks mapped to divisions.
    pub async fn gazetteer(&self, _actor: &Actor) -> Result<Vec<GazetteerRow>, AppError> {
        Ok(self.store.gazetteer().await?)
    }

    /// Adds names (or changes what they map to), all or none; the address index takes them
    /// at once.
    pub async fn set_gazetteer(
        &self,
        actor: &Actor,
        input: Vec<GazetteerInput>,
    ) -> Result<usize, AppError> {
        require(actor, Permission::ManageReference)?;
        let r = self.reference().await?;
        let mut rows = Vec::with_capacity(input.len());
        for (i, g) in input.into_iter().enumerate() {
            let name = mashangban_text::normalize::compact(&g.name);
            let n = name.chars().count();
            if !(2..=16).contains(&n) {
                return Err(AppError::invalid(
                    format!("[{i}].name"),
                    "2 to 16 characters",
                ));
            }
            if EntryKind::parse(g.kind.trim()).is_none() {
                return Err(AppError::invalid(
                    format!("[{i}].kind"),
                    format!("`{}`: expected road, compound or landmark", g.kind),
                ));
            }
            let code = g.division_code.trim().to_string();
            if !r.divisions.contains_key(&code) {
                return Err(AppError::invalid(
                    format!("[{i}].division_code"),
                    format!("`{code}` is not a division"),
                ));
            }
            rows.push(GazetteerRow {
                id: 0,
                name,
                kind: g.kind.trim().to_string(),
                division_code: code,
            });
        }
        let n = self.store.upsert_gazetteer(&rows).await?;
        self.forget_text();
        Ok(n)
    }

    /// Removes a gazetteer name.
    pub async fn delete_gazetteer(&self, actor: &Actor, id: i64) -> Result<(), AppError> {
        require(actor, Permission::ManageReference)?;
        if !self.store.delete_gazetteer(id).await? {
            return Err(AppError::NotFound(format!("gazetteer name {id}")));
        }
        self.forget_text();
        Ok(())
    }

    fn forget_text(&self) {
        if let Ok(mut guard) = self.text.write() {
            *guard = None;
        }
    }

    /// The text features, cached; rebuilt when the divisions or the model change.
    pub async fn text(&self) -> Result<Arc<TextState>, AppError> {
        if let Ok(guard) = self.text.read()
            && let Some((at, _, t)) = guard.as_ref()
            && at.elapsed() < crate::REFERENCE_TTL
        {
            return Ok(t.clone());
        }
        // Stale: rebuilt only if the model changed meanwhile (another instance trained).
        let stamp = self.store.setting(MODEL_STAMP_SETTING).await?;
        if let Ok(mut guard) = self.text.write()
            && let Some((at, cached_stamp, t)) = guard.as_mut()
            && *cached_stamp == stamp
        {
            *at = std::time::Instant::now();
            return Ok(t.clone());
        }
        let divisions = self.store.list_divisions(None, None).await?;
        let places: Vec<Place> = divisions
            .into_iter()
            .filter_map(|d| {
                let level = Level::parse(d.level.as_str())?;
                Some(Place {
                    code: d.code,
                    name: d.name,
                    level,
                    parent_code: d.parent_code,
                })
            })
            .collect();
        let gazetteer: Vec<GazetteerEntry> = self
            .store
            .gazetteer()
            .await?
            .into_iter()
            .filter_map(|g| {
                Some(GazetteerEntry {
                    kind: EntryKind::parse(&g.kind)?,
                    name: g.name,
                    division_code: g.division_code,
                })
            })
            .collect();
        let address = AddressIndex::new(places, &gazetteer);
        let model = match self.store.setting(MODEL_SETTING).await? {
            Some(json) => match Model::from_json(&json) {
                Ok(m) => Some(Arc::new(m)),
                Err(e) => {
                    // An upgrade changed the model's format: train again in the background
                    // (once per instance); suggestions go without categories meanwhile.
                    tracing::warn!(error = %e, "stored classifier unreadable; training it again");
                    if !self
                        .retraining
                        .swap(true, std::sync::atomic::Ordering::SeqCst)
                    {
                        let app = self.clone();
                        tokio::spawn(async move {
                            match app.train_classifier(&crate::SERVER, TRAIN_LIMIT).await {
                                Ok(r) => {
                                    tracing::info!(tickets = r.tickets, "classifier trained again")
                                }
                                Err(e) => {
                                    tracing::error!(error = %e, "training the classifier again failed")
                                }
                            }
                        });
                    }
                    None
                }
            },
            None => None,
        };
        let t = Arc::new(TextState {
            address,
            model,
            model_stamp: stamp.clone(),
        });
        if let Ok(mut guard) = self.text.write() {
            *guard = Some((std::time::Instant::now(), stamp, t.clone()));
        }
        Ok(t)
    }

    /// Trains the classifier on the newest closed tickets (their final category; the
    /// operator's corrections are in it) and every active leaf category's name path, and
    /// keeps it for the suggestions.
    pub async fn train_classifier(
        &self,
        actor: &Actor,
        limit: usize,
    ) -> Result<TrainReport, AppError> {
        require(actor, Permission::Maintain)?;
        let started = std::time::Instant::now();
        let r = self.reference().await?;
        let mut examples = Vec::new();
        let closed = TicketFilter {
            states: vec![TicketState::Closed],
            ..Default::default()
        };
        self.each_ticket_page(closed, usize::MAX, |page| {
            for t in page {
                if let Some(code) = &t.category_code
                    && r.categories.get(code).is_some_and(|c| c.active)
                {
                    examples.push(Example {
                        title: t.title.clone(),
                        body: t.content.clone(),
                        label: code.clone(),
                    });
                }
            }
            examples.len() < limit
        })
        .await?;
        examples.truncate(limit);
        let tickets = examples.len();
        let articles = self.store.knowledge().await?;
        let (day_one, names, questions) =
            day_one_examples(&r, &articles, crate::catalogue::today());
        examples.extend(day_one);
        if examples.is_empty() {
            return Err(AppError::invalid(
                "categories",
                "there are no active categories to learn",
            ));
        }
        let model = tokio::task::spawn_blocking(move || {
            Model::train(&examples, &[], &TrainOptions::default())
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
        let report = TrainReport {
            tickets,
            category_names: names,
            knowledge_questions: questions,
            categories: model.labels.len(),
            features: model.grams.len(),
            seconds: started.elapsed().as_secs_f64(),
        };
        let now = Utc::now();
        self.store
            .set_setting(MODEL_SETTING, &model.to_json(), now)
            .await?;
        self.store
            .set_setting(
                MODEL_STAMP_SETTING,
                &format!("{} · {} tickets", now.format("%Y-%m-%dT%H:%M:%SZ"), tickets),
                now,
            )
            .await?;
        self.forget_text();
        Ok(report)
    }

    /// Form filling from free text (智能填单): the caller's name, phone numbers, the address
    /// of the problem and its division, when it happens and a title, nothing saved.
    pub async fn extract(&self, actor: &Actor, input: ExtractInput) -> Result<Extracted, AppError> {
        require(actor, Permission::SuggestRouting)?;
        if input.text.chars().count() > 20_000 {
            return Err(AppError::invalid("text", "at most 20000 characters"));
        }
        let fields = mashangban_text::extract::extract(&input.text);
        let division = match &fields.address {
            Some(a) => self.text().await?.address.resolve(a).best,
            None => None,
        };
        Ok(Extracted { fields, division })
    }

    /// Proposals for an intake in progress: categories, the place, the owning unit by the
    /// catalogue with its rule, the tier, the caller's recent tickets and the emergency flag.
    pub async fn suggest(
        &self,
        actor: &Actor,
        input: SuggestInput,
    ) -> Result<Suggestion, AppError> {
        require(actor, Permission::SuggestRouting)?;
        for (field, value, max) in [
            ("title", &input.title, 200),
            ("content", &input.content, 20_000),
            ("address", &input.address, 200),
            ("phone", &input.phone, 30),
        ] {
            if value.chars().count() > max {
                return Err(AppError::invalid(
                    field,
                    format!("at most {max} characters"),
                ));
            }
        }
        let text = self.text().await?;
        let r = self.reference().await?;
        let emergency: Emergency =
            mashangban_text::detect_emergency(&format!("{}。{}", input.title, input.content));
        let mut categories = Vec::new();
        if let Some(model) = &text.model
            && !(input.title.trim().is_empty() && input.content.trim().is_empty())
        {
            let p = model.predict(&input.title, &input.content);
            for (i, s) in p.ranked.iter().take(3).enumerate() {
                categories.push(CategorySuggestion {
                    code: s.label.clone(),
                    name: r.category_path(&s.label).unwrap_or_else(|| s.label.clone()),
                    confidence: (s.confidence * 1000.0).round() / 1000.0,
                    because: if i == 0 {
                        p.because.iter().map(|(w, _)| w.clone()).collect()
                    } else {
                        Vec::new()
                    },
                });
            }
        }
        let place = if input.address.trim().is_empty() {
            // No address said: the place may be in the text itself.
            text.address
                .resolve(&format!("{}{}", input.title, input.content))
        } else {
            text.address.resolve(&input.address)
        };
        // The unit and tier of the category chosen, else of the top proposal.
        let categories_uncertain = categories
            .first()
            .is_some_and(|c| c.confidence < UNCERTAIN_BELOW);
        let chosen = input.category_code.trim();
        let routed = if chosen.is_empty() {
            categories
                .first()
                .filter(|_| !categories_uncertain)
                .map(|c| c.code.clone())
        } else if r.categories.get(chosen).is_some_and(|c| c.active) {
            Some(chosen.to_string())
        } else {
            return Err(AppError::invalid(
                "category_code",
                format!("`{chosen}` is not a category"),
            ));
        };
        let (unit, tier) = match routed {
            Some(code) => {
                let division = place.best.as_ref().map(|b| b.code.as_str());
                let found = self
                    .catalogue_owner(actor, &code, division, crate::catalogue::today())
                    .await?;
                let tier = crate::catalogue::tier_for(&r, found.as_ref(), &code);
                let unit = found.map(|m| {
                    serde_json::json!({
                        "id": m.entry.unit_id,
                        "name": r.unit_name(m.entry.unit_id),
                        "rule": m.rule,
                        "entry_id": m.entry.id,
                    })
                });
                (unit, tier)
            }
            None => (None, None),
        };
        let phone = input.phone.trim();
        let asked = mashangban_text::similar::bag(&input.title, &input.content);
        let asked_empty = input.title.trim().is_empty() && input.content.trim().is_empty();
        let alike = |t: &Ticket| -> f32 {
            if asked_empty {
                return 0.0;
            }
            let score = mashangban_text::similar::cosine(
                &asked,
                &mashangban_text::similar::bag(&t.title, &t.content),
                &|_: &str| 1.0,
            );
            (score * 1000.0).round() / 1000.0
        };
        let caller_history = if crate::may(actor, mashangban_domain::Permission::SeeContacts)
            && phone.chars().filter(char::is_ascii_digit).count() >= 7
        {
            self.store
                .list_tickets(&TicketFilter {
                    citizen_phone: Some(phone.to_string()),
                    limit: 5,
                    ..Default::default()
                })
                .await?
                .into_iter()
                .map(|t| {
                    let similarity = alike(&t);
                    let same_matter = !t.state.is_terminal() && similarity >= DUPLICATE_SCORE;
                    CallerTicket {
                        similarity,
                        same_matter,
                        id: t.id,
                        number: t.number,
                        title: t.title,
                        state: t.state,
                        created_at: t.created_at,
                        category_code: t.category_code,
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        let duplicates = match place.best.as_ref().filter(|b| b.level >= Level::Street) {
            Some(b) if !(input.title.trim().is_empty() && input.content.trim().is_empty()) => {
                let open: Vec<TicketState> = TicketState::ALL
                    .iter()
                    .copied()
                    .filter(|s| !s.is_terminal())
                    .collect();
                let near = self
                    .store
                    .list_tickets(&TicketFilter {
                        states: open,
                        division_prefix: Some(b.code.clone()),
                        created_from: Some(Utc::now() - chrono::Duration::days(DUPLICATE_DAYS)),
                        limit: DUPLICATE_CANDIDATES,
                        ..Default::default()
                    })
                    .await?;
                let mut found: Vec<Duplicate> = near
                    .into_iter()
                    .filter_map(|t| {
                        let score = alike(&t);
                        (score >= DUPLICATE_SCORE).then_some(Duplicate {
                            id: t.id,
                            number: t.number,
                            title: t.title,
                            state: t.state,
                            division_code: t.division_code,
                            score,
                        })
                    })
                    .collect();
                found.sort_by(|a, b| b.score.total_cmp(&a.score).then(b.id.cmp(&a.id)));
                found.truncate(5);
                found
            }
            _ => Vec::new(),
        };
        let proposed: Vec<(String, f32)> = categories
            .iter()
            .map(|c| (c.code.clone(), c.confidence))
            .collect();
        let knowledge = self
            .propose_knowledge(&format!("{} {}", input.title, input.content), &proposed)
            .await?;
        Ok(Suggestion {
            duplicates,
            knowledge,
            categories,
            categories_uncertain,
            division: place.best,
            division_candidates: place.candidates,
            unit,
            tier,
            caller_history,
            emergency: serde_json::json!({
                "flag": emergency.flag,
                "transfer_to": emergency.transfer_to.map(|t| t.number()),
                "also": emergency.also.iter().map(|t| t.number()).collect::<Vec<_>>(),
                "signals": emergency.signals,
            }),
            model: text.model_stamp.clone(),
        })
    }
}

/// How the category proposed at intake compares with the category the tickets have now
/// (the operator's choice, or the dispatcher's correction).
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Feedback {
    pub from: chrono::DateTime<Utc>,
    pub to: chrono::DateTime<Utc>,
    /// Tickets received in the period (read up to [`FEEDBACK_SCAN`]).
    pub tickets: usize,
    /// Those taken while a proposal was shown.
    pub with_suggestion: usize,
    /// The proposal is the category now.
    pub agreed: usize,
    /// Another category now.
    pub changed: usize,
    /// No category yet.
    pub uncategorised: usize,
    /// agreed ÷ (agreed + changed); null without any.
    pub agreement: Option<f64>,
    /// The most frequent corrections, most first: proposed → chosen, with counts.
    pub corrections: Vec<Correction>,
    /// The period held more tickets than were read.
    pub truncated: bool,
}

/// One kind of correction of the proposal.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Correction {
    pub suggested: String,
    pub chosen: String,
    pub count: usize,
}

/// Tickets a feedback report reads at most.
pub const FEEDBACK_SCAN: usize = 200_000;

/// Tickets read per page by [`App::each_ticket_page`].
const PAGE: u32 = 500;

impl App {
    /// Reads the tickets `filter` selects, newest first, a page at a time, handing each
    /// page to `each` until it returns false or `max` tickets have been read. Returns true
    /// if it stopped at `max` with tickets left.
    pub(crate) async fn each_ticket_page(
        &self,
        mut filter: TicketFilter,
        max: usize,
        mut each: impl FnMut(&[Ticket]) -> bool,
    ) -> Result<bool, AppError> {
        filter.limit = PAGE;
        let mut read = 0usize;
        loop {
            let page = self.store.list_tickets(&filter).await?;
            let Some(last) = page.last() else {
                return Ok(false);
            };
            filter.before_id = Some(last.id);
            read += page.len();
            if !each(&page) || page.len() < PAGE as usize {
                return Ok(false);
            }
            if read >= max {
                return Ok(true);
            }
        }
    }

    /// The proposals made at intake against what the tickets were given, for the tickets
    /// received from `from` (a day in Asia/Shanghai or RFC 3339; default 30 days ago) to `to`
    /// (inclusive day; default now).
    pub async fn classifier_feedback(
        &self,
        actor: &Actor,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Feedback, AppError> {
        require(actor, Permission::ReadFigures)?;
        let to = match to.filter(|v| !v.trim().is_empty()) {
            Some(v) => crate::tickets::parse_time("to", v.trim(), true)?,
            None => Utc::now(),
        };
        let from = match from.filter(|v| !v.trim().is_empty()) {
            Some(v) => crate::tickets::parse_time("from", v.trim(), false)?,
            None => to - chrono::Duration::days(30),
        };
        if from >= to {
            return Err(AppError::invalid("from", "must be before `to`"));
        }
        let mut f = Feedback {
            from,
            to,
            ..Default::default()
        };
        let mut pairs: std::collections::HashMap<(String, String), usize> = Default::default();
        let period = TicketFilter {
            created_from: Some(from),
            created_to: Some(to),
            ..Default::default()
        };
        f.truncated = self
            .each_ticket_page(period, FEEDBACK_SCAN, |page| {
                for t in page {
                    f.tickets += 1;
                    let Some(s) = &t.suggested_category_code else {
                        continue;
                    };
                    f.with_suggestion += 1;
                    match &t.category_code {
                        None => f.uncategorised += 1,
                        Some(c) if c == s => f.agreed += 1,
                        Some(c) => {
                            f.changed += 1;
                            *pairs.entry((s.clone(), c.clone())).or_default() += 1;
                        }
                    }
                }
                true
            })
            .await?;
        let judged = f.agreed + f.changed;
        f.agreement = (judged > 0).then(|| f.agreed as f64 / judged as f64);
        let mut corrections: Vec<Correction> = pairs
            .into_iter()
            .map(|((suggested, chosen), count)| Correction {
                suggested,
                chosen,
                count,
            })
            .collect();
        corrections.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| (&a.suggested, &a.chosen).cmp(&(&b.suggested, &b.chosen)))
        });
        corrections.truncate(20);
        f.corrections = corrections;
        Ok(f)
    }
}
