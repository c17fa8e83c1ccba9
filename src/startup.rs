//! Building and running the application.

use std::{net::SocketAddr, time::Duration};

use anyhow::Context;
use tokio::net::TcpListener;

use crate::{config::Settings, state::AppState};

pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    state: AppState,
}

impl Application {
    /// Opens (and on first start creates) the database, applies migrations
    /// and binds the listener.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_checked(settings, false).await
    }

    /// The same, after checking the audit chain's tail against the last
    /// signed checkpoint: a chain that no longer reaches it (rows removed or
    /// changed) stops the start, unless `accept_broken_chain`, which is
    /// logged loudly.
    pub async fn build_checked(
        settings: Settings,
        accept_broken_chain: bool,
    ) -> anyhow::Result<Self> {
        let listen = settings.listen;
        if !settings.metrics_listen.trim().is_empty() {
            let addr = settings.metrics_listen.trim().parse().map_err(|_| {
                anyhow::anyhow!(
                    "setting `metrics_listen` must be an address and port, like 127.0.0.1:9100"
                )
            })?;
            crate::telemetry::serve_metrics(addr)?;
        }
        let state = AppState::open(settings).await?;
        match state.checkpoints.verify(&state.db, false).await? {
            crate::audit::Verification::Intact { .. } => {}
            crate::audit::Verification::Broken { seq, reason, .. } if accept_broken_chain => {
                tracing::error!(
                    seq,
                    reason,
                    "STARTING ON A BROKEN AUDIT CHAIN (--accept-broken-audit-chain): \
                     the trail has been changed or cut; investigate before trusting it"
                );
            }
            crate::audit::Verification::Broken { seq, reason, .. } => anyhow::bail!(
                "the audit chain is broken at seq {seq}: {reason}. Refusing to start; \
                 investigate, then start with --accept-broken-audit-chain to run anyway"
            ),
        }
        state
            .checkpoints
            .clone()
            .spawn(state.db.clone(), state.clock.clone());
        tokio::spawn(crate::unit::sweep_keys_forever(state.clone()));
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on `{listen}` (setting `listen`)"))?;
        let addr = listener.local_addr().context("listener has no address")?;
        Ok(Application {
            listener,
            addr,
            state,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGINT or SIGTERM, then stops accepting and lets requests
    /// in flight finish (up to `shutdown_grace_seconds`).
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let grace = Duration::from_secs(self.state.settings.shutdown_grace_seconds);
        tracing::info!(addr = %self.addr, "listening");
        // Boxed: the stack of middleware types is deep enough to overflow
        // the compiler's layout query in a release build of the server loop.
        let app = poem::EndpointExt::boxed(poem::EndpointExt::map_to_response(crate::app::app(
            self.state.clone(),
        )));
        crate::server::serve(self.listener, app, shutdown_signal(), grace)
            .await
            .context("server failed")?;
        // The end of the chain as this instance leaves it.
        let now = self.state.clock.now();
        if let Err(e) = self.state.checkpoints.write(&self.state.db, now).await {
            tracing::error!(error = %format!("{e:#}"), "cannot write the final audit checkpoint");
        }
        self.state.db.clone().close().await.ok();
        tracing::info!("stopped");
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown requested; finishing requests in flight");
}
