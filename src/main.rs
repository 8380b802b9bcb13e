//! The `discogs` binary: parse the command line, resolve the configuration, call one library
//! function, and turn its error into one line on stderr and a non-zero exit.

use std::process::ExitCode;

use clap::Parser;
use discogs::app;
use discogs::cli::{Cli, Command};
use discogs::config::Config;

fn main() -> ExitCode {
    discogs::allocator::set_malloc_options();
    let cli = Cli::parse();
    discogs::telemetry::init_logging();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("discogs: {}", discogs::telemetry::one_line(error.as_ref()));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    // `parse` needs neither the databases nor their configuration.
    if let Command::Parse(args) = &cli.command {
        return app::parse(args);
    }
    let config = Config::resolve(&cli.global, &|key| std::env::var(key).ok())?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        match &cli.command {
            Command::Run(args) => app::run(&config, args).await,
            Command::Ingest(args) => app::ingest(&config, args).await,
            Command::Serve => app::serve(&config).await,
            Command::Download(args) => app::download(&config, args).await,
            Command::Status => app::status(&config).await,
            Command::Migrate => app::migrate(&config).await,
            Command::Perftest(args) => app::perftest(&config, args).await,
            Command::Parse(_) => unreachable!("handled before the runtime starts"),
        }
    })
}
