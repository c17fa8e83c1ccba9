//! Case notes: append-only. A correction is a new note that amends an
//! earlier one. Restricted notes reach the case owner and supervisors only:
//! for anyone else they are not in lists, counts or reads, and adding one
//! does not move the case's activity time.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::{cases, scope};
use crate::{
    access::{self, Actor, Decision},
    audit::{self, Action, AuditContext, Outcome, RequestMeta},
    domain::{CaseId, Issues, NoteId, RecordKind, Sensitivity, occurred_at},
    error::{ServiceError, ServiceResult},
    paging::{Cursor, Page, page, page_size},
    state::AppState,
    text::{ClientId, Text},
    unit::{Claim, Made},
};
use entities::{case_file, case_note};

pub const FIELDS: &[&str] = &[
    "id",
    "case_id",
    "author_id",
    "sensitivity",
    "body",
    "amends_note_id",
    "occurred_at",
];

/// A note's text: may span lines.
pub type Body = Text<10_000>;

pub struct NewNote {
    pub id: Option<ClientId>,
    pub sensitivity: Sensitivity,
    pub body: Body,
    pub amends_note_id: Option<Uuid>,
    pub occurred_at: Option<DateTime<Utc>>,
}

pub async fn create(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    case_id: CaseId,
    input: NewNote,
) -> ServiceResult<case_note::Model> {
    let case_id = case_id.uuid();
    let ctx = AuditContext::for_actor(actor, meta);
    let mut issues = Issues::default();
    let id = ClientId::or_new(input.id);
    let body = input.body.into_inner();
    let occurred = audit::format_time(occurred_at(
        &mut issues,
        "occurred_at",
        input.occurred_at,
        state.clock.now(),
    ));
    issues.finish()?;
    let key = meta.idempotency.clone();
    let who = actor.clone();
    let made = state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(Action::Create, RecordKind::CaseNote, Some(id));
                let scope = access::case_scope(&who);
                let loader = who.clone();
                let sensitivity = input.sensitivity;
                let at = u.now();
                let ch = scope::for_change(
                    u,
                    &scope,
                    move |txn| {
                        Box::pin(async move { scope::load_case(txn, &loader, case_id, at).await })
                    },
                    |(_, cf), _| access::write_note(&who, cf, sensitivity),
                )
                .await?;
                let (_, facts) = &ch.record;
                if let Some(amends) = input.amends_note_id {
                    let target = case_note::Entity::find_by_id(amends)
                        .one(u.txn())
                        .await?
                        .filter(|n| n.case_id == case_id)
                        .and_then(|n| Sensitivity::parse(&n.sensitivity));
                    let d = access::amend_note(&who, facts, target);
                    if !d.is_allowed() {
                        return Err(u.deny(
                            d,
                            ch.patron,
                            ServiceError::invalid("amends_note_id", "no such note on this case"),
                        ));
                    }
                }
                if let Claim::Replay(first) =
                    u.claim(key.as_ref(), RecordKind::CaseNote, id, 201).await?
                {
                    return Ok(u.replay(first));
                }
                u.allow(ch.rule, ch.patron, FIELDS);
                if case_note::Entity::find_by_id(id)
                    .one(u.txn())
                    .await?
                    .is_some()
                {
                    return Err(ServiceError::Conflict("a record with this id exists"));
                }
                let t = u.now();
                let note = case_note::ActiveModel {
                    id: Set(id),
                    case_id: Set(case_id),
                    author_id: Set(who.staff_id),
                    sensitivity: Set(sensitivity.as_str().to_owned()),
                    body: Set(body),
                    amends_note_id: Set(input.amends_note_id),
                    occurred_at: Set(occurred),
                    recorded_at: Set(t),
                }
                .insert(u.txn())
                .await?;
                // Activity that the whole team may see moves the case; a
                // restricted note must not show, even as a time.
                if sensitivity == Sensitivity::Standard {
                    case_file::Entity::update_many()
                        .col_expr(
                            case_file::Column::LastActivityAt,
                            sea_orm::sea_query::Expr::value(audit::format_time(t)),
                        )
                        .filter(case_file::Column::Id.eq(case_id))
                        .exec(u.txn())
                        .await?;
                }
                u.changed(RecordKind::CaseNote, id);
                Ok(Made::New(note))
            })
        })
        .await?;
    match made {
        Made::New(n) => Ok(n),
        Made::Replay(first) => {
            get(state, actor, meta, CaseId::new(case_id), NoteId::new(first)).await
        }
    }
}

/// The notes of a case that the caller may read, oldest first.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    case_id: CaseId,
    cursor: Option<&str>,
    limit: Option<u64>,
) -> ServiceResult<Page<case_note::Model>> {
    let case_id = case_id.uuid();
    let ctx = AuditContext::for_actor(actor, meta);
    let cursor = Cursor::decode(cursor)?;
    let limit = page_size(limit);
    let ((case, facts), grant) =
        cases::readable(state, &ctx, actor, case_id, Action::Search).await?;
    let visible: Vec<&str> = access::visible_note_sensitivities(actor, &facts)
        .iter()
        .map(|s| s.as_str())
        .collect();
    let mut q = case_note::Entity::find()
        .filter(case_note::Column::CaseId.eq(case_id))
        .filter(case_note::Column::Sensitivity.is_in(visible));
    if let Some(c) = &cursor {
        q = q.filter(case_note::Column::Id.gt(c.id));
    }
    let rows = q
        .order_by_asc(case_note::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let (rows, next_cursor) = page(rows, limit, |r| Cursor::of_id(r.id));
    let ev = ctx
        .event(Action::Search, Outcome::Allowed, grant.rule)
        .record(RecordKind::Case, case_id)
        .patron(Some(case.patron_id))
        .patrons([case.patron_id])
        .query(r#"{"notes_of_case":true}"#)
        .results(rows.iter().map(|r| r.id).collect())
        .fields(FIELDS);
    state.recorder.record(vec![ev]).await?;
    Ok(Page {
        items: rows,
        next_cursor,
    })
}

pub async fn get(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    case_id: CaseId,
    id: NoteId,
) -> ServiceResult<case_note::Model> {
    let id = id.uuid();
    let case_id = case_id.uuid();
    let ctx = AuditContext::for_actor(actor, meta);
    let ((case, facts), _) = cases::readable(state, &ctx, actor, case_id, Action::Read).await?;
    let found = case_note::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|n| n.case_id == case_id);
    let decision = match &found {
        Some(n) => match Sensitivity::parse(&n.sensitivity) {
            Some(s) => access::read_note(actor, &facts, s),
            None => Decision::Deny("unknown_sensitivity"),
        },
        None => Decision::Deny("no_such_record"),
    };
    let mut ev = ctx
        .event(Action::Read, Outcome::Denied, decision.rule())
        .record(RecordKind::CaseNote, id)
        .patron(Some(case.patron_id));
    if decision.is_allowed() {
        ev.outcome = Outcome::Allowed;
        ev = ev.fields(FIELDS);
    }
    state.recorder.record(vec![ev]).await?;
    match found {
        Some(n) if decision.is_allowed() => Ok(n),
        _ => Err(ServiceError::NotFound),
    }
}
