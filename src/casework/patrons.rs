//! Patrons: the people served. Minimal by design.

use chrono::{Datelike, NaiveDate};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, ExprTrait, Query},
};
use uuid::Uuid;

use super::scope;
use crate::{
    access::{self, Actor, View},
    audit::{Action, AuditContext, Outcome, RequestMeta},
    domain::{ContactPreference, Issues, PatronId, RecordKind, name_key, name_keys},
    error::{ServiceError, ServiceResult},
    paging::{Cursor, Page, page, page_size},
    state::AppState,
    text::{ClientId, Line},
    unit::{self, Claim, Made, stale, stale_now, update_versioned},
};
use entities::{branch, patron, patron_name_key};

pub const FIELDS: &[&str] = &[
    "id",
    "preferred_name",
    "legal_name",
    "birth_year",
    "birth_date",
    "language",
    "contact_preference",
    "do_not_contact",
    "home_branch_id",
];

pub struct PatronInput {
    pub preferred_name: Option<Line<200>>,
    pub legal_name: Option<Line<200, 0>>,
    pub birth_year: Option<i32>,
    pub birth_date: Option<NaiveDate>,
    pub language: Option<Line<35, 0>>,
    pub contact_preference: Option<ContactPreference>,
    pub do_not_contact: Option<bool>,
    pub home_branch_id: Option<Uuid>,
}

struct Checked {
    preferred_name: Option<String>,
    legal_name: Option<String>,
    birth_year: Option<i32>,
    birth_date: Option<NaiveDate>,
    language: Option<String>,
}

/// Checks the input; birth dates against `today` (the service's clock).
fn check(issues: &mut Issues, input: &PatronInput, today: NaiveDate) -> Checked {
    let preferred_name = input.preferred_name.clone().map(Line::into_inner);
    let legal_name = input.legal_name.clone().and_then(Line::into_present);
    let this_year = today.year();
    let mut birth_year = input.birth_year;
    if let Some(y) = birth_year
        && !(1900..=this_year).contains(&y)
    {
        issues.add(
            "birth_year",
            format!("must be between 1900 and {this_year}"),
        );
    }
    if let Some(d) = input.birth_date {
        if d > today || d.year() < 1900 {
            issues.add("birth_date", "must be a past date after 1900");
        }
        match birth_year {
            Some(y) if y != d.year() => issues.add("birth_year", "must match birth_date"),
            _ => birth_year = Some(d.year()),
        }
    }
    let language = input.language.clone().and_then(Line::into_present);
    Checked {
        preferred_name,
        legal_name,
        birth_year,
        birth_date: input.birth_date,
        language,
    }
}

async fn write_name_keys(
    txn: &impl ConnectionTrait,
    id: Uuid,
    preferred: &str,
    legal: Option<&str>,
) -> ServiceResult<()> {
    patron_name_key::Entity::delete_many()
        .filter(patron_name_key::Column::PatronId.eq(id))
        .exec(txn)
        .await?;
    let mut keys = name_keys(preferred);
    if let Some(l) = legal {
        keys.extend(name_keys(l));
    }
    keys.sort();
    keys.dedup();
    keys.retain(|k| k.chars().count() <= 200);
    if !keys.is_empty() {
        patron_name_key::Entity::insert_many(keys.into_iter().map(|key| {
            patron_name_key::ActiveModel {
                key: Set(key),
                patron_id: Set(id),
            }
        }))
        .exec(txn)
        .await?;
    }
    Ok(())
}

pub struct Created {
    pub patron: patron::Model,
    /// Patrons the caller can see with the same name and birth year.
    pub possible_duplicates: Vec<Uuid>,
}

fn fields(_: View) -> &'static [&'static str] {
    FIELDS
}

