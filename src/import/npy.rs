//! NumPy `.npy` and `.npz` files read exactly into tensors, and written.
//!
//! Reading is exact: a finite float is a dyadic rational, so a `float16`, `float32` or `float64`
//! array (little or big endian, C or Fortran order) becomes the [`Q`] values it stands for, and an
//! integer array (`int8` … `uint64`) its integers. NaN or ±∞ is refused with the file, the key
//! and the coordinate ([`NpyErrorKind::NotFinite`]): it has no exact value.
//!
//! The file format is decoded by the `npyz` crate (header, dtype, byte order) and archives by the
//! `zip` crate (`np.savez` stores, `np.savez_compressed` deflates). Before either sees a file,
//! this module checks what a lying header could make them do: the header's length against the
//! bytes present, the shape's element count against overflow and [`MAX_VALUES`], and the data's
//! length against the shape (exactly `count × itemsize` bytes must follow the header), so nothing
//! is allocated for data the file does not hold. Files are read whole, up to [`MAX_FILE_BYTES`]
//! (for an archive, the sum of its decompressed entries).
//!
//! Writing ([`write_npy`], [`write_npz`]) stores `float64` (`<f8`, C order); each value is
//! rounded to the nearest `float64`, ties to even, so a value read from a float file is written
//! back unchanged. A value beyond the `float64` range is refused
//! ([`NpyErrorKind::NotRepresentable`]), never written as an infinity.

use crate::error::{Error, Result};
use crate::scalar::Q;
use crate::tensor::{element_count, multi_index, Tensor};
use npyz::{TypeChar, WriterBuilder};
use num_bigint::BigInt;
use num_traits::ToPrimitive;
use py_literal::Value;
use std::fmt;
use std::io::{self, Cursor, Read, Seek, Write};
use std::path::Path;

/// The most bytes read from one file: an `.npy` file, or the sum of the decompressed entries of
/// an `.npz` archive (1 GiB).
pub const MAX_FILE_BYTES: u64 = 1 << 30;

/// The most bytes an `.npy` header may claim (64 KiB, the largest a version 1.0 header can be;
/// NumPy itself refuses headers past 10,000 bytes unless told otherwise).
pub const MAX_HEADER_BYTES: u64 = 1 << 16;

/// The most values one array may hold (2²⁶ ≈ 67 million): each becomes an exact rational, tens
/// of bytes or more apiece.
pub const MAX_VALUES: u64 = 1 << 26;

/// Brackets nested deeper than this in a header are refused before it is parsed: a NumPy header
/// of a plain dtype nests two deep, and the parser recurses once per level.
const MAX_HEADER_NESTING: usize = 16;

const MAGIC: &[u8] = b"\x93NUMPY";

/// The kind of values an array held in its file, before it became exact rationals.
///
/// A gradient's float width is what its rounding is graded against: `float32` gradients are
/// expected to be off by more `float64` ulps than `float64` ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dtype {
    /// `float16` (`<f2`, `>f2`).
    F16,
    /// `float32` (`<f4`, `>f4`).
    F32,
    /// `float64` (`<f8`, `>f8`).
    F64,
    /// Any signed or unsigned integer of 1, 2, 4 or 8 bytes.
    Int,
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dtype::F16 => "float16",
            Dtype::F32 => "float32",
            Dtype::F64 => "float64",
            Dtype::Int => "integer",
        })
    }
}

/// A NumPy file that cannot be read or written exactly: which file, which array in it, what.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {kind}", key.as_ref().map(|k| format!(" (array {k:?})")).unwrap_or_default())]
pub struct NpyError {
    /// The path given, or the name given to [`npy_from_bytes`] / [`npz_from_bytes`].
    pub file: String,
    /// The array's key in an `.npz` archive (its entry name without `.npy`); `None` for an
    /// `.npy` file, or when the archive itself is at fault.
    pub key: Option<String>,
    /// What is wrong.
    pub kind: NpyErrorKind,
}

