//! Contacts: encounters on the library floor, anonymous or with a patron.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, sea_query::Condition,
};
use uuid::Uuid;

use super::common::{self, Cursor, Page, client_id, occurred_at, optional_text, page_size};
use crate::{
    access::{self, Actor, ContactFacts},
    audit::{self, Action, AuditContext, Outcome, RequestMeta},
    domain::{ContactKind, Issues, Need},
    error::{ServiceError, ServiceResult},
    services::now,
    startup::AppState,
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
    pub services_given: Option<Vec<String>>,
    pub note: Option<String>,
}

struct Checked {
    occurred_at: Option<String>,
    needs: Option<String>,
    services: Option<String>,
    note: Option<String>,
}

fn check(issues: &mut Issues, input: &ContactInput, creating: bool) -> Checked {
    let occurred = (creating || input.occurred_at.is_some())
        .then(|| audit::format_time(occurred_at(issues, "occurred_at", input.occurred_at)));
    if let Some(d) = input.duration_minutes
        && !(0..=1440).contains(&d)
    {
        issues.add("duration_minutes", "must be between 0 and 1440");
    }
    let needs = input.needs.as_ref().map(|n| {
        let mut v: Vec<&str> = n.iter().map(|x| x.as_str()).collect();
        v.sort();
        v.dedup();
        serde_json::to_string(&v).unwrap_or_else(|_| "[]".into())
    });
    let services = input.services_given.as_ref().map(|s| {
        if s.len() > 20 {
            issues.add("services_given", "must have at most 20 entries");
        }
        let cleaned: Vec<String> = s
            .iter()
            .enumerate()
            .map(|(i, v)| issues.text(&format!("services_given/{i}"), v, 1, 200))
            .collect();
        serde_json::to_string(&cleaned).unwrap_or_else(|_| "[]".into())
    });
    let note = optional_text(issues, "note", input.note.as_deref(), 2000);
    Checked {
        occurred_at: occurred,
        needs,
        services,
        note,
    }
}

