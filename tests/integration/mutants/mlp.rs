//! The 2-layer MLP: seven wrong input rules and four wrong parameter gradients, each caught with
//! its exact counterexample.

use super::*;
use exactgrad::check::check_at;
use exactgrad::ops::{param_vector, relu_deriv_spec, Mlp, Relu, WrtParams};
use std::cmp::Ordering;

/// The ReLU mask taken from `z2 = W2·relu(z1) + b2` (the output) instead of `z1`.
#[derive(Clone)]
struct MaskFromZ2;
impl Bug<Mlp> for MaskFromZ2 {
    fn name(&self) -> &'static str {
        "mask from z2"
    }
    fn vjp<S: Sc>(&self, m: &Mlp, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let z2 = m.forward(x)?;
        let g = w::<S>(m.layer2()).transpose_mat_vec_mul(dy)?;
        mlp_backward(m, &relu_deriv_spec(&z2), &g)
    }
}

/// The mask computed from the hidden output as `relu(z1) ≥ 0`, which is always 1.
#[derive(Clone)]
struct MaskFromOutputGe;
impl Bug<Mlp> for MaskFromOutputGe {
    fn name(&self) -> &'static str {
        "mask from the ReLU output with ≥ (always 1)"
    }
    fn vjp<S: Sc>(&self, m: &Mlp, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let h = Relu.forward(&m.z1(x)?)?;
        let ones = h.map(|v| S::from_i64((v.sign() != Ordering::Less) as i64));
        let g = w::<S>(m.layer2()).transpose_mat_vec_mul(dy)?;
        mlp_backward(m, &ones, &g)
    }
}

/// The mask computed from the input `x` instead of `z1` (type-checks when in = hidden).
struct MaskFromInput;
impl Bug<Mlp> for MaskFromInput {
    fn name(&self) -> &'static str {
        "jvp mask from x instead of z1"
    }
    fn jvp<S: Sc>(&self, m: &Mlp, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        let dz = w::<S>(m.layer1()).mat_vec_mul(dx)?;
        w::<S>(m.layer2()).mat_vec_mul(&relu_deriv_spec(x).hadamard(&dz)?)
    }
}

/// `W2·δ` where `W2ᵀ·δ` belongs (type-checks when hidden = out).
#[derive(Clone)]
struct MlpNoTranspose;
impl Bug<Mlp> for MlpNoTranspose {
    fn name(&self) -> &'static str {
        "backward through W2 without the transpose"
    }
    fn vjp<S: Sc>(&self, m: &Mlp, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let g = w::<S>(m.layer2()).mat_vec_mul(dy)?;
        mlp_backward(m, &mask(m, x)?, &g)
    }
}

/// vjp right in every coordinate but the last, which is computed without the mask.
#[derive(Clone)]
struct MlpLastCoordinate;
impl Bug<Mlp> for MlpLastCoordinate {
    fn name(&self) -> &'static str {
        "vjp unmasked in the last coordinate"
    }
    fn vjp<S: Sc>(&self, m: &Mlp, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let g = w::<S>(m.layer2()).transpose_mat_vec_mul(dy)?;
        let mut v = mlp_backward(m, &mask(m, x)?, &g)?.into_data();
        let unmasked = w::<S>(m.layer1()).transpose_mat_vec_mul(&g)?.into_data();
        let last = v.len() - 1;
        v[last] = unmasked[last].clone();
        Ok(vec_of(v))
    }
}

/// jvp = W2·(mask ⊙ (W1·dx + b1)): the first bias leaks into the tangent.
struct MlpJvpAddsBias;
impl Bug<Mlp> for MlpJvpAddsBias {
    fn name(&self) -> &'static str {
        "jvp adding b1"
    }
    fn jvp<S: Sc>(&self, m: &Mlp, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        let dz = w::<S>(m.layer1()).linear(&b::<S>(m.layer1()), dx)?;
        w::<S>(m.layer2()).mat_vec_mul(&mask(m, x)?.hadamard(&dz)?)
    }
}

/// The MLP backward with δ scaled by `1 + 2⁻⁶⁰`.
struct MlpScaledDelta;
impl Bug<Mlp> for MlpScaledDelta {
    fn name(&self) -> &'static str {
        "backward with δ scaled by 1 + 2⁻⁶⁰"
    }
    fn vjp<S: Sc>(&self, m: &Mlp, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        m.vjp(x, &dy.scale(&one_plus_tiny()))
    }
}

