//! Named operation scopes: a fallible step run under an operation name of the caller's choosing
//! (AIPerf's `try_operation_or_stop(name)`).

use std::borrow::Cow;
use std::future::Future;

use crate::HookError;

/// A step run under a named operation scope failed (AIPerf's `LifecycleOperationError`).
///
/// Made by [`try_operation`] and [`try_operation_async`]. It carries the operation's name as the
/// caller gave it (`"Connect To DB"`: case and spaces kept), the type name of the error the step
/// returned, and that error. It displays as the inner error does (AIPerf: `str(original)`).
///
/// When a hook returns it (directly or through `?` into a [`HookError`]), the scheduler records
/// the service's exit error for the phase under this operation name, with
/// `error_details.type` = [`error_type`](Self::error_type) and `message` = the inner error, and
/// logs `Failed to <operation lowercased>: <error>` at `error` level; the service then takes the
/// fail path as for any hook failure.
///
/// # Example
/// ```
/// use lifecycle_ecs_components::{HookError, OperationError, try_operation};
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("thing broke")]
/// struct ThingError;
///
/// let error: OperationError = try_operation("Initialize Thing", || Err::<(), _>(ThingError))
///     .unwrap_err();
/// assert_eq!(error.operation(), "Initialize Thing");
/// assert_eq!(error.error_type(), "ThingError");
/// assert_eq!(error.to_string(), "thing broke");
///
/// // Through `?` into a HookError, the scope is still found.
/// let hook_error = HookError::from(error);
/// assert_eq!(hook_error.operation_scope().unwrap().operation(), "Initialize Thing");
/// ```
#[derive(Clone, Debug)]
pub struct OperationError {
    operation: Cow<'static, str>,
    error_type: Cow<'static, str>,
    error: HookError,
}

impl OperationError {
    /// A scoped error with an explicit type name (what [`try_operation`] derives from the step's
    /// error type).
    pub fn new(
        operation: impl Into<Cow<'static, str>>,
        error_type: impl Into<Cow<'static, str>>,
        error: impl Into<HookError>,
    ) -> Self {
        Self {
            operation: operation.into(),
            error_type: error_type.into(),
            error: error.into(),
        }
    }

    /// Wraps the error of a step run under `operation`; an error that already is a scoped error
    /// is returned unchanged (the innermost scope names the failure, and it is recorded once).
    fn scope<E: Into<HookError>>(operation: Cow<'static, str>, error: E) -> Self {
        let error_type = short_type_name(core::any::type_name::<E>());
        let error: HookError = error.into();
        if let Some(scoped) = error.operation_scope() {
            return scoped.clone();
        }
        Self {
            operation,
            error_type,
            error,
        }
    }

    /// The operation's name, as given.
    pub fn operation(&self) -> &str {
        &self.operation
    }

    /// The type name of the error the step returned, without its module path (AIPerf:
    /// `type(original).__name__`), e.g. `"ThingError"`, `"String"`, `"Error"` for `std::io::Error`.
    pub fn error_type(&self) -> &str {
        &self.error_type
    }

    /// The error the step returned.
    pub fn error(&self) -> &HookError {
        &self.error
    }
}

impl core::fmt::Display for OperationError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Display::fmt(&self.error, f)
    }
}

impl std::error::Error for OperationError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error
            .source_error()
            .map(|error| error as &(dyn std::error::Error + 'static))
    }
}

/// Runs a fallible step under a named operation scope (AIPerf's `try_operation_or_stop(name)`).
///
/// `Ok` passes through; an `Err` becomes an [`OperationError`] naming `operation` (an error that
/// already is one passes through unchanged). Use it inside a hook, typically in the closure of
/// `Targets::try_for_each` (the crate `lifecycle-ecs-systems`): the service's exit error for the phase is then recorded under `operation` (once: the phase
/// records no second error under its own title; other hooks' failures of the same phase are listed
/// in its message), and `Failed to <operation lowercased>: <error>` is logged at `error` level.
///
/// The scope does not catch panics: a panicking step fails its hook as any panic does.
///
/// # Errors
/// The step's error, as an [`OperationError`].
///
/// # Example
/// ```
/// use lifecycle_ecs_components::try_operation;
/// assert_eq!(try_operation("Parse Port", || "8080".parse::<u16>()).unwrap(), 8080);
/// let error = try_operation("Parse Port", || "http".parse::<u16>()).unwrap_err();
/// assert_eq!(error.operation(), "Parse Port");
/// assert_eq!(error.error_type(), "ParseIntError");
/// ```
pub fn try_operation<T, E: Into<HookError>>(
    operation: impl Into<Cow<'static, str>>,
    step: impl FnOnce() -> Result<T, E>,
) -> Result<T, OperationError> {
    step().map_err(|error| OperationError::scope(operation.into(), error))
}

/// [`try_operation`] for async steps: awaits `step` under the named scope. Use it inside the
/// futures a hook hands over with `HookTasks::spawn`.
///
/// # Errors
/// The step's error, as an [`OperationError`].
///
/// # Cancel safety
/// As cancel-safe as `step`: dropping the returned future drops `step` and records nothing.
///
/// # Example
/// ```
/// use lifecycle_ecs_components::try_operation_async;
/// let step = async { Err::<(), _>(std::io::Error::other("connection refused")) };
/// let error = futures_lite_block_on(try_operation_async("Open Socket", step)).unwrap_err();
/// assert_eq!((error.operation(), error.error_type()), ("Open Socket", "Error"));
/// assert_eq!(error.to_string(), "connection refused");
/// # fn futures_lite_block_on<F: std::future::Future>(future: F) -> F::Output {
/// #     let mut future = std::pin::pin!(future);
/// #     let mut context = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop {
/// #         if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut context) {
/// #             return out;
/// #         }
/// #     }
/// # }
/// ```
pub async fn try_operation_async<T, E: Into<HookError>>(
    operation: impl Into<Cow<'static, str>>,
    step: impl Future<Output = Result<T, E>>,
) -> Result<T, OperationError> {
    step.await
        .map_err(|error| OperationError::scope(operation.into(), error))
}

/// A type name without module paths: `"std::io::error::Error"` → `"Error"`,
/// `"alloc::boxed::Box<dyn core::error::Error>"` → `"Box<dyn Error>"`.
fn short_type_name(full: &'static str) -> Cow<'static, str> {
    if !full.contains("::") {
        return Cow::Borrowed(full);
    }
    let mut out = String::with_capacity(full.len());
    // Where the path being written began in `out`: a `::` drops everything since.
    let mut path_start = 0;
    let mut rest = full;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("::") {
            out.truncate(path_start);
            rest = &rest[2..];
            continue;
        }
        out.push(c);
        if !(c.is_alphanumeric() || c == '_') {
            path_start = out.len();
        }
        rest = &rest[c.len_utf8()..];
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::short_type_name;

    #[test]
    fn short_type_names_drop_every_module_path() {
        assert_eq!(short_type_name("std::io::error::Error"), "Error");
        assert_eq!(short_type_name("&str"), "&str");
        assert_eq!(
            short_type_name("alloc::boxed::Box<dyn core::error::Error + core::marker::Send>"),
            "Box<dyn Error + Send>"
        );
        assert_eq!(
            short_type_name("core::result::Result<u8, my_crate::E>"),
            "Result<u8, E>"
        );
    }
}
