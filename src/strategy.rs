//! Proptest strategies for exact inputs, exported for users' own property tests.
//!
//! Shape-dependent values are built with `prop_flat_map`, as nalgebra's strategies are.
//!
//! | strategy | values |
//! |---|---|
//! | [`small_q`], [`huge_q`], [`f64_q`], [`any_q`] | rationals: readable, hundreds of bits, exact floats |
//! | [`tensor`], [`size_aware_tensor`], [`any_shape`], [`shaped_tensor`] | tensors of a given shape (long entries at a few positions of a wide one), or of a drawn shape |
//! | [`away_from_kinks`] / [`on_kink`] | inputs of an op off every kink / exactly on one |
//! | [`linear`], [`mlp`], [`linear_case`], [`mlp_case`], [`any_mlp_case`] | random layers and networks with inputs |
//!
//! None of them rejects a value while generating (except [`on_kink`] for an op that has no
//! kink to land on): a point on a kink is *moved* off it ([`nudge_off_kinks`]), which keeps the
//! sample random and exact and costs no proptest rejections.

use crate::error::Result;
use crate::ops::{Linear, Mlp, OpSpec};
use crate::scalar::{Dual, Field, Ordered, Ring, Scalar, Q};
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
///
/// # Panics
/// When the shape's element count overflows `usize` ([`crate::tensor::element_count`]): a
/// strategy has no error to return, so check a shape from user data first.
pub fn tensor<E: Strategy<Value = Q> + Clone>(
    shape: Vec<usize>,
    elem: E,
) -> impl Strategy<Value = Tensor<Q>> {
    let n = crate::tensor::element_count(&shape).unwrap_or_else(|e| panic!("tensor: {e}"));
    proptest::collection::vec(elem, n)
        .prop_map(move |data| Tensor::new(shape.clone(), data).expect("length matches shape"))
}

/// Tensors with at most this many entries draw every entry from the full mix in
/// [`size_aware_tensor`].
pub const FULL_MIX_ENTRIES: usize = 16;

/// The most long entries [`size_aware_tensor`] puts into a larger tensor.
pub const LONG_ENTRIES: usize = 2;

/// A tensor of `shape` whose entries cost what they test: with at most [`FULL_MIX_ENTRIES`]
/// entries every entry comes from `full`; a larger tensor takes its entries from `cheap` and puts
/// values from `long` at up to [`LONG_ENTRIES`] drawn positions (possibly none).
///
/// Long, mostly coprime denominators are what exactness is tested with, but a sum of `n` of them
/// has a denominator of about `n` times their length: a wide layer with a long entry on every
/// coordinate makes every dot product, and so every case, cost quadratically more without
/// testing anything a few long entries do not.
///
/// # Panics
/// When the shape's element count overflows `usize`, as [`tensor`] does.
pub fn size_aware_tensor<F, C, L>(
    shape: Vec<usize>,
    full: F,
    cheap: C,
    long: L,
) -> BoxedStrategy<Tensor<Q>>
where
    F: Strategy<Value = Q> + Clone + 'static,
    C: Strategy<Value = Q> + Clone + 'static,
    L: Strategy<Value = Q> + Clone + 'static,
{
    let n = crate::tensor::element_count(&shape).unwrap_or_else(|e| panic!("tensor: {e}"));
    if n <= FULL_MIX_ENTRIES {
        return tensor(shape, full).boxed();
    }
    let placed = proptest::collection::vec((0..n, long), 0..=LONG_ENTRIES);
    (proptest::collection::vec(cheap, n), placed)
        .prop_map(move |(mut data, placed)| {
            for (k, v) in placed {
                data[k] = v;
            }
            Tensor::new(shape.clone(), data).expect("length matches shape")
        })
        .boxed()
}

/// A linear layer `n → m` with entries from `elem`.
pub fn linear<E: Strategy<Value = Q> + Clone>(
    n: usize,
    m: usize,
    elem: E,
) -> impl Strategy<Value = Linear> {
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
) -> impl Strategy<Value = (Mlp, Tensor<Q>, Tensor<Q>)> {
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
pub fn any_mlp_case(max: usize) -> impl Strategy<Value = (Mlp, Tensor<Q>, Tensor<Q>)> {
    (1..=max, 1..=max, 1..=max).prop_flat_map(|(n, h, m)| mlp_case(n, h, m, any_q()))
}

/// A random MLP `n → h → m` with entries from `elem` (no input: pair it with
/// [`away_from_kinks`] or use [`mlp_case`]).
pub fn mlp<E: Strategy<Value = Q> + Clone>(
    n: usize,
    h: usize,
    m: usize,
    elem: E,
) -> impl Strategy<Value = Mlp> {
    (linear(n, h, elem.clone()), linear(h, m, elem))
        .prop_map(|(l1, l2)| Mlp::from_layers(l1, l2).expect("sizes chain"))
}

/// Dimensions `(n, m)` each in `1..=max`, then a layer `n → m`, an input, a tangent and a
/// cotangent of the matching sizes (shape-dependent, so built with `prop_flat_map`).
pub fn linear_case<E: Strategy<Value = Q> + Clone + 'static>(
    max: usize,
    elem: E,
) -> impl Strategy<Value = (Linear, Tensor<Q>, Tensor<Q>, Tensor<Q>)> {
    (1..=max, 1..=max).prop_flat_map(move |(n, m)| {
        (
            linear(n, m, elem.clone()),
            tensor(vec![n], elem.clone()),
            tensor(vec![n], elem.clone()),
            tensor(vec![m], elem.clone()),
        )
    })
}

