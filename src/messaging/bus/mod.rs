//! The in-process message bus: AIPerf's pub/sub, as ECS data delivered to services in batches.
//!
//! A service publishes a message ([`Publish`] in a system, [`BusHandle`] from tokio tasks and
//! other threads, [`Engine::publish`](crate::Engine::publish) from outside); it waits in the
//! [outbox](outbox) until the next **bus round**, which routes everything published before it:
//!
//! 1. the outbox is drained (publish order kept per publisher);
//! 2. envelopes are indexed by message type ([`TopicTable`]);
//! 3. each ON_MESSAGE hook whose message types have envelopes in the round runs **once**, and its
//!    [`Deliveries`] parameter visits every (subscribed service of its kind, message) pair —
//!    one system pass for a message to a million subscribers, or for a million messages;
//! 4. every envelope that reached no handler is counted with its reason in the [`BusReport`].
//!
//! Messages handlers publish during a round go to the next one; a pump runs rounds until the
//! outbox is empty ([`Engine::pump_messages`](crate::Engine::pump_messages), and the run loop at
//! every tick).
//!
//! # Routing (AIPerf's topics)
//!
//! Exact match on the message type plus the [`Target`]: a broadcast reaches every subscriber of
//! the type; a message targeted at a service type (`command.worker`) reaches the subscribers of
//! that [service type](crate::ServiceKind::SERVICE_TYPE); one targeted at a service reaches
//! that service if it subscribes. **The sender receives its own message** when it subscribes
//! (AIPerf's self-delivery). A service is subscribed from the moment it enters INITIALIZING
//! until it is STOPPED or FAILED; subscriptions come from its kinds' ON_MESSAGE hooks (their
//! [`HookConfig::topics`](crate::HookConfig::topics)).
//!
//! # Handlers
//!
//! An ON_MESSAGE hook is a system of a kind that provides ON_MESSAGE (a
//! [`MessageBusClient`](crate::messaging::MessageBusClient), or a kind derived from one),
//! registered with [`Engine::add_hook_with`](crate::Engine::add_hook_with) and the message types
//! it handles. A handler's error or panic is counted per (kind, hook) in the report and logged;
//! it never fails the service (AIPerf swallows them).
//!
//! # Differences from AIPerf
//!
//! - Delivery is batched per round instead of one task per message; the order a subscriber sees
//!   a publisher's messages of one topic in is kept.
//! - A message nobody receives is counted with its reason, never dropped silently.
//! - Async message handlers (`HookTasks` inside an ON_MESSAGE hook) are not run yet: their
//!   futures are counted as handler errors.

mod deliveries;
mod engine_bus;
mod envelope;
mod message_hooks;
mod mirror;
pub mod outbox;
mod payload;
mod plugin;
mod publish;
mod pump;
mod receivable;
mod report;
mod round;
mod target;
mod topic_table;

pub use deliveries::{Deliveries, Delivery};
pub use envelope::Envelope;
pub use mirror::{MirroredEnvelope, TrafficMirror};
pub use outbox::{BusClosedError, BusHandle, BusOutbox};
pub use payload::Payload;
pub use plugin::{BUS_PLUGIN, BusPlugin};
pub use publish::Publish;
pub use pump::{MAX_ROUNDS_PER_PUMP, PumpReport};
pub use receivable::{Receivable, View};
pub use report::{BusReport, HandlerErrors, UndeliveredCounts, UndeliveredReason};
pub use round::BusRound;
pub use target::{Target, TargetError};
pub use topic_table::{TopicId, TopicTable};
