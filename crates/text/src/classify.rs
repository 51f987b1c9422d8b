//! Ticket text → category: words from jieba segmentation, weighted by TF-IDF (sublinear
//! term frequency, smoothed inverse document frequency, unit length), and one linear
//! support-vector machine per category (squared hinge loss, trained by dual coordinate
//! descent, classes weighted by their rarity so that small categories are not drowned).
//!
//! The model is plain data (serialisable), predicts in microseconds, gives each category
//! a confidence (a softmax over the machines' scores) and explains itself with the words
//! that weighed most for the category it proposes.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::normalize::{fold, is_han};

/// A labelled text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Example {
    pub title: String,
    pub body: String,
    pub label: String,
}

/// How a model is trained.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainOptions {
    /// The inverse of the regularisation strength.
    pub c: f64,
    /// Weigh each class by `n / (classes × n_class)`.
    pub balanced: bool,
    /// How many times the title counts (it says in a few words what the body says in many).
    pub title_weight: u32,
    /// Stop when the projected gradient spreads less than this.
    pub tolerance: f64,
    /// At most this many passes over the examples per class.
    pub max_passes: usize,
    /// A word is kept when it appears in at least this many training or unlabelled texts.
    pub min_df: u32,
    /// Scores are multiplied by this before the softmax that gives confidences.
    pub sharpness: f32,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            c: 1.0,
            balanced: true,
            title_weight: 2,
            tolerance: 0.1,
            max_passes: 1000,
            min_df: 1,
            sharpness: 3.0,
        }
    }
}

/// A trained classifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Model {
    /// The categories, in the order of `weights`.
    pub labels: Vec<String>,
    /// The words, in feature order.
    pub words: Vec<String>,
    pub idf: Vec<f32>,
    /// Per category: one weight per word, then the bias.
    pub weights: Vec<Vec<f32>>,
    pub sharpness: f32,
    /// How many examples it learned from, per category (same order as `labels`).
    pub support: Vec<u32>,
    #[serde(skip)]
    index: HashMap<String, u32>,
}

/// One category's standing for a text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Scored {
    pub label: String,
    /// 0..1; the confidences of all categories add up to 1.
    pub confidence: f32,
    /// The machine's raw score (above 0: the text looks like this category).
    pub score: f32,
}

/// What the model makes of a text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Prediction {
    /// Every category, most likely first.
    pub ranked: Vec<Scored>,
    /// The words that weighed most for the first category, with their weight.
    pub because: Vec<(String, f32)>,
}

impl Prediction {
    pub fn top(&self) -> Option<&Scored> {
        self.ranked.first()
    }
}

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

/// The words of a titled text, the title counted `title_weight` times.
pub fn document(title: &str, body: &str, title_weight: u32) -> Vec<String> {
    let mut out = Vec::new();
    let t = words(title);
    for _ in 0..title_weight {
        out.extend(t.iter().cloned());
    }
    out.extend(words(body));
    out
}

/// A sparse vector: (feature, value), features ascending.
type Sparse = Vec<(u32, f32)>;

impl Model {
    /// Trains on labelled examples; unlabelled texts only help weigh the words (how
    /// common a word is in the hotline's language).
    pub fn train(examples: &[Example], unlabelled: &[String], opts: &TrainOptions) -> Model {
        let docs: Vec<Vec<String>> = examples
            .iter()
            .map(|e| document(&e.title, &e.body, opts.title_weight))
            .collect();
        let extra: Vec<Vec<String>> = unlabelled.iter().map(|t| words(t)).collect();
        Model::train_on_words(examples, &docs, &extra, opts)
    }

