//! Exchange with other platforms (国办发〔2022〕12号): the emergency lines (110, 119, 120,
//! 122) and the provincial and national 12345 platforms. A request another platform hands
//! over comes in with that platform's id and deadline, once however often it is sent; the
//! hotline hands a request out with a reason (转出), which ends it here, counted apart; and
//! a request that came from a platform is not handed back to it without that platform's
//! agreement (首接负责: the first receiver handles a disputed matter).

use crate::channel::Channel;
use crate::error::DomainError;
use crate::intake::{CitizenBody, CreateBody};
use crate::types::Kind;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The emergency lines a request may be handed to without configuring them: the operator
/// hands it over by phone (三方转接) when no platform of theirs is connected.
pub const EMERGENCY_LINES: [(&str, &str); 4] = [
    ("110", "公安110"),
    ("119", "消防119"),
    ("120", "急救120"),
    ("122", "交警122"),
];

/// The longest external id taken.
pub const MAX_EXTERNAL_ID: usize = 64;

/// Another platform the hotline exchanges requests with, as an administrator configures
/// it: its channel (for requests it hands over), where status changes are posted back
/// (signed with its secret, which also signs what it posts here), and whether it is in use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Platform {
    /// `110`, `province`, `national` …: letters, digits, `-` and `_`.
    pub code: String,
    pub name: String,
    /// The channel requests handed over by it are taken on (`police_110`, `province` …).
    pub channel: Channel,
    /// Where its requests' status changes and the requests handed to it are posted.
    pub webhook_url: Option<String>,
    /// The key it signs its posts with and ours to it are signed with (shown to
    /// administrators only).
    pub secret: String,
    pub active: bool,
}

/// What an administrator writes of a platform (its secret is made when it is created).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlatformInput {
    #[schema(max_length = 50)]
    pub name: String,
    pub channel: Channel,
    #[schema(max_length = 500)]
    pub webhook_url: Option<String>,
    #[schema(default = true)]
    pub active: Option<bool>,
}

/// A platform's code, checked.
pub fn check_code(code: &str) -> Result<String, DomainError> {
    let ok = (2..=32).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        return Err(DomainError::invalid(
            "code",
            "must be 2 to 32 letters, digits, `-` or `_`",
        ));
    }
    Ok(code.to_string())
}

/// A platform as an administrator wrote it, checked (the channel's existence is the
/// application's to check); `secret` is the one it has, or a new one.
pub fn check_platform(
    code: &str,
    input: PlatformInput,
    secret: String,
) -> Result<Platform, DomainError> {
    let code = check_code(code)?;
    let name = input.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 50 {
        return Err(DomainError::invalid("name", "must be 1 to 50 characters"));
    }
    let webhook_url = input
        .webhook_url
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty());
    if let Some(u) = &webhook_url
        && (u.len() > 500
            || !(u.starts_with("http://") || u.starts_with("https://"))
            || u.chars().any(|c| c.is_control() || c.is_whitespace()))
    {
        return Err(DomainError::invalid(
            "webhook_url",
            "must be an http:// or https:// address of at most 500 characters",
        ));
    }
    Ok(Platform {
        code,
        name,
        channel: input.channel,
        webhook_url,
        secret,
        active: input.active.unwrap_or(true),
    })
}

/// Where a request handed over by another platform came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExchangeOrigin {
    pub platform: String,
    /// The request's id on that platform.
    pub external_id: String,
    /// When that platform wants it answered.
    pub due_at: Option<DateTime<Utc>>,
}

/// A request handed out (转出).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Transfer {
    /// The platform or emergency line it went to.
    pub to: String,
    pub reason: String,
    /// Who at the originating platform agreed to take back a request it had handed over.
    pub agreement: Option<String>,
    pub at: DateTime<Utc>,
}

/// The body of `POST /api/v1/exchange/inbound`: a request another platform hands over.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboundBody {
    /// The request's id on the sending platform: the same id again is the same request.
    #[schema(max_length = 64)]
    pub external_id: String,
    /// When the sending platform wants it answered.
    pub due_at: Option<DateTime<Utc>>,
    pub kind: Option<Kind>,
    #[schema(max_length = 200)]
    pub title: Option<String>,
    #[schema(max_length = 20000)]
    pub content: String,
    #[schema(max_length = 500)]
    pub address: Option<String>,
    pub category_code: Option<String>,
    pub division_code: Option<String>,
    pub citizen: Option<CitizenBody>,
    #[schema(default = false)]
    pub confidential: Option<bool>,
}

