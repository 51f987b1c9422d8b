//! `mashangban seed xining`: Xining's divisions, its government units, the hotline centre,
//! city departments and public utilities, and a default category taxonomy.

use crate::{App, AppError};
use mashangban_domain::{Category, Division, DivisionLevel, NewUnit, UnitKind};

/// The divisions of 西宁市, shipped with the binary.
pub const XINING_DIVISIONS_CSV: &str = include_str!("../data/xining_divisions.csv");

/// The hotline centre's unit code.
pub const HOTLINE_UNIT: &str = "HOTLINE";

/// City departments and public utilities: (code, name, kind).
pub const CITY_UNITS: &[(&str, &str, UnitKind)] = &[
    (
        "DEPT-ZJ",
        "西宁市住房和城乡建设局",
        UnitKind::CityDepartment,
    ),
    (
        "DEPT-FC",
        "西宁市房地产服务中心(物业监管)",
        UnitKind::CityDepartment,
    ),
    ("DEPT-CG", "西宁市城市管理局", UnitKind::CityDepartment),
    (
        "DEPT-JJ",
        "西宁市公安局交通警察支队",
        UnitKind::CityDepartment,
    ),
    ("DEPT-GA", "西宁市公安局", UnitKind::CityDepartment),
    (
        "DEPT-SCJG",
        "西宁市市场监督管理局",
        UnitKind::CityDepartment,
    ),
    ("DEPT-STHJ", "西宁市生态环境局", UnitKind::CityDepartment),
    ("DEPT-JY", "西宁市教育局", UnitKind::CityDepartment),
    ("DEPT-WJ", "西宁市卫生健康委员会", UnitKind::CityDepartment),
    ("DEPT-YB", "西宁市医疗保障局", UnitKind::CityDepartment),
    (
        "DEPT-RS",
        "西宁市人力资源和社会保障局",
        UnitKind::CityDepartment,
    ),
    ("DEPT-MZ", "西宁市民政局", UnitKind::CityDepartment),
    ("DEPT-SW", "西宁市水务局", UnitKind::CityDepartment),
    ("DEPT-JT", "西宁市交通运输局", UnitKind::CityDepartment),
    (
        "DEPT-ZRZY",
        "西宁市自然资源和规划局",
        UnitKind::CityDepartment,
    ),
    ("DEPT-NY", "西宁市农业农村局", UnitKind::CityDepartment),
    (
        "DEPT-ZWFW",
        "西宁市政务服务监督管理局",
        UnitKind::CityDepartment,
    ),
    ("UTIL-WATER", "西宁市供水公司", UnitKind::Enterprise),
    ("UTIL-HEAT", "西宁市供热公司", UnitKind::Enterprise),
    ("UTIL-GAS", "西宁市燃气公司", UnitKind::Enterprise),
    ("UTIL-POWER", "国网西宁供电公司", UnitKind::Enterprise),
];

