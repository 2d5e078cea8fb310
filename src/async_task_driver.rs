//! The driver tasks behind async background tasks.
//!
//! One tokio task per runtime worker drives every service of one registered task: the services
//! waiting for their next run are entries in buckets of due times (one timer per driver, armed at
//! the earliest), and only runs in progress are futures, polled together in a
//! [`FuturesUnordered`]. A service that is waiting costs no task, no timer and no wake-up; ending
//! it is dropping its entry. A run in progress sees its service's cancellation token cancelled
//! and is awaited; aborting it drops the future. User code (the task closure, the data's `Clone`
//! and `Drop`, the future) runs under `catch_unwind`: a panic fails that run, never the driver.

use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bevy_ecs::entity::{Entity, EntityHashMap, EntityHashSet};
use crossbeam_channel::Sender;
use futures_util::future::CatchUnwind;
use futures_util::stream::FuturesUnordered;
use futures_util::task::AtomicWaker;
use futures_util::{FutureExt, StreamExt};
use lifecycle_ecs_components::{HookError, HookFailure, HookType, Pacing};
use tokio::sync::Notify;
use tokio::task::coop::Unconstrained;
use tokio::time::{Duration, Instant, Sleep};

use crate::deadline::after;
use crate::due_buckets::DueBuckets;
use crate::hook_future_driver::drop_quietly;
use crate::task_context::TaskContext;
use crate::task_pacing::{FinishedRun, next_due};

/// When one service's runs happen.
#[derive(Clone, Copy)]
pub(crate) struct LoopSchedule {
    /// `None`: run until the first success.
    pub(crate) interval: Option<Duration>,
    pub(crate) stop_on_error: bool,
    pub(crate) pacing: Pacing,
    pub(crate) run_timeout: Option<Duration>,
}

/// A service joining a driver.
pub(crate) struct NewService<S> {
    pub(crate) context: TaskContext<S>,
    pub(crate) schedule: LoopSchedule,
    pub(crate) first_due: Instant,
}

/// A stop's wait for the services it ended: the engine awaits it, drivers settle it.
pub(crate) struct StopTicket {
    /// Drivers that have not taken the request yet.
    unseen: AtomicUsize,
    /// Services found with a task and not ended yet.
    remaining: AtomicUsize,
    /// Services whose task ended.
    ended: Mutex<Vec<Entity>>,
    /// Services that were running when the stop arrived (the ones it waits for).
    waited_for: Mutex<Vec<Entity>>,
    notify: Notify,
}

impl StopTicket {
    pub(crate) fn new(drivers: usize) -> Arc<Self> {
        Arc::new(Self {
            unseen: AtomicUsize::new(drivers),
            remaining: AtomicUsize::new(0),
            ended: Mutex::new(Vec::new()),
            waited_for: Mutex::new(Vec::new()),
            notify: Notify::new(),
        })
    }

    /// Whether every driver took the request and every service it found ended.
    pub(crate) fn is_settled(&self) -> bool {
        self.unseen.load(Ordering::Acquire) == 0 && self.remaining.load(Ordering::Acquire) == 0
    }

    /// Waits until [`is_settled`](Self::is_settled).
    pub(crate) async fn settled(&self) {
        loop {
            let notified = self.notify.notified();
            if self.is_settled() {
                return;
            }
            notified.await;
        }
    }

