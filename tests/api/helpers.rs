//! The test harness: a real server on port 0 against a fresh database.
//!
//! The backend is chosen by `CASEWORK_TEST_DATABASE_URL`: unset means a SQLite
//! file in a temporary directory; a `postgres://` server URL (without a
//! database name) means a new database per test, dropped afterwards.

// Not every test module uses every helper.
#![allow(dead_code)]

use std::net::SocketAddr;

use std::sync::{
    Arc,
    atomic::{AtomicU32, Ordering},
};

use casework::{
    audit::RequestMeta,
    config::{LogFormat, Settings, SqliteSynchronous},
    directory::service::{self as directory, NewStaff},
    domain::Role,
    startup::Application,
    state::AppState,
};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};
use uuid::Uuid;

pub const TEST_DB_ENV: &str = "CASEWORK_TEST_DATABASE_URL";

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    pub state: AppState,
    pub settings: Settings,
    database: Arc<TestDatabase>,
    admin: tokio::sync::OnceCell<Account>,
}

/// An account made for a test, with its password and a signed-in token.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: Uuid,
    pub username: String,
    pub password: String,
    pub role: Role,
    pub token: String,
    pub refresh_token: String,
    pub session_id: Uuid,
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

/// The real binary on `database`, with nothing of this process's
/// environment but the database, the data directory and the signing key.
pub fn binary(database: &TestDatabase) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_casework"));
    cmd.env_clear()
        .env("CASEWORK_DATABASE_URL", &database.url)
        .env("CASEWORK_DATA_DIR", database.data_dir.path())
        .env("CASEWORK_SIGNING_KEY", TEST_SIGNING_KEY);
    cmd
}

