//! The directory of outside services (DESIGN.md section 2): a subset of Open
//! Referral HSDS. Admins create and change entries (or import them); every
//! signed-in role reads and searches them. Directory entries hold no personal
//! data, so allowed reads are not audited; writes and denials are.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::service::require;
use crate::{
    access::{self, Actor},
    audit::{Action, AuditContext, RequestMeta},
    domain::{Need, RecordKind, ServiceStatus, needs_json, word_patterns},
    error::{ServiceError, ServiceResult},
    paging::{Cursor, Order, Page, after, page, page_size},
    state::AppState,
    text::{ClientId, Line, Text},
    unit::{self, Claim, Made, stale, update_versioned},
};
use entities::service;

/// The fields of a directory entry, as the audit trail names them.
pub const FIELDS: &[&str] = &[
    "organization_name",
    "name",
    "categories",
    "phone",
    "email",
    "address",
    "eligibility",
    "languages",
    "status",
];

pub type Name = Line<200>;
pub type Phone = Line<50, 0>;
pub type Email = Line<254, 0>;
pub type Address = Text<500, 0>;
pub type Eligibility = Text<2000, 0>;
pub type Language = Line<35>;

/// A new entry. Blank optional texts mean none.
pub struct NewService {
    pub id: Option<ClientId>,
    pub organization_name: Name,
    pub name: Name,
    pub categories: Vec<Need>,
    pub phone: Option<Phone>,
    pub email: Option<Email>,
    pub address: Option<Address>,
    pub eligibility: Option<Eligibility>,
    pub languages: Vec<Language>,
    pub status: ServiceStatus,
}

/// A change; absent fields stay as they are, blank optional texts clear.
#[derive(Default)]
pub struct ServicePatch {
    pub organization_name: Option<Name>,
    pub name: Option<Name>,
    pub categories: Option<Vec<Need>>,
    pub phone: Option<Phone>,
    pub email: Option<Email>,
    pub address: Option<Address>,
    pub eligibility: Option<Eligibility>,
    pub languages: Option<Vec<Language>>,
    pub status: Option<ServiceStatus>,
}

impl ServicePatch {
    fn fields(&self) -> Vec<&'static str> {
        [
            self.organization_name.is_some(),
            self.name.is_some(),
            self.categories.is_some(),
            self.phone.is_some(),
            self.email.is_some(),
            self.address.is_some(),
            self.eligibility.is_some(),
            self.languages.is_some(),
            self.status.is_some(),
        ]
        .into_iter()
        .zip(FIELDS)
        .filter_map(|(present, f)| present.then_some(*f))
        .collect()
    }

    fn apply(self, m: &mut service::ActiveModel, current: &service::Model) {
        let org = self.organization_name.map(Line::into_inner);
        let name = self.name.map(Line::into_inner);
        if org.is_some() || name.is_some() {
            m.name_key = Set(search_key(
                org.as_deref().unwrap_or(&current.organization_name),
                name.as_deref().unwrap_or(&current.name),
            ));
        }
        if let Some(v) = org {
            m.organization_name = Set(v);
        }
        if let Some(v) = name {
            m.name = Set(v);
        }
        if let Some(v) = self.categories {
            m.categories = Set(needs_json(&v));
        }
        if let Some(v) = self.phone {
            m.phone = Set(v.into_present());
        }
        if let Some(v) = self.email {
            m.email = Set(v.into_present());
        }
        if let Some(v) = self.address {
            m.address = Set(v.into_present());
        }
        if let Some(v) = self.eligibility {
            m.eligibility = Set(v.into_present());
        }
        if let Some(v) = self.languages {
            m.languages = Set(languages_json(&v));
        }
        if let Some(v) = self.status {
            m.status = Set(v.as_str().to_owned());
        }
    }
}

/// Organization and service name in matching form, each word after a space,
/// so that `LIKE '% word%'` finds a word prefix.
fn search_key(organization: &str, name: &str) -> String {
    crate::domain::search_key(&format!("{organization} {name}"))
}

fn languages_json(languages: &[Language]) -> String {
    let v: Vec<&str> = languages.iter().map(Language::as_str).collect();
    serde_json::to_string(&v).unwrap_or_else(|_| "[]".into())
}

