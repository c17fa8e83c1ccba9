//! The directory: branches and staff accounts. Admins change it; every role
//! reads it. Every change is audited with the names of the fields it touched.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::{
    access::{self, Actor, Decision},
    audit::{Action, AuditContext, Outcome, RequestMeta},
    auth,
    domain::{Issues, RecordKind, Role},
    error::{ServiceError, ServiceResult},
    state::AppState,
    text::{BranchCode, ClientId, Line, NewPassword, Username},
    unit::{self, Claim, Made, stale, update_versioned},
};
use entities::{branch, device_session, staff, staff_branch};

/// A staff account as the directory shows it (never the password hash).
#[derive(Debug, Clone)]
pub struct StaffView {
    pub account: staff::Model,
    pub branches: Vec<Uuid>,
}

/// Refuses `decision` if it denies, after recording the denial.
pub(super) async fn require(
    state: &AppState,
    ctx: &AuditContext,
    decision: Decision,
    action: Action,
    record_type: crate::domain::RecordKind,
    id: Option<Uuid>,
) -> ServiceResult<()> {
    if decision.is_allowed() {
        return Ok(());
    }
    let mut ev = ctx
        .event(action, Outcome::Denied, decision.rule())
        .record_type(record_type);
    ev.record_id = id;
    state.recorder.record(vec![ev]).await?;
    Err(ServiceError::Forbidden)
}

// ---- branches --------------------------------------------------------------

pub struct NewBranch {
    pub id: Option<ClientId>,
    pub code: BranchCode,
    pub name: Line<200>,
}

pub async fn create_branch(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    input: NewBranch,
) -> ServiceResult<branch::Model> {
    let ctx = AuditContext::for_actor(actor, meta);
    let id = ClientId::or_new(input.id);
    let code = input.code.into_inner();
    let name = input.name.into_inner();
    let key = meta.idempotency.clone();
    let who = actor.clone();
    let made = state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(
                    Action::Create,
                    RecordKind::Branch,
                    input.id.map(ClientId::uuid),
                );
                let decision = access::manage_directory(&who);
                if !decision.is_allowed() {
                    return Err(u.deny(decision, None, ServiceError::Forbidden));
                }
                if let Claim::Replay(first) =
                    u.claim(key.as_ref(), RecordKind::Branch, id, 201).await?
                {
                    return Ok(u.replay(first));
                }
                u.allow(decision.rule(), None, &["id", "code", "name"]);
                u.edit_subject(|ev| ev.record_id = Some(id));
                if branch::Entity::find_by_id(id).one(u.txn()).await?.is_some() {
                    return Err(ServiceError::Conflict("a branch with this id exists"));
                }
                if branch::Entity::find()
                    .filter(branch::Column::Code.eq(code.clone()))
                    .one(u.txn())
                    .await?
                    .is_some()
                {
                    return Err(ServiceError::Conflict("a branch with this code exists"));
                }
                let t = u.now();
                let m = branch::ActiveModel {
                    id: Set(id),
                    code: Set(code),
                    name: Set(name),
                    version: Set(1),
                    created_at: Set(t),
                    updated_at: Set(t),
                    created_by: Set(Some(who.staff_id)),
                }
                .insert(u.txn())
                .await?;
                u.changed(RecordKind::Branch, id);
                Ok(Made::New(m))
            })
        })
        .await?;
    match made {
        Made::New(m) => Ok(m),
        Made::Replay(first) => get_branch(state, actor, meta, first).await,
    }
}

pub async fn list_branches(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
) -> ServiceResult<Vec<branch::Model>> {
    let ctx = AuditContext::for_actor(actor, meta);
    require(
        state,
        &ctx,
        access::read_directory(actor),
        Action::Search,
        RecordKind::Branch,
        None,
    )
    .await?;
    Ok(branch::Entity::find()
        .order_by_asc(branch::Column::Code)
        .all(&state.db)
        .await?)
}

pub async fn get_branch(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: Uuid,
) -> ServiceResult<branch::Model> {
    let ctx = AuditContext::for_actor(actor, meta);
    require(
        state,
        &ctx,
        access::read_directory(actor),
        Action::Read,
        RecordKind::Branch,
        Some(id),
    )
    .await?;
    branch::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(ServiceError::NotFound)
}

