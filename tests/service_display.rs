//! Services as a person reads them (AIPerf's `str` and `repr`), the `Debug` of a `ServiceId`, and
//! the engine's own messages that name services: `InvalidStateError` and the attach errors.

use bevy_ecs::prelude::*;
use lifecycle_ecs::prelude::*;
use lifecycle_ecs::{AttachChildError, KindId, ServiceLabel, service_kind};

service_kind! {
    /// A worker.
    pub struct Worker: Lifecycle
}

service_kind! {
    /// A parent service.
    pub struct Parent: Lifecycle
}

service_kind! {
    /// A child service.
    pub struct Child: Lifecycle
}

fn named<K: ServiceKind>(engine: &mut Engine, kind: K, name: &str) -> Entity {
    engine
        .try_spawn_with(kind, (), Some(name.to_owned()))
        .expect("the kind registers")
}

const PLEASE: &str = "Please attach children before initializing or starting the lifecycle.";

#[test]
fn describe_shows_aiperfs_str_and_repr_and_follows_the_state() {
    let mut engine = Engine::new();
    let worker = named(&mut engine, Worker, "worker-1");
    let description = engine.describe(worker).unwrap();
    assert_eq!(description.to_string(), "Worker (id=worker-1)");
    assert_eq!(
        format!("{description:?}"),
        "<Worker worker-1 (state=created)>"
    );
    assert_eq!(
        description.repr().to_string(),
        "<Worker worker-1 (state=created)>"
    );
    assert_eq!(description.label().to_string(), "Worker (id=worker-1)");

    engine.initialize(worker);
    assert_eq!(
        format!("{:?}", engine.describe(worker).unwrap()),
        "<Worker worker-1 (state=initialized)>"
    );
    engine.stop(worker);
    assert_eq!(
        format!("{:?}", engine.describe(worker).unwrap()),
        "<Worker worker-1 (state=stopped)>"
    );

    // A generated id: `<Kind>_<8 hex>`, in both forms.
    let generated = engine.spawn(Worker);
    let id = engine.service_id(generated).unwrap().to_string();
    assert!(id.starts_with("Worker_") && id.len() == "Worker_".len() + 8);
    let description = engine.describe(generated).unwrap();
    assert_eq!(description.to_string(), format!("Worker (id={id})"));
    assert_eq!(
        format!("{description:?}"),
        format!("<Worker {id} (state=created)>")
    );
}

#[test]
fn describe_a_failed_service_and_a_non_service() {
    let mut engine = Engine::new();
    engine
        .add_entity_hook::<Worker, (), _, _>(HookType::OnInit, "connect", |_, ()| Err("refused"))
        .unwrap();
    let worker = named(&mut engine, Worker, "w");
    engine.initialize(worker);
    assert_eq!(
        format!("{:?}", engine.describe(worker).unwrap()),
        "<Worker w (state=failed)>"
    );
    let plain = engine.world_mut().spawn_empty().id();
    assert!(engine.describe(plain).is_none());
}

#[test]
fn a_service_id_debugs_as_its_id_not_its_fields() {
    let named = ServiceId::named(KindId::ROOT, 0, "records-manager");
    assert_eq!(format!("{named:?}"), r#"ServiceId("records-manager")"#);
    let generated = ServiceId::generated(KindId::ROOT, 1);
    assert_eq!(
        format!("{generated:?}"),
        format!("ServiceId(\"{generated}\")")
    );
    assert_eq!(
        format!("{:?}", Some(named)),
        r#"Some(ServiceId("records-manager"))"#
    );
    assert_eq!(
        ServiceLabel(named).to_string(),
        "Lifecycle (id=records-manager)"
    );
}

#[test]
fn invalid_state_errors_name_the_service_as_aiperf_does() {
    let mut engine = Engine::new();
    let worker = named(&mut engine, Worker, "w-1");
    let report = engine.start(worker);
    assert_eq!(
        report.invalid[0].to_string(),
        "Cannot start from state created for Worker (id=w-1)"
    );
    engine.stop(worker);
    let report = engine.initialize(worker);
    assert_eq!(
        report.invalid[0].to_string(),
        "Cannot initialize from state stopped for Worker (id=w-1)"
    );
    // The same text is the exit error's reason when `initialize_and_start` records the refusal.
    engine.initialize_and_start(worker);
    let errors = engine.exit_errors(worker);
    assert_eq!(
        errors.last().unwrap().error_details.message,
        "Cannot initialize from state stopped for Worker (id=w-1)"
    );
}

#[test]
fn attaching_after_created_gives_aiperfs_message() {
    let mut engine = Engine::new();
    let parent = named(&mut engine, Parent, "boss");
    let kid = named(&mut engine, Child, "kid");
    engine.initialize(parent);
    assert_eq!(
        engine.attach_child(parent, kid).unwrap_err().to_string(),
        format!(
            "Cannot attach child Child (id=kid) to Parent (id=boss) in state initialized. {PLEASE}"
        )
    );
}

#[test]
fn spawning_children_of_a_started_parent_names_the_new_kind_and_spawns_nothing() {
    let mut engine = Engine::new();
    let parent = named(&mut engine, Parent, "boss");
    engine.initialize(parent);
    engine.start(parent);
    let services = engine.service_count();
    let expected =
        format!("Cannot attach a new Child to Parent (id=boss) in state running. {PLEASE}");
    assert_eq!(
        engine.spawn_child(parent, Child).unwrap_err().to_string(),
        expected
    );
    assert_eq!(
        engine
            .spawn_children(parent, Child, 3)
            .unwrap_err()
            .to_string(),
        expected
    );
    assert_eq!(engine.service_count(), services, "nothing was spawned");
}

#[test]
fn one_parent_and_cycle_errors_name_both_services() {
    let mut engine = Engine::new();
    let parent = named(&mut engine, Parent, "boss");
    let other = named(&mut engine, Parent, "other");
    let kid = named(&mut engine, Child, "kid");
    engine.attach_child(parent, kid).unwrap();
    let error = engine.attach_child(other, kid).unwrap_err();
    assert_eq!(
        error.to_string(),
        "Cannot attach child Child (id=kid) to Parent (id=other): it already has a lifecycle parent"
    );
    assert_eq!(
        format!("{error:?}"),
        r#"AlreadyAttached { parent: ServiceId("other"), child: ServiceId("kid") }"#
    );
    assert_eq!(
        engine.attach_child(kid, parent).unwrap_err().to_string(),
        "Cannot attach child Parent (id=boss) to Child (id=kid): the child is the parent or one of its ancestors"
    );
    assert_eq!(
        engine.attach_child(other, other).unwrap_err(),
        AttachChildError::Cycle {
            parent: *engine.service_id(other).unwrap(),
            child: *engine.service_id(other).unwrap(),
        }
    );
}