    /// Training from texts already cut into words (cross-validation cuts them once).
    pub fn train_on_words(
        examples: &[Example],
        docs: &[Vec<String>],
        extra: &[Vec<String>],
        opts: &TrainOptions,
    ) -> Model {
        // Vocabulary and document frequencies.
        let mut df: HashMap<&str, u32> = HashMap::new();
        for d in docs.iter().chain(extra) {
            let mut seen: Vec<&str> = d.iter().map(String::as_str).collect();
            seen.sort_unstable();
            seen.dedup();
            for w in seen {
                *df.entry(w).or_default() += 1;
            }
        }
        let mut words: Vec<String> = df
            .iter()
            .filter(|(_, n)| **n >= opts.min_df)
            .map(|(w, _)| w.to_string())
            .collect();
        words.sort();
        let n_docs = (docs.len() + extra.len()) as f32;
        let idf: Vec<f32> = words
            .iter()
            .map(|w| ((1.0 + n_docs) / (1.0 + df[w.as_str()] as f32)).ln() + 1.0)
            .collect();
        let mut labels: Vec<String> = examples.iter().map(|e| e.label.clone()).collect();
        labels.sort();
        labels.dedup();
        let mut model = Model {
            labels,
            words,
            idf,
            weights: Vec::new(),
            sharpness: opts.sharpness,
            support: Vec::new(),
            index: HashMap::new(),
        };
        model.reindex();
        let xs: Vec<Sparse> = docs.iter().map(|d| model.vectorize(d)).collect();
        let dim = model.words.len() + 1;
        let k = model.labels.len();
        let class_of: Vec<usize> = examples
            .iter()
            .map(|e| model.labels.binary_search(&e.label).expect("label"))
            .collect();
        model.support = (0..k)
            .map(|c| class_of.iter().filter(|&&x| x == c).count() as u32)
            .collect();
        let n = examples.len() as f64;
        let class_c: Vec<f64> = model
            .support
            .iter()
            .map(|&s| {
                if opts.balanced && s > 0 {
                    opts.c * n / (k as f64 * f64::from(s))
                } else {
                    opts.c
                }
            })
            .collect();
        model.weights = (0..k)
            .map(|c| {
                let y: Vec<f64> = class_of
                    .iter()
                    .map(|&x| if x == c { 1.0 } else { -1.0 })
                    .collect();
                let cost: Vec<f64> = class_of.iter().map(|&x| class_c[x]).collect();
                train_binary(&xs, &y, &cost, dim, opts, c as u64)
            })
            .collect();
        model
    }

    fn reindex(&mut self) {
        self.index = self
            .words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i as u32))
            .collect();
    }

    /// Reads a model saved with `to_json`.
    pub fn from_json(text: &str) -> Result<Model, serde_json::Error> {
        let mut m: Model = serde_json::from_str(text)?;
        m.reindex();
        Ok(m)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a model serialises")
    }

    /// TF-IDF of a document's words, unit length, features ascending.
    fn vectorize(&self, words: &[String]) -> Sparse {
        let mut counts: HashMap<u32, u32> = HashMap::new();
        for w in words {
            if let Some(&i) = self.index.get(w) {
                *counts.entry(i).or_default() += 1;
            }
        }
        let mut v: Sparse = counts
            .into_iter()
            .map(|(i, n)| (i, (1.0 + (n as f32).ln()) * self.idf[i as usize]))
            .collect();
        v.sort_unstable_by_key(|x| x.0);
        let norm = v.iter().map(|x| x.1 * x.1).sum::<f32>().sqrt();
        if norm > 0.0 {
            for x in &mut v {
                x.1 /= norm;
            }
        }
        v
    }

    /// Classifies a titled text.
    pub fn predict(&self, title: &str, body: &str) -> Prediction {
        self.predict_words(&document(title, body, 2))
    }

    /// Classifies a text already cut into words.
    pub fn predict_words(&self, words: &[String]) -> Prediction {
        let x = self.vectorize(words);
        let bias = self.words.len();
        let scores: Vec<f32> = self
            .weights
            .iter()
            .map(|w| w[bias] + x.iter().map(|(i, v)| w[*i as usize] * v).sum::<f32>())
            .collect();
        let max = scores.iter().copied().fold(f32::MIN, f32::max);
        let exp: Vec<f32> = scores
            .iter()
            .map(|s| ((s - max) * self.sharpness).exp())
            .collect();
        let total: f32 = exp.iter().sum();
        let mut ranked: Vec<Scored> = self
            .labels
            .iter()
            .zip(scores.iter().zip(&exp))
            .map(|(l, (s, e))| Scored {
                label: l.clone(),
                confidence: if total > 0.0 { e / total } else { 0.0 },
                score: *s,
            })
            .collect();
        ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.label.cmp(&b.label)));
        let because = match ranked.first() {
            Some(top) => {
                let c = self.labels.binary_search(&top.label).expect("label");
                let mut parts: Vec<(String, f32)> = x
                    .iter()
                    .map(|(i, v)| {
                        (
                            self.words[*i as usize].clone(),
                            self.weights[c][*i as usize] * v,
                        )
                    })
                    .filter(|p| p.1 > 0.0)
                    .collect();
                parts.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                parts.truncate(8);
                parts
            }
            None => Vec::new(),
        };
        Prediction { ranked, because }
    }
}

