//! Reports as documents: standalone HTML that Word opens as it is (inline styles, plain
//! tables, no scripts), for the API, the console and the command line.

use crate::api_kpi::{percent, sheet};
use crate::docx::Block;
use mashangban_app::kpis::KpiTable;
use mashangban_app::reports::{DailyReport, MonthlyReport, date_zh};
use maud::{DOCTYPE, Markup, PreEscaped, html};

const STYLE: &str = "body{font-family:'SimSun','Songti SC','Noto Serif CJK SC',serif;font-size:14pt;line-height:1.6;margin:2em}\
h1{font-family:'SimHei','Noto Sans CJK SC',sans-serif;font-size:20pt;text-align:center;color:#c00}\
h2{font-family:'SimHei','Noto Sans CJK SC',sans-serif;font-size:15pt}\
p.date{text-align:center}\
table{border-collapse:collapse;font-size:10.5pt}\
td,th{border:1px solid #444;padding:2px 6px}\
th{background:#eee}\
td.n{text-align:right}\
@page{size:A4;margin:18mm}\
@media print{body{margin:0;font-size:12pt}h1{font-size:18pt}}";

fn document(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body { (body) }
        }
    }
    .into_string()
}

/// The daily report as a document.
pub fn daily_html(r: &DailyReport) -> String {
    let k = &r.kpis;
    document(
        &format!("{} {}", r.title, r.date),
        html! {
            h1 { (r.title) }
            p.date { (r.date.format("%Y年%m月%d日")) }
            p { (r.summary) }
            h2 { "热点问题：" }
            @if r.hot_issues.is_empty() {
                p { "当日无诉求。" }
            }
            @for h in &r.hot_issues {
                p { (h.text) }
            }
            h2 { "当日回访情况" }
            table {
                tr { th { "回访量" } th { "响应率" } th { "解决率" } th { "满意率" } th { "督办" } }
                tr {
                    td.n { (r.callbacks) }
                    td.n { (percent(k.response_rate)) }
                    td.n { (percent(k.resolution_rate)) }
                    td.n { (percent(k.satisfaction_rate)) }
                    td.n { (k.supervisions) }
                }
            }
            h2 { "分渠道受理" }
            table {
                tr { th { "渠道" } th { "件数" } }
                @for c in &r.by_channel {
                    tr { td { (c.name) } td.n { (c.requests) } }
                }
                tr { td { "合计" } td.n { (r.requests) } }
            }
        },
    )
}

fn kpi_table(t: &KpiTable) -> Markup {
    let (header, rows) = sheet(t);
    html! {
        table {
            tr { @for h in &header { th { (h) } } }
            @for row in &rows {
                tr {
                    @for (i, v) in row.iter().enumerate() {
                        @if i == 2 || i == 1 || i + 1 == row.len() { td { (v) } } @else { td.n { (v) } }
                    }
                }
            }
        }
    }
}

/// The outlook in the report's words: the groups expected most, then how the model did.
pub fn outlook_lines(o: &mashangban_app::seasonal::SeasonalOutlook) -> Vec<String> {
    if o.rows.is_empty() {
        return vec![format!(
            "{}月：历史数据不足一年，暂无同月对比预测。",
            o.month.get(5..).unwrap_or(&o.month).trim_start_matches('0')
        )];
    }
    let month = o
        .month
        .get(5..)
        .unwrap_or(&o.month)
        .trim_start_matches('0')
        .to_string();
    let mut lines: Vec<String> = o
        .rows
        .iter()
        .take(OUTLOOK_ROWS)
        .map(|r| {
            let mut s = format!("{}：预计{}月{:.0}件", r.category_name, month, r.expected);
            if let (Some(l), Some(h)) = (r.low, r.high) {
                s.push_str(&format!("（{:.0}–{:.0}件）", l, h));
            }
            if let Some(last) = r.same_month.first() {
                s.push_str(&format!("，{}年同月{}件", last.year, last.requests));
            }
            if let Some(c) = r.change_on_last_year {
                s.push_str(&format!(
                    "，{}{:.0}%",
                    if c >= 0.0 { "增" } else { "减" },
                    c.abs() * 100.0
                ));
            }
            s.push('。');
            s
        })
        .collect();
    let b = &o.backtest;
    let mut note = format!(
        "说明：按往年同月诉求量并以近{}个月较往年同期的增减调整；数据{}至{}。",
        o.rules.recent,
        o.history_from.as_deref().unwrap_or("-"),
        o.history_to
    );
    if let (Some(w), Some(n)) = (b.wape, b.naive_wape) {
        note.push_str(&format!(
            "回测{}个月份，加权绝对百分比误差{:.1}%（直接照搬去年同月为{:.1}%）",
            b.origins,
            w * 100.0,
            n * 100.0
        ));
    }
    if let Some(c) = o.coverage {
        note.push_str(&format!(
            "；{:.0}%预测区间在未参与拟合的{}个类别-月份上的实际覆盖率{:.1}%",
            o.rules.coverage * 100.0,
            b.evaluated,
            c * 100.0
        ));
    }
    note.push('。');
    lines.push(note);
    lines
}

/// Issue groups the report and the dashboard list from the outlook.
pub const OUTLOOK_ROWS: usize = 8;

