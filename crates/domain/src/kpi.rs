//! Evaluation figures (考评): the rates a unit, a place or a category is judged by, from
//! counts of what happened in a period; the combined score, the ranking with its zones, and
//! the change against the previous period in words ("两升一降").
//!
//! Definitions (rates are fractions 0..1, `None` when their denominator is 0):
//! - 万人诉求比 `requests_per_10k` = requests ÷ resident population × 10,000;
//! - 响应率 `response_rate` = callbacks where the citizen confirms timely contact ÷ callbacks
//!   that asked it;
//! - 解决率 `resolution_rate` = (resolved + w·partly resolved) ÷ callbacks that asked it
//!   (w = 0 by default);
//! - 满意率 `satisfaction_rate` = (satisfied + w·basically satisfied) ÷ callbacks (w = 0.6 by
//!   default, which gives Xining's published figures);
//!
//! A callback is an agent's (回访) or the citizen's own rating (一事一评: portal or SMS),
//! counted alike; a rating by SMS says only how satisfied, so it is left out of the first two
//! denominators. A citizen's bad rating judged unreasonable is counted apart
//! (`excluded_ratings`), not as a callback. [`Tally::of_source`] narrows the callbacks to one
//! source;
//! - 办结率 `completion_rate` = requests of the period finished ÷ requests;
//! - 按期办结率 `on_time_rate` = finished within their handling deadline ÷ finished with one;
//! - 退单率 `return_rate` = returns (退单) ÷ dispatches;
//! - 直接办结率 `direct_rate` = requests answered at intake ÷ requests;
//! - 答复质检问题率 `reply_flag_rate` = replies approved by the hotline in which the reply
//!   inspection found something ÷ replies approved after inspection (not in the score).

use serde::{Deserialize, Serialize};

/// What happened in a period, for one group (unit, place, category, channel or the city).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Tally {
    pub requests: u64,
    pub callbacks: u64,
    /// Callbacks where the citizen confirms timely contact.
    pub contacted: u64,
    pub resolved: u64,
    pub partly_resolved: u64,
    pub satisfied: u64,
    pub basically_satisfied: u64,
    /// Requests of the period finished (closed, answered at intake included).
    pub finished: u64,
    /// Finished with a handling deadline, and of those finished by it.
    pub finished_with_deadline: u64,
    pub finished_on_time: u64,
    pub dispatches: u64,
    pub returns: u64,
    /// Requests answered at intake (直接办结).
    pub direct: u64,
    /// Seconds from receipt to finish, summed over the finished requests.
    pub handling_seconds: u64,
    /// Supervisions raised (催办, 书面督办, 挂牌督办).
    pub supervisions: u64,
    /// Of the callbacks, the citizens' own ratings (一事一评, `source: citizen`), and their
    /// answers as above.
    pub citizen_callbacks: u64,
    pub citizen_contacted: u64,
    pub citizen_resolved: u64,
    pub citizen_partly_resolved: u64,
    pub citizen_satisfied: u64,
    pub citizen_basically_satisfied: u64,
    /// Callbacks that did not say whether the unit made contact, or whether the problem
    /// was solved (a rating by SMS says only how satisfied): left out of 响应率's and
    /// 解决率's denominators. Only citizens' ratings leave them unsaid.
    pub contact_unasked: u64,
    pub resolution_unasked: u64,
    /// Citizens' bad ratings the hotline judged unreasonable: counted here, not as callbacks.
    pub excluded_ratings: u64,
    /// Requests handed to another platform or an emergency line (转出): finished here, and
    /// counted apart.
    pub transferred_out: u64,
    /// Replies approved by the hotline that the reply inspection (答复质检) read, and of
    /// those the replies it found something in: counted for the unit whose reply it was.
    pub replies_inspected: u64,
    pub replies_flagged: u64,
}

/// The tally's counts, in the order of [`Tally::FIELDS`].
impl Tally {
    /// The names of the counts, as the aggregate tables' columns are named.
    pub const FIELDS: [&'static str; Tally::LEN] = [
        "requests",
        "callbacks",
        "contacted",
        "resolved",
        "partly_resolved",
        "satisfied",
        "basically_satisfied",
        "finished",
        "finished_with_deadline",
        "finished_on_time",
        "dispatches",
        "returns",
        "direct",
        "handling_seconds",
        "supervisions",
        "citizen_callbacks",
        "citizen_contacted",
        "citizen_resolved",
        "citizen_partly_resolved",
        "citizen_satisfied",
        "citizen_basically_satisfied",
        "contact_unasked",
        "resolution_unasked",
        "excluded_ratings",
        "transferred_out",
        "replies_inspected",
        "replies_flagged",
    ];

