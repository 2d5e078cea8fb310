//! The errors of plugins: adding one twice, a step where it cannot go, using a feature whose
//! plugin is absent.

use std::sync::Arc;

use crate::phase_step::PhaseStep;

/// Adding a plugin or one of its steps failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PluginError {
    /// A plugin of this name was added already (the builder is unchanged).
    #[error("the plugin `{0}` was added already")]
    Duplicate(Arc<str>),
    /// An async step was registered at a step that runs only sync steps.
    #[error("the step `{name}` is async, but {at:?} steps must be sync")]
    AsyncNotAllowed {
        /// The step's name.
        name: Arc<str>,
        /// Where it was to run.
        at: PhaseStep,
    },
}

/// A feature was used on an engine built without its plugin (e.g. a background task registered
/// on [`EngineBuilder::bare`](crate::EngineBuilder::bare)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("this engine has no `{plugin}` plugin (add it to the builder to use this)")]
pub struct PluginMissingError {
    /// The plugin's name.
    pub plugin: &'static str,
}