/// A running `casework serve`, killed when dropped (a failed assertion
/// leaves no server behind).
pub struct Served {
    pub child: std::process::Child,
    pub base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `cmd` (the binary's `serve`, with its arguments and settings) on
/// a free port and waits for `/readyz`. The demo library is seeded before
/// the server answers, so ready means seeded.
pub async fn serve_binary(mut cmd: std::process::Command) -> Served {
    let port = free_port();
    let child = cmd
        .env("CASEWORK_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Served {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let started = std::time::Instant::now();
    loop {
        if let Ok(r) = reqwest::get(format!("{}/readyz", server.base)).await
            && r.status() == 200
        {
            return server;
        }
        // A start refused (a broken audit chain, say) is an exit.
        if let Some(status) = server.child.try_wait().unwrap() {
            panic!("casework serve exited: {status}");
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "not ready"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Signs in as a demo account on a served binary; its access token.
pub async fn demo_token(client: &reqwest::Client, base: &str, username: &str) -> String {
    let (_, _, _, password) = casework::demo::DEMO_ACCOUNTS
        .iter()
        .find(|a| a.0 == username)
        .unwrap();
    let resp = client
        .post(format!("{base}/v1/auth/login"))
        .json(&json!({"username": username, "password": password, "device_name": "test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{username} signs in");
    let body: Value = resp.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// A loopback port nobody listens on now (for the real binary).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
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
        signing_key: TEST_SIGNING_KEY.into(),
        trusted_proxies: String::new(),
        audit_syslog: String::new(),
        audit_checkpoint_url: String::new(),
        audit_checkpoint_key: String::new(),
        web_dir: String::new(),
        metrics_listen: String::new(),
        // As configured by default; `CASEWORK_SQLITE_READS=pool` or
        // `CASEWORK_SQLITE_WRITES=pool` run the suite on sqlx's connections.
        sqlite_reads: match std::env::var("CASEWORK_SQLITE_READS").as_deref() {
            Ok("pool") => casework::config::SqliteStatements::Pool,
            _ => casework::config::SqliteStatements::CallingThread,
        },
        sqlite_writes: match std::env::var("CASEWORK_SQLITE_WRITES").as_deref() {
            Ok("pool") => casework::config::SqliteStatements::Pool,
            _ => casework::config::SqliteStatements::CallingThread,
        },
        // Passwords only; tests/api/sso.rs configures a real provider.
        ..Settings::default()
    }
}

/// Every test app signs with this key, so tests can forge tokens with it
/// (and with other keys) and two instances of one test share it.
pub const TEST_SIGNING_KEY: &str = "test-signing-key-0123456789abcdef-0123456789abcdef";

pub async fn spawn_app() -> TestApp {
    let database = TestDatabase::create().await;
    spawn_on(Arc::new(database)).await
}

/// Starts another instance on the same database as `other`.
pub async fn spawn_second_instance(other: &TestApp) -> TestApp {
    spawn_on(other.database.clone()).await
}

/// Starts an app on a fresh database with changed settings.
pub async fn spawn_app_with(change: impl FnOnce(&mut Settings)) -> TestApp {
    let database = Arc::new(TestDatabase::create().await);
    let mut settings = test_settings(&database);
    change(&mut settings);
    spawn_with(database, settings).await
}

async fn spawn_on(database: Arc<TestDatabase>) -> TestApp {
    let settings = test_settings(&database);
    spawn_with(database, settings).await
}

async fn spawn_with(database: Arc<TestDatabase>, settings: Settings) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        casework::telemetry::init(LogFormat::Human);
    }
    let app = Application::build(settings.clone())
        .await
        .expect("application builds");
    let addr = app.addr();
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        addr,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        db: state.db.clone(),
        state,
        settings,
        database,
        admin: tokio::sync::OnceCell::new(),
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

    /// A request with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        req.send().await.expect("request")
    }

    pub async fn get_as(&self, path: &str, token: &str) -> reqwest::Response {
        self.call(reqwest::Method::GET, path, Some(token), None)
            .await
    }

    pub async fn post_as(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.call(reqwest::Method::POST, path, Some(token), Some(body))
            .await
    }

    pub async fn patch_as(
        &self,
        path: &str,
        token: &str,
        etag: &str,
        body: &Value,
    ) -> reqwest::Response {
        self.client
            .patch(self.url(path))
            .bearer_auth(token)
            .header("If-Match", etag)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn delete_as(&self, path: &str, token: &str) -> reqwest::Response {
        self.call(reqwest::Method::DELETE, path, Some(token), None)
            .await
    }

    /// Signs in through the API.
    pub async fn login(&self, username: &str, password: &str, device: &str) -> reqwest::Response {
        self.post_json(
            "/v1/auth/login",
            &json!({"username": username, "password": password, "device_name": device}),
        )
        .await
    }

    /// Creates an account directly through the service layer (as first start
    /// or `casework staff add` would) and signs it in through the API.
    pub async fn account(&self, role: Role, branches: &[Uuid]) -> Account {
        static N: AtomicU32 = AtomicU32::new(0);
        let username = format!(
            "{}.{}",
            role.as_str().replace('_', "-"),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let password = format!("pw-{username}-long-enough");
        let view = directory::create_staff(
            &self.state,
            None,
            &RequestMeta::default(),
            NewStaff {
                id: None,
                username: casework::text::Username::parse(&username).expect("test username"),
                display_name: casework::text::Line::parse(&format!("Test {username}"))
                    .expect("test display name"),
                role,
                branches: branches.to_vec(),
                password: casework::text::NewPassword::parse(&password).expect("test password"),
            },
        )
        .await
        .expect("create account");
        let resp = self.login(&username, &password, "test device").await;
        assert_eq!(resp.status(), 200, "login of a new account");
        let body: Value = resp.json().await.unwrap();
        Account {
            id: view.account.id,
            username,
            password,
            role,
            token: body["access_token"].as_str().unwrap().to_owned(),
            refresh_token: body["refresh_token"].as_str().unwrap().to_owned(),
            session_id: body["session_id"].as_str().unwrap().parse().unwrap(),
        }
    }

    /// New tokens for a session, through `/v1/auth/refresh`, as a device
    /// gets them once its access token has expired (after the service's
    /// clock moved past it, say): (access token, refresh token).
    pub async fn refreshed(&self, refresh_token: &str) -> (String, String) {
        let resp = self
            .post_json("/v1/auth/refresh", &json!({"refresh_token": refresh_token}))
            .await;
        assert_eq!(resp.status(), 200, "refresh");
        let body: Value = resp.json().await.unwrap();
        (
            body["access_token"].as_str().unwrap().to_owned(),
            body["refresh_token"].as_str().unwrap().to_owned(),
        )
    }

    /// Refreshes `account`'s tokens in place; its session goes on.
    pub async fn refresh(&self, account: &mut Account) {
        let (token, refresh_token) = self.refreshed(&account.refresh_token).await;
        account.token = token;
        account.refresh_token = refresh_token;
    }

    /// Signs `account` in again on a new session (after its session ended:
    /// expired on the service's clock, say) and keeps the new tokens.
    pub async fn sign_in_again(&self, account: &mut Account) {
        let resp = self
            .login(&account.username, &account.password, "test device")
            .await;
        assert_eq!(resp.status(), 200, "sign in again");
        let body: Value = resp.json().await.unwrap();
        account.token = body["access_token"].as_str().unwrap().to_owned();
        account.refresh_token = body["refresh_token"].as_str().unwrap().to_owned();
        account.session_id = body["session_id"].as_str().unwrap().parse().unwrap();
    }

    /// One admin per test app, made on first use.
    pub async fn admin(&self) -> &Account {
        self.admin
            .get_or_init(|| self.account(Role::Admin, &[]))
            .await
    }

    /// Creates a branch through the API as the admin and returns its id.
    pub async fn branch(&self, code: &str) -> Uuid {
        let admin = self.admin().await.token.clone();
        let resp = self
            .post_as(
                "/v1/branches",
                &admin,
                &json!({"code": code, "name": format!("{code} branch")}),
            )
            .await;
        assert_eq!(resp.status(), 201, "create branch");
        let body: Value = resp.json().await.unwrap();
        body["id"].as_str().unwrap().parse().unwrap()
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

/// The body without its `null` members: the spec's optional fields are
/// left out, never sent as `null` (which the server refuses).
pub fn present(mut v: serde_json::Value) -> serde_json::Value {
    if let Some(o) = v.as_object_mut() {
        o.retain(|_, v| !v.is_null());
    }
    v
}
