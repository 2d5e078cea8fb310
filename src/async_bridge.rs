//! The bridge to tokio: hook futures run on the engine's runtime and report back over
//! crossbeam-channel.
//!
//! A hook's futures are split into one share per runtime worker; each share is polled by one
//! driver task ([`crate::hook_future_driver`]) that keeps at most its part of `max_in_flight`
//! running. The engine waits for the drivers' reports, logs what runs past the soft deadline, and
//! turns stop requests that arrive meanwhile into cancellations.

use std::sync::Arc;
use std::time::Duration;

use bevy_ecs::entity::Entity;
use crossbeam_channel::TryRecvError;
use lifecycle_ecs_components::HookFailure;
use lifecycle_ecs_systems::{HookFuture, InFlightKey, QueuedHookFuture, RunningHooks};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::deadline::{after, from_now};
use crate::hook_future_driver::{
    CancelOrder, Driver, DriverReport, DriverShared, Ending, FutureMeta, RunShared,
};
use crate::overdue::report_overdue_futures;
use crate::runtime::EngineRuntime;
use crate::stop_handle::{PendingStops, StopHandle};

/// Futures per driver below which a run uses fewer drivers than the runtime has workers.
const MIN_SHARE: usize = 1_024;

/// What awaiting one hook's futures produced.
#[derive(Default)]
pub(crate) struct RunResult {
    /// Futures that failed, timed out or panicked, in completion order.
    pub(crate) failures: Vec<HookFailure>,
    /// Services whose futures were cancelled by a stop request.
    pub(crate) cancelled: Vec<Entity>,
    /// Stop requests that arrived while waiting (the engine carries them out).
    pub(crate) stops: PendingStops,
}

/// The engine's runtime and wake-up, for plugins' steps that hand work to tokio (a World
/// resource of the core).
#[derive(bevy_ecs::resource::Resource, Clone)]
pub(crate) struct EngineAsync {
    /// The runtime async work runs on.
    pub(crate) runtime: EngineRuntime,
    /// Wakes the engine where it waits (run loop, `run_for`).
    pub(crate) wake: Arc<Notify>,
}

/// Runs hook futures on the runtime, at most `max_in_flight` at once, and collects their results.
pub struct AsyncBridge {
    runtime: EngineRuntime,
    wake: Arc<Notify>,
    stop_handle: StopHandle,
    default_timeout: Duration,
    max_in_flight: usize,
    soft_deadline: Duration,
}

impl AsyncBridge {
    /// A bridge on `runtime`.
    pub fn new(
        runtime: EngineRuntime,
        default_timeout: Duration,
        max_in_flight: usize,
        soft_deadline: Duration,
    ) -> Self {
        let wake = Arc::new(Notify::new());
        Self {
            runtime,
            stop_handle: StopHandle::new(wake.clone()),
            wake,
            default_timeout,
            max_in_flight: max_in_flight.max(1),
            soft_deadline,
        }
    }

    /// The runtime.
    pub fn runtime(&self) -> &EngineRuntime {
        &self.runtime
    }

    /// The runtime and wake-up as a World resource.
    pub(crate) fn engine_async(&self) -> EngineAsync {
        EngineAsync {
            runtime: self.runtime.clone(),
            wake: self.wake.clone(),
        }
    }

