//! The engine: a world of services, its kinds, its hooks, and the operations that move them.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bevy_ecs::bundle::{Bundle, NoBundleEffect};
use bevy_ecs::entity::Entity;
use bevy_ecs::error::FallbackErrorHandler;
use bevy_ecs::query::{IterQueryData, QueryState, With};
use bevy_ecs::schedule::IntoScheduleConfigs;
use bevy_ecs::system::{In, IntoSystem, ScheduleSystem};
use bevy_ecs::world::World;
use lifecycle_ecs_components::{
    BackgroundTaskParams, ExitErrorInfo, ExitErrors, HookError, HookFailures, HookInfo, HookParams,
    HookType, KindDescriptor, KindId, Lifecycle, LifecycleFlags, LifecycleParent, LifecycleState,
    LifecycleTree, ServiceId, ServiceKind, UnsupportedHookError,
};
use lifecycle_ecs_systems::transition::Transitions;
use lifecycle_ecs_systems::{
    HookFutures, HookProgress, PhaseContext, RunningHooks, Targets, capture_system_error,
};

use crate::async_bridge::AsyncBridge;
use crate::attach_child_error::{AttachChildError, ChildToAttach};
use crate::attached_hooks::{AttachedHooks, HookOutput};
use crate::exact_spawn;
use crate::footprint;
use crate::hook_owner::HookOwner;
use crate::hook_registry::{HookRegistrationError, HookRegistry, hook_name_of};
use crate::kind_registry::{KindError, KindInfo, KindRegistry};
use crate::phase_step::{PhaseStep, PhaseSteps, StepContext};
use crate::spawn_error::SpawnError;
use crate::stop_handle::PendingStops;
use crate::tree_walk::{self, TreeWalkError};

/// How a hook is registered: its name, the timeout of its async work, and its parameters.
///
/// # Example
/// ```
/// use std::time::Duration;
/// use lifecycle_ecs::HookConfig;
/// let config = HookConfig::named("on_credit")
///     .timeout(Duration::from_secs(5))
///     .topics(["credit_drop"]);
/// assert_eq!(&*config.name, "on_credit");
/// assert_eq!(&*config.params.topic_list().unwrap()[0], "credit_drop");
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct HookConfig {
    /// The hook's name (in failures and exit errors).
    pub name: Arc<str>,
    /// How long the hook's futures may run (`None`: the engine's default, 30 s).
    pub timeout: Option<Duration>,
    /// The hook's parameters (AIPerf's decorator arguments), listed by
    /// [`Engine::hooks_of`](Engine::hooks_of).
    pub params: HookParams,
}

impl HookConfig {
    /// A hook called `name`, with the engine's default timeout.
    pub fn named(name: impl Into<Arc<str>>) -> Self {
        Self {
            name: name.into(),
            timeout: None,
            params: HookParams::None,
        }
    }

    /// Sets the hook's parameters.
    pub fn params(mut self, params: HookParams) -> Self {
        self.params = params;
        self
    }

    /// Sets topic parameters: the message, command or request types the hook handles.
    pub fn topics<S: Into<Arc<str>>>(self, topics: impl IntoIterator<Item = S>) -> Self {
        self.params(HookParams::topics(topics))
    }

    /// How a hook registered with this config for kind `K` is listed.
    pub(crate) fn info_for<K: ServiceKind>(self, hook_type: HookType) -> HookInfo {
        HookInfo {
            name: self.name,
            hook_type,
            kind: K::NAME,
            attached_to: None,
            timeout: self.timeout,
            params: self.params,
        }
    }

    /// How a background task of kind `K` registered with this config and `params` is listed.
    pub(crate) fn background_task_info<K: ServiceKind>(
        &self,
        params: &BackgroundTaskParams,
    ) -> HookInfo {
        self.clone()
            .params(HookParams::BackgroundTask(params.clone()))
            .info_for::<K>(HookType::BackgroundTask)
    }

