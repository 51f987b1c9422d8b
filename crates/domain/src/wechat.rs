//! The WeChat official account (微信公众号) as a channel: what a follower's message says,
//! and the short guided dialogue (describe → place → confirm) that turns their messages
//! into a request. Pure: the application keeps the dialogue between messages, checks the
//! signatures and takes the request.

use crate::error::DomainError;
use crate::public::CitizenRating;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How long a dialogue waits for the follower's next message before it is forgotten.
pub const DIALOGUE_MINUTES: i64 = 30;
/// The longest description a dialogue keeps (the rest of a longer message is cut).
pub const MAX_DESCRIPTION: usize = 2000;
/// The longest place a dialogue keeps.
pub const MAX_PLACE: usize = 200;
/// The photos a dialogue keeps (those of a request, [`crate::attachment::MAX_PER_TICKET`]).
pub const MAX_PICTURES: usize = crate::attachment::MAX_PER_TICKET;
/// The longest openid or account name taken (WeChat's are 28 to 32 characters).
const MAX_ID: usize = 64;

/// What a follower sent (or did: the events of following the account).
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Text(String),
    /// A photo, kept by WeChat for three days under its media id.
    Image {
        media_id: String,
    },
    /// A place picked on the map: its label (an address) and coordinates.
    Location {
        label: String,
        latitude: f64,
        longitude: f64,
    },
    /// A voice message, with WeChat's recognition of it when the account has it turned on.
    Voice {
        recognition: Option<String>,
    },
    Subscribe,
    Unsubscribe,
    /// Any other message or event (video, link, menu clicks …), by its type.
    Other(String),
}

/// A message with who sent it to which account, as WeChat posts it.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// The official account's own id (`ToUserName`).
    pub account: String,
    /// The follower's openid (`FromUserName`).
    pub openid: String,
    /// `CreateTime`, Unix seconds.
    pub created: i64,
    /// `MsgId` (events carry none).
    pub msg_id: Option<String>,
    pub message: Message,
}

fn field<'a>(f: &'a BTreeMap<String, String>, name: &str) -> Result<&'a str, DomainError> {
    f.get(name)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| DomainError::invalid(name, "is required"))
}

fn id_field(f: &BTreeMap<String, String>, name: &str) -> Result<String, DomainError> {
    let v = field(f, name)?;
    if v.chars().count() > MAX_ID || v.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(DomainError::invalid(
            name,
            format!("must be at most {MAX_ID} characters without spaces or control characters"),
        ));
    }
    Ok(v.to_string())
}

fn coordinate(
    f: &BTreeMap<String, String>,
    name: &str,
    range: std::ops::RangeInclusive<f64>,
) -> Result<f64, DomainError> {
    field(f, name)?
        .parse::<f64>()
        .ok()
        .filter(|v| range.contains(v))
        .ok_or_else(|| DomainError::invalid(name, "is not a coordinate"))
}

impl Envelope {
    /// The message of the XML's fields (element name → text), as WeChat documents them.
    pub fn parse(f: &BTreeMap<String, String>) -> Result<Envelope, DomainError> {
        let account = id_field(f, "ToUserName")?;
        let openid = id_field(f, "FromUserName")?;
        let created = field(f, "CreateTime")?
            .parse::<i64>()
            .ok()
            .filter(|t| *t > 0)
            .ok_or_else(|| DomainError::invalid("CreateTime", "is not a Unix time"))?;
        let msg_id = match f.get("MsgId").map(|s| s.trim()).filter(|s| !s.is_empty()) {
            Some(id) if id.len() <= MAX_ID && id.chars().all(|c| c.is_ascii_alphanumeric()) => {
                Some(id.to_string())
            }
            Some(_) => return Err(DomainError::invalid("MsgId", "is not a message id")),
            None => None,
        };
        let kind = field(f, "MsgType")?;
        let message = match kind {
            "text" => Message::Text(clean(field(f, "Content")?)),
            "image" => Message::Image {
                media_id: id_field(f, "MediaId")?,
            },
            "location" => Message::Location {
                label: clean(f.get("Label").map(String::as_str).unwrap_or_default()),
                latitude: coordinate(f, "Location_X", -90.0..=90.0)?,
                longitude: coordinate(f, "Location_Y", -180.0..=180.0)?,
            },
            "voice" => Message::Voice {
                recognition: f
                    .get("Recognition")
                    .map(|s| clean(s))
                    .filter(|s| !s.is_empty()),
            },
            "event" => match field(f, "Event")?.to_ascii_lowercase().as_str() {
                "subscribe" => Message::Subscribe,
                "unsubscribe" => Message::Unsubscribe,
                other => Message::Other(format!("event:{other}")),
            },
            other => Message::Other(other.chars().take(MAX_ID).collect()),
        };
        if msg_id.is_none() && !matches!(kind, "event") {
            return Err(DomainError::invalid("MsgId", "is required of a message"));
        }
        Ok(Envelope {
            account,
            openid,
            created,
            msg_id,
            message,
        })
    }

