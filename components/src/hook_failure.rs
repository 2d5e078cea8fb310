//! The failures resource: every hook failure, per service, with a bounded window of details.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bevy_ecs::entity::Entity;
use bevy_ecs::resource::Resource;

use crate::{HookError, HookType, KindId, ServiceId};

/// One hook failure for one service.
#[derive(Clone, Debug)]
pub struct HookFailure {
    /// The failed service.
    pub entity: Entity,
    /// Its id.
    pub service_id: ServiceId,
    /// The hook's name (its function's last path segment, or the name it was registered with).
    pub hook: Arc<str>,
    /// The hook's type.
    pub hook_type: HookType,
    /// What went wrong.
    pub error: HookError,
}

impl HookFailure {
    /// The service's own kind.
    pub fn kind(&self) -> KindId {
        self.service_id.kind()
    }
}

impl core::fmt::Display for HookFailure {
    /// AIPerf's `HookError` string: `"<Kind>.<hook>: <error>"`, `<Kind>` being the service's own kind.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}.{}: {}", self.kind(), self.hook, self.error)
    }
}

/// How many failure records [`HookFailures`] keeps by default (the most recent ones).
pub const DEFAULT_FAILURE_WINDOW: usize = 10_000;

/// How often one hook of one kind failed: an exact count, kept however many records the window
/// dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailureTotal {
    /// The failed services' own kind.
    pub kind: KindId,
    /// The hook's type.
    pub hook_type: HookType,
    /// The hook's name.
    pub hook: Arc<str>,
    /// How many failures it recorded.
    pub count: usize,
}

/// Every hook failure, counted exactly, with the most recent ones kept in detail (AIPerf's
/// collected `HookError`s).
///
/// Hooks write here (through the `Targets` system parameter); the scheduler reads what a phase
/// added after the phase's hooks ran. The detail records form a window: the latest
/// [`window`](Self::window) ones ([`DEFAULT_FAILURE_WINDOW`] unless set) are kept and older ones
/// dropped, so a service failing forever (a background task) cannot grow memory without bound.
/// What was dropped stays counted: [`total`](Self::total) is the exact number of failures,
/// [`dropped`](Self::dropped) how many records left the window, and [`totals`](Self::totals) the
/// exact count per (kind, hook type, hook).
///
/// While a reader [`hold`](Self::hold)s the records (the engine does for the length of an
/// operation, a background tick, a `run_hooks`), nothing recorded after the hold is dropped, so
/// [`since`](Self::since) sees all of it: a phase in which a million services fail still fails
/// exactly those, with their exit errors. The window applies again once the hold is released.
///
/// # Example
/// ```
/// use bevy_ecs::entity::Entity;
/// use lifecycle_ecs_components::{HookError, HookFailure, HookFailures, HookType, KindId, ServiceId};
/// let mut failures = HookFailures::with_window(2);
/// for serial in 0..5 {
///     failures.push(HookFailure {
///         entity: Entity::PLACEHOLDER,
///         service_id: ServiceId::named(KindId::ROOT, serial, "svc"),
///         hook: "connect".into(),
///         hook_type: HookType::OnInit,
///         error: HookError::from("refused"),
///     });
/// }
/// assert_eq!(failures.len(), 2, "the window keeps the latest two");
/// assert_eq!((failures.total(), failures.dropped()), (5, 3));
/// assert_eq!(failures.total_of(KindId::ROOT, HookType::OnInit, "connect"), 5);
/// assert_eq!(failures.records()[0].to_string(), "Lifecycle.connect: refused");
/// ```
#[derive(Resource, Debug)]
pub struct HookFailures {
    /// Records, oldest first: the visible window, possibly preceded by records awaiting a trim.
    records: Vec<HookFailure>,
    /// Failures ever recorded; the sequence number of the next one.
    total: usize,
    /// How many records stay visible.
    window: usize,
    /// Records before this sequence number were cleared.
    cleared_before: usize,
    /// Open holds; records are trimmed only while there are none.
    holds: Arc<AtomicUsize>,
    /// Exact counts per (kind, hook type, hook), in first-failure order.
    totals: Vec<FailureTotal>,
    index: HashMap<(KindId, HookType, Arc<str>), usize>,
    /// The entry of `totals` the last failure went to (failures come in runs of one hook).
    last: Option<usize>,
}

impl Default for HookFailures {
    fn default() -> Self {
        Self::with_window(DEFAULT_FAILURE_WINDOW)
    }
}

/// Keeps every failure recorded after it was taken until it is released (see
/// [`HookFailures::hold`]). Dropping it releases it too; the window is then applied at the next
/// record.
#[derive(Debug)]
#[must_use = "the records are held only while the hold lives"]
pub struct FailureHold {
    holds: Arc<AtomicUsize>,
}

impl Drop for FailureHold {
    fn drop(&mut self) {
        self.holds.fetch_sub(1, Ordering::AcqRel);
    }
}

