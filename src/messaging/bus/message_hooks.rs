//! The ON_MESSAGE hooks of an engine, owned by the bus plugin: each hook's schedule and the
//! message types it handles.

use std::sync::Arc;

use bevy_ecs::schedule::{IntoScheduleConfigs, Schedule, ScheduleConfigs};
use bevy_ecs::system::{Res, ResMut, ScheduleSystem};
use bevy_ecs::world::World;
use lifecycle_ecs_components::HookInfo;
use lifecycle_ecs_systems::{ActiveHook, RunningHooks, leave_hook};

use super::{BusReport, BusRound, TopicId, TopicTable};
use crate::hook_owner::{HookOwner, OwnedHook};

/// One ON_MESSAGE hook.
pub(crate) struct MessageHook {
    pub(crate) topics: Arc<[TopicId]>,
    pub(crate) position: u32,
    pub(crate) schedule: Schedule,
}

/// Every ON_MESSAGE hook, in run order (kind position, then registration): a World resource.
#[derive(bevy_ecs::resource::Resource, Default)]
pub(crate) struct MessageHooks {
    pub(crate) hooks: Vec<MessageHook>,
}

/// How the bus plugin owns ON_MESSAGE.
pub(crate) const MESSAGE_HOOK_OWNER: HookOwner = HookOwner {
    plugin: super::BUS_PLUGIN,
    exit: exit_guard,
    claims: has_topics,
    store,
};

/// The bus takes the ON_MESSAGE hooks that name message types (AIPerf's
/// `@on_message(*types)`); one without types runs only on demand (`run_hooks`).
pub(crate) fn has_topics(info: &HookInfo) -> bool {
    info.params
        .topic_list()
        .is_some_and(|topics| !topics.is_empty())
}

fn store(world: &mut World, hook: OwnedHook) {
    let topics: Arc<[TopicId]> = {
        let mut table = world.get_resource_or_init::<TopicTable>();
        let mut ids: Vec<TopicId> = Vec::new();
        for name in hook.info.params.topic_list().unwrap_or_default() {
            let id = table.intern(name);
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids.into()
    };
    let mut hooks = world.get_resource_or_init::<MessageHooks>();
    let index = hooks
        .hooks
        .partition_point(|existing| existing.position <= hook.position);
    hooks.hooks.insert(
        index,
        MessageHook {
            topics,
            position: hook.position,
            schedule: hook.schedule,
        },
    );
}

/// After each message hook: its handler calls and errors go to the [`BusReport`]; an error the
/// whole system returned (or a panic outside a handler call) counts as one handler error.
fn exit_guard(active: &ActiveHook) -> ScheduleConfigs<ScheduleSystem> {
    let kind = active.kind;
    let name = active.name.clone();
    (move |running: Res<RunningHooks>,
           mut round: ResMut<BusRound>,
           mut report: ResMut<BusReport>| {
        let system_error = leave_hook(&running);
        report.delivered += core::mem::take(&mut round.hook_deliveries);
        for failure in round.hook_failures.drain(..) {
            tracing::warn!(hook = %name, kind, error = %failure.error, "message handler failed");
            report.add_handler_error(kind, &name, failure.error.to_string());
        }
        if let Some(error) = system_error {
            tracing::warn!(hook = %name, kind, %error, "message hook failed");
            report.add_handler_error(kind, &name, error.to_string());
        }
    })
    .into_configs()
}
