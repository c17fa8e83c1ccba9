//! RFC 9457 problem details: the one place where every error, ours or
//! poem's, becomes `application/problem+json`.
//!
//! Messages here never quote request values: a rejected field may hold a
//! patron's name. They name fields and rules only.

use poem::{
    Endpoint, IntoResponse, Request, Response,
    error::{MethodNotAllowedError, NotFoundError, ParseJsonError, SizedLimitError},
    http::{StatusCode, header},
};
use poem_openapi::{
    ApiResponse, Object,
    error::{
        AuthorizationError, ContentTypeError, ParseParamError, ParsePathError,
        ParseRequestPayloadError,
    },
    payload::Json,
    registry::{MetaMediaType, MetaResponse, MetaResponses, Registry},
    types::ToJSON,
};

use super::middleware::RequestIdValue;

pub const CONTENT_TYPE: &str = "application/problem+json";

/// A problem detail. `type` is a stable identifier that clients may match on.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Problem")]
pub struct Problem {
    /// Stable identifier of the kind of problem, e.g. `urn:casework:problem:not-found`.
    #[oai(rename = "type")]
    pub kind: String,
    /// Short human-readable summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// Explanation specific to this occurrence.
    #[oai(skip_serializing_if_is_none)]
    pub detail: Option<String>,
    /// The request id (also in the `X-Request-Id` header), for support.
    #[oai(skip_serializing_if_is_none)]
    pub request_id: Option<String>,
    /// Per-field validation errors.
    #[oai(skip_serializing_if_is_empty, default)]
    pub errors: Vec<FieldError>,
    /// With 412: the current record, so that a client can merge its change.
    #[oai(skip_serializing_if_is_none)]
    pub current: Option<serde_json::Value>,
    /// Sent as the `Retry-After` header, not in the body.
    #[oai(skip)]
    pub retry_after: Option<u64>,
}

