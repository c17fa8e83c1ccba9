//! The single writer: every operation's unit of work commits here.
//!
//! A unit runs inside a savepoint of a shared transaction; what it did (its
//! changes, its audit events, its change-log rows and, for a POST with an
//! `Idempotency-Key`, the key and the record it answered with) commits
//! together, and many units share one commit (group commit: one flush for
//! the whole batch). A unit that fails is rolled back to its savepoint alone;
//! its denial or error event is still written. A unit that panics is caught
//! the same way: its caller gets an error, its event is written with the
//! outcome `error`. A response leaves only after the commit that holds its
//! events, so an access that could not be audited did not happen. If the
//! writer task itself dies it is started again; `/readyz` answers 503 while
//! it is down.

use std::{
    panic::AssertUnwindSafe,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use chrono::Utc;
use futures_util::{FutureExt, future::BoxFuture};

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, IntoActiveModel, TransactionTrait,
};
use tokio::sync::{Mutex, mpsc, oneshot};
use uuid::Uuid;

use super::{AuditContext, NewEvent, Outcome, chain_head, format_time, rollup, to_row, unit::Unit};
use crate::{clock::Clock, domain::RecordKind, error::ServiceError};
use entities::{audit_event_patron, change_log};

fn outcome_of<T>(result: &Result<T, ServiceError>) -> Outcome {
    match result {
        Ok(_) => Outcome::Allowed,
        Err(ServiceError::NotFound | ServiceError::Forbidden) => Outcome::Denied,
        Err(_) => Outcome::Error,
    }
}

/// What a finished unit hands back: whether its changes stand, and how to
/// tell its caller once the commit is known.
struct Finished {
    keep: bool,
    deliver: Box<dyn FnOnce(Option<ServiceError>) + Send>,
}

type Run = Box<dyn for<'u> FnOnce(&'u mut Unit) -> BoxFuture<'u, Finished> + Send>;

struct Job {
    ctx: AuditContext,
    /// The service's clock when the unit was submitted.
    now: chrono::DateTime<Utc>,
    work: Work,
}

enum Work {
    /// A unit of work: statements in a savepoint, and what it records.
    Unit(Run),
    /// Events alone (reads, searches, denials): no statement, no savepoint.
    Events(Vec<NewEvent>, Box<dyn FnOnce(Option<ServiceError>) + Send>),
}

/// Largest number of units that share one commit.
const MAX_BATCH: usize = 256;

/// Handle to the single writer task. Cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::Sender<Job>,
    running: Arc<AtomicBool>,
    clock: Clock,
}

impl Recorder {
    /// Starts the writer, and a supervisor that starts it again if it dies,
    /// on the current runtime.
    pub fn start(db: DatabaseConnection, clock: Clock) -> Recorder {
        Self::start_on(
            crate::db::WriterDb {
                db,
                explicit: false,
            },
            clock,
        )
    }

    /// The same on `w`.
    pub fn start_on(w: crate::db::WriterDb, clock: Clock) -> Recorder {
        let (tx, rx) = mpsc::channel::<Job>(4096);
        let rx = Arc::new(Mutex::new(rx));
        let running = Arc::new(AtomicBool::new(true));
        let flag = running.clone();
        let writer_clock = clock.clone();
        let explicit = w.explicit;
        let db = w.db;
        tokio::spawn(async move {
            loop {
                flag.store(true, Ordering::SeqCst);
                let writer = tokio::spawn(crate::db::as_writer(writer_loop(
                    db.clone(),
                    rx.clone(),
                    writer_clock.clone(),
                    explicit,
                )));
                match writer.await {
                    // The channel closed: every handle is gone.
                    Ok(()) => break,
                    Err(_) => {
                        flag.store(false, Ordering::SeqCst);
                        tracing::error!("the audit writer died; starting it again");
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    }
                }
            }
            flag.store(false, Ordering::SeqCst);
        });
        Recorder { tx, running, clock }
    }

