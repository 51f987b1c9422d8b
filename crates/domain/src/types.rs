//! Enumerations of the vocabulary (DESIGN.md): roles, channels, kinds, states.
//!
//! Each enum has a stable snake_case wire name used in the API, the database and the CLI,
//! and a Chinese label for people.

/// Declares a string-backed enum with wire names and Chinese labels (paths written out in
/// full, so that any module of the crate may use it).
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $wire:literal, $zh:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize, ::utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The stable wire name (API, database, CLI).
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }
            /// The Chinese label shown to people.
            pub fn label_zh(self) -> &'static str {
                match self { $($name::$variant => $zh),+ }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = crate::error::UnknownValue;
            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                match s {
                    $($wire => Ok($name::$variant),)+
                    _ => Err(crate::error::UnknownValue {
                        kind: stringify!($name),
                        value: s.to_string(),
                        expected: &[$($wire),+],
                    }),
                }
            }
        }
    };
}
pub(crate) use wire_enum;

wire_enum!(
    /// What a user does in the system.
    Role {
        Operator => "operator", "受理员";
        Dispatcher => "dispatcher", "派单员";
        UnitHandler => "unit_handler", "承办人";
        GridWorker => "grid_worker", "网格员";
        CallbackAgent => "callback_agent", "回访员";
        Supervisor => "supervisor", "督办员";
        Analyst => "analyst", "领导/分析";
        Admin => "admin", "管理员";
    }
);

wire_enum!(
    /// What sort of channel a channel is: how its requests are counted in the reports
    /// (calls, online, the rest).
    ChannelKind {
        Phone => "phone", "电话";
        Online => "online", "网络";
        App => "app", "移动端";
        Exchange => "exchange", "平台转办";
        Other => "other", "现场及其他";
    }
);

wire_enum!(
    /// What the citizen wants.
    Kind {
        Consultation => "consultation", "咨询";
        Help => "help", "求助";
        Complaint => "complaint", "投诉";
        Report => "report", "举报";
        Suggestion => "suggestion", "建议";
        Praise => "praise", "表扬";
    }
);

wire_enum!(
    /// Where a ticket is in its lifecycle.
    TicketState {
        Received => "received", "已受理";
        ResolvedDirectly => "resolved_directly", "直接办结";
        Dispatched => "dispatched", "已派单(待签收)";
        InProgress => "in_progress", "办理中";
        ReturnRequested => "return_requested", "退单待审";
        InConsultation => "in_consultation", "会商中";
        Replied => "replied", "已答复(待审核)";
        AwaitingCallback => "awaiting_callback", "待回访";
        RatingReview => "rating_review", "差评待审";
        Closed => "closed", "已办结";
        Merged => "merged", "已并单";
        NotAccepted => "not_accepted", "不予受理";
        Transferred => "transferred", "已转出";
    }
);

impl Role {
    /// Roles whose users belong to a unit and act for it: a unit's handlers, and a
    /// community's grid workers.
    pub fn bound_to_unit(self) -> bool {
        matches!(self, Role::UnitHandler | Role::GridWorker)
    }
}

impl TicketState {
    /// States after which nothing more happens unless the ticket is reopened.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            TicketState::ResolvedDirectly
                | TicketState::Closed
                | TicketState::Merged
                | TicketState::NotAccepted
                | TicketState::Transferred
        )
    }
}

wire_enum!(
    /// The three levels of supervision (三级督办), lowest first.
    SupervisionLevel {
        L1 => "l1", "催办";
        L2 => "l2", "书面督办";
        L3 => "l3", "挂牌督办";
    }
);

impl SupervisionLevel {
    /// The level above this one, if any.
    pub fn next(self) -> Option<SupervisionLevel> {
        match self {
            SupervisionLevel::L1 => Some(SupervisionLevel::L2),
            SupervisionLevel::L2 => Some(SupervisionLevel::L3),
            SupervisionLevel::L3 => None,
        }
    }
    /// 1, 2 or 3.
    pub fn number(self) -> u8 {
        match self {
            SupervisionLevel::L1 => 1,
            SupervisionLevel::L2 => 2,
            SupervisionLevel::L3 => 3,
        }
    }
}

wire_enum!(
    /// The level of an administrative division.
    DivisionLevel {
        Province => "province", "省";
        City => "city", "市";
        District => "district", "区县";
        Street => "street", "街道乡镇";
        Community => "community", "社区村";
    }
);

wire_enum!(
    /// What kind of organisation a unit is.
    UnitKind {
        HotlineCentre => "hotline_centre", "热线中心";
        CityDepartment => "city_department", "市级部门";
        DistrictGovernment => "district_government", "区县政府";
        StreetOffice => "street_office", "街道乡镇";
        Community => "community", "社区村委会";
        Enterprise => "enterprise", "公共企业";
    }
);

wire_enum!(
    /// Did the unit solve the problem, as the citizen says at callback.
    Resolution {
        Resolved => "resolved", "已解决";
        Partly => "partly", "部分解决";
        Unresolved => "unresolved", "未解决";
    }
);

wire_enum!(
    /// Is the citizen satisfied, as said at callback.
    Satisfaction {
        Satisfied => "satisfied", "满意";
        Basically => "basically", "基本满意";
        Dissatisfied => "dissatisfied", "不满意";
    }
);

wire_enum!(
    /// Who gave a callback's answers: a callback agent on the phone, or the citizen
    /// themself (一事一评: on the portal or by answering the SMS).
    RatingSource {
        Agent => "agent", "回访员";
        Citizen => "citizen", "市民自评";
    }
);

impl Default for RatingSource {
    /// Callbacks recorded before citizens rated were all agents'.
    fn default() -> Self {
        RatingSource::Agent
    }
}

/// The handling tiers of 一盯到底, in days.
pub const TIERS: [u8; 4] = [1, 3, 7, 11];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip_and_match_serde() {
        for s in TicketState::ALL {
            assert_eq!(s.as_str().parse::<TicketState>().unwrap(), *s);
            let json = serde_json::to_string(s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), *r);
        }
        for c in ChannelKind::ALL {
            assert_eq!(c.as_str().parse::<ChannelKind>().unwrap(), *c);
            let json = serde_json::to_string(c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
        }
        for k in Kind::ALL {
            assert_eq!(k.as_str().parse::<Kind>().unwrap(), *k);
        }
    }

    #[test]
    fn unknown_value_names_the_expected_values() {
        let err = "fax".parse::<ChannelKind>().unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("fax"), "{msg}");
        assert!(msg.contains("phone"), "{msg}");
    }

    #[test]
    fn terminal_states() {
        let terminal: Vec<_> = TicketState::ALL
            .iter()
            .filter(|s| s.is_terminal())
            .collect();
        assert_eq!(terminal.len(), 5);
        assert!(TicketState::Transferred.is_terminal());
        assert!(!TicketState::AwaitingCallback.is_terminal());
    }
}
