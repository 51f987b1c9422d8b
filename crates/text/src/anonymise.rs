//! Taking personal data out of a text before it is shown to the public (a typical case, an
//! open-data note): names, phone numbers, ID-card, plate and account numbers, e-mail
//! addresses, and the house, building and room numbers of an address; optionally the names
//! of residential compounds, communities and villages (places below the street).
//!
//! Written for how the hotline's texts name people: after a cue (`我叫`, `来电人`, `业主`,
//! `房东`, `其母亲` …), as a surname with an honorific (`王女士`, `熊队长`), as the surname
//! already half-hidden (`张某`), and as a surname said alone (`我姓李`). Every removal is
//! returned with what it replaced, for the editor to check; the function errs on the side
//! of removing.

use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::extract::{DOUBLE_SURNAMES, SURNAMES, digit, is_phone};
use crate::normalize::{fold_char, is_han};

pub mod evaluation;

/// What kind of personal data a removal took out.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PersonalKind {
    /// A person's name, or their surname with an honorific.
    Name,
    /// A phone number, mobile or landline, written or spoken, masked or not.
    Phone,
    /// A resident ID-card number (18 digits, the last maybe X; the old 15).
    IdCard,
    /// A vehicle's plate number.
    Plate,
    /// House, building, unit and room numbers of an address.
    House,
    /// An e-mail address.
    Email,
    /// A bank card, or an account number said after its cue (`户号`, `账号`, `卡号`).
    Account,
    /// The name of a residential compound, community or village (only when asked).
    Place,
}

impl PersonalKind {
    pub const ALL: [PersonalKind; 8] = [
        Self::Name,
        Self::Phone,
        Self::IdCard,
        Self::Plate,
        Self::House,
        Self::Email,
        Self::Account,
        Self::Place,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Phone => "phone",
            Self::IdCard => "id_card",
            Self::Plate => "plate",
            Self::House => "house",
            Self::Email => "email",
            Self::Account => "account",
            Self::Place => "place",
        }
    }

    /// What stands in the text where such a datum was.
    fn placeholder(self) -> &'static str {
        match self {
            Self::Name => "某某",
            Self::Phone => "[电话]",
            Self::IdCard => "[身份证号]",
            Self::Plate => "[车牌号]",
            Self::House => "[门牌号]",
            Self::Email => "[邮箱]",
            Self::Account => "[账号]",
            Self::Place => "某",
        }
    }
}

/// One datum taken out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Removal {
    pub kind: PersonalKind,
    /// The text as it was.
    pub original: String,
    /// What stands in its place.
    pub replacement: String,
    /// Where it began, in characters from the start of the text given.
    pub at: usize,
}

/// A text with its personal data taken out, and what was taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Anonymised {
    pub text: String,
    pub removed: Vec<Removal>,
}

/// What else to take out.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Also take out the names of places below the street (`青发小区` → `某小区`,
    /// `祁家城社区` → `某社区`): a published case names its place to the street.
    pub generalise_places: bool,
    /// Strings known to be personal (a ticket's citizen name, phone, address detail),
    /// taken out wherever they appear, whatever the rules find.
    pub known: Vec<(PersonalKind, String)>,
}

/// A span to replace, in characters.
#[derive(Debug, Clone)]
struct Span {
    start: usize,
    end: usize,
    kind: PersonalKind,
    replacement: String,
}

impl Span {
    fn new(start: usize, end: usize, kind: PersonalKind) -> Span {
        Span {
            start,
            end,
            kind,
            replacement: kind.placeholder().to_string(),
        }
    }
}

