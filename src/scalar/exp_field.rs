//! [`Ex`]: the exact field of exponential-polynomial fractions, with formal logarithms.
//!
//! At a rational point, every value and every derivative of exp, sigmoid, tanh, softmax, SiLU,
//! ELU and tanh-GELU lies in the field of fractions `P/Q` of exponential polynomials
//! `Σ cᵢ·e^{rᵢ}` (rational `cᵢ`, `rᵢ`; see [`ExpPoly`]). The field is closed under `+ − × ÷` and
//! under `exp` of a rational, since `e^r·e^s = e^{r+s}`.
//!
//! * **Equality is exact.** By Lindemann–Weierstrass, `P = 0` only when its terms cancel, so
//!   `a/b = c/d` is decided by expanding `a·d − b·c`.
//! * **Signs are certified.** A non-zero value's sign comes from rational enclosures of each
//!   `e^r`, refined until they exclude zero (src/scalar/enclosure.rs).
//! * **Outside the field, refuse.** `exp` of a value that is not rational (a softmax of a
//!   sigmoid's output) is [`FunctionError::OutsideField`], never an approximation.
//! * **Logarithms are formal.** `ln` of a positive value is carried as a symbol `ln(P)`, `P` a
//!   normalised exponential polynomial, times a coefficient in the field: `x − ln(Σ e^{xⱼ})` is
//!   a log-softmax output. Sums and scalings of such values are exact; `exp(r + k·ln P)` with
//!   `r` rational and `k` an integer is `e^r·P^k`; a product of two logarithms, or a division by
//!   one, is outside what this scalar represents and poisons the value (it then equals nothing,
//!   and a check that meets it reports [`crate::Error::Undecided`]). Derivatives of the ops with
//!   logs (log-softmax, cross-entropy, softplus) have no logs, so rule verdicts compare
//!   exponential-polynomial fractions exactly. Two values whose *formal* log parts differ are
//!   reported different only after certified enclosures separate them.

use super::enclosure::{self, Interval};
use super::exp_poly::ExpPoly;
use super::transcendental::{FunctionError, Transcendental};
use super::{Field, Ordered, Ring, Q};
use num_traits::{One, Signed, ToPrimitive, Zero};
use std::cmp::Ordering;
use std::fmt;
use std::ops::{Add, Mul, Neg, Sub};
use std::sync::Arc;

/// `num/den`, both exponential polynomials, the denominator scaled so that its term of lowest
/// exponent is `1·e^0` (a single-term denominator is divided out entirely). Proportional
/// denominators are then identical, which keeps sums of fractions over one denominator cheap.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Frac {
    num: ExpPoly,
    den: ExpPoly,
}

impl Frac {
    fn poly(num: ExpPoly) -> Self {
        Frac {
            num,
            den: ExpPoly::constant(Q::one()),
        }
    }

    fn new(num: ExpPoly, den: ExpPoly) -> Self {
        debug_assert!(!den.is_zero());
        if num.is_zero() {
            return Frac::poly(num);
        }
        if let Some((s, c)) = den.as_monomial() {
            let inv = Q::one() / c;
            return Frac::poly(num.times_monomial(&inv, &-s));
        }
        if let Some((c, s)) = num.monomial_ratio(&den) {
            return Frac::poly(ExpPoly::monomial(c, s));
        }
        let (s0, c0) = den.terms()[0].clone();
        let (inv, shift) = (Q::one() / &c0, -s0);
        Frac {
            num: num.times_monomial(&inv, &shift),
            den: den.times_monomial(&inv, &shift),
        }
    }

    fn is_zero(&self) -> bool {
        self.num.is_zero()
    }

    fn as_rational(&self) -> Option<Q> {
        if self.den.as_rational().is_some_and(|d| d.is_one()) {
            self.num.as_rational()
        } else {
            None
        }
    }

    fn add(&self, rhs: &Self) -> Self {
        if self.den == rhs.den {
            return Frac::new(self.num.add(&rhs.num), self.den.clone());
        }
        Frac::new(
            self.num.mul(&rhs.den).add(&rhs.num.mul(&self.den)),
            self.den.mul(&rhs.den),
        )
    }

    fn neg(&self) -> Self {
        Frac {
            num: self.num.neg(),
            den: self.den.clone(),
        }
    }

