//! Health, docs, the spec, error shapes, request ids, compression,
//! configuration layers and migrations.

use std::process::Command;

use crate::helpers::{TestDatabase, assert_problem, spawn_app};

#[tokio::test]
async fn healthz_and_readyz_answer_ok_on_a_fresh_database() {
    let app = spawn_app().await;
    for path in ["/healthz", "/readyz"] {
        let resp = app.get(path).await;
        assert_eq!(resp.status(), 200, "{path}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["status"], "ok");
    }
}

#[tokio::test]
async fn readyz_is_503_while_migrations_are_pending_and_200_after() {
    let app = spawn_app().await;
    let applied = casework::db::pending_migrations(&app.db).await.unwrap();
    assert!(applied.is_empty());
    casework::db::migrate_down(&app.db, 1).await.unwrap();
    let body = assert_problem(app.get("/readyz").await, 503, "unavailable").await;
    assert!(body["detail"].as_str().unwrap().contains("pending"));
    casework::db::migrate_up(&app.db).await.unwrap();
    assert_eq!(app.get("/readyz").await.status(), 200);
}

#[tokio::test]
async fn migrations_go_up_down_and_up_again() {
    let database = TestDatabase::create().await;
    let db = casework::db::connect_url(&database.url, casework::config::SqliteSynchronous::Normal)
        .await
        .unwrap();
    let all = casework::db::pending_migrations(&db).await.unwrap();
    assert!(!all.is_empty());
    casework::db::migrate_up(&db).await.unwrap();
    assert!(
        casework::db::pending_migrations(&db)
            .await
            .unwrap()
            .is_empty()
    );
    casework::db::migrate_down(&db, all.len() as u32)
        .await
        .unwrap();
    assert_eq!(casework::db::pending_migrations(&db).await.unwrap(), all);
    casework::db::migrate_up(&db).await.unwrap();
    assert!(
        casework::db::pending_migrations(&db)
            .await
            .unwrap()
            .is_empty()
    );
    db.close().await.ok();
}

#[tokio::test]
async fn docs_and_spec_are_served() {
    let app = spawn_app().await;
    let docs = app.get("/docs").await;
    assert_eq!(docs.status(), 200);
    let html = docs.text().await.unwrap();
    assert!(html.contains("swagger"), "docs page is swagger-ui");
    assert!(!html.contains("cdn"), "docs are bundled, not from a CDN");

    let json: serde_json::Value = app.get("/openapi.json").await.json().await.unwrap();
    assert!(json["openapi"].as_str().unwrap().starts_with("3."));
    assert!(json["paths"]["/readyz"].is_object());

    let yaml = app.get("/openapi.yaml").await.text().await.unwrap();
    assert_eq!(yaml, casework::http::spec_yaml());
}

#[tokio::test]
async fn committed_spec_equals_the_code() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.yaml"))
            .expect("openapi/openapi.yaml is committed");
    assert!(
        committed == casework::http::spec_yaml(),
        "openapi/openapi.yaml is stale: run `cargo run -- openapi --write`"
    );
}

#[tokio::test]
async fn unknown_route_is_problem_json_404() {
    let app = spawn_app().await;
    assert_problem(app.get("/v1/no-such-thing").await, 404, "not-found").await;
}

#[tokio::test]
async fn wrong_method_is_problem_json_405() {
    let app = spawn_app().await;
    let resp = app.client.delete(app.url("/healthz")).send().await.unwrap();
    assert_eq!(resp.headers()["allow"], "GET");
    assert_problem(resp, 405, "method-not-allowed").await;
    let resp = app
        .client
        .put(app.url(&format!("/v1/patrons/{}", uuid::Uuid::now_v7())))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["allow"], "GET, PATCH");
    assert_problem(resp, 405, "method-not-allowed").await;
}

#[tokio::test]
async fn request_id_is_generated_echoed_and_in_problems() {
    let app = spawn_app().await;
    let resp = app.get("/healthz").await;
    let generated = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&generated).is_ok());

    let resp = app
        .client
        .get(app.url("/healthz"))
        .header("X-Request-Id", "tablet-7.abc_123")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "tablet-7.abc_123");

    // An id that could smuggle text into the logs is replaced.
    let resp = app
        .client
        .get(app.url("/nowhere"))
        .header("X-Request-Id", "Jane Doe said hello")
        .send()
        .await
        .unwrap();
    let replaced = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(replaced, "Jane Doe said hello");
    let body = assert_problem(resp, 404, "not-found").await;
    assert_eq!(body["request_id"], replaced);
}

#[tokio::test]
async fn responses_are_compressed_when_asked_for() {
    let app = spawn_app().await;
    // reqwest without its gzip feature in use would decode; ask by hand.
    let client = reqwest::Client::builder().no_gzip().build().unwrap();
    let resp = client
        .get(app.url("/openapi.json"))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-encoding"], "gzip");
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "gzip magic");

    let plain = client.get(app.url("/openapi.json")).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
}

