//! Channels (渠道) and the hotlines merged into 12345 (整合热线), as data an administrator
//! keeps. A request names its channel by code; the channels a city has are rows, not code,
//! except the few whose endpoints the product serves (the portal, SMS, WeChat, Open311,
//! the exchange with other platforms), which must exist and cannot be renamed away.

use crate::types::ChannelKind;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// A channel's code: a lowercase ASCII letter, then letters, digits or `_`; at most 32.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Channel(Cow<'static, str>);

/// Why a text is not a channel's code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a channel code: a lowercase letter, then lowercase letters, digits or `_`, at most 32"
)]
pub struct BadChannelCode(pub String);

impl Channel {
    /// 12345 by telephone.
    pub const PHONE: Channel = Channel(Cow::Borrowed("phone"));
    /// A hotline merged into 12345 (12369, 12318 …): the line is the ticket's `channel_detail`.
    pub const MERGED_LINE: Channel = Channel(Cow::Borrowed("merged_line"));
    /// The public portal.
    pub const WEB: Channel = Channel(Cow::Borrowed("web"));
    pub const WECHAT: Channel = Channel(Cow::Borrowed("wechat"));
    pub const APP: Channel = Channel(Cow::Borrowed("app"));
    pub const OPEN311: Channel = Channel(Cow::Borrowed("open311"));
    pub const EMAIL: Channel = Channel(Cow::Borrowed("email"));
    pub const SMS: Channel = Channel(Cow::Borrowed("sms"));
    /// Grid workers' patrol reports.
    pub const GRID: Channel = Channel(Cow::Borrowed("grid"));
    pub const MAILBOX: Channel = Channel(Cow::Borrowed("mailbox"));
    pub const OTHER: Channel = Channel(Cow::Borrowed("other"));

    /// The longest code.
    pub const MAX_LEN: usize = 32;

