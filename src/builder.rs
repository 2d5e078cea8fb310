//! [`EngineBuilder`] and [`EnginePlugin`]: an engine is its core plus the plugins added to it.
//!
//! A plugin (shaped like `bevy_app`'s `Plugin`) adds features to an engine being built: it
//! registers [phase steps](crate::phase_step) and world setup (resources, observers) and keeps
//! its state in World resources. [`Engine::new`](crate::Engine::new) and
//! [`Engine::builder`](crate::Engine::builder) start with the built-in plugins
//! (background tasks, watchdog, state watch, control); [`EngineBuilder::bare`] starts with none.
//!
//! # Example
//! ```
//! use bevy_ecs::prelude::*;
//! use lifecycle_ecs::prelude::*;
//! use lifecycle_ecs::{EngineBuilder, PhaseStep};
//!
//! #[derive(Resource, Default)]
//! struct StartedBatches(u32);
//!
//! fn count_started(builder: &mut EngineBuilder) {
//!     builder.init_resource::<StartedBatches>();
//!     builder.add_step(PhaseStep::PhaseStart, "count_started", |world, step| {
//!         if step.operation() == Some(Operation::Start) {
//!             world.resource_mut::<StartedBatches>().0 += 1;
//!         }
//!     });
//! }
//!
//! let mut engine = Engine::builder().add_plugin(count_started).build();
//! engine.spawn_batch(Lifecycle, 10);
//! engine.initialize(Selection::All);
//! engine.start(Selection::All);
//! assert_eq!(engine.world().resource::<StartedBatches>().0, 1, "one batch, not ten services");
//! ```

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bevy_ecs::resource::Resource;
use bevy_ecs::world::{FromWorld, World};

use crate::async_bridge::AsyncBridge;
use crate::engine::Engine;
use crate::hook_owner::HookOwner;
use crate::phase_step::{
    AsyncStepFn, PhaseStep, PhaseSteps, Step, StepContext, StepFn, StepFuture,
};
use crate::plugin_error::PluginError;
use crate::runtime::{
    DEFAULT_HOOK_TIMEOUT, DEFAULT_MAX_IN_FLIGHT, DEFAULT_SOFT_DEADLINE, EngineRuntime,
};
use lifecycle_ecs_components::HookType;

/// How long a stop waits for cancelled async background tasks to end (5 s).
pub const DEFAULT_TASK_STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// A feature of an engine: registers steps and world setup on the [`EngineBuilder`].
///
/// Any `Fn(&mut EngineBuilder)` is a plugin too, named after its type (the function's path).
pub trait EnginePlugin: Send + Sync + 'static {
    /// Adds the plugin's steps, resources and setup to the engine being built.
    fn build(&self, builder: &mut EngineBuilder);

    /// The plugin's name; a builder takes each name once.
    fn name(&self) -> &str {
        std::any::type_name::<Self>()
    }
}

impl<F: Fn(&mut EngineBuilder) + Send + Sync + 'static> EnginePlugin for F {
    fn build(&self, builder: &mut EngineBuilder) {
        self(builder);
    }
}

/// The settings an engine is built with, for plugins' setup (see [`EngineBuilder::on_build`]).
#[derive(Clone, Debug)]
pub struct EngineSettings {
    hook_timeout: Duration,
    max_in_flight: usize,
    soft_deadline: Duration,
    task_stop_timeout: Duration,
}

impl EngineSettings {
    /// The default timeout of a hook's async work.
    pub fn hook_timeout(&self) -> Duration {
        self.hook_timeout
    }

    /// How many hook futures may run at once.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }

    /// The watchdog's soft deadline.
    pub fn soft_deadline(&self) -> Duration {
        self.soft_deadline
    }

    /// How long a stop waits for cancelled async background tasks.
    pub fn task_stop_timeout(&self) -> Duration {
        self.task_stop_timeout
    }
}

