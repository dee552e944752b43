//! `cargo xtask …`: every set-up and build step of the project, so a fresh
//! machine with only rustup and cargo needs two commands (see README).
//!
//! Each step checks before it acts and prints what it installs, so running it
//! twice installs nothing the second time.

mod bench;
mod modules;
mod postgres;
mod setup;
mod tasks;
mod util;

use std::process::ExitCode;

const USAGE: &str = "\
Usage: cargo xtask <command>

Commands:
  demo     Set up, build, start the backend with demo data and open the app
  test     Set up, build, and run every test (end-to-end ones under Xvfb)
  bundle   Build an installable .deb of the app (offline)
  bench    Run a benchmark and record it in BENCHMARKS.md: `bench server|client|app|agent|web`
  setup    Install what is missing (Debian packages, wasm target, tools)
  ui       Build the wasm UI into src-ui/dist
  help     Print this help";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => tasks::demo(),
        Some("test") => tasks::test(&args[1..]),
        Some("bundle") => tasks::bundle(),
        Some("bench") => bench::run(&args[1..]),
        Some("setup") => setup::all(),
        Some("ui") => setup::all().and_then(|()| tasks::build_ui()),
        None | Some("help" | "-h" | "--help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(anyhow::anyhow!("unknown command {other:?}\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
