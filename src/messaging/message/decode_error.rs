//! The typed errors of decoding and encoding a message.

/// Why bytes did not decode as a message. Decoding never panics: every input gives a message
/// or one of these.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not JSON: a syntax error, truncated input, invalid UTF-8, or nesting deeper than
    /// `serde_json`'s recursion limit (128 levels).
    #[error("not valid JSON: {0}")]
    InvalidJson(#[source] serde_json::Error),
    /// Valid JSON that is not an object.
    #[error("a message is a JSON object, found {found}")]
    NotAnObject {
        /// What was found: `"an array"`, `"a string"`, …
        found: &'static str,
    },
    /// An object without a `message_type` key.
    #[error("the object has no `message_type` key")]
    MissingMessageType,
    /// A `message_type` that is not a string.
    #[error("`message_type` must be a string, found {found}")]
    MessageTypeNotString {
        /// What was found: `"a number"`, `"null"`, …
        found: &'static str,
    },
    /// A message of a known type whose fields do not fit it (a missing or mistyped field, an
    /// unknown enum value).
    #[error("invalid `{message_type}` message: {source}")]
    InvalidFields {
        /// The message's `message_type`.
        message_type: String,
        /// `serde_json`'s description of the first bad field.
        #[source]
        source: serde_json::Error,
    },
    /// Fields that decode but break one of AIPerf's validation rules.
    #[error("invalid `{message_type}` message: {rule}")]
    BrokenRule {
        /// The message's `message_type`.
        message_type: String,
        /// The rule.
        rule: MessageRuleError,
    },
    /// Decoding as one type ([`Message::from_json`](super::Message::from_json)) met another.
    #[error("expected a `{expected}` message, found `{found}`")]
    WrongMessageType {
        /// The type asked for.
        expected: &'static str,
        /// The `message_type` found.
        found: String,
    },
}

/// A validation rule of AIPerf's message models that a message breaks. Decoding and encoding
/// both check these, as pydantic validates on construction.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MessageRuleError {
    /// `target_service_id` and `target_service_type` are both set (AIPerf's
    /// `TargetedServiceMessage` allows one or neither).
    #[error("`target_service_id` and `target_service_type` are mutually exclusive")]
    BothTargets,
    /// A `shutdown_workers` command with `all_workers` and also `worker_ids` or `num_workers`.
    #[error("`all_workers` excludes `worker_ids` and `num_workers`")]
    AllWorkersWithSelection,
    /// A `shutdown_workers` command without `all_workers` that sets neither or both of
    /// `worker_ids` and `num_workers`.
    #[error("exactly one of `worker_ids` and `num_workers` is set when `all_workers` is false")]
    WorkerSelectionNotExactlyOne,
}

/// Why a message did not encode.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The message breaks one of AIPerf's validation rules.
    #[error("invalid `{message_type}` message: {rule}")]
    BrokenRule {
        /// The message's `message_type`.
        message_type: String,
        /// The rule.
        rule: MessageRuleError,
    },
    /// `serde_json` refused a value (for example a user field that is a map with non-string keys).
    #[error("the message does not serialize as JSON: {0}")]
    Json(#[source] serde_json::Error),
}
