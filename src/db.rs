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
    connect_url(&url, settings.sqlite_synchronous).await
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
            .set_application_name("casework");
    }
    let db = Database::connect(opts).await.with_context(|| {
        format!(
            "cannot open database `{}`",
            crate::config::mask_password(url)
        )
    })?;
    Ok(db)
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
