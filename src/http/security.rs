//! Extractors: the signed-in caller and the request's facts.

use poem::{FromRequest, Request, RequestBody};
use poem_openapi::{SecurityScheme, auth::Bearer};

use super::{middleware::RequestIdValue, problem::ProblemResponse};
use crate::{access::Actor, audit::RequestMeta, state::AppState};

/// `Authorization: Bearer <access token>`. A missing or malformed header is
/// refused by poem-openapi before this runs; both end as 401 problem+json.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "check_bearer")]
pub struct BearerAuth(pub Actor);

async fn check_bearer(req: &Request, bearer: Bearer) -> poem::Result<Actor> {
    let state = req
        .data::<AppState>()
        .ok_or_else(|| poem::Error::from_status(poem::http::StatusCode::INTERNAL_SERVER_ERROR))?;
    let actor = crate::auth::service::authenticate(state, &bearer.token)
        .await
        .map_err(ProblemResponse::from)?;
    // An account signed in with a password an admin set may only choose its
    // own (or read itself, or sign out) until it has.
    let path = req.uri().path();
    if actor.must_change_password
        && !matches!(path, "/v1/me/password" | "/v1/me" | "/v1/auth/logout")
    {
        return Err(ProblemResponse::from(
            super::problem::Problem::new(
                poem::http::StatusCode::FORBIDDEN,
                "password-change-required",
                "Choose your own password first",
            )
            .detail("POST /v1/me/password with the password you were given"),
        )
        .into());
    }
    Ok(actor)
}

/// Set on an operation of an uploaded batch, applied in-process: the
/// batch's own request id and client address stand for it.
#[derive(Debug, Clone)]
pub struct Dispatched(pub RequestMeta);

impl<'a> FromRequest<'a> for RequestMeta {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let outer = req.data::<Dispatched>().map(|d| &d.0);
        Ok(RequestMeta {
            request_id: match outer {
                Some(o) => o.request_id.clone(),
                None => req.data::<RequestIdValue>().map(|r| r.0.clone()),
            },
            client_addr: match outer {
                Some(o) => o.client_addr.clone(),
                None => client_addr(req),
            },
            idempotency: req
                .data::<super::idempotency::Fingerprint>()
                .map(|f| f.0.clone()),
        })
    }
}

/// The client's address: the peer's, unless the peer is a trusted proxy,
/// in which case the nearest address in `X-Forwarded-For` that is not itself
/// a trusted proxy (the header's other entries could be forged by anyone).
fn client_addr(req: &Request) -> Option<String> {
    let peer = req.remote_addr().as_socket_addr().map(|a| a.ip())?;
    let trusted: Vec<std::net::IpAddr> = req
        .data::<crate::state::AppState>()
        .and_then(|s| s.settings.trusted_proxy_addrs())
        .unwrap_or_default();
    if !trusted.contains(&peer) {
        return Some(peer.to_string());
    }
    // Read from the right: each trusted proxy appended the address it saw,
    // so the first entry that is not a trusted proxy is the client. What
    // stands to its left was written by whoever sent the request, and is
    // never read (a forged or unreadable entry there changes nothing).
    let entries: Vec<String> = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|a| a.trim().to_owned())
        .collect();
    let mut client = peer;
    for entry in entries.iter().rev() {
        match entry.parse::<std::net::IpAddr>() {
            Ok(a) if trusted.contains(&a) => client = a,
            Ok(a) => {
                client = a;
                break;
            }
            // Not written by a trusted proxy: believe nothing further.
            Err(_) => break,
        }
    }
    Some(client.to_string())
}
