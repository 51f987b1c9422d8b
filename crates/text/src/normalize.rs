//! Text clean-up shared by the Chinese features: full-width forms folded to their ASCII
//! counterparts, letters lower-cased, runs of white space dropped.

/// Folds full-width ASCII forms (`Ａ１２，`) to ASCII, the ideographic space to a space,
/// and upper-case ASCII letters to lower case.
pub fn fold_char(c: char) -> char {
    let c = match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    };
    c.to_ascii_lowercase()
}

/// `fold_char` over a whole text.
pub fn fold(text: &str) -> String {
    text.chars().map(fold_char).collect()
}

/// Folded text with every white-space character and the punctuation people put between
/// the parts of an address (`,`, `、`, `-`, `—`, `·`) removed: `西宁市 城东区，八一路` →
/// `西宁市城东区八一路`.
pub fn compact(text: &str) -> String {
    text.chars()
        .map(fold_char)
        .filter(|c| {
            !c.is_whitespace()
                && !matches!(
                    c,
                    ',' | '、'
                        | '，'
                        | '。'
                        | '-'
                        | '—'
                        | '·'
                        | '('
                        | ')'
                        | '（'
                        | '）'
                        | ';'
                        | '；'
                )
        })
        .collect()
}

/// Is this a CJK unified ideograph (the characters Chinese words are made of)?
pub fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_full_width_forms() {
        assert_eq!(fold("７号楼３单元ＡＢ"), "7号楼3单元ab");
        assert_eq!(fold("a\u{3000}b"), "a b");
    }

    #[test]
    fn compacts_addresses() {
        assert_eq!(
            compact(" 西宁市 城东区，八一路（东段）"),
            "西宁市城东区八一路东段"
        );
    }

    #[test]
    fn knows_han() {
        assert!(is_han('宁'));
        assert!(!is_han('7'));
        assert!(!is_han('，'));
    }
}
