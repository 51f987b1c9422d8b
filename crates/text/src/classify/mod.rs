//! Ticket text → category: character unigrams and bigrams weighted by TF-IDF (sublinear
//! term frequency, smoothed inverse document frequency, unit length), and one linear
//! support-vector machine per category (squared hinge loss, trained by dual coordinate
//! descent, classes weighted by their rarity so that small categories are not drowned).
//!
//! Confidences are a softmax over the machines' scores at a temperature fitted on
//! cross-validated scores of the training texts themselves (so that a proposal shown at
//! 70 % is right about 70 % of the time), and a proposal explains itself with the words of
//! the text that weighed most for it, function words, quantities and times left out.
//!
//! The model is plain data (serialisable) and predicts in microseconds.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

mod evaluation;
mod features;
mod svm;

pub use evaluation::{
    Calibration, ClassFigures, Evaluation, ReliabilityBin, calibration, evaluate, stratified_folds,
    top_k_accuracy,
};
pub use features::{document, grams, is_evidence, search_words, word_grams, words};

/// The model format this code reads and writes; a stored model of another one is refused
/// (and trained again).
pub const MODEL_VERSION: u32 = 2;

/// The temperature of a model that had too few texts to fit one (fewer than
/// [`MIN_CALIBRATION_TEXTS`] cross-validated): scores one margin apart are then about
/// e² ≈ 7 times as likely, a modest confidence.
pub const DEFAULT_TEMPERATURE: f32 = 2.0;
/// At least this many cross-validated texts of at least two categories to fit a temperature.
pub const MIN_CALIBRATION_TEXTS: usize = 20;

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
    /// Weigh each class by `n / (classes × n_class)`, at most `max_class_weight`.
    pub balanced: bool,
    /// The most a rare class is weighed: a category known only by its name and keywords
    /// among categories with hundreds of tickets must not have its few words weigh as
    /// much as all their tickets.
    pub max_class_weight: f64,
    /// How many times the title counts.
    pub title_weight: u32,
    /// Stop when the projected gradient spreads less than this.
    pub tolerance: f64,
    /// At most this many passes over the examples per class.
    pub max_passes: usize,
    /// A feature is kept when it appears in at least this many training or unlabelled texts.
    pub min_df: u32,
    /// At most this many features, the most frequent (keeps a model of 200,000 tickets small).
    pub max_features: usize,
    /// Folds of the cross-validation the temperature is fitted on (0: no fitting).
    pub calibration_folds: usize,
    /// At most this many training texts (an even share of each category) in that
    /// cross-validation.
    pub calibration_limit: usize,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            c: 1.0,
            balanced: true,
            max_class_weight: 5.0,
            title_weight: 2,
            tolerance: 0.1,
            max_passes: 1000,
            min_df: 1,
            max_features: 60_000,
            calibration_folds: 5,
            calibration_limit: 4_000,
        }
    }
}

/// A trained classifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Model {
    /// [`MODEL_VERSION`] when written.
    #[serde(default)]
    pub version: u32,
    /// The categories, in the order of `weights`.
    pub labels: Vec<String>,
    /// The character features, in feature order.
    pub grams: Vec<String>,
    pub idf: Vec<f32>,
    /// Per category: one weight per feature, then the bias.
    pub weights: Vec<Vec<f32>>,
    /// Scores are multiplied by this before the softmax that gives confidences.
    pub temperature: f32,
    /// Whether the temperature was fitted on cross-validated texts (else the default).
    pub calibrated: bool,
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
    /// The words of the text that weighed most for the first category, with their weight
    /// (never a function word, a quantity or a time).
    pub because: Vec<(String, f32)>,
}

impl Prediction {
    pub fn top(&self) -> Option<&Scored> {
        self.ranked.first()
    }
}

/// A sparse vector: (feature, value), features ascending.
type Sparse = Vec<(u32, f32)>;

