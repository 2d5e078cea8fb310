//! Hooks attached to one service (AIPerf's `attach_hook`): they run after the kind hooks.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;

use bevy_ecs::entity::Entity;
use bevy_ecs::system::{In, IntoSystem, SystemId};
use bevy_ecs::world::World;
use lifecycle_ecs_components::{
    HookError, HookFailure, HookFailures, HookInfo, HookType, ServiceId,
};

/// What a hook system may return: `()` or `Result<(), E>` with `E: Into<HookError>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a hook result",
    note = "a hook returns `()` or `Result<(), E>` where `E` converts into `HookError`"
)]
pub trait HookOutput: 'static {
    /// Converts into the engine's result.
    fn into_hook_result(self) -> Result<(), HookError>;
}

impl HookOutput for () {
    fn into_hook_result(self) -> Result<(), HookError> {
        Ok(())
    }
}

impl<E: Into<HookError> + 'static> HookOutput for Result<(), E> {
    fn into_hook_result(self) -> Result<(), HookError> {
        self.map_err(Into::into)
    }
}

struct AttachedHook {
    entity: Entity,
    info: HookInfo,
    system: SystemId<In<Entity>, Result<(), HookError>>,
}

/// Hooks attached to single services, per hook type, in attach order.
#[derive(Default)]
pub struct AttachedHooks {
    hooks: HashMap<HookType, Vec<AttachedHook>>,
}

impl AttachedHooks {
    /// Registers `system` as the hook `info` of `entity` (already validated).
    pub fn attach<O: HookOutput, M>(
        &mut self,
        world: &mut World,
        entity: Entity,
        info: HookInfo,
        system: impl IntoSystem<In<Entity>, O, M> + 'static,
    ) {
        let system = world.register_system(system.map(HookOutput::into_hook_result));
        self.hooks
            .entry(info.hook_type)
            .or_default()
            .push(AttachedHook {
                entity,
                info,
                system,
            });
    }

    /// The hooks of `hook_type` attached to `entity`, in attach order.
    pub fn listed(&self, hook_type: HookType, entity: Entity) -> impl Iterator<Item = &HookInfo> {
        self.hooks
            .get(&hook_type)
            .into_iter()
            .flatten()
            .filter(move |hook| hook.entity == entity)
            .map(|hook| &hook.info)
    }

    /// Whether any hook of `hook_type` is attached.
    pub fn has(&self, hook_type: HookType) -> bool {
        self.hooks
            .get(&hook_type)
            .is_some_and(|hooks| !hooks.is_empty())
    }

    /// Runs the attached hooks of `hook_type` (reversed if it runs reversed) for the services that
    /// `admits` accepts, recording failures and panics in [`HookFailures`].
    pub fn run(
        &self,
        world: &mut World,
        hook_type: HookType,
        admits: impl Fn(&World, Entity) -> bool,
    ) {
        let Some(hooks) = self.hooks.get(&hook_type) else {
            return;
        };
        let mut run_one = |hook: &AttachedHook| {
            if !admits(world, hook.entity) {
                return;
            }
            let _span = tracing::debug_span!("hook", name = %hook.info.name, hook_type = %hook_type, attached = true).entered();
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
                world.run_system_with(hook.system, hook.entity)
            }));
            let error = match outcome {
                Ok(Ok(Ok(()))) => return,
                Ok(Ok(Err(error))) => error,
                Ok(Err(run_error)) => HookError::msg(run_error.to_string()),
                Err(payload) => lifecycle_ecs_systems::panicked(payload),
            };
            let service_id = world
                .get::<ServiceId>(hook.entity)
                .cloned()
                .unwrap_or_default();
            world.resource_mut::<HookFailures>().push(HookFailure {
                entity: hook.entity,
                service_id,
                hook: hook.info.name.clone(),
                hook_type,
                error,
            });
        };
        if hook_type.runs_reversed() {
            hooks.iter().rev().for_each(&mut run_one);
        } else {
            hooks.iter().for_each(&mut run_one);
        }
    }
}
