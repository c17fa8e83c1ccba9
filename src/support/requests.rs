//! The support-request service.

use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Condition, SimpleExpr},
};
use uuid::Uuid;

use crate::{
    access::{self, Actor, Facts, Scope, Term, View},
    audit::{Action, AuditContext, Outcome, RequestMeta},
    casework::support_links::{self, Handled, Link, Step},
    domain::{
        FieldIssue, IncidentField, IncidentId, RecordKind, SupportRequestId, SupportRequestStatus,
        Urgency,
    },
    error::{ServiceError, ServiceResult},
    paging::{Cursor, Page, page, page_size},
    safety::incidents,
    state::AppState,
    text::{ClientId, Text},
    unit::{self, Claim, Loaded, Made, for_change, stale, update_versioned},
};
use entities::{branch, support_request};

/// Everything the receiving side reads.
pub const FIELDS: &[&str] = &[
    "id",
    "branch_id",
    "urgency",
    "needed",
    "shared",
    "status",
    "created_by",
    "created_at",
    "received_at",
    "received_team",
    "received_by",
    "contact_id",
    "case_id",
    "closed_at",
];

/// What the requester reads: the status, when, and who (as a team).
pub const STATUS_FIELDS: &[&str] = &[
    "id",
    "status",
    "created_at",
    "received_at",
    "received_team",
    "closed_at",
];

fn fields(view: View) -> &'static [&'static str] {
    match view {
        View::StatusOnly => STATUS_FIELDS,
        View::Full | View::Summary => FIELDS,
    }
}

pub type Needed = Text<2_000>;

/// A request as one caller may see it: the view decides what is shown, and
/// the receiving side's link is loaded only for the full view.
#[derive(Debug, Clone)]
pub struct SupportRequestRecord {
    pub request: support_request::Model,
    pub view: View,
    pub link: Option<Handled>,
}

impl SupportRequestRecord {
    /// The shared incident fields, as copied.
    pub fn shared(&self) -> Option<serde_json::Map<String, serde_json::Value>> {
        self.request
            .shared
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
    }
}

fn facts(actor: &Actor, r: &support_request::Model) -> Facts {
    Facts {
        glass: false,
        mine: r.created_by == actor.staff_id,
        team: false,
        branch: r.branch_id,
    }
}

async fn load(
    db: &impl sea_orm::ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> ServiceResult<Option<Loaded<support_request::Model>>> {
    Ok(support_request::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|r| Loaded {
            facts: facts(actor, &r),
            patron: None,
            record: r,
        }))
}

fn term(term: Term, actor: &Actor, branches: &[Uuid]) -> SimpleExpr {
    match term {
        Term::Mine => support_request::Column::CreatedBy.eq(actor.staff_id),
        Term::Branch => support_request::Column::BranchId.is_in(branches.to_vec()),
        Term::All => crate::scope::always(),
        Term::Team | Term::Glass => crate::scope::never(),
    }
}

fn condition(scope: &Scope, actor: &Actor) -> Condition {
    crate::scope::admitted(scope, |t| term(t, actor, &scope.branches))
}

/// Attaches, for the full view only, the receiving side's links.
async fn with_links(
    db: &impl sea_orm::ConnectionTrait,
    rows: Vec<support_request::Model>,
    view: View,
) -> ServiceResult<Vec<SupportRequestRecord>> {
    let mut links = if view == View::Full {
        let ids: Vec<SupportRequestId> = rows.iter().map(|r| SupportRequestId::new(r.id)).collect();
        support_links::of(db, &ids).await?
    } else {
        Vec::new()
    };
    Ok(rows
        .into_iter()
        .map(|request| {
            let link = links
                .iter()
                .position(|l| l.request == request.id)
                .map(|i| links.swap_remove(i));
            SupportRequestRecord {
                request,
                view,
                link,
            }
        })
        .collect())
}

pub struct NewSupportRequest {
    pub id: Option<ClientId>,
    pub branch_id: Uuid,
    pub urgency: Urgency,
    pub needed: Needed,
    pub incident_id: Option<IncidentId>,
    pub share: Vec<IncidentField>,
}

