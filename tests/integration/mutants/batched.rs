//! A batched op, `Linear(3→2)` on each row of `[B, 3]` written natively: a vjp reduced over the
//! batch and a forward with the bias on one sample, each caught with its exact counterexample.

use super::*;
use exactgrad::check::check_batched;
use exactgrad::ops::Linear;

/// `Y = X·Wᵀ + b` row by row.
pub(super) struct BatchedLinear {
    pub(super) layer: Linear,
    pub(super) bug: BatchBug,
}

/// What is wrong with a [`BatchedLinear`].
#[derive(PartialEq)]
pub(super) enum BatchBug {
    None,
    /// The vjp sums over the batch (the reduction over the wrong axis): every sample gets the
    /// same gradient.
    ReduceBatch,
    /// The forward kernel adds the bias to the first sample only. The rules are consistent with
    /// this forward, so only batched = looped sees it.
    BiasFirstSampleOnly,
}

impl Op for BatchedLinear {
    fn name(&self) -> String {
        let tag = match self.bug {
            BatchBug::None => "",
            BatchBug::ReduceBatch => " with vjp reduced over the batch",
            BatchBug::BiasFirstSampleOnly => " with the bias on sample 0 only",
        };
        format!("Batched {}{tag}", self.layer.name())
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        match input {
            [batch, n] => Ok(vec![*batch, self.layer.output_shape(&[*n])?[0]]),
            _ => Err(exactgrad::Error::shape_mismatch(
                "BatchedLinear: input [B, n]",
                input,
                vec![0, self.layer.dims().1],
            )),
        }
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
}

impl<S: Sc> OpSpec<S> for BatchedLinear {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let out = self.output_shape(x.shape())?;
        let y = x.matmul(&w::<S>(&self.layer).transpose()?)?;
        let bias = b::<S>(&self.layer);
        let data = y
            .data()
            .iter()
            .enumerate()
            .map(|(k, v)| {
                if self.bug == BatchBug::BiasFirstSampleOnly && k >= out[1] {
                    v.clone()
                } else {
                    v.add_ref(&bias.data()[k % out[1]])
                }
            })
            .collect();
        Tensor::new(out, data)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        self.output_shape(x.shape())?;
        dx.matmul(&w::<S>(&self.layer).transpose()?)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        self.output_shape(x.shape())?;
        let g = dy.matmul(&w::<S>(&self.layer))?;
        if self.bug != BatchBug::ReduceBatch {
            return Ok(g);
        }
        let (batch, n) = (g.shape()[0], g.shape()[1]);
        let sums: Vec<S> = (0..n)
            .map(|j| (0..batch).fold(S::zero(), |acc, r| acc.add_ref(g.get2(r, j).unwrap())))
            .collect();
        Tensor::new(
            vec![batch, n],
            (0..batch * n).map(|k| sums[k % n].clone()).collect(),
        )
    }
}

#[test]
fn batched_vjp_reduced_over_the_batch() {
    let batched = BatchedLinear {
        layer: l32(),
        bug: BatchBug::ReduceBatch,
    };
    assert_counterexample(
        &caught_batched(&batched),
        "jacobian: vjp(x, δ) = Jᵀ·δ",
        &[0, 0],
        ["-1", "0", "-1"],
        &[
            ("x", "[[0, 0, 0],\n [0, 0, 0]]"),
            ("δ", "[[0, 0],\n [0, 1]]"),
        ],
    );
}

#[test]
fn batched_forward_bias_on_the_first_sample_only() {
    let batched = BatchedLinear {
        layer: l32(),
        bug: BatchBug::BiasFirstSampleOnly,
    };
    assert_counterexample(
        &caught_batched(&batched),
        "structural: batched forward = looped forward",
        &[1, 0],
        ["0", "1/2", "-1/2"],
        &[("x", "[[0, 0, 0],\n [0, 0, 0]]")],
    );
}

/// [`check_batched`] with its defaults against the per-sample `Linear(3→2)`; must fail.
fn caught_batched(batched: &BatchedLinear) -> Box<CheckFailure> {
    let failure = check_batched(batched, &l32(), &[2, 3], &CheckConfig::default())
        .expect_err("the checker must catch this mutant");
    println!("{failure}");
    failure
}
