//! Cases: a patron's case file, its owner and team.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::scope::{self, CaseWithFacts};
use crate::{
    access::{self, Actor, CaseFacts, Decision, View},
    audit::{self, Action, AuditContext, Outcome, RequestMeta},
    domain::{CaseId, CaseStatus, FollowUpStatus, PatronId, RecordKind, Role, StaffId},
    error::{ServiceError, ServiceResult},
    paging::{Cursor, Order, Page, after, page, page_size},
    state::AppState,
    text::{ClientId, Text},
    unit::{self, Claim, Made, Unit, stale, update_versioned},
};
use entities::{case_file, case_member, follow_up, staff};

pub const FIELDS: &[&str] = &[
    "id",
    "patron_id",
    "owner_id",
    "branch_id",
    "status",
    "summary",
    "opened_at",
    "closed_at",
    "status_reason",
    "team",
];

fn fields(view: View) -> &'static [&'static str] {
    match view {
        View::Full => FIELDS,
        View::Summary | View::StatusOnly => SUMMARY_FIELDS,
    }
}

/// What a peer's summary of a case shows (no close/reopen reason).
const SUMMARY_FIELDS: &[&str] = &[
    "id",
    "patron_id",
    "owner_id",
    "branch_id",
    "status",
    "summary",
    "opened_at",
    "closed_at",
    "team",
];

/// A case with its current team, as the caller may see it.
#[derive(Debug, Clone)]
pub struct CaseView {
    pub case: case_file::Model,
    pub team: Vec<Uuid>,
    pub view: View,
}

impl CaseView {
    /// Whether the caller's view shows `field`.
    pub fn shows(&self, field: &str) -> bool {
        fields(self.view).contains(&field)
    }
}

pub struct NewCase {
    pub id: Option<ClientId>,
    pub patron_id: PatronId,
    pub branch_id: Option<Uuid>,
    pub summary: Option<Summary>,
}

pub async fn open(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    input: NewCase,
) -> ServiceResult<CaseView> {
    let ctx = AuditContext::for_actor(actor, meta);
    let id = ClientId::or_new(input.id);
    let summary = input.summary.and_then(Text::into_present);
    let key = meta.idempotency.clone();
    let who = actor.clone();
    let made = state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(Action::Create, RecordKind::Case, Some(id));
                // The role first, before the patron is looked at.
                let decision = access::opens_cases(&who);
                if !decision.is_allowed() {
                    return Err(u.deny(decision, None, ServiceError::Forbidden));
                }
                let p = scope::visible_patron(u, &who, input.patron_id.uuid()).await?;
                let branch = input.branch_id.unwrap_or(p.home_branch_id);
                let decision = access::open_case(&who, branch);
                if !decision.is_allowed() {
                    return Err(u.deny(decision, Some(p.id), ServiceError::Forbidden));
                }
                if let Claim::Replay(first) =
                    u.claim(key.as_ref(), RecordKind::Case, id, 201).await?
                {
                    return Ok(u.replay(first));
                }
                u.allow(decision.rule(), Some(p.id), FIELDS);
                if case_file::Entity::find_by_id(id)
                    .one(u.txn())
                    .await?
                    .is_some()
                {
                    return Err(ServiceError::Conflict("a record with this id exists"));
                }
                let t = u.now();
                let case = case_file::ActiveModel {
                    id: Set(id),
                    patron_id: Set(p.id),
                    owner_id: Set(who.staff_id),
                    branch_id: Set(branch),
                    status: Set(CaseStatus::Open.as_str().to_owned()),
                    summary: Set(summary),
                    opened_at: Set(t),
                    closed_at: Set(None),
                    status_reason: Set(None),
                    last_activity_at: Set(audit::format_time(t)),
                    version: Set(1),
                    created_by: Set(who.staff_id),
                    created_at: Set(t),
                    updated_at: Set(t),
                }
                .insert(u.txn())
                .await?;
                u.changed(RecordKind::Case, id);
                Ok(Made::New(CaseView {
                    case,
                    team: vec![],
                    view: View::Full,
                }))
            })
        })
        .await?;
    match made {
        Made::New(v) => Ok(v),
        Made::Replay(first) => get(state, actor, meta, CaseId::new(first)).await,
    }
}

