//! Constant tensors of a model (initializers, `Constant` nodes) read exactly.

use super::error::OnnxError;
use super::proto::TensorProto;
use crate::scalar::Q;
use crate::tensor::Tensor;

/// The most values one constant may hold (2³¹): a lying shape is an error before allocating.
pub const MAX_VALUES: usize = 1 << 31;

/// A constant's values: floats as exact rationals, integers as integers (shapes, axes, indices).
#[derive(Clone, Debug, PartialEq)]
pub enum Constant {
    /// A float tensor (float, double, float16, bfloat16), each value the dyadic rational it is.
    Float(Tensor<Q>),
    /// An integer tensor (int32, int64): its shape and values.
    Int(Vec<usize>, Vec<i64>),
}

impl Constant {
    /// The shape.
    pub fn shape(&self) -> &[usize] {
        match self {
            Constant::Float(t) => t.shape(),
            Constant::Int(s, _) => s,
        }
    }
}

/// `DataType` codes.
const FLOAT: i32 = 1;
const INT32: i32 = 6;
const INT64: i32 = 7;
const FLOAT16: i32 = 10;
const DOUBLE: i32 = 11;
const BFLOAT16: i32 = 16;

/// Reads `t` (named `name` in errors) exactly.
pub fn constant(name: &str, t: &TensorProto) -> Result<Constant, OnnxError> {
    if t.data_location == Some(1) {
        return Err(OnnxError::ExternalData {
            tensor: name.into(),
        });
    }
    let shape = t
        .dims
        .iter()
        .map(|&d| usize::try_from(d).ok())
        .collect::<Option<Vec<usize>>>();
    // `element_count`, not a running product: with a zero dimension the product is 0 even when
    // the other dimensions overflow, which `Tensor::new` refuses (found by fuzzing).
    let count = shape.as_ref().and_then(|s| {
        crate::tensor::element_count(s)
            .ok()
            .filter(|&n| n <= MAX_VALUES)
    });
    let data_type = t.data_type.unwrap_or(0);
    let raw = t.raw_data.as_deref();
    let width = match data_type {
        FLOAT | INT32 => 4,
        INT64 | DOUBLE => 8,
        FLOAT16 | BFLOAT16 => 2,
        _ => {
            return Err(OnnxError::DataType {
                tensor: name.into(),
                data_type,
            })
        }
    };
    let found = match raw {
        Some(bytes) => bytes.len() / width + usize::from(bytes.len() % width != 0),
        None => match data_type {
            FLOAT => t.float_data.len(),
            DOUBLE => t.double_data.len(),
            INT64 => t.int64_data.len(),
            _ => t.int32_data.len(),
        },
    };
    let (Some(shape), Some(count)) = (shape, count) else {
        return Err(OnnxError::TensorData {
            tensor: name.into(),
            shape: t.dims.clone(),
            expected: "more than 2³¹".into(),
            found,
        });
    };
    if found != count || raw.is_some_and(|b| b.len() != count * width) {
        return Err(OnnxError::TensorData {
            tensor: name.into(),
            shape: t.dims.clone(),
            expected: count.to_string(),
            found,
        });
    }
    let chunks = |w: usize| raw.unwrap_or_default().chunks_exact(w);
    let floats: Vec<f64> = match (data_type, raw.is_some()) {
        (INT64, true) => {
            let v = chunks(8).map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")));
            return Ok(Constant::Int(shape, v.collect()));
        }
        (INT64, false) => return Ok(Constant::Int(shape, t.int64_data.clone())),
        (INT32, true) => {
            let v = chunks(4).map(|c| i64::from(i32::from_le_bytes(c.try_into().expect("4"))));
            return Ok(Constant::Int(shape, v.collect()));
        }
        (INT32, false) => {
            return Ok(Constant::Int(
                shape,
                t.int32_data.iter().map(|&v| i64::from(v)).collect(),
            ))
        }
        (FLOAT, true) => chunks(4)
            .map(|c| f64::from(f32::from_le_bytes(c.try_into().expect("4 bytes"))))
            .collect(),
        (FLOAT, false) => t.float_data.iter().map(|&v| f64::from(v)).collect(),
        (DOUBLE, true) => chunks(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect(),
        (DOUBLE, false) => t.double_data.clone(),
        (FLOAT16, true) => chunks(2)
            .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f64())
            .collect(),
        (FLOAT16, false) => t
            .int32_data
            .iter()
            .map(|&bits| half::f16::from_bits(bits as u16).to_f64())
            .collect(),
        (_, true) => chunks(2)
            .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f64())
            .collect(),
        (_, false) => t
            .int32_data
            .iter()
            .map(|&bits| half::bf16::from_bits(bits as u16).to_f64())
            .collect(),
    };
    let floats = Tensor::new(shape, floats).expect("the count was checked against the shape");
    let mut data = Vec::with_capacity(floats.len());
    for (k, v) in floats.data().iter().enumerate() {
        match Q::from_float(*v) {
            Some(q) => data.push(q),
            None => {
                return Err(OnnxError::NotFinite {
                    tensor: name.into(),
                    coordinate: floats.multi_index(k),
                    value: v.to_string(),
                })
            }
        }
    }
    Ok(Constant::Float(
        Tensor::new(floats.shape().to_vec(), data).expect("as many values as before"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proto(data_type: i32, dims: Vec<i64>, raw: Vec<u8>) -> TensorProto {
        TensorProto {
            dims,
            data_type: Some(data_type),
            raw_data: Some(raw),
            ..Default::default()
        }
    }

    #[test]
    fn float_types_are_read_exactly() {
        let f32s: Vec<u8> = [0.1f32, -2.5]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let Constant::Float(t) = constant("w", &proto(FLOAT, vec![2], f32s)).unwrap() else {
            panic!("a float tensor")
        };
        // 0.1f32 is 13421773/2²⁷ exactly.
        assert_eq!(t.data()[0].to_string(), "13421773/134217728");
        assert_eq!(t.data()[1].to_string(), "-5/2");
        let h = half::f16::from_f32(0.333).to_le_bytes().to_vec();
        let Constant::Float(t) = constant("h", &proto(FLOAT16, vec![], h)).unwrap() else {
            panic!("a float tensor")
        };
        assert_eq!(t.data()[0].to_string(), "341/1024");
    }

    #[test]
    fn non_finite_values_and_bad_lengths_are_named() {
        let bytes: Vec<u8> = [1.0f64, f64::NAN]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let e = constant("fc.weight", &proto(DOUBLE, vec![1, 2], bytes)).unwrap_err();
        assert_eq!(
            e,
            OnnxError::NotFinite {
                tensor: "fc.weight".into(),
                coordinate: vec![0, 1],
                value: "NaN".into()
            }
        );
        let e = constant("b", &proto(FLOAT, vec![3], vec![0; 8])).unwrap_err();
        assert!(matches!(e, OnnxError::TensorData { found: 2, .. }));
        let e = constant("big", &proto(FLOAT, vec![1 << 40, 1 << 40], vec![])).unwrap_err();
        assert!(matches!(e, OnnxError::TensorData { .. }));
        let e = constant("s", &proto(8, vec![1], vec![])).unwrap_err();
        assert!(matches!(e, OnnxError::DataType { data_type: 8, .. }));
    }
}
