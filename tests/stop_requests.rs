//! Stop requests from outside the engine (a `StopHandle`): a service in the middle of an
//! `initialize` or `start` phase has its hook futures cancelled (not failures), skips the phase's
//! final state and takes the stop path; a `stop` phase is never cancelled. Paused clock.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bevy_ecs::prelude::*;
use common::*;
use lifecycle_ecs::prelude::*;
use lifecycle_ecs::{Engine, StopHandle};

/// Registers an ON_INIT `connect` hook whose futures take `delay`, and an ON_STOP `close` hook.
fn add_connect_and_close(engine: &mut Engine, delay: Duration) {
    engine
        .add_named_hook::<Base, _>(
            HookType::OnInit,
            "connect",
            async_step("connect", delay, vec![]),
        )
        .unwrap();
    engine
        .add_named_hook::<Base, _>(HookType::OnStop, "close", sync_step("close"))
        .unwrap();
}

/// Asks `handle` to stop `who` (all when `None`) after `delay`.
fn request_later(handle: StopHandle, delay: Duration, who: Option<Entity>) {
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        match who {
            Some(service) => handle.stop(service),
            None => handle.stop_all(),
        }
    });
}

#[tokio::test(start_paused = true)]
async fn a_stop_mid_phase_cancels_its_futures_and_takes_the_stop_path() {
    let (mut engine, log) = engine_on_current_runtime();
    add_connect_and_close(&mut engine, Duration::from_secs(10));
    engine
        .add_named_hook::<Base, _>(HookType::OnInit, "after", sync_step("after"))
        .unwrap();
    let services = engine.spawn_batch(Base, 3);
    let leaving = services[1];
    request_later(engine.stop_handle(), Duration::from_secs(1), Some(leaving));

    let report = engine.initialize_async(Selection::All).await;

    assert_eq!(report.cancelled, vec![leaving]);
    assert_eq!(report.moved, 2, "the others finish the phase");
    assert!(report.failed.is_empty(), "a cancellation is not a failure");
    assert_eq!(engine.state(leaving), Some(LifecycleState::Stopped));
    assert!(engine.exit_errors(leaving).is_empty());
    assert!(engine.failures().is_empty());
    let lines = log.lines();
    assert!(
        !lines.contains(&tag("connect", leaving)),
        "its future was dropped"
    );
    assert!(
        !lines.contains(&tag("after", leaving)),
        "no later hook of the phase"
    );
    assert!(lines.contains(&tag("close", leaving)), "the stop path ran");
    for &other in [services[0], services[2]].iter() {
        assert_eq!(engine.state(other), Some(LifecycleState::Initialized));
        assert!(lines.contains(&tag("after", other)));
        assert!(!lines.contains(&tag("close", other)));
    }
    assert!(
        engine.pending_stops().is_empty(),
        "the request was carried out"
    );
}

