//! [`MessageBusClient`]: the kind whose services subscribe to messages (AIPerf's
//! `MessageBusClientMixin`).

use bevy_ecs::component::Component;
use lifecycle_ecs_components::{HookType, Lifecycle, ServiceKind};

/// A service on the message bus: it provides ON_MESSAGE hooks (see
/// [`Deliveries`](crate::messaging::bus::Deliveries)). Derive your kinds from it.
///
/// # Example
/// ```
/// use lifecycle_ecs::prelude::*;
/// use lifecycle_ecs::messaging::MessageBusClient;
/// assert!(MessageBusClient::PROVIDES.contains(&HookType::OnMessage));
/// ```
#[derive(Component, Clone, Copy, Debug, Default)]
#[require(Lifecycle)]
pub struct MessageBusClient;

impl ServiceKind for MessageBusClient {
    const NAME: &'static str = "MessageBusClient";
    type Bases = (Lifecycle,);
    const PROVIDES: &'static [HookType] = &[HookType::OnMessage];
}