/// Loads a case the caller may read, auditing a refusal under `action`;
/// anything else is not found. Notes use it for their case; what they read
/// next is audited by them.
pub async fn readable(
    state: &AppState,
    ctx: &AuditContext,
    actor: &Actor,
    id: Uuid,
    action: Action,
) -> ServiceResult<(CaseWithFacts, access::Grant)> {
    let scope = access::case_scope(actor);
    unit::gate_one(state, ctx, &scope, action, RecordKind::Case, id, || {
        scope::load_case(&state.db, actor, id, state.clock.now())
    })
    .await
}

pub async fn get(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: CaseId,
) -> ServiceResult<CaseView> {
    let id = id.uuid();
    let ctx = AuditContext::for_actor(actor, meta);
    let scope = access::case_scope(actor);
    let ((case, facts), grant) = unit::read_one(
        state,
        &ctx,
        &scope,
        Action::Read,
        RecordKind::Case,
        id,
        fields,
        || scope::load_case(&state.db, actor, id, state.clock.now()),
    )
    .await?;
    Ok(CaseView {
        case,
        team: facts.team,
        view: grant.view,
    })
}

/// What a change to a case does, checked and applied inside the unit.
/// A case summary: may span lines; blank means none.
pub type Summary = Text<4000, 0>;
/// Why a case was closed or reopened.
pub type Reason = Text<500>;

pub enum Change {
    Summary(Summary),
    AddMember(StaffId),
    RemoveMember(StaffId),
    Close(Reason),
    Reopen(Reason),
    Reassign(StaffId),
}

impl Change {
    fn decide(&self, actor: &Actor, f: &CaseFacts) -> Decision {
        match self {
            Change::Summary(_) | Change::Close(_) | Change::Reopen(_) => {
                access::update_case(actor, f)
            }
            Change::AddMember(_) | Change::RemoveMember(_) => access::manage_case_team(actor, f),
            Change::Reassign(_) => access::reassign_case(actor, f),
        }
    }

    fn fields(&self) -> &'static [&'static str] {
        match self {
            Change::Summary(_) => &["summary"],
            Change::AddMember(_) | Change::RemoveMember(_) => &["team"],
            Change::Close(_) | Change::Reopen(_) => &["status", "status_reason", "closed_at"],
            Change::Reassign(_) => &["owner_id"],
        }
    }

    fn action(&self) -> Action {
        match self {
            Change::Close(_) | Change::Reopen(_) => Action::Transition,
            _ => Action::Update,
        }
    }
}

/// An active staff member whose role the policy accepts for this place on a case.
async fn eligible_staff(
    txn: &impl ConnectionTrait,
    id: Uuid,
    eligible: fn(Role) -> bool,
    field: &str,
) -> ServiceResult<()> {
    let s = staff::Entity::find_by_id(id).one(txn).await?;
    let ok = s.is_some_and(|s| s.active && Role::parse(&s.role).is_some_and(eligible));
    if ok {
        Ok(())
    } else {
        Err(ServiceError::invalid(
            field,
            "must be an active staff member in a casework role",
        ))
    }
}

/// Ends a membership: the row stays, with when and by whom, so that the
/// member's devices can be told the case left their view.
async fn end_membership(u: &Unit, case_id: Uuid, staff_id: Uuid, by: Uuid) -> ServiceResult<()> {
    case_member::Entity::update_many()
        .col_expr(
            case_member::Column::EndedAt,
            sea_orm::sea_query::Expr::value(u.now()),
        )
        .col_expr(
            case_member::Column::EndedBy,
            sea_orm::sea_query::Expr::value(by),
        )
        .filter(case_member::Column::CaseId.eq(case_id))
        .filter(case_member::Column::StaffId.eq(staff_id))
        .filter(case_member::Column::EndedAt.is_null())
        .exec(u.txn())
        .await?;
    Ok(())
}

