//! The unit of work: what one operation does inside the single writer
//! ([`super::writer`]). The writer builds it and lends it to the operation;
//! the operation runs its statements on the unit's savepoint, decides with
//! the policy, claims its idempotency key and leaves its audit events and
//! change-log rows in it.

use std::sync::atomic::Ordering;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DatabaseTransaction, EntityTrait, sea_query::OnConflict,
};
use uuid::Uuid;

use super::{Action, AuditContext, NewEvent, Outcome};
use crate::{
    access::Decision,
    domain::RecordKind,
    error::{ServiceError, ServiceResult},
    idempotency::{IdempotencyKey, KEEP_KEYS_FOR},
};
use entities::idempotency_record;

/// What one operation does inside the writer: its savepoint, and what it
/// records. Built by the writer, lent to the operation.
pub struct Unit {
    pub(super) txn: DatabaseTransaction,
    pub(super) ctx: AuditContext,
    pub(super) now: chrono::DateTime<Utc>,
    /// The operation's own event; its outcome follows the result.
    pub(super) subject: Option<NewEvent>,
    /// Events kept whatever happens (denials, reads on the way).
    pub(super) always: Vec<NewEvent>,
    /// Events kept only when the unit's changes stand.
    pub(super) on_success: Vec<NewEvent>,
    pub(super) changes: Vec<(RecordKind, Uuid)>,
}

impl Unit {
    /// The unit's savepoint: every statement of the operation runs on it.
    pub fn txn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    pub fn ctx(&self) -> &AuditContext {
        &self.ctx
    }

    /// The service's clock when the operation was submitted: what its rules
    /// of time (edit windows, grants' ends) are judged by.
    pub fn now(&self) -> chrono::DateTime<Utc> {
        self.now
    }

    /// Sets the operation's own event. Its outcome is decided when the unit
    /// ends: allowed when it succeeded, denied when it was refused as not
    /// found or forbidden, error otherwise.
    pub fn subject(&mut self, ev: NewEvent) {
        self.subject = Some(ev);
    }

    /// An event that is written whatever becomes of the unit.
    pub fn record(&mut self, ev: NewEvent) {
        self.always.push(ev);
    }

    /// Events written whatever becomes of the unit.
    pub fn record_all(&mut self, events: Vec<NewEvent>) {
        self.always.extend(events);
    }

    /// An event written only when the unit's changes stand.
    pub fn on_success(&mut self, ev: NewEvent) {
        self.on_success.push(ev);
    }

    /// Appends a change-log row (numbered at commit) for a record that was
    /// created, changed, or entered or left someone's view.
    pub fn changed(&mut self, kind: RecordKind, id: Uuid) {
        self.changes.push((kind, id));
    }

    pub(crate) fn take_subject(&mut self) -> Option<NewEvent> {
        self.subject.take()
    }

    pub(crate) fn edit_subject(&mut self, edit: impl FnOnce(&mut NewEvent)) {
        if let Some(ev) = &mut self.subject {
            edit(ev);
        }
    }

    /// A 412 carries the record as it is now (`current`): that answer is a
    /// read of the record, recorded as one (allowed, with its patron, the
    /// fields it shows) so that it is in the accounting of disclosures and
    /// the readers' rollups. The sync upload's conflicts are such answers.
    pub(super) fn disclosed(&mut self, current: &dyn crate::error::Current) {
        let Some(subject) = &self.subject else {
            return;
        };
        let mut ev = subject.clone();
        ev.action = super::Action::Read;
        ev.outcome = Outcome::Allowed;
        if ev.rule == "undecided" {
            ev.rule = "current_record_of_a_stale_change".to_owned();
        }
        ev.fields = super::field_names(&current.to_json());
        self.always.push(ev);
    }

    pub(super) fn settle(&mut self, outcome: Outcome) {
        if let Some(ev) = &mut self.subject {
            ev.outcome = outcome;
        }
    }
}

/// What became of an idempotency key.
pub enum Claim {
    /// No key, or a new one: do the work.
    Fresh,
    /// The same request was answered before: show this record as it is now.
    Replay(Uuid),
}

/// What a create or change answered: the record it made, or, for a request
/// replayed by its idempotency key, the id of the record the first request
/// made (the caller renders it through the read path).
pub enum Made<T> {
    New(T),
    Replay(Uuid),
}

impl Unit {
    /// Ends the unit as a replay of an earlier request: nothing is changed,
    /// and the read that renders the answer is what the trail records.
    pub fn replay<T>(&mut self, first: Uuid) -> Made<T> {
        self.take_subject();
        Made::Replay(first)
    }

