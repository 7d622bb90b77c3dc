//! `exactgrad check MODEL.onnx`: the exact gradients of an exported model, and the grade of a
//! framework's float gradients.

use super::CheckArgs;
use crate::check::{grade, model_gradients, model_kinks, FloatFormat, ModelGradients};
use crate::error::{Error, Result};
use crate::import::npy::{read_npy, read_npz_with_dtype, write_npz, Dtype};
use crate::import::onnx::Model;
use crate::report::{Detail, ModelCheck};
use crate::scalar::{Rounded, Q};
use crate::tensor::Tensor;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use num_bigint::BigInt;
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use std::io::{IsTerminal, Write};
use std::time::Duration;

/// Runs the command; the exit status (0 pass, 1 a wrong gradient, 2 bad input or a kink).
pub fn run(args: &CheckArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let mut progress = Progress::new(if args.compare.is_some() { 4 } else { 3 });
    let result = check(args, &mut progress);
    progress.finish();
    match result {
        Ok(report) => {
            let written = if args.json {
                writeln!(out, "{:#}", report.json())
            } else {
                let detail = match (args.full, args.summary) {
                    (true, _) => Detail::Full,
                    (_, true) => Detail::Summary,
                    _ => Detail::Auto,
                };
                write!(out, "{}", report.text(detail))
            };
            if written.is_err() {
                return 2;
            }
            report.exit_code()
        }
        Err(e) => {
            if args.json {
                let _ = writeln!(out, "{:#}", crate::report::failure_json(None, &e));
            }
            let _ = writeln!(err, "exactgrad check: {e}");
            2
        }
    }
}

fn check(args: &CheckArgs, progress: &mut Progress) -> Result<ModelCheck> {
    progress.step("reading the input and the model");
    let x = match &args.input {
        Some(path) => Some(read_npy(path)?),
        None => None,
    };
    let model = Model::load(&args.model, x.as_ref().map(Tensor::shape))?;
    let (x, input_source) = match (x, &args.input) {
        (Some(x), Some(path)) => (x, path.display().to_string()),
        _ => (
            drawn(model.input_shape(), args.seed)?,
            format!(
                "drawn with seed {} (multiples of 1/8 in [−2, 2])",
                args.seed
            ),
        ),
    };
    let (dy, cotangent_source) = match &args.cotangent {
        Some(path) => (read_npy(path)?, path.display().to_string()),
        None => (
            Tensor::new(
                model.output_shape().to_vec(),
                vec![Q::from_integer(BigInt::from(1)); model.output_shape().iter().product()],
            )?,
            "all ones (the default)".into(),
        ),
    };
    progress.step("running the model exactly and looking for kinks");
    let closest = model_kinks(&model, &x)?;
    // With --compare, one pass over `Rounded` gives the exact values and their bounds together.
    let floats = match &args.compare {
        Some(path) => Some((path, read_npz_with_dtype(path)?)),
        None => None,
    };
    progress.step("exact gradients");
    let bounded = if floats.is_some() {
        Some(model_gradients::<Rounded>(&model, &x, &dy)?)
    } else {
        None
    };
    let gradients = match &bounded {
        Some(b) => exact_values(b),
        None => model_gradients::<Q>(&model, &x, &dy)?,
    };
    if let Some(path) = &args.save {
        let all: Vec<(String, Tensor<Q>)> = gradients.all().cloned().collect();
        write_npz(path, &all)?;
    }
    let compared = match (floats, bounded) {
        (Some((path, floats)), Some(bounded)) => {
            progress.step("grading");
            let names: Vec<String> = bounded.all().map(|(n, _)| n.clone()).collect();
            let mut grades = Vec::with_capacity(floats.len());
            for (key, dtype, float) in floats {
                let Some((_, exact)) = bounded.all().find(|(n, _)| *n == key) else {
                    return Err(Error::InvalidArgument {
                        op: "exactgrad check".into(),
                        argument: format!("--compare array {key:?}"),
                        value: path.display().to_string(),
                        requirement: format!(
                            "an array named after the input or a weight: {}",
                            names.join(", ")
                        ),
                    });
                };
                let format = FloatFormat::of(dtype).ok_or_else(|| Error::InvalidArgument {
                    op: "exactgrad check".into(),
                    argument: format!("--compare array {key:?}"),
                    value: Dtype::Int.to_string(),
                    requirement: "a float16, float32 or float64 array".into(),
                })?;
                grades.push(grade(&key, &float, exact, format)?);
            }
            Some((path.display().to_string(), grades))
        }
        _ => None,
    };
    Ok(ModelCheck {
        model: args.model.display().to_string(),
        producer: model.producer().to_string(),
        opset: model.opset(),
        nodes: model.graph().nodes().len(),
        input_source,
        cotangent_source,
        closest,
        gradients,
        compared,
    })
}

/// The exact values of gradients computed over [`Rounded`].
fn exact_values(b: &ModelGradients<Rounded>) -> ModelGradients<Q> {
    let exact = |(n, t): &(String, Tensor<Rounded>)| (n.clone(), t.map(|r| r.value.clone()));
    ModelGradients {
        output: b.output.map(|r| r.value.clone()),
        input: exact(&b.input),
        params: b.params.iter().map(exact).collect(),
    }
}

/// The most values a drawn input holds.
const MAX_DRAWN: usize = 1 << 24;

/// An input of `shape` with entries `k/8`, `1 ≤ |k| ≤ 16`, from `seed` (no zeros: a model
/// starting with a ReLU would sit on its kink).
fn drawn(shape: &[usize], seed: u64) -> Result<Tensor<Q>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = crate::tensor::element_count(shape)?;
    if n > MAX_DRAWN {
        return Err(Error::InvalidArgument {
            op: "exactgrad check".into(),
            argument: "the drawn input's shape".into(),
            value: format!("{shape:?}"),
            requirement: format!("at most {MAX_DRAWN} values (give --input for more)"),
        });
    }
    let data = (0..n)
        .map(|_| {
            let k = rng.random_range(1i64..=16) * if rng.random_bool(0.5) { 1 } else { -1 };
            Q::new(BigInt::from(k), BigInt::from(8))
        })
        .collect();
    Tensor::new(shape.to_vec(), data)
}

/// A bar on stderr for runs over a second, and nothing when stderr is not a terminal.
struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar of `steps` steps (4 with `--compare`, 3 without).
    fn new(steps: u64) -> Self {
        let bar = ProgressBar::with_draw_target(Some(steps), ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template("exactgrad check [{elapsed}] {bar:20} {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        if std::io::stderr().is_terminal() {
            // Shown only once the run has taken a second: a quick run prints nothing.
            let shown = bar.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_secs(1));
                if !shown.is_finished() {
                    shown.set_draw_target(ProgressDrawTarget::stderr());
                    shown.enable_steady_tick(Duration::from_millis(200));
                }
            });
        }
        Progress { bar }
    }

    fn step(&mut self, what: &str) {
        self.bar.set_message(what.to_string());
        self.bar.inc(1);
    }

    fn finish(&mut self) {
        self.bar.finish_and_clear();
    }
}