async fn apply(
    u: &mut Unit,
    actor: &Actor,
    current: case_file::Model,
    mut team: Vec<Uuid>,
    version: i32,
    change: Change,
) -> ServiceResult<CaseView> {
    let id = current.id;
    if current.version != version {
        return Err(stale(CaseView {
            case: current,
            team,
            view: View::Full,
        }));
    }
    let t = u.now();
    let mut m = current.clone().into_active_model();
    let status = CaseStatus::parse(&current.status).unwrap_or(CaseStatus::Open);
    match change {
        Change::Summary(s) => m.summary = Set(s.into_present()),
        Change::AddMember(staff_id) => {
            let staff_id = staff_id.uuid();
            eligible_staff(u.txn(), staff_id, access::may_join_case_team, "staff_id").await?;
            if staff_id == current.owner_id || team.contains(&staff_id) {
                return Err(ServiceError::Conflict("already on the case"));
            }
            // A member who left and comes back gets their row again.
            case_member::Entity::delete_by_id((id, staff_id))
                .exec(u.txn())
                .await?;
            case_member::ActiveModel {
                case_id: Set(id),
                staff_id: Set(staff_id),
                added_by: Set(actor.staff_id),
                added_at: Set(t),
                ended_at: Set(None),
                ended_by: Set(None),
            }
            .insert(u.txn())
            .await?;
            team.push(staff_id);
        }
        Change::RemoveMember(staff_id) => {
            let staff_id = staff_id.uuid();
            if !team.contains(&staff_id) {
                return Err(ServiceError::NotFound);
            }
            end_membership(u, id, staff_id, actor.staff_id).await?;
            team.retain(|s| *s != staff_id);
        }
        Change::Close(reason) => {
            if status == CaseStatus::Closed {
                return Err(ServiceError::Conflict("the case is already closed"));
            }
            m.status = Set(CaseStatus::Closed.as_str().to_owned());
            m.closed_at = Set(Some(t));
            m.status_reason = Set(Some(reason.into_inner()));
        }
        Change::Reopen(reason) => {
            if status == CaseStatus::Open {
                return Err(ServiceError::Conflict("the case is already open"));
            }
            m.status = Set(CaseStatus::Open.as_str().to_owned());
            m.closed_at = Set(None);
            m.status_reason = Set(Some(reason.into_inner()));
        }
        Change::Reassign(owner) => {
            let owner = owner.uuid();
            eligible_staff(u.txn(), owner, access::may_own_case, "owner_id").await?;
            if owner == current.owner_id {
                return Err(ServiceError::Conflict("already the owner"));
            }
            if team.contains(&owner) {
                end_membership(u, id, owner, actor.staff_id).await?;
                team.retain(|s| *s != owner);
            }
            m.owner_id = Set(owner);
        }
    }
    m.version = Set(version + 1);
    m.updated_at = Set(t);
    m.last_activity_at = Set(audit::format_time(t));
    let Some(case) = update_versioned(u.txn(), m, case_file::Column::Version, version).await?
    else {
        return Err(stale_now(u.txn(), id).await);
    };
    // Team changes and reassignment change who sees the case: the change
    // log tells their devices.
    u.changed(RecordKind::Case, id);
    team.sort();
    Ok(CaseView {
        case,
        team,
        view: View::Full,
    })
}

/// The case as another writer left it, for a 412.
async fn stale_now(db: &impl ConnectionTrait, id: Uuid) -> ServiceError {
    unit::stale_as(async {
        let Some(case) = case_file::Entity::find_by_id(id).one(db).await? else {
            return Ok(None);
        };
        Ok(Some(CaseView {
            case,
            team: scope::team_of(db, id).await?,
            view: View::Full,
        }))
    })
    .await
}

