//! The lifecycle actions on a ticket's page: only those this user may take now, each a
//! form whose bad input comes back beside the field with what was typed.

use super::i18n::Lang;
use mashangban_domain::{Action, Ticket, Unit, UnitKind};
use maud::{Markup, html};
use serde_json::{Map, Value, json};

/// A refused form: which action, which field, why, and what was typed.
pub struct FormError {
    pub action: Action,
    pub field: Option<String>,
    pub message: String,
    pub values: Vec<(String, String)>,
}

fn label(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    if lang == Lang::Zh { zh } else { en }
}

/// The form's fields: (name, Chinese label, English label, kind).
fn fields(a: Action) -> Vec<(&'static str, &'static str, &'static str, &'static str)> {
    match a {
        Action::ResolveDirectly => vec![("answer", "答复内容", "Answer", "textarea")],
        Action::Dispatch | Action::DecideConsultation => vec![
            ("lead_unit_id", "主办单位", "Lead unit", "unit"),
            ("co_unit_ids", "协办单位", "Co-units", "units"),
            ("tier", "处置时限", "Tier", "tier"),
            ("note", "派单意见", "Note", "text"),
        ],
        Action::RequestReturn | Action::RejectReply => {
            vec![("reason", "理由", "Reason", "textarea")]
        }
        Action::RequestExtension => vec![
            ("days", "延期工作日", "Working days", "number"),
            ("reason", "理由", "Reason", "textarea"),
        ],
        Action::AddNote => vec![("note", "备注", "Note", "textarea")],
        Action::Reply => vec![("content", "答复内容", "Reply", "textarea")],
        Action::RecordCallback => vec![
            ("unreachable", "未接通", "Unreachable", "checkbox"),
            ("contacted", "是否及时联系", "Contacted in time", "yesno"),
            ("resolution", "解决情况", "Resolution", "resolution"),
            ("satisfaction", "满意度", "Satisfaction", "satisfaction"),
            ("note", "备注", "Note", "text"),
        ],
        Action::Reopen => vec![("reason", "重办理由", "Reason", "textarea")],
        Action::ReviewRating => vec![
            (
                "reasonable",
                "市民差评是否合理（合理：交主办单位重办）",
                "Is the citizen's bad rating reasonable (yes: redone by the lead unit)",
                "yesno",
            ),
            (
                "reason",
                "审核理由（不合理时必填）",
                "Reason (required when not reasonable)",
                "textarea",
            ),
        ],
        Action::Merge => vec![("parent_id", "并入工单ID", "Parent ticket id", "number")],
        Action::NotAccept => vec![
            (
                "reason",
                "理由（告知市民）",
                "Reason (told to the citizen)",
                "textarea",
            ),
            ("redirect_to", "转至", "Redirect to", "text"),
        ],
        Action::TransferOut => vec![
            ("to", "转至", "Hand to", "platform"),
            ("reason", "转出理由", "Reason", "textarea"),
            (
                "agreement",
                "对方同意人（退回来源平台时必填）",
                "Who agreed there (required to hand back to the platform it came from)",
                "text",
            ),
        ],
        Action::RevealContact => Vec::new(),
        Action::Supervise => vec![
            ("level", "督办级别", "Level", "level"),
            ("note", "督办意见", "Instructions", "textarea"),
        ],
        Action::AnswerSupervision => vec![("answer", "督办反馈", "Answer", "textarea")],
        Action::Summon => vec![
            ("unit_id", "呼叫部门", "Department to call", "summonable"),
            ("reason", "事由", "Reason", "textarea"),
        ],
        Action::ReportIn => vec![("note", "报到情况", "What was done", "textarea")],
        Action::ResolveOnSpot => vec![(
            "action_taken",
            "处置情况（告知市民）",
            "What was done (told to the citizen)",
            "textarea",
        )],
        Action::Recategorise => vec![
            ("category_code", "正确分类", "Correct category", "category"),
            ("reason", "更正理由", "Reason", "text"),
        ],
        Action::Relocate => vec![
            ("division_code", "正确区划", "Correct place", "division"),
            ("reason", "更正理由", "Reason", "text"),
        ],
        Action::RecordMeeting => vec![
            ("held_on", "召开日期", "Held on", "date"),
            ("participants", "参会人员", "Who took part", "textarea"),
            ("decision", "议定事项", "What was decided", "textarea"),
            ("who_pays", "费用承担", "Who pays", "text"),
        ],
        Action::Forward => vec![
            ("unit_id", "下级单位", "Unit below", "below"),
            ("note", "转办意见", "Note", "text"),
        ],
        // A level reviewing the one below may pass its reply up edited.
        Action::ApproveReply => vec![
            (
                "content",
                "上报的答复（可修改）",
                "Reply passed up (editable)",
                "reply",
            ),
            ("note", "意见", "Note", "text"),
        ],
        _ => vec![("note", "意见", "Note", "text")],
    }
}

