//! "Ignore" means exactly one `debug` event per ignored service and nothing else (AIPerf §1.5).
//! One test in its own binary: `tracing`'s callsite interest cache is process-wide, so a scoped
//! subscriber must not race other tests' threads.

mod common;

use std::sync::{Arc, Mutex};

use bevy_ecs::prelude::*;
use common::*;
use lifecycle_ecs::prelude::*;
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};

/// Counts `debug` events and every other event, across all targets.
#[derive(Clone, Default)]
struct EventCounter(Arc<Mutex<(usize, usize)>>);

impl<S: Subscriber> Layer<S> for EventCounter {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let mut counts = self.0.lock().unwrap();
        if *event.metadata().level() == tracing::Level::DEBUG {
            counts.0 += 1;
        } else {
            counts.1 += 1;
        }
    }
}

#[test]
fn an_ignored_operation_emits_exactly_one_debug_event_per_service() {
    let counter = EventCounter::default();
    let subscriber = tracing_subscriber::registry().with(counter.clone());
    let mut engine = engine_with_log();
    let services: Vec<Entity> = (0..3).map(|_| engine.spawn(Base)).collect();
    engine.initialize(Selection::All);
    tracing::subscriber::with_default(subscriber, || {
        let report = engine.initialize(services[0]);
        assert_eq!(report.ignored, vec![services[0]]);
        assert_eq!(*counter.0.lock().unwrap(), (1, 0));
        let report = engine.initialize(Selection::All);
        assert_eq!(report.ignored.len(), 3);
        assert_eq!(*counter.0.lock().unwrap(), (4, 0));
    });
}
