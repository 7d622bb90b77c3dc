//! The mutant zoo: plausible wrong JVP/VJP rules for Linear, ReLU, their composition and the
//! 2-layer MLP. Each must be caught by the one-call checker with its default settings, and the
//! test asserts the minimal exact counterexample it reports. The correct rules pass every case
//! (256 by default; `PROPTEST_CASES=10000` for the long run).
//!
//! A mutant keeps the op's correct `forward` (the reference the checks derive `Df` from) and
//! replaces one rule through the [`Bug`] hooks.

use exactgrad::check::{check_at, check_batched, check_op, CheckConfig, CheckFailure};
use exactgrad::ops::{relu_deriv_spec, Guard, Linear, Mlp, Parametrized, Relu, Then, WrtParams};
use exactgrad::{Compose, Lift, Op, OpSpec, Result, Ring, Scalar, Tensor, Q};
use std::any::Any;
use std::cell::RefCell;
use std::cmp::Ordering;

/// The scalars the mutants run over (`Q` for verdicts, `Dual<Q>` for references).
trait Sc: Scalar + Lift<Q> {}
impl<T: Scalar + Lift<Q>> Sc for T {}

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
        O: Parametrized<S>,
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
}

impl<S: Sc, O: Parametrized<S>, B: Bug<O>> Parametrized<S> for Mutant<O, B> {
    fn params(&self) -> Tensor<S> {
        self.op.params()
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
fn l32() -> Linear<Q> {
    Linear::new(
        q(&["1", "-2", "3", "-1", "4", "2"], &[2, 3]),
        q(&["1/2", "-3"], &[2]),
    )
    .unwrap()
}

/// `Linear(3→3)`, `W ≠ Wᵀ`.
fn l33() -> Linear<Q> {
    Linear::new(
        q(&["1", "2", "0", "-3", "1", "4", "2", "-1", "1"], &[3, 3]),
        q(&["0", "1", "-2"], &[3]),
    )
    .unwrap()
}

/// `MLP(3→4→2)`.
fn mlp342() -> Mlp<Q> {
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
fn mlp333() -> Mlp<Q> {
    Mlp::new(
        q(&["1", "2", "0", "-3", "1", "4", "2", "-1", "1"], &[3, 3]),
        q(&["0", "1", "-2"], &[3]),
        q(&["2", "-1", "1", "1", "1", "-3", "0", "2", "1"], &[3, 3]),
        q(&["1", "0", "-1"], &[3]),
    )
    .unwrap()
}

/// `MLP(3→3→2)` (input size = hidden size).
fn mlp332() -> Mlp<Q> {
    Mlp::new(
        q(&["1", "2", "0", "-3", "1", "4", "2", "-1", "1"], &[3, 3]),
        q(&["0", "1", "-2"], &[3]),
        q(&["1", "-2", "1", "3", "-1", "1"], &[2, 3]),
        q(&["1", "-1"], &[2]),
    )
    .unwrap()
}

fn w<S: Sc>(l: &Linear<Q>) -> Tensor<S> {
    S::lift_tensor(l.weight()).into_owned()
}

fn b<S: Sc>(l: &Linear<Q>) -> Tensor<S> {
    S::lift_tensor(l.bias()).into_owned()
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
fn mask<S: Sc>(m: &Mlp<Q>, x: &Tensor<S>) -> Result<Tensor<S>> {
    Ok(relu_deriv_spec(&m.z1(x)?))
}

/// The correct MLP backward from a given mask and second-layer cotangent rule.
fn mlp_backward<S: Sc>(m: &Mlp<Q>, mask: &Tensor<S>, g: &Tensor<S>) -> Result<Tensor<S>> {
    w::<S>(m.layer1()).transpose_mat_vec_mul(&mask.hadamard(g)?)
}

// ---------------------------------------------------------------------------------------------
// Linear.

/// vjp = W·δ: the transpose is missing (type-checks for square W only).
struct NoTranspose;
impl Bug<Linear<Q>> for NoTranspose {
    fn name(&self) -> &'static str {
        "vjp missing the transpose"
    }
    fn vjp<S: Sc>(&self, l: &Linear<Q>, _: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        w::<S>(l).mat_vec_mul(dy)
    }
}

/// jvp = Wᵀ·dx: the forward rule transposed.
struct JvpTransposed;
impl Bug<Linear<Q>> for JvpTransposed {
    fn name(&self) -> &'static str {
        "jvp transposed"
    }
    fn jvp<S: Sc>(&self, l: &Linear<Q>, _: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        w::<S>(l).transpose_mat_vec_mul(dx)
    }
}

/// vjpⱼ = Σᵢ W.data[i·m + j]·δᵢ: the row stride is the output size, right only when W is square.
struct SquareStride;
impl Bug<Linear<Q>> for SquareStride {
    fn name(&self) -> &'static str {
        "vjp indexing W with stride m (right only for square W)"
    }
    fn vjp<S: Sc>(&self, l: &Linear<Q>, _: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
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
impl Bug<Linear<Q>> for OffByOne {
    fn name(&self) -> &'static str {
        "jvp reading dx at j + 1"
    }
    fn jvp<S: Sc>(&self, l: &Linear<Q>, _: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        let n = dx.len();
        let shifted = vec_of((0..n).map(|j| dx.data()[(j + 1) % n].clone()).collect());
        w::<S>(l).mat_vec_mul(&shifted)
    }
}

/// jvp = W·dx + b: the constant bias leaks into the tangent.
struct JvpAddsBias;
impl Bug<Linear<Q>> for JvpAddsBias {
    fn name(&self) -> &'static str {
        "jvp adding the bias"
    }
    fn jvp<S: Sc>(&self, l: &Linear<Q>, _: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        w::<S>(l).linear(&b::<S>(l), dx)
    }
}

/// vjp with the sign of coordinate 1 flipped.
struct SignFlip;
impl Bug<Linear<Q>> for SignFlip {
    fn name(&self) -> &'static str {
        "vjp with coordinate 1 negated"
    }
    fn vjp<S: Sc>(&self, l: &Linear<Q>, _: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let mut v = w::<S>(l).transpose_mat_vec_mul(dy)?.into_data();
        v[1] = v[1].neg_ref();
        Ok(vec_of(v))
    }
}

