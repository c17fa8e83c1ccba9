//! The test harness: a real server on port 0 against a fresh database.
//!
//! The backend is chosen by `CASEWORK_TEST_DATABASE_URL`: unset means a SQLite
//! file in a temporary directory; a `postgres://` server URL (without a
//! database name) means a new database per test, dropped afterwards.

// Not every test module uses every helper.
#![allow(dead_code)]

use std::net::SocketAddr;

use casework::{
    config::{LogFormat, Settings, SqliteSynchronous},
    startup::Application,
};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use uuid::Uuid;

pub const TEST_DB_ENV: &str = "CASEWORK_TEST_DATABASE_URL";

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    pub settings: Settings,
    database: TestDatabase,
}

/// A database that exists for one test.
pub struct TestDatabase {
    pub url: String,
    pub data_dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    pub async fn create() -> TestDatabase {
        let data_dir = tempfile::tempdir().expect("temp dir");
        match std::env::var(TEST_DB_ENV)
            .ok()
            .filter(|s| !s.trim().is_empty())
        {
            Some(server) if server.starts_with("postgres") => {
                let server = server.trim_end_matches('/').to_owned();
                let name = format!("casework_test_{}", Uuid::now_v7().simple());
                let admin = Database::connect(format!("{server}/postgres"))
                    .await
                    .expect("connect to PostgreSQL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                TestDatabase {
                    url: format!("{server}/{name}"),
                    data_dir,
                    postgres: Some((server, name)),
                }
            }
            _ => TestDatabase {
                url: format!(
                    "sqlite://{}?mode=rwc",
                    data_dir.path().join("casework.db").display()
                ),
                data_dir,
                postgres: None,
            },
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((server, name)) = self.postgres.take() {
            // Drop runs outside async: use a small runtime on its own thread.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async {
                    if let Ok(admin) = Database::connect(format!("{server}/postgres")).await {
                        let _ = admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .await;
                        admin.close().await.ok();
                    }
                });
            })
            .join();
        }
    }
}

pub fn test_settings(database: &TestDatabase) -> Settings {
    Settings {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: database.data_dir.path().to_path_buf(),
        database_url: database.url.clone(),
        log_format: LogFormat::Human,
        // Tests do not need durability across power loss.
        sqlite_synchronous: SqliteSynchronous::Normal,
        shutdown_grace_seconds: 5,
    }
}

pub async fn spawn_app() -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        casework::telemetry::init(LogFormat::Human);
    }
    let database = TestDatabase::create().await;
    let settings = test_settings(&database);
    let app = Application::build(settings.clone())
        .await
        .expect("application builds");
    let addr = app.addr();
    let db = app.state().db.clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        addr,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        db,
        settings,
        database,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn is_postgres(&self) -> bool {
        self.database.is_postgres()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }
}

/// Asserts that a response is problem+json with the given status and `type`
/// suffix, and returns its body.
pub async fn assert_problem(resp: reqwest::Response, status: u16, kind: &str) -> serde_json::Value {
    assert_eq!(resp.status().as_u16(), status, "status");
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/problem+json"),
        "content type was {content_type}"
    );
    let body: serde_json::Value = resp.json().await.expect("json body");
    assert_eq!(
        body["type"],
        format!("urn:casework:problem:{kind}"),
        "{body}"
    );
    assert_eq!(body["status"], status, "{body}");
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
    body
}
