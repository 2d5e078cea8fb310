//! The in-process bus: AIPerf's topics and targeting, self-delivery, order, undelivered reasons,
//! handler errors, publishing from systems, handles and threads, and counts in = counts out.

use bevy_ecs::prelude::*;
use lifecycle_ecs::messaging::bus::{
    BusHandle, Deliveries, Envelope, Publish, Target, UndeliveredReason,
};
use lifecycle_ecs::messaging::{Heartbeat, Message, MessageBusClient, RawMessage};
use lifecycle_ecs::prelude::*;
use lifecycle_ecs::{EngineBuilder, HookRegistrationError, PluginMissingError};
use serde_json::{Map, Value, json};

#[derive(Component, Default, Clone)]
#[require(MessageBusClient)]
struct Worker;
impl ServiceKind for Worker {
    const NAME: &'static str = "Worker";
    type Bases = (MessageBusClient,);
    const SERVICE_TYPE: Option<&'static str> = Some("worker");
}

#[derive(Component, Default, Clone)]
#[require(MessageBusClient)]
struct Manager;
impl ServiceKind for Manager {
    const NAME: &'static str = "Manager";
    type Bases = (MessageBusClient,);
    const SERVICE_TYPE: Option<&'static str> = Some("worker_manager");
}

/// What a service received: (message type, `n` field, sender) in order.
#[derive(Component, Default, Debug)]
struct Inbox(Vec<(String, i64, Option<Entity>)>);

fn ping(n: i64) -> RawMessage {
    let mut fields = Map::new();
    fields.insert("n".into(), json!(n));
    RawMessage::new("ping", fields)
}

fn record(mut deliveries: Deliveries<MessageBusClient, RawMessage, &mut Inbox>) {
    deliveries.for_each(|_, delivery, mut inbox| {
        let n = delivery
            .fields()
            .get("n")
            .and_then(Value::as_i64)
            .unwrap_or(-1);
        inbox
            .0
            .push((delivery.message_type().to_owned(), n, delivery.sender()));
    });
}

fn engine_with_recorder(topics: &[&str]) -> Engine {
    let mut engine = Engine::new();
    engine
        .add_hook_with::<MessageBusClient, _>(
            HookType::OnMessage,
            HookConfig::named("record").topics(topics.iter().copied()),
            record,
        )
        .unwrap();
    engine
}

fn inbox(engine: &Engine, entity: Entity) -> Vec<(String, i64, Option<Entity>)> {
    engine.world().get::<Inbox>(entity).unwrap().0.clone()
}

#[test]
fn a_broadcast_reaches_every_subscriber_including_its_sender() {
    let mut engine = engine_with_recorder(&["ping"]);
    let workers = engine.spawn_batch_with(Worker, 3, |_| Inbox::default());
    let manager = engine.spawn_with(Manager, Inbox::default());
    engine.initialize(Selection::All);
    engine
        .publish(Some(workers[0]), Target::Broadcast, ping(7))
        .unwrap();
    let pumped = engine.pump_messages();
    assert_eq!(
        (pumped.routed, pumped.delivered, pumped.undelivered),
        (1, 4, 0)
    );
    for &service in workers.iter().chain([&manager]) {
        assert_eq!(
            inbox(&engine, service),
            [("ping".into(), 7, Some(workers[0]))]
        );
    }
}

#[test]
fn routing_is_exact_on_type_and_target() {
    let mut engine = engine_with_recorder(&["ping"]);
    let workers = engine.spawn_batch_with(Worker, 2, |_| Inbox::default());
    let manager = engine.spawn_with(Manager, Inbox::default());
    engine.initialize(Selection::All);
    engine
        .publish(None, Target::Service(workers[1]), ping(1))
        .unwrap();
    engine
        .publish(None, Target::service_type("worker_manager"), ping(2))
        .unwrap();
    engine
        .publish(None, Target::service_type("worker"), ping(3))
        .unwrap();
    // Another type: nobody subscribes to `pong`.
    engine
        .publish(None, Target::Broadcast, RawMessage::new("pong", Map::new()))
        .unwrap();
    engine.pump_messages();
    assert_eq!(inbox(&engine, workers[0]), [("ping".into(), 3, None)]);
    assert_eq!(
        inbox(&engine, workers[1]),
        [("ping".into(), 1, None), ("ping".into(), 3, None)]
    );
    assert_eq!(inbox(&engine, manager), [("ping".into(), 2, None)]);
    let report = engine.bus_report().unwrap();
    assert_eq!(report.delivered, 4);
    assert_eq!(report.undelivered.no_subscriber, 1);
    assert_eq!(engine.service_type(workers[0]), Some("worker"));
}

