//! Running the hooks of any hook type on demand (AIPerf's `run_hooks`).

use std::collections::HashSet;

use bevy_ecs::entity::Entity;
use lifecycle_ecs_components::{HookFailure, HookFailures, HookType};
use lifecycle_ecs_systems::PhaseContext;

use tracing::Instrument;

use crate::engine::Engine;
use crate::selection::Selection;

impl Engine {
    /// Runs every hook of `hook_type` for the selected services, whatever their state, in hook
    /// order (AIPerf's `run_hooks`): kind hooks, then attached hooks; reversed for ON_STOP. All
    /// hooks run even when some fail; the failures are recorded in [`HookFailures`] and returned.
    /// No state changes: this is how message-like hook types (ON_MESSAGE, custom types, …) are
    /// delivered.
    ///
    /// # Example
    /// ```
    /// use bevy_ecs::prelude::*;
    /// use lifecycle_ecs::prelude::*;
    ///
    /// #[derive(Component, Default, Clone)]
    /// #[require(Lifecycle)]
    /// struct Cache;
    /// impl ServiceKind for Cache {
    ///     const NAME: &'static str = "Cache";
    ///     type Bases = (Lifecycle,);
    ///     const PROVIDES: &'static [HookType] = &[HookType::Custom("@on_flush")];
    /// }
    /// #[derive(Component, Default)]
    /// struct Flushed(u32);
    ///
    /// let mut engine = Engine::new();
    /// engine
    ///     .add_entity_hook::<Cache, &mut Flushed, _, _>(HookType::Custom("@on_flush"), "flush", |_, mut f| {
    ///         f.0 += 1;
    ///         Ok::<(), HookError>(())
    ///     })
    ///     .unwrap();
    /// let cache = engine.spawn_with(Cache, Flushed(0));
    /// assert!(engine.run_hooks(HookType::Custom("@on_flush"), Selection::All).is_empty());
    /// assert_eq!(engine.world().get::<Flushed>(cache).unwrap().0, 1);
    /// ```
    pub fn run_hooks(
        &mut self,
        hook_type: HookType,
        selection: impl Into<Selection>,
    ) -> Vec<HookFailure> {
        let runtime = self.bridge.runtime().clone();
        runtime.block_on_for(
            "`Engine::run_hooks_async(…).await`",
            self.run_hooks_async(hook_type, selection.into()),
        )
    }

    /// [`run_hooks`](Self::run_hooks) for async code.
    ///
    /// # Cancel safety
    /// Dropping the future drops the hook futures it awaits, and the hooks after them do not
    /// run; the engine stays consistent (the next call runs every hook).
    pub async fn run_hooks_async(
        &mut self,
        hook_type: HookType,
        selection: impl Into<Selection>,
    ) -> Vec<HookFailure> {
        let span = tracing::debug_span!("run_hooks", hook_type = %hook_type);
        self.run_hooks_inner(hook_type, selection.into())
            .instrument(span)
            .await
    }

    async fn run_hooks_inner(
        &mut self,
        hook_type: HookType,
        selection: Selection,
    ) -> Vec<HookFailure> {
        let hold = self.world.resource::<HookFailures>().hold();
        let start = self.world.resource::<HookFailures>().mark();
        if self.hooks.has(hook_type) {
            let mut context = self.world.resource_mut::<PhaseContext>();
            match &selection {
                Selection::All => context.begin_dense(None, None, None),
                Selection::Many(list) => context.begin_sparse(None, None, list),
            }
            self.run_hook_schedule(hook_type).await;
        }
        if self.attached.has(hook_type) {
            let chosen: Option<HashSet<Entity>> = match &selection {
                Selection::All => None,
                Selection::Many(list) => Some(list.iter().copied().collect()),
            };
            self.attached.run(&mut self.world, hook_type, |_, entity| {
                chosen.as_ref().is_none_or(|set| set.contains(&entity))
            });
        }
        let mut failures = self.world.resource_mut::<HookFailures>();
        let ran = failures.since(start).to_vec();
        failures.release(hold);
        ran
    }
}
