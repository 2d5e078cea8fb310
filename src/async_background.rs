//! Async background tasks: a future per service and run, for I/O, with a cancellation token.
//!
//! The batch form ([`Engine::add_background_task`]) runs a system over every due service in one
//! pass and awaits the futures it hands over as a barrier; this form runs each service's work as
//! its own future, so a slow socket holds up only its own service. It is built for large fleets:
//! a few driver tasks (one per runtime worker) keep every service's next due time in buckets and
//! poll only the runs in progress, so a waiting service costs no tokio task, no timer and no
//! wake-up. It keeps AIPerf's parameters ([`BackgroundTaskParams`]): the first
//! run right away or after one interval, fixed rate (default) or fixed delay, `stop_on_error`,
//! run-once until success.
//!
//! # Cancellation and shutdown
//! - A service's task starts with the root kind's built-in ON_START step (before its children
//!   start) and ends with the built-in ON_STOP step (after its children stopped). A service
//!   started with its stop already requested gets no task.
//! - Setting the stop-requested flag by hand ([`Engine::set_stop_requested`], AIPerf's
//!   `stop_requested = True`) ends the task at its next iteration check: its token is cancelled,
//!   a service waiting for its next run ends at once, a run in progress is its last (its result
//!   is ignored). Nothing awaits it (no stop runs).
//! - Despawning a service ends its tasks at the engine's next step (an operation, `tick`,
//!   `run_for`, `run`): its token is cancelled and a run in progress is dropped.
//! - Ending is **cooperative first**: the service's [`CancellationToken`] is cancelled. A service
//!   waiting for its next run ends at once; a run in progress sees it through
//!   [`TaskContext::cancelled`] and should return soon (its result is then ignored).
//! - The stop **awaits** every task it cancelled, for at most the engine's task stop timeout
//!   (5 s unless [`EngineBuilder::task_stop_timeout`](crate::EngineBuilder::task_stop_timeout);
//!   `Duration::MAX` waits as long as it takes).
//!   A run still in progress then ignored its cancellation: it is logged by name, aborted (its
//!   future dropped), and listed by [`Engine::abandoned_background_tasks`]; one that cannot be
//!   dropped (its driver is blocked in sync code) is counted by
//!   [`Engine::background_tasks_alive`] — never leaked silently.
//! - A failed run is recorded in [`HookFailures`] (it does not fail the
//!   service, as in AIPerf); results reach the world over crossbeam-channel and are collected
//!   whenever the engine drives (operations, `tick`, `run_for`, `run`).
//! - Each run is bounded by the task's own [`HookConfig::timeout`] if it has one; the engine's
//!   default hook timeout does not apply (a run-once task may legitimately run until stop).
//! - User code never takes a driver down: a panic in the task closure (before it returns its
//!   future) or in the future fails that service's run (recorded as `panicked: …`) and the task
//!   goes on; a panic in `prepare` or in a per-service interval fails that service's start,
//!   like a panicking hook.
//! - Pacing as in the batch form: fixed rate keeps the due times (a failed run changes nothing),
//!   fixed delay waits the interval after the run, plus 1 ms after a failed one (AIPerf); an
//!   interval under 1 ms counts as 1 ms, one past the clock's range means "never again".

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bevy_ecs::component::ComponentId;
use bevy_ecs::entity::{Entity, EntityHashSet};
use bevy_ecs::resource::Resource;
use bevy_ecs::world::{EntityRef, World};
use crossbeam_channel::{Receiver, Sender};
use lifecycle_ecs_components::{
    BackgroundTaskParams, HookError, HookFailure, HookFailures, HookType, ServiceId, ServiceKind,
    TaskInterval,
};
use tokio::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

