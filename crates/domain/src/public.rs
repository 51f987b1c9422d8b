//! What a citizen is shown of their request (群众端查询): the state in plain words, the unit
//! handling it (its name only), when it was received, when a reply is expected, the answer
//! the hotline approved, and what they may do now. Nothing else leaves through here: no
//! internal notes, returns, supervision, staff, other units' work, the citizen's own contact
//! details or anyone else's. This is the one place that decides it; the API and the portal
//! render what it gives.

use crate::error::DomainError;
use crate::lifecycle::{CloseOutcome, EventKind};
use crate::ticket::{CallbackAnswers, Ticket};
use crate::types::{RatingSource, Resolution, Satisfaction, TicketState};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// The body of `POST /api/v1/public/requests`: what a citizen submits from the portal.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PublicRequest)]
pub struct PublicBody {
    /// 咨询, 求助, 投诉, 举报, 建议 or 表扬 (`consultation`, `help`, `complaint`, `report`,
    /// `suggestion`, `praise`); `help` when not said.
    pub kind: Option<crate::types::Kind>,
    #[schema(max_length = 200)]
    pub title: Option<String>,
    #[schema(max_length = 20000)]
    pub content: String,
    #[schema(max_length = 500)]
    pub address: Option<String>,
    pub category_code: Option<String>,
    /// Who to answer: a phone number is required (the receipt and the answer go to it).
    pub citizen: crate::intake::CitizenBody,
    /// Keep my name and number from the units handling it.
    #[schema(default = false)]
    pub confidential: Option<bool>,
    /// Photos and files uploaded first (`POST /api/v1/public/attachments`), at most 6.
    #[schema(max_items = 6)]
    pub attachment_ids: Option<Vec<String>>,
}

/// A citizen's submission, validated by the one intake rule ([`crate::NewTicket`]) as a
/// request on the `web` channel, and the files uploaded for it; the phone number is
/// required here.
pub fn parse_submission(
    body: serde_json::Value,
) -> Result<(crate::NewTicket, Vec<String>), crate::DomainError> {
    let b: PublicBody = crate::lifecycle::from_json(body)?;
    let files = b.attachment_ids.unwrap_or_default();
    if files.len() > crate::attachment::MAX_PER_TICKET {
        return Err(crate::DomainError::invalid(
            "attachment_ids",
            format!(
                "at most {} files go with a request",
                crate::attachment::MAX_PER_TICKET
            ),
        ));
    }
    if let Some(bad) = files
        .iter()
        .find(|f| f.len() != 32 || !f.bytes().all(|c| c.is_ascii_hexdigit()))
    {
        return Err(crate::DomainError::invalid(
            "attachment_ids",
            format!("`{bad}` is not the id of an uploaded file"),
        ));
    }
    if b.citizen
        .phone
        .as_deref()
        .is_none_or(|p| p.trim().is_empty())
    {
        return Err(crate::DomainError::invalid(
            "citizen.phone",
            "is required: the receipt and the answer are sent to it",
        ));
    }
    let new = crate::NewTicket::validate(crate::intake::CreateBody {
        channel: crate::channel::Channel::WEB,
        channel_detail: None,
        recording: None,
        kind: b.kind.unwrap_or(crate::types::Kind::Help),
        title: b.title,
        content: b.content,
        citizen: Some(b.citizen),
        confidential: b.confidential,
        address: b.address,
        category_code: b.category_code,
        division_code: None,
        suggested_category_code: None,
        merge_into: None,
    })?;
    Ok((new, files))
}

/// A request a citizen sent by SMS (channel `sms`): the text is its content, the sender
/// its citizen.
pub fn parse_sms_request(phone: &str, text: &str) -> Result<crate::NewTicket, DomainError> {
    crate::NewTicket::validate(crate::intake::CreateBody {
        channel: crate::channel::Channel::SMS,
        channel_detail: None,
        recording: None,
        kind: crate::types::Kind::Help,
        title: None,
        content: text.to_string(),
        citizen: Some(crate::intake::CitizenBody {
            name: None,
            phone: Some(phone.to_string()),
            no_sms: None,
        }),
        confidential: None,
        address: None,
        category_code: None,
        division_code: None,
        suggested_category_code: None,
        merge_into: None,
    })
}

