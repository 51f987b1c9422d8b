//! `mashangban demo`: demo users, one per role, and a realistic month of tickets in every
//! state, produced through the real use cases (create and act) with past timestamps.

use crate::auth::{UserInput, actor_of};
use crate::{App, AppError};
use chrono::{DateTime, Duration, Timelike, Utc};
use mashangban_domain::{Action, Actor, DivisionLevel, Role, Unit};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::collections::HashMap;

mod history;

/// The password of every demo user.
pub const DEMO_PASSWORD: &str = "mashangban-demo";
/// The key the demo takes inbound SMS signed with, unless `MASHANGBAN_SMS_SECRET` says
/// another: a demo on one's own machine, never a deployment.
pub const DEMO_SMS_SECRET: &str = "mashangban-demo-sms-secret";

/// The demo users: (username, display name, role, unit code of a handler).
pub const DEMO_USERS: &[(&str, &str, Role, Option<&str>)] = &[
    ("operator", "受理员 王芳", Role::Operator, None),
    ("dispatcher", "派单员 李强", Role::Dispatcher, None),
    (
        "handler",
        "东关大街街道 承办人 马丽",
        Role::UnitHandler,
        Some("GOV-630102001"),
    ),
    (
        "handler2",
        "市城市管理局 承办人 赵军",
        Role::UnitHandler,
        Some("DEPT-CG"),
    ),
    (
        "grid",
        "贾小社区 网格员 韩雪",
        Role::GridWorker,
        Some("COM-630104001003"),
    ),
    ("callback", "回访员 张敏", Role::CallbackAgent, None),
    ("supervisor", "督办员 陈刚", Role::Supervisor, None),
    ("leader", "分管领导 刘洋", Role::Analyst, None),
    ("admin", "系统管理员", Role::Admin, None),
];

/// Who owns a kind of matter in the demo: the street office of the place, or a city unit.
#[derive(Clone, Copy)]
enum Owner {
    Street,
    City(&'static str),
}

/// (category, kind, owner, title, content; `{p}` is the place).
const TEMPLATES: &[(&str, &str, Owner, &str, &str)] = &[
    (
        "020101",
        "complaint",
        Owner::City("DEPT-JJ"),
        "小区门口违法停车",
        "{p}门口每天晚上都有车辆乱停，占用消防通道，救护车进不来，希望交警加强管理。",
    ),
    (
        "010202",
        "help",
        Owner::City("UTIL-HEAT"),
        "暖气不热",
        "{p}家中暖气片摸着只有一点温度，室温不到16度，老人孩子受不了，请供热公司上门查看。",
    ),
    (
        "010403",
        "complaint",
        Owner::Street,
        "垃圾清运不及时",
        "{p}的垃圾桶已经满溢三天没人清运，气味很大，请尽快安排清运。",
    ),
    (
        "010103",
        "help",
        Owner::Street,
        "路灯不亮",
        "{p}附近一排路灯晚上都不亮，晚上出行很不安全，请尽快维修。",
    ),
    (
        "010104",
        "help",
        Owner::Street,
        "下水道堵塞返水",
        "{p}楼下化粪池满溢，下水从低层住户家中返水，屋内污秽不堪，请尽快疏通。",
    ),
    (
        "010301",
        "complaint",
        Owner::City("DEPT-FC"),
        "物业不作为",
        "{p}的物业公司收费后不维修电梯，电梯停运一周，楼上老人无法下楼。",
    ),
    (
        "030201",
        "complaint",
        Owner::City("DEPT-STHJ"),
        "夜间施工噪音",
        "{p}旁边的工地每天晚上十一点以后还在施工，噪音很大，严重影响休息。",
    ),
    (
        "030101",
        "complaint",
        Owner::City("DEPT-STHJ"),
        "餐馆油烟扰民",
        "{p}楼下新开的饭馆油烟直排，家里窗户都不敢开，请环保部门查处。",
    ),
    (
        "050101",
        "help",
        Owner::City("DEPT-RS"),
        "拖欠工资",
        "本人在{p}附近的工地干活，老板拖欠三个月工资共一万二千元，多次讨要无果，请求帮助。",
    ),
    (
        "050202",
        "consultation",
        Owner::City("DEPT-YB"),
        "异地就医报销咨询",
        "我在外地住院，想咨询医保异地就医备案和报销需要哪些材料。",
    ),
    (
        "040201",
        "complaint",
        Owner::City("DEPT-SCJG"),
        "健身房预付卡无法退费",
        "{p}的一家健身房突然关门，办的年卡还有八个月，要求退费。",
    ),
    (
        "040101",
        "report",
        Owner::City("DEPT-SCJG"),
        "餐馆卫生差",
        "{p}附近一家小吃店后厨卫生很差，老鼠乱窜，请市场监管部门检查。",
    ),
    (
        "010401",
        "complaint",
        Owner::City("DEPT-CG"),
        "占道经营",
        "{p}路口早晚都有摊贩占道经营，行人只能走机动车道，很危险。",
    ),
    (
        "010402",
        "report",
        Owner::City("DEPT-CG"),
        "违章搭建",
        "{p}一楼住户在楼前私自搭建彩钢房，占用公共绿地，请城管查处。",
    ),
    (
        "060201",
        "consultation",
        Owner::City("DEPT-JY"),
        "小学入学咨询",
        "孩子今年满六岁，户口在{p}，想咨询划片入学的学校和报名时间。",
    ),
    (
        "010201",
        "help",
        Owner::City("UTIL-WATER"),
        "突然停水",
        "{p}从今天早上开始停水，没有接到任何通知，请问什么时候恢复供水？",
    ),
    (
        "010203",
        "help",
        Owner::City("UTIL-GAS"),
        "燃气表故障",
        "{p}家里燃气表充值后不通气，请燃气公司上门检查。",
    ),
    (
        "020201",
        "suggestion",
        Owner::City("DEPT-JT"),
        "建议增开公交线路",
        "{p}周边新建小区多，到火车站没有直达公交，建议增开或调整线路。",
    ),
    (
        "080102",
        "consultation",
        Owner::City("DEPT-MZ"),
        "高龄补贴申领",
        "家中老人今年满八十岁，户籍在{p}，想咨询高龄补贴怎么申请。",
    ),
    (
        "070101",
        "complaint",
        Owner::City("DEPT-WJ"),
        "医院服务态度差",
        "在市里一家医院看病时护士态度恶劣，排队两小时没人管，希望整改。",
    ),
    (
        "010302",
        "suggestion",
        Owner::Street,
        "老旧小区改造",
        "{p}是九十年代的老小区，楼道破旧、没有停车位，希望纳入老旧小区改造计划。",
    ),
    (
        "010304",
        "help",
        Owner::Street,
        "楼顶漏水",
        "{p}顶层住户家中楼顶漏水，墙皮脱落，请协调维修基金维修。",
    ),
    (
        "120101",
        "praise",
        Owner::Street,
        "表扬社区工作人员",
        "感谢{p}的网格员，帮我们楼解决了多年的下水问题，特此表扬。",
    ),
    (
        "090101",
        "consultation",
        Owner::City("DEPT-GA"),
        "户口迁移咨询",
        "想把户口从外省迁到{p}，请问需要准备哪些材料，在哪里办理？",
    ),
];

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "马", "赵", "韩", "祁", "冶", "鲁", "朱", "何",
];
const GIVEN: &[&str] = &[
    "芳", "伟", "娜", "强", "敏", "静", "磊", "洋", "艳", "军", "霞", "海英", "建国", "秀兰",
    "文斌",
];
const CHANNELS: &[(&str, u32)] = &[
    ("phone", 60),
    ("wechat", 12),
    ("web", 8),
    ("app", 5),
    ("grid", 7),
    ("merged_line", 5),
    ("mailbox", 3),
];