/// World setup a plugin runs when the engine is built.
type Setup = Arc<dyn Fn(&mut World, &EngineSettings) + Send + Sync>;

/// Builds an [`Engine`]: its runtime, its limits for async work, and its plugins.
///
/// # Example
/// ```
/// use std::time::Duration;
/// use lifecycle_ecs::Engine;
/// let engine = Engine::builder()
///     .hook_timeout(Duration::from_secs(5))
///     .max_in_flight(1_000)
///     .build();
/// # drop(engine);
/// ```
#[derive(Clone)]
pub struct EngineBuilder {
    runtime: Option<EngineRuntime>,
    settings: EngineSettings,
    plugins: Vec<Arc<str>>,
    steps: PhaseSteps,
    setups: Vec<Setup>,
    hook_owners: HashMap<HookType, HookOwner>,
}

impl EngineBuilder {
    /// A builder with no plugin: the core only (spawning, hooks, operations, stop requests taken
    /// inside phases). No watchdog thread runs; background tasks cannot be registered
    /// ([`PluginMissingError`](crate::PluginMissingError)); watched states are not published.
    pub fn bare() -> Self {
        Self {
            runtime: None,
            settings: EngineSettings {
                hook_timeout: DEFAULT_HOOK_TIMEOUT,
                max_in_flight: DEFAULT_MAX_IN_FLIGHT,
                soft_deadline: DEFAULT_SOFT_DEADLINE,
                task_stop_timeout: DEFAULT_TASK_STOP_TIMEOUT,
            },
            plugins: Vec::new(),
            steps: PhaseSteps::default(),
            setups: Vec::new(),
            hook_owners: HashMap::new(),
        }
    }

    /// Runs async work on the user's runtime instead of one the engine creates. With a
    /// current-thread runtime, use the `_async` operations from inside it.
    pub fn runtime_handle(mut self, handle: tokio::runtime::Handle) -> Self {
        self.runtime = Some(EngineRuntime::Handle(handle));
        self
    }

    /// The default timeout of a hook's async work (30 s unless set).
    pub fn hook_timeout(mut self, timeout: Duration) -> Self {
        self.settings.hook_timeout = timeout;
        self
    }

    /// How many hook futures may run at once (10 000 unless set; at least 1).
    pub fn max_in_flight(mut self, max_in_flight: usize) -> Self {
        self.settings.max_in_flight = max_in_flight;
        self
    }

    /// The watchdog's soft deadline (5 s unless set): hooks running longer are reported.
    pub fn soft_deadline(mut self, deadline: Duration) -> Self {
        self.settings.soft_deadline = deadline;
        self
    }

    /// How long a stop waits for cancelled async background tasks to end before it aborts and
    /// reports them (5 s unless set; `Duration::MAX` waits as long as they take).
    pub fn task_stop_timeout(mut self, timeout: Duration) -> Self {
        self.settings.task_stop_timeout = timeout;
        self
    }

    /// Adds `plugin` (its [`build`](EnginePlugin::build) runs now). Adding a plugin whose name
    /// was added already does nothing: adding is idempotent (use
    /// [`try_add_plugin`](Self::try_add_plugin) to be told).
    pub fn add_plugin(mut self, plugin: impl EnginePlugin) -> Self {
        let _ = self.try_add_plugin(plugin);
        self
    }

    /// Adds every plugin of `plugins`, in order, as [`add_plugin`](Self::add_plugin).
    pub fn add_plugins(mut self, plugins: impl IntoIterator<Item = Box<dyn EnginePlugin>>) -> Self {
        for plugin in plugins {
            let _ = self.try_add_boxed(plugin.as_ref());
        }
        self
    }

    /// Adds `plugin` (its [`build`](EnginePlugin::build) runs now).
    ///
    /// # Errors
    /// [`PluginError::Duplicate`] if a plugin of the same name was added already; nothing
    /// changes then.
    pub fn try_add_plugin(&mut self, plugin: impl EnginePlugin) -> Result<&mut Self, PluginError> {
        self.try_add_boxed(&plugin)
    }

