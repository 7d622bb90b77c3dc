//! Resource guards: an estimate of the time and memory a theorem check or a proof of given
//! sizes needs, from a cost model fitted to measurements on a 2-core machine (README, "Resource
//! guards"), and a [`Budget`] that refuses a run whose estimate exceeds it with
//! [`Error::OverBudget`] before any work is done.
//!
//! The estimates are rough (within a factor of about 2 where measured, extrapolated beyond):
//! they exist to refuse sizes that would take hours or exhaust memory, not to predict seconds.

use crate::error::{Error, Result};
use std::fmt;

/// The most a run may take: wall time and peak memory, both compared with an [`Estimate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Seconds of wall time.
    pub seconds: u64,
    /// Peak memory in MB (10⁶ bytes).
    pub memory_mb: u64,
}

impl Default for Budget {
    /// 2 minutes and 4 GB: every size README's cost tables measure is admitted, while sizes
    /// that would run for many minutes or swap are refused.
    fn default() -> Self {
        Budget {
            seconds: 120,
            memory_mb: 4000,
        }
    }
}

impl Budget {
    /// No limit: every estimate is admitted.
    pub fn unlimited() -> Self {
        Budget {
            seconds: u64::MAX,
            memory_mb: u64::MAX,
        }
    }

    /// `Ok` when `estimate` fits in the budget; otherwise [`Error::OverBudget`] naming `task`,
    /// the estimate and the budget.
    pub fn admit(&self, task: &str, estimate: &Estimate) -> Result<()> {
        let (ms, mb) = (estimate.milliseconds(), estimate.megabytes());
        if ms <= self.seconds.saturating_mul(1000) && mb <= self.memory_mb {
            return Ok(());
        }
        Err(Error::OverBudget {
            task: task.into(),
            estimated_ms: ms,
            estimated_mb: mb,
            budget_seconds: self.seconds,
            budget_mb: self.memory_mb,
        })
    }
}

/// The time and peak memory a run is expected to take.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Seconds of wall time.
    pub seconds: f64,
    /// Peak memory in MB (10⁶ bytes).
    pub memory_mb: f64,
}

impl Estimate {
    /// The time in whole milliseconds (saturating).
    pub fn milliseconds(&self) -> u64 {
        // `as` saturates, so an estimate past u64 (a product of huge sizes) stays the largest.
        (self.seconds * 1000.0).ceil() as u64
    }

    /// The memory in whole MB (saturating).
    pub fn megabytes(&self) -> u64 {
        self.memory_mb.ceil() as u64
    }
}

impl fmt::Display for Estimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "about {} and {}",
            duration(self.milliseconds()),
            megabytes(self.megabytes())
        )
    }
}

/// `1.2 s`, `45 min`, `3.1 h`, `2.0e9 h`.
pub(crate) fn duration(ms: u64) -> String {
    let s = ms as f64 / 1000.0;
    if s < 60.0 {
        format!("{s:.1} s")
    } else if s < 3600.0 {
        format!("{:.0} min", s / 60.0)
    } else if s < 1e6 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.1e} h", s / 3600.0)
    }
}

/// `250 MB`, `3.4 GB`, `1.2e6 GB`.
pub(crate) fn megabytes(mb: u64) -> String {
    let mb = mb as f64;
    if mb < 1000.0 {
        format!("{mb:.0} MB")
    } else if mb < 1e6 {
        format!("{:.1} GB", mb / 1000.0)
    } else {
        format!("{:.1e} GB", mb / 1000.0)
    }
}

// Least-squares fits (README, "Resource guards"): log-log for time, linear for memory.
const THEOREM_SECONDS: (f64, f64) = (3.77e-7, 1.195);
const THEOREM_MEMORY: (f64, f64) = (13.0, 335.0);
const PROOF_SECONDS: (f64, f64) = (1.44e-5, 1.051);
const PROOF_MEMORY: (f64, f64) = (24.0, 1425.0);

