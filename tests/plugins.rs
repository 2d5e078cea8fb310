//! Plugins and phase steps: the built-in order of steps (AIPerf's operation order), user
//! plugins (functions and types), duplicate plugins, and a bare engine.

use bevy_ecs::prelude::*;
use lifecycle_ecs::prelude::*;
use lifecycle_ecs::{
    BackgroundPlugin, EngineBuilder, HookConfig, HookRegistrationError, PhaseStep, PluginError,
    PluginMissingError, StepContext, StepFuture,
};

/// What ran, in order.
#[derive(Resource, Default)]
struct Log(Vec<String>);

/// The service whose entries are tagged `parent` (the others are `child`).
#[derive(Resource)]
struct ParentIs(Entity);

fn record(world: &mut World, step: StepContext<'_>) {
    let who = if step.has_services() {
        let entities = step.entities(world);
        let parent = world.get_resource::<ParentIs>().map(|parent| parent.0);
        if entities.iter().any(|entity| Some(*entity) == parent) {
            "@parent"
        } else {
            "@child"
        }
    } else {
        ""
    };
    let entry = format!("{:?}{who}", step.step());
    world.resource_mut::<Log>().0.push(entry);
}

/// A plugin that is a plain function: a resource and a step at every point of an operation.
fn recorder(builder: &mut EngineBuilder) {
    builder.init_resource::<Log>();
    for at in [
        PhaseStep::BeforeOperation,
        PhaseStep::PhaseStart,
        PhaseStep::PhaseEnd,
        PhaseStep::AfterOperation,
    ] {
        builder.add_step(at, "record", record);
    }
}

fn log_hook(mut targets: Targets<Lifecycle>, mut log: ResMut<Log>) {
    let mut count = 0;
    targets.for_each(|_, ()| count += 1);
    log.0.push(format!("hooks x{count}"));
}

fn take_log(engine: &mut Engine) -> Vec<String> {
    std::mem::take(&mut engine.world_mut().resource_mut::<Log>().0)
}

#[test]
fn steps_run_in_aiperf_operation_order_once_per_batch() {
    let mut engine = Engine::builder().add_plugin(recorder).build();
    for hook_type in [HookType::OnInit, HookType::OnStart, HookType::OnStop] {
        engine
            .add_hook::<Lifecycle, _>(hook_type, log_hook)
            .unwrap();
    }
    let parent = engine.spawn(Lifecycle);
    engine.spawn_children(parent, Lifecycle, 3).unwrap();
    engine.world_mut().insert_resource(ParentIs(parent));

    // initialize and start: start step, children (a nested batch), hooks, end step.
    for operation in ["initialize", "start"] {
        let report = if operation == "initialize" {
            engine.initialize(Selection::All)
        } else {
            engine.start(Selection::All)
        };
        assert_eq!(report.moved, 4, "{operation}");
        assert_eq!(
            take_log(&mut engine),
            [
                "BeforeOperation",
                "PhaseStart@parent",
                "PhaseStart@child",
                "hooks x3",
                "PhaseEnd@child",
                "hooks x1",
                "PhaseEnd@parent",
                "AfterOperation",
            ],
            "{operation}"
        );
    }

    // stop: start step, hooks, children, then the end step (background tasks end there).
    assert_eq!(engine.stop(Selection::All).moved, 4);
    assert_eq!(
        take_log(&mut engine),
        [
            "BeforeOperation",
            "PhaseStart@parent",
            "hooks x1",
            "PhaseStart@child",
            "hooks x3",
            "PhaseEnd@child",
            "PhaseEnd@parent",
            "AfterOperation",
        ]
    );
}

