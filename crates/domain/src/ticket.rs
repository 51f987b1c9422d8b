//! The ticket's current view: what the events add up to.

use crate::channel::Channel;
use crate::types::{Kind, RatingSource, Resolution, Role, Satisfaction, TicketState};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Who performs a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Actor {
    pub user_id: i64,
    pub role: Role,
    /// The unit a `unit_handler` is bound to.
    pub unit_id: Option<i64>,
}

/// The citizen behind a request. Both fields are optional: many callers stay anonymous.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Citizen {
    pub name: Option<String>,
    pub phone: Option<String>,
    /// The citizen asked not to be texted (no receipt, reply or rating request by SMS).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_sms: bool,
    /// The follower of the official account who sent it through WeChat (their openid):
    /// where its progress is pushed. Never shown masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wechat_openid: Option<String>,
}

/// An extension asked for by the lead unit and not yet decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PendingExtension {
    pub days: u32,
    pub reason: String,
    pub requested_at: DateTime<Utc>,
}

/// The answers of a callback (回访): the three an agent asks, or a citizen's own rating
/// (一事一评), which may leave the first two unsaid (a rating by SMS is one digit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CallbackAnswers {
    /// Did the unit contact the citizen in time (响应)? None: not asked.
    pub contacted: Option<bool>,
    /// None: not asked.
    pub resolution: Option<Resolution>,
    pub satisfaction: Satisfaction,
    #[serde(default)]
    pub source: RatingSource,
}

impl CallbackAnswers {
    /// A bad callback (unresolved or dissatisfied): an agent's reopens the ticket (重办); a
    /// citizen's waits for the dispatcher's review (差评待审).
    pub fn is_bad(&self) -> bool {
        self.resolution == Some(Resolution::Unresolved)
            || self.satisfaction == Satisfaction::Dissatisfied
    }

    /// The answers given, in Chinese (及时联系，已解决，满意), for notices and timelines.
    pub fn said_zh(&self) -> String {
        let mut said = Vec::new();
        match self.contacted {
            Some(true) => said.push("及时联系"),
            Some(false) => said.push("未及时联系"),
            None => {}
        }
        if let Some(r) = self.resolution {
            said.push(r.label_zh());
        }
        said.push(self.satisfaction.label_zh());
        said.join("，")
    }

    /// The answers given, in English.
    pub fn said_en(&self) -> String {
        let mut said = Vec::new();
        if let Some(c) = self.contacted {
            said.push(format!(
                "contacted in time: {}",
                if c { "yes" } else { "no" }
            ));
        }
        if let Some(r) = self.resolution {
            said.push(r.as_str().to_string());
        }
        said.push(self.satisfaction.as_str().to_string());
        said.join(", ")
    }
}

/// Why a ticket was not accepted (不予受理).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NotAcceptance {
    pub reason: String,
    pub redirect_to: Option<String>,
}

