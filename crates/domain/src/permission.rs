//! Who may do what: the one permission table of Mashangban.
//!
//! Two tables together say everything a role may do. The lifecycle's transition table
//! ([`crate::lifecycle::TRANSITIONS`]) says who may take each action on a ticket, in which
//! states and for which unit. [`PERMISSIONS`] below says everything else: who may receive
//! requests, read which figures, handle warnings, administer users and reference data. The
//! application checks every use case against one of them (its `require` and `decide`); the
//! console asks the same tables what to show (`mashangban_app::may`, `may_take`). The reviewed, hand-written copy of both, against which the
//! HTTP behaviour is tested, is `docs/permissions.md`.
//!
//! A few permissions have a reach rather than a yes/no: which tickets a role may read
//! ([`ticket_reach`]) and whose knowledge articles it may edit ([`may_edit_article`]).

use crate::error::DomainError;
use crate::ticket::Actor;
use crate::types::Role;

use Role::{
    Admin, Analyst, CallbackAgent, Dispatcher, GridWorker, Operator, Supervisor, UnitHandler,
};

/// Something a user may be allowed to do or read, besides the lifecycle actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    /// Receive a citizen's request (受理): create tickets, the intake desk.
    ReceiveRequests,
    /// Report what a community's grid worker finds on patrol (网格上报): a ticket from the
    /// `grid` channel, which the community may resolve on the spot (就地办结).
    ReportOnPatrol,
    /// See citizens' names and phone numbers unmasked, and find tickets by a phone number.
    /// (Confidential requests are hidden from everyone else entirely.)
    SeeContacts,
    /// Suggest a category, place and unit for a request's text (while taking or dispatching
    /// it).
    SuggestRouting,
    /// The callback desk (回访台).
    CallBackDesk,
    /// The city's figures: evaluation and rankings of every unit, daily and monthly reports,
    /// the supervision board, dashboards, hot issues, the forecast, classifier feedback and
    /// the dispatch catalogue's history. Units are not ranked against each other here.
    ReadFigures,
    /// Read early warnings and their policy.
    ReadWarnings,
    /// Handle early warnings and run a scan.
    HandleWarnings,
    /// Create and change users, issue and revoke their tokens.
    ManageUsers,
    /// Reference data: units and their liaisons, categories, divisions' populations, the
    /// official calendar, the dispatch catalogue, the gazetteer.
    ManageReference,
    /// Policies: deadlines, evaluation, early warnings.
    ManagePolicies,
    /// Webhook subscriptions and the outbox of deliveries.
    ManageNotifications,
    /// Maintenance: rebuild the aggregates, train the classifier.
    Maintain,
    /// Write knowledge articles: administrators any, a unit's handlers their own unit's
    /// (see [`may_edit_article`]).
    WriteKnowledge,
    /// Add photos and files to a ticket the user may see (the citizen's own come with the
    /// request from the portal).
    AttachFiles,
    /// Typical cases (典型案例): mark a closed ticket, revise its draft, submit it for
    /// approval, take a published case down. The hotline's supervisors, who also do its
    /// publicity.
    EditCases,
    /// Approve a typical case for the portal (publishing it) or return it; take one down.
    /// The leader's (analyst's) one decision: what the hotline publishes under its name.
    ApproveCases,
    /// Make a month's open-data release again on demand (the scheduled one needs nobody).
    /// What the hotline publishes under its name: leaders and administrators.
    PublishData,
    /// Erase a citizen's personal data from all their requests at once, at their request,
    /// with the reason (administrators).
    EraseCitizenData,
    /// Propose a monthly topic (每月一题) from the hot issues and the evaluation: analysts
    /// and supervisors.
    ProposeTopics,
    /// Adopt a proposed topic (lead unit, co-units, tasks, policies), decline it, close it,
    /// record its policies issued: the leader's (analyst's) decision.
    AdoptTopics,
    /// Press a topic's overdue or lagging task (催办, 书面督办, 挂牌督办): supervisors.
    SuperviseTopics,
    /// Report on a topic's task given to one's own unit, record its policy issued: a
    /// unit's handlers (see [`may_work_on_topic`]).
    WorkTopicTasks,
}

