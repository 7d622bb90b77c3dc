//! 2-D convolution (cross-correlation, as in every framework) with stride, zero padding,
//! dilation, groups and an optional batch axis — `torch.nn.functional.conv2d`.

use super::params::{join_params, split_params};
use super::{Op, OpSpec, Param};
use crate::error::{Error, Result};
use crate::scalar::{Scalar, Q};
use crate::tensor::Tensor;

/// `y[n, o, r, c] = b[o] + Σ_{i,p,q} W[o, i, p, q] · x̃[n, g·C + i, r·s_h + p·d_h − p_h,
/// c·s_w + q·d_w − p_w]` for an input `x` of shape `[N, c_in, H, W]` (a batch) or `[c_in, H, W]`
/// (one sample, the same formula without `n`), weights `W` `[c_out, c_in/groups, k_h, k_w]`,
/// bias `b` `[c_out]`, where `x̃` is `x` padded with zeros, `g = o / (c_out/groups)` is the
/// group of output channel `o` and `C = c_in/groups` — torch's `F.conv2d(x, W, b, stride,
/// padding, dilation, groups)`. Output `[N, c_out, H_out, W_out]` (or `[c_out, H_out, W_out]`)
/// with `H_out = (H + 2p_h − d_h·(k_h − 1) − 1)/s_h + 1`, and the same for `W_out`.
///
/// Rules: `jvp = conv(W, dx)` (no bias: the op is affine), `vjp` = the transposed convolution
/// scattering `δ` back through the same windows (entries in the padding are dropped). With
/// respect to the parameters (flattened as `W` row-major, then `b`):
/// `∂W[o,i,p,q] = Σ_{n,r,c} δ[n,o,r,c]·x̃[n, g·C + i, r·s_h + p·d_h − p_h, c·s_w + q·d_w − p_w]`,
/// `∂b[o] = Σ_{n,r,c} δ[n,o,r,c]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conv2d {
    w: Tensor<Q>,
    b: Tensor<Q>,
    stride: (usize, usize),
    padding: (usize, usize),
    dilation: (usize, usize),
    groups: usize,
}

/// Every size of one convolution.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Geometry {
    /// The batch size, `None` for an unbatched input.
    batch: Option<usize>,
    /// All input channels, `W.shape[1]·groups`.
    cin: usize,
    /// Input channels per group, `W.shape[1]`.
    cin_g: usize,
    cout: usize,
    /// Output channels per group.
    cout_g: usize,
    kh: usize,
    kw: usize,
    h: usize,
    w: usize,
    sh: usize,
    sw: usize,
    ph: usize,
    pw: usize,
    dh: usize,
    dw: usize,
    ho: usize,
    wo: usize,
}

impl Geometry {
    fn samples(&self) -> usize {
        self.batch.unwrap_or(1)
    }

