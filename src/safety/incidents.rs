//! Incidents (DESIGN.md section 2): what happened at a branch and what was
//! done about it. Staff and security report them; security reads, changes
//! and searches all of them, staff read their branches'. A report is open
//! to edits for 24 hours after it was made; after that, later facts are
//! amendments with their own author and time, and the original text stays.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::scope;
use crate::{
    access::{self, Actor, View},
    audit::{Action, AuditContext, Outcome, RequestMeta},
    domain::{
        ActionTaken, FieldIssue, IncidentCategory, IncidentField, IncidentId, Issues, RecordKind,
        ResolutionPath, ResponderPart, ResponderRole, Role, occurred_at, search_key, word_patterns,
    },
    error::{ServiceError, ServiceResult},
    paging::{Cursor, Page, page, page_size},
    state::AppState,
    text::{ClientId, Line, Text},
    training::{certifications, rules},
    unit::{self, Claim, Made, Unit, for_change, stale, update_versioned},
};
use entities::{
    branch,
    safety::{incident, incident_amendment},
    staff,
};

/// How long after it was made a report can still be edited in place.
pub const EDIT_WINDOW: Duration = Duration::hours(24);

/// Most responders one report names.
pub const MAX_RESPONDERS: usize = 20;

pub const FIELDS: &[&str] = &[
    "id",
    "branch_id",
    "occurred_at",
    "category",
    "description",
    "action_taken",
    "persons_involved",
    "responders",
    "resolution",
    "police_called",
    "minutes_before_police",
    "rule_id",
    "amendments",
    "editable_until",
];

fn fields(_: View) -> &'static [&'static str] {
    FIELDS
}

pub type Description = Text<10_000>;
pub type PersonsInvolved = Text<2_000, 0>;
pub type AmendmentText = Text<10_000>;

/// Someone from outside who responded (police, paramedics), described.
pub type OutsideResponder = Line<200>;

/// A responder as given: a staff member, or someone from outside.
#[derive(Debug, Clone)]
pub struct ResponderInput {
    pub staff_id: Option<Uuid>,
    pub outside: Option<OutsideResponder>,
    pub part: ResponderPart,
}

/// A responder as recorded: with their role at the time and whether they
/// held a current de-escalation certification on the day (both computed
/// when the responders are recorded, and kept as they were).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Responder {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outside: Option<String>,
    pub part: ResponderPart,
    pub role: ResponderRole,
    pub certified: bool,
}

/// An incident with its amendments, oldest first.
#[derive(Debug, Clone)]
pub struct IncidentRecord {
    pub incident: incident::Model,
    /// `None` in lists, which leave them out.
    pub amendments: Option<Vec<incident_amendment::Model>>,
}

impl IncidentRecord {
    pub fn responders(&self) -> Vec<Responder> {
        serde_json::from_str(&self.incident.responders).unwrap_or_default()
    }

    pub fn editable_until(&self) -> DateTime<Utc> {
        self.incident.created_at + EDIT_WINDOW
    }
}

/// The report's content; on create every required field, on a change any.
#[derive(Default)]
pub struct IncidentFields {
    pub occurred_at: Option<DateTime<Utc>>,
    pub category: Option<IncidentCategory>,
    pub description: Option<Description>,
    pub action_taken: Option<ActionTaken>,
    pub persons_involved: Option<PersonsInvolved>,
    pub responders: Option<Vec<ResponderInput>>,
    pub resolution: Option<ResolutionPath>,
    pub police_called: Option<bool>,
    pub minutes_before_police: Option<i32>,
    pub rule_id: Option<Uuid>,
}

