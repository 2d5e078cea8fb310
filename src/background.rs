//! Background tasks (AIPerf's `@background_task`): batch timers owned by the world.
//!
//! A background task is a system registered for a kind with [`BackgroundTaskParams`]. Each service
//! of that kind gets a timer when it starts (the root kind's built-in ON_START step, before its
//! children start) and loses it when it stops (the built-in ON_STOP step, after its children
//! stopped). The driver ([`Engine::tick`], [`Engine::run_for`], [`Engine::run`]) runs a task
//! **once per tick for every service whose timer is due** — one pass for a thousand due workers,
//! not a thousand wake-ups — through the same [`Targets`](crate::Targets) parameter hooks use.
//!
//! A task system may hand async work to tokio with [`HookTasks`](crate::HookTasks). That work
//! runs beside the engine: the tick does not wait for it, so the run loop and the other tasks go
//! on. A service whose run handed over futures is not due again before they all finished (runs
//! never overlap); a failed future fails the run. Those futures get the task's own
//! [`HookConfig::timeout`] if it has one (the engine's default hook timeout does not apply), and
//! are dropped (AIPerf's cancellation) when their service stops or is despawned.
//!
//! Scheduling, per service:
//! - the first run is right away (`immediate`, the default) or after one interval;
//! - fixed rate by default: next due = previous due + interval, and a run that overruns (its
//!   futures included) skips the missed ticks (it never overlaps itself, never bursts to catch
//!   up); a failed run keeps the due times. `Pacing::FixedDelay` waits the interval after each
//!   run finished (its futures included), plus 1 ms after a failed one, as AIPerf does;
//! - an interval under [`BackgroundTaskParams::MIN_INTERVAL`] (1 ms) counts as 1 ms; one past the
//!   clock's range (`Duration::MAX`) means the task never runs again for that service;
//! - a failed run is recorded in [`HookFailures`] (it does not fail the service, as in AIPerf); with
//!   `stop_on_error` the task stops for that service, else it runs again at its next tick;
//! - `TaskInterval::Once` runs until its first success (AIPerf's `interval=None`), 1 ms apart;
//! - no new run starts for a service whose stop was requested (by [`Engine::set_stop_requested`] too)
//!   or that is not RUNNING; a despawned service's timer ends at the engine's next step.
//!
//! Time is `tokio::time::Instant`, so tests drive it on tokio's paused clock.

use std::sync::Arc;

use bevy_ecs::component::ComponentId;
use bevy_ecs::entity::{Entity, EntityHashMap, EntityHashSet};
use bevy_ecs::resource::Resource;
use bevy_ecs::schedule::{IntoScheduleConfigs, Schedule, SingleThreadedExecutor};
use bevy_ecs::system::ScheduleSystem;
use bevy_ecs::world::{Mut, World};
use lifecycle_ecs_components::{
    BackgroundTaskParams, HookFailure, HookFailures, HookType, LifecycleFlags, LifecycleState,
    ServiceKind, TaskInterval,
};
use lifecycle_ecs_systems::{
    ActiveHook, HookFutures, HookProgress, PhaseContext, enter_hook, exit_hook,
};
use tokio::time::{Duration, Instant};

use crate::async_background::{
    collect_async_failures, end_async_tasks, end_async_tasks_now, has_async_tasks,
    has_running_async_tasks, start_async_tasks, stop_timeout,
};
use crate::async_bridge::EngineAsync;
use crate::background_common::{
    BACKGROUND_PLUGIN, per_service_interval, stop_requested, task_failure,
};
use crate::background_futures::{BackgroundFutures, HandedOver, RunKey};
use crate::despawned_services::DespawnedServices;
use crate::due_buckets::DueBuckets;
use crate::engine::{Engine, HookConfig};
use crate::hook_registry::{HookRegistrationError, HookSchedule};
use crate::phase_step::StepContext;
use crate::plugin_error::PluginMissingError;
use crate::task_pacing::{FinishedRun, after, first_due, next_due};