    /// How many counts a tally holds.
    pub const LEN: usize = 27;

    /// The counts in the order of [`Tally::FIELDS`].
    pub fn values(&self) -> [u64; Tally::LEN] {
        [
            self.requests,
            self.callbacks,
            self.contacted,
            self.resolved,
            self.partly_resolved,
            self.satisfied,
            self.basically_satisfied,
            self.finished,
            self.finished_with_deadline,
            self.finished_on_time,
            self.dispatches,
            self.returns,
            self.direct,
            self.handling_seconds,
            self.supervisions,
            self.citizen_callbacks,
            self.citizen_contacted,
            self.citizen_resolved,
            self.citizen_partly_resolved,
            self.citizen_satisfied,
            self.citizen_basically_satisfied,
            self.contact_unasked,
            self.resolution_unasked,
            self.excluded_ratings,
            self.transferred_out,
            self.replies_inspected,
            self.replies_flagged,
        ]
    }

    /// A tally from counts in the order of [`Tally::FIELDS`]; a negative count (which only
    /// a damaged aggregate can hold) reads as 0.
    pub fn from_values(v: [i64; Tally::LEN]) -> Tally {
        let c = |i: usize| u64::try_from(v[i]).unwrap_or(0);
        Tally {
            requests: c(0),
            callbacks: c(1),
            contacted: c(2),
            resolved: c(3),
            partly_resolved: c(4),
            satisfied: c(5),
            basically_satisfied: c(6),
            finished: c(7),
            finished_with_deadline: c(8),
            finished_on_time: c(9),
            dispatches: c(10),
            returns: c(11),
            direct: c(12),
            handling_seconds: c(13),
            supervisions: c(14),
            citizen_callbacks: c(15),
            citizen_contacted: c(16),
            citizen_resolved: c(17),
            citizen_partly_resolved: c(18),
            citizen_satisfied: c(19),
            citizen_basically_satisfied: c(20),
            contact_unasked: c(21),
            resolution_unasked: c(22),
            excluded_ratings: c(23),
            transferred_out: c(24),
            replies_inspected: c(25),
            replies_flagged: c(26),
        }
    }

    /// The tally with its callbacks narrowed to one source: the citizens' own ratings, or
    /// the agents' callbacks (the rest); none: all of them. The other counts stay.
    pub fn of_source(&self, source: Option<crate::types::RatingSource>) -> Tally {
        use crate::types::RatingSource;
        let mut t = *self;
        match source {
            None => {}
            Some(RatingSource::Citizen) => {
                t.callbacks = self.citizen_callbacks;
                t.contacted = self.citizen_contacted;
                t.resolved = self.citizen_resolved;
                t.partly_resolved = self.citizen_partly_resolved;
                t.satisfied = self.citizen_satisfied;
                t.basically_satisfied = self.citizen_basically_satisfied;
            }
            Some(RatingSource::Agent) => {
                let less = |a: u64, b: u64| a.saturating_sub(b);
                t.callbacks = less(self.callbacks, self.citizen_callbacks);
                t.contacted = less(self.contacted, self.citizen_contacted);
                t.resolved = less(self.resolved, self.citizen_resolved);
                t.partly_resolved = less(self.partly_resolved, self.citizen_partly_resolved);
                t.satisfied = less(self.satisfied, self.citizen_satisfied);
                t.basically_satisfied =
                    less(self.basically_satisfied, self.citizen_basically_satisfied);
                t.citizen_callbacks = 0;
                t.citizen_contacted = 0;
                t.citizen_resolved = 0;
                t.citizen_partly_resolved = 0;
                t.citizen_satisfied = 0;
                t.citizen_basically_satisfied = 0;
                t.contact_unasked = 0;
                t.resolution_unasked = 0;
                t.excluded_ratings = 0;
            }
        }
        t
    }
}