#[test]
fn a_publishers_messages_arrive_in_order() {
    let mut engine = engine_with_recorder(&["ping"]);
    let worker = engine.spawn_with(Worker, Inbox::default());
    engine.initialize(Selection::All);
    let bus = engine.bus_handle().unwrap();
    for n in 0..100 {
        engine
            .publish(None, Target::Service(worker), ping(n))
            .unwrap();
        bus.publish(None, Target::Broadcast, ping(1000 + n))
            .unwrap();
    }
    engine.pump_messages();
    let got = inbox(&engine, worker);
    let direct: Vec<i64> = got.iter().map(|m| m.1).filter(|n| *n < 1000).collect();
    let via_handle: Vec<i64> = got.iter().map(|m| m.1).filter(|n| *n >= 1000).collect();
    assert_eq!(direct, (0..100).collect::<Vec<_>>());
    assert_eq!(via_handle, (1000..1100).collect::<Vec<_>>());
}

#[test]
fn every_undelivered_message_is_counted_with_its_reason() {
    let mut engine = engine_with_recorder(&["ping"]);
    let workers = engine.spawn_batch_with(Worker, 4, |_| Inbox::default());
    let created = engine.spawn_with(Worker, Inbox::default());
    engine.initialize(Selection::Many(vec![
        workers[0], workers[1], workers[2], workers[3],
    ]));
    engine.start(Selection::All);
    engine.stop(Selection::Many(vec![workers[3]]));
    let plain = engine.spawn(Lifecycle); // a service that does not subscribe
    engine.initialize(plain);
    let gone = engine.spawn(Worker);
    engine.world_mut().despawn(gone);

    engine
        .publish(None, Target::Service(workers[3]), ping(1))
        .unwrap(); // stopped
    engine
        .publish(None, Target::Service(created), ping(2))
        .unwrap(); // not initialized
    engine
        .publish(None, Target::Service(gone), ping(3))
        .unwrap(); // despawned
    engine
        .publish(None, Target::Service(plain), ping(4))
        .unwrap(); // no ON_MESSAGE
    engine
        .publish(None, Target::service_type("nobody"), ping(5))
        .unwrap();
    engine
        .publish(None, Target::Service(workers[0]), ping(6))
        .unwrap(); // delivered
    engine.pump_messages();

    let report = engine.bus_report().unwrap();
    let u = report.undelivered;
    assert_eq!(u.get(UndeliveredReason::TargetStopped), 1);
    assert_eq!(u.get(UndeliveredReason::TargetNotInitialized), 1);
    assert_eq!(u.get(UndeliveredReason::TargetUnknown), 1);
    assert_eq!(u.get(UndeliveredReason::NoSubscriber), 2);
    assert_eq!(report.routed, 6);
    assert_eq!(
        report.reached + u.total(),
        report.routed,
        "counts in = counts out"
    );
    assert_eq!(inbox(&engine, workers[0]), [("ping".into(), 6, None)]);
    assert!(inbox(&engine, workers[3]).is_empty());
}

#[derive(Component, Default)]
struct Seen(u32);

fn picky(mut deliveries: Deliveries<Worker, RawMessage, &mut Seen>) {
    deliveries.try_for_each(|entity, message, mut seen| {
        seen.0 += 1;
        match message.fields().get("n").and_then(Value::as_i64) {
            Some(0) => Err("zero is not a number here"),
            Some(1) if entity.index_u32() % 2 == 0 => panic!("odd one out"),
            _ => Ok(()),
        }
    });
}

