//! The `error`-level lines of failed named operations (AIPerf §1.6/§1.7): a refused step of
//! `initialize_and_start` logs `Failed to initialize: <error>` / `Failed to start: <error>`, a
//! failing named scope logs `Failed to <name lowercased>: <error>`; once per service, the first
//! 100 services of an operation one by one, then one line counting the rest.
//!
//! Events are captured by one global subscriber (installed once for this binary, so `tracing`'s
//! process-wide callsite cache never sees a scoped one come and go) and sorted by the thread that
//! emitted them: each test reads only its own thread's events.

mod common;

use std::sync::{Mutex, Once};
use std::thread::ThreadId;
use std::time::Duration;

use bevy_ecs::prelude::*;
use common::*;
use lifecycle_ecs::prelude::*;
use tracing::field::{Field, Visit};
use tracing::{Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};

#[derive(Clone, Debug)]
struct Captured {
    level: Level,
    message: String,
    service: Option<String>,
}

static EVENTS: Mutex<Vec<(ThreadId, Captured)>> = Mutex::new(Vec::new());

struct Capture;

#[derive(Default)]
struct Fields {
    message: String,
    service: Option<String>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "service" => self.service = Some(format!("{value:?}")),
            _ => {}
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message = value.to_owned(),
            "service" => self.service = Some(value.to_owned()),
            _ => {}
        }
    }
}

impl<S: Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        EVENTS.lock().unwrap().push((
            std::thread::current().id(),
            Captured {
                level: *event.metadata().level(),
                message: fields.message,
                service: fields.service,
            },
        ));
    }
}

fn capture() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(Capture))
            .expect("no other global subscriber in this binary");
    });
}

/// The `error` events this thread emitted so far.
fn errors_here() -> Vec<Captured> {
    let here = std::thread::current().id();
    EVENTS
        .lock()
        .unwrap()
        .iter()
        .filter(|(thread, event)| *thread == here && event.level == Level::ERROR)
        .map(|(_, event)| event.clone())
        .collect()
}

fn messages(events: &[Captured]) -> Vec<&str> {
    events.iter().map(|event| event.message.as_str()).collect()
}

#[test]
fn a_refused_initialize_step_is_logged_once_at_error_level() {
    capture();
    let mut engine = engine_with_log();
    let stopped = engine.spawn(Base);
    let fresh = engine.spawn(Base);
    engine.stop(stopped);
    assert!(errors_here().is_empty());

    engine.initialize_and_start([stopped, fresh]);

    let errors = errors_here();
    let id = engine.service_id(stopped).unwrap().to_string();
    assert_eq!(
        messages(&errors),
        [format!(
            "Failed to initialize: Cannot initialize from state stopped for Base (id={id})"
        )]
    );
    assert_eq!(errors[0].service.as_deref(), Some(id.as_str()));
    // The record is unchanged.
    assert_eq!(engine.exit_errors(stopped)[0].operation, "Initialize");
}

#[test]
fn refusals_beyond_the_first_hundred_are_counted_in_one_line() {
    capture();
    let mut engine = engine_with_log();
    let services = engine.spawn_batch(Base, 250);
    engine.stop(Selection::All);

    let report = engine.initialize_and_start(Selection::All);

    assert_eq!(report.initialize.invalid.len(), 250);
    let errors = errors_here();
    assert_eq!(errors.len(), 101, "100 services one by one, then a count");
    assert!(errors[..100].iter().all(|event| {
        event
            .message
            .starts_with("Failed to initialize: Cannot initialize")
    }));
    let mut logged: Vec<&str> = errors[..100]
        .iter()
        .filter_map(|event| event.service.as_deref())
        .collect();
    logged.sort_unstable();
    logged.dedup();
    assert_eq!(logged.len(), 100, "once per service");
    assert_eq!(
        errors[100].message,
        "150 more services failed to initialize (only the first 100 are logged)"
    );
    // Every service still has its exit error.
    assert!(
        services
            .iter()
            .all(|&service| engine.exit_errors(service).len() == 1)
    );
}