    /// Whether the writer is up (for `/readyz`).
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::SeqCst) && !self.tx.is_closed()
    }

    /// Appends events on their own (reads, searches, denials) and returns
    /// once they are durable.
    pub async fn record(&self, events: Vec<NewEvent>) -> Result<(), ServiceError> {
        let (tx, rx) = oneshot::channel::<Result<(), ServiceError>>();
        let deliver = Box::new(move |commit_error: Option<ServiceError>| {
            let _ = tx.send(commit_error.map_or(Ok(()), Err));
        });
        self.submit(AuditContext::default(), Work::Events(events, deliver))
            .await?;
        rx.await
            .map_err(|_| ServiceError::Unexpected("audit events not written".into()))?
    }

    async fn submit(&self, ctx: AuditContext, work: Work) -> Result<(), ServiceError> {
        self.tx
            .send(Job {
                ctx,
                now: self.clock.now(),
                work,
            })
            .await
            .map_err(|_| ServiceError::Unexpected("audit writer stopped".into()))
    }

    /// Runs `work` as one unit: its statements, the events and change-log
    /// rows it leaves in the unit, all in one savepoint of the writer's
    /// transaction. When `work` fails its changes are undone, the events it
    /// recorded with [`Unit::record`] and its subject event (outcome denied or
    /// error) are still written, and its error is returned.
    pub async fn run<T, F>(&self, ctx: AuditContext, work: F) -> Result<T, ServiceError>
    where
        T: Send + 'static,
        F: for<'u> FnOnce(&'u mut Unit) -> BoxFuture<'u, Result<T, ServiceError>> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T, ServiceError>>();
        let run: Run = Box::new(move |unit| {
            Box::pin(async move {
                let result = work(unit).await;
                if let Err(ServiceError::Stale(current)) = &result {
                    unit.disclosed(current.as_ref());
                }
                unit.settle(outcome_of(&result));
                Finished {
                    keep: result.is_ok(),
                    deliver: Box::new(move |commit_error| {
                        let _ = tx.send(match commit_error {
                            Some(e) => Err(e),
                            None => result,
                        });
                    }),
                }
            })
        });
        self.submit(ctx, Work::Unit(run)).await?;
        // A unit that panicked drops its sender: the caller gets a 500.
        rx.await
            .map_err(|_| ServiceError::Unexpected("a unit of work failed".into()))?
    }

    /// Kills the writer task, as a bug in it would. Only for tests of its
    /// supervision.
    #[doc(hidden)]
    pub async fn crash_writer_for_tests(&self) {
        let _ = self
            .tx
            .send(Job {
                ctx: AuditContext::default(),
                now: self.clock.now(),
                work: Work::Unit(Box::new(|_| {
                    Box::pin(async { std::panic::panic_any(WriterCrash) })
                })),
            })
            .await;
    }
}

/// The panic payload that the writer does not catch.
struct WriterCrash;

async fn writer_loop(
    db: DatabaseConnection,
    rx: Arc<Mutex<mpsc::Receiver<Job>>>,
    clock: Clock,
    explicit: bool,
) {
    let mut rx = rx.lock().await;
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        // Let the requests that are ready run first, so that what they
        // submit shares this commit: a writer whose statements do not yield
        // (the calling-thread connection) would otherwise commit each unit
        // nearly alone, one flush each.
        if explicit {
            tokio::task::yield_now().await;
        }
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        crate::telemetry::writer_batch(batch.len(), rx.len());
        run_batch(&db, std::mem::take(&mut batch), &clock, explicit).await;
    }
}

fn batch_failed(done: Vec<Finished>, pending: Vec<Job>, err: &ServiceError) {
    // Units not yet run are dropped, which closes their channels; tell the
    // ones that ran what happened.
    drop(pending);
    for d in done {
        (d.deliver)(Some(ServiceError::Unexpected(err.to_string())));
    }
}

/// A transaction of the writer: with `explicit` (the calling-thread
/// connection) it is begun, committed and rolled back by statements, whose
/// errors the writer sees; otherwise by sea-orm's transaction.
struct Tx {
    txn: DatabaseTransaction,
    explicit: bool,
}