/// The current view of one ticket. It is derived from the ticket's events by [`crate::apply`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Ticket {
    pub id: i64,
    pub number: String,
    pub tracking_code: String,
    pub state: TicketState,
    pub channel: Channel,
    /// For `merged_line`, the merged hotline's number (e.g. 12369); free detail otherwise.
    pub channel_detail: Option<String>,
    /// The call's recording in the telephone system (its id or address there): the
    /// citizen's voice, so personal data, kept for its own time by the retention policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<String>,
    pub kind: Kind,
    pub title: String,
    pub content: String,
    pub citizen: Citizen,
    pub confidential: bool,
    pub address: Option<String>,
    pub category_code: Option<String>,
    pub division_code: Option<String>,
    /// The category proposed at intake, if a proposal was shown (see `Received`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggested_category_code: Option<String>,
    pub lead_unit_id: Option<i64>,
    pub co_unit_ids: Vec<i64>,
    /// Handling tier in days (1, 3, 7 or 11), set at dispatch.
    pub tier: Option<u8>,
    /// The answer given at intake when resolved directly.
    pub answer: Option<String>,
    /// The lead unit's latest reply.
    pub reply: Option<String>,
    /// The state to go back to if a pending return is rejected.
    pub return_from: Option<TicketState>,
    pub pending_extension: Option<PendingExtension>,
    /// Working days of extension granted in the current handling cycle (a dispatch or a
    /// reopening starts one), as the handling clock counts them.
    pub extension_days_granted: u32,
    /// Extensions approved on the ticket, every cycle (the policy's limit is per ticket).
    pub extensions_approved: u32,
    pub callback: Option<CallbackAnswers>,
    pub callback_attempts: u32,
    pub reopen_count: u32,
    pub return_count: u32,
    pub parent_id: Option<i64>,
    pub child_ids: Vec<i64>,
    pub not_accepted: Option<NotAcceptance>,
    /// The platform that handed it over (省平台, 110 …), its id there and deadline.
    #[serde(default)]
    pub exchange: Option<crate::exchange::ExchangeOrigin>,
    /// Where it was handed out to (转出), if it was.
    #[serde(default)]
    pub transfer: Option<crate::exchange::Transfer>,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub signed_at: Option<DateTime<Utc>>,
    pub first_contact_at: Option<DateTime<Utc>>,
    pub replied_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Number of events applied; the optimistic-concurrency version.
    pub version: i64,
    /// Clocks of the current cycle that passed their warning or due point and still run.
    #[serde(default)]
    pub alerts: Vec<crate::deadlines::DeadlineAlert>,
    /// The supervision (督办) the ticket is under, if any: the highest level raised so far.
    #[serde(default)]
    pub supervision: Option<Supervision>,
    /// Callbacks that found the request unresolved or the citizen dissatisfied.
    #[serde(default)]
    pub bad_callbacks: u32,
    /// The levels below the lead unit the ticket was forwarded to (分级转办), in the order
    /// forwarded, finished ones included: who holds it now, who reviews whose reply.
    #[serde(default)]
    pub chain: Vec<Assignment>,
    /// Departments a street office called to the spot (吹哨报到), and whether they came.
    #[serde(default)]
    pub summons: Vec<Summons>,
    /// The community whose grid worker reported the matter on patrol (网格上报).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_by_unit_id: Option<i64>,
    /// How the place was decided (at intake, or by a correction) and, when it was not,
    /// the places the request could be in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<crate::intake::PlaceFinding>,
    /// The emergency number the request's words called for when it was received (110, 119,
    /// 120, 122): the citizen was told to call it; the desk shows it first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emergency: Option<String>,
    /// The community that resolved the matter itself (就地办结), when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_on_spot_by: Option<i64>,
    /// Residents' meetings (近邻议事会) held on the matter, in the order recorded.
    #[serde(default)]
    pub meetings: Vec<ResidentsMeeting>,
}

/// A residents' meeting (近邻议事会) a unit held on a ticket's matter: residents, the
/// building's party branch, the grid worker and the property company decide together what is
/// done and who bears the cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResidentsMeeting {
    /// The unit that held it (usually the community).
    pub unit_id: i64,
    pub held_on: chrono::NaiveDate,
    /// Who took part.
    pub participants: String,
    /// What was decided.
    pub decision: String,
    /// Who bears the cost.
    pub who_pays: String,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: i64,
}

/// A department called to the spot by the unit holding a ticket (吹哨), and its answer
/// (报到).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Summons {
    /// The department called.
    pub unit_id: i64,
    /// The unit that called it (a street office holding the ticket).
    pub by_unit_id: i64,
    pub reason: String,
    pub summoned_at: DateTime<Utc>,
    /// When it must report in.
    pub due_at: DateTime<Utc>,
    pub reported_at: Option<DateTime<Utc>>,
    pub report: Option<String>,
    /// When it passed its time without reporting in (the watcher's record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overdue_at: Option<DateTime<Utc>>,
}

impl Assignment {
    /// Signed after its sign-by time, or not yet and past it.
    pub fn signed_late(&self, now: DateTime<Utc>) -> bool {
        self.sign_by
            .is_some_and(|by| self.signed_at.unwrap_or(now) > by)
    }
}