impl IncidentFields {
    fn names(&self) -> Vec<&'static str> {
        [
            (self.occurred_at.is_some(), "occurred_at"),
            (self.category.is_some(), "category"),
            (self.description.is_some(), "description"),
            (self.action_taken.is_some(), "action_taken"),
            (self.persons_involved.is_some(), "persons_involved"),
            (self.responders.is_some(), "responders"),
            (self.resolution.is_some(), "resolution"),
            (self.police_called.is_some(), "police_called"),
            (
                self.minutes_before_police.is_some(),
                "minutes_before_police",
            ),
            (self.rule_id.is_some(), "rule_id"),
        ]
        .into_iter()
        .filter_map(|(present, n)| present.then_some(n))
        .collect()
    }

    /// Checks the fields given; times against `now` (the service's clock).
    fn check(&self, issues: &mut Issues, now: DateTime<Utc>) {
        if self.occurred_at.is_some() {
            occurred_at(issues, "occurred_at", self.occurred_at, now);
        }
        if let Some(rs) = &self.responders {
            for (i, r) in rs.iter().enumerate() {
                match (r.staff_id, &r.outside) {
                    (Some(id), None) => {
                        if rs[..i].iter().any(|o| o.staff_id == Some(id)) {
                            issues.add(&format!("responders/{i}/staff_id"), "is named twice");
                        }
                    }
                    (None, Some(_)) => {}
                    _ => issues.add(
                        &format!("responders/{i}"),
                        "give exactly one of staff_id and outside",
                    ),
                }
            }
        }
    }

    fn apply(self, m: &mut incident::ActiveModel) {
        if let Some(v) = self.occurred_at {
            m.occurred_at = Set(v);
        }
        if let Some(v) = self.category {
            m.category = Set(v.as_str().to_owned());
        }
        if let Some(v) = self.description {
            m.description_key = Set(search_key(v.as_str()));
            m.description = Set(v.into_inner());
        }
        if let Some(v) = self.action_taken {
            m.action_taken = Set(v.as_str().to_owned());
        }
        if let Some(v) = self.persons_involved {
            m.persons_involved = Set(v.into_present());
        }
        if let Some(v) = self.resolution {
            m.resolution = Set(Some(v.as_str().to_owned()));
        }
        if let Some(v) = self.police_called {
            m.police_called = Set(v);
        }
        if let Some(v) = self.minutes_before_police {
            m.minutes_before_police = Set(Some(v));
        }
        if let Some(v) = self.rule_id {
            m.rule_id = Set(Some(v));
        }
    }
}

/// The rules that tie an incident's fields together, on the record as it
/// will be: the police were called when the action or the resolution says
/// so, a delay before the police needs a police call, and the rule
/// involved must be an active rule of the incident's branch.
async fn check_resolution(u: &mut Unit, m: &mut incident::ActiveModel) -> ServiceResult<()> {
    let action = m.action_taken.as_ref().clone();
    let resolution = m.resolution.as_ref().clone();
    if action == ActionTaken::PoliceCalled.as_str()
        || resolution.as_deref() == Some(ResolutionPath::Police.as_str())
    {
        m.police_called = Set(true);
    }
    if m.minutes_before_police.as_ref().is_some() && !*m.police_called.as_ref() {
        return Err(ServiceError::invalid(
            "minutes_before_police",
            "needs police_called (or the police as action or resolution)",
        ));
    }
    if let Some(rule) = *m.rule_id.as_ref()
        && rules::applies(u.txn(), rule, *m.branch_id.as_ref())
            .await?
            .is_none()
    {
        return Err(ServiceError::invalid(
            "rule_id",
            "no such active rule at this branch",
        ));
    }
    Ok(())
}

