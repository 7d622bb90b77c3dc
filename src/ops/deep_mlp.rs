//! MLPs of any depth and width: `Linear → ReLU → Linear → … → ReLU → Linear`, a composition of
//! the primitive ops ([`DeepMlp::as_op`]), with the closed-form derivative
//! `W_L·D_{L−1}·W_{L−1}···D_1·W_1` (the reference page's `mlpDeriv`, generalised) and the exact
//! kink radius in closed form.

use super::piecewise::is_kink;
use super::{Compose, Linear, OpSpec, Relu, Sequential, Then};
use crate::error::{Error, Result};
use crate::scalar::Scalar;
use crate::tensor::Tensor;
use std::cmp::Ordering;

/// `f(x) = W_L·relu(W_{L−1}·relu(···relu(W_1·x + b_1)···) + b_{L−1}) + b_L` for `L ≥ 1` layers.
///
/// As a composition it is `Linear_1 >>> ReLU >>> Linear_2 >>> … >>> ReLU >>> Linear_L`, so its
/// `2L − 1` stages are numbered like [`super::Then`] numbers them: linear layer `k` is stage
/// `2k − 1` and the ReLU after it is stage `2k`. Guards, kink errors and the rules all use that
/// numbering; for `L = 2` it is exactly [`super::Mlp`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeepMlp {
    net: DeepMlpOp,
}

/// The composed op of a [`DeepMlp`]: the hidden layers, each followed by a ReLU, then the last.
pub type DeepMlpOp = Then<Sequential<Then<Linear, Relu>>, Linear>;

/// The kink radius of a [`DeepMlp`] in closed form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeepKinkRadius<S> {
    /// `min |z_k[i]| / ‖(W_k·D_{k−1}···W_1)[i, :]‖₁` over hidden units whose pre-activation
    /// depends on `x` on this piece; `None` when none does (the net is affine near `x`).
    pub radius: Option<S>,
    /// The stage (ReLU, `2k`) and unit `i` attaining the minimum.
    pub binding: Option<(usize, usize)>,
}

impl DeepMlp {
    /// A network from its layers (`W_k` of shape `[n_k, n_{k−1}]`); [`Error::ShapeMismatch`]
    /// naming the first pair of layers whose sizes do not chain, [`Error::InvalidArgument`] for
    /// no layers.
    pub fn new(layers: Vec<Linear>) -> Result<Self> {
        if layers.is_empty() {
            return Err(Error::InvalidArgument {
                op: "DeepMlp".into(),
                argument: "layers".into(),
                value: "[]".into(),
                requirement: "at least one layer".into(),
            });
        }
        for (k, pair) in layers.windows(2).enumerate() {
            if pair[0].dims().0 != pair[1].dims().1 {
                return Err(Error::shape_mismatch(
                    &format!(
                        "DeepMlp: W{}'s column count must equal W{}'s row count",
                        k + 2,
                        k + 1
                    ),
                    pair[0].weight().shape().to_vec(),
                    pair[1].weight().shape().to_vec(),
                ));
            }
        }
        let mut layers = layers;
        let last = layers.pop().expect("at least one layer");
        let hidden = layers.into_iter().map(|l| l.then(Relu)).collect();
        Ok(DeepMlp {
            net: Sequential::new(hidden).then(last),
        })
    }

    /// The network as the composition `(Linear_1 >>> ReLU) >>> … >>> Linear_L`: the rules of [`DeepMlp`] are this composition's.
    pub fn as_op(&self) -> &DeepMlpOp {
        &self.net
    }

    /// The linear layers, first to last.
    pub fn layers(&self) -> Vec<&Linear> {
        let hidden = self.net.first.ops().iter().map(|stage| &stage.first);
        hidden.chain(std::iter::once(&self.net.second)).collect()
    }

    /// The widths `[n_0, n_1, …, n_L]`: input, hidden sizes, output.
    pub fn widths(&self) -> Vec<usize> {
        let layers = self.layers();
        std::iter::once(layers[0].dims().1)
            .chain(layers.iter().map(|l| l.dims().0))
            .collect()
    }

    /// The pre-activations `z_1, …, z_{L−1}` of the hidden ReLUs (`z_k = W_k·h_{k−1} + b_k`,
    /// `h_0 = x`, `h_k = relu(z_k)`).
    pub fn pre_activations<S: Scalar>(&self, x: &Tensor<S>) -> Result<Vec<Tensor<S>>> {
        let layers = self.layers();
        let hidden = &layers[..layers.len() - 1];
        let mut zs = Vec::with_capacity(hidden.len());
        let mut h = x.clone();
        for layer in hidden {
            let z = layer.forward(&h)?;
            h = Relu.forward(&z)?;
            zs.push(z);
        }
        Ok(zs)
    }

