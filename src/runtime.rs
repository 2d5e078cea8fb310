//! The engine's tokio runtime: one it owns, or a handle the user passed in.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::runtime::{Handle, Runtime};

/// The engine's default timeout for a hook's async work.
pub const DEFAULT_HOOK_TIMEOUT: Duration = Duration::from_secs(30);

/// The engine's default soft deadline: hooks running longer are reported by the watchdog.
pub const DEFAULT_SOFT_DEADLINE: Duration = Duration::from_secs(5);

/// The engine's default cap on hook futures in flight at once.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 10_000;

/// Where the engine runs its async work: a runtime it owns, or a handle the user passed in.
#[derive(Clone)]
pub enum EngineRuntime {
    /// A current-thread runtime the engine created (hook futures run while the engine waits).
    Owned(Arc<Runtime>),
    /// A runtime the user owns. The blocking API (`initialize`, …) needs a multi-thread runtime
    /// here; the `_async` API works on any.
    Handle(Handle),
}

impl EngineRuntime {
    /// A new current-thread runtime with timers.
    ///
    /// # Panics
    /// Panics if the OS refuses to create the runtime (no threads or timers available).
    pub fn owned() -> Self {
        // Timers only: an I/O driver would turn every park of the runtime into an `epoll_wait`
        // (signals are watched on their own thread, see `termination_signal`).
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a current-thread tokio runtime builds");
        Self::Owned(Arc::new(runtime))
    }

    /// The runtime's handle.
    pub fn handle(&self) -> &Handle {
        match self {
            Self::Owned(runtime) => runtime.handle(),
            Self::Handle(handle) => handle,
        }
    }

    /// Runs `future` to completion from synchronous code. A future that completes on its first
    /// poll (an operation whose hooks are all sync) never touches the runtime.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut context = Context::from_waker(std::task::Waker::noop());
        {
            // Inside the runtime's context, so the first poll may create timers.
            let _entered = self.handle().enter();
            if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
                return output;
            }
        }
        match self {
            Self::Owned(runtime) => runtime.block_on(future),
            Self::Handle(handle) => handle.block_on(future),
        }
    }

    /// How many worker threads run tasks (1 for a current-thread runtime).
    pub fn workers(&self) -> usize {
        match self {
            Self::Owned(_) => 1,
            Self::Handle(handle) => handle.metrics().num_workers().max(1),
        }
    }
}