/// The request an inbound body makes, on the platform's channel, with its origin.
pub fn inbound_ticket(
    platform: &Platform,
    body: InboundBody,
) -> Result<crate::NewTicket, DomainError> {
    let external_id = body.external_id.trim().to_string();
    if external_id.is_empty()
        || external_id.len() > MAX_EXTERNAL_ID
        || external_id
            .chars()
            .any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(DomainError::invalid(
            "external_id",
            format!("must be 1 to {MAX_EXTERNAL_ID} characters without spaces"),
        ));
    }
    let mut new = crate::NewTicket::validate(CreateBody {
        channel: platform.channel.clone(),
        channel_detail: Some(format!("{}:{external_id}", platform.code)),
        recording: None,
        kind: body.kind.unwrap_or(Kind::Help),
        title: body.title,
        content: body.content,
        citizen: body.citizen,
        confidential: body.confidential,
        address: body.address,
        category_code: body.category_code,
        division_code: body.division_code,
        suggested_category_code: None,
        merge_into: None,
    })?;
    new.exchange = Some(ExchangeOrigin {
        platform: platform.code.clone(),
        external_id,
        due_at: body.due_at,
    });
    Ok(new)
}

/// The first-receiver rule: a request handed over by a platform goes back to it only with
/// its agreement (who agreed, 协商一致); otherwise it stays here and is handled here.
pub fn check_transfer_back(
    origin: Option<&ExchangeOrigin>,
    to: &str,
    agreement: Option<&str>,
) -> Result<(), DomainError> {
    if let Some(o) = origin
        && o.platform == to
        && agreement.is_none()
    {
        return Err(DomainError::Refused {
            code: "first_receiver",
            message: format!(
                "this request came from `{to}`: it goes back only with that platform's agreement (give `agreement`, who agreed); otherwise the first receiver handles it"
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn province() -> Platform {
        check_platform(
            "province",
            PlatformInput {
                name: "省12345平台".into(),
                channel: Channel::new("province").unwrap(),
                webhook_url: Some("https://province.example/hook".into()),
                active: None,
            },
            "s".repeat(32),
        )
        .unwrap()
    }

    #[test]
    fn platforms_are_checked() {
        let p = province();
        assert!(p.active);
        for (code, input) in [("a", "省平台"), ("has space", "省平台"), ("province", "")] {
            assert!(
                check_platform(
                    code,
                    PlatformInput {
                        name: input.into(),
                        channel: Channel::new("province").unwrap(),
                        webhook_url: None,
                        active: None,
                    },
                    String::new()
                )
                .is_err()
            );
        }
        let bad_url = check_platform(
            "province",
            PlatformInput {
                name: "省平台".into(),
                channel: Channel::new("province").unwrap(),
                webhook_url: Some("ftp://x".into()),
                active: None,
            },
            String::new(),
        )
        .unwrap_err();
        assert!(bad_url.to_string().contains("webhook_url"));
    }

    #[test]
    fn an_inbound_request_carries_its_origin() {
        let body: InboundBody = serde_json::from_value(serde_json::json!({
            "external_id": "QH-2026-000123",
            "due_at": "2026-12-10T10:00:00Z",
            "content": "省平台转来：某小区供暖不热",
        }))
        .unwrap();
        let new = inbound_ticket(&province(), body).unwrap();
        assert_eq!(new.channel.as_str(), "province");
        assert_eq!(
            new.channel_detail.as_deref(),
            Some("province:QH-2026-000123")
        );
        let o = new.exchange.unwrap();
        assert_eq!(o.external_id, "QH-2026-000123");
        assert_eq!(o.due_at.unwrap().to_rfc3339(), "2026-12-10T10:00:00+00:00");
        let bad: InboundBody = serde_json::from_value(serde_json::json!({
            "external_id": "has space", "content": "内容"
        }))
        .unwrap();
        assert!(
            inbound_ticket(&province(), bad)
                .unwrap_err()
                .to_string()
                .contains("external_id")
        );
    }

    #[test]
    fn the_first_receiver_keeps_a_disputed_request() {
        let origin = ExchangeOrigin {
            platform: "110".into(),
            external_id: "JJ1".into(),
            due_at: None,
        };
        let e = check_transfer_back(Some(&origin), "110", None).unwrap_err();
        assert!(matches!(
            e,
            DomainError::Refused {
                code: "first_receiver",
                ..
            }
        ));
        assert!(check_transfer_back(Some(&origin), "110", Some("110指挥中心 张警官")).is_ok());
        assert!(check_transfer_back(Some(&origin), "119", None).is_ok());
        assert!(check_transfer_back(None, "110", None).is_ok());
    }
}
