//! Form filling from free text (智能填单): from a call transcript or a long message, the
//! caller's name, their phone numbers, the address of the problem, when it happens, and a
//! one-line title — for the operator to confirm, never saved by themselves.
//!
//! Written for how callers speak: digits said as words (`幺三九`, `洞`, `两`), numbers
//! broken by spaces or dashes, a number or an address corrected mid-sentence (`不对，是…`),
//! the caller's home beside the place of the problem.

use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::normalize::{fold, is_han};

/// What a text says about the request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Extraction {
    /// The caller's name as they gave it (`王芳`, or `王先生` when only the surname).
    pub name: Option<String>,
    /// Phone numbers, digits only, the one to call back first (a corrected number replaces
    /// the one it corrects).
    pub phones: Vec<String>,
    /// Where the problem is, as said (`城东区八一中路青发小区7号楼3单元`).
    pub address: Option<String>,
    /// When it happens or happened, as said (`昨天晚上十点`, `从上周开始`).
    pub time: Option<String>,
    /// One line saying what the request is about.
    pub title: String,
}

/// Extracts what it can; a field it is not sure of is left empty.
pub fn extract(text: &str) -> Extraction {
    let text: String = fold(text).chars().take(5_000).collect();
    let phones = phones(&text);
    let name = name(&text);
    let address = address(&text);
    let time = time(&text);
    let title = title(&text, address.as_deref());
    Extraction {
        name,
        phones,
        address,
        time,
        title,
    }
}

/// A digit as callers say it.
pub(crate) fn digit(c: char) -> Option<char> {
    Some(match c {
        '0'..='9' => c,
        '零' | '〇' | '洞' => '0',
        '一' | '幺' | '么' => '1',
        '二' | '两' => '2',
        '三' => '3',
        '四' => '4',
        '五' => '5',
        '六' => '6',
        '七' | '拐' => '7',
        '八' => '8',
        '九' | '勾' => '9',
        _ => return None,
    })
}

/// Characters a caller puts between the digits of one number.
fn is_digit_gap(c: char) -> bool {
    matches!(c, ' ' | '-' | '—' | '－' | '.' | '、' | ',' | '，')
}

/// Words that say the number (or address) just given was wrong.
const CORRECTIONS: &[&str] = &[
    "不对",
    "说错",
    "错了",
    "更正",
    "纠正",
    "重说",
    "应该是",
    "不是这个",
    "改成",
];

fn corrected_between(text: &str) -> bool {
    CORRECTIONS.iter().any(|c| text.contains(c))
}

/// Runs of digits (as said), gaps allowed between them, with their byte span.
fn digit_runs(text: &str) -> Vec<(usize, usize, String)> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if digit(chars[i].1).is_none() {
            i += 1;
            continue;
        }
        let start = chars[i].0;
        let mut digits = String::new();
        let mut j = i;
        let mut end = start;
        while j < chars.len() {
            if let Some(d) = digit(chars[j].1) {
                digits.push(d);
                end = chars[j].0 + chars[j].1.len_utf8();
                j += 1;
            } else if is_digit_gap(chars[j].1)
                && chars.get(j + 1).is_some_and(|c| digit(c.1).is_some())
                && !digits.is_empty()
            {
                j += 1;
            } else {
                break;
            }
        }
        out.push((start, end, digits));
        i = j.max(i + 1);
    }
    out
}

/// Is this a phone number: a mobile (11 digits, 1 then 3–9), a landline with its area code
/// (0 then 10–11 digits), or a local landline (7–8 digits, not starting with 0 or 1)?
pub(crate) fn is_phone(d: &str) -> bool {
    let b = d.as_bytes();
    match d.len() {
        11 if b[0] == b'1' => (b'3'..=b'9').contains(&b[1]),
        11 | 12 if b[0] == b'0' => true,
        7 | 8 => b[0] != b'0' && b[0] != b'1',
        _ => false,
    }
}