pub async fn create(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: Option<ClientId>,
    input: PatronInput,
) -> ServiceResult<Created> {
    let ctx = AuditContext::for_actor(actor, meta);
    let mut issues = Issues::default();
    let id = ClientId::or_new(id);
    let c = check(&mut issues, &input, state.clock.now().date_naive());
    if c.preferred_name.is_none() {
        issues.add("preferred_name", "is required");
    }
    if input.home_branch_id.is_none() {
        issues.add("home_branch_id", "is required");
    }
    issues.finish()?;
    let home_branch = input.home_branch_id.unwrap_or_default();
    let preferred = c.preferred_name.clone().unwrap_or_default();
    let contact_preference = input.contact_preference.map(|p| p.as_str().to_owned());
    let do_not_contact = input.do_not_contact.unwrap_or(false);
    let key = meta.idempotency.clone();
    let who = actor.clone();
    let made = state
        .recorder
        .run(ctx.clone(), move |u| {
            Box::pin(async move {
                u.begin(Action::Create, RecordKind::Patron, Some(id));
                let decision = access::create_patron(&who, home_branch);
                if !decision.is_allowed() {
                    return Err(u.deny(decision, None, ServiceError::Forbidden));
                }
                if let Claim::Replay(first) =
                    u.claim(key.as_ref(), RecordKind::Patron, id, 201).await?
                {
                    return Ok(u.replay(first));
                }
                u.allow(decision.rule(), Some(id), FIELDS);
                if patron::Entity::find_by_id(id).one(u.txn()).await?.is_some() {
                    return Err(ServiceError::Conflict("a record with this id exists"));
                }
                if branch::Entity::find_by_id(home_branch)
                    .one(u.txn())
                    .await?
                    .is_none()
                {
                    return Err(ServiceError::invalid("home_branch_id", "no such branch"));
                }
                let t = u.now();
                let m = patron::ActiveModel {
                    id: Set(id),
                    preferred_name: Set(preferred.clone()),
                    legal_name: Set(c.legal_name.clone()),
                    birth_year: Set(c.birth_year),
                    birth_date: Set(c.birth_date),
                    language: Set(c.language),
                    contact_preference: Set(contact_preference),
                    do_not_contact: Set(do_not_contact),
                    home_branch_id: Set(home_branch),
                    version: Set(1),
                    created_by: Set(who.staff_id),
                    created_at: Set(t),
                    updated_at: Set(t),
                }
                .insert(u.txn())
                .await?;
                write_name_keys(u.txn(), id, &preferred, c.legal_name.as_deref()).await?;
                u.changed(RecordKind::Patron, id);
                Ok(Made::New(m))
            })
        })
        .await?;
    let patron = match made {
        Made::New(m) => m,
        // A replay answers with the record as a read shows it now: a caller
        // who may no longer see it gets 404.
        Made::Replay(first) => get(state, actor, meta, PatronId::new(first)).await?,
    };
    let possible_duplicates = duplicates(state, &ctx, actor, &patron).await?;
    Ok(Created {
        patron,
        possible_duplicates,
    })
}

/// Visible patrons besides `p` whose full preferred or legal name matches
/// its, born the same year. Flagged, never merged; audited like a search
/// that returned them.
async fn duplicates(
    state: &AppState,
    ctx: &AuditContext,
    actor: &Actor,
    p: &patron::Model,
) -> ServiceResult<Vec<Uuid>> {
    let Some(year) = p.birth_year else {
        return Ok(vec![]);
    };
    let mut keys = vec![name_key(&p.preferred_name)];
    if let Some(l) = &p.legal_name {
        keys.push(name_key(l));
    }
    let matching = Query::select()
        .column(patron_name_key::Column::PatronId)
        .from(patron_name_key::Entity)
        .and_where(Expr::col(patron_name_key::Column::Key).is_in(keys))
        .to_owned();
    let scope = access::patron_scope(actor);
    let found: Vec<Uuid> = patron::Entity::find()
        .select_only()
        .column(patron::Column::Id)
        .filter(Expr::col((patron::Entity, patron::Column::Id)).in_subquery(matching))
        .filter(patron::Column::BirthYear.eq(year))
        .filter(patron::Column::Id.ne(p.id))
        .filter(scope::condition(RecordKind::Patron, &scope, actor))
        .limit(20)
        .into_tuple::<Uuid>()
        .all(&state.db)
        .await?;
    if !found.is_empty() {
        let ev = ctx
            .event(
                Action::Search,
                Outcome::Allowed,
                "possible_duplicates_in_scope",
            )
            .record_type(RecordKind::Patron)
            .query(r#"{"possible_duplicates_of":"new patron"}"#)
            .patrons(found.iter().copied())
            .results(found.clone())
            .fields(&["id"]);
        state.recorder.record(vec![ev]).await?;
    }
    Ok(found)
}

/// One patron, if the caller may see it; a hidden one is not found.
pub async fn get(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: PatronId,
) -> ServiceResult<patron::Model> {
    let id = id.uuid();
    let ctx = AuditContext::for_actor(actor, meta);
    let scope = access::patron_scope(actor);
    let (p, _) = unit::read_one(
        state,
        &ctx,
        &scope,
        Action::Read,
        RecordKind::Patron,
        id,
        fields,
        || scope::load_patron(&state.db, actor, id),
    )
    .await?;
    Ok(p)
}

pub async fn update(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: PatronId,
    if_match: Option<&str>,
    input: PatronInput,
) -> ServiceResult<patron::Model> {
    let id = id.uuid();
    let ctx = AuditContext::for_actor(actor, meta);
    let version = unit::parse_if_match(if_match)?;
    let mut issues = Issues::default();
    let c = check(&mut issues, &input, state.clock.now().date_naive());
    issues.finish()?;
    let mut changed = Vec::new();
    for (present, name) in [
        (c.preferred_name.is_some(), "preferred_name"),
        (c.legal_name.is_some(), "legal_name"),
        (c.birth_year.is_some(), "birth_year"),
        (c.birth_date.is_some(), "birth_date"),
        (c.language.is_some(), "language"),
        (input.contact_preference.is_some(), "contact_preference"),
        (input.do_not_contact.is_some(), "do_not_contact"),
        (input.home_branch_id.is_some(), "home_branch_id"),
    ] {
        if present {
            changed.push(name);
        }
    }
    let who = actor.clone();
    state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(Action::Update, RecordKind::Patron, Some(id));
                let new_home = input.home_branch_id;
                let scope = access::patron_scope(&who);
                let loader = who.clone();
                let mut refused = None;
                let ch = scope::for_change(
                    u,
                    &scope,
                    move |txn| Box::pin(async move { scope::load_patron(txn, &loader, id).await }),
                    |_, f| {
                        let d = access::update_patron(&who, f, new_home);
                        refused = Some(d);
                        d
                    },
                )
                .await
                .map_err(|e| match (e, refused) {
                    // The policy refused the move itself: name the field.
                    (ServiceError::Forbidden, Some(d)) if d == access::PATRON_MOVE_REFUSED => {
                        ServiceError::invalid("home_branch_id", "must be one of your branches")
                    }
                    (e, _) => e,
                })?;
                u.allow(ch.rule, Some(id), &changed);
                let current = ch.record;
                if current.version != version {
                    return Err(stale(current));
                }
                let names_changed = c.preferred_name.is_some() || c.legal_name.is_some();
                let mut m = current.into_active_model();
                if let Some(v) = c.preferred_name {
                    m.preferred_name = Set(v);
                }
                if let Some(v) = c.legal_name {
                    m.legal_name = Set(Some(v));
                }
                if let Some(v) = c.birth_year {
                    m.birth_year = Set(Some(v));
                }
                if let Some(v) = c.birth_date {
                    m.birth_date = Set(Some(v));
                }
                if let Some(v) = c.language {
                    m.language = Set(Some(v));
                }
                if let Some(v) = input.contact_preference {
                    m.contact_preference = Set(Some(v.as_str().to_owned()));
                }
                if let Some(v) = input.do_not_contact {
                    m.do_not_contact = Set(v);
                }
                if let Some(v) = new_home {
                    m.home_branch_id = Set(v);
                }
                m.version = Set(version + 1);
                m.updated_at = Set(u.now());
                let Some(m) =
                    update_versioned(u.txn(), m, patron::Column::Version, version).await?
                else {
                    return Err(stale_now::<patron::Entity>(u.txn(), id).await);
                };
                if names_changed {
                    write_name_keys(u.txn(), id, &m.preferred_name, m.legal_name.as_deref())
                        .await?;
                }
                u.changed(RecordKind::Patron, id);
                Ok(m)
            })
        })
        .await
}

