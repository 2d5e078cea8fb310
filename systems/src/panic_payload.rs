//! Turning a caught panic into a [`HookError`] without letting the payload panic again.
//!
//! A panic payload is a `Box<dyn Any + Send>` chosen by user code: `panic_any(x)` can carry a
//! value whose `Drop` panics. Dropping it on the engine's own stack would unwind through the
//! engine (or abort, if it happens during unwinding). Every place that catches a hook's panic reads
//! the message and then drops the payload here, under `catch_unwind`; a payload whose drop
//! panics is leaked instead (a one-off leak, never a crash).

use core::any::Any;
use std::panic::AssertUnwindSafe;

use lifecycle_ecs_components::HookError;

/// The message of a panic payload (`&str` or `String`), or a placeholder.
///
/// # Example
/// ```
/// use lifecycle_ecs_systems::panic_message;
/// let payload = std::panic::catch_unwind(|| panic!("boom {}", 1)).unwrap_err();
/// assert_eq!(panic_message(payload.as_ref()), "boom 1");
/// ```
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

/// Drops `value` so that a panic in its `Drop` goes nowhere: caught, and that second payload is
/// leaked rather than dropped (it could panic too).
pub fn drop_quietly<T>(value: T) {
    if let Err(payload) = std::panic::catch_unwind(AssertUnwindSafe(move || drop(value))) {
        core::mem::forget(payload);
    }
}

/// The message of a caught panic, its payload dropped quietly.
pub fn take_panic_message(payload: Box<dyn Any + Send>) -> String {
    let message = panic_message(payload.as_ref());
    drop_quietly(payload);
    message
}

/// [`HookError::Panicked`] from a caught panic, its payload dropped quietly.
///
/// # Example
/// ```
/// use lifecycle_ecs_components::HookError;
/// use lifecycle_ecs_systems::panicked;
/// struct Loud;
/// impl Drop for Loud {
///     fn drop(&mut self) {
///         panic!("a payload that panics when dropped");
///     }
/// }
/// let payload = std::panic::catch_unwind(|| std::panic::panic_any(Loud)).unwrap_err();
/// assert!(matches!(panicked(payload), HookError::Panicked(m) if m == "non-string panic payload"));
/// ```
#[cold]
#[inline(never)]
pub fn panicked(payload: Box<dyn Any + Send>) -> HookError {
    HookError::Panicked(take_panic_message(payload))
}
