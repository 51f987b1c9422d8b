//! Precision, recall and F1 from counts of right and wrong answers, as the evaluation
//! commands report them.

/// True and false positives and false negatives of one field or finding.
#[derive(Default, Clone, Copy)]
pub struct Counts {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
}

impl Counts {
    /// A yes/no answer: found or not, and whether it should have been.
    pub fn answer(&mut self, got: bool, want: bool) {
        match (got, want) {
            (true, true) => self.tp += 1,
            (true, false) => self.fp += 1,
            (false, true) => self.fn_ += 1,
            (false, false) => {}
        }
    }

    /// A field with one value: right when equal; a wrong value is both a false positive
    /// and a false negative. Whether it was right.
    pub fn single(&mut self, got: &Option<String>, want: &Option<String>) -> bool {
        match (got, want) {
            (Some(g), Some(w)) if g == w => self.tp += 1,
            (Some(_), Some(_)) => {
                self.fp += 1;
                self.fn_ += 1;
            }
            (Some(_), None) => self.fp += 1,
            (None, Some(_)) => self.fn_ += 1,
            (None, None) => {}
        }
        got == want
    }

    /// Precision, recall and F1; a ratio with nothing to count is 1.
    pub fn figures(&self) -> (f64, f64, f64) {
        let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
        let p = ratio(self.tp, self.tp + self.fp);
        let r = ratio(self.tp, self.tp + self.fn_);
        let f = if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        };
        (p, r, f)
    }
}
