//! Async background tasks: a long-lived future per service, for I/O, with a cancellation token.
//!
//! The batch form ([`Engine::add_background_task`]) runs a system over every due service in one
//! pass; this form gives each service its own tokio task, for work that awaits sockets or files and
//! must not hold up the others. It keeps AIPerf's parameters ([`BackgroundTaskParams`]): the first
//! run right away or after one interval, fixed rate (default) or fixed delay, `stop_on_error`,
//! run-once until success.
//!
//! # Cancellation and shutdown
//! - A service's task starts with the root kind's built-in ON_START step (before its children
//!   start) and ends with the built-in ON_STOP step (after its children stopped).
//! - Ending is **cooperative first**: the service's [`CancellationToken`] is cancelled. A task
//!   waiting for its next run ends at once; a run in progress sees it through
//!   [`TaskContext::cancelled`] and should return soon (its result is then ignored).
//! - The stop **awaits** every task it cancelled, for at most the engine's task stop timeout
//!   (5 s unless [`EngineBuilder::task_stop_timeout`](crate::EngineBuilder::task_stop_timeout)).
//!   A task still running then ignored its cancellation: it is logged by name, aborted (dropped at
//!   its next `.await`), and listed by [`Engine::abandoned_background_tasks`]; one that never
//!   reaches an `.await` (blocked in sync code) is counted by
//!   [`Engine::background_tasks_alive`] — never leaked silently.
//! - A failed run is recorded in [`HookFailures`](crate::HookFailures) (it does not fail the
//!   service, as in AIPerf); results reach the world over crossbeam-channel and are collected
//!   whenever the engine drives (operations, `tick`, `run_for`, `run`).
//! - Each run is bounded by the task's own [`HookConfig::timeout`] if it has one; the engine's
//!   default hook timeout does not apply (a run-once task may legitimately run until stop).

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bevy_ecs::component::ComponentId;
use bevy_ecs::entity::{Entity, EntityHashMap};
use bevy_ecs::world::EntityRef;
use crossbeam_channel::{Receiver, Sender};
use futures_util::FutureExt;
use lifecycle_ecs_components::{
    BackgroundTaskParams, HookError, HookFailure, HookFailures, HookType, Pacing, ServiceId,
    ServiceKind, TaskInterval,
};
use lifecycle_ecs_systems::panic_message;
use tokio::task::JoinHandle;
use tokio::time::{Duration, Instant};
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

use crate::background::{RETRY_DELAY, next_due};
use crate::engine::{Engine, HookConfig};
use crate::hook_registry::HookRegistrationError;

/// The engine's default time a stop waits for cancelled background tasks to end.
pub const DEFAULT_TASK_STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// What one run of an async background task gets: its service, the data prepared for it when
/// it started, and the service's cancellation token.
///
/// # Example
/// ```
/// use lifecycle_ecs::TaskContext;
/// async fn poll_endpoint(context: TaskContext<String>) -> Result<(), lifecycle_ecs::HookError> {
///     tokio::select! {
///         () = context.cancelled() => Ok(()), // the service is stopping: return promptly
///         () = std::future::ready(()) => {
///             let _url: &str = &context.data; // … await the endpoint …
///             Ok(())
///         }
///     }
/// }
/// # drop(poll_endpoint);
/// ```
#[derive(Clone, Debug)]
pub struct TaskContext<S = ()> {
    /// The service.
    pub entity: Entity,
    /// Its id.
    pub service_id: ServiceId,
    /// What the task's `prepare` read from the service when the task started.
    pub data: S,
    token: CancellationToken,
}

impl<S> TaskContext<S> {
    /// Resolves when the service's task is cancelled (its service is stopping).
    pub fn cancelled(&self) -> WaitForCancellationFuture<'_> {
        self.token.cancelled()
    }

    /// Whether the service's task is cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }

    /// The service's cancellation token (clone it into sub-tasks).
    pub fn token(&self) -> &CancellationToken {
        &self.token
    }
}

