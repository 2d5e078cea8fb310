//! Background tasks (AIPerf's `@background_task`): batch timers owned by the world.
//!
//! A background task is a system registered for a kind with [`BackgroundTaskParams`]. Each service
//! of that kind gets a timer when it starts (the root kind's built-in ON_START step, before its
//! children start) and loses it when it stops (the built-in ON_STOP step, after its children
//! stopped). The driver ([`Engine::tick`], [`Engine::run_for`]) runs a task **once per tick for
//! every service whose timer is due** — one pass for a thousand due workers, not a thousand
//! wake-ups — through the same [`Targets`](crate::Targets) parameter hooks use. A task system may
//! hand async work to tokio with [`HookTasks`](crate::HookTasks), like any hook.
//!
//! Scheduling, per service:
//! - the first run is right away (`immediate`, the default) or after one interval;
//! - fixed rate by default: next due = previous due + interval, and a run that overruns skips the
//!   missed ticks (it never overlaps itself, never bursts to catch up); `Pacing::FixedDelay` waits
//!   the interval after each run, as AIPerf does;
//! - a failed run is recorded in [`HookFailures`] (it does not fail the service, as in AIPerf); with
//!   `stop_on_error` the task stops for that service, else it runs again at its next tick;
//! - `TaskInterval::Once` runs until its first success (AIPerf's `interval=None`);
//! - no new run starts for a service whose stop was requested or that is not RUNNING.
//!
//! Time is `tokio::time::Instant`, so tests drive it on tokio's paused clock.

use std::sync::Arc;

use bevy_ecs::component::ComponentId;
use bevy_ecs::entity::{Entity, EntityHashMap, EntityHashSet};
use bevy_ecs::schedule::{IntoScheduleConfigs, Schedule, SingleThreadedExecutor};
use bevy_ecs::system::ScheduleSystem;
use lifecycle_ecs_components::{
    BackgroundTaskParams, HookFailures, HookType, LifecycleFlags, LifecycleState, Pacing,
    ServiceKind, TaskInterval,
};
use lifecycle_ecs_systems::{ActiveHook, PhaseContext, enter_hook, exit_hook};
use tokio::time::{Duration, Instant};
use tracing::Instrument;

use crate::due_buckets::DueBuckets;
use crate::engine::{Engine, HookConfig};
use crate::hook_registry::{HookRegistrationError, HookSchedule};
use crate::phase_guard::PhaseGuard;
use crate::scheduler::Batch;

/// How long a failed run-once task waits before it runs again.
pub(crate) const RETRY_DELAY: Duration = Duration::from_millis(1);

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
}

/// Every background task of an engine.
#[derive(Default)]
pub(crate) struct BackgroundTasks {
    tasks: Vec<BackgroundTask>,
}

