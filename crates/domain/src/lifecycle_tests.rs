//! Exhaustive tests of the lifecycle: every (state × action), every role, the side paths.

use crate::lifecycle::*;
use crate::ticket::*;
use crate::types::*;
use crate::{Channel, DomainError, NewTicket};
use chrono::{TimeZone, Utc};
use serde_json::json;

const LEAD: i64 = 10;
const CO: i64 = 11;
const OTHER: i64 = 12;
/// A department the lead unit called to the spot, on every ticket with units.
const SUMMONED: i64 = 13;

/// The situation of every test here: 09:00 in Beijing, the default policy, no clocks due,
/// every unit of the tests active, no catalogue entry and no category tier.
fn situation() -> Situation<'static> {
    static POLICY: std::sync::LazyLock<crate::deadlines::DeadlinePolicy> =
        std::sync::LazyLock::new(Default::default);
    Situation {
        now: Utc.with_ymd_and_hms(2026, 11, 28, 1, 0, 0).unwrap(),
        policy: &POLICY,
        clocks: &[],
        active_units: &[LEAD, CO, OTHER],
        catalogue_owner: None,
        category_tier: None,
        units_below: &[OTHER],
        summonable: &[OTHER],
        level_sign_by: None,
        reply_findings: None,
    }
}

fn actor(role: Role, unit: Option<i64>) -> Actor {
    Actor {
        user_id: 1,
        role,
        unit_id: unit,
    }
}

fn ev(ticket_id: i64, seq: i64, actor: Actor, kind: EventKind) -> Event {
    Event {
        ticket_id,
        seq,
        at: Utc
            .with_ymd_and_hms(2026, 11, 28, 1, 0, seq as u32 % 60)
            .unwrap(),
        actor,
        kind,
    }
}

fn received() -> Ticket {
    let nt = NewTicket::parse(json!({
        "channel": "phone", "kind": "complaint", "content": "楼道灯坏了",
        "citizen": {"name": "张三", "phone": "13812345678"}
    }))
    .unwrap();
    let e = ev(
        7,
        1,
        actor(Role::Operator, None),
        nt.into_event("XN20261128000001".into(), "TRACK".into()),
    );
    apply(None, &e).unwrap()
}

/// The ticket as an action's sample finds it: the actions of a community on its patrol
/// reports need the ticket reported by LEAD's community.
fn for_action(t: &Ticket, action: Action) -> Ticket {
    let mut t = t.clone();
    if matches!(action, Action::ResolveOnSpot | Action::RecordMeeting) {
        t.reported_by_unit_id = Some(LEAD);
    }
    t
}

/// A ticket in the given state, with LEAD as lead unit and CO as co-unit where it has units.
fn in_state(state: TicketState) -> Ticket {
    let mut t = received();
    if state != TicketState::Received
        && state != TicketState::ResolvedDirectly
        && state != TicketState::NotAccepted
    {
        t.lead_unit_id = Some(LEAD);
        t.co_unit_ids = vec![CO];
        t.summons.push(Summons {
            unit_id: SUMMONED,
            by_unit_id: LEAD,
            reason: "请到场".into(),
            summoned_at: t.created_at,
            due_at: t.created_at,
            reported_at: None,
            report: None,
            overdue_at: None,
        });
    }
    if state == TicketState::ReturnRequested {
        t.return_from = Some(TicketState::InProgress);
    }
    t.state = state;
    t
}

fn sample_command(action: Action) -> Command {
    let body = match action {
        Action::ResolveDirectly => json!({"answer": "已告知办理流程"}),
        Action::Dispatch | Action::DecideConsultation => {
            json!({"lead_unit_id": LEAD, "co_unit_ids": [CO], "tier": 3})
        }
        Action::RequestReturn | Action::RejectReply => json!({"reason": "不属于本单位职责"}),
        Action::RequestExtension => json!({"days": 3, "reason": "需协调施工"}),
        Action::AddNote => json!({"note": "已现场查看"}),
        Action::Reply => json!({"content": "已修复"}),
        Action::RecordCallback => {
            json!({"contacted": true, "resolution": "resolved", "satisfaction": "satisfied"})
        }
        Action::Merge => json!({"parent_id": 99}),
        Action::NotAccept => json!({"reason": "属于诉讼事项", "redirect_to": "法院"}),
        Action::TransferOut => json!({"to": "110", "reason": "涉及治安案件，转公安110"}),
        Action::Supervise => json!({"note": "请加快办理"}),
        Action::AnswerSupervision => json!({"answer": "已安排专人办理"}),
        Action::Forward => json!({"unit_id": OTHER, "note": "请社区核实"}),
        Action::Summon => json!({"unit_id": OTHER, "reason": "请到场协调"}),
        Action::ReportIn => json!({"note": "已到场"}),
        Action::ResolveOnSpot => json!({"action_taken": "已联系物业疏通"}),
        Action::Recategorise => json!({"category_code": "010101", "reason": "市民所述为供水问题"}),
        Action::Relocate => json!({"division_code": "630102001001", "reason": "地址在北关社区"}),
        Action::ReviewRating => {
            json!({"reasonable": false, "reason": "已按政策答复，诉求超出政策范围"})
        }
        Action::RecordMeeting => {
            json!({"held_on": "2026-11-27", "participants": "居民代表、网格员、物业",
            "decision": "更换主管道", "who_pays": "社区、物业、居民共同承担"})
        }
        _ => json!({}),
    };
    Command::parse(action, body).unwrap_or_else(|e| panic!("{action:?}: {e}"))
}