impl Model {
    /// Trains on labelled examples; unlabelled texts only help weigh the features (how
    /// common a character pair is in the hotline's language).
    pub fn train(examples: &[Example], unlabelled: &[String], opts: &TrainOptions) -> Model {
        let docs: Vec<Vec<String>> = examples
            .iter()
            .map(|e| document(&e.title, &e.body, opts.title_weight))
            .collect();
        let extra: Vec<Vec<String>> = unlabelled.iter().map(|t| grams(t)).collect();
        Model::train_on_features(examples, &docs, &extra, opts)
    }

    /// Training from texts already cut into features (cross-validation cuts them once),
    /// then the temperature fitted on a cross-validation of the same texts.
    pub fn train_on_features(
        examples: &[Example],
        docs: &[Vec<String>],
        extra: &[Vec<String>],
        opts: &TrainOptions,
    ) -> Model {
        let mut model = Model::fit(examples, docs, extra, opts);
        if let Some(t) = fit_temperature(examples, docs, extra, opts) {
            model.temperature = t;
            model.calibrated = true;
        }
        model
    }

    /// The machines alone, at the default temperature.
    fn fit(
        examples: &[Example],
        docs: &[Vec<String>],
        extra: &[Vec<String>],
        opts: &TrainOptions,
    ) -> Model {
        let mut df: HashMap<&str, u32> = HashMap::new();
        for d in docs.iter().chain(extra) {
            let mut seen: Vec<&str> = d.iter().map(String::as_str).collect();
            seen.sort_unstable();
            seen.dedup();
            for w in seen {
                *df.entry(w).or_default() += 1;
            }
        }
        let mut kept: Vec<(&str, u32)> = df
            .iter()
            .filter(|(_, n)| **n >= opts.min_df)
            .map(|(w, n)| (*w, *n))
            .collect();
        if kept.len() > opts.max_features {
            kept.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            kept.truncate(opts.max_features);
        }
        let mut grams: Vec<String> = kept.iter().map(|(w, _)| w.to_string()).collect();
        grams.sort();
        let n_docs = (docs.len() + extra.len()) as f32;
        let idf: Vec<f32> = grams
            .iter()
            .map(|w| ((1.0 + n_docs) / (1.0 + df[w.as_str()] as f32)).ln() + 1.0)
            .collect();
        let mut labels: Vec<String> = examples.iter().map(|e| e.label.clone()).collect();
        labels.sort();
        labels.dedup();
        let mut model = Model {
            version: MODEL_VERSION,
            labels,
            grams,
            idf,
            weights: Vec::new(),
            temperature: DEFAULT_TEMPERATURE,
            calibrated: false,
            support: Vec::new(),
            index: HashMap::new(),
        };
        model.reindex();
        let xs: Vec<Sparse> = docs.iter().map(|d| model.vectorize(d)).collect();
        let dim = model.grams.len() + 1;
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
                    opts.c * (n / (k as f64 * f64::from(s))).min(opts.max_class_weight)
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
                svm::train_binary(&xs, &y, &cost, dim, opts, c as u64)
            })
            .collect();
        model
    }

    fn reindex(&mut self) {
        self.index = self
            .grams
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i as u32))
            .collect();
    }

    /// Reads a model saved with `to_json`; a model of another format is refused.
    pub fn from_json(text: &str) -> Result<Model, String> {
        let mut m: Model = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if m.version != MODEL_VERSION {
            return Err(format!(
                "a model of format {} (this version reads {MODEL_VERSION}): train it again",
                m.version
            ));
        }
        m.reindex();
        Ok(m)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a model serialises")
    }

    /// TF-IDF of a document's features, unit length, features ascending.
    fn vectorize(&self, features: &[String]) -> Sparse {
        let mut counts: HashMap<u32, u32> = HashMap::new();
        for w in features {
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

    /// Each category's raw score, in the order of `labels`.
    fn raw_scores(&self, x: &Sparse) -> Vec<f32> {
        let bias = self.grams.len();
        self.weights
            .iter()
            .map(|w| w[bias] + x.iter().map(|(i, v)| w[*i as usize] * v).sum::<f32>())
            .collect()
    }

    /// Every category ranked for a text already cut into features (no explanation).
    pub fn rank_features(&self, features: &[String]) -> Vec<Scored> {
        self.rank(&self.vectorize(features))
    }

    fn rank(&self, x: &Sparse) -> Vec<Scored> {
        let scores = self.raw_scores(x);
        let probs = softmax(&scores, self.temperature);
        let mut ranked: Vec<Scored> = self
            .labels
            .iter()
            .zip(scores.iter().zip(&probs))
            .map(|(l, (s, p))| Scored {
                label: l.clone(),
                confidence: *p as f32,
                score: *s,
            })
            .collect();
        ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.label.cmp(&b.label)));
        ranked
    }

    /// Classifies a titled text, and says which of its words decided.
    pub fn predict(&self, title: &str, body: &str) -> Prediction {
        let x = self.vectorize(&document(title, body, TrainOptions::default().title_weight));
        let ranked = self.rank(&x);
        let because = match ranked.first() {
            Some(top) => {
                let c = self.labels.binary_search(&top.label).expect("label");
                self.evidence(&format!("{title}。{body}"), &x, c)
            }
            None => Vec::new(),
        };
        Prediction { ranked, because }
    }

    /// How alike two texts are in the model's own terms: the cosine of their TF-IDF
    /// vectors of characters and character pairs (0..1). A character rare in the
    /// hotline's texts (`灌`, `堵`) counts more than a common one (`的`, `问`).
    pub fn similarity(&self, a: &str, b: &str) -> f32 {
        let va = self.vectorize(&grams(a));
        let vb = self.vectorize(&grams(b));
        let (mut i, mut j, mut dot) = (0, 0, 0f32);
        while i < va.len() && j < vb.len() {
            match va[i].0.cmp(&vb[j].0) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    dot += va[i].1 * vb[j].1;
                    i += 1;
                    j += 1;
                }
            }
        }
        dot.clamp(0.0, 1.0)
    }

    /// The words of the text that weigh most for category `c`: each word (never a function
    /// word, a quantity or a time) weighs what its characters and character pairs add to
    /// the category's score.
    fn evidence(&self, text: &str, x: &Sparse, c: usize) -> Vec<(String, f32)> {
        let value: HashMap<u32, f32> = x.iter().copied().collect();
        let mut seen = std::collections::HashSet::new();
        let mut parts: Vec<(String, f32)> = words(text)
            .into_iter()
            .filter(|w| is_evidence(w) && seen.insert(w.clone()))
            .map(|w| {
                let weight: f32 = word_grams(&w)
                    .iter()
                    .filter_map(|g| self.index.get(g))
                    .map(|i| self.weights[c][*i as usize] * value.get(i).copied().unwrap_or(0.0))
                    .sum();
                (w, weight)
            })
            .filter(|p| p.1 > 0.0)
            .collect();
        parts.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        parts.truncate(6);
        parts
    }
}

