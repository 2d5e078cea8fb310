//! The failed services' exit errors, grouped as AIPerf's exit-error panel groups them.

use std::collections::HashMap;

use lifecycle_ecs::bevy_ecs::world::World;
use lifecycle_ecs::{ErrorDetails, ExitErrors, ServiceId};
use serde::Serialize;

/// How many example services a group keeps (AIPerf lists up to three, else two and "etc.").
const EXAMPLES: usize = 3;

/// Exit errors with the same details (`type`, `message`, `code`): AIPerf's deduplicated entry.
#[derive(Clone, Debug, Serialize)]
pub struct ExitErrorGroup {
    /// How many services have an exit error with these details.
    pub services: usize,
    /// The operation, or `"Multiple Operations"` when the services failed in different ones.
    pub operation: String,
    /// `error_details.type`.
    #[serde(rename = "type")]
    pub error_type: Option<String>,
    /// `error_details.message`.
    pub message: String,
    /// `error_details.code`.
    pub code: Option<i64>,
    /// Up to three of the services, smallest ids first.
    pub examples: Vec<String>,
}

/// Every exit error of the world's services, grouped by error details, largest group first.
pub fn group_exit_errors(world: &mut World) -> Vec<ExitErrorGroup> {
    let mut groups: HashMap<ErrorDetails, ExitErrorGroup> = HashMap::new();
    let mut query = world.query::<(&ServiceId, &ExitErrors)>();
    for (id, errors) in query.iter(world) {
        let mut id_text: Option<String> = None;
        for (position, error) in errors.as_slice().iter().enumerate() {
            // A service counts once per group, even with two records of the same details.
            if errors.as_slice()[..position]
                .iter()
                .any(|earlier| earlier.error_details == error.error_details)
            {
                continue;
            }
            let group = groups
                .entry(error.error_details.clone())
                .or_insert_with(|| ExitErrorGroup {
                    services: 0,
                    operation: error.operation.clone(),
                    error_type: error.error_details.error_type.clone(),
                    message: error.error_details.message.clone(),
                    code: error.error_details.code,
                    examples: Vec::new(),
                });
            group.services += 1;
            if group.operation != error.operation {
                "Multiple Operations".clone_into(&mut group.operation);
            }
            let service = id_text
                .get_or_insert_with(|| error.service_id.clone().unwrap_or_else(|| id.to_string()));
            keep_smallest(&mut group.examples, service);
        }
    }
    let mut groups: Vec<ExitErrorGroup> = groups.into_values().collect();
    groups.sort_by(|a, b| {
        b.services
            .cmp(&a.services)
            .then_with(|| a.message.cmp(&b.message))
    });
    groups
}

/// Keeps the [`EXAMPLES`] smallest ids in `examples`, sorted.
fn keep_smallest(examples: &mut Vec<String>, id: &str) {
    let position = examples.partition_point(|kept| kept.as_str() < id);
    if position >= EXAMPLES || examples.get(position).is_some_and(|kept| kept == id) {
        return;
    }
    examples.insert(position, id.to_owned());
    examples.truncate(EXAMPLES);
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifecycle_ecs::{ExitErrorInfo, KindId};

    fn failed(world: &mut World, serial: u32, operation: &str, message: &str) {
        let id = ServiceId::generated(KindId::ROOT, serial);
        let info = ExitErrorInfo {
            error_details: ErrorDetails {
                code: None,
                error_type: Some("HookErrors".into()),
                message: message.into(),
            },
            operation: operation.into(),
            service_id: Some(id.to_string()),
        };
        world.spawn((id, ExitErrors(vec![info])));
    }

    #[test]
    fn groups_by_details_largest_first() {
        let mut world = World::new();
        for serial in 0..5 {
            failed(&mut world, serial, "Initializing", "W.init_0: refused");
        }
        failed(&mut world, 5, "Starting", "W.start_0: timeout");
        failed(&mut world, 6, "Stopping", "W.init_0: refused");
        let groups = group_exit_errors(&mut world);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].services, 6);
        assert_eq!(groups[0].operation, "Multiple Operations");
        assert_eq!(groups[0].examples.len(), 3);
        assert!(groups[0].examples.is_sorted());
        assert_eq!(groups[1].services, 1);
        assert_eq!(groups[1].operation, "Starting");
        assert_eq!(groups[1].error_type.as_deref(), Some("HookErrors"));
    }

    #[test]
    fn keeps_the_smallest_examples() {
        let mut examples = Vec::new();
        for id in ["d", "b", "e", "a", "c", "a"] {
            keep_smallest(&mut examples, id);
        }
        assert_eq!(examples, ["a", "b", "c"]);
    }
}