/// vjp = Wᵀ·(δ·(1 + 2⁻⁶⁰)): a relative error far below any float tolerance.
struct ScaledDelta;
impl Bug<Linear<Q>> for ScaledDelta {
    fn name(&self) -> &'static str {
        "vjp with δ scaled by 1 + 2⁻⁶⁰"
    }
    fn vjp<S: Sc>(&self, l: &Linear<Q>, _: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        w::<S>(l).transpose_mat_vec_mul(&dy.scale(&one_plus_tiny()))
    }
}

/// vjp correct in every coordinate but the last, whose sum stops one row early.
struct LastCoordinate;
impl Bug<Linear<Q>> for LastCoordinate {
    fn name(&self) -> &'static str {
        "vjp wrong in the last coordinate only"
    }
    fn vjp<S: Sc>(&self, l: &Linear<Q>, _: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let (m, n) = l.dims();
        let wt = w::<S>(l);
        let mut v = wt.transpose_mat_vec_mul(dy)?.into_data();
        v[n - 1] = v[n - 1].sub_ref(&wt.get2(m - 1, n - 1)?.mul_ref(&dy.data()[m - 1]));
        Ok(vec_of(v))
    }
}

/// vjpⱼ accumulates into a sum that is not reset between coordinates (a running sum).
struct AccumulatorNotReset;
impl Bug<Linear<Q>> for AccumulatorNotReset {
    fn name(&self) -> &'static str {
        "vjp accumulator not reset between coordinates"
    }
    fn vjp<S: Sc>(&self, l: &Linear<Q>, _: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
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

type LinRelu = Then<Linear<Q>, Relu>;

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
impl Bug<Mlp<Q>> for MaskFromZ2 {
    fn name(&self) -> &'static str {
        "mask from z2"
    }
    fn vjp<S: Sc>(&self, m: &Mlp<Q>, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let z2 = m.forward(x)?;
        let g = w::<S>(m.layer2()).transpose_mat_vec_mul(dy)?;
        mlp_backward(m, &relu_deriv_spec(&z2), &g)
    }
}

/// The mask computed from the hidden output as `relu(z1) ≥ 0`, which is always 1.
struct MaskFromOutputGe;
impl Bug<Mlp<Q>> for MaskFromOutputGe {
    fn name(&self) -> &'static str {
        "mask from the ReLU output with ≥ (always 1)"
    }
    fn vjp<S: Sc>(&self, m: &Mlp<Q>, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let h = Relu.forward(&m.z1(x)?)?;
        let ones = h.map(|v| S::from_i64((v.sign() != Ordering::Less) as i64));
        let g = w::<S>(m.layer2()).transpose_mat_vec_mul(dy)?;
        mlp_backward(m, &ones, &g)
    }
}