/// A role and unit that the table allows for the action.
fn allowed_actor(action: Action) -> Actor {
    let role = action.rules().next().unwrap().roles[0];
    let unit = if action == Action::ReportIn {
        SUMMONED
    } else {
        LEAD
    };
    actor(role, role.bound_to_unit().then_some(unit))
}

fn expected_types(action: Action, t: &Ticket) -> Vec<&'static str> {
    match action {
        Action::RecordCallback => vec!["callback_recorded", "closed"],
        Action::ReviewRating => vec!["rating_reviewed", "closed"],
        _ => {
            let cmd = sample_command(action);
            let _ = t;
            vec![match cmd.action() {
                Action::ResolveDirectly => "resolved_directly",
                Action::Dispatch => "dispatched",
                Action::Sign => "signed",
                Action::RequestReturn => "return_requested",
                Action::ApproveReturn => "return_approved",
                Action::RejectReturn => "return_rejected",
                Action::OpenConsultation => "consultation_opened",
                Action::DecideConsultation => "consultation_decided",
                Action::RequestExtension => "extension_requested",
                Action::ApproveExtension => "extension_approved",
                Action::RejectExtension => "extension_rejected",
                Action::RecordContact => "contact_recorded",
                Action::AddNote => "note_added",
                Action::Reply => "replied",
                Action::ApproveReply => "reply_approved",
                Action::RejectReply => "reply_rejected",
                Action::Close => "closed",
                Action::Reopen => "reopened",
                Action::Merge => "merged",
                Action::NotAccept => "not_accepted",
                Action::TransferOut => "transferred_out",
                Action::RevealContact => "contact_revealed",
                Action::Supervise => "supervised",
                Action::AnswerSupervision => "supervision_answered",
                Action::Forward => "forwarded",
                Action::Summon => "summoned",
                Action::ReportIn => "reported_in",
                Action::ResolveOnSpot => "resolved_on_spot",
                Action::RecordMeeting => "meeting_recorded",
                Action::Recategorise => "recategorised",
                Action::Relocate => "relocated",
                Action::RecordCallback | Action::ReviewRating => unreachable!(),
            }]
        }
    }
}

#[test]
fn every_state_and_action_is_legal_exactly_as_the_table_says() {
    let mut legal = 0;
    let mut refused = 0;
    for &state in TicketState::ALL {
        for pending in [false, true] {
            let mut t = in_state(state);
            if pending {
                t.pending_extension = Some(PendingExtension {
                    days: 2,
                    reason: "r".into(),
                    requested_at: t.created_at,
                });
                t.supervision = Some(Supervision {
                    level: SupervisionLevel::L1,
                    raised_at: t.created_at,
                    automatic: true,
                    reason: "办理时限已超期".into(),
                    count: 1,
                    answered_at: None,
                    answer: None,
                });
            }
            for action in Action::ALL {
                let t = for_action(&t, action);
                let cmd = sample_command(action);
                let who = allowed_actor(action);
                if !t.visible_to(&who) {
                    // A unit handler cannot even see a ticket without units (404 in the API).
                    assert!(
                        !action.rule_for(who.role).unwrap().from.contains(&state)
                            || state == TicketState::Received
                            || state == TicketState::ResolvedDirectly
                            || state == TicketState::NotAccepted
                    );
                    refused += 1;
                    continue;
                }
                let mut should = action.rule_for(who.role).unwrap().from.contains(&state);
                match action {
                    // The lead unit signs a dispatched ticket once; in progress, only a
                    // level below signs.
                    Action::Sign => should &= state == TicketState::Dispatched,
                    Action::RequestExtension => should &= !pending,
                    Action::ApproveExtension | Action::RejectExtension => should &= pending,
                    Action::AnswerSupervision => should &= pending,
                    _ => {}
                }
                match decide(&t, &who, &cmd, &situation()) {
                    Ok(events) => {
                        assert!(
                            should,
                            "{action:?} in {state:?} (pending={pending}) should be refused"
                        );
                        let types: Vec<_> = events.iter().map(|e| e.type_name()).collect();
                        assert_eq!(types, expected_types(action, &t), "{action:?} in {state:?}");
                        // Applying the events gives a ticket whose version grew by their count.
                        let mut view = Some(t.clone());
                        for (i, e) in events.iter().enumerate() {
                            view = apply(view, &ev(t.id, t.version + 1 + i as i64, who, e.clone()));
                        }
                        assert_eq!(view.unwrap().version, t.version + events.len() as i64);
                        legal += 1;
                    }
                    Err(DomainError::IllegalTransition { state: s, .. }) => {
                        assert!(
                            !should,
                            "{action:?} in {state:?} (pending={pending}) should be legal"
                        );
                        assert_eq!(s, state);
                        refused += 1;
                    }
                    Err(e) => panic!("{action:?} in {state:?}: unexpected {e:?}"),
                }
            }
        }
    }
    assert_eq!(
        legal + refused,
        TicketState::ALL.len() * 2 * Action::ALL.len()
    );
    assert!(
        legal > 40 && refused > 300,
        "legal={legal} refused={refused}"
    );
}

