//! [`Sym`]: fractions of polynomials over ℚ in named symbols and mask symbols — the scalar over
//! which one evaluation of an op is a statement about every input of its dimensions.

use super::poly::{Monomial, Poly, Var};
use super::symbols::{self, Refusal};
use super::{Field, FunctionError, Ordered, Ring, Transcendental, Q};
use num_traits::{One, Signed, Zero};
use std::cmp::Ordering;
use std::fmt;
use std::ops::{Add, Mul, Neg, Sub};

/// `num/den`, polynomials over ℚ in symbols (inputs, weights, tangents, cotangents) and mask
/// symbols (`m² = m`, one per guard of a piecewise op).
///
/// * Equality is equality of rational functions (`a·d = c·b`), modulo `m² = m`: an identity
///   that holds over `Sym` holds at every point off the kinks and poles, in every activation
///   pattern, because each mask is 0 or 1 there.
/// * [`Ordered::select`] introduces the mask of its guard instead of deciding;
///   [`Ordered::sign`] answers only for constants and records a
///   [`Refusal::Branched`] otherwise, so a proof names an op that branches with `if`.
/// * `exp` and `ln` of a non-constant value are outside the field.
///
/// Symbols live in a per-thread table ([`crate::scalar::symbols`]); create them inside
/// [`crate::scalar::symbols::scoped`].
#[derive(Clone, Debug)]
pub struct Sym {
    num: Poly,
    /// Monic, or the constant 1.
    den: Poly,
}

impl Sym {
    /// The symbol `v` as a value.
    pub fn symbol(v: Var) -> Self {
        Sym::poly(Poly::var(v))
    }

    /// A polynomial as a value.
    pub fn poly(p: Poly) -> Self {
        Sym { num: p, den: one() }
    }

    /// The numerator.
    pub fn numer(&self) -> &Poly {
        &self.num
    }

    /// The denominator (monic, or 1).
    pub fn denom(&self) -> &Poly {
        &self.den
    }

    /// The value when no symbol occurs.
    pub fn as_constant(&self) -> Option<Q> {
        Some(self.num.as_constant()? / self.den.as_constant()?)
    }

    /// How many terms numerator and denominator have together.
    pub fn term_count(&self) -> usize {
        self.num.term_count()
            + if is_one(&self.den) {
                0
            } else {
                self.den.term_count()
            }
    }

    /// The value with the symbols `value` knows replaced (`None` if the denominator vanishes).
    pub fn substitute(&self, value: &impl Fn(Var) -> Option<Q>) -> Option<Self> {
        let den = self.den.substitute(value);
        if den.is_zero() {
            return None;
        }
        Some(Sym::fraction(self.num.substitute(value), den))
    }

    fn fraction(num: Poly, den: Poly) -> Self {
        if num.is_zero() {
            return Sym::zero();
        }
        if let Some(c) = den.as_constant() {
            if c.is_one() {
                return Sym::poly(num);
            }
            return Sym::poly(num.scale(&(Q::one() / c)));
        }
        let inv = Q::one() / den.leading_coefficient();
        let (num, den) = (num.scale(&inv), den.scale(&inv));
        // A numerator proportional to the denominator (x/x, 2(x+1)/(x+1)) is a constant.
        if num.term_count() == den.term_count() {
            let ratio = num.leading_coefficient();
            if num == den.scale(&ratio) {
                return Sym::poly(Poly::constant(ratio));
            }
        }
        Sym { num, den }
    }

    fn combine(&self, rhs: &Self, op: impl Fn(&Poly, &Poly) -> Poly) -> Self {
        if self.den == rhs.den {
            let num = op(&self.num, &rhs.num);
            return Sym::fraction(num, self.den.clone());
        }
        Sym::fraction(
            op(&self.num.mul(&rhs.den), &rhs.num.mul(&self.den)),
            self.den.mul(&rhs.den),
        )
    }

    /// The guard's sign as a polynomial: `num·den` has the sign of `num/den`.
    fn sign_polynomial(&self) -> Poly {
        if is_one(&self.den) {
            self.num.clone()
        } else {
            self.num.mul(&self.den)
        }
    }

    /// The function's name for refusals.
    fn outside(&self, function: &'static str) -> FunctionError {
        FunctionError::OutsideField {
            function,
            argument: self.to_string(),
            field: Self::FIELD,
        }
    }
}

