//! [`BusRound`]: the envelopes of the round being delivered, indexed by topic, with how many
//! handlers each one reached.

use std::collections::HashMap;
use std::sync::Arc;

use bevy_ecs::resource::Resource;
use lifecycle_ecs_components::HookError;

use super::{Envelope, TopicId, TopicTable};

/// Where one topic's envelopes sit in the round: a run of consecutive envelopes (the common
/// case, a batch of one type) or a list.
#[derive(Debug)]
enum Slice {
    Run(u32, u32),
    List(Vec<u32>),
}

impl Slice {
    /// Appends the envelopes `start..end` (after every index already held).
    fn push_run(&mut self, start: u32, end: u32) {
        match self {
            Slice::Run(_, last) if *last == start => *last = end,
            Slice::Run(first, last) => {
                let mut list: Vec<u32> = (*first..*last).collect();
                list.extend(start..end);
                *self = Slice::List(list);
            }
            Slice::List(list) => list.extend(start..end),
        }
    }
}

/// A handler error, counted for its hook.
#[derive(Debug, Clone)]
pub(crate) struct HandlerFailure {
    pub(crate) error: HookError,
}

/// The round being delivered: a World resource the bus plugin fills before it runs the message
/// hooks and clears after. Handlers read it through [`Deliveries`](super::Deliveries).
#[derive(Resource, Default)]
pub struct BusRound {
    pub(crate) envelopes: Vec<Envelope>,
    by_topic: HashMap<TopicId, Slice>,
    /// Per envelope: how many handler calls it reached.
    pub(crate) reached: Vec<u32>,
    /// The topics of the hook running now.
    pub(crate) hook_topics: Arc<[TopicId]>,
    /// Handler calls of the hook running now.
    pub(crate) hook_deliveries: u64,
    /// Errors of the hook running now.
    pub(crate) hook_failures: Vec<HandlerFailure>,
}

impl BusRound {
    /// Takes `envelopes` as this round's, interning their topics.
    pub(crate) fn fill(&mut self, envelopes: Vec<Envelope>, topics: &mut TopicTable) {
        self.by_topic.clear();
        self.reached.clear();
        self.reached.resize(envelopes.len(), 0);
        let mut last: Option<(*const u8, usize, TopicId)> = None;
        // The run of consecutive envelopes of one topic being gathered: one map update per run,
        // not per envelope.
        let mut run: Option<(TopicId, u32)> = None;
        // A round holds at most what fits in memory: far fewer than 2^32 envelopes.
        let count = u32::try_from(envelopes.len()).unwrap_or(u32::MAX);
        for (index, envelope) in (0..count).zip(envelopes.iter()) {
            let name = envelope.message_type();
            // Batches are runs of one type: compare the string's address before hashing it.
            let topic = match last {
                Some((ptr, len, topic)) if ptr == name.as_ptr() && len == name.len() => topic,
                _ => {
                    let topic = topics.intern(name);
                    last = Some((name.as_ptr(), name.len(), topic));
                    topic
                }
            };
            match run {
                Some((current, _)) if current == topic => {}
                Some((current, start)) => {
                    self.add_run(current, start, index);
                    run = Some((topic, index));
                }
                None => run = Some((topic, index)),
            }
        }
        if let Some((topic, start)) = run {
            self.add_run(topic, start, count);
        }
        self.envelopes = envelopes;
    }

    fn add_run(&mut self, topic: TopicId, start: u32, end: u32) {
        self.by_topic
            .entry(topic)
            .and_modify(|slice| slice.push_run(start, end))
            .or_insert(Slice::Run(start, end));
    }

    /// The indices of the envelopes of `topic`, in publish order.
    pub(crate) fn indices(&self, topic: TopicId) -> impl Iterator<Item = usize> + '_ {
        let (run, list) = match self.by_topic.get(&topic) {
            Some(Slice::Run(start, end)) => (*start..*end, &[][..]),
            Some(Slice::List(list)) => (0..0, &list[..]),
            None => (0..0, &[][..]),
        };
        run.map(|i| i as usize)
            .chain(list.iter().map(|&i| i as usize))
    }

    /// Whether the round has envelopes of `topic`.
    pub(crate) fn has(&self, topic: TopicId) -> bool {
        self.by_topic.contains_key(&topic)
    }

    /// Empties the round, keeping its allocations; returns the envelopes.
    pub(crate) fn take(&mut self) -> Vec<Envelope> {
        self.by_topic.clear();
        core::mem::take(&mut self.envelopes)
    }
}
