//! The app's own command-line options.
//!
//! Parsed by hand on purpose: WebDriver and desktop launchers add flags of
//! their own (`--automation`, file URIs), which must be ignored, not refused.

use mostrador_client::config::DEFAULT_SERVER_URL;

pub const USAGE: &str = "\
Mostrador — customer support: orders, chat and callbacks.

Usage: mostrador-app [--server-url URL]

Options:
  --server-url URL   Support backend to sync with
                     (env MOSTRADOR_SERVER_URL; default http://127.0.0.1:8787)
  -h, --help         Print this help and exit
  -V, --version      Print the version and exit

Logging: set RUST_LOG (e.g. RUST_LOG=debug).";

#[derive(Debug, PartialEq, Eq)]
pub enum Invocation {
    Run { server_url: String },
    Help,
    Version,
}

/// `args` without the program name; `env_url` is `MOSTRADOR_SERVER_URL`.
pub fn parse(args: impl IntoIterator<Item = String>, env_url: Option<String>) -> Invocation {
    let mut server_url = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Invocation::Help,
            "-V" | "--version" => return Invocation::Version,
            "--server-url" => server_url = args.next(),
            other => {
                if let Some(v) = other.strip_prefix("--server-url=") {
                    server_url = Some(v.to_owned());
                }
            }
        }
    }
    let server_url = server_url
        .or(env_url)
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_SERVER_URL.to_owned());
    Invocation::Run { server_url }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flag_beats_env_beats_default_and_foreign_flags_are_ignored() {
        assert_eq!(
            parse(
                args(&["--automation", "--server-url", "http://a:1"]),
                Some("http://b:2".into())
            ),
            Invocation::Run {
                server_url: "http://a:1".into()
            }
        );
        assert_eq!(
            parse(args(&["--server-url=http://c:3"]), None),
            Invocation::Run {
                server_url: "http://c:3".into()
            }
        );
        assert_eq!(
            parse(args(&[]), Some("http://b:2".into())),
            Invocation::Run {
                server_url: "http://b:2".into()
            }
        );
        assert_eq!(
            parse(args(&[]), None),
            Invocation::Run {
                server_url: DEFAULT_SERVER_URL.into()
            }
        );
        assert_eq!(parse(args(&["-h"]), None), Invocation::Help);
        assert_eq!(parse(args(&["--version"]), None), Invocation::Version);
    }
}
