//! The single sign-on provider (OpenID Connect) as configured: its
//! settings, its discovery document and published keys (cached, read again
//! when asked for fresh ones), and a client for it. What a sign-in does with
//! them is `auth::sso`'s.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use openidconnect::{
    ClientId, ClientSecret, IssuerUrl, RedirectUrl,
    core::{CoreClient, CoreProviderMetadata},
};

use crate::config::Settings;

/// Discovery (and the provider's keys) is read again at least this often.
const METADATA_TTL: Duration = Duration::from_secs(60 * 60);
/// Longest wait for the provider.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// A client of the discovered provider: its authorization endpoint known,
/// its token and user-info endpoints as discovery said.
pub type ProviderClient = openidconnect::Client<
    openidconnect::EmptyAdditionalClaims,
    openidconnect::core::CoreAuthDisplay,
    openidconnect::core::CoreGenderClaim,
    openidconnect::core::CoreJweContentEncryptionAlgorithm,
    openidconnect::core::CoreJsonWebKey,
    openidconnect::core::CoreAuthPrompt,
    openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>,
    openidconnect::core::CoreTokenResponse,
    openidconnect::core::CoreTokenIntrospectionResponse,
    openidconnect::core::CoreRevocableToken,
    openidconnect::core::CoreRevocationErrorResponse,
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// The configured provider.
pub struct Sso {
    issuer: IssuerUrl,
    client_id: ClientId,
    client_secret: ClientSecret,
    redirect: RedirectUrl,
    /// Shown on the sign-in button and named in the audit trail.
    pub name: String,
    link_by_email: bool,
    pub(crate) http: openidconnect::reqwest::Client,
    discovered: tokio::sync::RwLock<Option<(CoreProviderMetadata, std::time::Instant)>>,
}

/// Why a single sign-on did not finish, as the app is told (a fixed word in
/// the URL's fragment) and as the audit trail records it (`rule`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The `state` is unknown, expired or was used before (a replay).
    State(&'static str),
    /// The provider answered with an error (the person cancelled, say).
    Provider,
    /// The provider could not be reached or refused the code.
    Unavailable(&'static str),
    /// The id token failed a check.
    Token(&'static str),
    /// No account is linked to this person, or the account is deactivated:
    /// one answer for both.
    NotAllowed(&'static str),
    /// Too many forged or replayed returns from this address (counted with
    /// failed password sign-ins): wait.
    Throttled,
}

impl Failure {
    /// Whether the failure counts against the client's address: a `state`
    /// or an id token that does not hold is what a forger sends; a person
    /// who cancels at the provider, an unlinked one or a provider that is
    /// down is not.
    pub fn counts(self) -> bool {
        matches!(self, Failure::State(_) | Failure::Token(_))
    }

    /// The word the app shows a message for.
    pub fn code(self) -> &'static str {
        match self {
            Failure::State(_) => "state",
            Failure::Provider => "provider",
            Failure::Unavailable(_) => "unavailable",
            Failure::Token(_) => "token",
            Failure::NotAllowed(_) => "not_allowed",
            Failure::Throttled => "throttled",
        }
    }

    /// The audit event's rule.
    pub fn rule(self) -> &'static str {
        match self {
            Failure::State(r) | Failure::Unavailable(r) | Failure::Token(r) => r,
            Failure::NotAllowed(r) => r,
            Failure::Provider => "sso_provider_error",
            Failure::Throttled => "throttled",
        }
    }
}

impl Sso {
    /// The provider of the settings, or `None` when single sign-on is off
    /// (`oidc_issuer` empty).
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Option<Arc<Sso>>> {
        let issuer = settings.oidc_issuer.trim();
        if issuer.is_empty() {
            return Ok(None);
        }
        let base = settings.oidc_redirect_base.trim().trim_end_matches('/');
        let http = openidconnect::reqwest::ClientBuilder::new()
            // Following redirects would let the provider's answers send
            // this server's requests anywhere.
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(PROVIDER_TIMEOUT)
            .build()
            .context("cannot build the HTTP client for single sign-on")?;
        Ok(Some(Arc::new(Sso {
            issuer: IssuerUrl::new(issuer.to_owned()).context("`oidc_issuer` is not a URL")?,
            client_id: ClientId::new(settings.oidc_client_id.trim().to_owned()),
            client_secret: ClientSecret::new(settings.oidc_client_secret.clone()),
            redirect: RedirectUrl::new(format!("{base}{CALLBACK_PATH}"))
                .context("`oidc_redirect_base` is not a URL")?,
            name: match settings.oidc_provider_name.trim() {
                "" => "single sign-on".to_owned(),
                name => name.to_owned(),
            },
            link_by_email: settings.oidc_link_by_email,
            http,
            discovered: tokio::sync::RwLock::new(None),
        })))
    }

    /// The provider's metadata and keys: cached, read again when `fresh`
    /// (an id token names a key not known yet) or once an hour.
    pub async fn metadata(&self, fresh: bool) -> Result<CoreProviderMetadata, Failure> {
        if !fresh
            && let Some((md, at)) = self.discovered.read().await.as_ref()
            && at.elapsed() < METADATA_TTL
        {
            return Ok(md.clone());
        }
        let md = CoreProviderMetadata::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "single sign-on: cannot read the provider's discovery document");
                Failure::Unavailable("sso_provider_unreachable")
            })?;
        *self.discovered.write().await = Some((md.clone(), std::time::Instant::now()));
        Ok(md)
    }

    pub fn client(&self, md: CoreProviderMetadata) -> ProviderClient {
        CoreClient::from_provider_metadata(
            md,
            self.client_id.clone(),
            Some(self.client_secret.clone()),
        )
        .set_redirect_uri(self.redirect.clone())
    }

    pub fn issuer(&self) -> &str {
        self.issuer.as_str()
    }

    pub fn link_by_email(&self) -> bool {
        self.link_by_email
    }
}

/// Where the provider sends the browser back (under `oidc_redirect_base`).
pub const CALLBACK_PATH: &str = "/v1/auth/sso/callback";
