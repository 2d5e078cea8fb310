//! [`wire_message!`](crate::wire_message): declaring a user message type.

/// Declares a user message type: a struct with named fields that implements
/// [`Message`](crate::messaging::Message) with the given `message_type` string, encoded in
/// AIPerf's wire shape.
///
/// Keys are written in field order after `message_type`. The global omit-if-None rule applies
/// by field name: an `Option` field whose name is in
/// [`OMIT_IF_NONE`](crate::messaging::OMIT_IF_NONE) (`request_id`, `request_ns`, …) is left out
/// when `None`; every other `None` is written as `null`. On decode, an absent `Option` field
/// is `None`, any other absent field is a missing-field error, and unknown keys are ignored.
/// Field types need `serde::Serialize` and `serde::de::DeserializeOwned`; the caller does
/// not need serde as a dependency. Attributes (doc comments, derives) go through to the
/// struct; serde attributes on fields have no effect (the codec is generated here).
///
/// Decode a user type directly with [`Message::from_json`](crate::messaging::Message::from_json),
/// or from the [`RawMessage`](crate::messaging::RawMessage) that
/// [`AnyMessage::decode`](crate::messaging::AnyMessage::decode) gives for its type string.
///
/// # Example
/// ```
/// use lifecycle_ecs::messaging::{AnyMessage, Message};
/// use lifecycle_ecs::wire_message;
///
/// wire_message! {
///     /// A load report.
///     #[derive(Clone, Debug, PartialEq)]
///     pub struct LoadReport: "load_report" {
///         /// The sender.
///         pub service_id: String,
///         /// In the global omit set: left out when `None`.
///         pub request_id: Option<String>,
///         /// Not in the set: written as `null`.
///         pub note: Option<String>,
///         /// Any serde type.
///         pub loads: Vec<f64>,
///     }
/// }
///
/// let report = LoadReport {
///     service_id: "w1".into(),
///     request_id: None,
///     note: None,
///     loads: vec![0.5, 1.0],
/// };
/// let json = report.to_json().unwrap();
/// assert_eq!(
///     json,
///     r#"{"message_type":"load_report","service_id":"w1","note":null,"loads":[0.5,1.0]}"#
/// );
/// assert_eq!(LoadReport::from_json(json.as_bytes()).unwrap(), report);
///
/// // Off the wire it arrives raw under its type string, and parses to the struct.
/// let AnyMessage::Raw(raw) = AnyMessage::decode(json.as_bytes()).unwrap() else { panic!() };
/// assert_eq!(raw.message_type(), "load_report");
/// assert_eq!(raw.parse::<LoadReport>().unwrap(), report);
/// ```
#[macro_export]
macro_rules! wire_message {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident : $message_type:literal {
            $( $(#[$field_meta:meta])* $field_vis:vis $field:ident : $field_ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $( $(#[$field_meta])* $field_vis $field : $field_ty, )*
        }

        impl $crate::messaging::__private::Serialize for $name {
            fn serialize<S: $crate::messaging::__private::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                #[allow(unused_imports, reason = "each field uses one of the two probes")]
                use $crate::messaging::__private::{
                    ProbeOption as _, ProbeOther as _, SerializeMap as _,
                };
                let mut map = serializer.serialize_map(::core::option::Option::None)?;
                $(
                    let probe = &$crate::messaging::__private::NoneProbe(&self.$field);
                    if !($crate::messaging::omits_if_none(stringify!($field)) && probe.is_wire_none()) {
                        map.serialize_entry(stringify!($field), &self.$field)?;
                    }
                )*
                map.end()
            }
        }

        impl<'de> $crate::messaging::__private::Deserialize<'de> for $name {
            fn deserialize<D: $crate::messaging::__private::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                #[allow(unused_mut, reason = "a struct without fields takes nothing")]
                let mut fields = <$crate::messaging::__private::Map<
                    ::std::string::String,
                    $crate::messaging::__private::Value,
                > as $crate::messaging::__private::Deserialize>::deserialize(deserializer)?;
                ::core::result::Result::Ok(Self {
                    $( $field: $crate::messaging::__private::take_field(&mut fields, stringify!($field))?, )*
                })
            }
        }

        impl $crate::messaging::Message for $name {
            const MESSAGE_TYPE: &'static str = $message_type;
        }
    };
}
