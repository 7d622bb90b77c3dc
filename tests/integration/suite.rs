//! The one-call checker and the strategies: correct ops pass, kinks are redrawn or named, bad
//! setups are typed errors, failing seeds are persisted, and each structural check catches a
//! wrong rule with its exact counterexample.

use exactgrad::check::{
    batched_equals_looped, check_family, check_kinks, check_op, deterministic, linear_in_tangent,
    CheckConfig,
};
use exactgrad::ops::{Add, Elementwise, Identity, Linear, MatVec, Relu, ScalarFn};
use exactgrad::strategy::{
    any_shape, linear, linear_case, mlp, nudge_off_kinks, onto_kink, sample, shaped_tensor, small_q,
};
use exactgrad::{check_op, Compose, Error, Op, OpSpec, Ordered, Result, Scalar, Tensor, Q};
use proptest::prelude::*;
use std::cell::Cell;
use std::cmp::Ordering;

fn q(lits: &[&str], shape: &[usize]) -> Tensor<Q> {
    Tensor::parse(shape.to_vec(), lits).expect("literals")
}

/// φ(x) = x² + x/3, φ′(x) = 2x + 1/3: a smooth op (no fderiv).
struct Poly;
impl ScalarFn for Poly {
    fn name(&self) -> String {
        "x² + x/3".into()
    }
    fn value<S: Scalar>(&self, x: &S) -> Result<S> {
        Ok(x.mul_ref(x) + x.checked_div(&S::from_i64(3)).unwrap())
    }
    fn deriv<S: Scalar>(&self, x: &S) -> Result<S> {
        Ok(S::from_i64(2).mul_ref(x) + S::one().checked_div(&S::from_i64(3)).unwrap())
    }
}

#[test]
fn the_macro_checks_every_crate_op_in_one_call() {
    let n = CheckConfig::default().case_count();
    let layer = sample(linear(3, 4, small_q()), 7);
    let net = sample(mlp(3, 5, 2, small_q()), 9);
    let reports = [
        check_op!(Relu, [2, 3]),
        check_op!(layer, [3]),
        check_op!((&layer).then(Relu), [3]),
        check_op!(net, [3]),
        check_op!(Identity, [4]),
        check_op!(Add::new(q(&["1", "-1/2"], &[2])), [2]),
        check_op!(
            MatVec::new(q(&["1", "2", "3", "4", "5", "6"], &[3, 2])).unwrap(),
            [2]
        ),
        check_op!(Elementwise(Poly), [3]),
    ];
    for report in &reports {
        println!("{report}");
        assert_eq!(report.cases, n, "{}", report.op);
    }
    assert_eq!(reports[3].op, "MLP(3→5→2)");
    assert_eq!(reports[3].output_shape, [2]);
    assert!(reports[3].checks.iter().any(|c| c.starts_with("fderiv")));
    assert!(!reports[7].checks.iter().any(|c| c.starts_with("fderiv")));
}

#[test]
fn a_drawn_family_of_networks_passes() {
    let config = CheckConfig::default().cases(64);
    let report = check_family(mlp(2, 3, 2, small_q()), &[2], &config).unwrap();
    assert_eq!(report.cases, 64);
    assert_eq!(report.op, "MLP(2→3→2) (drawn)");
}

#[test]
fn points_on_kinks_are_named_never_failed() {
    let config = CheckConfig::default().cases(64);
    let net = sample(mlp(3, 4, 2, small_q()), 3);
    let report = check_kinks(&net, &[3], &config).unwrap();
    assert_eq!((report.cases, report.layers.clone()), (64, vec![(2, 64)]));
    let report = check_kinks(&Relu, &[3], &config).unwrap();
    assert_eq!(report.layers, [(1, 64)]);
}

#[test]
fn an_op_without_kinks_has_no_kink_to_land_on() {
    let failure = check_kinks(&Identity, &[2], &CheckConfig::default().cases(4)).unwrap_err();
    assert!(failure.case.is_none());
    assert_eq!(
        failure.error,
        Error::NoKinks {
            op: "Identity".into()
        }
    );
}

