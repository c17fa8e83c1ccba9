//! Sign-in, token refresh, sign-out, brute-force slowing, and turning an
//! access token into the `Actor` of a request.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    access::Actor,
    audit::{Action, AuditContext, NewEvent, Outcome, RequestMeta},
    credentials::SESSION_IDLE_TTL,
    domain::RecordKind,
    domain::{Issues, Role},
    error::{ServiceError, ServiceResult},
    state::AppState,
    text::{Line, NewPassword},
};
use entities::{device_session, login_throttle, refresh_token, staff, staff_branch};

/// Failures in the window after which an account is slowed down.
const ACCOUNT_FAILURES: i32 = 5;
/// Failures in the window after which a client address is slowed down
/// (higher: a branch's staff may share one public address).
const ADDRESS_FAILURES: i32 = 20;
const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
const MAX_LOCK: Duration = Duration::from_secs(15 * 60);
/// The first lock; each further failure doubles it.
const FIRST_LOCK: Duration = Duration::from_secs(30);

pub struct LoginInput {
    pub username: Line<64>,
    pub password: String,
    pub device_name: Line<100>,
}

pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub session_id: Uuid,
    /// The password was set by an admin: choose one before anything else.
    pub password_change_required: bool,
}

/// The client address's counter alone (single sign-on, which has no
/// username to count against before the provider answers).
pub(crate) fn address_keys(meta: &RequestMeta) -> Vec<(String, i32)> {
    meta.client_addr
        .iter()
        .map(|addr| (format!("address:{addr}"), ADDRESS_FAILURES))
        .collect()
}

fn throttle_keys(username: &str, meta: &RequestMeta) -> Vec<(String, i32)> {
    let mut keys = vec![(format!("account:{username}"), ACCOUNT_FAILURES)];
    if let Some(addr) = &meta.client_addr {
        keys.push((format!("address:{addr}"), ADDRESS_FAILURES));
    }
    keys
}

/// Seconds until the longest lock on any of `keys` ends at `now`, if one is
/// in force.
pub(crate) async fn locked_for(
    db: &impl ConnectionTrait,
    keys: &[(String, i32)],
    now: DateTime<Utc>,
) -> ServiceResult<Option<u64>> {
    let names: Vec<String> = keys.iter().map(|(k, _)| k.clone()).collect();
    let rows = login_throttle::Entity::find()
        .filter(login_throttle::Column::Key.is_in(names))
        .all(db)
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| r.locked_until)
        .filter(|until| *until > now)
        .map(|until| (until - now).num_seconds().max(1) as u64)
        .max())
}

/// Counts one failure against each key, locking it once past its limit:
/// 30 seconds, doubling with each further failure, up to 15 minutes. Each
/// count is guarded, so two instances counting at once both count.
pub(crate) async fn count_failure(
    db: &impl ConnectionTrait,
    keys: &[(String, i32)],
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    for (key, limit) in keys {
        // A lost race (another instance inserted or changed the row first)
        // is counted again on what that instance left.
        let mut tries = 0;
        while !count_one(db, key, *limit, now).await? {
            tries += 1;
            if tries >= 5 {
                return Err(ServiceError::Conflict(
                    "too many sign-ins at once; try again",
                ));
            }
        }
    }
    Ok(())
}

