//! A tablet's sync, end to end.
//!
//! `cargo bench --bench sync` starts the release `casework` binary on a
//! fresh SQLite data directory (demo library, `synchronous=FULL`), then, as
//! the demo's social worker and through the API, seeds a caseload of 300
//! cases (each with its patron, three notes of which one restricted, three
//! contacts, a follow-up and a referral), and times: a first sync of the
//! whole caseload (pages of 2,000, until nothing more waits), an
//! incremental sync with nothing new (20 runs), and one after a single new
//! note. It prints records, pages, bytes on the wire (gzip) and times.
//! `CASEWORK_BENCH_DATABASE_URL=postgres://.../db` (an empty, disposable
//! database) runs the server on PostgreSQL.

mod common;

use std::time::{Duration, Instant};

use serde_json::{Value, json};

const CASES: usize = 300;
const WRITERS: usize = 8;

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn run() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let database = std::env::var("CASEWORK_BENCH_DATABASE_URL").unwrap_or_default();
    let backend = if database.is_empty() {
        "sqlite (synchronous=FULL)"
    } else {
        "postgresql"
    };
    let (_server, base) =
        common::start(dir.path(), &[("CASEWORK_DATABASE_URL", database.as_str())]).await?;
    let client = reqwest::Client::new();
    let login: Value = client
        .post(format!("{base}/v1/auth/login"))
        .json(&json!({"username": "social.worker", "password": "demo-social-worker-password", "device_name": "bench tablet"}))
        .send().await?.json().await?;
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
    let services: Value = client
        .get(format!("{base}/v1/services?q=pantry"))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    let service = services["items"][0]["id"].clone();

    let seeding = Instant::now();
    for chunk in (0..CASES).collect::<Vec<_>>().chunks(WRITERS) {
        let mut tasks = Vec::new();
        for &i in chunk {
            tasks.push(tokio::spawn(common::seed_case(
                client.clone(),
                base.clone(),
                token.clone(),
                branch.clone(),
                service.clone(),
                i,
            )));
        }
        for t in tasks {
            t.await??;
        }
    }
    println!("backend: {backend}");
    println!(
        "seeded {CASES} cases with their patrons, notes, contacts, follow-ups and referrals in {:.0} s",
        seeding.elapsed().as_secs_f64()
    );

    // On the wire: the first page as a tablet receives it (gzip).
    let raw = reqwest::Client::builder().no_gzip().build()?;
    let first_page = raw
        .get(format!("{base}/v1/sync?limit=2000"))
        .bearer_auth(&token)
        .header("accept-encoding", "gzip")
        .send()
        .await?;
    let compressed = first_page.bytes().await?.len();
    let plain = client
        .get(format!("{base}/v1/sync?limit=2000"))
        .bearer_auth(&token)
        .header("accept-encoding", "identity")
        .send()
        .await?
        .bytes()
        .await?
        .len();

    let t = Instant::now();
    let full = common::sync(&client, &base, &token, None).await?;
    let first = t.elapsed();
    println!(
        "first sync: {} records in {} pages, {:.0} ms (first page {plain} bytes, {compressed} gzip)",
        full.records,
        full.pages,
        ms(first)
    );

    let mut empty = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let s = common::sync(&client, &base, &token, Some(full.cursor.clone())).await?;
        empty.push(t.elapsed());
        anyhow::ensure!(s.records == 0, "an up-to-date tablet got records");
    }
    empty.sort();
    println!(
        "incremental sync, nothing new: p50 {:.1} ms, max {:.1} ms (20 runs)",
        ms(empty[empty.len() / 2]),
        ms(empty[empty.len() - 1])
    );

    let cases: Value = client
        .get(format!("{base}/v1/me/caseload?limit=1"))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    if let Some(case) = cases["items"][0]["case"]["id"].as_str() {
        common::post(
            &client,
            format!("{base}/v1/cases/{case}/notes"),
            &token,
            json!({"body": "One more invented note."}),
        )
        .await?;
        let t = Instant::now();
        let s = common::sync(&client, &base, &token, Some(full.cursor.clone())).await?;
        println!(
            "incremental sync after one new note: {} record, {:.1} ms",
            s.records,
            ms(t.elapsed())
        );
    }
    Ok(())
}
