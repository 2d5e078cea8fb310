//! [`Receivable`]: the message types a handler can ask for, and how a payload becomes one.

use std::any::Any;

use super::Payload;
use crate::messaging::{Message, RawMessage};

/// A payload seen as the type a handler asked for: the published value itself, or (when it was
/// published as another representation of the same type) a converted copy.
pub enum View<'a, M> {
    /// The published value.
    Borrowed(&'a M),
    /// A copy decoded from another representation (a [`RawMessage`] of a typed message, or
    /// the other way round).
    Converted(M),
}

impl<M> core::ops::Deref for View<'_, M> {
    type Target = M;
    fn deref(&self) -> &M {
        match self {
            View::Borrowed(message) => message,
            View::Converted(message) => message,
        }
    }
}

/// A message type handlers can receive: every [`Message`], and [`RawMessage`] (any type, as
/// JSON).
pub trait Receivable: Any + Send + Sync + Sized {
    /// `payload` as `Self`: borrowed when it is one, converted when it is the same message in
    /// another representation, `None` when it cannot be read as `Self`.
    fn view(payload: &dyn Payload) -> Option<View<'_, Self>>;
}

impl<M: Message + Send + Sync + 'static> Receivable for M {
    #[inline]
    fn view(payload: &dyn Payload) -> Option<View<'_, Self>> {
        if let Some(message) = payload.as_any().downcast_ref::<M>() {
            return Some(View::Borrowed(message));
        }
        payload
            .as_raw()
            .and_then(|raw| raw.parse::<M>().ok())
            .map(View::Converted)
    }
}

impl Receivable for RawMessage {
    #[inline]
    fn view(payload: &dyn Payload) -> Option<View<'_, Self>> {
        if let Some(raw) = payload.as_raw() {
            return Some(View::Borrowed(raw));
        }
        let json = payload.encode().ok()?;
        let fields =
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&json).ok()?;
        Some(View::Converted(RawMessage::new(
            payload.message_type(),
            fields,
        )))
    }
}