    /// Sets the hook's own timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

/// The lifecycle engine: services are entities, hooks are systems, and operations move batches of
/// services through `CREATED → INITIALIZING → INITIALIZED → STARTING → RUNNING → STOPPING →
/// STOPPED` (or FAILED).
///
/// # Example
/// ```
/// use bevy_ecs::prelude::*;
/// use lifecycle_ecs::prelude::*;
///
/// #[derive(Component, Default, Clone)]
/// #[require(Lifecycle)]
/// struct Worker;
/// impl ServiceKind for Worker {
///     const NAME: &'static str = "Worker";
///     type Bases = (Lifecycle,);
/// }
///
/// #[derive(Component, Default)]
/// struct Connected(bool);
///
/// fn connect(mut targets: Targets<Worker, &mut Connected>) {
///     targets.for_each(|_, mut connected| connected.0 = true);
/// }
///
/// let mut engine = Engine::new();
/// engine.add_hook::<Worker, _>(HookType::OnInit, connect).unwrap();
/// let workers = engine.spawn_batch_with(Worker, 3, |_| Connected(false));
/// let report = engine.initialize(Selection::All);
/// assert_eq!(report.moved, 3);
/// assert!(workers.iter().all(|&w| engine.world().get::<Connected>(w).unwrap().0));
/// assert_eq!(engine.state(workers[0]), Some(LifecycleState::Initialized));
/// ```
pub struct Engine {
    pub(crate) world: World,
    pub(crate) kinds: KindRegistry,
    pub(crate) hooks: HookRegistry,
    pub(crate) attached: AttachedHooks,
    pub(crate) transitions: Transitions,
    services: QueryState<(), With<Lifecycle>>,
    pub(crate) max_depth: u8,
    pub(crate) bridge: AsyncBridge,
    /// Stop requests taken from the [`StopHandle`] and not carried out yet.
    pub(crate) pending_stops: PendingStops,
    /// Services a stop request withdrew from the running phase, with their tree depth.
    pub(crate) withdrawn: Vec<(Entity, u8)>,
    /// The plugins' steps, by phase step (called once per batch).
    pub(crate) steps: PhaseSteps,
    /// The names of the plugins the engine was built with.
    plugins: Vec<Arc<str>>,
    /// Hook types a plugin runs itself (message-driven hooks), and how it takes them.
    hook_owners: HashMap<HookType, HookOwner>,
    /// An operation's future was dropped mid-phase: the next operation first finishes the
    /// services it left (see `abandoned_operation`).
    pub(crate) abandoned: bool,
}

impl Engine {
    /// Puts an engine together from what its builder gathered; `setup` runs the plugins' world
    /// setup once the core's resources exist.
    pub(crate) fn assemble(
        bridge: AsyncBridge,
        steps: PhaseSteps,
        plugins: Vec<Arc<str>>,
        hook_owners: HashMap<HookType, HookOwner>,
        setup: impl FnOnce(&mut World),
    ) -> Self {
        let mut world = World::new();
        world.init_resource::<HookFailures>();
        world.init_resource::<PhaseContext>();
        world.init_resource::<HookFutures>();
        world.init_resource::<HookProgress>();
        world.init_resource::<LifecycleTree>();
        world.insert_resource(RunningHooks::default());
        world.insert_resource(bridge.stop_handle().clone());
        world.insert_resource(bridge.engine_async());
        world.insert_resource(FallbackErrorHandler(capture_system_error));
        crate::operation_despawns::install(&mut world);
        let mut kinds = KindRegistry::default();
        kinds
            .register(&mut world, KindDescriptor::of::<Lifecycle>())
            .expect("the root kind registers");
        let transitions = Transitions::new(&mut world);
        let services = world.query_filtered();
        setup(&mut world);
        Self {
            world,
            kinds,
            hooks: HookRegistry::default(),
            attached: AttachedHooks::default(),
            transitions,
            services,
            max_depth: 0,
            bridge,
            pending_stops: PendingStops::default(),
            withdrawn: Vec::new(),
            abandoned: false,
            steps,
            plugins,
            hook_owners,
        }
    }

    /// The names of the plugins this engine was built with, in the order they were added.
    pub fn plugins(&self) -> &[Arc<str>] {
        &self.plugins
    }

    /// Whether this engine was built with a plugin called `name`.
    pub fn has_plugin(&self, name: &str) -> bool {
        self.plugins.iter().any(|added| &**added == name)
    }

    /// The names of the steps registered at `at`, in the order they run.
    pub fn phase_steps(&self, at: PhaseStep) -> Vec<Arc<str>> {
        self.steps.names(at)
    }

    /// The world holding the services.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The world, mutably (spawn extra components, insert resources, …). Use the engine's
    /// operations, not direct writes, to change lifecycle state.
    ///
    /// The engine's world has bevy's `FallbackErrorHandler` resource set to
    /// [`capture_system_error`]: an `Err` returned by a hook system, or its panic, becomes a
    /// failure of that hook's targets instead of bevy's default (a panic). Replacing the resource
    /// turns hook errors back into bevy's behaviour; systems the user runs on this world through
    /// their own schedules report errors the same way (to the hook running at the time, if any).
    pub fn world_mut(&mut self) -> &mut World {
        &mut self.world
    }

