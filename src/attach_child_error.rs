//! Why a child could not be attached to a parent in the lifecycle tree.

use core::fmt;

use bevy_ecs::entity::Entity;
use lifecycle_ecs_components::{KindId, LifecycleState, ServiceId, ServiceLabel};

/// The deepest level of the lifecycle tree: a root is at depth 0, and a service's depth is one
/// byte, so a tree has at most 256 levels (depths 0 to 255).
pub const MAX_TREE_DEPTH: u8 = u8::MAX;

/// The child an attach was asked for: an existing service, or one about to be spawned
/// (`spawn_child`, `spawn_children`).
///
/// Displayed as the phrase the attach errors use: `child <Kind> (id=<id>)` (AIPerf's
/// `str(child)`), or `a new <Kind>`.
///
/// # Example
/// ```
/// use lifecycle_ecs::{ChildToAttach, KindId, ServiceId};
/// let id = ServiceId::named(KindId::ROOT, 0, "kid");
/// assert_eq!(ChildToAttach::Existing(id).to_string(), "child Lifecycle (id=kid)");
/// assert_eq!(ChildToAttach::New(KindId::ROOT).to_string(), "a new Lifecycle");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildToAttach {
    /// A service that exists.
    Existing(ServiceId),
    /// A service of this kind, not spawned yet.
    New(KindId),
}

impl fmt::Display for ChildToAttach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Existing(id) => write!(f, "child {}", id.label()),
            Self::New(kind) => write!(f, "a new {kind}"),
        }
    }
}

/// A child could not be attached to a parent.
///
/// Services are named as AIPerf names them (`<Kind> (id=<id>)`); the text of
/// [`ParentNotCreated`](Self::ParentNotCreated) is AIPerf's `attach_child_lifecycle` error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AttachChildError {
    /// One of the two entities is not a service.
    #[error("{0} is not a service (it has no `Lifecycle`)")]
    NotAService(Entity),
    /// Children can only be attached while the parent is CREATED (AIPerf's rule).
    #[error(
        "Cannot attach {child} to {} in state {state}. Please attach children before initializing or starting the lifecycle.",
        ServiceLabel(*parent)
    )]
    ParentNotCreated {
        /// The parent's id.
        parent: ServiceId,
        /// The child.
        child: ChildToAttach,
        /// The parent's state.
        state: LifecycleState,
    },
    /// The child already has a lifecycle parent (one parent per child).
    #[error(
        "Cannot attach child {} to {}: it already has a lifecycle parent",
        ServiceLabel(*child),
        ServiceLabel(*parent)
    )]
    AlreadyAttached {
        /// The parent asked for.
        parent: ServiceId,
        /// The child's id.
        child: ServiceId,
    },
    /// Attaching would make a service its own ancestor.
    #[error(
        "Cannot attach child {} to {}: the child is the parent or one of its ancestors",
        ServiceLabel(*child),
        ServiceLabel(*parent)
    )]
    Cycle {
        /// The parent's id.
        parent: ServiceId,
        /// The child's id.
        child: ServiceId,
    },
    /// The tree already has a cycle (a `LifecycleParent` or a `LifecycleTree` list written through
    /// `world_mut()`), found on the way up from the parent or down from the child.
    #[error(
        "Cannot attach child {} to {}: the lifecycle tree already has a cycle through entity {through} (written past the engine)",
        ServiceLabel(*child),
        ServiceLabel(*parent)
    )]
    TreeCycle {
        /// The parent's id.
        parent: ServiceId,
        /// The child's id.
        child: ServiceId,
        /// An entity on the cycle.
        through: Entity,
    },
    /// The lifecycle tree would have more than 256 levels (a depth past [`MAX_TREE_DEPTH`]).
    #[error(
        "Cannot attach {child} to {}: the lifecycle tree would go deeper than depth 255",
        ServiceLabel(*parent)
    )]
    TooDeep {
        /// The parent's id.
        parent: ServiceId,
        /// The child.
        child: ChildToAttach,
    },
}
