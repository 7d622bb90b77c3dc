//! Rules wrong only where no random case lands: in a narrow band beside a kink, for tiny or
//! huge inputs, inside a tiny interval, for long literals; rules that refuse a smooth point;
//! rules that read state an earlier call left. Each is caught at the default settings, the
//! first five by the cases steered to the thresholds the rule compares against (the failure
//! says so), and a dead branch no case can reach is reported.

use super::*;
use exactgrad::check::CheckReport;
use exactgrad::ops::Clamp;
use exactgrad::{parse_q, Error};
use std::any::Any;
use std::cell::RefCell;
use std::cmp::Ordering;

/// The literal `s` in the scalar.
fn lit<S: Sc>(s: &str) -> S {
    S::from_q(&parse_q(s).expect("literal"))
}

/// `relu′(v)·d`.
fn relu_rule<S: Sc>(v: &S, d: &S) -> S {
    S::select(v, d.clone(), S::zero())
}

/// A ReLU whose vjp is `wrong(v, δ)` where it returns `Some`, and correct elsewhere.
fn relu_vjp_except<S: Sc>(
    x: &Tensor<S>,
    dy: &Tensor<S>,
    wrong: impl Fn(&S, &S) -> Option<S>,
) -> Result<Tensor<S>> {
    x.zip_with(dy, |v, d| wrong(v, d).unwrap_or_else(|| relu_rule(v, d)))
}

/// Asserts the failure came from a steered (or extreme) case and the identity is the vjp's.
fn steered(failure: &CheckFailure, check: &str) {
    let c = failure
        .counterexample()
        .unwrap_or_else(|| panic!("{failure}"));
    assert_eq!(c.check, check, "{failure}");
    assert!(failure.found_by.is_some(), "{failure}");
}

struct EpsilonBesideTheKink;
impl Bug<Relu> for EpsilonBesideTheKink {
    fn name(&self) -> &'static str {
        "vjp passing δ through for |x| < 10⁻⁹ (an epsilon branch beside the kink)"
    }
    fn vjp<S: Sc>(&self, _: &Relu, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        relu_vjp_except(x, dy, |v, d| {
            (v.abs_val().sub_ref(&lit("1e-9")).sign() == Ordering::Less).then(|| d.clone())
        })
    }
}

#[test]
fn an_epsilon_branch_beside_the_kink_is_reached_by_steering() {
    let failure = caught(&mutant(Relu, EpsilonBesideTheKink), &[2, 3]);
    steered(&failure, "jacobian: vjp(x, δ) = Jᵀ·δ");
}

/// `x³` with a "series" branch for tiny inputs that keeps one term too many.
struct SeriesForTinyInputs;
impl Bug<exactgrad::ops::Power> for SeriesForTinyInputs {
    fn name(&self) -> &'static str {
        "vjp of x³ using 3x² + x³ for |x| < 2⁻²⁰ (a wrong series branch)"
    }
    fn vjp<S: Sc>(
        &self,
        _: &exactgrad::ops::Power,
        x: &Tensor<S>,
        dy: &Tensor<S>,
    ) -> Result<Tensor<S>> {
        x.zip_with(dy, |v, d| {
            let square = v.mul_ref(v);
            let slope = square.mul_ref(&S::from_i64(3));
            let tiny = v.abs_val().sub_ref(&lit("1/1048576")).sign() == Ordering::Less;
            let slope = if tiny {
                slope.add_ref(&square.mul_ref(v))
            } else {
                slope
            };
            slope.mul_ref(d)
        })
    }
}

#[test]
fn a_wrong_series_branch_for_tiny_inputs_is_reached_by_steering() {
    let failure = caught(
        &mutant(exactgrad::ops::Power::new(3), SeriesForTinyInputs),
        &[3],
    );
    steered(&failure, "jacobian: vjp(x, δ) = Jᵀ·δ");
}

struct ZeroPastABound;
impl Bug<Relu> for ZeroPastABound {
    fn name(&self) -> &'static str {
        "vjp returning 0 for x > 2²⁰ (an overflow guard)"
    }
    fn vjp<S: Sc>(&self, _: &Relu, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        relu_vjp_except(x, dy, |v, _| {
            (v.sub_ref(&lit("1048576")).sign() == Ordering::Greater).then(S::zero)
        })
    }
}

