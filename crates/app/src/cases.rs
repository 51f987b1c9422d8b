//! Typical cases (典型案例, 以宣促建): drafting a closed ticket's case without personal data,
//! its steps to the portal, and what the public reads of it. The rules of the steps are the
//! domain's (`mashangban_domain::cases`); the anonymiser is the text crate's.

use chrono::{DateTime, Utc};
use mashangban_domain::cases::{
    CaseRemoval, CaseState, CaseStep, CaseText, TypicalCase, step, street_level,
};
use mashangban_domain::notify::Audience;
use mashangban_domain::permission::{Permission, permits};
use mashangban_domain::{Actor, Ticket, TicketState};
use mashangban_store::{CaseChange, CaseFilter, NewNotice, StoreError, channel};
pub use mashangban_text::anonymise::{Anonymised, PersonalKind, Removal};
use mashangban_text::anonymise::{Options, anonymise};
use serde::{Deserialize, Serialize};

use crate::{App, AppError, require};

/// The longest text the anonymiser takes, in characters.
pub const ANONYMISE_MAX: usize = 20_000;

/// A text to take the personal data out of.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnonymiseInput {
    pub text: String,
    /// Also take the names of compounds, communities and villages down to `某小区`
    /// (a published case names its place to the street). Default false.
    #[serde(default)]
    pub generalise_places: bool,
}

/// Which cases to list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CaseQuery {
    /// `draft`, `submitted`, `published` or `unpublished` (the portal: published only).
    pub state: Option<String>,
    /// A category code: cases filed under it or below.
    pub category: Option<String>,
    /// Words in the title or the texts.
    pub q: Option<String>,
    /// 1 and up (20 cases a page).
    pub page: Option<u32>,
}

/// Cases a page.
pub const CASES_PER_PAGE: u32 = 20;

/// A page of cases.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CasePage<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

/// A case with its history, for the console.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseDetail {
    pub case: TypicalCase,
    pub history: Vec<CaseChange>,
    /// The ticket's number, for the editor to open it.
    pub ticket_number: String,
}

/// A step asked for over the API or the console.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseStepInput {
    /// The version the case was read at.
    pub version: i64,
    /// Why it is returned or taken down.
    pub note: Option<String>,
}

/// A revision of a case's texts.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseRevision {
    pub version: i64,
    pub title: String,
    pub request: String,
    pub handling: String,
    pub result: String,
}

/// What the public reads of a published case: the texts, where and by whom, when.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicCase {
    pub id: i64,
    pub title: String,
    pub request: String,
    pub handling: String,
    pub result: String,
    pub category_code: Option<String>,
    pub category_name: Option<String>,
    pub division_code: Option<String>,
    /// The district and street, as named (`城东区 东关大街街道`).
    pub place_name: Option<String>,
    pub unit_name: Option<String>,
    pub published_at: DateTime<Utc>,
}

fn may_read_cases(actor: &Actor) -> Result<(), AppError> {
    if permits(actor.role, Permission::EditCases) {
        return Ok(());
    }
    require(actor, Permission::ApproveCases)
}

fn page_of(q: &CaseQuery) -> u32 {
    q.page.unwrap_or(1).clamp(1, 10_000)
}

fn filter_of(q: &CaseQuery, state: Option<CaseState>) -> Result<CaseFilter, AppError> {
    if let Some(c) = &q.category
        && (c.is_empty() || c.len() > 12 || !c.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(AppError::invalid("category", "a category code (digits)"));
    }
    if q.q.as_ref().is_some_and(|w| w.chars().count() > 100) {
        return Err(AppError::invalid("q", "at most 100 characters"));
    }
    Ok(CaseFilter {
        state,
        category_prefix: q.category.clone(),
        words: q.q.clone(),
        limit: CASES_PER_PAGE,
        offset: (page_of(q) - 1) * CASES_PER_PAGE,
    })
}

/// Takes the personal data out of one part of a drafted case, noting each removal.
fn clean(field: &str, text: &str, options: &Options, removed: &mut Vec<CaseRemoval>) -> String {
    let Anonymised { text, removed: r } = anonymise(text, options);
    removed.extend(r.into_iter().map(|r| CaseRemoval {
        field: field.into(),
        kind: r.kind.as_str().into(),
        original: r.original,
        replacement: r.replacement,
    }));
    text
}

