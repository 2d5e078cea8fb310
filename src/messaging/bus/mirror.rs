//! [`TrafficMirror`]: a record of every envelope the bus routed, for tests to assert on.

use bevy_ecs::entity::Entity;
use bevy_ecs::resource::Resource;

use super::{Envelope, Target};

/// One routed envelope, as the mirror keeps it: who sent what to whom, and its wire JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MirroredEnvelope {
    /// The message type.
    pub message_type: String,
    /// The publishing service.
    pub sender: Option<Entity>,
    /// Who it was for.
    pub target: Target,
    /// The message in AIPerf's JSON wire shape (`None` if it does not encode).
    pub json: Option<String>,
}

/// Records every envelope routed while it is in the world
/// ([`Engine::record_traffic`](crate::Engine::record_traffic)). Encoding each message costs
/// what a transport's would: for tests and debugging, not for benchmarks.
#[derive(Resource, Default, Debug)]
pub struct TrafficMirror {
    /// The envelopes, in routing order.
    pub envelopes: Vec<MirroredEnvelope>,
}

impl TrafficMirror {
    pub(crate) fn record(&mut self, envelopes: &[Envelope]) {
        self.envelopes.extend(envelopes.iter().map(|envelope| {
            MirroredEnvelope {
                message_type: envelope.message_type().to_owned(),
                sender: envelope.sender,
                target: envelope.target.clone(),
                // A user type's serde code may panic: the mirror then keeps no JSON for it.
                json: std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    envelope.payload.encode().ok()
                }))
                .unwrap_or_else(|panic| {
                    lifecycle_ecs_systems::drop_quietly(panic);
                    None
                }),
            }
        }));
    }
}
