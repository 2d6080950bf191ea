//! What a binary declares about each flag, and typed flag values.

use std::fmt;

use crate::bytes::Bytes;
use crate::duration::Duration;
use crate::numfmt::{format_g, STREAM_DEFAULT_DIGITS};

/// The type of a flag's value, which decides how its text is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagKind {
    /// Any text. A `file://<path>` value is replaced by the file's
    /// contents, as for every kind but [`FlagKind::Path`].
    String,
    /// A filesystem path, taken literally (`file://` is not read).
    Path,
    /// `true`/`false` (or `1`/`0`); `--name` means true, `--no-name` false.
    Bool,
    /// A [`Duration`] such as `10secs`.
    Duration,
    /// A [`Bytes`] size such as `512MB`.
    Bytes,
    /// An unsigned 16-bit integer (ports).
    U16,
    /// An unsigned 32-bit integer.
    U32,
    /// An unsigned 64-bit integer.
    U64,
    /// A signed 64-bit integer.
    I64,
    /// A double.
    F64,
}

/// A parsed flag value.
#[derive(Debug, Clone, PartialEq)]
pub enum FlagValue {
    /// Text (also used for [`FlagKind::Path`]).
    String(String),
    /// A boolean.
    Bool(bool),
    /// A duration.
    Duration(Duration),
    /// A byte size.
    Bytes(Bytes),
    /// A 16-bit unsigned integer.
    U16(u16),
    /// A 32-bit unsigned integer.
    U32(u32),
    /// A 64-bit unsigned integer.
    U64(u64),
    /// A 64-bit signed integer.
    I64(i64),
    /// A double.
    F64(f64),
}

impl FlagValue {
    /// Parses `text` as a value of `kind`. The error is the reason
    /// only; the caller adds the flag name and value.
    pub fn parse(kind: FlagKind, text: &str) -> std::result::Result<FlagValue, String> {
        fn number<T: std::str::FromStr>(text: &str) -> std::result::Result<T, String> {
            text.parse::<T>()
                .map_err(|_| "Failed to convert into required type".to_string())
        }
        Ok(match kind {
            FlagKind::String | FlagKind::Path => FlagValue::String(text.to_string()),
            FlagKind::Bool => match text {
                "true" | "1" => FlagValue::Bool(true),
                "false" | "0" => FlagValue::Bool(false),
                _ => return Err("Expecting a boolean (e.g., true or false)".to_string()),
            },
            FlagKind::Duration => {
                FlagValue::Duration(Duration::parse(text).map_err(|e| e.to_string())?)
            }
            FlagKind::Bytes => FlagValue::Bytes(Bytes::parse(text).map_err(|e| e.to_string())?),
            FlagKind::U16 => FlagValue::U16(number(text)?),
            FlagKind::U32 => FlagValue::U32(number(text)?),
            FlagKind::U64 => FlagValue::U64(number(text)?),
            FlagKind::I64 => FlagValue::I64(number(text)?),
            FlagKind::F64 => FlagValue::F64(number(text)?),
        })
    }
}

impl fmt::Display for FlagValue {
    /// The value as Mesos prints a flag: durations and sizes in their
    /// canonical form (`1GB`, `20secs`), booleans as `true`/`false`,
    /// doubles with six significant digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlagValue::String(s) => f.write_str(s),
            FlagValue::Bool(b) => write!(f, "{b}"),
            FlagValue::Duration(d) => write!(f, "{d}"),
            FlagValue::Bytes(b) => write!(f, "{b}"),
            FlagValue::U16(n) => write!(f, "{n}"),
            FlagValue::U32(n) => write!(f, "{n}"),
            FlagValue::U64(n) => write!(f, "{n}"),
            FlagValue::I64(n) => write!(f, "{n}"),
            FlagValue::F64(x) => f.write_str(&format_g(*x, STREAM_DEFAULT_DIGITS)),
        }
    }
}

/// An extra check on a parsed value; `Err` carries the reason.
pub type FlagValidator = fn(&FlagValue) -> std::result::Result<(), String>;