    fn mul(&self, rhs: &Self) -> Self {
        // Cancel a numerator against the other denominator when they are proportional.
        let (mut a, mut b, mut c, mut d) = (
            self.num.clone(),
            self.den.clone(),
            rhs.num.clone(),
            rhs.den.clone(),
        );
        if let Some((k, s)) = a.monomial_ratio(&d) {
            a = ExpPoly::monomial(k, s);
            d = ExpPoly::constant(Q::one());
        }
        if let Some((k, s)) = c.monomial_ratio(&b) {
            c = ExpPoly::monomial(k, s);
            b = ExpPoly::constant(Q::one());
        }
        Frac::new(a.mul(&c), b.mul(&d))
    }

    fn recip(&self) -> Option<Self> {
        (!self.is_zero()).then(|| Frac::new(self.den.clone(), self.num.clone()))
    }

    fn equals(&self, rhs: &Self) -> bool {
        if self.den == rhs.den {
            return self.num == rhs.num;
        }
        self.num.mul(&rhs.den) == rhs.num.mul(&self.den)
    }

    fn sign(&self) -> Ordering {
        let (n, d) = (enclosure::sign(&self.num), enclosure::sign(&self.den));
        if d == Ordering::Less {
            n.reverse()
        } else {
            n
        }
    }

    /// An enclosure of the value, or `None` when its magnitude is out of reach.
    fn enclose(&self, bits: u64) -> Option<Interval> {
        let (tn, n) = enclosure::scaled(&self.num, bits);
        let (td, d) = enclosure::scaled(&self.den, bits);
        let scale = enclosure::exp(&(tn - td), bits)?;
        n.div(&d, bits).map(|q| q.mul(&scale, bits))
    }
}

/// A formal `coefficient · ln(argument)`, the argument an exponential polynomial with a
/// positive value whose lowest term has coefficient `±1` and exponent 0.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct LogTerm {
    argument: ExpPoly,
    coefficient: Frac,
}

/// An exact real number: an exponential-polynomial fraction plus formal logarithms (see the
/// module docs). The scalar the checks use for ops with `exp` and `ln`.
///
/// ```
/// use exactgrad::{Ex, Field, Q, Ring, Transcendental};
/// use num_traits::One;
/// let third = Ex::from_q(&Q::new(1.into(), 3.into()));
/// let e = third.exp().unwrap();
/// let two = Ex::from_i64(2);
/// let v = two.mul_ref(&e).sub_ref(&Ex::one()).checked_div(&e.add_ref(&Ex::one())).unwrap();
/// assert_eq!(v.to_string(), "(2e^(1/3) − 1)/(e^(1/3) + 1)");
/// // exp(1/3)·exp(−1/3) is exactly 1.
/// assert_eq!(e.mul_ref(&third.neg_ref().exp().unwrap()), Ex::one());
/// ```
#[derive(Clone, Debug)]
pub struct Ex {
    value: Frac,
    logs: Vec<LogTerm>,
    /// Why the value could not be represented (a product of logarithms), if it could not.
    defect: Option<Arc<str>>,
}

impl Ex {
    fn frac(value: Frac) -> Self {
        Ex {
            value,
            logs: Vec::new(),
            defect: None,
        }
    }

    fn poisoned(reason: &str) -> Self {
        Ex {
            value: Frac::poly(ExpPoly::zero()),
            logs: Vec::new(),
            defect: Some(reason.into()),
        }
    }

    /// `c·e^r`.
    pub fn exp_monomial(c: &Q, r: &Q) -> Self {
        Ex::frac(Frac::poly(ExpPoly::monomial(c.clone(), r.clone())))
    }

    /// The rational value, when this is a rational.
    pub fn as_rational(&self) -> Option<Q> {
        if self.logs.is_empty() && self.defect.is_none() {
            self.value.as_rational()
        } else {
            None
        }
    }

    /// Whether the value carries a formal logarithm.
    pub fn has_logs(&self) -> bool {
        !self.logs.is_empty()
    }

    /// Why this value is not represented exactly (a product of two logarithms), if it is not.
    pub fn defect(&self) -> Option<&str> {
        self.defect.as_deref()
    }

    /// The numerator and denominator of the log-free part.
    pub fn fraction(&self) -> (&ExpPoly, &ExpPoly) {
        (&self.value.num, &self.value.den)
    }