/// One row of the permission table: a permission and the roles that have it.
#[derive(Debug)]
pub struct Grant {
    pub permission: Permission,
    pub roles: &'static [Role],
}

/// Who has each permission. Every permission has exactly one row; reading tickets,
/// reference data (units, divisions, categories, the calendar, the policies in force, the
/// dispatch catalogue, the knowledge base) and one's own notices is open to every signed-in
/// user and needs no row.
///
/// The analyst (领导) reads everything and changes no ticket: they have the read
/// permissions, no lifecycle action, no handling of warnings — and the leader's decisions
/// on what the hotline publishes (approving typical cases, releasing open data again) and
/// takes on (proposing and adopting monthly topics).
pub static PERMISSIONS: &[Grant] = &[
    Grant {
        permission: Permission::ReceiveRequests,
        roles: &[Operator, Dispatcher],
    },
    Grant {
        permission: Permission::ReportOnPatrol,
        roles: &[GridWorker],
    },
    Grant {
        permission: Permission::SeeContacts,
        roles: &[Operator, Dispatcher, CallbackAgent, Supervisor, Admin],
    },
    Grant {
        permission: Permission::SuggestRouting,
        roles: &[Operator, Dispatcher, Supervisor, Admin],
    },
    Grant {
        permission: Permission::CallBackDesk,
        roles: &[CallbackAgent, Supervisor, Admin],
    },
    Grant {
        permission: Permission::ReadFigures,
        roles: &[Dispatcher, Supervisor, Analyst, Admin],
    },
    Grant {
        permission: Permission::ReadWarnings,
        roles: &[Dispatcher, Supervisor, Analyst, Admin],
    },
    Grant {
        permission: Permission::HandleWarnings,
        roles: &[Supervisor, Admin],
    },
    Grant {
        permission: Permission::ManageUsers,
        roles: &[Admin],
    },
    Grant {
        permission: Permission::ManageReference,
        roles: &[Admin],
    },
    Grant {
        permission: Permission::ManagePolicies,
        roles: &[Admin],
    },
    Grant {
        permission: Permission::ManageNotifications,
        roles: &[Admin],
    },
    Grant {
        permission: Permission::Maintain,
        roles: &[Admin],
    },
    Grant {
        permission: Permission::WriteKnowledge,
        roles: &[UnitHandler, Admin],
    },
    Grant {
        permission: Permission::AttachFiles,
        roles: &[
            Operator,
            Dispatcher,
            UnitHandler,
            GridWorker,
            CallbackAgent,
            Supervisor,
        ],
    },
    Grant {
        permission: Permission::EditCases,
        roles: &[Supervisor],
    },
    Grant {
        permission: Permission::ApproveCases,
        roles: &[Analyst],
    },
    Grant {
        permission: Permission::PublishData,
        roles: &[Analyst, Admin],
    },
    Grant {
        permission: Permission::EraseCitizenData,
        roles: &[Admin],
    },
    Grant {
        permission: Permission::ProposeTopics,
        roles: &[Supervisor, Analyst],
    },
    Grant {
        permission: Permission::AdoptTopics,
        roles: &[Analyst],
    },
    Grant {
        permission: Permission::SuperviseTopics,
        roles: &[Supervisor],
    },
    Grant {
        permission: Permission::WorkTopicTasks,
        roles: &[UnitHandler],
    },
];

impl Permission {
    pub const ALL: [Permission; 23] = [
        Permission::ReceiveRequests,
        Permission::ReportOnPatrol,
        Permission::SeeContacts,
        Permission::SuggestRouting,
        Permission::CallBackDesk,
        Permission::ReadFigures,
        Permission::ReadWarnings,
        Permission::HandleWarnings,
        Permission::ManageUsers,
        Permission::ManageReference,
        Permission::ManagePolicies,
        Permission::ManageNotifications,
        Permission::Maintain,
        Permission::WriteKnowledge,
        Permission::AttachFiles,
        Permission::EditCases,
        Permission::ApproveCases,
        Permission::PublishData,
        Permission::EraseCitizenData,
        Permission::ProposeTopics,
        Permission::AdoptTopics,
        Permission::SuperviseTopics,
        Permission::WorkTopicTasks,
    ];

