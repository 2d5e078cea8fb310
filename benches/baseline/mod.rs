//! The hand-written baseline: the same lifecycle work done the way a Rust user would without the
//! engine.
//!
//! Services are a `Vec<Box<dyn Service>>`. Async hooks return boxed futures (`async fn` in a trait
//! is not object safe), and a driver awaits each service's hook in sequence on a current-thread
//! tokio runtime, updating the service's state field around it and taking AIPerf's fail path
//! (`on_stop`, then FAILED with a recorded `"<Kind>.<hook>: <error>"` string) when a hook errs.

use std::future::Future;
use std::pin::Pin;

/// What an object-safe async hook returns.
pub type HookFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + 'a>>;

/// A service's lifecycle state (the engine's eight states).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Spawned, not initialized.
    Created,
    /// `on_init` is running.
    Initializing,
    /// `on_init` succeeded.
    Initialized,
    /// `on_start` is running.
    Starting,
    /// `on_start` succeeded.
    Running,
    /// `on_stop` is running.
    Stopping,
    /// `on_stop` succeeded.
    Stopped,
    /// A hook failed.
    Failed,
}

/// The lifecycle operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `Created → Initializing → Initialized`.
    Initialize,
    /// `Initialized → Starting → Running`.
    Start,
    /// `→ Stopping → Stopped`, gated by the stop-requested flag.
    Stop,
}

impl Op {
    /// The hook's name in error messages.
    const fn hook_name(self) -> &'static str {
        match self {
            Self::Initialize => "on_init",
            Self::Start => "on_start",
            Self::Stop => "on_stop",
        }
    }
}

/// The lifecycle data every service embeds (AIPerf's mixin fields).
#[derive(Debug)]
pub struct Base {
    /// The service's serial number.
    id: u32,
    /// Where the service is in its lifecycle.
    state: State,
    /// Set by `stop` and the fail path; a second stop is ignored.
    stop_requested: bool,
    /// `"<Kind>.<hook>: <error>"` for each failed hook.
    errors: Vec<String>,
}

impl Base {
    /// A fresh CREATED service.
    const fn new(id: u32) -> Self {
        Self {
            id,
            state: State::Created,
            stop_requested: false,
            errors: Vec::new(),
        }
    }
}

/// A service: its lifecycle data and three async hooks.
pub trait Service {
    /// The kind's name, for error messages.
    fn kind(&self) -> &'static str;
    /// The lifecycle data.
    fn base(&mut self) -> &mut Base;
    /// How many times a hook of this service ran (for the sanity check).
    fn hook_calls(&self) -> u64;
    /// Initializes the service.
    fn on_init(&mut self) -> HookFuture<'_>;
    /// Starts the service.
    fn on_start(&mut self) -> HookFuture<'_>;
    /// Stops the service.
    fn on_stop(&mut self) -> HookFuture<'_>;
}

/// What one operation did to one service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Reached the operation's final state.
    Moved,
    /// The state made the operation a no-op.
    Ignored,
    /// The state does not allow the operation.
    Invalid,
    /// A hook failed; the service ended FAILED.
    Failed,
}

/// What one operation over a list of services did.
#[derive(Debug, Default)]
pub struct Report {
    /// How many services reached the final state.
    pub moved: usize,
    /// How many were ignored.
    pub ignored: usize,
    /// How many were refused.
    pub invalid: usize,
    /// The indices of the services that failed.
    pub failed: Vec<usize>,
}

impl Report {
    /// Counts service `index`'s outcome.
    fn tally(&mut self, index: usize, outcome: Outcome) {
        match outcome {
            Outcome::Moved => self.moved += 1,
            Outcome::Ignored => self.ignored += 1,
            Outcome::Invalid => self.invalid += 1,
            Outcome::Failed => self.failed.push(index),
        }
    }
}

/// Runs `op` on one service: the op×state table, the transient state, the hook, the final state,
/// or the fail path (`on_stop`, FAILED, an error string).
pub async fn run_op(service: &mut dyn Service, op: Op) -> Outcome {
    let base = service.base();
    let (transient, done) = match op {
        Op::Initialize => match base.state {
            State::Created => (State::Initializing, State::Initialized),
            State::Initializing | State::Initialized | State::Starting | State::Running => {
                return Outcome::Ignored;
            }
            State::Stopping | State::Stopped | State::Failed => return Outcome::Invalid,
        },
        Op::Start => match base.state {
            State::Initialized => (State::Starting, State::Running),
            State::Starting | State::Running => return Outcome::Ignored,
            _ => return Outcome::Invalid,
        },
        Op::Stop => {
            if base.stop_requested {
                return Outcome::Ignored;
            }
            base.stop_requested = true;
            (State::Stopping, State::Stopped)
        }
    };
    base.state = transient;
    let result = match op {
        Op::Initialize => service.on_init().await,
        Op::Start => service.on_start().await,
        Op::Stop => service.on_stop().await,
    };
    let Err(error) = result else {
        service.base().state = done;
        return Outcome::Moved;
    };
    let message = format!("{}.{}: {error}", service.kind(), op.hook_name());
    let base = service.base();
    base.errors.push(message);
    if op != Op::Stop {
        // AIPerf's fail path: stop the service, then mark it FAILED.
        base.state = State::Stopping;
        base.stop_requested = true;
        if let Err(error) = service.on_stop().await {
            let message = format!("{}.on_stop: {error}", service.kind());
            service.base().errors.push(message);
        }
    }
    service.base().state = State::Failed;
    Outcome::Failed
}

