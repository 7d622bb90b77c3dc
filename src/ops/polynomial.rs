//! A polynomial with rational coefficients, applied elementwise.

use super::{Op, OpSpec, Param};
use crate::error::Result;
use crate::scalar::{Scalar, Q};
use crate::tensor::Tensor;

/// `f(x)ᵢ = c₀ + c₁xᵢ + … + c_d xᵢᵈ`, evaluated by Horner's scheme; the rule is the derivative
/// polynomial `c₁ + 2c₂xᵢ + … + d·c_d xᵢᵈ⁻¹`. The coefficients are the parameters
/// (`∂f/∂c_k = xᵏ`), flattened as `[c₀, …, c_d]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Polynomial {
    /// `[c₀, …, c_d]`, the op's one parameter tensor.
    coeffs: Tensor<Q>,
}

impl Polynomial {
    /// The polynomial with coefficients `[c₀, c₁, …]` (lowest degree first).
    pub fn new(coeffs: Vec<Q>) -> Self {
        Polynomial {
            coeffs: Tensor::from_vec(coeffs),
        }
    }

    /// The coefficients, lowest degree first.
    pub fn coefficients(&self) -> &[Q] {
        self.coeffs.data()
    }
}

/// `Σ cₖ vᵏ` by Horner's scheme.
fn horner<S: Scalar>(coeffs: &[S], v: &S) -> S {
    coeffs
        .iter()
        .rev()
        .fold(S::zero(), |acc, c| acc.mul_ref(v).add_ref(c))
}

/// The coefficients of the derivative: `[1·c₁, 2·c₂, …]`.
fn derivative<S: Scalar>(coeffs: &[S]) -> Vec<S> {
    coeffs
        .iter()
        .enumerate()
        .skip(1)
        .map(|(k, c)| S::from_i64(k as i64).mul_ref(c))
        .collect()
}

/// `[v⁰, v¹, …, vᵈ]`.
fn powers<S: Scalar>(v: &S, count: usize) -> Vec<S> {
    let mut out = Vec::with_capacity(count);
    let mut p = S::one();
    for _ in 0..count {
        out.push(p.clone());
        p = p.mul_ref(v);
    }
    out
}

impl Polynomial {
    fn lifted<S: Scalar>(&self) -> Vec<S> {
        self.coefficients().iter().map(S::from_q).collect()
    }
}

impl Op for Polynomial {
    fn name(&self) -> String {
        format!("Polynomial(degree {})", self.coeffs.len().saturating_sub(1))
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }
    fn is_piecewise_linear(&self) -> bool {
        self.coeffs.len() <= 2
    }
    fn params(&self) -> Vec<Param<'_>> {
        vec![Param::new(self, "coefficients", &self.coeffs)]
    }
}

impl<S: Scalar> OpSpec<S> for Polynomial {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let c = self.lifted::<S>();
        Ok(x.map(|v| horner(&c, v)))
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        let d = derivative(&self.lifted::<S>());
        x.map(|v| horner(&d, v)).hadamard(dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let d = derivative(&self.lifted::<S>());
        x.map(|v| horner(&d, v)).hadamard(dy)
    }
    fn forward_with_params(&self, params: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>> {
        params.expect_shape(&[self.coeffs.len()], "Polynomial coefficients")?;
        Ok(x.map(|v| horner(params.data(), v)))
    }
    fn jvp_params(&self, x: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>> {
        self.forward_with_params(dparams, x)
    }
    fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        dy.expect_shape(x.shape(), "Polynomial vjp_params: δ")?;
        let mut grad = vec![S::zero(); self.coeffs.len()];
        for (v, d) in x.data().iter().zip(dy.data()) {
            for (g, p) in grad.iter_mut().zip(powers(v, self.coeffs.len())) {
                *g = g.add_ref(&p.mul_ref(d));
            }
        }
        Ok(Tensor::from_vec(grad))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    #[test]
    fn polynomial_passes_and_its_coefficient_gradient() {
        let op = Polynomial::new(vec![q("1"), q("-2"), q("0"), q("1/3")]);
        assert_passes(&crate::check_op!(op, [2, 2], cases(64)), false);
        assert_params_pass(&op, t(&[3], &["1", "-1/2", "2"]), 32);
    }

    #[test]
    fn polynomials_of_degree_at_most_one_are_piecewise_linear_and_get_the_exact_increment_check() {
        let affine = Polynomial::new(vec![q("1/2"), q("-3")]);
        assert_passes(&crate::check_op!(affine, [3], cases(16)), true);
        let constant = Polynomial::new(vec![q("7")]);
        assert_passes(&crate::check_op!(constant, [3], cases(16)), true);
        assert!(!Polynomial::new(vec![q("0"), q("0"), q("1")]).is_piecewise_linear());
    }

    planted!(NoPowerRule(Polynomial), fn vjp(&op, x, dy) {
        // Differentiated by shifting coefficients without multiplying by the degree.
        let c: Vec<S> = op.coefficients().iter().map(S::from_q).collect();
        let shifted = x.map(|v| c[1..].iter().rev().fold(S::zero(), |acc, ck| acc.mul_ref(v).add_ref(ck)));
        shifted.hadamard(dy)
    });

    #[test]
    fn planted_polynomial_without_degree_factor() {
        let op = NoPowerRule(Polynomial::new(vec![q("1"), q("-2"), q("3")]));
        assert_cx(&caught(&op, &[1]), VJP, &[0], "1", "4");
    }
}
