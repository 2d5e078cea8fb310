//! A driver task that dies (here: the runtime it runs on is shut down under it) is detected: the
//! services whose hook futures it held fail with `HookError::Lost`, and the operation ends
//! instead of waiting forever.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::*;
use lifecycle_ecs::prelude::*;
use lifecycle_ecs::{Engine, HookConfig};

/// Generous guard against a regression hanging the test binary (never reached when it works).
const HANG_GUARD: Duration = Duration::from_secs(60);

#[test]
fn a_runtime_shut_down_under_running_hook_futures_fails_their_services_as_lost() {
    // The runtime the engine's hook futures run on: shut down while they are pending.
    let doomed = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_time()
        .build()
        .unwrap();
    let mut engine = Engine::builder()
        .runtime_handle(doomed.handle().clone())
        .build();
    let services = engine.spawn_batch(Base, 3);
    let (started, first_poll) = mpsc::channel::<()>();
    engine
        .add_hook_with::<Base, _>(
            HookType::OnInit,
            // No timeout: only the driver's death can end these futures.
            HookConfig::named("connect").timeout(Duration::MAX),
            move |mut targets: Targets<Base>, mut tasks: HookTasks| {
                targets.for_each(|entity, ()| {
                    let started = started.clone();
                    tasks.spawn(entity, async move {
                        let _ = started.send(());
                        std::future::pending::<Result<(), HookError>>().await
                    });
                });
            },
        )
        .unwrap();
    let killer = std::thread::spawn(move || {
        first_poll.recv().expect("a hook future was polled");
        doomed.shutdown_background();
    });
    // The engine waits on another runtime (the test's), whose timers keep working.
    let waiter = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let report = waiter
        .block_on(async {
            tokio::time::timeout(HANG_GUARD, engine.initialize_async(Selection::All)).await
        })
        .expect("the operation ended once its driver died");
    killer.join().unwrap();
    assert_eq!(report.failed.len(), 3, "{report:?}");
    for &service in &services {
        assert_eq!(engine.state(service), Some(LifecycleState::Failed));
        let message = &engine.exit_errors(service)[0].error_details.message;
        assert!(message.starts_with("Base.connect: lost: "), "{message}");
    }
    let failures = engine.failures();
    assert_eq!(failures.total(), 3);
}