#[tokio::test(start_paused = true)]
async fn stop_all_mid_start_cancels_every_future_and_stops_everyone() {
    let (mut engine, log) = engine_on_current_runtime();
    engine
        .add_named_hook::<Base, _>(
            HookType::OnStart,
            "warm_up",
            async_step("warm_up", Duration::from_secs(60), vec![]),
        )
        .unwrap();
    let services = engine.spawn_batch(Base, 100);
    engine.initialize_async(Selection::All).await;
    request_later(engine.stop_handle(), Duration::from_millis(5), None);
    let started = tokio::time::Instant::now();

    let report = engine.start_async(Selection::All).await;

    assert!(
        started.elapsed() < Duration::from_secs(1),
        "did not wait for the futures"
    );
    assert_eq!(report.cancelled.len(), 100);
    assert_eq!(report.moved, 0);
    assert!(report.failed.is_empty());
    assert!(log.lines().is_empty(), "no future finished");
    assert!(
        services
            .iter()
            .all(|&s| engine.state(s) == Some(LifecycleState::Stopped))
    );
    // The request for all stays in force until a stop of everything runs.
    let stop = engine
        .process_stop_requests_async()
        .await
        .expect("stop all pending");
    assert_eq!(stop.ignored.len(), 100, "already stopped");
    assert!(engine.pending_stops().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_stop_phase_is_never_cancelled() {
    let (mut engine, log) = engine_on_current_runtime();
    engine
        .add_named_hook::<Base, _>(
            HookType::OnStop,
            "flush",
            async_step("flush", Duration::from_secs(2), vec![]),
        )
        .unwrap();
    let service = engine.spawn(Base);
    engine.initialize_async(service).await;
    request_later(
        engine.stop_handle(),
        Duration::from_millis(1),
        Some(service),
    );

    let report = engine.stop_async(service).await;

    assert_eq!(report.moved, 1);
    assert!(report.cancelled.is_empty());
    assert_eq!(
        log.lines(),
        vec![tag("flush", service)],
        "the clean-up finished"
    );
}

#[tokio::test(start_paused = true)]
async fn a_withdrawn_service_that_had_failed_ends_failed_not_cancelled() {
    let (mut engine, _log) = engine_on_current_runtime();
    let services = engine.spawn_batch(Base, 2);
    let broken = services[0];
    engine
        .add_named_hook::<Base, _>(
            HookType::OnInit,
            "check",
            move |mut targets: Targets<Base>| {
                targets.fail(broken, "bad config");
            },
        )
        .unwrap();
    engine
        .add_named_hook::<Base, _>(
            HookType::OnInit,
            "connect",
            async_step("connect", Duration::from_secs(10), vec![]),
        )
        .unwrap();
    request_later(engine.stop_handle(), Duration::from_secs(1), None);

    let report = engine.initialize_async(Selection::All).await;

    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].entity, broken);
    assert_eq!(report.cancelled, vec![services[1]]);
    assert_eq!(engine.state(broken), Some(LifecycleState::Failed));
    assert_eq!(
        engine.exit_errors(broken)[0].error_details.message,
        "Base.check: bad config"
    );
    assert_eq!(engine.state(services[1]), Some(LifecycleState::Stopped));
}

#[tokio::test(start_paused = true)]
async fn every_future_is_counted_once_when_stops_arrive_under_load() {
    // 10 000 futures, capped at 100 in flight, while stop requests for every 7th service arrive;
    // each future either finished (counted) or was cancelled — none lost, none twice.
    let mut engine = Engine::builder()
        .runtime_handle(tokio::runtime::Handle::current())
        .max_in_flight(100)
        .build();
    let finished = Arc::new(AtomicUsize::new(0));
    engine
        .add_named_hook::<Base, _>(
            HookType::OnInit,
            "io",
            counted_io(finished.clone(), Duration::from_millis(1), |_| false),
        )
        .unwrap();
    let services = engine.spawn_batch(Base, 10_000);
    let handle = engine.stop_handle();
    let leaving: Vec<Entity> = services.iter().copied().step_by(7).collect();
    let requests = leaving.clone();
    tokio::spawn(async move {
        for chunk in requests.chunks(100) {
            tokio::time::sleep(Duration::from_micros(300)).await;
            handle.stop_many(chunk.iter().copied());
        }
    });

    let report = engine.initialize_async(Selection::All).await;

    let finished = finished.load(Ordering::Relaxed);
    assert_eq!(report.moved + report.cancelled.len(), 10_000);
    assert!(report.failed.is_empty());
    // A service withdrawn after its future finished still skips the final state.
    assert!(!report.cancelled.is_empty(), "requests arrived mid-phase");
    assert!(report.cancelled.len() <= leaving.len());
    assert!(
        finished >= report.moved,
        "every moved service's future finished"
    );
    let stopped = services
        .iter()
        .filter(|&&s| engine.state(s) == Some(LifecycleState::Stopped))
        .count();
    assert_eq!(stopped, report.cancelled.len());
    // Requests for services already past the phase wait for the driver.
    let rest = engine.process_stop_requests_async().await;
    let rest_moved = rest.map_or(0, |report| report.moved);
    assert_eq!(stopped + rest_moved, leaving.len());
}