/// What is wrong with a NumPy file (see [`NpyError`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NpyErrorKind {
    /// The file system refused (a missing file, a folder, no permission).
    #[error("cannot be read or written: {message}")]
    Io {
        /// The I/O error's kind.
        kind: io::ErrorKind,
        /// The I/O error as the system printed it.
        message: String,
    },
    /// More bytes than [`MAX_FILE_BYTES`] (for an archive, decompressed in total).
    #[error("holds more than the {limit} bytes read (at least {bytes})")]
    TooLarge {
        /// How many bytes were seen before stopping (at least).
        bytes: u64,
        /// [`MAX_FILE_BYTES`].
        limit: u64,
    },
    /// The first six bytes are not `\x93NUMPY`.
    #[error("is not a NumPy array file (it does not start with \\x93NUMPY)")]
    BadMagic,
    /// A format version other than 1.0, 2.0 or 3.0.
    #[error("has format version {major}.{minor}; versions 1.0, 2.0 and 3.0 are read")]
    UnsupportedVersion {
        /// The major version byte.
        major: u8,
        /// The minor version byte.
        minor: u8,
    },
    /// The file ends before its header does.
    #[error("ends inside its header: {needed} bytes needed, {got} present")]
    TruncatedHeader {
        /// The bytes the header needs (prefix, length field and the length it claims).
        needed: u64,
        /// The file's length.
        got: u64,
    },
    /// The header claims more than [`MAX_HEADER_BYTES`].
    #[error("claims a header of {bytes} bytes, more than the {limit} read")]
    HeaderTooLarge {
        /// The length the header claims.
        bytes: u64,
        /// [`MAX_HEADER_BYTES`].
        limit: u64,
    },
    /// The header is not the dictionary NumPy writes.
    #[error("has a malformed header: {0}")]
    BadHeader(HeaderProblem),
    /// A dtype other than float16/32/64 and the integers (complex, bool, strings, objects,
    /// structured records, `float128`).
    #[error("has dtype {descr}; float16, float32, float64 and integer arrays are read")]
    UnsupportedDtype {
        /// The header's `descr` as written (a Python literal).
        descr: String,
    },
    /// The product of the shape does not fit in 64 bits (or `usize`).
    #[error("has shape {shape:?}, whose element count overflows")]
    ShapeOverflow {
        /// The shape as written.
        shape: Vec<u64>,
    },
    /// The shape holds more than [`MAX_VALUES`] values.
    #[error("has shape {shape:?} with {count} values, more than the {limit} read")]
    TooManyValues {
        /// The shape as written.
        shape: Vec<u64>,
        /// Its element count.
        count: u64,
        /// [`MAX_VALUES`].
        limit: u64,
    },
    /// The bytes after the header are not exactly what the shape and dtype need.
    #[error(
        "has shape {shape:?} of {dtype}, which needs {expected} data bytes, but {got} follow the header"
    )]
    DataLength {
        /// The shape as written.
        shape: Vec<u64>,
        /// The dtype as written (`<f4`).
        dtype: String,
        /// Element count × item size.
        expected: u64,
        /// The bytes after the header.
        got: u64,
    },
    /// A NaN or an infinity: it has no exact value.
    #[error("holds {value} at {index:?}, not a finite number")]
    NotFinite {
        /// The value's coordinate in the array (row-major index, whatever the file's order).
        index: Vec<usize>,
        /// `NaN`, `inf` or `-inf`.
        value: String,
    },
    /// A value to write whose magnitude is beyond the largest `float64` (it would round to ±∞).
    #[error("cannot store the value at {index:?} as float64: it is beyond the float64 range")]
    NotRepresentable {
        /// The value's coordinate in the tensor.
        index: Vec<usize>,
    },
    /// The zip layer of an `.npz` archive failed (not a zip file, a bad checksum, an
    /// unsupported compression, a duplicate name on writing).
    #[error("is not a readable .npz archive: {reason}")]
    Archive {
        /// The zip crate's error, as it prints it.
        reason: String,
    },
}