#[test]
fn handler_errors_and_panics_are_counted_and_never_fail_the_service() {
    let mut engine = Engine::new();
    engine
        .add_hook_with::<Worker, _>(
            HookType::OnMessage,
            HookConfig::named("picky").topics(["ping"]),
            picky,
        )
        .unwrap();
    let workers = engine.spawn_batch_with(Worker, 10, |_| Seen(0));
    engine.initialize(Selection::All);
    engine.start(Selection::All);
    for n in 0..3 {
        engine.publish(None, Target::Broadcast, ping(n)).unwrap();
    }
    engine.pump_messages();
    let report = engine.bus_report().unwrap().clone();
    assert_eq!(
        report.delivered, 30,
        "a panicking call does not skip the others"
    );
    let errors = &report.handler_errors;
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0].kind, &*errors[0].hook), ("Worker", "picky"));
    let even = workers.iter().filter(|w| w.index_u32() % 2 == 0).count() as u64;
    assert_eq!(errors[0].count, 10 + even);
    for &worker in &workers {
        assert_eq!(engine.world().get::<Seen>(worker).unwrap().0, 3);
        assert_eq!(engine.state(worker), Some(LifecycleState::Running));
    }
    assert!(engine.failures().is_empty(), "not a lifecycle failure");
    let stop = engine.stop(Selection::All);
    assert_eq!(stop.moved, 10);
}

#[derive(Component, Default)]
struct Hops(i64);

/// Each delivery publishes the next hop to the sender, until `n` reaches zero.
fn bounce(mut deliveries: Deliveries<Worker, RawMessage, &mut Hops>, mut publish: Publish) {
    deliveries.for_each(|entity, message, mut hops| {
        hops.0 += 1;
        let n = message
            .fields()
            .get("n")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if n > 0
            && let Some(sender) = message.sender()
        {
            publish.send(Some(entity), Target::Service(sender), ping(n - 1));
        }
    });
}

#[test]
fn messages_published_by_handlers_go_to_the_next_round_and_a_pump_is_bounded() {
    let mut engine = Engine::new();
    engine
        .add_hook_with::<Worker, _>(
            HookType::OnMessage,
            HookConfig::named("bounce").topics(["ping"]),
            bounce,
        )
        .unwrap();
    let [a, b] = engine.spawn_batch_with(Worker, 2, |_| Hops(0))[..] else {
        unreachable!()
    };
    engine.initialize(Selection::All);
    engine
        .publish(Some(a), Target::Service(b), ping(10))
        .unwrap();
    let first = engine.pump_messages();
    assert_eq!(first.rounds, 11, "ten replies, one per round");
    assert!(!first.more_waiting);
    let hops = |engine: &Engine, e| engine.world().get::<Hops>(e).unwrap().0;
    assert_eq!(hops(&engine, a) + hops(&engine, b), 11);

    // A ping-pong longer than one pump's rounds continues in the next pump.
    let long = (MAX_ROUNDS + 10) as i64;
    engine
        .publish(Some(a), Target::Service(b), ping(long))
        .unwrap();
    let pumped = engine.pump_messages();
    assert_eq!(pumped.rounds, MAX_ROUNDS as u64);
    assert!(pumped.more_waiting);
    let rest = engine.pump_messages();
    assert_eq!(rest.rounds, 11);
    assert!(!rest.more_waiting);
}

const MAX_ROUNDS: usize = lifecycle_ecs::messaging::bus::MAX_ROUNDS_PER_PUMP;

#[derive(Component, Default)]
struct Beats(Vec<String>);

fn beats(mut deliveries: Deliveries<Worker, Heartbeat, &mut Beats>) {
    deliveries.for_each(|_, heartbeat, mut beats| beats.0.push(heartbeat.service_id.clone()));
}

#[test]
fn typed_handlers_read_typed_and_raw_publishes_of_their_type() {
    let mut engine = Engine::new();
    engine
        .add_hook_with::<Worker, _>(
            HookType::OnMessage,
            HookConfig::named("beats").topics([Heartbeat::MESSAGE_TYPE]),
            beats,
        )
        .unwrap();
    let worker = engine.spawn_with(Worker, Beats::default());
    engine.initialize(Selection::All);
    engine
        .publish(
            None,
            Target::Broadcast,
            Heartbeat::new("w1", "worker", LifecycleState::Running),
        )
        .unwrap();
    let line = r#"{"message_type":"heartbeat","request_ns":5,"service_id":"w2","state":"running","service_type":"worker"}"#;
    let Value::Object(fields) = serde_json::from_str(line).unwrap() else {
        unreachable!()
    };
    engine
        .publish(
            None,
            Target::Broadcast,
            RawMessage::new("heartbeat", fields),
        )
        .unwrap();
    // A raw `heartbeat` that is not a valid heartbeat is a handler error, not a panic.
    engine
        .publish(
            None,
            Target::Broadcast,
            RawMessage::new("heartbeat", Map::new()),
        )
        .unwrap();
    engine.pump_messages();
    assert_eq!(engine.world().get::<Beats>(worker).unwrap().0, ["w1", "w2"]);
    assert_eq!(engine.bus_report().unwrap().handler_error_total(), 1);
}