/// Takes the personal data out of `text`.
pub fn anonymise(text: &str, options: &Options) -> Anonymised {
    let original: Vec<char> = text.chars().collect();
    let folded: Vec<char> = original.iter().map(|c| fold_char(*c)).collect();
    let mut spans = Vec::new();
    known(&folded, &options.known, &mut spans);
    emails(&folded, &mut spans);
    plates(&folded, &mut spans);
    masked_phones(&folded, &mut spans);
    numbers(&folded, &mut spans);
    houses(&folded, &mut spans);
    names(&folded, &mut spans);
    if options.generalise_places {
        places(&folded, &mut spans);
    }
    // The longest first; a span overlapping one already taken is dropped.
    spans.sort_by(|a, b| {
        (b.end - b.start)
            .cmp(&(a.end - a.start))
            .then(a.start.cmp(&b.start))
    });
    let mut taken: Vec<Span> = Vec::new();
    for s in spans {
        if s.end > s.start && taken.iter().all(|t| s.end <= t.start || s.start >= t.end) {
            taken.push(s);
        }
    }
    taken.sort_by_key(|s| s.start);
    let mut out = String::with_capacity(text.len());
    let mut removed = Vec::with_capacity(taken.len());
    let mut at = 0;
    for s in taken {
        out.extend(&original[at..s.start]);
        out.push_str(&s.replacement);
        removed.push(Removal {
            kind: s.kind,
            original: original[s.start..s.end].iter().collect(),
            replacement: s.replacement,
            at: s.start,
        });
        at = s.end;
    }
    out.extend(&original[at..]);
    Anonymised { text: out, removed }
}

fn starts_with(chars: &[char], at: usize, word: &str) -> bool {
    (at..)
        .zip(word.chars())
        .all(|(i, w)| chars.get(i) == Some(&w))
}

fn ends_with(chars: &[char], end: usize, word: &str) -> bool {
    let n = word.chars().count();
    end >= n && starts_with(chars, end - n, word)
}

fn find_all(chars: &[char], word: &str) -> Vec<usize> {
    if word.is_empty() {
        return Vec::new();
    }
    (0..chars.len())
        .filter(|i| starts_with(chars, *i, word))
        .collect()
}

/// The spans of a regular expression over the folded characters.
fn regex_spans(chars: &[char], re: &Regex) -> Vec<(usize, usize)> {
    let s: String = chars.iter().collect();
    let mut char_at = vec![0usize; s.len() + 1];
    let mut n = 0;
    for (b, c) in s.char_indices() {
        for slot in char_at.iter_mut().skip(b).take(c.len_utf8()) {
            *slot = n;
        }
        n += 1;
    }
    char_at[s.len()] = n;
    re.find_iter(&s)
        .map(|m| (char_at[m.start()], char_at[m.end()]))
        .collect()
}

fn known(chars: &[char], known: &[(PersonalKind, String)], spans: &mut Vec<Span>) {
    for (kind, value) in known {
        let value: String = value.trim().chars().map(fold_char).collect();
        // One character alone (a surname) is too common a character to take out everywhere.
        if value.chars().count() < 2 {
            continue;
        }
        let n = value.chars().count();
        for at in find_all(chars, &value) {
            spans.push(Span::new(at, at + n, *kind));
        }
    }
}

fn emails(chars: &[char], spans: &mut Vec<Span>) {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"[a-z0-9][a-z0-9._%+-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}")
            .expect("the e-mail pattern compiles")
    });
    for (s, e) in regex_spans(chars, re) {
        spans.push(Span::new(s, e, PersonalKind::Email));
    }
}

fn plates(chars: &[char], spans: &mut Vec<Span>) {
    static RE: OnceLock<Regex> = OnceLock::new();
    // The province's one-character name (or a city's written out), the issuing office's
    // letter, then five (six for new-energy vehicles) letters and digits.
    let re = RE.get_or_init(|| {
        Regex::new(
            r"(?:西宁|[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼])[a-z][·•・\s-]?[a-z0-9]{5,6}",
        )
        .expect("the plate pattern compiles")
    });
    for (s, e) in regex_spans(chars, re) {
        let tail = &chars[s..e];
        let digits = tail.iter().filter(|c| c.is_ascii_digit()).count();
        if digits == 0 || chars.get(e).is_some_and(|c| c.is_ascii_alphanumeric()) {
            continue;
        }
        spans.push(Span::new(s, e, PersonalKind::Plate));
    }
}

