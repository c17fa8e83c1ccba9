//! Closed-loop referrals (DESIGN.md section 4): a patron connected with an
//! outside service and followed until the loop closes. The moves are the
//! table in `referral_flow`; who may do what is `access`; every move is a row
//! of the referral's history, written in the same unit as the change.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::{consents, referral_flow as flow, scope};
use crate::{
    access::{self, Actor, View},
    audit::{Action, AuditContext, Outcome, RequestMeta},
    domain::{
        self, CaseId, FieldIssue, Issues, Need, PatronId, RecordKind, ReferralId, ReferralOutcome,
        ReferralStatus, occurred_at,
    },
    error::{ServiceError, ServiceResult},
    paging::{Cursor, Order, Page, after, page, page_size},
    state::AppState,
    text::{ClientId, Line, Text},
    unit::{self, Claim, Made, stale, update_versioned},
};
use entities::{referral, referral_event, service};

pub const FIELDS: &[&str] = &[
    "id",
    "patron_id",
    "case_id",
    "service_id",
    "recipient_name",
    "recipient_phone",
    "needs",
    "notes",
    "shares_identifying_data",
    "status",
    "outcome",
    "follow_up_on",
    "history",
];

fn fields(_: View) -> &'static [&'static str] {
    FIELDS
}

/// What a list shows: every field but the history.
const LIST_FIELDS: &[&str] = FIELDS.split_last().expect("fields").1;

/// A free-text recipient (when the service is not in the directory).
pub type Recipient = Line<200>;
/// Notes for the recipient or the team; may span lines; blank means none.
pub type Notes = Text<2000, 0>;
/// Why a referral was rejected, cancelled or otherwise moved.
pub type Reason = Text<500>;

pub struct NewReferral {
    pub id: Option<ClientId>,
    pub patron_id: PatronId,
    pub case_id: Option<CaseId>,
    pub service_id: Option<Uuid>,
    pub recipient: Option<Recipient>,
    pub needs: Vec<Need>,
    pub notes: Option<Notes>,
    pub shares_identifying_data: bool,
    pub follow_up_on: Option<NaiveDate>,
}

pub struct Move {
    pub to: ReferralStatus,
    pub reason: Option<Reason>,
    pub outcome: Option<ReferralOutcome>,
    pub on_behalf_of_agency: bool,
    pub occurred_at: Option<DateTime<Utc>>,
}

/// A referral with its history, oldest move first.
#[derive(Debug, Clone)]
pub struct ReferralView {
    pub referral: referral::Model,
    pub history: Vec<referral_event::Model>,
}

/// A follow-up date a person chose: not before `today`, within a year.
fn check_follow_up(issues: &mut Issues, d: Option<NaiveDate>, today: NaiveDate) {
    if let Some(d) = d
        && (d < today || d > today + chrono::Duration::days(366))
    {
        issues.add("follow_up_on", "must be from today to a year ahead");
    }
}

