//! A failing composition names the stage whose rule is wrong: each stage is checked alone at the
//! value it sees, and the first that fails is named in the counterexample and its text.

use crate::common::*;
use exactgrad::check::{check_op, CheckConfig};
use exactgrad::ops::{Guard, Identity, Linear, Power, Relu, Residual, Sequential};
use exactgrad::{planted, Compose, Op, OpSpec, Scalar, Tensor};

planted!(DoubledReluGradient(Relu), fn vjp(&op, x, dy) {
    let g = op.vjp(x, dy)?;
    g.add(&g)
});

planted!(DoubledBias(Linear), fn vjp_params(&op, x, dy) {
    let mut g = op.vjp_params(x, dy)?.into_data();
    let start = g.len() - dy.len();
    for v in &mut g[start..] {
        *v = v.add_ref(v);
    }
    Ok(Tensor::from_vec(g))
});

fn first() -> Linear {
    Linear::new(
        t(&[3, 2], &["1", "-2", "1/2", "3", "-1", "1/4"]),
        t(&[3], &["0", "1", "-1"]),
    )
    .unwrap()
}

fn last() -> Linear {
    Linear::new(
        t(&[2, 3], &["1", "0", "-1", "2", "1/2", "1"]),
        t(&[2], &["0", "1"]),
    )
    .unwrap()
}

fn config() -> CheckConfig {
    CheckConfig::default().cases(16)
}

#[test]
fn a_wrong_rule_in_the_middle_of_three_stages_names_stage_2() {
    let net = first().then(DoubledReluGradient(Relu)).then(last());
    let failure = check_op(&net, &[2], &config()).unwrap_err();
    let c = failure.counterexample().expect("a violated identity");
    let stage = c.stage.as_ref().expect("the wrong stage is named");
    assert_eq!((stage.position, stage.stages), (2, 3));
    assert_eq!(stage.op, "planted ReLU");
    // Alone, at the value it sees, the stage fails an exact check of its own.
    assert!(
        matches!(*stage.error, exactgrad::Error::Violated(_)),
        "{}",
        stage.error
    );
    let text = failure.to_string();
    assert!(
        text.contains("the wrong rule is in stage 2 of 3: planted ReLU"),
        "{text}"
    );
}

planted!(WrongWhenSquare(Linear), fn vjp(&op, x, dy) {
    // Only a square layer's gradient is doubled.
    let g = op.vjp(x, dy)?;
    if op.weight().shape() == [3, 3] {
        g.add(&g)
    } else {
        Ok(g)
    }
});

#[test]
fn a_sequential_inside_a_composition_counts_its_stages_one_by_one() {
    let square = Linear::new(
        t(&[3, 3], &["1", "2", "0", "-3", "1", "4", "2", "-1", "1"]),
        t(&[3], &["0", "1", "-2"]),
    )
    .unwrap();
    let chain = Sequential::new(vec![
        WrongWhenSquare(first()),
        WrongWhenSquare(square),
        WrongWhenSquare(last()),
    ]);
    let failure = check_op(&Relu.then(chain), &[2], &config()).unwrap_err();
    let stage = failure
        .counterexample()
        .unwrap()
        .stage
        .clone()
        .expect("named");
    assert_eq!((stage.position, stage.stages), (3, 4));
    assert_eq!(stage.op, "planted Linear(3→3)");
}

#[test]
fn a_wrong_parameter_rule_in_the_last_stage_names_it_and_its_layer() {
    let net = first().then(Relu).then(DoubledBias(last()));
    let failure = check_op(&net, &[2], &config()).unwrap_err();
    let c = failure.counterexample().expect("a violated identity");
    assert_eq!(c.parameter.as_deref(), Some("layer 3 Linear(3→2) bias[0]"));
    let stage = c.stage.as_ref().expect("the wrong stage is named");
    assert_eq!(
        (stage.position, stage.stages, stage.op.as_str()),
        (3, 3, "planted Linear(3→2)")
    );
    let exactgrad::Error::Violated(own) = &*stage.error else {
        panic!("{}", stage.error)
    };
    // Named by its layer in the whole network.
    assert!(own
        .parameter
        .as_deref()
        .unwrap()
        .starts_with("layer 3 Linear(3→2) bias["));
}