impl std::ops::AddAssign for Tally {
    fn add_assign(&mut self, o: Tally) {
        self.requests += o.requests;
        self.callbacks += o.callbacks;
        self.contacted += o.contacted;
        self.resolved += o.resolved;
        self.partly_resolved += o.partly_resolved;
        self.satisfied += o.satisfied;
        self.basically_satisfied += o.basically_satisfied;
        self.finished += o.finished;
        self.finished_with_deadline += o.finished_with_deadline;
        self.finished_on_time += o.finished_on_time;
        self.dispatches += o.dispatches;
        self.returns += o.returns;
        self.direct += o.direct;
        self.handling_seconds += o.handling_seconds;
        self.supervisions += o.supervisions;
        self.citizen_callbacks += o.citizen_callbacks;
        self.citizen_contacted += o.citizen_contacted;
        self.citizen_resolved += o.citizen_resolved;
        self.citizen_partly_resolved += o.citizen_partly_resolved;
        self.citizen_satisfied += o.citizen_satisfied;
        self.citizen_basically_satisfied += o.citizen_basically_satisfied;
        self.contact_unasked += o.contact_unasked;
        self.resolution_unasked += o.resolution_unasked;
        self.excluded_ratings += o.excluded_ratings;
        self.transferred_out += o.transferred_out;
        self.replies_inspected += o.replies_inspected;
        self.replies_flagged += o.replies_flagged;
    }
}

/// The configurable parts of the formulas and of the combined score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct KpiPolicy {
    /// Weight of a partly resolved callback in 解决率.
    pub partly_resolved_weight: f64,
    /// Weight of a basically satisfied callback in 满意率.
    pub basically_satisfied_weight: f64,
    /// Weights of the rates in the combined score (a rate without data is left out and
    /// the others share its weight).
    pub score_weights: ScoreWeights,
    /// Share of the ranked groups in the blue zone (best) and in the red zone (worst); the
    /// rest are yellow.
    pub blue_share: f64,
    pub red_share: f64,
}

impl Default for KpiPolicy {
    fn default() -> Self {
        KpiPolicy {
            partly_resolved_weight: 0.0,
            basically_satisfied_weight: 0.6,
            score_weights: ScoreWeights::default(),
            blue_share: 0.2,
            red_share: 0.2,
        }
    }
}

/// Weights of the rates in the combined score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ScoreWeights {
    pub response: f64,
    pub resolution: f64,
    pub satisfaction: f64,
    pub on_time: f64,
    pub completion: f64,
}

impl Default for ScoreWeights {
    fn default() -> Self {
        ScoreWeights {
            response: 0.2,
            resolution: 0.3,
            satisfaction: 0.3,
            on_time: 0.1,
            completion: 0.1,
        }
    }
}

impl KpiPolicy {
    /// Refuses weights that cannot be meant: negative, above 1 for the callback weights,
    /// shares that overlap, or a score of no weight at all.
    pub fn check(&self) -> Result<(), String> {
        let w = &self.score_weights;
        let unit = |name: &str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(format!("{name} must be between 0 and 1, not {v}"))
            }
        };
        unit("partly_resolved_weight", self.partly_resolved_weight)?;
        unit(
            "basically_satisfied_weight",
            self.basically_satisfied_weight,
        )?;
        unit("blue_share", self.blue_share)?;
        unit("red_share", self.red_share)?;
        if self.blue_share + self.red_share > 1.0 {
            return Err("blue_share and red_share together must not exceed 1".into());
        }
        for (name, v) in [
            ("score_weights.response", w.response),
            ("score_weights.resolution", w.resolution),
            ("score_weights.satisfaction", w.satisfaction),
            ("score_weights.on_time", w.on_time),
            ("score_weights.completion", w.completion),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!("{name} must be 0 or more, not {v}"));
            }
        }
        if w.response + w.resolution + w.satisfaction + w.on_time + w.completion <= 0.0 {
            return Err("score_weights: at least one weight must be above 0".into());
        }
        Ok(())
    }
}

