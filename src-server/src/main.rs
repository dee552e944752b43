//! `mostrador-server`: command-line entry point. All logic lives in the library.

use clap::Parser;
use mostrador_server::cli::{Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    mostrador_server::telemetry::init();
    match cli.command {
        Command::Serve(args) => mostrador_server::serve(args.into_config()?).await,
        Command::SeedDemo(args) => {
            let db = mostrador_server::db::Db::connect(&args.database_url()?).await?;
            let hours =
                mostrador_server::ServerConfig::for_data_dir(std::path::Path::new(".")).hours;
            if mostrador_server::demo::seed(&db, &hours).await? {
                println!("demo data seeded: 50 customers, 500 orders, conversations, callbacks, 3 agents, 1 admin");
            } else {
                println!("demo data already present; nothing to do");
            }
            Ok(())
        }
        Command::Openapi => {
            println!("{}", mostrador_server::http::openapi_json());
            Ok(())
        }
    }
}
