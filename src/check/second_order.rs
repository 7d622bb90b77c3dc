//! Second order, exactly: Hessians and Hessian-vector products by nested dual numbers
//! (`Dual<Dual<S>>`), the rules differentiated by evaluating them over `Dual<S>` (the
//! gradgradcheck analogue), and the symmetry of a scalar loss's Hessian.
//!
//! A rule can be right at a point and still be differentiated wrongly: a VJP that uses a saved,
//! detached copy of its input gives the right gradient at the point where the copy was taken,
//! but its derivative (what double backward, Hessian-vector products and meta-gradients use)
//! misses a term. First-order checks cannot see that; these can.

use super::{agree, prepare, probe, violation};
use crate::error::ShortTensor;
use crate::error::{Error, Result};
use crate::ops::OpSpec;
use crate::scalar::{with_kernel_cache, Dual, Scalar};
use crate::tensor::Tensor;
use std::fmt;

/// `x` lifted to `Dual<Dual<S>>` as `x + a·ε₁ + b·ε₂` (inner tangent `a`, outer tangent `b`):
/// the `ε₁ε₂` part of `f` at that point is `D²f(x)[a, b]`.
fn seed2<S: Scalar>(x: &Tensor<S>, a: &Tensor<S>, b: &Tensor<S>) -> Result<Tensor<Dual<Dual<S>>>> {
    let data = x
        .data()
        .iter()
        .zip(a.data())
        .zip(b.data())
        .map(|((v, ai), bi)| {
            Dual::new(Dual::new(v.clone(), ai.clone()), Dual::constant(bi.clone()))
        })
        .collect();
    Tensor::new(x.shape().to_vec(), data)
}

/// `x + a·ε` over `Dual<S>`.
fn seed<S: Scalar>(x: &Tensor<S>, a: &Tensor<S>) -> Result<Tensor<Dual<S>>> {
    x.zip_with(a, |v, t| Dual::new(v.clone(), t.clone()))
}

/// `D²f(x)[a, b]`, one value per output, by one forward pass over nested duals.
fn second_directional<S, O>(
    op: &O,
    x: &Tensor<S>,
    a: &Tensor<S>,
    b: &Tensor<S>,
) -> Result<Tensor<S>>
where
    S: Scalar,
    O: OpSpec<Dual<Dual<S>>>,
{
    Ok(op.forward(&seed2(x, a, b)?)?.map(|y| y.eps.eps.clone()))
}

