//! The engine's bus methods: publish, pump, report, handles, traffic recording.

use bevy_ecs::entity::Entity;

use super::plugin::BUS_PLUGIN;
use super::pump::{MAX_ROUNDS_PER_PUMP, PumpReport, pump};
use super::{BusHandle, BusOutbox, BusReport, Envelope, Payload, Target, TrafficMirror};
use crate::engine::Engine;
use crate::plugin_error::PluginMissingError;

impl Engine {
    /// Publishes `message` from `sender` (`None`: from no service) to `target`; it is routed at
    /// the next pump (the run loop's next tick, or [`pump_messages`](Self::pump_messages)).
    ///
    /// # Errors
    /// [`PluginMissingError`] on an engine built without the [`BusPlugin`](super::BusPlugin).
    pub fn publish(
        &mut self,
        sender: Option<Entity>,
        target: Target,
        message: impl Payload,
    ) -> Result<(), PluginMissingError> {
        self.outbox()?.push(Envelope::new(sender, target, message));
        Ok(())
    }

    /// Publishes every envelope of `envelopes`, in order.
    ///
    /// # Errors
    /// [`PluginMissingError`] on an engine built without the [`BusPlugin`](super::BusPlugin).
    pub fn publish_all(
        &mut self,
        envelopes: impl IntoIterator<Item = Envelope>,
    ) -> Result<(), PluginMissingError> {
        let mut outbox = self.outbox()?;
        let envelopes = envelopes.into_iter();
        outbox.reserve(envelopes.size_hint().0);
        for envelope in envelopes {
            outbox.push(envelope);
        }
        Ok(())
    }

    /// Routes what was published: bus rounds until the outbox is empty (at most
    /// [`MAX_ROUNDS_PER_PUMP`]; messages handlers publish go to the next round). The run loop
    /// does this at every tick; call it to step the bus by hand. Without the bus plugin it
    /// does nothing.
    pub fn pump_messages(&mut self) -> PumpReport {
        pump(&mut self.world, MAX_ROUNDS_PER_PUMP)
    }

    /// What the bus did so far (`None` without the bus plugin).
    pub fn bus_report(&self) -> Option<&BusReport> {
        self.world.get_resource::<BusReport>()
    }

    /// A handle that publishes from tokio tasks and other threads (`None` without the bus
    /// plugin).
    pub fn bus_handle(&self) -> Option<BusHandle> {
        self.world
            .get_resource::<BusOutbox>()
            .map(BusOutbox::handle)
    }

    /// Starts (`true`) or stops recording every routed envelope in a [`TrafficMirror`], for
    /// tests to assert on ([`traffic`](Self::traffic)).
    pub fn record_traffic(&mut self, on: bool) {
        if on {
            self.world.init_resource::<TrafficMirror>();
        } else {
            self.world.remove_resource::<TrafficMirror>();
        }
    }

    /// The recorded traffic, if recording is on.
    pub fn traffic(&self) -> Option<&TrafficMirror> {
        self.world.get_resource::<TrafficMirror>()
    }

    fn outbox(&mut self) -> Result<bevy_ecs::world::Mut<'_, BusOutbox>, PluginMissingError> {
        self.world
            .get_resource_mut::<BusOutbox>()
            .ok_or(PluginMissingError { plugin: BUS_PLUGIN })
    }
}
