//! Why services could not be spawned.

use lifecycle_ecs_components::IdsExhaustedError;

use crate::attach_child_error::AttachChildError;
use crate::kind_registry::KindError;

/// Services could not be spawned; nothing was spawned.
///
/// The `try_` spawning functions return it where the plain ones panic, and the functions that
/// spawn children return it always. See the [limits](crate::limits).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SpawnError {
    /// The kind cannot be registered.
    #[error("cannot spawn a {kind}: {source}")]
    Kind {
        /// The kind.
        kind: &'static str,
        /// Why it cannot be registered.
        source: KindError,
    },
    /// The process has fewer service ids left than services were asked for.
    #[error("cannot spawn {count} {kind} services: {source}")]
    IdsExhausted {
        /// The kind.
        kind: &'static str,
        /// How many services were asked for.
        count: u64,
        /// How many ids were left.
        source: IdsExhaustedError,
    },
    /// The world has room for fewer entities than services were asked for (bevy indexes
    /// entities with 32 bits).
    #[error("cannot spawn {count} {kind} services: the world has room for {left} more entities")]
    EntitiesExhausted {
        /// The kind.
        kind: &'static str,
        /// How many services were asked for.
        count: u64,
        /// How many more entities the world can hold.
        left: u64,
    },
    /// The services would need more memory than can be allocated (or than `usize` counts).
    #[error(
        "cannot spawn {count} {kind} services: they need about {bytes} bytes of memory, more than can be allocated"
    )]
    OutOfMemory {
        /// The kind.
        kind: &'static str,
        /// How many services were asked for (saturated at `u64::MAX`).
        count: u64,
        /// The estimated bytes ([`footprint`](crate::footprint); saturated at `u64::MAX`).
        bytes: u64,
    },
    /// A child cannot be attached to its parent.
    #[error(transparent)]
    Attach(#[from] AttachChildError),
}
