//! AIPerf's client kinds: the base kinds a service derives from to receive messages.
//!
//! | kind | AIPerf mixin | provides |
//! |---|---|---|
//! | [`MessageBusClient`] | `MessageBusClientMixin` | ON_MESSAGE |

mod message_bus_client;

pub use message_bus_client::MessageBusClient;
