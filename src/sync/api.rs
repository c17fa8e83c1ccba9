//! `GET /v1/sync`, the change feed for offline tablets, and `POST
//! /v1/sync`, the upload of what a tablet did offline: a batch of the API's
//! own write operations, each applied through the API itself (its
//! validation, policy, idempotency and audit), one after another and each
//! on its own, with an answer per operation.

use poem::{Endpoint, IntoResponse, Request, web::Data};
use poem_openapi::{Enum, Object, OpenApi, param::Query, payload::Json};
use serde_json::Value;
use uuid::Uuid;

use super::feed::{self, Body, Item};
use crate::{
    audit::RequestMeta,
    casework::api::{
        cases::{CaseOut, NoteOut, case_out, note_out},
        consents::{ConsentOut, consent_out},
        contacts::{ContactOut, contact_out},
        follow_ups::{FollowUpOut, follow_up_out},
        mandated_reports::{MandatedReportOut, report_out},
        patrons::{PatronOut, patron_out},
        referrals::{ReferralOut, referral_out},
    },
    directory::services_api::{ServiceOut, service_out},
    domain::SyncKind,
    http::{ApiTags, input::Input, problem::ProblemResponse, security::BearerAuth, write_limit},
    state::AppState,
    support::api::{SupportRequestOut, request_out},
    text::IdempotencyKeyText,
};

pub struct SyncApi;

/// One record of the caller's view: its kind and id, and the record itself
/// under the field named after its kind, as that kind's own read shows it.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct SyncItemOut {
    pub kind: SyncKind,
    pub id: Uuid,
    pub service: Option<ServiceOut>,
    pub patron: Option<PatronOut>,
    pub case: Option<CaseOut>,
    pub case_note: Option<NoteOut>,
    pub contact: Option<ContactOut>,
    pub consent: Option<ConsentOut>,
    pub referral: Option<ReferralOut>,
    pub follow_up: Option<FollowUpOut>,
    pub mandated_report: Option<MandatedReportOut>,
    pub support_request: Option<SupportRequestOut>,
}

/// A record that left the caller's view: the device drops it.
#[derive(Object)]
pub struct SyncRemovalOut {
    pub kind: SyncKind,
    pub id: Uuid,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct SyncPageOut {
    /// Records created or changed since the cursor (or, without one, the
    /// whole view), oldest kind first.
    pub items: Vec<SyncItemOut>,
    /// Records the device holds that left the caller's view.
    pub removed: Vec<SyncRemovalOut>,
    /// Where the next sync starts. Absent only with `reset`.
    pub next_cursor: Option<String>,
    /// More is waiting now: ask again at once with `next_cursor`.
    pub more: bool,
    /// The caller's own account changed: drop the offline copy and sync
    /// again without a cursor.
    pub reset: bool,
}

/// One record of the feed, as it reads at `now` (the service's clock).
fn item_out(it: Item, now: chrono::DateTime<chrono::Utc>) -> SyncItemOut {
    let mut out = SyncItemOut {
        kind: it.kind,
        id: it.id,
        service: None,
        patron: None,
        case: None,
        case_note: None,
        contact: None,
        consent: None,
        referral: None,
        follow_up: None,
        mandated_report: None,
        support_request: None,
    };
    match it.body {
        Body::Service(s) => out.service = Some(service_out(s)),
        Body::Patron(p) => out.patron = Some(patron_out(p)),
        Body::Case(c) => out.case = Some(case_out(c)),
        Body::Note(n) => out.case_note = Some(note_out(n)),
        Body::Contact(c) => out.contact = Some(contact_out(c)),
        Body::Consent(c) => out.consent = Some(consent_out(c, now)),
        Body::Referral(r, h) => out.referral = Some(referral_out(r, h)),
        Body::FollowUp(f) => out.follow_up = Some(follow_up_out(f, now.date_naive())),
        Body::MandatedReport(r) => out.mandated_report = Some(report_out(r)),
        Body::SupportRequest(r) => out.support_request = Some(request_out(r)),
    }
    out
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "UPPERCASE")]
pub enum SyncMethod {
    Post,
    Patch,
    Delete,
}

/// One write the device made offline: an operation of this API, as its own
/// entry in this spec describes it.
#[derive(Object)]
pub struct SyncOperationIn {
    /// The operation's id, chosen on the device; sent as the
    /// `Idempotency-Key` of a POST, so that a retried upload applies
    /// nothing twice.
    pub op_id: IdempotencyKeyText,
    pub method: SyncMethod,
    /// The operation's path, as in this spec: a casework write
    /// (`/v1/patrons`, `/v1/contacts/{id}`, `/v1/cases/{id}/notes`, ...).
    #[oai(validator(
        max_length = 300,
        pattern = r"^/v1/(patrons|contacts|cases|follow-ups|referrals|consents|mandated-reports|support-requests)(/[A-Za-z0-9_-]+)*$"
    ))]
    pub path: String,
    /// For a change to an existing record: the version the device last saw
    /// (sent as `If-Match`). A newer version on the server is a conflict;
    /// nothing is overwritten.
    #[oai(validator(minimum(value = "1")))]
    pub version: Option<i32>,
    /// The request body, as that operation's entry in this spec describes it.
    pub body: Option<Value>,
}

