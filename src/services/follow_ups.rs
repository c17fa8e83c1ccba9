//! Follow-ups: due dates on a case or a contact.

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, sea_query::Condition,
};
use uuid::Uuid;

use super::common::{self, Cursor, Page, client_id, optional_text, page_size};
use crate::{
    access::{self, Actor, FollowUpFacts},
    audit::{Action, AuditContext, Outcome, RequestMeta},
    domain::{FollowUpStatus, Issues},
    error::{ServiceError, ServiceResult},
    services::now,
    startup::AppState,
};
use entities::{case_file, contact, follow_up};

pub const FIELDS: &[&str] = &[
    "id",
    "case_id",
    "contact_id",
    "patron_id",
    "assigned_to",
    "due_on",
    "note",
    "status",
    "done_at",
];

pub struct NewFollowUp {
    pub id: Option<Uuid>,
    pub case_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub due_on: NaiveDate,
    pub note: Option<String>,
}

pub async fn create(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    input: NewFollowUp,
) -> ServiceResult<follow_up::Model> {
    let ctx = AuditContext::for_actor(actor, meta);
    let mut issues = Issues::default();
    let id = client_id(&mut issues, input.id);
    let note = optional_text(&mut issues, "note", input.note.as_deref(), 500);
    let today = Utc::now().date_naive();
    if input.due_on < today - chrono::Duration::days(366)
        || input.due_on > today + chrono::Duration::days(3 * 366)
    {
        issues.add(
            "due_on",
            "must be within a year before and three years after today",
        );
    }
    match (input.case_id, input.contact_id) {
        (Some(_), Some(_)) | (None, None) => {
            issues.add("case_id", "give exactly one of case_id and contact_id")
        }
        _ => {}
    }
    issues.finish()?;
    // The parent decides branch and patron; one the caller cannot read is
    // refused as if it did not exist.
    let (branch, patron, readable, field) = if let Some(case_id) = input.case_id {
        match case_file::Entity::find_by_id(case_id)
            .one(&state.db)
            .await?
        {
            Some(c) => {
                let f = common::case_facts(&state.db, &c).await?;
                (
                    c.branch_id,
                    Some(c.patron_id),
                    access::read_case(actor, &f).is_allowed(),
                    "case_id",
                )
            }
            None => (Uuid::nil(), None, false, "case_id"),
        }
    } else {
        let contact_id = input.contact_id.unwrap_or_default();
        match contact::Entity::find_by_id(contact_id)
            .one(&state.db)
            .await?
        {
            Some(c) => {
                let facts = super::contacts::facts(&state.db, actor, &c).await?;
                (
                    c.branch_id,
                    c.patron_id,
                    access::read_contact(actor, &facts).is_allowed(),
                    "contact_id",
                )
            }
            None => (Uuid::nil(), None, false, "contact_id"),
        }
    };
    let decision = access::create_follow_up(actor, readable);
    if !decision.is_allowed() {
        let err = if readable {
            ServiceError::Forbidden
        } else {
            ServiceError::invalid(field, "no such record")
        };
        return Err(common::deny(state, &ctx, decision, Action::Create, "follow_up", err).await);
    }
    let actor_id = actor.staff_id;
    let rule = decision.rule();
    state
        .recorder
        .write(move |txn| {
            Box::pin(async move {
                let result = async {
                    if follow_up::Entity::find_by_id(id).one(txn).await?.is_some() {
                        return Err(ServiceError::Conflict("a record with this id exists"));
                    }
                    let t = now();
                    Ok(follow_up::ActiveModel {
                        id: Set(id),
                        case_id: Set(input.case_id),
                        contact_id: Set(input.contact_id),
                        patron_id: Set(patron),
                        branch_id: Set(branch),
                        assigned_to: Set(actor_id),
                        due_on: Set(input.due_on),
                        note: Set(note),
                        status: Set(FollowUpStatus::Open.as_str().to_owned()),
                        done_at: Set(None),
                        done_by: Set(None),
                        version: Set(1),
                        created_by: Set(actor_id),
                        created_at: Set(t),
                        updated_at: Set(t),
                    }
                    .insert(txn)
                    .await?)
                }
                .await;
                let ev = common::write_event(
                    &ctx,
                    &result,
                    Action::Create,
                    rule,
                    "follow_up",
                    id,
                    patron,
                    FIELDS,
                );
                (result, vec![ev])
            })
        })
        .await
}

async fn facts(
    state: &AppState,
    actor: &Actor,
    f: &follow_up::Model,
) -> ServiceResult<FollowUpFacts> {
    let on_team = match f.case_id {
        Some(case_id) => match case_file::Entity::find_by_id(case_id)
            .one(&state.db)
            .await?
        {
            Some(c) => {
                let cf = common::case_facts(&state.db, &c).await?;
                cf.owner == actor.staff_id || cf.team.contains(&actor.staff_id)
            }
            None => false,
        },
        None => false,
    };
    Ok(FollowUpFacts {
        assigned_to: f.assigned_to,
        created_by: f.created_by,
        branch: f.branch_id,
        on_callers_team: on_team,
    })
}

