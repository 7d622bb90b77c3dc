//! The mutant zoo: plausible wrong JVP/VJP rules for Linear, ReLU, their composition and the
//! 2-layer MLP. Each must be caught by the one-call checker with its default settings, and the
//! test asserts the minimal exact counterexample it reports. The correct rules pass every case
//! (256 by default; `PROPTEST_CASES=10000` for the long run).
//!
//! A mutant keeps the op's correct `forward` (the reference the checks derive `Df` from) and
//! replaces one rule through the [`Bug`] hooks.

use exactgrad::check::{check_at, check_batched, check_op, CheckConfig, CheckFailure};
use exactgrad::ops::{param_vector, relu_deriv_spec, Guard, Linear, Mlp, Relu, Then, WrtParams};
use exactgrad::{Compose, Op, OpSpec, Result, Scalar, Tensor, Q};
use std::any::Any;
use std::cell::RefCell;
use std::cmp::Ordering;

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
// Linear.

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

// ---------------------------------------------------------------------------------------------
// ReLU.

/// vjp = relu(δ): the mask taken from the cotangent instead of the input.
struct MaskFromDelta;
impl Bug<Relu> for MaskFromDelta {
    fn name(&self) -> &'static str {
        "vjp masking by δ > 0 (relu applied to the gradient)"
    }
    fn vjp<S: Sc>(&self, r: &Relu, _: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        r.forward(dy)
    }
}

/// vjp masked by `x < 0`.
struct MaskNegated;
impl Bug<Relu> for MaskNegated {
    fn name(&self) -> &'static str {
        "vjp masking by x < 0"
    }
    fn vjp<S: Sc>(&self, _: &Relu, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        relu_deriv_spec(&x.map(|v| v.neg_ref())).hadamard(dy)
    }
}

/// relu′(0) = 1 and the op claims to be smooth (reports no kinks).
struct SmoothAtZero;
impl Bug<Relu> for SmoothAtZero {
    fn name(&self) -> &'static str {
        "relu′(0) = 1, treated as smooth"
    }
    fn jvp<S: Sc>(&self, _: &Relu, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        x.map(|v| S::from_i64((v.sign() != Ordering::Less) as i64))
            .hadamard(dx)
    }
    fn vjp<S: Sc>(&self, _: &Relu, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        x.map(|v| S::from_i64((v.sign() != Ordering::Less) as i64))
            .hadamard(dy)
    }
    fn smooth(&self) -> bool {
        true
    }
}

/// vjp = x ⊙ δ: the value used where the derivative belongs.
struct TimesInput;
impl Bug<Relu> for TimesInput {
    fn name(&self) -> &'static str {
        "vjp multiplying δ by x"
    }
    fn vjp<S: Sc>(&self, _: &Relu, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        x.hadamard(dy)
    }
}

/// The mask of a `[2, 3]` input read in column-major order.
struct ColumnMajorMask;
impl Bug<Relu> for ColumnMajorMask {
    fn name(&self) -> &'static str {
        "vjp reading the mask column-major"
    }
    fn vjp<S: Sc>(&self, _: &Relu, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let (rows, cols) = (x.shape()[0], x.shape()[1]);
        let mask = relu_deriv_spec(x).into_data();
        let read = (0..rows * cols)
            .map(|k| mask[(k % rows) * cols + k / rows].clone())
            .collect();
        Tensor::new(x.shape().to_vec(), read)?.hadamard(dy)
    }
}

/// vjp adds into a gradient buffer that is never zeroed (the `zero_grad` bug).
#[derive(Default)]
struct Accumulates {
    buffer: RefCell<Option<Box<dyn Any>>>,
}
impl Bug<Relu> for Accumulates {
    fn name(&self) -> &'static str {
        "vjp accumulating into a buffer never zeroed"
    }
    fn vjp<S: Sc>(&self, _: &Relu, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let fresh = relu_deriv_spec(x).hadamard(dy)?;
        let mut buffer = self.buffer.borrow_mut();
        let total = match buffer.as_ref().and_then(|b| b.downcast_ref::<Tensor<S>>()) {
            Some(old) if old.shape() == fresh.shape() => old.add(&fresh)?,
            _ => fresh,
        };
        *buffer = Some(Box::new(total.clone()));
        Ok(total)
    }
}

// ---------------------------------------------------------------------------------------------
// Composition: Linear(3→3) >>> ReLU.

type LinRelu = Then<Linear, Relu>;

fn lin_relu() -> LinRelu {
    l33().then(Relu)
}

