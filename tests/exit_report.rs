//! The exit-error report as library API (AIPerf's `print_exit_errors`): grouping by error
//! details in order of first appearance, and the panel, drawn to any writer at a given width.
//!
//! The expected panels are what AIPerf's `print_exit_errors` (rich 15, `textwrap`) prints for the
//! same exit errors at the same console width, but with one blank line between entries.

use bevy_ecs::prelude::*;
use lifecycle_ecs::exit_report::{
    ExitErrorGroup, ExitErrorPanel, MULTIPLE_OPERATIONS, group_exit_errors, print_exit_errors,
};
use lifecycle_ecs::prelude::*;
use lifecycle_ecs::{ErrorDetails, service_kind};

service_kind! {
    /// A worker.
    pub struct Worker: Lifecycle
}

const REFUSED: &str = "Worker.connect: connection refused by the upstream dataset manager after three attempts at 10.0.0.1:5661";

fn error(
    code: Option<i64>,
    kind: Option<&str>,
    message: &str,
    operation: &str,
    id: Option<&str>,
) -> ExitErrorInfo {
    ExitErrorInfo {
        error_details: ErrorDetails {
            code,
            error_type: kind.map(Into::into),
            message: message.into(),
        },
        operation: operation.into(),
        service_id: id.map(Into::into),
    }
}

/// Three groups: one refused connection in two operations, an anonymous `boom`, and a `boom`
/// with a code from five services (one of them with an empty id).
fn errors() -> Vec<ExitErrorInfo> {
    let refused = |operation, id| error(None, Some("HookErrors"), REFUSED, operation, Some(id));
    let coded = |id| error(Some(7), Some("X"), "boom", "Starting", Some(id));
    vec![
        refused("Initializing", "w3"),
        refused("Initializing", "w1"),
        error(None, None, "boom", "Starting", None),
        refused("Stopping", "w2"),
        refused("Initializing", "w1"),
        coded("a"),
        coded("b"),
        coded("c"),
        coded("d"),
        coded(""),
    ]
}

/// A group as a tuple: services, operation, type, message, code, and the services' text.
type GroupSummary<'a> = (
    usize,
    &'a str,
    Option<&'a str>,
    &'a str,
    Option<i64>,
    String,
);

fn panel(errors: &[ExitErrorInfo], panel: &ExitErrorPanel) -> String {
    let mut out = Vec::new();
    print_exit_errors(errors, panel, &mut out).expect("a Vec takes every write");
    String::from_utf8(out).expect("the panel is UTF-8")
}

