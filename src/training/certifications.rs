//! The training catalogue and staff certifications. A completion's expiry
//! is computed from the training's recertification period when it is
//! recorded; a newer completion of the same training renews it (only the
//! latest counts).

use std::collections::BTreeMap;

use chrono::{Months, NaiveDate};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder,
};
use uuid::Uuid;

use crate::{
    access::{self, Actor, Decision},
    audit::{Action, AuditContext, Outcome, RequestMeta},
    domain::{RecordKind, Role},
    error::{ServiceError, ServiceResult},
    state::AppState,
    text::{ClientId, Line},
    unit::{self, Claim, Made, Unit, stale, update_versioned},
};
use entities::{certification, staff, staff_branch, training};

pub const TRAINING_FIELDS: &[&str] = &[
    "id",
    "name",
    "provider",
    "recertify_months",
    "de_escalation",
];
pub const CERTIFICATION_FIELDS: &[&str] = &[
    "id",
    "staff_id",
    "training_id",
    "completed_on",
    "expires_on",
    "trainer",
    "evidence",
];

/// Longest recertification period, in months (ten years).
pub const MAX_RECERTIFY_MONTHS: i32 = 120;

pub type TrainingName = Line<200>;
pub type Provider = Line<200>;
pub type Evidence = Line<200, 0>;

/// The roles that meet people on the floor, whose coverage a branch counts.
pub const FRONT_LINE: &[Role] = &[Role::Staff, Role::Security, Role::Peer, Role::SocialWorker];

/// Records an access to the catalogue or to training records.
async fn audit(
    state: &AppState,
    ctx: &AuditContext,
    decision: Decision,
    action: Action,
    kind: RecordKind,
    results: Vec<Uuid>,
    fields: &[&'static str],
) -> ServiceResult<()> {
    let rule = unit::allowed(state, ctx, decision, action, kind).await?;
    let ev = ctx
        .event(action, Outcome::Allowed, rule)
        .record_type(kind)
        .results(results)
        .fields(fields);
    state.recorder.record(vec![ev]).await
}

// ---- the catalogue ----------------------------------------------------------

pub async fn list_trainings(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
) -> ServiceResult<Vec<training::Model>> {
    trainings(state, actor, meta, None).await
}

/// The catalogue as the caller may read it, or only the training `only`
/// (the replay of a create: trainings have no read of one).
async fn trainings(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    only: Option<Uuid>,
) -> ServiceResult<Vec<training::Model>> {
    let ctx = AuditContext::for_actor(actor, meta);
    let decision = access::read_catalogue(actor);
    crate::unit::allowed(state, &ctx, decision, Action::Search, RecordKind::Training).await?;
    let mut q = training::Entity::find();
    if let Some(id) = only {
        q = q.filter(training::Column::Id.eq(id));
    }
    let rows = q
        .order_by_asc(training::Column::Name)
        .all(&state.db)
        .await?;
    let ids = rows.iter().map(|t| t.id).collect();
    audit(
        state,
        &ctx,
        decision,
        Action::Search,
        RecordKind::Training,
        ids,
        TRAINING_FIELDS,
    )
    .await?;
    Ok(rows)
}

/// A training's content; on create every required field, on a change any.
#[derive(Default)]
pub struct TrainingFields {
    pub name: Option<TrainingName>,
    pub provider: Option<Provider>,
    /// `Some(None)`: no recertification.
    pub recertify_months: Option<Option<i32>>,
    pub de_escalation: Option<bool>,
}

impl TrainingFields {
    fn apply(self, m: &mut training::ActiveModel) {
        if let Some(v) = self.name {
            m.name = Set(v.into_inner());
        }
        if let Some(v) = self.provider {
            m.provider = Set(v.into_inner());
        }
        if let Some(v) = self.recertify_months {
            m.recertify_months = Set(v);
        }
        if let Some(v) = self.de_escalation {
            m.de_escalation = Set(v);
        }
    }
}

async fn name_taken(u: &mut Unit, name: &str, except: Option<Uuid>) -> ServiceResult<()> {
    let clash = training::Entity::find()
        .filter(training::Column::Name.eq(name))
        .one(u.txn())
        .await?;
    match clash {
        Some(t) if Some(t.id) != except => Err(ServiceError::invalid(
            "name",
            "a training with this name exists",
        )),
        _ => Ok(()),
    }
}

pub async fn create_training(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: Option<ClientId>,
    fields: TrainingFields,
) -> ServiceResult<training::Model> {
    let ctx = AuditContext::for_actor(actor, meta);
    let id = ClientId::or_new(id);
    let key = meta.idempotency.clone();
    let who = actor.clone();
    let clock = state.clock.clone();
    let made = state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(Action::Create, RecordKind::Training, Some(id));
                let decision = access::manage_catalogue(&who);
                if !decision.is_allowed() {
                    return Err(u.deny(decision, None, ServiceError::Forbidden));
                }
                if let Claim::Replay(first) =
                    u.claim(key.as_ref(), RecordKind::Training, id, 201).await?
                {
                    return Ok(u.replay(first));
                }
                u.allow(decision.rule(), None, TRAINING_FIELDS);
                if let Some(n) = &fields.name {
                    name_taken(u, n.as_str(), None).await?;
                }
                if training::Entity::find_by_id(id)
                    .one(u.txn())
                    .await?
                    .is_some()
                {
                    return Err(ServiceError::Conflict("a record with this id exists"));
                }
                let t = clock.now();
                let mut m = training::ActiveModel {
                    id: Set(id),
                    name: Set(String::new()),
                    provider: Set(String::new()),
                    recertify_months: Set(None),
                    de_escalation: Set(false),
                    version: Set(1),
                    created_at: Set(t),
                    updated_at: Set(t),
                };
                fields.apply(&mut m);
                let m = m.insert(u.txn()).await?;
                u.changed(RecordKind::Training, id);
                Ok(Made::New(m))
            })
        })
        .await?;
    match made {
        Made::New(m) => Ok(m),
        Made::Replay(first) => trainings(state, actor, meta, Some(first))
            .await?
            .pop()
            .ok_or(ServiceError::NotFound),
    }
}

