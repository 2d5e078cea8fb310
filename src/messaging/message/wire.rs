//! AIPerf's wire rules that every message shares: the one global omit-if-None set, the
//! `message_type` key written first, and the clock used to stamp `request_ns`.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::LifecycleState;

/// The field names dropped from the JSON whenever their value is `None`, in **any** message.
///
/// AIPerf's `@exclude_if_none` decorator updates one class variable shared by all models, so this
/// list is global: a field with one of these names is omitted when `None` whatever message it is
/// in, and **every other `None` is written as `null`** (for example `ErrorDetails.code`). The
/// built-in messages put `skip_serializing_if = "Option::is_none"` on exactly these names; the
/// [`wire_message!`](crate::wire_message) macro applies the rule by name to user messages.
pub const OMIT_IF_NONE: [&str; 19] = [
    "request_ns",
    "request_id",
    "target_service_id",
    "target_service_type",
    "worker_ids",
    "num_workers",
    "role",
    "min",
    "max",
    "p1",
    "p5",
    "p10",
    "p25",
    "p50",
    "p75",
    "p90",
    "p95",
    "p99",
    "std",
];

/// Whether a field called `name` is left out of the JSON when it is `None` ([`OMIT_IF_NONE`]).
///
/// # Example
/// ```
/// use lifecycle_ecs::messaging::omits_if_none;
/// assert!(omits_if_none("request_id"));
/// assert!(!omits_if_none("conversation_id"));
/// ```
#[must_use]
pub const fn omits_if_none(name: &str) -> bool {
    let mut index = 0;
    while index < OMIT_IF_NONE.len() {
        if bytes_equal(OMIT_IF_NONE[index].as_bytes(), name.as_bytes()) {
            return true;
        }
        index += 1;
    }
    false
}

/// `a == b` for byte strings, usable in a `const fn`.
const fn bytes_equal(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut index = 0;
    while index < a.len() {
        if a[index] != b[index] {
            return false;
        }
        index += 1;
    }
    true
}

/// Now, as AIPerf's `time.time_ns()`: integer nanoseconds since the Unix epoch (0 if the clock is
/// before the epoch, `u64::MAX` past the year 2554).
#[must_use]
pub fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
        })
}

/// A message body with its `message_type` key written first, as pydantic writes the base
/// class's field first.
#[derive(Serialize)]
pub(crate) struct Tagged<'a, M: ?Sized> {
    /// The wire type.
    pub(crate) message_type: &'a str,
    /// The body's own keys, in declaration order.
    #[serde(flatten)]
    pub(crate) body: &'a M,
}

/// Decodes a [`LifecycleState`] case-insensitively, as AIPerf's `CaseInsensitiveStrEnum` does
/// (`"RUNNING"` is `running`); it is always written lowercase.
pub(crate) fn lifecycle_state<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<LifecycleState, D::Error> {
    let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
    text.parse().map_err(|_| {
        serde::de::Error::unknown_variant(
            &text,
            &[
                "created",
                "initializing",
                "initialized",
                "starting",
                "running",
                "stopping",
                "stopped",
                "failed",
            ],
        )
    })
}

/// Deserializes the keys a message's struct does not name (pydantic's `extra="allow"`), in
/// arrival order, without the `message_type` key (the struct's type says it).
pub(crate) fn extra_fields<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Map<String, Value>, D::Error> {
    let mut extra = Map::<String, Value>::deserialize(deserializer)?;
    extra.shift_remove("message_type");
    Ok(extra)
}

/// Removes `key` from `rest` and decodes it as `T`; `None` when the key is absent.
///
/// # Errors
/// The value is not a `T`.
pub(crate) fn take<T: DeserializeOwned, E: serde::de::Error>(
    rest: &mut Map<String, Value>,
    key: &'static str,
) -> Result<Option<T>, E> {
    match rest.shift_remove(key) {
        None => Ok(None),
        Some(value) => T::deserialize(value)
            .map(Some)
            .map_err(|error| E::custom(format_args!("field `{key}`: {error}"))),
    }
}

