//! The command line: first start, `staff add`, demo mode, graceful stop.

use std::{
    io::{BufRead, BufReader, Write},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use crate::helpers::{TestDatabase, binary, free_port};

fn casework(db: &TestDatabase) -> Command {
    let mut cmd = binary(db);
    cmd.env("CASEWORK_SQLITE_SYNCHRONOUS", "normal");
    cmd
}

/// Starts `casework serve` and collects its standard output (on a thread:
/// reads block) until `until` appears or five seconds pass.
fn serve(db: &TestDatabase, args: &[&str], until: &str) -> (Child, u16, String) {
    let port = free_port();
    let mut child = casework(db)
        .arg("serve")
        .args(args)
        .env("CASEWORK_LISTEN", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut out = String::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !out.contains(until) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                out.push_str(&line);
                out.push('\n');
            }
            Err(_) => break,
        }
    }
    (child, port, out)
}

async fn wait_ready(port: u16) {
    let started = Instant::now();
    loop {
        if let Ok(r) = reqwest::get(format!("http://127.0.0.1:{port}/readyz")).await
            && r.status() == 200
        {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "not ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn login(port: u16, username: &str, password: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/v1/auth/login"))
        .json(&json!({"username": username, "password": password, "device_name": "cli test"}))
        .send()
        .await
        .unwrap()
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap()
}

#[tokio::test]
async fn first_start_creates_an_admin_with_a_password_shown_once() {
    let db = TestDatabase::create().await;
    let (mut child, port, out) = serve(&db, &[], "This password is shown only now");
    let password = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("password: "))
        .expect("password printed")
        .to_owned();
    wait_ready(port).await;
    assert_eq!(login(port, "admin", &password).await.status(), 200);
    // SIGTERM: a graceful stop, exit status 0.
    assert!(terminate(&mut child).success());

    // The second start creates nothing and prints no password.
    let (mut child, port, out) = serve(&db, &[], "\u{0}never");
    wait_ready(port).await;
    assert!(!out.contains("password:"), "{out}");
    assert_eq!(login(port, "admin", &password).await.status(), 200);
    terminate(&mut child);
}

#[tokio::test]
async fn staff_add_creates_an_account_with_a_password_from_stdin() {
    let db = TestDatabase::create().await;
    let mut child = casework(&db)
        .args([
            "staff",
            "add",
            "--role",
            "social_worker",
            "--username",
            "j.alvarez",
            "--display-name",
            "Jo Alvarez (invented)",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long enough password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("j.alvarez"));

    let bad = casework(&db)
        .args(["staff", "add", "--role", "wizard", "--username", "x.y"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("social_worker"));

    let mut short = casework(&db)
        .args(["staff", "add", "--role", "peer", "--username", "p.q"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    short.stdin.take().unwrap().write_all(b"short\n").unwrap();
    let out = short.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("password"));

    let (mut child, port, _) = serve(&db, &[], "\u{0}never");
    wait_ready(port).await;
    assert_eq!(
        login(port, "j.alvarez", "a long enough password")
            .await
            .status(),
        200
    );
    terminate(&mut child);
}

#[tokio::test]
async fn demo_mode_says_so_and_every_documented_account_signs_in() {
    let db = TestDatabase::create().await;
    let (mut child, port, out) = serve(&db, &["--demo"], "Seeded the demo library");
    assert!(out.contains("DEMO MODE"), "{out}");
    wait_ready(port).await;
    for (username, _, role, password) in casework::demo::DEMO_ACCOUNTS {
        let resp = login(port, username, password).await;
        assert_eq!(resp.status(), 200, "{username}");
        let token: Value = resp.json().await.unwrap();
        let me: Value = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}/v1/me"))
            .bearer_auth(token["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["role"], role.as_str());
        let get = |path: &str| {
            reqwest::Client::new()
                .get(format!("http://127.0.0.1:{port}{path}"))
                .bearer_auth(token["access_token"].as_str().unwrap())
                .send()
        };
        match role {
            casework::domain::Role::SocialWorker => {
                let patrons: Value = get("/v1/patrons").await.unwrap().json().await.unwrap();
                assert_eq!(
                    patrons["items"].as_array().unwrap().len(),
                    4,
                    "invented patrons"
                );
                let caseload: Value = get("/v1/me/caseload").await.unwrap().json().await.unwrap();
                assert_eq!(caseload["items"].as_array().unwrap().len(), 1);
            }
            casework::domain::Role::Peer => {
                let caseload: Value = get("/v1/me/caseload").await.unwrap().json().await.unwrap();
                assert_eq!(
                    caseload["items"].as_array().unwrap().len(),
                    1,
                    "the peer is on the demo case team"
                );
            }
            _ => {}
        }
    }
    terminate(&mut child);
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The data directory holds case notes: 0700, and the service's files in it
/// 0600, whatever the umask; files found broader at start are narrowed, and
/// the start says which.
#[cfg(unix)]
#[tokio::test]
async fn the_data_directory_is_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let db = TestDatabase::create().await;
    let dir = db.data_dir.path().to_owned();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (mut child, port, _) = serve(&db, &[], "This password is shown only now");
    wait_ready(port).await;
    let files: Vec<std::path::PathBuf> = casework::private::DATA_FILES
        .iter()
        .map(|f| dir.join(f))
        .filter(|p| p.exists())
        .collect();
    assert!(
        files
            .iter()
            .any(|p| p.ends_with("audit-checkpoints.jsonl") || p.ends_with("checkpoint.key")),
        "{files:?}"
    );
    if !db.is_postgres() {
        for f in ["casework.db", "casework.db-wal", "casework.db-shm"] {
            assert!(dir.join(f).exists(), "{f}");
        }
    }
    assert_eq!(mode(&dir), 0o700);
    for f in &files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
    terminate(&mut child);

    // Opened up by someone else: the next start narrows them and says so.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let files: Vec<std::path::PathBuf> = casework::private::DATA_FILES
        .iter()
        .map(|f| dir.join(f))
        .filter(|p| p.exists())
        .collect();
    for f in &files {
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let (mut child, port, out) = serve(&db, &[], "narrowed");
    wait_ready(port).await;
    assert!(out.contains("narrowed"), "{out}");
    assert_eq!(mode(&dir), 0o700);
    for f in &files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
    terminate(&mut child);
}
