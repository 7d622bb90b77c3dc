//! The command line of the `exactgrad` binary, in the library so that its parsing and what it
//! does with the parsed values can be tested and fuzzed without starting a process.

use crate::budget::{
    deep_theorem_estimate, mlp_theorem_estimate, proof_estimate, Budget, Estimate,
};
use crate::check::{deep_mlp_theorem, mlp_theorem};
use crate::error::Error;
use crate::prove::{prove_deep_mlp_theorem, prove_mlp_theorem, ProveConfig};
use crate::report::{
    builtin_example, failure_json, random_deep_example, random_example, read_weights,
    write_deep_theorem_json, write_theorem_json, Case, Derivation, Detail, Network,
};
use clap::{Args, Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

mod check_model;

/// The largest layer size the command line accepts (the same bound as a weights file's).
pub const MAX_SIZE: usize = crate::report::MAX_SIZE;

/// Checks the reference page's theorem — reverse-mode backward of Linear → ReLU → Linear equals
/// the adjoint of the true derivative — exactly over big rationals, and prints the derivation.
///
/// With no options it uses a built-in 3 → 4 → 2 network whose ReLU takes both branches;
/// --dims/--seed draw a random one, --deep a deep one, --weights reads one from a JSON file.
/// Every value is an exact rational; the exit status is 0 when the theorem holds, 1 when it
/// fails (or the point is on a kink), 2 on bad input or a run refused by the budget.
#[derive(Parser, Debug)]
#[command(name = "exactgrad", version, about, long_about)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// The subcommand, if any (`prove`).
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Use a random exact MLP of these sizes (e.g. `5,7,3`): weights, biases, x and δ are small
    /// fractions p/q with |p| ≤ 9, 1 ≤ q ≤ 9. Time grows like IN·HIDDEN·(IN + OUT).
    #[arg(long, value_name = "IN,HIDDEN,OUT", value_parser = dims_arg)]
    pub dims: Option<(usize, usize, usize)>,

    /// Check the deep MLP theorem at a point instead, on a random network with these layer
    /// sizes (at least three, e.g. `4,8,8,3`).
    #[arg(long, value_name = "IN,H1,...,OUT", value_parser = sizes_arg, conflicts_with = "dims")]
    pub deep: Option<Sizes>,

    /// Seed of the random MLP (the same seed gives the same network; a draw with every hidden
    /// unit off or a zero VJP is redrawn from it); implies a random MLP of size 3,4,2 when
    /// neither --dims nor --deep is given.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Read the network, x and δ from this JSON file instead of drawing them: the layout of the
    /// --json output (`"schema": 1`, then `W1`, `b1`, `W2`, `b2` or `layers`, and `x`, `delta`,
    /// each `{"shape": [...], "data": ["p/q", ...]}`), so that output fed back reruns the
    /// check. A defect is an error naming the field and index (exit status 2).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["dims", "deep", "seed"])]
    pub weights: Option<PathBuf>,

    /// Print every value (weights, biases, x, δ, z1, mask, Jacobian, VJP, radius, verdict) as
    /// JSON with exact "p/q" strings instead of the derivation; always complete, whatever the
    /// size. A failure is written as JSON too, its error as structured fields.
    #[arg(long)]
    pub json: bool,

    /// Print each tensor of the derivation as a summary (shape, largest entry shortened,
    /// digest); the default for networks with more than 4096 values in all.
    #[arg(long, conflicts_with = "full")]
    pub summary: bool,

    /// Print every value of the derivation, however large the network.
    #[arg(long)]
    pub full: bool,

    /// The resource guard of the run.
    #[command(flatten)]
    pub budget: BudgetArgs,
}

/// The resource guard of a run.
#[derive(Args, Clone, Copy, Debug)]
pub struct BudgetArgs {
    /// Refuse (exit status 2, before any work) a run whose estimated time exceeds this many
    /// seconds. Runs estimated at a second or more print the estimate (time and memory) on
    /// stderr first, and long ones their progress.
    #[arg(long, value_name = "SECONDS", default_value_t = Budget::default().seconds)]
    pub budget_seconds: u64,

    /// Refuse (exit status 2, before any work) a run whose estimated peak memory exceeds this
    /// many MB.
    #[arg(long, value_name = "MB", default_value_t = Budget::default().memory_mb)]
    pub max_memory: u64,
}

impl BudgetArgs {
    fn budget(&self) -> Budget {
        Budget {
            seconds: self.budget_seconds,
            memory_mb: self.max_memory,
        }
    }

