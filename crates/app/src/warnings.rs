//! Early warning (预警), hot issues of live tickets (热点) and the volume forecast (预测):
//! the application side of `mashangban_domain::warning` and `::forecast`.

use crate::{App, AppError, require};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use mashangban_domain::aggregates::{Dim, ISSUE_ROLLUPS, business_day};
use mashangban_domain::forecast::{Backtest, ForecastDay, ForecastRules, forecast};
use mashangban_domain::report::issue_group;
use mashangban_domain::warning::{
    Finding, WarningKind, WarningRules, WarningStatus, cluster_level, mask_phone, repeat_level,
    surge,
};
use mashangban_domain::{Actor, Channel, Kind, Permission, Ticket};
pub use mashangban_store::Warning;
use mashangban_store::{NewNotice, TicketFilter, channel};
use mashangban_text::hotspots::{Hotspot, HotspotRules, Message, hotspots};
use serde::Serialize;
use sha2::Digest;
use std::collections::BTreeMap;

pub const WARNING_RULES_SETTING: &str = "warning_rules";

/// Recent tickets read for clusters and hot issues, at most.
pub const MAX_RECENT_TICKETS: usize = 5_000;

/// What one pass of the monitor found.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ScanReport {
    pub surges: usize,
    pub clusters: usize,
    pub repeat_callers: usize,
    /// Warnings new or worse, told to the supervisors and analysts.
    pub told: usize,
}

/// A problem many raise, from the tickets of the last days.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LiveHotIssue {
    pub rank: usize,
    pub heat: f64,
    pub requests: usize,
    pub people: usize,
    pub supervised: usize,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    pub place: Option<String>,
    pub description: String,
    pub keywords: Vec<String>,
    /// Its most common issue group (second-level category) and its name.
    pub category_code: Option<String>,
    pub category_name: Option<String>,
    /// The street, else the district, that holds at least half of its requests, if one
    /// does: the place a monthly topic taken from it is scoped to.
    pub division_code: Option<String>,
    /// Its tickets, oldest first.
    pub ticket_ids: Vec<i64>,
}

/// The forecast of one channel (or of all).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChannelForecast {
    /// None for all channels together.
    pub channel: Option<Channel>,
    pub name: String,
    /// Requests a day over the days the model was fitted on.
    pub recent_average: f64,
    pub days: Vec<ForecastDay>,
    pub backtest: Backtest,
}

/// The next days' volume for staffing.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VolumeForecast {
    /// The days of history read (both ends included); the last is the day before the first
    /// forecast day.
    pub history_from: NaiveDate,
    pub history_to: NaiveDate,
    pub rules: ForecastRules,
    pub total: ChannelForecast,
    pub channels: Vec<ChannelForecast>,
}

use mashangban_domain::aggregates::day_start;

fn date_zh(day: NaiveDate) -> String {
    use chrono::Datelike;
    format!("{}月{}日", day.month(), day.day())
}

impl App {
    /// The thresholds of the warnings in force.
    pub async fn warning_rules(&self, actor: &Actor) -> Result<WarningRules, AppError> {
        require(actor, Permission::ReadWarnings)?;
        self.stored_setting(WARNING_RULES_SETTING).await
    }

    /// Replaces the thresholds (checked first; fields left out keep their defaults).
    pub async fn set_warning_rules(
        &self,
        actor: &Actor,
        body: serde_json::Value,
    ) -> Result<WarningRules, AppError> {
        require(actor, Permission::ManagePolicies)?;
        let rules: WarningRules = crate::from_body(body)?;
        crate::checked(rules.check())?;
        self.store_setting(WARNING_RULES_SETTING, &rules).await?;
        Ok(rules)
    }

    /// Warnings, newest first: of one status or all.
    pub async fn warnings(
        &self,
        actor: &Actor,
        status: Option<WarningStatus>,
        limit: u32,
    ) -> Result<Vec<Warning>, AppError> {
        require(actor, Permission::ReadWarnings)?;
        Ok(self.store.list_warnings(status, None, limit).await?)
    }

