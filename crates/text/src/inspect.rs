//! Reply inspection (答复质检): a unit's reply read against the request it answers and the
//! ticket's record, before the reviewer approves it. Each finding says why and quotes the
//! words it rests on; none blocks an approval (the reviewer decides).
//!
//! The rules are written for how Chinese government replies are worded: greetings, thanks and
//! "forwarded to the department" carry nothing; an action is told with 已/经 and a verb
//! (`已责令整改`, `经现场核查`), a commitment with a date (`6月底前完成`); vagueness has its
//! stock phrases (`尽快`, `进一步加强`, `予以考虑`); passing the buck too (`不属于我单位职责`,
//! `建议通过司法途径解决`). Measured on real replies labelled by a written rubric
//! (`eval/replies/`, `mashangban replies eval`).

use std::sync::OnceLock;

use mashangban_domain::reply_check::{ReplyFinding, ReplyFindingKind as Kind, ReplyRecord};
use regex::Regex;

use crate::normalize::{fold, is_han};

/// How much of a text is read (a reply longer than this is rare and read in part).
const MAX_CHARS: usize = 20_000;

/// Below this many characters of substance (Han characters outside greetings, thanks,
/// acknowledgements and forwarding formulas), a reply says nothing about the matter.
const THIN_BELOW: usize = 24;

/// A question counts as taken up when the reply uses this many of its word pairs, or this
/// share of them.
const ADDRESSED_PAIRS: usize = 2;
const ADDRESSED_SHARE: f64 = 0.4;

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    // The patterns' bounded gaps over Unicode classes (`[^,。]{0,24}`) make many states: with
    // the default cache the lazy DFA gives up and the slow engine runs instead.
    cell.get_or_init(|| {
        regex::RegexBuilder::new(pattern)
            .dfa_size_limit(8 << 20)
            .build()
            .expect("a valid pattern")
    })
}

/// Formulas that carry nothing about the matter: greetings, acknowledgements, forwarding,
/// thanks, sign-offs, dates and the platform's names.
fn boilerplate() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"(?x)
        尊敬的|网友|网民|朋友|来信人|诉求人|信访人|您好|你好|首先|
        (您|你)?(的|所)?(来信|留言|来邮|信件|网帖|帖文|反映的?(问题|情况)?|问题|咨询)(已|我们已|我[局办委所镇])?(经)?(收悉|收到|获悉|阅悉|知悉)|
        (已|我[局办委所镇中心]*已?)?(收悉|获悉|阅悉|知悉)|
        现(将|就)?(有关|相关|具体)?(情况|问题|调查处理情况|办理情况)?(回复|答复|报告|汇报)如下|(现)?(回复|答复)如下|
        (我们|我[局办委所镇中心])?(领导)?(高度|非常|十分)重视|
        (已|我[局办委所镇]已?)?(转|转交|交|交由|转至|转给)(有关|相关)?(部门|单位)?[^,。]{0,12}(调查|核实|核处|处理|办理|办复|答复|反馈)+|
        如有(相关)?(情况|进展|结果)[^,。]{0,6}(及时|将)[^,。]{0,4}(反馈|回复|告知)|有关情况将及时反馈|
        (此事|该问题)?(已受理)?,?正在(调查|核查|核实|处理|办理)+(中|之中)|因时间原因,?先行回复|
        (已将|已)[^,。]{0,24}(反馈|转|转交|交办)(至|给)[^,。]{0,16}|
        [^,。]{0,12}(稍欠具体|不够具体|过于笼统|不够清[楚晰]|更清[晰析])[^,。]{0,20}|
        (建议|请)(您|你)?(提供|留下)[^,。]{0,20}|
        感谢(您|你|网友|广大)?[^,。]{0,16}(关心|关注|支持|理解|监督|信任|建议|留言|问政|来信)+|谢谢(您|你)?|
        (欢迎|希望)[^,。]{0,20}(监督|支持|关注|理解)|祝(您|你)?(生活|工作)?愉快|特此(回复|函复|复函)|此复|
        \d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|uu\d+",
    )
}