/// vjp = second.vjp(y, first.vjp(x, δ)): the chain applied in the wrong order.
struct WrongOrder;
impl Bug<LinRelu> for WrongOrder {
    fn name(&self) -> &'static str {
        "chain rule in the wrong order"
    }
    fn vjp<S: Sc>(&self, op: &LinRelu, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let y = op.first.forward(x)?;
        op.second.vjp(&y, &op.first.vjp(x, dy)?)
    }
}

/// jvp evaluates the second rule at `x` instead of at `first(x)`.
struct SecondAtInput;
impl Bug<LinRelu> for SecondAtInput {
    fn name(&self) -> &'static str {
        "second rule evaluated at x instead of first(x)"
    }
    fn jvp<S: Sc>(&self, op: &LinRelu, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        op.second.jvp(x, &op.first.jvp(x, dx)?)
    }
}

/// vjp skips the second op (ReLU treated as the identity in backward).
struct SkipsSecond;
impl Bug<LinRelu> for SkipsSecond {
    fn name(&self) -> &'static str {
        "vjp skipping the ReLU"
    }
    fn vjp<S: Sc>(&self, op: &LinRelu, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        op.first.vjp(x, dy)
    }
}

/// vjp calls the first op's jvp where its vjp belongs.
struct JvpForVjp;
impl Bug<LinRelu> for JvpForVjp {
    fn name(&self) -> &'static str {
        "first.jvp called in the backward pass"
    }
    fn vjp<S: Sc>(&self, op: &LinRelu, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let y = op.first.forward(x)?;
        op.first.jvp(x, &op.second.vjp(&y, dy)?)
    }
}

// ---------------------------------------------------------------------------------------------
// The MLP.

/// The ReLU mask taken from `z2 = W2·relu(z1) + b2` (the output) instead of `z1`.
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
            p[1] = Tensor::zeros(p[1].shape());
            Ok(())
        })
    }
}

/// `∂b2 = 2δ`: the bias gradient added twice.
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

// ---------------------------------------------------------------------------------------------
// A batched op: Linear(3→2) applied to each row of `[B, 3]`, written natively (not as a loop).

/// `Y = X·Wᵀ + b` row by row.
struct BatchedLinear {
    layer: Linear,
    bug: BatchBug,
}

/// What is wrong with a [`BatchedLinear`].
#[derive(PartialEq)]
enum BatchBug {
    None,
    /// The vjp sums over the batch (the reduction over the wrong axis): every sample gets the
    /// same gradient.
    ReduceBatch,
    /// The forward kernel adds the bias to the first sample only. The rules are consistent with
    /// this forward, so only batched = looped sees it.
    BiasFirstSampleOnly,
}

