//! The watchdog: hooks running past the soft deadline are reported (hook futures by the waiting
//! engine, sync hooks by the watchdog thread), and what runs right now can be listed. One test in
//! its own binary: it installs a process-wide `tracing` subscriber.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use lifecycle_ecs::prelude::*;
use tracing::Subscriber;
use tracing::field::{Field, Visit};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};

/// Collects the messages of `warn` events.
#[derive(Clone, Default)]
struct Warnings(Arc<Mutex<Vec<String>>>);

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        } else {
            self.0.push_str(&format!(" {}={value:?}", field.name()));
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push_str(&format!(" {}={value}", field.name()));
    }
}

impl<S: Subscriber> Layer<S> for Warnings {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if *event.metadata().level() == tracing::Level::WARN {
            let mut message = Message(String::new());
            event.record(&mut message);
            self.0.lock().unwrap().push(message.0);
        }
    }
}

fn slow_future(mut targets: Targets<Base>, mut tasks: HookTasks) {
    targets.for_each(|entity, ()| {
        tasks.spawn(entity, async {
            tokio::time::sleep(Duration::from_millis(2500)).await;
            Ok::<(), HookError>(())
        });
    });
}

fn slow_sync_hook(_targets: Targets<Base>) {
    std::thread::sleep(Duration::from_millis(300));
}

#[test]
fn hooks_past_the_soft_deadline_are_reported_and_listed() {
    let warnings = Warnings::default();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(warnings.clone()))
        .expect("the only subscriber of this binary");

    // Hook futures, on the paused clock: reported at 1 s and 2 s, listed while they run.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut engine = Engine::builder()
            .runtime_handle(tokio::runtime::Handle::current())
            .soft_deadline(Duration::from_secs(1))
            .build();
        engine
            .add_hook::<Base, _>(HookType::OnInit, slow_future)
            .unwrap();
        let service = engine.spawn(Base);
        let id = *engine.service_id(service).unwrap();
        let running = engine.running_hooks();
        let observer = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            running.snapshot()
        });
        let report = engine.initialize_async(service).await;
        assert_eq!(
            report.moved, 1,
            "the soft deadline only reports, it does not fail"
        );
        let seen = observer.await.unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].service_id, Some(id));
        assert_eq!(&*seen[0].hook, "slow_future");
        assert_eq!(seen[0].kind, "Base");
        assert_eq!(seen[0].elapsed, Duration::from_millis(1500));
        assert!(engine.running_hooks().snapshot().is_empty());
        let lines = warnings.0.lock().unwrap().clone();
        let about_it: Vec<&String> = lines
            .iter()
            .filter(|line| line.contains("still running") && line.contains(&id.to_string()))
            .collect();
        assert_eq!(about_it.len(), 2, "{lines:?}");
    });

    // A sync hook: the watchdog thread reports it once, naming it.
    warnings.0.lock().unwrap().clear();
    let mut engine = Engine::builder()
        .soft_deadline(Duration::from_millis(50))
        .build();
    engine
        .add_hook::<Base, _>(HookType::OnStart, slow_sync_hook)
        .unwrap();
    let service = engine.spawn(Base);
    engine.initialize_and_start(service);
    let lines = warnings.0.lock().unwrap().clone();
    let sync: Vec<&String> = lines
        .iter()
        .filter(|line| line.contains("sync hook still running") && line.contains("slow_sync_hook"))
        .collect();
    assert_eq!(sync.len(), 1, "{lines:?}");
}
