//! The policy's safety scopes as SQL, and the facts the policy needs about
//! a safety record: the twin of casework's scope module, on this side of the
//! wall.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait,
    sea_query::{Condition, SimpleExpr},
};
use uuid::Uuid;

use crate::{
    access::{Actor, Facts, Scope, Term},
    domain::RecordKind,
    error::ServiceResult,
    unit::Loaded,
};
use entities::safety::{incident, suspension};

/// What one term of a scope means for one kind of safety record, as SQL.
fn term(kind: RecordKind, term: Term, actor: &Actor, branches: &[Uuid]) -> SimpleExpr {
    use RecordKind as K;
    match (kind, term) {
        (K::Incident | K::Suspension, Term::All) => crate::scope::always(),
        (K::Incident, Term::Mine) => incident::Column::CreatedBy.eq(actor.staff_id),
        (K::Incident, Term::Branch) => incident::Column::BranchId.is_in(branches.to_vec()),
        _ => crate::scope::never(),
    }
}

/// The rows of `kind` that `scope` admits.
pub fn condition(kind: RecordKind, scope: &Scope, actor: &Actor) -> Condition {
    crate::scope::admitted(scope, |t| term(kind, t, actor, &scope.branches))
}

fn incident_facts(actor: &Actor, i: &incident::Model) -> Facts {
    Facts {
        glass: false,
        mine: i.created_by == actor.staff_id,
        team: false,
        branch: i.branch_id,
    }
}

pub async fn load_incident(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> ServiceResult<Option<Loaded<incident::Model>>> {
    Ok(incident::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|i| Loaded {
            facts: incident_facts(actor, &i),
            patron: None,
            record: i,
        }))
}

pub async fn load_suspension(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> ServiceResult<Option<Loaded<suspension::Model>>> {
    Ok(suspension::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|s| Loaded {
            facts: Facts {
                glass: false,
                mine: s.created_by == actor.staff_id,
                team: false,
                // A system-wide suspension belongs to no one branch.
                branch: s.branch_id.unwrap_or_default(),
            },
            patron: None,
            record: s,
        }))
}