impl Summons {
    /// Reported in after its due time, or not yet and past it.
    pub fn late(&self, now: DateTime<Utc>) -> bool {
        self.reported_at.unwrap_or(now) > self.due_at
    }
}

/// What a ticket waits for from one of its units: the queue it shows in on that unit's
/// desk (and the list filter `queue`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitQueue {
    /// 待签收: dispatched to it (the lead unit) or forwarded to it (a level below).
    ToSign,
    /// 办理中: it holds the ticket and handles it (a co-unit helps).
    InHand,
    /// 下级办理中: a level below it holds the ticket.
    Below,
    /// 下级已答复待审核: the level it forwarded to replied, or asks to give the ticket back.
    ToReview,
    /// 吹哨待报到: it was called to the spot and has not reported in.
    ToReportIn,
    /// Nothing for it to do now.
    None,
}

impl UnitQueue {
    pub const ALL: [UnitQueue; 6] = [
        UnitQueue::ToSign,
        UnitQueue::InHand,
        UnitQueue::Below,
        UnitQueue::ToReview,
        UnitQueue::ToReportIn,
        UnitQueue::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UnitQueue::ToSign => "to_sign",
            UnitQueue::InHand => "in_hand",
            UnitQueue::Below => "below",
            UnitQueue::ToReview => "to_review",
            UnitQueue::ToReportIn => "to_report_in",
            UnitQueue::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<UnitQueue> {
        UnitQueue::ALL.into_iter().find(|q| q.as_str() == s)
    }
}

/// Where one level's assignment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentState {
    /// Forwarded, not signed yet.
    Forwarded,
    /// Signed: the unit is handling it (or has forwarded it further down).
    Signed,
    /// Its reply awaits the review of the level above.
    Replied,
    /// It asked the level above to take the ticket back.
    ReturnRequested,
    /// Its reply was approved: its part is done.
    Done,
    /// Given back to the level above (or withdrawn when the ticket left the lead unit).
    Returned,
}

impl AssignmentState {
    /// Whether the level still holds its part of the ticket.
    pub fn is_active(self) -> bool {
        !matches!(self, AssignmentState::Done | AssignmentState::Returned)
    }
}

/// One level of the chain below the lead unit: a unit a ticket was forwarded to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Assignment {
    pub unit_id: i64,
    /// The unit that forwarded it: the lead unit or the level above.
    pub from_unit_id: i64,
    /// 1 below the lead unit, 2 below that, …
    pub level: u8,
    pub state: AssignmentState,
    pub forwarded_at: DateTime<Utc>,
    /// When the level above wants its reply.
    pub due_at: Option<DateTime<Utc>>,
    /// When it must sign (the deadline policy's sign allowance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_by: Option<DateTime<Utc>>,
    pub note: Option<String>,
    pub signed_at: Option<DateTime<Utc>>,
    pub first_contact_at: Option<DateTime<Utc>>,
    /// The reply it sent up (kept after review).
    pub reply: Option<String>,
    pub replied_at: Option<DateTime<Utc>>,
    /// Why it asked to give the ticket back, while that awaits a decision.
    pub return_reason: Option<String>,
    /// Replies of this level the level above rejected.
    #[serde(default)]
    pub rejected_replies: u32,
    /// When it passed its due time without replying (the watcher's record).
    #[serde(default)]
    pub overdue_at: Option<DateTime<Utc>>,
    /// When it passed its sign-by time without signing (the watcher's record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_overdue_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// Where a ticket's supervision stands: its level, when and how it was last raised, and
/// whether the lead unit has answered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Supervision {
    pub level: crate::types::SupervisionLevel,
    pub raised_at: DateTime<Utc>,
    /// Raised by a rule of the policy (true) or by a supervisor (false).
    pub automatic: bool,
    pub reason: String,
    /// Supervisions raised on this ticket so far.
    pub count: u32,
    pub answered_at: Option<DateTime<Utc>>,
    pub answer: Option<String>,
}