    /// Starts the operation's own event: what it does to which record. Until
    /// the operation is denied or allowed, its rule reads `undecided` (an
    /// operation that fails before that, on a reused idempotency key say, is
    /// recorded so).
    pub fn begin(&mut self, action: Action, kind: RecordKind, id: Option<Uuid>) {
        let mut ev = self
            .ctx()
            .event(action, Outcome::Error, "undecided")
            .record_type(kind);
        ev.record_id = id;
        self.subject(ev);
    }

    /// Refuses the operation after recording the denial; the unit's changes
    /// are undone.
    pub fn deny(
        &mut self,
        decision: Decision,
        patron: Option<Uuid>,
        error: ServiceError,
    ) -> ServiceError {
        if let Some(mut ev) = self.take_subject() {
            ev.outcome = Outcome::Denied;
            ev.rule = decision.rule().to_owned();
            ev.patron_id = patron.or(ev.patron_id);
            ev.fields.clear();
            self.record(ev);
        }
        error
    }

    /// Marks the operation allowed by `rule`, touching `fields` of a record
    /// of `patron`.
    pub fn allow(&mut self, rule: &'static str, patron: Option<Uuid>, fields: &[&'static str]) {
        self.edit_subject(|ev| {
            ev.rule = rule.to_owned();
            ev.patron_id = patron;
            ev.fields = fields.to_vec();
        });
    }

    /// Takes the request's idempotency key for a record about to be made or
    /// changed, in the unit's transaction: if the work fails the key is
    /// forgotten with it, if it commits the key commits with it.
    ///
    /// Every keyed create and change goes in one order, in one unit:
    /// 1. [`Unit::begin`], the operation's event;
    /// 2. the policy: the role decision first ([`Unit::deny`] when it
    ///    refuses), then the lookups the policy needs and its decision on
    ///    them;
    /// 3. this claim: on [`Claim::Replay`] the unit returns
    ///    `Ok(u.replay(first))`, and the caller renders `Made::Replay(first)`
    ///    through the operation's own single-record read (policy re-checked,
    ///    the read audited);
    /// 4. the work: validation against stored state, the existence check of a
    ///    client-chosen id, the inserts and updates;
    /// 5. [`Unit::allow`] and the audit (marking the event allowed may come
    ///    just after the claim, before the work: a failed unit's outcome
    ///    follows its error whatever it was marked).
    ///
    /// So a key is taken only once the policy has allowed the caller: a
    /// refused request neither takes a key nor learns anything from one.
    pub async fn claim(
        &mut self,
        key: Option<&IdempotencyKey>,
        kind: RecordKind,
        id: Uuid,
        status: u16,
    ) -> ServiceResult<Claim> {
        let (Some(key), Some(staff_id)) = (key, self.ctx().actor_id) else {
            return Ok(Claim::Fresh);
        };
        // Operations declare the header as `IdempotencyKeyText`, so its rule
        // is in the spec; one that reaches here undeclared is held to it too.
        let k = crate::text::IdempotencyKeyText::parse(&key.key)
            .map_err(|m| ServiceError::invalid("Idempotency-Key", &m))?
            .into_inner();
        let t = self.now();
        let row = idempotency_record::ActiveModel {
            staff_id: Set(staff_id),
            key: Set(k.clone()),
            request_hash: Set(key.request_hash.clone()),
            record_type: Set(kind.as_str().to_owned()),
            record_id: Set(id),
            status: Set(i32::from(status)),
            created_at: Set(t),
        };
        // The usual case, a new key, is one statement. A key another
        // instance is taking now is waited for (PostgreSQL holds the
        // conflicting insert until that commits), then replayed.
        let inserted = idempotency_record::Entity::insert(row.clone())
            .on_conflict(
                OnConflict::columns([
                    idempotency_record::Column::StaffId,
                    idempotency_record::Column::Key,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(self.txn())
            .await?;
        if inserted == 1 {
            return Ok(Claim::Fresh);
        }
        let first = idempotency_record::Entity::find_by_id((staff_id, k))
            .one(self.txn())
            .await?
            .ok_or(ServiceError::Conflict(
                "the first request with this Idempotency-Key is still running",
            ))?;
        if first.created_at < t - KEEP_KEYS_FOR {
            // Expired, not yet swept: the key is free again.
            row.update(self.txn()).await?;
            return Ok(Claim::Fresh);
        }
        if first.request_hash != key.request_hash || first.record_type != kind.as_str() {
            return Err(ServiceError::IdempotencyKeyReused);
        }
        key.replayed.store(true, Ordering::SeqCst);
        Ok(Claim::Replay(first.record_id))
    }
}