    /// Registers kind `K` and its bases (done implicitly by spawning or adding hooks).
    ///
    /// # Errors
    /// [`KindError`] if the bases cannot be linearized, contradict the order of kinds registered
    /// earlier, or are not required components of `K`.
    pub fn register_kind<K: ServiceKind>(&mut self) -> Result<KindId, KindError> {
        Ok(self.kind_info::<K>()?.id)
    }

    fn kind_info<K: ServiceKind>(&mut self) -> Result<&KindInfo, KindError> {
        self.kinds
            .register(&mut self.world, KindDescriptor::of::<K>())
    }

    /// Every hook type kind `K` provides, its bases' included.
    ///
    /// # Errors
    /// [`KindError`] if `K` cannot be registered.
    pub fn provided_hooks<K: ServiceKind>(
        &mut self,
    ) -> Result<lifecycle_ecs_components::HookTypeSet, KindError> {
        Ok(self.kind_info::<K>()?.provided.clone())
    }

    /// The info of kind `K`, registering it, checked to provide `hook_type`.
    pub(crate) fn validated_kind<K: ServiceKind>(
        &mut self,
        hook_type: HookType,
    ) -> Result<KindInfo, HookRegistrationError> {
        let info = self.kind_info::<K>()?;
        if !info.provided.contains(hook_type) {
            return Err(UnsupportedHookError {
                hook_type,
                kind: info.name,
                provided: info.provided.clone(),
            }
            .into());
        }
        Ok(info.clone())
    }

    /// Registers `system` as a hook of `hook_type` for kind `K`, named after its function.
    ///
    /// The hook runs for every service of kind `K` (derived kinds included) when `hook_type`'s
    /// schedule runs; it finds them with a [`Targets<K, _>`](Targets) parameter. Hooks registered
    /// after services exist apply from the next operation.
    ///
    /// # Errors
    /// [`HookRegistrationError::Unsupported`] if neither `K` nor its bases provide `hook_type`;
    /// [`HookRegistrationError::UnnamedClosure`] for a closure (use
    /// [`add_named_hook`](Self::add_named_hook)).
    pub fn add_hook<K: ServiceKind, M>(
        &mut self,
        hook_type: HookType,
        system: impl IntoScheduleConfigs<ScheduleSystem, M> + 'static,
    ) -> Result<(), HookRegistrationError> {
        let name = hook_name_of_value(&system)?;
        self.add_named_hook::<K, M>(hook_type, name, system)
    }

    /// Registers `system` (a function or a closure) as a hook of `hook_type` for kind `K`, under
    /// `name`.
    ///
    /// # Errors
    /// [`HookRegistrationError::Unsupported`] if neither `K` nor its bases provide `hook_type`.
    pub fn add_named_hook<K: ServiceKind, M>(
        &mut self,
        hook_type: HookType,
        name: impl Into<Arc<str>>,
        system: impl IntoScheduleConfigs<ScheduleSystem, M>,
    ) -> Result<(), HookRegistrationError> {
        self.add_hook_with::<K, M>(hook_type, HookConfig::named(name), system)
    }

    /// Registers `system` as a hook of `hook_type` for kind `K` with a [`HookConfig`] (its name
    /// and the timeout of its async work).
    ///
    /// # Errors
    /// [`HookRegistrationError::Unsupported`] if neither `K` nor its bases provide `hook_type`.
    pub fn add_hook_with<K: ServiceKind, M>(
        &mut self,
        hook_type: HookType,
        config: HookConfig,
        system: impl IntoScheduleConfigs<ScheduleSystem, M>,
    ) -> Result<(), HookRegistrationError> {
        let kind = self.validated_kind::<K>(hook_type)?;
        let info = config.info_for::<K>(hook_type);
        if let Some(owner) = self
            .hook_owners
            .get(&hook_type)
            .copied()
            .filter(|owner| (owner.claims)(&info))
        {
            let owned =
                self.hooks
                    .add_owned::<K, M>(&mut self.world, &kind, info, system, &owner)?;
            (owner.store)(&mut self.world, owned);
            return Ok(());
        }
        self.hooks.add::<K, M>(&mut self.world, &kind, info, system)
    }