    /// A certified enclosure at `bits` bits of precision, or `None` when a magnitude is out of
    /// reach or the value is poisoned.
    fn enclose(&self, bits: u64) -> Option<Interval> {
        if self.defect.is_some() {
            return None;
        }
        let mut sum = self.value.enclose(bits)?;
        for t in &self.logs {
            let (top, scaled) = enclosure::scaled(&t.argument, bits);
            let l = enclosure::ln(&scaled, bits)?.add(&Interval::point(top));
            let c = t.coefficient.enclose(bits)?;
            sum = sum.add(&l.mul(&c, bits));
        }
        Some(sum)
    }

    /// Rational bounds `lo ≤ value ≤ hi` about `2^{−bits}` apart (relative to the value's
    /// magnitude), certified; `None` for a poisoned value or a magnitude beyond `e^{65536}`.
    pub fn enclosure(&self, bits: u64) -> Option<(Q, Q)> {
        self.enclose(bits).map(|i| (i.lo, i.hi))
    }

    /// A float near the value (for display and comparisons with float frameworks only).
    pub fn to_f64(&self) -> f64 {
        self.enclose(64)
            .and_then(|i| ((i.lo + i.hi) / Q::from_integer(2.into())).to_f64())
            .unwrap_or(f64::NAN)
    }

    /// The value as JSON: the fraction's terms as exact strings, and the formal logarithms.
    pub fn to_json(&self) -> serde_json::Value {
        let poly = |p: &ExpPoly| {
            p.terms()
                .iter()
                .map(|(r, c)| {
                    serde_json::json!({
                        "coefficient": super::exact_string(c),
                        "exponent": super::exact_string(r),
                    })
                })
                .collect::<Vec<_>>()
        };
        serde_json::json!({
            "numerator": poly(&self.value.num),
            "denominator": poly(&self.value.den),
            "logs": self.logs.iter().map(|t| serde_json::json!({
                "coefficient": {
                    "numerator": poly(&t.coefficient.num),
                    "denominator": poly(&t.coefficient.den),
                },
                "argument": poly(&t.argument),
            })).collect::<Vec<_>>(),
            "defect": self.defect.as_deref(),
        })
    }

    fn combine_logs(
        mut logs: Vec<LogTerm>,
        more: impl IntoIterator<Item = LogTerm>,
    ) -> Vec<LogTerm> {
        for t in more {
            match logs.iter_mut().find(|l| l.argument == t.argument) {
                Some(l) => l.coefficient = l.coefficient.add(&t.coefficient),
                None => logs.push(t),
            }
        }
        logs.retain(|l| !l.coefficient.is_zero());
        logs
    }

    /// `ln` of a positive exponential polynomial: the exponent and coefficient of its lowest term
    /// come out exactly (`ln(c·e^r·P̂) = r + ln c + ln P̂`), the rest is formal.
    fn ln_poly(p: &ExpPoly, coefficient: Frac) -> (Frac, Vec<LogTerm>) {
        let (r0, c0) = p.terms()[0].clone();
        let mut value = Frac::poly(ExpPoly::constant(r0.clone())).mul(&coefficient);
        let mut logs = Vec::new();
        let normalised = p.times_monomial(&(Q::one() / c0.abs()), &-&r0);
        if normalised.len() > 1 || !normalised.terms()[0].1.is_one() {
            logs.push(LogTerm {
                argument: normalised,
                coefficient: coefficient.clone(),
            });
        }
        let c = c0.abs();
        if !c.is_one() {
            logs.push(LogTerm {
                argument: ExpPoly::constant(c),
                coefficient,
            });
        }
        if value.is_zero() {
            value = Frac::poly(ExpPoly::zero());
        }
        (value, logs)
    }
}

impl PartialEq for Ex {
    fn eq(&self, other: &Self) -> bool {
        if self.defect.is_some() || other.defect.is_some() {
            return false;
        }
        self.value.equals(&other.value)
            && self.logs.len() == other.logs.len()
            && self.logs.iter().all(|t| {
                other
                    .logs
                    .iter()
                    .any(|u| u.argument == t.argument && u.coefficient.equals(&t.coefficient))
            })
    }
}

/// `c` in the shortest readable form: `2`, `-1/3`.
fn fmt_coefficient(c: &Q) -> String {
    if c.is_integer() {
        c.numer().to_string()
    } else {
        format!("({c})")
    }
}

