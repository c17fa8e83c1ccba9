//! Contacts: encounters on the library floor, anonymous or with a patron.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::scope;
use crate::{
    access::{self, Actor, View},
    audit::{self, Action, AuditContext, Outcome, RequestMeta},
    domain::{ContactId, ContactKind, Issues, Need, RecordKind, occurred_at},
    error::{ServiceError, ServiceResult},
    paging::{Cursor, Order, Page, after, page, page_size},
    state::AppState,
    text::{ClientId, Line, Text},
    unit::{self, Claim, Made, stale, stale_now, update_versioned},
};
use entities::contact;

pub const FIELDS: &[&str] = &[
    "id",
    "worker_id",
    "branch_id",
    "patron_id",
    "occurred_at",
    "duration_minutes",
    "kind",
    "needs",
    "services_given",
    "note",
];

pub struct ContactInput {
    pub branch_id: Option<Uuid>,
    pub patron_id: Option<Uuid>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub duration_minutes: Option<i32>,
    pub kind: Option<ContactKind>,
    pub needs: Option<Vec<Need>>,
    pub services_given: Option<Vec<Line<200>>>,
    pub note: Option<Text<2000, 0>>,
}

struct Checked {
    occurred_at: Option<String>,
    needs: Option<String>,
    services: Option<String>,
    note: Option<String>,
}

/// Checks the input; its time against `now` (the service's clock).
fn check(issues: &mut Issues, input: &ContactInput, creating: bool, now: DateTime<Utc>) -> Checked {
    let occurred = (creating || input.occurred_at.is_some())
        .then(|| audit::format_time(occurred_at(issues, "occurred_at", input.occurred_at, now)));
    let needs = input.needs.as_deref().map(crate::domain::needs_json);
    let services = input.services_given.as_ref().map(|s| {
        let cleaned: Vec<&str> = s.iter().map(Line::as_str).collect();
        serde_json::to_string(&cleaned).unwrap_or_else(|_| "[]".into())
    });
    let note = input.note.clone().and_then(Text::into_present);
    Checked {
        occurred_at: occurred,
        needs,
        services,
        note,
    }
}

fn fields(_: View) -> &'static [&'static str] {
    FIELDS
}

pub async fn create(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: Option<ClientId>,
    input: ContactInput,
) -> ServiceResult<contact::Model> {
    let ctx = AuditContext::for_actor(actor, meta);
    let mut issues = Issues::default();
    // Only an id the client chose can be taken already.
    let chosen = id.is_some();
    let id = ClientId::or_new(id);
    let c = check(&mut issues, &input, true, state.clock.now());
    if input.kind.is_none() {
        issues.add("kind", "is required");
    }
    if input.branch_id.is_none() {
        issues.add("branch_id", "is required");
    }
    issues.finish()?;
    let branch = input.branch_id.unwrap_or_default();
    let patron_id = input.patron_id;
    let kind = input
        .kind
        .map(|k| k.as_str().to_owned())
        .unwrap_or_default();
    let key = meta.idempotency.clone();
    let who = actor.clone();
    let made = state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(Action::Create, RecordKind::Contact, Some(id));
                let decision = access::create_contact(&who, branch);
                if !decision.is_allowed() {
                    return Err(u.deny(decision, patron_id, ServiceError::Forbidden));
                }
                if let Some(p) = patron_id {
                    scope::visible_patron(u, &who, p).await?;
                }
                if let Claim::Replay(first) =
                    u.claim(key.as_ref(), RecordKind::Contact, id, 201).await?
                {
                    return Ok(u.replay(first));
                }
                u.allow(decision.rule(), patron_id, FIELDS);
                if chosen
                    && contact::Entity::find_by_id(id)
                        .one(u.txn())
                        .await?
                        .is_some()
                {
                    return Err(ServiceError::Conflict("a record with this id exists"));
                }
                let t = u.now();
                let m = contact::ActiveModel {
                    id: Set(id),
                    worker_id: Set(who.staff_id),
                    branch_id: Set(branch),
                    patron_id: Set(patron_id),
                    occurred_at: Set(c.occurred_at.unwrap_or_else(|| audit::format_time(t))),
                    recorded_at: Set(t),
                    duration_minutes: Set(input.duration_minutes),
                    kind: Set(kind),
                    needs: Set(c.needs.unwrap_or_else(|| "[]".into())),
                    services_given: Set(c.services.unwrap_or_else(|| "[]".into())),
                    note: Set(c.note),
                    version: Set(1),
                    updated_at: Set(t),
                }
                .insert(u.txn())
                .await?;
                u.changed(RecordKind::Contact, id);
                Ok(Made::New(m))
            })
        })
        .await?;
    match made {
        Made::New(m) => Ok(m),
        Made::Replay(first) => get(state, actor, meta, ContactId::new(first)).await,
    }
}

