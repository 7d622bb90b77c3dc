//! The networks the binary shows: a fixed small example and seeded random ones, redrawn when
//! degenerate.
//!
//! A random network is degenerate when every hidden unit is off (an all-zero ReLU mask) or the
//! VJP `Jᵀ·δ` is zero — which a zero Jacobian implies. The theorem still holds there, but as
//! `0 = 0`, which shows nothing; with |p| ≤ 9 fractions and 2–4 hidden units such draws were
//! common (README, "Usage"). They are redrawn from the seed, deterministically: attempt `k`
//! samples with [`attempt_seed`]`(seed, k)`, attempt 0 being the seed itself, so a seed whose
//! first draw was not degenerate gives the same network as before.

use crate::error::{Error, Result};
use crate::ops::{DeepMlp, Linear, Mlp, OpSpec};
use crate::scalar::{Ordered, Ring, Q};
use crate::strategy::{linear, mlp_case, sample, small_q, tensor};
use crate::tensor::Tensor;
use num_traits::{One, Zero};
use std::cmp::Ordering;

/// How many draws a seed gets before its last (degenerate) draw is kept: with the smallest
/// networks (1 → 1 → 1) about half the draws are degenerate, so 64 leave a chance of 2⁻⁶⁴.
pub const MAX_DRAWS: u64 = 64;