/// A shape of rank `0..=max_rank` with every dimension in `1..=max_dim`.
pub fn any_shape(max_rank: usize, max_dim: usize) -> impl Strategy<Value = Vec<usize>> + Clone {
    proptest::collection::vec(1..=max_dim, 0..=max_rank)
}

/// A drawn shape (see [`any_shape`]) and a tensor of that shape with entries from `elem`.
pub fn shaped_tensor<E: Strategy<Value = Q> + Clone + 'static>(
    max_rank: usize,
    max_dim: usize,
    elem: E,
) -> impl Strategy<Value = Tensor<Q>> {
    any_shape(max_rank, max_dim).prop_flat_map(move |shape| tensor(shape, elem.clone()))
}

/// A fixed, non-degenerate probe of `shape`: entries `±(1 + (k + salt) mod 9)/(2 + k mod 7)`
/// with alternating signs, so no entry is zero and neighbours differ, while every denominator
/// divides 840: a probe of a wide layer stays cheap to multiply exactly.
/// [`crate::Error::SizeOverflow`] for a shape no tensor can have (see [`Tensor::from_fn`]).
pub fn probe<S: Scalar>(shape: &[usize], salt: i64) -> Result<Tensor<S>> {
    Tensor::from_fn(shape, |k| {
        // Offsets past i64::MAX cannot be held in memory; wrapping keeps the map total.
        let k = k as i64;
        let v = S::from_i64(1 + (k.wrapping_add(salt)).rem_euclid(9))
            .checked_div(&S::from_i64(2 + k.rem_euclid(7)))
            .expect("2 + k mod 7 > 0");
        if k % 2 == 0 {
            v
        } else {
            v.neg_ref()
        }
    })
}

/// How many points [`nudge_off_kinks`] tries before giving up.
const NUDGE_TRIES: i64 = 24;

/// `x` itself when no guard of `op` is zero there; otherwise the first point
/// `x + t·p` off every kink, for `t = 1/2, −1/2, 1/3, −1/3, …` and two fixed directions `p`
/// ([`probe`] with different salts) taken in turn.
///
/// For a piecewise-linear op each guard is affine along the line, so only finitely many `t` put
/// it back on zero and a few tries suffice. When every try fails (a guard that is zero on a whole
/// neighbourhood, e.g. a ReLU fed by a zero row and zero bias) `x` is returned unchanged and the
/// caller sees the kink; [`crate::check::check_op`] then draws a new point and counts it.
pub fn nudge_off_kinks<O: OpSpec<Q> + ?Sized>(op: &O, x: Tensor<Q>) -> Tensor<Q> {
    nudge_off_kinks_over::<Q, O>(op, x)
}

/// [`nudge_off_kinks`] with the guards evaluated over the exact scalar `B` (over [`crate::Ex`]
/// for ops whose guards follow an `exp`); the point itself stays rational.
pub fn nudge_off_kinks_over<B: Scalar, O: OpSpec<B> + ?Sized>(op: &O, x: Tensor<Q>) -> Tensor<Q> {
    if off_kinks::<B, O>(op, &x) {
        return x;
    }
    // x holds a tensor of its shape, so probes of it can be made.
    let (Ok(first), Ok(second)) = (probe::<Q>(x.shape(), 0), probe::<Q>(x.shape(), 3)) else {
        return x;
    };
    let directions = [first, second];
    for k in 0..NUDGE_TRIES {
        let denom = Q::from_i64(k / 2 + 2);
        let t = Q::from_i64(if k % 2 == 0 { 1 } else { -1 })
            .checked_div(&denom)
            .expect("k / 2 + 2 > 0");
        let p = &directions[(k / 2 % 2) as usize];
        let moved = x.add(&p.scale(&t)).expect("the probe has x's shape");
        if off_kinks::<B, O>(op, &moved) {
            return moved;
        }
    }
    x
}

/// Whether every guard of `op` at `x` is non-zero (a guard error counts as "not known to be off").
fn off_kinks<B: Scalar, O: OpSpec<B> + ?Sized>(op: &O, x: &Tensor<Q>) -> bool {
    op.guards(&x.lifted::<B>())
        .is_ok_and(|gs| gs.iter().all(|g| g.value.sign() != Ordering::Equal))
}

