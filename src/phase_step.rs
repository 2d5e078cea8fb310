//! Phase steps: the named, ordered slots of an operation that plugins fill.
//!
//! The scheduler knows no feature. At fixed points of every operation it calls the steps the
//! plugins registered for that point ([`PhaseStep`]), once per batch of services — never once
//! per service — in the order the plugins were added, then the order each plugin registered its
//! steps. The per-service work (hook schedules, transitions) does not go through steps.
//!
//! For one operation on a tree of services, the steps come in AIPerf's order (the hooks of the
//! phase in between; children run as a nested batch one level down):
//!
//! | operation | order |
//! |---|---|
//! | initialize | `BeforeOperation`; → INITIALIZING; `PhaseStart`; children; kind hooks; attached hooks; `PhaseEnd`; → INITIALIZED; `AfterOperation` |
//! | start | `BeforeOperation`; → STARTING; `PhaseStart` (background tasks launched); children; kind hooks; attached hooks; `PhaseEnd`; → RUNNING; `AfterOperation` |
//! | stop | `BeforeOperation`; → STOPPING; `PhaseStart`; attached hooks (reversed); kind hooks (reversed); children; `PhaseEnd` (background tasks cancelled and awaited); → STOPPED; `AfterOperation` |
//!
//! `Barrier` runs inside a phase each time the hook futures a hook handed over have finished (the
//! stop requests that arrived meanwhile are taken just before it); `StopRequested` runs when the
//! scheduler (or [`Engine::set_stop_requested`](crate::Engine::set_stop_requested)) sets services'
//! stop-requested flag; `RunLoopTick` runs at every wake-up of the run loop (and of `tick`).
//!
//! A step is a function of the [`World`] and a [`StepContext`]. A sync step is any
//! `Fn(&mut World, StepContext<'_>)`; an async step returns a [`StepFuture`] borrowing the world
//! (`PhaseStart`, `PhaseEnd`, `Barrier`, `BeforeOperation` and `RunLoopTick` may be async;
//! `AfterOperation` and `StopRequested` are sync because they also run where nothing can be
//! awaited: when an operation's future is dropped, and from a sync method).

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bevy_ecs::entity::Entity;
use bevy_ecs::query::With;
use bevy_ecs::world::World;
use lifecycle_ecs_components::{Lifecycle, LifecycleFlags, LifecycleState, Operation};
use tokio::time::Instant;

/// A named point of an operation (or of the run loop) where the plugins' steps run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PhaseStep {
    /// Once, before an operation touches any service (results of background work collected).
    BeforeOperation,
    /// Per batch: its services entered the transient state; before children and hooks.
    PhaseStart,
    /// Per batch, inside a phase: the hook futures handed over have finished and the stop
    /// requests that arrived meanwhile were taken.
    Barrier,
    /// Per batch: after the hooks and the children, before the services reach the final state.
    PhaseEnd,
    /// The services' stop-requested flag was just set (AIPerf's `stop_requested = True`).
    StopRequested,
    /// Once, after an operation (also when its future was dropped mid-phase).
    AfterOperation,
    /// Each wake-up of the run loop and each `tick`.
    RunLoopTick,
}

impl PhaseStep {
    /// Every step, in the order of the table in the [module docs](self).
    pub const ALL: [PhaseStep; 7] = [
        PhaseStep::BeforeOperation,
        PhaseStep::PhaseStart,
        PhaseStep::Barrier,
        PhaseStep::PhaseEnd,
        PhaseStep::StopRequested,
        PhaseStep::AfterOperation,
        PhaseStep::RunLoopTick,
    ];

    /// Whether an async step may be registered here.
    pub fn allows_async(self) -> bool {
        !matches!(self, PhaseStep::AfterOperation | PhaseStep::StopRequested)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The services a step is about.
#[derive(Clone, Copy, Debug)]
enum Members<'a> {
    /// None (operation-wide and run-loop steps).
    None,
    /// Every service at `depth` in `state` (a batch over all services).
    Dense { depth: u8, state: LifecycleState },
    /// These services.
    List(&'a [Entity]),
}

/// What a step is called for: the step, the operation, and the batch of services.
#[derive(Clone, Copy, Debug)]
pub struct StepContext<'a> {
    step: PhaseStep,
    operation: Option<Operation>,
    members: Members<'a>,
    wake_at: Option<&'a std::sync::Mutex<Option<Instant>>>,
}

impl<'a> StepContext<'a> {
    /// A step not about services (before / after an operation, a run-loop tick).
    pub(crate) fn global(step: PhaseStep, operation: Option<Operation>) -> Self {
        Self {
            step,
            operation,
            members: Members::None,
            wake_at: None,
        }
    }

