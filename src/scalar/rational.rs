//! The exact scalar: arbitrary-precision rationals, and parsing of exact literals.

use super::kernels::Vectors;
use super::{Field, Ordered, Ring};
use crate::error::Error;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use std::cmp::Ordering;

/// The exact default scalar: an arbitrary-precision rational.
pub type Q = BigRational;

impl Ring for Q {
    fn add_ref(&self, rhs: &Self) -> Self {
        self + rhs
    }
    fn sub_ref(&self, rhs: &Self) -> Self {
        self - rhs
    }
    fn mul_ref(&self, rhs: &Self) -> Self {
        self * rhs
    }
    fn neg_ref(&self) -> Self {
        -self
    }
    fn from_i64(n: i64) -> Self {
        Q::from_integer(BigInt::from(n))
    }
    fn dot(a: &[Self], b: &[Self]) -> Self {
        super::kernels::dot(a, b)
    }
    fn mat_vec(a: &[Self], rows: usize, cols: usize, v: &[Self]) -> Vec<Self> {
        super::kernels::mat_vec(a, rows, cols, v)
    }
    fn transpose_mat_vec(a: &[Self], rows: usize, cols: usize, v: &[Self]) -> Vec<Self> {
        super::kernels::transpose_mat_vec(a, rows, cols, v)
    }
    fn matmul(a: &[Self], m: usize, k: usize, b: &[Self], n: usize) -> Vec<Self> {
        super::kernels::matmul(a, m, k, b, n)
    }
    fn affine(a: &[Self], rows: usize, cols: usize, v: &[Self], b: &[Self]) -> Vec<Self> {
        super::kernels::affine(a, rows, cols, v, b)
    }
    fn outer(u: &[Self], v: &[Self]) -> Vec<Self> {
        super::kernels::outer(u, v)
    }
    fn products(a: &Vectors<'_, Self>, b: &Vectors<'_, Self>) -> Option<Vec<Self>> {
        Some(super::kernels::products(a, b))
    }
}

impl Field for Q {
    fn checked_div(&self, rhs: &Self) -> Option<Self> {
        (!rhs.is_zero()).then(|| self / rhs)
    }
    fn from_q(q: &Q) -> Self {
        q.clone()
    }
}

impl Ordered for Q {
    fn sign(&self) -> Ordering {
        let sign = if self.is_positive() {
            Ordering::Greater
        } else if self.is_negative() {
            Ordering::Less
        } else {
            Ordering::Equal
        };
        super::comparisons::note(std::panic::Location::caller(), sign, Some(self));
        sign
    }
}

/// `p/q` with both parts written out (`"3/1"` for an integer): the form the JSON output uses so
/// that any reader parses every value the same way.
pub fn exact_string(q: &Q) -> String {
    format!("{}/{}", q.numer(), q.denom())
}

/// Parses an exact literal: `"3/7"`, `"-2"`, `"0.125"`, `"1e-3"`, `"-1.5E+2"`, `"2/-4"`.
///
/// Surrounding whitespace is ignored. A zero denominator, an empty string or anything that is not
/// such a literal gives [`Error::Parse`]; this never panics.
pub fn parse_q(input: &str) -> Result<Q, Error> {
    let s = input.trim();
    let fail = |reason: &str| Error::Parse {
        input: input.to_string(),
        reason: reason.to_string(),
    };
    if s.is_empty() {
        return Err(fail("empty literal"));
    }
    if let Some((num, den)) = s.split_once('/') {
        let n = parse_decimal(num).ok_or_else(|| fail("numerator is not a number"))?;
        let d = parse_decimal(den).ok_or_else(|| fail("denominator is not a number"))?;
        if d.is_zero() {
            return Err(fail("zero denominator"));
        }
        return Ok(n / d);
    }
    parse_decimal(s).ok_or_else(|| fail("expected p/q, an integer, a decimal or 1e-3 notation"))
}

/// `[+-]digits[.digits][(e|E)[+-]digits]` as an exact rational.
fn parse_decimal(s: &str) -> Option<Q> {
    let s = s.trim();
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (negative, digits) = match mantissa.as_bytes().first()? {
        b'-' => (true, &mantissa[1..]),
        b'+' => (false, &mantissa[1..]),
        _ => (false, mantissa),
    };
    let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if int_part.len() + frac_part.len() == 0 || !all_digits(int_part) || !all_digits(frac_part) {
        return None;
    }
    let numer: BigInt = format!("{int_part}{frac_part}").parse().ok()?;
    let mut exp: i64 = -(frac_part.len() as i64);
    if let Some(e) = exponent {
        let (eneg, edigits) = match e.as_bytes().first()? {
            b'-' => (true, &e[1..]),
            b'+' => (false, &e[1..]),
            _ => (false, e),
        };
        // Bounded so that a hostile "1e999999999" cannot allocate without end.
        if edigits.is_empty() || edigits.len() > 6 || !all_digits(edigits) {
            return None;
        }
        let v: i64 = edigits.parse().ok()?;
        exp += if eneg { -v } else { v };
    }
    let ten = BigInt::from(10);
    let scale = num_traits::pow(ten, exp.unsigned_abs() as usize);
    let value = if exp >= 0 {
        Q::from_integer(numer * scale)
    } else {
        Q::new(numer, scale)
    };
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_traits::One;

    fn q(n: i64, d: i64) -> Q {
        Q::new(n.into(), d.into())
    }

    #[test]
    fn parses_exact_literals() {
        assert_eq!(parse_q("3/7").unwrap(), q(3, 7));
        assert_eq!(parse_q("-2").unwrap(), q(-2, 1));
        assert_eq!(parse_q("0.125").unwrap(), q(1, 8));
        assert_eq!(parse_q("1e-3").unwrap(), q(1, 1000));
        assert_eq!(parse_q(" -1.5E+2 ").unwrap(), q(-150, 1));
        assert_eq!(parse_q("2/-4").unwrap(), q(-1, 2));
        assert_eq!(parse_q(".5").unwrap(), q(1, 2));
    }

    #[test]
    fn rejects_bad_literals_with_typed_errors() {
        for bad in [
            "1/0",
            "",
            "abc",
            "1/",
            "/2",
            "1e",
            "1e99999999",
            "--1",
            "1.2.3",
            ".",
        ] {
            assert!(
                matches!(parse_q(bad), Err(Error::Parse { .. })),
                "{bad:?} should not parse"
            );
        }
        let Err(Error::Parse { reason, .. }) = parse_q("1/0") else {
            panic!()
        };
        assert_eq!(reason, "zero denominator");
    }

    #[test]
    fn exact_string_always_has_a_denominator() {
        assert_eq!(exact_string(&q(3, 1)), "3/1");
        assert_eq!(exact_string(&q(-6, 4)), "-3/2");
    }

    #[test]
    fn one_is_one() {
        assert!(Q::one().is_one());
    }
}
