//! The audit trail (DESIGN.md section 6): events, the hash chain and its
//! verification. The single writer that commits every unit of work with its
//! events is in [`writer`].

pub mod checkpoint;
pub mod rollup;
mod unit;
mod writer;

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    access::Actor,
    domain::{RecordKind, Role},
};
use entities::audit_event;

/// What was done. Names are stored as text and are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, poem_openapi::Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum Action {
    Create,
    Read,
    Update,
    Delete,
    Search,
    Export,
    Login,
    LoginFailed,
    Logout,
    Refresh,
    Revoke,
    Transition,
    BreakGlass,
    Verify,
    /// A page of the sync feed sent to a tablet.
    Sync,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Read => "read",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Search => "search",
            Action::Export => "export",
            Action::Login => "login",
            Action::LoginFailed => "login_failed",
            Action::Logout => "logout",
            Action::Refresh => "refresh",
            Action::Revoke => "revoke",
            Action::Transition => "transition",
            Action::BreakGlass => "break_glass",
            Action::Verify => "verify",
            Action::Sync => "sync",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, poem_openapi::Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum Outcome {
    Allowed,
    Denied,
    Error,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
            Outcome::Error => "error",
        }
    }
}

/// Who is asking and from where: copied into every event of the request.
#[derive(Debug, Clone, Default)]
pub struct AuditContext {
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<Role>,
    pub actor_branches: Vec<Uuid>,
    pub session_id: Option<Uuid>,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
}

impl AuditContext {
    pub fn for_actor(actor: &Actor, request: &RequestMeta) -> Self {
        AuditContext {
            actor_id: Some(actor.staff_id),
            actor_role: Some(actor.role),
            actor_branches: actor.branches.clone(),
            session_id: Some(actor.session_id),
            request_id: request.request_id.clone(),
            client_addr: request.client_addr.clone(),
        }
    }

    pub fn anonymous(request: &RequestMeta) -> Self {
        AuditContext {
            request_id: request.request_id.clone(),
            client_addr: request.client_addr.clone(),
            ..Default::default()
        }
    }

    /// Starts an event in this context.
    pub fn event(&self, action: Action, outcome: Outcome, rule: &str) -> NewEvent {
        NewEvent {
            context: self.clone(),
            action,
            outcome,
            rule: rule.to_owned(),
            record_type: None,
            record_id: None,
            patron_id: None,
            patron_ids: Vec::new(),
            purpose: None,
            fields: Vec::new(),
            query: None,
            result_ids: Vec::new(),
            occurred_at: None,
        }
    }
}

/// Request facts that are not the caller: its id, the client's address, and
/// the `Idempotency-Key` of a POST with the fingerprint of its body.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
    pub idempotency: Option<crate::idempotency::IdempotencyKey>,
}

/// The purpose of use every access to a kind of record is for, when the kind
/// has exactly one.
pub fn purpose_of_use(kind: RecordKind) -> Option<&'static str> {
    match kind {
        RecordKind::MandatedReport => Some("mandated_reporting"),
        _ => None,
    }
}

/// An event before it joins the chain.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub context: AuditContext,
    pub action: Action,
    pub outcome: Outcome,
    pub rule: String,
    pub record_type: Option<RecordKind>,
    pub record_id: Option<Uuid>,
    pub patron_id: Option<Uuid>,
    /// The patrons whose records a list or search returned.
    pub patron_ids: Vec<Uuid>,
    pub purpose: Option<String>,
    pub fields: Vec<&'static str>,
    pub query: Option<String>,
    pub result_ids: Vec<Uuid>,
    pub occurred_at: Option<DateTime<Utc>>,
}

impl NewEvent {
    pub fn record(self, record_type: RecordKind, id: Uuid) -> Self {
        let mut ev = self.record_type(record_type);
        ev.record_id = Some(id);
        ev
    }

    /// The kind of record; kinds with a fixed purpose of use (mandated
    /// reports: `mandated_reporting`) carry it on every event.
    pub fn record_type(mut self, record_type: RecordKind) -> Self {
        self.record_type = Some(record_type);
        if let Some(p) = purpose_of_use(record_type) {
            self.purpose = Some(p.to_owned());
        }
        self
    }

