//! The `lifecycle-ecs` command-line program.
//!
//! `lifecycle-ecs fleet` spawns a fleet of services, runs it through initialize, start and stop,
//! and reports the time per phase, the final states, the failures and the memory per service.
//! Exit code: 0 when every service stopped cleanly, 1 when one did not, 2 for a usage error.

mod fleet;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// An ECS lifecycle engine on `bevy_ecs`: services are entities, hooks are systems.
#[derive(Parser, Debug)]
#[command(name = "lifecycle-ecs", version, about, long_about = None)]
struct Cli {
    /// What to do.
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
enum Command {
    /// Benchmark a fleet of services through initialize, start and stop.
    ///
    /// Spawns N workers (and C children each), registers K counting hooks per phase, initializes,
    /// starts and stops them all, and reports the time per phase, the final states, the failures
    /// and the memory per service. Exits with 0 when every service stopped cleanly, 1 otherwise.
    Fleet(fleet::FleetArgs),
}

fn main() -> ExitCode {
    init_tracing();
    let cli = Cli::parse();
    match cli.command {
        Command::Fleet(args) => {
            if let Err(message) = args.validate() {
                usage_error("fleet", &message);
            }
            if let Err(message) = fleet::check_memory(&args) {
                usage_error("fleet", &message);
            }
            // Before anything runs: a `--json` path that cannot be written is a usage error.
            let json = match args
                .json
                .as_deref()
                .map(fleet::JsonFile::create)
                .transpose()
            {
                Ok(json) => json,
                Err(error) => usage_error("fleet", &error.to_string()),
            };
            fleet::run(&args, json)
        }
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default `warn`).
fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// Reports a usage error of `subcommand` the way clap reports its own, and exits with code 2.
fn usage_error(subcommand: &str, message: &str) -> ! {
    let mut command = Cli::command();
    command.build();
    let error = match command.find_subcommand_mut(subcommand) {
        Some(subcommand) => subcommand.error(ErrorKind::ValueValidation, message),
        None => command.error(ErrorKind::ValueValidation, message),
    };
    error.exit()
}