/// One invalid field: a JSON pointer-like path and what is wrong with it.
#[derive(Debug, Clone, Object)]
pub struct FieldError {
    /// The field, e.g. `username` or `branches/0`.
    pub field: String,
    /// What is wrong, without repeating the value.
    pub message: String,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &str, title: &str) -> Self {
        Problem {
            kind: format!("urn:casework:problem:{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: None,
            request_id: None,
            errors: Vec::new(),
            current: None,
            retry_after: None,
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn field(mut self, field: impl Into<String>, message: impl Into<String>) -> Self {
        self.errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
        self
    }

    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The generic problem for a status code, used when only the status is known.
    pub fn for_status(status: StatusCode) -> Self {
        let (slug, title) = match status {
            StatusCode::BAD_REQUEST => ("bad-request", "The request is malformed"),
            StatusCode::UNAUTHORIZED => ("unauthorized", "Authentication is required"),
            StatusCode::FORBIDDEN => ("forbidden", "Not allowed"),
            StatusCode::NOT_FOUND => ("not-found", "Not found"),
            StatusCode::METHOD_NOT_ALLOWED => {
                ("method-not-allowed", "The method is not allowed here")
            }
            StatusCode::NOT_ACCEPTABLE => ("not-acceptable", "No acceptable representation"),
            StatusCode::CONFLICT => ("conflict", "The request conflicts with the current state"),
            StatusCode::LENGTH_REQUIRED => ("length-required", "Content-Length is required"),
            StatusCode::PRECONDITION_FAILED => ("stale", "The record has changed"),
            StatusCode::PAYLOAD_TOO_LARGE => ("body-too-large", "The request body is too large"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                "unsupported-media-type",
                "The content type is not supported",
            ),
            StatusCode::UNPROCESSABLE_ENTITY => ("invalid", "The request is invalid"),
            StatusCode::PRECONDITION_REQUIRED => ("precondition-required", "If-Match is required"),
            StatusCode::TOO_MANY_REQUESTS => ("too-many-requests", "Too many requests"),
            StatusCode::SERVICE_UNAVAILABLE => ("unavailable", "The service is unavailable"),
            s if s.is_client_error() => ("client-error", "The request cannot be served"),
            _ => ("internal", "Internal error"),
        };
        Problem::new(status, slug, title)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let retry_after = self.retry_after;
        let body = self.to_json_string();
        let mut builder = Response::builder()
            .status(status)
            .content_type(CONTENT_TYPE);
        if let Some(secs) = retry_after {
            builder = builder.header(header::RETRY_AFTER, secs.to_string());
        }
        builder.body(body)
    }
}

/// The error half of every operation's result: documented in the spec as
/// `application/problem+json` under the statuses the operation names.
#[derive(Debug)]
pub struct ProblemResponse(pub Box<Problem>);

impl From<Problem> for ProblemResponse {
    fn from(p: Problem) -> Self {
        ProblemResponse(Box::new(p))
    }
}

impl From<crate::error::ServiceError> for ProblemResponse {
    fn from(err: crate::error::ServiceError) -> Self {
        use crate::error::ServiceError as E;
        let p = match err {
            E::NotFound => Problem::for_status(StatusCode::NOT_FOUND).detail("No such record"),
            E::Forbidden => {
                Problem::for_status(StatusCode::FORBIDDEN).detail("Your role does not allow this")
            }
            E::Conflict(why) => {
                let mut p = Problem::for_status(StatusCode::CONFLICT).detail(why);
                if why.contains("Idempotency-Key") {
                    p.retry_after = Some(1);
                }
                p
            }
            E::ConflictNaming { detail, issues } => {
                let mut p = Problem::for_status(StatusCode::CONFLICT).detail(detail);
                for i in issues {
                    p = p.field(i.field, i.message);
                }
                p
            }
            E::Stale(current) => {
                let mut p = Problem::for_status(StatusCode::PRECONDITION_FAILED)
                    .detail("The record changed since you read it; `current` holds it now");
                p.current = Some(current.to_json());
                p
            }
            E::IdempotencyKeyReused => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "This Idempotency-Key was used for another request",
            )
            .detail("use a new key for a different request")
            .field("Idempotency-Key", "was used for another request"),
            E::PreconditionRequired => Problem::for_status(StatusCode::PRECONDITION_REQUIRED)
                .detail("Send the record's ETag in If-Match"),
            E::Invalid(issues) => {
                let mut p = Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation",
                    "Some fields are invalid",
                );
                for i in issues {
                    p = p.field(i.field, i.message);
                }
                p
            }
            E::SessionEnded(why) => Problem::new(
                StatusCode::UNAUTHORIZED,
                "session-ended",
                "The session has ended: wipe this device's copy and sign in again",
            )
            .detail(why),
            E::Unauthorized(why) => Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Authentication is required",
            )
            .detail(why),
            E::Throttled { retry_after_secs } => {
                let mut p = Problem::for_status(StatusCode::TOO_MANY_REQUESTS)
                    .detail("Too many failed sign-ins; wait before trying again");
                p.retry_after = Some(retry_after_secs);
                p
            }
            E::Unavailable(why) => {
                let mut p = Problem::for_status(StatusCode::SERVICE_UNAVAILABLE).detail(why);
                p.retry_after = Some(30);
                p
            }
            E::Unexpected(_) => Problem::for_status(StatusCode::INTERNAL_SERVER_ERROR),
        };
        ProblemResponse(Box::new(p))
    }
}

impl IntoResponse for ProblemResponse {
    fn into_response(self) -> Response {
        (*self.0).into_response()
    }
}

impl std::fmt::Display for ProblemResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.title)
    }
}

impl std::error::Error for ProblemResponse {}

impl poem::error::ResponseError for ProblemResponse {
    fn status(&self) -> StatusCode {
        self.0.status_code()
    }
    fn as_response(&self) -> Response {
        (*self.0).clone().into_response()
    }
}

