//! Writes the benchmark networks for the peer scripts (`shared/peers/exact_peers.py`):
//! `data_SIZE_CASE.txt` (`in hidden out`, W1, b1, W2, x) and `ref_SIZE_CASE.txt` (h = W1·x + b1,
//! then J = W2·diag(relu′(h))·W1), every value as `p/q` or an integer, computed here exactly.
//!
//!     cargo run --release --example peer_data -- DIR [--time] [--theorem] [--only SIZE]
//!         [--profile-randomized] [--profile-modular] [--profile-theorem]
//!
//! With `--time`, also prints the median time of our exact Jacobian per case (a quick look;
//! the criterion benches are the measurement of record). With `--theorem`, times the median of
//! five runs of the deterministic theorem check w.r.t. `x`, one run of both randomized checks
//! (exact) at every size, the modular check w.r.t. all on weights no check has converted yet
//! (`modular_wrt_all_first`: the median over five fresh copies), the median of five runs of
//! both modular checks, and the physical floor: one `f64` forward and backward pass of the same
//! network (gradients w.r.t. the input and every weight; median of 101). `--only 784x512x10` restricts to one size (e.g. under
//! `/usr/bin/time -v` for the peak memory).

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

/// The network in `f64` (each weight its nearest double), for the physical floor: what one float
/// forward and backward pass of the same network costs on this machine.
struct FloatNet {
    w1: Vec<f64>,
    b1: Vec<f64>,
    w2: Vec<f64>,
    b2: Vec<f64>,
    x: Vec<f64>,
    dy: Vec<f64>,
}

impl FloatNet {
    fn new(mlp: &exactgrad::ops::Mlp, x: &Tensor<Q>) -> FloatNet {
        let f = |t: &Tensor<Q>| -> Vec<f64> {
            t.data()
                .iter()
                .map(|v| num_traits::ToPrimitive::to_f64(v).expect("finite"))
                .collect()
        };
        let m = mlp.layer2().bias().len();
        FloatNet {
            w1: f(mlp.layer1().weight()),
            b1: f(mlp.layer1().bias()),
            w2: f(mlp.layer2().weight()),
            b2: f(mlp.layer2().bias()),
            x: f(x),
            dy: (0..m)
                .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
                .collect(),
        }
    }

    /// `y = W2·relu(W1·x + b1) + b2`, then the gradients of `⟪δ, y⟫` w.r.t. `x`, `W1`, `b1`,
    /// `W2`, `b2` (returned so that nothing is optimised away).
    fn forward_backward(&self) -> [Vec<f64>; 6] {
        let (h, n, m) = (self.b1.len(), self.x.len(), self.b2.len());
        let z: Vec<f64> = (0..h)
            .map(|i| {
                let row = &self.w1[i * n..(i + 1) * n];
                row.iter().zip(&self.x).map(|(w, x)| w * x).sum::<f64>() + self.b1[i]
            })
            .collect();
        let a: Vec<f64> = z.iter().map(|v| v.max(0.0)).collect();
        let y: Vec<f64> = (0..m)
            .map(|i| {
                let row = &self.w2[i * h..(i + 1) * h];
                row.iter().zip(&a).map(|(w, a)| w * a).sum::<f64>() + self.b2[i]
            })
            .collect();
        let g_w2: Vec<f64> = (0..m * h).map(|k| self.dy[k / h] * a[k % h]).collect();
        let g_z: Vec<f64> = (0..h)
            .map(|j| {
                let back: f64 = (0..m).map(|i| self.w2[i * h + j] * self.dy[i]).sum();
                if z[j] > 0.0 {
                    back
                } else {
                    0.0
                }
            })
            .collect();
        let g_w1: Vec<f64> = (0..h * n).map(|k| g_z[k / n] * self.x[k % n]).collect();
        let mut g_x = vec![0.0; n];
        for (j, gz) in g_z.iter().enumerate() {
            for (g, w) in g_x.iter_mut().zip(&self.w1[j * n..(j + 1) * n]) {
                *g += w * gz;
            }
        }
        [y, g_x, g_w1, g_z, g_w2, self.dy.clone()]
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let time = args.iter().any(|a| a == "--time");
    let theorem = args.iter().any(|a| a == "--theorem");
    // Profiling aid: repeat only the randomized check w.r.t. all parameters.
    let profile = args.iter().any(|a| a == "--profile-randomized");
    let profile_modular = args.iter().any(|a| a == "--profile-modular");
    let profile_theorem = args.iter().any(|a| a == "--profile-theorem");
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
            if profile_theorem {
                let dy = common::cotangent(size.2);
                for _ in 0..20 {
                    mlp_theorem(&mlp, &x, &dy).expect("sound");
                }
            }
            if theorem {
                let once = |f: &dyn Fn()| {
                    let t0 = Instant::now();
                    f();
                    t0.elapsed().as_secs_f64() * 1e3
                };
                let median = |runs: usize, f: &dyn Fn()| {
                    let mut ts: Vec<f64> = (0..runs).map(|_| once(f)).collect();
                    ts.sort_by(f64::total_cmp);
                    ts[runs / 2]
                };
                let dy = common::cotangent(size.2);
                let ms = median(5, &|| {
                    with_kernel_cache(|| mlp_theorem(&mlp, &x, &dy)).expect("sound");
                });
                println!("{name}\ttheorem_wrt_x\t{ms:.2} ms");
                let net = FloatNet::new(&mlp, &x);
                let ms = median(101, &|| {
                    std::hint::black_box(net.forward_backward());
                });
                println!("{name}\tfloor_f64_forward_backward\t{ms:.4} ms");
                let ms = once(&|| {
                    randomized_jacobian(&mlp, &x, 1).expect("sound");
                });
                println!("{name}\trandomized_wrt_x_once\t{ms:.1} ms");
                let ms = once(&|| {
                    randomized_params(&mlp, &x, 1).expect("sound");
                });
                println!("{name}\trandomized_wrt_all_once\t{ms:.1} ms");
                // The first modular check on weights no check has seen (a fresh copy: new tensor
                // ids), the median over five fresh copies; the medians below check the same
                // weights again, which from the second check on keep their prime-independent parts.
                let mut ts: Vec<f64> = (0..5)
                    .map(|_| {
                        let (fresh, fresh_x) = case(size, kind);
                        once(&|| {
                            let p = modular_params(&fresh, &fresh_x, 1).expect("sound");
                            assert_eq!(p.route, Route::Modular, "decided by the filter");
                        })
                    })
                    .collect();
                ts.sort_by(f64::total_cmp);
                let ms = ts[2];
                println!("{name}\tmodular_wrt_all_first\t{ms:.2} ms");
                // The modular checks are fast enough for a median of five.
                let ms = median(5, &|| {
                    let p = modular_jacobian(&mlp, &x, 1).expect("sound");
                    assert_eq!(p.route, Route::Modular, "decided by the filter");
                });
                println!("{name}\tmodular_wrt_x\t{ms:.2} ms");
                let ms = median(5, &|| {
                    let p = modular_params(&mlp, &x, 1).expect("sound");
                    assert_eq!(p.route, Route::Modular, "decided by the filter");
                });
                println!("{name}\tmodular_wrt_all\t{ms:.2} ms");
            }
        }
    }
    Ok(())
}
