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
        _ => (key, key),
    };
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}