fn phones(text: &str) -> Vec<String> {
    let found: Vec<(usize, usize, String)> = digit_runs(text)
        .into_iter()
        .filter(|(s, e, d)| {
            // Spoken digits inside words (`一一`, `三三两两`) are not numbers: a run of spoken
            // digits must be long and stand alone.
            let spoken = text[*s..*e]
                .chars()
                .any(|c| !c.is_ascii_digit() && !is_digit_gap(c));
            is_phone(d) && (!spoken || d.len() >= 7) && !followed_by_unit(&text[*e..])
        })
        .collect();
    let mut out: Vec<String> = Vec::new();
    for (k, (_, _, d)) in found.iter().enumerate() {
        // A number followed, before the next one, by a correction is dropped.
        if let Some((next_start, _, _)) = found.get(k + 1) {
            let between = &text[found[k].1..*next_start];
            if corrected_between(between) {
                continue;
            }
        }
        if !out.contains(d) {
            out.push(d.clone());
        }
    }
    out
}

/// A number followed by a unit is an amount or a count, not a phone number.
fn followed_by_unit(rest: &str) -> bool {
    ["元", "块", "平", "米", "户", "人", "次", "个", "年", "号楼"]
        .iter()
        .any(|u| rest.starts_with(u))
}

/// Common surnames (single and double), facts of the language.
pub(crate) const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤祁冶鲁常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲍岳童";
pub(crate) const DOUBLE_SURNAMES: &[&str] = &[
    "欧阳", "司马", "上官", "诸葛", "慕容", "令狐", "皇甫", "东方",
];

fn surname_at(s: &str) -> Option<&str> {
    if let Some(d) = DOUBLE_SURNAMES.iter().find(|d| s.starts_with(**d)) {
        return Some(&s[..d.len()]);
    }
    let c = s.chars().next()?;
    SURNAMES.contains(c).then(|| &s[..c.len_utf8()])
}

/// Characters that end a name said after 我叫: particles, verbs and the start of the
/// next clause.
fn ends_name(c: char) -> bool {
    !is_han(c) || "的是在住家电手号联我今昨前要想反投请这那从".contains(c)
}

/// Words that start a place: a "name" followed by them is a place (`马坊小区`).
const PLACE_STARTS: &[&str] = &[
    "小区", "社区", "村", "路", "街", "区", "县", "镇", "乡", "花园", "家园", "苑", "大厦", "公司",
    "医院", "学校",
];

const HONORIFICS: &[&str] = &[
    "先生", "女士", "小姐", "阿姨", "大爷", "大妈", "师傅", "老师",
];

fn name(text: &str) -> Option<String> {
    let mut found: Option<String> = None;
    // 我叫王芳 / 我的名字是王芳 / 我是王芳 / 联系人王芳 / 本人王芳
    for cue in [
        "我叫",
        "名字叫",
        "名字是",
        "我是",
        "本人叫",
        "本人是",
        "本人",
        "联系人是",
        "联系人:",
        "联系人",
        "姓名:",
        "姓名是",
        "姓名",
    ] {
        for (at, _) in text.match_indices(cue) {
            let rest = &text[at + cue.len()..];
            let Some(sur) = surname_at(rest) else {
                continue;
            };
            let given: String = rest[sur.len()..]
                .chars()
                .take_while(|c| !ends_name(*c))
                .take(2)
                .collect();
            let after = &rest[sur.len() + given.len()..];
            if let Some(h) = HONORIFICS
                .iter()
                .find(|h| rest[sur.len()..].starts_with(**h))
            {
                found = Some(format!("{sur}{h}"));
                continue;
            }
            if given.is_empty()
                || PLACE_STARTS.iter().any(|p| after.starts_with(p))
                || PLACE_STARTS
                    .iter()
                    .any(|p| format!("{given}{after}").starts_with(p))
            {
                continue;
            }
            found = Some(format!("{sur}{given}"));
        }
        if found.is_some() {
            return found;
        }
    }
    // 我姓王 (, 王先生)
    for (at, _) in text.match_indices("姓") {
        let rest = &text[at + "姓".len()..];
        if let Some(sur) = surname_at(rest) {
            let after = &rest[sur.len()..];
            let honorific = HONORIFICS
                .iter()
                .find(|h| after.trim_start_matches(['，', ',', ' ']).starts_with(**h))
                .or_else(|| {
                    HONORIFICS
                        .iter()
                        .find(|h| text.contains(&format!("{sur}{h}")))
                });
            return Some(format!("{sur}{}", honorific.copied().unwrap_or("")));
        }
    }
    // 王先生 / 李阿姨
    for h in HONORIFICS {
        for (at, _) in text.match_indices(h) {
            let before = &text[..at];
            if let Some(c) = before.chars().last()
                && SURNAMES.contains(c)
                && !before[..before.len() - c.len_utf8()]
                    .chars()
                    .last()
                    .is_some_and(|p| is_han(p) && !"是叫我你您".contains(p))
            {
                return Some(format!("{c}{h}"));
            }
        }
    }
    None
}

