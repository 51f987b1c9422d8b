//! What a citizen is shown of their request (群众端查询): the state in plain words, the unit
//! handling it (its name only), when it was received, when a reply is expected, the answer
//! the hotline approved, and what they may do now. Nothing else leaves through here: no
//! internal notes, returns, supervision, staff, other units' work, the citizen's own contact
//! details or anyone else's. This is the one place that decides it; the API and the portal
//! render what it gives.

use crate::ticket::Ticket;
use crate::types::TicketState;
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
}

/// A citizen's submission, validated by the one intake rule ([`crate::NewTicket`]) as a
/// request on the `web` channel; the phone number is required here.
pub fn parse_submission(body: serde_json::Value) -> Result<crate::NewTicket, crate::DomainError> {
    let b: PublicBody = crate::lifecycle::from_json(body)?;
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
    crate::NewTicket::validate(crate::intake::CreateBody {
        channel: crate::types::Channel::Web,
        channel_detail: None,
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
    /// 已办结: finished.
    Closed,
    /// 不予受理: not for the hotline, with the reason and where to go instead.
    NotAccepted,
    /// 已并入同一诉求: joined to the same matter raised before, handled with it.
    Merged,
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
            TicketState::Closed | TicketState::ResolvedDirectly => PublicState::Closed,
            TicketState::NotAccepted => PublicState::NotAccepted,
            TicketState::Merged => PublicState::Merged,
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            PublicState::Received => "已受理",
            PublicState::Transferred => "已转交办理单位",
            PublicState::Handling => "办理中",
            PublicState::Answered => "已答复",
            PublicState::Closed => "已办结",
            PublicState::NotAccepted => "不予受理",
            PublicState::Merged => "已并入同一诉求办理",
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
                "请查看答复内容；热线将回访您是否解决、是否满意，您也可以在回访时说明仍未解决的问题。"
            }
            PublicState::Closed => "诉求已办结。同一问题再次发生，可拨打12345或重新提交。",
            PublicState::NotAccepted => {
                "该事项不属于12345热线受理范围，请按上面的说明咨询相关部门。"
            }
            PublicState::Merged => "您反映的问题已有其他市民反映，已并在一起办理，答复将一并告知。",
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
        PublicState::Answered => t.reply.clone(),
        PublicState::Closed => t.reply.clone().or_else(|| t.answer.clone()),
        PublicState::NotAccepted => t.not_accepted.as_ref().map(|n| n.reason.clone()),
        _ => None,
    };
    let unit = match state {
        PublicState::Transferred
        | PublicState::Handling
        | PublicState::Answered
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
    }
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
            (TicketState::Closed, "已办结"),
            (TicketState::ResolvedDirectly, "已办结"),
            (TicketState::NotAccepted, "不予受理"),
            (TicketState::Merged, "已并入同一诉求办理"),
        ];
        assert_eq!(expected.len(), TicketState::ALL.len());
        for (state, label) in expected {
            assert_eq!(PublicState::of(state).label_zh(), label, "{state:?}");
        }
    }
}
