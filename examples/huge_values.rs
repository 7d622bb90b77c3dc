//! The MLP theorem on huge exact values (issue 13): an `n×h×m` MLP whose weights, biases, point
//! and cotangent have numerators and denominators of about `bits` bits (denominators drawn
//! independently, so mostly coprime), timed as a whole and step by step, and written out as text
//! for `scripts/huge_flint.py`, which does the same exact operations with python-flint.
//!
//!     cargo run --release --example huge_values -- [--size 8x8x4] [--bits 10000] [--seed 1]
//!         [--out DIR] [--steps] [--repeat N] [--check-linear CASES] [--check-deep CASES]
//!
//! * Prints `theorem <seconds>` (one [`mlp_theorem`] call, the median of `--repeat` runs, 1 by
//!   default) and, with `--steps`, the time of each step the theorem takes (forward, mask,
//!   closed-form derivative, vjp, `derivᵀ·δ`, the Jacobian by forward mode over jets, adjoint,
//!   kink radius, fderiv, increment).
//! * With `--out DIR`, writes `DIR/huge_data.txt` (`n h m`, then `W1`, `b1`, `W2`, `b2`, `x`,
//!   `δ` row-major, one `p/q` per line) and `DIR/huge_ours.txt` (the theorem's values: `z1`,
//!   mask, `f(x)`, `mlpDeriv(x)`, vjp, `dx`, `⟪jvp(x, dx), δ⟫`, `ρ`, `h`, `f(x+h) − f(x)`), so the
//!   peer can confirm it computed the same numbers.
//! * `--check-linear CASES` times `check_op` on a `Linear(4→3)` with `bits`-bit weights;
//!   `--check-deep CASES` on a depth-50 `DeepMlp` of width 3 with small positive fractions as
//!   weights and biases (the values grow with depth). Each prints the seconds per case.

use exactgrad::check::{
    adjoint, check_op, fderiv, kink_radius, mlp_theorem, probe, reference_jacobian, CheckConfig,
};
use exactgrad::ops::{DeepMlp, Linear, Mlp};
use exactgrad::{OpSpec, Tensor, Q};
use num_bigint::{BigInt, BigUint};
use num_traits::Signed;
use std::fmt::Write as _;
use std::time::Instant;

/// SplitMix64: a seeded stream of words, so a case is the same on every machine.
struct Words(u64);

impl Words {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A natural number of exactly `bits` bits.
    fn natural(&mut self, bits: u64) -> BigUint {
        let words = bits.div_ceil(64) as usize;
        let mut digits: Vec<u32> = Vec::with_capacity(2 * words);
        for _ in 0..words {
            let w = self.next();
            digits.push(w as u32);
            digits.push((w >> 32) as u32);
        }
        let mut n = BigUint::new(digits);
        let excess = 64 * words as u64 - bits;
        n >>= excess;
        n | (BigUint::from(1u8) << (bits - 1))
    }

    /// `±p/q` with `p` and `q` of `bits` bits (reduced, so a little shorter when they share a
    /// factor).
    fn fraction(&mut self, bits: u64) -> Q {
        let negative = self.next() & 1 == 1;
        let p = BigInt::from(self.natural(bits));
        let q = BigInt::from(self.natural(bits));
        Q::new(if negative { -p } else { p }, q)
    }

    fn tensor(&mut self, shape: Vec<usize>, bits: u64) -> Tensor<Q> {
        let n = shape.iter().product();
        let data = (0..n).map(|_| self.fraction(bits)).collect();
        Tensor::new(shape, data).expect("the data has the shape's length")
    }
}

fn tokens(out: &mut String, t: &Tensor<Q>) {
    for v in t.data() {
        writeln!(out, "{}/{}", v.numer(), v.denom()).expect("writing to a String");
    }
}

fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

/// Seconds `f` takes, and its value.
fn timed<T>(f: impl FnOnce() -> T) -> (f64, T) {
    let t0 = Instant::now();
    let v = f();
    (t0.elapsed().as_secs_f64(), v)
}

