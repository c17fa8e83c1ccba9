//! Casework's side of the support requests it receives: who received and
//! closed each, and the contact or case it led to. Kept here, on this side
//! of the wall, so that nothing about what social work did is stored where
//! the requester's side could reach it.

use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::scope;
use crate::{
    access::{self, Actor, Decision},
    domain::{CaseId, ContactId, SupportRequestId},
    error::{ServiceError, ServiceResult},
    unit::{Loaded, Unit},
};
use entities::support_link;

/// The casework records a request led to, as the receiving worker names
/// them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Link {
    pub contact_id: Option<ContactId>,
    pub case_id: Option<CaseId>,
}

/// What casework recorded of a request it received, for its own views.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    pub request: Uuid,
    pub received_by: Uuid,
    pub contact_id: Option<Uuid>,
    pub case_id: Option<Uuid>,
}

/// What happened to the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Received,
    Closed,
}

/// A record the link names must be one the caller can read; one it cannot
/// is refused as if it did not exist, as the unit's denial.
fn readable<T>(
    u: &mut Unit,
    scope: &access::Scope,
    loaded: &Option<Loaded<T>>,
    field: &str,
    message: &str,
) -> ServiceResult<Option<Uuid>> {
    let decision = match loaded {
        _ if scope.is_nothing() => scope.nothing_rule(),
        Some(l) => scope.decide(&l.facts),
        None => Decision::Deny("no_such_record"),
    };
    match loaded {
        Some(l) if decision.is_allowed() => Ok(l.patron),
        _ => Err(u.deny(decision, None, ServiceError::invalid(field, message))),
    }
}

/// Records, inside the unit, that `actor` received or closed the request,
/// and the contact or case it led to. Returns the patron concerned, if any.
pub async fn record(
    u: &mut Unit,
    actor: &Actor,
    request: SupportRequestId,
    link: Link,
    step: Step,
) -> ServiceResult<Option<Uuid>> {
    let mut patron = None;
    if let Some(id) = link.contact_id {
        let scope = access::contact_scope(actor);
        let loaded = scope::load_contact(u.txn(), actor, id.uuid()).await?;
        patron = readable(u, &scope, &loaded, "contact_id", "no such contact")?.or(patron);
    }
    if let Some(id) = link.case_id {
        let scope = access::case_scope(actor);
        let loaded = scope::load_case(u.txn(), actor, id.uuid(), u.now()).await?;
        patron = readable(u, &scope, &loaded, "case_id", "no such case")?.or(patron);
    }
    let t = u.now();
    let id = request.uuid();
    match support_link::Entity::find_by_id(id).one(u.txn()).await? {
        Some(existing) => {
            let mut m: support_link::ActiveModel = existing.into();
            if let Some(c) = link.contact_id {
                m.contact_id = Set(Some(c.uuid()));
            }
            if let Some(c) = link.case_id {
                m.case_id = Set(Some(c.uuid()));
            }
            if step == Step::Closed {
                m.closed_by = Set(Some(actor.staff_id));
            }
            m.updated_at = Set(t);
            m.update(u.txn()).await?;
        }
        None => {
            support_link::ActiveModel {
                support_request_id: Set(id),
                received_by: Set(actor.staff_id),
                contact_id: Set(link.contact_id.map(ContactId::uuid)),
                case_id: Set(link.case_id.map(CaseId::uuid)),
                closed_by: Set((step == Step::Closed).then_some(actor.staff_id)),
                created_at: Set(t),
                updated_at: Set(t),
            }
            .insert(u.txn())
            .await?;
        }
    }
    Ok(patron)
}

/// What was recorded of these requests (for the receiving side's views
/// only).
pub async fn of(
    db: &impl sea_orm::ConnectionTrait,
    requests: &[SupportRequestId],
) -> ServiceResult<Vec<Handled>> {
    if requests.is_empty() {
        return Ok(Vec::new());
    }
    Ok(support_link::Entity::find()
        .filter(
            support_link::Column::SupportRequestId
                .is_in(requests.iter().map(|r| r.uuid()).collect::<Vec<_>>()),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|l| Handled {
            request: l.support_request_id,
            received_by: l.received_by,
            contact_id: l.contact_id,
            case_id: l.case_id,
        })
        .collect())
}
