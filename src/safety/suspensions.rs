//! Suspensions (bans): security records them, for one branch or every
//! branch, from a start to an end. A suspension ends by itself at its end
//! (its status is read on the service's clock; nothing has to run), and
//! lifting one early needs a reason. A branch's staff see who is suspended
//! there now, where, and until when: nothing else.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, sea_query::Condition,
};
use uuid::Uuid;

use super::scope;
use crate::{
    access::{self, Actor, View},
    audit::{Action, AuditContext, Outcome, RequestMeta},
    domain::{
        AppealStatus, FieldIssue, IncidentId, Issues, NotifiedHow, RecordKind, SuspensionId,
        SuspensionScope, SuspensionStatus,
    },
    error::{ServiceError, ServiceResult},
    paging::{Cursor, Order, Page, after, page, page_size},
    state::AppState,
    text::{ClientId, Line, Text},
    unit::{self, Claim, Made, Unit, for_change, stale, update_versioned},
};
use entities::{
    branch,
    safety::{incident, suspension},
};

pub const FIELDS: &[&str] = &[
    "id",
    "person",
    "scope",
    "branch_id",
    "starts_at",
    "ends_at",
    "status",
    "reason",
    "incident_id",
    "notified_how",
    "appeal_status",
    "appeal_decision",
    "lifted_at",
    "lift_reason",
];

/// What a branch's staff see of an active suspension.
pub const ACTIVE_FIELDS: &[&str] = &["person", "scope", "ends_at"];

fn fields(_: View) -> &'static [&'static str] {
    FIELDS
}

pub type Person = Line<200>;
pub type Reason = Text<2_000>;
pub type AppealDecision = Text<2_000, 0>;

/// Where a suspension is at `now`.
pub fn status(s: &suspension::Model, now: DateTime<Utc>) -> SuspensionStatus {
    if s.lifted_at.is_some() {
        SuspensionStatus::Lifted
    } else if now < s.starts_at {
        SuspensionStatus::Scheduled
    } else if now < s.ends_at {
        SuspensionStatus::Active
    } else {
        SuspensionStatus::Ended
    }
}

/// The same, as a condition on the table.
fn status_is(status: SuspensionStatus, now: DateTime<Utc>) -> Condition {
    use suspension::Column as C;
    let not_lifted = Condition::all().add(C::LiftedAt.is_null());
    match status {
        SuspensionStatus::Lifted => Condition::all().add(C::LiftedAt.is_not_null()),
        SuspensionStatus::Scheduled => not_lifted.add(C::StartsAt.gt(now)),
        SuspensionStatus::Active => not_lifted.add(C::StartsAt.lte(now)).add(C::EndsAt.gt(now)),
        SuspensionStatus::Ended => not_lifted.add(C::EndsAt.lte(now)),
    }
}

/// A suspension as read, with its status at the time of the read.
#[derive(Debug, Clone)]
pub struct SuspensionRecord {
    pub suspension: suspension::Model,
    pub status: SuspensionStatus,
}

impl SuspensionRecord {
    fn at(suspension: suspension::Model, now: DateTime<Utc>) -> Self {
        SuspensionRecord {
            status: status(&suspension, now),
            suspension,
        }
    }

    pub fn scope(&self) -> SuspensionScope {
        match self.suspension.branch_id {
            Some(_) => SuspensionScope::Branch,
            None => SuspensionScope::SystemWide,
        }
    }
}

/// The content of a suspension; on create every required field, on a
/// change any.
#[derive(Default)]
pub struct SuspensionFields {
    pub person: Option<Person>,
    pub ends_at: Option<DateTime<Utc>>,
    pub reason: Option<Reason>,
    pub incident_id: Option<IncidentId>,
    pub notified_how: Option<NotifiedHow>,
    pub appeal_status: Option<AppealStatus>,
    pub appeal_decision: Option<AppealDecision>,
}

