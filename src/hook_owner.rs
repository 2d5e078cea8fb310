//! [`HookOwner`]: a plugin that runs the hooks of one hook type itself.
//!
//! Lifecycle hooks run inside operations, from the engine's hook registry. Message-driven hook
//! types (ON_MESSAGE, ON_COMMAND, …) run when their plugin delivers something: such a plugin
//! *owns* its hook type ([`EngineBuilder::own_hook_type`](crate::EngineBuilder::own_hook_type)).
//! Registration stays one path for the user (`add_hook_with`): the engine validates the kind,
//! asks the owner whether it takes the hook,
//! builds the hook's schedule with the owner's guard after it, lists the hook (so
//! [`Engine::hooks_of`](crate::Engine::hooks_of) shows it), and hands the schedule to the owner.

use bevy_ecs::schedule::{Schedule, ScheduleConfigs};
use bevy_ecs::system::ScheduleSystem;
use bevy_ecs::world::World;
use lifecycle_ecs_components::HookInfo;
use lifecycle_ecs_systems::ActiveHook;

/// A hook built for its owner: the schedule that runs it, and what it is.
pub struct OwnedHook {
    /// How the hook is listed (name, type, kind, params).
    pub info: HookInfo,
    /// The hook's identity while it runs.
    pub active: ActiveHook,
    /// Its kind's position in the engine's kind order (bases first): owners run hooks in
    /// (position, registration) order, as the engine does.
    pub position: u32,
    /// The hook's schedule: the entering guard, the hook's systems, the owner's exit guard.
    pub schedule: Schedule,
}

/// How a plugin owns a hook type: the guard system after each hook, and where a built hook
/// goes.
#[derive(Clone, Copy)]
pub struct HookOwner {
    /// The plugin's name (in error messages).
    pub plugin: &'static str,
    /// The system that runs after the hook (it takes the hook's error, if any).
    pub exit: fn(&ActiveHook) -> ScheduleConfigs<ScheduleSystem>,
    /// Whether the owner takes this hook (an ON_MESSAGE hook with message types, say); a hook
    /// it does not take stays with the engine and runs only when run on demand
    /// ([`Engine::run_hooks`](crate::Engine::run_hooks)).
    pub claims: fn(&HookInfo) -> bool,
    /// Stores the built hook in the plugin's state.
    pub store: fn(&mut World, OwnedHook),
}
