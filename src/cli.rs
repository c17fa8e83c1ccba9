//! The command line.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::{
    config::{ConfigFile, Settings},
    db,
    startup::Application,
    telemetry,
};

#[derive(Debug, Parser)]
#[command(
    name = "casework",
    version,
    about = "Casework: referral and case management for social work in public libraries",
    long_about = "Casework: referral and case management for social work in public libraries.\n\n\
        Settings come from built-in defaults, then the TOML file given by --config \
        (or ./casework.toml if present), then CASEWORK_* environment variables."
)]
pub struct Cli {
    /// TOML configuration file (default: ./casework.toml when it exists).
    #[arg(long, global = true, env = "CASEWORK_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (the default). Creates and migrates the database on first start.
    Serve,
    /// Apply pending database migrations, or roll back with --down.
    Migrate {
        /// Roll back this many migrations instead of applying.
        #[arg(long, value_name = "N")]
        down: Option<u32>,
    },
    /// Print the OpenAPI spec (YAML), or write or check openapi/openapi.yaml.
    Openapi {
        /// Write the spec to openapi/openapi.yaml.
        #[arg(long, conflicts_with = "check")]
        write: bool,
        /// Exit non-zero when openapi/openapi.yaml differs from the code.
        #[arg(long)]
        check: bool,
    },
    /// Print the settings in force (database password masked) and exit.
    Config,
}

/// Where the committed spec lives, relative to the repository root.
pub const SPEC_PATH: &str = "openapi/openapi.yaml";

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let file = match &cli.config {
        Some(p) => ConfigFile::Explicit(p.clone()),
        None => ConfigFile::Default,
    };
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Openapi { write, check } = command {
        return openapi(write, check);
    }
    let settings = Settings::load(&file)?;
    telemetry::init(settings.log_format);
    match command {
        Command::Serve => {
            Application::build(settings)
                .await?
                .run_until_stopped()
                .await
        }
        Command::Migrate { down } => {
            let conn = db::connect(&settings).await?;
            match down {
                Some(n) => {
                    db::migrate_down(&conn, n)
                        .await
                        .context("rollback failed")?;
                    println!("rolled back {n} migration(s)");
                }
                None => {
                    db::migrate_up(&conn).await.context("migration failed")?;
                    println!("database is up to date");
                }
            }
            Ok(())
        }
        Command::Config => {
            println!("{}", settings.to_toml_masked().trim_end());
            Ok(())
        }
        Command::Openapi { .. } => unreachable!("handled above"),
    }
}

fn openapi(write: bool, check: bool) -> anyhow::Result<()> {
    let spec = crate::api::spec_yaml();
    if write {
        std::fs::write(SPEC_PATH, &spec).with_context(|| format!("cannot write {SPEC_PATH}"))?;
        println!("wrote {SPEC_PATH}");
    } else if check {
        let committed = std::fs::read_to_string(SPEC_PATH)
            .with_context(|| format!("cannot read {SPEC_PATH}"))?;
        if committed != spec {
            anyhow::bail!("{SPEC_PATH} differs from the code: run `casework openapi --write`");
        }
        println!("{SPEC_PATH} matches the code");
    } else {
        print!("{spec}");
    }
    Ok(())
}