/// One guarded count on one key at `now`: `false` when another writer got
/// there first.
async fn count_one(
    db: &impl ConnectionTrait,
    key: &str,
    limit: i32,
    now: DateTime<Utc>,
) -> ServiceResult<bool> {
    let existing = login_throttle::Entity::find_by_id(key.to_owned())
        .one(db)
        .await?;
    let (failures, first) = match &existing {
        Some(r) if (now - r.first_failure_at).to_std().unwrap_or_default() < FAILURE_WINDOW => {
            (r.failures + 1, r.first_failure_at)
        }
        _ => (1, now),
    };
    let locked_until = (failures >= limit).then(|| {
        let exp = (failures - limit).clamp(0, 20) as u32;
        let secs = FIRST_LOCK
            .as_secs()
            .saturating_mul(2u64.saturating_pow(exp))
            .min(MAX_LOCK.as_secs());
        now + chrono::Duration::seconds(secs as i64)
    });
    match existing {
        Some(old) => {
            let done = login_throttle::Entity::update_many()
                .col_expr(login_throttle::Column::Failures, Expr::value(failures))
                .col_expr(login_throttle::Column::FirstFailureAt, Expr::value(first))
                .col_expr(
                    login_throttle::Column::LockedUntil,
                    Expr::value(locked_until),
                )
                .filter(login_throttle::Column::Key.eq(key.to_owned()))
                .filter(login_throttle::Column::Failures.eq(old.failures))
                .filter(login_throttle::Column::FirstFailureAt.eq(old.first_failure_at))
                .exec(db)
                .await?;
            Ok(done.rows_affected == 1)
        }
        None => {
            let inserted = login_throttle::Entity::insert(login_throttle::ActiveModel {
                key: Set(key.to_owned()),
                failures: Set(failures),
                first_failure_at: Set(first),
                locked_until: Set(locked_until),
            })
            .on_conflict_do_nothing()
            .exec_without_returning(db)
            .await?;
            Ok(matches!(inserted, sea_orm::TryInsertResult::Inserted(n) if n > 0))
        }
    }
}

/// Takes back one counted attempt (a sign-in that succeeded).
async fn uncount(db: &impl ConnectionTrait, key: &str, limit: i32) -> ServiceResult<()> {
    if let Some(r) = login_throttle::Entity::find_by_id(key.to_owned())
        .one(db)
        .await?
    {
        let failures = (r.failures - 1).max(0);
        let mut m = r.into_active_model();
        m.failures = Set(failures);
        if failures < limit {
            m.locked_until = Set(None);
        }
        m.update(db).await?;
    }
    Ok(())
}

pub async fn login(
    state: &AppState,
    meta: &RequestMeta,
    input: LoginInput,
) -> ServiceResult<TokenPair> {
    let username = input.username.as_str().to_lowercase();
    let device_name = input.device_name.into_inner();

    let ctx = AuditContext::anonymous(meta);
    let keys = throttle_keys(&username, meta);
    // Decided and counted in one unit: each attempt is counted as a failure
    // before the password is checked (and taken back if it was right), so
    // parallel guesses cannot all pass before the lock applies.
    let throttle_keys = keys.clone();
    let throttled = ctx
        .event(Action::LoginFailed, Outcome::Denied, "throttled")
        .record_type(RecordKind::Staff);
    state
        .recorder
        .run(AuditContext::default(), move |u| {
            Box::pin(async move {
                if let Some(retry_after_secs) = locked_for(u.txn(), &throttle_keys, u.now()).await?
                {
                    u.record(throttled);
                    crate::telemetry::sign_in("password", "throttled");
                    return Err(ServiceError::Throttled { retry_after_secs });
                }
                count_failure(u.txn(), &throttle_keys, u.now()).await
            })
        })
        .await?;

    let account = staff::Entity::find()
        .filter(staff::Column::Username.eq(username.clone()))
        .one(&state.db)
        .await?;
    let password_ok = crate::credentials::verify_password(
        account.as_ref().map(|s| s.password_hash.clone()),
        input.password,
    )
    .await;
    let account = match account {
        Some(a) if password_ok && a.active && a.password_sign_in => a,
        other => {
            // Refused alike; the trail tells an account whose password
            // is switched off (single sign-on only) from a wrong password.
            let why = match &other {
                Some(a) if password_ok && a.active && !a.password_sign_in => "password_sign_in_off",
                _ => "bad_credentials",
            };
            let mut event = ctx.event(Action::LoginFailed, Outcome::Denied, why);
            event = match &other {
                Some(a) => event.record(RecordKind::Staff, a.id),
                None => event.record_type(RecordKind::Staff),
            };
            // The failure was counted before the check.
            state.recorder.record(vec![event]).await?;
            // The same answer whether the username exists, the password is
            // wrong or the account is deactivated.
            crate::telemetry::sign_in("password", "denied");
            return Err(ServiceError::Unauthorized("invalid credentials"));
        }
    };

    let session_id = Uuid::now_v7();
    let (refresh, refresh_hash) = crate::credentials::new_refresh_token();
    let staff_id = account.id;
    let must_change = account.must_change_password;
    let mut ctx = ctx;
    ctx.actor_id = Some(staff_id);
    ctx.actor_role = Role::parse(&account.role);
    ctx.session_id = Some(session_id);
    let event = ctx
        .event(Action::Login, Outcome::Allowed, "password")
        .record(RecordKind::Session, session_id);
    let account_key = keys[0].0.clone();
    let address_keys: Vec<(String, i32)> = keys.into_iter().skip(1).collect();
    state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.subject(event);
                let t = u.now();
                device_session::ActiveModel {
                    id: Set(session_id),
                    staff_id: Set(staff_id),
                    device_name: Set(device_name),
                    created_at: Set(t),
                    last_used_at: Set(t),
                    expires_at: Set(
                        t + chrono::Duration::from_std(SESSION_IDLE_TTL).unwrap_or_default()
                    ),
                    revoked_at: Set(None),
                    revoked_reason: Set(None),
                    signed_in_with: Set("password".to_owned()),
                }
                .insert(u.txn())
                .await?;
                insert_refresh(u.txn(), refresh_hash, session_id, t).await?;
                login_throttle::Entity::delete_by_id(account_key)
                    .exec(u.txn())
                    .await?;
                // The attempt was counted against the address too.
                for (key, limit) in address_keys {
                    uncount(u.txn(), &key, limit).await?;
                }
                Ok(())
            })
        })
        .await?;
    let access_token = state
        .keys
        .issue(staff_id, session_id, state.clock.now())
        .map_err(|e| ServiceError::unexpected("sign token", e))?;
    crate::telemetry::sign_in("password", "allowed");
    Ok(TokenPair {
        access_token,
        refresh_token: refresh,
        session_id,
        password_change_required: must_change,
    })
}

