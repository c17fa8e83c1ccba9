//! The command line.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::{
    audit::{RequestMeta, Verification},
    config::{ConfigFile, Settings},
    db,
    directory::service::{self as directory, NewStaff},
    domain::Role,
    error::ServiceError,
    startup::Application,
    state::AppState,
    telemetry,
    text::{Line, NewPassword, Username},
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
    /// Run the HTTP service (the default). Creates and migrates the database on
    /// first start, and on an empty database creates the `admin` account with a
    /// random password printed once.
    Serve {
        /// Seed an invented demo library (branches, one account per role with
        /// documented passwords) into an empty database. For trying Casework only.
        #[arg(long)]
        demo: bool,
        /// Start even though the audit chain no longer reaches its last
        /// signed checkpoint (rows removed or changed). Logged loudly.
        #[arg(long)]
        accept_broken_audit_chain: bool,
    },
    /// Manage staff accounts from the command line.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Audit trail tools.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The service directory.
    #[command(subcommand)]
    Directory(DirectoryCommand),
    /// Staff training records.
    #[command(subcommand)]
    Certifications(CertificationsCommand),
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
    /// Write a backup to FILE (a tar file; it must not exist) while the
    /// service runs: a consistent copy of the database (SQLite: `VACUUM
    /// INTO`; PostgreSQL: `pg_dump` of one snapshot), the signed audit
    /// checkpoints up to the copy's last event, and the keys kept in the
    /// data directory.
    Backup {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Restore a backup into an empty data directory (and, on PostgreSQL,
    /// an empty database), then check the whole audit chain and every
    /// signed checkpoint against it.
    Restore {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Create an account. The password is read from standard input (one
    /// line), or prompted for twice on a terminal.
    Add {
        #[arg(long)]
        username: String,
        /// peer, social_worker, supervisor, staff, security, auditor or admin.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Display name (defaults to the username).
        #[arg(long)]
        display_name: Option<String>,
        /// Branch code; repeat for several branches.
        #[arg(long = "branch", value_name = "CODE")]
        branches: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DirectoryCommand {
    /// Load Open Referral HSDS data: a `.json` file (HSDS 3 services with
    /// their organization), or a CSV package (`organizations.csv` and
    /// `services.csv`; give the directory or a file in it). Entries are
    /// matched by HSDS id, so importing again updates them. Rows that cannot
    /// be read are reported by file and line; the rest still load, and the
    /// exit status is non-zero.
    Import {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum CertificationsCommand {
    /// Load a CSV roster of completions with the header
    /// `username,training,completed_on,trainer,evidence` (training by its
    /// catalogue name, dates as YYYY-MM-DD, trainer true or false). Each row
    /// is recorded as through the API, its expiry computed from the
    /// training; rows that cannot be are reported by line and field, the
    /// rest still load, and the exit status is non-zero.
    Import {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain and the signed checkpoints; exit non-zero and
    /// name the first broken row if any. The whole chain is walked and every
    /// checkpoint checked against it.
    Verify {
        /// Walk only what came after the last checkpoint (the chain must
        /// still reach it): the quick check the service makes at start-up.
        #[arg(long, conflicts_with = "against")]
        since_checkpoint: bool,
        /// The whole chain: what `verify` does anyway (kept for scripts).
        #[arg(long, hide = true, conflicts_with_all = ["against", "since_checkpoint"])]
        full: bool,
        /// A receipt (a signed head from `GET /v1/audit/receipt`): prove that
        /// nothing up to it was removed or changed.
        #[arg(long, value_name = "RECEIPT")]
        against: Option<PathBuf>,
    },
    /// Sign the chain's head now (kept as a checkpoint) and print it as a
    /// receipt, one JSON line, for an auditor to keep away from this server;
    /// `verify --against` proves it later. The public key is in it.
    Receipt,
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| {
        let names: Vec<_> = Role::ALL.iter().map(|r| r.as_str()).collect();
        format!("unknown role; one of {}", names.join(", "))
    })
}

/// Where the committed spec lives, relative to the repository root.
pub const SPEC_PATH: &str = "openapi/openapi.yaml";

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let file = match &cli.config {
        Some(p) => ConfigFile::Explicit(p.clone()),
        None => ConfigFile::Default,
    };
    let command = cli.command.unwrap_or(Command::Serve {
        demo: false,
        accept_broken_audit_chain: false,
    });
    if let Command::Openapi { write, check } = command {
        return openapi(write, check);
    }
    let settings = Settings::load(&file)?;
    telemetry::init(settings.log_format);
    match command {
        Command::Serve {
            demo,
            accept_broken_audit_chain,
        } => serve(settings, demo, accept_broken_audit_chain).await,
        Command::Staff(StaffCommand::Add {
            username,
            role,
            display_name,
            branches,
        }) => {
            let state = AppState::open(settings).await?;
            let branches = branch_ids(&state, &branches).await?;
            let password = read_password()?;
            let display_name = display_name.unwrap_or_else(|| username.clone());
            let made = async {
                let input = NewStaff {
                    id: None,
                    username: Username::for_field("username", &username)?,
                    display_name: Line::for_field("display_name", &display_name)?,
                    role,
                    branches,
                    password: NewPassword::for_field("password", &password)?,
                };
                directory::create_staff(&state, None, &RequestMeta::default(), input).await
            };
            match made.await {
                Ok(v) => {
                    println!(
                        "created {} ({}) with id {}",
                        v.account.username, v.account.role, v.account.id
                    );
                    Ok(())
                }
                Err(ServiceError::Invalid(issues)) => {
                    let text: Vec<String> = issues
                        .iter()
                        .map(|i| format!("{}: {}", i.field, i.message))
                        .collect();
                    anyhow::bail!("invalid account: {}", text.join("; "))
                }
                Err(e) => anyhow::bail!("cannot create the account: {e}"),
            }
        }
        Command::Audit(AuditCommand::Verify {
            since_checkpoint,
            full: _,
            against,
        }) => {
            let full = !since_checkpoint;
            let conn = db::connect(&settings).await?;
            let checkpoints = crate::audit::checkpoint::Checkpoints::open(&settings)?;
            let result = match &against {
                Some(path) => {
                    let text = std::fs::read_to_string(path)
                        .with_context(|| format!("cannot read `{}`", path.display()))?;
                    let receipt: crate::audit::checkpoint::Checkpoint =
                        serde_json::from_str(&text).context("the receipt is not a checkpoint")?;
                    crate::audit::checkpoint::verify_receipt(
                        &conn,
                        &checkpoints.verifying_key(),
                        &receipt,
                    )
                    .await?
                }
                None => checkpoints.verify(&conn, full).await?,
            };
            let scope = match (&against, full) {
                (Some(_), _) => "up to the receipt",
                (None, true) => "in full",
                (None, false) => "since the last checkpoint",
            };
            match result {
                Verification::Intact { events } => {
                    println!("audit chain intact {scope}: {events} events");
                    Ok(())
                }
                Verification::Broken { seq, id, reason } => {
                    anyhow::bail!("audit chain broken at seq {seq} (event {id}): {reason}")
                }
            }
        }
        Command::Backup { file } => {
            let r = crate::backup::backup(&settings, &file).await?;
            println!(
                "backed up the {} database to {}: audit chain up to seq {}, {} signed checkpoints; files: {}",
                r.database,
                file.display(),
                r.head_seq,
                r.checkpoints,
                r.files.join(", ")
            );
            for note in r.notes {
                println!("note: {note}");
            }
            Ok(())
        }
        Command::Restore { file } => {
            let r = crate::backup::restore(&settings, &file).await?;
            println!(
                "restored the {} database from {}: audit chain intact in full ({} events, up to seq {}), {} signed checkpoints hold",
                r.database,
                file.display(),
                r.events.unwrap_or(0),
                r.head_seq,
                r.checkpoints
            );
            for note in r.notes {
                println!("note: {note}");
            }
            Ok(())
        }
        Command::Audit(AuditCommand::Receipt) => {
            let conn = db::connect(&settings).await?;
            let checkpoints = crate::audit::checkpoint::Checkpoints::open(&settings)?;
            // No service runs here: its clock is the system's.
            let now = crate::clock::Clock::default().now();
            match checkpoints.write(&conn, now).await? {
                Some(receipt) => {
                    println!("{}", serde_json::to_string(&receipt)?);
                    Ok(())
                }
                None => anyhow::bail!("the audit trail is empty: nothing to sign yet"),
            }
        }
        Command::Directory(DirectoryCommand::Import { file }) => {
            let state = AppState::open(settings).await?;
            let report = crate::directory::hsds::import(&state, &file).await?;
            for e in &report.errors {
                eprintln!("{e}");
            }
            println!(
                "imported {} new and {} updated services; {} rows not loaded",
                report.created,
                report.updated,
                report.errors.len()
            );
            if report.errors.is_empty() {
                Ok(())
            } else {
                anyhow::bail!("{} rows were not loaded", report.errors.len())
            }
        }
        Command::Certifications(CertificationsCommand::Import { file }) => {
            let state = AppState::open(settings).await?;
            let report = crate::training::roster::import(&state, &file).await?;
            for e in &report.errors {
                eprintln!("{e}");
            }
            println!(
                "recorded {} completions; {} rows not loaded",
                report.loaded,
                report.errors.len()
            );
            if report.errors.is_empty() {
                Ok(())
            } else {
                anyhow::bail!("{} rows were not loaded", report.errors.len())
            }
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

async fn serve(settings: Settings, demo: bool, accept_broken: bool) -> anyhow::Result<()> {
    let json_logs = settings.log_format == crate::config::LogFormat::Json;
    let app = Application::build_checked(settings, accept_broken).await?;
    if demo {
        const BANNER: &str =
            "DEMO MODE: invented library, documented passwords. Never enter real patrons.";
        let seeded = crate::demo::seed_demo(app.state()).await?;
        let what = if seeded {
            "Seeded the demo library; accounts and passwords are listed in the README."
        } else {
            "The database already has accounts; nothing was seeded."
        };
        if json_logs {
            // A log shipper reads JSON lines only: the banner is an event.
            tracing::warn!(demo = true, seeded, "{BANNER}");
            tracing::warn!(demo = true, "{what}");
        } else {
            println!("\n{0}\n{BANNER}\n{0}", "=".repeat(BANNER.len()));
            println!("{what}");
        }
        tracing::warn!("running in demo mode");
    } else if let Some(password) = crate::first_start::ensure_admin(app.state()).await? {
        // Printed once to the console, never logged.
        println!("\nFirst start: created the administrator account.");
        println!("  username: admin");
        println!("  password: {password}");
        println!("This password is shown only now. Sign in and change it.\n");
    }
    app.run_until_stopped().await
}

fn read_password() -> anyhow::Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let second = rpassword::prompt_password("Repeat password: ")?;
        anyhow::ensure!(first == second, "the passwords differ");
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

fn openapi(write: bool, check: bool) -> anyhow::Result<()> {
    let spec = crate::app::spec_yaml();
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

/// Branch ids for codes, in order; the first unknown code is an error.
async fn branch_ids(state: &AppState, codes: &[String]) -> anyhow::Result<Vec<uuid::Uuid>> {
    use entities::branch;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let mut ids = Vec::new();
    for code in codes {
        let code = code.trim().to_uppercase();
        let b = branch::Entity::find()
            .filter(branch::Column::Code.eq(code.clone()))
            .one(&state.db)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no branch with code `{code}`"))?;
        ids.push(b.id);
    }
    Ok(ids)
}