/// Applies one change to a case, with `If-Match`, policy and audit.
pub async fn change(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: CaseId,
    if_match: Option<&str>,
    change: Change,
) -> ServiceResult<CaseView> {
    let id = id.uuid();
    let ctx = AuditContext::for_actor(actor, meta);
    let version = unit::parse_if_match(if_match)?;
    let key = meta.idempotency.clone();
    let who = actor.clone();
    let made = state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(change.action(), RecordKind::Case, Some(id));
                let scope = access::case_scope(&who);
                let loader = who.clone();
                let now = u.now();
                let ch = scope::for_change(
                    u,
                    &scope,
                    move |txn| {
                        Box::pin(async move { scope::load_case(txn, &loader, id, now).await })
                    },
                    |(_, cf), _| change.decide(&who, cf),
                )
                .await?;
                if let Claim::Replay(first) =
                    u.claim(key.as_ref(), RecordKind::Case, id, 200).await?
                {
                    return Ok(u.replay(first));
                }
                u.allow(ch.rule, ch.patron, change.fields());
                let (case, facts) = ch.record;
                apply(u, &who, case, facts.team, version, change)
                    .await
                    .map(Made::New)
            })
        })
        .await?;
    match made {
        Made::New(v) => Ok(v),
        Made::Replay(first) => get(state, actor, meta, CaseId::new(first)).await,
    }
}

/// A line of the caseload.
pub struct CaseloadItem {
    pub view: CaseView,
    pub open_referrals: u64,
    pub overdue_follow_ups: u64,
}

/// Open cases the caller owns or works on (within their case scope), newest
/// activity first.
pub async fn caseload(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    cursor: Option<&str>,
    limit: Option<u64>,
) -> ServiceResult<Page<CaseloadItem>> {
    let ctx = AuditContext::for_actor(actor, meta);
    let scope = access::case_scope(actor);
    let decision = access::own_list(&scope);
    crate::unit::allowed(state, &ctx, decision, Action::Search, RecordKind::Case).await?;
    let cursor = Cursor::decode(cursor)?;
    let limit = page_size(limit);
    let mut q = case_file::Entity::find()
        .filter(case_file::Column::Status.eq(CaseStatus::Open.as_str()))
        .filter(scope::my_cases(actor))
        .filter(scope::condition(RecordKind::Case, &scope, actor));
    if let Some(c) = &cursor {
        q = q.filter(after(
            case_file::Column::LastActivityAt,
            case_file::Column::Id,
            c.k.clone(),
            c.id,
            Order::Desc,
        ));
    }
    let rows = q
        .order_by_desc(case_file::Column::LastActivityAt)
        .order_by_desc(case_file::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let (rows, next_cursor) = page(rows, limit, |r| {
        Cursor {
            k: r.last_activity_at.clone(),
            id: r.id,
        }
        .encode()
    });
    let today = state.clock.now().date_naive();
    let case_ids: Vec<Uuid> = rows.iter().map(|c| c.id).collect();
    let open_referrals = super::referrals::open_per_case(&state.db, &case_ids).await?;
    let mut items = Vec::with_capacity(rows.len());
    let mut view = View::Full;
    for case in rows {
        let facts = scope::case_facts(&state.db, &case).await?;
        if let Ok(g) = scope.admits(&facts.facts(actor)) {
            view = g.view;
        }
        let overdue = follow_up::Entity::find()
            .filter(follow_up::Column::CaseId.eq(case.id))
            .filter(follow_up::Column::Status.eq(FollowUpStatus::Open.as_str()))
            .filter(follow_up::Column::DueOn.lt(today))
            .count(&state.db)
            .await?;
        let open = open_referrals.get(&case.id).copied().unwrap_or(0);
        items.push(CaseloadItem {
            view: CaseView {
                case,
                team: facts.team,
                view,
            },
            open_referrals: open,
            overdue_follow_ups: overdue,
        });
    }
    let ev = ctx
        .event(Action::Search, Outcome::Allowed, decision.rule())
        .record_type(RecordKind::Case)
        .query(r#"{"caseload":"self"}"#)
        .patrons(items.iter().map(|i| i.view.case.patron_id))
        .results(items.iter().map(|i| i.view.case.id).collect())
        .fields(fields(view));
    state.recorder.record(vec![ev]).await?;
    Ok(Page { items, next_cursor })
}