/// The JSON body of the action from the form's fields.
pub fn to_body(a: Action, form: &[(String, String)]) -> Result<Value, (String, String)> {
    let mut body = Map::new();
    for (name, _, _, kind) in fields(a) {
        let values: Vec<&str> = form
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect();
        let number = |v: &str| {
            v.parse::<i64>()
                .map_err(|_| (name.to_string(), format!("`{v}` is not a number")))
        };
        match kind {
            "units" => {
                let ids = values
                    .iter()
                    .map(|v| number(v))
                    .collect::<Result<Vec<_>, _>>()?;
                if !ids.is_empty() {
                    body.insert(name.into(), json!(ids));
                }
            }
            "unit" | "below" | "summonable" | "number" | "tier" => {
                if let Some(v) = values.first() {
                    body.insert(name.into(), json!(number(v)?));
                }
            }
            "checkbox" => {
                if !values.is_empty() {
                    body.insert(name.into(), json!(true));
                }
            }
            "yesno" => {
                if let Some(v) = values.first() {
                    body.insert(name.into(), json!(*v == "true"));
                }
            }
            _ => {
                if let Some(v) = values.first() {
                    body.insert(name.into(), json!(v));
                }
            }
        }
    }
    // An unreachable callback carries no answers.
    if a == Action::RecordCallback && body.contains_key("unreachable") {
        body.retain(|k, _| k == "unreachable" || k == "note");
    }
    Ok(Value::Object(body))
}

fn typed<'a>(err: Option<&'a FormError>, a: Action, name: &str) -> Vec<&'a str> {
    err.filter(|e| e.action == a)
        .map(|e| {
            e.values
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .collect()
        })
        .unwrap_or_default()
}

/// The pinyin initials of a name (`西宁市城市管理局` → `xnscsglj`), letters and digits kept:
/// the unit picker matches them, so that `cgj` finds 城管局.
pub fn initials(name: &str) -> String {
    use pinyin::ToPinyin;
    name.chars()
        .zip(name.to_pinyin())
        .filter_map(|(c, p)| match p {
            Some(p) => p.first_letter().chars().next(),
            None => c.is_ascii_alphanumeric().then(|| c.to_ascii_lowercase()),
        })
        .collect()
}

/// The units a dispatcher picks from, as the organisation tree: city departments, public
/// enterprises, then each district with its government and street offices (communities are
/// reached through their street office).
pub fn unit_options(units: &[Unit], selected: &[&str]) -> Markup {
    let active = |k: UnitKind| units.iter().filter(move |u| u.kind == k && u.active);
    let mut districts: Vec<&Unit> = active(UnitKind::DistrictGovernment).collect();
    districts.sort_by(|a, b| a.division_code.cmp(&b.division_code));
    let is_selected = |u: &Unit| selected.contains(&u.id.to_string().as_str());
    html! {
        @for (kind, name) in [(UnitKind::CityDepartment, "市级部门"), (UnitKind::Enterprise, "公共企业")] {
            optgroup label=(name) {
                @for u in active(kind) { option value=(u.id) data-py=(initials(&u.name)) selected[is_selected(u)] { (u.name) } }
            }
        }
        @for d in &districts {
            @let prefix = d.division_code.clone().unwrap_or_default();
            optgroup label=(d.name) {
                option value=(d.id) data-py=(initials(&d.name)) selected[is_selected(d)] { (d.name) }
                @for u in active(UnitKind::StreetOffice).filter(|u| !prefix.is_empty() && u.division_code.as_deref().is_some_and(|c| c.starts_with(&prefix))) {
                    option value=(u.id) data-py=(initials(&u.name)) selected[is_selected(u)] { (u.name) }
                }
            }
        }
    }
}

