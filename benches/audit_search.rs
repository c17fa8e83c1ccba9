//! The auditors' workbench at scale.
//!
//! `cargo bench --bench audit_search` seeds one million audit events (reads
//! and list disclosures of 10,000 patrons by 50 staff, with some refusals
//! and failed sign-ins) into a fresh SQLite database at `synchronous=FULL`,
//! then times, through the same service functions the API calls: one
//! patron's last 30 days, one actor's day, the disclosures report for one
//! patron, each anomaly view, and a full export. `BENCH_EVENTS=200000`
//! seeds fewer; `CASEWORK_BENCH_DATABASE_URL=postgres://.../db` (an empty,
//! disposable database) runs it on PostgreSQL; `BENCH_DATA_DIR=` (an empty
//! directory) keeps the SQLite database.

use std::time::{Duration, Instant};

use casework::{
    access::Actor,
    audit::{Action, AuditContext, Outcome, RequestMeta},
    config::{Settings, SqliteSynchronous},
    domain::{RecordKind, Role},
    oversight::{
        anomalies::{self, AnomalyKind},
        audit_review::{self, EventFilter},
    },
    state::AppState,
};
use futures_util::StreamExt;
use uuid::Uuid;

const PATRONS: usize = 10_000;
const STAFF: usize = 50;
const SAMPLES: usize = 20;

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    runtime.block_on(run())
}