#[tokio::test(start_paused = true)]
async fn stop_all_while_children_initialize_stops_the_whole_tree() {
    let (mut engine, log) = engine_on_current_runtime();
    add_connect_and_close(&mut engine, Duration::from_secs(30));
    let parent = engine.spawn(Derived);
    let children: Vec<Entity> = (0..3)
        .map(|_| engine.spawn_child(parent, Base).unwrap())
        .collect();
    request_later(engine.stop_handle(), Duration::from_secs(1), None);

    let report = engine.initialize_async(parent).await;

    assert_eq!(report.moved, 0);
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.cancelled.len(), 4, "the children and their parent");
    for &service in children.iter().chain([&parent]) {
        assert_eq!(engine.state(service), Some(LifecycleState::Stopped));
        assert!(log.lines().contains(&tag("close", service)));
        assert!(!log.lines().contains(&tag("connect", service)));
    }
}

/// Counts a service's ON_STOP runs.
#[derive(Component, Default)]
struct StopRuns(u32);

/// An ON_INIT hook whose futures wait until `gate` opens, and an ON_STOP hook counting its runs.
fn add_gated_connect_and_counted_close(
    engine: &mut Engine,
    gate: tokio::sync::watch::Receiver<bool>,
) {
    engine
        .add_named_hook::<Base, _>(
            HookType::OnInit,
            "connect",
            move |mut targets: Targets<Base>, mut tasks: HookTasks| {
                targets.for_each(|entity, ()| {
                    let mut gate = gate.clone();
                    tasks.spawn(entity, async move {
                        let _ = gate.wait_for(|open| *open).await;
                        Ok::<(), HookError>(())
                    });
                });
            },
        )
        .unwrap();
    engine
        .add_entity_hook::<Base, &mut StopRuns, _, _>(HookType::OnStop, "close", |_, mut runs| {
            runs.0 += 1;
            Ok::<(), HookError>(())
        })
        .unwrap();
}

/// Asserts no entity is listed twice in `report`, across its lists.
fn assert_listed_once(report: &OperationReport) {
    let mut seen = std::collections::HashSet::new();
    let listed = report
        .cancelled
        .iter()
        .copied()
        .chain(report.ignored.iter().copied())
        .chain(report.invalid.iter().map(|error| error.entity))
        .chain(report.failed_entities())
        .chain(report.not_services.iter().copied());
    for entity in listed {
        assert!(seen.insert(entity), "{entity} is listed twice: {report:?}");
    }
}

#[tokio::test]
async fn requests_from_many_threads_stop_each_service_once() {
    const SERVICES: usize = 1_000;
    const THREADS: usize = 4;
    const REQUESTS_PER_THREAD: usize = 5_000;
    let mut engine = engine_here();
    let (open, gate) = tokio::sync::watch::channel(false);
    add_gated_connect_and_counted_close(&mut engine, gate);
    let services = engine.spawn_batch_with(Base, SERVICES, |_| StopRuns(0));
    // Every other service is asked to stop, each many times, from every thread.
    let leaving: Vec<Entity> = services.iter().copied().step_by(2).collect();
    let handle = engine.stop_handle();
    let requests = leaving.clone();
    let senders = async move {
        tokio::task::spawn_blocking(move || {
            let threads: Vec<_> = (0..THREADS)
                .map(|thread| {
                    let handle = handle.clone();
                    let requests = requests.clone();
                    std::thread::spawn(move || {
                        for i in 0..REQUESTS_PER_THREAD {
                            let service = requests[(i * 7 + thread) % requests.len()];
                            if i % 3 == 0 {
                                handle.stop_many([service, service]);
                            } else {
                                handle.stop(service);
                            }
                        }
                    })
                })
                .collect();
            for thread in threads {
                thread.join().unwrap();
            }
        })
        .await
        .unwrap();
        // Every request arrived before any future may finish.
        open.send(true).unwrap();
    };

    let (report, ()) = tokio::join!(engine.initialize_async(Selection::All), senders);

    assert_listed_once(&report);
    assert_eq!(
        report.cancelled.len(),
        leaving.len(),
        "each leaver once: moved {} ignored {} invalid {} failed {}",
        report.moved,
        report.ignored.len(),
        report.invalid.len(),
        report.failed.len()
    );
    assert_eq!(report.moved, SERVICES - leaving.len());
    assert!(report.failed.is_empty());
    for &service in &services {
        let runs = engine.world().get::<StopRuns>(service).unwrap().0;
        let expected = u32::from(leaving.contains(&service));
        assert_eq!(runs, expected, "ON_STOP runs of {service}");
    }
    assert!(
        engine.process_stop_requests_async().await.is_none(),
        "every request was carried out by the withdrawal"
    );
}