pub(crate) async fn insert_refresh(
    txn: &impl ConnectionTrait,
    hash: String,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    refresh_token::ActiveModel {
        token_hash: Set(hash),
        session_id: Set(session_id),
        issued_at: Set(now),
        used_at: Set(None),
    }
    .insert(txn)
    .await?;
    Ok(())
}

enum RefreshOutcome {
    Rotated {
        staff_id: Uuid,
        session_id: Uuid,
    },
    Refused,
    Reused {
        session_id: Uuid,
    },
    /// The session has ended (revoked, expired, account deactivated): why.
    Ended(Option<String>),
}

/// Rotates a refresh token. A token presented a second time means it was
/// copied: the whole session is revoked.
pub async fn refresh(
    state: &AppState,
    meta: &RequestMeta,
    token: String,
) -> ServiceResult<TokenPair> {
    let hash = crate::credentials::refresh_token_hash(&token);
    let (new_token, new_hash) = crate::credentials::new_refresh_token();
    let ctx = AuditContext::anonymous(meta);
    let outcome = state
        .recorder
        .run(AuditContext::default(), move |u| {
            Box::pin(async move {
                let (result, events) = async {
                    let (txn, now) = (u.txn(), u.now());
                    match rotate(txn, &ctx, hash, new_hash, now).await {
                        Ok((outcome, events)) => (Ok(outcome), events),
                        Err(e) => (Err(e), vec![]),
                    }
                }
                .await;
                u.record_all(events);
                result
            })
        })
        .await?;
    match outcome {
        RefreshOutcome::Rotated {
            staff_id,
            session_id,
        } => {
            let access_token = state
                .keys
                .issue(staff_id, session_id, state.clock.now())
                .map_err(|e| ServiceError::unexpected("sign token", e))?;
            let by_password = device_session::Entity::find_by_id(session_id)
                .one(&state.db)
                .await?
                .is_some_and(|s| s.signed_in_with != "sso");
            let must_change = by_password
                && staff::Entity::find_by_id(staff_id)
                    .one(&state.db)
                    .await?
                    .is_some_and(|s| s.must_change_password);
            Ok(TokenPair {
                access_token,
                refresh_token: new_token,
                session_id,
                password_change_required: must_change,
            })
        }
        RefreshOutcome::Reused { session_id } => {
            state.actor_cache.invalidate(&session_id);
            Err(ended(Some("refresh_reuse")))
        }
        RefreshOutcome::Ended(reason) => Err(ended(reason.as_deref())),
        RefreshOutcome::Refused => Err(ServiceError::Unauthorized("invalid refresh token")),
    }
}

