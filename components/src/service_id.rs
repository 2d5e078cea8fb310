//! Service ids: `<Kind>_<8 hex>` unless given, unique, stored compactly.

use std::sync::Arc;

use bevy_ecs::component::Component;
use serde::{Serialize, Serializer};

use crate::KindId;

/// A service's id, as AIPerf's: `"<Kind>_<8 lowercase hex>"` unless a name was given.
///
/// Stored in 16 bytes: the kind, a 32-bit code and an optional custom name. Generated codes are a
/// bijective scramble of a per-engine serial number, so they look random like AIPerf's uuid prefix
/// but never collide (8 random hex digits would, at a million services). The string is only built
/// when the id is displayed.
///
/// # Example
/// ```
/// use lifecycle_ecs_components::{KindId, ServiceId};
/// let a = ServiceId::generated(KindId::ROOT, 0);
/// let b = ServiceId::generated(KindId::ROOT, 1);
/// assert_ne!(a, b);
/// assert!(a.to_string().starts_with("Lifecycle_"));
/// assert_eq!(a.to_string().len(), "Lifecycle_".len() + 8);
/// let named = ServiceId::named(KindId::ROOT, 2, "records-manager");
/// assert_eq!(named.to_string(), "records-manager");
/// ```
#[derive(Component, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ServiceId {
    custom: Option<Arc<String>>,
    code: u32,
    kind: KindId,
}

/// Scrambles a serial number into an id code: a bijection on `u32`, so distinct serials give
/// distinct codes.
const fn scramble(serial: u32) -> u32 {
    let mut x = serial.wrapping_mul(0x9E37_79B1);
    x ^= x >> 16;
    x = x.wrapping_mul(0x85EB_CA6B);
    x ^= x >> 13;
    x = x.wrapping_mul(0xC2B2_AE35);
    // A final constant keeps serial 0 from showing as `00000000`.
    (x ^ (x >> 16)) ^ 0x6D2B_79F5
}

impl ServiceId {
    /// The generated id of the `serial`-th service of an engine, of kind `kind`.
    pub fn generated(kind: KindId, serial: u32) -> Self {
        Self {
            custom: None,
            code: scramble(serial),
            kind,
        }
    }

    /// An id with a given name (the engine still keeps a unique serial for it).
    pub fn named(kind: KindId, serial: u32, name: impl Into<String>) -> Self {
        Self {
            custom: Some(Arc::new(name.into())),
            code: scramble(serial),
            kind,
        }
    }

    /// The service's own kind.
    pub const fn kind(&self) -> KindId {
        self.kind
    }

    /// The 32-bit code (the 8 hex digits of a generated id).
    pub const fn code(&self) -> u32 {
        self.code
    }

    /// The custom name, if the id was given one.
    pub fn custom_name(&self) -> Option<&str> {
        self.custom.as_deref().map(String::as_str)
    }
}

impl core::fmt::Display for ServiceId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match &self.custom {
            Some(name) => f.write_str(name),
            None => write!(f, "{}_{:08x}", self.kind.name(), self.code),
        }
    }
}

impl Serialize for ServiceId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn a_million_generated_ids_are_unique() {
        let codes: HashSet<u32> = (0..1_000_000).map(scramble).collect();
        assert_eq!(codes.len(), 1_000_000);
    }

    #[test]
    fn id_is_sixteen_bytes() {
        assert_eq!(size_of::<ServiceId>(), 16);
    }

    #[test]
    fn serializes_as_its_display_string() {
        let id = ServiceId::named(KindId::ROOT, 7, "svc");
        assert_eq!(serde_json::to_string(&id).expect("serializes"), "\"svc\"");
    }
}
