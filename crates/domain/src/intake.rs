//! Receiving a request (受理): the create body, validated, becomes the `received` event.

use crate::channel::Channel;
use crate::error::DomainError;
use crate::lifecycle::{EventKind, from_json, optional_text};
use crate::ticket::Citizen;
use crate::types::Kind;
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

/// Longest request content, in characters.
pub const MAX_CONTENT_CHARS: usize = 20_000;
/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Characters of the content used as a title when none is given.
const DERIVED_TITLE_CHARS: usize = 40;

/// The citizen as the create body names them.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewCitizen)]
pub struct CitizenBody {
    #[schema(max_length = 50)]
    pub name: Option<String>,
    /// A mainland mobile or landline number.
    pub phone: Option<String>,
    /// Do not text me (no receipt, reply or rating request by SMS).
    #[schema(default = false)]
    pub no_sms: Option<bool>,
}

/// The body of `POST /api/v1/tickets`, as it arrives (validated by [`NewTicket::parse`]).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateTicket)]
pub struct CreateBody {
    pub channel: Channel,
    /// e.g. the merged hotline's number.
    #[schema(max_length = 100)]
    pub channel_detail: Option<String>,
    /// The call's recording in the telephone system: its id there, or an `https://`
    /// address of it.
    #[schema(max_length = 200)]
    pub recording: Option<String>,
    pub kind: Kind,
    #[schema(max_length = 200)]
    pub title: Option<String>,
    #[schema(max_length = 20000)]
    pub content: String,
    pub citizen: Option<CitizenBody>,
    #[schema(default = false)]
    pub confidential: Option<bool>,
    #[schema(max_length = 500)]
    pub address: Option<String>,
    pub category_code: Option<String>,
    pub division_code: Option<String>,
    /// The category the system proposed while the request was taken, if one was shown (kept
    /// beside the operator's choice; see /api/v1/classifier/feedback).
    pub suggested_category_code: Option<String>,
    /// An open ticket about the same matter (a duplicate or a repeat caller, see suggest):
    /// the request is received and merged into it at once, and not dispatched on its own;
    /// refused whole (nothing written) if that ticket does not exist or is closed. The
    /// application takes it out of the body before the rest is read.
    #[serde(default)]
    pub merge_into: Option<i64>,
}

/// The body of `POST /api/v1/patrol-reports`: what a community's grid worker found on
/// patrol (网格上报). It comes from the `grid` channel and names the place it was found.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PatrolReport)]
pub struct PatrolBody {
    pub kind: Kind,
    #[schema(max_length = 200)]
    pub title: Option<String>,
    /// What was found, or what the resident told the grid worker.
    #[schema(max_length = 20000)]
    pub content: String,
    /// The resident who raised it, if one did.
    pub citizen: Option<CitizenBody>,
    #[schema(default = false)]
    pub confidential: Option<bool>,
    /// Where it was found (required).
    #[schema(max_length = 500)]
    pub address: String,
    pub category_code: Option<String>,
    pub division_code: Option<String>,
    /// What the community did about it, when it resolved the matter itself (就地办结): the
    /// ticket then ends at once, counted apart from the hotline's own answers.
    #[schema(max_length = 5000)]
    pub resolved_on_spot: Option<String>,
}

/// A validated patrol report: the request, and what was done on the spot if the community
/// resolved it itself.
#[derive(Debug, Clone, PartialEq)]
pub struct PatrolReport {
    pub request: NewTicket,
    pub resolved_on_spot: Option<String>,
}

impl PatrolReport {
    /// Parses and validates the body of `POST /api/v1/patrol-reports` for the community
    /// `unit_id` (the grid worker's).
    pub fn parse(body: serde_json::Value, unit_id: i64) -> Result<PatrolReport, DomainError> {
        let b: PatrolBody = from_json(body)?;
        let resolved_on_spot = optional_text("resolved_on_spot", b.resolved_on_spot)?;
        if b.address.trim().is_empty() {
            return Err(DomainError::invalid(
                "address",
                "is required: where the matter was found on patrol",
            ));
        }
        let mut request = NewTicket::validate(CreateBody {
            channel: Channel::GRID,
            channel_detail: None,
            recording: None,
            kind: b.kind,
            title: b.title,
            content: b.content,
            citizen: b.citizen,
            confidential: b.confidential,
            address: Some(b.address),
            category_code: b.category_code,
            division_code: b.division_code,
            suggested_category_code: None,
            merge_into: None,
        })?;
        request.reported_by_unit_id = Some(unit_id);
        Ok(PatrolReport {
            request,
            resolved_on_spot,
        })
    }
}

