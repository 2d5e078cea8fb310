//! Service kinds: the ECS answer to AIPerf's class hierarchy.

use core::any::TypeId;

use bevy_ecs::component::{Component, ComponentId};
use bevy_ecs::world::World;

use crate::{HookType, LifecycleFlags, LifecycleState, ServiceId};

/// A kind of service: a marker component with ordered base kinds and the hook types it provides.
///
/// A kind is what AIPerf expresses as a class: its [`Bases`](ServiceKind::Bases) are its base
/// classes (list them in the same order as in Python; hooks follow the C3 linearization, base kinds
/// first), and [`PROVIDES`](ServiceKind::PROVIDES) is its `@provides_hooks(...)`. The bases must also
/// be required components (`#[require(..)]`), so spawning a kind inserts the markers of all its bases;
/// the engine checks that when the kind is registered.
///
/// # Example
/// ```
/// use bevy_ecs::prelude::*;
/// use lifecycle_ecs_components::{HookType, Lifecycle, ServiceKind};
///
/// /// A service that handles pulled work items.
/// #[derive(Component, Default)]
/// #[require(Lifecycle)]
/// struct PullClient;
///
/// impl ServiceKind for PullClient {
///     const NAME: &'static str = "PullClient";
///     type Bases = (Lifecycle,);
///     const PROVIDES: &'static [HookType] = &[HookType::OnPullMessage];
/// }
///
/// #[derive(Component, Default)]
/// #[require(PullClient)]
/// struct Worker;
///
/// impl ServiceKind for Worker {
///     const NAME: &'static str = "Worker";
///     type Bases = (PullClient,);
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a service kind",
    label = "not a `ServiceKind`",
    note = "implement `ServiceKind` for `{Self}`: give it a NAME, its base kinds (also as `#[require(..)]`) and the hook types it PROVIDES"
)]
pub trait ServiceKind: Component + Default {
    /// The kind's name, used in service ids (`<NAME>_<8 hex>`) and error messages.
    const NAME: &'static str;
    /// The base kinds, in declaration order (a tuple, `()` for none).
    type Bases: KindList;
    /// The hook types this kind declares (AIPerf's `@provides_hooks`); inherited by derived kinds.
    const PROVIDES: &'static [HookType] = &[];
    /// The AIPerf service type string of this kind's services (`"worker"`, `"timing_manager"`),
    /// used by messages targeted at a service type. A service's type is the first one declared
    /// along its kind's linearization, most derived first; `None` everywhere means the service
    /// has no type and only broadcasts and messages targeted at it by id reach it.
    const SERVICE_TYPE: Option<&'static str> = None;
}

/// Everything the engine needs to know about a kind, without its type.
#[derive(Clone, Copy, Debug)]
pub struct KindDescriptor {
    /// The kind's type id.
    pub type_id: TypeId,
    /// [`ServiceKind::NAME`].
    pub name: &'static str,
    /// [`ServiceKind::PROVIDES`].
    pub provides: &'static [HookType],
    /// [`ServiceKind::SERVICE_TYPE`].
    pub service_type: Option<&'static str>,
    /// The descriptors of the kind's direct bases, in declaration order.
    pub bases: fn() -> Vec<KindDescriptor>,
    /// Registers the kind's marker component in a world.
    pub register_component: fn(&mut World) -> ComponentId,
}

impl KindDescriptor {
    /// The descriptor of kind `K`.
    pub fn of<K: ServiceKind>() -> Self {
        Self {
            type_id: TypeId::of::<K>(),
            name: K::NAME,
            provides: K::PROVIDES,
            service_type: K::SERVICE_TYPE,
            bases: K::Bases::descriptors,
            register_component: |world| world.register_component::<K>(),
        }
    }
}

/// An ordered list of kinds: implemented for tuples of up to eight [`ServiceKind`]s and for `()`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a list of service kinds",
    note = "base kinds are written as a tuple: `type Bases = (Lifecycle,);`"
)]
pub trait KindList {
    /// The descriptors of the kinds in the list, in order.
    fn descriptors() -> Vec<KindDescriptor>;
}

impl KindList for () {
    fn descriptors() -> Vec<KindDescriptor> {
        Vec::new()
    }
}

macro_rules! impl_kind_list {
    ($($kind:ident),+) => {
        impl<$($kind: ServiceKind),+> KindList for ($($kind,)+) {
            fn descriptors() -> Vec<KindDescriptor> {
                vec![$(KindDescriptor::of::<$kind>()),+]
            }
        }
    };
}

impl_kind_list!(A);
impl_kind_list!(A, B);
impl_kind_list!(A, B, C);
impl_kind_list!(A, B, C, D);
impl_kind_list!(A, B, C, D, E);
impl_kind_list!(A, B, C, D, E, F);
impl_kind_list!(A, B, C, D, E, F, G);
impl_kind_list!(A, B, C, D, E, F, G, H);

/// The root kind: every service is a `Lifecycle` (AIPerf's `AIPerfLifecycleMixin`).
///
/// It provides ON_INIT, ON_START, ON_STOP, ON_STATE_CHANGE and BACKGROUND_TASK, and requires the
/// per-service lifecycle data ([`LifecycleState`], [`LifecycleFlags`], [`ServiceId`]).
///
/// # Example
/// ```
/// use lifecycle_ecs_components::{HookType, Lifecycle, ServiceKind};
/// assert!(Lifecycle::PROVIDES.contains(&HookType::OnStateChange));
/// ```
#[derive(Component, Clone, Copy, Debug, Default)]
#[require(LifecycleState, LifecycleFlags, ServiceId)]
pub struct Lifecycle;

impl ServiceKind for Lifecycle {
    const NAME: &'static str = "Lifecycle";
    type Bases = ();
    const PROVIDES: &'static [HookType] = &[
        HookType::OnInit,
        HookType::OnStart,
        HookType::OnStop,
        HookType::OnStateChange,
        HookType::BackgroundTask,
    ];
}