#[test]
fn role_matrix_follows_the_table() {
    for action in Action::ALL {
        let rule = action.rules().next().unwrap();
        let state = *rule
            .from
            .iter()
            .find(|s| in_state(**s).lead_unit_id.is_some())
            .unwrap_or(&rule.from[0]);
        let mut t = for_action(&in_state(state), action);
        if matches!(action, Action::ApproveExtension | Action::RejectExtension) {
            t.pending_extension = Some(PendingExtension {
                days: 2,
                reason: "r".into(),
                requested_at: t.created_at,
            });
        }
        if action == Action::AnswerSupervision {
            t.supervision = Some(Supervision {
                level: SupervisionLevel::L2,
                raised_at: t.created_at,
                automatic: false,
                reason: "领导批示".into(),
                count: 1,
                answered_at: None,
                answer: None,
            });
        }
        let cmd = sample_command(action);
        for &role in Role::ALL {
            let own = if action == Action::ReportIn {
                SUMMONED
            } else {
                LEAD
            };
            let unit = role.bound_to_unit().then_some(own);
            let r = decide(&t, &actor(role, unit), &cmd, &situation());
            match action.rule_for(role) {
                None => assert!(
                    matches!(r, Err(DomainError::Forbidden { .. })),
                    "{role:?} may not {action:?}: {r:?}"
                ),
                // A second row for the role: another state, or the level above a reply
                // (a ticket with no chain has none).
                Some(other) if !std::ptr::eq(other, rule) => assert!(
                    matches!(
                        r,
                        Err(DomainError::IllegalTransition { .. }
                            | DomainError::NotYourTicket { .. })
                    ),
                    "{role:?} {action:?}: {r:?}"
                ),
                Some(_) => assert!(r.is_ok(), "{role:?} may {action:?}: {r:?}"),
            }
        }
        if rule.roles.contains(&Role::UnitHandler) {
            // A co-unit handler: allowed only where the scope takes in co-units.
            let r = decide(&t, &actor(Role::UnitHandler, Some(CO)), &cmd, &situation());
            match rule.unit_scope {
                UnitScope::LeadOrCo | UnitScope::Involved => {
                    assert!(r.is_ok(), "co-unit may {action:?}")
                }
                UnitScope::Lead
                | UnitScope::Holder
                | UnitScope::Reviewer
                | UnitScope::Summoned
                | UnitScope::Reporter => {
                    assert!(
                        matches!(r, Err(DomainError::NotYourTicket { .. })),
                        "co-unit may not {action:?}"
                    )
                }
            }
            let r = decide(
                &t,
                &actor(Role::UnitHandler, Some(OTHER)),
                &cmd,
                &situation(),
            );
            assert!(
                matches!(r, Err(DomainError::NotYourTicket { .. })),
                "other unit may not {action:?}"
            );
        }
    }
}

fn run(t: Ticket, who: Actor, cmd: Command) -> (Ticket, Vec<EventKind>) {
    let events = decide(&t, &who, &cmd, &situation()).unwrap();
    let mut view = Some(t.clone());
    for (i, e) in events.iter().enumerate() {
        view = apply(view, &ev(t.id, t.version + 1 + i as i64, who, e.clone()));
    }
    (view.unwrap(), events)
}

fn cmd(action: Action, body: serde_json::Value) -> Command {
    Command::parse(action, body).unwrap()
}

