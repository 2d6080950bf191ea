//! Command-line flags, loaded as Mesos's stout flags load them.
//!
//! A binary declares its flags once, as a table of [`FlagSpec`]s, and
//! builds a [`FlagSet`] from it. Loading gives [`Flags`]: typed values
//! checked at load time, the `--help` text, and the `/flags` JSON.
//!
//! Loading follows stout:
//! - Arguments are `--name=value`, `--name` (boolean true) and
//!   `--no-name` (boolean false). `--name value` is not a flag pair:
//!   non-flag arguments are kept aside ([`Flags::args`]) and `--` ends
//!   flag parsing. Names are case-insensitive.
//! - Environment variables `<PREFIX><NAME>` (`MESOS_WORK_DIR` for
//!   `work_dir`) supply flags the command line does not; unknown
//!   environment names are ignored, unknown command-line flags are
//!   an error.
//! - A value `file://<path>` is replaced by the file's contents, for
//!   every kind but [`FlagKind::Path`].
//! - Giving a flag twice, a value of the wrong type, or leaving out a
//!   required flag is an error naming the flag and the value.

mod spec;

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{json, Map as JsonMap, Value as Json};

pub use spec::{FlagKind, FlagSpec, FlagValidator, FlagValue};

use crate::bytes::Bytes;
use crate::duration::Duration;
use crate::error::{Error, Result};

/// The environment prefix Mesos binaries read flags from.
pub const MESOS_ENV_PREFIX: &str = "MESOS_";

/// The flag every binary has.
const HELP: FlagSpec = FlagSpec::bool("help", "Prints this help message").default("false");

/// A binary's flag table, ready to load from.
#[derive(Debug, Clone)]
pub struct FlagSet {
    /// Sorted by name; includes `help`.
    specs: Vec<FlagSpec>,
    /// Parsed defaults, parallel to `specs`.
    defaults: Vec<Option<FlagValue>>,
    usage_message: Option<String>,
}

impl FlagSet {
    /// Builds the set from a table, adding the `help` flag.
    ///
    /// # Panics
    ///
    /// On a mistake in the table itself, as stout exits on one: two flags
    /// (or aliases) with one name, a name starting with `no-`, or a
    /// default that does not parse as the flag's kind.
    pub fn new(table: &[FlagSpec]) -> FlagSet {
        let mut specs: Vec<FlagSpec> = std::iter::once(HELP).chain(table.iter().copied()).collect();
        specs.sort_by_key(|s| s.name);
        let mut seen = std::collections::BTreeSet::new();
        for spec in &specs {
            for name in std::iter::once(spec.name).chain(spec.alias.map(|a| a.0)) {
                assert!(seen.insert(name), "flag table declares '{name}' twice");
                assert!(
                    !name.starts_with("no-"),
                    "flag '{name}' starts with the reserved 'no-' prefix"
                );
            }
        }
        let defaults = specs
            .iter()
            .map(|spec| {
                spec.default.map(|text| {
                    FlagValue::parse(spec.kind, text).unwrap_or_else(|reason| {
                        panic!(
                            "default '{text}' of flag '{}' is invalid: {reason}",
                            spec.name
                        )
                    })
                })
            })
            .collect();
        FlagSet {
            specs,
            defaults,
            usage_message: None,
        }
    }

    /// Replaces the `Usage: <program> [options]` line of the help text.
    pub fn with_usage_message(mut self, message: impl Into<String>) -> FlagSet {
        self.usage_message = Some(message.into());
        self
    }

    /// The declared flags, sorted by name, `help` included.
    pub fn specs(&self) -> &[FlagSpec] {
        &self.specs
    }