#[test]
fn an_on_message_hook_without_message_types_runs_only_on_demand() {
    let mut engine = Engine::new();
    engine
        .add_hook_with::<Worker, _>(HookType::OnMessage, HookConfig::named("record"), record)
        .unwrap();
    let worker = engine.spawn_with(Worker, Inbox::default());
    engine.initialize(Selection::All);
    engine.publish(None, Target::Broadcast, ping(1)).unwrap();
    let pumped = engine.pump_messages();
    assert_eq!((pumped.delivered, pumped.undelivered), (0, 1));
    assert!(inbox(&engine, worker).is_empty());
    // Lifecycle is not a message-bus client.
    let unsupported = engine.add_hook_with::<Lifecycle, _>(
        HookType::OnMessage,
        HookConfig::named("r").topics(["x"]),
        record,
    );
    assert!(matches!(
        unsupported,
        Err(HookRegistrationError::Unsupported(_))
    ));
}

#[test]
fn a_registered_message_hook_is_listed_with_its_topics() {
    let engine = engine_with_recorder(&["ping", "pong"]);
    let hooks = engine
        .hooks_of::<Worker>(&[HookType::OnMessage], false)
        .unwrap();
    assert_eq!(hooks.len(), 1);
    assert_eq!(hooks[0].params.topic_list().unwrap().len(), 2);
}

#[test]
fn a_bare_engine_has_no_bus() {
    let mut engine = EngineBuilder::bare().build();
    assert_eq!(
        engine.publish(None, Target::Broadcast, ping(1)),
        Err(PluginMissingError { plugin: "bus" })
    );
    assert!(engine.bus_handle().is_none());
    assert_eq!(engine.pump_messages().rounds, 0);
}

#[test]
fn handles_publish_from_many_threads_and_nothing_is_lost() {
    let mut engine = engine_with_recorder(&["ping"]);
    let workers = engine.spawn_batch_with(Worker, 8, |_| Inbox::default());
    engine.initialize(Selection::All);
    let bus: BusHandle = engine.bus_handle().unwrap();
    std::thread::scope(|scope| {
        for (t, &worker) in workers.iter().enumerate() {
            let bus = bus.clone();
            scope.spawn(move || {
                for n in 0..1_000 {
                    let target = if n % 2 == 0 {
                        Target::Service(worker)
                    } else {
                        Target::Broadcast
                    };
                    bus.publish(None, target, ping((t * 1_000 + n) as i64))
                        .unwrap();
                }
                bus.publish_all(vec![Envelope::new(None, Target::Service(worker), ping(-5))])
                    .unwrap();
            });
        }
    });
    engine.pump_messages();
    let report = engine.bus_report().unwrap();
    assert_eq!(report.published, 8 * 1_001);
    assert_eq!(report.routed, 8 * 1_001);
    // Per thread: 500 targeted + 1 batch envelope to its worker, 500 broadcasts to all 8.
    assert_eq!(report.delivered, 8 * (501 + 500 * 8));
    assert_eq!(report.undelivered_total(), 0);
    for &worker in &workers {
        assert_eq!(inbox(&engine, worker).len(), 501 + 8 * 500);
    }
}

#[derive(Component, Default)]
struct Count(u64);

fn count(mut deliveries: Deliveries<Worker, RawMessage, &mut Count>) {
    deliveries.for_each(|_, _, mut count| count.0 += 1);
}

