//! Crash safety: an acknowledged write survives `kill -9`.
//!
//! The real binary (with the durability it ships with: SQLite
//! `synchronous = full`, or PostgreSQL) takes contacts from 16 concurrent
//! clients and is killed with SIGKILL while they are still sending, twice.
//! After a restart on the same database every contact that was answered
//! `201` is there, readable by its author, with the audit event of its
//! creation, and `casework audit verify --full` finds the chain intact.

use std::{
    collections::HashSet,
    process::Command,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use entities::{audit_event, contact};
use sea_orm::{ColumnTrait, Database, EntityTrait, QueryFilter, QuerySelect};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Served, TestDatabase, binary, demo_token, serve_binary};

const WRITERS: usize = 16;
const CYCLES: usize = 2;

/// The binary on `db`, with the default (full) SQLite synchronous setting.
fn casework(db: &TestDatabase) -> Command {
    let mut cmd = binary(db);
    cmd.env("RUST_LOG", "warn");
    cmd
}

/// `casework serve` with `args`, ready.
async fn serve(db: &TestDatabase, args: &[&str]) -> Served {
    let mut cmd = casework(db);
    cmd.arg("serve").args(args);
    serve_binary(cmd).await
}

/// Posts contacts as `token` until the connection fails; every `201` is
/// recorded with its author. Any other answer is recorded as unexpected.
async fn write_until_killed(
    client: reqwest::Client,
    base: String,
    author: usize,
    token: String,
    branch: String,
    acked: Arc<Mutex<Vec<(Uuid, usize)>>>,
    count: Arc<AtomicUsize>,
) -> Vec<u16> {
    let mut unexpected = Vec::new();
    loop {
        let sent = client
            .post(format!("{base}/v1/contacts"))
            .bearer_auth(&token)
            .header("Idempotency-Key", Uuid::now_v7().to_string())
            .json(&json!({
                "branch_id": branch,
                "kind": "drop_in",
                "duration_minutes": 5,
                "needs": ["food"],
                "note": "Invented visitor asked about the pantry (crash test)."
            }))
            .send()
            .await;
        let Ok(resp) = sent else { return unexpected };
        let status = resp.status().as_u16();
        if status != 201 {
            unexpected.push(status);
            continue;
        }
        let Ok(body) = resp.json::<Value>().await else {
            return unexpected;
        };
        let id = body["id"].as_str().unwrap().parse().unwrap();
        acked.lock().unwrap().push((id, author));
        count.fetch_add(1, Ordering::Relaxed);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_and_their_audit_survive_kill_9() {
    let started = Instant::now();
    let db = TestDatabase::create().await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let acked = Arc::new(Mutex::new(Vec::<(Uuid, usize)>::new()));
    let mut server = serve(&db, &["--demo"]).await;
    let base = server.base.clone();
    let authors = ["peer", "social.worker"];
    let mut tokens = Vec::new();
    for a in authors {
        tokens.push(demo_token(&client, &base, a).await);
    }
    let me: Value = client
        .get(format!("{base}/v1/me"))
        .bearer_auth(&tokens[0])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let branch = me["branches"][0].as_str().unwrap().to_owned();

    for cycle in 1..=CYCLES {
        if cycle > 1 {
            // A second start on the same database: no --demo, nothing seeded;
            // the sessions (and so the tokens) survived the crash too.
            server = serve(&db, &[]).await;
        }
        let count = Arc::new(AtomicUsize::new(0));
        let writers: Vec<_> = (0..WRITERS)
            .map(|i| {
                let author = i % authors.len();
                tokio::spawn(write_until_killed(
                    client.clone(),
                    server.base.clone(),
                    author,
                    tokens[author].clone(),
                    branch.clone(),
                    acked.clone(),
                    count.clone(),
                ))
            })
            .collect();
        let load = Instant::now();
        // Until 300 writes are acknowledged or 1.5 s have passed (at least one).
        loop {
            let n = count.load(Ordering::Relaxed);
            let t = load.elapsed();
            if n > 0 && (n >= 300 || t >= Duration::from_millis(1500)) || t.as_secs() >= 20 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let before_kill = count.load(Ordering::Relaxed);
        assert!(before_kill > 0, "no write was acknowledged before the kill");
        server.child.kill().unwrap(); // SIGKILL, mid-load
        server.child.wait().unwrap();
        let mut unexpected = Vec::new();
        for w in writers {
            unexpected.extend(w.await.unwrap());
        }
        assert!(unexpected.is_empty(), "non-201 answers: {unexpected:?}");
        eprintln!(
            "cycle {cycle}: {before_kill} acknowledged at the kill, {} in all, after {:?} of load",
            count.load(Ordering::Relaxed),
            load.elapsed()
        );
    }

    // The restart itself refuses a broken chain (since the last checkpoint).
    let mut server = serve(&db, &[]).await;
    let acked = acked.lock().unwrap().clone();
    let ids: HashSet<Uuid> = acked.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids.len(), acked.len(), "every acknowledged id is new");

    // A sample through the API, each read by its author.
    for (id, author) in acked.iter().step_by((acked.len() / 50).max(1)) {
        let resp = client
            .get(format!("{}/v1/contacts/{id}", server.base))
            .bearer_auth(&tokens[*author])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "acknowledged contact {id} is readable");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["id"], id.to_string());
    }

    // All of them in the database, each with the audit event of its creation.
    let conn = Database::connect(&db.url).await.unwrap();
    let stored: HashSet<Uuid> = contact::Entity::find()
        .select_only()
        .column(contact::Column::Id)
        .into_tuple()
        .all(&conn)
        .await
        .unwrap()
        .into_iter()
        .collect();
    let audited: HashSet<Uuid> = audit_event::Entity::find()
        .select_only()
        .column(audit_event::Column::RecordId)
        .filter(audit_event::Column::Action.eq("create"))
        .filter(audit_event::Column::RecordType.eq("contact"))
        .filter(audit_event::Column::Outcome.eq("allowed"))
        .into_tuple::<Option<Uuid>>()
        .all(&conn)
        .await
        .unwrap()
        .into_iter()
        .flatten()
        .collect();
    conn.close().await.unwrap();
    let mut lost: Vec<_> = ids.difference(&stored).collect();
    lost.sort();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    let mut unaudited: Vec<_> = ids.difference(&audited).collect();
    unaudited.sort();
    assert!(
        unaudited.is_empty(),
        "acknowledged, no audit event: {unaudited:?}"
    );
    eprintln!(
        "{} acknowledged; {} contacts and {} contact-create events in the database",
        ids.len(),
        stored.len(),
        audited.len()
    );

    // A graceful stop, then the whole chain and every checkpoint.
    Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(server.child.wait().unwrap().success());
    let verify = casework(&db)
        .args(["audit", "verify", "--full"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&verify.stdout);
    assert!(
        verify.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(out.contains("audit chain intact in full"), "{out}");
    eprintln!("{}; {:?} in all", out.trim(), started.elapsed());
}