/// One class against the rest: L2-regularised squared-hinge SVM, bias as a constant
/// feature, by dual coordinate descent (each example's dual variable in turn, in a shuffled
/// order, until the projected gradient is flat).
fn train_binary(
    xs: &[Sparse],
    y: &[f64],
    cost: &[f64],
    dim: usize,
    opts: &TrainOptions,
    seed: u64,
) -> Vec<f32> {
    let n = xs.len();
    let bias = dim - 1;
    let mut w = vec![0f64; dim];
    let mut alpha = vec![0f64; n];
    let diag: Vec<f64> = cost.iter().map(|c| 0.5 / c).collect();
    let qd: Vec<f64> = xs
        .iter()
        .zip(&diag)
        .map(|(x, d)| x.iter().map(|(_, v)| f64::from(*v).powi(2)).sum::<f64>() + 1.0 + d)
        .collect();
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = Lcg(seed
        .wrapping_mul(2_862_933_555_777_941_757)
        .wrapping_add(3_037_000_493));
    for _ in 0..opts.max_passes {
        for i in (1..n).rev() {
            let j = (rng.next() % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        let (mut pg_max, mut pg_min) = (f64::MIN, f64::MAX);
        for &i in &order {
            let x = &xs[i];
            let wx = w[bias]
                + x.iter()
                    .map(|(f, v)| w[*f as usize] * f64::from(*v))
                    .sum::<f64>();
            let g = y[i] * wx - 1.0 + diag[i] * alpha[i];
            let pg = if alpha[i] == 0.0 { g.min(0.0) } else { g };
            pg_max = pg_max.max(pg);
            pg_min = pg_min.min(pg);
            if pg.abs() > 1e-12 {
                let old = alpha[i];
                alpha[i] = (alpha[i] - g / qd[i]).max(0.0);
                let step = (alpha[i] - old) * y[i];
                for (f, v) in x {
                    w[*f as usize] += step * f64::from(*v);
                }
                w[bias] += step;
            }
        }
        if pg_max - pg_min < opts.tolerance {
            break;
        }
    }
    w.into_iter().map(|v| v as f32).collect()
}

/// A small deterministic generator for the shuffles (training is reproducible).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

/// Precision, recall and F1 of one class.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ClassFigures {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

/// How well predictions match the truth.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Evaluation {
    pub labels: Vec<String>,
    /// `confusion[truth][predicted]`.
    pub confusion: Vec<Vec<usize>>,
    pub classes: Vec<ClassFigures>,
    pub accuracy: f64,
    pub macro_f1: f64,
}

/// Scores (truth, predicted) pairs.
pub fn evaluate(pairs: &[(String, String)]) -> Evaluation {
    let mut labels: Vec<String> = pairs
        .iter()
        .flat_map(|(t, p)| [t.clone(), p.clone()])
        .collect();
    labels.sort();
    labels.dedup();
    let at = |l: &str| {
        labels
            .binary_search_by(|x| x.as_str().cmp(l))
            .expect("label")
    };
    let k = labels.len();
    let mut confusion = vec![vec![0usize; k]; k];
    for (t, p) in pairs {
        confusion[at(t)][at(p)] += 1;
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let classes: Vec<ClassFigures> = (0..k)
        .map(|c| {
            let tp = confusion[c][c];
            let predicted: usize = (0..k).map(|t| confusion[t][c]).sum();
            let support: usize = confusion[c].iter().sum();
            let precision = ratio(tp, predicted);
            let recall = ratio(tp, support);
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            ClassFigures {
                label: labels[c].clone(),
                precision,
                recall,
                f1,
                support,
            }
        })
        .collect();
    let correct: usize = (0..k).map(|c| confusion[c][c]).sum();
    // Macro-F1 over the classes that occur in the truth.
    let present: Vec<&ClassFigures> = classes.iter().filter(|c| c.support > 0).collect();
    let macro_f1 = if present.is_empty() {
        0.0
    } else {
        present.iter().map(|c| c.f1).sum::<f64>() / present.len() as f64
    };
    Evaluation {
        labels,
        confusion,
        classes,
        accuracy: ratio(correct, pairs.len()),
        macro_f1,
    }
}

/// Stratified folds: example indexes split into `k` folds, each class spread evenly, in
/// an order fixed by `seed`.
pub fn stratified_folds(labels: &[String], k: usize, seed: u64) -> Vec<Vec<usize>> {
    let k = k.max(2);
    let mut by_class: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    for (i, l) in labels.iter().enumerate() {
        by_class.entry(l.as_str()).or_default().push(i);
    }
    let mut rng = Lcg(seed ^ 0x9E37_79B9_7F4A_7C15);
    let mut folds = vec![Vec::new(); k];
    let mut next = 0;
    for (_, mut idx) in by_class {
        for i in (1..idx.len()).rev() {
            let j = (rng.next() % (i as u64 + 1)) as usize;
            idx.swap(i, j);
        }
        for i in idx {
            folds[next % k].push(i);
            next += 1;
        }
    }
    for f in &mut folds {
        f.sort_unstable();
    }
    folds
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(title: &str, body: &str, label: &str) -> Example {
        Example {
            title: title.into(),
            body: body.into(),
            label: label.into(),
        }
    }

    /// A small fixture written for the project: three categories of hotline requests.
    fn fixture() -> Vec<Example> {
        vec![
            ex(
                "小区垃圾无人清运",
                "楼下垃圾堆了一周没人清运，气味很大",
                "环境卫生",
            ),
            ex("垃圾桶满了", "路边垃圾桶满溢，垃圾散落一地", "环境卫生"),
            ex(
                "道路清扫不及时",
                "街道清扫不及时，路面垃圾和落叶很多",
                "环境卫生",
            ),
            ex(
                "垃圾分类咨询",
                "茶叶渣属于哪类垃圾，应该投放到哪个垃圾桶",
                "环境卫生",
            ),
            ex(
                "暖气不热",
                "家里暖气片不热，室温只有十五度，供暖不达标",
                "供暖",
            ),
            ex("供暖温度低", "今年供暖温度太低，老人孩子受冻", "供暖"),
            ex("暖气漏水", "暖气管道漏水，找供热公司没人来修", "供暖"),
            ex(
                "集中供暖何时开始",
                "请问今年集中供暖什么时候开始供热",
                "供暖",
            ),
            ex("公交车绕行", "公交线路改道后车站太远，出行不便", "公共交通"),
            ex("公交班次太少", "早高峰公交车班次少，等车半小时", "公共交通"),
            ex("增设公交站", "建议在小区门口增设公交站点", "公共交通"),
            ex("出租车拒载", "出租车司机拒载还乱收费", "公共交通"),
        ]
    }

    #[test]
    fn search_words_also_give_the_words_inside_long_ones() {
        let w = search_words("请问垃圾分类，茶叶渣放哪个桶？７号楼");
        assert!(w.contains(&"垃圾".to_string()), "{w:?}");
        assert!(w.contains(&"分类".to_string()), "{w:?}");
        assert!(w.contains(&"7".to_string()), "{w:?}");
        assert!(!w.iter().any(|t| t == "，" || t == "？"), "{w:?}");
    }

    #[test]
    fn words_are_chinese_words_and_real_letters() {
        let w = words("西宁市ＡＢ区2号楼 供暖不达标!");
        assert!(w.contains(&"供暖".to_string()), "{w:?}");
        assert!(w.contains(&"ab".to_string()), "{w:?}");
        assert!(
            !w.iter().any(|x| x.chars().all(|c| c.is_ascii_digit())),
            "{w:?}"
        );
    }

    #[test]
    fn learns_the_fixture_and_explains_itself() {
        let model = Model::train(&fixture(), &[], &TrainOptions::default());
        assert_eq!(model.labels, vec!["供暖", "公共交通", "环境卫生"]);
        let p = model.predict("暖气片冰凉", "家里暖气一点都不热，供暖公司不管");
        assert_eq!(p.top().map(|t| t.label.as_str()), Some("供暖"));
        assert!(
            p.because.iter().any(|(w, _)| w == "暖气" || w == "供暖"),
            "{p:?}"
        );
        let total: f32 = p.ranked.iter().map(|r| r.confidence).sum();
        assert!((total - 1.0).abs() < 1e-4);
        let p = model.predict("公交站太远", "希望增加公交车班次");
        assert_eq!(p.top().map(|t| t.label.as_str()), Some("公共交通"));
        let p = model.predict("垃圾清运", "小区门口垃圾没人清运");
        assert_eq!(p.top().map(|t| t.label.as_str()), Some("环境卫生"));
    }

    #[test]
    fn a_saved_model_predicts_the_same() {
        let model = Model::train(&fixture(), &[], &TrainOptions::default());
        let again = Model::from_json(&model.to_json()).expect("reads back");
        assert_eq!(
            model.predict("暖气不热", "供暖不达标"),
            again.predict("暖气不热", "供暖不达标")
        );
    }

    #[test]
    fn training_is_reproducible() {
        let a = Model::train(&fixture(), &[], &TrainOptions::default());
        let b = Model::train(&fixture(), &[], &TrainOptions::default());
        assert_eq!(a.weights, b.weights);
    }

    #[test]
    fn an_empty_text_still_gets_an_answer() {
        let model = Model::train(&fixture(), &[], &TrainOptions::default());
        let p = model.predict("", "");
        assert_eq!(p.ranked.len(), 3);
        assert!(p.because.is_empty());
    }

    #[test]
    fn evaluation_counts_by_hand() {
        let pairs: Vec<(String, String)> = [("a", "a"), ("a", "b"), ("b", "b"), ("b", "b")]
            .iter()
            .map(|(t, p)| (t.to_string(), p.to_string()))
            .collect();
        let e = evaluate(&pairs);
        assert_eq!(e.confusion, vec![vec![1, 1], vec![0, 2]]);
        assert!((e.accuracy - 0.75).abs() < 1e-9);
        // a: P 1, R 0.5, F1 2/3; b: P 2/3, R 1, F1 0.8.
        assert!((e.classes[0].f1 - 2.0 / 3.0).abs() < 1e-9);
        assert!((e.classes[1].f1 - 0.8).abs() < 1e-9);
        assert!((e.macro_f1 - (2.0 / 3.0 + 0.8) / 2.0).abs() < 1e-9);
    }

    #[test]
    fn folds_are_stratified_and_cover_everything_once() {
        let labels: Vec<String> = (0..50)
            .map(|i| if i % 5 == 0 { "rare" } else { "common" }.to_string())
            .collect();
        let folds = stratified_folds(&labels, 5, 7);
        let mut all: Vec<usize> = folds.iter().flatten().copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..50).collect::<Vec<_>>());
        for f in &folds {
            assert_eq!(f.iter().filter(|&&i| labels[i] == "rare").count(), 2);
        }
    }
}