/// The seed of attempt `k` for `seed`: `seed` itself for `k = 0`, then `seed` mixed with `k`
/// times the 64-bit golden ratio (a fixed, documented sequence).
pub fn attempt_seed(seed: u64, k: u64) -> u64 {
    seed ^ k.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// The built-in 3 → 4 → 2 MLP, a point `x` and a cotangent `δ`, with small fractions chosen so
/// that both ReLU branches occur (`z1 = [1/3, −13/10, 7/6, −29/40]`).
pub fn builtin_example() -> (Mlp, Tensor<Q>, Tensor<Q>) {
    let t = |shape: &[usize], lits: &[&str]| {
        Tensor::parse(shape.to_vec(), lits).expect("valid literals")
    };
    let w1 = t(
        &[4, 3],
        &[
            "1/2", "-1/3", "1/4", "-1", "2/3", "1/5", "1/3", "1/2", "-1/2", "2/5", "-1/4", "1",
        ],
    );
    let b1 = t(&[4], &["1/6", "-1/2", "1/4", "-1/3"]);
    let w2 = t(
        &[2, 4],
        &["1", "-1/2", "2/3", "1/4", "-1/3", "1", "1/2", "-2"],
    );
    let b2 = t(&[2], &["1/10", "-1/5"]);
    let x = t(&[3], &["1", "1/2", "-2/3"]);
    let dy = t(&[2], &["1", "-1/2"]);
    let mlp = Mlp::new(w1, b1, w2, b2).expect("shapes chain");
    (mlp, x, dy)
}

fn all_zero(t: &Tensor<Q>) -> bool {
    t.data().iter().all(Zero::is_zero)
}

/// Whether the 2-layer example is degenerate: an all-zero mask, or `vjp(x, δ) = 0` (which a
/// zero Jacobian implies), at a cost of one forward and one backward pass.
pub fn is_degenerate(mlp: &Mlp, x: &Tensor<Q>, dy: &Tensor<Q>) -> Result<bool> {
    Ok(all_zero(&mlp.mask(x)?) || all_zero(&mlp.as_op().vjp(x, dy)?))
}

/// Whether the deep example is degenerate: some hidden layer entirely off, or a zero VJP.
pub fn is_deep_degenerate(net: &DeepMlp, x: &Tensor<Q>, dy: &Tensor<Q>) -> Result<bool> {
    Ok(net.masks(x)?.iter().any(all_zero) || all_zero(&net.as_op().vjp(x, dy)?))
}

fn check_sizes(op: &str, widths: &[usize]) -> Result<()> {
    if widths.len() < 2 || widths.contains(&0) {
        return Err(Error::InvalidArgument {
            op: op.into(),
            argument: "layer sizes".into(),
            value: format!("{widths:?}"),
            requirement: "at least two sizes, each at least 1".into(),
        });
    }
    Ok(())
}

/// One draw of the 2-layer example, degenerate or not (attempt 0 is what `--seed` gave before
/// degenerate draws were redrawn).
pub fn first_draw(n: usize, h: usize, m: usize, seed: u64) -> Result<(Mlp, Tensor<Q>, Tensor<Q>)> {
    check_sizes("random_example", &[n, h, m])?;
    Ok(sample(mlp_case(n, h, m, small_q()), seed))
}

/// A random exact MLP `n → h → m` with small-fraction weights, input and cotangent, the same
/// for the same `seed`; the input is away from every kink and the example is not degenerate
/// (redrawn up to [`MAX_DRAWS`] times, see the module docs).
pub fn random_example(
    n: usize,
    h: usize,
    m: usize,
    seed: u64,
) -> Result<(Mlp, Tensor<Q>, Tensor<Q>)> {
    let mut draw = first_draw(n, h, m, seed)?;
    for k in 1..MAX_DRAWS {
        if !is_degenerate(&draw.0, &draw.1, &draw.2)? {
            break;
        }
        draw = first_draw(n, h, m, attempt_seed(seed, k))?;
    }
    Ok(draw)
}

/// One draw of the deep example: layers, point and cotangent of small fractions, with each
/// hidden bias that would put its unit on a kink moved by one (as [`mlp_case`] does).
pub fn first_deep_draw(widths: &[usize], seed: u64) -> Result<(DeepMlp, Tensor<Q>, Tensor<Q>)> {
    check_sizes("random_deep_example", widths)?;
    let layers: Vec<_> = widths
        .windows(2)
        .map(|w| linear(w[0], w[1], small_q()))
        .collect();
    let (n, m) = (widths[0], widths[widths.len() - 1]);
    let (layers, x, dy) = sample(
        (
            layers,
            tensor(vec![n], small_q()),
            tensor(vec![m], small_q()),
        ),
        seed,
    );
    let hidden = layers.len() - 1;
    let mut a = x.clone();
    let mut fixed = Vec::with_capacity(layers.len());
    for (k, layer) in layers.into_iter().enumerate() {
        if k == hidden {
            fixed.push(layer);
            break;
        }
        let z = layer.weight().mat_vec_mul(&a)?.add(layer.bias())?;
        // A unit exactly on its kink gets its bias moved by one, which makes its z exactly 1.
        let bias = layer.bias().zip_with(&z, |b, z| {
            if z.is_zero() {
                b.add_ref(&Q::one())
            } else {
                b.clone()
            }
        })?;
        a = z.map(|z| match z.sign() {
            Ordering::Equal => Q::one(),
            Ordering::Greater => z.clone(),
            Ordering::Less => Q::zero(),
        });
        let layer = Linear::new(layer.weight().clone(), bias)?;
        fixed.push(layer);
    }
    Ok((DeepMlp::new(fixed)?, x, dy))
}

/// A random exact deep MLP with layer sizes `widths` (at least two), a point off every kink and
/// a cotangent, the same for the same `seed`, redrawn like [`random_example`] when degenerate.
pub fn random_deep_example(widths: &[usize], seed: u64) -> Result<(DeepMlp, Tensor<Q>, Tensor<Q>)> {
    let mut draw = first_deep_draw(widths, seed)?;
    for k in 1..MAX_DRAWS {
        if !is_deep_degenerate(&draw.0, &draw.1, &draw.2)? {
            break;
        }
        draw = first_deep_draw(widths, attempt_seed(seed, k))?;
    }
    Ok(draw)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fraction of seeds `0..1000` whose first draw is degenerate, and after redrawing.
    fn fractions(n: usize, h: usize, m: usize) -> (usize, usize) {
        let (mut before, mut after) = (0, 0);
        for seed in 0..1000 {
            let (mlp, x, dy) = first_draw(n, h, m, seed).unwrap();
            before += usize::from(is_degenerate(&mlp, &x, &dy).unwrap());
            let (mlp, x, dy) = random_example(n, h, m, seed).unwrap();
            after += usize::from(is_degenerate(&mlp, &x, &dy).unwrap());
        }
        (before, after)
    }

    #[test]
    fn degenerate_draws_are_redrawn() {
        // Measured (README, "Usage"): 3,4,2 and 2,2,1, per thousand seeds.
        let (before, after) = fractions(3, 4, 2);
        eprintln!("3,4,2: {before}/1000 degenerate before, {after}/1000 after");
        assert!(before > 0, "the detector must see the degenerate draws");
        assert_eq!(after, 0);
        let (before, after) = fractions(2, 2, 1);
        eprintln!("2,2,1: {before}/1000 degenerate before, {after}/1000 after");
        assert!(before > 0);
        assert_eq!(after, 0);
    }

    #[test]
    fn a_good_first_draw_is_kept_and_redraws_are_deterministic() {
        for seed in 0..50 {
            let first = first_draw(3, 4, 2, seed).unwrap();
            let chosen = random_example(3, 4, 2, seed).unwrap();
            if !is_degenerate(&first.0, &first.1, &first.2).unwrap() {
                assert_eq!(first, chosen);
            }
            assert_eq!(chosen, random_example(3, 4, 2, seed).unwrap());
        }
    }

    #[test]
    fn deep_draws_are_off_the_kinks_and_not_degenerate() {
        let mut degenerate_first = 0;
        for seed in 0..200 {
            let (net, x, dy) = random_deep_example(&[2, 3, 3, 1], seed).unwrap();
            for z in net.pre_activations(&x).unwrap() {
                assert!(z.data().iter().all(|v| !v.is_zero()), "seed {seed}");
            }
            assert!(!is_deep_degenerate(&net, &x, &dy).unwrap());
            let (net, x, dy) = first_deep_draw(&[2, 3, 3, 1], seed).unwrap();
            degenerate_first += usize::from(is_deep_degenerate(&net, &x, &dy).unwrap());
        }
        assert!(degenerate_first > 0);
    }
}
