//! Agent attributes, as given by the agent's `--attributes` flag.
//!
//! The text form is `name:value` pairs separated by `;` (or newlines),
//! e.g. `rack:a;zone:us-east;cores:8;slots:[1-5]`. A value is a scalar
//! when it reads as a number, ranges when it is `[a-b,...]`, and text
//! otherwise; sets are not allowed, as in Mesos.

use std::fmt;

use serde_json::{json, Map as JsonMap, Value as Json};

use crate::error::{Error, Result};
use crate::values::{parse_value, tokenize, Value};

/// One named attribute of an agent.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// The attribute name.
    pub name: String,
    /// A scalar, ranges or text (never a set).
    pub value: Value,
}

impl Attribute {
    /// Parses the value part of one `name:value` pair.
    pub fn parse(name: &str, text: &str) -> Result<Attribute> {
        let value = parse_value(text).map_err(|e| Error::InvalidAttributes {
            text: format!("{name}:{text}"),
            reason: e.to_string(),
        })?;
        if let Value::Set(_) = value {
            return Err(Error::InvalidAttributes {
                text: format!("{name}:{text}"),
                reason: "set values are not supported for attributes".to_string(),
            });
        }
        Ok(Attribute {
            name: name.to_string(),
            value,
        })
    }
}

impl fmt::Display for Attribute {
    /// Mesos's print form of one attribute: `rack=a`, `cores=8`,
    /// `slots=[1-5]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.name, self.value)
    }
}

/// An agent's attributes, in the order given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attributes(Vec<Attribute>);

impl Attributes {
    /// No attributes.
    pub const fn new() -> Attributes {
        Attributes(Vec::new())
    }

    /// Parses `name:value;name:value`. Empty pairs between separators
    /// are skipped; a pair without `:` or with an empty name or value,
    /// or a bad value, is an error naming the pair. Only the first `:`
    /// splits, so text values may contain `:` (`url:http://x`).
    pub fn parse(text: &str) -> Result<Attributes> {
        let mut out = Vec::new();
        for token in tokenize(text, &[';', '\n']) {
            match token.split_once(':') {
                Some((name, value)) if !name.is_empty() && !value.is_empty() => {
                    out.push(Attribute::parse(name, value)?);
                }
                _ => {
                    return Err(Error::InvalidAttributes {
                        text: token.to_string(),
                        reason: "expecting a 'name:value' pair".to_string(),
                    })
                }
            }
        }
        Ok(Attributes(out))
    }

    /// Appends an attribute.
    pub fn push(&mut self, attribute: Attribute) {
        self.0.push(attribute);
    }

    /// The attributes in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Attribute> {
        self.0.iter()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first attribute named `name`.
    pub fn get(&self, name: &str) -> Option<&Attribute> {
        self.0.iter().find(|a| a.name == name)
    }

    /// Whether an attribute with the same name, type and value is here.
    pub fn contains(&self, attribute: &Attribute) -> bool {
        self.0.iter().any(|a| a == attribute)
    }

    /// The JSON object Mesos's endpoints show: scalars as numbers,
    /// ranges and text as strings (`{"rack":"a","cores":8.0}`).
    pub fn to_json(&self) -> Json {
        let mut object = JsonMap::new();
        for a in &self.0 {
            let value = match &a.value {
                Value::Scalar(s) => json!(s.value()),
                Value::Text(t) => json!(t),
                other => json!(other.to_string()),
            };
            object.insert(a.name.clone(), value);
        }
        Json::Object(object)
    }
}

impl fmt::Display for Attributes {
    /// The text form `name:value;name:value`, which parses back to the
    /// same attributes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            write!(f, "{}:{}", a.name, a.value)?;
        }
        Ok(())
    }
}

impl<'a> IntoIterator for &'a Attributes {
    type Item = &'a Attribute;
    type IntoIter = std::slice::Iter<'a, Attribute>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl FromIterator<Attribute> for Attributes {
    fn from_iter<I: IntoIterator<Item = Attribute>>(iter: I) -> Attributes {
        Attributes(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::{Ranges, Scalar};

    #[test]
    fn parses_text_scalar_and_ranges() {
        let attrs = Attributes::parse("rack:a;zone:b;n:3;r:[1-5]").unwrap();
        assert_eq!(attrs.len(), 4);
        assert_eq!(attrs.get("rack").unwrap().value, Value::Text("a".into()));
        assert_eq!(
            attrs.get("n").unwrap().value,
            Value::Scalar(Scalar::from_f64(3.0))
        );
        assert_eq!(
            attrs.get("r").unwrap().value,
            Value::Ranges(Ranges::single(1, 5))
        );
        assert_eq!(attrs.to_string(), "rack:a;zone:b;n:3;r:[1-5]");
        assert_eq!(Attributes::parse(&attrs.to_string()).unwrap(), attrs);
        assert_eq!(attrs.get("rack").unwrap().to_string(), "rack=a");
    }

    #[test]
    fn keeps_colons_in_text_and_skips_empty_pairs() {
        let attrs = Attributes::parse("url:http://x;;\nos:linux").unwrap();
        assert_eq!(
            attrs.get("url").unwrap().value,
            Value::Text("http://x".into())
        );
        assert_eq!(attrs.len(), 2);
        assert!(Attributes::parse("").unwrap().is_empty());
    }

    #[test]
    fn rejects_bad_pairs() {
        let err = Attributes::parse("rack").unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid attributes 'rack': expecting a 'name:value' pair"
        );
        assert!(Attributes::parse(":a").is_err());
        assert!(Attributes::parse("a:").is_err());
        let err = Attributes::parse("s:{a,b}").unwrap_err().to_string();
        assert!(err.contains("set values are not supported"), "{err}");
        assert!(Attributes::parse("r:[5-1]").is_err());
    }

    #[test]
    fn renders_json_like_mesos() {
        let attrs = Attributes::parse("rack:a;n:3;r:[1-5]").unwrap();
        assert_eq!(
            attrs.to_json(),
            json!({"rack": "a", "n": 3.0, "r": "[1-5]"})
        );
        assert!(attrs.contains(&Attribute::parse("n", "3.0").unwrap()));
    }
}
