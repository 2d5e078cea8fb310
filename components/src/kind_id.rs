//! Compact, process-wide ids for service kinds.

use core::any::TypeId;
use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

use serde::{Serialize, Serializer};

/// A service kind's compact id (two bytes), assigned once per kind type per process.
///
/// Kinds are Rust types, so their ids are process-wide like `TypeId`s; the id resolves back to the
/// kind's name for display. Id 0 is the root kind, `Lifecycle`.
///
/// # Example
/// ```
/// use lifecycle_ecs_components::{KindId, Lifecycle};
/// let id = KindId::of::<Lifecycle>();
/// assert_eq!(id, KindId::ROOT);
/// assert_eq!(id.name(), "Lifecycle");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KindId(u16);

struct KindTable {
    by_type: HashMap<TypeId, KindId>,
    names: Vec<&'static str>,
}

fn table() -> &'static RwLock<KindTable> {
    static TABLE: OnceLock<RwLock<KindTable>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut by_type = HashMap::new();
        by_type.insert(TypeId::of::<crate::Lifecycle>(), KindId(0));
        RwLock::new(KindTable {
            by_type,
            names: vec![<crate::Lifecycle as crate::ServiceKind>::NAME],
        })
    })
}

impl KindId {
    /// The root kind's id.
    pub const ROOT: KindId = KindId(0);

    /// How many distinct kinds one process can use: one per two-byte id.
    pub const CAPACITY: usize = 1 << 16;

    /// The id of kind `K`, assigned on first use.
    ///
    /// # Panics
    /// Panics if more than [`CAPACITY`](Self::CAPACITY) distinct kinds are used in one process
    /// (see [`try_for_type`](Self::try_for_type)).
    pub fn of<K: crate::ServiceKind>() -> KindId {
        Self::for_type(TypeId::of::<K>(), K::NAME)
    }

    /// The id for a kind given by its `TypeId` and name (see [`KindId::of`]).
    ///
    /// # Panics
    /// Panics if more than [`CAPACITY`](Self::CAPACITY) distinct kinds are used in one process
    /// (see [`try_for_type`](Self::try_for_type)).
    pub fn for_type(type_id: TypeId, name: &'static str) -> KindId {
        Self::try_for_type(type_id, name).unwrap_or_else(|error| panic!("{error}"))
    }

    /// The id for a kind given by its `TypeId` and name, assigned on first use.
    ///
    /// # Errors
    /// [`KindsExhaustedError`] if the kind is new and [`CAPACITY`](Self::CAPACITY) kinds have
    /// ids already.
    pub fn try_for_type(
        type_id: TypeId,
        name: &'static str,
    ) -> Result<KindId, KindsExhaustedError> {
        if let Some(id) = table()
            .read()
            .unwrap_or_else(|poison| poison.into_inner())
            .by_type
            .get(&type_id)
        {
            return Ok(*id);
        }
        let mut table = table().write().unwrap_or_else(|poison| poison.into_inner());
        if let Some(id) = table.by_type.get(&type_id) {
            return Ok(*id);
        }
        let index =
            u16::try_from(table.names.len()).map_err(|_| KindsExhaustedError { kind: name })?;
        table.names.push(name);
        table.by_type.insert(type_id, KindId(index));
        Ok(KindId(index))
    }

    /// The kind's name (`ServiceKind::NAME`).
    pub fn name(self) -> &'static str {
        table()
            .read()
            .unwrap_or_else(|poison| poison.into_inner())
            .names
            .get(usize::from(self.0))
            .copied()
            .unwrap_or("?")
    }

    /// The raw index.
    pub const fn index(self) -> u16 {
        self.0
    }
}

/// A new kind needs an id, but the process has used all [`KindId::CAPACITY`] of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot give {kind} a kind id: one process can use at most 65 536 service kinds")]
pub struct KindsExhaustedError {
    /// The kind that got no id.
    pub kind: &'static str,
}

impl Default for KindId {
    /// The root kind.
    fn default() -> Self {
        KindId::ROOT
    }
}

impl core::fmt::Display for KindId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for KindId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}