    /// What wakes the engine: stop requests and driver reports.
    pub(crate) fn wake(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// The handle stop requests arrive through.
    pub fn stop_handle(&self) -> &StopHandle {
        &self.stop_handle
    }

    /// Runs every future (capped in flight) and collects how they ended. While it waits, every
    /// soft deadline it logs a warning naming each service and hook still running. When
    /// `cancellable`, a stop request for a service cancels its futures (running or not started).
    ///
    /// Dropping the returned future (a shutdown abandoning the wait) cancels every future left.
    pub(crate) async fn run_all(
        &self,
        queued: Vec<QueuedHookFuture>,
        running: &RunningHooks,
        cancellable: bool,
    ) -> RunResult {
        let mut result = RunResult::default();
        let total = queued.len();
        if total == 0 {
            return result;
        }
        let mut meta = Vec::with_capacity(total);
        let mut futures: Vec<(u32, HookFuture)> = Vec::with_capacity(total);
        for (index, queued) in queued.into_iter().enumerate() {
            meta.push(FutureMeta {
                entity: queued.entity,
                service_id: queued.service_id,
                hook: queued.hook,
                hook_type: queued.hook_type,
                timeout: queued.timeout.unwrap_or(self.default_timeout),
            });
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            futures.push((index, queued.future));
        }
        // The runtime awaiting this run (see `EngineRuntime::work_handle`) runs its futures.
        let handle = self.runtime.work_handle();
        let workers = handle.metrics().num_workers().max(1);
        let drivers = workers.min(total.div_ceil(MIN_SHARE)).max(1);
        let shares: Vec<Arc<DriverShared>> = (0..drivers)
            .map(|_| Arc::new(DriverShared::new()))
            .collect();
        let run = Arc::new(RunShared {
            meta,
            drivers: shares.clone(),
        });
        let guard = RunGuard {
            key: running.add_view(run.clone()),
            run: run.clone(),
            running,
            finished: false,
        };
        let (sender, receiver) = crossbeam_channel::unbounded::<DriverReport>();
        let share_len = total.div_ceil(drivers);
        let cap = (self.max_in_flight / drivers).max(1);
        let mut futures = futures.into_iter();
        for shared in &shares {
            let share: Vec<(u32, HookFuture)> = futures.by_ref().take(share_len).collect();
            handle.spawn(Driver {
                shared: shared.clone(),
                run: run.clone(),
                waiting: share.into_iter(),
                cap,
                sender: sender.clone(),
                wake_engine: self.wake.clone(),
                earliest: None,
                timer: Box::pin(tokio::time::sleep_until(tokio::time::Instant::now())),
            });
        }
        drop(sender);
        let mut ended = 0;
        // One timer for the whole wait (re-armed at each soft deadline), not one per wake-up; a
        // soft deadline past the clock's range never fires.
        let mut report_at = from_now(self.soft_deadline);
        let report_timer = tokio::time::sleep_until(report_at.unwrap_or_else(Instant::now));
        tokio::pin!(report_timer);
        loop {
            let mut drivers_gone = false;
            loop {
                let report = match receiver.try_recv() {
                    Ok(report) => report,
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        drivers_gone = true;
                        break;
                    }
                };
                ended += report.ended;
                for (index, ending) in report.unsuccessful {
                    let meta = &run.meta[index as usize];
                    match ending {
                        Ending::Failed(error) => result.failures.push(HookFailure {
                            entity: meta.entity,
                            service_id: meta.service_id,
                            hook: meta.hook.clone(),
                            hook_type: meta.hook_type,
                            error,
                        }),
                        Ending::Cancelled => result.cancelled.push(meta.entity),
                    }
                }
            }
            // Requests are taken before the end check: one that arrived while the futures ran
            // withdraws its service even if the last future ended before this task woke up.
            if self.stop_handle.has_new()
                && let Some(stops) = self.stop_handle.take()
            {
                if cancellable {
                    let order = Arc::new(if stops.all() {
                        CancelOrder::All
                    } else {
                        CancelOrder::Services(stops.services().iter().copied().collect())
                    });
                    for shared in &shares {
                        shared.cancel(order.clone());
                    }
                }
                result.stops.merge(stops);
            }
            if ended >= total {
                break;
            }
            if drivers_gone {
                // Every driver is gone and reported what it held as lost (see `Driver`'s
                // `Drop`); one that could not (a panic in the driver's own bookkeeping) leaves
                // nothing to wait for either.
                tracing::error!(
                    unaccounted = total - ended,
                    hook = %run.meta[0].hook,
                    "the tasks driving a hook's futures ended without reporting every future"
                );
                break;
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = &mut report_timer, if report_at.is_some() => {
                    report_overdue_futures(running, self.soft_deadline);
                    report_at = after(report_timer.deadline(), self.soft_deadline);
                    if let Some(next) = report_at {
                        report_timer.as_mut().reset(next);
                    }
                }
            }
        }
        let mut guard = guard;
        guard.finished = true;
        drop(guard);
        result
    }
}

/// Unregisters a run from the watchdog's registry; if the wait was abandoned before every future
/// ended, cancels what is left.
struct RunGuard<'a> {
    key: InFlightKey,
    run: Arc<RunShared>,
    running: &'a RunningHooks,
    finished: bool,
}

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        self.running.remove_view(self.key);
        if !self.finished {
            let order = Arc::new(CancelOrder::All);
            for shared in &self.run.drivers {
                shared.cancel(order.clone());
            }
        }
    }
}
