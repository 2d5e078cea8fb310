//! # Limits
//!
//! Every limit of the engine in one place: what it is, why, and what happens at it. Nothing a
//! caller passes panics, hangs or aborts at these limits, except the functions documented to
//! panic, which each have a `try_` form (or return a `Result` already).
//!
//! | what | limit | at the limit |
//! |---|---|---|
//! | service ids | [`ServiceId::CAPACITY`](crate::ServiceId::CAPACITY) = 2³² per **process** (ids are never reused, even after a despawn, as failure records outlive services); [`ServiceId::remaining`](crate::ServiceId::remaining) says how many are left | [`SpawnError::IdsExhausted`](crate::SpawnError::IdsExhausted) from `try_spawn*`, `spawn_child*`, `spawn_children*`; `spawn`, `spawn_with`, `spawn_batch*` panic with that message. Nothing is spawned and no id is taken |
//! | services in one batch | what the memory allows, estimated per service by [`footprint`](crate::footprint) (about 140 bytes for a service with a few bytes of data, about 280 for a child, both some 10 % above the measured peak) | [`SpawnError::OutOfMemory`](crate::SpawnError::OutOfMemory) when the batch's bytes overflow `usize` or cannot be allocated; `lifecycle-ecs fleet` also compares the estimate with the available memory and the cgroup limit and exits with 2 |
//! | entities per world | bevy's: `u32::MAX − 1` entities, the world's own (resources, systems, observers) included | bevy panics ("too many entities"); unreachable in practice, as 4·10⁹ services need some 400 GB, which the memory check refuses first |
//! | lifecycle tree depth | 255 levels below a root (the depth is one byte) | [`AttachChildError::TooDeep`](crate::AttachChildError::TooDeep) (as [`SpawnError::Attach`](crate::SpawnError::Attach) when spawning children) |
//! | a despawned parent | — | its children become roots (depth 0), their subtrees move up with them; every operation on all services and the run loop reach them ([`LifecycleParent`](crate::LifecycleParent)) |
//! | service kinds | [`KindId::CAPACITY`](crate::KindId::CAPACITY) = 65 536 distinct kinds per process (two-byte ids) | [`KindError::TooManyKinds`](crate::KindError::TooManyKinds) |
//! | base kinds | up to 8 direct bases per kind (`type Bases` is a tuple); no kind may be its own base, directly or through others | more bases do not compile; a cycle is [`KindError::CyclicBases`](crate::KindError::CyclicBases) |
//! | hook futures in flight | [`DEFAULT_MAX_IN_FLIGHT`](crate::DEFAULT_MAX_IN_FLIGHT) = 10 000 unless set with [`EngineBuilder::max_in_flight`](crate::EngineBuilder::max_in_flight) (at least 1) | further futures wait for a slot; none is dropped |
//! | durations | any `Duration` up to `Duration::MAX`: hook timeouts, the watchdog's soft deadline, background intervals, the task stop timeout, shutdown budgets, run-loop limits | means "that long, or never": deadlines saturate, so `Duration::MAX` never fires |
//! | failure records | [`HookFailures`](crate::HookFailures) keeps a bounded window of detail records (see its docs for the default) | older detail records are dropped and counted; totals per kind and hook stay exact, and every failed service still fails with its exit errors |