#[tokio::test(start_paused = true)]
async fn a_stop_all_while_children_initialize_lists_each_service_once() {
    let (mut engine, _log) = engine_on_current_runtime();
    add_connect_and_close(&mut engine, Duration::from_secs(30));
    let parent = engine.spawn(Derived);
    for _ in 0..3 {
        engine.spawn_child(parent, Base).unwrap();
    }
    let handle = engine.stop_handle();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        for _ in 0..10 {
            handle.stop_all();
        }
    });

    let report = engine.initialize_async(parent).await;

    assert_listed_once(&report);
    assert_eq!(report.cancelled.len(), 4);
}

#[tokio::test(start_paused = true)]
async fn a_stop_of_every_service_carries_out_a_pending_stop_all() {
    let (mut engine, log) = engine_on_current_runtime();
    add_connect_and_close(&mut engine, Duration::from_secs(1));
    let old = engine.spawn(Base);
    engine.initialize_async(old).await;
    engine.stop_handle().stop_all();

    let stop = engine.stop_async(Selection::All).await;
    assert_eq!(stop.moved, 1);
    assert!(engine.pending_stops().is_empty(), "the stop-all was done");

    let new = engine.spawn(Base);
    let report = engine.initialize_async(new).await;
    assert_eq!(report.moved, 1, "{report:?}");
    assert!(report.cancelled.is_empty());
    assert_eq!(engine.state(new), Some(LifecycleState::Initialized));
    assert!(log.lines().contains(&tag("connect", new)));
}

#[tokio::test(start_paused = true)]
async fn a_stop_all_arriving_during_a_stop_of_everything_ends_with_it() {
    let (mut engine, log) = engine_on_current_runtime();
    engine
        .add_named_hook::<Base, _>(
            HookType::OnStop,
            "flush",
            async_step("flush", Duration::from_secs(2), vec![]),
        )
        .unwrap();
    engine
        .add_named_hook::<Base, _>(HookType::OnInit, "open", sync_step("open"))
        .unwrap();
    let old = engine.spawn_batch(Base, 3);
    engine.initialize_async(Selection::All).await;
    let handle = engine.stop_handle();
    handle.stop_all();
    // A second stop-all (a second signal, another thread) while the first is carried out.
    request_later(handle, Duration::from_secs(1), None);

    let stop = engine
        .process_stop_requests_async()
        .await
        .expect("a stop-all was pending");
    assert_eq!(stop.moved, 3);
    assert!(engine.pending_stops().is_empty(), "both requests were done");

    let new = engine.spawn(Base);
    let report = engine.initialize_async(new).await;
    assert_eq!(report.moved, 1, "{report:?}");
    assert!(report.cancelled.is_empty());
    assert!(log.lines().contains(&tag("open", new)));
    assert!(
        old.iter()
            .all(|&s| engine.state(s) == Some(LifecycleState::Stopped))
    );
}