/// The default taxonomy: (code, name, default tier). Codes are hierarchical, 2 digits a level.
pub const DEFAULT_CATEGORIES: &[(&str, &str, Option<u8>)] = &[
    ("01", "城乡建设", None),
    ("0101", "市政设施", None),
    ("010101", "道路破损", Some(7)),
    ("010102", "井盖缺失破损", Some(1)),
    ("010103", "路灯照明", Some(3)),
    ("010104", "排水管网堵塞", Some(3)),
    ("0102", "水电气暖", None),
    ("010201", "停水及水压", Some(1)),
    ("010202", "供暖不热", Some(1)),
    ("010203", "燃气供应", Some(1)),
    ("010204", "生活供电", Some(1)),
    ("0103", "住房与物业", None),
    ("010301", "物业服务", Some(7)),
    ("010302", "老旧小区改造", Some(11)),
    ("010303", "不动产登记", Some(11)),
    ("010304", "房屋漏水及质量", Some(7)),
    ("0104", "城市管理", None),
    ("010401", "占道经营", Some(3)),
    ("010402", "违法建设", Some(11)),
    ("010403", "环境卫生与垃圾清运", Some(3)),
    ("010404", "园林绿化", Some(7)),
    ("02", "交通运输", None),
    ("0201", "道路交通秩序", None),
    ("020101", "违法停车", Some(3)),
    ("020102", "交通信号设施", Some(3)),
    ("020103", "道路拥堵", Some(7)),
    ("0202", "公共交通", None),
    ("020201", "公交线路", Some(7)),
    ("020202", "出租车服务", Some(3)),
    ("020203", "公交站点设施", Some(7)),
    ("03", "生态环境", None),
    ("0301", "大气污染", None),
    ("030101", "油烟扰民", Some(7)),
    ("030102", "扬尘污染", Some(3)),
    ("0302", "噪声污染", None),
    ("030201", "施工噪声", Some(1)),
    ("030202", "社会生活噪声", Some(3)),
    ("0303", "水污染", None),
    ("030301", "污水排放", Some(7)),
    ("04", "市场监管", None),
    ("0401", "食品安全", None),
    ("040101", "餐饮卫生", Some(7)),
    ("040102", "过期变质食品", Some(3)),
    ("0402", "消费维权", None),
    ("040201", "预付卡退费", Some(11)),
    ("040202", "价格违法", Some(7)),
    ("040203", "商品质量", Some(7)),
    ("05", "劳动和社会保障", None),
    ("0501", "劳动关系", None),
    ("050101", "拖欠工资", Some(7)),
    ("050102", "劳动合同", Some(7)),
    ("0502", "社会保险", None),
    ("050201", "养老保险", Some(3)),
    ("050202", "医疗保险报销", Some(3)),
    ("050203", "失业保险", Some(3)),
    ("0503", "就业创业", None),
    ("050301", "就业服务", Some(3)),
    ("06", "教育", None),
    ("0601", "学前教育", None),
    ("060101", "幼儿园收费", Some(7)),
    ("0602", "义务教育", None),
    ("060201", "入学招生", Some(3)),
    ("060202", "校外培训", Some(7)),
    ("07", "卫生健康", None),
    ("0701", "医疗服务", None),
    ("070101", "医疗服务态度", Some(7)),
    ("070102", "医疗收费", Some(7)),
    ("0702", "公共卫生", None),
    ("070201", "疫苗接种", Some(3)),
    ("070202", "病媒生物防治", Some(7)),
    ("08", "民政", None),
    ("0801", "养老服务", None),
    ("080101", "养老机构", Some(7)),
    ("080102", "高龄补贴", Some(3)),
    ("0802", "社会救助", None),
    ("080201", "最低生活保障", Some(7)),
    ("080202", "临时救助", Some(3)),
    ("09", "公安", None),
    ("0901", "户籍证件", None),
    ("090101", "户口办理", Some(3)),
    ("090102", "身份证办理", Some(3)),
    ("0902", "治安管理", None),
    ("090201", "治安隐患", Some(1)),
    ("10", "政务服务", None),
    ("1001", "办事咨询", None),
    ("100101", "政策咨询", Some(1)),
    ("100102", "办事流程", Some(1)),
    ("1002", "工作作风", None),
    ("100201", "服务态度", Some(7)),
    ("100202", "办事效率", Some(7)),
    ("11", "农业农村", None),
    ("1101", "农村管理", None),
    ("110101", "农村宅基地", Some(11)),
    ("110102", "惠农补贴", Some(7)),
    ("12", "其他", None),
    ("1201", "表扬建议", None),
    ("120101", "表扬", Some(3)),
    ("120102", "意见建议", Some(7)),
    ("1299", "其他事项", None),
    ("129901", "其他", Some(3)),
];