    /// Registers a per-service hook: `f` runs once per target service of kind `K` with its `D`
    /// components; an `Err` or a panic fails that service only (the others still run).
    ///
    /// # Errors
    /// [`HookRegistrationError::Unsupported`] if neither `K` nor its bases provide `hook_type`.
    ///
    /// # Example
    /// ```
    /// use bevy_ecs::prelude::*;
    /// use lifecycle_ecs::prelude::*;
    /// #[derive(Component, Default)]
    /// struct Budget(u32);
    /// let mut engine = Engine::new();
    /// engine
    ///     .add_entity_hook::<Lifecycle, &Budget, _, _>(HookType::OnInit, "check_budget", |_, budget| {
    ///         if budget.0 == 0 { Err("no budget") } else { Ok(()) }
    ///     })
    ///     .unwrap();
    /// let rich = engine.spawn_with(Lifecycle, Budget(5));
    /// let poor = engine.spawn_with(Lifecycle, Budget(0));
    /// let report = engine.initialize(Selection::All);
    /// assert_eq!(report.moved, 1);
    /// assert_eq!(engine.state(rich), Some(LifecycleState::Initialized));
    /// assert_eq!(engine.state(poor), Some(LifecycleState::Failed));
    /// ```
    pub fn add_entity_hook<K, D, E, F>(
        &mut self,
        hook_type: HookType,
        name: impl Into<Arc<str>>,
        mut f: F,
    ) -> Result<(), HookRegistrationError>
    where
        K: ServiceKind,
        D: IterQueryData + 'static,
        E: Into<HookError> + 'static,
        F: for<'a, 'b> FnMut(Entity, D::Item<'a, 'b>) -> Result<(), E> + Send + Sync + 'static,
    {
        let system = move |mut targets: Targets<K, D>| targets.try_for_each_isolated(&mut f);
        self.add_named_hook::<K, _>(hook_type, name, system)
    }

    /// Attaches `system` as a hook of `hook_type` to one service (AIPerf's `attach_hook`). It
    /// receives the service's entity, runs after the kind hooks (first, for ON_STOP), and is
    /// validated against the service's own kind.
    ///
    /// # Errors
    /// [`HookRegistrationError::NotAService`] or [`HookRegistrationError::Unsupported`].
    pub fn attach_hook<O: HookOutput, M>(
        &mut self,
        entity: Entity,
        hook_type: HookType,
        name: impl Into<Arc<str>>,
        system: impl IntoSystem<In<Entity>, O, M> + 'static,
    ) -> Result<(), HookRegistrationError> {
        self.attach_hook_with(entity, hook_type, HookConfig::named(name), system)
    }

    /// [`attach_hook`](Self::attach_hook) with a [`HookConfig`] (AIPerf's
    /// `attach_hook(hook_type, func, params)`): its name and parameters, listed by
    /// [`service_hooks`](Self::service_hooks). Attached hooks are sync, so the timeout is unused.
    ///
    /// # Errors
    /// [`HookRegistrationError::NotAService`] or [`HookRegistrationError::Unsupported`].
    pub fn attach_hook_with<O: HookOutput, M>(
        &mut self,
        entity: Entity,
        hook_type: HookType,
        config: HookConfig,
        system: impl IntoSystem<In<Entity>, O, M> + 'static,
    ) -> Result<(), HookRegistrationError> {
        let kind = self
            .world
            .get::<ServiceId>(entity)
            .map(ServiceId::kind)
            .ok_or(HookRegistrationError::NotAService(entity))?;
        let info = self
            .kinds
            .by_id(kind)
            .ok_or(HookRegistrationError::NotAService(entity))?;
        if !info.provided.contains(hook_type) {
            return Err(UnsupportedHookError {
                hook_type,
                kind: info.name,
                provided: info.provided.clone(),
            }
            .into());
        }
        let info = HookInfo {
            name: config.name,
            hook_type,
            kind: info.name,
            attached_to: Some(entity),
            timeout: config.timeout,
            params: config.params,
        };
        self.attached.attach(&mut self.world, entity, info, system);
        self.hooks.note_type(hook_type);
        Ok(())
    }

    /// Spawns one service of kind `kind` with a generated id.
    ///
    /// # Panics
    /// Panics if the service cannot be spawned (see [`try_spawn`](Self::try_spawn)).
    #[track_caller]
    pub fn spawn<K: ServiceKind>(&mut self, kind: K) -> Entity {
        self.spawn_with(kind, ())
    }

    /// Spawns one service of kind `kind` with a generated id.
    ///
    /// # Errors
    /// [`SpawnError`] if the kind cannot be registered or the process has no service id left.
    pub fn try_spawn<K: ServiceKind>(&mut self, kind: K) -> Result<Entity, SpawnError> {
        self.try_spawn_with(kind, (), None)
    }