fn casework_cmd(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_casework"));
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    cmd
}

#[test]
fn config_defaults_then_file_then_environment() {
    let dir = tempfile::tempdir().unwrap();

    let out = casework_cmd(dir.path()).arg("config").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("listen = \"127.0.0.1:8080\""), "{text}");
    assert!(text.contains("data_dir = \"./data\""), "{text}");
    assert!(text.contains("sqlite://./data/casework.db"), "{text}");
    assert!(text.contains("log_format = \"human\""), "{text}");

    let file = dir.path().join("custom.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:9000\"\nlog_format = \"json\"\n",
    )
    .unwrap();
    let out = casework_cmd(dir.path())
        .args(["--config", file.to_str().unwrap(), "config"])
        .env("CASEWORK_LOG_FORMAT", "human")
        .env(
            "CASEWORK_DATABASE_URL",
            "postgres://casework:secret@db.invalid/casework",
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("listen = \"127.0.0.1:9000\""),
        "file overrides default: {text}"
    );
    assert!(
        text.contains("log_format = \"human\""),
        "env overrides file: {text}"
    );
    assert!(
        text.contains("postgres://casework:***@db.invalid/casework"),
        "{text}"
    );
    assert!(!text.contains("secret"), "password masked: {text}");

    // ./casework.toml is read when no --config is given.
    std::fs::write(
        dir.path().join("casework.toml"),
        "data_dir = \"/var/lib/cw\"\n",
    )
    .unwrap();
    let out = casework_cmd(dir.path()).arg("config").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("data_dir = \"/var/lib/cw\""), "{text}");
}

#[test]
fn bad_configuration_fails_at_start_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let out = casework_cmd(dir.path())
        .arg("config")
        .env("CASEWORK_LISTEN", "not-an-address")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("CASEWORK_LISTEN"), "{err}");

    std::fs::write(
        dir.path().join("casework.toml"),
        "lisen = \"127.0.0.1:1\"\n",
    )
    .unwrap();
    let out = casework_cmd(dir.path()).arg("serve").output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("lisen"), "{err}");

    let out = casework_cmd(dir.path())
        .args(["--config", "missing.toml", "serve"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.toml"));

    std::fs::remove_file(dir.path().join("casework.toml")).unwrap();
    let out = casework_cmd(dir.path())
        .arg("config")
        .env("CASEWORK_DATABASE_URL", "mysql://x")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("CASEWORK_DATABASE_URL"));

    let out = casework_cmd(dir.path())
        .arg("config")
        .env(
            "CASEWORK_AUDIT_CHECKPOINT_URL",
            "ftp://collector.example/in",
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("CASEWORK_AUDIT_CHECKPOINT_URL"));
}

#[test]
fn openapi_check_fails_when_the_file_differs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("openapi")).unwrap();
    std::fs::write(dir.path().join("openapi/openapi.yaml"), "openapi: 3.0.0\n").unwrap();
    let out = casework_cmd(dir.path())
        .args(["openapi", "--check"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let out = casework_cmd(dir.path())
        .args(["openapi", "--write"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = casework_cmd(dir.path())
        .args(["openapi", "--check"])
        .output()
        .unwrap();
    assert!(out.status.success());
}

#[tokio::test]
async fn body_errors_are_problem_json() {
    let app = spawn_app().await;
    let url = app.url("/v1/auth/login");

    // Malformed JSON.
    let resp = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"username\": ")
        .send()
        .await
        .unwrap();
    assert_problem(resp, 400, "malformed-body").await;

    // Not JSON at all.
    let resp = app
        .client
        .post(&url)
        .header("content-type", "text/plain")
        .body("username=x")
        .send()
        .await
        .unwrap();
    assert_problem(resp, 415, "unsupported-media-type").await;

    // Over the write limit.
    let big = format!(
        "{{\"username\":\"x\",\"password\":\"{}\",\"device_name\":\"t\"}}",
        "p".repeat(casework::http::WRITE_BODY_LIMIT)
    );
    let resp = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    let body = assert_problem(resp, 413, "body-too-large").await;
    assert!(body["detail"].as_str().unwrap().contains("1048576"));

    // A streamed body without Content-Length on a write.
    let stream = futures_util::stream::once(async { Ok::<_, std::io::Error>("{}") });
    let resp = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_problem(resp, 411, "length-required").await;
}

/// Generated clients name their methods after `operationId`: every
/// operation has one, unique and stable.
#[test]
fn every_operation_has_a_unique_operation_id() {
    let spec: serde_json::Value =
        serde_json::from_str(&casework::http::openapi_service().spec()).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(
                id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                    && id.chars().all(|c| c.is_ascii_alphanumeric()),
                "{id}: lowerCamelCase"
            );
            assert!(seen.insert(id.to_owned()), "{id} is used twice");
        }
    }
    assert!(seen.len() >= 40);
}