    /// What names this message among all WeChat sends, retries included: its `MsgId`, or
    /// for an event (which has none) the follower, time and event, as WeChat advises.
    pub fn replay_key(&self) -> String {
        match &self.msg_id {
            Some(id) => format!("wechat:{id}"),
            None => format!(
                "wechat:{}:{}:{}",
                self.openid,
                self.created,
                match &self.message {
                    Message::Subscribe => "subscribe",
                    Message::Unsubscribe => "unsubscribe",
                    Message::Other(kind) => kind.as_str(),
                    _ => "message",
                }
            ),
        }
    }
}

/// Text as kept: trimmed, control characters (but line breaks) taken out.
fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| *c == '\n' || !c.is_control())
        .collect::<String>()
        .trim()
        .to_string()
}

fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// Where a dialogue stands: what it waits for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// A photo or place came first: the words of the matter are wanted.
    Describe,
    /// The words came: where is it?
    Place,
    /// Everything is there: the follower confirms (1) or cancels (0).
    Confirm,
}

/// A request being put together with a follower, kept between their messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dialogue {
    pub step: Step,
    pub description: String,
    pub place: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Media ids of the photos sent.
    pub pictures: Vec<String>,
    pub last_at: DateTime<Utc>,
}

impl Dialogue {
    /// Whether the follower has been silent too long for it to go on.
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        now - self.last_at > Duration::minutes(DIALOGUE_MINUTES)
    }
}

/// What the dialogue makes of a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Turn {
    /// Answer the follower with this text.
    Say(String),
    /// Take the request (then tell its number).
    Submit(Dialogue),
    /// Rate the follower's newest answered request.
    Rate(CitizenRating),
    /// Tell the follower where their requests stand.
    Progress,
    /// Nothing to answer.
    Nothing,
}

pub const GREETING: &str = "您好，这里是12345政务服务便民热线。请直接发送文字或语音，说明您要反映的问题；也可以先发图片或位置。回复“进度”查看您的诉求办理情况。";
const ASK_DESCRIPTION: &str = "请用文字或语音说明您要反映的问题。";
const ASK_PLACE: &str =
    "请告诉我们问题发生的地点：输入详细地址（区、街道、小区或路名），或点击“+”发送位置。";
const ASK_CONFIRM: &str = "回复“1”确认提交，回复“0”取消；还可以继续发送图片。";
const UNSUPPORTED: &str = "暂时只能接收文字、语音、图片和位置。";
const VOICE_UNCLEAR: &str = "没有识别出语音内容，请改发文字。";
const CANCELLED: &str = "已取消，本次内容未提交。需要时请重新发送您的问题。";
/// Words that shorter than this are a greeting, not a matter.
const MIN_DESCRIPTION: usize = 4;

fn is_progress(t: &str) -> bool {
    matches!(t, "进度" | "查询" | "查询进度" | "办理进度")
}

fn is_cancel(t: &str) -> bool {
    matches!(t, "0" | "０" | "取消")
}

fn is_confirm(t: &str) -> bool {
    matches!(t, "1" | "１" | "确认" | "确定" | "提交")
}

/// The summary a follower confirms.
fn summary(d: &Dialogue) -> String {
    let mut s = format!(
        "请核对：\n问题：{}\n地点：{}",
        d.description,
        d.place.as_deref().unwrap_or("（未提供）")
    );
    if !d.pictures.is_empty() {
        s.push_str(&format!("\n图片：{}张", d.pictures.len()));
    }
    s.push('\n');
    s.push_str(ASK_CONFIRM);
    s
}