pub struct BranchPatch {
    pub code: Option<BranchCode>,
    pub name: Option<Line<200>>,
}

pub async fn update_branch(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: Uuid,
    if_match: Option<&str>,
    patch: BranchPatch,
) -> ServiceResult<branch::Model> {
    let ctx = AuditContext::for_actor(actor, meta);
    let code = patch.code.map(BranchCode::into_inner);
    let name = patch.name.map(Line::into_inner);
    let mut fields = Vec::new();
    if code.is_some() {
        fields.push("code");
    }
    if name.is_some() {
        fields.push("name");
    }
    let if_match = if_match.map(str::to_owned);
    let who = actor.clone();
    state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(Action::Update, RecordKind::Branch, Some(id));
                let decision = access::manage_directory(&who);
                if !decision.is_allowed() {
                    return Err(u.deny(decision, None, ServiceError::Forbidden));
                }
                u.allow(decision.rule(), None, &fields);
                let version = unit::parse_if_match(if_match.as_deref())?;
                let current = branch::Entity::find_by_id(id)
                    .one(u.txn())
                    .await?
                    .ok_or(ServiceError::NotFound)?;
                if current.version != version {
                    return Err(stale(current));
                }
                if let Some(code) = &code {
                    let clash = branch::Entity::find()
                        .filter(branch::Column::Code.eq(code.clone()))
                        .filter(branch::Column::Id.ne(id))
                        .one(u.txn())
                        .await?;
                    if clash.is_some() {
                        return Err(ServiceError::Conflict("a branch with this code exists"));
                    }
                }
                let mut m = current.into_active_model();
                if let Some(code) = code {
                    m.code = Set(code);
                }
                if let Some(name) = name {
                    m.name = Set(name);
                }
                m.version = Set(version + 1);
                m.updated_at = Set(u.now());
                let Some(m) =
                    update_versioned(u.txn(), m, branch::Column::Version, version).await?
                else {
                    return Err(unit::stale_now::<branch::Entity>(u.txn(), id).await);
                };
                u.changed(RecordKind::Branch, id);
                Ok(m)
            })
        })
        .await
}

// ---- staff -----------------------------------------------------------------

pub struct NewStaff {
    pub id: Option<ClientId>,
    pub username: Username,
    pub display_name: Line<200>,
    pub role: Role,
    pub branches: Vec<Uuid>,
    pub password: NewPassword,
}

async fn check_branches(txn: &impl ConnectionTrait, branches: &[Uuid]) -> ServiceResult<()> {
    let found = branch::Entity::find()
        .filter(branch::Column::Id.is_in(branches.to_vec()))
        .count(txn)
        .await?;
    if found as usize != branches.len() {
        return Err(ServiceError::invalid("branches", "every branch must exist"));
    }
    Ok(())
}

async fn set_branches(
    txn: &impl ConnectionTrait,
    staff_id: Uuid,
    branches: &[Uuid],
) -> ServiceResult<()> {
    staff_branch::Entity::delete_many()
        .filter(staff_branch::Column::StaffId.eq(staff_id))
        .exec(txn)
        .await?;
    if !branches.is_empty() {
        staff_branch::Entity::insert_many(branches.iter().map(|b| staff_branch::ActiveModel {
            staff_id: Set(staff_id),
            branch_id: Set(*b),
        }))
        .exec(txn)
        .await?;
    }
    Ok(())
}

fn dedup(mut v: Vec<Uuid>) -> Vec<Uuid> {
    v.sort();
    v.dedup();
    v
}

