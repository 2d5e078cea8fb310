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

    /// The id of kind `K`, assigned on first use.
    ///
    /// # Panics
    /// Panics if more than 65 535 distinct kinds are used in one process.
    pub fn of<K: crate::ServiceKind>() -> KindId {
        Self::for_type(TypeId::of::<K>(), K::NAME)
    }

    /// The id for a kind given by its `TypeId` and name (see [`KindId::of`]).
    ///
    /// # Panics
    /// Panics if more than 65 535 distinct kinds are used in one process.
    pub fn for_type(type_id: TypeId, name: &'static str) -> KindId {
        if let Some(id) = table()
            .read()
            .unwrap_or_else(|poison| poison.into_inner())
            .by_type
            .get(&type_id)
        {
            return *id;
        }
        let mut table = table().write().unwrap_or_else(|poison| poison.into_inner());
        if let Some(id) = table.by_type.get(&type_id) {
            return *id;
        }
        let index = u16::try_from(table.names.len()).expect("at most 65 535 service kinds");
        table.names.push(name);
        table.by_type.insert(type_id, KindId(index));
        KindId(index)
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
