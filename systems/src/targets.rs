//! The system parameter every hook uses: "the services of my kind in the current phase".

use std::sync::Arc;

use bevy_ecs::entity::Entity;
use bevy_ecs::query::{IterQueryData, With};
use bevy_ecs::system::{Query, Res, ResMut, SystemParam};
use lifecycle_ecs_components::{
    HookError, HookFailure, HookFailures, HookType, LifecycleFlags, LifecycleState, Operation,
    ServiceId, ServiceKind,
};

use crate::{PhaseContext, StateChange};

type TargetQuery<'w, 's, K, D> =
    Query<'w, 's, (Entity, &'static LifecycleState, &'static LifecycleFlags, D), With<K>>;

/// The services of kind `K` that the running hook must act on, with their `D` components.
///
/// A hook system takes `Targets<K, D>` and calls [`for_each`](Targets::for_each) or
/// [`try_for_each`](Targets::try_for_each); it sees exactly the services of its kind in the current
/// phase, whether the scheduler chose a dense scan or a sparse list. Errors returned from
/// `try_for_each` (or passed to [`fail`](Targets::fail)) are recorded per service in
/// [`HookFailures`] with the hook's name; the other services still run (collect-all).
///
/// # Example
/// ```
/// use bevy_ecs::prelude::*;
/// use lifecycle_ecs_components::HookError;
/// use lifecycle_ecs_systems::Targets;
/// # use lifecycle_ecs_components::{Lifecycle, ServiceKind};
/// # #[derive(Component, Default)] #[require(Lifecycle)] struct Worker;
/// # impl ServiceKind for Worker { const NAME: &'static str = "Worker"; type Bases = (Lifecycle,); }
///
/// #[derive(Component, Default)]
/// struct Connections(u32);
///
/// fn open_connections(mut targets: Targets<Worker, &mut Connections>) {
///     targets.try_for_each(|_entity, mut connections| {
///         connections.0 += 1;
///         if connections.0 > 10 {
///             return Err(HookError::from("too many connections"));
///         }
///         Ok(())
///     });
/// }
/// # bevy_ecs::system::assert_is_system(open_connections);
/// ```
#[derive(SystemParam)]
pub struct Targets<'w, 's, K: ServiceKind, D: IterQueryData + 'static = ()> {
    query: TargetQuery<'w, 's, K, D>,
    /// Ids are only read when a hook fails or per-service tracing is on: a separate query keeps
    /// them out of the hot loop.
    ids: Query<'w, 's, &'static ServiceId, With<K>>,
    context: Res<'w, PhaseContext>,
    failures: ResMut<'w, HookFailures>,
}

impl<'w, 's, K: ServiceKind, D: IterQueryData + 'static> Targets<'w, 's, K, D> {
    /// Calls `f` for every target service.
    pub fn for_each(&mut self, mut f: impl FnMut(Entity, D::Item<'_, 's>)) {
        visit(&mut self.query, &self.ids, &self.context, |entity, item| {
            f(entity, item);
        });
    }

    /// Calls `f` for every target service; each `Err` is recorded as that service's failure of
    /// this hook, and the remaining services still run.
    pub fn try_for_each<E: Into<HookError>>(
        &mut self,
        mut f: impl FnMut(Entity, D::Item<'_, 's>) -> Result<(), E>,
    ) {
        let hook = hook_identity(&self.context);
        let failures = &mut self.failures;
        let ids = &self.ids;
        visit(&mut self.query, ids, &self.context, |entity, item| {
            if let Err(error) = f(entity, item) {
                record_error(failures, entity, ids, &hook, error);
            }
        });
    }

    /// [`try_for_each`](Self::try_for_each) with each service's call isolated: a panic in `f`
    /// fails only the service it panicked on (with [`HookError::Panicked`] and the panic's
    /// message), and the remaining services still run. The engine's per-service hooks
    /// (`add_entity_hook`) use it.
    ///
    /// A service whose call panicked may be left with its components half-updated, as a
    /// panicking system leaves its data.
    pub fn try_for_each_isolated<E: Into<HookError>>(
        &mut self,
        mut f: impl FnMut(Entity, D::Item<'_, 's>) -> Result<(), E>,
    ) {
        self.try_for_each(|entity, item| {
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(entity, item))) {
                Ok(result) => result.map_err(Into::into),
                Err(payload) => Err(crate::panic_payload::panicked(payload)),
            }
        });
    }

    /// Records `error` as `entity`'s failure of this hook. Does nothing if `entity` is not a
    /// service of kind `K`.
    pub fn fail(&mut self, entity: Entity, error: impl Into<HookError>) {
        let Ok(id) = self.ids.get(entity) else {
            return;
        };
        let (hook, hook_type) = hook_identity(&self.context);
        self.failures.push(HookFailure {
            entity,
            service_id: *id,
            hook,
            hook_type,
            error: error.into(),
        });
    }

    /// Records `error` for every target service (used when a whole hook fails or panics).
    pub fn fail_all(&mut self, error: HookError) {
        let (hook, hook_type) = hook_identity(&self.context);
        let failures = &mut self.failures;
        let ids = &self.ids;
        visit(&mut self.query, ids, &self.context, |entity, _| {
            failures.push(HookFailure {
                entity,
                service_id: ids.get(entity).copied().unwrap_or_default(),
                hook: hook.clone(),
                hook_type,
                error: error.clone(),
            });
        });
    }

    /// The target services, in visiting order.
    pub fn entities(&mut self) -> Vec<Entity> {
        let mut out = Vec::new();
        self.for_each(|entity, _| out.push(entity));
        out
    }

    /// How many services are targets.
    pub fn count(&mut self) -> usize {
        let mut n = 0;
        self.for_each(|_, _| n += 1);
        n
    }

    /// The operation whose phase is running (`None` for non-lifecycle hook types).
    pub fn operation(&self) -> Option<Operation> {
        self.context.operation()
    }

    /// For ON_STATE_CHANGE hooks: the change the targets just went through (old, new).
    pub fn state_change(&self) -> Option<StateChange> {
        self.context.change()
    }

    /// The id of a service of kind `K`.
    pub fn service_id(&self, entity: Entity) -> Option<&ServiceId> {
        self.ids.get(entity).ok()
    }
}

