//! Single sign-on with OpenID Connect: the authorization code flow with
//! PKCE, `state` and `nonce`, the provider found by discovery, its keys
//! fetched again when an id token names one not yet known (rotation). The
//! `openidconnect` crate does the protocol and every check of the id token
//! (signature, issuer, audience, expiry, nonce); this module decides which
//! account a verified subject is, and makes the same device session a
//! password sign-in makes.
//!
//! The provider proves who someone is; Casework keeps deciding what they
//! may do: only an account an admin linked to the subject (or, with
//! `oidc_link_by_email`, to a verified email, once) signs in, with its own
//! role and branches, and a deactivated account never does.
//!
//! The finished sign-in reaches the app as a one-time ticket in the URL's
//! fragment (never sent to a server, never in a log); the app redeems it
//! for the session's tokens.

use std::time::Duration;

use chrono::{DateTime, Utc};
use openidconnect::{
    AuthenticationFlow, AuthorizationCode, ClaimsVerificationError, CsrfToken, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, Scope, SignatureVerificationError, TokenResponse,
    core::{CoreIdToken, CoreResponseType},
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
    sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    audit::{Action, AuditContext, NewEvent, Outcome, RequestMeta},
    credentials::SESSION_IDLE_TTL,
    domain::{RecordKind, Role},
    error::{ServiceError, ServiceResult},
    oidc::{Failure, Sso},
    state::AppState,
    text::Line,
};
use entities::{device_session, sso_flow, sso_ticket, staff};

/// How long a sign-in begun at the provider may take to come back.
const FLOW_TTL: Duration = Duration::from_secs(10 * 60);
/// How long the app has to redeem a finished sign-in.
const TICKET_TTL: Duration = Duration::from_secs(2 * 60);

fn hash(secret: &str) -> String {
    crate::credentials::refresh_token_hash(secret)
}

fn provider_query(sso: &Sso) -> String {
    serde_json::json!({"provider": sso.name, "issuer": sso.issuer()}).to_string()
}

/// Begins a single sign-on from the device named `device_name`: keeps what
/// the callback needs under a new `state`, and answers the provider's
/// address to send the browser to.
pub async fn begin(
    state: &AppState,
    meta: &RequestMeta,
    device_name: Line<100>,
) -> ServiceResult<String> {
    let sso = state.sso.clone().ok_or(ServiceError::NotFound)?;
    // An address locked by failed sign-ins begins none (each keeps a row).
    let keys = super::service::address_keys(meta);
    if let Some(retry_after_secs) =
        super::service::locked_for(&state.db, &keys, state.clock.now()).await?
    {
        crate::telemetry::sign_in("sso", "throttled");
        return Err(ServiceError::Throttled { retry_after_secs });
    }
    let md = sso
        .metadata(false)
        .await
        .map_err(|_| ServiceError::Unavailable("the sign-in provider cannot be reached"))?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = sso
        .client(md)
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".to_owned()))
        .add_scope(Scope::new("profile".to_owned()))
        .set_pkce_challenge(challenge)
        .url();
    let row = sso_flow::ActiveModel {
        state_hash: Set(hash(csrf.secret())),
        nonce: Set(nonce.secret().clone()),
        pkce_verifier: Set(verifier.secret().clone()),
        device_name: Set(device_name.into_inner()),
        created_at: Set(state.clock.now()),
        expires_at: Set(
            state.clock.now() + chrono::Duration::from_std(FLOW_TTL).unwrap_or_default()
        ),
        used_at: Set(None),
    };
    state
        .recorder
        .run(AuditContext::default(), move |u| {
            Box::pin(async move {
                // Sign-ins never finished are forgotten once expired.
                sso_flow::Entity::delete_many()
                    .filter(sso_flow::Column::ExpiresAt.lt(u.now()))
                    .exec(u.txn())
                    .await?;
                row.insert(u.txn()).await?;
                Ok(())
            })
        })
        .await?;
    Ok(url.to_string())
}

/// What the provider sent back to the callback.
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
}