fn new_model(
    id: Uuid,
    hsds_id: Option<String>,
    s: NewService,
    by: Option<Uuid>,
    t: DateTime<Utc>,
) -> service::ActiveModel {
    service::ActiveModel {
        id: Set(id),
        hsds_id: Set(hsds_id),
        name_key: Set(search_key(s.organization_name.as_str(), s.name.as_str())),
        organization_name: Set(s.organization_name.into_inner()),
        name: Set(s.name.into_inner()),
        categories: Set(needs_json(&s.categories)),
        phone: Set(s.phone.and_then(Line::into_present)),
        email: Set(s.email.and_then(Line::into_present)),
        address: Set(s.address.and_then(Text::into_present)),
        eligibility: Set(s.eligibility.and_then(Text::into_present)),
        languages: Set(languages_json(&s.languages)),
        status: Set(s.status.as_str().to_owned()),
        version: Set(1),
        created_at: Set(t),
        updated_at: Set(t),
        created_by: Set(by),
    }
}

pub async fn create(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    input: NewService,
) -> ServiceResult<service::Model> {
    let ctx = AuditContext::for_actor(actor, meta);
    let asked = input.id.map(ClientId::uuid);
    let id = ClientId::or_new(input.id);
    let key = meta.idempotency.clone();
    let who = actor.clone();
    let made = state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(Action::Create, RecordKind::Service, asked);
                let decision = access::manage_directory(&who);
                if !decision.is_allowed() {
                    return Err(u.deny(decision, None, ServiceError::Forbidden));
                }
                if let Claim::Replay(first) =
                    u.claim(key.as_ref(), RecordKind::Service, id, 201).await?
                {
                    return Ok(u.replay(first));
                }
                u.allow(decision.rule(), None, FIELDS);
                u.edit_subject(|ev| ev.record_id = Some(id));
                if service::Entity::find_by_id(id)
                    .one(u.txn())
                    .await?
                    .is_some()
                {
                    return Err(ServiceError::Conflict("a service with this id exists"));
                }
                let m = new_model(id, None, input, Some(who.staff_id), u.now())
                    .insert(u.txn())
                    .await?;
                u.changed(RecordKind::Service, id);
                Ok(Made::New(m))
            })
        })
        .await?;
    match made {
        Made::New(m) => Ok(m),
        Made::Replay(first) => get(state, actor, meta, first).await,
    }
}

pub async fn get(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: Uuid,
) -> ServiceResult<service::Model> {
    let ctx = AuditContext::for_actor(actor, meta);
    require(
        state,
        &ctx,
        access::read_directory(actor),
        Action::Read,
        RecordKind::Service,
        Some(id),
    )
    .await?;
    service::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(ServiceError::NotFound)
}

pub async fn update(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: Uuid,
    if_match: Option<&str>,
    patch: ServicePatch,
) -> ServiceResult<service::Model> {
    let ctx = AuditContext::for_actor(actor, meta);
    let fields = patch.fields();
    let if_match = if_match.map(str::to_owned);
    let who = actor.clone();
    state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(Action::Update, RecordKind::Service, Some(id));
                let decision = access::manage_directory(&who);
                if !decision.is_allowed() {
                    return Err(u.deny(decision, None, ServiceError::Forbidden));
                }
                u.allow(decision.rule(), None, &fields);
                let version = unit::parse_if_match(if_match.as_deref())?;
                let current = service::Entity::find_by_id(id)
                    .one(u.txn())
                    .await?
                    .ok_or(ServiceError::NotFound)?;
                if current.version != version {
                    return Err(stale(current));
                }
                let mut m = current.clone().into_active_model();
                patch.apply(&mut m, &current);
                m.version = Set(version + 1);
                m.updated_at = Set(u.now());
                let Some(m) =
                    update_versioned(u.txn(), m, service::Column::Version, version).await?
                else {
                    return Err(unit::stale_now::<service::Entity>(u.txn(), id).await);
                };
                u.changed(RecordKind::Service, id);
                Ok(m)
            })
        })
        .await
}

/// What a search asks for.
#[derive(Default)]
pub struct ServiceQuery<'a> {
    /// Words that start words of the organization or service name.
    pub q: Option<&'a str>,
    pub category: Option<Need>,
    pub status: Option<ServiceStatus>,
    pub cursor: Option<&'a str>,
    pub limit: Option<u64>,
}

