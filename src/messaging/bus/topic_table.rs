//! [`TopicId`] and [`TopicTable`]: message type strings interned to small ids, per engine.

use std::collections::HashMap;
use std::sync::Arc;

use bevy_ecs::resource::Resource;

/// A message type string as a small id (exact match: `"command"` and `"Command"` differ, as
/// AIPerf's topics do on the wire).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicId(u32);

impl TopicId {
    /// The id as an index.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Every message type string the bus has seen, interned: a World resource.
///
/// # Example
/// ```
/// use lifecycle_ecs::messaging::bus::TopicTable;
/// let mut table = TopicTable::default();
/// let a = table.intern("heartbeat");
/// assert_eq!(table.intern("heartbeat"), a);
/// assert_ne!(table.intern("status"), a);
/// assert_eq!(table.name(a), Some("heartbeat"));
/// assert_eq!(table.get("credit_drop"), None);
/// ```
#[derive(Resource, Default, Debug)]
pub struct TopicTable {
    ids: HashMap<Arc<str>, TopicId>,
    names: Vec<Arc<str>>,
}

impl TopicTable {
    /// The id of `name`, given now if it has none.
    pub fn intern(&mut self, name: &str) -> TopicId {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        // Ids are dense; a table of 2^32 distinct topics would not fit in memory first.
        let id = TopicId(u32::try_from(self.names.len()).unwrap_or(u32::MAX));
        let name: Arc<str> = Arc::from(name);
        self.names.push(name.clone());
        self.ids.insert(name, id);
        id
    }

    /// The id of `name`, if it has one.
    pub fn get(&self, name: &str) -> Option<TopicId> {
        self.ids.get(name).copied()
    }

    /// The string of `id`.
    pub fn name(&self, id: TopicId) -> Option<&str> {
        self.names.get(id.index()).map(|name| &**name)
    }

    /// How many topics are interned.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether no topic is interned.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}