/// Parameter gradients `(∂W1, ∂b1, ∂W2, ∂b2)` with one part replaced.
fn mlp_param_grads<S: Sc>(
    m: &Mlp,
    x: &Tensor<S>,
    dy: &Tensor<S>,
    edit: impl FnOnce(&mut [Tensor<S>; 4], &Tensor<S>, &Tensor<S>) -> Result<()>,
) -> Result<Tensor<S>> {
    let z1 = m.z1(x)?;
    let hidden = Relu.forward(&z1)?;
    let g = w::<S>(m.layer2()).transpose_mat_vec_mul(dy)?;
    let dz1 = relu_deriv_spec(&z1).hadamard(&g)?;
    let mut parts = [
        dz1.outer(x).flatten(),
        dz1.clone(),
        dy.outer(&hidden).flatten(),
        dy.clone(),
    ];
    edit(&mut parts, &hidden, &g)?;
    Ok(vec_of(
        parts.into_iter().flat_map(Tensor::into_data).collect(),
    ))
}

/// `∂b1` dropped (zero).
struct DropsBiasGrad;
impl Bug<Mlp> for DropsBiasGrad {
    fn name(&self) -> &'static str {
        "∂b1 dropped"
    }
    fn vjp_params<S: Sc>(&self, m: &Mlp, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        mlp_param_grads(m, x, dy, |p, _, _| {
            p[1] = p[1].zeros_like();
            Ok(())
        })
    }
}

/// `∂b2 = 2δ`: the bias gradient added twice.
#[derive(Clone)]
struct DoublesBiasGrad;
impl Bug<Mlp> for DoublesBiasGrad {
    fn name(&self) -> &'static str {
        "∂b2 doubled"
    }
    fn vjp_params<S: Sc>(&self, m: &Mlp, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        mlp_param_grads(m, x, dy, |p, _, _| {
            p[3] = p[3].add(&p[3].clone())?;
            Ok(())
        })
    }
}

/// `∂W1 = (W2ᵀδ)·xᵀ`, without the ReLU mask.
struct WeightGradNoMask;
impl Bug<Mlp> for WeightGradNoMask {
    fn name(&self) -> &'static str {
        "∂W1 without the mask"
    }
    fn vjp_params<S: Sc>(&self, m: &Mlp, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        mlp_param_grads(m, x, dy, |p, _, g| {
            p[0] = g.outer(x).flatten();
            Ok(())
        })
    }
}

/// `∂W2 = h·δᵀ` (the outer product transposed; type-checks when hidden = out).
struct WeightGradTransposed;
impl Bug<Mlp> for WeightGradTransposed {
    fn name(&self) -> &'static str {
        "∂W2 transposed"
    }
    fn vjp_params<S: Sc>(&self, m: &Mlp, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        mlp_param_grads(m, x, dy, |p, hidden, _| {
            p[2] = hidden.outer(dy).flatten();
            Ok(())
        })
    }
}

fn params_case<B: Bug<Mlp>>(m: Mlp, bug: B) -> Box<CheckFailure> {
    let mu = mutant(m, bug);
    // Off every kink of both MLPs (x = (1, −1/2, 2) puts mlp333's first unit exactly on one).
    let x = q(&["1", "-1/3", "2"], &[3]);
    let op = WrtParams::new(&mu, x);
    let at: Tensor<Q> = param_vector(&mu);
    let failure =
        check_at(&op, &at, &CheckConfig::default()).expect_err("the checker must catch this");
    println!("{failure}");
    failure
}

#[test]
fn mlp_mask_from_z2() {
    assert_counterexample(
        &caught(&mutant(mlp333(), MaskFromZ2), &[3]),
        "jacobian: vjp(x, δ) = Jᵀ·δ",
        &[0],
        ["-4", "-6", "2"],
        &[("x", "[0, 1, 0]"), ("dx", "[0, 0, 0]"), ("δ", "[0, 0, 1]")],
    );
}

#[test]
fn mlp_mask_from_relu_output_with_ge() {
    assert_counterexample(
        &caught(&mutant(mlp342(), MaskFromOutputGe), &[3]),
        "jacobian: vjp(x, δ) = Jᵀ·δ",
        &[0],
        ["-1", "1", "-2"],
        &[("x", "[0, 0, 0]"), ("dx", "[0, 0, 0]"), ("δ", "[0, 1]")],
    );
}

#[test]
fn mlp_jvp_mask_from_input() {
    assert_counterexample(
        &caught(&mutant(mlp332(), MaskFromInput), &[3]),
        "jacobian: jvp(x, dx) = J·dx",
        &[0],
        ["-7", "-8", "1"],
        &[("x", "[0, 1, 1]"), ("dx", "[0, 0, 1]"), ("δ", "[0, 0]")],
    );
}

