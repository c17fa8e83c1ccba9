//! `metrics_listen`: the statements the service makes, counted, and the
//! budgets the benchmark holds it to, checked here one request at a time
//! on the real binary: a single-record read or a denial makes at most one
//! statement outside the audit writer, a list at most two, a write none.

use serde_json::{Value, json};

use crate::helpers::{Served, TestDatabase, binary, demo_token, free_port, serve_binary};

struct Server {
    served: Served,
    metrics: String,
}

async fn serve(db: &TestDatabase) -> Server {
    let metrics = free_port();
    let mut cmd = binary(db);
    cmd.args(["serve", "--demo"])
        .env("CASEWORK_METRICS_LISTEN", format!("127.0.0.1:{metrics}"))
        .env("RUST_LOG", "warn");
    Server {
        served: serve_binary(cmd).await,
        metrics: format!("http://127.0.0.1:{metrics}/metrics"),
    }
}

async fn get_json(client: &reqwest::Client, url: String, token: &str) -> Value {
    client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn scrape(client: &reqwest::Client, server: &Server) -> String {
    client
        .get(&server.metrics)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// A counter of the scrape, 0 when absent.
fn counter(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or(0.0)
}

async fn request_statements(client: &reqwest::Client, server: &Server) -> f64 {
    let text = scrape(client, server).await;
    counter(&text, "casework_db_statements_total{on=\"request\"}")
}

/// Statements made outside the writer by `n` requests made one after the
/// other (each answered `status`), a mean per request. The caller is read
/// again every 2 s, so a run may include one such load.
async fn per_request(
    client: &reqwest::Client,
    server: &Server,
    n: usize,
    request: impl Fn(usize) -> reqwest::RequestBuilder,
    status: u16,
) -> f64 {
    // Once first: the caller's session is then cached.
    assert_eq!(request(n).send().await.unwrap().status(), status);
    let before = request_statements(client, server).await;
    for i in 0..n {
        assert_eq!(request(i).send().await.unwrap().status(), status);
    }
    let after = request_statements(client, server).await;
    (after - before) / n as f64
}

#[tokio::test]
async fn reads_lists_denials_and_writes_keep_their_statement_budgets() {
    let db = TestDatabase::create().await;
    let server = serve(&db).await;
    let client = reqwest::Client::new();
    let base = server.served.base.clone();
    let peer = demo_token(&client, &base, "peer").await;
    let security = demo_token(&client, &base, "security").await;

    // The peer's own contacts, written through the API (no statement
    // outside the writer).
    let patrons = get_json(&client, format!("{base}/v1/patrons?limit=5"), &peer).await;
    let patron = patrons["items"][0]["id"].as_str().unwrap().to_owned();
    let branch = patrons["items"][0]["home_branch_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let write = |i: usize| {
        client
            .post(format!("{base}/v1/contacts"))
            .bearer_auth(&peer)
            .header("Idempotency-Key", format!("metrics-{i}"))
            .json(
                &json!({"branch_id": branch, "patron_id": patron, "kind": "drop_in",
                "duration_minutes": 10, "needs": ["food"], "note": "Invented: a short visit."}),
            )
    };
    let writes = per_request(&client, &server, 10, write, 201).await;
    assert!(
        writes < 0.5,
        "a write makes no statement outside the writer: {writes}"
    );

    let list = get_json(&client, format!("{base}/v1/me/contacts?limit=25"), &peer).await;
    let ids: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(ids.len() >= 10);

    let read = |i: usize| {
        client
            .get(format!("{base}/v1/contacts/{}", ids[i % ids.len()]))
            .bearer_auth(&peer)
    };
    let reads = per_request(&client, &server, 20, read, 200).await;
    assert!(reads <= 1.2, "a single read: {reads} statements a request");

    let lists = |_| {
        client
            .get(format!("{base}/v1/me/contacts?limit=25"))
            .bearer_auth(&peer)
    };
    let listed = per_request(&client, &server, 20, lists, 200).await;
    assert!(listed <= 2.2, "a list: {listed} statements a request");

    let denied = |_| {
        client
            .get(format!("{base}/v1/me/contacts?limit=25"))
            .bearer_auth(&security)
    };
    let denials = per_request(&client, &server, 20, denied, 403).await;
    assert!(denials <= 1.2, "a denial: {denials} statements a request");

    // Counts only: nothing of the records is in the scrape.
    let text = scrape(&client, &server).await;
    assert!(counter(&text, "casework_writer_batches_total") > 0.0);
    assert!(
        counter(&text, "casework_writer_units_total")
            >= counter(&text, "casework_writer_batches_total")
    );
    assert!(counter(&text, "casework_db_statements_total{on=\"writer\"}") > 0.0);
    for id in ids.iter().chain([&patron, &branch]) {
        assert!(!text.contains(id.as_str()));
    }
    assert!(!text.contains("Invented"));
}

/// The value of the first sample of `family` whose labels hold every one of
/// `labels`, 0 when there is none.
fn sample(text: &str, family: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            let (metric, rest) = name.split_once('{').unwrap_or((name, ""));
            (metric == family && labels.iter().all(|want| rest.contains(want)))
                .then(|| value.parse().ok())
                .flatten()
        })
        .next()
        .unwrap_or(0.0)
}