fn masked_phones(chars: &[char], spans: &mut Vec<Span>) {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"1[3-9][0-9][*x]{4}[0-9]{4}").expect("the masked phone pattern compiles")
    });
    for (s, e) in regex_spans(chars, re) {
        spans.push(Span::new(s, e, PersonalKind::Phone));
    }
}

/// Characters a person puts between the groups of one number.
fn is_gap(c: char) -> bool {
    matches!(c, ' ' | '-' | '—' | '－' | '.')
}

/// Words before a number that make it an account.
const ACCOUNT_CUES: &[&str] = &[
    "卡号",
    "账号",
    "帐号",
    "户号",
    "账户",
    "帐户",
    "银行卡",
    "卡是",
    "号码是",
];

/// Words after a number that make it an amount, a count or a date, not a phone.
const UNITS: &[&str] = &[
    "元", "块", "平", "米", "户", "人", "次", "个", "年", "月", "日", "号", "楼", "万", "岁", "天",
    "度", "%", "公里", "千克", "吨", "件", "栋", "层", "室", "单元",
];

/// Runs of digits (written or spoken), gaps allowed between groups: ID cards, bank cards,
/// accounts, phones.
fn numbers(chars: &[char], spans: &mut Vec<Span>) {
    let mut i = 0;
    while i < chars.len() {
        if digit(chars[i]).is_none() || (i > 0 && chars[i - 1].is_ascii_alphabetic()) {
            i += 1;
            continue;
        }
        let start = i;
        let mut digits = String::new();
        let mut spoken = false;
        let mut j = i;
        let mut end = i;
        while j < chars.len() {
            if let Some(d) = digit(chars[j]) {
                // `…0101一直`: a written number does not go on in words.
                if j > start && chars[j - 1].is_ascii_digit() && !chars[j].is_ascii_digit() {
                    break;
                }
                spoken |= !chars[j].is_ascii_digit();
                digits.push(d);
                j += 1;
                end = j;
            } else if is_gap(chars[j]) && chars.get(j + 1).is_some_and(|c| digit(*c).is_some()) {
                j += 1;
            } else {
                break;
            }
        }
        i = end.max(i + 1);
        // An ID card's check character.
        let check_x = digits.len() == 17 && chars.get(end) == Some(&'x');
        let end = if check_x { end + 1 } else { end };
        let before: String = chars[start.saturating_sub(8)..start].iter().collect();
        let after: String = chars[end..(end + 3).min(chars.len())].iter().collect();
        let id_card = ((digits.len() == 18 || check_x) && plausible_birth(&digits[6..]))
            || (digits.len() == 15 && before.contains("身份证"));
        let account = !spoken
            && ((16..=19).contains(&digits.len())
                || (digits.len() >= 6 && ACCOUNT_CUES.iter().any(|c| before.contains(c))));
        let kind = if id_card {
            Some(PersonalKind::IdCard)
        } else if account {
            Some(PersonalKind::Account)
        } else if is_phone(&digits)
            && (!spoken || digits.len() >= 7)
            && !UNITS.iter().any(|u| after.starts_with(u))
            && !(digits.len() == 8 && plausible_date(&digits))
        {
            Some(PersonalKind::Phone)
        } else {
            None
        };
        if let Some(kind) = kind {
            spans.push(Span::new(start, end, kind));
        }
    }
}

/// Do these digits begin with a date of birth (`19880315…`)?
fn plausible_birth(d: &str) -> bool {
    let (Some(y), Some(m), Some(day)) = (d.get(0..4), d.get(4..6), d.get(6..8)) else {
        return false;
    };
    let (Ok(y), Ok(m), Ok(day)) = (y.parse::<u32>(), m.parse::<u32>(), day.parse::<u32>()) else {
        return false;
    };
    (1900..=2099).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&day)
}

/// Eight digits that read as a date (`20240101`) are not a local phone number.
fn plausible_date(d: &str) -> bool {
    plausible_birth(d)
}

/// The marks of an address's parts below the road, after a number: the longest first.
const HOUSE_MARKS: &[&str] = &[
    "号院", "号楼", "单元", "号", "栋", "幢", "室", "楼", "层", "户",
];