/// Records responders as they were on the day: each staff member's role
/// then and whether they held a current de-escalation certification. A
/// peer is recorded only as offering support, never as the one who
/// enforced.
async fn resolve_responders(
    u: &mut Unit,
    given: Vec<ResponderInput>,
    day: chrono::NaiveDate,
) -> ServiceResult<String> {
    let mut issues = Issues::default();
    let mut out = Vec::new();
    for (i, r) in given.into_iter().enumerate() {
        let Some(staff_id) = r.staff_id else {
            out.push(Responder {
                staff_id: None,
                outside: r.outside.map(Line::into_inner),
                part: r.part,
                role: ResponderRole::Outside,
                certified: false,
            });
            continue;
        };
        let Some(account) = staff::Entity::find_by_id(staff_id).one(u.txn()).await? else {
            issues.add(&format!("responders/{i}/staff_id"), "no such staff member");
            continue;
        };
        let role = Role::parse(&account.role)
            .map(ResponderRole::of)
            .unwrap_or(ResponderRole::Staff);
        if role == ResponderRole::Peer && r.part != ResponderPart::Support {
            issues.add(
                &format!("responders/{i}/part"),
                "a peer is recorded only as offering support",
            );
            continue;
        }
        out.push(Responder {
            staff_id: Some(staff_id),
            outside: None,
            part: r.part,
            role,
            certified: certifications::holds_de_escalation(u.txn(), staff_id, day).await?,
        });
    }
    issues.finish()?;
    Ok(serde_json::to_string(&out).unwrap_or_else(|_| "[]".into()))
}

pub struct NewIncident {
    pub id: Option<ClientId>,
    pub branch_id: Uuid,
    pub fields: IncidentFields,
}

pub async fn create(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    input: NewIncident,
) -> ServiceResult<IncidentRecord> {
    let ctx = AuditContext::for_actor(actor, meta);
    let mut issues = Issues::default();
    let id = ClientId::or_new(input.id);
    let mut f = input.fields;
    for (missing, name) in [
        (f.occurred_at.is_none(), "occurred_at"),
        (f.category.is_none(), "category"),
        (f.description.is_none(), "description"),
        (f.action_taken.is_none(), "action_taken"),
    ] {
        if missing {
            issues.add(name, "is required");
        }
    }
    f.check(&mut issues, state.clock.now());
    issues.finish()?;
    let key = meta.idempotency.clone();
    let who = actor.clone();
    let branch_id = input.branch_id;
    let clock = state.clock.clone();
    let made = state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(Action::Create, RecordKind::Incident, Some(id));
                let decision = access::create_incident(&who, branch_id);
                if !decision.is_allowed() {
                    return Err(u.deny(decision, None, ServiceError::Forbidden));
                }
                if let Claim::Replay(first) =
                    u.claim(key.as_ref(), RecordKind::Incident, id, 201).await?
                {
                    return Ok(u.replay(first));
                }
                if branch::Entity::find_by_id(branch_id)
                    .one(u.txn())
                    .await?
                    .is_none()
                {
                    return Err(ServiceError::invalid("branch_id", "no such branch"));
                }
                u.allow(decision.rule(), None, FIELDS);
                if incident::Entity::find_by_id(id)
                    .one(u.txn())
                    .await?
                    .is_some()
                {
                    return Err(ServiceError::Conflict("a record with this id exists"));
                }
                let t = clock.now();
                let mut m = incident::ActiveModel {
                    id: Set(id),
                    branch_id: Set(branch_id),
                    occurred_at: Set(t),
                    category: Set(String::new()),
                    description: Set(String::new()),
                    description_key: Set(String::new()),
                    action_taken: Set(String::new()),
                    persons_involved: Set(None),
                    responders: Set("[]".into()),
                    resolution: Set(None),
                    police_called: Set(false),
                    minutes_before_police: Set(None),
                    rule_id: Set(None),
                    version: Set(1),
                    created_by: Set(who.staff_id),
                    created_at: Set(t),
                    updated_at: Set(t),
                };
                let responders = f.responders.take();
                f.apply(&mut m);
                if let Some(rs) = responders {
                    let day = m.occurred_at.as_ref().date_naive();
                    m.responders = Set(resolve_responders(u, rs, day).await?);
                }
                check_resolution(u, &mut m).await?;
                let m = m.insert(u.txn()).await?;
                u.changed(RecordKind::Incident, id);
                Ok(Made::New(m))
            })
        })
        .await?;
    match made {
        Made::New(incident) => Ok(IncidentRecord {
            incident,
            amendments: Some(Vec::new()),
        }),
        Made::Replay(first) => get(state, actor, meta, IncidentId::new(first)).await,
    }
}

