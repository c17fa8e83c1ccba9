//! What the casework services share: facts for the policy, scope filters,
//! keyset cursors, audited reads and input checks.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    sea_query::{Condition, Expr, ExprTrait, Query, SimpleExpr},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    access::{Actor, CaseFacts, Decision, PatronFacts, Scope},
    audit::{Action, AuditContext, NewEvent, Outcome},
    domain::Issues,
    error::{ServiceError, ServiceResult},
    startup::AppState,
};
use entities::{case_file, case_member, patron};

/// Ids of the cases the caller owns or is on the team of, as a subquery.
pub fn my_case_ids(actor: &Actor) -> SimpleExpr {
    let member = Query::select()
        .column(case_member::Column::CaseId)
        .from(case_member::Entity)
        .and_where(Expr::col(case_member::Column::StaffId).eq(actor.staff_id))
        .to_owned();
    let owned = Query::select()
        .column(case_file::Column::Id)
        .from(case_file::Entity)
        .and_where(Expr::col(case_file::Column::OwnerId).eq(actor.staff_id))
        .to_owned();
    Expr::col((case_file::Entity, case_file::Column::Id))
        .in_subquery(member)
        .or(Expr::col((case_file::Entity, case_file::Column::Id)).in_subquery(owned))
}

/// Ids of the patrons whose cases the caller owns or works on, as a subquery.
pub fn my_team_patrons(actor: &Actor) -> sea_orm::sea_query::SelectStatement {
    let member = Query::select()
        .column(case_member::Column::CaseId)
        .from(case_member::Entity)
        .and_where(Expr::col(case_member::Column::StaffId).eq(actor.staff_id))
        .to_owned();
    Query::select()
        .column(case_file::Column::PatronId)
        .from(case_file::Entity)
        .cond_where(
            Condition::any()
                .add(Expr::col(case_file::Column::OwnerId).eq(actor.staff_id))
                .add(Expr::col(case_file::Column::Id).in_subquery(member)),
        )
        .to_owned()
}

/// The condition on `patron` rows that a patron scope allows.
pub fn patron_scope_condition(actor: &Actor, scope: &Scope) -> Condition {
    let own = patron::Column::CreatedBy.eq(actor.staff_id);
    let team = Expr::col((patron::Entity, patron::Column::Id)).in_subquery(my_team_patrons(actor));
    match scope {
        Scope::Nothing => Condition::all().add(Expr::val(1).eq(0)),
        Scope::Own => Condition::all().add(own),
        Scope::OwnOrTeam => Condition::any().add(own).add(team),
        Scope::OwnTeamOrBranches(b) => Condition::any()
            .add(own)
            .add(team)
            .add(patron::Column::HomeBranchId.is_in(b.clone())),
        Scope::Branches(b) => Condition::all().add(patron::Column::HomeBranchId.is_in(b.clone())),
    }
}

pub async fn case_facts(
    db: &impl ConnectionTrait,
    case: &case_file::Model,
) -> ServiceResult<CaseFacts> {
    let team = case_member::Entity::find()
        .select_only()
        .column(case_member::Column::StaffId)
        .filter(case_member::Column::CaseId.eq(case.id))
        .into_tuple::<Uuid>()
        .all(db)
        .await?;
    Ok(CaseFacts {
        owner: case.owner_id,
        team,
        branch: case.branch_id,
    })
}

/// Whether the caller owns or works on any case of `patron_id`.
pub async fn on_patrons_team(
    db: &impl ConnectionTrait,
    actor: &Actor,
    patron_id: Uuid,
) -> ServiceResult<bool> {
    let n = case_file::Entity::find()
        .filter(case_file::Column::PatronId.eq(patron_id))
        .filter(my_case_ids(actor))
        .count(db)
        .await?;
    Ok(n > 0)
}

pub async fn patron_facts(
    db: &impl ConnectionTrait,
    actor: &Actor,
    p: &patron::Model,
) -> ServiceResult<PatronFacts> {
    Ok(PatronFacts {
        created_by: p.created_by,
        home_branch: p.home_branch_id,
        caller_on_team: on_patrons_team(db, actor, p.id).await?,
    })
}

/// The patron a request refers to (a contact's or a new case's), when the
/// caller may see it. Otherwise the denial is recorded and the request is
/// refused as if the patron did not exist.
pub async fn visible_patron(
    state: &AppState,
    ctx: &AuditContext,
    actor: &Actor,
    action: Action,
    id: Uuid,
) -> ServiceResult<patron::Model> {
    let found = patron::Entity::find_by_id(id).one(&state.db).await?;
    let decision = match &found {
        Some(p) => crate::access::read_patron(actor, &patron_facts(&state.db, actor, p).await?),
        None => Decision::Deny("no_such_record"),
    };
    match found {
        Some(p) if decision.is_allowed() => Ok(p),
        _ => {
            let ev = ctx
                .event(action, Outcome::Denied, decision.rule())
                .record("patron", id)
                .patron(Some(id));
            state.recorder.record(vec![ev]).await?;
            Err(ServiceError::invalid("patron_id", "no such patron"))
        }
    }
}