/// How the place (division) of a request was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlaceHow {
    /// Named by whoever took the request.
    Given,
    /// Resolved from the address the citizen gave.
    Address,
    /// Resolved from the request's words (no address, or an address naming nothing known).
    Content,
    /// Not sure enough: left for the dispatcher, with the candidates.
    Unresolved,
    /// A patrol report whose words named no sure place: the reporting community's own
    /// (grid workers report from their grid).
    Reporter,
    /// Set by a correction (`relocate`).
    Corrected,
}

/// How a ticket's place was decided, and what else it could be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlaceFinding {
    pub how: PlaceHow,
    /// How sure the resolution was (0..1), when it was resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
    /// Divisions the words could mean when none was sure enough, most likely first: the
    /// dispatcher picks (`relocate`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<String>,
}

/// A validated new request.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTicket {
    pub channel: Channel,
    pub channel_detail: Option<String>,
    pub recording: Option<String>,
    pub kind: Kind,
    pub title: String,
    pub content: String,
    pub citizen: Citizen,
    pub confidential: bool,
    pub address: Option<String>,
    pub category_code: Option<String>,
    pub division_code: Option<String>,
    /// The category the system proposed while the request was taken, if one was shown.
    pub suggested_category_code: Option<String>,
    /// The community whose grid worker reported the matter on patrol (网格上报); set by the
    /// patrol use case, never read from a request body.
    pub reported_by_unit_id: Option<i64>,
    /// How the place was decided; set by the application when it receives the request.
    pub place: Option<PlaceFinding>,
    /// The emergency number the words call for; set by the application when it receives
    /// the request.
    pub emergency: Option<String>,
    /// The platform that handed it over; set by the exchange's use case, never read from a
    /// request body.
    pub exchange: Option<crate::exchange::ExchangeOrigin>,
}

fn bounded(field: &str, v: Option<String>, max: usize) -> Result<Option<String>, DomainError> {
    let v = optional_text(field, v)?;
    if let Some(s) = &v {
        let n = s.chars().count();
        if n > max {
            return Err(DomainError::invalid(
                field,
                format!("is {n} characters long; at most {max} are allowed"),
            ));
        }
    }
    Ok(v)
}

/// A call's recording as the telephone system names it: an id (letters, digits and
/// `-_.:/`) or an `https://` address, at most 200 characters, no spaces. Anything else
/// would be a link to somewhere else or text that does not belong here.
fn recording_ref(v: Option<String>) -> Result<Option<String>, DomainError> {
    let v = bounded("recording", v, 200)?;
    if let Some(s) = &v {
        let id_like = s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/".contains(c));
        let address = s.starts_with("https://");
        let scheme = s.contains("://") || s.starts_with("//");
        if !id_like || (scheme && !address) {
            return Err(DomainError::invalid(
                "recording",
                "must be the telephone system's id of the call's recording (letters, digits, - _ . : /) or an https:// address",
            ));
        }
    }
    Ok(v)
}

fn code(field: &str, v: Option<String>) -> Result<Option<String>, DomainError> {
    let v = bounded(field, v, 32)?;
    if let Some(s) = &v
        && !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_')
    {
        return Err(DomainError::invalid(
            field,
            format!("`{s}` is not a code (letters, digits, '.', '-', '_')"),
        ));
    }
    Ok(v)
}

