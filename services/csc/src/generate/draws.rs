//! Seeded draws and the calendar arithmetic the generator needs.

use chrono::{Duration, NaiveDate};
use csc_core::workdays::is_working_day;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub(super) struct Draw(ChaCha8Rng);

impl Draw {
    /// The draws of one LA: the seed mixed with its code, so that LAs of one run differ.
    pub(super) fn for_la(seed: u64, la: &str) -> Self {
        Draw(ChaCha8Rng::seed_from_u64(
            seed ^ la
                .bytes()
                .fold(0u64, |h, b| h.wrapping_mul(131).wrapping_add(u64::from(b))),
        ))
    }

    pub(super) fn p(&mut self, p: f64) -> bool {
        self.0.random_bool(p.clamp(0.0, 1.0))
    }
    pub(super) fn unit(&mut self) -> f64 {
        self.0.random::<f64>()
    }
    pub(super) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            self.0.random_range(lo..=hi)
        }
    }
    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.0.random_range(0..items.len())]
    }
    pub(super) fn weighted<'a, T>(&mut self, items: &'a [(f64, T)]) -> &'a T {
        let total: f64 = items.iter().map(|(w, _)| w).sum();
        let mut x = self.unit() * total;
        for (w, t) in items {
            if x < *w {
                return t;
            }
            x -= w;
        }
        &items[items.len() - 1].1
    }
    /// Exponentially distributed days with this mean, at least `min`.
    pub(super) fn exp_days(&mut self, mean: f64, min: i64) -> i64 {
        let u = self.unit().max(1e-12);
        ((-u.ln() * mean) as i64).max(min)
    }
    /// A Poisson count (normal approximation for large means).
    pub(super) fn poisson(&mut self, lambda: f64) -> u64 {
        if lambda > 50.0 {
            // Box–Muller.
            let (u1, u2) = (self.unit().max(1e-12), self.unit());
            let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
            return (lambda + z * lambda.sqrt()).round().max(0.0) as u64;
        }
        let l = (-lambda).exp();
        let (mut k, mut p) = (0u64, 1.0);
        loop {
            p *= self.unit();
            if p <= l {
                return k;
            }
            k += 1;
        }
    }
    pub(super) fn normal(&mut self, mean: f64, sd: f64) -> f64 {
        let (u1, u2) = (self.unit().max(1e-12), self.unit());
        mean + sd * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

pub(super) fn add_working_days(d: NaiveDate, n: i64) -> NaiveDate {
    let mut x = d;
    let mut left = n;
    while left > 0 {
        x += Duration::days(1);
        if is_working_day(x) {
            left -= 1;
        }
    }
    x
}

pub(super) fn next_working_day(d: NaiveDate) -> NaiveDate {
    let mut x = d;
    while !is_working_day(x) {
        x += Duration::days(1);
    }
    x
}

pub(super) fn dmy(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

pub(super) fn opt(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}
