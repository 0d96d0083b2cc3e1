//! Command line: `arca serve`, `arca config show`, `arca migrate`.

use clap::{Parser, Subcommand};

use crate::config::Overrides;

#[derive(Debug, Parser)]
#[command(
    name = "arca",
    version,
    about = "Self-hosted artifact repository, wire-compatible with CodeArts Artifact"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the server (creates and bootstraps the data directory on first start).
    Serve(Overrides),
    /// Copy an embedded installation (SQLite + data directory) into the configured PostgreSQL database
    /// and blob store, verifying every blob's SHA-256; re-running copies only what is missing.
    Migrate {
        /// The data directory of the installation to copy (stop its arca first).
        #[arg(long)]
        from: std::path::PathBuf,
        #[command(flatten)]
        target: Overrides,
    },
    /// Inspect configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration (defaults < file < environment < flags) as TOML.
    Show(Overrides),
}