pub async fn get(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: Uuid,
) -> ServiceResult<follow_up::Model> {
    let ctx = AuditContext::for_actor(actor, meta);
    let found = follow_up::Entity::find_by_id(id).one(&state.db).await?;
    let decision = match &found {
        Some(f) => access::read_follow_up(actor, &facts(state, actor, f).await?),
        None => access::Decision::Deny("no_such_record"),
    };
    let patron = found.as_ref().and_then(|f| f.patron_id);
    common::decide(
        state,
        &ctx,
        decision,
        Action::Read,
        "follow_up",
        id,
        patron,
        FIELDS,
    )
    .await?;
    found.ok_or(ServiceError::NotFound)
}

/// Marks a follow-up done. Requires the current version.
pub async fn done(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: Uuid,
    if_match: Option<&str>,
) -> ServiceResult<follow_up::Model> {
    let ctx = AuditContext::for_actor(actor, meta);
    let version = super::parse_if_match(if_match)?;
    let found = follow_up::Entity::find_by_id(id).one(&state.db).await?;
    let decision = match &found {
        Some(f) => access::read_follow_up(actor, &facts(state, actor, f).await?),
        None => access::Decision::Deny("no_such_record"),
    };
    let patron = found.as_ref().and_then(|f| f.patron_id);
    if !decision.is_allowed() {
        let ev = ctx
            .event(Action::Update, Outcome::Denied, decision.rule())
            .record("follow_up", id)
            .patron(patron);
        state.recorder.record(vec![ev]).await?;
        return Err(ServiceError::NotFound);
    }
    let actor_id = actor.staff_id;
    let rule = decision.rule();
    state
        .recorder
        .write(move |txn| {
            Box::pin(async move {
                let result = async {
                    let current = follow_up::Entity::find_by_id(id)
                        .one(txn)
                        .await?
                        .ok_or(ServiceError::NotFound)?;
                    if current.version != version {
                        return Err(ServiceError::Stale(Box::new(
                            crate::api::follow_ups::follow_up_json(&current),
                        )));
                    }
                    if current.status == FollowUpStatus::Done.as_str() {
                        return Err(ServiceError::Conflict("the follow-up is already done"));
                    }
                    let t = now();
                    let mut m = current.into_active_model();
                    m.status = Set(FollowUpStatus::Done.as_str().to_owned());
                    m.done_at = Set(Some(t));
                    m.done_by = Set(Some(actor_id));
                    m.version = Set(version + 1);
                    m.updated_at = Set(t);
                    Ok(m.update(txn).await?)
                }
                .await;
                let ev = common::write_event(
                    &ctx,
                    &result,
                    Action::Update,
                    rule,
                    "follow_up",
                    id,
                    patron,
                    &["status", "done_at"],
                );
                (result, vec![ev])
            })
        })
        .await
}

/// My open follow-ups, earliest due first (so overdue ones lead), optionally
/// only those due on or before `due_by`.
pub async fn mine(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    due_by: Option<NaiveDate>,
    cursor: Option<&str>,
    limit: Option<u64>,
) -> ServiceResult<Page<follow_up::Model>> {
    let ctx = AuditContext::for_actor(actor, meta);
    let decision = access::list_own_follow_ups(actor);
    if !decision.is_allowed() {
        return Err(common::deny(
            state,
            &ctx,
            decision,
            Action::Search,
            "follow_up",
            ServiceError::Forbidden,
        )
        .await);
    }
    let cursor = Cursor::decode(cursor)?;
    let limit = page_size(limit);
    let mut q = follow_up::Entity::find()
        .filter(follow_up::Column::AssignedTo.eq(actor.staff_id))
        .filter(follow_up::Column::Status.eq(FollowUpStatus::Open.as_str()));
    if let Some(d) = due_by {
        q = q.filter(follow_up::Column::DueOn.lte(d));
    }
    if let Some(c) = &cursor {
        let due: NaiveDate = c.k.parse().map_err(|_| {
            ServiceError::invalid("cursor", "must be a next_cursor from a previous page")
        })?;
        q = q.filter(
            Condition::any().add(follow_up::Column::DueOn.gt(due)).add(
                Condition::all()
                    .add(follow_up::Column::DueOn.eq(due))
                    .add(follow_up::Column::Id.gt(c.id)),
            ),
        );
    }
    let rows = q
        .order_by_asc(follow_up::Column::DueOn)
        .order_by_asc(follow_up::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let (rows, next_cursor) = common::page(rows, limit, |r| {
        Cursor {
            k: r.due_on.to_string(),
            id: r.id,
        }
        .encode()
    });
    let ev = ctx
        .event(Action::Search, Outcome::Allowed, decision.rule())
        .record_type("follow_up")
        .query(serde_json::json!({"assigned_to": "self", "due_by": due_by}).to_string())
        .results(rows.iter().map(|r| r.id).collect())
        .fields(FIELDS);
    state.recorder.record(vec![ev]).await?;
    Ok(Page {
        items: rows,
        next_cursor,
    })
}
