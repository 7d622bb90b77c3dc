//! The binary's command line: any arguments are parsed by clap exactly as `main` does
//! ([`exactgrad::cli::Cli`]), and what parses is run ([`exactgrad::cli::run`]) into memory.
//!
//! Input: the arguments, separated by NUL bytes or whitespace. Parsed sizes up to 4096 are valid
//! and take seconds to minutes (bounding that is the resource-guard issue, not a crash), so
//! runs are limited to small networks; parsing itself is never limited.
#![no_main]

use clap::Parser;
use exactgrad::cli::{run, Cli, Command, Sizes};
use libfuzzer_sys::fuzz_target;

/// Small enough that one execution stays in milliseconds.
fn small(cli: &Cli) -> bool {
    match &cli.command {
        Some(Command::Prove(args)) => {
            let dims_ok = args.dims.is_none_or(|(n, h, m)| n + h + m <= 6);
            let deep_ok = args
                .deep
                .as_ref()
                .is_none_or(|Sizes(d)| d.len() <= 4 && d.iter().all(|&s| s <= 2));
            dims_ok && deep_ok
        }
        // `check` and --weights read files the input names (the `onnx`, `npy` and `weights`
        // targets fuzz those readers).
        Some(Command::Check(_)) => false,
        None if cli.weights.is_some() => false,
        None => {
            let deep_ok = cli
                .deep
                .as_ref()
                .is_none_or(|Sizes(d)| d.len() <= 5 && d.iter().all(|&s| s <= 4));
            deep_ok && cli.dims.is_none_or(|(n, h, m)| n * h * (n + m) <= 200)
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let args = std::iter::once("exactgrad").chain(
        text.split(|c: char| c == '\0' || c.is_whitespace())
            .filter(|a| !a.is_empty()),
    );
    let Ok(cli) = Cli::try_parse_from(args) else {
        return;
    };
    if small(&cli) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let status = run(&cli, &mut out, &mut err);
        assert!(status <= 2, "exit status {status}");
        if status != 0 {
            assert!(!err.is_empty(), "a failure must say why");
        }
    }
});
