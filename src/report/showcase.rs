//! The networks the binary shows: a fixed small example and seeded random ones.

use crate::error::{Error, Result};
use crate::ops::Mlp;
use crate::scalar::Q;
use crate::strategy::{mlp_case, sample, small_q};
use crate::tensor::Tensor;

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

/// A random exact MLP `n → h → m` with small-fraction weights, input and cotangent, the same
/// for the same `seed`; the input is away from every kink.
pub fn random_example(
    n: usize,
    h: usize,
    m: usize,
    seed: u64,
) -> Result<(Mlp, Tensor<Q>, Tensor<Q>)> {
    if n == 0 || h == 0 || m == 0 {
        return Err(Error::InvalidArgument {
            op: "random_example".into(),
            argument: "dimensions n,h,m".into(),
            value: format!("{n},{h},{m}"),
            requirement: "at least 1 each".into(),
        });
    }
    Ok(sample(mlp_case(n, h, m, small_q()), seed))
}
