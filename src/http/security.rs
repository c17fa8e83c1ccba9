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
    crate::auth::service::authenticate(state, &bearer.token)
        .await
        .map_err(|e| ProblemResponse::from(e).into())
}

impl<'a> FromRequest<'a> for RequestMeta {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        Ok(RequestMeta {
            request_id: req.data::<RequestIdValue>().map(|r| r.0.clone()),
            client_addr: req
                .remote_addr()
                .as_socket_addr()
                .map(|a| a.ip().to_string()),
            idempotency: req
                .data::<super::idempotency::Fingerprint>()
                .map(|f| f.0.clone()),
        })
    }
}
