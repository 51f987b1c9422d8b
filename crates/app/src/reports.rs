//! Reports as use cases: the daily report (工作日报) in the seed's own form, and the monthly
//! report (the KPI table and rankings of a month), from the evaluation aggregates.

use crate::kpis::{KpiTable, Period};
use crate::{App, AppError, Reference, require};
use chrono::{Datelike, NaiveDate};
use mashangban_domain::Channel;
use mashangban_domain::aggregates::Dim;
use mashangban_domain::kpi::Tally;
use mashangban_domain::kpi::{Kpis, kpis};
use mashangban_domain::report::{
    Handling, HotRules, channel_group, day_counts_of, handling, hot_issue_text, rank_issues,
};
use mashangban_domain::{Actor, Permission};
use serde::Serialize;
use std::collections::BTreeMap;

/// Requests of one channel on the day.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChannelCount {
    pub channel: Channel,
    pub name: String,
    pub group: mashangban_domain::report::ChannelGroup,
    pub requests: u64,
}

/// One hot issue, named.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HotIssueView {
    pub rank: usize,
    pub category_code: String,
    pub name: String,
    pub requests: u64,
    pub main_category_code: Option<String>,
    pub main_name: Option<String>,
    pub place_code: Option<String>,
    pub place_name: Option<String>,
    pub place_requests: Option<u64>,
    pub handling: Handling,
    pub unit_name: Option<String>,
    /// The issue in the report's words.
    pub text: String,
}

/// The daily report of one day.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DailyReport {
    pub date: NaiveDate,
    pub title: String,
    /// Requests received (all channels).
    pub requests: u64,
    /// Calls (来电: the hotline and the merged hotlines).
    pub calls: u64,
    /// Online messages (网民留言).
    pub online: u64,
    /// Other channels (grid workers, other).
    pub other: u64,
    pub by_channel: Vec<ChannelCount>,
    /// Of the day's requests, answered at intake (直接办理).
    pub direct: u64,
    /// Dispatched to units that day (转交责任单位办理).
    pub transferred: u64,
    /// Callbacks made that day (回访量).
    pub callbacks: u64,
    /// The day's callback figures and the rest.
    pub kpis: Kpis,
    /// The opening paragraph, as the seed writes it.
    pub summary: String,
    pub hot_issues: Vec<HotIssueView>,
}

/// The monthly report: the KPI tables of a month.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MonthlyReport {
    pub year: i32,
    pub month: u32,
    pub title: String,
    pub city: KpiTable,
    pub units: KpiTable,
    pub districts: KpiTable,
    pub categories: KpiTable,
    /// The monthly topics (每月一题) under way or closed in the month.
    pub topics: Vec<crate::topics::TopicReportLine>,
    /// The coming month's outlook (民情月历), as of the month's last day (or today).
    pub outlook: crate::seasonal::SeasonalOutlook,
}

/// "1月13日".
pub fn date_zh(d: NaiveDate) -> String {
    format!("{}月{}日", d.month(), d.day())
}

fn category_name(r: &Reference, code: &str) -> String {
    r.categories
        .get(code)
        .map(|c| c.name.clone())
        .unwrap_or_else(|| code.to_string())
}

fn place_name(r: &Reference, code: &str) -> String {
    r.division_path(code)
        .map(|p| p.replace(" / ", ""))
        .unwrap_or_else(|| code.to_string())
}

fn unit_name(r: &Reference, id: i64) -> String {
    r.unit_name(id)
        .map(str::to_string)
        .unwrap_or_else(|| format!("单位{id}"))
}

