//! The scheduler: moves batches of services through a phase, level by level of the lifecycle tree.
//!
//! One operation over a batch runs in this order (AIPerf's, verified by running it):
//!
//! | operation  | order |
//! |---|---|
//! | initialize | → INITIALIZING; children (a nested batch); kind hooks (base kinds first); attached hooks; → INITIALIZED |
//! | start      | → STARTING; children; kind hooks; attached hooks; → RUNNING |
//! | stop       | → STOPPING; attached hooks (reversed); kind hooks (derived first, reversed); children (reverse attach order); → STOPPED |
//!
//! Across siblings a batch goes *hook by hook*, not service by service: every child of the batch
//! runs hook 1, then every child runs hook 2, and so on. A failure anywhere in a phase lets the
//! phase's remaining hooks run (collect-all); then the failed services take the stop path and end
//! FAILED with one exit error for the phase. A failed child fails its parent (AIPerf leaves the
//! parent stuck in its transient state; this engine fails it with an error naming the children).
//!
//! The exit error's `operation` is the title of the state at failure (AIPerf's `fail()`): the
//! phase's transient state, or the final state when an ON_STATE_CHANGE hook failed on entering it;
//! a failure from a named operation scope ([`try_operation`](crate::try_operation)) is recorded
//! under the scope's name instead, once, and logged `Failed to <name>: <error>` at `error` level.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;
use tracing::Instrument;

use bevy_ecs::entity::{Entity, EntityHashMap, EntityHashSet};
use lifecycle_ecs_components::{
    ErrorDetails, ExitErrorInfo, ExitErrors, HOOK_ERRORS_TYPE, HookError, HookFailure,
    HookFailures, HookType, InvalidStateError, LifecycleFlags, LifecycleParent, LifecycleState,
    LifecycleTree, Operation, OperationError, ServiceId,
};
use lifecycle_ecs_systems::transition::Refusals;
use lifecycle_ecs_systems::{HookFutures, HookProgress, PhaseContext, RunningHooks, StateChange};

use crate::abandoned_operation::OperationGuard;
use crate::engine::Engine;
use crate::failure_log::FailureLog;
use crate::phase_guard::PhaseGuard;
use crate::phase_step::{PhaseStep, StepContext};
use crate::report::{FailedService, InitializeAndStartReport, OperationReport};
use crate::selection::Selection;

/// A sparse batch is visited by list while `len × SPARSE_RATIO < services`, else by a dense scan.
const SPARSE_RATIO: usize = 16;

/// Whether a sparse batch of `len` services among `services` is visited by its list (else by a
/// dense scan of the state column): lists in attach order always are; others while
/// `len × SPARSE_RATIO < services`.
fn visits_by_list(len: usize, services: usize, ordered: bool) -> bool {
    ordered || len.saturating_mul(SPARSE_RATIO) < services
}

/// The services of one tree level that are in one transient state together.
pub(crate) struct Batch {
    depth: u8,
    state: LifecycleState,
    members: Members,
}

enum Members {
    /// Every service at `depth` in `state`; the count.
    Dense(usize),
    /// Exactly these services. `ordered` lists (children, in attach order or its reverse) are
    /// always visited in list order; others may be scanned densely when large.
    Sparse { list: Vec<Entity>, ordered: bool },
}

impl Batch {
    fn is_empty(&self) -> bool {
        match &self.members {
            Members::Dense(count) => *count == 0,
            Members::Sparse { list, .. } => list.is_empty(),
        }
    }
}

enum Candidates {
    /// Every service at the level's depth (used for the roots of an operation on all services).
    All,
    /// These services; `ordered` when they are children in (reverse) attach order.
    List { list: Vec<Entity>, ordered: bool },
}

/// The state of one operation while it runs.
struct Run {
    report: OperationReport,
    /// Explicitly selected services by tree depth, not yet reached.
    pending: BTreeMap<u8, Vec<Entity>>,
    /// Every service that ended FAILED, in order.
    failed: Vec<Entity>,
    /// Above zero while running a fail path: its stops do not count as the operation's moves,
    /// and the services they ignore are accounted for already.
    fail_path: u32,
    /// The `error` log of failures under named operation scopes.
    log: FailureLog,
    /// Services this operation finished for a dropped one (listed already; see
    /// `finish_abandoned`).
    recovered: EntityHashSet,
}

/// One failed service of a phase: the parts of its exit error.
struct PhaseFailure {
    entity: Entity,
    /// AIPerf's comma-joined `"<Kind>.<hook>: <error>"` of its failures (but `scope`).
    message: String,
    /// Its first failure that came out of a named operation scope: it names the exit error.
    scope: Option<OperationError>,
}

/// Separates a scoped exit error's message from the phase's other failures.
const ALSO_FAILED: &str = "; also failed: ";