    /// The name used in messages and in `docs/permissions.md`.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ReceiveRequests => "receive_requests",
            Permission::ReportOnPatrol => "report_on_patrol",
            Permission::SeeContacts => "see_contacts",
            Permission::SuggestRouting => "suggest_routing",
            Permission::CallBackDesk => "callback_desk",
            Permission::ReadFigures => "read_figures",
            Permission::ReadWarnings => "read_warnings",
            Permission::HandleWarnings => "handle_warnings",
            Permission::ManageUsers => "manage_users",
            Permission::ManageReference => "manage_reference",
            Permission::ManagePolicies => "manage_policies",
            Permission::ManageNotifications => "manage_notifications",
            Permission::Maintain => "maintain",
            Permission::WriteKnowledge => "write_knowledge",
            Permission::AttachFiles => "attach_files",
            Permission::EditCases => "edit_cases",
            Permission::ApproveCases => "approve_cases",
            Permission::PublishData => "publish_data",
            Permission::EraseCitizenData => "erase_citizen_data",
            Permission::ProposeTopics => "propose_topics",
            Permission::AdoptTopics => "adopt_topics",
            Permission::SuperviseTopics => "supervise_topics",
            Permission::WorkTopicTasks => "work_topic_tasks",
        }
    }

    /// The roles that have this permission.
    pub fn roles(self) -> &'static [Role] {
        PERMISSIONS
            .iter()
            .find(|g| g.permission == self)
            .map(|g| g.roles)
            .unwrap_or(&[])
    }
}

/// Whether a role has a permission.
pub fn permits(role: Role, permission: Permission) -> bool {
    permission.roles().contains(&role)
}

/// The actor's permission, or the refusal that names it.
pub fn require(actor: &Actor, permission: Permission) -> Result<(), DomainError> {
    if permits(actor.role, permission) {
        Ok(())
    } else {
        Err(DomainError::Forbidden {
            role: actor.role,
            action: permission.as_str().replace('_', " "),
        })
    }
}

/// Which tickets an actor may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketReach {
    /// Every ticket (the hotline's roles, leaders, administrators).
    All,
    /// The tickets this unit is involved in (a unit's handlers and grid workers): see
    /// [`crate::Ticket::units`].
    Unit(i64),
    /// None (a unit's user bound to no unit: refused at creation, kept safe here).
    Nothing,
}

/// Which tickets an actor may read: the users of a unit (handlers, grid workers) the
/// tickets their unit is involved in, everyone else every ticket.
pub fn ticket_reach(actor: &Actor) -> TicketReach {
    match (actor.role.bound_to_unit(), actor.unit_id) {
        (true, Some(u)) => TicketReach::Unit(u),
        (true, None) => TicketReach::Nothing,
        (false, _) => TicketReach::All,
    }
}

/// Who may change a knowledge article: administrators any, a unit's handlers those their
/// unit owns.
pub fn may_edit_article(actor: &Actor, owner_unit_id: Option<i64>) -> bool {
    if !permits(actor.role, Permission::WriteKnowledge) {
        return false;
    }
    match actor.role {
        UnitHandler => owner_unit_id.is_some() && owner_unit_id == actor.unit_id,
        _ => true,
    }
}

/// Whether a role may open the monthly topics at all: whoever reads the city's figures or
/// proposes topics (every topic), and a unit's handlers (their unit's: [`may_read_topic`]).
pub fn may_read_some_topic(role: Role) -> bool {
    permits(role, Permission::ReadFigures)
        || permits(role, Permission::ProposeTopics)
        || permits(role, Permission::WorkTopicTasks)
}

/// Who may read a monthly topic: whoever reads the city's figures, and the handlers of a
/// unit with a part in it (`units`: the lead, co-units, the tasks' and policies' units).
pub fn may_read_topic(actor: &Actor, units: &[i64]) -> bool {
    permits(actor.role, Permission::ReadFigures)
        || permits(actor.role, Permission::ProposeTopics)
        || (permits(actor.role, Permission::WorkTopicTasks)
            && actor.unit_id.is_some_and(|u| units.contains(&u)))
}