/// What is wrong in an `.npy` header (see [`NpyErrorKind::BadHeader`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderProblem {
    /// The header is not UTF-8 text.
    #[error("it is not text")]
    NotText,
    /// Brackets nest deeper than a NumPy header does.
    #[error("brackets nest deeper than {limit}")]
    TooDeep {
        /// The deepest nesting accepted.
        limit: usize,
    },
    /// The header is not a Python literal.
    #[error("it is not a Python literal ({message})")]
    Syntax {
        /// The parser's message.
        message: String,
    },
    /// The header is a literal but not a dictionary.
    #[error("it is not a dictionary")]
    NotADict,
    /// One of `descr`, `fortran_order`, `shape` is missing.
    #[error("it has no key {0:?}")]
    MissingKey(&'static str),
    /// A key other than `descr`, `fortran_order`, `shape` (NumPy refuses these too).
    #[error("it has the unexpected key {key}")]
    UnexpectedKey {
        /// The key as written (a Python literal).
        key: String,
    },
    /// `fortran_order` is not `True` or `False`.
    #[error("'fortran_order' is not a bool")]
    FortranOrderNotBool,
    /// `shape` is not a tuple (or list) of integers that fit in 64 bits, each ≥ 0.
    #[error("'shape' is not a tuple of non-negative integers")]
    BadShape,
    /// The header passed these checks, but `npyz` refused it.
    #[error("{message}")]
    Refused {
        /// `npyz`'s message.
        message: String,
    },
}

fn error(file: &str, key: Option<&str>, kind: NpyErrorKind) -> Error {
    Error::Npy(NpyError {
        file: file.to_string(),
        key: key.map(str::to_string),
        kind,
    })
}

fn io_kind(e: &io::Error) -> NpyErrorKind {
    NpyErrorKind::Io {
        kind: e.kind(),
        message: e.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Reading

/// Reads an `.npy` file exactly (see the module docs for what is accepted).
pub fn read_npy(path: &Path) -> Result<Tensor<Q>> {
    let name = path.display().to_string();
    npy_from_bytes(&name, &read_file(path, &name)?)
}

/// Reads an `.npy` file held in memory; `name` names it in errors.
pub fn npy_from_bytes(name: &str, bytes: &[u8]) -> Result<Tensor<Q>> {
    npy_from_bytes_with_dtype(name, bytes).map(|(_, t)| t)
}

/// Reads an `.npy` file held in memory, with the dtype it had.
pub fn npy_from_bytes_with_dtype(name: &str, bytes: &[u8]) -> Result<(Dtype, Tensor<Q>)> {
    entry(name, None, bytes)
}

/// Reads every array of an `.npz` archive exactly, keyed by entry name without `.npy`, in the
/// archive's order.
pub fn read_npz(path: &Path) -> Result<Vec<(String, Tensor<Q>)>> {
    Ok(drop_dtypes(read_npz_with_dtype(path)?))
}

/// [`read_npz`] with the dtype each array had.
pub fn read_npz_with_dtype(path: &Path) -> Result<Vec<(String, Dtype, Tensor<Q>)>> {
    let name = path.display().to_string();
    npz_from_bytes_with_dtype(&name, &read_file(path, &name)?)
}

/// Reads an `.npz` archive held in memory (see [`read_npz`]); `name` names it in errors.
pub fn npz_from_bytes(name: &str, bytes: &[u8]) -> Result<Vec<(String, Tensor<Q>)>> {
    Ok(drop_dtypes(npz_from_bytes_with_dtype(name, bytes)?))
}

/// [`npz_from_bytes`] with the dtype each array had.
pub fn npz_from_bytes_with_dtype(
    name: &str,
    bytes: &[u8],
) -> Result<Vec<(String, Dtype, Tensor<Q>)>> {
    let whole = |kind| error(name, None, kind);
    let archive_error = |key: Option<&str>, e: &dyn fmt::Display| {
        error(
            name,
            key,
            NpyErrorKind::Archive {
                reason: e.to_string(),
            },
        )
    };
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(whole(NpyErrorKind::TooLarge {
            bytes: bytes.len() as u64,
            limit: MAX_FILE_BYTES,
        }));
    }
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| archive_error(None, &e))?;
    let mut arrays = Vec::with_capacity(zip.len().min(1024));
    let mut total = 0u64;
    for i in 0..zip.len() {
        let mut file = zip.by_index(i).map_err(|e| archive_error(None, &e))?;
        let entry_name = file
            .name()
            .map_err(|e| archive_error(None, &e))?
            .into_owned();
        let key = entry_name
            .strip_suffix(".npy")
            .unwrap_or(&entry_name)
            .to_string();
        // Read what decompresses, not what the entry claims: a deflate bomb stops at the limit.
        let budget = MAX_FILE_BYTES - total;
        let mut data = Vec::new();
        (&mut file)
            .take(budget + 1)
            .read_to_end(&mut data)
            .map_err(|e| archive_error(Some(&key), &e))?;
        total += data.len() as u64;
        if total > MAX_FILE_BYTES {
            return Err(error(
                name,
                Some(&key),
                NpyErrorKind::TooLarge {
                    bytes: total,
                    limit: MAX_FILE_BYTES,
                },
            ));
        }
        let (dtype, tensor) = entry(name, Some(&key), &data)?;
        arrays.push((key, dtype, tensor));
    }
    Ok(arrays)
}

