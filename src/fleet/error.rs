//! What can stop a fleet run before it reports.

use std::path::PathBuf;

use lifecycle_ecs::{HookRegistrationError, SpawnError};

/// A fleet run could not be carried out or reported.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// A hook could not be registered.
    #[error("cannot register the fleet's hooks: {0}")]
    Hooks(#[from] HookRegistrationError),
    /// The workers or their children could not be spawned.
    #[error("cannot spawn the fleet: {0}")]
    Spawn(#[from] SpawnError),
    /// The JSON results could not be written.
    #[error("cannot write the JSON results to {}: {source}", path.display())]
    WriteJson {
        /// The `--json` path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The table could not be printed.
    #[error("cannot print the results: {0}")]
    Print(#[source] std::io::Error),
}