/// Who may report on a topic's task or record its policy issued: a handler of the unit it
/// is given to (a leader may also record a policy issued, see [`Permission::AdoptTopics`]).
pub fn may_work_on_topic(actor: &Actor, unit_id: i64) -> bool {
    permits(actor.role, Permission::WorkTopicTasks) && actor.unit_id == Some(unit_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, unit_id: Option<i64>) -> Actor {
        Actor {
            user_id: 1,
            role,
            unit_id,
        }
    }

    #[test]
    fn topics_are_read_by_the_city_and_the_units_with_a_part() {
        let units = [3, 4];
        assert!(may_read_topic(&actor(Analyst, None), &units));
        assert!(may_read_topic(&actor(Supervisor, None), &units));
        assert!(may_read_topic(&actor(Dispatcher, None), &units));
        assert!(may_read_topic(&actor(UnitHandler, Some(4)), &units));
        assert!(!may_read_topic(&actor(UnitHandler, Some(5)), &units));
        assert!(!may_read_topic(&actor(Operator, None), &units));
        assert!(!may_read_topic(&actor(GridWorker, Some(3)), &units));
        // Who may open the topics at all, role by role.
        let open: Vec<Role> = [
            Operator,
            Dispatcher,
            UnitHandler,
            GridWorker,
            CallbackAgent,
            Supervisor,
            Analyst,
            Admin,
        ]
        .into_iter()
        .filter(|r| may_read_some_topic(*r))
        .collect();
        assert_eq!(
            open,
            vec![Dispatcher, UnitHandler, Supervisor, Analyst, Admin]
        );
        assert!(may_work_on_topic(&actor(UnitHandler, Some(4)), 4));
        assert!(!may_work_on_topic(&actor(UnitHandler, Some(3)), 4));
        assert!(!may_work_on_topic(&actor(Supervisor, None), 4));
    }

    #[test]
    fn every_permission_has_exactly_one_row() {
        for p in Permission::ALL {
            assert_eq!(
                PERMISSIONS.iter().filter(|g| g.permission == p).count(),
                1,
                "{p:?}"
            );
        }
        assert_eq!(PERMISSIONS.len(), Permission::ALL.len());
    }

    #[test]
    fn the_analyst_changes_no_ticket() {
        // Written out by hand: the analyst's whole set of permissions.
        let analyst: Vec<Permission> = Permission::ALL
            .into_iter()
            .filter(|p| permits(Analyst, *p))
            .collect();
        assert_eq!(
            analyst,
            vec![
                Permission::ReadFigures,
                Permission::ReadWarnings,
                Permission::ApproveCases,
                Permission::PublishData,
                Permission::ProposeTopics,
                Permission::AdoptTopics
            ]
        );
        for rule in crate::lifecycle::TRANSITIONS {
            assert!(!rule.roles.contains(&Analyst), "{:?}", rule.action);
        }
    }

    #[test]
    fn reach_of_tickets() {
        assert_eq!(ticket_reach(&actor(Operator, None)), TicketReach::All);
        assert_eq!(ticket_reach(&actor(Analyst, None)), TicketReach::All);
        assert_eq!(
            ticket_reach(&actor(UnitHandler, Some(7))),
            TicketReach::Unit(7)
        );
        assert_eq!(
            ticket_reach(&actor(UnitHandler, None)),
            TicketReach::Nothing
        );
        assert_eq!(
            ticket_reach(&actor(GridWorker, Some(9))),
            TicketReach::Unit(9)
        );
        assert_eq!(ticket_reach(&actor(GridWorker, None)), TicketReach::Nothing);
    }

    #[test]
    fn who_may_edit_an_article() {
        assert!(may_edit_article(&actor(Admin, None), None));
        assert!(may_edit_article(&actor(Admin, None), Some(4)));
        assert!(may_edit_article(&actor(UnitHandler, Some(4)), Some(4)));
        assert!(!may_edit_article(&actor(UnitHandler, Some(4)), Some(5)));
        assert!(!may_edit_article(&actor(UnitHandler, Some(4)), None));
        assert!(!may_edit_article(&actor(Operator, None), None));
        assert!(!may_edit_article(&actor(Supervisor, None), Some(4)));
        assert!(!may_edit_article(&actor(GridWorker, Some(4)), Some(4)));
    }

    #[test]
    fn a_refusal_names_the_permission() {
        let e = require(&actor(Operator, None), Permission::ManageUsers).unwrap_err();
        assert_eq!(e.to_string(), "role `operator` may not manage users");
    }
}
