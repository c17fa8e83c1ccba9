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
