//! Consents: releases of information for a patron.

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::scope;
use crate::{
    access::{self, Actor, View},
    audit::{self, Action, AuditContext, Outcome, RequestMeta},
    domain::{ConsentId, ConsentMethod, Issues, PatronId, RecordKind, name_key, occurred_at},
    error::{ServiceError, ServiceResult},
    paging::{Cursor, Page, page, page_size},
    state::AppState,
    text::{ClientId, Line, Text},
    unit::{self, Claim, Loaded, Made, stale, update_versioned},
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
    pub id: Option<ClientId>,
    pub recipient: Line<200>,
    pub scope: Text<1000>,
    pub purpose: Text<1000>,
    pub method: ConsentMethod,
    pub given_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
}

fn fields(_: View) -> &'static [&'static str] {
    FIELDS
}

/// A consent with its patron's facts: consents are in scope as their patron is.
async fn load(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> ServiceResult<Option<Loaded<consent::Model>>> {
    let Some(c) = consent::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    Ok(
        match patron::Entity::find_by_id(c.patron_id).one(db).await? {
            Some(p) => Some(Loaded {
                facts: scope::patron_facts(db, actor, &p).await?,
                patron: Some(p.id),
                record: c,
            }),
            None => None,
        },
    )
}

fn load_in<'a>(
    txn: &'a DatabaseTransaction,
    actor: Actor,
    id: Uuid,
) -> BoxFuture<'a, ServiceResult<Option<Loaded<consent::Model>>>> {
    Box::pin(async move { load(txn, &actor, id).await })
}

pub async fn create(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    patron_id: PatronId,
    input: NewConsent,
) -> ServiceResult<consent::Model> {
    let patron_id = patron_id.uuid();
    let ctx = AuditContext::for_actor(actor, meta);
    let mut issues = Issues::default();
    let id = ClientId::or_new(input.id);
    let recipient = input.recipient.into_inner();
    let consent_scope = input.scope.into_inner();
    let purpose = input.purpose.into_inner();
    let given = occurred_at(&mut issues, "given_at", input.given_at, state.clock.now());
    if let Some(e) = input.expires_at
        && e <= given
    {
        issues.add("expires_at", "must be after given_at");
    }
    issues.finish()?;
    let key = meta.idempotency.clone();
    let who = actor.clone();
    let made = state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(Action::Create, RecordKind::Consent, Some(id));
                let scope = access::patron_scope(&who);
                let loader = who.clone();
                let ch = scope::for_change(
                    u,
                    &scope,
                    move |txn| {
                        Box::pin(async move { scope::load_patron(txn, &loader, patron_id).await })
                    },
                    |_, f| access::manage_consents(&who, f),
                )
                .await?;
                if let Claim::Replay(first) =
                    u.claim(key.as_ref(), RecordKind::Consent, id, 201).await?
                {
                    return Ok(u.replay(first));
                }
                u.allow(ch.rule, Some(patron_id), FIELDS);
                if consent::Entity::find_by_id(id)
                    .one(u.txn())
                    .await?
                    .is_some()
                {
                    return Err(ServiceError::Conflict("a record with this id exists"));
                }
                let t = u.now();
                let m = consent::ActiveModel {
                    id: Set(id),
                    patron_id: Set(patron_id),
                    recipient_key: Set(name_key(&recipient)),
                    recipient: Set(recipient),
                    scope: Set(consent_scope),
                    purpose: Set(purpose),
                    method: Set(input.method.as_str().to_owned()),
                    given_at: Set(audit::format_time(given)),
                    expires_at: Set(input.expires_at.map(audit::format_time)),
                    revoked_at: Set(None),
                    revoked_by: Set(None),
                    version: Set(1),
                    created_by: Set(who.staff_id),
                    recorded_at: Set(t),
                    updated_at: Set(t),
                }
                .insert(u.txn())
                .await?;
                u.changed(RecordKind::Consent, id);
                Ok(Made::New(m))
            })
        })
        .await?;
    match made {
        Made::New(m) => Ok(m),
        Made::Replay(first) => get(state, actor, meta, ConsentId::new(first)).await,
    }
}

