//! The service kinds of the fleet and the components their hooks work on.

use lifecycle_ecs::bevy_ecs::component::Component;
use lifecycle_ecs::{Lifecycle, service_kind};

service_kind! {
    /// A fleet worker: the services `--workers` counts.
    pub struct FleetWorker: Lifecycle
}

service_kind! {
    /// A child service of a fleet worker (`--children` per worker).
    pub struct FleetChild: Lifecycle
}

/// How many times the fleet's hooks ran for one service: the work the hooks do, so that it cannot
/// be optimized away and can be checked afterwards.
#[derive(Component, Default, Clone, Copy, Debug)]
pub struct HookCalls(pub u32);

/// Marks a worker whose first ON_INIT hook fails (`--fail-rate`).
#[derive(Component, Default, Clone, Copy, Debug)]
pub struct FailInit;
