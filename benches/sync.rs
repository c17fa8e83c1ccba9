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

async fn post(
    client: &reqwest::Client,
    url: String,
    token: &str,
    body: Value,
) -> anyhow::Result<Value> {
    let resp = client
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?;
    anyhow::ensure!(resp.status() == 201, "seeding failed: {}", resp.status());
    Ok(resp.json().await?)
}

/// One case with everything a tablet would hold of it.
async fn seed_case(
    client: reqwest::Client,
    base: String,
    token: String,
    branch: Value,
    service: Value,
    i: usize,
) -> anyhow::Result<()> {
    let t = token.as_str();
    let patron = post(
        &client,
        format!("{base}/v1/patrons"),
        t,
        json!({"preferred_name": format!("Invented Person {i}"), "home_branch_id": branch}),
    )
    .await?;
    let patron = patron["patron"]["id"].clone();
    let case = post(
        &client,
        format!("{base}/v1/cases"),
        t,
        json!({"patron_id": patron}),
    )
    .await?;
    let case = case["id"].as_str().unwrap_or_default().to_owned();
    for (n, sensitivity) in ["standard", "standard", "restricted"].iter().enumerate() {
        post(&client, format!("{base}/v1/cases/{case}/notes"), t,
            json!({"body": format!("Invented note {n}: met at the library and talked through next steps."),
                   "sensitivity": sensitivity})).await?;
    }
    for _ in 0..3 {
        post(
            &client,
            format!("{base}/v1/contacts"),
            t,
            json!({"branch_id": branch, "patron_id": patron, "kind": "drop_in",
                   "needs": ["housing"], "note": "Invented contact note."}),
        )
        .await?;
    }
    let due = chrono::Utc::now().date_naive() + chrono::Duration::days(7);
    post(
        &client,
        format!("{base}/v1/follow-ups"),
        t,
        json!({"case_id": case, "due_on": due.to_string()}),
    )
    .await?;
    post(
        &client,
        format!("{base}/v1/referrals"),
        t,
        json!({"patron_id": patron, "case_id": case, "service_id": service}),
    )
    .await?;
    Ok(())
}

struct Synced {
    cursor: String,
    records: usize,
    pages: usize,
}

async fn sync(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    cursor: Option<String>,
) -> anyhow::Result<Synced> {
    let mut out = Synced {
        cursor: String::new(),
        records: 0,
        pages: 0,
    };
    let mut cursor = cursor;
    loop {
        let mut url = format!("{base}/v1/sync?limit=2000");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: Value = client
            .get(url)
            .bearer_auth(token)
            .send()
            .await?
            .json()
            .await?;
        out.pages += 1;
        out.records += page["items"].as_array().map_or(0, Vec::len);
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        if page["more"] != true {
            out.cursor = cursor.unwrap_or_default();
            return Ok(out);
        }
    }
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
            tasks.push(tokio::spawn(seed_case(
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
    let full = sync(&client, &base, &token, None).await?;
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
        let s = sync(&client, &base, &token, Some(full.cursor.clone())).await?;
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
        post(
            &client,
            format!("{base}/v1/cases/{case}/notes"),
            &token,
            json!({"body": "One more invented note."}),
        )
        .await?;
        let t = Instant::now();
        let s = sync(&client, &base, &token, Some(full.cursor.clone())).await?;
        println!(
            "incremental sync after one new note: {} record, {:.1} ms",
            s.records,
            ms(t.elapsed())
        );
    }
    Ok(())
}
