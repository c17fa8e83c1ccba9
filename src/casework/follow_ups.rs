//! Follow-ups: due dates on a case or a contact.

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::scope;
use crate::{
    access::{self, Actor, View},
    audit::{Action, AuditContext, Outcome, RequestMeta},
    domain::{CaseId, ContactId, FollowUpId, FollowUpStatus, Issues, RecordKind},
    error::{ServiceError, ServiceResult},
    paging::{Cursor, Order, Page, after, page, page_size},
    state::AppState,
    text::{ClientId, Text},
    unit::{self, Claim, Made, stale, update_versioned},
};
use entities::follow_up;

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
    pub id: Option<ClientId>,
    pub case_id: Option<CaseId>,
    pub contact_id: Option<ContactId>,
    pub due_on: NaiveDate,
    pub note: Option<Note>,
}

/// What to do when it falls due: may span lines; blank means none.
pub type Note = Text<500, 0>;

fn fields(_: View) -> &'static [&'static str] {
    FIELDS
}

pub async fn create(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    input: NewFollowUp,
) -> ServiceResult<follow_up::Model> {
    let ctx = AuditContext::for_actor(actor, meta);
    let mut issues = Issues::default();
    let id = ClientId::or_new(input.id);
    let note = input.note.and_then(Text::into_present);
    let today = state.clock.now().date_naive();
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
    let case_id = input.case_id.map(CaseId::uuid);
    let contact_id = input.contact_id.map(ContactId::uuid);
    let key = meta.idempotency.clone();
    let who = actor.clone();
    let made = state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(Action::Create, RecordKind::FollowUp, Some(id));
                // The parent decides branch and patron; one the caller cannot
                // read is refused as if it did not exist.
                let (scope, field) = match case_id {
                    Some(_) => (access::case_scope(&who), "case_id"),
                    None => (access::contact_scope(&who), "contact_id"),
                };
                if scope.is_nothing() {
                    let d = access::create_follow_up(&who, false);
                    return Err(u.deny(d, None, ServiceError::invalid(field, "no such record")));
                }
                let parent = match (case_id, contact_id) {
                    (Some(case_id), _) => scope::load_case(u.txn(), &who, case_id, u.now())
                        .await?
                        .map(|l| (l.record.0.branch_id, l.patron, l.facts)),
                    (None, Some(contact_id)) => scope::load_contact(u.txn(), &who, contact_id)
                        .await?
                        .map(|l| (l.record.branch_id, l.patron, l.facts)),
                    (None, None) => None,
                };
                let readable = parent
                    .as_ref()
                    .is_some_and(|(_, _, f)| scope.admits(f).is_ok());
                let decision = access::create_follow_up(&who, readable);
                let (branch, patron) = match parent {
                    Some((b, p, _)) if decision.is_allowed() => (b, p),
                    _ => {
                        return Err(u.deny(
                            decision,
                            None,
                            ServiceError::invalid(field, "no such record"),
                        ));
                    }
                };
                if let Claim::Replay(first) =
                    u.claim(key.as_ref(), RecordKind::FollowUp, id, 201).await?
                {
                    return Ok(u.replay(first));
                }
                u.allow(decision.rule(), patron, FIELDS);
                if follow_up::Entity::find_by_id(id)
                    .one(u.txn())
                    .await?
                    .is_some()
                {
                    return Err(ServiceError::Conflict("a record with this id exists"));
                }
                let t = u.now();
                let m = follow_up::ActiveModel {
                    id: Set(id),
                    case_id: Set(case_id),
                    contact_id: Set(contact_id),
                    patron_id: Set(patron),
                    branch_id: Set(branch),
                    assigned_to: Set(who.staff_id),
                    due_on: Set(input.due_on),
                    note: Set(note),
                    status: Set(FollowUpStatus::Open.as_str().to_owned()),
                    done_at: Set(None),
                    done_by: Set(None),
                    version: Set(1),
                    created_by: Set(who.staff_id),
                    created_at: Set(t),
                    updated_at: Set(t),
                }
                .insert(u.txn())
                .await?;
                u.changed(RecordKind::FollowUp, id);
                Ok(Made::New(m))
            })
        })
        .await?;
    match made {
        Made::New(m) => Ok(m),
        Made::Replay(first) => get(state, actor, meta, FollowUpId::new(first)).await,
    }
}