/// What the demo made.
#[derive(Debug, Default, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DemoReport {
    pub users_created: usize,
    pub tickets_created: usize,
    pub states: std::collections::BTreeMap<String, usize>,
}

struct Ctx {
    rng: StdRng,
    handlers: HashMap<i64, Actor>,
    /// A grid worker of each community that reported something, by unit.
    grid_workers: HashMap<i64, Actor>,
    units_by_code: HashMap<String, Unit>,
    operator: Actor,
    dispatcher: Actor,
    callback: Actor,
    supervisor: Actor,
    now: DateTime<Utc>,
}

impl App {
    /// Creates the demo users that do not exist yet (requires `seed xining` first).
    pub async fn ensure_demo_users(&self) -> Result<usize, AppError> {
        let mut created = 0;
        for (username, name, role, unit_code) in DEMO_USERS {
            if self.store.get_credentials(username).await?.is_some() {
                continue;
            }
            let unit_id = match unit_code {
                Some(code) => Some(
                    self.store
                        .get_unit_by_code(code)
                        .await?
                        .ok_or_else(|| {
                            AppError::NotFound(format!("unit {code} (run `seed xining` first)"))
                        })?
                        .id,
                ),
                None => None,
            };
            self.add_user(
                &crate::SERVER,
                UserInput {
                    username: username.to_string(),
                    display_name: Some(name.to_string()),
                    role: *role,
                    unit_id,
                    password: Some(DEMO_PASSWORD.to_string()),
                },
            )
            .await?;
            created += 1;
        }
        Ok(created)
    }