pub async fn create(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    input: NewReferral,
) -> ServiceResult<ReferralView> {
    let ctx = AuditContext::for_actor(actor, meta);
    let mut issues = Issues::default();
    let id = ClientId::or_new(input.id);
    if input.service_id.is_some() == input.recipient.is_some() {
        issues.add("service_id", "give exactly one of service_id and recipient");
    }
    check_follow_up(
        &mut issues,
        input.follow_up_on,
        state.clock.now().date_naive(),
    );
    issues.finish()?;
    let key = meta.idempotency.clone();
    let who = actor.clone();
    let made = state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(Action::Create, RecordKind::Referral, Some(id));
                // Refused on the role before the patron is looked at.
                let own_scope = access::referral_scope(&who);
                if own_scope.is_nothing() {
                    return Err(u.deny(own_scope.nothing_rule(), None, ServiceError::Forbidden));
                }
                let patron_id = input.patron_id.uuid();
                let patron = scope::visible_patron(u, &who, patron_id).await?;
                let patron_facts = scope::patron_facts(u.txn(), &who, &patron).await?;
                let case = match input.case_id {
                    None => None,
                    Some(case_id) => {
                        Some(scope::case_of_patron(u, &who, case_id.uuid(), patron_id).await?)
                    }
                };
                let decision =
                    access::create_referral(&who, &patron_facts, case.as_ref().map(|l| &l.facts));
                if !decision.is_allowed() {
                    return Err(u.deny(decision, Some(patron_id), ServiceError::Forbidden));
                }
                if let Claim::Replay(first) =
                    u.claim(key.as_ref(), RecordKind::Referral, id, 201).await?
                {
                    return Ok(u.replay(first));
                }
                u.allow(decision.rule(), Some(patron_id), FIELDS);
                let (recipient_name, recipient_phone) = match input.service_id {
                    Some(sid) => match service::Entity::find_by_id(sid).one(u.txn()).await? {
                        Some(s) if s.status == "active" => (s.name, s.phone),
                        Some(_) => {
                            return Err(ServiceError::invalid(
                                "service_id",
                                "the service is inactive",
                            ));
                        }
                        None => return Err(ServiceError::invalid("service_id", "no such service")),
                    },
                    None => (
                        input.recipient.map(Line::into_inner).unwrap_or_default(),
                        None,
                    ),
                };
                if referral::Entity::find_by_id(id)
                    .one(u.txn())
                    .await?
                    .is_some()
                {
                    return Err(ServiceError::Conflict("a record with this id exists"));
                }
                let t = u.now();
                let branch_id = case
                    .as_ref()
                    .map_or(patron.home_branch_id, |l| l.record.0.branch_id);
                let m = referral::ActiveModel {
                    id: Set(id),
                    patron_id: Set(patron_id),
                    case_id: Set(input.case_id.map(CaseId::uuid)),
                    branch_id: Set(branch_id),
                    service_id: Set(input.service_id),
                    recipient_name: Set(recipient_name),
                    recipient_phone: Set(recipient_phone),
                    needs: Set(domain::needs_json(&input.needs)),
                    notes: Set(input.notes.and_then(Text::into_present)),
                    shares_identifying_data: Set(input.shares_identifying_data),
                    status: Set(ReferralStatus::Draft.as_str().to_owned()),
                    outcome: Set(None),
                    follow_up_on: Set(input
                        .follow_up_on
                        .or_else(|| flow::follow_up_after(ReferralStatus::Draft, t))),
                    version: Set(1),
                    created_by: Set(who.staff_id),
                    created_at: Set(t),
                    updated_at: Set(t),
                }
                .insert(u.txn())
                .await?;
                history_row(
                    id,
                    None,
                    ReferralStatus::Draft,
                    who.staff_id,
                    t,
                    t,
                    None,
                    None,
                    false,
                )
                .insert(u.txn())
                .await?;
                u.changed(RecordKind::Referral, id);
                Ok(Made::New(m))
            })
        })
        .await?;
    match made {
        Made::New(m) => Ok(ReferralView {
            history: history(&state.db, m.id).await?,
            referral: m,
        }),
        Made::Replay(first) => get(state, actor, meta, ReferralId::new(first)).await,
    }
}

#[allow(clippy::too_many_arguments)]
fn history_row(
    referral_id: Uuid,
    from: Option<ReferralStatus>,
    to: ReferralStatus,
    actor: Uuid,
    occurred: DateTime<Utc>,
    recorded: DateTime<Utc>,
    reason: Option<String>,
    outcome: Option<ReferralOutcome>,
    on_behalf_of_agency: bool,
) -> referral_event::ActiveModel {
    referral_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        referral_id: Set(referral_id),
        from_status: Set(from.map(|s| s.as_str().to_owned())),
        to_status: Set(to.as_str().to_owned()),
        actor_id: Set(actor),
        occurred_at: Set(occurred),
        recorded_at: Set(recorded),
        reason: Set(reason),
        outcome: Set(outcome.map(|o| o.as_str().to_owned())),
        on_behalf_of_agency: Set(on_behalf_of_agency),
    }
}