use crate::async_task_driver::{DriverHandle, LoopSchedule, NewService, StopTicket};
use crate::background_common::{
    BACKGROUND_PLUGIN, per_service_interval, stop_requested, task_failure,
};
use crate::despawned_services::DespawnedServices;
use crate::engine::{Engine, HookConfig};
use crate::hook_registry::HookRegistrationError;
use crate::phase_step::StepContext;
use crate::plugin_error::PluginMissingError;
pub use crate::task_context::TaskContext;
use crate::task_pacing::{after, first_due};

/// The engine's default time a stop waits for cancelled background tasks to end.
pub use crate::builder::DEFAULT_TASK_STOP_TIMEOUT;

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

/// The engine's side of one registered task: sends services to its drivers.
trait TaskControl: Send + Sync {
    /// Starts the task for the `entities` of its kind; a panic reading a service (its
    /// `prepare`, its interval) is added to `failures` and that service gets no task.
    fn start(&self, world: &World, entities: &[Entity], failures: &mut Vec<HookFailure>);
    /// Cancels the task of `entities`; the ticket settles as they end.
    fn stop(&self, entities: &[Entity]) -> Arc<StopTicket>;
    /// Drops the runs of `entities` still in progress.
    fn abort(&self, entities: &[Entity]);
    /// Cancels the task of `entities`: no further run (their stop was requested by hand).
    fn wind_down(&self, entities: &[Entity]);
    /// Ends the task of `entities` at once, runs in progress dropped (they were despawned).
    fn end_now(&self, entities: &[Entity]);
    /// Services held (waiting or running).
    fn alive(&self) -> usize;
    /// Runs made so far.
    fn runs(&self) -> u64;
}

/// [`TaskControl`] for a task whose services carry data `S`.
struct Control<S> {
    name: Arc<str>,
    kind: ComponentId,
    drivers: Vec<Arc<DriverHandle<S>>>,
    prepare: Box<dyn Fn(EntityRef<'_>) -> S + Send + Sync>,
    params: BackgroundTaskParams,
    run_timeout: Option<Duration>,
}

impl<S> Control<S> {
    fn driver_of(&self, entity: Entity) -> usize {
        entity.index_u32() as usize % self.drivers.len()
    }

    fn split(&self, entities: &[Entity]) -> Vec<Vec<Entity>> {
        let mut shares = vec![Vec::new(); self.drivers.len()];
        for &entity in entities {
            shares[self.driver_of(entity)].push(entity);
        }
        shares
    }
}

impl<S: Clone + Send + Sync + 'static> TaskControl for Control<S> {
    fn start(&self, world: &World, entities: &[Entity], failures: &mut Vec<HookFailure>) {
        let now = Instant::now();
        let mut shares: Vec<Vec<NewService<S>>> =
            (0..self.drivers.len()).map(|_| Vec::new()).collect();
        for &entity in entities {
            let Ok(service) = world.get_entity(entity) else {
                continue;
            };
            if !service.contains_id(self.kind) || stop_requested(service) {
                continue;
            }
            let interval = match &self.params.interval {
                TaskInterval::Fixed(every) => Some(*every),
                TaskInterval::PerService(of) => match per_service_interval(of, service) {
                    Ok(every) => Some(every),
                    Err(error) => {
                        failures.push(task_failure(service, &self.name, error));
                        continue;
                    }
                },
                TaskInterval::Once => None,
            };
            let Some(first_due) = first_due(self.params.immediate, interval, now) else {
                // Past the clock's range: never due.
                continue;
            };
            let data = match std::panic::catch_unwind(AssertUnwindSafe(|| (self.prepare)(service)))
            {
                Ok(data) => data,
                Err(payload) => {
                    let error = lifecycle_ecs_systems::panicked(payload);
                    failures.push(task_failure(service, &self.name, error));
                    continue;
                }
            };
            shares[self.driver_of(entity)].push(NewService {
                context: TaskContext {
                    entity,
                    service_id: service.get::<ServiceId>().copied().unwrap_or_default(),
                    data,
                    token: CancellationToken::new(),
                },
                schedule: LoopSchedule {
                    interval,
                    stop_on_error: self.params.stop_on_error,
                    pacing: self.params.pacing,
                    run_timeout: self.run_timeout,
                },
                first_due,
            });
        }
        for (driver, share) in self.drivers.iter().zip(shares) {
            driver.join(share);
        }
    }

