//! Open311 GeoReport v2 (the protocol of 311 apps such as FixMyStreet): what a service and a
//! service request look like on the wire, what a client's POST must hold, and the errors in
//! the protocol's own shape. Pure: the use cases fill these from the tickets and categories.
//!
//! The mapping: a service is a leaf category of the taxonomy (`group` its top level); a
//! service request is a ticket taken on channel `open311`, known by its number; `status` is
//! `closed` once the ticket ended; `status_notes` the answer the hotline stands behind;
//! `agency_responsible` the lead unit's name; `expected_datetime` the reply's due time.

use crate::Category;
use crate::public::{PublicState, PublicTicket};
use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;
use std::collections::HashMap;

/// The protocol's time zone for datetimes: the business time, with its offset written.
fn local(at: DateTime<Utc>) -> String {
    let offset = FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    at.with_timezone(&offset)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// A service (type of request) as listed by `services`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Service {
    pub service_code: String,
    pub service_name: String,
    pub description: String,
    /// No extra attributes: a request is its description and place.
    pub metadata: bool,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub keywords: String,
    pub group: String,
}

/// The services: the active leaf categories, each with its top level as its group, in code
/// order.
pub fn services(categories: &[&Category]) -> Vec<Service> {
    let name_of = |code: &str| {
        categories
            .iter()
            .find(|c| c.code == code)
            .map(|c| c.name.clone())
    };
    let mut leaves: Vec<&&Category> = categories
        .iter()
        .filter(|c| c.active && c.level == 3)
        .collect();
    leaves.sort_by(|a, b| a.code.cmp(&b.code));
    leaves
        .into_iter()
        .map(|c| {
            let group = name_of(&c.code[..2]).unwrap_or_default();
            let middle = name_of(&c.code[..4]).unwrap_or_default();
            Service {
                service_code: c.code.clone(),
                service_name: c.name.clone(),
                description: format!("{group} / {middle} / {}", c.name),
                metadata: false,
                kind: "realtime",
                keywords: [group.as_str(), middle.as_str()]
                    .into_iter()
                    .filter(|k| !k.is_empty())
                    .collect::<Vec<_>>()
                    .join(","),
                group,
            }
        })
        .collect()
}

/// A service's definition (`services/{code}`): no attributes beyond the description.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceDefinition {
    pub service_code: String,
    pub attributes: Vec<serde_json::Value>,
}

/// A service request as the protocol shows it. Never the citizen's name, phone or email.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceRequest {
    pub service_request_id: String,
    pub status: &'static str,
    pub status_notes: Option<String>,
    pub service_name: Option<String>,
    pub service_code: String,
    pub description: Option<String>,
    pub agency_responsible: Option<String>,
    pub service_notice: Option<String>,
    pub requested_datetime: String,
    pub updated_datetime: Option<String>,
    pub expected_datetime: Option<String>,
    pub address: Option<String>,
    pub address_id: Option<String>,
    pub zipcode: Option<String>,
    pub lat: Option<f64>,
    pub long: Option<f64>,
    pub media_url: Option<String>,
}

/// A request from the citizen's view of its ticket (what the citizen may see is what a
/// 311 app may see), with its category and its words.
pub fn service_request(
    view: &PublicTicket,
    category: Option<&Category>,
    description: &str,
    address: Option<&str>,
    updated_at: DateTime<Utc>,
) -> ServiceRequest {
    let closed = matches!(
        view.state,
        PublicState::Closed
            | PublicState::NotAccepted
            | PublicState::Merged
            | PublicState::Referred
    );
    ServiceRequest {
        service_request_id: view.number.clone(),
        status: if closed { "closed" } else { "open" },
        status_notes: view
            .answer
            .clone()
            .or_else(|| Some(view.state_label.clone())),
        service_name: category.map(|c| c.name.clone()),
        service_code: category.map(|c| c.code.clone()).unwrap_or_default(),
        description: Some(description.to_string()),
        agency_responsible: view.unit.clone(),
        service_notice: Some(view.next_step.clone()),
        requested_datetime: local(view.received_at),
        updated_datetime: Some(local(updated_at)),
        expected_datetime: view.expected_reply_by.map(local),
        address: address.map(str::to_string),
        address_id: None,
        zipcode: None,
        lat: None,
        long: None,
        media_url: None,
    }
}

