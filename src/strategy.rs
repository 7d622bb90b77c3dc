//! Proptest strategies for exact inputs, exported for users' own property tests.
//!
//! Shape-dependent values are built with `prop_flat_map`, as nalgebra's strategies are.

use crate::ops::{Linear, Mlp};
use crate::scalar::{Ordered, Ring, Q};
use crate::tensor::Tensor;
use num_bigint::BigInt;
use proptest::prelude::*;
use std::cmp::Ordering;

/// Small fractions `p/q` with `|p| ≤ 9`, `1 ≤ q ≤ 9`: readable derivations.
pub fn small_q() -> impl Strategy<Value = Q> + Clone {
    (-9i64..=9, 1i64..=9).prop_map(|(p, q)| Q::new(p.into(), q.into()))
}

/// Fractions with numerators and denominators of up to `bits` bits (hundreds of bits stress the
/// exactness that floats cannot give).
pub fn huge_q(bits: u32) -> impl Strategy<Value = Q> + Clone {
    let words = bits.div_ceil(32) as usize;
    let int = move || {
        proptest::collection::vec(any::<u32>(), words)
            .prop_map(|w| BigInt::from_slice(num_bigint::Sign::Plus, &w))
    };
    (any::<bool>(), int(), int()).prop_map(|(neg, p, q)| {
        let v = Q::new(p, q + BigInt::from(1));
        if neg {
            -v
        } else {
            v
        }
    })
}

/// The exact value of a finite `f64` in `[-2, 2]` (a dyadic rational, as every float is).
pub fn f64_q() -> impl Strategy<Value = Q> + Clone {
    (-2.0f64..2.0).prop_map(|v| Q::from_float(v).expect("finite"))
}

/// A mix of small, huge (up to 256 bits) and float-exact rationals.
pub fn any_q() -> impl Strategy<Value = Q> + Clone {
    prop_oneof![4 => small_q(), 1 => huge_q(256), 1 => f64_q()]
}

/// A tensor of `shape` with entries from `elem`.
pub fn tensor<E: Strategy<Value = Q> + Clone>(
    shape: Vec<usize>,
    elem: E,
) -> impl Strategy<Value = Tensor<Q>> {
    let n: usize = shape.iter().product();
    proptest::collection::vec(elem, n)
        .prop_map(move |data| Tensor::new(shape.clone(), data).expect("length matches shape"))
}

/// A linear layer `n → m` with entries from `elem`.
pub fn linear<E: Strategy<Value = Q> + Clone>(
    n: usize,
    m: usize,
    elem: E,
) -> impl Strategy<Value = Linear<Q>> {
    (tensor(vec![m, n], elem.clone()), tensor(vec![m], elem))
        .prop_map(|(w, b)| Linear::new(w, b).expect("shapes agree"))
}

/// An MLP `n → h → m`, an input `x` away from every kink, and a cotangent `δ`.
///
/// Instead of rejecting inputs on a kink (which would cost rejections), a hidden unit whose
/// pre-activation is exactly zero gets its bias moved by one, which keeps the case random and
/// exact.
pub fn mlp_case<E: Strategy<Value = Q> + Clone>(
    n: usize,
    h: usize,
    m: usize,
    elem: E,
) -> impl Strategy<Value = (Mlp<Q>, Tensor<Q>, Tensor<Q>)> {
    (
        tensor(vec![h, n], elem.clone()),
        tensor(vec![h], elem.clone()),
        linear(h, m, elem.clone()),
        tensor(vec![n], elem.clone()),
        tensor(vec![m], elem),
    )
        .prop_map(|(w1, b1, l2, x, dy)| {
            let z1 = w1.mat_vec_mul(&x).expect("shapes agree");
            let b1 = b1
                .zip_with(&z1, |b, z| {
                    if b.add_ref(z).sign() == Ordering::Equal {
                        b.add_ref(&Q::from_i64(1))
                    } else {
                        b.clone()
                    }
                })
                .expect("shapes agree");
            let mlp = Mlp::from_layers(Linear::new(w1, b1).expect("shapes agree"), l2)
                .expect("sizes chain");
            (mlp, x, dy)
        })
}

/// Dimensions `(n, h, m)` each in `1..=max`, then an [`mlp_case`] of those dimensions.
pub fn any_mlp_case(max: usize) -> impl Strategy<Value = (Mlp<Q>, Tensor<Q>, Tensor<Q>)> {
    (1..=max, 1..=max, 1..=max).prop_flat_map(|(n, h, m)| mlp_case(n, h, m, any_q()))
}

/// Draws one value of `strategy` deterministically from `seed` (what the binary's `--seed` uses).
pub fn sample<T: Strategy>(strategy: T, seed: u64) -> T::Value {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    strategy
        .new_tree(&mut runner)
        .expect("these strategies never reject")
        .current()
}
