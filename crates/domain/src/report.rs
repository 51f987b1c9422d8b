//! The daily report (工作日报) from one day's aggregate rows: calls and online messages by
//! channel, requests answered directly and transferred, callbacks, and the hot issues — the
//! busiest second-level categories, what they mostly concern, whether one place accounts for
//! many of them, and who was asked to handle them.

use crate::aggregates::FactKey;
use crate::channel::Channel;
use crate::kpi::Tally;
use crate::types::{ChannelKind, UnitKind};
use serde::Serialize;
use std::collections::BTreeMap;

/// How a channel is reported: a call (来电), an online message (网民留言), or other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelGroup {
    Call,
    Online,
    Other,
}

/// How a kind of channel is reported.
pub fn channel_group(kind: ChannelKind) -> ChannelGroup {
    match kind {
        ChannelKind::Phone => ChannelGroup::Call,
        ChannelKind::Online | ChannelKind::App => ChannelGroup::Online,
        ChannelKind::Exchange | ChannelKind::Other => ChannelGroup::Other,
    }
}

/// The kind of each channel (a channel not among them is reported as other).
pub type ChannelKinds = BTreeMap<Channel, ChannelKind>;

fn group_of(kinds: &ChannelKinds, c: &Channel) -> ChannelGroup {
    kinds
        .get(c)
        .map(|k| channel_group(*k))
        .unwrap_or(ChannelGroup::Other)
}

/// The counts of a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DayCounts {
    /// Requests received, by channel (channels without any left out).
    pub by_channel: BTreeMap<Channel, u64>,
    pub calls: u64,
    pub online: u64,
    pub other: u64,
    /// Of the day's requests, those answered at intake (直接办理).
    pub direct: u64,
    /// Dispatches to units made that day (转交责任单位办理).
    pub transferred: u64,
    pub callbacks: u64,
    /// Everything counted that day.
    pub tally: Tally,
}

/// Sums a day's rows.
pub fn day_counts(rows: &[(FactKey, Tally)], kinds: &ChannelKinds) -> DayCounts {
    let mut by_channel: BTreeMap<Channel, u64> = BTreeMap::new();
    let mut tally = Tally::default();
    for (k, t) in rows {
        tally += *t;
        if t.requests > 0 {
            *by_channel.entry(k.channel.clone()).or_default() += t.requests;
        }
    }
    day_counts_of(by_channel, tally, kinds)
}

/// A day's counts from its requests by channel and its whole tally.
pub fn day_counts_of(
    mut by_channel: BTreeMap<Channel, u64>,
    tally: Tally,
    kinds: &ChannelKinds,
) -> DayCounts {
    by_channel.retain(|_, n| *n > 0);
    let sum = |g: ChannelGroup| {
        by_channel
            .iter()
            .filter(|(c, _)| group_of(kinds, c) == g)
            .map(|(_, n)| n)
            .sum()
    };
    DayCounts {
        calls: sum(ChannelGroup::Call),
        online: sum(ChannelGroup::Online),
        other: sum(ChannelGroup::Other),
        by_channel,
        direct: tally.direct,
        transferred: tally.dispatches,
        callbacks: tally.callbacks,
        tally,
    }
}

/// When a hot issue names what it mostly concerns and where it concentrates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct HotRules {
    /// How many issues the report lists.
    pub top: usize,
    /// A third-level category is "mainly" reported at this share of the issue or above.
    pub main_share: f64,
    /// A place (community, or the finest division recorded) concentrates an issue with at
    /// least this many requests and this share of them.
    pub place_min: u64,
    pub place_share: f64,
    /// One unit is named as handling an issue at this share of its dispatches or above.
    pub unit_share: f64,
}

impl Default for HotRules {
    fn default() -> Self {
        HotRules {
            top: 5,
            main_share: 0.4,
            place_min: 3,
            place_share: 0.4,
            unit_share: 0.5,
        }
    }
}

/// One hot issue of a day.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct HotIssue {
    /// The second-level category (or the recorded one, if coarser).
    pub category_code: String,
    pub requests: u64,
    /// The third-level category most reported, if it makes up enough of the issue.
    pub main: Option<(String, u64)>,
    /// The place that concentrates the issue, if one does.
    pub place: Option<(String, u64)>,
    /// Units the day's dispatches of the issue went to, most first.
    pub units: Vec<(i64, u64)>,
    /// Of the issue's requests, those answered at intake.
    pub direct: u64,
}

/// The largest entry of a count map (ties: the smallest key).
fn top_of<K: Clone + Ord>(m: &BTreeMap<K, u64>) -> Option<(K, u64)> {
    m.iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(k, n)| (k.clone(), *n))
}

/// The group a category is reported under: its second-level category (or itself, if
/// coarser).
pub fn issue_group(category_code: &str) -> &str {
    crate::codes::CategoryCode::new(category_code)
        .at_level(2)
        .unwrap_or(category_code)
}