async fn rotate(
    txn: &impl ConnectionTrait,
    ctx: &AuditContext,
    hash: String,
    new_hash: String,
    now: DateTime<Utc>,
) -> ServiceResult<(RefreshOutcome, Vec<NewEvent>)> {
    let Some(stored) = refresh_token::Entity::find_by_id(hash).one(txn).await? else {
        let ev = ctx
            .event(
                Action::LoginFailed,
                Outcome::Denied,
                "unknown_refresh_token",
            )
            .record_type(RecordKind::Session);
        return Ok((RefreshOutcome::Refused, vec![ev]));
    };
    let session_id = stored.session_id;
    let session = device_session::Entity::find_by_id(session_id)
        .one(txn)
        .await?;
    let Some(session) = session else {
        return Ok((RefreshOutcome::Refused, vec![]));
    };
    let mut ctx = ctx.clone();
    ctx.actor_id = Some(session.staff_id);
    ctx.session_id = Some(session_id);
    if stored.used_at.is_some() {
        if session.revoked_at.is_none() {
            revoke_session(txn, session.clone(), "refresh_reuse", now).await?;
        }
        let ev = ctx
            .event(Action::Revoke, Outcome::Denied, "refresh_token_reuse")
            .record(RecordKind::Session, session_id);
        return Ok((RefreshOutcome::Reused { session_id }, vec![ev]));
    }
    let account = staff::Entity::find_by_id(session.staff_id).one(txn).await?;
    let active = account.as_ref().is_some_and(|a| a.active);
    ctx.actor_role = account.as_ref().and_then(|a| Role::parse(&a.role));
    if session.revoked_at.is_some() || session.expires_at <= now || !active {
        let why = if session.revoked_at.is_some() {
            session.revoked_reason.clone()
        } else if !active {
            Some(REVOKED_DEACTIVATED.to_owned())
        } else {
            Some("expired".to_owned())
        };
        let ev = ctx
            .event(Action::LoginFailed, Outcome::Denied, "session_ended")
            .record(RecordKind::Session, session_id);
        return Ok((RefreshOutcome::Ended(why), vec![ev]));
    }
    let staff_id = session.staff_id;
    // Used once, guarded: of two instances rotating the same token at once,
    // one marks it used and the other finds it used, as a replay.
    let marked = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::TokenHash.eq(stored.token_hash.clone()))
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec(txn)
        .await?;
    if marked.rows_affected == 0 {
        revoke_session(txn, session.clone(), "refresh_reuse", now).await?;
        let ev = ctx
            .event(Action::Revoke, Outcome::Denied, "refresh_token_reuse")
            .record(RecordKind::Session, session_id);
        return Ok((RefreshOutcome::Reused { session_id }, vec![ev]));
    }
    insert_refresh(txn, new_hash, session_id, now).await?;
    let mut s = session.into_active_model();
    s.last_used_at = Set(now);
    s.expires_at = Set(now + chrono::Duration::from_std(SESSION_IDLE_TTL).unwrap_or_default());
    s.update(txn).await?;
    let ev = ctx
        .event(Action::Refresh, Outcome::Allowed, "refresh_token")
        .record(RecordKind::Session, session_id);
    Ok((
        RefreshOutcome::Rotated {
            staff_id,
            session_id,
        },
        vec![ev],
    ))
}