/// The reference Hessian `H_δ = ∇²⟪δ, f⟫(x)`, `[n, n]` over the flattened input, by `n²` forward
/// passes over `Dual<Dual<S>>` (entry `(i, j)` seeds `e_i` inside and `e_j` outside). Never
/// calls the rules. For a scalar loss and `δ = 1` it is the Hessian of the loss.
pub fn reference_hessian<S, O>(op: &O, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>>
where
    S: Scalar,
    O: OpSpec<S> + OpSpec<Dual<Dual<S>>>,
{
    with_kernel_cache(|| {
        prepare(op, x, None, Some(dy))?;
        let n = x.len();
        let mut data = Vec::with_capacity(n * n);
        for i in 0..n {
            let ei = Tensor::basis(x.shape(), i)?;
            for j in 0..n {
                let d2 = second_directional(op, x, &ei, &Tensor::basis(x.shape(), j)?)?;
                data.push(d2.dot(dy)?);
            }
        }
        Tensor::new(vec![n, n], data)
    })
}

/// The reference Hessian-vector product `H_δ·v`, by `n` forward passes over nested duals
/// (inner tangent `v`, outer tangent `e_j`: the `ε₁ε₂` part is `∂ⱼ∂_v f`).
pub fn hvp<S, O>(op: &O, x: &Tensor<S>, dy: &Tensor<S>, v: &Tensor<S>) -> Result<Tensor<S>>
where
    S: Scalar,
    O: OpSpec<S> + OpSpec<Dual<Dual<S>>>,
{
    with_kernel_cache(|| {
        prepare(op, x, Some(v), Some(dy))?;
        let data = (0..x.len())
            .map(|j| second_directional(op, x, v, &Tensor::basis(x.shape(), j)?)?.dot(dy))
            .collect::<Result<Vec<_>>>()?;
        Tensor::new(x.shape().to_vec(), data)
    })
}

/// The rule's Hessian-vector product, forward-over-reverse: `d/dt vjp(x + t·v, δ)` at `t = 0`,
/// by one evaluation of the VJP over `Dual<S>`.
pub fn rule_hvp<S, O>(op: &O, x: &Tensor<S>, dy: &Tensor<S>, v: &Tensor<S>) -> Result<Tensor<S>>
where
    S: Scalar,
    O: OpSpec<S> + OpSpec<Dual<S>>,
{
    with_kernel_cache(|| {
        prepare(op, x, Some(v), Some(dy))?;
        let g = op.vjp(&seed(x, v)?, &dy.map(|d| Dual::constant(d.clone())))?;
        g.expect_shape(
            x.shape(),
            "vjp over dual numbers returned a tensor of the wrong shape",
        )?;
        Ok(g.map(|d| d.eps.clone()))
    })
}

/// The derivative of the rule `x ↦ vjp(x, δ)`: `M[i, j] = ∂ⱼ vjp(x, δ)ᵢ`, `[n, n]`, by `n`
/// evaluations of the VJP over `Dual<S>`.
pub fn vjp_jacobian<S, O>(op: &O, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>>
where
    S: Scalar,
    O: OpSpec<S> + OpSpec<Dual<S>>,
{
    with_kernel_cache(|| {
        let n = x.len();
        let mut data = vec![S::zero(); n * n];
        for j in 0..n {
            let column = rule_hvp(op, x, dy, &Tensor::basis(x.shape(), j)?)?;
            for (i, v) in column.into_data().into_iter().enumerate() {
                data[i * n + j] = v;
            }
        }
        Tensor::new(vec![n, n], data)
    })
}

/// The values that prove the rules are differentiated correctly at one `(x, dx, δ)`.
#[derive(Clone, Debug, PartialEq)]
pub struct GradGradProof<S> {
    /// `H_δ = ∇²⟪δ, f⟫(x)` from nested duals of `forward`, `[n, n]`.
    pub hessian: Tensor<S>,
    /// `∂ⱼ vjp(x, δ)ᵢ` from the rule over dual numbers, equal to `hessian`.
    pub vjp_jacobian: Tensor<S>,
    /// The probe `dx` (also the direction `v` of the Hessian-vector products).
    pub dx: Tensor<S>,
    /// `∂ⱼ jvp(x, dx)` from the rule over dual numbers, `[out.len, n]`, equal to the nested-dual
    /// `∂ⱼ∂_dx f`.
    pub jvp_jacobian: Tensor<S>,
    /// `H_δ·dx` by nested duals (forward-over-forward).
    pub hvp: Tensor<S>,
    /// `H_δ·dx` from the rule (forward-over-reverse), equal to `hvp`.
    pub rule_hvp: Tensor<S>,
}

/// The gradgradcheck analogue, exact: differentiates both rules over dual numbers and compares
/// with second derivatives of `forward` from nested duals.
///
/// Checks, each naming the first differing entry: `∂ⱼ vjp(x, δ)ᵢ = ∂ᵢ∂ⱼ⟪δ, f⟫(x)` for all
/// `(i, j)` (coordinate `[i, j]`), then `∂ⱼ jvp(x, dx)ₒ = ∂ⱼ∂_dx fₒ(x)` (coordinate `[o, j]`),
/// then the Hessian-vector products along `dx`.
pub fn gradgrad<S, O>(op: &O, x: &Tensor<S>, dy: &Tensor<S>) -> Result<GradGradProof<S>>
where
    S: Scalar,
    O: OpSpec<S> + OpSpec<Dual<S>> + OpSpec<Dual<Dual<S>>>,
{
    with_kernel_cache(|| {
        let out = prepare(op, x, None, Some(dy))?;
        let dx = probe(x.shape(), 1)?;
        let inputs = || {
            vec![
                ("x", x.to_string()),
                ("dx", dx.to_string()),
                ("δ", dy.to_string()),
            ]
        };
        let hessian = reference_hessian(op, x, dy)?;
        let vjp_jac = vjp_jacobian(op, x, dy)?;
        agree(
            "gradgrad: ∂ⱼ vjp(x, δ)ᵢ = ∂ᵢ∂ⱼ⟪δ, f⟫(x)",
            &vjp_jac,
            &hessian,
            &inputs,
        )?;

        let (m, n) = (out.iter().product::<usize>(), x.len());
        let mut rule = vec![S::zero(); m * n];
        let mut reference = vec![S::zero(); m * n];
        let lifted_dx = dx.map(|d: &S| Dual::constant(d.clone()));
        for j in 0..n {
            let ej = Tensor::basis(x.shape(), j)?;
            let column = op.jvp(&seed(x, &ej)?, &lifted_dx)?;
            column.expect_shape(
                &out,
                "jvp over dual numbers returned a tensor of the wrong shape",
            )?;
            let expected = second_directional(op, x, &dx, &ej)?;
            for (o, (r, e)) in column.data().iter().zip(expected.data()).enumerate() {
                rule[o * n + j] = r.eps.clone();
                reference[o * n + j] = e.clone();
            }
        }
        let jvp_jacobian = Tensor::new(vec![m, n], rule)?;
        agree(
            "gradgrad: ∂ⱼ jvp(x, dx) = ∂ⱼ∂_dx f(x)",
            &jvp_jacobian,
            &Tensor::new(vec![m, n], reference)?,
            &inputs,
        )?;

        let reference_hvp = hvp(op, x, dy, &dx)?;
        let rule_hv = rule_hvp(op, x, dy, &dx)?;
        agree(
            "gradgrad: d/dt vjp(x + t·dx, δ) = H_δ·dx",
            &rule_hv,
            &reference_hvp,
            &inputs,
        )?;
        Ok(GradGradProof {
            hessian,
            vjp_jacobian: vjp_jac,
            dx,
            jvp_jacobian,
            hvp: reference_hvp,
            rule_hvp: rule_hv,
        })
    })
}

/// The values that prove a scalar loss's Hessian is symmetric, from the rule and from `forward`.
#[derive(Clone, Debug, PartialEq)]
pub struct SymmetryProof<S> {
    /// `∂ⱼ vjp(x, 1)ᵢ`: the Hessian as the rule's derivative; symmetric.
    pub rule_hessian: Tensor<S>,
    /// The Hessian from nested duals of `forward`; symmetric.
    pub hessian: Tensor<S>,
}

/// Checks that the Hessian of a scalar loss is symmetric, exactly: first the derivative of the
/// rule's gradient `x ↦ vjp(x, 1)` (a gradient field has a symmetric Jacobian, so this needs no
/// reference and catches a VJP that is not the gradient of anything), then the nested-dual
/// Hessian of `forward`. A failure names `[i, j]` with `∂ⱼgᵢ` as the rule and `∂ᵢgⱼ` as the
/// reference. [`Error::ShapeMismatch`] unless the op has one output.
pub fn hessian_symmetry<S, O>(op: &O, x: &Tensor<S>) -> Result<SymmetryProof<S>>
where
    S: Scalar,
    O: OpSpec<S> + OpSpec<Dual<S>> + OpSpec<Dual<Dual<S>>>,
{
    with_kernel_cache(|| {
        let out = op.output_shape(x.shape())?;
        if out.iter().product::<usize>() != 1 {
            return Err(Error::shape_mismatch(
                &format!(
                    "Hessian symmetry of {}: a scalar loss has one output",
                    op.name()
                ),
                out,
                vec![1],
            ));
        }
        let one = Tensor::new(out, vec![S::one()])?;
        let inputs = [("x", x.to_string())];
        let rule_hessian = vjp_jacobian(op, x, &one)?;
        symmetric(
            "Hessian symmetry: ∂ⱼ vjp(x, 1)ᵢ = ∂ᵢ vjp(x, 1)ⱼ",
            &rule_hessian,
            &inputs,
        )?;
        let hessian = reference_hessian(op, x, &one)?;
        symmetric(
            "Hessian symmetry: nested duals of forward",
            &hessian,
            &inputs,
        )?;
        Ok(SymmetryProof {
            rule_hessian,
            hessian,
        })
    })
}

/// `Ok` if the square matrix `m` equals its transpose; otherwise the first `(i, j)`, `i < j`,
/// with `m[i, j] ≠ m[j, i]`.
fn symmetric<S: Scalar>(check: &str, m: &Tensor<S>, inputs: &[(&str, String)]) -> Result<()> {
    let n = m.shape()[0];
    for i in 0..n {
        for j in i + 1..n {
            let (a, b) = (&m.data()[i * n + j], &m.data()[j * n + i]);
            if a != b {
                return Err(violation(check, vec![i, j], a, b, inputs));
            }
        }
    }
    Ok(())
}

impl<S: fmt::Display> fmt::Display for GradGradProof<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "gradgrad: ∂ⱼ vjp(x, δ)ᵢ = ∂ᵢ∂ⱼ⟪δ, f⟫ and ∂ⱼ jvp(x, dx) = ∂ⱼ∂_dx f, exactly, by nested \
             dual numbers"
        )?;
        writeln!(f, "  Hessian of ⟪δ, f⟫ = {}", ShortTensor(&self.hessian))?;
        writeln!(f, "  dx = {}", ShortTensor(&self.dx))?;
        writeln!(f, "  ∂ⱼ jvp(x, dx) = {}", ShortTensor(&self.jvp_jacobian))?;
        write!(f, "  H·dx = {}", ShortTensor(&self.hvp))
    }
}

