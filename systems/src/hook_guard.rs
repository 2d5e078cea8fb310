//! The guard systems around every hook: who is running, and what to do when it errs or panics.

use std::cell::RefCell;

use bevy_ecs::error::{BevyError, ErrorContext};
use bevy_ecs::system::{Res, ResMut};
use lifecycle_ecs_components::{HookError, ServiceKind};

use crate::panic_payload::{drop_quietly, panicked};
use crate::{ActiveHook, HookFutures, HookProgress, PhaseContext, RunningHooks, Targets};

thread_local! {
    static SYSTEM_ERROR: RefCell<Option<HookError>> = const { RefCell::new(None) };
    static HOOK_SPAN: RefCell<Option<tracing::span::EnteredSpan>> = const { RefCell::new(None) };
}

/// The engine's `FallbackErrorHandler`: keeps a hook system's returned error or panic so the guard
/// after the hook can fail the hook's targets with it. Never panics.
///
/// bevy's single-threaded executor catches a panicking system and hands it here; hook schedules
/// run on the calling thread, so a thread-local carries the error to the guard.
pub fn capture_system_error(mut error: BevyError, _context: ErrorContext) {
    let hook_error = match error.take_payload() {
        Some(payload) => panicked(payload),
        None => HookError::msg(error.to_string().trim_end()),
    };
    // A user error type may panic in its `Drop`: never on the executor's stack.
    drop_quietly(error);
    SYSTEM_ERROR.with(|slot| {
        slot.borrow_mut().get_or_insert(hook_error);
    });
}

/// Takes the error captured for the current thread's hook, if any.
pub fn take_system_error() -> Option<HookError> {
    SYSTEM_ERROR.with(|slot| slot.borrow_mut().take())
}

/// A system that marks `hook` as running (and opens its `tracing` span).
pub fn enter_hook(
    hook: ActiveHook,
) -> impl FnMut(ResMut<PhaseContext>, Res<RunningHooks>) + Send + Sync + 'static {
    move |mut context: ResMut<PhaseContext>, running: Res<RunningHooks>| {
        take_system_error();
        running.sync_started(hook.name.clone(), hook.kind, hook.hook_type);
        let span = tracing::debug_span!(
            "hook",
            name = %hook.name,
            hook_type = %hook.hook_type,
            operation = ?context.operation()
        );
        HOOK_SPAN.with(|slot| *slot.borrow_mut() = Some(span.entered()));
        context.set_hook(Some(hook.clone()));
    }
}

/// The system after hook `slot` of kind `K`: if the hook returned an error or panicked, every
/// target of the hook fails with it; if it handed over futures, the schedule pauses after it.
/// Closes the hook's span.
pub fn exit_hook<K: ServiceKind>(
    slot: u32,
) -> impl FnMut(Targets<K>, ResMut<HookProgress>, Res<HookFutures>, Res<RunningHooks>)
+ Send
+ Sync
+ 'static {
    move |mut targets: Targets<K>,
          mut progress: ResMut<HookProgress>,
          futures: Res<HookFutures>,
          running: Res<RunningHooks>| {
        running.sync_finished();
        if let Some(error) = take_system_error() {
            targets.fail_all(error);
        }
        progress.finish(slot, !futures.is_empty());
        HOOK_SPAN.with(|span| span.borrow_mut().take());
    }
}

/// What a guard after a hook whose type a plugin owns does first: marks the hook finished,
/// closes its span, and returns the error or panic the hook system ended with, if any (the
/// owner decides what it means: a message handler's error never fails its service).
pub fn leave_hook(running: &RunningHooks) -> Option<HookError> {
    running.sync_finished();
    HOOK_SPAN.with(|span| span.borrow_mut().take());
    take_system_error()
}
