//! The bridge to tokio: hook futures run on the engine's runtime and report back over
//! crossbeam-channel.

use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bevy_ecs::entity::Entity;
use crossbeam_channel::{Receiver, Sender};
use lifecycle_ecs_components::{HookError, HookFailure, HookType, ServiceId};
use lifecycle_ecs_systems::{
    FutureStart, HookFuture, QueuedHookFuture, RunningHooks, panic_message,
};
use tokio::runtime::{Handle, Runtime};
use tokio::sync::Notify;

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
}

/// What one hook future produced, sent back to the world.
struct Outcome {
    id: u64,
    entity: Entity,
    service_id: ServiceId,
    hook: Arc<str>,
    hook_type: HookType,
    result: Result<(), HookError>,
}

/// Runs hook futures on the runtime, at most `max_in_flight` at once, and collects their results.
pub struct AsyncBridge {
    runtime: EngineRuntime,
    sender: Sender<Outcome>,
    receiver: Receiver<Outcome>,
    notify: Arc<Notify>,
    default_timeout: Duration,
    max_in_flight: usize,
    soft_deadline: Duration,
    next_id: std::sync::atomic::AtomicU64,
}

impl AsyncBridge {
    /// A bridge on `runtime`.
    pub fn new(
        runtime: EngineRuntime,
        default_timeout: Duration,
        max_in_flight: usize,
        soft_deadline: Duration,
    ) -> Self {
        let (sender, receiver) = crossbeam_channel::unbounded();
        Self {
            runtime,
            sender,
            receiver,
            notify: Arc::new(Notify::new()),
            default_timeout,
            max_in_flight: max_in_flight.max(1),
            soft_deadline,
            next_id: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The soft deadline after which running hooks are reported.
    pub fn soft_deadline(&self) -> Duration {
        self.soft_deadline
    }

    /// The runtime.
    pub fn runtime(&self) -> &EngineRuntime {
        &self.runtime
    }

    /// Spawns one future; its start is appended to `started` (published to the watchdog's
    /// registry in batches, one lock per wake-up rather than per future).
    fn spawn(&self, queued: QueuedHookFuture, started: &mut Vec<FutureStart>) {
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        started.push(FutureStart {
            id,
            service_id: queued.service_id,
            hook: queued.hook.clone(),
            hook_type: queued.hook_type,
        });
        let sender = self.sender.clone();
        let notify = self.notify.clone();
        let limit = queued.timeout.unwrap_or(self.default_timeout);
        let QueuedHookFuture {
            entity,
            service_id,
            hook,
            hook_type,
            future,
            ..
        } = queued;
        self.runtime.handle().spawn(async move {
            let started = tokio::time::Instant::now();
            let result = match tokio::time::timeout(limit, CatchUnwind(future)).await {
                Ok(result) => result,
                Err(_) => Err(HookError::TimedOut {
                    elapsed: started.elapsed(),
                }),
            };
            // The receiver lives as long as the engine; a send error means it is gone.
            let _ = sender.send(Outcome {
                id,
                entity,
                service_id,
                hook,
                hook_type,
                result,
            });
            notify.notify_one();
        });
    }

    /// Runs every future (capped in flight) and returns the failures, in completion order. While
    /// it waits, every soft deadline it logs a warning naming each service and hook still running.
    pub async fn run_all(
        &self,
        queued: Vec<QueuedHookFuture>,
        running: &RunningHooks,
    ) -> Vec<HookFailure> {
        let total = queued.len();
        let mut waiting = queued.into_iter();
        let mut failures = Vec::new();
        let mut started = Vec::new();
        let mut finished = Vec::new();
        for future in waiting.by_ref().take(self.max_in_flight) {
            self.spawn(future, &mut started);
        }
        running.futures_changed(started.drain(..), &[]);
        let mut done = 0;
        // One timer for the whole wait (re-armed at each soft deadline), not one per wake-up.
        let report_timer = tokio::time::sleep(self.soft_deadline);
        tokio::pin!(report_timer);
        while done < total {
            while let Ok(outcome) = self.receiver.try_recv() {
                done += 1;
                finished.push(outcome.id);
                if let Some(next) = waiting.next() {
                    self.spawn(next, &mut started);
                }
                if let Err(error) = outcome.result {
                    failures.push(HookFailure {
                        entity: outcome.entity,
                        service_id: outcome.service_id,
                        hook: outcome.hook,
                        hook_type: outcome.hook_type,
                        error,
                    });
                }
            }
            running.futures_changed(started.drain(..), &finished);
            finished.clear();
            if done < total {
                tokio::select! {
                    () = self.notify.notified() => {}
                    () = &mut report_timer => {
                        report_overdue(running, self.soft_deadline);
                        let next = report_timer.deadline() + self.soft_deadline;
                        report_timer.as_mut().reset(next);
                    }
                }
            }
        }
        failures
    }
}

/// Turns a panic inside a hook future into a [`HookError::Panicked`].
struct CatchUnwind(HookFuture);

impl Future for CatchUnwind {
    type Output = Result<(), HookError>;

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        match std::panic::catch_unwind(AssertUnwindSafe(|| self.0.as_mut().poll(context))) {
            Ok(poll) => poll,
            Err(payload) => Poll::Ready(Err(HookError::Panicked(panic_message(payload.as_ref())))),
        }
    }
}

/// Logs one warning per hook future running longer than `deadline`.
fn report_overdue(running: &RunningHooks, deadline: Duration) {
    for hook in running.snapshot() {
        if hook.elapsed >= deadline
            && let Some(service) = hook.service_id
        {
            tracing::warn!(
                service = %service,
                hook = %hook.hook,
                hook_type = %hook.hook_type,
                elapsed_s = hook.elapsed.as_secs_f64(),
                "hook still running after {:.1}s",
                hook.elapsed.as_secs_f64()
            );
        }
    }
}