/// The draft of a closed ticket's case: its texts without personal data (the citizen's name
/// and phone wherever they appear, whatever else the anonymiser finds, places to the
/// street), and what was taken out.
pub fn draft_of(
    t: &Ticket,
    unit_name: Option<&str>,
    drafted_by: i64,
    at: DateTime<Utc>,
) -> TypicalCase {
    let mut known = Vec::new();
    if let Some(n) = &t.citizen.name {
        known.push((PersonalKind::Name, n.clone()));
    }
    if let Some(p) = &t.citizen.phone {
        known.push((PersonalKind::Phone, p.clone()));
    }
    let options = Options {
        generalise_places: true,
        known,
    };
    let mut removed = Vec::new();
    let title = clean("title", &t.title, &options, &mut removed);
    let request = clean("request", &t.content, &options, &mut removed);
    let handling_text = t.reply.as_deref().or(t.answer.as_deref()).unwrap_or("");
    let handling = clean("handling", handling_text, &options, &mut removed);
    let mut result = String::new();
    if let Some(closed) = t.closed_at {
        let day = mashangban_domain::aggregates::business_day(closed).format("%Y年%m月%d日");
        result.push_str(&match unit_name {
            Some(u) => format!("{u}于{day}办结。"),
            None => format!("于{day}办结。"),
        });
    }
    if let Some(cb) = &t.callback {
        result.push_str(&format!("回访：{}。", cb.said_zh()));
    }
    TypicalCase {
        id: 0,
        version: 0,
        ticket_id: t.id,
        state: CaseState::Draft,
        text: CaseText {
            title,
            request,
            handling,
            result,
        },
        category_code: t.category_code.clone(),
        division_code: street_level(t.division_code.as_deref()),
        unit_id: t.lead_unit_id,
        removed,
        note: None,
        drafted_by,
        drafted_at: at,
        submitted_by: None,
        approved_by: None,
        published_at: None,
    }
}

impl App {
    /// The anonymiser, for editors and anyone on the staff writing for the public (open to
    /// every signed-in user: it reads nothing stored).
    pub async fn anonymise(
        &self,
        _actor: &Actor,
        input: AnonymiseInput,
    ) -> Result<Anonymised, AppError> {
        if input.text.chars().count() > ANONYMISE_MAX {
            return Err(AppError::invalid(
                "text",
                format!("at most {ANONYMISE_MAX} characters"),
            ));
        }
        Ok(anonymise(
            &input.text,
            &Options {
                generalise_places: input.generalise_places,
                known: Vec::new(),
            },
        ))
    }

    /// Marks a closed ticket as a typical case: its draft, written by the system.
    pub async fn propose_case(
        &self,
        actor: &Actor,
        ticket_id: i64,
    ) -> Result<TypicalCase, AppError> {
        self.propose_case_at(actor, ticket_id, Utc::now()).await
    }

    pub async fn propose_case_at(
        &self,
        actor: &Actor,
        ticket_id: i64,
        at: DateTime<Utc>,
    ) -> Result<TypicalCase, AppError> {
        require(actor, Permission::EditCases)?;
        let t = self.visible_ticket(actor, ticket_id).await?;
        if !matches!(t.state, TicketState::Closed | TicketState::ResolvedDirectly) {
            return Err(AppError::IllegalTransition(format!(
                "ticket {} is {}: a typical case is made of a closed ticket",
                t.number,
                t.state.as_str()
            )));
        }
        if t.confidential {
            return Err(AppError::Conflict {
                code: "confidential",
                message: format!("ticket {} is confidential: it is not published", t.number),
            });
        }
        if let Some(c) = self.store.case_of_ticket(ticket_id).await? {
            return Err(AppError::Conflict {
                code: "case_exists",
                message: format!("ticket {} is already case {}", t.number, c.id),
            });
        }
        let r = self.reference().await?;
        let unit = t.lead_unit_id.and_then(|u| r.unit_name(u));
        let draft = draft_of(&t, unit, actor.user_id, at);
        match self
            .store
            .write_case(draft, Vec::new(), actor.user_id, at)
            .await
        {
            Err(StoreError::Duplicate { .. }) => Err(AppError::Conflict {
                code: "case_exists",
                message: format!("ticket {} is already a case", t.number),
            }),
            other => Ok(other?),
        }
    }