    /// Spawns one service of kind `kind` with extra components.
    ///
    /// # Panics
    /// Panics if the service cannot be spawned (see [`try_spawn_with`](Self::try_spawn_with)).
    #[track_caller]
    pub fn spawn_with<K: ServiceKind, B: Bundle>(&mut self, kind: K, extra: B) -> Entity {
        self.try_spawn_with(kind, extra, None)
            .unwrap_or_else(|error| panic!("{error}"))
    }

    /// Spawns one service, optionally with a given id string.
    ///
    /// # Errors
    /// [`SpawnError`] if the kind cannot be registered or the process has no service id left
    /// (see the [limits](crate::limits)).
    pub fn try_spawn_with<K: ServiceKind, B: Bundle>(
        &mut self,
        kind: K,
        extra: B,
        name: Option<String>,
    ) -> Result<Entity, SpawnError> {
        let kind_id = self.spawnable_kind::<K>()?;
        let serial = self.reserve_serials::<K>(1, 0)?;
        let id = match name {
            Some(name) => ServiceId::named(kind_id, serial, name),
            None => ServiceId::generated(kind_id, serial),
        };
        Ok(self.world.spawn((kind, root_components(), id, extra)).id())
    }

    /// Spawns `count` services of kind `kind` in one batch, each with `extra(i)`.
    ///
    /// # Panics
    /// Panics if the services cannot be spawned (see
    /// [`try_spawn_batch_with`](Self::try_spawn_batch_with)).
    #[track_caller]
    pub fn spawn_batch_with<K: ServiceKind + Clone, B: Bundle<Effect: NoBundleEffect>>(
        &mut self,
        kind: K,
        count: usize,
        extra: impl FnMut(usize) -> B,
    ) -> Vec<Entity> {
        self.try_spawn_batch_with(kind, count, extra)
            .unwrap_or_else(|error| panic!("{error}"))
    }

    /// Spawns `count` services of kind `kind` in one batch, each with `extra(i)`, if they fit.
    ///
    /// Before spawning anything, the batch's memory is estimated with the engine's own
    /// per-service figure ([`footprint::bytes_per_service`](crate::footprint::bytes_per_service))
    /// and that much is asked of the allocator, so a batch that cannot be allocated is refused
    /// instead of aborting the process. Where the system overcommits memory, the allocator may
    /// grant more than there is: check available memory first for fleets near the machine's size
    /// (as `lifecycle-ecs fleet` does).
    ///
    /// # Errors
    /// [`SpawnError::Kind`] if the kind cannot be registered; [`SpawnError::OutOfMemory`] if the
    /// batch cannot be allocated; [`SpawnError::IdsExhausted`] if the process has fewer than
    /// `count` service ids left. Nothing is spawned then, and no id is taken.
    pub fn try_spawn_batch_with<K: ServiceKind + Clone, B: Bundle<Effect: NoBundleEffect>>(
        &mut self,
        kind: K,
        count: usize,
        mut extra: impl FnMut(usize) -> B,
    ) -> Result<Vec<Entity>, SpawnError> {
        let kind_id = self.spawnable_kind::<K>()?;
        let bytes = footprint::service_bytes::<K, B>(&mut self.world);
        let first = self.reserve_serials::<K>(count, bytes)?;
        // Serials `first .. first + count` were reserved, so they fit in `u32`.
        let id = move |i: usize| ServiceId::generated(kind_id, first.wrapping_add(i as u32));
        let spawned = if TypeId::of::<K>() == TypeId::of::<Lifecycle>() {
            exact_spawn::spawn_exact(&mut self.world, count, |i| {
                (kind.clone(), root_components(), id(i), extra(i))
            })
        } else {
            // Naming the root marker too spares bevy a required-component constructor call per
            // service (`K` is not `Lifecycle` here, so the bundle has no duplicate).
            exact_spawn::spawn_exact(&mut self.world, count, |i| {
                (kind.clone(), Lifecycle, root_components(), id(i), extra(i))
            })
        };
        Ok(spawned)
    }

    /// Registers kind `K` for spawning.
    fn spawnable_kind<K: ServiceKind>(&mut self) -> Result<KindId, SpawnError> {
        self.register_kind::<K>()
            .map_err(|source| SpawnError::Kind {
                kind: K::NAME,
                source,
            })
    }