/// What `POST requests` answers: the id at once (requests are taken synchronously), and a
/// token that `tokens/{token}` resolves to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Created {
    pub service_request_id: String,
    pub token: String,
    pub service_notice: String,
    pub account_id: Option<String>,
}

/// A token resolved (`tokens/{token}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenAnswer {
    pub service_request_id: String,
    pub token: String,
}

/// An error in the protocol's shape: `[{"code": 400, "description": "..."}]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Open311Error {
    pub code: u16,
    pub description: String,
}

impl Open311Error {
    pub fn new(code: u16, description: impl Into<String>) -> Open311Error {
        Open311Error {
            code,
            description: description.into(),
        }
    }
}

/// The longest description the protocol allows.
pub const MAX_DESCRIPTION: usize = 4000;

/// A request as a client posts it (form-encoded), checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    pub api_key: String,
    pub service_code: String,
    pub description: String,
    /// The place in words, or the coordinates written out when only those are given.
    pub address: String,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub jurisdiction_id: Option<String>,
}

/// A form's fields, trimmed, the empty ones left out: each at most once, none with control
/// characters.
fn fields(form: &[(String, String)]) -> Result<HashMap<&str, &str>, Open311Error> {
    let mut out = HashMap::new();
    for (k, v) in form {
        if v.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(Open311Error::new(
                400,
                format!("{k} contains control characters"),
            ));
        }
        if out.insert(k.as_str(), v.trim()).is_some() {
            return Err(Open311Error::new(400, format!("{k} given more than once")));
        }
    }
    out.retain(|_, v| !v.is_empty());
    Ok(out)
}

/// Reads a client's POST: `api_key`, `service_code` and `description` required; a place
/// required (`address_string`, or `lat` and `long` both, or `address_id`); the name from
/// `first_name`/`last_name`; `phone` kept for the hotline (never shown back). Every field
/// at most once.
pub fn parse_post(form: &[(String, String)]) -> Result<Post, Open311Error> {
    let f = fields(form)?;
    let get = |k: &str| f.get(k).map(|v| v.to_string());
    let bad = |m: String| Open311Error::new(400, m);
    let api_key = get("api_key").ok_or_else(|| Open311Error::new(403, "api_key is required"))?;
    let service_code = get("service_code").ok_or_else(|| bad("service_code is required".into()))?;
    let description = get("description").ok_or_else(|| bad("description is required".into()))?;
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(bad(format!(
            "description is longer than {MAX_DESCRIPTION} characters"
        )));
    }
    let coordinate =
        |k: &str, range: std::ops::RangeInclusive<f64>| -> Result<Option<f64>, Open311Error> {
            match get(k) {
                None => Ok(None),
                Some(v) => v
                    .parse::<f64>()
                    .ok()
                    .filter(|x| range.contains(x))
                    .map(Some)
                    .ok_or_else(|| bad(format!("{k} is not a coordinate: {v}"))),
            }
        };
    let lat = coordinate("lat", -90.0..=90.0)?;
    let long = coordinate("long", -180.0..=180.0)?;
    let address = match (get("address_string"), lat, long, get("address_id")) {
        (Some(a), _, _, _) => a,
        (None, Some(lat), Some(long), _) => format!("{lat:.6},{long:.6}"),
        (None, _, _, Some(id)) => id,
        _ => {
            return Err(bad(
                "a location is required: address_string, lat and long, or address_id".into(),
            ));
        }
    };
    let name = [get("last_name"), get("first_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("");
    Ok(Post {
        api_key,
        service_code,
        description,
        address,
        phone: get("phone"),
        name: Some(name).filter(|n| !n.is_empty()),
        jurisdiction_id: get("jurisdiction_id"),
    })
}

/// A change of a request as FixMyStreet's `servicerequestupdates` extension shows it: one
/// each time what its citizen sees changed (sent to a unit, taken up, answered, closed …).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceRequestUpdate {
    /// `{number}-{seq}`: the event that made the change.
    pub update_id: String,
    pub service_request_id: String,
    pub status: &'static str,
    pub updated_datetime: String,
    pub description: String,
    pub media_url: Option<String>,
}