/// Creates an account. Used by the API (as an admin) and by the command line
/// and first start (as the system: `actor` is `None`).
pub async fn create_staff(
    state: &AppState,
    actor: Option<&Actor>,
    meta: &RequestMeta,
    input: NewStaff,
) -> ServiceResult<StaffView> {
    let ctx = match actor {
        Some(a) => AuditContext::for_actor(a, meta),
        None => AuditContext::anonymous(meta),
    };
    let decision = match actor {
        Some(a) => access::manage_directory(a),
        None => Decision::Allow("system"),
    };
    let id = ClientId::or_new(input.id);
    let username = input.username.into_inner();
    let display_name = input.display_name.into_inner();
    // The policy first: nobody else's password is hashed for a refused caller.
    crate::unit::allowed(state, &ctx, decision, Action::Create, RecordKind::Staff).await?;
    let branches = dedup(input.branches);
    let password_hash = crate::credentials::hash_password(input.password.into_inner())
        .await
        .map_err(|e| ServiceError::unexpected("password hash", e))?;
    let created_by = actor.map(|a| a.staff_id);
    let role = input.role;
    let key = meta.idempotency.clone();
    let made = state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(Action::Create, RecordKind::Staff, Some(id));
                if let Claim::Replay(first) =
                    u.claim(key.as_ref(), RecordKind::Staff, id, 201).await?
                {
                    return Ok(u.replay(first));
                }
                u.allow(
                    decision.rule(),
                    None,
                    &[
                        "id",
                        "username",
                        "display_name",
                        "role",
                        "branches",
                        "password",
                    ],
                );
                if staff::Entity::find_by_id(id).one(u.txn()).await?.is_some() {
                    return Err(ServiceError::Conflict("an account with this id exists"));
                }
                let taken = staff::Entity::find()
                    .filter(staff::Column::Username.eq(username.clone()))
                    .one(u.txn())
                    .await?;
                if taken.is_some() {
                    return Err(ServiceError::Conflict("this username is taken"));
                }
                check_branches(u.txn(), &branches).await?;
                let t = u.now();
                let account = staff::ActiveModel {
                    id: Set(id),
                    username: Set(username),
                    display_name: Set(display_name),
                    role: Set(role.as_str().to_owned()),
                    active: Set(true),
                    password_hash: Set(password_hash),
                    // A password an admin chose works once: the account
                    // chooses its own at first sign-in. (`casework staff
                    // add` and the first start's admin are the operator's
                    // own, at the console.)
                    must_change_password: Set(created_by.is_some()),
                    version: Set(1),
                    created_at: Set(t),
                    updated_at: Set(t),
                    created_by: Set(created_by),
                    sso_subject: Set(None),
                    sso_email: Set(None),
                    password_sign_in: Set(true),
                }
                .insert(u.txn())
                .await?;
                set_branches(u.txn(), id, &branches).await?;
                u.changed(RecordKind::Staff, id);
                Ok(Made::New(StaffView { account, branches }))
            })
        })
        .await?;
    match (made, actor) {
        (Made::New(v), _) => Ok(v),
        (Made::Replay(first), Some(a)) => get_staff(state, a, meta, first).await,
        (Made::Replay(_), None) => Err(ServiceError::NotFound),
    }
}

async fn branches_of(db: &impl ConnectionTrait, ids: &[Uuid]) -> ServiceResult<Vec<(Uuid, Uuid)>> {
    Ok(staff_branch::Entity::find()
        .filter(staff_branch::Column::StaffId.is_in(ids.to_vec()))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.staff_id, r.branch_id))
        .collect())
}

async fn view(db: &impl ConnectionTrait, account: staff::Model) -> ServiceResult<StaffView> {
    let mut branches: Vec<Uuid> = branches_of(db, &[account.id])
        .await?
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    branches.sort();
    Ok(StaffView { account, branches })
}

/// Accounts ordered by id (UUIDv7: creation order), `limit` after `cursor`.
pub async fn list_staff(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    cursor: Option<&str>,
    limit: Option<u64>,
) -> ServiceResult<crate::paging::Page<StaffView>> {
    let ctx = AuditContext::for_actor(actor, meta);
    require(
        state,
        &ctx,
        access::read_directory(actor),
        Action::Search,
        RecordKind::Staff,
        None,
    )
    .await?;
    let cursor = crate::paging::Cursor::decode(cursor)?;
    let limit = crate::paging::page_size(limit);
    let mut q = staff::Entity::find().order_by_asc(staff::Column::Id);
    if let Some(after) = cursor {
        q = q.filter(staff::Column::Id.gt(after.id));
    }
    let rows = q.limit(limit + 1).all(&state.db).await?;
    let (rows, next_cursor) = crate::paging::page(rows, limit, |r| {
        crate::paging::Cursor {
            k: String::new(),
            id: r.id,
        }
        .encode()
    });
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let links = branches_of(&state.db, &ids).await?;
    let items = rows
        .into_iter()
        .map(|account| {
            let mut branches: Vec<Uuid> = links
                .iter()
                .filter(|(s, _)| *s == account.id)
                .map(|(_, b)| *b)
                .collect();
            branches.sort();
            StaffView { account, branches }
        })
        .collect();
    Ok(crate::paging::Page { items, next_cursor })
}

