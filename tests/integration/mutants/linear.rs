//! Linear: nine wrong rules for `Linear`, each caught with its exact counterexample, and the
//! stride bug that only a non-square weight exposes.

use super::*;
use exactgrad::ops::Linear;

/// vjp = W·δ: the transpose is missing (type-checks for square W only).
struct NoTranspose;
impl Bug<Linear> for NoTranspose {
    fn name(&self) -> &'static str {
        "vjp missing the transpose"
    }
    fn vjp<S: Sc>(&self, l: &Linear, _: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        w::<S>(l).mat_vec_mul(dy)
    }
}

/// jvp = Wᵀ·dx: the forward rule transposed.
struct JvpTransposed;
impl Bug<Linear> for JvpTransposed {
    fn name(&self) -> &'static str {
        "jvp transposed"
    }
    fn jvp<S: Sc>(&self, l: &Linear, _: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        w::<S>(l).transpose_mat_vec_mul(dx)
    }
}

/// vjpⱼ = Σᵢ W.data[i·m + j]·δᵢ: the row stride is the output size, right only when W is square.
#[derive(Clone)]
struct SquareStride;
impl Bug<Linear> for SquareStride {
    fn name(&self) -> &'static str {
        "vjp indexing W with stride m (right only for square W)"
    }
    fn vjp<S: Sc>(&self, l: &Linear, _: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let (m, n) = l.dims();
        let wd = w::<S>(l).into_data();
        Ok(vec_of(
            (0..n)
                .map(|j| {
                    (0..m).fold(S::zero(), |acc, i| {
                        acc.add_ref(&wd[i * m + j].mul_ref(&dy.data()[i]))
                    })
                })
                .collect(),
        ))
    }
}

/// jvpᵢ = Σⱼ Wᵢⱼ·dx₍ⱼ₊₁₎ mod n: an off-by-one index into the tangent.
struct OffByOne;
impl Bug<Linear> for OffByOne {
    fn name(&self) -> &'static str {
        "jvp reading dx at j + 1"
    }
    fn jvp<S: Sc>(&self, l: &Linear, _: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        let n = dx.len();
        let shifted = vec_of((0..n).map(|j| dx.data()[(j + 1) % n].clone()).collect());
        w::<S>(l).mat_vec_mul(&shifted)
    }
}

/// jvp = W·dx + b: the constant bias leaks into the tangent.
struct JvpAddsBias;
impl Bug<Linear> for JvpAddsBias {
    fn name(&self) -> &'static str {
        "jvp adding the bias"
    }
    fn jvp<S: Sc>(&self, l: &Linear, _: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        w::<S>(l).linear(&b::<S>(l), dx)
    }
}

/// vjp with the sign of coordinate 1 flipped.
struct SignFlip;
impl Bug<Linear> for SignFlip {
    fn name(&self) -> &'static str {
        "vjp with coordinate 1 negated"
    }
    fn vjp<S: Sc>(&self, l: &Linear, _: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let mut v = w::<S>(l).transpose_mat_vec_mul(dy)?.into_data();
        v[1] = v[1].neg_ref();
        Ok(vec_of(v))
    }
}

/// vjp = Wᵀ·(δ·(1 + 2⁻⁶⁰)): a relative error far below any float tolerance.
struct ScaledDelta;
impl Bug<Linear> for ScaledDelta {
    fn name(&self) -> &'static str {
        "vjp with δ scaled by 1 + 2⁻⁶⁰"
    }
    fn vjp<S: Sc>(&self, l: &Linear, _: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        w::<S>(l).transpose_mat_vec_mul(&dy.scale(&one_plus_tiny()))
    }
}

/// vjp correct in every coordinate but the last, whose sum stops one row early.
struct LastCoordinate;
impl Bug<Linear> for LastCoordinate {
    fn name(&self) -> &'static str {
        "vjp wrong in the last coordinate only"
    }
    fn vjp<S: Sc>(&self, l: &Linear, _: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let (m, n) = l.dims();
        let wt = w::<S>(l);
        let mut v = wt.transpose_mat_vec_mul(dy)?.into_data();
        v[n - 1] = v[n - 1].sub_ref(&wt.get2(m - 1, n - 1)?.mul_ref(&dy.data()[m - 1]));
        Ok(vec_of(v))
    }
}

/// vjpⱼ accumulates into a sum that is not reset between coordinates (a running sum).
struct AccumulatorNotReset;
impl Bug<Linear> for AccumulatorNotReset {
    fn name(&self) -> &'static str {
        "vjp accumulator not reset between coordinates"
    }
    fn vjp<S: Sc>(&self, l: &Linear, _: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let mut acc = S::zero();
        let v = w::<S>(l).transpose_mat_vec_mul(dy)?.into_data();
        Ok(vec_of(
            v.iter()
                .map(|vj| {
                    acc = acc.add_ref(vj);
                    acc.clone()
                })
                .collect(),
        ))
    }
}

