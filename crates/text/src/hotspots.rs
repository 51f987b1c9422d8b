//! Hot issues (热点): requests grouped into problems by topic and place, each with a heat
//! index from how many raise it, how many people, how much support it gets (votes where the
//! channel has them), how concentrated in time, and whether it was supervised.
//!
//! A request joins the problem it is most like — cosine of TF-IDF word weights over title and
//! start of body — when it is alike enough and names no other place: requests that name a
//! specific place (a road, a compound, a school…) join only problems at that place.

use crate::classify::words;
use crate::normalize::{fold, is_han};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// One request to group.
#[derive(Debug, Clone)]
pub struct Message {
    pub id: String,
    /// Who raised it (a caller's number, a user id), if known.
    pub user: Option<String>,
    /// When, in seconds since the epoch.
    pub at: i64,
    pub title: String,
    pub body: String,
    /// Support it received (likes, votes); 0 where the channel has none.
    pub votes: u64,
    /// Whether it was supervised (督办).
    pub supervised: bool,
}

/// How alike requests must be to form a problem.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct HotspotRules {
    /// Likeness to join a problem at the same place.
    pub same_place: f32,
    /// Likeness to join a problem when either names no place.
    pub no_place: f32,
    /// Body characters read after the title.
    pub body_chars: usize,
}

impl Default for HotspotRules {
    fn default() -> Self {
        HotspotRules {
            same_place: 0.22,
            no_place: 0.45,
            body_chars: 160,
        }
    }
}

/// One problem.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Hotspot {
    /// The heat index, 0..100 (the hottest problem is 100).
    pub heat: f64,
    /// The raw heat before scaling.
    pub score: f64,
    pub messages: usize,
    pub people: usize,
    pub votes: u64,
    pub supervised: usize,
    pub first_at: i64,
    pub last_at: i64,
    /// The place most of its requests name, if any.
    pub place: Option<String>,
    /// The title of its most typical request.
    pub description: String,
    /// Its words with the most weight.
    pub keywords: Vec<String>,
    /// Its requests, oldest first.
    pub ids: Vec<String>,
}

/// Endings of words that name a specific place.
const PLACE_ENDS: &[&str] = &[
    "路",
    "街",
    "大道",
    "巷",
    "小区",
    "社区",
    "村",
    "镇",
    "乡",
    "花园",
    "家园",
    "公寓",
    "大厦",
    "广场",
    "新城",
    "苑",
    "府",
    "湾",
    "城",
    "庭",
    "郡",
    "里",
    "中学",
    "小学",
    "学校",
    "学院",
    "大学",
    "幼儿园",
    "医院",
    "市场",
    "公司",
    "工地",
    "项目",
    "车站",
    "公园",
    "酒店",
    "楼盘",
];

/// Place words too general to tell one place from another.
const GENERIC_PLACES: &[&str] = &[
    "小区",
    "社区",
    "道路",
    "马路",
    "街道",
    "公司",
    "学校",
    "医院",
    "市场",
    "项目",
    "工地",
    "农村",
    "城市",
    "县城",
    "城里",
    "城区",
    "乡镇",
    "村里",
    "全市",
    "市区",
    "政府",
    "我市",
    "本市",
    "物业公司",
    "开发商",
    "城管",
    "这里",
    "那里",
    "城乡",
    "新城",
    "省城",
    "幼儿园",
    "中学",
    "小学",
    "学院",
    "大学",
    "公园",
    "车站",
    "酒店",
    "楼盘",
    "广场",
    "花园",
    "家园",
    "公寓",
    "大厦",
    "市委",
    "市政府",
    "市委市政府",
    "省政府",
    "区政府",
    "县政府",
    "镇政府",
    "乡政府",
    "派出所",
    "公安局",
    "居委会",
    "村委会",
    "高速公路",
    "公路",
    "铁路",
    "高铁",
    "马路边",
    "路边",
    "路口",
    "街头",
    "公办幼儿园",
    "民办幼儿园",
    "私立学校",
    "培训学校",
    "售楼部",
    "停车场",
    "菜市场",
    "农贸市场",
];