impl Supervision {
    /// Whether the lead unit still owes an answer to the latest supervision.
    pub fn awaits_answer(&self) -> bool {
        self.answered_at.is_none()
    }
}

impl Ticket {
    /// The worst alert: overdue before warning.
    pub fn alert_level(&self) -> Option<crate::deadlines::AlertLevel> {
        self.alerts.iter().map(|a| a.level).max()
    }
}

impl Ticket {
    /// Whether the unit is the lead unit or a co-unit.
    pub fn involves_unit(&self, unit_id: i64) -> bool {
        self.lead_unit_id == Some(unit_id) || self.co_unit_ids.contains(&unit_id)
    }

    /// Every unit the ticket has been with in its current assignment: the lead unit, the
    /// co-units, every level of the chain, the departments called to the spot and the
    /// community that reported it on patrol, each once (the lead first). What a unit's users
    /// may read, and what their unit's lists and searches find.
    pub fn units(&self) -> Vec<i64> {
        let mut units: Vec<i64> = Vec::new();
        for u in self
            .lead_unit_id
            .iter()
            .chain(&self.co_unit_ids)
            .chain(self.chain.iter().map(|a| &a.unit_id))
            .chain(self.summons.iter().map(|c| &c.unit_id))
            .chain(&self.reported_by_unit_id)
        {
            if !units.contains(u) {
                units.push(*u);
            }
        }
        units
    }

    /// The levels of the chain still holding their part, from the top down.
    pub fn active_chain(&self) -> Vec<&Assignment> {
        let mut active: Vec<&Assignment> =
            self.chain.iter().filter(|a| a.state.is_active()).collect();
        active.sort_by_key(|a| a.level);
        active
    }

    /// The lowest level still holding its part, if the ticket went down the chain.
    pub fn lowest_assignment(&self) -> Option<&Assignment> {
        self.active_chain().last().copied()
    }

    /// The unit doing the work now: the lowest active level, else the lead unit.
    pub fn holder_unit(&self) -> Option<i64> {
        self.lowest_assignment()
            .map(|a| a.unit_id)
            .or(self.lead_unit_id)
    }

    /// The unit that must decide on the lowest level's reply or request to give the ticket
    /// back: the unit that forwarded it.
    pub fn reviewer_unit(&self) -> Option<i64> {
        self.lowest_assignment()
            .filter(|a| {
                matches!(
                    a.state,
                    AssignmentState::Replied | AssignmentState::ReturnRequested
                )
            })
            .map(|a| a.from_unit_id)
    }

    /// What the ticket waits for from the unit now ([`UnitQueue`]).
    pub fn queue_of(&self, unit_id: i64) -> UnitQueue {
        use crate::types::TicketState as S;
        let with_units = matches!(self.state, S::Dispatched | S::InProgress);
        if !with_units {
            return UnitQueue::None;
        }
        if let Some(level) = self.assignment_of(unit_id) {
            let lowest = self.lowest_assignment().map(|a| a.unit_id) == Some(unit_id);
            return match (lowest, level.state) {
                (true, AssignmentState::Forwarded) => UnitQueue::ToSign,
                (true, AssignmentState::Signed) => UnitQueue::InHand,
                (true, _) => UnitQueue::None,
                (false, _) if self.reviewer_unit() == Some(unit_id) => UnitQueue::ToReview,
                (false, _) => UnitQueue::Below,
            };
        }
        if self.lead_unit_id == Some(unit_id) {
            return match (self.state, self.lowest_assignment()) {
                (S::Dispatched, _) => UnitQueue::ToSign,
                (_, None) => UnitQueue::InHand,
                (_, Some(_)) if self.reviewer_unit() == Some(unit_id) => UnitQueue::ToReview,
                (_, Some(_)) => UnitQueue::Below,
            };
        }
        // A department called to the spot owes its answer first, co-unit or not.
        if self.open_summons(unit_id).is_some() {
            return UnitQueue::ToReportIn;
        }
        if self.co_unit_ids.contains(&unit_id) {
            return UnitQueue::InHand;
        }
        UnitQueue::None
    }

