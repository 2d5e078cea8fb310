//! Hook registration: one schedule per hook type, hooks ordered by kind then registration.

use std::collections::HashMap;
use std::sync::Arc;

use bevy_ecs::entity::Entity;
use bevy_ecs::schedule::{
    IntoScheduleConfigs, Schedule, ScheduleLabel, Schedules, SingleThreadedExecutor, SystemSet,
};
use bevy_ecs::system::ScheduleSystem;
use bevy_ecs::world::World;
use lifecycle_ecs_components::{HookType, ServiceKind, UnsupportedHookError};
use lifecycle_ecs_systems::{ActiveHook, enter_hook, exit_hook, hook_ready};

use crate::kind_registry::{KindError, KindInfo};

/// The schedule that runs every hook of one hook type.
///
/// Hooks are chained in the schedule by kind (base kinds first, following the kinds' C3
/// linearization) and then registration order; the ON_STOP schedule is built reversed. The engine
/// runs it with the single-threaded executor.
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

/// Every hook registered with one engine, per hook type.
#[derive(Default)]
pub struct HookRegistry {
    chains: HashMap<HookType, Vec<SlotEntry>>,
    next_slot: u32,
}

impl HookRegistry {
    /// Whether any hook of `hook_type` is registered.
    pub fn has(&self, hook_type: HookType) -> bool {
        self.chains
            .get(&hook_type)
            .is_some_and(|chain| !chain.is_empty())
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
        let label = HookSchedule(hook_type);
        if !world
            .get_resource::<Schedules>()
            .is_some_and(|schedules| schedules.contains(label))
        {
            let mut schedule = Schedule::new(label);
            schedule.set_executor(SingleThreadedExecutor::new());
            world.add_schedule(schedule);
        }
        let chain = self.chains.entry(hook_type).or_default();
        let index = chain.partition_point(|entry| entry.position <= kind.position);
        let previous = index.checked_sub(1).map(|i| HookSlot(chain[i].slot));
        let next = chain.get(index).map(|entry| HookSlot(entry.slot));
        let slot = HookSlot(self.next_slot);
        self.next_slot += 1;
        let (runs_after, runs_before) = if hook_type.runs_reversed() {
            (next, previous)
        } else {
            (previous, next)
        };
        let active = ActiveHook {
            slot: slot.0,
            name,
            hook_type,
            timeout,
        };
        let built = world.schedule_scope(label, |world, schedule| {
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
            schedule.initialize(world).map(|_| ())
        });
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