    /// Makes room for `count` services of kind `K` of `bytes` each (0: not checked) and reserves
    /// their id serials (process-wide); returns the first. Ids are taken last, so a refused
    /// batch takes none.
    fn reserve_serials<K: ServiceKind>(
        &mut self,
        count: usize,
        bytes: usize,
    ) -> Result<u32, SpawnError> {
        let requested = u64::try_from(count).unwrap_or(u64::MAX);
        if bytes > 0 {
            let fits = footprint::total_bytes(count, bytes)
                .is_some_and(|total| Vec::<u8>::new().try_reserve_exact(total).is_ok());
            if !fits {
                return Err(SpawnError::OutOfMemory {
                    kind: K::NAME,
                    count: requested,
                    bytes: u64::try_from(count as u128 * bytes as u128).unwrap_or(u64::MAX),
                });
            }
        }
        ServiceId::reserve(count).map_err(|source| SpawnError::IdsExhausted {
            kind: K::NAME,
            count: requested,
            source,
        })
    }

    /// Spawns `count` services of kind `kind` in one batch.
    ///
    /// # Panics
    /// Panics if the services cannot be spawned (see
    /// [`try_spawn_batch_with`](Self::try_spawn_batch_with)).
    #[track_caller]
    pub fn spawn_batch<K: ServiceKind + Clone>(&mut self, kind: K, count: usize) -> Vec<Entity> {
        self.spawn_batch_with(kind, count, |_| ())
    }

    /// Spawns `count` services of kind `kind` in one batch, if they fit.
    ///
    /// # Errors
    /// As [`try_spawn_batch_with`](Self::try_spawn_batch_with).
    pub fn try_spawn_batch<K: ServiceKind + Clone>(
        &mut self,
        kind: K,
        count: usize,
    ) -> Result<Vec<Entity>, SpawnError> {
        self.try_spawn_batch_with(kind, count, |_| ())
    }

    /// Attaches `child` to `parent` in the lifecycle tree (AIPerf's `attach_child_lifecycle`).
    ///
    /// The child's subtree comes along: every descendant's depth is set from its new place (it
    /// moves up when re-attached higher, e.g. an orphan of a despawned parent). The walks up from
    /// the parent and down the subtree are bounded by the depth limit, so a tree changed through
    /// [`world_mut`](Self::world_mut) cannot make them loop.
    ///
    /// # Errors
    /// [`AttachChildError`] unless both are services, the parent is CREATED, the child has no
    /// parent yet, no cycle forms (or already exists on the way), and the tree stays within depth
    /// [`MAX_TREE_DEPTH`](crate::MAX_TREE_DEPTH). On error nothing changes.
    pub fn attach_child(&mut self, parent: Entity, child: Entity) -> Result<(), AttachChildError> {
        let parent_id = *self
            .service_id(parent)
            .ok_or(AttachChildError::NotAService(parent))?;
        let child_id = *self
            .service_id(child)
            .ok_or(AttachChildError::NotAService(child))?;
        let depth = self.child_depth_under(parent, ChildToAttach::Existing(child_id))?;
        if self.world.get::<LifecycleParent>(child).is_some() {
            return Err(AttachChildError::AlreadyAttached {
                parent: parent_id,
                child: child_id,
            });
        }
        let walk_error = |error| match error {
            TreeWalkError::Reached => AttachChildError::Cycle {
                parent: parent_id,
                child: child_id,
            },
            TreeWalkError::Cycle(through) => AttachChildError::TreeCycle {
                parent: parent_id,
                child: child_id,
                through,
            },
            TreeWalkError::TooDeep => AttachChildError::TooDeep {
                parent: parent_id,
                child: ChildToAttach::Existing(child_id),
            },
        };
        tree_walk::check_ancestors(&self.world, parent, child).map_err(walk_error)?;
        let subtree =
            tree_walk::subtree_at_depth(&self.world, child, depth, parent).map_err(walk_error)?;
        let mut deepest = depth;
        for &(entity, level) in &subtree {
            if let Some(mut flags) = self.world.get_mut::<LifecycleFlags>(entity) {
                flags.set_depth(level);
            }
            deepest = deepest.max(level);
        }
        self.max_depth = self.max_depth.max(deepest);
        self.world.entity_mut(child).insert(LifecycleParent(parent));
        Ok(())
    }

    /// The depth a new child of `parent` gets, once `parent` is checked to be a CREATED service
    /// with a level left below it.
    fn child_depth_under(
        &self,
        parent: Entity,
        child: ChildToAttach,
    ) -> Result<u8, AttachChildError> {
        let service = self.world.get_entity(parent).ok().and_then(|service| {
            Some((
                service.get::<ServiceId>()?,
                service.get::<LifecycleState>()?,
                service.get::<LifecycleFlags>()?,
            ))
        });
        depth_below(parent, service, child)
    }

