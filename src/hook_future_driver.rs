//! A driver task: polls its share of a batch's hook futures together on the engine's runtime.
//!
//! One tokio task per share (one share on a current-thread runtime, one per worker on a
//! multi-thread one) instead of one task per future: a future costs one node in a
//! [`FuturesUnordered`] and one poll, not a task spawn, a timer and a channel message. Timeouts
//! are one timer per driver (armed at the earliest deadline), cancellation is dropping the future,
//! and results go back to the engine over crossbeam-channel in one message per wake-up.

use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use bevy_ecs::entity::{Entity, EntityHashSet};
use crossbeam_channel::Sender;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use futures_util::task::AtomicWaker;
use lifecycle_ecs_components::{HookError, HookType, ServiceId};
use lifecycle_ecs_systems::{HookFuture, InFlightView, RunningHook};
use tokio::sync::Notify;
use tokio::task::coop::Unconstrained;
use tokio::time::{Duration, Instant, Sleep};

use crate::deadline::after;

/// Who a future belongs to, kept once per future for the whole run.
pub(crate) struct FutureMeta {
    pub(crate) entity: Entity,
    pub(crate) service_id: ServiceId,
    pub(crate) hook: Arc<str>,
    pub(crate) hook_type: HookType,
    pub(crate) timeout: Duration,
}

/// How a future ended other than by success.
pub(crate) enum Ending {
    Failed(HookError),
    Cancelled,
}

/// What a driver reports after a wake-up: how many futures ended (successes included) and the
/// ones that did not succeed, by index into the run's [`FutureMeta`] list.
#[derive(Default)]
pub(crate) struct DriverReport {
    pub(crate) ended: usize,
    pub(crate) unsuccessful: Vec<(u32, Ending)>,
}

/// Which futures a cancellation ends.
pub(crate) enum CancelOrder {
    All,
    Services(EntityHashSet),
}

impl CancelOrder {
    fn covers(&self, entity: Entity) -> bool {
        match self {
            Self::All => true,
            Self::Services(services) => services.contains(&entity),
        }
    }
}

/// One hook future in flight, with the index of its metadata and when it started.
///
/// Each future runs outside tokio's cooperative budget (`unconstrained`): the driver polls many
/// futures in one task poll, and a budget shared by all of them would run out after a hundred
/// or so, leaving the rest spinning until the driver yields.
struct Tracked {
    index: u32,
    started: Instant,
    future: Unconstrained<HookFuture>,
}

impl Future for Tracked {
    type Output = (u32, Result<(), HookError>);

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        let index = self.index;
        match std::panic::catch_unwind(AssertUnwindSafe(|| {
            Pin::new(&mut self.future).poll(context)
        })) {
            Ok(Poll::Ready(result)) => Poll::Ready((index, result)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready((index, Err(lifecycle_ecs_systems::panicked(payload)))),
        }
    }
}

/// The part of a driver the engine and the watchdog see.
pub(crate) struct DriverShared {
    in_flight: Mutex<FuturesUnordered<Tracked>>,
    order: Mutex<Option<Arc<CancelOrder>>>,
    ordered: AtomicBool,
    waker: AtomicWaker,
}

impl DriverShared {
    pub(crate) fn new() -> Self {
        Self {
            in_flight: Mutex::new(FuturesUnordered::new()),
            order: Mutex::new(None),
            ordered: AtomicBool::new(false),
            waker: AtomicWaker::new(),
        }
    }

    /// Tells the driver to end the futures `order` covers (running or not started yet).
    pub(crate) fn cancel(&self, order: Arc<CancelOrder>) {
        *self.order.lock().unwrap_or_else(PoisonError::into_inner) = Some(order);
        self.ordered.store(true, Ordering::Release);
        self.waker.wake();
    }