#[test]
fn built_in_steps_are_registered_in_order_and_user_steps_follow() {
    let engine = Engine::builder().add_plugin(recorder).build();
    assert_eq!(
        engine
            .plugins()
            .iter()
            .map(|name| &**name)
            .collect::<Vec<_>>()[..4],
        ["background", "watchdog", "state_watch", "control"]
    );
    let names = |at| {
        engine
            .phase_steps(at)
            .iter()
            .map(|name| name.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(PhaseStep::BeforeOperation),
        ["background::collect_results", "record"]
    );
    assert_eq!(
        names(PhaseStep::PhaseStart),
        ["background::launch", "record"]
    );
    assert_eq!(names(PhaseStep::PhaseEnd), ["background::end", "record"]);
    assert_eq!(
        names(PhaseStep::AfterOperation),
        ["state_watch::publish", "record"]
    );
    assert_eq!(names(PhaseStep::StopRequested), ["background::wind_down"]);
    assert_eq!(
        names(PhaseStep::RunLoopTick),
        ["background::tick", "bus::pump"]
    );
    assert!(names(PhaseStep::Barrier).is_empty());
}

/// A plugin that is a type, with its own name and an async step.
struct CountBarriers;

#[derive(Resource, Default)]
struct Barriers(u32);

fn count_barrier<'a>(world: &'a mut World, _step: StepContext<'a>) -> StepFuture<'a> {
    Box::pin(async move {
        tokio::task::yield_now().await;
        world.resource_mut::<Barriers>().0 += 1;
    })
}

impl EnginePlugin for CountBarriers {
    fn build(&self, builder: &mut EngineBuilder) {
        builder.init_resource::<Barriers>();
        builder
            .add_async_step(PhaseStep::Barrier, "count_barrier", count_barrier)
            .unwrap();
    }

    fn name(&self) -> &str {
        "count_barriers"
    }
}

fn hand_over(mut targets: Targets<Lifecycle>, mut tasks: HookTasks) {
    targets.for_each(|entity, ()| {
        tasks.spawn(entity, async { Ok::<(), HookError>(()) });
    });
}

#[test]
fn a_typed_plugin_adds_an_async_step_at_each_barrier() {
    let mut engine = EngineBuilder::bare().add_plugin(CountBarriers).build();
    assert!(engine.has_plugin("count_barriers"));
    engine
        .add_hook::<Lifecycle, _>(HookType::OnInit, hand_over)
        .unwrap();
    engine.spawn_batch(Lifecycle, 5);
    assert_eq!(engine.initialize(Selection::All).moved, 5);
    assert_eq!(
        engine.world().resource::<Barriers>().0,
        1,
        "one barrier per batch"
    );
    assert_eq!(engine.start(Selection::All).moved, 5);
    assert_eq!(
        engine.world().resource::<Barriers>().0,
        1,
        "no futures, no barrier"
    );
}

#[test]
fn a_plugin_is_added_once() {
    let mut builder = EngineBuilder::bare();
    builder.try_add_plugin(recorder).unwrap();
    assert!(matches!(
        builder.try_add_plugin(recorder),
        Err(PluginError::Duplicate(name)) if name.ends_with("recorder")
    ));
    // `add_plugin` is idempotent: the second is skipped.
    let engine = builder.add_plugin(recorder).build();
    assert_eq!(engine.phase_steps(PhaseStep::PhaseStart).len(), 1);

    let mut builder = Engine::builder();
    assert_eq!(
        builder.try_add_plugin(BackgroundPlugin).err(),
        Some(PluginError::Duplicate("background".into()))
    );
}

#[test]
fn async_steps_are_refused_where_only_sync_steps_run() {
    let mut builder = EngineBuilder::bare();
    for at in [PhaseStep::AfterOperation, PhaseStep::StopRequested] {
        assert!(matches!(
            builder.add_async_step(at, "late", count_barrier),
            Err(PluginError::AsyncNotAllowed { at: refused, .. }) if refused == at
        ));
    }
}

#[test]
fn a_bare_engine_has_no_features_but_runs_lifecycles() {
    let mut engine = EngineBuilder::bare().build();
    assert!(engine.plugins().is_empty());
    assert!(!engine.has_watchdog());
    assert!(Engine::new().has_watchdog());
    for at in PhaseStep::ALL {
        assert!(engine.phase_steps(at).is_empty());
    }

    let missing = HookRegistrationError::PluginMissing(PluginMissingError {
        plugin: "background",
    });
    let error = engine
        .add_background_task::<Lifecycle, _>(
            HookConfig::named("beat"),
            BackgroundTaskParams::every(std::time::Duration::from_millis(5)),
            log_hook,
        )
        .unwrap_err();
    assert_eq!(error.to_string(), missing.to_string());
    assert!(matches!(
        error,
        HookRegistrationError::PluginMissing(PluginMissingError {
            plugin: "background"
        })
    ));
    let error = engine
        .add_async_background_task::<Lifecycle, _, _>(
            HookConfig::named("beat"),
            BackgroundTaskParams::every(std::time::Duration::from_millis(5)),
            |_| (),
            |_| async { Ok::<(), HookError>(()) },
        )
        .unwrap_err();
    assert!(matches!(error, HookRegistrationError::PluginMissing(_)));

    let services = engine.spawn_batch(Lifecycle, 10);
    assert!(engine.watch(services[0]).is_none(), "no state-watch plugin");
    assert_eq!(engine.initialize(Selection::All).moved, 10);
    assert_eq!(engine.start(Selection::All).moved, 10);
    engine.stop_handle().stop(services[3]);
    assert_eq!(
        engine.process_stop_requests().map(|report| report.moved),
        Some(1)
    );
    assert_eq!(engine.stop(Selection::All).moved, 9);
    assert_eq!(engine.tick().runs, 0);
    assert!(
        services
            .iter()
            .all(|&service| engine.state(service) == Some(LifecycleState::Stopped))
    );
}