/// One row of a binary's flag table: everything about a flag, declared
/// once. Build rows with the `const` constructors and modifiers, e.g.
///
/// ```
/// use mesos_common::flags::FlagSpec;
///
/// const FLAGS: &[FlagSpec] = &[
///     FlagSpec::u16("port", "Port to listen on.").default("5050"),
///     FlagSpec::duration("offer_timeout", "Duration after which offers are rescinded."),
///     FlagSpec::duration("agent_ping_timeout", "Ping timeout.")
///         .default("15secs")
///         .deprecated_alias("slave_ping_timeout"),
///     FlagSpec::path("work_dir", "Where to store data.").required(),
/// ];
/// ```
///
/// A flag with neither a default nor `required` is optional and simply
/// has no value until one is given.
#[derive(Debug, Clone, Copy)]
pub struct FlagSpec {
    /// The name, used as `--name`; lower case with underscores.
    pub name: &'static str,
    /// The help text shown by `--help` (may span lines).
    pub help: &'static str,
    /// The value type.
    pub kind: FlagKind,
    /// The default value, in the flag's text syntax.
    pub default: Option<&'static str>,
    /// Whether loading fails when no value is given.
    pub required: bool,
    /// Another accepted name, and whether using it warns as deprecated.
    pub alias: Option<(&'static str, bool)>,
    /// An extra check run on the parsed value at load time.
    pub validator: Option<FlagValidator>,
}

impl FlagSpec {
    /// A flag of `kind` with no default, not required.
    pub const fn new(name: &'static str, kind: FlagKind, help: &'static str) -> FlagSpec {
        FlagSpec {
            name,
            help,
            kind,
            default: None,
            required: false,
            alias: None,
            validator: None,
        }
    }

    /// A text flag.
    pub const fn string(name: &'static str, help: &'static str) -> FlagSpec {
        FlagSpec::new(name, FlagKind::String, help)
    }

    /// A path flag (its `file://` value is not read).
    pub const fn path(name: &'static str, help: &'static str) -> FlagSpec {
        FlagSpec::new(name, FlagKind::Path, help)
    }

    /// A boolean flag.
    pub const fn bool(name: &'static str, help: &'static str) -> FlagSpec {
        FlagSpec::new(name, FlagKind::Bool, help)
    }

    /// A duration flag.
    pub const fn duration(name: &'static str, help: &'static str) -> FlagSpec {
        FlagSpec::new(name, FlagKind::Duration, help)
    }

    /// A byte-size flag.
    pub const fn bytes(name: &'static str, help: &'static str) -> FlagSpec {
        FlagSpec::new(name, FlagKind::Bytes, help)
    }

    /// A 16-bit unsigned flag.
    pub const fn u16(name: &'static str, help: &'static str) -> FlagSpec {
        FlagSpec::new(name, FlagKind::U16, help)
    }

    /// A 32-bit unsigned flag.
    pub const fn u32(name: &'static str, help: &'static str) -> FlagSpec {
        FlagSpec::new(name, FlagKind::U32, help)
    }

    /// A 64-bit unsigned flag.
    pub const fn u64(name: &'static str, help: &'static str) -> FlagSpec {
        FlagSpec::new(name, FlagKind::U64, help)
    }

    /// A 64-bit signed flag.
    pub const fn i64(name: &'static str, help: &'static str) -> FlagSpec {
        FlagSpec::new(name, FlagKind::I64, help)
    }

    /// A double flag.
    pub const fn f64(name: &'static str, help: &'static str) -> FlagSpec {
        FlagSpec::new(name, FlagKind::F64, help)
    }

    /// This flag with a default value (in the flag's text syntax).
    pub const fn default(mut self, value: &'static str) -> FlagSpec {
        self.default = Some(value);
        self
    }

    /// This flag, required: loading fails when it is not given.
    pub const fn required(mut self) -> FlagSpec {
        self.required = true;
        self
    }

    /// This flag, also accepted under `alias`.
    pub const fn alias(mut self, alias: &'static str) -> FlagSpec {
        self.alias = Some((alias, false));
        self
    }

    /// This flag, also accepted under the deprecated name `alias`;
    /// using it adds a warning to the loaded flags.
    pub const fn deprecated_alias(mut self, alias: &'static str) -> FlagSpec {
        self.alias = Some((alias, true));
        self
    }

    /// This flag with an extra check on its parsed value.
    pub const fn validate(mut self, validator: FlagValidator) -> FlagSpec {
        self.validator = Some(validator);
        self
    }
}