/// Finishes a single sign-on: the app's address to send the browser to,
/// with a ticket (`#sso=...`) or the reason it failed (`#sso-error=...`).
/// Every outcome is audited, with the provider named.
pub async fn finish(state: &AppState, meta: &RequestMeta, back: Callback) -> String {
    let Some(sso) = state.sso.clone() else {
        return "/#sso-error=unavailable".to_owned();
    };
    let keys = super::service::address_keys(meta);
    let locked = super::service::locked_for(&state.db, &keys, state.clock.now()).await;
    let outcome = match locked {
        Ok(None) => finish_inner(state, meta, &sso, back).await,
        Ok(Some(_)) => Err((Failure::Throttled, None)),
        Err(_) => Err((Failure::Unavailable("sso_throttle_unreadable"), None)),
    };
    match outcome {
        Ok(ticket) => {
            crate::telemetry::sign_in("sso", "allowed");
            format!("/#sso={ticket}")
        }
        Err((failure, staff_id)) => {
            crate::telemetry::sign_in(
                "sso",
                if failure == Failure::Throttled {
                    "throttled"
                } else {
                    "denied"
                },
            );
            let ctx = AuditContext::anonymous(meta);
            let mut event = ctx
                .event(Action::LoginFailed, Outcome::Denied, failure.rule())
                .query(provider_query(&sso));
            event = match staff_id {
                Some(id) => event.record(RecordKind::Staff, id),
                None => event.record_type(RecordKind::Staff),
            };
            // Recorded, and counted against the address in the same unit
            // when it is what a forger sends.
            let counted = if failure.counts() { keys } else { Vec::new() };
            let recorded = state
                .recorder
                .run(AuditContext::default(), move |u| {
                    Box::pin(async move {
                        u.record(event);
                        super::service::count_failure(u.txn(), &counted, u.now()).await
                    })
                })
                .await;
            if let Err(e) = recorded {
                tracing::error!(error = %e, "cannot record a failed single sign-on");
            }
            format!("/#sso-error={}", failure.code())
        }
    }
}

type Finished<T> = Result<T, (Failure, Option<Uuid>)>;

async fn finish_inner(
    state: &AppState,
    meta: &RequestMeta,
    sso: &Sso,
    back: Callback,
) -> Finished<String> {
    let fail = |f: Failure| (f, None);
    let csrf = back
        .state
        .filter(|s| !s.is_empty() && s.len() <= 512)
        .ok_or(fail(Failure::State("sso_state_missing")))?;
    let flow = take_flow(state, hash(&csrf)).await.map_err(fail)?;
    if back.error.is_some() {
        return Err(fail(Failure::Provider));
    }
    let code = back
        .code
        .filter(|c| !c.is_empty() && c.len() <= 4096)
        .ok_or(fail(Failure::Provider))?;
    let md = sso.metadata(false).await.map_err(fail)?;
    let exchange = sso
        .client(md)
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|_| fail(Failure::Unavailable("sso_no_token_endpoint")))?
        .set_pkce_verifier(PkceCodeVerifier::new(flow.pkce_verifier.clone()))
        .request_async(&sso.http)
        .await
        .map_err(|e| {
            // The kind only: a provider's error description could name the person.
            let kind = match e {
                openidconnect::RequestTokenError::ServerResponse(_) => "the provider's refusal",
                openidconnect::RequestTokenError::Request(_) => "no answer",
                openidconnect::RequestTokenError::Parse(..) => "an answer that is not a token",
                openidconnect::RequestTokenError::Other(_) => "another failure",
            };
            tracing::warn!(kind, "single sign-on: the code was not exchanged");
            fail(Failure::Unavailable("sso_code_refused"))
        })?;
    let id_token = exchange
        .id_token()
        .cloned()
        .ok_or(fail(Failure::Token("sso_id_token_missing")))?;
    let nonce = Nonce::new(flow.nonce.clone());
    let claims = match verify(state, sso, &id_token, &nonce, false).await {
        // A key the provider did not publish when last read: it may have
        // rotated its keys since. Read them again, once.
        Err(Failure::Token("sso_id_token_unknown_key")) => {
            verify(state, sso, &id_token, &nonce, true).await
        }
        other => other,
    }
    .map_err(fail)?;
    let (subject, email) = claims;
    let account = account_for(state, meta, sso, &subject, email.as_deref()).await?;
    start_session(state, meta, sso, account, flow.device_name).await
}