/// A mark that counts only beside others (`6楼602`, not `18楼` alone).
fn weak_mark(mark: &str) -> bool {
    matches!(mark, "楼" | "层" | "户")
}

/// Words before a bare number that make it a room (`我家502`, `楼上1501`).
const ROOM_CUES: &[&str] = &["我家", "楼上", "楼下", "隔壁", "对门", "房间", "门牌"];

fn houses(chars: &[char], spans: &mut Vec<Span>) {
    let mut i = 0;
    while i < chars.len() {
        let fresh = chars[i].is_ascii_digit()
            && !(i > 0 && (chars[i - 1].is_ascii_alphanumeric() || chars[i - 1] == '·'));
        if !fresh {
            i += 1;
            continue;
        }
        let start = i;
        let mut j = i;
        let mut marks: Vec<&str> = Vec::new();
        let mut end = i;
        loop {
            let mut k = j;
            while k < chars.len() && chars[k].is_ascii_digit() {
                k += 1;
            }
            if k == j {
                break;
            }
            let Some(mark) = HOUSE_MARKS.iter().find(|m| starts_with(chars, k, m)) else {
                // A room number after a building or unit (`3单元502`, `6楼602`).
                if !marks.is_empty() && k - j >= 2 && !followed_by_unit(chars, k) {
                    end = k;
                }
                break;
            };
            let after = k + mark.chars().count();
            if *mark == "号" && !house_number_here(chars, j, after, marks.is_empty()) {
                break;
            }
            marks.push(mark);
            end = after;
            j = after;
            if chars.get(j).is_some_and(|c| *c == '-' || *c == '－') {
                j += 1;
            }
        }
        let only_weak = !marks.is_empty()
            && marks.iter().all(|m| weak_mark(m))
            && end == {
                // `18楼` alone: a floor, not an address.
                let mut k = start;
                while k < chars.len() && chars[k].is_ascii_digit() {
                    k += 1;
                }
                k + marks[0].chars().count()
            };
        if !marks.is_empty() && !only_weak {
            spans.push(Span::new(start, end, PersonalKind::House));
            i = end;
            continue;
        }
        // A bare room number after its cue.
        let mut k = start;
        while k < chars.len() && chars[k].is_ascii_digit() {
            k += 1;
        }
        let len = k - start;
        if (3..=4).contains(&len)
            && ROOM_CUES.iter().any(|c| ends_with(chars, start, c))
            && !followed_by_unit(chars, k)
        {
            spans.push(Span::new(start, k, PersonalKind::House));
        }
        i = k.max(i + 1);
    }
}

fn followed_by_unit(chars: &[char], at: usize) -> bool {
    let rest: String = chars[at..(at + 2).min(chars.len())].iter().collect();
    UNITS.iter().any(|u| rest.starts_with(u))
        || chars.get(at).is_some_and(|c| c.is_ascii_alphanumeric())
}

/// Is `N号` (digits from `start`, the mark ending at `after`) a house number? Not a date
/// (`6月1号`), a line (`1号线`), a document (`5号文`) or a rank (`第3号`); alone, only after
/// a road (`胜利路15号`) or `门牌号`.
fn house_number_here(chars: &[char], start: usize, after: usize, alone: bool) -> bool {
    let next = chars.get(after).copied();
    if next.is_some_and(|c| "线文令字码".contains(c)) {
        return false;
    }
    let prev = start.checked_sub(1).map(|p| chars[p]);
    if prev.is_some_and(|c| "月第".contains(c)) {
        return false;
    }
    if !alone {
        return true;
    }
    prev.is_some_and(|c| "路街巷道里弄村号:：".contains(c))
}

/// Forms of address after a surname (`王女士`, `熊队长`).
const HONORIFICS: &[&str] = &[
    "先生", "女士", "小姐", "阿姨", "大爷", "大妈", "大娘", "大叔", "大姐", "大哥", "师傅", "老师",
    "主任", "队长", "经理", "书记", "医生", "律师", "同学", "老板", "奶奶", "爷爷", "叔叔", "老汉",
    "科长", "处长", "局长", "所长", "站长", "班长", "组长",
];