    pub fn patron(mut self, patron_id: Option<Uuid>) -> Self {
        self.patron_id = patron_id;
        self
    }

    pub fn fields(mut self, fields: &[&'static str]) -> Self {
        self.fields = fields.to_vec();
        self
    }

    pub fn query(mut self, query: impl Into<String>) -> Self {
        self.query = Some(query.into());
        self
    }

    pub fn results(mut self, ids: Vec<Uuid>) -> Self {
        self.result_ids = ids;
        self
    }

    /// The patrons a list or search disclosed, each once.
    pub fn patrons(mut self, ids: impl IntoIterator<Item = Uuid>) -> Self {
        let mut ids: Vec<Uuid> = ids.into_iter().collect();
        ids.sort();
        ids.dedup();
        self.patron_ids = ids;
        self
    }
}

/// The first link's `prev_hash`.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The names of the top-level fields of a record as an answer shows it, for
/// an event's `fields`. Names come from the API's own schemas (a fixed,
/// small set), each kept once for the life of the process.
pub fn field_names(record: &serde_json::Value) -> Vec<&'static str> {
    use std::collections::HashSet;
    use std::sync::{LazyLock, Mutex};
    static NAMES: LazyLock<Mutex<HashSet<&'static str>>> = LazyLock::new(Default::default);
    let Some(fields) = record.as_object() else {
        return Vec::new();
    };
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    fields
        .keys()
        .map(|k| match names.get(k.as_str()) {
            Some(n) => *n,
            None => {
                let n: &'static str = Box::leak(k.clone().into_boxed_str());
                names.insert(n);
                n
            }
        })
        .collect()
}

/// Fixed-width UTC time with microseconds, the form stored and hashed.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The canonical encoding of a row: every column but `hash`, in a fixed
/// order, as JSON.
#[derive(Serialize)]
struct Canonical<'a> {
    seq: i64,
    id: String,
    recorded_at: &'a str,
    occurred_at: Option<&'a str>,
    actor_id: Option<String>,
    actor_role: Option<&'a str>,
    actor_branches: &'a str,
    session_id: Option<String>,
    request_id: Option<&'a str>,
    client_addr: Option<&'a str>,
    action: &'a str,
    record_type: Option<&'a str>,
    record_id: Option<String>,
    patron_id: Option<String>,
    /// Absent when empty, so that rows written before the column existed
    /// keep their hashes.
    #[serde(skip_serializing_if = "str::is_empty")]
    patron_ids: &'a str,
    outcome: &'a str,
    rule: &'a str,
    purpose: Option<&'a str>,
    fields: &'a str,
    query: Option<&'a str>,
    result_ids: &'a str,
    prev_hash: &'a str,
}

/// SHA-256 over the canonical encoding of `row` (its `hash` is ignored).
pub fn hash_row(row: &audit_event::Model) -> String {
    let canonical = Canonical {
        seq: row.seq,
        id: row.id.to_string(),
        recorded_at: &row.recorded_at,
        occurred_at: row.occurred_at.as_deref(),
        actor_id: row.actor_id.map(|u| u.to_string()),
        actor_role: row.actor_role.as_deref(),
        actor_branches: &row.actor_branches,
        session_id: row.session_id.map(|u| u.to_string()),
        request_id: row.request_id.as_deref(),
        client_addr: row.client_addr.as_deref(),
        action: &row.action,
        record_type: row.record_type.as_deref(),
        record_id: row.record_id.map(|u| u.to_string()),
        patron_id: row.patron_id.map(|u| u.to_string()),
        patron_ids: if row.patron_ids == "[]" {
            ""
        } else {
            &row.patron_ids
        },
        outcome: &row.outcome,
        rule: &row.rule,
        purpose: row.purpose.as_deref(),
        fields: &row.fields,
        query: row.query.as_deref(),
        result_ids: &row.result_ids,
        prev_hash: &row.prev_hash,
    };
    // Serializing strings and numbers cannot fail.
    let bytes = serde_json::to_vec(&canonical).unwrap_or_default();
    hex::encode(Sha256::digest(bytes))
}