/// The largest numerator or denominator in `t`, in bits.
fn max_bits(t: &Tensor<Q>) -> u64 {
    t.data()
        .iter()
        .map(|v| v.numer().bits().max(v.denom().bits()))
        .max()
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let size = flag(&args, "--size").unwrap_or("8x8x4");
    let dims: Vec<usize> = size
        .split('x')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|_| format!("--size {size}: expected NxHxM"))?;
    let [n, h, m] = dims[..] else {
        return Err(format!("--size {size}: expected NxHxM").into());
    };
    let bits: u64 = flag(&args, "--bits").unwrap_or("10000").parse()?;
    let seed: u64 = flag(&args, "--seed").unwrap_or("1").parse()?;
    let repeat: usize = flag(&args, "--repeat").unwrap_or("1").parse()?;
    let steps = args.iter().any(|a| a == "--steps");
    let skip_theorem = args.iter().any(|a| a == "--no-theorem");

    if let Some(b) = flag(&args, "--add-bench") {
        // One sum of two fractions with coprime `b`-bit denominators: a full gcd of `b`-bit
        // numbers (Knuth's method), the primitive that dominates the huge case.
        let b: u64 = b.parse()?;
        let mut words = Words(seed);
        let (p, q) = (words.fraction(b), words.fraction(b));
        let (t, _) = timed(|| exactgrad::Ring::add_ref(&p, &q));
        println!("add of two {b}-bit fractions: {:.4} s", t);
        return Ok(());
    }
    let mut words = Words(seed);
    let w1 = words.tensor(vec![h, n], bits);
    let b1 = words.tensor(vec![h], bits);
    let w2 = words.tensor(vec![m, h], bits);
    let b2 = words.tensor(vec![m], bits);
    let x = words.tensor(vec![n], bits);
    let dy = words.tensor(vec![m], bits);
    let mlp = Mlp::new(w1.clone(), b1.clone(), w2.clone(), b2.clone())?;
    let net = mlp.as_op();
    println!("case {n}x{h}x{m}, {bits}-bit numerators and denominators, seed {seed}");

    if let Some(dir) = flag(&args, "--out") {
        std::fs::create_dir_all(dir)?;
        let mut data = format!("{n} {h} {m}\n");
        for t in [&w1, &b1, &w2, &b2, &x, &dy] {
            tokens(&mut data, t);
        }
        std::fs::write(format!("{dir}/huge_data.txt"), data)?;
    }

    if !skip_theorem {
        let mut times = Vec::new();
        let mut report = None;
        for _ in 0..repeat.max(1) {
            let (t, r) = timed(|| mlp_theorem(&mlp, &x, &dy));
            times.push(t);
            report = Some(r?);
        }
        times.sort_by(f64::total_cmp);
        let report = report.expect("at least one run");
        println!("theorem\t{:.4} s", times[times.len() / 2]);
        println!(
            "largest entry: deriv {} bits, vjp {} bits, increment {} bits",
            max_bits(&report.deriv),
            max_bits(&report.vjp),
            max_bits(&report.fderiv.increment.increment)
        );
        if let Some(dir) = flag(&args, "--out") {
            let mut ours = String::new();
            for t in [
                &report.z1,
                &report.mask,
                &report.output,
                &report.deriv,
                &report.vjp,
                &report.dx,
            ] {
                tokens(&mut ours, t);
            }
            let lhs = &report.adjoint.lhs;
            writeln!(ours, "{}/{}", lhs.numer(), lhs.denom())?;
            let rho = report.fderiv.radius.radius.clone().unwrap_or_default();
            writeln!(ours, "{}/{}", rho.numer(), rho.denom())?;
            tokens(&mut ours, &report.fderiv.increment.h);
            tokens(&mut ours, &report.fderiv.increment.increment);
            std::fs::write(format!("{dir}/huge_ours.txt"), ours)?;
        }
    }

    if steps {
        // The steps of `mlp_theorem`, each on its own (so each packs its own operands).
        let line = |name: &str, t: f64| println!("  {name:<28}{t:>10.4} s");
        let (t, _) = timed(|| net.forward(&x));
        line("forward f(x)", t);
        let (t, _) = timed(|| mlp.mask(&x));
        line("z1 and mask", t);
        let (t, deriv) = timed(|| mlp.deriv(&x));
        line("mlpDeriv (closed form)", t);
        let deriv = deriv?;
        let (t, _) = timed(|| net.vjp(&x, &dy));
        line("vjp (rules)", t);
        let (t, _) = timed(|| deriv.transpose_mat_vec_mul(&dy));
        line("mlpDerivᵀ·δ", t);
        let (t, _) = timed(|| reference_jacobian(net, &x));
        line("Jacobian (jets)", t);
        let dx = probe::<Q>(x.shape(), 2)?;
        let (t, _) = timed(|| net.jvp(&x, &dx));
        line("jvp (rules)", t);
        let (t, _) = timed(|| adjoint(net, &x, &dx, &dy));
        line("adjoint", t);
        let (t, _) = timed(|| kink_radius(net, &x));
        line("kink radius", t);
        let (t, _) = timed(|| fderiv(net, &x, &dy));
        line("fderiv (radius+jac+incr)", t);
        // The increment as fderiv builds it: h = probe·(ρ/2)/max(‖probe‖∞, 1).
        let radius = kink_radius(net, &x)?;
        let rho = radius
            .radius
            .clone()
            .unwrap_or_else(|| Q::from_integer(2.into()));
        let direction = probe::<Q>(x.shape(), 0)?;
        let norm = direction
            .data()
            .iter()
            .map(|v| v.abs())
            .fold(Q::from_integer(1.into()), |m, v| m.max(v));
        let hv = direction.scale(&(rho / Q::from_integer(2.into()) / norm));
        let (t, xh) = timed(|| x.add(&hv));
        line("x + h", t);
        let xh = xh?;
        let (t, fxh) = timed(|| net.forward(&xh));
        line("forward f(x+h)", t);
        let fx = net.forward(&x)?;
        let (t, _) = timed(|| fxh?.sub(&fx));
        line("f(x+h) − f(x)", t);
        let (t, _) = timed(|| deriv.mat_vec_mul(&hv));
        line("mlpDeriv·h", t);
        let (t, _) = timed(|| radius.contains(&hv));
        line("‖h‖∞ ≤ ρ", t);
    }

    if let Some(cases) = flag(&args, "--check-linear") {
        let cases: u32 = cases.parse()?;
        let mut words = Words(seed ^ 0x4c49_4e45);
        let layer = Linear::new(words.tensor(vec![3, 4], bits), words.tensor(vec![3], bits))?;
        let config = CheckConfig::default().cases(cases);
        let (t, r) = timed(|| check_op(&layer, &[4], &config));
        let report = r.map_err(|e| e.to_string())?;
        println!(
            "check_op Linear(4→3) {bits}-bit weights: {} cases in {t:.3} s ({:.3} s per case)",
            report.cases,
            t / f64::from(report.cases.max(1))
        );
    }

    if let Some(cases) = flag(&args, "--check-deep") {
        let cases: u32 = cases.parse()?;
        // Positive weights (identity plus one small fraction per row) and positive biases, so
        // every unit after the first layer stays active and the values grow with the depth.
        let layers = (0..50u64)
            .map(|k| {
                let frac = |p: u64, q: u64| Q::new((p as i64).into(), (q as i64).into());
                let w: Vec<Q> = (0..9u64)
                    .map(|e| {
                        let (i, j) = (e / 3, e % 3);
                        if i == j {
                            frac(1, 1)
                        } else if j == (i + 1) % 3 {
                            frac(1 + (i + j + k) % 5, 2 + (3 * i + j + k) % 7)
                        } else {
                            frac(0, 1)
                        }
                    })
                    .collect();
                let b: Vec<Q> = (0..3u64).map(|i| frac(1, 2 + (i + k) % 5)).collect();
                Linear::new(Tensor::new(vec![3, 3], w)?, Tensor::new(vec![3], b)?)
            })
            .collect::<exactgrad::Result<Vec<_>>>()?;
        let deep = DeepMlp::new(layers)?;
        let config = CheckConfig::default().cases(cases);
        let (t, r) = timed(|| check_op(&deep, &[3], &config));
        let report = r.map_err(|e| e.to_string())?;
        println!(
            "check_op DeepMlp depth 50 width 3: {} cases in {t:.3} s ({:.3} s per case)",
            report.cases,
            t / f64::from(report.cases.max(1))
        );
    }
    Ok(())
}
