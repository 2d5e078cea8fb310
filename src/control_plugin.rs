//! The control plugin: the run loop ([`Engine::run`](crate::Engine::run)), graceful shutdown
//! ([`Engine::shutdown`](crate::Engine::shutdown)), termination signals, and carrying out stop
//! requests ([`Engine::process_stop_requests`](crate::Engine::process_stop_requests)).
//!
//! The stop-request data ([`StopHandle`](crate::StopHandle), [`PendingStops`](crate::PendingStops))
//! belongs to the core, which takes requests inside phases (at each barrier) and withdraws the
//! services they name; this plugin owns what drives an engine from outside an operation. The
//! run loop calls the `RunLoopTick` steps at every wake-up.

use bevy_ecs::resource::Resource;

use crate::builder::{EngineBuilder, EnginePlugin};

/// The name of the control plugin.
pub(crate) const CONTROL_PLUGIN: &str = "control";

/// Marks an engine built with the [`ControlPlugin`].
#[derive(Resource, Default)]
pub(crate) struct ControlInstalled;

/// The run loop, shutdown, signals and stop-request processing.
#[derive(Clone, Copy, Debug, Default)]
pub struct ControlPlugin;

impl EnginePlugin for ControlPlugin {
    fn build(&self, builder: &mut EngineBuilder) {
        builder.init_resource::<ControlInstalled>();
    }

    fn name(&self) -> &str {
        CONTROL_PLUGIN
    }
}
