//! What every request handler and service can reach.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use sea_orm::DatabaseConnection;

use crate::{
    access::Actor, audit::Recorder, clock::Clock, config::Settings, credentials::TokenKeys, db,
};

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
    /// The time that time-dependent rules read (tests move it forward).
    pub clock: Clock,
    /// Signed checkpoints of the audit chain's head, kept outside the database.
    pub checkpoints: Arc<crate::audit::checkpoint::Checkpoints>,
    /// The single sign-on provider, when one is configured.
    pub sso: Option<Arc<crate::oidc::Sso>>,
}

impl AppState {
    /// Connects, migrates, loads the signing key and starts the audit writer.
    pub async fn open(settings: Settings) -> anyhow::Result<AppState> {
        crate::private::secure_dir(&settings.data_dir)?;
        let db = db::connect(&settings).await?;
        db::migrate_up(&db)
            .await
            .context("cannot apply migrations")?;
        let rolled = crate::audit::rollup::backfill(&db)
            .await
            .context("cannot roll up the audit trail")?;
        if rolled > 0 {
            tracing::info!(
                events = rolled,
                "audit events rolled up for the anomaly views"
            );
        }
        let keys = Arc::new(TokenKeys::load(&settings)?);
        let clock = Clock::default();
        let recorder = Recorder::start_on(db::writer(&settings, &db).await?, clock.clone());
        let db = db::reads(&settings, &db).await?;
        let checkpoints = Arc::new(crate::audit::checkpoint::Checkpoints::open(&settings)?);
        let sso = crate::oidc::Sso::from_settings(&settings)?;
        // And what opening made (the database and its journal, the keys).
        crate::private::secure_dir(&settings.data_dir)?;
        Ok(AppState {
            db,
            settings: Arc::new(settings),
            recorder,
            keys,
            actor_cache: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(ACTOR_CACHE_TTL)
                .build(),
            clock,
            checkpoints,
            sso,
        })
    }
}
