//! The guard around one run of a hook schedule: its bookkeeping ends even if the future running
//! it is dropped.

use std::ops::{Deref, DerefMut};

use lifecycle_ecs_systems::{HookProgress, PhaseContext};

use crate::engine::Engine;

/// Holds the engine while a hook schedule runs (possibly over several passes, one per hook that
/// handed futures over). Dropping it, when the schedule finished or when the future running it
/// was dropped at an `.await`, ends the phase context and forgets which hooks ran, so the next
/// schedule run starts afresh: no hook is skipped because an abandoned phase had run it.
pub(crate) struct PhaseGuard<'e> {
    engine: &'e mut Engine,
}

impl<'e> PhaseGuard<'e> {
    /// Guards the phase the engine's [`PhaseContext`] was just pointed at.
    pub(crate) fn new(engine: &'e mut Engine) -> Self {
        Self { engine }
    }
}

impl Deref for PhaseGuard<'_> {
    type Target = Engine;

    fn deref(&self) -> &Engine {
        self.engine
    }
}

impl DerefMut for PhaseGuard<'_> {
    fn deref_mut(&mut self) -> &mut Engine {
        self.engine
    }
}

impl Drop for PhaseGuard<'_> {
    fn drop(&mut self) {
        let world = &mut self.engine.world;
        world.resource_mut::<HookProgress>().reset();
        world.resource_mut::<PhaseContext>().end();
    }
}