    /// The ReLU masks `D_k = diag(relu′(z_k))` as vectors, or [`Error::Kink`] naming the first
    /// zero pre-activation: its stage `2k` and unit (over [`crate::Sym`], a pre-activation that
    /// is the zero polynomial: the test does not ask for a sign, see `piecewise::is_kink`).
    pub fn masks<S: Scalar>(&self, x: &Tensor<S>) -> Result<Vec<Tensor<S>>> {
        self.pre_activations(x)?
            .iter()
            .enumerate()
            .map(|(k, z)| match z.data().iter().position(is_kink) {
                Some(i) => Err(Error::kink(2 * (k + 1), "ReLU", [i])),
                None => Ok(super::relu_deriv_spec(z)),
            })
            .collect()
    }

    /// The partial products `W_1`, `W_2·D_1·W_1`, …, `W_L·D_{L−1}···D_1·W_1`: row `i` of the
    /// `k`-th is the gradient of `z_k[i]` (of the output for `k = L`) on the current piece.
    pub fn partial_derivs<S: Scalar>(&self, x: &Tensor<S>) -> Result<Vec<Tensor<S>>> {
        let masks = self.masks(x)?;
        let layers = self.layers();
        let mut products: Vec<Tensor<S>> = Vec::with_capacity(layers.len());
        for (k, layer) in layers.iter().enumerate() {
            let w = layer.weight().lifted::<S>();
            let next = match products.last() {
                None => w.into_owned(),
                // D_{k}·(previous product) zeroes the rows of inactive units; then W_{k+1}·that.
                Some(prev) => w.matmul(&scale_rows(prev, &masks[k - 1])?)?,
            };
            products.push(next);
        }
        Ok(products)
    }

    /// `Df(x) = W_L·D_{L−1}·W_{L−1}···D_1·W_1` as an `[out, in]` matrix, in closed form, or
    /// [`Error::Kink`] naming the stage and unit of a zero pre-activation.
    pub fn deriv<S: Scalar>(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(self
            .partial_derivs(x)?
            .pop()
            .expect("one product per layer"))
    }

    /// The exact ℓ∞ kink radius in closed form: on the current piece `z_k[i]` is affine in `x`
    /// with gradient row `i` of `W_k·D_{k−1}···W_1`, so it keeps its sign within
    /// `|z_k[i]| / ‖row‖₁` and reaches zero at that distance; the minimum over all hidden units is
    /// the radius (the argument of [`crate::check::kink_radius`], without dual numbers).
    pub fn kink_radius<S: Scalar>(&self, x: &Tensor<S>) -> Result<DeepKinkRadius<S>> {
        let zs = self.pre_activations(x)?;
        let products = self.partial_derivs(x)?;
        let mut best: Option<(S, usize, usize)> = None;
        for (k, (z, grad)) in zs.iter().zip(&products).enumerate() {
            let n = grad.shape()[1];
            for (i, value) in z.data().iter().enumerate() {
                let norm = grad.data()[i * n..(i + 1) * n]
                    .iter()
                    .fold(S::zero(), |acc, v| acc.add_ref(&v.abs_val()));
                // A unit that does not depend on x on this piece can never reach its kink.
                if let Some(r) = value.abs_val().checked_div(&norm) {
                    if best
                        .as_ref()
                        .is_none_or(|(b, _, _)| r.sub_ref(b).sign() == Ordering::Less)
                    {
                        best = Some((r, 2 * (k + 1), i));
                    }
                }
            }
        }
        Ok(match best {
            Some((r, stage, i)) => DeepKinkRadius {
                radius: Some(r),
                binding: Some((stage, i)),
            },
            None => DeepKinkRadius {
                radius: None,
                binding: None,
            },
        })
    }
}

/// `diag(mask)·m`: row `i` of `m` times `mask[i]`.
fn scale_rows<S: Scalar>(m: &Tensor<S>, mask: &Tensor<S>) -> Result<Tensor<S>> {
    let n = m.shape()[1];
    Tensor::new(
        m.shape().to_vec(),
        m.data()
            .chunks(n.max(1))
            .zip(mask.data())
            .flat_map(|(row, s)| row.iter().map(move |v| s.mul_ref(v)))
            .collect(),
    )
}

