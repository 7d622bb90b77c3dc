//! The reference page's theorem for all inputs and weights: `backward(x, δ) = mlpDeriv(x)ᵀ·δ`
//! with every weight, bias, input and cotangent a symbol, for the 2-layer and the deep MLP.

use super::op::{prove_all_weights, ClosedForm, ProveConfig};
use super::Certificate;
use crate::check::{deep_mlp_theorem, mlp_theorem};
use crate::error::{Error, Result};
use crate::ops::{DeepMlp, Linear, Mlp};
use crate::scalar::Q;
use crate::tensor::Tensor;

/// Proves Lean's theorem for `Linear(n→h) → ReLU → Linear(h→m)` with `dims = [n, h, m]`, for
/// every input, weight, bias and cotangent: the composed rules' `backward(x, δ)` equals
/// `mlpDeriv(x)ᵀ·δ` with `mlpDeriv(x) = W2·diag(m)·W1` (one mask symbol per hidden unit), the
/// closed form equals the forward-mode derivative, the rules are adjoint, and the parameter
/// gradients are right — all as polynomial identities, so in every activation pattern at once.
///
/// ```
/// let certificate = exactgrad::prove::prove_mlp_theorem(&[2, 3, 2], &Default::default()).unwrap();
/// assert_eq!(certificate.symbols.masks, 3);
/// assert!(certificate.statement.iter().any(|s| s == "backward(x, δ) = mlpDeriv(x)ᵀ·δ"));
/// ```
pub fn prove_mlp_theorem(dims: &[usize], config: &ProveConfig) -> Result<Certificate> {
    let [n, h, m] = sizes::<3>(dims)?;
    within_budget(dims, config)?;
    let zeros = zero_weights(&[vec![h, n], vec![h], vec![m, h], vec![m]])?;
    let template = Mlp::new(
        zeros[0].clone(),
        zeros[1].clone(),
        zeros[2].clone(),
        zeros[3].clone(),
    )?;
    let rebuild =
        |p: &[Tensor<Q>]| Mlp::new(p[0].clone(), p[1].clone(), p[2].clone(), p[3].clone());
    let closed = ClosedForm {
        name: "mlpDeriv(x)",
        deriv: &|mlp: &Mlp, x| mlp.deriv(x),
        recheck: &|mlp: &Mlp, x, dy| mlp_theorem(mlp, x, dy).map(|_| ()),
    };
    prove_all_weights(&template, rebuild, &[n], config, Some(&closed))
}

/// [`prove_mlp_theorem`] for the deep MLP `Linear → ReLU → … → Linear` with layer sizes `dims`
/// (`[in, h₁, …, out]`, at least two layers): `backward(x, δ) = Df(x)ᵀ·δ` with the closed form
/// `Df(x) = W_L·D_{L−1}···D_1·W_1`.
pub fn prove_deep_mlp_theorem(dims: &[usize], config: &ProveConfig) -> Result<Certificate> {
    if dims.len() < 3 || dims.contains(&0) {
        return Err(bad_dims(
            dims,
            "at least three sizes (two layers), none zero",
        ));
    }
    within_budget(dims, config)?;
    let layers = |p: &[Tensor<Q>]| -> Result<DeepMlp> {
        let layers = p
            .chunks(2)
            .map(|wb| Linear::new(wb[0].clone(), wb[1].clone()))
            .collect::<Result<Vec<_>>>()?;
        DeepMlp::new(layers)
    };
    let shapes: Vec<Vec<usize>> = dims
        .windows(2)
        .flat_map(|w| [vec![w[1], w[0]], vec![w[1]]])
        .collect();
    let zeros = zero_weights(&shapes)?;
    let template = layers(&zeros)?;
    let closed = ClosedForm {
        name: "deepDeriv(x)",
        deriv: &|net: &DeepMlp, x| net.deriv(x),
        recheck: &|net: &DeepMlp, x, dy| deep_mlp_theorem(net, x, dy).map(|_| ()),
    };
    prove_all_weights(&template, layers, &dims[..1], config, Some(&closed))
}

/// [`Error::OverBudget`] when the estimate for `dims` exceeds the configured budget.
fn within_budget(dims: &[usize], config: &ProveConfig) -> Result<()> {
    let task = format!("prove the MLP theorem for sizes {dims:?}");
    config
        .budget
        .admit(&task, &crate::budget::proof_estimate(dims))
}

/// Zero tensors of `shapes`, every element count checked before any is allocated: with an
/// unlimited budget, sizes whose weight count overflows are refused at once instead of after
/// allocating the layers before them.
fn zero_weights(shapes: &[Vec<usize>]) -> Result<Vec<Tensor<Q>>> {
    for shape in shapes {
        crate::tensor::element_count(shape)?;
    }
    shapes.iter().map(|shape| Tensor::zeros(shape)).collect()
}

fn sizes<const N: usize>(dims: &[usize]) -> Result<[usize; N]> {
    match <[usize; N]>::try_from(dims) {
        Ok(d) if !d.contains(&0) => Ok(d),
        _ => Err(bad_dims(dims, "three sizes [in, hidden, out], none zero")),
    }
}

fn bad_dims(dims: &[usize], requirement: &str) -> Error {
    Error::InvalidArgument {
        op: "prove".into(),
        argument: "dims".into(),
        value: format!("{dims:?}"),
        requirement: requirement.into(),
    }
}