/// The figures of one group.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Kpis {
    pub requests: u64,
    pub callbacks: u64,
    /// Of the callbacks, the citizens' own ratings (一事一评).
    pub citizen_ratings: u64,
    /// Citizens' bad ratings judged unreasonable, left out of the rates.
    pub excluded_ratings: u64,
    /// Requests handed to another platform (转出), counted apart from every rate.
    pub transferred_out: u64,
    pub requests_per_10k: Option<f64>,
    pub response_rate: Option<f64>,
    pub resolution_rate: Option<f64>,
    pub satisfaction_rate: Option<f64>,
    pub completion_rate: Option<f64>,
    pub on_time_rate: Option<f64>,
    pub return_rate: Option<f64>,
    pub direct_rate: Option<f64>,
    /// Average seconds from receipt to finish.
    pub average_handling_seconds: Option<f64>,
    pub supervisions: u64,
    /// 答复质检问题率: of the replies the hotline approved after inspecting them, the share
    /// in which the inspection found something (advice the reviewer saw; not in the score).
    pub reply_flag_rate: Option<f64>,
    /// The combined score, 0..100.
    pub score: Option<f64>,
}

fn ratio(n: f64, d: u64) -> Option<f64> {
    (d > 0).then(|| n / d as f64)
}

/// The figures of a tally; `population` is the group's resident population, if known.
pub fn kpis(t: &Tally, population: Option<u64>, p: &KpiPolicy) -> Kpis {
    let response_rate = ratio(
        t.contacted as f64,
        t.callbacks.saturating_sub(t.contact_unasked),
    );
    let resolution_rate = ratio(
        t.resolved as f64 + p.partly_resolved_weight * t.partly_resolved as f64,
        t.callbacks.saturating_sub(t.resolution_unasked),
    );
    let satisfaction_rate = ratio(
        t.satisfied as f64 + p.basically_satisfied_weight * t.basically_satisfied as f64,
        t.callbacks,
    );
    let completion_rate = ratio(t.finished as f64, t.requests);
    let on_time_rate = ratio(t.finished_on_time as f64, t.finished_with_deadline);
    let w = &p.score_weights;
    let parts = [
        (w.response, response_rate),
        (w.resolution, resolution_rate),
        (w.satisfaction, satisfaction_rate),
        (w.on_time, on_time_rate),
        (w.completion, completion_rate),
    ];
    let (sum, weight) = parts
        .iter()
        .filter_map(|(w, r)| r.map(|r| (w * r, *w)))
        .fold((0.0, 0.0), |(s, ws), (v, w)| (s + v, ws + w));
    Kpis {
        requests: t.requests,
        callbacks: t.callbacks,
        citizen_ratings: t.citizen_callbacks,
        excluded_ratings: t.excluded_ratings,
        transferred_out: t.transferred_out,
        requests_per_10k: population
            .filter(|p| *p > 0)
            .map(|pop| t.requests as f64 / pop as f64 * 10_000.0),
        response_rate,
        resolution_rate,
        satisfaction_rate,
        completion_rate,
        on_time_rate,
        return_rate: ratio(t.returns as f64, t.dispatches),
        direct_rate: ratio(t.direct as f64, t.requests),
        average_handling_seconds: ratio(t.handling_seconds as f64, t.finished),
        supervisions: t.supervisions,
        reply_flag_rate: ratio(t.replies_flagged as f64, t.replies_inspected),
        score: (weight > 0.0).then(|| sum / weight * 100.0),
    }
}

/// A ranking zone: blue the best, red the worst (红黄蓝).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Zone {
    Blue,
    Yellow,
    Red,
}

/// The score a group is ranked by: none when nothing was asked of it in the period (no
/// request received, nothing dispatched to it), however its older tickets' callbacks or
/// replies went — a unit with nothing to judge is unranked, not best.
pub fn ranking_score(k: &Kpis, t: &Tally) -> Option<f64> {
    if t.requests == 0 && t.dispatches == 0 {
        None
    } else {
        k.score
    }
}

/// Ranks groups by score, best first (ties share a rank and keep the given order); groups
/// without a score come last, unranked and unzoned. Returns `(index into scores, rank,
/// zone)`.
pub fn rank(scores: &[Option<f64>], p: &KpiPolicy) -> Vec<(usize, Option<u32>, Option<Zone>)> {
    let mut scored: Vec<(usize, f64)> = scores
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.map(|s| (i, s)))
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let n = scored.len();
    let blue = (n as f64 * p.blue_share).round() as usize;
    let red = (n as f64 * p.red_share).round() as usize;
    let mut out = Vec::with_capacity(scores.len());
    let mut rank = 0u32;
    let mut previous: Option<f64> = None;
    for (place, (i, s)) in scored.iter().enumerate() {
        if previous != Some(*s) {
            rank = place as u32 + 1;
        }
        previous = Some(*s);
        // A tie at a zone's edge takes the better zone for all who share it.
        let first_place = rank as usize - 1;
        let zone = if first_place < blue {
            Zone::Blue
        } else if first_place >= n - red {
            Zone::Red
        } else {
            Zone::Yellow
        };
        out.push((*i, Some(rank), Some(zone)));
    }
    out.extend(
        scores
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_none())
            .map(|(i, _)| (i, None, None)),
    );
    out
}