fn what_next(d: Dialogue) -> (Option<Dialogue>, Turn) {
    let say = match d.step {
        Step::Describe => ASK_DESCRIPTION.to_string(),
        Step::Place => ASK_PLACE.to_string(),
        Step::Confirm => summary(&d),
    };
    (Some(d), Turn::Say(say))
}

/// The step after the dialogue gained something: the words, then the place, then confirm.
fn advance(mut d: Dialogue) -> (Option<Dialogue>, Turn) {
    d.step = if d.description.is_empty() {
        Step::Describe
    } else if d.place.is_none() {
        Step::Place
    } else {
        Step::Confirm
    };
    what_next(d)
}

/// One turn of the dialogue: the dialogue after `m` (none: it ended or never began) and
/// what to do. An expired dialogue is as none.
pub fn turn(d: Option<Dialogue>, m: &Message, now: DateTime<Utc>) -> (Option<Dialogue>, Turn) {
    let d = d.filter(|d| !d.expired(now));
    // A voice message is its recognised words.
    let text = match m {
        Message::Text(t) => Some(t.clone()),
        Message::Voice {
            recognition: Some(t),
        } => Some(t.trim_end_matches(['。', '.', '！', '？']).to_string()),
        _ => None,
    };
    if let Some(t) = &text
        && is_progress(t.trim())
    {
        return (d, Turn::Progress);
    }
    let fresh = || Dialogue {
        step: Step::Describe,
        description: String::new(),
        place: None,
        latitude: None,
        longitude: None,
        pictures: Vec::new(),
        last_at: now,
    };
    match (d, m) {
        (_, Message::Unsubscribe) => (None, Turn::Nothing),
        (d, Message::Subscribe) => (d, Turn::Say(GREETING.into())),
        (d, Message::Other(_)) => (d, Turn::Say(UNSUPPORTED.into())),
        (d, Message::Voice { recognition: None }) => (d, Turn::Say(VOICE_UNCLEAR.into())),
        (None, Message::Text(_) | Message::Voice { .. }) => {
            let t = text.unwrap_or_default();
            if let Some(rating) = CitizenRating::from_sms(&t) {
                return (None, Turn::Rate(rating));
            }
            if t.chars().count() < MIN_DESCRIPTION || is_cancel(&t) {
                return (None, Turn::Say(GREETING.into()));
            }
            let mut d = fresh();
            d.description = cut(&t, MAX_DESCRIPTION);
            advance(d)
        }
        (Some(d), Message::Text(_) | Message::Voice { .. }) => {
            let t = text.unwrap_or_default();
            let t = t.trim();
            if is_cancel(t) {
                return (None, Turn::Say(CANCELLED.into()));
            }
            let mut d = Dialogue { last_at: now, ..d };
            match d.step {
                Step::Describe => {
                    d.description = cut(t, MAX_DESCRIPTION);
                    advance(d)
                }
                Step::Place => {
                    d.place = Some(cut(t, MAX_PLACE));
                    advance(d)
                }
                Step::Confirm if is_confirm(t) => (None, Turn::Submit(d)),
                Step::Confirm => what_next(d),
            }
        }
        (d, Message::Image { media_id }) => {
            let mut d = d
                .map(|d| Dialogue { last_at: now, ..d })
                .unwrap_or_else(fresh);
            if d.pictures.len() < MAX_PICTURES && !d.pictures.contains(media_id) {
                d.pictures.push(media_id.clone());
            }
            advance(d)
        }
        (
            d,
            Message::Location {
                label,
                latitude,
                longitude,
            },
        ) => {
            let mut d = d
                .map(|d| Dialogue { last_at: now, ..d })
                .unwrap_or_else(fresh);
            d.place = Some(if label.is_empty() {
                format!("{latitude:.6},{longitude:.6}")
            } else {
                cut(label, MAX_PLACE)
            });
            d.latitude = Some(*latitude);
            d.longitude = Some(*longitude);
            advance(d)
        }
    }
}

