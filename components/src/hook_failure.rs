//! The failures resource: every hook failure, per service.

use std::sync::Arc;

use bevy_ecs::entity::Entity;
use bevy_ecs::resource::Resource;

use crate::{HookError, HookType, KindId, ServiceId};

/// One hook failure for one service.
#[derive(Clone, Debug)]
pub struct HookFailure {
    /// The failed service.
    pub entity: Entity,
    /// Its id.
    pub service_id: ServiceId,
    /// The hook's name (its function's last path segment, or the name it was registered with).
    pub hook: Arc<str>,
    /// The hook's type.
    pub hook_type: HookType,
    /// What went wrong.
    pub error: HookError,
}

impl HookFailure {
    /// The service's own kind.
    pub fn kind(&self) -> KindId {
        self.service_id.kind()
    }
}

impl core::fmt::Display for HookFailure {
    /// AIPerf's `HookError` string: `"<Kind>.<hook>: <error>"`, `<Kind>` being the service's own kind.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}.{}: {}", self.kind(), self.hook, self.error)
    }
}

/// Every hook failure recorded, in the order hooks ran (AIPerf's collected `HookError`s).
///
/// Hooks write here (through the `Targets` system parameter); the scheduler reads what a phase
/// added after the phase's hooks ran. Records are kept until [`HookFailures::clear`].
///
/// # Example
/// ```
/// use bevy_ecs::entity::Entity;
/// use lifecycle_ecs_components::{HookError, HookFailure, HookFailures, HookType, KindId, ServiceId};
/// let mut failures = HookFailures::default();
/// failures.push(HookFailure {
///     entity: Entity::PLACEHOLDER,
///     service_id: ServiceId::named(KindId::ROOT, 0, "svc"),
///     hook: "connect".into(),
///     hook_type: HookType::OnInit,
///     error: HookError::from("refused"),
/// });
/// assert_eq!(failures.len(), 1);
/// assert_eq!(failures.records()[0].to_string(), "Lifecycle.connect: refused");
/// ```
#[derive(Resource, Default, Debug)]
pub struct HookFailures {
    records: Vec<HookFailure>,
}

impl HookFailures {
    /// Records a failure.
    pub fn push(&mut self, failure: HookFailure) {
        self.records.push(failure);
    }

    /// All records, oldest first.
    pub fn records(&self) -> &[HookFailure] {
        &self.records
    }

    /// The records from index `start` on (what a phase added).
    pub fn since(&self, start: usize) -> &[HookFailure] {
        self.records.get(start..).unwrap_or_default()
    }

    /// How many failures were recorded.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether nothing failed.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Removes every record.
    pub fn clear(&mut self) {
        self.records.clear();
    }
}
