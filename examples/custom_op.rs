//! Writing your own op: one elementwise affine layer `y = γ ⊙ x + β` with two parameter tensors,
//! written once for every scalar, checked on its own, and composed into a small network whose
//! input and parameter gradients are all checked in one call.
//!
//! `cargo run --release --example custom_op` prints both reports; it exits 1 if a check fails.

use exactgrad::check::CheckConfig;
use exactgrad::ops::{Linear, MseLoss, Relu};
use exactgrad::{check_op, Compose, Op, OpSpec, Param, Result, Scalar, Tensor, Q};

/// `y = γ ⊙ x + β` for a vector `x` of length `n` (the affine part of a normalisation layer).
#[derive(Clone, Debug)]
struct ScaleShift {
    gamma: Tensor<Q>,
    beta: Tensor<Q>,
}

impl Op for ScaleShift {
    fn name(&self) -> String {
        format!("ScaleShift({})", self.gamma.len())
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        if input != self.gamma.shape() {
            return Err(exactgrad::Error::shape_mismatch(
                "ScaleShift: input",
                input,
                self.gamma.shape(),
            ));
        }
        Ok(input.to_vec())
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
    // The parameters, named: reports say `layer 3 ScaleShift(4) gamma[2]`, not a flat index.
    fn params(&self) -> Vec<Param<'_>> {
        vec![
            Param::new(self, "gamma", &self.gamma),
            Param::new(self, "beta", &self.beta),
        ]
    }
}

// Written once, generically: the checks run it over Q, dual numbers and jets.
impl<S: Scalar> OpSpec<S> for ScaleShift {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        self.forward_with_params(&exactgrad::ops::param_vector(self), x)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        self.output_shape(x.shape())?;
        self.gamma.lifted::<S>().hadamard(dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        self.output_shape(x.shape())?;
        self.gamma.lifted::<S>().hadamard(dy)
    }
    // f_θ(x) for any θ = [γ, β]: the reference side of the parameter checks.
    fn forward_with_params(&self, params: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>> {
        let (gamma, beta) = split(params, self.gamma.len())?;
        gamma.hadamard(x)?.add(&beta)
    }
    // ∂y/∂γ · dγ + ∂y/∂β · dβ = x ⊙ dγ + dβ.
    fn jvp_params(&self, x: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>> {
        let (dgamma, dbeta) = split(dparams, self.gamma.len())?;
        x.hadamard(&dgamma)?.add(&dbeta)
    }
    // The gradients [∂γ, ∂β] = [x ⊙ δ, δ], flat.
    fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let dgamma = x.hadamard(dy)?;
        Ok(Tensor::from_vec(
            dgamma.into_data().into_iter().chain(dy.to_vec()).collect(),
        ))
    }
}

/// `[γ, β]` from a flat vector of length `2n`.
fn split<S: Scalar>(params: &Tensor<S>, n: usize) -> Result<(Tensor<S>, Tensor<S>)> {
    params.expect_shape(&[2 * n], "ScaleShift parameters [γ, β]")?;
    let (g, b) = params.data().split_at(n);
    Ok((Tensor::from_vec(g.to_vec()), Tensor::from_vec(b.to_vec())))
}

fn t(shape: &[usize], lits: &[&str]) -> Tensor<Q> {
    Tensor::parse(shape.to_vec(), lits).expect("valid literals")
}

fn main() {
    let config = CheckConfig::default().cases(64);
    let scale_shift = ScaleShift {
        gamma: t(&[3], &["2", "-1/3", "5/7"]),
        beta: t(&[3], &["1/2", "0", "-4"]),
    };
    // The op alone: every rule, for the input and for γ and β.
    let report = check_op!(scale_shift, [3], config.clone());
    println!("{report}\n");

    // In a network, composed with `then`: one call checks the input gradient and all 23
    // parameters (two Linear layers, γ and β) through the chain rule.
    let net = Linear::new(
        t(&[3, 2], &["1", "-2", "1/2", "3", "-1", "1/4"]),
        t(&[3], &["0", "1/3", "-1"]),
    )
    .expect("shapes chain")
    .then(Relu)
    .then(scale_shift)
    .then(
        Linear::new(
            t(&[2, 3], &["1", "0", "-1", "2", "1/2", "1"]),
            t(&[2], &["0", "1"]),
        )
        .expect("shapes chain"),
    )
    .then(MseLoss::new(t(&[2], &["1", "-1"])));
    assert_eq!(net.param_count(), 23);
    let report = check_op!(net, [2], config);
    println!("{report}");
}