    /// Spawns `count` services of kind `kind` as children of `parent`, in one batch (much cheaper
    /// than spawning and attaching one by one: the children are born in their final table).
    ///
    /// # Errors
    /// [`SpawnError::Attach`] as [`attach_child`](Self::attach_child): `parent` must be a CREATED
    /// service and the tree must stay within 255 levels; otherwise as
    /// [`try_spawn_batch_with`](Self::try_spawn_batch_with).
    pub fn spawn_children<K: ServiceKind + Clone>(
        &mut self,
        parent: Entity,
        kind: K,
        count: usize,
    ) -> Result<Vec<Entity>, SpawnError> {
        self.spawn_children_with(&[parent], kind, count, |_| ())
    }

    /// Spawns `per_parent` children of kind `kind` for each of `parents`, all in one batch, the
    /// `i`-th child with `extra(i)`; the result holds each parent's children in turn.
    ///
    /// # Errors
    /// As [`spawn_children`](Self::spawn_children), checked for every parent and for the whole
    /// batch (memory, with [`footprint::bytes_per_child`](crate::footprint::bytes_per_child);
    /// service ids) before anything is spawned.
    pub fn spawn_children_with<K: ServiceKind + Clone, B: Bundle<Effect: NoBundleEffect>>(
        &mut self,
        parents: &[Entity],
        kind: K,
        per_parent: usize,
        mut extra: impl FnMut(usize) -> B,
    ) -> Result<Vec<Entity>, SpawnError> {
        let kind_id = self.spawnable_kind::<K>()?;
        // One query for the whole batch: a lookup per parent, not one per component.
        let mut services = self
            .world
            .query::<(&ServiceId, &LifecycleState, &LifecycleFlags)>();
        let services = services.query(&self.world);
        let mut depths = Vec::with_capacity(parents.len());
        for &parent in parents {
            let service = services.get(parent).ok();
            depths.push(depth_below(parent, service, ChildToAttach::New(kind_id))?);
        }
        let bytes = footprint::child_bytes::<K, B>(&mut self.world);
        let total = parents
            .len()
            .checked_mul(per_parent)
            .ok_or(SpawnError::OutOfMemory {
                kind: K::NAME,
                count: u64::try_from(parents.len() as u128 * per_parent as u128)
                    .unwrap_or(u64::MAX),
                bytes: u64::MAX,
            })?;
        let first = self.reserve_serials::<K>(total, bytes)?;
        let children = lifecycle_ecs_components::spawn_linked_children(
            &mut self.world,
            parents,
            per_parent,
            |world, children| {
                exact_spawn::spawn_exact_into(
                    world,
                    total,
                    |i| {
                        let parent = i / per_parent;
                        (
                            kind.clone(),
                            LifecycleState::Created,
                            LifecycleFlags::at_depth(depths[parent]),
                            // Serials `first .. first + total` were reserved, so they fit in `u32`.
                            ServiceId::generated(kind_id, first.wrapping_add(i as u32)),
                            LifecycleParent(parents[parent]),
                            extra(i),
                        )
                    },
                    children,
                );
            },
        );
        if let Some(&deepest) = depths.iter().max() {
            self.max_depth = self.max_depth.max(deepest);
        }
        Ok(children)
    }

    /// Spawns a service of kind `kind` and attaches it as a child of `parent`.
    ///
    /// # Errors
    /// As [`attach_child`](Self::attach_child). The parent is checked before anything is
    /// spawned, so its errors name the child as `a new <Kind>`.
    /// Spawning itself fails as [`try_spawn`](Self::try_spawn) does ([`SpawnError`]).
    pub fn spawn_child<K: ServiceKind>(
        &mut self,
        parent: Entity,
        kind: K,
    ) -> Result<Entity, SpawnError> {
        self.child_depth_under(parent, ChildToAttach::New(KindId::of::<K>()))?;
        let child = self.try_spawn(kind)?;
        if let Err(error) = self.attach_child(parent, child) {
            self.world.despawn(child);
            return Err(error.into());
        }
        Ok(child)
    }

    /// Sets a service's stop-requested flag by hand (AIPerf's `stop_requested = True`): a later
    /// `stop` is then ignored, and its background tasks end at their next iteration check (see
    /// [`async_background`](crate::async_background)). Returns `false` if `entity` is not a service.
    pub fn set_stop_requested(&mut self, entity: Entity) -> bool {
        match self.world.get_mut::<LifecycleFlags>(entity) {
            Some(mut flags) => {
                flags.set_stop_requested(true);
                self.stop_requested(&[entity]);
                true
            }
            None => false,
        }
    }

