//! Mandated reports (DESIGN.md section 5): calls to child or adult protective
//! services that the law requires. Not a referral: no consent gate. The most
//! restricted record: its author and the branch's supervisors read it, and
//! everyone else gets the answer a missing id gets. Every access carries the
//! purpose of use `mandated_reporting` (`audit::purpose_of_use`).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::scope;
use crate::{
    access::{self, Actor, View},
    audit::{Action, AuditContext, Outcome, RequestMeta},
    domain::{
        CaseId, FieldIssue, Issues, MandatedReportId, MandatedReportKind, MandatedReportStatus,
        PatronId, RecordKind, ReportedHow, occurred_at,
    },
    error::{ServiceError, ServiceResult},
    paging::{Cursor, Page, page, page_size},
    state::AppState,
    text::{ClientId, Line, Text},
    unit::{self, Claim, Made, stale, update_versioned},
};
use entities::mandated_report;

pub const FIELDS: &[&str] = &[
    "id",
    "patron_id",
    "case_id",
    "kind",
    "agency",
    "legal_basis",
    "learned_at",
    "reported_at",
    "reported_how",
    "intake_number",
    "agency_worker",
    "persons_concerned",
    "what_was_reported",
    "screening_outcome",
    "status",
];

fn fields(_: View) -> &'static [&'static str] {
    FIELDS
}

pub type Agency = Line<200>;
pub type LongText = Text<10_000>;
pub type OptionalText = Text<10_000, 0>;
pub type IntakeNumber = Line<100, 0>;
pub type AgencyWorker = Line<200, 0>;

/// The report's content; on create every required field, on a change any.
#[derive(Default)]
pub struct ReportFields {
    pub kind: Option<MandatedReportKind>,
    pub agency: Option<Agency>,
    pub legal_basis: Option<OptionalText>,
    pub learned_at: Option<DateTime<Utc>>,
    pub reported_at: Option<DateTime<Utc>>,
    pub reported_how: Option<ReportedHow>,
    pub intake_number: Option<IntakeNumber>,
    pub agency_worker: Option<AgencyWorker>,
    pub persons_concerned: Option<LongText>,
    pub what_was_reported: Option<LongText>,
    pub screening_outcome: Option<OptionalText>,
}

impl ReportFields {
    fn names(&self) -> Vec<&'static str> {
        [
            (self.kind.is_some(), "kind"),
            (self.agency.is_some(), "agency"),
            (self.legal_basis.is_some(), "legal_basis"),
            (self.learned_at.is_some(), "learned_at"),
            (self.reported_at.is_some(), "reported_at"),
            (self.reported_how.is_some(), "reported_how"),
            (self.intake_number.is_some(), "intake_number"),
            (self.agency_worker.is_some(), "agency_worker"),
            (self.persons_concerned.is_some(), "persons_concerned"),
            (self.what_was_reported.is_some(), "what_was_reported"),
            (self.screening_outcome.is_some(), "screening_outcome"),
        ]
        .into_iter()
        .filter_map(|(present, n)| present.then_some(n))
        .collect()
    }

    /// Checks the times given, against `now` (the service's clock).
    fn check_times(&self, issues: &mut Issues, now: DateTime<Utc>) {
        if self.learned_at.is_some() {
            occurred_at(issues, "learned_at", self.learned_at, now);
        }
        if self.reported_at.is_some() {
            occurred_at(issues, "reported_at", self.reported_at, now);
        }
    }

    fn apply(self, m: &mut mandated_report::ActiveModel) {
        if let Some(v) = self.kind {
            m.kind = Set(v.as_str().to_owned());
        }
        if let Some(v) = self.agency {
            m.agency = Set(v.into_inner());
        }
        if let Some(v) = self.legal_basis {
            m.legal_basis = Set(v.into_present());
        }
        if let Some(v) = self.learned_at {
            m.learned_at = Set(v);
        }
        if let Some(v) = self.reported_at {
            m.reported_at = Set(Some(v));
        }
        if let Some(v) = self.reported_how {
            m.reported_how = Set(Some(v.as_str().to_owned()));
        }
        if let Some(v) = self.intake_number {
            m.intake_number = Set(v.into_present());
        }
        if let Some(v) = self.agency_worker {
            m.agency_worker = Set(v.into_present());
        }
        if let Some(v) = self.persons_concerned {
            m.persons_concerned = Set(v.into_inner());
        }
        if let Some(v) = self.what_was_reported {
            m.what_was_reported = Set(v.into_inner());
        }
        if let Some(v) = self.screening_outcome {
            m.screening_outcome = Set(v.into_present());
        }
    }
}