/// An action taken or under way, told as done: `已责令…`, `经现场核查`, `立即组织…`.
fn action() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"(?x)
        (已|已经|已于|立即|当即|随即|及时|现已|目前已|第一时间|并于|先后|多次)[^,。;]{0,14}?
        (安排|组织|派|责令|要求|督促|约谈|清理|清运|清除|维修|修复|更换|整改|拆除|查处|处罚|罚款|
         调查|核查|核实|联系|疏通|安装|完成|开通|签订|召开|立案|下达|制定|停止|暂停|停工|关闭|取缔|
         恢复|开展|申报|纳入|列入|协调|封闭|设立|增设|调整|发放|移交|办理|告知|检测|测试|巡查|制止|
         拘留|出台|启动|铺设|改造|建成|处置|劝导|消毒|送达|补缴|退还|赔偿)|
        经(查|核实|核查|调查|了解|现场|实地|排查|检查|测试|检测|研究)|
        \d{1,2}\s*月\s*\d{1,2}\s*日[^,。]{0,16}(到|前往|对|组织|召开|安排|进行|开展|签订|发放|完成)",
    )
}

/// A concrete answer to a question: a rule, a figure, a procedure, what may or may not be.
fn answer() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"(?x)
        《[^》]{2,60}》|第[一二三四五六七八九十百零\d]+条|规定|根据|按照|依据|标准为|
        需(要)?(提供|满足|携带|办理|持|凭)|可以|可(向|到|凭|在|申请|通过|拨打|致电|持)|不能|不得|
        无法|不符合|符合|不存在|属实|不属实|目前没有|暂无|目前无|
        [一二两三四五六七八九十\d]+\s*(种|项|类|条)|
        \d+(\.\d+)?\s*(元|万元|%|个|人|天|小时|分钟|公里|米|平方米|户|台|辆|趟|次)",
    )
}

/// Where to look or whom to call: a concrete answer to a question, not to a complaint.
fn pointer() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"网站|栏目|窗口|热线|电话|app|公众号")
}

/// A date or a time limit for what is promised.
fn deadline() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"(?x)
        \d{1,2}\s*月(\s*\d{1,2}\s*日)?(前|底|内|之前|中旬|下旬|上旬|开始|起|完成|建成|开通|通车|动工|施工)|
        \d{4}\s*年(内|底|前|上半年|下半年|\d{1,2}\s*月)|
        年底|年内|月底|本月|下月|今年|明年|
        (\d+|[一二三四五六七八九十两半])\s*个?(工作日|日|天|周|星期|月)(内|之内|以内|后)|
        预计[^,。]{0,12}(\d|年底|年内|月底)",
    )
}

/// Stock phrases of a vague commitment: without a date they promise nothing.
fn vague() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"(?x)
        尽快|尽早|早日|及早|适时|逐步|
        正在(研究|论证|协调)|研究讨论|积极(协调|争取|研究|筹措)|
        (列入|纳入)[^,。]{0,10}(计划|考虑|规划)|(予以|认真|充分|一并)(予以)?考虑|
        待[^,。]{0,12}(条件|资金|时机)[^,。]{0,4}(成熟|具备|落实|允许|到位)|条件具备后|
        争取|力争|近期(将|会)?(启动|开始|安排)|将[^,。]{0,12}(如实)?(上报|反映给)",
    )
}

/// The stock phrases of doing better in general (`进一步加强管理`): a promise only in a
/// reply that has nothing else, a closing formula otherwise.
fn generic() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"(?x)
        正在(核查|调查|处理|审批|商谈|办理|推进)|积极(推进|对接)|
        进一步(加强|加大|完善|规范|做好|推进|落实|听取)|加大[^,。]{0,6}力度|加强(管理|监管|巡查|整治|监督|调度)|
        持续关注|继续(督促|关注|跟踪|协调|做好)",
    )
}

/// What says the matter is settled: a vague word after it is a closing formula.
fn settled() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"(?x)
        (已|已经|现已|目前已)(全部|基本)?(完成|恢复|解决|整改到位|拆除|清理|修复|疏通|取缔|关闭|停工|开通|
         安装|办结|消除|退还|发放|处罚|罚款|停止)|
        得到(解决|改善|落实)|恢复正常",
    )
}

/// "Not our business": the unit declines the matter.
fn declined() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"(?x)
        不(属于|属|在|归)(我|本)?(单位|局|部门|办|镇|乡|街道|区|县|委|中心|公司|所|处)?[^,。]{0,6}(职责|管辖|职能|管理|权限)(范围|范畴|权限)?|
        应由[^,。]{1,20}(负责|解决|处理|办理|答复)|
        超出(我|本)?[^,。]{0,6}(管理|职责|职能|管辖)(范畴|范围|权限)|
        由其(主管|上级)?(单位|部门)(回复|负责|处理)|
        (自行)(协商|解决|处理)",
    )
}

/// Sending the citizen to court, arbitration or the like.
fn to_court() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"(法律|司法|诉讼|仲裁)(途径|程序)|依法(起诉|诉讼)|向(人民)?法院|劳动(争议|仲裁)",
    )
}

