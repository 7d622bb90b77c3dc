//! `exp` and `ln` on a scalar, where the scalar can represent them.
//!
//! Every scalar answers; the answer may be "not here". Over [`Q`] only `exp(0)` and `ln(1)` are
//! rational (Lindemann: `e^r` is transcendental for rational `r ≠ 0`), so any other argument is
//! [`FunctionError::OutsideField`], and a check that meets it moves to [`crate::Ex`], the
//! exp-polynomial field, where both are exact. Dual numbers and jets carry the derivative:
//! `exp(a + b·ε) = e^a + b·e^a·ε`, `ln(a + b·ε) = ln a + (b/a)·ε`.

use super::{Dual, Field, Jet, Q};
use num_traits::{One, Signed, Zero};

/// Why `exp` or `ln` gave no value: data, not a sentence; an op adds its name and the
/// coordinate with [`FunctionError::at`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FunctionError {
    /// The value exists but this scalar cannot represent it exactly (`exp(1/2)` over `Q`).
    OutsideField {
        /// `"exp"` or `"ln"`.
        function: &'static str,
        /// The argument, printed exactly.
        argument: String,
        /// The scalar's number system ([`Transcendental::FIELD`]).
        field: &'static str,
    },
    /// The argument is outside the function's domain (`ln` of a value `≤ 0`).
    OutsideDomain {
        /// `"ln"`.
        function: &'static str,
        /// The argument, printed exactly.
        argument: String,
    },
}

impl FunctionError {
    /// The crate's error for this failure inside `op` at `coordinate` of its input.
    pub fn at(self, op: impl Into<String>, coordinate: Vec<usize>) -> crate::Error {
        let op = op.into();
        match self {
            FunctionError::OutsideField {
                function,
                argument,
                field,
            } => crate::Error::OutsideField {
                op,
                coordinate,
                function,
                argument,
                field,
            },
            FunctionError::OutsideDomain { function, argument } => crate::Error::OutsideDomain {
                op,
                coordinate,
                function,
                argument,
            },
        }
    }
}

/// `exp` and `ln`, exact or refused: never an approximation (except over `f64`, which is for
/// comparisons with float frameworks only).
pub trait Transcendental: Field {
    /// The number system's name for errors, e.g. `"Q"`.
    const FIELD: &'static str;

    /// `e^self`.
    fn exp(&self) -> Result<Self, FunctionError>;

    /// The natural logarithm of `self`; [`FunctionError::OutsideDomain`] when `self ≤ 0`.
    fn ln(&self) -> Result<Self, FunctionError>;

    /// `Ok` when `self ≠ other` (already known from `==`) is certain as real numbers; `Err` with
    /// the reason when the scalar cannot certify it (over [`crate::Ex`], formal logarithms that
    /// agree to the precision tried). A check asks before it reports a counterexample, so that
    /// a formal difference is never reported as a rule's error.
    fn certify_distinct(&self, other: &Self) -> Result<(), String> {
        let _ = other;
        Ok(())
    }
}

impl Transcendental for Q {
    const FIELD: &'static str = "Q";
    fn exp(&self) -> Result<Self, FunctionError> {
        if self.is_zero() {
            return Ok(Q::one());
        }
        Err(FunctionError::OutsideField {
            function: "exp",
            argument: self.to_string(),
            field: Self::FIELD,
        })
    }
    fn ln(&self) -> Result<Self, FunctionError> {
        if !self.is_positive() {
            return Err(FunctionError::OutsideDomain {
                function: "ln",
                argument: self.to_string(),
            });
        }
        if self.is_one() {
            return Ok(Q::zero());
        }
        Err(FunctionError::OutsideField {
            function: "ln",
            argument: self.to_string(),
            field: Self::FIELD,
        })
    }
}

impl Transcendental for f64 {
    const FIELD: &'static str = "f64";
    fn exp(&self) -> Result<Self, FunctionError> {
        Ok(f64::exp(*self))
    }
    fn ln(&self) -> Result<Self, FunctionError> {
        if *self > 0.0 {
            Ok(f64::ln(*self))
        } else {
            Err(FunctionError::OutsideDomain {
                function: "ln",
                argument: self.to_string(),
            })
        }
    }
}

impl<S: Transcendental> Transcendental for Dual<S> {
    const FIELD: &'static str = S::FIELD;
    fn exp(&self) -> Result<Self, FunctionError> {
        let e = self.re.exp()?;
        let eps = self.eps.mul_ref(&e);
        Ok(Dual::new(e, eps))
    }
    fn ln(&self) -> Result<Self, FunctionError> {
        let l = self.re.ln()?;
        let eps = self
            .eps
            .checked_div(&self.re)
            .expect("ln succeeded, so re > 0");
        Ok(Dual::new(l, eps))
    }
}

impl<S: Transcendental> Transcendental for Jet<S> {
    const FIELD: &'static str = S::FIELD;
    fn exp(&self) -> Result<Self, FunctionError> {
        let e = self.value().exp()?;
        let tangent = self.tangent_ref().scale(&e);
        Ok(Jet::from_parts(e, tangent))
    }
    fn ln(&self) -> Result<Self, FunctionError> {
        let l = self.value().ln()?;
        let inverse = S::one()
            .checked_div(self.value())
            .expect("ln succeeded, so the value is > 0");
        Ok(Jet::from_parts(l, self.tangent_ref().scale(&inverse)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar::Ring;

    #[test]
    fn over_q_only_the_trivial_values_exist() {
        assert_eq!(Q::zero().exp(), Ok(Q::one()));
        assert_eq!(Q::one().ln(), Ok(Q::zero()));
        assert!(matches!(
            Q::from_i64(2).exp(),
            Err(FunctionError::OutsideField { field: "Q", .. })
        ));
        assert!(matches!(
            Q::from_i64(-1).ln(),
            Err(FunctionError::OutsideDomain { .. })
        ));
    }

    #[test]
    fn dual_numbers_carry_the_derivative() {
        let x = Dual::new(0.5f64, 1.0);
        let e = x.exp().unwrap();
        assert_eq!(e.eps, 0.5f64.exp());
        let l = Dual::new(2.0f64, 3.0).ln().unwrap();
        assert_eq!(l.eps, 1.5);
    }
}