impl SuspensionFields {
    fn names(&self) -> Vec<&'static str> {
        [
            (self.person.is_some(), "person"),
            (self.ends_at.is_some(), "ends_at"),
            (self.reason.is_some(), "reason"),
            (self.incident_id.is_some(), "incident_id"),
            (self.notified_how.is_some(), "notified_how"),
            (self.appeal_status.is_some(), "appeal_status"),
            (self.appeal_decision.is_some(), "appeal_decision"),
        ]
        .into_iter()
        .filter_map(|(present, n)| present.then_some(n))
        .collect()
    }

    fn apply(self, m: &mut suspension::ActiveModel) {
        if let Some(v) = self.person {
            m.person = Set(v.into_inner());
        }
        if let Some(v) = self.ends_at {
            m.ends_at = Set(v);
        }
        if let Some(v) = self.reason {
            m.reason = Set(v.into_inner());
        }
        if let Some(v) = self.incident_id {
            m.incident_id = Set(Some(v.uuid()));
        }
        if let Some(v) = self.notified_how {
            m.notified_how = Set(v.as_str().to_owned());
        }
        if let Some(v) = self.appeal_status {
            m.appeal_status = Set(v.as_str().to_owned());
        }
        if let Some(v) = self.appeal_decision {
            m.appeal_decision = Set(v.into_present());
        }
    }
}

/// A linked incident must exist (security reads every incident).
async fn check_incident(u: &mut Unit, id: Option<IncidentId>) -> ServiceResult<()> {
    if let Some(id) = id
        && incident::Entity::find_by_id(id.uuid())
            .one(u.txn())
            .await?
            .is_none()
    {
        return Err(ServiceError::invalid("incident_id", "no such incident"));
    }
    Ok(())
}

fn check_dates(starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> ServiceResult<()> {
    if ends_at <= starts_at {
        return Err(ServiceError::invalid("ends_at", "must be after starts_at"));
    }
    Ok(())
}

pub struct NewSuspension {
    pub id: Option<ClientId>,
    pub scope: SuspensionScope,
    pub branch_id: Option<Uuid>,
    pub starts_at: Option<DateTime<Utc>>,
    pub fields: SuspensionFields,
}

pub async fn create(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    input: NewSuspension,
) -> ServiceResult<SuspensionRecord> {
    let ctx = AuditContext::for_actor(actor, meta);
    let id = ClientId::or_new(input.id);
    let f = input.fields;
    let mut issues = Issues::default();
    for (missing, name) in [
        (f.person.is_none(), "person"),
        (f.ends_at.is_none(), "ends_at"),
        (f.reason.is_none(), "reason"),
        (f.notified_how.is_none(), "notified_how"),
    ] {
        if missing {
            issues.add(name, "is required");
        }
    }
    match (input.scope, input.branch_id) {
        (SuspensionScope::Branch, None) => issues.add("branch_id", "is required for scope branch"),
        (SuspensionScope::SystemWide, Some(_)) => {
            issues.add("branch_id", "must be absent for scope system_wide")
        }
        _ => {}
    }
    if let Some(s) = input.starts_at
        && s.timestamp() < 946_684_800
    {
        issues.add("starts_at", "must be after 2000-01-01");
    }
    issues.finish()?;
    let key = meta.idempotency.clone();
    let who = actor.clone();
    let clock = state.clock.clone();
    let branch_id = input.branch_id;
    let made = state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(Action::Create, RecordKind::Suspension, Some(id));
                let decision = access::manage_suspensions(&who);
                if !decision.is_allowed() {
                    return Err(u.deny(decision, None, ServiceError::Forbidden));
                }
                if let Claim::Replay(first) = u
                    .claim(key.as_ref(), RecordKind::Suspension, id, 201)
                    .await?
                {
                    return Ok(u.replay(first));
                }
                if let Some(b) = branch_id
                    && branch::Entity::find_by_id(b).one(u.txn()).await?.is_none()
                {
                    return Err(ServiceError::invalid("branch_id", "no such branch"));
                }
                check_incident(u, f.incident_id).await?;
                let t = clock.now();
                let starts_at = input.starts_at.unwrap_or(t);
                if let Some(ends_at) = f.ends_at {
                    check_dates(starts_at, ends_at)?;
                }
                u.allow(decision.rule(), None, FIELDS);
                if suspension::Entity::find_by_id(id)
                    .one(u.txn())
                    .await?
                    .is_some()
                {
                    return Err(ServiceError::Conflict("a record with this id exists"));
                }
                let mut m = suspension::ActiveModel {
                    id: Set(id),
                    person: Set(String::new()),
                    branch_id: Set(branch_id),
                    starts_at: Set(starts_at),
                    ends_at: Set(t),
                    reason: Set(String::new()),
                    incident_id: Set(None),
                    notified_how: Set(String::new()),
                    appeal_status: Set(AppealStatus::None.as_str().to_owned()),
                    appeal_decision: Set(None),
                    lifted_at: Set(None),
                    lifted_by: Set(None),
                    lift_reason: Set(None),
                    version: Set(1),
                    created_by: Set(who.staff_id),
                    created_at: Set(t),
                    updated_at: Set(t),
                };
                f.apply(&mut m);
                let m = m.insert(u.txn()).await?;
                u.changed(RecordKind::Suspension, id);
                Ok(Made::New(m))
            })
        })
        .await?;
    match made {
        Made::New(m) => Ok(SuspensionRecord::at(m, state.clock.now())),
        Made::Replay(first) => get(state, actor, meta, SuspensionId::new(first)).await,
    }
}