/// Runs `op` on every service in order (reversed order when `reverse`).
pub async fn run_all(services: &mut [Box<dyn Service>], op: Op, reverse: bool) -> Report {
    let mut report = Report::default();
    if reverse {
        for (index, service) in services.iter_mut().enumerate().rev() {
            report.tally(index, run_op(service.as_mut(), op).await);
        }
    } else {
        for (index, service) in services.iter_mut().enumerate() {
            report.tally(index, run_op(service.as_mut(), op).await);
        }
    }
    report
}

/// A worker whose three hooks increment a counter (the engine's trivial hook).
struct Worker {
    base: Base,
    counter: u64,
}

impl Service for Worker {
    fn kind(&self) -> &'static str {
        "BenchWorker"
    }

    fn base(&mut self) -> &mut Base {
        &mut self.base
    }

    fn hook_calls(&self) -> u64 {
        self.counter
    }

    fn on_init(&mut self) -> HookFuture<'_> {
        Box::pin(async move {
            self.counter += 1;
            Ok(())
        })
    }

    fn on_start(&mut self) -> HookFuture<'_> {
        Box::pin(async move {
            self.counter += 1;
            Ok(())
        })
    }

    fn on_stop(&mut self) -> HookFuture<'_> {
        Box::pin(async move {
            self.counter += 1;
            Ok(())
        })
    }
}

/// A worker whose `on_init` always fails; its other hooks increment a counter.
struct FailingWorker {
    base: Base,
    counter: u64,
}

impl Service for FailingWorker {
    fn kind(&self) -> &'static str {
        "BenchFailer"
    }

    fn base(&mut self) -> &mut Base {
        &mut self.base
    }

    fn hook_calls(&self) -> u64 {
        self.counter
    }

    fn on_init(&mut self) -> HookFuture<'_> {
        Box::pin(async move {
            self.counter += 1;
            Err("init failed".to_owned())
        })
    }

    fn on_start(&mut self) -> HookFuture<'_> {
        Box::pin(async move {
            self.counter += 1;
            Ok(())
        })
    }

    fn on_stop(&mut self) -> HookFuture<'_> {
        Box::pin(async move {
            self.counter += 1;
            Ok(())
        })
    }
}

/// A parent that initializes and starts its children before itself and stops them after itself
/// in reverse order; a failed child fails the parent.
struct Parent {
    base: Base,
    children: Vec<Box<dyn Service>>,
}

impl Parent {
    /// Runs `op` on the children; an error naming the failed ones if any failed.
    async fn children_step(&mut self, op: Op) -> Result<(), String> {
        let report = run_all(&mut self.children, op, op == Op::Stop).await;
        if report.failed.is_empty() {
            return Ok(());
        }
        let mut message = "child services failed: ".to_owned();
        for (i, &index) in report.failed.iter().enumerate() {
            if i > 0 {
                message.push_str(", ");
            }
            let id = self.children[index].base().id;
            message.push_str(&format!("{}_{id:08x}", self.children[index].kind()));
        }
        Err(message)
    }
}

impl Service for Parent {
    fn kind(&self) -> &'static str {
        "BenchParent"
    }

    fn base(&mut self) -> &mut Base {
        &mut self.base
    }

    fn hook_calls(&self) -> u64 {
        self.children.iter().map(|child| child.hook_calls()).sum()
    }

    fn on_init(&mut self) -> HookFuture<'_> {
        Box::pin(self.children_step(Op::Initialize))
    }

    fn on_start(&mut self) -> HookFuture<'_> {
        Box::pin(self.children_step(Op::Start))
    }

    fn on_stop(&mut self) -> HookFuture<'_> {
        Box::pin(self.children_step(Op::Stop))
    }
}

/// `count` CREATED workers with trivial hooks.
pub fn workers(count: usize) -> Vec<Box<dyn Service>> {
    (0..count)
        .map(|i| {
            Box::new(Worker {
                base: Base::new(i as u32),
                counter: 0,
            }) as Box<dyn Service>
        })
        .collect()
}

/// `count` CREATED workers whose `on_init` fails.
pub fn failing_workers(count: usize) -> Vec<Box<dyn Service>> {
    (0..count)
        .map(|i| {
            Box::new(FailingWorker {
                base: Base::new(i as u32),
                counter: 0,
            }) as Box<dyn Service>
        })
        .collect()
}

/// One CREATED parent with `count` CREATED worker children.
pub fn parent_with_children(count: usize) -> Vec<Box<dyn Service>> {
    let children = (1..=count)
        .map(|i| {
            Box::new(Worker {
                base: Base::new(i as u32),
                counter: 0,
            }) as Box<dyn Service>
        })
        .collect();
    vec![Box::new(Parent {
        base: Base::new(0),
        children,
    })]
}

/// The state of a service (for the sanity check).
pub fn state_of(service: &mut dyn Service) -> State {
    service.base().state
}

/// The error strings of a service (for the sanity check).
pub fn errors_of(service: &mut dyn Service) -> usize {
    service.base().errors.len()
}

/// A current-thread tokio runtime to drive the hooks on.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime builds")
}