/// The protocol's word for what the citizen sees (FixMyStreet's update statuses).
pub fn update_status(state: PublicState) -> &'static str {
    match state {
        PublicState::Received => "open",
        PublicState::Transferred | PublicState::RatingReview => "investigating",
        PublicState::Handling | PublicState::Answered => "in_progress",
        PublicState::Closed => "closed",
        PublicState::NotAccepted => "not_responsible",
        PublicState::Merged => "duplicate",
        PublicState::Referred => "internal_referral",
    }
}

/// The updates of a request from its events, those at `from..=to`: the events replayed, one
/// update each time the citizen's view changed state, saying what they would read (the
/// answer once there is one, else the state in plain words).
pub fn updates(
    events: &[crate::Event],
    unit_name: impl Fn(i64) -> Option<String>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<ServiceRequestUpdate> {
    let mut ticket = None;
    let mut shown: Option<PublicState> = None;
    let mut out = Vec::new();
    for e in events {
        ticket = crate::apply(ticket, e);
        let Some(t) = &ticket else { continue };
        let view = crate::public::public_view(t, &unit_name, None);
        if shown == Some(view.state) {
            continue;
        }
        shown = Some(view.state);
        if e.at < from || e.at > to {
            continue;
        }
        let description = match (&view.answer, &view.unit) {
            (Some(answer), _) => answer.clone(),
            (None, Some(unit)) => format!("{}：{unit}", view.state_label),
            (None, None) => view.state_label.clone(),
        };
        out.push(ServiceRequestUpdate {
            update_id: format!("{}-{}", t.number, e.seq),
            service_request_id: t.number.clone(),
            status: update_status(view.state),
            updated_datetime: local(e.at),
            description,
            media_url: None,
        });
    }
    out
}

/// A citizen's update a client posts (FixMyStreet's `POST servicerequestupdates`), checked.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdatePost {
    pub api_key: String,
    pub service_request_id: String,
    /// The client's own id of the update (a repeat of it changes nothing).
    pub update_id: Option<String>,
    pub description: String,
    pub jurisdiction_id: Option<String>,
}

/// Reads a client's update: `api_key`, `service_request_id` and `description` required
/// (at most 4,000 characters, no control characters); `update_id` at most 100; every
/// field at most once. The status a client proposes is not taken: the hotline decides.
pub fn parse_update_post(form: &[(String, String)]) -> Result<UpdatePost, Open311Error> {
    let f = fields(form)?;
    let get = |k: &str| f.get(k).map(|v| v.to_string());
    let bad = |m: &str| Open311Error::new(400, m);
    let api_key = get("api_key").ok_or_else(|| Open311Error::new(403, "api_key is required"))?;
    let service_request_id =
        get("service_request_id").ok_or_else(|| bad("service_request_id is required"))?;
    let description = get("description").ok_or_else(|| bad("description is required"))?;
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(bad("description is longer than 4000 characters"));
    }
    let update_id = get("update_id");
    if update_id.as_ref().is_some_and(|u| u.len() > 100) {
        return Err(bad("update_id is longer than 100 characters"));
    }
    Ok(UpdatePost {
        api_key,
        service_request_id,
        update_id,
        description,
        jurisdiction_id: get("jurisdiction_id"),
    })
}

/// What `POST servicerequestupdates` answers: the update's id here.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpdateTaken {
    pub update_id: String,
}