    /// The old name of [`set_stop_requested`](Self::set_stop_requested): it does not request a
    /// stop (a later `stop` is ignored), so it was renamed.
    #[deprecated(
        since = "0.1.0",
        note = "renamed to `set_stop_requested` (it does not stop the service)"
    )]
    pub fn request_stop(&mut self, entity: Entity) -> bool {
        self.set_stop_requested(entity)
    }

    /// Sets the stop-requested flag of `services` (those that are services), then runs the
    /// `StopRequested` steps once for them.
    pub(crate) fn request_stops(&mut self, services: &[Entity]) {
        for &entity in services {
            if let Some(mut flags) = self.world.get_mut::<LifecycleFlags>(entity) {
                flags.set_stop_requested(true);
            }
        }
        self.stop_requested(services);
    }

    /// Runs the `StopRequested` steps for services whose stop-requested flag was just set.
    pub(crate) fn stop_requested(&mut self, services: &[Entity]) {
        if services.is_empty() || !self.steps.has(PhaseStep::StopRequested) {
            return;
        }
        let context = StepContext::list(PhaseStep::StopRequested, None, services);
        self.steps.run_sync(&mut self.world, context);
    }

    /// A service's state.
    pub fn state(&self, entity: Entity) -> Option<LifecycleState> {
        self.world.get::<LifecycleState>(entity).copied()
    }

    /// A service's flags (stop requested, was initialized / started / stopped, depth).
    pub fn flags(&self, entity: Entity) -> Option<LifecycleFlags> {
        self.world.get::<LifecycleFlags>(entity).copied()
    }

    /// The AIPerf service type of a service: the first
    /// [`SERVICE_TYPE`](lifecycle_ecs_components::ServiceKind::SERVICE_TYPE) along its kind's
    /// linearization (`None`: not a service, or no kind of it declares one).
    pub fn service_type(&self, entity: Entity) -> Option<&'static str> {
        let id = self.world.get::<ServiceId>(entity)?;
        self.world
            .get_resource::<crate::kind_registry::KindServiceTypes>()?
            .of(id.kind())
    }

    /// A service's id.
    pub fn service_id(&self, entity: Entity) -> Option<&ServiceId> {
        self.world.get::<ServiceId>(entity)
    }

    /// A service's exit errors (empty unless it failed).
    pub fn exit_errors(&self, entity: Entity) -> &[ExitErrorInfo] {
        self.world
            .get::<ExitErrors>(entity)
            .map_or(&[], ExitErrors::as_slice)
    }

    /// A service's lifecycle children, in attach order.
    pub fn children(&self, entity: Entity) -> &[Entity] {
        self.world
            .get_resource::<LifecycleTree>()
            .map_or(&[], |tree| tree.children(entity))
    }

    /// How many hooks of `hook_type` are registered for kinds (attached hooks not counted).
    pub fn hook_count(&self, hook_type: HookType) -> usize {
        self.hooks.count(hook_type)
    }

    /// Every hook failure recorded so far.
    pub fn failures(&self) -> &HookFailures {
        self.world.resource::<HookFailures>()
    }

    /// How many services exist.
    pub fn service_count(&mut self) -> usize {
        self.services.iter(&self.world).len()
    }

    /// How many services are in each state, indexed by [`LifecycleState::index`].
    pub fn state_counts(&mut self) -> [usize; 8] {
        let mut counts = [0; 8];
        let mut query = self.world.query::<&LifecycleState>();
        query
            .iter(&self.world)
            .for_each(|state| counts[state.index()] += 1);
        counts
    }
}

fn hook_name_of_value<T>(_value: &T) -> Result<Arc<str>, HookRegistrationError> {
    hook_name_of::<T>()
}

/// The root kind's data components, given explicitly so spawning skips their required-component
/// constructors. (Not the `Lifecycle` marker itself: the kind may be `Lifecycle`.)
fn root_components() -> (LifecycleState, LifecycleFlags) {
    (LifecycleState::Created, LifecycleFlags::default())
}

/// The depth a new child of `parent` gets, given the parent's id, state and flags (`None`: not a
/// service): the parent must be CREATED with a level left below it.
fn depth_below(
    parent: Entity,
    service: Option<(&ServiceId, &LifecycleState, &LifecycleFlags)>,
    child: ChildToAttach,
) -> Result<u8, AttachChildError> {
    let Some((parent_id, &state, flags)) = service else {
        return Err(AttachChildError::NotAService(parent));
    };
    if state != LifecycleState::Created {
        return Err(AttachChildError::ParentNotCreated {
            parent: *parent_id,
            child,
            state,
        });
    }
    flags
        .depth()
        .checked_add(1)
        .ok_or(AttachChildError::TooDeep {
            parent: *parent_id,
            child,
        })
}
