//! Building and running the application.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use poem::{
    Server,
    listener::{Acceptor, Listener, TcpListener},
};
use sea_orm::DatabaseConnection;

use crate::{access::Actor, audit::Recorder, auth::TokenKeys, config::Settings, db};

/// How long a loaded caller is reused before the database is asked again;
/// bounds how late a revocation made on another instance takes effect.
pub const ACTOR_CACHE_TTL: Duration = Duration::from_secs(2);

/// What every request handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub recorder: Recorder,
    pub keys: Arc<TokenKeys>,
    /// Session id to caller, for [`ACTOR_CACHE_TTL`].
    pub actor_cache: moka::sync::Cache<uuid::Uuid, Actor>,
}

impl AppState {
    /// Connects, migrates, loads the signing key and starts the audit writer.
    pub async fn open(settings: Settings) -> anyhow::Result<AppState> {
        let db = db::connect(&settings).await?;
        db::migrate_up(&db)
            .await
            .context("cannot apply migrations")?;
        let keys = Arc::new(TokenKeys::load(&settings)?);
        let recorder = Recorder::start(db.clone());
        Ok(AppState {
            db,
            settings: Arc::new(settings),
            recorder,
            keys,
            actor_cache: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(ACTOR_CACHE_TTL)
                .build(),
        })
    }
}

pub struct Application {
    acceptor: poem::listener::TcpAcceptor,
    addr: SocketAddr,
    state: AppState,
}

impl Application {
    /// Opens (and on first start creates) the database, applies migrations
    /// and binds the listener.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let listen = settings.listen;
        let state = AppState::open(settings).await?;
        let acceptor = TcpListener::bind(listen)
            .into_acceptor()
            .await
            .with_context(|| format!("cannot listen on `{listen}` (setting `listen`)"))?;
        let addr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .context("listener has no address")?;
        Ok(Application {
            acceptor,
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
        let app = crate::api::app(self.state.clone());
        Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(app, shutdown_signal(), Some(grace))
            .await
            .context("server failed")?;
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
