//! Writes the benchmark networks for the peer scripts (`shared/peers/exact_peers.py`):
//! `data_SIZE_CASE.txt` (`in hidden out`, W1, b1, W2, x) and `ref_SIZE_CASE.txt` (h = W1·x + b1,
//! then J = W2·diag(relu′(h))·W1), every value as `p/q` or an integer, computed here exactly.
//!
//!     cargo run --release --example peer_data -- DIR [--time]
//!
//! With `--time`, also prints the median time of our exact Jacobian per case (a quick look;
//! the criterion benches are the measurement of record).

#[path = "../benches/common/mod.rs"]
mod common;

use common::{case, size_name, Weights, SIZES};
use exactgrad::{Tensor, Q};
use std::fmt::Write as _;
use std::time::Instant;

fn tokens(out: &mut String, t: &Tensor<Q>) {
    for v in t.data() {
        if v.denom() == &1.into() {
            writeln!(out, "{}", v.numer()).unwrap();
        } else {
            writeln!(out, "{}/{}", v.numer(), v.denom()).unwrap();
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .ok_or("usage: peer_data DIR [--time]")?;
    let time = args.iter().any(|a| a == "--time");
    std::fs::create_dir_all(dir)?;
    for size in SIZES {
        for kind in [Weights::SmallFractions, Weights::ExactF64] {
            let (mlp, x) = case(size, kind);
            let name = format!("{}_{}", size_name(size), kind.case());
            let (n, h, m) = size;
            let mut data = format!("{n} {h} {m}\n");
            tokens(&mut data, mlp.layer1().weight());
            tokens(&mut data, mlp.layer1().bias());
            tokens(&mut data, mlp.layer2().weight());
            tokens(&mut data, &x);
            std::fs::write(format!("{dir}/data_{name}.txt"), data)?;
            let mut reference = String::new();
            tokens(&mut reference, &mlp.z1(&x)?);
            tokens(&mut reference, &mlp.deriv(&x)?);
            std::fs::write(format!("{dir}/ref_{name}.txt"), reference)?;
            if time {
                let mut ts: Vec<f64> = (0..7)
                    .map(|_| {
                        let t0 = Instant::now();
                        std::hint::black_box(mlp.deriv(&x).unwrap());
                        t0.elapsed().as_secs_f64() * 1e3
                    })
                    .collect();
                ts.sort_by(f64::total_cmp);
                println!("{name}\tjacobian\t{:.3} ms", ts[3]);
            }
        }
    }
    Ok(())
}
