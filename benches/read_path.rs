//! The audited single-record read, end to end.
//!
//! `cargo bench --bench read_path` starts the release `casework` binary on a
//! fresh SQLite data directory (demo library, `synchronous=FULL`), creates
//! 200 patrons, then has 64 concurrent clients read random ones
//! (`GET /v1/patrons/{id}`: token check, policy, audit event, response) for
//! 5 seconds. It prints reads per second, latency, and the server process's
//! CPU time per read (from /proc, so Linux only).

mod common;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use serde_json::{Value, json};

const CLIENTS: usize = 64;
const RUN_FOR: Duration = Duration::from_secs(5);

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, base) = common::start(dir.path(), &[]).await?;
    let client = reqwest::Client::new();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let login: Value = client
        .post(format!("{base}/v1/auth/login"))
        .json(&json!({"username": "social.worker", "password": "demo-social-worker-password", "device_name": "bench"}))
        .send()
        .await?
        .json()
        .await?;
    let token = login["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let me: Value = client
        .get(format!("{base}/v1/me"))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    let branch = me["branches"][0].clone();
    let mut ids = Vec::new();
    for i in 0..200 {
        let v: Value = client
            .post(format!("{base}/v1/patrons"))
            .bearer_auth(&token)
            .json(&json!({"preferred_name": format!("Bench Person {i}"), "home_branch_id": branch}))
            .send()
            .await?
            .json()
            .await?;
        ids.push(v["patron"]["id"].as_str().unwrap_or_default().to_owned());
    }
    let ids = Arc::new(ids);
    let pid = server.0.id();
    let cpu_before = common::cpu_seconds(pid);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (client, token, ids, base) = (client.clone(), token.clone(), ids.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut i = c;
            while started.elapsed() < RUN_FOR {
                let t = Instant::now();
                let resp = client
                    .get(format!("{base}/v1/patrons/{}", ids[i % ids.len()]))
                    .bearer_auth(&token)
                    .send()
                    .await;
                assert!(
                    resp.map(|r| r.status() == 200).unwrap_or(false),
                    "read failed"
                );
                latencies.push(t.elapsed());
                i += 7;
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await?);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = common::cpu_seconds(pid) - cpu_before;
    latencies.sort();
    let n = latencies.len();
    println!(
        "audited reads: {n} in {elapsed:.1} s = {:.0}/s with {CLIENTS} clients",
        n as f64 / elapsed
    );
    println!(
        "latency p50 {:.2} ms, p99 {:.2} ms",
        latencies[n / 2].as_secs_f64() * 1000.0,
        latencies[n * 99 / 100].as_secs_f64() * 1000.0
    );
    println!("server CPU per read: {:.3} ms", cpu * 1000.0 / n as f64);
    Ok(())
}
