//! The showcase: the 2-layer MLP soundness theorem checked exactly and printed as a derivation.
//! The command line itself is [`exactgrad::cli`].

use clap::Parser;
use exactgrad::cli::{run, Cli};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    ExitCode::from(run(&cli, &mut std::io::stdout(), &mut std::io::stderr()))
}