#[test]
fn an_op_whose_guards_no_input_moves_has_no_kink_reachable_rather_than_no_kinks() {
    // ReLU after a layer that maps every input to 1: the op reports guards, but none moves
    // with x, so no point can be put on a kink. That is not an op without kinks.
    let zero_layer = Linear::new(q(&["0", "0", "0", "0"], &[2, 2]), q(&["1", "1"], &[2])).unwrap();
    let op = zero_layer.then(Relu);
    let failure = check_kinks(&op, &[2], &CheckConfig::default().cases(4)).unwrap_err();
    assert_eq!(failure.case, None);
    assert_eq!(failure.error, Error::NoKinkReachable { op: op.name() });
}

/// ReLU whose guards name another layer at every call, so that the kink a check names is never
/// the one the guards named just before.
struct WanderingKink {
    calls: Cell<usize>,
}
impl Op for WanderingKink {
    fn name(&self) -> String {
        "ReLU with a wandering layer".into()
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }
}
impl<S: Scalar> OpSpec<S> for WanderingKink {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        Relu.forward(x)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        Relu.jvp(x, dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        Relu.vjp(x, dy)
    }
    fn guards(&self, x: &Tensor<S>) -> Result<Vec<exactgrad::ops::Guard<S>>> {
        self.calls.set(self.calls.get() + 1);
        let mut guards = Relu.guards(x)?;
        for g in &mut guards {
            g.layer = self.calls.get();
        }
        Ok(guards)
    }
}

#[test]
fn a_derivative_check_naming_another_kink_than_the_guards_is_kink_not_reported() {
    let op = WanderingKink {
        calls: Cell::new(0),
    };
    let failure = check_kinks(&op, &[2], &CheckConfig::default().cases(4)).unwrap_err();
    let Error::KinkNotReported {
        check,
        expected,
        got,
        ..
    } = &failure.error
    else {
        panic!("{failure}")
    };
    assert!(check.starts_with("jacobian"), "{failure}");
    let (Error::Kink { layer: named, .. }, Some(got)) = (&**expected, got) else {
        panic!("{failure}")
    };
    assert!(
        matches!(**got, Error::Kink { layer, .. } if layer != *named),
        "{failure}"
    );
}

#[test]
fn a_wrong_input_shape_is_a_typed_setup_failure() {
    let layer = sample(linear(3, 2, small_q()), 1);
    let expected = Error::ShapeMismatch {
        op: "Linear".into(),
        context: "input".into(),
        left: vec![4],
        right: vec![3],
    };
    let failure = check_op(&layer, &[4], &CheckConfig::default()).unwrap_err();
    assert_eq!(failure.case, None);
    assert_eq!(failure.error, expected);
    assert!(failure
        .to_string()
        .starts_with("Linear(3→2): cannot be checked"));
    // check_kinks says the same: an op without guards is named as having no kinks only when no
    // kink could be reached, not when the setup fails.
    let failure = check_kinks(&layer, &[4], &CheckConfig::default()).unwrap_err();
    assert_eq!(failure.case, None);
    assert_eq!(failure.error, expected);
}

/// A ReLU fed by a zero row and a zero bias sits on its kink on a whole neighbourhood: no point
/// can be moved off it, so the run gives up with a message instead of failing the rule.
#[test]
fn a_kink_on_a_whole_neighbourhood_gives_up_with_a_message() {
    let dead = Linear::new(q(&["0", "0"], &[1, 2]), q(&["0"], &[1])).unwrap();
    let failure = check_op(&dead.then(Relu), &[2], &CheckConfig::default()).unwrap_err();
    assert!(failure.counterexample().is_none());
    assert_eq!(
        failure.error,
        // Proptest gives up at its 1025th rejection (`max_global_rejects` is 1024).
        Error::KinkEverywhere {
            op: "Linear(2→1) >>> ReLU".into(),
            redrawn: 1025,
        }
    );
}

#[test]
fn nudging_moves_off_kinks_and_onto_kink_lands_on_one() {
    let layer = Linear::new(q(&["1", "-1", "2", "1"], &[2, 2]), q(&["0", "0"], &[2])).unwrap();
    let op = layer.then(Relu);
    let origin = q(&["0", "0"], &[2]);
    let moved = nudge_off_kinks(&op, origin.clone());
    assert_ne!(moved, origin);
    let guards = OpSpec::<Q>::guards(&op, &moved).unwrap();
    assert!(guards.iter().all(|g| g.value.sign() != Ordering::Equal));
    // Already off every kink: unchanged.
    let off = q(&["1", "1/2"], &[2]);
    assert_eq!(nudge_off_kinks(&op, off.clone()), off);
    // Onto the kink of guard 1: 2·x₀ + x₁ = 0 by moving x₀.
    let on = onto_kink(&op, &off, 1).unwrap();
    assert_eq!(on, q(&["-1/4", "1/2"], &[2]));
    assert_eq!(onto_kink(&Identity, &off, 0), None);
}