/// The words citizens use for each default leaf category (space-separated), written for
/// the project: with them the classifier proposes sensible categories before any ticket
/// is closed. Administrators change them (系统管理 → 诉求分类).
pub const DEFAULT_KEYWORDS: &[(&str, &str)] = &[
    (
        "010101",
        "路面 坑洼 塌陷 破损 裂缝 人行道 地砖 道路维修 路面下沉",
    ),
    ("010102", "井盖 窨井 丢失 松动 破损 下陷 井口 绊倒"),
    ("010103", "路灯 不亮 灯杆 照明 黑灯 亮化 灯坏"),
    (
        "010104",
        "下水道 下水管 污水管 排水 堵塞 堵了 污水井 化粪池 返水 倒灌 冒水 外溢 疏通 雨水井 积水 地下室 掏粪",
    ),
    (
        "010201",
        "停水 水压 自来水 没水 水小 供水 水管 爆管 水质 发黄",
    ),
    ("010202", "暖气 供暖 供热 不热 室温 暖气片 采暖 地暖 取暖费"),
    (
        "010203",
        "燃气 天然气 燃气表 通气 充值 燃气灶 气压 开户 液化气",
    ),
    ("010204", "停电 供电 电压 电表 跳闸 电费 断电 线路"),
    (
        "010301",
        "物业 物业费 电梯 保洁 保安 小区管理 业委会 维修基金 门禁",
    ),
    ("010302", "老旧小区 改造 加装电梯 楼道 外墙 保温 管网改造"),
    ("010303", "房产证 不动产 产权 过户 登记 办证 网签 备案"),
    (
        "010304",
        "漏水 渗水 房屋质量 墙皮 开裂 防水 楼顶 顶层 裂缝 交房",
    ),
    ("010401", "占道 摊贩 摆摊 流动商贩 夜市 店外经营 出店"),
    ("010402", "违建 违章 搭建 彩钢房 私搭乱建 加盖 拆除 侵占"),
    (
        "010403",
        "垃圾 清运 垃圾桶 保洁 环卫 清扫 满溢 垃圾分类 卫生死角 建筑垃圾",
    ),
    ("010404", "绿化 树木 修剪 砍伐 草坪 绿地 枯树 树枝 公园"),
    (
        "020101",
        "停车 乱停 违停 占用 消防通道 堵门 车位 挡路 僵尸车",
    ),
    (
        "020102",
        "红绿灯 信号灯 斑马线 标线 标志牌 护栏 交通设施 配时",
    ),
    ("020103", "拥堵 堵车 交通 高峰 路口 通行 绕行 限行"),
    (
        "020201",
        "公交 线路 班次 首末班 发车 公交车 直达 增开 调整线路",
    ),
    ("020202", "出租车 网约车 拒载 绕路 打表 议价 司机 乱收费"),
    ("020203", "公交站 站牌 候车亭 站点 站台 增设站点"),
    ("030101", "油烟 餐馆 饭馆 烧烤 排烟 异味 直排 净化器"),
    ("030102", "扬尘 粉尘 灰尘 工地 渣土 裸土 覆盖 洒水"),
    ("030201", "施工 噪音 工地 夜间施工 打桩 机器 轰鸣 扰民"),
    ("030202", "噪音 广场舞 音响 喇叭 装修 吵闹 叫卖 扰民 歌厅"),
    (
        "030301",
        "偷排 直排 河道 水体 黑臭 排污口 工厂 企业 养殖 河水",
    ),
    (
        "040101",
        "餐饮 后厨 卫生 老鼠 苍蝇 吃坏 食物中毒 无证 小吃店",
    ),
    ("040102", "过期 变质 食品 超市 发霉 保质期 假冒 食品安全"),
    (
        "040201",
        "预付卡 办卡 会员卡 退费 退款 跑路 健身房 美容 培训卡 关门",
    ),
    ("040202", "价格 乱收费 涨价 明码标价 收费标准 多收 欺诈"),
    ("040203", "质量 假货 三无 售后 退货 换货 维修 商家 投诉商家"),
    (
        "050101",
        "拖欠工资 欠薪 工资 讨薪 农民工 工钱 包工头 老板 结算",
    ),
    (
        "050102",
        "劳动合同 辞退 解除 加班 社保缴纳 试用期 补偿金 仲裁 用人单位",
    ),
    ("050201", "养老保险 退休 养老金 缴费年限 社保 退休金 认证"),
    ("050202", "医保 报销 异地就医 备案 医疗保险 门诊 住院 慢病"),
    ("050203", "失业保险 失业金 失业 领取 稳岗"),
    ("050301", "就业 招聘 求职 培训 创业 贷款 岗位 公益岗"),
    ("060101", "幼儿园 保教费 收费 入园 托育 学前"),
    ("060201", "入学 招生 划片 学区 报名 转学 学位 小学 初中"),
    ("060202", "培训机构 补课 校外培训 辅导班 退费 违规补课"),
    ("070101", "医院 医生 护士 态度 看病 挂号 排队 诊所 就医"),
    ("070102", "医疗收费 药费 检查费 乱收费 收费 医药费 过度医疗"),
    ("070201", "疫苗 接种 预防针 防疫 儿童接种 狂犬疫苗"),
    ("070202", "老鼠 蟑螂 蚊子 苍蝇 消杀 灭鼠 病媒"),
    ("080101", "养老院 敬老院 养老机构 护理 老人 日间照料"),
    ("080102", "高龄补贴 高龄津贴 八十岁 老年人 补贴 申领"),
    ("080201", "低保 最低生活保障 困难 救助金 低保户 申请低保"),
    ("080202", "临时救助 困难 急难 救助 生活困难 大病"),
    ("090101", "户口 落户 迁移 户籍 迁入 迁出 分户 随迁"),
    ("090102", "身份证 补办 换领 挂失 居住证 证件"),
    ("090201", "治安 盗窃 偷 打架 赌博 可疑 安全隐患 纠纷 监控"),
    ("100101", "政策 咨询 规定 条件 标准 文件 补贴政策"),
    ("100102", "办事 流程 材料 窗口 办理 手续 网上办 预约"),
    ("100201", "态度 工作人员 推诿 刁难 冷漠 服务差"),
    ("100202", "效率 拖延 办不了 跑多次 久拖不决 不作为"),
    ("110101", "宅基地 农村 建房 村集体 审批 翻建"),
    ("110102", "惠农 补贴 种粮 农机 耕地 草原 补助 退耕"),
    ("120101", "表扬 感谢 点赞 好评 锦旗 热心"),
    ("120102", "建议 意见 改进 提议 献策"),
    ("129901", "其他"),
];