async fn history(
    db: &impl ConnectionTrait,
    referral_id: Uuid,
) -> ServiceResult<Vec<referral_event::Model>> {
    Ok(referral_event::Entity::find()
        .filter(referral_event::Column::ReferralId.eq(referral_id))
        .order_by_asc(referral_event::Column::Id)
        .all(db)
        .await?)
}

pub async fn get(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: ReferralId,
) -> ServiceResult<ReferralView> {
    let id = id.uuid();
    let ctx = AuditContext::for_actor(actor, meta);
    let scope = access::referral_scope(actor);
    let (r, _) = unit::read_one(
        state,
        &ctx,
        &scope,
        Action::Read,
        RecordKind::Referral,
        id,
        fields,
        || scope::load_referral(&state.db, actor, id),
    )
    .await?;
    Ok(ReferralView {
        history: history(&state.db, r.id).await?,
        referral: r,
    })
}

/// Moves a referral along the lifecycle. Requires the current version.
pub async fn transition(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: ReferralId,
    if_match: Option<&str>,
    mv: Move,
) -> ServiceResult<ReferralView> {
    let id = id.uuid();
    let ctx = AuditContext::for_actor(actor, meta);
    let version = unit::parse_if_match(if_match)?;
    let mut issues = Issues::default();
    let occurred = occurred_at(
        &mut issues,
        "occurred_at",
        mv.occurred_at,
        state.clock.now(),
    );
    issues.finish()?;
    let key = meta.idempotency.clone();
    let who = actor.clone();
    let made = state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(Action::Transition, RecordKind::Referral, Some(id));
                let scope = access::referral_scope(&who);
                let loader = who.clone();
                let ch = scope::for_change(
                    u,
                    &scope,
                    move |txn| {
                        Box::pin(async move { scope::load_referral(txn, &loader, id).await })
                    },
                    |_, f| access::change_referral(&who, f),
                )
                .await?;
                if let Claim::Replay(first) =
                    u.claim(key.as_ref(), RecordKind::Referral, id, 200).await?
                {
                    return Ok(u.replay(first));
                }
                u.allow(ch.rule, ch.patron, &["status", "outcome", "follow_up_on", "history"]);
                let current = ch.record;
                if current.version != version {
                    return Err(stale(current));
                }
                let from =
                    ReferralStatus::parse(&current.status).unwrap_or(ReferralStatus::EnteredInError);
                let requester = access::requester_move(&ch.facts);
                match flow::check(
                    from,
                    mv.to,
                    mv.reason.is_some(),
                    mv.outcome.is_some(),
                    requester.is_allowed(),
                ) {
                    Ok(_) => {}
                    Err(flow::Refusal::NotAllowed(allowed)) => {
                        let names: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
                        return Err(ServiceError::ConflictNaming {
                            detail: "This move is not allowed from the referral's status",
                            issues: vec![FieldIssue::new(
                                "to",
                                if names.is_empty() {
                                    "no move is allowed from here".to_owned()
                                } else {
                                    format!("must be one of: {}", names.join(", "))
                                },
                            )],
                        });
                    }
                    Err(flow::Refusal::Missing(field)) => {
                        return Err(ServiceError::invalid(field, "is required for this move"));
                    }
                    Err(flow::Refusal::RequesterOnly) => {
                        return Err(u.deny(requester, ch.patron, ServiceError::Forbidden));
                    }
                }
                if from == ReferralStatus::Draft
                    && mv.to == ReferralStatus::Requested
                    && current.shares_identifying_data
                    && !consent_covers(u.txn(), &current, occurred).await?
                {
                    return Err(ServiceError::ConflictNaming {
                        detail: "Sharing identifying data needs a consent valid now whose recipient covers the service",
                        issues: vec![FieldIssue::new(
                            "consent",
                            "no valid consent of the patron covers this recipient",
                        )],
                    });
                }
                let t = u.now();
                let mut m = current.clone().into_active_model();
                m.status = Set(mv.to.as_str().to_owned());
                if let Some(o) = mv.outcome {
                    m.outcome = Set(Some(o.as_str().to_owned()));
                }
                m.follow_up_on = Set(flow::follow_up_after(mv.to, occurred.max(t)));
                m.version = Set(version + 1);
                m.updated_at = Set(t);
                let Some(m) =
                    update_versioned(u.txn(), m, referral::Column::Version, version).await?
                else {
                    return Err(unit::stale_now::<referral::Entity>(u.txn(), id).await);
                };
                history_row(
                    id,
                    Some(from),
                    mv.to,
                    who.staff_id,
                    occurred,
                    t,
                    mv.reason.map(Text::into_inner),
                    mv.outcome,
                    mv.on_behalf_of_agency,
                )
                .insert(u.txn())
                .await?;
                u.changed(RecordKind::Referral, id);
                Ok(Made::New(m))
            })
        })
        .await?;
    match made {
        Made::New(m) => Ok(ReferralView {
            history: history(&state.db, m.id).await?,
            referral: m,
        }),
        Made::Replay(first) => get(state, actor, meta, ReferralId::new(first)).await,
    }
}