fn one() -> Poly {
    Poly::constant(Q::one())
}

fn is_one(p: &Poly) -> bool {
    p.as_constant().is_some_and(|c| c.is_one())
}

impl PartialEq for Sym {
    fn eq(&self, other: &Self) -> bool {
        if self.den == other.den {
            return self.num == other.num;
        }
        self.num.mul(&other.den) == other.num.mul(&self.den)
    }
}

impl Zero for Sym {
    fn zero() -> Self {
        Sym::poly(Poly::default())
    }
    fn is_zero(&self) -> bool {
        self.num.is_zero()
    }
}

impl One for Sym {
    fn one() -> Self {
        Sym::poly(one())
    }
}

impl Add for Sym {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        self.add_ref(&rhs)
    }
}

impl Sub for Sym {
    type Output = Self;
    fn sub(self, rhs: Self) -> Self {
        self.sub_ref(&rhs)
    }
}

impl Mul for Sym {
    type Output = Self;
    fn mul(self, rhs: Self) -> Self {
        self.mul_ref(&rhs)
    }
}

impl Neg for Sym {
    type Output = Self;
    fn neg(self) -> Self {
        self.neg_ref()
    }
}

impl Ring for Sym {
    fn add_ref(&self, rhs: &Self) -> Self {
        self.combine(rhs, Poly::add)
    }
    fn sub_ref(&self, rhs: &Self) -> Self {
        self.combine(rhs, Poly::sub)
    }
    fn mul_ref(&self, rhs: &Self) -> Self {
        if is_one(&self.den) && is_one(&rhs.den) {
            return Sym::poly(self.num.mul(&rhs.num));
        }
        Sym::fraction(self.num.mul(&rhs.num), self.den.mul(&rhs.den))
    }
    fn neg_ref(&self) -> Self {
        Sym {
            num: self.num.neg(),
            den: self.den.clone(),
        }
    }
    fn from_i64(n: i64) -> Self {
        Sym::poly(Poly::constant(Q::from_integer(n.into())))
    }
    /// One merge of all the products when no denominator occurs (the common case): adding
    /// them one at a time copies the growing sum each time.
    fn dot(a: &[Self], b: &[Self]) -> Self {
        assert_eq!(
            a.len(),
            b.len(),
            "dot of lengths {} and {}",
            a.len(),
            b.len()
        );
        if a.iter().chain(b).all(|v| is_one(&v.den)) {
            let products: Vec<Poly> = a.iter().zip(b).map(|(x, y)| x.num.mul(&y.num)).collect();
            return Sym::poly(Poly::sum(&products));
        }
        a.iter()
            .zip(b)
            .fold(Sym::zero(), |acc, (x, y)| acc.add_ref(&x.mul_ref(y)))
    }
    /// One [`Ring::dot`] per column, for the same reason.
    fn transpose_mat_vec(a: &[Self], rows: usize, cols: usize, v: &[Self]) -> Vec<Self> {
        (0..cols)
            .map(|j| {
                let column: Vec<Sym> = (0..rows).map(|i| a[i * cols + j].clone()).collect();
                Sym::dot(&column, v)
            })
            .collect()
    }
}

impl Field for Sym {
    fn checked_div(&self, rhs: &Self) -> Option<Self> {
        if rhs.num.is_zero() {
            return None;
        }
        Some(Sym::fraction(
            self.num.mul(&rhs.den),
            self.den.mul(&rhs.num),
        ))
    }
    /// A constant, or the symbol a marker stands for ([`crate::scalar::symbols::marker`]).
    fn from_q(q: &num_rational::BigRational) -> Self {
        match symbols::symbol_for(q) {
            Some(v) => Sym::symbol(v),
            None => Sym::poly(Poly::constant(q.clone())),
        }
    }
}

impl Ordered for Sym {
    /// The sign of a constant; for anything else, [`Ordering::Equal`] and a recorded
    /// [`Refusal::Branched`], which makes the proof fail with a typed error naming the op.
    fn sign(&self) -> Ordering {
        match self.as_constant() {
            Some(c) if c.is_positive() => Ordering::Greater,
            Some(c) if c.is_negative() => Ordering::Less,
            Some(_) => Ordering::Equal,
            None => {
                symbols::refuse(Refusal::Branched {
                    value: self.to_string(),
                });
                Ordering::Equal
            }
        }
    }

