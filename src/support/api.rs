//! Support requests: staff and security ask social work for help.

use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
};
use uuid::Uuid;

use crate::http::types::Timestamp;
use crate::http::{
    ApiTags, etag, input::Input, problem::ProblemResponse, security::BearerAuth, write_limit,
};
use crate::text::{ClientId, ETag, IdempotencyKeyText};
use crate::{
    access::View,
    audit::RequestMeta,
    casework::support_links::Link,
    domain::{
        ActionTaken, CaseId, ContactId, IncidentCategory, IncidentField, IncidentId,
        SupportRequestId, SupportRequestStatus, Urgency,
    },
    state::AppState,
    support::requests::{self, Move, Needed, NewSupportRequest, SupportRequestRecord},
};

pub struct SupportRequestsApi;

/// The incident fields the requester chose to share, as they were when the
/// request was made. Only those chosen are present.
#[derive(Object, serde::Serialize, Default)]
pub struct SharedIncidentOut {
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<Timestamp>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<IncidentCategory>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action_taken: Option<ActionTaken>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persons_involved: Option<String>,
}

/// A support request. Its requester sees only `id`, `status`, `created_at`,
/// `received_at`, `received_team` and `closed_at`; the branch's social
/// workers and supervisors see the rest too (what is needed, the shared
/// incident fields, who received it, the contact or case it led to).
#[derive(Object, serde::Serialize)]
pub struct SupportRequestOut {
    pub id: Uuid,
    pub status: SupportRequestStatus,
    pub created_at: Timestamp,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_at: Option<Timestamp>,
    /// The team that received it.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_team: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<Timestamp>,
    pub version: i32,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch_id: Option<Uuid>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urgency: Option<Urgency>,
    /// What is needed (social work only).
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needed: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared: Option<SharedIncidentOut>,
    /// Who asked (social work only).
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<Uuid>,
    /// Who received it (social work only).
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_by: Option<Uuid>,
    /// The contact it led to (social work only).
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<Uuid>,
    /// The case it led to (social work only).
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_id: Option<Uuid>,
}

fn shared_out(m: serde_json::Map<String, serde_json::Value>) -> SharedIncidentOut {
    let text = |f: IncidentField| {
        m.get(f.as_str())
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    SharedIncidentOut {
        occurred_at: text(IncidentField::OccurredAt).map(Timestamp::from),
        category: text(IncidentField::Category).and_then(|c| IncidentCategory::parse(&c)),
        description: text(IncidentField::Description),
        action_taken: text(IncidentField::ActionTaken).and_then(|a| ActionTaken::parse(&a)),
        persons_involved: text(IncidentField::PersonsInvolved),
    }
}

/// Renders a request as its view allows: the status view carries nothing
/// of what was asked or done.
pub fn request_out(r: SupportRequestRecord) -> SupportRequestOut {
    let full = r.view != View::StatusOnly;
    let shared = if full {
        r.shared().map(shared_out)
    } else {
        None
    };
    let link = r.link.filter(|_| full);
    let q = r.request;
    SupportRequestOut {
        id: q.id,
        status: SupportRequestStatus::parse(&q.status).unwrap_or(SupportRequestStatus::Closed),
        created_at: q.created_at.into(),
        received_at: q.received_at.map(Into::into),
        received_team: q.received_team,
        closed_at: q.closed_at.map(Into::into),
        version: q.version,
        branch_id: full.then_some(q.branch_id),
        urgency: full.then(|| Urgency::parse(&q.urgency)).flatten(),
        needed: full.then_some(q.needed),
        shared,
        created_by: full.then_some(q.created_by),
        received_by: link.as_ref().map(|l| l.received_by),
        contact_id: link.as_ref().and_then(|l| l.contact_id),
        case_id: link.as_ref().and_then(|l| l.case_id),
    }
}

/// Rendered as a read renders it, for a 412's `current`.
impl crate::error::Current for SupportRequestRecord {
    fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(request_out(self.clone())).unwrap_or_default()
    }
}

#[derive(Object)]
pub struct NewSupportRequestIn {
    /// Optional client-chosen UUIDv7.
    pub id: Option<ClientId>,
    pub branch_id: Uuid,
    pub urgency: Urgency,
    /// What is needed; may span lines.
    pub needed: Needed,
    /// An incident the requester can read, whose `share`d fields are copied
    /// into the request now.
    pub incident_id: Option<Uuid>,
    /// Which of the incident's fields social work may read; each once.
    #[oai(default, validator(max_items = 5, unique_items))]
    pub share: Vec<IncidentField>,
}