    /// Generates `count` tickets over the `days` before `now`, each taken as far along its
    /// lifecycle as its age allows, so that every state appears. Deterministic for a seed.
    pub async fn generate_demo_tickets(
        &self,
        count: usize,
        days: i64,
        now: DateTime<Utc>,
        seed: u64,
    ) -> Result<DemoReport, AppError> {
        let mut report = DemoReport::default();
        let user_actor = async |name: &str| -> Result<Actor, AppError> {
            let (u, _) = self
                .store
                .get_credentials(name)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("demo user {name}")))?;
            Ok(actor_of(&u))
        };
        let units = self.store.list_units().await?;
        let mut ctx = Ctx {
            rng: StdRng::seed_from_u64(seed),
            handlers: HashMap::new(),
            grid_workers: HashMap::new(),
            units_by_code: units.iter().map(|u| (u.code.clone(), u.clone())).collect(),
            operator: user_actor("operator").await?,
            dispatcher: user_actor("dispatcher").await?,
            callback: user_actor("callback").await?,
            supervisor: user_actor("supervisor").await?,
            now,
        };
        for u in self.store.list_users().await? {
            if let (Role::UnitHandler, Some(unit)) = (u.role, u.unit_id) {
                ctx.handlers.entry(unit).or_insert_with(|| actor_of(&u));
            }
        }
        // Places: the communities of the four central districts and Huangzhong, weighted to
        // the districts where the demo's street handler works.
        let communities: Vec<_> = self
            .store
            .list_divisions(None, Some(DivisionLevel::Community))
            .await?
            .into_iter()
            .filter(|d| {
                ["630102", "630103", "630104", "630105", "630106"]
                    .iter()
                    .any(|p| d.code.starts_with(p))
            })
            .collect();
        let home: Vec<_> = communities
            .iter()
            .filter(|d| d.code.starts_with("630102001"))
            .cloned()
            .collect();
        let mut times: Vec<DateTime<Utc>> = (0..count)
            .map(|_| {
                let back = Duration::minutes(ctx.rng.random_range(0..days * 24 * 60));
                let t = now - back;
                // Move night-time calls into office hours (08:00–20:00 Beijing time) mostly.
                let hour_bj = (t.hour() + 8) % 24;
                if hour_bj < 8 && ctx.rng.random_bool(0.8) {
                    t + Duration::hours(9)
                } else {
                    t
                }
            })
            .filter(|t| *t < now)
            .collect();
        times.sort();
        // Besides the random tickets, the seed's two stories and, a week before `now`, one
        // ticket stopped in each state not seen so far; each is written in its place in
        // time, so that the tickets (and their numbers) read in the order they came in.
        #[derive(Clone, Copy)]
        enum Extra {
            FireLane,
            SepticTank,
            Stops,
        }
        let mut extras: Vec<(DateTime<Utc>, Extra)> = if count >= 50 {
            vec![
                (story_at(now, 3, 0, 15, 20), Extra::FireLane),
                (story_at(now, 6, 0, 9, 40), Extra::SepticTank),
                (now - Duration::days(6), Extra::Stops),
            ]
        } else {
            Vec::new()
        };
        extras.sort_by_key(|(at, _)| *at);
        let mut extras = extras.into_iter().peekable();
        let last = now + Duration::days(1);
        let times: Vec<Option<DateTime<Utc>>> = times
            .into_iter()
            .map(Some)
            .chain(std::iter::once(None))
            .collect();
        for (i, at) in times.into_iter().enumerate() {
            // The extras due before this ticket (all of them after the last one).
            while let Some((_, extra)) = extras.next_if(|(x, _)| *x <= at.unwrap_or(last)) {
                match extra {
                    Extra::FireLane => {
                        if self.fire_lane_story(&mut ctx).await? {
                            *report.states.entry("closed".into()).or_default() += 1;
                            report.tickets_created += 1;
                        }
                    }
                    Extra::SepticTank => {
                        if self.septic_tank_story(&ctx).await? {
                            *report.states.entry("resolved_directly".into()).or_default() += 1;
                            report.tickets_created += 1;
                        }
                    }
                    Extra::Stops => {
                        for state in mashangban_domain::TicketState::ALL {
                            if report.states.contains_key(state.as_str()) {
                                continue;
                            }
                            let place = &communities[ctx.rng.random_range(0..communities.len())];
                            let at = now - Duration::days(6);
                            let got = self
                                .demo_ticket(&mut ctx, usize::MAX, at, place, Some(state.as_str()))
                                .await?;
                            *report.states.entry(got).or_default() += 1;
                            report.tickets_created += 1;
                        }
                    }
                }
            }
            let Some(at) = at else { break };
            let place = if ctx.rng.random_bool(0.25) && !home.is_empty() {
                &home[ctx.rng.random_range(0..home.len())]
            } else {
                &communities[ctx.rng.random_range(0..communities.len())]
            };
            let state = self.demo_ticket(&mut ctx, i, at, place, None).await?;
            *report.states.entry(state).or_default() += 1;
            report.tickets_created += 1;
        }
        Ok(report)
    }

    /// The seed article's fire lane (消防通道), as its times went: a call in the afternoon;
    /// the hotline forwards it to 城东区政府, whose command centre passes it to 八一路街道,
    /// which asks the community; the community calls the citizen back at 09:57 the next
    /// day and gets the property company to act; the hotline has the reply at 11:30. Dated
    /// three days before `now`. The community is a demonstration unit (the divisions list
    /// no community under 八一路街道). Returns whether it was written.
    async fn fire_lane_story(&self, ctx: &mut Ctx) -> Result<bool, AppError> {
        let (Some(district), Some(street)) = (
            ctx.units_by_code.get("GOV-630102").cloned(),
            ctx.units_by_code.get("GOV-630102006").cloned(),
        ) else {
            return Ok(false);
        };
        let community = match self.store.get_unit_by_code("COM-DEMO-630102006").await? {
            Some(u) => u,
            None => {
                self.add_unit(
                    &crate::SERVER,
                    crate::admin::UnitInput {
                        code: "COM-DEMO-630102006".into(),
                        name: "八一路街道青发小区所在社区（演示）".into(),
                        kind: mashangban_domain::UnitKind::Community,
                        parent_id: Some(street.id),
                        division_code: Some("630102006".into()),
                    },
                )
                .await?
            }
        };
        let now = ctx.now;
        let at = |d: i64, h: i64, m: i64| story_at(now, 3, d, h, m);
        if at(2, 10, 0) > ctx.now {
            return Ok(false);
        }
        let body = json!({
            "channel": "phone", "kind": "complaint", "title": "消防通道被锁死且有人居住",
            "content": "城东区八一中路青发小区7号楼3单元的一个消防通道被锁死打不开，物业称里面有人居住，存在安全隐患，请求处理。",
            "citizen": {"name": "马先生", "phone": "13997001234"},
            "address": "西宁市城东区八一中路青发小区7号楼3单元",
            "category_code": "010301",
            "division_code": "630102006",
        });
        let (ticket, _) = self
            .create_ticket_at(&ctx.operator, body, None, at(0, 15, 20))
            .await?;
        let id = ticket.id;
        let district_h = self.handler_for(ctx, &district).await?;
        let street_h = self.handler_for(ctx, &street).await?;
        let community_h = self.handler_for(ctx, &community).await?;
        let steps: Vec<(Actor, Action, serde_json::Value, DateTime<Utc>)> = vec![
            (
                ctx.dispatcher,
                Action::Dispatch,
                json!({"lead_unit_id": district.id, "tier": 3, "note": "属地事项，请城东区核实处理。"}),
                at(0, 15, 35),
            ),
            (
                district_h,
                Action::Sign,
                json!({"note": "区指挥中心已签收"}),
                at(0, 15, 50),
            ),
            (
                district_h,
                Action::Forward,
                json!({"unit_id": street.id, "note": "请八一路街道核实青发小区消防通道情况。"}),
                at(0, 16, 0),
            ),
            (street_h, Action::Sign, json!({}), at(0, 16, 30)),
            (
                street_h,
                Action::Forward,
                json!({"unit_id": community.id, "note": "请社区联系市民并督促物业整改。"}),
                at(0, 17, 0),
            ),
            (community_h, Action::Sign, json!({}), at(1, 8, 50)),
            (
                community_h,
                Action::RecordContact,
                json!({"note": "09:57 社区工作人员电话联系市民，了解消防通道住人及锁门情况。"}),
                at(1, 9, 57),
            ),
            (
                community_h,
                Action::Reply,
                json!({"content": "社区工作人员已联系青发物业前往现场查看，物业表示会及时整改处理。"}),
                at(1, 10, 40),
            ),
            (
                street_h,
                Action::ApproveReply,
                json!({"content": "八一路街道：社区已于当日9时57分联系市民，并联系青发物业到现场查看，物业表示及时整改。"}),
                at(1, 11, 5),
            ),
            (
                district_h,
                Action::ApproveReply,
                json!({"content": "经区指挥中心与八一路街道办事处核实，街道已向社区反映，社区工作人员于当日9时57分联系市民；关于消防通道住人及锁门的情况，社区已联系青发物业前往现场查看，物业表示会及时整改处理。"}),
                at(1, 11, 30),
            ),
            (
                ctx.dispatcher,
                Action::ApproveReply,
                json!({}),
                at(1, 14, 0),
            ),
            (
                ctx.callback,
                Action::RecordCallback,
                json!({"contacted": true, "resolution": "resolved", "satisfaction": "satisfied"}),
                at(2, 10, 0),
            ),
        ];
        for (actor, action, body, when) in steps {
            self.act_at(&actor, id, action, body, when).await?;
        }
        Ok(true)
    }

    /// The seed article's septic tank (化粪池): on patrol, a grid worker of 贾小社区 (西关大街街道)
    /// hears that the septic tank of 贾小小区 building 42, unit 6 overflows and sewage backs up
    /// into a second-floor home. The same day she calls on the ten households above, shuts
    /// the unit's water for the time being and works out a fix with the property company's
    /// repairers; a residents' meeting (近邻议事会) of the building's party branch, the grid
    /// worker and residents' representatives decides to replace the basement's pipes, the
    /// community, the property company and the residents sharing the cost; the community
    /// resolves the matter itself (就地办结). Dated six days before `now`; written by the
    /// demo's grid worker. Returns whether it was written.
    async fn septic_tank_story(&self, ctx: &Ctx) -> Result<bool, AppError> {
        let Some((grid, _)) = self.store.get_credentials("grid").await? else {
            return Ok(false);
        };
        let grid = actor_of(&grid);
        let now = ctx.now;
        let at = |d: i64, h: i64, m: i64| story_at(now, 6, d, h, m);
        if at(4, 17, 0) > ctx.now {
            return Ok(false);
        }
        let body = json!({
            "kind": "help", "title": "化粪池满溢，下水从2楼居民家中返水",
            "content": "网格员下网格时居民反映：贾小小区42号楼6单元化粪池满溢，导致下水从2楼居民家中返水，屋内污秽不堪，生活严重受到影响。",
            "citizen": {"name": "2楼住户", "phone": "13997005678"},
            "address": "西宁市城西区西关大街街道贾小小区42号楼6单元",
            "division_code": "630104001003",
        });
        let (ticket, _) = self
            .report_on_patrol_at(&grid, body, None, at(0, 9, 40))
            .await?;
        let id = ticket.id;
        let held_on = (mashangban_domain::aggregates::business_day(now) - Duration::days(5))
            .format("%Y-%m-%d")
            .to_string();
        let steps: Vec<(Action, serde_json::Value, DateTime<Utc>)> = vec![
            (
                Action::AddNote,
                json!({"note": "当日网格员入户了解情况，逐层向楼上常住的10户人家解释，暂时关闭单元自来水，缓解2楼返水；与物业专业维修人员现场商讨解决方案。"}),
                at(0, 11, 30),
            ),
            (
                Action::AddNote,
                json!({"note": "物业查明：地下管网被油污堵塞，下水无法正常排入污水井，且管道内油污厚，不能直接疏通，需要更换主管道和小管道。"}),
                at(0, 16, 10),
            ),
            (
                Action::RecordMeeting,
                json!({"held_on": held_on, "participants": "楼院党支部、网格员、居民代表、物业公司",
                       "decision": "将地下室水网整体更换（主管道及小管道），物业组织施工，网格员跟进进度并告知住户。",
                       "who_pays": "社区、物业、居民共同承担"}),
                at(1, 15, 0),
            ),
            (
                Action::ResolveOnSpot,
                json!({"action_taken": "地下室水网已整体更换，2楼返水问题解决，单元恢复供水；费用由社区、物业、居民共同承担。住户表示满意。"}),
                at(4, 17, 0),
            ),
        ];
        for (action, body, when) in steps {
            self.act_at(&grid, id, action, body, when).await?;
        }
        Ok(true)
    }

    /// A grid worker of the community of this division, made on first use; none where the
    /// division has no community unit.
    async fn grid_worker_for(
        &self,
        ctx: &mut Ctx,
        division_code: &str,
    ) -> Result<Option<Actor>, AppError> {
        let code = format!("COM-{division_code}");
        let Some(unit) = ctx.units_by_code.get(&code).cloned() else {
            return Ok(None);
        };
        if unit.kind != mashangban_domain::UnitKind::Community {
            return Ok(None);
        }
        if let Some(a) = ctx.grid_workers.get(&unit.id) {
            return Ok(Some(*a));
        }
        let a = self
            .demo_user(&unit, Role::GridWorker, "g", "网格员")
            .await?;
        ctx.grid_workers.insert(unit.id, a);
        Ok(Some(a))
    }

    async fn handler_for(&self, ctx: &mut Ctx, unit: &Unit) -> Result<Actor, AppError> {
        if let Some(a) = ctx.handlers.get(&unit.id) {
            return Ok(*a);
        }
        let a = self
            .demo_user(unit, Role::UnitHandler, "h", "承办人")
            .await?;
        ctx.handlers.insert(unit.id, a);
        Ok(a)
    }

    /// The demo's user of a unit in a role (`{prefix}-{unit code}`), made on first use.
    async fn demo_user(
        &self,
        unit: &Unit,
        role: Role,
        prefix: &str,
        title: &str,
    ) -> Result<Actor, AppError> {
        let username = format!("{prefix}-{}", unit.code.to_lowercase());
        let user = match self.store.get_credentials(&username).await? {
            Some((u, _)) => u,
            None => {
                self.add_user(
                    &crate::SERVER,
                    UserInput {
                        username,
                        display_name: Some(format!("{} {title}", unit.name)),
                        role,
                        unit_id: Some(unit.id),
                        password: None,
                    },
                )
                .await?
            }
        };
        Ok(actor_of(&user))
    }

    /// One demo ticket, taken along its lifecycle while its clock is before `now`; with
    /// `stop`, it takes the path to that state and stops there.
    async fn demo_ticket(
        &self,
        ctx: &mut Ctx,
        i: usize,
        at: DateTime<Utc>,
        place: &mashangban_domain::Division,
        stop: Option<&str>,
    ) -> Result<String, AppError> {
        let mut pick = ctx.rng.random_range(0..TEMPLATES.len());
        if stop == Some("resolved_directly") {
            pick = TEMPLATES
                .iter()
                .position(|t| t.1 == "consultation")
                .unwrap_or(0);
        } else if stop.is_some() {
            pick = TEMPLATES
                .iter()
                .position(|t| t.1 != "consultation")
                .unwrap_or(0);
        }
        let (category, kind, owner, title, content) = TEMPLATES[pick];
        let halt = |state: &str| stop == Some(state);
        let short_place = place
            .name
            .trim_end_matches("社区居民委员会")
            .trim_end_matches("村民委员会")
            .trim_end_matches("村委会")
            .trim_end_matches("居委会")
            .to_string();
        let short_place = if short_place.ends_with("社区") || short_place.ends_with('村') {
            short_place
        } else {
            format!("{short_place}社区")
        };
        let building = ctx.rng.random_range(1..40);
        let address = format!("{short_place}{building}号楼");
        let channel = pick_weighted(&mut ctx.rng, CHANNELS);
        let name = format!(
            "{}{}",
            SURNAMES[ctx.rng.random_range(0..SURNAMES.len())],
            GIVEN[ctx.rng.random_range(0..GIVEN.len())]
        );
        let prefix = ["138", "139", "159", "186", "189", "177"][ctx.rng.random_range(0..6)];
        let phone = format!("{prefix}{:08}", ctx.rng.random_range(0..100_000_000u64));
        let mut body = json!({
            "channel": channel, "kind": kind, "title": title,
            "content": content.replace("{p}", &address),
            "citizen": {"name": name, "phone": phone},
            "confidential": ctx.rng.random_bool(0.05),
            "address": format!("西宁市{address}"),
            "category_code": category,
            "division_code": place.code,
        });
        if channel == "merged_line" {
            body["channel_detail"] =
                json!(["12369", "12315", "12333", "12319"][ctx.rng.random_range(0..4)]);
        }
        // The grid channel is a community's grid worker reporting on patrol.
        let grid = match channel {
            "grid" => self.grid_worker_for(ctx, &place.code).await?,
            _ => None,
        };
        let (ticket, _) = match grid {
            Some(worker) => {
                if let Some(b) = body.as_object_mut() {
                    b.remove("channel");
                }
                self.report_on_patrol_at(&worker, body, None, at).await?
            }
            None => self.create_ticket_at(&ctx.operator, body, None, at).await?,
        };
        let id = ticket.id;
        let mut t = at;
        let step =
            |ctx: &mut Ctx, t: &mut DateTime<Utc>, min_minutes: i64, max_minutes: i64| -> bool {
                *t += Duration::minutes(ctx.rng.random_range(min_minutes..=max_minutes));
                *t < ctx.now
            };
        let mut roll: f64 = ctx.rng.random();
        match stop {
            Some("received") => return Ok("received".into()),
            Some("resolved_directly") => roll = 0.0,
            Some("not_accepted") => roll = 0.01,
            Some("merged") => roll = 0.04,
            Some(_) => roll = 0.9,
            None => {}
        }
        // Consultations answered on the phone, emergencies and court matters, duplicates.
        if kind == "consultation" && roll < 0.5 {
            if step(ctx, &mut t, 2, 8) {
                self.act_at(
                    &ctx.operator,
                    id,
                    Action::ResolveDirectly,
                    json!({"answer": "已依据知识库向市民解答办理条件、材料和地点，市民表示清楚。"}),
                    t,
                )
                .await?;
                return Ok("resolved_directly".into());
            }
            return Ok("received".into());
        }
        if roll < 0.03 {
            if step(ctx, &mut t, 2, 10) {
                self.act_at(&ctx.operator, id, Action::NotAccept, json!({"reason": "该事项已进入诉讼程序，不属于热线受理范围，已告知市民向法院咨询。", "redirect_to": "人民法院"}), t).await?;
                return Ok("not_accepted".into());
            }
            return Ok("received".into());
        }
        if roll < 0.05 && i > 0 && id > 1 && (stop.is_none() || halt("merged")) {
            // The request just before, or (to show a merge for sure) the newest open one.
            let mut parent = None;
            let back = if halt("merged") { 50 } else { 1 };
            for p in (1..id).rev().take(back) {
                if let Some(p) = self.store.get_ticket(p).await?
                    && !p.state.is_terminal()
                    && p.parent_id.is_none()
                {
                    parent = Some(p.id);
                    break;
                }
            }
            if step(ctx, &mut t, 5, 30)
                && let Some(parent) = parent
                && self
                    .act_at(
                        &ctx.dispatcher,
                        id,
                        Action::Merge,
                        json!({"parent_id": parent}),
                        t,
                    )
                    .await
                    .is_ok()
            {
                return Ok("merged".into());
            }
        }
        // Dispatch to the owner.
        // Some street matters go to the district government first (属地负责), which passes
        // them down.
        let street_unit = place
            .parent_code
            .as_ref()
            .and_then(|s| ctx.units_by_code.get(&format!("GOV-{s}")).cloned());
        let district_unit = place
            .code
            .get(..6)
            .and_then(|d| ctx.units_by_code.get(&format!("GOV-{d}")).cloned());
        let via_district =
            matches!(owner, Owner::Street) && stop.is_none() && ctx.rng.random_bool(0.3);
        let lead = match owner {
            Owner::City(code) => ctx.units_by_code.get(code).cloned(),
            Owner::Street if via_district && district_unit.is_some() => district_unit.clone(),
            Owner::Street => street_unit.clone(),
        };
        let Some(lead) = lead else {
            return Ok("received".into());
        };
        if !step(ctx, &mut t, 10, 90) {
            return Ok("received".into());
        }
        let mut dispatch = json!({"lead_unit_id": lead.id, "note": "请按时限办理并及时答复市民。"});
        let street_id = place
            .parent_code
            .as_ref()
            .and_then(|s| ctx.units_by_code.get(&format!("GOV-{s}")))
            .map(|u| u.id);
        if matches!(owner, Owner::City(_))
            && let Some(street_id) = street_id
            && ctx.rng.random_bool(0.3)
        {
            dispatch["co_unit_ids"] = json!([street_id]);
        }
        self.act_at(&ctx.dispatcher, id, Action::Dispatch, dispatch, t)
            .await?;
        if halt("dispatched") {
            return Ok("dispatched".into());
        }
        let handler = self.handler_for(ctx, &lead).await?;
        // A few are disputed: returned or taken to consultation.
        let side: f64 = match stop {
            Some("return_requested") => 0.0,
            Some("in_consultation") => 0.05,
            Some(_) => 0.5,
            None => ctx.rng.random(),
        };
        if side < 0.04 {
            if !step(ctx, &mut t, 30, 300) {
                return Ok("dispatched".into());
            }
            self.act_at(
                &handler,
                id,
                Action::RequestReturn,
                json!({"reason": "经核实该地址不在本单位辖区，申请退回重新派单。"}),
                t,
            )
            .await?;
            if halt("return_requested") || !step(ctx, &mut t, 30, 600) {
                return Ok("return_requested".into());
            }
            self.act_at(
                &ctx.dispatcher,
                id,
                Action::RejectReturn,
                json!({"note": "经核实属于贵单位职责，请继续办理。"}),
                t,
            )
            .await?;
        } else if side < 0.07 {
            if !step(ctx, &mut t, 60, 600) {
                return Ok("dispatched".into());
            }
            self.act_at(
                &ctx.dispatcher,
                id,
                Action::OpenConsultation,
                json!({"note": "职责边界存在争议，组织相关单位会商。"}),
                t,
            )
            .await?;
            if halt("in_consultation") || !step(ctx, &mut t, 600, 2880) {
                return Ok("in_consultation".into());
            }
            self.act_at(
                &ctx.dispatcher,
                id,
                Action::DecideConsultation,
                json!({"lead_unit_id": lead.id, "note": "会商确定由该单位主办。"}),
                t,
            )
            .await?;
        }
        if !step(ctx, &mut t, 10, 240) {
            return Ok("dispatched".into());
        }
        // The deadlines that passed meanwhile are recorded as a running watcher would have.
        self.watch_ticket_at(id, t).await?;
        self.act_at(&handler, id, Action::Sign, json!({}), t)
            .await?;
        if halt("in_progress") {
            return Ok("in_progress".into());
        }
        if step(ctx, &mut t, 30, 720) {
            self.act_at(
                &handler,
                id,
                Action::RecordContact,
                json!({"note": "已电话联系市民，约定上门查看时间。"}),
                t,
            )
            .await?;
        } else {
            return Ok("in_progress".into());
        }
        if stop.is_none() && ctx.rng.random_bool(0.08) && step(ctx, &mut t, 60, 600) {
            let asked = self
                .act_at(
                    &handler,
                    id,
                    Action::RequestExtension,
                    json!({"days": 5, "reason": "需协调施工单位和物业共同处理，申请延期。"}),
                    t,
                )
                .await;
            match asked {
                Ok(_) => {}
                // Asked too late in the day or after the deadline: refused, handled as is.
                Err(AppError::Conflict {
                    code: "extension_refused",
                    ..
                }) => {}
                Err(e) => return Err(e),
            }
            if asked.is_ok() {
                if step(ctx, &mut t, 30, 300) {
                    self.act_at(&ctx.dispatcher, id, Action::ApproveExtension, json!({}), t)
                        .await?;
                } else {
                    return Ok("in_progress".into());
                }
            }
        }
        // 分级转办: most street offices pass the matter to the community where it is, which
        // calls on the spot and replies up; a district government passes it to the street
        // first. Each level reviews the reply of the one below before it goes up.
        let community = match owner {
            Owner::Street if stop.is_none() => ctx
                .units_by_code
                .get(&format!("COM-{}", place.code))
                .cloned(),
            _ => None,
        };
        let mut down: Vec<Unit> = Vec::new();
        if matches!(owner, Owner::Street) && stop.is_none() {
            if via_district && let Some(street) = street_unit.clone() {
                down.push(street);
            }
            if let Some(c) = community
                && (!down.is_empty() || ctx.rng.random_bool(0.6))
            {
                down.push(c);
            }
        }
        let mut levels: Vec<(Unit, Actor)> = Vec::new();
        let mut holder = handler;
        for unit in down {
            if !step(ctx, &mut t, 20, 240) {
                return Ok("in_progress".into());
            }
            self.act_at(
                &holder,
                id,
                Action::Forward,
                json!({"unit_id": unit.id, "note": format!("请{}核实处理，按时上报处理结果。", unit.name)}),
                t,
            )
            .await?;
            let level_handler = self.handler_for(ctx, &unit).await?;
            if !step(ctx, &mut t, 10, 240) {
                return Ok("in_progress".into());
            }
            self.act_at(&level_handler, id, Action::Sign, json!({}), t)
                .await?;
            holder = level_handler;
            levels.push((unit, level_handler));
        }
        if !levels.is_empty() {
            if !step(ctx, &mut t, 20, 600) {
                return Ok("in_progress".into());
            }
            self.act_at(
                &holder,
                id,
                Action::RecordContact,
                json!({"note": "社区网格员已电话联系市民，约定上门。"}),
                t,
            )
            .await?;
        }
        let mut rounds = 0;
        loop {
            rounds += 1;
            // The first round is the community's where the street forwarded it; a reply the
            // hotline sends back is the street's own to redo.
            let (replier, replier_name) = match (levels.last(), rounds) {
                (Some((u, h)), 1) => (*h, u.name.clone()),
                _ => (handler, lead.name.clone()),
            };
            if !step(ctx, &mut t, 240, 4320) {
                return Ok("in_progress".into());
            }
            self.act_at(
                &replier,
                id,
                Action::AddNote,
                json!({"note": "工作人员已到现场核实，正在处理。"}),
                t,
            )
            .await?;
            if !step(ctx, &mut t, 60, 1440) {
                return Ok("in_progress".into());
            }
            self.watch_ticket_at(id, t).await?;
            self.act_at(&replier, id, Action::Reply, json!({"content": format!("经{replier_name}核实，已安排人员现场处理完毕，并已告知市民处理结果。")}), t).await?;
            if rounds == 1 && !levels.is_empty() {
                // Each level above reviews the reply and passes it up as its own, up to the
                // lead unit, whose approval is the reply to the hotline.
                let reviewers: Vec<(String, Actor)> = std::iter::once((lead.name.clone(), handler))
                    .chain(levels.iter().map(|(u, h)| (u.name.clone(), *h)))
                    .take(levels.len())
                    .collect();
                for (name, reviewer) in reviewers.into_iter().rev() {
                    if !step(ctx, &mut t, 30, 600) {
                        return Ok("in_progress".into());
                    }
                    self.act_at(
                        &reviewer,
                        id,
                        Action::ApproveReply,
                        json!({"content": format!("经{name}督促{replier_name}现场核实，问题已处理完毕，并已告知市民处理结果。")}),
                        t,
                    )
                    .await?;
                }
            }
            if halt("replied") || !step(ctx, &mut t, 30, 480) {
                return Ok("replied".into());
            }
            if stop.is_none() && ctx.rng.random_bool(0.05) {
                self.act_at(
                    &ctx.dispatcher,
                    id,
                    Action::RejectReply,
                    json!({"reason": "答复内容未说明具体处理措施，请补充。"}),
                    t,
                )
                .await?;
                continue;
            }
            self.watch_ticket_at(id, t).await?;
            self.act_at(&ctx.dispatcher, id, Action::ApproveReply, json!({}), t)
                .await?;
            if halt("awaiting_callback") || !step(ctx, &mut t, 240, 2880) {
                return Ok("awaiting_callback".into());
            }
            let r: f64 = if stop.is_some() {
                0.5
            } else {
                ctx.rng.random()
            };
            // Some citizens rate the answer themselves (一事一评), by SMS or on the portal,
            // before an agent calls; a bad rating waits for the dispatcher's review.
            if halt("rating_review") || (stop.is_none() && ctx.rng.random_bool(0.25)) {
                let digit = if halt("rating_review") || r >= 0.90 {
                    "3"
                } else if r >= 0.82 {
                    "2"
                } else {
                    "1"
                };
                let rating = mashangban_domain::public::CitizenRating::from_sms(digit)
                    .expect("a rating digit");
                let after = self.commit_rating(id, rating, t).await?;
                return Ok(after.state.as_str().into());
            }
            let callback = if r < 0.05 {
                json!({"unreachable": true})
            } else if r < 0.82 {
                json!({"contacted": true, "resolution": "resolved", "satisfaction": "satisfied"})
            } else if r < 0.90 {
                json!({"contacted": true, "resolution": "partly", "satisfaction": "basically"})
            } else {
                json!({"contacted": ctx.rng.random_bool(0.5), "resolution": "unresolved", "satisfaction": "dissatisfied"})
            };
            let out = self
                .act_at(&ctx.callback, id, Action::RecordCallback, callback, t)
                .await?;
            match out.ticket.state {
                mashangban_domain::TicketState::Closed => return Ok("closed".into()),
                mashangban_domain::TicketState::AwaitingCallback => {
                    if step(ctx, &mut t, 600, 1440) {
                        self.act_at(
                            &ctx.callback,
                            id,
                            Action::Close,
                            json!({"note": "多次回访未接通，按规定办结。"}),
                            t,
                        )
                        .await?;
                        return Ok("closed".into());
                    }
                    return Ok("awaiting_callback".into());
                }
                _ if rounds >= 2 => {
                    // A second bad callback: the supervisor notes it; the ticket stays with the unit.
                    let _ = self
                        .act_at(
                            &ctx.supervisor,
                            id,
                            Action::AddNote,
                            json!({"note": "二次重办，请主要负责人亲自督办。"}),
                            t,
                        )
                        .await;
                    return Ok("dispatched".into());
                }
                _ => {
                    // Reopened (重办): the unit signs again and goes round once more.
                    if !step(ctx, &mut t, 30, 240) {
                        return Ok("dispatched".into());
                    }
                    self.act_at(
                        &handler,
                        id,
                        Action::Sign,
                        json!({"note": "重办件已签收"}),
                        t,
                    )
                    .await?;
                }
            }
        }
    }
}

