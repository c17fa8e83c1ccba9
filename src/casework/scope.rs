//! The policy's scopes as SQL, and the facts the policy needs, loaded.
//!
//! `access` says which [`Term`]s admit a record of each kind; this module
//! says what each term means as a condition on that kind's table. Lists and
//! searches filter by [`condition`], single reads decide on the facts loaded
//! here; `tests/api/roles.rs` checks on real data that both agree.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    sea_query::{Condition, Expr, ExprTrait, Query, SelectStatement, SimpleExpr},
};
use uuid::Uuid;

use crate::{
    access::{self, Actor, CaseFacts, Decision, Facts, Scope, Term},
    domain::RecordKind,
    error::{ServiceError, ServiceResult},
    unit::{Loaded, Unit},
};
use chrono::{DateTime, Utc};
use entities::{
    break_glass, case_file, case_member, contact, follow_up, mandated_report, patron, referral,
};

/// Current team members (a member who left stays in the table with `ended_at`).
fn active_members(actor: &Actor) -> SelectStatement {
    Query::select()
        .column(case_member::Column::CaseId)
        .from(case_member::Entity)
        .and_where(Expr::col(case_member::Column::StaffId).eq(actor.staff_id))
        .and_where(Expr::col(case_member::Column::EndedAt).is_null())
        .to_owned()
}

/// Ids of the cases the caller owns or is on the team of, as a condition on
/// `case_file`.
pub fn my_cases(actor: &Actor) -> Condition {
    Condition::any()
        .add(Expr::col((case_file::Entity, case_file::Column::OwnerId)).eq(actor.staff_id))
        .add(
            Expr::col((case_file::Entity, case_file::Column::Id))
                .in_subquery(active_members(actor)),
        )
}

/// Ids of the cases the caller owns or works on, as a subquery.
fn my_case_ids(actor: &Actor) -> SelectStatement {
    Query::select()
        .column(case_file::Column::Id)
        .from(case_file::Entity)
        .cond_where(
            Condition::any()
                .add(Expr::col(case_file::Column::OwnerId).eq(actor.staff_id))
                .add(Expr::col(case_file::Column::Id).in_subquery(active_members(actor))),
        )
        .to_owned()
}

/// Ids of the patrons whose cases the caller owns or works on, as a subquery.
fn my_team_patrons(actor: &Actor) -> SelectStatement {
    Query::select()
        .column(case_file::Column::PatronId)
        .from(case_file::Entity)
        .cond_where(
            Condition::any()
                .add(Expr::col(case_file::Column::OwnerId).eq(actor.staff_id))
                .add(Expr::col(case_file::Column::Id).in_subquery(active_members(actor))),
        )
        .to_owned()
}

/// Ids of the cases the caller holds an open break-glass grant to at `now`.
fn glass_cases(actor: &Actor, now: DateTime<Utc>) -> SelectStatement {
    Query::select()
        .column(break_glass::Column::CaseId)
        .from(break_glass::Entity)
        .and_where(Expr::col(break_glass::Column::SupervisorId).eq(actor.staff_id))
        .and_where(Expr::col(break_glass::Column::StartsAt).lte(now))
        .and_where(Expr::col(break_glass::Column::EndsAt).gt(now))
        .to_owned()
}