pub struct NewReport {
    pub id: Option<ClientId>,
    pub patron_id: PatronId,
    pub case_id: Option<CaseId>,
    pub fields: ReportFields,
}

pub async fn create(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    input: NewReport,
) -> ServiceResult<mandated_report::Model> {
    let ctx = AuditContext::for_actor(actor, meta);
    let mut issues = Issues::default();
    let id = ClientId::or_new(input.id);
    let f = input.fields;
    for (missing, name) in [
        (f.kind.is_none(), "kind"),
        (f.agency.is_none(), "agency"),
        (f.learned_at.is_none(), "learned_at"),
        (f.persons_concerned.is_none(), "persons_concerned"),
        (f.what_was_reported.is_none(), "what_was_reported"),
    ] {
        if missing {
            issues.add(name, "is required");
        }
    }
    f.check_times(&mut issues, state.clock.now());
    issues.finish()?;
    let key = meta.idempotency.clone();
    let who = actor.clone();
    let case_id = input.case_id.map(CaseId::uuid);
    let made = state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(Action::Create, RecordKind::MandatedReport, Some(id));
                let decision = access::create_mandated_report(&who);
                if !decision.is_allowed() {
                    return Err(u.deny(decision, None, ServiceError::Forbidden));
                }
                let patron_id = input.patron_id.uuid();
                let patron = scope::visible_patron(u, &who, patron_id).await?;
                let mut branch = patron.home_branch_id;
                if let Some(case_id) = case_id {
                    branch = scope::case_of_patron(u, &who, case_id, patron_id)
                        .await?
                        .record
                        .0
                        .branch_id;
                }
                if let Claim::Replay(first) = u
                    .claim(key.as_ref(), RecordKind::MandatedReport, id, 201)
                    .await?
                {
                    return Ok(u.replay(first));
                }
                u.allow(decision.rule(), Some(patron_id), FIELDS);
                if mandated_report::Entity::find_by_id(id)
                    .one(u.txn())
                    .await?
                    .is_some()
                {
                    return Err(ServiceError::Conflict("a record with this id exists"));
                }
                let t = u.now();
                let mut m = mandated_report::ActiveModel {
                    id: Set(id),
                    patron_id: Set(patron_id),
                    case_id: Set(case_id),
                    branch_id: Set(branch),
                    kind: Set(String::new()),
                    agency: Set(String::new()),
                    legal_basis: Set(None),
                    learned_at: Set(t),
                    reported_at: Set(None),
                    reported_how: Set(None),
                    intake_number: Set(None),
                    agency_worker: Set(None),
                    persons_concerned: Set(String::new()),
                    what_was_reported: Set(String::new()),
                    screening_outcome: Set(None),
                    status: Set(MandatedReportStatus::Draft.as_str().to_owned()),
                    version: Set(1),
                    created_by: Set(who.staff_id),
                    created_at: Set(t),
                    updated_at: Set(t),
                };
                f.apply(&mut m);
                let m = m.insert(u.txn()).await?;
                u.changed(RecordKind::MandatedReport, id);
                Ok(Made::New(m))
            })
        })
        .await?;
    match made {
        Made::New(m) => Ok(m),
        Made::Replay(first) => get(state, actor, meta, MandatedReportId::new(first)).await,
    }
}

pub async fn get(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: MandatedReportId,
) -> ServiceResult<mandated_report::Model> {
    let id = id.uuid();
    let ctx = AuditContext::for_actor(actor, meta);
    let scope = access::mandated_report_scope(actor);
    let (r, _) = unit::read_one(
        state,
        &ctx,
        &scope,
        Action::Read,
        RecordKind::MandatedReport,
        id,
        fields,
        || scope::load_mandated_report(&state.db, actor, id),
    )
    .await?;
    Ok(r)
}

/// What a change to a report is: new content, or a move.
pub enum Change {
    Fields(ReportFields),
    Move {
        to: MandatedReportStatus,
        fields: ReportFields,
    },
}

/// The allowed moves; the fields each needs, on the record or in the move.
fn next(from: MandatedReportStatus, to: MandatedReportStatus) -> Option<&'static [&'static str]> {
    use MandatedReportStatus::*;
    match (from, to) {
        (Draft, Submitted) => Some(&["reported_at", "reported_how"]),
        (Draft | Submitted, Acknowledged) => {
            Some(&["reported_at", "reported_how", "intake_number"])
        }
        (Acknowledged, Closed) => Some(&[]),
        _ => None,
    }
}

fn allowed_from(from: MandatedReportStatus) -> Vec<&'static str> {
    MandatedReportStatus::ALL
        .iter()
        .filter(|to| next(from, **to).is_some())
        .map(|to| to.as_str())
        .collect()
}