/// Words that say what kind of place it is, or how many, rather than which: "燃气公司",
/// "老旧小区", "一家医院" are no place anyone could find.
const KIND_WORDS: &[&str] = &[
    "老旧",
    "老",
    "新建",
    "在建",
    "周边",
    "附近",
    "一家",
    "一个",
    "一所",
    "这家",
    "那家",
    "该",
    "某",
    "各",
    "多个",
    "部分",
    "有些",
    "所有",
    "很多",
    "燃气",
    "供热",
    "热力",
    "供水",
    "自来水",
    "电力",
    "供电",
    "物业",
    "快递",
    "保险",
    "培训",
    "装修",
    "中介",
    "私立",
    "公立",
    "民办",
    "公办",
    "私人",
    "个体",
    "商品房",
    "安置",
    "拆迁",
    "回迁",
    "无物业",
];

/// Whether a place word only says a kind of place: a kind word (or nothing) before the
/// place's ending; or is no name at all: the tail of a house number (`号楼家里` from
/// "3号楼家里"), someone's home (`家里`).
fn only_a_kind(word: &str) -> bool {
    word.starts_with('号')
        || word.ends_with("家里")
        || PLACE_ENDS
            .iter()
            .filter_map(|e| word.strip_suffix(e))
            .any(|stem| stem.is_empty() || KIND_WORDS.contains(&stem))
}

/// Words that lead into a place without being part of its name.
const LEAD_INS: &[&str] = &[
    "投诉", "反映", "位于", "关于", "靠近", "附近", "对面", "旁边", "门口", "我们", "我家", "住在",
    "举报", "咨询", "建议", "请问", "希望", "整个", "所在", "本人", "他们", "这个", "那个",
];

/// Words that say nothing about which problem it is.
const STOP: &[&str] = &[
    "问题",
    "反映",
    "希望",
    "请问",
    "市民",
    "我们",
    "政府",
    "领导",
    "解决",
    "情况",
    "相关",
    "部门",
    "你好",
    "您好",
    "尊敬",
    "现在",
    "一个",
    "没有",
    "什么",
    "为什么",
    "怎么",
    "能否",
    "是否",
    "可以",
    "关于",
    "咨询",
    "建议",
    "投诉",
    "举报",
    "请求",
    "要求",
    "严重",
    "进行",
    "目前",
    "已经",
    "但是",
    "因为",
    "所以",
    "这个",
    "那个",
    "这样",
    "还是",
    "就是",
    "非常",
    "有关",
    "工作",
    "存在",
    "导致",
    "影响",
    "相关部门",
    "有关部门",
    "处理",
    "及时",
    "尽快",
    "一下",
    "市长",
    "书记",
    "感谢",
    "谢谢",
];

/// Specific places a text names: words ending as places do (roads, compounds, schools…),
/// and coded districts such as "A3区".
pub fn places(text: &str) -> Vec<String> {
    let folded = fold(text);
    let mut out: Vec<String> = Vec::new();
    let push = |p: String, out: &mut Vec<String>| {
        if !out.contains(&p) {
            out.push(p);
        }
    };
    // Coded places: a letter, digits, then 区/县/市 (the anonymised data writes "A3区").
    let chars: Vec<char> = folded.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_alphabetic() {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            if i > start + 1 && i < chars.len() && matches!(chars[i], '区' | '县') {
                let p: String = chars[start..=i].iter().collect();
                push(p.to_uppercase(), &mut out);
            }
        } else {
            i += 1;
        }
    }
    // The rest is read in pieces between the coded places, so that "A3区丽发新城" does not
    // become the word "区丽发新城".
    let mut rest = String::with_capacity(folded.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_alphanumeric() {
            rest.push(c);
            i += 1;
            continue;
        }
        let coded = i > 0 && chars[i - 1].is_ascii_digit() && matches!(c, '区' | '县' | '市')
            || (i > 0 && chars[i - 1].is_ascii_alphabetic() && matches!(c, '市' | '区' | '县'));
        rest.push(if coded { '，' } else { c });
        i += 1;
    }
    for clause in rest.split(|c: char| !(is_han(c) || c.is_ascii_alphanumeric())) {
        clause_places(clause, &mut out);
    }
    out
}

/// The places of one clause (words next to each other in the text).
fn clause_places(clause: &str, out: &mut Vec<String>) {
    let ws = words(clause);
    for (k, w) in ws.iter().enumerate() {
        let is_place_end = PLACE_ENDS.iter().any(|e| w.ends_with(e));
        if !is_place_end || !w.chars().all(is_han) {
            continue;
        }
        // A name before a short place word belongs to it: "丽发" "新城小区" → "丽发新城小区",
        // "丽发新城" "小区" → "丽发新城小区".
        let prev = k.checked_sub(1).map(|j| &ws[j]).filter(|p| {
            p.chars().count() >= 2
                && p.chars().all(is_han)
                && !STOP.contains(&p.as_str())
                && !LEAD_INS.contains(&p.as_str())
                && !PLACE_ENDS.iter().any(|e| p.ends_with(e))
        });
        let word = match prev {
            Some(p) if w.chars().count() <= 4 => format!("{p}{w}"),
            _ => w.clone(),
        };
        if word.chars().count() >= 3
            && !GENERIC_PLACES.contains(&word.as_str())
            && !only_a_kind(&word)
            && !out.contains(&word)
        {
            out.push(word);
        }
    }
}