    /// The unit's summons it has not answered yet, if any.
    pub fn open_summons(&self, unit_id: i64) -> Option<&Summons> {
        self.summons
            .iter()
            .find(|c| c.unit_id == unit_id && c.reported_at.is_none())
    }

    /// The active level the unit holds, if any.
    pub fn assignment_of(&self, unit_id: i64) -> Option<&Assignment> {
        self.chain
            .iter()
            .find(|a| a.unit_id == unit_id && a.state.is_active())
    }

    /// Whether the actor may see this ticket at all. A unit handler sees only the tickets
    /// their unit has been given (lead, co-unit, or a level of the chain below the lead,
    /// which sees the ticket with the levels above and below it); every other role sees
    /// every ticket.
    pub fn visible_to(&self, actor: &Actor) -> bool {
        match crate::permission::ticket_reach(actor) {
            crate::permission::TicketReach::All => true,
            crate::permission::TicketReach::Unit(u) => self.units().contains(&u),
            crate::permission::TicketReach::Nothing => false,
        }
    }

    /// The ticket as the actor may see it: citizens' identity masked for roles that do not
    /// need it, and hidden entirely from units when the request is confidential.
    pub fn masked_for(&self, actor: &Actor) -> Ticket {
        let mut t = self.clone();
        if !crate::permission::permits(actor.role, crate::permission::Permission::SeeContacts) {
            t.citizen = mask_citizen(&self.citizen, self.confidential);
            // The call's recording is the citizen's voice: as private as their number.
            t.recording = None;
        }
        t
    }
}

/// Masks a citizen: `张三` → `张*`, `13812345678` → `138****5678`. Confidential → nothing.
pub fn mask_citizen(c: &Citizen, confidential: bool) -> Citizen {
    if confidential {
        return Citizen {
            name: c.name.as_ref().map(|_| "(保密)".to_string()),
            phone: None,
            no_sms: c.no_sms,
            wechat_openid: None,
        };
    }
    Citizen {
        name: c.name.as_deref().map(mask_name),
        phone: c.phone.as_deref().map(mask_phone),
        no_sms: c.no_sms,
        wechat_openid: None,
    }
}

fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => {
            let rest = chars.count().max(1);
            format!("{first}{}", "*".repeat(rest))
        }
        None => String::new(),
    }
}

/// A phone number with its middle hidden.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 4 {
        return "*".repeat(chars.len());
    }
    let keep_head = if chars.len() >= 11 { 3 } else { 1 };
    let keep_tail = 4.min(chars.len() - keep_head);
    let masked = chars.len() - keep_head - keep_tail;
    let head: String = chars[..keep_head].iter().collect();
    let tail: String = chars[chars.len() - keep_tail..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(masked))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_names_and_phones() {
        let c = Citizen {
            name: Some("张三丰".into()),
            phone: Some("13812345678".into()),
            no_sms: false,
            wechat_openid: None,
        };
        let m = mask_citizen(&c, false);
        assert_eq!(m.name.as_deref(), Some("张**"));
        assert_eq!(m.phone.as_deref(), Some("138****5678"));
        let one = mask_citizen(
            &Citizen {
                name: Some("王".into()),
                phone: Some("8123".into()),
                no_sms: false,
                wechat_openid: None,
            },
            false,
        );
        assert_eq!(one.name.as_deref(), Some("王*"));
        assert_eq!(one.phone.as_deref(), Some("****"));
        assert_eq!(mask_phone("0971-8123456"), "097*****3456");
    }

    #[test]
    fn confidential_hides_identity() {
        let c = Citizen {
            name: Some("李四".into()),
            phone: Some("13912345678".into()),
            no_sms: false,
            wechat_openid: None,
        };
        let m = mask_citizen(&c, true);
        assert_eq!(m.name.as_deref(), Some("(保密)"));
        assert_eq!(m.phone, None);
    }
}