proptest! {
    #[test]
    fn drawn_shapes_and_cases_fit(
        t in shaped_tensor(3, 4, small_q()),
        shape in any_shape(2, 3),
        (l, x, dx, dy) in linear_case(4, small_q()),
    ) {
        prop_assert!(t.shape().len() <= 3 && t.shape().iter().all(|&d| (1..=4).contains(&d)));
        prop_assert!(shape.len() <= 2);
        let (m, n) = l.dims();
        prop_assert_eq!((x.shape(), dx.shape(), dy.shape()), (&[n][..], &[n][..], &[m][..]));
        prop_assert!(exactgrad::check::jacobian(&l, &x, &dx, &dy).is_ok());
    }
}

/// jvp = relu(dx): not linear in the tangent.
struct ReluOfTangent;
impl Op for ReluOfTangent {
    fn name(&self) -> String {
        "jvp = relu(dx)".into()
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }
}
impl<S: Scalar> OpSpec<S> for ReluOfTangent {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(x.clone())
    }
    fn jvp(&self, _: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        Relu.forward(dx)
    }
    fn vjp(&self, _: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(dy.clone())
    }
}

#[test]
fn linearity_in_the_tangent_catches_a_nonlinear_rule() {
    let x = q(&["1", "2"], &[2]);
    let (dx1, dx2) = (q(&["1", "0"], &[2]), q(&["0", "1"], &[2]));
    let (a, b) = (Q::from_integer((-1).into()), Q::from_integer(1.into()));
    let Err(Error::Violated(c)) = linear_in_tangent(&ReluOfTangent, &x, [&dx1, &dx2], [&a, &b])
    else {
        panic!("must fail")
    };
    assert_eq!(
        c.check,
        "structural: jvp(x, a·dx₁ + b·dx₂) = a·jvp(x, dx₁) + b·jvp(x, dx₂)"
    );
    assert_eq!(c.coordinate, [0]);
    assert_eq!((c.rule.as_str(), c.reference.as_str()), ("0", "-1"));
    assert_eq!(c.difference, "1");
    // The whole suite finds it too, with a minimal case.
    let failure = check_op(&ReluOfTangent, &[2], &CheckConfig::default()).unwrap_err();
    let c = failure.counterexample().unwrap();
    println!("{failure}");
    assert_eq!(
        c.check,
        "structural: jvp(x, a·dx₁ + b·dx₂) = a·jvp(x, dx₁) + b·jvp(x, dx₂)"
    );
}

/// A rule with hidden state: every call returns a different multiple of the right answer.
struct Drifting {
    calls: Cell<i64>,
}
impl Op for Drifting {
    fn name(&self) -> String {
        "drifting vjp".into()
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }
}
impl<S: Scalar> OpSpec<S> for Drifting {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(x.clone())
    }
    fn jvp(&self, _: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(dx.clone())
    }
    fn vjp(&self, _: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        self.calls.set(self.calls.get() + 1);
        Ok(dy.scale(&S::from_i64(self.calls.get())))
    }
}

/// The identity, whose `vjp` cannot decide at `x[0] = 2` (as a scalar that cannot decide an
/// identity says) and records every `x[0]` it sees over `Q`.
struct UndecidedAtTwo {
    seen: std::cell::RefCell<Vec<Q>>,
}
impl Op for UndecidedAtTwo {
    fn name(&self) -> String {
        "undecided at 2".into()
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }
}
impl<S: Scalar + 'static> OpSpec<S> for UndecidedAtTwo {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(x.clone())
    }
    fn jvp(&self, _: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(dx.clone())
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        if let Some(x) = (x as &dyn std::any::Any).downcast_ref::<Tensor<Q>>() {
            self.seen.borrow_mut().push(x.data()[0].clone());
        }
        if x.data()[0] == S::from_i64(2) {
            return Err(Error::Undecided {
                check: "vjp".into(),
                coordinate: vec![0],
                reason: "a test's".into(),
            });
        }
        Ok(dy.clone())
    }
}