/// `x` moved into the op's domain, as far as a sign flip can: while `forward` over `B` answers
/// [`crate::Error::OutsideDomain`] at a coordinate of the input (`ln` of a value `≤ 0`) or
/// divides by zero there (a pole of `Div`, `Power(−2)`), that entry is negated (a zero becomes
/// 1), at most twice per entry. For a primitive op such as
/// `Log` this lands every draw in the domain; where the refused coordinate belongs to an inner
/// op of a composition, or no flip helps, `x` comes back as it is and the run redraws it.
pub fn into_domain<B: Scalar, O: OpSpec<B> + ?Sized>(op: &O, mut x: Tensor<Q>) -> Tensor<Q> {
    for _ in 0..2 * x.len().max(1) {
        let refused = op
            .forward(&x.lifted::<B>())
            .map_err(crate::Error::pole_as_outside_domain);
        let Err(crate::Error::OutsideDomain { coordinate, .. }) = refused else {
            return x;
        };
        let Ok(k) = x.offset(&coordinate) else {
            return x;
        };
        let mut data = x.data().to_vec();
        data[k] = if num_traits::Zero::is_zero(&data[k]) {
            Q::from_i64(1)
        } else {
            data[k].neg_ref()
        };
        x = Tensor::new(x.shape().to_vec(), data).expect("same shape");
    }
    x
}

/// Inputs from `xs`, each moved off every kink of `op` by [`nudge_off_kinks`] (no rejections).
pub fn away_from_kinks<'a, O, X>(op: &'a O, xs: X) -> impl Strategy<Value = Tensor<Q>> + 'a
where
    O: OpSpec<Q> + ?Sized,
    X: Strategy<Value = Tensor<Q>> + 'a,
{
    xs.prop_map(move |x| nudge_off_kinks(op, x))
}

/// A point exactly on a kink of `op` near `x`: the guard number `pick` (modulo the number of
/// guards; the next one if that fails) is brought to zero by moving one coordinate,
/// `x_j ← x_j − g(x) / ∂g/∂x_j`, with the gradient of the guard from dual numbers. The move is
/// exact for guards affine on the piece containing the step; the result is verified, and `None`
/// means no guard could be zeroed (an op without kinks, or guards with zero gradient).
pub fn onto_kink<O>(op: &O, x: &Tensor<Q>, pick: usize) -> Option<Tensor<Q>>
where
    O: OpSpec<Q> + OpSpec<Dual<Q>> + ?Sized,
{
    let guards = OpSpec::<Q>::guards(op, x).ok()?;
    let count = guards.len();
    if count == 0 {
        return None;
    }
    // gradient[j][k] = ∂g_k/∂x_j, from one dual-number pass per input coordinate.
    let mut gradient = Vec::with_capacity(x.len());
    for j in 0..x.len() {
        let seeded = x.data().iter().enumerate().map(|(k, v)| {
            let tangent = if k == j {
                Q::from_i64(1)
            } else {
                Q::from_i64(0)
            };
            Dual::new(v.clone(), tangent)
        });
        let dual = Tensor::new(x.shape().to_vec(), seeded.collect()).ok()?;
        let gs = OpSpec::<Dual<Q>>::guards(op, &dual).ok()?;
        if gs.len() != count {
            return None;
        }
        gradient.push(gs.into_iter().map(|g| g.value.eps).collect::<Vec<_>>());
    }
    for k in (0..count).map(|i| (pick + i) % count) {
        let Some(j) = (0..x.len()).find(|&j| gradient[j][k].sign() != Ordering::Equal) else {
            continue;
        };
        let step = guards[k].value.checked_div(&gradient[j][k])?;
        let mut data = x.data().to_vec();
        data[j] = data[j].sub_ref(&step);
        let moved = Tensor::new(x.shape().to_vec(), data).ok()?;
        let on = OpSpec::<Q>::guards(op, &moved)
            .is_ok_and(|gs| gs.len() == count && gs[k].value.sign() == Ordering::Equal);
        if on {
            return Some(moved);
        }
    }
    None
}

/// Inputs from `xs` moved exactly onto a kink of `op` by [`onto_kink`]. Values for which no guard
/// can be zeroed are filtered out (for an op with no kinks at all, every value is: proptest then
/// aborts with "too many rejects", which is the honest answer).
pub fn on_kink<'a, O, X>(op: &'a O, xs: X) -> impl Strategy<Value = Tensor<Q>> + 'a
where
    O: OpSpec<Q> + OpSpec<Dual<Q>> + ?Sized,
    X: Strategy<Value = Tensor<Q>> + 'a,
{
    (xs, any::<usize>()).prop_filter_map(
        "no guard of the op can be brought to exactly zero",
        move |(x, pick)| onto_kink(op, &x, pick),
    )
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
