//! The benchmark networks, shared by the criterion benches and `examples/peer_data.rs` (which
//! writes them for the peer scripts), so that every implementation sees the same numbers.

#![allow(dead_code)]

use exactgrad::ops::Mlp;
use exactgrad::{Ordered, Ring, Tensor, Q};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use std::cmp::Ordering;

/// The sizes `(in, hidden, out)` of the issue.
pub const SIZES: [(usize, usize, usize); 4] =
    [(16, 16, 4), (64, 64, 10), (256, 128, 10), (784, 512, 10)];

/// The two kinds of weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weights {
    /// (a) small fractions `p/q`, `|p|, |q| ≤ 100`.
    SmallFractions,
    /// (b) exact values of `f64` weights drawn `N(0, 1)/√fan_in`.
    ExactF64,
}

impl Weights {
    /// `"a"` or `"b"`, as in the peer scripts' file names.
    pub fn case(self) -> &'static str {
        match self {
            Weights::SmallFractions => "a",
            Weights::ExactF64 => "b",
        }
    }
}

/// `"256x128x10"`.
pub fn size_name((n, h, m): (usize, usize, usize)) -> String {
    format!("{n}x{h}x{m}")
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    // Box–Muller: rand_distr is not a dependency for one distribution.
    let u: f64 = rng.random_range(f64::EPSILON..1.0);
    let v: f64 = rng.random();
    (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

fn draw(rng: &mut ChaCha8Rng, kind: Weights, fan_in: usize, count: usize) -> Vec<Q> {
    (0..count)
        .map(|_| match kind {
            Weights::SmallFractions => {
                let p: i64 = rng.random_range(-100..=100);
                let q: i64 = rng.random_range(1..=100);
                Q::new(p.into(), q.into())
            }
            Weights::ExactF64 => {
                Q::from_float(normal(rng) / (fan_in as f64).sqrt()).expect("finite")
            }
        })
        .collect()
}

/// The network and input of one benchmark case (deterministic), with no hidden unit on a kink.
pub fn case((n, h, m): (usize, usize, usize), kind: Weights) -> (Mlp, Tensor<Q>) {
    let seed =
        (n * 1_000_003 + h * 1009 + m) as u64 ^ if kind == Weights::ExactF64 { 0xb } else { 0xa };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let w1 = Tensor::new(vec![h, n], draw(&mut rng, kind, n, h * n)).expect("shape");
    let mut b1 = draw(&mut rng, kind, n, h);
    let w2 = Tensor::new(vec![m, h], draw(&mut rng, kind, h, m * h)).expect("shape");
    let b2 = Tensor::from_vec(draw(&mut rng, kind, h, m));
    let x = Tensor::from_vec(draw(&mut rng, kind, 1, n));
    let z = w1.mat_vec_mul(&x).expect("shape");
    for (b, z) in b1.iter_mut().zip(z.data()) {
        if b.add_ref(z).sign() == Ordering::Equal {
            *b = b.add_ref(&Q::from_i64(1));
        }
    }
    let mlp = Mlp::new(w1, Tensor::from_vec(b1), w2, b2).expect("shapes chain");
    (mlp, x)
}

/// A cotangent of the output size with small non-zero integer entries.
pub fn cotangent(m: usize) -> Tensor<Q> {
    Tensor::from_vec(
        (0..m as i64)
            .map(|i| Q::from_i64(if i % 2 == 0 { i + 1 } else { -i - 1 }))
            .collect(),
    )
}
