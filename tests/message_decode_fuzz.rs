//! Property tests of the decoder: 130 000 arbitrary inputs in all (random bytes, JSON-like
//! token soup, mutated reference lines, and well-formed objects with random fields). Every
//! input gives a message or a typed error, never a panic; every message decoded re-encodes,
//! and decodes again to the same value.

use lifecycle_ecs::messaging::{AnyMessage, DecodeError};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Map, Value};

/// Reference lines (aiperf-messages.md §1) to mutate.
const SEEDS: [&str; 6] = [
    r#"{"message_type":"status","request_ns":1796160310355016617,"service_id":"worker_1a2b3c4d","state":"running","service_type":"worker"}"#,
    r#"{"message_type":"connection_probe","service_id":"worker_1a2b3c4d","target_service_id":"worker_1a2b3c4d"}"#,
    r#"{"message_type":"command","service_id":"worker_manager_1","target_service_type":"system_controller","command":"shutdown_workers","command_id":"c-4","all_workers":true}"#,
    r#"{"message_type":"command","service_id":"worker_1a2b3c4d","target_service_type":"system_controller","command":"register_service","command_id":"c-2","service_type":"worker","state":"starting"}"#,
    r#"{"message_type":"command_response","service_id":"worker_1a2b3c4d","target_service_id":"system_controller_00000001","command":"profile_start","command_id":"c-1","status":"failure","error":{"code":null,"type":"ValueError","message":"boom"}}"#,
    r#"{"message_type":"error","request_id":"r-1","error":{"code":null,"type":"NO_RESPONSE","message":"No response was generated for the request."}}"#,
];

/// JSON fragments that reach the typed decoders often.
const TOKENS: [&str; 40] = [
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"message_type\"",
    "\"status\"",
    "\"heartbeat\"",
    "\"command\"",
    "\"command_response\"",
    "\"connection_probe\"",
    "\"error\"",
    "\"credit_drop\"",
    "\"service_id\"",
    "\"service_type\"",
    "\"state\"",
    "\"running\"",
    "\"STOPPED\"",
    "\"request_ns\"",
    "\"request_id\"",
    "\"target_service_id\"",
    "\"target_service_type\"",
    "\"command_id\"",
    "\"shutdown_workers\"",
    "\"register_service\"",
    "\"all_workers\"",
    "\"worker_ids\"",
    "\"num_workers\"",
    "\"status\"",
    "\"success\"",
    "\"failure\"",
    "\"data\"",
    "\"code\"",
    "null",
    "true",
    "1",
    "-1",
    "1e400",
    "\"\\ud800\"",
];

/// The property: a message or a typed error; a message survives a second trip unchanged.
fn decodes_or_errs(bytes: &[u8]) -> Result<(), TestCaseError> {
    match AnyMessage::decode(bytes) {
        Ok(message) => {
            let json = message
                .to_json()
                .map_err(|e| TestCaseError::fail(format!("decoded but did not encode: {e}")))?;
            let again = AnyMessage::decode(json.as_bytes())
                .map_err(|e| TestCaseError::fail(format!("{json} did not decode again: {e}")))?;
            prop_assert_eq!(&again, &message);
            prop_assert_eq!(again.to_json().ok(), Some(json));
        }
        Err(error) => {
            prop_assert!(!error.to_string().is_empty());
            if let DecodeError::InvalidFields { message_type, .. } = &error {
                prop_assert!(!message_type.is_empty() || bytes.contains(&b'"'));
            }
        }
    }
    Ok(())
}

/// A small random JSON value, nested at most three levels.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(&["running", "worker", "", "success", "x"][..])
            .prop_map(|text| Value::String(text.to_owned())),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((field_name(), inner), 0..4)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// A key that is often one a message names.
fn field_name() -> impl Strategy<Value = String> {
    prop::sample::select(
        &[
            "service_id",
            "service_type",
            "state",
            "request_ns",
            "request_id",
            "target_service_id",
            "target_service_type",
            "command",
            "command_id",
            "status",
            "error",
            "data",
            "all_workers",
            "worker_ids",
            "num_workers",
            "cancelled",
            "config",
            "code",
            "type",
            "message",
            "other",
        ][..],
    )
    .prop_map(str::to_owned)
}

/// One edit of a byte string.
#[derive(Debug, Clone)]
enum Edit {
    /// Remove bytes `[at, at + len)`.
    Delete(usize, usize),
    /// Insert a byte.
    Insert(usize, u8),
    /// Replace a byte.
    Replace(usize, u8),
    /// Cut the input.
    Truncate(usize),
}

/// Applies `edit`, positions taken modulo the length.
fn apply(bytes: &mut Vec<u8>, edit: &Edit) {
    let len = bytes.len().max(1);
    match *edit {
        Edit::Delete(at, count) => {
            let at = at % len;
            let end = (at + count).min(bytes.len());
            if at < end {
                bytes.drain(at..end);
            }
        }
        Edit::Insert(at, byte) => bytes.insert(at % (bytes.len() + 1), byte),
        Edit::Replace(at, byte) => {
            if let Some(slot) = bytes.get_mut(at % len) {
                *slot = byte;
            }
        }
        Edit::Truncate(at) => bytes.truncate(at % len),
    }
}

/// A random edit; inserted bytes are often JSON punctuation.
fn edit() -> impl Strategy<Value = Edit> {
    let byte = prop_oneof![any::<u8>(), prop::sample::select(&b"{}[]:,\"\\0 n-e."[..]),];
    prop_oneof![
        (any::<usize>(), 1..8_usize).prop_map(|(at, n)| Edit::Delete(at, n)),
        (any::<usize>(), byte.clone()).prop_map(|(at, b)| Edit::Insert(at, b)),
        (any::<usize>(), byte).prop_map(|(at, b)| Edit::Replace(at, b)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

/// A test config without failure files.
fn cases(count: u32) -> Config {
    Config {
        cases: count,
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(cases(40_000))]
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..48)) {
        decodes_or_errs(&bytes)?;
    }
}

proptest! {
    #![proptest_config(cases(30_000))]
    #[test]
    fn json_like_token_soup_never_panics(tokens in prop::collection::vec(prop::sample::select(&TOKENS[..]), 0..24)) {
        decodes_or_errs(tokens.concat().as_bytes())?;
    }
}

proptest! {
    #![proptest_config(cases(30_000))]
    #[test]
    fn mutated_reference_lines_never_panic(
        seed in prop::sample::select(&SEEDS[..]),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        let mut bytes = seed.as_bytes().to_vec();
        for edit in &edits {
            apply(&mut bytes, edit);
        }
        decodes_or_errs(&bytes)?;
    }
}

proptest! {
    #![proptest_config(cases(30_000))]
    #[test]
    fn objects_of_known_types_with_random_fields_never_panic(
        message_type in prop::sample::select(
            &["status", "heartbeat", "connection_probe", "command", "command_response", "error", "Status", "user_type"][..],
        ),
        fields in prop::collection::vec((field_name(), json_value()), 0..8),
    ) {
        let mut object = Map::new();
        object.insert("message_type".to_owned(), Value::String(message_type.to_owned()));
        object.extend(fields);
        let bytes = serde_json::to_vec(&Value::Object(object.clone())).expect("a Value encodes");
        decodes_or_errs(&bytes)?;
        // An unknown type is kept exactly as it was sent.
        if message_type == "user_type" {
            let message = AnyMessage::decode(&bytes).expect("an object with a string type");
            prop_assert_eq!(message.to_json().ok(), String::from_utf8(bytes).ok());
        }
    }
}
