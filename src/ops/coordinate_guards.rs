//! The kink rule shared by ops that switch piece where an input coordinate crosses 0.

use super::Guard;
use crate::tensor::Tensor;

/// One guard per input coordinate, valued at the coordinate: the kinks of ops that switch piece
/// where an input crosses 0 (ReLU-like, abs).
pub(crate) fn coordinate_guards<S: Clone>(x: &Tensor<S>, op: &str) -> Vec<Guard<S>> {
    (0..x.len())
        .map(|k| Guard {
            layer: 1,
            op: op.to_string(),
            coordinate: x.multi_index(k),
            value: x.data()[k].clone(),
        })
        .collect()
}