    /// Cases for the console, newest first.
    pub async fn cases(
        &self,
        actor: &Actor,
        q: &CaseQuery,
    ) -> Result<CasePage<TypicalCase>, AppError> {
        may_read_cases(actor)?;
        let state = match q.state.as_deref() {
            None | Some("") => None,
            Some(s) => Some(CaseState::parse(s).ok_or_else(|| {
                AppError::invalid("state", "draft, submitted, published or unpublished")
            })?),
        };
        let (items, total) = self.store.cases(&filter_of(q, state)?).await?;
        Ok(CasePage {
            items,
            total,
            page: page_of(q),
            per_page: CASES_PER_PAGE,
        })
    }

    /// One case with its history.
    pub async fn case(&self, actor: &Actor, id: i64) -> Result<CaseDetail, AppError> {
        may_read_cases(actor)?;
        let case = self.stored_case(id).await?;
        let history = self.store.case_history(id).await?;
        let ticket_number = self
            .store
            .get_ticket(case.ticket_id)
            .await?
            .map(|t| t.number)
            .unwrap_or_default();
        Ok(CaseDetail {
            case,
            history,
            ticket_number,
        })
    }

    /// The case made of a ticket, if any (for the ticket page of those who read cases).
    pub async fn case_of_ticket(
        &self,
        actor: &Actor,
        ticket_id: i64,
    ) -> Result<Option<TypicalCase>, AppError> {
        may_read_cases(actor)?;
        Ok(self.store.case_of_ticket(ticket_id).await?)
    }