pub async fn get(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: ContactId,
) -> ServiceResult<contact::Model> {
    let id = id.uuid();
    let ctx = AuditContext::for_actor(actor, meta);
    let scope = access::contact_scope(actor);
    let (c, _) = unit::read_one(
        state,
        &ctx,
        &scope,
        Action::Read,
        RecordKind::Contact,
        id,
        fields,
        || scope::load_contact(&state.db, actor, id),
    )
    .await?;
    Ok(c)
}

pub async fn update(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: ContactId,
    if_match: Option<&str>,
    input: ContactInput,
) -> ServiceResult<contact::Model> {
    let id = id.uuid();
    let ctx = AuditContext::for_actor(actor, meta);
    let version = unit::parse_if_match(if_match)?;
    let mut issues = Issues::default();
    let c = check(&mut issues, &input, false, state.clock.now());
    if input.branch_id.is_some() {
        issues.add("branch_id", "cannot be changed");
    }
    issues.finish()?;
    let mut changed = Vec::new();
    for (present, name) in [
        (input.patron_id.is_some(), "patron_id"),
        (c.occurred_at.is_some(), "occurred_at"),
        (input.duration_minutes.is_some(), "duration_minutes"),
        (input.kind.is_some(), "kind"),
        (c.needs.is_some(), "needs"),
        (c.services.is_some(), "services_given"),
        (c.note.is_some(), "note"),
    ] {
        if present {
            changed.push(name);
        }
    }
    let who = actor.clone();
    state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(Action::Update, RecordKind::Contact, Some(id));
                let scope = access::contact_scope(&who);
                let loader = who.clone();
                let ch = scope::for_change(
                    u,
                    &scope,
                    move |txn| Box::pin(async move { scope::load_contact(txn, &loader, id).await }),
                    |_, f| access::update_contact(&who, f),
                )
                .await?;
                if let Some(p) = input.patron_id {
                    scope::visible_patron(u, &who, p).await?;
                }
                u.allow(ch.rule, input.patron_id.or(ch.patron), &changed);
                let current = ch.record;
                if current.version != version {
                    return Err(stale(current));
                }
                let mut m = current.into_active_model();
                if let Some(v) = input.patron_id {
                    m.patron_id = Set(Some(v));
                }
                if let Some(v) = c.occurred_at {
                    m.occurred_at = Set(v);
                }
                if let Some(v) = input.duration_minutes {
                    m.duration_minutes = Set(Some(v));
                }
                if let Some(v) = input.kind {
                    m.kind = Set(v.as_str().to_owned());
                }
                if let Some(v) = c.needs {
                    m.needs = Set(v);
                }
                if let Some(v) = c.services {
                    m.services_given = Set(v);
                }
                if let Some(v) = c.note {
                    m.note = Set(Some(v));
                }
                m.version = Set(version + 1);
                m.updated_at = Set(u.now());
                let Some(m) =
                    update_versioned(u.txn(), m, contact::Column::Version, version).await?
                else {
                    return Err(stale_now::<contact::Entity>(u.txn(), id).await);
                };
                u.changed(RecordKind::Contact, id);
                Ok(m)
            })
        })
        .await
}

/// The caller's own contacts that their scope admits, newest first, within
/// `[from, to)`.
pub async fn mine(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    cursor: Option<&str>,
    limit: Option<u64>,
) -> ServiceResult<Page<contact::Model>> {
    let ctx = AuditContext::for_actor(actor, meta);
    let scope = access::contact_scope(actor);
    let decision = access::own_list(&scope);
    crate::unit::allowed(state, &ctx, decision, Action::Search, RecordKind::Contact).await?;
    let cursor = Cursor::decode(cursor)?;
    let limit = page_size(limit);
    let mut q = contact::Entity::find()
        .filter(contact::Column::WorkerId.eq(actor.staff_id))
        .filter(scope::condition(RecordKind::Contact, &scope, actor));
    if let Some(f) = from {
        q = q.filter(contact::Column::OccurredAt.gte(audit::format_time(f)));
    }
    if let Some(t) = to {
        q = q.filter(contact::Column::OccurredAt.lt(audit::format_time(t)));
    }
    if let Some(c) = &cursor {
        q = q.filter(after(
            contact::Column::OccurredAt,
            contact::Column::Id,
            c.k.clone(),
            c.id,
            Order::Desc,
        ));
    }
    let rows = q
        .order_by_desc(contact::Column::OccurredAt)
        .order_by_desc(contact::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let (rows, next_cursor) = page(rows, limit, |r| {
        Cursor {
            k: r.occurred_at.clone(),
            id: r.id,
        }
        .encode()
    });
    let ev = ctx
        .event(Action::Search, Outcome::Allowed, decision.rule())
        .record_type(RecordKind::Contact)
        .query(serde_json::json!({"worker": "self", "from": from, "to": to}).to_string())
        .patrons(rows.iter().filter_map(|r| r.patron_id))
        .results(rows.iter().map(|r| r.id).collect())
        .fields(FIELDS);
    state.recorder.record(vec![ev]).await?;
    Ok(Page {
        items: rows,
        next_cursor,
    })
}