/// Entries matching every word of `q` and the category, active ones first.
pub async fn search(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    query: ServiceQuery<'_>,
) -> ServiceResult<Page<service::Model>> {
    let ctx = AuditContext::for_actor(actor, meta);
    require(
        state,
        &ctx,
        access::read_directory(actor),
        Action::Search,
        RecordKind::Service,
        None,
    )
    .await?;
    let cursor = Cursor::decode(query.cursor)?;
    let limit = page_size(query.limit);
    let mut select = service::Entity::find();
    if let Some(q) = query.q {
        match word_patterns(q) {
            // Nothing searchable: no name has it.
            None => select = select.filter(service::Column::Id.is_null()),
            Some(patterns) => {
                for p in patterns {
                    select = select.filter(service::Column::NameKey.like(p));
                }
            }
        }
    }
    if let Some(need) = query.category {
        select =
            select.filter(service::Column::Categories.contains(format!("\"{}\"", need.as_str())));
    }
    if let Some(status) = query.status {
        select = select.filter(service::Column::Status.eq(status.as_str()));
    }
    if let Some(c) = &cursor {
        select = select.filter(after(
            service::Column::Status,
            service::Column::Id,
            c.k.clone(),
            c.id,
            Order::Asc,
        ));
    }
    // `active` sorts before `inactive`.
    let rows = select
        .order_by_asc(service::Column::Status)
        .order_by_asc(service::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let (items, next_cursor) = page(rows, limit, |r| {
        Cursor {
            k: r.status.clone(),
            id: r.id,
        }
        .encode()
    });
    Ok(Page { items, next_cursor })
}

/// Whether an import made a new entry or updated the one with its HSDS id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imported {
    Created,
    Updated,
}

/// Creates or updates (by HSDS id) one imported entry, as the system, in one
/// audited unit.
/// Refuses (and audits the refusal) unless the caller manages the
/// directory; decided before anything of a request is read.
pub async fn require_manage(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
) -> ServiceResult<()> {
    let ctx = AuditContext::for_actor(actor, meta);
    require(
        state,
        &ctx,
        access::manage_directory(actor),
        Action::Create,
        RecordKind::Service,
        None,
    )
    .await
}

/// Creates or updates the entry with this HSDS id: at the console (no
/// actor, the rule `directory_import`) or for an admin's upload (audited as
/// theirs, under the directory rule).
pub async fn upsert_imported(
    state: &AppState,
    actor: Option<&Actor>,
    meta: &RequestMeta,
    hsds_id: String,
    input: NewService,
) -> ServiceResult<Imported> {
    let (ctx, rule) = match actor {
        Some(a) => (
            AuditContext::for_actor(a, meta),
            access::manage_directory(a).rule(),
        ),
        None => (AuditContext::anonymous(meta), "directory_import"),
    };
    state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                let existing = service::Entity::find()
                    .filter(service::Column::HsdsId.eq(hsds_id.clone()))
                    .one(u.txn())
                    .await?;
                let Some(current) = existing else {
                    let id = Uuid::now_v7();
                    u.begin(Action::Create, RecordKind::Service, Some(id));
                    u.allow(rule, None, FIELDS);
                    new_model(id, Some(hsds_id), input, None, u.now())
                        .insert(u.txn())
                        .await?;
                    u.changed(RecordKind::Service, id);
                    return Ok(Imported::Created);
                };
                let id = current.id;
                u.begin(Action::Update, RecordKind::Service, Some(id));
                u.allow(rule, None, FIELDS);
                let patch = ServicePatch {
                    organization_name: Some(input.organization_name),
                    name: Some(input.name),
                    categories: Some(input.categories),
                    phone: input.phone.or_else(|| Phone::parse("").ok()),
                    email: input.email.or_else(|| Email::parse("").ok()),
                    address: input.address.or_else(|| Address::parse("").ok()),
                    eligibility: input.eligibility.or_else(|| Eligibility::parse("").ok()),
                    languages: Some(input.languages),
                    status: Some(input.status),
                };
                let version = current.version;
                let mut m = current.clone().into_active_model();
                patch.apply(&mut m, &current);
                m.version = Set(version + 1);
                m.updated_at = Set(u.now());
                if update_versioned(u.txn(), m, service::Column::Version, version)
                    .await?
                    .is_none()
                {
                    return Err(unit::stale_now::<service::Entity>(u.txn(), id).await);
                }
                u.changed(RecordKind::Service, id);
                Ok(Imported::Updated)
            })
        })
        .await
}
