//! `mostrador-server`: command-line entry point. All logic lives in the library.

use clap::Parser;
use mostrador_server::cli::{Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    mostrador_server::telemetry::init();
    match cli.command {
        Command::Serve(args) => mostrador_server::serve(args.into_config()?).await,
        Command::Openapi => {
            println!("{}", mostrador_server::http::openapi_json());
            Ok(())
        }
    }
}
