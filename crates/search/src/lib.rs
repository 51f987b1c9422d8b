//! Full-text search in Chinese, on tantivy: the knowledge base (in memory, rebuilt when the
//! base changes) and the tickets (in a folder or in memory, fed from the ticket events).
//!
//! Text is cut into words by the same jieba segmentation the classifier uses, in its search
//! mode (a long word also yields the words inside it), through [`ChineseTokenizer`].

pub mod knowledge;
pub mod tickets;

pub use knowledge::{KnowledgeHit, KnowledgeIndex, KnowledgeQuery};
pub use tickets::{TicketHit, TicketHits, TicketIndex, TicketQuery};

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// The name the tokenizer is registered under in every index.
pub const TOKENIZER: &str = "zh";

/// What went wrong in an index.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index folder: {0}")]
    Io(#[from] std::io::Error),
    #[error("search index: {0}")]
    Other(String),
}

pub type Result<T> = std::result::Result<T, SearchError>;

/// Chinese words for tantivy (see [`mashangban_text::classify::search_words`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct ChineseTokenizer;

/// The words of one text, handed out one by one.
pub struct Words {
    tokens: Vec<Token>,
    next: usize,
}

impl Tokenizer for ChineseTokenizer {
    type TokenStream<'a> = Words;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Words {
        Words::of(mashangban_text::classify::search_words(text))
    }
}

impl Words {
    /// The words in order, each a token at its position. Offsets are not kept (the words
    /// are folded, so they would not point into the text); nothing here highlights by offset.
    fn of(words: Vec<String>) -> Words {
        let tokens = words
            .into_iter()
            .enumerate()
            .map(|(position, text)| Token {
                offset_from: 0,
                offset_to: 0,
                position,
                text,
                position_length: 1,
            })
            .collect();
        Words { tokens, next: 0 }
    }
}

impl TokenStream for Words {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next.saturating_sub(1).min(self.tokens.len() - 1)]
    }

    fn token_mut(&mut self) -> &mut Token {
        let i = self.next.saturating_sub(1).min(self.tokens.len() - 1);
        &mut self.tokens[i]
    }
}

/// The name the bigram tokenizer is registered under.
pub const BIGRAMS: &str = "zh2";

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}')
}

/// The grams of a text: each pair of neighbouring Chinese characters (a lone one by
/// itself) and each run of letters or digits, folded. Word segmentation depends on the
/// context (`路灯不亮` may not yield `路灯`); bigrams do not, so a word is also found as the
/// grams it is made of.
pub fn bigrams(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut run: Vec<char> = Vec::new();
    let mut latin = String::new();
    let flush_run = |run: &mut Vec<char>, out: &mut Vec<String>| {
        match run.len() {
            0 => {}
            1 => out.push(run[0].to_string()),
            _ => out.extend(run.windows(2).map(|w| w.iter().collect::<String>())),
        }
        run.clear();
    };
    for c in text.chars().map(mashangban_text::normalize::fold_char) {
        if is_cjk(c) {
            if !latin.is_empty() {
                out.push(std::mem::take(&mut latin));
            }
            run.push(c);
        } else {
            flush_run(&mut run, &mut out);
            if c.is_alphanumeric() {
                latin.push(c);
            } else if !latin.is_empty() {
                out.push(std::mem::take(&mut latin));
            }
        }
    }
    flush_run(&mut run, &mut out);
    if !latin.is_empty() {
        out.push(latin);
    }
    out
}

/// [`bigrams`] for tantivy.
#[derive(Clone, Copy, Debug, Default)]
pub struct BigramTokenizer;

impl Tokenizer for BigramTokenizer {
    type TokenStream<'a> = Words;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Words {
        Words::of(bigrams(text))
    }
}

/// Words that say nothing about what is asked (how a caller phrases any question).
const FILLER: &[&str] = &[
    "的",
    "了",
    "是",
    "我",
    "你",
    "他",
    "她",
    "们",
    "在",
    "有",
    "吗",
    "呢",
    "吧",
    "啊",
    "请问",
    "问",
    "一下",
    "想",
    "要",
    "能",
    "可以",
    "什么",
    "怎么",
    "怎么办",
    "如何",
    "哪里",
    "哪个",
    "这个",
    "那个",
    "就",
    "也",
    "都",
    "和",
    "与",
    "及",
    "或",
    "还",
    "被",
    "把",
    "给",
    "对",
    "到",
    "从",
    "说",
    "个",
    "该",
    "应该",
    "现在",
    "目前",
    "您好",
    "你好",
    "谢谢",
    "反映",
];

/// The distinct words of a query, filler left out (unless nothing else is left).
pub fn query_words(text: &str) -> Vec<String> {
    let all = mashangban_text::classify::search_words(text);
    let mut out: Vec<String> = Vec::new();
    for w in &all {
        if !FILLER.contains(&w.as_str()) && !out.contains(w) {
            out.push(w.clone());
        }
    }
    if out.is_empty() {
        for w in all {
            if !out.contains(&w) {
                out.push(w);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tokenizer_streams_every_word_once_in_order() {
        let mut t = ChineseTokenizer;
        let mut s = t.token_stream("茶叶渣是什么垃圾");
        let mut seen = Vec::new();
        while s.advance() {
            seen.push((s.token().position, s.token().text.clone()));
        }
        assert!(seen.iter().any(|(_, w)| w == "垃圾"), "{seen:?}");
        assert!(seen.windows(2).all(|p| p[0].0 + 1 == p[1].0), "{seen:?}");
        let mut empty = t.token_stream("，。！");
        assert!(!empty.advance());
    }

    #[test]
    fn bigrams_of_chinese_runs_and_latin_words() {
        assert_eq!(bigrams("路灯不亮"), vec!["路灯", "灯不", "不亮"]);
        assert_eq!(bigrams("灯"), vec!["灯"]);
        assert_eq!(
            bigrams("７号楼Ａ座，MB2026"),
            vec!["7", "号楼", "a", "座", "mb2026"]
        );
        assert!(bigrams("，。 ").is_empty());
    }

    #[test]
    fn query_words_drop_filler_but_never_everything() {
        let w = query_words("请问一下茶叶渣是什么垃圾？");
        assert!(w.contains(&"垃圾".to_string()), "{w:?}");
        assert!(!w.contains(&"请问".to_string()), "{w:?}");
        assert!(!w.contains(&"什么".to_string()), "{w:?}");
        assert_eq!(query_words("什么"), vec!["什么".to_string()]);
        assert!(query_words("，。").is_empty());
    }
}