    /// A step for every service at `depth` in `state`.
    pub(crate) fn dense(
        step: PhaseStep,
        operation: Operation,
        depth: u8,
        state: LifecycleState,
    ) -> Self {
        Self {
            step,
            operation: Some(operation),
            members: Members::Dense { depth, state },
            wake_at: None,
        }
    }

    /// A step for the services in `list`.
    pub(crate) fn list(step: PhaseStep, operation: Option<Operation>, list: &'a [Entity]) -> Self {
        Self {
            step,
            operation,
            members: Members::List(list),
            wake_at: None,
        }
    }

    /// A run-loop step that may ask for a wake-up (the earliest asked for wins).
    pub(crate) fn tick(wake_at: &'a std::sync::Mutex<Option<Instant>>) -> Self {
        Self {
            step: PhaseStep::RunLoopTick,
            operation: None,
            members: Members::None,
            wake_at: Some(wake_at),
        }
    }

    /// The step being run.
    pub fn step(&self) -> PhaseStep {
        self.step
    }

    /// The operation (`None` for run-loop ticks and for `StopRequested` outside an operation).
    pub fn operation(&self) -> Option<Operation> {
        self.operation
    }

    /// Whether the step is about no service at all (an empty batch is never stepped).
    pub fn has_services(&self) -> bool {
        !matches!(self.members, Members::None)
    }

    /// The services of the batch (empty for operation-wide steps). For a batch over every
    /// service this scans the world once: call it only when there is work to do.
    pub fn entities(&self, world: &mut World) -> Cow<'a, [Entity]> {
        match self.members {
            Members::None => Cow::Borrowed(&[]),
            Members::List(list) => Cow::Borrowed(list),
            Members::Dense { depth, state } => {
                let mut query = world
                    .query_filtered::<(Entity, &LifecycleState, &LifecycleFlags), With<Lifecycle>>(
                    );
                Cow::Owned(
                    query
                        .iter(world)
                        .filter(|(_, current, flags)| **current == state && flags.depth() == depth)
                        .map(|(entity, _, _)| entity)
                        .collect(),
                )
            }
        }
    }

    /// From a `RunLoopTick` step: wake the run loop by `at` at the latest (ignored elsewhere).
    pub fn wake_by(&self, at: Instant) {
        if let Some(slot) = self.wake_at {
            let mut slot = slot
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            *slot = Some(slot.map_or(at, |earlier| earlier.min(at)));
        }
    }
}

/// The future of an async step; it may hold the world across its `.await`s.
pub type StepFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// A sync step function.
pub type SyncStepFn = Arc<dyn Fn(&mut World, StepContext<'_>) + Send + Sync>;

/// An async step function.
pub type AsyncStepFn =
    Arc<dyn for<'a> Fn(&'a mut World, StepContext<'a>) -> StepFuture<'a> + Send + Sync>;

/// A step's function.
#[derive(Clone)]
pub(crate) enum StepFn {
    Sync(SyncStepFn),
    Async(AsyncStepFn),
}

/// One registered step.
#[derive(Clone)]
pub(crate) struct Step {
    /// The step's name (`plugin::step`).
    pub(crate) name: Arc<str>,
    pub(crate) run: StepFn,
}

/// Every registered step, by [`PhaseStep`], in registration order.
#[derive(Clone, Default)]
pub(crate) struct PhaseSteps {
    lists: [Vec<Step>; PhaseStep::ALL.len()],
}

impl PhaseSteps {
    /// Adds `step` at `at`.
    pub(crate) fn push(&mut self, at: PhaseStep, step: Step) {
        self.lists[at.index()].push(step);
    }

    /// Whether any step is registered at `at` (one branch per batch on the hot path).
    pub(crate) fn has(&self, at: PhaseStep) -> bool {
        !self.lists[at.index()].is_empty()
    }

    /// The names of the steps at `at`, in the order they run.
    pub(crate) fn names(&self, at: PhaseStep) -> Vec<Arc<str>> {
        self.lists[at.index()]
            .iter()
            .map(|step| step.name.clone())
            .collect()
    }

    /// Runs the steps of `context.step()`; async ones are awaited in turn.
    pub(crate) async fn run(&self, world: &mut World, context: StepContext<'_>) {
        for step in &self.lists[context.step.index()] {
            match &step.run {
                StepFn::Sync(run) => run(world, context),
                StepFn::Async(run) => run(world, context).await,
            }
        }
    }

    /// Runs the sync steps of `context.step()` (only sync ones can be registered at
    /// `AfterOperation` and `StopRequested`).
    pub(crate) fn run_sync(&self, world: &mut World, context: StepContext<'_>) {
        for step in &self.lists[context.step.index()] {
            if let StepFn::Sync(run) = &step.run {
                run(world, context);
            }
        }
    }
}