/// Changes a report or moves it on; its author only. Requires the current
/// version.
pub async fn change(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: MandatedReportId,
    if_match: Option<&str>,
    change: Change,
) -> ServiceResult<mandated_report::Model> {
    let id = id.uuid();
    let ctx = AuditContext::for_actor(actor, meta);
    let version = unit::parse_if_match(if_match)?;
    let mut issues = Issues::default();
    let (fields_in, to) = match change {
        Change::Fields(f) => (f, None),
        Change::Move { to, fields } => (fields, Some(to)),
    };
    fields_in.check_times(&mut issues, state.clock.now());
    issues.finish()?;
    let mut names = fields_in.names();
    let action = if to.is_some() {
        names.push("status");
        Action::Transition
    } else {
        Action::Update
    };
    let who = actor.clone();
    state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(action, RecordKind::MandatedReport, Some(id));
                let scope = access::mandated_report_scope(&who);
                let loader = who.clone();
                let ch = scope::for_change(
                    u,
                    &scope,
                    move |txn| {
                        Box::pin(async move { scope::load_mandated_report(txn, &loader, id).await })
                    },
                    |_, f| access::change_mandated_report(&who, f),
                )
                .await?;
                u.allow(ch.rule, ch.patron, &names);
                let current = ch.record;
                if current.version != version {
                    return Err(stale(current));
                }
                let from = MandatedReportStatus::parse(&current.status)
                    .unwrap_or(MandatedReportStatus::Closed);
                if to.is_none() && from == MandatedReportStatus::Closed {
                    return Err(ServiceError::Conflict("a closed report is not changed"));
                }
                let mut m = current.clone().into_active_model();
                fields_in.apply(&mut m);
                if let Some(to) = to {
                    let Some(needs) = next(from, to) else {
                        let allowed = allowed_from(from);
                        return Err(ServiceError::ConflictNaming {
                            detail: "This move is not allowed from the report's status",
                            issues: vec![FieldIssue::new(
                                "to",
                                if allowed.is_empty() {
                                    "no move is allowed from here".to_owned()
                                } else {
                                    format!("must be one of: {}", allowed.join(", "))
                                },
                            )],
                        });
                    };
                    let mut missing = Issues::default();
                    for field in needs {
                        let present = match *field {
                            "reported_at" => m.reported_at.as_ref().is_some(),
                            "reported_how" => m.reported_how.as_ref().is_some(),
                            "intake_number" => m.intake_number.as_ref().is_some(),
                            _ => true,
                        };
                        if !present {
                            missing.add(field, "is required for this move");
                        }
                    }
                    missing.finish()?;
                    m.status = Set(to.as_str().to_owned());
                }
                m.version = Set(version + 1);
                m.updated_at = Set(u.now());
                let Some(m) =
                    update_versioned(u.txn(), m, mandated_report::Column::Version, version).await?
                else {
                    return Err(unit::stale_now::<mandated_report::Entity>(u.txn(), id).await);
                };
                u.changed(RecordKind::MandatedReport, id);
                Ok(m)
            })
        })
        .await
}

/// The reports the caller may read (optionally of one patron), newest first:
/// a patron's view shows that a report exists only to those who may read it.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    patron_id: Option<PatronId>,
    cursor: Option<&str>,
    limit: Option<u64>,
) -> ServiceResult<Page<mandated_report::Model>> {
    let ctx = AuditContext::for_actor(actor, meta);
    let scope = access::mandated_report_scope(actor);
    let decision = access::own_list(&scope);
    crate::unit::allowed(
        state,
        &ctx,
        decision,
        Action::Search,
        RecordKind::MandatedReport,
    )
    .await?;
    let cursor = Cursor::decode(cursor)?;
    let limit = page_size(limit);
    let mut q = mandated_report::Entity::find().filter(scope::condition(
        RecordKind::MandatedReport,
        &scope,
        actor,
    ));
    if let Some(p) = patron_id {
        q = q.filter(mandated_report::Column::PatronId.eq(p.uuid()));
    }
    if let Some(c) = &cursor {
        q = q.filter(mandated_report::Column::Id.lt(c.id));
    }
    let rows = q
        .order_by_desc(mandated_report::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let (rows, next_cursor) = page(rows, limit, |r| Cursor::of_id(r.id));
    let ev = ctx
        .event(Action::Search, Outcome::Allowed, decision.rule())
        .record_type(RecordKind::MandatedReport)
        .patrons(rows.iter().map(|r| r.patron_id))
        .results(rows.iter().map(|r| r.id).collect())
        .fields(FIELDS);
    state.recorder.record(vec![ev]).await?;
    Ok(Page {
        items: rows,
        next_cursor,
    })
}
