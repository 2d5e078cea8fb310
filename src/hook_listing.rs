//! Listing the hooks that will run (AIPerf's `get_hooks` and `for_each_hook_param`).

use std::sync::Arc;

use bevy_ecs::entity::Entity;
use lifecycle_ecs_components::{HookInfo, HookType, KindDescriptor, ServiceId, ServiceKind};

use crate::engine::Engine;
use crate::hook_registry::HookRegistrationError;
use crate::kind_registry::KindError;

/// A hook's parameters are not a list of topics, so [`Engine::for_each_hook_param`] cannot walk
/// them (AIPerf's `ValueError: Invalid hook params: None. Expected Iterable …`).
///
/// # Example
/// ```
/// use lifecycle_ecs::prelude::*;
/// use lifecycle_ecs::HookParamsError;
/// let mut engine = Engine::new();
/// engine.add_named_hook::<Lifecycle, _>(HookType::OnInit, "plain", || {}).unwrap();
/// let error: HookParamsError = engine
///     .for_each_hook_param::<Lifecycle>(&[HookType::OnInit], false, |_, _| {})
///     .unwrap_err();
/// assert_eq!(error.to_string(), "invalid hook params of Lifecycle.plain (@on_init): expected a list of topics");
/// ```
#[derive(Debug, thiserror::Error)]
pub enum HookParamsError {
    /// The hook has no topic parameters.
    #[error("invalid hook params of {0}: expected a list of topics")]
    NotTopics(Box<HookInfo>),
    /// The kind could not be linearized.
    #[error(transparent)]
    Kind(#[from] KindError),
}

impl Engine {
    /// The hooks of `types` that run for a service of kind `K` (its bases' hooks included), in
    /// AIPerf's `get_hooks` order: grouped by hook type in the order given (every registered type,
    /// in the order its first hook was registered, when `types` is empty), each group base kinds
    /// first, then registration order; `reverse` reverses the whole list. Nothing runs.
    ///
    /// A hook type's run order is this order, reversed when
    /// [`HookType::runs_reversed`] (ON_STOP). Background tasks are listed with their
    /// [`HookParams::BackgroundTask`](lifecycle_ecs_components::HookParams::BackgroundTask).
    ///
    /// # Errors
    /// [`KindError`] if `K`'s bases cannot be linearized.
    ///
    /// # Example
    /// ```
    /// use bevy_ecs::prelude::*;
    /// use lifecycle_ecs::prelude::*;
    ///
    /// #[derive(Component, Default, Clone)]
    /// #[require(Lifecycle)]
    /// struct Worker;
    /// impl ServiceKind for Worker {
    ///     const NAME: &'static str = "Worker";
    ///     type Bases = (Lifecycle,);
    /// }
    /// fn open_log() {}
    /// fn connect() {}
    ///
    /// let mut engine = Engine::new();
    /// engine.add_hook::<Worker, _>(HookType::OnInit, connect).unwrap();
    /// engine.add_hook::<Lifecycle, _>(HookType::OnInit, open_log).unwrap();
    /// let names: Vec<String> = engine
    ///     .hooks_of::<Worker>(&[HookType::OnInit], false)
    ///     .unwrap()
    ///     .iter()
    ///     .map(|hook| format!("{}.{}", hook.kind, hook.name))
    ///     .collect();
    /// assert_eq!(names, ["Lifecycle.open_log", "Worker.connect"]); // base kinds first
    /// ```
    pub fn hooks_of<K: ServiceKind>(
        &self,
        types: &[HookType],
        reverse: bool,
    ) -> Result<Vec<HookInfo>, KindError> {
        let kinds = self.kinds.linearization_of(KindDescriptor::of::<K>())?;
        let mut hooks = self.hooks.listed(types, &kinds);
        if reverse {
            hooks.reverse();
        }
        Ok(hooks)
    }

    /// The hooks of `types` that run for one service: its kind's hooks, then the hooks attached
    /// to it (AIPerf's `get_hooks` on an instance), per hook type in the order given (see
    /// [`hooks_of`](Self::hooks_of)); `reverse` reverses the whole list.
    ///
    /// # Errors
    /// [`HookRegistrationError::NotAService`] if `entity` is not a service of this engine.
    pub fn service_hooks(
        &self,
        entity: Entity,
        types: &[HookType],
        reverse: bool,
    ) -> Result<Vec<HookInfo>, HookRegistrationError> {
        let kind = self
            .world
            .get::<ServiceId>(entity)
            .and_then(|id| self.kinds.by_id(id.kind()))
            .ok_or(HookRegistrationError::NotAService(entity))?;
        let types = self.hooks.types_or_all(types);
        let mut hooks = Vec::new();
        for hook_type in types {
            hooks.extend(self.hooks.listed(&[hook_type], &kind.linearization));
            hooks.extend(self.attached.listed(hook_type, entity).cloned());
        }
        if reverse {
            hooks.reverse();
        }
        Ok(hooks)
    }

    /// Calls `f` with every topic parameter of every hook of `types` for kind `K`, in
    /// [`hooks_of`](Self::hooks_of) order (AIPerf's `for_each_hook_param`, which the message
    /// mixins use to subscribe at ON_INIT).
    ///
    /// # Errors
    /// [`HookParamsError::NotTopics`] at the first hook whose parameters are not topics (`f` has
    /// been called for the hooks before it, as AIPerf); [`HookParamsError::Kind`] if `K` cannot be
    /// linearized.
    pub fn for_each_hook_param<K: ServiceKind>(
        &self,
        types: &[HookType],
        reverse: bool,
        mut f: impl FnMut(&HookInfo, &Arc<str>),
    ) -> Result<(), HookParamsError> {
        for hook in self.hooks_of::<K>(types, reverse)? {
            let Some(topics) = hook.params.topic_list() else {
                return Err(HookParamsError::NotTopics(Box::new(hook)));
            };
            for topic in topics {
                f(&hook, topic);
            }
        }
        Ok(())
    }
}