pub async fn get(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: FollowUpId,
) -> ServiceResult<follow_up::Model> {
    let id = id.uuid();
    let ctx = AuditContext::for_actor(actor, meta);
    let scope = access::follow_up_scope(actor);
    let (f, _) = unit::read_one(
        state,
        &ctx,
        &scope,
        Action::Read,
        RecordKind::FollowUp,
        id,
        fields,
        || scope::load_follow_up(&state.db, actor, id),
    )
    .await?;
    Ok(f)
}

/// Marks a follow-up done: whoever may read it may. Requires the current
/// version.
pub async fn done(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: FollowUpId,
    if_match: Option<&str>,
) -> ServiceResult<follow_up::Model> {
    let id = id.uuid();
    let ctx = AuditContext::for_actor(actor, meta);
    let version = unit::parse_if_match(if_match)?;
    let key = meta.idempotency.clone();
    let who = actor.clone();
    let made = state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(Action::Update, RecordKind::FollowUp, Some(id));
                let scope = access::follow_up_scope(&who);
                let loader = who.clone();
                let ch = scope::for_change(
                    u,
                    &scope,
                    move |txn| {
                        Box::pin(async move { scope::load_follow_up(txn, &loader, id).await })
                    },
                    |_, f| access::read_follow_up(&who, f),
                )
                .await?;
                if let Claim::Replay(first) =
                    u.claim(key.as_ref(), RecordKind::FollowUp, id, 200).await?
                {
                    return Ok(u.replay(first));
                }
                u.allow(ch.rule, ch.patron, &["status", "done_at"]);
                let current = ch.record;
                if current.version != version {
                    return Err(stale((current, u.now())));
                }
                if current.status == FollowUpStatus::Done.as_str() {
                    return Err(ServiceError::Conflict("the follow-up is already done"));
                }
                let t = u.now();
                let mut m = current.into_active_model();
                m.status = Set(FollowUpStatus::Done.as_str().to_owned());
                m.done_at = Set(Some(t));
                m.done_by = Set(Some(who.staff_id));
                m.version = Set(version + 1);
                m.updated_at = Set(t);
                let Some(m) =
                    update_versioned(u.txn(), m, follow_up::Column::Version, version).await?
                else {
                    return Err(
                        match follow_up::Entity::find_by_id(id).one(u.txn()).await? {
                            Some(m) => stale((m, u.now())),
                            None => ServiceError::NotFound,
                        },
                    );
                };
                u.changed(RecordKind::FollowUp, id);
                Ok(Made::New(m))
            })
        })
        .await?;
    match made {
        Made::New(m) => Ok(m),
        Made::Replay(first) => get(state, actor, meta, FollowUpId::new(first)).await,
    }
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
    let scope = access::follow_up_scope(actor);
    let decision = access::own_list(&scope);
    crate::unit::allowed(state, &ctx, decision, Action::Search, RecordKind::FollowUp).await?;
    let cursor = Cursor::decode(cursor)?;
    let limit = page_size(limit);
    let mut q = follow_up::Entity::find()
        .filter(follow_up::Column::AssignedTo.eq(actor.staff_id))
        .filter(follow_up::Column::Status.eq(FollowUpStatus::Open.as_str()))
        .filter(scope::condition(RecordKind::FollowUp, &scope, actor));
    if let Some(d) = due_by {
        q = q.filter(follow_up::Column::DueOn.lte(d));
    }
    if let Some(c) = &cursor {
        q = q.filter(after(
            follow_up::Column::DueOn,
            follow_up::Column::Id,
            c.key::<NaiveDate>()?,
            c.id,
            Order::Asc,
        ));
    }
    let rows = q
        .order_by_asc(follow_up::Column::DueOn)
        .order_by_asc(follow_up::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let (rows, next_cursor) = page(rows, limit, |r| {
        Cursor {
            k: r.due_on.to_string(),
            id: r.id,
        }
        .encode()
    });
    let ev = ctx
        .event(Action::Search, Outcome::Allowed, decision.rule())
        .record_type(RecordKind::FollowUp)
        .patrons(rows.iter().filter_map(|r| r.patron_id))
        .query(serde_json::json!({"assigned_to": "self", "due_by": due_by}).to_string())
        .results(rows.iter().map(|r| r.id).collect())
        .fields(FIELDS);
    state.recorder.record(vec![ev]).await?;
    Ok(Page {
        items: rows,
        next_cursor,
    })
}