    /// Marks a warning acknowledged, dismissed or open again.
    pub async fn handle_warning(
        &self,
        actor: &Actor,
        id: i64,
        status: WarningStatus,
        note: Option<String>,
    ) -> Result<Warning, AppError> {
        require(actor, Permission::HandleWarnings)?;
        let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
        if note.as_ref().is_some_and(|n| n.chars().count() > 500) {
            return Err(AppError::invalid("note", "at most 500 characters"));
        }
        match self
            .store
            .handle_warning(id, status, actor.user_id, note, Utc::now())
            .await
        {
            Err(mashangban_store::StoreError::NotFound { .. }) => {
                Err(AppError::NotFound(format!("warning {id} not found")))
            }
            other => Ok(other?),
        }
    }

    /// One pass of the early-warning monitor at `now`: surges of today so far against each
    /// series' own baseline, clusters at one place in the last days, repeat callers; each
    /// recorded, and told to supervisors and analysts when new or worse.
    pub async fn scan_warnings_at(
        &self,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<ScanReport, AppError> {
        require(actor, Permission::HandleWarnings)?;
        let rules = self.warning_rules(actor).await?;
        let mut report = ScanReport::default();
        let mut findings = self.surges(now, &rules).await?;
        report.surges = findings.len();
        let clusters = self.clusters(now, &rules).await?;
        report.clusters = clusters.len();
        findings.extend(clusters);
        let callers = self.repeat_callers(now, &rules).await?;
        report.repeat_callers = callers.len();
        findings.extend(callers);
        let reference = self.reference().await?;
        for f in findings {
            let text = format!(
                "【{}预警·{}】{}",
                f.level.label_zh(),
                f.kind.label_zh(),
                f.title
            );
            let mut notices: Vec<NewNotice> = ["role:supervisor", "role:analyst"]
                .into_iter()
                .map(|to| NewNotice {
                    event_seq: 0,
                    channel: channel::CONSOLE.into(),
                    recipient: to.into(),
                    payload: serde_json::json!({
                        "text": text,
                        "link": "/warnings",
                        "kind": f.kind,
                        "level": f.level,
                    })
                    .to_string(),
                    not_before: now,
                })
                .collect();
            notices.extend(crate::notify::warning_webhook_notices(&reference, &f, now));
            if self.store.record_warning(f, notices, now).await?.told {
                report.told += 1;
            }
        }
        Ok(report)
    }

    async fn surges(
        &self,
        now: DateTime<Utc>,
        rules: &WarningRules,
    ) -> Result<Vec<Finding>, AppError> {
        let r = self.reference().await?;
        let day = business_day(now);
        let from = day - Duration::days(rules.history_days as i64);
        // Each series: its counts from `from` to `day`, city-wide and per district.
        let width = rules.history_days + 1;
        let mut series: BTreeMap<(String, Option<String>), Vec<u64>> = BTreeMap::new();
        for (name, by_area) in [(ISSUE_ROLLUPS[0], false), (ISSUE_ROLLUPS[3], true)] {
            for g in self.store.kpi_issue_rollup(name, from, day).await? {
                let Some(d) = g.day else { continue };
                let i = (d - from).num_days();
                if !(0..width as i64).contains(&i) {
                    continue;
                }
                let key = if by_area {
                    match g.group.split_once('|') {
                        Some((group, area)) => (group.to_string(), Some(area.to_string())),
                        None => continue,
                    }
                } else {
                    (g.group.clone(), None)
                };
                series.entry(key).or_insert_with(|| vec![0; width])[i as usize] += g.tally.requests;
            }
        }
        let mut out = Vec::new();
        for ((group, area), counts) in series {
            let today = counts[width - 1];
            let Some(s) = surge(&r.calendar, day, &counts[..width - 1], today, rules) else {
                continue;
            };
            let group_name = r
                .categories
                .get(&group)
                .map(|c| c.name.clone())
                .unwrap_or_else(|| group.clone());
            let area_name = match &area {
                Some(a) => r.divisions.get(a).cloned().unwrap_or_else(|| a.clone()),
                None => "全市".to_string(),
            };
            let newest = self
                .store
                .list_tickets(&TicketFilter {
                    category_prefix: Some(group.clone()),
                    division_prefix: area.clone(),
                    created_from: Some(day_start(day)),
                    limit: 1,
                    ..Default::default()
                })
                .await?;
            let mut link = format!("/tickets?category={group}&created_from={day}&created_to={day}");
            if let Some(a) = &area {
                link.push_str(&format!("&division={a}"));
            }
            out.push(Finding {
                kind: WarningKind::Surge,
                key: format!("{group}|{}|{day}", area.as_deref().unwrap_or("city")),
                level: s.level,
                title: format!(
                    "{}{}“{}”诉求{}件，为预期{:.1}件的{:.1}倍",
                    date_zh(day),
                    area_name,
                    group_name,
                    s.observed,
                    s.expected,
                    s.ratio
                ),
                detail: serde_json::json!({
                    "day": day,
                    "category_code": group,
                    "category_name": group_name,
                    "division_code": area,
                    "division_name": area_name,
                    "observed": s.observed,
                    "expected": s.expected,
                    "ratio": s.ratio,
                    "p_value": s.p_value,
                    "history": counts[..width - 1],
                    "link": link,
                }),
                ticket_id: newest.first().map(|t| t.id),
            });
        }
        Ok(out)
    }

    /// The tickets received since `since`, newest first, at most `config.recent_tickets`.
    async fn recent_tickets(&self, since: DateTime<Utc>) -> Result<Vec<Ticket>, AppError> {
        let mut out: Vec<Ticket> = Vec::new();
        loop {
            let page = self
                .store
                .list_tickets(&TicketFilter {
                    created_from: Some(since),
                    before_id: out.last().map(|t| t.id),
                    limit: 500,
                    ..Default::default()
                })
                .await?;
            let n = page.len();
            out.extend(page);
            if n < 500 || out.len() >= self.config.recent_tickets {
                break;
            }
        }
        out.truncate(self.config.recent_tickets);
        Ok(out)
    }

    /// Problems many raise among the tickets of the `days` before `now`, hottest first.
    pub async fn live_hot_issues(
        &self,
        actor: &Actor,
        now: DateTime<Utc>,
        days: i64,
        top: usize,
    ) -> Result<Vec<LiveHotIssue>, AppError> {
        require(actor, Permission::ReadFigures)?;
        if !(1..=90).contains(&days) {
            return Err(AppError::invalid("days", "must be between 1 and 90"));
        }
        let r = self.reference().await?;
        let tickets = self.recent_tickets(now - Duration::days(days)).await?;
        let spots = spots_of(&tickets);
        Ok(spots
            .into_iter()
            .take(top)
            .enumerate()
            .map(|(i, h)| {
                let ids = ids_of(&h);
                let group = main_group(&tickets, &ids);
                LiveHotIssue {
                    rank: i + 1,
                    heat: h.heat,
                    requests: h.messages,
                    people: h.people,
                    supervised: h.supervised,
                    first_at: Utc
                        .timestamp_opt(h.first_at, 0)
                        .single()
                        .unwrap_or_default(),
                    last_at: Utc.timestamp_opt(h.last_at, 0).single().unwrap_or_default(),
                    place: h.place.clone(),
                    description: h.description.clone(),
                    keywords: h.keywords.clone(),
                    category_name: group
                        .as_ref()
                        .and_then(|g| r.categories.get(g))
                        .map(|c| c.name.clone()),
                    category_code: group,
                    division_code: main_place(&tickets, &ids),
                    ticket_ids: ids,
                }
            })
            .collect())
    }

    /// Clusters (同址聚集): requests of one issue group (second-level category) at one place
    /// — the community or street they were placed in, else a place their address names —
    /// within the last `cluster_days`, from several people.
    async fn clusters(
        &self,
        now: DateTime<Utc>,
        rules: &WarningRules,
    ) -> Result<Vec<Finding>, AppError> {
        let r = self.reference().await?;
        let since = now - Duration::days(rules.cluster_days);
        let tickets = self.recent_tickets(since).await?;
        // More requests in the window than the newest read: the communities and streets
        // with enough requests of an issue (from the roll-ups of the window's days) are
        // read whole, each on its own.
        let complete = tickets.len() < self.config.recent_tickets;
        let mut placed: Vec<Ticket> = Vec::new();
        if !complete {
            let mut sums: BTreeMap<String, u64> = BTreeMap::new();
            for g in self
                .store
                .kpi_issue_rollup(ISSUE_ROLLUPS[1], business_day(since), business_day(now))
                .await?
            {
                *sums.entry(g.group).or_default() += g.tally.requests;
            }
            for (key, n) in sums {
                let Some((group, place)) = key.split_once('|') else {
                    continue;
                };
                if n < rules.cluster_min_requests as u64 || place.len() < 9 {
                    continue;
                }
                let found = self
                    .store
                    .list_tickets(&TicketFilter {
                        category_prefix: Some(group.to_string()),
                        division_prefix: Some(place.to_string()),
                        created_from: Some(since),
                        limit: 1000,
                        ..Default::default()
                    })
                    .await?;
                placed.extend(
                    found
                        .into_iter()
                        .filter(|t| t.division_code.as_deref() == Some(place)),
                );
            }
        }
        // (place key, issue group) → its tickets, oldest first.
        let mut groups: BTreeMap<(String, String), Vec<&Ticket>> = BTreeMap::new();
        let divisions = |t: &&Ticket| t.division_code.as_deref().is_some_and(|d| d.len() >= 9);
        // The recent tickets; when they are not all, those placed in a community or street
        // come from their own reads instead.
        let mut all: Vec<&Ticket> = tickets
            .iter()
            .rev()
            .filter(|t| complete || !divisions(t))
            .collect();
        all.extend(placed.iter());
        all.sort_by_key(|t| t.id);
        for t in all.into_iter().filter(|t| a_problem(t)) {
            let Some(code) = t.category_code.as_deref() else {
                continue;
            };
            let place = match t.division_code.as_deref().filter(|d| d.len() >= 9) {
                Some(d) => d.to_string(),
                None => match t
                    .address
                    .as_deref()
                    .and_then(|a| mashangban_text::hotspots::places(a).into_iter().next())
                {
                    Some(p) => p,
                    None => continue,
                },
            };
            groups
                .entry((place, issue_group(code).to_string()))
                .or_default()
                .push(t);
        }
        let mut out = Vec::new();
        for ((place, group), ts) in groups {
            let mut people: Vec<String> = ts
                .iter()
                .map(|t| {
                    t.citizen
                        .phone
                        .clone()
                        .unwrap_or_else(|| format!("t{}", t.id))
                })
                .collect();
            people.sort();
            people.dedup();
            let Some(level) = cluster_level(ts.len(), people.len(), rules) else {
                continue;
            };
            let place_name = r.division_path(&place).unwrap_or_else(|| place.clone());
            let group_name = r
                .categories
                .get(&group)
                .map(|c| c.name.clone())
                .unwrap_or_else(|| group.clone());
            // The title most of them carry.
            let mut titles: BTreeMap<&str, usize> = BTreeMap::new();
            for t in &ts {
                *titles.entry(t.title.as_str()).or_default() += 1;
            }
            let title = titles
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map(|(t, _)| t.to_string())
                .unwrap_or_default();
            let ids: Vec<i64> = ts.iter().map(|t| t.id).collect();
            let numbers: Vec<&str> = ts.iter().map(|t| t.number.as_str()).collect();
            let (first, last) = (ts[0].created_at, ts[ts.len() - 1].created_at);
            out.push(Finding {
                kind: WarningKind::Cluster,
                key: format!("{place}|{group}"),
                level,
                title: format!(
                    "{place_name}{}天内{}人反映“{group_name}”问题{}件，如“{title}”",
                    rules.cluster_days,
                    people.len(),
                    ts.len()
                ),
                detail: serde_json::json!({
                    "place": place,
                    "place_name": place_name,
                    "category_code": group,
                    "category_name": group_name,
                    "example": title,
                    "requests": ts.len(),
                    "people": people.len(),
                    "first_at": first,
                    "last_at": last,
                    "ticket_ids": ids,
                    "ticket_numbers": numbers,
                }),
                ticket_id: ids.iter().max().copied(),
            });
        }
        Ok(out)
    }

    async fn repeat_callers(
        &self,
        now: DateTime<Utc>,
        rules: &WarningRules,
    ) -> Result<Vec<Finding>, AppError> {
        let since = now - Duration::days(rules.repeat_days);
        let min = u32::try_from(rules.repeat_min_requests).unwrap_or(u32::MAX);
        let mut out = Vec::new();
        for (phone, n) in self.store.repeat_callers(since, min, 200).await? {
            let Some(level) = repeat_level(n as usize, rules) else {
                continue;
            };
            let tickets = self
                .store
                .list_tickets(&TicketFilter {
                    citizen_phone: Some(phone.clone()),
                    created_from: Some(since),
                    limit: 100,
                    ..Default::default()
                })
                .await?;
            let masked = mask_phone(&phone);
            // The key must not show the number: a digest of it.
            let digest = hex::encode(sha2::Sha256::digest(phone.as_bytes()));
            let mut groups: BTreeMap<String, usize> = BTreeMap::new();
            for t in &tickets {
                if let Some(c) = &t.category_code {
                    *groups.entry(issue_group(c).to_string()).or_default() += 1;
                }
            }
            out.push(Finding {
                kind: WarningKind::RepeatCaller,
                key: digest[..24].to_string(),
                level,
                title: format!("来电号码{masked}近{}日反映诉求{n}件", rules.repeat_days),
                detail: serde_json::json!({
                    "phone": masked,
                    "requests": n,
                    "days": rules.repeat_days,
                    "categories": groups,
                    "ticket_ids": tickets.iter().map(|t| t.id).collect::<Vec<_>>(),
                    "ticket_numbers": tickets.iter().map(|t| t.number.as_str()).collect::<Vec<_>>(),
                }),
                ticket_id: tickets.first().map(|t| t.id),
            });
        }
        Ok(out)
    }

    /// The next `rules.horizon` days' requests by channel and in all, from the roll-ups of
    /// the days before today, with intervals and the back-tested error.
    pub async fn volume_forecast(
        &self,
        actor: &Actor,
        now: DateTime<Utc>,
        rules: ForecastRules,
    ) -> Result<VolumeForecast, AppError> {
        require(actor, Permission::ReadFigures)?;
        let r = self.reference().await?;
        let to = business_day(now) - Duration::days(1);
        let span = rules.history_days + rules.backtest_origins + rules.horizon;
        let from = to - Duration::days(span as i64 - 1);
        let mut by_channel: BTreeMap<Channel, Vec<u64>> = BTreeMap::new();
        let mut total = vec![0u64; span];
        for g in self.store.kpi_tallies(Dim::Channel, from, to, true).await? {
            let (Some(d), Ok(ch)) = (g.day, g.group.parse::<Channel>()) else {
                continue;
            };
            let i = (d - from).num_days();
            if !(0..span as i64).contains(&i) {
                continue;
            }
            by_channel.entry(ch).or_insert_with(|| vec![0; span])[i as usize] += g.tally.requests;
            total[i as usize] += g.tally.requests;
        }
        let one = |channel: Option<Channel>, counts: &[u64]| {
            let name = channel
                .as_ref()
                .map(|c| r.channel_name(c, false))
                .unwrap_or_else(|| "全部渠道".into());
            let f = forecast(&r.calendar, from, counts, &rules);
            let recent = &counts[counts.len().saturating_sub(rules.history_days)..];
            ChannelForecast {
                channel,
                name,
                recent_average: recent.iter().sum::<u64>() as f64 / recent.len().max(1) as f64,
                days: f.days,
                backtest: f.backtest,
            }
        };
        Ok(VolumeForecast {
            history_from: from,
            history_to: to,
            rules,
            total: one(None, &total),
            channels: by_channel
                .iter()
                .map(|(ch, counts)| one(Some(ch.clone()), counts))
                .collect(),
        })
    }
}

/// The hot-issue grouping of tickets (title and content; the caller's number tells people
/// apart; supervised tickets weigh more).
/// Whether a ticket reports a matter to watch: praise (表扬) is no problem, and never makes a
/// hot issue, a cluster or a repeat caller.
fn a_problem(t: &Ticket) -> bool {
    t.kind != Kind::Praise
}

fn spots_of(tickets: &[Ticket]) -> Vec<Hotspot> {
    let messages: Vec<Message> = tickets
        .iter()
        .rev()
        .filter(|t| a_problem(t))
        .map(|t| Message {
            id: t.id.to_string(),
            user: t
                .citizen
                .phone
                .clone()
                .or_else(|| Some(format!("t{}", t.id))),
            at: t.created_at.timestamp(),
            title: t.title.clone(),
            body: format!("{} {}", t.address.as_deref().unwrap_or(""), t.content),
            votes: 0,
            supervised: t.supervision.is_some(),
        })
        .collect();
    hotspots(&messages, &HotspotRules::default())
}

fn ids_of(h: &Hotspot) -> Vec<i64> {
    h.ids.iter().filter_map(|i| i.parse().ok()).collect()
}

/// The issue group most of these tickets are under.
fn main_group(tickets: &[Ticket], ids: &[i64]) -> Option<String> {
    let mut n: BTreeMap<&str, usize> = BTreeMap::new();
    for t in tickets.iter().filter(|t| ids.contains(&t.id)) {
        if let Some(c) = &t.category_code {
            *n.entry(issue_group(c)).or_default() += 1;
        }
    }
    n.into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
        .map(|(g, _)| g.to_string())
}

/// The street, else the district, of at least half of the tickets `ids`, if one is.
fn main_place(tickets: &[Ticket], ids: &[i64]) -> Option<String> {
    let chosen: Vec<&Ticket> = tickets.iter().filter(|t| ids.contains(&t.id)).collect();
    let codes = |level: fn(mashangban_domain::DivisionCode<'_>) -> Option<&str>| {
        let mut n: BTreeMap<String, usize> = BTreeMap::new();
        for t in &chosen {
            if let Some(c) = t
                .division_code
                .as_deref()
                .and_then(|d| level(mashangban_domain::DivisionCode::new(d)))
            {
                *n.entry(c.to_string()).or_default() += 1;
            }
        }
        n.into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
            .filter(|(_, k)| *k * 2 >= chosen.len())
            .map(|(c, _)| c)
    };
    codes(|d| d.street()).or_else(|| codes(|d| d.district()))
}

impl App {
    /// One warning.
    pub async fn warning(&self, actor: &Actor, id: i64) -> Result<Warning, AppError> {
        require(actor, Permission::ReadWarnings)?;
        self.store
            .get_warning(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("warning {id} not found")))
    }
}