    fn in_flight(&self) -> MutexGuard<'_, FuturesUnordered<Tracked>> {
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The futures of one run (one hook's hand-over), shared by its drivers and listed by the
/// watchdog.
pub(crate) struct RunShared {
    pub(crate) meta: Vec<FutureMeta>,
    pub(crate) drivers: Vec<Arc<DriverShared>>,
}

impl InFlightView for RunShared {
    fn list_running(&self, now: Instant, out: &mut Vec<RunningHook>) {
        for driver in &self.drivers {
            for tracked in driver.in_flight().iter() {
                let meta = &self.meta[tracked.index as usize];
                out.push(RunningHook {
                    service_id: Some(meta.service_id),
                    kind: meta.service_id.kind().name(),
                    hook: meta.hook.clone(),
                    hook_type: meta.hook_type,
                    elapsed: now.saturating_duration_since(tracked.started),
                });
            }
        }
    }
}

/// A driver task: keeps up to `cap` of its futures in flight until all ended.
pub(crate) struct Driver {
    pub(crate) shared: Arc<DriverShared>,
    pub(crate) run: Arc<RunShared>,
    pub(crate) waiting: std::vec::IntoIter<(u32, HookFuture)>,
    pub(crate) cap: usize,
    pub(crate) sender: Sender<DriverReport>,
    pub(crate) wake_engine: Arc<Notify>,
    pub(crate) earliest: Option<Instant>,
    pub(crate) timer: Pin<Box<Sleep>>,
}

impl Driver {
    /// Takes a future's deadline into the earliest one (`None`, "never", changes nothing).
    fn note_deadline(&mut self, deadline: Option<Instant>) {
        if let Some(deadline) = deadline {
            self.earliest = Some(
                self.earliest
                    .map_or(deadline, |earliest| earliest.min(deadline)),
            );
        }
    }

    fn start_next(&mut self, in_flight: &mut FuturesUnordered<Tracked>, now: Instant) -> bool {
        let Some((index, future)) = self.waiting.next() else {
            return false;
        };
        self.note_deadline(after(now, self.run.meta[index as usize].timeout));
        in_flight.push(Tracked {
            index,
            started: now,
            future: tokio::task::unconstrained(future),
        });
        true
    }

    /// Rebuilds the in-flight set without the futures `ends` picks (they are dropped, which
    /// cancels them), and recomputes the earliest deadline.
    fn remove_where(
        &mut self,
        in_flight: &mut FuturesUnordered<Tracked>,
        report: &mut DriverReport,
        mut ends: impl FnMut(&Tracked, &FutureMeta) -> Option<Ending>,
    ) {
        let old = std::mem::take(in_flight);
        self.earliest = None;
        for tracked in old {
            let meta = &self.run.meta[tracked.index as usize];
            match ends(&tracked, meta) {
                Some(ending) => {
                    report.ended += 1;
                    report.unsuccessful.push((tracked.index, ending));
                    drop_quietly(tracked);
                }
                None => {
                    self.note_deadline(after(tracked.started, meta.timeout));
                    in_flight.push(tracked);
                }
            }
        }
    }

    fn apply_cancel(
        &mut self,
        in_flight: &mut FuturesUnordered<Tracked>,
        order: &CancelOrder,
        report: &mut DriverReport,
    ) {
        self.remove_where(in_flight, report, |_, meta| {
            order.covers(meta.entity).then_some(Ending::Cancelled)
        });
        let waiting = std::mem::take(&mut self.waiting);
        let mut kept = Vec::new();
        for (index, future) in waiting {
            if order.covers(self.run.meta[index as usize].entity) {
                report.ended += 1;
                report.unsuccessful.push((index, Ending::Cancelled));
                drop_quietly(future);
            } else {
                kept.push((index, future));
            }
        }
        self.waiting = kept.into_iter();
    }

    fn expire(
        &mut self,
        in_flight: &mut FuturesUnordered<Tracked>,
        now: Instant,
        report: &mut DriverReport,
    ) {
        self.remove_where(in_flight, report, |tracked, meta| {
            let elapsed = now.saturating_duration_since(tracked.started);
            (elapsed >= meta.timeout).then_some(Ending::Failed(HookError::TimedOut { elapsed }))
        });
    }
}

impl Future for Driver {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        this.shared.waker.register(context.waker());
        let shared = this.shared.clone();
        let mut in_flight = shared.in_flight();
        let mut report = DriverReport::default();
        if this.shared.ordered.swap(false, Ordering::AcqRel) {
            let order = this
                .shared
                .order
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            if let Some(order) = order {
                this.apply_cancel(&mut in_flight, &order, &mut report);
            }
        }
        let now = Instant::now();
        while in_flight.len() < this.cap && this.start_next(&mut in_flight, now) {}
        while let Poll::Ready(Some((index, result))) = in_flight.poll_next_unpin(context) {
            report.ended += 1;
            if let Err(error) = result {
                report.unsuccessful.push((index, Ending::Failed(error)));
            }
            this.start_next(&mut in_flight, now);
        }
        let finished = in_flight.is_empty() && this.waiting.len() == 0;
        if !finished && let Some(earliest) = this.earliest {
            if earliest <= now {
                this.expire(&mut in_flight, now, &mut report);
                if !in_flight.is_empty() || this.waiting.len() > 0 {
                    // Start the ones waiting and poll again.
                    context.waker().wake_by_ref();
                }
            }
            if let Some(earliest) = this.earliest {
                if this.timer.deadline() != earliest {
                    this.timer.as_mut().reset(earliest);
                }
                if this.timer.as_mut().poll(context).is_ready() {
                    context.waker().wake_by_ref();
                }
            }
        }
        let finished = in_flight.is_empty() && this.waiting.len() == 0;
        drop(in_flight);
        if report.ended > 0 {
            // The receiver lives as long as the run; a send error means it was abandoned.
            let _ = this.sender.send(report);
            this.wake_engine.notify_one();
        }
        if finished {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Driver {
    /// A driver dropped before its futures ended (its task aborted, its runtime shut down, a
    /// panic) reports every future it still held as [`HookError::Lost`], so the engine's wait
    /// ends with those services failed instead of hanging.
    fn drop(&mut self) {
        let mut report = DriverReport::default();
        let in_flight = std::mem::take(&mut *self.shared.in_flight());
        for tracked in in_flight {
            report.ended += 1;
            report
                .unsuccessful
                .push((tracked.index, Ending::Failed(HookError::Lost)));
            drop_quietly(tracked);
        }
        for (index, future) in std::mem::take(&mut self.waiting) {
            report.ended += 1;
            report
                .unsuccessful
                .push((index, Ending::Failed(HookError::Lost)));
            drop_quietly(future);
        }
        if report.ended > 0 {
            let _ = self.sender.send(report);
            self.wake_engine.notify_one();
        }
    }
}

/// Drops a user future (cancelling it). Its destructor may panic; that must not take the driver
/// down.
pub(crate) fn drop_quietly<T>(future: T) {
    let _ = std::panic::catch_unwind(AssertUnwindSafe(move || drop(future)));
}
