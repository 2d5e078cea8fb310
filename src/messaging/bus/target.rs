//! [`Target`]: who a published message is for — everyone, one service, or one service type.

use std::borrow::Cow;

use bevy_ecs::entity::Entity;

/// Who a message is for, AIPerf's `target_service_id` / `target_service_type` (neither: a
/// broadcast).
///
/// Routing is exact, as AIPerf's topics are (`<type>$`, `<type>.<target>$`): a hook subscribed to
/// a message type receives the broadcasts of that type, the messages targeted at its own
/// service, and those targeted at its service's type ([`ServiceKind::SERVICE_TYPE`](crate::ServiceKind::SERVICE_TYPE)).
/// The sender receives its own message when it is a subscriber (AIPerf's self-delivery).
///
/// In process, a service is targeted by its entity: no index from ids to entities is kept.
///
/// # Example
/// ```
/// use lifecycle_ecs::messaging::bus::{Target, TargetError};
/// assert_eq!(Target::from_fields(None, None), Ok(Target::Broadcast));
/// assert_eq!(
///     Target::from_fields(None, Some("worker")),
///     Ok(Target::ServiceType("worker".into()))
/// );
/// # let entity = bevy_ecs::entity::Entity::PLACEHOLDER;
/// assert_eq!(Target::from_fields(Some(entity), Some("worker")), Err(TargetError::BothTargets));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// Every subscriber of the message type.
    Broadcast,
    /// The subscribers among this one service.
    Service(Entity),
    /// The subscribers whose service type is this string.
    ServiceType(Cow<'static, str>),
}

/// A message named two targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Both a service and a service type were given (AIPerf's validation error).
    #[error("a message targets either a service id or a service type, not both")]
    BothTargets,
}

impl Target {
    /// The target AIPerf's two optional fields describe.
    ///
    /// # Errors
    /// [`TargetError::BothTargets`] when both are set.
    pub fn from_fields(
        service: Option<Entity>,
        service_type: Option<&str>,
    ) -> Result<Self, TargetError> {
        match (service, service_type) {
            (Some(_), Some(_)) => Err(TargetError::BothTargets),
            (Some(entity), None) => Ok(Self::Service(entity)),
            (None, Some(service_type)) => {
                Ok(Self::ServiceType(Cow::Owned(service_type.to_owned())))
            }
            (None, None) => Ok(Self::Broadcast),
        }
    }

    /// Messages for every service of type `service_type`.
    pub fn service_type(service_type: impl Into<Cow<'static, str>>) -> Self {
        Self::ServiceType(service_type.into())
    }
}
