//! Fixtures shared by the behaviour tests: kinds shaped like AIPerf's classes and a log resource.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the fixtures"
)]

use bevy_ecs::prelude::*;
use lifecycle_ecs::prelude::*;
use lifecycle_ecs::service_kind;

/// The order in which hooks ran, as `"<hook>@<entity index>"` lines.
#[derive(Resource, Default, Debug)]
pub struct Log(pub Vec<String>);

impl Log {
    pub fn take(world: &mut World) -> Vec<String> {
        std::mem::take(&mut world.resource_mut::<Log>().0)
    }
}

service_kind! {
    /// AIPerf's `class Base(AIPerfLifecycleMixin)`.
    pub struct Base: Lifecycle
}

service_kind! {
    /// AIPerf's `class Derived(Base)`.
    pub struct Derived: Base
}

service_kind! {
    /// A kind that provides ON_MESSAGE (AIPerf's `MessageBusClientMixin`).
    pub struct Messaging: Lifecycle; provides [HookType::OnMessage]
}

/// A hook that logs `"<name>@<entity>"` for each target of kind `K`.
pub fn logging_hook<K: ServiceKind>(
    name: &'static str,
) -> impl FnMut(Targets<K>, ResMut<Log>) + Send + Sync + 'static {
    move |mut targets: Targets<K>, mut log: ResMut<Log>| {
        targets.for_each(|entity, ()| log.0.push(format!("{name}@{}", entity.index_u32())));
    }
}

/// A hook that logs like [`logging_hook`] and fails the targets listed in `failing`.
pub fn failing_hook<K: ServiceKind>(
    name: &'static str,
    message: &'static str,
    failing: Vec<Entity>,
) -> impl FnMut(Targets<K>, ResMut<Log>) + Send + Sync + 'static {
    move |mut targets: Targets<K>, mut log: ResMut<Log>| {
        targets.try_for_each(|entity, ()| {
            log.0.push(format!("{name}@{}", entity.index_u32()));
            if failing.contains(&entity) {
                Err(HookError::from(message))
            } else {
                Ok(())
            }
        });
    }
}

/// Records every state change as `"<entity>:<old>-><new>"`.
pub fn state_change_logger(mut targets: Targets<Lifecycle>, mut log: ResMut<Log>) {
    let change = targets.state_change().expect("a state change is reported");
    targets.for_each(|entity, ()| {
        log.0.push(format!(
            "{}:{}->{}",
            entity.index_u32(),
            change.old,
            change.new
        ));
    });
}

pub fn engine_with_log() -> Engine {
    let mut engine = Engine::new();
    engine.world_mut().init_resource::<Log>();
    engine
}

pub fn tag(name: &str, entity: Entity) -> String {
    format!("{name}@{}", entity.index_u32())
}

/// Registers [`logging_hook`] as hook `name` of `hook_type` for kind `K`.
pub fn add_logging_hook<K: ServiceKind>(
    engine: &mut Engine,
    hook_type: HookType,
    name: &'static str,
) {
    engine
        .add_named_hook::<K, _>(hook_type, name, logging_hook::<K>(name))
        .expect("the kind provides the hook type");
}

/// Registers [`failing_hook`] as hook `name` of `hook_type` for kind `K`.
pub fn add_failing_hook<K: ServiceKind>(
    engine: &mut Engine,
    hook_type: HookType,
    name: &'static str,
    message: &'static str,
    failing: Vec<Entity>,
) {
    engine
        .add_named_hook::<K, _>(hook_type, name, failing_hook::<K>(name, message, failing))
        .expect("the kind provides the hook type");
}

/// A log shared with futures (they cannot reach the world).
#[derive(Resource, Clone, Default)]
pub struct SharedLog(pub std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl SharedLog {
    pub fn push(&self, line: String) {
        self.0.lock().unwrap().push(line);
    }
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// An engine on the test's tokio runtime.
pub fn engine_here() -> lifecycle_ecs::Engine {
    lifecycle_ecs::Engine::builder()
        .runtime_handle(tokio::runtime::Handle::current())
        .build()
}

/// An engine on the test's tokio runtime, with a [`SharedLog`] resource.
pub fn engine_on_current_runtime() -> (lifecycle_ecs::Engine, SharedLog) {
    let mut engine = engine_here();
    let log = SharedLog::default();
    engine.world_mut().insert_resource(log.clone());
    (engine, log)
}

/// A sync hook that logs `name` per target.
pub fn sync_step(name: &'static str) -> impl FnMut(Targets<Base>, Res<SharedLog>) + Send + Sync {
    move |mut targets: Targets<Base>, log: Res<SharedLog>| {
        targets.for_each(|entity, ()| log.push(tag(name, entity)));
    }
}

/// A hook that spawns, per target, a future that sleeps `delay`, logs `name`, and fails for the
/// `failing` ones.
pub fn async_step(
    name: &'static str,
    delay: std::time::Duration,
    failing: Vec<Entity>,
) -> impl FnMut(Targets<Base>, HookTasks, Res<SharedLog>) + Send + Sync {
    move |mut targets: Targets<Base>, mut tasks: HookTasks, log: Res<SharedLog>| {
        targets.for_each(|entity, ()| {
            let log = log.clone();
            let fail = failing.contains(&entity);
            tasks.spawn(entity, async move {
                tokio::time::sleep(delay).await;
                log.push(tag(name, entity));
                if fail {
                    Err(HookError::from("socket closed"))
                } else {
                    Ok(())
                }
            });
        });
    }
}

/// A hook whose future per target waits `delay` (or yields once when zero), counts itself in
/// `finished`, and fails with "refused" for the targets `fails` picks.
pub fn counted_io(
    finished: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    delay: std::time::Duration,
    fails: fn(Entity) -> bool,
) -> impl FnMut(Targets<Base>, HookTasks) + Send + Sync {
    move |mut targets: Targets<Base>, mut tasks: HookTasks| {
        targets.for_each(|entity, ()| {
            let finished = finished.clone();
            let fail = fails(entity);
            tasks.spawn(entity, async move {
                if delay.is_zero() {
                    tokio::task::yield_now().await;
                } else {
                    tokio::time::sleep(delay).await;
                }
                finished.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if fail {
                    Err(HookError::from("refused"))
                } else {
                    Ok(())
                }
            });
        });
    }
}