/// [`unit_options`] and, under each street office, its communities: where a user may
/// belong (a grid worker to a community).
pub fn unit_options_with_communities(units: &[Unit], selected: &[&str]) -> Markup {
    let mut streets: Vec<&Unit> = units
        .iter()
        .filter(|u| u.kind == UnitKind::StreetOffice && u.active)
        .collect();
    streets.sort_by(|a, b| a.division_code.cmp(&b.division_code));
    html! {
        (unit_options(units, selected))
        @for s in streets {
            @let communities: Vec<&Unit> = units.iter().filter(|u| u.kind == UnitKind::Community && u.active && u.parent_id == Some(s.id)).collect();
            @if !communities.is_empty() {
                optgroup label=(format!("{} · 社区", s.name)) {
                    @for u in communities { option value=(u.id) data-py=(initials(&u.name)) selected[selected.contains(&u.id.to_string().as_str())] { (u.name) } }
                }
            }
        }
    }
}

/// The units the holder of a ticket may forward it to: those below it in the organisation.
fn below_options(units: &[Unit], ticket: &Ticket, selected: &[&str]) -> Markup {
    let below = ticket
        .holder_unit()
        .map(|h| mashangban_domain::org::units_below(units, h))
        .unwrap_or_default();
    html! {
        @for u in units.iter().filter(|u| below.contains(&u.id)) {
            option value=(u.id) data-py=(initials(&u.name)) selected[selected.contains(&u.id.to_string().as_str())] { (u.name) }
        }
    }
}

/// The departments the holder of a ticket may call to the spot.
fn summonable_options(units: &[Unit], ticket: &Ticket, selected: &[&str]) -> Markup {
    let called = ticket
        .holder_unit()
        .map(|h| mashangban_domain::org::summonable(units, h))
        .unwrap_or_default();
    html! {
        @for u in units.iter().filter(|u| called.contains(&u.id)) {
            option value=(u.id) data-py=(initials(&u.name)) selected[selected.contains(&u.id.to_string().as_str())] { (u.name) }
        }
    }
}

pub fn unit_search(lang: Lang, select_id: &str) -> Markup {
    html! {
        input.unit-search type="search" data-filter-for=(select_id) placeholder=(label(lang, "搜索单位名称…", "Search units…")) aria-label=(label(lang, "搜索单位名称", "Search units")) autocomplete="off";
    }
}

/// The places a ticket may be moved to: the candidates its words left, then every district
/// and street office, and the communities of the district the ticket is in now (the page
/// stays small; a community elsewhere is reached by moving the ticket to its street first).
fn division_options(r: &mashangban_app::Reference, ticket: &Ticket, selected: &str) -> Markup {
    let candidates: Vec<&String> = ticket
        .place
        .iter()
        .flat_map(|p| p.candidates.iter())
        .filter(|c| r.divisions.contains_key(*c))
        .collect();
    let mut codes: Vec<&String> = r.divisions.keys().collect();
    codes.sort();
    let district_of = |c: &str| c.get(..6).map(str::to_string);
    let here = ticket.division_code.as_deref().and_then(district_of);
    let districts: Vec<&String> = codes
        .iter()
        .copied()
        .filter(|c| c.len() == 6 && !c.ends_with("00"))
        .collect();
    html! {
        @if !candidates.is_empty() {
            optgroup label="候选" {
                @for c in &candidates {
                    option value=(c) selected[selected == c.as_str()] { (r.division_path(c).unwrap_or_else(|| c.to_string())) }
                }
            }
        }
        @for d in districts {
            optgroup label=(r.divisions.get(d).map(String::as_str).unwrap_or(d)) {
                @for c in codes.iter().filter(|c| c.starts_with(d.as_str()) && (c.len() <= 9 || here.as_deref() == Some(d.as_str()))) {
                    option value=(c) selected[selected == c.as_str()] { (r.division_path(c).unwrap_or_else(|| c.to_string())) }
                }
            }
        }
    }
}

