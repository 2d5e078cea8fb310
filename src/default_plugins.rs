//! The built-in plugins, and the engine that has them all ([`Engine::new`]).
//!
//! | plugin | what it adds | steps |
//! |---|---|---|
//! | [`BackgroundPlugin`] | background tasks, both forms ([`Engine::add_background_task`], [`Engine::add_async_background_task`]) | `BeforeOperation` (collect results), `PhaseStart` of a start (launch), `PhaseEnd` of a stop (cancel and await), `StopRequested` (wind down), `RunLoopTick` (due runs) |
//! | [`WatchdogPlugin`] | the thread reporting sync hooks past the soft deadline | — |
//! | [`StateWatchPlugin`] | [`Engine::watch`] | `AfterOperation` (publish watched states) |
//! | [`ControlPlugin`] | the run loop, shutdown, signals, carrying out stop requests | — |
//! | [`BusPlugin`] | the in-process message bus and ON_MESSAGE hooks ([`messaging::bus`](crate::messaging::bus)) | `RunLoopTick` (pump the bus) |

use crate::background_plugin::BackgroundPlugin;
use crate::builder::{EngineBuilder, EnginePlugin};
use crate::control_plugin::ControlPlugin;
use crate::engine::Engine;
use crate::messaging::bus::BusPlugin;
use crate::state_watch::StateWatchPlugin;
use crate::watchdog::WatchdogPlugin;

/// Every built-in plugin, in the order [`Engine::new`] adds them.
pub fn built_in_plugins() -> Vec<Box<dyn EnginePlugin>> {
    vec![
        Box::new(BackgroundPlugin),
        Box::new(WatchdogPlugin),
        Box::new(StateWatchPlugin),
        Box::new(ControlPlugin),
        Box::new(BusPlugin),
    ]
}

impl Default for EngineBuilder {
    /// A builder with every built-in plugin ([`built_in_plugins`]).
    fn default() -> Self {
        EngineBuilder::bare().add_plugins(built_in_plugins())
    }
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

impl Engine {
    /// An engine with an empty world, the root kind registered, every built-in plugin, and its
    /// own current-thread tokio runtime for async hook work. Inside async code (a
    /// `#[tokio::test]`, a `#[tokio::main]`) use the `_async` operations: their futures run on
    /// the runtime awaiting them (see [`EngineRuntime`](crate::EngineRuntime)).
    pub fn new() -> Self {
        EngineBuilder::default().build()
    }

    /// A builder with every built-in plugin, to choose the runtime, the async limits and more
    /// plugins ([`EngineBuilder::bare`] for none).
    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }
}