impl HookFailures {
    /// An empty resource keeping the latest `window` records.
    pub fn with_window(window: usize) -> Self {
        Self {
            records: Vec::new(),
            total: 0,
            window,
            cleared_before: 0,
            holds: Arc::default(),
            totals: Vec::new(),
            index: HashMap::new(),
            last: None,
        }
    }

    /// How many records are kept ([`DEFAULT_FAILURE_WINDOW`] unless set).
    pub fn window(&self) -> usize {
        self.window
    }

    /// Keeps the latest `window` records from now on (older ones are dropped and counted).
    pub fn set_window(&mut self, window: usize) {
        self.window = window;
        self.trim();
    }

    /// Records a failure.
    pub fn push(&mut self, failure: HookFailure) {
        self.count(&failure);
        self.total += 1;
        self.records.push(failure);
        self.trim();
    }

    /// The records kept, oldest first: the latest [`window`](Self::window) failures (since the
    /// last [`clear`](Self::clear)).
    pub fn records(&self) -> &[HookFailure] {
        let visible_from = self
            .cleared_before
            .max(self.total.saturating_sub(self.window));
        &self.records[visible_from.saturating_sub(self.first_stored())..]
    }

    /// The position of the next failure: pass it to [`since`](Self::since) later.
    pub fn mark(&self) -> usize {
        self.total
    }

    /// The failures recorded from `mark` on (what a phase added). Complete while a
    /// [`hold`](Self::hold) taken before `mark` lives; otherwise the window may have dropped
    /// the oldest of them.
    pub fn since(&self, mark: usize) -> &[HookFailure] {
        let from = mark
            .max(self.cleared_before)
            .saturating_sub(self.first_stored());
        self.records.get(from..).unwrap_or_default()
    }

    /// Keeps every failure recorded from now on until the hold is [`release`](Self::release)d
    /// (or dropped), window or not.
    pub fn hold(&self) -> FailureHold {
        self.holds.fetch_add(1, Ordering::AcqRel);
        FailureHold {
            holds: self.holds.clone(),
        }
    }

    /// Releases `hold`, applying the window at once if no other hold is open.
    pub fn release(&mut self, hold: FailureHold) {
        drop(hold);
        self.trim();
    }

    /// How many records are kept (at most [`window`](Self::window)).
    pub fn len(&self) -> usize {
        self.records().len()
    }

    /// Whether no record is kept.
    pub fn is_empty(&self) -> bool {
        self.records().is_empty()
    }

    /// How many failures were recorded in all, kept or not (exact).
    pub fn total(&self) -> usize {
        self.total
    }

    /// How many recorded failures are no longer kept (exact): `total() - len()`.
    pub fn dropped(&self) -> usize {
        self.total - self.len()
    }

    /// The exact failure count of every (kind, hook type, hook) that failed, in first-failure
    /// order.
    pub fn totals(&self) -> &[FailureTotal] {
        &self.totals
    }

    /// The exact failure count of hook `hook` of type `hook_type` for services of kind `kind`.
    pub fn total_of(&self, kind: KindId, hook_type: HookType, hook: &str) -> usize {
        self.totals
            .iter()
            .find(|total| {
                total.kind == kind && total.hook_type == hook_type && *total.hook == *hook
            })
            .map_or(0, |total| total.count)
    }

    /// Removes every record kept; the counts ([`total`](Self::total), [`totals`](Self::totals))
    /// stay, the removed records counting as dropped.
    pub fn clear(&mut self) {
        self.cleared_before = self.total;
        self.trim();
    }

    /// The sequence number of `records[0]`.
    fn first_stored(&self) -> usize {
        self.total - self.records.len()
    }

    /// Drops the records outside the window, unless a hold is open. Amortized: only once the
    /// dropped part is as long as the window, so each record moves at most once.
    fn trim(&mut self) {
        if self.holds.load(Ordering::Acquire) != 0 {
            return;
        }
        let visible = self.records().len();
        let invisible = self.records.len() - visible;
        if invisible > 0 && invisible >= visible.max(1) {
            self.records.drain(..invisible);
        }
    }

    fn count(&mut self, failure: &HookFailure) {
        let kind = failure.kind();
        if let Some(last) = self.last {
            let total = &mut self.totals[last];
            if total.kind == kind
                && total.hook_type == failure.hook_type
                && (Arc::ptr_eq(&total.hook, &failure.hook) || total.hook == failure.hook)
            {
                total.count += 1;
                return;
            }
        }
        let key = (kind, failure.hook_type, failure.hook.clone());
        let slot = match self.index.get(&key) {
            Some(&slot) => slot,
            None => {
                self.totals.push(FailureTotal {
                    kind,
                    hook_type: failure.hook_type,
                    hook: failure.hook.clone(),
                    count: 0,
                });
                self.index.insert(key, self.totals.len() - 1);
                self.totals.len() - 1
            }
        };
        self.totals[slot].count += 1;
        self.last = Some(slot);
    }
}