impl<S: fmt::Display> fmt::Display for SymmetryProof<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "hessian symmetry: ∂ⱼ vjp(x, 1)ᵢ = ∂ᵢ vjp(x, 1)ⱼ, exactly, and equal to the Hessian \
             of forward by nested dual numbers"
        )?;
        write!(f, "  Hessian = {}", ShortTensor(&self.hessian))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar::{Ring, Q};

    fn matrix(n: usize, entries: &[i64]) -> Tensor<Q> {
        Tensor::new(
            vec![n, n],
            entries.iter().map(|&e| Q::from_i64(e)).collect(),
        )
        .unwrap()
    }

    /// Every pair above the diagonal is compared with its mirror, not only the first row's.
    #[test]
    fn symmetric_compares_every_pair_above_the_diagonal_with_its_mirror() {
        // Symmetric, with distinct entries: passes.
        let s = matrix(4, &[1, 2, 3, 4, 2, 5, 6, 7, 3, 6, 8, 9, 4, 7, 9, 10]);
        symmetric("check", &s, &[]).unwrap();
        // Asymmetric only at [1, 2]: named there, with m[1, 2] as the rule and m[2, 1] as the
        // reference.
        let a = matrix(3, &[1, 2, 3, 2, 4, 5, 3, 0, 6]);
        match symmetric("check", &a, &[]) {
            Err(Error::Violated(c)) => {
                assert_eq!(c.coordinate, vec![1, 2]);
                assert_eq!((c.rule.as_str(), c.reference.as_str()), ("5", "0"));
            }
            other => panic!("expected a violation at [1, 2], got {other:?}"),
        }
    }
}