    fn stop(&self, entities: &[Entity]) -> Arc<StopTicket> {
        let ticket = StopTicket::new(self.drivers.len());
        for (driver, share) in self.drivers.iter().zip(self.split(entities)) {
            driver.stop(share, ticket.clone());
        }
        ticket
    }

    fn abort(&self, entities: &[Entity]) {
        for (driver, share) in self.drivers.iter().zip(self.split(entities)) {
            if !share.is_empty() {
                driver.abort(share);
            }
        }
    }

    fn wind_down(&self, entities: &[Entity]) {
        for (driver, share) in self.drivers.iter().zip(self.split(entities)) {
            if !share.is_empty() {
                driver.wind_down(share);
            }
        }
    }

    fn end_now(&self, entities: &[Entity]) {
        for (driver, share) in self.drivers.iter().zip(self.split(entities)) {
            if !share.is_empty() {
                driver.end_now(share);
            }
        }
    }

    fn alive(&self) -> usize {
        self.drivers
            .iter()
            .map(|driver| driver.alive.load(Ordering::Acquire))
            .sum()
    }

    fn runs(&self) -> u64 {
        self.drivers
            .iter()
            .map(|driver| driver.runs.load(Ordering::Relaxed))
            .sum()
    }
}

impl<S> Drop for Control<S> {
    fn drop(&mut self) {
        for driver in &self.drivers {
            driver.close();
        }
    }
}

/// One registered async background task.
struct AsyncTask {
    name: Arc<str>,
    control: Box<dyn TaskControl>,
}

/// Every async background task of an engine, and what their stops left behind (a World
/// resource of the background plugin).
#[derive(Resource)]
pub(crate) struct AsyncBackgroundTasks {
    tasks: Vec<AsyncTask>,
    failures: (Sender<HookFailure>, Receiver<HookFailure>),
    abandoned: Vec<AbandonedTask>,
    stop_timeout: Duration,
}

impl AsyncBackgroundTasks {
    /// No task yet; stops wait `stop_timeout` for cancelled tasks.
    pub(crate) fn new(stop_timeout: Duration) -> Self {
        Self {
            tasks: Vec::new(),
            failures: crossbeam_channel::unbounded(),
            abandoned: Vec::new(),
            stop_timeout,
        }
    }
}