    fn try_add_boxed(&mut self, plugin: &dyn EnginePlugin) -> Result<&mut Self, PluginError> {
        let name: Arc<str> = plugin.name().into();
        if self.has_plugin(&name) {
            return Err(PluginError::Duplicate(name));
        }
        self.plugins.push(name);
        plugin.build(self);
        Ok(self)
    }

    /// Whether a plugin called `name` was added.
    pub fn has_plugin(&self, name: &str) -> bool {
        self.plugins.iter().any(|added| &**added == name)
    }

    /// The names of the plugins added, in order.
    pub fn plugins(&self) -> &[Arc<str>] {
        &self.plugins
    }

    /// The settings so far (a plugin's [`on_build`](Self::on_build) gets the final ones).
    pub fn settings(&self) -> &EngineSettings {
        &self.settings
    }

    /// Registers a sync step at `at`, called once per batch (see [`PhaseStep`]).
    pub fn add_step(
        &mut self,
        at: PhaseStep,
        name: impl Into<Arc<str>>,
        step: impl Fn(&mut World, StepContext<'_>) + Send + Sync + 'static,
    ) -> &mut Self {
        self.steps.push(
            at,
            Step {
                name: name.into(),
                run: StepFn::Sync(Arc::new(step)),
            },
        );
        self
    }

    /// Registers an async step at `at`: its future may hold the world across `.await`s, and the
    /// scheduler awaits it before going on. Dropping the operation's future drops it: keep the
    /// world consistent at every `.await` (resources changed between awaits, not across).
    ///
    /// # Errors
    /// [`PluginError::AsyncNotAllowed`] at `AfterOperation` and `StopRequested`.
    pub fn add_async_step(
        &mut self,
        at: PhaseStep,
        name: impl Into<Arc<str>>,
        step: impl for<'a> Fn(&'a mut World, StepContext<'a>) -> StepFuture<'a> + Send + Sync + 'static,
    ) -> Result<&mut Self, PluginError> {
        let name = name.into();
        if !at.allows_async() {
            return Err(PluginError::AsyncNotAllowed { name, at });
        }
        let run: AsyncStepFn = Arc::new(step);
        self.steps.push(
            at,
            Step {
                name,
                run: StepFn::Async(run),
            },
        );
        Ok(self)
    }

    /// Makes the plugin being added the owner of `hook_type`: hooks of that type registered
    /// with [`Engine::add_hook_with`](crate::Engine::add_hook_with) are built with the owner's
    /// guard and handed to it, instead of running from the engine's hook registry (see
    /// [`HookOwner`]). The last owner of a type wins.
    pub fn own_hook_type(&mut self, hook_type: HookType, owner: HookOwner) -> &mut Self {
        self.hook_owners.insert(hook_type, owner);
        self
    }

    /// Runs `setup` on the new engine's world when it is built, with the final settings.
    pub fn on_build(
        &mut self,
        setup: impl Fn(&mut World, &EngineSettings) + Send + Sync + 'static,
    ) -> &mut Self {
        self.setups.push(Arc::new(setup));
        self
    }

    /// Inserts a default `R` into the new engine's world.
    pub fn init_resource<R: Resource + FromWorld>(&mut self) -> &mut Self {
        self.on_build(|world, _| {
            world.init_resource::<R>();
        })
    }

    /// Builds the engine.
    pub fn build(self) -> Engine {
        let runtime = self.runtime.unwrap_or_else(EngineRuntime::owned);
        let settings = self.settings;
        let bridge = AsyncBridge::new(
            runtime,
            settings.hook_timeout,
            settings.max_in_flight,
            settings.soft_deadline,
        );
        let setups = self.setups;
        Engine::assemble(
            bridge,
            self.steps,
            self.plugins,
            self.hook_owners,
            |world| {
                for setup in &setups {
                    setup(world, &settings);
                }
            },
        )
    }
}