/// Why a session was revoked, as stored: the account was deactivated, its
/// role changed, or an admin set its password.
pub const REVOKED_DEACTIVATED: &str = "deactivated";
pub const REVOKED_ROLE_CHANGED: &str = "role_changed";
pub const REVOKED_PASSWORD_RESET: &str = "password_reset";

/// The answer to a token or refresh token of a session that has ended: a
/// `session-ended` problem (the device wipes its copy) that says why, in
/// fixed words.
pub fn ended(reason: Option<&str>) -> ServiceError {
    ServiceError::SessionEnded(match reason {
        Some(REVOKED_DEACTIVATED) => "the account was deactivated",
        Some(REVOKED_ROLE_CHANGED) => "the account's role changed",
        Some(REVOKED_PASSWORD_RESET) => "an admin set a new password for the account",
        Some("password_changed") => "the account's password was changed on another device",
        Some("refresh_reuse") => "a refresh token was used twice, so the session was revoked",
        Some("logout") => "the session was signed out",
        Some("revoked_by_owner") => "the account ended this device's session",
        Some("revoked_by_admin") => "an admin ended this device's session",
        Some("expired") => "the session expired",
        _ => "the session was ended",
    })
}

/// Marks a session revoked (once) at `now` and forgets its refresh tokens'
/// validity.
pub async fn revoke_session(
    txn: &impl ConnectionTrait,
    session: device_session::Model,
    reason: &str,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    if session.revoked_at.is_some() {
        return Ok(());
    }
    let mut s = session.into_active_model();
    s.revoked_at = Set(Some(now));
    s.revoked_reason = Set(Some(reason.to_owned()));
    s.update(txn).await?;
    Ok(())
}

/// Changes the caller's own password after checking the current one. A wrong
/// current password is refused naming the field (and audited); every other
/// session of the account ends in the same unit, the caller's goes on.
pub async fn change_own_password(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    current: String,
    new: NewPassword,
) -> ServiceResult<()> {
    let ctx = AuditContext::for_actor(actor, meta);
    let new = new.into_inner();
    let mut issues = Issues::default();
    if current == new {
        issues.add("new_password", "must differ from the current password");
    }
    issues.finish()?;
    let staff_id = actor.staff_id;
    let Some(account) = staff::Entity::find_by_id(staff_id).one(&state.db).await? else {
        return Err(ServiceError::NotFound);
    };
    // Throttled as a sign-in is, on the same counters: a guess at the
    // current password is a guess at the account's password. Counted
    // before the check (taken back when it was right).
    let keys = throttle_keys(&account.username, meta);
    let throttle_keys = keys.clone();
    let throttled = ctx
        .event(Action::LoginFailed, Outcome::Denied, "throttled")
        .record(RecordKind::Staff, staff_id);
    state
        .recorder
        .run(AuditContext::default(), move |u| {
            Box::pin(async move {
                if let Some(retry_after_secs) = locked_for(u.txn(), &throttle_keys, u.now()).await?
                {
                    u.record(throttled);
                    return Err(ServiceError::Throttled { retry_after_secs });
                }
                count_failure(u.txn(), &throttle_keys, u.now()).await
            })
        })
        .await?;
    if !crate::credentials::verify_password(Some(account.password_hash), current).await {
        // A failed password check, as a failed sign-in is recorded.
        let ev = ctx
            .event(
                Action::LoginFailed,
                Outcome::Denied,
                "current_password_wrong",
            )
            .record(RecordKind::Staff, staff_id)
            .fields(&["password"]);
        state.recorder.record(vec![ev]).await?;
        return Err(ServiceError::invalid("current_password", "is not correct"));
    }
    let account_key = keys[0].0.clone();
    let address_keys: Vec<(String, i32)> = keys.into_iter().skip(1).collect();
    let hash = crate::credentials::hash_password(new)
        .await
        .map_err(|e| ServiceError::unexpected("password hash", e))?;
    let keep = actor.session_id;
    state
        .recorder
        .run(ctx.clone(), move |u| {
            Box::pin(async move {
                u.subject(
                    ctx.event(Action::Update, Outcome::Allowed, "own_password")
                        .record(RecordKind::Staff, staff_id)
                        .fields(&["password"]),
                );
                let Some(account) = staff::Entity::find_by_id(staff_id).one(u.txn()).await? else {
                    return Err(ServiceError::NotFound);
                };
                let version = account.version;
                let mut m = account.into_active_model();
                m.password_hash = Set(hash);
                m.must_change_password = Set(false);
                m.version = Set(version + 1);
                m.updated_at = Set(u.now());
                if crate::unit::update_versioned(u.txn(), m, staff::Column::Version, version)
                    .await?
                    .is_none()
                {
                    return Err(ServiceError::Conflict(
                        "the account changed meanwhile; retry",
                    ));
                }
                let others = device_session::Entity::find()
                    .filter(device_session::Column::StaffId.eq(staff_id))
                    .filter(device_session::Column::RevokedAt.is_null())
                    .filter(device_session::Column::Id.ne(keep))
                    .all(u.txn())
                    .await?;
                for s in others {
                    revoke_session(u.txn(), s, "password_changed", u.now()).await?;
                }
                login_throttle::Entity::delete_by_id(account_key)
                    .exec(u.txn())
                    .await?;
                for (key, limit) in address_keys {
                    uncount(u.txn(), &key, limit).await?;
                }
                u.changed(RecordKind::Staff, staff_id);
                Ok(())
            })
        })
        .await?;
    state.actor_cache.invalidate_all();
    Ok(())
}

