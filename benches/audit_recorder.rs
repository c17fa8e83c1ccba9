//! Group-commit benchmark of the audit recorder.
//!
//! `cargo bench --bench audit_recorder` records audit events from many
//! concurrent callers into a fresh SQLite database at `synchronous=FULL`
//! (every commit flushed), and prints events per second and events per
//! commit. Set `CASEWORK_BENCH_DATABASE_URL` to a `postgres://.../db` URL
//! of an empty, disposable database to run it on PostgreSQL instead.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use casework::{
    audit::{Action, AuditContext, Outcome, Recorder},
    config::SqliteSynchronous,
    db,
};
use sea_orm::{ConnectionTrait, Statement};

const RUN_FOR: Duration = Duration::from_secs(3);

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    runtime.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = std::env::var("CASEWORK_BENCH_DATABASE_URL").unwrap_or_else(|_| {
        format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        )
    });
    let conn = db::connect_url(&url, SqliteSynchronous::Full).await?;
    db::migrate_up(&conn).await?;
    let recorder = Recorder::start(conn.clone(), casework::clock::Clock::default());
    println!(
        "backend: {}",
        if url.starts_with("sqlite") {
            "sqlite (synchronous=FULL)"
        } else {
            "postgresql"
        }
    );
    println!(
        "{:>12} {:>14} {:>18}",
        "callers", "events/s", "events per commit"
    );
    for callers in [1usize, 8, 64, 256] {
        let before = commits(&conn).await?;
        let done = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..callers {
            let recorder = recorder.clone();
            let done = done.clone();
            tasks.push(tokio::spawn(async move {
                let ctx = AuditContext {
                    actor_id: Some(uuid::Uuid::now_v7()),
                    ..Default::default()
                };
                while started.elapsed() < RUN_FOR {
                    let ev = ctx.event(Action::Read, Outcome::Allowed, "bench").record(
                        casework::domain::RecordKind::AuditEvent,
                        uuid::Uuid::now_v7(),
                    );
                    recorder.record(vec![ev]).await.expect("recorded");
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        for t in tasks {
            t.await?;
        }
        let elapsed = started.elapsed().as_secs_f64();
        let events = done.load(Ordering::Relaxed);
        let batches = commits(&conn).await? - before;
        println!(
            "{callers:>12} {:>14.0} {:>18.1}",
            events as f64 / elapsed,
            events as f64 / batches.max(1) as f64
        );
    }
    Ok(())
}

/// Events of one batch share their `recorded_at`; distinct values count commits.
async fn commits(conn: &sea_orm::DatabaseConnection) -> anyhow::Result<u64> {
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT COUNT(DISTINCT recorded_at) AS n FROM audit_event",
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no count"))?;
    Ok(row.try_get::<i64>("", "n")? as u64)
}
