//! Emergencies (紧急警情): text that says someone is in danger now is flagged before
//! anything else, with the number the operator transfers the call to — 119 (fire, gas,
//! people trapped), 110 (violence, crime, someone about to harm themselves), 120 (a medical
//! emergency), 122 (a traffic accident; with injuries 120 is told too).
//!
//! Rules, not a model: each signal is a phrase that only an emergency uses, or a thing
//! (`火`, `车祸`) together with a sign that it is happening (`着了`, `有人受伤`). Text that
//! places the event in the past (`去年`, `上个月`) or asks about rules or compensation
//! afterwards is not flagged; a cry for help (`救命`, `快来`) is.

use serde::{Deserialize, Serialize};

use crate::normalize::compact;

/// Where an emergency call is transferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Transfer {
    /// 火警: fire, gas leaks, explosions, people trapped.
    #[serde(rename = "119")]
    Fire,
    /// 匪警: violence, crime in progress, people at risk of harm.
    #[serde(rename = "110")]
    Police,
    /// 急救: medical emergencies.
    #[serde(rename = "120")]
    Ambulance,
    /// 交通事故: road accidents.
    #[serde(rename = "122")]
    Traffic,
}

impl Transfer {
    pub fn number(self) -> &'static str {
        match self {
            Transfer::Fire => "119",
            Transfer::Police => "110",
            Transfer::Ambulance => "120",
            Transfer::Traffic => "122",
        }
    }

    /// The console's label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Transfer::Fire => "119 火警",
            Transfer::Police => "110 报警",
            Transfer::Ambulance => "120 急救",
            Transfer::Traffic => "122 交通事故",
        }
    }
}

/// What the text says about an emergency.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Emergency {
    pub flag: bool,
    /// The number to transfer to, when flagged.
    pub transfer_to: Option<Transfer>,
    /// Others to tell (a road accident with injuries: 120 as well as 122).
    pub also: Vec<Transfer>,
    /// The words that decided.
    pub signals: Vec<String>,
}

/// Phrases that by themselves say an emergency is under way.
const PHRASES: &[(&str, Transfer)] = &[
    ("着火了", Transfer::Fire),
    ("起火了", Transfer::Fire),
    ("失火了", Transfer::Fire),
    ("火灾", Transfer::Fire),
    ("正在燃烧", Transfer::Fire),
    ("火很大", Transfer::Fire),
    ("浓烟", Transfer::Fire),
    ("冒黑烟", Transfer::Fire),
    ("爆炸了", Transfer::Fire),
    ("发生爆炸", Transfer::Fire),
    ("煤气泄漏", Transfer::Fire),
    ("燃气泄漏", Transfer::Fire),
    ("天然气泄漏", Transfer::Fire),
    ("液化气泄漏", Transfer::Fire),
    ("漏气了", Transfer::Fire),
    ("煤气味很重", Transfer::Fire),
    ("闻到煤气味", Transfer::Fire),
    ("闻到燃气味", Transfer::Fire),
    ("闻到天然气味", Transfer::Fire),
    ("被困电梯", Transfer::Fire),
    ("困在电梯", Transfer::Fire),
    ("电梯困人", Transfer::Fire),
    ("有人被困", Transfer::Fire),
    ("煤气中毒", Transfer::Ambulance),
    ("一氧化碳中毒", Transfer::Ambulance),
    ("晕倒了", Transfer::Ambulance),
    ("昏倒了", Transfer::Ambulance),
    ("昏迷不醒", Transfer::Ambulance),
    ("没有呼吸", Transfer::Ambulance),
    ("没呼吸了", Transfer::Ambulance),
    ("心脏病发作", Transfer::Ambulance),
    ("大出血", Transfer::Ambulance),
    ("抽搐", Transfer::Ambulance),
    ("需要急救", Transfer::Ambulance),
    ("叫救护车", Transfer::Ambulance),
    ("持刀", Transfer::Police),
    ("拿刀砍", Transfer::Police),
    ("砍人", Transfer::Police),
    ("捅人", Transfer::Police),
    ("杀人", Transfer::Police),
    ("正在打人", Transfer::Police),
    ("在打人", Transfer::Police),
    ("被人打了", Transfer::Police),
    ("殴打", Transfer::Police),
    ("打架斗殴", Transfer::Police),
    ("抢劫", Transfer::Police),
    ("绑架", Transfer::Police),
    ("家暴", Transfer::Police),
    ("家庭暴力", Transfer::Police),
    ("要跳楼", Transfer::Police),
    ("想跳楼", Transfer::Police),
    ("在楼顶要跳", Transfer::Police),
    ("想自杀", Transfer::Police),
    ("要自杀", Transfer::Police),
    ("轻生", Transfer::Police),
    ("有人落水", Transfer::Police),
    ("掉进河里", Transfer::Police),
    ("溺水", Transfer::Police),
    ("孩子走丢", Transfer::Police),
    ("小孩丢了", Transfer::Police),
    ("有人闯入", Transfer::Police),
    ("入室盗窃", Transfer::Police),
    ("车祸", Transfer::Traffic),
    ("撞车了", Transfer::Traffic),
    ("撞人了", Transfer::Traffic),
    ("被车撞", Transfer::Traffic),
    ("翻车", Transfer::Traffic),
    ("追尾", Transfer::Traffic),
    ("交通事故", Transfer::Traffic),
];

/// Signs that people are hurt (turn a traffic accident into one needing 120 as well).
const INJURED: &[&str] = &[
    "受伤",
    "流血",
    "出血",
    "伤者",
    "伤员",
    "昏迷",
    "倒地",
    "被撞倒",
    "躺在地上",
    "死亡",
    "人员伤亡",
];