/// What a day holds of one issue group: its requests, those answered at intake, its
/// requests by third-level category and by place, and its dispatches by unit. Places may
/// leave out those with fewer than [`HotRules::place_min`] requests (none of them can
/// concentrate the issue).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssueCounts {
    pub group: String,
    pub requests: u64,
    pub direct: u64,
    pub leaves: BTreeMap<String, u64>,
    pub places: BTreeMap<String, u64>,
    pub units: BTreeMap<i64, u64>,
}

/// The issue groups of a day's rows.
pub fn issue_counts(rows: &[(FactKey, Tally)]) -> Vec<IssueCounts> {
    let mut groups: BTreeMap<String, IssueCounts> = BTreeMap::new();
    for (k, t) in rows {
        let Some(code) = k.category_code.as_deref() else {
            continue;
        };
        let group = issue_group(code).to_string();
        let a = groups.entry(group.clone()).or_insert_with(|| IssueCounts {
            group,
            ..Default::default()
        });
        a.requests += t.requests;
        a.direct += t.direct;
        if t.requests > 0 {
            if crate::codes::CategoryCode::new(code).is_leaf() {
                *a.leaves.entry(code.to_string()).or_default() += t.requests;
            }
            if let Some(place) = &k.division_code {
                *a.places.entry(place.clone()).or_default() += t.requests;
            }
        }
        if t.dispatches > 0
            && let Some(u) = k.unit_id
        {
            *a.units.entry(u).or_default() += t.dispatches;
        }
    }
    groups.into_values().collect()
}

/// The day's hot issues from its rows, busiest first (ties by code).
pub fn hot_issues(rows: &[(FactKey, Tally)], rules: &HotRules) -> Vec<HotIssue> {
    rank_issues(issue_counts(rows), rules)
}

/// The hot issues of a day's issue groups, busiest first (ties by code).
pub fn rank_issues(groups: Vec<IssueCounts>, rules: &HotRules) -> Vec<HotIssue> {
    let mut issues: Vec<HotIssue> = groups
        .into_iter()
        .filter(|a| a.requests > 0)
        .map(|a| {
            let share = |n: u64| n as f64 / a.requests as f64;
            let main = top_of(&a.leaves).filter(|(_, n)| share(*n) >= rules.main_share);
            let place = top_of(&a.places)
                .filter(|(_, n)| *n >= rules.place_min && share(*n) >= rules.place_share);
            let mut units: Vec<(i64, u64)> = a.units.into_iter().collect();
            units.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
            HotIssue {
                category_code: a.group,
                requests: a.requests,
                main,
                place,
                units,
                direct: a.direct,
            }
        })
        .collect();
    issues.sort_by(|a, b| {
        b.requests
            .cmp(&a.requests)
            .then(a.category_code.cmp(&b.category_code))
    });
    issues.truncate(rules.top);
    issues
}

/// Who the hotline asked to handle an issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", content = "unit_id", rename_all = "snake_case")]
pub enum Handling {
    /// One unit took enough of the dispatches to be named.
    Unit(i64),
    /// Several district or street governments (相应区县政府).
    Governments,
    /// Several units of other kinds (相关责任单位).
    Several,
    /// No dispatch, and some answered at intake (已直接解答).
    Direct,
    /// Nothing dispatched or answered yet.
    Pending,
}

/// Who handles an issue, given each unit's kind.
pub fn handling(
    issue: &HotIssue,
    rules: &HotRules,
    kind_of: impl Fn(i64) -> Option<UnitKind>,
) -> Handling {
    let total: u64 = issue.units.iter().map(|(_, n)| n).sum();
    match issue.units.first() {
        None if issue.direct > 0 => Handling::Direct,
        None => Handling::Pending,
        Some((u, n)) if *n as f64 / total as f64 >= rules.unit_share => Handling::Unit(*u),
        Some(_) => {
            let governments = issue.units.iter().all(|(u, _)| {
                matches!(
                    kind_of(*u),
                    Some(
                        UnitKind::DistrictGovernment | UnitKind::StreetOffice | UnitKind::Community
                    )
                )
            });
            if governments {
                Handling::Governments
            } else {
                Handling::Several
            }
        }
    }
}

