//! 2-D convolution (cross-correlation, as in every framework) with stride and zero padding.

use super::params::{join_params, split_params};
use super::{Op, OpSpec, Param};
use crate::error::{Error, Result};
use crate::scalar::{Scalar, Q};
use crate::tensor::Tensor;

/// `y[o, r, c] = b[o] + Σ_{i,p,q} W[o, i, p, q] · x̃[i, r·s_h + p − p_h, c·s_w + q − p_w]` for an
/// input `x` of shape `[c_in, H, W]` (one sample, no batch axis),
/// weights `W` `[c_out, c_in, k_h, k_w]`, bias `b` `[c_out]`, where
/// `x̃` is `x` padded with zeros. Output `[c_out, (H + 2p_h − k_h)/s_h + 1, …]`.
///
/// Rules: `jvp = conv(W, dx)` (no bias: the op is affine), `vjp` = the transposed convolution
/// scattering `δ` back through the same windows (entries in the padding are dropped). With
/// respect to the parameters (flattened as `W` row-major, then `b`):
/// `∂W[o,i,p,q] = Σ_{r,c} δ[o,r,c]·x̃[i, r·s_h + p − p_h, c·s_w + q − p_w]`, `∂b[o] = Σ δ[o]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conv2d {
    w: Tensor<Q>,
    b: Tensor<Q>,
    stride: (usize, usize),
    padding: (usize, usize),
}

/// Every size of one convolution.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Geometry {
    cin: usize,
    cout: usize,
    kh: usize,
    kw: usize,
    h: usize,
    w: usize,
    sh: usize,
    sw: usize,
    ph: usize,
    pw: usize,
    ho: usize,
    wo: usize,
}

impl Geometry {
    /// Calls `f(out_offset, in_offset, weight_offset)` for every product in the convolution sum
    /// that does not fall in the padding.
    fn for_each(&self, mut f: impl FnMut(usize, usize, usize)) {
        for o in 0..self.cout {
            for r in 0..self.ho {
                for c in 0..self.wo {
                    let out = (o * self.ho + r) * self.wo + c;
                    for i in 0..self.cin {
                        for p in 0..self.kh {
                            let Some(row) = (r * self.sh + p).checked_sub(self.ph) else {
                                continue;
                            };
                            if row >= self.h {
                                continue;
                            }
                            for q in 0..self.kw {
                                let Some(col) = (c * self.sw + q).checked_sub(self.pw) else {
                                    continue;
                                };
                                if col >= self.w {
                                    continue;
                                }
                                let input = (i * self.h + row) * self.w + col;
                                let weight = ((o * self.cin + i) * self.kh + p) * self.kw + q;
                                f(out, input, weight);
                            }
                        }
                    }
                }
            }
        }
    }

    fn out_shape(&self) -> Vec<usize> {
        vec![self.cout, self.ho, self.wo]
    }

    fn in_shape(&self) -> Vec<usize> {
        vec![self.cin, self.h, self.w]
    }

    fn out_len(&self) -> usize {
        self.cout * self.ho * self.wo
    }
}

/// The convolution sum of weights `w` and input `x` (no bias), raw row-major data.
fn correlate<S: Scalar>(g: &Geometry, w: &[S], x: &[S]) -> Vec<S> {
    let mut out = vec![S::zero(); g.out_len()];
    g.for_each(|o, i, k| out[o] = out[o].add_ref(&w[k].mul_ref(&x[i])));
    out
}

