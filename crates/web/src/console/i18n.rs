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
        "deadline" => ("办理时限", "Handling time"),
        "extension_pending" => ("延期待批", "Extension pending"),
        "working_days" => ("个工作日", "working days"),
        "more" => ("查看全部…", "See all…"),
        "dispatch_desk" => ("派单台", "Dispatcher desk"),
        "unit_queue" => ("承办工作台", "Unit work queue"),
        "callback_desk" => ("回访台", "Callback desk"),
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