/// What a citizen is given on submitting: the number and code to follow it, and when a
/// reply may be expected (an estimate until the hotline sends it to a unit).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PublicReceipt {
    pub number: String,
    pub tracking_code: String,
    pub expected_reply_by: DateTime<Utc>,
    /// The emergency number to call now (`110`, `119`, `120`, `122`) when the words say an
    /// emergency is under way: the request is kept, but help comes faster from there.
    pub call_now: Option<String>,
}

/// Where a request stands, as a citizen understands it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PublicState {
    /// 已受理: received, not yet sent to a unit.
    Received,
    /// 已转交办理单位: sent to a unit, which has not taken it up yet (or the hotline is
    /// deciding which unit).
    Transferred,
    /// 办理中: a unit is working on it (a reply under the hotline's review included).
    Handling,
    /// 已答复: the hotline approved the unit's answer; the citizen may say whether it was
    /// resolved and whether they are satisfied.
    Answered,
    /// 评价核实中: the citizen said it was not resolved or not satisfactory; the hotline is
    /// looking into it (差评待审).
    RatingReview,
    /// 已办结: finished.
    Closed,
    /// 不予受理: not for the hotline, with the reason and where to go instead.
    NotAccepted,
    /// 已并入同一诉求: joined to the same matter raised before, handled with it.
    Merged,
    /// 已转交其他平台: handed to the platform whose matter it is (110, the provincial
    /// platform …), which answers it.
    Referred,
}

impl PublicState {
    pub fn of(state: TicketState) -> PublicState {
        match state {
            TicketState::Received => PublicState::Received,
            TicketState::Dispatched
            | TicketState::ReturnRequested
            | TicketState::InConsultation => PublicState::Transferred,
            TicketState::InProgress | TicketState::Replied => PublicState::Handling,
            TicketState::AwaitingCallback => PublicState::Answered,
            TicketState::RatingReview => PublicState::RatingReview,
            TicketState::Closed | TicketState::ResolvedDirectly => PublicState::Closed,
            TicketState::NotAccepted => PublicState::NotAccepted,
            TicketState::Merged => PublicState::Merged,
            TicketState::Transferred => PublicState::Referred,
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            PublicState::Received => "已受理",
            PublicState::Transferred => "已转交办理单位",
            PublicState::Handling => "办理中",
            PublicState::Answered => "已答复",
            PublicState::RatingReview => "评价核实中",
            PublicState::Closed => "已办结",
            PublicState::NotAccepted => "不予受理",
            PublicState::Merged => "已并入同一诉求办理",
            PublicState::Referred => "已转交其他平台办理",
        }
    }

    /// What the citizen may do now, in a sentence.
    pub fn next_step_zh(self) -> &'static str {
        match self {
            PublicState::Received => {
                "热线正在为您的诉求确定办理单位，派出后将显示办理单位和预计答复时间。"
            }
            PublicState::Transferred | PublicState::Handling => {
                "办理单位将在预计答复时间前与您联系并答复；情况有变化可再次拨打12345补充。"
            }
            PublicState::Answered => {
                "请查看答复内容并评价：问题是否解决、您是否满意。也可回复短信数字评价（1满意、2基本满意、3不满意）；未评价的，热线将电话回访。"
            }
            PublicState::RatingReview => {
                "已收到您的评价。热线正在核实，如情况属实将交办理单位重新办理。"
            }
            PublicState::Closed => "诉求已办结。同一问题再次发生，可拨打12345或重新提交。",
            PublicState::NotAccepted => {
                "该事项不属于12345热线受理范围，请按上面的说明咨询相关部门。"
            }
            PublicState::Merged => "您反映的问题已有其他市民反映，已并在一起办理，答复将一并告知。",
            PublicState::Referred => {
                "您反映的问题属于其他平台（如公安110、省级平台）的职责，已转交其办理，由其联系您。"
            }
        }
    }
}