#[test]
fn happy_path_with_a_bad_callback_reopens_then_closes() {
    let disp = actor(Role::Dispatcher, None);
    let unit = actor(Role::UnitHandler, Some(LEAD));
    let cb = actor(Role::CallbackAgent, None);
    let t = received();
    let (t, _) = run(t, disp, sample_command(Action::Dispatch));
    assert_eq!(t.state, TicketState::Dispatched);
    assert_eq!(t.tier, Some(3));
    let (t, _) = run(t, unit, sample_command(Action::Sign));
    assert_eq!(t.state, TicketState::InProgress);
    let (t, _) = run(t, unit, sample_command(Action::RecordContact));
    assert!(t.first_contact_at.is_some());
    let (t, _) = run(t, unit, sample_command(Action::Reply));
    assert_eq!(t.state, TicketState::Replied);
    let (t, _) = run(
        t,
        disp,
        cmd(Action::RejectReply, json!({"reason": "答非所问"})),
    );
    assert_eq!(t.state, TicketState::InProgress);
    let (t, _) = run(t, unit, sample_command(Action::Reply));
    let (t, _) = run(t, disp, sample_command(Action::ApproveReply));
    assert_eq!(t.state, TicketState::AwaitingCallback);
    let (t, events) = run(
        t,
        cb,
        cmd(
            Action::RecordCallback,
            json!({"contacted": true, "resolution": "partly", "satisfaction": "dissatisfied"}),
        ),
    );
    assert_eq!(events.len(), 2);
    assert_eq!(
        t.state,
        TicketState::Dispatched,
        "a bad callback sends it back to the lead unit"
    );
    assert_eq!(t.reopen_count, 1);
    assert_eq!(t.reply, None);
    let (t, _) = run(t, unit, sample_command(Action::Sign));
    let (t, _) = run(t, unit, sample_command(Action::Reply));
    let (t, _) = run(t, disp, sample_command(Action::ApproveReply));
    let (t, _) = run(
        t,
        cb,
        cmd(
            Action::RecordCallback,
            json!({"contacted": true, "resolution": "resolved", "satisfaction": "basically"}),
        ),
    );
    assert_eq!(t.state, TicketState::Closed);
    assert!(t.closed_at.is_some());
}

#[test]
fn unresolved_but_satisfied_still_reopens() {
    let t = in_state(TicketState::AwaitingCallback);
    let (t, _) = run(
        t,
        actor(Role::CallbackAgent, None),
        cmd(
            Action::RecordCallback,
            json!({"contacted": false, "resolution": "unresolved", "satisfaction": "satisfied"}),
        ),
    );
    assert_eq!(t.state, TicketState::Dispatched);
}

#[test]
fn unreachable_three_times_closes() {
    let cb = actor(Role::CallbackAgent, None);
    let mut t = in_state(TicketState::AwaitingCallback);
    for attempt in 1..=MAX_CALLBACK_ATTEMPTS {
        let (next, events) = run(
            t,
            cb,
            cmd(Action::RecordCallback, json!({"unreachable": true})),
        );
        t = next;
        assert_eq!(t.callback_attempts, attempt);
        if attempt < MAX_CALLBACK_ATTEMPTS {
            assert_eq!(t.state, TicketState::AwaitingCallback);
            assert_eq!(events.len(), 1);
        } else {
            assert_eq!(t.state, TicketState::Closed);
            assert!(matches!(
                events[1],
                EventKind::Closed {
                    outcome: CloseOutcome::Unreachable,
                    ..
                }
            ));
        }
    }
}

#[test]
fn return_approved_goes_back_to_intake_rejected_restores_state() {
    let unit = actor(Role::UnitHandler, Some(LEAD));
    let disp = actor(Role::Dispatcher, None);
    let t = in_state(TicketState::Dispatched);
    let (t, _) = run(t, unit, sample_command(Action::RequestReturn));
    assert_eq!(t.state, TicketState::ReturnRequested);
    let (rejected, _) = run(t.clone(), disp, sample_command(Action::RejectReturn));
    assert_eq!(rejected.state, TicketState::Dispatched);
    let (approved, _) = run(t, disp, sample_command(Action::ApproveReturn));
    assert_eq!(approved.state, TicketState::Received);
    assert_eq!(approved.lead_unit_id, None);
    assert!(approved.co_unit_ids.is_empty());
    assert_eq!(approved.return_count, 1);
    assert!(
        !approved.visible_to(&unit),
        "the returning unit no longer sees it"
    );
}

#[test]
fn consultation_decides_new_owners() {
    let disp = actor(Role::Dispatcher, None);
    let t = in_state(TicketState::InProgress);
    let (t, _) = run(t, disp, sample_command(Action::OpenConsultation));
    assert_eq!(t.state, TicketState::InConsultation);
    let (t, _) = run(
        t,
        disp,
        cmd(
            Action::DecideConsultation,
            json!({"lead_unit_id": OTHER, "co_unit_ids": [LEAD], "note": "会商定由其他单位主办"}),
        ),
    );
    assert_eq!(t.state, TicketState::Dispatched);
    assert_eq!(t.lead_unit_id, Some(OTHER));
    assert_eq!(t.co_unit_ids, vec![LEAD]);
}

#[test]
fn extension_is_a_flag_not_a_state() {
    let unit = actor(Role::UnitHandler, Some(LEAD));
    let disp = actor(Role::Dispatcher, None);
    let t = in_state(TicketState::InProgress);
    let (t, _) = run(t, unit, sample_command(Action::RequestExtension));
    assert_eq!(t.state, TicketState::InProgress);
    assert_eq!(t.pending_extension.as_ref().map(|p| p.days), Some(3));
    assert!(matches!(
        decide(
            &t,
            &unit,
            &sample_command(Action::RequestExtension),
            &situation()
        ),
        Err(DomainError::IllegalTransition { .. })
    ));
    let (t, _) = run(t, disp, sample_command(Action::ApproveExtension));
    assert_eq!(t.pending_extension, None);
    assert_eq!(t.extension_days_granted, 3);
    assert_eq!(t.extensions_approved, 1);
    // Reopened, the ticket starts a new cycle: its handling time is the tier again (the
    // header said tier + 3 while the clocks said the tier), the extension still counted.
    let mut done = t;
    done.state = TicketState::Closed;
    let (again, _) = run(
        done,
        actor(Role::Dispatcher, None),
        Command::Reopen { reason: None },
    );
    assert_eq!(again.extension_days_granted, 0);
    assert_eq!(again.extensions_approved, 1);
}