impl Engine {
    /// Registers an async background task of kind `K`: while a service of that kind runs, `task`
    /// is called per run with a [`TaskContext`] and its future awaited (see the
    /// [module docs](crate::async_background) for scheduling and cancellation). `prepare` reads
    /// what the runs need from the service when its task starts (futures cannot reach the world);
    /// an interval computed per service ([`TaskInterval::PerService`]) is also read then.
    ///
    /// The task's drivers run on the tokio runtime current at registration (for an engine of its
    /// own runtime registering outside any runtime, that one): register inside the runtime that
    /// will drive the engine.
    ///
    /// # Errors
    /// [`HookRegistrationError::Unsupported`] if `K` does not provide BACKGROUND_TASK (every kind
    /// does, through the root kind); [`HookRegistrationError::PluginMissing`] on an engine
    /// without the [`BackgroundPlugin`](crate::BackgroundPlugin).
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
        let Some(failures) = self
            .world
            .get_resource::<AsyncBackgroundTasks>()
            .map(|tasks| tasks.failures.0.clone())
        else {
            return Err(PluginMissingError {
                plugin: BACKGROUND_PLUGIN,
            }
            .into());
        };
        let kind_info = self.validated_kind::<K>(HookType::BackgroundTask)?;
        let kind = self.world.register_component::<K>();
        let slot = self.hooks.allocate_slot();
        let info = config.background_task_info::<K>(&params);
        self.hooks.list(&kind_info, info, slot);
        // The drivers run on the runtime current at registration (the engine's own outside any).
        let handle = self.bridge.runtime().work_handle();
        let task = Arc::new(task);
        let drivers: Vec<Arc<DriverHandle<S>>> = (0..handle.metrics().num_workers().max(1))
            .map(|_| Arc::new(DriverHandle::new()))
            .collect();
        // Inside the runtime's context: a driver creates its timer.
        let _entered = handle.enter();
        for driver in &drivers {
            handle.spawn(crate::async_task_driver::Driver::new(
                driver.clone(),
                task.clone(),
                config.name.clone(),
                failures.clone(),
            ));
        }
        let control = Control {
            name: config.name.clone(),
            kind,
            drivers,
            prepare: Box::new(prepare),
            params,
            run_timeout: config.timeout,
        };
        self.world
            .resource_mut::<AsyncBackgroundTasks>()
            .tasks
            .push(AsyncTask {
                name: config.name,
                control: Box::new(control),
            });
        DespawnedServices::watch(&mut self.world);
        Ok(())
    }

    /// How many services an async background task still holds (waiting for a run, running, or
    /// aborted and not dropped yet). 0 after every service stopped means nothing leaked.
    pub fn background_tasks_alive(&self) -> usize {
        self.world
            .get_resource::<AsyncBackgroundTasks>()
            .map_or(0, |tasks| {
                tasks.tasks.iter().map(|task| task.control.alive()).sum()
            })
    }

    /// How many runs the async background tasks made so far (every task, every service).
    pub fn async_background_runs(&self) -> u64 {
        self.world
            .get_resource::<AsyncBackgroundTasks>()
            .map_or(0, |tasks| {
                tasks.tasks.iter().map(|task| task.control.runs()).sum()
            })
    }

    /// The background tasks that ignored their cancellation at a stop and were aborted.
    pub fn abandoned_background_tasks(&self) -> &[AbandonedTask] {
        self.world
            .get_resource::<AsyncBackgroundTasks>()
            .map_or(&[], |tasks| &tasks.abandoned)
    }
}

/// Whether any async task is registered.
pub(crate) fn has_async_tasks(world: &World) -> bool {
    world
        .get_resource::<AsyncBackgroundTasks>()
        .is_some_and(|tasks| !tasks.tasks.is_empty())
}

/// Whether any async task holds a service (so a stop must look for them).
pub(crate) fn has_running_async_tasks(world: &World) -> bool {
    world
        .get_resource::<AsyncBackgroundTasks>()
        .is_some_and(|tasks| tasks.tasks.iter().any(|task| task.control.alive() > 0))
}

/// How long a stop waits for cancelled tasks.
pub(crate) fn stop_timeout(world: &World) -> Duration {
    world
        .get_resource::<AsyncBackgroundTasks>()
        .map_or(DEFAULT_TASK_STOP_TIMEOUT, |tasks| tasks.stop_timeout)
}

/// Starts the async tasks of `entities` (part of the plugin's start step). A panic reading a
/// service is recorded as its failure, so its start fails.
pub(crate) fn start_async_tasks(world: &mut World, entities: &[Entity]) {
    let Some(tasks) = world.get_resource::<AsyncBackgroundTasks>() else {
        return;
    };
    let mut failures = Vec::new();
    for task in &tasks.tasks {
        task.control.start(world, entities, &mut failures);
    }
    if !failures.is_empty() {
        let mut records = world.resource_mut::<HookFailures>();
        for failure in failures {
            records.push(failure);
        }
    }
}

