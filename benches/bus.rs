//! Criterion benches of the in-process bus, each beside a hand-written tokio baseline in the same
//! run: an unbounded `tokio::sync::mpsc` channel per service, a topic → senders map, and the
//! message behind an `Arc` (what a Rust user writes without the engine).
//!
//! | group | what is timed | throughput unit |
//! |---|---|---|
//! | `bus/broadcast_1M` | one broadcast to 1 000 000 subscribers, delivered to each handler | delivery |
//! | `bus/fanout_100k_x10` | 100 000 broadcasts to 10 subscribers | delivery |
//! | `bus/targeted_1M` | 1 000 000 messages, each targeted at one of 1 000 000 services | delivery |
//!
//! Engine side: publish (from outside, `Engine::publish_all`) + `Engine::pump_messages`; the
//! handler is a sync ON_MESSAGE hook counting into a component of its service. Baseline side:
//! look up the topic's senders, send to each (or to the target's), then drain every receiver and
//! count into that service's counter.
//!
//! Run with `cargo bench --bench bus`.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use bevy_ecs::prelude::*;
use criterion::{BenchmarkId, Criterion, Throughput};
use lifecycle_ecs::messaging::MessageBusClient;
use lifecycle_ecs::messaging::bus::{Deliveries, Envelope, Target};
use lifecycle_ecs::prelude::*;
use tokio::sync::mpsc;

/// The benched worker kind.
#[derive(Component, Default, Clone)]
#[require(MessageBusClient)]
struct Worker;
impl ServiceKind for Worker {
    const NAME: &'static str = "Worker";
    type Bases = (MessageBusClient,);
}

/// What a worker counts.
#[derive(Component, Default)]
struct Received(u64);

lifecycle_ecs::wire_message! {
    /// The benched message.
    #[derive(Clone, Debug)]
    pub struct Ping: "ping" {
        /// A sequence number.
        pub n: u64,
    }
}

/// The engine's handler.
fn count(mut deliveries: Deliveries<Worker, Ping, &mut Received>) {
    deliveries.for_each(|_, ping, mut received| received.0 += black_box(ping.n) | 1);
}

fn message() -> Ping {
    Ping { n: 1 }
}

/// An engine with `services` running workers subscribed to `ping`.
fn engine(services: usize) -> (Engine, Vec<Entity>) {
    let mut engine = Engine::new();
    engine
        .add_hook_with::<Worker, _>(
            HookType::OnMessage,
            HookConfig::named("count").topics(["ping"]),
            count,
        )
        .expect("registers");
    let workers = engine.spawn_batch_with(Worker, services, |_| Received(0));
    engine.initialize(Selection::All);
    engine.start(Selection::All);
    (engine, workers)
}

/// The baseline: a channel per service and a topic → senders map.
struct Baseline {
    topics: HashMap<&'static str, Vec<usize>>,
    senders: Vec<mpsc::UnboundedSender<Arc<Ping>>>,
    receivers: Vec<mpsc::UnboundedReceiver<Arc<Ping>>>,
    received: Vec<u64>,
}

impl Baseline {
    fn new(services: usize) -> Self {
        let (senders, receivers) = (0..services).map(|_| mpsc::unbounded_channel()).unzip();
        let mut topics = HashMap::new();
        topics.insert("ping", (0..services).collect());
        Self {
            topics,
            senders,
            receivers,
            received: vec![0; services],
        }
    }

    fn broadcast(&self, topic: &str, message: &Arc<Ping>) {
        for &service in &self.topics[topic] {
            let _ = self.senders[service].send(message.clone());
        }
    }

    fn send_to(&self, service: usize, message: &Arc<Ping>) {
        let _ = self.senders[service].send(message.clone());
    }

    /// Every service handles what it received.
    fn deliver(&mut self) -> u64 {
        let mut delivered = 0;
        for (service, receiver) in self.receivers.iter_mut().enumerate() {
            while let Ok(message) = receiver.try_recv() {
                self.received[service] += black_box(message.n) | 1;
                delivered += 1;
            }
        }
        delivered
    }
}

/// `bus/broadcast_1M`.
fn broadcast_1m(c: &mut Criterion) {
    const SERVICES: usize = 1_000_000;
    let (mut engine, _) = engine(SERVICES);
    let mut baseline = Baseline::new(SERVICES);
    let shared = Arc::new(message());
    let mut group = c.benchmark_group("bus/broadcast_1M");
    group.throughput(Throughput::Elements(SERVICES as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    group.bench_function(BenchmarkId::new("engine", SERVICES), |b| {
        b.iter(|| {
            engine
                .publish(None, Target::Broadcast, message())
                .expect("bus");
            let pumped = engine.pump_messages();
            assert_eq!(pumped.delivered, SERVICES as u64);
        });
    });
    group.bench_function(BenchmarkId::new("baseline", SERVICES), |b| {
        b.iter(|| {
            baseline.broadcast("ping", &shared);
            assert_eq!(baseline.deliver(), SERVICES as u64);
        });
    });
    group.finish();
}

/// `bus/fanout_100k_x10`.
fn fanout(c: &mut Criterion) {
    const SERVICES: usize = 10;
    const MESSAGES: usize = 100_000;
    let (mut engine, _) = engine(SERVICES);
    let mut baseline = Baseline::new(SERVICES);
    let shared = Arc::new(message());
    let mut group = c.benchmark_group("bus/fanout_100k_x10");
    group.throughput(Throughput::Elements((SERVICES * MESSAGES) as u64));
    group.sample_size(10);
    group.bench_function(BenchmarkId::new("engine", MESSAGES), |b| {
        b.iter(|| {
            engine
                .publish_all(
                    (0..MESSAGES).map(|_| Envelope::new(None, Target::Broadcast, message())),
                )
                .expect("bus");
            let pumped = engine.pump_messages();
            assert_eq!(pumped.delivered, (SERVICES * MESSAGES) as u64);
        });
    });
    group.bench_function(BenchmarkId::new("baseline", MESSAGES), |b| {
        b.iter(|| {
            for _ in 0..MESSAGES {
                baseline.broadcast("ping", &shared);
            }
            assert_eq!(baseline.deliver(), (SERVICES * MESSAGES) as u64);
        });
    });
    group.finish();
}

/// `bus/targeted_1M`.
fn targeted(c: &mut Criterion) {
    const SERVICES: usize = 1_000_000;
    let (mut engine, workers) = engine(SERVICES);
    let mut baseline = Baseline::new(SERVICES);
    let mut group = c.benchmark_group("bus/targeted_1M");
    group.throughput(Throughput::Elements(SERVICES as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.bench_function(BenchmarkId::new("engine", SERVICES), |b| {
        b.iter(|| {
            engine
                .publish_all(
                    workers
                        .iter()
                        .map(|&worker| Envelope::new(None, Target::Service(worker), message())),
                )
                .expect("bus");
            let pumped = engine.pump_messages();
            assert_eq!(pumped.delivered, SERVICES as u64);
        });
    });
    group.bench_function(BenchmarkId::new("baseline", SERVICES), |b| {
        b.iter(|| {
            for service in 0..SERVICES {
                baseline.send_to(service, &Arc::new(message()));
            }
            assert_eq!(baseline.deliver(), SERVICES as u64);
        });
    });
    group.finish();
}

/// Runs every group (written out instead of `criterion_main!`, so the entry point is documented).
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    broadcast_1m(&mut criterion);
    fanout(&mut criterion);
    targeted(&mut criterion);
    criterion.final_summary();
}
