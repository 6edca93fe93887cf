//! Two things measured in rounds in which they take turns: the rates over
//! all rounds, and the median of the rounds' ratios with their range.

use std::time::Duration;

/// The times of each round of two contenders, `a` and `b`.
#[derive(Default)]
pub struct Rounds {
    a: Duration,
    b: Duration,
    ratios: Vec<f64>,
}

impl Rounds {
    /// One round: `a` took `a`, `b` took `b` for the same calls.
    pub fn push(&mut self, a: Duration, b: Duration) {
        self.a += a;
        self.b += b;
        // a's rate over b's.
        self.ratios.push(b.as_secs_f64() / a.as_secs_f64());
    }

    /// Prints `what`: each one's rate over `calls` calls in all, named
    /// `a` and `b`, and the median ratio, against `target` when given.
    pub fn report(mut self, what: &str, calls: usize, (a, b): (&str, &str), target: Option<f64>) {
        let rate = |d: Duration| calls as f64 / d.as_secs_f64();
        self.ratios.sort_by(f64::total_cmp);
        let ratio = self.ratios[self.ratios.len() / 2];
        let verdict = match target {
            Some(target) if ratio >= target => format!(" (target {target}: met)"),
            Some(target) => format!(" (target {target}: NOT met)"),
            None => String::new(),
        };
        println!(
            "{what}: {a} {:.0} commands/s, {b} {:.0} commands/s: ratio {ratio:.2} \
             (median of {} rounds taking turns; from {:.2} to {:.2}){verdict}",
            rate(self.a),
            rate(self.b),
            self.ratios.len(),
            self.ratios[0],
            self.ratios[self.ratios.len() - 1],
        );
    }
}
