//! Exit errors grouped by their details, as AIPerf's `print_exit_errors` groups them.

use std::collections::{HashMap, HashSet};

use lifecycle_ecs_components::{ErrorDetails, ExitErrorInfo};
use serde::{Deserialize, Serialize};

/// The operation of a group whose services failed in different operations.
pub const MULTIPLE_OPERATIONS: &str = "Multiple Operations";

/// The service id shown for an exit error without one (or with an empty one).
pub const NO_SERVICE_ID: &str = "N/A";

/// How many service ids a group keeps: AIPerf lists up to three, else two and "etc.".
const EXAMPLES: usize = 3;

/// Exit errors with the same details (`code`, `type`, `message`): one entry of AIPerf's panel.
///
/// Serialized flat: `{"services", "operation", "type", "message", "code", "examples"}`.
///
/// # Example
/// ```
/// use lifecycle_ecs::exit_report::group_exit_errors;
/// use lifecycle_ecs::{ErrorDetails, ExitErrorInfo};
/// let failed = |id: &str| ExitErrorInfo {
///     error_details: ErrorDetails {
///         code: None,
///         error_type: Some("HookErrors".into()),
///         message: "Worker.connect: refused".into(),
///     },
///     operation: "Initializing".into(),
///     service_id: Some(id.into()),
/// };
/// let groups = group_exit_errors(&[failed("w2"), failed("w1")]);
/// assert_eq!(groups.len(), 1);
/// assert_eq!(groups[0].services, 2);
/// assert_eq!(groups[0].services_text(), "2 services: w1, w2");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitErrorGroup {
    /// How many distinct services have an exit error with these details.
    pub services: usize,
    /// The services' operation, or [`MULTIPLE_OPERATIONS`] when they differ.
    pub operation: String,
    /// `error_details.type`.
    #[serde(rename = "type")]
    pub error_type: Option<String>,
    /// `error_details.message`.
    pub message: String,
    /// `error_details.code`.
    pub code: Option<i64>,
    /// The smallest service ids (up to three, sorted; [`NO_SERVICE_ID`] for a missing id).
    pub examples: Vec<String>,
}

impl ExitErrorGroup {
    /// The details the group's exit errors share.
    pub fn error_details(&self) -> ErrorDetails {
        ErrorDetails {
            code: self.code,
            error_type: self.error_type.clone(),
            message: self.message.clone(),
        }
    }

    /// `Service` for one service, else `Services` (the panel's label).
    pub fn services_label(&self) -> &'static str {
        if self.services == 1 {
            "Service"
        } else {
            "Services"
        }
    }

    /// The services as AIPerf lists them: `<id>`, `N services: a, b[, c]` for two or three,
    /// `N services: a, b, etc.` for more.
    pub fn services_text(&self) -> String {
        match self.services {
            0 | 1 => self
                .examples
                .first()
                .map_or(NO_SERVICE_ID, String::as_str)
                .to_owned(),
            n @ (2 | 3) => format!("{n} services: {}", self.examples.join(", ")),
            n => {
                let shown = &self.examples[..self.examples.len().min(2)];
                format!("{n} services: {}, etc.", shown.join(", "))
            }
        }
    }
}

/// Groups exit errors by their details (`code`, `type`, `message`), in the order each details
/// first appears: AIPerf's `_group_errors_by_details`, with what its panel shows of each group.
///
/// A service counts once per group, however many of its records share the details; records
/// without a service id (or with an empty one) count together as [`NO_SERVICE_ID`], as in
/// AIPerf.
pub fn group_exit_errors<'a>(
    errors: impl IntoIterator<Item = &'a ExitErrorInfo>,
) -> Vec<ExitErrorGroup> {
    let mut index: HashMap<&'a ErrorDetails, usize> = HashMap::new();
    let mut groups: Vec<(ExitErrorGroup, HashSet<&'a str>)> = Vec::new();
    for error in errors {
        let details = &error.error_details;
        let position = *index.entry(details).or_insert_with(|| {
            groups.push((
                ExitErrorGroup {
                    services: 0,
                    operation: error.operation.clone(),
                    error_type: details.error_type.clone(),
                    message: details.message.clone(),
                    code: details.code,
                    examples: Vec::new(),
                },
                HashSet::new(),
            ));
            groups.len() - 1
        });
        let (group, seen) = &mut groups[position];
        if group.operation != error.operation && group.operation != MULTIPLE_OPERATIONS {
            MULTIPLE_OPERATIONS.clone_into(&mut group.operation);
        }
        let id = error
            .service_id
            .as_deref()
            .filter(|id| !id.is_empty())
            .unwrap_or(NO_SERVICE_ID);
        if seen.insert(id) {
            group.services += 1;
            keep_smallest(&mut group.examples, id);
        }
    }
    groups.into_iter().map(|(group, _)| group).collect()
}

/// Keeps the [`EXAMPLES`] smallest distinct ids in `examples`, sorted.
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

    #[test]
    fn keeps_the_smallest_examples() {
        let mut examples = Vec::new();
        for id in ["d", "b", "e", "a", "c", "a"] {
            keep_smallest(&mut examples, id);
        }
        assert_eq!(examples, ["a", "b", "c"]);
    }
}