async fn amendments_of(
    db: &impl sea_orm::ConnectionTrait,
    id: Uuid,
) -> ServiceResult<Vec<incident_amendment::Model>> {
    Ok(incident_amendment::Entity::find()
        .filter(incident_amendment::Column::IncidentId.eq(id))
        .order_by_asc(incident_amendment::Column::Id)
        .all(db)
        .await?)
}

pub async fn get(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: IncidentId,
) -> ServiceResult<IncidentRecord> {
    let id = id.uuid();
    let ctx = AuditContext::for_actor(actor, meta);
    let scope = access::incident_scope(actor);
    let (incident, _) = unit::read_one(
        state,
        &ctx,
        &scope,
        Action::Read,
        RecordKind::Incident,
        id,
        fields,
        || scope::load_incident(&state.db, actor, id),
    )
    .await?;
    Ok(IncidentRecord {
        amendments: Some(amendments_of(&state.db, id).await?),
        incident,
    })
}

/// The record as it is now, for a 412.
async fn current(txn: &sea_orm::DatabaseTransaction, id: Uuid) -> ServiceError {
    let found = incident::Entity::find_by_id(id).one(txn).await;
    match (found, amendments_of(txn, id).await) {
        (Ok(Some(incident)), Ok(amendments)) => stale(IncidentRecord {
            incident,
            amendments: Some(amendments),
        }),
        (Ok(None), _) => ServiceError::NotFound,
        (Err(e), _) => e.into(),
        (_, Err(e)) => e,
    }
}

/// Changes a report within its edit window: security, or its author.
/// Requires the current version; after the window it is 409 (amend it).
pub async fn update(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: IncidentId,
    if_match: Option<&str>,
    fields_in: IncidentFields,
) -> ServiceResult<IncidentRecord> {
    let id = id.uuid();
    let ctx = AuditContext::for_actor(actor, meta);
    let version = unit::parse_if_match(if_match)?;
    let mut issues = Issues::default();
    fields_in.check(&mut issues, state.clock.now());
    issues.finish()?;
    let names = fields_in.names();
    let who = actor.clone();
    let clock = state.clock.clone();
    let incident = state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(Action::Update, RecordKind::Incident, Some(id));
                let scope = access::incident_scope(&who);
                let loader = who.clone();
                let ch = for_change(
                    u,
                    &scope,
                    move |txn| Box::pin(async move { scope::load_incident(txn, &loader, id).await }),
                    |_, f| access::change_incident(&who, f),
                )
                .await?;
                u.allow(ch.rule, None, &names);
                if ch.record.version != version {
                    return Err(current(u.txn(), id).await);
                }
                if clock.now() >= ch.record.created_at + EDIT_WINDOW {
                    return Err(ServiceError::ConflictNaming {
                        detail: "The report is closed to edits 24 hours after it was made; add an amendment",
                        issues: vec![FieldIssue::new(
                            "editable_until",
                            "has passed: POST to the incident's amendments instead",
                        )],
                    });
                }
                let mut fields_in = fields_in;
                let responders = fields_in.responders.take();
                let mut m = ch.record.into_active_model();
                fields_in.apply(&mut m);
                if let Some(rs) = responders {
                    let day = m.occurred_at.as_ref().date_naive();
                    m.responders = Set(resolve_responders(u, rs, day).await?);
                }
                check_resolution(u, &mut m).await?;
                m.version = Set(version + 1);
                m.updated_at = Set(clock.now());
                let Some(m) =
                    update_versioned(u.txn(), m, incident::Column::Version, version).await?
                else {
                    return Err(current(u.txn(), id).await);
                };
                u.changed(RecordKind::Incident, id);
                Ok(m)
            })
        })
        .await?;
    Ok(IncidentRecord {
        amendments: Some(amendments_of(&state.db, id).await?),
        incident,
    })
}