/// A time of one of the seed's stories: `days_back` business days before `now`'s, then `d`
/// days later at `h`:`m` Beijing time.
fn story_at(now: DateTime<Utc>, days_back: i64, d: i64, h: i64, m: i64) -> DateTime<Utc> {
    let day = mashangban_domain::aggregates::business_day(now) - Duration::days(days_back);
    mashangban_domain::aggregates::day_start(day)
        + Duration::days(d)
        + Duration::hours(h)
        + Duration::minutes(m)
}

fn pick_weighted<'a>(rng: &mut StdRng, items: &[(&'a str, u32)]) -> &'a str {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut r = rng.random_range(0..total);
    for (v, w) in items {
        if r < *w {
            return v;
        }
        r -= w;
    }
    items[0].0
}

/// Where the demo's knowledge articles say they come from.
pub const DEMO_KNOWLEDGE_SOURCE: &str =
    "演示内容：为马上办演示编写，非官方口径，上线前请替换为本地权威答复";

/// The demo's knowledge base: (question, answer, category, keywords). Written for the
/// demo from the general four-bin household waste scheme (可回收物、有害垃圾、厨余垃圾、
/// 其他垃圾) and common hotline questions; every article is marked `demo`.
pub const DEMO_ARTICLES: &[(&str, &str, Option<&str>, &[&str])] = &[
    (
        "喝剩的茶叶渣属于什么垃圾？",
        "泡过的茶叶渣属于厨余垃圾（湿垃圾）。请沥干水分后投入厨余垃圾桶；茶叶包装袋另按其他垃圾投放。",
        Some("010403"),
        &["茶渣", "茶叶", "湿垃圾"],
    ),
    (
        "废旧电池应该扔到哪个垃圾桶？",
        "充电电池、纽扣电池、蓄电池属于有害垃圾，请投入有害垃圾收集容器，不要与其他垃圾混放；破损的请用袋子装好。",
        Some("010403"),
        &["电池", "充电电池", "纽扣电池"],
    ),
    (
        "大骨头、贝壳是厨余垃圾吗？",
        "猪牛羊的大骨头、贝壳、椰子壳质地坚硬，不易腐烂，按其他垃圾投放；鸡骨鱼刺等小骨头可作厨余垃圾投放。",
        Some("010403"),
        &["骨头", "贝壳"],
    ),
    (
        "过期药品怎么处理？",
        "过期药品及其包装内的药片、药水属于有害垃圾，请投入有害垃圾收集容器，或交到设有回收点的药店；外包装纸盒可作可回收物。",
        Some("010403"),
        &["过期药", "药品"],
    ),
    (
        "旧衣服、旧报纸、塑料瓶算什么垃圾？",
        "干净的旧衣物、报纸纸板、塑料瓶、易拉罐、玻璃瓶属于可回收物，请清空、压扁后投入可回收物桶或交回收站点。",
        Some("010403"),
        &["旧衣物", "纸板", "塑料瓶", "可回收"],
    ),
    (
        "旧沙发、旧床垫等大件家具怎么扔？",
        "大件垃圾不能放在垃圾桶旁。请联系小区物业或社区预约清运，按约定时间放到指定地点；装修垃圾需袋装后另行预约。",
        Some("010403"),
        &["大件垃圾", "旧沙发", "床垫", "装修垃圾"],
    ),
    (
        "小区垃圾桶满了没人清运怎么办？",
        "可先联系小区物业；物业不处理的，12345 将按地址转派所在街道办事处或城市管理部门督促清运，一般在3个工作日内办理。",
        Some("010403"),
        &["垃圾清运", "垃圾堆放", "没人拉"],
    ),
    (
        "家里暖气不热找谁？",
        "请先检查户内阀门是否全开、暖气片是否需要排气；仍不热的，可拨打供热单位客服电话报修，或由 12345 转派供热单位，供暖期内1个工作日内上门。",
        Some("010202"),
        &["暖气", "供暖", "不热"],
    ),
    (
        "闻到燃气味怎么办？",
        "请立即关闭燃气阀门，打开门窗通风，不要开关电器、不要使用明火或在室内打电话，离开后在室外拨打燃气公司抢修电话；情况危急请拨打 119。",
        Some("010203"),
        &["煤气味", "燃气泄漏", "天然气"],
    ),
    (
        "被拖欠工资怎么维权？",
        "可先与用人单位协商；协商不成的，携带劳动合同、考勤记录、工资条等材料向用工所在地的劳动保障监察机构投诉，或申请劳动争议仲裁。12345 可受理并转派人社部门。",
        Some("050101"),
        &["欠薪", "讨薪", "工资拖欠"],
    ),
];

