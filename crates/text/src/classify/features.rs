//! What the classifier reads in a text: character unigrams and bigrams (robust to how a
//! text happens to be segmented, and to words never seen in training: `化粪池` shares `粪池`
//! and `池` with the texts it was trained on), and the jieba words it explains itself with.

use std::sync::OnceLock;

use crate::normalize::{fold, is_han};

fn jieba() -> &'static jieba_rs::Jieba {
    static JIEBA: OnceLock<jieba_rs::Jieba> = OnceLock::new();
    JIEBA.get_or_init(jieba_rs::Jieba::new)
}

/// The words of a text: jieba's segmentation (with its HMM for unknown words), folded to
/// half-width lower case, keeping words with a Chinese character or at least two letters
/// (numbers, punctuation and single letters say nothing about the category).
pub fn words(text: &str) -> Vec<String> {
    let text = fold(text);
    jieba()
        .cut(&text, true)
        .into_iter()
        .map(|t| t.word)
        .filter(|w| {
            w.chars().any(is_han)
                || (w.chars().count() >= 2 && w.chars().all(|c| c.is_ascii_alphabetic()))
        })
        .map(str::to_string)
        .collect()
}

/// The words of a text for a search index: jieba's search segmentation (long words also
/// give the shorter words inside them, so `垃圾分类` is found by `垃圾`), folded like
/// [`words`], keeping words with a Chinese character and runs of letters or digits
/// (`7号楼`, house numbers, ticket numbers).
pub fn search_words(text: &str) -> Vec<String> {
    let text = fold(text);
    jieba()
        .cut_for_search(&text, true)
        .into_iter()
        .map(|t| t.word)
        .filter(|w| w.chars().any(|c| is_han(c) || c.is_ascii_alphanumeric()))
        .map(str::to_string)
        .collect()
}

/// Characters the features are made of: Chinese characters and letters. Digits,
/// punctuation and spaces end a run (a house number says nothing about the category).
fn kept(c: char) -> bool {
    is_han(c) || c.is_ascii_alphabetic()
}

/// The character features of a text, appended to `out`: each run of kept characters gives
/// its characters and, padded with a space at both ends, its character pairs (so a run's
/// first and last characters are also features as such: ` 污`, `水 `).
pub fn push_grams(text: &str, out: &mut Vec<String>) {
    let folded = fold(text);
    let mut run: Vec<char> = Vec::new();
    let flush = |run: &mut Vec<char>, out: &mut Vec<String>| {
        if run.is_empty() {
            return;
        }
        for c in run.iter() {
            out.push(c.to_string());
        }
        let mut prev = ' ';
        for &c in run.iter().chain(std::iter::once(&' ')) {
            let mut g = String::with_capacity(8);
            g.push(prev);
            g.push(c);
            out.push(g);
            prev = c;
        }
        run.clear();
    };
    for c in folded.chars() {
        if kept(c) {
            run.push(c);
        } else {
            flush(&mut run, out);
        }
    }
    flush(&mut run, out);
}

/// The character features of a text.
pub fn grams(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    push_grams(text, &mut out);
    out
}

/// The features of a titled text, the title counted `title_weight` times (it says in a few
/// words what the body says in many).
pub fn document(title: &str, body: &str, title_weight: u32) -> Vec<String> {
    let mut out = Vec::new();
    let mut t = Vec::new();
    push_grams(title, &mut t);
    for _ in 0..title_weight {
        out.extend(t.iter().cloned());
    }
    push_grams(body, &mut out);
    out
}

/// The character features inside one word, without the run padding: what the word
/// itself contributes to a text's features.
pub fn word_grams(word: &str) -> Vec<String> {
    let chars: Vec<char> = fold(word).chars().filter(|c| kept(*c)).collect();
    let mut out: Vec<String> = chars.iter().map(|c| c.to_string()).collect();
    for pair in chars.windows(2) {
        out.push(pair.iter().collect());
    }
    out
}

