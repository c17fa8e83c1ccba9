//! The release server as the end-to-end benchmarks run it.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// The running server, killed when dropped.
pub struct Server(pub Child);

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
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_casework"));
    cmd.args(["serve", "--demo"])
        .env("CASEWORK_DATA_DIR", data_dir)
        .env("CASEWORK_LISTEN", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let server = Server(cmd.spawn()?);
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
            started.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok((server, base))
}