/// The end of an address part, longest first.
const MARKERS: &[&str] = &[
    "交叉口",
    "十字路口",
    "路口",
    "街道",
    "社区",
    "小区",
    "花园",
    "家园",
    "公寓",
    "大厦",
    "广场",
    "号楼",
    "单元",
    "号院",
    "大街",
    "大道",
    "新村",
    "商场",
    "市场",
    "医院",
    "学校",
    "公园",
    "车站",
    "工地",
    "宾馆",
    "酒店",
    "大寺",
    "寺",
    "路",
    "街",
    "巷",
    "村",
    "镇",
    "乡",
    "区",
    "县",
    "苑",
    "栋",
    "号",
    "楼",
    "室",
    "院",
    "庄",
    "城",
];

/// A marker followed by these is a word, not a place (`路灯`, `楼道`, `区域`).
const NOT_PLACE: &[&str] = &[
    "路灯", "路面", "路边", "路段", "住院", "路过", "路线", "路况", "路人", "楼道", "楼下", "楼上",
    "楼顶", "楼梯", "楼房", "楼层", "区域", "区别", "号码", "村民", "村里", "城管", "城市", "街上",
    "院里", "室内", "室温", "乡下", "镇上",
];

/// Words after which an address is said.
const ADDRESS_CUES: &[&str] = &[
    "地址是",
    "地址在",
    "地址:",
    "住址是",
    "家住在",
    "家住",
    "住在",
    "我住",
    "住的是",
    "位于",
    "是在",
    "就在",
    "反映的是",
    "反映一下",
    "反映",
    "投诉",
    "举报",
    "我们",
    "咱们",
    "在",
    "到",
    "是",
];

/// Words that end an address: what is at or around the place, or the problem.
const ADDRESS_ENDS: &[&str] = &[
    "的", "门口", "附近", "旁边", "对面", "周边", "一带", "这边", "那边", "里面", "后面", "前面",
    "楼下", "楼上", "有", "被", "一直", "经常", "每天", "总是", "出现", "发生", "一个", "一家",
    "一所", "一处", "一条", "一座",
];

/// Right after a place, these say where on it (`八一路上`, `小区里`): the place ends.
const ON_PLACE: &[char] = &['上', '里', '内', '边'];

/// A stretch that may be an address: Chinese characters, digits, letters and `-#`.
fn address_chars(c: char) -> bool {
    is_han(c) || c.is_ascii_alphanumeric() || matches!(c, '-' | '#')
}