/// A request as its citizen sees it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PublicTicket {
    pub number: String,
    pub state: PublicState,
    /// The state in plain words (已受理, 办理中 …).
    pub state_label: String,
    pub title: String,
    pub received_at: DateTime<Utc>,
    /// The unit handling it, by name; none before it is sent to one.
    pub unit: Option<String>,
    /// When the unit's reply is due (the handling clock, on the official calendar).
    pub expected_reply_by: Option<DateTime<Utc>>,
    /// The answer the citizen is given: the hotline's direct answer, the approved reply of the
    /// unit, or why it is not accepted; none while the work goes on.
    pub answer: Option<String>,
    /// Where to go instead, when not accepted.
    pub redirect_to: Option<String>,
    /// What the citizen may do now.
    pub next_step: String,
    /// Whether the citizen may rate the answer now (一事一评).
    pub may_rate: bool,
}

/// The citizen's view of a ticket. `unit_name` names a unit; `due` is the handling clock's
/// due time while it runs.
pub fn public_view(
    t: &Ticket,
    unit_name: impl Fn(i64) -> Option<String>,
    due: Option<DateTime<Utc>>,
) -> PublicTicket {
    let state = PublicState::of(t.state);
    let answer = match state {
        // Only an answer the hotline stands behind: the unit's reply once approved, the
        // operator's or the community's answer, the reason it is not accepted.
        PublicState::Answered | PublicState::RatingReview => t.reply.clone(),
        PublicState::Closed => t.reply.clone().or_else(|| t.answer.clone()),
        PublicState::NotAccepted => t.not_accepted.as_ref().map(|n| n.reason.clone()),
        _ => None,
    };
    let unit = match state {
        PublicState::Transferred
        | PublicState::Handling
        | PublicState::Answered
        | PublicState::RatingReview
        | PublicState::Closed => t.lead_unit_id.and_then(&unit_name),
        _ => None,
    };
    PublicTicket {
        number: t.number.clone(),
        state,
        state_label: state.label_zh().to_string(),
        title: t.title.clone(),
        received_at: t.created_at,
        unit,
        expected_reply_by: matches!(state, PublicState::Transferred | PublicState::Handling)
            .then_some(due)
            .flatten(),
        answer,
        redirect_to: (state == PublicState::NotAccepted)
            .then(|| t.not_accepted.as_ref().and_then(|n| n.redirect_to.clone()))
            .flatten(),
        next_step: state.next_step_zh().to_string(),
        may_rate: t.state == TicketState::AwaitingCallback,
    }
}

/// A request merged into the same matter raised before (并单) follows that matter: its
/// citizen sees their own number, title and time, and the parent's unit, expected date and
/// approved answer (`parent` is the parent's public view).
pub fn merged_view(child: &Ticket, parent: PublicTicket) -> PublicTicket {
    let state = PublicState::Merged;
    let next_step = match parent.state {
        PublicState::Answered | PublicState::Closed => {
            "您反映的问题已与其他市民的同一诉求并在一起办理，答复如上。"
        }
        _ => state.next_step_zh(),
    };
    PublicTicket {
        number: child.number.clone(),
        state,
        state_label: state.label_zh().to_string(),
        title: child.title.clone(),
        received_at: child.created_at,
        unit: parent.unit,
        expected_reply_by: parent.expected_reply_by,
        answer: parent.answer,
        redirect_to: None,
        next_step: next_step.to_string(),
        may_rate: false,
    }
}

/// What a request merged into `parent` (并单) is given when the parent's answer is approved:
/// the same answer, after which its citizen may rate it as their own callback; none when it
/// is no longer merged into it or there is no answer.
pub fn answer_merged(child: &Ticket, parent: &Ticket) -> Option<EventKind> {
    (child.state == TicketState::Merged
        && child.parent_id == Some(parent.id)
        && parent.state == TicketState::AwaitingCallback)
        .then(|| parent.reply.clone())
        .flatten()
        .map(|reply| EventKind::ParentAnswered {
            parent_id: parent.id,
            reply,
            lead_unit_id: parent.lead_unit_id,
        })
}

/// The body of `POST /api/v1/public/requests/{number}/rating`: the citizen's own rating of
/// the approved answer (一事一评), with the tracking code that proves it is theirs.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PublicRating)]
pub struct RatingBody {
    #[schema(max_length = 64)]
    pub code: String,
    /// Is the problem solved? Optional: a rating may say only how satisfied the citizen is.
    pub resolution: Option<Resolution>,
    pub satisfaction: Satisfaction,
    /// Did the unit contact you in time? Optional.
    pub contacted: Option<bool>,
    #[schema(max_length = 500)]
    pub comment: Option<String>,
}