#[test]
fn a_wrong_rule_past_a_large_bound_is_reached_by_steering() {
    let failure = caught(&mutant(Relu, ZeroPastABound), &[2, 3]);
    steered(&failure, "jacobian: vjp(x, δ) = Jᵀ·δ");
}

fn wide_clamp() -> Clamp {
    Clamp::new(lit("-1000"), lit("1000")).expect("lo < hi")
}

struct StraightThroughAbove;
impl Bug<Clamp> for StraightThroughAbove {
    fn name(&self) -> &'static str {
        "clamp vjp passing δ through above the upper bound"
    }
    fn vjp<S: Sc>(&self, c: &Clamp, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let correct = c.vjp(x, dy)?;
        let above = x.map(|v| S::select(&v.sub_ref(&lit("1000")), S::one(), S::zero()));
        correct.add(&above.hadamard(dy)?)
    }
}

#[test]
fn a_wrong_piece_beyond_wide_clamp_bounds_is_reached_by_steering() {
    let failure = caught(&mutant(wide_clamp(), StraightThroughAbove), &[4]);
    steered(&failure, "jacobian: vjp(x, δ) = Jᵀ·δ");
}

struct DoubledInATinyInterval;
impl Bug<Relu> for DoubledInATinyInterval {
    fn name(&self) -> &'static str {
        "vjp doubled for 3/10 < x < 3/10 + 2⁻³⁰"
    }
    fn vjp<S: Sc>(&self, _: &Relu, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        relu_vjp_except(x, dy, |v, d| {
            let low = v.sub_ref(&lit("3/10")).sign() == Ordering::Greater;
            let inside = low
                && v.sub_ref(&lit("3/10")).sub_ref(&lit("1/1073741824")).sign() == Ordering::Less;
            inside.then(|| d.add_ref(d))
        })
    }
}

#[test]
fn a_wrong_rule_inside_a_tiny_interval_is_reached_by_steering() {
    let failure = caught(&mutant(Relu, DoubledInATinyInterval), &[2, 3]);
    steered(&failure, "jacobian: vjp(x, δ) = Jᵀ·δ");
}

/// A generic rule sees the length of a number only through its exact literal.
struct ShortLiteralFastPath;
impl Bug<Relu> for ShortLiteralFastPath {
    fn name(&self) -> &'static str {
        "vjp returning 0 for entries whose literal is over 120 characters"
    }
    fn vjp<S: Sc>(&self, _: &Relu, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        relu_vjp_except(x, dy, |v, _| (v.to_string().len() > 120).then(S::zero))
    }
}

#[test]
fn a_wrong_rule_for_long_numerators_and_denominators_is_caught_by_steered_cases() {
    let failure = caught(&mutant(Relu, ShortLiteralFastPath), &[2, 3]);
    steered(&failure, "jacobian: vjp(x, δ) = Jᵀ·δ");
}

struct KinkWhereSmooth;
impl Bug<Relu> for KinkWhereSmooth {
    fn name(&self) -> &'static str {
        "vjp refusing |x| < 1/2 as a kink"
    }
    fn vjp<S: Sc>(&self, _: &Relu, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        if let Some(k) = (0..x.len())
            .find(|&k| x.data()[k].abs_val().sub_ref(&lit("1/2")).sign() == Ordering::Less)
        {
            return Err(Error::Kink {
                layer: 1,
                op: "ReLU".into(),
                coordinate: x.multi_index(k),
            });
        }
        relu_deriv_spec(x).hadamard(dy)
    }
}

#[test]
fn a_rule_refusing_a_smooth_point_as_a_kink_fails_instead_of_redrawing() {
    let failure = caught(&mutant(Relu, KinkWhereSmooth), &[2, 3]);
    let Error::RuleRefused { check, error, .. } = &failure.error else {
        panic!("{failure}");
    };
    assert!(check.starts_with("structural"), "{failure}");
    assert!(matches!(**error, Error::Kink { .. }), "{failure}");
    assert!(failure.case.is_some(), "{failure}");
}