/// A hot issue in the report's words: "道路交通秩序 37 件，主要反映违法停车问题，无集中反映地址，
/// 12345政务服务便民热线已及时联系西宁市公安交通管理局核实处理。"
pub fn hot_issue_text(
    issue: &HotIssue,
    handling: &Handling,
    category: &dyn Fn(&str) -> String,
    place: &dyn Fn(&str) -> String,
    unit: &dyn Fn(i64) -> String,
) -> String {
    let mut s = format!("{} {} 件", category(&issue.category_code), issue.requests);
    if let Some((leaf, _)) = &issue.main {
        s.push_str(&format!("，主要反映{}问题", category(leaf)));
    }
    match &issue.place {
        Some((code, n)) => s.push_str(&format!("，集中反映{}（{n} 件）", place(code))),
        None => s.push_str("，无集中反映地址"),
    }
    let hotline = "12345政务服务便民热线";
    match handling {
        Handling::Unit(u) => s.push_str(&format!("，{hotline}已及时联系{}核实处理。", unit(*u))),
        Handling::Governments => {
            s.push_str(&format!("，{hotline}已及时联系相应区县政府核实处理。"))
        }
        Handling::Several => s.push_str(&format!("，{hotline}已及时联系相关责任单位核实处理。")),
        Handling::Direct => s.push_str(&format!("，{hotline}已直接解答 {} 件。", issue.direct)),
        Handling::Pending => s.push_str("，正在派单处理。"),
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn row(
        category: &str,
        channel: Channel,
        place: &str,
        unit: Option<i64>,
        t: Tally,
    ) -> (FactKey, Tally) {
        (
            FactKey {
                day: NaiveDate::from_ymd_opt(2026, 1, 13).unwrap(),
                unit_id: unit,
                category_code: Some(category.into()),
                channel,
                division_code: Some(place.into()),
                line: None,
            },
            t,
        )
    }

    fn requests(n: u64) -> Tally {
        Tally {
            requests: n,
            ..Default::default()
        }
    }

    fn dispatches(n: u64) -> Tally {
        Tally {
            dispatches: n,
            ..Default::default()
        }
    }

    /// A day in the shape of the seed's 1 月 13 日.
    fn day() -> Vec<(FactKey, Tally)> {
        vec![
            // 道路交通秩序: 37, mostly illegal parking, spread out, all to the traffic police.
            row("020101", Channel::PHONE, "630102001001", None, requests(10)),
            row("020101", Channel::PHONE, "630102002001", None, requests(10)),
            row("020101", Channel::PHONE, "630103001001", None, requests(10)),
            row("020102", Channel::PHONE, "630104001001", None, requests(5)),
            row("020103", Channel::WECHAT, "630105001001", None, requests(2)),
            row(
                "020101",
                Channel::PHONE,
                "630102001001",
                Some(7),
                dispatches(30),
            ),
            // 住房与物业: 29, spread over places, to several district governments.
            row("010301", Channel::PHONE, "630102001001", None, requests(9)),
            row("010301", Channel::PHONE, "630103001001", None, requests(8)),
            row("010302", Channel::WEB, "630104001001", None, requests(6)),
            row("010303", Channel::WEB, "630105001001", None, requests(6)),
            row(
                "010301",
                Channel::PHONE,
                "630102001001",
                Some(21),
                dispatches(9),
            ),
            row(
                "010301",
                Channel::PHONE,
                "630103001001",
                Some(22),
                dispatches(8),
            ),
            row(
                "010302",
                Channel::PHONE,
                "630104001001",
                Some(23),
                dispatches(6),
            ),
            // 消费维权: 28, 12 of them at one community.
            row("040201", Channel::PHONE, "630104003002", None, requests(12)),
            row("040202", Channel::PHONE, "630102001001", None, requests(8)),
            row("040203", Channel::PHONE, "630103001001", None, requests(8)),
            // 办事咨询: 5, all answered at intake.
            (
                row("100101", Channel::PHONE, "630102001001", None, requests(5)).0,
                Tally {
                    requests: 5,
                    direct: 5,
                    finished: 5,
                    ..Default::default()
                },
            ),
            // Callbacks of earlier requests.
            (
                row(
                    "010101",
                    Channel::PHONE,
                    "630102001001",
                    Some(7),
                    Tally::default(),
                )
                .0,
                Tally {
                    callbacks: 87,
                    ..Default::default()
                },
            ),
        ]
    }

    fn kinds() -> ChannelKinds {
        [
            (Channel::PHONE, ChannelKind::Phone),
            (Channel::WEB, ChannelKind::Online),
            (Channel::WECHAT, ChannelKind::App),
        ]
        .into_iter()
        .collect()
    }

    #[test]
    fn counts_by_channel_group() {
        let c = day_counts(&day(), &kinds());
        assert_eq!(c.calls, 37 - 2 + 17 + 28 + 5);
        assert_eq!(c.online, 2 + 12);
        assert_eq!(c.other, 0);
        assert_eq!(c.by_channel[&Channel::WECHAT], 2);
        assert_eq!(c.by_channel[&Channel::WEB], 12);
        assert!(!c.by_channel.contains_key(&Channel::APP));
        assert_eq!(c.direct, 5);
        assert_eq!(c.transferred, 30 + 9 + 8 + 6);
        assert_eq!(c.callbacks, 87);
        assert_eq!(c.tally.requests, c.calls + c.online + c.other);
        // The same from the sums by channel.
        assert_eq!(day_counts_of(c.by_channel.clone(), c.tally, &kinds()), c);
        assert_eq!(issue_group("020101"), "0201");
        assert_eq!(issue_group("02"), "02");
    }

    #[test]
    fn hot_issues_in_the_seeds_form() {
        let rules = HotRules::default();
        let issues = hot_issues(&day(), &rules);
        let codes: Vec<(&str, u64)> = issues
            .iter()
            .map(|i| (i.category_code.as_str(), i.requests))
            .collect();
        assert_eq!(
            codes,
            vec![("0201", 37), ("0103", 29), ("0402", 28), ("1001", 5)]
        );
        let names = |c: &str| -> String {
            match c {
                "0201" => "道路交通秩序",
                "020101" => "违法停车",
                "0103" => "住房与物业",
                "010301" => "物业服务",
                "0402" => "消费维权",
                "040201" => "预付卡退费",
                "1001" => "办事咨询",
                "100101" => "政策咨询",
                other => other,
            }
            .to_string()
        };
        let place = |c: &str| format!("[{c}]");
        let unit = |u: i64| format!("单位{u}");
        let kinds = |u: i64| {
            Some(if u > 20 {
                UnitKind::DistrictGovernment
            } else {
                UnitKind::CityDepartment
            })
        };
        let text: Vec<String> = issues
            .iter()
            .map(|i| hot_issue_text(i, &handling(i, &rules, kinds), &names, &place, &unit))
            .collect();
        assert_eq!(
            text[0],
            "道路交通秩序 37 件，主要反映违法停车问题，无集中反映地址，12345政务服务便民热线已及时联系单位7核实处理。"
        );
        // 17 of 29 are 物业服务 (59 %): named; no place has 40 %; three district governments.
        assert_eq!(
            text[1],
            "住房与物业 29 件，主要反映物业服务问题，无集中反映地址，12345政务服务便民热线已及时联系相应区县政府核实处理。"
        );
        // 12 of 28 at one community (43 %): named; 预付卡退费 is 12/28 = 43 %: named too.
        assert_eq!(
            text[2],
            "消费维权 28 件，主要反映预付卡退费问题，集中反映[630104003002]（12 件），正在派单处理。"
        );
        assert_eq!(
            text[3],
            "办事咨询 5 件，主要反映政策咨询问题，集中反映[630102001001]（5 件），12345政务服务便民热线已直接解答 5 件。"
        );
        // Fewer issues when asked; a tie is broken by code.
        let two = hot_issues(
            &day(),
            &HotRules {
                top: 2,
                ..Default::default()
            },
        );
        assert_eq!(two.len(), 2);
    }

    #[test]
    fn places_below_the_minimum_can_be_left_out() {
        let rules = HotRules::default();
        let full = issue_counts(&day());
        let mut trimmed = full.clone();
        for g in &mut trimmed {
            g.places.retain(|_, n| *n >= rules.place_min);
        }
        assert_ne!(full, trimmed, "the day has places under the minimum");
        assert_eq!(rank_issues(full, &rules), rank_issues(trimmed, &rules));
    }

    #[test]
    fn who_handles_an_issue() {
        let rules = HotRules::default();
        let issue = |units: Vec<(i64, u64)>, direct: u64| HotIssue {
            category_code: "0101".into(),
            requests: 10,
            main: None,
            place: None,
            units,
            direct,
        };
        let city = |_: i64| Some(UnitKind::CityDepartment);
        assert_eq!(handling(&issue(vec![], 0), &rules, city), Handling::Pending);
        assert_eq!(handling(&issue(vec![], 2), &rules, city), Handling::Direct);
        assert_eq!(
            handling(&issue(vec![(3, 5), (4, 5)], 0), &rules, city),
            Handling::Unit(3),
            "half is enough"
        );
        assert_eq!(
            handling(&issue(vec![(3, 4), (4, 3), (5, 3)], 0), &rules, city),
            Handling::Several
        );
        let street = |_: i64| Some(UnitKind::StreetOffice);
        assert_eq!(
            handling(&issue(vec![(3, 4), (4, 3), (5, 3)], 0), &rules, street),
            Handling::Governments
        );
        assert_eq!(channel_group(ChannelKind::Other), ChannelGroup::Other);
        assert_eq!(channel_group(ChannelKind::Exchange), ChannelGroup::Other);
        assert_eq!(channel_group(ChannelKind::Phone), ChannelGroup::Call);
        assert_eq!(channel_group(ChannelKind::App), ChannelGroup::Online);
        assert_eq!(
            group_of(&kinds(), &Channel::new("douyin").unwrap()),
            ChannelGroup::Other
        );
    }
}