impl App {
    /// Adds the demo's knowledge articles when the base is empty; returns how many.
    pub async fn ensure_demo_knowledge(&self) -> Result<usize, AppError> {
        if !self.store.knowledge().await?.is_empty() {
            return Ok(0);
        }
        let r = self.reference().await?;
        let inputs = DEMO_ARTICLES
            .iter()
            .map(|(q, a, c, k)| crate::knowledge::ArticleInput {
                question: q.to_string(),
                answer: a.to_string(),
                // Only the categories this deployment has.
                category_code: c
                    .filter(|c| r.categories.contains_key(*c))
                    .map(str::to_string),
                source: DEMO_KNOWLEDGE_SOURCE.to_string(),
                keywords: k.iter().map(|k| k.to_string()).collect(),
                demo: true,
                ..Default::default()
            })
            .collect();
        Ok(self.add_articles(0, inputs).await?.len())
    }
}

/// The demo's dispatch catalogue, city-wide functional matters: (category, unit code).
/// An illustration of how a deployment fills it, not Xining's published catalogue.
pub const DEMO_CATALOGUE: &[(&str, &str)] = &[
    ("0101", "DEPT-CG"),
    ("010201", "UTIL-WATER"),
    ("010202", "UTIL-HEAT"),
    ("010203", "UTIL-GAS"),
    ("010204", "UTIL-POWER"),
    ("010301", "DEPT-FC"),
    ("010303", "DEPT-ZRZY"),
    ("010304", "DEPT-ZJ"),
    ("0201", "DEPT-JJ"),
    ("0202", "DEPT-JT"),
    ("03", "DEPT-STHJ"),
    ("04", "DEPT-SCJG"),
    ("05", "DEPT-RS"),
    ("050202", "DEPT-YB"),
    ("06", "DEPT-JY"),
];