fn drop_dtypes(arrays: Vec<(String, Dtype, Tensor<Q>)>) -> Vec<(String, Tensor<Q>)> {
    arrays.into_iter().map(|(k, _, t)| (k, t)).collect()
}

/// The whole file, refused past [`MAX_FILE_BYTES`] before reading it.
fn read_file(path: &Path, name: &str) -> Result<Vec<u8>> {
    let io_error = |e: io::Error| error(name, None, io_kind(&e));
    let file = std::fs::File::open(path).map_err(io_error)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(error(
            name,
            None,
            NpyErrorKind::TooLarge {
                bytes: bytes.len() as u64,
                limit: MAX_FILE_BYTES,
            },
        ));
    }
    Ok(bytes)
}

/// One `.npy` file's bytes as exact values; errors name `file` and `key`.
fn entry(file: &str, key: Option<&str>, bytes: &[u8]) -> Result<(Dtype, Tensor<Q>)> {
    let fail = |kind| error(file, key, kind);
    let (dtype, shape, raw) = decode(bytes).map_err(fail)?;
    let data = raw
        .into_iter()
        .enumerate()
        .map(|(k, v)| {
            v.exact().ok_or_else(|| {
                fail(NpyErrorKind::NotFinite {
                    index: multi_index(&shape, k),
                    value: v.to_string(),
                })
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((dtype, Tensor::new(shape, data)?))
}

/// A value as stored, before it becomes exact.
#[derive(Clone, Copy)]
enum Raw {
    Float(f64),
    Int(i64),
    Uint(u64),
}

impl Raw {
    fn exact(self) -> Option<Q> {
        match self {
            Raw::Float(v) => Q::from_float(v),
            Raw::Int(v) => Some(Q::from_integer(BigInt::from(v))),
            Raw::Uint(v) => Some(Q::from_integer(BigInt::from(v))),
        }
    }
}

impl fmt::Display for Raw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Raw::Float(v) => write!(f, "{v}"),
            Raw::Int(v) => write!(f, "{v}"),
            Raw::Uint(v) => write!(f, "{v}"),
        }
    }
}

/// The dtype, the shape and the values in row-major order, after every check of the header
/// against the bytes (the module docs list them).
fn decode(bytes: &[u8]) -> std::result::Result<(Dtype, Vec<usize>, Vec<Raw>), NpyErrorKind> {
    let len = bytes.len() as u64;
    if len > MAX_FILE_BYTES {
        return Err(NpyErrorKind::TooLarge {
            bytes: len,
            limit: MAX_FILE_BYTES,
        });
    }
    let seen = bytes.len().min(MAGIC.len());
    if bytes[..seen] != MAGIC[..seen] {
        return Err(NpyErrorKind::BadMagic);
    }
    if bytes.len() < 8 {
        return Err(NpyErrorKind::TruncatedHeader {
            needed: 10,
            got: len,
        });
    }
    let (major, minor) = (bytes[6], bytes[7]);
    let length_bytes = match (major, minor) {
        (1, 0) => 2,
        (2, 0) | (3, 0) => 4,
        _ => return Err(NpyErrorKind::UnsupportedVersion { major, minor }),
    };
    let text_start = 8 + length_bytes;
    if bytes.len() < text_start {
        return Err(NpyErrorKind::TruncatedHeader {
            needed: text_start as u64,
            got: len,
        });
    }
    let header_len = bytes[8..text_start]
        .iter()
        .rev()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    if header_len > MAX_HEADER_BYTES {
        return Err(NpyErrorKind::HeaderTooLarge {
            bytes: header_len,
            limit: MAX_HEADER_BYTES,
        });
    }
    // Both fit in usize: the header is at most MAX_HEADER_BYTES.
    let data_start = text_start + header_len as usize;
    if bytes.len() < data_start {
        return Err(NpyErrorKind::TruncatedHeader {
            needed: data_start as u64,
            got: len,
        });
    }
    let header = Header::parse(&bytes[text_start..data_start])?;

    let count = header.count()?;
    let item_size = header.kind.item_size();
    // count ≤ MAX_VALUES and item_size ≤ 8: no overflow.
    let expected = count * item_size;
    let got = len - data_start as u64;
    if got != expected {
        return Err(NpyErrorKind::DataLength {
            shape: header.shape,
            dtype: header.descr,
            expected,
            got,
        });
    }
    // `element_count` of the same shape: checked in `count`, so the conversion cannot fail.
    let shape: Vec<usize> = header
        .shape
        .iter()
        .map(|&d| usize::try_from(d))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| NpyErrorKind::ShapeOverflow {
            shape: header.shape.clone(),
        })?;

    // Every bound is checked: npyz parses the same header again and decodes the data.
    let refused = |e: &dyn fmt::Display| {
        NpyErrorKind::BadHeader(HeaderProblem::Refused {
            message: e.to_string(),
        })
    };
    // npyz is given the header as NumPy reads it: its text stripped of surrounding whitespace
    // (NumPy accepts `\r\n` or extra spaces where npyz wants one final `\n`).
    let mut prefix = bytes[..8].to_vec();
    prefix[6..8].copy_from_slice(&[2, 0]);
    let text = std::str::from_utf8(&bytes[text_start..data_start])
        .map_err(|_| NpyErrorKind::BadHeader(HeaderProblem::NotText))?
        .trim();
    prefix.extend((text.len() as u32 + 1).to_le_bytes());
    prefix.extend(text.as_bytes());
    prefix.push(b'\n');
    let npy_header = npyz::NpyHeader::from_reader(&prefix[..]).map_err(|e| refused(&e))?;
    let file = npyz::NpyFile::with_header(npy_header, &bytes[data_start..]);
    let fortran = file.order() == npyz::Order::Fortran;
    let stored = header.kind.read(file).map_err(|e| refused(&e))?;
    if stored.len() as u64 != count {
        return Err(NpyErrorKind::DataLength {
            shape: header.shape,
            dtype: header.descr,
            expected,
            got: stored.len() as u64 * item_size,
        });
    }
    let values = if fortran {
        fortran_to_row_major(&shape, &stored)
    } else {
        stored
    };
    Ok((header.kind.dtype(), shape, values))
}