/// Word weights; ordered, so that sums come out the same on every run.
type Vector = BTreeMap<u32, f32>;

fn norm(v: &Vector) -> f32 {
    v.values().map(|x| x * x).sum::<f32>().sqrt()
}

fn dot(a: &Vector, b: &Vector) -> f32 {
    let (s, l) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    s.iter().filter_map(|(k, x)| l.get(k).map(|y| x * y)).sum()
}

struct Group {
    sum: Vector,
    members: Vec<usize>,
    places: HashMap<String, usize>,
}

/// Groups requests into problems and ranks them by heat, hottest first.
pub fn hotspots(messages: &[Message], rules: &HotspotRules) -> Vec<Hotspot> {
    if messages.is_empty() {
        return Vec::new();
    }
    // Words of each request: the title twice, the start of the body once.
    let texts: Vec<Vec<String>> = messages
        .iter()
        .map(|m| {
            let body: String = m.body.chars().take(rules.body_chars).collect();
            let mut w = words(&m.title);
            w.extend(words(&m.title));
            w.extend(words(&body));
            w.retain(|x| x.chars().count() >= 2 && !STOP.contains(&x.as_str()));
            w
        })
        .collect();
    let mut vocab: HashMap<String, u32> = HashMap::new();
    let mut df: Vec<u32> = Vec::new();
    let ids: Vec<Vec<u32>> = texts
        .iter()
        .map(|ws| {
            let mut seen = HashSet::new();
            ws.iter()
                .map(|w| {
                    let next = vocab.len() as u32;
                    let id = *vocab.entry(w.clone()).or_insert(next);
                    if id as usize == df.len() {
                        df.push(0);
                    }
                    if seen.insert(id) {
                        df[id as usize] += 1;
                    }
                    id
                })
                .collect()
        })
        .collect();
    let n = messages.len() as f32;
    // Words in more than a tenth of the requests tell problems apart poorly: left out.
    let idf: Vec<f32> = df
        .iter()
        .map(|d| {
            if *d as f32 > n * 0.1 && n >= 50.0 {
                0.0
            } else {
                (n / *d as f32).ln() + 1.0
            }
        })
        .collect();
    let vectors: Vec<Vector> = ids
        .iter()
        .map(|ws| {
            let mut v: Vector = BTreeMap::new();
            for w in ws {
                if idf[*w as usize] > 0.0 {
                    *v.entry(*w).or_default() += idf[*w as usize];
                }
            }
            let l = norm(&v);
            if l > 0.0 {
                v.values_mut().for_each(|x| *x /= l);
            }
            v
        })
        .collect();
    let place_lists: Vec<Vec<String>> = messages
        .iter()
        .map(|m| {
            let mut p = places(&m.title);
            for q in places(&m.body.chars().take(rules.body_chars).collect::<String>()) {
                if !p.contains(&q) {
                    p.push(q);
                }
            }
            p
        })
        .collect();
    let mut order: Vec<usize> = (0..messages.len()).collect();
    order.sort_by_key(|i| (messages[*i].at, *i));
    let mut groups: Vec<Group> = Vec::new();
    // Which groups hold a word or a place: the candidates a request is compared with.
    let mut by_word: HashMap<u32, Vec<usize>> = HashMap::new();
    for i in order {
        let v = &vectors[i];
        let mine = &place_lists[i];
        let mut candidates: HashSet<usize> = HashSet::new();
        let mut strongest: Vec<(&u32, &f32)> = v.iter().collect();
        strongest.sort_by(|a, b| b.1.total_cmp(a.1).then(a.0.cmp(b.0)));
        for (w, _) in strongest.iter().take(6) {
            if let Some(gs) = by_word.get(w) {
                candidates.extend(gs.iter().copied());
            }
        }
        let mut best: Option<(usize, f32)> = None;
        let mut sorted: Vec<usize> = candidates.into_iter().collect();
        sorted.sort_unstable();
        for g in sorted {
            let group = &groups[g];
            let l = norm(&group.sum);
            if l == 0.0 {
                continue;
            }
            let sim = dot(v, &group.sum) / l;
            let shared = mine.iter().any(|p| group.places.contains_key(p));
            let need = if shared {
                rules.same_place
            } else if mine.is_empty() || group.places.is_empty() {
                rules.no_place
            } else {
                continue; // different places: different problems
            };
            if sim >= need && best.is_none_or(|(_, s)| sim > s) {
                best = Some((g, sim));
            }
        }
        let g = match best {
            Some((g, _)) => g,
            None => {
                groups.push(Group {
                    sum: BTreeMap::new(),
                    members: Vec::new(),
                    places: HashMap::new(),
                });
                groups.len() - 1
            }
        };
        let group = &mut groups[g];
        for (w, x) in v {
            *group.sum.entry(*w).or_default() += x;
        }
        group.members.push(i);
        for p in mine {
            *group.places.entry(p.clone()).or_default() += 1;
        }
        for (w, _) in strongest.iter().take(6) {
            let list = by_word.entry(**w).or_default();
            if !list.contains(&g) {
                list.push(g);
            }
        }
    }
    let reverse: HashMap<u32, &str> = vocab.iter().map(|(w, i)| (*i, w.as_str())).collect();
    let mut out: Vec<Hotspot> = groups
        .into_iter()
        .map(|g| describe(messages, &vectors, g, &reverse))
        .collect();
    let top = out.iter().map(|h| h.score).fold(0.0f64, f64::max);
    for h in &mut out {
        h.heat = if top > 0.0 {
            h.score / top * 100.0
        } else {
            0.0
        };
    }
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.first_at.cmp(&b.first_at))
    });
    out
}