/// One registered background task and its timers.
struct BackgroundTask {
    name: Arc<str>,
    kind: ComponentId,
    params: BackgroundTaskParams,
    schedule: Schedule,
    /// Services by due time (may hold stale entries: `next_of` is the truth).
    due: DueBuckets<Entity>,
    /// Each scheduled service's next due time.
    next_of: EntityHashMap<Instant>,
    /// Services whose last run handed futures to tokio that have not all finished (they have no
    /// timer until then).
    in_flight: EntityHashMap<RunInFlight>,
}

/// A run whose handed-over futures are still running.
#[derive(Clone, Copy)]
struct RunInFlight {
    /// The run's serial (futures of other runs do not count).
    run: u64,
    /// When the run was due.
    due: Instant,
    /// Its futures not finished yet.
    pending: u32,
    /// Whether the run failed so far (its sync part or a finished future).
    failed: bool,
}

/// Every batch background task of an engine (a World resource of the background plugin).
#[derive(Resource, Default)]
pub(crate) struct BackgroundTasks {
    tasks: Vec<BackgroundTask>,
    /// The driver of handed-over futures (started at the first hand-over).
    futures: Option<BackgroundFutures>,
    /// The serial of the next run.
    next_run: u64,
    /// Runs whose futures failed after their tick, not in a [`TickReport`] yet.
    unreported_failures: usize,
}

/// What one [`Engine::tick`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Task runs started (one per service per due task).
    pub runs: usize,
    /// Runs that failed (recorded in `HookFailures`): those of this tick that failed in their
    /// system, and earlier runs whose handed-over futures failed since the last tick.
    pub failed: usize,
}

impl Engine {
    /// Registers `system` as a background task of kind `K` with `params` (AIPerf's
    /// `@background_task`). The system finds the services whose timer is due with a
    /// `Targets<K, _>` parameter.
    ///
    /// # Errors
    /// [`HookRegistrationError::Unsupported`] if `K` does not provide BACKGROUND_TASK (every kind
    /// does, through the root kind); [`HookRegistrationError::Schedule`] if the task's schedule
    /// does not build; [`HookRegistrationError::PluginMissing`] on an engine without the
    /// [`BackgroundPlugin`](crate::BackgroundPlugin).
    ///
    /// # Example
    /// ```
    /// use std::time::Duration;
    /// use bevy_ecs::prelude::*;
    /// use lifecycle_ecs::prelude::*;
    /// use lifecycle_ecs::{BackgroundTaskParams, HookConfig};
    ///
    /// #[derive(Component, Default)]
    /// struct Beats(u32);
    /// fn heartbeat(mut targets: Targets<Lifecycle, &mut Beats>) {
    ///     targets.for_each(|_, mut beats| beats.0 += 1);
    /// }
    ///
    /// let mut engine = Engine::new();
    /// engine
    ///     .add_background_task::<Lifecycle, _>(
    ///         HookConfig::named("heartbeat"),
    ///         BackgroundTaskParams::every(Duration::from_millis(5)),
    ///         heartbeat,
    ///     )
    ///     .unwrap();
    /// let service = engine.spawn_with(Lifecycle, Beats(0));
    /// engine.initialize_and_start(service);
    /// engine.run_for(Duration::from_millis(12)); // runs at 0, 5 and 10 ms
    /// engine.stop(service);
    /// assert_eq!(engine.world().get::<Beats>(service).unwrap().0, 3);
    /// assert_eq!(engine.background_timers(), 0, "stop ends every timer");
    /// ```
    pub fn add_background_task<K: ServiceKind, M>(
        &mut self,
        config: HookConfig,
        params: BackgroundTaskParams,
        system: impl IntoScheduleConfigs<ScheduleSystem, M>,
    ) -> Result<(), HookRegistrationError> {
        if !self.world.contains_resource::<BackgroundTasks>() {
            return Err(PluginMissingError {
                plugin: BACKGROUND_PLUGIN,
            }
            .into());
        }
        let kind_info = self.validated_kind::<K>(HookType::BackgroundTask)?;
        let kind = self.world.register_component::<K>();
        let slot = self.hooks.allocate_slot();
        let mut schedule = Schedule::new(HookSchedule(HookType::BackgroundTask));
        schedule.set_executor(SingleThreadedExecutor::new());
        let active = ActiveHook {
            slot,
            name: config.name.clone(),
            kind: K::NAME,
            hook_type: HookType::BackgroundTask,
            timeout: config.timeout,
        };
        schedule.add_systems((enter_hook(active), system, exit_hook::<K>(slot)).chain());
        crate::hook_registry::build(&mut schedule, &mut self.world)?;
        let info = config.background_task_info::<K>(&params);
        self.hooks.list(&kind_info, info, slot);
        self.world
            .resource_mut::<BackgroundTasks>()
            .tasks
            .push(BackgroundTask {
                name: config.name,
                kind,
                params,
                schedule,
                due: DueBuckets::default(),
                next_of: EntityHashMap::default(),
                in_flight: EntityHashMap::default(),
            });
        DespawnedServices::watch(&mut self.world);
        Ok(())
    }