#[test]
fn linear_vjp_missing_transpose() {
    assert_counterexample(
        &caught(&mutant(l33(), NoTranspose), &[3]),
        "jacobian: vjp(x, δ) = Jᵀ·δ",
        &[0],
        ["0", "2", "-2"],
        &[("x", "[0, 0, 0]"), ("dx", "[0, 0, 0]"), ("δ", "[0, 0, 1]")],
    );
}

#[test]
fn linear_jvp_transposed() {
    assert_counterexample(
        &caught(&mutant(l33(), JvpTransposed), &[3]),
        "jacobian: jvp(x, dx) = J·dx",
        &[0],
        ["2", "0", "2"],
        &[("x", "[0, 0, 0]"), ("dx", "[0, 0, 1]"), ("δ", "[0, 0, 0]")],
    );
}

#[test]
fn linear_vjp_right_only_for_square_weights() {
    assert_counterexample(
        &caught(&mutant(l32(), SquareStride), &[3]),
        "jacobian: vjp(x, δ) = Jᵀ·δ",
        &[0],
        ["3", "-1", "4"],
        &[("x", "[0, 0, 0]"), ("dx", "[0, 0, 0]"), ("δ", "[0, 1]")],
    );
}

#[test]
fn linear_jvp_off_by_one_index() {
    assert_counterexample(
        &caught(&mutant(l32(), OffByOne), &[3]),
        "jacobian: jvp(x, dx) = J·dx",
        &[0],
        ["-2", "3", "-5"],
        &[("x", "[0, 0, 0]"), ("dx", "[0, 0, 1]"), ("δ", "[0, 0]")],
    );
}

#[test]
fn linear_jvp_adds_the_bias() {
    assert_counterexample(
        &caught(&mutant(l32(), JvpAddsBias), &[3]),
        "structural: jvp(x, 0) = 0",
        &[0],
        ["1/2", "0", "1/2"],
        &[("x", "[0, 0, 0]")],
    );
}

#[test]
fn linear_vjp_sign_flip_in_one_coordinate() {
    assert_counterexample(
        &caught(&mutant(l32(), SignFlip), &[3]),
        "jacobian: vjp(x, δ) = Jᵀ·δ",
        &[1],
        ["-4", "4", "-8"],
        &[("x", "[0, 0, 0]"), ("dx", "[0, 0, 0]"), ("δ", "[0, 1]")],
    );
}

#[test]
fn linear_vjp_delta_scaled_by_one_plus_2_pow_minus_60() {
    assert_counterexample(
        &caught(&mutant(l32(), ScaledDelta), &[3]),
        "jacobian: vjp(x, δ) = Jᵀ·δ",
        &[0],
        [
            "-1152921504606846977/1152921504606846976",
            "-1",
            "-1/1152921504606846976",
        ],
        &[("x", "[0, 0, 0]"), ("dx", "[0, 0, 0]"), ("δ", "[0, 1]")],
    );
}

#[test]
fn linear_vjp_wrong_in_one_coordinate_only() {
    assert_counterexample(
        &caught(&mutant(l32(), LastCoordinate), &[3]),
        "jacobian: vjp(x, δ) = Jᵀ·δ",
        &[2],
        ["0", "2", "-2"],
        &[("x", "[0, 0, 0]"), ("dx", "[0, 0, 0]"), ("δ", "[0, 1]")],
    );
}

#[test]
fn linear_vjp_accumulator_not_reset() {
    assert_counterexample(
        &caught(&mutant(l32(), AccumulatorNotReset), &[3]),
        "jacobian: vjp(x, δ) = Jᵀ·δ",
        &[1],
        ["3", "4", "-1"],
        &[("x", "[0, 0, 0]"), ("dx", "[0, 0, 0]"), ("δ", "[0, 1]")],
    );
}

/// The stride bug is invisible on a square layer: only the non-square one exposes it.
#[test]
fn square_stride_bug_passes_on_square_weights() {
    let report = check_op(&mutant(l33(), SquareStride), &[3], &CheckConfig::default())
        .expect("right for square W");
    assert_eq!(report.cases, CheckConfig::default().case_count());
}

#[test]
fn the_square_stride_is_disproved_for_non_square_and_proved_for_square_weights() {
    let f = disproved(l32(), SquareStride, linear_from, &[3]);
    assert_eq!(f.identity, "vjp(x, δ) = Df(x)ᵀ·δ");
    // Right for every square W: the proof says so, where sampling could only fail to refute.
    let square = |p: &[Tensor<Q>]| Ok(mutant(linear_from(p)?, SquareStride));
    let c = exactgrad::prove::prove_op_for_all_weights(
        &mutant(l33(), SquareStride),
        square,
        &[3],
        &Default::default(),
    )
    .unwrap();
    assert_eq!(c.symbols.weights, 12);
}
