//! What the anomaly views read instead of the whole trail. The writer rolls
//! up each batch in the commit that holds its events: per staff member and
//! day, the distinct patrons they accessed and the events it took; and a
//! flag on each event another view lists (see [`flag`]), with what that
//! view groups it by. Events written before the rollups
//! existed are rolled up at start-up by [`backfill`], with the same code.

use std::collections::{BTreeMap, BTreeSet};

use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, OnConflict},
};
use uuid::Uuid;

use super::{Action, Outcome};
use crate::domain::RecordKind;
use entities::{
    audit_event, audit_flag, audit_reader_day, audit_reader_day_patron, audit_rollup_backfill,
    patron,
};

/// The flags, one kind per anomaly view, each with what its view groups
/// by: refusals (but failed sign-ins) by actor; failed sign-ins by the
/// account named and by client address; accesses to a patron whose home
/// branch was not one of the actor's branches at that moment, by actor.
pub mod flag {
    pub const DENIED_BY_ACTOR: &str = "denied_by_actor";
    pub const FAILED_SIGN_INS_BY_ACCOUNT: &str = "failed_sign_ins_by_account";
    pub const FAILED_SIGN_INS_BY_ADDRESS: &str = "failed_sign_ins_by_address";
    pub const OUTSIDE_BRANCHES: &str = "outside_branches";
}

/// Rows per statement (well under both databases' bind limits).
const CHUNK: usize = 500;

/// Events rolled up per transaction while backfilling.
const BACKFILL_PAGE: u64 = 5_000;

/// One event as the rollups see it.
pub(crate) struct Rolled {
    seq: i64,
    id: Uuid,
    day: String,
    recorded_at: String,
    actor_id: Option<Uuid>,
    actor_role: Option<String>,
    /// An allowed access by a staff member to patrons' records (reviews of
    /// the trail itself are not): counted per day, checked for branches.
    reads: bool,
    branches: Vec<Uuid>,
    patrons: Vec<Uuid>,
    /// Flags known from the event alone, with their grouping.
    flags: Vec<(&'static str, Option<String>)>,
}

impl Rolled {
    /// `row` with the actor's branches and the patrons it touched, if a
    /// rollup has a use for it.
    pub(crate) fn of(
        row: &audit_event::Model,
        branches: Vec<Uuid>,
        patrons: Vec<Uuid>,
    ) -> Option<Rolled> {
        let reads = row.outcome == Outcome::Allowed.as_str()
            && row.actor_id.is_some()
            && row.record_type.as_deref() != Some(RecordKind::AuditEvent.as_str())
            && !patrons.is_empty();
        let mut flags = Vec::new();
        if row.action == Action::LoginFailed.as_str() {
            if let Some(account) = row.record_id {
                flags.push((flag::FAILED_SIGN_INS_BY_ACCOUNT, Some(account.to_string())));
            }
            flags.push((flag::FAILED_SIGN_INS_BY_ADDRESS, row.client_addr.clone()));
        } else if row.outcome == Outcome::Denied.as_str() {
            flags.push((flag::DENIED_BY_ACTOR, row.actor_id.map(|a| a.to_string())));
        }
        if !reads && flags.is_empty() {
            return None;
        }
        Some(Rolled {
            seq: row.seq,
            id: row.id,
            day: row.recorded_at.get(..10)?.to_owned(),
            recorded_at: row.recorded_at.clone(),
            actor_id: row.actor_id,
            actor_role: row.actor_role.clone(),
            reads,
            branches,
            patrons,
            flags,
        })
    }

