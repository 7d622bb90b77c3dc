//! Shared test helpers: the proptest configuration and rules with planted bugs.
#![allow(dead_code)] // each module uses a different subset

use exactgrad::ops::{Guard, Linear, Relu};
use exactgrad::{Op, OpSpec, Result, Scalar, Tensor, Q};
use num_bigint::BigInt;
use proptest::test_runner::Config;

/// 1,000 cases per property unless `PROPTEST_CASES` says otherwise.
pub fn config() -> Config {
    let mut config = Config::default();
    if std::env::var("PROPTEST_CASES").is_err() {
        config.cases = 1000;
    }
    config
}

/// An exact rational from a literal.
pub fn q(s: &str) -> Q {
    exactgrad::parse_q(s).unwrap()
}

/// A tensor from literals.
pub fn t(shape: &[usize], lits: &[&str]) -> Tensor<Q> {
    Tensor::parse(shape.to_vec(), lits).unwrap()
}

/// `2⁻ᵏ` exactly.
pub fn two_pow_neg(k: u32) -> Q {
    Q::new(BigInt::from(1), BigInt::from(2).pow(k))
}

/// Planted bug: the Linear VJP without the transpose (`W·δ` instead of `Wᵀ·δ`).
#[derive(Clone, Debug)]
pub struct LinearNoTranspose(pub Linear);

impl Op for LinearNoTranspose {
    fn name(&self) -> String {
        "Linear without transpose".into()
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.0.output_shape(input)
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
}

impl<S: Scalar> OpSpec<S> for LinearNoTranspose {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        self.0.forward(x)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        self.0.jvp(x, dx)
    }
    fn vjp(&self, _x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        self.0.weight().lift::<S>().mat_vec_mul(dy)
    }
}

/// Planted bug: the ReLU mask taken from the output side with `≥`: `relu(x) ≥ 0` holds
/// everywhere, so negative inputs pass their gradient through.
#[derive(Clone, Copy, Debug)]
pub struct ReluMaskFromOutput;

impl Op for ReluMaskFromOutput {
    fn name(&self) -> String {
        "ReLU with mask relu(x) ≥ 0".into()
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
}

impl<S: Scalar> OpSpec<S> for ReluMaskFromOutput {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        Relu.forward(x)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        Relu.jvp(x, dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let y = Relu.forward(x)?;
        let mask = y.map(|v| {
            if v.sign() == std::cmp::Ordering::Less {
                S::zero()
            } else {
                S::one()
            }
        });
        mask.hadamard(dy)
    }
    fn guards(&self, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
        Relu.guards(x)
    }
}

/// Planted bug: `inner`'s VJP with `offset` added to one flat coordinate of the result.
#[derive(Clone, Debug)]
pub struct VjpOffBy<O> {
    pub inner: O,
    pub coordinate: usize,
    pub offset: Q,
}

impl<O: Op> Op for VjpOffBy<O> {
    fn name(&self) -> String {
        format!(
            "{} with vjp off by {} at {}",
            self.inner.name(),
            self.offset,
            self.coordinate
        )
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.inner.output_shape(input)
    }
    fn is_piecewise_linear(&self) -> bool {
        self.inner.is_piecewise_linear()
    }
    fn depth(&self) -> usize {
        self.inner.depth()
    }
}

impl<S: Scalar, O: OpSpec<S>> OpSpec<S> for VjpOffBy<O> {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        self.inner.forward(x)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        self.inner.jvp(x, dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let mut data = self.inner.vjp(x, dy)?.into_data();
        data[self.coordinate] = data[self.coordinate].add_ref(&S::from_q(&self.offset));
        Tensor::new(x.shape().to_vec(), data)
    }
    fn guards(&self, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
        self.inner.guards(x)
    }
}