/// The monthly report as a document.
pub fn monthly_html(r: &MonthlyReport) -> String {
    let city = r.city.rows.first();
    document(
        &r.title,
        html! {
            h1 { (r.title) }
            p.date { (date_zh(r.city.period.from)) "至" (date_zh(r.city.period.to)) }
            @if let Some(c) = city {
                p {
                    "本期共受理群众诉求" (c.kpis.requests) "件，回访" (c.kpis.callbacks) "件，响应率"
                    (percent(c.kpis.response_rate)) "，解决率" (percent(c.kpis.resolution_rate))
                    "，满意率" (percent(c.kpis.satisfaction_rate)) "，按期办结率" (percent(c.kpis.on_time_rate)) "。"
                    @if let Some(t) = &c.trend { "与上期相比，" (t) "。" }
                }
            }
            h2 { "一、承办单位考评排名" }
            (kpi_table(&r.units))
            h2 { "二、区县诉求情况" }
            (kpi_table(&r.districts))
            h2 { "三、诉求分类情况" }
            (kpi_table(&r.categories))
            h2 { "四、每月一题推进情况" }
            @if r.topics.is_empty() {
                p { "本月无在办的每月一题。" }
            }
            @for l in &r.topics {
                p { (l.text) }
            }
            h2 { "五、下月诉求预测（民情月历）" }
            @for l in outlook_lines(&r.outlook) {
                p { (l) }
            }
            p { "说明：综合得分按响应率、解决率、满意率、按期办结率、办结率加权计算；排名前" (format!("{:.0}%", r.units.policy.blue_share * 100.0)) "为蓝色区域，后" (format!("{:.0}%", r.units.policy.red_share * 100.0)) "为红色区域。" }
        },
    )
}

/// The daily report as a Word document (.docx).
pub fn daily_docx(r: &DailyReport) -> Result<Vec<u8>, String> {
    let k = &r.kpis;
    let mut blocks = vec![
        Block::Title(r.title.clone()),
        Block::Centred(r.date.format("%Y年%m月%d日").to_string()),
        Block::Paragraph(r.summary.clone()),
        Block::Heading("热点问题：".into()),
    ];
    if r.hot_issues.is_empty() {
        blocks.push(Block::Paragraph("当日无诉求。".into()));
    }
    blocks.extend(
        r.hot_issues
            .iter()
            .map(|h| Block::Paragraph(h.text.clone())),
    );
    blocks.push(Block::Heading("当日回访情况".into()));
    blocks.push(Block::Table(
        ["回访量", "响应率", "解决率", "满意率", "督办"]
            .map(String::from)
            .to_vec(),
        vec![vec![
            r.callbacks.to_string(),
            percent(k.response_rate),
            percent(k.resolution_rate),
            percent(k.satisfaction_rate),
            k.supervisions.to_string(),
        ]],
    ));
    blocks.push(Block::Heading("分渠道受理".into()));
    let mut rows: Vec<Vec<String>> = r
        .by_channel
        .iter()
        .map(|c| vec![c.name.clone(), c.requests.to_string()])
        .collect();
    rows.push(vec!["合计".into(), r.requests.to_string()]);
    blocks.push(Block::Table(vec!["渠道".into(), "件数".into()], rows));
    crate::docx::document(&format!("{} {}", r.title, r.date), &blocks, false)
}

fn kpi_block(t: &KpiTable) -> Block {
    let (header, rows) = sheet(t);
    Block::Table(header.iter().map(|h| h.to_string()).collect(), rows)
}

/// The monthly report as a Word document (.docx, landscape for its wide tables).
pub fn monthly_docx(r: &MonthlyReport) -> Result<Vec<u8>, String> {
    let mut blocks = vec![
        Block::Title(r.title.clone()),
        Block::Centred(format!(
            "{}至{}",
            date_zh(r.city.period.from),
            date_zh(r.city.period.to)
        )),
    ];
    if let Some(c) = r.city.rows.first() {
        blocks.push(Block::Paragraph(format!(
            "本期共受理群众诉求{}件，回访{}件，响应率{}，解决率{}，满意率{}，按期办结率{}。{}",
            c.kpis.requests,
            c.kpis.callbacks,
            percent(c.kpis.response_rate),
            percent(c.kpis.resolution_rate),
            percent(c.kpis.satisfaction_rate),
            percent(c.kpis.on_time_rate),
            c.trend
                .as_ref()
                .map(|t| format!("与上期相比，{t}。"))
                .unwrap_or_default()
        )));
    }
    blocks.push(Block::Heading("一、承办单位考评排名".into()));
    blocks.push(kpi_block(&r.units));
    blocks.push(Block::Heading("二、区县诉求情况".into()));
    blocks.push(kpi_block(&r.districts));
    blocks.push(Block::Heading("三、诉求分类情况".into()));
    blocks.push(kpi_block(&r.categories));
    blocks.push(Block::Heading("四、每月一题推进情况".into()));
    if r.topics.is_empty() {
        blocks.push(Block::Paragraph("本月无在办的每月一题。".into()));
    }
    blocks.extend(r.topics.iter().map(|l| Block::Paragraph(l.text.clone())));
    blocks.push(Block::Heading("五、下月诉求预测（民情月历）".into()));
    blocks.extend(outlook_lines(&r.outlook).into_iter().map(Block::Paragraph));
    blocks.push(Block::Paragraph(format!(
        "说明：综合得分按响应率、解决率、满意率、按期办结率、办结率加权计算；排名前{:.0}%为蓝色区域，后{:.0}%为红色区域。",
        r.units.policy.blue_share * 100.0,
        r.units.policy.red_share * 100.0
    )));
    crate::docx::document(&r.title, &blocks, true)
}