/// Records a hook's error for one service: cold and out of line, so the per-service loop that
/// calls it stays small enough to inline into bevy's table loop.
#[cold]
#[inline(never)]
fn record_error<K: ServiceKind, E: Into<HookError>>(
    failures: &mut HookFailures,
    entity: Entity,
    ids: &Query<&ServiceId, With<K>>,
    hook: &(Arc<str>, HookType),
    error: E,
) {
    let id = ids.get(entity).copied().unwrap_or_default();
    record_failure(failures, entity, &id, hook, error.into());
}

#[cold]
#[inline(never)]
fn record_failure(
    failures: &mut HookFailures,
    entity: Entity,
    id: &ServiceId,
    hook: &(Arc<str>, HookType),
    error: HookError,
) {
    failures.push(HookFailure {
        entity,
        service_id: *id,
        hook: hook.0.clone(),
        hook_type: hook.1,
        error,
    });
}

fn hook_identity(context: &PhaseContext) -> (Arc<str>, HookType) {
    match context.hook() {
        Some(hook) => (hook.name.clone(), hook.hook_type),
        None => (Arc::from("<unknown hook>"), HookType::Custom("<none>")),
    }
}

/// Visits the targets of `query` under `context`, dense or sparse.
fn visit<'s, K: ServiceKind, D: IterQueryData + 'static>(
    query: &mut TargetQuery<'_, 's, K, D>,
    ids: &Query<&ServiceId, With<K>>,
    context: &PhaseContext,
    mut f: impl FnMut(Entity, D::Item<'_, 's>),
) {
    let filter = context.filter();
    if context.trace_services() {
        // Per-service spans only at `trace`: a separate loop keeps the fast one small.
        let mut traced = |entity: Entity, item: D::Item<'_, 's>| {
            let id = ids.get(entity).copied().unwrap_or_default();
            let _span = tracing::trace_span!("service", id = %id, entity = ?entity).entered();
            f(entity, item);
        };
        visit_with(query, context, filter, &mut traced);
    } else {
        visit_with(query, context, filter, &mut f);
    }
}

#[inline(always)]
fn visit_with<'s, K: ServiceKind, D: IterQueryData + 'static>(
    query: &mut TargetQuery<'_, 's, K, D>,
    context: &PhaseContext,
    filter: crate::TargetFilter,
    f: &mut impl FnMut(Entity, D::Item<'_, 's>),
) {
    match context.sparse_targets() {
        None => query.iter_mut().for_each(|(entity, state, flags, item)| {
            if filter.admits(*state, *flags) {
                f(entity, item);
            }
        }),
        Some(list) => {
            let mut iter = query.iter_many_mut(list);
            while let Some(fetched) = iter.fetch_next() {
                if let Ok((entity, state, flags, item)) = fetched
                    && filter.admits(*state, *flags)
                {
                    f(entity, item);
                }
            }
        }
    }
}