    /// Loads flags from `args` (the full argv, program name first) and
    /// from the variables of `env` that start with `prefix`, command
    /// line first. When `--help` is given the result is `Ok` with
    /// [`Flags::help_requested`] set and no other checks made, so the
    /// binary can print [`Flags::usage`]; otherwise any bad flag is an
    /// error.
    pub fn load<A, S, E>(&self, prefix: Option<&str>, args: A, env: E) -> Result<Flags>
    where
        A: IntoIterator<Item = S>,
        S: AsRef<str>,
        E: IntoIterator<Item = (String, String)>,
    {
        let mut args = args.into_iter();
        let program = args
            .next()
            .map(|a| {
                let a = a.as_ref();
                a.rsplit('/').next().unwrap_or(a).to_string()
            })
            .unwrap_or_default();

        // Raw values by (lower-cased) name as given, in name order.
        let mut raw: BTreeMap<String, Vec<Option<String>>> = BTreeMap::new();
        let mut positional = Vec::new();
        let mut rest_are_positional = false;
        for arg in args {
            let arg = arg.as_ref().trim();
            if rest_are_positional {
                positional.push(arg.to_string());
            } else if arg == "--" {
                rest_are_positional = true;
            } else if let Some(flag) = arg.strip_prefix("--") {
                let (name, value) = match flag.split_once('=') {
                    Some((name, value)) => (name, Some(value.to_string())),
                    None => (flag, None),
                };
                raw.entry(name.to_lowercase()).or_default().push(value);
            } else {
                positional.push(arg.to_string());
            }
        }
        if let Some(prefix) = prefix {
            for (key, value) in env {
                let Some(name) = key.strip_prefix(prefix) else {
                    continue;
                };
                let name = name.to_lowercase();
                let known = self
                    .find(name.strip_prefix("no-").unwrap_or(&name))
                    .is_some();
                if known && !raw.contains_key(&name) {
                    raw.insert(name, vec![Some(value)]);
                }
            }
        }

        let mut flags = Flags {
            set: self.clone(),
            program,
            values: self.defaults.clone(),
            loaded_as: vec![None; self.specs.len()],
            warnings: Vec::new(),
            args: positional,
            help: false,
        };

        if let Some(Some(value)) = raw.get("help").and_then(|v| v.last()) {
            flags.help = matches!(value.as_str(), "" | "true" | "1");
        } else if raw.contains_key("help") {
            flags.help = true;
        }
        if flags.help {
            return Ok(flags);
        }

        for (given, values) in &raw {
            for value in values {
                self.load_one(&mut flags, given, value.as_deref())?;
            }
        }

        for (i, spec) in self.specs.iter().enumerate() {
            if spec.required && flags.loaded_as[i].is_none() {
                return Err(Error::RequiredFlag {
                    name: spec.name.to_string(),
                });
            }
            if let (Some(validate), Some(value)) = (spec.validator, &flags.values[i]) {
                validate(value).map_err(|reason| Error::FlagValidation {
                    name: spec.name.to_string(),
                    reason,
                })?;
            }
        }
        Ok(flags)
    }

    /// Loads from this process's arguments and its `MESOS_*` environment.
    /// Arguments or variables that are not valid UTF-8 are skipped.
    pub fn load_from_process(&self) -> Result<Flags> {
        let args: Vec<String> = std::env::args_os()
            .filter_map(|a| a.into_string().ok())
            .collect();
        let env = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
        self.load(Some(MESOS_ENV_PREFIX), args, env)
    }

    /// What a Mesos binary's `main` does with its flags: load them from
    /// the process; on `--help` print the usage to stdout and exit 0; on
    /// an error print it with the usage to stderr and exit 1. Print any
    /// deprecation warnings to stderr.
    pub fn load_or_exit(&self) -> Flags {
        match self.load_from_process() {
            Ok(flags) if flags.help_requested() => {
                println!("{}", flags.usage(None));
                std::process::exit(0);
            }
            Ok(flags) => {
                for warning in flags.warnings() {
                    eprintln!("{warning}");
                }
                flags
            }
            Err(error) => {
                let program = std::env::args().next().unwrap_or_default();
                let program = program.rsplit('/').next().unwrap_or("").to_string();
                eprintln!("{}", self.usage(&program, Some(&error.to_string())));
                std::process::exit(1);
            }
        }
    }

    /// The help text: `message` and a blank line if given, the usage
    /// line, a blank line, then one line per flag (sorted by name) with
    /// its help and default, aligned as stout aligns them.
    pub fn usage(&self, program: &str, message: Option<&str>) -> String {
        const PAD: usize = 5;
        let mut out = String::new();
        if let Some(message) = message {
            out.push_str(message);
            out.push_str("\n\n");
        }
        match &self.usage_message {
            Some(m) => out.push_str(&format!("{m}\n\n")),
            None => out.push_str(&format!("Usage: {program} [options]\n\n")),
        }

        let names: Vec<String> = self
            .specs
            .iter()
            .map(|spec| {
                let form = |n: &str| match spec.kind {
                    FlagKind::Bool => format!("--[no-]{n}"),
                    _ => format!("--{n}=VALUE"),
                };
                match spec.alias {
                    Some((alias, _)) => format!("  {}, {}", form(spec.name), form(alias)),
                    None => format!("  {}", form(spec.name)),
                }
            })
            .collect();
        let width = names.iter().map(String::len).max().unwrap_or(0);

        for (i, (spec, name)) in self.specs.iter().zip(&names).enumerate() {
            let help = self.help_with_default(i, spec);
            let mut lines = help.split(['\n', '\r']);
            let first = lines.next().unwrap_or("");
            out.push_str(&format!("{name:width$}{:PAD$}{first}\n", ""));
            for line in lines {
                out.push_str(&format!("{:indent$}{line}\n", "", indent = PAD + width));
            }
        }
        out
    }

