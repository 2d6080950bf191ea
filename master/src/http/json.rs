//! A small JSON writer, in the manner of Mesos's `JSON::ObjectWriter`:
//! objects and arrays are written straight into a byte buffer by closures,
//! so a large state becomes bytes without first becoming a tree of
//! values. Pieces rendered earlier (a task's JSON kept between renders)
//! are spliced in as they are.
//!
//! Strings, numbers and booleans are written as `serde_json` writes them
//! (the same escaping, the shortest round-trip form of a double, `null`
//! for a non-finite one), so switching a field to this writer does not
//! change its text.

use serde_json::ser::{CompactFormatter, Formatter};

/// Writes a JSON object into `out`.
pub fn object(out: &mut Vec<u8>, fields: impl FnOnce(&mut ObjectWriter)) {
    out.push(b'{');
    fields(&mut ObjectWriter { out, first: true });
    out.push(b'}');
}

/// Writes a JSON array into `out`.
pub fn array(out: &mut Vec<u8>, elements: impl FnOnce(&mut ArrayWriter)) {
    out.push(b'[');
    elements(&mut ArrayWriter { out, first: true });
    out.push(b']');
}

/// The members of an object: `"key":value` pairs, separated as they come.
pub struct ObjectWriter<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl ObjectWriter<'_> {
    /// Starts member `key` and returns the buffer for its value.
    fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        string(self.out, key);
        self.out.push(b':');
        self.out
    }

    /// A string member.
    pub fn str(&mut self, key: &str, value: &str) {
        let out = self.key(key);
        string(out, value);
    }

    /// A number member (`null` when not finite, as `serde_json`).
    pub fn f64(&mut self, key: &str, value: f64) {
        let out = self.key(key);
        number(out, value);
    }

    /// An integer member.
    pub fn i64(&mut self, key: &str, value: i64) {
        let out = self.key(key);
        integer(out, value);
    }

    /// A boolean member.
    pub fn bool(&mut self, key: &str, value: bool) {
        let out = self.key(key);
        out.extend_from_slice(if value { b"true" } else { b"false" });
    }

    /// An object member.
    pub fn object(&mut self, key: &str, fields: impl FnOnce(&mut ObjectWriter)) {
        let out = self.key(key);
        object(out, fields);
    }

    /// An array member.
    pub fn array(&mut self, key: &str, elements: impl FnOnce(&mut ArrayWriter)) {
        let out = self.key(key);
        array(out, elements);
    }

    /// A member whose value is JSON rendered elsewhere; `json` must be one
    /// complete JSON value.
    pub fn raw(&mut self, key: &str, json: &[u8]) {
        let out = self.key(key);
        out.extend_from_slice(json);
    }

    /// A member whose value is a `serde_json` value.
    pub fn value(&mut self, key: &str, value: &serde_json::Value) {
        let out = self.key(key);
        // Writing into a Vec cannot fail.
        let _ = serde_json::to_writer(out, value);
    }

    /// Members rendered elsewhere: `members` must be zero or more complete
    /// `"key":value` pairs separated by commas (what [`members`] makes).
    pub fn members(&mut self, members: &[u8]) {
        if members.is_empty() {
            return;
        }
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.extend_from_slice(members);
    }
}

/// The elements of an array, separated as they come.
pub struct ArrayWriter<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl ArrayWriter<'_> {
    fn next(&mut self) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out
    }

    /// A string element.
    pub fn str(&mut self, value: &str) {
        let out = self.next();
        string(out, value);
    }

    /// An object element.
    pub fn object(&mut self, fields: impl FnOnce(&mut ObjectWriter)) {
        let out = self.next();
        object(out, fields);
    }

    /// An element written by `write` straight into the buffer; it must
    /// write one complete value.
    pub fn with(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        let out = self.next();
        write(out);
    }

    /// An element rendered elsewhere; `json` must be one complete value.
    pub fn raw(&mut self, json: &[u8]) {
        let out = self.next();
        out.extend_from_slice(json);
    }
}

/// Renders the members of an object without its braces, to be spliced
/// into objects later with [`ObjectWriter::members`].
pub fn members(fields: impl FnOnce(&mut ObjectWriter)) -> Vec<u8> {
    let mut out = Vec::new();
    fields(&mut ObjectWriter {
        out: &mut out,
        first: true,
    });
    out
}

/// Renders one object on its own.
pub fn to_vec(fields: impl FnOnce(&mut ObjectWriter)) -> Vec<u8> {
    let mut out = Vec::new();
    object(&mut out, fields);
    out
}

/// A JSON string: quoted and escaped as `serde_json` escapes it.
pub fn string(out: &mut Vec<u8>, value: &str) {
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(out, value);
}

fn number(out: &mut Vec<u8>, value: f64) {
    if value.is_finite() {
        // Writing into a Vec cannot fail.
        let _ = CompactFormatter.write_f64(out, value);
    } else {
        out.extend_from_slice(b"null");
    }
}

fn integer(out: &mut Vec<u8>, value: i64) {
    // Writing into a Vec cannot fail.
    let _ = CompactFormatter.write_i64(out, value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_what_serde_json_writes() {
        let out = to_vec(|o| {
            o.str("name", "a \"quoted\"\nline\u{1}é");
            o.f64("one", 1.0);
            o.f64("tenth", 0.1);
            o.f64("time", 1_795_254_182.075_193_2);
            o.f64("nan", f64::NAN);
            o.i64("port", -5051);
            o.bool("active", true);
            o.array("list", |a| {
                a.str("x");
                a.object(|o| o.bool("empty", false));
                a.raw(b"[1,2]");
            });
            o.object("empty", |_| {});
            o.array("none", |_| {});
            o.value("value", &json!({"k": [null]}));
        });
        let expected = json!({
            "name": "a \"quoted\"\nline\u{1}é",
            "one": 1.0, "tenth": 0.1, "time": 1_795_254_182.075_193_2, "nan": null,
            "port": -5051, "active": true,
            "list": ["x", {"empty": false}, [1, 2]],
            "empty": {}, "none": [], "value": {"k": [null]},
        });
        let parsed: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(parsed, expected);
        // Numbers keep their serde_json text, e.g. `1.0` rather than `1`.
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("\"one\":1.0,"), "{text}");
        assert!(text.contains("\"time\":1795254182.0751932"), "{text}");
    }

    #[test]
    fn splices_members_rendered_elsewhere() {
        let prefix = members(|o| {
            o.str("id", "S0");
            o.i64("port", 5051);
        });
        let out = to_vec(|o| {
            o.members(&prefix);
            o.members(b"");
            o.i64("TASK_RUNNING", 2);
        });
        assert_eq!(out, br#"{"id":"S0","port":5051,"TASK_RUNNING":2}"#);
        let out = to_vec(|o| {
            o.members(b"");
            o.members(&prefix);
        });
        assert_eq!(out, br#"{"id":"S0","port":5051}"#);
    }
}