/// The statuses an operation may answer with a problem, declared one by one
/// (not hidden behind `default`) so that generated clients know them.
const PROBLEM_STATUSES: &[(u16, &str)] = &[
    (
        400,
        "The request is malformed (a parameter or the JSON itself)",
    ),
    (401, "Authentication is required, or the token is not valid"),
    (403, "The caller's role does not allow this"),
    (404, "No such record, or one the caller may not see"),
    (409, "The request conflicts with the current state"),
    (
        411,
        "A keyed or size-limited request must declare its Content-Length",
    ),
    (
        412,
        "The record changed since it was read; `current` holds it now",
    ),
    (415, "The content type is not supported"),
    (422, "Some fields are invalid; `errors` names each"),
    (428, "If-Match is required"),
    (429, "Too many attempts; see Retry-After"),
    (500, "Internal error"),
];

/// What any operation may answer, whatever it declares: the body limit,
/// hyper's limit on a request's head (see `server`), and the request
/// timeout. Added to every operation of the spec in one place
/// (`app::spec`).
pub const EVERY_OPERATION: &[(u16, &str)] = &[
    (413, "The request body is too large"),
    (
        431,
        "The request's header fields are too large (or too many)",
    ),
    (
        503,
        "The service is unavailable, or the request took too long",
    ),
];

impl ApiResponse for ProblemResponse {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: PROBLEM_STATUSES
                .iter()
                .map(|&(status, description)| MetaResponse {
                    description,
                    status: Some(status),
                    status_range: None,
                    content: vec![MetaMediaType {
                        content_type: CONTENT_TYPE,
                        schema: <Json<Problem> as poem_openapi::payload::Payload>::schema_ref(),
                    }],
                    headers: vec![],
                })
                .collect(),
        }
    }

    fn register(registry: &mut Registry) {
        <Json<Problem> as poem_openapi::payload::Payload>::register(registry);
    }
}

/// Maps any error that escaped an endpoint to a problem, keeping the detail
/// of the errors we know and a generic title for the rest.
pub fn from_error(err: &poem::Error) -> Problem {
    if let Some(p) = err.downcast_ref::<ProblemResponse>() {
        return (*p.0).clone();
    }
    let status = err.status();
    if err.is::<NotFoundError>() {
        return Problem::for_status(StatusCode::NOT_FOUND).detail("No such resource");
    }
    if err.is::<MethodNotAllowedError>() {
        return Problem::for_status(StatusCode::METHOD_NOT_ALLOWED);
    }
    if err.is::<AuthorizationError>() {
        return Problem::for_status(StatusCode::UNAUTHORIZED)
            .detail("Send a valid access token as `Authorization: Bearer <token>`");
    }
    if let Some(e) = err.downcast_ref::<ParseRequestPayloadError>() {
        let problem = Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed-body",
            "The body is not valid",
        );
        return match field_of(&e.reason) {
            Some((field, rule)) => problem.field(field, rule),
            None => problem.detail(
                "The body must be a JSON object of the documented shape, with every required field",
            ),
        };
    }
    if err.is::<ParseJsonError>() {
        return Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed-body",
            "The body is not valid JSON",
        );
    }
    if let Some(e) = err.downcast_ref::<ParseParamError>() {
        let missing = e.reason.ends_with("expects an input value.");
        if missing && e.name.eq_ignore_ascii_case("If-Match") {
            return Problem::for_status(StatusCode::PRECONDITION_REQUIRED)
                .detail("Send the record's ETag in If-Match")
                .field("If-Match", "is required");
        }
        // The types of this crate give a rule without the value; poem's own
        // messages may quote it, so they are not repeated.
        // A type of this crate says `failed to parse "Type": must ...`.
        let reason = e
            .reason
            .strip_prefix("failed to parse \"")
            .and_then(|r| r.split_once("\": "))
            .map_or(e.reason.as_str(), |(_, r)| r);
        let own_rule = reason.starts_with("must ")
            && reason.len() <= 120
            && reason
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || " .,`()_-".contains(c));
        let rule = if missing {
            "is required".to_owned()
        } else if own_rule {
            reason.to_owned()
        } else {
            field_of(&format!("field `{}` {}", e.name, e.reason))
                .map(|(_, rule)| rule)
                .unwrap_or_else(|| "is invalid".to_owned())
        };
        return Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-parameter",
            "A parameter is invalid",
        )
        .field(e.name, rule);
    }
    if let Some(e) = err.downcast_ref::<ParsePathError>() {
        return Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-parameter",
            "A path parameter is invalid",
        )
        .field(e.name, "invalid");
    }
    if let Some(e) = err.downcast_ref::<ContentTypeError>() {
        let p = Problem::for_status(StatusCode::UNSUPPORTED_MEDIA_TYPE);
        return match e {
            ContentTypeError::ExpectContentType => {
                p.detail("Send `Content-Type: application/json`")
            }
            ContentTypeError::NotSupported { .. } => {
                p.detail("Only `application/json` is accepted")
            }
        };
    }
    if let Some(e) = err.downcast_ref::<SizedLimitError>() {
        return match e {
            SizedLimitError::MissingContentLength => {
                Problem::for_status(StatusCode::LENGTH_REQUIRED)
            }
            SizedLimitError::PayloadTooLarge => Problem::for_status(StatusCode::PAYLOAD_TOO_LARGE)
                .detail(format!(
                    "Request bodies are limited to {} bytes",
                    super::WRITE_BODY_LIMIT
                )),
        };
    }
    Problem::for_status(status)
}