impl Conv2d {
    /// A convolution from weights `[c_out, c_in, k_h, k_w]`, bias `[c_out]`, stride
    /// `(s_h, s_w)` (each ≥ 1) and zero padding `(p_h, p_w)`; a typed error otherwise.
    pub fn new(
        w: Tensor<Q>,
        b: Tensor<Q>,
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> Result<Self> {
        match *w.shape() {
            [cout, _, kh, kw] if b.shape() == [cout] && kh > 0 && kw > 0 => {}
            _ => {
                return Err(Error::shape_mismatch(
                    "Conv2d::new: W must be [c_out, c_in, k_h, k_w] (k ≥ 1) and b [c_out]",
                    w.shape().to_vec(),
                    b.shape().to_vec(),
                ))
            }
        }
        if stride.0 == 0 || stride.1 == 0 {
            return Err(Error::InvalidArgument {
                op: "Conv2d".into(),
                argument: "stride".into(),
                value: format!("{stride:?}"),
                requirement: "at least 1 in both dimensions".into(),
            });
        }
        Ok(Conv2d {
            w,
            b,
            stride,
            padding,
        })
    }

    /// The weights `[c_out, c_in, k_h, k_w]`.
    pub fn weight(&self) -> &Tensor<Q> {
        &self.w
    }

    /// The bias `[c_out]`.
    pub fn bias(&self) -> &Tensor<Q> {
        &self.b
    }

    pub(crate) fn geometry(&self, input: &[usize]) -> Result<Geometry> {
        let ws = self.w.shape();
        let (cout, cin, kh, kw) = (ws[0], ws[1], ws[2], ws[3]);
        let ((sh, sw), (ph, pw)) = (self.stride, self.padding);
        let [c, h, w] = *input else {
            return Err(self.bad_input(input));
        };
        // A padding near usize::MAX wrapped `h + 2·p` in release builds to a size below the
        // kernel's, and the output was the bias alone: every size is computed checked.
        let overflow = |quantity| Error::SizeOverflow {
            op: self.name(),
            quantity,
            shape: input.to_vec(),
        };
        let padded_h = ph
            .checked_mul(2)
            .and_then(|p| p.checked_add(h))
            .ok_or_else(|| overflow("H + 2·p_h"))?;
        let padded_w = pw
            .checked_mul(2)
            .and_then(|p| p.checked_add(w))
            .ok_or_else(|| overflow("W + 2·p_w"))?;
        if c != cin || padded_h < kh || padded_w < kw {
            return Err(self.bad_input(input));
        }
        let (ho, wo) = ((padded_h - kh) / sh + 1, (padded_w - kw) / sw + 1);
        let g = Geometry {
            cin,
            cout,
            kh,
            kw,
            h,
            w,
            sh,
            sw,
            ph,
            pw,
            ho,
            wo,
        };
        // The offsets of `for_each` are below these counts, so they do not overflow either.
        crate::tensor::element_count(&g.out_shape()).map_err(|_| overflow("output size"))?;
        crate::tensor::element_count(&g.in_shape()).map_err(|_| overflow("input size"))?;
        Ok(g)
    }

    fn bad_input(&self, input: &[usize]) -> Error {
        Error::shape_mismatch(
            &format!(
                "{}: input must be [c_in, H, W] with the padded input at least the kernel (input, W)",
                self.name()
            ),
            input.to_vec(),
            self.w.shape().to_vec(),
        )
    }

    /// The parameters split back into `(W, b)`.
    fn split<S: Clone>(&self, params: &Tensor<S>) -> Result<(Tensor<S>, Tensor<S>)> {
        let mut parts = split_params(params, &[self.w.shape(), self.b.shape()])?.into_iter();
        match (parts.next(), parts.next()) {
            (Some(w), Some(b)) => Ok((w, b)),
            _ => unreachable!("two shapes give two parts"),
        }
    }

    fn with_bias<S: Scalar>(g: &Geometry, mut y: Vec<S>, b: &[S]) -> Result<Tensor<S>> {
        let per = g.ho * g.wo;
        for (k, v) in y.iter_mut().enumerate() {
            *v = v.add_ref(&b[k / per]);
        }
        Tensor::new(g.out_shape(), y)
    }
}

impl Op for Conv2d {
    fn name(&self) -> String {
        let ws = self.w.shape();
        format!(
            "Conv2d({}→{}, kernel {}×{}, stride {:?}, padding {:?})",
            ws[1], ws[0], ws[2], ws[3], self.stride, self.padding
        )
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(self.geometry(input)?.out_shape())
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
    fn params(&self) -> Vec<Param<'_>> {
        vec![
            Param::new(self, "weight", &self.w),
            Param::new(self, "bias", &self.b),
        ]
    }
}

/// Parameters: `W` row-major, then `b`.
impl<S: Scalar> OpSpec<S> for Conv2d {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let g = self.geometry(x.shape())?;
        let (w, b) = (self.w.lifted::<S>(), self.b.lifted::<S>());
        Self::with_bias(&g, correlate(&g, w.data(), x.data()), b.data())
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        let g = self.geometry(x.shape())?;
        dx.expect_shape(x.shape(), "Conv2d jvp: dx")?;
        let w = self.w.lifted::<S>();
        Tensor::new(g.out_shape(), correlate(&g, w.data(), dx.data()))
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let g = self.geometry(x.shape())?;
        dy.expect_shape(&g.out_shape(), "Conv2d vjp: δ")?;
        let w = self.w.lifted::<S>();
        let (w, d) = (w.data(), dy.data());
        let mut dx = vec![S::zero(); x.len()];
        g.for_each(|o, i, k| dx[i] = dx[i].add_ref(&w[k].mul_ref(&d[o])));
        Tensor::new(g.in_shape(), dx)
    }
    fn forward_with_params(&self, params: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>> {
        let g = self.geometry(x.shape())?;
        let (w, b) = self.split(params)?;
        Self::with_bias(&g, correlate(&g, w.data(), x.data()), b.data())
    }
    fn jvp_params(&self, x: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>> {
        self.forward_with_params(dparams, x)
    }
    fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let g = self.geometry(x.shape())?;
        dy.expect_shape(&g.out_shape(), "Conv2d vjp_params: δ")?;
        let (xs, d) = (x.data(), dy.data());
        let mut dw = vec![S::zero(); self.w.len()];
        g.for_each(|o, i, k| dw[k] = dw[k].add_ref(&xs[i].mul_ref(&d[o])));
        let per = g.ho * g.wo;
        let db = (0..g.cout)
            .map(|o| {
                d[o * per..(o + 1) * per]
                    .iter()
                    .fold(S::zero(), |a, v| a.add_ref(v))
            })
            .collect();
        Ok(join_params(&[
            &Tensor::new(self.w.shape().to_vec(), dw)?,
            &Tensor::from_vec(db),
        ]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    #[test]
    fn conv2d_passes_with_stride_and_padding_and_its_parameter_gradients() {
        let w = t(
            &[2, 1, 2, 2],
            &["1", "-2", "1/3", "3", "0", "1", "-1", "1/2"],
        );
        let op = Conv2d::new(w, t(&[2], &["1/2", "-1"]), (2, 1), (1, 0)).unwrap();
        assert_passes(&crate::check_op!(op, [1, 3, 3], cases(16)), true);
        let x = t(
            &[1, 3, 3],
            &["1", "-1", "2", "0", "1/2", "3", "-2", "1", "1/4"],
        );
        assert_params_pass(&op, x, 16);
        let two_in = Conv2d::new(
            t(&[1, 2, 1, 2], &["1", "2", "-1", "1/2"]),
            t(&[1], &["0"]),
            (1, 1),
            (0, 0),
        );
        assert_passes(
            &crate::check_op!(two_in.unwrap(), [2, 2, 2], cases(16)),
            true,
        );
    }

    #[test]
    fn conv2d_with_stride_and_padding_is_exact() {
        // One channel, kernel [[1, 2], [3, 4]], bias 1/2, stride 2, padding 1 on a 3×3 input:
        // output 2×2, each entry a window of the zero-padded input.
        let w = t(&[1, 1, 2, 2], &["1", "2", "3", "4"]);
        let op = Conv2d::new(w, t(&[1], &["1/2"]), (2, 2), (1, 1)).unwrap();
        let x = t(&[1, 3, 3], &["1", "2", "3", "4", "5", "6", "7", "8", "9"]);
        // y[0,0] = 4·1 + 1/2; y[0,1] = 3·2 + 4·3 + 1/2; y[1,0] = 2·4 + 4·7 + 1/2;
        // y[1,1] = 1·5 + 2·6 + 3·8 + 4·9 + 1/2.
        let y = OpSpec::<Q>::forward(&op, &x).unwrap();
        assert_eq!(y, t(&[1, 2, 2], &["9/2", "37/2", "73/2", "155/2"]));
    }

    #[test]
    fn the_same_op_values_run_over_f64() {
        // Dyadic inputs and weights are exact in binary, so the float forward equals the exact one.
        let w = t(&[1, 1, 2, 2], &["1/2", "-1", "1/4", "2"]);
        let conv = Conv2d::new(w, t(&[1], &["1/8"]), (1, 1), (1, 0)).unwrap();
        let x = t(&[1, 2, 3], &["1", "-1/2", "3/4", "2", "1/16", "-3"]);
        let exact = OpSpec::<Q>::forward(&conv, &x).unwrap();
        let xf = x.map(|v| num_traits::ToPrimitive::to_f64(v).unwrap());
        let float = OpSpec::<f64>::forward(&conv, &xf).unwrap();
        let back = Tensor::<Q>::from_f64_exact(float.shape().to_vec(), float.data()).unwrap();
        assert_eq!(back, exact);
    }

    #[test]
    fn bad_shapes_and_strides_are_typed_errors() {
        use crate::Error;
        let r = Conv2d::new(t(&[1, 1, 2], &["1", "2"]), t(&[1], &["0"]), (1, 1), (0, 0));
        assert!(matches!(r, Err(Error::ShapeMismatch { .. })));
        let r = Conv2d::new(t(&[1, 1, 1, 1], &["1"]), t(&[1], &["0"]), (0, 1), (0, 0));
        assert_eq!(
            r.err(),
            Some(crate::Error::InvalidArgument {
                op: "Conv2d".into(),
                argument: "stride".into(),
                value: "(0, 1)".into(),
                requirement: "at least 1 in both dimensions".into(),
            })
        );
        let conv = Conv2d::new(t(&[1, 1, 3, 3], &["1"; 9]), t(&[1], &["0"]), (1, 1), (0, 0));
        let r = OpSpec::<Q>::forward(&conv.unwrap(), &t(&[1, 2, 2], &["1"; 4]));
        assert!(matches!(r, Err(Error::ShapeMismatch { .. })));
    }

    #[test]
    fn a_padding_whose_padded_size_overflows_is_a_typed_error() {
        use crate::Error;
        let w = t(&[1, 1, 2, 2], &["1"; 4]);
        for (padding, quantity) in [((1 << 63, 0), "H + 2·p_h"), ((0, usize::MAX), "W + 2·p_w")] {
            let conv = Conv2d::new(w.clone(), t(&[1], &["5"]), (1, 1), padding).unwrap();
            let r = OpSpec::<Q>::forward(&conv, &t(&[1, 2, 2], &["1"; 4]));
            assert_eq!(
                r.err(),
                Some(Error::SizeOverflow {
                    op: conv.name(),
                    quantity,
                    shape: vec![1, 2, 2]
                })
            );
        }
        // Padded sizes that fit, but whose output has more entries than usize holds.
        let conv = Conv2d::new(w, t(&[1], &["5"]), (1, 1), (1 << 40, 1 << 40)).unwrap();
        assert!(matches!(
            conv.output_shape(&[1, 2, 2]),
            Err(Error::SizeOverflow {
                quantity: "output size",
                ..
            })
        ));
    }

    planted!(KernelFlipped(Conv2d), fn vjp(&op, x, dy) {
        // The transposed convolution with the kernel flipped (convolution and cross-correlation
        // mixed up); one channel, stride 1, no padding.
        let w = op.weight().lifted::<S>();
        let (kh, kw) = (w.shape()[2], w.shape()[3]);
        let (wd, ho, wo) = (x.shape()[2], dy.shape()[1], dy.shape()[2]);
        let mut dx = vec![S::zero(); x.len()];
        for r in 0..ho {
            for c in 0..wo {
                for p in 0..kh {
                    for q in 0..kw {
                        let flipped = &w.data()[(kh - 1 - p) * kw + (kw - 1 - q)];
                        let slot = &mut dx[(r + p) * wd + c + q];
                        *slot = slot.add_ref(&flipped.mul_ref(&dy.data()[r * wo + c]));
                    }
                }
            }
        }
        Tensor::new(x.shape().to_vec(), dx)
    });

    #[test]
    fn planted_conv2d_kernel_flipped_in_backward() {
        let w = t(&[1, 1, 2, 2], &["1", "2", "3", "4"]);
        let conv = Conv2d::new(w, t(&[1], &["0"]), (1, 1), (0, 0)).unwrap();
        assert_cx(
            &caught(&KernelFlipped(conv), &[1, 2, 3]),
            VJP,
            &[0, 0, 1],
            "4",
            "1",
        );
    }

    planted!(BiasNotReduced(Conv2d), fn vjp_params(&op, x, dy) {
        // The bias gradient reads one output position per channel instead of summing over all
        // of them (the reduction over space forgotten).
        let mut g = op.vjp_params(x, dy)?.into_data();
        let (cout, per) = (dy.shape()[0], dy.len() / dy.shape()[0]);
        let nw = g.len() - cout;
        for o in 0..cout {
            g[nw + o] = dy.data()[o * per].clone();
        }
        Ok(Tensor::from_vec(g))
    });

    #[test]
    fn planted_conv2d_bias_gradient_not_reduced() {
        let conv = Conv2d::new(t(&[1, 1, 1, 1], &["2"]), t(&[1], &["1/2"]), (1, 1), (0, 0));
        let c = caught_params(
            &BiasNotReduced(conv.unwrap()),
            t(&[1, 2, 2], &["1", "2", "3", "4"]),
        );
        assert_cx(&c, VJP, &[1], "0", "1");
    }
}