fn fmt_exponent(r: &Q) -> String {
    if r.is_one() {
        "e".into()
    } else if r.is_integer() && !r.is_negative() {
        format!("e^{}", r.numer())
    } else {
        format!("e^({r})")
    }
}

/// The terms from the largest exponent down, e.g. `2e^(1/3) − 1`.
fn fmt_poly(p: &ExpPoly) -> String {
    if p.is_empty() {
        return "0".into();
    }
    let mut out = String::new();
    for (k, (r, c)) in p.terms().iter().rev().enumerate() {
        let negative = c.is_negative();
        let c = c.abs();
        if k == 0 {
            if negative {
                out.push('-');
            }
        } else {
            out.push_str(if negative { " − " } else { " + " });
        }
        if r.is_zero() {
            out.push_str(&c.to_string());
        } else {
            if !c.is_one() {
                out.push_str(&fmt_coefficient(&c));
            }
            out.push_str(&fmt_exponent(r));
        }
    }
    out
}

fn fmt_frac(f: &Frac) -> String {
    let one = ExpPoly::constant(Q::one());
    let wrap = |p: &ExpPoly| {
        let fraction = p.as_rational().is_some_and(|c| !c.is_integer());
        if fraction
            || p.len() > 1
            || p.terms()
                .first()
                .is_some_and(|t| t.1.is_negative() && !t.0.is_zero())
        {
            format!("({})", fmt_poly(p))
        } else {
            fmt_poly(p)
        }
    };
    if f.den == one {
        fmt_poly(&f.num)
    } else {
        format!("{}/{}", wrap(&f.num), wrap(&f.den))
    }
}

impl fmt::Display for Ex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(reason) = &self.defect {
            return write!(f, "⊥({reason})");
        }
        let value = fmt_frac(&self.value);
        let mut wrote = false;
        if !self.value.is_zero() || self.logs.is_empty() {
            write!(f, "{value}")?;
            wrote = true;
        }
        for t in &self.logs {
            let c = fmt_frac(&t.coefficient);
            let arg = fmt_poly(&t.argument);
            let (negative, c) = match c.strip_prefix('-') {
                Some(rest) if t.coefficient.den.len() == 1 && t.coefficient.num.len() == 1 => {
                    (true, rest.to_string())
                }
                _ => (false, c),
            };
            if wrote {
                write!(f, "{}", if negative { " − " } else { " + " })?;
            } else if negative {
                write!(f, "-")?;
            }
            if c != "1" {
                if c.contains(' ') {
                    write!(f, "({c})·")?;
                } else {
                    write!(f, "{c}·")?;
                }
            }
            write!(f, "ln({arg})")?;
            wrote = true;
        }
        Ok(())
    }
}

impl Add for Ex {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        self.add_ref(&rhs)
    }
}
impl Sub for Ex {
    type Output = Self;
    fn sub(self, rhs: Self) -> Self {
        self.sub_ref(&rhs)
    }
}
impl Mul for Ex {
    type Output = Self;
    fn mul(self, rhs: Self) -> Self {
        self.mul_ref(&rhs)
    }
}
impl Neg for Ex {
    type Output = Self;
    fn neg(self) -> Self {
        self.neg_ref()
    }
}

impl Zero for Ex {
    fn zero() -> Self {
        Ex::frac(Frac::poly(ExpPoly::zero()))
    }
    fn is_zero(&self) -> bool {
        self.defect.is_none() && self.logs.is_empty() && self.value.is_zero()
    }
}

impl One for Ex {
    fn one() -> Self {
        Ex::frac(Frac::poly(ExpPoly::constant(Q::one())))
    }
}