/// A phone number as callers give it, with optional `+`, `-`, `( )` and spaces, in the one
/// form it is kept and looked up in: a mainland mobile (11 digits from 13 to 19) as its 11
/// digits; a landline with its area code (0 and 9 to 11 digits more) as `0971-8123456` (the
/// area code is 3 digits after 01 and 02, else 4); a local number (7 or 8 digits, not from
/// 0 or 1) as its digits; each may be given after `+86`; another country's number after `+`
/// (7 to 15 digits) as `+` and its digits. `None` for anything else: `123` is no number a
/// citizen can be called back on.
pub fn canonical_phone(v: &str) -> Option<String> {
    if !v
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')'))
    {
        return None;
    }
    let digits: String = v.chars().filter(char::is_ascii_digit).collect();
    let national = match (v.trim_start().starts_with('+'), digits.strip_prefix("86")) {
        (true, Some(rest)) => rest,
        (true, None) => {
            return (7..=15)
                .contains(&digits.len())
                .then(|| format!("+{digits}"));
        }
        (false, _) => digits.as_str(),
    };
    let b = national.as_bytes();
    if national.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) {
        return Some(national.to_string());
    }
    if (10..=12).contains(&national.len()) && b[0] == b'0' {
        let area = if matches!(b[1], b'1' | b'2') { 3 } else { 4 };
        return Some(format!("{}-{}", &national[..area], &national[area..]));
    }
    if (7..=8).contains(&national.len()) && !matches!(b[0], b'0' | b'1') {
        return Some(national.to_string());
    }
    None
}

/// Validates a phone number ([`canonical_phone`]) and gives it in its one form.
pub fn validate_phone(field: &str, v: Option<String>) -> Result<Option<String>, DomainError> {
    let Some(v) = bounded(field, v, 32)? else {
        return Ok(None);
    };
    match canonical_phone(&v) {
        Some(phone) => Ok(Some(phone)),
        None => Err(DomainError::invalid(
            field,
            format!(
                "`{v}` is not a phone number: a mobile (11 digits), a landline (with or without its area code) or +country and number"
            ),
        )),
    }
}

impl NewTicket {
    /// Parses and validates the body of `POST /api/v1/tickets`.
    pub fn parse(body: serde_json::Value) -> Result<NewTicket, DomainError> {
        NewTicket::validate(from_json(body)?)
    }

    /// Validates a create body as read.
    pub(crate) fn validate(b: CreateBody) -> Result<NewTicket, DomainError> {
        let content = b.content.trim().to_string();
        if content.is_empty() {
            return Err(DomainError::invalid(
                "content",
                "is required and must not be empty",
            ));
        }
        let n = content.chars().count();
        if n > MAX_CONTENT_CHARS {
            return Err(DomainError::invalid(
                "content",
                format!("is {n} characters long; at most {MAX_CONTENT_CHARS} are allowed"),
            ));
        }
        let title = match bounded("title", b.title, MAX_TITLE_CHARS)? {
            Some(t) => t,
            None => derive_title(&content),
        };
        let citizen = match b.citizen {
            Some(c) => Citizen {
                name: bounded("citizen.name", c.name, 50)?,
                phone: validate_phone("citizen.phone", c.phone)?,
                no_sms: c.no_sms.unwrap_or(false),
                wechat_openid: None,
            },
            None => Citizen::default(),
        };
        let channel_detail = bounded("channel_detail", b.channel_detail, 100)?;
        Ok(NewTicket {
            channel: b.channel,
            channel_detail,
            recording: recording_ref(b.recording)?,
            kind: b.kind,
            title,
            content,
            citizen,
            confidential: b.confidential.unwrap_or(false),
            address: bounded("address", b.address, 500)?,
            category_code: code("category_code", b.category_code)?,
            division_code: code("division_code", b.division_code)?,
            suggested_category_code: code("suggested_category_code", b.suggested_category_code)?,
            reported_by_unit_id: None,
            place: None,
            emergency: None,
            exchange: None,
        })
    }

    /// The `received` event of this request, with its human number and tracking code.
    pub fn into_event(self, number: String, tracking_code: String) -> EventKind {
        EventKind::Received {
            number,
            tracking_code,
            channel: self.channel,
            channel_detail: self.channel_detail,
            recording: self.recording,
            kind: self.kind,
            title: self.title,
            content: self.content,
            citizen: self.citizen,
            confidential: self.confidential,
            address: self.address,
            category_code: self.category_code,
            division_code: self.division_code,
            suggested_category_code: self.suggested_category_code,
            reported_by_unit_id: self.reported_by_unit_id,
            place: self.place,
            emergency: self.emergency,
            exchange: self.exchange,
        }
    }
}