/// Changes a training (admins; `If-Match`). Completions already recorded
/// keep the expiry they were given.
pub async fn update_training(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: Uuid,
    if_match: Option<&str>,
    fields: TrainingFields,
) -> ServiceResult<training::Model> {
    let ctx = AuditContext::for_actor(actor, meta);
    let version = unit::parse_if_match(if_match)?;
    let who = actor.clone();
    let clock = state.clock.clone();
    state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(Action::Update, RecordKind::Training, Some(id));
                let decision = access::manage_catalogue(&who);
                if !decision.is_allowed() {
                    return Err(u.deny(decision, None, ServiceError::Forbidden));
                }
                u.allow(decision.rule(), None, TRAINING_FIELDS);
                let Some(current) = training::Entity::find_by_id(id).one(u.txn()).await? else {
                    return Err(ServiceError::NotFound);
                };
                if current.version != version {
                    return Err(stale(current));
                }
                if let Some(n) = &fields.name {
                    name_taken(u, n.as_str(), Some(id)).await?;
                }
                let mut m = current.into_active_model();
                fields.apply(&mut m);
                m.version = Set(version + 1);
                m.updated_at = Set(clock.now());
                let Some(m) =
                    update_versioned(u.txn(), m, training::Column::Version, version).await?
                else {
                    return Err(unit::stale_now::<training::Entity>(u.txn(), id).await);
                };
                u.changed(RecordKind::Training, id);
                Ok(m)
            })
        })
        .await
}

// ---- certifications -----------------------------------------------------------

/// The date a completion expires, from its training's period.
pub fn expires_on(completed: NaiveDate, recertify_months: Option<i32>) -> Option<NaiveDate> {
    let months = u32::try_from(recertify_months?).ok()?;
    completed.checked_add_months(Months::new(months))
}

/// Whether a completion (the latest of its training) holds on `day`.
pub fn is_current(c: &certification::Model, day: NaiveDate) -> bool {
    c.completed_on <= day && c.expires_on.is_none_or(|e| e >= day)
}

/// A completion with its training, as the views show it.
#[derive(Debug, Clone)]
pub struct CertificationView {
    pub certification: certification::Model,
    pub training_name: String,
    /// The latest completion of its training for this person, and in force.
    pub current: bool,
}

async fn branches_of(db: &impl ConnectionTrait, staff_id: Uuid) -> ServiceResult<Vec<Uuid>> {
    Ok(staff_branch::Entity::find()
        .filter(staff_branch::Column::StaffId.eq(staff_id))
        .all(db)
        .await?
        .into_iter()
        .map(|b| b.branch_id)
        .collect())
}

