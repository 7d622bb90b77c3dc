//! How contributions to one slot combine: the chain rule sums what every use of a value (or of a
//! shared parameter) sends back.

use crate::error::Result;
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// How a cotangent contribution is combined with what a slot (a node's cotangent, or a shared
/// op's parameter gradient) already holds.
///
/// The chain rule for a value used `k` times says the contributions add up; [`FanInSum`] does
/// that. The trait exists so that a test can plant the classic bug (the last contribution
/// overwrites the earlier ones) and check that the exact checks reject it.
pub trait Accumulate<S: Scalar> {
    /// Combines `contribution` into `slot` (`None` when nothing arrived yet).
    fn accumulate(&self, slot: &mut Option<Tensor<S>>, contribution: Tensor<S>) -> Result<()>;
}

/// The correct policy: contributions are summed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FanInSum;

impl<S: Scalar> Accumulate<S> for FanInSum {
    fn accumulate(&self, slot: &mut Option<Tensor<S>>, contribution: Tensor<S>) -> Result<()> {
        *slot = Some(match slot.take() {
            None => contribution,
            Some(sum) => sum.add(&contribution)?,
        });
        Ok(())
    }
}