#[test]
fn groups_by_code_type_and_message_in_order_of_first_appearance() {
    let groups = group_exit_errors(&errors());
    let summary: Vec<GroupSummary<'_>> = groups
        .iter()
        .map(|g| {
            (
                g.services,
                g.operation.as_str(),
                g.error_type.as_deref(),
                g.message.as_str(),
                g.code,
                g.services_text(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                3,
                MULTIPLE_OPERATIONS,
                Some("HookErrors"),
                REFUSED,
                None,
                "3 services: w1, w2, w3".to_owned()
            ),
            (1, "Starting", None, "boom", None, "N/A".to_owned()),
            (
                5,
                "Starting",
                Some("X"),
                "boom",
                Some(7),
                "5 services: N/A, a, etc.".to_owned()
            ),
        ]
    );
    assert_eq!(groups[0].examples, ["w1", "w2", "w3"]);
    assert_eq!(groups[2].examples, ["N/A", "a", "b"]);
    assert_eq!(
        (groups[0].services_label(), groups[1].services_label()),
        ("Services", "Service")
    );
    assert_eq!(groups[2].error_details(), errors()[5].error_details);
}

#[test]
fn two_services_are_listed_and_missing_ids_count_as_one() {
    let groups = group_exit_errors(&[
        error(None, None, "m", "Starting", Some("b")),
        error(None, None, "m", "Starting", Some("a")),
        error(None, None, "n", "Starting", None),
        error(None, None, "n", "Starting", Some("")),
    ]);
    assert_eq!(groups[0].services_text(), "2 services: a, b");
    assert_eq!(
        (groups[1].services, groups[1].services_text()),
        (1, "N/A".to_owned())
    );
}

#[test]
fn an_empty_list_prints_nothing() {
    assert!(group_exit_errors(&[]).is_empty());
    assert_eq!(panel(&[], &ExitErrorPanel::new(80)), "");
}

#[test]
fn the_panel_is_aiperfs_at_the_console_width() {
    assert_eq!(
        panel(&errors(), &ExitErrorPanel::new(60)),
        "\
╭─ System Exit Errors ─────────────────────────────────────╮
│ • Services: 3 services: w1, w2, w3                       │
│    Operation: Multiple Operations                        │
│    Error: HookErrors                                     │
│    Reason: Worker.connect: connection refused by the     │
│            upstream dataset manager after                │
│            three attempts at 10.0.0.1:5661               │
│                                                          │
│ • Service: N/A                                           │
│    Operation: Starting                                   │
│    Error: Unknown                                        │
│    Reason: boom                                          │
│                                                          │
│ • Services: 5 services: N/A, a, etc.                     │
│    Operation: Starting                                   │
│    Error: X                                              │
│    Reason: boom                                          │
╰──────────────────────────────────────────────────────────╯
"
    );
}

#[test]
fn a_narrow_console_wraps_the_reason_at_twenty_columns_and_folds_long_lines() {
    let errors = errors();
    assert_eq!(
        panel(
            &errors[..4],
            &ExitErrorPanel::new(30).with_title("Exit Errors of the run")
        ),
        "\
╭─ Exit Errors of the run ───╮
│ • Services: 3 services:    │
│ w1, w2, w3                 │
│    Operation: Multiple     │
│ Operations                 │
│    Error: HookErrors       │
│    Reason: Worker.connect: │
│            connectio       │
│            n refused       │
│            by the          │
│            upstream        │
│            dataset         │
│            manager         │
│            after           │
│            three           │
│            attempts        │
│            at 10.0.0       │
│            .1:5661         │
│                            │
│ • Service: N/A             │
│    Operation: Starting     │
│    Error: Unknown          │
│    Reason: boom            │
╰────────────────────────────╯
"
    );
}

#[test]
fn colour_codes_only_when_asked() {
    let one = [error(
        None,
        Some("HookErrors"),
        "refused",
        "Initializing",
        Some("w1"),
    )];
    let plain = panel(&one, &ExitErrorPanel::new(40));
    assert!(!plain.contains('\x1b'), "{plain}");
    let coloured = ExitErrorPanel {
        colour: true,
        ..ExitErrorPanel::new(40)
    };
    let text = panel(&one, &coloured);
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(
        rows[0],
        "\x1b[1;31m╭─ System Exit Errors ─────────────────╮\x1b[0m"
    );
    assert_eq!(
        rows[1],
        "\x1b[1;31m│\x1b[0m \x1b[1;33m• Service: \x1b[0m\x1b[1mw1\x1b[0m                        \x1b[1;31m│\x1b[0m"
    );
    assert_eq!(
        rows[4],
        "\x1b[1;31m│\x1b[0m \x1b[1;33m   Reason: \x1b[0m\x1b[1mrefused\x1b[0m                   \x1b[1;31m│\x1b[0m"
    );
    // Without the codes, the same panel.
    let stripped = text
        .replace("\x1b[1;31m", "")
        .replace("\x1b[1;33m", "")
        .replace("\x1b[1m", "")
        .replace("\x1b[0m", "");
    assert_eq!(stripped, plain);
}

#[test]
fn groups_are_data_serialized_flat() {
    let groups = group_exit_errors(&errors());
    let json = serde_json::to_string(&groups[2]).expect("serializes");
    assert_eq!(
        json,
        r#"{"services":5,"operation":"Starting","type":"X","message":"boom","code":7,"examples":["N/A","a","b"]}"#
    );
    let back: Vec<ExitErrorGroup> =
        serde_json::from_str(&serde_json::to_string(&groups).unwrap()).expect("deserializes");
    assert_eq!(back, groups);
}

#[test]
fn the_engine_groups_every_failed_service_and_the_panel_names_them() {
    let mut engine = Engine::new();
    engine
        .add_entity_hook::<Worker, (), _, _>(HookType::OnInit, "connect", |_, ()| Err("refused"))
        .unwrap();
    for name in ["w-e", "w-c", "w-a", "w-d", "w-b"] {
        engine
            .try_spawn_with(Worker, (), Some(name.into()))
            .unwrap();
    }
    let healthy = engine.spawn(Lifecycle);
    engine.initialize(Selection::All);
    assert_eq!(engine.state(healthy), Some(LifecycleState::Initialized));
    let groups = engine.exit_error_groups();
    assert_eq!(groups.len(), 1);
    let mut out = Vec::new();
    ExitErrorPanel::new(50).print(&groups, &mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "\
╭─ System Exit Errors ───────────────────────────╮
│ • Services: 5 services: w-a, w-b, etc.         │
│    Operation: Initializing                     │
│    Error: HookErrors                           │
│    Reason: Worker.connect: refused             │
╰────────────────────────────────────────────────╯
"
    );
    // One entity's records count it once, even when two share the details.
    let world: &mut World = engine.world_mut();
    let mut query = world.query::<&mut lifecycle_ecs::ExitErrors>();
    let mut first = query.iter_mut(world).next().unwrap();
    let copy = first.0[0].clone();
    first.0.push(copy);
    assert_eq!(engine.exit_error_groups()[0].services, 5);
}