/// Removes `key` from `rest` and decodes it as `T`.
///
/// # Errors
/// The key is absent, or its value is not a `T`.
pub(crate) fn take_required<T: DeserializeOwned, E: serde::de::Error>(
    rest: &mut Map<String, Value>,
    key: &'static str,
) -> Result<T, E> {
    take(rest, key)?.ok_or_else(|| E::missing_field(key))
}

/// Writes `key: value`, or nothing when `value` is `None` and `key` is in [`OMIT_IF_NONE`]
/// (every other `None` is written as `null`).
///
/// # Errors
/// The serializer's.
pub(crate) fn optional_entry<M: SerializeMap, T: Serialize>(
    map: &mut M,
    key: &'static str,
    value: Option<&T>,
) -> Result<(), M::Error> {
    match value {
        Some(value) => map.serialize_entry(key, value),
        None if omits_if_none(key) => Ok(()),
        None => map.serialize_entry(key, &()),
    }
}

/// Writes every extra key after the typed ones, as pydantic re-emits `extra="allow"` keys.
///
/// # Errors
/// The serializer's.
pub(crate) fn extra_entries<M: SerializeMap>(
    map: &mut M,
    extra: &Map<String, Value>,
) -> Result<(), M::Error> {
    for (key, value) in extra {
        map.serialize_entry(key, value)?;
    }
    Ok(())
}

/// For [`wire_message!`](crate::wire_message): `(&NoneProbe(&field)).is_wire_none()` is
/// `field.is_none()` for an `Option` field and `false` for any other type (autoref
/// specialization: the `Option` impl is found first, by value).
#[doc(hidden)]
pub struct NoneProbe<'a, T>(pub &'a T);

/// The `Option` half of [`NoneProbe`].
#[doc(hidden)]
pub trait ProbeOption {
    /// Whether the probed value is `None`.
    fn is_wire_none(&self) -> bool;
}

impl<T> ProbeOption for NoneProbe<'_, Option<T>> {
    fn is_wire_none(&self) -> bool {
        self.0.is_none()
    }
}

/// The fallback half of [`NoneProbe`]: a value that is not an `Option` is never `None`.
#[doc(hidden)]
pub trait ProbeOther {
    /// Always `false`.
    fn is_wire_none(&self) -> bool;
}

impl<T> ProbeOther for &NoneProbe<'_, T> {
    fn is_wire_none(&self) -> bool {
        false
    }
}

/// For [`wire_message!`](crate::wire_message): removes `key` from `fields` and decodes it; an
/// absent key decodes from `null` (so an `Option` field is `None`), and is reported as a
/// missing field when the type does not accept `null`.
///
/// # Errors
/// The value does not decode as `T`, or the key is absent and `T` does not accept `null`.
#[doc(hidden)]
pub fn take_field<T: DeserializeOwned, E: serde::de::Error>(
    fields: &mut Map<String, Value>,
    key: &'static str,
) -> Result<T, E> {
    match fields.shift_remove(key) {
        Some(value) => {
            T::deserialize(value).map_err(|error| E::custom(format_args!("field `{key}`: {error}")))
        }
        None => T::deserialize(Value::Null).map_err(|_| E::missing_field(key)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_omit_set_is_the_nineteen_names_of_the_reference() {
        for name in OMIT_IF_NONE {
            assert!(omits_if_none(name), "{name}");
        }
        for name in [
            "code",
            "type",
            "conversation_id",
            "delayed_ns",
            "avg",
            "data",
            "",
        ] {
            assert!(!omits_if_none(name), "{name}");
        }
        assert!(!omits_if_none("request_ns_"));
        assert!(!omits_if_none("p9"));
    }

    #[test]
    fn the_none_probe_tells_options_from_other_types() {
        use super::{ProbeOption as _, ProbeOther as _};
        let probe = &NoneProbe(&None::<u8>);
        assert!(probe.is_wire_none());
        let probe = &NoneProbe(&Some(1_u8));
        assert!(!probe.is_wire_none());
        let probe = &NoneProbe(&1_u8);
        assert!(!probe.is_wire_none());
        let probe = &NoneProbe(&String::new());
        assert!(!probe.is_wire_none());
    }

    #[test]
    fn now_is_after_2020_in_nanoseconds() {
        assert!(now_ns() > 1_577_836_800_000_000_000);
    }
}
