//! [`BusReport`]: what the bus did — published, delivered, and every message nobody received,
//! with its reason; handler errors per (kind, hook).

use std::sync::Arc;

use bevy_ecs::resource::Resource;
use serde::Serialize;

/// Why a message reached no handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UndeliveredReason {
    /// No subscribed service handles its type (for its target).
    NoSubscriber,
    /// It was targeted at a service that is STOPPED or FAILED.
    TargetStopped,
    /// It was targeted at a service that has not started initializing (subscriptions start at
    /// INITIALIZING).
    TargetNotInitialized,
    /// It was targeted at an entity that is not a service (never was, or was despawned).
    TargetUnknown,
}

impl UndeliveredReason {
    /// Every reason.
    pub const ALL: [UndeliveredReason; 4] = [
        UndeliveredReason::NoSubscriber,
        UndeliveredReason::TargetStopped,
        UndeliveredReason::TargetNotInitialized,
        UndeliveredReason::TargetUnknown,
    ];

    /// The reason's name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            UndeliveredReason::NoSubscriber => "no_subscriber",
            UndeliveredReason::TargetStopped => "target_stopped",
            UndeliveredReason::TargetNotInitialized => "target_not_initialized",
            UndeliveredReason::TargetUnknown => "target_unknown",
        }
    }
}

/// Messages that reached no handler, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UndeliveredCounts {
    /// [`UndeliveredReason::NoSubscriber`].
    pub no_subscriber: u64,
    /// [`UndeliveredReason::TargetStopped`].
    pub target_stopped: u64,
    /// [`UndeliveredReason::TargetNotInitialized`].
    pub target_not_initialized: u64,
    /// [`UndeliveredReason::TargetUnknown`].
    pub target_unknown: u64,
}

impl UndeliveredCounts {
    /// The count for `reason`.
    pub fn get(&self, reason: UndeliveredReason) -> u64 {
        match reason {
            UndeliveredReason::NoSubscriber => self.no_subscriber,
            UndeliveredReason::TargetStopped => self.target_stopped,
            UndeliveredReason::TargetNotInitialized => self.target_not_initialized,
            UndeliveredReason::TargetUnknown => self.target_unknown,
        }
    }

    pub(crate) fn add(&mut self, reason: UndeliveredReason) {
        let slot = match reason {
            UndeliveredReason::NoSubscriber => &mut self.no_subscriber,
            UndeliveredReason::TargetStopped => &mut self.target_stopped,
            UndeliveredReason::TargetNotInitialized => &mut self.target_not_initialized,
            UndeliveredReason::TargetUnknown => &mut self.target_unknown,
        };
        *slot += 1;
    }

    /// Every undelivered message.
    pub fn total(&self) -> u64 {
        self.no_subscriber + self.target_stopped + self.target_not_initialized + self.target_unknown
    }
}

/// The errors (and panics) of one message hook's handler calls.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HandlerErrors {
    /// The kind the hook is registered for.
    pub kind: &'static str,
    /// The hook's name.
    #[serde(serialize_with = "serialize_name")]
    pub hook: Arc<str>,
    /// How many handler calls failed.
    pub count: u64,
    /// The last failure's message.
    pub last_error: String,
}

/// What the bus has done since the engine was built: a World resource owned by the bus plugin
/// ([`Engine::bus_report`](crate::Engine::bus_report)).
///
/// Counts in equal counts out: every published message is routed in a round, and every routed
/// message either reached at least one handler call or is counted once in
/// [`undelivered`](Self::undelivered).
#[derive(Resource, Clone, Debug, Default, Serialize)]
pub struct BusReport {
    /// Messages published (counted when they reach a round, for those sent by handles).
    pub published: u64,
    /// Messages routed through rounds.
    pub routed: u64,
    /// Handler calls: one per (subscribed service, message, hook handling it), counted by the
    /// handlers' [`Deliveries`](super::Deliveries), not by the router.
    pub delivered: u64,
    /// Routed messages that reached at least one handler call.
    pub reached: u64,
    /// Routed messages that reached none, by reason.
    pub undelivered: UndeliveredCounts,
    /// Handler errors and panics, per (kind, hook). They never fail a service.
    pub handler_errors: Vec<HandlerErrors>,
    /// Rounds run.
    pub rounds: u64,
    /// The most messages one round took from the outbox.
    pub outbox_peak: u64,
}

impl BusReport {
    /// Every undelivered message.
    pub fn undelivered_total(&self) -> u64 {
        self.undelivered.total()
    }

    /// Every handler error.
    pub fn handler_error_total(&self) -> u64 {
        self.handler_errors.iter().map(|errors| errors.count).sum()
    }

    /// (routed, delivered, undelivered), to tell what one pump added.
    pub(crate) fn clone_counts(&self) -> (u64, u64, u64) {
        (self.routed, self.delivered, self.undelivered.total())
    }

    pub(crate) fn add_handler_error(&mut self, kind: &'static str, hook: &Arc<str>, error: String) {
        if let Some(errors) = self
            .handler_errors
            .iter_mut()
            .find(|errors| errors.kind == kind && errors.hook == *hook)
        {
            errors.count += 1;
            errors.last_error = error;
        } else {
            self.handler_errors.push(HandlerErrors {
                kind,
                hook: hook.clone(),
                count: 1,
                last_error: error,
            });
        }
    }
}

fn serialize_name<S: serde::Serializer>(name: &Arc<str>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(name)
}