/// Opens a request (staff for their branches, security for any). With an
/// incident, the listed fields are copied into the request now; later
/// changes to the incident do not reach it.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    input: NewSupportRequest,
) -> ServiceResult<SupportRequestRecord> {
    let ctx = AuditContext::for_actor(actor, meta);
    let id = ClientId::or_new(input.id);
    if input.incident_id.is_none() && !input.share.is_empty() {
        return Err(ServiceError::invalid(
            "share",
            "names incident fields: give incident_id too",
        ));
    }
    let key = meta.idempotency.clone();
    let who = actor.clone();
    let clock = state.clock.clone();
    let made = state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(Action::Create, RecordKind::SupportRequest, Some(id));
                let decision = access::create_support_request(&who, input.branch_id);
                if !decision.is_allowed() {
                    return Err(u.deny(decision, None, ServiceError::Forbidden));
                }
                // The incident it names is one the caller may read.
                let shared = match input.incident_id {
                    Some(incident) => Some(
                        incidents::copy_for_support_request(u, &who, incident, &input.share)
                            .await?,
                    ),
                    None => None,
                };
                if let Claim::Replay(first) = u
                    .claim(key.as_ref(), RecordKind::SupportRequest, id, 201)
                    .await?
                {
                    return Ok(u.replay(first));
                }
                if branch::Entity::find_by_id(input.branch_id)
                    .one(u.txn())
                    .await?
                    .is_none()
                {
                    return Err(ServiceError::invalid("branch_id", "no such branch"));
                }
                u.allow(decision.rule(), None, FIELDS);
                if support_request::Entity::find_by_id(id)
                    .one(u.txn())
                    .await?
                    .is_some()
                {
                    return Err(ServiceError::Conflict("a record with this id exists"));
                }
                let t = clock.now();
                let m = support_request::ActiveModel {
                    id: Set(id),
                    branch_id: Set(input.branch_id),
                    urgency: Set(input.urgency.as_str().to_owned()),
                    needed: Set(input.needed.into_inner()),
                    shared: Set(shared.map(|s| serde_json::Value::Object(s).to_string())),
                    status: Set(SupportRequestStatus::Open.as_str().to_owned()),
                    received_at: Set(None),
                    received_team: Set(None),
                    closed_at: Set(None),
                    version: Set(1),
                    created_by: Set(who.staff_id),
                    created_at: Set(t),
                    updated_at: Set(t),
                }
                .insert(u.txn())
                .await?;
                u.changed(RecordKind::SupportRequest, id);
                Ok(Made::New(m))
            })
        })
        .await?;
    match made {
        // The requester's view of what they just opened.
        Made::New(request) => Ok(SupportRequestRecord {
            view: access::support_request_scope(actor)
                .admits(&facts(actor, &request))
                .map(|g| g.view)
                .unwrap_or(View::StatusOnly),
            request,
            link: None,
        }),
        Made::Replay(first) => get(state, actor, meta, SupportRequestId::new(first)).await,
    }
}

pub async fn get(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: SupportRequestId,
) -> ServiceResult<SupportRequestRecord> {
    let ctx = AuditContext::for_actor(actor, meta);
    let scope = access::support_request_scope(actor);
    let (request, grant) = unit::read_one(
        state,
        &ctx,
        &scope,
        Action::Read,
        RecordKind::SupportRequest,
        id.uuid(),
        fields,
        || load(&state.db, actor, id.uuid()),
    )
    .await?;
    Ok(with_links(&state.db, vec![request], grant.view)
        .await?
        .remove(0))
}