#[derive(Object)]
pub struct SyncUploadIn {
    /// Applied in order, each on its own: one that fails does not stop the
    /// others (a later one may use a record an earlier one made).
    #[oai(validator(min_items = 1, max_items = 200))]
    pub operations: Vec<SyncOperationIn>,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum SyncOutcome {
    /// Done now: `record` is the answer.
    Applied,
    /// Done before, by an earlier upload of the same `op_id`: `record` is
    /// the record as it is now.
    Duplicate,
    /// The record changed on the server since the version the device saw:
    /// `current` is the record now, for the device to merge.
    Conflict,
    /// Refused: `problem` says why (the operation's own problem details).
    Rejected,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct SyncResultOut {
    pub op_id: String,
    pub outcome: SyncOutcome,
    /// The operation's HTTP status.
    pub status: u16,
    /// The operation's answer (applied, duplicate).
    pub record: Option<Value>,
    /// The record as it is on the server (conflict).
    pub current: Option<Value>,
    /// Why it was refused (rejected).
    pub problem: Option<Value>,
}

#[derive(Object)]
pub struct SyncUploadOut {
    /// One per operation, in the order sent.
    pub results: Vec<SyncResultOut>,
}

/// Applies one operation through the API, as its own request signed in as
/// the uploader.
async fn apply(
    ops: &impl Endpoint,
    outer: &Request,
    meta: &RequestMeta,
    op: SyncOperationIn,
) -> SyncResultOut {
    let op_id = op.op_id.as_str().to_owned();
    let body = serde_json::to_vec(&op.body.unwrap_or(Value::Object(Default::default())))
        .unwrap_or_default();
    let method = match op.method {
        SyncMethod::Post => poem::http::Method::POST,
        SyncMethod::Patch => poem::http::Method::PATCH,
        SyncMethod::Delete => poem::http::Method::DELETE,
    };
    let mut builder = Request::builder()
        .method(method.clone())
        .uri_str(&op.path)
        .content_type("application/json")
        .header(poem::http::header::CONTENT_LENGTH, body.len());
    if let Some(auth) = outer.header(poem::http::header::AUTHORIZATION) {
        builder = builder.header(poem::http::header::AUTHORIZATION, auth);
    }
    if method == poem::http::Method::POST {
        builder = builder.header(crate::http::idempotency::HEADER, op_id.as_str());
    }
    if let Some(v) = op.version {
        builder = builder.header(poem::http::header::IF_MATCH, crate::http::etag(v));
    }
    let mut req = builder.body(body);
    req.set_data(crate::http::security::Dispatched(meta.clone()));
    let resp = match ops.call(req).await {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    };
    let status = resp.status();
    let replayed = resp
        .headers()
        .contains_key(crate::http::idempotency::REPLAYED);
    let answer: Option<Value> = resp
        .into_body()
        .into_bytes()
        .await
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let mut out = SyncResultOut {
        op_id,
        outcome: SyncOutcome::Rejected,
        status: status.as_u16(),
        record: None,
        current: None,
        problem: None,
    };
    if status.is_success() {
        out.outcome = if replayed {
            SyncOutcome::Duplicate
        } else {
            SyncOutcome::Applied
        };
        out.record = answer;
    } else if status == poem::http::StatusCode::PRECONDITION_FAILED {
        out.outcome = SyncOutcome::Conflict;
        out.current = answer.as_ref().and_then(|p| p.get("current")).cloned();
        out.problem = answer;
    } else {
        out.problem = answer;
    }
    out
}

#[OpenApi(prefix_path = "/v1/sync", tag = "ApiTags::Sync")]
impl SyncApi {
    /// The change feed for a tablet's offline copy (peers, social workers,
    /// supervisors). Without a cursor: the caller's whole current view,
    /// paged. With one: every record the caller may see that was created or
    /// changed since, and in `removed` the records this device holds that
    /// left the caller's view. A page with `more` is followed at once; an
    /// up-to-date device gets an empty page. The cursor survives restarts
    /// and never skips a change that committed late.
    #[oai(operation_id = "syncFeed", path = "/", method = "get")]
    async fn feed(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        #[oai(validator(minimum(value = "1"), maximum(value = "2000")))] limit: Query<Option<u64>>,
        #[oai(validator(max_length = 400))] cursor: Query<Option<String>>,
    ) -> Result<Json<SyncPageOut>, ProblemResponse> {
        let page = feed::page(&state, &auth.0, &meta, cursor.0.as_deref(), limit.0).await?;
        crate::telemetry::sync_page();
        let now = state.clock.now();
        Ok(Json(SyncPageOut {
            items: page.items.into_iter().map(|it| item_out(it, now)).collect(),
            removed: page
                .removed
                .into_iter()
                .map(|(kind, id)| SyncRemovalOut { kind, id })
                .collect(),
            next_cursor: page.next_cursor,
            more: page.more,
            reset: page.reset,
        }))
    }

    /// Upload what the device did offline (the roles that keep an offline
    /// copy): up to 200 of this API's casework writes, applied in order, each
    /// on its own and each exactly as if sent alone (validation, policy,
    /// idempotency, audit), signed in as the uploader. The answer names, per
    /// operation, `applied`, `duplicate` (a retried `op_id`: nothing is
    /// applied twice), `conflict` (with the server's current record; nothing
    /// newer is overwritten) or `rejected` (with the problem). Records keep
    /// the device's `occurred_at` where their operation takes one.
    #[oai(
        operation_id = "syncUpload",
        path = "/",
        method = "post",
        transform = "write_limit"
    )]
    async fn upload(
        &self,
        state: Data<&AppState>,
        ops: Data<&crate::http::Operations>,
        meta: RequestMeta,
        auth: BearerAuth,
        req: &Request,
        body: Input<SyncUploadIn>,
    ) -> Result<Json<SyncUploadOut>, ProblemResponse> {
        feed::admit(&state, &auth.0, &meta).await?;
        let ops = &*ops.0.0;
        let mut results = Vec::new();
        for op in body.0.operations {
            results.push(apply(ops, req, &meta, op).await);
        }
        Ok(Json(SyncUploadOut { results }))
    }
}

const _: () = assert!(feed::MAX_LIMIT == 2_000, "the spec's limit maximum");
