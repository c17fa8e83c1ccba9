//! Consents: releases of information for a patron.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::common::{self, Cursor, Page, client_id, page_size};
use crate::{
    access::{self, Actor, PatronFacts},
    audit::{self, Action, AuditContext, Outcome, RequestMeta},
    domain::{ConsentMethod, Issues, name_key},
    error::{ServiceError, ServiceResult},
    services::now,
    startup::AppState,
};
use entities::{consent, patron};

pub const FIELDS: &[&str] = &[
    "id",
    "patron_id",
    "recipient",
    "scope",
    "purpose",
    "method",
    "given_at",
    "expires_at",
    "revoked_at",
];

pub struct NewConsent {
    pub id: Option<Uuid>,
    pub recipient: String,
    pub scope: String,
    pub purpose: String,
    pub method: ConsentMethod,
    pub given_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
}

async fn patron_and_facts(
    state: &AppState,
    actor: &Actor,
    patron_id: Uuid,
) -> ServiceResult<Option<PatronFacts>> {
    match patron::Entity::find_by_id(patron_id).one(&state.db).await? {
        Some(p) => Ok(Some(common::patron_facts(&state.db, actor, &p).await?)),
        None => Ok(None),
    }
}

pub async fn create(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    patron_id: Uuid,
    input: NewConsent,
) -> ServiceResult<consent::Model> {
    let ctx = AuditContext::for_actor(actor, meta);
    let mut issues = Issues::default();
    let id = client_id(&mut issues, input.id);
    let recipient = issues.text("recipient", &input.recipient, 1, 200);
    let scope = issues.text("scope", &input.scope, 1, 1000);
    let purpose = issues.text("purpose", &input.purpose, 1, 1000);
    let given = common::occurred_at(&mut issues, "given_at", input.given_at);
    if let Some(e) = input.expires_at
        && e <= given
    {
        issues.add("expires_at", "must be after given_at");
    }
    issues.finish()?;
    let facts = patron_and_facts(state, actor, patron_id).await?;
    let readable = facts
        .as_ref()
        .is_some_and(|f| access::read_patron(actor, f).is_allowed());
    let decision = match &facts {
        Some(f) if readable => access::manage_consents(actor, f),
        _ => access::Decision::Deny("no_such_record"),
    };
    if !decision.is_allowed() {
        return Err(common::refuse_change(
            state,
            &ctx,
            decision,
            readable,
            Action::Create,
            "consent",
            id,
            Some(patron_id),
        )
        .await);
    }
    let actor_id = actor.staff_id;
    let rule = decision.rule();
    state
        .recorder
        .write(move |txn| {
            Box::pin(async move {
                let result = async {
                    if consent::Entity::find_by_id(id).one(txn).await?.is_some() {
                        return Err(ServiceError::Conflict("a record with this id exists"));
                    }
                    let t = now();
                    Ok(consent::ActiveModel {
                        id: Set(id),
                        patron_id: Set(patron_id),
                        recipient_key: Set(name_key(&recipient)),
                        recipient: Set(recipient),
                        scope: Set(scope),
                        purpose: Set(purpose),
                        method: Set(input.method.as_str().to_owned()),
                        given_at: Set(audit::format_time(given)),
                        expires_at: Set(input.expires_at.map(audit::format_time)),
                        revoked_at: Set(None),
                        revoked_by: Set(None),
                        version: Set(1),
                        created_by: Set(actor_id),
                        recorded_at: Set(t),
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
                    "consent",
                    id,
                    Some(patron_id),
                    FIELDS,
                );
                (result, vec![ev])
            })
        })
        .await
}

/// A patron's consents, newest first.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    patron_id: Uuid,
    cursor: Option<&str>,
    limit: Option<u64>,
) -> ServiceResult<Page<consent::Model>> {
    let ctx = AuditContext::for_actor(actor, meta);
    let facts = patron_and_facts(state, actor, patron_id).await?;
    let decision = match &facts {
        Some(f) => access::read_consents(actor, f),
        None => access::Decision::Deny("no_such_record"),
    };
    if !decision.is_allowed() {
        let ev = ctx
            .event(Action::Search, Outcome::Denied, decision.rule())
            .record("patron", patron_id)
            .patron(Some(patron_id));
        state.recorder.record(vec![ev]).await?;
        return Err(ServiceError::NotFound);
    }
    let cursor = Cursor::decode(cursor)?;
    let limit = page_size(limit);
    let mut q = consent::Entity::find().filter(consent::Column::PatronId.eq(patron_id));
    if let Some(c) = &cursor {
        q = q.filter(consent::Column::Id.lt(c.id));
    }
    let rows = q
        .order_by_desc(consent::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let (rows, next_cursor) = common::page(rows, limit, |r| {
        Cursor {
            k: String::new(),
            id: r.id,
        }
        .encode()
    });
    let ev = ctx
        .event(Action::Search, Outcome::Allowed, decision.rule())
        .record_type("consent")
        .patron(Some(patron_id))
        .query(r#"{"consents_of_patron":true}"#)
        .results(rows.iter().map(|r| r.id).collect())
        .fields(FIELDS);
    state.recorder.record(vec![ev]).await?;
    Ok(Page {
        items: rows,
        next_cursor,
    })
}

/// Revokes a consent from now on. Requires the current version.
pub async fn revoke(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: Uuid,
    if_match: Option<&str>,
) -> ServiceResult<consent::Model> {
    let ctx = AuditContext::for_actor(actor, meta);
    let version = super::parse_if_match(if_match)?;
    let found = consent::Entity::find_by_id(id).one(&state.db).await?;
    let facts = match &found {
        Some(c) => patron_and_facts(state, actor, c.patron_id).await?,
        None => None,
    };
    let readable = facts
        .as_ref()
        .is_some_and(|f| access::read_consents(actor, f).is_allowed());
    let decision = match &facts {
        Some(f) if readable => access::manage_consents(actor, f),
        _ => access::Decision::Deny("no_such_record"),
    };
    let patron = found.as_ref().map(|c| c.patron_id);
    if !decision.is_allowed() {
        return Err(common::refuse_change(
            state,
            &ctx,
            decision,
            readable,
            Action::Update,
            "consent",
            id,
            patron,
        )
        .await);
    }
    let actor_id = actor.staff_id;
    let rule = decision.rule();
    state
        .recorder
        .write(move |txn| {
            Box::pin(async move {
                let result = async {
                    let current = consent::Entity::find_by_id(id)
                        .one(txn)
                        .await?
                        .ok_or(ServiceError::NotFound)?;
                    if current.version != version {
                        return Err(ServiceError::Stale(Box::new(
                            crate::api::consents::consent_json(&current),
                        )));
                    }
                    if current.revoked_at.is_some() {
                        return Err(ServiceError::Conflict("the consent is already revoked"));
                    }
                    let mut m = current.into_active_model();
                    let t = now();
                    m.revoked_at = Set(Some(t));
                    m.revoked_by = Set(Some(actor_id));
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
                    "consent",
                    id,
                    patron,
                    &["revoked_at"],
                );
                (result, vec![ev])
            })
        })
        .await
}

/// The consent of `patron_id` that covers `recipient` at `at`: given by then,
/// not expired, not revoked. Recipients match ignoring case and accents.
/// Referrals (a later issue) ask this before sharing identifying data.
pub async fn valid_consent(
    db: &impl ConnectionTrait,
    patron_id: Uuid,
    recipient: &str,
    at: DateTime<Utc>,
) -> ServiceResult<Option<consent::Model>> {
    let at = audit::format_time(at);
    let rows = consent::Entity::find()
        .filter(consent::Column::PatronId.eq(patron_id))
        .filter(consent::Column::RecipientKey.eq(name_key(recipient)))
        .filter(consent::Column::RevokedAt.is_null())
        .filter(consent::Column::GivenAt.lte(at.clone()))
        .order_by_desc(consent::Column::GivenAt)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .find(|c| c.expires_at.as_ref().is_none_or(|e| *e > at)))
}
