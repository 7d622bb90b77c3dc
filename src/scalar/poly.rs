//! Sparse multivariate polynomials over ℚ in which mask symbols are idempotent (`m² = m`): the
//! numerators and denominators of [`crate::Sym`].
//!
//! A mask symbol stands for the truth value of a guard (`[g > 0]`), which is 0 or 1 at every
//! point off the kinks; reducing `m² → m` as products are formed is what lets one polynomial
//! identity cover every activation pattern at once.

use super::Q;
use num_traits::{One, Signed, Zero};
use std::collections::HashMap;

/// A symbol's number. Mask symbols have `MASK_BIT` (the top bit) set.
pub type Var = u32;

/// Marks a mask symbol: a variable with `m² = m`.
pub const MASK_BIT: Var = 1 << 31;

/// Whether `v` is a mask symbol.
pub fn is_mask(v: Var) -> bool {
    v & MASK_BIT != 0
}

/// A power product `∏ vᵢ^eᵢ`, variables strictly increasing, exponents ≥ 1 (1 for masks).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Monomial(Vec<(Var, u32)>);

impl Monomial {
    /// The monomial `v`.
    pub fn var(v: Var) -> Self {
        Monomial(vec![(v, 1)])
    }

    /// `(variable, exponent)` pairs, variables increasing.
    pub fn factors(&self) -> &[(Var, u32)] {
        &self.0
    }

    /// Whether this is the empty product 1.
    pub fn is_one(&self) -> bool {
        self.0.is_empty()
    }

    /// The total degree in the variables `pick` accepts.
    pub fn degree_in(&self, pick: impl Fn(Var) -> bool) -> u32 {
        self.0
            .iter()
            .filter(|(v, _)| pick(*v))
            .map(|(_, e)| e)
            .sum()
    }

    /// The product, with `m² = m` for masks.
    fn mul(&self, other: &Self) -> Self {
        let (a, b) = (&self.0, &other.0);
        let mut out = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                std::cmp::Ordering::Less => {
                    out.push(a[i]);
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    out.push(b[j]);
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    let v = a[i].0;
                    let e = if is_mask(v) { 1 } else { a[i].1 + b[j].1 };
                    out.push((v, e));
                    i += 1;
                    j += 1;
                }
            }
        }
        out.extend_from_slice(&a[i..]);
        out.extend_from_slice(&b[j..]);
        Monomial(out)
    }

    /// This monomial divided by `v` once, if `v` divides it.
    fn without_one(&self, v: Var) -> Option<Self> {
        let k = self.0.iter().position(|(w, _)| *w == v)?;
        let mut out = self.0.clone();
        if out[k].1 == 1 {
            out.remove(k);
        } else {
            out[k].1 -= 1;
        }
        Some(Monomial(out))
    }
}

/// `Σ cᵢ·Mᵢ` with non-zero rational coefficients, monomials strictly increasing, so equal
/// polynomials are equal structs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Poly {
    terms: Vec<(Monomial, Q)>,
}

impl Poly {
    /// The constant `c`.
    pub fn constant(c: Q) -> Self {
        if c.is_zero() {
            Poly::default()
        } else {
            Poly {
                terms: vec![(Monomial::default(), c)],
            }
        }
    }

    /// The polynomial `v`.
    pub fn var(v: Var) -> Self {
        Poly {
            terms: vec![(Monomial::var(v), Q::one())],
        }
    }

    /// The terms, monomials increasing.
    pub fn terms(&self) -> &[(Monomial, Q)] {
        &self.terms
    }

    /// How many terms.
    pub fn term_count(&self) -> usize {
        self.terms.len()
    }

    /// Whether this is the zero polynomial.
    pub fn is_zero(&self) -> bool {
        self.terms.is_empty()
    }

    /// The value when constant (`Some(0)` for zero), `None` when a symbol occurs.
    pub fn as_constant(&self) -> Option<Q> {
        match self.terms.as_slice() {
            [] => Some(Q::zero()),
            [(m, c)] if m.is_one() => Some(c.clone()),
            _ => None,
        }
    }

    /// The coefficient of the largest monomial (0 for the zero polynomial).
    pub fn leading_coefficient(&self) -> Q {
        self.terms.last().map_or_else(Q::zero, |(_, c)| c.clone())
    }