/// The change of the three callback rates (响应率, 解决率, 满意率) against the previous
/// period in the words of a report: "响应率、满意率上升，解决率下降（两升一降）". Rates without
/// data in either period are left out; a change under half a point is "持平".
pub fn trend_words(now: &Kpis, before: &Kpis) -> Option<String> {
    let rates = [
        ("响应率", now.response_rate, before.response_rate),
        ("解决率", now.resolution_rate, before.resolution_rate),
        ("满意率", now.satisfaction_rate, before.satisfaction_rate),
    ];
    let (mut up, mut down, mut flat) = (Vec::new(), Vec::new(), Vec::new());
    for (name, a, b) in rates {
        let (Some(a), Some(b)) = (a, b) else { continue };
        let d = (a - b) * 100.0;
        if d >= 0.5 {
            up.push(name);
        } else if d <= -0.5 {
            down.push(name);
        } else {
            flat.push(name);
        }
    }
    if up.is_empty() && down.is_empty() && flat.is_empty() {
        return None;
    }
    let count = |n: usize| ["零", "一", "两", "三"][n.min(3)];
    let mut clauses = Vec::new();
    let mut summary = String::new();
    for (names, verb, short) in [
        (&up, "上升", "升"),
        (&down, "下降", "降"),
        (&flat, "持平", "平"),
    ] {
        if names.is_empty() {
            continue;
        }
        clauses.push(format!("{}{verb}", names.join("、")));
        summary.push_str(count(names.len()));
        summary.push_str(short);
    }
    Some(format!("{}（{summary}）", clauses.join("，")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn callbacks(contacted: u64, res: (u64, u64, u64), sat: (u64, u64, u64)) -> Tally {
        Tally {
            callbacks: res.0 + res.1 + res.2,
            contacted,
            resolved: res.0,
            partly_resolved: res.1,
            satisfied: sat.0,
            basically_satisfied: sat.1,
            ..Default::default()
        }
    }

    #[test]
    fn xining_satisfaction_is_reproduced() {
        // 614 satisfied, 34 basically satisfied, 22 dissatisfied → 94.69 %.
        let t = callbacks(670, (670, 0, 0), (614, 34, 22));
        let k = kpis(&t, None, &KpiPolicy::default());
        assert_eq!(
            format!("{:.2}", k.satisfaction_rate.unwrap() * 100.0),
            "94.69"
        );
        // With basically satisfied not counted: 614 / 670.
        let strict = KpiPolicy {
            basically_satisfied_weight: 0.0,
            ..Default::default()
        };
        let k = kpis(&t, None, &strict);
        assert!((k.satisfaction_rate.unwrap() - 614.0 / 670.0).abs() < 1e-12);
    }

    #[test]
    fn citizens_ratings_count_as_callbacks_and_narrow_by_source() {
        // 10 agents' callbacks (8 contacted, 6 resolved, 7 satisfied) and 4 citizens' ratings:
        // 2 on the portal (1 contacted, 1 resolved, 1 satisfied, 1 basically) and 2 by SMS
        // (1 satisfied), which ask neither contact nor resolution; 1 excluded.
        let t = Tally {
            callbacks: 14,
            contacted: 9,
            resolved: 7,
            satisfied: 9,
            basically_satisfied: 1,
            citizen_callbacks: 4,
            citizen_contacted: 1,
            citizen_resolved: 1,
            citizen_satisfied: 2,
            citizen_basically_satisfied: 1,
            contact_unasked: 2,
            resolution_unasked: 2,
            excluded_ratings: 1,
            ..Default::default()
        };
        let p = KpiPolicy::default();
        let all = kpis(&t, None, &p);
        assert_eq!(
            (all.callbacks, all.citizen_ratings, all.excluded_ratings),
            (14, 4, 1)
        );
        assert_eq!(all.response_rate, Some(9.0 / 12.0));
        assert_eq!(all.resolution_rate, Some(7.0 / 12.0));
        assert!((all.satisfaction_rate.unwrap() - 9.6 / 14.0).abs() < 1e-12);
        let citizens = kpis(
            &t.of_source(Some(crate::types::RatingSource::Citizen)),
            None,
            &p,
        );
        assert_eq!(citizens.callbacks, 4);
        assert_eq!(citizens.response_rate, Some(0.5));
        assert_eq!(citizens.resolution_rate, Some(0.5));
        assert!((citizens.satisfaction_rate.unwrap() - 2.6 / 4.0).abs() < 1e-12);
        let agents = kpis(
            &t.of_source(Some(crate::types::RatingSource::Agent)),
            None,
            &p,
        );
        assert_eq!(
            (
                agents.callbacks,
                agents.citizen_ratings,
                agents.excluded_ratings
            ),
            (10, 0, 0)
        );
        assert_eq!(agents.response_rate, Some(0.8));
        assert_eq!(agents.resolution_rate, Some(0.6));
        assert_eq!(agents.satisfaction_rate, Some(0.7));
    }

    #[test]
    fn every_rate_by_hand() {
        let t = Tally {
            requests: 200,
            callbacks: 50,
            contacted: 45,
            resolved: 30,
            partly_resolved: 10,
            satisfied: 35,
            basically_satisfied: 5,
            finished: 160,
            finished_with_deadline: 100,
            finished_on_time: 90,
            dispatches: 120,
            returns: 6,
            direct: 40,
            handling_seconds: 160 * 3_600,
            supervisions: 3,
            ..Default::default()
        };
        let k = kpis(&t, Some(400_000), &KpiPolicy::default());
        assert_eq!(k.requests_per_10k, Some(5.0));
        assert_eq!(k.response_rate, Some(0.9));
        assert_eq!(k.resolution_rate, Some(0.6));
        assert!((k.satisfaction_rate.unwrap() - 38.0 / 50.0).abs() < 1e-12);
        assert_eq!(k.completion_rate, Some(0.8));
        assert_eq!(k.on_time_rate, Some(0.9));
        assert_eq!(k.return_rate, Some(0.05));
        assert_eq!(k.direct_rate, Some(0.2));
        assert_eq!(k.average_handling_seconds, Some(3_600.0));
        assert_eq!(k.supervisions, 3);
        // 0.2·0.9 + 0.3·0.6 + 0.3·0.76 + 0.1·0.9 + 0.1·0.8 = 0.758
        assert!((k.score.unwrap() - 75.8).abs() < 1e-9);
        // Partly resolved counted half.
        let half = KpiPolicy {
            partly_resolved_weight: 0.5,
            ..Default::default()
        };
        assert_eq!(kpis(&t, None, &half).resolution_rate, Some(0.7));
    }

    #[test]
    fn a_group_asked_nothing_is_not_ranked() {
        let p = KpiPolicy::default();
        // Only an older ticket's reply approved in time: a score of 100, nothing to rank.
        let old_only = Tally {
            finished_with_deadline: 1,
            finished_on_time: 1,
            ..Default::default()
        };
        let k = kpis(&old_only, None, &p);
        assert_eq!(k.score, Some(100.0));
        assert_eq!(ranking_score(&k, &old_only), None);
        let dispatched = Tally {
            dispatches: 1,
            ..old_only
        };
        assert_eq!(
            ranking_score(&kpis(&dispatched, None, &p), &dispatched),
            Some(100.0)
        );
    }

    #[test]
    fn no_denominator_no_rate() {
        let k = kpis(&Tally::default(), Some(0), &KpiPolicy::default());
        assert_eq!(k.requests_per_10k, None);
        assert_eq!(k.response_rate, None);
        assert_eq!(k.completion_rate, None);
        assert_eq!(k.return_rate, None);
        assert_eq!(k.average_handling_seconds, None);
        assert_eq!(k.score, None);
        // Only completion known: the score is completion alone.
        let t = Tally {
            requests: 4,
            finished: 3,
            ..Default::default()
        };
        let score = kpis(&t, None, &KpiPolicy::default()).score.unwrap();
        assert!((score - 75.0).abs() < 1e-9, "{score}");
    }

    #[test]
    fn tallies_add_up() {
        let mut a = callbacks(1, (1, 0, 0), (1, 0, 0));
        a += callbacks(0, (0, 1, 0), (0, 1, 0));
        assert_eq!(a.callbacks, 2);
        assert_eq!(a.contacted, 1);
        assert_eq!(a.partly_resolved, 1);
        assert_eq!(a.basically_satisfied, 1);
    }

    #[test]
    fn ranking_zones_and_ties() {
        let scores = [
            Some(80.0),
            None,
            Some(95.0),
            Some(60.0),
            Some(80.0),
            Some(70.0),
        ];
        let r = rank(&scores, &KpiPolicy::default());
        // 5 scored: 1 blue (20 %), 1 red.
        assert_eq!(
            r,
            vec![
                (2, Some(1), Some(Zone::Blue)),
                (0, Some(2), Some(Zone::Yellow)),
                (4, Some(2), Some(Zone::Yellow)),
                (5, Some(4), Some(Zone::Yellow)),
                (3, Some(5), Some(Zone::Red)),
                (1, None, None),
            ]
        );
        // A tie across the blue edge: both blue.
        let r = rank(
            &[Some(90.0), Some(90.0), Some(50.0), Some(40.0), Some(30.0)],
            &KpiPolicy::default(),
        );
        assert_eq!(r[0].2, Some(Zone::Blue));
        assert_eq!(r[1].2, Some(Zone::Blue));
        assert_eq!(r[4].2, Some(Zone::Red));
        assert!(rank(&[], &KpiPolicy::default()).is_empty());
        // Everyone red when red takes all.
        let all_red = KpiPolicy {
            blue_share: 0.0,
            red_share: 1.0,
            ..Default::default()
        };
        assert!(
            rank(&[Some(1.0), Some(2.0)], &all_red)
                .iter()
                .all(|r| r.2 == Some(Zone::Red))
        );
    }

    #[test]
    fn trend_in_words() {
        let k = |r: f64, s: f64, t: f64| {
            let mut k = kpis(&Tally::default(), None, &KpiPolicy::default());
            k.response_rate = Some(r);
            k.resolution_rate = Some(s);
            k.satisfaction_rate = Some(t);
            k
        };
        assert_eq!(
            trend_words(&k(0.95, 0.80, 0.93), &k(0.90, 0.85, 0.92)).as_deref(),
            Some("响应率、满意率上升，解决率下降（两升一降）")
        );
        assert_eq!(
            trend_words(&k(0.95, 0.90, 0.93), &k(0.90, 0.85, 0.92)).as_deref(),
            Some("响应率、解决率、满意率上升（三升）")
        );
        assert_eq!(
            trend_words(&k(0.901, 0.80, 0.90), &k(0.90, 0.85, 0.92)).as_deref(),
            Some("解决率、满意率下降，响应率持平（两降一平）")
        );
        let none = kpis(&Tally::default(), None, &KpiPolicy::default());
        assert_eq!(trend_words(&none, &k(0.9, 0.9, 0.9)), None);
    }

    #[test]
    fn policy_checks_name_the_setting() {
        assert!(KpiPolicy::default().check().is_ok());
        let bad = KpiPolicy {
            basically_satisfied_weight: 1.5,
            ..Default::default()
        };
        assert!(
            bad.check()
                .unwrap_err()
                .contains("basically_satisfied_weight")
        );
        let bad = KpiPolicy {
            blue_share: 0.7,
            red_share: 0.5,
            ..Default::default()
        };
        assert!(bad.check().unwrap_err().contains("blue_share"));
        let bad = KpiPolicy {
            score_weights: ScoreWeights {
                response: 0.0,
                resolution: 0.0,
                satisfaction: 0.0,
                on_time: 0.0,
                completion: 0.0,
            },
            ..Default::default()
        };
        assert!(bad.check().unwrap_err().contains("at least one"));
        let bad = KpiPolicy {
            score_weights: ScoreWeights {
                on_time: -1.0,
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(bad.check().unwrap_err().contains("score_weights.on_time"));
        let parsed: KpiPolicy =
            serde_json::from_str(r#"{"basically_satisfied_weight": 0.5}"#).unwrap();
        assert_eq!(parsed.basically_satisfied_weight, 0.5);
        assert_eq!(parsed.partly_resolved_weight, 0.0);
        assert!(serde_json::from_str::<KpiPolicy>(r#"{"nope": 1}"#).is_err());
    }
}