/// Sending the citizen to ask elsewhere.
fn referral() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"(?x)
        (建议|请|可以?)(您|你)?(直接|及时)?(向|与|到|去|至|咨询|登录|登陆|拨打|致电|联系|关注)[^。]{0,40}?
        (咨询|联系|反映|反馈|办理|申请|查询|了解)?",
    )
}

/// Words that ask, wherever they stand.
fn asks() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"请问|是否|能否|可否|能不能|可不可以|有没有|有无|什么时候|何时|为什么|为何|怎么办|如何",
    )
}

/// Words that ask only in a clause ending with a question mark (`多少` also counts things).
fn asks_with_mark() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"多少|多久|哪里|哪些|哪个|怎样|怎么|什么|吗|呢")
}

/// Words of a rhetorical question, which vents rather than asks.
fn rhetorical() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"难道|岂|何来|天理|公理|还有没有|还管不管|怎么能|凭什么|猴年马月|是什么|又会如何|谁给|怎么才能|到底",
    )
}

/// Claims that the matter is finished.
fn claims_done() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"(已|已经)(全部)?(解决|办结|处理完毕|处理完成|整改到位|整改完毕|修复完毕|完成整改)|问题已[^,。]{0,4}解决|办理完毕",
    )
}

/// Claims that the citizen was contacted.
fn claims_contact() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"(已|已经)(与|和|同)?(您|你|市民|当事人|诉求人|来电人|来信人|投诉人)?(电话)?(联系|沟通|告知|回复)(了)?(您|你|市民|当事人|诉求人|来电人|来信人|投诉人)|(电话|当面)(联系|告知)了?(您|你|市民|当事人|诉求人)",
    )
}

fn mobile() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"1[3-9]\d(?:[ -]?\d){8}")
}

fn id_number() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dx]",
    )
}

/// Reads a reply against its request and the record. The findings come in the order of
/// [`Kind::ALL`], at most one of each kind.
pub fn inspect_reply(request: &str, reply: &str, record: &ReplyRecord) -> Vec<ReplyFinding> {
    let request: String = fold(request).chars().take(MAX_CHARS).collect();
    let reply: String = fold(reply).chars().take(MAX_CHARS).collect();
    let substance = substance(&reply);
    // Short and without an action: nothing about the matter. (A short reply that did
    // something, `已更换路灯灯泡`, says enough.)
    let thin = substance.chars().filter(|c| is_han(*c)).count() < THIN_BELOW
        && !action().is_match(&substance);
    let mut out = Vec::new();
    let mut add = |kind: Kind, why: String, evidence: Vec<String>| {
        out.push(ReplyFinding {
            kind,
            why,
            evidence,
        })
    };
    let has_action = action().is_match(&reply);
    let has_answer = answer().is_match(&substance) || pointer().is_match(&substance);
    let has_date = promise_sentences(&reply).any(|s| deadline().is_match(s));
    let buck = buck_passing(&reply, &substance, thin, has_action);
    // 诉求要点未回应
    if thin {
        add(
            Kind::UnaddressedPoint,
            "答复只有受理、转办或致谢的套话，没有回应来信反映的内容。".into(),
            Vec::new(),
        );
    } else if let Some(q) = unanswered_question(&request, &reply) {
        add(
            Kind::UnaddressedPoint,
            format!("来信问到“{q}”，答复中没有回应。"),
            vec![q],
        );
    } else if let Some((words, true)) = &buck {
        add(
            Kind::UnaddressedPoint,
            format!("答复只让来信人“{words}”，没有回答所反映、所问的内容。"),
            vec![words.clone()],
        );
    }
    // 无具体措施或时限
    if thin || !(has_action || has_answer || has_date) {
        add(
            Kind::NoAction,
            "答复没有说明已做或将做的具体事情、办理时限，也没有给出具体答案。".into(),
            Vec::new(),
        );
    }
    // 推诿
    if let Some((words, _)) = buck {
        add(
            Kind::BuckPassing,
            format!("答复以“{words}”把诉求推给别处，没有自己办理或答复实质问题。"),
            vec![words],
        );
    }
    // 空泛承诺
    if !thin
        && !settled().is_match(&reply)
        && let Some(words) = vague_promise(&reply, !(has_action || has_answer))
    {
        add(
            Kind::EmptyPromise,
            format!("“{words}”没有具体步骤或日期。"),
            vec![words],
        );
    }
    // 含他人个人信息
    let personal = personal_data(&reply, &record.citizen_phones);
    if !personal.is_empty() {
        add(
            Kind::PersonalData,
            "答复含有他人的手机号码或身份证号码，答复会发给市民并可能公开。".into(),
            personal,
        );
    }
    // 与记录矛盾
    if let Some((why, words)) = contradiction(&reply, record) {
        add(Kind::ContradictsRecord, why, vec![words]);
    }
    out
}