impl Tx {
    async fn begin(db: &DatabaseConnection, explicit: bool) -> Result<Tx, sea_orm::DbErr> {
        let txn = crate::db::begin_write(db).await?;
        if explicit {
            txn.execute_unprepared("BEGIN IMMEDIATE").await?;
        }
        Ok(Tx { txn, explicit })
    }

    async fn savepoint(&self) -> Result<Tx, sea_orm::DbErr> {
        let txn = self.txn.begin().await?;
        if self.explicit {
            txn.execute_unprepared("SAVEPOINT unit").await?;
        }
        Ok(Tx {
            txn,
            explicit: self.explicit,
        })
    }

    async fn commit(self, depth: Depth) -> Result<(), sea_orm::DbErr> {
        if self.explicit {
            self.txn
                .execute_unprepared(match depth {
                    Depth::Batch => "COMMIT",
                    Depth::Unit => "RELEASE unit",
                })
                .await?;
        }
        self.txn.commit().await
    }

    async fn rollback(self, depth: Depth) -> Result<(), sea_orm::DbErr> {
        if self.explicit {
            match depth {
                Depth::Batch => {
                    self.txn.execute_unprepared("ROLLBACK").await?;
                }
                Depth::Unit => {
                    self.txn.execute_unprepared("ROLLBACK TO unit").await?;
                    self.txn.execute_unprepared("RELEASE unit").await?;
                }
            }
        }
        self.txn.rollback().await
    }
}

#[derive(Clone, Copy)]
enum Depth {
    Batch,
    Unit,
}

async fn run_batch(db: &DatabaseConnection, batch: Vec<Job>, clock: &Clock, explicit: bool) {
    let txn = match Tx::begin(db, explicit).await {
        Ok(t) => t,
        Err(e) => {
            let err = ServiceError::unexpected("audit batch begin", e);
            batch_failed(Vec::new(), batch, &err);
            return;
        }
    };
    // Every unit runs first, each in its own savepoint; what they recorded
    // is appended after, under the chain lock, so that the lock is held for
    // the appends and the commit only (on PostgreSQL it is shared by every
    // instance), and each kind of row goes in with one statement a batch.
    let mut finished: Vec<Finished> = Vec::with_capacity(batch.len());
    let mut events = Vec::new();
    let mut changes = Vec::new();
    let mut jobs = batch.into_iter();
    while let Some(job) = jobs.next() {
        match run_job(&txn, job).await {
            Ok((done, evs, chs)) => {
                finished.push(done);
                events.extend(evs);
                changes.extend(chs);
            }
            Err(e) => {
                let _ = txn.rollback(Depth::Batch).await;
                batch_failed(finished, jobs.collect(), &e);
                return;
            }
        }
    }
    let written = events.len();
    if let Err(e) = append(&txn.txn, events, changes, clock).await {
        let _ = txn.rollback(Depth::Batch).await;
        batch_failed(
            finished,
            Vec::new(),
            &ServiceError::unexpected("audit append", e),
        );
        return;
    }
    let started = std::time::Instant::now();
    match txn.commit(Depth::Batch).await {
        Ok(()) => {
            crate::telemetry::writer_committed(started.elapsed(), written);
            for d in finished {
                (d.deliver)(None);
            }
        }
        Err(e) => batch_failed(
            finished,
            Vec::new(),
            &ServiceError::unexpected("audit commit", e),
        ),
    }
}

/// Rows a statement carries at most (SQLite allows 32,766 parameters).
const ROWS_PER_INSERT: usize = 1000;