/// Records the outcome of an access decision about one record. A denied
/// read answers exactly as a missing record: 404.
#[allow(clippy::too_many_arguments)]
pub async fn decide(
    state: &AppState,
    ctx: &AuditContext,
    decision: Decision,
    action: Action,
    record_type: &'static str,
    id: Uuid,
    patron_id: Option<Uuid>,
    fields: &[&'static str],
) -> ServiceResult<()> {
    let allowed = decision.is_allowed();
    let mut ev = ctx
        .event(
            action,
            if allowed {
                Outcome::Allowed
            } else {
                Outcome::Denied
            },
            decision.rule(),
        )
        .record(record_type, id)
        .patron(patron_id);
    if allowed {
        ev = ev.fields(fields);
    }
    state.recorder.record(vec![ev]).await?;
    if allowed {
        Ok(())
    } else {
        Err(ServiceError::NotFound)
    }
}

/// Records a denial of something other than a single record (a create in
/// the wrong branch, a list by a role that has none) and returns the error.
pub async fn deny(
    state: &AppState,
    ctx: &AuditContext,
    decision: Decision,
    action: Action,
    record_type: &'static str,
    error: ServiceError,
) -> ServiceError {
    let ev = ctx
        .event(action, Outcome::Denied, decision.rule())
        .record_type(record_type);
    match state.recorder.record(vec![ev]).await {
        Ok(()) => error,
        Err(e) => e,
    }
}

/// The event for a write's outcome.
#[allow(clippy::too_many_arguments)]
pub fn write_event<T>(
    ctx: &AuditContext,
    result: &ServiceResult<T>,
    action: Action,
    rule: &str,
    record_type: &'static str,
    id: Uuid,
    patron_id: Option<Uuid>,
    fields: &[&'static str],
) -> NewEvent {
    let outcome = match result {
        Ok(_) => Outcome::Allowed,
        Err(ServiceError::NotFound | ServiceError::Forbidden) => Outcome::Denied,
        Err(_) => Outcome::Error,
    };
    ctx.event(action, outcome, rule)
        .record(record_type, id)
        .patron(patron_id)
        .fields(fields)
}

/// A keyset cursor: the sort key and id of the last row of a page.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Cursor {
    pub k: String,
    pub id: Uuid,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(raw: Option<&str>) -> ServiceResult<Option<Cursor>> {
        let Some(raw) = raw else { return Ok(None) };
        URL_SAFE_NO_PAD
            .decode(raw)
            .ok()
            .and_then(|b| serde_json::from_slice::<Cursor>(&b).ok())
            .filter(|c| c.k.len() <= 200)
            .map(Some)
            .ok_or_else(|| {
                ServiceError::invalid("cursor", "must be a next_cursor from a previous page")
            })
    }
}

/// One page of a list and where the next one starts.
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Cuts `rows` (fetched with `limit + 1`) to a page, with the cursor of its
/// last row when more follow.
pub fn page<T, K>(mut rows: Vec<T>, limit: u64, key: impl Fn(&T) -> K) -> (Vec<T>, Option<K>) {
    if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        let next = rows.last().map(key);
        (rows, next)
    } else {
        (rows, None)
    }
}

/// Refuses a change the policy denied, after recording the denial: a record
/// the caller cannot even read is not found (404), one it can read but not
/// change is forbidden (403).
#[allow(clippy::too_many_arguments)]
pub async fn refuse_change(
    state: &AppState,
    ctx: &AuditContext,
    decision: Decision,
    readable: bool,
    action: Action,
    record_type: &'static str,
    id: Uuid,
    patron_id: Option<Uuid>,
) -> ServiceError {
    let ev = ctx
        .event(action, Outcome::Denied, decision.rule())
        .record(record_type, id)
        .patron(patron_id);
    if let Err(e) = state.recorder.record(vec![ev]).await {
        return e;
    }
    if readable {
        ServiceError::Forbidden
    } else {
        ServiceError::NotFound
    }
}

/// Largest page a list returns.
pub const MAX_PAGE: u64 = 200;

pub fn page_size(limit: Option<u64>) -> u64 {
    limit.unwrap_or(50).clamp(1, MAX_PAGE)
}

/// A client-chosen id must be a UUIDv7 (time-ordered, like the server's).
pub fn client_id(issues: &mut Issues, id: Option<Uuid>) -> Uuid {
    match id {
        Some(id) if id.get_version_num() == 7 => id,
        Some(_) => {
            issues.add("id", "must be a UUIDv7");
            Uuid::nil()
        }
        None => Uuid::now_v7(),
    }
}

/// When something happened, as the device says: not more than a day ahead
/// of the server's clock (clock drift), not before 2000.
pub fn occurred_at(
    issues: &mut Issues,
    field: &str,
    value: Option<DateTime<Utc>>,
) -> DateTime<Utc> {
    let now = Utc::now();
    let v = value.unwrap_or(now);
    if v > now + Duration::days(1) {
        issues.add(field, "must not be in the future");
    } else if v.timestamp() < 946_684_800 {
        issues.add(field, "must be after 2000-01-01");
    }
    v
}

/// An optional text field: trimmed, bounded, empty meaning absent.
pub fn optional_text(
    issues: &mut Issues,
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Option<String> {
    value
        .map(|v| issues.text(field, v, 0, max))
        .filter(|v| !v.is_empty())
}
