//! Named operation scopes in user code: a step run on behalf of services, whose failure is
//! recorded as their exit error under the step's name (AIPerf's `try_operation_or_stop(name)`
//! around, e.g., a child's `initialize_and_start`).

use std::borrow::Cow;

use bevy_ecs::entity::{Entity, EntityHashSet};
use lifecycle_ecs_components::{
    ExitErrors, HookError, LifecycleFlags, OperationError, try_operation, try_operation_async,
};

use crate::engine::Engine;
use crate::failure_log::FailureLog;
use crate::selection::Selection;

impl Engine {
    /// Runs `step` under the named operation scope `operation`, owned by the `owner` services
    /// (AIPerf's `async with self.try_operation_or_stop("Start Proxy Manager"): …`).
    ///
    /// `Ok` passes through and records nothing. On `Err`, each owner service gets one exit error
    /// `{operation: <operation as given>, error_details: {type: <the error's type name>, message:
    /// <the error>}}` and one `error`-level log line `Failed to <operation lowercased>: <error>`
    /// (the first 100 owners one by one, then a line counting the rest). The failure is recorded
    /// once per service: an owner that already got an exit error during `step` (a phase it failed,
    /// a step of `initialize_and_start` that refused it, an inner scope) gets no second one. An
    /// error that already is an [`OperationError`] keeps its own (innermost) name.
    ///
    /// Like AIPerf's context manager, the scope only records and returns the error: it does not
    /// stop or fail the owners (call [`stop`](Self::stop) on `Err` for that). Inside hooks, use
    /// [`try_operation`](crate::try_operation) / [`try_operation_async`](crate::try_operation_async)
    /// instead: there a scoped error fails the service for its phase.
    ///
    /// # Errors
    /// The step's error, as an [`OperationError`].
    ///
    /// # Example
    /// ```
    /// use lifecycle_ecs::prelude::*;
    /// let mut engine = Engine::new();
    /// let controller = engine.spawn(Lifecycle);
    /// let proxies = engine.spawn(Lifecycle);
    /// engine.stop(proxies); // now it cannot initialize
    /// let result = engine.try_operation(controller, "Start Proxy Manager", |engine| {
    ///     engine.initialize_and_start(proxies).into_result()
    /// });
    /// assert!(result.is_err());
    /// assert_eq!(engine.exit_errors(controller)[0].operation, "Start Proxy Manager");
    /// assert_eq!(engine.exit_errors(proxies)[0].operation, "Initialize");
    /// ```
    pub fn try_operation<T, E: Into<HookError>>(
        &mut self,
        owner: impl Into<Selection>,
        operation: impl Into<Cow<'static, str>>,
        step: impl FnOnce(&mut Engine) -> Result<T, E>,
    ) -> Result<T, OperationError> {
        let owners = self.scope_owners(owner.into());
        let result = try_operation(operation, || step(self));
        if let Err(error) = &result {
            self.record_scope_failure(&owners, error);
        }
        result
    }

    /// [`try_operation`](Self::try_operation) for async code: `step` is an async closure, e.g.
    /// `async |engine| engine.initialize_and_start_async(proxies).await.into_result()`.
    ///
    /// # Errors
    /// The step's error, as an [`OperationError`].
    ///
    /// # Cancel safety
    /// Dropping the future drops `step` (as cancel-safe as it is) and records nothing.
    pub async fn try_operation_async<T, E: Into<HookError>>(
        &mut self,
        owner: impl Into<Selection>,
        operation: impl Into<Cow<'static, str>>,
        step: impl AsyncFnOnce(&mut Engine) -> Result<T, E>,
    ) -> Result<T, OperationError> {
        let owners = self.scope_owners(owner.into());
        let result = try_operation_async(operation, step(self)).await;
        if let Err(error) = &result {
            self.record_scope_failure(&owners, error);
        }
        result
    }

    /// The owner services of a scope, each with how many exit errors it has now.
    fn scope_owners(&mut self, owner: Selection) -> Vec<(Entity, usize)> {
        let count = |errors: Option<&ExitErrors>| errors.map_or(0, |errors| errors.0.len());
        match owner {
            Selection::All => {
                let mut services = self
                    .world
                    .query_filtered::<(Entity, Option<&ExitErrors>), bevy_ecs::query::With<LifecycleFlags>>();
                services
                    .iter(&self.world)
                    .map(|(entity, errors)| (entity, count(errors)))
                    .collect()
            }
            Selection::Many(list) => {
                let mut seen = EntityHashSet::default();
                list.into_iter()
                    .filter(|&entity| self.world.get::<LifecycleFlags>(entity).is_some())
                    .filter(|&entity| seen.insert(entity))
                    .map(|entity| (entity, count(self.world.get::<ExitErrors>(entity))))
                    .collect()
            }
        }
    }

    /// Records and logs `error` for each owner that got no exit error since `owners` was taken.
    fn record_scope_failure(&mut self, owners: &[(Entity, usize)], error: &OperationError) {
        let mut log = FailureLog::default();
        let message = error.to_string();
        for &(entity, before) in owners {
            if self.exit_errors(entity).len() != before {
                continue;
            }
            if let Some(id) = self.service_id(entity) {
                log.failed(&id.to_string(), error.operation(), &message);
            }
            self.record_operation_error(
                entity,
                error.operation(),
                error.error_type(),
                message.clone(),
            );
        }
        log.finish();
    }
}