#[test]
fn merge_marks_the_child_and_refuses_itself_and_closed_parents() {
    let op = actor(Role::Operator, None);
    let t = received();
    assert!(matches!(
        decide(
            &t,
            &op,
            &cmd(Action::Merge, json!({"parent_id": t.id})),
            &situation()
        ),
        Err(DomainError::Invalid { .. })
    ));
    let (child, _) = run(t.clone(), op, cmd(Action::Merge, json!({"parent_id": 99})));
    assert_eq!(child.state, TicketState::Merged);
    assert_eq!(child.parent_id, Some(99));
    let mut parent = in_state(TicketState::Closed);
    parent.id = 99;
    assert!(check_merge_parent(&t, &parent).is_err());
    parent.state = TicketState::InProgress;
    assert!(check_merge_parent(&t, &parent).is_ok());
}

#[test]
fn confidential_requests_are_never_revealed_to_units() {
    let mut t = in_state(TicketState::InProgress);
    t.confidential = true;
    let unit = actor(Role::UnitHandler, Some(LEAD));
    assert!(matches!(
        decide(&t, &unit, &Command::RevealContact, &situation()),
        Err(DomainError::NotYourTicket { .. })
    ));
    assert_eq!(t.masked_for(&unit).citizen.phone, None);
    // The hotline still sees who called.
    let op = actor(Role::Operator, None);
    assert_eq!(
        t.masked_for(&op).citizen.phone.as_deref(),
        Some("13812345678")
    );
}

#[test]
fn unit_handlers_see_only_their_units_tickets() {
    let t = in_state(TicketState::InProgress);
    assert!(t.visible_to(&actor(Role::UnitHandler, Some(LEAD))));
    assert!(t.visible_to(&actor(Role::UnitHandler, Some(CO))));
    assert!(!t.visible_to(&actor(Role::UnitHandler, Some(OTHER))));
    assert!(!t.visible_to(&actor(Role::UnitHandler, None)));
    assert!(t.visible_to(&actor(Role::Analyst, None)));
    let masked = t.masked_for(&actor(Role::UnitHandler, Some(LEAD)));
    assert_eq!(masked.citizen.phone.as_deref(), Some("138****5678"));
    assert_eq!(masked.citizen.name.as_deref(), Some("张*"));
}

#[test]
fn reopen_of_a_direct_resolution_returns_to_intake() {
    let t = received();
    let (t, _) = run(
        t,
        actor(Role::Operator, None),
        sample_command(Action::ResolveDirectly),
    );
    assert_eq!(t.state, TicketState::ResolvedDirectly);
    let (t, _) = run(
        t,
        actor(Role::Supervisor, None),
        cmd(Action::Reopen, json!({"reason": "市民再次来电"})),
    );
    assert_eq!(t.state, TicketState::Received);
    assert_eq!(t.answer, None);
}

