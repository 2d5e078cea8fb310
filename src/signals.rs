//! Termination signals (SIGINT, SIGTERM): caught only while someone listens for them.
//!
//! One watcher thread per process (started with the first listener, then idle in a blocking
//! read) counts the signals; listeners wait on that count through a `watch` channel, so they work
//! on any runtime and need no I/O driver. While no listener lives, a signal acts as it did before
//! the first listener: on Unix, if it had its default disposition then, the default action is
//! carried out (the process ends, killed by the signal); if it was ignored or caught by another
//! handler, that stays so.

use std::sync::{Mutex, OnceLock, PoisonError};

use tokio::sync::watch;

/// Listens for SIGINT and SIGTERM (SIGINT only off Unix) for as long as it lives.
///
/// While a `TerminationSignals` exists, those signals no longer end the process: they resolve
/// [`next`](Self::next) instead. Once every listener is dropped they act as before the first one
/// existed (by default, they end the process). Creating one costs no thread: one watcher thread
/// serves the whole process.
///
/// Off Unix, a caught Ctrl-C keeps being caught after the listeners are gone (tokio's handler
/// cannot be removed there).
///
/// # Example
/// ```no_run
/// # async fn example() {
/// use lifecycle_ecs::TerminationSignals;
/// let mut signals = TerminationSignals::listen();
/// signals.next().await; // the first Ctrl-C …
/// // … stop gracefully; a second Ctrl-C meanwhile is seen by the next `next()`.
/// signals.next().await;
/// # }
/// ```
#[derive(Debug)]
pub struct TerminationSignals {
    /// The process's signal count; `None` if signals cannot be watched (nothing ever arrives).
    count: Option<watch::Receiver<u64>>,
    /// Signals this listener has taken.
    seen: u64,
    _listening: Listening,
}

impl TerminationSignals {
    /// Starts listening (the first listener of the process installs the watcher).
    pub fn listen() -> Self {
        let watcher = Watcher::get();
        let listening = Listening::start(watcher);
        let count = watcher.map(|watcher| watcher.count.subscribe());
        let seen = count.as_ref().map_or(0, |count| *count.borrow());
        Self {
            count,
            seen,
            _listening: listening,
        }
    }

    /// Resolves at the next signal this listener has not taken yet (one arrived since it was
    /// created, or since the previous `next`). Never resolves if signals cannot be watched.
    ///
    /// # Cancel safety
    /// Cancel safe: a signal is taken only when the future resolves.
    pub async fn next(&mut self) {
        let seen = self.seen;
        let arrived = match self.count.as_mut() {
            Some(count) => count.wait_for(|&total| total > seen).await.is_ok(),
            None => false,
        };
        if !arrived {
            std::future::pending::<()>().await;
        }
        self.seen += 1;
    }
}

/// The process's one signal watcher.
struct Watcher {
    /// How many termination signals arrived since the watcher started.
    count: watch::Sender<u64>,
    /// How many listeners live.
    listeners: Mutex<usize>,
    /// Carries out the signals' former default action while no listener lives.
    #[cfg(unix)]
    idle: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

static WATCHER: OnceLock<Option<Watcher>> = OnceLock::new();

impl Watcher {
    /// The watcher, started on first use; `None` if the OS refused (then logged once).
    fn get() -> Option<&'static Watcher> {
        WATCHER
            .get_or_init(|| {
                Watcher::start()
                    .inspect_err(|error| tracing::warn!("cannot watch for signals: {error}"))
                    .ok()
            })
            .as_ref()
    }

    #[cfg(unix)]
    fn start() -> std::io::Result<Watcher> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        use std::sync::Arc;
        use std::sync::atomic::AtomicBool;

        const WATCHED: [std::ffi::c_int; 2] = [SIGINT, SIGTERM];
        // Read before any handler of ours exists: what the signals did until now.
        let had_default = WATCHED.map(has_default_disposition);
        // The default action first: should anything below fail, the signals keep acting as
        // before (`idle` stays set), and a failed spawn drops `signals`, unregistering them.
        let idle = Arc::new(AtomicBool::new(true));
        for (signal, had_default) in WATCHED.into_iter().zip(had_default) {
            if had_default {
                signal_hook::flag::register_conditional_default(signal, idle.clone())?;
            }
        }
        let (count, _) = watch::channel(0);
        let mut signals = signal_hook::iterator::Signals::new(WATCHED)?;
        let counter = count.clone();
        std::thread::Builder::new()
            .name("lifecycle-signals".into())
            .spawn(move || {
                for _ in signals.forever() {
                    counter.send_modify(|total| *total += 1);
                }
            })?;
        Ok(Watcher {
            count,
            listeners: Mutex::new(0),
            idle,
        })
    }

    #[cfg(not(unix))]
    fn start() -> std::io::Result<Watcher> {
        let (count, _) = watch::channel(0);
        let counter = count.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        std::thread::Builder::new()
            .name("lifecycle-signals".into())
            .spawn(move || {
                runtime.block_on(async {
                    while tokio::signal::ctrl_c().await.is_ok() {
                        counter.send_modify(|total| *total += 1);
                    }
                });
            })?;
        Ok(Watcher {
            count,
            listeners: Mutex::new(0),
        })
    }

    /// Counts a listener in (`+1`) or out (`-1`); signals are caught while any is in.
    fn add_listeners(&self, delta: isize) {
        let mut listeners = self
            .listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *listeners = listeners.saturating_add_signed(delta);
        #[cfg(unix)]
        self.idle
            .store(*listeners == 0, std::sync::atomic::Ordering::SeqCst);
    }
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher")
            .field("count", &*self.count.borrow())
            .finish_non_exhaustive()
    }
}

/// One listener, counted while it lives.
#[derive(Debug)]
struct Listening(Option<&'static Watcher>);

impl Listening {
    fn start(watcher: Option<&'static Watcher>) -> Self {
        if let Some(watcher) = watcher {
            watcher.add_listeners(1);
        }
        Self(watcher)
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        if let Some(watcher) = self.0 {
            watcher.add_listeners(-1);
        }
    }
}

/// Whether `signal` still has its default disposition (neither ignored nor caught): read from
/// the kernel's view of the process, `/proc/self/status`.
#[cfg(target_os = "linux")]
fn has_default_disposition(signal: std::ffi::c_int) -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return true;
    };
    let mask = |field: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
            .unwrap_or(0)
    };
    let bit = 1u64 << (signal - 1);
    (mask("SigIgn:") | mask("SigCgt:")) & bit == 0
}

/// Whether `signal` still has its default disposition: assumed so where the OS does not tell
/// without `unsafe` code.
#[cfg(all(unix, not(target_os = "linux")))]
fn has_default_disposition(_signal: std::ffi::c_int) -> bool {
    true
}
