//! The built-in systems of `lifecycle-ecs`, and the system parameters hook authors use.
//!
//! A hook is an ordinary bevy system. To act on "the services of my kind in the current phase" it
//! takes a [`Targets`] parameter, which reads the [`PhaseContext`] the scheduler set up and visits
//! exactly those services, whether the scheduler chose a dense scan (much of the fleet moves) or a
//! sparse list (a few services among many):
//!
//! ```
//! use bevy_ecs::prelude::*;
//! use lifecycle_ecs_systems::Targets;
//! # use lifecycle_ecs_components::{Lifecycle, ServiceKind};
//! # #[derive(Component, Default)] #[require(Lifecycle)] struct Worker;
//! # impl ServiceKind for Worker { const NAME: &'static str = "Worker"; type Bases = (Lifecycle,); }
//! #[derive(Component, Default)]
//! struct Opened(bool);
//!
//! fn open(mut targets: Targets<Worker, &mut Opened>) {
//!     targets.for_each(|_entity, mut opened| opened.0 = true);
//! }
//! # bevy_ecs::system::assert_is_system(open);
//! ```
//!
//! The engine wraps every hook between [`enter_hook`] and [`exit_hook`]: the first names the hook
//! (for failure records and its `tracing` span), the second turns an `Err` returned by the whole
//! system, or a panic caught by bevy's executor (routed through [`capture_system_error`]), into a
//! failure of each of the hook's targets. [`transition`] holds the batch steps that move states.

mod hook_guard;
mod hook_tasks;
mod panic_payload;
mod phase_context;
mod running_hooks;
mod targets;
pub mod transition;

pub use hook_guard::{capture_system_error, enter_hook, exit_hook, leave_hook, take_system_error};
pub use hook_tasks::{HookFuture, HookFutures, HookProgress, HookTasks, QueuedHookFuture};
pub use panic_payload::{drop_quietly, panic_message, panicked, take_panic_message};
pub use phase_context::{ActiveHook, PhaseContext, StateChange, TargetFilter};
pub use running_hooks::{InFlightKey, InFlightView, RunningHook, RunningHooks};
pub use targets::Targets;

/// The types hook authors need.
pub mod prelude {
    #[doc(hidden)]
    pub use crate::{HookTasks, StateChange, Targets};
}
