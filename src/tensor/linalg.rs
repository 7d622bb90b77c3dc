//! Linear algebra on tensors: sums, inner products, matrix products. Every method checks shapes
//! and returns [`Error::ShapeMismatch`] with both shapes rather than panicking.

use super::{zero_data, Tensor};
use crate::error::{Error, Result};
use crate::scalar::Ring;

impl<S: Ring> Tensor<S> {
    /// Elementwise `self + other`.
    pub fn add(&self, other: &Tensor<S>) -> Result<Tensor<S>> {
        self.zip_with(other, S::add_ref)
    }

    /// Elementwise `self − other`.
    pub fn sub(&self, other: &Tensor<S>) -> Result<Tensor<S>> {
        self.zip_with(other, S::sub_ref)
    }

    /// Elementwise product (Hadamard).
    pub fn hadamard(&self, other: &Tensor<S>) -> Result<Tensor<S>> {
        self.zip_with(other, S::mul_ref)
    }

    /// `c · self`.
    pub fn scale(&self, c: &S) -> Tensor<S> {
        self.map(|v| c.mul_ref(v))
    }

    /// The Euclidean inner product of the flattened tensors — Lean's `Spec.dot`, equal to
    /// `inner (toVecE a) (toVecE b)` by `dot_eq_inner_vec`. Shapes must agree.
    pub fn dot(&self, other: &Tensor<S>) -> Result<S> {
        self.expect_shape(other.shape(), "dot")?;
        Ok(S::dot(self.data(), other.data()))
    }

    fn matrix_dims(&self, context: &str) -> Result<(usize, usize)> {
        match *self.shape() {
            [m, n] => Ok((m, n)),
            _ => Err(Error::shape_mismatch(
                &format!("{context}: expected a matrix"),
                self.shape().to_vec(),
                vec![],
            )),
        }
    }

    /// `A·v` for a matrix `A` of shape `[m, n]` and a vector of shape `[n]` — Lean's
    /// `mat_vec_mul_spec`.
    pub fn mat_vec_mul(&self, v: &Tensor<S>) -> Result<Tensor<S>> {
        let (m, n) = self.matrix_dims("mat_vec_mul")?;
        v.expect_shape(
            &[n],
            "mat_vec_mul: vector length must equal the matrix's column count",
        )?;
        Ok(Tensor::from_vec(S::mat_vec(self.data(), m, n, v.data())))
    }

    /// `Aᵀ·v` for a matrix `A` of shape `[m, n]` and a vector of shape `[m]`, without forming
    /// the transpose.
    pub fn transpose_mat_vec_mul(&self, v: &Tensor<S>) -> Result<Tensor<S>> {
        let (m, n) = self.matrix_dims("transpose_mat_vec_mul")?;
        v.expect_shape(
            &[m],
            "transpose_mat_vec_mul: vector length must equal the matrix's row count",
        )?;
        Ok(Tensor::from_vec(S::transpose_mat_vec(
            self.data(),
            m,
            n,
            v.data(),
        )))
    }

    /// `W·x + b` — Lean's `Spec.linear_spec`.
    pub fn linear(&self, b: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>> {
        let (m, n) = self.matrix_dims("linear")?;
        x.expect_shape(
            &[n],
            "linear: vector length must equal the matrix's column count",
        )?;
        b.expect_shape(
            &[m],
            "linear: bias length must equal the matrix's row count",
        )?;
        Ok(Tensor::from_vec(S::affine(
            self.data(),
            m,
            n,
            x.data(),
            b.data(),
        )))
    }

    /// The transpose of a matrix.
    pub fn transpose(&self) -> Result<Tensor<S>> {
        let (m, n) = self.matrix_dims("transpose")?;
        let data = (0..n)
            .flat_map(|j| (0..m).map(move |i| (i, j)))
            .map(|(i, j)| self.data()[i * n + j].clone())
            .collect();
        Tensor::new(vec![n, m], data)
    }

    /// The matrix product `self · other`.
    pub fn matmul(&self, other: &Tensor<S>) -> Result<Tensor<S>> {
        let (m, k) = self.matrix_dims("matmul")?;
        let (k2, n) = other.matrix_dims("matmul")?;
        if k != k2 {
            return Err(Error::shape_mismatch(
                "matmul: inner dimensions",
                self.shape().to_vec(),
                other.shape().to_vec(),
            ));
        }
        Tensor::new(vec![m, n], S::matmul(self.data(), m, k, other.data(), n))
    }

    /// The outer product `u·vᵀ` of two vectors, shape `[len u, len v]`.
    pub fn outer(&self, v: &Tensor<S>) -> Tensor<S> {
        Tensor::raw(vec![self.len(), v.len()], S::outer(self.data(), v.data()))
    }

    /// The square matrix with `self` (flattened) on its diagonal; [`Error::SizeOverflow`] when
    /// `len × len` does not fit (see [`Tensor::zeros`]).
    pub fn diag(&self) -> Result<Tensor<S>> {
        let n = self.len();
        let mut data = zero_data::<S>(&[n, n])?;
        for (i, v) in self.data().iter().enumerate() {
            data[i * n + i] = v.clone();
        }
        Ok(Tensor::raw(vec![n, n], data))
    }

    /// The `n × n` identity matrix; [`Error::SizeOverflow`] when `n × n` does not fit, found
    /// before the diagonal is allocated.
    pub fn identity(n: usize) -> Result<Tensor<S>> {
        let mut data = zero_data::<S>(&[n, n])?;
        for i in 0..n {
            data[i * n + i] = S::one();
        }
        Ok(Tensor::raw(vec![n, n], data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar::Q;

    fn t(shape: &[usize], vals: &[i64]) -> Tensor<Q> {
        Tensor::new(
            shape.to_vec(),
            vals.iter().map(|&v| Q::from_integer(v.into())).collect(),
        )
        .unwrap()
    }

    #[test]
    fn products_agree_with_hand_computation() {
        let a = t(&[2, 3], &[1, 2, 3, 4, 5, 6]);
        let v = t(&[3], &[1, 0, -1]);
        assert_eq!(a.mat_vec_mul(&v).unwrap(), t(&[2], &[-2, -2]));
        assert_eq!(a.transpose().unwrap(), t(&[3, 2], &[1, 4, 2, 5, 3, 6]));
        let ata = a.transpose().unwrap().matmul(&a).unwrap();
        assert_eq!(ata, t(&[3, 3], &[17, 22, 27, 22, 29, 36, 27, 36, 45]));
        assert_eq!(Tensor::<Q>::identity(2).unwrap().matmul(&a).unwrap(), a);
        assert_eq!(v.dot(&v).unwrap(), Q::from_integer(2.into()));
        assert_eq!(
            v.outer(&t(&[2], &[1, 2])),
            t(&[3, 2], &[1, 2, 0, 0, -1, -2])
        );
    }

    #[test]
    fn shape_errors_name_both_shapes() {
        let a = t(&[2, 3], &[1, 2, 3, 4, 5, 6]);
        let err = a.mat_vec_mul(&t(&[2], &[1, 1])).unwrap_err();
        assert!(
            matches!(err, Error::ShapeMismatch { ref left, ref right, .. } if left == &[2] && right == &[3])
        );
        assert!(a.matmul(&a).is_err());
        assert!(a.dot(&t(&[3], &[1, 1, 1])).is_err());
        assert!(matches!(
            Tensor::new(vec![2, 2], vec![Q::from_integer(1.into())]),
            Err(Error::DataLength {
                expected: 4,
                got: 1,
                ..
            })
        ));
        assert!(matches!(a.get2(2, 0), Err(Error::Index { .. })));
    }
}
