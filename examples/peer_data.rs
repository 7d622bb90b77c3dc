//! Writes the benchmark networks for the peer scripts (`shared/peers/exact_peers.py`):
//! `data_SIZE_CASE.txt` (`in hidden out`, W1, b1, W2, x) and `ref_SIZE_CASE.txt` (h = W1·x + b1,
//! then J = W2·diag(relu′(h))·W1), every value as `p/q` or an integer, computed here exactly.
//!
//!     cargo run --release --example peer_data -- DIR [--time] [--theorem] [--only SIZE]
//!         [--profile-randomized] [--profile-modular]
//!
//! With `--time`, also prints the median time of our exact Jacobian per case (a quick look;
//! the criterion benches are the measurement of record). With `--theorem`, times one run of the
//! deterministic theorem check w.r.t. `x` at the sizes up to 256×128×10 (too slow for criterion's
//! ten samples there), one run of both randomized checks at every size, and the median of five
//! runs of both modular checks. `--only 784x512x10`
//! restricts to one size (e.g. under `/usr/bin/time -v` for the peak memory).

#[path = "../benches/common/mod.rs"]
mod common;

use common::{case, size_name, Weights, SIZES};
use exactgrad::check::{
    mlp_theorem, modular_jacobian, modular_params, randomized_jacobian, randomized_params, Route,
};
use exactgrad::scalar::with_kernel_cache;
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
    let time = args.iter().any(|a| a == "--time");
    let theorem = args.iter().any(|a| a == "--theorem");
    // Profiling aid: repeat only the randomized check w.r.t. all parameters.
    let profile = args.iter().any(|a| a == "--profile-randomized");
    let profile_modular = args.iter().any(|a| a == "--profile-modular");
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1));
    let dir = args
        .iter()
        .find(|a| !a.starts_with("--") && Some(*a) != only)
        .ok_or("usage: peer_data DIR [--time] [--theorem] [--only SIZE]")?;
    std::fs::create_dir_all(dir)?;
    for size in SIZES {
        if only.is_some_and(|o| *o != size_name(size)) {
            continue;
        }
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
            if profile {
                for _ in 0..10 {
                    randomized_params(&mlp, &x, 1).expect("sound");
                }
            }
            if profile_modular {
                for _ in 0..200 {
                    modular_params(&mlp, &x, 1).expect("sound");
                }
            }
            if theorem {
                let once = |f: &dyn Fn()| {
                    let t0 = Instant::now();
                    f();
                    t0.elapsed().as_secs_f64() * 1e3
                };
                if size.0 <= 256 {
                    let dy = common::cotangent(size.2);
                    let ms = once(&|| {
                        with_kernel_cache(|| mlp_theorem(&mlp, &x, &dy)).expect("sound");
                    });
                    println!("{name}\ttheorem_wrt_x_once\t{ms:.1} ms");
                }
                let ms = once(&|| {
                    randomized_jacobian(&mlp, &x, 1).expect("sound");
                });
                println!("{name}\trandomized_wrt_x_once\t{ms:.1} ms");
                let ms = once(&|| {
                    randomized_params(&mlp, &x, 1).expect("sound");
                });
                println!("{name}\trandomized_wrt_all_once\t{ms:.1} ms");
                // The modular checks are fast enough for a median of five.
                let median = |f: &dyn Fn()| {
                    let mut ts: Vec<f64> = (0..5).map(|_| once(f)).collect();
                    ts.sort_by(f64::total_cmp);
                    ts[2]
                };
                let ms = median(&|| {
                    let p = modular_jacobian(&mlp, &x, 1).expect("sound");
                    assert_eq!(p.route, Route::Modular, "decided by the filter");
                });
                println!("{name}\tmodular_wrt_x\t{ms:.2} ms");
                let ms = median(&|| {
                    let p = modular_params(&mlp, &x, 1).expect("sound");
                    assert_eq!(p.route, Route::Modular, "decided by the filter");
                });
                println!("{name}\tmodular_wrt_all\t{ms:.2} ms");
            }
        }
    }
    Ok(())
}