pub async fn get(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: SuspensionId,
) -> ServiceResult<SuspensionRecord> {
    let id = id.uuid();
    let ctx = AuditContext::for_actor(actor, meta);
    let scope = access::suspension_scope(actor);
    let (s, _) = unit::read_one(
        state,
        &ctx,
        &scope,
        Action::Read,
        RecordKind::Suspension,
        id,
        fields,
        || scope::load_suspension(&state.db, actor, id),
    )
    .await?;
    Ok(SuspensionRecord::at(s, state.clock.now()))
}

/// What a change to a suspension is: new content, or lifting it early.
pub enum Change {
    Fields(SuspensionFields),
    Lift { reason: Reason },
}

/// Changes a suspension or lifts it (security). Requires the current
/// version; a lifted one is not changed again, and only a scheduled or
/// active one can be lifted.
pub async fn change(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: SuspensionId,
    if_match: Option<&str>,
    change: Change,
) -> ServiceResult<SuspensionRecord> {
    let id = id.uuid();
    let ctx = AuditContext::for_actor(actor, meta);
    let version = unit::parse_if_match(if_match)?;
    let (action, names) = match &change {
        Change::Fields(f) => (Action::Update, f.names()),
        Change::Lift { .. } => (
            Action::Transition,
            vec!["status", "lifted_at", "lift_reason"],
        ),
    };
    let who = actor.clone();
    let clock = state.clock.clone();
    let m = state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(action, RecordKind::Suspension, Some(id));
                let scope = access::suspension_scope(&who);
                let loader = who.clone();
                let ch = for_change(
                    u,
                    &scope,
                    move |txn| {
                        Box::pin(async move { scope::load_suspension(txn, &loader, id).await })
                    },
                    |_, _| access::manage_suspensions(&who),
                )
                .await?;
                u.allow(ch.rule, None, &names);
                let now = clock.now();
                let current = ch.record;
                if current.version != version {
                    return Err(stale(SuspensionRecord::at(current, now)));
                }
                let at = status(&current, now);
                let mut m = current.clone().into_active_model();
                match change {
                    Change::Fields(f) => {
                        if at == SuspensionStatus::Lifted {
                            return Err(ServiceError::Conflict(
                                "a lifted suspension is not changed",
                            ));
                        }
                        check_incident(u, f.incident_id).await?;
                        if let Some(ends_at) = f.ends_at {
                            check_dates(current.starts_at, ends_at)?;
                        }
                        f.apply(&mut m);
                    }
                    Change::Lift { reason } => {
                        if !matches!(at, SuspensionStatus::Scheduled | SuspensionStatus::Active) {
                            return Err(ServiceError::ConflictNaming {
                                detail: "Only a scheduled or active suspension can be lifted",
                                issues: vec![FieldIssue::new(
                                    "status",
                                    format!("is {}", at.as_str()),
                                )],
                            });
                        }
                        m.lifted_at = Set(Some(now));
                        m.lifted_by = Set(Some(who.staff_id));
                        m.lift_reason = Set(Some(reason.into_inner()));
                    }
                }
                m.version = Set(version + 1);
                m.updated_at = Set(now);
                let Some(m) =
                    update_versioned(u.txn(), m, suspension::Column::Version, version).await?
                else {
                    return Err(
                        match suspension::Entity::find_by_id(id).one(u.txn()).await? {
                            Some(m) => stale(SuspensionRecord::at(m, now)),
                            None => ServiceError::NotFound,
                        },
                    );
                };
                u.changed(RecordKind::Suspension, id);
                Ok(m)
            })
        })
        .await?;
    Ok(SuspensionRecord::at(m, state.clock.now()))
}