    /// How many services hold a background-task timer or a run in progress (0 once every service
    /// stopped: nothing leaks).
    pub fn background_timers(&self) -> usize {
        self.world
            .get_resource::<BackgroundTasks>()
            .map_or(0, BackgroundTasks::timers)
    }

    /// When the next background run is due, if any.
    pub fn next_background_due(&self) -> Option<Instant> {
        self.world
            .get_resource::<BackgroundTasks>()
            .and_then(BackgroundTasks::next_due)
    }

    /// Runs every background task once for the services whose timer is due now, and reschedules
    /// them. Futures a task hands over run on the engine's runtime (with an engine-owned runtime,
    /// while the engine waits on it: `run_for`, `run`, operations). Does nothing on an engine
    /// without the [`BackgroundPlugin`](crate::BackgroundPlugin).
    pub fn tick(&mut self) -> TickReport {
        let runtime = self.bridge.runtime().clone();
        runtime.block_on_for("`Engine::tick_async(…).await`", self.tick_async())
    }

    /// [`tick`](Self::tick) for async code. It never waits for the futures a task hands over.
    ///
    /// # Cancel safety
    /// The tick awaits nothing after it starts its runs; dropping it leaves the engine consistent.
    pub async fn tick_async(&mut self) -> TickReport {
        tick(&mut self.world)
    }

    /// Drives background tasks for `duration` (on the engine's clock): runs what is due, sleeps
    /// until the next timer (or until handed-over futures end), until `duration` has passed (runs
    /// due exactly at the end are left for the next call). Returns the runs and failures.
    /// `Duration::MAX` (or any end past the clock's range) drives for ever.
    pub fn run_for(&mut self, duration: Duration) -> TickReport {
        let runtime = self.bridge.runtime().clone();
        runtime.block_on_for(
            "`Engine::run_for_async(…).await`",
            self.run_for_async(duration),
        )
    }