#[tokio::test]
async fn the_scrape_names_operations_statuses_the_writer_the_chain_and_sign_ins() {
    let db = TestDatabase::create().await;
    let server = serve(&db).await;
    let client = reqwest::Client::new();
    let base = server.served.base.clone();
    let peer = demo_token(&client, &base, "peer").await;
    let auditor = demo_token(&client, &base, "auditor").await;

    // A read and its conditional repeat.
    let patrons = get_json(&client, format!("{base}/v1/patrons?limit=1"), &peer).await;
    let patron = patrons["items"][0]["id"].as_str().unwrap().to_owned();
    let first = client
        .get(format!("{base}/v1/patrons/{patron}"))
        .bearer_auth(&peer)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let again = client
        .get(format!("{base}/v1/patrons/{patron}"))
        .bearer_auth(&peer)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    // A write sent twice with one key: the second is a replay.
    let branch = patrons["items"][0]["home_branch_id"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..2 {
        let resp = client
            .post(format!("{base}/v1/contacts"))
            .bearer_auth(&peer)
            .header("Idempotency-Key", "metrics-replay")
            .json(
                &json!({"branch_id": branch, "patron_id": patron, "kind": "drop_in",
                          "duration_minutes": 5, "needs": ["food"]}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
    }

    // A page of the change feed.
    let page = client
        .get(format!("{base}/v1/sync?limit=10"))
        .bearer_auth(&peer)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);

    // Wrong passwords until the account is slowed down.
    let mut throttled = false;
    for _ in 0..8 {
        let resp = client
            .post(format!("{base}/v1/auth/login"))
            .json(&json!({"username": "staff", "password": "not the password", "device_name": "Test"}))
            .send()
            .await
            .unwrap();
        throttled |= resp.status() == 429;
    }
    assert!(throttled);

    // A receipt signs a checkpoint now; the chain's age follows within a tick.
    let receipt = client
        .get(format!("{base}/v1/audit/receipt"))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap();
    assert_eq!(receipt.status(), 200);

    let mut text = String::new();
    for _ in 0..50 {
        text = scrape(&client, &server).await;
        if text.contains("casework_audit_checkpoint_age_seconds ") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let age = sample(&text, "casework_audit_checkpoint_age_seconds", &[]);
    assert!((0.0..30.0).contains(&age), "checkpoint age {age}\n{text}");
    assert!(
        sample(
            &text,
            "casework_audit_checkpoint_last_timestamp_seconds",
            &[]
        ) > 1.7e9
    );

    let ok = |op: &str, status: &str| {
        sample(
            &text,
            "casework_http_requests_total",
            &[
                &format!("operation=\"{op}\""),
                &format!("status=\"{status}\""),
            ],
        )
    };
    assert!(ok("getPatron", "200") >= 1.0, "{text}");
    assert!(ok("getPatron", "304") >= 1.0, "{text}");
    assert!(ok("createContact", "201") >= 2.0, "{text}");
    assert!(ok("signIn", "401") >= 1.0, "{text}");
    assert!(ok("signIn", "429") >= 1.0, "{text}");
    assert!(
        sample(
            &text,
            "casework_http_request_duration_seconds_count",
            &["operation=\"getPatron\""]
        ) >= 2.0
    );
    assert!(
        sample(
            &text,
            "casework_http_request_duration_seconds_bucket",
            &["operation=\"getPatron\"", "le=\"+Inf\""]
        ) >= 2.0,
        "latency is a histogram with buckets"
    );
    assert!(sample(&text, "casework_idempotency_replays_total", &[]) >= 1.0);
    assert!(sample(&text, "casework_sync_pages_total", &[]) >= 1.0);
    assert!(
        sample(
            &text,
            "casework_sign_ins_total",
            &["method=\"password\"", "outcome=\"throttled\""]
        ) >= 1.0
    );
    assert!(
        sample(
            &text,
            "casework_sign_ins_total",
            &["method=\"password\"", "outcome=\"allowed\""]
        ) >= 2.0
    );
    assert!(sample(&text, "casework_audit_events_written_total", &[]) > 0.0);
    assert!(sample(&text, "casework_writer_batch_units_count", &[]) > 0.0);
    assert!(sample(&text, "casework_writer_commit_seconds_count", &[]) > 0.0);
    assert!(text.contains("casework_writer_queue_depth "));

    // No id, name or free text in any label; every label value is a word
    // from a fixed set.
    assert!(!text.contains(&patron) && !text.contains(&branch));
    assert!(!text.contains("staff\"") && !text.contains("Test"));
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        if let Some((_, labels)) = line.split_once('{') {
            let labels = labels.rsplit_once('}').unwrap().0;
            assert!(
                labels
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "=\",_.+".contains(c)),
                "{line}"
            );
            assert!(
                uuid::Uuid::parse_str(labels).is_err() && !labels.contains('-'),
                "{line}"
            );
        }
    }

    // Every metric the sample Grafana dashboard charts is one the service serves.
    let dashboard = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/grafana/casework-dashboard.json"
    ))
    .unwrap();
    let charted = regex::Regex::new(r"casework_[a-z_]+").unwrap();
    let mut families = 0;
    for m in charted.find_iter(&dashboard) {
        let name = m.as_str();
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix))
            .unwrap_or(name);
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "the dashboard charts {name}, which the scrape does not have"
        );
        families += 1;
    }
    assert!(families >= 12, "the dashboard charts {families} metrics");

    // The metrics are not on the API's address.
    let on_api = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(on_api.status(), 404);
}