/// The mask computed from the input `x` instead of `z1` (type-checks when in = hidden).
struct MaskFromInput;
impl Bug<Mlp<Q>> for MaskFromInput {
    fn name(&self) -> &'static str {
        "jvp mask from x instead of z1"
    }
    fn jvp<S: Sc>(&self, m: &Mlp<Q>, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        let dz = w::<S>(m.layer1()).mat_vec_mul(dx)?;
        w::<S>(m.layer2()).mat_vec_mul(&relu_deriv_spec(x).hadamard(&dz)?)
    }
}

/// `W2·δ` where `W2ᵀ·δ` belongs (type-checks when hidden = out).
struct MlpNoTranspose;
impl Bug<Mlp<Q>> for MlpNoTranspose {
    fn name(&self) -> &'static str {
        "backward through W2 without the transpose"
    }
    fn vjp<S: Sc>(&self, m: &Mlp<Q>, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let g = w::<S>(m.layer2()).mat_vec_mul(dy)?;
        mlp_backward(m, &mask(m, x)?, &g)
    }
}

/// vjp right in every coordinate but the last, which is computed without the mask.
struct MlpLastCoordinate;
impl Bug<Mlp<Q>> for MlpLastCoordinate {
    fn name(&self) -> &'static str {
        "vjp unmasked in the last coordinate"
    }
    fn vjp<S: Sc>(&self, m: &Mlp<Q>, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
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
impl Bug<Mlp<Q>> for MlpJvpAddsBias {
    fn name(&self) -> &'static str {
        "jvp adding b1"
    }
    fn jvp<S: Sc>(&self, m: &Mlp<Q>, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        let dz = w::<S>(m.layer1()).linear(&b::<S>(m.layer1()), dx)?;
        w::<S>(m.layer2()).mat_vec_mul(&mask(m, x)?.hadamard(&dz)?)
    }
}

/// The MLP backward with δ scaled by `1 + 2⁻⁶⁰`.
struct MlpScaledDelta;
impl Bug<Mlp<Q>> for MlpScaledDelta {
    fn name(&self) -> &'static str {
        "backward with δ scaled by 1 + 2⁻⁶⁰"
    }
    fn vjp<S: Sc>(&self, m: &Mlp<Q>, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        m.vjp(x, &dy.scale(&one_plus_tiny()))
    }
}

/// Parameter gradients `(∂W1, ∂b1, ∂W2, ∂b2)` with one part replaced.
fn mlp_param_grads<S: Sc>(
    m: &Mlp<Q>,
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
impl Bug<Mlp<Q>> for DropsBiasGrad {
    fn name(&self) -> &'static str {
        "∂b1 dropped"
    }
    fn vjp_params<S: Sc>(&self, m: &Mlp<Q>, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        mlp_param_grads(m, x, dy, |p, _, _| {
            p[1] = Tensor::zeros(p[1].shape());
            Ok(())
        })
    }
}

/// `∂b2 = 2δ`: the bias gradient added twice.
struct DoublesBiasGrad;
impl Bug<Mlp<Q>> for DoublesBiasGrad {
    fn name(&self) -> &'static str {
        "∂b2 doubled"
    }
    fn vjp_params<S: Sc>(&self, m: &Mlp<Q>, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        mlp_param_grads(m, x, dy, |p, _, _| {
            p[3] = p[3].add(&p[3].clone())?;
            Ok(())
        })
    }
}

/// `∂W1 = (W2ᵀδ)·xᵀ`, without the ReLU mask.
struct WeightGradNoMask;
impl Bug<Mlp<Q>> for WeightGradNoMask {
    fn name(&self) -> &'static str {
        "∂W1 without the mask"
    }
    fn vjp_params<S: Sc>(&self, m: &Mlp<Q>, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        mlp_param_grads(m, x, dy, |p, _, g| {
            p[0] = g.outer(x).flatten();
            Ok(())
        })
    }
}

/// `∂W2 = h·δᵀ` (the outer product transposed; type-checks when hidden = out).
struct WeightGradTransposed;
impl Bug<Mlp<Q>> for WeightGradTransposed {
    fn name(&self) -> &'static str {
        "∂W2 transposed"
    }
    fn vjp_params<S: Sc>(&self, m: &Mlp<Q>, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        mlp_param_grads(m, x, dy, |p, hidden, _| {
            p[2] = hidden.outer(dy).flatten();
            Ok(())
        })
    }
}

// ---------------------------------------------------------------------------------------------
// A batched op: Linear(3→2) applied to each row of `[B, 3]`, written natively (not as a loop).

/// `Y = X·Wᵀ + b` row by row; with `reduce_batch` its vjp sums δ over the batch first (the
/// reduction taken over the wrong axis), giving every sample the same gradient.
struct BatchedLinear {
    layer: Linear<Q>,
    reduce_batch: bool,
}