/// Words after which a name is said.
const NAME_CUES: &[&str] = &[
    "我叫",
    "名叫",
    "名字叫",
    "名字是",
    "姓名是",
    "姓名",
    "我是",
    "本人是",
    "本人叫",
    "本人",
    "联系人是",
    "联系人",
    "来电人是",
    "来电人",
    "反映人是",
    "反映人",
    "投诉人",
    "举报人",
    "收件人",
    "寄件人",
    "申请人",
    "当事人",
    "业主",
    "市民",
    "居民",
    "住户",
    "村民",
    "租户",
    "家长",
    "工人",
    "司机",
    "骑手",
    "经理",
    "书记",
    "主任",
    "负责人",
    "工作人员",
    "老板",
    "房东",
    "邻居",
    "代表",
    "队长",
    "教练",
    "老师",
    "医生",
    "护士",
    "民警",
    "网格员",
    "乘客",
    "商户",
    "店主",
    "员工",
    "同事",
    "爱人",
    "丈夫",
    "妻子",
    "老公",
    "老婆",
    "儿子",
    "女儿",
    "孩子",
    "父亲",
    "母亲",
    "爸爸",
    "妈妈",
    "老人",
    "学生",
    "患者",
    "病人",
    "叫",
];

/// Cues after which what follows is a name even when it reads as a word.
const STRONG_NAME_CUES: &[&str] = &[
    "我叫",
    "名叫",
    "名字叫",
    "名字是",
    "姓名是",
    "姓名",
    "本人叫",
];

/// Characters a name does not take after its surname: particles, verbs and what begins the
/// next clause.
fn ends_name(c: char) -> bool {
    !is_han(c)
        || "的是在住家电手号联我今昨前要想反投请这那从说让不也都已被把给对和跟态扣拖随还就突怎没告称表所去来到于向某"
            .contains(c)
}

/// Words that begin with a surname's character but are not names (`马上`, `高三`).
const NOT_NAMES: &[&str] = &[
    "马上", "马路", "高兴", "高三", "高二", "高一", "高中", "高考", "高速", "高层", "方便", "方面",
    "方式", "方法", "白天", "黄色", "金额", "周末", "周边", "周围", "安全", "安排", "安装", "常常",
    "常年", "于是", "文件", "文明", "林业", "石头", "万一", "钱包", "严重", "武警", "温度", "康复",
    "施工", "牛奶", "易燃", "颜色", "章程", "童年", "江边", "路边", "许多", "陆续", "任何", "任务",
    "宋体", "秦岭", "石油", "夏天", "夏季", "冬天", "齐全", "毛病", "龙头", "雷雨", "史上", "程序",
    "范围", "唐装", "田地", "曾经", "邻居", "向东", "向西", "向南", "向北", "孔洞", "何时", "何处",
    "谢谢", "余额", "杜绝", "叶子", "鲁莽", "孟春", "温暖", "左右", "汤水", "祁连", "康乐", "丁字",
    "姜汤", "平安",
];

fn surname_at(chars: &[char], at: usize) -> Option<usize> {
    if let Some(d) = DOUBLE_SURNAMES.iter().find(|d| starts_with(chars, at, d)) {
        return Some(d.chars().count());
    }
    chars
        .get(at)
        .is_some_and(|c| SURNAMES.contains(*c))
        .then_some(1)
}

fn not_a_name(chars: &[char], at: usize) -> bool {
    NOT_NAMES.iter().any(|w| starts_with(chars, at, w))
}

/// Words that make what comes before them a place (`马坊小区`), not a name.
const PLACE_STARTS: &[&str] = &[
    "小区", "社区", "村", "路", "街", "区", "县", "镇", "乡", "花园", "家园", "苑", "大厦", "公司",
    "医院", "学校", "市", "省",
];

