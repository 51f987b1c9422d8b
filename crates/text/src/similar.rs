//! How alike two texts are: the cosine of their character-bigram counts (the title
//! counted twice), each bigram weighed as the caller says. Bigrams need no dictionary and
//! cost a few microseconds a text, so hundreds of open tickets can be compared while the
//! operator types; they catch the same complaint told in other words well enough.

use std::collections::HashMap;

use crate::normalize::{fold, is_han};

/// At most this many characters of a body are compared (the gist is at the start).
const BODY_CHARS: usize = 300;

/// The character bigrams of a titled text, counted (Chinese characters only; runs of
/// letters and digits count as one token each).
pub fn bag(title: &str, body: &str) -> HashMap<String, f32> {
    let mut out: HashMap<String, f32> = HashMap::new();
    let mut add = |text: &str, times: f32| {
        let chars: Vec<char> = fold(text).chars().take(BODY_CHARS).collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if is_han(c) {
                if let Some(&d) = chars.get(i + 1).filter(|d| is_han(**d)) {
                    *out.entry([c, d].iter().collect()).or_default() += times;
                }
                i += 1;
            } else if c.is_ascii_alphanumeric() {
                let start = i;
                while i < chars.len() && chars[i].is_ascii_alphanumeric() {
                    i += 1;
                }
                if i - start >= 2 {
                    *out.entry(chars[start..i].iter().collect()).or_default() += times;
                }
            } else {
                i += 1;
            }
        }
    };
    add(title, 2.0);
    add(body, 1.0);
    out
}

/// Cosine similarity (0..1) of two bags; `weight` gives a word's weight (1 if `None`).
pub fn cosine(
    a: &HashMap<String, f32>,
    b: &HashMap<String, f32>,
    weight: &dyn Fn(&str) -> f32,
) -> f32 {
    let norm = |m: &HashMap<String, f32>| {
        m.iter()
            .map(|(w, n)| (n * weight(w)).powi(2))
            .sum::<f32>()
            .sqrt()
    };
    let (na, nb) = (norm(a), norm(b));
    if na == 0.0 || nb == 0.0 {
        return 0.0;
    }
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let dot: f32 = small
        .iter()
        .filter_map(|(w, n)| large.get(w).map(|m| n * m * weight(w).powi(2)))
        .sum();
    (dot / (na * nb)).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_problem_told_twice_is_alike_and_others_are_not() {
        let one = |_: &str| 1.0;
        let a = bag(
            "小区门口路灯不亮",
            "东关大街小区门口的路灯坏了好几天，晚上很黑",
        );
        let b = bag("路灯坏了", "小区门口路灯不亮，晚上出行不方便");
        let c = bag("暖气不热", "家里暖气片冰凉，供暖不达标");
        let ab = cosine(&a, &b, &one);
        let ac = cosine(&a, &c, &one);
        assert!(ab > 0.4, "{ab}");
        assert!(ac < 0.15, "{ac}");
        assert!((cosine(&a, &a, &one) - 1.0).abs() < 1e-5);
        assert_eq!(cosine(&a, &HashMap::new(), &one), 0.0);
    }

    #[test]
    fn rare_words_weigh_more() {
        let a = bag("", "路灯 问题 反映");
        let b = bag("", "暖气 问题 反映");
        let flat = cosine(&a, &b, &|_| 1.0);
        let idf = |w: &str| {
            if w == "问题" || w == "反映" {
                0.2
            } else {
                3.0
            }
        };
        assert!(cosine(&a, &b, &idf) < flat);
    }
}
