//! The batch steps that move services between states, dense (a scan over every service at one
//! tree depth) or sparse (an explicit list). They never move an entity between archetypes and never
//! allocate per service, except to list the services an operation ignores or refuses.

use bevy_ecs::change_detection::DetectChangesMut;
use bevy_ecs::entity::Entity;
use bevy_ecs::query::{QueryState, With};
use bevy_ecs::world::{Mut, World};
use lifecycle_ecs_components::{
    Disposition, InvalidStateError, Lifecycle, LifecycleFlags, LifecycleState, Operation, ServiceId,
};

type StateQuery = QueryState<
    (
        Entity,
        &'static ServiceId,
        &'static mut LifecycleState,
        &'static mut LifecycleFlags,
    ),
    With<Lifecycle>,
>;

/// Where a classification puts the services it does not move.
#[derive(Debug, Default)]
pub struct Refusals {
    /// Services the operation ignored (one `debug` event each).
    pub ignored: Vec<Entity>,
    /// Services whose state does not allow the operation.
    pub invalid: Vec<InvalidStateError>,
}

type NarrowQuery = QueryState<
    (
        Entity,
        &'static mut LifecycleState,
        &'static mut LifecycleFlags,
    ),
    With<Lifecycle>,
>;

/// Cached queries for the transition steps (build once per world, reuse for every operation).
pub struct Transitions {
    states: StateQuery,
    narrow: NarrowQuery,
}

impl Transitions {
    /// Builds the cached queries for `world`.
    pub fn new(world: &mut World) -> Self {
        Self {
            states: world.query_filtered(),
            narrow: world.query_filtered(),
        }
    }

    /// Applies `operation`'s op×state table to every service at `depth`: movers enter the transient
    /// state (a stop also sets stop-requested first). Records each mover's old state in `old_states`
    /// when given. Returns how many moved.
    pub fn classify_dense(
        &mut self,
        world: &mut World,
        operation: Operation,
        depth: u8,
        refusals: &mut Refusals,
        old_states: Option<&mut Vec<(Entity, LifecycleState)>>,
    ) -> usize {
        let mut moved = 0;
        let debug = tracing::enabled!(tracing::Level::DEBUG);
        let transient = operation.transient_state();
        let stop = operation == Operation::Stop;
        // Keep the per-service body tiny so it inlines into bevy's table loop: movers are moved
        // in place, everything else is only noted and classified afterwards (cold).
        let mut others = Vec::new();
        // Who moves: `initialize` and `start` take one source state; `stop` takes anyone whose
        // stop was not requested yet.
        let source = match operation {
            Operation::Initialize => Some(LifecycleState::Created),
            Operation::Start => Some(LifecycleState::Initialized),
            Operation::Stop => None,
        };
        let narrow = self.narrow.iter_mut(world);
        match old_states {
            None => narrow.for_each(|(entity, mut state, mut flags)| {
                if flags.depth() != depth {
                    return;
                }
                let mover = match source {
                    Some(source) => *state == source,
                    None => !flags.stop_requested(),
                };
                if mover {
                    if stop {
                        // Flags are engine bookkeeping: no change ticks needed.
                        flags.bypass_change_detection().set_stop_requested(true);
                    }
                    *state = transient;
                    moved += 1;
                } else {
                    others.push(entity);
                }
            }),
            Some(list) => narrow.for_each(|(entity, mut state, mut flags)| {
                if flags.depth() != depth {
                    return;
                }
                let current = *state;
                if operation.disposition(current, flags.stop_requested()) == Disposition::Move {
                    if stop {
                        flags.set_stop_requested(true);
                    }
                    *state = transient;
                    moved += 1;
                    list.push((entity, current));
                } else {
                    others.push(entity);
                }
            }),
        }
        if !others.is_empty() {
            let mut query = self.states.query_mut(world);
            let mut iter = query.iter_many_mut(&others);
            while let Some(fetched) = iter.fetch_next() {
                if let Ok((entity, id, mut state, mut flags)) = fetched {
                    classify_one(
                        operation, entity, id, &mut state, &mut flags, refusals, debug,
                    );
                }
            }
        }
        moved
    }

    /// Like [`classify_dense`](Self::classify_dense) for an explicit list (without duplicates).
    /// Entities that are not services are skipped. Movers are appended to `moved` with their old
    /// state.
    pub fn classify_sparse(
        &mut self,
        world: &mut World,
        operation: Operation,
        candidates: &[Entity],
        refusals: &mut Refusals,
        moved: &mut Vec<(Entity, LifecycleState)>,
    ) {
        let debug = tracing::enabled!(tracing::Level::DEBUG);
        let mut query = self.states.query_mut(world);
        let mut iter = query.iter_many_mut(candidates);
        while let Some(fetched) = iter.fetch_next() {
            let Ok((entity, id, mut state, mut flags)) = fetched else {
                continue;
            };
            if let Some(old) = classify_one(
                operation, entity, id, &mut state, &mut flags, refusals, debug,
            ) {
                moved.push((entity, old));
            }
        }
    }