/// The hotlines merged into 12345 (整合热线): number, name, the category a call on it is
/// given when the operator names none, and the code of the unit that owns it.
pub const DEFAULT_LINES: &[(&str, &str, Option<&str>, Option<&str>)] = &[
    ("12369", "环保举报热线", Some("03"), Some("DEPT-STHJ")),
    (
        "12315",
        "市场监管投诉举报热线",
        Some("04"),
        Some("DEPT-SCJG"),
    ),
    (
        "12333",
        "人力资源和社会保障热线",
        Some("05"),
        Some("DEPT-RS"),
    ),
    ("12319", "城建服务热线", Some("01"), Some("DEPT-CG")),
    ("12320", "卫生健康热线", Some("07"), Some("DEPT-WJ")),
    ("12393", "医保服务热线", Some("0502"), Some("DEPT-YB")),
    ("12318", "文化市场举报热线", None, None),
];

/// Parses the shipped division CSV.
pub fn parse_divisions(csv_text: &str) -> Result<Vec<Division>, AppError> {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let mut out = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec =
            rec.map_err(|e| AppError::invalid("divisions", format!("line {}: {e}", i + 2)))?;
        let field = |n: usize| rec.get(n).unwrap_or("").trim().to_string();
        let level: DivisionLevel = field(2)
            .parse()
            .map_err(|e| AppError::invalid("divisions", format!("line {}: {e}", i + 2)))?;
        let parent = field(3);
        out.push(Division {
            code: field(0),
            name: field(1),
            level,
            // The city's parent (the province) is not part of the data set.
            parent_code: (level != DivisionLevel::City && !parent.is_empty()).then_some(parent),
            population: None,
        });
    }
    Ok(out)
}

