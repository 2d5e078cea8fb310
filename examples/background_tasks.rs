//! Background tasks and the run loop: every worker sends a heartbeat (a batch task) and polls an
//! endpoint (an async task per worker). Each worker's poller asks for its own stop after five
//! polls; the run loop returns once every worker stopped — or on Ctrl-C, which stops everything
//! gracefully.
//!
//! Run with `cargo run --example background_tasks`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bevy_ecs::prelude::*;
use lifecycle_ecs::prelude::*;
use lifecycle_ecs::{
    BackgroundTaskParams, DEFAULT_SHUTDOWN_BUDGET, HookConfig, RunEnd, TaskContext, service_kind,
};

/// Where a worker polls.
#[derive(Component, Clone, Default)]
struct Endpoint(String);

service_kind! {
    /// A worker with an endpoint.
    struct Worker: Lifecycle; requires [Endpoint]
}

/// How many heartbeats all workers sent.
#[derive(Resource, Default)]
struct Heartbeats(u64);

/// The batch task: one pass over every worker whose heartbeat is due.
fn heartbeat(mut workers: Targets<Worker>, mut beats: ResMut<Heartbeats>) {
    workers.for_each(|_, ()| beats.0 += 1);
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut engine = Engine::new();
    engine.world_mut().init_resource::<Heartbeats>();
    engine.add_background_task::<Worker, _>(
        HookConfig::named("heartbeat"),
        BackgroundTaskParams::every(Duration::from_millis(20)),
        heartbeat,
    )?;
    let stop = engine.stop_handle();
    engine.add_async_background_task::<Worker, _, _>(
        HookConfig::named("poll_endpoint").timeout(Duration::from_secs(1)),
        BackgroundTaskParams::every(Duration::from_millis(50)),
        // Read once per worker when its task starts: what the polls need.
        |service| {
            let endpoint = service.get::<Endpoint>().cloned().unwrap_or_default();
            (endpoint.0, Arc::new(AtomicU32::new(0)))
        },
        move |context: TaskContext<(String, Arc<AtomicU32>)>| {
            let stop = stop.clone();
            async move {
                let (endpoint, polls) = &context.data;
                tokio::select! {
                    () = context.cancelled() => return Ok(()), // stopping: leave at once
                    () = tokio::time::sleep(Duration::from_millis(5)) => {} // "the request"
                }
                if polls.fetch_add(1, Ordering::Relaxed) + 1 == 5 {
                    println!(
                        "{} polled {endpoint} 5 times; asking to stop",
                        context.service_id
                    );
                    stop.stop(context.entity);
                }
                Ok::<(), HookError>(())
            }
        },
    )?;

    for index in 0..4 {
        engine.spawn_with(Worker, Endpoint(format!("http://10.0.0.{index}/health")));
    }
    engine.initialize_and_start(Selection::All);
    let runtime = engine.runtime();
    let run = runtime.block_on(engine.run_with_signals(None, DEFAULT_SHUTDOWN_BUDGET));
    match run.end {
        RunEnd::AllEnded => println!("every worker stopped"),
        _ => println!("stopped by a signal: {:?}", run.shutdown),
    }
    println!(
        "{} heartbeats, {} polls, {} tasks left",
        engine.world().resource::<Heartbeats>().0,
        engine.async_background_runs(),
        engine.background_tasks_alive()
    );
    Ok(())
}
