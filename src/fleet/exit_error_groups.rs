//! The fleet's exit-error groups: the library's, largest group first.

use lifecycle_ecs::Engine;
use lifecycle_ecs::exit_report::ExitErrorGroup;

/// Every exit error of the engine's services, grouped by the library
/// ([`Engine::exit_error_groups`]), then ordered largest group first (ties by message), the
/// order the fleet reports them in.
pub fn largest_first(engine: &mut Engine) -> Vec<ExitErrorGroup> {
    let mut groups = engine.exit_error_groups();
    groups.sort_by(|a, b| {
        b.services
            .cmp(&a.services)
            .then_with(|| a.message.cmp(&b.message))
    });
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifecycle_ecs::{ErrorDetails, ExitErrorInfo, ExitErrors, KindId, ServiceId};

    fn failed(engine: &mut Engine, serial: u32, operation: &str, message: &str) {
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
        engine.world_mut().spawn((id, ExitErrors(vec![info])));
    }

    #[test]
    fn groups_by_details_largest_first() {
        let mut engine = Engine::new();
        failed(&mut engine, 5, "Starting", "W.start_0: timeout");
        for serial in 0..5 {
            failed(&mut engine, serial, "Initializing", "W.init_0: refused");
        }
        failed(&mut engine, 6, "Stopping", "W.init_0: refused");
        let groups = largest_first(&mut engine);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].services, 6);
        assert_eq!(groups[0].operation, "Multiple Operations");
        assert_eq!(groups[0].examples.len(), 3);
        assert!(groups[0].examples.is_sorted());
        assert_eq!(groups[1].services, 1);
        assert_eq!(groups[1].operation, "Starting");
        assert_eq!(groups[1].error_type.as_deref(), Some("HookErrors"));
    }
}