    /// Every variable that occurs.
    pub fn vars(&self) -> impl Iterator<Item = Var> + '_ {
        self.terms
            .iter()
            .flat_map(|(m, _)| m.factors().iter().map(|(v, _)| *v))
    }

    /// The largest total degree in the variables `pick` accepts (0 for the zero polynomial).
    pub fn degree_in(&self, pick: impl Fn(Var) -> bool + Copy) -> u32 {
        self.terms
            .iter()
            .map(|(m, _)| m.degree_in(pick))
            .max()
            .unwrap_or(0)
    }

    /// `c·self`.
    pub fn scale(&self, c: &Q) -> Self {
        if c.is_zero() {
            return Poly::default();
        }
        if c.is_one() {
            return self.clone();
        }
        Poly {
            terms: self.terms.iter().map(|(m, a)| (m.clone(), a * c)).collect(),
        }
    }

    /// `self + rhs`, by merging the sorted terms.
    pub fn add(&self, rhs: &Self) -> Self {
        self.merge(rhs, false)
    }

    /// `self − rhs`.
    pub fn sub(&self, rhs: &Self) -> Self {
        self.merge(rhs, true)
    }

    fn merge(&self, rhs: &Self, negate: bool) -> Self {
        let (a, b) = (&self.terms, &rhs.terms);
        let mut out = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        let signed = |c: &Q| if negate { -c } else { c.clone() };
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                std::cmp::Ordering::Less => {
                    out.push(a[i].clone());
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    out.push((b[j].0.clone(), signed(&b[j].1)));
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    let c = if negate {
                        &a[i].1 - &b[j].1
                    } else {
                        &a[i].1 + &b[j].1
                    };
                    if !c.is_zero() {
                        out.push((a[i].0.clone(), c));
                    }
                    i += 1;
                    j += 1;
                }
            }
        }
        out.extend(a[i..].iter().cloned());
        out.extend(b[j..].iter().map(|(m, c)| (m.clone(), signed(c))));
        Poly { terms: out }
    }

    /// `−self`.
    pub fn neg(&self) -> Self {
        self.scale(&-Q::one())
    }

    /// `Σ pᵢ` in one pass (adding one at a time would copy the growing sum each time).
    pub fn sum<'a>(polys: impl IntoIterator<Item = &'a Poly>) -> Poly {
        let mut acc: HashMap<&Monomial, Q> = HashMap::new();
        for p in polys {
            for (m, c) in &p.terms {
                match acc.entry(m) {
                    std::collections::hash_map::Entry::Occupied(mut e) => *e.get_mut() += c,
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(c.clone());
                    }
                }
            }
        }
        let mut terms: Vec<(Monomial, Q)> = acc
            .into_iter()
            .filter(|(_, c)| !c.is_zero())
            .map(|(m, c)| (m.clone(), c))
            .collect();
        terms.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Poly { terms }
    }

    /// `self · rhs`, with `m² = m` for masks.
    pub fn mul(&self, rhs: &Self) -> Self {
        if self.is_zero() || rhs.is_zero() {
            return Poly::default();
        }
        if let Some(c) = self.as_constant() {
            return rhs.scale(&c);
        }
        if let Some(c) = rhs.as_constant() {
            return self.scale(&c);
        }
        let mut acc: HashMap<Monomial, Q> =
            HashMap::with_capacity(self.term_count() * rhs.term_count());
        for (ma, ca) in &self.terms {
            for (mb, cb) in &rhs.terms {
                let c = ca * cb;
                match acc.entry(ma.mul(mb)) {
                    std::collections::hash_map::Entry::Occupied(mut e) => {
                        *e.get_mut() += c;
                    }
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(c);
                    }
                }
            }
        }
        let mut terms: Vec<(Monomial, Q)> = acc.into_iter().filter(|(_, c)| !c.is_zero()).collect();
        terms.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Poly { terms }
    }

    /// The polynomial `p` with `self = v·p + (terms without v)`: the coefficient of `v` when
    /// `self` is linear in `v`.
    pub fn coefficient_of(&self, v: Var) -> Self {
        let mut terms: Vec<(Monomial, Q)> = self
            .terms
            .iter()
            .filter_map(|(m, c)| m.without_one(v).map(|m| (m, c.clone())))
            .collect();
        terms.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Poly { terms }
    }

    /// [`Poly::coefficient_of`] for every variable of `vars` at once, in one pass over the
    /// terms: the coefficients of a form linear in `vars` (terms with none of them are left
    /// out).
    pub fn coefficients_of(&self, vars: &[Var]) -> Vec<Poly> {
        let slot: HashMap<Var, usize> = vars.iter().enumerate().map(|(k, &v)| (v, k)).collect();
        let mut parts: Vec<Vec<(Monomial, Q)>> = vec![Vec::new(); vars.len()];
        for (m, c) in &self.terms {
            let hit = m
                .factors()
                .iter()
                .find_map(|(v, _)| slot.get(v).map(|&k| (*v, k)));
            if let Some((v, k)) = hit {
                let rest = m.without_one(v).expect("v divides m");
                parts[k].push((rest, c.clone()));
            }
        }
        parts
            .into_iter()
            .map(|mut terms| {
                terms.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                Poly { terms }
            })
            .collect()
    }

    /// `self` with the variables that `value` knows replaced by their values (a partial
    /// evaluation; the others stay symbols).
    pub fn substitute(&self, value: &impl Fn(Var) -> Option<Q>) -> Self {
        let mut acc: HashMap<Monomial, Q> = HashMap::new();
        for (m, c) in &self.terms {
            let mut coef = c.clone();
            let mut rest = Vec::new();
            for &(v, e) in m.factors() {
                match value(v) {
                    Some(x) => coef *= num_traits::pow(x, e as usize),
                    None => rest.push((v, e)),
                }
            }
            if !coef.is_zero() {
                *acc.entry(Monomial(rest)).or_insert_with(Q::zero) += coef;
            }
        }
        let mut terms: Vec<(Monomial, Q)> = acc.into_iter().filter(|(_, c)| !c.is_zero()).collect();
        terms.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Poly { terms }
    }

    /// `self` made monic for comparing guards: divided by its leading coefficient, whose sign
    /// is returned beside it (`[self > 0]` is `[monic > 0]` when it is positive, `[monic < 0]`
    /// otherwise).
    pub fn normalised(&self) -> (Poly, bool) {
        let lc = self.leading_coefficient();
        if lc.is_zero() {
            return (self.clone(), true);
        }
        let positive = lc.is_positive();
        let inv = Q::one() / lc;
        (self.scale(&inv), positive)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar::parse_q;

    fn c(s: &str) -> Poly {
        Poly::constant(parse_q(s).unwrap())
    }

    #[test]
    fn masks_are_idempotent_and_other_symbols_are_not() {
        let (x, m) = (Poly::var(0), Poly::var(MASK_BIT));
        assert_eq!(m.mul(&m), m);
        assert_ne!(x.mul(&x), x);
        // (x + m)² = x² + 2xm + m
        let s = x.add(&m);
        let expect = x
            .mul(&x)
            .add(&x.mul(&m).scale(&parse_q("2").unwrap()))
            .add(&m);
        assert_eq!(s.mul(&s), expect);
    }

    #[test]
    fn cancellation_gives_the_zero_polynomial() {
        let (x, y) = (Poly::var(0), Poly::var(1));
        assert_eq!(Poly::sum([&x, &y, &x.neg()]), y);
        let p = x.add(&y).mul(&x.sub(&y));
        assert!(p.sub(&x.mul(&x)).add(&y.mul(&y)).is_zero());
        assert_eq!(c("0"), Poly::default());
    }

    #[test]
    fn coefficient_and_substitution() {
        let (x, u) = (Poly::var(0), Poly::var(1));
        let p = x.mul(&u).scale(&parse_q("3").unwrap()).add(&x);
        assert_eq!(p.coefficient_of(1), x.scale(&parse_q("3").unwrap()));
        // p is linear in u (variable 1): one pass reads the same coefficient.
        assert_eq!(p.coefficients_of(&[1]), vec![p.coefficient_of(1)]);
        let form = p.add(&Poly::var(2).scale(&parse_q("5").unwrap()));
        assert_eq!(form.coefficients_of(&[2, 1])[0], c("5"));
        let at = p.substitute(&|v| (v == 0).then(|| parse_q("1/2").unwrap()));
        assert_eq!(at, u.scale(&parse_q("3/2").unwrap()).add(&c("1/2")));
    }

    #[test]
    fn normalised_guards_agree_up_to_positive_scale() {
        let x = Poly::var(0);
        let g = x.scale(&parse_q("-2").unwrap()).add(&c("4"));
        let (n, positive) = g.normalised();
        assert!(!positive);
        assert_eq!(n, x.sub(&c("2")));
    }
}