/// What one [`Engine::tick`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Task runs (one per service per due task).
    pub runs: usize,
    /// Runs that failed (recorded in `HookFailures`).
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
    /// does not build.
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
        self.check_provides::<K>(HookType::BackgroundTask)?;
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
        schedule
            .initialize(&mut self.world)
            .map_err(|error| HookRegistrationError::Schedule(format!("{error:?}")))?;
        self.background.tasks.push(BackgroundTask {
            name: config.name,
            kind,
            params,
            schedule,
            due: DueBuckets::default(),
            next_of: EntityHashMap::default(),
        });
        Ok(())
    }

    /// Starts the timers of the batch's services (the root kind's built-in ON_START step).
    pub(crate) fn schedule_background_tasks(&mut self, batch: &Batch) {
        if self.background.tasks.is_empty() && !self.has_async_tasks() {
            return;
        }
        let entities = self.batch_entities(batch);
        self.start_async_tasks(&entities);
        let now = Instant::now();
        for index in 0..self.background.tasks.len() {
            for &entity in &entities {
                let task = &self.background.tasks[index];
                let Ok(service) = self.world.get_entity(entity) else {
                    continue;
                };
                if !service.contains_id(task.kind) {
                    continue;
                }
                let due = if task.params.immediate
                    || matches!(task.params.interval, TaskInterval::Once)
                {
                    now
                } else {
                    now + interval_of(&task.params.interval, service)
                };
                let task = &mut self.background.tasks[index];
                task.due.push(due, entity);
                task.next_of.insert(entity, due);
            }
        }
    }

    /// Ends the timers and async tasks of the batch's services (the root kind's built-in ON_STOP
    /// step): async tasks are cancelled and awaited.
    pub(crate) async fn end_background_tasks(&mut self, batch: &Batch) {
        let timers = self
            .background
            .tasks
            .iter()
            .any(|task| !task.next_of.is_empty());
        if !timers && !self.has_running_async_tasks() {
            return;
        }
        let entities = self.batch_entities(batch);
        for task in &mut self.background.tasks {
            for entity in &entities {
                // Its bucket entry goes stale and is skipped when the bucket fires.
                task.next_of.remove(entity);
            }
            if task.next_of.is_empty() {
                task.due.clear();
            }
        }
        self.end_async_tasks(&entities).await;
    }

    /// How many background-task timers are scheduled (0 once every service stopped: nothing
    /// leaks).
    pub fn background_timers(&self) -> usize {
        self.background
            .tasks
            .iter()
            .map(|task| task.next_of.len())
            .sum()
    }

    /// When the next background run is due, if any.
    pub fn next_background_due(&self) -> Option<Instant> {
        self.background
            .tasks
            .iter()
            .filter_map(|task| task.due.next_due())
            .min()
    }

    /// Runs every background task once for the services whose timer is due now, and reschedules
    /// them. Blocks on the engine's runtime if a task hands over futures.
    ///
    /// # Panics
    /// Panics if a task's futures must be awaited while the calling thread is in a current-thread tokio
    /// runtime's context (use [`tick_async`](Self::tick_async) there); see [`EngineRuntime::block_on`](crate::EngineRuntime::block_on).
    pub fn tick(&mut self) -> TickReport {
        let runtime = self.bridge.runtime().clone();
        runtime.block_on_for("`Engine::tick_async(…).await`", self.tick_async())
    }

    /// [`tick`](Self::tick) for async code.
    ///
    /// # Cancel safety
    /// Dropping the future drops the hook futures of the run in progress and ends its phase:
    /// later runs and phases run every hook.
    pub async fn tick_async(&mut self) -> TickReport {
        // The tick reads its runs' failures back: the window must not drop them meanwhile.
        let hold = self.world.resource::<HookFailures>().hold();
        self.collect_background_failures();
        let mut report = TickReport::default();
        for index in 0..self.background.tasks.len() {
            let now = Instant::now();
            let ready = self.take_due(index, now);
            if ready.is_empty() {
                continue;
            }
            let list: Vec<Entity> = ready.iter().map(|(entity, _)| *entity).collect();
            let failures_start = self.world.resource::<HookFailures>().mark();
            self.world.resource_mut::<PhaseContext>().begin_sparse(
                None,
                Some(LifecycleState::Running),
                &list,
            );
            let span = tracing::debug_span!(
                "background_task",
                name = %self.background.tasks[index].name,
                due = list.len()
            );
            // Dropping this future mid-run ends the phase too.
            let mut phase = PhaseGuard::new(self);
            let engine = &mut *phase;
            async {
                loop {
                    engine.background.tasks[index]
                        .schedule
                        .run(&mut engine.world);
                    if !engine.await_handed_over_futures().await {
                        break;
                    }
                }
            }
            .instrument(span)
            .await;
            drop(phase);
            let failed: EntityHashSet = self
                .world
                .resource::<HookFailures>()
                .since(failures_start)
                .iter()
                .map(|failure| failure.entity)
                .collect();
            report.runs += list.len();
            report.failed += failed.len();
            let finished = Instant::now();
            for (entity, due) in ready {
                self.reschedule(index, entity, due, finished, failed.contains(&entity));
            }
        }
        self.world.resource_mut::<HookFailures>().release(hold);
        report
    }

    /// Takes the due timers of task `index` whose services may run (RUNNING, stop not requested);
    /// the others are dropped (their services are on their way out).
    fn take_due(&mut self, index: usize, now: Instant) -> Vec<(Entity, Instant)> {
        let mut ready = Vec::new();
        let mut fired = Vec::new();
        let task = &mut self.background.tasks[index];
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
                let runnable = self.world.get::<LifecycleState>(entity)
                    == Some(&LifecycleState::Running)
                    && self
                        .world
                        .get::<LifecycleFlags>(entity)
                        .is_some_and(|flags| !flags.stop_requested());
                if runnable {
                    ready.push((entity, due));
                }
            }
        }
        ready
    }

    fn reschedule(
        &mut self,
        index: usize,
        entity: Entity,
        due: Instant,
        now: Instant,
        failed: bool,
    ) {
        let task = &self.background.tasks[index];
        let next = match (&task.params.interval, failed) {
            (_, true) if task.params.stop_on_error => None,
            (TaskInterval::Once, false) => None,
            (TaskInterval::Once, true) => Some(now + RETRY_DELAY),
            (interval, _) => {
                let Ok(service) = self.world.get_entity(entity) else {
                    return;
                };
                let every = interval_of(interval, service).max(Duration::from_nanos(1));
                Some(next_due(task.params.pacing, due, every, now))
            }
        };
        if let Some(next) = next {
            let task = &mut self.background.tasks[index];
            task.due.push(next, entity);
            task.next_of.insert(entity, next);
        }
    }

    /// Drives background tasks for `duration` (on the engine's clock): runs what is due, sleeps
    /// until the next timer, until `duration` has passed (runs due exactly at the end are left for
    /// the next call). Returns the runs and failures.
    ///
    /// # Panics
    /// Panics if a timer or a task's futures must be awaited while the calling thread is in a current-thread tokio
    /// runtime's context (use [`run_for_async`](Self::run_for_async) there); see [`EngineRuntime::block_on`](crate::EngineRuntime::block_on).
    pub fn run_for(&mut self, duration: Duration) -> TickReport {
        let runtime = self.bridge.runtime().clone();
        runtime.block_on_for(
            "`Engine::run_for_async(…).await`",
            self.run_for_async(duration),
        )
    }

    /// [`run_for`](Self::run_for) for async code.
    pub async fn run_for_async(&mut self, duration: Duration) -> TickReport {
        let end = Instant::now() + duration;
        let mut total = TickReport::default();
        loop {
            let tick = self.tick_async().await;
            total.runs += tick.runs;
            total.failed += tick.failed;
            match self.next_background_due() {
                Some(due) if due < end => tokio::time::sleep_until(due).await,
                _ => {
                    tokio::time::sleep_until(end).await;
                    self.collect_background_failures();
                    return total;
                }
            }
        }
    }
}

/// The next due time after a run that was due at `due` and finished at `now`: fixed rate skips
/// the ticks the run overran (never bursts to catch up); fixed delay waits `every` after the run.
pub(crate) fn next_due(pacing: Pacing, due: Instant, every: Duration, now: Instant) -> Instant {
    match pacing {
        Pacing::FixedDelay => now + every,
        Pacing::FixedRate => {
            let next = due + every;
            if next > now {
                return next;
            }
            let behind = (now - due).as_nanos() / every.as_nanos();
            let skip = u32::try_from(behind).unwrap_or(u32::MAX);
            due + every * skip.saturating_add(1)
        }
    }
}

fn interval_of(interval: &TaskInterval, service: bevy_ecs::world::EntityRef<'_>) -> Duration {
    match interval {
        TaskInterval::Fixed(every) => *every,
        TaskInterval::PerService(of) => of(service),
        TaskInterval::Once => Duration::ZERO,
    }
}
