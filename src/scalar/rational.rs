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
        super::kernels::add(self, rhs)
    }
    fn sub_ref(&self, rhs: &Self) -> Self {
        super::kernels::add(self, &-rhs)
    }
    fn mul_ref(&self, rhs: &Self) -> Self {
        super::kernels::mul(self, rhs)
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
        (!rhs.is_zero()).then(|| super::kernels::div(self, rhs))
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
    fn abs_row_sums(a: &[Self], rows: usize, cols: usize) -> Vec<Self> {
        super::kernels::abs_row_sums(a, rows, cols)
    }
    fn affine_signs(
        a: &[Self],
        rows: usize,
        cols: usize,
        v: &[Self],
        b: &[Self],
    ) -> Vec<Option<Ordering>> {
        super::float_filter::affine_signs(a, rows, cols, v, b)
    }
}

/// `2^k` exactly, for any integer `k`.
pub(crate) fn pow2(k: i64) -> Q {
    let p = BigInt::from(1) << k.unsigned_abs();
    if k >= 0 {
        Q::from_integer(p)
    } else {
        Q::new(BigInt::from(1), p)
    }
}

/// `p/q` with both parts written out (`"3/1"` for an integer): the form the JSON output uses so
/// that any reader parses every value the same way.
pub fn exact_string(q: &Q) -> String {
    format!("{}/{}", q.numer(), q.denom())
}

/// The largest absolute decimal exponent [`parse_q`] accepts (`1e10000`, `1e-10000`).
///
/// Why this bound: the literal's value is computed exactly, so `1e999999` is a number of a
/// million digits, and dividing two of them took about 40 s. `10^10000` has about 33,000 bits and
/// is computed in well under a millisecond, while the bound is still far beyond any float
/// (`f64` reaches `1e308`, the IEEE quadruple format `1e4932`), so every value written from a
/// float parses. Digits written out in full are not bounded: their cost is linear in the text.
pub const MAX_EXPONENT: u32 = 10_000;

/// Parses an exact literal: `"3/7"`, `"-2"`, `"0.125"`, `"1e-3"`, `"-1.5E+2"`, `"2/-4"`.
///
/// Surrounding whitespace is ignored. A zero denominator, an empty string or anything that is not
/// such a literal gives [`Error::Parse`]; an exponent beyond ±[`MAX_EXPONENT`] gives
/// [`Error::ExponentTooLarge`]; this never panics.
pub fn parse_q(input: &str) -> Result<Q, Error> {
    let s = input.trim();
    let fail = |reason: &str| Error::Parse {
        input: input.to_string(),
        reason: reason.to_string(),
    };
    let read = |part: &str, reason: &str| match parse_decimal(part) {
        Ok(q) => Ok(q),
        Err(Decimal::Malformed) => Err(fail(reason)),
        Err(Decimal::ExponentTooLarge(exponent)) => Err(Error::ExponentTooLarge {
            input: input.to_string(),
            exponent: exponent.to_string(),
            limit: MAX_EXPONENT,
        }),
    };
    if s.is_empty() {
        return Err(fail("empty literal"));
    }
    if let Some((num, den)) = s.split_once('/') {
        let n = read(num, "numerator is not a number")?;
        let d = read(den, "denominator is not a number")?;
        if d.is_zero() {
            return Err(fail("zero denominator"));
        }
        return Ok(n / d);
    }
    read(s, "expected p/q, an integer, a decimal or 1e-3 notation")
}

/// Why [`parse_decimal`] refused its text.
enum Decimal<'a> {
    /// Not of the form `[+-]digits[.digits][(e|E)[+-]digits]`.
    Malformed,
    /// Well formed, but the exponent (as written) is beyond ±[`MAX_EXPONENT`].
    ExponentTooLarge(&'a str),
}

/// `[+-]digits[.digits][(e|E)[+-]digits]` as an exact rational.
fn parse_decimal(s: &str) -> Result<Q, Decimal<'_>> {
    let s = s.trim();
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (negative, digits) = match mantissa.as_bytes().first() {
        Some(b'-') => (true, &mantissa[1..]),
        Some(b'+') => (false, &mantissa[1..]),
        Some(_) => (false, mantissa),
        None => return Err(Decimal::Malformed),
    };
    let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if int_part.len() + frac_part.len() == 0 || !all_digits(int_part) || !all_digits(frac_part) {
        return Err(Decimal::Malformed);
    }
    let numer: BigInt = format!("{int_part}{frac_part}")
        .parse()
        .map_err(|_| Decimal::Malformed)?;
    // The digits after the point are bounded by the text's length, so their count is too.
    let mut exp = -i128::try_from(frac_part.len()).map_err(|_| Decimal::Malformed)?;
    if let Some(e) = exponent {
        let (eneg, edigits) = match e.as_bytes().first() {
            Some(b'-') => (true, &e[1..]),
            Some(b'+') => (false, &e[1..]),
            Some(_) => (false, e),
            None => return Err(Decimal::Malformed),
        };
        if edigits.is_empty() || !all_digits(edigits) {
            return Err(Decimal::Malformed);
        }
        let significant = edigits.trim_start_matches('0');
        // A run of digits longer than the bound's is beyond it whatever they are, and is not
        // converted (it may not fit any integer type).
        let v: u32 = match significant.parse::<u32>() {
            Ok(v) if v <= MAX_EXPONENT => v,
            _ if significant.is_empty() => 0,
            _ => return Err(Decimal::ExponentTooLarge(e)),
        };
        exp += if eneg { -i128::from(v) } else { i128::from(v) };
    }
    let ten = BigInt::from(10);
    let places = usize::try_from(exp.unsigned_abs()).map_err(|_| Decimal::Malformed)?;
    let scale = num_traits::pow(ten, places);
    let value = if exp >= 0 {
        Q::from_integer(numer * scale)
    } else {
        Q::new(numer, scale)
    };
    Ok(if negative { -value } else { value })
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
            "1/0", "", "abc", "1/", "/2", "1e", "1e+", "e5", "--1", "1.2.3", ".",
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
    fn exponents_are_bounded_with_a_typed_error() {
        assert_eq!(
            parse_q("1e10000").unwrap(),
            Q::from_integer(BigInt::from(10).pow(10_000))
        );
        assert_eq!(
            parse_q("1e-0010000").unwrap(),
            Q::new(1.into(), BigInt::from(10).pow(10_000))
        );
        assert_eq!(parse_q("1e000000000000000000000000").unwrap(), q(1, 1));
        for (bad, exponent) in [
            ("1e999999/1e-999999", "999999"),
            ("2/1e-10001", "-10001"),
            ("1e99999999999999999999999999", "99999999999999999999999999"),
        ] {
            assert_eq!(
                parse_q(bad),
                Err(Error::ExponentTooLarge {
                    input: bad.into(),
                    exponent: exponent.into(),
                    limit: MAX_EXPONENT
                })
            );
        }
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
