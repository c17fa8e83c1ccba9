//! Database connection, migrations and readiness.

use std::time::Duration;

use anyhow::Context;
use migrations::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, Database, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous as SqlxSynchronous},
};

use crate::config::{Settings, SqliteSynchronous};

mod calling_thread;

/// How much of the SQLite file readers map (address space, not memory: the
/// pages are the operating system's file cache, shared by every connection).
const MMAP_BYTES: u64 = 1 << 30;

/// Opens the configured database. For the SQLite default the data directory
/// and the file are created as needed.
pub async fn connect(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let url = settings.effective_database_url();
    if url.starts_with("sqlite:") && settings.database_url.trim().is_empty() {
        std::fs::create_dir_all(&settings.data_dir)
            .with_context(|| format!("cannot create data_dir `{}`", settings.data_dir.display()))?;
    }
    // PostgreSQL shows which instance a session is (`pg_stat_activity`).
    let name = format!("casework {}", settings.listen);
    connect_named(&url, settings.sqlite_synchronous, &name).await
}

/// The connection requests read through: for SQLite with `sqlite_reads =
/// "calling_thread"` (the default) a proxy that runs reads on the thread
/// that asks ([`calling_thread`]); otherwise `pool` itself. `pool` stays
/// the migrations' (and the writer's, with `sqlite_writes = "pool"`).
pub async fn reads(
    settings: &Settings,
    pool: &DatabaseConnection,
) -> anyhow::Result<DatabaseConnection> {
    Ok(calling_thread(settings, settings.sqlite_reads, false)
        .await?
        .unwrap_or_else(|| pool.clone()))
}

/// The audit writer's connection: with `sqlite_writes = "calling_thread"`
/// (the default) on SQLite, one of its own that runs its statements on the writer's
/// thread, its commit's flush on a blocking one; otherwise `pool`.
pub async fn writer(settings: &Settings, pool: &DatabaseConnection) -> anyhow::Result<WriterDb> {
    Ok(
        match calling_thread(settings, settings.sqlite_writes, true).await? {
            Some(db) => WriterDb { db, explicit: true },
            None => WriterDb {
                db: pool.clone(),
                explicit: false,
            },
        },
    )
}

/// The writer's connection, and whether the writer sends its transactions
/// as statements (the calling-thread connection) or through sea-orm's
/// transactions (sqlx's pool).
#[derive(Clone)]
pub struct WriterDb {
    pub db: DatabaseConnection,
    pub explicit: bool,
}

/// Whether `err` is a unique constraint's refusal (two writers that raced
/// to the same id or value), from either kind of connection.
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    ) || matches!(err, DbErr::Custom(m) if m.starts_with(calling_thread::UNIQUE))
}

/// The SQLite database's file, when the database is a SQLite file.
pub fn sqlite_file(settings: &Settings) -> Option<std::path::PathBuf> {
    let url = settings.effective_database_url();
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or(rest))
        .filter(|f| !f.is_empty() && !f.contains(":memory:"))
        .map(std::path::PathBuf::from)
}

async fn calling_thread(
    settings: &Settings,
    how: crate::config::SqliteStatements,
    writer: bool,
) -> anyhow::Result<Option<DatabaseConnection>> {
    let (Some(file), crate::config::SqliteStatements::CallingThread) = (sqlite_file(settings), how)
    else {
        return Ok(None);
    };
    let synchronous = match settings.sqlite_synchronous {
        SqliteSynchronous::Full => "FULL",
        SqliteSynchronous::Normal => "NORMAL",
    };
    let proxy = calling_thread::CallingThread::new(file, synchronous, writer);
    let db = Database::connect_proxy(
        DatabaseBackend::Sqlite,
        std::sync::Arc::new(Box::new(proxy)),
    )
    .await?;
    db.ping().await.context("cannot read the database")?;
    Ok(Some(db))
}

/// SQLite connections: each has a thread of its own that every statement
/// hops to, so more than the cores can use only add thread switches. Two per
/// core and one for the writer, between 3 and 8.
fn sqlite_pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
    (2 * cores + 1).clamp(3, 8)
}

pub async fn connect_url(
    url: &str,
    synchronous: SqliteSynchronous,
) -> anyhow::Result<DatabaseConnection> {
    connect_named(url, synchronous, "casework").await
}