async fn training_names(
    db: &impl ConnectionTrait,
) -> ServiceResult<BTreeMap<Uuid, training::Model>> {
    Ok(training::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect())
}

/// The latest completion per (staff member, training), of these people.
async fn latest_of(
    db: &impl ConnectionTrait,
    staff_ids: &[Uuid],
) -> ServiceResult<BTreeMap<(Uuid, Uuid), certification::Model>> {
    let rows = certification::Entity::find()
        .filter(certification::Column::StaffId.is_in(staff_ids.to_vec()))
        .order_by_asc(certification::Column::CompletedOn)
        .order_by_asc(certification::Column::Id)
        .all(db)
        .await?;
    let mut latest = BTreeMap::new();
    for c in rows {
        latest.insert((c.staff_id, c.training_id), c);
    }
    Ok(latest)
}

/// Whether a staff member held a current de-escalation certification on
/// `day` (for an incident's responders, when it is recorded).
pub async fn holds_de_escalation(
    db: &impl ConnectionTrait,
    staff_id: Uuid,
    day: NaiveDate,
) -> ServiceResult<bool> {
    let trainings = training_names(db).await?;
    Ok(latest_of(db, &[staff_id]).await?.values().any(|c| {
        trainings
            .get(&c.training_id)
            .is_some_and(|t| t.de_escalation)
            && is_current(c, day)
    }))
}

/// Every completion of one staff member, newest first.
pub async fn of_staff(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    staff_id: Uuid,
) -> ServiceResult<Vec<CertificationView>> {
    completions(state, actor, meta, staff_id, None).await
}

/// The completions of one staff member as the caller may read them, or only
/// the completion `only` (the replay of a record: completions have no read
/// of one).
async fn completions(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    staff_id: Uuid,
    only: Option<Uuid>,
) -> ServiceResult<Vec<CertificationView>> {
    let ctx = AuditContext::for_actor(actor, meta);
    let branches = branches_of(&state.db, staff_id).await?;
    let decision = access::read_certifications(actor, staff_id, &branches);
    crate::unit::allowed(
        state,
        &ctx,
        decision,
        Action::Search,
        RecordKind::Certification,
    )
    .await?;
    if staff::Entity::find_by_id(staff_id)
        .one(&state.db)
        .await?
        .is_none()
    {
        return Err(ServiceError::NotFound);
    }
    let today = state.clock.now().date_naive();
    let trainings = training_names(&state.db).await?;
    let latest = latest_of(&state.db, &[staff_id]).await?;
    let mut q = certification::Entity::find().filter(certification::Column::StaffId.eq(staff_id));
    if let Some(id) = only {
        q = q.filter(certification::Column::Id.eq(id));
    }
    let rows = q
        .order_by_desc(certification::Column::CompletedOn)
        .order_by_desc(certification::Column::Id)
        .all(&state.db)
        .await?;
    let ids = rows.iter().map(|c| c.id).collect();
    audit(
        state,
        &ctx,
        decision,
        Action::Search,
        RecordKind::Certification,
        ids,
        CERTIFICATION_FIELDS,
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|c| {
            let is_latest = latest
                .get(&(c.staff_id, c.training_id))
                .is_some_and(|l| l.id == c.id);
            CertificationView {
                training_name: trainings
                    .get(&c.training_id)
                    .map(|t| t.name.clone())
                    .unwrap_or_default(),
                current: is_latest && is_current(&c, today),
                certification: c,
            }
        })
        .collect())
}

pub struct NewCertification {
    pub id: Option<ClientId>,
    pub training_id: Uuid,
    pub completed_on: NaiveDate,
    pub trainer: bool,
    pub evidence: Option<Evidence>,
}

