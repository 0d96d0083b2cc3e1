use clap::Parser;
use tracing_subscriber::EnvFilter;

use arca::cli::{Cli, Command, ConfigCommand};
use arca::config::Config;

// glibc's malloc keeps freed memory in per-thread arenas, and tokio's blocking pool (SQLite calls, file
// I/O) runs ~130 threads under load: the heap stayed near 31 MiB while RSS climbed ~15 MiB a minute
// (scripts/soak.py; mimalloc's per-thread heaps were worse, ~750 MiB). jemalloc shares a few arenas
// between threads and returns dirty pages after a decay time, so RSS follows the heap (RELIABILITY.md).
// It serves every allocation in the process, SQLite's too (`unprefixed_malloc_on_supported_platforms`):
// left to glibc, SQLite's page caches and statements grew its arenas across those threads.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Config {
            command: ConfigCommand::Show(overrides),
        } => Config::load(&overrides)
            .map(|c| print!("{}", c.to_toml()))
            .map_err(anyhow::Error::from),
        Command::Serve(overrides) => Config::load(&overrides)
            .map_err(anyhow::Error::from)
            .and_then(run),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("arca: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(config: Config) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(&config.log)?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .init();
    // Without background threads jemalloc returns freed pages to the kernel only when some thread
    // allocates again, so what a burst freed stays resident through a quiet spell.
    if let Err(e) = tikv_jemalloc_ctl::background_thread::write(true) {
        tracing::warn!(error = %e, "jemalloc background purging unavailable");
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(arca::server::serve(config))
}