/// The request a client's POST becomes: channel `open311` (the client application named
/// in its detail), the service as its category, never confidential (a 311 app's reports
/// are public).
pub fn new_ticket(post: &Post, client: &str) -> Result<crate::NewTicket, crate::DomainError> {
    crate::NewTicket::validate(crate::intake::CreateBody {
        channel: crate::channel::Channel::OPEN311,
        channel_detail: Some(client.chars().take(100).collect()),
        recording: None,
        kind: crate::types::Kind::Help,
        title: None,
        content: post.description.clone(),
        citizen: Some(crate::intake::CitizenBody {
            name: post.name.clone(),
            phone: post.phone.clone(),
            no_sms: None,
        }),
        confidential: Some(false),
        address: Some(post.address.clone()),
        category_code: Some(post.service_code.clone()),
        division_code: None,
        suggested_category_code: None,
        merge_into: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_post_needs_a_key_a_service_a_description_and_a_place() {
        let ok = form(&[
            ("api_key", "k"),
            ("service_code", "010103"),
            ("description", "路灯不亮"),
            ("lat", "36.6171"),
            ("long", "101.7782"),
            ("first_name", "三"),
            ("last_name", "张"),
            ("phone", "13812345678"),
        ]);
        let p = parse_post(&ok).unwrap();
        assert_eq!(p.address, "36.617100,101.778200");
        assert_eq!(p.name.as_deref(), Some("张三"));
        let without = |k: &str| -> Vec<(String, String)> {
            ok.iter().filter(|(key, _)| key != k).cloned().collect()
        };
        assert_eq!(parse_post(&without("api_key")).unwrap_err().code, 403);
        assert_eq!(parse_post(&without("service_code")).unwrap_err().code, 400);
        assert_eq!(parse_post(&without("description")).unwrap_err().code, 400);
        let e = parse_post(&without("long")).unwrap_err();
        assert!(e.description.contains("location"), "{e:?}");
        let mut twice = ok.clone();
        twice.push(("service_code".into(), "010101".into()));
        assert!(
            parse_post(&twice)
                .unwrap_err()
                .description
                .contains("more than once")
        );
        let mut far = without("lat");
        far.push(("lat".into(), "91".into()));
        assert!(parse_post(&far).unwrap_err().description.contains("lat"));
        let mut address = without("lat");
        address.push(("address_string".into(), "城东区东关大街".into()));
        assert_eq!(parse_post(&address).unwrap().address, "城东区东关大街");
        let mut control = without("description");
        control.push(("description".into(), "a\u{7}b".into()));
        assert!(parse_post(&control).is_err());
        let mut long = without("description");
        long.push(("description".into(), "字".repeat(MAX_DESCRIPTION + 1)));
        assert!(parse_post(&long).is_err());
    }

    #[test]
    fn an_update_needs_a_key_a_request_and_words() {
        let ok = form(&[
            ("api_key", "k"),
            ("service_request_id", "XN20261206000001"),
            ("update_id", "fms-1"),
            ("status", "OPEN"),
            ("description", "还有电线裸露"),
        ]);
        let u = parse_update_post(&ok).unwrap();
        assert_eq!(
            (u.service_request_id.as_str(), u.update_id.as_deref()),
            ("XN20261206000001", Some("fms-1"))
        );
        let without = |k: &str| -> Vec<(String, String)> {
            ok.iter().filter(|(key, _)| key != k).cloned().collect()
        };
        assert_eq!(
            parse_update_post(&without("api_key")).unwrap_err().code,
            403
        );
        assert_eq!(
            parse_update_post(&without("service_request_id"))
                .unwrap_err()
                .code,
            400
        );
        assert_eq!(
            parse_update_post(&without("description")).unwrap_err().code,
            400
        );
        assert!(
            parse_update_post(&without("update_id"))
                .unwrap()
                .update_id
                .is_none()
        );
        let mut long_id = without("update_id");
        long_id.push(("update_id".into(), "x".repeat(101)));
        assert!(parse_update_post(&long_id).is_err());
        let mut control = without("description");
        control.push(("description".into(), "a\u{1b}b".into()));
        assert!(parse_update_post(&control).is_err());
    }

    #[test]
    fn datetimes_carry_their_offset() {
        let at = DateTime::parse_from_rfc3339("2026-12-06T02:05:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(local(at), "2026-12-06T10:05:00+08:00");
    }

    #[test]
    fn services_are_the_active_leaves_grouped_by_their_top_level() {
        let cat = |code: &str, name: &str, active: bool| Category {
            code: code.into(),
            name: name.into(),
            parent_code: (code.len() > 2).then(|| code[..code.len() - 2].to_string()),
            level: (code.len() / 2) as u8,
            default_tier: (code.len() == 6).then_some(3),
            active,
            description: String::new(),
            keywords: Vec::new(),
        };
        let all = [
            cat("01", "城乡建设", true),
            cat("0101", "市政设施", true),
            cat("010103", "路灯照明", true),
            cat("010101", "道路破损", true),
            cat("010102", "井盖缺失破损", false),
        ];
        let refs: Vec<&Category> = all.iter().collect();
        let s = services(&refs);
        assert_eq!(
            s.iter()
                .map(|s| s.service_code.as_str())
                .collect::<Vec<_>>(),
            ["010101", "010103"]
        );
        assert_eq!(s[1].group, "城乡建设");
        assert_eq!(s[1].description, "城乡建设 / 市政设施 / 路灯照明");
        assert_eq!(s[1].keywords, "城乡建设,市政设施");
    }
}