/// The states of an open referral, as stored.
fn open_states() -> Vec<&'static str> {
    ReferralStatus::ALL
        .iter()
        .filter(|s| flow::is_open(**s))
        .map(|s| s.as_str())
        .collect()
}

/// Whether a consent of the patron, valid at `at`, names the recipient: the
/// directory service's organization or name, or the free-text recipient.
async fn consent_covers(
    db: &impl ConnectionTrait,
    r: &referral::Model,
    at: DateTime<Utc>,
) -> ServiceResult<bool> {
    let mut names = vec![r.recipient_name.clone()];
    if let Some(sid) = r.service_id
        && let Some(s) = service::Entity::find_by_id(sid).one(db).await?
    {
        names.push(s.organization_name);
        names.push(s.name);
    }
    for name in names {
        if consents::valid_consent(db, r.patron_id, &name, at)
            .await?
            .is_some()
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A change to an open referral; absent fields stay as they are.
#[derive(Default)]
pub struct ReferralPatch {
    pub needs: Option<Vec<Need>>,
    /// Blank clears them.
    pub notes: Option<Notes>,
    pub follow_up_on: Option<NaiveDate>,
}

/// Changes an open referral's needs, notes or follow-up date. Requires the
/// current version.
pub async fn update(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: ReferralId,
    if_match: Option<&str>,
    patch: ReferralPatch,
) -> ServiceResult<ReferralView> {
    let id = id.uuid();
    let ctx = AuditContext::for_actor(actor, meta);
    let version = unit::parse_if_match(if_match)?;
    let mut issues = Issues::default();
    check_follow_up(
        &mut issues,
        patch.follow_up_on,
        state.clock.now().date_naive(),
    );
    issues.finish()?;
    let mut fields = Vec::new();
    for (present, name) in [
        (patch.needs.is_some(), "needs"),
        (patch.notes.is_some(), "notes"),
        (patch.follow_up_on.is_some(), "follow_up_on"),
    ] {
        if present {
            fields.push(name);
        }
    }
    let who = actor.clone();
    let m = state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(Action::Update, RecordKind::Referral, Some(id));
                let scope = access::referral_scope(&who);
                let loader = who.clone();
                let ch = scope::for_change(
                    u,
                    &scope,
                    move |txn| {
                        Box::pin(async move { scope::load_referral(txn, &loader, id).await })
                    },
                    |_, f| access::change_referral(&who, f),
                )
                .await?;
                u.allow(ch.rule, ch.patron, &fields);
                let current = ch.record;
                if current.version != version {
                    return Err(stale(current));
                }
                let status = ReferralStatus::parse(&current.status)
                    .unwrap_or(ReferralStatus::EnteredInError);
                if !flow::is_open(status) {
                    return Err(ServiceError::Conflict(
                        "only an open referral can be changed",
                    ));
                }
                let mut m = current.into_active_model();
                if let Some(needs) = patch.needs {
                    m.needs = Set(domain::needs_json(&needs));
                }
                if let Some(notes) = patch.notes {
                    m.notes = Set(notes.into_present());
                }
                if let Some(d) = patch.follow_up_on {
                    m.follow_up_on = Set(Some(d));
                }
                m.version = Set(version + 1);
                m.updated_at = Set(u.now());
                let Some(m) =
                    update_versioned(u.txn(), m, referral::Column::Version, version).await?
                else {
                    return Err(unit::stale_now::<referral::Entity>(u.txn(), id).await);
                };
                u.changed(RecordKind::Referral, id);
                Ok(m)
            })
        })
        .await?;
    Ok(ReferralView {
        history: history(&state.db, m.id).await?,
        referral: m,
    })
}

