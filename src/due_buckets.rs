//! Timers grouped by due time: services that started together on the same interval share one
//! bucket, so scheduling a run is a `Vec` push and firing a thousand due services is one pop.

use std::collections::BTreeMap;

use tokio::time::Instant;

/// Items waiting for their due time, grouped by it. Removing an item early is left to the owner
/// (mark it stale and skip it when its bucket fires): buckets are only pushed and drained.
#[derive(Debug)]
pub(crate) struct DueBuckets<T> {
    buckets: BTreeMap<Instant, Vec<T>>,
}

impl<T> Default for DueBuckets<T> {
    fn default() -> Self {
        Self {
            buckets: BTreeMap::new(),
        }
    }
}

impl<T> DueBuckets<T> {
    /// Schedules `item` at `due`.
    pub(crate) fn push(&mut self, due: Instant, item: T) {
        self.buckets.entry(due).or_default().push(item);
    }

    /// The earliest due time, if any.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.buckets.first_key_value().map(|(due, _)| *due)
    }

    /// Takes every bucket due at or before `now`, earliest first, into `out` (with its due time).
    pub(crate) fn drain_due(&mut self, now: Instant, out: &mut Vec<(Instant, Vec<T>)>) {
        while let Some(entry) = self.buckets.first_entry() {
            if *entry.key() > now {
                break;
            }
            out.push(entry.remove_entry());
        }
    }

    /// Drops every item.
    pub(crate) fn clear(&mut self) {
        self.buckets.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn items_due_together_share_a_bucket_and_fire_in_order() {
        let start = Instant::now();
        let mut buckets = DueBuckets::default();
        buckets.push(start + Duration::from_millis(20), 'c');
        buckets.push(start + Duration::from_millis(10), 'a');
        buckets.push(start + Duration::from_millis(10), 'b');
        assert_eq!(buckets.next_due(), Some(start + Duration::from_millis(10)));
        let mut fired = Vec::new();
        buckets.drain_due(start + Duration::from_millis(15), &mut fired);
        assert_eq!(
            fired,
            vec![(start + Duration::from_millis(10), vec!['a', 'b'])]
        );
        assert_eq!(buckets.next_due(), Some(start + Duration::from_millis(20)));
        fired.clear();
        buckets.drain_due(start + Duration::from_millis(20), &mut fired);
        assert_eq!(fired.len(), 1, "due exactly now fires");
        assert_eq!(buckets.next_due(), None);
    }
}