#[test]
fn a_correct_composition_passes_and_a_primitive_names_no_stage() {
    check_op(&first().then(Relu).then(last()), &[2], &config()).unwrap();
    let failure = check_op(&DoubledReluGradient(Relu), &[3], &config()).unwrap_err();
    assert_eq!(failure.counterexample().unwrap().stage, None);
}

/// A `Sequential` of one op has one stage, the op itself: like a primitive's, its counterexample
/// names no stage. Two stages are the fewest that name one.
#[test]
fn a_single_stage_names_none_and_two_stages_name_theirs() {
    let alone = Sequential::new(vec![DoubledReluGradient(Relu)]);
    let failure = check_op(&alone, &[3], &config()).unwrap_err();
    assert_eq!(failure.counterexample().unwrap().stage, None);

    let net = DoubledReluGradient(Relu).then(last());
    let failure = check_op(&net, &[3], &config()).unwrap_err();
    let stage = failure
        .counterexample()
        .unwrap()
        .stage
        .clone()
        .expect("named");
    assert_eq!((stage.position, stage.stages), (1, 2));
}

/// A stage is checked as what it is: a smooth stage (`x²`) without fderiv. fderiv refuses an op
/// that is not piecewise linear, and that refusal would end the search before the wrong stage.
#[test]
fn a_smooth_stage_before_the_wrong_one_is_checked_without_fderiv() {
    let net = Power::new(2).then(DoubledReluGradient(Relu));
    let failure = check_op(&net, &[2], &config()).unwrap_err();
    let stage = failure
        .counterexample()
        .unwrap()
        .stage
        .clone()
        .expect("named");
    assert_eq!((stage.position, stage.stages), (2, 2));
}

/// A stage of two layers that is no composition (a residual block): fderiv certifies its kink
/// radius over the layers the op itself says (`certified_guard_layers`, both here), so the
/// correct block passes and the wrong stage after it is named. Certifying only its first layer
/// would refuse the radius of its ReLU's guards and end the search.
#[test]
fn a_residual_block_of_two_layers_before_the_wrong_stage_keeps_its_certified_layers() {
    let square = Linear::new(t(&[2, 2], &["1", "-2", "3", "1/2"]), t(&[2], &["1", "-1"])).unwrap();
    let block = Residual::new(square.then(Relu));
    assert_eq!((block.depth(), block.certified_guard_layers()), (2, 2));
    let net = block.then(DoubledReluGradient(Relu));
    let failure = check_op(&net, &[2], &config()).unwrap_err();
    let stage = failure
        .counterexample()
        .unwrap()
        .stage
        .clone()
        .expect("named");
    assert_eq!((stage.position, stage.stages), (2, 2));
}

/// ReLU whose guards report no kink. Its rules are ReLU's, equal to the dual numbers at every
/// point off 0, so only fderiv sees the bug: with no kink reported its step may cross 0, where
/// the exact increment is not linear.
#[derive(Clone, Copy, Debug)]
struct ReluWithoutGuards;

impl Op for ReluWithoutGuards {
    fn name(&self) -> String {
        "ReLU without guards".into()
    }
    fn output_shape(&self, input: &[usize]) -> exactgrad::Result<Vec<usize>> {
        Ok(input.to_vec())
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
}

impl<S: Scalar> OpSpec<S> for ReluWithoutGuards {
    fn forward(&self, x: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        Relu.forward(x)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        Relu.jvp(x, dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        Relu.vjp(x, dy)
    }
    fn guards(&self, _x: &Tensor<S>) -> exactgrad::Result<Vec<Guard<S>>> {
        Ok(Vec::new())
    }
}

/// A piecewise-linear stage is checked with fderiv too: a stage that fails only there (its
/// guards miss its kink) is named.
#[test]
fn a_stage_that_fails_only_fderiv_is_named() {
    let net = ReluWithoutGuards.then(Identity);
    let failure = check_op(&net, &[2], &config()).unwrap_err();
    let c = failure.counterexample().expect("a violated identity");
    assert!(c.check.starts_with("fderiv"), "{failure}");
    let stage = c.stage.as_ref().expect("the wrong stage is named");
    assert_eq!(
        (stage.position, stage.stages, stage.op.as_str()),
        (1, 2, "ReLU without guards")
    );
}
