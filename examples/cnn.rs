//! A small CNN — conv2d → ReLU → max pool → flatten → linear → MSE — whose exact gradient is
//! checked over ℚ and printed as a derivation: the forward pass layer by layer, the certified
//! kink-free box, the backward pass layer by layer, and the checks against forward mode for the
//! input and every parameter (conv weights and bias, linear weights and bias).
//!
//! `cargo run --release --example cnn` prints the derivation and exits 0 when every check holds,
//! 1 otherwise. `-- --plant-bug` swaps in a max pool whose backward routes the gradient to each
//! window's first entry instead of its maximum: the check fails with an exact counterexample and
//! the exit status is 1.

use exactgrad::check::{adjoint, gradient, kink_radius, probe, GradientProof};
use exactgrad::ops::{
    param_vector, Conv2d, Flatten, Guard, Linear, MaxPool2d, MseLoss, Op, OpSpec, Relu, WrtParams,
};
use exactgrad::{Compose, Result, Scalar, Tensor, Q};
use std::process::ExitCode;

fn t(shape: &[usize], lits: &[&str]) -> Tensor<Q> {
    Tensor::parse(shape.to_vec(), lits).expect("valid literals")
}

/// A `[c, h, w]` tensor as one matrix per channel, indented under a label.
fn channels(x: &Tensor<Q>, indent: usize) -> String {
    let s = x.shape();
    let (c, h, w) = (s[0], s[1], s[2]);
    let pad = " ".repeat(indent);
    let width = x
        .data()
        .iter()
        .map(|v| v.to_string().chars().count())
        .max()
        .unwrap_or(1);
    let mut out = String::new();
    for ch in 0..c {
        for r in 0..h {
            let row: Vec<String> = (0..w)
                .map(|k| format!("{:>width$}", x.data()[(ch * h + r) * w + k].to_string()))
                .collect();
            let label = if r == 0 {
                format!("ch{ch} ")
            } else {
                "    ".into()
            };
            out.push_str(&format!("\n{pad}{label}[{}]", row.join(" ")));
        }
    }
    out
}

/// The pooling op of the example, or (with `--plant-bug`) one whose backward is wrong.
#[derive(Clone, Copy)]
struct Pool {
    inner: MaxPool2d,
    planted: bool,
}