/// A case the scalar cannot decide ends the run at once: nothing is shrunk (the case is not run
/// again), and the cases that passed before it are counted.
#[test]
fn an_undecided_case_ends_the_run_unshrunk_with_the_passes_before_it() {
    let op = UndecidedAtTwo {
        seen: Default::default(),
    };
    // Twentieths from 1 to 2: x[0] = 2 in one case of 21.
    let config = CheckConfig::default()
        .cases(256)
        .elements((20i64..=40).prop_map(|n| Q::new(n.into(), 20.into())));
    let failure = check_op(&op, &[2], &config).unwrap_err();
    assert!(
        matches!(failure.error, Error::Undecided { .. }),
        "{failure}"
    );
    let two = Q::from_integer(2.into());
    let runs_at_two = op.seen.borrow().iter().filter(|x| **x == two).count();
    assert_eq!(runs_at_two, 1, "{failure}");
    assert!(failure.passed_before > 0, "{failure}");
    assert!(failure.case.unwrap().starts_with("x = [2, "));
}

/// The identity on `|x₀| ≥ 1`, a domain no sign flip reaches from inside `(−1, 1)`.
struct OutsideUnitInterval;
impl Op for OutsideUnitInterval {
    fn name(&self) -> String {
        "|x₀| ≥ 1".into()
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }
}
impl<S: Scalar> OpSpec<S> for OutsideUnitInterval {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let x0 = &x.data()[0];
        let inside = x0.sub_ref(&S::one()).sign().is_lt() && x0.add_ref(&S::one()).sign().is_gt();
        if inside {
            return Err(Error::OutsideDomain {
                op: "|x₀| ≥ 1".into(),
                coordinate: vec![0],
                function: "identity on |x₀| ≥ 1",
                argument: format!("{x0:?}"),
            });
        }
        Ok(x.clone())
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        self.forward(x)?;
        Ok(dx.clone())
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        self.forward(x)?;
        Ok(dy.clone())
    }
}

/// Points outside the domain are drawn again and counted as such, not as kinks.
#[test]
fn points_outside_the_domain_are_redrawn_and_counted() {
    // Tenths of −2 to 2: about half the draws are inside (−1, 1).
    let config = CheckConfig::default()
        .cases(64)
        .elements((-20i64..=20).prop_map(|n| Q::new(n.into(), 10.into())));
    let report = check_op(&OutsideUnitInterval, &[1], &config).unwrap();
    assert!(report.outside_domain_redrawn > 0, "{report}");
    assert_eq!(report.kinks_redrawn, 0, "{report}");
}

/// The identity whose `vjp` over `Q` doubles `δ` on its first call with `δ ≠ 0` only, and takes
/// 5 ms on every later such call: a failure that does not come back.
struct WrongOnce {
    calls: Cell<u32>,
}
impl Op for WrongOnce {
    fn name(&self) -> String {
        "wrong once".into()
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }
}
impl<S: Scalar + 'static> OpSpec<S> for WrongOnce {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(x.clone())
    }
    fn jvp(&self, _: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(dx.clone())
    }
    fn vjp(&self, _: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let zero = dy.data().iter().all(|v| *v == S::zero());
        if zero || !(dy as &dyn std::any::Any).is::<Tensor<Q>>() {
            return Ok(dy.clone());
        }
        self.calls.set(self.calls.get() + 1);
        if self.calls.get() == 1 {
            return dy.add(dy);
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
        Ok(dy.clone())
    }
}

/// A failure that passes when run again is reported as not deterministic, and says that
/// shrinking ran out of its time when it did (here the search's first step outlasts 1 ms).
/// A failure shrunk within its time does not say so.
#[test]
fn shrinking_out_of_time_is_reported_also_for_a_failure_that_does_not_come_back() {
    let config = CheckConfig::default()
        .cases(8)
        .progress(false)
        .shrink_time(std::time::Duration::from_millis(1));
    let op = WrongOnce {
        calls: Cell::new(0),
    };
    let failure = check_op(&op, &[2], &config).unwrap_err();
    assert!(
        matches!(failure.error, Error::NotDeterministic { .. }),
        "{failure}"
    );
    assert!(failure.shrink_stopped.is_some(), "{failure}");
    let failure = check_op(&ReluOfTangent, &[2], &CheckConfig::default()).unwrap_err();
    assert_eq!(failure.shrink_stopped, None, "{failure}");
}