delegate_to_composition!(
    DeepMlp,
    |this| this.as_op(),
    name = |this| {
        let widths: Vec<String> = this.widths().iter().map(usize::to_string).collect();
        format!("DeepMLP({})", widths.join("→"))
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::ops::Linear;
    use crate::ops::Op;
    use crate::planted;
    use crate::scalar::{Ring, Q};

    fn layer(w: &[&[i64]], b: &[i64]) -> Linear {
        let rows = w
            .iter()
            .map(|r| r.iter().map(|&v| Q::from_i64(v)).collect())
            .collect();
        Linear::new(
            Tensor::from_rows(rows).unwrap(),
            Tensor::from_vec(b.iter().map(|&v| Q::from_i64(v)).collect()),
        )
        .unwrap()
    }

    #[test]
    fn sizes_that_do_not_chain_name_the_layers() {
        let err = DeepMlp::new(vec![layer(&[&[1, 2]], &[0]), layer(&[&[1, 2]], &[0])]);
        assert_eq!(
            err,
            Err(Error::shape_mismatch(
                "DeepMlp: W2's column count must equal W1's row count",
                vec![1, 2],
                vec![1, 2]
            ))
        );
        assert_eq!(
            DeepMlp::new(vec![]),
            Err(Error::InvalidArgument {
                op: "DeepMlp".into(),
                argument: "layers".into(),
                value: "[]".into(),
                requirement: "at least one layer".into(),
            })
        );
    }

    #[test]
    fn a_kink_in_the_third_hidden_layer_is_named_by_stage_and_unit() {
        // z1 = x = 1 > 0, z2 = 1 > 0, z3 = (1, 1 − 1) has unit 1 at zero: stage 6.
        let net = DeepMlp::new(vec![
            layer(&[&[1]], &[0]),
            layer(&[&[1]], &[0]),
            layer(&[&[1], &[1]], &[0, -1]),
            layer(&[&[1, 1]], &[0]),
        ])
        .unwrap();
        let x = Tensor::from_vec(vec![Q::from_i64(1)]);
        assert_eq!(net.deriv(&x), Err(Error::kink(6, "ReLU", [1])));
        assert_eq!(net.depth(), 7);
    }

    /// `MLP(2→3→2→1)`.
    fn deep() -> DeepMlp {
        let l1 = Linear::new(
            t(&[3, 2], &["1", "-1", "2", "1/2", "-1", "1"]),
            t(&[3], &["0", "1", "-1/2"]),
        );
        let l2 = Linear::new(
            t(&[2, 3], &["1", "2", "-1", "1/3", "-1", "1"]),
            t(&[2], &["1", "0"]),
        );
        let l3 = Linear::new(t(&[1, 2], &["2", "-3"]), t(&[1], &["1/2"]));
        DeepMlp::new(vec![l1.unwrap(), l2.unwrap(), l3.unwrap()]).unwrap()
    }

    #[test]
    fn deep_mlp_passes_and_its_parameter_gradients() {
        assert_passes(&crate::check_op!(deep(), [2], cases(64)), true);
        assert_params_pass(&deep(), t(&[2], &["1", "-1/2"]), 32);
    }

    planted!(MasksDropped(DeepMlp), fn vjp(&m, _x, dy) {
        // Backward through the weights only: the hidden layers' ReLU masks dropped.
        let layers = m.layers();
        layers.iter().rev().try_fold(dy.clone(), |g, l| l.weight().lifted::<S>().transpose_mat_vec_mul(&g))
    });

    #[test]
    fn deep_mlp_branches_through_select() {
        assert_proved(&deep(), &[2]);
        // The closed form too: its kink test asks no sign (the kink radius still compares).
        crate::scalar::symbols::scoped(|| {
            use crate::scalar::symbols::{fresh, take_refusals};
            use crate::scalar::Sym;
            let x = Tensor::from_vec(vec![Sym::symbol(fresh("x0")), Sym::symbol(fresh("x1"))]);
            let net = deep();
            assert_eq!(net.masks(&x).unwrap().len(), 2);
            net.deriv(&x).unwrap();
            assert!(take_refusals().is_empty());
        });
    }

    #[test]
    fn planted_deep_mlp_without_masks() {
        assert_cx(&caught(&MasksDropped(deep()), &[2]), VJP, &[0], "20", "10");
    }
}