/// A background task that ignored its cancellation past the stop timeout and was aborted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AbandonedTask {
    /// The task's name.
    pub task: Arc<str>,
    /// Its service.
    pub service_id: ServiceId,
    /// How long the stop waited for it.
    pub waited: Duration,
}

/// What a per-service loop needs besides its service.
struct LoopArgs {
    entity: Entity,
    service_id: ServiceId,
    token: CancellationToken,
    shared: Arc<TaskShared>,
}

/// Shared by every service's loop of one task.
struct TaskShared {
    name: Arc<str>,
    runs: AtomicU64,
    failures: Sender<HookFailure>,
}

type LoopFuture = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;
type MakeLoop = Box<dyn Fn(EntityRef<'_>, LoopArgs) -> LoopFuture + Send + Sync>;

/// A service's running task.
struct RunningTask {
    token: CancellationToken,
    handle: JoinHandle<()>,
}

/// One registered async background task.
struct AsyncTask {
    kind: ComponentId,
    shared: Arc<TaskShared>,
    make_loop: MakeLoop,
    running: EntityHashMap<RunningTask>,
}

/// Every async background task of an engine, and what their stops left behind.
pub(crate) struct AsyncBackgroundTasks {
    tasks: Vec<AsyncTask>,
    failures: (Sender<HookFailure>, Receiver<HookFailure>),
    /// Aborted tasks that had not ended yet when their stop returned.
    lingering: Vec<JoinHandle<()>>,
    abandoned: Vec<AbandonedTask>,
    pub(crate) stop_timeout: Duration,
}

impl Default for AsyncBackgroundTasks {
    fn default() -> Self {
        Self {
            tasks: Vec::new(),
            failures: crossbeam_channel::unbounded(),
            lingering: Vec::new(),
            abandoned: Vec::new(),
            stop_timeout: DEFAULT_TASK_STOP_TIMEOUT,
        }
    }
}

impl Engine {
    /// Registers an async background task of kind `K`: every service of that kind gets its own
    /// tokio task while it runs, calling `task` per run with a [`TaskContext`] (see the
    /// [module docs](crate::async_background) for cancellation). `prepare` reads what the
    /// runs need from the service when its task starts (futures cannot reach the world); an
    /// interval computed per service ([`TaskInterval::PerService`]) is also read then.
    ///
    /// # Errors
    /// [`HookRegistrationError::Unsupported`] if `K` does not provide BACKGROUND_TASK (every kind
    /// does, through the root kind).
    ///
    /// # Example
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use std::time::Duration;
    /// use lifecycle_ecs::prelude::*;
    /// use lifecycle_ecs::{BackgroundTaskParams, HookConfig};
    ///
    /// let beats = Arc::new(AtomicU32::new(0));
    /// let counter = beats.clone();
    /// let mut engine = Engine::new();
    /// engine
    ///     .add_async_background_task::<Lifecycle, _, _>(
    ///         HookConfig::named("heartbeat"),
    ///         BackgroundTaskParams::every(Duration::from_millis(5)),
    ///         |_service| (),
    ///         move |_context| {
    ///             let counter = counter.clone();
    ///             async move {
    ///                 counter.fetch_add(1, Ordering::Relaxed); // … send a heartbeat …
    ///                 Ok::<(), HookError>(())
    ///             }
    ///         },
    ///     )
    ///     .unwrap();
    /// let service = engine.spawn(Lifecycle);
    /// engine.initialize_and_start(service);
    /// engine.run_for(Duration::from_millis(12)); // runs at 0, 5 and 10 ms
    /// engine.stop(service); // cancels the task and awaits it
    /// assert_eq!(beats.load(Ordering::Relaxed), 3);
    /// assert_eq!(engine.background_tasks_alive(), 0);
    /// ```
    pub fn add_async_background_task<K, S, Fut>(
        &mut self,
        config: HookConfig,
        params: BackgroundTaskParams,
        prepare: impl Fn(EntityRef<'_>) -> S + Send + Sync + 'static,
        task: impl Fn(TaskContext<S>) -> Fut + Send + Sync + 'static,
    ) -> Result<(), HookRegistrationError>
    where
        K: ServiceKind,
        S: Clone + Send + Sync + 'static,
        Fut: Future<Output = Result<(), HookError>> + Send + 'static,
    {
        self.check_provides::<K>(HookType::BackgroundTask)?;
        let kind = self.world.register_component::<K>();
        let task = Arc::new(task);
        let run_timeout = config.timeout;
        let make_loop: MakeLoop = Box::new(move |service, args| {
            let interval = match &params.interval {
                TaskInterval::Fixed(every) => Some(*every),
                TaskInterval::PerService(of) => Some(of(service)),
                TaskInterval::Once => None,
            };
            let schedule = LoopSchedule {
                interval: interval.map(|every| every.max(Duration::from_nanos(1))),
                immediate: params.immediate,
                stop_on_error: params.stop_on_error,
                pacing: params.pacing,
                run_timeout,
            };
            let context = TaskContext {
                entity: args.entity,
                service_id: args.service_id,
                data: prepare(service),
                token: args.token,
            };
            Box::pin(run_loop(task.clone(), context, schedule, args.shared))
        });
        let shared = Arc::new(TaskShared {
            name: config.name,
            runs: AtomicU64::new(0),
            failures: self.async_tasks.failures.0.clone(),
        });
        self.async_tasks.tasks.push(AsyncTask {
            kind,
            shared,
            make_loop,
            running: EntityHashMap::default(),
        });
        Ok(())
    }

    /// Starts the async tasks of `entities` (part of the root kind's built-in ON_START step).
    pub(crate) fn start_async_tasks(&mut self, entities: &[Entity]) {
        let handle = self.bridge.runtime().handle().clone();
        for task in &mut self.async_tasks.tasks {
            for &entity in entities {
                let Ok(service) = self.world.get_entity(entity) else {
                    continue;
                };
                if !service.contains_id(task.kind) || task.running.contains_key(&entity) {
                    continue;
                }
                let service_id = service.get::<ServiceId>().copied().unwrap_or_default();
                let token = CancellationToken::new();
                let args = LoopArgs {
                    entity,
                    service_id,
                    token: token.clone(),
                    shared: task.shared.clone(),
                };
                let handle = handle.spawn((task.make_loop)(service, args));
                task.running.insert(entity, RunningTask { token, handle });
            }
        }
    }

    /// Whether any async task is registered.
    pub(crate) fn has_async_tasks(&self) -> bool {
        !self.async_tasks.tasks.is_empty()
    }

    /// Whether any async task runs (so a stop must look for them).
    pub(crate) fn has_running_async_tasks(&self) -> bool {
        self.async_tasks
            .tasks
            .iter()
            .any(|task| !task.running.is_empty())
    }

    /// Cancels the async tasks of `entities` and awaits them, for at most the stop timeout; the
    /// ones still running are reported, aborted and listed (part of the built-in ON_STOP step).
    pub(crate) async fn end_async_tasks(&mut self, entities: &[Entity]) {
        let mut ending: Vec<(usize, Entity, JoinHandle<()>)> = Vec::new();
        for (index, task) in self.async_tasks.tasks.iter_mut().enumerate() {
            if task.running.is_empty() {
                continue;
            }
            for entity in entities {
                if let Some(running) = task.running.remove(entity) {
                    running.token.cancel();
                    ending.push((index, *entity, running.handle));
                }
            }
        }
        if ending.is_empty() {
            return;
        }
        let timeout = self.async_tasks.stop_timeout;
        let started = Instant::now();
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut expired = false;
        for (_, _, handle) in &mut ending {
            if expired || handle.is_finished() {
                continue;
            }
            tokio::select! {
                biased;
                _ = &mut *handle => {}
                () = &mut deadline => expired = true,
            }
        }
        for (index, entity, handle) in ending {
            if handle.is_finished() {
                continue;
            }
            let name = self.async_tasks.tasks[index].shared.name.clone();
            let service_id = self
                .world
                .get::<ServiceId>(entity)
                .copied()
                .unwrap_or_default();
            let waited = started.elapsed();
            tracing::warn!(
                task = %name,
                service = %service_id,
                waited_s = waited.as_secs_f64(),
                "background task ignored its cancellation; aborting it"
            );
            handle.abort();
            self.async_tasks.abandoned.push(AbandonedTask {
                task: name,
                service_id,
                waited,
            });
            self.async_tasks.lingering.push(handle);
        }
        if !self.async_tasks.lingering.is_empty() {
            // Aborted tasks end at their next poll; give the runtime a turn to drop them.
            tokio::task::yield_now().await;
            self.async_tasks
                .lingering
                .retain(|handle| !handle.is_finished());
        }
        self.collect_background_failures();
    }

    /// Moves the failures async background tasks reported into [`HookFailures`].
    pub(crate) fn collect_background_failures(&mut self) {
        let receiver = &self.async_tasks.failures.1;
        if receiver.is_empty() {
            return;
        }
        let mut failures = self.world.resource_mut::<HookFailures>();
        for failure in receiver.try_iter() {
            failures.push(failure);
        }
    }

    /// How many async background tasks are alive: running for a service, or aborted but not
    /// ended yet (blocked in sync code). 0 after every service stopped means nothing leaked.
    pub fn background_tasks_alive(&mut self) -> usize {
        self.async_tasks
            .lingering
            .retain(|handle| !handle.is_finished());
        self.async_tasks
            .tasks
            .iter()
            .map(|task| task.running.len())
            .sum::<usize>()
            + self.async_tasks.lingering.len()
    }

    /// How many runs the async background tasks made so far (every task, every service).
    pub fn async_background_runs(&self) -> u64 {
        self.async_tasks
            .tasks
            .iter()
            .map(|task| task.shared.runs.load(Ordering::Relaxed))
            .sum()
    }

    /// The background tasks that ignored their cancellation at a stop and were aborted.
    pub fn abandoned_background_tasks(&self) -> &[AbandonedTask] {
        &self.async_tasks.abandoned
    }
}

/// When one service's runs happen.
#[derive(Clone, Copy)]
struct LoopSchedule {
    /// `None`: run until the first success.
    interval: Option<Duration>,
    immediate: bool,
    stop_on_error: bool,
    pacing: Pacing,
    run_timeout: Option<Duration>,
}

/// One service's task: wait for the next due time (or cancellation), run, reschedule.
async fn run_loop<S, Fut>(
    task: Arc<impl Fn(TaskContext<S>) -> Fut + Send + Sync>,
    context: TaskContext<S>,
    schedule: LoopSchedule,
    shared: Arc<TaskShared>,
) where
    S: Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), HookError>> + Send + 'static,
{
    let token = context.token.clone();
    let mut due = Instant::now();
    if !schedule.immediate
        && let Some(every) = schedule.interval
    {
        due += every;
    }
    loop {
        tokio::select! {
            biased;
            () = token.cancelled() => return,
            () = tokio::time::sleep_until(due) => {}
        }
        let run = AssertUnwindSafe(task(context.clone())).catch_unwind();
        let outcome = match schedule.run_timeout {
            Some(limit) => tokio::time::timeout(limit, run)
                .await
                .unwrap_or(Ok(Err(HookError::TimedOut { elapsed: limit }))),
            None => run.await,
        };
        let result = outcome
            .unwrap_or_else(|payload| Err(HookError::Panicked(panic_message(payload.as_ref()))));
        shared.runs.fetch_add(1, Ordering::Relaxed);
        if token.is_cancelled() {
            return;
        }
        let failed = result.is_err();
        if let Err(error) = result {
            // The receiver lives as long as the engine.
            let _ = shared.failures.send(HookFailure {
                entity: context.entity,
                service_id: context.service_id,
                hook: shared.name.clone(),
                hook_type: HookType::BackgroundTask,
                error,
            });
        }
        let now = Instant::now();
        due = match (schedule.interval, failed) {
            (_, true) if schedule.stop_on_error => return,
            (None, false) => return,
            (None, true) => now + RETRY_DELAY,
            (Some(every), _) => next_due(schedule.pacing, due, every, now),
        };
    }
}
