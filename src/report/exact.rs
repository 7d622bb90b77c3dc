//! Exact values for serde: a rational as its `"p/q"` string, a tensor as its shape beside its
//! row-major data, so that every rank keeps its shape and no value passes through a float.

use crate::scalar::{exact_string, Q};
use crate::tensor::Tensor;
use serde::ser::{Serialize, SerializeSeq, SerializeStruct, Serializer};

/// A rational serialised as `"p/q"`, integers included (`"3/1"`), so every value has one form.
#[derive(Clone, Copy, Debug)]
pub struct ExactQ<'a>(pub &'a Q);

impl Serialize for ExactQ<'_> {
    fn serialize<Z: Serializer>(&self, s: Z) -> Result<Z::Ok, Z::Error> {
        s.serialize_str(&exact_string(self.0))
    }
}

/// A tensor serialised as `{"shape": [d0, d1, …], "data": ["p/q", …]}`, the data row-major
/// (the last index fastest), whatever the rank.
#[derive(Clone, Copy, Debug)]
pub struct ExactTensor<'a>(pub &'a Tensor<Q>);

/// The data of a tensor as a sequence of `"p/q"`, written one value at a time (a 784 × 512
/// weight is 400,000 strings, never held at once).
struct ExactData<'a>(&'a [Q]);

impl Serialize for ExactData<'_> {
    fn serialize<Z: Serializer>(&self, s: Z) -> Result<Z::Ok, Z::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for v in self.0 {
            seq.serialize_element(&ExactQ(v))?;
        }
        seq.end()
    }
}

impl Serialize for ExactTensor<'_> {
    fn serialize<Z: Serializer>(&self, s: Z) -> Result<Z::Ok, Z::Error> {
        let mut t = s.serialize_struct("Tensor", 2)?;
        t.serialize_field("shape", self.0.shape())?;
        t.serialize_field("data", &ExactData(self.0.data()))?;
        t.end()
    }
}

/// A list of tensors (one per layer), each as [`ExactTensor`].
pub(crate) fn exact_tensors(ts: &[Tensor<Q>]) -> Vec<ExactTensor<'_>> {
    ts.iter().map(ExactTensor).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rank_keeps_its_shape_and_every_value_is_p_over_q() {
        let t = Tensor::parse(vec![2, 1, 2], &["1", "-1/2", "0", "7/3"]).unwrap();
        let v = serde_json::to_value(ExactTensor(&t)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"shape": [2, 1, 2], "data": ["1/1", "-1/2", "0/1", "7/3"]})
        );
        let s = Tensor::parse(vec![], &["5/6"]).unwrap();
        let v = serde_json::to_value(ExactTensor(&s)).unwrap();
        assert_eq!(v, serde_json::json!({"shape": [], "data": ["5/6"]}));
    }
}