async fn connect_named(
    url: &str,
    synchronous: SqliteSynchronous,
    name: &str,
) -> anyhow::Result<DatabaseConnection> {
    let mut opts = ConnectOptions::new(url.to_owned());
    // Statements carry names and notes: never log them or put them in spans.
    opts.sqlx_logging(false)
        .record_stmt_in_spans(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10));
    if url.starts_with("sqlite:") {
        let sync = match synchronous {
            SqliteSynchronous::Full => SqlxSynchronous::Full,
            SqliteSynchronous::Normal => SqlxSynchronous::Normal,
        };
        opts.max_connections(sqlite_pool_size())
            .min_connections(1)
            .map_sqlx_sqlite_opts(move |o| {
                o.create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(sync)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
                    // Readers map the file instead of copying its pages:
                    // SQLite drops a connection's page cache whenever
                    // another wrote (every request writes its audit event),
                    // and re-reading through read() cost every read.
                    .pragma("mmap_size", MMAP_BYTES.to_string())
            });
    } else {
        opts.max_connections(16)
            .min_connections(1)
            .set_application_name(name);
    }
    let mut db = Database::connect(opts).await.with_context(|| {
        format!(
            "cannot open database `{}`",
            crate::config::mask_password(url)
        )
    })?;
    db.set_metric_callback(|_| count_statement());
    Ok(db)
}

tokio::task_local! {
    /// Who a statement is made for, when not a request: the audit writer's
    /// batches, or background work (checkpoints, the key sweep).
    static ON: &'static str;
}

/// Runs `work` as the audit writer's: its statements count as
/// `casework_db_statements_total{on="writer"}`.
pub async fn as_writer<F: std::future::Future>(work: F) -> F::Output {
    ON.scope("writer", work).await
}

/// Runs `work` as background work (`on="background"`), apart from requests.
pub async fn as_background<F: std::future::Future>(work: F) -> F::Output {
    ON.scope("background", work).await
}

/// Counts one statement sent to the database (the benchmark's budgets: a
/// read makes at most one or two outside the writer, a write none). Only the
/// number: never the statement, which carries names and notes.
pub fn count_statement() {
    crate::telemetry::statement(ON.try_with(|on| *on).unwrap_or("request"));
}

/// Starts a write transaction. On SQLite it takes the write lock at `BEGIN`
/// (`BEGIN IMMEDIATE`), so two writers never deadlock by both upgrading a read
/// lock; the second waits for the busy timeout instead.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let options = TransactionOptions {
        sqlite_transaction_mode: (db.get_database_backend() == DatabaseBackend::Sqlite)
            .then_some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    db.begin_with_options(options).await
}

pub async fn migrate_up(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

pub async fn migrate_down(db: &DatabaseConnection, steps: u32) -> Result<(), DbErr> {
    Migrator::down(db, Some(steps)).await
}

/// Names of migrations known to the code but not applied to the database.
pub async fn pending_migrations(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    Ok(Migrator::get_pending_migrations(db)
        .await?
        .iter()
        .map(|m| m.name().to_owned())
        .collect())
}

/// Readiness: the database answers and no migration is pending.
pub async fn ready(db: &DatabaseConnection) -> Result<(), String> {
    db.ping()
        .await
        .map_err(|_| "database unreachable".to_owned())?;
    let pending = pending_migrations(db)
        .await
        .map_err(|_| "cannot read migration state".to_owned())?;
    if pending.is_empty() {
        Ok(())
    } else {
        Err(format!("{} migration(s) pending", pending.len()))
    }
}

/// The change log's head: the sequence number of the newest change, 0 when
/// there is none. The writer numbers new changes after it; the sync feed
/// answers with it.
pub async fn change_head(db: &impl sea_orm::ConnectionTrait) -> Result<i64, DbErr> {
    use sea_orm::{
        EntityTrait, QuerySelect,
        sea_query::{Expr, ExprTrait},
    };
    let max = entities::change_log::Entity::find()
        .select_only()
        .expr(Expr::col(entities::change_log::Column::Seq).max())
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?;
    Ok(max.flatten().unwrap_or(0))
}
