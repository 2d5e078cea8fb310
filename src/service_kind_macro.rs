//! `service_kind!`: declare a kind in one line.

/// Declares a service kind: the marker component (requiring its base kinds) and its
/// [`ServiceKind`](crate::ServiceKind) impl, named after the type.
///
/// `struct Name: Base1, Base2` lists the bases in Python's order; an optional
/// `; requires [Component, …]` adds more required components (per-service data the kind's hooks
/// use), and an optional `; provides [HookType::…, …]` declares the hook types the kind adds. The
/// crate using it needs `bevy_ecs` as a dependency (for the `Component` derive).
///
/// # Example
/// ```
/// use lifecycle_ecs::prelude::*;
/// use lifecycle_ecs::service_kind;
///
/// service_kind! {
///     /// A service on the message bus.
///     pub struct MessageBusClient: Lifecycle; provides [HookType::OnMessage]
/// }
/// service_kind! {
///     /// A worker.
///     pub struct Worker: MessageBusClient
/// }
///
/// let mut engine = Engine::new();
/// assert!(engine.provided_hooks::<Worker>().unwrap().contains(HookType::OnMessage));
/// assert_eq!(<Worker as ServiceKind>::NAME, "Worker");
/// let worker = engine.spawn(Worker);
/// assert!(engine.world().get::<MessageBusClient>(worker).is_some());
/// ```
#[macro_export]
macro_rules! service_kind {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident : $($base:ident),+
        $(; requires [$($extra:ident),* $(,)?])?
        $(; provides [$($hook:expr),* $(,)?])?
        $(;)?
    ) => {
        $(#[$meta])*
        #[derive($crate::bevy_ecs::component::Component, Default, Clone, Copy, Debug)]
        #[require($($base),+ $($(, $extra)*)?)]
        $vis struct $name;

        impl $crate::ServiceKind for $name {
            const NAME: &'static str = stringify!($name);
            type Bases = ($($base,)+);
            const PROVIDES: &'static [$crate::HookType] = &[$($($hook),*)?];
        }
    };
}