/// A retried POST is answered with `Idempotent-Replayed: true`: every
/// operation that takes an `Idempotency-Key` says so on its successes, in the
/// spec that is served, committed and shown in the docs.
#[tokio::test]
async fn keyed_operations_declare_the_replay_header() {
    let app = spawn_app().await;
    let spec: serde_json::Value = app.get("/openapi.json").await.json().await.unwrap();
    let mut keyed = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let takes_key = op["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == "Idempotency-Key"));
            for (status, response) in op["responses"].as_object().unwrap() {
                let declared = response["headers"]["Idempotent-Replayed"].is_object();
                if status.starts_with('2') {
                    assert_eq!(declared, takes_key, "{method} {path} {status}");
                } else {
                    assert!(!declared, "{method} {path} {status}");
                }
            }
            keyed += usize::from(takes_key);
        }
    }
    assert!(keyed >= 10, "the keyed POSTs are found");
    let docs = app.get("/docs").await.text().await.unwrap();
    assert!(
        docs.contains("Idempotent-Replayed"),
        "the docs show the served spec"
    );
}

fn fields(problem: &serde_json::Value) -> Vec<String> {
    let mut names: Vec<String> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

/// A field the server does not know is refused by name, never dropped:
/// a typo must not record a training that never expires.
#[tokio::test]
async fn unknown_body_fields_are_refused_naming_each() {
    use casework::domain::Role;
    use serde_json::json;
    let app = spawn_app().await;
    let admin = app.admin().await.token.clone();
    let resp = app
        .post_as(
            "/v1/trainings",
            &admin,
            &json!({"name": "NVCI", "provider": "Invented", "recertification_months": 36,
                    "de_escalation": true, "colour": "red"}),
        )
        .await;
    let problem = assert_problem(resp, 422, "validation").await;
    assert_eq!(fields(&problem), vec!["colour", "recertification_months"]);
    let list: serde_json::Value = app
        .get_as("/v1/trainings", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        0,
        "nothing recorded"
    );

    // Inside a nested object too, by its pointer.
    let main = app.branch("MAIN").await;
    let security = app.account(Role::Security, &[main]).await;
    let resp = app
        .post_as(
            "/v1/incidents",
            &security.token,
            &json!({"branch_id": main, "category": "disturbance", "description": "Invented.",
                    "action_taken": "warning", "occurred_at": "2026-11-02T10:00:00Z",
                    "responders": [{"staff_id": security.id, "part": "lead", "badge": "7"}]}),
        )
        .await;
    let problem = assert_problem(resp, 422, "validation").await;
    assert_eq!(fields(&problem), vec!["responders/0/badge"]);

    // Before sign-in, and in a sync upload's operations and their bodies.
    let resp = app
        .post_json(
            "/v1/auth/login",
            &json!({"username": "admin", "password": "x", "device_name": "t", "remember": true}),
        )
        .await;
    assert_eq!(
        fields(&assert_problem(resp, 422, "validation").await),
        vec!["remember"]
    );
    let peer = app.account(Role::Peer, &[main]).await;
    let resp = app
        .post_as(
            "/v1/sync",
            &peer.token,
            &json!({"operations": [{"op_id": "a", "method": "POST", "path": "/v1/contacts",
                                    "body": {"branch_id": main, "kind": "drop_in"}, "when": 1}]}),
        )
        .await;
    assert_eq!(
        fields(&assert_problem(resp, 422, "validation").await),
        vec!["operations/0/when"]
    );
    let resp = app
        .post_as(
            "/v1/sync",
            &peer.token,
            &json!({"operations": [{"op_id": "b", "method": "POST", "path": "/v1/contacts",
                                    "body": {"branch_id": main, "kind": "drop_in", "mood": "ok"}}]}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["results"][0]["outcome"], "rejected", "{body}");
    assert_eq!(
        fields(&body["results"][0]["problem"]),
        vec!["mood"],
        "{body}"
    );
}

/// Every format in the spec is one that generators and validators know:
/// a calendar date is `date`, never poem-openapi's `naive-date`.
#[test]
fn the_spec_uses_only_standard_formats() {
    fn formats(v: &serde_json::Value, out: &mut std::collections::BTreeSet<String>) {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(f) = m.get("format").and_then(|f| f.as_str()) {
                    out.insert(f.to_owned());
                }
                m.values().for_each(|v| formats(v, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| formats(v, out)),
            _ => {}
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    formats(casework::http::spec(), &mut seen);
    // OpenAPI's formats, and poem-openapi's unsigned integers (which every
    // generator reads as an integer).
    let known = [
        "date",
        "date-time",
        "uuid",
        "int32",
        "int64",
        "double",
        "float",
        "binary",
        "email",
        "uri",
        "password",
        "uint16",
        "uint32",
        "uint64",
    ];
    let unknown: Vec<&String> = seen
        .iter()
        .filter(|f| !known.contains(&f.as_str()))
        .collect();
    assert!(unknown.is_empty(), "{unknown:?}");
}

/// An answer given before the request's body was read ends the connection
/// cleanly: it says `Connection: close`, so a client never writes its next
/// request into a connection the server is about to drop.
#[tokio::test]
async fn an_early_answer_says_the_connection_closes() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    let body = r#"{"note":"Invented."}"#;
    for head in [
        // No token: refused before the body is read.
        format!(
            "PATCH /v1/contacts/{} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            uuid::Uuid::now_v7(),
            body.len()
        ),
        // Too large: refused by its declared length.
        format!(
            "POST /v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            casework::http::WRITE_BODY_LIMIT + 1
        ),
    ] {
        let mut socket = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        socket.write_all(head.as_bytes()).await.unwrap();
        // The headers alone; the answer comes before the body is sent.
        let mut answer = vec![0u8; 4096];
        let n = tokio::time::timeout(std::time::Duration::from_secs(5), socket.read(&mut answer))
            .await
            .expect("an answer before the body")
            .unwrap();
        let text = String::from_utf8_lossy(&answer[..n]).to_lowercase();
        assert!(text.starts_with("http/1.1 4"), "{text}");
        assert!(text.contains("connection: close"), "{text}");
        // The body arrives late; the server has said it closes, and does.
        let _ = socket.write_all(body.as_bytes()).await;
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            socket.read_to_end(&mut rest),
        )
        .await;
        assert!(closed.is_ok(), "the server closes the connection");
    }
}

/// What hyper answers by itself, before the request reaches the service (a
/// head too large or with too many fields, a URI too long, a head that does
/// not parse), is a problem detail with a request id like every other
/// answer, and the connection closes after it.
#[tokio::test]
async fn an_answer_given_before_the_request_is_read_is_a_problem_with_a_request_id() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    let big = "a".repeat(1024 * 1024);
    let many: String = (0..150).map(|i| format!("X-Field-{i}: v\r\n")).collect();
    let long = "b".repeat(70 * 1024);
    let cases = [
        (
            format!("GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: {big}\r\n\r\n"),
            431,
            "urn:casework:problem:headers-too-large",
        ),
        (
            format!("GET /healthz HTTP/1.1\r\nHost: t\r\n{many}\r\n"),
            431,
            "urn:casework:problem:headers-too-large",
        ),
        (
            format!("GET /healthz?q={long} HTTP/1.1\r\nHost: t\r\n\r\n"),
            414,
            "urn:casework:problem:uri-too-long",
        ),
        (
            "GET /healthz HTTP/1.1\r\nHost: t\r\nNo colon here\r\n\r\n".to_owned(),
            400,
            "urn:casework:problem:bad-request",
        ),
    ];
    for (request, status, kind) in cases {
        let mut socket = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        // The server may answer and close before all of a large head is
        // written; the answer is read either way.
        let _ = socket.write_all(request.as_bytes()).await;
        let mut answer = Vec::new();
        tokio::time::timeout(
            std::time::Duration::from_secs(10),
            socket.read_to_end(&mut answer),
        )
        .await
        .expect("the server answers and closes")
        .ok();
        let text = String::from_utf8_lossy(&answer).to_string();
        let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
        let head = head.to_lowercase();
        assert!(head.starts_with(&format!("http/1.1 {status} ")), "{head}");
        assert!(
            head.contains("content-type: application/problem+json"),
            "{head}"
        );
        assert!(head.contains("connection: close"), "{head}");
        let id = head
            .lines()
            .find_map(|l| l.strip_prefix("x-request-id: "))
            .expect("a request id header")
            .to_owned();
        let problem: serde_json::Value = serde_json::from_str(body).expect("a JSON body");
        assert_eq!(problem["type"], kind, "{problem}");
        assert_eq!(problem["status"], status, "{problem}");
        assert_eq!(problem["request_id"], id.as_str(), "{problem}");
    }
    // The service still answers normally afterwards.
    let ok = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(ok.headers().contains_key("x-request-id"));
}

/// 413, 431 and 503 can meet any request; every operation declares them.
#[tokio::test]
async fn every_operation_declares_the_answers_any_request_may_get() {
    let spec = casework::http::spec();
    let mut operations = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            for status in ["413", "431", "503"] {
                assert!(
                    op["responses"].get(status).is_some(),
                    "{method} {path} does not declare {status}"
                );
            }
        }
    }
    assert!(operations > 100, "{operations}");
}