/// Ends the async tasks of `entities` at their next iteration check: their stop was requested
/// (AIPerf's `stop_requested = True`; the plugin's `StopRequested` step).
pub(crate) fn wind_down_async_tasks(world: &mut World, step: StepContext<'_>) {
    if !has_running_async_tasks(world) {
        return;
    }
    let entities = step.entities(world);
    for task in &world.resource::<AsyncBackgroundTasks>().tasks {
        if task.control.alive() > 0 {
            task.control.wind_down(&entities);
        }
    }
}

/// Ends the async tasks of `entities` at once, runs in progress dropped (they were despawned:
/// nothing is left to stop).
pub(crate) fn end_async_tasks_now(world: &mut World, entities: &[Entity]) {
    let Some(tasks) = world.get_resource::<AsyncBackgroundTasks>() else {
        return;
    };
    for task in &tasks.tasks {
        if task.control.alive() > 0 {
            task.control.end_now(entities);
        }
    }
}

/// Cancels the async tasks of `entities` and awaits them, for at most the stop timeout; the runs
/// still in progress are reported, aborted and listed (part of the plugin's stop step).
pub(crate) async fn end_async_tasks(world: &mut World, entities: &[Entity]) {
    let Some(tasks) = world.get_resource::<AsyncBackgroundTasks>() else {
        return;
    };
    let tickets: Vec<(usize, Arc<StopTicket>)> = tasks
        .tasks
        .iter()
        .enumerate()
        .filter(|(_, task)| task.control.alive() > 0)
        .map(|(index, task)| (index, task.control.stop(entities)))
        .collect();
    if tickets.is_empty() {
        return;
    }
    let started = Instant::now();
    let deadline = after(started, tasks.stop_timeout);
    for (_, ticket) in &tickets {
        match deadline {
            // A timeout here means some run ignored its cancellation: handled below.
            Some(deadline) => {
                let _ = tokio::time::timeout_at(deadline, ticket.settled()).await;
            }
            // A timeout past the clock's range: as long as it takes.
            None => ticket.settled().await,
        }
    }
    for (index, ticket) in tickets {
        if ticket.is_settled() {
            continue;
        }
        let ended: EntityHashSet = ticket.ended().into_iter().collect();
        let stubborn: Vec<Entity> = ticket
            .waited_for()
            .into_iter()
            .filter(|entity| !ended.contains(entity))
            .collect();
        let waited = started.elapsed();
        let mut abandoned = Vec::with_capacity(stubborn.len());
        {
            let task = &world.resource::<AsyncBackgroundTasks>().tasks[index];
            for &entity in &stubborn {
                let service_id = world.get::<ServiceId>(entity).copied().unwrap_or_default();
                tracing::warn!(
                    task = %task.name,
                    service = %service_id,
                    waited_s = waited.as_secs_f64(),
                    "background task ignored its cancellation; aborting it"
                );
                abandoned.push(AbandonedTask {
                    task: task.name.clone(),
                    service_id,
                    waited,
                });
            }
            task.control.abort(&stubborn);
        }
        world
            .resource_mut::<AsyncBackgroundTasks>()
            .abandoned
            .extend(abandoned);
        // The driver drops them at its next poll; a driver blocked in sync code cannot, and its
        // services stay counted by `background_tasks_alive`.
        let _ = tokio::time::timeout(ABORT_GRACE, ticket.settled()).await;
    }
    collect_async_failures(world);
}

/// Moves the failures async background tasks reported into [`HookFailures`].
pub(crate) fn collect_async_failures(world: &mut World) {
    let Some(tasks) = world.get_resource::<AsyncBackgroundTasks>() else {
        return;
    };
    let receiver = tasks.failures.1.clone();
    if receiver.is_empty() {
        return;
    }
    let mut failures = world.resource_mut::<HookFailures>();
    for failure in receiver.try_iter() {
        failures.push(failure);
    }
}

/// How long a stop waits for aborted runs to be dropped.
const ABORT_GRACE: Duration = Duration::from_millis(100);
