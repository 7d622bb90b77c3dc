//! Where the windows of a 2-D pooling sit, axis by axis, exactly as torch places them: output
//! length with `ceil_mode`, padding and dilation, and the input positions each window covers.
//!
//! Torch's `pooling_output_shape`: `out = ⌊(n + 2p − d(k−1) − 1 + (ceil ? s−1 : 0)) / s⌋ + 1`,
//! and with `ceil_mode` the last window is dropped when it would start in the right padding,
//! `(out−1)·s ≥ n + p`. Window `o` covers the positions `o·s − p + i·d`, `i < k`; those outside
//! `0..n` are padding. The settings' checks, shared by the pooling ops, are torch's too.

use crate::error::{Error, Result};

/// One spatial axis of a pooling: kernel, stride, padding, dilation, ceil mode.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PoolAxis {
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
    pub dilation: usize,
    pub ceil_mode: bool,
}

/// Why an axis has no output length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AxisError {
    /// A size does not fit (the formula that overflowed).
    Overflow(&'static str),
    /// Fewer than one window fits (torch's "Output size is too small").
    TooSmall,
}

impl PoolAxis {
    /// The number of windows along an input axis of length `n`.
    ///
    /// Every quantity is computed in `i128` from `usize` values with checked operations: once the
    /// output length is at least 1, `d(k−1)` is below `n + 2p + s`, so every position a window
    /// reaches (see [`PoolAxis::taps`]) fits as well.
    pub fn output_len(&self, n: usize) -> std::result::Result<usize, AxisError> {
        let [n, k, s, p, d] =
            [n, self.kernel, self.stride, self.padding, self.dilation].map(|v| v as i128);
        let padded = n + 2 * p;
        let reach = d
            .checked_mul(k - 1)
            .ok_or(AxisError::Overflow("d·(k − 1)"))?;
        let mut numerator = padded - reach - 1;
        if self.ceil_mode {
            numerator += s - 1;
        }
        let mut out = numerator.div_euclid(s) + 1;
        if self.ceil_mode && out >= 1 && (out - 1) * s >= n + p {
            out -= 1;
        }
        if out < 1 {
            return Err(AxisError::TooSmall);
        }
        usize::try_from(out).map_err(|_| AxisError::Overflow("output size"))
    }

    /// The first position of window `o` in unpadded coordinates (negative in the left padding).
    fn start(&self, o: usize) -> i128 {
        o as i128 * self.stride as i128 - self.padding as i128
    }

    /// The input positions (in `0..n`) that window `o` covers, first to last; the padded ones are
    /// skipped. Computed from bounds, so a huge kernel over a short axis costs only the positions
    /// that exist. `o` must be below [`PoolAxis::output_len`].
    pub fn taps(&self, o: usize, n: usize) -> impl Iterator<Item = usize> {
        let (start, d) = (self.start(o), self.dilation as i128);
        // The first i with start + i·d ≥ 0, and the last with start + i·d ≤ n − 1 and i < k.
        let first = if start >= 0 { 0 } else { (-start + d - 1) / d };
        let last_in = n as i128 - 1 - start;
        let last = if last_in < 0 {
            -1
        } else {
            (last_in / d).min(self.kernel as i128 - 1)
        };
        (first..=last).map(move |i| (start + i * d) as usize)
    }

    /// Whether window `o` covers at least one input position (not only padding).
    pub fn covers(&self, o: usize, n: usize) -> bool {
        self.taps(o, n).next().is_some()
    }

    /// torch's `count_include_pad` divisor along this axis for window `o` (dilation 1): the
    /// window clipped to the padded axis `−p .. n + p`, so a `ceil_mode` window that runs past
    /// the right padding counts only up to its end.
    pub fn padded_extent(&self, o: usize, n: usize) -> usize {
        let start = self.start(o);
        let end = (start + self.kernel as i128).min(n as i128 + self.padding as i128);
        (end - start) as usize
    }
}

/// The input of a 2-D pooling: `[C, H, W]` or `[N, C, H, W]`, seen as `planes` planes of
/// `h × w`, with the output's shape.
#[derive(Clone, Debug)]
pub(crate) struct Planes {
    pub planes: usize,
    pub h: usize,
    pub w: usize,
    pub ho: usize,
    pub wo: usize,
    pub out_shape: Vec<usize>,
}