/// The element types read, by the header's `descr`.
#[derive(Clone, Copy)]
enum Kind {
    F16,
    F32,
    F64,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
}

impl Kind {
    fn from_descr(descr: &str) -> Option<Kind> {
        let ty: npyz::TypeStr = descr.parse().ok()?;
        Some(match (ty.type_char(), ty.size_field()) {
            (TypeChar::Float, 2) => Kind::F16,
            (TypeChar::Float, 4) => Kind::F32,
            (TypeChar::Float, 8) => Kind::F64,
            (TypeChar::Int, 1) => Kind::I8,
            (TypeChar::Int, 2) => Kind::I16,
            (TypeChar::Int, 4) => Kind::I32,
            (TypeChar::Int, 8) => Kind::I64,
            (TypeChar::Uint, 1) => Kind::U8,
            (TypeChar::Uint, 2) => Kind::U16,
            (TypeChar::Uint, 4) => Kind::U32,
            (TypeChar::Uint, 8) => Kind::U64,
            _ => return None,
        })
    }

    fn item_size(self) -> u64 {
        match self {
            Kind::I8 | Kind::U8 => 1,
            Kind::F16 | Kind::I16 | Kind::U16 => 2,
            Kind::F32 | Kind::I32 | Kind::U32 => 4,
            Kind::F64 | Kind::I64 | Kind::U64 => 8,
        }
    }

    fn dtype(self) -> Dtype {
        match self {
            Kind::F16 => Dtype::F16,
            Kind::F32 => Dtype::F32,
            Kind::F64 => Dtype::F64,
            _ => Dtype::Int,
        }
    }

