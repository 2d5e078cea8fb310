//! The futures batch background tasks hand to tokio ([`HookTasks`](crate::HookTasks) in a task
//! system), run beside the engine instead of inside its tick.
//!
//! One driver task per engine, spawned at the first hand-over, polls every such future in a
//! [`FuturesUnordered`] (one timer, armed at the earliest timeout) and reports each one's end —
//! with the instant it ended — over crossbeam-channel, one message per wake-up, waking the engine.
//! The engine reschedules a service once every future of its run ended, so runs never overlap and
//! fixed delay counts from the end of the work. Cancelling a service's futures drops them.

use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bevy_ecs::entity::{Entity, EntityHashSet};
use crossbeam_channel::{Receiver, Sender};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use futures_util::task::AtomicWaker;
use lifecycle_ecs_components::{HookError, ServiceId};
use lifecycle_ecs_systems::HookFuture;
use tokio::sync::{Notify, oneshot};
use tokio::task::coop::Unconstrained;
use tokio::time::{Duration, Instant, Sleep};

use crate::deadline::after;
use crate::hook_future_driver::drop_quietly;
use crate::runtime::EngineRuntime;

/// Which run of which task a future belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RunKey {
    /// The task's index in the engine.
    pub(crate) task: usize,
    /// The run's serial (unique per engine).
    pub(crate) run: u64,
    /// The service.
    pub(crate) entity: Entity,
}

/// A future handed over by a run.
pub(crate) struct HandedOver {
    pub(crate) key: RunKey,
    pub(crate) service_id: ServiceId,
    /// The task's own timeout (none: it runs until it ends or its service stops).
    pub(crate) timeout: Option<Duration>,
    pub(crate) future: HookFuture,
}

/// How one handed-over future ended.
pub(crate) struct FutureEnded {
    pub(crate) key: RunKey,
    pub(crate) service_id: ServiceId,
    pub(crate) result: Result<(), HookError>,
    pub(crate) at: Instant,
}

/// What the engine sends the driver.
#[derive(Default)]
struct Inbox {
    handed_over: Vec<HandedOver>,
    cancels: Vec<(EntityHashSet, oneshot::Sender<()>)>,
    closed: bool,
}

/// The part of the driver the engine sees.
struct Shared {
    inbox: Mutex<Inbox>,
    has_mail: AtomicBool,
    waker: AtomicWaker,
}

impl Shared {
    fn send(&self, write: impl FnOnce(&mut Inbox)) {
        write(&mut self.inbox.lock().unwrap_or_else(PoisonError::into_inner));
        self.has_mail.store(true, Ordering::Release);
        self.waker.wake();
    }
}

/// The engine's handle on the driver; dropping it ends the driver (its futures are dropped).
pub(crate) struct BackgroundFutures {
    shared: Arc<Shared>,
    ended: Receiver<Vec<FutureEnded>>,
}

impl BackgroundFutures {
    /// Spawns the driver on `runtime`; it wakes the engine through `wake` when futures end.
    pub(crate) fn start(runtime: &EngineRuntime, wake: Arc<Notify>) -> Self {
        let shared = Arc::new(Shared {
            inbox: Mutex::new(Inbox::default()),
            has_mail: AtomicBool::new(false),
            waker: AtomicWaker::new(),
        });
        let (sender, ended) = crossbeam_channel::unbounded();
        runtime.handle().spawn(Driver {
            shared: shared.clone(),
            running: FuturesUnordered::new(),
            sender,
            wake,
            earliest: None,
            timer: None,
        });
        Self { shared, ended }
    }

    /// Hands `futures` to the driver.
    pub(crate) fn hand_over(&self, futures: Vec<HandedOver>) {
        if futures.is_empty() {
            return;
        }
        self.shared.send(|inbox| inbox.handed_over.extend(futures));
    }

    /// Drops the futures of `services`; the receiver resolves once they are dropped.
    pub(crate) fn cancel(&self, services: EntityHashSet) -> oneshot::Receiver<()> {
        let (done, dropped) = oneshot::channel();
        self.shared
            .send(|inbox| inbox.cancels.push((services, done)));
        dropped
    }

    /// Takes the ends reported so far, appending them to `out`.
    pub(crate) fn take_ended(&self, out: &mut Vec<FutureEnded>) {
        for batch in self.ended.try_iter() {
            out.extend(batch);
        }
    }
}

impl Drop for BackgroundFutures {
    fn drop(&mut self) {
        self.shared.send(|inbox| inbox.closed = true);
    }
}

