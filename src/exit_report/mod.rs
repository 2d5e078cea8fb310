//! The exit-error report: what every user of the engine prints at the end of a run.
//!
//! AIPerf's `print_exit_errors` as library API. [`group_exit_errors`] groups any exit errors
//! (`&[ExitErrorInfo]`, or [`Engine::exit_error_groups`](crate::Engine::exit_error_groups) for
//! the whole world) by their details, in order of first appearance; the groups are plain data
//! (serde). [`ExitErrorPanel`] draws them in AIPerf's panel to any `io::Write`, at a width you
//! give ([`ExitErrorPanel::for_stdout`] takes the terminal's, else `COLUMNS`, else 80), with
//! colour codes only when asked (for a terminal).
//!
//! ```
//! use lifecycle_ecs::exit_report::{ExitErrorPanel, print_exit_errors};
//! use lifecycle_ecs::prelude::*;
//! let mut engine = Engine::new();
//! engine
//!     .add_entity_hook::<Lifecycle, (), _, _>(HookType::OnInit, "connect", |_, ()| Err("refused"))
//!     .unwrap();
//! let service = engine.try_spawn_with(Lifecycle, (), Some("svc".into())).unwrap();
//! engine.initialize(service);
//! let mut out = Vec::new();
//! print_exit_errors(engine.exit_errors(service), &ExitErrorPanel::new(50), &mut out).unwrap();
//! let panel = String::from_utf8(out).unwrap();
//! assert!(panel.contains("│ • Service: svc "));
//! assert!(panel.contains("│    Reason: Lifecycle.connect: refused "));
//! ```
//!
//! [`ExitErrorInfo`]: crate::ExitErrorInfo

mod console;
mod from_engine;
mod group;
mod panel;
mod wrap;

pub use console::{DEFAULT_CONSOLE_WIDTH, console_width, stdout_takes_colour};
pub use group::{ExitErrorGroup, MULTIPLE_OPERATIONS, NO_SERVICE_ID, group_exit_errors};
pub use panel::{ExitErrorPanel, MIN_PANEL_WIDTH, REASON_MIN_WIDTH, print_exit_errors};