/// The reply without its formulas: what it says about the matter.
fn substance(reply: &str) -> String {
    boilerplate().replace_all(reply, "").into_owned()
}

/// The reply's sentences (split at `。`, `;`, `!`, `?` and line breaks).
fn promise_sentences(text: &str) -> impl Iterator<Item = &str> {
    text.split(['。', ';', '!', '?', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The first vague commitment without a date in its sentence; the general ones count only
/// in a reply with nothing concrete (`bare`). Words quoted from the request (“…”, or named
/// as `…的问题`) are not the reply's.
fn vague_promise(reply: &str, bare: bool) -> Option<String> {
    static QUOTED: OnceLock<Regex> = OnceLock::new();
    let quoted = re(&QUOTED, r"“[^”]*”|「[^」]*」|\u{22}[^\u{22}]*\u{22}");
    let reply = quoted.replace_all(reply, "");
    promise_sentences(&reply)
        .filter(|s| !deadline().is_match(s))
        .find_map(|s| {
            vague()
                .find_iter(s)
                .chain(generic().find_iter(s).filter(|_| bare))
                .find(|m| {
                    let after = &s[m.end()..];
                    !after.chars().take(8).collect::<String>().contains("的问题")
                })
                .map(|m| around(s, m.start(), m.end()))
        })
}

/// The clause a match stands in, to quote: from the punctuation before it to the
/// punctuation after it, at most a few words either side.
fn around(s: &str, start: usize, end: usize) -> String {
    let stop = |c: &char| matches!(c, ',' | '。' | ';' | '!' | '?' | ':' | '\n' | '、');
    let before: String = s[..start]
        .chars()
        .rev()
        .take(12)
        .take_while(|c| !stop(c))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let after: String = s[end..].chars().take(16).take_while(|c| !stop(c)).collect();
    shown(format!("{before}{}{after}", &s[start..end]).trim())
}

/// Words quoted back to a Chinese reader, with the punctuation folded for matching made
/// full-width again.
fn shown(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            ',' => '，',
            ';' => '；',
            ':' => '：',
            '?' => '？',
            '!' => '！',
            '(' => '（',
            ')' => '）',
            c => c,
        })
        .collect()
}

/// The words by which a reply declines the matter, if it does, and whether it does so by
/// sending the citizen to ask elsewhere.
fn buck_passing(
    reply: &str,
    substance: &str,
    thin: bool,
    has_action: bool,
) -> Option<(String, bool)> {
    if let Some(m) = declined().find(reply) {
        return Some((around(reply, m.start(), m.end()), false));
    }
    if !has_action && let Some(m) = to_court().find(reply) {
        return Some((around(reply, m.start(), m.end()), false));
    }
    // A referral is passing the buck when nothing else is said: the reply without it is
    // thin, with no answer in it.
    if let Some(m) = referral().find(substance) {
        let rest = format!("{}{}", &substance[..m.start()], &substance[m.end()..]);
        let rest_han = rest.chars().filter(|c| is_han(*c)).count();
        if thin || (rest_han < THIN_BELOW * 2 && !answer().is_match(&rest) && !has_action) {
            return Some((around(substance, m.start(), m.end()), true));
        }
    }
    None
}

/// The request's questions, each a clause that asks (numbered items split apart).
fn questions(request: &str) -> Vec<String> {
    static NUMBERED: OnceLock<Regex> = OnceLock::new();
    let numbered = re(
        &NUMBERED,
        r"(?:^|[\s。;!?,])(?:\d{1,2}|[一二三四五六七八九十])\s*[、.)）:]|第[一二三四五六七八九十]+[,、]|[一二三四五六七八九十]是",
    );
    let han = |s: &str| s.chars().filter(|c| is_han(*c)).count();
    let mut out = Vec::new();
    for sentence in request.split(['。', ';', '!', '\n']) {
        for part in numbered.split(sentence) {
            // A question ends at its question mark: what follows is another.
            for q in part.split_inclusive('?') {
                let marked = q.trim_end().ends_with('?');
                let clauses: Vec<&str> = q
                    .split([',', ':'])
                    .map(|c| c.trim().trim_end_matches('?'))
                    .filter(|c| !c.is_empty())
                    .collect();
                for (k, c) in clauses.iter().enumerate() {
                    let last = k + 1 == clauses.len();
                    let asking =
                        asks().is_match(c) || (marked && (last || asks_with_mark().is_match(c)));
                    if !asking || rhetorical().is_match(c) {
                        continue;
                    }
                    // A short question takes the clause before it as its subject.
                    let text = match k {
                        1.. if han(c) < 6 => format!("{},{c}", clauses[k - 1]),
                        _ => c.to_string(),
                    };
                    if han(&text) >= 4 {
                        out.push(text);
                    }
                }
            }
        }
    }
    out
}

/// Words that ask rather than name what is asked about.
const ASKING: &[char] = &[
    '请', '问', '是', '否', '能', '可', '不', '有', '没', '无', '什', '么', '时', '候', '何', '多',
    '少', '哪', '里', '些', '个', '为', '怎', '样', '如', '吗', '呢', '的', '了', '我', '们', '你',
    '您', '这', '那', '要', '还', '就', '都', '也', '在', '和', '与', '及', '或',
];

/// The first question of the request the reply does not take up — too few of the
/// question's word pairs (neighbouring Han characters, neither an asking word) recur in it —
/// while it takes up another: a reply that answers one question of several and is silent on
/// the next. (A question asked alone is mostly answered in other words than its own: whether
/// it was is left to the reviewer.)
fn unanswered_question(request: &str, reply: &str) -> Option<String> {
    let mut missed = None;
    let mut taken_up = false;
    for q in questions(request) {
        let chars: Vec<char> = q.chars().collect();
        let pairs: Vec<String> = chars
            .windows(2)
            .filter(|w| w.iter().all(|c| is_han(*c) && !ASKING.contains(c)))
            .map(|w| w.iter().collect())
            .collect();
        if pairs.len() < 2 {
            continue;
        }
        let used = pairs.iter().filter(|p| reply.contains(p.as_str())).count();
        if used < ADDRESSED_PAIRS && (used as f64) < ADDRESSED_SHARE * pairs.len() as f64 {
            if missed.is_none() {
                missed = Some(shown(&q.chars().take(40).collect::<String>()));
            }
        } else {
            taken_up = true;
        }
    }
    missed.filter(|_| taken_up)
}

/// Mobile numbers other than the citizen's own and identity-card numbers, masked.
fn personal_data(reply: &str, own: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let digits_only = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let stands_alone = |start: usize, end: usize| {
        !reply[..start].ends_with(|c: char| c.is_ascii_digit())
            && !reply[end..].starts_with(|c: char| c.is_ascii_digit())
    };
    for m in id_number().find_iter(reply) {
        if stands_alone(m.start(), m.end()) && id_checksum_ok(m.as_str()) {
            out.push(mask(m.as_str()));
        }
    }
    for m in mobile().find_iter(reply) {
        let d = digits_only(m.as_str());
        if stands_alone(m.start(), m.end()) && !own.contains(&d) {
            out.push(mask(&d));
        }
    }
    out
}

/// The check digit of a resident identity number (GB 11643): weights 2^(17-i) mod 11.
fn id_checksum_ok(id: &str) -> bool {
    const CHECK: &[u8; 11] = b"10x98765432";
    let b = id.as_bytes();
    if b.len() != 18 {
        return false;
    }
    let mut sum = 0u32;
    for (i, c) in b[..17].iter().enumerate() {
        let w = (1u32 << (17 - i)) % 11;
        sum += u32::from(c - b'0') * w;
    }
    CHECK[(sum % 11) as usize] == b[17].to_ascii_lowercase()
}

/// A number with its middle hidden: the finding must not spread it further.
fn mask(s: &str) -> String {
    let n = s.chars().count();
    s.chars()
        .enumerate()
        .map(|(i, c)| if i < 3 || i + 4 >= n { c } else { '*' })
        .collect()
}

/// What the reply says that the record contradicts, and the words.
fn contradiction(reply: &str, record: &ReplyRecord) -> Option<(String, String)> {
    if let Some(m) = claims_done().find(reply) {
        let words = around(reply, m.start(), m.end());
        if record.extension_pending {
            return Some((
                format!("答复称“{words}”，但本单位的延期申请尚待审批，说明事情还没有办完。"),
                words,
            ));
        }
        if !record.levels_open.is_empty() {
            return Some((
                format!("答复称“{words}”，但转办的下级单位仍在办理、尚未答复。"),
                words,
            ));
        }
    }
    if let Some(m) = claims_contact().find(reply)
        && !record.contact_recorded
        && !record.citizen_has_phone
    {
        let words = around(reply, m.start(), m.end());
        return Some((
            format!("答复称“{words}”，但工单没有联系记录，来信人也没有留下电话。"),
            words,
        ));
    }
    None
}

#[cfg(test)]
mod tests;