/// What the forms of a ticket's page pick from.
pub struct FormContext<'a> {
    /// The units a dispatch, forward or call may name (empty when none of those is allowed).
    pub units: &'a [Unit],
    pub reference: &'a mashangban_app::Reference,
    /// Where the dispatch catalogue sends the ticket's matter, if it says: preselected.
    pub owner: Option<&'a mashangban_domain::catalogue::CatalogueMatch>,
    /// What the reply inspection finds in the reply the user may approve: shown in the
    /// approval's form, above its button.
    pub inspection: Option<&'a mashangban_app::reply_check::ReplyInspection>,
}

/// The reply inspection's findings (答复质检), beside the approve button: advice, with why
/// and the words each rests on.
fn inspection_markup(lang: Lang, i: &mashangban_app::reply_check::ReplyInspection) -> Markup {
    let zh = lang == Lang::Zh;
    html! {
        div.reply-check #reply-check {
            h3 { (label(lang, "答复质检", "Reply inspection")) }
            @if i.findings.is_empty() {
                p.muted { (label(lang, "未发现问题。", "Nothing found.")) }
            } @else {
                p.muted { (label(lang, "以下提示供审核参考，不影响审核通过；审核通过时将一并记录。", "Advice for the review: it does not stop the approval and is recorded with it.")) }
                ul {
                    @for f in &i.findings {
                        li {
                            strong { (if zh { f.kind.label_zh() } else { f.kind.label_en() }) }
                            "：" (f.why)
                        }
                    }
                }
            }
        }
    }
}

/// The order a desk uses the actions in: the step that moves the ticket on first, the
/// reviews and decisions of the hotline, then notes and corrections; the rare and the
/// audited last.
const USUAL: [Action; 33] = [
    Action::Dispatch,
    Action::Sign,
    Action::Reply,
    Action::ApproveReply,
    Action::RecordCallback,
    Action::ReviewRating,
    Action::Close,
    Action::DecideConsultation,
    Action::ApproveExtension,
    Action::ApproveReturn,
    Action::AnswerSupervision,
    Action::ReportIn,
    Action::ResolveDirectly,
    Action::ResolveOnSpot,
    Action::RecordContact,
    Action::Forward,
    Action::Summon,
    Action::RecordMeeting,
    Action::Supervise,
    Action::AddNote,
    Action::Recategorise,
    Action::Relocate,
    Action::RequestExtension,
    Action::RequestReturn,
    Action::RejectReply,
    Action::RejectExtension,
    Action::RejectReturn,
    Action::OpenConsultation,
    Action::Merge,
    Action::NotAccept,
    Action::TransferOut,
    Action::Reopen,
    Action::RevealContact,
];

/// The actions in the order a desk uses them ([`USUAL`]).
pub fn in_usual_order(mut actions: Vec<Action>) -> Vec<Action> {
    actions.sort_by_key(|a| USUAL.iter().position(|u| u == a).unwrap_or(USUAL.len()));
    actions
}

/// Actions that finish the user's part of a ticket, after which a queue goes on to the
/// next one ("save and next").
fn moves_on(a: Action) -> bool {
    matches!(
        a,
        Action::Dispatch
            | Action::Sign
            | Action::Reply
            | Action::ApproveReply
            | Action::RejectReply
            | Action::RecordCallback
            | Action::ReviewRating
            | Action::Close
            | Action::DecideConsultation
            | Action::ApproveExtension
            | Action::RejectExtension
            | Action::ApproveReturn
            | Action::RejectReturn
            | Action::AnswerSupervision
            | Action::ResolveDirectly
            | Action::NotAccept
            | Action::TransferOut
    )
}