/// Extends the chain with the batch's events, and the change log with its
/// changes, under the chain lock, recorded at the time `clock` reads then;
/// then the rollups.
async fn append(
    txn: &DatabaseTransaction,
    events: Vec<NewEvent>,
    changes: Vec<(RecordKind, Uuid)>,
    clock: &Clock,
) -> Result<(), sea_orm::DbErr> {
    if events.is_empty() && changes.is_empty() {
        return Ok(());
    }
    // The chain lock also orders the change log: its head is read under it.
    let (mut seq, mut prev_hash) = chain_head(txn).await?;
    let recorded_at = format_time(clock.now());
    let mut rows = Vec::with_capacity(events.len());
    let mut disclosed = Vec::with_capacity(events.len());
    let mut rolled = Vec::with_capacity(events.len());
    for ev in events {
        seq += 1;
        // Every patron the event is about, its own included: one index
        // finds all of a patron's events.
        let patrons = rollup::patrons_of(ev.patron_id, &ev.patron_ids);
        disclosed.extend(patrons.iter().map(|p| audit_event_patron::ActiveModel {
            patron_id: Set(*p),
            seq: Set(seq),
        }));
        let branches = ev.context.actor_branches.clone();
        let row = to_row(ev, seq, &recorded_at, &prev_hash);
        prev_hash = row.hash.clone();
        rolled.extend(rollup::Rolled::of(&row, branches, patrons));
        rows.push(row.into_active_model());
    }
    let mut change_rows = Vec::with_capacity(changes.len());
    if !changes.is_empty() {
        let mut next = crate::db::change_head(txn).await?;
        for (kind, id) in changes {
            next += 1;
            change_rows.push(change_log::ActiveModel {
                seq: Set(next),
                kind: Set(kind.as_str().to_owned()),
                record_id: Set(id),
                changed_at: Set(recorded_at.clone()),
            });
        }
    }
    insert_chunked(txn, rows).await?;
    insert_chunked(txn, disclosed).await?;
    insert_chunked(txn, change_rows).await?;
    rollup::add(txn, &rolled).await
}

async fn insert_chunked<A: ActiveModelTrait>(
    txn: &DatabaseTransaction,
    mut rows: Vec<A>,
) -> Result<(), sea_orm::DbErr> {
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(ROWS_PER_INSERT));
        A::Entity::insert_many(rows)
            .exec_without_returning(txn)
            .await?;
        rows = rest;
    }
    Ok(())
}

type Ran = (Finished, Vec<NewEvent>, Vec<(RecordKind, Uuid)>);

/// Runs one unit inside a savepoint; a failed or panicking unit leaves no
/// trace but its events. An error here means the shared transaction itself
/// broke.
async fn run_job(txn: &Tx, job: Job) -> Result<Ran, ServiceError> {
    let run = match job.work {
        Work::Unit(run) => run,
        Work::Events(events, deliver) => {
            let done = Finished {
                keep: true,
                deliver,
            };
            return Ok((done, events, Vec::new()));
        }
    };
    let savepoint = txn.savepoint().await?;
    let explicit = savepoint.explicit;
    let mut unit = Unit {
        txn: savepoint.txn,
        ctx: job.ctx,
        now: job.now,
        subject: None,
        always: Vec::new(),
        on_success: Vec::new(),
        changes: Vec::new(),
    };
    let outcome = AssertUnwindSafe(run(&mut unit)).catch_unwind().await;
    let finished = match outcome {
        Err(payload) if payload.is::<WriterCrash>() => std::panic::resume_unwind(payload),
        Err(_) => {
            tracing::error!("a unit of work panicked; its changes were rolled back");
            unit.settle(Outcome::Error);
            Finished {
                keep: false,
                // The unit's sender was dropped in the panic; its caller
                // sees an error.
                deliver: Box::new(|_| {}),
            }
        }
        Ok(f) => f,
    };
    let Unit {
        txn: savepoint,
        subject,
        mut always,
        on_success,
        changes,
        ..
    } = unit;
    always.extend(subject);
    let savepoint = Tx {
        txn: savepoint,
        explicit,
    };
    if finished.keep {
        savepoint.commit(Depth::Unit).await?;
        always.extend(on_success);
        Ok((finished, always, changes))
    } else {
        savepoint.rollback(Depth::Unit).await?;
        Ok((finished, always, Vec::new()))
    }
}
