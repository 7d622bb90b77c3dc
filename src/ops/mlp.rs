//! The 2-layer MLP of the reference page: Linear → ReLU → Linear (`mlpVec`) as a composition,
//! and its closed-form derivative (`mlpDeriv`), which the theorem checks against the
//! composition's rules.

use super::piecewise::{is_kink, step};
use super::{Compose, Linear, OpSpec, Relu, Then};
use crate::error::{Error, Result};
use crate::scalar::{Scalar, Q};
use crate::tensor::Tensor;
use std::cmp::Ordering;

/// `mlpVec(x) = W2·relu(W1·x + b1) + b2`, as a composition of primitive ops.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mlp {
    net: MlpOp,
}

/// The composed op of an [`Mlp`].
pub type MlpOp = Then<Then<Linear, Relu>, Linear>;

impl Mlp {
    /// An MLP from `W1` (`[h, n]`), `b1` (`[h]`), `W2` (`[m, h]`), `b2` (`[m]`); a typed shape
    /// error otherwise.
    pub fn new(w1: Tensor<Q>, b1: Tensor<Q>, w2: Tensor<Q>, b2: Tensor<Q>) -> Result<Self> {
        Mlp::from_layers(Linear::new(w1, b1)?, Linear::new(w2, b2)?)
    }

    /// An MLP from two layers whose sizes chain.
    pub fn from_layers(l1: Linear, l2: Linear) -> Result<Self> {
        if l1.dims().0 != l2.dims().1 {
            return Err(Error::shape_mismatch(
                "Mlp: W2's column count must equal W1's row count",
                l1.weight().shape().to_vec(),
                l2.weight().shape().to_vec(),
            ));
        }
        Ok(Mlp {
            net: l1.then(Relu).then(l2),
        })
    }

    /// The first layer `(W1, b1)`.
    pub fn layer1(&self) -> &Linear {
        &self.net.first.first
    }

    /// The second layer `(W2, b2)`.
    pub fn layer2(&self) -> &Linear {
        &self.net.second
    }

    /// `(in, hidden, out)`.
    pub fn dims(&self) -> (usize, usize, usize) {
        let (l1, l2) = (self.layer1(), self.layer2());
        (l1.dims().1, l1.dims().0, l2.dims().0)
    }

    /// The network as the composition `Linear >>> ReLU >>> Linear` (Lean's spec-level MLP).
    pub fn as_op(&self) -> &MlpOp {
        &self.net
    }

    /// The first pre-activation `z1 = W1·x + b1`.
    pub fn z1<S: Scalar>(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        self.layer1().forward(x)
    }

    /// The ReLU mask `relu′(z1)`, or [`Error::Kink`] naming the first zero coordinate of `z1`
    /// (layer 2 of the composition). Over [`crate::Sym`] only a coordinate that is the zero
    /// polynomial is a kink: the test does not ask for a sign (`piecewise::is_kink`).
    ///
    /// Where the scalar certifies the signs of `z1` without computing it ([`crate::Ordered::affine_signs`]:
    /// a float filter over `Q`), only the coordinates it leaves open are computed exactly; the
    /// mask and the error are the same either way.
    pub fn mask<S: Scalar>(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let layer = self.layer1();
        let (h, n) = layer.dims();
        if x.shape() == [n] {
            let (w, b) = (layer.weight().lifted::<S>(), layer.bias().lifted::<S>());
            let (w, b) = (w.data(), b.data());
            let signs = S::affine_signs(w, h, n, x.data(), b);
            if signs.iter().any(Option::is_some) {
                let mask = signs
                    .into_iter()
                    .enumerate()
                    .map(|(i, sign)| match sign {
                        Some(Ordering::Greater) => Ok(S::one()),
                        Some(Ordering::Less) => Ok(S::zero()),
                        _ => unit_step(i, &S::dot(&w[i * n..(i + 1) * n], x.data()).add_ref(&b[i])),
                    })
                    .collect::<Result<Vec<S>>>()?;
                return Tensor::new(vec![h], mask);
            }
        }
        let z1 = self.z1(x)?;
        let mask = z1
            .data()
            .iter()
            .enumerate()
            .map(|(i, z)| unit_step(i, z))
            .collect::<Result<Vec<S>>>()?;
        Tensor::new(z1.shape().to_vec(), mask)
    }

