//! Sign-in, refresh and sign-out.
// poem-openapi handlers take one argument per HTTP input (header, path,
// query, body), so long parameter lists are the shape of the API here.
#![allow(clippy::too_many_arguments)]

use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};
use uuid::Uuid;

use crate::http::{
    ApiTags, input::Input, problem::ProblemResponse, security::BearerAuth, write_limit,
};
use crate::text::Line;
use crate::{
    audit::RequestMeta,
    auth::service::{self, TokenPair},
    credentials::ACCESS_TOKEN_TTL,
    state::AppState,
};

pub struct AuthApi;

#[derive(Object)]
pub struct LoginRequest {
    /// Case-insensitive.
    pub username: Line<64>,
    #[oai(validator(min_length = 1, max_length = 1024))]
    pub password: String,
    /// A name for this device, shown in the session list ("Main branch tablet 3").
    pub device_name: Line<100>,
}

#[derive(Object)]
pub struct RefreshRequest {
    #[oai(validator(min_length = 1, max_length = 256))]
    pub refresh_token: String,
}

#[derive(Object)]
pub struct TokenResponse {
    /// JWT for `Authorization: Bearer`; valid for `expires_in` seconds.
    pub access_token: String,
    /// Opaque; exchange it at `/v1/auth/refresh`. Each one works once.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    pub expires_in: u64,
    /// The device session these tokens belong to.
    pub session_id: Uuid,
    /// The password was set by an admin and works once: until the account
    /// chooses its own (`POST /v1/me/password`), everything else answers 403.
    pub password_change_required: bool,
}

impl From<TokenPair> for TokenResponse {
    fn from(t: TokenPair) -> Self {
        TokenResponse {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            token_type: "Bearer".into(),
            expires_in: ACCESS_TOKEN_TTL.as_secs(),
            session_id: t.session_id,
            password_change_required: t.password_change_required,
        }
    }
}

#[derive(Object)]
pub struct SingleSignOnOut {
    /// Whether staff may sign in through the library's identity provider.
    pub enabled: bool,
    /// The provider's name as staff know it (for the sign-in button);
    /// absent when single sign-on is off.
    #[oai(skip_serializing_if_is_none)]
    pub provider_name: Option<String>,
}

#[derive(Object)]
pub struct SsoTicketRequest {
    /// The ticket the sign-in's last redirect put in the app's address
    /// (`#sso=...`). It works once, within two minutes.
    #[oai(validator(min_length = 1, max_length = 128))]
    pub ticket: String,
}

#[derive(ApiResponse)]
pub enum SsoRedirect {
    /// Go on at `Location`: the provider's sign-in page, or back to the app
    /// with a one-time ticket (`/#sso=...`) or the reason it failed
    /// (`/#sso-error=state|provider|unavailable|token|not_allowed|throttled`).
    #[oai(status = 303)]
    SeeOther(
        #[oai(header = "Location")] String,
        #[oai(header = "Cache-Control")] String,
    ),
}

#[derive(ApiResponse)]
pub enum LoggedOut {
    /// The session has ended.
    #[oai(status = 204)]
    Done,
}

#[OpenApi(prefix_path = "/v1/auth", tag = "ApiTags::Auth")]
impl AuthApi {
    /// Sign in with username and password; starts a device session.
    ///
    /// Wrong username, wrong password and a deactivated account answer the
    /// same 401. Repeated failures answer 429 with `Retry-After`.
    #[oai(
        operation_id = "signIn",
        path = "/login",
        method = "post",
        transform = "write_limit"
    )]
    async fn login(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        body: Input<LoginRequest>,
    ) -> Result<Json<TokenResponse>, ProblemResponse> {
        let body = body.0;
        let input = service::LoginInput {
            username: body.username,
            password: body.password,
            device_name: body.device_name,
        };
        Ok(Json(service::login(&state, &meta, input).await?.into()))
    }

    /// Exchange a refresh token for new tokens. The old refresh token stops
    /// working; presenting it again ends the whole session.
    #[oai(
        operation_id = "refreshToken",
        path = "/refresh",
        method = "post",
        transform = "write_limit"
    )]
    async fn refresh(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        body: Input<RefreshRequest>,
    ) -> Result<Json<TokenResponse>, ProblemResponse> {
        Ok(Json(
            service::refresh(&state, &meta, body.0.refresh_token)
                .await?
                .into(),
        ))
    }

    /// Whether single sign-on is offered, and the provider's name.
    #[oai(operation_id = "getSingleSignOn", path = "/sso", method = "get")]
    async fn sso(&self, state: Data<&AppState>) -> Json<SingleSignOnOut> {
        Json(SingleSignOnOut {
            enabled: state.sso.is_some(),
            provider_name: state.sso.as_ref().map(|s| s.name.clone()),
        })
    }

    /// Begin a single sign-on (a browser navigates here): answers 303 to
    /// the provider's sign-in page (authorization code flow with PKCE).
    /// 404 when single sign-on is not configured; 503 when the provider
    /// cannot be reached; 429 while the caller's address is locked by failed
    /// sign-ins (forged or replayed returns count, as wrong passwords do).
    #[oai(
        operation_id = "startSingleSignOn",
        path = "/sso/start",
        method = "get"
    )]
    async fn sso_start(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        /// A name for this device, as at a password sign-in.
        device_name: poem_openapi::param::Query<Line<100>>,
    ) -> Result<SsoRedirect, ProblemResponse> {
        let to = crate::auth::sso::begin(&state, &meta, device_name.0).await?;
        Ok(SsoRedirect::SeeOther(to, "no-store".into()))
    }

    /// Where the provider sends the browser back. Always answers 303 to
    /// the app: with a one-time ticket to redeem, or the reason the sign-in
    /// failed. Every outcome is audited with the provider named.
    #[oai(
        operation_id = "finishSingleSignOn",
        path = "/sso/callback",
        method = "get"
    )]
    async fn sso_callback(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        code: poem_openapi::param::Query<Option<String>>,
        #[oai(name = "state")] csrf: poem_openapi::param::Query<Option<String>>,
        error: poem_openapi::param::Query<Option<String>>,
    ) -> SsoRedirect {
        let back = crate::auth::sso::Callback {
            code: code.0,
            state: csrf.0,
            error: error.0,
        };
        let to = crate::auth::sso::finish(&state, &meta, back).await;
        SsoRedirect::SeeOther(to, "no-store".into())
    }

    /// Redeem a finished single sign-on's ticket for the session's tokens
    /// (the same as a password sign-in's). A ticket works once.
    #[oai(
        operation_id = "redeemSingleSignOn",
        path = "/sso/redeem",
        method = "post",
        transform = "write_limit"
    )]
    async fn sso_redeem(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        body: Input<SsoTicketRequest>,
    ) -> Result<Json<TokenResponse>, ProblemResponse> {
        Ok(Json(
            crate::auth::sso::redeem(&state, &meta, body.0.ticket)
                .await?
                .into(),
        ))
    }

    /// Sign out: ends the caller's session.
    #[oai(operation_id = "signOut", path = "/logout", method = "post")]
    async fn logout(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
    ) -> Result<LoggedOut, ProblemResponse> {
        service::logout(&state, &auth.0, &meta).await?;
        Ok(LoggedOut::Done)
    }
}
