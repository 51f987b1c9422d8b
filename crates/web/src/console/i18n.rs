//! The console's words in Simplified Chinese (first) and English.

/// A console language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn from_cookie(v: Option<&str>) -> Lang {
        match v {
            Some("en") => Lang::En,
            _ => Lang::Zh,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
}

/// The text of a key in a language; the key itself if it is unknown.
pub fn t(lang: Lang, key: &'static str) -> &'static str {
    let (zh, en) = match key {
        "app" => (
            "马上办 · 12345政务服务便民热线",
            "Mashangban · 12345 hotline",
        ),
        "login" => ("登录", "Log in"),
        "logout" => ("退出", "Log out"),
        "username" => ("用户名", "Username"),
        "password" => ("密码", "Password"),
        "wrong_login" => ("用户名或密码错误", "Wrong username or password"),
        "required" => ("必填", "Required"),
        "home" => ("工作台", "Home"),
        "tickets" => ("工单查询", "Tickets"),
        "number" => ("工单编号", "Number"),
        "title" => ("标题", "Title"),
        "state" => ("状态", "State"),
        "channel" => ("渠道", "Channel"),
        "kind" => ("类型", "Kind"),
        "created" => ("受理时间", "Received"),
        "citizen" => ("市民", "Citizen"),
        "phone" => ("电话", "Phone"),
        "address" => ("地址", "Address"),
        "category" => ("分类", "Category"),
        "division" => ("区划", "Division"),
        "lead_unit" => ("主办单位", "Lead unit"),
        "co_units" => ("协办单位", "Co-units"),
        "tier" => ("处置时限", "Tier"),
        "alert" => ("时限状态", "Deadline alert"),
        "supervision" => ("督办级别", "Supervision"),
        "days" => ("天", "days"),
        "content" => ("诉求内容", "Request"),
        "timeline" => ("办理过程", "Timeline"),
        "reply" => ("答复", "Reply"),
        "none" => ("无", "none"),
        "all" => ("全部", "All"),
        "filter" => ("查询", "Filter"),
        "next_page" => ("下一页", "Next page"),
        "empty" => ("没有符合条件的工单", "No tickets match"),
        "my_queue" => ("我的待办", "My queue"),
        "confidential" => ("保密", "Confidential"),
        "csrf" => (
            "页面已过期或来自其他网站，请刷新后重试",
            "The form expired or came from another site; reload and try again",
        ),
        "not_found" => (
            "工单不存在或无权查看",
            "Ticket not found or not visible to you",
        ),
        "language" => ("English", "中文"),
        "role" => ("角色", "Role"),
        "actions" => ("可办理操作", "Actions"),
        "intake" => ("受理登记", "Intake"),
        "patrol" => ("网格上报", "Patrol report"),
        "grid_desk" => ("网格员工作台", "Grid worker's desk"),
        "deadline" => ("办理时限", "Handling time"),
        "extension_pending" => ("延期待批", "Extension pending"),
        "working_days" => ("个工作日", "working days"),
        "more" => ("查看全部…", "See all…"),
        "dispatch_desk" => ("派单台", "Dispatcher desk"),
        "unit_queue" => ("承办工作台", "Unit work queue"),
        "callback_desk" => ("回访台", "Callback desk"),
        "board" => ("督办看板", "Supervision board"),
        "kpis" => ("考评排名", "Evaluation"),
        "dashboard" => ("领导驾驶舱", "Dashboard"),
        "warnings" => ("预警", "Warnings"),
        "knowledge" => ("知识库", "Knowledge base"),
        "cases" => ("典型案例", "Typical cases"),
        "topics" => ("每月一题", "Monthly topics"),
        "notices" => ("通知", "Notices"),
        "replied_at" => ("答复时间", "Replied"),
        "dispatched_at" => ("派单时间", "Dispatched"),
        "closed_at" => ("办结时间", "Closed"),
        "export" => ("导出当前列表", "Export this list"),
        "reset" => ("清空条件", "Clear"),
        "unit" => ("承办单位", "Unit"),
        "district" => ("区县", "District"),
        "created_from" => ("受理日期自", "Received from"),
        "created_to" => ("至", "to"),
        "admin" => ("系统管理", "Administration"),
        "revealed_audited" => (
            "已显示完整联系方式（已记录审计）",
            "Full contact shown (audited)",
        ),
        "search_units" => ("搜索单位名称", "Search units"),
        _ => (key, key),
    };
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

/// A validation message from the application, in the console's language. The application
/// speaks English (the API's language); the console shows Chinese users the same rule in
/// Chinese, keeping the values the message names. Unknown messages pass through unchanged.
pub fn message(lang: Lang, msg: &str) -> String {
    if lang == Lang::En {
        return msg.to_string();
    }
    // The quoted value a message names, e.g. "`abc` is not a code" → "abc".
    let quoted = || {
        msg.split('`')
            .nth(1)
            .map(|v| format!("“{v}”"))
            .unwrap_or_default()
    };
    let number_after = |marker: &str| -> String {
        msg.split(marker)
            .nth(1)
            .map(|r| r.chars().take_while(|c| c.is_ascii_digit()).collect())
            .unwrap_or_default()
    };
    let rules: [(&str, &dyn Fn() -> String); 30] = [
        ("is required and must not be empty", &|| {
            "必填，不能为空".into()
        }),
        ("is not a phone number", &|| {
            format!(
                "{}不是有效的电话号码（3到20位数字，可含 + - ( ) 和空格）",
                quoted()
            )
        }),
        ("is not a category", &|| {
            format!("{}不是有效的诉求分类编码", quoted())
        }),
        ("is not a division", &|| {
            format!("{}不是有效的行政区划编码", quoted())
        }),
        ("is not a code", &|| {
            format!("{}不是有效的编码（字母、数字、“-”或“_”）", quoted())
        }),
        ("is not a date", &|| {
            format!("{}不是日期（YYYY-MM-DD）", quoted())
        }),
        ("is not a number", &|| format!("{}不是数字", quoted())),
        ("is not an id", &|| format!("{}不是有效的编号", quoted())),
        ("is not a handling tier", &|| {
            "不是有效的处置时限（1、3、7、11天）".into()
        }),
        ("is not a tier", &|| {
            "不是有效的处置时限（1、3、7、11天）".into()
        }),
        ("must be bound to a unit", &|| {
            "承办人员和网格员必须绑定所属单位".into()
        }),
        (
            "only a unit_handler or a grid_worker is bound to a unit",
            &|| "只有承办人员和网格员可以绑定单位，请清空所属单位".into(),
        ),
        ("a grid_worker works in a community", &|| {
            "网格员须绑定所在社区（居委会/村委会）".into()
        }),
        ("where the matter was found on patrol", &|| {
            "必填：巡查发现问题的地点".into()
        }),
        ("a meeting is recorded once held", &|| {
            "议事会召开后再登记：日期不能晚于今天".into()
        }),
        ("must be at least 8 characters", &|| "至少8个字符".into()),
        ("must be 2 to 32 characters", &|| {
            "须为2到32个字母、数字或“.”“_”“-”".into()
        }),
        ("characters long; at most", &|| {
            format!("内容过长，最多{}个字符", number_after("at most "))
        }),
        ("must be 1 to", &|| {
            format!("长度须为1到{}个字符", number_after("must be 1 to "))
        }),
        ("working days", &|| {
            format!("须为1到{}个工作日", number_after("between 1 and "))
        }),
        ("the lead unit cannot also be a co-unit", &|| {
            "主办单位不能同时作为协办单位".into()
        }),
        ("is listed twice", &|| "同一单位重复选择".into()),
        ("does not exist", &|| "所选单位不存在或已停用".into()),
        ("is required: resolved, partly or unresolved", &|| {
            "请选择解决情况".into()
        }),
        ("is required: satisfied, basically or dissatisfied", &|| {
            "请选择满意度".into()
        }),
        ("cannot be merged into itself", &|| {
            "工单不能并入自身".into()
        }),
        ("already exists", &|| "已存在，请换一个".into()),
        ("a repeat request joins an open ticket", &|| {
            format!(
                "工单{}已办结，重复诉求只能并入未办结的工单",
                msg.split(' ').nth(2).unwrap_or("")
            )
        }),
        ("follows that ticket; clear the answer", &|| {
            "并入未办结工单的诉求随原工单办理，不能同时直接答复：请清空答复，或作为新诉求保存"
                .into()
        }),
        ("merge_into", &|| "要并入的工单不存在".into()),
    ];
    for (needle, zh) in rules {
        if msg.contains(needle) {
            return zh();
        }
    }
    msg.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_messages_read_in_chinese() {
        assert_eq!(
            message(Lang::Zh, "is required and must not be empty"),
            "必填，不能为空"
        );
        assert_eq!(
            message(
                Lang::Zh,
                "`abc` is not a phone number (3 to 20 digits, with optional + - ( ) and spaces)"
            ),
            "“abc”不是有效的电话号码（3到20位数字，可含 + - ( ) 和空格）"
        );
        assert_eq!(
            message(
                Lang::Zh,
                "is 20001 characters long; at most 20000 are allowed"
            ),
            "内容过长，最多20000个字符"
        );
        assert_eq!(
            message(Lang::Zh, "must be 1 to 200 characters"),
            "长度须为1到200个字符"
        );
        assert_eq!(message(Lang::Zh, "something new"), "something new");
        assert_eq!(
            message(Lang::En, "is required and must not be empty"),
            "is required and must not be empty"
        );
    }
}