pub struct NewAmendment {
    pub id: Option<ClientId>,
    pub text: AmendmentText,
}

/// Adds an amendment (security, or the report's author); the report's
/// version moves on, its text stays as it was.
pub async fn amend(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    incident_id: IncidentId,
    input: NewAmendment,
) -> ServiceResult<incident_amendment::Model> {
    let incident_id = incident_id.uuid();
    let ctx = AuditContext::for_actor(actor, meta);
    let id = ClientId::or_new(input.id);
    let key = meta.idempotency.clone();
    let who = actor.clone();
    let clock = state.clock.clone();
    let made = state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(Action::Create, RecordKind::IncidentAmendment, Some(id));
                let scope = access::incident_scope(&who);
                let loader = who.clone();
                let ch = for_change(
                    u,
                    &scope,
                    move |txn| {
                        Box::pin(
                            async move { scope::load_incident(txn, &loader, incident_id).await },
                        )
                    },
                    |_, f| access::change_incident(&who, f),
                )
                .await?;
                if let Claim::Replay(first) = u
                    .claim(key.as_ref(), RecordKind::IncidentAmendment, id, 201)
                    .await?
                {
                    return Ok(u.replay(first));
                }
                u.allow(ch.rule, None, &["incident_id", "text"]);
                if incident_amendment::Entity::find_by_id(id)
                    .one(u.txn())
                    .await?
                    .is_some()
                {
                    return Err(ServiceError::Conflict("a record with this id exists"));
                }
                let t = clock.now();
                let a = incident_amendment::ActiveModel {
                    id: Set(id),
                    incident_id: Set(incident_id),
                    text: Set(input.text.into_inner()),
                    created_by: Set(who.staff_id),
                    created_at: Set(t),
                }
                .insert(u.txn())
                .await?;
                incident::Entity::update_many()
                    .col_expr(
                        incident::Column::Version,
                        Expr::col(incident::Column::Version).add(1),
                    )
                    .col_expr(incident::Column::UpdatedAt, Expr::value(t))
                    .filter(incident::Column::Id.eq(incident_id))
                    .exec(u.txn())
                    .await?;
                u.changed(RecordKind::Incident, incident_id);
                Ok(Made::New(a))
            })
        })
        .await?;
    match made {
        Made::New(a) => Ok(a),
        Made::Replay(first) => get(state, actor, meta, IncidentId::new(incident_id))
            .await?
            .amendments
            .unwrap_or_default()
            .into_iter()
            .find(|a| a.id == first)
            .ok_or(ServiceError::NotFound),
    }
}

/// What a search of incidents asks for; every filter narrows.
#[derive(Default)]
pub struct IncidentQuery<'a> {
    pub branch_id: Option<Uuid>,
    pub category: Option<IncidentCategory>,
    pub action_taken: Option<ActionTaken>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Words of the description, each matched at a word start.
    pub q: Option<&'a str>,
    pub cursor: Option<&'a str>,
    pub limit: Option<u64>,
}

