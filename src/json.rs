//! Strict JSON for attacker-controlled input: duplicate object keys are refused at any depth.
//!
//! RFC 7515 §5.2 (step 4) and RFC 7519 §4 let a JWS/JWT consumer either reject duplicate member names
//! or take the last one. Parsers disagree on which one wins, which is how a token can say one thing to
//! the IdP's tooling and another to us, so orggate rejects them. `serde_json::Value` silently keeps the
//! last duplicate, hence this visitor.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// Why a JSON text was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonError {
    /// Not JSON, or not an object at the top level.
    Invalid(String),
    /// The same member name twice in one object.
    DuplicateKey(String),
    /// Nested deeper than we are willing to walk.
    TooDeep,
}

const MAX_DEPTH: usize = 32;
const DUP_PREFIX: &str = "orggate-duplicate-key:";

/// Parses a JSON object, refusing duplicate keys anywhere inside it.
pub fn parse_object_strict(bytes: &[u8]) -> Result<Map<String, Value>, JsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = StrictSeed { depth: 0 }
        .deserialize(&mut de)
        .map_err(classify)?;
    de.end().map_err(classify)?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(JsonError::Invalid("not a JSON object".into())),
    }
}

fn classify(e: serde_json::Error) -> JsonError {
    let msg = e.to_string();
    if let Some(rest) = msg.strip_prefix(DUP_PREFIX) {
        let key = rest.split(" at line").next().unwrap_or(rest);
        JsonError::DuplicateKey(key.to_string())
    } else if msg.starts_with("too deep") {
        JsonError::TooDeep
    } else {
        JsonError::Invalid(msg)
    }
}

struct StrictSeed {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for StrictSeed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        if self.depth > MAX_DEPTH {
            return Err(de::Error::custom("too deep"));
        }
        d.deserialize_any(StrictVisitor { depth: self.depth })
    }
}

struct StrictVisitor {
    depth: usize,
}

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(StrictSeed {
            depth: self.depth + 1,
        })? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(StrictSeed {
                depth: self.depth + 1,
            })?;
            if out.contains_key(&key) {
                return Err(de::Error::custom(format_args!("{DUP_PREFIX}{key}")));
            }
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_object() {
        let m = parse_object_strict(br#"{"a":1,"b":{"c":[1,2]}}"#).unwrap();
        assert_eq!(m["b"]["c"][1], 2);
    }

    #[test]
    fn refuses_duplicate_top_level_key() {
        assert_eq!(
            parse_object_strict(br#"{"org_id":"a","org_id":"b"}"#),
            Err(JsonError::DuplicateKey("org_id".into()))
        );
    }

    #[test]
    fn refuses_duplicate_nested_key() {
        assert_eq!(
            parse_object_strict(br#"{"o":{"id":"a","id":"b"}}"#),
            Err(JsonError::DuplicateKey("id".into()))
        );
    }

    #[test]
    fn refuses_non_object_and_trailing_garbage() {
        assert!(matches!(
            parse_object_strict(b"[1]"),
            Err(JsonError::Invalid(_))
        ));
        assert!(matches!(
            parse_object_strict(b"{} x"),
            Err(JsonError::Invalid(_))
        ));
        assert!(matches!(
            parse_object_strict(b"nope"),
            Err(JsonError::Invalid(_))
        ));
    }

    #[test]
    fn refuses_deep_nesting() {
        let s = format!("{}1{}", "[".repeat(100), "]".repeat(100));
        let doc = format!("{{\"a\":{s}}}");
        assert_eq!(parse_object_strict(doc.as_bytes()), Err(JsonError::TooDeep));
    }
}
