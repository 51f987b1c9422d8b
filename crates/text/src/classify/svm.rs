//! One class against the rest: the linear support-vector machine each category gets.

use super::Sparse;
use super::TrainOptions;

/// One class against the rest: L2-regularised squared-hinge SVM, bias as a constant
/// feature, by dual coordinate descent (each example's dual variable in turn, in a shuffled
/// order, until the projected gradient is flat).
pub(super) fn train_binary(
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
pub(super) struct Lcg(pub(super) u64);

impl Lcg {
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}