/// The incidents the caller may read that match, newest first.
pub async fn search(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    query: IncidentQuery<'_>,
) -> ServiceResult<Page<IncidentRecord>> {
    let ctx = AuditContext::for_actor(actor, meta);
    let scope = access::incident_scope(actor);
    let grant = unit::search_scope(state, &ctx, &scope, RecordKind::Incident).await?;
    if let (Some(from), Some(to)) = (query.from, query.to)
        && from > to
    {
        return Err(ServiceError::invalid("to", "must not be before from"));
    }
    let cursor = Cursor::decode(query.cursor)?;
    let limit = page_size(query.limit);
    let mut select =
        incident::Entity::find().filter(scope::condition(RecordKind::Incident, &scope, actor));
    let mut filters = Vec::new();
    if let Some(b) = query.branch_id {
        select = select.filter(incident::Column::BranchId.eq(b));
        filters.push("branch_id");
    }
    if let Some(c) = query.category {
        select = select.filter(incident::Column::Category.eq(c.as_str()));
        filters.push("category");
    }
    if let Some(a) = query.action_taken {
        select = select.filter(incident::Column::ActionTaken.eq(a.as_str()));
        filters.push("action_taken");
    }
    if let Some(from) = query.from {
        select = select.filter(incident::Column::OccurredAt.gte(from));
        filters.push("from");
    }
    if let Some(to) = query.to {
        select = select.filter(incident::Column::OccurredAt.lt(to));
        filters.push("to");
    }
    if let Some(q) = query.q {
        filters.push("q");
        match word_patterns(q) {
            None => select = select.filter(incident::Column::Id.is_null()),
            Some(patterns) => {
                for p in patterns {
                    select = select.filter(incident::Column::DescriptionKey.like(p));
                }
            }
        }
    }
    if let Some(c) = &cursor {
        select = select.filter(incident::Column::Id.lt(c.id));
    }
    let rows = select
        .order_by_desc(incident::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let (rows, next_cursor) = page(rows, limit, |r| Cursor::of_id(r.id));
    let ev = ctx
        .event(Action::Search, Outcome::Allowed, grant.rule)
        .record_type(RecordKind::Incident)
        // Never the words themselves: only their keyed fingerprints.
        .query(
            serde_json::json!({
                "filters": filters,
                "q_words": query.q.map(|q| state.keys.search_fingerprints(q)),
            })
            .to_string(),
        )
        .results(rows.iter().map(|r| r.id).collect())
        .fields(LIST_FIELDS);
    state.recorder.record(vec![ev]).await?;
    Ok(Page {
        items: rows
            .into_iter()
            .map(|incident| IncidentRecord {
                incident,
                amendments: None,
            })
            .collect(),
        next_cursor,
    })
}

/// What a list shows of each incident (amendments are read one by one).
pub const LIST_FIELDS: &[&str] = &[
    "id",
    "branch_id",
    "occurred_at",
    "category",
    "description",
    "action_taken",
    "persons_involved",
    "responders",
    "resolution",
    "police_called",
    "minutes_before_police",
    "rule_id",
    "editable_until",
];

/// Copies the chosen fields of an incident, for a support request its
/// caller opens, inside the caller's unit. The caller must be able to read
/// the incident; one it cannot is refused as if it did not exist. The copy
/// is plain text: nothing in it leads back to the incident.
pub async fn copy_for_support_request(
    u: &mut Unit,
    actor: &Actor,
    id: IncidentId,
    share: &[IncidentField],
) -> ServiceResult<serde_json::Map<String, serde_json::Value>> {
    let id = id.uuid();
    let scope = access::incident_scope(actor);
    let loaded = if scope.is_nothing() {
        None
    } else {
        scope::load_incident(u.txn(), actor, id).await?
    };
    let decision = match &loaded {
        Some(l) => scope.decide(&l.facts),
        None if scope.is_nothing() => scope.nothing_rule(),
        None => access::Decision::Deny("no_such_record"),
    };
    let Some(l) = loaded.filter(|_| decision.is_allowed()) else {
        return Err(u.deny(
            decision,
            None,
            ServiceError::invalid("incident_id", "no such incident"),
        ));
    };
    let i = l.record;
    let mut out = serde_json::Map::new();
    for field in share {
        let value = match field {
            IncidentField::OccurredAt => Some(crate::audit::format_time(i.occurred_at)),
            IncidentField::Category => Some(i.category.clone()),
            IncidentField::Description => Some(i.description.clone()),
            IncidentField::ActionTaken => Some(i.action_taken.clone()),
            IncidentField::PersonsInvolved => i.persons_involved.clone(),
        };
        if let Some(v) = value {
            out.insert(field.as_str().to_owned(), v.into());
        }
    }
    Ok(out)
}