/// The requests the caller may see, oldest first: the branch's inbox for
/// social work, their own requests (status only) for a requester.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    status: Option<SupportRequestStatus>,
    cursor: Option<&str>,
    limit: Option<u64>,
) -> ServiceResult<Page<SupportRequestRecord>> {
    let ctx = AuditContext::for_actor(actor, meta);
    let scope = access::support_request_scope(actor);
    let grant = unit::search_scope(state, &ctx, &scope, RecordKind::SupportRequest).await?;
    let cursor = Cursor::decode(cursor)?;
    let limit = page_size(limit);
    let mut select = support_request::Entity::find().filter(condition(&scope, actor));
    if let Some(s) = status {
        select = select.filter(support_request::Column::Status.eq(s.as_str()));
    }
    if let Some(c) = &cursor {
        select = select.filter(support_request::Column::Id.gt(c.id));
    }
    let rows = select
        .order_by_asc(support_request::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let (rows, next_cursor) = page(rows, limit, |r| Cursor::of_id(r.id));
    let ev = ctx
        .event(Action::Search, Outcome::Allowed, grant.rule)
        .record_type(RecordKind::SupportRequest)
        .results(rows.iter().map(|r| r.id).collect())
        .fields(fields(grant.view));
    state.recorder.record(vec![ev]).await?;
    Ok(Page {
        items: with_links(&state.db, rows, grant.view).await?,
        next_cursor,
    })
}

/// The requests among `ids` (or, with `ids` absent, after `after` in id
/// order, `limit` of them) that `actor` may see, as their view shows them:
/// what a tablet's offline copy holds of the door.
pub async fn visible(
    db: &impl sea_orm::ConnectionTrait,
    actor: &Actor,
    ids: Option<&[Uuid]>,
    after: Option<Uuid>,
    limit: u64,
) -> ServiceResult<Vec<SupportRequestRecord>> {
    let scope = access::support_request_scope(actor);
    let Some(grant) = scope.grants.first().copied() else {
        return Ok(Vec::new());
    };
    let mut select = support_request::Entity::find().filter(condition(&scope, actor));
    if let Some(ids) = ids {
        select = select.filter(support_request::Column::Id.is_in(ids.iter().copied()));
    }
    if let Some(a) = after {
        select = select.filter(support_request::Column::Id.gt(a));
    }
    let rows = select
        .order_by_asc(support_request::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    with_links(db, rows, grant.view).await
}

/// Receiving or closing a request.
pub enum Move {
    Receive(Link),
    Close(Link),
}

/// Moves a request on (`open -> received -> closed`, or `open -> closed`):
/// the branch's social workers and supervisors. What they link is stored on
/// the casework side. Requires the current version.
pub async fn move_request(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: SupportRequestId,
    if_match: Option<&str>,
    step: Move,
) -> ServiceResult<SupportRequestRecord> {
    let ctx = AuditContext::for_actor(actor, meta);
    let version = unit::parse_if_match(if_match)?;
    let who = actor.clone();
    let clock = state.clock.clone();
    let request = state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(
                    Action::Transition,
                    RecordKind::SupportRequest,
                    Some(id.uuid()),
                );
                let scope = access::support_request_scope(&who);
                let loader = who.clone();
                let ch = for_change(
                    u,
                    &scope,
                    move |txn| Box::pin(async move { load(txn, &loader, id.uuid()).await }),
                    |_, f| access::handle_support_request(&who, f),
                )
                .await?;
                let current = ch.record;
                if current.version != version {
                    return Err(stale(SupportRequestRecord {
                        request: current,
                        view: View::Full,
                        link: None,
                    }));
                }
                let from = SupportRequestStatus::parse(&current.status)
                    .unwrap_or(SupportRequestStatus::Closed);
                let (to, link, done) = match step {
                    Move::Receive(link) => (SupportRequestStatus::Received, link, Step::Received),
                    Move::Close(link) => (SupportRequestStatus::Closed, link, Step::Closed),
                };
                let allowed: &[SupportRequestStatus] = match from {
                    SupportRequestStatus::Open => {
                        &[SupportRequestStatus::Received, SupportRequestStatus::Closed]
                    }
                    SupportRequestStatus::Received => &[SupportRequestStatus::Closed],
                    SupportRequestStatus::Closed => &[],
                };
                if !allowed.contains(&to) {
                    let names: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
                    return Err(ServiceError::ConflictNaming {
                        detail: "This move is not allowed from the request's status",
                        issues: vec![FieldIssue::new(
                            "status",
                            if names.is_empty() {
                                "is closed: no move is allowed".to_owned()
                            } else {
                                format!("allows only: {}", names.join(", "))
                            },
                        )],
                    });
                }
                let patron = support_links::record(u, &who, id, link, done).await?;
                let mut names = vec!["status"];
                if link.contact_id.is_some() {
                    names.push("contact_id");
                }
                if link.case_id.is_some() {
                    names.push("case_id");
                }
                u.allow(ch.rule, patron, &names);
                let t = clock.now();
                let mut m = current.clone().into_active_model();
                m.status = Set(to.as_str().to_owned());
                if current.received_at.is_none() {
                    let team = branch::Entity::find_by_id(current.branch_id)
                        .one(u.txn())
                        .await?
                        .map(|b| format!("Social work, {}", b.name))
                        .unwrap_or_else(|| "Social work".to_owned());
                    m.received_at = Set(Some(t));
                    m.received_team = Set(Some(team));
                }
                if to == SupportRequestStatus::Closed {
                    m.closed_at = Set(Some(t));
                }
                m.version = Set(version + 1);
                m.updated_at = Set(t);
                let Some(m) =
                    update_versioned(u.txn(), m, support_request::Column::Version, version).await?
                else {
                    return Err(ServiceError::Conflict(
                        "the request changed meanwhile: read it again",
                    ));
                };
                u.changed(RecordKind::SupportRequest, id.uuid());
                Ok(m)
            })
        })
        .await?;
    Ok(with_links(&state.db, vec![request], View::Full)
        .await?
        .remove(0))
}
