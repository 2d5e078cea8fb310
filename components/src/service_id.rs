//! Service ids: `<Kind>_<8 hex>` unless given, unique, stored compactly.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use bevy_ecs::component::Component;
use serde::{Serialize, Serializer};

use crate::KindId;

/// A service's id, as AIPerf's: `"<Kind>_<8 lowercase hex>"` unless a name was given.
///
/// Stored in 8 bytes: the kind, a 32-bit code and whether the id has a name. Codes are a bijective
/// scramble of a process-wide serial number ([`ServiceId::reserve`]), so they look random like
/// AIPerf's uuid prefix but never collide (8 random hex digits would, at a million services). The
/// string is only built when the id is displayed. Given names live in a process-wide table keyed by
/// code (kept for the life of the process, as ids outlive their services in failure records).
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
/// assert_eq!(size_of::<ServiceId>(), 8);
/// ```
#[derive(Component, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ServiceId {
    code: u32,
    kind: KindId,
    named: bool,
}

fn names() -> &'static RwLock<HashMap<u32, Arc<str>>> {
    static NAMES: OnceLock<RwLock<HashMap<u32, Arc<str>>>> = OnceLock::new();
    NAMES.get_or_init(Default::default)
}

/// The next free serial number; `ServiceId::CAPACITY` once every serial was handed out.
static NEXT_SERIAL: AtomicU64 = AtomicU64::new(0);

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

/// More service ids were asked of this process than it has left: one process creates at most
/// [`ServiceId::CAPACITY`] (2³²) services, as ids must not repeat.
///
/// # Example
/// ```
/// use lifecycle_ecs_components::{IdsExhaustedError, ServiceId};
/// let error = ServiceId::reserve(usize::MAX).unwrap_err();
/// assert_eq!(error.requested, usize::MAX as u64);
/// assert!(error.to_string().starts_with("service ids exhausted"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("service ids exhausted: {requested} asked, {left} left of the 2^32 one process can create")]
pub struct IdsExhaustedError {
    /// How many ids were asked for.
    pub requested: u64,
    /// How many ids the process had left (none were taken).
    pub left: u64,
}

impl ServiceId {
    /// How many service ids one process can create: 2³², one per serial number.
    pub const CAPACITY: u64 = 1 << 32;

    /// Reserves `count` consecutive serial numbers, process-wide, and returns the first.
    ///
    /// Serials are never reused, so at most [`CAPACITY`](Self::CAPACITY) services are created per
    /// process. Reserving in bulk is also how a test reaches that limit without creating the
    /// services. For `count == 0` nothing is reserved and the returned number means nothing.
    ///
    /// # Errors
    /// [`IdsExhaustedError`] if fewer than `count` serials are left; then none is taken.
    pub fn reserve(count: usize) -> Result<u32, IdsExhaustedError> {
        let requested = u64::try_from(count).unwrap_or(u64::MAX);
        NEXT_SERIAL
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |next| {
                next.checked_add(requested)
                    .filter(|&end| end <= Self::CAPACITY)
            })
            // Below `CAPACITY` whenever a serial was reserved.
            .map(|first| u32::try_from(first).unwrap_or(u32::MAX))
            .map_err(|next| IdsExhaustedError {
                requested,
                left: Self::CAPACITY - next,
            })
    }

    /// How many serial numbers (so service ids) this process has left.
    pub fn remaining() -> u64 {
        Self::CAPACITY - NEXT_SERIAL.load(Ordering::Relaxed)
    }

    /// The generated id of serial `serial`, of kind `kind`.
    pub fn generated(kind: KindId, serial: u32) -> Self {
        Self {
            code: scramble(serial),
            kind,
            named: false,
        }
    }

    /// An id with a given name (`serial` still makes it unique).
    pub fn named(kind: KindId, serial: u32, name: impl Into<String>) -> Self {
        let code = scramble(serial);
        names()
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(code, Arc::from(name.into()));
        Self {
            code,
            kind,
            named: true,
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

    /// The given name, if the id has one.
    pub fn custom_name(&self) -> Option<Arc<str>> {
        if !self.named {
            return None;
        }
        names()
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&self.code)
            .cloned()
    }
}

impl core::fmt::Display for ServiceId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.custom_name() {
            Some(name) => f.write_str(&name),
            None => write!(f, "{}_{:08x}", self.kind.name(), self.code),
        }
    }
}

impl core::fmt::Debug for ServiceId {
    /// The id itself, not its fields: `ServiceId("Worker_0a1b2c3d")`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("ServiceId").field(&self.to_string()).finish()
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
    fn id_is_eight_bytes() {
        assert_eq!(size_of::<ServiceId>(), 8);
    }

    #[test]
    fn reserved_serials_do_not_overlap() {
        let a = ServiceId::reserve(10).expect("serials left");
        let b = ServiceId::reserve(10).expect("serials left");
        assert!(b >= a + 10);
    }

    #[test]
    fn a_refused_reservation_takes_nothing() {
        let left = ServiceId::remaining();
        let error = ServiceId::reserve(usize::MAX).unwrap_err();
        assert_eq!(error.requested, u64::MAX);
        assert!(ServiceId::remaining() <= left);
        assert!(ServiceId::remaining() > 0);
    }

    #[test]
    fn serializes_as_its_display_string() {
        let id = ServiceId::named(KindId::ROOT, 7, "svc");
        assert_eq!(serde_json::to_string(&id).expect("serializes"), "\"svc\"");
    }
}