impl Op for Pool {
    fn name(&self) -> String {
        let planted = if self.planted { " [planted bug]" } else { "" };
        format!("{}{planted}", self.inner.name())
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.inner.output_shape(input)
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
}

impl<S: Scalar> OpSpec<S> for Pool {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        self.inner.forward(x)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        self.inner.jvp(x, dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        if !self.planted {
            return self.inner.vjp(x, dy);
        }
        // The bug: δ of each 2×2 window (stride 1) sent to its top-left entry.
        let (c, h, w) = (x.shape()[0], x.shape()[1], x.shape()[2]);
        let (ho, wo) = (dy.shape()[1], dy.shape()[2]);
        let mut dx = vec![S::zero(); x.len()];
        for ch in 0..c {
            for r in 0..ho {
                for s in 0..wo {
                    let slot = &mut dx[(ch * h + r) * w + s];
                    *slot = slot.add_ref(&dy.data()[(ch * ho + r) * wo + s]);
                }
            }
        }
        Tensor::new(x.shape().to_vec(), dx)
    }
    fn guards(&self, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
        self.inner.guards(x)
    }
}

fn main() -> ExitCode {
    let planted = std::env::args().any(|a| a == "--plant-bug");
    match run(planted) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            println!();
            println!("verdict: a check FAILED —");
            println!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints `what` with ✓ or ✗ and passes the result on.
fn checked<T>(what: &str, r: Result<T>) -> Result<T> {
    let mark = if r.is_ok() { "✓" } else { "✗" };
    println!("   {what:<72} {mark}");
    r
}

/// The example's own consistency checks (the hand-written layer-by-layer gradients against the
/// checked ones) are not errors of the crate, so they fail as plain messages.
fn run(planted: bool) -> std::result::Result<(), Box<dyn std::error::Error>> {
    // ---- the network and the point ---------------------------------------------------------
    let x = t(
        &[1, 4, 4],
        &[
            "1", "-1/2", "2/3", "0", "1/3", "2", "-1", "1/2", "-2/3", "1/4", "3/2", "-1/3", "1/2",
            "-1", "1/5", "1",
        ],
    );
    let conv = Conv2d::new(
        t(
            &[2, 1, 2, 2],
            &["1", "-1/2", "1/3", "1/4", "-1/2", "1", "2/3", "-1/3"],
        ),
        t(&[2], &["1/10", "-1/5"]),
        (1, 1),
        (0, 0),
    )?;
    let pool = Pool {
        inner: MaxPool2d::new((2, 2), (1, 1))?,
        planted,
    };
    let lin = Linear::new(
        t(
            &[2, 8],
            &[
                "1/2", "-1", "1/3", "1/4", "-1/2", "1", "2/3", "-1/4", "-1/3", "1/2", "1", "-2/3",
                "1/4", "-1/2", "1/5", "1",
            ],
        ),
        t(&[2], &["1/2", "-1/3"]),
    )?;
    let mse = MseLoss::new(t(&[2], &["1", "-1/2"]));
    let net = (&conv)
        .then(Relu)
        .then(pool)
        .then(Flatten)
        .then(&lin)
        .then(&mse);

    println!("A small CNN, its gradient checked exactly over ℚ");
    println!("network: {}", net.name());
    println!();
    println!("  x  (1×4×4) ={}", channels(&x, 4));
    println!(
        "  conv weights Wc (2×1×2×2) ={}",
        channels(&conv.weight().clone().reshape(vec![2, 2, 2])?, 4)
    );
    println!("  conv bias bc = {}", conv.bias());
    println!(
        "  linear Wl (2×8) = {}",
        lin.weight()
            .to_string()
            .replace('\n', "\n                   ")
    );
    println!(
        "  linear bl = {}    target y = {}",
        lin.bias(),
        mse.target()
    );
    println!();

    // ---- forward, layer by layer ------------------------------------------------------------
    let z = OpSpec::<Q>::forward(&conv, &x)?;
    let a = OpSpec::<Q>::forward(&Relu, &z)?;
    let p = OpSpec::<Q>::forward(&pool, &a)?;
    let h = OpSpec::<Q>::forward(&Flatten, &p)?;
    let o = OpSpec::<Q>::forward(&lin, &h)?;
    let loss = OpSpec::<Q>::forward(&mse, &o)?;
    println!("1. forward (every value exact)");
    println!("   z = conv(x) + bc  (2×3×3) ={}", channels(&z, 6));
    println!("   a = relu(z) ={}", channels(&a, 6));
    println!(
        "   p = maxpool₂ₓ₂(a), stride 1 (2×2×2) ={}",
        channels(&p, 6)
    );
    println!("   h = flatten(p) = {h}");
    println!("   o = Wl·h + bl = {o}");
    println!("   L = mean((o − y)²) = {loss}");
    println!();

    // ---- no kinks ------------------------------------------------------------------------------
    let radius = kink_radius(&net, &x)?;
    let guards = OpSpec::<Q>::guards(&net, &x)?;
    let relu_guards = guards.iter().filter(|g| g.layer == 2).count();
    println!("2. no kinks: {} guards, all non-zero", guards.len());
    println!(
        "   ({relu_guards} ReLU pre-activations zᵢ ≠ 0; {} max-pool gaps max − other > 0: no ties)",
        guards.len() - relu_guards
    );
    if let (Some(r), Some(g)) = (&radius.radius, &radius.binding) {
        println!("   certified kink radius ρ = {r}: for ‖Δx‖∞ < ρ no guard changes sign,");
        println!(
            "   so the network stays on one smooth piece (nearest kink: layer {} ({}), coordinate {:?}, value {})",
            g.layer, g.op, g.coordinate, g.value
        );
    }
    println!();

    // ---- backward, layer by layer (the rules under test) ------------------------------------
    let one = Tensor::new(vec![], vec![Q::from_integer(1.into())])?;
    let d_o = OpSpec::<Q>::vjp(&mse, &o, &one)?;
    let d_h = OpSpec::<Q>::vjp(&lin, &h, &d_o)?;
    let d_p = OpSpec::<Q>::vjp(&Flatten, &p, &d_h)?;
    let d_a = OpSpec::<Q>::vjp(&pool, &a, &d_p)?;
    let d_z = OpSpec::<Q>::vjp(&Relu, &z, &d_a)?;
    let d_x = OpSpec::<Q>::vjp(&conv, &x, &d_z)?;
    println!("3. reverse mode, layer by layer (the rules under test), from δL = 1");
    println!("   ∂L/∂o = (2/2)(o − y) = {d_o}");
    println!("   ∂L/∂h = Wlᵀ·∂L/∂o = {d_h}");
    println!(
        "   ∂L/∂a = δ routed to each window's argmax (overlaps add) ={}",
        channels(&d_a, 6)
    );
    println!("   ∂L/∂z = relu′(z) ⊙ ∂L/∂a ={}", channels(&d_z, 6));
    println!("   ∂L/∂x = transposed conv of ∂L/∂z ={}", channels(&d_x, 6));
    let d_wc = OpSpec::<Q>::vjp_params(&conv, &x, &d_z)?;
    let d_wl = OpSpec::<Q>::vjp_params(&lin, &h, &d_o)?;
    let split = |g: &Tensor<Q>, n: usize| -> (Tensor<Q>, Tensor<Q>) {
        let (w, b) = g.data().split_at(n);
        (Tensor::from_vec(w.to_vec()), Tensor::from_vec(b.to_vec()))
    };
    let (g_wc, g_bc) = split(&d_wc, conv.weight().len());
    let (g_wl, g_bl) = split(&d_wl, lin.weight().len());
    println!(
        "   ∂L/∂Wc = Σ over output positions of ∂L/∂z · (the input window) ={}",
        channels(&g_wc.reshape(vec![2, 2, 2])?, 6)
    );
    println!("   ∂L/∂bc = Σ of ∂L/∂z per channel = {g_bc}");
    println!(
        "   ∂L/∂Wl = ∂L/∂o · hᵀ = {}",
        g_wl.reshape(vec![2, 8])?
            .to_string()
            .replace('\n', "\n                         ")
    );
    println!("   ∂L/∂bl = ∂L/∂o = {g_bl}");
    println!();

    // ---- the checks ---------------------------------------------------------------------------
    println!("4. checks against derivatives computed without any rule (forward mode over jets)");
    let input: GradientProof<Q> = checked(
        &format!(
            "∂L/∂x: vjp(x, 1) = ∇L(x), all {} entries, from one jet pass",
            x.len()
        ),
        gradient(&net, &x),
    )?;
    if input.gradient != d_x {
        return Err("the composed backward differs from the layer-by-layer one".into());
    }
    let dx = probe::<Q>(x.shape(), 0)?;
    let adj = checked(
        "adjointness at a probe dx: ⟪jvp(x, dx), 1⟫ = ⟪dx, vjp(x, 1)⟫",
        adjoint(&net, &x, &dx, &one),
    )?;
    println!("     (both sides = {})", adj.lhs);

    // Every parameter of the network at once: the composition chains the parameter rules.
    let theta: Tensor<Q> = param_vector(&net);
    let names: Vec<String> = net.params().iter().map(|p| p.to_string()).collect();
    let wrt = WrtParams::new(&net, x.clone());
    let params = checked(
        &format!(
            "∂L/∂θ: all {} parameters ({}) through the composition, from one jet pass",
            theta.len(),
            names.join(", ")
        ),
        gradient(&wrt, &theta),
    )?;
    let layer_by_layer: Vec<Q> = d_wc.data().iter().chain(d_wl.data()).cloned().collect();
    if params.gradient.data() != layer_by_layer.as_slice() {
        return Err("the checked parameter gradients differ from the layer-by-layer ones".into());
    }
    println!();
    println!(
        "verdict: backward = (DL)ᵀ·1 holds exactly for x and all {} parameters at this point.",
        theta.len()
    );
    Ok(())
}