/// The places named in a text, with whether each was said as the caller's home and where
/// it starts.
fn address_candidates(text: &str) -> Vec<(usize, String, bool)> {
    let mut out = Vec::new();
    let mut start = None;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for k in 0..=chars.len() {
        let inside = chars.get(k).is_some_and(|c| address_chars(c.1));
        match (inside, start) {
            (true, None) => start = Some(chars[k].0),
            (false, Some(s)) => {
                let end = chars.get(k).map(|c| c.0).unwrap_or(text.len());
                out.extend(places_in(text, s, end));
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// The places inside one stretch of text (several when the stretch names two, as in
/// `我住城西区反映的是城东区八一路`).
fn places_in(text: &str, s: usize, e: usize) -> Vec<(usize, String, bool)> {
    let span = &text[s..e];
    let mut out = Vec::new();
    // Cut the stretch at every address cue: each piece may hold one place.
    let mut cuts: Vec<(usize, usize, bool)> = Vec::new(); // (cue start, place start, home)
    let mut at = 0;
    while at < span.len() {
        let rest = &span[at..];
        if let Some(cue) = ADDRESS_CUES.iter().find(|c| rest.starts_with(**c)) {
            let home = cue.contains('住');
            cuts.push((at, at + cue.len(), home));
            at += cue.len();
        } else {
            at += rest.chars().next().map(char::len_utf8).unwrap_or(1);
        }
    }
    let mut pieces: Vec<(usize, usize, bool)> = Vec::new();
    if cuts.is_empty() || cuts[0].0 > 0 {
        let end = cuts.first().map(|c| c.0).unwrap_or(span.len());
        pieces.push((0, end, false));
    }
    for (i, (_, from, home)) in cuts.iter().enumerate() {
        let end = cuts.get(i + 1).map(|c| c.0).unwrap_or(span.len());
        pieces.push((*from, end, *home));
    }
    for (from, to, home) in pieces {
        if let Some(place) = place_prefix(&span[from..to]) {
            out.push((s + from, place, home));
        }
    }
    out
}

/// The address at the start of a piece of text: up to the last place marker before
/// anything that ends an address, with the house numbers after it; `None` without a
/// marker.
fn place_prefix(piece: &str) -> Option<String> {
    let mut end = 0;
    let mut at = 0;
    let mut markers = 0;
    while at < piece.len() {
        let rest = &piece[at..];
        if markers > 0 && end == at && rest.starts_with(ON_PLACE) {
            break;
        }
        // `八一路的青海宾馆`: a 的 between two named places joins them (not `…的一个小区`).
        if at > 0 && markers > 0 && end == at && rest.starts_with('的') {
            let after = &rest['的'.len_utf8()..];
            let unnamed = after.starts_with(['一', '这', '那', '某']);
            if !unnamed && place_prefix(after).is_some() {
                at += '的'.len_utf8();
                continue;
            }
        }
        if at > 0 && ADDRESS_ENDS.iter().any(|w| rest.starts_with(w)) {
            break;
        }
        if NOT_PLACE.iter().any(|w| rest.starts_with(w)) {
            break;
        }
        if let Some(m) = MARKERS.iter().find(|m| rest.starts_with(**m)) {
            // A marker needs something before it (`区` alone is no place).
            if at > 0 {
                end = at + m.len();
                markers += 1;
            }
            at += m.len();
            continue;
        }
        at += rest.chars().next().map(char::len_utf8).unwrap_or(1);
    }
    if markers == 0 {
        return None;
    }
    let place = &piece[..end];
    // At least two characters before the first marker, and not a phrase that only
    // looks like a place (`小区` alone, `这个区`).
    let han: usize = place.chars().filter(|c| is_han(*c)).count();
    if han < 3 || place.starts_with('这') || place.starts_with('那') || place.starts_with('我') {
        return None;
    }
    Some(place.to_string())
}

fn address(text: &str) -> Option<String> {
    let found = address_candidates(text);
    if found.is_empty() {
        return None;
    }
    // A place corrected later in the text gives way to the correction.
    let mut kept: Vec<(usize, String, bool)> = Vec::new();
    for (i, c) in found.iter().enumerate() {
        if let Some(next) = found.get(i + 1) {
            let between = &text[c.0..next.0];
            if corrected_between(between) {
                continue;
            }
        }
        kept.push(c.clone());
    }
    // The place of the problem rather than the caller's home, when both are said; else
    // the most specific (the longest).
    let not_home: Vec<&(usize, String, bool)> = kept.iter().filter(|c| !c.2).collect();
    let pool: Vec<&(usize, String, bool)> = if not_home.is_empty() {
        kept.iter().collect()
    } else {
        not_home
    };
    pool.iter()
        .max_by(|a, b| {
            a.1.chars()
                .count()
                .cmp(&b.1.chars().count())
                .then(b.0.cmp(&a.0))
        })
        .map(|c| c.1.clone())
}

fn time_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        let num = "[0-9零〇一二两三四五六七八九十]";
        let day = "(?:刚才|刚刚|这个学期|上学期|夏天|冬天|今天|昨天|前天|大前天|今日|昨日|明天|今早|昨晚|今晚|前晚|今年|去年|上周[一二三四五六日天]?|这周[一二三四五六日天]?|本周[一二三四五六日天]?|上个月|这个月|本月|最近|近期|这几天|这两天|前几天|周[一二三四五六日天]|星期[一二三四五六日天])";
        let date = format!("(?:{num}{{1,4}}年)?{num}{{1,2}}月(?:{num}{{1,3}}[日号])?|{num}{{1,3}}[日号](?:上午|下午|晚上)?");
        let part = "(?:(?:每天|天天|每个)?(?:白天|早高峰|晚高峰|早晚|早上|上午|中午|下午|傍晚|晚上|夜里|夜间|半夜|凌晨)|每天|天天|每晚)";
        let clock = format!("{num}{{1,3}}(?:点|时)(?:{num}{{1,2}}分|半|多)?(?:钟)?(?:左右|以后|之后|多)?");
        let ago = format!("{num}{{1,3}}(?:天|个月|周|个星期|年|个小时|小时)(?:前|以前|之前|以来)");
        let single = format!(
            "(?:(?:{day}|{date})(?:的)?{part}?(?:{clock})?|{part}(?:{clock})?|{clock}|{ago})"
        );
        // `昨晚到凌晨两点`, `从去年冬天到现在`: a range is one time.
        let pattern = format!(
            "(?:从)?{single}(?:(?:一直)?到(?:{single}|现在))?(?:开始|起|以来)?"
        );
        Regex::new(&pattern).expect("the time pattern")
    })
}

fn time(text: &str) -> Option<String> {
    // The longest time said (`昨天晚上十点` over `晚上`), the first of equals; a number
    // followed by 号楼, 单元… is a house number, not a day.
    time_regex()
        .find_iter(text)
        .filter(|m| {
            !["楼", "院", "单元", "室", "门", "线"]
                .iter()
                .any(|w| text[m.end()..].starts_with(w))
        })
        .map(|m| m.as_str().trim_end_matches('的').to_string())
        .filter(|m| m.chars().count() >= 2 && !m.chars().all(|c| digit(c).is_some()))
        .max_by(|a, b| {
            a.chars()
                .count()
                .cmp(&b.chars().count())
                .then(std::cmp::Ordering::Greater)
        })
}

/// Opening words that say nothing of the matter.
const OPENINGS: &[&str] = &[
    "喂",
    "你好",
    "您好",
    "我想反映一下",
    "我想反映一个情况",
    "我想反映",
    "我要反映",
    "我要投诉",
    "我想投诉",
    "我想咨询一下",
    "我想咨询",
    "我想问一下",
    "我想问",
    "请问",
    "是这样的",
    "就是说",
    "那个",
];

/// Words left at the head of a clause once the place is taken out.
const TITLE_LEADS: &[&str] = &[
    "我要反映的是",
    "要反映的是",
    "我要反映",
    "我想反映",
    "反映一下",
    "反映",
    "我要投诉",
    "我想投诉",
    "投诉",
    "我们",
    "我家",
    "在",
    "的",
    "有个",
    "有一个",
    "一个",
    "一家",
    "门口的",
    "附近的",
    "旁边的",
    "楼下的",
];

fn title(text: &str, address: Option<&str>) -> String {
    // The first clause that says something beyond who is calling and how to reach them.
    for clause in text.split(['。', '！', '？', '!', '?', '，', ',', '；', ';', '\n']) {
        let mut c = clause.trim().to_string();
        loop {
            let before = c.clone();
            for o in OPENINGS {
                if let Some(rest) = c.strip_prefix(o) {
                    c = rest
                        .trim_start_matches(['，', ',', ' ', '：', ':'])
                        .to_string();
                }
            }
            if c == before {
                break;
            }
        }
        let says_who = [
            "我叫", "我姓", "我是", "电话", "手机", "号码", "联系", "姓名", "本人", "地址",
        ]
        .iter()
        .any(|w| c.contains(w))
            // A number said on its own (`是幺三九…`, after a correction) is no title.
            || digit_runs(&c).iter().any(|r| r.2.len() >= 7)
            // Where the caller lives, said on its own (`我住在城西区`).
            || ["我家住在", "我住在", "我家住", "我家在", "我住", "住在", "家住"]
                .iter()
                .filter_map(|cue| c.strip_prefix(cue))
                .any(|rest| place_prefix(rest).is_some_and(|p| p == rest));
        // The place is in its own field: the title says what is wrong there.
        if let Some(a) = address
            && let Some(at) = c.find(a)
        {
            c = format!("{}{}", &c[..at], &c[at + a.len()..]);
        }
        for lead in TITLE_LEADS {
            if let Some(rest) = c.strip_prefix(lead) {
                c = rest.to_string();
            }
        }
        let han = c.chars().filter(|ch| is_han(*ch)).count();
        if says_who || han < 4 {
            continue;
        }
        return c.chars().take(30).collect();
    }
    text.chars().filter(|c| !c.is_control()).take(30).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spoken_and_broken_numbers() {
        let e = extract("我电话是幺三九 一二三四 五六七八，家里座机0971-6123456");
        assert_eq!(e.phones, vec!["13912345678", "09716123456"]);
        let e = extract("手机138-0971-0000");
        assert_eq!(e.phones, vec!["13809710000"]);
        // Amounts, ids and counts are not phone numbers; a spoken word is not a digit run.
        let e = extract("欠了12000元，身份证630102199001011234，一一对应");
        assert!(e.phones.is_empty(), "{e:?}");
    }

    #[test]
    fn a_corrected_number_replaces_the_first() {
        let e = extract("电话13912345678，不对不对，是13912345679");
        assert_eq!(e.phones, vec!["13912345679"]);
    }

    #[test]
    fn names_as_said() {
        assert_eq!(
            extract("我叫王芳，住在城东区").name.as_deref(),
            Some("王芳")
        );
        assert_eq!(extract("我姓李，李先生").name.as_deref(), Some("李先生"));
        assert_eq!(extract("你好我是马坊小区的居民").name, None);
        assert_eq!(
            extract("联系人张建国，电话").name.as_deref(),
            Some("张建国")
        );
    }

    #[test]
    fn the_place_of_the_problem_over_the_home() {
        let e = extract("我住在城西区，要反映的是城东区八一中路青发小区7号楼的路灯不亮");
        assert_eq!(e.address.as_deref(), Some("城东区八一中路青发小区7号楼"));
        let e = extract("我家住在城北区朝阳街道祁家城社区，暖气不热");
        assert_eq!(e.address.as_deref(), Some("城北区朝阳街道祁家城社区"));
    }

    #[test]
    fn times_as_said() {
        assert_eq!(
            extract("昨天晚上十点多工地还在施工").time.as_deref(),
            Some("昨天晚上十点多")
        );
        assert_eq!(
            extract("从上周开始就没水了").time.as_deref(),
            Some("从上周开始")
        );
        assert_eq!(extract("三天前就坏了").time.as_deref(), Some("三天前"));
    }

    #[test]
    fn a_title_from_the_first_clause_about_the_matter() {
        let e = extract("喂，你好，我叫王芳，电话13912345678，小区门口的路灯不亮了，晚上很黑");
        assert_eq!(e.title, "小区门口的路灯不亮了");
        // A corrected number said in a clause of its own is not the matter.
        let e = extract("电话13912345678，不对，是13912345679，楼道的灯坏了");
        assert_eq!(e.title, "楼道的灯坏了");
    }
}