/// A branch's open referrals whose follow-up date has passed, most overdue
/// first: for the branch's supervisors.
pub async fn overdue_in_branch(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    branch: Uuid,
    cursor: Option<&str>,
    limit: Option<u64>,
) -> ServiceResult<Page<referral::Model>> {
    let ctx = AuditContext::for_actor(actor, meta);
    let decision = access::branch_referral_oversight(actor, branch);
    crate::unit::allowed(state, &ctx, decision, Action::Search, RecordKind::Referral).await?;
    let q = referral::Entity::find()
        .filter(referral::Column::BranchId.eq(branch))
        .filter(referral::Column::FollowUpOn.lt(state.clock.now().date_naive()));
    let page = by_follow_up(&state.db, q, cursor, limit).await?;
    let ev = ctx
        .event(Action::Search, Outcome::Allowed, decision.rule())
        .record_type(RecordKind::Referral)
        .query(r#"{"overdue":"branch"}"#)
        .patrons(page.items.iter().map(|r| r.patron_id))
        .results(page.items.iter().map(|r| r.id).collect())
        .fields(LIST_FIELDS);
    state.recorder.record(vec![ev]).await?;
    Ok(page)
}

/// Open referrals of `q`, soonest follow-up first, a page at a time.
async fn by_follow_up(
    db: &impl ConnectionTrait,
    q: sea_orm::Select<referral::Entity>,
    cursor: Option<&str>,
    limit: Option<u64>,
) -> ServiceResult<Page<referral::Model>> {
    let cursor = Cursor::decode(cursor)?;
    let limit = page_size(Some(limit.unwrap_or(25)));
    let open = open_states();
    // An open referral always has a follow-up date (every move to an open
    // state sets one, and a change can only move it), and a closed one has
    // none: saying so lets the index on (creator, follow-up date) start at
    // the first dated row instead of stepping over every closed referral,
    // which sort first there.
    let mut q = q
        .filter(referral::Column::Status.is_in(open))
        .filter(referral::Column::FollowUpOn.is_not_null());
    if let Some(c) = &cursor {
        q = q.filter(after(
            referral::Column::FollowUpOn,
            referral::Column::Id,
            c.key::<NaiveDate>()?,
            c.id,
            Order::Asc,
        ));
    }
    let rows = q
        .order_by_asc(referral::Column::FollowUpOn)
        .order_by_asc(referral::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let (items, next_cursor) = page(rows, limit, |r| {
        Cursor {
            k: r.follow_up_on.map(|d| d.to_string()).unwrap_or_default(),
            id: r.id,
        }
        .encode()
    });
    Ok(Page { items, next_cursor })
}

/// Which of the caller's referrals a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MineFilter {
    /// Every open referral.
    Open,
    /// Open referrals whose follow-up date has come.
    NeedsAttention,
}

/// The referrals of one patron the caller may see, newest first.
pub async fn for_patron(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    patron_id: PatronId,
    cursor: Option<&str>,
    limit: Option<u64>,
) -> ServiceResult<Page<referral::Model>> {
    let patron_id = patron_id.uuid();
    let ctx = AuditContext::for_actor(actor, meta);
    let patron_scope = access::patron_scope(actor);
    let (_, grant) = unit::gate_one(
        state,
        &ctx,
        &patron_scope,
        Action::Search,
        RecordKind::Patron,
        patron_id,
        || scope::load_patron(&state.db, actor, patron_id),
    )
    .await?;
    let scope = access::referral_scope(actor);
    let cursor = Cursor::decode(cursor)?;
    let limit = page_size(limit);
    let mut q = referral::Entity::find()
        .filter(referral::Column::PatronId.eq(patron_id))
        .filter(scope::condition(RecordKind::Referral, &scope, actor));
    if let Some(c) = &cursor {
        q = q.filter(referral::Column::Id.lt(c.id));
    }
    let rows = q
        .order_by_desc(referral::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let (rows, next_cursor) = page(rows, limit, |r| Cursor::of_id(r.id));
    let ev = ctx
        .event(Action::Search, Outcome::Allowed, grant.rule)
        .record_type(RecordKind::Referral)
        .patrons([patron_id])
        .results(rows.iter().map(|r| r.id).collect())
        .fields(LIST_FIELDS);
    state.recorder.record(vec![ev]).await?;
    Ok(Page {
        items: rows,
        next_cursor,
    })
}

/// The referrals the caller made that are still open (or need attention
/// now), soonest follow-up first.
pub async fn mine(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    filter: MineFilter,
    cursor: Option<&str>,
    limit: Option<u64>,
) -> ServiceResult<Page<referral::Model>> {
    let ctx = AuditContext::for_actor(actor, meta);
    let scope = access::referral_scope(actor);
    let decision = access::own_list(&scope);
    crate::unit::allowed(state, &ctx, decision, Action::Search, RecordKind::Referral).await?;
    let mut q = referral::Entity::find()
        .filter(referral::Column::CreatedBy.eq(actor.staff_id))
        .filter(scope::condition(RecordKind::Referral, &scope, actor));
    if filter == MineFilter::NeedsAttention {
        q = q.filter(referral::Column::FollowUpOn.lte(state.clock.now().date_naive()));
    }
    let page = by_follow_up(&state.db, q, cursor, limit).await?;
    let rows = &page.items;
    let ev = ctx
        .event(Action::Search, Outcome::Allowed, decision.rule())
        .record_type(RecordKind::Referral)
        .patrons(rows.iter().map(|r| r.patron_id))
        .results(rows.iter().map(|r| r.id).collect())
        .fields(LIST_FIELDS);
    state.recorder.record(vec![ev]).await?;
    Ok(page)
}

/// Open referrals per case, for the caseload.
pub async fn open_per_case(
    db: &impl ConnectionTrait,
    cases: &[Uuid],
) -> ServiceResult<std::collections::HashMap<Uuid, u64>> {
    let open = open_states();
    let rows: Vec<Option<Uuid>> = referral::Entity::find()
        .select_only()
        .column(referral::Column::CaseId)
        .filter(referral::Column::CaseId.is_in(cases.to_vec()))
        .filter(referral::Column::Status.is_in(open))
        .into_tuple()
        .all(db)
        .await?;
    let mut counts = std::collections::HashMap::new();
    for case in rows.into_iter().flatten() {
        *counts.entry(case).or_insert(0) += 1;
    }
    Ok(counts)
}