/// Longest comment a citizen may add to a rating, in characters.
pub const RATING_COMMENT_CHARS: usize = 500;

/// A citizen's rating, checked: their answers and what they added in their own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CitizenRating {
    pub answers: CallbackAnswers,
    pub comment: Option<String>,
}

impl CitizenRating {
    /// A rating of answers the citizen gave (the comment trimmed, at most
    /// [`RATING_COMMENT_CHARS`]).
    pub fn new(
        contacted: Option<bool>,
        resolution: Option<Resolution>,
        satisfaction: Satisfaction,
        comment: Option<String>,
    ) -> Result<CitizenRating, DomainError> {
        let comment = comment
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty());
        if comment
            .as_ref()
            .is_some_and(|c| c.chars().count() > RATING_COMMENT_CHARS)
        {
            return Err(DomainError::invalid(
                "comment",
                format!("must be at most {RATING_COMMENT_CHARS} characters"),
            ));
        }
        Ok(CitizenRating {
            answers: CallbackAnswers {
                contacted,
                resolution,
                satisfaction,
                source: RatingSource::Citizen,
            },
            comment,
        })
    }

    /// The rating an SMS answer gives: one digit, 1 满意, 2 基本满意, 3 不满意 (full-width
    /// digits and spaces around it taken as well); none when the text says anything else.
    pub fn from_sms(text: &str) -> Option<CitizenRating> {
        let satisfaction = match text.trim() {
            "1" | "１" => Satisfaction::Satisfied,
            "2" | "２" => Satisfaction::Basically,
            "3" | "３" => Satisfaction::Dissatisfied,
            _ => return None,
        };
        Some(CitizenRating {
            answers: CallbackAnswers {
                contacted: None,
                resolution: None,
                satisfaction,
                source: RatingSource::Citizen,
            },
            comment: None,
        })
    }
}