    /// The help text plus `(default: …)`, which stout adds to every flag
    /// that is not optional (required ones show an empty default).
    fn help_with_default(&self, i: usize, spec: &FlagSpec) -> String {
        if spec.default.is_none() && !spec.required {
            return spec.help.to_string();
        }
        let default = self.defaults[i]
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let joiner = if !spec.help.is_empty() && !spec.help.ends_with(['\n', '\r']) {
            " "
        } else {
            ""
        };
        format!("{}{joiner}(default: {default})", spec.help)
    }

    /// The index of the flag named (or aliased) `name`.
    fn find(&self, name: &str) -> Option<usize> {
        self.specs
            .iter()
            .position(|s| s.name == name || s.alias.is_some_and(|a| a.0 == name))
    }

    /// Loads one `--given[=value]` into `flags`.
    fn load_one(&self, flags: &mut Flags, given: &str, value: Option<&str>) -> Result<()> {
        let negated = given.starts_with("no-");
        let name = given.strip_prefix("no-").unwrap_or(given);
        let Some(i) = self.find(name) else {
            return Err(Error::UnknownFlag {
                name: name.to_string(),
                via: negated.then(|| given.to_string()),
            });
        };
        let spec = &self.specs[i];
        if let Some(loaded_via) = &flags.loaded_as[i] {
            return Err(Error::DuplicateFlag {
                name: name.to_string(),
                loaded_via: loaded_via.clone(),
            });
        }

        let text = if spec.kind != FlagKind::Bool {
            if negated {
                return Err(Error::NegatedNonBoolean {
                    name: name.to_string(),
                    via: given.to_string(),
                });
            }
            value.ok_or_else(|| Error::MissingFlagValue {
                name: name.to_string(),
            })?
        } else {
            match value {
                None | Some("") if negated => "false",
                None | Some("") => "true",
                Some(v) if !negated => v,
                Some(v) => {
                    return Err(Error::NegatedWithValue {
                        name: name.to_string(),
                        via: given.to_string(),
                        value: v.to_string(),
                    })
                }
            }
        };

        let invalid = |reason: String| Error::InvalidFlagValue {
            name: name.to_string(),
            value: text.to_string(),
            reason,
        };
        let fetched = match text.strip_prefix("file://") {
            Some(path) if spec.kind != FlagKind::Path => std::fs::read_to_string(path)
                .map_err(|e| invalid(format!("Error reading file '{path}': {e}")))?,
            _ => text.to_string(),
        };
        flags.values[i] = Some(FlagValue::parse(spec.kind, &fetched).map_err(invalid)?);
        flags.loaded_as[i] = Some(name.to_string());
        if spec
            .alias
            .is_some_and(|(alias, deprecated)| deprecated && alias == name)
        {
            flags
                .warnings
                .push(format!("Loaded deprecated flag '{name}'"));
        }
        Ok(())
    }
}

/// Loaded flag values, with their table.
///
/// The typed getters (`get_str`, `get_duration`, …) return `None` when
/// the flag has no value (optional and not given) and panic when the
/// name is not in the table or has another kind: both are mistakes in
/// the calling code, never in user input, which was checked at load.
#[derive(Debug, Clone)]
pub struct Flags {
    set: FlagSet,
    program: String,
    values: Vec<Option<FlagValue>>,
    /// The name (flag or alias) each flag was given as, if given.
    loaded_as: Vec<Option<String>>,
    warnings: Vec<String>,
    args: Vec<String>,
    help: bool,
}

impl Flags {
    /// Whether `--help` was given.
    pub fn help_requested(&self) -> bool {
        self.help
    }

    /// The program name (the base name of argv\[0\]).
    pub fn program(&self) -> &str {
        &self.program
    }

    /// Arguments that were not flags, in order, including all after `--`.
    pub fn args(&self) -> &[String] {
        &self.args
    }

    /// Warnings from loading, such as the use of a deprecated name.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The help text for this program, with `message` above it.
    pub fn usage(&self, message: Option<&str>) -> String {
        self.set.usage(&self.program, message)
    }