/// What the request led to on the casework side (optional; the caller must
/// be able to read it). Never shown to the requester.
#[derive(Object)]
pub struct SupportRequestMoveIn {
    pub contact_id: Option<Uuid>,
    pub case_id: Option<Uuid>,
}

impl From<SupportRequestMoveIn> for Link {
    fn from(b: SupportRequestMoveIn) -> Self {
        Link {
            contact_id: b.contact_id.map(ContactId::new),
            case_id: b.case_id.map(CaseId::new),
        }
    }
}

#[derive(Object)]
pub struct SupportRequestList {
    pub items: Vec<SupportRequestOut>,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum SupportRequestCreated {
    #[oai(status = 201)]
    Created(Json<SupportRequestOut>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum SupportRequestRead {
    #[oai(status = 200)]
    Ok(Json<SupportRequestOut>, #[oai(header = "ETag")] String),
}

fn read(r: SupportRequestRecord) -> SupportRequestRead {
    let tag = etag(r.request.version);
    SupportRequestRead::Ok(Json(request_out(r)), tag)
}

#[OpenApi(prefix_path = "/v1/support-requests", tag = "ApiTags::SupportRequests")]
impl SupportRequestsApi {
    /// Ask social work for help (staff for their branches, security for
    /// any). The answer is the requester's view: status only.
    #[oai(
        operation_id = "createSupportRequest",
        path = "/",
        method = "post",
        transform = "write_limit"
    )]
    async fn create(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        /// Send the same key again to retry safely: the first answer is replayed.
        #[oai(name = "Idempotency-Key")]
        _idempotency_key: Header<Option<IdempotencyKeyText>>,
        body: Input<NewSupportRequestIn>,
    ) -> Result<SupportRequestCreated, ProblemResponse> {
        let b = body.0;
        let r = requests::create(
            &state,
            &auth.0,
            &meta,
            NewSupportRequest {
                id: b.id,
                branch_id: b.branch_id,
                urgency: b.urgency,
                needed: b.needed,
                incident_id: b.incident_id.map(IncidentId::new),
                share: b.share,
            },
        )
        .await?;
        let tag = etag(r.request.version);
        Ok(SupportRequestCreated::Created(Json(request_out(r)), tag))
    }

    /// The branch's inbox for its social workers and supervisors (oldest
    /// first; `status=open` for what waits); a requester's own requests,
    /// status only.
    #[oai(operation_id = "listSupportRequests", path = "/", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        status: Query<Option<SupportRequestStatus>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))] limit: Query<Option<u64>>,
        #[oai(validator(max_length = 400))] cursor: Query<Option<String>>,
    ) -> Result<Json<SupportRequestList>, ProblemResponse> {
        let page = requests::list(
            &state,
            &auth.0,
            &meta,
            status.0,
            cursor.0.as_deref(),
            limit.0,
        )
        .await?;
        Ok(Json(SupportRequestList {
            items: page.items.into_iter().map(request_out).collect(),
            next_cursor: page.next_cursor,
        }))
    }

    /// One request: in full for the branch's social work, status only for
    /// its requester; anyone else gets the answer a missing id gets.
    #[oai(operation_id = "getSupportRequest", path = "/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> Result<SupportRequestRead, ProblemResponse> {
        Ok(read(
            requests::get(&state, &auth.0, &meta, SupportRequestId::new(id.0)).await?,
        ))
    }

    /// Receive an open request (the branch's social workers and
    /// supervisors), optionally naming the contact or case it led to.
    /// Requires `If-Match`; from another status, 409.
    #[oai(
        operation_id = "receiveSupportRequest",
        path = "/:id/receive",
        method = "post",
        transform = "write_limit"
    )]
    async fn receive(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<ETag>,
        body: Input<SupportRequestMoveIn>,
    ) -> Result<SupportRequestRead, ProblemResponse> {
        Ok(read(
            requests::move_request(
                &state,
                &auth.0,
                &meta,
                SupportRequestId::new(id.0),
                Some(if_match.0.as_str()),
                Move::Receive(body.0.into()),
            )
            .await?,
        ))
    }

    /// Close a request, open or received (the branch's social workers and
    /// supervisors), optionally naming the contact or case it led to.
    /// Requires `If-Match`; a closed one is 409.
    #[oai(
        operation_id = "closeSupportRequest",
        path = "/:id/close",
        method = "post",
        transform = "write_limit"
    )]
    async fn close(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<ETag>,
        body: Input<SupportRequestMoveIn>,
    ) -> Result<SupportRequestRead, ProblemResponse> {
        Ok(read(
            requests::move_request(
                &state,
                &auth.0,
                &meta,
                SupportRequestId::new(id.0),
                Some(if_match.0.as_str()),
                Move::Close(body.0.into()),
            )
            .await?,
        ))
    }
}
