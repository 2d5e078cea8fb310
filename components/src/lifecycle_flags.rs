//! Per-service lifecycle flags: AIPerf's events and the stop-requested gate.

use bevy_ecs::component::Component;

/// AIPerf's per-object events as bits, plus the service's depth in the lifecycle tree.
///
/// `stop_requested` gates `stop` (a second stop is ignored); `was_initialized`, `was_started` and
/// `was_stopped` are set *after* the final state's ON_STATE_CHANGE hooks ran, as AIPerf sets its
/// events. Two bytes per service.
///
/// # Example
/// ```
/// use lifecycle_ecs_components::LifecycleFlags;
/// let mut flags = LifecycleFlags::default();
/// assert!(!flags.stop_requested());
/// flags.set_stop_requested(true);
/// assert!(flags.stop_requested());
/// assert_eq!(flags.depth(), 0);
/// ```
///
/// Removing a service's flags (or despawning it) orphans its lifecycle children: they become
/// roots (see [`LifecycleParent`](crate::LifecycleParent)).
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[component(on_remove = crate::lifecycle_tree::orphan_children)]
pub struct LifecycleFlags {
    bits: u8,
    depth: u8,
}

impl LifecycleFlags {
    const STOP_REQUESTED: u8 = 1;
    const INITIALIZED: u8 = 1 << 1;
    const STARTED: u8 = 1 << 2;
    const STOPPED: u8 = 1 << 3;

    /// Flags for a service at `depth` in the lifecycle tree (0 = root).
    pub const fn at_depth(depth: u8) -> Self {
        Self { bits: 0, depth }
    }

    /// Whether a stop was requested (by `stop`, by the fail path, or by hand).
    pub const fn stop_requested(self) -> bool {
        self.bits & Self::STOP_REQUESTED != 0
    }

    /// Whether initialization completed (AIPerf's `initialized_event`).
    pub const fn was_initialized(self) -> bool {
        self.bits & Self::INITIALIZED != 0
    }

    /// Whether start completed (AIPerf's `started_event`).
    pub const fn was_started(self) -> bool {
        self.bits & Self::STARTED != 0
    }

    /// Whether stop completed (AIPerf's `stopped_event`).
    pub const fn was_stopped(self) -> bool {
        self.bits & Self::STOPPED != 0
    }

    /// Depth of the service in the lifecycle tree: 0 for a root, parent's depth + 1 for a child.
    pub const fn depth(self) -> u8 {
        self.depth
    }

    /// Sets or clears the stop-requested flag.
    pub fn set_stop_requested(&mut self, on: bool) {
        self.set(Self::STOP_REQUESTED, on);
    }

    /// Marks initialization complete.
    pub fn mark_initialized(&mut self) {
        self.set(Self::INITIALIZED, true);
    }

    /// Marks start complete.
    pub fn mark_started(&mut self) {
        self.set(Self::STARTED, true);
    }

    /// Marks stop complete.
    pub fn mark_stopped(&mut self) {
        self.set(Self::STOPPED, true);
    }

    /// Sets the tree depth (the engine does this when children are attached).
    pub fn set_depth(&mut self, depth: u8) {
        self.depth = depth;
    }

    fn set(&mut self, bit: u8, on: bool) {
        if on {
            self.bits |= bit;
        } else {
            self.bits &= !bit;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_independent() {
        let mut flags = LifecycleFlags::at_depth(3);
        flags.mark_initialized();
        flags.mark_stopped();
        assert!(flags.was_initialized() && flags.was_stopped());
        assert!(!flags.was_started() && !flags.stop_requested());
        flags.set_stop_requested(true);
        flags.set_stop_requested(false);
        assert!(!flags.stop_requested());
        assert_eq!(flags.depth(), 3);
    }
}
