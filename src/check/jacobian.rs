//! The reference Jacobian by one forward pass over jets (dual numbers with a row of tangents),
//! and the rules checked against it entry by entry.

use super::{agree, expect_rule_shape, prepare};
use crate::error::Result;
use crate::error::ShortTensor;
use crate::ops::OpSpec;
use crate::scalar::{with_kernel_cache, Jet, Scalar};
use crate::tensor::Tensor;
use std::fmt;

/// The exact Jacobian of `op.forward` at `x`, shape `[out.len, in.len]` (flattened indices),
/// computed by one pass of `forward` over [`Jet<S>`] seeded with the identity: each output's row
/// of partials is its Jacobian row. Entry for entry this is what evaluating `forward` over
/// `Dual<S>` once per input coordinate gives (tests/integration/jet.rs), at the cost of about one pass with
/// matrix kernels. Never calls the rules under test. [`crate::Error::Kink`] at a kink.
pub fn reference_jacobian<S, O>(op: &O, x: &Tensor<S>) -> Result<Tensor<S>>
where
    S: Scalar,
    O: OpSpec<S> + OpSpec<Jet<S>>,
{
    with_kernel_cache(|| {
        let out_shape = prepare(op, x, None, None)?;
        let (out, n) = (out_shape.iter().product::<usize>(), x.len());
        let y = op.forward(&Jet::seed(x)?)?;
        expect_rule_shape(&y, &out_shape, "forward over jets")?;
        let mut data = Vec::with_capacity(out * n);
        for v in y.data() {
            data.extend_from_slice(&v.tangent(n));
        }
        Tensor::new(vec![out, n], data)
    })
}

/// The values that prove both rules equal the true derivative at one `(x, dx, δ)`.
#[derive(Clone, Debug, PartialEq)]
pub struct JacobianProof<S> {
    /// The reference Jacobian `J` (forward mode over jets), `[out.len, in.len]`.
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
    O: OpSpec<S> + OpSpec<Jet<S>>,
{
    with_kernel_cache(|| {
        let out = prepare(op, x, Some(dx), Some(dy))?;
        let jac = reference_jacobian(op, x)?;
        let inputs = || {
            vec![
                ("x", x.to_string()),
                ("dx", dx.to_string()),
                ("δ", dy.to_string()),
            ]
        };

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
    })
}

impl<S: fmt::Display> fmt::Display for JacobianProof<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "jacobian: jvp(x, dx) = J·dx and vjp(x, δ) = Jᵀ·δ, exactly, J by dual numbers"
        )?;
        writeln!(f, "  J = {}", ShortTensor(&self.jacobian))?;
        writeln!(f, "  jvp(x, dx) = {}", ShortTensor(&self.jvp))?;
        write!(f, "  vjp(x, δ) = {}", ShortTensor(&self.vjp))
    }
}
