//! Reading only a message's `message_type`, without building the rest of the JSON.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::DecodeError;

/// The `message_type` of the JSON object in `bytes` (the last one when the key repeats, as
/// Python's `json.loads` keeps).
///
/// The whole input is parsed (so trailing garbage is an error), but only the type string is
/// kept.
///
/// # Errors
/// [`DecodeError::InvalidJson`], [`DecodeError::NotAnObject`],
/// [`DecodeError::MissingMessageType`] or [`DecodeError::MessageTypeNotString`].
pub(crate) fn read_message_type(bytes: &[u8]) -> Result<String, DecodeError> {
    match serde_json::from_slice::<Probe>(bytes).map_err(DecodeError::InvalidJson)? {
        Probe::NotAnObject(found) => Err(DecodeError::NotAnObject { found }),
        Probe::Object(None) => Err(DecodeError::MissingMessageType),
        Probe::Object(Some(TypeValue::Text(text))) => Ok(text),
        Probe::Object(Some(TypeValue::Other(found))) => {
            Err(DecodeError::MessageTypeNotString { found })
        }
    }
}

/// What the top level of the input is.
enum Probe {
    /// An object, with its `message_type` value if it has one.
    Object(Option<TypeValue>),
    /// Some other JSON value.
    NotAnObject(&'static str),
}

/// The value of a `message_type` key.
enum TypeValue {
    /// A string.
    Text(String),
    /// Some other JSON value.
    Other(&'static str),
}

/// Accepts any JSON value and reports what kind it was (`T` is built from the kind name).
struct KindVisitor<T>(fn(&'static str) -> T);

/// Implements the non-container `visit_*` methods of a [`KindVisitor`].
macro_rules! visit_kinds {
    ($($method:ident($($arg:ty)?) => $kind:literal),* $(,)?) => {
        $(
            fn $method<E: de::Error>(self $(, _: $arg)?) -> Result<Self::Value, E> {
                Ok((self.0)($kind))
            }
        )*
    };
}

impl<'de, T> Visitor<'de> for KindVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    visit_kinds! {
        visit_bool(bool) => "a boolean",
        visit_i64(i64) => "a number",
        visit_u64(u64) => "a number",
        visit_f64(f64) => "a number",
        visit_str(&str) => "a string",
        visit_unit() => "null",
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok((self.0)("an array"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok((self.0)("an object"))
    }
}

/// Forwards a [`TypeValue`] visitor's non-string cases to [`KindVisitor`].
macro_rules! visit_kinds_forward {
    () => {
        fn visit_bool<E: de::Error>(self, value: bool) -> Result<TypeValue, E> {
            KindVisitor(TypeValue::Other).visit_bool(value)
        }
        fn visit_i64<E: de::Error>(self, value: i64) -> Result<TypeValue, E> {
            KindVisitor(TypeValue::Other).visit_i64(value)
        }
        fn visit_u64<E: de::Error>(self, value: u64) -> Result<TypeValue, E> {
            KindVisitor(TypeValue::Other).visit_u64(value)
        }
        fn visit_f64<E: de::Error>(self, value: f64) -> Result<TypeValue, E> {
            KindVisitor(TypeValue::Other).visit_f64(value)
        }
        fn visit_unit<E: de::Error>(self) -> Result<TypeValue, E> {
            KindVisitor(TypeValue::Other).visit_unit()
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<TypeValue, A::Error> {
            KindVisitor(TypeValue::Other).visit_seq(seq)
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<TypeValue, A::Error> {
            KindVisitor(TypeValue::Other).visit_map(map)
        }
    };
}

impl<'de> Deserialize<'de> for TypeValue {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// A string is kept; anything else is named.
        struct TypeValueVisitor;
        impl<'de> Visitor<'de> for TypeValueVisitor {
            type Value = TypeValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a message type")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<TypeValue, E> {
                Ok(TypeValue::Text(text.to_owned()))
            }
            fn visit_string<E: de::Error>(self, text: String) -> Result<TypeValue, E> {
                Ok(TypeValue::Text(text))
            }
            visit_kinds_forward! {}
        }
        deserializer.deserialize_any(TypeValueVisitor)
    }
}

/// A map key, reduced to whether it is `message_type`.
struct IsTypeKey;

impl<'de> DeserializeSeed<'de> for IsTypeKey {
    type Value = bool;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        /// Compares the key without allocating.
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = bool;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
                Ok(key == "message_type")
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for Probe {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// An object is searched for the key; anything else is named.
        struct ProbeVisitor;
        impl<'de> Visitor<'de> for ProbeVisitor {
            type Value = Probe;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Probe, A::Error> {
                let mut found = None;
                while let Some(is_type) = map.next_key_seed(IsTypeKey)? {
                    if is_type {
                        found = Some(map.next_value::<TypeValue>()?);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(Probe::Object(found))
            }
            fn visit_bool<E: de::Error>(self, value: bool) -> Result<Probe, E> {
                KindVisitor(Probe::NotAnObject).visit_bool(value)
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Probe, E> {
                KindVisitor(Probe::NotAnObject).visit_i64(value)
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Probe, E> {
                KindVisitor(Probe::NotAnObject).visit_u64(value)
            }
            fn visit_f64<E: de::Error>(self, value: f64) -> Result<Probe, E> {
                KindVisitor(Probe::NotAnObject).visit_f64(value)
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Probe, E> {
                KindVisitor(Probe::NotAnObject).visit_str(value)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Probe, E> {
                KindVisitor(Probe::NotAnObject).visit_unit()
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Probe, A::Error> {
                KindVisitor(Probe::NotAnObject).visit_seq(seq)
            }
        }
        deserializer.deserialize_any(ProbeVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_shape_of_input_is_told_apart() {
        assert_eq!(
            read_message_type(br#"{"a":[1,{}],"message_type":"x"}"#).ok(),
            Some("x".into())
        );
        assert!(matches!(
            read_message_type(b"[1]"),
            Err(DecodeError::NotAnObject { found: "an array" })
        ));
        assert!(matches!(
            read_message_type(b"\"s\""),
            Err(DecodeError::NotAnObject { found: "a string" })
        ));
        assert!(matches!(
            read_message_type(b"{}"),
            Err(DecodeError::MissingMessageType)
        ));
        assert!(matches!(
            read_message_type(br#"{"message_type":null}"#),
            Err(DecodeError::MessageTypeNotString { found: "null" })
        ));
        assert!(matches!(
            read_message_type(br#"{"message_type":{"a":1}}"#),
            Err(DecodeError::MessageTypeNotString { found: "an object" })
        ));
        assert!(matches!(
            read_message_type(b"{"),
            Err(DecodeError::InvalidJson(_))
        ));
        assert!(matches!(
            read_message_type(b"{} x"),
            Err(DecodeError::InvalidJson(_))
        ));
    }

    #[test]
    fn a_repeated_type_key_keeps_the_last_value() {
        assert_eq!(
            read_message_type(br#"{"message_type":"a","message_type":"b"}"#).ok(),
            Some("b".into())
        );
    }
}