/// How the services a hook targets are found: a whole batch, or a list (those that just changed
/// state, for ON_STATE_CHANGE hooks). Not bevy's `Changed` filter.
enum Movers<'a> {
    Batch(&'a Batch),
    List(&'a [Entity]),
}

impl Engine {
    /// Initializes the selected services: CREATED → INITIALIZING → INITIALIZED, running ON_INIT
    /// hooks (children first). Services in other states are ignored or refused as AIPerf's table
    /// says; see [`OperationReport`].
    ///
    /// # Panics
    /// Panics if async hook work must be awaited while the calling thread is in a
    /// current-thread tokio runtime's context: use [`initialize_async`](Self::initialize_async) there.
    pub fn initialize(&mut self, selection: impl Into<Selection>) -> OperationReport {
        self.run_blocking(Operation::Initialize, selection.into())
    }

    /// Starts the selected services: INITIALIZED → STARTING → RUNNING, running ON_START hooks.
    ///
    /// # Panics
    /// Panics if async hook work must be awaited while the calling thread is in a
    /// current-thread tokio runtime's context: use [`start_async`](Self::start_async) there.
    pub fn start(&mut self, selection: impl Into<Selection>) -> OperationReport {
        self.run_blocking(Operation::Start, selection.into())
    }

    /// Stops the selected services: → STOPPING → STOPPED, running ON_STOP hooks in reverse, then
    /// children in reverse attach order. Gated by the stop-requested flag only: works from CREATED,
    /// and a second stop is ignored.
    ///
    /// # Panics
    /// Panics if async hook work must be awaited while the calling thread is in a
    /// current-thread tokio runtime's context: use [`stop_async`](Self::stop_async) there.
    pub fn stop(&mut self, selection: impl Into<Selection>) -> OperationReport {
        self.run_blocking(Operation::Stop, selection.into())
    }

    /// [`initialize`](Self::initialize) for async code: awaits the hooks' futures instead of
    /// blocking on the engine's runtime.
    ///
    /// # Cancel safety
    /// Dropping the future (a `timeout`, a `select!`) cancels the operation at the `.await` it is
    /// parked on: the hook futures it awaits are dropped and no further hook runs. The engine
    /// stays consistent: later phases run every hook, and the next operation (whatever its
    /// selection) first finishes the services caught mid-phase and lists each once in its
    /// report: one caught in INITIALIZING or STARTING is `cancelled` (it takes the stop path, as
    /// if a stop request had withdrawn it), one caught in STOPPING is `failed` (its remaining stop
    /// hooks do not run; its children are stopped; its exit error has type
    /// [`ABANDONED_ERROR_TYPE`](crate::ABANDONED_ERROR_TYPE)). Until then they stay in their
    /// transient state.
    pub async fn initialize_async(&mut self, selection: impl Into<Selection>) -> OperationReport {
        self.run_operation_async(Operation::Initialize, selection.into())
            .await
    }

    /// [`start`](Self::start) for async code.
    ///
    /// # Cancel safety
    /// As [`initialize_async`](Self::initialize_async).
    pub async fn start_async(&mut self, selection: impl Into<Selection>) -> OperationReport {
        self.run_operation_async(Operation::Start, selection.into())
            .await
    }

    /// [`stop`](Self::stop) for async code.
    ///
    /// # Cancel safety
    /// As [`initialize_async`](Self::initialize_async): the services whose stop was cut short
    /// end FAILED at the next operation.
    pub async fn stop_async(&mut self, selection: impl Into<Selection>) -> OperationReport {
        self.run_operation_async(Operation::Stop, selection.into())
            .await
    }

    /// Runs an operation from synchronous code: without async hook work this never touches the
    /// runtime; otherwise it blocks on the engine's runtime until the hooks' futures are done.
    ///
    /// # Panics
    /// Panics if async hook work must be awaited while the calling thread is in a
    /// current-thread tokio runtime's context (use the `_async` operations there).
    fn run_blocking(&mut self, operation: Operation, selection: Selection) -> OperationReport {
        let async_method = match operation {
            Operation::Initialize => "`Engine::initialize_async(…).await`",
            Operation::Start => "`Engine::start_async(…).await`",
            Operation::Stop => "`Engine::stop_async(…).await`",
        };
        let runtime = self.bridge.runtime().clone();
        runtime.block_on_for(async_method, self.run_operation_async(operation, selection))
    }

    /// Initializes, then starts, the selected services (AIPerf's `initialize_and_start`).
    ///
    /// A service that initialize refused gets an exit error with operation `"Initialize"` and is
    /// not started; one that start refuses gets one with operation `"Start"`. Each refusal is
    /// logged once at `error` level, `Failed to initialize: <error>` / `Failed to start: <error>`
    /// (the first 100 services of a step one by one, then one line counting the rest). Services
    /// that failed initialize (they have their phase's exit error already) or that a stop request
    /// withdrew from it (a cancellation, not an error: [`OperationReport::cancelled`]) are not
    /// started either, and get no exit error from the start step.
    ///
    /// # Panics
    /// As [`initialize`](Self::initialize): if async hook work must be awaited while the calling
    /// thread is already inside a tokio runtime (use
    /// [`initialize_and_start_async`](Self::initialize_and_start_async) there).
    pub fn initialize_and_start(
        &mut self,
        selection: impl Into<Selection>,
    ) -> InitializeAndStartReport {
        let runtime = self.bridge.runtime().clone();
        runtime.block_on_for(
            "`Engine::initialize_and_start_async(…).await`",
            self.initialize_and_start_async(selection.into()),
        )
    }

    /// [`initialize_and_start`](Self::initialize_and_start) for async code.
    ///
    /// # Cancel safety
    /// As the `_async` operations: dropping the future mid-phase leaves the engine consistent, and
    /// the start step then does not run.
    pub async fn initialize_and_start_async(
        &mut self,
        selection: impl Into<Selection>,
    ) -> InitializeAndStartReport {
        let selection = selection.into();
        let initialize = self
            .run_operation_async(Operation::Initialize, selection.clone())
            .await;
        let skip: EntityHashSet = initialize
            .invalid
            .iter()
            .map(|error| error.entity)
            .chain(initialize.failed_entities())
            .chain(initialize.cancelled.iter().copied())
            .collect();
        self.record_refused_step("Initialize", &initialize.invalid);
        let start_selection = match selection {
            Selection::All => Selection::All,
            Selection::Many(list) if skip.is_empty() => Selection::Many(list),
            Selection::Many(list) => {
                Selection::Many(list.into_iter().filter(|e| !skip.contains(e)).collect())
            }
        };
        let mut start = self
            .run_operation_async(Operation::Start, start_selection)
            .await;
        if !skip.is_empty() {
            start.invalid.retain(|error| !skip.contains(&error.entity));
        }
        self.record_refused_step("Start", &start.invalid);
        InitializeAndStartReport { initialize, start }
    }

    /// Records and logs the exit error of each service a step of `initialize_and_start` refused.
    fn record_refused_step(&mut self, operation: &str, refused: &[InvalidStateError]) {
        let mut log = FailureLog::default();
        for error in refused {
            let message = error.to_string();
            log.failed(&error.service_id.to_string(), operation, &message);
            self.record_operation_error(error.entity, operation, "InvalidStateError", message);
        }
        log.finish();
    }

    /// Records an exit error `{type: kind, message}` for `operation` on a service.
    pub(crate) fn record_operation_error(
        &mut self,
        entity: Entity,
        operation: &str,
        kind: &str,
        message: String,
    ) {
        let service_id = self.world.get::<ServiceId>(entity).map(ToString::to_string);
        let info = ExitErrorInfo {
            error_details: ErrorDetails {
                code: None,
                error_type: Some(kind.to_owned()),
                message,
            },
            operation: operation.to_owned(),
            service_id,
        };
        self.push_exit_error(entity, info);
    }

    /// Runs one operation. Its future may be dropped at any `.await`: the guard then marks the
    /// engine, and the next operation finishes what this one left (`finish_abandoned`).
    async fn run_operation_async(
        &mut self,
        operation: Operation,
        selection: Selection,
    ) -> OperationReport {
        let mut engine = OperationGuard::new(self, operation);
        let span = tracing::info_span!("operation", operation = operation.verb());
        let report = engine
            .run_operation(operation, selection)
            .instrument(span)
            .await;
        engine.finish();
        report
    }

    async fn run_operation(
        &mut self,
        operation: Operation,
        selection: Selection,
    ) -> OperationReport {
        let started = Instant::now();
        // The phases read their failures back: the window must not drop them meanwhile.
        let failures_hold = self.world.resource::<HookFailures>().hold();
        self.collect_stop_requests();
        if self.steps.has(PhaseStep::BeforeOperation) {
            let context = StepContext::global(PhaseStep::BeforeOperation, Some(operation));
            self.steps.run(&mut self.world, context).await;
        }
        crate::operation_despawns::watch(&mut self.world, operation);
        let mut run = Run {
            report: OperationReport::new(operation),
            pending: BTreeMap::new(),
            failed: Vec::new(),
            fail_path: 0,
            log: FailureLog::default(),
            recovered: EntityHashSet::default(),
        };
        self.finish_abandoned(&mut run).await;
        let every_service = matches!(selection, Selection::All);
        match selection {
            Selection::All => {
                self.run_level(operation, 0, Candidates::All, true, &mut run)
                    .await;
            }
            Selection::Many(list) => {
                let mut seen = EntityHashSet::default();
                let dedupe = list.len() > 1;
                for entity in list
                    .into_iter()
                    .filter(|entity| !dedupe || seen.insert(*entity))
                {
                    match self.world.get::<LifecycleFlags>(entity) {
                        Some(flags) => run.pending.entry(flags.depth()).or_default().push(entity),
                        None => run.report.not_services.push(entity),
                    }
                }
                while let Some((depth, list)) = run.pending.pop_first() {
                    let candidates = Candidates::List {
                        list,
                        ordered: false,
                    };
                    self.run_level(operation, depth, candidates, false, &mut run)
                        .await;
                }
            }
        }
        self.count_despawned(&mut run);
        self.forget_carried_out_stops(operation == Operation::Stop && every_service);
        std::mem::take(&mut run.log).finish();
        let mut report = run.report;
        report.failed = run
            .failed
            .iter()
            .map(|&entity| FailedService {
                entity,
                service_id: self
                    .world
                    .get::<ServiceId>(entity)
                    .cloned()
                    .unwrap_or_default(),
                exit_errors: self.exit_errors(entity).to_vec(),
            })
            .collect();
        if !report.failed.is_empty() {
            tracing::warn!(
                operation = operation.verb(),
                failed = report.failed.len(),
                moved = report.moved,
                "{} of the services failed to {}",
                report.failed.len(),
                operation.verb()
            );
        }
        self.after_operation(operation);
        self.world
            .resource_mut::<HookFailures>()
            .release(failures_hold);
        report.elapsed = started.elapsed();
        report
    }

    fn has_state_change_hooks(&self) -> bool {
        self.hooks.has(HookType::OnStateChange) || self.attached.has(HookType::OnStateChange)
    }

    fn failure_count(&self) -> usize {
        self.world.resource::<HookFailures>().mark()
    }

    /// Classifies one tree level's candidates, then runs the phase for the movers. `all` marks an
    /// operation on every service: its children step then reaches every service one level down.
    async fn run_level(
        &mut self,
        operation: Operation,
        depth: u8,
        candidates: Candidates,
        all: bool,
        run: &mut Run,
    ) -> Vec<Entity> {
        let phase_start = self.failure_count();
        let state_hooks = self.has_state_change_hooks();
        let transient = operation.transient_state();
        let mut refusals = Refusals::default();
        let mut old_states = Vec::new();
        let batch = match candidates {
            Candidates::All => {
                let want_old = state_hooks && operation == Operation::Stop;
                let count = self.transitions.classify_dense(
                    &mut self.world,
                    operation,
                    depth,
                    &mut refusals,
                    want_old.then_some(&mut old_states),
                );
                Batch {
                    depth,
                    state: transient,
                    members: Members::Dense(count),
                }
            }
            Candidates::List { list, ordered } => {
                self.transitions.classify_sparse(
                    &mut self.world,
                    operation,
                    &list,
                    &mut refusals,
                    &mut old_states,
                );
                drop(list);
                let movers = if state_hooks && operation == Operation::Stop {
                    old_states.iter().map(|(entity, _)| *entity).collect()
                } else {
                    // Only a stop's state-change hooks need the old states: otherwise the list
                    // becomes the movers in place (no second list per child level).
                    std::mem::take(&mut old_states)
                        .into_iter()
                        .map(|(entity, _)| entity)
                        .collect()
                };
                Batch {
                    depth,
                    state: transient,
                    members: Members::Sparse {
                        list: movers,
                        ordered,
                    },
                }
            }
        };
        // A fail path's stop reaches services that are accounted for already (failed, moved, or
        // finished for a dropped operation).
        if run.fail_path == 0 {
            if run.recovered.is_empty() {
                run.report.ignored.extend(refusals.ignored);
                run.report.invalid.extend(refusals.invalid);
            } else {
                let recovered = &run.recovered;
                run.report.ignored.extend(
                    refusals
                        .ignored
                        .into_iter()
                        .filter(|entity| !recovered.contains(entity)),
                );
                run.report.invalid.extend(
                    refusals
                        .invalid
                        .into_iter()
                        .filter(|error| !recovered.contains(&error.entity)),
                );
            }
        }
        if state_hooks && !batch.is_empty() {
            match operation {
                Operation::Initialize => {
                    self.fire_state_change(
                        Movers::Batch(&batch),
                        LifecycleState::Created,
                        transient,
                    )
                    .await;
                }
                Operation::Start => {
                    self.fire_state_change(
                        Movers::Batch(&batch),
                        LifecycleState::Initialized,
                        transient,
                    )
                    .await;
                }
                Operation::Stop => {
                    for old in LifecycleState::ALL {
                        let group: Vec<Entity> = old_states
                            .iter()
                            .filter(|(_, state)| *state == old)
                            .map(|(entity, _)| *entity)
                            .collect();
                        if !group.is_empty() {
                            self.fire_state_change(Movers::List(&group), old, transient)
                                .await;
                        }
                    }
                }
            }
        }
        self.run_batch(operation, batch, all, phase_start, run)
            .await
    }

    /// Runs a batch's phase steps in AIPerf's order, then settles it. Returns the services of the
    /// batch that ended FAILED.
    async fn run_batch(
        &mut self,
        operation: Operation,
        batch: Batch,
        all: bool,
        phase_start: usize,
        run: &mut Run,
    ) -> Vec<Entity> {
        let hook_type = operation.hook_type();
        // The plugins' start step (background tasks are launched here, before children).
        self.run_batch_steps(PhaseStep::PhaseStart, operation, &batch)
            .await;
        match operation {
            Operation::Initialize | Operation::Start => {
                self.children_step(operation, &batch, all, run).await;
                self.run_kind_hooks(hook_type, &batch).await;
                self.run_attached_hooks(hook_type, &batch);
            }
            Operation::Stop => {
                self.run_attached_hooks(hook_type, &batch);
                self.run_kind_hooks(hook_type, &batch).await;
                self.children_step(operation, &batch, all, run).await;
            }
        }
        // The plugins' end step (background tasks end here, after the children stopped).
        self.run_batch_steps(PhaseStep::PhaseEnd, operation, &batch)
            .await;
        self.settle(operation, batch, phase_start, run).await
    }

    /// The built-in children hook: the same operation as a nested batch one level down. Failed
    /// children fail their parents (a `ChildrenFailed` error naming them).
    async fn children_step(
        &mut self,
        operation: Operation,
        batch: &Batch,
        all: bool,
        run: &mut Run,
    ) {
        let Some(next_depth) = batch.depth.checked_add(1) else {
            return;
        };
        if batch.depth >= self.max_depth && run.pending.is_empty() {
            return;
        }
        let reverse = operation == Operation::Stop;
        let mut list = Vec::new();
        if all {
            // Every service one level down, grouped by parent in (reverse) attach order.
            let depth = batch.depth;
            let tree = self.world.resource::<LifecycleTree>();
            for (parent, children) in tree.parents() {
                if self
                    .world
                    .get::<LifecycleFlags>(parent)
                    .is_some_and(|flags| flags.depth() == depth)
                {
                    extend_children(&mut list, children, reverse);
                }
            }
        } else if let Members::Sparse { list: parents, .. } = &batch.members {
            let tree = self.world.resource::<LifecycleTree>();
            for &parent in parents {
                extend_children(&mut list, tree.children(parent), reverse);
            }
        }
        if run.fail_path == 0
            && let Some(extra) = run.pending.remove(&next_depth)
        {
            let children: EntityHashSet = list.iter().copied().collect();
            list.extend(
                extra
                    .into_iter()
                    .filter(|entity| !children.contains(entity)),
            );
        }
        if list.is_empty() {
            return;
        }
        let candidates = Candidates::List {
            list,
            ordered: true,
        };
        let failed_children =
            Box::pin(self.run_level(operation, next_depth, candidates, all, run)).await;
        if failed_children.is_empty() {
            return;
        }
        let mut blamed: Vec<(Entity, Vec<ServiceId>)> = Vec::new();
        let mut index: EntityHashMap<usize> = EntityHashMap::default();
        for child in failed_children {
            let Some(&LifecycleParent(parent)) = self.world.get::<LifecycleParent>(child) else {
                continue;
            };
            if !self.in_batch(parent, batch.state, batch.depth) {
                continue;
            }
            let child_id = self
                .world
                .get::<ServiceId>(child)
                .cloned()
                .unwrap_or_default();
            let slot = *index.entry(parent).or_insert_with(|| {
                blamed.push((parent, Vec::new()));
                blamed.len() - 1
            });
            blamed[slot].1.push(child_id);
        }
        let hook_name: std::sync::Arc<str> = match operation {
            Operation::Initialize => "initialize_children".into(),
            Operation::Start => "start_children".into(),
            Operation::Stop => "stop_children".into(),
        };
        for (parent, children) in blamed {
            let service_id = self
                .world
                .get::<ServiceId>(parent)
                .cloned()
                .unwrap_or_default();
            self.world.resource_mut::<HookFailures>().push(HookFailure {
                entity: parent,
                service_id,
                hook: hook_name.clone(),
                hook_type: operation.hook_type(),
                error: HookError::ChildrenFailed(children),
            });
        }
    }

    fn in_batch(&self, entity: Entity, state: LifecycleState, depth: u8) -> bool {
        self.world.get::<LifecycleState>(entity) == Some(&state)
            && self
                .world
                .get::<LifecycleFlags>(entity)
                .is_some_and(|f| f.depth() == depth)
    }

    /// Points the phase context at a batch's services (dense or sparse, whichever is cheaper).
    fn target_batch(
        &mut self,
        operation: Option<Operation>,
        state: LifecycleState,
        changed: &Movers<'_>,
    ) {
        let services = self.service_count();
        // In a flat fleet every service is at depth 0: hooks then skip the depth check.
        let flat = self.max_depth == 0;
        let mut context = self.world.resource_mut::<PhaseContext>();
        match changed {
            Movers::Batch(Batch {
                depth,
                members: Members::Dense(_),
                ..
            }) => {
                context.begin_dense(operation, Some(state), (!flat).then_some(*depth));
            }
            Movers::Batch(Batch {
                depth,
                members: Members::Sparse { list, ordered },
                ..
            }) => {
                if !visits_by_list(list.len(), services, *ordered) {
                    context.begin_dense(operation, Some(state), (!flat).then_some(*depth));
                } else {
                    context.begin_sparse(operation, Some(state), list);
                }
            }
            Movers::List(list) => context.begin_sparse(operation, Some(state), list),
        }
    }

    async fn run_kind_hooks(&mut self, hook_type: HookType, batch: &Batch) {
        if batch.is_empty() || !self.hooks.has(hook_type) {
            return;
        }
        let operation = Operation::of_state(batch.state);
        self.target_batch(operation, batch.state, &Movers::Batch(batch));
        self.run_hook_schedule(hook_type).await;
    }

    /// Runs the schedule of `hook_type` for the targets already in the phase context, then ends
    /// the phase (also if this future is dropped: see [`PhaseGuard`]). A hook that hands over
    /// futures pauses the schedule after it: the futures run (capped) on the runtime, their
    /// failures are recorded, and the schedule resumes with the next hook.
    pub(crate) async fn run_hook_schedule(&mut self, hook_type: HookType) {
        let mut phase = PhaseGuard::new(self);
        let engine = &mut *phase;
        engine.withdraw_requested_targets();
        loop {
            engine.hooks.run(hook_type, &mut engine.world);
            if !engine.await_handed_over_futures().await {
                break;
            }
            engine.withdraw_requested_targets();
        }
    }

    /// If the schedule that just ran paused for futures, runs them and records their failures;
    /// returns whether it had paused (so it must run again).
    pub(crate) async fn await_handed_over_futures(&mut self) -> bool {
        if !self.world.resource_mut::<HookProgress>().take_blocked() {
            return false;
        }
        let queued = self.world.resource_mut::<HookFutures>().take();
        let running = self.world.resource::<RunningHooks>().clone();
        // A stop phase's hooks are the clean-up: a stop request never cancels them.
        let cancellable =
            self.world.resource::<PhaseContext>().operation() != Some(Operation::Stop);
        let result = self.bridge.run_all(queued, &running, cancellable).await;
        let mut records = self.world.resource_mut::<HookFailures>();
        for failure in result.failures {
            records.push(failure);
        }
        if !result.cancelled.is_empty() {
            tracing::debug!(
                cancelled = result.cancelled.len(),
                "hook futures cancelled by a stop request"
            );
        }
        self.pending_stops.merge(result.stops);
        if self.steps.has(PhaseStep::Barrier) {
            let operation = self.world.resource::<PhaseContext>().operation();
            let context = StepContext::global(PhaseStep::Barrier, operation);
            self.steps.run(&mut self.world, context).await;
        }
        true
    }

    /// Runs the plugins' steps at `step` for `batch` (once per batch, never per service).
    async fn run_batch_steps(&mut self, step: PhaseStep, operation: Operation, batch: &Batch) {
        if batch.is_empty() || !self.steps.has(step) {
            return;
        }
        let context = match &batch.members {
            Members::Dense(_) => StepContext::dense(step, operation, batch.depth, batch.state),
            Members::Sparse { list, .. } => StepContext::list(step, Some(operation), list),
        };
        self.steps.run(&mut self.world, context).await;
    }

    /// Runs the plugins' `AfterOperation` steps (sync: they also run when an operation's future
    /// is dropped).
    pub(crate) fn after_operation(&mut self, operation: Operation) {
        if self.steps.has(PhaseStep::AfterOperation) {
            let context = StepContext::global(PhaseStep::AfterOperation, Some(operation));
            self.steps.run_sync(&mut self.world, context);
        }
    }

    /// Takes the stop requests that arrived through the [`StopHandle`](crate::StopHandle).
    pub(crate) fn collect_stop_requests(&mut self) {
        if let Some(stops) = self.bridge.stop_handle().take() {
            self.pending_stops.merge(stops);
        }
    }

    /// During an `initialize` or `start` phase: the phase's services whose stop was requested
    /// leave it (to STOPPING), so no further hook of the phase runs for them; `settle` sends them
    /// down the stop path.
    fn withdraw_requested_targets(&mut self) {
        if self.pending_stops.is_empty() {
            return;
        }
        let context = self.world.resource::<PhaseContext>();
        let Some(operation @ (Operation::Initialize | Operation::Start)) = context.operation()
        else {
            return;
        };
        let candidates: Vec<Entity> = if self.pending_stops.all() {
            match context.sparse_targets() {
                Some(list) => list.to_vec(),
                None => self
                    .transitions
                    .collect_in_state(&mut self.world, operation.transient_state()),
            }
        } else {
            self.pending_stops.services().to_vec()
        };
        let context = self.world.resource::<PhaseContext>();
        let leaving: Vec<(Entity, u8)> = candidates
            .into_iter()
            .filter_map(|entity| {
                let state = *self.world.get::<LifecycleState>(entity)?;
                let flags = *self.world.get::<LifecycleFlags>(entity)?;
                (state == operation.transient_state() && context.admits(state, flags))
                    .then_some((entity, flags.depth()))
            })
            .collect();
        for &(entity, depth) in &leaving {
            self.transitions
                .set_state(&mut self.world, entity, LifecycleState::Stopping);
            self.withdrawn.push((entity, depth));
        }
    }

    fn run_attached_hooks(&mut self, hook_type: HookType, batch: &Batch) {
        if batch.is_empty() || !self.attached.has(hook_type) {
            return;
        }
        let (state, depth) = (batch.state, batch.depth);
        self.attached
            .run(&mut self.world, hook_type, |world, entity| {
                world.get::<LifecycleState>(entity) == Some(&state)
                    && world
                        .get::<LifecycleFlags>(entity)
                        .is_some_and(|f| f.depth() == depth)
            });
    }

    /// Runs ON_STATE_CHANGE hooks for services that just went `old → new`.
    async fn fire_state_change(
        &mut self,
        changed: Movers<'_>,
        old: LifecycleState,
        new: LifecycleState,
    ) {
        if !self.has_state_change_hooks() {
            return;
        }
        match &changed {
            Movers::Batch(batch) if batch.is_empty() => return,
            Movers::List([]) => return,
            _ => {}
        }
        if self.hooks.has(HookType::OnStateChange) {
            self.target_batch(Operation::of_state(new), new, &changed);
            self.world
                .resource_mut::<PhaseContext>()
                .set_change(Some(StateChange { old, new }));
            self.run_hook_schedule(HookType::OnStateChange).await;
        }
        if self.attached.has(HookType::OnStateChange) {
            match changed {
                Movers::Batch(batch) => self.run_attached_hooks(
                    HookType::OnStateChange,
                    &Batch {
                        depth: batch.depth,
                        state: new,
                        members: Members::Dense(1),
                    },
                ),
                Movers::List(list) => {
                    self.attached
                        .run(&mut self.world, HookType::OnStateChange, |world, entity| {
                            list.contains(&entity)
                                && world.get::<LifecycleState>(entity) == Some(&new)
                        });
                }
            }
        }
    }

    /// The services in `state` at `depth` with failures recorded since `since`, in first-failure
    /// order, each with its exit error's parts (see [`PhaseFailure`]).
    fn failed_since(&self, since: usize, state: LifecycleState, depth: u8) -> Vec<PhaseFailure> {
        self.failed_where(since, |entity| self.in_batch(entity, state, depth))
    }

    /// The services `admit` picks with failures recorded since `since` (see `failed_since`).
    fn failed_where(&self, since: usize, admit: impl Fn(Entity) -> bool) -> Vec<PhaseFailure> {
        let failures = self.world.resource::<HookFailures>().since(since);
        let mut out: Vec<PhaseFailure> = Vec::new();
        let mut index: EntityHashMap<usize> = EntityHashMap::default();
        for failure in failures {
            let slot = match index.get(&failure.entity) {
                Some(&slot) => slot,
                None => {
                    if !admit(failure.entity) {
                        continue;
                    }
                    index.insert(failure.entity, out.len());
                    out.push(PhaseFailure {
                        entity: failure.entity,
                        message: String::new(),
                        scope: None,
                    });
                    out.len() - 1
                }
            };
            let entry = &mut out[slot];
            if entry.scope.is_none()
                && let Some(scope) = failure.error.operation_scope()
            {
                entry.scope = Some(scope.clone());
                continue;
            }
            if !entry.message.is_empty() {
                entry.message.push(',');
            }
            // Writing to a `String` cannot fail.
            let _ = write!(entry.message, "{failure}");
        }
        out
    }

    pub(crate) fn push_exit_error(&mut self, entity: Entity, info: ExitErrorInfo) {
        if tracing::enabled!(tracing::Level::DEBUG) {
            tracing::debug!(
                service = info.service_id.as_deref().unwrap_or("?"),
                operation = %info.operation,
                "failed: {}",
                info.error_details.message
            );
        }
        let Ok(mut service) = self.world.get_entity_mut(entity) else {
            return;
        };
        match service.get_mut::<ExitErrors>() {
            Some(mut errors) => errors.0.push(info),
            None => {
                service.insert(ExitErrors(vec![info]));
            }
        }
    }

    /// Records each failed service's one exit error for the phase: under the phase's `title`
    /// (`"Initializing"`, or the final state's title when an ON_STATE_CHANGE hook failed on
    /// entering it), or under the name of the named operation scope a failure came out of (logged
    /// as `Failed to <name>: <error>`; the phase's other failures are listed in its message).
    fn record_phase_failures(
        &mut self,
        title: &'static str,
        failed: Vec<PhaseFailure>,
        log: &mut FailureLog,
    ) {
        for failure in failed {
            let service_id = self
                .world
                .get::<ServiceId>(failure.entity)
                .map(ToString::to_string);
            let info = match failure.scope {
                None => ExitErrorInfo {
                    error_details: ErrorDetails {
                        code: None,
                        error_type: Some(HOOK_ERRORS_TYPE.to_owned()),
                        message: failure.message,
                    },
                    operation: title.to_owned(),
                    service_id,
                },
                Some(scope) => {
                    let mut message = scope.to_string();
                    log.failed(
                        service_id.as_deref().unwrap_or("?"),
                        scope.operation(),
                        &message,
                    );
                    if !failure.message.is_empty() {
                        message.push_str(ALSO_FAILED);
                        message.push_str(&failure.message);
                    }
                    ExitErrorInfo {
                        error_details: ErrorDetails {
                            code: None,
                            error_type: Some(scope.error_type().to_owned()),
                            message,
                        },
                        operation: scope.operation().to_owned(),
                        service_id,
                    }
                }
            };
            self.push_exit_error(failure.entity, info);
        }
    }

    fn set_states(&mut self, entities: &[Entity], state: LifecycleState) {
        for &entity in entities {
            self.transitions.set_state(&mut self.world, entity, state);
        }
    }

    fn move_batch(&mut self, batch: &Batch, to: LifecycleState, mark: Option<Operation>) -> usize {
        match &batch.members {
            Members::Dense(_) => {
                self.transitions
                    .move_dense(&mut self.world, batch.depth, batch.state, to, mark)
            }
            Members::Sparse { list, .. } => {
                self.transitions
                    .move_sparse(&mut self.world, list, batch.state, to, mark)
            }
        }
    }

    fn mark_batch(&mut self, batch: &Batch, state: LifecycleState, operation: Operation) {
        match &batch.members {
            Members::Dense(_) => {
                self.transitions
                    .mark_dense(&mut self.world, batch.depth, state, operation);
            }
            Members::Sparse { list, .. } => {
                self.transitions
                    .mark_sparse(&mut self.world, list, state, operation);
            }
        }
    }

    /// Ends a batch's phase: the services without failures reach the final state (then its
    /// ON_STATE_CHANGE hooks, then the completion flag); the failed ones take the fail path.
    async fn settle(
        &mut self,
        operation: Operation,
        batch: Batch,
        phase_start: usize,
        run: &mut Run,
    ) -> Vec<Entity> {
        let state_hooks = self.has_state_change_hooks();
        let final_state = operation.final_state();
        let depth = batch.depth;
        let failed = self.failed_since(phase_start, batch.state, depth);
        let failed_entities: Vec<Entity> = failed.iter().map(|failure| failure.entity).collect();
        let mark = (!state_hooks).then_some(operation);

        if operation == Operation::Stop {
            self.set_states(&failed_entities, LifecycleState::Failed);
            self.record_phase_failures(operation.title(), failed, &mut run.log);
            let mut moved = self.move_batch(&batch, final_state, mark);
            let mut all_failed = failed_entities;
            if state_hooks {
                self.fire_state_change(
                    Movers::List(&all_failed),
                    LifecycleState::Stopping,
                    LifecycleState::Failed,
                )
                .await;
                let since = self.failure_count();
                let stopped = Batch {
                    depth,
                    state: final_state,
                    members: batch.members,
                };
                self.fire_state_change(
                    Movers::Batch(&stopped),
                    LifecycleState::Stopping,
                    final_state,
                )
                .await;
                let late = self.failed_since(since, final_state, depth);
                let late_entities: Vec<Entity> =
                    late.iter().map(|failure| failure.entity).collect();
                self.set_states(&late_entities, LifecycleState::Failed);
                // Failed on entering STOPPED: AIPerf records the state at failure, "Stopped".
                self.record_phase_failures(final_state.title(), late, &mut run.log);
                self.fire_state_change(
                    Movers::List(&late_entities),
                    final_state,
                    LifecycleState::Failed,
                )
                .await;
                self.mark_batch(&stopped, final_state, operation);
                moved -= late_entities.len();
                all_failed.extend(late_entities);
            }
            if run.fail_path == 0 {
                run.report.moved += moved;
                run.failed.extend_from_slice(&all_failed);
            }
            return all_failed;
        }

        // Initialize / start. Services a stop request withdrew from the phase are in STOPPING
        // already; those that also failed take the fail path with the others.
        let withdrawn = self.take_withdrawn(depth);
        let (failed, failed_entities) = if withdrawn.is_empty() {
            (failed, failed_entities)
        } else {
            let leaving: EntityHashSet = withdrawn.iter().copied().collect();
            let failed = self.failed_where(phase_start, |entity| {
                leaving.contains(&entity) || self.in_batch(entity, batch.state, depth)
            });
            let entities = failed.iter().map(|failure| failure.entity).collect();
            (failed, entities)
        };
        // Failed services leave the transient state first, so the final move (possibly a dense
        // scan) sees only the successful ones.
        self.set_states(&failed_entities, LifecycleState::Stopping);
        self.request_stops(&failed_entities);
        let mut moved = self.move_batch(&batch, final_state, mark);
        let mut late = Vec::new();
        if state_hooks {
            let since = self.failure_count();
            let finished = Batch {
                depth,
                state: final_state,
                members: batch.members,
            };
            self.fire_state_change(Movers::Batch(&finished), batch.state, final_state)
                .await;
            late = self.failed_since(since, final_state, depth);
            let late_entities: Vec<Entity> = late.iter().map(|failure| failure.entity).collect();
            self.set_states(&late_entities, LifecycleState::Stopping);
            self.request_stops(&late_entities);
            self.mark_batch(&finished, final_state, operation);
            moved -= late.len();
        }
        if run.fail_path == 0 {
            run.report.moved += moved;
        }
        if !withdrawn.is_empty() {
            let failed_set: EntityHashSet = failed_entities.iter().copied().collect();
            let stopping: Vec<Entity> = withdrawn
                .iter()
                .copied()
                .filter(|entity| !failed_set.contains(entity))
                .collect();
            let stop_failed = self
                .stop_withdrawn(batch.state, depth, stopping.clone(), run)
                .await;
            let stop_failed_set: EntityHashSet = stop_failed.iter().copied().collect();
            run.report.cancelled.extend(
                stopping
                    .into_iter()
                    .filter(|entity| !stop_failed_set.contains(entity)),
            );
            run.failed.extend_from_slice(&stop_failed);
        }
        if failed.is_empty() && late.is_empty() {
            return Vec::new();
        }
        let late_entities: Vec<Entity> = late.iter().map(|failure| failure.entity).collect();
        self.record_phase_failures(operation.title(), failed, &mut run.log);
        // Failed on entering the final state: AIPerf records the state at failure ("Running").
        self.record_phase_failures(final_state.title(), late, &mut run.log);

        // The fail path: a stop of the failed services (reverse stop hooks, children), then FAILED.
        let stop_start = self.failure_count();
        if state_hooks {
            self.fire_state_change(
                Movers::List(&failed_entities),
                batch.state,
                LifecycleState::Stopping,
            )
            .await;
            self.fire_state_change(
                Movers::List(&late_entities),
                final_state,
                LifecycleState::Stopping,
            )
            .await;
        }
        let mut all_failed = failed_entities;
        all_failed.extend(late_entities);
        run.fail_path += 1;
        let stop_batch = Batch {
            depth,
            state: LifecycleState::Stopping,
            members: Members::Sparse {
                list: all_failed.clone(),
                ordered: true,
            },
        };
        Box::pin(self.run_batch(Operation::Stop, stop_batch, false, stop_start, run)).await;
        run.fail_path -= 1;
        let stopped: Vec<Entity> = all_failed
            .iter()
            .copied()
            .filter(|&entity| self.state(entity) == Some(LifecycleState::Stopped))
            .collect();
        self.set_states(&stopped, LifecycleState::Failed);
        if state_hooks {
            self.fire_state_change(
                Movers::List(&stopped),
                LifecycleState::Stopped,
                LifecycleState::Failed,
            )
            .await;
        }
        if run.fail_path == 0 {
            run.failed.extend_from_slice(&all_failed);
        }
        all_failed
    }
}

impl Engine {
    /// Takes the services withdrawn from the phase at `depth` by stop requests (their requests
    /// are forgotten when the operation ends: see `forget_carried_out_stops`).
    fn take_withdrawn(&mut self, depth: u8) -> Vec<Entity> {
        if self.withdrawn.is_empty() {
            return Vec::new();
        }
        let mut taken = Vec::new();
        self.withdrawn.retain(|&(entity, at)| {
            if at == depth {
                taken.push(entity);
            }
            at != depth
        });
        taken
    }

    /// The stop path for services a stop request withdrew from an `initialize` or `start` phase
    /// (no exit error: nothing failed). Returns the ones whose stop hooks failed (FAILED).
    async fn stop_withdrawn(
        &mut self,
        from: LifecycleState,
        depth: u8,
        services: Vec<Entity>,
        run: &mut Run,
    ) -> Vec<Entity> {
        if services.is_empty() {
            return Vec::new();
        }
        self.request_stops(&services);
        if self.has_state_change_hooks() {
            self.fire_state_change(Movers::List(&services), from, LifecycleState::Stopping)
                .await;
        }
        let stop_start = self.failure_count();
        let batch = Batch {
            depth,
            state: LifecycleState::Stopping,
            members: Members::Sparse {
                list: services,
                ordered: true,
            },
        };
        run.fail_path += 1;
        let failed = Box::pin(self.run_batch(Operation::Stop, batch, false, stop_start, run)).await;
        run.fail_path -= 1;
        failed
    }
}

impl Engine {
    /// The first step of every operation: finishes the services a dropped operation left
    /// mid-phase (see `abandoned_operation`), deepest level first as a phase goes, and lists each
    /// once in `run`'s report. Costs one flag check when no operation was dropped.
    async fn finish_abandoned(&mut self, run: &mut Run) {
        let Some(levels) = self.take_stranded() else {
            return;
        };
        for (depth, level) in levels {
            for (from, caught) in [
                (LifecycleState::Initializing, level.initializing),
                (LifecycleState::Starting, level.starting),
            ] {
                let caught: Vec<Entity> = caught
                    .into_iter()
                    .filter(|&entity| self.state(entity) == Some(from))
                    .collect();
                if caught.is_empty() {
                    continue;
                }
                // Cancelled, as if a stop request had withdrawn them.
                self.set_states(&caught, LifecycleState::Stopping);
                run.recovered.extend(caught.iter().copied());
                let failed = self.stop_withdrawn(from, depth, caught.clone(), run).await;
                let failed_set: EntityHashSet = failed.iter().copied().collect();
                run.report.cancelled.extend(
                    caught
                        .into_iter()
                        .filter(|entity| !failed_set.contains(entity)),
                );
                run.failed.extend(failed);
            }
            let cut_short: Vec<Entity> = level
                .stopping
                .into_iter()
                .filter(|&entity| self.state(entity) == Some(LifecycleState::Stopping))
                .collect();
            if !cut_short.is_empty() {
                self.fail_cut_short_stops(depth, cut_short, run).await;
            }
        }
    }

    /// The services at `depth` whose stop a dropped operation cut short: their remaining stop
    /// hooks do not run again (they may be what hung), but their children are stopped and their
    /// background tasks ended; then they end FAILED with an exit error saying the stop was
    /// abandoned.
    async fn fail_cut_short_stops(&mut self, depth: u8, services: Vec<Entity>, run: &mut Run) {
        run.recovered.extend(services.iter().copied());
        let batch = Batch {
            depth,
            state: LifecycleState::Stopping,
            members: Members::Sparse {
                list: services.clone(),
                ordered: true,
            },
        };
        run.fail_path += 1;
        self.children_step(Operation::Stop, &batch, false, run)
            .await;
        self.run_batch_steps(PhaseStep::PhaseEnd, Operation::Stop, &batch)
            .await;
        run.fail_path -= 1;
        self.request_stops(&services);
        for &entity in &services {
            let error = self.abandoned_stop_error(entity);
            self.push_exit_error(entity, error);
        }
        self.set_states(&services, LifecycleState::Failed);
        if self.has_state_change_hooks() {
            self.fire_state_change(
                Movers::List(&services),
                LifecycleState::Stopping,
                LifecycleState::Failed,
            )
            .await;
        }
        run.failed.extend(services);
    }

    /// Lists the services despawned while the operation ran in `despawned`, and nowhere else:
    /// out of the other lists, and out of `moved` if they had reached the final state.
    fn count_despawned(&mut self, run: &mut Run) {
        let despawned = crate::operation_despawns::take(&mut self.world);
        if despawned.is_empty() {
            return;
        }
        let gone: EntityHashSet = despawned.iter().map(|record| record.entity).collect();
        let mut listed = EntityHashSet::default();
        let mut keep = |entity: Entity| {
            let despawned = gone.contains(&entity);
            if despawned {
                listed.insert(entity);
            }
            !despawned
        };
        let report = &mut run.report;
        report.ignored.retain(|&entity| keep(entity));
        report.invalid.retain(|error| keep(error.entity));
        report.cancelled.retain(|&entity| keep(entity));
        run.failed.retain(|&entity| keep(entity));
        for record in &despawned {
            if record.reached_final && !listed.contains(&record.entity) {
                report.moved = report.moved.saturating_sub(1);
            }
        }
        report.despawned = despawned.into_iter().map(|record| record.entity).collect();
    }

    /// Forgets the stop requests the operation carried out. After a stop of every service, all
    /// of them, a stop-all included (every service that exists was stopped; services spawned
    /// later are not affected). Otherwise the requests for services whose stop is requested now
    /// (stopping, stopped or failed) or that are gone: each service is stopped once, however
    /// many requests arrived for it.
    fn forget_carried_out_stops(&mut self, stopped_everything: bool) {
        if stopped_everything {
            self.collect_stop_requests();
            self.pending_stops.clear();
            return;
        }
        if self.pending_stops.services().is_empty() {
            return;
        }
        let world = &self.world;
        self.pending_stops.retain(|entity| {
            world
                .get::<LifecycleFlags>(entity)
                .is_some_and(|flags| !flags.stop_requested())
        });
    }
}

fn extend_children(list: &mut Vec<Entity>, children: &[Entity], reverse: bool) {
    if reverse {
        list.extend(children.iter().rev());
    } else {
        list.extend_from_slice(children);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_listed_below_one_sixteenth_of_the_services_and_scanned_from_there() {
        assert!(visits_by_list(62, 1_000, false));
        assert!(
            !visits_by_list(63, 1_008, false),
            "63 × 16 = 1 008: a dense scan"
        );
        assert!(visits_by_list(62, 1_008, false));
        assert!(!visits_by_list(1_000, 1_000, false));
        assert!(
            !visits_by_list(usize::MAX, usize::MAX, false),
            "no overflow"
        );
    }

    #[test]
    fn children_in_attach_order_are_always_listed() {
        assert!(visits_by_list(1_000, 1_000, true));
        assert!(visits_by_list(1, 1, true));
    }
}