impl Op for BatchedLinear {
    fn name(&self) -> String {
        let tag = if self.reduce_batch {
            " with vjp reduced over the batch"
        } else {
            ""
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
            .map(|(k, v)| v.add_ref(&bias.data()[k % out[1]]))
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
        if !self.reduce_batch {
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
fn caught<O: exactgrad::check::Checkable>(op: &O, shape: &[usize]) -> CheckFailure {
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

fn params_case<B: Bug<Mlp<Q>>>(m: Mlp<Q>, bug: B) -> CheckFailure {
    let mu = mutant(m, bug);
    let x = q(&["1", "-1/2", "2"], &[3]);
    let op = WrtParams::new(&mu, x);
    let at: Tensor<Q> = mu.params();
    let failure =
        check_at(&op, &at, &CheckConfig::default()).expect_err("the checker must catch this");
    println!("{failure}");
    failure
}

#[test]
fn discover() {
    let all: Vec<(&str, CheckFailure)> = vec![
        ("NoTranspose", caught(&mutant(l33(), NoTranspose), &[3])),
        ("JvpTransposed", caught(&mutant(l33(), JvpTransposed), &[3])),
        ("SquareStride", caught(&mutant(l32(), SquareStride), &[3])),
        ("OffByOne", caught(&mutant(l32(), OffByOne), &[3])),
        ("JvpAddsBias", caught(&mutant(l32(), JvpAddsBias), &[3])),
        ("SignFlip", caught(&mutant(l32(), SignFlip), &[3])),
        ("ScaledDelta", caught(&mutant(l32(), ScaledDelta), &[3])),
        (
            "LastCoordinate",
            caught(&mutant(l32(), LastCoordinate), &[3]),
        ),
        (
            "AccumulatorNotReset",
            caught(&mutant(l32(), AccumulatorNotReset), &[3]),
        ),
        (
            "MaskFromDelta",
            caught(&mutant(Relu, MaskFromDelta), &[2, 3]),
        ),
        ("MaskNegated", caught(&mutant(Relu, MaskNegated), &[2, 3])),
        ("SmoothAtZero", caught(&mutant(Relu, SmoothAtZero), &[2, 3])),
        ("TimesInput", caught(&mutant(Relu, TimesInput), &[2, 3])),
        (
            "ColumnMajorMask",
            caught(&mutant(Relu, ColumnMajorMask), &[2, 3]),
        ),
        (
            "Accumulates",
            caught(&mutant(Relu, Accumulates::default()), &[2, 3]),
        ),
        ("WrongOrder", caught(&mutant(lin_relu(), WrongOrder), &[3])),
        (
            "SecondAtInput",
            caught(&mutant(lin_relu(), SecondAtInput), &[3]),
        ),
        (
            "SkipsSecond",
            caught(&mutant(lin_relu(), SkipsSecond), &[3]),
        ),
        ("JvpForVjp", caught(&mutant(lin_relu(), JvpForVjp), &[3])),
        ("MaskFromZ2", caught(&mutant(mlp333(), MaskFromZ2), &[3])),
        (
            "MaskFromOutputGe",
            caught(&mutant(mlp342(), MaskFromOutputGe), &[3]),
        ),
        (
            "MaskFromInput",
            caught(&mutant(mlp332(), MaskFromInput), &[3]),
        ),
        (
            "MlpNoTranspose",
            caught(&mutant(mlp333(), MlpNoTranspose), &[3]),
        ),
        (
            "MlpLastCoordinate",
            caught(&mutant(mlp342(), MlpLastCoordinate), &[3]),
        ),
        (
            "MlpJvpAddsBias",
            caught(&mutant(mlp342(), MlpJvpAddsBias), &[3]),
        ),
        (
            "MlpScaledDelta",
            caught(&mutant(mlp342(), MlpScaledDelta), &[3]),
        ),
        ("DropsBiasGrad", params_case(mlp342(), DropsBiasGrad)),
        ("DoublesBiasGrad", params_case(mlp342(), DoublesBiasGrad)),
        ("WeightGradNoMask", params_case(mlp342(), WeightGradNoMask)),
        (
            "WeightGradTransposed",
            params_case(mlp333(), WeightGradTransposed),
        ),
    ];
    for (name, f) in all {
        let c = f.counterexample().expect("violated");
        println!(
            "@@ {name} | {:?} | {:?} | {:?} | {:?} | {:?} | {:?} | {}",
            c.check, c.coordinate, c.rule, c.reference, c.difference, c.inputs, f.passed_before
        );
    }
}