    /// Whether the flag was given (on the command line or environment)
    /// rather than left at its default.
    pub fn is_given(&self, name: &str) -> bool {
        self.loaded_as[self.index(name)].is_some()
    }

    /// The flag's value, if it has one.
    pub fn get(&self, name: &str) -> Option<&FlagValue> {
        self.values[self.index(name)].as_ref()
    }

    /// A [`FlagKind::String`] or [`FlagKind::Path`] flag's value.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        match self.get(name)? {
            FlagValue::String(s) => Some(s),
            other => kind_mismatch(name, other),
        }
    }

    /// A [`FlagKind::Bool`] flag's value.
    pub fn get_bool(&self, name: &str) -> Option<bool> {
        match self.get(name)? {
            FlagValue::Bool(b) => Some(*b),
            other => kind_mismatch(name, other),
        }
    }

    /// A [`FlagKind::Duration`] flag's value.
    pub fn get_duration(&self, name: &str) -> Option<Duration> {
        match self.get(name)? {
            FlagValue::Duration(d) => Some(*d),
            other => kind_mismatch(name, other),
        }
    }

    /// A [`FlagKind::Bytes`] flag's value.
    pub fn get_bytes(&self, name: &str) -> Option<Bytes> {
        match self.get(name)? {
            FlagValue::Bytes(b) => Some(*b),
            other => kind_mismatch(name, other),
        }
    }

    /// A [`FlagKind::U16`] flag's value.
    pub fn get_u16(&self, name: &str) -> Option<u16> {
        match self.get(name)? {
            FlagValue::U16(n) => Some(*n),
            other => kind_mismatch(name, other),
        }
    }

    /// A [`FlagKind::U32`] flag's value.
    pub fn get_u32(&self, name: &str) -> Option<u32> {
        match self.get(name)? {
            FlagValue::U32(n) => Some(*n),
            other => kind_mismatch(name, other),
        }
    }

    /// A [`FlagKind::U64`] flag's value.
    pub fn get_u64(&self, name: &str) -> Option<u64> {
        match self.get(name)? {
            FlagValue::U64(n) => Some(*n),
            other => kind_mismatch(name, other),
        }
    }

    /// A [`FlagKind::I64`] flag's value.
    pub fn get_i64(&self, name: &str) -> Option<i64> {
        match self.get(name)? {
            FlagValue::I64(n) => Some(*n),
            other => kind_mismatch(name, other),
        }
    }

    /// A [`FlagKind::F64`] flag's value.
    pub fn get_f64(&self, name: &str) -> Option<f64> {
        match self.get(name)? {
            FlagValue::F64(x) => Some(*x),
            other => kind_mismatch(name, other),
        }
    }

    /// Every flag that has a value, as (name it was given as, or its
    /// own name; value printed as Mesos prints it), sorted by flag name.
    pub fn effective_values(&self) -> Vec<(String, String)> {
        self.set
            .specs
            .iter()
            .enumerate()
            .filter_map(|(i, spec)| {
                let value = self.values[i].as_ref()?;
                let name = self.loaded_as[i].clone().unwrap_or(spec.name.to_string());
                Some((name, value.to_string()))
            })
            .collect()
    }

    /// The body of the `/flags` endpoint: `{"flags": {"name": "value"}}`
    /// with every value a string, as Mesos serves it.
    pub fn to_json(&self) -> Json {
        let flags: JsonMap<String, Json> = self
            .effective_values()
            .into_iter()
            .map(|(name, value)| (name, Json::String(value)))
            .collect();
        json!({ "flags": flags })
    }

    /// Environment variables that reproduce these flags in a child
    /// process: `<prefix><NAME>` for each flag with a value.
    pub fn to_env(&self, prefix: &str) -> BTreeMap<String, String> {
        self.effective_values()
            .into_iter()
            .map(|(name, value)| (format!("{prefix}{}", name.to_uppercase()), value))
            .collect()
    }

    fn index(&self, name: &str) -> usize {
        self.set
            .specs
            .iter()
            .position(|s| s.name == name)
            .unwrap_or_else(|| panic!("flag '{name}' is not declared in the flag table"))
    }
}

impl fmt::Display for Flags {
    /// `--name="value"` for each flag with a value, space separated, as
    /// Mesos logs its flags at startup.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .effective_values()
            .into_iter()
            .map(|(name, value)| format!("--{name}=\"{value}\""))
            .collect();
        f.write_str(&parts.join(" "))
    }
}

fn kind_mismatch(name: &str, value: &FlagValue) -> ! {
    panic!("flag '{name}' was read as the wrong kind; its value is {value:?}")
}

#[cfg(test)]
mod tests;
