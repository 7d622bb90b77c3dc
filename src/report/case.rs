//! What one run of the theorem checks: a network (2-layer or deep), a point and a cotangent,
//! whether drawn from a seed ([`super::random_example`]) or read from a file
//! ([`super::read_weights`]).

use crate::ops::{DeepMlp, Mlp};
use crate::scalar::Q;
use crate::tensor::Tensor;

/// The network of a [`Case`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Network {
    /// Linear → ReLU → Linear, checked by [`crate::check::mlp_theorem`].
    Mlp(Mlp),
    /// Any depth, checked by [`crate::check::deep_mlp_theorem`].
    Deep(DeepMlp),
}

impl Network {
    /// The widths `[n_0, …, n_L]`: input, hidden sizes, output.
    pub fn widths(&self) -> Vec<usize> {
        match self {
            Network::Mlp(m) => {
                let (n, h, o) = m.dims();
                vec![n, h, o]
            }
            Network::Deep(d) => d.widths(),
        }
    }
}

/// A network, the point `x` and the cotangent `δ` at which its theorem is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// The network.
    pub network: Network,
    /// The point, `[n_0]`.
    pub x: Tensor<Q>,
    /// The cotangent, `[n_L]`.
    pub delta: Tensor<Q>,
}