/// One consent, as its patron's consents are seen (the replay of a create).
pub async fn get(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: ConsentId,
) -> ServiceResult<consent::Model> {
    let id = id.uuid();
    let ctx = AuditContext::for_actor(actor, meta);
    let scope = access::consent_scope(actor);
    let (c, _) = unit::read_one(
        state,
        &ctx,
        &scope,
        Action::Read,
        RecordKind::Consent,
        id,
        fields,
        || load(&state.db, actor, id),
    )
    .await?;
    Ok(c)
}

/// A patron's consents, newest first.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    patron_id: PatronId,
    cursor: Option<&str>,
    limit: Option<u64>,
) -> ServiceResult<Page<consent::Model>> {
    let patron_id = patron_id.uuid();
    let ctx = AuditContext::for_actor(actor, meta);
    let cursor = Cursor::decode(cursor)?;
    let limit = page_size(limit);
    let scope = access::consent_scope(actor);
    // The patron decides: its consents are listed when its consents are in scope.
    let (_, grant) = unit::gate_one(
        state,
        &ctx,
        &scope,
        Action::Search,
        RecordKind::Patron,
        patron_id,
        || scope::load_patron(&state.db, actor, patron_id),
    )
    .await?;
    let mut q = consent::Entity::find().filter(consent::Column::PatronId.eq(patron_id));
    if let Some(c) = &cursor {
        q = q.filter(consent::Column::Id.lt(c.id));
    }
    let rows = q
        .order_by_desc(consent::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let (rows, next_cursor) = page(rows, limit, |r| Cursor::of_id(r.id));
    let ev = ctx
        .event(Action::Search, Outcome::Allowed, grant.rule)
        .record_type(RecordKind::Consent)
        .patron(Some(patron_id))
        .patrons([patron_id])
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
    id: ConsentId,
    if_match: Option<&str>,
) -> ServiceResult<consent::Model> {
    let id = id.uuid();
    let ctx = AuditContext::for_actor(actor, meta);
    let version = unit::parse_if_match(if_match)?;
    let key = meta.idempotency.clone();
    let who = actor.clone();
    let made = state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(Action::Update, RecordKind::Consent, Some(id));
                let scope = access::consent_scope(&who);
                let loader = who.clone();
                let ch = scope::for_change(
                    u,
                    &scope,
                    move |txn| load_in(txn, loader, id),
                    |_, f| access::manage_consents(&who, f),
                )
                .await?;
                if let Claim::Replay(first) =
                    u.claim(key.as_ref(), RecordKind::Consent, id, 200).await?
                {
                    return Ok(u.replay(first));
                }
                u.allow(ch.rule, ch.patron, &["revoked_at"]);
                let current = ch.record;
                if current.version != version {
                    return Err(stale((current, u.now())));
                }
                if current.revoked_at.is_some() {
                    return Err(ServiceError::Conflict("the consent is already revoked"));
                }
                let mut m = current.into_active_model();
                let t = u.now();
                m.revoked_at = Set(Some(t));
                m.revoked_by = Set(Some(who.staff_id));
                m.version = Set(version + 1);
                m.updated_at = Set(t);
                let Some(m) =
                    update_versioned(u.txn(), m, consent::Column::Version, version).await?
                else {
                    return Err(match consent::Entity::find_by_id(id).one(u.txn()).await? {
                        Some(m) => stale((m, u.now())),
                        None => ServiceError::NotFound,
                    });
                };
                u.changed(RecordKind::Consent, id);
                Ok(Made::New(m))
            })
        })
        .await?;
    match made {
        Made::New(m) => Ok(m),
        Made::Replay(first) => get(state, actor, meta, ConsentId::new(first)).await,
    }
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