#[test]
fn a_million_targeted_messages_in_equal_a_million_deliveries_out() {
    let mut engine = Engine::new();
    engine
        .add_hook_with::<Worker, _>(
            HookType::OnMessage,
            HookConfig::named("count").topics(["ping"]),
            count,
        )
        .unwrap();
    let workers = engine.spawn_batch_with(Worker, 10_000, |_| Count(0));
    engine.initialize(Selection::All);
    let message = ping(1);
    engine
        .publish_all((0..1_000_000).map(|i| {
            Envelope::new(
                None,
                Target::Service(workers[i % workers.len()]),
                message.clone(),
            )
        }))
        .unwrap();
    let pumped = engine.pump_messages();
    assert_eq!(
        (pumped.routed, pumped.delivered, pumped.undelivered),
        (1_000_000, 1_000_000, 0)
    );
    let total: u64 = workers
        .iter()
        .map(|&w| engine.world().get::<Count>(w).unwrap().0)
        .sum();
    assert_eq!(total, 1_000_000);
    assert!(
        workers
            .iter()
            .all(|&w| engine.world().get::<Count>(w).unwrap().0 == 100)
    );
}

#[test]
fn the_mirror_records_every_envelope_in_wire_form() {
    let mut engine = engine_with_recorder(&["ping"]);
    engine.record_traffic(true);
    let worker = engine.spawn_with(Worker, Inbox::default());
    engine.initialize(Selection::All);
    engine
        .publish(Some(worker), Target::Broadcast, ping(3))
        .unwrap();
    engine.pump_messages();
    let traffic = engine.traffic().unwrap();
    assert_eq!(traffic.envelopes.len(), 1);
    assert_eq!(traffic.envelopes[0].sender, Some(worker));
    assert_eq!(
        traffic.envelopes[0].json.as_deref(),
        Some(r#"{"message_type":"ping","n":3}"#)
    );
}

#[tokio::test(start_paused = true)]
async fn the_run_loop_delivers_what_handles_publish() {
    let mut engine = engine_with_recorder(&["ping"]);
    let worker = engine.spawn_with(Worker, Inbox::default());
    engine.initialize_async(Selection::All).await;
    engine.start_async(Selection::All).await;
    let bus = engine.bus_handle().unwrap();
    let publisher = tokio::spawn(async move {
        for n in 0..5 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            bus.publish(None, Target::Broadcast, ping(n)).unwrap();
        }
    });
    engine
        .run_until(
            std::time::Duration::from_millis(100),
            std::future::pending(),
        )
        .await;
    publisher.await.unwrap();
    let got: Vec<i64> = inbox(&engine, worker).iter().map(|m| m.1).collect();
    assert_eq!(got, [0, 1, 2, 3, 4]);
}

#[test]
fn a_handle_outliving_its_engine_reports_a_closed_bus() {
    let engine = Engine::new();
    let bus = engine.bus_handle().unwrap();
    drop(engine);
    assert_eq!(
        bus.publish(None, Target::Broadcast, ping(1)),
        Err(lifecycle_ecs::messaging::bus::BusClosedError)
    );
    assert!(bus.publish_all(Vec::new()).is_ok(), "nothing to send");
}

/// A user message whose serialization panics.
struct Hostile;

impl serde::Serialize for Hostile {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        panic!("hostile serializer")
    }
}

impl<'de> serde::Deserialize<'de> for Hostile {
    fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        Ok(Hostile)
    }
}

impl Message for Hostile {
    const MESSAGE_TYPE: &'static str = "ping";
}

#[test]
fn a_message_whose_serde_code_panics_is_a_handler_error_not_a_lost_round() {
    let mut engine = engine_with_recorder(&["ping"]);
    engine.record_traffic(true);
    let worker = engine.spawn_with(Worker, Inbox::default());
    engine.initialize(Selection::All);
    // The raw handler must encode it to read it: that panics, once per handler.
    engine.publish(None, Target::Broadcast, Hostile).unwrap();
    engine.publish(None, Target::Broadcast, ping(2)).unwrap();
    engine.pump_messages();
    assert_eq!(inbox(&engine, worker), [("ping".into(), 2, None)]);
    let report = engine.bus_report().unwrap();
    assert_eq!(report.handler_error_total(), 1);
    assert_eq!(report.routed, 2);
    let traffic = engine.traffic().unwrap();
    assert_eq!(
        traffic.envelopes[0].json, None,
        "no JSON for the hostile one"
    );
    assert!(traffic.envelopes[1].json.is_some());
}