pub(crate) fn to_row(
    ev: NewEvent,
    seq: i64,
    recorded_at: &str,
    prev_hash: &str,
) -> audit_event::Model {
    let c = ev.context;
    let mut row = audit_event::Model {
        seq,
        id: Uuid::now_v7(),
        recorded_at: recorded_at.to_owned(),
        occurred_at: ev.occurred_at.map(format_time),
        actor_id: c.actor_id,
        actor_role: c.actor_role.map(|r| r.as_str().to_owned()),
        actor_branches: serde_json::to_string(&c.actor_branches).unwrap_or_else(|_| "[]".into()),
        session_id: c.session_id,
        request_id: c.request_id,
        client_addr: c.client_addr,
        action: ev.action.as_str().to_owned(),
        record_type: ev.record_type.map(|k| k.as_str().to_owned()),
        record_id: ev.record_id,
        patron_id: ev.patron_id,
        patron_ids: serde_json::to_string(&ev.patron_ids).unwrap_or_else(|_| "[]".into()),
        outcome: ev.outcome.as_str().to_owned(),
        rule: ev.rule,
        purpose: ev.purpose,
        fields: serde_json::to_string(&ev.fields).unwrap_or_else(|_| "[]".into()),
        query: ev.query,
        result_ids: serde_json::to_string(&ev.result_ids).unwrap_or_else(|_| "[]".into()),
        prev_hash: prev_hash.to_owned(),
        hash: String::new(),
    };
    row.hash = hash_row(&row);
    row
}

pub use unit::{Claim, Made, Unit};
pub use writer::Recorder;

/// Arbitrary constant naming the chain lock on PostgreSQL.
const CHAIN_LOCK_KEY: i64 = 0x0c45_e3a0_4b1d_0001;

/// The last link of the chain, taken under the chain lock: on PostgreSQL an
/// advisory transaction lock (several instances may share the database); on
/// SQLite the write lock that `BEGIN IMMEDIATE` already holds.
pub(crate) async fn chain_head(txn: &DatabaseTransaction) -> Result<(i64, String), sea_orm::DbErr> {
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        txn.execute_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            format!("SELECT pg_advisory_xact_lock({CHAIN_LOCK_KEY})"),
        ))
        .await?;
    }
    let last = audit_event::Entity::find()
        .select_only()
        .column(audit_event::Column::Seq)
        .column(audit_event::Column::Hash)
        .order_by_desc(audit_event::Column::Seq)
        .into_tuple::<(i64, String)>()
        .one(txn)
        .await?;
    Ok(last.unwrap_or((0, GENESIS.to_owned())))
}

/// The result of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    Intact {
        events: u64,
    },
    Broken {
        seq: i64,
        id: Uuid,
        reason: &'static str,
    },
}

/// Walks the whole chain in order, recomputing each hash.
pub async fn verify(db: &impl ConnectionTrait) -> Result<Verification, sea_orm::DbErr> {
    walk(db, 1, GENESIS.to_owned(), None).await
}

/// Walks the chain from `from` (whose previous hash is `prev`) to its end,
/// or up to `upto`, recomputing each hash.
pub(crate) async fn walk(
    db: &impl ConnectionTrait,
    from: i64,
    prev: String,
    upto: Option<i64>,
) -> Result<Verification, sea_orm::DbErr> {
    const PAGE: u64 = 1000;
    let mut expected_seq = from;
    let mut prev = prev;
    let mut count = 0u64;
    loop {
        let mut q = audit_event::Entity::find().filter(sea_orm::ColumnTrait::gte(
            &audit_event::Column::Seq,
            expected_seq,
        ));
        if let Some(last) = upto {
            q = q.filter(sea_orm::ColumnTrait::lte(&audit_event::Column::Seq, last));
        }
        let rows = q
            .order_by_asc(audit_event::Column::Seq)
            .limit(PAGE)
            .all(db)
            .await?;
        if rows.is_empty() {
            return Ok(Verification::Intact { events: count });
        }
        for row in &rows {
            let broken = |reason| Verification::Broken {
                seq: row.seq,
                id: row.id,
                reason,
            };
            if row.seq != expected_seq {
                return Ok(broken("a row before this one is missing"));
            }
            if row.prev_hash != prev {
                return Ok(broken("prev_hash does not match the previous row"));
            }
            if hash_row(row) != row.hash {
                return Ok(broken("row content does not match its hash"));
            }
            prev = row.hash.clone();
            expected_seq += 1;
            count += 1;
        }
    }
}