/// A cry for help: flags the text even when the thing itself is said vaguely.
const CRIES: &[&str] = &["救命", "快来人", "赶紧来人", "快救", "紧急求助", "十万火急"];

/// The event is over and the caller asks about its aftermath: not an emergency call.
const PAST: &[&str] = &[
    "去年",
    "前年",
    "上个月",
    "上月",
    "上周",
    "上星期",
    "几天前",
    "前几天",
    "之前发生",
    "曾经",
    "以前",
    "当时",
    "事后",
    "赔偿",
    "理赔",
    "定责",
    "责任认定",
    "处理结果",
    "至今未",
    "一直没有处理",
    "保险",
];

/// Looks for an emergency in a ticket's title and content.
pub fn detect(text: &str) -> Emergency {
    let t = compact(text);
    let mut found: Vec<(String, Transfer)> = PHRASES
        .iter()
        .filter(|(p, _)| t.contains(p))
        .map(|(p, k)| (p.to_string(), *k))
        .collect();
    let cry: Vec<String> = CRIES
        .iter()
        .filter(|c| t.contains(*c))
        .map(|c| c.to_string())
        .collect();
    let past: Vec<&str> = PAST.iter().copied().filter(|p| t.contains(p)).collect();
    if found.is_empty() && cry.is_empty() {
        return Emergency::default();
    }
    if !past.is_empty() && cry.is_empty() {
        // Told afterwards: a complaint or a question about what happened, for the hotline.
        return Emergency::default();
    }
    if found.is_empty() {
        // Help called for, the danger unsaid: the police decide.
        found.push((String::new(), Transfer::Police));
    }
    // Fire before police before ambulance before traffic: the most urgent service leads.
    let order = |k: Transfer| match k {
        Transfer::Fire => 0,
        Transfer::Police => 1,
        Transfer::Ambulance => 2,
        Transfer::Traffic => 3,
    };
    found.sort_by_key(|(_, k)| order(*k));
    let lead = found[0].1;
    let injured: Vec<String> = INJURED
        .iter()
        .filter(|w| t.contains(*w))
        .map(|w| w.to_string())
        .collect();
    let mut also: Vec<Transfer> = found
        .iter()
        .map(|(_, k)| *k)
        .filter(|k| *k != lead)
        .collect();
    if lead == Transfer::Traffic && !injured.is_empty() {
        also.push(Transfer::Ambulance);
    }
    also.sort_by_key(|k| order(*k));
    also.dedup();
    let mut signals: Vec<String> = found
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| !p.is_empty())
        .collect();
    signals.extend(cry);
    if lead == Transfer::Traffic {
        signals.extend(injured);
    }
    Emergency {
        flag: true,
        transfer_to: Some(lead),
        also,
        signals,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to(text: &str) -> Option<&'static str> {
        detect(text).transfer_to.map(Transfer::number)
    }

    #[test]
    fn fire_gas_and_people_trapped_go_to_119() {
        assert_eq!(to("我家楼下着火了，好大的烟"), Some("119"));
        assert_eq!(to("小区3号楼有浓烟冒出来"), Some("119"));
        assert_eq!(to("厨房闻到煤气味很重，不敢开灯"), Some("119"));
        assert_eq!(to("单元楼天然气泄漏"), Some("119"));
        assert_eq!(to("我们被困电梯里了，两个老人一个小孩"), Some("119"));
    }

    #[test]
    fn violence_and_people_at_risk_go_to_110() {
        assert_eq!(to("楼下有人持刀闹事"), Some("110"));
        assert_eq!(to("邻居正在打人，快来人"), Some("110"));
        assert_eq!(to("有个人在楼顶要跳楼"), Some("110"));
        assert_eq!(to("湟水河有人落水了"), Some("110"));
        assert_eq!(to("救命！"), Some("110"));
    }

    #[test]
    fn medical_emergencies_go_to_120() {
        assert_eq!(to("我爸突然晕倒了，叫不醒"), Some("120"));
        assert_eq!(to("一家三口煤气中毒"), Some("120"));
    }

    #[test]
    fn road_accidents_go_to_122_and_with_injuries_120_too() {
        let e = detect("八一路和长江路口发生车祸，有人受伤躺在地上");
        assert_eq!(e.transfer_to, Some(Transfer::Traffic));
        assert_eq!(e.also, vec![Transfer::Ambulance]);
        assert!(e.signals.contains(&"车祸".to_string()));
        assert!(e.signals.contains(&"受伤".to_string()));
        let e = detect("两辆车追尾了，没人受伤也堵着路");
        assert_eq!(e.transfer_to, Some(Transfer::Traffic));
    }

    #[test]
    fn fire_leads_when_several_services_are_needed() {
        let e = detect("车祸后车着火了");
        assert_eq!(e.transfer_to, Some(Transfer::Fire));
        assert_eq!(e.also, vec![Transfer::Traffic]);
    }

    #[test]
    fn everyday_requests_are_not_emergencies() {
        for text in [
            "小区门口路灯不亮，晚上出行不便",
            "咨询生活垃圾分类，茶叶渣属于哪类垃圾",
            "供暖温度不达标，家里只有15度",
            "建议在学校门口增设红绿灯",
            "物业乱收费",
        ] {
            assert_eq!(detect(text), Emergency::default(), "{text}");
        }
    }

    #[test]
    fn the_aftermath_of_an_emergency_is_not_one() {
        for text in [
            "去年小区发生火灾，至今未赔偿",
            "上个月发生车祸，交警责任认定一直没有处理",
            "前几天邻居家煤气泄漏，想问燃气公司的检查制度",
        ] {
            assert!(!detect(text).flag, "{text}");
        }
        // A cry for help is taken at its word whatever else is said.
        assert!(detect("以前也着火过，现在又着火了，救命").flag);
    }
}
