//! `casework backup` while the service takes writes and signs checkpoints,
//! then `casework restore` into an empty data directory: the chain and every
//! restored checkpoint verify, and every write acknowledged before the
//! backup began is there.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use crate::helpers::{TestDatabase, binary, demo_token, serve_binary};

async fn run(mut cmd: std::process::Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

fn lines(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn a_backup_under_write_load_restores_every_acknowledged_write_with_its_checkpoints() {
    let source = TestDatabase::create().await;
    let served = serve_binary({
        let mut cmd = binary(&source);
        cmd.args(["serve", "--demo"]).env("RUST_LOG", "warn");
        cmd
    })
    .await;
    let base = served.base.clone();
    let client = reqwest::Client::new();
    let peer = demo_token(&client, &base, "peer").await;
    let auditor = demo_token(&client, &base, "auditor").await;
    let patrons: Value = client
        .get(format!("{base}/v1/patrons?limit=1"))
        .bearer_auth(&peer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let patron = patrons["items"][0]["id"].as_str().unwrap().to_owned();
    let branch = patrons["items"][0]["home_branch_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Writers, each keeping what was acknowledged and when; an auditor
    // signing checkpoints all along, so some are made after the copy.
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
    let mut tasks = Vec::new();
    for w in 0..3 {
        let (client, base, peer) = (client.clone(), base.clone(), peer.clone());
        let (patron, branch) = (patron.clone(), branch.clone());
        let (stop, acked) = (stop.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                i += 1;
                let resp = client
                    .post(format!("{base}/v1/contacts"))
                    .bearer_auth(&peer)
                    .header("Idempotency-Key", format!("backup-{w}-{i}"))
                    .json(
                        &json!({"branch_id": branch, "patron_id": patron, "kind": "drop_in",
                                  "duration_minutes": 5, "needs": ["food"]}),
                    )
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 201);
                let body: Value = resp.json().await.unwrap();
                let id = body["id"].as_str().unwrap().to_owned();
                acked.lock().unwrap().push((Instant::now(), id));
            }
        }));
    }
    {
        let (client, base, auditor, stop) =
            (client.clone(), base.clone(), auditor.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let resp = client
                    .get(format!("{base}/v1/audit/receipt"))
                    .bearer_auth(&auditor)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 200);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let file = source.data_dir.path().join("..").join(format!(
        "casework-backup-{}.tar",
        uuid::Uuid::now_v7().simple()
    ));
    let began = Instant::now();
    let out = run({
        let mut cmd = binary(&source);
        cmd.arg("backup").arg(&file);
        cmd
    })
    .await;
    assert!(
        out.status.success(),
        "backup: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(said.contains("signed checkpoints"), "{said}");
    // The writes go on a little after the copy.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::SeqCst);
    for t in tasks {
        t.await.unwrap();
    }
    let before: Vec<String> = acked
        .lock()
        .unwrap()
        .iter()
        .filter(|(at, _)| *at < began)
        .map(|(_, id)| id.clone())
        .collect();
    let after = acked.lock().unwrap().len() - before.len();
    assert!(
        before.len() >= 20,
        "only {} writes before the backup",
        before.len()
    );
    assert!(after > 0, "no write during or after the backup");
    let original = lines(&source.data_dir.path().join("audit-checkpoints.jsonl"));
    drop(served);

    // Into an empty data directory (and database).
    let target = TestDatabase::create().await;
    let out = run({
        let mut cmd = binary(&target);
        cmd.arg("restore").arg(&file);
        cmd
    })
    .await;
    assert!(
        out.status.success(),
        "restore: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("audit chain intact in full"));

    // The restored checkpoints are the first of the original ones, signed
    // as they were, and the whole chain verifies against them.
    let restored = lines(&target.data_dir.path().join("audit-checkpoints.jsonl"));
    assert!(!restored.is_empty(), "no checkpoint restored");
    assert!(restored.len() <= original.len());
    assert_eq!(restored[..], original[..restored.len()]);
    let verify = run({
        let mut cmd = binary(&target);
        cmd.args(["audit", "verify"]);
        cmd
    })
    .await;
    assert!(
        verify.status.success(),
        "verify: {}",
        String::from_utf8_lossy(&verify.stderr)
    );

    // Every write acknowledged before the backup began is there.
    let restored_server = serve_binary({
        let mut cmd = binary(&target);
        cmd.arg("serve").env("RUST_LOG", "warn");
        cmd
    })
    .await;
    let rbase = restored_server.base.clone();
    let peer = demo_token(&client, &rbase, "peer").await;
    for id in &before {
        let resp = client
            .get(format!("{rbase}/v1/contacts/{id}"))
            .bearer_auth(&peer)
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            200,
            "contact {id} acknowledged before the backup"
        );
    }
    drop(restored_server);

    // A restore never goes over a data directory in use.
    let again = run({
        let mut cmd = binary(&target);
        cmd.arg("restore").arg(&file);
        cmd
    })
    .await;
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));
    // Nor does a backup overwrite a file.
    let twice = run({
        let mut cmd = binary(&source);
        cmd.arg("backup").arg(&file);
        cmd
    })
    .await;
    assert!(!twice.status.success());
    let _ = std::fs::remove_file(&file);
}