/// Lays out a pooling of `input` with the axes `(rows, cols)`; `op` names the op in errors.
pub(crate) fn planes(op: &str, input: &[usize], rows: PoolAxis, cols: PoolAxis) -> Result<Planes> {
    let bad = || {
        Error::shape_mismatch(
            &format!(
                "{op}: input must be [C, H, W] or [N, C, H, W] with room for one window \
                 (input, kernel)"
            ),
            input.to_vec(),
            vec![rows.kernel, cols.kernel],
        )
    };
    let (lead, h, w) = match *input {
        [c, h, w] => (vec![c], h, w),
        [n, c, h, w] => (vec![n, c], h, w),
        _ => return Err(bad()),
    };
    let overflow = |quantity| Error::SizeOverflow {
        op: op.to_string(),
        quantity,
        shape: input.to_vec(),
    };
    let len = |axis: PoolAxis, n| match axis.output_len(n) {
        Ok(len) => Ok(len),
        Err(AxisError::TooSmall) => Err(bad()),
        Err(AxisError::Overflow(q)) => Err(overflow(q)),
    };
    let (ho, wo) = (len(rows, h)?, len(cols, w)?);
    let planes = crate::tensor::element_count(&lead).map_err(|_| overflow("N·C"))?;
    let mut out_shape = lead;
    out_shape.extend([ho, wo]);
    // Output offsets are below this count, input offsets below the input's.
    crate::tensor::element_count(&out_shape).map_err(|_| overflow("output size"))?;
    crate::tensor::element_count(input).map_err(|_| overflow("input size"))?;
    // A window wholly in the padding has the maximum −∞ (torch returns it) and no average: not
    // a value over any exact scalar, so the shape is refused, naming the window's row or column.
    let empty = |axis: PoolAxis, n: usize, out: usize, which: &str| match (0..out)
        .find(|&o| !axis.covers(o, n))
    {
        Some(o) => Err(Error::shape_mismatch(
            &format!(
                "{op}: the window at output {which} {o} lies wholly in the padding (input, window)"
            ),
            input.to_vec(),
            vec![o],
        )),
        None => Ok(()),
    };
    // Without planes there is no window to evaluate (and the axes may be long).
    if planes > 0 {
        empty(rows, h, ho, "row")?;
        empty(cols, w, wo, "column")?;
    }
    Ok(Planes {
        planes,
        h,
        w,
        ho,
        wo,
        out_shape,
    })
}

impl Planes {
    /// For every output entry (row-major), the input offsets its window covers, padding
    /// skipped, row by row.
    pub fn windows(&self, rows: PoolAxis, cols: PoolAxis) -> Vec<Vec<usize>> {
        let mut windows = Vec::with_capacity(self.planes * self.ho * self.wo);
        for c in 0..self.planes {
            for r in 0..self.ho {
                for s in 0..self.wo {
                    let win = rows
                        .taps(r, self.h)
                        .flat_map(|i| {
                            cols.taps(s, self.w)
                                .map(move |j| (c * self.h + i) * self.w + j)
                        })
                        .collect();
                    windows.push(win);
                }
            }
        }
        windows
    }
}

/// [`Error::InvalidArgument`] of a pooling op.
fn invalid(op: &str, argument: &str, value: (usize, usize), requirement: &str) -> Error {
    Error::InvalidArgument {
        op: op.into(),
        argument: argument.into(),
        value: format!("{value:?}"),
        requirement: requirement.into(),
    }
}

/// Refuses a zero in `value` (a kernel, stride or dilation).
pub(crate) fn at_least_one(op: &str, argument: &str, value: (usize, usize)) -> Result<()> {
    if value.0 == 0 || value.1 == 0 {
        return Err(invalid(
            op,
            argument,
            value,
            "at least 1 in both dimensions",
        ));
    }
    Ok(())
}

/// Refuses a padding above half the kernel, as torch does (`p ≤ ⌊k/2⌋`).
pub(crate) fn at_most_half(
    op: &str,
    padding: (usize, usize),
    kernel: (usize, usize),
) -> Result<()> {
    if padding.0 > kernel.0 / 2 || padding.1 > kernel.1 / 2 {
        return Err(invalid(
            op,
            "padding",
            padding,
            &format!("at most half the kernel {kernel:?} in both dimensions"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{planes, PoolAxis};

    fn axis(kernel: usize, stride: usize, padding: usize, ceil_mode: bool) -> PoolAxis {
        PoolAxis {
            kernel,
            stride,
            padding,
            dilation: 1,
            ceil_mode,
        }
    }

    /// torch's output length: `⌊(n + 2p − k)/s⌋ + 1`, or `⌈…⌉ + 1` in ceil mode unless the last
    /// window would start past the input and the left padding. For k = 4, s = 2 over 8 entries
    /// the division is exact, so ceil mode adds no window.
    #[test]
    fn output_lengths_follow_torch() {
        assert_eq!(axis(4, 2, 0, false).output_len(8), Ok(3));
        assert_eq!(axis(4, 2, 0, true).output_len(8), Ok(3));
        assert_eq!(axis(4, 2, 0, true).output_len(9), Ok(4));
        assert_eq!(axis(4, 2, 0, false).output_len(9), Ok(3));
    }

    /// A window's taps are the input positions it covers; one that starts past the input covers
    /// none.
    #[test]
    fn a_window_past_the_input_has_no_taps() {
        let a = axis(2, 2, 0, false);
        assert_eq!(a.taps(0, 3).collect::<Vec<_>>(), [0, 1]);
        assert_eq!(a.taps(1, 3).collect::<Vec<_>>(), [2]);
        assert_eq!(a.taps(2, 3).count(), 0);
        assert!(!a.covers(2, 3));
    }

    /// A window wholly in the padding is refused, naming its row, unless there are no planes to
    /// pool (then there is no window to evaluate).
    #[test]
    fn a_window_wholly_in_the_padding_is_refused_when_there_are_planes() {
        let (rows, cols) = (axis(1, 1, 1, false), axis(1, 1, 0, false));
        assert!(planes("Pool", &[1, 1, 1, 1], rows, cols).is_err());
        assert!(planes("Pool", &[0, 1, 1, 1], rows, cols).is_ok());
    }
}