fn names(chars: &[char], spans: &mut Vec<Span>) {
    // A surname with a form of address: the surname goes (`王女士` → `某女士`).
    for h in HONORIFICS {
        for at in find_all(chars, h) {
            for len in [2, 1] {
                if at < len {
                    continue;
                }
                let s = at - len;
                if surname_at(chars, s) == Some(len) {
                    spans.push(Span {
                        start: s,
                        end: at,
                        kind: PersonalKind::Name,
                        replacement: "某".into(),
                    });
                    break;
                }
            }
        }
    }
    // A surname already half-hidden (`张某`, `马某某`): the surname goes too.
    for at in find_all(chars, "某") {
        if at == 0 || surname_at(chars, at - 1).is_none_or(|n| n != 1) {
            continue;
        }
        let s = at - 1;
        // `向某部门`, `于某日`: a preposition, not a surname.
        if "向于对在".contains(chars[s])
            && chars.get(at + 1).is_some_and(|c| is_han(*c) && *c != '某')
        {
            continue;
        }
        spans.push(Span {
            start: s,
            end: at,
            kind: PersonalKind::Name,
            replacement: "某".into(),
        });
    }
    // A surname said alone (`我姓李`).
    for at in find_all(chars, "姓") {
        if at > 0 && chars[at - 1] == '百' {
            continue;
        }
        let s = at + 1;
        if let Some(n) = surname_at(chars, s) {
            spans.push(Span {
                start: s,
                end: s + n,
                kind: PersonalKind::Name,
                replacement: "某".into(),
            });
        }
    }
    // A name after its cue.
    for cue in NAME_CUES {
        for at in find_all(chars, cue) {
            let mut s = at + cue.chars().count();
            while chars.get(s).is_some_and(|c| matches!(c, ':' | '：' | ' ')) {
                s += 1;
            }
            let Some(n) = surname_at(chars, s) else {
                continue;
            };
            // After `我叫`, `向东` is a name; after `邻居` or `老人`, words are words.
            let strong = STRONG_NAME_CUES.contains(cue);
            if !strong && not_a_name(chars, s) {
                continue;
            }
            let given_start = s + n;
            if HONORIFICS
                .iter()
                .any(|h| starts_with(chars, given_start, h))
                || chars.get(given_start) == Some(&'某')
            {
                continue;
            }
            let mut e = given_start;
            while e < chars.len() && e - given_start < 2 && !ends_name(chars[e]) {
                e += 1;
            }
            if e == given_start
                || PLACE_STARTS.iter().any(|p| starts_with(chars, e, p))
                || PLACE_STARTS
                    .iter()
                    .any(|p| starts_with(chars, given_start + 1, p))
            {
                continue;
            }
            spans.push(Span::new(s, e, PersonalKind::Name));
        }
    }
}

/// The ends of the names of places below the street.
const PLACE_MARKS: &[&str] = &[
    "小区", "花园", "家园", "公寓", "新村", "社区", "村", "苑", "大院",
];

/// Characters that end the word before a place's name.
fn before_place(c: char) -> bool {
    !is_han(c) || "区路街道镇乡县巷的在住于是们个这那某该本各其我你他她和与到".contains(c)
}

fn places(chars: &[char], spans: &mut Vec<Span>) {
    for mark in PLACE_MARKS {
        for at in find_all(chars, mark) {
            let mut s = at;
            while s > 0 && at - s < 6 && !before_place(chars[s - 1]) {
                s -= 1;
            }
            if at - s < 2 || (s > 0 && !before_place(chars[s - 1])) {
                continue;
            }
            spans.push(Span {
                start: s,
                end: at,
                kind: PersonalKind::Place,
                replacement: "某".into(),
            });
        }
    }
}

/// What to take out of a stored record (a ticket's view, an event).
#[derive(Debug, Clone, Default)]
pub struct Scrub {
    /// The citizen's fields (name, phone, WeChat follower id) emptied, and the names and
    /// phone numbers in the texts taken out.
    pub contact: bool,
    /// Every personal datum of the texts taken out, places below the street with them.
    pub content: bool,
    /// The reference of the call's recording (`recording`) emptied.
    pub recordings: bool,
    /// The citizen's own name and phone, taken out wherever they appear.
    pub known: Vec<(PersonalKind, String)>,
}