impl Op for BatchedLinear {
    fn name(&self) -> String {
        let tag = match self.bug {
            BatchBug::None => "",
            BatchBug::ReduceBatch => " with vjp reduced over the batch",
            BatchBug::BiasFirstSampleOnly => " with the bias on sample 0 only",
        };
        format!("Batched {}{tag}", self.layer.name())
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        match input {
            [batch, n] => Ok(vec![*batch, self.layer.output_shape(&[*n])?[0]]),
            _ => Err(exactgrad::Error::ShapeMismatch {
                context: "BatchedLinear: input [B, n]".into(),
                left: input.to_vec(),
                right: vec![0, self.layer.dims().1],
            }),
        }
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
}

impl<S: Sc> OpSpec<S> for BatchedLinear {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let out = self.output_shape(x.shape())?;
        let y = x.matmul(&w::<S>(&self.layer).transpose()?)?;
        let bias = b::<S>(&self.layer);
        let data = y
            .data()
            .iter()
            .enumerate()
            .map(|(k, v)| {
                if self.bug == BatchBug::BiasFirstSampleOnly && k >= out[1] {
                    v.clone()
                } else {
                    v.add_ref(&bias.data()[k % out[1]])
                }
            })
            .collect();
        Tensor::new(out, data)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        self.output_shape(x.shape())?;
        dx.matmul(&w::<S>(&self.layer).transpose()?)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        self.output_shape(x.shape())?;
        let g = dy.matmul(&w::<S>(&self.layer))?;
        if self.bug != BatchBug::ReduceBatch {
            return Ok(g);
        }
        let (batch, n) = (g.shape()[0], g.shape()[1]);
        let sums: Vec<S> = (0..n)
            .map(|j| (0..batch).fold(S::zero(), |acc, r| acc.add_ref(g.get2(r, j).unwrap())))
            .collect();
        Tensor::new(
            vec![batch, n],
            (0..batch * n).map(|k| sums[k % n].clone()).collect(),
        )
    }
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

#[test]
fn relu_vjp_mask_from_delta() {
    assert_counterexample(
        &caught(&mutant(Relu, MaskFromDelta), &[2, 3]),
        "structural: vjp(x, a·δ₁ + b·δ₂) = a·vjp(x, δ₁) + b·vjp(x, δ₂)",
        &[1, 2],
        ["0", "-1", "1"],
        &[
            ("x", "[[1, 1, 1],\n [1, 1, 1]]"),
            ("δ₁", "[[0, 0, 0],\n [0, 0, 0]]"),
            ("δ₂", "[[0, 0, 0],\n [0, 0, 1]]"),
            ("a", "0"),
            ("b", "-1"),
        ],
    );
}

#[test]
fn relu_vjp_mask_negated() {
    assert_counterexample(
        &caught(&mutant(Relu, MaskNegated), &[2, 3]),
        "jacobian: vjp(x, δ) = Jᵀ·δ",
        &[1, 2],
        ["0", "1", "-1"],
        &[
            ("x", "[[1, 1, 1],\n [1, 1, 1]]"),
            ("dx", "[[0, 0, 0],\n [0, 0, 0]]"),
            ("δ", "[[0, 0, 0],\n [0, 0, 1]]"),
        ],
    );
}

#[test]
fn relu_derivative_one_at_zero_treated_as_smooth() {
    assert_counterexample(
        &caught(&mutant(Relu, SmoothAtZero), &[2, 3]),
        "jacobian: vjp(x, δ) = Jᵀ·δ",
        &[1, 2],
        ["1", "0", "1"],
        &[
            ("x", "[[0, 0, 0],\n [0, 0, 0]]"),
            ("dx", "[[0, 0, 0],\n [0, 0, 0]]"),
            ("δ", "[[0, 0, 0],\n [0, 0, 1]]"),
        ],
    );
}

#[test]
fn relu_vjp_times_input() {
    assert_counterexample(
        &caught(&mutant(Relu, TimesInput), &[2, 3]),
        "jacobian: vjp(x, δ) = Jᵀ·δ",
        &[1, 2],
        ["-1", "0", "-1"],
        &[
            ("x", "[[1, 1, 1],\n [1, 1, -1]]"),
            ("dx", "[[0, 0, 0],\n [0, 0, 0]]"),
            ("δ", "[[0, 0, 0],\n [0, 0, 1]]"),
        ],
    );
}

#[test]
fn relu_vjp_mask_read_column_major() {
    assert_counterexample(
        &caught(&mutant(Relu, ColumnMajorMask), &[2, 3]),
        "jacobian: vjp(x, δ) = Jᵀ·δ",
        &[1, 0],
        ["1", "0", "1"],
        &[
            ("x", "[[1, 1, 1],\n [-1, 1, 1]]"),
            ("dx", "[[0, 0, 0],\n [0, 0, 0]]"),
            ("δ", "[[0, 0, 0],\n [1, 0, 0]]"),
        ],
    );
}

#[test]
fn composition_in_the_wrong_order() {
    assert_counterexample(
        &caught(&mutant(lin_relu(), WrongOrder), &[3]),
        "jacobian: vjp(x, δ) = Jᵀ·δ",
        &[0],
        ["2", "0", "2"],
        &[("x", "[0, 1, 0]"), ("dx", "[0, 0, 0]"), ("δ", "[0, 0, 1]")],
    );
}

#[test]
fn composition_second_rule_at_the_wrong_point() {
    assert_counterexample(
        &caught(&mutant(lin_relu(), SecondAtInput), &[3]),
        "jacobian: jvp(x, dx) = J·dx",
        &[2],
        ["1", "0", "1"],
        &[("x", "[0, 1, 1]"), ("dx", "[0, 0, 1]"), ("δ", "[0, 0, 0]")],
    );
}

#[test]
fn composition_vjp_skips_the_relu() {
    assert_counterexample(
        &caught(&mutant(lin_relu(), SkipsSecond), &[3]),
        "jacobian: vjp(x, δ) = Jᵀ·δ",
        &[0],
        ["2", "0", "2"],
        &[("x", "[0, 1, 0]"), ("dx", "[0, 0, 0]"), ("δ", "[0, 0, 1]")],
    );
}

#[test]
fn composition_jvp_called_in_backward() {
    assert_counterexample(
        &caught(&mutant(lin_relu(), JvpForVjp), &[3]),
        "jacobian: vjp(x, δ) = Jᵀ·δ",
        &[0],
        ["2", "-3", "5"],
        &[("x", "[0, 1, 0]"), ("dx", "[0, 0, 0]"), ("δ", "[0, 1, 0]")],
    );
}

#[test]
fn mlp_mask_from_z2() {
    assert_counterexample(
        &caught(&mutant(mlp333(), MaskFromZ2), &[3]),
        "jacobian: vjp(x, δ) = Jᵀ·δ",
        &[0],
        ["2", "-4", "6"],
        &[("x", "[1, 0, 1]"), ("dx", "[0, 0, 0]"), ("δ", "[0, 0, 1]")],
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

/// The buffer makes the rule depend on every earlier call, so the values are a history; what is
/// asserted is the identity, the coordinate and that the reference is the zero the rule missed.
#[test]
fn relu_vjp_accumulates_into_a_buffer_never_zeroed() {
    let failure = caught(&mutant(Relu, Accumulates::default()), &[2, 3]);
    let c = failure.counterexample().expect("a violated identity");
    assert_eq!(c.check, "structural: vjp(x, 0) = 0");
    assert_eq!(c.coordinate, [0, 0]);
    assert_eq!(c.reference, "0");
    assert_eq!(c.difference, c.rule);
    assert_ne!(c.rule, "0");
}

#[test]
fn batched_vjp_reduced_over_the_batch() {
    let batched = BatchedLinear {
        layer: l32(),
        bug: BatchBug::ReduceBatch,
    };
    assert_counterexample(
        &caught_batched(&batched),
        "jacobian: vjp(x, δ) = Jᵀ·δ",
        &[0, 0],
        ["-1", "0", "-1"],
        &[
            ("x", "[[0, 0, 0],\n [0, 0, 0]]"),
            ("δ", "[[0, 0],\n [0, 1]]"),
        ],
    );
}

#[test]
fn batched_forward_bias_on_the_first_sample_only() {
    let batched = BatchedLinear {
        layer: l32(),
        bug: BatchBug::BiasFirstSampleOnly,
    };
    assert_counterexample(
        &caught_batched(&batched),
        "structural: batched forward = looped forward",
        &[1, 0],
        ["0", "1/2", "-1/2"],
        &[("x", "[[0, 0, 0],\n [0, 0, 0]]")],
    );
}

/// [`check_batched`] with its defaults against the per-sample `Linear(3→2)`; must fail.
fn caught_batched(batched: &BatchedLinear) -> Box<CheckFailure> {
    let failure = check_batched(batched, &l32(), &[2, 3], &CheckConfig::default())
        .expect_err("the checker must catch this mutant");
    println!("{failure}");
    failure
}

/// The stride bug is invisible on a square layer: only the non-square one exposes it.
#[test]
fn square_stride_bug_passes_on_square_weights() {
    let report = check_op(&mutant(l33(), SquareStride), &[3], &CheckConfig::default())
        .expect("right for square W");
    assert_eq!(report.cases, CheckConfig::default().case_count());
}

/// `relu′(0) = 1` is a convention, not a bug, for an op that reports its kinks: off kinks the
/// rule is the derivative, and at a kink every derivative check names the kink instead of
/// failing the rule. Only the claim to be smooth (no guards) is wrong, and is caught above.
#[test]
fn derivative_one_at_zero_with_kinks_reported_is_correct() {
    struct OneAtZero;
    impl Bug<Relu> for OneAtZero {
        fn name(&self) -> &'static str {
            "relu′(0) = 1 (kinks reported)"
        }
        fn vjp<S: Sc>(&self, r: &Relu, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
            SmoothAtZero.vjp(r, x, dy)
        }
        fn jvp<S: Sc>(&self, r: &Relu, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
            SmoothAtZero.jvp(r, x, dx)
        }
    }
    let op = mutant(Relu, OneAtZero);
    let config = CheckConfig::default();
    assert_eq!(
        check_op(&op, &[2, 3], &config)
            .expect("correct off kinks")
            .cases,
        config.case_count()
    );
    let kinks = exactgrad::check::check_kinks(&op, &[2, 3], &config).expect("kinks named");
    assert_eq!(kinks.cases, config.case_count());
    assert_eq!(kinks.layers, [(1, config.case_count())]);
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
    }
    let x = q(&["1", "-1/3", "2"], &[3]);
    for m in [mlp342(), mlp333()] {
        let report = check_at(
            &WrtParams::new(&m, x.clone()),
            &exactgrad::ops::param_vector(&m),
            &config,
        )
        .unwrap_or_else(|f| panic!("{f}"));
        println!("{report}");
        assert_eq!(report.cases, n, "{}", report.op);
    }
}