/// Patrons the caller may see, by name or alias prefix (case and accents
/// ignored) when `q` is given, in creation order.
pub async fn search(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    q: Option<&str>,
    cursor: Option<&str>,
    limit: Option<u64>,
) -> ServiceResult<Page<patron::Model>> {
    let ctx = AuditContext::for_actor(actor, meta);
    let scope = access::patron_scope(actor);
    unit::search_scope(state, &ctx, &scope, RecordKind::Patron).await?;
    let cursor = Cursor::decode(cursor)?;
    let limit = page_size(limit);
    let key = q.map(name_key);
    let mut select =
        patron::Entity::find().filter(scope::condition(RecordKind::Patron, &scope, actor));
    if key.as_deref() == Some("") {
        // Nothing searchable (only marks the matching form drops): no
        // name starts with it.
        select = select.filter(patron::Column::Id.is_null());
    } else if let Some(k) = &key {
        // A prefix as an index range: key >= k and key < k + U+10FFFF.
        let upper = format!("{k}\u{10FFFF}");
        let matching = Query::select()
            .distinct()
            .column(patron_name_key::Column::PatronId)
            .from(patron_name_key::Entity)
            .and_where(Expr::col(patron_name_key::Column::Key).gte(k.clone()))
            .and_where(Expr::col(patron_name_key::Column::Key).lt(upper))
            .to_owned();
        select =
            select.filter(Expr::col((patron::Entity, patron::Column::Id)).in_subquery(matching));
    }
    if let Some(c) = &cursor {
        select = select.filter(patron::Column::Id.gt(c.id));
    }
    let rows = select
        .order_by_asc(patron::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let (rows, next_cursor) = page(rows, limit, |r| Cursor::of_id(r.id));
    let ev = ctx
        .event(Action::Search, Outcome::Allowed, "patrons_in_scope")
        .record_type(RecordKind::Patron)
        .patrons(rows.iter().map(|r| r.id))
        // Never the words themselves: auditors must not browse names.
        .query(
            serde_json::json!({
                "q_words": q.map(|q| state.keys.search_fingerprints(q)),
            })
            .to_string(),
        )
        .results(rows.iter().map(|r| r.id).collect())
        .fields(FIELDS);
    state.recorder.record(vec![ev]).await?;
    Ok(Page {
        items: rows,
        next_cursor,
    })
}