/// A ReLU that saves its input in `forward` (as autograd's `save_for_backward` does) and whose
/// vjp reads the saved input instead of its argument.
#[derive(Default)]
struct StaleInput {
    saved: RefCell<Option<Box<dyn Any>>>,
}
impl Op for StaleInput {
    fn name(&self) -> String {
        "ReLU reading the input saved by the last forward".into()
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Relu.output_shape(input)
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
}
impl<S: Sc> OpSpec<S> for StaleInput {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        *self.saved.borrow_mut() = Some(Box::new(x.clone()));
        Relu.forward(x)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        Relu.jvp(x, dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let saved = self.saved.borrow();
        let input = saved
            .as_ref()
            .and_then(|b| b.downcast_ref::<Tensor<S>>())
            .filter(|s| s.shape() == x.shape())
            .unwrap_or(x);
        relu_deriv_spec(input).hadamard(dy)
    }
    fn guards(&self, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
        Relu.guards(x)
    }
}

#[test]
fn a_rule_reading_state_saved_by_an_earlier_forward_is_caught_and_the_calls_named() {
    let failure = caught(&StaleInput::default(), &[2, 3]);
    let c = failure
        .counterexample()
        .unwrap_or_else(|| panic!("{failure}"));
    assert!(
        c.check
            .starts_with("structural: vjp(x, δ) after forward(x), forward(x′)"),
        "{failure}"
    );
    assert!(c.inputs.iter().any(|(name, _)| name == "x′"), "{failure}");
}

/// A correct ReLU whose vjp also tests `x² + 1 < 0`, which no input reaches.
struct DeadBranch;
impl Bug<Relu> for DeadBranch {
    fn name(&self) -> &'static str {
        "vjp with a dead branch"
    }
    fn vjp<S: Sc>(&self, _: &Relu, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        relu_vjp_except(x, dy, |v, _| {
            (v.mul_ref(v).add_ref(&S::one()).sign() == Ordering::Less).then(S::zero)
        })
    }
}

#[test]
fn a_branch_no_case_reaches_is_an_error_unless_allowed() {
    let op = mutant(Relu, DeadBranch);
    let failure = check_op(&op, &[2, 3], &CheckConfig::default()).expect_err("unreached");
    let Error::UnreachedBranches { branches, .. } = &failure.error else {
        panic!("{failure}");
    };
    assert_eq!(branches.len(), 1, "{failure}");
    assert_eq!(branches[0].outcome, Ordering::Less);
    assert!(
        branches[0].site.contains("mutants/branches.rs"),
        "{failure}"
    );
    let report = check_op(
        &op,
        &[2, 3],
        &CheckConfig::default().allow_unreached_branches(),
    )
    .expect("correct rules");
    assert!(report
        .branches
        .iter()
        .any(|b| b.reached == [0, 0, b.reached[2]]));
}

/// Each comparison of a correct op has both sides reached, and the steered cases pass.
#[test]
fn correct_piecewise_ops_reach_both_sides_of_every_comparison() {
    let reports: Vec<CheckReport> = vec![
        check_op(&Relu, &[2, 3], &CheckConfig::default()).expect("relu"),
        check_op(&wide_clamp(), &[4], &CheckConfig::default()).expect("clamp"),
    ];
    for report in reports {
        assert!(report.steered > 0, "{report}");
        assert!(!report.branches.is_empty(), "{report}");
        for b in &report.branches {
            assert!(
                b.reaches(Ordering::Less) && b.reaches(Ordering::Greater),
                "{report}"
            );
        }
    }
}

/// `Ordered` is how a generic rule compares; the sites are the rule's own lines.
#[test]
fn the_sites_are_the_lines_of_the_op() {
    let report = check_op(&Relu, &[3], &CheckConfig::default().cases(16)).expect("relu");
    assert!(
        report
            .branches
            .iter()
            .all(|b| b.site.starts_with("src/ops/relu.rs:")),
        "{report}"
    );
}