/// The default categories as records.
pub fn default_categories() -> Vec<Category> {
    DEFAULT_CATEGORIES
        .iter()
        .map(|(code, name, tier)| {
            let c = mashangban_domain::CategoryCode::new(code);
            Category {
                code: code.to_string(),
                name: name.to_string(),
                parent_code: c.parent().map(str::to_string),
                level: c.level(),
                default_tier: *tier,
                active: true,
                description: String::new(),
                keywords: DEFAULT_KEYWORDS
                    .iter()
                    .find(|(c, _)| c == code)
                    .map(|(_, k)| k.split_whitespace().map(str::to_string).collect())
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// The government unit name of a division: 城东区 → 城东区人民政府,
/// 东关大街街道 → 东关大街街道办事处, 鲁沙尔镇 → 鲁沙尔镇人民政府; committees keep their name.
pub fn unit_name_for(d: &Division) -> String {
    match d.level {
        DivisionLevel::District | DivisionLevel::City | DivisionLevel::Province => {
            format!("{}人民政府", d.name)
        }
        DivisionLevel::Street if d.name.ends_with("街道") => format!("{}办事处", d.name),
        DivisionLevel::Street => format!("{}人民政府", d.name),
        DivisionLevel::Community => d.name.clone(),
    }
}

/// The unit code of a division's government unit.
pub fn unit_code_for(d: &Division) -> String {
    match d.level {
        DivisionLevel::Community => format!("COM-{}", d.code),
        _ => format!("GOV-{}", d.code),
    }
}

/// What `seed xining` loaded.
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub struct SeedReport {
    pub divisions: usize,
    pub units_created: usize,
    pub categories: usize,
    /// Official calendar exceptions loaded (for years the database did not know).
    pub calendar_days: usize,
    /// Merged hotlines added (those missing; administrators' edits stay).
    pub lines: usize,
}

impl App {
    /// Loads Xining: divisions, units, default categories and merged hotlines (skipping those
    /// that exist), and the official calendar for the years not yet known. Safe to run again: nothing is
    /// duplicated and administrators' edits stay.
    pub async fn seed_xining(&self) -> Result<SeedReport, AppError> {
        let divisions = parse_divisions(XINING_DIVISIONS_CSV)?;
        let mut report = SeedReport {
            divisions: self.store.upsert_divisions(&divisions).await?,
            ..Default::default()
        };

        let mut ensure = async |code: String,
                                name: String,
                                kind: UnitKind,
                                parent_id: Option<i64>,
                                division_code: Option<String>|
               -> Result<i64, AppError> {
            if let Some(u) = self.store.get_unit_by_code(&code).await? {
                return Ok(u.id);
            }
            report.units_created += 1;
            Ok(self
                .store
                .insert_unit(&NewUnit {
                    code,
                    name,
                    kind,
                    parent_id,
                    division_code,
                })
                .await?
                .id)
        };
        ensure(
            HOTLINE_UNIT.into(),
            "西宁市12345政务服务便民热线中心".into(),
            UnitKind::HotlineCentre,
            None,
            Some("630100".into()),
        )
        .await?;
        for (code, name, kind) in CITY_UNITS {
            ensure(
                code.to_string(),
                name.to_string(),
                *kind,
                None,
                Some("630100".into()),
            )
            .await?;
        }
        let mut unit_of_division = std::collections::HashMap::new();
        for d in divisions.iter().filter(|d| d.level != DivisionLevel::City) {
            let kind = match d.level {
                DivisionLevel::District => UnitKind::DistrictGovernment,
                DivisionLevel::Street => UnitKind::StreetOffice,
                _ => UnitKind::Community,
            };
            let parent = d
                .parent_code
                .as_ref()
                .and_then(|p| unit_of_division.get(p).copied());
            let id = ensure(
                unit_code_for(d),
                unit_name_for(d),
                kind,
                parent,
                Some(d.code.clone()),
            )
            .await?;
            unit_of_division.insert(d.code.clone(), id);
        }
        // Only the categories that are missing, and the default keywords of a category
        // that still has its default name and neither keywords nor a description (a
        // database from before them): administrators' changes stay.
        let have: std::collections::HashMap<String, Category> = self
            .store
            .list_categories()
            .await?
            .into_iter()
            .map(|c| (c.code.clone(), c))
            .collect();
        let missing: Vec<_> = default_categories()
            .into_iter()
            .filter_map(|c| match have.get(&c.code) {
                None => Some(c),
                Some(old)
                    if old.name == c.name
                        && old.keywords.is_empty()
                        && old.description.is_empty()
                        && !c.keywords.is_empty() =>
                {
                    Some(Category {
                        keywords: c.keywords,
                        ..old.clone()
                    })
                }
                Some(_) => None,
            })
            .collect();
        report.categories = if missing.is_empty() {
            0
        } else {
            self.store.upsert_categories(&missing).await?
        };
        report.calendar_days = self.seed_calendar().await?;
        report.lines = self.seed_lines().await?;
        self.invalidate_reference();
        Ok(report)
    }
}

impl App {
    /// The merged hotlines that are missing, with their category and owner.
    async fn seed_lines(&self) -> Result<usize, AppError> {
        let have: std::collections::HashSet<String> = self
            .store
            .lines()
            .await?
            .into_iter()
            .map(|l| l.number)
            .collect();
        let mut added = 0;
        for (number, name, category, unit) in DEFAULT_LINES {
            if have.contains(*number) {
                continue;
            }
            let unit_id = match unit {
                Some(code) => self.store.get_unit_by_code(code).await?.map(|u| u.id),
                None => None,
            };
            self.store
                .put_line(&mashangban_domain::channel::HotlineLine {
                    number: number.to_string(),
                    name: name.to_string(),
                    category_code: category.map(String::from),
                    unit_id,
                    active: true,
                })
                .await?;
            added += 1;
        }
        Ok(added)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_divisions_have_the_expected_counts() {
        let d = parse_divisions(XINING_DIVISIONS_CSV).unwrap();
        let count = |l| d.iter().filter(|x| x.level == l).count();
        assert_eq!(count(DivisionLevel::City), 1);
        assert_eq!(count(DivisionLevel::District), 7);
        assert_eq!(count(DivisionLevel::Street), 80);
        assert_eq!(count(DivisionLevel::Community), 1100);
        assert!(
            d.iter()
                .filter(|x| x.level != DivisionLevel::City)
                .all(|x| x.parent_code.is_some())
        );
    }

    #[test]
    fn category_codes_nest() {
        let cats = default_categories();
        let codes: std::collections::HashSet<_> = cats.iter().map(|c| c.code.clone()).collect();
        assert_eq!(codes.len(), cats.len(), "codes are unique");
        for c in &cats {
            if let Some(p) = &c.parent_code {
                assert!(codes.contains(p), "{} has parent {p}", c.code);
            }
            assert_eq!(
                c.default_tier.is_some(),
                c.level == 3,
                "leaves have tiers: {}",
                c.code
            );
            if let Some(t) = c.default_tier {
                assert!(mashangban_domain::TIERS.contains(&t));
            }
            // Every leaf comes with the words citizens use for it (cold start).
            assert_eq!(!c.keywords.is_empty(), c.level == 3, "keywords: {}", c.code);
        }
        for (code, _) in DEFAULT_KEYWORDS {
            assert!(
                cats.iter().any(|c| c.code == *code && c.level == 3),
                "{code}"
            );
        }
    }

    #[test]
    fn unit_names() {
        let d = |name: &str, level| Division {
            code: "1".into(),
            name: name.into(),
            level,
            parent_code: None,
            population: None,
        };
        assert_eq!(
            unit_name_for(&d("城东区", DivisionLevel::District)),
            "城东区人民政府"
        );
        assert_eq!(
            unit_name_for(&d("东关大街街道", DivisionLevel::Street)),
            "东关大街街道办事处"
        );
        assert_eq!(
            unit_name_for(&d("鲁沙尔镇", DivisionLevel::Street)),
            "鲁沙尔镇人民政府"
        );
        assert_eq!(
            unit_name_for(&d("贾小社区居民委员会", DivisionLevel::Community)),
            "贾小社区居民委员会"
        );
    }
}