/// One action's form; `open` unfolds it (the usual action, or one whose input came back).
pub fn form(
    lang: Lang,
    csrf: &str,
    ticket: &Ticket,
    a: Action,
    cx: &FormContext,
    err: Option<&FormError>,
    open: bool,
) -> Markup {
    let (units, r) = (cx.units, cx.reference);
    let mine = err.filter(|e| e.action == a);
    // The catalogue's owner, preselected as the lead unit until something else was typed;
    // without one, the unit that owns the merged hotline the call came in on (12369 →
    // 生态环境局).
    let line_owner = ticket
        .channel_detail
        .as_deref()
        .filter(|_| ticket.channel == mashangban_domain::Channel::MERGED_LINE)
        .and_then(|n| r.line(n))
        .and_then(|l| l.unit_id);
    let owner_id = cx
        .owner
        .map(|m| m.entry.unit_id)
        .or(line_owner)
        .map(|u| u.to_string());
    html! {
        details.action open[mine.is_some() || open] {
            summary { (if lang == Lang::Zh { a.label_zh() } else { a.as_str() }) }
            form method="post" action=(format!("/tickets/{}/act/{}", ticket.id, a.as_str())) {
                input type="hidden" name="_csrf" value=(csrf);
                @for (name, zh, en, kind) in fields(a).into_iter().filter(|f| f.3 != "reply" || ticket.reviewer_unit().is_some()) {
                    @let id = format!("{}-{}", a.as_str(), name);
                    @let was = typed(err, a, name);
                    div.field {
                        label for=(id) { (label(lang, zh, en)) }
                        @match kind {
                            "textarea" => textarea id=(id) name=(name) rows="3" cols="60" { (was.first().copied().unwrap_or("")) },
                            "unit" => {
                                (unit_search(lang, &id))
                                @let chosen: Vec<&str> = if was.is_empty() { owner_id.as_deref().into_iter().collect() } else { was.clone() };
                                select id=(id) name=(name) { option value="" { "—" } (unit_options(units, &chosen)) }
                                @if let Some(m) = cx.owner {
                                    p.muted.owner-hint {
                                        (label(lang, "按派单目录：", "By the dispatch catalogue: "))
                                        strong { (r.unit_name(m.entry.unit_id).unwrap_or("?")) }
                                        " · " (m.rule)
                                    }
                                }
                            },
                            "units" => { (unit_search(lang, &id)) select id=(id) name=(name) multiple size="6" { (unit_options(units, &was)) } },
                            "below" => { (unit_search(lang, &id)) select id=(id) name=(name) { option value="" { "—" } (below_options(units, ticket, &was)) } },
                            "summonable" => { (unit_search(lang, &id)) select id=(id) name=(name) { option value="" { "—" } (summonable_options(units, ticket, &was)) } },
                            "reply" => textarea id=(id) name=(name) rows="4" cols="60" { (was.first().copied().or(ticket.lowest_assignment().and_then(|l| l.reply.as_deref())).unwrap_or("")) },
                            "tier" => select id=(id) name=(name) {
                                option value="" { (label(lang, "按分类默认", "category default")) }
                                @for d in [1, 3, 7, 11] { option value=(d) selected[was.first() == Some(&d.to_string().as_str())] { (d) (label(lang, "天", " days")) } }
                            },
                            "checkbox" => input id=(id) type="checkbox" name=(name) checked[!was.is_empty()];,
                            // A callback's answers are what the citizen said: nothing is preset.
                            "yesno" => select id=(id) name=(name) {
                                option value="" { (label(lang, "—请选择—", "— choose —")) }
                                option value="true" selected[was.first() == Some(&"true")] { (label(lang, "是", "yes")) }
                                option value="false" selected[was.first() == Some(&"false")] { (label(lang, "否", "no")) }
                            },
                            "resolution" => select id=(id) name=(name) {
                                option value="" { (label(lang, "—请选择—", "— choose —")) }
                                @for r in mashangban_domain::Resolution::ALL { option value=(r.as_str()) selected[was.first() == Some(&r.as_str())] { (if lang == Lang::Zh { r.label_zh() } else { r.as_str() }) } }
                            },
                            "satisfaction" => select id=(id) name=(name) {
                                option value="" { (label(lang, "—请选择—", "— choose —")) }
                                @for r in mashangban_domain::Satisfaction::ALL { option value=(r.as_str()) selected[was.first() == Some(&r.as_str())] { (if lang == Lang::Zh { r.label_zh() } else { r.as_str() }) } }
                            },
                            "level" => select id=(id) name=(name) {
                                option value="" { (label(lang, "提升一级", "one level up")) }
                                @for l in mashangban_domain::SupervisionLevel::ALL.iter().filter(|l| ticket.supervision.as_ref().is_none_or(|s| **l > s.level)) {
                                    option value=(l.as_str()) selected[was.first() == Some(&l.as_str())] { (if lang == Lang::Zh { l.label_zh() } else { l.as_str() }) }
                                }
                            },
                            "platform" => select id=(id) name=(name) {
                                option value="" { "—" }
                                @for (code, name) in r.transfer_targets() {
                                    option value=(code) selected[was.first() == Some(&code.as_str())] { (name) " (" (code) ")" }
                                }
                            },
                            "number" => input id=(id) name=(name) inputmode="numeric" value=(was.first().copied().unwrap_or(""));,
                            "date" => input id=(id) type="date" name=(name) value=(was.first().copied().unwrap_or(""));,
                            "category" => (super::intake::category_picker_for(lang, r, was.first().copied().unwrap_or(""), &id)),
                            "division" => {
                                input.unit-search type="search" data-filter-for=(id) placeholder=(label(lang, "搜索区划名称…", "Search places…")) aria-label=(label(lang, "搜索区划", "Search places")) autocomplete="off";
                                select id=(id) name=(name) { option value="" { "—" } (division_options(r, ticket, was.first().copied().unwrap_or(""))) }
                            },
                            _ => input id=(id) name=(name) value=(was.first().copied().unwrap_or(""));,
                        }
                        @if let Some(e) = mine.filter(|e| e.field.as_deref() == Some(name)) { span.error role="alert" { (super::i18n::message(lang, &e.message)) } }
                    }
                }
                @if a == Action::ApproveReply && let Some(i) = cx.inspection { (inspection_markup(lang, i)) }
                @if a == Action::RevealContact { p.muted { (label(lang, "查看将被记录在案（审计）。", "Revealing is recorded (audited).")) } }
                button.primary type="submit" { (if lang == Lang::Zh { a.label_zh() } else { a.as_str() }) }
                @if moves_on(a) {
                    " " button type="submit" name="_then" value="next" { (label(lang, "办理并打开下一件", "Save and next")) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn unit_names_have_their_pinyin_initials() {
        assert_eq!(initials("西宁市城市管理局"), "xnscsglj");
        assert_eq!(initials("城管局"), "cgj");
        assert_eq!(initials("12345热线"), "12345rx");
    }

    #[test]
    fn forms_become_bodies() {
        let b = to_body(
            Action::Dispatch,
            &f(&[
                ("lead_unit_id", "5"),
                ("co_unit_ids", "6"),
                ("co_unit_ids", "7"),
                ("tier", ""),
                ("note", " 请办理 "),
            ]),
        )
        .unwrap();
        assert_eq!(
            b,
            json!({"lead_unit_id": 5, "co_unit_ids": [6, 7], "note": "请办理"})
        );
        assert_eq!(
            to_body(Action::Dispatch, &f(&[("lead_unit_id", "x")]))
                .unwrap_err()
                .0,
            "lead_unit_id"
        );
        let cb = to_body(
            Action::RecordCallback,
            &f(&[
                ("contacted", "false"),
                ("resolution", "partly"),
                ("satisfaction", "basically"),
            ]),
        )
        .unwrap();
        assert_eq!(
            cb,
            json!({"contacted": false, "resolution": "partly", "satisfaction": "basically"})
        );
        let un = to_body(
            Action::RecordCallback,
            &f(&[
                ("unreachable", "on"),
                ("contacted", "true"),
                ("resolution", "resolved"),
            ]),
        )
        .unwrap();
        assert_eq!(un, json!({"unreachable": true}));
        assert_eq!(
            to_body(Action::Sign, &f(&[("note", "")])).unwrap(),
            json!({})
        );
        assert_eq!(
            to_body(
                Action::RecordMeeting,
                &f(&[
                    ("held_on", "2026-11-20"),
                    ("participants", "楼院党支部、网格员、居民代表"),
                    ("decision", "整体更换地下室水网"),
                    ("who_pays", "社区、物业、居民共同承担"),
                ]),
            )
            .unwrap(),
            json!({"held_on": "2026-11-20", "participants": "楼院党支部、网格员、居民代表",
                   "decision": "整体更换地下室水网", "who_pays": "社区、物业、居民共同承担"})
        );
    }
}