    /// Every value in the file's order, converted exactly (f16 and f32 widen to f64 exactly).
    fn read(self, file: npyz::NpyFile<&[u8]>) -> io::Result<Vec<Raw>> {
        fn all<T: npyz::Deserialize>(
            file: npyz::NpyFile<&[u8]>,
            f: impl Fn(T) -> Raw,
        ) -> io::Result<Vec<Raw>> {
            let reader = file
                .data::<T>()
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            reader.map(|v| v.map(&f)).collect()
        }
        match self {
            Kind::F16 => all(file, |v: npyz::half::f16| Raw::Float(v.to_f64())),
            Kind::F32 => all(file, |v: f32| Raw::Float(f64::from(v))),
            Kind::F64 => all(file, Raw::Float),
            Kind::I8 => all(file, |v: i8| Raw::Int(v.into())),
            Kind::I16 => all(file, |v: i16| Raw::Int(v.into())),
            Kind::I32 => all(file, |v: i32| Raw::Int(v.into())),
            Kind::I64 => all(file, Raw::Int),
            Kind::U8 => all(file, |v: u8| Raw::Uint(v.into())),
            Kind::U16 => all(file, |v: u16| Raw::Uint(v.into())),
            Kind::U32 => all(file, |v: u32| Raw::Uint(v.into())),
            Kind::U64 => all(file, Raw::Uint),
        }
    }
}

/// The header's three keys, checked.
struct Header {
    descr: String,
    kind: Kind,
    shape: Vec<u64>,
}

impl Header {
    fn parse(text: &[u8]) -> std::result::Result<Header, NpyErrorKind> {
        let bad = NpyErrorKind::BadHeader;
        let text = std::str::from_utf8(text).map_err(|_| bad(HeaderProblem::NotText))?;
        let mut depth = 0usize;
        for c in text.chars() {
            match c {
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth > MAX_HEADER_NESTING {
                return Err(bad(HeaderProblem::TooDeep {
                    limit: MAX_HEADER_NESTING,
                }));
            }
        }
        let value: Value = text.trim().parse().map_err(|e: py_literal::ParseError| {
            bad(HeaderProblem::Syntax {
                message: e.to_string(),
            })
        })?;
        let Value::Dict(pairs) = value else {
            return Err(bad(HeaderProblem::NotADict));
        };
        // NumPy's rule: exactly these three keys; a repeated key takes its last value, as in a
        // Python dict.
        if let Some((key, _)) = pairs.iter().find(|(k, _)| {
            !matches!(k, Value::String(s) if ["descr", "fortran_order", "shape"].contains(&s.as_str()))
        }) {
            return Err(bad(HeaderProblem::UnexpectedKey {
                key: key.to_string(),
            }));
        }
        let get = |key: &'static str| {
            pairs
                .iter()
                .rev()
                .find(|(k, _)| matches!(k, Value::String(s) if s == key))
                .map(|(_, v)| v)
                .ok_or(bad(HeaderProblem::MissingKey(key)))
        };
        let descr_value = get("descr")?;
        let fortran = get("fortran_order")?;
        let shape = get("shape")?;
        if !matches!(fortran, Value::Boolean(_)) {
            return Err(bad(HeaderProblem::FortranOrderNotBool));
        }
        let (Value::Tuple(dims) | Value::List(dims)) = shape else {
            return Err(bad(HeaderProblem::BadShape));
        };
        let shape = dims
            .iter()
            .map(|d| match d {
                Value::Integer(n) => n.to_u64(),
                _ => None,
            })
            .collect::<Option<Vec<u64>>>()
            .ok_or(bad(HeaderProblem::BadShape))?;
        let unsupported = || NpyErrorKind::UnsupportedDtype {
            descr: descr_value.to_string(),
        };
        let Value::String(descr) = descr_value else {
            return Err(unsupported());
        };
        let kind = Kind::from_descr(descr).ok_or_else(unsupported)?;
        Ok(Header {
            descr: descr.clone(),
            kind,
            shape,
        })
    }

    /// The element count, refused past [`MAX_VALUES`] or when it overflows.
    fn count(&self) -> std::result::Result<u64, NpyErrorKind> {
        let overflow = || NpyErrorKind::ShapeOverflow {
            shape: self.shape.clone(),
        };
        let usize_shape = self
            .shape
            .iter()
            .map(|&d| usize::try_from(d).map_err(|_| overflow()))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let count = element_count(&usize_shape).map_err(|_| overflow())? as u64;
        if count > MAX_VALUES {
            return Err(NpyErrorKind::TooManyValues {
                shape: self.shape.clone(),
                count,
                limit: MAX_VALUES,
            });
        }
        Ok(count)
    }
}

