//! What the hook schedule currently running is about: the phase, its targets, the hook.

use std::sync::Arc;

use bevy_ecs::entity::Entity;
use bevy_ecs::resource::Resource;
use lifecycle_ecs_components::{HookType, LifecycleFlags, LifecycleState, Operation};

/// A real state change that ON_STATE_CHANGE hooks are told about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateChange {
    /// The state before.
    pub old: LifecycleState,
    /// The state after (the targets are in it now).
    pub new: LifecycleState,
}

/// The hook system running right now.
#[derive(Clone, Debug)]
pub struct ActiveHook {
    /// The hook's slot in its schedule (unique per engine).
    pub slot: u32,
    /// The hook's name.
    pub name: Arc<str>,
    /// The kind it is registered for.
    pub kind: &'static str,
    /// The hook's type.
    pub hook_type: HookType,
    /// The hook's own timeout for its async work (`None`: the engine's default).
    pub timeout: Option<core::time::Duration>,
}

/// The state and depth a target must have (`None`: any), copied out of [`PhaseContext`] so hot
/// loops keep it in registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TargetFilter {
    state: Option<LifecycleState>,
    depth: Option<u8>,
}

impl TargetFilter {
    /// Whether a service in `state` with `flags` passes.
    #[inline(always)]
    pub fn admits(self, state: LifecycleState, flags: LifecycleFlags) -> bool {
        self.state.is_none_or(|wanted| wanted == state)
            && self.depth.is_none_or(|wanted| wanted == flags.depth())
    }
}

/// Which services the hooks of the running schedule must visit, and how to find them.
///
/// The scheduler fills this in before it runs a hook schedule; [`Targets`](crate::Targets) reads
/// it. Targets are either *dense* (every service of the hook's kind whose state and tree depth match
/// is visited: a linear scan that wins when much of the fleet moves) or *sparse* (an explicit list,
/// visited in order: O(k) when few services move among many). The scheduler picks per batch.
///
/// # Example
/// ```
/// use lifecycle_ecs_components::{LifecycleFlags, LifecycleState, Operation};
/// use lifecycle_ecs_systems::PhaseContext;
/// let mut context = PhaseContext::default();
/// context.begin_dense(Some(Operation::Initialize), Some(LifecycleState::Initializing), Some(0));
/// assert!(context.admits(LifecycleState::Initializing, LifecycleFlags::at_depth(0)));
/// assert!(!context.admits(LifecycleState::Initializing, LifecycleFlags::at_depth(1)));
/// assert!(!context.admits(LifecycleState::Created, LifecycleFlags::at_depth(0)));
/// ```
#[derive(Resource, Default, Debug)]
pub struct PhaseContext {
    operation: Option<Operation>,
    state: Option<LifecycleState>,
    depth: Option<u8>,
    sparse: bool,
    targets: Vec<Entity>,
    change: Option<StateChange>,
    hook: Option<ActiveHook>,
    trace_services: bool,
}

impl PhaseContext {
    /// Targets every service in `state` (any state if `None`) at tree `depth` (any if `None`).
    pub fn begin_dense(
        &mut self,
        operation: Option<Operation>,
        state: Option<LifecycleState>,
        depth: Option<u8>,
    ) {
        self.operation = operation;
        self.state = state;
        self.depth = depth;
        self.sparse = false;
        self.targets.clear();
        self.change = None;
        self.trace_services = tracing::enabled!(tracing::Level::TRACE);
    }

    /// Targets the listed services that are in `state` (any state if `None`), in list order.
    pub fn begin_sparse(
        &mut self,
        operation: Option<Operation>,
        state: Option<LifecycleState>,
        targets: &[Entity],
    ) {
        self.begin_dense(operation, state, None);
        self.sparse = true;
        self.targets.extend_from_slice(targets);
    }

    /// Marks the targets as having just changed state (for ON_STATE_CHANGE hooks).
    pub fn set_change(&mut self, change: Option<StateChange>) {
        self.change = change;
    }

    /// Clears the targets and the running hook (no hook schedule is running).
    pub fn end(&mut self) {
        self.operation = None;
        self.state = None;
        self.depth = None;
        self.sparse = false;
        self.targets.clear();
        self.change = None;
        self.hook = None;
    }

    /// The operation whose phase is running, if any.
    pub fn operation(&self) -> Option<Operation> {
        self.operation
    }

    /// The state change being reported to ON_STATE_CHANGE hooks, if any.
    pub fn change(&self) -> Option<StateChange> {
        self.change
    }

    /// The explicit target list, when targets are sparse.
    pub fn sparse_targets(&self) -> Option<&[Entity]> {
        self.sparse.then_some(self.targets.as_slice())
    }

    /// Whether a service in `state` with `flags` is a target (the list aside).
    #[inline]
    pub fn admits(&self, state: LifecycleState, flags: LifecycleFlags) -> bool {
        self.filter().admits(state, flags)
    }

    /// The state/depth filter as a small copyable value, for hot loops.
    #[inline]
    pub fn filter(&self) -> TargetFilter {
        TargetFilter {
            state: self.state,
            depth: self.depth,
        }
    }

    /// Whether per-service `trace` spans are on (decided once per phase).
    pub fn trace_services(&self) -> bool {
        self.trace_services
    }

    /// The hook running now, if any.
    pub fn hook(&self) -> Option<&ActiveHook> {
        self.hook.as_ref()
    }

    /// Sets the hook running now.
    pub fn set_hook(&mut self, hook: Option<ActiveHook>) {
        self.hook = hook;
    }
}