/// The events of a citizen's rating (一事一评): only an answer the hotline approved is rated,
/// once. A good one closes the request; a bad one (unresolved or dissatisfied) waits for the
/// hotline's review (差评待审) instead of reopening it blindly.
pub fn rate(t: &Ticket, rating: CitizenRating) -> Result<Vec<EventKind>, DomainError> {
    if t.state != TicketState::AwaitingCallback {
        return Err(DomainError::Refused {
            code: "not_awaiting_rating",
            message: match t.state {
                TicketState::RatingReview | TicketState::Closed if t.callback.is_some() => {
                    "this request has been rated already".to_string()
                }
                _ => "only a request whose answer has been given may be rated".to_string(),
            },
        });
    }
    let bad = rating.answers.is_bad();
    let recorded = EventKind::CallbackRecorded {
        contacted: rating.answers.contacted,
        resolution: rating.answers.resolution,
        satisfaction: rating.answers.satisfaction,
        note: rating.comment,
        source: RatingSource::Citizen,
    };
    Ok(if bad {
        vec![recorded]
    } else {
        vec![
            recorded,
            EventKind::Closed {
                outcome: CloseOutcome::Callback,
                note: None,
            },
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_in_plain_words() {
        // Written out by hand: what a citizen reads for each state of the lifecycle.
        let expected = [
            (TicketState::Received, "已受理"),
            (TicketState::Dispatched, "已转交办理单位"),
            (TicketState::InProgress, "办理中"),
            (TicketState::ReturnRequested, "已转交办理单位"),
            (TicketState::InConsultation, "已转交办理单位"),
            (TicketState::Replied, "办理中"),
            (TicketState::AwaitingCallback, "已答复"),
            (TicketState::RatingReview, "评价核实中"),
            (TicketState::Closed, "已办结"),
            (TicketState::ResolvedDirectly, "已办结"),
            (TicketState::NotAccepted, "不予受理"),
            (TicketState::Merged, "已并入同一诉求办理"),
            (TicketState::Transferred, "已转交其他平台办理"),
        ];
        assert_eq!(expected.len(), TicketState::ALL.len());
        for (state, label) in expected {
            assert_eq!(PublicState::of(state).label_zh(), label, "{state:?}");
        }
    }
}

/// The texts a citizen is sent by SMS (their templates, which an administrator edits):
/// the receipt of a request from any channel, the approved answer, and the request to rate
/// it. Placeholders: `{number}` the request's number, `{code}` its tracking code, `{link}`
/// the portal's page of the request, `{reply}` the approved answer (shortened), `{unit}`
/// the unit that handled it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CitizenTexts {
    pub receipt: String,
    pub reply: String,
    pub rating: String,
}

impl Default for CitizenTexts {
    fn default() -> Self {
        CitizenTexts {
            receipt: "【12345】您的诉求已受理，编号{number}，查询码{code}。查询办理进度：{link}"
                .into(),
            reply: "【12345】您的诉求{number}已有答复：{reply} 详情：{link}".into(),
            rating: "【12345】请评价诉求{number}的办理结果，回复数字：1满意，2基本满意，3不满意。也可在此评价：{link}"
                .into(),
        }
    }
}

/// The placeholders a template may use.
pub const TEXT_PLACEHOLDERS: [&str; 5] = ["number", "code", "link", "reply", "unit"];
/// Longest template, in characters.
pub const TEXT_MAX_CHARS: usize = 300;
/// How much of the approved answer an SMS carries (the rest is behind the link).
pub const REPLY_SMS_CHARS: usize = 60;

impl CitizenTexts {
    /// Each template: not blank, at most [`TEXT_MAX_CHARS`], no placeholder but
    /// [`TEXT_PLACEHOLDERS`], and the number in each (a citizen must know which request).
    pub fn check(&self) -> Result<(), DomainError> {
        for (field, text) in [
            ("receipt", &self.receipt),
            ("reply", &self.reply),
            ("rating", &self.rating),
        ] {
            if text.trim().is_empty() {
                return Err(DomainError::invalid(field, "must not be empty"));
            }
            if text.chars().count() > TEXT_MAX_CHARS {
                return Err(DomainError::invalid(
                    field,
                    format!("must be at most {TEXT_MAX_CHARS} characters"),
                ));
            }
            if text.chars().any(char::is_control) {
                return Err(DomainError::invalid(
                    field,
                    "must not hold control characters",
                ));
            }
            let mut rest = text.as_str();
            while let Some(open) = rest.find('{') {
                let after = &rest[open + 1..];
                let Some(close) = after.find('}') else {
                    return Err(DomainError::invalid(field, "has a `{` without its `}`"));
                };
                let name = &after[..close];
                if !TEXT_PLACEHOLDERS.contains(&name) {
                    return Err(DomainError::invalid(
                        field,
                        format!(
                            "`{{{name}}}` is not a placeholder; use {}",
                            TEXT_PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
                        ),
                    ));
                }
                rest = &after[close + 1..];
            }
            if !text.contains("{number}") {
                return Err(DomainError::invalid(
                    field,
                    "must hold {number}: the citizen must know which request it is about",
                ));
            }
        }
        Ok(())
    }
}

/// A template filled in for one request.
pub fn render_text(template: &str, t: &Ticket, link: &str, unit: Option<&str>) -> String {
    let reply = t.reply.as_deref().unwrap_or_default();
    let reply: String = if reply.chars().count() > REPLY_SMS_CHARS {
        reply.chars().take(REPLY_SMS_CHARS).chain(['…']).collect()
    } else {
        reply.to_string()
    };
    template
        .replace("{number}", &t.number)
        .replace("{code}", &t.tracking_code)
        .replace("{link}", link)
        .replace("{unit}", unit.unwrap_or("办理单位"))
        // Last: the answer's own words are not read for placeholders.
        .replace("{reply}", &reply)
}

/// Whether a request's citizen is texted: a phone number, not confidential (a
/// confidential request is not to be traced back by a message), and not declined.
pub fn texts_citizen(t: &Ticket) -> bool {
    t.citizen.phone.is_some() && !t.confidential && !t.citizen.no_sms
}

/// The portal's page of a request, under the public address (`MASHANGBAN_PUBLIC_URL`).
pub fn tracking_link(base: &str, t: &Ticket) -> String {
    format!(
        "{}/public/track?number={}&code={}",
        base.trim_end_matches('/'),
        t.number,
        t.tracking_code
    )
}