    /// Prints the estimate of a run expected to take a second or more, refuses it past the
    /// budget, and reports the elapsed time of a long one every few seconds (the work itself has
    /// no hooks, so progress is time against the estimate).
    fn guard(&self, task: &str, estimate: Estimate, err: &mut dyn Write) -> Result<(), Error> {
        if estimate.seconds >= 1.0 {
            let _ = writeln!(err, "exactgrad: {task}: estimated {estimate}");
        }
        self.budget().admit(task, &estimate)?;
        if estimate.seconds >= 5.0 {
            let (task, total) = (task.to_string(), estimate.seconds);
            let start = Instant::now();
            // Detached: the process exits when the run ends, and the thread with it.
            std::thread::spawn(move || loop {
                std::thread::sleep(Duration::from_secs(5));
                eprintln!(
                    "exactgrad: {task}: {:.0} s elapsed of about {total:.0} s estimated",
                    start.elapsed().as_secs_f64()
                );
            });
        }
        Ok(())
    }
}

/// The refusal of a run over budget: the typed error, then how to raise the budget.
fn refused(e: &Error, err: &mut dyn Write) -> u8 {
    let _ = writeln!(err, "exactgrad: {e}");
    let _ = writeln!(
        err,
        "exactgrad: raise the budget with --budget-seconds and --max-memory"
    );
    2
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Prove the theorem for ALL inputs, weights, biases and cotangents of the given sizes (not
    /// at sampled points): the rules are evaluated once over polynomials in symbols, with one
    /// mask symbol per hidden unit, so every activation pattern is covered at once. Prints the
    /// certificate; exit status 0 when proved, 1 when an identity fails (with a counterexample
    /// point), 2 on bad input.
    Prove(ProveArgs),
    /// Check a model exported to ONNX (e.g. by `torch.onnx.export`): run it exactly over the
    /// rationals at the input, name any kink (node, coordinate), compute the exact gradients
    /// of ⟨output, δ⟩ with respect to the input and every weight, and with --compare grade a
    /// framework's float gradients: `exact` (bit for bit), `rounding` (within the rigorous
    /// error bound of a float run, printed in ulps), or `wrong` (the first bad coordinate, both
    /// values and the error). Exit status 0 when every tensor passes, 1 when one is wrong, 2 on
    /// bad input (a malformed file, an unsupported op, a shape mismatch, NaN, a kink).
    Check(CheckArgs),
}

/// The options of `check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The model (`.onnx`, opset 13 or later).
    #[arg(value_name = "MODEL.onnx")]
    pub model: PathBuf,

    /// The input (`.npy`; float16/32/64 values are read exactly). Without it, an input of
    /// non-zero multiples of 1/8 in [−2, 2] is drawn from --seed (the model's input shape must then be
    /// fixed).
    #[arg(long, value_name = "x.npy")]
    pub input: Option<PathBuf>,

    /// The output cotangent δ (`.npy`); the gradients are those of ⟨output, δ⟩. Default: all
    /// ones (what `output.sum().backward()` gives in PyTorch).
    #[arg(long, value_name = "dy.npy")]
    pub cotangent: Option<PathBuf>,

    /// A framework's gradients (`.npz`), keyed by the graph input's name for the input gradient
    /// and by initializer names (PyTorch's parameter names) for the weights; each array's dtype
    /// says which float format it was computed in.
    #[arg(long, value_name = "grads.npz")]
    pub compare: Option<PathBuf>,

    /// Write the exact gradients to this `.npz` file (float64, rounded to nearest).
    #[arg(long, value_name = "out.npz")]
    pub save: Option<PathBuf>,

    /// The seed of the drawn input (without --input).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,

    /// Print every value exactly as JSON.
    #[arg(long)]
    pub json: bool,

    /// Print every gradient value, however large the model.
    #[arg(long, conflicts_with = "summary")]
    pub full: bool,

    /// Print each gradient as a summary (shape, largest entry, digest), however small.
    #[arg(long)]
    pub summary: bool,
}

/// The options of `prove`.
#[derive(Args, Debug)]
pub struct ProveArgs {
    /// The 2-layer MLP Linear → ReLU → Linear of these sizes, e.g. `16,16,16`.
    #[arg(long, value_name = "IN,HIDDEN,OUT", value_parser = dims_arg)]
    #[arg(required_unless_present = "deep", conflicts_with = "deep")]
    pub dims: Option<(usize, usize, usize)>,

    /// The deep MLP with these layer sizes, e.g. `4,4,4,4,2` (at least three sizes).
    #[arg(long, value_name = "IN,H1,...,OUT", value_parser = sizes_arg)]
    pub deep: Option<Sizes>,

    /// Print the certificate as JSON.
    #[arg(long)]
    pub json: bool,