/// Territorial matters the demo gives each district's government (属地管理).
pub const DEMO_TERRITORIAL: &[&str] = &["010401", "010403", "010404"];

/// The office hours the demo's deadlines are counted in (a government office's day, with
/// its lunch break), so that no deadline falls at two in the morning.
pub const DEMO_WORKING_HOURS: &str = "08:30-12:00,14:30-18:00";

impl App {
    /// Gives a deployment still counting deadlines over the whole day the demo's office
    /// hours; returns whether it did (a policy an administrator set is left alone).
    pub async fn ensure_demo_policy(&self) -> Result<bool, AppError> {
        let policy = self.reference().await?.policy.clone();
        if !policy.working_hours.0.is_empty() {
            return Ok(false);
        }
        let mut body =
            serde_json::to_value(&policy).map_err(|e| AppError::Internal(e.to_string()))?;
        body["working_hours"] = serde_json::json!(DEMO_WORKING_HOURS);
        self.set_policy(&crate::SERVER, body).await?;
        Ok(true)
    }

    /// Fills an empty dispatch catalogue with the demo's entries (those whose category and
    /// unit this deployment has); returns how many.
    pub async fn ensure_demo_catalogue(&self) -> Result<usize, AppError> {
        if !self.store.catalogue().await?.is_empty() {
            return Ok(0);
        }
        let r = self.reference().await?;
        let from = chrono::NaiveDate::from_ymd_opt(2020, 1, 1);
        let note = "演示目录：示例职责划分，非官方派单目录";
        let mut inputs = Vec::new();
        for (category, unit) in DEMO_CATALOGUE {
            inputs.push(crate::catalogue::EntryInput {
                category_code: category.to_string(),
                unit_code: Some(unit.to_string()),
                valid_from: from,
                note: Some(note.into()),
                ..Default::default()
            });
        }
        let districts = self
            .store
            .list_divisions(None, Some(mashangban_domain::DivisionLevel::District))
            .await?;
        for d in districts {
            let unit = format!("GOV-{}", d.code);
            if !r.units.values().any(|u| u.code == unit) {
                continue;
            }
            for category in DEMO_TERRITORIAL {
                inputs.push(crate::catalogue::EntryInput {
                    category_code: category.to_string(),
                    division_code: Some(d.code.clone()),
                    unit_code: Some(unit.clone()),
                    valid_from: from,
                    note: Some(note.into()),
                    ..Default::default()
                });
            }
        }
        let mut saved = 0;
        for input in inputs {
            if !r.categories.contains_key(&input.category_code)
                || !r
                    .units
                    .values()
                    .any(|u| Some(&u.code) == input.unit_code.as_ref())
            {
                continue;
            }
            self.save_catalogue_entry(&crate::SERVER, input).await?;
            saved += 1;
        }
        Ok(saved)
    }
}
