//! Pub/sub on the in-process bus: workers subscribe to `ping`, a manager publishes to all of them,
//! to their service type, and to one of them; every worker answers the manager with a `pong`.
//!
//! Run with `cargo run --example pub_sub`.

use bevy_ecs::prelude::*;
use lifecycle_ecs::messaging::bus::{Deliveries, Publish, Target};
use lifecycle_ecs::messaging::{MessageBusClient, RawMessage};
use lifecycle_ecs::prelude::*;

/// A worker: a message-bus client of AIPerf service type `worker`.
#[derive(Component, Default, Clone)]
#[require(MessageBusClient)]
struct Worker;
impl ServiceKind for Worker {
    const NAME: &'static str = "Worker";
    type Bases = (MessageBusClient,);
    const SERVICE_TYPE: Option<&'static str> = Some("worker");
}

/// The manager that publishes pings and collects pongs.
#[derive(Component, Default, Clone)]
#[require(MessageBusClient)]
struct Manager;
impl ServiceKind for Manager {
    const NAME: &'static str = "Manager";
    type Bases = (MessageBusClient,);
    const SERVICE_TYPE: Option<&'static str> = Some("worker_manager");
}

/// Pings a worker received.
#[derive(Component, Default)]
struct Pings(u32);

/// Pongs the manager received.
#[derive(Component, Default)]
struct Pongs(u32);

/// Every worker counts the ping and answers its sender.
fn on_ping(mut deliveries: Deliveries<Worker, RawMessage, &mut Pings>, mut publish: Publish) {
    deliveries.for_each(|worker, ping, mut pings| {
        pings.0 += 1;
        if let Some(sender) = ping.sender() {
            publish.send(
                Some(worker),
                Target::Service(sender),
                RawMessage::new("pong", Default::default()),
            );
        }
    });
}

/// The manager counts pongs.
fn on_pong(mut deliveries: Deliveries<Manager, RawMessage, &mut Pongs>) {
    deliveries.for_each(|_, _, mut pongs| pongs.0 += 1);
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut engine = Engine::new();
    engine.add_hook_with::<Worker, _>(
        HookType::OnMessage,
        HookConfig::named("on_ping").topics(["ping"]),
        on_ping,
    )?;
    engine.add_hook_with::<Manager, _>(
        HookType::OnMessage,
        HookConfig::named("on_pong").topics(["pong"]),
        on_pong,
    )?;
    let workers = engine.spawn_batch_with(Worker, 1_000, |_| Pings(0));
    let manager = engine.spawn_with(Manager, Pongs(0));
    engine.initialize(Selection::All);
    engine.start(Selection::All);

    let ping = || RawMessage::new("ping", Default::default());
    engine.publish(Some(manager), Target::Broadcast, ping())?;
    engine.publish(Some(manager), Target::service_type("worker"), ping())?;
    engine.publish(Some(manager), Target::Service(workers[0]), ping())?;
    let pumped = engine.pump_messages();

    let pongs = engine.world().get::<Pongs>(manager).map_or(0, |p| p.0);
    println!(
        "{} rounds, {} messages routed, {} deliveries; the manager got {pongs} pongs",
        pumped.rounds, pumped.routed, pumped.delivered
    );
    let report = engine.bus_report().ok_or("the bus plugin is built in")?;
    println!("undelivered: {:?}", report.undelivered);
    assert_eq!(pongs, 2_001);
    engine.stop(Selection::All);
    Ok(())
}
