//! # lifecycle-ecs
//!
//! A lifecycle engine for large fleets of in-process services, built on `bevy_ecs`: NVIDIA
//! AIPerf's hook system (`@on_init`, `@on_start`, `@on_stop`, `@on_state_change`, …) rebuilt as
//! an ECS.
//!
//! - A **service** is an entity with a [`LifecycleState`], a [`ServiceId`] and one marker component
//!   per **kind** it is ([`ServiceKind`]: a kind names its base kinds and the hook types it
//!   provides, as an AIPerf class does with its bases and `@provides_hooks`).
//! - A **hook** is a bevy system registered for one [`HookType`] and one kind. It visits "the
//!   services of my kind in the current phase" through the [`Targets`] parameter, and records
//!   per-service failures; hooks of one type form one schedule, base kinds first.
//! - The **scheduler** ([`Engine::initialize`], [`Engine::start`], [`Engine::stop`]) moves batches
//!   of services, one or a million, through `CREATED → INITIALIZING → INITIALIZED → STARTING →
//!   RUNNING → STOPPING → STOPPED` (or FAILED), following AIPerf's op×state table, collecting every
//!   hook failure into the [`HookFailures`] resource, and failing services with AIPerf-shaped
//!   [`ExitErrorInfo`]s.
//!
//! ```
//! use bevy_ecs::prelude::*;
//! use lifecycle_ecs::prelude::*;
//!
//! #[derive(Component, Default, Clone)]
//! #[require(Lifecycle)]
//! struct Worker;
//! impl ServiceKind for Worker {
//!     const NAME: &'static str = "Worker";
//!     type Bases = (Lifecycle,);
//! }
//!
//! fn warm_up(mut targets: Targets<Worker>) {
//!     targets.try_for_each(|entity, ()| {
//!         if entity.index_u32() % 100 == 99 { Err("cache unavailable") } else { Ok(()) }
//!     });
//! }
//!
//! let mut engine = Engine::new();
//! engine.add_hook::<Worker, _>(HookType::OnInit, warm_up).unwrap();
//! engine.spawn_batch(Worker, 1_000);
//! let init = engine.initialize(Selection::All);
//! assert_eq!(init.moved + init.failed.len(), 1_000);
//! let start = engine.start(Selection::All);
//! let stop = engine.stop(Selection::All);
//! assert_eq!(start.moved, stop.moved);
//! ```
//!
//! ## Async work, background tasks and shutdown
//!
//! - A hook hands I/O to tokio through [`HookTasks`]: its service stays in the transient state
//!   until its futures finished; results count like a sync hook's. Futures are capped in flight,
//!   time out ([`HookConfig::timeout`]), and a panic fails only their service.
//! - Background tasks (AIPerf's `@background_task`): a batch system over the due services
//!   ([`Engine::add_background_task`]) or a future per service and run
//!   ([`Engine::add_async_background_task`], see [`async_background`] for cancellation).
//! - [`StopHandle`] asks services to stop from anywhere; a service in the middle of `initialize`
//!   or `start` has its hook futures cancelled and takes the stop path.
//! - The run loop ([`Engine::run`], [`Engine::run_with_signals`]) drives timers and stop requests
//!   until every service ended or a signal arrives; [`Engine::shutdown`] bounds the final stop.
//! - Everything waits on tokio's clock: tests run on paused time.
//!
//! The command-line program `lifecycle-ecs fleet` benchmarks large fleets; see the README.
//!
//! Every limit (service ids, tree depth, kinds, futures in flight, durations, memory per
//! service) is in one table: [`limits`].

mod abandoned_operation;
pub mod async_background;
mod async_bridge;
mod async_task_driver;
mod attach_child_error;
mod attached_hooks;
mod background;
mod background_common;
mod background_futures;
mod background_plugin;
mod builder;
mod control_plugin;
mod default_plugins;
mod describe;
mod due_buckets;
mod engine;
mod exact_spawn;
pub mod exit_report;
mod failure_log;
pub mod footprint;
mod hook_future_driver;
mod hook_listing;
mod hook_owner;
mod hook_registry;
mod hook_runner;
mod kind_registry;
pub mod limits;
pub mod messaging;
mod operation_despawns;
mod operation_scope;
mod overdue;
mod owned_runtime;
mod phase_guard;
pub mod phase_step;
mod plugin_error;
mod report;
mod run_loop;
mod runtime;
mod scheduler;
mod selection;
mod service_kind_macro;
mod shutdown;
mod signals;
mod spawn_error;
mod state_watch;
mod stop_handle;
mod stop_requests;
mod task_context;
mod tree_walk;
mod watchdog;

pub use abandoned_operation::ABANDONED_ERROR_TYPE;
mod deadline;
mod despawned_services;
mod task_pacing;

pub use async_background::{AbandonedTask, DEFAULT_TASK_STOP_TIMEOUT, TaskContext};
pub use attach_child_error::{AttachChildError, ChildToAttach, MAX_TREE_DEPTH};
pub use attached_hooks::HookOutput;
pub use background::TickReport;
pub use background_plugin::BackgroundPlugin;
pub use builder::{EngineBuilder, EnginePlugin, EngineSettings};
pub use control_plugin::ControlPlugin;
pub use default_plugins::built_in_plugins;
pub use engine::{Engine, HookConfig};
pub use hook_listing::HookParamsError;
pub use hook_owner::{HookOwner, OwnedHook};
pub use hook_registry::{HookRegistrationError, hook_name_of};
pub use kind_registry::{KindError, KindInfo};
pub use lifecycle_ecs_systems::{RunningHook, RunningHooks};
pub use owned_runtime::OwnedRuntime;
pub use phase_step::{PhaseStep, StepContext, StepFuture};
pub use plugin_error::{PluginError, PluginMissingError};
pub use report::OperationFailedError;
pub use report::{FailedService, InitializeAndStartReport, OperationReport};
pub use run_loop::{RunEnd, SignalledRun};
pub use runtime::{
    DEFAULT_HOOK_TIMEOUT, DEFAULT_MAX_IN_FLIGHT, DEFAULT_SOFT_DEADLINE, EngineRuntime,
};
pub use selection::Selection;
pub use shutdown::{DEFAULT_SHUTDOWN_BUDGET, ShutdownReport, termination_signal};
pub use signals::TerminationSignals;
pub use spawn_error::SpawnError;
pub use state_watch::StateWatchPlugin;
pub use state_watch::{StateWatch, WaitError};
pub use stop_handle::{PendingStops, StopHandle};
pub use watchdog::WatchdogPlugin;

pub use bevy_ecs;
pub use lifecycle_ecs_components as components;
pub use lifecycle_ecs_components::*;
pub use lifecycle_ecs_systems as systems;
pub use lifecycle_ecs_systems::{ActiveHook, HookTasks, PhaseContext, StateChange, Targets};

/// The types most users need: `use lifecycle_ecs::prelude::*;`.
pub mod prelude {
    #[doc(hidden)]
    pub use crate::{
        BackgroundTaskParams, Engine, EngineBuilder, EnginePlugin, ExitErrorInfo, HookConfig,
        HookError, HookFailures, HookTasks, HookType, Lifecycle, LifecycleFlags, LifecycleState,
        Operation, OperationReport, RunEnd, Selection, ServiceId, ServiceKind, StateChange,
        StopHandle, Targets, TaskContext,
    };
    #[doc(hidden)]
    pub use crate::{OperationError, try_operation, try_operation_async};
}