impl Ring for Ex {
    fn add_ref(&self, rhs: &Self) -> Self {
        if let Some(d) = self.defect.as_ref().or(rhs.defect.as_ref()) {
            return Ex::poisoned(d);
        }
        Ex {
            value: self.value.add(&rhs.value),
            logs: Ex::combine_logs(self.logs.clone(), rhs.logs.iter().cloned()),
            defect: None,
        }
    }
    fn sub_ref(&self, rhs: &Self) -> Self {
        self.add_ref(&rhs.neg_ref())
    }
    fn mul_ref(&self, rhs: &Self) -> Self {
        if let Some(d) = self.defect.as_ref().or(rhs.defect.as_ref()) {
            return Ex::poisoned(d);
        }
        let (a, b) = if self.logs.is_empty() {
            (rhs, self)
        } else {
            (self, rhs)
        };
        if !b.logs.is_empty() {
            return Ex::poisoned("a product of two logarithms");
        }
        let g = &b.value;
        Ex {
            value: a.value.mul(g),
            logs: Ex::combine_logs(
                Vec::new(),
                a.logs.iter().map(|t| LogTerm {
                    argument: t.argument.clone(),
                    coefficient: t.coefficient.mul(g),
                }),
            ),
            defect: None,
        }
    }
    fn neg_ref(&self) -> Self {
        Ex {
            value: self.value.neg(),
            logs: self
                .logs
                .iter()
                .map(|t| LogTerm {
                    argument: t.argument.clone(),
                    coefficient: t.coefficient.neg(),
                })
                .collect(),
            defect: self.defect.clone(),
        }
    }
    fn from_i64(n: i64) -> Self {
        Ex::from_q(&Q::from_integer(n.into()))
    }
}

impl Field for Ex {
    fn checked_div(&self, rhs: &Self) -> Option<Self> {
        if rhs.defect.is_some() || rhs.has_logs() {
            if rhs.is_zero() {
                return None;
            }
            return Some(Ex::poisoned("a division by a logarithm"));
        }
        let inv = Ex::frac(rhs.value.recip()?);
        Some(self.mul_ref(&inv))
    }
    fn from_q(q: &Q) -> Self {
        Ex::frac(Frac::poly(ExpPoly::constant(q.clone())))
    }
}

/// Precision, in bits, past which a sign that depends on formal logarithms is not sought.
const MAX_LOG_BITS: u64 = 512;

impl Ordered for Ex {
    /// Exact for log-free values. With formal logarithms, by enclosures refined up to 512 bits;
    /// a value still undecided there is reported as zero, so a piecewise op sees a kink and the
    /// point is refused rather than decided on a guess. A poisoned value is reported as zero too.
    fn sign(&self) -> Ordering {
        let sign = self.decide_sign();
        if super::comparisons::is_observing() {
            let rational = self.as_rational();
            super::comparisons::note(std::panic::Location::caller(), sign, rational.as_ref());
        }
        sign
    }
}

impl Ex {
    fn decide_sign(&self) -> Ordering {
        if self.defect.is_some() {
            return Ordering::Equal;
        }
        if self.logs.is_empty() {
            return self.value.sign();
        }
        let mut bits = 64;
        while bits <= MAX_LOG_BITS {
            if let Some(s) = self.enclose(bits).and_then(|i| i.sign()) {
                return s;
            }
            bits *= 2;
        }
        Ordering::Equal
    }
}

impl Transcendental for Ex {
    const FIELD: &'static str = "exp-polynomial fractions (Ex)";

    fn exp(&self) -> Result<Self, FunctionError> {
        let outside = || FunctionError::OutsideField {
            function: "exp",
            argument: self.to_string(),
            field: Self::FIELD,
        };
        if self.defect.is_some() {
            return Err(outside());
        }
        let r = self.value.as_rational().ok_or_else(outside)?;
        let mut out = Ex::exp_monomial(&Q::one(), &r);
        for t in &self.logs {
            let k = t.coefficient.as_rational().filter(|k| k.is_integer());
            let k = k
                .and_then(|k| k.to_integer().to_i32())
                .ok_or_else(outside)?;
            let p = Ex::frac(Frac::poly(t.argument.clone()));
            let mut power = Ex::one();
            for _ in 0..k.unsigned_abs() {
                power = power.mul_ref(&p);
            }
            out = if k < 0 {
                out.checked_div(&power).ok_or_else(outside)?
            } else {
                out.mul_ref(&power)
            };
        }
        Ok(out)
    }

    fn ln(&self) -> Result<Self, FunctionError> {
        if self.defect.is_some() || self.has_logs() {
            return Err(FunctionError::OutsideField {
                function: "ln",
                argument: self.to_string(),
                field: Self::FIELD,
            });
        }
        if self.sign() != Ordering::Greater {
            return Err(FunctionError::OutsideDomain {
                function: "ln",
                argument: self.to_string(),
            });
        }
        // Both parts positive, so that each has a logarithm.
        let (num, den) = if enclosure::sign(&self.value.den) == Ordering::Less {
            (self.value.num.neg(), self.value.den.neg())
        } else {
            (self.value.num.clone(), self.value.den.clone())
        };
        let one = Frac::poly(ExpPoly::constant(Q::one()));
        let (mut value, mut logs) = Ex::ln_poly(&num, one.clone());
        if den != ExpPoly::constant(Q::one()) {
            let (v, l) = Ex::ln_poly(&den, one.neg());
            value = value.add(&v);
            logs = Ex::combine_logs(logs, l);
        }
        Ok(Ex {
            value,
            logs: Ex::combine_logs(Vec::new(), logs),
            defect: None,
        })
    }