/// Ends the caller's own session.
pub async fn logout(state: &AppState, actor: &Actor, meta: &RequestMeta) -> ServiceResult<()> {
    let ctx = AuditContext::for_actor(actor, meta);
    let session_id = actor.session_id;
    state
        .recorder
        .run(ctx.clone(), move |u| {
            Box::pin(async move {
                u.subject(
                    ctx.event(Action::Logout, Outcome::Allowed, "own_session")
                        .record(RecordKind::Session, session_id),
                );
                if let Some(s) = device_session::Entity::find_by_id(session_id)
                    .one(u.txn())
                    .await?
                {
                    revoke_session(u.txn(), s, "logout", u.now()).await?;
                }
                Ok(())
            })
        })
        .await?;
    state.actor_cache.invalidate(&session_id);
    Ok(())
}

/// The caller behind an access token: a valid signature and claims, a live
/// session, an active account. Role and branches come from the database,
/// cached for at most two seconds per session.
pub async fn authenticate(state: &AppState, token: &str) -> ServiceResult<Actor> {
    let now = state.clock.now();
    let claims = state
        .keys
        .check(token, now)
        .ok_or(ServiceError::Unauthorized(
            "invalid or expired access token",
        ))?;
    if let Some(actor) = state.actor_cache.get(&claims.sid)
        && actor.staff_id == claims.sub
    {
        return Ok(actor);
    }
    const UNKNOWN: ServiceError = ServiceError::Unauthorized("the session is not known");
    let session = device_session::Entity::find_by_id(claims.sid)
        .one(&state.db)
        .await?
        .filter(|s| s.staff_id == claims.sub)
        .ok_or(UNKNOWN)?;
    if session.revoked_at.is_some() {
        return Err(ended(session.revoked_reason.as_deref()));
    }
    if session.expires_at <= now {
        return Err(ended(Some("expired")));
    }
    let account = staff::Entity::find_by_id(claims.sub)
        .one(&state.db)
        .await?
        .ok_or(UNKNOWN)?;
    if !account.active {
        return Err(ended(Some(REVOKED_DEACTIVATED)));
    }
    let role = Role::parse(&account.role).ok_or(UNKNOWN)?;
    let branches = staff_branch::Entity::find()
        .filter(staff_branch::Column::StaffId.eq(account.id))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|b| b.branch_id)
        .collect();
    let actor = Actor {
        staff_id: account.id,
        role,
        branches,
        session_id: session.id,
        // Only a password session must replace an admin-given password.
        must_change_password: account.must_change_password && session.signed_in_with != "sso",
    };
    state.actor_cache.insert(session.id, actor.clone());
    Ok(actor)
}
