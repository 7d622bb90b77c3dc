//! What a proof for all inputs states and what it cost: printed as text and as JSON.

use serde::Serialize;
use std::fmt;

/// Whether the op's weights were symbols or the op's own numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Weights {
    /// The op's stored weights, as given: the proof holds for every input at these weights.
    AsGiven,
    /// Every weight a symbol: the proof holds for every input and every weight.
    Symbolic,
}

/// How many symbols of each kind the proof ran over.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SymbolCounts {
    /// Input coordinates `x`.
    pub inputs: usize,
    /// Weights and biases (0 when they are as given).
    pub weights: usize,
    /// Tangent coordinates `dx` and, for ops with parameters, `dθ`.
    pub tangents: usize,
    /// Cotangent coordinates `δ`.
    pub cotangents: usize,
    /// Mask symbols, one per guard met: `2^masks` activation patterns are covered at once.
    pub masks: usize,
}

/// A proof that an op's rules equal its derivative as polynomial identities: for every input
/// (and, with [`Weights::Symbolic`], every weight) of the given dimensions off the kinks and
/// poles, in every activation pattern.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Certificate {
    /// Always `"exactgrad proof certificate"`, so a reader of the JSON knows what it holds.
    pub kind: &'static str,
    /// The JSON layout's version.
    pub schema: u32,
    /// The op (or network) proved.
    pub op: String,
    /// The identities proved, each for every coordinate.
    pub statement: Vec<String>,
    /// The input's shape.
    pub input_shape: Vec<usize>,
    /// The output's shape.
    pub output_shape: Vec<usize>,
    /// Whether the weights were symbols.
    pub weights: Weights,
    /// The symbols, by kind.
    pub symbols: SymbolCounts,
    /// How many coordinates were compared (one identity per coordinate).
    pub coordinates: usize,
    /// How many monomials the two sides of all compared identities had together.
    pub monomials: usize,
    /// The largest polynomial met on either side (terms of numerator and denominator).
    pub largest_polynomial: usize,
    /// Wall-clock seconds for the whole proof.
    pub seconds: f64,
}

impl Certificate {
    /// The certificate as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a certificate serialises")
    }
}

impl fmt::Display for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scope = match self.weights {
            Weights::AsGiven => "every input (weights as given)",
            Weights::Symbolic => "every input and every weight",
        };
        writeln!(
            f,
            "PROVED for {scope} of shape {:?} → {:?}, off the kinks and poles:",
            self.input_shape, self.output_shape
        )?;
        writeln!(f, "  op: {}", self.op)?;
        for s in &self.statement {
            writeln!(f, "  {s}")?;
        }
        let c = &self.symbols;
        write!(
            f,
            "  symbols: {} inputs, {} weights, {} tangents, {} cotangents, {} masks",
            c.inputs, c.weights, c.tangents, c.cotangents, c.masks
        )?;
        if c.masks > 0 {
            write!(f, " (all 2^{} activation patterns at once)", c.masks)?;
        }
        writeln!(f)?;
        write!(
            f,
            "  compared {} coordinates, {} monomials; largest polynomial {} terms; {:.3} s",
            self.coordinates, self.monomials, self.largest_polynomial, self.seconds
        )
    }
}