    fn certify_distinct(&self, other: &Self) -> Result<(), String> {
        if let Some(d) = self.defect.as_ref().or(other.defect.as_ref()) {
            return Err(format!("a value is not represented exactly: {d}"));
        }
        if !self.has_logs() && !other.has_logs() {
            return Ok(());
        }
        let diff = self.sub_ref(other);
        let mut bits = 64;
        while bits <= MAX_LOG_BITS {
            if diff
                .enclose(bits)
                .and_then(|i| i.sign())
                .is_some_and(|s| s != Ordering::Equal)
            {
                return Ok(());
            }
            bits *= 2;
        }
        Err(format!(
            "{self} and {other} differ in their formal logarithms but agree to {MAX_LOG_BITS} bits"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: i64, d: i64) -> Q {
        Q::new(n.into(), d.into())
    }
    fn ex(n: i64, d: i64) -> Ex {
        Ex::from_q(&q(n, d))
    }

    #[test]
    fn sigmoid_identities_hold_exactly() {
        let x = ex(1, 2);
        let s = Ex::one()
            .checked_div(&(Ex::one() + x.neg_ref().exp().unwrap()))
            .unwrap();
        // σ(x)·(1 − σ(x)) = e^{-x}/(1 + e^{-x})²
        let lhs = s.mul_ref(&(Ex::one() - s.clone()));
        let e = x.neg_ref().exp().unwrap();
        let d = Ex::one() + e.clone();
        let rhs = e.checked_div(&d.mul_ref(&d)).unwrap();
        assert_eq!(lhs, rhs);
        assert_ne!(lhs, s);
        assert_eq!(s.sign(), Ordering::Greater);
        assert_eq!((s.clone() - ex(1, 2)).sign(), Ordering::Greater);
        assert_eq!((s - ex(2, 3)).sign(), Ordering::Less); // σ(1/2) ≈ 0.6225
    }

    #[test]
    fn logs_are_formal_and_exact_where_possible() {
        let x = ex(1, 3);
        let e = x.exp().unwrap();
        assert_eq!(e.ln().unwrap(), x);
        let d = Ex::one() + e.clone();
        let l = d.ln().unwrap();
        assert!(l.has_logs());
        assert_eq!(l.clone() - l.clone(), Ex::zero());
        assert_eq!(l.exp().unwrap(), d);
        assert!((l.to_f64() - (1.0 + (1.0f64 / 3.0).exp()).ln()).abs() < 1e-12);
        assert!(matches!(
            ex(-1, 2).ln(),
            Err(FunctionError::OutsideDomain { .. })
        ));
        assert!(matches!(
            e.checked_div(&d).unwrap().exp(),
            Err(FunctionError::OutsideField { .. })
        ));
        // ln 4 and 2·ln 2 are equal numbers with different formal forms: not equal formally, and
        // not certified distinct either, so no check reports them as a difference.
        let four = ex(4, 1).ln().unwrap();
        let two = ex(2, 1).ln().unwrap();
        assert!(four.certify_distinct(&(two.clone() + two.clone())).is_err());
        assert!(four.certify_distinct(&two).is_ok());
        assert!(l.mul_ref(&l).defect().is_some());
    }

    #[test]
    fn display_is_readable() {
        let e = ex(1, 3).exp().unwrap();
        let v = (ex(2, 1) * e.clone() - Ex::one())
            .checked_div(&(e + Ex::one()))
            .unwrap();
        assert_eq!(v.to_string(), "(2e^(1/3) − 1)/(e^(1/3) + 1)");
        assert_eq!(ex(-3, 4).to_string(), "-3/4");
        let l = (Ex::one() + ex(1, 1).exp().unwrap()).ln().unwrap();
        assert_eq!((ex(1, 2) - l).to_string(), "1/2 − ln(e + 1)");
    }
}