/// The flow `state_hash` names, marked used in the same unit: a `state`
/// that is unknown, expired or used before finishes nothing.
async fn take_flow(state: &AppState, state_hash: String) -> Result<sso_flow::Model, Failure> {
    let taken = state
        .recorder
        .run(AuditContext::default(), move |u| {
            Box::pin(async move {
                let Some(flow) = sso_flow::Entity::find_by_id(state_hash.clone())
                    .one(u.txn())
                    .await?
                else {
                    return Ok(Err(Failure::State("sso_state_unknown")));
                };
                if flow.used_at.is_some() {
                    return Ok(Err(Failure::State("sso_state_replayed")));
                }
                if flow.expires_at <= u.now() {
                    return Ok(Err(Failure::State("sso_state_expired")));
                }
                let marked = sso_flow::Entity::update_many()
                    .col_expr(sso_flow::Column::UsedAt, Expr::value(u.now()))
                    .filter(sso_flow::Column::StateHash.eq(state_hash))
                    .filter(sso_flow::Column::UsedAt.is_null())
                    .exec(u.txn())
                    .await?;
                if marked.rows_affected == 0 {
                    return Ok(Err(Failure::State("sso_state_replayed")));
                }
                Ok(Ok(flow))
            })
        })
        .await;
    match taken {
        Ok(result) => result,
        Err(e) => {
            tracing::error!(error = %e, "single sign-on: cannot read the sign-in's state");
            Err(Failure::Unavailable("sso_state_unreadable"))
        }
    }
}

/// The id token's subject and verified email, after every check the crate
/// makes, at the service's clock.
async fn verify(
    state: &AppState,
    sso: &Sso,
    id_token: &CoreIdToken,
    nonce: &Nonce,
    fresh_keys: bool,
) -> Result<(String, Option<String>), Failure> {
    let md = sso.metadata(fresh_keys).await?;
    let client = sso.client(md);
    let clock = state.clock.clone();
    let verifier = client.id_token_verifier().set_time_fn(move || clock.now());
    let claims = id_token.claims(&verifier, nonce).map_err(|e| {
        Failure::Token(match e {
            ClaimsVerificationError::InvalidAudience(_) => "sso_id_token_audience",
            ClaimsVerificationError::Expired(_) => "sso_id_token_expired",
            ClaimsVerificationError::InvalidNonce(_) => "sso_id_token_nonce",
            ClaimsVerificationError::InvalidIssuer(_) => "sso_id_token_issuer",
            ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            ) => "sso_id_token_unknown_key",
            ClaimsVerificationError::SignatureVerification(_) => "sso_id_token_signature",
            _ => "sso_id_token_invalid",
        })
    })?;
    let email = claims
        .email()
        .filter(|_| claims.email_verified() == Some(true))
        .map(|e| e.as_str().trim().to_lowercase());
    Ok((claims.subject().as_str().to_owned(), email))
}

/// The account linked to `subject`; with `oidc_link_by_email`, an account
/// an admin gave this verified email is linked now, once. A deactivated
/// account, or none, is refused the same way.
async fn account_for(
    state: &AppState,
    meta: &RequestMeta,
    sso: &Sso,
    subject: &str,
    email: Option<&str>,
) -> Finished<staff::Model> {
    let unexpected = |_| (Failure::Unavailable("sso_account_unreadable"), None);
    let linked = staff::Entity::find()
        .filter(staff::Column::SsoSubject.eq(subject))
        .one(&state.db)
        .await
        .map_err(unexpected)?;
    let account = match (linked, email) {
        (Some(a), _) => a,
        (None, Some(email)) if sso.link_by_email() => {
            link_by_email(state, meta, sso, subject, email).await?
        }
        (None, _) => return Err((Failure::NotAllowed("sso_not_linked"), None)),
    };
    if !account.active {
        return Err((
            Failure::NotAllowed("sso_account_deactivated"),
            Some(account.id),
        ));
    }
    Ok(account)
}

