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

const MAX_BLOCKING_THREADS: usize = 32;
const DIRTY_DECAY_MS: isize = 1000;

/// Sets how long jemalloc keeps freed pages, for the arenas to come and the one already in use.
fn return_freed_pages_after(ms: isize) -> tikv_jemalloc_ctl::Result<()> {
    use tikv_jemalloc_ctl::{Access, AsName};
    b"arenas.dirty_decay_ms\0".name().write(ms)?;
    b"arena.0.dirty_decay_ms\0".name().write(ms)
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Config {
            command: ConfigCommand::Show(overrides),
        } => Config::load(&overrides)
            .map(|c| print!("{}", c.to_toml()))
            .map_err(anyhow::Error::from),
        Command::Migrate { from, target } => Config::load(&target)
            .map_err(anyhow::Error::from)
            .and_then(|config| arca::migrate::run(&config, &from))
            .map(|summary| {
                print!("{summary}");
                println!(
                    "give every node the source's key: secret_key_file = {}",
                    from.join("secret.key").display()
                );
            }),
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
    // Freed pages go back to the kernel after a second rather than jemalloc's default ten: under a steady
    // stream of downloads (64 KiB buffers) ten seconds of freed pages were ~60-90 MiB kept resident
    // beside a live heap of ~20 MiB, and RSS swung with them.
    if let Err(e) = return_freed_pages_after(DIRTY_DECAY_MS) {
        tracing::warn!(error = %e, "jemalloc decay time unchanged");
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Blocking work is SQLite calls (8 pooled connections) and file I/O; more threads than a few
        // times that only wait, and each keeps its own allocator cache (jemalloc's tcache): 32 clients
        // kept ~130 threads alive and the allocator's resident memory drifted up with them.
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .build()?
        .block_on(arca::server::serve(config))
}