/// What a list of suspensions asks for.
#[derive(Default)]
pub struct SuspensionQuery<'a> {
    pub status: Option<SuspensionStatus>,
    pub branch_id: Option<Uuid>,
    pub cursor: Option<&'a str>,
    pub limit: Option<u64>,
}

/// Security's list, newest first.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    query: SuspensionQuery<'_>,
) -> ServiceResult<Page<SuspensionRecord>> {
    let ctx = AuditContext::for_actor(actor, meta);
    let scope = access::suspension_scope(actor);
    let grant = unit::search_scope(state, &ctx, &scope, RecordKind::Suspension).await?;
    let cursor = Cursor::decode(query.cursor)?;
    let limit = page_size(query.limit);
    let now = state.clock.now();
    let mut select =
        suspension::Entity::find().filter(scope::condition(RecordKind::Suspension, &scope, actor));
    if let Some(s) = query.status {
        select = select.filter(status_is(s, now));
    }
    if let Some(b) = query.branch_id {
        select = select.filter(suspension::Column::BranchId.eq(b));
    }
    if let Some(c) = &cursor {
        select = select.filter(suspension::Column::Id.lt(c.id));
    }
    let rows = select
        .order_by_desc(suspension::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let (rows, next_cursor) = page(rows, limit, |r| Cursor::of_id(r.id));
    let ev = ctx
        .event(Action::Search, Outcome::Allowed, grant.rule)
        .record_type(RecordKind::Suspension)
        .results(rows.iter().map(|r| r.id).collect())
        .fields(FIELDS);
    state.recorder.record(vec![ev]).await?;
    Ok(Page {
        items: rows
            .into_iter()
            .map(|s| SuspensionRecord::at(s, now))
            .collect(),
        next_cursor,
    })
}

/// The suspensions in force at a branch now: its own and the system-wide
/// ones, soonest to end first.
pub async fn active_at_branch(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    branch_id: Uuid,
    cursor: Option<&str>,
    limit: Option<u64>,
) -> ServiceResult<Page<SuspensionRecord>> {
    let ctx = AuditContext::for_actor(actor, meta);
    let decision = access::branch_active_suspensions(actor, branch_id);
    crate::unit::allowed(
        state,
        &ctx,
        decision,
        Action::Search,
        RecordKind::Suspension,
    )
    .await?;
    let cursor = Cursor::decode(cursor)?;
    let limit = page_size(limit);
    let now = state.clock.now();
    let mut select = suspension::Entity::find()
        .filter(status_is(SuspensionStatus::Active, now))
        .filter(
            Condition::any()
                .add(suspension::Column::BranchId.eq(branch_id))
                .add(suspension::Column::BranchId.is_null()),
        );
    if let Some(c) = &cursor {
        select = select.filter(after(
            suspension::Column::EndsAt,
            suspension::Column::Id,
            c.key::<DateTime<Utc>>()?,
            c.id,
            Order::Asc,
        ));
    }
    let rows = select
        .order_by_asc(suspension::Column::EndsAt)
        .order_by_asc(suspension::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let (rows, next_cursor) = page(rows, limit, |r| {
        Cursor {
            k: crate::audit::format_time(r.ends_at),
            id: r.id,
        }
        .encode()
    });
    let ev = ctx
        .event(Action::Search, Outcome::Allowed, decision.rule())
        .record_type(RecordKind::Suspension)
        .results(rows.iter().map(|r| r.id).collect())
        .fields(ACTIVE_FIELDS);
    state.recorder.record(vec![ev]).await?;
    Ok(Page {
        items: rows
            .into_iter()
            .map(|s| SuspensionRecord::at(s, now))
            .collect(),
        next_cursor,
    })
}
