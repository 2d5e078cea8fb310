//! One bus round, and a pump of rounds: drain the outbox, route, run the message hooks, count
//! what nobody received.

use bevy_ecs::world::{Mut, World};
use lifecycle_ecs_components::LifecycleState;
use lifecycle_ecs_systems::HookFutures;

use super::message_hooks::MessageHooks;
use super::{BusOutbox, BusReport, BusRound, Target, TopicTable, TrafficMirror, UndeliveredReason};

/// How many rounds one pump runs at most: messages that handlers publish go to the next round,
/// so a ping-pong between services cannot keep one pump going forever. What is left waits for
/// the next pump (the run loop's next tick comes at once).
pub const MAX_ROUNDS_PER_PUMP: usize = 64;

/// What one pump did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PumpReport {
    /// Rounds run.
    pub rounds: u64,
    /// Messages routed.
    pub routed: u64,
    /// Handler calls.
    pub delivered: u64,
    /// Messages that reached no handler.
    pub undelivered: u64,
    /// Whether messages still wait in the outbox (published during the last round allowed).
    pub more_waiting: bool,
}

/// Runs rounds until the outbox is empty or `max_rounds` ran.
pub(crate) fn pump(world: &mut World, max_rounds: usize) -> PumpReport {
    let mut report = PumpReport::default();
    if !world.contains_resource::<BusOutbox>() {
        return report;
    }
    for _ in 0..max_rounds {
        let before = world.resource::<BusReport>().clone_counts();
        if !round(world) {
            break;
        }
        let after = world.resource::<BusReport>().clone_counts();
        report.rounds += 1;
        report.routed += after.0 - before.0;
        report.delivered += after.1 - before.1;
        report.undelivered += after.2 - before.2;
    }
    report.more_waiting = !world.resource::<BusOutbox>().is_empty();
    report
}

/// One round; `false` when the outbox was empty.
fn round(world: &mut World) -> bool {
    let mut envelopes = Vec::new();
    world.resource_mut::<BusOutbox>().drain_into(&mut envelopes);
    if envelopes.is_empty() {
        return false;
    }
    let taken = envelopes.len() as u64;
    let published = world.resource::<BusOutbox>().published();
    {
        let mut report = world.resource_mut::<BusReport>();
        report.published = published;
        report.routed += taken;
        report.rounds += 1;
        report.outbox_peak = report.outbox_peak.max(taken);
    }
    world.resource_scope(|world, mut topics: Mut<TopicTable>| {
        world
            .resource_mut::<BusRound>()
            .fill(envelopes, &mut topics);
    });
    if world.contains_resource::<TrafficMirror>() {
        world.resource_scope(|world, mut mirror: Mut<TrafficMirror>| {
            mirror.record(&world.resource::<BusRound>().envelopes);
        });
    }
    if world.contains_resource::<MessageHooks>() {
        world.resource_scope(|world, mut hooks: Mut<MessageHooks>| {
            for hook in &mut hooks.hooks {
                let wanted = {
                    let round = world.resource::<BusRound>();
                    hook.topics.iter().any(|&topic| round.has(topic))
                };
                if !wanted {
                    continue;
                }
                world.resource_mut::<BusRound>().hook_topics = hook.topics.clone();
                hook.schedule.run(world);
                refuse_hook_futures(world);
            }
        });
    }
    classify_undelivered(world);
    drop(world.resource_mut::<BusRound>().take());
    true
}

/// Counts, with its reason, every envelope of the round that reached no handler.
fn classify_undelivered(world: &mut World) {
    world.resource_scope(|world, round: Mut<BusRound>| {
        let mut reached = 0_u64;
        let mut reasons = Vec::new();
        for (envelope, &calls) in round.envelopes.iter().zip(&round.reached) {
            if calls > 0 {
                reached += 1;
                continue;
            }
            let reason = match &envelope.target {
                Target::Broadcast | Target::ServiceType(_) => UndeliveredReason::NoSubscriber,
                Target::Service(entity) => match world.get::<LifecycleState>(*entity) {
                    None => UndeliveredReason::TargetUnknown,
                    Some(LifecycleState::Stopped | LifecycleState::Failed) => {
                        UndeliveredReason::TargetStopped
                    }
                    Some(LifecycleState::Created) => UndeliveredReason::TargetNotInitialized,
                    Some(_) => UndeliveredReason::NoSubscriber,
                },
            };
            tracing::debug!(
                message_type = envelope.message_type(),
                reason = reason.as_str(),
                "message undelivered"
            );
            reasons.push(reason);
        }
        let mut report = world.resource_mut::<BusReport>();
        report.reached += reached;
        for reason in reasons {
            report.undelivered.add(reason);
        }
    });
}

/// Async message handlers are not run yet: a future a message hook handed to `HookTasks` is
/// dropped and counted as a handler error, so it cannot leak into the next lifecycle phase.
fn refuse_hook_futures(world: &mut World) {
    let futures = world.resource_mut::<HookFutures>().take();
    if futures.is_empty() {
        return;
    }
    let mut report = world.resource_mut::<BusReport>();
    for future in futures {
        report.add_handler_error(
            "?",
            &future.hook,
            "async message handlers (HookTasks in an ON_MESSAGE hook) are not supported yet"
                .to_owned(),
        );
    }
}