/// One future in flight. It runs outside tokio's cooperative budget, as hook futures do (the
/// driver polls many futures in one task poll).
struct Tracked {
    key: RunKey,
    service_id: ServiceId,
    started: Instant,
    deadline: Option<Instant>,
    future: Unconstrained<HookFuture>,
}

impl Future for Tracked {
    type Output = (RunKey, ServiceId, Result<(), HookError>);

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        let (key, service_id) = (self.key, self.service_id);
        match std::panic::catch_unwind(AssertUnwindSafe(|| {
            Pin::new(&mut self.future).poll(context)
        })) {
            Ok(Poll::Ready(result)) => Poll::Ready((key, service_id, result)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready((
                key,
                service_id,
                Err(lifecycle_ecs_systems::panicked(payload)),
            )),
        }
    }
}

/// The driver task.
struct Driver {
    shared: Arc<Shared>,
    running: FuturesUnordered<Tracked>,
    sender: Sender<Vec<FutureEnded>>,
    wake: Arc<Notify>,
    earliest: Option<Instant>,
    timer: Option<Pin<Box<Sleep>>>,
}

impl Driver {
    /// Takes the engine's mail. Returns `false` once closed.
    fn read_mail(&mut self, now: Instant) -> bool {
        if !self.shared.has_mail.swap(false, Ordering::AcqRel) {
            return true;
        }
        let inbox = std::mem::take(
            &mut *self
                .shared
                .inbox
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for handed in inbox.handed_over {
            let deadline = handed.timeout.and_then(|limit| after(now, limit));
            if let Some(deadline) = deadline {
                self.earliest = Some(self.earliest.map_or(deadline, |at| at.min(deadline)));
            }
            self.running.push(Tracked {
                key: handed.key,
                service_id: handed.service_id,
                started: now,
                deadline,
                future: tokio::task::unconstrained(handed.future),
            });
        }
        for (services, done) in inbox.cancels {
            self.remove_where(|tracked| services.contains(&tracked.key.entity), |_| {});
            // The engine may have stopped waiting.
            let _ = done.send(());
        }
        !inbox.closed
    }

    /// Rebuilds the set without the futures `removes` picks (each is handed to `removed`, then
    /// dropped) and recomputes the earliest deadline.
    fn remove_where(
        &mut self,
        mut removes: impl FnMut(&Tracked) -> bool,
        mut removed: impl FnMut(&Tracked),
    ) {
        self.earliest = None;
        for tracked in std::mem::take(&mut self.running) {
            if removes(&tracked) {
                removed(&tracked);
                drop_quietly(tracked);
            } else {
                if let Some(deadline) = tracked.deadline {
                    self.earliest = Some(self.earliest.map_or(deadline, |at| at.min(deadline)));
                }
                self.running.push(tracked);
            }
        }
    }
}

// The driver never pins its fields (futures are pinned inside their `FuturesUnordered` nodes).
impl Unpin for Driver {}

impl Future for Driver {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        this.shared.waker.register(context.waker());
        let now = Instant::now();
        if !this.read_mail(now) {
            for tracked in std::mem::take(&mut this.running) {
                drop_quietly(tracked);
            }
            return Poll::Ready(());
        }
        let mut ended = Vec::new();
        while let Poll::Ready(Some((key, service_id, result))) =
            this.running.poll_next_unpin(context)
        {
            ended.push(FutureEnded {
                key,
                service_id,
                result,
                at: now,
            });
        }
        if this.earliest.is_some_and(|earliest| earliest <= now) {
            this.remove_where(
                |tracked| tracked.deadline.is_some_and(|at| at <= now),
                |tracked| {
                    ended.push(FutureEnded {
                        key: tracked.key,
                        service_id: tracked.service_id,
                        result: Err(HookError::TimedOut {
                            elapsed: now.saturating_duration_since(tracked.started),
                        }),
                        at: now,
                    });
                },
            );
        }
        if let Some(earliest) = this.earliest {
            let timer = this
                .timer
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(earliest)));
            if timer.deadline() != earliest {
                timer.as_mut().reset(earliest);
            }
            if timer.as_mut().poll(context).is_ready() {
                context.waker().wake_by_ref();
            }
        }
        if !ended.is_empty() {
            // The receiver lives as long as the engine; a send error means it is gone.
            let _ = this.sender.send(ended);
            this.wake.notify_one();
        }
        Poll::Pending
    }
}