/// The request a confirmed dialogue makes (channel `wechat`): its words, its place as the
/// address, the follower as its citizen (by openid: progress is pushed to them).
pub fn new_ticket(openid: &str, d: &Dialogue) -> Result<crate::NewTicket, DomainError> {
    let mut new = crate::NewTicket::validate(crate::intake::CreateBody {
        channel: crate::channel::Channel::WECHAT,
        channel_detail: None,
        recording: None,
        kind: crate::types::Kind::Help,
        title: None,
        content: d.description.clone(),
        citizen: None,
        confidential: None,
        address: d.place.clone(),
        category_code: None,
        division_code: None,
        suggested_category_code: None,
        merge_into: None,
    })?;
    new.citizen.wechat_openid = Some(openid.to_string());
    Ok(new)
}

/// A message of progress pushed to the follower (a template message: a headline, the
/// request's number and state, and a remark).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Push {
    pub headline: String,
    pub number: String,
    pub status: String,
    pub remark: String,
}

/// The push an event of a follower's request calls for: when it is sent to a unit, and
/// when the hotline approves the answer (which the follower may then rate by replying a
/// digit). None for other events and for requests that came in otherwise.
pub fn push_for(t: &crate::Ticket, kind: &crate::EventKind, unit: Option<&str>) -> Option<Push> {
    use crate::EventKind as E;
    t.citizen.wechat_openid.as_ref()?;
    let status = crate::public::PublicState::of(t.state)
        .label_zh()
        .to_string();
    let (headline, remark) = match kind {
        E::Dispatched { .. } => (
            "您反映的问题已转交办理".to_string(),
            format!(
                "承办单位：{}，将按时限办理并答复您。",
                unit.unwrap_or("办理单位")
            ),
        ),
        E::ReplyApproved { .. } | E::ParentAnswered { .. }
            if t.state == crate::TicketState::AwaitingCallback =>
        {
            let reply: String = t
                .reply
                .as_deref()
                .unwrap_or_default()
                .chars()
                .take(500)
                .collect();
            (
                "您反映的问题已答复".to_string(),
                format!("{reply}\n请回复数字评价：1 满意，2 基本满意，3 不满意。"),
            )
        }
        _ => return None,
    };
    Some(Push {
        headline,
        number: t.number.clone(),
        status,
        remark,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, 2, 0, 0).unwrap() + Duration::minutes(min)
    }

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn text(t: &str) -> Message {
        Message::Text(t.into())
    }

    #[test]
    fn a_text_message_is_read_as_wechat_documents_it() {
        let e = Envelope::parse(&fields(&[
            ("ToUserName", "gh_0123456789ab"),
            ("FromUserName", "oUser_0001"),
            ("CreateTime", "1764986400"),
            ("MsgType", "text"),
            ("Content", " 小区门口路灯不亮\u{7} "),
            ("MsgId", "24012345678901234"),
        ]))
        .unwrap();
        assert_eq!(e.account, "gh_0123456789ab");
        assert_eq!(e.openid, "oUser_0001");
        assert_eq!(e.created, 1764986400);
        assert_eq!(e.message, Message::Text("小区门口路灯不亮".into()));
        assert_eq!(e.replay_key(), "wechat:24012345678901234");
    }

    #[test]
    fn events_are_keyed_by_follower_time_and_event() {
        let e = Envelope::parse(&fields(&[
            ("ToUserName", "gh_0123456789ab"),
            ("FromUserName", "oUser_0001"),
            ("CreateTime", "1764986400"),
            ("MsgType", "event"),
            ("Event", "subscribe"),
        ]))
        .unwrap();
        assert_eq!(e.message, Message::Subscribe);
        assert_eq!(e.replay_key(), "wechat:oUser_0001:1764986400:subscribe");
    }

    #[test]
    fn bad_messages_name_their_field() {
        let base = [
            ("ToUserName", "gh_0123456789ab"),
            ("FromUserName", "oUser_0001"),
            ("CreateTime", "1764986400"),
            ("MsgType", "location"),
            ("Location_X", "36.62"),
            ("Location_Y", "101.78"),
            ("Label", "西宁市城东区东关大街"),
            ("MsgId", "1"),
        ];
        assert!(Envelope::parse(&fields(&base)).is_ok());
        let with = |k: &str, v: &str| {
            let mut f = fields(&base);
            f.insert(k.into(), v.into());
            Envelope::parse(&f).unwrap_err().to_string()
        };
        assert!(with("Location_X", "91").contains("Location_X"));
        assert!(with("CreateTime", "yesterday").contains("CreateTime"));
        assert!(with("FromUserName", "a b").contains("FromUserName"));
        assert!(with("MsgId", "1; DROP").contains("MsgId"));
        let mut f = fields(&base);
        f.remove("MsgId");
        assert!(
            Envelope::parse(&f)
                .unwrap_err()
                .to_string()
                .contains("MsgId")
        );
    }

    #[test]
    fn describe_then_place_then_confirm_makes_a_request() {
        let (d, t) = turn(None, &text("小区门口的路灯坏了一个月"), at(0));
        assert_eq!(t, Turn::Say(ASK_PLACE.into()));
        let (d, t) = turn(
            d,
            &Message::Image {
                media_id: "m1".into(),
            },
            at(1),
        );
        assert_eq!(t, Turn::Say(ASK_PLACE.into()), "a photo keeps the question");
        let (d, t) = turn(d, &text("城东区东关大街99号"), at(2));
        assert_eq!(
            t,
            Turn::Say(
                "请核对：\n问题：小区门口的路灯坏了一个月\n地点：城东区东关大街99号\n图片：1张\n回复“1”确认提交，回复“0”取消；还可以继续发送图片。"
                    .into()
            )
        );
        let (d2, t) = turn(d.clone(), &text("好的"), at(3));
        assert_eq!(d2.as_ref().unwrap().step, Step::Confirm, "asked again");
        assert!(matches!(t, Turn::Say(s) if s.starts_with("请核对")));
        let (left, t) = turn(d, &text("1"), at(4));
        assert_eq!(left, None);
        let Turn::Submit(s) = t else {
            panic!("submitted")
        };
        assert_eq!(s.description, "小区门口的路灯坏了一个月");
        assert_eq!(s.place.as_deref(), Some("城东区东关大街99号"));
        assert_eq!(s.pictures, vec!["m1".to_string()]);
    }

    #[test]
    fn a_location_or_photo_may_come_first() {
        let (d, t) = turn(
            None,
            &Message::Location {
                label: "西宁市城东区东关大街".into(),
                latitude: 36.62,
                longitude: 101.78,
            },
            at(0),
        );
        assert_eq!(t, Turn::Say(ASK_DESCRIPTION.into()));
        let (d, t) = turn(
            d,
            &Message::Voice {
                recognition: Some("井盖丢了很危险。".into()),
            },
            at(1),
        );
        let d = d.unwrap();
        assert_eq!(d.step, Step::Confirm);
        assert_eq!(d.description, "井盖丢了很危险");
        assert!(matches!(t, Turn::Say(s) if s.contains("地点：西宁市城东区东关大街")));
    }

    #[test]
    fn cancel_rating_progress_and_greetings() {
        let (d, _) = turn(None, &text("楼上装修噪音太大了"), at(0));
        assert_eq!(
            turn(d.clone(), &text("0"), at(1)),
            (None, Turn::Say(CANCELLED.into()))
        );
        let (kept, t) = turn(d.clone(), &text("进度"), at(1));
        assert_eq!((kept, t), (d.clone(), Turn::Progress));
        assert!(matches!(turn(None, &text("2"), at(0)).1, Turn::Rate(_)));
        assert_eq!(
            turn(None, &text("你好"), at(0)).1,
            Turn::Say(GREETING.into())
        );
        assert_eq!(
            turn(d.clone(), &Message::Subscribe, at(1)),
            (d.clone(), Turn::Say(GREETING.into()))
        );
        assert_eq!(turn(d, &Message::Unsubscribe, at(1)), (None, Turn::Nothing));
    }

    #[test]
    fn a_dialogue_left_half_an_hour_starts_over() {
        let (d, _) = turn(None, &text("楼上装修噪音太大了"), at(0));
        let (d, t) = turn(d, &text("1"), at(DIALOGUE_MINUTES + 1));
        assert_eq!(d, None);
        assert!(
            matches!(t, Turn::Rate(_)),
            "a digit alone is a rating again"
        );
    }
}