pub async fn get_staff(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: Uuid,
) -> ServiceResult<StaffView> {
    let ctx = AuditContext::for_actor(actor, meta);
    require(
        state,
        &ctx,
        access::read_directory(actor),
        Action::Read,
        RecordKind::Staff,
        Some(id),
    )
    .await?;
    let account = staff::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    view(&state.db, account).await
}

#[derive(Default)]
pub struct StaffPatch {
    pub display_name: Option<Line<200>>,
    pub role: Option<Role>,
    pub branches: Option<Vec<Uuid>>,
    pub active: Option<bool>,
    pub password: Option<NewPassword>,
    /// `Some(None)` unlinks the account from single sign-on.
    pub sso_subject: Option<Option<String>>,
    /// `Some(None)` clears the email waiting to link the account.
    pub sso_email: Option<Option<String>>,
    pub password_sign_in: Option<bool>,
}

/// Changes an account. Deactivating it, changing its role, or setting its
/// password ends every session it has in the same transaction; the next
/// request of each answers `401 session-ended` with the reason.
pub async fn update_staff(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: Uuid,
    if_match: Option<&str>,
    patch: StaffPatch,
) -> ServiceResult<StaffView> {
    let ctx = AuditContext::for_actor(actor, meta);
    let decision = access::manage_directory(actor);
    require(
        state,
        &ctx,
        decision,
        Action::Update,
        RecordKind::Staff,
        Some(id),
    )
    .await?;
    let version = unit::parse_if_match(if_match)?;
    let mut issues = Issues::default();
    let display_name = patch.display_name.clone().map(Line::into_inner);
    if patch.active == Some(false) && id == actor.staff_id {
        issues.add("active", "an admin cannot deactivate their own account");
    }
    // Nobody grants themselves more reach: another admin changes an admin.
    if id == actor.staff_id {
        if patch.role.is_some() {
            issues.add("role", "an admin cannot change their own role");
        }
        if patch.branches.is_some() {
            issues.add("branches", "an admin cannot change their own branches");
        }
    }
    let (sso_subject, sso_email) = (patch.sso_subject, patch.sso_email);
    issues.finish()?;
    let password_sign_in = patch.password_sign_in;
    let password_hash = match patch.password {
        Some(p) => Some(
            crate::credentials::hash_password(p.into_inner())
                .await
                .map_err(|e| ServiceError::unexpected("password hash", e))?,
        ),
        None => None,
    };
    let branches = patch.branches.map(dedup);
    let mut fields = Vec::new();
    for (present, name) in [
        (display_name.is_some(), "display_name"),
        (patch.role.is_some(), "role"),
        (branches.is_some(), "branches"),
        (patch.active.is_some(), "active"),
        (password_hash.is_some(), "password"),
        (sso_subject.is_some(), "sso_subject"),
        (sso_email.is_some(), "sso_email"),
        (password_sign_in.is_some(), "password_sign_in"),
    ] {
        if present {
            fields.push(name);
        }
    }
    let role = patch.role;
    let active = patch.active;
    // Why the account's sessions end, if they do: a deactivation, a new
    // role (checked against the stored one below), a password set by an
    // admin or by the account itself.
    let ends_for = if active == Some(false) {
        Some(auth::service::REVOKED_DEACTIVATED)
    } else if password_hash.is_some() {
        Some(auth::service::REVOKED_PASSWORD_RESET)
    } else {
        None
    };
    let own_account = id == actor.staff_id;
    // Flagged for auditors: an admin chose a password for someone else.
    let reset_event = ctx.event(
        Action::Update,
        Outcome::Allowed,
        "admin_password_reset_one_time",
    );
    let result = state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(Action::Update, RecordKind::Staff, Some(id));
                u.allow(decision.rule(), None, &fields);
                let current = staff::Entity::find_by_id(id)
                    .one(u.txn())
                    .await?
                    .ok_or(ServiceError::NotFound)?;
                if current.version != version {
                    return Err(stale(view(u.txn(), current).await?));
                }
                if let Some(b) = &branches {
                    check_branches(u.txn(), b).await?;
                    set_branches(u.txn(), id, b).await?;
                }
                // Passwords off only for an account that can sign in
                // another way: linked, or waiting to be by its email.
                let linked = match &sso_subject {
                    Some(s) => s.is_some(),
                    None => current.sso_subject.is_some(),
                } || match &sso_email {
                    Some(e) => e.is_some(),
                    None => current.sso_email.is_some(),
                };
                let password_on = password_sign_in.unwrap_or(current.password_sign_in);
                if !password_on && !linked {
                    return Err(ServiceError::invalid(
                        if password_sign_in.is_some() {
                            "password_sign_in"
                        } else {
                            "sso_subject"
                        },
                        "an account without its password must be linked to single sign-on \
                         (sso_subject or sso_email)",
                    ));
                }
                if let Some(Some(subject)) = &sso_subject {
                    let taken = staff::Entity::find()
                        .filter(staff::Column::SsoSubject.eq(subject.clone()))
                        .filter(staff::Column::Id.ne(id))
                        .one(u.txn())
                        .await?;
                    if taken.is_some() {
                        return Err(ServiceError::invalid(
                            "sso_subject",
                            "is linked to another account",
                        ));
                    }
                }
                if let Some(Some(email)) = &sso_email {
                    let taken = staff::Entity::find()
                        .filter(staff::Column::SsoEmail.eq(email.clone()))
                        .filter(staff::Column::Id.ne(id))
                        .one(u.txn())
                        .await?;
                    if taken.is_some() {
                        return Err(ServiceError::invalid(
                            "sso_email",
                            "waits to link another account",
                        ));
                    }
                }
                let role_changes = role.is_some_and(|r| r.as_str() != current.role);
                let ends_for =
                    ends_for.or(role_changes.then_some(auth::service::REVOKED_ROLE_CHANGED));
                let mut m = current.into_active_model();
                if let Some(v) = display_name {
                    m.display_name = Set(v);
                }
                if let Some(v) = role {
                    m.role = Set(v.as_str().to_owned());
                }
                if let Some(v) = active {
                    m.active = Set(v);
                }
                if let Some(v) = sso_subject {
                    m.sso_subject = Set(v);
                }
                if let Some(v) = sso_email {
                    m.sso_email = Set(v);
                }
                if let Some(v) = password_sign_in {
                    m.password_sign_in = Set(v);
                }
                if let Some(v) = password_hash {
                    m.password_hash = Set(v);
                    // A password set for someone else works once.
                    if !own_account {
                        m.must_change_password = Set(true);
                        u.on_success(
                            reset_event
                                .clone()
                                .record(RecordKind::Staff, id)
                                .fields(&["password"]),
                        );
                    }
                }
                m.version = Set(version + 1);
                m.updated_at = Set(u.now());
                let Some(account) =
                    update_versioned(u.txn(), m, staff::Column::Version, version).await?
                else {
                    return Err(match staff::Entity::find_by_id(id).one(u.txn()).await? {
                        Some(s) => stale(view(u.txn(), s).await?),
                        None => ServiceError::NotFound,
                    });
                };
                if let Some(reason) = ends_for {
                    let live = device_session::Entity::find()
                        .filter(device_session::Column::StaffId.eq(id))
                        .filter(device_session::Column::RevokedAt.is_null())
                        .all(u.txn())
                        .await?;
                    for s in live {
                        auth::service::revoke_session(u.txn(), s, reason, u.now()).await?;
                    }
                }
                u.changed(RecordKind::Staff, id);
                view(u.txn(), account).await
            })
        })
        .await?;
    // Role, branch and session changes must show at once on this instance.
    state.actor_cache.invalidate_all();
    Ok(result)
}

/// Whether any account exists (first start creates the admin when none does).
pub async fn any_staff(db: &impl ConnectionTrait) -> ServiceResult<bool> {
    Ok(staff::Entity::find().count(db).await? > 0)
}
