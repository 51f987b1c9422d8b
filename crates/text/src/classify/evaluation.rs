//! How well predictions match the truth: per-class figures, macro-F1, top-k accuracy and
//! calibration (does a proposal shown at 70 % turn out right 70 % of the time?), and the
//! stratified folds of a cross-validation.

use serde::Serialize;

use super::svm::Lcg;

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

/// The share of texts whose true category is among the first `k` proposed.
/// `ranked[i]` lists text i's categories, most likely first.
pub fn top_k_accuracy(truth: &[String], ranked: &[Vec<String>], k: usize) -> f64 {
    if truth.is_empty() {
        return 0.0;
    }
    let hits = truth
        .iter()
        .zip(ranked)
        .filter(|(t, r)| r.iter().take(k).any(|l| l == *t))
        .count();
    hits as f64 / truth.len() as f64
}

/// Proposals whose confidence fell in one band.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ReliabilityBin {
    /// The band, `from` included, `to` excluded (1.0 included in the last band).
    pub from: f64,
    pub to: f64,
    pub count: usize,
    /// The mean confidence shown for them.
    pub confidence: f64,
    /// The share of them that was right.
    pub accuracy: f64,
}

/// How far confidences are from the truth.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Calibration {
    /// Ten bands of width 0.1; empty bands included.
    pub bins: Vec<ReliabilityBin>,
    /// Expected calibration error: the gap between confidence and accuracy in each band,
    /// weighed by the share of proposals in it.
    pub ece: f64,
}

/// Calibration of (confidence of the first proposal, was it right) pairs.
pub fn calibration(proposals: &[(f64, bool)]) -> Calibration {
    const BANDS: usize = 10;
    let mut sums = vec![(0usize, 0f64, 0usize); BANDS];
    for &(conf, right) in proposals {
        let band = ((conf.clamp(0.0, 1.0) * BANDS as f64) as usize).min(BANDS - 1);
        sums[band].0 += 1;
        sums[band].1 += conf;
        sums[band].2 += usize::from(right);
    }
    let n = proposals.len().max(1) as f64;
    let bins: Vec<ReliabilityBin> = sums
        .iter()
        .enumerate()
        .map(|(b, &(count, conf, right))| ReliabilityBin {
            from: b as f64 / BANDS as f64,
            to: (b + 1) as f64 / BANDS as f64,
            count,
            confidence: if count > 0 { conf / count as f64 } else { 0.0 },
            accuracy: if count > 0 {
                right as f64 / count as f64
            } else {
                0.0
            },
        })
        .collect();
    let ece = bins
        .iter()
        .map(|b| b.count as f64 / n * (b.confidence - b.accuracy).abs())
        .sum();
    Calibration { bins, ece }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn top_k_counts_by_hand() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let truth = s(&["a", "b", "c", "a"]);
        let ranked = vec![
            s(&["a", "b", "c"]),
            s(&["a", "b", "c"]),
            s(&["a", "b", "c"]),
            s(&["c", "b", "a"]),
        ];
        assert_eq!(top_k_accuracy(&truth, &ranked, 1), 0.25);
        assert_eq!(top_k_accuracy(&truth, &ranked, 2), 0.5);
        assert_eq!(top_k_accuracy(&truth, &ranked, 3), 1.0);
    }

    #[test]
    fn calibration_by_hand() {
        // Band 0.9–1.0: 0.95 and 0.95, one right → confidence 0.95, accuracy 0.5.
        // Band 0.6–0.7: 0.65 three times, all right → gap 0.35.
        // ECE = 2/5 × 0.45 + 3/5 × 0.35 = 0.18 + 0.21 = 0.39.
        let c = calibration(&[
            (0.95, true),
            (0.95, false),
            (0.65, true),
            (0.65, true),
            (0.65, true),
        ]);
        assert_eq!(c.bins.len(), 10);
        assert_eq!(c.bins[9].count, 2);
        assert!((c.bins[9].accuracy - 0.5).abs() < 1e-9);
        assert_eq!(c.bins[6].count, 3);
        assert!((c.ece - 0.39).abs() < 1e-9, "{}", c.ece);
        // A confidence of exactly 1 falls in the last band.
        assert_eq!(calibration(&[(1.0, true)]).bins[9].count, 1);
    }
}
