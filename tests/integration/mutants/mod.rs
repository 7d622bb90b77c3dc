//! The mutant zoo: plausible wrong JVP/VJP rules for Linear, ReLU, their composition and the
//! 2-layer MLP. Each must be caught by the one-call checker with its default settings, and the
//! test asserts the minimal exact counterexample it reports. The correct rules pass every case
//! (256 by default; `PROPTEST_CASES=10000` for the long run).
//!
//! A mutant keeps the op's correct `forward` (the reference the checks derive `Df` from) and
//! replaces one rule through the [`Bug`] hooks.
//!
//! The zoo is split by op family: [`linear`] (9 mutants), [`relu`] (6), [`compose`] (4), [`mlp`]
//! (11: 7 input rules, 4 parameter gradients) and [`batched`] (2) — 32 in all. This module holds
//! the [`Mutant`]/[`Bug`] machinery, the fixtures, the assertions and the run of every correct op.

mod batched;
mod branches;
mod compose;
mod linear;
mod mlp;
mod relu;

use batched::{BatchBug, BatchedLinear};
use compose::lin_relu;
use exactgrad::check::{check_batched, check_op, CheckConfig, CheckFailure};
use exactgrad::ops::{relu_deriv_spec, Guard, Linear, Mlp, Relu};
use exactgrad::{Op, OpSpec, Result, Scalar, Tensor, Q};

/// The scalars the mutants run over (`Q` for verdicts, `Dual<Q>` for references).
trait Sc: Scalar {}
impl<T: Scalar> Sc for T {}