    /// The resource guard of the proof.
    #[command(flatten)]
    pub budget: BudgetArgs,
}

/// Layer sizes, one value on the command line (`4,4,4,2`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sizes(pub Vec<usize>);

/// One layer size from `1` to [`MAX_SIZE`]; [`Error::InvalidArgument`] naming `argument`.
fn size(argument: &str, t: &str) -> Result<usize, Error> {
    match t.trim().parse::<usize>() {
        Ok(v) if (1..=MAX_SIZE).contains(&v) => Ok(v),
        _ => Err(Error::InvalidArgument {
            op: "exactgrad".into(),
            argument: argument.into(),
            value: format!("{t:?}"),
            requirement: format!("an integer from 1 to {MAX_SIZE}"),
        }),
    }
}

/// `IN,HIDDEN,OUT` (`--dims`): three sizes from 1 to [`MAX_SIZE`], else
/// [`Error::InvalidArgument`].
pub fn parse_dims(s: &str) -> Result<(usize, usize, usize), Error> {
    let parts: Vec<&str> = s.split(',').collect();
    let [a, b, c] = parts.as_slice() else {
        return Err(Error::InvalidArgument {
            op: "exactgrad".into(),
            argument: "--dims".into(),
            value: format!("{s:?}"),
            requirement: "three sizes IN,HIDDEN,OUT".into(),
        });
    };
    Ok((size("--dims", a)?, size("--dims", b)?, size("--dims", c)?))
}

/// `IN,H1,...,OUT` (`--deep`): at least three sizes from 1 to [`MAX_SIZE`], else
/// [`Error::InvalidArgument`].
pub fn parse_sizes(s: &str) -> Result<Sizes, Error> {
    let sizes = s
        .split(',')
        .map(|t| size("--deep", t))
        .collect::<Result<Vec<_>, _>>()?;
    if sizes.len() < 3 {
        return Err(Error::InvalidArgument {
            op: "exactgrad".into(),
            argument: "--deep".into(),
            value: format!("{s:?}"),
            requirement: "at least three sizes".into(),
        });
    }
    Ok(Sizes(sizes))
}

// clap wants an error it can print; the typed error's sentence is that.
fn dims_arg(s: &str) -> Result<(usize, usize, usize), String> {
    parse_dims(s).map_err(|e| e.to_string())
}

fn sizes_arg(s: &str) -> Result<Sizes, String> {
    parse_sizes(s).map_err(|e| e.to_string())
}

/// Runs the parsed command line, writing the report to `out` and errors to `err`; returns the
/// exit status (0: the theorem holds or is proved; 1: it fails, or the point is on a kink; 2: bad
/// input — options, a weights file — or a run refused by the budget).
///
/// Write errors on `out` or `err` are ignored, as `println!` into a closed pipe is all the
/// binary could do about them.
pub fn run(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    match &cli.command {
        Some(Command::Prove(args)) => return prove(args, out, err),
        Some(Command::Check(args)) => return check_model::run(args, out, err),
        None => {}
    }
    let case = match case(cli, err) {
        Ok(case) => case,
        Err(e) => {
            if cli.json {
                let _ = writeln!(out, "{:#}", failure_json(None, &e));
            }
            return match e {
                Error::OverBudget { .. } => refused(&e, err),
                _ => {
                    let _ = writeln!(err, "exactgrad: {e}");
                    2
                }
            };
        }
    };
    let detail = match (cli.summary, cli.full) {
        (true, _) => Detail::Summary,
        (_, true) => Detail::Full,
        _ => Detail::Auto,
    };
    let written = match &case.network {
        Network::Mlp(mlp) => mlp_theorem(mlp, &case.x, &case.delta).map(|report| {
            if cli.json {
                write_theorem_json(&report, out)
            } else {
                let report = &report;
                writeln!(out, "{}", Derivation { report, detail })
            }
        }),
        Network::Deep(net) => deep_mlp_theorem(net, &case.x, &case.delta).map(|report| {
            if cli.json {
                write_deep_theorem_json(net, &report, out)
            } else {
                let report = &report;
                writeln!(out, "{}", Derivation { report, detail })
            }
        }),
    };
    match written {
        // A write error (a closed pipe) is not the theorem's failure.
        Ok(_) => 0,
        Err(e) => {
            if cli.json {
                let _ = writeln!(out, "{:#}", failure_json(Some(&case), &e));
            }
            let _ = writeln!(err, "exactgrad: {e}");
            1
        }
    }
}

/// The largest weights file read: 256 MB, beyond the JSON of any network the default budget
/// admits, and a bound on what `--weights /dev/zero` can cost.
pub const MAX_FILE_BYTES: u64 = 256_000_000;

