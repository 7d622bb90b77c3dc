//! Seeding a tensor for forward mode. It lives with the tensor rather than with [`Jet`], so that
//! the scalar layer never imports the tensor layer built on top of it.

use super::Tensor;
use crate::error::Error;
use crate::scalar::kernels::{remembered, Memo};
use crate::scalar::{Jet, Ring};

impl<S: Ring> Jet<S> {
    /// `x` seeded with the identity: coordinate `k` (flattened) gets the row `e_k`, so that
    /// `f(seed(x))` carries the Jacobian of `f` at `x` in its rows.
    ///
    /// Inside [`crate::scalar::with_kernel_cache`] the seed of a tensor is made once and shared:
    /// a check seeds the same point for the Jacobian and for the kink radius, and a shared seed
    /// (one id) lets the layers' remembered outputs serve the second pass.
    pub fn seed(x: &Tensor<S>) -> Result<Tensor<Self>, Error>
    where
        S: 'static,
    {
        let seeded = || {
            let width = x.len();
            let data = x
                .data()
                .iter()
                .enumerate()
                .map(|(k, v)| Jet::variable(v.clone(), k, width))
                .collect();
            Tensor::new(x.shape().to_vec(), data)
        };
        match remembered(Memo::Seeded, &[x.id()], seeded) {
            Some(memo) => memo.as_ref().clone(),
            None => seeded(),
        }
    }
}