/// What one term of a scope means for one kind of record, as SQL; a
/// break-glass term only with the service's clock.
fn term(
    kind: RecordKind,
    term: Term,
    actor: &Actor,
    branches: &[Uuid],
    now: Option<DateTime<Utc>>,
) -> SimpleExpr {
    use RecordKind as K;
    let me = actor.staff_id;
    match (kind, term) {
        (K::Case, Term::Glass) => match now {
            Some(now) => Expr::col((case_file::Entity, case_file::Column::Id))
                .in_subquery(glass_cases(actor, now)),
            None => crate::scope::never(),
        },
        (K::Patron, Term::Mine) => patron::Column::CreatedBy.eq(me),
        (K::Patron, Term::Team) => {
            Expr::col((patron::Entity, patron::Column::Id)).in_subquery(my_team_patrons(actor))
        }
        (K::Patron, Term::Branch) => patron::Column::HomeBranchId.is_in(branches.to_vec()),
        (K::Contact, Term::Mine) => contact::Column::WorkerId.eq(me),
        (K::Contact, Term::Team) => contact::Column::PatronId.in_subquery(my_team_patrons(actor)),
        (K::Contact, Term::Branch) => contact::Column::BranchId.is_in(branches.to_vec()),
        (K::Case, Term::Mine) => case_file::Column::OwnerId.eq(me),
        (K::Case, Term::Team) => {
            Expr::col((case_file::Entity, case_file::Column::Id)).in_subquery(my_case_ids(actor))
        }
        (K::Case, Term::Branch) => case_file::Column::BranchId.is_in(branches.to_vec()),
        (K::FollowUp, Term::Mine) => follow_up::Column::AssignedTo
            .eq(me)
            .or(follow_up::Column::CreatedBy.eq(me)),
        (K::FollowUp, Term::Team) => follow_up::Column::CaseId.in_subquery(my_case_ids(actor)),
        (K::FollowUp, Term::Branch) => follow_up::Column::BranchId.is_in(branches.to_vec()),
        (K::Referral, Term::Mine) => referral::Column::CreatedBy.eq(me),
        (K::Referral, Term::Team) => {
            referral::Column::CaseId
                .in_subquery(my_case_ids(actor))
                .or(referral::Column::CaseId
                    .is_null()
                    .and(referral::Column::PatronId.in_subquery(my_team_patrons(actor))))
        }
        (K::Referral, Term::Branch) => referral::Column::BranchId.is_in(branches.to_vec()),
        (K::MandatedReport, Term::Mine) => mandated_report::Column::CreatedBy.eq(me),
        (K::MandatedReport, Term::Branch) => {
            mandated_report::Column::BranchId.is_in(branches.to_vec())
        }
        _ => crate::scope::never(),
    }
}

/// The rows of `kind` that `scope` admits, but through a break-glass grant:
/// for lists that cannot take in such a case (a caseload is the caller's
/// own and team cases).
pub fn condition(kind: RecordKind, scope: &Scope, actor: &Actor) -> Condition {
    scope_condition(kind, scope, actor, None)
}

