//! A failure as structured JSON: the error's kind and its fields (for a counterexample: the
//! check, the coordinate, the rule's value, the reference, the difference and the inputs), so a
//! tool reads what failed without parsing a sentence.
//!
//! The mapping lives here rather than as `Serialize` on [`Error`], so the error type does not
//! depend on serde; variants without a mapping of their own are written as
//! `{"kind": "<variant in snake_case>"}` beside the message.

use crate::error::{Counterexample, Error};
use serde::Serialize;

/// One named input of a counterexample (`x`, `δ`, …), printed exactly.
#[derive(Serialize)]
struct NamedInput<'a> {
    name: &'a str,
    value: &'a str,
}

/// The stage of a composition whose rule is wrong ([`crate::error::WrongStage`]).
#[derive(Serialize)]
struct StageFields<'a> {
    position: usize,
    stages: usize,
    op: &'a str,
    error: Box<ErrorFields<'a>>,
}

/// The fields of the errors a run of the command line can meet; the others by kind only.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum ErrorFields<'a> {
    Violated {
        check: &'a str,
        coordinate: &'a [usize],
        rule: &'a str,
        reference: &'a str,
        difference: &'a str,
        inputs: Vec<NamedInput<'a>>,
        parameter: Option<&'a str>,
        stage: Option<StageFields<'a>>,
    },
    Kink {
        layer: usize,
        op: &'a str,
        coordinate: &'a [usize],
    },
    ShapeMismatch {
        op: &'a str,
        context: &'a str,
        left: &'a [usize],
        right: &'a [usize],
    },
    DataLength {
        shape: &'a [usize],
        expected: usize,
        got: usize,
    },
    Parse {
        input: &'a str,
        reason: &'a str,
    },
    ExponentTooLarge {
        input: &'a str,
        exponent: &'a str,
        limit: u32,
    },
    InvalidArgument {
        op: &'a str,
        argument: &'a str,
        value: &'a str,
        requirement: &'a str,
    },
    DivisionByZero {
        context: &'a str,
        coordinate: &'a [usize],
    },
    OverBudget {
        task: &'a str,
        estimated_ms: u64,
        estimated_mb: u64,
        budget_seconds: u64,
        budget_mb: u64,
    },
    #[serde(untagged)]
    Other {
        kind: String,
    },
}

/// `ShapeMismatch` → `shape_mismatch`: the variant's name from its `Debug` form.
fn variant_name(e: &Error) -> String {
    let debug = format!("{e:?}");
    let name = debug
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or_default();
    let mut snake = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            snake.push('_');
        }
        snake.extend(c.to_lowercase());
    }
    snake
}

fn violated(c: &Counterexample) -> ErrorFields<'_> {
    ErrorFields::Violated {
        check: &c.check,
        coordinate: &c.coordinate,
        rule: &c.rule,
        reference: &c.reference,
        difference: &c.difference,
        inputs: c
            .inputs
            .iter()
            .map(|(name, value)| NamedInput { name, value })
            .collect(),
        parameter: c.parameter.as_deref(),
        stage: c.stage.as_ref().map(|s| StageFields {
            position: s.position,
            stages: s.stages,
            op: &s.op,
            error: Box::new(fields(&s.error)),
        }),
    }
}

fn fields(e: &Error) -> ErrorFields<'_> {
    match e {
        Error::Violated(c) => violated(c),
        Error::Kink {
            layer,
            op,
            coordinate,
        } => ErrorFields::Kink {
            layer: *layer,
            op,
            coordinate,
        },
        Error::ShapeMismatch {
            op,
            context,
            left,
            right,
        } => ErrorFields::ShapeMismatch {
            op,
            context,
            left,
            right,
        },
        Error::DataLength {
            shape,
            expected,
            got,
        } => ErrorFields::DataLength {
            shape,
            expected: *expected,
            got: *got,
        },
        Error::Parse { input, reason } => ErrorFields::Parse { input, reason },
        Error::ExponentTooLarge {
            input,
            exponent,
            limit,
        } => ErrorFields::ExponentTooLarge {
            input,
            exponent,
            limit: *limit,
        },
        Error::InvalidArgument {
            op,
            argument,
            value,
            requirement,
        } => ErrorFields::InvalidArgument {
            op,
            argument,
            value,
            requirement,
        },
        Error::DivisionByZero {
            context,
            coordinate,
        } => ErrorFields::DivisionByZero {
            context,
            coordinate,
        },
        Error::OverBudget {
            task,
            estimated_ms,
            estimated_mb,
            budget_seconds,
            budget_mb,
        } => ErrorFields::OverBudget {
            task,
            estimated_ms: *estimated_ms,
            estimated_mb: *estimated_mb,
            budget_seconds: *budget_seconds,
            budget_mb: *budget_mb,
        },
        other => ErrorFields::Other {
            kind: variant_name(other),
        },
    }
}

/// An error as JSON: `{"kind": "violated", "check": …, "coordinate": […], …, "message": "…"}`,
/// the kind in snake case, its fields, and the sentence [`Error`]'s `Display` gives.
pub fn error_json(e: &Error) -> serde_json::Value {
    let mut v = serde_json::to_value(fields(e)).unwrap_or_default();
    if let Some(map) = v.as_object_mut() {
        map.insert("message".into(), e.to_string().into());
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counterexample_is_written_field_by_field() {
        let e = Error::Violated(Box::new(Counterexample {
            check: "jacobian: vjp(x, δ) = Jᵀδ".into(),
            coordinate: vec![1, 2],
            rule: "3/2".into(),
            reference: "1/2".into(),
            difference: "1/1".into(),
            inputs: vec![("x".into(), "[1, 2]".into())],
            parameter: None,
            stage: None,
        }));
        let v = error_json(&e);
        assert_eq!(v["kind"], "violated");
        assert_eq!(v["check"], "jacobian: vjp(x, δ) = Jᵀδ");
        assert_eq!(v["coordinate"], serde_json::json!([1, 2]));
        assert_eq!(v["rule"], "3/2");
        assert_eq!(v["reference"], "1/2");
        assert_eq!(v["difference"], "1/1");
        assert_eq!(v["inputs"][0]["name"], "x");
        assert_eq!(v["parameter"], serde_json::Value::Null);
        assert!(v["message"]
            .as_str()
            .unwrap()
            .contains("fails at coordinate [1, 2]"));
    }

    #[test]
    fn unmapped_variants_keep_their_kind_and_message() {
        let e = Error::UnknownNode { node: 7 };
        let v = error_json(&e);
        assert_eq!(v["kind"], "unknown_node");
        assert_eq!(v["message"], "the graph has no node 7");
        let v = error_json(&Error::Kink {
            layer: 2,
            op: "ReLU".into(),
            coordinate: vec![0],
        });
        assert_eq!(v["kind"], "kink");
        assert_eq!(v["layer"], 2);
    }
}