/// Keys whose values are codes, never free text: left as they are.
const STRUCTURAL_KEYS: &[&str] = &[
    "type",
    // Emptied whole with the recordings, never read as text.
    "recording",
    "number",
    "tracking_code",
    "channel",
    "kind",
    "state",
    "role",
    "source",
    "resolution",
    "satisfaction",
    "category_code",
    "suggested_category_code",
    "division_code",
    "emergency",
    "at",
    "sha256",
    "thumbnail_sha256",
    "id",
    "code",
    "level",
    "action",
];

/// The citizen's fields a contact scrub empties.
const CITIZEN_FIELDS: &[&str] = &["name", "phone", "wechat_openid"];

/// Takes personal data out of a stored record in place (a JSON value: a ticket's view or
/// an event's data), keeping its shape: codes, dates and numbers stay, the citizen's fields
/// become `null`, texts lose what `scrub` asks. Returns how many data were taken out.
pub fn scrub_record(value: &mut serde_json::Value, scrub: &Scrub) -> usize {
    use serde_json::Value;
    let mut n = 0;
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if scrub.contact
                    && key == "citizen"
                    && let Value::Object(citizen) = v
                {
                    for f in CITIZEN_FIELDS {
                        if let Some(field) = citizen.get_mut(*f)
                            && !field.is_null()
                        {
                            *field = Value::Null;
                            n += 1;
                        }
                    }
                    continue;
                }
                if scrub.recordings && key == "recording" && v.is_string() {
                    *v = Value::Null;
                    n += 1;
                    continue;
                }
                if STRUCTURAL_KEYS.contains(&key.as_str()) && !v.is_object() && !v.is_array() {
                    continue;
                }
                n += scrub_record(v, scrub);
            }
        }
        Value::Array(items) => {
            for item in items {
                n += scrub_record(item, scrub);
            }
        }
        // A date or a time (`2026-12-07T02:12:13.912345678Z`: its seconds and fraction
        // would read as a phone number) is never personal.
        Value::String(text) if is_timestamp(text) => {}
        Value::String(text) => {
            let (clean, removed) = scrub_text(text, scrub);
            if removed > 0 {
                *text = clean;
                n += removed;
            }
        }
        _ => {}
    }
    n
}

/// Forgets what a typical case's drafting took out (its `removed` list's originals, kept
/// for the editor), wherever the record holds such a list: each original becomes its
/// replacement. Returns how many were forgotten.
pub fn forget_removed_originals(value: &mut serde_json::Value) -> usize {
    use serde_json::Value;
    let mut n = 0;
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if key == "removed"
                    && let Value::Array(items) = v
                {
                    for item in items.iter_mut() {
                        let replacement = item["replacement"].clone();
                        if let Some(original) = item.get_mut("original")
                            && replacement.is_string()
                            && *original != replacement
                        {
                            *original = replacement;
                            n += 1;
                        }
                    }
                } else {
                    n += forget_removed_originals(v);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                n += forget_removed_originals(item);
            }
        }
        _ => {}
    }
    n
}

fn is_timestamp(text: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
            .expect("the timestamp pattern compiles")
    })
    .is_match(text)
}

/// One free text scrubbed: all its personal data (`content`), or its names and phone
/// numbers only (`contact`).
fn scrub_text(text: &str, scrub: &Scrub) -> (String, usize) {
    if !scrub.contact && !scrub.content {
        return (text.to_string(), 0);
    }
    let found = anonymise(
        text,
        &Options {
            generalise_places: scrub.content,
            known: scrub.known.clone(),
        },
    );
    if scrub.content {
        let n = found.removed.len();
        return (found.text, n);
    }
    // Contact only: the names and numbers go, the rest of what was found stays.
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    let mut n = 0;
    for r in found
        .removed
        .iter()
        .filter(|r| matches!(r.kind, PersonalKind::Name | PersonalKind::Phone))
    {
        out.extend(&chars[at..r.at]);
        out.push_str(&r.replacement);
        at = r.at + r.original.chars().count();
        n += 1;
    }
    out.extend(&chars[at..]);
    (out, n)
}

#[cfg(test)]
mod tests;