/// poem-openapi names a field that fails a validator as
/// ``failed to parse "Type": field `name` verification failed. maxLength(200)``: the name and the rule
/// are safe to repeat (the value is not, and is never part of this message).
pub(crate) fn field_of(reason: &str) -> Option<(String, String)> {
    let start = reason.find("field `")? + "field `".len();
    let rest = &reason[start..];
    let (name, rest) = rest.split_once('`')?;
    let rule = rest.split_once("verification failed.")?.1.trim();
    let rule = rule.split(" (occurred while").next().unwrap_or(rule).trim();
    let safe = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_()., ".contains(c))
    };
    (safe(name) && safe(rule)).then(|| (name.to_owned(), format!("must satisfy {rule}")))
}

/// The methods the spec offers for a concrete path, for the `Allow` header
/// of a 405; given by the composition root, which holds the spec.
#[derive(Clone, Copy)]
pub struct AllowedMethods(pub fn(&str) -> Option<String>);

/// Middleware, outermost after the request id: every error and every error
/// status that is not already problem+json leaves as problem+json.
pub async fn problem_middleware<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let request_id = req.data::<RequestIdValue>().map(|r| r.0.clone());
    let allowed_methods = req.data::<AllowedMethods>().copied();
    let path = req.uri().path().to_owned();
    let problem = match next.call(req).await {
        Ok(resp) => {
            let resp = resp.into_response();
            let status = resp.status();
            let is_problem = resp
                .headers()
                .get(header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(CONTENT_TYPE.as_bytes()));
            if !(status.is_client_error() || status.is_server_error()) || is_problem {
                return Ok(resp);
            }
            let mut p = Problem::for_status(status);
            // Keep headers such as Retry-After and Allow.
            let headers = resp.headers().clone();
            p.request_id = request_id;
            let mut out = p.into_response();
            if let Some(op) = resp.data::<poem_openapi::OperationId>() {
                out.set_data(*op);
            }
            for (name, value) in headers.iter() {
                if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                    out.headers_mut().insert(name.clone(), value.clone());
                }
            }
            return Ok(out);
        }
        Err(err) => (
            from_error(&err),
            err.data::<poem_openapi::OperationId>().copied(),
        ),
    };
    let (problem, operation) = problem;
    let mut problem = problem;
    if problem.request_id.is_none() {
        problem.request_id = request_id;
    }
    let allow = allowed_methods
        .filter(|_| problem.status == StatusCode::METHOD_NOT_ALLOWED.as_u16())
        .and_then(|a| (a.0)(&path));
    let mut resp = problem.into_response();
    // The operation's id, for the request metrics.
    if let Some(op) = operation {
        resp.set_data(op);
    }
    if let Some(allow) = allow.and_then(|a| header::HeaderValue::from_str(&a).ok()) {
        resp.headers_mut().insert(header::ALLOW, allow);
    }
    Ok(resp)
}