impl App {
    /// The daily report of a business day (Asia/Shanghai); `top` hot issues (default 5).
    pub async fn daily_report(
        &self,
        actor: &Actor,
        date: NaiveDate,
        top: Option<usize>,
    ) -> Result<DailyReport, AppError> {
        require(actor, Permission::ReadFigures)?;
        let r = self.reference().await?;
        let policy = self.kpi_policy(actor).await?;
        let rules = HotRules {
            top: top.unwrap_or(5),
            ..Default::default()
        };
        // The day's sums and its channels from the roll-ups; the fine rows only of the
        // busiest issue groups (a day of a large city has tens of thousands).
        let tally = self
            .store
            .kpi_tallies(Dim::City, date, date, false)
            .await?
            .into_iter()
            .fold(Tally::default(), |mut a, g| {
                a += g.tally;
                a
            });
        let by_channel: BTreeMap<Channel, u64> = self
            .store
            .kpi_tallies(Dim::Channel, date, date, false)
            .await?
            .into_iter()
            .filter_map(|g| Some((g.group.parse::<Channel>().ok()?, g.tally.requests)))
            .collect();
        let mut groups: Vec<(String, u64)> = self
            .store
            .kpi_issue_groups(date)
            .await?
            .into_iter()
            .filter(|g| g.tally.requests > 0)
            .map(|g| (g.group, g.tally.requests))
            .collect();
        groups.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        groups.truncate(rules.top);
        let groups: Vec<String> = groups.into_iter().map(|(g, _)| g).collect();
        let issues = self
            .store
            .kpi_issue_counts(date, &groups, rules.place_min)
            .await?;
        let kinds = r.channel_kinds();
        let c = day_counts_of(by_channel, tally, &kinds);
        let by_channel: Vec<ChannelCount> = c
            .by_channel
            .iter()
            .map(|(ch, n)| ChannelCount {
                channel: ch.clone(),
                name: r.channel_name(ch, false),
                group: kinds
                    .get(ch)
                    .map(|k| channel_group(*k))
                    .unwrap_or(mashangban_domain::report::ChannelGroup::Other),
                requests: *n,
            })
            .collect();
        let online_parts: Vec<String> = by_channel
            .iter()
            .filter(|c| c.group == mashangban_domain::report::ChannelGroup::Online)
            .map(|c| format!("{}{}件", c.name, c.requests))
            .collect();
        let mut summary = format!(
            "{}，12345政务服务便民热线接听群众来电诉求{}件次，网民留言{}件",
            date_zh(date),
            c.calls,
            c.online
        );
        if !online_parts.is_empty() {
            summary.push_str(&format!("（{}）", online_parts.join("，")));
        }
        if c.other > 0 {
            let parts: Vec<String> = by_channel
                .iter()
                .filter(|c| c.group == mashangban_domain::report::ChannelGroup::Other)
                .map(|c| format!("{}{}件", c.name, c.requests))
                .collect();
            summary.push_str(&format!("，其他渠道{}件（{}）", c.other, parts.join("，")));
        }
        summary.push_str(&format!(
            "；直接办理{}件，转交责任单位办理{}件；回访量{}件。",
            c.direct, c.transferred, c.callbacks
        ));
        let hot = rank_issues(issues, &rules)
            .into_iter()
            .enumerate()
            .map(|(i, issue)| {
                let how = handling(&issue, &rules, |u| r.units.get(&u).map(|x| x.kind));
                let text = hot_issue_text(
                    &issue,
                    &how,
                    &|code| category_name(&r, code),
                    &|code| place_name(&r, code),
                    &|u| unit_name(&r, u),
                );
                HotIssueView {
                    rank: i + 1,
                    name: category_name(&r, &issue.category_code),
                    category_code: issue.category_code.clone(),
                    requests: issue.requests,
                    main_name: issue.main.as_ref().map(|(c, _)| category_name(&r, c)),
                    main_category_code: issue.main.as_ref().map(|(c, _)| c.clone()),
                    place_name: issue.place.as_ref().map(|(c, _)| place_name(&r, c)),
                    place_code: issue.place.as_ref().map(|(c, _)| c.clone()),
                    place_requests: issue.place.as_ref().map(|(_, n)| *n),
                    unit_name: match how {
                        Handling::Unit(u) => Some(unit_name(&r, u)),
                        _ => None,
                    },
                    handling: how,
                    text: format!("{}. {text}", i + 1),
                }
            })
            .collect();
        Ok(DailyReport {
            date,
            title: "12345政务服务便民热线工作日报".to_string(),
            requests: c.tally.requests,
            calls: c.calls,
            online: c.online,
            other: c.other,
            by_channel,
            direct: c.direct,
            transferred: c.transferred,
            callbacks: c.callbacks,
            kpis: kpis(&c.tally, None, &policy),
            summary,
            hot_issues: hot,
        })
    }

    /// The monthly report: the city's figures and the rankings of units, districts and
    /// categories for a calendar month (to date, for the current month).
    pub async fn monthly_report(
        &self,
        actor: &Actor,
        year: i32,
        month: u32,
    ) -> Result<MonthlyReport, AppError> {
        require(actor, Permission::ReadFigures)?;
        let from = NaiveDate::from_ymd_opt(year, month, 1)
            .ok_or_else(|| AppError::invalid("month", format!("{year}-{month} is not a month")))?;
        let next = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)
        }
        .ok_or_else(|| AppError::invalid("month", "out of range"))?;
        let today = Period::month_to_date().to;
        let to = (next - chrono::Duration::days(1)).min(today.max(from));
        let period = Period::new(from, to)?;
        Ok(MonthlyReport {
            year,
            month,
            title: format!("{year}年{month}月12345政务服务便民热线考评通报"),
            city: self.kpi_table(actor, period, None).await?,
            units: self.kpi_table(actor, period, Some(Dim::Unit)).await?,
            districts: self.kpi_table(actor, period, Some(Dim::District)).await?,
            categories: self.kpi_table(actor, period, Some(Dim::CategoryL1)).await?,
            topics: self.topics_of_month(actor, from, to).await?,
            outlook: self.seasonal_outlook(actor, to).await?,
        })
    }
}
