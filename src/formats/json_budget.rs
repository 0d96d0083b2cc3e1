//! How many values a JSON text holds, counted without building any of them. Parsed into
//! `serde_json::Value`, every value costs 32 to 80 bytes whatever the length of its text (`0,` is two
//! bytes), so a document of small values grows 20 to 40 times in memory: a length limit alone does not
//! bound what parsing it costs, a count does.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Whether `json` holds at most `max` values (objects, arrays and scalars alike; object keys are not
/// counted). A text that is not JSON answers `true`: the parse that follows reports it.
pub fn within(json: &[u8], max: usize) -> bool {
    let (left, over) = (Cell::new(max), Cell::new(false));
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let counted = Count {
        left: &left,
        over: &over,
    }
    .deserialize(&mut deserializer);
    counted.is_ok() || !over.get()
}

/// The values of a parsed `Value`, counted as `within` counts them.
pub fn count(value: &serde_json::Value) -> usize {
    1 + match value {
        serde_json::Value::Array(items) => items.iter().map(count).sum(),
        serde_json::Value::Object(map) => map.values().map(count).sum(),
        _ => 0,
    }
}

struct Count<'a> {
    left: &'a Cell<usize>,
    over: &'a Cell<bool>,
}

impl Count<'_> {
    fn take<E: de::Error>(&self) -> Result<(), E> {
        match self.left.get() {
            0 => {
                self.over.set(true);
                Err(E::custom("too many JSON values"))
            }
            n => {
                self.left.set(n - 1);
                Ok(())
            }
        }
    }

    fn again(&self) -> Self {
        Count {
            left: self.left,
            over: self.over,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Count<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Count<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.take()
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.take()
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.take()
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.take()
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.take()
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.take()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.take()?;
        while seq.next_element_seed(self.again())?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.take()?;
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value_seed(self.again())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_every_value_but_not_keys() {
        let text = br#"{"a": [0, 1, {"b": null}], "c": "x", "d": true}"#;
        let value: serde_json::Value = serde_json::from_slice(text).unwrap();
        assert_eq!(count(&value), 8);
        assert!(within(text, 8));
        assert!(!within(text, 7));
    }

    #[test]
    fn malformed_text_is_left_to_the_parser() {
        assert!(within(b"{not json", 1));
        assert!(within(b"", 1));
        let many = format!("[{}]", vec!["0"; 1000].join(","));
        assert!(!within(many.as_bytes(), 999));
        assert!(within(many.as_bytes(), 1001));
    }
}
