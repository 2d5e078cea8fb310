//! The service kinds of the fleet and the components their hooks work on.

use lifecycle_ecs::Lifecycle;
use lifecycle_ecs::ServiceKind;
use lifecycle_ecs::bevy_ecs::component::Component;

/// A fleet worker: the services `--workers` counts.
#[derive(Component, Default, Clone)]
#[require(Lifecycle)]
pub struct FleetWorker;

impl ServiceKind for FleetWorker {
    const NAME: &'static str = "FleetWorker";
    type Bases = (Lifecycle,);
}

/// A child service of a fleet worker (`--children` per worker).
#[derive(Component, Default, Clone)]
#[require(Lifecycle)]
pub struct FleetChild;

impl ServiceKind for FleetChild {
    const NAME: &'static str = "FleetChild";
    type Bases = (Lifecycle,);
}

/// How many times the fleet's hooks ran for one service: the work the hooks do, so that it cannot
/// be optimized away and can be checked afterwards.
#[derive(Component, Default, Clone, Copy, Debug)]
pub struct HookCalls(pub u32);

/// Marks a worker whose first ON_INIT hook fails (`--fail-rate`).
#[derive(Component, Default, Clone, Copy, Debug)]
pub struct FailInit;
