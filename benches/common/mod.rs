//! The release server as the end-to-end benchmarks run it, and what they
//! share: seeding through the API, the server's CPU time.

// Each benchmark uses part of this module.
#![allow(dead_code)]

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::{Value, json};

/// The running server, killed when dropped, and where its metrics are.
pub struct Server(pub Child, pub String);

impl Server {
    /// Stops the server as an operator would (SIGTERM: requests in flight
    /// finish, the final audit checkpoint is written) and waits for it.
    pub fn stop(mut self) -> anyhow::Result<()> {
        let status = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()?;
        anyhow::ensure!(status.success(), "kill -TERM failed");
        let exit = self.0.wait()?;
        anyhow::ensure!(exit.success(), "the server stopped with {exit}");
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the release `casework serve --demo` on a fresh data directory and
/// a free loopback port, with `env` set (empty values unset nothing), and
/// waits until it is ready. Returns the server and its base URL.
pub async fn start(
    data_dir: &std::path::Path,
    env: &[(&str, &str)],
) -> anyhow::Result<(Server, String)> {
    start_on(data_dir, env, None).await
}

/// The same, with the server's threads kept to one CPU core (`taskset`)
/// when `cpu` is given: the runtime then sizes itself for that one core.
pub async fn start_on(
    data_dir: &std::path::Path,
    env: &[(&str, &str)],
    cpu: Option<usize>,
) -> anyhow::Result<(Server, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let metrics_port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let binary = env!("CARGO_BIN_EXE_casework");
    let mut cmd = match cpu {
        Some(core) => {
            let mut c = Command::new("taskset");
            c.args(["-c", &core.to_string(), binary]);
            c
        }
        None => Command::new(binary),
    };
    // `BENCH_SERVER_LOG=FILE` keeps the servers' warnings and errors.
    let log = match std::env::var_os("BENCH_SERVER_LOG") {
        Some(path) => Stdio::from(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?,
        ),
        None => Stdio::null(),
    };
    cmd.args(["serve", "--demo"])
        .env("CASEWORK_DATA_DIR", data_dir)
        .env("CASEWORK_LISTEN", format!("127.0.0.1:{port}"))
        .env(
            "CASEWORK_METRICS_LISTEN",
            format!("127.0.0.1:{metrics_port}"),
        )
        .env("RUST_LOG", "warn")
        .stdout(log);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let server = Server(
        cmd.spawn()?,
        format!("http://127.0.0.1:{metrics_port}/metrics"),
    );
    let client = reqwest::Client::new();
    let started = Instant::now();
    while client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .map(|r| r.status() != 200)
        .unwrap_or(true)
    {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(60),
            "server did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok((server, base))
}

/// The server's database statements so far, by whom they were made for,
/// and the audit writer's batches and units (from its `/metrics`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Statements {
    pub request: f64,
    pub writer: f64,
    pub background: f64,
    pub batches: f64,
    pub units: f64,
}

pub async fn statements(client: &reqwest::Client, metrics: &str) -> anyhow::Result<Statements> {
    let text = client
        .get(metrics)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    Ok(Statements {
        request: value("casework_db_statements_total{on=\"request\"}"),
        writer: value("casework_db_statements_total{on=\"writer\"}"),
        background: value("casework_db_statements_total{on=\"background\"}"),
        batches: value("casework_writer_batches_total"),
        units: value("casework_writer_units_total"),
    })
}

impl std::ops::Sub for Statements {
    type Output = Statements;
    fn sub(self, o: Statements) -> Statements {
        Statements {
            request: self.request - o.request,
            writer: self.writer - o.writer,
            background: self.background - o.background,
            batches: self.batches - o.batches,
            units: self.units - o.units,
        }
    }
}

/// utime + stime of a process, in seconds (Linux: from /proc).
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

/// Signs in and returns the access token.
pub async fn login(
    client: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
    device: &str,
) -> anyhow::Result<String> {
    let resp = client
        .post(format!("{base}/v1/auth/login"))
        .json(&json!({"username": username, "password": password, "device_name": device}))
        .send()
        .await?;
    anyhow::ensure!(resp.status() == 200, "sign-in failed: {}", resp.status());
    let v: Value = resp.json().await?;
    Ok(v["access_token"].as_str().unwrap_or_default().to_owned())
}

/// A GET that must answer 200; its JSON.
pub async fn get(client: &reqwest::Client, url: String, token: &str) -> anyhow::Result<Value> {
    let resp = client.get(url).bearer_auth(token).send().await?;
    anyhow::ensure!(resp.status() == 200, "read failed: {}", resp.status());
    Ok(resp.json().await?)
}

/// A POST that must answer 201; its JSON.
pub async fn post(
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

/// One case with everything a tablet would hold of it: its patron, three
/// notes of which one restricted, three contacts, a follow-up and a
/// referral.
pub async fn seed_case(
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

/// What a tablet's sync fetched: its cursor, and how much.
pub struct Synced {
    pub cursor: String,
    pub records: usize,
    pub pages: usize,
}

/// Syncs from `cursor` (none: a first sync) until nothing more waits.
pub async fn sync(
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
        let page = get(client, url, token).await?;
        out.pages += 1;
        out.records += page["items"].as_array().map_or(0, Vec::len);
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        if page["more"] != true {
            out.cursor = cursor.unwrap_or_default();
            return Ok(out);
        }
    }
}