/// The text of `path`, at most [`MAX_FILE_BYTES`], else [`Error::InvalidArgument`] naming
/// `--weights`.
fn read_file(path: &std::path::Path) -> Result<String, Error> {
    use std::io::Read;
    let refuse = |requirement: String| Error::InvalidArgument {
        op: "exactgrad".into(),
        argument: "--weights".into(),
        value: format!("{}", path.display()),
        requirement,
    };
    let file = std::fs::File::open(path).map_err(|e| refuse(format!("a readable file ({e})")))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| refuse(format!("a readable file ({e})")))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(refuse(format!("a file of at most {MAX_FILE_BYTES} bytes")));
    }
    String::from_utf8(bytes).map_err(|e| refuse(format!("UTF-8 text ({e})")))
}

/// The network, point and cotangent the options name, after the resource guard admitted the
/// run: a weights file, a random deep or 2-layer MLP, or the built-in example.
fn case(cli: &Cli, err: &mut dyn Write) -> Result<Case, Error> {
    if let Some(path) = &cli.weights {
        let text = read_file(path)?;
        let case = read_weights(&text)?;
        let widths = case.network.widths();
        let task = format!("the theorem at the sizes {widths:?} of {}", path.display());
        cli.budget
            .guard(&task, deep_theorem_estimate(&widths), err)?;
        return Ok(case);
    }
    let seed = cli.seed.unwrap_or(0);
    if let Some(Sizes(widths)) = &cli.deep {
        let task = format!("the deep MLP theorem at sizes {widths:?}");
        cli.budget
            .guard(&task, deep_theorem_estimate(widths), err)?;
        let (net, x, delta) = random_deep_example(widths, seed)?;
        return Ok(Case {
            network: Network::Deep(net),
            x,
            delta,
        });
    }
    let (mlp, x, delta) = match (cli.dims, cli.seed) {
        (None, None) => builtin_example(),
        (dims, _) => {
            let (n, h, m) = dims.unwrap_or((3, 4, 2));
            let task = format!("the MLP theorem at sizes {n},{h},{m}");
            cli.budget
                .guard(&task, mlp_theorem_estimate(n, h, m), err)?;
            random_example(n, h, m, seed)?
        }
    };
    Ok(Case {
        network: Network::Mlp(mlp),
        x,
        delta,
    })
}

fn prove(args: &ProveArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let config = ProveConfig {
        budget: args.budget.budget(),
        ..ProveConfig::default()
    };
    let dims = match (&args.dims, &args.deep) {
        (Some((n, h, m)), _) => vec![*n, *h, *m],
        (None, Some(Sizes(dims))) => dims.clone(),
        // clap requires one of them; a `Cli` built by hand without either is bad input.
        (None, None) => {
            let e = Error::InvalidArgument {
                op: "exactgrad prove".into(),
                argument: "--dims or --deep".into(),
                value: "absent".into(),
                requirement: "given".into(),
            };
            let _ = writeln!(err, "exactgrad prove: {e}");
            return 2;
        }
    };
    let task = format!("prove for sizes {dims:?}");
    if let Err(e) = args.budget.guard(&task, proof_estimate(&dims), err) {
        return refused(&e, err);
    }
    let result = if args.dims.is_some() {
        prove_mlp_theorem(&dims, &config)
    } else {
        prove_deep_mlp_theorem(&dims, &config)
    };
    match result {
        Ok(certificate) if args.json => {
            let _ = writeln!(out, "{}", certificate.to_json());
            0
        }
        Ok(certificate) => {
            let _ = writeln!(out, "{certificate}");
            0
        }
        Err(e) => {
            let _ = writeln!(err, "exactgrad prove: {e}");
            match e {
                Error::ProofFailed(_) | Error::NotProved(_) => 1,
                _ => 2,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_parsed_or_named() {
        assert_eq!(parse_dims(" 3, 4,2"), Ok((3, 4, 2)));
        assert_eq!(parse_sizes("1,2,3,4"), Ok(Sizes(vec![1, 2, 3, 4])));
        for bad in ["", "1,2", "1,2,3,4", "0,1,1", "1,1,4097", "1,-1,1", "1,,1"] {
            assert!(
                matches!(parse_dims(bad), Err(Error::InvalidArgument { .. })),
                "{bad:?}"
            );
        }
        for bad in ["", "1,2", "1,2,x", "99999999999999999999999,1,1"] {
            assert!(
                matches!(parse_sizes(bad), Err(Error::InvalidArgument { .. })),
                "{bad:?}"
            );
        }
    }
}
