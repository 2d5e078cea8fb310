//! Hook registration: each hook's schedule built once, hooks ordered by kind then registration.

use std::any::TypeId;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use bevy_ecs::entity::Entity;
use bevy_ecs::schedule::{IntoScheduleConfigs, Schedule, ScheduleLabel, SingleThreadedExecutor};
use bevy_ecs::system::ScheduleSystem;
use bevy_ecs::world::World;
use lifecycle_ecs_components::{HookInfo, HookType, ServiceKind, UnsupportedHookError};
use lifecycle_ecs_systems::{ActiveHook, HookProgress, enter_hook, exit_hook};

use crate::kind_registry::{KindError, KindInfo};
use crate::plugin_error::PluginMissingError;

/// The label of the schedule that runs every hook of one hook type.
///
/// Every hook has a schedule of its own under this label (its guard systems around its systems);
/// the engine runs a hook type's schedules in order: by kind (base kinds first, following the
/// kinds' C3 linearization), then registration order, reversed for ON_STOP. The engine owns these
/// schedules and runs them with the single-threaded executor.
#[derive(ScheduleLabel, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct HookSchedule(pub HookType);

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
    /// The hook's schedule does not build (an ordering cycle in its own configuration, or a
    /// system whose parameters conflict); nothing was registered.
    #[error("the hook schedule does not build: {0}")]
    Schedule(String),
    /// `attach_hook` named an entity that is not a service.
    #[error("{0} is not a service (it has no `Lifecycle`)")]
    NotAService(Entity),
    /// The hook needs a plugin the engine was built without (a background task on a bare
    /// engine).
    #[error(transparent)]
    PluginMissing(#[from] PluginMissingError),
    /// The hook's parameters do not fit its hook type (an ON_MESSAGE hook without message
    /// types, say).
    #[error("hook `{hook}`: {reason}")]
    InvalidParams {
        /// The hook's name.
        hook: Arc<str>,
        /// What is wrong.
        reason: String,
    },
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

struct RegisteredHook {
    info: HookInfo,
    /// The registering kind's marker type (to list a kind's hooks along its linearization).
    kind: TypeId,
    /// The kind's position in the engine's kind order (bases first).
    position: u32,
    slot: u32,
    /// The hook's own schedule (its guard systems around it), built at registration; `None` for
    /// hooks run elsewhere (background tasks are paced by their own plugin).
    schedule: Option<Box<Schedule>>,
}

/// Every hook registered with one engine, per hook type, and the schedules that run them.
///
/// Each hook gets its own small schedule (the guard systems, the hook's systems), built once at
/// registration: registering K hooks costs O(K) overall, a hook that does not build is refused
/// before anything is stored, and no operation pays a rebuild. A hook type's hooks run in order
/// (kind position, then registration; reversed for ON_STOP) from one loop over that list.
///
/// The engine owns the schedules (rather than the world's `Schedules` resource) and runs them with
/// `Schedule::run`: `World::run_schedule` removes and re-inserts a schedule on every run, which
/// was about half the cost of an operation on a single service.
#[derive(Default)]
pub struct HookRegistry {
    hooks: HashMap<HookType, Vec<RegisteredHook>>,
    /// Hook types in the order their first hook was registered (AIPerf lists all hooks that way).
    type_order: Vec<HookType>,
    next_slot: u32,
}

impl HookRegistry {
    /// Whether any hook of `hook_type` is registered that the hook schedule runs.
    pub fn has(&self, hook_type: HookType) -> bool {
        self.hooks
            .get(&hook_type)
            .is_some_and(|hooks| hooks.iter().any(|hook| hook.schedule.is_some()))
    }

    /// A new hook slot id (unique per engine; background tasks take theirs here too).
    pub fn allocate_slot(&mut self) -> u32 {
        let slot = self.next_slot;
        self.next_slot += 1;
        slot
    }

    /// Runs the hooks of `hook_type` that have not run yet in this phase, in order, until one
    /// leaves futures to await (see [`HookProgress`]).
    pub fn run(&mut self, hook_type: HookType, world: &mut World) {
        let Some(hooks) = self.hooks.get_mut(&hook_type) else {
            return;
        };
        let mut run_one = |hook: &mut RegisteredHook| {
            let Some(schedule) = hook.schedule.as_mut() else {
                return true;
            };
            let progress = world.resource::<HookProgress>();
            if progress.is_blocked() {
                return false;
            }
            if progress.ready(hook.slot) {
                schedule.run(world);
            }
            true
        };
        if hook_type.runs_reversed() {
            for hook in hooks.iter_mut().rev() {
                if !run_one(hook) {
                    break;
                }
            }
        } else {
            for hook in hooks.iter_mut() {
                if !run_one(hook) {
                    break;
                }
            }
        }
    }

    /// How many hooks of `hook_type` are registered (background tasks included).
    pub fn count(&self, hook_type: HookType) -> usize {
        self.hooks.get(&hook_type).map_or(0, Vec::len)
    }

    /// Adds `system` as a hook of `hook_type` for kind `K` (already validated), and builds its
    /// schedule. A hook whose schedule does not build (an ordering cycle in its own
    /// configuration, conflicting data access in one system) is refused and nothing is stored.
    ///
    /// # Errors
    /// [`HookRegistrationError::Schedule`] if the hook's schedule does not build.
    pub fn add<K: ServiceKind, M>(
        &mut self,
        world: &mut World,
        kind: &KindInfo,
        info: HookInfo,
        system: impl IntoScheduleConfigs<ScheduleSystem, M>,
    ) -> Result<(), HookRegistrationError> {
        let slot = self.next_slot;
        let (_, schedule) =
            self.build_hook::<K, M>(world, &info, system, exit_hook::<K>(slot).into_configs())?;
        self.insert(kind, info, slot, Some(Box::new(schedule)));
        Ok(())
    }

    /// Builds the next slot's hook schedule: the entering guard, `system`, then `exit`; takes
    /// the slot only when the schedule builds.
    fn build_hook<K: ServiceKind, M>(
        &mut self,
        world: &mut World,
        info: &HookInfo,
        system: impl IntoScheduleConfigs<ScheduleSystem, M>,
        exit: bevy_ecs::schedule::ScheduleConfigs<ScheduleSystem>,
    ) -> Result<(ActiveHook, Schedule), HookRegistrationError> {
        let active = ActiveHook {
            slot: self.next_slot,
            name: info.name.clone(),
            kind: K::NAME,
            hook_type: info.hook_type,
            timeout: info.timeout,
        };
        let mut schedule = Schedule::new(HookSchedule(info.hook_type));
        schedule.set_executor(SingleThreadedExecutor::new());
        schedule.add_systems((enter_hook(active.clone()), system, exit).chain());
        build(&mut schedule, world)?;
        self.next_slot += 1;
        Ok((active, schedule))
    }

    /// Builds the schedule of a hook whose type a plugin owns (`owner`'s guard after it) and
    /// lists the hook; the caller hands the schedule to the owner.
    ///
    /// # Errors
    /// [`HookRegistrationError::Schedule`] if the hook's schedule does not build.
    pub fn add_owned<K: ServiceKind, M>(
        &mut self,
        world: &mut World,
        kind: &KindInfo,
        info: HookInfo,
        system: impl IntoScheduleConfigs<ScheduleSystem, M>,
        owner: &crate::hook_owner::HookOwner,
    ) -> Result<crate::hook_owner::OwnedHook, HookRegistrationError> {
        let slot = self.next_slot;
        let exit = {
            let upcoming = ActiveHook {
                slot,
                name: info.name.clone(),
                kind: K::NAME,
                hook_type: info.hook_type,
                timeout: info.timeout,
            };
            (owner.exit)(&upcoming)
        };
        let (active, schedule) = self.build_hook::<K, M>(world, &info, system, exit)?;
        self.insert(kind, info.clone(), slot, None);
        Ok(crate::hook_owner::OwnedHook {
            info,
            active,
            position: kind.position,
            schedule,
        })
    }

    /// Lists a hook that another part of the engine runs (a background task) under `slot`.
    pub fn list(&mut self, kind: &KindInfo, info: HookInfo, slot: u32) {
        self.insert(kind, info, slot, None);
    }

    fn insert(
        &mut self,
        kind: &KindInfo,
        info: HookInfo,
        slot: u32,
        schedule: Option<Box<Schedule>>,
    ) {
        let hook_type = info.hook_type;
        self.note_type(hook_type);
        let hooks = self.hooks.entry(hook_type).or_default();
        let index = hooks.partition_point(|hook| hook.position <= kind.position);
        hooks.insert(
            index,
            RegisteredHook {
                info,
                kind: kind.linearization[0],
                position: kind.position,
                slot,
                schedule,
            },
        );
    }

    /// Notes that a hook of `hook_type` exists (attached hooks are stored elsewhere), for the
    /// first-registration order of hook types.
    pub fn note_type(&mut self, hook_type: HookType) {
        if !self.type_order.contains(&hook_type) {
            self.type_order.push(hook_type);
        }
    }

    /// `types` without repeats, or every registered hook type in first-registration order when
    /// `types` is empty.
    pub fn types_or_all(&self, types: &[HookType]) -> Vec<HookType> {
        let types = if types.is_empty() {
            &self.type_order[..]
        } else {
            types
        };
        let mut unique = Vec::with_capacity(types.len());
        for &hook_type in types {
            if !unique.contains(&hook_type) {
                unique.push(hook_type);
            }
        }
        unique
    }

    /// The hooks of `types` (every type, in first-registration order, when empty) registered by
    /// a kind in `kinds`, grouped by type in the order given, each group in registration order
    /// (kind position, then registration).
    pub fn listed(&self, types: &[HookType], kinds: &[TypeId]) -> Vec<HookInfo> {
        let mut listed = Vec::new();
        for hook_type in self.types_or_all(types) {
            let Some(hooks) = self.hooks.get(&hook_type) else {
                continue;
            };
            listed.extend(
                hooks
                    .iter()
                    .filter(|hook| kinds.contains(&hook.kind))
                    .map(|hook| hook.info.clone()),
            );
        }
        listed
    }
}

/// Builds a hook's schedule, turning a build error or a panic while initializing its systems
/// (bevy panics on conflicting data access in one system) into a refusal.
pub(crate) fn build(
    schedule: &mut Schedule,
    world: &mut World,
) -> Result<(), HookRegistrationError> {
    let built = std::panic::catch_unwind(AssertUnwindSafe(|| schedule.initialize(world)));
    match built {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(error)) => Err(HookRegistrationError::Schedule(
            error.to_string(schedule.graph(), world),
        )),
        Err(payload) => Err(HookRegistrationError::Schedule(
            lifecycle_ecs_systems::take_panic_message(payload),
        )),
    }
}
