//! The engine's tokio runtime: one it owns, or a handle the user passed in.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::runtime::{Handle, RuntimeFlavor};

use crate::owned_runtime::OwnedRuntime;

/// The engine's default timeout for a hook's async work.
pub const DEFAULT_HOOK_TIMEOUT: Duration = Duration::from_secs(30);

/// The engine's default soft deadline: hooks running longer are reported by the watchdog.
pub const DEFAULT_SOFT_DEADLINE: Duration = Duration::from_secs(5);

/// The engine's default cap on hook futures in flight at once.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 10_000;

/// Where the engine runs its async work: a runtime it owns, or a handle the user passed in.
///
/// Async work (hook futures, async background tasks) goes to the runtime that drives the engine:
/// with [`Owned`](Self::Owned), an `_async` operation awaited inside some tokio runtime (a
/// `#[tokio::test]`, a `#[tokio::main]`, any task) runs its futures on *that* runtime, so the
/// natural use needs no configuration; called from synchronous code, the engine blocks on its own
/// runtime. With [`Handle`](Self::Handle), everything runs on the user's runtime.
#[derive(Clone)]
pub enum EngineRuntime {
    /// A current-thread runtime the engine created (hook futures run on it while a blocking
    /// operation waits; the `_async` operations use the runtime that awaits them instead).
    Owned(Arc<OwnedRuntime>),
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
        // (signals are watched on one thread of their own, see `TerminationSignals`).
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a current-thread tokio runtime builds");
        Self::Owned(Arc::new(OwnedRuntime::new(runtime)))
    }

    /// The handle of the runtime the engine was built with (its own, or the user's).
    pub fn handle(&self) -> &Handle {
        match self {
            Self::Owned(runtime) => runtime.handle(),
            Self::Handle(handle) => handle,
        }
    }

    /// The runtime that async work started now runs on: for [`Owned`](Self::Owned), the runtime
    /// whose context the caller is in (the one awaiting the engine), else the engine's own; for
    /// [`Handle`](Self::Handle), the user's.
    pub fn work_handle(&self) -> Handle {
        match self {
            Self::Owned(runtime) => {
                Handle::try_current().unwrap_or_else(|_| runtime.handle().clone())
            }
            Self::Handle(handle) => handle.clone(),
        }
    }

    /// Runs `future` to completion from synchronous code. A future that completes on its first
    /// poll (an operation whose hooks are all sync) never touches the runtime.
    ///
    /// Inside a multi-thread runtime's context it waits through
    /// [`tokio::task::block_in_place`], so the runtime's other tasks go on.
    ///
    /// # Panics
    /// Panics if `future` does not complete on its first poll while the calling thread is in a
    /// current-thread runtime's context (blocking there would stop the runtime that has to run
    /// the work): `.await` the future there instead.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.block_on_for("`.await` on the future", future)
    }

    /// [`block_on`](Self::block_on) for a blocking engine method; its panic names
    /// `async_method`, the method to use in async code.
    pub(crate) fn block_on_for<F: Future>(&self, async_method: &str, future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut context = Context::from_waker(std::task::Waker::noop());
        {
            // Inside the runtime's context, so the first poll may create timers.
            let _entered = self.handle().enter();
            if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
                return output;
            }
        }
        match Handle::try_current().map(|current| current.runtime_flavor()) {
            Err(_) => self.block_here(future),
            Ok(RuntimeFlavor::MultiThread) => {
                tokio::task::block_in_place(|| self.block_here(future))
            }
            Ok(_) => refuse_to_block(async_method),
        }
    }

    /// Blocks the calling thread (outside any runtime's scheduler) until `future` completes.
    fn block_here<F: Future>(&self, future: F) -> F::Output {
        match self {
            Self::Owned(runtime) => runtime.block_on(future),
            Self::Handle(handle) => handle.block_on(future),
        }
    }

    /// How many worker threads run tasks started now (1 for a current-thread runtime).
    pub fn workers(&self) -> usize {
        self.work_handle().metrics().num_workers().max(1)
    }
}

#[cold]
#[track_caller]
fn refuse_to_block(async_method: &str) -> ! {
    panic!(
        "a blocking engine call cannot wait for async work inside a current-thread tokio \
         runtime (the thread it would block is the one that must run that work): use \
         {async_method} instead"
    )
}