    fn flag(&self, kind: &'static str, key: Option<String>) -> audit_flag::ActiveModel {
        audit_flag::ActiveModel {
            kind: Set(kind.to_owned()),
            seq: Set(self.seq),
            event_id: Set(self.id),
            key: Set(key),
            actor_role: Set(self.actor_role.clone()),
            recorded_at: Set(self.recorded_at.clone()),
        }
    }
}

/// The patrons an event is about: its own and those a list disclosed, once
/// each.
pub(crate) fn patrons_of(own: Option<Uuid>, disclosed: &[Uuid]) -> Vec<Uuid> {
    let mut all: Vec<Uuid> = own.into_iter().chain(disclosed.iter().copied()).collect();
    all.sort_unstable();
    all.dedup();
    all
}

struct Day {
    actor_role: Option<String>,
    patrons: i64,
    events: i64,
    first_seq: i64,
    last_seq: i64,
    first_at: String,
    last_at: String,
}

/// Rolls `events` (in `seq` order) up, inside the writer's transaction.
pub(crate) async fn add<C: ConnectionTrait>(
    db: &C,
    events: &[Rolled],
) -> Result<(), sea_orm::DbErr> {
    if events.is_empty() {
        return Ok(());
    }
    let mut days: BTreeMap<(String, Uuid), Day> = BTreeMap::new();
    let mut seen: BTreeSet<(String, Uuid, Uuid)> = BTreeSet::new();
    for e in events.iter().filter(|e| e.reads) {
        let Some(actor) = e.actor_id else { continue };
        let d = days.entry((e.day.clone(), actor)).or_insert_with(|| Day {
            actor_role: e.actor_role.clone(),
            patrons: 0,
            events: 0,
            first_seq: e.seq,
            last_seq: e.seq,
            first_at: e.recorded_at.clone(),
            last_at: e.recorded_at.clone(),
        });
        d.events += 1;
        d.last_seq = e.seq;
        d.last_at.clone_from(&e.recorded_at);
        seen.extend(e.patrons.iter().map(|p| (e.day.clone(), actor, *p)));
    }
    // Each (day, actor, patron) once: the rows that were new count.
    let seen: Vec<_> = seen.into_iter().collect();
    for chunk in seen.chunks(CHUNK) {
        let rows = chunk.iter().map(
            |(day, actor, patron)| audit_reader_day_patron::ActiveModel {
                day: Set(day.clone()),
                actor_id: Set(*actor),
                patron_id: Set(*patron),
            },
        );
        let inserted = audit_reader_day_patron::Entity::insert_many(rows)
            .on_conflict_do_nothing()
            .exec_with_returning_many(db)
            .await?;
        if let sea_orm::TryInsertResult::Inserted(new) = inserted {
            for r in new {
                if let Some(d) = days.get_mut(&(r.day, r.actor_id)) {
                    d.patrons += 1;
                }
            }
        }
    }
    let days: Vec<_> = days.into_iter().collect();
    for chunk in days.chunks(CHUNK) {
        let rows = chunk
            .iter()
            .map(|((day, actor), d)| audit_reader_day::ActiveModel {
                day: Set(day.clone()),
                actor_id: Set(*actor),
                actor_role: Set(d.actor_role.clone()),
                patrons: Set(d.patrons),
                events: Set(d.events),
                first_seq: Set(d.first_seq),
                last_seq: Set(d.last_seq),
                first_at: Set(d.first_at.clone()),
                last_at: Set(d.last_at.clone()),
            });
        audit_reader_day::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([
                    audit_reader_day::Column::Day,
                    audit_reader_day::Column::ActorId,
                ])
                .value(
                    audit_reader_day::Column::Patrons,
                    Expr::cust("audit_reader_day.patrons + excluded.patrons"),
                )
                .value(
                    audit_reader_day::Column::Events,
                    Expr::cust("audit_reader_day.events + excluded.events"),
                )
                .update_columns([
                    audit_reader_day::Column::LastSeq,
                    audit_reader_day::Column::LastAt,
                ])
                .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    flag(db, events).await
}

/// Writes the events' flags, and flags accesses to a patron whose home
/// branch is not one of the actor's branches (patrons not on file are not
/// flagged).
async fn flag<C: ConnectionTrait>(db: &C, events: &[Rolled]) -> Result<(), sea_orm::DbErr> {
    let wanted: BTreeSet<Uuid> = events
        .iter()
        .filter(|e| e.reads)
        .flat_map(|e| e.patrons.iter().copied())
        .collect();
    let mut home: BTreeMap<Uuid, Uuid> = BTreeMap::new();
    let wanted: Vec<Uuid> = wanted.into_iter().collect();
    for chunk in wanted.chunks(CHUNK) {
        home.extend(
            patron::Entity::find()
                .select_only()
                .columns([patron::Column::Id, patron::Column::HomeBranchId])
                .filter(patron::Column::Id.is_in(chunk.iter().copied()))
                .into_tuple::<(Uuid, Uuid)>()
                .all(db)
                .await?,
        );
    }
    let mut flags: Vec<audit_flag::ActiveModel> = Vec::new();
    for e in events {
        flags.extend(e.flags.iter().map(|(kind, key)| e.flag(kind, key.clone())));
        let outside = e.reads
            && e.patrons
                .iter()
                .filter_map(|p| home.get(p))
                .any(|b| !e.branches.contains(b));
        if outside {
            flags.push(e.flag(flag::OUTSIDE_BRANCHES, e.actor_id.map(|a| a.to_string())));
        }
    }
    for chunk in flags.chunks(CHUNK) {
        audit_flag::Entity::insert_many(chunk.iter().cloned())
            .on_conflict_do_nothing()
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Rolls up the events written before the rollups existed, a page per
/// transaction under the chain lock (so instances starting together do it
/// once); a no-op once done.
pub async fn backfill(db: &DatabaseConnection) -> Result<u64, sea_orm::DbErr> {
    let mut done = 0;
    loop {
        let txn = crate::db::begin_write(db).await?;
        super::chain_head(&txn).await?;
        let Some(todo) = audit_rollup_backfill::Entity::find_by_id(1)
            .one(&txn)
            .await?
        else {
            txn.commit().await?;
            return Ok(done);
        };
        if todo.next_seq > todo.last_seq {
            audit_rollup_backfill::Entity::delete_by_id(1)
                .exec(&txn)
                .await?;
            txn.commit().await?;
            return Ok(done);
        }
        let page = audit_event::Entity::find()
            .filter(audit_event::Column::Seq.gte(todo.next_seq))
            .filter(audit_event::Column::Seq.lte(todo.last_seq))
            .order_by_asc(audit_event::Column::Seq)
            .limit(BACKFILL_PAGE)
            .all(&txn)
            .await?;
        let next = page.last().map_or(todo.last_seq, |e| e.seq) + 1;
        let rolled: Vec<Rolled> = page
            .iter()
            .filter_map(|e| {
                let disclosed: Vec<Uuid> = serde_json::from_str(&e.patron_ids).unwrap_or_default();
                let branches: Vec<Uuid> =
                    serde_json::from_str(&e.actor_branches).unwrap_or_default();
                Rolled::of(e, branches, patrons_of(e.patron_id, &disclosed))
            })
            .collect();
        add(&txn, &rolled).await?;
        done += page.len() as u64;
        audit_rollup_backfill::Entity::update(audit_rollup_backfill::ActiveModel {
            id: Set(1),
            next_seq: Set(next),
            ..Default::default()
        })
        .exec(&txn)
        .await?;
        txn.commit().await?;
    }
}