/// The first line of the content, cut to a short title.
pub fn derive_title(content: &str) -> String {
    let first = content
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(content)
        .trim();
    let mut t: String = first.chars().take(DERIVED_TITLE_CHARS).collect();
    if first.chars().count() > DERIVED_TITLE_CHARS {
        t.push('…');
    }
    t
}

/// China Standard Time (Asia/Shanghai has had no daylight saving since 1991).
pub fn china_offset() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

/// The human ticket number: prefix, the business date in Asia/Shanghai, a daily sequence.
/// `format_number("XN", t, 123)` → `XN20261128000123`.
pub fn format_number(prefix: &str, at: DateTime<Utc>, seq: i64) -> String {
    let local = at.with_timezone(&china_offset());
    format!("{prefix}{}{seq:06}", local.format("%Y%m%d"))
}

/// The counter key for a day's sequence of ticket numbers.
pub fn number_day_key(at: DateTime<Utc>) -> String {
    at.with_timezone(&china_offset())
        .format("%Y%m%d")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn ok_body() -> serde_json::Value {
        json!({"channel":"phone","kind":"complaint","content":"小区门口违法停车严重","citizen":{"name":"张三","phone":"13812345678"}})
    }

    #[test]
    fn parses_a_minimal_request_and_derives_title() {
        let t = NewTicket::parse(ok_body()).unwrap();
        assert_eq!(t.title, "小区门口违法停车严重");
        assert_eq!(t.channel, Channel::PHONE);
        assert!(!t.confidential);
    }

    #[test]
    fn a_calls_recording_is_an_id_or_an_https_address_and_nothing_else() {
        let with = |r: &str| {
            let mut b = ok_body();
            b["recording"] = json!(r);
            NewTicket::parse(b).map(|t| t.recording)
        };
        for good in [
            "CTI-20261207-0042",
            "rec_42.wav",
            "avaya:2026/12/07/0042",
            "https://cti.example.gov.cn/rec/42",
        ] {
            assert_eq!(with(good), Ok(Some(good.to_string())), "{good}");
        }
        for bad in [
            "http://cti.example/rec/42",
            "javascript:alert(1)",
            "//evil.example/x",
            "ftp://x/y",
            "录音42",
            "a b",
        ] {
            assert_eq!(
                with(bad).unwrap_err().to_string(),
                "recording: must be the telephone system's id of the call's recording (letters, digits, - _ . : /) or an https:// address",
                "{bad}"
            );
        }
        assert!(with(&"a".repeat(201)).is_err());
        assert_eq!(with("  "), Ok(None));
    }

    fn field_of(body: serde_json::Value) -> String {
        match NewTicket::parse(body).unwrap_err() {
            DomainError::Invalid { field, .. } => field,
            e => panic!("unexpected {e:?}"),
        }
    }

    #[test]
    fn rejects_bad_input_naming_the_field() {
        let mut b = ok_body();
        b["content"] = json!("x".repeat(MAX_CONTENT_CHARS + 1));
        assert_eq!(field_of(b), "content");
        let mut b = ok_body();
        b["content"] = json!("   ");
        assert_eq!(field_of(b), "content");
        let mut b = ok_body();
        b["channel"] = json!("Fax!");
        assert_eq!(field_of(b), "channel");
        let mut b = ok_body();
        b["kind"] = json!(3);
        assert_eq!(field_of(b), "kind");
        let mut b = ok_body();
        b["colour"] = json!("red");
        assert_eq!(field_of(b), "colour");
        let mut b = ok_body();
        b["citizen"]["phone"] = json!("call me");
        assert_eq!(field_of(b), "citizen.phone");
        // Numbers a citizen can be called back on, and some that are none.
        for phone in [
            "13812345678",
            "138 1234 5678",
            "+86 138-1234-5678",
            "0971-8123456",
            "(0971) 81234567",
            "8123456",
            "+1 202 555 0100",
        ] {
            assert!(validate_phone("p", Some(phone.into())).is_ok(), "{phone}");
        }
        // Each kept in one form, so that a number typed another way finds the same caller.
        for (given, kept) in [
            ("13812345678", "13812345678"),
            ("138 1234 5678", "13812345678"),
            ("+86 138-1234-5678", "13812345678"),
            ("0971-8123456", "0971-8123456"),
            ("(0971) 81234567", "0971-81234567"),
            ("09718123456", "0971-8123456"),
            ("010 6512 3456", "010-65123456"),
            ("+86 (0971) 8123456", "0971-8123456"),
            ("8123456", "8123456"),
            ("+1 202 555 0100", "+12025550100"),
        ] {
            assert_eq!(canonical_phone(given).as_deref(), Some(kept), "{given}");
        }
        for phone in [
            "123",
            "12345",
            "1381234567",
            "23812345678",
            "0971",
            "+86 123",
            "+1 23",
        ] {
            let mut b = ok_body();
            b["citizen"]["phone"] = json!(phone);
            assert_eq!(field_of(b), "citizen.phone", "{phone}");
        }
        let mut b = ok_body();
        b["citizen"]["age"] = json!(3);
        assert_eq!(field_of(b), "citizen.age");
        let mut b = ok_body();
        b["category_code"] = json!("城建;drop");
        assert_eq!(field_of(b), "category_code");
        let mut b = ok_body();
        b.as_object_mut().unwrap().remove("content");
        assert_eq!(field_of(b), "content");
        assert_eq!(field_of(json!([1, 2])), "body");
    }

    #[test]
    fn the_proposed_category_goes_into_the_received_event_and_the_view() {
        let mut b = ok_body();
        b["category_code"] = json!("010101");
        b["suggested_category_code"] = json!("010103");
        let t = NewTicket::parse(b.clone()).unwrap();
        assert_eq!(t.suggested_category_code.as_deref(), Some("010103"));
        let kind = t.into_event("XN1".into(), "k".into());
        let e = crate::Event {
            ticket_id: 1,
            seq: 1,
            at: chrono::Utc::now(),
            actor: crate::Actor {
                user_id: 1,
                role: crate::Role::Operator,
                unit_id: None,
            },
            kind,
        };
        let view = crate::apply(None, &e).unwrap();
        assert_eq!(view.category_code.as_deref(), Some("010101"));
        assert_eq!(view.suggested_category_code.as_deref(), Some("010103"));
        // Events stored before the field existed still read.
        let mut old = serde_json::to_value(&e).unwrap();
        old.as_object_mut()
            .unwrap()
            .remove("suggested_category_code");
        let back: crate::Event = serde_json::from_value(old).unwrap();
        assert!(
            crate::apply(None, &back)
                .unwrap()
                .suggested_category_code
                .is_none()
        );
        b["suggested_category_code"] = json!("not a code!");
        let err = NewTicket::parse(b).unwrap_err().to_string();
        assert!(err.contains("suggested_category_code"), "{err}");
    }

    #[test]
    fn content_of_exactly_the_limit_is_accepted() {
        let mut b = ok_body();
        b["content"] = json!("字".repeat(MAX_CONTENT_CHARS));
        assert!(NewTicket::parse(b).is_ok());
    }

    #[test]
    fn numbers_use_the_shanghai_business_date() {
        // 2026-11-27 17:30 UTC is already 2026-11-28 01:30 in Xining.
        let at = Utc.with_ymd_and_hms(2026, 11, 27, 17, 30, 0).unwrap();
        assert_eq!(format_number("XN", at, 123), "XN20261128000123");
        assert_eq!(number_day_key(at), "20261128");
    }

    #[test]
    fn long_first_lines_are_cut_for_the_title() {
        let t = derive_title(&"长".repeat(100));
        assert_eq!(t.chars().count(), DERIVED_TITLE_CHARS + 1);
        assert!(t.ends_with('…'));
    }
}