#[test]
fn determinism_catches_hidden_state() {
    let op = Drifting {
        calls: Cell::new(0),
    };
    let x = q(&["1", "2"], &[2]);
    let Err(Error::Violated(c)) = deterministic(&op, &x, &x, &q(&["3", "0"], &[2])) else {
        panic!("must fail")
    };
    assert_eq!(c.check, "structural: vjp run twice gives the same value");
    assert_eq!(c.coordinate, [0]);
    assert_eq!(
        (c.rule.as_str(), c.reference.as_str(), c.difference.as_str()),
        ("6", "3", "3")
    );
}

#[test]
fn batched_equals_looped_names_the_batch_coordinate() {
    // Relu over [2, 2] against a per-sample op that is the identity: they differ where x < 0.
    let x = q(&["1", "-2", "3", "4"], &[2, 2]);
    let zero = q(&["0", "0", "0", "0"], &[2, 2]);
    let Err(Error::Violated(c)) = batched_equals_looped(&Relu, &Identity, &x, &zero, &zero) else {
        panic!("must fail")
    };
    assert_eq!(c.check, "structural: batched forward = looped forward");
    assert_eq!(c.coordinate, [0, 1]);
    assert_eq!(
        (c.rule.as_str(), c.reference.as_str(), c.difference.as_str()),
        ("0", "-2", "2")
    );
    // No batch dimension: a typed error.
    let scalar = Tensor::new(vec![], vec![Q::from_integer(1.into())]).unwrap();
    assert!(matches!(
        batched_equals_looped(&Relu, &Relu, &scalar, &scalar, &scalar),
        Err(Error::ShapeMismatch { .. })
    ));
}