    /// `mlpDeriv(x)ᵀ·δ = W1ᵀ·(relu′(z1) ⊙ (W2ᵀ·δ))`, through the factors: the same value as
    /// `deriv(x)ᵀ·δ` without the matrix, whose long entries cost more to multiply than the
    /// weights (whose packs a check has made already).
    pub fn deriv_transposed_times<S: Scalar>(
        &self,
        x: &Tensor<S>,
        dy: &Tensor<S>,
    ) -> Result<Tensor<S>> {
        self.transposed_times_masked(&self.mask(x)?, dy)
    }

    /// [`Mlp::deriv_transposed_times`] with the activation pattern `mask` (of [`Mlp::mask`])
    /// in hand: the theorem computes it once for all its steps.
    pub(crate) fn transposed_times_masked<S: Scalar>(
        &self,
        mask: &Tensor<S>,
        dy: &Tensor<S>,
    ) -> Result<Tensor<S>> {
        let inner = self
            .layer2()
            .weight()
            .lifted::<S>()
            .transpose_mat_vec_mul(dy)?;
        let masked = inner.hadamard(mask)?;
        self.layer1()
            .weight()
            .lifted::<S>()
            .transpose_mat_vec_mul(&masked)
    }

    /// `mlpDeriv(x) = W2·diag(relu′(z1))·W1` as an `[out, in]` matrix, in closed form.
    pub fn deriv<S: Scalar>(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        self.deriv_masked(&self.mask(x)?)
    }

    /// [`Mlp::deriv`] with the activation pattern `mask` (of [`Mlp::mask`]) in hand.
    pub(crate) fn deriv_masked<S: Scalar>(&self, mask: &Tensor<S>) -> Result<Tensor<S>> {
        let w2 = self.layer2().weight().lifted::<S>();
        let (m, h) = (w2.shape()[0], w2.shape()[1]);
        // W2·diag(mask) zeroes the columns of inactive units: m·h selections instead of h·n
        // products, and W1 goes to the matmul kernel without being copied.
        let masked = Tensor::new(
            vec![m, h],
            w2.data()
                .chunks(h.max(1))
                .flat_map(|row| {
                    row.iter().zip(mask.data()).map(|(v, k)| {
                        if k.is_zero() {
                            S::zero()
                        } else if k.is_one() {
                            v.clone()
                        } else {
                            k.mul_ref(v)
                        }
                    })
                })
                .collect(),
        )?;
        masked.matmul(&self.layer1().weight().lifted::<S>())
    }
}

/// relu′ at the pre-activation `z` of unit `i`, or the kink error naming that unit.
fn unit_step<S: Scalar>(i: usize, z: &S) -> Result<S> {
    if is_kink(z) {
        return Err(Error::kink(2, "ReLU", [i]));
    }
    Ok(step(z))
}