#[test]
fn command_bodies_name_the_bad_field() {
    let field = |a: Action, b: serde_json::Value| match Command::parse(a, b) {
        Err(DomainError::Invalid { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        field(Action::Dispatch, json!({"lead_unit_id": "x"})),
        "lead_unit_id"
    );
    assert_eq!(field(Action::Dispatch, json!({})), "lead_unit_id");
    assert_eq!(
        field(Action::Dispatch, json!({"lead_unit_id": 1, "tier": 5})),
        "tier"
    );
    assert_eq!(
        field(
            Action::Dispatch,
            json!({"lead_unit_id": 1, "co_unit_ids": [1]})
        ),
        "co_unit_ids"
    );
    assert_eq!(
        field(
            Action::Dispatch,
            json!({"lead_unit_id": 1, "co_unit_ids": [2, 2]})
        ),
        "co_unit_ids"
    );
    assert_eq!(
        field(Action::RequestExtension, json!({"days": 0, "reason": "r"})),
        "days"
    );
    assert_eq!(
        field(Action::RequestExtension, json!({"days": 2})),
        "reason"
    );
    assert_eq!(
        field(Action::RequestReturn, json!({"reason": " "})),
        "reason"
    );
    assert_eq!(
        field(
            Action::Reply,
            json!({"content": "x".repeat(MAX_TEXT_CHARS + 1)})
        ),
        "content"
    );
    assert_eq!(
        field(
            Action::RecordCallback,
            json!({"contacted": true, "resolution": "resolved"})
        ),
        "satisfaction"
    );
    assert_eq!(
        field(
            Action::RecordCallback,
            json!({"unreachable": true, "contacted": true})
        ),
        "unreachable"
    );
    assert_eq!(
        field(
            Action::RecordCallback,
            json!({"contacted": true, "resolution": "meh", "satisfaction": "satisfied"})
        ),
        "resolution"
    );
    assert_eq!(field(Action::Sign, json!({"nope": 1})), "nope");
    assert_eq!(field(Action::RevealContact, json!({"why": 1})), "why");
    assert_eq!(
        field(Action::Merge, json!({"parent_id": -1.5})),
        "parent_id"
    );
    assert!(Command::parse(Action::Sign, serde_json::Value::Null).is_ok());
}

#[test]
fn action_names_round_trip() {
    for a in Action::ALL {
        assert_eq!(Action::parse(a.as_str()), Some(a));
        assert_eq!(serde_json::to_value(a).unwrap(), json!(a.as_str()));
        // At least one row; a role in at most one row of an action.
        assert!(a.rules().next().is_some(), "{a:?}");
        for role in Role::ALL {
            assert!(a.rules().filter(|r| r.roles.contains(role)).count() <= 1);
        }
    }
    assert_eq!(Action::parse("explode"), None);
}

#[test]
fn events_serialize_with_a_type_tag_and_round_trip() {
    let e = ev(
        1,
        2,
        actor(Role::Dispatcher, None),
        EventKind::Dispatched {
            lead_unit_id: 3,
            co_unit_ids: vec![4],
            tier: Some(7),
            note: None,
        },
    );
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(v["type"], "dispatched");
    assert_eq!(v["lead_unit_id"], 3);
    let back: Event = serde_json::from_value(v).unwrap();
    assert_eq!(back, e);
}

/// A dispatch's tier is decided with the dispatch: the catalogue entry's when the ticket goes
/// to the unit that entry names, the category's otherwise; another tier needs a reason.
#[test]
fn the_tier_of_a_dispatch_is_decided_with_it() {
    let t = received();
    let disp = actor(Role::Dispatcher, None);
    let s = Situation {
        catalogue_owner: Some((LEAD, Some(7))),
        category_tier: Some(3),
        ..situation()
    };
    let dispatch = |lead: i64, tier: Option<u8>, note: Option<&str>| Command::Dispatch {
        lead_unit_id: lead,
        co_unit_ids: Vec::new(),
        tier,
        note: note.map(str::to_string),
    };
    let tier_of = |events: Vec<EventKind>| match &events[0] {
        EventKind::Dispatched { tier, .. } => *tier,
        other => panic!("{other:?}"),
    };
    // To the catalogue's owner: the entry's 7 days, given or not, without a reason.
    assert_eq!(
        tier_of(decide(&t, &disp, &dispatch(LEAD, None, None), &s).unwrap()),
        Some(7)
    );
    assert_eq!(
        tier_of(decide(&t, &disp, &dispatch(LEAD, Some(7), None), &s).unwrap()),
        Some(7)
    );
    // Elsewhere: the category's 3 days; the entry's 7 then needs a reason.
    assert_eq!(
        tier_of(decide(&t, &disp, &dispatch(CO, None, None), &s).unwrap()),
        Some(3)
    );
    assert!(matches!(
        decide(&t, &disp, &dispatch(CO, Some(7), None), &s),
        Err(DomainError::Invalid { field, .. }) if field == "note"
    ));
    assert_eq!(
        tier_of(decide(&t, &disp, &dispatch(CO, Some(7), Some("涉及多部门")), &s).unwrap()),
        Some(7)
    );
    // Neither catalogue nor category: 3 days.
    assert_eq!(
        tier_of(decide(&t, &disp, &dispatch(LEAD, None, None), &situation()).unwrap()),
        Some(3)
    );
    // A unit that is not active is named as such.
    let gone = Situation {
        active_units: &[CO],
        ..situation()
    };
    assert!(matches!(
        decide(&t, &disp, &dispatch(LEAD, None, None), &gone),
        Err(DomainError::Invalid { field, .. }) if field == "lead_unit_id"
    ));
}

/// Extension requests close at 17:00 Beijing time (the policy's cut-off), decided with the
/// request.
#[test]
fn extensions_close_at_the_daily_cut_off() {
    let t = in_state(TicketState::InProgress);
    let unit = actor(Role::UnitHandler, Some(LEAD));
    let request = sample_command(Action::RequestExtension);
    // 16:59 and 17:01 in Beijing.
    let before = Situation {
        now: Utc.with_ymd_and_hms(2026, 11, 27, 8, 59, 0).unwrap(),
        ..situation()
    };
    let after = Situation {
        now: Utc.with_ymd_and_hms(2026, 11, 27, 9, 1, 0).unwrap(),
        ..situation()
    };
    assert!(decide(&t, &unit, &request, &before).is_ok());
    assert!(matches!(
        decide(&t, &unit, &request, &after),
        Err(DomainError::Refused {
            code: "extension_refused",
            ..
        })
    ));
}

/// A grid worker of LEAD's community reported the matter on patrol (网格上报).
fn patrol_report() -> Ticket {
    let report = crate::PatrolReport::parse(
        json!({"kind": "help", "content": "化粪池满溢，下水从2楼返水", "address": "贾小小区42号楼6单元"}),
        LEAD,
    )
    .unwrap();
    assert_eq!(report.request.channel, Channel::GRID);
    let e = ev(
        8,
        1,
        actor(Role::GridWorker, Some(LEAD)),
        report
            .request
            .into_event("XN20261128000002".into(), "TRACK2".into()),
    );
    apply(None, &e).unwrap()
}

#[test]
fn a_patrol_report_names_its_place_and_comes_from_the_grid() {
    let t = patrol_report();
    assert_eq!(t.reported_by_unit_id, Some(LEAD));
    assert_eq!(t.units(), vec![LEAD]);
    assert!(t.visible_to(&actor(Role::GridWorker, Some(LEAD))));
    assert!(!t.visible_to(&actor(Role::GridWorker, Some(OTHER))));
    let field = |body| match crate::PatrolReport::parse(body, LEAD) {
        Err(DomainError::Invalid { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        field(json!({"kind": "help", "content": "路灯不亮", "address": "  "})),
        "address"
    );
    assert_eq!(
        field(json!({"kind": "help", "content": "路灯不亮"})),
        "address"
    );
    assert_eq!(
        field(json!({"kind": "help", "content": "路灯不亮", "address": "x", "channel": "phone"})),
        "channel"
    );
    let on_spot = crate::PatrolReport::parse(
        json!({"kind": "help", "content": "楼道堆物", "address": "3号楼", "resolved_on_spot": " 已清理 "}),
        LEAD,
    )
    .unwrap();
    assert_eq!(on_spot.resolved_on_spot.as_deref(), Some("已清理"));
}

#[test]
fn the_reporting_community_resolves_on_the_spot_and_no_other() {
    let t = patrol_report();
    let cmd = Command::parse(
        Action::ResolveOnSpot,
        json!({"action_taken": "已联系物业疏通"}),
    )
    .unwrap();
    for (who, ok) in [
        (actor(Role::GridWorker, Some(LEAD)), true),
        (actor(Role::UnitHandler, Some(LEAD)), true),
        (actor(Role::GridWorker, Some(OTHER)), false),
        (actor(Role::Operator, None), false),
        (actor(Role::Dispatcher, None), false),
    ] {
        assert_eq!(decide(&t, &who, &cmd, &situation()).is_ok(), ok, "{who:?}");
    }
    let (done, events) = run(t.clone(), actor(Role::GridWorker, Some(LEAD)), cmd.clone());
    assert_eq!(events[0].type_name(), "resolved_on_spot");
    assert_eq!(done.state, TicketState::ResolvedDirectly);
    assert_eq!(done.resolved_on_spot_by, Some(LEAD));
    assert_eq!(done.answer.as_deref(), Some("已联系物业疏通"));
    assert!(done.closed_at.is_some());
    // Reopened, it is a request again, no longer resolved on the spot.
    let (again, _) = run(
        done,
        actor(Role::Dispatcher, None),
        Command::Reopen { reason: None },
    );
    assert_eq!(again.state, TicketState::Received);
    assert_eq!(again.resolved_on_spot_by, None);
    // Once the hotline dispatched it, the community no longer resolves it on its own.
    let (dispatched, _) = run(
        t,
        actor(Role::Dispatcher, None),
        Command::Dispatch {
            lead_unit_id: OTHER,
            co_unit_ids: vec![],
            tier: Some(3),
            note: None,
        },
    );
    assert!(matches!(
        decide(
            &dispatched,
            &actor(Role::GridWorker, Some(LEAD)),
            &cmd,
            &situation()
        ),
        Err(DomainError::IllegalTransition { .. })
    ));
    // ... but still reads it and may note what it sees.
    assert!(dispatched.visible_to(&actor(Role::GridWorker, Some(LEAD))));
}

#[test]
fn a_residents_meeting_is_recorded_once_held() {
    let t = patrol_report();
    let grid = actor(Role::GridWorker, Some(LEAD));
    let meeting = |day: &str| {
        Command::parse(
            Action::RecordMeeting,
            json!({"held_on": day, "participants": "楼院党支部、网格员、居民代表",
                   "decision": "整体更换地下室水网", "who_pays": "社区、物业、居民共同承担"}),
        )
        .unwrap()
    };
    // The situation's today is 2026-11-28 in Beijing.
    match decide(&t, &grid, &meeting("2026-11-29"), &situation()) {
        Err(DomainError::Invalid { field, .. }) => assert_eq!(field, "held_on"),
        other => panic!("{other:?}"),
    }
    let (t, _) = run(t, grid, meeting("2026-11-28"));
    assert_eq!(t.meetings.len(), 1);
    let m = &t.meetings[0];
    assert_eq!(m.unit_id, LEAD);
    assert_eq!(m.held_on.to_string(), "2026-11-28");
    assert_eq!(m.who_pays, "社区、物业、居民共同承担");
    assert!(matches!(
        Command::parse(
            Action::RecordMeeting,
            json!({"held_on": "2026-11-28", "participants": " ", "decision": "x", "who_pays": "y"})
        ),
        Err(DomainError::Invalid { ref field, .. }) if field == "participants"
    ));
}

/// The facts a change adds, event by event, and the ticket after it.
fn commit(t: &Ticket, kinds: &[EventKind], by: Actor) -> (Ticket, crate::kpi::Tally) {
    let mut view = t.clone();
    let mut sum = crate::kpi::Tally::default();
    for (i, k) in kinds.iter().enumerate() {
        let e = ev(t.id, t.version + 1 + i as i64, by, k.clone());
        let after = apply(Some(view.clone()), &e).unwrap();
        for f in crate::aggregates::facts(Some(&view), &e, &after) {
            assert_eq!(f.sign, 1);
            sum += f.tally;
        }
        view = after;
    }
    (view, sum)
}

#[test]
fn a_citizens_rating_closes_a_good_answer_and_sends_a_bad_one_to_review() {
    use crate::public::{CitizenRating, rate};
    let citizen = actor(Role::Operator, None);
    let t = in_state(TicketState::AwaitingCallback);

    // "1" by SMS: satisfied, nothing else said; the request closes, and counts as a
    // citizen's callback that asked neither contact nor resolution.
    let good = CitizenRating::from_sms(" 1 ").unwrap();
    let (after, tally) = commit(&t, &rate(&t, good).unwrap(), citizen);
    assert_eq!(after.state, TicketState::Closed);
    assert_eq!(
        (
            tally.callbacks,
            tally.citizen_callbacks,
            tally.satisfied,
            tally.citizen_satisfied,
            tally.contact_unasked,
            tally.resolution_unasked,
            tally.finished
        ),
        (1, 1, 1, 1, 1, 1, 1)
    );
    // Rated once: a second rating is refused, and so is a rating before the answer.
    let again = rate(&after, CitizenRating::from_sms("2").unwrap()).unwrap_err();
    assert_eq!(again.to_string(), "this request has been rated already");
    let early = rate(
        &in_state(TicketState::InProgress),
        CitizenRating::from_sms("1").unwrap(),
    )
    .unwrap_err();
    assert_eq!(
        early.to_string(),
        "only a request whose answer has been given may be rated"
    );
    for text in ["4", "满意", "12", ""] {
        assert!(CitizenRating::from_sms(text).is_none(), "{text}");
    }

    // "3": dissatisfied. Not reopened blindly: 差评待审, and not counted yet.
    let bad = CitizenRating::from_sms("３").unwrap();
    let (review, tally) = commit(&t, &rate(&t, bad).unwrap(), citizen);
    assert_eq!(review.state, TicketState::RatingReview);
    assert_eq!(tally, crate::kpi::Tally::default());
    assert_eq!(review.bad_callbacks, 0);
    let dispatcher = actor(Role::Dispatcher, None);
    assert_eq!(
        available_actions(&review, &dispatcher),
        [
            Action::AddNote,
            Action::Recategorise,
            Action::Relocate,
            Action::ReviewRating
        ]
    );
    // An agent no longer calls back a request its citizen rated.
    assert!(
        authorize(
            &review,
            &actor(Role::CallbackAgent, None),
            Action::RecordCallback
        )
        .is_err()
    );

    // Reasonable: back to the lead unit (重办), counted as the bad callback it is.
    let yes = Command::parse(Action::ReviewRating, json!({"reasonable": true})).unwrap();
    let kinds = decide(&review, &dispatcher, &yes, &situation()).unwrap();
    let (redo, tally) = commit(&review, &kinds, dispatcher);
    assert_eq!(redo.state, TicketState::Dispatched);
    assert_eq!(redo.bad_callbacks, 1);
    assert_eq!(
        (
            tally.callbacks,
            tally.citizen_callbacks,
            tally.satisfied,
            tally.excluded_ratings
        ),
        (1, 1, 0, 0)
    );

    // Unreasonable: the reason is required; closed, counted apart, not as a callback.
    let no_reason = Command::parse(Action::ReviewRating, json!({"reasonable": false}));
    assert_eq!(
        no_reason.unwrap_err().to_string(),
        "reason: is required when the rating is judged unreasonable"
    );
    let no = Command::parse(
        Action::ReviewRating,
        json!({"reasonable": false, "reason": "诉求超出政策范围，已依法答复"}),
    )
    .unwrap();
    let kinds = decide(&review, &dispatcher, &no, &situation()).unwrap();
    let (closed, tally) = commit(&review, &kinds, dispatcher);
    assert_eq!(closed.state, TicketState::Closed);
    assert_eq!(
        (
            tally.callbacks,
            tally.citizen_callbacks,
            tally.excluded_ratings
        ),
        (0, 0, 1)
    );
}
