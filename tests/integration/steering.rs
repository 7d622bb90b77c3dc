//! Where the steered cases go (`check::suite`'s steering): a user op's comparison is traced,
//! and the cases land onto its threshold, next to it and far from it on both sides, and at the
//! extremes of size. (Comparisons made in the crate's own `src/check` are not traced, so the
//! spy lives here, as a user's op does.)

use crate::common::q;
use exactgrad::check::{check_op, CheckConfig};
use exactgrad::{Op, OpSpec, Scalar, Tensor, Q};
use num_bigint::BigInt;
use num_traits::{Signed, Zero};
use proptest::prelude::*;
use std::any::Any;
use std::sync::Mutex;

/// Every `x[0]` the spy's `vjp` saw over `Q`: the cases' points (`forward` also sees the other
/// points of the interleaved-calls check).
static SEEN: Mutex<Vec<Q>> = Mutex::new(Vec::new());

/// The identity on `[1]`, whose `forward` compares `x[0]` with `3/10` (a threshold for steering)
/// and whose `vjp` records it; with `wrong_below`, its `vjp` doubles `δ` on `(3/10 − 2⁻⁴⁰, 3/10)`, a band no
/// drawn case reaches.
struct Spy {
    wrong_below: bool,
}

impl Op for Spy {
    fn name(&self) -> String {
        "Spy".into()
    }
    fn output_shape(&self, input: &[usize]) -> exactgrad::Result<Vec<usize>> {
        Ok(input.to_vec())
    }
}

impl<S: Scalar + 'static> OpSpec<S> for Spy {
    fn forward(&self, x: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        let _ = x.data()[0].sub_ref(&S::from_q(&q("3/10"))).sign();
        Ok(x.clone())
    }
    fn jvp(&self, _x: &Tensor<S>, dx: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        Ok(dx.clone())
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        // Only the correct spy records: the wrong one runs in another test, maybe at once.
        let seen = (x as &dyn Any).downcast_ref::<Tensor<Q>>();
        if let Some(x) = seen.filter(|_| !self.wrong_below) {
            SEEN.lock().unwrap().push(x.data()[0].clone());
        }
        let below = x.data()[0].sub_ref(&S::from_q(&q("3/10")));
        let band = below.add_ref(&S::from_q(&q("1/1099511627776")));
        if self.wrong_below && below.sign().is_lt() && band.sign().is_gt() {
            return dy.add(dy);
        }
        Ok(dy.clone())
    }
}

/// Tenths in `[-2, 2]`, never 0.
fn tenths() -> impl Strategy<Value = Q> {
    prop_oneof![1i64..=20, -20i64..=-1].prop_map(|n| Q::new(n.into(), 10.into()))
}

/// Onto the threshold, `2⁻⁶⁴·s` below and above it, `2⁶⁴·s` below and above it (`s`, the scale
/// of the compared values, is in `[1, 10]` here: the drawn entries are tenths in `[-2, 2]`), and
/// a drawn case scaled by `2⁻¹⁰⁰`, by `2¹⁰⁰` (so past `2⁹⁶`, apart from the far cases) and by
/// `(2²⁵⁵ + 1)/(2²⁵⁵ + 3)`.
#[test]
fn steered_cases_sit_onto_next_to_and_far_from_the_threshold_and_at_the_extremes() {
    let config = CheckConfig::default()
        .cases(4)
        .steered_cases(64)
        .elements(tenths());
    SEEN.lock().unwrap().clear();
    check_op(&Spy { wrong_below: false }, &[1], &config).unwrap();
    let seen = std::mem::take(&mut *SEEN.lock().unwrap());
    let c = q("3/10");
    let pow2 = |k: u32| Q::from_integer(BigInt::from(1) << k);
    let near = pow2(60).recip();
    let far = |d: Q| d > pow2(60) && d < pow2(70);
    let found = |what: &str, test: &dyn Fn(&Q) -> bool| {
        assert!(seen.iter().any(test), "no case {what} among {seen:?}");
    };
    found("onto 3/10", &|x| *x == c);
    found("just below", &|x| x < &c && &c - x < near);
    found("just above", &|x| x > &c && x - &c < near);
    found("far below", &|x| far(&c - x));
    found("far above", &|x| far(x - &c));
    let long = Q::new(
        (BigInt::from(1) << 255u32) + 1,
        (BigInt::from(1) << 255u32) + 3,
    );
    let scaled = |a: &Q, f: &Q| seen.contains(&(a * f));
    let extremes = seen.iter().any(|a| {
        !a.is_zero()
            && a.abs() <= Q::from_integer(2.into())
            && scaled(a, &pow2(100).recip())
            && scaled(a, &pow2(100))
            && scaled(a, &long)
    });
    assert!(
        extremes,
        "no drawn case at the three extremes among {seen:?}"
    );
}

/// A rule wrong only just below the threshold is caught by the case steered there, and the
/// failure says so, counts the cases that passed before it and is simplified.
#[test]
fn a_rule_wrong_just_below_the_threshold_is_caught_by_the_case_steered_there() {
    let config = CheckConfig::default().cases(4).elements(tenths());
    let failure = check_op(&Spy { wrong_below: true }, &[1], &config).unwrap_err();
    let how = failure.found_by.clone().unwrap_or_default();
    assert!(
        how.starts_with("steered just below the threshold"),
        "{failure}"
    );
    // The 4 drawn cases passed, then 3 steered ones: the line's two ends and the threshold.
    assert_eq!(failure.passed_before, 4 + 3, "{failure}");
    // Simplified as a drawn failure is, within its time: the point stays in the band, the rest
    // shrinks.
    assert_eq!(failure.shrink_stopped, None, "{failure}");
    let case = failure.case.clone().unwrap_or_default();
    assert!(
        case.ends_with("dx = [0], dx₂ = [0], δ = [1], δ₂ = [0], a = 0, b = 0"),
        "{case}"
    );
}

/// Steering traces three lines, each from one checked drawn case towards the next, and steers
/// up to three of a site's occurrences per line (the spy's `forward` runs at least three times
/// per case) to their threshold and its four sides; the three extremes follow:
/// `3 × (2 traced + 3 × (1 + 4)) + 3 = 54` cases, all checked (the spy has no domain).
#[test]
fn three_lines_are_traced_through_the_drawn_cases() {
    let config = CheckConfig::default()
        .cases(8)
        .steered_cases(1000)
        .elements(tenths());
    let report = check_op(&Spy { wrong_below: false }, &[1], &config).unwrap();
    assert_eq!(report.steered, 3 * (2 + 3 * 5) + 3, "{report}");
}