#[test]
fn a_cancelled_initialize_step_logs_no_error() {
    capture();
    let mut engine = engine_with_log();
    let handle = engine.stop_handle();
    engine
        .add_named_hook::<Base, _>(
            HookType::OnInit,
            "quit",
            move |mut targets: Targets<Base>, mut tasks: HookTasks| {
                targets.for_each(|entity, ()| {
                    let handle = handle.clone();
                    tasks.spawn(entity, async move {
                        handle.stop(entity);
                        std::future::pending::<Result<(), HookError>>().await
                    });
                });
            },
        )
        .unwrap();
    let service = engine.spawn(Base);
    engine.initialize_and_start(service);
    assert_eq!(engine.state(service), Some(LifecycleState::Stopped));
    assert!(errors_here().is_empty(), "{:?}", errors_here());
}

#[test]
fn a_failing_scope_in_a_hook_logs_failed_to_its_name_lowercased() {
    capture();
    let mut engine = engine_with_log();
    engine
        .add_named_hook::<Base, _>(HookType::OnInit, "connect", |mut targets: Targets<Base>| {
            targets.try_for_each(|_, ()| {
                try_operation("Connect To DB", || Err::<(), _>("connection refused"))
            });
        })
        .unwrap();
    let service = engine.spawn(Base);

    engine.initialize(service);

    let errors = errors_here();
    assert_eq!(
        messages(&errors),
        ["Failed to connect to db: connection refused"]
    );
    let id = engine.service_id(service).unwrap().to_string();
    assert_eq!(errors[0].service.as_deref(), Some(id.as_str()));
    assert_eq!(engine.exit_errors(service)[0].operation, "Connect To DB");
}

#[test]
fn a_failing_scope_over_many_services_logs_a_hundred_lines_and_a_count() {
    capture();
    let mut engine = engine_with_log();
    engine
        .add_named_hook::<Base, _>(HookType::OnStart, "warm", |mut targets: Targets<Base>| {
            targets.try_for_each(|_, ()| try_operation("Warm Cache", || Err::<(), _>("cold")));
        })
        .unwrap();
    engine.spawn_batch(Base, 120);
    engine.initialize(Selection::All);

    let report = engine.start(Selection::All);

    assert_eq!(report.failed.len(), 120);
    let errors = errors_here();
    assert_eq!(errors.len(), 101);
    assert!(
        errors[..100]
            .iter()
            .all(|event| event.message == "Failed to warm cache: cold")
    );
    assert_eq!(
        errors[100].message,
        "20 more services failed to warm cache (only the first 100 are logged)"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failing_scope_in_a_hook_future_is_logged_like_a_sync_one() {
    capture();
    let (mut engine, _log) = engine_on_current_runtime();
    engine
        .add_named_hook::<Base, _>(
            HookType::OnInit,
            "open",
            |mut targets: Targets<Base>, mut tasks: HookTasks| {
                targets.for_each(|entity, ()| {
                    tasks.spawn(
                        entity,
                        try_operation_async("Open Socket", async {
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            Err::<(), _>(std::io::Error::other("refused"))
                        }),
                    );
                });
            },
        )
        .unwrap();
    engine.spawn(Base);
    engine.initialize_async(Selection::All).await;
    assert_eq!(messages(&errors_here()), ["Failed to open socket: refused"]);
}

#[test]
fn an_engine_scope_logs_failed_to_its_name_for_each_owner() {
    capture();
    let mut engine = engine_with_log();
    let owners = engine.spawn_batch(Base, 2);
    let result: Result<(), _> =
        engine.try_operation(owners.clone(), "Register Services", |_| Err("timed out"));
    assert!(result.is_err());
    let errors = errors_here();
    assert_eq!(
        messages(&errors),
        [
            "Failed to register services: timed out",
            "Failed to register services: timed out"
        ]
    );
    let logged: Vec<String> = errors.iter().filter_map(|e| e.service.clone()).collect();
    let ids: Vec<String> = owners
        .iter()
        .map(|&owner| engine.service_id(owner).unwrap().to_string())
        .collect();
    assert_eq!(logged, ids);
}