/// The point theorem [`crate::check::mlp_theorem`] on a random `n → h → m` MLP
/// ([`crate::report::random_example`]), as the command line runs it. Both time and memory follow
/// the number of matrix entries the run holds, `S = n·h + h·m + n·m` (the two weight matrices and
/// the Jacobian): `3.77·10⁻⁷·S^1.195` seconds and `13 MB + 335 B·S`, fitted to runs from
/// 32×32×32 (0.03 s) to 1024×1024×1024 (21.4 s, 1.06 GB).
pub fn mlp_theorem_estimate(n: usize, h: usize, m: usize) -> Estimate {
    let (n, h, m) = (n as f64, h as f64, m as f64);
    entries_estimate(n * h + h * m + n * m)
}

/// The point theorem [`crate::check::deep_mlp_theorem`] on an MLP with layer sizes `widths`: the
/// 2-layer fit at `S` = the weight entries `Σ n_(k−1)·n_k` plus the Jacobian's `n_0·n_L`, its time
/// multiplied by the number of hidden layers (each adds a pass over jets and a closed-form
/// product). Against runs on the 2-core machine under load (measured s / estimated s):
/// 64⁶→10 0.28/0.29, 128⁴→10 0.79/0.48, 256⁴→10 3.5/2.5, 512³→10 8.7/5.2.
pub fn deep_theorem_estimate(widths: &[usize]) -> Estimate {
    let w: Vec<f64> = widths.iter().map(|&d| d as f64).collect();
    let weights: f64 = w.windows(2).map(|p| p[0] * p[1]).sum();
    let jacobian = w.first().zip(w.last()).map_or(0.0, |(a, b)| a * b);
    let hidden = widths.len().saturating_sub(2).max(1) as f64;
    let e = entries_estimate(weights + jacobian);
    Estimate {
        seconds: e.seconds * hidden,
        ..e
    }
}

/// The 2-layer fit at `entries` matrix entries.
fn entries_estimate(entries: f64) -> Estimate {
    Estimate {
        seconds: THEOREM_SECONDS.0 * entries.powf(THEOREM_SECONDS.1),
        memory_mb: THEOREM_MEMORY.0 + THEOREM_MEMORY.1 * entries / 1e6,
    }
}

/// A proof for all inputs and weights of the MLP with layer sizes `dims` (`[n, h, m]` for the
/// 2-layer theorem, more for a deep MLP: [`crate::prove::prove_mlp_theorem`],
/// [`crate::prove::prove_deep_mlp_theorem`]). What grows is the largest polynomial, the
/// parameter pairing `⟪dθ, vjp_params(x, δ)⟫`: about one term per layer and per path through
/// the network, `T = L·Π dᵢ` for `L` layers. Fitted: `1.44·10⁻⁵·T^1.051` seconds and
/// `24 MB + 1425 B·T`, from 16×16×16 (0.19 s) to 64×64×64 (19.4 s, 772 MB) and deep MLPs up to
/// depth 6.
pub fn proof_estimate(dims: &[usize]) -> Estimate {
    let layers = dims.len().saturating_sub(1) as f64;
    let terms = layers * dims.iter().map(|&d| d as f64).product::<f64>();
    Estimate {
        seconds: PROOF_SECONDS.0 * terms.powf(PROOF_SECONDS.1),
        memory_mb: PROOF_MEMORY.0 + PROOF_MEMORY.1 * terms / 1e6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_measured_sizes_are_admitted_and_the_huge_ones_refused() {
        let budget = Budget::default();
        budget
            .admit("theorem", &mlp_theorem_estimate(1024, 1024, 1024))
            .unwrap();
        budget
            .admit("prove", &proof_estimate(&[64, 64, 64]))
            .unwrap();
        let e = budget
            .admit("theorem", &mlp_theorem_estimate(4096, 4096, 4096))
            .unwrap_err();
        assert!(
            matches!(e, Error::OverBudget { estimated_mb, budget_mb: 4000, .. } if estimated_mb > 16_000),
            "{e}"
        );
        // Sizes whose product overflows stay huge, not wrapped.
        let e = proof_estimate(&[4096; 12]);
        assert_eq!(e.milliseconds(), u64::MAX);
        assert!(Budget::unlimited().admit("prove", &e).is_ok());
    }
}