/// A patron index for the `n`th event, spread evenly (Fibonacci hashing).
fn spread(n: usize) -> usize {
    ((n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as usize % PATRONS
}

/// Two branches, a staff member who registered everyone, and the patrons:
/// one in a hundred belongs to the second branch, so that reads of them by
/// staff of the first are flagged.
async fn seed_patrons(state: &AppState, patrons: &[Uuid]) -> anyhow::Result<(Uuid, Uuid)> {
    use entities::{branch, patron, staff};
    use sea_orm::{ActiveValue::Set, EntityTrait};
    let now = chrono::Utc::now();
    let branches = [Uuid::now_v7(), Uuid::now_v7()];
    for (id, code) in branches.iter().zip(["MAIN", "EAST"]) {
        branch::Entity::insert(branch::ActiveModel {
            id: Set(*id),
            code: Set(code.into()),
            name: Set(format!("{code} branch")),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(None),
        })
        .exec(&state.db)
        .await?;
    }
    let registrar = Uuid::now_v7();
    staff::Entity::insert(staff::ActiveModel {
        id: Set(registrar),
        username: Set("bench.registrar".into()),
        display_name: Set("Bench Registrar".into()),
        role: Set(Role::Admin.as_str().into()),
        active: Set(true),
        password_hash: Set("!".into()),
        must_change_password: Set(false),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        created_by: Set(None),
        password_sign_in: Set(true),
        ..Default::default()
    })
    .exec(&state.db)
    .await?;
    for (i, chunk) in patrons.chunks(1000).enumerate() {
        patron::Entity::insert_many(chunk.iter().enumerate().map(|(j, id)| patron::ActiveModel {
            id: Set(*id),
            preferred_name: Set(format!("Invented Patron {}", i * 1000 + j)),
            legal_name: Set(None),
            birth_year: Set(None),
            birth_date: Set(None),
            language: Set(None),
            contact_preference: Set(None),
            do_not_contact: Set(false),
            home_branch_id: Set(branches[usize::from((i * 1000 + j) % 100 == 0)]),
            version: Set(1),
            created_by: Set(registrar),
            created_at: Set(now),
            updated_at: Set(now),
        }))
        .exec(&state.db)
        .await?;
    }
    Ok((branches[0], branches[1]))
}

fn p(durations: &mut [Duration], q: f64) -> f64 {
    durations.sort();
    let i = ((durations.len() as f64 - 1.0) * q).round() as usize;
    durations[i].as_secs_f64() * 1000.0
}

async fn time<F, Fut>(name: &str, mut f: F) -> anyhow::Result<()>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<usize>>,
{
    let mut took = Vec::new();
    let mut rows = 0;
    for i in 0..SAMPLES {
        let t = Instant::now();
        rows = f(i).await?;
        took.push(t.elapsed());
    }
    println!(
        "{name:<40} p50 {:>8.1} ms  p99 {:>8.1} ms  ({rows} rows)",
        p(&mut took, 0.5),
        p(&mut took, 0.99)
    );
    Ok(())
}

async fn run() -> anyhow::Result<()> {
    let events: usize = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let settings = Settings {
        // `BENCH_DATA_DIR=` keeps the SQLite database there, to look at.
        data_dir: std::env::var_os("BENCH_DATA_DIR")
            .map_or_else(|| dir.path().to_path_buf(), Into::into),
        database_url: std::env::var("CASEWORK_BENCH_DATABASE_URL").unwrap_or_default(),
        sqlite_synchronous: SqliteSynchronous::Full,
        signing_key: "bench-signing-key-0123456789abcdef-0123456789".into(),
        ..Settings::default()
    };
    let backend = if settings.database_url.starts_with("postgres") {
        "postgresql"
    } else {
        "sqlite (synchronous=FULL)"
    };
    let state = AppState::open(settings).await?;
    let patrons: Vec<Uuid> = (0..PATRONS).map(|_| Uuid::now_v7()).collect();
    let staff: Vec<Uuid> = (0..STAFF).map(|_| Uuid::now_v7()).collect();
    let (branch, other) = seed_patrons(&state, &patrons).await?;

    let seeding = Instant::now();
    let mut made = 0usize;
    let mut n = 0usize;
    while made < events {
        let batch: Vec<_> = (0..1000.min(events - made))
            .map(|_| {
                n += 1;
                let actor = staff[(n / 50 + n) % STAFF];
                let ctx = AuditContext {
                    actor_id: Some(actor),
                    actor_role: Some(Role::SocialWorker),
                    // A few work at both branches.
                    actor_branches: if actor.as_u128().is_multiple_of(10) {
                        vec![branch, other]
                    } else {
                        vec![branch]
                    },
                    client_addr: Some(format!("10.0.{}.{}", n % 7, n % 250)),
                    ..Default::default()
                };
                let patron = patrons[spread(n)];
                match n % 50 {
                    // A list that disclosed five patrons.
                    0..=4 => ctx
                        .event(Action::Search, Outcome::Allowed, "bench")
                        .record_type(RecordKind::Patron)
                        .patrons((0..5).map(|k| patrons[spread(n * 5 + k)])),
                    5 => ctx
                        .event(Action::Read, Outcome::Denied, "bench_denied")
                        .record(RecordKind::Case, Uuid::now_v7())
                        .patron(Some(patron)),
                    6 => AuditContext {
                        client_addr: ctx.client_addr.clone(),
                        ..Default::default()
                    }
                    .event(Action::LoginFailed, Outcome::Denied, "bad_credentials")
                    .record(RecordKind::Staff, actor),
                    _ => ctx
                        .event(Action::Read, Outcome::Allowed, "bench")
                        .record(RecordKind::Contact, Uuid::now_v7())
                        .patron(Some(patron)),
                }
            })
            .collect();
        made += batch.len();
        state.recorder.record(batch).await?;
    }
    let seeded = seeding.elapsed().as_secs_f64();
    if backend == "postgresql" {
        // What autovacuum does within a minute of a bulk load: without
        // statistics the planner takes "allowed" for a rare outcome.
        use sea_orm::ConnectionTrait;
        state.db.execute_unprepared("ANALYZE").await?;
    }
    println!("backend: {backend}");
    println!(
        "seeded {events} events ({PATRONS} patrons, {STAFF} staff) in {seeded:.0} s ({:.0} events/s)",
        events as f64 / seeded
    );

    let auditor = Actor {
        staff_id: Uuid::now_v7(),
        role: Role::Auditor,
        branches: vec![],
        session_id: Uuid::now_v7(),
        must_change_password: false,
    };
    let meta = RequestMeta::default();
    let now = chrono::Utc::now();
    let month = now - chrono::Duration::days(30);
    let (st, a, m) = (&state, &auditor, &meta);
    let (patrons, staff) = (&patrons, &staff);

    time("one patron's 30 days (first page)", |i| async move {
        let filter = EventFilter {
            patron_id: Some(patrons[i * 37 % PATRONS]),
            from: Some(month),
            ..Default::default()
        };
        Ok(audit_review::list(st, a, m, filter, None, 50)
            .await?
            .events
            .len())
    })
    .await?;
    time("one actor's day (first page)", |i| async move {
        let filter = EventFilter {
            actor_id: Some(staff[i % STAFF]),
            from: Some(now - chrono::Duration::days(1)),
            ..Default::default()
        };
        Ok(audit_review::list(st, a, m, filter, None, 50)
            .await?
            .events
            .len())
    })
    .await?;
    time("disclosures of one patron, 30 days", |i| async move {
        Ok(
            audit_review::disclosures(st, a, m, patrons[i * 101 % PATRONS], Some(month), None)
                .await?
                .len(),
        )
    })
    .await?;
    for (name, kind) in [
        ("anomalies: denied by actor", AnomalyKind::DeniedByActor),
        (
            "anomalies: many patrons in a day",
            AnomalyKind::ManyPatronsInADay,
        ),
        (
            "anomalies: outside the actor's branches",
            AnomalyKind::OutsideBranches,
        ),
        (
            "anomalies: failed sign-ins by account",
            AnomalyKind::FailedSignInsByAccount,
        ),
        (
            "anomalies: failed sign-ins by address",
            AnomalyKind::FailedSignInsByAddress,
        ),
        (
            "anomalies: break-glass unreviewed",
            AnomalyKind::BreakGlassUnreviewed,
        ),
    ] {
        time(name, |_| async move {
            Ok(anomalies::view(st, a, m, kind, Some(month), None, None)
                .await?
                .len())
        })
        .await?;
    }
    let t = Instant::now();
    let mut pages = std::pin::pin!(audit_review::export(st, a, m, EventFilter::default()).await?);
    let mut exported = 0usize;
    while let Some(page) = pages.next().await {
        exported += page?.len();
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{:<40} {exported} events in {secs:.1} s ({:.0} events/s)",
        "export, everything",
        exported as f64 / secs
    );
    // What `casework audit verify` does by default: the whole chain.
    let t = Instant::now();
    let verified = state.checkpoints.verify(&state.db, true).await?;
    let secs = t.elapsed().as_secs_f64();
    anyhow::ensure!(
        matches!(verified, casework::audit::Verification::Intact { .. }),
        "the chain does not verify: {verified:?}"
    );
    println!(
        "{:<40} {events} events in {secs:.1} s ({:.0} events/s)",
        "audit verify, the whole chain",
        events as f64 / secs
    );
    Ok(())
}