    /// A code, checked for its form (whether a channel of that code exists is the store's).
    pub fn new(code: &str) -> Result<Channel, BadChannelCode> {
        let mut chars = code.chars();
        let well_formed = code.len() <= Self::MAX_LEN
            && chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if well_formed {
            Ok(Channel(Cow::Owned(code.to_string())))
        } else {
            Err(BadChannelCode(code.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Channel {
    type Err = BadChannelCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::new(s)
    }
}

impl Serialize for Channel {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Channel {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Channel::new(&s).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for Channel {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^[a-z][a-z0-9_]{0,31}$"))
            .description(Some(
                "A channel's code (`GET /api/v1/channels` lists them): phone, merged_line, web, wechat, mini_program, app, sms, mailbox, people_board, grid, police_110, province, visit …",
            ))
            .examples(["phone"])
            .into()
    }
}

impl utoipa::ToSchema for Channel {}

/// A channel as an administrator keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChannelDef {
    pub code: Channel,
    /// Its name for people, in Chinese.
    pub name: String,
    /// Its name in English.
    pub name_en: String,
    pub kind: ChannelKind,
    /// Whether requests may be taken on it now (an inactive channel keeps its tickets).
    pub active: bool,
    /// Whether the product serves its endpoint (it may be renamed, not switched off).
    pub built_in: bool,
}

/// A channel as written (`PUT /api/v1/channels/{code}`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelInput {
    /// 1–40 characters.
    pub name: String,
    /// 1–60 characters.
    pub name_en: String,
    pub kind: ChannelKind,
    pub active: bool,
}

/// The channels whose endpoints the product serves: they are always there and active.
pub const BUILT_IN: &[Channel] = &[
    Channel::PHONE,
    Channel::MERGED_LINE,
    Channel::WEB,
    Channel::WECHAT,
    Channel::OPEN311,
    Channel::SMS,
    Channel::GRID,
    Channel::OTHER,
];

/// The channels a new database starts with (code, name, English name, kind), in the order
/// they are listed: the seed's ten intake channels and the platforms that hand requests over.
pub const DEFAULTS: &[(Channel, &str, &str, ChannelKind)] = &[
    (
        Channel::PHONE,
        "12345热线",
        "12345 hotline",
        ChannelKind::Phone,
    ),
    (
        Channel::MERGED_LINE,
        "整合热线",
        "Merged hotlines",
        ChannelKind::Phone,
    ),
    (
        Channel::WEB,
        "政府网站",
        "Government website",
        ChannelKind::Online,
    ),
    (Channel::APP, "政务APP", "Government app", ChannelKind::App),
    (
        Channel::WECHAT,
        "微信公众号",
        "WeChat official account",
        ChannelKind::App,
    ),
    (
        Channel(Cow::Borrowed("mini_program")),
        "小程序",
        "Mini program",
        ChannelKind::App,
    ),
    (Channel::SMS, "短信", "SMS", ChannelKind::Online),
    (
        Channel::MAILBOX,
        "领导信箱",
        "Leaders' mailbox",
        ChannelKind::Online,
    ),
    (
        Channel(Cow::Borrowed("people_board")),
        "人民网留言板",
        "People's Daily message board",
        ChannelKind::Online,
    ),
    (Channel::EMAIL, "电子邮件", "Email", ChannelKind::Online),
    (
        Channel::OPEN311,
        "Open311接口",
        "Open311 API",
        ChannelKind::Online,
    ),
    (
        Channel::GRID,
        "网格员上报",
        "Grid workers' reports",
        ChannelKind::Other,
    ),
    (
        Channel(Cow::Borrowed("police_110")),
        "110转办",
        "Transferred by 110",
        ChannelKind::Exchange,
    ),
    (
        Channel(Cow::Borrowed("province")),
        "省平台转办",
        "From the provincial platform",
        ChannelKind::Exchange,
    ),
    (
        Channel(Cow::Borrowed("visit")),
        "来访",
        "Walk-in",
        ChannelKind::Other,
    ),
    (Channel::OTHER, "其他", "Other", ChannelKind::Other),
];

/// Checks a channel as written; the channel it becomes.
pub fn check_channel(
    code: &str,
    input: ChannelInput,
    built_in: bool,
) -> Result<ChannelDef, (&'static str, String)> {
    let code = Channel::new(code).map_err(|e| ("code", e.to_string()))?;
    let name = input.name.trim().to_string();
    let name_en = input.name_en.trim().to_string();
    let count = |s: &str| s.chars().count();
    if !(1..=40).contains(&count(&name)) || name.chars().any(char::is_control) {
        return Err((
            "name",
            "must be 1 to 40 characters, none of them control".into(),
        ));
    }
    if !(1..=60).contains(&count(&name_en)) || name_en.chars().any(char::is_control) {
        return Err((
            "name_en",
            "must be 1 to 60 characters, none of them control".into(),
        ));
    }
    if built_in && !input.active {
        return Err((
            "active",
            format!("`{code}` is served by the product itself and cannot be switched off"),
        ));
    }
    Ok(ChannelDef {
        code,
        name,
        name_en,
        kind: input.kind,
        active: input.active,
        built_in,
    })
}

/// A hotline merged into 12345 (12369 环保, 12318 文化市场 …): calls on it are taken on channel
/// `merged_line` with its number, and go by default to its category or unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HotlineLine {
    /// 3 to 8 digits.
    pub number: String,
    pub name: String,
    /// The category a request on this line is given when the operator names none.
    pub category_code: Option<String>,
    /// The unit it is proposed to (the line's owner), when there is one.
    pub unit_id: Option<i64>,
    pub active: bool,
}

/// A line as written (`PUT /api/v1/lines/{number}`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineInput {
    /// 1–40 characters.
    pub name: String,
    #[serde(default)]
    pub category_code: Option<String>,
    #[serde(default)]
    pub unit_id: Option<i64>,
    pub active: bool,
}

/// Checks a line as written (whether its category and unit exist is the store's).
pub fn check_line(number: &str, input: LineInput) -> Result<HotlineLine, (&'static str, String)> {
    if !(3..=8).contains(&number.len()) || !number.chars().all(|c| c.is_ascii_digit()) {
        return Err(("number", format!("`{number}` is not 3 to 8 digits")));
    }
    let name = input.name.trim().to_string();
    if !(1..=40).contains(&name.chars().count()) || name.chars().any(char::is_control) {
        return Err((
            "name",
            "must be 1 to 40 characters, none of them control".into(),
        ));
    }
    let category_code = input
        .category_code
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    Ok(HotlineLine {
        number: number.to_string(),
        name,
        category_code,
        unit_id: input.unit_id,
        active: input.active,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_lowercase_words() {
        for ok in ["phone", "merged_line", "police_110", "a", &"x".repeat(32)] {
            assert_eq!(Channel::new(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "",
            "Phone",
            "1phone",
            "_x",
            "weixin-mp",
            "电话",
            &"x".repeat(33),
            "a b",
        ] {
            assert!(Channel::new(bad).is_err(), "{bad}");
        }
        let e = Channel::new("Fax").unwrap_err().to_string();
        assert!(e.contains("`Fax`"), "{e}");
    }

    #[test]
    fn codes_read_and_write_as_strings() {
        assert_eq!(serde_json::to_string(&Channel::PHONE).unwrap(), "\"phone\"");
        let c: Channel = serde_json::from_str("\"people_board\"").unwrap();
        assert_eq!(c.as_str(), "people_board");
        assert!(serde_json::from_str::<Channel>("\"Nope\"").is_err());
        assert_eq!("sms".parse::<Channel>().unwrap(), Channel::SMS);
        assert_eq!(Channel::new("phone").unwrap(), Channel::PHONE);
    }

    #[test]
    fn the_defaults_hold_every_built_in_channel_once() {
        for b in BUILT_IN {
            assert_eq!(DEFAULTS.iter().filter(|d| &d.0 == b).count(), 1, "{b}");
        }
        let mut codes: Vec<&str> = DEFAULTS.iter().map(|d| d.0.as_str()).collect();
        assert!(codes.iter().all(|c| Channel::new(c).is_ok()));
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), DEFAULTS.len());
    }

    #[test]
    fn channels_are_checked() {
        let input = |name: &str, active: bool| ChannelInput {
            name: name.into(),
            name_en: "Douyin".into(),
            kind: ChannelKind::App,
            active,
        };
        let c = check_channel("douyin", input(" 抖音 ", true), false).unwrap();
        assert_eq!(
            (c.name.as_str(), c.active, c.built_in),
            ("抖音", true, false)
        );
        assert_eq!(
            check_channel("Douyin", input("抖音", true), false)
                .unwrap_err()
                .0,
            "code"
        );
        assert_eq!(
            check_channel("douyin", input("", true), false)
                .unwrap_err()
                .0,
            "name"
        );
        assert_eq!(
            check_channel("douyin", input("a\u{7}", true), false)
                .unwrap_err()
                .0,
            "name"
        );
        // A channel the product serves may be renamed, not switched off.
        assert!(check_channel("web", input("网站", true), true).is_ok());
        assert_eq!(
            check_channel("web", input("网站", false), true)
                .unwrap_err()
                .0,
            "active"
        );
        assert!(check_channel("douyin", input("抖音", false), false).is_ok());
    }

    #[test]
    fn lines_are_checked() {
        let input = |name: &str, category: Option<&str>| LineInput {
            name: name.into(),
            category_code: category.map(String::from),
            unit_id: None,
            active: true,
        };
        let l = check_line("12369", input("环保热线", Some(" 0601 "))).unwrap();
        assert_eq!(l.category_code.as_deref(), Some("0601"));
        assert_eq!(
            check_line("12369", input("环保热线", Some("")))
                .unwrap()
                .category_code,
            None
        );
        for bad in ["12", "123456789", "1236a", ""] {
            assert_eq!(
                check_line(bad, input("x", None)).unwrap_err().0,
                "number",
                "{bad}"
            );
        }
        assert_eq!(check_line("12315", input(" ", None)).unwrap_err().0, "name");
    }
}