/// Values stored column-major (first axis fastest), reordered row-major.
fn fortran_to_row_major(shape: &[usize], stored: &[Raw]) -> Vec<Raw> {
    // Column-major strides: the product of the axes before each one.
    let mut strides = Vec::with_capacity(shape.len());
    let mut s = 1usize;
    for &n in shape {
        strides.push(s);
        s = s.saturating_mul(n);
    }
    (0..stored.len())
        .map(|k| {
            let offset: usize = multi_index(shape, k)
                .iter()
                .zip(&strides)
                .map(|(i, s)| i * s)
                .sum();
            stored[offset]
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Writing

/// Writes `t` as a `float64` `.npy` file, each value rounded to the nearest `float64` (ties to
/// even); [`NpyErrorKind::NotRepresentable`] for a value beyond the `float64` range.
pub fn write_npy(path: &Path, t: &Tensor<Q>) -> Result<()> {
    let name = path.display().to_string();
    let bytes = npy_bytes(&name, None, t)?;
    std::fs::write(path, bytes).map_err(|e| error(&name, None, io_kind(&e)))
}

/// `t` as the bytes of a `float64` `.npy` file (see [`write_npy`]).
pub fn npy_to_bytes(t: &Tensor<Q>) -> Result<Vec<u8>> {
    npy_bytes("<memory>", None, t)
}

/// Writes the tensors as an `.npz` archive of `float64` arrays, stored uncompressed like
/// `np.savez`, entry `KEY.npy` for each key, in the order given; values are rounded as in
/// [`write_npy`]. A key given twice is refused ([`NpyErrorKind::Archive`]).
pub fn write_npz(path: &Path, tensors: &[(String, Tensor<Q>)]) -> Result<()> {
    let name = path.display().to_string();
    let bytes = npz_bytes(&name, tensors)?;
    std::fs::write(path, bytes).map_err(|e| error(&name, None, io_kind(&e)))
}

/// The tensors as the bytes of an `.npz` archive (see [`write_npz`]).
pub fn npz_to_bytes(tensors: &[(String, Tensor<Q>)]) -> Result<Vec<u8>> {
    npz_bytes("<memory>", tensors)
}

fn npz_bytes(name: &str, tensors: &[(String, Tensor<Q>)]) -> Result<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(false);
    for (key, t) in tensors {
        let bytes = npy_bytes(name, Some(key), t)?;
        let archive_error = |e: &dyn fmt::Display| {
            error(
                name,
                Some(key),
                NpyErrorKind::Archive {
                    reason: e.to_string(),
                },
            )
        };
        zip.start_file(format!("{key}.npy"), options)
            .map_err(|e| archive_error(&e))?;
        zip.write_all(&bytes).map_err(|e| archive_error(&e))?;
    }
    let cursor = zip.finish().map_err(|e| {
        error(
            name,
            None,
            NpyErrorKind::Archive {
                reason: e.to_string(),
            },
        )
    })?;
    Ok(cursor.into_inner())
}

fn npy_bytes(name: &str, key: Option<&str>, t: &Tensor<Q>) -> Result<Vec<u8>> {
    let values = t
        .data()
        .iter()
        .enumerate()
        .map(|(k, q)| match q.to_f64() {
            Some(v) if v.is_finite() => Ok(v),
            _ => Err(error(
                name,
                key,
                NpyErrorKind::NotRepresentable {
                    index: multi_index(t.shape(), k),
                },
            )),
        })
        .collect::<Result<Vec<f64>>>()?;
    let shape: Vec<u64> = t.shape().iter().map(|&d| d as u64).collect();
    let io_error = |e: io::Error| error(name, key, io_kind(&e));
    // Little-endian whatever the machine, as NumPy writes on the usual ones.
    let f8: npyz::TypeStr = "<f8"
        .parse()
        .map_err(|e| io_error(io::Error::new(io::ErrorKind::InvalidInput, e)))?;
    let mut out = Cursor::new(Vec::new());
    let mut writer = npyz::WriteOptions::<f64>::new()
        .dtype(npyz::DType::Plain(f8))
        .shape(&shape)
        .writer(&mut out)
        .begin_nd()
        .map_err(io_error)?;
    writer.extend(values).map_err(io_error)?;
    writer.finish().map_err(io_error)?;
    out.rewind().map_err(io_error)?;
    Ok(out.into_inner())
}