/// The heat of a problem: people count most, then support, then how many requests and how
/// close together they came; supervision adds.
pub fn heat_score(
    messages: usize,
    people: usize,
    votes: u64,
    span_days: f64,
    supervised: usize,
) -> f64 {
    let weeks = span_days / 7.0 + 1.0;
    let intensity = messages as f64 / weeks;
    3.0 * (1.0 + people as f64).ln()
        + 1.0 * (1.0 + messages as f64).ln()
        + 1.5 * (1.0 + votes as f64).ln()
        + 1.0 * (1.0 + intensity).ln()
        + 1.0 * (1.0 + supervised as f64).ln()
        - 5.0 * 2f64.ln() // a lone request with nothing else scores 0
}

fn describe(
    messages: &[Message],
    vectors: &[Vector],
    g: Group,
    reverse: &HashMap<u32, &str>,
) -> Hotspot {
    let mut members = g.members;
    members.sort_by_key(|i| (messages[*i].at, *i));
    let people: HashSet<&str> = members
        .iter()
        .map(|i| messages[*i].user.as_deref().unwrap_or(&messages[*i].id))
        .collect();
    let votes: u64 = members.iter().map(|i| messages[*i].votes).sum();
    let supervised = members.iter().filter(|i| messages[**i].supervised).count();
    let first_at = messages[members[0]].at;
    let last_at = messages[*members.last().unwrap_or(&members[0])].at;
    let span_days = (last_at - first_at) as f64 / 86_400.0;
    // The most typical request: the one most like the whole.
    let l = norm(&g.sum).max(f32::MIN_POSITIVE);
    let typical = members
        .iter()
        .copied()
        .max_by(|a, b| {
            (dot(&vectors[*a], &g.sum) / l)
                .total_cmp(&(dot(&vectors[*b], &g.sum) / l))
                .then(b.cmp(a))
        })
        .unwrap_or(members[0]);
    let place = g
        .places
        .iter()
        .map(|(p, n)| (p.clone(), *n))
        .collect::<BTreeMap<String, usize>>()
        .into_iter()
        .max_by(|a, b| {
            a.1.cmp(&b.1)
                .then(b.0.chars().count().cmp(&a.0.chars().count()).reverse())
        })
        .map(|(p, _)| p);
    let mut words: Vec<(&u32, &f32)> = g.sum.iter().collect();
    words.sort_by(|a, b| b.1.total_cmp(a.1).then(a.0.cmp(b.0)));
    Hotspot {
        heat: 0.0,
        score: heat_score(members.len(), people.len(), votes, span_days, supervised),
        messages: members.len(),
        people: people.len(),
        votes,
        supervised,
        first_at,
        last_at,
        place,
        description: messages[typical].title.trim().to_string(),
        keywords: words
            .iter()
            .take(5)
            .filter_map(|(w, _)| reverse.get(w).map(|s| s.to_string()))
            .collect(),
        ids: members.iter().map(|i| messages[*i].id.clone()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: &str, user: &str, day: i64, title: &str, body: &str, votes: u64) -> Message {
        Message {
            id: id.into(),
            user: Some(user.into()),
            at: 1_600_000_000 + day * 86_400,
            title: title.into(),
            body: body.into(),
            votes,
            supervised: false,
        }
    }

    #[test]
    fn places_are_found() {
        let p = places("A3区丽发新城小区附近的搅拌站噪音扰民，联丰路两侧也是");
        assert!(p.contains(&"A3区".to_string()), "{p:?}");
        assert!(p.iter().any(|x| x.starts_with("丽发新城")), "{p:?}");
        assert!(p.contains(&"联丰路".to_string()), "{p:?}");
        assert!(
            places("小区物业不作为").is_empty(),
            "a bare 小区 is no place"
        );
        // A kind of place is no place: these showed as hot issues' places.
        for text in [
            "燃气公司收费不合理",
            "老旧小区改造进度慢",
            "一家医院服务态度差",
            "物业公司不作为",
            "附近工地夜间施工",
            "3号楼家里燃气表故障",
        ] {
            assert!(places(text).is_empty(), "{text}: {:?}", places(text));
        }
        assert_eq!(places("青发小区消防通道被锁"), vec!["青发小区".to_string()]);
    }

    #[test]
    fn one_problem_at_one_place_outranks_scattered_ones() {
        let mut msgs = vec![
            m(
                "1",
                "u1",
                0,
                "丽发新城小区搅拌站噪音扰民",
                "丽发新城小区旁边的搅拌站日夜施工，噪音很大",
                3,
            ),
            m(
                "2",
                "u2",
                1,
                "丽发新城搅拌站噪音太大",
                "丽发新城小区附近搅拌站晚上还在生产，噪音扰民",
                5,
            ),
            m(
                "3",
                "u3",
                2,
                "投诉丽发新城旁搅拌站扰民",
                "搅拌站噪音和粉尘影响丽发新城小区居民休息",
                1,
            ),
            m(
                "4",
                "u4",
                3,
                "丽发新城小区搅拌站污染",
                "丽发新城小区边上的搅拌站粉尘噪音严重",
                0,
            ),
            // The same words at another place: another problem.
            m(
                "5",
                "u5",
                2,
                "金星小区搅拌站噪音扰民",
                "金星小区旁边搅拌站噪音很大",
                0,
            ),
            // Unrelated.
            m("6", "u6", 1, "幼儿园收费过高", "某幼儿园收费远高于标准", 0),
            m("7", "u7", 5, "公交线路调整", "希望增加公交线路", 0),
        ];
        // A duplicate from the same person adds a request, not a person.
        msgs.push(m(
            "8",
            "u1",
            4,
            "丽发新城小区搅拌站噪音扰民",
            "再次反映丽发新城搅拌站噪音",
            0,
        ));
        let hot = hotspots(&msgs, &HotspotRules::default());
        let first = &hot[0];
        assert_eq!(first.ids, vec!["1", "2", "3", "4", "8"], "{hot:#?}");
        assert_eq!(first.messages, 5);
        assert_eq!(first.people, 4);
        assert_eq!(first.votes, 9);
        assert_eq!(first.heat, 100.0);
        assert!(
            first.place.as_deref().unwrap().starts_with("丽发新城"),
            "{first:?}"
        );
        assert_eq!((first.last_at - first.first_at) / 86_400, 4);
        assert!(
            hot.iter().any(|h| h.ids == vec!["5"]),
            "another place, another problem: {hot:#?}"
        );
        assert!(hot[1].heat < 100.0);
        assert!(hotspots(&[], &HotspotRules::default()).is_empty());
    }

    #[test]
    fn heat_grows_with_people_votes_and_concentration() {
        let base = heat_score(5, 5, 0, 30.0, 0);
        assert!(heat_score(5, 5, 100, 30.0, 0) > base);
        assert!(heat_score(5, 1, 0, 30.0, 0) < base);
        assert!(
            heat_score(5, 5, 0, 2.0, 0) > base,
            "closer together is hotter"
        );
        assert!(heat_score(5, 5, 0, 30.0, 2) > base);
        assert!(heat_score(1, 1, 0, 0.0, 0).abs() < 1.0);
    }
}
