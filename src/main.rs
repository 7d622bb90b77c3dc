//! The showcase: the 2-layer MLP soundness theorem checked exactly and printed as a derivation.

use clap::{Args, Parser, Subcommand};
use exactgrad::budget::{mlp_theorem_estimate, proof_estimate};
use exactgrad::check::mlp_theorem;
use exactgrad::prove::{prove_deep_mlp_theorem, prove_mlp_theorem, ProveConfig};
use exactgrad::report::{builtin_example, random_example, theorem_json};
use exactgrad::{Budget, Error, Estimate};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Checks the reference page's theorem — reverse-mode backward of Linear → ReLU → Linear equals
/// the adjoint of the true derivative — exactly over big rationals, and prints the derivation.
///
/// With no options it uses a built-in 3 → 4 → 2 network whose ReLU takes both branches. Every
/// value is an exact rational; the exit status is 0 when the theorem holds and 1 otherwise.
#[derive(Parser, Debug)]
#[command(name = "exactgrad", version, about, long_about)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// Use a random exact MLP of these sizes (e.g. `5,7,3`): weights, biases, x and δ are small
    /// fractions p/q with |p| ≤ 9, 1 ≤ q ≤ 9. Time grows like IN·HIDDEN·(IN + OUT).
    #[arg(long, value_name = "IN,HIDDEN,OUT", value_parser = parse_dims)]
    dims: Option<(usize, usize, usize)>,

    /// Seed of the random MLP (the same seed gives the same network); implies a random MLP of
    /// size 3,4,2 when --dims is absent.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,

    /// Print every value (weights, biases, x, δ, z1, mask, Jacobian, VJP, radius, verdict) as
    /// JSON with exact "p/q" strings instead of the derivation.
    #[arg(long)]
    json: bool,

    #[command(flatten)]
    budget: BudgetArgs,
}

/// The resource guard of a run.
#[derive(Args, Clone, Copy, Debug)]
struct BudgetArgs {
    /// Refuse (exit status 2, before any work) a run whose estimated time exceeds this many
    /// seconds. Runs estimated at a second or more print the estimate (time and memory) on
    /// stderr first, and long ones their progress.
    #[arg(long, value_name = "SECONDS", default_value_t = Budget::default().seconds)]
    budget_seconds: u64,

    /// Refuse (exit status 2, before any work) a run whose estimated peak memory exceeds this
    /// many MB.
    #[arg(long, value_name = "MB", default_value_t = Budget::default().memory_mb)]
    max_memory: u64,
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
    fn guard(&self, task: &str, estimate: Estimate) -> Result<(), Error> {
        if estimate.seconds >= 1.0 {
            eprintln!("exactgrad: {task}: estimated {estimate}");
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
fn refused(e: &Error) -> ExitCode {
    eprintln!("exactgrad: {e}");
    eprintln!("exactgrad: raise the budget with --budget-seconds and --max-memory");
    ExitCode::from(2)
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Prove the theorem for ALL inputs, weights, biases and cotangents of the given sizes (not
    /// at sampled points): the rules are evaluated once over polynomials in symbols, with one
    /// mask symbol per hidden unit, so every activation pattern is covered at once. Prints the
    /// certificate; exit status 0 when proved, 1 when an identity fails (with a counterexample
    /// point), 2 on bad input.
    Prove(ProveArgs),
}

#[derive(Args, Debug)]
struct ProveArgs {
    /// The 2-layer MLP Linear → ReLU → Linear of these sizes, e.g. `16,16,16`.
    #[arg(long, value_name = "IN,HIDDEN,OUT", value_parser = parse_dims)]
    #[arg(required_unless_present = "deep", conflicts_with = "deep")]
    dims: Option<(usize, usize, usize)>,

    /// The deep MLP with these layer sizes, e.g. `4,4,4,4,2` (at least three sizes).
    #[arg(long, value_name = "IN,H1,...,OUT", value_parser = parse_sizes)]
    deep: Option<Sizes>,

    /// Print the certificate as JSON.
    #[arg(long)]
    json: bool,

    #[command(flatten)]
    budget: BudgetArgs,
}

/// Layer sizes, one value on the command line (`4,4,4,2`).
#[derive(Clone, Debug)]
struct Sizes(Vec<usize>);

fn parse_sizes(s: &str) -> Result<Sizes, String> {
    let sizes = s
        .split(',')
        .map(|t| match t.trim().parse::<usize>() {
            Ok(v) if (1..=4096).contains(&v) => Ok(v),
            _ => Err(format!(
                "each size must be an integer from 1 to 4096, got {t:?}"
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if sizes.len() < 3 {
        return Err(format!("expected at least three sizes, got {s:?}"));
    }
    Ok(Sizes(sizes))
}

fn prove(args: &ProveArgs) -> ExitCode {
    let config = ProveConfig {
        budget: args.budget.budget(),
        ..ProveConfig::default()
    };
    let dims = match (&args.dims, &args.deep) {
        (Some((n, h, m)), _) => vec![*n, *h, *m],
        (None, Some(Sizes(dims))) => dims.clone(),
        (None, None) => unreachable!("clap requires --dims or --deep"),
    };
    let task = format!("prove for sizes {dims:?}");
    if let Err(e) = args.budget.guard(&task, proof_estimate(&dims)) {
        return refused(&e);
    }
    let result = if dims.len() == 3 && args.dims.is_some() {
        prove_mlp_theorem(&dims, &config)
    } else {
        prove_deep_mlp_theorem(&dims, &config)
    };
    match result {
        Ok(certificate) if args.json => {
            println!("{}", certificate.to_json());
            ExitCode::SUCCESS
        }
        Ok(certificate) => {
            println!("{certificate}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("exactgrad prove: {e}");
            match e {
                Error::ProofFailed(_) | Error::NotProved(_) => ExitCode::FAILURE,
                _ => ExitCode::from(2),
            }
        }
    }
}

fn parse_dims(s: &str) -> Result<(usize, usize, usize), String> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    let [a, b, c] = parts.as_slice() else {
        return Err(format!("expected IN,HIDDEN,OUT (three sizes), got {s:?}"));
    };
    let size = |t: &str| match t.parse::<usize>() {
        Ok(v) if (1..=4096).contains(&v) => Ok(v),
        _ => Err(format!(
            "each size must be an integer from 1 to 4096, got {t:?}"
        )),
    };
    Ok((size(a)?, size(b)?, size(c)?))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Prove(args)) = &cli.command {
        return prove(args);
    }
    let example = match (cli.dims, cli.seed) {
        (None, None) => Ok(builtin_example()),
        (dims, seed) => {
            let (n, h, m) = dims.unwrap_or((3, 4, 2));
            let task = format!("the MLP theorem at sizes {n},{h},{m}");
            if let Err(e) = cli.budget.guard(&task, mlp_theorem_estimate(n, h, m)) {
                return refused(&e);
            }
            random_example(n, h, m, seed.unwrap_or(0))
        }
    };
    let result = example.and_then(|(mlp, x, dy)| mlp_theorem(&mlp, &x, &dy));
    match (result, cli.json) {
        (Ok(report), false) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        (Ok(report), true) => {
            println!("{:#}", theorem_json(&report));
            ExitCode::SUCCESS
        }
        (Err(e), json) => {
            if json {
                println!(
                    "{:#}",
                    serde_json::json!({ "verdict": "fails", "error": e.to_string() })
                );
            }
            eprintln!("exactgrad: {e}");
            ExitCode::FAILURE
        }
    }
}
