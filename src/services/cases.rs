//! Cases: a patron's case file, its owner and team.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::Condition,
};
use uuid::Uuid;

use super::common::{self, Cursor, Page, client_id, optional_text, page_size};
use crate::{
    access::{self, Actor, CaseFacts, Decision},
    audit::{self, Action, AuditContext, Outcome, RequestMeta},
    domain::{CaseStatus, FollowUpStatus, Issues, Role},
    error::{ServiceError, ServiceResult},
    services::now,
    startup::AppState,
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

/// A case with its team, as the API shows it.
#[derive(Debug, Clone)]
pub struct CaseView {
    pub case: case_file::Model,
    pub team: Vec<Uuid>,
}

pub struct NewCase {
    pub id: Option<Uuid>,
    pub patron_id: Uuid,
    pub branch_id: Option<Uuid>,
    pub summary: Option<String>,
}

pub async fn open(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    input: NewCase,
) -> ServiceResult<CaseView> {
    let ctx = AuditContext::for_actor(actor, meta);
    let mut issues = Issues::default();
    let id = client_id(&mut issues, input.id);
    let summary = optional_text(&mut issues, "summary", input.summary.as_deref(), 4000);
    issues.finish()?;
    let p = common::visible_patron(state, &ctx, actor, Action::Create, input.patron_id).await?;
    let branch = input.branch_id.unwrap_or(p.home_branch_id);
    let decision = access::open_case(actor, branch);
    if !decision.is_allowed() {
        return Err(common::deny(
            state,
            &ctx,
            decision,
            Action::Create,
            "case",
            ServiceError::Forbidden,
        )
        .await);
    }
    let owner = actor.staff_id;
    let patron_id = p.id;
    let rule = decision.rule();
    state
        .recorder
        .write(move |txn| {
            Box::pin(async move {
                let result = async {
                    if case_file::Entity::find_by_id(id).one(txn).await?.is_some() {
                        return Err(ServiceError::Conflict("a record with this id exists"));
                    }
                    let t = now();
                    let case = case_file::ActiveModel {
                        id: Set(id),
                        patron_id: Set(patron_id),
                        owner_id: Set(owner),
                        branch_id: Set(branch),
                        status: Set(CaseStatus::Open.as_str().to_owned()),
                        summary: Set(summary),
                        opened_at: Set(t),
                        closed_at: Set(None),
                        status_reason: Set(None),
                        last_activity_at: Set(audit::format_time(t)),
                        version: Set(1),
                        created_by: Set(owner),
                        created_at: Set(t),
                        updated_at: Set(t),
                    }
                    .insert(txn)
                    .await?;
                    Ok(CaseView { case, team: vec![] })
                }
                .await;
                let ev = common::write_event(
                    &ctx,
                    &result,
                    Action::Create,
                    rule,
                    "case",
                    id,
                    Some(patron_id),
                    FIELDS,
                );
                (result, vec![ev])
            })
        })
        .await
}

async fn load(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> ServiceResult<Option<(case_file::Model, CaseFacts)>> {
    match case_file::Entity::find_by_id(id).one(db).await? {
        Some(c) => {
            let f = common::case_facts(db, &c).await?;
            Ok(Some((c, f)))
        }
        None => Ok(None),
    }
}

/// Loads a case the caller may read, auditing the access; anything else is
/// not found. Used by notes and follow-ups too.
pub async fn readable(
    state: &AppState,
    ctx: &AuditContext,
    actor: &Actor,
    id: Uuid,
    action: Action,
) -> ServiceResult<(case_file::Model, CaseFacts)> {
    let found = load(&state.db, id).await?;
    let decision = match &found {
        Some((_, f)) => access::read_case(actor, f),
        None => Decision::Deny("no_such_record"),
    };
    if !decision.is_allowed() {
        let patron = found.as_ref().map(|(c, _)| c.patron_id);
        let ev = ctx
            .event(action, Outcome::Denied, decision.rule())
            .record("case", id)
            .patron(patron);
        state.recorder.record(vec![ev]).await?;
        return Err(ServiceError::NotFound);
    }
    found.ok_or(ServiceError::NotFound)
}

pub async fn get(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: Uuid,
) -> ServiceResult<CaseView> {
    let ctx = AuditContext::for_actor(actor, meta);
    let (case, facts) = readable(state, &ctx, actor, id, Action::Read).await?;
    let rule = access::read_case(actor, &facts).rule();
    common::decide(
        state,
        &ctx,
        Decision::Allow(rule),
        Action::Read,
        "case",
        id,
        Some(case.patron_id),
        FIELDS,
    )
    .await?;
    Ok(CaseView {
        case,
        team: facts.team,
    })
}

/// What a change to a case does, checked and applied inside the write.
pub enum Change {
    Summary(String),
    AddMember(Uuid),
    RemoveMember(Uuid),
    Close(String),
    Reopen(String),
    Reassign(Uuid),
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

async fn apply(
    txn: &DatabaseTransaction,
    actor: &Actor,
    id: Uuid,
    version: i32,
    change: Change,
) -> ServiceResult<CaseView> {
    let (current, facts) = load(txn, id).await?.ok_or(ServiceError::NotFound)?;
    if current.version != version {
        let view = CaseView {
            case: current,
            team: facts.team,
        };
        return Err(ServiceError::Stale(Box::new(crate::api::cases::case_json(
            &view,
        ))));
    }
    let t = now();
    let mut team = facts.team.clone();
    let mut m = current.clone().into_active_model();
    let status = CaseStatus::parse(&current.status).unwrap_or(CaseStatus::Open);
    match change {
        Change::Summary(s) => m.summary = Set(Some(s)),
        Change::AddMember(staff_id) => {
            eligible_staff(txn, staff_id, access::may_join_case_team, "staff_id").await?;
            if staff_id == current.owner_id || team.contains(&staff_id) {
                return Err(ServiceError::Conflict("already on the case"));
            }
            case_member::ActiveModel {
                case_id: Set(id),
                staff_id: Set(staff_id),
                added_by: Set(actor.staff_id),
                added_at: Set(t),
            }
            .insert(txn)
            .await?;
            team.push(staff_id);
        }
        Change::RemoveMember(staff_id) => {
            if !team.contains(&staff_id) {
                return Err(ServiceError::NotFound);
            }
            case_member::Entity::delete_by_id((id, staff_id))
                .exec(txn)
                .await?;
            team.retain(|s| *s != staff_id);
        }
        Change::Close(reason) => {
            if status == CaseStatus::Closed {
                return Err(ServiceError::Conflict("the case is already closed"));
            }
            m.status = Set(CaseStatus::Closed.as_str().to_owned());
            m.closed_at = Set(Some(t));
            m.status_reason = Set(Some(reason));
        }
        Change::Reopen(reason) => {
            if status == CaseStatus::Open {
                return Err(ServiceError::Conflict("the case is already open"));
            }
            m.status = Set(CaseStatus::Open.as_str().to_owned());
            m.closed_at = Set(None);
            m.status_reason = Set(Some(reason));
        }
        Change::Reassign(owner) => {
            eligible_staff(txn, owner, access::may_own_case, "owner_id").await?;
            if owner == current.owner_id {
                return Err(ServiceError::Conflict("already the owner"));
            }
            if team.contains(&owner) {
                case_member::Entity::delete_by_id((id, owner))
                    .exec(txn)
                    .await?;
                team.retain(|s| *s != owner);
            }
            m.owner_id = Set(owner);
        }
    }
    m.version = Set(version + 1);
    m.updated_at = Set(t);
    m.last_activity_at = Set(audit::format_time(t));
    let case = m.update(txn).await?;
    team.sort();
    Ok(CaseView { case, team })
}

/// Applies one change to a case, with `If-Match`, policy and audit.
pub async fn change(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: Uuid,
    if_match: Option<&str>,
    change: Change,
) -> ServiceResult<CaseView> {
    let ctx = AuditContext::for_actor(actor, meta);
    let version = super::parse_if_match(if_match)?;
    let mut issues = Issues::default();
    let change = match change {
        Change::Summary(s) => Change::Summary(issues.text("summary", &s, 0, 4000)),
        Change::Close(r) => Change::Close(issues.text("reason", &r, 1, 500)),
        Change::Reopen(r) => Change::Reopen(issues.text("reason", &r, 1, 500)),
        other => other,
    };
    issues.finish()?;
    let (case, facts) = readable(state, &ctx, actor, id, change.action()).await?;
    let decision = change.decide(actor, &facts);
    let patron = Some(case.patron_id);
    if !decision.is_allowed() {
        let ev = ctx
            .event(change.action(), Outcome::Denied, decision.rule())
            .record("case", id)
            .patron(patron);
        state.recorder.record(vec![ev]).await?;
        return Err(ServiceError::Forbidden);
    }
    let actor = actor.clone();
    let rule = decision.rule();
    state
        .recorder
        .write(move |txn| {
            Box::pin(async move {
                let (action, fields) = (change.action(), change.fields());
                let result = apply(txn, &actor, id, version, change).await;
                let ev =
                    common::write_event(&ctx, &result, action, rule, "case", id, patron, fields);
                (result, vec![ev])
            })
        })
        .await
}

/// A line of the caseload.
pub struct CaseloadItem {
    pub view: CaseView,
    pub open_referrals: u64,
    pub overdue_follow_ups: u64,
}

/// Open cases the caller owns or works on, newest activity first.
pub async fn caseload(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    cursor: Option<&str>,
    limit: Option<u64>,
) -> ServiceResult<Page<CaseloadItem>> {
    let ctx = AuditContext::for_actor(actor, meta);
    let decision = access::casework_lists(actor);
    if !decision.is_allowed() {
        return Err(common::deny(
            state,
            &ctx,
            decision,
            Action::Search,
            "case",
            ServiceError::Forbidden,
        )
        .await);
    }
    let cursor = Cursor::decode(cursor)?;
    let limit = page_size(limit);
    let mut q = case_file::Entity::find()
        .filter(case_file::Column::Status.eq(CaseStatus::Open.as_str()))
        .filter(common::my_case_ids(actor));
    if let Some(c) = &cursor {
        q = q.filter(
            Condition::any()
                .add(case_file::Column::LastActivityAt.lt(c.k.clone()))
                .add(
                    Condition::all()
                        .add(case_file::Column::LastActivityAt.eq(c.k.clone()))
                        .add(case_file::Column::Id.lt(c.id)),
                ),
        );
    }
    let rows = q
        .order_by_desc(case_file::Column::LastActivityAt)
        .order_by_desc(case_file::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let (rows, next_cursor) = common::page(rows, limit, |r| {
        Cursor {
            k: r.last_activity_at.clone(),
            id: r.id,
        }
        .encode()
    });
    let today = Utc::now().date_naive();
    let mut items = Vec::with_capacity(rows.len());
    for case in rows {
        let facts = common::case_facts(&state.db, &case).await?;
        let overdue = follow_up::Entity::find()
            .filter(follow_up::Column::CaseId.eq(case.id))
            .filter(follow_up::Column::Status.eq(FollowUpStatus::Open.as_str()))
            .filter(follow_up::Column::DueOn.lt(today))
            .count(&state.db)
            .await?;
        items.push(CaseloadItem {
            view: CaseView {
                case,
                team: facts.team,
            },
            // Referrals arrive with a later issue; until then none are open.
            open_referrals: 0,
            overdue_follow_ups: overdue,
        });
    }
    let ev = ctx
        .event(Action::Search, Outcome::Allowed, decision.rule())
        .record_type("case")
        .query(r#"{"caseload":"self"}"#)
        .results(items.iter().map(|i| i.view.case.id).collect())
        .fields(FIELDS);
    state.recorder.record(vec![ev]).await?;
    Ok(Page { items, next_cursor })
}