    /// Moves every service at `depth` in `from` to `to`; with `mark`, also sets the operation's
    /// completion flag. Returns how many moved.
    pub fn move_dense(
        &mut self,
        world: &mut World,
        depth: u8,
        from: LifecycleState,
        to: LifecycleState,
        mark: Option<Operation>,
    ) -> usize {
        let mut moved = 0;
        self.narrow
            .iter_mut(world)
            .for_each(|(_, mut state, mut flags)| {
                if *state == from && flags.depth() == depth {
                    *state = to;
                    if let Some(operation) = mark {
                        mark_done(operation, flags.bypass_change_detection());
                    }
                    moved += 1;
                }
            });
        moved
    }

    /// Moves the listed services that are in `from` to `to` (optionally marking completion).
    /// Returns how many moved.
    pub fn move_sparse(
        &mut self,
        world: &mut World,
        list: &[Entity],
        from: LifecycleState,
        to: LifecycleState,
        mark: Option<Operation>,
    ) -> usize {
        let mut moved = 0;
        let mut query = self.states.query_mut(world);
        let mut iter = query.iter_many_mut(list);
        while let Some(fetched) = iter.fetch_next() {
            if let Ok((_, _, mut state, mut flags)) = fetched
                && *state == from
            {
                *state = to;
                if let Some(operation) = mark {
                    mark_done(operation, &mut flags);
                }
                moved += 1;
            }
        }
        moved
    }

    /// Sets the completion flag of `operation` on the listed services that are in `state`.
    pub fn mark_sparse(
        &mut self,
        world: &mut World,
        list: &[Entity],
        state: LifecycleState,
        operation: Operation,
    ) {
        let mut query = self.states.query_mut(world);
        let mut iter = query.iter_many_mut(list);
        while let Some(fetched) = iter.fetch_next() {
            if let Ok((_, _, current, mut flags)) = fetched
                && *current == state
            {
                mark_done(operation, &mut flags);
            }
        }
    }

    /// Sets the completion flag of `operation` on every service at `depth` in `state`.
    pub fn mark_dense(
        &mut self,
        world: &mut World,
        depth: u8,
        state: LifecycleState,
        operation: Operation,
    ) {
        self.narrow
            .iter_mut(world)
            .for_each(|(_, current, mut flags)| {
                if *current == state && flags.depth() == depth {
                    mark_done(operation, &mut flags);
                }
            });
    }

    /// Lists the services at `depth` in `state` (used to name the few that a dense phase failed).
    pub fn collect_dense(
        &mut self,
        world: &mut World,
        depth: u8,
        state: LifecycleState,
    ) -> Vec<Entity> {
        let mut out = Vec::new();
        self.states
            .iter_mut(world)
            .for_each(|(entity, _, current, flags)| {
                if *current == state && flags.depth() == depth {
                    out.push(entity);
                }
            });
        out
    }

    /// Lists the services in `state`, at any depth (off the hot path: stop requests mid-phase).
    pub fn collect_in_state(&mut self, world: &mut World, state: LifecycleState) -> Vec<Entity> {
        let mut out = Vec::new();
        self.states
            .iter_mut(world)
            .for_each(|(entity, _, current, _)| {
                if *current == state {
                    out.push(entity);
                }
            });
        out
    }

    /// Sets one service's state, returning the old one (`None` if `entity` is not a service).
    pub fn set_state(
        &mut self,
        world: &mut World,
        entity: Entity,
        to: LifecycleState,
    ) -> Option<LifecycleState> {
        let (_, _, mut state, _): (Entity, &ServiceId, Mut<LifecycleState>, Mut<LifecycleFlags>) =
            self.states.get_mut(world, entity).ok()?;
        let old = *state;
        *state = to;
        Some(old)
    }
}

fn mark_done(operation: Operation, flags: &mut LifecycleFlags) {
    match operation {
        Operation::Initialize => flags.mark_initialized(),
        Operation::Start => flags.mark_started(),
        Operation::Stop => flags.mark_stopped(),
    }
}

#[cold]
fn classify_one(
    operation: Operation,
    entity: Entity,
    id: &ServiceId,
    state: &mut Mut<LifecycleState>,
    flags: &mut Mut<LifecycleFlags>,
    refusals: &mut Refusals,
    debug: bool,
) -> Option<LifecycleState> {
    let current = **state;
    match operation.disposition(current, flags.stop_requested()) {
        Disposition::Move => {
            if operation == Operation::Stop {
                flags.set_stop_requested(true);
            }
            **state = operation.transient_state();
            Some(current)
        }
        Disposition::Ignore => {
            if debug {
                tracing::debug!(service = %id, state = %current, "{} ignored", operation.verb());
            }
            refusals.ignored.push(entity);
            None
        }
        Disposition::Invalid => {
            refusals.invalid.push(InvalidStateError {
                entity,
                service_id: *id,
                operation,
                state: current,
            });
            None
        }
    }
}
