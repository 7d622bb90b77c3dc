//! What a proof for all inputs costs: the symbolic 2-layer theorem at widths 4, 8, 16 and 32,
//! the deep MLP at depths 3 and 4, and the region enumeration of a 2→16→16→2 network with
//! random weights. Prints a markdown table; run by hand
//! (`cargo run --release --example prove_cost [MAX-WIDTH]`, default 32).

use exactgrad::ops::{DeepMlp, Linear};
use exactgrad::prove::{
    linear_regions, prove_deep_mlp_theorem, prove_mlp_theorem, Certificate, ProveConfig,
};
use exactgrad::{Tensor, Q};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use std::time::Instant;

fn row(what: &str, c: &Certificate) {
    let s = &c.symbols;
    println!(
        "| {what} | {} | {} | {} | {} | {} | {:.3} |",
        s.inputs + s.weights + s.tangents + s.cotangents,
        s.masks,
        c.coordinates,
        c.monomials,
        c.largest_polynomial,
        c.seconds
    );
}

/// A `rows × cols` matrix of small random rationals `p/q`, `|p| ≤ 9`, `1 ≤ q ≤ 4`.
fn random(rng: &mut ChaCha8Rng, shape: &[usize]) -> Tensor<Q> {
    let n = shape.iter().product();
    let data = (0..n)
        .map(|_| {
            Q::new(
                rng.random_range(-9..=9).into(),
                rng.random_range(1..=4).into(),
            )
        })
        .collect();
    Tensor::new(shape.to_vec(), data).expect("shape and data agree")
}

fn main() {
    let max_width: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(32);
    let config = ProveConfig::default();
    println!("| proof | symbols | masks | coordinates | monomials | largest polynomial (terms) | seconds |");
    println!("|---|---|---|---|---|---|---|");
    for w in [4usize, 8, 16, 32].into_iter().filter(|&w| w <= max_width) {
        match prove_mlp_theorem(&[w, w, w], &config) {
            Ok(c) => row(&format!("2-layer theorem {w}×{w}×{w}"), &c),
            Err(e) => println!("| 2-layer theorem {w}×{w}×{w} | failed: {e} |"),
        }
    }
    for dims in [vec![4, 4, 4, 4], vec![4, 4, 4, 4, 4]] {
        let name = format!("deep MLP depth {} ({dims:?})", dims.len() - 1);
        match prove_deep_mlp_theorem(&dims, &config) {
            Ok(c) => row(&name, &c),
            Err(e) => println!("| {name} | failed: {e} |"),
        }
    }

    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let dims = [2usize, 16, 16, 2];
    let layers = dims
        .windows(2)
        .map(|w| Linear::new(random(&mut rng, &[w[1], w[0]]), random(&mut rng, &[w[1]])))
        .collect::<exactgrad::Result<Vec<_>>>()
        .expect("shapes chain");
    let net = DeepMlp::new(layers).expect("layers chain");
    let t = Instant::now();
    match linear_regions(&net, &[2], &config) {
        Ok(r) => println!(
            "\nregions of {} (random weights, seed 7): {} regions, {} guards, {} exact LPs, \
             rules proved on each; {:.3} s",
            r.op,
            r.regions.len(),
            r.guards,
            r.lps,
            t.elapsed().as_secs_f64()
        ),
        Err(e) => println!("\nregions of 2→16→16→2: failed: {e}"),
    }
}