    const DECIDES_SIGNS: bool = false;

    fn select(guard: &Self, if_positive: Self, otherwise: Self) -> Self {
        if let Some(c) = guard.as_constant() {
            return if c.is_positive() {
                if_positive
            } else {
                otherwise
            };
        }
        if if_positive == otherwise {
            return if_positive;
        }
        let (monic, positive) = guard.sign_polynomial().normalised();
        let m = Sym::symbol(symbols::mask_for(&monic));
        let indicator = if positive { m } else { Sym::one() - m };
        otherwise.add_ref(&indicator.mul_ref(&if_positive.sub_ref(&otherwise)))
    }
}

impl Transcendental for Sym {
    const FIELD: &'static str = "Q(symbols)";
    fn exp(&self) -> Result<Self, FunctionError> {
        match self.as_constant() {
            Some(c) => c.exp().map(|v| Sym::poly(Poly::constant(v))),
            None => Err(self.outside("exp")),
        }
    }
    fn ln(&self) -> Result<Self, FunctionError> {
        match self.as_constant() {
            Some(c) => c.ln().map(|v| Sym::poly(Poly::constant(v))),
            None => Err(self.outside("ln")),
        }
    }
}

impl fmt::Display for Poly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return write!(f, "0");
        }
        for (k, (m, c)) in self.terms().iter().rev().enumerate() {
            let negative = c.is_negative();
            match (k, negative) {
                (0, true) => write!(f, "−")?,
                (0, false) => {}
                (_, true) => write!(f, " − ")?,
                (_, false) => write!(f, " + ")?,
            }
            let a = c.abs();
            if m.is_one() {
                write!(f, "{a}")?;
                continue;
            }
            if !a.is_one() {
                write!(f, "{a}·")?;
            }
            write!(f, "{m}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Monomial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_one() {
            return write!(f, "1");
        }
        for (k, &(v, e)) in self.factors().iter().enumerate() {
            if k > 0 {
                write!(f, "·")?;
            }
            write!(f, "{}", symbols::name(v))?;
            if e > 1 {
                write!(f, "^{e}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Sym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if is_one(&self.den) {
            return write!(f, "{}", self.num);
        }
        write!(f, "({})/({})", self.num, self.den)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar::parse_q;
    use crate::scalar::symbols::{fresh, masks, scoped, take_refusals};

    fn k(s: &str) -> Sym {
        Sym::from_q(&parse_q(s).unwrap())
    }

    #[test]
    fn relu_through_select_is_one_mask_for_every_pattern() {
        scoped(|| {
            let x = Sym::symbol(fresh("x"));
            let relu = Sym::select(&x, x.clone(), Sym::zero());
            // relu(x)·relu′(x) = relu(x), because m² = m.
            let mask = Sym::select(&x, Sym::one(), Sym::zero());
            assert_eq!(relu.mul_ref(&mask), relu);
            // Guard −2x is the complement of guard x.
            let neg = Sym::select(&(k("-2") * x.clone()), Sym::one(), Sym::zero());
            assert_eq!(neg + mask, Sym::one());
            assert_eq!(masks().len(), 1);
            assert_eq!(relu.to_string(), "x·m0");
        });
    }

    #[test]
    fn fractions_compare_as_rational_functions() {
        scoped(|| {
            let x = Sym::symbol(fresh("x"));
            let y = Sym::symbol(fresh("y"));
            let a = x.checked_div(&y).unwrap();
            let b = (x.clone() * k("2"))
                .checked_div(&(y.clone() * k("2")))
                .unwrap();
            assert_eq!(a, b);
            assert_eq!(x.checked_div(&x).unwrap(), Sym::one());
            assert!(x.checked_div(&Sym::zero()).is_none());
            assert_eq!(a.to_string(), "(x)/(y)");
        });
    }

    #[test]
    fn branching_on_a_symbol_is_recorded_and_exp_is_refused() {
        scoped(|| {
            let x = Sym::symbol(fresh("x"));
            assert_eq!(k("-3").sign(), Ordering::Less);
            assert!(take_refusals().is_empty());
            let _ = x.sign();
            assert!(matches!(
                take_refusals().as_slice(),
                [Refusal::Branched { value }] if value == "x"
            ));
            assert!(x.exp().is_err());
            assert_eq!(Sym::zero().exp().unwrap(), Sym::one());
        });
    }
}
