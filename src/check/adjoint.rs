//! `OpSpecCorrect`: the JVP and VJP rules are adjoint, `⟪jvp(x, dx), δ⟫ = ⟪dx, vjp(x, δ)⟫`.

use super::{expect_rule_shape, prepare, shapes, violation};
use crate::error::Result;
use crate::error::{Short, ShortTensor};
use crate::ops::OpSpec;
use crate::scalar::{with_kernel_cache, Scalar};
use crate::tensor::Tensor;
use std::fmt;

/// The values that prove adjointness at one `(x, dx, δ)`.
#[derive(Clone, PartialEq)]
pub struct AdjointProof<S> {
    /// `jvp(x, dx)`.
    pub jvp: Tensor<S>,
    /// `vjp(x, δ)`.
    pub vjp: Tensor<S>,
    /// `⟪jvp(x, dx), δ⟫`.
    pub lhs: S,
    /// `⟪dx, vjp(x, δ)⟫`, equal to `lhs` exactly.
    pub rhs: S,
}

crate::error::debug_with_fractions!(AdjointProof<S> { jvp, vjp, lhs, rhs });

/// Checks `⟪jvp(x, dx), δ⟫ = ⟪dx, vjp(x, δ)⟫` exactly.
///
/// On failure the error names a Jacobian entry `(i, j)` (output multi-index then input
/// multi-index) on which the rules disagree: `jvp(x, e_j)_i` is the reference, `vjp(x, e_i)_j`
/// the rule. Adjointness says the rules agree with *each other*; [`super::jacobian`] says which
/// one is right.
pub fn adjoint<S: Scalar, O: OpSpec<S>>(
    op: &O,
    x: &Tensor<S>,
    dx: &Tensor<S>,
    dy: &Tensor<S>,
) -> Result<AdjointProof<S>> {
    with_kernel_cache(|| {
        let out = prepare(op, x, Some(dx), Some(dy))?;
        adjoint_at(op, x, dx, dy, out, None)
    })
}

/// [`adjoint`] for a caller that has checked the no-kinks hypothesis at `x` and has the rule's
/// `vjp(x, δ)` already (the theorems compute both first).
pub(super) fn adjoint_reusing<S: Scalar, O: OpSpec<S>>(
    op: &O,
    x: &Tensor<S>,
    dx: &Tensor<S>,
    dy: &Tensor<S>,
    vjp: Tensor<S>,
) -> Result<AdjointProof<S>> {
    let out = shapes(op, x, Some(dx), Some(dy))?;
    adjoint_at(op, x, dx, dy, out, Some(vjp))
}

fn adjoint_at<S: Scalar, O: OpSpec<S>>(
    op: &O,
    x: &Tensor<S>,
    dx: &Tensor<S>,
    dy: &Tensor<S>,
    out: Vec<usize>,
    vjp: Option<Tensor<S>>,
) -> Result<AdjointProof<S>> {
    let jvp = op.jvp(x, dx)?;
    expect_rule_shape(&jvp, &out, "jvp")?;
    let vjp = match vjp {
        Some(vjp) => vjp,
        None => op.vjp(x, dy)?,
    };
    expect_rule_shape(&vjp, x.shape(), "vjp")?;
    let lhs = jvp.dot(dy)?;
    let rhs = dx.dot(&vjp)?;
    if lhs == rhs {
        return Ok(AdjointProof { jvp, vjp, lhs, rhs });
    }
    let inputs = || {
        vec![
            ("x", x.to_string()),
            ("dx", dx.to_string()),
            ("δ", dy.to_string()),
            ("⟪jvp(x, dx), δ⟫", lhs.to_string()),
            ("⟪dx, vjp(x, δ)⟫", rhs.to_string()),
        ]
    };
    // Locate the disagreement on basis vectors: O(in + out) rule calls, only on failure.
    let columns = (0..x.len())
        .map(|j| op.jvp(x, &Tensor::basis(x.shape(), j)?))
        .collect::<Result<Vec<_>>>()?;
    for i in 0..dy.len() {
        let row = op.vjp(x, &Tensor::basis(&out, i)?)?;
        for (j, column) in columns.iter().enumerate() {
            let (rule, reference) = (&row.data()[j], &column.data()[i]);
            if rule != reference {
                let mut coordinate = dy.multi_index(i);
                coordinate.extend(x.multi_index(j));
                return Err(violation(
                    "adjoint: vjp(x, e_i)_j = jvp(x, e_j)_i",
                    coordinate,
                    rule,
                    reference,
                    &inputs(),
                ));
            }
        }
    }
    // The rules agree on every basis pair, so one of them is not linear in its tangent.
    Err(violation(
        "adjoint: ⟪jvp(x, dx), δ⟫ = ⟪dx, vjp(x, δ)⟫ (the rules agree on basis vectors, so one is not linear)",
        vec![],
        &rhs,
        &lhs,
        &inputs(),
    ))
}

impl<S: fmt::Display> fmt::Display for AdjointProof<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "adjoint: ⟪jvp(x, dx), δ⟫ = {} = ⟪dx, vjp(x, δ)⟫ = {}, exactly",
            Short(&self.lhs),
            Short(&self.rhs)
        )?;
        writeln!(f, "  jvp(x, dx) = {}", ShortTensor(&self.jvp))?;
        write!(f, "  vjp(x, δ) = {}", ShortTensor(&self.vjp))
    }
}