/// Failing seeds go to proptest's regression file for the given source file, and are replayed
/// first on the next run, which finds the same minimal counterexample.
#[test]
fn failing_seeds_are_saved_and_replayed() {
    let dir = std::env::temp_dir().join(format!("exactgrad-regressions-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let source: &'static str = Box::leak(
        dir.join("user_test.rs")
            .to_str()
            .unwrap()
            .to_string()
            .into_boxed_str(),
    );
    let config = CheckConfig::default().regressions(source);
    let first = check_op(&ReluOfTangent, &[2], &config).unwrap_err();
    let saved = std::fs::read_to_string(dir.join("user_test.proptest-regressions")).unwrap();
    assert!(saved.lines().any(|l| l.starts_with("cc ")), "{saved}");
    let second = check_op(&ReluOfTangent, &[2], &config).unwrap_err();
    assert_eq!(first.error, second.error);
    assert_eq!(second.passed_before, 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The adjoint check on its own: a disagreement between the two rules is located on a basis
/// pair, and a rule that agrees on basis vectors but is not linear is named as such.
#[test]
fn adjoint_locates_the_disagreeing_jacobian_entry() {
    // Identity forward with jvp = dx but vjp = 2δ in coordinate 1.
    struct Doubled;
    impl Op for Doubled {
        fn name(&self) -> String {
            "vjp doubled in coordinate 1".into()
        }
        fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
            Ok(input.to_vec())
        }
    }
    impl<S: Scalar> OpSpec<S> for Doubled {
        fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
            Ok(x.clone())
        }
        fn jvp(&self, _: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
            Ok(dx.clone())
        }
        fn vjp(&self, _: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
            let mut d = dy.data().to_vec();
            d[1] = d[1].add_ref(&d[1]);
            Tensor::new(dy.shape().to_vec(), d)
        }
    }
    let x = q(&["1", "2", "3"], &[3]);
    let v = q(&["1", "1", "1"], &[3]);
    let Err(Error::Violated(c)) = exactgrad::check::adjoint(&Doubled, &x, &v, &v) else {
        panic!("must fail")
    };
    assert_eq!(c.check, "adjoint: vjp(x, e_i)_j = jvp(x, e_j)_i");
    assert_eq!(c.coordinate, [1, 1]);
    assert_eq!(
        (c.rule.as_str(), c.reference.as_str(), c.difference.as_str()),
        ("2", "1", "1")
    );

    // jvp = relu(dx), vjp = δ: equal on basis vectors, different at dx = (1, −1).
    let dx = q(&["1", "-1"], &[2]);
    let dy = q(&["1", "1"], &[2]);
    let x = q(&["0", "0"], &[2]);
    let Err(Error::Violated(c)) = exactgrad::check::adjoint(&ReluOfTangent, &x, &dx, &dy) else {
        panic!("must fail")
    };
    assert!(c
        .check
        .ends_with("(the rules agree on basis vectors, so one is not linear)"));
    assert_eq!(c.coordinate, Vec::<usize>::new());
    assert_eq!(
        (c.rule.as_str(), c.reference.as_str(), c.difference.as_str()),
        ("0", "1", "-1")
    );
}

/// What the checker reads from a composition: its name, whether it is piecewise linear (which
/// decides whether fderiv runs), and its depth (which numbers the layers a kink is named by).
#[test]
fn compositions_report_name_kind_and_layers() {
    let layer = Linear::new(q(&["1", "-1", "2", "1"], &[2, 2]), q(&["1", "-3"], &[2])).unwrap();
    let net = (&layer).then(Relu).then(&layer).then(Relu);
    assert_eq!(net.depth(), 4);
    assert_eq!(net.name(), "Linear(2→2) >>> ReLU >>> Linear(2→2) >>> ReLU");
    let x = q(&["1", "1/2"], &[2]);
    let layers: Vec<usize> = OpSpec::<Q>::guards(&net, &x)
        .unwrap()
        .iter()
        .map(|g| g.layer)
        .collect();
    assert_eq!(layers, [2, 2, 4, 4]);

    let config = CheckConfig::default().cases(16);
    let fderiv =
        |r: &exactgrad::check::CheckReport| r.checks.iter().any(|c| c.starts_with("fderiv"));
    let piecewise = check_op(&net, &[2], &config).unwrap();
    assert_eq!(piecewise.op, net.name());
    assert!(fderiv(&piecewise));
    let smooth_after = (&layer).then(Elementwise(Poly));
    assert!(!smooth_after.is_piecewise_linear());
    assert!(!fderiv(&check_op(&smooth_after, &[2], &config).unwrap()));
    let smooth_before = Elementwise(Poly).then(&layer);
    assert!(!smooth_before.is_piecewise_linear());
}

/// The checks a report lists, in the order every case runs them: the parameter checks only for
/// an op with parameters, `fderiv` only for a piecewise-linear one.
#[test]
fn a_report_lists_the_checks_that_ran_and_only_those() {
    const INPUT: [&str; 6] = [
        "structural: vjp(x, 0) = 0 and jvp(x, 0) = 0",
        "structural: forward, jvp, vjp run twice give identical values",
        "structural: rules ignore state left by forward at another point x′ and by the order of \
         calls",
        "structural: jvp linear in dx, vjp linear in δ",
        "jacobian: jvp(x, dx) = J·dx, vjp(x, δ) = Jᵀ·δ (J by dual numbers)",
        "adjoint: ⟪jvp(x, dx), δ⟫ = ⟪dx, vjp(x, δ)⟫",
    ];
    const FDERIV: &str = "fderiv: exact increment in the kink-free box, vjp = Df(x)ᵀ·δ";
    const PARAMETERS: [&str; 3] = [
        "parameters, structural: vjp_params(x, 0) = 0, jvp_params(x, 0) = 0, deterministic, \
         linear in dθ and δ",
        "parameters, jacobian: jvp_params(x, dθ) = J_θ·dθ, vjp_params(x, δ) = J_θᵀ·δ (J_θ by \
         dual numbers through forward_with_params)",
        "parameters, adjoint: ⟪jvp_params(x, dθ), δ⟫ = ⟪dθ, vjp_params(x, δ)⟫",
    ];
    let config = CheckConfig::default().cases(4);
    let relu = check_op(&Relu, &[2], &config).unwrap();
    assert_eq!(relu.checks, [&INPUT[..], &[FDERIV]].concat());
    assert!(relu.parameters.is_empty());
    let smooth = check_op(&Elementwise(Poly), &[2], &config).unwrap();
    assert_eq!(smooth.checks, INPUT);
    let layer = Linear::new(q(&["1", "-1", "2", "1"], &[2, 2]), q(&["1", "-3"], &[2])).unwrap();
    let linear = check_op(&layer, &[2], &config).unwrap();
    assert_eq!(
        linear.checks,
        [&INPUT[..], &[FDERIV], &PARAMETERS[..]].concat()
    );
    assert_eq!(
        linear.parameters,
        [
            "layer 1 Linear(2→2) weight [2, 2]",
            "layer 1 Linear(2→2) bias [2]"
        ]
    );
}
