//! The tokio runtime an engine creates for itself, quiet to drop anywhere.

use std::ops::Deref;

use tokio::runtime::{Handle, Runtime};

/// A current-thread tokio runtime the engine owns (see [`EngineRuntime::Owned`]).
///
/// It derefs to the [`Runtime`]. Unlike a bare `Runtime`, dropping it inside async code (a
/// `#[tokio::test]`, a task, a `#[tokio::main]` body) is quiet: there it shuts down in the
/// background (tokio's [`Runtime::shutdown_background`]) instead of blocking the thread that runs
/// the other runtime; elsewhere it drops as a `Runtime` does.
///
/// [`EngineRuntime::Owned`]: crate::EngineRuntime::Owned
#[derive(Debug)]
pub struct OwnedRuntime {
    /// Always `Some` until dropped.
    runtime: Option<Runtime>,
}

impl OwnedRuntime {
    /// Takes ownership of `runtime`.
    pub fn new(runtime: Runtime) -> Self {
        Self {
            runtime: Some(runtime),
        }
    }
}

impl Deref for OwnedRuntime {
    type Target = Runtime;

    fn deref(&self) -> &Runtime {
        self.runtime
            .as_ref()
            .expect("the runtime is only taken when dropped")
    }
}

impl Drop for OwnedRuntime {
    fn drop(&mut self) {
        let Some(runtime) = self.runtime.take() else {
            return;
        };
        // Inside a runtime's context blocking is not allowed, and a plain drop would block on
        // the runtime's blocking pool (tokio panics rather than block).
        if Handle::try_current().is_ok() {
            runtime.shutdown_background();
        }
    }
}