    /// The services whose task ended so far.
    pub(crate) fn ended(&self) -> Vec<Entity> {
        self.ended
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The services that were running when the stop arrived.
    pub(crate) fn waited_for(&self) -> Vec<Entity> {
        self.waited_for
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn found(&self, count: usize, running: Vec<Entity>) {
        if !running.is_empty() {
            self.waited_for
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend(running);
        }
        self.remaining.fetch_add(count, Ordering::AcqRel);
        self.unseen.fetch_sub(1, Ordering::AcqRel);
        self.notify.notify_waiters();
    }

    fn ended_now(&self, services: &[Entity]) {
        if services.is_empty() {
            return;
        }
        self.ended
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(services);
        self.remaining.fetch_sub(services.len(), Ordering::AcqRel);
        self.notify.notify_waiters();
    }
}

/// What the engine sends a driver.
struct Inbox<S> {
    joining: Vec<NewService<S>>,
    stops: Vec<(Vec<Entity>, Arc<StopTicket>)>,
    aborts: Vec<Vec<Entity>>,
    wind_downs: Vec<Vec<Entity>>,
    ends: Vec<Vec<Entity>>,
    closed: bool,
}

impl<S> Default for Inbox<S> {
    fn default() -> Self {
        Self {
            joining: Vec::new(),
            stops: Vec::new(),
            aborts: Vec::new(),
            wind_downs: Vec::new(),
            ends: Vec::new(),
            closed: false,
        }
    }
}

/// The part of a driver the engine sees.
pub(crate) struct DriverHandle<S> {
    inbox: Mutex<Inbox<S>>,
    has_mail: AtomicBool,
    waker: AtomicWaker,
    /// Services this driver holds (waiting or running), plus those sent and not taken yet.
    pub(crate) alive: AtomicUsize,
    pub(crate) runs: AtomicU64,
}

impl<S> DriverHandle<S> {
    pub(crate) fn new() -> Self {
        Self {
            inbox: Mutex::new(Inbox::default()),
            has_mail: AtomicBool::new(false),
            waker: AtomicWaker::new(),
            alive: AtomicUsize::new(0),
            runs: AtomicU64::new(0),
        }
    }

    fn send(&self, write: impl FnOnce(&mut Inbox<S>)) {
        write(&mut self.inbox.lock().unwrap_or_else(PoisonError::into_inner));
        self.has_mail.store(true, Ordering::Release);
        self.waker.wake();
    }

    /// Hands over services whose task starts.
    pub(crate) fn join(&self, services: Vec<NewService<S>>) {
        if services.is_empty() {
            return;
        }
        self.alive.fetch_add(services.len(), Ordering::AcqRel);
        self.send(|inbox| inbox.joining.extend(services));
    }

    /// Cancels the tasks of `services` (those this driver holds) and settles `ticket` as they end.
    pub(crate) fn stop(&self, services: Vec<Entity>, ticket: Arc<StopTicket>) {
        self.send(|inbox| inbox.stops.push((services, ticket)));
    }

    /// Drops the runs of `services` still in progress (they ignored their cancellation).
    pub(crate) fn abort(&self, services: Vec<Entity>) {
        self.send(|inbox| inbox.aborts.push(services));
    }

    /// Cancels the tasks of `services` without waiting: a waiting service ends at once, a run in
    /// progress is its last.
    pub(crate) fn wind_down(&self, services: Vec<Entity>) {
        self.send(|inbox| inbox.wind_downs.push(services));
    }

    /// Ends the tasks of `services` at once: tokens cancelled, runs in progress dropped.
    pub(crate) fn end_now(&self, services: Vec<Entity>) {
        self.send(|inbox| inbox.ends.push(services));
    }

    /// Ends the driver (the engine is dropped): every run in progress is dropped.
    pub(crate) fn close(&self) {
        self.send(|inbox| inbox.closed = true);
    }
}

/// One service held by a driver.
struct Held<S> {
    context: TaskContext<S>,
    schedule: LoopSchedule,
    /// When its next run is due (valid while no run is in progress).
    due: Instant,
    /// Bumped at each run and at each reschedule, so stale bucket entries are skipped.
    generation: u32,
    running: bool,
    /// The run in progress is the last: the service's stop was requested.
    last_run: bool,
    /// The stop waiting for this service's run to end.
    stopping: Option<Arc<StopTicket>>,
}

/// One run in progress. The user's future is boxed so a run can be moved out of the set (to drop
/// it on abort or timeout).
struct Run<Fut> {
    entity: Entity,
    deadline: Option<Instant>,
    future: CatchUnwind<AssertUnwindSafe<Unconstrained<Pin<Box<Fut>>>>>,
}

impl<Fut: Future<Output = Result<(), HookError>>> Future for Run<Fut> {
    type Output = (Entity, Result<(), HookError>);

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        let entity = self.entity;
        match Pin::new(&mut self.future).poll(context) {
            Poll::Ready(Ok(result)) => Poll::Ready((entity, result)),
            Poll::Ready(Err(payload)) => {
                Poll::Ready((entity, Err(lifecycle_ecs_systems::panicked(payload))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The driver of one task's services on one runtime worker.
pub(crate) struct Driver<S, F, Fut> {
    handle: Arc<DriverHandle<S>>,
    task: Arc<F>,
    name: Arc<str>,
    failures: Sender<HookFailure>,
    held: EntityHashMap<Held<S>>,
    /// Services waiting for a run, by due time (with their generation: stale entries are skipped).
    due: DueBuckets<(u32, Entity)>,
    /// Buckets taken out for firing (kept to reuse the allocation).
    fired: Vec<(Instant, Vec<(u32, Entity)>)>,
    runs: FuturesUnordered<Run<Fut>>,
    timer: Pin<Box<Sleep>>,
}

impl<S, F, Fut> Driver<S, F, Fut>
where
    S: Clone + Send + Sync + 'static,
    F: Fn(TaskContext<S>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), HookError>> + Send + 'static,
{
    pub(crate) fn new(
        handle: Arc<DriverHandle<S>>,
        task: Arc<F>,
        name: Arc<str>,
        failures: Sender<HookFailure>,
    ) -> Self {
        Self {
            handle,
            task,
            name,
            failures,
            held: EntityHashMap::default(),
            due: DueBuckets::default(),
            fired: Vec::new(),
            runs: FuturesUnordered::new(),
            timer: Box::pin(tokio::time::sleep_until(Instant::now())),
        }
    }

    fn schedule(&mut self, entity: Entity, due: Instant) {
        if let Some(held) = self.held.get_mut(&entity) {
            held.generation = held.generation.wrapping_add(1);
            held.due = due;
            self.due.push(due, (held.generation, entity));
        }
    }

    /// Forgets a service; returns the stop waiting for it, if any. Its data is dropped here (a
    /// panicking `Drop` is contained).
    fn release(&mut self, entity: Entity) -> Option<Arc<StopTicket>> {
        let mut held = self.held.remove(&entity)?;
        self.handle.alive.fetch_sub(1, Ordering::AcqRel);
        let ticket = held.stopping.take();
        drop_quietly(held);
        ticket
    }

    /// Takes the engine's mail: joining services, stops, aborts. Returns `false` once closed.
    fn read_mail(&mut self) -> bool {
        if !self.handle.has_mail.swap(false, Ordering::AcqRel) {
            return true;
        }
        let inbox = std::mem::take(
            &mut *self
                .handle
                .inbox
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for joining in inbox.joining {
            let entity = joining.context.entity;
            let replaced = self.held.insert(
                entity,
                Held {
                    context: joining.context,
                    schedule: joining.schedule,
                    due: joining.first_due,
                    generation: 0,
                    running: false,
                    last_run: false,
                    stopping: None,
                },
            );
            if let Some(replaced) = replaced {
                self.handle.alive.fetch_sub(1, Ordering::AcqRel);
                drop_quietly(replaced);
            }
            self.schedule(entity, joining.first_due);
        }
        for (services, ticket) in inbox.stops {
            let mut found = 0;
            let mut ended = Vec::new();
            let mut running = Vec::new();
            for entity in services {
                let Some(held) = self.held.get_mut(&entity) else {
                    continue;
                };
                found += 1;
                held.context.token().cancel();
                if held.running {
                    held.stopping = Some(ticket.clone());
                    running.push(entity);
                } else {
                    // Waiting for its next run: ending it is dropping its entry.
                    self.release(entity);
                    ended.push(entity);
                }
            }
            ticket.found(found, running);
            ticket.ended_now(&ended);
        }
        for services in inbox.aborts {
            self.abort(&services);
        }
        for services in inbox.wind_downs {
            for entity in services {
                let Some(held) = self.held.get_mut(&entity) else {
                    continue;
                };
                held.context.token().cancel();
                if held.running {
                    held.last_run = true;
                } else {
                    self.release(entity);
                }
            }
        }
        for services in inbox.ends {
            for &entity in &services {
                if let Some(held) = self.held.get(&entity) {
                    held.context.token().cancel();
                }
            }
            self.abort(&services);
            for entity in services {
                if let Some(ticket) = self.release(entity) {
                    ticket.ended_now(&[entity]);
                }
            }
        }
        !inbox.closed
    }

    /// Drops (cancels) the runs in progress of `services`: the set is rebuilt without them.
    fn drop_runs(&mut self, services: impl Iterator<Item = Entity>) {
        let set: EntityHashSet = services.collect();
        for run in std::mem::take(&mut self.runs) {
            if set.contains(&run.entity) {
                drop_quietly(run);
            } else {
                self.runs.push(run);
            }
        }
    }

    /// Drops the runs of `services` in progress and settles their stops.
    fn abort(&mut self, services: &[Entity]) {
        let aborting: Vec<Entity> = services
            .iter()
            .copied()
            .filter(|entity| self.held.get(entity).is_some_and(|held| held.running))
            .collect();
        if aborting.is_empty() {
            return;
        }
        self.drop_runs(aborting.iter().copied());
        for entity in aborting {
            if let Some(ticket) = self.release(entity) {
                ticket.ended_now(&[entity]);
            }
        }
    }

    /// Starts the runs that are due. A run whose closure panics (before it returns its future)
    /// fails at once.
    fn start_due(&mut self, now: Instant) {
        let mut fired = std::mem::take(&mut self.fired);
        let mut panicked = Vec::new();
        self.due.drain_due(now, &mut fired);
        for (_, bucket) in fired.drain(..) {
            for (generation, entity) in bucket {
                let Some(held) = self.held.get_mut(&entity) else {
                    continue;
                };
                if held.generation != generation || held.running {
                    continue;
                }
                held.running = true;
                // Past the clock's range: no deadline.
                let deadline = held
                    .schedule
                    .run_timeout
                    .and_then(|limit| after(now, limit));
                let task = &self.task;
                let context = &held.context;
                match std::panic::catch_unwind(AssertUnwindSafe(|| task(context.clone()))) {
                    Ok(future) => self.runs.push(Run {
                        entity,
                        deadline,
                        future: AssertUnwindSafe(tokio::task::unconstrained(Box::pin(future)))
                            .catch_unwind(),
                    }),
                    Err(payload) => {
                        panicked.push((entity, lifecycle_ecs_systems::take_panic_message(payload)));
                    }
                }
            }
        }
        self.fired = fired;
        for (entity, message) in panicked {
            self.finish(entity, Err(HookError::Panicked(message)), now);
        }
    }

    /// A run ended: count it, report a failure, reschedule (or release) its service.
    fn finish(&mut self, entity: Entity, result: Result<(), HookError>, now: Instant) {
        self.handle.runs.fetch_add(1, Ordering::Relaxed);
        let Some(held) = self.held.get_mut(&entity) else {
            return;
        };
        held.running = false;
        if held.stopping.is_some() || held.last_run {
            // Its service is stopping: the result of an interrupted run is not a failure.
            if let Some(ticket) = self.release(entity) {
                ticket.ended_now(&[entity]);
            }
            return;
        }
        let failed = result.is_err();
        if let Err(error) = result {
            // The receiver lives as long as the engine.
            let _ = self.failures.send(HookFailure {
                entity,
                service_id: held.context.service_id,
                hook: self.name.clone(),
                hook_type: HookType::BackgroundTask,
                error,
            });
        }
        let schedule = held.schedule;
        let run = FinishedRun {
            due: held.due,
            finished: now,
            failed,
        };
        let next = next_due(
            schedule.interval,
            schedule.pacing,
            schedule.stop_on_error,
            run,
        );
        match next {
            Some(due) => self.schedule(entity, due),
            None => {
                self.release(entity);
            }
        }
    }

    /// Fails the runs past their own timeout.
    fn expire(&mut self, now: Instant) {
        let expired: Vec<(Entity, Duration)> = self
            .runs
            .iter()
            .filter_map(|run| {
                let deadline = run.deadline?;
                (deadline <= now).then(|| {
                    let limit = self
                        .held
                        .get(&run.entity)
                        .and_then(|held| held.schedule.run_timeout);
                    (run.entity, limit.unwrap_or_default())
                })
            })
            .collect();
        if expired.is_empty() {
            return;
        }
        self.drop_runs(expired.iter().map(|(entity, _)| *entity));
        for (entity, elapsed) in expired {
            self.finish(entity, Err(HookError::TimedOut { elapsed }), now);
        }
    }

    fn next_wake(&self) -> Option<Instant> {
        let due = self.due.next_due();
        let deadline = self.runs.iter().filter_map(|run| run.deadline).min();
        match (due, deadline) {
            (Some(due), Some(deadline)) => Some(due.min(deadline)),
            (due, deadline) => due.or(deadline),
        }
    }
}

// The driver never pins its fields (runs are pinned inside their `FuturesUnordered` nodes).
impl<S, F, Fut> Unpin for Driver<S, F, Fut> {}

impl<S, F, Fut> Future for Driver<S, F, Fut>
where
    S: Clone + Send + Sync + 'static,
    F: Fn(TaskContext<S>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), HookError>> + Send + 'static,
{
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        this.handle.waker.register(context.waker());
        if !this.read_mail() {
            // Closed: dropping the driver drops every run in progress.
            return Poll::Ready(());
        }
        let now = Instant::now();
        this.start_due(now);
        while let Poll::Ready(Some((entity, result))) = this.runs.poll_next_unpin(context) {
            this.finish(entity, result, now);
            this.start_due(now);
        }
        if this
            .runs
            .iter()
            .any(|run| run.deadline.is_some_and(|at| at <= now))
        {
            this.expire(now);
            context.waker().wake_by_ref();
        }
        if let Some(wake) = this.next_wake() {
            if wake <= now {
                context.waker().wake_by_ref();
            } else {
                if this.timer.deadline() != wake {
                    this.timer.as_mut().reset(wake);
                }
                if this.timer.as_mut().poll(context).is_ready() {
                    context.waker().wake_by_ref();
                }
            }
        }
        Poll::Pending
    }
}
