//! Case notes: append-only. A correction is a new note that amends an
//! earlier one. Restricted notes reach the case owner and supervisors only:
//! for anyone else they are not in lists, counts or reads.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::{
    cases,
    common::{self, Cursor, Page, client_id, occurred_at, page_size},
};
use crate::{
    access::{self, Actor},
    audit::{self, Action, AuditContext, Outcome, RequestMeta},
    domain::{Issues, Sensitivity},
    error::{ServiceError, ServiceResult},
    services::now,
    startup::AppState,
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

pub struct NewNote {
    pub id: Option<Uuid>,
    pub sensitivity: Sensitivity,
    pub body: String,
    pub amends_note_id: Option<Uuid>,
    pub occurred_at: Option<DateTime<Utc>>,
}

pub async fn create(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    case_id: Uuid,
    input: NewNote,
) -> ServiceResult<case_note::Model> {
    let ctx = AuditContext::for_actor(actor, meta);
    let mut issues = Issues::default();
    let id = client_id(&mut issues, input.id);
    let body = issues.text("body", &input.body, 1, 10_000);
    let occurred = audit::format_time(occurred_at(&mut issues, "occurred_at", input.occurred_at));
    issues.finish()?;
    let (case, facts) = cases::readable(state, &ctx, actor, case_id, Action::Create).await?;
    let decision = access::write_note(actor, &facts, input.sensitivity);
    let patron = Some(case.patron_id);
    if !decision.is_allowed() {
        let ev = ctx
            .event(Action::Create, Outcome::Denied, decision.rule())
            .record("case_note", id)
            .patron(patron);
        state.recorder.record(vec![ev]).await?;
        return Err(ServiceError::Forbidden);
    }
    if let Some(amends) = input.amends_note_id {
        let target = case_note::Entity::find_by_id(amends).one(&state.db).await?;
        let ok = target.is_some_and(|n| {
            n.case_id == case_id
                && Sensitivity::parse(&n.sensitivity)
                    .is_some_and(|s| access::read_note(actor, &facts, s).is_allowed())
        });
        if !ok {
            return Err(ServiceError::invalid(
                "amends_note_id",
                "no such note on this case",
            ));
        }
    }
    let author = actor.staff_id;
    let rule = decision.rule();
    let sensitivity = input.sensitivity.as_str().to_owned();
    let amends = input.amends_note_id;
    state
        .recorder
        .write(move |txn| {
            Box::pin(async move {
                let result = async {
                    if case_note::Entity::find_by_id(id).one(txn).await?.is_some() {
                        return Err(ServiceError::Conflict("a record with this id exists"));
                    }
                    let t = now();
                    let note = case_note::ActiveModel {
                        id: Set(id),
                        case_id: Set(case_id),
                        author_id: Set(author),
                        sensitivity: Set(sensitivity),
                        body: Set(body),
                        amends_note_id: Set(amends),
                        occurred_at: Set(occurred),
                        recorded_at: Set(t),
                    }
                    .insert(txn)
                    .await?;
                    if let Some(c) = case_file::Entity::find_by_id(case_id).one(txn).await? {
                        let mut m = c.into_active_model();
                        m.last_activity_at = Set(audit::format_time(t));
                        m.update(txn).await?;
                    }
                    Ok(note)
                }
                .await;
                let ev = common::write_event(
                    &ctx,
                    &result,
                    Action::Create,
                    rule,
                    "case_note",
                    id,
                    patron,
                    FIELDS,
                );
                (result, vec![ev])
            })
        })
        .await
}

/// The notes of a case that the caller may read, oldest first.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    case_id: Uuid,
    cursor: Option<&str>,
    limit: Option<u64>,
) -> ServiceResult<Page<case_note::Model>> {
    let ctx = AuditContext::for_actor(actor, meta);
    let (case, facts) = cases::readable(state, &ctx, actor, case_id, Action::Search).await?;
    let visible: Vec<&str> = access::visible_note_sensitivities(actor, &facts)
        .iter()
        .map(|s| s.as_str())
        .collect();
    let cursor = Cursor::decode(cursor)?;
    let limit = page_size(limit);
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
    let (rows, next_cursor) = common::page(rows, limit, |r| {
        Cursor {
            k: String::new(),
            id: r.id,
        }
        .encode()
    });
    let ev = ctx
        .event(
            Action::Search,
            Outcome::Allowed,
            access::read_case(actor, &facts).rule(),
        )
        .record("case", case_id)
        .patron(Some(case.patron_id))
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
    case_id: Uuid,
    id: Uuid,
) -> ServiceResult<case_note::Model> {
    let ctx = AuditContext::for_actor(actor, meta);
    let (case, facts) = cases::readable(state, &ctx, actor, case_id, Action::Read).await?;
    let found = case_note::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|n| n.case_id == case_id);
    let decision = match &found {
        Some(n) => match Sensitivity::parse(&n.sensitivity) {
            Some(s) => access::read_note(actor, &facts, s),
            None => access::Decision::Deny("unknown_sensitivity"),
        },
        None => access::Decision::Deny("no_such_record"),
    };
    common::decide(
        state,
        &ctx,
        decision,
        Action::Read,
        "case_note",
        id,
        Some(case.patron_id),
        FIELDS,
    )
    .await?;
    found.ok_or(ServiceError::NotFound)
}