    /// Calls `f(out_offset, in_offset, weight_offset)` for every product in the convolution sum
    /// that does not fall in the padding.
    fn for_each(&self, mut f: impl FnMut(usize, usize, usize)) {
        for n in 0..self.samples() {
            for o in 0..self.cout {
                // `cout_g ≥ 1` here: `cout ≥ 1` and groups divides it.
                let first_in = (o / self.cout_g) * self.cin_g;
                for r in 0..self.ho {
                    for c in 0..self.wo {
                        let out = ((n * self.cout + o) * self.ho + r) * self.wo + c;
                        for i in 0..self.cin_g {
                            for p in 0..self.kh {
                                // r·s_h + p·d_h ≤ H + 2p_h − 1 by the output size: no overflow.
                                let Some(row) = (r * self.sh + p * self.dh).checked_sub(self.ph)
                                else {
                                    continue;
                                };
                                if row >= self.h {
                                    continue;
                                }
                                for q in 0..self.kw {
                                    let Some(col) =
                                        (c * self.sw + q * self.dw).checked_sub(self.pw)
                                    else {
                                        continue;
                                    };
                                    if col >= self.w {
                                        continue;
                                    }
                                    let channel = n * self.cin + first_in + i;
                                    let input = (channel * self.h + row) * self.w + col;
                                    let weight = ((o * self.cin_g + i) * self.kh + p) * self.kw + q;
                                    f(out, input, weight);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    fn out_shape(&self) -> Vec<usize> {
        let sample = [self.cout, self.ho, self.wo];
        self.batch.into_iter().chain(sample).collect()
    }

    fn in_shape(&self) -> Vec<usize> {
        let sample = [self.cin, self.h, self.w];
        self.batch.into_iter().chain(sample).collect()
    }

    fn out_len(&self) -> usize {
        self.samples() * self.cout * self.ho * self.wo
    }
}

/// The convolution sum of weights `w` and input `x` (no bias), raw row-major data.
fn correlate<S: Scalar>(g: &Geometry, w: &[S], x: &[S]) -> Vec<S> {
    let mut out = vec![S::zero(); g.out_len()];
    g.for_each(|o, i, k| out[o] = out[o].add_ref(&w[k].mul_ref(&x[i])));
    out
}

/// Checks a group count for weights of shape `w_shape` (`[c_out, c_in/groups, …]`) in the op
/// `op`: at least 1, dividing `c_out`, and `c_in = w_shape[1]·groups` representable.
pub(crate) fn check_groups(op: &str, w_shape: &[usize], groups: usize) -> Result<()> {
    let invalid = |requirement: String| Error::InvalidArgument {
        op: op.into(),
        argument: "groups".into(),
        value: groups.to_string(),
        requirement,
    };
    if groups == 0 {
        return Err(invalid("at least 1".into()));
    }
    if !w_shape[0].is_multiple_of(groups) {
        return Err(invalid(format!("a divisor of c_out = {}", w_shape[0])));
    }
    match w_shape[1].checked_mul(groups) {
        Some(_) => Ok(()),
        None => Err(Error::SizeOverflow {
            op: op.into(),
            quantity: "c_in = W.shape[1]·groups",
            shape: w_shape.to_vec(),
        }),
    }
}

impl Conv2d {
    /// A convolution from weights `[c_out, c_in, k_h, k_w]`, bias `[c_out]`, stride
    /// `(s_h, s_w)` (each ≥ 1) and zero padding `(p_h, p_w)`; a typed error otherwise. Dilation
    /// 1 and one group until [`Conv2d::with_dilation`] and [`Conv2d::with_groups`] say otherwise.
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
            dilation: (1, 1),
            groups: 1,
        })
    }

    /// The same convolution with kernel dilation `(d_h, d_w)` (torch's `dilation=`): kernel tap
    /// `(p, q)` reads the input `(p·d_h, q·d_w)` away from the window's corner.
    /// [`Error::InvalidArgument`] unless both are at least 1.
    pub fn with_dilation(self, dilation: (usize, usize)) -> Result<Self> {
        if dilation.0 == 0 || dilation.1 == 0 {
            return Err(Error::InvalidArgument {
                op: "Conv2d".into(),
                argument: "dilation".into(),
                value: format!("{dilation:?}"),
                requirement: "at least 1 in both dimensions".into(),
            });
        }
        Ok(Conv2d { dilation, ..self })
    }

    /// The same convolution split into `groups` groups (torch's `groups=`): the weights, of
    /// shape `[c_out, c_in/groups, k_h, k_w]`, connect the `k`-th block of `c_out/groups` output
    /// channels to the `k`-th block of `c_in/groups` input channels only, so the input must
    /// have `c_in = W.shape[1]·groups` channels. [`Error::InvalidArgument`] unless `groups ≥ 1`
    /// divides `c_out`; [`Error::SizeOverflow`] if `W.shape[1]·groups` does not fit in `usize`.
    pub fn with_groups(self, groups: usize) -> Result<Self> {
        check_groups("Conv2d", self.w.shape(), groups)?;
        Ok(Conv2d { groups, ..self })
    }

    /// The weights `[c_out, c_in/groups, k_h, k_w]`.
    pub fn weight(&self) -> &Tensor<Q> {
        &self.w
    }

    /// The bias `[c_out]`.
    pub fn bias(&self) -> &Tensor<Q> {
        &self.b
    }

    /// The stride `(s_h, s_w)`.
    pub fn stride(&self) -> (usize, usize) {
        self.stride
    }

    /// The zero padding `(p_h, p_w)` on each side.
    pub fn padding(&self) -> (usize, usize) {
        self.padding
    }

    /// The kernel dilation `(d_h, d_w)`.
    pub fn dilation(&self) -> (usize, usize) {
        self.dilation
    }

    /// The number of groups.
    pub fn groups(&self) -> usize {
        self.groups
    }

    /// The number of input channels, `W.shape[1]·groups` (checked by [`Conv2d::with_groups`]
    /// not to overflow).
    fn in_channels(&self) -> usize {
        self.w.shape()[1].saturating_mul(self.groups)
    }

    pub(crate) fn geometry(&self, input: &[usize]) -> Result<Geometry> {
        let ws = self.w.shape();
        let (cout, cin_g, kh, kw) = (ws[0], ws[1], ws[2], ws[3]);
        let ((sh, sw), (ph, pw), (dh, dw)) = (self.stride, self.padding, self.dilation);
        let (batch, c, h, w) = match *input {
            [c, h, w] => (None, c, h, w),
            [n, c, h, w] => (Some(n), c, h, w),
            _ => return Err(self.bad_input(input)),
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
        // The span of the dilated kernel, d·(k − 1) + 1 (k ≥ 1 by the constructor).
        let span_h = dh
            .checked_mul(kh - 1)
            .and_then(|s| s.checked_add(1))
            .ok_or_else(|| overflow("d_h·(k_h − 1) + 1"))?;
        let span_w = dw
            .checked_mul(kw - 1)
            .and_then(|s| s.checked_add(1))
            .ok_or_else(|| overflow("d_w·(k_w − 1) + 1"))?;
        let cin = cin_g
            .checked_mul(self.groups)
            .ok_or_else(|| overflow("c_in = W.shape[1]·groups"))?;
        if c != cin || padded_h < span_h || padded_w < span_w {
            return Err(self.bad_input(input));
        }
        let (ho, wo) = ((padded_h - span_h) / sh + 1, (padded_w - span_w) / sw + 1);
        let g = Geometry {
            batch,
            cin,
            cin_g,
            cout,
            cout_g: cout / self.groups,
            kh,
            kw,
            h,
            w,
            sh,
            sw,
            ph,
            pw,
            dh,
            dw,
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
                "{}: input must be [c_in, H, W] or [N, c_in, H, W] with c_in = W.shape[1]·groups \
                 and the padded input at least the dilated kernel (input, W)",
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
            *v = v.add_ref(&b[(k / per) % g.cout]);
        }
        Tensor::new(g.out_shape(), y)
    }
}

impl Op for Conv2d {
    fn name(&self) -> String {
        let ws = self.w.shape();
        let mut name = format!(
            "Conv2d({}→{}, kernel {}×{}, stride {:?}, padding {:?}",
            self.in_channels(),
            ws[0],
            ws[2],
            ws[3],
            self.stride,
            self.padding
        );
        if self.dilation != (1, 1) {
            name += &format!(", dilation {:?}", self.dilation);
        }
        if self.groups != 1 {
            name += &format!(", groups {}", self.groups);
        }
        name + ")"
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
        // δ is [N, c_out, H_out·W_out] in memory: bias o sums block o of every sample.
        let per = g.ho * g.wo;
        let mut db = vec![S::zero(); g.cout];
        for (k, v) in d.iter().enumerate() {
            let o = (k / per) % g.cout;
            db[o] = db[o].add_ref(v);
        }
        Ok(join_params(vec![
            Tensor::new(self.w.shape().to_vec(), dw)?,
            Tensor::from_vec(db),
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

    /// `[2, 4, 4, 5]` → `[2, 4, 2, 4]`: two samples, two groups of two channels, dilation,
    /// stride and padding different along the two axes.
    fn grouped() -> Conv2d {
        let w: Vec<String> = (0..32)
            .map(|k| format!("{}/4", (k as i64 * 7) % 11 - 5))
            .collect();
        let w = Tensor::parse(
            vec![4, 2, 2, 2],
            &w.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        let w = w.unwrap();
        let b = t(&[4], &["1/2", "-1", "0", "3/4"]);
        Conv2d::new(w, b, (2, 1), (1, 0))
            .and_then(|c| c.with_dilation((2, 1)))
            .and_then(|c| c.with_groups(2))
            .unwrap()
    }

    fn sample_input(shape: &[usize]) -> Tensor<Q> {
        let n = shape.iter().product::<usize>();
        let v: Vec<String> = (0..n)
            .map(|k| format!("{}/8", (k as i64 * 5) % 13 - 6))
            .collect();
        Tensor::parse(
            shape.to_vec(),
            &v.iter().map(String::as_str).collect::<Vec<_>>(),
        )
        .unwrap()
    }

    #[test]
    fn batched_grouped_dilated_conv2d_passes_with_its_parameter_gradients() {
        let op = grouped();
        assert_eq!(op.output_shape(&[2, 4, 4, 5]).unwrap(), [2, 4, 2, 4]);
        assert_eq!(
            op.name(),
            "Conv2d(4→4, kernel 2×2, stride (2, 1), padding (1, 0), dilation (2, 1), groups 2)"
        );
        assert_passes(&crate::check_op!(op, [2, 4, 4, 5], cases(8)), true);
        assert_params_pass(&grouped(), sample_input(&[2, 4, 4, 5]), 8);
    }

    #[test]
    fn a_batch_is_its_samples_convolved_one_by_one() {
        let (op, x) = (grouped(), sample_input(&[2, 4, 4, 5]));
        let y = OpSpec::<Q>::forward(&op, &x).unwrap();
        let half = |v: &Tensor<Q>, n: usize, shape: &[usize]| {
            let per = v.len() / 2;
            Tensor::new(shape.to_vec(), v.data()[n * per..(n + 1) * per].to_vec()).unwrap()
        };
        for n in 0..2 {
            let one = OpSpec::<Q>::forward(&op, &half(&x, n, &[4, 4, 5])).unwrap();
            assert_eq!(one, half(&y, n, &[4, 2, 4]));
        }
    }

    #[test]
    fn groups_convolve_their_own_channels_only() {
        // Two groups = two separate convolutions on the channel halves, outputs stacked.
        let (op, x) = (grouped(), sample_input(&[4, 4, 5]));
        let y = OpSpec::<Q>::forward(&op, &x).unwrap();
        let mut stacked = Vec::new();
        for group in 0..2 {
            let w = &op.weight().data()[group * 16..(group + 1) * 16];
            let b = &op.bias().data()[group * 2..(group + 1) * 2];
            let part = Conv2d::new(
                Tensor::new(vec![2, 2, 2, 2], w.to_vec()).unwrap(),
                Tensor::from_vec(b.to_vec()),
                (2, 1),
                (1, 0),
            )
            .and_then(|c| c.with_dilation((2, 1)))
            .unwrap();
            let xg = Tensor::new(
                vec![2, 4, 5],
                x.data()[group * 40..(group + 1) * 40].to_vec(),
            );
            stacked.extend(
                OpSpec::<Q>::forward(&part, &xg.unwrap())
                    .unwrap()
                    .into_data(),
            );
        }
        assert_eq!(y, Tensor::new(vec![4, 2, 4], stacked).unwrap());
    }

    #[test]
    fn a_dilated_kernel_reads_spread_out_taps() {
        // Kernel [[1, 2], [3, 4]] with dilation 2 on a 3×3 input reads its four corners.
        let w = t(&[1, 1, 2, 2], &["1", "2", "3", "4"]);
        let op = Conv2d::new(w, t(&[1], &["1/2"]), (1, 1), (0, 0))
            .and_then(|c| c.with_dilation((2, 2)))
            .unwrap();
        let x = t(&[1, 3, 3], &["1", "2", "3", "4", "5", "6", "7", "8", "9"]);
        // 1·1 + 2·3 + 3·7 + 4·9 + 1/2
        let y = OpSpec::<Q>::forward(&op, &x).unwrap();
        assert_eq!(y, t(&[1, 1, 1], &["129/2"]));
    }

    #[test]
    fn bad_dilations_groups_and_channel_counts_are_typed_errors() {
        use crate::Error;
        let invalid = |argument: &str, value: &str, requirement: &str| Error::InvalidArgument {
            op: "Conv2d".into(),
            argument: argument.into(),
            value: value.into(),
            requirement: requirement.into(),
        };
        let conv = || {
            Conv2d::new(
                t(&[4, 1, 2, 2], &["1"; 16]),
                t(&[4], &["0"; 4]),
                (1, 1),
                (0, 0),
            )
        };
        let r = conv().unwrap().with_dilation((1, 0));
        assert_eq!(
            r.err(),
            Some(invalid(
                "dilation",
                "(1, 0)",
                "at least 1 in both dimensions"
            ))
        );
        assert_eq!(
            conv().unwrap().with_groups(0).err(),
            Some(invalid("groups", "0", "at least 1"))
        );
        assert_eq!(
            conv().unwrap().with_groups(3).err(),
            Some(invalid("groups", "3", "a divisor of c_out = 4"))
        );
        // Two groups of one input channel each: a 1-channel input no longer fits.
        let two = conv().unwrap().with_groups(2).unwrap();
        assert_eq!(two.output_shape(&[2, 2, 3]).unwrap(), [4, 1, 2]);
        let r = OpSpec::<Q>::forward(&two, &t(&[1, 2, 2], &["1"; 4]));
        assert!(matches!(r, Err(Error::ShapeMismatch { .. })), "{r:?}");
        // A batch of inputs of rank 5, or rank 2: no layout.
        assert!(matches!(
            two.output_shape(&[1, 1, 2, 2, 2]),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(matches!(
            two.output_shape(&[2, 2]),
            Err(Error::ShapeMismatch { .. })
        ));
        // The padded input must hold the dilated kernel, d·(k − 1) + 1 = 3.
        let dilated = conv().unwrap().with_dilation((2, 1)).unwrap();
        assert_eq!(dilated.output_shape(&[1, 3, 2]).unwrap(), [4, 1, 1]);
        assert!(matches!(
            dilated.output_shape(&[1, 2, 2]),
            Err(Error::ShapeMismatch { .. })
        ));
    }

    #[test]
    fn a_dilation_or_group_count_whose_sizes_overflow_is_a_typed_error() {
        use crate::Error;
        let w = t(&[1, 1, 2, 2], &["1"; 4]);
        let conv = Conv2d::new(w, t(&[1], &["5"]), (1, 1), (0, 0)).unwrap();
        let huge = conv.with_dilation((1, usize::MAX)).unwrap();
        assert_eq!(
            huge.output_shape(&[1, 2, 2]).err(),
            Some(Error::SizeOverflow {
                op: huge.name(),
                quantity: "d_w·(k_w − 1) + 1",
                shape: vec![1, 2, 2]
            })
        );
        // No output channel: any group count divides c_out = 0, but c_in = 2·groups overflows.
        let empty = Conv2d::new(
            Tensor::zeros(&[0, 2, 1, 1]).unwrap(),
            Tensor::zeros(&[0]).unwrap(),
            (1, 1),
            (0, 0),
        );
        assert_eq!(
            empty.unwrap().with_groups(1 << 63).err(),
            Some(Error::SizeOverflow {
                op: "Conv2d".into(),
                quantity: "c_in = W.shape[1]·groups",
                shape: vec![0, 2, 1, 1]
            })
        );
        // A batch whose input has more entries than usize holds.
        let conv = Conv2d::new(t(&[1, 1, 1, 1], &["1"]), t(&[1], &["0"]), (1, 1), (0, 0));
        assert!(matches!(
            conv.unwrap().output_shape(&[1 << 40, 1, 1 << 20, 1 << 20]),
            Err(Error::SizeOverflow { .. })
        ));
    }

    planted!(NeighbourGroupWeights(Conv2d), fn vjp(&op, x, dy) {
        // The transposed convolution of output channel o reads the weights of the channel at
        // the same place in the next group (the group offset of the weight index wrong).
        let block = op.weight().len() / op.groups();
        let mut w = op.weight().data().to_vec();
        w.rotate_left(block);
        let wrong = Conv2d { w: Tensor::new(op.weight().shape().to_vec(), w)?, ..op.clone() };
        wrong.vjp(x, dy)
    });

    #[test]
    fn planted_grouped_conv2d_vjp_with_the_next_groups_weights() {
        let w = t(&[2, 1, 2, 2], &["1", "2", "3", "4", "-1", "1/2", "0", "2"]);
        let conv = Conv2d::new(w, t(&[2], &["0", "1"]), (1, 1), (0, 0))
            .and_then(|c| c.with_groups(2))
            .unwrap();
        assert_cx(
            &caught(&NeighbourGroupWeights(conv), &[2, 3, 3]),
            VJP,
            &[1, 1, 1],
            "1",
            "-1",
        );
    }

    planted!(DilationIgnored(Conv2d), fn vjp(&op, x, dy) {
        // δ scattered back through the undilated taps (p, q) instead of (p·d_h, q·d_w).
        let mut g = op.geometry(x.shape())?;
        (g.dh, g.dw) = (1, 1);
        let w = op.weight().lifted::<S>();
        let mut dx = vec![S::zero(); x.len()];
        g.for_each(|o, i, k| dx[i] = dx[i].add_ref(&w.data()[k].mul_ref(&dy.data()[o])));
        Tensor::new(x.shape().to_vec(), dx)
    });

    #[test]
    fn planted_dilated_conv2d_vjp_ignoring_the_dilation() {
        let w = t(&[1, 1, 2, 2], &["1", "2", "3", "4"]);
        let conv = Conv2d::new(w, t(&[1], &["0"]), (1, 1), (0, 0))
            .and_then(|c| c.with_dilation((2, 2)))
            .unwrap();
        assert_cx(
            &caught(&DilationIgnored(conv), &[1, 3, 4]),
            VJP,
            &[0, 0, 2],
            "2",
            "0",
        );
    }

    planted!(BiasFromFirstSample(Conv2d), fn vjp_params(&op, x, dy) {
        // The bias gradient sums the positions of sample 0 only: the batch axis not reduced.
        let mut g = op.vjp_params(x, dy)?.into_data();
        let cout = op.bias().len();
        let per = dy.len() / (dy.shape()[0] * cout);
        let nw = g.len() - cout;
        for o in 0..cout {
            g[nw + o] = dy.data()[o * per..(o + 1) * per]
                .iter()
                .fold(S::zero(), |a, v| a.add_ref(v));
        }
        Ok(Tensor::from_vec(g))
    });

    #[test]
    fn planted_batched_conv2d_bias_gradient_from_the_first_sample() {
        let conv = Conv2d::new(t(&[1, 1, 1, 1], &["2"]), t(&[1], &["1/2"]), (1, 1), (0, 0));
        let c = caught_params(
            &BiasFromFirstSample(conv.unwrap()),
            t(&[2, 1, 1, 2], &["1", "2", "3", "4"]),
        );
        assert_cx(&c, VJP, &[1], "0", "1");
    }
}