/// Records a completion (a branch's supervisors, admins; `None` for a
/// roster loaded on the command line). Its expiry comes from the training.
pub async fn record(
    state: &AppState,
    actor: Option<&Actor>,
    meta: &RequestMeta,
    staff_id: Uuid,
    input: NewCertification,
) -> ServiceResult<CertificationView> {
    let ctx = match actor {
        Some(a) => AuditContext::for_actor(a, meta),
        None => AuditContext::anonymous(meta),
    };
    let id = ClientId::or_new(input.id);
    let key = meta.idempotency.clone();
    let who = actor.cloned();
    let clock = state.clock.clone();
    let made = state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(Action::Create, RecordKind::Certification, Some(id));
                // The role first, before the staff member is looked up.
                if let Some(a) = &who {
                    let may = access::may_manage_certifications(a);
                    if !may.is_allowed() {
                        return Err(u.deny(may, None, ServiceError::Forbidden));
                    }
                }
                let branches = branches_of(u.txn(), staff_id).await?;
                let decision = match &who {
                    Some(a) => access::manage_certifications(a, &branches),
                    None => Decision::Allow("command_line_roster_import"),
                };
                if !decision.is_allowed() {
                    return Err(u.deny(decision, None, ServiceError::Forbidden));
                }
                if let Claim::Replay(first) = u
                    .claim(key.as_ref(), RecordKind::Certification, id, 201)
                    .await?
                {
                    return Ok(u.replay(first));
                }
                u.allow(decision.rule(), None, CERTIFICATION_FIELDS);
                if staff::Entity::find_by_id(staff_id)
                    .one(u.txn())
                    .await?
                    .is_none()
                {
                    return Err(ServiceError::NotFound);
                }
                let Some(t) = training::Entity::find_by_id(input.training_id)
                    .one(u.txn())
                    .await?
                else {
                    return Err(ServiceError::invalid("training_id", "no such training"));
                };
                if input.completed_on > clock.now().date_naive() {
                    return Err(ServiceError::invalid(
                        "completed_on",
                        "must not be in the future",
                    ));
                }
                if certification::Entity::find_by_id(id)
                    .one(u.txn())
                    .await?
                    .is_some()
                {
                    return Err(ServiceError::Conflict("a record with this id exists"));
                }
                let m = certification::ActiveModel {
                    id: Set(id),
                    staff_id: Set(staff_id),
                    training_id: Set(t.id),
                    completed_on: Set(input.completed_on),
                    expires_on: Set(expires_on(input.completed_on, t.recertify_months)),
                    trainer: Set(input.trainer),
                    evidence: Set(input.evidence.and_then(|e| e.into_present())),
                    created_by: Set(who.as_ref().map(|a| a.staff_id)),
                    created_at: Set(clock.now()),
                }
                .insert(u.txn())
                .await?;
                u.changed(RecordKind::Certification, id);
                Ok(Made::New((m, t.name)))
            })
        })
        .await?;
    let (c, training_name) = match (made, actor) {
        (Made::New(v), _) => v,
        // The staff member's completions as the caller may read them.
        (Made::Replay(first), Some(a)) => {
            return completions(state, a, meta, staff_id, Some(first))
                .await?
                .pop()
                .ok_or(ServiceError::NotFound);
        }
        // Only a signed-in caller's key is kept.
        (Made::Replay(_), None) => return Err(ServiceError::NotFound),
    };
    let today = state.clock.now().date_naive();
    let latest = latest_of(&state.db, &[c.staff_id]).await?;
    let is_latest = latest
        .get(&(c.staff_id, c.training_id))
        .is_some_and(|l| l.id == c.id);
    Ok(CertificationView {
        current: is_latest && is_current(&c, today),
        training_name,
        certification: c,
    })
}

// ---- a branch's views -------------------------------------------------------------

/// A staff member of a branch, as the views name them.
#[derive(Debug, Clone)]
pub struct Person {
    pub staff_id: Uuid,
    pub display_name: String,
    pub role: Role,
}

/// The active staff of a branch.
async fn branch_staff(db: &impl ConnectionTrait, branch: Uuid) -> ServiceResult<Vec<Person>> {
    let ids: Vec<Uuid> = staff_branch::Entity::find()
        .filter(staff_branch::Column::BranchId.eq(branch))
        .all(db)
        .await?
        .into_iter()
        .map(|b| b.staff_id)
        .collect();
    Ok(staff::Entity::find()
        .filter(staff::Column::Id.is_in(ids))
        .filter(staff::Column::Active.eq(true))
        .order_by_asc(staff::Column::DisplayName)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|s| {
            Role::parse(&s.role).map(|role| Person {
                staff_id: s.id,
                display_name: s.display_name,
                role,
            })
        })
        .collect())
}

/// One row of a branch view: a person's latest completion of a training.
#[derive(Debug, Clone)]
pub struct Holding {
    pub person: Person,
    pub training: training::Model,
    pub certification: certification::Model,
}

