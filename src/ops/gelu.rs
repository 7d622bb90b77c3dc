//! GELU with torch's tanh approximation, elementwise (`torch.nn.GELU(approximate='tanh')`).
//! Only the tanh form: the exact (erf) GELU cannot be decided exactly, see [`GeluTanh`].

use super::pointwise::{map_at, tanh};
use super::{Op, OpSpec};
use crate::error::Result;
use crate::scalar::{FunctionError, Scalar, Q};
use crate::tensor::Tensor;

/// `torch.nn.GELU(approximate='tanh')`: `f(x)ᵢ = ½·xᵢ·(1 + tanh(k·(xᵢ + c·xᵢ³)))`, with `k` and
/// `c` the exact rational values of the double constants torch uses ([`GeluTanh::K`],
/// [`GeluTanh::C`]), so the op checked is the function torch's double kernel rounds, not a
/// float-free idealisation with `√(2/π)`. Rule, with `u = k·(x + c·x³)` and `t = tanh u`:
/// `½·(1 + t) + ½·x·(1 − t²)·k·(1 + 3c·x²)` (torch's `gelu_backward` with `approximate='tanh'`).
///
/// The exact GELU, `x·Φ(x) = ½·x·(1 + erf(x/√2))` (torch's default `approximate='none'`), is
/// not provided, because it is out of reach of an exact check: `erf(x)` at a rational `x` is an
/// integral of `e^{−t²}`, not a finite sum of exponentials, so it is not in the
/// exponential-polynomial field [`crate::Ex`], and no equality involving it can be decided
/// exactly. This crate refuses rather than approximates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GeluTanh;

impl GeluTanh {
    /// `k ≈ √(2/π)` as torch computes it in double precision,
    /// `kBeta = M_SQRT2 * M_2_SQRTPI * 0.5`: the float `0.7978845608028654`, taken as the exact
    /// rational `7186705221432913/2⁵³`.
    pub const K: f64 = 0.797_884_560_802_865_4;

    /// torch's `kKappa`, the float `0.044715`, taken as the exact rational
    /// `6444110634811895/2⁵⁷`.
    pub const C: f64 = 0.044_715;
}

/// `(k, c)` as exact rationals.
fn constants() -> (Q, Q) {
    let exact = |v: f64| Q::from_float(v).expect("a finite constant");
    (exact(GeluTanh::K), exact(GeluTanh::C))
}

/// `(u, u′) = (k·(v + c·v³), k·(1 + 3c·v²))`, the argument of `tanh` and its derivative.
fn argument<S: Scalar>(v: &S) -> (S, S) {
    let (k, c) = constants();
    let (k, c) = (S::from_q(&k), S::from_q(&c));
    let square = v.mul_ref(v);
    let u = k.mul_ref(&v.add_ref(&c.mul_ref(&square).mul_ref(v)));
    let du = k.mul_ref(&S::one().add_ref(&S::from_i64(3).mul_ref(&c).mul_ref(&square)));
    (u, du)
}

/// The rule `½·(1 + t) + ½·v·(1 − t²)·u′` at `v`, `t = tanh u`, written over one denominator:
/// with `E = e^{−2u}`, `½·(1 + t) = 1/(1 + E)` and `1 − t² = 4E/(1 + E)²`, so it is
/// `(1 + E + 2·v·u′·E)/(1 + E)²`. The same value as torch's formula; a single denominator keeps
/// the exact sums the checks form over many coordinates small (with `1 + t` and `1 − t²` summed
/// as they come, each entry's denominator would be `(1 + E)³`).
fn rule<S: Scalar>(v: &S, u: &S, du: &S) -> std::result::Result<S, FunctionError> {
    let e = u.add_ref(u).neg_ref().exp()?;
    let one_plus = S::one().add_ref(&e);
    let num = one_plus.add_ref(&S::from_i64(2).mul_ref(v).mul_ref(du).mul_ref(&e));
    Ok(num
        .checked_div(&one_plus.mul_ref(&one_plus))
        .expect("(1 + E)² > 0"))
}

impl GeluTanh {
    fn derivs<S: Scalar>(x: &Tensor<S>) -> Result<Tensor<S>> {
        map_at(x, "GELU(tanh)", |v| {
            let (u, du) = argument(v);
            rule(v, &u, &du)
        })
    }
}

impl Op for GeluTanh {
    fn name(&self) -> String {
        "GELU(tanh)".into()
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }
}

impl<S: Scalar> OpSpec<S> for GeluTanh {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let half = S::from_q(&Q::new(1.into(), 2.into()));
        map_at(x, "GELU(tanh)", |v| {
            let t = tanh(&argument(v).0)?;
            Ok(half.mul_ref(v).mul_ref(&S::one().add_ref(&t)))
        })
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        Self::derivs(x)?.hadamard(dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        Self::derivs(x)?.hadamard(dy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    #[test]
    fn gelu_tanh_constants_are_torchs_doubles() {
        // kBeta = M_SQRT2 * M_2_SQRTPI * 0.5 in double, as torch computes it.
        let k = std::f64::consts::SQRT_2 * std::f64::consts::FRAC_2_SQRT_PI * 0.5;
        assert_eq!(k, GeluTanh::K);
        let (k, c) = constants();
        assert_eq!(k, q("7186705221432913/9007199254740992"));
        assert_eq!(c, q("6444110634811895/144115188075855872"));
    }

    #[test]
    fn gelu_tanh_passes_over_the_exp_field() {
        // [2, 2], not [2, 3]: the adjoint check sums the rule over all coordinates, and each
        // entry's denominator (1 + e^{−2u})² has 3 terms whose exponents carry k·c's 2¹¹⁰
        // denominator, so the sum's denominator has 3ⁿ terms for n coordinates: [2, 3] took
        // 15–18 s on a loaded 2-core machine, [2, 2] about 5 s.
        let report = crate::check_op!(GeluTanh, [2, 2], cases(64));
        assert_passes(&report, false);
        assert_eq!(report.scalar, <crate::Ex as crate::Transcendental>::FIELD);
    }

    planted!(CubicTermDropped(GeluTanh), fn vjp(&_op, x, dy) {
        // u′ = k where k·(1 + 3c·x²) belongs: the derivative of the c·x³ term is lost.
        let k = S::from_q(&constants().0);
        let d = map_at(x, "GELU(tanh)", |v| rule(v, &argument(v).0, &k))?;
        d.hadamard(dy)
    });

    #[test]
    fn planted_gelu_tanh_derivative_without_the_cubic_term() {
        let c = caught(&CubicTermDropped(GeluTanh), &[2]);
        println!("{c}");
        // At x = 1; both values are fractions of exponentials with 110-bit exponents (k·c has
        // denominator 2¹¹⁰), too long to spell out here.
        assert_eq!((c.check.as_str(), c.coordinate.as_slice()), (VJP, &[0][..]));
        assert!(c.inputs.contains(&("x".into(), "[1, 0]".into())), "{c}");
    }
}
