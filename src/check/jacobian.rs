//! The reference Jacobian by dual numbers, and the rules checked against it entry by entry.

use super::{agree, expect_rule_shape, prepare};
use crate::error::Result;
use crate::ops::OpSpec;
use crate::scalar::{Dual, Scalar};
use crate::tensor::Tensor;

/// The exact Jacobian of `op.forward` at `x`, shape `[out.len, in.len]` (flattened indices),
/// computed by evaluating `forward` over `Dual<S>` once per input coordinate with a basis
/// tangent. Never calls the rules under test. [`crate::Error::Kink`] at a kink.
pub fn reference_jacobian<S, O>(op: &O, x: &Tensor<S>) -> Result<Tensor<S>>
where
    S: Scalar,
    O: OpSpec<S> + OpSpec<Dual<S>>,
{
    let out_shape = prepare(op, x, None, None)?;
    let (out, n) = (out_shape.iter().product::<usize>(), x.len());
    let mut data = vec![S::zero(); out * n];
    for j in 0..n {
        let seeded = x.data().iter().enumerate().map(|(k, v)| {
            let tangent = if k == j { S::one() } else { S::zero() };
            Dual::new(v.clone(), tangent)
        });
        let y = op.forward(&Tensor::new(x.shape().to_vec(), seeded.collect())?)?;
        expect_rule_shape(&y, &out_shape, "forward over dual numbers")?;
        for (i, v) in y.data().iter().enumerate() {
            data[i * n + j] = v.eps.clone();
        }
    }
    Tensor::new(vec![out, n], data)
}

/// The values that prove both rules equal the true derivative at one `(x, dx, δ)`.
#[derive(Clone, Debug, PartialEq)]
pub struct JacobianProof<S> {
    /// The reference Jacobian `J` (dual numbers), `[out.len, in.len]`.
    pub jacobian: Tensor<S>,
    /// `jvp(x, dx)`, equal to `J·dx`.
    pub jvp: Tensor<S>,
    /// `vjp(x, δ)`, equal to `Jᵀ·δ`.
    pub vjp: Tensor<S>,
}

/// Checks `jvp(x, dx) = J·dx` and `vjp(x, δ) = Jᵀ·δ` exactly, entry by entry, with `J` from
/// [`reference_jacobian`]. A failure names the first differing coordinate (of the output for the
/// JVP, of the input for the VJP) with both values and their difference.
pub fn jacobian<S, O>(
    op: &O,
    x: &Tensor<S>,
    dx: &Tensor<S>,
    dy: &Tensor<S>,
) -> Result<JacobianProof<S>>
where
    S: Scalar,
    O: OpSpec<S> + OpSpec<Dual<S>>,
{
    let out = prepare(op, x, Some(dx), Some(dy))?;
    let jac = reference_jacobian(op, x)?;
    let inputs = [
        ("x", x.to_string()),
        ("dx", dx.to_string()),
        ("δ", dy.to_string()),
    ];

    let jvp = op.jvp(x, dx)?;
    expect_rule_shape(&jvp, &out, "jvp")?;
    let j_dx = jac.mat_vec_mul(&dx.flatten())?.reshape(out.clone())?;
    agree("jacobian: jvp(x, dx) = J·dx", &jvp, &j_dx, &inputs)?;

    let vjp = op.vjp(x, dy)?;
    expect_rule_shape(&vjp, x.shape(), "vjp")?;
    let jt_dy = jac
        .transpose_mat_vec_mul(&dy.flatten())?
        .reshape(x.shape().to_vec())?;
    agree("jacobian: vjp(x, δ) = Jᵀ·δ", &vjp, &jt_dy, &inputs)?;

    Ok(JacobianProof {
        jacobian: jac,
        jvp,
        vjp,
    })
}
