//! The data vocabulary of `lifecycle-ecs`: plain components, resources and errors, no scheduling.
//!
//! A service is an entity carrying:
//! - a [`LifecycleState`] (one byte: where it is in `CREATED → … → STOPPED | FAILED`),
//! - [`LifecycleFlags`] (AIPerf's events, the stop-requested gate, its depth in the lifecycle tree),
//! - a [`ServiceId`] (`<Kind>_<8 hex>`, 8 bytes, formatted only when shown),
//! - one marker component per [`ServiceKind`] it is: its own kind and, as required components,
//!   every base kind up to the root kind [`Lifecycle`].
//!
//! Hooks are keyed by [`HookType`]; a kind declares the hook types it provides and
//! [`UnsupportedHookError`] rejects the rest at registration. Failures of hooks land in the
//! [`HookFailures`] resource; a failed service gets [`ExitErrors`] in AIPerf's [`ExitErrorInfo`] shape.
//! Children are attached with the [`LifecycleParent`] link, their lists kept in the [`LifecycleTree`] resource.
//!
//! ```
//! use bevy_ecs::prelude::*;
//! use lifecycle_ecs_components::prelude::*;
//!
//! let mut world = World::new();
//! let service = world.spawn(Lifecycle).id();
//! assert_eq!(world.get::<LifecycleState>(service), Some(&LifecycleState::Created));
//! assert!(!world.get::<LifecycleFlags>(service).unwrap().stop_requested());
//! ```

mod background_task;
mod exit_error;
mod hook_error;
mod hook_failure;
mod hook_info;
mod hook_type;
mod invalid_state_error;
mod kind_id;
mod lifecycle_flags;
mod lifecycle_state;
mod lifecycle_tree;
mod operation;
mod operation_scope;
mod service_description;
mod service_id;
mod service_kind;
mod unsupported_hook_error;

pub use background_task::{BackgroundTaskParams, Pacing, TaskInterval};
pub use exit_error::{ErrorDetails, ExitErrorInfo, ExitErrors, HOOK_ERRORS_TYPE};
pub use hook_error::HookError;
pub use hook_failure::{
    DEFAULT_FAILURE_WINDOW, FailureHold, FailureTotal, HookFailure, HookFailures,
};
pub use hook_info::{HookInfo, HookParams};
pub use hook_type::{HookType, HookTypeSet};
pub use invalid_state_error::InvalidStateError;
pub use kind_id::{KindId, KindsExhaustedError};
pub use lifecycle_flags::LifecycleFlags;
pub use lifecycle_state::{LifecycleState, UnknownStateError};
pub use lifecycle_tree::{LifecycleParent, LifecycleTree, spawn_linked_children};
pub use operation::{Disposition, Operation};
pub use operation_scope::{OperationError, try_operation, try_operation_async};
pub use service_description::{ServiceDescription, ServiceLabel, ServiceRepr};
pub use service_id::{IdsExhaustedError, ServiceId};
pub use service_kind::{KindDescriptor, KindList, Lifecycle, ServiceKind};
pub use unsupported_hook_error::UnsupportedHookError;

/// The types most users need.
pub mod prelude {
    #[doc(hidden)]
    pub use crate::{
        ExitErrorInfo, ExitErrors, HookError, HookFailures, HookType, Lifecycle, LifecycleFlags,
        LifecycleParent, LifecycleState, LifecycleTree, Operation, ServiceId, ServiceKind,
    };
}