/// The rows of `kind` that `scope` admits at `now` (the service's clock),
/// break-glass grants open then included: what the single reads decide.
pub fn condition_at(
    kind: RecordKind,
    scope: &Scope,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Condition {
    scope_condition(kind, scope, actor, Some(now))
}

fn scope_condition(
    kind: RecordKind,
    scope: &Scope,
    actor: &Actor,
    now: Option<DateTime<Utc>>,
) -> Condition {
    crate::scope::admitted(scope, |t| term(kind, t, actor, &scope.branches, now))
}

/// Current team members of a case, besides the owner.
pub async fn team_of(db: &impl ConnectionTrait, case_id: Uuid) -> ServiceResult<Vec<Uuid>> {
    let mut team = case_member::Entity::find()
        .select_only()
        .column(case_member::Column::StaffId)
        .filter(case_member::Column::CaseId.eq(case_id))
        .filter(case_member::Column::EndedAt.is_null())
        .into_tuple::<Uuid>()
        .all(db)
        .await?;
    team.sort();
    Ok(team)
}

pub async fn case_facts(
    db: &impl ConnectionTrait,
    case: &case_file::Model,
) -> ServiceResult<CaseFacts> {
    Ok(CaseFacts {
        owner: case.owner_id,
        team: team_of(db, case.id).await?,
        branch: case.branch_id,
        glass: None,
    })
}

/// Whether the caller owns or works on any case of `patron_id`.
pub async fn on_patrons_team(
    db: &impl ConnectionTrait,
    actor: &Actor,
    patron_id: Uuid,
) -> ServiceResult<bool> {
    let n = case_file::Entity::find()
        .filter(case_file::Column::PatronId.eq(patron_id))
        .filter(my_cases(actor))
        .count(db)
        .await?;
    Ok(n > 0)
}

pub async fn patron_facts(
    db: &impl ConnectionTrait,
    actor: &Actor,
    p: &patron::Model,
) -> ServiceResult<Facts> {
    let mut facts = Facts {
        glass: false,
        mine: p.created_by == actor.staff_id,
        team: false,
        branch: p.home_branch_id,
    };
    // Ask the team only if it can change a decision on these facts (the
    // patron scope's, the consent scope's, and the rest named at
    // `access::patron_facts_need_team`, tested there against each other).
    if access::patron_facts_need_team(actor, &facts) {
        facts.team = on_patrons_team(db, actor, p.id).await?;
    }
    Ok(facts)
}

pub async fn contact_facts(
    db: &impl ConnectionTrait,
    actor: &Actor,
    c: &contact::Model,
) -> ServiceResult<Facts> {
    let mut facts = Facts {
        glass: false,
        mine: c.worker_id == actor.staff_id,
        team: false,
        branch: c.branch_id,
    };
    // Every decision on a contact's facts but the author's own (which asks
    // `mine` alone) is the contact scope's: ask the team only if it can
    // change that (not for its author, a peer or a supervisor).
    if let Some(p) = c.patron_id
        && access::contact_scope(actor).needs_team(&facts)
    {
        facts.team = on_patrons_team(db, actor, p).await?;
    }
    Ok(facts)
}

pub async fn follow_up_facts(
    db: &impl ConnectionTrait,
    actor: &Actor,
    f: &follow_up::Model,
) -> ServiceResult<Facts> {
    let team = match f.case_id {
        Some(case_id) => match case_file::Entity::find_by_id(case_id).one(db).await? {
            Some(c) => case_facts(db, &c).await?.facts(actor).team,
            None => false,
        },
        None => false,
    };
    Ok(Facts {
        glass: false,
        mine: f.assigned_to == actor.staff_id || f.created_by == actor.staff_id,
        team,
        branch: f.branch_id,
    })
}

pub async fn referral_facts(
    db: &impl ConnectionTrait,
    actor: &Actor,
    r: &referral::Model,
) -> ServiceResult<Facts> {
    let team = match r.case_id {
        Some(case_id) => match case_file::Entity::find_by_id(case_id).one(db).await? {
            Some(c) => case_facts(db, &c).await?.facts(actor).team,
            None => false,
        },
        None => on_patrons_team(db, actor, r.patron_id).await?,
    };
    Ok(Facts {
        glass: false,
        mine: r.created_by == actor.staff_id,
        team,
        branch: r.branch_id,
    })
}

pub async fn load_referral(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> ServiceResult<Option<Loaded<referral::Model>>> {
    Ok(match referral::Entity::find_by_id(id).one(db).await? {
        Some(r) => Some(Loaded {
            facts: referral_facts(db, actor, &r).await?,
            patron: Some(r.patron_id),
            record: r,
        }),
        None => None,
    })
}

pub async fn load_mandated_report(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> ServiceResult<Option<Loaded<mandated_report::Model>>> {
    Ok(mandated_report::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|r| Loaded {
            facts: Facts {
                glass: false,
                mine: r.created_by == actor.staff_id,
                // Never a team record: the case team does not read it.
                team: false,
                branch: r.branch_id,
            },
            patron: Some(r.patron_id),
            record: r,
        }))
}

pub async fn load_patron(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> ServiceResult<Option<Loaded<patron::Model>>> {
    Ok(match patron::Entity::find_by_id(id).one(db).await? {
        Some(p) => Some(Loaded {
            facts: patron_facts(db, actor, &p).await?,
            patron: Some(p.id),
            record: p,
        }),
        None => None,
    })
}

pub async fn load_contact(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> ServiceResult<Option<Loaded<contact::Model>>> {
    Ok(match contact::Entity::find_by_id(id).one(db).await? {
        Some(c) => Some(Loaded {
            facts: contact_facts(db, actor, &c).await?,
            patron: c.patron_id,
            record: c,
        }),
        None => None,
    })
}

/// A case with its current team.
pub type CaseWithFacts = (case_file::Model, CaseFacts);

/// The facts of many cases at once (a sync page's): one statement for all
/// their teams instead of one a case; the same facts as [`case_facts_at`]
/// gives each (the sync tests compare the feed with single reads).
pub async fn case_facts_many(
    db: &impl ConnectionTrait,
    actor: &Actor,
    cases: &[case_file::Model],
    now: DateTime<Utc>,
) -> ServiceResult<Vec<CaseFacts>> {
    let mut teams: std::collections::HashMap<Uuid, Vec<Uuid>> = Default::default();
    let ids: Vec<Uuid> = cases.iter().map(|c| c.id).collect();
    for chunk in ids.chunks(500) {
        let rows: Vec<(Uuid, Uuid)> = case_member::Entity::find()
            .select_only()
            .column(case_member::Column::CaseId)
            .column(case_member::Column::StaffId)
            .filter(case_member::Column::CaseId.is_in(chunk.to_vec()))
            .filter(case_member::Column::EndedAt.is_null())
            .into_tuple()
            .all(db)
            .await?;
        for (case, staff) in rows {
            teams.entry(case).or_default().push(staff);
        }
    }
    let mut out = Vec::with_capacity(cases.len());
    for case in cases {
        let mut team = teams.remove(&case.id).unwrap_or_default();
        team.sort();
        let mut cf = CaseFacts {
            owner: case.owner_id,
            team,
            branch: case.branch_id,
            glass: None,
        };
        if access::case_needs_glass(actor, case.branch_id) {
            cf.glass = super::break_glass::open_grant(db, actor.staff_id, case.id, now).await?;
        }
        out.push(cf);
    }
    Ok(out)
}

/// A case's facts for `actor` at `now`: for a supervisor, whether a
/// break-glass grant of theirs to it is open then.
pub async fn case_facts_at(
    db: &impl ConnectionTrait,
    actor: &Actor,
    case: &case_file::Model,
    now: DateTime<Utc>,
) -> ServiceResult<CaseFacts> {
    let mut cf = case_facts(db, case).await?;
    // A grant can matter only outside the supervisor's branches (tested
    // in `access` against the facts with a grant).
    if access::case_needs_glass(actor, case.branch_id) {
        cf.glass = super::break_glass::open_grant(db, actor.staff_id, case.id, now).await?;
    }
    Ok(cf)
}

/// A case with its facts for `actor`; `now` (the service's clock) decides
/// whether a supervisor's break-glass grant is open.
pub async fn load_case(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> ServiceResult<Option<Loaded<CaseWithFacts>>> {
    Ok(match case_file::Entity::find_by_id(id).one(db).await? {
        Some(c) => {
            let cf = case_facts_at(db, actor, &c, now).await?;
            Some(Loaded {
                facts: cf.facts(actor),
                patron: Some(c.patron_id),
                record: (c, cf),
            })
        }
        None => None,
    })
}

pub async fn load_follow_up(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> ServiceResult<Option<Loaded<follow_up::Model>>> {
    Ok(match follow_up::Entity::find_by_id(id).one(db).await? {
        Some(f) => Some(Loaded {
            facts: follow_up_facts(db, actor, &f).await?,
            patron: f.patron_id,
            record: f,
        }),
        None => None,
    })
}

/// A patron that a request refers to (a contact's, a new case's), inside a
/// unit: one the caller may not see is refused as if it did not exist, and
/// the refusal is the unit's denial.
pub async fn visible_patron(
    unit: &mut Unit,
    actor: &Actor,
    id: Uuid,
) -> ServiceResult<patron::Model> {
    let scope = access::patron_scope(actor);
    let decision = if scope.is_nothing() {
        Err(scope.nothing_rule())
    } else {
        match load_patron(unit.txn(), actor, id).await? {
            Some(l) => scope.admits(&l.facts).map(|_| l.record),
            None => Err(Decision::Deny("no_such_record")),
        }
    };
    decision.map_err(|d| {
        unit.deny(
            d,
            Some(id),
            ServiceError::invalid("patron_id", "no such patron"),
        )
    })
}

/// A case that a request names beside a patron, inside a unit: one the
/// caller cannot read, or of another patron, is refused as if it did not
/// exist, and the refusal is the unit's denial.
pub async fn case_of_patron(
    unit: &mut Unit,
    actor: &Actor,
    case_id: Uuid,
    patron_id: Uuid,
) -> ServiceResult<Loaded<CaseWithFacts>> {
    let loaded = load_case(unit.txn(), actor, case_id, unit.now()).await?;
    let decision = match &loaded {
        Some(l) => access::case_of_patron(actor, &l.facts, l.record.0.patron_id == patron_id),
        None => Decision::Deny("no_such_record"),
    };
    match loaded {
        Some(l) if decision.is_allowed() => Ok(l),
        _ => Err(unit.deny(
            decision,
            Some(patron_id),
            ServiceError::invalid("case_id", "no such case of this patron"),
        )),
    }
}

pub use crate::unit::{Changing, for_change};