#[test]
fn mlp_backward_missing_w2_transpose() {
    assert_counterexample(
        &caught(&mutant(mlp333(), MlpNoTranspose), &[3]),
        "jacobian: vjp(x, δ) = Jᵀ·δ",
        &[0],
        ["10", "-6", "16"],
        &[("x", "[0, 1, 0]"), ("dx", "[0, 0, 0]"), ("δ", "[0, 0, 1]")],
    );
}

#[test]
fn mlp_vjp_wrong_in_one_coordinate_only() {
    assert_counterexample(
        &caught(&mutant(mlp342(), MlpLastCoordinate), &[3]),
        "jacobian: vjp(x, δ) = Jᵀ·δ",
        &[2],
        ["-1", "-2", "1"],
        &[("x", "[0, 0, 0]"), ("dx", "[0, 0, 0]"), ("δ", "[0, 1]")],
    );
}

#[test]
fn mlp_jvp_adds_b1() {
    assert_counterexample(
        &caught(&mutant(mlp342(), MlpJvpAddsBias), &[3]),
        "structural: jvp(x, 0) = 0",
        &[0],
        ["15/2", "0", "15/2"],
        &[("x", "[0, 0, 0]")],
    );
}

#[test]
fn mlp_vjp_delta_scaled_by_one_plus_2_pow_minus_60() {
    assert_counterexample(
        &caught(&mutant(mlp342(), MlpScaledDelta), &[3]),
        "jacobian: vjp(x, δ) = Jᵀ·δ",
        &[0],
        [
            "1152921504606846977/1152921504606846976",
            "1",
            "1/1152921504606846976",
        ],
        &[("x", "[0, 0, 0]"), ("dx", "[0, 0, 0]"), ("δ", "[0, 1]")],
    );
}

#[test]
fn mlp_bias_gradient_dropped() {
    assert_counterexample(
        &params_case(mlp342(), DropsBiasGrad),
        "jacobian: vjp(x, δ) = Jᵀ·δ",
        &[12],
        ["0", "-1", "1"],
        &[("δ", "[0, 1]")],
    );
}

#[test]
fn mlp_bias_gradient_doubled() {
    assert_counterexample(
        &params_case(mlp342(), DoublesBiasGrad),
        "jacobian: vjp(x, δ) = Jᵀ·δ",
        &[25],
        ["2", "1", "1"],
        &[("δ", "[0, 1]")],
    );
}

#[test]
fn mlp_weight_gradient_without_mask() {
    assert_counterexample(
        &params_case(mlp342(), WeightGradNoMask),
        "jacobian: vjp(x, δ) = Jᵀ·δ",
        &[3],
        ["1", "0", "1"],
        &[("δ", "[0, 1]")],
    );
}

#[test]
fn mlp_weight_gradient_transposed() {
    assert_counterexample(
        &params_case(mlp333(), WeightGradTransposed),
        "jacobian: vjp(x, δ) = Jᵀ·δ",
        // θ₁₄ = W2[0][2]: ∂ = δ₀·h₂ = 0, but the transposed rule gives δ₂·h₀ = 1/3.
        &[14],
        ["1/3", "0", "1/3"],
        &[("δ", "[0, 0, 1]")],
    );
}

#[test]
fn the_mlp_mutants_fail_as_proofs_for_every_input_and_weight() {
    let vjp = "vjp(x, δ) = Df(x)ᵀ·δ";
    assert_eq!(
        disproved(mlp333(), MaskFromZ2, mlp_from, &[3]).identity,
        vjp
    );
    assert_eq!(
        disproved(mlp333(), MlpNoTranspose, mlp_from, &[3]).identity,
        vjp
    );
    let f = disproved(mlp342(), MlpLastCoordinate, mlp_from, &[3]);
    assert_eq!(
        (f.identity.as_str(), f.coordinate.as_str()),
        (vjp, "input [2]")
    );
    let f = disproved(mlp342(), DoublesBiasGrad, mlp_from, &[3]);
    assert_eq!(f.identity, "vjp_params(x, δ) = (∂f/∂θ)ᵀ·δ");
    assert!(f.coordinate.ends_with("bias[0]"), "{f}");
}

#[test]
fn a_mutant_that_branches_with_if_is_refused_rather_than_proved() {
    let op = mutant(mlp342(), MaskFromOutputGe);
    let rebuild = |p: &[Tensor<Q>]| Ok(mutant(mlp_from(p)?, MaskFromOutputGe));
    let e = exactgrad::prove::prove_op_for_all_weights(&op, rebuild, &[3], &Default::default());
    assert!(
        matches!(
            &e,
            Err(exactgrad::Error::BranchOnSymbol { rule: "vjp", .. })
        ),
        "{e:?}"
    );
}