    async fn stored_case(&self, id: i64) -> Result<TypicalCase, AppError> {
        self.store
            .case(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("typical case {id} not found")))
    }

    /// An editor rewrites a case's texts.
    pub async fn revise_case(
        &self,
        actor: &Actor,
        id: i64,
        revision: CaseRevision,
    ) -> Result<TypicalCase, AppError> {
        require(actor, Permission::EditCases)?;
        let text = CaseText {
            title: revision.title.trim().to_string(),
            request: revision.request.trim().to_string(),
            handling: revision.handling.trim().to_string(),
            result: revision.result.trim().to_string(),
        };
        self.take_step(
            actor,
            id,
            revision.version,
            CaseStep::Revise(text),
            Utc::now(),
        )
        .await
    }

    /// `submit`, `return`, `approve` or `unpublish`.
    pub async fn step_case(
        &self,
        actor: &Actor,
        id: i64,
        name: &str,
        input: CaseStepInput,
    ) -> Result<TypicalCase, AppError> {
        self.step_case_at(actor, id, name, input, Utc::now()).await
    }

    pub async fn step_case_at(
        &self,
        actor: &Actor,
        id: i64,
        name: &str,
        input: CaseStepInput,
        at: DateTime<Utc>,
    ) -> Result<TypicalCase, AppError> {
        let note = input.note.unwrap_or_default();
        let s = match name {
            "submit" => CaseStep::Submit,
            "return" => CaseStep::Return { note },
            "approve" => CaseStep::Approve,
            "unpublish" => CaseStep::Unpublish { reason: note },
            other => {
                return Err(AppError::NotFound(format!(
                    "no case step `{other}` (submit, return, approve, unpublish)"
                )));
            }
        };
        self.take_step(actor, id, input.version, s, at).await
    }

    async fn take_step(
        &self,
        actor: &Actor,
        id: i64,
        version: i64,
        s: CaseStep,
        at: DateTime<Utc>,
    ) -> Result<TypicalCase, AppError> {
        let editor = s.by_editor() && permits(actor.role, Permission::EditCases);
        let leader = s.by_leader() && permits(actor.role, Permission::ApproveCases);
        if !editor && !leader {
            let needs = if s.by_editor() {
                Permission::EditCases
            } else {
                Permission::ApproveCases
            };
            require(actor, needs)?;
        }
        let stored = self.stored_case(id).await?;
        if stored.version != version {
            return Err(AppError::Conflict {
                code: "stale",
                message: format!(
                    "case {id} changed since it was read (version {} now, {version} read)",
                    stored.version
                ),
            });
        }
        let published = matches!(s, CaseStep::Approve);
        let next = step(&stored, s, actor.user_id, at)?;
        let mut notices = Vec::new();
        if published && let Some(unit) = next.unit_id {
            let number = self
                .store
                .get_ticket(next.ticket_id)
                .await?
                .map(|t| (t.number, t.version))
                .unwrap_or_default();
            notices.push(NewNotice {
                event_seq: number.1,
                channel: channel::CONSOLE.into(),
                recipient: Audience::Unit(unit).key(),
                payload: serde_json::json!({
                    "text": format!("您单位办理的 {} 已作为典型案例发布：{}", number.0, next.text.title),
                    "ticket_id": next.ticket_id,
                    "number": number.0,
                    "event": "case_published",
                    "seq": number.1,
                })
                .to_string(),
                not_before: at,
            });
        }
        match self
            .store
            .write_case(next, notices, actor.user_id, at)
            .await
        {
            Err(StoreError::Conflict) => Err(AppError::Conflict {
                code: "stale",
                message: format!("case {id} changed since it was read"),
            }),
            other => Ok(other?),
        }
    }

    /// The published cases, for the portal and its feed (open to anyone).
    pub async fn public_cases(&self, q: &CaseQuery) -> Result<CasePage<PublicCase>, AppError> {
        let filter = filter_of(q, Some(CaseState::Published))?;
        let (items, total) = self.store.cases(&filter).await?;
        let r = self.reference().await?;
        Ok(CasePage {
            items: items.iter().filter_map(|c| public_case(&r, c)).collect(),
            total,
            page: page_of(q),
            per_page: CASES_PER_PAGE,
        })
    }

    /// The top-level categories of the published cases, with their names, for the
    /// portal's filter (open to anyone).
    pub async fn public_case_categories(&self) -> Result<Vec<(String, String)>, AppError> {
        let r = self.reference().await?;
        let mut out: Vec<(String, String)> = Vec::new();
        for code in self.store.published_case_categories().await? {
            let top: String = code.chars().take(2).collect();
            if out.iter().any(|(c, _)| *c == top) {
                continue;
            }
            if let Some(cat) = r.categories.get(&top) {
                out.push((top, cat.name.clone()));
            }
        }
        Ok(out)
    }

    /// Where citizens reach the portal (the feed's links are absolute).
    pub fn portal_url(&self) -> String {
        self.config.public_url.trim_end_matches('/').to_string()
    }

    /// One published case (open to anyone; any other is not found).
    pub async fn public_case(&self, id: i64) -> Result<PublicCase, AppError> {
        let missing = || AppError::NotFound(format!("typical case {id} not found"));
        let c = self.store.case(id).await?.ok_or_else(missing)?;
        let r = self.reference().await?;
        public_case(&r, &c).ok_or_else(missing)
    }
}

/// What the public reads of a case: only a published one, only its published texts.
fn public_case(r: &crate::Reference, c: &TypicalCase) -> Option<PublicCase> {
    if c.state != CaseState::Published {
        return None;
    }
    let place_name = c.division_code.as_deref().map(|code| {
        mashangban_domain::DivisionCode::new(code)
            .path()
            .filter_map(|p| r.divisions.get(p).cloned())
            .collect::<Vec<_>>()
            .join(" ")
    });
    Some(PublicCase {
        id: c.id,
        title: c.text.title.clone(),
        request: c.text.request.clone(),
        handling: c.text.handling.clone(),
        result: c.text.result.clone(),
        category_code: c.category_code.clone(),
        category_name: c
            .category_code
            .as_ref()
            .and_then(|code| r.categories.get(code))
            .map(|cat| cat.name.clone()),
        division_code: c.division_code.clone(),
        place_name,
        unit_name: c.unit_id.and_then(|u| r.unit_name(u)).map(str::to_string),
        published_at: c.published_at?,
    })
}