async fn link_by_email(
    state: &AppState,
    meta: &RequestMeta,
    sso: &Sso,
    subject: &str,
    email: &str,
) -> Finished<staff::Model> {
    let (subject, email) = (subject.to_owned(), email.to_owned());
    let ctx = AuditContext::anonymous(meta);
    let query = provider_query(sso);
    let linked = state
        .recorder
        .run(AuditContext::default(), move |u| {
            Box::pin(async move {
                let Some(account) = staff::Entity::find()
                    .filter(staff::Column::SsoEmail.eq(email))
                    .filter(staff::Column::SsoSubject.is_null())
                    .one(u.txn())
                    .await?
                else {
                    return Ok(None);
                };
                let id = account.id;
                let version = account.version;
                let mut m = account.into_active_model();
                m.sso_subject = Set(Some(subject));
                // Matched once: the email is spent.
                m.sso_email = Set(None);
                m.version = Set(version + 1);
                m.updated_at = Set(u.now());
                let Some(account) =
                    crate::unit::update_versioned(u.txn(), m, staff::Column::Version, version)
                        .await?
                else {
                    return Err(ServiceError::Conflict("the account changed meanwhile"));
                };
                let mut ctx = ctx;
                ctx.actor_id = Some(id);
                ctx.actor_role = Role::parse(&account.role);
                u.record(
                    ctx.event(
                        Action::Update,
                        Outcome::Allowed,
                        "sso_linked_by_verified_email",
                    )
                    .record(RecordKind::Staff, id)
                    .fields(&["sso_subject", "sso_email"])
                    .query(query),
                );
                u.changed(RecordKind::Staff, id);
                Ok(Some(account))
            })
        })
        .await;
    match linked {
        Ok(Some(account)) => {
            state.actor_cache.invalidate_all();
            Ok(account)
        }
        Ok(None) => Err((Failure::NotAllowed("sso_not_linked"), None)),
        Err(e) => {
            tracing::error!(error = %e, "single sign-on: cannot link by email");
            Err((Failure::Unavailable("sso_link_failed"), None))
        }
    }
}

/// The device session, as a password sign-in makes it, and the one-time
/// ticket that hands it to the app; audited as a sign-in with the provider
/// named.
async fn start_session(
    state: &AppState,
    meta: &RequestMeta,
    sso: &Sso,
    account: staff::Model,
    device_name: String,
) -> Finished<String> {
    let session_id = Uuid::now_v7();
    let ticket = hex::encode(crate::credentials::random_bytes::<32>());
    let ticket_hash = hash(&ticket);
    let staff_id = account.id;
    let mut ctx = AuditContext::anonymous(meta);
    ctx.actor_id = Some(staff_id);
    ctx.actor_role = Role::parse(&account.role);
    ctx.session_id = Some(session_id);
    let event = ctx
        .event(Action::Login, Outcome::Allowed, "sso")
        .record(RecordKind::Session, session_id)
        .query(provider_query(sso));
    let made = state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.subject(event);
                let t = u.now();
                // Deactivated meanwhile: nothing is made.
                let active = staff::Entity::find_by_id(staff_id)
                    .one(u.txn())
                    .await?
                    .is_some_and(|a| a.active);
                if !active {
                    return Err(ServiceError::Forbidden);
                }
                device_session::ActiveModel {
                    id: Set(session_id),
                    staff_id: Set(staff_id),
                    device_name: Set(device_name),
                    created_at: Set(t),
                    last_used_at: Set(t),
                    expires_at: Set(
                        t + chrono::Duration::from_std(SESSION_IDLE_TTL).unwrap_or_default()
                    ),
                    revoked_at: Set(None),
                    revoked_reason: Set(None),
                    signed_in_with: Set("sso".to_owned()),
                }
                .insert(u.txn())
                .await?;
                sso_ticket::ActiveModel {
                    ticket_hash: Set(ticket_hash),
                    session_id: Set(session_id),
                    staff_id: Set(staff_id),
                    expires_at: Set(t + chrono::Duration::from_std(TICKET_TTL).unwrap_or_default()),
                    used_at: Set(None),
                }
                .insert(u.txn())
                .await?;
                sso_ticket::Entity::delete_many()
                    .filter(sso_ticket::Column::ExpiresAt.lt(t))
                    .exec(u.txn())
                    .await?;
                Ok(())
            })
        })
        .await;
    match made {
        Ok(()) => Ok(ticket),
        Err(ServiceError::Forbidden) => Err((
            Failure::NotAllowed("sso_account_deactivated"),
            Some(staff_id),
        )),
        Err(e) => {
            tracing::error!(error = %e, "single sign-on: cannot start the session");
            Err((Failure::Unavailable("sso_session_failed"), Some(staff_id)))
        }
    }
}