/// Words that never explain a category: function words, pronouns, the hotline's own
/// formulas (反映、希望、尽快、相关部门) and vague quantities. Written for the project.
const STOP_WORDS: &str = "\
    的 了 着 过 是 在 和 与 及 或 也 都 就 还 又 很 太 更 最 被 把 给 让 从 向 对 为 以 于 而 但 并 且 等 吗 \
    呢 吧 啊 呀 么 我 你 他 她 它 我们 你们 他们 她们 咱们 大家 自己 本人 这 那 这个 那个 这些 那些 这里 那里 这样 \
    那样 这种 那种 此 其 该 有 没 没有 不 不是 不能 不会 不要 不到 不了 能 能够 可以 可能 应该 需要 必须 要 想 会 得 \
    地 一个 一些 一下 一点 一直 已经 非常 特别 十分 比较 相当 实在 真的 确实 根本 完全 严重 很大 很多 许多 所有 一切 \
    任何 每个 各种 什么 怎么 怎样 为什么 如何 哪里 哪个 哪些 谁 多少 几 因为 所以 但是 可是 而且 并且 如果 虽然 即使 \
    然后 同时 另外 还有 以及 或者 还是 之后 以后 以前 之前 期间 时候 目前 现在 当时 当前 最近 近期 今天 昨天 前天 明天 \
    后天 今年 去年 明年 今日 早上 晚上 上午 下午 中午 凌晨 夜里 夜间 白天 每天 天天 经常 总是 常常 多次 多年 长期 一年 \
    马上 立即 尽快 及时 赶紧 请 请问 请求 希望 要求 建议 反映 反应 问题 情况 事情 处理 解决 进行 相关 有关 部门 \
    相关部门 有关部门 领导 政府 市民 群众 居民 老百姓 网友 您好 你好 谢谢 感谢 麻烦 帮忙 帮助 一下子 知道 觉得 认为 表示 \
    说 告诉 发现 出现 存在 造成 导致 影响 关于 对于 根据 按照 通过 经过 由于 其中 其他 以上 以下 左右 附近 周边 旁边 \
    里面 外面 上面 下面 前面 后面 地方 方面 工作 人员 个人 西宁 西宁市 青海 青海省 我家 家里 开始 突然 没法 无法 一样 \
    不行 怎么办 好几天 几天 好久 一段时间 每天晚上 每天早上 每晚 每周 每月 每年 半夜 深夜 夜晚 晚间";

/// Numerals and the units of time and count that follow them (`三天`, `两个月`, `10点`).
fn is_quantity(word: &str) -> bool {
    const NUMERALS: &str = "零一二两三四五六七八九十百千万几半多数0123456789";
    const UNITS: &[&str] = &[
        "天",
        "日",
        "号",
        "月",
        "个月",
        "年",
        "周",
        "星期",
        "礼拜",
        "小时",
        "个小时",
        "分钟",
        "分",
        "秒",
        "点",
        "点钟",
        "次",
        "遍",
        "回",
        "个",
        "位",
        "名",
        "户",
        "家",
        "趟",
        "元",
        "块",
    ];
    let digits = word.chars().take_while(|c| NUMERALS.contains(*c)).count();
    if digits == 0 {
        return false;
    }
    let rest: String = word.chars().skip(digits).collect();
    rest.is_empty() || UNITS.contains(&rest.as_str())
}

/// May this word be shown as why a category was proposed? Two or more characters, not a
/// stop word, not a quantity or a time.
pub fn is_evidence(word: &str) -> bool {
    static STOP: OnceLock<std::collections::HashSet<&'static str>> = OnceLock::new();
    let stop = STOP.get_or_init(|| STOP_WORDS.split_whitespace().collect());
    word.chars().count() >= 2 && !stop.contains(word) && !is_quantity(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grams_are_characters_and_padded_pairs_within_runs() {
        assert_eq!(
            grams("污水, 7号楼"),
            vec![
                "污", "水", " 污", "污水", "水 ", "号", "楼", " 号", "号楼", "楼 "
            ]
        );
        assert_eq!(
            document("AB", "", 2),
            ["a", "b", " a", "ab", "b "].repeat(2)
        );
    }

    #[test]
    fn word_grams_leave_the_padding_out() {
        assert_eq!(word_grams("倒灌"), vec!["倒", "灌", "倒灌"]);
    }

    #[test]
    fn stop_words_quantities_and_times_are_no_evidence() {
        for w in [
            "三天",
            "已经",
            "很大",
            "不",
            "尽快",
            "的",
            "两个月",
            "10点",
            "十五",
        ] {
            assert!(!is_evidence(w), "{w}");
        }
        for w in ["污水", "倒灌", "地下室", "暖气", "拖欠"] {
            assert!(is_evidence(w), "{w}");
        }
    }
}