/// The latest completions of a branch's staff, after the policy agrees.
async fn branch_holdings(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    branch: Uuid,
    fields: &[&'static str],
) -> ServiceResult<(Vec<Person>, BTreeMap<Uuid, training::Model>, Vec<Holding>)> {
    let ctx = AuditContext::for_actor(actor, meta);
    let decision = access::branch_training_oversight(actor, branch);
    crate::unit::allowed(
        state,
        &ctx,
        decision,
        Action::Search,
        RecordKind::Certification,
    )
    .await?;
    let people = branch_staff(&state.db, branch).await?;
    let ids: Vec<Uuid> = people.iter().map(|p| p.staff_id).collect();
    let trainings = training_names(&state.db).await?;
    let latest = latest_of(&state.db, &ids).await?;
    let holdings: Vec<Holding> = latest
        .into_values()
        .filter_map(|c| {
            let person = people.iter().find(|p| p.staff_id == c.staff_id)?.clone();
            let training = trainings.get(&c.training_id)?.clone();
            Some(Holding {
                person,
                training,
                certification: c,
            })
        })
        .collect();
    audit(
        state,
        &ctx,
        decision,
        Action::Search,
        RecordKind::Certification,
        holdings.iter().map(|h| h.certification.id).collect(),
        fields,
    )
    .await?;
    Ok((people, trainings, holdings))
}

/// Who at a branch has a certification expiring in the next `days` days
/// (today included), soonest first.
pub async fn expiring(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    branch: Uuid,
    days: u32,
) -> ServiceResult<Vec<Holding>> {
    let today = state.clock.now().date_naive();
    let until = today + chrono::Duration::days(i64::from(days));
    let (_, _, holdings) = branch_holdings(
        state,
        actor,
        meta,
        branch,
        &["staff_id", "display_name", "training_id", "expires_on"],
    )
    .await?;
    let mut rows: Vec<Holding> = holdings
        .into_iter()
        .filter(|h| {
            h.certification
                .expires_on
                .is_some_and(|e| e >= today && e <= until)
        })
        .collect();
    rows.sort_by_key(|h| (h.certification.expires_on, h.person.display_name.clone()));
    Ok(rows)
}

/// One training's coverage at a branch.
#[derive(Debug, Clone)]
pub struct Coverage {
    pub training: training::Model,
    pub front_line: u64,
    pub certified: u64,
}

/// For each training: how many of the branch's front-line staff hold it now.
pub async fn coverage(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    branch: Uuid,
) -> ServiceResult<Vec<Coverage>> {
    let today = state.clock.now().date_naive();
    let (people, trainings, holdings) =
        branch_holdings(state, actor, meta, branch, &["training_id"]).await?;
    let front: Vec<&Person> = people
        .iter()
        .filter(|p| FRONT_LINE.contains(&p.role))
        .collect();
    let mut rows: Vec<Coverage> = trainings
        .into_values()
        .map(|t| Coverage {
            certified: holdings
                .iter()
                .filter(|h| {
                    h.training.id == t.id
                        && FRONT_LINE.contains(&h.person.role)
                        && is_current(&h.certification, today)
                })
                .count() as u64,
            front_line: front.len() as u64,
            training: t,
        })
        .collect();
    rows.sort_by(|a, b| a.training.name.cmp(&b.training.name));
    Ok(rows)
}

/// The certified instructors at a branch, per training, whose
/// certification holds today.
pub async fn trainers(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    branch: Uuid,
) -> ServiceResult<Vec<Holding>> {
    let today = state.clock.now().date_naive();
    let (_, _, holdings) = branch_holdings(
        state,
        actor,
        meta,
        branch,
        &[
            "staff_id",
            "display_name",
            "training_id",
            "trainer",
            "expires_on",
        ],
    )
    .await?;
    let mut rows: Vec<Holding> = holdings
        .into_iter()
        .filter(|h| h.certification.trainer && is_current(&h.certification, today))
        .collect();
    rows.sort_by(|a, b| {
        (&a.training.name, &a.person.display_name).cmp(&(&b.training.name, &b.person.display_name))
    });
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_the_period_after_completion() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(expires_on(d("2024-01-31"), Some(36)), Some(d("2027-01-31")));
        assert_eq!(expires_on(d("2024-02-29"), Some(12)), Some(d("2025-02-28")));
        assert_eq!(expires_on(d("2024-02-29"), None), None);
    }
}