delegate_to_composition!(
    Mlp,
    |this| this.as_op(),
    name = |this| {
        let (n, h, m) = this.dims();
        format!("MLP({n}→{h}→{m})")
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::relu_deriv_spec;
    use crate::ops::test_support::*;
    use crate::planted;

    /// `MLP(3→3→2)`.
    fn mlp332() -> Mlp {
        let w1 = t(&[3, 3], &["1", "-1", "2", "1/2", "1", "-1", "-2", "1", "1"]);
        let w2 = t(&[2, 3], &["1", "2", "-1", "1/3", "-1", "1"]);
        Mlp::new(w1, t(&[3], &["0", "1", "-1/2"]), w2, t(&[2], &["1", "0"])).unwrap()
    }

    #[test]
    fn mlp_passes_and_its_parameter_gradients() {
        assert_passes(&crate::check_op!(mlp332(), [3], cases(64)), true);
        assert_params_pass(&mlp332(), t(&[3], &["1", "-1/2", "2"]), 32);
    }

    #[test]
    fn the_transposed_derivative_through_the_factors_is_the_matrix_s() {
        // Points on both sides of the hidden units' kinks, so that the mask has zeros and ones.
        for x in [["1", "-1/2", "2"], ["-3", "1", "1/7"], ["1/2", "5", "-1"]] {
            let (x, dy) = (t(&[3], &x), t(&[2], &["3/4", "-2"]));
            let matrix = mlp332()
                .deriv(&x)
                .unwrap()
                .transpose_mat_vec_mul(&dy)
                .unwrap();
            let factors = mlp332().deriv_transposed_times(&x, &dy).unwrap();
            assert_eq!(factors, matrix);
        }
    }

    #[test]
    fn mlp_branches_through_select() {
        assert_proved(&mlp332(), &[3]);
        // The closed form too: its kink test asks no sign, and its mask is relu′'s masks.
        crate::scalar::symbols::scoped(|| {
            use crate::scalar::symbols::{fresh, take_refusals};
            use crate::scalar::Sym;
            let x = Tensor::from_vec(
                (0..3)
                    .map(|i| Sym::symbol(fresh(format!("x{i}"))))
                    .collect(),
            );
            let m = mlp332();
            m.deriv(&x).unwrap();
            assert_eq!(m.mask(&x).unwrap(), relu_deriv_spec(&m.z1(&x).unwrap()));
            assert!(take_refusals().is_empty());
        });
    }

    /// A batch of inputs gets a mask per input (the float filter's fast path is for one input).
    #[test]
    fn a_batch_gets_the_mask_of_each_input() {
        let m = mlp332();
        let batch = t(&[2, 3], &["1", "-2", "1/2", "-1", "3", "3"]);
        let mask = m.mask(&batch).unwrap();
        assert_eq!(mask.shape(), [2, 3]);
        for (row, input) in [["1", "-2", "1/2"], ["-1", "3", "3"]].iter().enumerate() {
            let one = m.mask(&t(&[3], input)).unwrap();
            assert_eq!(
                &mask.data()[row * 3..(row + 1) * 3],
                one.data(),
                "input {row}"
            );
        }
    }

    #[test]
    fn a_zero_pre_activation_is_still_a_kink() {
        // At x = 0, z1 = b1 = (0, 1, −1/2): unit 0 is exactly zero.
        let r = mlp332().mask(&t(&[3], &["0", "0", "0"]));
        assert_eq!(kink(r), (2, "ReLU".into(), vec![0]));
    }

    #[test]
    fn units_the_float_filter_cannot_decide_get_their_exact_sign() {
        // At x = (1, 1, 1), W1·x = (2, 1/2, 0); the biases put units exactly on a kink or 2⁻⁸⁰
        // from one, beside units the filter decides.
        let with_bias = |b: [&str; 3]| {
            let m = mlp332();
            let l1 = m.layer1();
            Mlp::new(
                l1.weight().clone(),
                t(&[3], &b),
                m.layer2().weight().clone(),
                m.layer2().bias().clone(),
            )
            .unwrap()
        };
        let x = t(&[3], &["1", "1", "1"]);
        let r = with_bias(["0", "-1/2", "1"]).mask(&x);
        assert_eq!(kink(r), (2, "ReLU".into(), vec![1]));
        // −2 + 2⁻⁸⁰ and −1/2 − 2⁻⁸⁰.
        let near = with_bias([
            "-2417851639229258349412351/1208925819614629174706176",
            "-604462909807314587353089/1208925819614629174706176",
            "1",
        ]);
        let mask = near.mask(&x).unwrap();
        assert_eq!(mask, relu_deriv_spec(&near.z1(&x).unwrap()));
        assert_eq!(mask, t(&[3], &["1", "0", "1"]));
    }

    planted!(MaskFromInput(Mlp), fn jvp(&m, x, dx) {
        // The ReLU mask computed from x instead of z1 (type-checks when in = hidden).
        let dz = m.layer1().weight().lifted::<S>().mat_vec_mul(dx)?;
        m.layer2().weight().lifted::<S>().mat_vec_mul(&relu_deriv_spec(x).hadamard(&dz)?)
    });

    #[test]
    fn planted_mlp_mask_from_the_input() {
        assert_cx(
            &caught(&MaskFromInput(mlp332()), &[3]),
            JVP,
            &[0],
            "0",
            "-2",
        );
    }
}