/// Redeems a ticket (once, within two minutes) for the session's tokens.
pub async fn redeem(
    state: &AppState,
    meta: &RequestMeta,
    ticket: String,
) -> ServiceResult<super::service::TokenPair> {
    let ticket_hash = hash(&ticket);
    let (refresh, refresh_hash) = crate::credentials::new_refresh_token();
    let ctx = AuditContext::anonymous(meta);
    let refused: NewEvent = ctx
        .event(Action::LoginFailed, Outcome::Denied, "sso_ticket_invalid")
        .record_type(RecordKind::Session);
    let redeemed = state
        .recorder
        .run(AuditContext::default(), move |u| {
            Box::pin(async move {
                let now: DateTime<Utc> = u.now();
                let found = sso_ticket::Entity::find_by_id(ticket_hash.clone())
                    .one(u.txn())
                    .await?
                    .filter(|t| t.used_at.is_none() && t.expires_at > now);
                let marked = match &found {
                    Some(_) => {
                        sso_ticket::Entity::update_many()
                            .col_expr(sso_ticket::Column::UsedAt, Expr::value(now))
                            .filter(sso_ticket::Column::TicketHash.eq(ticket_hash))
                            .filter(sso_ticket::Column::UsedAt.is_null())
                            .exec(u.txn())
                            .await?
                            .rows_affected
                    }
                    None => 0,
                };
                let Some(t) = found.filter(|_| marked == 1) else {
                    u.record(refused);
                    return Ok(None);
                };
                let account = staff::Entity::find_by_id(t.staff_id).one(u.txn()).await?;
                let session = device_session::Entity::find_by_id(t.session_id)
                    .one(u.txn())
                    .await?;
                let live = account.as_ref().is_some_and(|a| a.active)
                    && session
                        .as_ref()
                        .is_some_and(|s| s.revoked_at.is_none() && s.expires_at > now);
                if !live {
                    u.record(refused);
                    return Ok(None);
                }
                super::service::insert_refresh(u.txn(), refresh_hash, t.session_id, now).await?;
                let mut ctx = ctx;
                ctx.actor_id = Some(t.staff_id);
                ctx.actor_role = account.as_ref().and_then(|a| Role::parse(&a.role));
                ctx.session_id = Some(t.session_id);
                u.record(
                    ctx.event(Action::Refresh, Outcome::Allowed, "sso_ticket")
                        .record(RecordKind::Session, t.session_id),
                );
                Ok(Some((t.staff_id, t.session_id)))
            })
        })
        .await?;
    let Some((staff_id, session_id)) = redeemed else {
        return Err(ServiceError::Unauthorized(
            "the sign-in ticket is unknown, used or expired; sign in again",
        ));
    };
    let access_token = state
        .keys
        .issue(staff_id, session_id, state.clock.now())
        .map_err(|e| ServiceError::unexpected("sign token", e))?;
    Ok(super::service::TokenPair {
        access_token,
        refresh_token: refresh,
        session_id,
        // Whoever signs in through the provider has no password to choose.
        password_change_required: false,
    })
}