/// One wrong rule of op `O`; every hook defaults to the correct rule.
trait Bug<O> {
    fn name(&self) -> &'static str;
    fn jvp<S: Sc>(&self, op: &O, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>>
    where
        O: OpSpec<S>,
    {
        op.jvp(x, dx)
    }
    fn vjp<S: Sc>(&self, op: &O, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>>
    where
        O: OpSpec<S>,
    {
        op.vjp(x, dy)
    }
    fn vjp_params<S: Sc>(&self, op: &O, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>>
    where
        O: OpSpec<S>,
    {
        op.vjp_params(x, dy)
    }
    /// Whether the mutant claims to be smooth everywhere (reports no kinks).
    fn smooth(&self) -> bool {
        false
    }
}

/// The op `op` with the rule `bug` in place of its own.
struct Mutant<O, B> {
    op: O,
    bug: B,
}

fn mutant<O, B>(op: O, bug: B) -> Mutant<O, B> {
    Mutant { op, bug }
}

impl<O: Op, B: Bug<O>> Op for Mutant<O, B> {
    fn name(&self) -> String {
        format!("{} with {}", self.op.name(), self.bug.name())
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.op.output_shape(input)
    }
    fn is_piecewise_linear(&self) -> bool {
        self.op.is_piecewise_linear()
    }
    fn depth(&self) -> usize {
        self.op.depth()
    }
    fn params(&self) -> Vec<exactgrad::Param<'_>> {
        self.op.params()
    }
}

impl<S: Sc, O: OpSpec<S>, B: Bug<O>> OpSpec<S> for Mutant<O, B> {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        self.op.forward(x)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        self.bug.jvp(&self.op, x, dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        self.bug.vjp(&self.op, x, dy)
    }
    fn guards(&self, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
        if self.bug.smooth() {
            Ok(Vec::new())
        } else {
            self.op.guards(x)
        }
    }
    fn forward_with_params(&self, params: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>> {
        self.op.forward_with_params(params, x)
    }
    fn jvp_params(&self, x: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>> {
        self.op.jvp_params(x, dparams)
    }
    fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        self.bug.vjp_params(&self.op, x, dy)
    }
}

// ---------------------------------------------------------------------------------------------
// Fixtures: small, non-square, non-symmetric weights.

fn q(lits: &[&str], shape: &[usize]) -> Tensor<Q> {
    Tensor::parse(shape.to_vec(), lits).expect("literals")
}

/// `Linear(3→2)`.
fn l32() -> Linear {
    Linear::new(
        q(&["1", "-2", "3", "-1", "4", "2"], &[2, 3]),
        q(&["1/2", "-3"], &[2]),
    )
    .unwrap()
}

/// `Linear(3→3)`, `W ≠ Wᵀ`.
fn l33() -> Linear {
    Linear::new(
        q(&["1", "2", "0", "-3", "1", "4", "2", "-1", "1"], &[3, 3]),
        q(&["0", "1", "-2"], &[3]),
    )
    .unwrap()
}

/// `MLP(3→4→2)`.
fn mlp342() -> Mlp {
    Mlp::new(
        q(
            &[
                "1", "-1", "2", "-2", "1", "1", "1", "3", "-1", "0", "-1", "-2",
            ],
            &[4, 3],
        ),
        q(&["1", "-1", "1/2", "2"], &[4]),
        q(&["1", "-2", "1", "3", "-1", "1", "2", "-1"], &[2, 4]),
        q(&["1", "-1"], &[2]),
    )
    .unwrap()
}

/// `MLP(3→3→3)` (square, for bugs that only type-check when sizes agree).
fn mlp333() -> Mlp {
    Mlp::new(
        q(&["1", "2", "0", "-3", "1", "4", "2", "-1", "1"], &[3, 3]),
        q(&["0", "1", "-2"], &[3]),
        q(&["2", "-1", "1", "1", "1", "-3", "0", "2", "1"], &[3, 3]),
        q(&["1", "0", "-1"], &[3]),
    )
    .unwrap()
}

/// `MLP(3→3→2)` (input size = hidden size).
fn mlp332() -> Mlp {
    Mlp::new(
        q(&["1", "2", "0", "-3", "1", "4", "2", "-1", "1"], &[3, 3]),
        q(&["0", "1", "-2"], &[3]),
        q(&["1", "-2", "1", "3", "-1", "1"], &[2, 3]),
        q(&["1", "-1"], &[2]),
    )
    .unwrap()
}

fn w<S: Sc>(l: &Linear) -> Tensor<S> {
    l.weight().lifted::<S>().into_owned()
}

fn b<S: Sc>(l: &Linear) -> Tensor<S> {
    l.bias().lifted::<S>().into_owned()
}

fn vec_of<S>(data: Vec<S>) -> Tensor<S> {
    Tensor::from_vec(data)
}

/// `1 + 2⁻⁶⁰`.
fn one_plus_tiny<S: Sc>() -> S {
    let mut p = S::one();
    for _ in 0..60 {
        p = p.checked_div(&S::from_i64(2)).unwrap();
    }
    S::one().add_ref(&p)
}

/// The mask `relu′(z1)` of an MLP (the mutants run off kinks, so `>` vs `≥` does not matter).
fn mask<S: Sc>(m: &Mlp, x: &Tensor<S>) -> Result<Tensor<S>> {
    Ok(relu_deriv_spec(&m.z1(x)?))
}

/// The correct MLP backward from a given mask and second-layer cotangent rule.
fn mlp_backward<S: Sc>(m: &Mlp, mask: &Tensor<S>, g: &Tensor<S>) -> Result<Tensor<S>> {
    w::<S>(m.layer1()).transpose_mat_vec_mul(&mask.hadamard(g)?)
}

// ---------------------------------------------------------------------------------------------
// The tests.

/// Runs the checker with its defaults on a mutant, which must fail with a violated identity.
fn caught<O: exactgrad::check::Checkable>(op: &O, shape: &[usize]) -> Box<CheckFailure> {
    let failure = check_op(op, shape, &CheckConfig::default())
        .expect_err("the checker must catch this mutant");
    println!("{failure}");
    failure
}

/// Asserts the exact counterexample: the failed identity, the coordinate, the rule's value, the
/// reference value, their difference, and the printed inputs.
fn assert_counterexample(
    failure: &CheckFailure,
    check: &str,
    coordinate: &[usize],
    [rule, reference, difference]: [&str; 3],
    inputs: &[(&str, &str)],
) {
    let c = failure
        .counterexample()
        .unwrap_or_else(|| panic!("expected a violated identity, got {}", failure.error));
    assert_eq!(c.check, check);
    assert_eq!(c.coordinate, coordinate);
    assert_eq!(
        (c.rule.as_str(), c.reference.as_str(), c.difference.as_str()),
        (rule, reference, difference)
    );
    for (name, value) in inputs {
        let got = c.inputs.iter().find(|(n, _)| n == name);
        assert_eq!(
            got.map(|(_, v)| v.as_str()),
            Some(*value),
            "input {name} of the counterexample"
        );
    }
}

/// The correct rules of every op in the zoo pass every case with no failure. 256 cases by
/// default; `PROPTEST_CASES=10000` for the long run.
#[test]
fn correct_rules_pass_every_case() {
    let config = CheckConfig::default();
    let n = config.case_count();
    let reports = vec![
        check_op(&l32(), &[3], &config),
        check_op(&l33(), &[3], &config),
        check_op(&Relu, &[2, 3], &config),
        check_op(&lin_relu(), &[3], &config),
        check_op(&mlp342(), &[3], &config),
        check_op(&mlp333(), &[3], &config),
        check_op(&mlp332(), &[3], &config),
        check_batched(
            &BatchedLinear {
                layer: l32(),
                bug: BatchBug::None,
            },
            &l32(),
            &[2, 3],
            &config,
        ),
    ];
    for report in reports {
        let report = report.unwrap_or_else(|f| panic!("{f}"));
        println!("{report}");
        assert_eq!(report.cases, n, "{}", report.op);
        // An op with parameters has its parameter rules checked at every case too (at a drawn
        // x, not one fixed point).
        let checks_parameters = report.checks.iter().any(|c| c.starts_with("parameters"));
        assert_eq!(checks_parameters, !report.parameters.is_empty(), "{report}");
    }
}

// ---------------------------------------------------------------------------------------------
// The same mutants as failed proofs: for every input and every weight, with a point.

/// The failed proof of `bug` in `op` for every input and weight of its dimensions (`rebuild`
/// makes the op from its parameter tensors); panics if it is proved or refused.
fn disproved<O, B>(
    op: O,
    bug: B,
    rebuild: impl Fn(&[Tensor<Q>]) -> Result<O>,
    shape: &[usize],
) -> exactgrad::prove::ProofFailure
where
    B: Clone,
    Mutant<O, B>: exactgrad::prove::Provable,
{
    let outcome = exactgrad::prove::prove_op_for_all_weights(
        &mutant(op, bug.clone()),
        |p| Ok(mutant(rebuild(p)?, bug.clone())),
        shape,
        &Default::default(),
    );
    match outcome {
        Err(exactgrad::Error::ProofFailed(f)) => {
            assert!(f.counterexample.is_some(), "{f}");
            assert!(!f.point.is_empty(), "{f}");
            *f
        }
        other => panic!("not disproved: {other:?}"),
    }
}

fn linear_from(p: &[Tensor<Q>]) -> Result<Linear> {
    Linear::new(p[0].clone(), p[1].clone())
}

fn mlp_from(p: &[Tensor<Q>]) -> Result<Mlp> {
    Mlp::new(p[0].clone(), p[1].clone(), p[2].clone(), p[3].clone())
}

#[test]
fn correct_rules_are_proved_for_every_input_and_weight() {
    let c =
        exactgrad::prove::prove_op_for_all_weights(&l32(), linear_from, &[3], &Default::default())
            .unwrap();
    assert_eq!(c.symbols.weights, 8);
    let c =
        exactgrad::prove::prove_op_for_all_weights(&mlp342(), mlp_from, &[3], &Default::default())
            .unwrap();
    assert_eq!((c.symbols.weights, c.symbols.masks), (26, 4));
}