/// Softmax of `scores × temperature`, in f64.
fn softmax(scores: &[f32], temperature: f32) -> Vec<f64> {
    let t = f64::from(temperature);
    let max = scores.iter().copied().fold(f32::MIN, f32::max);
    let exp: Vec<f64> = scores
        .iter()
        .map(|s| (f64::from(s - max) * t).exp())
        .collect();
    let total: f64 = exp.iter().sum();
    exp.iter()
        .map(|e| if total > 0.0 { e / total } else { 0.0 })
        .collect()
}

/// The temperature at which a cross-validation of the training texts is least surprised
/// (lowest mean negative log-likelihood of the true category), when there are enough
/// texts: at most `calibration_limit` of them, an even share of each category, in
/// `calibration_folds` stratified folds, each scored by machines trained on the others.
fn fit_temperature(
    examples: &[Example],
    docs: &[Vec<String>],
    extra: &[Vec<String>],
    opts: &TrainOptions,
) -> Option<f32> {
    if opts.calibration_folds < 2 {
        return None;
    }
    let chosen = even_share(examples, opts.calibration_limit);
    let labels: Vec<String> = chosen.iter().map(|&i| examples[i].label.clone()).collect();
    let mut distinct = labels.clone();
    distinct.sort();
    distinct.dedup();
    if chosen.len() < MIN_CALIBRATION_TEXTS || distinct.len() < 2 {
        return None;
    }
    // Texts alike in what they open with (the same title; a template's tickets) fall in
    // the same fold: a text is never scored by machines that learned its near twin, which
    // would make the confidences look surer than they will be on new requests.
    let k = opts.calibration_folds;
    let mut folds = vec![Vec::new(); k];
    for (j, &i) in chosen.iter().enumerate() {
        let e = &examples[i];
        let opening: String = if e.title.trim().is_empty() {
            e.body.chars().take(12).collect()
        } else {
            e.title.trim().to_string()
        };
        folds[(fnv(&format!("{}\u{1}{opening}", e.label)) % k as u64) as usize].push(j);
    }
    let fold_opts = TrainOptions {
        calibration_folds: 0,
        ..*opts
    };
    // (scores of every category of the fold's model, index of the truth among them)
    let mut scored: Vec<(Vec<f32>, usize)> = Vec::new();
    for held in &folds {
        let is_held = |j: &usize| held.binary_search(j).is_ok();
        let kept: Vec<usize> = (0..chosen.len()).filter(|j| !is_held(j)).collect();
        let fit_set: Vec<Example> = kept.iter().map(|&j| examples[chosen[j]].clone()).collect();
        let fit_docs: Vec<Vec<String>> = kept.iter().map(|&j| docs[chosen[j]].clone()).collect();
        let m = Model::fit(&fit_set, &fit_docs, extra, &fold_opts);
        if m.labels.len() < 2 {
            continue;
        }
        for &j in held {
            let i = chosen[j];
            if let Ok(truth) = m.labels.binary_search(&examples[i].label) {
                scored.push((m.raw_scores(&m.vectorize(&docs[i])), truth));
            }
        }
    }
    if scored.len() < MIN_CALIBRATION_TEXTS {
        return None;
    }
    let nll = |t: f64| -> f64 {
        scored
            .iter()
            .map(|(s, truth)| -(softmax(s, t as f32)[*truth].max(1e-12)).ln())
            .sum::<f64>()
            / scored.len() as f64
    };
    // Golden-section search over ln t in [ln 0.05, ln 100].
    let (mut a, mut b) = (0.05f64.ln(), 100f64.ln());
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let (mut c, mut d) = (b - g * (b - a), a + g * (b - a));
    let (mut fc, mut fd) = (nll(c.exp()), nll(d.exp()));
    for _ in 0..40 {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = nll(c.exp());
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = nll(d.exp());
        }
    }
    Some(((a + b) / 2.0).exp() as f32)
}

/// FNV-1a: a stable hash (the standard library's changes between releases).
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// At most `limit` example indexes, each category taking an even share (a category with
/// fewer gives the rest to the others), spread over each category's examples.
fn even_share(examples: &[Example], limit: usize) -> Vec<usize> {
    if examples.len() <= limit {
        return (0..examples.len()).collect();
    }
    let mut by_class: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    for (i, e) in examples.iter().enumerate() {
        by_class.entry(e.label.as_str()).or_default().push(i);
    }
    let mut sizes: Vec<(&str, usize)> = by_class.iter().map(|(l, v)| (*l, v.len())).collect();
    sizes.sort_by_key(|x| x.1);
    let mut left = limit;
    let mut quota: HashMap<&str, usize> = HashMap::new();
    for (n, (label, size)) in sizes.iter().enumerate() {
        let share = left / (sizes.len() - n);
        let take = share.min(*size);
        quota.insert(label, take);
        left -= take;
    }
    let mut out = Vec::new();
    for (label, idx) in &by_class {
        let take = quota[label];
        // Spread evenly over the category's examples (newest and oldest alike).
        for k in 0..take {
            out.push(idx[k * idx.len() / take]);
        }
    }
    out.sort_unstable();
    out
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
}