pub async fn create(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: Option<Uuid>,
    input: ContactInput,
) -> ServiceResult<contact::Model> {
    let ctx = AuditContext::for_actor(actor, meta);
    let mut issues = Issues::default();
    let id = client_id(&mut issues, id);
    let c = check(&mut issues, &input, true);
    if input.kind.is_none() {
        issues.add("kind", "is required");
    }
    if input.branch_id.is_none() {
        issues.add("branch_id", "is required");
    }
    issues.finish()?;
    let branch = input.branch_id.unwrap_or_default();
    let decision = access::create_contact(actor, branch);
    if !decision.is_allowed() {
        return Err(common::deny(
            state,
            &ctx,
            decision,
            Action::Create,
            "contact",
            ServiceError::Forbidden,
        )
        .await);
    }
    if let Some(p) = input.patron_id {
        common::visible_patron(state, &ctx, actor, Action::Create, p).await?;
    }
    let worker = actor.staff_id;
    let rule = decision.rule();
    let patron_id = input.patron_id;
    let kind = input
        .kind
        .map(|k| k.as_str().to_owned())
        .unwrap_or_default();
    state
        .recorder
        .write(move |txn| {
            Box::pin(async move {
                let result = async {
                    if contact::Entity::find_by_id(id).one(txn).await?.is_some() {
                        return Err(ServiceError::Conflict("a record with this id exists"));
                    }
                    let t = now();
                    Ok(contact::ActiveModel {
                        id: Set(id),
                        worker_id: Set(worker),
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
                    .insert(txn)
                    .await?)
                }
                .await;
                let ev = common::write_event(
                    &ctx,
                    &result,
                    Action::Create,
                    rule,
                    "contact",
                    id,
                    patron_id,
                    FIELDS,
                );
                (result, vec![ev])
            })
        })
        .await
}

pub async fn facts(
    db: &impl ConnectionTrait,
    actor: &Actor,
    c: &contact::Model,
) -> ServiceResult<ContactFacts> {
    let on_team = match c.patron_id {
        Some(p) => common::on_patrons_team(db, actor, p).await?,
        None => false,
    };
    Ok(ContactFacts {
        worker: c.worker_id,
        branch: c.branch_id,
        patron_on_callers_team: on_team,
    })
}

pub async fn get(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: Uuid,
) -> ServiceResult<contact::Model> {
    let ctx = AuditContext::for_actor(actor, meta);
    let found = contact::Entity::find_by_id(id).one(&state.db).await?;
    let decision = match &found {
        Some(c) => access::read_contact(actor, &facts(&state.db, actor, c).await?),
        None => access::Decision::Deny("no_such_record"),
    };
    let patron = found.as_ref().and_then(|c| c.patron_id);
    common::decide(
        state,
        &ctx,
        decision,
        Action::Read,
        "contact",
        id,
        patron,
        FIELDS,
    )
    .await?;
    found.ok_or(ServiceError::NotFound)
}

pub async fn update(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: Uuid,
    if_match: Option<&str>,
    input: ContactInput,
) -> ServiceResult<contact::Model> {
    let ctx = AuditContext::for_actor(actor, meta);
    let version = super::parse_if_match(if_match)?;
    let found = contact::Entity::find_by_id(id).one(&state.db).await?;
    let f = match &found {
        Some(c) => Some(facts(&state.db, actor, c).await?),
        None => None,
    };
    let readable = f
        .as_ref()
        .is_some_and(|f| access::read_contact(actor, f).is_allowed());
    let decision = match &f {
        Some(f) if readable => access::update_contact(actor, f),
        _ => access::Decision::Deny("no_such_record"),
    };
    let patron = found.as_ref().and_then(|c| c.patron_id);
    if !decision.is_allowed() {
        return Err(common::refuse_change(
            state,
            &ctx,
            decision,
            readable,
            Action::Update,
            "contact",
            id,
            patron,
        )
        .await);
    }
    let mut issues = Issues::default();
    let c = check(&mut issues, &input, false);
    if input.branch_id.is_some() {
        issues.add("branch_id", "cannot be changed");
    }
    issues.finish()?;
    if let Some(p) = input.patron_id {
        common::visible_patron(state, &ctx, actor, Action::Update, p).await?;
    }
    let mut fields = Vec::new();
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
            fields.push(name);
        }
    }
    let rule = decision.rule();
    state
        .recorder
        .write(move |txn| {
            Box::pin(async move {
                let result = async {
                    let current = contact::Entity::find_by_id(id)
                        .one(txn)
                        .await?
                        .ok_or(ServiceError::NotFound)?;
                    if current.version != version {
                        return Err(ServiceError::Stale(Box::new(
                            crate::api::contacts::contact_json(&current),
                        )));
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
                    m.updated_at = Set(now());
                    Ok(m.update(txn).await?)
                }
                .await;
                let ev = common::write_event(
                    &ctx,
                    &result,
                    Action::Update,
                    rule,
                    "contact",
                    id,
                    patron,
                    &fields,
                );
                (result, vec![ev])
            })
        })
        .await
}

/// The caller's own contacts, newest first, within `[from, to)`.
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
    let decision = access::list_own_contacts(actor);
    if !decision.is_allowed() {
        return Err(common::deny(
            state,
            &ctx,
            decision,
            Action::Search,
            "contact",
            ServiceError::Forbidden,
        )
        .await);
    }
    let cursor = Cursor::decode(cursor)?;
    let limit = page_size(limit);
    let mut q = contact::Entity::find().filter(contact::Column::WorkerId.eq(actor.staff_id));
    if let Some(f) = from {
        q = q.filter(contact::Column::OccurredAt.gte(audit::format_time(f)));
    }
    if let Some(t) = to {
        q = q.filter(contact::Column::OccurredAt.lt(audit::format_time(t)));
    }
    if let Some(c) = &cursor {
        q = q.filter(
            Condition::any()
                .add(contact::Column::OccurredAt.lt(c.k.clone()))
                .add(
                    Condition::all()
                        .add(contact::Column::OccurredAt.eq(c.k.clone()))
                        .add(contact::Column::Id.lt(c.id)),
                ),
        );
    }
    let rows = q
        .order_by_desc(contact::Column::OccurredAt)
        .order_by_desc(contact::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let (rows, next_cursor) = common::page(rows, limit, |r| {
        Cursor {
            k: r.occurred_at.clone(),
            id: r.id,
        }
        .encode()
    });
    let ev = ctx
        .event(Action::Search, Outcome::Allowed, decision.rule())
        .record_type("contact")
        .query(serde_json::json!({"worker": "self", "from": from, "to": to}).to_string())
        .results(rows.iter().map(|r| r.id).collect())
        .fields(FIELDS);
    state.recorder.record(vec![ev]).await?;
    Ok(Page {
        items: rows,
        next_cursor,
    })
}