    /// [`run_for`](Self::run_for) for async code.
    ///
    /// # Cancel safety
    /// Dropping the future at an `.await` leaves the engine consistent: timers and runs in
    /// progress stay scheduled for the next call.
    pub async fn run_for_async(&mut self, duration: Duration) -> TickReport {
        let end = after(Instant::now(), duration);
        let wake = self.bridge.wake();
        let mut total = TickReport::default();
        loop {
            let tick = self.tick_async().await;
            total.runs += tick.runs;
            total.failed += tick.failed;
            let next = self
                .next_background_due()
                .filter(|due| end.is_none_or(|end| *due < end));
            let until = next.or(end);
            let sleep = async {
                match until {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            let in_flight = self
                .world
                .get_resource::<BackgroundTasks>()
                .is_some_and(BackgroundTasks::has_runs_in_flight);
            let futures_ended = async {
                if in_flight {
                    wake.notified().await;
                } else {
                    std::future::pending::<()>().await;
                }
            };
            let slept = tokio::select! {
                () = sleep => true,
                () = futures_ended => false,
            };
            if slept && next.is_none() {
                collect_background_results(&mut self.world);
                if let Some(mut tasks) = self.world.get_resource_mut::<BackgroundTasks>() {
                    total.failed += std::mem::take(&mut tasks.unreported_failures);
                }
                return total;
            }
        }
    }
}

/// Runs every background task once for the due services (see [`Engine::tick`]); nothing without
/// the plugin.
pub(crate) fn tick(world: &mut World) -> TickReport {
    if !world.contains_resource::<BackgroundTasks>() {
        return TickReport::default();
    }
    // The tick reads its runs' failures back: the window must not drop them meanwhile.
    let hold = world.resource::<HookFailures>().hold();
    collect_background_results(world);
    let report = world.resource_scope(|world, mut tasks: Mut<BackgroundTasks>| tasks.tick(world));
    world.resource_mut::<HookFailures>().release(hold);
    report
}

/// Moves what background work reported since the last look into the world: failures of
/// async tasks, the ends of handed-over futures (their services are rescheduled), and the
/// services despawned (their timers and tasks end: tokens cancelled, runs dropped). Called
/// whenever the engine drives (operations, `tick`, `run_for`, `run`).
pub(crate) fn collect_background_results(world: &mut World) {
    collect_async_failures(world);
    if !world.contains_resource::<BackgroundTasks>() {
        return;
    }
    world.resource_scope(|world, mut tasks: Mut<BackgroundTasks>| {
        tasks.settle_finished_runs(world);
    });
    let despawned = DespawnedServices::take(world);
    if !despawned.is_empty() {
        let mut tasks = world.resource_mut::<BackgroundTasks>();
        let cancelled = tasks.forget_timers(&despawned);
        if !cancelled.is_empty()
            && let Some(futures) = &tasks.futures
        {
            // Dropped at the driver's next poll; nobody waits for a despawned service.
            drop(futures.cancel(cancelled));
        }
        end_async_tasks_now(world, &despawned);
    }
}

/// Starts the timers and async tasks of `entities` (the plugin's `PhaseStart` step of a start).
/// A service whose stop was already requested gets none (its loops end at their first check).
/// A panicking per-service interval fails that service's start, like a panicking hook.
pub(crate) fn schedule_background_tasks(world: &mut World, step: StepContext<'_>) {
    let Some(tasks) = world.get_resource::<BackgroundTasks>() else {
        return;
    };
    if tasks.tasks.is_empty() && !has_async_tasks(world) {
        return;
    }
    let entities = step.entities(world);
    start_async_tasks(world, &entities);
    world.resource_scope(|world, mut tasks: Mut<BackgroundTasks>| {
        tasks.schedule(world, &entities);
    });
}

/// Ends the timers and async tasks of the batch's services (the plugin's `PhaseEnd` step of a
/// stop): the futures of their runs in progress are dropped, async tasks are cancelled and
/// awaited (both within the task stop timeout).
pub(crate) async fn end_background_tasks(world: &mut World, step: StepContext<'_>) {
    let Some(tasks) = world.get_resource::<BackgroundTasks>() else {
        return;
    };
    let holds = tasks
        .tasks
        .iter()
        .any(|task| !task.next_of.is_empty() || !task.in_flight.is_empty());
    if !holds && !has_running_async_tasks(world) {
        return;
    }
    let entities = step.entities(world);
    let stop_timeout = stop_timeout(world);
    let mut tasks = world.resource_mut::<BackgroundTasks>();
    let cancelled = tasks.forget_timers(&entities);
    let dropped = match &tasks.futures {
        Some(futures) if !cancelled.is_empty() => Some(futures.cancel(cancelled)),
        _ => None,
    };
    if let Some(dropped) = dropped {
        // A driver that does not answer in time is blocked in sync code: nothing to add.
        let _ = match after(Instant::now(), stop_timeout) {
            Some(deadline) => tokio::time::timeout_at(deadline, dropped).await.ok(),
            None => Some(dropped.await),
        };
    }
    end_async_tasks(world, &entities).await;
}

impl BackgroundTasks {
    /// Starts the timers of `entities`.
    fn schedule(&mut self, world: &mut World, entities: &[Entity]) {
        let now = Instant::now();
        let mut failures = Vec::new();
        for index in 0..self.tasks.len() {
            for &entity in entities {
                let task = &self.tasks[index];
                let Ok(service) = world.get_entity(entity) else {
                    continue;
                };
                if !service.contains_id(task.kind) || stop_requested(service) {
                    continue;
                }
                let due = match &task.params.interval {
                    _ if task.params.immediate => Some(now),
                    TaskInterval::Once => Some(now),
                    TaskInterval::Fixed(every) => first_due(false, Some(*every), now),
                    TaskInterval::PerService(of) => match per_service_interval(of, service) {
                        Ok(every) => first_due(false, Some(every), now),
                        Err(error) => {
                            failures.push(task_failure(service, &task.name, error));
                            continue;
                        }
                    },
                };
                // `None`: its first run would be past the clock's range, so never.
                if let Some(due) = due {
                    let task = &mut self.tasks[index];
                    task.due.push(due, entity);
                    task.next_of.insert(entity, due);
                }
            }
        }
        let mut records = world.resource_mut::<HookFailures>();
        for failure in failures {
            records.push(failure);
        }
    }

    /// Drops the timers of `entities` and forgets their runs in progress; returns the services
    /// that had one (their futures must be cancelled).
    fn forget_timers(&mut self, entities: &[Entity]) -> EntityHashSet {
        let mut in_flight = EntityHashSet::default();
        for task in &mut self.tasks {
            if task.next_of.is_empty() && task.in_flight.is_empty() {
                continue;
            }
            for entity in entities {
                // Its bucket entry goes stale and is skipped when the bucket fires.
                task.next_of.remove(entity);
                if task.in_flight.remove(entity).is_some() {
                    in_flight.insert(*entity);
                }
            }
            if task.next_of.is_empty() {
                task.due.clear();
            }
        }
        in_flight
    }

    /// Counts the handed-over futures that ended; a run whose futures all ended is rescheduled
    /// from the moment the last one ended.
    fn settle_finished_runs(&mut self, world: &mut World) {
        let Some(futures) = &self.futures else {
            return;
        };
        let mut ended = Vec::new();
        futures.take_ended(&mut ended);
        for end in ended {
            let RunKey { task, run, entity } = end.key;
            let failed = end.result.is_err();
            if let Err(error) = end.result {
                let failure = HookFailure {
                    entity,
                    service_id: end.service_id,
                    hook: self.tasks[task].name.clone(),
                    hook_type: HookType::BackgroundTask,
                    error,
                };
                world.resource_mut::<HookFailures>().push(failure);
            }
            let in_flight = &mut self.tasks[task].in_flight;
            let Some(progress) = in_flight.get_mut(&entity) else {
                continue;
            };
            if progress.run != run {
                continue;
            }
            progress.failed |= failed;
            progress.pending = progress.pending.saturating_sub(1);
            if progress.pending > 0 {
                continue;
            }
            let done = *progress;
            in_flight.remove(&entity);
            if done.failed {
                self.unreported_failures += 1;
            }
            self.reschedule(
                world,
                task,
                entity,
                FinishedRun {
                    due: done.due,
                    finished: end.at,
                    failed: done.failed,
                },
            );
        }
    }

    /// Whether a run's handed-over futures are still running.
    fn has_runs_in_flight(&self) -> bool {
        self.tasks.iter().any(|task| !task.in_flight.is_empty())
    }

    /// How many services hold a timer or a run in progress.
    fn timers(&self) -> usize {
        self.tasks
            .iter()
            .map(|task| task.next_of.len() + task.in_flight.len())
            .sum()
    }

    /// When the next run is due, if any.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.tasks
            .iter()
            .filter_map(|task| task.due.next_due())
            .min()
    }

    /// Runs every task once for its due services (results collected already).
    fn tick(&mut self, world: &mut World) -> TickReport {
        let mut report = TickReport {
            runs: 0,
            failed: std::mem::take(&mut self.unreported_failures),
        };
        for index in 0..self.tasks.len() {
            let now = Instant::now();
            let ready = self.take_due(world, index, now);
            if ready.is_empty() {
                continue;
            }
            let list: Vec<Entity> = ready.iter().map(|(entity, _)| *entity).collect();
            let failures_start = world.resource::<HookFailures>().mark();
            world.resource_mut::<PhaseContext>().begin_sparse(
                None,
                Some(LifecycleState::Running),
                &list,
            );
            tracing::debug_span!(
                "background_task",
                name = %self.tasks[index].name,
                due = list.len()
            )
            .in_scope(|| self.tasks[index].schedule.run(world));
            let handed = world.resource_mut::<HookFutures>().take();
            world.resource_mut::<HookProgress>().reset();
            world.resource_mut::<PhaseContext>().end();
            let failed: EntityHashSet = world
                .resource::<HookFailures>()
                .since(failures_start)
                .iter()
                .map(|failure| failure.entity)
                .collect();
            report.runs += list.len();
            let run = self.next_run;
            let pending = self.hand_over(world, index, run, handed);
            let finished = Instant::now();
            for (entity, due) in ready {
                let failed = failed.contains(&entity);
                if let Some(&pending) = (!pending.is_empty())
                    .then(|| pending.get(&entity))
                    .flatten()
                {
                    let progress = RunInFlight {
                        run,
                        due,
                        pending,
                        failed,
                    };
                    self.tasks[index].in_flight.insert(entity, progress);
                    continue;
                }
                report.failed += usize::from(failed);
                let run = FinishedRun {
                    due,
                    finished,
                    failed,
                };
                self.reschedule(world, index, entity, run);
            }
        }
        report
    }

    /// Hands the futures run `run` of task `index` queued to the driver; returns how many each
    /// service got.
    fn hand_over(
        &mut self,
        world: &World,
        index: usize,
        run: u64,
        queued: Vec<lifecycle_ecs_systems::QueuedHookFuture>,
    ) -> EntityHashMap<u32> {
        let mut pending = EntityHashMap::default();
        if queued.is_empty() {
            return pending;
        }
        self.next_run += 1;
        let handed: Vec<HandedOver> = queued
            .into_iter()
            .map(|queued| {
                *pending.entry(queued.entity).or_insert(0) += 1;
                HandedOver {
                    key: RunKey {
                        task: index,
                        run,
                        entity: queued.entity,
                    },
                    service_id: queued.service_id,
                    timeout: queued.timeout,
                    future: queued.future,
                }
            })
            .collect();
        let engine = world.resource::<EngineAsync>();
        self.futures
            .get_or_insert_with(|| BackgroundFutures::start(&engine.runtime, engine.wake.clone()))
            .hand_over(handed);
        pending
    }

    /// Takes the due timers of task `index` whose services may run (RUNNING, stop not requested);
    /// the others are dropped (their services are on their way out).
    fn take_due(&mut self, world: &World, index: usize, now: Instant) -> Vec<(Entity, Instant)> {
        let mut ready = Vec::new();
        let mut fired = Vec::new();
        let task = &mut self.tasks[index];
        task.due.drain_due(now, &mut fired);
        for (due, entities) in fired {
            for entity in entities {
                match task.next_of.remove(&entity) {
                    Some(next) if next == due => {}
                    Some(next) => {
                        // A stale entry: the service was rescheduled since.
                        task.next_of.insert(entity, next);
                        continue;
                    }
                    None => continue,
                }
                let runnable = world.get::<LifecycleState>(entity)
                    == Some(&LifecycleState::Running)
                    && world
                        .get::<LifecycleFlags>(entity)
                        .is_some_and(|flags| !flags.stop_requested());
                if runnable {
                    ready.push((entity, due));
                }
            }
        }
        ready
    }

    /// Schedules the next run of task `index` for `entity` after `run` (none if the task is over
    /// for it). A panicking per-service interval is recorded and ends the task for the service.
    fn reschedule(&mut self, world: &mut World, index: usize, entity: Entity, run: FinishedRun) {
        let task = &self.tasks[index];
        let interval = match &task.params.interval {
            TaskInterval::Fixed(every) => Some(*every),
            TaskInterval::Once => None,
            TaskInterval::PerService(of) => {
                let Ok(service) = world.get_entity(entity) else {
                    return;
                };
                match per_service_interval(of, service) {
                    Ok(every) => Some(every),
                    Err(error) => {
                        let failure = task_failure(service, &task.name, error);
                        world.resource_mut::<HookFailures>().push(failure);
                        return;
                    }
                }
            }
        };
        let params = &task.params;
        if let Some(next) = next_due(interval, params.pacing, params.stop_on_error, run) {
            let task = &mut self.tasks[index];
            task.due.push(next, entity);
            task.next_of.insert(entity, next);
        }
    }
}
