//! Hook registration: one schedule per hook type, hooks ordered by kind then registration.

use std::collections::HashMap;
use std::sync::Arc;

use bevy_ecs::entity::Entity;
use bevy_ecs::schedule::{
    IntoScheduleConfigs, Schedule, ScheduleLabel, SingleThreadedExecutor, SystemSet,
};
use bevy_ecs::system::ScheduleSystem;
use bevy_ecs::world::World;
use lifecycle_ecs_components::{HookType, ServiceKind, UnsupportedHookError};
use lifecycle_ecs_systems::{ActiveHook, enter_hook, exit_hook, hook_ready};

use crate::kind_registry::{KindError, KindInfo};
use crate::plugin_error::PluginMissingError;

/// The label of the schedule that runs every hook of one hook type.
///
/// Hooks are chained in the schedule by kind (base kinds first, following the kinds' C3
/// linearization) and then registration order; the ON_STOP schedule is built reversed. The engine
/// owns these schedules and runs them with the single-threaded executor.
#[derive(ScheduleLabel, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HookSchedule(pub HookType);

#[derive(SystemSet, Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct HookSlot(u32);

/// A hook could not be registered or attached.
#[derive(Debug, thiserror::Error)]
pub enum HookRegistrationError {
    /// The kind (and its bases) does not provide the hook type.
    #[error(transparent)]
    Unsupported(#[from] UnsupportedHookError),
    /// The kind could not be registered.
    #[error(transparent)]
    Kind(#[from] KindError),
    /// A closure has no function name to call the hook by.
    #[error("hook `{type_name}` is a closure: register it with a name (`add_named_hook`)")]
    UnnamedClosure {
        /// The closure's type name.
        type_name: &'static str,
    },
    /// The hook schedule does not build with the new hook (an ordering conflict).
    #[error("the hook schedule does not build: {0}")]
    Schedule(String),
    /// `attach_hook` named an entity that is not a service.
    #[error("{0} is not a service (it has no `Lifecycle`)")]
    NotAService(Entity),
    /// The hook needs a plugin the engine was built without (a background task on a bare
    /// engine).
    #[error(transparent)]
    PluginMissing(#[from] PluginMissingError),
}

/// The name AIPerf would give a hook: its function's last path segment.
///
/// # Errors
/// [`HookRegistrationError::UnnamedClosure`] for closures.
pub fn hook_name_of<S>() -> Result<Arc<str>, HookRegistrationError> {
    let type_name = core::any::type_name::<S>();
    if type_name.contains("{{closure}}") {
        return Err(HookRegistrationError::UnnamedClosure { type_name });
    }
    let path = type_name.split('<').next().unwrap_or(type_name);
    Ok(Arc::from(path.rsplit("::").next().unwrap_or(path)))
}

struct SlotEntry {
    slot: u32,
    position: u32,
}

/// Every hook registered with one engine, per hook type, and the schedules that run them.
///
/// The engine owns the schedules (rather than the world's `Schedules` resource) and runs them with
/// `Schedule::run`: `World::run_schedule` removes and re-inserts a schedule on every run, which
/// was about half the cost of an operation on a single service.
#[derive(Default)]
pub struct HookRegistry {
    chains: HashMap<HookType, Vec<SlotEntry>>,
    schedules: HashMap<HookType, Schedule>,
    next_slot: u32,
}

impl HookRegistry {
    /// Whether any hook of `hook_type` is registered.
    pub fn has(&self, hook_type: HookType) -> bool {
        self.chains
            .get(&hook_type)
            .is_some_and(|chain| !chain.is_empty())
    }

    /// A new hook slot id (unique per engine; background tasks take theirs here too).
    pub fn allocate_slot(&mut self) -> u32 {
        let slot = self.next_slot;
        self.next_slot += 1;
        slot
    }

    /// Runs the schedule of `hook_type`, if any hook of that type is registered.
    pub fn run(&mut self, hook_type: HookType, world: &mut World) {
        if let Some(schedule) = self.schedules.get_mut(&hook_type) {
            schedule.run(world);
        }
    }

    /// How many hooks of `hook_type` are registered.
    pub fn count(&self, hook_type: HookType) -> usize {
        self.chains.get(&hook_type).map_or(0, Vec::len)
    }

    /// Adds `system` as a hook of `hook_type` for kind `K` (already validated), named `name`, and
    /// builds the schedule.
    ///
    /// # Errors
    /// [`HookRegistrationError::Schedule`] if the schedule does not build.
    pub fn add<K: ServiceKind, M>(
        &mut self,
        world: &mut World,
        kind: &KindInfo,
        hook_type: HookType,
        name: Arc<str>,
        timeout: Option<core::time::Duration>,
        system: impl IntoScheduleConfigs<ScheduleSystem, M>,
    ) -> Result<(), HookRegistrationError> {
        let slot = HookSlot(self.allocate_slot());
        let schedule = self.schedules.entry(hook_type).or_insert_with(|| {
            let mut schedule = Schedule::new(HookSchedule(hook_type));
            schedule.set_executor(SingleThreadedExecutor::new());
            schedule
        });
        let chain = self.chains.entry(hook_type).or_default();
        let index = chain.partition_point(|entry| entry.position <= kind.position);
        let previous = index.checked_sub(1).map(|i| HookSlot(chain[i].slot));
        let next = chain.get(index).map(|entry| HookSlot(entry.slot));
        let (runs_after, runs_before) = if hook_type.runs_reversed() {
            (next, previous)
        } else {
            (previous, next)
        };
        let active = ActiveHook {
            slot: slot.0,
            name,
            kind: K::NAME,
            hook_type,
            timeout,
        };
        schedule.add_systems(
            (enter_hook(active), system, exit_hook::<K>(slot.0))
                .chain()
                .in_set(slot),
        );
        schedule.configure_sets(slot.run_if(hook_ready(slot.0)));
        if let Some(after) = runs_after {
            schedule.configure_sets(slot.after(after));
        }
        if let Some(before) = runs_before {
            schedule.configure_sets(slot.before(before));
        }
        // Build now, so the first operation does not pay for it.
        let built = schedule.initialize(world).map(|_| ());
        chain.insert(
            index,
            SlotEntry {
                slot: slot.0,
                position: kind.position,
            },
        );
        built.map_err(|error| HookRegistrationError::Schedule(format!("{error:?}")))
    }
}
